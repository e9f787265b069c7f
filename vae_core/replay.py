"""A run's replay, kept with its checkpoint: the latent map and the prior samples after every epoch.

    replay.safetensors in the checkpoint folder (beside config.json and model.safetensors):
        epochs   int64   [E]              0 = before training, then each completed epoch
        points   float16 [E, N, 2]        posterior means of the first N test images on the map's plane:
                                          (z1, z2) when d <= 2 (z2 = 0 when d = 1), else the PCA plane below
        samples  uint8   [E, S, H, W]     S prior draws decoded, the same z's every epoch
        labels   int64   [N]              the N test images' labels
    and, for d > 2 only (a file without them is a 2-D run's, or one written before they existed):
        variance float32 [E, 2]           the share of the codes' variance along each plotted axis
        bases    float32 [E, 2, d]        the plotted axes e1, e2 in latent space (points = (mu - m) . e_k)

float16 keeps a latent coordinate to ~3 significant digits, plenty for a scatter plot, and halves the file
(60 epochs of 2,000 points and 8 samples: ~0.9 MB). safetensors, never pickle: a checkpoint may come from anyone.
Written after the checkpoint (save_checkpoint swaps the folder in whole), replaced atomically; read with every
shape, dtype and size checked, so a damaged or hand-made file gives None, never an exception.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .atomic_file import save_tensors
from .config import MAX_LATENT_DIM

REPLAY_NAME = "replay.safetensors"
FORMAT = "latent-explorer-replay"
MAX_BYTES = 64 * 2**20  # far above any real replay (10,000 epochs would not fit, nor need to)
MAX_POINTS = 10_000
MAX_FRAMES = 10_001


PLANE_KEYS = {"variance", "bases"}  # written together, for d > 2


@dataclass(frozen=True)
class Frame:
    epoch: int
    points: np.ndarray  # float32 [N, 2]
    samples: np.ndarray  # uint8 [S, H, W]
    # d > 2: the plotted axes are the epoch's PCA plane (vae_core.analysis), turned to match the previous epoch's
    variance: np.ndarray | None = None  # float32 [2], share of the codes' variance along each axis; None: z1, z2
    basis: np.ndarray | None = None  # float32 [2, d], the axes e1, e2


@dataclass(frozen=True)
class Replay:
    frames: list[Frame]
    labels: np.ndarray  # int64 [N]


def write_replay(folder: str | os.PathLike, frames: list, labels: np.ndarray) -> Path:
    """frames: objects with .epoch, .points [N, 2] and .samples [S, H, W] (uint8), epoch 0 first; the plane
    (.variance, .basis) is stored when every frame has one."""
    folder = Path(folder)
    tensors = {
        "epochs": torch.tensor([int(f.epoch) for f in frames], dtype=torch.int64),
        "points": torch.from_numpy(np.stack([np.asarray(f.points, np.float32) for f in frames]).astype(np.float16)),
        "samples": torch.from_numpy(np.stack([np.asarray(f.samples, np.uint8) for f in frames])),
        "labels": torch.from_numpy(np.asarray(labels, np.int64)),
    }
    if frames and all(getattr(f, "basis", None) is not None and getattr(f, "variance", None) is not None
                      for f in frames):
        for key, attr in (("variance", "variance"), ("bases", "basis")):  # (safetensors takes C order only)
            stacked = np.stack([np.asarray(getattr(f, attr), np.float32) for f in frames])
            tensors[key] = torch.from_numpy(np.ascontiguousarray(stacked))
    return save_tensors(tensors, folder / REPLAY_NAME, {"format": FORMAT})


def read_replay(folder: str | os.PathLike) -> Replay | None:
    """The folder's replay, or None when it has none or it is not a sound one."""
    path = Path(folder) / REPLAY_NAME
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        t = load_file(str(path))
    except (OSError, SafetensorError, ValueError, RuntimeError):
        return None
    base = {"epochs", "points", "samples", "labels"}
    if set(t) != base and set(t) != base | PLANE_KEYS:
        return None
    epochs, points, samples, labels = t["epochs"], t["points"], t["samples"], t["labels"]
    e = len(epochs)
    ok = (epochs.dtype == torch.int64 and points.dtype == torch.float16 and samples.dtype == torch.uint8
          and labels.dtype == torch.int64 and 1 <= e <= MAX_FRAMES and points.ndim == 3 and samples.ndim == 4
          and labels.ndim == 1 and points.shape[0] == e == samples.shape[0] and points.shape[2] == 2
          and 1 <= points.shape[1] == len(labels) <= MAX_POINTS and bool(torch.isfinite(points).all())
          and bool((epochs >= 0).all()) and bool((labels >= 0).all()) and bool((labels < 1000).all()))
    if not ok:
        return None
    variance = bases = None
    if "bases" in t:
        variance, bases = t["variance"], t["bases"]
        if not (variance.dtype == bases.dtype == torch.float32 and variance.shape == (e, 2) and bases.ndim == 3
                and bases.shape[:2] == (e, 2) and 3 <= bases.shape[2] <= MAX_LATENT_DIM
                and bool(torch.isfinite(variance).all()) and bool(torch.isfinite(bases).all())):
            return None
        variance, bases = variance.numpy(), bases.numpy()
    pts = points.float().numpy()
    frames = [Frame(int(epochs[i]), pts[i], samples[i].numpy(), None if variance is None else variance[i],
                    None if bases is None else bases[i]) for i in range(e)]
    return Replay(frames, labels.numpy())
