"""How big a model may be, known from its config alone, before a single tensor is allocated.

A config is a few numbers; the model it describes can be gigabytes (twelve hidden layers of 8192, or an
image_shape of 2000 x 2000). Loading, training and the dashboard ask here first, so such a config is refused
in microseconds with one line, instead of after the allocation has taken the machine's memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config.py calls check_budget on every VAEConfig, so only the type is needed here
    from .config import VAEConfig

# 16M float32 weights = 64 MiB; with their gradients and Adam's two moments 256 MiB, so training stays well
# under 2 GB with a batch's activations (MAX_ACTIVATION_FLOATS) on top. The largest shipped model has 0.5M.
MAX_PARAMETERS = 16_000_000
# 256M floats = 1 GiB of activations in one training step (with the 256 MiB above: under 2 GB). The default
# conv net with the dashboard's largest batch (4096) needs about 0.9 of it, the default MLP a fifth.
MAX_ACTIVATION_FLOATS = 256_000_000

_K = 4  # kernel size of every (transposed) convolution in model.py


class BudgetError(ValueError):
    """A config whose model (or training step) would be too large. The message is one line."""


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out  # weight [out, in] + bias [out]


def _conv(c_in: int, c_out: int) -> int:
    return c_in * c_out * _K * _K + c_out  # weight [out, in, k, k] (transposed: [in, out, k, k]) + bias [out]


def layer_widths(cfg: VAEConfig) -> list[int]:
    """Per image, the size of every tensor a forward pass produces, in model.py's order (input included)."""
    h, lat = cfg.hidden, cfg.latent_dim
    if cfg.arch == "mlp":
        enc = [cfg.n_pixels, *h, 2 * lat]  # ... -> (mu, logvar)
        dec = [lat, *reversed(h), cfg.n_pixels]
        return enc + dec
    c1, c2 = cfg.conv_channels
    enc = [cfg.n_pixels, c1 * 14 * 14, c2 * 7 * 7, h[-1], 2 * lat]
    dec = [lat, h[-1], c2 * 7 * 7, c1 * 14 * 14, cfg.n_pixels]
    return enc + dec


def parameter_count(cfg: VAEConfig) -> int:
    """sum(p.numel() for p in VAE(cfg).parameters()), from the config's numbers alone (no model is built)."""
    h, lat = cfg.hidden, cfg.latent_dim
    heads = 2 * _linear(h[-1], lat)  # to_mu and to_logvar
    if cfg.arch == "mlp":
        enc = [cfg.n_pixels, *h]
        dec = [lat, *reversed(h), cfg.n_pixels]
        return (sum(_linear(a, b) for a, b in zip(enc[:-1], enc[1:])) + heads
                + sum(_linear(a, b) for a, b in zip(dec[:-1], dec[1:])))
    c1, c2 = cfg.conv_channels
    c = cfg.image_shape[0]  # the conv net reads and writes one channel (config enforces 1 x 28 x 28)
    flat = c2 * 7 * 7  # 28 -> 14 -> 7 after two stride-2 convolutions
    encoder = _conv(c, c1) + _conv(c1, c2) + _linear(flat, h[-1]) + heads
    decoder = _linear(lat, h[-1]) + _linear(h[-1], flat) + _conv(c2, c1) + _conv(c1, c)
    return encoder + decoder


def activation_floats(cfg: VAEConfig, batch_size: int) -> int:
    """An upper bound on the floats one training step (forward + backward) keeps for a batch.

    Autograd keeps each layer's output as the pre-activation and the ReLU's output (a third with dropout, its
    mask): 2 or 3 per width. Backward frees them layer by layer while it makes the gradient of a layer's input
    and output at once: 2 * the widest. The loss adds a few per-pixel tensors (the target, its float copy, the
    per-pixel terms): 4 * n_pixels.
    """
    widths = layer_widths(cfg)
    per_image = (3 if cfg.dropout > 0 else 2) * sum(widths) + 2 * max(widths) + 4 * cfg.n_pixels
    return batch_size * per_image


def check_budget(cfg: VAEConfig, batch_size: int | None = None) -> None:
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
