"""One training in a process of its own (no Streamlit in here): vae_core.train.train() runs in a child process and
a Callback there sends what the Train tab shows back over a pipe.

Why a process, not a thread of the web server: a thread shares the server's Python (its GIL) with every
student's script run, so either the students wait for the training or, at a low priority, the training starves;
a process has its own interpreter and its own priority. And a crash, an out-of-memory kill or a NaN in the
child ends that one job: the server and every other session go on.

    parent (the server): WorkerProcess                 child: _child_main()
      start()  ───────── spawn (forkserver) ────────►  nice, threads, load the data, train(callbacks=[_Reporter])
               ◄── ("prepared", data_section, labels)     the data: config.json's "data", the plotted labels
               ◄── ("start", total_steps, snapshot)        the untrained model's latent snapshot ("epoch 0")
               ◄── ("steps", rows)                         step metrics, sent every STEP_BATCH_S
               ◄── ("epoch", metrics, snapshot, weights)   each completed epoch, with its weights
               ◄── ("done", status, message, epochs_completed, history, seconds, precision, weights)
               ◄── ("error", message)                      anything the child could not survive
      request_stop() ── a shared Event ──►  should_stop(): the loop ends after the current step
      after STOP_GRACE_S without an end (e.g. in the end-of-epoch test evaluation): the child is killed; the
      parent already holds the weights of the last completed epoch, so Stop takes effect within a second.

The messages are pickled between our own two processes (multiprocessing's pipe); no file a user gave is read that
way. Weights travel as {name: float32 numpy array}.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vae_core.replay import Frame

STEP_BATCH_S = 0.2  # seconds between two batches of step metrics: the page polls once a second
STOP_GRACE_S = 0.6  # after a stop request, how long the child may take to end by itself before it is killed
SNAPSHOT_IMAGES = 2000  # test images whose posterior means are plotted after every epoch

# One latent snapshot: an epoch's posterior means of the fixed test subset and its decoded prior samples, as
# vae_core.train.LatentRecorder takes them for the command line's replay (the same subset, seed and sizes); for
# d > 2 the means on that epoch's PCA plane, aligned to the previous snapshot's, with the plane's axes.
LatentSnapshot = Frame


@dataclass(frozen=True)
class WorkerSpec:
    """Everything the child needs, picklable: the configs, where the data is, and how to behave."""

    model_cfg: object  # vae_core.config.VAEConfig
    train_cfg: object  # vae_core.train.TrainConfig
    nice: int = 0
    threads: int | None = None  # torch intra-op threads unless the run sets them; None: every core it may use
    snapshot_images: int = SNAPSHOT_IMAGES
    data: object | None = None  # a vae_core Dataset to use instead of loading train_cfg.dataset (tests)
    callbacks: tuple = ()  # more vae_core Callbacks for the child's loop (picklable; tests use them)


def worker_context() -> mp.context.BaseContext:
    """forkserver where there is one: a clean single-threaded server that already imported PyTorch forks each
    worker (a plain fork of the multi-threaded web server is unsafe; a spawn imports PyTorch every time)."""
    try:
        ctx = mp.get_context("forkserver")
    except ValueError:  # not on this platform
        return mp.get_context("spawn")
    # dashboard.forkserver_start first: the forkserver takes the workers' niceness before it imports PyTorch
    ctx.set_forkserver_preload(["dashboard.forkserver_start", "torch", "vae_core.train", "dashboard.training_worker"])
    return ctx


# --- the child ----------------------------------------------------------------------------------------


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.detach().to("cpu").float().numpy().copy() for k, v in model.state_dict().items()}


class _Reporter:
    """The child's vae_core Callback: sends what the page shows; asks the shared stop event after every step.

    Step metrics are sent in batches, every STEP_BATCH_S, by a thread of their own: the page sees a step within
    that time even when the next step is slow to come (a large batch, or a test holding the loop)."""

    def __init__(self, send: Callable[[tuple], None], stop_event, snapshot: Callable):
        self._send, self.stop_event, self.snapshot = send, stop_event, snapshot
        self.rows: list[tuple] = []
        self._lock = threading.Lock()  # one message at a time on the pipe, from the loop or the ticker
        self._closed = threading.Event()
        threading.Thread(target=self._tick, name="vae-train-steps", daemon=True).start()

    def send(self, msg: tuple) -> None:
        with self._lock:
            self._send(msg)

    def _flush(self) -> None:
        with self._lock:
            if self.rows:
                rows, self.rows = self.rows, []
                self._send(("steps", rows))

    def _tick(self) -> None:
        while not self._closed.wait(STEP_BATCH_S):
            self._flush()

    def close(self) -> None:
        self._closed.set()
        self._flush()

    def on_train_start(self, total_steps: int, model) -> None:
        self.send(("start", total_steps, self.snapshot(model, 0)))

    def on_step(self, m) -> None:
        with self._lock:
            self.rows.append((m.step, m.epoch, m.loss, m.recon, m.kl, m.elapsed))

    def on_epoch_end(self, m, model) -> None:
        self._flush()
        self.send(("epoch", dict(m.__dict__), self.snapshot(model, m.epoch), _weights(model)))

    def should_stop(self) -> bool:
        return self.stop_event.is_set()


def run_training(spec: WorkerSpec, send: Callable[[tuple], None], stop_event) -> None:
    """Train as `spec` says, sending every message above through `send`; ends with one "done" or "error".
    What a worker runs, whatever it is: a child process (below) or a Ray actor (dashboard/training_ray.py)."""
    try:
        import torch

        from vae_core.data import DatasetError, load_dataset
        from vae_core.train import Callback, LatentRecorder, available_cpus, data_section, train

        class Reporter(_Reporter, Callback):
            pass

        cfg = spec.train_cfg
        if cfg.threads is None and spec.threads is not None:  # the run's own setting, if any, wins
            cfg = dataclasses.replace(cfg, threads=spec.threads)
        torch.set_num_threads(cfg.threads or available_cpus())
        try:
            data = spec.data or load_dataset(cfg.dataset, cfg.data_dir)
        except DatasetError as e:
            send(("error", str(e)))
            return
        recorder = LatentRecorder(data.test_images, data.test_labels, spec.model_cfg.latent_dim,
                                  n_points=spec.snapshot_images)
        send(("prepared", data_section(data, cfg.limit), recorder.labels))

        def snapshot(model, epoch: int) -> LatentSnapshot:
            recorder.record(model, epoch)
            return recorder.frames[-1]

        reporter = Reporter(send, stop_event, snapshot)
        try:
            result = train(spec.model_cfg, cfg, [reporter, *spec.callbacks], data)
        finally:
            reporter.close()
        send(("done", result.status, result.message, result.epochs_completed, result.history, result.seconds,
              result.precision, _weights(result.model)))
    except BaseException as e:  # noqa: BLE001  (the parent must hear why, whatever it was)
        try:
            send(("error", f"{type(e).__name__}: {e}"))
        except Exception:
            pass


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
    on_exit(exitcode, said_done) once the child is gone), ask it to stop, or kill it."""

    def __init__(self, spec: WorkerSpec, on_message: Callable[[tuple], None],
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

    def start(self) -> "WorkerProcess":
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
                said_done = said_done or msg[0] in ("done", "error")
                self.on_message(msg)
        finally:
            conn.close()
            self._proc.join()
            if self._killer is not None:
                self._killer.cancel()
            try:
                self.on_exit(self._proc.exitcode, said_done)
            finally:
                self.ended.set()


def local_threads() -> int:
    """A local worker's threads: VAE_TRAIN_THREADS, else every core but one, which stays the web server's.

    Measured on the 2-core machine (docs/benchmarks.md, "Training beside a class"): with both cores the Quick
    demo took 61 s under 20 students and their p95 was 1.0 s, the two OpenMP threads waiting on each other
    whenever a request took one core; with one thread, 47 s and 0.37 s."""
    try:
        return max(1, int(os.environ["VAE_TRAIN_THREADS"]))
    except (KeyError, ValueError):
        from vae_core.train import available_cpus

        return max(1, available_cpus() - 1)


def make_worker(spec: WorkerSpec, on_message: Callable[[tuple], None], on_exit: Callable[[int | None, bool], None]):
    """A Ray actor on the cluster at RAY_ADDRESS when that is set (Ray is imported only then), else a child
    process of this one. Both have start(), request_stop(), kill(), join() and `ended`."""
    if os.environ.get("RAY_ADDRESS"):
        from .training_ray import RayWorker

        return RayWorker(spec, on_message, on_exit)  # the actor uses the cores Ray gives it
    if spec.threads is None:
        spec = dataclasses.replace(spec, threads=local_threads())
    return WorkerProcess(spec, on_message, on_exit)
