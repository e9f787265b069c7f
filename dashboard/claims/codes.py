"""A shipped model's encoded test set (Codes), and the tools the claims measure with: batched encode and decode,
nearest neighbours in chunks, and PixelNN, a model-free judge of what an image shows."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import torch

from dashboard.views import plane_coords
from vae_core import load_checkpoint, load_dataset

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["mnist-mlp", "fashion-mlp", "mnist-conv", "mnist-beta4", "mnist-dvae", "mnist16-mlp", "fashion64-conv",
           "mnist50-binarized"]
K = 10
N_SMALL = 1000  # images for the measures that decode or compare pixels


class Codes(NamedTuple):
    name: str
    model: object  # vae_core.VAE, in eval mode
    config: dict
    dataset: object  # vae_core.Dataset
    x: torch.Tensor  # float [N, 1, 28, 28] in [0, 1], the first N test images
    labels: torch.Tensor  # long [N]
    mu: torch.Tensor  # [N, d]
    logvar: torch.Tensor  # [N, d]
    plane: torch.Tensor  # [N, 2]: the coordinates the map plots (dashboard.views.plane_coords)

    @property
    def sigma(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)  # sigma = exp(logvar / 2)

    @property
    def d(self) -> int:
        return int(self.mu.shape[1])


def folder_of(name: str) -> Path:
    p = Path(name)
    if p.is_absolute():
        return p
    return ROOT / p if (ROOT / p).is_dir() else ROOT / "pretrained" / name


@torch.no_grad()
def encode(model, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu [N, d], sigma [N, d]) of float images [N, 1, 28, 28] in [0, 1]."""
    mus, sigmas = [], []
    for start in range(0, len(images), batch_size):
        mu, logvar = model.encode(images[start : start + batch_size])
        mus.append(mu)
        sigmas.append(torch.exp(0.5 * logvar))  # sigma = exp(logvar / 2)
    return torch.cat(mus), torch.cat(sigmas)


@functools.lru_cache(maxsize=8)
@torch.no_grad()
def load_codes(name: str, n: int = 10_000) -> Codes:
    """A shipped model (a name in pretrained/ or a folder) and its first n test images, encoded once."""
    model, config = load_checkpoint(folder_of(name))
    model.eval()
    data = load_dataset(config["data"]["dataset"], None, False)
    x = data.test_images[:n].unsqueeze(1).float() / 255.0
    mus, logvars = [], []
    for start in range(0, len(x), 1000):
        mu, logvar = model.encode(x[start : start + 1000])
        mus.append(mu.float())
        logvars.append(logvar.float())
    mu, logvar = torch.cat(mus), torch.cat(logvars)
    plane = torch.from_numpy(plane_coords(mu.numpy()))  # what the Explore map plots, whatever d is
    return Codes(Path(name).name, model, config, data, x, data.test_labels[:n].long(), mu, logvar, plane)


@torch.no_grad()
def decode(model, z: torch.Tensor) -> torch.Tensor:
    """Codes [B, d] -> decoded images flattened, [B, 784] in [0, 1]."""
    return torch.cat([model.decode(z[i : i + 1000].float()).flatten(1) for i in range(0, len(z), 1000)])


def nearest_distances(queries: torch.Tensor, codes: torch.Tensor, k: int, exclude_self: bool) -> tuple:
    """(distances [Q, k], indices [Q, k]) of each query's k nearest codes, in chunks (10,000^2 at once is 400 MB)."""
    ds, ix = [], []
    for start in range(0, len(queries), 1000):
        d = torch.cdist(queries[start : start + 1000], codes)
        if exclude_self:
            rows = torch.arange(len(d))
            d[rows, rows + start] = float("inf")
        dist, idx = d.topk(k, largest=False)
        ds.append(dist)
        ix.append(idx)
    return torch.cat(ds), torch.cat(ix)


class PixelNN:
    """A model-free judge of what an image shows: the label of its nearest training image, in pixels."""

    def __init__(self, dataset, n: int = 10_000):
        self.images = dataset.train_images[:n].flatten(1).float() / 255.0  # [n, 784]
        self.labels = dataset.train_labels[:n].long()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images [B, 784] -> (label of the nearest training image [B], RMS pixel distance to it [B])."""
        dist, idx = nearest_distances(images.flatten(1).float(), self.images, 1, exclude_self=False)
        return self.labels[idx[:, 0]], dist[:, 0] / 28.0  # RMS = |a - b| / sqrt(784)


@functools.lru_cache(maxsize=2)
def pixel_nn(dataset_name: str) -> PixelNN:
    return PixelNN(load_dataset(dataset_name, None, False))


def judge(c: Codes) -> PixelNN:
    return pixel_nn(c.dataset.name)


def geometric_sigma(sigma: torch.Tensor) -> torch.Tensor:
    """One width per posterior: (prod_j sigma_j)^(1/d), the radius of a circle of the ellipse's area."""
    return sigma.log().mean(1).exp()
