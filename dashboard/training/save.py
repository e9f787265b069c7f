"""The save rules: where a trained model may be written, under which names, and what is refused.

A user's model goes to models/<name>/ (save_user_model); a run whose page went away, or whose server is
shutting down, keeps its last completed epoch in models/_recovered/<time>/ (save_recovered). pretrained/ is
never written, nor anything through a symbolic link; a model over vae_core.budget's limits is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
from pathlib import Path
from typing import Protocol

import torch

from vae_core import settings
from vae_core.budget import check_budget
from vae_core.callbacks import TrainResult
from vae_core.checkpoint import CONFIG_NAME, WEIGHTS_NAME, save_checkpoint
from vae_core.config import VAEConfig
from vae_core.data import Dataset
from vae_core.model import VAE
from vae_core.run_record import checkpoint_meta
from vae_core.train_config import TrainConfig

from .. import paths

RECOVERED = paths.RECOVERED
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_RULE = "1 to 64 characters, each a letter, digit, '-' or '_'"

log = logging.getLogger(__name__)


class FinishedRun(Protocol):
    """A finished training job (job.TrainingJob): the model it may save and that model's config.json data."""

    def saveable_model(self) -> tuple[VAE, dict]:
        """(the model, its metadata); ValueError saying why there is none to save."""


def train_command(model_cfg: VAEConfig, cfg: TrainConfig) -> str:
    """The command line that trains the same model with the CLI (recorded in config.json, shown in the UI):
    generated from the settings' declarations (vae_core/settings.py), so it parses back to the same configs."""
    return settings.command(model_cfg, cfg)


class ModelExistsError(FileExistsError):
    """models/<name> exists and overwrite was not asked for."""


_save_lock = threading.Lock()


def validate_name(name: str) -> str:
    """The name, stripped, if it may name a folder in models/; else ValueError saying what is allowed."""
    name = (name or "").strip()
    if not NAME_RE.fullmatch(name):
        shown = repr(name) if name else "an empty name"
        raise ValueError(f"{shown} is not a valid model name: use {NAME_RULE} (e.g. my-vae_2).")
    if name.lower() == RECOVERED:
        raise ValueError(f"{name!r} is reserved for models saved after a lost session; choose another name.")
    return name


def user_model_path(name: str, models_root: str | os.PathLike | None = None) -> Path:
    return Path(models_root or paths.models_dir()) / validate_name(name)


def model_exists(name: str, models_root: str | os.PathLike | None = None) -> bool:
    try:
        return user_model_path(name, models_root).exists()
    except ValueError:
        return False


def _refuse_pretrained(folder: Path) -> None:
    if paths.inside_pretrained(folder):
        log.error("refused to write %s: inside pretrained/", folder)
        raise ValueError("models are never saved inside pretrained/, which holds the shipped models")


def save_user_model(
    result: FinishedRun | TrainResult | VAE,
    name: str,
    overwrite: bool = False,
    *,
    models_root: str | os.PathLike | None = None,
    train_cfg: TrainConfig | None = None,
    data: Dataset | None = None,
    meta: dict | None = None,
) -> Path:
    """Save a trained model as a regular checkpoint folder models/<name>/ (config, metrics, training curves).

    result: a finished TrainingJob (everything is taken from it), a TrainResult (give train_cfg and data for
    the metadata) or a bare VAE (meta as given). The name must match ^[A-Za-z0-9_-]{1,64}$ (ValueError
    otherwise); an existing model is replaced only with overwrite=True (ModelExistsError otherwise).
    pretrained/ is never written, nor anything through a link. The write is atomic
    (vae_core.checkpoint.save_checkpoint). A model over vae_core.budget's limits is refused (BudgetError, a
    ValueError), the limits the loader applies: the app never saves a model it would then refuse to load.
    """
    folder = user_model_path(name, models_root)
    _refuse_pretrained(folder)
    problem = paths.models_root_problem(models_root)
    if problem is not None:
        raise ValueError(problem)
    if folder.is_symlink():
        raise ValueError(f"models/{folder.name} is a symbolic link; choose another name")
    if isinstance(result, TrainResult):
        if result.status == "diverged":
            raise ValueError("training diverged; a diverged run is not saved (train again with a lower learning rate)")
        model = result.model
        if meta is None and train_cfg is not None and data is not None:
            meta = checkpoint_meta(model.cfg, train_cfg, result, data, train_command(model.cfg, train_cfg))
    elif isinstance(result, VAE):
        model = result
    elif hasattr(result, "saveable_model"):
        model, meta = result.saveable_model()
    else:
        raise TypeError(f"cannot save a {type(result).__name__}; pass a TrainingJob, TrainResult or VAE")
    check_budget(model.cfg)
    for p in model.parameters():
        if not torch.isfinite(p).all():
            raise ValueError("the model holds NaN or infinite weights; it is not saved")
    with _save_lock:
        if folder.exists() and not overwrite:
            raise ModelExistsError(f"a model named {folder.name!r} already exists in models/; "
                                   "confirm to replace it, or choose another name")
        return save_checkpoint(model, folder, meta)


def is_checkpoint(folder: str | os.PathLike) -> bool:
    folder = Path(folder)
    return (folder / CONFIG_NAME).is_file() and (folder / WEIGHTS_NAME).is_file()


def save_recovered(model: VAE, meta: dict, models_root: str | os.PathLike | None = None) -> Path:
    """The last completed epoch of a run nobody watches any more, in models/_recovered/<time>/."""
    problem = paths.models_root_problem(models_root)
    if problem is not None:
        raise ValueError(problem)
    root = paths.recovered_dir(models_root)
    if root.is_symlink():  # the models root is the only place written: never through a link out of it
        raise ValueError("models/_recovered is a symbolic link; nothing is written through it")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, i = root / stamp, 2
    while folder.exists():
        folder, i = root / f"{stamp}-{i}", i + 1
    return save_checkpoint(model, folder, meta)
