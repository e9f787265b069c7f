"""The architectures a VAEConfig may name: each an encoder and a decoder built from the config alone.

    encoder(cfg)(x [B, C, H, W]) -> (mu [B, d], logvar [B, d])      q(z|x)
    decoder(cfg)(z [B, d]) -> [B, C, H, W]                          logits (Bernoulli) or means (Gaussian)

The encoder's last two layers with weights are its mu and logvar heads; an encoder built for one image shape
only says so in its IMAGE_SHAPE. A new architecture is one module
beside these plus one entry in BUILDERS; config.py offers its name, model.py builds it, and budget.py counts
its parameters and activations on a meta-device copy (a layer kind budget.py cannot size yet is an error
there, until _out_shape learns it).
"""

from __future__ import annotations

from torch import nn

from .conv import ConvDecoder, ConvEncoder
from .layers import ACTIVATIONS as ACTIVATIONS  # the names --activation offers
from .layers import ModelConfig
from .mlp import MLPDecoder, MLPEncoder

BUILDERS: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "mlp": (MLPEncoder, MLPDecoder),
    "conv": (ConvEncoder, ConvDecoder),
}


def fixed_image_shape(arch: str) -> tuple[int, int, int] | None:
    """The image shape an architecture is built for (its encoder's IMAGE_SHAPE), or None when it takes any."""
    return getattr(BUILDERS[arch][0], "IMAGE_SHAPE", None)


def build(cfg: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """(encoder, decoder) of the config's architecture, on the current default device."""
    encoder, decoder = BUILDERS[cfg.arch]
    return encoder(cfg), decoder(cfg)
