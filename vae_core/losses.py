"""The terms of the negative ELBO, per image, in nats.

    -ELBO(x) = E_q(z|x)[-log p(x|z)]  +  KL(q(z|x) || p(z))
               \\__ reconstruction __/    \\______ KL ______/

Each function returns one number per image (shape [batch]); the trainer averages them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) = -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)],  p = sigmoid(logits).

    Computed from logits (log-sum-exp form), which stays finite where sigmoid saturates.
    x holds grey levels in [0, 1] used as soft targets (the common MNIST convention; not binarised).
    """
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) = sum_i [(x_i - mean_i)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2].

    The constant terms are kept so the number is a true negative log density in nats.
    """
    squared = ((x - mean) ** 2).flatten(1).sum(1) / (2 * sigma**2)
    n_pixels = x[0].numel()
    return squared + n_pixels * (math.log(sigma) + 0.5 * LOG_2PI)


def reconstruction_nll(decoder_out: torch.Tensor, x: torch.Tensor, likelihood: str, sigma: float) -> torch.Tensor:
    """-log p(x|z) for the configured likelihood; decoder_out is logits (bernoulli) or the mean (gaussian)."""
    if likelihood == "bernoulli":
        return bernoulli_nll(decoder_out, x)
    return gaussian_nll(decoder_out, x, sigma)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(logvar)) = -1/2 sum_j [(z_j - mu_j)^2 / sigma_j^2 + log sigma_j^2 + log 2 pi]."""
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + LOG_2PI).sum(-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) = -1/2 sum_j (z_j^2 + log 2 pi)."""
    return -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
