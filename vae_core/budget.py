"""How big a model may be, known from its config alone, before a single tensor is allocated.

A config is a few numbers; the model it describes can be gigabytes (twelve hidden layers of 8192, or an
image_shape of 2000 x 2000). Loading, training and the dashboard ask here first, so such a config is refused
in about a millisecond with one line, instead of after the allocation has taken the machine's memory.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import nn

from . import architectures
from .architectures.layers import ACTIVATIONS, ModelConfig

# 16M float32 weights = 64 MiB; with their gradients and Adam's two moments 256 MiB, so training stays well
# under 2 GB with a batch's activations (MAX_ACTIVATION_FLOATS) on top. The largest shipped model has 0.5M.
MAX_PARAMETERS = 16_000_000
# 256M floats = 1 GiB of activations in one training step (with the 256 MiB above: under 2 GB). The default
# conv net with the dashboard's largest batch (4096) needs about 0.9 of it, the default MLP a fifth.
MAX_ACTIVATION_FLOATS = 256_000_000


class BudgetError(ValueError):
    """A config whose model (or training step) would be too large. The message is one line."""


@lru_cache(maxsize=256)
def _on_meta(cfg: ModelConfig) -> tuple[int, tuple[int, ...]]:
    """(parameters, layer widths) of the config's encoder and decoder, built on the meta device: shapes without
    storage, so even a config of billions of weights costs milliseconds and no memory."""
    with torch.device("meta"):
        encoder, decoder = architectures.build(cfg)
    n = sum(p.numel() for m in (encoder, decoder) for p in m.parameters())
    enc = _output_sizes(encoder, tuple(cfg.image_shape))
    dec = _output_sizes(decoder, (cfg.latent_dim,))
    # an encoder's last two layers are its mu and logvar heads: one output of 2d, as the model hands it on
    return n, (cfg.n_pixels, *enc[:-2], enc[-2] + enc[-1], cfg.latent_dim, *dec)


def _output_sizes(net: nn.Module, shape: tuple[int, ...]) -> list[int]:
    """Per image, the output size of each of net's layers with weights, from the input's shape [C, H, W] or [F].
    The layers are taken in the order the net declares them, which is the order our architectures run them.
    Shapes are followed by each layer's own arithmetic, not by running the net: a forward pass on the meta
    device would cost a millisecond or more per layer."""
    sizes = []
    for layer in net.modules():
        if next(layer.children(), None) is not None:
            continue  # a container: its layers come next
        shape = _out_shape(layer, shape)
        if next(layer.parameters(), None) is not None:
            sizes.append(math.prod(shape))
    return sizes


def _out_shape(layer: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape per image of what layer makes of an input of `shape` (torch's formulas for each kind)."""
    if isinstance(layer, nn.Linear):
        return (layer.out_features,)
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(layer.padding, tuple):
        k, st, pad, dil = layer.kernel_size, layer.stride, layer.padding, layer.dilation
        if isinstance(layer, nn.Conv2d):
            hw = [(n + 2 * pad[i] - dil[i] * (k[i] - 1) - 1) // st[i] + 1 for i, n in enumerate(shape[1:])]
        else:
            out_pad = layer.output_padding
            hw = [(n - 1) * st[i] - 2 * pad[i] + dil[i] * (k[i] - 1) + out_pad[i] + 1
                  for i, n in enumerate(shape[1:])]
        return (layer.out_channels, *hw)
    if isinstance(layer, nn.Flatten) and (layer.start_dim, layer.end_dim) == (1, -1):
        return (math.prod(shape),)
    if isinstance(layer, nn.Unflatten) and layer.dim == 1:
        return tuple(layer.unflattened_size)
    if isinstance(layer, (nn.Dropout, *ACTIVATIONS.values())):
        return shape
    raise TypeError(f"budget.py does not know the output shape of {type(layer).__name__}; add it to _out_shape")


def layer_widths(cfg: ModelConfig) -> list[int]:
    """Per image, the size of every tensor a forward pass produces, in the model's order (input included)."""
    return list(_on_meta(cfg)[1])


def parameter_count(cfg: ModelConfig) -> int:
    """sum(p.numel() for p in VAE(cfg).parameters()), counted on a meta-device copy (nothing is allocated)."""
    return _on_meta(cfg)[0]


def activation_floats(cfg: ModelConfig, batch_size: int) -> int:
    """An upper bound on the floats one training step (forward + backward) keeps for a batch.

    Autograd keeps each layer's output as the pre-activation and the ReLU's output (a third with dropout, its
    mask): 2 or 3 per width. Backward frees them layer by layer while it makes the gradient of a layer's input
    and output at once: 2 * the widest. The loss adds a few per-pixel tensors (the target, its float copy, the
    per-pixel terms): 4 * n_pixels.
    """
    widths = layer_widths(cfg)
    per_image = (3 if cfg.dropout > 0 else 2) * sum(widths) + 2 * max(widths) + 4 * cfg.n_pixels
    return batch_size * per_image


def check_budget(cfg: ModelConfig, batch_size: int | None = None) -> None:
    """Raise BudgetError (one line, the number and the limit) when the model, or a training step with
    `batch_size` images, would exceed the budget."""
    n = parameter_count(cfg)
    if n > MAX_PARAMETERS:
        raise BudgetError(
            f"the model would have {n:,} parameters; the limit is {MAX_PARAMETERS:,}: "
            "use fewer or narrower hidden layers"
        )
    if batch_size is not None:
        floats = activation_floats(cfg, batch_size)
        if floats > MAX_ACTIVATION_FLOATS:
            raise BudgetError(
                f"a training step with batch size {batch_size:,} would hold about {floats:,} activations; "
                f"the limit is {MAX_ACTIVATION_FLOATS:,}: use a smaller batch size or narrower layers"
            )
