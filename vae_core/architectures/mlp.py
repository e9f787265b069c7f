"""The fully connected VAE: dense layers from the pixels to (mu, logvar) and back."""

from __future__ import annotations

import torch
from torch import nn

from .layers import ModelConfig, dense_stack


class MLPEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), *dense_stack([cfg.n_pixels, *cfg.hidden], cfg.dropout, cfg.activation))
        self.to_mu = nn.Linear(cfg.hidden[-1], cfg.latent_dim)
        self.to_logvar = nn.Linear(cfg.hidden[-1], cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.to_mu(h), self.to_logvar(h)


class MLPDecoder(nn.Module):
    """A plain stack Linear/activation/.../Linear: the browser runs a copy of exactly this (ReLU or tanh)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        widths = [cfg.latent_dim, *reversed(cfg.hidden)]
        self.net = nn.Sequential(*dense_stack(widths, cfg.dropout, cfg.activation), nn.Linear(widths[-1], cfg.n_pixels))
        self.image_shape = cfg.image_shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)
