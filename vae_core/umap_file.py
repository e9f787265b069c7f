"""The seeded UMAP map of a model's test codes, kept beside its weights (umap.safetensors). No umap-learn here.

Written by `python -m vae_core.umap_plane --model pretrained/NAME`; read by the app before it computes anything.
The file says what it was computed from (the weights' SHA-256, the seed and UMAP's settings, umap-learn's version,
the number of codes): a file that does not match the model beside it, or the settings here, is stale and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
from importlib import metadata
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file

from .checkpoint import WEIGHTS_NAME

FILE_NAME = "umap.safetensors"
SEED = 0
N_NEIGHBORS = 15  # umap-learn's default: the size of the neighbourhood each point keeps
MIN_DIST = 0.1  # umap-learn's default: how tightly points may pack
N_EPOCHS = 200  # umap-learn's choice above 10,000 points; its 500 at 10,000 would take 2.5x as long
MAX_BYTES = 1 << 20  # 10,000 points are 80 kB: anything far larger is not ours

log = logging.getLogger(__name__)


def weights_sha256(folder: str | Path) -> str:
    h = hashlib.sha256()
    with open(Path(folder) / WEIGHTS_NAME, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def umap_version() -> str:
    return metadata.version("umap-learn")


def provenance(folder: str | Path, n: int) -> dict[str, str]:
    """What a map of this model's n test codes is computed from (safetensors metadata: strings only)."""
    return {"weights_sha256": weights_sha256(folder), "seed": str(SEED), "n_neighbors": str(N_NEIGHBORS),
            "min_dist": str(MIN_DIST), "n_epochs": str(N_EPOCHS), "umap_learn": umap_version(), "n_codes": str(n)}


def write(folder: str | Path, points: np.ndarray) -> Path:
    """The safetensors format written here, not by safetensors.save_file: its metadata's order changes from one
    process to the next, and the same map must give the same bytes. Header: JSON, keys sorted, space-padded to 8."""
    points = np.ascontiguousarray(points, dtype="<f4")
    header = {"__metadata__": provenance(folder, len(points)),
              "points": {"dtype": "F32", "shape": list(points.shape), "data_offsets": [0, points.nbytes]}}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = Path(folder) / FILE_NAME
    path.write_bytes(struct.pack("<Q", len(text)) + text + points.tobytes())
    return path


def read(folder: str | Path, n: int) -> np.ndarray | None:
    """float32 [n, 2] from the folder's umap.safetensors, or None: no file, or one that does not match (logged)."""
    path = Path(folder) / FILE_NAME
    try:
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_BYTES:
            raise ValueError("too large")
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
        points = load_file(str(path)).get("points")
        want = provenance(folder, n)
    except (OSError, ValueError, SafetensorError, metadata.PackageNotFoundError) as e:
        log.warning("the shipped UMAP map %s is unreadable (%s): ignored", path, type(e).__name__)
        return None
    stale = sorted(k for k, v in want.items() if meta.get(k) != v)
    ok = (points is not None and points.shape == (n, 2) and points.dtype == np.float32
          and bool(np.isfinite(points).all()))
    if stale or not ok:
        log.warning("the shipped UMAP map %s does not match this model (%s): ignored", path,
                    ", ".join(stale) if stale else "its points")
        return None
    return points
