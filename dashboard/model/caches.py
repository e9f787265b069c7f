"""What is computed once per model version and shared by every session of the server.

Each function is keyed by the checkpoint's folder and stamp (registry.folder_stamp), so a retrained model is
picked up; a session keeps only small things of its own (its picks, its sliders, its drawn digit). The cache
sizes bound the memory: a class switching between a few models keeps those few.
ModelHandle (handle.py) is how the pages call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st
import torch

import vae_core
from vae_core import analysis, attributes
from vae_core.data import binarized_test_images
from vae_core.evaluate import folder_test_set
from vae_core.image_folder import FOLDER

from .. import views
from .compute import Encodings, compute_encodings, compute_grid, compute_plane_grid, decode


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_model(folder: str, stamp: tuple[int, int]) -> tuple[vae_core.VAE, dict]:
    """vae_core.load_checkpoint, once per folder version. A failure raises (and is not cached)."""
    return vae_core.load_checkpoint(folder)


@st.cache_resource(max_entries=4, show_spinner=False)
def shared_dataset(name: str) -> vae_core.Dataset:
    # The same arguments as the Train tab's job (dashboard/training/run.py: name, data_dir=None) so that
    # vae_core's own per-process cache hands both the same tensors instead of loading a second copy.
    return vae_core.load_dataset(name, None)


@st.cache_resource(max_entries=2, show_spinner=False)
def measured_test_images(name: str, mode: str, seed: int) -> torch.Tensor:
    """The test images as a model's test figures are measured on them (vae_core.evaluate): binarized once with
    `seed` for a binarized model (mode "dynamic" or "static"), else as they are. uint8 [N, 28, 28]."""
    return binarized_test_images(shared_dataset(name).test_images, mode, seed)


def model_test_set(folder: str, stamp: tuple[int, int], dataset: str) -> vae_core.Dataset:
    """The test set a model is explored on: its dataset's, or, for a model trained on a folder of images, the
    test split kept with its checkpoint (its class names from its config.json)."""
    if dataset == FOLDER:
        _, config = load_model(folder, stamp)
        return folder_test_set(folder, config)
    return shared_dataset(dataset)


@st.cache_resource(max_entries=4, show_spinner="Encoding the test images…")
def test_encodings(folder: str, stamp: tuple[int, int], dataset: str) -> Encodings:
    model, _ = load_model(folder, stamp)
    return compute_encodings(model, model_test_set(folder, stamp, dataset))


@st.cache_data(max_entries=32, show_spinner=False)
def manifold_grid(folder: str, stamp: tuple[int, int], n: int, extent,
                  piece: tuple | None = None) -> np.ndarray:
    """extent: a half-width or (x0, x1, y0, y1) (compute.grid_span); piece: None (z1, z2, the other dimensions 0)
    or compute.plane_slice(): the grid of z = o + u e1 + v e2."""
    model, _ = load_model(folder, stamp)
    if piece is None:
        return compute_grid(model, n, extent)
    return compute_plane_grid(model, n, extent, *piece)


@st.cache_data(max_entries=32, show_spinner=False)
def manifold_png(folder: str, stamp: tuple[int, int], n: int, extent,
                 piece: tuple | None = None) -> tuple[bytes, int]:
    """(the manifold grid as a PNG, its width in px): the Manifold tab shows and offers it at every full rerun of
    every page that has the tab open, and encoding it takes ~16 ms; once per grid instead."""
    image = views.grid_image(manifold_grid(folder, stamp, n, extent, piece), scale=max(1, 600 // (int(n) * 28)))
    return views.png_bytes(image), int(image.shape[1])


@st.cache_resource(max_entries=4, show_spinner="Measuring the latent dimensions…")
def latent_analysis(folder: str, stamp: tuple[int, int], dataset: str) -> analysis.LatentSummary:
    """The test codes' principal plane, KL per dimension, active units and KL order, once per model.

    From the cached encodings: logvar = 2 log sigma, so no second pass through the encoder."""
    enc = test_encodings(folder, stamp, dataset)
    logvar = 2.0 * np.log(np.maximum(enc.sigma.astype(np.float64), 1e-30))
    return analysis.summarize_codes(enc.mu, logvar)


def map_plane(folder: str, stamp: tuple[int, int], dataset: str, projection) -> analysis.Plane | None:
    """The plane a projection names: "pca" (the principal plane) or (i, j) (coordinates z_i, z_j, 0-based);
    None for a model with fewer than 3 dimensions (its map is (z1, z2)). "umap" is no plane: the PCA plane."""
    summary = latent_analysis(folder, stamp, dataset)
    d = summary.mu.shape[1]
    if d <= 2:
        return None
    if not isinstance(projection, (tuple, list)) or summary.plane is None:
        return summary.plane
    i, j = (int(k) for k in projection)
    return analysis.coordinate_plane(d, i, j, summary.mu)


@st.cache_resource(max_entries=16, show_spinner=False)
def map_points(folder: str, stamp: tuple[int, int], dataset: str, projection) -> np.ndarray:
    """The test codes where the map draws them, float32 [N, 2]: on the projection's plane,
    (u, v) = ((mu - m) . e1, (mu - m) . e2), or (z1, z2) for d <= 2."""
    plane = map_plane(folder, stamp, dataset, projection)
    enc = test_encodings(folder, stamp, dataset)
    if plane is None:
        return enc.xy
    return np.ascontiguousarray(analysis.to_plane(enc.mu, plane), dtype=np.float32)


@dataclass(frozen=True)
class MorphMedia:
    frames: np.ndarray  # uint8 [T, 28, 28]: the decoded path
    strip_shown: str  # a PNG data URL: the frames at 2x, eight to a row
    strip_width: int
    _frame_urls: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    def frame_url(self, i: int) -> str:
        """Frame i enlarged to views.DISPLAY_SIZE, as the player shows it (a PNG data URL): encoded the first time
        it is shown."""
        url = self._frame_urls.get(i)
        if url is None:
            url = self._frame_urls[i] = views.thumb_url(self.frames[i])
        return url

    def gif(self) -> bytes:
        """The animation, frames enlarged to views.DISPLAY_SIZE (~6 ms: only when its download is clicked)."""
        return views.gif_bytes(self.frames)

    def strip_download(self) -> bytes:
        """PNG: the frames at 3x in one row."""
        return views.strip_png(self.frames)


@st.cache_resource(max_entries=64, show_spinner=False)
def morph_media(folder: str, stamp: tuple[int, int], z0: tuple[float, ...], z1: tuple[float, ...], steps: int,
                mode: str) -> MorphMedia:
    """The decoded path z0 -> z1 and its strip as a PNG, made once for every session. Every full rerun of a page
    with the Morph tab open shows a frame and the strip, and a class's picks make a new path each time: each
    frame is encoded when first shown, the GIF and the download strip when their button is clicked."""
    model, _ = load_model(folder, stamp)
    t0, t1 = torch.tensor(z0, dtype=torch.float32), torch.tensor(z1, dtype=torch.float32)
    frames = views.to_uint8(model.interpolate(t0, t1, steps, mode).cpu())
    frames.setflags(write=False)  # shared by every session (cache_resource)
    shown = views.strip_image(frames, scale=2, pad=2, ncols=8)
    return MorphMedia(frames, views.png_url(shown), shown.shape[1])


@st.cache_resource(max_entries=32, show_spinner=False)
def attribute_direction(folder: str, stamp: tuple[int, int], dataset: str, kind: str, a: int = 0, b: int = 1
                        ) -> np.ndarray:
    """[d] float64, read-only: the direction named by kind, "ink" or "slant" (the test codes above the property's
    median minus those below, by their means) or "class" (mean code of class b - of class a)."""
    enc = test_encodings(folder, stamp, dataset)
    if kind == "class":
        v = attributes.class_direction(enc.mu, enc.labels, int(a), int(b))
    else:
        v = attributes.property_direction(enc.mu, attributes.measure(kind, enc.images))
    v.setflags(write=False)  # shared by every session (cache_resource)
    return v


@st.cache_resource(max_entries=512, show_spinner=False)
def picked_images(folder: str, stamp: tuple[int, int], dataset: str, index: int, size: int) -> tuple[str, str]:
    """(test image #index, its reconstruction at μ) as PNG data URLs `size` px across: the picked view shows them
    at every rerun of every session that picked it (2 x ~2 ms to encode)."""
    model, _ = load_model(folder, stamp)
    enc = test_encodings(folder, stamp, dataset)
    recon = decode(model, enc.mu[index])[0]
    return (views.thumb_url(enc.images[index], size=size),
            views.thumb_url(recon, size=size))
