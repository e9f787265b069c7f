"""A 2-D map of the test codes with no formula behind it (UMAP's), made usable by nearest neighbours. No Streamlit.

A nonlinear embedding such as UMAP places each test code mu_n at a point p_n of the map and has no exact inverse.
NeighbourMap answers the two questions a latent map asks, honestly, from the pairs (mu_n, p_n) alone:

    to_code(p)    a point of the map -> a code: the inverse-distance mix of the codes of its k nearest points
                  z(p) = sum_i w_i mu_i / sum_i w_i,  w_i = 1 / |p - p_i|   (p = p_i gives mu_i exactly)
    to_map(z)     a code -> a point of the map: the same mix of the points of its k nearest codes
                  p(z) = sum_i w_i p_i / sum_i w_i,  w_i = 1 / |z - mu_i|   (z = mu_i gives p_i exactly)
    neighbour_agreement(points, labels)   of each point's k nearest points, the share with its label

fit_to_box rescales a map to a square (UMAP's coordinates have no unit, only their neighbourhoods mean something).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

K_DECODE = 8  # neighbours mixed by to_code / to_map
K_AGREEMENT = 10  # neighbours counted by neighbour_agreement (as dashboard.claims.same_class)
_CHUNK = 1000  # query rows per block of distances: 1000 x 10,000 float64 is 80 MB


def _kd_tree(points: np.ndarray) -> cKDTree:
    """SciPy's k-d tree, imported when a map without an inverse is first decoded: importing scipy.spatial costs a
    process about 23 MiB, which a server showing no such map need not pay (docs/benchmarks.md)."""
    from scipy.spatial import cKDTree

    return cKDTree(points)


def _nearest(queries: np.ndarray, refs: np.ndarray, k: int, tree: cKDTree | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """(distances, indices) [M, k] of each query's k nearest refs (Euclidean), nearest first: a k-d tree on a map
    (2-D; `tree`: one built on refs already), blocks of |q|^2 - 2 q.r + |r|^2 among codes (a k-d tree is slow in 16
    dimensions and more)."""
    k = min(k, len(refs))
    if refs.shape[1] <= 3:
        dist, idx = (tree or _kd_tree(refs)).query(queries, k=k)
        return dist.reshape(len(queries), k), idx.reshape(len(queries), k)
    dist, idx = [], []
    ref_sq = (refs**2).sum(1)
    for s in range(0, len(queries), _CHUNK):
        q = queries[s : s + _CHUNK]
        d2 = (q**2).sum(1)[:, None] - 2.0 * q @ refs.T + ref_sq[None]
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        # the k found, their distances again as |q - r| (the expansion leaves ~1e-8 where q = r)
        dk = np.linalg.norm(q[:, None, :] - refs[part], axis=2)
        order = np.argsort(dk, axis=1, kind="stable")
        idx.append(np.take_along_axis(part, order, 1))
        dist.append(np.take_along_axis(dk, order, 1))
    return np.concatenate(dist), np.concatenate(idx)


def _mix(dist: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """sum_i w_i values_i / sum_i w_i with w_i = 1 / d_i; a row with d_i ~ 0 takes that neighbour's value."""
    exact = dist[:, 0] < 1e-9
    w = 1.0 / np.maximum(dist, 1e-12)
    out = (w[:, :, None] * values[idx]).sum(1) / w.sum(1, keepdims=True)
    out[exact] = values[idx[exact, 0]]
    return out


@dataclass(frozen=True)
class NeighbourMap:
    """codes [N, d] and where a map draws them, points [N, 2] (float64 both)."""

    codes: np.ndarray
    points: np.ndarray
    k: int = K_DECODE

    def __post_init__(self) -> None:
        if self.codes.ndim != 2 or self.points.shape != (len(self.codes), 2) or not len(self.codes):
            raise ValueError(f"need codes [N, d] and points [N, 2], got {self.codes.shape} and {self.points.shape}")

    @cached_property
    def _tree(self) -> cKDTree:
        """The points' k-d tree, built once (a release on the map asks it one question)."""
        return _kd_tree(self.points)

    @property
    def dim(self) -> int:
        return int(self.codes.shape[1])

    def to_code(self, uv) -> np.ndarray:
        """Points of the map [M, 2] -> codes [M, d]: the inverse-distance mix of their k nearest points' codes."""
        uv = np.asarray(uv, np.float64).reshape(-1, 2)
        return _mix(*_nearest(uv, self.points, self.k, self._tree), self.codes)

    def to_map(self, z) -> np.ndarray:
        """Codes [M, d] -> points of the map [M, 2]: the inverse-distance mix of their k nearest codes' points."""
        z = np.asarray(z, np.float64).reshape(-1, self.dim)
        return _mix(*_nearest(z, self.codes, self.k), self.points)


def neighbour_agreement(points, labels, k: int = K_AGREEMENT) -> float:
    """Of each point's k nearest other points, the share with its label, averaged over the points."""
    points = np.asarray(points, np.float64)
    labels = np.asarray(labels)
    _, idx = _nearest(points, points, k + 1)
    idx = idx[:, 1:]  # the nearest is the point itself (or a twin at distance 0: either way one of k + 1)
    return float((labels[idx] == labels[:, None]).mean())


def fit_to_box(points, half: float, fill: float = 0.9) -> np.ndarray:
    """points [N, 2] moved and scaled (one factor for both axes) into [-fill * half, fill * half]^2, centred."""
    p = np.asarray(points, np.float64)
    lo, hi = p.min(0), p.max(0)
    span = float((hi - lo).max()) / 2
    return (p - (lo + hi) / 2) * (fill * half / span if span > 0 else 1.0)
