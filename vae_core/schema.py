"""What a checkpoint's config.json may hold: every section, its types and its bounds.

The model section and the run's settings in the training section are derived from the settings' declarations
(config.py, train_config.py), so they accept exactly what the command line and the Train form do.

config.json comes from a file anybody can edit or hand over, and the command lines and the dashboard read every
section of it. Checked here, a consumer finds each known section either absent or well-typed, with finite
numbers in range and strings and lists of bounded length, and never has to guard itself.

    parse_config_text(text) -> dict     JSON with bounded nesting, finite numbers, bounded strings; ConfigIssue
    validate_config(raw) -> dict        the sections checked against the schema below; ConfigIssue
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import fields
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, create_model, model_validator

from .architectures import fixed_image_shape
from .config import MAX_IMAGE_CHANNELS, MAX_IMAGE_SIDE, VAEConfig
from .data import DATASETS, FILES
from .image_folder import FIT, MAX_CLASS_NAME, MAX_CLASSES, MAX_IMAGES, MAX_TEST_FRACTION, MIN_TEST_FRACTION
from .settings import Spec, specs
from .train_config import MAX_EPOCHS, MAX_LIMIT, MAX_THREADS, TrainConfig

MAX_DEPTH = 16  # our config.json nests 4 deep; json.loads itself overflows the stack near 1,000
MAX_STRING = 4096  # the longest string we write is the command line
MAX_LIST = 10_000  # history columns hold at most 1,000 points, epochs rarely pass a few hundred
MAX_INT = 2**63 - 1  # what torch and numpy can hold; Python would parse a 4,000-digit one
MAX_ABS_FLOAT = 1e15  # losses are nats per image (hundreds); far above anything real, far below overflow


class ConfigIssue(ValueError):
    """config.json is not one we can use; the message is one line without the file's path."""


def _int(lo: int = 0, hi: int = MAX_INT):
    return Annotated[int, Strict(), Field(ge=lo, le=hi)]


def _float(lo: float = -MAX_ABS_FLOAT, hi: float = MAX_ABS_FLOAT, gt: float | None = None):
    return Annotated[float, Strict(), Field(allow_inf_nan=False, ge=None if gt is not None else lo, gt=gt, le=hi)]


def _str(max_length: int = MAX_STRING):
    return Annotated[str, Strict(), Field(max_length=max_length)]


Loss = _float()
Seconds = _float(0.0)
Count = _int()


class _Section(BaseModel):
    # Keys this version does not know are dropped from what read_config returns, so nothing unchecked reaches
    # a consumer; the model section alone is strict, as VAEConfig refuses unknown keys.
    model_config = ConfigDict(extra="ignore", frozen=True)


def _setting_type(spec: Spec):
    """The JSON type of a declared setting: its kind, bounds, choices and length, as the command line checks it."""
    if spec.choices:
        return Literal[spec.choices]  # type: ignore[valid-type]
    if spec.kind == "int":
        return _int(int(spec.lo), int(spec.hi))
    if spec.kind == "ints":
        item = _int(int(spec.lo), int(spec.hi))
        return Annotated[list[item], Field(min_length=spec.min_len, max_length=spec.max_len)]
    if spec.kind == "float":
        lo = spec.lo if spec.lo is not None else -MAX_ABS_FLOAT
        hi = spec.hi if spec.hi is not None else MAX_ABS_FLOAT
        return Annotated[float, Strict(), Field(allow_inf_nan=False, **{"gt" if spec.lo_open else "ge": lo},
                                                **{"lt" if spec.hi_open else "le": hi})]
    return _str()


def _fields_of(cls, others: dict, *, optional: bool, required: tuple[str, ...] = ()) -> dict:
    """Pydantic fields for the dataclass's fields, in its order: a declared setting's type from its declaration
    with its default (lists for tuples) or None when `optional`; any other field as `others` gives it."""
    declared = {spec.name: spec for spec in specs(cls)}
    out = {}
    for f in fields(cls):
        if f.name not in declared:
            out[f.name] = others[f.name]  # a KeyError here: a new field of cls that config.json needs a type for
            continue
        spec = declared[f.name]
        if optional:
            out[f.name] = (_setting_type(spec) | None, None)
        else:
            default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
            out[f.name] = (_setting_type(spec), ... if f.name in required else default)
    return out


class _ModelBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _shape(self) -> _ModelBase:
        if self.image_shape[0] > MAX_IMAGE_CHANNELS:
            raise ValueError(f"image_shape has {self.image_shape[0]} channels; at most {MAX_IMAGE_CHANNELS}")
        fixed = fixed_image_shape(self.arch)
        if fixed is not None and self.image_shape != list(fixed):
            raise ValueError(f"the {self.arch} architecture is built for image_shape {list(fixed)}")
        return self


ImageShape = Annotated[list[_int(1, MAX_IMAGE_SIDE)], Field(min_length=3, max_length=3)]
# VAEConfig's fields: arch required, the others defaulting as in VAEConfig.
ModelSection = create_model("ModelSection", __base__=_ModelBase, **_fields_of(
    VAEConfig, {"image_shape": (ImageShape, [1, 28, 28])}, optional=False, required=("arch",)))


Sha256 = Annotated[str, Strict(), Field(pattern=r"^[0-9a-f]{64}$")]


class SplitSection(_Section):
    """A folder of images' held-out test split: seeded, a fraction of each class, and which files it took."""

    seed: _int(0, MAX_INT)
    fraction: _float(MIN_TEST_FRACTION, MAX_TEST_FRACTION)
    test_files_sha256: Sha256


class DataSection(_Section):
    dataset: Literal[DATASETS] = "mnist"  # type: ignore[valid-type]
    sha256: dict[Literal[FILES], Sha256] | None = None  # type: ignore[valid-type]
    n_train: _int(0, MAX_LIMIT) | None = None
    # a folder of images (image_folder.py): its class names, the test split and how images were fitted
    classes: Annotated[list[_str(MAX_CLASS_NAME)], Field(min_length=1, max_length=MAX_CLASSES)] | None = None
    n_test: _int(0, MAX_IMAGES) | None = None
    split: SplitSection | None = None
    fit: Literal[FIT] | None = None  # type: ignore[valid-type]
    skipped: _int(0, MAX_LIST) | None = None


class _TrainingBase(_Section):
    # what the run recorded of itself besides TrainConfig
    epochs_completed: _int(0, MAX_EPOCHS) | None = None
    status: Literal["completed", "stopped", "diverged", "running"] | None = None
    seconds: Seconds | None = None
    matmul_precision: Literal["fp32", "bf16"] | None = None


# TrainConfig's fields, each optional
TrainingSection = create_model("TrainingSection", __base__=_TrainingBase, **_fields_of(
    TrainConfig, {"threads": (_int(1, MAX_THREADS) | None, None)}, optional=True))


class MetricsSection(_Section):
    test_loss: Loss | None = None
    test_recon: Loss | None = None
    test_kl: Loss | None = None
    iwae_bound: Loss | None = None
    # the papers' test NLL (evaluate --nll-k), its standard error over the images, and on how many
    nll: Loss | None = None
    nll_se: Loss | None = None
    nll_k: _int(1, 1_000_000) | None = None
    nll_images: _int(1, MAX_LIMIT) | None = None
    active_units: _int(0, 1_000_000) | None = None


class EpochRow(_Section):
    epoch: _int(1, MAX_EPOCHS)
    epochs: _int(1, MAX_EPOCHS) | None = None
    step: Count | None = None
    train_loss: Loss | None = None
    test_loss: Loss | None = None
    test_recon: Loss | None = None
    test_kl: Loss | None = None
    elapsed: Seconds | None = None


def _column(item):
    return Annotated[list[item], Field(max_length=MAX_LIST)]


class StepColumns(_Section):
    """Per-step curves as columns (what compact_history writes), all of one length."""

    step: _column(Count) = []
    epoch: _column(Count) = []
    loss: _column(Loss) = []
    recon: _column(Loss) = []
    kl: _column(Loss) = []

    @model_validator(mode="after")
    def _same_length(self) -> StepColumns:
        columns = ("step", "epoch", "loss", "recon", "kl")
        lengths = {len(getattr(self, k)) for k in columns if k in self.model_fields_set}
        if len(lengths) > 1:
            raise ValueError("the step columns differ in length")
        return self


class StepRow(_Section):
    """Per-step curves as rows (an older form the dashboard still reads)."""

    step: Count
    epoch: Count | None = None
    loss: Loss
    recon: Loss
    kl: Loss


class HistorySection(_Section):
    epochs: _column(EpochRow) = []
    steps: StepColumns | _column(StepRow) = StepColumns()


class VersionsSection(_Section):
    torch: _str(64) | None = None
    python: _str(64) | None = None


class CheckpointConfig(BaseModel):
    """The whole config.json. Unknown top-level keys stay (bounded by parse_config_text), as notes."""

    model_config = ConfigDict(extra="allow", frozen=True)

    format: _str(64)
    format_version: _int(0, 1_000_000)
    model: ModelSection
    data: DataSection | None = None
    training: TrainingSection | None = None
    metrics: MetricsSection | None = None
    history: HistorySection | None = None
    versions: VersionsSection | None = None
    created: _str(64) | None = None
    command: _str() | None = None


_JSON_TYPES = {"dict": "object", "list": "list", "str": "string", "NoneType": "null", "int": "number",
               "float": "number", "bool": "boolean"}


def _printable(key: str) -> str:
    """A key as a message may show it: on one line, whatever characters the file put in it."""
    return key if key.isprintable() else repr(key)


def json_type(value) -> str:
    return _JSON_TYPES.get(type(value).__name__, type(value).__name__)


def _check_tree(value, where: str = "", depth: int = 0) -> None:
    """Bounded nesting, finite numbers, bounded ints, strings and lists, anywhere in the document (also in
    keys this version does not know, which read_config passes on). Depth is capped first, so the recursion
    stays shallow."""
    at = f"{where}: " if where else ""
    if depth > MAX_DEPTH:
        raise ConfigIssue(f"{at}nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        if len(value) > MAX_LIST:
            raise ConfigIssue(f"{at}an object with {len(value):,} keys (at most {MAX_LIST:,})")
        for k, v in value.items():
            if len(k) > 64:
                raise ConfigIssue(f"{at}a key of {len(k):,} characters (at most 64)")
            _check_tree(v, f"{where}.{_printable(k)}" if where else _printable(k), depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_LIST:
            raise ConfigIssue(f"{at}a list of {len(value):,} items (at most {MAX_LIST:,})")
        for i, v in enumerate(value):
            _check_tree(v, f"{where}.{i}", depth + 1)
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ConfigIssue(f"{at}a string of {len(value):,} characters (at most {MAX_STRING:,})")
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ConfigIssue(f"{at}an integer of {len(str(abs(value)))} digits (at most 64 bits)")
    elif isinstance(value, float) and not math.isfinite(value):
        # 1e400 in the text parses to inf (NaN/Infinity literals are refused earlier)
        raise ConfigIssue(f"{at}a number too large for a float, or not finite")


def _reject_constant(name: str):
    raise ConfigIssue(f"config.json holds {name}, which is not a JSON number (config.json is written without "
                      "NaN or infinities)")


def parse_config_text(text: str) -> dict:
    """JSON text -> dict, refusing NaN/Infinity literals, deep nesting and oversized numbers in one line."""
    try:
        # json.loads recurses per nesting level (RecursionError near 1,000) and refuses ints of more than
        # 4,300 digits with ValueError; both are caught so no document can crash the reader.
        raw = json.loads(text, parse_constant=_reject_constant)
    except ConfigIssue:
        raise
    except json.JSONDecodeError as e:
        raise ConfigIssue(f"not valid JSON ({e})") from None
    except RecursionError:
        raise ConfigIssue(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # Python refuses to convert an integer of more than sys.get_int_max_str_digits() digits
        raise ConfigIssue("an integer of thousands of digits (at most 64 bits)") from None
    if not isinstance(raw, dict):
        raise ConfigIssue(f"not a latent-explorer checkpoint (config.json holds a JSON {json_type(raw)}, "
                          "not an object)")
    _check_tree(raw)
    return raw


_SECTIONS = ("data", "training", "metrics", "history", "versions")


def _where(loc: tuple) -> str:
    return ".".join(_printable(str(p)) for p in loc) or "config"


def validate_config(raw: dict) -> dict:
    """The config checked against CheckpointConfig, as plain JSON-like data (sections absent or well-typed)."""
    try:
        checked = CheckpointConfig.model_validate(raw)
    except ValidationError as e:
        err = e.errors(include_url=False, include_input=False)[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "union["))))
        msg = err["msg"].removeprefix("Value error, ")
        msg = re.sub(r"a valid dictionary( or instance of \w+)?", "a JSON object", msg)
        section = str(loc[0]) if loc else "config"
        what = ("model config" if section == "model" else f"{section} section" if section in _SECTIONS
                else section)
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise ConfigIssue(f"invalid {what} ({_where(loc)}: {msg}){more}") from None
    return checked.model_dump(exclude_unset=True)
