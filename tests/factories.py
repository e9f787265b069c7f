"""Small things the tests build again and again: a tiny checkpoint folder, a quick training config, a free port.

Imported by name (`from factories import tiny_checkpoint`): pytest puts tests/ on sys.path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.serving import free_port  # noqa: E402,F401  (re-exported: one free-port helper for all)
from vae_core import VAE, VAEConfig, save_checkpoint  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402


def tiny_checkpoint(folder: Path, dataset: str = "mnist", arch: str = "mlp", latent_dim: int = 2, seed: int = 0,
                    loss: float = 150.0, hidden: tuple[int, ...] = (16,), **meta) -> Path:
    """A freshly initialised tiny model saved where the model list finds it; `meta` adds to (or replaces) the
    dataset and test loss written into its config.json."""
    torch.manual_seed(seed)
    cfg = VAEConfig(arch=arch, latent_dim=latent_dim, hidden=hidden, conv_channels=(4, 8))
    meta = {"data": {"dataset": dataset}, "metrics": {"test_loss": loss}, **meta}
    return save_checkpoint(VAE(cfg), folder, meta)


def tcfg(**kw) -> TrainConfig:
    """A training of a few seconds: 2 epochs of 10 steps (500 images in batches of 50), on the CPU."""
    kw.setdefault("epochs", 2)
    kw.setdefault("limit", 500)
    kw.setdefault("batch_size", 50)
    kw.setdefault("lr", 1e-2)
    kw.setdefault("device", "cpu")
    return TrainConfig(**kw)


def app_roots(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """The app's two model folders under tmp_path: pretrained/ with one tiny MNIST model, models/ empty."""
    pre, mine = tmp_path / "pretrained", tmp_path / "models"
    tiny_checkpoint(pre / "mnist-mlp")
    mine.mkdir()
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    return pre, mine
