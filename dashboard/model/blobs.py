"""The page's copies of a model (the latent-plane component's blobs), made once per model and shared.

Each is (key, spec): the page is sent a blob once per session and keeps it under its key (latent_plane.spec).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis

from .. import latent_plane, views
from .caches import load_model, manifold_grid, map_plane, map_points, test_encodings


@st.cache_resource(max_entries=4, show_spinner=False)
def decoder_blob(folder: str, stamp: tuple[int, int]) -> tuple[str, dict | None, str | None]:
    """(key, the decoder for the page, None) or (key, None, why the page cannot run it)."""
    model, _ = load_model(folder, stamp)
    key = latent_plane.blob_key("decoder", folder, stamp)
    try:
        return key, latent_plane.decoder_spec(model), None
    except latent_plane.UnsupportedDecoder as e:
        return key, None, str(e)


@st.cache_resource(max_entries=4, show_spinner=False)
def points_blob(folder: str, stamp: tuple[int, int], dataset: str) -> tuple[str, dict]:
    """(key, the encoded test set's plotted coordinates and labels for the page)."""
    enc = test_encodings(folder, stamp, dataset)
    return latent_plane.blob_key("points", folder, stamp, dataset), latent_plane.points_spec(enc.xy, enc.labels)


@st.cache_resource(max_entries=16, show_spinner=False)
def projected_points_blob(folder: str, stamp: tuple[int, int], dataset: str, projection) -> tuple[str, dict]:
    """(key, the test set's coordinates on the projection's plane ("pca" or (i, j)) and labels for the page)."""
    enc = test_encodings(folder, stamp, dataset)
    return (latent_plane.blob_key("points", folder, stamp, dataset, _projection_name(projection)),
            latent_plane.points_spec(map_points(folder, stamp, dataset, projection), enc.labels))


@st.cache_resource(max_entries=16, show_spinner=False)
def pick_shapes_blob(folder: str, stamp: tuple[int, int], dataset: str, projection) -> tuple[str, dict] | None:
    """(key, each test image's 1σ posterior ellipse on the map: (sx, sy, angle)) for a follower's map, which draws
    the lecturer's picks itself; None for a 1-D model (no ellipse)."""
    enc = test_encodings(folder, stamp, dataset)
    d = enc.sigma.shape[1]
    if d < 2:
        return None
    plane = map_plane(folder, stamp, dataset, projection)
    if plane is None:  # the map is (z1, z2): the ellipse's axes are sigma1 and sigma2
        shapes = np.stack([enc.sigma[:, 0], enc.sigma[:, 1], np.zeros(len(enc.sigma))], axis=1)
    else:
        shapes = analysis.plane_ellipses(enc.sigma, plane)
    name = None if plane is None else _projection_name(projection)
    return latent_plane.blob_key("shapes", folder, stamp, dataset, name), latent_plane.shapes_spec(shapes)


def _projection_name(projection) -> str:
    """A plane's part of a blob's key: "pca", or "z3-z1" for a coordinate plane (i, j)."""
    return "pca" if projection == "pca" else "z{}-z{}".format(*projection)


@st.cache_resource(max_entries=16, show_spinner=False)
def grid_blob(folder: str, stamp: tuple[int, int], n: int, extent: float, piece: tuple | None = None
              ) -> tuple[str, dict]:
    """(key, the manifold grid as a PNG under the points): dark strokes on white, so it stays faint.
    piece: None or compute.plane_slice() (the grid on that slice; the key then names it)."""
    grid = manifold_grid(folder, stamp, n, extent, piece)
    image = 255 - views.grid_image(grid, scale=2 if n < 15 else 1)
    e = float(extent)
    h = e / (n - 1)  # the grid's points are the centres of its cells: the picture reaches half a cell further
    return (grid_key(folder, stamp, n, e, piece),
            latent_plane.image_spec(views.png_bytes(image), (-e - h, e + h, -e - h, e + h)))


def grid_key(folder: str, stamp: tuple[int, int], n: int, extent: float, piece: tuple | None = None) -> str:
    """grid_blob's key, without making the grid (the page may have it already)."""
    return latent_plane.blob_key("grid", folder, stamp, n, float(extent), *(() if piece is None else (piece,)))

