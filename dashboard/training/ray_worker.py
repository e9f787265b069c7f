"""Trainings on a Ray cluster: the same training as local_worker.py runs, in a Ray actor instead of a child
process of the web server. Used when RAY_ADDRESS is set (docs/deploy.md); this module, and Ray with it, is
imported only then (backends.make_worker).

    parent (a web server replica): RayWorker           a Ray actor, on any node of the cluster
      start()   ── TrainingActor.remote(spec) ──────►   run_training() in a thread of the actor
      every POLL_S: drain() ◄────── messages ───────    the same messages as a child process sends
      request_stop() ── stop() ──►  the loop ends after the current step; after STOP_GRACE_S, ray.kill(actor)
      a node lost, the actor killed, or its process crashed: drain() raises RayActorError -> on_exit(None, False)

The parent holds the last completed epoch's weights (from the EpochEnded messages), so a job stopped, killed or
lost keeps its last good epoch, exactly as with a local worker; the model is saved by the web server into the
shared models folder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import ray

from .cluster import connect
from .priority import lower_priority
from .protocol import FINAL, STOP_GRACE_S, Message, WorkerSpec
from .run import run_training

POLL_S = 0.2  # seconds between two drains of the actor's messages (the page polls once a second)
ACTOR_CPUS = 1  # what the cluster reserves for one training


@ray.remote(num_cpus=ACTOR_CPUS, max_restarts=0)
class TrainingActor:
    """Runs one training in a thread and keeps its messages until the web server drains them."""

    def __init__(self, spec: WorkerSpec):
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        lower_priority(spec.nice)
        self._thread = threading.Thread(target=self._run, args=(spec,), daemon=True)
        self._thread.start()

    def _send(self, msg: Message) -> None:
        with self._lock:
            self._messages.append(msg)

    def _run(self, spec: WorkerSpec) -> None:
        try:
            run_training(spec, self._send, self._stop)
        finally:
            self._done.set()

    def drain(self) -> tuple[list[Message], bool]:
        """(the messages since the last drain, whether the training has ended)."""
        with self._lock:
            out, self._messages = self._messages, []
        return out, self._done.is_set() and not self._messages

    def stop(self) -> None:
        self._stop.set()

    def pid(self) -> int:
        return os.getpid()


class RayWorker:
    """local_worker.WorkerProcess's interface over a Ray actor."""

    def __init__(self, spec: WorkerSpec, on_message: Callable[[Message], None],
                 on_exit: Callable[[int | None, bool], None]):
        self.spec, self.on_message, self.on_exit = spec, on_message, on_exit
        self.ended = threading.Event()
        self.stop_requested_at: float | None = None
        self._actor = None
        self._killer: threading.Timer | None = None
        self.lost: str | None = None  # why the actor went away without a last message, when it did

    def start(self) -> RayWorker:
        connect()  # normally done already, outside the registry's lock (registry.start)
        self._actor = TrainingActor.remote(self.spec)
        threading.Thread(target=self._poll, name="vae-train-ray-poll", daemon=True).start()
        return self

    @property
    def alive(self) -> bool:
        return self._actor is not None and not self.ended.is_set()

    def request_stop(self, grace: float = STOP_GRACE_S) -> None:
        if self.stop_requested_at is None and self._actor is not None:
            self.stop_requested_at = time.monotonic()
            self._actor.stop.remote()
            self._killer = threading.Timer(grace, self.kill)
            self._killer.daemon = True
            self._killer.start()

    def kill(self) -> None:
        if self._actor is not None and not self.ended.is_set():
            ray.kill(self._actor, no_restart=True)

    def join(self, timeout: float | None = None) -> bool:
        return self.ended.wait(timeout)

    def _poll(self) -> None:
        said_done, exitcode = False, 0
        try:
            while True:
                try:
                    messages, finished = ray.get(self._actor.drain.remote())
                except ray.exceptions.RayError as e:  # the actor died: killed, its node lost, its process crashed
                    self.lost = type(e).__name__
                    exitcode = None
                    break
                for msg in messages:
                    said_done = said_done or isinstance(msg, FINAL)
                    self.on_message(msg)
                if finished:
                    break
                time.sleep(POLL_S)
        finally:
            if self._killer is not None:
                self._killer.cancel()
            if exitcode == 0:
                ray.kill(self._actor, no_restart=True)  # its work is done: give the cluster its CPU back
            try:
                self.on_exit(exitcode, said_done)
            finally:
                self.ended.set()
