"""The few numbers that define a VAE. Stored in every checkpoint so it describes itself."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from numbers import Integral

from .architectures import ACTIVATIONS, BUILDERS, fixed_image_shape
from .budget import check_budget
from .settings import run_settings, setting

ARCHITECTURES = tuple(BUILDERS)  # "mlp", "conv": architectures/ holds what each builds
# bernoulli: a distribution over {0, 1}, a likelihood on binarized images (TrainConfig.binarize); on grey levels
# its "nats" are a cross-entropy. continuous-bernoulli: its density on [0, 1] (Loaiza-Ganem & Cunningham 2019).
LIKELIHOODS = ("bernoulli", "continuous-bernoulli", "gaussian")
# The bounds of the settings below: the command line, the Train form and the checkpoint schema accept these.
MAX_LATENT_DIM = 512
MAX_WIDTH = 8192  # of a hidden layer
MAX_HIDDEN_LAYERS = 32
MAX_CONV_CHANNELS = 1024
MAX_SIGMA = 1e3
MAX_BETA = 1e3
# Images are small: grey or colour (with alpha), at most 128 x 128 (the conv net: 1 x 28 x 28 only).
MAX_IMAGE_CHANNELS = 4
MAX_IMAGE_SIDE = 128


def _ints(name: str, values) -> tuple[int, ...]:
    """A tuple of plain ints, refusing what int() would silently round or overflow on (1.5, inf, True, "3")."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of integers, got {type(values).__name__}")
    values = tuple(values)
    if len(values) > 64 or any(isinstance(v, bool) or not isinstance(v, Integral) for v in values):
        raise ValueError(f"{name} must be a list of at most 64 integers")
    return tuple(int(v) for v in values)


@run_settings("model")
@dataclass(frozen=True)
class VAEConfig:
    # Each setting is declared once, here (settings.py builds the command line's flags and the form from it).
    arch: str = setting("mlp", flag="--arch", choices=ARCHITECTURES, label="Architecture",
                        help="mlp: fully connected; conv: two conv layers before the dense ones")
    latent_dim: int = setting(2, flag="--latent-dim", lo=1, hi=MAX_LATENT_DIM, label="Latent dimensions",
                              ui=dict(hi=64), help="dimensions of z; 2 lets you see the whole latent space")
    # MLP encoder widths, mirrored by the decoder; conv uses the last one
    hidden: tuple[int, ...] = setting((512, 256), flag="--hidden", lo=1, hi=MAX_WIDTH, max_len=MAX_HIDDEN_LAYERS,
                                      what="hidden sizes", label="Hidden sizes",
                                      help="comma-separated encoder widths; the decoder mirrors them (the conv "
                                           "model uses the last one)")
    likelihood: str = setting("bernoulli", flag="--likelihood", choices=LIKELIHOODS, label="Likelihood p(x|z)",
                              help="bernoulli: each pixel on/off with the decoded probability (a likelihood on "
                                   "binarized images); continuous-bernoulli: its density over grey levels in [0, 1]; "
                                   "gaussian: N(decoded, sigma^2)")
    # fixed std of the Gaussian likelihood (ignored for Bernoulli)
    sigma: float = setting(0.1, flag="--sigma", lo=0, hi=MAX_SIGMA, lo_open=True,
                           applies=("likelihood", ("gaussian",)), label="σ", note="Gaussian likelihood only",
                           ui=dict(lo=0.01, hi=1.0, step=0.01), help="std of the Gaussian likelihood")
    # weight of the KL term (beta-VAE; 1 is the plain ELBO)
    beta: float = setting(1.0, flag="--beta", lo=0, hi=MAX_BETA, label="β (weight of the KL term)",
                          ui=dict(hi=100.0),
                          help="weight of the KL term; 1 is the plain ELBO, larger pulls codes towards the prior")
    dropout: float = setting(0.0, flag="--dropout", lo=0, hi=1, hi_open=True, label="Dropout",
                             ui=dict(hi=0.9, step=0.05), help="dropout rate of the hidden layers")
    activation: str = setting("relu", flag="--activation", choices=tuple(ACTIVATIONS), label="Activation",
                              shown=False, help="the hidden layers' non-linearity (tanh: Burda et al. 2016)")
    image_shape: tuple[int, int, int] = (1, 28, 28)
    conv_channels: tuple[int, ...] = setting((32, 64), flag="--conv-channels", lo=1, hi=MAX_CONV_CHANNELS,
                                             min_len=2, max_len=2, what="conv channels", applies=("arch", ("conv",)),
                                             label="Conv channels", note="convolutional only",
                                             help="channels of the two conv layers (conv only)")

    def __post_init__(self) -> None:
        # Coerce lists (from JSON) to tuples so configs compare and hash.
        for name in ("hidden", "image_shape", "conv_channels"):
            object.__setattr__(self, name, _ints(name, getattr(self, name)))
        if not isinstance(self.arch, str) or self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {self.arch!r}")
        if not isinstance(self.activation, str) or self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {self.activation!r}")
        if not isinstance(self.likelihood, str) or self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if isinstance(self.latent_dim, bool) or not isinstance(self.latent_dim, int):
            raise ValueError(f"latent_dim must be an integer, got {self.latent_dim!r}")
        for name in ("sigma", "beta", "dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not 1 <= self.latent_dim <= MAX_LATENT_DIM:
            raise ValueError(f"latent_dim must be between 1 and {MAX_LATENT_DIM}, got {self.latent_dim}")
        if not 1 <= len(self.hidden) <= MAX_HIDDEN_LAYERS or any(h < 1 or h > MAX_WIDTH for h in self.hidden):
            raise ValueError(f"hidden sizes must be 1..{MAX_WIDTH} (1 to {MAX_HIDDEN_LAYERS} of them), "
                             f"got {list(self.hidden)}")
        if not 0 < self.sigma <= MAX_SIGMA:
            raise ValueError(f"sigma must be positive (at most {MAX_SIGMA:g}), got {self.sigma}")
        if not 0 <= self.beta <= MAX_BETA:
            raise ValueError(f"beta must be in [0, {MAX_BETA:g}], got {self.beta}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if len(self.conv_channels) != 2 or any(c < 1 or c > MAX_CONV_CHANNELS for c in self.conv_channels):
            raise ValueError(f"conv_channels must be two sizes in 1..{MAX_CONV_CHANNELS}, got {self.conv_channels}")
        c, h, w = self.image_shape if len(self.image_shape) == 3 else (0, 0, 0)
        if not (1 <= c <= MAX_IMAGE_CHANNELS and 1 <= h <= MAX_IMAGE_SIDE and 1 <= w <= MAX_IMAGE_SIDE):
            raise ValueError(f"image_shape must be [C, H, W] with C in 1..{MAX_IMAGE_CHANNELS} and H, W in "
                             f"1..{MAX_IMAGE_SIDE}, got {list(self.image_shape)}")
        fixed = fixed_image_shape(self.arch)
        if fixed is not None and self.image_shape != fixed:
            raise ValueError(f"the {self.arch} architecture is built for {'x'.join(map(str, fixed))} images")
        # Last, once every number is sane: refuse a model too large to build, before anything allocates it.
        check_budget(self)

    @property
    def n_pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)
