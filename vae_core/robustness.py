"""Does the encoder map a noisy image near its clean code? A number for the claim, per noise kind and level.

For each of the first n test images x (label y), with mu(.) the posterior mean:

    holds(x)  =  |mu(x~) - mu(x)|  <  min_{c != y} |mu(x~) - m_c|,      x~ = corrupt(x, kind, level)
    m_c       =  mean of mu(x') over the test images x' of class c        (class centroids of the clean codes)

`held` is the fraction of images for which it holds: the noisy code is nearer its own clean code than any
other class's centroid, so a student reading the map still sees the right digit. `shift` puts the size of the
move on the map's own scale: median |mu(x~) - mu(x)| / median |m_c - m_c'| over the 45 pairs of centroids.
"""

from __future__ import annotations

import torch

from .data import to_float
from .model import VAE
from .noise import corrupt

LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
KINDS = ("gaussian", "salt-and-pepper")


@torch.no_grad()
def encode_means(model: VAE, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Posterior means [N, d] of images given as uint8 [N, 28, 28] or float [N, 1, 28, 28] in [0, 1]."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size]
        x = to_float(x) if x.dtype == torch.uint8 else x.float()
        out.append(model.encode(x.to(model.device))[0].cpu())
    return torch.cat(out)


def class_centroids(mu: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the classes present, sorted [C]; their centroids [C, d]): m_c = mean of mu over the images of class c."""
    labels = labels.long()
    classes = torch.unique(labels)
    return classes, torch.stack([mu[labels == c].mean(0) for c in classes])


class CleanCodes:
    """The clean test codes of one model: computed once, shared by every kind and level."""

    def __init__(self, model: VAE, images: torch.Tensor, labels: torch.Tensor):
        self.model, self.images, self.labels = model, images, labels.long()
        self.mu = encode_means(model, images)
        self.classes, self.centroids = class_centroids(self.mu, self.labels)
        if len(self.classes) < 2:
            raise ValueError("the robustness measure needs images of at least two classes")
        gaps = torch.cdist(self.centroids, self.centroids)
        pairs = torch.triu_indices(len(self.classes), len(self.classes), offset=1)
        self.centroid_gap = gaps[pairs[0], pairs[1]].median().item()  # median |m_c - m_c'| over the pairs


@torch.no_grad()
def robustness(codes: CleanCodes, kind: str, level: float, n: int = 1000, seed: int = 0) -> dict:
    """{'kind', 'level', 'n', 'held', 'shift', 'median_shift'} for the first n test images (see the module doc)."""
    n = min(n, len(codes.images))
    x = codes.images[:n]
    x = to_float(x) if x.dtype == torch.uint8 else x.float()
    noisy = corrupt(x, kind, level, torch.Generator().manual_seed(seed))
    mu_clean, mu_noisy, y = codes.mu[:n], encode_means(codes.model, noisy), codes.labels[:n]
    moved = (mu_noisy - mu_clean).norm(dim=1)  # |mu(x~) - mu(x)|
    to_centroids = torch.cdist(mu_noisy, codes.centroids)  # [n, C]: |mu(x~) - m_c|
    own = y.unsqueeze(1) == codes.classes.unsqueeze(0)
    nearest_other = to_centroids.masked_fill(own, float("inf")).min(1).values  # min over c != y
    median_shift = moved.median().item()
    return {
        "kind": kind,
        "level": float(level),
        "n": n,
        "held": (moved < nearest_other).float().mean().item(),
        "shift": median_shift / codes.centroid_gap,
        "median_shift": median_shift,
    }


def robustness_table(
    model: VAE,
    images: torch.Tensor,
    labels: torch.Tensor,
    kinds: tuple[str, ...] = KINDS,
    levels: tuple[float, ...] = LEVELS,
    n: int = 1000,
    seed: int = 0,
) -> list[dict]:
    """One row per (kind, level): robustness() over the first n of `images`, centroids from all of them."""
    codes = CleanCodes(model, images, labels)
    return [robustness(codes, kind, level, n, seed) for kind in kinds for level in levels]
