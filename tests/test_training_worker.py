"""The training's child process (dashboard/training/local_worker.py): what it reports, and the ways it can end.

Tiny runs only (500 training images, a 32-16 MLP). Each test waits on the worker's own end, never on a guessed
time; the one bound on time is STOP's promise (the child is gone within STOP_GRACE_S plus the kill).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import small_mnist, tiny_cfg

from dashboard.training import local_worker as tw
from dashboard.training.backends import make_worker
from dashboard.training.protocol import Done, EpochEnded, Failed, Prepared, Started, Steps, WorkerSpec
from factories import tcfg
from vae_core.callbacks import Callback
from vae_core.model import VAE

END_TIMEOUT = 180  # generous: a loaded CI machine; every wait ends as soon as the worker does


class Recorder:
    def __init__(self):
        self.messages: list[tuple] = []
        self.exit: tuple | None = None

    def on_message(self, msg):
        self.messages.append(msg)

    def on_exit(self, exitcode, said_done):
        self.exit = (exitcode, said_done)

    def kinds(self) -> list[type]:
        return [type(m) for m in self.messages]

    def last(self, kind: type):
        return [m for m in self.messages if isinstance(m, kind)][-1]


def run(spec: WorkerSpec) -> tuple[tw.WorkerProcess, Recorder]:
    rec = Recorder()
    w = tw.WorkerProcess(spec, rec.on_message, rec.on_exit).start()
    return w, rec


class SlowSteps(Callback):
    """Every step takes at least `seconds` (module level: the child unpickles it)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_step(self, m) -> None:
        time.sleep(self.seconds)


class Explodes(Callback):
    def on_epoch_end(self, m, model) -> None:
        raise RuntimeError("boom in epoch 1")


class StuckAfterFirstEpoch(Callback):
    """Stands for the end-of-epoch test evaluation of a big run: the child ignores the stop for a long time."""

    def on_epoch_end(self, m, model) -> None:
        time.sleep(3600)


def test_a_run_reports_start_steps_epochs_and_its_weights(mnist):
    cfg = tiny_cfg()
    w, rec = run(WorkerSpec(cfg, tcfg(), data=small_mnist(mnist), snapshot_images=100))
    assert w.join(END_TIMEOUT), "the worker did not end"
    kinds = rec.kinds()
    assert kinds[0] is Prepared and kinds[1] is Started and kinds[-1] is Done
    assert kinds.count(EpochEnded) == 2
    started = rec.last(Started)
    total, snap0 = started.total_steps, started.snapshot
    assert total == 20 and snap0.epoch == 0 and snap0.points.shape == (100, 2) and snap0.samples.shape == (8, 28, 28)
    rows = [r for m in rec.messages if isinstance(m, Steps) for r in m.rows]
    assert [r.step for r in rows] == list(range(1, 21))  # every step, in order, none twice
    done = rec.last(Done)
    weights = done.weights
    assert done.status == "completed" and done.epochs_completed == 2 and len(done.history["epochs"]) == 2
    model = VAE(cfg)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    # The weights are those of the run: the reported test loss is what they give on the same images.
    last_epoch_weights = rec.last(EpochEnded).weights
    assert all(np.array_equal(weights[k], last_epoch_weights[k]) for k in weights)
    # after its Done the job is told at once (the child may still be winding down: no exit code yet); the child
    # then exits cleanly
    assert rec.exit in ((0, True), (None, True)) and w._proc.exitcode == 0


def test_stop_ends_the_run_after_the_current_step(mnist):
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(epochs=50), data=small_mnist(mnist), snapshot_images=50,
                               callbacks=(SlowSteps(0.05),)))
    deadline = time.monotonic() + END_TIMEOUT
    while EpochEnded not in rec.kinds() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert EpochEnded in rec.kinds(), "no epoch completed"
    asked = time.monotonic()
    w.request_stop(grace=30)  # a long grace: this test is about the loop's own stop, not the kill
    assert w.join(END_TIMEOUT)
    done = rec.last(Done)
    assert done.status == "stopped" and done.epochs_completed >= 1 and "stopped by request" in done.message
    assert rec.exit in ((0, True), (None, True)) and w._proc.exitcode == 0
    assert w.stop_requested_at >= asked


def test_stop_kills_a_child_that_does_not_end_in_time(mnist):
    """Stuck where the loop cannot hear the stop: after the grace period the child is killed. The parent already
    holds the first epoch's weights (the EpochEnded message), which is what a stopped job keeps."""
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(epochs=5), data=small_mnist(mnist), snapshot_images=50,
                               callbacks=(StuckAfterFirstEpoch(),)))
    deadline = time.monotonic() + END_TIMEOUT
    while EpochEnded not in rec.kinds() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert EpochEnded in rec.kinds()
    w.request_stop(grace=0.5)
    assert w.join(END_TIMEOUT)
    assert rec.exit == (-signal.SIGKILL, False)
    assert Done not in rec.kinds()


def test_an_exception_in_the_child_is_one_message(mnist):
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(), data=small_mnist(mnist), snapshot_images=50,
                               callbacks=(Explodes(),)))
    assert w.join(END_TIMEOUT)
    assert rec.last(Failed).message == "RuntimeError: boom in epoch 1"
    assert rec.exit in ((0, True), (None, True)) and w._proc.exitcode == 0


def test_a_child_killed_from_outside_is_reported(mnist):
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(epochs=50), data=small_mnist(mnist), snapshot_images=50,
                               callbacks=(SlowSteps(0.05),)))
    deadline = time.monotonic() + END_TIMEOUT
    while Steps not in rec.kinds() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(w.pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does
    assert w.join(END_TIMEOUT)
    exitcode, said_done = rec.exit
    assert exitcode == -signal.SIGKILL and not said_done
    assert "killed" in tw.exit_reason(exitcode) and "memory" in tw.exit_reason(exitcode)


def test_divergence_is_a_status_not_a_crash(mnist):
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(lr=1e9, schedule="constant"), data=small_mnist(mnist),
                               snapshot_images=50))
    assert w.join(END_TIMEOUT)
    done = rec.last(Done)
    assert done.status == "diverged" and "diverged" in done.message


def test_the_child_runs_at_its_own_priority_and_threads(mnist):
    """The nice value and thread count apply to the child alone: the server (this process) keeps its own."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen = {}
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(epochs=50), data=small_mnist(mnist), snapshot_images=50, nice=7,
                               threads=1, callbacks=(SlowSteps(0.05),)))
    deadline = time.monotonic() + END_TIMEOUT
    while Steps not in rec.kinds() and time.monotonic() < deadline:
        time.sleep(0.05)
    seen["nice"] = os.getpriority(os.PRIO_PROCESS, w.pid)
    w.request_stop(grace=30)
    assert w.join(END_TIMEOUT)
    # nice is the child's absolute value; a process may not raise its own priority unless privileged
    assert seen["nice"] == 7 or seen["nice"] == before > 7
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_at_nice_19_the_child_runs_only_on_idle_cores(mnist):
    """The app's default (nice 19) also takes SCHED_IDLE: a student's request never waits for a training slice."""
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(epochs=50), data=small_mnist(mnist), snapshot_images=50, nice=19,
                               threads=1, callbacks=(SlowSteps(0.05),)))
    deadline = time.monotonic() + END_TIMEOUT
    while Steps not in rec.kinds() and time.monotonic() < deadline:
        time.sleep(0.05)
    policy, cores = os.sched_getscheduler(w.pid), os.sched_getaffinity(w.pid)
    w.request_stop(grace=30)
    assert w.join(END_TIMEOUT)
    assert policy == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE, "the server keeps its own policy"
    ours = sorted(os.sched_getaffinity(0))
    assert cores == (set(ours[1:]) if len(ours) > 1 else set(ours)), "off the first core, which is the server's"


def test_the_forkserver_takes_the_workers_niceness_before_it_imports_torch():
    """dashboard.training.forkserver_start, preloaded first by the forkserver, lowers that process to
    VAE_TRAIN_NICE, in a session of its own whose autogroup (Linux) has that nice value too: across sessions, the
    scheduler weighs autogroups, not processes."""
    import subprocess
    import sys

    code = ("import os, sys; import dashboard.training.forkserver_start; "
            "group = open('/proc/self/autogroup').read().split() if os.path.exists('/proc/self/autogroup') else [];"
            "print(os.getpriority(os.PRIO_PROCESS, 0), 'torch' in sys.modules, os.getsid(0) == os.getpid(), "
            "group[-1] if group else 'none')")
    env = {**os.environ, "VAE_TRAIN_NICE": "13"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         cwd=Path(tw.__file__).resolve().parents[2])
    base = os.getpriority(os.PRIO_PROCESS, 0)  # only a privileged process may go back up from a higher one
    expected = 13 if base <= 13 or os.geteuid() == 0 else base
    group = "none" if not os.path.exists("/proc/self/autogroup") else "13"
    assert out.stdout.split() == [str(expected), "False", "True", group], out.stderr


def test_a_worker_ends_with_the_server_that_started_it(tmp_path):
    """The forkserver has a session of its own, so stopping a server's process group (scripts/serve_class.sh)
    does not reach its workers: a worker ends as soon as its server is gone, even in the middle of an epoch that
    would take an hour (StuckAfterFirstEpoch)."""
    import subprocess
    import sys

    server = tmp_path / "server.py"
    server.write_text(f"""
import sys, time
sys.path[:0] = [{str(Path(__file__).resolve().parent)!r}, {str(Path(tw.__file__).resolve().parents[2])!r}]
from conftest import small_mnist, tiny_cfg
from test_training_worker import StuckAfterFirstEpoch, tcfg
from dashboard.training import local_worker as tw
from dashboard.training.protocol import EpochEnded, WorkerSpec
from vae_core.data import load_dataset

if __name__ == "__main__":
    seen = []
    spec = WorkerSpec(tiny_cfg(), tcfg(epochs=5), data=small_mnist(load_dataset("mnist", None, False)),
                         snapshot_images=50, nice=19, threads=1, callbacks=(StuckAfterFirstEpoch(),))
    w = tw.WorkerProcess(spec, seen.append, lambda *a: None).start()
    while not any(isinstance(m, EpochEnded) for m in seen):
        time.sleep(0.05)
    print(w.pid, flush=True)
    time.sleep(3600)
""")
    proc = subprocess.Popen([sys.executable, str(server)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(proc.stdout.readline())  # the worker is inside its hour-long end of epoch 1
        os.kill(worker, 0)
    finally:
        proc.kill()  # the server crashes: no clean-up of its own
        proc.wait()
    deadline = time.monotonic() + END_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the worker outlived its server")


def test_a_local_worker_leaves_one_core_to_the_server(monkeypatch):
    """Unless the run or VAE_TRAIN_THREADS says otherwise, a local worker trains on every core but one."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("VAE_TRAIN_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # vae_core.hardware.available_cpus() reads it first
    spec = WorkerSpec(tiny_cfg(), tcfg())
    assert make_worker(spec, lambda m: None, lambda *a: None).spec.threads == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert make_worker(spec, lambda m: None, lambda *a: None).spec.threads == 1, "never fewer than one"
    monkeypatch.setenv("VAE_TRAIN_THREADS", "2")
    assert make_worker(spec, lambda m: None, lambda *a: None).spec.threads == 2
    given = WorkerSpec(tiny_cfg(), tcfg(), threads=5)
    assert make_worker(given, lambda m: None, lambda *a: None).spec.threads == 5


def test_a_4d_run_maps_each_epoch_on_its_pca_plane_aligned_to_the_last(mnist):
    """d > 2: every snapshot is the PCA plane of that epoch's codes, its axes turned to match the previous
    epoch's (consecutive bases: positive diagonal dot products), the points the codes projected on it."""
    from vae_core.analysis import principal_plane, to_plane

    cfg = tiny_cfg(latent_dim=4)
    w, rec = run(WorkerSpec(cfg, tcfg(epochs=3), data=small_mnist(mnist), snapshot_images=200))
    assert w.join(END_TIMEOUT), "the worker did not end"
    snaps = [rec.last(Started).snapshot] + [m.snapshot for m in rec.messages if isinstance(m, EpochEnded)]
    assert [s.epoch for s in snaps] == [0, 1, 2, 3]
    for s in snaps:
        assert s.points.shape == (200, 2) and s.basis.shape == (2, 4) and s.variance.shape == (2,)
        assert np.allclose(s.basis @ s.basis.T, np.eye(2), atol=1e-5)  # orthonormal axes
        assert 0 < s.variance.sum() <= 1 + 1e-6
    for before, after in zip(snaps, snaps[1:]):
        dots = np.einsum("kd,kd->k", before.basis, after.basis)
        assert (dots > 0).all(), dots  # neither axis flipped
    # The last snapshot is the trained model's codes on that plane: its span is the codes' principal plane.
    model = VAE(cfg)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in rec.last(Done).weights.items()})
    model.eval()
    with torch.no_grad():
        mu = model.encode(small_mnist(mnist).test_images[:200].float().div(255).unsqueeze(1))[0].double().numpy()
    pca = principal_plane(mu)
    last = snaps[-1]
    assert np.allclose(np.abs(np.linalg.det(pca.basis @ last.basis.T.astype(np.float64))), 1.0, atol=1e-4)  # same span
    centred = to_plane(mu, pca)
    assert np.allclose(np.linalg.norm(last.points, axis=1), np.linalg.norm(centred, axis=1), atol=2e-3)


def test_a_2d_run_keeps_its_own_axes(mnist):
    w, rec = run(WorkerSpec(tiny_cfg(), tcfg(epochs=1), data=small_mnist(mnist), snapshot_images=50))
    assert w.join(END_TIMEOUT), "the worker did not end"
    snap = rec.last(EpochEnded).snapshot
    assert snap.basis is None and snap.variance is None
