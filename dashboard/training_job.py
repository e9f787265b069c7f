"""Training in the background for the dashboard's Train tab (no Streamlit in here, so it is unit-testable).

The training loop is vae_core.train.train(); it runs in a worker of its own (dashboard/training_worker.py: a
child process of the server, or a Ray actor when RAY_ADDRESS is set, dashboard/training_ray.py), observed there
through a vae_core Callback whose messages this module turns into what the page shows:

    start           the total number of steps, and a snapshot of the untrained model ("epoch 0")
    steps           loss / recon / KL of every step, a batch of them a few times a second
    epoch           the epoch's test metrics, one latent snapshot (the posterior means of a fixed subset of 2,000
                    test images and 8 decoded prior samples) and the epoch's weights: what a stop keeps
    done / error    the outcome; a worker that ends without one (killed, crashed, lost) is reported as such

Stop. stop() asks the worker to end after its current step; a worker that has not ended STOP_GRACE_S later (e.g.
in the end-of-epoch test evaluation of a large run) is killed. Either way the job ends within a second, keeping
the last completed epoch, whose weights it already holds.

Heartbeat rule. The page that started a job calls job.touch() each time it polls (about once a second).
If no poll arrives for `heartbeat_timeout` seconds (VAE_TRAIN_HEARTBEAT_S, default 90 s: long enough to
survive a browser throttling a background tab), the session is taken to be gone: the job stops at the next
step and the model of its last completed epoch is saved to models/_recovered/<timestamp>/ (nothing is saved
when no epoch had completed). Read-only watchers from other sessions do not touch, so they keep nothing alive.
The same happens to a running job when the server process exits (an atexit hook stops it and waits for it).

Priority. The worker runs at nice VAE_TRAIN_NICE (Linux; at 19, the default, also SCHED_IDLE), and so do the
OpenMP threads it starts, on every core but one (VAE_TRAIN_THREADS, training_worker.local_threads): the core
left is the web server's (at nice 19 the worker is also kept off it: training_worker.keep_first_core_free), and
the worker yields the others to the students' requests. The forkserver that forks the workers takes the same
niceness before it imports PyTorch (forkserver_start.py), so no part of a training starts at the server's priority. In a process of its own
it no longer holds the server's GIL, so the students' runs do not queue behind it (docs/benchmarks.md has the
class's figures with a training running).

Jobs and sessions. A JobRegistry (one per process, `registry()`) starts jobs and limits how many run at once
(VAE_MAX_TRAINING_JOBS, default 1 per machine: training takes every core the server can spare). Each job belongs to the session
id that started it; other sessions may watch a running job read-only but cannot stop or save it, and a job's
model is never swapped into what another session explores: a model reaches the Explore tab only after it is
saved and picked in that session's own model list.

Outcomes. status "completed" or "stopped": the model (weights of the last completed epoch) can be saved with
save_user_model() into models/<name>/. "diverged": a plain message with advice, and nothing is saved.

Memory. A finished job lets go of its model (the weights, up to vae_core.budget.MAX_PARAMETERS floats) as soon
as nobody can want it any more: once it is saved (by the user, or to models/_recovered/), when the run
diverged or failed, and when its page has not come back for VAE_TRAIN_KEEP_S seconds (default 600: the
Train tab touches a finished job on every visit and every 30 s while it stays open). The curves and latent
snapshots stay, for the replay, until the registry forgets the job.

Where models go: models/ in the repository (git-ignored), or LATENT_EXPLORER_MODELS_DIR when set (see
dashboard/paths.py, which the model picker reads too). pretrained/ is never written.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import math
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vae_core.budget import check_budget
from vae_core.checkpoint import CONFIG_NAME, WEIGHTS_NAME, save_checkpoint
from vae_core.config import VAEConfig
from vae_core.data import CLASS_NAMES, Dataset
from vae_core.model import VAE
from vae_core import settings
from vae_core.train import Callback, TrainConfig, TrainResult, checkpoint_meta

from . import paths
from .worker_nice import train_nice_default
from .training_worker import (  # noqa: F401  (LatentSnapshot: what JobSnapshot.latents hold)
    SNAPSHOT_IMAGES, STOP_GRACE_S, LatentSnapshot, WorkerSpec, exit_reason, make_worker,
)

RECOVERED = paths.RECOVERED
UNATTENDED = ("heartbeat", "shutdown")  # stop reasons after which the last completed epoch goes to RECOVERED
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_RULE = "1 to 64 characters, each a letter, digit, '-' or '_'"
DEFAULT_HEARTBEAT_S = 90.0
DEFAULT_KEEP_S = 600.0  # a finished, unsaved job keeps its model this long after its page last came (VAE_TRAIN_KEEP_S)
EXIT_WAIT_S = 15.0  # at most this long, at exit, for a stopped job to end its step and save


def heartbeat_timeout_default() -> float:
    try:
        value = float(os.environ.get("VAE_TRAIN_HEARTBEAT_S", DEFAULT_HEARTBEAT_S))
    except ValueError:
        return DEFAULT_HEARTBEAT_S
    return value if value > 0 else DEFAULT_HEARTBEAT_S


log = logging.getLogger(__name__)


def keep_unsaved_default() -> float:
    try:
        value = float(os.environ.get("VAE_TRAIN_KEEP_S", DEFAULT_KEEP_S))
    except ValueError:
        return DEFAULT_KEEP_S
    return value if value > 0 else DEFAULT_KEEP_S


def max_jobs_default() -> int:
    try:
        return max(1, int(os.environ.get("VAE_MAX_TRAINING_JOBS", "1")))
    except ValueError:
        return 1


# --- what the UI reads ------------------------------------------------------------------------


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
    eta: float | None  # seconds left, None until a step has run
    steps: dict  # {"step": [...], "loss": [...], "recon": [...], "kl": [...]} one entry per step
    epoch_metrics: list  # EpochMetrics as dicts, one per completed epoch
    latents: list  # LatentSnapshot, epoch 0 first
    labels: np.ndarray | None  # int64 [N] labels of the snapshot subset
    class_names: tuple
    dataset: str
    model_cfg: VAEConfig
    train_cfg: TrainConfig
    recovered_to: str | None  # folder of the heartbeat save, if one was made
    saved_to: str | None  # the last folder save() wrote
    released: str | None = None  # why the model is no longer held ("saved", "abandoned", ...), None while it is

    @property
    def done(self) -> bool:
        return self.state in ("completed", "stopped", "diverged", "error")

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def can_save(self) -> bool:
        return self.state in ("completed", "stopped") and self.epochs_completed > 0 and self.released is None


# --- the job ----------------------------------------------------------------------------------


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
        self._worker = None  # training_worker.WorkerProcess or training_ray.RayWorker
        self._last_touch = time.monotonic()
        self._state, self._message, self._stop_reason = "starting", "", None
        self._epoch = self._epochs_completed = self._step = self._total_steps = 0
        self._elapsed, self._t0 = 0.0, None
        self._steps: dict[str, list] = {"step": [], "epoch": [], "loss": [], "recon": [], "kl": []}
        self._epoch_metrics: list[dict] = []
        self._latents: list[LatentSnapshot] = []
        self._labels: np.ndarray | None = None
        self._data_info: dict | None = None  # config.json's "data" section, as the worker read the dataset
        self._weights: dict | None = None  # {name: array} of the last completed epoch: what a stop or crash keeps
        self._outcome: tuple | None = None  # the worker's "done" or "error" message
        self._recovered_to: str | None = None
        self._saved_to: str | None = None
        self._released: str | None = None

    # --- control -----------------------------------------------------------------------------

    def start(self) -> "TrainingJob":
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

    def _on_message(self, msg: tuple) -> None:
        kind = msg[0]
        with self._lock:
            if kind == "prepared":
                self._data_info, self._labels = msg[1], msg[2]
            elif kind == "start":
                self._total_steps, self._state, self._t0 = msg[1], "running", time.perf_counter()
                self._latents.append(msg[2])
            elif kind == "steps":
                for step, epoch, loss, recon, kl, elapsed in msg[1]:
                    self._steps["step"].append(step)
                    self._steps["epoch"].append(epoch)
                    self._steps["loss"].append(loss)
                    self._steps["recon"].append(recon)
                    self._steps["kl"].append(kl)
                    self._step, self._epoch, self._elapsed = step, epoch, elapsed
            elif kind == "epoch":
                _, metrics, snap, weights = msg
                self._epoch_metrics.append(metrics)
                self._epochs_completed, self._elapsed = metrics["epoch"], metrics["elapsed"]
                self._latents.append(snap)
                self._weights = weights
            elif kind in ("done", "error"):
                self._outcome = msg

    def _model(self, weights: dict) -> VAE:
        model = VAE(self.model_cfg)
        model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})  # a copy: the arrays came read-only
        return model.eval()

    def _on_exit(self, exitcode: int | None, said_done: bool) -> None:
        """The worker is gone: turn what it said (or that it said nothing) into the job's outcome."""
        try:
            outcome = self._outcome
            if outcome is not None and outcome[0] == "done":
                _, status, message, epochs, history, seconds, precision, weights = outcome
                self._finish(TrainResult(self._model(weights), status, message, epochs, history, seconds, precision))
                return
            if outcome is not None:  # the worker said why it failed
                why = outcome[1]
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
                keys = list(self._steps)
                history = {"steps": [dict(zip(keys, row)) for row in zip(*self._steps.values())],
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
                recovered = str(self._save_recovered(result))
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
        if self._stop_reason == "heartbeat":
            return (f"Training stopped because the page stopped polling for {self.heartbeat_timeout:.0f} s "
                    f"({result.message}). {kept}{where}.")
        if self._stop_reason == "shutdown":
            return f"Training stopped because the server is shutting down ({result.message}). {kept}{where}."
        return f"Training stopped ({result.message}). {kept}."

    def _save_recovered(self, result: TrainResult) -> Path:
        problem = paths.models_root_problem(self.models_root)
        if problem is not None:
            raise ValueError(problem)
        root = paths.recovered_dir(self.models_root)
        if root.is_symlink():  # the models root is the only place written: never through a link out of it
            raise ValueError("models/_recovered is a symbolic link; nothing is written through it")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder, i = root / stamp, 2
        while folder.exists():
            folder, i = root / f"{stamp}-{i}", i + 1
        return save_checkpoint(result.model, folder, self._meta(result))

    def _meta(self, result: TrainResult) -> dict:
        cmd = train_command(self.model_cfg, self.train_cfg)
        return checkpoint_meta(self.model_cfg, self.train_cfg, result, self._data_info, f"{cmd}  # from the dashboard")

    # --- reading -----------------------------------------------------------------------------

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            step, total = self._step, self._total_steps
            elapsed = self._elapsed if self.done or self._t0 is None else time.perf_counter() - self._t0
            eta = None
            if step > 0 and total and not self.done:
                eta = self._elapsed / step * (total - step)  # the mean pace so far, evaluation included
            steps = {k: list(v) for k, v in self._steps.items()}
            return JobSnapshot(
                job_id=self.job_id, session_id=self.session_id, state=self._state, message=self._message,
                stop_reason=self._stop_reason, epoch=self._epoch, epochs=self.train_cfg.epochs,
                epochs_completed=self._epochs_completed, step=step, total_steps=total, elapsed=elapsed,
                eta=eta, steps=steps, epoch_metrics=list(self._epoch_metrics), latents=list(self._latents),
                labels=self._labels, class_names=CLASS_NAMES.get(self.train_cfg.dataset, ()),
                dataset=self.train_cfg.dataset, model_cfg=self.model_cfg, train_cfg=self.train_cfg,
                recovered_to=self._recovered_to, saved_to=self._saved_to, released=self._released,
            )

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

    def save(self, name: str, overwrite: bool = False) -> Path:
        """Save the finished job's model as models/<name> (see save_user_model), then let go of it."""
        folder = save_user_model(self, name, overwrite=overwrite, models_root=self.models_root)
        with self._lock:
            self._saved_to = str(folder)
        self.release_model("saved")
        return folder


def train_command(model_cfg: VAEConfig, cfg: TrainConfig) -> str:
    """The command line that trains the same model with the CLI (recorded in config.json, shown in the UI):
    generated from the settings' declarations (vae_core/settings.py), so it parses back to the same configs."""
    return settings.command(model_cfg, cfg)


# --- saving user models -------------------------------------------------------------------------


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
    result: TrainingJob | TrainResult | VAE,
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
    if folder.is_symlink():
        raise ValueError(f"models/{folder.name} is a symbolic link; choose another name")
    if isinstance(result, TrainingJob):
        job = result
        if job.result is None:
            raise ValueError("the training job has not finished; there is no model to save yet")
        if job.result.status == "diverged":
            raise ValueError("training diverged; a diverged run is not saved (train again with a lower learning rate)")
        if job.result.epochs_completed < 1:
            raise ValueError("no epoch was completed; there is no trained model to save")
        if job.result.model is None:
            raise ValueError("this run's model is no longer held (it was saved, or its page was away too long); "
                             "train it again to save it under another name")
        model, meta = job.result.model, job._meta(job.result)
    elif isinstance(result, TrainResult):
        if result.status == "diverged":
            raise ValueError("training diverged; a diverged run is not saved (train again with a lower learning rate)")
        model = result.model
        if meta is None and train_cfg is not None and data is not None:
            meta = checkpoint_meta(model.cfg, train_cfg, result, data, train_command(model.cfg, train_cfg))
    elif isinstance(result, VAE):
        model = result
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


# --- the registry -------------------------------------------------------------------------------


class JobLimitError(RuntimeError):
    """The machine already runs as many training jobs as allowed."""


class JobRegistry:
    """Every training job of this process, by session. Limits how many run at once.

    A session has at most one job it can see as its own (a new start replaces its finished one, and frees
    its model). A finished job whose session has not come back for `keep_unsaved` seconds lets go of its
    model; after `forget_after` seconds the job itself (its curves) is dropped.
    """

    def __init__(self, max_jobs: int | None = None, forget_after: float = 3600.0, keep_unsaved: float | None = None):
        self.max_jobs = max_jobs if max_jobs is not None else max_jobs_default()
        self.forget_after = forget_after
        self.keep_unsaved = keep_unsaved if keep_unsaved is not None else keep_unsaved_default()
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}  # session id -> its latest job

    def _prune(self) -> None:
        """Cheap (a few jobs): run on every look-up, so an abandoned model is let go at the next page of anyone."""
        for sid, job in list(self._jobs.items()):
            if not job.done:
                continue
            idle = job.seconds_since_touch()
            if idle > self.forget_after:
                del self._jobs[sid]
                job.release_model("forgotten")
            elif idle > self.keep_unsaved:
                job.release_model("abandoned")

    def start(self, session_id: str, model_cfg: VAEConfig, train_cfg: TrainConfig, **job_kwargs) -> TrainingJob:
        """Start a job for the session; JobLimitError when the session or the machine is busy."""
        with self._lock:
            self._prune()
            mine = self._jobs.get(session_id)
            if mine is not None and mine.running:
                raise JobLimitError("This session is already training a model; stop it first.")
            running = [j for j in self._jobs.values() if j.running]
            if len(running) >= self.max_jobs:
                raise JobLimitError(
                    f"{len(running)} training job{'s' if len(running) > 1 else ''} already running on this machine "
                    f"(the limit is {self.max_jobs}, set by VAE_MAX_TRAINING_JOBS). You can watch it below; "
                    "start yours when it has finished."
                )
            check_budget(model_cfg, train_cfg.batch_size)  # BudgetError (a ValueError): before any allocation
            job = TrainingJob(model_cfg, train_cfg, session_id=session_id, **job_kwargs)
            if mine is not None:
                mine.release_model("replaced")
            self._jobs[session_id] = job
            job.start()
            return job

    def job_for(self, session_id: str) -> TrainingJob | None:
        with self._lock:
            self._prune()
            return self._jobs.get(session_id)

    def forget(self, session_id: str) -> None:
        """Drop the session's finished job (a running one is kept: stop it first)."""
        with self._lock:
            job = self._jobs.get(session_id)
            if job is not None and not job.running:
                del self._jobs[session_id]
                job.release_model("forgotten")

    def running_jobs(self) -> list[TrainingJob]:
        with self._lock:
            return [j for j in self._jobs.values() if j.running]

    def others_running(self, session_id: str) -> list[TrainingJob]:
        return [j for j in self.running_jobs() if j.session_id != session_id]

    def stop_all(self, wait: float | None = None, reason: str = "user") -> None:
        """Stop every job (tests and shutdown)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for j in jobs:
            j.stop(reason)
        for j in jobs:
            if j._worker is not None:
                j.wait(wait)


_REGISTRY: JobRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def registry() -> JobRegistry:
    """The process-wide registry (created on first use, with VAE_MAX_TRAINING_JOBS read then)."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            _REGISTRY = JobRegistry()
        return _REGISTRY


def reset_registry(max_jobs: int | None = None) -> JobRegistry:
    """Stop all jobs and start from a fresh registry (tests)."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        old, _REGISTRY = _REGISTRY, JobRegistry(max_jobs)
    if old is not None:
        old.stop_all(wait=30)
    return _REGISTRY


@atexit.register
def _stop_jobs_at_exit() -> None:
    """The server is exiting: stop running jobs and let their threads finish (a daemon thread killed inside a
    torch kernel aborts the process with 'terminate called without an active exception'); the last completed
    epoch of each goes to models/_recovered/, as after a lost session."""
    if _REGISTRY is not None:
        _REGISTRY.stop_all(wait=EXIT_WAIT_S, reason="shutdown")


def format_seconds(s: float | None) -> str:
    """12 s, 3 min 05 s, 1 h 02 min; '–' when unknown."""
    if s is None or not math.isfinite(s):
        return "–"
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
