"""One image's way through a VAE, step by step, computed by vae_core's own functions (no Streamlit):

    x  ->  encoder: (mu, logvar)  ->  eps ~ N(0, I)  ->  z = mu + sigma * eps  ->  decoder: its output  ->  the loss

The loss terms are VAE.loss_terms of that image with that eps (the same seeded generator), the one-sample -ELBO
the trainer and the evaluator compute; the page shows these numbers, never its own arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import vae_core
from vae_core.data import binarize, to_float

from .tuning import use_request_threads


@dataclass(frozen=True)
class Walk:
    """Every value of one image's computation; vectors are float32 [d], pictures float32 [28, 28]."""

    x: np.ndarray  # the image as the model is measured on it (binarized for a binarized model)
    mu: np.ndarray
    logvar: np.ndarray
    sigma: np.ndarray  # exp(logvar / 2)
    eps: np.ndarray
    z: np.ndarray
    parameter: np.ndarray  # per pixel: p (Bernoulli), lambda (continuous Bernoulli), mean (Gaussian)
    mean: np.ndarray  # E[x|z], what the other views draw (VAE.decode)
    recon: float  # -log p(x|z), nats
    kl: float  # KL(q(z|x) || N(0, I)), nats, closed form
    objective: float  # recon + beta KL: what training minimised (loss_terms' "loss")
    likelihood: str
    beta: float
    sigma_x: float  # the Gaussian likelihood's sigma

    @property
    def neg_elbo(self) -> float:
        """-ELBO of this image with this eps: recon + KL (the test loss's term, whatever beta trained it)."""
        return self.recon + self.kl


def generator(seed: int, device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(seed))


@torch.inference_mode()
def walk(model: vae_core.VAE, x: torch.Tensor, seed: int) -> Walk:
    """x: one image, float32 [1, 1, 28, 28] in [0, 1]; eps from a generator seeded with `seed`."""
    use_request_threads()
    dev = model.device
    x = x.to(dev)
    mu, logvar = model.encode(x)
    z = model.reparameterize(mu, logvar, generator(seed, dev))
    # the very draw reparameterize made: randn of mu's shape from the same seeded generator
    eps = torch.randn(mu.shape, generator=generator(seed, dev), dtype=mu.dtype, device=dev)
    terms = model.loss_terms(x, generator(seed, dev))  # the library's -ELBO terms, the same eps
    out = model.decode_raw(z)
    cfg = model.cfg
    parameter = out.clamp(0, 1) if cfg.likelihood == "gaussian" else torch.sigmoid(out)

    def vec(t: torch.Tensor) -> np.ndarray:
        return t[0].float().cpu().numpy()

    def pic(t: torch.Tensor) -> np.ndarray:
        return t[0, 0].float().cpu().numpy()

    return Walk(x=pic(x), mu=vec(mu), logvar=vec(logvar), sigma=vec(torch.exp(0.5 * logvar)), eps=vec(eps),
                z=vec(z), parameter=pic(parameter), mean=pic(model.decode(z)), recon=float(terms["recon"][0]),
                kl=float(terms["kl"][0]), objective=float(terms["loss"][0]), likelihood=cfg.likelihood,
                beta=float(cfg.beta), sigma_x=float(cfg.sigma))


def measured_pixels(pixels: np.ndarray, mode: str, seed: int | None) -> torch.Tensor:
    """A picture [28, 28] in [0, 1] (your digit) as a model is measured (vae_core.evaluate.binarization_of: mode,
    seed): binarized with its test images' seed for a binarized model, else as it is. [1, 1, 28, 28]."""
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))
    if mode == "none":
        return x[None, None]
    grey = (x.clamp(0, 1) * 255).round().to(torch.uint8)[None]
    return to_float(binarize(grey, torch.Generator().manual_seed(int(seed or 0))))
