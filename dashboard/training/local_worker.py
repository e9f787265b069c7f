"""One training in a child process of the web server (no Streamlit in here): run.run_training() in the child,
its messages (protocol.py) back over a pipe.

Why a process, not a thread of the web server: a thread shares the server's Python (its GIL) with every
student's script run, so either the students wait for the training or, at a low priority, the training starves;
a process has its own interpreter and its own priority. And a crash, an out-of-memory kill or a NaN in the
child ends that one job: the server and every other session go on.

    parent (the server): WorkerProcess                 child: _child_main()
      start()  ───────── spawn (forkserver) ────────►  nice, threads, load the data, train
               ◄── Prepared, Started, Steps, EpochEnded ... Done or Failed (protocol.py)
      request_stop() ── a shared Event ──►  should_stop(): the loop ends after the current step
      after STOP_GRACE_S without an end (e.g. in the end-of-epoch test evaluation): the child is killed; the
      parent already holds the weights of the last completed epoch, so Stop takes effect within a second.

The messages are pickled between our own two processes (multiprocessing's pipe); no file a user gave is read that
way.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable

from vae_core.hardware import available_cpus

from . import env
from .priority import lower_priority
from .protocol import FINAL, STOP_GRACE_S, Message, WorkerSpec
from .run import run_training

EXIT_WAIT_S = 0.1  # after its last message, how long the job waits for the child to exit before it ends
FORKSERVER_START = "dashboard.training.forkserver_start"
# first FORKSERVER_START: the forkserver takes the workers' niceness before it imports PyTorch
FORKSERVER_PRELOAD = (FORKSERVER_START, "torch", "vae_core.train", "dashboard.training.local_worker")


def local_threads() -> int:
    """A local worker's threads: VAE_TRAIN_THREADS, else every core but one, which stays the web server's.

    Measured on the 2-core machine (docs/benchmarks.md, "Training beside a class"): with both cores the Quick
    demo took 61 s under 20 students and their p95 was 1.0 s, the two OpenMP threads waiting on each other
    whenever a request took one core; with one thread, 47 s and 0.37 s."""
    return env.train_threads() or max(1, available_cpus() - 1)


def worker_context() -> mp.context.BaseContext:
    """forkserver where there is one: a clean single-threaded server that already imported PyTorch forks each
    worker (a plain fork of the multi-threaded web server is unsafe; a spawn imports PyTorch every time)."""
    try:
        ctx = mp.get_context("forkserver")
    except ValueError:  # not on this platform
        return mp.get_context("spawn")
    ctx.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    return ctx


def end_with_parent() -> None:
    """A multiprocessing child: end at once when the process that started it (the web server) ends, whatever
    this process is doing. The forkserver runs in a session of its own (forkserver_start.py), so stopping the
    server's process group does not reach it or its children; this does (the parent's sentinel reads EOF)."""
    parent = mp.parent_process()
    if parent is None:  # not started by multiprocessing (a Ray worker): Ray ends its own
        return

    def watch() -> None:
        mp.connection.wait([parent.sentinel])
        os._exit(1)  # no clean-up to wait for: the parent that would read a result is gone

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _child_main(spec: WorkerSpec, conn, stop_event) -> None:
    """The child process: its priority, then run_training() over the pipe."""
    end_with_parent()
    lower_priority(spec.nice)
    try:
        run_training(spec, conn.send, stop_event)
    finally:
        conn.close()


# --- the parent ---------------------------------------------------------------------------------------


def exit_reason(exitcode: int | None) -> str:
    """Why a child ended without saying so, in words for the page."""
    if exitcode is None:
        return "the training process did not end"
    if exitcode < 0:
        sig = -exitcode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        if sig == signal.SIGKILL:
            return f"the training process was killed ({name}; the machine may have run out of memory)"
        return f"the training process was ended by {name}"
    return f"the training process exited with status {exitcode}"


class WorkerProcess:
    """The parent's handle on one child: start it, hear it (on_message(msg) from a reader thread, in order, then
    on_exit(exitcode, said_done) once the child is gone, or once it has sent its last message and closed the
    pipe: then exitcode may still be None, the child's interpreter winding down), ask it to stop, or kill it.
    `ended` is set once the child has exited."""

    def __init__(self, spec: WorkerSpec, on_message: Callable[[Message], None],
                 on_exit: Callable[[int | None, bool], None]):
        self.spec = spec
        self.on_message, self.on_exit = on_message, on_exit
        self._ctx = worker_context()
        self._stop_event = self._ctx.Event()
        self._proc: mp.process.BaseProcess | None = None
        self._reader: threading.Thread | None = None
        self._killer: threading.Timer | None = None
        self.ended = threading.Event()
        self.stop_requested_at: float | None = None

    def start(self) -> WorkerProcess:
        recv, send = self._ctx.Pipe(duplex=False)
        self._proc = self._ctx.Process(target=_child_main, args=(self.spec, send, self._stop_event),
                                       name="vae-train-worker", daemon=True)
        self._proc.start()
        send.close()  # the child holds the sending end: EOF on ours once it is gone
        self._reader = threading.Thread(target=self._read, args=(recv,), name="vae-train-reader", daemon=True)
        self._reader.start()
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self.ended.is_set()

    def request_stop(self, grace: float = STOP_GRACE_S) -> None:
        """End the run after its current step; kill the child if it has not ended within `grace` seconds."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
            self._stop_event.set()
            self._killer = threading.Timer(grace, self.kill)
            self._killer.daemon = True
            self._killer.start()

    def kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()

    def join(self, timeout: float | None = None) -> bool:
        return self.ended.wait(timeout)

    def _read(self, conn) -> None:
        said_done = False
        try:
            while True:
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    break  # the child is gone (or closed its end after its last message)
                said_done = said_done or isinstance(msg, FINAL)
                self.on_message(msg)
        finally:
            conn.close()
            if said_done:  # the outcome is known: no need to wait for the child's interpreter to wind down
                self._proc.join(EXIT_WAIT_S)
            else:
                self._proc.join()  # its exit code is the outcome
            if self._killer is not None:
                self._killer.cancel()
            try:
                self.on_exit(self._proc.exitcode, said_done)
            finally:
                self._proc.join()
                self.ended.set()
