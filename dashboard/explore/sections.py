"""Explore's sub-tabs: the manifold grid, morphs, prior samples, reconstructions and de-noising.

Each takes (active model, encodings, state, limit) and draws itself; SECTIONS in state.py lists them and
RENDERERS maps each name to its function, so a new sub-tab is one function here and one name there.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from .. import models, views
from ..explain import explain
from .dimensions import map_plane, plane_axes
from .panels import THUMB, own_code
from .state import MORPH_ENDS, NOISE_KINDS, ExploreState


def presenting() -> bool:
    """Presenter mode (the sidebar toggle): the sub-tab sits beside the map, so it keeps to its essentials."""
    return bool(st.session_state.get("presenter", False))


def manifold_section(active, enc, state: ExploreState, lim: float) -> None:
    n = int(st.slider("Grid size n (n × n images)", 10, 30, **state.bind("grid_n")))
    extent = float(state.view_of(lim)["half"])
    plane, key = map_plane(active, enc, state)  # d > 2: the map's plane, through the ★
    piece = models.plane_slice(plane, state.star(active.latent_dim, lim)) if plane is not None else None
    grid = models.manifold_grid(active.entry.folder, active.entry.stamp, n, extent, piece)
    image = views.grid_image(grid, scale=max(1, 600 // (n * 28)))
    dims = "z1 (left to right) and z2 (bottom to top)" if active.latent_dim > 1 else "z1"
    if plane is not None:
        dims = (f"{plane_axes(key)[0]} (left to right) and {plane_axes(key)[1]} (bottom to top) on the map's plane "
                "through the ★")
    st.image(image, output_format="PNG", width="stretch" if presenting() else image.shape[1],
             caption=f"{n} × {n} decodes over [-{extent:g}, {extent:g}]² of {dims}, the map's zoom")
    if not presenting():
        st.download_button("Download grid (PNG)", views.png_bytes(image), file_name=f"manifold-{n}x{n}.png",
                           mime="image/png", on_click="ignore", key="explore_grid_dl")
    explain("manifold_plane" if plane is not None else "manifold")


def _morph_ends(active, enc, state: ExploreState, lim: float):
    """(z0, z1, what) for the chosen ends, or (None, None, why not)."""
    picks = [p for p in state.picks if enc is not None and 0 <= p < len(enc.labels)]
    own = own_code(active)
    ends = state.morph_ends
    star = state.star(active.latent_dim, lim)
    if ends.startswith("Your digit") and own is None:
        return None, None, "Draw or upload a digit (under the map): the morph starts from its code μ."
    if ends == MORPH_ENDS[0]:
        if len(picks) < 2:
            return None, None, f"Pick two points on the map (or by number) to morph between them; {len(picks)} so far."
        return enc.mu[picks[0]], enc.mu[picks[1]], f"test image #{picks[0]} → #{picks[1]}"
    if ends == MORPH_ENDS[2]:
        return own[0], star, "your digit → ★"
    if not picks:
        return None, None, "Pick a point on the map (or by number): the morph runs to it."
    if ends == MORPH_ENDS[1]:
        return star, enc.mu[picks[-1]], f"★ → test image #{picks[-1]}"
    return own[0], enc.mu[picks[-1]], f"your digit → test image #{picks[-1]}"


def morph_section(active, enc, state: ExploreState, lim: float) -> None:
    c1, c2, c3 = st.columns([3, 2, 2])
    c1.selectbox("Ends", MORPH_ENDS, **state.bind("morph_ends"))
    mode = c2.radio("Path", ("linear", "slerp"), horizontal=True, **state.bind("morph_mode"))
    steps = int(c3.slider("Steps", 8, 32, **state.bind("morph_steps")))
    z0, z1, what = _morph_ends(active, enc, state, lim)
    if z0 is None:
        st.info(what)
        explain("morph")
        return
    ends_key = [tuple(round(float(v), 6) for v in np.ravel(z)) for z in (z0, z1)]
    media = models.morph_media(active.entry.folder, active.entry.stamp, *ends_key, steps, mode)
    if presenting():  # beside the map: the animation only, no downloads
        st.image(media.gif, width=views.DISPLAY_SIZE, caption=f"{what}, {mode}, {media.n_frames} steps")
        explain("morph")
        return
    c1, c2 = st.columns([1, 2])
    c1.image(media.gif, width=views.DISPLAY_SIZE, caption=f"{what}, {mode}, {media.n_frames} steps")
    c2.image(media.strip_shown, width="stretch" if media.strip_width > 560 else media.strip_width,
             caption="the same path, frame by frame (left to right, top to bottom)")
    d1, d2, _ = st.columns([1, 1, 2])
    d1.download_button("Download GIF", media.gif, file_name="morph.gif", mime="image/gif", on_click="ignore",
                       key="explore_morph_gif")
    d2.download_button("Download strip (PNG)", media.strip_download, file_name="morph.png", mime="image/png",
                       on_click="ignore", key="explore_morph_png")
    explain("morph")


def prior_section(active, enc, state: ExploreState, lim: float) -> None:
    c1, c2, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
    seed = int(c1.number_input("Seed", 0, 2**31 - 1, step=1, **state.bind("prior_seed")))
    c2.button("Resample", icon=":material/casino:", key="explore_resample",
              on_click=lambda: setattr(state, "prior_seed", seed + 1))
    generator = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        samples = active.model.sample(64, generator=generator).cpu()
    image = views.tile(samples, ncols=8, pad=2, scale=2)
    st.image(image, output_format="PNG", width=image.shape[1], caption=f"64 decodes of z ~ N(0, I), seed {seed}")
    explain("prior")


def recon_section(active, enc, state: ExploreState, lim: float) -> None:
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    which = c1.radio("Images", ("one of each class", "random"), horizontal=True, **state.bind("recon_which"))
    count = int(c2.slider("How many (random)", 6, 20, disabled=which != "random", **state.bind("recon_n")))
    c3.button("Shuffle", icon=":material/shuffle:", key="explore_shuffle",
              on_click=lambda: setattr(state, "recon_seed", int(state.recon_seed) + 1))
    rng = np.random.default_rng(int(state.recon_seed))
    if which == "random":
        idx = rng.choice(len(enc.labels), size=count, replace=False)
    else:
        idx = np.array([rng.choice(np.flatnonzero(enc.labels == k)) for k in range(len(enc.class_names))
                        if (enc.labels == k).any()])
    recon = models.decode(active.model, enc.mu[idx])
    image = views.recon_gallery(enc.images[idx].numpy(), recon, scale=2, pad=2)
    st.image(image, output_format="PNG", width=image.shape[1], caption="top: test images · bottom: their "
             "reconstructions at μ · " + ", ".join(f"#{i}" for i in idx))
    explain("recon")


def denoise_section(active, enc, state: ExploreState, lim: float) -> None:
    c1, c2, c3 = st.columns([1, 1, 2])
    idx = int(c1.number_input("Test image #", 0, len(enc.labels) - 1, step=1, **state.bind("dn_index")))
    kind = c2.radio("Noise", list(NOISE_KINDS), **state.bind("dn_kind"))
    level = float(c3.slider("Noise level (σ, or share of pixels hit)", 0.0, 1.0, step=0.05,
                            **state.bind("dn_level")))
    clean = views.to_array(enc.images[idx])
    noisy, mu_noisy, recon_noisy = models.denoise(active.model, clean, NOISE_KINDS[kind], level, seed=idx)
    recon_clean = models.decode(active.model, enc.mu[idx])[0]
    shift = float(np.linalg.norm(mu_noisy - enc.mu[idx]))  # |Δμ| = ||μ(x̃) - μ(x)||
    left, right = st.columns([1, 1], gap="large")
    with left:
        for row in ((clean, "clean test image", noisy, "noisy input"),
                    (recon_noisy, "reconstruction of the noisy input", recon_clean, "reconstruction of the clean")):
            c1, c2 = st.columns(2)
            c1.image(views.upscale(row[0], size=THUMB), output_format="PNG", width=THUMB, caption=row[1])
            c2.image(views.upscale(row[2], size=THUMB), output_format="PNG", width=THUMB, caption=row[3])
        st.markdown(f"The noise moved the code by |Δμ| = **{shift:.2f}**; the clean image's σ is about "
                    f"{float(np.mean(enc.sigma[idx])):.2f}.")
        explain("denoise")
    clean_xy = enc.plane[idx]
    noisy_xy = (float(mu_noisy[0]), float(mu_noisy[1]) if active.latent_dim > 1 else float(clean_xy[1]))
    v = state.view_of(lim)
    fig = views.scatter_figure(
        enc.plane, enc.labels, enc.class_names, extent=v["half"], center=(v["cx"], v["cy"]), height=460,
        point_size=3, uirevision=active.entry.key,
        extra=[
            dict(x=[clean_xy[0]], y=[clean_xy[1]], name="clean image", symbol="circle", color="#D62728"),
            dict(x=[noisy_xy[0]], y=[noisy_xy[1]], name="noisy input", symbol="x", color="#D62728", size=16),
        ],
        arrows=[(clean_xy[0], clean_xy[1], noisy_xy[0], noisy_xy[1])],
    )
    with right:
        st.plotly_chart(fig, key="explore_denoise_map", config={"displaylogo": False})


RENDERERS = {
    "Manifold grid": manifold_section, "Morph": morph_section, "Prior samples": prior_section,
    "Reconstructions": recon_section, "De-noising": denoise_section,
}
NEEDS_TEST_SET = ("Reconstructions", "De-noising")
