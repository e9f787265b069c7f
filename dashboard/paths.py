"""Where the app finds models: one place, so the Train tab saves where the model picker looks.

    pretrained_dir()   the shipped checkpoints (read only)      LATENT_EXPLORER_PRETRAINED_DIR overrides it
    models_dir()       the user's checkpoints (git-ignored)     LATENT_EXPLORER_MODELS_DIR overrides it
    recovered_dir()    models/_recovered: the last epoch of a run whose page went away (dashboard/training_job.py)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def pretrained_dir() -> Path:
    return Path(os.environ.get("LATENT_EXPLORER_PRETRAINED_DIR") or REPO_ROOT / "pretrained")


def models_dir() -> Path:
    return Path(os.environ.get("LATENT_EXPLORER_MODELS_DIR") or REPO_ROOT / "models")


RECOVERED = "_recovered"


def recovered_dir(models_root: Path | None = None) -> Path:
    return Path(models_root or models_dir()) / RECOVERED
