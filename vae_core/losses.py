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
    A log-likelihood for x in {0, 1} (binarized images). On grey levels in [0, 1] (soft targets, the common MNIST
    convention) it is a cross-entropy, not -log of any density over grey levels (Loaiza-Ganem & Cunningham 2019).
    """
    logits, x = torch.broadcast_tensors(logits, x)
    return _BernoulliNLL.apply(logits, x)


class _BernoulliNLL(torch.autograd.Function):
    """bernoulli_nll per image, with its gradient in closed form: d/dlogit = sigmoid(logit) - x, d/dx = -logit.

    Per pixel max(l, 0) - x l + log(1 + e^-|l|), the log-sum-exp form of softplus(l) - x l. Written with exp and
    log because PyTorch's AVX-512 CPU kernels compute log1p (so binary_cross_entropy_with_logits and softplus)
    one value at a time: 1.0 ms of a 9 ms training step at batch 128, against 0.3 ms here (docs/benchmarks.md).
    log(1 + e) for e = e^-|l| <= 1 is within float32's rounding of 1 of log1p(e): the difference is absolute,
    at most about 6e-8 a pixel."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits, x)
        per_pixel = logits.abs().neg_().exp_().add_(1).log_().add_(logits.clamp(min=0)).sub_(x * logits)
        return per_pixel.flatten(1).sum(1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        logits, x = ctx.saved_tensors
        grad = grad.view(-1, *([1] * (logits.dim() - 1)))
        d_logits = (torch.sigmoid(logits) - x) * grad if ctx.needs_input_grad[0] else None
        d_x = -logits * grad if ctx.needs_input_grad[1] else None
        return d_logits, d_x


# Below this |eta| the Taylor series of log((e^eta - 1) / eta): the closed form is 0/0 at eta = 0.
_CB_TAYLOR = 1e-2


def cb_log_norm(eta: torch.Tensor) -> torch.Tensor:
    """A(eta) = log int_0^1 exp(eta x) dx = log((e^eta - 1) / eta), per pixel; eta = logit(lambda).

    The continuous Bernoulli p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x) on [0, 1] is exp(eta x - A(eta)),
    so log C(lambda) = log(2 atanh(1 - 2 lambda) / (1 - 2 lambda)) = softplus(eta) - A(eta).
    Stable for every eta: max(eta, 0) + log(1 - e^-|eta|) - log|eta|, and near eta = 0 (lambda = 1/2) its series
    eta/2 + eta^2/24 - eta^4/2880. The far branch is fed a safe eta there, so no NaN reaches the gradient."""
    small = eta.abs() < _CB_TAYLOR
    safe = torch.where(small, torch.full_like(eta, 1.0), eta)
    far = safe.clamp(min=0) + torch.log(-torch.expm1(-safe.abs())) - torch.log(safe.abs())
    e2 = eta * eta
    near = eta / 2 + e2 / 24 - e2 * e2 / 2880
    return torch.where(small, near, far)


def cb_log_c(eta: torch.Tensor) -> torch.Tensor:
    """log C(lambda), the continuous Bernoulli's log normalising constant, from eta = logit(lambda)."""
    return F.softplus(eta) - cb_log_norm(eta)


def cb_mean(eta: torch.Tensor) -> torch.Tensor:
    """E[x] under the continuous Bernoulli: dA/deta = 1 / (1 - e^-eta) - 1 / eta (1/2 + eta/12 near eta = 0).
    Not lambda: the mean is pulled towards 1/2 (lambda = 0.9 has mean 0.72)."""
    small = eta.abs() < _CB_TAYLOR
    safe = torch.where(small, torch.full_like(eta, 1.0), eta)
    far = -1 / torch.expm1(-safe) - 1 / safe
    near = 0.5 + eta / 12 - eta**3 / 720
    return torch.where(small, near, far)


def continuous_bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) = sum_i [A(eta_i) - eta_i x_i] = BCE(x, lambda) - sum_i log C(lambda_i), eta = logits:
    a true negative log density of grey levels x in [0, 1] (it can be below 0: densities exceed 1)."""
    return (cb_log_norm(logits) - logits * x).flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) = sum_i [(x_i - mean_i)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2].

    The constant terms are kept so the number is a true negative log density in nats.
    """
    squared = ((x - mean) ** 2).flatten(1).sum(1) / (2 * sigma**2)
    n_pixels = x[0].numel()
    return squared + n_pixels * (math.log(sigma) + 0.5 * LOG_2PI)


def reconstruction_nll(decoder_out: torch.Tensor, x: torch.Tensor, likelihood: str, sigma: float) -> torch.Tensor:
    """-log p(x|z) for the configured likelihood; decoder_out is logits (the two Bernoullis) or the mean
    (gaussian)."""
    if likelihood == "bernoulli":
        return bernoulli_nll(decoder_out, x)
    if likelihood == "continuous-bernoulli":
        return continuous_bernoulli_nll(decoder_out, x)
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
