"""A checkpoint is a folder that describes itself:

    config.json        what the model is (VAEConfig), how it was trained, on which data, its metrics
    model.safetensors  the weights; safetensors holds only tensors, so loading runs no code (no pickle)

Loading checks the tensors against the config and refuses anything else with a CheckpointError.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import VAEConfig
from .model import VAE

FORMAT = "latent-explorer-vae"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # config plus training curves; anything larger is not ours
MAX_WEIGHTS_BYTES = 512 * 1024 * 1024


class CheckpointError(RuntimeError):
    """A checkpoint folder that cannot be used.

    str(e) is "where: reason" for the command lines; `.reason` is the same line without any path, what the
    dashboard shows a student (a server's paths are not theirs to see).
    """

    def __init__(self, reason: str, where: str | os.PathLike | None = None):
        self.reason = reason
        self.where = None if where is None else str(where)
        super().__init__(reason if where is None else f"{where}: {reason}")


def is_checkpoint_folder(path: str | os.PathLike) -> bool:
    """An existing folder holding only what save_checkpoint writes: config.json and/or model.safetensors.

    The test before anything overwrites a folder: a folder with anything else in it (saved models, a
    student's files) is not ours to replace, and neither is a file.
    """
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        names = {p.name for p in path.iterdir()}
    except OSError:
        return False
    return bool(names) and names <= {CONFIG_NAME, WEIGHTS_NAME} and all(
        (path / n).is_file() and not (path / n).is_symlink() for n in names)


def save_checkpoint(model: VAE, folder: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write model + config into `folder` atomically: a sibling temp folder is filled, then swapped in.

    A reader never sees a half-written checkpoint; if writing fails, the previous one stays.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    config = {**(meta or {}), "format": FORMAT, "format_version": FORMAT_VERSION, "model": model.cfg.to_dict()}
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_NAME), metadata={"format": FORMAT})
        (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=1, allow_nan=False) + "\n")
        # mkdtemp makes a private folder; a checkpoint is an ordinary shareable folder.
        os.chmod(tmp, 0o755)
        for f in tmp.iterdir():
            os.chmod(f, 0o644)
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def read_config(folder: str | os.PathLike) -> dict:
    """The parsed config.json of a checkpoint folder, validated as ours."""
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not folder.is_dir():
        raise CheckpointError("not a checkpoint folder (it does not exist or is not a folder)", folder)
    if not path.is_file():
        raise CheckpointError(f"no {CONFIG_NAME}; a checkpoint folder holds {CONFIG_NAME} and {WEIGHTS_NAME}", folder)
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise CheckpointError("too large to be a checkpoint config", path)
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"not valid JSON ({e})", path) from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"not a latent-explorer checkpoint (format is {config.get('format') if isinstance(config, dict) else None!r})", path)
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"format version {config.get('format_version')!r} is not supported (expected {FORMAT_VERSION})", path)
    try:
        VAEConfig.from_dict(config["model"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"invalid model config ({e})", path) from None
    return config


def load_checkpoint(folder: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[VAE, dict]:
    """(model in eval mode, config dict). Raises CheckpointError for anything that is not a sound checkpoint."""
    folder = Path(folder)
    config = read_config(folder)
    cfg = VAEConfig.from_dict(config["model"])
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"no {WEIGHTS_NAME}", folder)
    if weights.stat().st_size > MAX_WEIGHTS_BYTES:
        raise CheckpointError("too large for this model", weights)
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"not a readable safetensors file ({e})", weights) from None
    model = VAE(cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
        raise CheckpointError(
            "tensors do not match the config "
            f"(missing {missing[:3]}, unexpected {extra[:3]}, wrong shape {wrong[:3]})", weights)
    for k, v in state.items():
        if not v.is_floating_point():
            raise CheckpointError(f"tensor {k} is {v.dtype}, expected floating point", weights)
        if not torch.isfinite(v).all():
            raise CheckpointError(f"tensor {k} holds NaN or infinite values", weights)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.to(device).eval(), config


def metric(config: dict, key: str, default: float = math.nan) -> float:
    """A stored metric, e.g. metric(cfg, 'test_loss'); NaN when the checkpoint has none."""
    value = config.get("metrics", {}).get(key, default)
    return float(value) if isinstance(value, (int, float)) else default
