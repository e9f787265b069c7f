"""The training's settings read from the environment, each in one place.

Only os is imported: multiprocessing's forkserver reads the niceness before it imports PyTorch
(forkserver_start.py).
"""

from __future__ import annotations

import os

DEFAULT_TRAIN_NICE = 19  # the training worker's nice value (VAE_TRAIN_NICE)
DEFAULT_HEARTBEAT_S = 90.0  # VAE_TRAIN_HEARTBEAT_S: a page silent this long is taken to be gone
DEFAULT_KEEP_S = 600.0  # a finished, unsaved job keeps its model this long after its page last came (VAE_TRAIN_KEEP_S)


def train_nice_default() -> int:
    try:
        return min(19, max(0, int(os.environ.get("VAE_TRAIN_NICE", DEFAULT_TRAIN_NICE))))
    except ValueError:
        return DEFAULT_TRAIN_NICE


def heartbeat_timeout_default() -> float:
    try:
        value = float(os.environ.get("VAE_TRAIN_HEARTBEAT_S", DEFAULT_HEARTBEAT_S))
    except ValueError:
        return DEFAULT_HEARTBEAT_S
    return value if value > 0 else DEFAULT_HEARTBEAT_S


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


def train_threads() -> int | None:
    """VAE_TRAIN_THREADS when it is a number; None: the local worker decides."""
    try:
        return max(1, int(os.environ["VAE_TRAIN_THREADS"]))
    except (KeyError, ValueError):
        return None


def ray_address() -> str | None:
    """The cluster to train on (RAY_ADDRESS), or None: then the local worker process is used."""
    return os.environ.get("RAY_ADDRESS") or None
