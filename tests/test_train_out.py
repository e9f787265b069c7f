"""The train command's --out: a destination that cannot be written is refused before the data is read (one
line naming --out, exit 2), a failure while writing later is one line too, and a shipped model in pretrained/
is replaced only with --replace-pretrained."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from factories import tiny_checkpoint
from vae_core import checkpoint
from vae_core.train import main

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["--hidden", "16", "--device", "cpu", "--limit", "100", "--epochs", "1"]


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def _refused(out, capsys, rc: int = 2, extra=()) -> str:
    assert main([*QUICK, *extra, "--out", str(out)]) == rc
    captured = capsys.readouterr()
    (line,) = [x for x in captured.err.strip().splitlines() if "error" in x.lower()]  # besides the progress bar
    assert line.startswith(f"error: --out {out}") and "Traceback" not in captured.err, captured.err
    return captured


def test_an_out_that_cannot_be_written_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("keep")
    before = _tree(tmp_path)
    for out in (tmp_path / "file" / "sub", Path("/proc/self/x"), Path("/proc/self/new/deeper"),
                tmp_path / ("n" * 300), tmp_path / "a" / ("n" * 300) / "m", tmp_path / ("n" * 250)):
        captured = _refused(out, capsys)
        assert "training" not in captured.out, captured.out  # before the data was read or a step taken
    assert _tree(tmp_path) == before  # nothing created, the trial file removed


def test_a_disk_without_room_is_refused_before_training(tmp_path, capsys, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda path: usage._replace(free=10_000))
    captured = _refused(tmp_path / "m", capsys)
    assert "no room" in captured.err and "training" not in captured.out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EROFS,
                                   "Read-only file system")])
def test_a_write_that_fails_after_training_is_one_line(tmp_path, capsys, monkeypatch, error):
    def full(*args, **kwargs):
        raise error

    monkeypatch.setattr(checkpoint, "save_file", full)
    captured = _refused(tmp_path / "m", capsys, rc=1)
    assert f"could not be written ({error.strerror})" in captured.err
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing half-written


def test_a_shipped_model_is_replaced_only_when_asked(tmp_path, capsys, monkeypatch):
    assert checkpoint.PRETRAINED_DIR == ROOT / "pretrained"
    pre = tmp_path / "pretrained"
    shipped = tiny_checkpoint(pre / "mnist-mlp")
    monkeypatch.setattr(checkpoint, "PRETRAINED_DIR", pre)
    before = _tree(pre)
    for out in (shipped, pre / "new-one", pre):
        captured = _refused(out, capsys)
        assert "--replace-pretrained" in captured.err and "training" not in captured.out
    assert _tree(pre) == before
    assert main([*QUICK, "--replace-pretrained", "--out", str(shipped)]) == 0
    assert _tree(pre) != before


def test_the_script_that_retrains_the_shipped_models_asks_to_replace_them():
    lines = [x for x in (ROOT / "scripts" / "train_pretrained.sh").read_text().splitlines() if "--out pretrained/" in x]
    shipped = sorted(p.name for p in (ROOT / "pretrained").iterdir() if (p / "model.safetensors").exists())
    assert len(lines) == len(shipped) == 8 and all("--replace-pretrained --out pretrained/" in x for x in lines)
