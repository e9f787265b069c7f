"""Which models there are, and loading them once.

The registry lists every checkpoint folder in pretrained/ (shipped) and models/ (trained by the user).
Everything expensive is computed once per model and cached in memory, keyed by the folder and the
modification times of its files, so a retrained model is picked up and nothing is written to disk:

    load_model(folder, stamp)         the VAE in eval mode and its config        (st.cache_resource)
    test_encodings(folder, stamp)     posterior mean and sigma of the 10,000 test images  (st.cache_resource)
    manifold_grid(folder, stamp, ...) the decoded n x n grid over the latent plane        (st.cache_data)
    decoder_blob(folder, stamp)       the decoder's weights for the page, float32 base64    (st.cache_resource)
    points_blob(folder, stamp, ...)   the encoded test set for the page                     (st.cache_resource)

All of these are process-wide: every session of the server shares one copy per model (and one copy of each
dataset), and a session keeps only small things of its own (its picks, its sliders, its drawn digit).

Threads. Every request (a Streamlit run, each in a thread of its own) computes with REQUEST_THREADS torch
threads: its work is small (a decode, a morph of a few dozen frames), so a second thread only adds
synchronisation, and with a class of sessions at once the requests are what runs in parallel. See
use_request_threads() for why it is set per thread.
"""

from __future__ import annotations

import gc
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

import vae_core
from vae_core.checkpoint import CONFIG_NAME, WEIGHTS_NAME
from vae_core.train import available_cpus, torch_threads

from . import latent_plane, paths, views

DEFAULT_MODEL = "mnist-mlp"
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
REQUEST_THREADS = 1  # torch intra-op threads of one request


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


@dataclass(frozen=True)
class ModelEntry:
    folder: str  # absolute path of the checkpoint folder
    name: str  # the folder's name
    source: str  # "pretrained" or "models"
    stamp: tuple[int, int]  # mtime_ns of config.json and model.safetensors: part of every cache key
    dataset: str | None = None
    arch: str | None = None
    latent_dim: int | None = None
    test_loss: float | None = None
    error: str | None = None  # why the config cannot be read; None when it can

    @property
    def key(self) -> str:
        return f"{self.folder}@{self.stamp[0]}:{self.stamp[1]}"

    @property
    def label(self) -> str:
        head = self.name if self.source == "pretrained" else f"{self.source}/{self.name}"
        if self.error:
            return f"{head} · unreadable"
        loss = f"loss {self.test_loss:.1f}" if self.test_loss is not None else "no test loss"
        return f"{head} · {DATASET_TITLES.get(self.dataset, self.dataset)} · {self.arch} · {self.latent_dim}-D · {loss}"


def folder_stamp(folder: str | os.PathLike) -> tuple[int, int]:
    """Modification times of the two checkpoint files (0 when missing): they change whenever it is rewritten."""
    out = []
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        try:
            out.append((Path(folder) / name).stat().st_mtime_ns)
        except OSError:
            out.append(0)
    return out[0], out[1]


def describe(folder: str | os.PathLike, source: str, stamp: tuple[int, int] | None = None) -> ModelEntry:
    """Read a checkpoint's config into a ModelEntry; an unreadable one gets `error` set instead of raising."""
    folder = Path(folder).resolve()
    stamp = stamp or folder_stamp(folder)
    try:
        config = vae_core.read_config(folder)
    except vae_core.CheckpointError as e:
        return ModelEntry(str(folder), folder.name, source, stamp, error=str(e))
    model, data = config.get("model", {}), config.get("data", {})
    loss = config.get("metrics", {}).get("test_loss")
    return ModelEntry(
        folder=str(folder), name=folder.name, source=source, stamp=stamp,
        dataset=data.get("dataset", "mnist") if isinstance(data, dict) else "mnist",
        arch=model.get("arch"), latent_dim=int(model.get("latent_dim", 2)),
        test_loss=float(loss) if isinstance(loss, (int, float)) and math.isfinite(loss) else None,
    )


def candidate_folders(roots: list[tuple[str, Path]] | None = None) -> list[tuple[str, Path]]:
    """(source, folder) of every subfolder holding a config.json or weights; hidden (temporary) ones skipped."""
    found = []
    for source, root in roots or checkpoint_roots():
        try:
            children = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            continue
        found += [(source, p) for p in children if (p / CONFIG_NAME).exists() or (p / WEIGHTS_NAME).exists()]
    return found


def scan_checkpoints(roots: list[tuple[str, Path]] | None = None) -> list[ModelEntry]:
    return [describe(folder, source) for source, folder in candidate_folders(roots)]


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
        plane=views.plane_coords(mu), limit=views.latent_limit(mu),
    )


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


@st.cache_data(max_entries=256, show_spinner=False)
def _describe_cached(folder: str, source: str, stamp: tuple[int, int]) -> ModelEntry:
    return describe(folder, source, stamp)


def list_models() -> list[ModelEntry]:
    """Every checkpoint in pretrained/ and models/; configs are re-read only when a folder changes."""
    return [_describe_cached(str(folder.resolve()), source, folder_stamp(folder)) for source, folder in candidate_folders()]


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
def manifold_grid(folder: str, stamp: tuple[int, int], n: int, extent: float) -> np.ndarray:
    model, _ = load_model(folder, stamp)
    return compute_grid(model, n, extent)


@dataclass(frozen=True)
class MorphMedia:
    n_frames: int
    gif: bytes  # the animation, frames enlarged to views.DISPLAY_SIZE
    strip_shown: bytes  # PNG: the frames at 2x, eight to a row
    strip_width: int
    strip_download: bytes  # PNG: the frames at 3x in one row


@st.cache_data(max_entries=64, show_spinner=False)
def morph_media(folder: str, stamp: tuple[int, int], z0: tuple[float, ...], z1: tuple[float, ...], steps: int,
                mode: str) -> MorphMedia:
    """The decoded path z0 -> z1, encoded once for every session: the GIF and the two strips. Every full rerun
    of a page with the Morph tab open shows them, so encoding them again each time would cost ~15 ms a run."""
    model, _ = load_model(folder, stamp)
    t0, t1 = torch.tensor(z0, dtype=torch.float32), torch.tensor(z1, dtype=torch.float32)
    frames = views.to_array(model.interpolate(t0, t1, steps, mode).cpu())
    shown = views.strip_image(frames, scale=2, pad=2, ncols=8)
    return MorphMedia(len(frames), views.gif_bytes(frames), views.png_bytes(shown), shown.shape[1],
                      views.strip_png(frames))


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
def grid_blob(folder: str, stamp: tuple[int, int], n: int, extent: float) -> tuple[str, dict]:
    """(key, the manifold grid as a PNG under the points): dark strokes on white, so it stays faint."""
    grid = manifold_grid(folder, stamp, n, extent)
    image = 255 - views.grid_image(grid, scale=2 if n < 15 else 1)
    e = float(extent)
    h = e / (n - 1)  # the grid's points are the centres of its cells: the picture reaches half a cell further
    return (latent_plane.blob_key("grid", folder, stamp, n, e),
            latent_plane.image_spec(views.png_bytes(image), (-e - h, e + h, -e - h, e + h)))


@dataclass(frozen=True)
class ActiveModel:
    entry: ModelEntry
    model: vae_core.VAE
    config: dict

    @property
    def dataset(self) -> str:
        data = self.config.get("data", {})
        return data.get("dataset", "mnist") if isinstance(data, dict) else "mnist"

    @property
    def latent_dim(self) -> int:
        return int(self.model.cfg.latent_dim)


def _try_load(entry: ModelEntry) -> tuple[ActiveModel | None, str | None]:
    if entry.error:
        return None, entry.error
    try:
        model, config = load_model(entry.folder, entry.stamp)
    except Exception as e:  # CheckpointError, and anything torch raises on a strange file
        return None, str(e) or type(e).__name__
    return ActiveModel(entry, model, config), None


def model_picker() -> tuple[ActiveModel | None, str | None]:
    """The sidebar's model selectbox. Returns (the model in use, an error message or None).

    When the chosen checkpoint fails to load, the previously used model (st.session_state.model_last_good)
    stays in use and the message says why.
    """
    entries = list_models()
    if not entries:
        roots = ", ".join(str(p) for _, p in checkpoint_roots())
        return None, (f"No model checkpoints found (looked in {roots}). Train one with "
                      "`python -m vae_core.train --out models/my-vae`.")
    by_folder = {e.folder: e for e in entries}
    options = [e.folder for e in entries]
    ss = st.session_state
    if ss.get("model_choice") not in by_folder:
        ss["model_choice"] = options[default_index(entries)]
    choice = st.sidebar.selectbox(
        "Model", options, key="model_choice", format_func=lambda f: by_folder[f].label if f in by_folder else f,
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
    """A few lines of markdown about the model for the sidebar."""
    cfg, config = active.model.cfg, active.config
    training = config.get("training", {}) if isinstance(config.get("training"), dict) else {}
    metrics = config.get("metrics", {}) if isinstance(config.get("metrics"), dict) else {}
    parts = [
        f"**{DATASET_TITLES.get(active.dataset, active.dataset)}**, {cfg.arch.upper()}, latent dim {cfg.latent_dim}",
        f"likelihood {cfg.likelihood}, β = {cfg.beta:g}",
    ]
    if isinstance(metrics.get("test_loss"), (int, float)):
        line = f"test loss {metrics['test_loss']:.2f} nats"
        if isinstance(metrics.get("test_recon"), (int, float)) and isinstance(metrics.get("test_kl"), (int, float)):
            line += f" (recon {metrics['test_recon']:.1f} + KL {metrics['test_kl']:.1f})"
        parts.append(line)
    if training.get("epochs_completed") is not None:
        parts.append(f"{training['epochs_completed']} epochs")
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
