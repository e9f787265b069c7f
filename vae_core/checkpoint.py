"""A checkpoint is a folder that describes itself:

    config.json        what the model is (VAEConfig), how it was trained, on which data, its metrics
    model.safetensors  the weights; safetensors holds only tensors, so loading runs no code (no pickle)

Loading checks the tensors against the config and refuses anything else with a CheckpointError.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import struct
import tempfile
from functools import lru_cache
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .budget import MAX_PARAMETERS, parameter_count
from .config import VAEConfig
from .model import VAE
from .replay import REPLAY_NAME
from .schema import ConfigIssue, json_type, parse_config_text, validate_config
from .test_set import TEST_SET_NAME

FORMAT = "latent-explorer-vae"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # config plus training curves; anything larger is not ours
MAX_HEADER_BYTES = 1024 * 1024  # safetensors' JSON header: our ~20 tensors take a few KB
# Float32 weights of the largest model the budget allows, so nothing that can be saved is refused on load.
MAX_WEIGHTS_BYTES = 4 * MAX_PARAMETERS + MAX_HEADER_BYTES


class CheckpointError(RuntimeError):
    """A checkpoint folder that cannot be used.

    str(e) is "where: reason" for the command lines; `.reason` is the same line without any path, what the
    dashboard shows a student (a server's paths are not theirs to see).
    """

    def __init__(self, reason: str, where: str | os.PathLike | None = None):
        self.reason = reason
        self.where = None if where is None else str(where)
        super().__init__(reason if where is None else f"{where}: {reason}")


def is_checkpoint_folder(path: str | os.PathLike) -> bool:
    """An existing folder holding only what save_checkpoint writes: config.json and/or model.safetensors,
    and the run's replay.safetensors (replay.py) and a folder-of-images model's test_set.safetensors
    (test_set.py) written beside them.

    The test before anything overwrites a folder: a folder with anything else in it (saved models, a
    student's files) is not ours to replace, and neither is a file.
    """
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        names = {p.name for p in path.iterdir()}
    except OSError:
        return False
    return bool(names) and names <= {CONFIG_NAME, WEIGHTS_NAME, REPLAY_NAME, TEST_SET_NAME} and all(
        (path / n).is_file() and not (path / n).is_symlink() for n in names)


def check_output_folder(folder: str | os.PathLike) -> None:
    """Refuse, before any work, a destination that is not ours to replace: a file, or a folder holding
    anything but a checkpoint (e.g. models/ with every saved model in it). New or empty folders are fine."""
    folder = Path(folder)
    try:
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise CheckpointError("exists and is not a folder; give a new folder or an existing checkpoint", folder)
        occupied = folder.is_dir() and any(folder.iterdir())
    except OSError as e:  # a name too long, a parent that cannot be searched
        raise CheckpointError(f"cannot be used ({e.strerror or type(e).__name__})", folder) from None
    if occupied and not is_checkpoint_folder(folder):
        raise CheckpointError(
            f"is a folder holding other files, not a checkpoint ({CONFIG_NAME} and {WEIGHTS_NAME} only); "
            "give a new folder, or an existing checkpoint to replace", folder)


# save_checkpoint stages a sibling ".<name>.tmp-XXXXXXXX" and parks the old one as ".<name>.old-<pid>": the
# name must leave room for those suffixes within the file system's limit on a name.
STAGING_SUFFIX_BYTES = 24
PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"  # the shipped models


def inside_pretrained(folder: str | os.PathLike) -> bool:
    """Whether folder is, or lies inside, the repository's pretrained/ (the shipped models)."""
    target, pre = Path(os.path.abspath(folder)), PRETRAINED_DIR
    target = Path(os.path.realpath(target.parent)) / target.name
    return target == pre or pre in target.parents


def check_output_writable(folder: str | os.PathLike, needed_bytes: int = 0) -> None:
    """Refuse, before any work, a destination that cannot be written: a name too long for the file system, a
    parent that is a file, a folder where nothing can be created (read-only, /proc), or a disk without room
    for `needed_bytes`. A small trial file is written (and removed) in the nearest existing parent; nothing
    else is created. CheckpointError (one line) otherwise."""
    folder = Path(os.path.abspath(folder))
    ancestor = folder.parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    try:
        name_max = os.pathconf(ancestor if ancestor.is_dir() else ancestor.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    missing = folder.relative_to(ancestor).parts
    for part in missing:
        limit = name_max - (STAGING_SUFFIX_BYTES if part == folder.name else 0)
        if len(os.fsencode(part)) > limit:
            raise CheckpointError(f"has a name of {len(os.fsencode(part))} bytes; at most {limit} fit here "
                                  f"(the file system allows {name_max})", folder)
    if len(os.fsencode(str(folder))) + STAGING_SUFFIX_BYTES > 4000:
        raise CheckpointError("is a path too long for the file system", folder)
    if not ancestor.is_dir():
        raise CheckpointError(f"cannot be created: {ancestor} is not a folder", folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=ancestor)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"\0" * 4096)
                f.flush()
                os.fsync(f.fileno())
        finally:
            os.unlink(probe)
    except OSError as e:
        raise CheckpointError(f"cannot be written ({e.strerror or type(e).__name__} in {ancestor})", folder) from None
    try:
        free = shutil.disk_usage(ancestor).free
    except OSError:
        return
    if free < needed_bytes:
        raise CheckpointError(f"has no room: {free:,} bytes free, a checkpoint takes about {needed_bytes:,}", folder)


def save_checkpoint(model: VAE, folder: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write model + config into `folder` atomically: a sibling temp folder is filled, then swapped in.

    A reader never sees a half-written checkpoint; if writing fails, the previous one stays. Only a new or
    empty folder or an existing checkpoint is replaced (check_output_folder); and the config must pass the
    same validation as loading, so nothing saved here is refused by load_checkpoint.
    """
    folder = Path(folder)
    check_output_folder(folder)
    config = {**(meta or {}), "format": FORMAT, "format_version": FORMAT_VERSION, "model": model.cfg.to_dict()}
    text = json.dumps(config, indent=1, allow_nan=False) + "\n"  # ValueError on NaN/inf before anything is written
    try:
        validate_config(parse_config_text(text))
    except ConfigIssue as e:
        raise ValueError(f"this checkpoint config would not load: {e}") from None
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise ValueError(f"this checkpoint config would not load: larger than {MAX_CONFIG_BYTES:,} bytes")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_NAME), metadata={"format": FORMAT})
        (tmp / CONFIG_NAME).write_text(text)
        # mkdtemp makes a private folder; a checkpoint is an ordinary shareable folder.
        os.chmod(tmp, 0o755)
        for f in tmp.iterdir():
            os.chmod(f, 0o644)
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _read_text(path: Path) -> str:
    """config.json's text, reading at most MAX_CONFIG_BYTES + 1 (the file may grow after a stat)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise CheckpointError(f"cannot be read ({e.strerror or type(e).__name__})", path) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise CheckpointError(f"too large to be a checkpoint config (over {MAX_CONFIG_BYTES:,} bytes)", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("not valid JSON (not UTF-8 text)", path) from None


def _short(value) -> str:
    """A value from the file for a message, short whatever it is."""
    text = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else f"a JSON {json_type(value)}"
    return text if len(text) <= 40 else text[:37] + "..."


def read_config(folder: str | os.PathLike) -> dict:
    """config.json of a checkpoint folder, validated whole (schema.py): each known section absent or
    well-typed and in range, and a model within the size budget. CheckpointError (one line) otherwise."""
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not folder.is_dir():
        raise CheckpointError("not a checkpoint folder (it does not exist or is not a folder)", folder)
    if not path.is_file():
        raise CheckpointError(f"no {CONFIG_NAME}; a checkpoint folder holds {CONFIG_NAME} and {WEIGHTS_NAME}", folder)
    try:
        raw = parse_config_text(_read_text(path))
        if raw.get("format") != FORMAT:
            raise ConfigIssue(f"not a latent-explorer checkpoint (format is {_short(raw.get('format'))})")
        if raw.get("format_version") != FORMAT_VERSION or isinstance(raw.get("format_version"), bool):
            raise ConfigIssue(f"format version {_short(raw.get('format_version'))} is not supported "
                              f"(expected {FORMAT_VERSION})")
        config = validate_config(raw)
        VAEConfig.from_dict(config["model"])  # the schema's bounds plus the size budget (BudgetError)
    except ConfigIssue as e:
        raise CheckpointError(str(e), path) from None
    except ValueError as e:  # VAEConfig: a BudgetError or a rule the schema does not repeat
        raise CheckpointError(f"invalid model config ({e})", path) from None
    return config


# safetensors' dtypes: bytes per element, and whether it is a floating point type (the only ones we accept).
_DTYPES = {"F64": (8, True), "F32": (4, True), "F16": (2, True), "BF16": (2, True), "F8_E4M3": (1, True),
           "F8_E5M2": (1, True), "I64": (8, False), "I32": (4, False), "I16": (2, False), "I8": (1, False),
           "U64": (8, False), "U32": (4, False), "U16": (2, False), "U8": (1, False), "BOOL": (1, False)}
_TORCH_NAMES = {"I64": "torch.int64", "I32": "torch.int32", "I16": "torch.int16", "I8": "torch.int8",
                "U8": "torch.uint8", "BOOL": "torch.bool"}


@lru_cache(maxsize=64)
def expected_tensors(cfg: VAEConfig) -> dict[str, tuple[int, ...]]:
    """The tensor names and shapes of the config's model, from a copy on the meta device (no storage)."""
    with torch.device("meta"):
        model = VAE(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_weights_file(weights: str | os.PathLike, cfg: VAEConfig) -> None:
    """The weights file against the config without loading it: a regular file (a FIFO or a device is never
    opened), a size within what the model takes, and a safetensors header (its length, its JSON, and the
    names, shapes, dtypes and offsets of the tensors) that matches the config and the file's size exactly.
    Reads the 8-byte length and the header only; CheckpointError (one line) otherwise."""
    weights = Path(weights)
    try:
        info = os.stat(weights)
    except OSError:
        raise CheckpointError(f"no {WEIGHTS_NAME}", weights.parent) from None
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError("not a regular file", weights)
    params = parameter_count(cfg)
    if info.st_size > min(4 * params + MAX_HEADER_BYTES, MAX_WEIGHTS_BYTES):
        raise CheckpointError(f"too large for this model ({info.st_size:,} bytes, the config's "
                              f"{params:,} parameters take {4 * params:,})", weights)
    try:
        fd = os.open(weights, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # replaced by a FIFO since the stat
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise CheckpointError("not a regular file", weights)
            head = f.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
            if not 0 < n <= min(MAX_HEADER_BYTES, info.st_size - 8):
                raise CheckpointError("not a readable safetensors file (its header length is "
                                      f"{'missing' if n < 0 else f'{n:,} bytes'} in a file of {info.st_size:,})",
                                      weights)
            header = json.loads(f.read(n).decode("utf-8"))
    except OSError as e:
        raise CheckpointError(f"cannot be read ({e.strerror or type(e).__name__})", weights) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CheckpointError("not a readable safetensors file (its header is not JSON)", weights) from None
    _check_header(header, expected_tensors(cfg), info.st_size - 8 - n, weights)


def _check_header(header, expected: dict, data_bytes: int, weights: Path) -> None:
    """A parsed safetensors header against the tensors the config implies and the bytes after the header."""
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"not a readable safetensors file ({why})", weights)

    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    found, spans = {}, []
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if not (isinstance(t, dict) and isinstance(t.get("dtype"), str) and isinstance(t.get("shape"), list)
                and all(type(x) is int and x >= 0 for x in t["shape"]) and isinstance(t.get("data_offsets"), list)
                and len(t["data_offsets"]) == 2 and all(type(x) is int for x in t["data_offsets"])):
            raise bad(f"tensor {_short(name)} is not described by a dtype, a shape and two offsets")
        found[name] = tuple(t["shape"])
        spans.append((t["data_offsets"][0], t["data_offsets"][1], name, t["dtype"]))
    if expected != found:
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
        raise CheckpointError(
            "tensors do not match the config "
            f"(missing {missing[:3]}, unexpected {[k[:40] for k in extra[:3]]}, wrong shape {wrong[:3]})", weights)
    end = 0
    for start, stop, name, dtype in sorted(spans):
        size, floating = _DTYPES.get(dtype, (None, False))
        if not floating:
            raise CheckpointError(f"tensor {name} is {_TORCH_NAMES.get(dtype, _short(dtype))}, "
                                  "expected floating point", weights)
        if start != end or stop - start != size * math.prod(found[name]):
            raise bad(f"the offsets of tensor {name} do not match its shape and dtype")
        end = stop
    if end != data_bytes:
        raise bad(f"its header describes {end:,} bytes of tensors, the file holds {data_bytes:,}")


def load_checkpoint(folder: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[VAE, dict]:
    """(model in eval mode, config dict). Raises CheckpointError for anything that is not a sound checkpoint.

    Every size is checked from the config before anything is allocated: the model against the parameter budget
    (in read_config), the weights file and its header against the tensors that model has (check_weights_file)."""
    folder = Path(folder)
    config = read_config(folder)
    cfg = VAEConfig.from_dict(config["model"])
    weights = folder / WEIGHTS_NAME
    check_weights_file(weights, cfg)
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]  # the message stays one line
        raise CheckpointError(f"not a readable safetensors file ({first})", weights) from None
    model = VAE(cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:  # the header said otherwise: the file changed since it was checked
        raise CheckpointError("tensors do not match the config", weights)
    for k, v in state.items():
        if not v.is_floating_point():
            raise CheckpointError(f"tensor {k} is {v.dtype}, expected floating point", weights)
        if not torch.isfinite(v).all():
            raise CheckpointError(f"tensor {k} holds NaN or infinite values", weights)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.to(device).eval(), config


def metric(config: dict, key: str, default: float = math.nan) -> float:
    """A stored metric, e.g. metric(cfg, 'test_loss'); NaN when the checkpoint has none."""
    value = config.get("metrics", {}).get(key, default)
    return float(value) if isinstance(value, (int, float)) else default
