"""The Train tab through streamlit.testing.v1.AppTest: start a tiny run, watch it finish, save it, find it
in the model list; invalid names; a forced NaN.

The whole app (dashboard/app.py) is driven, with its Train tab open.
Checkpoints and saved models live under tmp_path (LATENT_EXPLORER_*_DIR), never in the
repository. The training set offered is shrunk to 500 images so that a run takes about a second.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import views  # noqa: E402
from dashboard.model import registry as model_registry  # noqa: E402
from dashboard.train import figures, form, live  # noqa: E402
from dashboard.training import local_worker  # noqa: E402
from dashboard.training import registry as training_registry  # noqa: E402
from dashboard.training import speed as train_speed  # noqa: E402
from dashboard.training.job import TrainingJob  # noqa: E402
from dashboard.training.protocol import STOP_GRACE_S  # noqa: E402
from dashboard.training.registry import registry, reset_registry  # noqa: E402
from dashboard.training.time_format import format_seconds  # noqa: E402
from factories import tiny_checkpoint  # noqa: E402
from vae_core import VAE, VAEConfig, save_checkpoint  # noqa: E402
from vae_core.callbacks import Callback  # noqa: E402
from vae_core.replay import read_replay  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
START = "train_start"
SAVE = "FormSubmitter:train_save_form-Save"


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    pre, mine = tmp_path / "pretrained", tmp_path / "models"
    tiny_checkpoint(pre / "mnist-mlp", loss=140.0)
    mine.mkdir()
    for var, value in (("LATENT_EXPLORER_PRETRAINED_DIR", pre), ("LATENT_EXPLORER_MODELS_DIR", mine)):
        monkeypatch.setenv(var, str(value))
    monkeypatch.setattr(form, "TRAIN_SIZES", (500, 2000))
    monkeypatch.chdir(ROOT)
    reset_registry(max_jobs=1)
    yield pre, mine
    reset_registry()


@pytest.fixture
def at(dirs):
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["app_tab"] = "Train"  # app.py's TAB_KEY: only the open tab runs
    app.run()
    assert not app.exception, app.exception
    return app


def configure(at, **values):
    """Tiny settings: a 32-16 MLP on 500 images, batch 50 (10 steps per epoch)."""
    settings = dict(hidden="32,16", limit=500, epochs=2, batch_size=50, lr=1e-2, schedule="onecycle")
    settings.update(values)
    for field, value in settings.items():
        key = f"train_{field}"
        if field in ("hidden", "conv_channels"):
            at.text_input(key=key).set_value(value)
        elif field in ("limit", "schedule", "dataset", "arch", "likelihood", "device", "corruption"):
            at.selectbox(key=key).set_value(value)
        else:
            at.number_input(key=key).set_value(value)
    return at


def run_until_done(at, stall: float = 60.0):
    """Rerun the page (each run is a poll, as the fragment's timer would do) until the run has finished.

    However long a loaded machine makes the run take, this waits as long as the job makes progress (a new
    step or state); it fails only when nothing moved for `stall` seconds."""
    last, since = None, time.monotonic()
    while True:
        at.run()
        assert not at.exception, at.exception
        if _outcome(at):
            return at
        job = registry().job_for(at.session_state["train_session_id"])
        mark = None if job is None else (job.snapshot().state, job.snapshot().step)
        if mark != last:
            last, since = mark, time.monotonic()
        elif time.monotonic() - since > stall:
            raise AssertionError(f"training made no progress for {stall:.0f} s (state, step: {mark})")
        time.sleep(0.2)  # the poll interval of this loop, standing in for the page's timer


def _outcome(at) -> str | None:
    for kind in ("success", "warning", "error"):
        for el in getattr(at, kind):
            text = str(el.value)
            if text.startswith(("Trained ", "Training diverged", "Training stopped")):
                return text
    return None


def figure(at, key: str) -> dict:
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id] or [None]
    assert chart is not None, f"no chart {key}"
    return json.loads(chart.proto.spec)


def values(v) -> list:
    """A Plotly trace array from the chart's JSON: a plain list, or Plotly 6's typed array {dtype, bdata}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def model_list(at) -> list[str]:
    return list(at.selectbox(key="model_choice").options)


class Hold(Callback):
    """Holds the training loop (in the job's worker process) at its first step until `set()`."""

    def __init__(self):
        self.event = local_worker.worker_context().Event()

    def set(self) -> None:
        self.event.set()

    def on_step(self, m) -> None:
        self.event.wait(30)


def test_tab_renders_with_presets(at):
    assert at.selectbox(key="train_preset").value == "Quick demo"
    assert any(c.value.startswith("Quick demo: ") for c in at.caption)  # its time, measured (or being measured)
    assert not any("≈30 s" in c.value for c in at.caption)
    assert at.selectbox(key="train_limit").value == 2000  # 10,000 is not offered in these tests: the largest left
    at.selectbox(key="train_preset").set_value("Best (the pretrained recipe)").run()
    assert at.number_input(key="train_epochs").value == 60
    assert at.number_input(key="train_lr").value == pytest.approx(3e-3)
    assert at.selectbox(key="train_schedule").value == "onecycle"
    assert at.text_input(key="train_hidden").value == "512,256"
    assert "cuda" not in at.selectbox(key="train_device").options or torch.cuda.is_available()
    assert any("Start training" in b.label for b in at.button)


def test_settings_survive_a_visit_to_explore(at):
    at.selectbox(key="train_preset").set_value("Best (the pretrained recipe)").run()
    assert at.number_input(key="train_epochs").value == 60
    at.session_state["app_tab"] = "Explore"
    at.run()
    assert not at.exception, at.exception
    assert not [w for w in at.number_input if w.key == "train_epochs"]  # the Train tab did not run
    at.session_state["app_tab"] = "Train"
    at.run()
    assert at.selectbox(key="train_preset").value == "Best (the pretrained recipe)"
    assert at.number_input(key="train_epochs").value == 60


def test_train_save_and_find_in_model_list(at, dirs):
    _, mine = dirs
    configure(at).button(key=START).click().run()
    assert not at.exception, at.exception
    run_until_done(at)
    assert _outcome(at).startswith("Trained 2 epochs"), _outcome(at)
    # Curves: 20 steps (smoothed, all kept), 2 test-loss points, 2 test-KL points.
    fig = figure(at, "train_done_loss")
    by_name = {t["name"]: t for t in fig["data"]}
    assert values(by_name[figures.TRAIN_LOSS]["x"]) == list(range(1, 21))
    assert len(values(by_name["train recon (per step, smoothed)"]["y"])) == 20
    assert len(values(by_name["train KL (per step, smoothed)"]["y"])) == 20
    assert values(by_name[figures.TEST_LOSS]["x"]) == [10, 20]
    test_loss = values(by_name[figures.TEST_LOSS]["y"])
    assert len(test_loss) == 2 and test_loss[1] < test_loss[0]
    train_loss = values(by_name[figures.TRAIN_LOSS]["y"])
    assert train_loss[-1] < train_loss[0]
    assert fig["layout"]["yaxis"]["title"]["text"] == "nats per image (both panels)"  # the KL panel's too
    # The replay slider covers epoch 0 (untrained) to 2, and the latent map has 2,000 points.
    (replay,) = [s for s in at.slider if s.key and s.key.startswith("train_replay_")]
    assert (replay.min, replay.max, replay.value) == (0, 2, 2)
    latent = figure(at, "train_done_latent")
    assert sum(len(values(t["x"])) for t in latent["data"]) == 2000
    replay.set_value(0).run()
    assert not at.exception
    assert "before training" in " ".join(m.value for m in at.markdown)

    # Save under a valid name: written under tmp, listed at once.
    at.text_input(key="train_save_name").set_value("my-first-vae")
    at.button(key=SAVE).click().run()
    assert not at.exception, at.exception
    assert any("Saved as **my-first-vae**" in s.value for s in at.success)
    assert (mine / "my-first-vae" / "model.safetensors").is_file()
    config = json.loads((mine / "my-first-vae" / "config.json").read_text())
    assert config["training"]["epochs_completed"] == 2 and config["data"]["n_train"] == 500
    assert any("models/my-first-vae" in label for label in model_list(at))
    # The session's explored model is unchanged until the user picks the new one.
    assert "mnist-mlp" in at.selectbox(key="model_choice").value
    # "Explore it now" selects the model AND opens the Explore tab.
    at.button(key="train_explore_saved").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model_choice").value == str((mine / "my-first-vae").resolve())
    assert at.session_state["app_tab"] == "Explore"
    assert not [b for b in at.button if b.key == "train_start"]  # the Train tab did not run
    at.session_state["app_tab"] = "Train"
    at.run()

    # Saved, the run lets go of its model: the form is gone (no second save), the message and the replay stay.
    assert not [t for t in at.text_input if t.key == "train_save_name"]
    assert any("Saved as **my-first-vae**" in s.value for s in at.success)
    assert not any(str(mine) in s.value or str(ROOT) in s.value for s in at.success)  # no server path

    # A second run saved under the same name asks "replace?"; "Keep it" replaces nothing, "Replace" does.
    at.button(key=START).click().run()
    run_until_done(at)
    at.text_input(key="train_save_name").set_value("my-first-vae")
    at.button(key=SAVE).click().run()
    assert any(w.value == "A model named **my-first-vae** already exists. Replace it?" for w in at.warning)
    before = (mine / "my-first-vae" / "config.json").read_text()
    at.button(key="train_save_keep").click().run()
    assert (mine / "my-first-vae" / "config.json").read_text() == before
    assert any("Nothing was replaced" in i.value for i in at.info)
    at.button(key=SAVE).click().run()
    at.button(key="train_save_replace").click().run()
    assert not at.exception, at.exception
    assert any("Saved as **my-first-vae**" in s.value for s in at.success)
    assert (mine / "my-first-vae" / "config.json").read_text() != before  # the second run's model

    # Compare: the new model next to the shipped one, with its loss curves from config['history'].
    entries = {e.name: e.folder for e in model_registry.list_models()}
    at.selectbox(key="train_compare_0").set_value(entries["my-first-vae"])
    at.selectbox(key="train_compare_1").set_value(entries["mnist-mlp"]).run()
    assert not at.exception, at.exception
    latent = figure(at, "train_compare_0_latent")["data"]
    assert len([t for t in latent if "customdata" in t]) == 10  # a trace per class (and the ★ both decode)
    assert [t["name"] for t in latent if "customdata" not in t] == ["★ z, decoded below"]
    assert len(values(figure(at, "train_compare_0_loss")["data"][3]["y"])) == 2  # test loss per epoch
    assert any("holds no training curves" in c.value for c in at.caption)  # the tiny 'pretrained' one


def test_invalid_name_is_refused(at, dirs):
    _, mine = dirs
    configure(at, epochs=1).button(key=START).click().run()
    run_until_done(at)
    for bad in ("has space", "../escape", "semi;colon", "_recovered"):  # (over 64 characters cannot be typed)
        at.text_input(key="train_save_name").set_value(bad)
        at.button(key=SAVE).click().run()
        assert at.error and "name" in at.error[0].value, bad
    assert [p.name for p in mine.iterdir()] == []


def test_a_save_that_cannot_be_written_is_one_line_and_the_run_can_be_saved_again(at, dirs, monkeypatch):
    """The safetensors writer failing (a full disk) is one line under the form, not an app error; the run and
    its form stay, nothing is left in models/, and the next Save works."""
    from safetensors import SafetensorError

    import vae_core.checkpoint

    _, mine = dirs
    configure(at, epochs=1).button(key=START).click().run()
    run_until_done(at)

    def full(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    writer = vae_core.checkpoint.save_file
    monkeypatch.setattr(vae_core.checkpoint, "save_file", full)
    at.text_input(key="train_save_name").set_value("full-disk")
    at.button(key=SAVE).click().run()
    assert not at.exception, at.exception
    (line,) = [e.value for e in at.error]
    assert "could not be written" in line and "No space left on device" in line and str(mine) not in line
    assert list(mine.iterdir()) == []
    monkeypatch.setattr(vae_core.checkpoint, "save_file", writer)  # (undo() would drop the dirs fixture's too)
    at.button(key=SAVE).click().run()
    assert any("Saved as **full-disk**" in s.value for s in at.success)


def test_another_sessions_model_is_not_replaced_and_ones_own_can_be_deleted(at, dirs):
    """A name another session saved is refused without a Replace button, its model left as it was; this
    session's own saved model is listed with Delete, which asks first; others' models are not listed."""
    _, mine = dirs
    save_checkpoint(VAE(VAEConfig(hidden=(16,))), mine / "CON")  # not this session's (test_model_saves: a session's)
    theirs = (mine / "CON" / "model.safetensors").read_bytes()
    configure(at, epochs=1).button(key=START).click().run()
    run_until_done(at)
    at.text_input(key="train_save_name").set_value("CON")
    at.button(key=SAVE).click().run()
    assert any("saved by another session" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "train_save_replace"]
    assert (mine / "CON" / "model.safetensors").read_bytes() == theirs
    at.text_input(key="train_save_name").set_value("mine-1")
    at.button(key=SAVE).click().run()
    assert any("Saved as **mine-1**" in s.value for s in at.success)
    deletes = [b.key for b in at.button if b.key and b.key.startswith("train_delete_model_")]
    assert deletes == ["train_delete_model_mine-1"]  # not CON: another session's
    at.button(key="train_delete_model_mine-1").click().run()
    assert any("Delete **mine-1** for good?" in w.value for w in at.warning)
    assert (mine / "mine-1").is_dir()  # not before the confirm
    at.button(key="train_delete_yes").click().run()
    assert not at.exception, at.exception
    assert any("Deleted **mine-1**" in s.value for s in at.success)
    assert sorted(p.name for p in mine.iterdir()) == ["CON"]
    assert not [b for b in at.button if b.key and b.key.startswith("train_delete_model_")]


def test_forced_nan_shows_divergence_and_saves_nothing(at, dirs):
    _, mine = dirs
    configure(at, lr=1e12, schedule="constant", epochs=1).button(key=START).click().run()
    run_until_done(at)
    text = _outcome(at)
    assert text.startswith("Training diverged") and "learning rate" in text and "nothing was saved" in text
    assert any(e.value == text for e in at.error)
    assert not [t for t in at.text_input if t.key == "train_save_name"]  # no save form
    assert list(mine.iterdir()) == []


def test_bad_settings_and_second_job_are_refused(at, dirs):
    configure(at, hidden="big").button(key=START).click().run()
    assert any("Hidden sizes" in e.value for e in at.error)
    # Another session's job is running: this one is told so and watches it.
    gate = Hold()
    other = registry().start("someone-else", VAEConfig(hidden=(8,)),
                                TrainConfig(epochs=1, limit=500, batch_size=50, device="cpu"),
                                callbacks=[gate])
    try:
        configure(at, hidden="32,16").button(key=START).click().run()
        assert any("already running" in w.value for w in at.warning)
        assert any("another session" in i.value for i in at.info)
        assert not [b for b in at.button if b.key == "train_stop"]  # read-only: no Stop button
    finally:
        other.stop()
        gate.set()
        other.wait(30)


def test_a_ray_address_with_no_cluster_is_one_line_and_the_form_comes_back(at, dirs, monkeypatch):
    """RAY_ADDRESS naming a port where nothing listens: Start answers within seconds with one line naming the
    address, no job is left behind and the form is usable again (Ray itself would retry for minutes)."""
    pytest.importorskip("ray", reason="Ray is optional (requirements-ray.txt)")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    configure(at, epochs=1)
    t0 = time.monotonic()
    at.button(key=START).click().run(timeout=60)
    took = time.monotonic() - t0
    assert not at.exception, at.exception
    (line,) = [e.value for e in at.error if "does not answer" in e.value]
    assert f"the Ray cluster at {address} does not answer" in line and "\n" not in line
    assert took < 15, took  # the probe's bound (3 s) and the page's run, on a busy machine
    assert registry().job_for(at.session_state["train_session_id"]) is None
    assert not at.button(key=START).disabled


def progress_lines(at) -> list[str]:
    return [e.proto.text for e in at.get("progress")]


@pytest.mark.parametrize("hold", [False, True], ids=["loop-hears-it", "loop-held-in-a-step"])
def test_stop_gives_the_form_back_in_the_clicks_own_response(at, monkeypatch, hold):
    """Stop does not wait for the run to end: the click's own rerun shows an enabled Start (the form is usable)
    and "Stopping…", and the poll after the run's end shows the outcome. hold: the worker's loop sits in its
    first step and its kill is put off for a minute, so the run cannot have ended by the click's rerun, however
    loaded the machine: the form is back all the same, and a Start pressed then waits for the stopping run to
    end (training/registry.py), then trains the next one."""
    assert STOP_GRACE_S + local_worker.EXIT_WAIT_S < 1.0  # the run's end within a second: the kill, then its end read
    monkeypatch.setattr(training_registry, "STOPPING_WAIT_S", 60.0)  # a loaded machine cannot fail what follows
    gate = Hold()
    reg = registry()
    start = reg.start
    if hold:
        monkeypatch.setattr(reg, "start", lambda *a, **k: start(*a, callbacks=[gate], stop_grace=60.0, **k))
    configure(at, epochs=200).button(key=START).click().run()
    sid = at.session_state["train_session_id"]
    job = reg.job_for(sid)
    assert job is not None and job.session_id == sid
    jobs = [job]
    try:
        while job.snapshot().state != "running" and not job.wait(0.05):  # however long a busy machine takes
            pass
        at.run()
        assert at.button(key=START).disabled and not job.done
        at.button(key="train_stop").click().run()
        assert not at.exception, at.exception
        assert not at.button(key=START).disabled
        assert job.snapshot().stop_reason == "user"
        if hold:
            assert not job.done
            assert any(t.startswith("Stopping…") for t in progress_lines(at)), progress_lines(at)
            threading.Timer(0.5, gate.set).start()  # the loop ends its step while Start waits
            monkeypatch.setattr(reg, "start", start)
            at.button(key=START).click().run()
            assert not at.exception, at.exception
            assert job.done and job.snapshot().state == "stopped"
            new = reg.job_for(sid)
            jobs.append(new)
            assert new is not job and new.running and at.button(key=START).disabled
            assert not [e for e in at.warning if "still ending" in e.value or "already training" in e.value]
        else:
            assert job.wait(60)
            at.run()
            assert _outcome(at).startswith("Training stopped") and not at.button(key=START).disabled
            assert "))" not in _outcome(at), "the library's bracket inside another"
    finally:
        gate.set()
        for j in jobs:
            j.stop()
            j.wait(60)


# --- the form follows the settings ------------------------------------------------------------


def preview(at) -> str:
    (code,) = [c.value for c in at.code if c.value.startswith("python -m vae_core.train")]
    return code


def test_fields_that_do_not_apply_are_disabled_and_the_preview_follows_every_change(at):
    assert at.text_input(key="train_conv_channels").disabled  # MLP
    assert at.number_input(key="train_sigma").disabled  # Bernoulli
    assert at.number_input(key="train_corruption_level").disabled  # no corruption
    notes = [c.value for c in at.caption]
    assert {"Not used: convolutional only.", "Not used: Gaussian likelihood only.",
            "Not used: with a corruption only."} <= set(notes)
    assert "--beta 1 " in preview(at) and "--conv-channels" not in preview(at)

    # Each change shows at once (no Start pressed): beta, the architecture, the likelihood, a corruption.
    at.number_input(key="train_beta").set_value(4.0).run()
    assert "--beta 4 " in preview(at)
    at.selectbox(key="train_arch").set_value("conv").run()
    assert not at.text_input(key="train_conv_channels").disabled
    assert "--arch conv" in preview(at) and "--conv-channels 32,64" in preview(at)
    at.selectbox(key="train_likelihood").set_value("gaussian").run()
    at.number_input(key="train_sigma").set_value(0.2).run()
    assert not at.number_input(key="train_sigma").disabled and "--sigma 0.2" in preview(at)
    at.selectbox(key="train_corruption").set_value("gaussian").run()
    at.number_input(key="train_corruption_level").set_value(0.3).run()
    assert "--corruption gaussian --corruption-level 0.3" in preview(at)

    # The preview parses back to exactly the settings that Start would use.
    from vae_core.train import configs_from_args, parse_args
    text = preview(at).removesuffix(" --out models/NAME")
    assert configs_from_args(parse_args(shlex.split(text)[3:])) == (
        VAEConfig(arch="conv", likelihood="gaussian", sigma=0.2, beta=4.0),
        TrainConfig(epochs=form.PRESETS["Quick demo"]["epochs"], limit=2000, device="cpu", corruption="gaussian",
                    corruption_level=0.3))  # the first preset's epochs; its 60,000 images are not offered here

    # A bad value: the preview says what to fix, naming the field by its label.
    at.text_input(key="train_hidden").set_value("big").run()
    assert not [c for c in at.code if c.value.startswith("python")]
    assert any("Hidden sizes must be" in c.value for c in at.caption)


def test_replay_plays_and_pauses(at):
    configure(at, epochs=3).button(key=START).click().run()
    run_until_done(at)
    (replay,) = [s for s in at.slider if s.key and s.key.startswith("train_replay_")]
    key = replay.key.removesuffix("_epoch")
    assert replay.value == 3
    shown = lambda: [m.value for m in at.markdown if m.value.startswith("**Latent space")][0]  # noqa: E731
    playing_slider = lambda: at.slider(key=f"{key}_epoch_playing")  # noqa: E731 (disabled while it plays)
    at.button(key=f"{key}_play").click().run()  # Play at the last epoch starts over: 0, then on by one
    assert at.button(key=f"{key}_play").label == "Pause"
    assert playing_slider().value == 1 and playing_slider().disabled and "after epoch 1" in shown()
    at.run()  # a tick of the fragment's timer (AppTest runs the whole page; the fragment moves on once a run)
    assert playing_slider().value == 2 and "after epoch 2" in shown()
    assert at.button(key=f"{key}_play").label == "Pause"
    at.button(key=f"{key}_play").click().run()  # Pause: stays
    assert at.button(key=f"{key}_play").label == "Play"
    at.run()
    assert at.slider(key=f"{key}_epoch").value == 2 and "after epoch 2" in shown()
    at.slider(key=f"{key}_epoch").set_value(1).run()  # scrubbing while paused moves the replay
    assert "after epoch 1" in shown()
    at.button(key=f"{key}_play").click().run()  # Play from there
    assert playing_slider().value == 2
    at.run()
    assert playing_slider().value == 3
    at.run()  # at the end it stops by itself
    assert at.button(key=f"{key}_play").label == "Play" and at.slider(key=f"{key}_epoch").value == 3
    assert not at.exception, at.exception


# --- time labels ------------------------------------------------------------------------------


def simulated_run(job: TrainingJob, epochs: int = 10, steps: int = 100, check=None) -> None:
    """Feed `job` the messages of a run whose first epoch is slow: its first fifth of steps at 0.5 s (a cold
    start), then 0.1 s a step; a test evaluation of 3 s after epoch 1, of 2 s after the others. check(t, true
    seconds left) after every step from the second epoch on."""
    from dashboard.training.protocol import EpochEnded, Started, StepRow, Steps

    job._on_message(Started(epochs * steps, object()))
    t, step = 0.0, 0
    for epoch in range(1, epochs + 1):
        for k in range(steps):
            t += 0.5 if epoch == 1 and k < steps // 5 else 0.1
            step += 1
            job._on_message(Steps([StepRow(step, epoch, 100.0, 90.0, 10.0, t)]))
            if check is not None and epoch >= 2:
                check(t, (epochs * steps - step) * 0.1 + (epochs - epoch + 1) * 2.0)
        t += 3.0 if epoch == 1 else 2.0
        job._on_message(EpochEnded({"epoch": epoch, "step": step, "elapsed": t, "test_loss": 1.0}, object(), {}))


def test_the_time_left_holds_within_a_quarter_from_the_second_epoch():
    """The ETA from the completed epochs' pace (training/eta.py): within 25 % of the true time left at every
    step of a run with a slow first epoch, from the second epoch on (the mean pace since the start, as before,
    said twice the time at the start of epoch 2). The progress line shows that figure."""
    job = TrainingJob(VAEConfig(hidden=(8,)), TrainConfig(epochs=10, device="cpu"), session_id="s")
    worst = []

    def check(t, true_left):
        s = job.snapshot()
        worst.append(abs(s.eta - true_left) / true_left)
        if len(worst) % 97 == 1:
            assert f"about {format_seconds(s.eta)} left" in live.progress_text(s)

    simulated_run(job, check=check)
    assert len(worst) == 900 and max(worst) <= 0.25, max(worst)


def test_the_time_left_names_a_slowdown():
    from dashboard.training.eta import EpochClock

    clock = EpochClock(400, epochs=4)
    t = 0.0
    for step in range(1, 201):
        t += 0.1 if step <= 100 else 0.2  # the second epoch at half the first one's pace
        clock.step(step, t)
        if step == 100:
            clock.epoch_end(100, t)
    assert clock.slowdown() == pytest.approx(2.0)
    assert train_speed.pace_text(30.0, clock.slowdown()).endswith(
        "other sessions are slowing this run: 2.0x slower than its fastest epoch")
    assert "slowing" not in train_speed.pace_text(30.0, 1.0)


def test_preset_durations_come_from_this_machine(monkeypatch):
    """Every preset's label is one method: a short run of vae_core's own loop timed here, steps x seconds a step
    plus one evaluation an epoch; a completed run does not replace it with a figure of its own."""
    model_cfg, cfg = VAEConfig(hidden=(32,)), TrainConfig(epochs=2, batch_size=50, limit=500, device="cpu")
    step_s, eval_s = train_speed.measure(model_cfg, 50, "cpu", steps=3)
    assert step_s > 0 and eval_s > 0

    def not_here(*args, **kwargs):
        raise AssertionError("a preset was timed in the web server's process")

    # The server's timings run in a process of their own, like a training: never in the server's interpreter.
    monkeypatch.setattr(train_speed, "measure", not_here)
    presets = {"Tiny": dict(form.BASE, hidden="32", epochs=2, batch_size=50, limit=500),
               "Tiny 16-D": dict(form.BASE, hidden="32", latent_dim=16, epochs=2, batch_size=50, limit=500)}
    label = train_speed.preset_label(presets, (500,))
    thread = train_speed.ensure_measured([(model_cfg, cfg)])
    if thread is not None:
        thread.join(120)
    est = train_speed.estimate(model_cfg, cfg, 500)
    assert est is not None and est[1] == "timed on this server"
    # epoch = ceil(500 / 50) steps + one evaluation, from this machine's own timing
    assert est[0] == pytest.approx(2 * (10 * train_speed._step_s[(model_cfg, 50, "cpu")]
                                        + train_speed._eval_s[(model_cfg, "cpu")]))
    assert label("Tiny") == f"Tiny: about {format_seconds(est[0])} (timed on this server)"
    assert label("Tiny 16-D").endswith("(timed on this server)")  # the same method for every preset
    assert not hasattr(train_speed, "finish_run")  # no other source of a label


def test_a_server_ending_during_a_preset_timing_logs_no_failure():
    """multiprocessing ends the (daemonic) timing process when the interpreter exits; the server's log must not
    call that a failed timing, with a traceback."""
    code = f"""
import logging, multiprocessing, multiprocessing.util, sys, time
sys.path.insert(0, {str(ROOT)!r})
logging.basicConfig(level=logging.INFO)
from dashboard.training import speed as train_speed
from vae_core.config import VAEConfig
from vae_core.train_config import TrainConfig
# a model that takes many seconds to time on any CPU: the timing is still running when the interpreter ends
train_speed.ensure_measured([(VAEConfig(hidden=(2048, 2048)), TrainConfig(batch_size=2000, device="cpu"))])
while not multiprocessing.active_children():
    time.sleep(0.05)
# after multiprocessing has terminated its children at exit, wait for the timing thread to have dealt with that
multiprocessing.util.Finalize(None, lambda: train_speed._thread and train_speed._thread.join(60), exitpriority=-1)
print("timing", flush=True)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "timing" in out.stdout, out.stderr
    assert "timing the preset model failed" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_saved_model_keeps_its_replay_and_compare_plays_it(at, dirs):
    _, mine = dirs
    configure(at, epochs=2).button(key=START).click().run()
    run_until_done(at)
    job = registry().job_for(at.session_state["train_session_id"])
    run_frames = job.snapshot().latents
    at.text_input(key="train_save_name").set_value("with-replay")
    at.button(key=SAVE).click().run()
    stored = read_replay(mine / "with-replay")
    assert stored is not None and [f.epoch for f in stored.frames] == [0, 1, 2]
    assert np.allclose(stored.frames[-1].points, run_frames[-1].points, rtol=2e-3, atol=2e-3)
    assert np.array_equal(stored.frames[1].samples, run_frames[1].samples)

    entries = {e.name: e.folder for e in model_registry.list_models()}
    at.selectbox(key="train_compare_0").set_value(entries["with-replay"]).run()
    assert not at.exception, at.exception
    key = "train_compare_0_replay"
    assert at.slider(key=f"{key}_epoch").value == 2
    at.button(key=f"{key}_play").click().run()
    assert at.slider(key=f"{key}_epoch_playing").value == 1
    at.run()
    assert at.slider(key=f"{key}_epoch_playing").value == 2
    assert any("after epoch 2" in m.value for m in at.markdown)
    assert not at.exception, at.exception


def test_stop_says_stopping_at_once(mnist):
    """The click's own rerun shows "Stopping…" (the worker ends within a second; the page polls once a second)."""
    import dataclasses

    gate = Hold()
    job = TrainingJob(VAEConfig(hidden=(8,)), TrainConfig(epochs=1, limit=500, batch_size=50, device="cpu"),
                         session_id="s", data=mnist, callbacks=[gate])
    job.start()
    try:
        while job.snapshot().state != "running" and not job.wait(0.05):
            pass
        s = dataclasses.replace(job.snapshot(), stop_reason="user")
        text = live.progress_text(s)
        assert text.startswith("Stopping…") and "no epoch has completed yet" in text
    finally:
        gate.set()
        job.stop()
        job.wait(60)


# --- beyond two dimensions ------------------------------------------------------------------------


def test_the_form_has_the_latent_dimension_and_a_16d_preset(at):
    dim = at.number_input(key="train_latent_dim")
    assert (dim.min, dim.max, dim.value) == (1, 64, 2)
    assert "16-D MLP" in at.selectbox(key="train_preset").options
    at.selectbox(key="train_preset").set_value("16-D MLP").run()
    assert at.number_input(key="train_latent_dim").value == 16
    # its time, like the other presets', measured on this server (or being measured), never written down
    assert any(c.value.startswith("16-D MLP: about ") or c.value == "16-D MLP: being timed on this server…"
               for c in at.caption)
    from vae_core.train import configs_from_args, parse_args

    for d in (16, 5):
        at.number_input(key="train_latent_dim").set_value(d).run()
        text = preview(at).removesuffix(" --out models/NAME")
        assert f"--latent-dim {d} " in text
        # the text parses back to the run Start would begin: the 16-D preset's settings with d latent dimensions
        assert configs_from_args(parse_args(shlex.split(text)[3:])) == (
            VAEConfig(latent_dim=d), TrainConfig(epochs=form.PRESETS["16-D MLP"]["epochs"], limit=2000, device="cpu"))
    at.selectbox(key="train_preset").set_value("Quick demo").run()
    assert at.number_input(key="train_latent_dim").value == 2  # the other presets are 2-D


def test_the_form_offers_likelihoods_binarization_activation_and_burdas_preset(at):
    assert at.selectbox(key="train_likelihood").options == ["bernoulli", "continuous-bernoulli", "gaussian"]
    assert at.selectbox(key="train_binarize").options == ["none", "dynamic", "static"]
    assert at.selectbox(key="train_activation").options[:2] == ["relu", "tanh"]
    assert any(c.value.startswith("Its nats: Bernoulli cross-entropy on grey levels") for c in at.caption)
    at.selectbox(key="train_preset").set_value("Burda et al. 2016 (binarized, 50-D, tanh)").run()
    assert at.selectbox(key="train_binarize").value == "dynamic"
    assert any(c.value.startswith("Its nats: -log p(x) of binarized test images") for c in at.caption)
    from vae_core.train import configs_from_args, parse_args

    text = preview(at).removesuffix(" --out models/NAME")
    assert "--activation tanh" in text and "--binarize dynamic" in text
    model_cfg, train_cfg = configs_from_args(parse_args(shlex.split(text)[3:]))
    assert (model_cfg.hidden, model_cfg.activation, model_cfg.latent_dim) == ((200, 200), "tanh", 50)
    assert (train_cfg.binarize, train_cfg.iwae_samples) == ("dynamic", 1)
    at.selectbox(key="train_likelihood").set_value("continuous-bernoulli").run()
    assert "--likelihood continuous-bernoulli" in preview(at)


def test_a_3d_run_is_mapped_on_its_pca_plane_live_replayed_and_saved(at, dirs):
    _, mine = dirs
    configure(at, latent_dim=3, epochs=2).button(key=START).click().run()
    run_until_done(at)
    assert _outcome(at).startswith("Trained 2 epochs"), _outcome(at)
    latent = figure(at, "train_done_latent")
    x_title, y_title = latent["layout"]["xaxis"]["title"]["text"], latent["layout"]["yaxis"]["title"]["text"]
    assert x_title.startswith("PC1 · ") and y_title.startswith("PC2 · ") and "% of the variance" in x_title
    job = registry().job_for(at.session_state["train_session_id"])
    last = job.snapshot().latents[-1]
    assert x_title == f"PC1 · {100 * float(last.variance[0]):.0f}% of the variance"
    assert any(c.value.startswith("For more than two latent dimensions the map is the PCA plane") for c in at.caption)
    at.text_input(key="train_save_name").set_value("three-d")
    at.button(key=SAVE).click().run()
    stored = read_replay(mine / "three-d")
    assert stored is not None and all(f.basis.shape == (2, 3) for f in stored.frames)
    assert np.allclose(stored.frames[-1].basis, last.basis)


# --- the live view's map, a picture ---------------------------------------------------------------


def test_the_live_map_picture_puts_each_code_where_it_is_in_its_class_colour():
    """figures.latent_image: z = (0, 0) at the centre, (e, e) at the top right corner (z2 up), (-e, -e) at the
    bottom left, each dot in its class's colour; a code that is not finite is left out, not drawn at a border."""
    e, n = 4.0, figures.LIVE_MAP_PX
    points = np.array([[0.0, 0.0], [e, e], [-e, -e], [np.nan, 1.0]], dtype=np.float32)
    img = figures.latent_image(points, np.array([1, 2, 3, 4]), e)
    assert img.shape == (n, n, 3) and img.dtype == np.uint8

    def rgb(k):
        c = views.CLASS_COLORS[k]
        return [int(c[i:i + 2], 16) for i in (1, 3, 5)]

    mid = round(0.5 * (n - 1))
    assert img[n - 1 - mid, mid].tolist() == rgb(1)
    assert img[0, n - 1].tolist() == rgb(2)  # top right
    assert img[n - 1, 0].tolist() == rgb(3)  # bottom left
    colours = {tuple(p) for p in img.reshape(-1, 3).tolist()}
    assert tuple(rgb(4)) not in colours  # the NaN code is nowhere
    assert colours <= {tuple(rgb(k)) for k in (1, 2, 3)} | {(255, 255, 255), (215, 215, 215)}
