"""The convolutional VAE for 1 x 28 x 28 images: two stride-2 convolutions each way around dense layers."""

from __future__ import annotations

import torch
from torch import nn

from .layers import ACTIVATIONS, ModelConfig, dense_stack


class ConvEncoder(nn.Module):
    """Two stride-2 convolutions, 28 -> 14 -> 7, then a dense layer to (mu, logvar)."""

    IMAGE_SHAPE = (1, 28, 28)  # the only images it is built for

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c1, c2 = cfg.conv_channels
        act = ACTIVATIONS[cfg.activation]
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), act(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), act(),
            nn.Flatten(),
            *dense_stack([c2 * 7 * 7, cfg.hidden[-1]], cfg.dropout, cfg.activation),
        )
        self.to_mu = nn.Linear(cfg.hidden[-1], cfg.latent_dim)
        self.to_logvar = nn.Linear(cfg.hidden[-1], cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.to_mu(h), self.to_logvar(h)


class ConvDecoder(nn.Module):
    """The encoder in reverse: dense to 7x7 feature maps, two stride-2 transposed convolutions to 28x28."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c1, c2 = cfg.conv_channels
        self.net = nn.Sequential(
            *dense_stack([cfg.latent_dim, cfg.hidden[-1], c2 * 7 * 7], cfg.dropout, cfg.activation),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), ACTIVATIONS[cfg.activation](),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
