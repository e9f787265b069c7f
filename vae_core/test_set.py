"""A folder-of-images model's held-out test images, kept with its checkpoint, so the model is explored and
evaluated without the folder it was trained on (the app's upload is removed once it is no longer needed).

    test_set.safetensors in the checkpoint folder (beside config.json and model.safetensors):
        images  uint8  [N, 28, 28]   the test split's images as the model saw them (image_folder.fit_to_side)
        labels  int64  [N]           their classes, indices into config.json's data.classes

safetensors, never pickle; read with every shape, dtype and size checked (DatasetError, one line, otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .atomic_file import save_tensors
from .data import Dataset, DatasetError
from .image_folder import FOLDER, MAX_CLASSES, MAX_IMAGES, SIDE

TEST_SET_NAME = "test_set.safetensors"
FORMAT = "latent-explorer-test-set"
MAX_BYTES = MAX_IMAGES * (SIDE * SIDE + 8) + 2**16


def write_test_set(folder: str | os.PathLike, images: torch.Tensor, labels: torch.Tensor) -> Path:
    """images uint8 [N, 28, 28], labels [N] -> folder/test_set.safetensors, replaced atomically."""
    folder = Path(folder)
    tensors = {"images": images.to("cpu", torch.uint8).contiguous(), "labels": labels.to("cpu", torch.int64)}
    return save_tensors(tensors, folder / TEST_SET_NAME, {"format": FORMAT})


def read_test_set(folder: str | os.PathLike, classes: list[str] | tuple[str, ...]) -> Dataset:
    """The checkpoint's test images as a Dataset named "folder" (no training images) with these class names."""
    path = Path(folder) / TEST_SET_NAME
    try:
        if path.is_symlink() or not path.is_file():
            raise DatasetError(f"{path}: missing; a model trained on a folder of images keeps its test images there")
        if path.stat().st_size > MAX_BYTES:
            raise DatasetError(f"{path}: larger than a test set of {MAX_IMAGES:,} images")
        t = load_file(str(path))
    except (OSError, SafetensorError, RuntimeError) as e:
        raise DatasetError(f"{path}: cannot be read ({(str(e).splitlines() or ['damaged'])[0][:120]})") from None
    images, labels = t.get("images"), t.get("labels")
    ok = (set(t) == {"images", "labels"} and images.dtype == torch.uint8 and labels.dtype == torch.int64
          and images.ndim == 3 and tuple(images.shape[1:]) == (SIDE, SIDE) and labels.shape == images.shape[:1]
          and 1 <= len(labels) <= MAX_IMAGES and 1 <= len(classes) <= MAX_CLASSES
          and bool((labels >= 0).all()) and bool((labels < len(classes)).all()))
    if not ok:
        raise DatasetError(f"{path}: not a test set of 28 x 28 images with labels of the model's "
                           f"{len(classes)} classes")
    empty = torch.zeros((0, SIDE, SIDE), dtype=torch.uint8)
    return Dataset(name=FOLDER, train_images=empty, train_labels=torch.zeros(0, dtype=torch.uint8),
                   test_images=images, test_labels=labels.to(torch.uint8), source=str(folder), sha256={},
                   classes=tuple(classes))
