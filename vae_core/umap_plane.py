"""UMAP of the test codes: a 2-D map that keeps neighbourhoods (McInnes et al. 2018). No Streamlit.

Imports umap-learn (and numba, compiling on first use: seconds to minutes), so only the UMAP path imports this
module. umap_points(mu) is seeded: the same codes give the same map on every call (bench/umap_plane.py times it).

    python -m vae_core.umap_plane --model pretrained/mnist16-mlp

computes a model's map once and keeps it beside its weights (vae_core.umap_file), so the app reads it instead.
Numba's compile cache: umap-learn's and pynndescent's cache=True functions are kept in their __pycache__ in the
installed package (the venv, writable and kept between runs), or numba's per-user ~/.cache/numba where that is
read-only; never in the repository or the models folder, so nothing here sets NUMBA_CACHE_DIR. umap-learn's other
jitted functions (its layout optimiser) are compiled again in each process: the shipped file avoids that wait.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import umap

from . import umap_file
from .analysis import encode_all
from .checkpoint import load_checkpoint
from .data import load_dataset
from .umap_file import MIN_DIST, N_EPOCHS, N_NEIGHBORS, SEED

__all__ = ["MIN_DIST", "N_EPOCHS", "N_NEIGHBORS", "SEED", "test_codes", "umap_points"]


def umap_points(mu, seed: int = SEED) -> np.ndarray:
    """float32 [N, 2]: UMAP of the codes mu [N, d], seeded (random_state: one thread, the same map each time)."""
    mu = np.asarray(mu, np.float32)
    if mu.ndim != 2 or len(mu) < N_NEIGHBORS + 2:
        raise ValueError(f"UMAP needs an [N, d] array of more than {N_NEIGHBORS + 1} codes, got {mu.shape}")
    reducer = umap.UMAP(n_neighbors=N_NEIGHBORS, min_dist=MIN_DIST, n_epochs=N_EPOCHS, random_state=seed,
                        n_jobs=1)
    return np.ascontiguousarray(reducer.fit_transform(mu), dtype=np.float32)


@torch.no_grad()
def test_codes(folder: str) -> np.ndarray:
    """float32 [N, d]: the posterior means of the model's test images (the data already downloaded)."""
    model, config = load_checkpoint(folder)
    data = config.get("data")
    dataset = load_dataset(data.get("dataset", "mnist") if isinstance(data, dict) else "mnist", None, False)
    return encode_all(model, dataset.test_images)[0].float().numpy()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vae_core.umap_plane",
                                description="Compute a model's seeded UMAP map and keep it beside its weights.")
    p.add_argument("--model", required=True, action="append", help="a model folder (repeatable)")
    args = p.parse_args(argv)
    for folder in args.model:
        mu = test_codes(folder)
        if mu.shape[1] <= 2:
            print(f"{folder}: {mu.shape[1]}-D codes are their own map, no UMAP written")
            continue
        path = umap_file.write(folder, umap_points(mu))
        print(f"{folder}: UMAP of {len(mu)} codes -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
