"""The whole of config.json validated in one place (vae_core/schema.py), the size budget checked before any
allocation, and every bad checkpoint of tests/bad_checkpoints.py refused with one line by the library and by
`python -m vae_core.evaluate`, in bounded memory."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import PRETRAINED, ROOT

from bad_checkpoints import write_bad_checkpoints
from vae_core import (
    MAX_PARAMETERS,
    BudgetError,
    CheckpointError,
    VAEConfig,
    check_budget,
    is_checkpoint_folder,
    load_checkpoint,
    parameter_count,
    read_config,
    save_checkpoint,
)
from vae_core import checkpoint as ck
from vae_core.config import VAEConfig
from vae_core.model import VAE

PRETRAINED_NAMES = ("mnist-mlp", "mnist-conv", "fashion-mlp")
needs_pretrained = pytest.mark.skipif(not (PRETRAINED / "mnist-mlp" / "model.safetensors").is_file(),
                                      reason="no pretrained/mnist-mlp")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return write_bad_checkpoints(tmp_path_factory.mktemp("bad"))


# --- the shipped checkpoints ------------------------------------------------------------------------------


@needs_pretrained
@pytest.mark.parametrize("name", PRETRAINED_NAMES)
def test_shipped_configs_validate_unchanged(name):
    folder = PRETRAINED / name
    raw = json.loads((folder / "config.json").read_text())
    assert read_config(folder) == raw  # every section kept, every value as written
    model, config = load_checkpoint(folder)
    assert config == raw
    # every model setting as written; one the file predates (activation) at the default it was trained with
    dumped, defaults = model.cfg.to_dict(), VAEConfig().to_dict()
    assert {k: dumped[k] for k in raw["model"]} == raw["model"]
    assert {k: dumped[k] for k in set(dumped) - set(raw["model"])} == {"activation": "relu"}
    assert dumped["activation"] == defaults["activation"]


# --- the corpus: each one refused, by the library and by the command line ----------------------------------


@needs_pretrained
def test_the_corpus_covers_every_kind_of_defect(corpus):
    assert len(corpus) >= 100
    for prefix in ("format", "model", "latent", "hidden", "image-shape", "sigma", "beta", "dropout", "data",
                   "dataset", "training", "metrics", "test-loss", "history", "versions", "created", "command",
                   "note", "json", "weights", "config"):
        assert any(name.startswith(prefix) for name in corpus), prefix


@needs_pretrained
def test_every_bad_checkpoint_raises_one_line_without_a_path(corpus):
    accepted, wrong = [], []
    for name, folder in corpus.items():
        try:
            load_checkpoint(folder)
        except CheckpointError as e:
            if "\n" in str(e) or str(folder.parent) in e.reason or not str(e).startswith(str(folder)):
                wrong.append((name, str(e)))
        else:
            accepted.append(name)
    assert accepted == [] and wrong == []


@needs_pretrained
@pytest.mark.parametrize("name,reason", [
    ("hidden-twelve-8192s", "would have 1,489,486,612 parameters; the limit is 16,000,000"),
    ("image-shape-huge", "model.image_shape.1: Input should be less than or equal to 128"),
    ("image-shape-2d", "model.image_shape"),
    ("json-nesting-10000", "nested more than"),
    ("json-5000-digit-int", "an integer of thousands of digits"),
    ("test-loss-400-digits", "metrics.test_loss: an integer of 400 digits"),
    ("json-nan-literal", "NaN"),
    ("json-1e400-loss", "metrics.test_loss: a number too large for a float"),
    ("json-infinity-hidden", "Infinity"),
    ("dataset-a-list", "data.dataset: Input should be 'mnist', 'fashion-mnist' or 'folder'"),
    ("metrics-a-list", "metrics: Input should be a JSON object"),
    ("history-steps-an-int", "history.steps"),
    ("history-epoch-string-loss", "history.epochs.0.test_loss: Input should be a valid number"),
    ("training-seed-huge", "training.seed: an integer of 22 digits"),
    ("format-version-true", "format version True is not supported"),
    ("weights-oversized", "too large for this model"),
])
def test_the_reason_says_what_is_wrong(corpus, name, reason):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(corpus[name])
    assert reason in info.value.reason


# Runs evaluate's main() on each folder in one process (a Python start per folder would take minutes on a
# loaded machine), and reports each exit status and stderr, and the process's peak memory.
_EVALUATE_EACH = r"""
import contextlib, io, json, sys
from tests.peak_memory import peak_kib
from vae_core.evaluate import main
report = {}
for folder in sys.argv[1:]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main([folder, "--iwae-k", "0"])
        except BaseException as e:  # a crash is a finding, not the end of the run
            rc, err = f"raised {type(e).__name__}", io.StringIO(str(e))
    report[folder] = {"rc": rc, "stderr": err.getvalue(), "stdout": out.getvalue()}
report["maxrss_kib"] = peak_kib()
print(json.dumps(report))
"""


@needs_pretrained
def test_evaluate_command_refuses_every_bad_checkpoint_in_one_line(corpus):
    folders = [str(f) for f in corpus.values()]
    proc = subprocess.run([sys.executable, "-c", _EVALUATE_EACH, *folders], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    bad = {}
    for name, folder in corpus.items():
        r = report[str(folder)]
        lines = r["stderr"].strip().splitlines()
        if not (isinstance(r["rc"], int) and r["rc"] != 0 and len(lines) == 1 and lines[0].startswith("error: ")
                and r["stdout"] == "" and "Traceback" not in r["stderr"]):
            bad[name] = r
    assert bad == {}
    assert report["maxrss_kib"] < 1024 * 1024  # under 1 GiB for all of them, the interpreter and torch included


@needs_pretrained
@pytest.mark.parametrize("name", ["hidden-twelve-8192s", "image-shape-huge", "json-nesting-10000"])
def test_evaluate_as_a_command(corpus, name):
    proc = subprocess.run([sys.executable, "-m", "vae_core.evaluate", str(corpus[name])], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(f"error: {corpus[name]}")


# --- the size budget -----------------------------------------------------------------------------------


def test_over_budget_configs_are_refused_before_building():
    with pytest.raises(BudgetError, match="would have 1,489,486,612 parameters; the limit is 16,000,000"):
        VAEConfig(hidden=(8192,) * 12)
    with pytest.raises(ValueError, match="image_shape"):
        VAEConfig(image_shape=(1, 2000, 2000))
    cfg = VAEConfig(arch="conv")
    check_budget(cfg, 4096)  # the dashboard's largest batch for the default conv net
    with pytest.raises(BudgetError, match="batch size 40,960 .* the limit is 256,000,000"):
        check_budget(cfg, 40960)


def test_the_largest_model_the_budget_allows_saves_and_loads(tmp_path):
    cfg = VAEConfig(hidden=(8192,), latent_dim=2)
    n = parameter_count(cfg)
    assert 12_000_000 < n <= MAX_PARAMETERS
    torch.manual_seed(0)
    folder = save_checkpoint(VAE(cfg), tmp_path / "big")
    assert (folder / "model.safetensors").stat().st_size <= ck.MAX_WEIGHTS_BYTES
    model, _ = load_checkpoint(folder)
    assert sum(p.numel() for p in model.parameters()) == n
    # Any model the budget allows fits the weights limit: nothing that can be saved is refused on load.
    assert 4 * MAX_PARAMETERS + ck.MAX_HEADER_BYTES <= ck.MAX_WEIGHTS_BYTES


# --- saving only what loads, only where it may ----------------------------------------------------------


def _tiny() -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(hidden=(8,)))


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def test_save_refuses_a_folder_of_other_files_and_leaves_it_untouched(tmp_path):
    models = tmp_path / "models"
    save_checkpoint(_tiny(), models / "a")
    (models / "notes.txt").write_text("mine")
    before = _snapshot(tmp_path)
    with pytest.raises(CheckpointError, match="not a checkpoint") as info:
        save_checkpoint(_tiny(), models)
    assert str(tmp_path) not in info.value.reason
    assert _snapshot(tmp_path) == before


def test_save_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("keep me")
    with pytest.raises(CheckpointError, match="not a folder"):
        save_checkpoint(_tiny(), tmp_path / "f")
    assert (tmp_path / "f").read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == ["f"]


def test_save_into_an_empty_folder(tmp_path):
    (tmp_path / "m").mkdir()
    save_checkpoint(_tiny(), tmp_path / "m")
    assert is_checkpoint_folder(tmp_path / "m")


@pytest.mark.parametrize("meta", [{"metrics": {"test_loss": "low"}}, {"data": {"dataset": "cifar10"}},
                                  {"history": {"steps": 5}}, {"command": "x" * 10_000}])
def test_save_refuses_a_config_that_would_not_load(tmp_path, meta):
    with pytest.raises(ValueError, match="would not load"):
        save_checkpoint(_tiny(), tmp_path / "m", meta)
    assert list(tmp_path.iterdir()) == []


def test_is_checkpoint_folder(tmp_path):
    folder = save_checkpoint(_tiny(), tmp_path / "m")
    assert is_checkpoint_folder(folder)
    (folder / "model.safetensors").unlink()
    assert is_checkpoint_folder(folder)  # config.json alone: what a damaged checkpoint looks like
    (folder / "extra").write_text("x")
    assert not is_checkpoint_folder(folder)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(folder)
    for p in ("empty", "file", "link", "missing"):
        assert not is_checkpoint_folder(tmp_path / p), p
    assert not is_checkpoint_folder(tmp_path)


def test_checkpoint_error_reason_has_no_path(tmp_path):
    with pytest.raises(CheckpointError) as info:
        read_config(tmp_path / "nowhere")
    e = info.value
    assert str(e) == f"{tmp_path / 'nowhere'}: {e.reason}" and str(tmp_path) not in e.reason
    assert CheckpointError("why").reason == str(CheckpointError("why")) == "why"
