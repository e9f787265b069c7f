"""The few numbers that define a VAE. Stored in every checkpoint so it describes itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class VAEConfig:
    arch: str = "mlp"  # "mlp" or "conv"
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)  # MLP encoder widths, mirrored by the decoder; conv uses the last one
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" or "gaussian"
    sigma: float = 0.1  # fixed std of the Gaussian likelihood (ignored for Bernoulli)
    beta: float = 1.0  # weight of the KL term (beta-VAE; 1 is the plain ELBO)
    dropout: float = 0.0
    image_shape: tuple[int, int, int] = (1, 28, 28)
    conv_channels: tuple[int, ...] = field(default=(32, 64))

    def __post_init__(self) -> None:
        # Coerce lists (from JSON) to tuples so configs compare and hash.
        for name in ("hidden", "image_shape", "conv_channels"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {self.arch!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if isinstance(self.latent_dim, bool) or not isinstance(self.latent_dim, int):
            raise ValueError(f"latent_dim must be an integer, got {self.latent_dim!r}")
        for name in ("sigma", "beta", "dropout"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), (int, float)):
                raise ValueError(f"{name} must be a number, got {getattr(self, name)!r}")
        if not 1 <= self.latent_dim <= 512:
            raise ValueError(f"latent_dim must be between 1 and 512, got {self.latent_dim}")
        if not self.hidden or any(h < 1 or h > 8192 for h in self.hidden):
            raise ValueError(f"hidden sizes must be 1..8192, got {self.hidden}")
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")
        if not self.beta >= 0:
            raise ValueError(f"beta must be non-negative, got {self.beta}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if len(self.conv_channels) != 2 or any(c < 1 or c > 1024 for c in self.conv_channels):
            raise ValueError(f"conv_channels must be two sizes in 1..1024, got {self.conv_channels}")
        if self.arch == "conv" and self.image_shape != (1, 28, 28):
            raise ValueError("the conv architecture is built for 1x28x28 images")

    @property
    def n_pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "VAEConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)
