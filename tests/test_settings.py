"""vae_core/settings.py: every setting declared once; the flags, checks, command text and checkpoint schema
generated from it. The tests run over whatever settings are declared, so a new one is covered as it comes."""

from __future__ import annotations

import math
import re
import shlex

import pytest

from vae_core import settings
from vae_core.config import VAEConfig
from vae_core.schema import ConfigIssue, validate_config
from vae_core.settings import FlagError
from vae_core.train import configs_from_args, parse_args
from vae_core.train_config import TrainConfig

SPECS = settings.run_specs()
BY_NAME = {s.name: s for s in SPECS}
OWNER = {"VAEConfig": "model", "TrainConfig": "training"}  # the config.json section of each dataclass


def round_trip(model_cfg: VAEConfig, train_cfg: TrainConfig):
    text = settings.command(model_cfg, train_cfg)
    assert text.startswith("python -m vae_core.train ")
    return configs_from_args(parse_args(shlex.split(text)[3:]))


def samples(spec: settings.Spec) -> list:
    """Values of a setting its flag accepts: each choice, or the bounds (an open one stepped inside) and the
    middle of the form's range."""
    if spec.choices:
        return list(spec.choices)
    if spec.kind == "str":
        return ["/a folder/with space"]
    lo, hi = spec.lo, spec.hi
    if spec.kind == "ints":
        return [(int(lo),) * spec.min_len, (int(hi),) * spec.min_len, (int(lo),) * spec.max_len]
    if spec.kind == "int":
        return [int(lo), int(hi), (int(spec.ui.get("lo", lo)) + int(spec.ui.get("hi", hi))) // 2]
    mid = (spec.ui.get("lo", lo) + spec.ui.get("hi", hi)) / 2
    return [v for v, is_open in ((lo, spec.lo_open), (hi, spec.hi_open)) if not is_open] + [mid]


def beyond(spec: settings.Spec) -> list:
    """Values just outside a numeric setting's bounds (the bound itself where that end is open)."""
    if spec.kind == "int":
        return [int(spec.lo) - 1, int(spec.hi) + 1]
    return [spec.lo if spec.lo_open else spec.lo - 1, spec.hi if spec.hi_open else spec.hi * 2, math.inf]


def enabled(spec: settings.Spec, value) -> dict:
    """The defaults, with `value` for the setting, what it needs to apply, and a sample for what needs it."""
    values = {s.name: s.default for s in SPECS}
    if spec.applies:
        values[spec.applies[0]] = spec.applies[1][0]
    for other in SPECS:
        if other.applies and other.applies[0] == spec.name and value in other.applies[1]:
            values[other.name] = samples(other)[-1]
    values[spec.name] = value
    return values


# --- each declaration is complete ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_setting_has_a_flag_help_and_bounds_or_choices(spec):
    assert spec.flag == "--" + spec.name.replace("_", "-") and spec.help
    assert spec.kind in ("int", "float", "str", "ints") and spec.owner in OWNER
    if spec.choices:
        assert spec.default in spec.choices
    elif spec.kind != "str":
        assert spec.lo is not None and spec.hi is not None and spec.lo < spec.hi
        for v in (spec.default if spec.kind == "ints" else () if spec.default is None else (spec.default,)):
            assert spec.lo <= v <= spec.hi
    if spec.applies:
        other = BY_NAME[spec.applies[0]]
        assert other.choices and set(spec.applies[1]) <= set(other.choices) and spec.note
        assert spec.is_applicable({other.name: spec.applies[1][0]})
        assert not spec.is_applicable({other.name: next(c for c in other.choices if c not in spec.applies[1])})


def test_the_flags_are_unique_and_their_defaults_are_the_dataclasses():
    flags = [s.flag for s in SPECS]
    assert len(set(flags)) == len(flags)
    assert configs_from_args(parse_args([])) == (VAEConfig(), TrainConfig())


# --- the command line, the checks and the command text agree, setting by setting ----------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_setting_parses_checks_and_round_trips_through_the_command_text(spec):
    round_tripped = 0
    for value in samples(spec):
        text = settings.format_value(spec, value)
        args = parse_args([spec.flag, text])
        checked = settings.check(vars(args), SPECS)
        assert checked[spec.name] == value
        try:
            configs = settings.build({**enabled(spec, value), spec.name: checked[spec.name]})
        except ValueError:  # the dataclasses' own rules (a model over the size budget, a level the kind refuses)
            continue
        assert round_trip(*configs) == configs
        assert (spec.flag in shlex.split(settings.command(*configs))) == (spec.shown or value != spec.default)
        round_tripped += 1
    assert round_tripped, f"no sample value of {spec.flag} made a run"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.kind in ("int", "float")], ids=lambda s: s.name)
def test_each_number_out_of_range_is_refused_naming_the_flag_or_the_label(spec):
    for value in beyond(spec):
        with pytest.raises(FlagError, match="^" + re.escape(spec.flag) + " must be"):
            settings.check({spec.name: value}, SPECS)
        if spec.label:
            with pytest.raises(FlagError, match="^" + re.escape(spec.label) + " must be"):
                settings.check({spec.name: value}, SPECS, name=lambda s: s.label)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.kind == "ints"], ids=lambda s: s.name)
def test_each_list_out_of_range_or_length_is_refused_naming_the_flag(spec):
    for text in (str(int(spec.hi) + 1), ",".join(["1"] * (spec.max_len + 1)), "x"):
        with pytest.raises(FlagError, match=re.escape(spec.flag)):
            settings.check({spec.name: text}, SPECS)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.choices], ids=lambda s: s.name)
def test_each_choice_setting_refuses_another_value(spec):
    with pytest.raises(SystemExit):
        parse_args([spec.flag, "not-a-choice"])
    with pytest.raises(FlagError, match="^" + re.escape(spec.flag) + " must be one of"):
        settings.check({spec.name: "not-a-choice"}, SPECS)


# --- the checkpoint schema accepts what the settings accept -------------------------------------------------


def _config_with(spec: settings.Spec, value) -> dict:
    """A config.json with the setting at `value` in its section."""
    config = {"format": "latent-explorer-vae", "format_version": 1, "model": VAEConfig().to_dict(), "training": {}}
    config[OWNER[spec.owner]][spec.name] = list(value) if isinstance(value, tuple) else value
    return config


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_schema_takes_each_setting_from_its_declaration(spec):
    for value in samples(spec):
        validate_config(_config_with(spec, value))
    bad = ["not-a-choice"] if spec.choices else [] if spec.kind == "str" else (
        [(int(spec.hi) + 1,) * spec.min_len, (int(spec.lo),) * (spec.max_len + 1)] if spec.kind == "ints"
        else [v for v in beyond(spec) if math.isfinite(v)])
    for value in bad:
        with pytest.raises(ConfigIssue, match=re.escape(f"{OWNER[spec.owner]}.{spec.name}")):
            validate_config(_config_with(spec, value))


# --- the Train form's path ----------------------------------------------------------------------------------


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
    form = {s.name: s.default for s in SPECS}
    form.update(hidden="128, 64", conv_channels="8,8", arch="mlp", likelihood="bernoulli", sigma=0.5,
                corruption="none", corruption_level=0.2, epochs=5.0, beta=2.5, limit=2000)
    model_cfg, train_cfg = settings.build(settings.check(form, SPECS), SPECS, drop_inapplicable=True)
    # sigma (Bernoulli), conv channels (MLP) and the level (no corruption) do not apply: defaults, not the typed
    assert model_cfg.sigma == 0.1 and model_cfg.conv_channels == (32, 64) and train_cfg.corruption_level == 0
    assert (model_cfg.hidden, model_cfg.beta, train_cfg.epochs, train_cfg.limit) == ((128, 64), 2.5, 5, 2000)
    text = settings.command(model_cfg, train_cfg)
    assert "--sigma" not in text and "--conv-channels" not in text and "--corruption" not in text
    assert round_trip(model_cfg, train_cfg) == (model_cfg, train_cfg)


def test_checks_name_the_flag_or_the_label():
    with pytest.raises(FlagError, match=r"^--latent-dim must be at most 512"):
        settings.check({"latent_dim": 600}, SPECS)
    with pytest.raises(FlagError, match=r"^Conv channels must be 2 comma-separated integers"):
        settings.check({"conv_channels": "8"}, SPECS, name=lambda s: s.label)
    with pytest.raises(FlagError, match=r"^--sigma must be a finite number in \(0, 1000\]"):
        settings.check({"sigma": 0.0}, SPECS)
