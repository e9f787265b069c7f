"""What the architectures share: the part of a config they read, and a stack of dense layers."""

from __future__ import annotations

from typing import Protocol

from torch import nn


class ModelConfig(Protocol):
    """What an architecture reads of a VAEConfig (config.py imports this package, so it is not imported here)."""

    arch: str
    latent_dim: int
    hidden: tuple[int, ...]
    dropout: float
    image_shape: tuple[int, int, int]
    conv_channels: tuple[int, ...]
    activation: str

    @property
    def n_pixels(self) -> int: ...


# The hidden layers' non-linearity, by the name a config gives it (tanh: Burda et al. 2016's networks).
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "gelu": nn.GELU}


def dense_stack(sizes: list[int], dropout: float, activation: str = "relu") -> list[nn.Module]:
    """Linear + activation (+ Dropout) for each consecutive pair of sizes."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers
