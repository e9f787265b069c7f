"""What the training loop tells its observers: step and epoch metrics, the Callback interface, the result."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import VAE


@dataclass
class StepMetrics:
    step: int  # 1-based, over the whole run
    total_steps: int
    epoch: int  # 1-based
    loss: float  # mean over the batch of recon + beta * KL, nats per image
    recon: float
    kl: float
    lr: float
    elapsed: float  # seconds since the start of training


@dataclass
class EpochMetrics:
    epoch: int
    epochs: int
    step: int
    train_loss: float  # mean over the epoch's batches
    test_loss: float  # mean over the test set of recon + KL (one z sample), nats per image
    test_recon: float
    test_kl: float
    elapsed: float


class Callback:
    """Override what you need. `should_stop` is asked after every step."""

    def on_train_start(self, total_steps: int, model: VAE) -> None: ...
    def on_step(self, m: StepMetrics) -> None: ...
    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None: ...
    def should_stop(self) -> bool:
        return False


@dataclass
class TrainResult:
    model: VAE  # weights after the last completed epoch (or the last step if no epoch completed)
    status: str  # "completed", "stopped" or "diverged"
    message: str
    epochs_completed: int
    # {"steps": [...], "epochs": [...]} as plain dicts; steps: every step, or on long runs block means (step_history)
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    precision: str = "fp32"  # what the matrix products ran in: "fp32" or "bf16"
