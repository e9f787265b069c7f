"""--init-from: a run that starts from a checkpoint's weights (how pretrained/mnist50-binarized is fine-tuned with
the IWAE objective). It starts from exactly those weights, refuses another architecture or a folder that is not
a checkpoint with one line before any training, and records where it started in config.json."""

from __future__ import annotations

import json

import pytest
import torch

from vae_core import load_checkpoint
from vae_core.train import main, start_weights

QUICK = ["--hidden", "16", "--latent-dim", "2", "--device", "cpu", "--limit", "128", "--epochs", "1",
         "--batch-size", "64"]


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    out = tmp_path_factory.mktemp("start") / "m"
    assert main([*QUICK, "--seed", "3", "--out", str(out)]) == 0
    return out


def test_a_run_starts_from_the_checkpoint_s_weights(start, tmp_path):
    first, _ = load_checkpoint(start)
    assert all(torch.equal(first.state_dict()[k], v) for k, v in start_weights(str(start), first.cfg).items())
    # with a learning rate too small to move them, the fine-tuned weights are the start's (a fresh seed's are not)
    out, fresh = tmp_path / "ft", tmp_path / "fresh"
    assert main([*QUICK, "--seed", "0", "--lr", "1e-12", "--schedule", "constant", "--init-from", str(start),
                 "--out", str(out)]) == 0
    assert main([*QUICK, "--seed", "0", "--lr", "1e-12", "--schedule", "constant", "--out", str(fresh)]) == 0
    tuned, cfg = load_checkpoint(out)
    other, _ = load_checkpoint(fresh)
    for k, v in first.state_dict().items():
        assert torch.allclose(tuned.state_dict()[k], v, atol=1e-6), k
    assert any(not torch.allclose(other.state_dict()[k], v, atol=1e-3) for k, v in first.state_dict().items())
    assert cfg["training"]["init_from"] == str(start)
    assert json.loads((out / "config.json").read_text())["training"]["init_from"] == str(start)


def test_another_architecture_or_no_checkpoint_is_one_line_before_training(start, tmp_path, capsys):
    for extra, said in ((["--hidden", "32"], "its architecture is not this run's"),
                        (["--latent-dim", "3"], "its architecture is not this run's"),
                        ([], "not a checkpoint folder")):
        source = str(start) if said.startswith("its") else str(tmp_path / "nothing")
        assert main([*QUICK, *extra, "--init-from", source, "--out", str(tmp_path / "m")]) == 2
        captured = capsys.readouterr()
        (line,) = captured.err.strip().splitlines()
        assert line.startswith("error: --init-from") and said in line, line
        assert "training" not in captured.out and not (tmp_path / "m").exists()
