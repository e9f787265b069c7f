"""UMAP of the test codes: a 2-D map that keeps neighbourhoods (McInnes et al. 2018). No Streamlit.

Imports umap-learn (and numba, compiling on first use: seconds to a minute), so only the UMAP path imports this
module. umap_points(mu) is seeded: the same codes give the same map on every call (bench/umap_plane.py times it).
"""

from __future__ import annotations

import numpy as np
import umap

SEED = 0
N_NEIGHBORS = 15  # umap-learn's default: the size of the neighbourhood each point keeps
MIN_DIST = 0.1  # umap-learn's default: how tightly points may pack
N_EPOCHS = 200  # umap-learn's choice above 10,000 points; its 500 at 10,000 would take 2.5x as long


def umap_points(mu, seed: int = SEED) -> np.ndarray:
    """float32 [N, 2]: UMAP of the codes mu [N, d], seeded (random_state: one thread, the same map each time)."""
    mu = np.asarray(mu, np.float32)
    if mu.ndim != 2 or len(mu) < N_NEIGHBORS + 2:
        raise ValueError(f"UMAP needs an [N, d] array of more than {N_NEIGHBORS + 1} codes, got {mu.shape}")
    reducer = umap.UMAP(n_neighbors=N_NEIGHBORS, min_dist=MIN_DIST, n_epochs=N_EPOCHS, random_state=seed,
                        n_jobs=1)
    return np.ascontiguousarray(reducer.fit_transform(mu), dtype=np.float32)
