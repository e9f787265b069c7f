"""Saving models from the app when things go wrong: two processes saving one name at once (replicas sharing the
models folder), a full disk or a folder in the way, another session's model, and deleting one's own."""

from __future__ import annotations

import errno
import multiprocessing as mp
from pathlib import Path

import pytest
import torch
from conftest import finishes, small_mnist, tiny_cfg
from safetensors import SafetensorError

import vae_core.checkpoint
from dashboard.training import save as save_mod
from dashboard.training.job import TrainingJob
from dashboard.training.save import ModelExistsError, save_user_model
from vae_core import VAE, VAEConfig
from vae_core.checkpoint import load_checkpoint, read_config
from vae_core.replay import read_replay
from vae_core.replay import write_replay as write_replay_really
from vae_core.train_config import TrainConfig

ROUNDS = 20


def _save_rounds(tag: str, root: str, barrier, results) -> None:
    """One replica: save models r0, r1, ... each at the same moment as the other process."""
    torch.manual_seed(hash(tag) % 1000)
    model = VAE(VAEConfig(hidden=(8,)))
    for i in range(ROUNDS):
        barrier.wait(60)
        try:
            save_user_model(model, f"r{i}", models_root=root, meta={"writer": tag})
            results.put((i, tag, "Saved"))
        except ModelExistsError:
            results.put((i, tag, "exists"))
        except Exception as e:  # noqa: BLE001  (the parent says what went wrong)
            results.put((i, tag, f"{type(e).__name__}: {e}"))


def test_two_processes_saving_one_name_at_once_exactly_one_wins(tmp_path):
    """Every round, two processes save the same new name at the same moment: exactly one is told "Saved", the
    other that the name exists, and the folder holds the winner's model (nobody's save silently replaced)."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_save_rounds, args=(tag, str(tmp_path), barrier, results)) for tag in "AB"]
    for p in procs:
        p.start()
    outcomes: dict[int, dict[str, str]] = {}
    for _ in range(2 * ROUNDS):
        i, tag, what = results.get(timeout=300)
        outcomes.setdefault(i, {})[tag] = what
    for p in procs:
        p.join(60)
    both = [i for i, o in outcomes.items() if list(o.values()).count("Saved") != 1]
    assert not both, f"rounds without exactly one winner: {[(i, outcomes[i]) for i in both]}"
    for i, o in outcomes.items():
        assert sorted(o.values()) == ["Saved", "exists"], o
        (winner,) = [t for t, what in o.items() if what == "Saved"]
        assert read_config(tmp_path / f"r{i}")["writer"] == winner
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


# --- errors while writing ------------------------------------------------------------------------------


def finished_job(mnist, root: Path, session: str = "s1", seed: int = 0) -> TrainingJob:
    cfg = TrainConfig(epochs=1, batch_size=50, lr=1e-2, device="cpu", seed=seed)
    job = TrainingJob(tiny_cfg(), cfg, session_id=session,
                      data=small_mnist(mnist), models_root=root, snapshot_images=100)
    job.start()
    assert finishes(job) and job.snapshot().can_save
    return job


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.mark.parametrize("error", [SafetensorError("Error while serializing: I/O error: No space left on device"),
                                   OSError(errno.ENOSPC, "No space left on device"),
                                   vae_core.checkpoint.CheckpointError("cannot be written", Path("/srv/x"))])
def test_an_error_while_writing_is_one_line_and_the_run_is_kept(mnist, tmp_path, monkeypatch, error):
    root = tmp_path / "models"
    job = finished_job(mnist, root)

    def fails(*args, **kwargs):
        raise error

    writer = vae_core.checkpoint.save_file
    monkeypatch.setattr(vae_core.checkpoint, "save_file", fails)
    with pytest.raises(ValueError) as refused:
        job.save("full")
    line = str(refused.value)
    assert "could not be written" in line and "kept" in line and "\n" not in line and str(tmp_path) not in line
    assert leftovers(root) == []  # no model, no staging folder
    assert job.snapshot().can_save and job.result.model is not None  # the run can be saved again
    monkeypatch.setattr(vae_core.checkpoint, "save_file", writer)
    assert load_checkpoint(job.save("full"))[0] is not None


def test_a_replay_that_cannot_be_written_leaves_no_half_saved_model(mnist, tmp_path, monkeypatch):
    root = tmp_path / "models"
    job = finished_job(mnist, root)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(save_mod, "write_replay", no_space)
    with pytest.raises(ValueError, match="No space left on device"):
        job.save("half")
    assert leftovers(root) == [] and job.snapshot().can_save
    monkeypatch.setattr(save_mod, "write_replay", write_replay_really)
    folder = job.save("half")
    assert read_replay(folder) is not None  # model and replay, saved together


def test_replace_over_a_folder_that_is_not_a_model_is_refused_and_leaves_it(mnist, tmp_path):
    root = tmp_path / "models"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "readme.txt").write_text("my notes")
    job = finished_job(mnist, root)
    with pytest.raises(ModelExistsError):
        job.save("notes")
    with pytest.raises(ValueError, match="not a saved model") as refused:
        job.save("notes", overwrite=True)
    assert "\n" not in str(refused.value)
    assert leftovers(root / "notes") == ["readme.txt"] and (root / "notes" / "readme.txt").read_text() == "my notes"
    assert leftovers(root) == ["notes"] and job.snapshot().can_save


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs (mounting needs root; skipped where it is not allowed)."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip() or 'mount failed'}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all of the disk's free space but `leave` bytes."""
    st = __import__("os").statvfs(disk)
    filler = disk / "filler"
    size = max(0, st.f_bavail * st.f_frsize - leave)
    with open(filler, "wb") as f:
        f.write(b"\1" * size)
    return filler


def test_a_full_disk_is_one_line_and_the_run_is_kept(mnist, tiny_disk, tmp_path, monkeypatch):
    """A real full file system: no room for the model, then room for the model but not its replay; each time one
    line, nothing half-written, and the same run saved once there is room."""
    root = tiny_disk / "models"
    job = finished_job(mnist, root)
    model, meta = job.saveable_model()
    written = vae_core.checkpoint.save_checkpoint(model, tmp_path / "m", meta)
    sizes = {p.name: p.stat().st_size for p in written.iterdir()}
    replays = []  # the replay is written only after the model: a call means the model fitted
    monkeypatch.setattr(save_mod, "write_replay", lambda *a: replays.append(1) or write_replay_really(*a),
                        raising=False)
    page = 4096
    for leave in (page, sum(-(-n // page) * page for n in sizes.values()) + page):  # nothing fits; the model fits
        filler = fill(tiny_disk, leave)
        with pytest.raises(ValueError, match="could not be written") as refused:
            job.save("on-tmpfs")
        assert "\n" not in str(refused.value) and str(tiny_disk) not in str(refused.value)
        assert leftovers(root) == [] and job.snapshot().can_save
        filler.unlink()
    assert len(replays) == 1  # the second round failed on the replay, the model written
    folder = job.save("on-tmpfs")
    assert load_checkpoint(folder)[0] is not None and read_replay(folder) is not None


# --- whose model it is --------------------------------------------------------------------------------


def test_only_the_session_that_saved_a_model_may_replace_it(mnist, tmp_path):
    root = tmp_path / "models"
    a, b = finished_job(mnist, root, session="A"), finished_job(mnist, root, session="B")
    folder = a.save("CON")
    before = (folder / "model.safetensors").read_bytes()
    with pytest.raises(ModelExistsError):
        b.save("CON")
    with pytest.raises(ValueError, match="saved by another session") as refused:
        b.save("CON", overwrite=True)
    assert "\n" not in str(refused.value)
    assert (folder / "model.safetensors").read_bytes() == before and b.snapshot().can_save
    assert read_config(folder)["saved_by"] == save_mod.owner_tag("A") != "A"  # a hash, not the id
    b.save("CON-2")  # another name is fine
    again = finished_job(mnist, root, session="A", seed=1)
    again.save("CON", overwrite=True)  # its own model: replaced
    assert (folder / "model.safetensors").read_bytes() != before


def test_a_model_saved_outside_the_app_is_nobodys(mnist, tmp_path):
    root = tmp_path / "models"
    save_user_model(VAE(VAEConfig(hidden=(8,))), "from-cli", models_root=root)  # no session: the CLI's way
    job = finished_job(mnist, root, session="A")
    with pytest.raises(ValueError, match="saved by another session"):
        job.save("from-cli", overwrite=True)
    with pytest.raises(ValueError, match="saved by another session"):
        save_mod.delete_user_model("from-cli", "A", root)
    assert (root / "from-cli" / "model.safetensors").is_file()


def test_a_session_deletes_its_own_models_only(mnist, tmp_path, monkeypatch):
    root, pre = tmp_path / "models", tmp_path / "pretrained"
    vae_core.checkpoint.save_checkpoint(VAE(VAEConfig(hidden=(8,))), pre / "mnist-mlp")
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    a, b = finished_job(mnist, root, session="A"), finished_job(mnist, root, session="B")
    a.save("mine")
    b.save("theirs")
    assert save_mod.own_models("A", root) == ["mine"] and save_mod.own_models("B", root) == ["theirs"]
    with pytest.raises(ValueError, match="saved by another session"):
        save_mod.delete_user_model("theirs", "A", root)
    with pytest.raises(ValueError, match="no model named"):
        save_mod.delete_user_model("mnist-mlp", "A", root)  # a shipped model is not in models/
    save_mod.delete_user_model("mine", "A", root)
    assert leftovers(root) == ["theirs"] and (pre / "mnist-mlp" / "model.safetensors").is_file()
    with pytest.raises(ValueError, match="pretrained"):
        save_mod.delete_user_model("mnist-mlp", "A", pre)  # a models folder that is the shipped one: never
