"""Weights that do not match their config are seen without loading them: the model list checks each weights
file's size and safetensors header (vae_core.checkpoint.check_weights_file), so a damaged one is listed as
unreadable, not with its recorded loss; and a model whose weights overflow (finite, 3e38) is refused by the
evaluator in one line and gives the app one line for its empty map."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from bad_checkpoints import write_bad_checkpoints
from dashboard.model import compute, registry
from factories import tiny_checkpoint
from vae_core import checkpoint
from vae_core.checkpoint import CheckpointError, load_checkpoint, read_config
from vae_core.config import VAEConfig
from vae_core.evaluate import main as evaluate_main

ROOT = Path(__file__).resolve().parent.parent
HEADER_SOUND = {"weights-nan-value"}  # only the values are wrong: a full load tells, the header cannot


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> dict:
    corpus = write_bad_checkpoints(tmp_path_factory.mktemp("bad"))
    return {name: folder for name, folder in corpus.items() if name.startswith("weights-")}


def _describe_within(folder, seconds: float = 20.0) -> registry.ModelEntry:
    """registry.describe in a thread: a FIFO opened for reading would block it for ever, the test must not."""
    out = []
    worker = threading.Thread(target=lambda: out.append(registry.describe(folder, "models")), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"describing {folder.name} blocked"
    return out[0]


def test_damaged_weights_under_a_sound_config_are_listed_unreadable(damaged):
    assert {"weights-a-fifo", "weights-header-lies", "weights-foreign-tensors", "weights-truncated",
            "weights-garbage", "weights-missing", "weights-header-length-huge"} <= set(damaged)
    for name, folder in damaged.items():
        entry = _describe_within(folder)
        if name in HEADER_SOUND:
            assert entry.error is None and entry.test_loss is not None, name
            continue
        assert entry.error, f"{name} listed as readable: {entry.label}"
        assert len(entry.label.splitlines()) == 1 and str(folder.parent) not in entry.label, entry.label
        assert entry.test_loss is None and entry.label.startswith(f"models/{name} · unreadable ("), entry.label
        with pytest.raises(CheckpointError):  # and loading it says so too
            load_checkpoint(folder)


def test_the_weights_check_reads_the_header_only(damaged, tmp_path):
    cfg = VAEConfig.from_dict(read_config(damaged["weights-nan-value"])["model"])
    folder = tiny_checkpoint(tmp_path / "ok")
    entry = registry.describe(folder, "models")
    assert entry.error is None and entry.test_loss == 150.0
    t = time.perf_counter()
    for _ in range(20):
        checkpoint.check_weights_file(damaged["weights-nan-value"] / "model.safetensors", cfg)
    assert (time.perf_counter() - t) / 20 < 0.05  # a 2 MB file: its 8 bytes and header, not its tensors


def test_half_precision_weights_pass_the_check(tmp_path):
    folder = tiny_checkpoint(tmp_path / "half")
    model, _ = load_checkpoint(folder)
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    assert registry.describe(folder, "models").error is None
    load_checkpoint(folder)


@pytest.fixture
def overflowing(tmp_path):
    """A checkpoint whose every weight is 3e38: finite, so it loads, and its codes overflow to inf and NaN."""
    folder = tiny_checkpoint(tmp_path / "huge")
    model, _ = load_checkpoint(folder)
    save_file({k: torch.full_like(v, 3e38) for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    return folder


def test_the_evaluator_refuses_overflowing_weights_in_one_line(overflowing, capsys):
    rc = evaluate_main([str(overflowing), "--json", "--iwae-k", "0", "--limit", "50"])
    captured = capsys.readouterr()
    if captured.out:
        json.loads(captured.out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert rc == 2 and captured.out == "", captured.out
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(f"error: {overflowing}: test_loss") and "not finite numbers" in line, line


def test_the_maps_encodings_say_why_they_are_empty(overflowing, mnist):
    model, _ = load_checkpoint(overflowing)
    small = dataclasses.replace(mnist, test_images=mnist.test_images[:100], test_labels=mnist.test_labels[:100])
    with pytest.raises(compute.NonFiniteCodes, match="^this model's codes are not finite numbers$"):
        compute.compute_encodings(model, small)


def test_the_explore_map_says_why_it_is_empty(overflowing, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard.training.registry import reset_registry

    pre = overflowing.parent / "pretrained"
    pre.mkdir()
    overflowing.rename(pre / "mnist-mlp")
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(tmp_path / "models"))
    reset_registry(max_jobs=1)
    try:
        app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
        app.run()
        assert not app.exception, app.exception
        shown = [e.value for e in app.error]
        assert any("this model's codes are not finite numbers" in x for x in shown), shown
    finally:
        reset_registry()
