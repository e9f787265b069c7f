"""vae_core/replay.py: the per-epoch latent maps and samples stored beside a checkpoint, and read back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from factories import tiny_checkpoint
from vae_core import is_checkpoint_folder, load_checkpoint
from vae_core.data import load_dataset, to_float
from vae_core.replay import REPLAY_NAME, Frame, read_replay, write_replay
from vae_core.train import main


def test_the_command_line_stores_the_replay_and_it_reads_back(tmp_path):
    out = tmp_path / "m"
    assert main(["--hidden", "32", "--device", "cpu", "--limit", "200", "--epochs", "2", "--out", str(out)]) == 0
    replay = read_replay(out)
    assert replay is not None and [f.epoch for f in replay.frames] == [0, 1, 2]
    data = load_dataset("mnist")
    assert np.array_equal(replay.labels, data.test_labels[:2000].numpy())
    assert all(f.points.shape == (2000, 2) and f.samples.shape == (8, 28, 28) for f in replay.frames)
    assert all(f.samples.dtype == np.uint8 for f in replay.frames)
    # The last frame is the saved model's map: its posterior means, to float16's precision.
    model, _ = load_checkpoint(out)
    with torch.no_grad():
        mu = model.encode(to_float(data.test_images[:2000]))[0][:, :2].numpy()
    assert np.allclose(replay.frames[-1].points, mu, rtol=2e-3, atol=2e-3)
    assert not np.allclose(replay.frames[0].points, replay.frames[-1].points, atol=1e-2)  # training moved it
    # A checkpoint with its replay is a checkpoint: the same --out may be trained again.
    assert is_checkpoint_folder(out)
    assert main(["--hidden", "32", "--device", "cpu", "--limit", "200", "--epochs", "1", "--out", str(out)]) == 0
    assert [f.epoch for f in read_replay(out).frames] == [0, 1]


def frames(n_epochs=3, n=50, latent_seed=0):
    rng = np.random.default_rng(latent_seed)
    return [Frame(e, rng.normal(size=(n, 2)).astype(np.float32), rng.integers(0, 256, (8, 28, 28), np.uint8))
            for e in range(n_epochs)]


def checkpoint(folder):
    return tiny_checkpoint(folder, hidden=(8,))


def test_write_and_read_round_trip(tmp_path):
    folder = checkpoint(tmp_path / "c")
    fr, labels = frames(), np.arange(50) % 10
    write_replay(folder, fr, labels)
    back = read_replay(folder)
    assert [f.epoch for f in back.frames] == [0, 1, 2] and np.array_equal(back.labels, labels)
    for a, b in zip(fr, back.frames):
        assert np.allclose(a.points, b.points, rtol=1e-3, atol=1e-3) and np.array_equal(a.samples, b.samples)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", REPLAY_NAME]
    assert (folder / REPLAY_NAME).stat().st_size < 50 * 2 * 2 * 3 + 8 * 784 * 3 + 2000  # float16, uint8: compact


@pytest.mark.parametrize("damage", ["garbage", "pickle", "nan", "wrong_dtype", "mismatch", "missing_key"])
def test_a_damaged_replay_reads_as_none(tmp_path, damage):
    folder = checkpoint(tmp_path / "c")
    path = folder / REPLAY_NAME
    good = {"epochs": torch.arange(2), "points": torch.zeros(2, 5, 2, dtype=torch.float16),
            "samples": torch.zeros(2, 8, 28, 28, dtype=torch.uint8), "labels": torch.zeros(5, dtype=torch.int64)}
    if damage == "garbage":
        path.write_bytes(b"\x00" * 100)
    elif damage == "pickle":
        torch.save(good, path)  # a pickle under the name: never unpickled, just refused
    else:
        bad = dict(good)
        if damage == "nan":
            bad["points"] = torch.full((2, 5, 2), float("nan"), dtype=torch.float16)
        elif damage == "wrong_dtype":
            bad["points"] = torch.zeros(2, 5, 2)
        elif damage == "mismatch":
            bad["labels"] = torch.zeros(4, dtype=torch.int64)
        else:
            del bad["labels"]
        save_file(bad, str(path))
    assert read_replay(folder) is None
    assert read_replay(tmp_path / "nowhere") is None


def test_a_plane_replay_round_trips_and_an_old_one_still_reads(tmp_path):
    """d > 2 runs store each frame's axes and their share of the variance; files without them (2-D runs, and
    replays written before they existed) read as before, with no plane."""
    folder = checkpoint(tmp_path / "c")
    rng = np.random.default_rng(1)
    planar = [Frame(f.epoch, f.points, f.samples, np.array([0.4, 0.2], np.float32),
                    np.linalg.qr(rng.normal(size=(16, 2)))[0].T.astype(np.float32)) for f in frames()]
    write_replay(folder, planar, np.arange(50) % 10)
    back = read_replay(folder)
    for a, b in zip(planar, back.frames):
        assert np.array_equal(a.basis, b.basis) and np.array_equal(a.variance, b.variance)
    write_replay(folder, frames(), np.arange(50) % 10)  # the old layout: four tensors
    assert all(f.basis is None and f.variance is None for f in read_replay(folder).frames)


@pytest.mark.parametrize("damage", ["nan", "shape", "only_one"])
def test_a_damaged_plane_reads_as_none(tmp_path, damage):
    folder = checkpoint(tmp_path / "c")
    t = {"epochs": torch.arange(2), "points": torch.zeros(2, 5, 2, dtype=torch.float16),
         "samples": torch.zeros(2, 8, 28, 28, dtype=torch.uint8), "labels": torch.zeros(5, dtype=torch.int64),
         "variance": torch.full((2, 2), 0.3), "bases": torch.zeros(2, 2, 16)}
    if damage == "nan":
        t["bases"][0, 0, 0] = float("nan")
    elif damage == "shape":
        t["variance"] = torch.zeros(3, 2)
    else:
        del t["variance"]
    save_file(t, str(folder / REPLAY_NAME))
    assert read_replay(folder) is None
