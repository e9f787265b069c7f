"""The UMAP map of a model's test codes, computed once per model version for every session (and kept on disk).

Where the points come from, first found first: the map shipped beside the weights (vae_core.umap_file, checked
against the weights' SHA-256: the pretrained models have one), the models folder's disk cache, else UMAP itself.
UMAP of 10,000 codes takes a minute or more on a busy server (bench/umap_plane.py, docs/benchmarks.md), and
importing umap-learn seconds more, so it is imported only then; computed points are written to the models folder
(UMAP_DIR, 80 kB per model version, the newest KEEP_FILES kept), so a restart or another replica reads them
instead. What is shown is the same either way: the map is seeded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from vae_core import neighbour_map, umap_file

from .. import latent_plane
from ..paths import models_dir
from .caches import map_points, test_encodings

UMAP_DIR = ".umap-cache"  # inside the models folder
KEEP_FILES = 32

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UmapView:
    """The map and how well it keeps classes together, against the PCA plane and the whole latent space."""

    neighbours: neighbour_map.NeighbourMap  # the test codes and their points, scaled to the map's home square
    agreement: float  # of each dot's 10 nearest dots on this map, the share with its label
    agreement_pca: float  # the same on the PCA plane

    @property
    def caption(self) -> str:
        return (f"UMAP of the test codes: of each dot's 10 nearest dots, {self.agreement:.0%} share its label "
                f"(on the PCA plane {self.agreement_pca:.0%})")

    @property
    def map_caption(self) -> str:
        """The caption drawn on the map: short (a narrow map, a phone's, keeps what follows the last ": ")."""
        return f"UMAP: kNN {self.agreement:.0%} same class (PCA {self.agreement_pca:.0%})"


def _cache_file(folder: str, stamp: tuple[int, int], n: int) -> Path:
    key = latent_plane.blob_key("umap", folder, stamp, n, umap_file.SEED, umap_file.N_EPOCHS)
    return models_dir() / UMAP_DIR / f"{key}.npy"


def _read(path: Path, n: int) -> np.ndarray | None:
    try:
        points = np.load(path, allow_pickle=False)  # a plain array, never a pickle
    except (OSError, ValueError):
        return None
    ok = points.shape == (n, 2) and points.dtype == np.float32 and np.isfinite(points).all()
    return points if ok else None


def _write(path: Path, points: np.ndarray) -> None:
    """Best effort: a read-only models folder only means computing again after a restart."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, points, allow_pickle=False)
        tmp.replace(path)
        old = sorted(path.parent.glob("*.npy"), key=lambda p: p.stat().st_mtime)[:-KEEP_FILES]
        for p in old:
            p.unlink(missing_ok=True)
    except OSError:
        log.warning("the UMAP points could not be kept in %s", path.parent, exc_info=True)


def umap_points(folder: str, stamp: tuple[int, int], dataset: str) -> np.ndarray:
    """float32 [N, 2]: UMAP of the test codes (umap_plane.umap_points): shipped, cached on disk, or computed."""
    enc = test_encodings(folder, stamp, dataset)
    points = umap_file.read(folder, len(enc.mu))
    if points is not None:
        return points
    path = _cache_file(folder, stamp, len(enc.mu))
    points = _read(path, len(enc.mu))
    if points is None:
        # imported here, not at the top: umap-learn and numba take seconds to import, and a shipped map needs neither
        from vae_core import umap_plane

        points = umap_plane.umap_points(enc.mu)
        _write(path, points)
    return points


@st.cache_resource(max_entries=4, show_spinner=False)  # the map's spinner covers it and umap-learn's import
def umap_view(folder: str, stamp: tuple[int, int], dataset: str) -> UmapView:
    enc = test_encodings(folder, stamp, dataset)
    points = neighbour_map.fit_to_box(umap_points(folder, stamp, dataset), enc.limit)
    codes = enc.mu.astype(np.float64)
    nm = neighbour_map.NeighbourMap(codes, points)
    return UmapView(nm, neighbour_map.neighbour_agreement(points, enc.labels),
                    neighbour_map.neighbour_agreement(map_points(folder, stamp, dataset, "pca"), enc.labels))


@st.cache_resource(max_entries=4, show_spinner=False)
def umap_points_blob(folder: str, stamp: tuple[int, int], dataset: str) -> tuple[str, dict]:
    """(key, the test set on the UMAP map and its labels, for the page)."""
    view, enc = umap_view(folder, stamp, dataset), test_encodings(folder, stamp, dataset)
    return (latent_plane.blob_key("points", folder, stamp, dataset, "umap"),
            latent_plane.points_spec(view.neighbours.points, enc.labels))
