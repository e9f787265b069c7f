"""Every training job of this process, by session, and how many may run at once (VAE_MAX_TRAINING_JOBS).

Each job belongs to the session id that started it; other sessions may watch a running job read-only but cannot
stop or save it, and a job's model is never swapped into what another session explores: it reaches Explore only
once saved and picked in that session's own model list. By default one job runs per machine (training takes every
core the server can spare). At exit, running jobs are stopped and their last completed epoch goes to
models/_recovered/.
"""

from __future__ import annotations

import atexit
import threading

from vae_core.budget import check_budget
from vae_core.config import VAEConfig
from vae_core.train_config import TrainConfig

from . import cluster
from .env import keep_unsaved_default, max_jobs_default, ray_address
from .job import TrainingJob

EXIT_WAIT_S = 15.0  # at most this long, at exit, for a stopped job to end its step and save
# A start waits at most this long for a stopping job to end (one ends within a second; more on a loaded machine):
# the page gives the form back as soon as Stop is clicked.
STOPPING_WAIT_S = 5.0


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
        """Start a job for the session; JobLimitError when the session or the machine is busy,
        cluster.ClusterUnavailableError when RAY_ADDRESS names a cluster that does not answer. A stopping job
        is waited for (at most STOPPING_WAIT_S): Stop gives the page's form back before the run has ended."""
        if ray_address():
            cluster.connect()  # bounded, and outside the lock: a dead cluster never holds up the other sessions
        for job in self.running_jobs():  # outside the lock too: the stopping job's own end takes it
            if job.stopping:
                job.wait(STOPPING_WAIT_S)
        with self._lock:
            self._prune()
            mine = self._jobs.get(session_id)
            if mine is not None and mine.stopping:
                raise JobLimitError("Your last run is still ending; press Start training again in a moment.")
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
