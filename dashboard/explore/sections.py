"""Explore's sub-tabs: the manifold grid, morphs, prior samples, reconstructions and de-noising.

Each takes the ExploreContext and draws itself; SECTIONS in state.py lists them and
RENDERERS maps each name to its function, so a new sub-tab is one function here and one name there.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from vae_core import analysis

from .. import views
from ..model.compute import denoise as denoise_one
from ..model.compute import plane_slice
from ..explain import explain, explain_for
from . import denoise, morph, reruns
from .context import THUMB, ExploreContext
from .dimensions import plane_axes
from .state import MORPH_ENDS, NOISE_KINDS


def manifold_section(ctx: ExploreContext) -> None:
    state, lim = ctx.state, ctx.lim
    # the map's Manifold background is the same grid
    then = reruns.rerun_map_and_tabs if state.bg else None
    n = int(st.slider("Grid size n (n × n images)", 10, 30, **state.bind("grid_n", then)))
    extent = float(state.view_of(lim)["half"])
    plane, key = ctx.map_plane()  # d > 2: the map's plane, through the ★
    piece = plane_slice(plane, ctx.star()) if plane is not None else None
    png, width = ctx.model.manifold_png(n, extent, piece)
    dims = "z1 (left to right) and z2 (bottom to top)" if ctx.d > 1 else "z1"
    if plane is not None:
        dims = (f"{plane_axes(key)[0]} (left to right) and {plane_axes(key)[1]} (bottom to top) on the map's plane "
                "through the ★")
    st.image(views.png_url(png), width="stretch" if ctx.presenting else width,
             caption=f"{n} × {n} decodes over [-{extent:g}, {extent:g}]² of {dims}, the map's zoom")
    if not ctx.presenting:
        st.download_button("Download grid (PNG)", png, file_name=f"manifold-{n}x{n}.png",
                           mime="image/png", on_click="ignore", key="explore_grid_dl")
    explain("manifold_plane" if plane is not None else "manifold")


def morph_section(ctx: ExploreContext) -> None:
    state = ctx.state
    c1, c2, c3 = st.columns([3, 2, 2])
    path_changed = reruns.rerun_map_and_tabs  # the map draws the path
    c1.selectbox("Ends", MORPH_ENDS, **state.bind("morph_ends", path_changed))
    c2.radio("Path", ("linear", "slerp"), horizontal=True, **state.bind("morph_mode", path_changed))
    c3.slider("Steps", 8, 32, **state.bind("morph_steps", path_changed))
    morph_view(ctx)
    explain("morph")


@st.fragment(key=reruns.MORPH)
def morph_view(ctx: ExploreContext) -> None:
    """The morph between the chosen ends, or what to do first: a fragment under the settings, so that a pick
    (a new end) reruns this and not them."""
    z0, z1, what = morph.ends(ctx)
    if z0 is None:
        st.info(what)
        return
    morph.player(ctx, z0, z1, what)
    if not ctx.presenting:
        st.caption("The map draws the path (● one dot per frame) and rings the frame shown. A straight line is "
                   "linear; slerp bends around the origin, keeping |z| between the two ends' lengths.")


def prior_section(ctx: ExploreContext) -> None:
    state = ctx.state
    c1, c2, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
    seed = int(c1.number_input("Seed", 0, 2**31 - 1, step=1, **state.bind("prior_seed")))
    c2.button("Resample", icon=":material/casino:", key="explore_resample",
              on_click=lambda: setattr(state, "prior_seed", seed + 1))
    generator = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        samples = ctx.model.model.sample(64, generator=generator).cpu()
    image = views.tile(samples, ncols=8, pad=2, scale=2)
    st.image(views.png_url(image), width=image.shape[1], caption=f"64 decodes of z ~ N(0, I), seed {seed}")
    explain("prior")


def recon_section(ctx: ExploreContext) -> None:
    state, enc = ctx.state, ctx.enc
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
    recon = ctx.model.decode(enc.mu[idx])
    image = views.recon_gallery(enc.images[idx].numpy(), recon, scale=2, pad=2)
    st.image(views.png_url(image), width=image.shape[1], caption="top: test images · bottom: their "
             "reconstructions at μ · " + ", ".join(f"#{i}" for i in idx))
    explain("recon")


def _denoise_map(model, enc, idx: int, mu_noisy, v: dict, height: int, key: str, plane=None, pkey=None):
    """One model's map (the square v) with the clean image's code and the noisy input's code, an arrow between.
    plane, pkey (d > 2): the map's plane (analysis.Plane) and its key; the codes on it are the map's own (cached)."""
    axes = ("z1", "z2")
    if plane is not None:
        points = model.map_points(pkey)
        clean_xy, noisy_xy = points[idx], analysis.to_plane(np.asarray(mu_noisy, np.float32)[None], plane)[0]
        axes = plane_axes(pkey)
    else:
        points = enc.plane
        clean_xy = enc.plane[idx]
        noisy_xy = (float(mu_noisy[0]), float(mu_noisy[1]) if model.latent_dim > 1 else float(clean_xy[1]))
    fig = views.scatter_figure(
        points, enc.labels, enc.class_names, extent=v["half"], center=(v["cx"], v["cy"]), height=height,
        point_size=3, uirevision=model.key, axis_titles=axes,
        extra=[
            dict(x=[clean_xy[0]], y=[clean_xy[1]], name="clean image", symbol="circle", color="#D62728"),
            dict(x=[noisy_xy[0]], y=[noisy_xy[1]], name="noisy input", symbol="x", color="#D62728", size=16),
        ],
        arrows=[(clean_xy[0], clean_xy[1], noisy_xy[0], noisy_xy[1])],
    )
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def denoise_section(ctx: ExploreContext) -> None:
    model, enc, state, lim = ctx.model, ctx.enc, ctx.state, ctx.lim
    c1, c2, c3 = st.columns([1, 1, 2])
    idx = int(c1.number_input("Test image #", 0, len(enc.labels) - 1, step=1, **state.bind("dn_index")))
    kind = c2.radio("Noise", list(NOISE_KINDS), **state.bind("dn_kind"))
    level = float(c3.slider("Noise level (σ, or share of pixels hit)", 0.0, 1.0, step=0.05,
                            **state.bind("dn_level")))
    clean = views.to_array(enc.images[idx])
    why = denoise.why_no_pair(model)
    other = None
    if why is None:
        other, why = denoise.partner(model)
    if other is not None:
        noisy = views.add_noise(clean, NOISE_KINDS[kind], level, seed=idx)
        rows = denoise.pair_view(model, other, enc, idx, NOISE_KINDS[kind], kind, level, noisy, THUMB)
        if not ctx.presenting:
            cols = st.columns(2, gap="medium")
            for col, (m, role, r, _) in zip(cols, rows):
                with col:
                    st.markdown(f"**{m.entry.name}** ({role}): its own map, clean code → noisy code")
                    if m.key == model.key:  # the map explored, at its zoom
                        m_enc, v = enc, state.view_of(lim)
                    else:  # the other model's own latent space: its whole map
                        m_enc = m.encodings()
                        v = {"cx": 0.0, "cy": 0.0, "half": m_enc.limit}
                    _denoise_map(m, m_enc, idx, r["mu_noisy"], v, 400, f"explore_denoise_map_{role}")
        explain_for("denoise_pair", model.dataset)
        return
    noisy, mu_noisy, recon_noisy = denoise_one(model.model, clean, NOISE_KINDS[kind], level, seed=idx)
    recon_clean = model.decode(enc.mu[idx])[0]
    shift = float(np.linalg.norm(mu_noisy - enc.mu[idx]))  # |Δμ| = ||μ(x̃) - μ(x)||
    left, right = st.columns([1, 1], gap="large")
    with left:
        for row in ((clean, "clean test image", noisy, "noisy input"),
                    (recon_noisy, "reconstruction of the noisy input", recon_clean, "reconstruction of the clean")):
            c1, c2 = st.columns(2)
            c1.image(views.thumb_url(row[0], size=THUMB), width=THUMB, caption=row[1])
            c2.image(views.thumb_url(row[2], size=THUMB), width=THUMB, caption=row[3])
        st.markdown(f"The noise moved the code by |Δμ| = **{shift:.2f}**; the clean image's σ is about "
                    f"{float(np.mean(enc.sigma[idx])):.2f}.")
        st.info(why, icon=":material/info:")
        explain("denoise")
    with right:
        plane, pkey = ctx.map_plane()  # d > 2: the plane of the map above, as its points are
        _denoise_map(model, enc, idx, mu_noisy, state.view_of(lim), 460, "explore_denoise_map", plane, pkey)


RENDERERS = {
    "Manifold grid": manifold_section, "Morph": morph_section, "Prior samples": prior_section,
    "Reconstructions": recon_section, "De-noising": denoise_section,
}
NEEDS_TEST_SET = ("Reconstructions", "De-noising")
