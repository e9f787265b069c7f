"""Which models there are, and loading them once.

The registry (scan(), list_models()) lists every checkpoint folder in pretrained/ (shipped), models/ (trained
by the user) and models/_recovered/. It never breaks a page: a folder whose config.json is malformed, or that
is a symbolic link (links are not followed), is listed as "<name> · unreadable (<why, no path>)". The scan is
kept for the whole process and re-checked with stats only (see scan()).
Everything expensive is computed once per model and cached in memory, keyed by the folder and the
modification times of its files, so a retrained model is picked up and nothing is written to disk:

    load_model(folder, stamp)         the VAE in eval mode and its config        (st.cache_resource)
    test_encodings(folder, stamp)     posterior mean and sigma of the 10,000 test images  (st.cache_resource)
    manifold_grid(folder, stamp, ...) the decoded n x n grid over the latent plane        (st.cache_data)
    manifold_png(folder, stamp, ...)  that grid as the PNG the Manifold tab shows           (st.cache_data)
    decoder_blob(folder, stamp)       the decoder's weights for the page, float32 base64    (st.cache_resource)
    points_blob(folder, stamp, ...)   the encoded test set for the page                     (st.cache_resource)
    latent_analysis(folder, stamp, .) principal plane, KL per dimension, active units     (st.cache_resource)
    plane_points(..., key)            the test codes on a plane ("pca" or (i, j))           (st.cache_resource)

All of these are process-wide: every session of the server shares one copy per model (and one copy of each
dataset), and a session keeps only small things of its own (its picks, its sliders, its drawn digit).

Threads. Every request (a Streamlit run, each in a thread of its own) computes with REQUEST_THREADS torch
threads: its work is small (a decode, a morph of a few dozen frames), so a second thread only adds
synchronisation, and with a class of sessions at once the requests are what runs in parallel. See
use_request_threads() for why it is set per thread.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch

import vae_core
from vae_core import analysis
from vae_core.checkpoint import CONFIG_NAME, WEIGHTS_NAME
from vae_core.train import available_cpus, torch_threads

from . import latent_plane, paths, views

DEFAULT_MODEL = "mnist-mlp"
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
REQUEST_THREADS = 1  # torch intra-op threads of one request

log = logging.getLogger(__name__)


_modules_frozen = 0  # len(sys.modules) at the last freeze_imported_objects()


def freeze_imported_objects() -> None:
    """Move every object alive now into the garbage collector's permanent generation, once after each batch of
    imports (PyTorch, Plotly, ...: about 240,000 objects).

    A full collection walks every tracked object: with PyTorch loaded that takes over 100 ms, holding the GIL,
    so every other session and the training thread stop meanwhile. Streamlit runs one after every script run
    unless runner.postScriptGC is false (.streamlit/config.toml sets it so), and Python runs one now and
    then by itself. Frozen objects are skipped; they are still freed by reference counting, and modules are
    never garbage anyway."""
    global _modules_frozen
    if len(sys.modules) > _modules_frozen:
        gc.freeze()
        _modules_frozen = len(sys.modules)


def use_request_threads() -> None:
    """Give the calling thread REQUEST_THREADS torch threads. Call it at the start of every run (app.py) and
    before torch work in a fragment (decode() does).

    torch.set_num_threads is not simply process-wide: with OpenMP each thread keeps its own count once it has
    computed, and a thread computing for the first time takes the value last set by any thread. A training
    job sets all the cores for its own thread (vae_core.train.torch_threads), so a Streamlit run starting
    meanwhile would take as many as the training, and the two would fight over the same cores. Setting the
    count in each run's own thread keeps requests at REQUEST_THREADS and leaves the training's count alone."""
    if torch.get_num_threads() != REQUEST_THREADS:
        torch.set_num_threads(REQUEST_THREADS)


def checkpoint_roots() -> list[tuple[str, Path]]:
    """(source, folder) pairs searched for checkpoints; environment variables override them (tests use that)."""
    return [("pretrained", paths.pretrained_dir()), ("models", paths.models_dir()), ("recovered", paths.recovered_dir())]


# --- the registry (no Streamlit) -------------------------------------------------------------

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
    def label(self) -> str:
        head = self.name if self.source == "pretrained" else f"{self.source}/{self.name}"
        if self.error:
            return f"{head} · unreadable ({_shorten(self.error, 70)})"
        loss = f"loss {self.test_loss:.1f}" if self.test_loss is not None else "no test loss"
        return f"{head} · {DATASET_TITLES.get(self.dataset, self.dataset)} · {self.arch} · {self.latent_dim}-D · {loss}"


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


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


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
        test_loss=_number(metrics.get("test_loss")) if isinstance(metrics, dict) else None,
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
    """What scan() found in one root, and when it last checked the folders' stamps."""

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
        skip = frozenset({paths.RECOVERED}) if source == "models" else frozenset()
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


def scan(roots: list[tuple[str, Path]] | None = None, max_age: float = RESTAT_S) -> list[ModelEntry]:
    """Every checkpoint folder of the roots, in order, without reading a file while nothing changed.

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


def candidate_folders(roots: list[tuple[str, Path]] | None = None) -> list[tuple[str, Path]]:
    """(source, folder) of every entry scan() lists (a checkpoint folder, or a link shown as unreadable)."""
    return [(e.source, Path(e.folder)) for e in scan(roots)]


def scan_checkpoints(roots: list[tuple[str, Path]] | None = None) -> list[ModelEntry]:
    return scan(roots)


def default_index(entries: list[ModelEntry]) -> int:
    """The shipped mnist-mlp if present, else the first readable model, else 0."""
    for i, e in enumerate(entries):
        if e.source == "pretrained" and e.name == DEFAULT_MODEL and not e.error:
            return i
    return next((i for i, e in enumerate(entries) if not e.error), 0)


# --- the expensive parts, computed once per model (no Streamlit) ------------------------------


@dataclass(frozen=True)
class Encodings:
    """q(z|x) for every test image: arrays are shared between sessions, treat them as read-only."""

    dataset: str
    class_names: tuple[str, ...]
    images: torch.Tensor  # uint8 [N, 28, 28], the test set itself (shared with vae_core's cache)
    labels: np.ndarray  # int64 [N]
    mu: np.ndarray  # float32 [N, d] posterior means
    sigma: np.ndarray  # float32 [N, d] posterior standard deviations
    plane: np.ndarray  # float32 [N, 2] the plotted coordinates
    limit: float  # half-width of the slider range and of the plot


@torch.inference_mode()
def encode_images(model: vae_core.VAE, images: torch.Tensor, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [N, 28, 28] -> (mu, sigma), float32 numpy [N, d] each, in batches."""
    mus, sigmas = [], []
    for i in range(0, len(images), batch):
        mu, logvar = model.encode(vae_core.to_float(images[i : i + batch]).to(model.device))
        mus.append(mu.float().cpu())
        sigmas.append(torch.exp(0.5 * logvar).float().cpu())
    return torch.cat(mus).numpy(), torch.cat(sigmas).numpy()


def compute_encodings(model: vae_core.VAE, dataset: vae_core.Dataset) -> Encodings:
    # Once per model for the whole server, and the first screen waits for it: every core helps here.
    with torch_threads(available_cpus()):
        mu, sigma = encode_images(model, dataset.test_images)
    return Encodings(
        dataset=dataset.name, class_names=tuple(dataset.class_names), images=dataset.test_images,
        labels=dataset.test_labels.numpy().astype(np.int64), mu=mu, sigma=sigma,
        plane=views.plane_coords(mu), limit=code_limit(mu),
    )


def code_limit(mu: np.ndarray) -> float:
    """The sliders' range and the map's home half-width: views.latent_limit of (z1, z2) for d <= 2. For d > 2 it
    must reach every coordinate (any slider) and the PCA plane's coordinates too (the default map), whose
    spread can exceed any one coordinate's:  max(limit of max_j |mu_j|, limit of |(u, v)|)."""
    if mu.shape[1] <= 2:
        return views.latent_limit(mu)
    pca = analysis.principal_plane(mu)
    return max(views.latent_limit(np.abs(mu).max(axis=1, keepdims=True)),
               views.latent_limit(analysis.to_plane(mu, pca)))


@torch.inference_mode()
def decode(model: vae_core.VAE, z) -> np.ndarray:
    """Latent codes [B, d] (or one code [d]) -> float32 images [B, 28, 28] in [0, 1]."""
    use_request_threads()  # a fragment's rerun (the sliders) runs in a thread of its own, without app.py
    z = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if z.ndim == 1:
        z = z[None]
    return model.decode(z.to(model.device))[:, 0].float().cpu().numpy()


@torch.inference_mode()
def compute_grid(model: vae_core.VAE, n: int, extent: float) -> np.ndarray:
    """The decoder over an n x n grid of (z1, z2) in [-extent, extent]^2, other dims 0: uint8 [n, n, 28, 28]."""
    return views.to_uint8(model.latent_grid(float(extent), int(n)).float())


# --- cached versions for the app --------------------------------------------------------------


def list_models() -> list[ModelEntry]:
    """Every checkpoint in pretrained/, models/ and models/_recovered/ (scan(): configs re-read only when a
    folder changes; the cache is this process's, shared by every session)."""
    return scan()


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_model(folder: str, stamp: tuple[int, int]) -> tuple[vae_core.VAE, dict]:
    """vae_core.load_checkpoint, once per folder version. A failure raises (and is not cached)."""
    return vae_core.load_checkpoint(folder)


@st.cache_resource(max_entries=4, show_spinner=False)
def _dataset(name: str) -> vae_core.Dataset:
    # The same arguments as the Train tab's job (dashboard/training_job.py: name, data_dir=None) so that
    # vae_core's own per-process cache hands both the same tensors instead of loading a second copy.
    return vae_core.load_dataset(name, None)


@st.cache_resource(max_entries=4, show_spinner="Encoding the 10,000 test images…")
def test_encodings(folder: str, stamp: tuple[int, int], dataset: str) -> Encodings:
    model, _ = load_model(folder, stamp)
    return compute_encodings(model, _dataset(dataset))


@st.cache_data(max_entries=32, show_spinner=False)
def manifold_grid(folder: str, stamp: tuple[int, int], n: int, extent: float,
                  plane: tuple | None = None) -> np.ndarray:
    """plane: None (z1, z2, the other dimensions 0) or plane_slice(): the grid of z = o + u e1 + v e2."""
    model, _ = load_model(folder, stamp)
    if plane is None:
        return compute_grid(model, n, extent)
    return compute_plane_grid(model, n, extent, *plane)


@st.cache_data(max_entries=32, show_spinner=False)
def manifold_png(folder: str, stamp: tuple[int, int], n: int, extent: float,
                 plane: tuple | None = None) -> tuple[bytes, int]:
    """(the manifold grid as a PNG, its width in px): the Manifold tab shows and offers it at every full rerun of
    every page that has the tab open, and encoding it takes ~16 ms; once per grid instead."""
    image = views.grid_image(manifold_grid(folder, stamp, n, extent, plane), scale=max(1, 600 // (int(n) * 28)))
    return views.png_bytes(image), int(image.shape[1])


@torch.inference_mode()
def compute_plane_grid(model: vae_core.VAE, n: int, extent: float, origin, e1, e2) -> np.ndarray:
    """The decoder over an n x n grid of the slice z = o + u e1 + v e2, (u, v) in [-extent, extent]^2, rows from
    the top (v = +extent) like compute_grid: uint8 [n, n, 28, 28]."""
    t = np.linspace(-float(extent), float(extent), int(n))
    u, v = np.meshgrid(t, t[::-1])  # row i: v = t[n-1-i] (top to bottom), column j: u = t[j]
    z = (np.asarray(origin)[None] + u.reshape(-1, 1) * np.asarray(e1)[None] + v.reshape(-1, 1) * np.asarray(e2)[None])
    return views.to_uint8(decode(model, z)).reshape(int(n), int(n), 28, 28)


# --- planes through a latent space of any dimension (vae_core.analysis) ------------------------


@st.cache_resource(max_entries=4, show_spinner="Measuring the latent dimensions…")
def latent_analysis(folder: str, stamp: tuple[int, int], dataset: str) -> analysis.LatentSummary:
    """The test codes' principal plane, KL per dimension, active units and KL order, once per model.

    From the cached encodings: logvar = 2 log sigma, so no second pass through the encoder."""
    enc = test_encodings(folder, stamp, dataset)
    logvar = 2.0 * np.log(np.maximum(enc.sigma.astype(np.float64), 1e-30))
    return analysis.summarize_codes(enc.mu, logvar)


def plane_of(folder: str, stamp: tuple[int, int], dataset: str, key) -> analysis.Plane | None:
    """The plane a map key names: "pca" (the principal plane) or (i, j) (coordinates z_i, z_j, 0-based); None
    for a model with fewer than 3 dimensions (its map is (z1, z2) as it always was)."""
    summary = latent_analysis(folder, stamp, dataset)
    d = summary.mu.shape[1]
    if d <= 2:
        return None
    if key == "pca" or summary.plane is None:
        return summary.plane
    i, j = (int(k) for k in key)
    return analysis.coordinate_plane(d, i, j, summary.mu)


@st.cache_resource(max_entries=16, show_spinner=False)
def plane_points(folder: str, stamp: tuple[int, int], dataset: str, key) -> np.ndarray:
    """The test codes on that plane, float32 [N, 2]: (u, v) = ((mu - m) . e1, (mu - m) . e2)."""
    plane = plane_of(folder, stamp, dataset, key)
    enc = test_encodings(folder, stamp, dataset)
    if plane is None:
        return enc.plane
    return np.ascontiguousarray(analysis.to_plane(enc.mu, plane), dtype=np.float32)


def plane_slice(plane: analysis.Plane, z) -> tuple:
    """(o, e1, e2) as tuples (hashable: a cache key): the slice through z, o = plane_origin(plane, z)."""
    o = analysis.plane_origin(plane, np.asarray(z, dtype=np.float64))
    return tuple(round(float(x), 6) for x in o), tuple(map(float, plane.basis[0])), tuple(map(float, plane.basis[1]))


@dataclass(frozen=True)
class MorphMedia:
    frames: np.ndarray  # uint8 [T, 28, 28]: the decoded path
    strip_shown: str  # a PNG data URL: the frames at 2x, eight to a row
    strip_width: int
    _frame_urls: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    def frame_url(self, i: int) -> str:
        """Frame i enlarged to views.DISPLAY_SIZE, as the player shows it (a PNG data URL): encoded the first time
        it is shown."""
        url = self._frame_urls.get(i)
        if url is None:
            url = self._frame_urls[i] = views.thumb_url(self.frames[i])
        return url

    def gif(self) -> bytes:
        """The animation, frames enlarged to views.DISPLAY_SIZE (~6 ms: only when its download is clicked)."""
        return views.gif_bytes(self.frames)

    def strip_download(self) -> bytes:
        """PNG: the frames at 3x in one row."""
        return views.strip_png(self.frames)


@st.cache_resource(max_entries=64, show_spinner=False)
def morph_media(folder: str, stamp: tuple[int, int], z0: tuple[float, ...], z1: tuple[float, ...], steps: int,
                mode: str) -> MorphMedia:
    """The decoded path z0 -> z1 and its strip as a PNG, made once for every session. Every full rerun of a page
    with the Morph tab open shows a frame and the strip, and a class's picks make a new path each time: each
    frame is encoded when first shown, the GIF and the download strip when their button is clicked."""
    model, _ = load_model(folder, stamp)
    t0, t1 = torch.tensor(z0, dtype=torch.float32), torch.tensor(z1, dtype=torch.float32)
    frames = views.to_uint8(model.interpolate(t0, t1, steps, mode).cpu())
    frames.setflags(write=False)  # shared by every session (cache_resource)
    shown = views.strip_image(frames, scale=2, pad=2, ncols=8)
    return MorphMedia(frames, views.png_url(shown), shown.shape[1])


@st.cache_resource(max_entries=512, show_spinner=False)
def picked_images(folder: str, stamp: tuple[int, int], dataset: str, index: int, size: int) -> tuple[str, str]:
    """(test image #index, its reconstruction at μ) as PNG data URLs `size` px across: the picked view shows them
    at every rerun of every session that picked it (2 x ~2 ms to encode)."""
    model, _ = load_model(folder, stamp)
    enc = test_encodings(folder, stamp, dataset)
    recon = decode(model, enc.mu[index])[0]
    return (views.thumb_url(enc.images[index], size=size),
            views.thumb_url(recon, size=size))


@st.cache_resource(max_entries=4, show_spinner=False)
def decoder_blob(folder: str, stamp: tuple[int, int]) -> tuple[str, dict | None, str | None]:
    """(key, the decoder for the page, None) or (key, None, why the page cannot run it)."""
    model, _ = load_model(folder, stamp)
    key = latent_plane.blob_key("decoder", folder, stamp)
    try:
        return key, latent_plane.decoder_spec(model), None
    except latent_plane.UnsupportedDecoder as e:
        return key, None, str(e)


@st.cache_resource(max_entries=4, show_spinner=False)
def points_blob(folder: str, stamp: tuple[int, int], dataset: str) -> tuple[str, dict]:
    """(key, the encoded test set's plotted coordinates and labels for the page)."""
    enc = test_encodings(folder, stamp, dataset)
    return latent_plane.blob_key("points", folder, stamp, dataset), latent_plane.points_spec(enc.plane, enc.labels)


@st.cache_resource(max_entries=16, show_spinner=False)
def plane_points_blob(folder: str, stamp: tuple[int, int], dataset: str, key) -> tuple[str, dict]:
    """(key, the test set's coordinates on the plane `key` ("pca" or (i, j)) and labels for the page)."""
    enc = test_encodings(folder, stamp, dataset)
    name = "pca" if key == "pca" else "z{}-z{}".format(*key)
    return (latent_plane.blob_key("points", folder, stamp, dataset, name),
            latent_plane.points_spec(plane_points(folder, stamp, dataset, key), enc.labels))


@st.cache_resource(max_entries=16, show_spinner=False)
def grid_blob(folder: str, stamp: tuple[int, int], n: int, extent: float, plane: tuple | None = None
              ) -> tuple[str, dict]:
    """(key, the manifold grid as a PNG under the points): dark strokes on white, so it stays faint.
    plane: None or plane_slice() (the grid on that slice; the key then names it)."""
    grid = manifold_grid(folder, stamp, n, extent, plane)
    image = 255 - views.grid_image(grid, scale=2 if n < 15 else 1)
    e = float(extent)
    h = e / (n - 1)  # the grid's points are the centres of its cells: the picture reaches half a cell further
    extra = () if plane is None else (plane,)
    return (latent_plane.blob_key("grid", folder, stamp, n, e, *extra),
            latent_plane.image_spec(views.png_bytes(image), (-e - h, e + h, -e - h, e + h)))


@dataclass(frozen=True)
class ActiveModel:
    entry: ModelEntry
    model: vae_core.VAE
    config: dict

    @property
    def dataset(self) -> str:
        data = self.config.get("data")
        name = data.get("dataset") if isinstance(data, dict) else None
        return name if isinstance(name, str) else "mnist"

    @property
    def latent_dim(self) -> int:
        return int(self.model.cfg.latent_dim)


def _try_load(entry: ModelEntry) -> tuple[ActiveModel | None, str | None]:
    if entry.error:
        return None, entry.error
    try:
        model, config = load_model(entry.folder, entry.stamp)
    except vae_core.CheckpointError as e:
        return None, public_reason(e, entry.folder)
    except Exception as e:  # anything torch raises on a strange file: the details go to the server log only
        log.exception("loading the checkpoint %s failed", entry.folder)
        return None, f"the checkpoint could not be read ({type(e).__name__})"
    return ActiveModel(entry, model, config), None


def model_picker() -> tuple[ActiveModel | None, str | None]:
    """The sidebar's model selectbox. Returns (the model in use, an error message or None).

    When the chosen checkpoint fails to load, the previously used model (st.session_state.model_last_good)
    stays in use and the message says why. A models root the app must not write to stops the app here (the
    message, no model): app.py shows the message and stops.
    """
    problem = paths.models_root_problem()
    if problem is not None:
        return None, problem
    entries = list_models()
    if not entries:
        return None, ("No model checkpoints found in pretrained/ or models/. Train one in the Train tab, or with "
                      "`python -m vae_core.train --out models/my-vae`.")
    by_folder = {e.folder: e for e in entries}
    options = [e.folder for e in entries]
    ss = st.session_state
    if ss.get("model_choice") not in by_folder:
        ss["model_choice"] = options[default_index(entries)]
    choice = st.sidebar.selectbox(
        "Model", options, key="model_choice", format_func=lambda f: by_folder[f].label if f in by_folder else Path(f).name,
        help="Shipped models live in pretrained/, the ones you train in models/.",
    )
    active, error = _try_load(by_folder[choice])
    if active is not None:
        ss["model_last_good"] = choice
        return active, None
    message = f"Could not load {by_folder[choice].source}/{by_folder[choice].name}: {error}"
    fallbacks = [ss.get("model_last_good"), options[default_index(entries)], *options]
    for folder in dict.fromkeys(f for f in fallbacks if f in by_folder and f != choice):
        active, _ = _try_load(by_folder[folder])
        if active is not None:
            ss["model_last_good"] = folder
            return active, f"{message}\n\nStill showing {active.entry.source}/{active.entry.name}."
    return None, message


def model_summary(active: ActiveModel) -> str:
    """A few lines of markdown about the model for the sidebar: the model's own config, and only those
    metrics and counts of config.json that are finite numbers (anything else is left out, never shown raw)."""
    cfg, config = active.model.cfg, active.config
    training = config.get("training") if isinstance(config.get("training"), dict) else {}
    metrics = config.get("metrics") if isinstance(config.get("metrics"), dict) else {}
    parts = [
        f"**{DATASET_TITLES.get(active.dataset, active.dataset)}**, {cfg.arch.upper()}, latent dim {cfg.latent_dim}",
        f"likelihood {cfg.likelihood}, β = {cfg.beta:g}",
    ]
    loss, recon, kl = (_number(metrics.get(k)) for k in ("test_loss", "test_recon", "test_kl"))
    if loss is not None:
        line = f"test loss {loss:.2f} nats"
        if recon is not None and kl is not None:
            line += f" (recon {recon:.1f} + KL {kl:.1f})"
        parts.append(line)
    epochs = training.get("epochs_completed")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 0:
        parts.append(f"{epochs} epochs")
    return "  \n".join(parts)


# --- one image through the encoder (Explore's own digit and de-noising) ------------------------


@torch.inference_mode()
def encode_image(model: vae_core.VAE, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image [28, 28] in [0, 1] -> (mu [d], sigma [d], the reconstruction at mu [28, 28]).

    q(z|x) = N(mu, diag sigma^2), sigma = exp(logvar / 2); the reconstruction is f_theta(mu)."""
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None, None].to(model.device)
    mu, logvar = model.encode(x)
    mu, sigma = mu[0].float().cpu().numpy(), torch.exp(0.5 * logvar[0]).float().cpu().numpy()
    return mu, sigma, decode(model, mu)[0]


def denoise(model: vae_core.VAE, clean: np.ndarray, kind: str, level: float, seed: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A clean image [28, 28] -> (the noisy input, mu of the noisy input [d], its reconstruction at mu)."""
    noisy = views.add_noise(clean, kind, level, seed=seed)
    mu, _, recon = encode_image(model, noisy)
    return noisy, mu, recon
