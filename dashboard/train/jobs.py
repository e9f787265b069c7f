"""The training jobs this session may see: its own, and any running one (watched read-only)."""

from __future__ import annotations

from ..training.job import TrainingJob
from ..training.registry import registry
from .state import TrainState


def find_job(job_id: str) -> TrainingJob | None:
    reg = registry()
    own = reg.job_for(TrainState().session_id())
    if own is not None and own.job_id == job_id:
        return own
    return next((j for j in reg.running_jobs() if j.job_id == job_id), None)
