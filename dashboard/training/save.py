"""The save rules: where a trained model may be written, under which names, and what is refused.

A user's model goes to models/<name>/ (save_user_model); a run whose page went away, or whose server is
shutting down, keeps its last completed epoch in models/_recovered/<time>/ (save_recovered). pretrained/ is
never written, nor anything through a symbolic link; a model over vae_core.budget's limits is refused.
A model saved from the app records its session (owner_tag): only that session may replace or delete it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import logging
import os
import re
from pathlib import Path
from typing import Protocol

import torch

from vae_core import settings
from vae_core.budget import check_budget
from vae_core.callbacks import TrainResult
from vae_core.checkpoint import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    CheckpointError,
    is_checkpoint_folder,
    read_config,
    save_checkpoint,
)
from vae_core.config import VAEConfig
from vae_core.data import Dataset
from vae_core.image_folder import FOLDER
from vae_core.model import VAE
from vae_core.replay import write_replay
from vae_core.run_record import checkpoint_meta
from vae_core.test_set import write_test_set
from vae_core.train_config import TrainConfig

from .. import paths
from . import publish

RECOVERED = paths.RECOVERED
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_RULE = "1 to 64 characters, each a letter, digit, '-' or '_'"
OWNER_KEY = "saved_by"  # config.json: owner_tag() of the session that saved the model from the app

log = logging.getLogger(__name__)


class FinishedRun(Protocol):
    """A finished training job (job.TrainingJob): the model it may save and that model's config.json data."""

    def saveable_model(self) -> tuple[VAE, dict]:
        """(the model, its metadata); ValueError saying why there is none to save."""


IMAGES_DIR = "my-images"  # what the command text and config.json say for an uploaded folder of images


def recorded_config(cfg: TrainConfig) -> TrainConfig:
    """The run's settings as config.json records and the page shows them: an upload's folder on this server is
    named IMAGES_DIR (the folder of the student's own images), never by its server path."""
    return dataclasses.replace(cfg, data_dir=IMAGES_DIR) if cfg.dataset == FOLDER else cfg


def train_command(model_cfg: VAEConfig, cfg: TrainConfig) -> str:
    """The command line that trains the same model with the CLI (recorded in config.json, shown in the UI):
    generated from the settings' declarations (vae_core/settings.py), so it parses back to the same configs."""
    return settings.command(model_cfg, recorded_config(cfg))


class ModelExistsError(FileExistsError):
    """models/<name> exists and overwrite was not asked for."""


class NotYoursError(ValueError):
    """models/<name> was not saved by this session, which may therefore not replace or delete it."""

    def __init__(self, name: str):
        super().__init__(f"the model {name!r} was saved by another session (or outside this app), so only it may "
                         "replace or delete it; choose another name")


class SaveError(ValueError):
    """Writing the model failed (a full disk, a permission, ...); str(e) is the page's line."""


def validate_name(name: str) -> str:
    """The name, stripped, if it may name a folder in models/; else ValueError saying what is allowed."""
    name = (name or "").strip()
    if not NAME_RE.fullmatch(name):
        shown = repr(name) if name else "an empty name"
        raise ValueError(f"{shown} is not a valid model name: use {NAME_RULE} (e.g. my-vae_2).")
    if name.lower() == RECOVERED:
        raise ValueError(f"{name!r} is reserved for models saved after a lost session; choose another name.")
    if name.lower() == paths.CLASS_DIR:
        raise ValueError(f"{name!r} is reserved for the class store; choose another name.")
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
    replay: tuple[list, object] | None = None,
    owner: str | None = None,
    test_set: tuple | None = None,
) -> Path:
    """Save a trained model as a regular checkpoint folder models/<name>/ (config, metrics, training curves).

    result: a finished TrainingJob (everything is taken from it), a TrainResult (give train_cfg and data for
    the metadata) or a bare VAE (meta as given). replay: (latent snapshots, labels) written beside the model
    (vae_core.replay), part of the same save; test_set: a folder of images' test split (images, labels), kept
    with the model (vae_core.test_set). owner: the saving session's id, recorded (as owner_tag) in
    config.json's "saved_by"; with it, only a model that session saved may be replaced (NotYoursError
    otherwise). The name must match ^[A-Za-z0-9_-]{1,64}$ (ValueError
    otherwise); an existing model is replaced only with overwrite=True (ModelExistsError otherwise).
    pretrained/ is never written, nor anything through a link, nor over a folder that is not a checkpoint.
    The folder is written under a hidden name beside its target and renamed into place (publish.py): no reader
    sees it half-written, and of two saves of one name at once (in any process sharing the models folder) one
    wins, the other gets ModelExistsError. A model over vae_core.budget's limits is refused (BudgetError, a
    ValueError), the limits the loader applies: the app never saves a model it would then refuse to load.
    Any error while writing is a SaveError (a ValueError) in one line, and nothing of the save remains.
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
    exists = ModelExistsError(f"a model named {folder.name!r} already exists in models/; "
                              "confirm to replace it, or choose another name")
    if (folder.exists() or folder.is_symlink()) and not overwrite:
        raise exists
    if folder.exists() and not is_checkpoint_folder(folder):
        raise ValueError(f"models/{folder.name} holds other files, not a saved model, so it is not replaced; "
                         "choose another name")
    if owner is not None:
        if folder.exists() and not may_replace(folder.name, owner, models_root):
            raise NotYoursError(folder.name)
        meta = {**(meta or {}), OWNER_KEY: owner_tag(owner)}
    try:
        with publish.stage(folder.parent, folder.name) as staging:
            written = save_checkpoint(model, staging / folder.name, meta)
            if replay is not None and replay[0] and replay[1] is not None:
                write_replay(written, *replay)
            _write_test_set(written, test_set)
            try:
                if overwrite:
                    return publish.replace(written, folder, staging / "replaced")
                return publish.publish(written, folder)
            except publish.NameTakenError:  # another writer (thread, process, replica) got the name first
                raise exists from None
    except (ModelExistsError, ValueError):  # said in one line already
        raise
    except Exception as e:  # a full disk, a permission, the safetensors writer: one line, nothing left behind
        log.exception("saving the model %s failed", folder)
        raise SaveError(f"the model could not be written ({_why(e)}); nothing was saved, and this run is kept "
                        "so that you can try again") from e


def _why(e: Exception) -> str:
    """An error while writing, in a few words and without a server path."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    if isinstance(e, CheckpointError):
        return e.reason
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {paths.hide_paths(text)[:160]}" if text else type(e).__name__


def owner_tag(session_id: str) -> str:
    """What config.json records of the saving session: a hash, so that no session id is ever shown."""
    return hashlib.sha256(f"latent-explorer session {session_id}".encode()).hexdigest()[:32]


def saved_by(folder: Path) -> str | None:
    try:
        tag = read_config(folder).get(OWNER_KEY)
    except (CheckpointError, OSError):
        return None
    return tag if isinstance(tag, str) else None


def may_replace(name: str, owner: str, models_root: str | os.PathLike | None = None) -> bool:
    """Whether the session `owner` saved models/<name> (or there is no such model): only then may it replace
    or delete it. Models saved by the command line, recovered ones and the shipped ones are nobody's."""
    folder = user_model_path(name, models_root)
    return not folder.exists() or (is_checkpoint_folder(folder) and saved_by(folder) == owner_tag(owner))


def own_models(owner: str, models_root: str | os.PathLike | None = None) -> list[str]:
    """The names of the models in models/ that the session `owner` saved, sorted."""
    root, tag = Path(models_root or paths.models_dir()), owner_tag(owner)
    try:
        folders = [p for p in root.iterdir() if NAME_RE.fullmatch(p.name) and p.name.lower() != RECOVERED]
    except OSError:
        return []
    return sorted(p.name for p in folders if is_checkpoint_folder(p) and saved_by(p) == tag)


def delete_user_model(name: str, owner: str, models_root: str | os.PathLike | None = None) -> None:
    """Delete models/<name>, which the session `owner` saved (NotYoursError otherwise; ValueError when there is
    no such model). It leaves the listing at once (renamed to a hidden name), then its files go."""
    folder = user_model_path(name, models_root)
    _refuse_pretrained(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise ValueError(f"there is no model named {folder.name!r} in models/")
    if not may_replace(folder.name, owner, models_root):
        raise NotYoursError(folder.name)
    with publish.stage(folder.parent, folder.name) as staging:
        os.rename(folder, staging / "deleted")


def is_checkpoint(folder: str | os.PathLike) -> bool:
    folder = Path(folder)
    return (folder / CONFIG_NAME).is_file() and (folder / WEIGHTS_NAME).is_file()


def _write_test_set(folder: Path, test_set: tuple | None) -> None:
    if test_set is not None:
        write_test_set(folder, torch.as_tensor(test_set[0]), torch.as_tensor(test_set[1]))


def save_recovered(model: VAE, meta: dict, models_root: str | os.PathLike | None = None, *,
                   test_set: tuple | None = None) -> Path:
    """The last completed epoch of a run nobody watches any more, in models/_recovered/<time>/."""
    problem = paths.models_root_problem(models_root)
    if problem is not None:
        raise ValueError(problem)
    root = paths.recovered_dir(models_root)
    if root.is_symlink():  # the models root is the only place written: never through a link out of it
        raise ValueError("models/_recovered is a symbolic link; nothing is written through it")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    with publish.stage(root, stamp) as staging:
        written = save_checkpoint(model, staging / stamp, meta)
        _write_test_set(written, test_set)
        for i in itertools.count(1):
            try:
                return publish.publish(written, root / (stamp if i == 1 else f"{stamp}-{i}"))
            except publish.NameTakenError:
                continue
