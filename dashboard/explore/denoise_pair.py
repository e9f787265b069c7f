"""De-noising side by side: the plain model and the denoising VAE on the same noisy image.

The model explored is one of the pair; the other is the shipped one of the other kind (pretrained/mnist-dvae
beside a plain model, pretrained/mnist-mlp beside a denoising one). Both are 2-D MNIST models, so the pair is
offered only for those; each code is compared with that model's own clean code, in that model's own map.
The figures over 1,000 test images come from vae_core.robustness, computed once per model, kind and level.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.robustness import CleanCodes, robustness

from .. import views
from ..model import caches, handle
from ..model.registry import list_models

DENOISING_MODEL, PLAIN_MODEL = "mnist-dvae", "mnist-mlp"
N_MEASURED = 1000


def is_denoising(config: dict) -> bool:
    """Trained on corrupted inputs (vae_core.train --corruption): the training section says so."""
    training = config.get("training") if isinstance(config.get("training"), dict) else {}
    return training.get("corruption") not in (None, "none") and bool(training.get("corruption_level"))


def why_no_pair(model) -> str | None:
    """None when the side-by-side view applies to this model (a ModelHandle), else one sentence saying why not."""
    if model.dataset != "mnist" or model.latent_dim != 2:
        return ("The side-by-side comparison with the denoising VAE needs a 2-D MNIST model: the shipped "
                "denoising model (pretrained/mnist-dvae) is one, and two codes can only be compared on maps of "
                "the same kind. This model is shown alone.")
    return None


def partner(model):
    """(the other model of the pair as a ModelHandle, None) or (None, why it is missing)."""
    name = PLAIN_MODEL if is_denoising(model.config) else DENOISING_MODEL
    entry = next((e for e in list_models() if e.source == "pretrained" and e.name == name and not e.error),
                 None)
    if entry is None:
        return None, f"The shipped model pretrained/{name} is not installed here, so this model is shown alone."
    other, _ = handle.load(entry)
    if other is None:  # a damaged file: the registry listed it, loading failed; say so without a path
        return None, f"The shipped model pretrained/{name} could not be loaded, so this model is shown alone."
    return other, None


@st.cache_resource(max_entries=4, show_spinner="Encoding the clean test images…")
def clean_codes(folder: str, stamp: tuple[int, int], dataset: str) -> CleanCodes:
    """The clean test codes and class centroids of one model (shared by every level and kind)."""
    model, _ = caches.load_model(folder, stamp)
    data = caches.model_test_set(folder, stamp, dataset)  # a model of your images: the split kept with it
    return CleanCodes(model, data.test_images, data.test_labels)


@st.cache_data(max_entries=64, show_spinner=False)
def measured(folder: str, stamp: tuple[int, int], dataset: str, kind: str, level: float) -> dict:
    """vae_core.robustness on the first N_MEASURED test images: 'held' is the share whose noisy code stays
    nearer its own clean code than any other class's centroid."""
    return robustness(clean_codes(folder, stamp, dataset), kind, level, n=N_MEASURED)


def one_image(model, codes: CleanCodes, idx: int, noisy: np.ndarray) -> dict:
    """The noisy image through one model: its code, the move |Δμ| and whether it stays by its clean code."""
    mu_noisy, _, recon = model.encode_image(noisy)
    mu_clean = codes.mu[idx].numpy()
    label = int(codes.labels[idx])
    moved = float(np.linalg.norm(mu_noisy - mu_clean))  # |Δμ| = ||μ(x̃) - μ(x)||
    others = [c for c, k in zip(codes.centroids.numpy(), codes.classes.tolist()) if k != label]
    nearest_other = float(min(np.linalg.norm(np.asarray(others) - mu_noisy, axis=1)))  # min_{c != y} |μ(x̃) - m_c|
    return {"mu_noisy": mu_noisy, "mu_clean": mu_clean, "recon": recon, "moved": moved,
            "nearest_other": nearest_other, "stays": moved < nearest_other}


def pair_view(model, other, enc, idx: int, kind: str, kind_name: str, level: float, noisy: np.ndarray,
              thumb: int, compact: bool = False) -> list:
    """The noisy input, each model's reconstruction and code move, and the measured share over 1,000 images.
    compact (presenting, a narrow column): four images fitted to it under short captions, one short line a model.
    The rows: (model, role, this image through it, the measured share), plain first."""
    plain, dvae = (other, model) if is_denoising(model.config) else (model, other)
    rows = []
    for m, role in ((plain, "plain"), (dvae, "denoising")):
        codes = clean_codes(m.folder, m.stamp, m.dataset)
        rows.append((m, role, one_image(m, codes, idx, noisy),
                     measured(m.folder, m.stamp, m.dataset, kind, float(level))))
    cols = st.columns(4, gap="small" if compact else "medium")
    width = "stretch" if compact else thumb
    captions = ((f"clean #{idx}", "noisy input", "plain", "denoising") if compact else
                (f"clean test image #{idx}", "the same noisy input to both") +
                tuple(f"{role}: {m.entry.name}'s reconstruction" for m, role, _, _ in rows))
    pictures = [views.to_array(enc.images[idx]), noisy] + [r["recon"] for _, _, r, _ in rows]
    for col, picture, caption in zip(cols, pictures, captions):
        col.image(views.thumb_url(picture, size=thumb), width=width, caption=caption)
    if not compact:  # presenting, the maps come first and summary() under them
        summary(rows, kind_name, level, compact)
    return rows


def summary(rows: list, kind_name: str, level: float, compact: bool = False) -> None:
    """Each model's move of this image's code and its measured share; compact: one short line a model."""
    lines = []
    for m, role, r, fig in rows:
        where = ("nearer its clean code than any other class" if r["stays"]
                 else "nearer another class's centroid than its clean code")
        if compact:
            lines.append(f"**{m.entry.name}**: |Δμ| = **{r['moved']:.2f}**; of {fig['n']:,} test images "
                         f"**{fig['held']:.0%}** stay by their clean code.")
        else:
            lines.append(f"**{m.entry.name}** ({role}): |Δμ| = **{r['moved']:.2f}**, {where}; over "
                         f"{fig['n']:,} test images at this noise, **{fig['held']:.0%}** stay by their clean code.")
    st.markdown("  \n".join(lines))
    if compact:
        return
    st.caption(shares_sentence(kind_name, level, rows[0][3]["held"], rows[1][3]["held"]))


def shares_sentence(kind_name: str, level: float, plain: float, dvae: float) -> str:
    """The two measured shares compared: a difference of shares is in percentage points, a ratio in times."""
    if level == 0:
        return "No noise: both codes are the clean codes."
    at = f"At {kind_name.lower()} {level:g}"
    if dvae - plain > 0.02:
        times = f", {dvae / plain:.1f} times as many" if plain >= 0.01 else ""
        return (f"{at} the denoising VAE keeps {dvae:.0%} of the codes by their clean code, the plain model "
                f"{plain:.0%}: {100 * (dvae - plain):.0f} percentage points more{times}. It was trained on noisy "
                "inputs, the plain model never saw noise.")
    return f"{at} the two models keep about as many codes by their clean code ({plain:.0%} and {dvae:.0%})."
