"""vae_core/settings.py: every setting declared once; the flags, checks and command text generated from it."""

from __future__ import annotations

import shlex

import pytest

from vae_core import settings
from vae_core.config import VAEConfig
from vae_core.settings import FlagError
from vae_core.train import TrainConfig, configs_from_args, parse_args


def round_trip(model_cfg: VAEConfig, train_cfg: TrainConfig):
    text = settings.command(model_cfg, train_cfg)
    assert text.startswith("python -m vae_core.train ")
    return configs_from_args(parse_args(shlex.split(text)[3:]))


CASES = [
    (VAEConfig(), TrainConfig()),
    (VAEConfig(arch="conv", conv_channels=(16, 8), latent_dim=7, hidden=(64,)),
     TrainConfig(dataset="fashion-mnist", epochs=3, batch_size=33, lr=0.0123456789, schedule="constant", seed=2**40,
                 device="cpu", limit=777)),
    (VAEConfig(likelihood="gaussian", sigma=0.37, beta=4.0, dropout=0.25, hidden=(300, 200, 100)),
     TrainConfig(corruption="salt-and-pepper", corruption_level=0.15, precision="fp32")),
    (VAEConfig(beta=0.0, latent_dim=1), TrainConfig(corruption="gaussian", corruption_level=0.3, lr=1e12,
                                                    data_dir="/data/with space")),
]


@pytest.mark.parametrize("model_cfg, train_cfg", CASES)
def test_the_command_text_parses_back_to_the_same_configs(model_cfg, train_cfg):
    assert round_trip(model_cfg, train_cfg) == (model_cfg, train_cfg)


def test_form_values_to_command_and_back():
    """What the Train form hands over (text for lists, floats from number inputs, a disabled field still
    holding what was typed) -> configs -> command text -> argparse -> the same configs."""
    specs = settings.run_specs()
    form = {s.name: s.default for s in specs}
    form.update(hidden="128, 64", conv_channels="8,8", arch="mlp", likelihood="bernoulli", sigma=0.5,
                corruption="none", corruption_level=0.2, epochs=5.0, beta=2.5, limit=2000)
    model_cfg, train_cfg = settings.build(settings.check(form, specs), specs, drop_inapplicable=True)
    # sigma (Bernoulli), conv channels (MLP) and the level (no corruption) do not apply: defaults, not the typed
    assert model_cfg.sigma == 0.1 and model_cfg.conv_channels == (32, 64) and train_cfg.corruption_level == 0
    assert (model_cfg.hidden, model_cfg.beta, train_cfg.epochs, train_cfg.limit) == ((128, 64), 2.5, 5, 2000)
    text = settings.command(model_cfg, train_cfg)
    assert "--sigma" not in text and "--conv-channels" not in text and "--corruption" not in text
    assert round_trip(model_cfg, train_cfg) == (model_cfg, train_cfg)


def test_every_dataclass_setting_has_a_flag_and_the_flags_are_unique():
    specs = settings.run_specs()
    flags = [s.flag for s in specs]
    assert len(set(flags)) == len(flags)
    assert {s.name for s in specs} == {"arch", "latent_dim", "hidden", "likelihood", "sigma", "beta", "dropout",
                                       "conv_channels", "dataset", "epochs", "batch_size", "lr", "schedule", "seed",
                                       "device", "limit", "data_dir", "precision", "corruption", "corruption_level"}
    args = parse_args([])  # the defaults of the flags are the dataclasses' defaults
    assert configs_from_args(args) == (VAEConfig(), TrainConfig())


def test_checks_name_the_flag_or_the_label():
    specs = settings.run_specs()
    with pytest.raises(FlagError, match=r"^--latent-dim must be at most 512"):
        settings.check({"latent_dim": 600}, specs)
    with pytest.raises(FlagError, match=r"^Conv channels must be 2 comma-separated integers"):
        settings.check({"conv_channels": "8"}, specs, name=lambda s: s.label)
    with pytest.raises(FlagError, match=r"^--sigma must be a finite number in \(0, 1000\]"):
        settings.check({"sigma": 0.0}, specs)


def test_the_condition_of_each_conditional_setting():
    by_name = {s.name: s for s in settings.run_specs()}
    assert by_name["conv_channels"].is_applicable({"arch": "conv"})
    assert not by_name["conv_channels"].is_applicable({"arch": "mlp"})
    assert not by_name["sigma"].is_applicable({"likelihood": "bernoulli"})
    assert by_name["corruption_level"].is_applicable({"corruption": "gaussian"})
    assert not by_name["corruption_level"].is_applicable({"corruption": "none"})
