"""Trainings on a Ray cluster (dashboard/training/ray_worker.py): a local Ray head with one CPU, started for the module
and stopped after it, as a course's cluster would run them. The job is the app's own TrainingJob: with RAY_ADDRESS
set it runs as a Ray actor, with the same progress, Stop within a second, and a lost actor reported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import finishes, small_mnist, tiny_cfg

from dashboard.training.job import TrainingJob
from factories import free_port, tcfg
from vae_core.checkpoint import load_checkpoint

ray = pytest.importorskip("ray", reason="Ray is optional (requirements-ray.txt); the test venv installs it")
RAY = Path(sys.executable).with_name("ray")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`ray start --head` with one CPU on this machine; RAY_ADDRESS points the app's jobs at it."""
    port = free_port()
    temp = tmp_path_factory.mktemp("ray")
    # Ray runs its workers at nice 15 (RAY_worker_niceness); the tests train at nice 0, as conftest's
    # _training_at_normal_priority does for local workers: under two busy loops a nice-15 actor gets ~3 % of a
    # core and its first step never comes.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_niceness": "0"}
    subprocess.run([str(RAY), "start", "--head", "--num-cpus", "1", "--port", str(port), "--include-dashboard",
                    "false", "--disable-usage-stats", "--temp-dir", str(temp)], check=True, env=env,
                   capture_output=True, timeout=300)
    old = os.environ.get("RAY_ADDRESS")
    os.environ["RAY_ADDRESS"] = f"127.0.0.1:{port}"
    try:
        yield os.environ["RAY_ADDRESS"]
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)
        if old is None:
            os.environ.pop("RAY_ADDRESS", None)
        else:
            os.environ["RAY_ADDRESS"] = old
        shutil.rmtree(temp, ignore_errors=True)


# No page polls these jobs: on a loaded machine a cluster job's first epoch can take longer than the page's
# heartbeat (90 s), which would stop it as an abandoned page's; the heartbeat has its own tests.
UNWATCHED = 3600.0


def start_and_complete_an_epoch(job: TrainingJob) -> None:
    """Start a long job on the cluster and wait (up to 300 s on a busy machine) until its first epoch is done."""
    job.start()
    deadline = time.monotonic() + 300
    while job.snapshot().epochs_completed < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.snapshot().epochs_completed >= 1


def test_a_train_tab_job_runs_on_the_cluster_and_its_model_is_saved(cluster, mnist, tmp_path):
    job = TrainingJob(tiny_cfg(), tcfg(), session_id="s", data=small_mnist(mnist), models_root=tmp_path / "models",
                         snapshot_images=100, heartbeat_timeout=UNWATCHED)
    job.start()
    assert type(job._worker).__name__ == "RayWorker"
    assert finishes(job)
    s = job.snapshot()
    assert s.state == "completed" and s.epochs_completed == 2 and s.can_save
    assert s.steps["step"] == list(range(1, 21))  # the same progress as a local worker: every step, in order
    assert [snap.epoch for snap in s.latents] == [0, 1, 2] and s.latents[-1].points.shape == (100, 2)
    folder = job.save("from-ray")  # into the models folder the web servers share
    _, config = load_checkpoint(folder)
    assert config["training"]["epochs_completed"] == 2 and config["data"]["dataset"] == "mnist"


def test_stop_on_the_cluster_ends_within_a_second_and_keeps_the_last_epoch(cluster, mnist, tmp_path):
    job = TrainingJob(tiny_cfg(), tcfg(epochs=10_000, limit=None), session_id="s", data=small_mnist(mnist),
                         models_root=tmp_path / "models", snapshot_images=100, heartbeat_timeout=UNWATCHED)
    start_and_complete_an_epoch(job)
    asked = time.monotonic()
    job.stop()
    assert job.wait(60)
    took = time.monotonic() - asked
    s = job.snapshot()
    assert s.state == "stopped" and s.stop_reason == "user" and s.epochs_completed >= 1 and s.can_save
    # Within the grace period and one poll of the actor (STOP_GRACE_S + POLL_S), with slack for a busy machine.
    assert took < 10, took


def test_a_lost_actor_is_one_message_and_the_last_epoch_is_kept(cluster, mnist, tmp_path):
    job = TrainingJob(tiny_cfg(), tcfg(epochs=10_000), session_id="s", data=small_mnist(mnist),
                         models_root=tmp_path / "models", snapshot_images=100, heartbeat_timeout=UNWATCHED)
    start_and_complete_an_epoch(job)
    ray.kill(job._worker._actor, no_restart=True)  # what a lost node does to it
    assert job.wait(120)
    s = job.snapshot()
    assert s.stop_reason == "crash" and s.epochs_completed >= 1 and s.can_save
    assert "Ray worker running it was lost" in s.message and "is kept" in s.message


def test_a_cluster_slow_to_answer_holds_up_no_other_session(tmp_path, monkeypatch):
    """A port that accepts but never answers as Ray: the start gives up after its bound with one line, and
    meanwhile another session's look-ups (what its Train tab renders) return at once: the registry's lock is
    not held while connecting."""
    import socket
    import threading

    from dashboard.training.registry import JobRegistry

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    entered, released = threading.Event(), threading.Event()

    def never_answers(*args, **kwargs):  # what ray.init does against a cluster that does not answer
        entered.set()
        released.wait(60)
        raise ConnectionError("gave up")

    monkeypatch.setattr(ray, "init", never_answers)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.setenv("VAE_RAY_CONNECT_S", "3")
    reg = JobRegistry(max_jobs=1)
    outcome: list = []

    def start():
        t0 = time.monotonic()
        try:
            reg.start("a", tiny_cfg(), tcfg(), models_root=tmp_path, heartbeat_timeout=UNWATCHED)
            outcome.append(("started", time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001
            outcome.append((str(e), time.monotonic() - t0))

    starter = threading.Thread(target=start, daemon=True)
    try:
        starter.start()
        assert entered.wait(10), "the start never tried to connect"
        seen = threading.Event()
        threading.Thread(target=lambda: (reg.job_for("b"), reg.running_jobs(), seen.set()), daemon=True).start()
        assert seen.wait(1.0), "another session's look-up waited on the connecting start"
        starter.join(30)
        assert outcome, "the start did not give up within its bound"
        (message, took), = outcome
        assert "does not answer" in message and "no reply within 3 s" in message, message
        assert took < 10, took
        assert reg.job_for("a") is None
    finally:
        released.set()
        listener.close()
        cluster = sys.modules.get("dashboard.training.cluster")
        if cluster is not None and cluster._init_thread is not None:
            cluster._init_thread.join(5)
