"""One training as any worker runs it (a child process, local_worker.py, or a Ray actor, ray_worker.py):
vae_core.train.train() observed by a Callback that sends the protocol's messages (protocol.py)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import numpy as np
import torch

from vae_core.callbacks import Callback
from vae_core.data import DatasetError
from vae_core.hardware import available_cpus
from vae_core.image_folder import FOLDER
from vae_core.recorder import LatentRecorder
from vae_core.run_record import data_section
from vae_core.step_history import StepHistory
from vae_core.train import load_run_data, train

from .protocol import (
    STEP_BATCH_S,
    Done,
    EpochEnded,
    Failed,
    LatentSnapshot,
    Message,
    Prepared,
    Started,
    StepRow,
    Steps,
    WorkerSpec,
)

Send = Callable[[Message], None]


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.detach().to("cpu").float().numpy().copy() for k, v in model.state_dict().items()}


class _Reporter(Callback):
    """The worker's vae_core Callback: sends what the page shows; asks the shared stop event after every step.

    Step metrics are sent in batches, every STEP_BATCH_S, by a thread of their own: the page sees a step within
    that time even when the next step is slow to come (a large batch, or a test holding the loop)."""

    def __init__(self, send: Send, stop_event, snapshot: Callable):
        self._send, self.stop_event, self.snapshot = send, stop_event, snapshot
        self.rows: list[StepRow] = []
        self.history = StepHistory()  # what Done carries: bounded, not vae_core's row of every step
        self._lock = threading.Lock()  # one message at a time on the pipe, from the loop or the ticker
        self._closed = threading.Event()
        threading.Thread(target=self._tick, name="vae-train-steps", daemon=True).start()

    def send(self, msg: Message) -> None:
        with self._lock:
            self._send(msg)

    def _flush(self) -> None:
        with self._lock:
            if self.rows:
                rows, self.rows = self.rows, []
                self._send(Steps(rows))

    def _tick(self) -> None:
        while not self._closed.wait(STEP_BATCH_S):
            self._flush()

    def close(self) -> None:
        self._closed.set()
        self._flush()

    def on_train_start(self, total_steps: int, model) -> None:
        self.send(Started(total_steps, self.snapshot(model, 0)))

    def on_step(self, m) -> None:
        with self._lock:
            self.rows.append(StepRow(m.step, m.epoch, m.loss, m.recon, m.kl, m.elapsed))
        self.history.add(m.step, m.epoch, m.loss, m.recon, m.kl)

    def on_epoch_end(self, m, model) -> None:
        self._flush()
        self.send(EpochEnded(dict(m.__dict__), self.snapshot(model, m.epoch), _weights(model)))

    def should_stop(self) -> bool:
        return self.stop_event.is_set()


def run_training(spec: WorkerSpec, send: Send, stop_event) -> None:
    """Train as `spec` says, sending every message through `send`; ends with one Done or Failed."""
    try:
        cfg = spec.train_cfg
        if cfg.threads is None and spec.threads is not None:  # the run's own setting, if any, wins
            cfg = dataclasses.replace(cfg, threads=spec.threads)
        torch.set_num_threads(cfg.threads or available_cpus())
        try:
            data = spec.data or load_run_data(cfg)
        except DatasetError as e:
            send(Failed(str(e)))
            return
        recorder = LatentRecorder(data.test_images, data.test_labels, spec.model_cfg.latent_dim,
                                  n_points=spec.snapshot_images)
        test_set = (data.test_images.numpy(), data.test_labels.numpy()) if data.name == FOLDER else None
        send(Prepared(data_section(data, cfg.limit), recorder.labels, test_set))

        def snapshot(model, epoch: int) -> LatentSnapshot:
            recorder.record(model, epoch)
            return recorder.frames[-1]

        reporter = _Reporter(send, stop_event, snapshot)
        try:
            result = train(spec.model_cfg, cfg, [reporter, *spec.callbacks], data)
        finally:
            reporter.close()
        history = {"steps": reporter.history.rows(), "epochs": result.history["epochs"]}
        del result.history["steps"]  # every step's row: not kept, nor pickled to the parent
        send(Done(result.status, result.message, result.epochs_completed, history, result.seconds,
                  result.precision, _weights(result.model)))
    except BaseException as e:  # noqa: BLE001  (the parent must hear why, whatever it was)
        try:
            send(Failed(f"{type(e).__name__}: {e}"))
        except Exception:
            pass
