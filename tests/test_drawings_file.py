"""vae_core.drawings: a class's drawings as one .safetensors file, read back as written; anything else refused in
one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save

from vae_core.drawings import DrawingsError, DrawingSet, drawings_bytes, read_drawings


def a_set(n: int = 3, d: int = 2) -> DrawingSet:
    rng = np.random.default_rng(0)
    return DrawingSet(images=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                      recons=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                      codes=rng.standard_normal((n, d)).astype(np.float32), labels=np.array([7, -1, 1][:n]),
                      class_names=tuple(str(k) for k in range(10)), model="pretrained/mnist-mlp")


def test_a_set_of_drawings_round_trips():
    s = a_set()
    got = read_drawings(drawings_bytes(s))
    for name in ("images", "recons", "codes", "labels"):
        np.testing.assert_array_equal(getattr(got, name), getattr(s, name))
    assert (got.class_names, got.model, len(got)) == (s.class_names, s.model, 3)
    assert len(read_drawings(drawings_bytes(a_set(0, 16)))) == 0, "an empty set keeps its code size"


@pytest.mark.parametrize("data, says", [
    (b"\x00" * 3, "not a .safetensors file"),
    (save({"x": torch.zeros(2)}), "not a set of drawings"),
    (save({"images": torch.zeros(2, 28, 28, dtype=torch.uint8), "recons": torch.zeros(2, 28, 28, dtype=torch.uint8),
           "codes": torch.zeros(3, 2), "labels": torch.zeros(2, dtype=torch.int64)},
          metadata={"format": "latent-explorer-drawings"}), "shapes"),
])
def test_anything_else_is_refused_in_one_line(data, says):
    with pytest.raises(DrawingsError, match=says):
        read_drawings(data)


def test_a_label_beyond_its_classes_is_refused():
    s = a_set()
    bad = DrawingSet(s.images, s.recons, s.codes, np.array([7, 10, 1]), s.class_names, s.model)
    with pytest.raises(DrawingsError, match="not one of its classes"):
        read_drawings(drawings_bytes(bad))
