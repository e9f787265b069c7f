"""Checkpoint folders: a faithful round trip, an atomic overwrite, and a CheckpointError for anything else."""

from __future__ import annotations

import json
import math
import os
import stat

import numpy as np
import pytest
import torch
from conftest import tiny_cfg
from safetensors.torch import load_file, save_file

from vae_core import checkpoint as ck
from vae_core.checkpoint import CheckpointError, load_checkpoint, read_config, save_checkpoint
from vae_core.config import VAEConfig
from vae_core.model import VAE


def _model(seed: int = 0, **kw) -> VAE:
    torch.manual_seed(seed)
    return VAE(tiny_cfg(**kw))


@pytest.fixture
def saved(tmp_path):
    """A valid checkpoint of a tiny MLP in tmp_path/ck."""
    model = _model(0)
    folder = save_checkpoint(model, tmp_path / "ck", {"metrics": {"test_loss": 123.5}, "data": {"dataset": "mnist"}})
    return model, folder


def _edit_config(folder, model: dict | None = None, **top):
    """Change keys of config.json: `model` entries inside config["model"], the rest at the top level."""
    path = folder / ck.CONFIG_NAME
    config = json.loads(path.read_text())
    config["model"].update(model or {})
    config.update(top)
    path.write_text(json.dumps(config))


# --- the round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(arch="mlp"), dict(arch="conv", likelihood="gaussian", latent_dim=5, sigma=0.3),
                                dict(arch="mlp", latent_dim=5, hidden=(24,), beta=4.0, dropout=0.1)])
def test_round_trip_gives_identical_outputs(tmp_path, kw):
    model = _model(3, **kw).eval()
    folder = save_checkpoint(model, tmp_path / "m", {"metrics": {"test_loss": 99.0}, "note": "hi"})
    assert folder == tmp_path / "m"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]

    loaded, config = load_checkpoint(folder)
    assert not loaded.training
    assert loaded.cfg == model.cfg
    assert config["format"] == "latent-explorer-vae" and config["format_version"] == 1
    assert config["model"] == model.cfg.to_dict()
    assert config["note"] == "hi" and ck.metric(config, "test_loss") == 99.0

    z = torch.randn(9, model.cfg.latent_dim, generator=torch.Generator().manual_seed(1))
    assert torch.equal(loaded.decode(z), model.decode(z))
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)


def test_config_json_is_readable_and_strict(saved):
    _, folder = saved
    config = read_config(folder)
    text = (folder / "config.json").read_text()
    assert json.loads(text) == config
    assert text.endswith("\n")
    assert config["metrics"] == {"test_loss": 123.5}
    assert load_file(str(folder / "model.safetensors")).keys() == _model().state_dict().keys()


def test_saving_nan_metadata_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        save_checkpoint(_model(), tmp_path / "m", {"metrics": {"test_loss": math.nan}})
    assert list(tmp_path.iterdir()) == []


def test_metric_helper():
    assert ck.metric({"metrics": {"test_loss": 5}}, "test_loss") == 5.0
    assert math.isnan(ck.metric({}, "test_loss"))
    assert math.isnan(ck.metric({"metrics": {"test_loss": "high"}}, "test_loss"))
    assert ck.metric({}, "x", default=-1.0) == -1.0


# --- overwriting ---------------------------------------------------------------------------------------


def test_saving_over_a_checkpoint_replaces_it_and_leaves_no_temp_folders(tmp_path):
    a, b = _model(1).eval(), _model(2, latent_dim=5).eval()
    save_checkpoint(a, tmp_path / "m", {"tag": "a"})
    save_checkpoint(b, tmp_path / "m", {"tag": "b"})

    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no .m.tmp-* or .m.old-* left behind
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded, config = load_checkpoint(tmp_path / "m")
    assert config["tag"] == "b" and loaded.cfg.latent_dim == 5
    z = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.decode(z), b.decode(z))


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    a = _model(1).eval()
    save_checkpoint(a, tmp_path / "m", {"tag": "a"})

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(ck, "save_file", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(_model(2), tmp_path / "m", {"tag": "b"})
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    loaded, config = load_checkpoint(tmp_path / "m")
    assert config["tag"] == "a"
    z = torch.randn(3, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.decode(z), a.decode(z))


def test_checkpoint_is_readable_by_others(tmp_path):
    """mkdtemp makes a 0700 folder and safetensors writes 0600 files; a checkpoint must be shareable."""
    folder = save_checkpoint(_model(), tmp_path / "m")
    assert stat.S_IMODE(folder.stat().st_mode) & 0o055 == 0o055
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) & 0o044 == 0o044, f.name


def test_save_creates_parent_folders(tmp_path):
    folder = save_checkpoint(_model(), tmp_path / "a" / "b" / "c")
    assert (folder / "config.json").is_file()
    load_checkpoint(folder)


# --- what is refused ---------------------------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        load_checkpoint(tmp_path / "does-not-exist")


def test_a_file_instead_of_a_folder(tmp_path):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"x")
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        load_checkpoint(f)


def test_folder_without_config(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        load_checkpoint(tmp_path / "empty")


def test_folder_without_weights(saved):
    _, folder = saved
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_checkpoint(folder)


def test_corrupt_safetensors(saved):
    _, folder = saved
    size = (folder / "model.safetensors").stat().st_size
    noise = np.random.default_rng(0).integers(0, 256, size=size, dtype=np.uint8).tobytes()
    (folder / "model.safetensors").write_bytes(noise)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)


def test_truncated_safetensors(saved):
    _, folder = saved
    path = folder / "model.safetensors"
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)


def test_empty_safetensors(saved):
    _, folder = saved
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_checkpoint(folder)


def test_pickled_torch_file_renamed_is_refused(saved):
    model, folder = saved
    torch.save(model.state_dict(), folder / "model.safetensors")  # a zip of pickles, not safetensors
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)


def test_foreign_format(saved):
    _, folder = saved
    _edit_config(folder, format="huggingface-transformers")
    with pytest.raises(CheckpointError, match="not a latent-explorer checkpoint.*huggingface-transformers"):
        load_checkpoint(folder)


def test_config_that_is_not_an_object(saved):
    _, folder = saved
    (folder / "config.json").write_text("[1, 2, 3]\n")
    with pytest.raises(CheckpointError, match="not a latent-explorer checkpoint"):
        load_checkpoint(folder)


def test_unsupported_format_version(saved):
    _, folder = saved
    _edit_config(folder, format_version=2)
    with pytest.raises(CheckpointError, match="format version 2 is not supported"):
        load_checkpoint(folder)


def test_invalid_json(saved):
    _, folder = saved
    (folder / "config.json").write_text('{"format": "latent-explorer-vae", ')
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)


def test_config_not_utf8(saved):
    _, folder = saved
    (folder / "config.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)


def test_oversized_config(saved, monkeypatch):
    _, folder = saved
    monkeypatch.setattr(ck, "MAX_CONFIG_BYTES", 10)
    with pytest.raises(CheckpointError, match="too large"):
        load_checkpoint(folder)


@pytest.mark.parametrize("change", [dict(arch="transformer"), dict(hidden=[]), dict(latent_dim=0),
                                    dict(sigma=-1), dict(colour=True), dict(hidden="big")])
def test_invalid_model_config(saved, change):
    _, folder = saved
    _edit_config(folder, model=change)
    with pytest.raises(CheckpointError, match="invalid model config"):
        load_checkpoint(folder)


def test_missing_model_section(saved):
    _, folder = saved
    config = json.loads((folder / "config.json").read_text())
    del config["model"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="invalid model config"):
        load_checkpoint(folder)


def test_hidden_sizes_that_do_not_match_the_tensors(saved):
    _, folder = saved
    _edit_config(folder, model=dict(hidden=[64, 16]))  # saved with (32, 16)
    with pytest.raises(CheckpointError, match="tensors do not match the config.*wrong shape"):
        load_checkpoint(folder)


def test_latent_dim_that_does_not_match_the_tensors(saved):
    _, folder = saved
    _edit_config(folder, model=dict(latent_dim=3))
    with pytest.raises(CheckpointError, match="tensors do not match the config"):
        load_checkpoint(folder)


def test_architecture_that_does_not_match_the_tensors(saved):
    _, folder = saved
    _edit_config(folder, model=dict(arch="conv", hidden=[16], conv_channels=[4, 8]))
    with pytest.raises(CheckpointError, match="missing .*unexpected"):
        load_checkpoint(folder)


def test_extra_tensor(saved):
    model, folder = saved
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["evil.weight"] = torch.zeros(2)
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="unexpected \\['evil.weight'\\]"):
        load_checkpoint(folder)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights(saved, bad):
    model, folder = saved
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    state["decoder.net.2.bias"][5] = bad
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="decoder.net.2.bias holds NaN or infinite values"):
        load_checkpoint(folder)


def test_integer_weights(saved):
    model, folder = saved
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["encoder.to_mu.bias"] = torch.zeros_like(state["encoder.to_mu.bias"], dtype=torch.int32)
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="encoder.to_mu.bias is torch.int32, expected floating point"):
        load_checkpoint(folder)


def test_half_precision_weights_are_accepted(saved):
    model, folder = saved
    state = {k: v.half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    loaded, _ = load_checkpoint(folder)
    assert all(v.dtype == torch.float32 for v in loaded.state_dict().values())
    z = torch.zeros(1, 2)
    assert torch.allclose(loaded.decode(z), model.decode(z), atol=1e-2)


def test_oversized_weights(saved, monkeypatch):
    _, folder = saved
    monkeypatch.setattr(ck, "MAX_WEIGHTS_BYTES", 100)
    with pytest.raises(CheckpointError, match="too large"):
        load_checkpoint(folder)


@pytest.mark.parametrize("latent_dim", ["2", 2.5])
def test_latent_dim_of_the_wrong_type(saved, latent_dim):
    _, folder = saved
    _edit_config(folder, model=dict(latent_dim=latent_dim))
    with pytest.raises(CheckpointError):
        load_checkpoint(folder)


def test_pretrained_checkpoints_load_if_present():
    from conftest import PRETRAINED

    folders = [p for p in PRETRAINED.glob("*") if (p / "config.json").is_file()] if PRETRAINED.is_dir() else []
    if not folders:
        pytest.skip("no pretrained checkpoints in this checkout")
    for folder in folders:
        model, config = load_checkpoint(folder)
        assert isinstance(model, VAE)
        assert model.cfg == VAEConfig.from_dict(config["model"])
        out = model.decode(torch.zeros(1, model.cfg.latent_dim))
        assert out.shape == (1, 1, 28, 28) and torch.isfinite(out).all()
        assert os.path.isfile(folder / "model.safetensors")
