"""A training worker's priority and cores (no imports beyond os): it yields to the web server's requests.

The worker runs at nice VAE_TRAIN_NICE (Linux; at 19, the default, also SCHED_IDLE), and so do the OpenMP threads
it starts, on every core but one (VAE_TRAIN_THREADS, local_worker.local_threads): the core left is the web
server's (at nice 19 the worker is also kept off it: keep_first_core_free). The forkserver that forks the workers
takes the same niceness before it imports PyTorch (forkserver_start.py), so no part of a training starts at the
server's priority; in a process of its own the worker does not hold the server's GIL either
(docs/benchmarks.md has the class's figures with a training running).
"""

from __future__ import annotations

import os


def lower_priority(nice: int) -> None:
    """The whole process: its OpenMP threads are created after this and inherit it.

    At nice 19 (the app's default) the worker also takes Linux's SCHED_IDLE policy: a core that runs only it
    counts as idle, so a student's request that wakes up goes there at once instead of queueing behind a
    training thread for its time slice (at nice 19 alone, 20 students' p95 was 2.3x that without a training)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, min(19, max(0, int(nice))))  # absolute: the forkserver may be at it already
        if int(nice) >= 19 and hasattr(os, "SCHED_IDLE"):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    if int(nice) >= 19:
        keep_first_core_free()


def keep_first_core_free() -> None:
    """Run on every core this process may use but the first, which stays the web server's (where there are two
    or more): local_threads' "every core but one", kept as affinity too, so the training never moves onto the
    core a request has just woken on. On the 2-core machine the class's p95 with and without it differed by less
    than the run-to-run spread (docs/benchmarks.md, "Training beside a class")."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, cpus[1:])
    except (AttributeError, OSError):
        pass
