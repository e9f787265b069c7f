"""Every setting of a run declared once, on its dataclass field; the command line is generated from that.

A field of VAEConfig or TrainConfig declared with `setting(...)` carries its flag, help text, bounds, choices
and the condition under which it applies (conv channels for the conv net only, sigma for the Gaussian
likelihood only, a corruption level only with a corruption). From those declarations come:

    add_arguments   the argparse flags of `python -m vae_core.train`
    check           the range checks, one line naming the flag (or the form's label) that is wrong: argparse
                    takes "inf", "nan" or a 23-digit seed without complaint, and what they break (a crash at
                    save, an overflow in torch.manual_seed) would be far from the flag
    build           the two dataclasses from checked values (settings that do not apply take their default)
    command         the "same run from the command line" text, which parses back to the same dataclasses
and the dashboard's Train form (dashboard/train/form.py) draws one widget per declared setting.

Adding a setting is one `setting(...)` field plus its use in the model or the loop.

This module imports nothing of vae_core: the run's two dataclasses (config.py, train_config.py) register
themselves with `run_settings`, and vae_core's package import brings both in.
"""

from __future__ import annotations

import argparse
import math
import shlex
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

KEY = "setting"  # the key of a field's metadata that holds its Spec
RUN_PARTS = ("model", "train")  # a run's dataclasses, in the order of their flags and of build()'s result
_run_classes: dict[str, type] = {}


class FlagError(ValueError):
    """A flag's value out of range; the message names the flag."""


def int_in(flag: str, value: int | None, lo: int, hi: int) -> None:
    if value is not None and not lo <= value <= hi:
        shown = str(value) if len(str(value)) <= 24 else f"a {len(str(abs(value)))}-digit number"
        bound = f"at least {lo:,}" if value < lo else f"at most {hi:,}"
        raise FlagError(f"{flag} must be {bound} (an integer in {lo:,}..{hi:,}), got {shown}")


def number_in(flag: str, value: float, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> None:
    """lo <= value <= hi (or < at an open end), and finite."""
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        lo_s, hi_s = ("(" if lo_open else "[") + f"{lo:g}", f"{hi:g}" + (")" if hi_open else "]")
        raise FlagError(f"{flag} must be a finite number in {lo_s}, {hi_s}, got {value:g}")


def int_list(flag: str, what: str, text: str, lo: int, hi: int, *, min_len: int = 1, max_len: int = 32,
             example: str = "512,256") -> tuple[int, ...]:
    """'512,256' -> (512, 256): comma-separated integers, each in lo..hi, between min_len and max_len of them."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    # ASCII digits only: str.isdigit() also takes '²' (which int() refuses) and '٣' (which int() reads as 3).
    if not min_len <= len(parts) <= max_len or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        count = f"{min_len}" if min_len == max_len else f"{min_len} to {max_len}"
        raise FlagError(f"{flag} must be {count} comma-separated integers in {lo}..{hi}, e.g. {example}")
    values = tuple(int(p) for p in parts)
    for v in values:
        if not lo <= v <= hi:
            raise FlagError(f"{what} must be {lo}..{hi}, got {v} ({flag})")
    return values


@dataclass(frozen=True)
class Spec:
    name: str  # the dataclass field, argparse's dest and the form's key suffix
    flag: str
    help: str
    kind: str  # "int", "float", "str" (choices) or "ints" (comma-separated on the command line)
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    applies: tuple | None = None  # (other setting, values of it for which this one applies); None: always
    note: str = ""  # why it is off when it does not apply (the form shows it)
    label: str = ""  # the form's label; "" keeps it off the form
    shown: bool = True  # in the command text even at its default (False: only when it differs)
    min_len: int = 1  # "ints": how many values
    max_len: int = 32
    example: str = ""
    what: str = ""  # "ints": the values' name in a message ("hidden sizes")
    ui: dict = field(default_factory=dict)  # the form widget's own bounds and format, where narrower than the flag's
    owner: str = ""  # the dataclass's name, filled in by specs()

    def is_applicable(self, values: dict) -> bool:
        return self.applies is None or values.get(self.applies[0]) in self.applies[1]


def setting(default, *, flag: str, help: str, kind: str | None = None, **spec) -> Any:
    """A dataclass field declaring a setting (see Spec for the keywords)."""
    if kind is None:
        kind = {bool: "str", int: "int", float: "float", str: "str", tuple: "ints"}.get(type(default), "int")
    meta = dict(flag=flag, help=help, kind=kind, **spec)
    return field(default=default, metadata={KEY: meta})


def specs(*classes) -> list[Spec]:
    """The declared settings of the dataclasses, in declaration order."""
    out = []
    for cls in classes:
        for f in fields(cls):
            if KEY in f.metadata:
                default = f.default if f.default is not MISSING else f.default_factory()
                out.append(Spec(name=f.name, default=default, owner=cls.__name__, **f.metadata[KEY]))
    return out


def run_settings(part: str) -> Callable[[type], type]:
    """Class decorator: the dataclass holds the `part` ("model" or "train") of a run's settings."""
    if part not in RUN_PARTS:
        raise ValueError(f"part must be one of {RUN_PARTS}, got {part!r}")

    def register(cls: type) -> type:
        _run_classes[part] = cls
        return cls

    return register


def run_classes() -> tuple[type, ...]:
    """The registered dataclasses of a run: (VAEConfig, TrainConfig)."""
    missing = [part for part in RUN_PARTS if part not in _run_classes]
    if missing:  # only reachable by importing this file outside its package
        raise RuntimeError(f"no dataclass registered for the run's {', '.join(missing)} settings")
    return tuple(_run_classes[part] for part in RUN_PARTS)


def run_specs() -> list[Spec]:
    """The settings of a training run: the model's, then the loop's."""
    return specs(*run_classes())


def format_value(spec: Spec, value) -> str:
    """The value as its flag takes it: 512,256 for a list; the shortest float text that parses back exactly."""
    if spec.kind == "ints":
        return ",".join(str(int(v)) for v in value)
    if spec.kind == "float":
        short = f"{value:g}"
        return short if float(short) == value else repr(float(value))
    return str(value)


def ascii_int(text: str) -> int:
    """argparse's type for a whole number: int() as argparse's own, but ASCII digits only (int() reads '٣' as 3)."""
    try:
        if not text.isascii():
            raise ValueError(text)
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser, all_specs: list[Spec]) -> None:
    types = {"int": ascii_int, "float": float, "str": str, "ints": str}
    for s in all_specs:
        default = format_value(s, s.default) if s.kind == "ints" else s.default
        parser.add_argument(s.flag, dest=s.name, type=types[s.kind], default=default, help=s.help or None,
                            choices=s.choices or None)


def check(values: dict, all_specs: list[Spec], name: Callable[[Spec], str] = lambda s: s.flag) -> dict:
    """Raw values (argparse's, or the form's: text for lists) -> checked ones, lists as tuples of ints.

    FlagError (a ValueError) names the first setting out of range by name(spec): its flag, or a form label."""
    out = dict(values)
    for s in all_specs:
        v = values.get(s.name, s.default)
        if s.kind == "ints":
            text = v if isinstance(v, str) else format_value(s, v)
            out[s.name] = int_list(name(s), s.what or s.name, text, int(s.lo), int(s.hi), min_len=s.min_len,
                                   max_len=s.max_len, example=s.example or format_value(s, s.default))
        elif s.choices and v not in s.choices:
            raise FlagError(f"{name(s)} must be one of {', '.join(map(str, s.choices))}, got {v!r}")
        elif s.kind == "int" and v is not None:
            if isinstance(v, float) and v.is_integer():
                v = out[s.name] = int(v)
            if not isinstance(v, int) or isinstance(v, bool):
                raise FlagError(f"{name(s)} must be an integer, got {v!r}")
            int_in(name(s), v, int(s.lo), int(s.hi))
        elif s.kind == "float":
            try:
                v = out[s.name] = float(v)
            except (TypeError, ValueError):
                raise FlagError(f"{name(s)} must be a number, got {v!r}") from None
            number_in(name(s), v, s.lo if s.lo is not None else -math.inf, s.hi if s.hi is not None else math.inf,
                      lo_open=s.lo_open, hi_open=s.hi_open)
    return out


def build(values: dict, all_specs: list[Spec] | None = None, *, drop_inapplicable: bool = False):
    """Checked values -> (VAEConfig, TrainConfig); the dataclasses' own checks run (ValueError).

    drop_inapplicable (the form, whose disabled fields keep what was typed): a setting that does not apply
    takes its default, so the dataclasses hold no value the run ignores and the command text, which leaves it
    out, says the same. The command line passes what was typed: a --corruption-level without --corruption is
    an error the user should hear of."""
    classes = run_classes()
    all_specs = all_specs if all_specs is not None else run_specs()
    by_owner: dict[str, dict] = {cls.__name__: {} for cls in classes}
    for s in all_specs:
        v = values.get(s.name, s.default)
        by_owner[s.owner][s.name] = s.default if drop_inapplicable and not s.is_applicable(values) else v
    return tuple(cls(**by_owner[cls.__name__]) for cls in classes)


def values_of(*configs) -> dict:
    """The declared settings' values of built dataclasses, by name."""
    return {s.name: getattr(c, s.name) for c in configs for s in specs(type(c))}


def command(model_cfg, train_cfg, prog: str = "python -m vae_core.train") -> str:
    """The command line that trains the same model: every setting that applies, those marked shown=False only
    where they differ from their default. parse_args(shlex.split(it)[3:]) gives back the same dataclasses."""
    values = values_of(model_cfg, train_cfg)
    parts = [prog]
    for s in run_specs():
        v = values[s.name]
        if v is None or not s.is_applicable(values) or (not s.shown and v == s.default):
            continue
        parts += [s.flag, shlex.quote(format_value(s, v))]
    return " ".join(parts)


def to_args(model_cfg, train_cfg) -> list[str]:
    """command()'s flags as an argv list."""
    return shlex.split(command(model_cfg, train_cfg))[3:]
