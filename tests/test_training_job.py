"""The dashboard's background training job (dashboard/training/): no Streamlit involved.

Tiny runs only: 500 training images, a 32-16 MLP, 1-2 epochs. Every model is written under tmp_path.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import finishes, tiny_cfg

from dashboard import paths
from dashboard.training import local_worker as tw
from dashboard.training.env import train_nice_default
from dashboard.training.job import TrainingJob
from dashboard.training.registry import JobLimitError, JobRegistry, _stop_jobs_at_exit, reset_registry
from dashboard.training.save import (
    RECOVERED,
    ModelExistsError,
    is_checkpoint,
    model_exists,
    save_user_model,
    train_command,
    validate_name,
)
from dashboard.training.snapshot import JobSnapshot
from dashboard.training.time_format import format_seconds
from factories import tcfg
from vae_core.callbacks import Callback
from vae_core.checkpoint import load_checkpoint
from vae_core.model import VAE
from vae_core.train_config import TrainConfig

TIMEOUT = 60  # seconds a gate may wait for the training thread to reach it: only a hang takes that long


@pytest.fixture
def models_root(tmp_path, monkeypatch):
    root = tmp_path / "models"
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(root))
    return root


def run_job(mnist, models_root, train_cfg=None, model_cfg=None, session="s1", **kw) -> TrainingJob:
    job = TrainingJob(model_cfg or tiny_cfg(), train_cfg or tcfg(), session_id=session, data=mnist,
                         models_root=models_root, **kw)
    job.start()
    assert finishes(job), "training did not finish"
    return job


def reported(job: TrainingJob, step: int) -> JobSnapshot:
    """The job's snapshot once the worker has reported `step` (it sends its steps every STEP_BATCH_S)."""
    deadline = time.monotonic() + TIMEOUT
    while (s := job.snapshot()).step < step and time.monotonic() < deadline:
        time.sleep(0.02)
    return s


def files_under(root) -> list:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


class Gate(Callback):
    """Holds the training loop (in the job's worker process) inside on_step at step `at` until released. Its events
    are the worker's kind (multiprocessing), handed to the worker with the job's spec."""

    def __init__(self, at: int):
        ctx = tw.worker_context()
        self.at, self.reached, self.release = at, ctx.Event(), ctx.Event()

    def on_step(self, m) -> None:
        if m.step == self.at:
            self.reached.set()
            assert self.release.wait(TIMEOUT)


# --- a normal run -------------------------------------------------------------------------------


def test_job_completes_with_curves_snapshots_and_progress(mnist, models_root):
    job = run_job(mnist, models_root)
    s = job.snapshot()
    assert s.state == "completed" and s.done and s.can_save
    assert job.result.status == "completed" and job.result.epochs_completed == 2
    # One point per step for each curve, one row per epoch, one latent snapshot per epoch plus the untrained one.
    assert s.total_steps == 20 and s.step == 20 and s.fraction == 1.0
    assert s.steps["step"] == list(range(1, 21))
    assert all(len(s.steps[k]) == 20 for k in ("loss", "recon", "kl"))
    assert [e["epoch"] for e in s.epoch_metrics] == [1, 2]
    assert [snap.epoch for snap in s.latents] == [0, 1, 2]
    for snap in s.latents:
        assert snap.points.shape == (2000, 2) and snap.points.dtype == np.float32
        assert np.isfinite(snap.points).all()
        assert snap.samples.shape == (8, 28, 28) and snap.samples.dtype == np.uint8
    assert s.labels.shape == (2000,) and set(np.unique(s.labels)) == set(range(10))
    assert s.class_names[0] == "0"
    # The curves fall: the training loss per step, and the test loss per epoch.
    loss = np.array(s.steps["loss"])
    assert loss[-5:].mean() < loss[:5].mean() - 20
    assert s.epoch_metrics[1]["test_loss"] < s.epoch_metrics[0]["test_loss"]
    # The latent map moves as training goes on.
    assert not np.allclose(s.latents[0].points, s.latents[-1].points)
    assert s.elapsed > 0 and s.eta is None
    assert "Trained 2 epochs" in s.message
    assert files_under(models_root) == []  # nothing is written until saved


def test_snapshot_is_a_copy(mnist, models_root):
    job = run_job(mnist, models_root, tcfg(epochs=1))
    s = job.snapshot()
    s.steps["loss"].append(123.0)
    s.latents.clear()
    again = job.snapshot()
    assert len(again.steps["loss"]) == 10 and len(again.latents) == 2


def test_progress_and_eta_while_running(mnist, models_root):
    gate = Gate(at=5)
    job = TrainingJob(tiny_cfg(), tcfg(), session_id="s", data=mnist, models_root=models_root, callbacks=[gate])
    job.start()
    assert gate.reached.wait(TIMEOUT)
    s = reported(job, step=5)  # the worker sends its steps a few times a second
    assert s.state == "running" and not s.done and job.running
    assert (s.step, s.total_steps, s.epoch, s.epochs) == (5, 20, 1, 2)
    assert s.eta is not None and s.eta >= 0
    assert "Epoch 1/2" not in s.message  # the message is for the outcome only
    gate.release.set()
    assert finishes(job) and job.snapshot().state == "completed"


# --- stopping -----------------------------------------------------------------------------------


NO_KILL = 600  # stop_grace for tests of the loop's own stop: the worker is never killed for being slow here


def stopped_at(step: int, mnist, models_root) -> TrainingJob:
    """A job whose stop() is called from this process while the worker's loop is inside step `step`."""
    gate = Gate(at=step)
    job = TrainingJob(tiny_cfg(), tcfg(), session_id="s", data=mnist, models_root=models_root, callbacks=[gate],
                         stop_grace=NO_KILL)
    job.start()
    assert gate.reached.wait(TIMEOUT)
    job.stop()
    gate.release.set()
    assert finishes(job)
    return job


def test_stop_is_honoured_within_one_step(mnist, models_root):
    """stop() from another thread while step 3 runs: the loop ends right after step 3."""
    job = stopped_at(3, mnist, models_root)
    s = job.snapshot()
    assert s.state == "stopped" and s.stop_reason == "user"
    assert s.step == 3 and len(s.steps["loss"]) == 3
    assert s.epochs_completed == 0 and not s.can_save
    assert "No epoch had completed" in s.message
    assert files_under(models_root) == []  # a user stop saves nothing by itself


def test_stop_after_an_epoch_keeps_that_epoch_and_can_be_saved(mnist, models_root):
    job = stopped_at(12, mnist, models_root)  # inside epoch 2
    s = job.snapshot()
    assert s.state == "stopped" and s.step == 12 and s.epochs_completed == 1 and s.can_save
    # the loop's own words end in "(epoch 2)": the page's sentence does not bracket them again
    assert s.message == ("Training stopped: stopped by request at step 12 (epoch 2). "
                         "The model of epoch 1 is kept.")
    folder = job.save("stopped-run")
    _, config = load_checkpoint(folder)
    assert config["training"]["status"] == "stopped" and config["training"]["epochs_completed"] == 1


# --- heartbeat ----------------------------------------------------------------------------------


def silenced_in_step(step: int, job: TrainingJob, gate: Gate) -> None:
    """Start the job; while its loop is held in `step`, make its last heartbeat look long past (no real waiting),
    wait for the heartbeat watch to stop it, then let the loop go on: it ends right after that step."""
    job.start()
    assert gate.reached.wait(TIMEOUT)
    job._last_touch = time.monotonic() - 3600
    deadline = time.monotonic() + TIMEOUT
    while not job.stopping and not job.done and time.monotonic() < deadline:
        time.sleep(0.02)
    gate.release.set()
    assert finishes(job)


def test_heartbeat_timeout_stops_and_saves_last_epoch_to_recovered(mnist, models_root, monkeypatch):
    gate = Gate(at=11)  # the first step of epoch 2
    job = TrainingJob(tiny_cfg(), tcfg(epochs=3), session_id="s", data=mnist, models_root=models_root,
                         heartbeat_timeout=30, callbacks=[gate], stop_grace=NO_KILL)
    silenced_in_step(11, job, gate)
    s = job.snapshot()
    assert s.state == "stopped" and s.stop_reason == "heartbeat"
    assert s.step == 11  # stopped at the first step after the silence began
    assert s.epochs_completed == 1
    recovered = list((models_root / RECOVERED).iterdir())
    assert len(recovered) == 1 and s.recovered_to == str(recovered[0])
    model, config = load_checkpoint(recovered[0])
    assert config["training"]["epochs_completed"] == 1 and config["training"]["status"] == "stopped"
    assert config["metrics"]["test_loss"] == pytest.approx(s.epoch_metrics[0]["test_loss"])
    # The weights saved are those of epoch 1, not of step 11.
    snap1 = s.latents[1]
    with torch.no_grad():
        mu, _ = model.encode(torch.as_tensor(mnist.test_images[:5]).unsqueeze(1).float() / 255)
    np.testing.assert_allclose(mu.numpy(), snap1.points[:5], atol=1e-4)
    assert "stopped polling" in s.message and f"recovered/{recovered[0].name}" in s.message
    assert str(models_root) not in s.message  # shown on the page: no server path
    assert s.released == "saved" and job.result.model is None  # kept on disk, so no longer in memory
    # Recovered models are not in models/ itself: the model list shows them apart, as recovered/<time>.
    assert [p.name for p in models_root.iterdir()] == [RECOVERED]
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(models_root))
    from dashboard.model import registry

    listed = [e for e in registry.list_models() if e.source != "pretrained"]
    assert [(e.source, e.folder) for e in listed] == [("recovered", str(recovered[0].resolve()))]
    assert listed[0].label.startswith(f"recovered/{recovered[0].name} · MNIST · ")


class Slow(Callback):
    """Makes every step take at least `seconds`, so that real time passes during a short run."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_step(self, m) -> None:
        time.sleep(self.seconds)


def test_heartbeat_in_real_time(mnist, models_root):
    """No touch for longer than the timeout: the job stops by itself (before any epoch: nothing saved)."""
    job = TrainingJob(tiny_cfg(), tcfg(epochs=50), session_id="s", data=mnist, models_root=models_root,
                         heartbeat_timeout=0.3, callbacks=[Slow(0.05)])
    job.start()
    assert finishes(job)
    s = job.snapshot()
    assert s.state == "stopped" and s.stop_reason == "heartbeat"
    assert s.step < 500
    if s.epochs_completed == 0:
        assert files_under(models_root) == [] and s.recovered_to is None


def test_server_exit_stops_the_job_and_keeps_the_last_epoch(mnist, models_root):
    """What the atexit hook runs when the server stops: the job ends at the next step, epoch 1 is recovered."""
    reg = reset_registry(max_jobs=1)
    gate = Gate(at=12)  # inside epoch 2
    job = reg.start("s", tiny_cfg(), tcfg(epochs=3), data=mnist, models_root=models_root, callbacks=[gate],
                    stop_grace=NO_KILL)
    try:
        assert gate.reached.wait(TIMEOUT)
        threading.Timer(0.2, gate.release.set).start()
        _stop_jobs_at_exit()  # returns once the job has ended
        assert job.done
        s = job.snapshot()
        assert (s.state, s.stop_reason, s.step, s.epochs_completed) == ("stopped", "shutdown", 12, 1)
        assert s.recovered_to and is_checkpoint(s.recovered_to)
        assert "server is shutting down" in s.message and f"recovered/{Path(s.recovered_to).name}" in s.message
        _, config = load_checkpoint(s.recovered_to)
        assert config["training"]["epochs_completed"] == 1
    finally:
        gate.release.set()
        reset_registry()


def test_touch_keeps_the_job_alive(mnist, models_root):
    job = TrainingJob(tiny_cfg(), tcfg(epochs=1), session_id="s", data=mnist, models_root=models_root,
                         heartbeat_timeout=0.5, callbacks=[Slow(0.02)])
    job.start()
    while not job.wait(0.05):
        job.touch()
    assert job.snapshot().state == "completed"


# --- divergence ---------------------------------------------------------------------------------


def test_forced_nan_diverges_and_saves_nothing(mnist, models_root):
    job = run_job(mnist, models_root, tcfg(lr=1e12, schedule="constant"))
    s = job.snapshot()
    assert s.state == "diverged" and job.result.status == "diverged"
    assert not s.can_save
    assert "diverged" in s.message and "learning rate" in s.message and "nothing was saved" in s.message
    with pytest.raises(ValueError, match="diverged"):
        job.save("nan-model")
    with pytest.raises(ValueError, match="diverged"):
        save_user_model(job.result, "nan-model")
    assert files_under(models_root) == []


# --- sessions and the registry ------------------------------------------------------------------


def test_two_sessions_are_isolated(mnist, models_root):
    reg = JobRegistry(max_jobs=2)
    a = reg.start("session-a", tiny_cfg(), tcfg(epochs=1, seed=1), data=mnist, models_root=models_root)
    b = reg.start("session-b", tiny_cfg(), tcfg(epochs=1, seed=2), data=mnist, models_root=models_root)
    assert finishes(a) and finishes(b)
    assert reg.job_for("session-a") is a and reg.job_for("session-b") is b and reg.job_for("nobody") is None
    assert a.snapshot().session_id == "session-a" and b.snapshot().session_id == "session-b"
    wa = torch.cat([p.flatten() for p in a.result.model.parameters()])
    wb = torch.cat([p.flatten() for p in b.result.model.parameters()])
    assert not torch.allclose(wa, wb)
    assert a.snapshot().steps["loss"] != b.snapshot().steps["loss"]
    # Saving one session's model leaves the other's job untouched.
    a.save("from-a")
    assert b.snapshot().saved_to is None and a.snapshot().saved_to.endswith("from-a")


def test_stopping_one_session_does_not_stop_the_other(mnist, models_root):
    reg = JobRegistry(max_jobs=2)
    gate_a, gate_b = Gate(at=2), Gate(at=2)
    a = reg.start("a", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root, callbacks=[gate_a])
    b = reg.start("b", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root, callbacks=[gate_b])
    assert gate_a.reached.wait(TIMEOUT) and gate_b.reached.wait(TIMEOUT)
    a.stop()
    gate_a.release.set()
    gate_b.release.set()
    assert finishes(a) and finishes(b)
    assert a.snapshot().state == "stopped" and b.snapshot().state == "completed"


def test_registry_limits_concurrent_jobs(mnist, models_root):
    reg = JobRegistry(max_jobs=1)
    gate = Gate(at=2)
    a = reg.start("a", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root, callbacks=[gate])
    assert gate.reached.wait(TIMEOUT)
    with pytest.raises(JobLimitError, match="already running"):
        reg.start("b", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root)
    with pytest.raises(JobLimitError, match="already training"):
        reg.start("a", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root)
    # Session b can watch a's job, read-only (the registry hands it the job; the UI never touches or stops it).
    assert reg.others_running("b") == [a] and reg.others_running("a") == []
    assert reg.job_for("b") is None
    gate.release.set()
    assert finishes(a)
    b = reg.start("b", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root)
    assert finishes(b) and b.snapshot().state == "completed"
    assert reg.job_for("a") is a  # a's finished job is still there for a to save


def test_max_jobs_from_environment(monkeypatch):
    monkeypatch.setenv("VAE_MAX_TRAINING_JOBS", "3")
    assert JobRegistry().max_jobs == 3
    monkeypatch.setenv("VAE_MAX_TRAINING_JOBS", "nonsense")
    assert JobRegistry().max_jobs == 1
    monkeypatch.delenv("VAE_MAX_TRAINING_JOBS")
    assert JobRegistry().max_jobs == 1


def test_data_error_is_reported(tmp_path, models_root):
    """The worker cannot read the data (a folder of altered IDX files, searched first): one message on the page,
    without the server's paths."""
    from conftest import write_fake_dataset

    write_fake_dataset(tmp_path / "altered")  # valid IDX files whose SHA-256 is not MNIST's
    job = TrainingJob(tiny_cfg(), TrainConfig(dataset="mnist", data_dir=str(tmp_path / "altered"), limit=500,
                                                 device="cpu"),
                         session_id="s", models_root=models_root)
    job.start()
    assert finishes(job)
    s = job.snapshot()
    assert s.state == "error" and s.message.startswith("Training failed: ") and "official mnist file" in s.message
    assert not s.can_save and not s.message.endswith("..")
    assert str(tmp_path) not in s.message


# --- saving -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", " ", "a b", "../up", "x/y", "a" * 65, "été", ".hidden", "name!", "_recovered",
                                  "_class"])
def test_invalid_names_are_refused(name, mnist, models_root):
    with pytest.raises(ValueError, match="name"):
        validate_name(name)
    model = VAE(tiny_cfg())
    with pytest.raises(ValueError):
        save_user_model(model, name, models_root=models_root)
    assert files_under(models_root) == []


@pytest.mark.parametrize("name", ["my-vae_2", "A" * 64, "0", "_private"])
def test_valid_names(name):
    assert validate_name(f" {name} ") == name


def test_save_writes_a_regular_checkpoint_and_refuses_to_replace(mnist, models_root):
    job = run_job(mnist, models_root)
    trained = [p.detach().clone() for p in job.result.model.parameters()]
    folder = job.save("my-vae")
    assert folder == models_root / "my-vae"
    model, config = load_checkpoint(folder)
    assert config["model"]["hidden"] == [32, 16]
    assert config["data"]["dataset"] == "mnist" and config["data"]["n_train"] == 500
    assert config["training"]["status"] == "completed" and config["training"]["epochs"] == 2
    assert config["metrics"]["test_loss"] == pytest.approx(job.snapshot().epoch_metrics[-1]["test_loss"], abs=1e-3)
    assert len(config["history"]["epochs"]) == 2 and config["history"]["steps"]
    assert "vae_core.train" in config["command"]
    for a, b in zip(model.parameters(), trained):
        assert torch.equal(a, b.cpu())
    # Saved, the job lets go of its model (the curves stay for the replay): a second save says why not.
    assert job.result.model is None and job.snapshot().released == "saved" and not job.snapshot().can_save
    assert job.snapshot().steps["loss"] and len(job.snapshot().latents) == 3
    with pytest.raises(ValueError, match="no longer held"):
        job.save("again")
    before = (folder / "config.json").read_text()
    assert model_exists("my-vae", models_root) and not model_exists("other", models_root)
    other = run_job(mnist, models_root, tcfg(epochs=1, seed=5))
    with pytest.raises(ModelExistsError, match="already exists") as refused:
        other.save("my-vae")
    assert str(models_root) not in str(refused.value)  # the message is shown to students: no server path
    assert (folder / "config.json").read_text() == before
    other.save("my-vae", overwrite=True)
    assert json.loads((folder / "config.json").read_text())["training"]["seed"] == 5


def test_save_from_a_train_result_and_env_models_dir(mnist, models_root):
    job = run_job(mnist, models_root, tcfg(epochs=1))
    assert paths.models_dir() == models_root
    folder = save_user_model(job.result, "from-result", train_cfg=job.train_cfg, data=mnist)
    assert folder == models_root / "from-result"
    _, config = load_checkpoint(folder)
    assert config["history"]["epochs"] and config["training"]["limit"] == 500


@pytest.mark.parametrize("inside", [False, True])
def test_never_writes_pretrained(inside, tmp_path, monkeypatch):
    """Even a models folder that is (or lies inside) the pretrained folder is refused, and nothing is written."""
    pretrained = tmp_path / "shipped"
    (pretrained / "mnist-mlp").mkdir(parents=True)
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pretrained))
    root = pretrained / "sub" if inside else pretrained
    with pytest.raises(ValueError, match="pretrained"):
        save_user_model(VAE(tiny_cfg()), "sneaky", models_root=root)
    assert files_under(pretrained) == [pretrained / "mnist-mlp"]


def test_unfinished_job_cannot_be_saved(mnist, models_root):
    gate = Gate(at=1)
    job = TrainingJob(tiny_cfg(), tcfg(epochs=1), session_id="s", data=mnist, models_root=models_root,
                         callbacks=[gate])
    job.start()
    assert gate.reached.wait(TIMEOUT)
    with pytest.raises(ValueError, match="not finished"):
        job.save("too-early")
    gate.release.set()
    assert finishes(job)


def test_train_command_matches_the_cli():
    from vae_core.train import parse_args

    cmd = train_command(tiny_cfg(beta=2.0), tcfg())
    args = parse_args(cmd.split()[3:])
    assert (args.hidden, args.beta, args.epochs, args.batch_size, args.lr, args.limit, args.schedule) == (
        "32,16", 2.0, 2, 50, 0.01, 500, "onecycle")
    assert args.precision == "auto" and "--precision" not in cmd
    fp32 = parse_args(train_command(tiny_cfg(), tcfg(precision="fp32")).split()[3:])
    assert fp32.precision == "fp32"


def test_format_seconds():
    assert format_seconds(None) == "–"
    assert format_seconds(12.4) == "12 s"
    assert format_seconds(185) == "3 min 05 s"
    assert format_seconds(3720) == "1 h 02 min"


def test_training_runs_at_the_lowest_priority_unless_told(monkeypatch):
    monkeypatch.delenv("VAE_TRAIN_NICE", raising=False)
    assert train_nice_default() == 19
    for given, used in (("5", 5), ("40", 19), ("-3", 0), ("ten", 19)):
        monkeypatch.setenv("VAE_TRAIN_NICE", given)
        assert train_nice_default() == used, given


@pytest.mark.skipif(not hasattr(os, "getpriority") or sys.platform != "linux", reason="nice is Linux's")
def test_the_training_worker_yields_to_requests(mnist, models_root, monkeypatch):
    monkeypatch.setenv("VAE_TRAIN_NICE", "7")
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    gate = Gate(at=1)
    job = TrainingJob(tiny_cfg(), tcfg(epochs=1), session_id="s", data=mnist, models_root=models_root,
                         callbacks=[gate])
    job.start()
    assert gate.reached.wait(TIMEOUT)
    try:
        assert os.getpriority(os.PRIO_PROCESS, job._worker.pid) == min(19, mine + 7)  # the worker is lowered...
        assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # ...and not the server
    finally:
        gate.release.set()
    assert finishes(job)


# --- size budget and memory ----------------------------------------------------------------------


def test_a_model_over_the_budget_is_neither_started_nor_saved(mnist, models_root, monkeypatch):
    """The registry refuses 8192,8192,8192 from its numbers alone (nothing is allocated), and save refuses what
    the loader would refuse: both read vae_core.budget.MAX_PARAMETERS."""
    from vae_core import budget

    reg = JobRegistry(max_jobs=1)
    with pytest.raises(budget.BudgetError, match="parameters"):
        reg.start("s", tiny_cfg(hidden=(8192, 8192, 8192)), tcfg(), data=mnist, models_root=models_root)
    assert reg.running_jobs() == [] and reg.job_for("s") is None
    job = run_job(mnist, models_root, tcfg(epochs=1))
    monkeypatch.setattr(budget, "MAX_PARAMETERS", budget.parameter_count(job.model_cfg) - 1)
    with pytest.raises(ValueError, match="parameters"):
        job.save("too-big")
    assert not (models_root / "too-big").exists() and job.snapshot().can_save


def test_a_finished_job_left_alone_lets_go_of_its_model(mnist, models_root):
    reg = JobRegistry(max_jobs=1, keep_unsaved=30)
    job = reg.start("s", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root)
    assert finishes(job)
    assert reg.job_for("s") is job and job.snapshot().can_save  # its page just came by: kept
    job._last_touch = time.monotonic() - 31  # the page has not come back for longer than keep_unsaved
    assert reg.job_for("s") is job  # the look-up prunes: the job (its curves) stays, its model goes
    s = job.snapshot()
    assert s.released == "abandoned" and job.result.model is None and not s.can_save and s.steps["loss"]
    with pytest.raises(ValueError, match="no longer held"):
        job.save("late")


def test_a_diverged_job_and_a_replaced_job_let_go_of_their_models(mnist, models_root):
    job = run_job(mnist, models_root, tcfg(lr=1e12, schedule="constant"))
    assert job.snapshot().released == "diverged" and job.result.model is None
    reg = JobRegistry(max_jobs=1)
    first = reg.start("s", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root)
    assert finishes(first) and first.snapshot().can_save
    second = reg.start("s", tiny_cfg(), tcfg(epochs=1), data=mnist, models_root=models_root)
    assert first.snapshot().released == "replaced" and first.result.model is None
    assert finishes(second)


def test_recovery_never_writes_into_pretrained(mnist, tmp_path, monkeypatch):
    """A models root inside pretrained/: the run's end says the model could not be kept, and nothing is written."""
    pretrained = tmp_path / "shipped"
    pretrained.mkdir()
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pretrained))
    gate = Gate(at=11)
    job = TrainingJob(tiny_cfg(), tcfg(epochs=3), session_id="s", data=mnist, models_root=pretrained / "models",
                         heartbeat_timeout=30, callbacks=[gate], stop_grace=NO_KILL)
    silenced_in_step(11, job, gate)
    s = job.snapshot()
    assert s.stop_reason == "heartbeat" and s.recovered_to is None
    assert "could not be kept" in s.message and "pretrained/" in s.message and str(tmp_path) not in s.message
    assert files_under(pretrained) == []


# --- the worker process: faults stay in it ---------------------------------------------------------


class Raises(Callback):
    """The training loop fails in the worker (module level: the worker unpickles it)."""

    def on_step(self, m) -> None:
        if m.step == 3:
            raise RuntimeError("something broke in the worker")


class StuckInStep(Callback):
    """Stands for a step or an end-of-epoch evaluation that takes very long: the loop cannot hear a stop."""

    def on_step(self, m) -> None:
        if m.step == 15:
            time.sleep(3600)


def test_a_job_that_raises_says_so_and_the_server_goes_on(mnist, models_root):
    job = run_job(mnist, models_root, tcfg(epochs=1), callbacks=[Raises()])
    s = job.snapshot()
    assert s.state == "error" and not s.can_save
    assert s.message == "Training failed: RuntimeError: something broke in the worker."
    assert run_job(mnist, models_root, tcfg(epochs=1)).snapshot().state == "completed"  # the next one runs


def test_a_killed_worker_ends_its_job_keeps_the_last_epoch_and_leaves_the_others(mnist, models_root):
    """SIGKILL, as the kernel's out-of-memory killer sends it: that job ends with one message and its epoch 1;
    another session's job, running at the same time, finishes as if nothing happened."""
    reg = JobRegistry(max_jobs=2)
    gate = Gate(at=12)  # inside epoch 2
    victim = reg.start("a", tiny_cfg(), tcfg(epochs=3), data=mnist, models_root=models_root, callbacks=[gate])
    other = reg.start("b", tiny_cfg(), tcfg(epochs=2), data=mnist, models_root=models_root)
    assert gate.reached.wait(TIMEOUT)
    reported(victim, step=12)
    os.kill(victim._worker.pid, signal.SIGKILL)
    assert finishes(victim) and finishes(other)
    s = victim.snapshot()
    assert s.state == "stopped" and s.stop_reason == "crash" and s.epochs_completed == 1 and s.can_save
    assert "killed" in s.message and "out of memory" in s.message and "epoch 1 is kept" in s.message
    folder = victim.save("survivor")
    _, config = load_checkpoint(folder)
    assert config["training"]["epochs_completed"] == 1
    assert other.snapshot().state == "completed" and other.snapshot().epochs_completed == 2


def test_stop_ends_a_job_whose_loop_cannot_hear_it(mnist, models_root):
    """Stuck inside step 15 (epoch 2): after the grace period the worker is killed; the job is stopped, epoch 1 kept."""
    job = TrainingJob(tiny_cfg(), tcfg(epochs=3), session_id="s", data=mnist, models_root=models_root,
                         callbacks=[StuckInStep()], stop_grace=0.5)
    job.start()
    reported(job, step=15)
    job.stop()
    assert job.stopping or job.done
    assert finishes(job)
    s = job.snapshot()
    assert (s.state, s.stop_reason, s.epochs_completed) == ("stopped", "user", 1) and s.can_save
    assert "stopped by request" in s.message
