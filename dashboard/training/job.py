"""A training as the Train page sees it: progress, Stop, heartbeat, outcome (no Streamlit, so unit-testable).

The training loop is vae_core.train.train(); it runs in a worker of its own (local_worker.py: a child process
of the server, or a Ray actor when RAY_ADDRESS is set, ray_worker.py), observed there through a vae_core
Callback whose messages (protocol.py) this module turns into what the page shows:

    Started         the total number of steps, and a snapshot of the untrained model ("epoch 0")
    Steps           loss / recon / KL of every step, a batch of them a few times a second
    EpochEnded      the epoch's test metrics, one latent snapshot (the posterior means of a fixed subset of 2,000
                    test images and 8 decoded prior samples) and the epoch's weights: what a stop keeps
    Done / Failed   the outcome; a worker that ends without one (killed, crashed, lost) is reported as such

Stop. stop() asks the worker to end after its current step; a worker that has not ended STOP_GRACE_S later (e.g.
in the end-of-epoch test evaluation of a large run) is killed. Either way the job ends within a second, keeping
the last completed epoch, whose weights it already holds.

Heartbeat rule. The page that started a job calls job.touch() each time it polls (about once a second).
If no poll arrives for `heartbeat_timeout` seconds (VAE_TRAIN_HEARTBEAT_S, default 90 s: long enough to
survive a browser throttling a background tab), the session is taken to be gone: the job stops at the next
step and the model of its last completed epoch is saved to models/_recovered/<timestamp>/ (nothing is saved
when no epoch had completed). Read-only watchers from other sessions do not touch, so they keep nothing alive.
The same happens to a running job when the server process exits (an atexit hook stops it and waits for it).

Outcomes. "completed" or "stopped": the last completed epoch's model can be saved (save.save_user_model);
"diverged": a plain message with advice, and nothing is saved.

Memory. A finished job lets go of its model (up to vae_core.budget.MAX_PARAMETERS floats) once nobody can want it:
saved, diverged or failed, or its page gone for VAE_TRAIN_KEEP_S seconds (default 600). The curves (bounded:
step_history.py) and latent snapshots stay for the replay until the registry forgets the job. Where the worker
runs and at what priority: local_worker.py and priority.py; who may watch, stop and save: registry.py and save.py.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import torch

from vae_core.callbacks import Callback, TrainResult
from vae_core.config import VAEConfig
from vae_core.data import CLASS_NAMES, Dataset
from vae_core.model import VAE
from vae_core.run_record import checkpoint_meta
from vae_core.step_history import StepHistory
from vae_core.train_config import TrainConfig

from .. import paths
from .backends import make_worker
from .env import heartbeat_timeout_default, train_nice_default
from .eta import EpochClock
from .local_worker import exit_reason
from .protocol import (
    SNAPSHOT_IMAGES,
    STOP_GRACE_S,
    Done,
    EpochEnded,
    Failed,
    LatentSnapshot,
    Message,
    Prepared,
    Started,
    Steps,
    WorkerSpec,
)
from .save import recorded_config, save_recovered, save_user_model, train_command
from .snapshot import JobSnapshot

UNATTENDED = ("heartbeat", "shutdown")  # stop reasons after which the last completed epoch goes to models/_recovered

log = logging.getLogger(__name__)


class TrainingJob:
    """One run of vae_core.train.train() in a worker of its own, observed through the messages it sends.

    start() launches it; snapshot() is what the UI draws; stop() ends it within a second; touch() is the UI's
    heartbeat (see the module docstring); save() writes models/<name>.
    """

    def __init__(
        self,
        model_cfg: VAEConfig,
        train_cfg: TrainConfig,
        *,
        session_id: str,
        data: Dataset | None = None,
        heartbeat_timeout: float | None = None,
        models_root: str | os.PathLike | None = None,
        snapshot_images: int = SNAPSHOT_IMAGES,
        job_id: str | None = None,
        callbacks: list[Callback] | tuple = (),
        stop_grace: float = STOP_GRACE_S,
    ):
        """data: a Dataset for the worker to use instead of loading train_cfg.dataset, and callbacks: more vae_core
        Callbacks for the worker's loop (both pickled to the worker; tests use them). stop_grace: seconds a stopped
        worker may take to end by itself before it is killed."""
        self.model_cfg, self.train_cfg = model_cfg, train_cfg
        self.session_id = session_id
        self.job_id = job_id or uuid.uuid4().hex[:12]
        self.heartbeat_timeout = float(heartbeat_timeout or heartbeat_timeout_default())
        self.nice = train_nice_default()
        self.models_root = Path(models_root) if models_root is not None else None
        self.snapshot_images = snapshot_images
        self.data = data
        self.extra_callbacks = list(callbacks)
        self.stop_grace = stop_grace
        self.result: TrainResult | None = None
        self.created = time.time()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._stop = threading.Event()
        self._worker = None  # local_worker.WorkerProcess or ray_worker.RayWorker
        self._last_touch = time.monotonic()
        self._state, self._message, self._stop_reason = "starting", "", None
        self._epoch = self._epochs_completed = self._step = self._total_steps = 0
        self._elapsed, self._t0 = 0.0, None
        self._clock = EpochClock(epochs=train_cfg.epochs)  # the time left, from the completed epochs' pace
        self._steps = StepHistory()  # bounded however long the run: its curves as the page draws them
        self._epoch_metrics: list[dict] = []
        self._latents: list[LatentSnapshot] = []
        self._labels: np.ndarray | None = None
        self._data_info: dict | None = None  # config.json's "data" section, as the worker read the dataset
        self._test_set: tuple | None = None  # a folder of images: its test split, kept with the saved model
        self._weights: dict | None = None  # {name: array} of the last completed epoch: what a stop or crash keeps
        self._outcome: Done | Failed | None = None  # the worker's last message
        self._recovered_to: str | None = None
        self._saved_to: str | None = None
        self._released: str | None = None

    # --- control -----------------------------------------------------------------------------

    def start(self) -> TrainingJob:
        if self._worker is not None:
            raise RuntimeError("this job has already been started")
        self.touch()
        spec = WorkerSpec(self.model_cfg, self.train_cfg, nice=self.nice, snapshot_images=self.snapshot_images,
                          data=self.data, callbacks=tuple(self.extra_callbacks))
        self._worker = make_worker(spec, self._on_message, self._on_exit).start()
        threading.Thread(target=self._watch_heartbeat, name=f"vae-train-heartbeat-{self.job_id}", daemon=True).start()
        return self

    def stop(self, reason: str = "user") -> None:
        """End the run within a second (see the module docstring). reason: "user" (the Stop button), "heartbeat"
        (the page went away) or "shutdown" (the server is exiting)."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
        self._stop.set()
        if self._worker is not None:
            self._worker.request_stop(self.stop_grace)

    def touch(self) -> None:
        """The owner's heartbeat: call on every poll of the page."""
        self._last_touch = time.monotonic()

    def seconds_since_touch(self) -> float:
        return time.monotonic() - self._last_touch

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (True) or the timeout passed (False)."""
        return self._finished.wait(timeout)

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._finished.is_set()

    @property
    def stopping(self) -> bool:
        """A stop was asked for and the run has not ended yet (the page says "stopping…")."""
        return self._stop.is_set() and not self._finished.is_set()

    def _watch_heartbeat(self) -> None:
        while not self._finished.wait(0.25):
            if not self._stop.is_set() and self.seconds_since_touch() > self.heartbeat_timeout:
                self.stop("heartbeat")

    # --- what the worker says -----------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        with self._lock:
            if isinstance(msg, Prepared):
                self._data_info, self._labels, self._test_set = msg.data_section, msg.labels, msg.test_set
            elif isinstance(msg, Started):
                self._total_steps, self._state, self._t0 = msg.total_steps, "running", time.perf_counter()
                self._clock.start(msg.total_steps)
                self._latents.append(msg.snapshot)
            elif isinstance(msg, Steps):
                for row in msg.rows:
                    self._steps.add(row.step, row.epoch, row.loss, row.recon, row.kl)
                    self._step, self._epoch, self._elapsed = row.step, row.epoch, row.elapsed
                    self._clock.step(row.step, row.elapsed)
            elif isinstance(msg, EpochEnded):
                self._epoch_metrics.append(msg.metrics)
                self._epochs_completed, self._elapsed = msg.metrics["epoch"], msg.metrics["elapsed"]
                self._clock.epoch_end(msg.metrics["step"], msg.metrics["elapsed"])
                self._latents.append(msg.snapshot)
                self._weights = msg.weights
            elif isinstance(msg, (Done, Failed)):
                self._outcome = msg

    def _model(self, weights: dict) -> VAE:
        model = VAE(self.model_cfg)
        model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})  # a copy: the arrays came read-only
        return model.eval()

    def _on_exit(self, exitcode: int | None, said_done: bool) -> None:
        """The worker is gone: turn what it said (or that it said nothing) into the job's outcome."""
        try:
            outcome = self._outcome
            if isinstance(outcome, Done):
                self._finish(TrainResult(self._model(outcome.weights), outcome.status, outcome.message,
                                         outcome.epochs_completed, outcome.history, outcome.seconds,
                                         outcome.precision))
                return
            if outcome is not None:  # the worker said why it failed
                why = outcome.message
                log.warning("job %s: %s", self.job_id, why)
                why = paths.hide_paths(why)
            elif self._stop_reason is not None:  # killed by our own Stop (it did not end within the grace period)
                why = None
            else:
                why = getattr(self._worker, "lost", None)
                why = (f"the Ray worker running it was lost ({why}: a node went away or the actor was killed)" if why
                       else exit_reason(exitcode))
                log.warning("job %s: %s", self.job_id, why)
            if why is not None and self._epochs_completed == 0:
                self._fail(f"Training failed: {why.rstrip('.')}.")
                return
            with self._lock:
                history = {"steps": self._steps.rows(),
                           "epochs": list(self._epoch_metrics)}
            if why is not None:
                with self._lock:
                    self._stop_reason = self._stop_reason or "crash"
                message = f"{why}, during epoch {self._epoch}"
            else:
                message = f"stopped by request during epoch {self._epoch}"
            model = self._model(self._weights) if self._weights is not None else VAE(self.model_cfg).eval()
            self._finish(TrainResult(model, "stopped", message, self._epochs_completed, history, self._elapsed,
                                     "fp32"), crashed=why is not None)
        except Exception:  # whatever went wrong here, the job must end and say so
            log.exception("job %s: could not take in the worker's end", self.job_id)
            self._fail("training failed; the details are in the server log")
        finally:
            self._finished.set()

    def _finish(self, result: TrainResult, crashed: bool = False) -> None:
        self.result = result
        recovered, lost = None, None
        if result.status == "stopped" and self._stop_reason in UNATTENDED and result.epochs_completed > 0:
            try:
                recovered = str(save_recovered(result.model, self._meta(result), self.models_root,
                                               test_set=self._test_set))
            except Exception as e:  # the run itself went well: say the model could not be kept, and why
                log.exception("job %s: saving the recovered model failed", self.job_id)
                lost = str(e) if isinstance(e, ValueError) else f"{type(e).__name__} while writing it"
        with self._lock:
            self._state = result.status
            self._elapsed = result.seconds
            self._recovered_to = recovered
            self._message = self._outcome_message(result, recovered, crashed)
            if lost:
                self._message += f" It could not be kept: {lost}"
        if recovered:
            self._release("saved")
        elif result.status == "diverged":
            self._release("diverged")

    def _fail(self, message: str) -> None:
        with self._lock:
            self._state, self._message = "error", message

    def _outcome_message(self, result: TrainResult, recovered: str | None, crashed: bool = False) -> str:
        if result.status == "completed":
            last = result.history["epochs"][-1] if result.history["epochs"] else {}
            loss = f"; test loss {last['test_loss']:.1f} nats per image" if "test_loss" in last else ""
            return f"Trained {result.epochs_completed} epochs in {result.seconds:.0f} s{loss}."
        if result.status == "diverged":
            return (
                f"Training diverged: {result.message}. The loss became NaN or infinite, so nothing was saved. "
                f"Try a learning rate 3 to 10 times lower, the one-cycle schedule (it warms up gently), "
                f"or a larger batch size."
            )
        kept = (f"The model of epoch {result.epochs_completed} is kept" if result.epochs_completed
                else "No epoch had completed, so there is no model to keep")
        where = f" and was saved as recovered/{Path(recovered).name}" if recovered else ""
        if crashed:
            return f"Training ended early: {result.message}. {kept}{where}."
        # the library's message has brackets of its own ("at step 120 (epoch 9)"): after a colon, not in brackets
        if self._stop_reason == "heartbeat":
            return (f"Training stopped because the page stopped polling for {self.heartbeat_timeout:.0f} s: "
                    f"{result.message}. {kept}{where}.")
        if self._stop_reason == "shutdown":
            return f"Training stopped because the server is shutting down: {result.message}. {kept}{where}."
        return f"Training stopped: {result.message}. {kept}."

    def _meta(self, result: TrainResult) -> dict:
        cmd = train_command(self.model_cfg, self.train_cfg)
        return checkpoint_meta(self.model_cfg, recorded_config(self.train_cfg), result, self._data_info,
                               f"{cmd}  # from the dashboard")

    # --- reading -----------------------------------------------------------------------------

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            step, total = self._step, self._total_steps
            elapsed = self._elapsed if self.done or self._t0 is None else time.perf_counter() - self._t0
            running = step > 0 and total and not self.done
            eta = self._clock.eta() if running else None
            steps = self._steps.columns()  # at most StepHistory's MAX_POINTS + 1 points, whatever the run's length
            return JobSnapshot(
                job_id=self.job_id, session_id=self.session_id, state=self._state, message=self._message,
                stop_reason=self._stop_reason, epoch=self._epoch, epochs=self.train_cfg.epochs,
                epochs_completed=self._epochs_completed, step=step, total_steps=total, elapsed=elapsed,
                eta=eta, steps=steps, epoch_metrics=list(self._epoch_metrics), latents=list(self._latents),
                labels=self._labels, class_names=self._class_names(),
                dataset=self.train_cfg.dataset, model_cfg=self.model_cfg, train_cfg=self.train_cfg,
                recovered_to=self._recovered_to, saved_to=self._saved_to, released=self._released,
                steps_stride=self._steps.stride, slowdown=self._clock.slowdown() if running else 1.0,
            )

    def _class_names(self) -> tuple[str, ...]:
        """The legend's names: a folder of images' own classes (its subfolders), else the dataset's."""
        classes = (self._data_info or {}).get("classes")
        return tuple(classes) if classes else CLASS_NAMES.get(self.train_cfg.dataset, ())

    # --- memory ------------------------------------------------------------------------------

    def release_model(self, why: str) -> bool:
        """Let go of the trained model (the snapshots for the replay stay). Only a finished job's; True if
        this call released it."""
        if not self.done:
            return False
        return self._release(why)

    def _release(self, why: str) -> bool:
        with self._lock:
            if self._released is not None:
                return False
            self._released = why
            if self.result is not None:
                self.result.model = None
        return True

    # --- saving ------------------------------------------------------------------------------

    def saveable_model(self) -> tuple[VAE, dict]:
        """(the model, its config.json metadata) of a finished run that may be saved; ValueError saying why not."""
        if self.result is None:
            raise ValueError("the training job has not finished; there is no model to save yet")
        if self.result.status == "diverged":
            raise ValueError("training diverged; a diverged run is not saved (train again with a lower learning rate)")
        if self.result.epochs_completed < 1:
            raise ValueError("no epoch was completed; there is no trained model to save")
        if self.result.model is None:
            raise ValueError("this run's model is no longer held (it was saved, or its page was away too long); "
                             "train it again to save it under another name")
        return self.result.model, self._meta(self.result)

    def save(self, name: str, overwrite: bool = False) -> Path:
        """Save the finished job's model as models/<name> with its replay (see save_user_model), then let go of it.
        On an error nothing is written and the model is kept, to try again."""
        with self._lock:
            replay = (list(self._latents), self._labels)
        folder = save_user_model(self, name, overwrite=overwrite, models_root=self.models_root, replay=replay,
                                 owner=self.session_id, test_set=self._test_set)
        with self._lock:
            self._saved_to = str(folder)
        self.release_model("saved")
        return folder
