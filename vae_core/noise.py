"""Corruptions of images in [0, 1]: what the denoising VAE trains on and what the de-noising view shows.

    gaussian:        x~ = clip(x + level * n, 0, 1),  n ~ N(0, I)          (level = sigma of the added noise)
    salt-and-pepper: x~_i = 1 or 0 (half each) with probability level,   else x_i   (level = fraction hit)

`corrupt` is the batched torch form (training, the robustness measure); `corrupt_image` the one-image numpy
form with a seed, giving exactly what the dashboard's add_noise gave, so a view keeps showing the same noise.
"""

from __future__ import annotations

import math

import numpy as np
import torch

KINDS = ("none", "gaussian", "salt-and-pepper")
_ALIASES = {"salt_and_pepper": "salt-and-pepper", "s&p": "salt-and-pepper"}


def check_corruption(kind: str, level: float) -> str:
    """The canonical kind name; ValueError with one clear sentence for an unknown kind or a bad level."""
    kind = _ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"noise kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not math.isfinite(level) or level < 0:
        raise ValueError(f"noise level must be a number >= 0, got {level!r}")
    if kind == "salt-and-pepper" and level > 1:
        raise ValueError(f"the salt-and-pepper level is a fraction of pixels, 0..1, got {level!r}")
    return kind


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A corrupted copy of a batch x (any shape, values in [0, 1]); the noise comes from `generator`.

    Draws nothing when kind is "none" or level is 0, so a clean run's random streams are untouched.
    """
    kind = check_corruption(kind, float(level))
    if kind == "none" or level == 0:
        return x.clone()
    if kind == "gaussian":
        n = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return (x + level * n).clamp(0.0, 1.0)  # x~ = clip(x + sigma n, 0, 1)
    hit = torch.rand(x.shape, generator=generator, device=x.device) < level  # each pixel hit with p = level
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5  # a hit pixel turns white or black
    out = x.clone()
    out[hit & salt] = 1.0
    out[hit & ~salt] = 0.0
    return out


def corrupt_image(image: np.ndarray, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """One image (float [H, W] in [0, 1]) -> a new float32 image in [0, 1], reproducible from `seed`.

    Same draws, in the same order, as dashboard.views.add_noise: one normal per pixel for gaussian; for
    salt-and-pepper one uniform per pixel for "hit", then one per pixel for "salt".
    """
    kind = check_corruption(kind, float(level))
    x = np.array(image, dtype=np.float32, copy=True)
    level = float(level)
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        x = x + rng.normal(0.0, level, size=x.shape).astype(np.float32)
    elif kind == "salt-and-pepper":
        hit = rng.random(x.shape) < level
        salt = rng.random(x.shape) < 0.5
        x[hit & salt] = 1.0
        x[hit & ~salt] = 0.0
    return np.clip(x, 0.0, 1.0).astype(np.float32)
