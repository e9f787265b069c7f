"""Which checkpoints there are: list_models() lists every checkpoint folder of pretrained/ (shipped), models/
(trained by the user) and models/_recovered/. No Streamlit.

It never breaks a page: a folder whose config.json is malformed, whose weights do not match its config (size
and safetensors header, checked without loading them), or that is a symbolic link (links are not followed), is
listed as "<name> · unreadable (<why, no path>)". The listing is kept for the whole process and
re-checked with stats only (see list_models()).
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import vae_core
from vae_core.checkpoint import CONFIG_NAME, WEIGHTS_NAME, check_weights_file

from .. import paths

DEFAULT_MODEL = "mnist-mlp"
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "folder": "Your images"}

log = logging.getLogger(__name__)

def checkpoint_roots() -> list[tuple[str, Path]]:
    """(source, folder) pairs searched for checkpoints; environment variables override them (tests use that)."""
    return [("pretrained", paths.pretrained_dir()), ("models", paths.models_dir()),
            ("recovered", paths.recovered_dir())]


LINK_REASON = "a symbolic link; links in a models folder are not followed"


@dataclass(frozen=True)
class ModelEntry:
    folder: str  # absolute path of the checkpoint folder (where it really is: links are never followed)
    name: str  # the folder's name
    source: str  # "pretrained", "models" or "recovered"
    stamp: tuple[int, int]  # mtime_ns of config.json and model.safetensors: part of every cache key
    dataset: str | None = None
    arch: str | None = None
    latent_dim: int | None = None
    test_loss: float | None = None
    error: str | None = None  # why it cannot be used, one line without a path; None when it can

    @property
    def key(self) -> str:
        return f"{self.folder}@{self.stamp[0]}:{self.stamp[1]}"

    @property
    def link_name(self) -> str:
        """How a link names the model: where it lives and its folder's name, never a server path."""
        return f"{self.source}/{self.name}"

    @property
    def label(self) -> str:
        head = self.name if self.source == "pretrained" else f"{self.source}/{self.name}"
        if self.error:
            return f"{head} · unreadable ({_shorten(self.error, 70)})"
        loss = f"loss {self.test_loss:.1f}" if self.test_loss is not None else "no test loss"
        # short enough for the sidebar's box (235 px): the summary under it names the data and the architecture;
        # the data stays here when the name does not say it
        data = DATASET_TITLES.get(self.dataset, self.dataset)
        said = str(self.dataset).split("-")[0].lower() in self.name.lower()
        return " · ".join([head, *([] if said else [data]), f"{self.latent_dim}-D", loss])


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def public_reason(error: BaseException, *folders: str | os.PathLike) -> str:
    """One line saying why, with no server path in it: what a student may see. CheckpointError.reason when the
    library gives one; otherwise the message with the folders named by their last part only."""
    reason = getattr(error, "reason", None)
    text = str(reason if reason else error) or type(error).__name__
    for folder in folders:
        folder = str(folder)
        for full in sorted({folder, str(Path(folder).resolve())}, key=len, reverse=True):
            text = text.replace(full + os.sep, "").replace(full, Path(folder).name)
    return " ".join(paths.hide_paths(text).split())


def folder_stamp(folder: str | os.PathLike) -> tuple[int, int]:
    """Modification times of the two checkpoint files (0 when missing): they change whenever it is rewritten."""
    out = []
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        try:
            out.append(os.lstat(os.path.join(folder, name)).st_mtime_ns)
        except OSError:
            out.append(0)
    return out[0], out[1]


def _linked_part(folder: str) -> str | None:
    """The name of the first of folder, config.json, model.safetensors that is a symbolic link, else None."""
    for path in (folder, os.path.join(folder, CONFIG_NAME), os.path.join(folder, WEIGHTS_NAME)):
        if os.path.islink(path):
            return os.path.basename(path)
    return None


def finite_number(value) -> float | None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and math.isfinite(value) else None


def describe(folder: str | os.PathLike, source: str, stamp: tuple[int, int] | None = None) -> ModelEntry:
    """Read a checkpoint's config into a ModelEntry; an unreadable one gets `error` set instead of raising.

    Only fields vae_core.read_config has validated are read. A link (the folder, or one of its two files) is
    never followed: otherwise a link in models/ would relabel a shipped model, or show fields of any file."""
    folder = Path(os.path.abspath(folder))
    folder = Path(os.path.realpath(folder.parent)) / folder.name  # the parents resolved, the folder itself not
    stamp = stamp or folder_stamp(folder)
    linked = _linked_part(str(folder))
    if linked is not None:
        return ModelEntry(str(folder), folder.name, source, stamp, error=f"{linked} is {LINK_REASON}")
    try:
        config = vae_core.read_config(folder)
        cfg = vae_core.VAEConfig.from_dict(config["model"])
        vae_core.check_budget(cfg)  # listed as readable only if loading it would not be refused for its size
        # nor for its weights: their size and header against the config (a FIFO is never opened; no full load)
        check_weights_file(folder / WEIGHTS_NAME, cfg)
    except (vae_core.CheckpointError, vae_core.BudgetError) as e:
        return ModelEntry(str(folder), folder.name, source, stamp, error=public_reason(e, folder))
    except Exception as e:  # a config read_config let through that still does not make a model: say so, once
        log.warning("checkpoint %s: unusable config: %r", folder, e)
        return ModelEntry(str(folder), folder.name, source, stamp, error=f"invalid model config ({type(e).__name__})")
    data, metrics = config.get("data"), config.get("metrics")
    dataset = data.get("dataset") if isinstance(data, dict) else None
    return ModelEntry(
        folder=str(folder), name=folder.name, source=source, stamp=stamp,
        dataset=dataset if isinstance(dataset, str) else "mnist", arch=cfg.arch, latent_dim=int(cfg.latent_dim),
        test_loss=finite_number(metrics.get("test_loss")) if isinstance(metrics, dict) else None,
    )


@dataclass(frozen=True)
class _Listing:
    """The checkpoint-like entries of one root, as of its directory's mtime_ns."""

    mtime_ns: int
    names: tuple[str, ...]  # subfolders and links, sorted; hidden (temporary) ones left out
    links: frozenset[str]


_CONFIG_SUFFIX, _WEIGHTS_SUFFIX = os.sep + CONFIG_NAME, os.sep + WEIGHTS_NAME
RESTAT_S = 2.0  # the folders' stamps are checked at most this often; a new, removed or renamed folder at once


@dataclass
class _RootScan:
    """What list_models() found in one root, and when it last checked the folders' stamps."""

    listing: _Listing
    checked: float  # time.monotonic() of the last stamp check
    entries: list[ModelEntry]
    described: dict[str, tuple[tuple[int, int], ModelEntry]]  # folder name -> (stamp, entry)


_listings: dict[str, _Listing] = {}  # real path of a root -> its listing
_scans: dict[tuple[str, str], _RootScan] = {}  # (source, real path of the root) -> its last scan


def _list_root(root: str, skip: frozenset[str]) -> _Listing | None:
    """The root's entries, re-read only when its mtime_ns changed (adding, removing or renaming a folder, and
    the atomic swap of save_checkpoint, all change it). None when the root is missing or unreadable."""
    try:
        mtime = os.stat(root).st_mtime_ns
    except OSError:
        return None
    known = _listings.get(root)
    if known is not None and known.mtime_ns == mtime:
        return known
    names, links = [], set()
    try:
        with os.scandir(root) as it:
            for d in it:
                if d.name.startswith(".") or d.name in skip:
                    continue
                if d.is_symlink():
                    names.append(d.name)
                    links.add(d.name)
                elif d.is_dir(follow_symlinks=False):
                    names.append(d.name)
    except OSError:
        return None
    listing = _Listing(mtime, tuple(sorted(names)), frozenset(links))
    _listings[root] = listing
    return listing


def _roots(roots: list[tuple[str, Path]] | None) -> list[tuple[str, str, frozenset[str]]]:
    """(source, real path, names to skip) of each root. A root that is itself a link inside another root
    (models/_recovered -> elsewhere) is not followed; the recovered root is not listed again as a folder."""
    out = []
    for source, root in roots or checkpoint_roots():
        root = Path(root)
        if source == "recovered" and root.is_symlink():
            log.warning("%s is a symbolic link: not followed", root)
            continue
        skip = frozenset({paths.RECOVERED, paths.CLASS_DIR}) if source == "models" else frozenset()
        out.append((source, os.path.realpath(root), skip))
    return out


def _scan_root(source: str, root: str, listing: _Listing, known: _RootScan | None) -> _RootScan:
    """Stamp every folder of the listing (two lstats each) and describe only those whose stamp changed."""
    lstat, old = os.lstat, known.described if known is not None else {}
    prefix = root.rstrip(os.sep) + os.sep
    described, entries = {}, []
    for name in listing.names:
        folder = prefix + name  # string concatenation: os.path.join costs more than the lstat (1,000 a rerun)
        if name in listing.links:
            stamp = (0, 0)
        else:
            try:
                c = lstat(folder + _CONFIG_SUFFIX).st_mtime_ns
            except OSError:
                c = 0
            try:
                w = lstat(folder + _WEIGHTS_SUFFIX).st_mtime_ns
            except OSError:
                w = 0
            if not (c or w):
                continue  # neither file: not a checkpoint folder
            stamp = (c, w)
        previous = old.get(name)
        if previous is not None and previous[0] == stamp:
            entry = previous[1]
        elif name in listing.links:
            entry = ModelEntry(folder, name, source, stamp, error=LINK_REASON)
        else:
            entry = describe(folder, source, stamp)
        described[name] = (stamp, entry)
        entries.append(entry)
    return _RootScan(listing, time.monotonic(), entries, described)


def list_models(roots: list[tuple[str, Path]] | None = None, max_age: float = RESTAT_S) -> list[ModelEntry]:
    """Every checkpoint folder of the roots (default: checkpoint_roots()), in order, without reading a file
    while nothing changed.

    Per call: one stat per root. When a root's mtime_ns changed (a folder added, removed or renamed, and every
    save_checkpoint, which swaps a folder in), or its folders were last stamped over `max_age` seconds ago, each
    folder is stamped again (two lstats) and only a folder whose stamp changed has its config read and
    validated again. So 1,000 folders cost one stat on most reruns and a few ms every 2 s, instead of 1,000
    configs read on every rerun of every session. A config.json edited in place shows within max_age.
    A subfolder with neither file is not a checkpoint and not listed; a link is listed as unreadable."""
    found, now = [], time.monotonic()
    for source, root, skip in _roots(roots):
        listing = _list_root(root, skip)
        if listing is None:
            _scans.pop((source, root), None)
            continue
        known = _scans.get((source, root))
        if known is None or known.listing is not listing or now - known.checked > max_age:
            known = _scans[(source, root)] = _scan_root(source, root, listing, known)
        found += known.entries
    return found


def default_index(entries: list[ModelEntry]) -> int:
    """The shipped mnist-mlp if present, else the first readable model, else 0."""
    for i, e in enumerate(entries):
        if e.source == "pretrained" and e.name == DEFAULT_MODEL and not e.error:
            return i
    return next((i for i, e in enumerate(entries) if not e.error), 0)

