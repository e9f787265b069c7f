"""The training worker's niceness, read in one place (no imports beyond os: multiprocessing's forkserver reads it
before it imports PyTorch, see forkserver_start.py)."""

import os

DEFAULT_TRAIN_NICE = 19  # the training worker's nice value (VAE_TRAIN_NICE)


def train_nice_default() -> int:
    try:
        return min(19, max(0, int(os.environ.get("VAE_TRAIN_NICE", DEFAULT_TRAIN_NICE))))
    except ValueError:
        return DEFAULT_TRAIN_NICE
