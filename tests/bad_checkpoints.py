"""A corpus of bad checkpoint folders, each next to a copy of the real pretrained/mnist-mlp weights.

    write_bad_checkpoints(root) -> {name: folder}

Each folder is what a student, a damaged disk or a hostile upload could hand the library: a config.json with
one defect (wrong type per section, out-of-range or non-finite number, oversized string, list or file, deep
nesting, a 5,000-digit integer, a model over the size budget, ...), or missing/damaged weights. Every one must
be refused with one line: CheckpointError from the library, "error: ..." and a non-zero exit from
`python -m vae_core.evaluate`, in bounded time and memory. The dashboard's tests reuse the same corpus.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "pretrained" / "mnist-mlp"
CONFIG, WEIGHTS = "config.json", "model.safetensors"


def _set(path: str, value) -> Callable[[dict], None]:
    """A change to the config: set the dotted `path` (list indexes as numbers) to `value`."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]

    def change(config: dict) -> None:
        node = config
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = copy.deepcopy(value)

    return change


def _drop(key: str) -> Callable[[dict], None]:
    return lambda config: config.pop(key)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# Changes to the parsed config.json, one defect each.
_EDITS: dict[str, Callable[[dict], None]] = {
    # format
    "format-unknown": _set("format", "huggingface-transformers"),
    "format-missing": _drop("format"),
    "format-a-list": _set("format", ["latent-explorer-vae"]),
    "format-version-2": _set("format_version", 2),
    "format-version-true": _set("format_version", True),
    "format-version-string": _set("format_version", "1"),
    # model
    "model-missing": _drop("model"),
    "model-a-list": _set("model", [1]),
    "model-unknown-key": _set("model.layers", 3),
    "arch-unknown": _set("model.arch", "transformer"),
    "arch-a-number": _set("model.arch", 1),
    "latent-zero": _set("model.latent_dim", 0),
    "latent-negative": _set("model.latent_dim", -2),
    "latent-huge": _set("model.latent_dim", 10**9),
    "latent-a-string": _set("model.latent_dim", "2"),
    "latent-a-float": _set("model.latent_dim", 2.5),
    "latent-true": _set("model.latent_dim", True),
    "hidden-empty": _set("model.hidden", []),
    "hidden-negative": _set("model.hidden", [512, -256]),
    "hidden-a-string": _set("model.hidden", "512,256"),
    "hidden-a-float": _set("model.hidden", [512.5, 256]),
    "hidden-nested": _set("model.hidden", [[512], 256]),
    "hidden-an-int": _set("model.hidden", 512),
    "hidden-twelve-8192s": _set("model.hidden", [8192] * 12),
    "hidden-over-budget": _set("model.hidden", [4096, 4096]),
    "hidden-too-many-layers": _set("model.hidden", [8] * 100),
    "likelihood-unknown": _set("model.likelihood", "poisson"),
    "sigma-zero": _set("model.sigma", 0),
    "sigma-negative": _set("model.sigma", -0.1),
    "sigma-a-string": _set("model.sigma", "0.1"),
    "beta-negative": _set("model.beta", -1.0),
    "beta-huge": _set("model.beta", 1e300),
    "dropout-one": _set("model.dropout", 1.0),
    "dropout-a-list": _set("model.dropout", [0.1]),
    "image-shape-2d": _set("model.image_shape", [28, 28]),
    "image-shape-negative": _set("model.image_shape", [1, -28, 28]),
    "image-shape-zero": _set("model.image_shape", [1, 0, 28]),
    "image-shape-huge": _set("model.image_shape", [1, 2000, 2000]),
    "image-shape-5-channels": _set("model.image_shape", [5, 28, 28]),
    "image-shape-4d": _set("model.image_shape", [1, 1, 28, 28]),
    "image-shape-a-string": _set("model.image_shape", "1x28x28"),
    "conv-channels-one": _set("model.conv_channels", [32]),
    "conv-channels-huge": _set("model.conv_channels", [32, 10**6]),
    "conv-other-shape": lambda c: c["model"].update(arch="conv", image_shape=[1, 32, 32]),
    # data
    "data-a-list": _set("data", [1]),
    "data-a-string": _set("data", "mnist"),
    "dataset-a-list": _set("data.dataset", ["mnist"]),
    "dataset-a-dict": _set("data.dataset", {"name": "mnist"}),
    "dataset-unknown": _set("data.dataset", "cifar10"),
    "dataset-a-path": _set("data.dataset", "../../etc/passwd"),
    "sha256-not-hex": _set("data.sha256.train-images-idx3-ubyte", "zz" * 32),
    "sha256-a-list": _set("data.sha256", ["ba89"]),
    "n-train-negative": _set("data.n_train", -1),
    # training
    "training-a-string": _set("training", "60 epochs"),
    "training-epochs-negative": _set("training.epochs", -5),
    "training-seed-huge": _set("training.seed", 2**70),
    "training-lr-a-string": _set("training.lr", "fast"),
    "training-status-unknown": _set("training.status", "exploded"),
    "training-epochs-completed-a-float": _set("training.epochs_completed", 59.5),
    # metrics
    "metrics-a-list": _set("metrics", [135.4, 128.2]),
    "metrics-a-number": _set("metrics", 135.4),
    "test-loss-a-string": _set("metrics.test_loss", "low"),
    "test-loss-400-digits": _set("metrics.test_loss", int("9" * 400)),
    "test-loss-1e308": _set("metrics.test_loss", 1e308),
    "test-loss-a-dict": _set("metrics.test_loss", {"value": 1}),
    # history
    "history-a-list": _set("history", [1, 2]),
    "history-steps-an-int": _set("history.steps", 5),
    "history-steps-a-string": _set("history.steps", "many"),
    "history-epochs-an-int": _set("history.epochs", 60),
    "history-epochs-a-dict": _set("history.epochs", {"1": {"epoch": 1}}),
    "history-epoch-string-loss": _set("history.epochs.0.test_loss", "nan"),
    "history-epoch-not-a-dict": _set("history.epochs.0", 135.4),
    "history-epoch-without-number": lambda c: c["history"]["epochs"][0].pop("epoch"),
    "history-columns-unequal": lambda c: c["history"]["steps"]["loss"].pop(),
    "history-column-strings": _set("history.steps.loss", ["a", "b"]),
    "history-column-too-long": _set("history.steps.loss", [1.0] * 20_000),
    "history-step-rows-bad": _set("history.steps", [{"step": "one", "loss": 1, "recon": 1, "kl": 0}]),
    # versions, created, command
    "versions-a-number": _set("versions", 2),
    "versions-torch-a-list": _set("versions.torch", ["2.1"]),
    "created-a-number": _set("created", 1732800000),
    "command-a-list": _set("command", ["python", "-m", "vae_core.train"]),
    "command-huge": _set("command", "x" * 100_000),
    # anywhere: bounded nesting, strings and sizes even in keys this version does not know
    "note-huge-string": _set("note", "y" * 3_000_000),
    "note-nested-100": lambda c: c.update(note=json.loads(_nested(100))),
    "note-wide-object": _set("note", {str(i): i for i in range(20_000)}),
}

# config.json as text: what json.loads refuses, or the "numbers" JSON itself has no room for.
_TEXTS: dict[str, Callable[[str], str | bytes]] = {
    "json-broken": lambda t: t[: len(t) // 2],
    "json-empty": lambda t: "",
    "json-a-list": lambda t: "[" + t + "]",
    "json-null": lambda t: "null",
    "json-not-utf8": lambda t: b"\xff\xfe" + t.encode("utf-16-le"),
    "json-nesting-10000": lambda t: t.replace('"format"', '"note": ' + _nested(10_000) + ', "format"', 1),
    "json-nan-literal": lambda t: t.replace('"test_loss": 135.42867861328125', '"test_loss": NaN', 1),
    "json-infinity-hidden": lambda t: t.replace('"hidden": [\n   512,\n   256\n  ]', '"hidden": [Infinity]', 1),
    "json-1e400-loss": lambda t: t.replace('"test_loss": 135.42867861328125', '"test_loss": 1e400', 1),
    "json-5000-digit-int": lambda t: t.replace('"latent_dim": 2', '"latent_dim": ' + "7" * 5000, 1),
    "json-5000-digit-in-history": lambda t: t.replace('"epoch": 1,', '"epoch": ' + "1" * 5000 + ",", 1),
    "json-too-large": lambda t: t.replace('"format"', '"note": "' + "z" * (5 * 1024 * 1024) + '", "format"', 1),
    "json-duplicate-model-a-list": lambda t: t.rstrip().rstrip("}") + ', "model": [1]}',
}

def _rewrite_header(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    """A change to the safetensors header of the folder's weights (the tensors' bytes left as they are)."""
    def change(folder: Path) -> None:
        data = (folder / WEIGHTS).read_bytes()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8 : 8 + n])
        edit(header)
        text = json.dumps(header).encode()
        (folder / WEIGHTS).write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n :])

    return change


def _claim_more_bytes(header: dict) -> None:
    """The last tensor's end offset moved past the end of the file: a header that lies about the data."""
    last = max((t for k, t in header.items() if k != "__metadata__"), key=lambda t: t["data_offsets"][1])
    last["data_offsets"][1] += 4096


def _foreign_tensors(header: dict) -> None:
    """The same bytes under another model's tensor names."""
    for i, k in enumerate([k for k in header if k != "__metadata__"]):
        header[f"transformer.h.{i}.attn.weight"] = header.pop(k)


def _nan_value(folder: Path) -> None:
    """A NaN in the first tensor's bytes, the header left sound: only a full load can tell."""
    data = bytearray((folder / WEIGHTS).read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    first = min((t for k, t in json.loads(data[8 : 8 + n]).items() if k != "__metadata__"),
                key=lambda t: t["data_offsets"][0])
    assert first["dtype"] == "F32"
    at = 8 + n + first["data_offsets"][0]
    data[at : at + 4] = struct.pack("<f", float("nan"))
    (folder / WEIGHTS).write_bytes(bytes(data))


def _integer_dtype(header: dict) -> None:
    header["encoder.to_mu.bias"]["dtype"] = "I32"


# Folders whose weights, not config, are wrong (the config is the real one).
_WEIGHTS: dict[str, Callable[[Path], None]] = {
    "weights-missing": lambda f: (f / WEIGHTS).unlink(),
    "weights-empty": lambda f: (f / WEIGHTS).write_bytes(b""),
    "weights-garbage": lambda f: (f / WEIGHTS).write_bytes(b"\x00" * 1000),
    "weights-truncated": lambda f: (f / WEIGHTS).write_bytes((f / WEIGHTS).read_bytes()[:5000]),
    "weights-oversized": lambda f: (f / WEIGHTS).write_bytes((f / WEIGHTS).read_bytes() + b"\x00" * (2 << 20)),
    "weights-a-folder": lambda f: ((f / WEIGHTS).unlink(), (f / WEIGHTS).mkdir()),
    "weights-a-fifo": lambda f: ((f / WEIGHTS).unlink(), os.mkfifo(f / WEIGHTS)),  # opening it would block
    "weights-header-length-huge": lambda f: (f / WEIGHTS).write_bytes(
        struct.pack("<Q", 2**62) + (f / WEIGHTS).read_bytes()[8:]),
    "weights-header-not-json": lambda f: (f / WEIGHTS).write_bytes(
        (f / WEIGHTS).read_bytes()[:8] + b"\xff" * 64 + (f / WEIGHTS).read_bytes()[72:]),
    "weights-header-lies": _rewrite_header(_claim_more_bytes),
    "weights-foreign-tensors": _rewrite_header(_foreign_tensors),
    "weights-integer-dtype": _rewrite_header(_integer_dtype),
    "weights-nan-value": _nan_value,  # the one a listing cannot see: it reads the header, not the values
    "config-missing": lambda f: (f / CONFIG).unlink(),
    "config-a-folder": lambda f: ((f / CONFIG).unlink(), (f / CONFIG).mkdir()),
}


def _check_text(name: str, text: str) -> None:
    """A text edit that silently matched nothing would leave a good checkpoint in a bad-checkpoint corpus."""
    original = (SOURCE / CONFIG).read_text()
    if text == original:
        raise AssertionError(f"bad checkpoint {name!r}: the edit changed nothing (pretrained config changed?)")


def write_bad_checkpoints(root: Path) -> dict[str, Path]:
    """Write every bad checkpoint under root/<name>/ (each with a copy of the real weights); name -> folder."""
    root = Path(root)
    text = (SOURCE / CONFIG).read_text()
    good = json.loads(text)
    folders: dict[str, Path] = {}

    def folder_for(name: str) -> Path:
        folder = root / name
        folder.mkdir(parents=True)
        shutil.copyfile(SOURCE / WEIGHTS, folder / WEIGHTS)
        folders[name] = folder
        return folder

    for name, edit in _EDITS.items():
        config = copy.deepcopy(good)
        edit(config)
        (folder_for(name) / CONFIG).write_text(json.dumps(config, indent=1))
    for name, edit in _TEXTS.items():
        bad = edit(text)
        if isinstance(bad, str):
            _check_text(name, bad)
            (folder_for(name) / CONFIG).write_text(bad)
        else:
            (folder_for(name) / CONFIG).write_bytes(bad)
    for name, edit in _WEIGHTS.items():
        folder = folder_for(name)
        (folder / CONFIG).write_text(text)
        edit(folder)
    return folders
