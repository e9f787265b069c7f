"""A set of drawn digits with their codes: what a class drew for its lecturer (dashboard/classroom), as one
.safetensors file (never pickle: a file may come from anyone).

    images   uint8 [n, 28, 28]   what was drawn, pre-processed like MNIST (ink 255 on 0)
    recons   uint8 [n, 28, 28]   the model's reconstruction of each at its code
    codes    float32 [n, d]      each drawing's μ of q(z|x) under the model
    labels   int64 [n]           the class each was asked to be (an index of class_names), -1 for none
    metadata                     format, model (the model's name), class_names (JSON)

read_drawings(...).images / 255 are the model's inputs (x in [0, 1]), as vae_core.data.to_float makes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

FORMAT = "latent-explorer-drawings"
MAX_BYTES = 64 * 2**20


class DrawingsError(ValueError):
    """A file that is not a set of drawings: one line saying why."""


@dataclass(frozen=True)
class DrawingSet:
    images: np.ndarray  # uint8 [n, 28, 28]
    recons: np.ndarray  # uint8 [n, 28, 28]
    codes: np.ndarray  # float32 [n, d]
    labels: np.ndarray  # int64 [n], -1: none
    class_names: tuple[str, ...]
    model: str

    def __len__(self) -> int:
        return len(self.images)


def drawings_bytes(s: DrawingSet) -> bytes:
    """The set as a .safetensors file."""
    n = len(s.images)
    tensors = {  # copies: the arrays may be read-only views of the store's bytes
        "images": torch.tensor(np.asarray(s.images, np.uint8).reshape(n, 28, 28)),
        "recons": torch.tensor(np.asarray(s.recons, np.uint8).reshape(n, 28, 28)),
        "codes": torch.tensor(np.asarray(s.codes, np.float32).reshape(n, np.shape(s.codes)[-1])),
        "labels": torch.tensor(np.asarray(s.labels, np.int64).reshape(n)),
    }
    meta = {"format": FORMAT, "model": s.model, "class_names": json.dumps(list(s.class_names))}
    return save_bytes(tensors, metadata=meta)


def read_drawings(data: bytes) -> DrawingSet:
    """A set written by drawings_bytes; DrawingsError (one line) for anything else."""
    if len(data) > MAX_BYTES:
        raise DrawingsError(f"a drawings file is at most {MAX_BYTES // 2**20} MB")
    try:
        t = load_bytes(data)
        meta = json.loads(data[8:8 + int.from_bytes(data[:8], "little")]).get("__metadata__", {})
    except (SafetensorError, ValueError, OverflowError) as e:
        raise DrawingsError("it is not a .safetensors file") from e
    if meta.get("format") != FORMAT or set(t) != {"images", "recons", "codes", "labels"}:
        raise DrawingsError("it is not a set of drawings (images, recons, codes, labels)")
    images, recons, codes, labels = (t[k].numpy() for k in ("images", "recons", "codes", "labels"))
    n = len(images)
    if not (images.dtype == recons.dtype == np.uint8 and images.shape == recons.shape == (n, 28, 28)
            and codes.dtype == np.float32 and codes.ndim == 2 and len(codes) == n
            and labels.dtype == np.int64 and labels.shape == (n,)):
        raise DrawingsError("its tensors do not have the shapes of a set of drawings")
    try:
        names = tuple(str(c) for c in json.loads(meta.get("class_names", "[]")))
    except ValueError as e:
        raise DrawingsError("its class names are not JSON") from e
    if labels.size and (labels.min() < -1 or labels.max() >= len(names)):
        raise DrawingsError("a label is not one of its classes")
    return DrawingSet(images, recons, codes, labels, names, str(meta.get("model", "")))
