"""A loaded VAE at work: the test set's codes, decodes, grids and one image's code. No Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import vae_core
from vae_core import analysis
from vae_core.hardware import available_cpus, torch_threads

from .. import views
from .tuning import use_request_threads


class NonFiniteCodes(ValueError):
    """The model encodes the test set to NaN or infinite codes (e.g. weights that overflow): no map to draw."""


NON_FINITE_CODES = "this model's codes are not finite numbers"


@dataclass(frozen=True)
class Encodings:
    """q(z|x) for every test image: arrays are shared between sessions, treat them as read-only."""

    dataset: str
    class_names: tuple[str, ...]
    images: torch.Tensor  # uint8 [N, 28, 28], the test set itself (shared with vae_core's cache)
    labels: np.ndarray  # int64 [N]
    mu: np.ndarray  # float32 [N, d] posterior means
    sigma: np.ndarray  # float32 [N, d] posterior standard deviations
    xy: np.ndarray  # float32 [N, 2] where the map draws them for d <= 2: (z1, z2), or (z1, jitter) for d = 1
    limit: float  # half-width of the slider range and of the plot


@torch.inference_mode()
def encode_images(model: vae_core.VAE, images: torch.Tensor, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [N, 28, 28] -> (mu, sigma), float32 numpy [N, d] each, in batches."""
    mus, sigmas = [], []
    for i in range(0, len(images), batch):
        mu, logvar = model.encode(vae_core.to_float(images[i : i + batch]).to(model.device))
        mus.append(mu.float().cpu())
        sigmas.append(torch.exp(0.5 * logvar).float().cpu())
    return torch.cat(mus).numpy(), torch.cat(sigmas).numpy()


def compute_encodings(model: vae_core.VAE, dataset: vae_core.Dataset) -> Encodings:
    # Once per model for the whole server, and the first screen waits for it: every core helps here.
    with torch_threads(available_cpus()):
        mu, sigma = encode_images(model, dataset.test_images)
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):  # a map, a PCA plane or a limit of NaN: nothing
        raise NonFiniteCodes(NON_FINITE_CODES)
    return Encodings(
        dataset=dataset.name, class_names=tuple(dataset.class_names), images=dataset.test_images,
        labels=dataset.test_labels.numpy().astype(np.int64), mu=mu, sigma=sigma,
        xy=views.plane_coords(mu), limit=code_limit(mu),
    )


def code_limit(mu: np.ndarray) -> float:
    """The sliders' range and the map's home half-width: views.latent_limit of (z1, z2) for d <= 2. For d > 2 it
    must reach every coordinate (any slider) and the PCA plane's coordinates too (the default map), whose
    spread can exceed any one coordinate's:  max(limit of max_j |mu_j|, limit of |(u, v)|)."""
    if mu.shape[1] <= 2:
        return views.latent_limit(mu)
    pca = analysis.principal_plane(mu)
    return max(views.latent_limit(np.abs(mu).max(axis=1, keepdims=True)),
               views.latent_limit(analysis.to_plane(mu, pca)))


@torch.inference_mode()
def decode(model: vae_core.VAE, z) -> np.ndarray:
    """Latent codes [B, d] (or one code [d]) -> float32 images [B, 28, 28] in [0, 1]."""
    use_request_threads()  # a fragment's rerun (the sliders) runs in a thread of its own, without app.py
    z = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if z.ndim == 1:
        z = z[None]
    return model.decode(z.to(model.device))[:, 0].float().cpu().numpy()


def grid_span(extent) -> tuple[float, float, float, float]:
    """A grid's square: a half-width e ([-e, e]^2, the map's home) or (x0, x1, y0, y1), a region of the map."""
    if isinstance(extent, (int, float)):
        return -float(extent), float(extent), -float(extent), float(extent)
    x0, x1, y0, y1 = (float(v) for v in extent)
    return x0, x1, y0, y1


def view_span(view: dict) -> tuple[float, float, float, float]:
    """The region a map's view {cx, cy, half} shows: (x0, x1, y0, y1)."""
    cx, cy, h = float(view["cx"]), float(view["cy"]), float(view["half"])
    return cx - h, cx + h, cy - h, cy + h


@torch.inference_mode()
def compute_grid(model: vae_core.VAE, n: int, extent) -> np.ndarray:
    """The decoder over an n x n grid of (z1, z2) over grid_span(extent), other dims 0: uint8 [n, n, 28, 28]."""
    return views.to_uint8(model.latent_grid(grid_span(extent), int(n)).float())


@torch.inference_mode()
def compute_plane_grid(model: vae_core.VAE, n: int, extent, origin, e1, e2) -> np.ndarray:
    """The decoder over an n x n grid of the slice z = o + u e1 + v e2, (u, v) over grid_span(extent), rows from
    the top (the highest v) like compute_grid: uint8 [n, n, 28, 28]."""
    x0, x1, y0, y1 = grid_span(extent)
    u, v = np.meshgrid(np.linspace(x0, x1, int(n)), np.linspace(y1, y0, int(n)))  # row i from the top, column j
    z = (np.asarray(origin)[None] + u.reshape(-1, 1) * np.asarray(e1)[None] + v.reshape(-1, 1) * np.asarray(e2)[None])
    return views.to_uint8(decode(model, z)).reshape(int(n), int(n), 28, 28)



def plane_slice(plane: analysis.Plane, z) -> tuple:
    """(o, e1, e2) as tuples (hashable: a cache key): the slice through z, o = plane_origin(plane, z)."""
    o = analysis.plane_origin(plane, np.asarray(z, dtype=np.float64))
    return tuple(round(float(x), 6) for x in o), tuple(map(float, plane.basis[0])), tuple(map(float, plane.basis[1]))



@torch.inference_mode()
def encode_image(model: vae_core.VAE, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image [28, 28] in [0, 1] -> (mu [d], sigma [d], the reconstruction at mu [28, 28]).

    q(z|x) = N(mu, diag sigma^2), sigma = exp(logvar / 2); the reconstruction is f_theta(mu)."""
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None, None].to(model.device)
    mu, logvar = model.encode(x)
    mu, sigma = mu[0].float().cpu().numpy(), torch.exp(0.5 * logvar[0]).float().cpu().numpy()
    return mu, sigma, decode(model, mu)[0]


def denoise(model: vae_core.VAE, clean: np.ndarray, kind: str, level: float, seed: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A clean image [28, 28] -> (the noisy input, mu of the noisy input [d], its reconstruction at mu)."""
    noisy = views.add_noise(clean, kind, level, seed=seed)
    mu, _, recon = encode_image(model, noisy)
    return noisy, mu, recon
