"""Process tuning for a server of many sessions: the garbage collector and each request's torch threads."""

from __future__ import annotations

import gc
import sys

import torch

REQUEST_THREADS = 1  # torch intra-op threads of one request

_modules_frozen = 0  # len(sys.modules) at the last freeze_imported_objects()


def freeze_imported_objects() -> None:
    """Move every object alive now into the garbage collector's permanent generation, once after each batch of
    imports (PyTorch, Plotly, ...: about 240,000 objects).

    A full collection walks every tracked object: with PyTorch loaded that takes over 100 ms, holding the GIL,
    so every other session and the training thread stop meanwhile. Streamlit runs one after every script run
    unless runner.postScriptGC is false (.streamlit/config.toml sets it so), and Python runs one now and
    then by itself. Frozen objects are skipped; they are still freed by reference counting."""
    global _modules_frozen
    if len(sys.modules) > _modules_frozen:
        gc.freeze()
        _modules_frozen = len(sys.modules)


def use_request_threads() -> None:
    """Give the calling thread REQUEST_THREADS torch threads. Call it at the start of every run (app.py) and
    before torch work in a fragment (compute.decode does).

    With OpenMP each thread keeps its own count once it has computed, and a thread computing for the first time
    takes the value last set by any thread: a training job sets all the cores for its own thread, so a run
    starting meanwhile would take as many and fight it for the cores. Requests are small (a decode, a morph of
    a few dozen frames) and many run at once: one thread each."""
    if torch.get_num_threads() != REQUEST_THREADS:
        torch.set_num_threads(REQUEST_THREADS)
