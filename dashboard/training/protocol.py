"""What a training worker and the job that started it say to each other (no Streamlit, no PyTorch needed).

    WorkerSpec    job -> worker: everything the worker needs, picklable
    Prepared      the data: config.json's "data" section, the labels of the plotted test subset, and for a
                  folder of images its test split (kept with the saved model)
    Started       the total number of steps and the untrained model's latent snapshot ("epoch 0")
    Steps         step metrics (StepRow each), a batch every STEP_BATCH_S
    EpochEnded    each completed epoch: its metrics, its latent snapshot and its weights
    Done          the outcome of a run that ended by itself or by a stop
    Failed        anything the worker could not survive

Each worker sends Prepared, Started, then Steps and EpochEnded, and ends with one Done or Failed. The messages
are pickled between our own processes (a pipe, or Ray); weights travel as {name: float32 numpy array}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from vae_core.replay import Frame

STEP_BATCH_S = 0.2  # seconds between two batches of step metrics: the page polls once a second
STOP_GRACE_S = 0.6  # after a stop request, how long the worker may take to end by itself before it is killed
SNAPSHOT_IMAGES = 2000  # test images whose posterior means are plotted after every epoch

# One latent snapshot: an epoch's posterior means of the fixed test subset and its decoded prior samples, as
# vae_core.recorder.LatentRecorder takes them for the command line's replay (the same subset, seed and sizes); for
# d > 2 the means on that epoch's PCA plane, aligned to the previous snapshot's, with the plane's axes.
LatentSnapshot = Frame
Weights = dict  # {parameter name: float32 numpy array}


@dataclass(frozen=True)
class WorkerSpec:
    """Everything the worker needs, picklable: the configs, where the data is, and how to behave."""

    model_cfg: object  # vae_core.config.VAEConfig
    train_cfg: object  # vae_core.train_config.TrainConfig
    nice: int = 0
    threads: int | None = None  # torch intra-op threads unless the run sets them; None: every core it may use
    snapshot_images: int = SNAPSHOT_IMAGES
    data: object | None = None  # a vae_core Dataset to use instead of loading train_cfg.dataset (tests)
    callbacks: tuple = ()  # more vae_core Callbacks for the worker's loop (picklable; tests use them)


class StepRow(NamedTuple):
    step: int
    epoch: int
    loss: float
    recon: float
    kl: float
    elapsed: float


@dataclass(frozen=True)
class Prepared:
    data_section: dict
    labels: np.ndarray
    test_set: tuple | None = None  # a folder of images: (uint8 [N, 28, 28], labels [N]) of its test split


@dataclass(frozen=True)
class Started:
    total_steps: int
    snapshot: LatentSnapshot


@dataclass(frozen=True)
class Steps:
    rows: list  # StepRow each


@dataclass(frozen=True)
class EpochEnded:
    metrics: dict  # vae_core.callbacks.EpochMetrics as a dict
    snapshot: LatentSnapshot
    weights: Weights


@dataclass(frozen=True)
class Done:
    status: str  # "completed", "stopped" or "diverged"
    message: str
    epochs_completed: int
    history: dict
    seconds: float
    precision: str
    weights: Weights


@dataclass(frozen=True)
class Failed:
    message: str


Message = Prepared | Started | Steps | EpochEnded | Done | Failed
FINAL = (Done, Failed)  # a worker's last message
