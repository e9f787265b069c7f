"""The sidebar's model picker and the few lines about the model in use under it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vae_core.evaluate import binarization_of, data_label

from .. import paths
from ..safe_text import plain
from ..session_keys import MODEL_CHOICE, MODEL_LAST_GOOD
from .handle import ModelHandle, load
from .registry import DATASET_TITLES, default_index, finite_number, list_models


def model_picker() -> tuple[ModelHandle | None, str | None]:
    """The sidebar's model selectbox. Returns (the model in use, an error message or None).

    When the chosen checkpoint fails to load, the model used last stays in use and the message says why. A
    models root inside pretrained/ stops the app here (the message, no model): app.py shows it and stops. A
    read-only one does not: its models are listed, and only Save says it cannot write.
    """
    problem = paths.models_root_misplaced()
    if problem is not None:
        return None, problem
    entries = list_models()
    if not entries:
        return None, ("No model checkpoints found in pretrained/ or models/. Train one in the Train tab, or with "
                      "`python -m vae_core.train --out models/my-vae`.")
    by_folder = {e.folder: e for e in entries}
    options = [e.folder for e in entries]
    ss = st.session_state
    if ss.get(MODEL_CHOICE) not in by_folder:
        ss[MODEL_CHOICE] = options[default_index(entries)]
    choice = st.sidebar.selectbox(
        "Model", options, key=MODEL_CHOICE,
        format_func=lambda f: by_folder[f].label if f in by_folder else Path(f).name,
        help="Shipped models live in pretrained/, the ones you train in models/.",
    )
    handle, error = load(by_folder[choice])
    if handle is not None:
        ss[MODEL_LAST_GOOD] = choice
        return handle, None
    message = f"Could not load {plain(by_folder[choice].link_name)}: {plain(error)}"
    fallbacks = [ss.get(MODEL_LAST_GOOD), options[default_index(entries)], *options]
    for folder in dict.fromkeys(f for f in fallbacks if f in by_folder and f != choice):
        handle, _ = load(by_folder[folder])
        if handle is not None:
            ss[MODEL_LAST_GOOD] = folder
            return handle, f"{message}\n\nStill showing {plain(handle.link_name)}."
    return None, message


def model_summary(handle: ModelHandle) -> str:
    """A few lines of markdown about the model for the sidebar: the model's own config, and only those
    metrics and counts of config.json that are finite numbers (anything else is left out, never shown raw)."""
    cfg, config = handle.model.cfg, handle.config
    training = config.get("training") if isinstance(config.get("training"), dict) else {}
    metrics = config.get("metrics") if isinstance(config.get("metrics"), dict) else {}
    parts = [
        f"**{DATASET_TITLES.get(handle.dataset) or plain(handle.dataset)}**, {cfg.arch.upper()}, "
        f"latent dim {cfg.latent_dim}",
        f"likelihood {cfg.likelihood}, β = {cfg.beta:g}",
    ]
    loss, recon, kl = (finite_number(metrics.get(k)) for k in ("test_loss", "test_recon", "test_kl"))
    if loss is not None:
        line = f"test loss {loss:.2f} nats"
        if recon is not None and kl is not None:
            line += f" (recon {recon:.1f} + KL {kl:.1f})"
        parts.append(line)
    nll, nll_k = finite_number(metrics.get("nll")), metrics.get("nll_k")
    if nll is not None and isinstance(nll_k, int):
        parts.append(f"test NLL {nll:.2f} nats (k = {nll_k:,})")
    # which likelihood and which data the nats are on: Bernoulli nats on grey levels are no log-likelihood
    parts.append("nats: " + data_label(cfg.likelihood, *binarization_of(config), cfg.sigma))
    epochs = training.get("epochs_completed")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 0:
        k = training.get("iwae_samples")
        line = f"{epochs} epochs" + (f" on the IWAE bound, k = {k}" if isinstance(k, int) and k > 1 else "")
        parts.append(line + (", from another model's weights" if training.get("init_from") else ""))
    return "  \n".join(parts)
