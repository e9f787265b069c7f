"""A variational autoencoder, read top to bottom against the ELBO.

    encoder   q(z|x) = N(mu(x), diag exp(logvar(x)))
    sampling  z = mu + exp(logvar / 2) * eps,   eps ~ N(0, I)      (reparameterisation)
    decoder   p(x|z) = Bernoulli(sigmoid(f(z))),  ContinuousBernoulli(sigmoid(f(z)))  or  N(f(z), sigma^2 I)
    prior     p(z)   = N(0, I)
    loss      -ELBO = -log p(x|z) + beta * KL(q(z|x) || p(z))
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import architectures
from .budget import layer_widths
from .config import VAEConfig
from .losses import cb_mean, kl_to_standard_normal, log_normal, log_standard_normal, reconstruction_nll

# Floats one IWAE chunk may hold (decoder activations, repeated images, per-pixel terms): 128 MiB.
IWAE_CHUNK_FLOATS = 32 * 1024 * 1024


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder, self.decoder = architectures.build(cfg)  # the config's entry of architectures.BUILDERS

    # --- the four steps of a VAE -------------------------------------------------

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x) = N(mu, diag exp(logvar)). x: [B, 1, 28, 28] in [0, 1]."""
        mu, logvar = self.encoder(x)
        # float32 even when the trainer runs the layers' matrix products in bfloat16 (autocast): the sampling
        # and the ELBO's terms below are always computed at full precision.
        return mu.float(), logvar.float()

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I): the sample is a differentiable function of mu and sigma.
        eps comes from `generator` (default: PyTorch's global one)."""
        sigma = torch.exp(0.5 * logvar)  # sigma = exp(logvar / 2)
        eps = torch.randn(sigma.shape, generator=generator, dtype=sigma.dtype, device=sigma.device)
        return mu + sigma * eps

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's output: logits for the Bernoullis, the mean for Gaussian (float32, as in encode)."""
        return self.decoder(z).float()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean image of p(x|z), in [0, 1]: sigmoid(logits) for Bernoulli, the continuous Bernoulli's mean,
        the clipped mean for Gaussian."""
        out = self.decoder(z)
        if self.cfg.likelihood == "bernoulli":
            return torch.sigmoid(out)
        if self.cfg.likelihood == "continuous-bernoulli":
            return cb_mean(out.float())
        return out.clamp(0, 1)

    def loss_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None, target: torch.Tensor | None = None,
        k: int = 1,
    ) -> dict[str, torch.Tensor]:
        """Per-image terms of -ELBO with one z sample (eps from `generator`): {'loss', 'recon', 'kl'}, each [B].

        'loss' is recon + beta * KL, what training minimises; with beta = 1 it is -ELBO in nats.
        `target`: the image the decoder must give back, when it is not x itself. The denoising VAE (Im et al.
        2017) encodes a corrupted x~ and scores the clean x:  -log p(x | z) + beta KL(q(z|x~) || p(z)), z ~ q(z|x~).
        k > 1: 'loss' is the IWAE objective (Burda et al. 2016) with k samples z_i ~ q(z|x),
            -log (1/k) sum_i exp(log p(x|z_i) + beta [log p(z_i) - log q(z_i|x)])
        ('recon' the mean of the k reconstruction terms, 'kl' the closed form, as for k = 1).
        """
        mu, logvar = self.encode(x)
        target = x if target is None else target
        kl = kl_to_standard_normal(mu, logvar)  # KL(q(z|x) || N(0, I))
        if k == 1:
            z = self.reparameterize(mu, logvar, generator)
            recon = reconstruction_nll(self.decode_raw(z), target, self.cfg.likelihood, self.cfg.sigma)  # -log p(x|z)
            return {"loss": recon + self.cfg.beta * kl, "recon": recon, "kl": kl}
        b, d = mu.shape
        eps = torch.randn((k, b, d), generator=generator, dtype=mu.dtype, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps  # [k, B, d]
        target_rep = target.unsqueeze(0).expand(k, *target.shape).reshape(k * b, *target.shape[1:])
        recon_k = reconstruction_nll(self.decode_raw(z.reshape(k * b, d)), target_rep, self.cfg.likelihood,
                                     self.cfg.sigma).view(k, b)
        log_w = -recon_k + self.cfg.beta * (log_standard_normal(z) - log_normal(z, mu, logvar))
        loss = math.log(k) - torch.logsumexp(log_w, 0)
        return {"loss": loss, "recon": recon_k.mean(0), "kl": kl}

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None, target: torch.Tensor | None = None,
        k: int = 1,
    ) -> dict[str, torch.Tensor]:
        return self.loss_terms(x, generator, target, k)

    # --- helpers the app uses --------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n draws from the prior z ~ N(0, I). Returns [n, 1, 28, 28]."""
        z = torch.randn(n, self.cfg.latent_dim, generator=generator).to(self.device)
        return self.decode(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x -> decode(mu(x)): the reconstruction at the posterior mean, no sampling noise."""
        mu, _ = self.encode(x.to(self.device))
        return self.decode(mu)

    @torch.no_grad()
    def iwae_log_likelihood(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None,
                            chunk_floats: int = IWAE_CHUNK_FLOATS) -> torch.Tensor:
        """Importance-weighted estimate of log p(x) (Burda et al. 2016), one value per image.

        log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x)

        The k samples are taken a chunk at a time, so memory is bounded by `chunk_floats` whatever k:
        acc = logaddexp(acc, logsumexp_i in chunk log w_i) is the same sum as one logsumexp over all k.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        mu, logvar = self.encode(x)
        b, d = mu.shape
        # Chunks of a multiple of 16 samples: PyTorch's CPU randn fills in blocks of 16 values, so drawing eps
        # chunk by chunk gives the very numbers one randn(k, b, d) would (the estimate does not depend on it).
        per_sample = b * (sum(layer_widths(self.cfg)) + 3 * self.cfg.n_pixels)
        step = max(16, chunk_floats // max(1, per_sample) // 16 * 16)
        acc = torch.full((b,), -math.inf, device=mu.device)
        for start in range(0, k, step):
            kc = min(step, k - start)
            eps = torch.randn(kc, b, d, generator=generator).to(mu.device)
            z = mu + torch.exp(0.5 * logvar) * eps  # [kc, B, d]
            out = self.decode_raw(z.reshape(kc * b, d))
            x_rep = x.unsqueeze(0).expand(kc, *x.shape).reshape(kc * b, *x.shape[1:])
            log_px_z = -reconstruction_nll(out, x_rep, self.cfg.likelihood, self.cfg.sigma).view(kc, b)
            log_w = log_px_z + log_standard_normal(z) - log_normal(z, mu, logvar)  # log p(x|z) + log p(z) - log q(z|x)
            acc = torch.logaddexp(acc, torch.logsumexp(log_w, 0))
        return acc - math.log(k)

    @torch.no_grad()
    def interpolate(self, z0: torch.Tensor, z1: torch.Tensor, steps: int, mode: str = "linear") -> torch.Tensor:
        """Decoded images along the path from z0 to z1 (see interpolate_latents): [steps, 1, 28, 28]."""
        return self.decode(interpolate_latents(z0, z1, steps, mode).to(self.device))

    @torch.no_grad()
    def latent_grid(self, extent: float | tuple[float, float, float, float], n: int) -> torch.Tensor:
        """Decode an n x n grid of latent points (Kingma & Welling 2014, fig. 4): [n, n, 28, 28] in [0, 1].

        Spans z1, z2; any further latent coordinates are held at 0, the prior mean.
        """
        pts = latent_grid_points(extent, n)
        d = self.cfg.latent_dim
        z = torch.zeros(n * n, d)
        z[:, : min(2, d)] = pts[:, : min(2, d)]
        h, w = self.cfg.image_shape[1:]
        return self.decode(z.to(self.device)).cpu().view(n, n, h, w)


def interpolate_latents(z0: torch.Tensor, z1: torch.Tensor, steps: int, mode: str = "linear") -> torch.Tensor:
    """Points from z0 to z1 inclusive, [steps, d].

    linear: z(t) = (1 - t) z0 + t z1
    slerp:  z(t) = sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1,  cos w = <z0, z1> / (|z0| |z1|)
            (stays on the shell where most prior mass lies; falls back to linear when z0, z1 are parallel)
    """
    if steps < 2:
        raise ValueError("steps must be at least 2")
    z0, z1 = z0.flatten().float(), z1.flatten().float()
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    if mode == "linear":
        return (1 - t) * z0 + t * z1
    if mode != "slerp":
        raise ValueError(f"mode must be 'linear' or 'slerp', got {mode!r}")
    n0, n1 = z0.norm(), z1.norm()
    if n0 < 1e-8 or n1 < 1e-8:
        return (1 - t) * z0 + t * z1
    omega = torch.arccos(torch.clamp(torch.dot(z0 / n0, z1 / n1), -1.0, 1.0))
    if omega.abs() < 1e-6 or (math.pi - omega).abs() < 1e-6:
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def latent_grid_points(extent: float | tuple[float, float, float, float], n: int) -> torch.Tensor:
    """An n x n grid of 2-D latent points, row-major, top row = highest z2 (so it reads like a plot).

    extent: a half-width e (grid over [-e, e]^2) or (z1_min, z1_max, z2_min, z2_max).
    """
    if isinstance(extent, (int, float)):
        extent = (-extent, extent, -extent, extent)
    x0, x1, y0, y1 = (float(v) for v in extent)
    zs1 = torch.linspace(x0, x1, n)
    zs2 = torch.linspace(y1, y0, n)
    g2, g1 = torch.meshgrid(zs2, zs1, indexing="ij")
    return torch.stack([g1.flatten(), g2.flatten()], 1)


def sample_posterior(
    mu: torch.Tensor,
    logvar: torch.Tensor | None,
    k: int,
    generator: torch.Generator | None = None,
    *,
    sigma: torch.Tensor | None = None,
) -> torch.Tensor:
    """k draws from one posterior q(z|x) = N(mu, diag sigma^2): [k, d], given mu [d] and logvar [d]
    (or logvar=None and sigma=[d]: what the encoder gives, or what a view shows).

    z_i = mu + sigma * eps_i,  eps_i ~ N(0, I)   (the reparameterisation, k times; eps from `generator`)
    """
    if (logvar is None) == (sigma is None):
        raise ValueError("give exactly one of logvar and sigma")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    mu = torch.as_tensor(mu, dtype=torch.float32).flatten()
    if sigma is None:
        sigma = torch.exp(0.5 * torch.as_tensor(logvar, dtype=torch.float32))
    else:
        sigma = torch.as_tensor(sigma, dtype=torch.float32)
    sigma = sigma.flatten().to(mu.device)  # sigma = exp(logvar / 2)
    if sigma.shape != mu.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and sigma {tuple(sigma.shape)} differ in shape")
    eps = torch.randn(k, mu.numel(), generator=generator, device=mu.device)
    return mu + sigma * eps
