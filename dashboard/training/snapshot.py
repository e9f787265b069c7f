"""A training job's state as the page reads it: one consistent copy, safe to read while training goes on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae_core.config import VAEConfig
from vae_core.train_config import TrainConfig


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state, safe to read while training goes on."""

    job_id: str
    session_id: str
    state: str  # "starting", "running", then "completed", "stopped", "diverged" or "error"
    message: str
    stop_reason: str | None  # "user" or "heartbeat" once a stop was asked for
    epoch: int  # epoch in progress (or last one)
    epochs: int
    epochs_completed: int
    step: int
    total_steps: int
    elapsed: float  # seconds since training started (loading data excluded)
    eta: float | None  # seconds left (training/eta.py), None until there is a pace
    steps: dict  # {"step": [...], "loss": [...], ...}: every step, or on long runs block means (step_history.py)
    epoch_metrics: list  # EpochMetrics as dicts, one per completed epoch
    latents: list  # LatentSnapshot, epoch 0 first
    labels: np.ndarray | None  # int64 [N] labels of the snapshot subset
    class_names: tuple
    dataset: str
    model_cfg: VAEConfig
    train_cfg: TrainConfig
    recovered_to: str | None  # folder of the heartbeat save, if one was made
    saved_to: str | None  # the last folder save() wrote
    steps_stride: int = 1  # steps per point of `steps` (1 until a long run's history is merged)
    released: str | None = None  # why the model is no longer held ("saved", "abandoned", ...), None while it is
    slowdown: float = 1.0  # the current epoch's pace against the fastest completed epoch's (training/eta.py)

    @property
    def done(self) -> bool:
        return self.state in ("completed", "stopped", "diverged", "error")

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def can_save(self) -> bool:
        return self.state in ("completed", "stopped") and self.epochs_completed > 0 and self.released is None
