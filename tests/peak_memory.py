"""A process's own peak memory, read by the child processes of the tests that bound it (they run with the
repository as their working directory, so `from tests.peak_memory import peak_kib` finds this)."""

from __future__ import annotations

import gc
import resource
import tracemalloc
from collections.abc import Callable


def peak_kib() -> int:
    """This process's own peak RSS in KiB. ru_maxrss would not do: Linux carries it over exec from the forked
    parent (here pytest, which may hold a GB), so it can report the parent's peak, not ours."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def traced_growth(first: Callable[[], object], then: Callable[[object], object]) -> tuple[object, int]:
    """(what first() made, the bytes Python still holds after then(it) beyond what it held after first()).
    Traced from before first(), so what it frees later counts too; garbage collected before each reading."""
    tracemalloc.start()
    try:
        made = first()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        then(made)
        gc.collect()
        return made, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
