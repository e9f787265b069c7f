"""Where a job's training runs: a Ray actor when RAY_ADDRESS names a cluster, else a child process of this one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .env import ray_address
from .local_worker import WorkerProcess, local_threads
from .protocol import Message, WorkerSpec


def make_worker(spec: WorkerSpec, on_message: Callable[[Message], None],
                on_exit: Callable[[int | None, bool], None]):
    """A Ray actor on the cluster at RAY_ADDRESS when that is set (Ray is imported only then), else a child
    process of this one. Both have start(), request_stop(), kill(), join() and `ended`."""
    if ray_address():
        from .ray_worker import RayWorker  # imports Ray: only where a cluster is used

        return RayWorker(spec, on_message, on_exit)  # the actor uses the cores Ray gives it
    if spec.threads is None:
        spec = dataclasses.replace(spec, threads=local_threads())
    return WorkerProcess(spec, on_message, on_exit)
