"""What config.json records of a run besides the model config: data, training, metrics, history, versions."""

from __future__ import annotations

import datetime as dt
import math
import platform
from dataclasses import asdict

import torch

from .callbacks import TrainResult
from .config import VAEConfig
from .data import Dataset
from .train_config import TrainConfig


def data_section(data: Dataset, limit: int | None) -> dict:
    """config.json's "data": the dataset, its files' SHA-256, and how many training images the run used; for a
    folder of images, its classes and test split instead of the files' SHA-256 (Dataset.info)."""
    n = len(data.train_images)
    files = {"sha256": data.sha256} if data.sha256 else {}
    return {"dataset": data.name, **files, "n_train": min(limit or n, n), **data.info}


def checkpoint_meta(model_cfg: VAEConfig, cfg: TrainConfig, result: TrainResult, data: Dataset | dict,
                    command: str) -> dict:
    """Everything config.json records besides the model config. data: the Dataset, or its data_section() (what a
    process that trained elsewhere, e.g. the app's training worker, was told of it)."""
    last = result.history["epochs"][-1] if result.history["epochs"] else {}
    return {
        "data": data if isinstance(data, dict) else data_section(data, cfg.limit),
        "training": {**asdict(cfg), "epochs_completed": result.epochs_completed, "status": result.status,
                     "seconds": round(result.seconds, 2), "matmul_precision": result.precision},
        "metrics": {k: last[k] for k in ("test_loss", "test_recon", "test_kl") if k in last},
        "history": compact_history(result.history),
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
    }


COLUMNS = ("step", "epoch", "loss", "recon", "kl")
AVERAGED = ("loss", "recon", "kl")


def compact_history(history: dict, max_points: int = 1000) -> dict:
    """Training curves for config.json: per-epoch rows, and per-step columns of <= max_points points, each the
    mean of an equal block of consecutive rows (step and epoch: the block's last), so a long run's curve keeps
    its shape instead of the noise of single steps picked from it."""
    rows = history["steps"]
    k = max(1, math.ceil(len(rows) / max_points))
    blocks = [rows[i : i + k] for i in range(0, len(rows), k)]
    steps = {key: [_block_value(b, key) for b in blocks] for key in COLUMNS}
    return {
        "epochs": [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()} for e in history["epochs"]],
        "steps": {key: [round(v, 4) if isinstance(v, float) else v for v in values] for key, values in steps.items()},
    }


def _block_value(block: list[dict], key: str):
    if key in AVERAGED and len(block) > 1:
        return sum(row[key] for row in block) / len(block)
    return block[-1][key]
