"""De-noising: a noisy test image through the model, its code's move on the map; for the 2-D MNIST models, side
by side with the denoising VAE (explore/denoise_pair.py)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis

from ... import views
from ...explain import explain, explain_for
from ...model.compute import denoise as denoise_one
from ...safe_text import plain
from .. import denoise_pair
from ..context import THUMB, ExploreContext
from ..scene import axis_names
from ..section import Section
from ..state import NOISE_KINDS


def _denoise_map(model, enc, idx: int, mu_noisy, v: dict, height: int, key: str, plane=None, pkey=None):
    """One model's map (the square v) with the clean image's code and the noisy input's code, an arrow between.
    plane, pkey (d > 2): the map's plane (analysis.Plane) and its key; the codes on it are the map's own (cached)."""
    axes = ("z1", "z2")
    if plane is not None:
        points = model.map_points(pkey)
        clean_xy, noisy_xy = points[idx], analysis.to_plane(np.asarray(mu_noisy, np.float32)[None], plane)[0]
        axes = axis_names(pkey)
    else:
        points = enc.xy
        clean_xy = enc.xy[idx]
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


def render(ctx: ExploreContext) -> None:
    model, enc, state, lim = ctx.model, ctx.enc, ctx.state, ctx.lim
    c1, c2, c3 = st.columns([1, 1, 2])
    idx = int(c1.number_input("Test image #", 0, len(enc.labels) - 1, step=1, **state.bind("dn_index")))
    kind = c2.radio("Noise", list(NOISE_KINDS), format_func=NOISE_KINDS.get, **state.bind("dn_kind"))
    level = float(c3.slider("Noise level (σ, or share of pixels hit)", 0.0, 1.0, step=0.05,
                            **state.bind("dn_level")))
    clean = views.to_array(enc.images[idx])
    why = denoise_pair.why_no_pair(model)
    other = None
    if why is None:
        other, why = denoise_pair.partner(model)
    if other is not None:
        noisy = views.add_noise(clean, kind, level, seed=idx)
        rows = denoise_pair.pair_view(model, other, enc, idx, kind, NOISE_KINDS[kind], level, noisy, THUMB)
        if not ctx.presenting:
            cols = st.columns(2, gap="medium")
            for col, (m, role, r, _) in zip(cols, rows):
                with col:
                    st.markdown(f"**{plain(m.entry.name)}** ({role}): its own map, clean code → noisy code")
                    if m.key == model.key:  # the map explored, at its zoom
                        m_enc, v = enc, state.view_of(lim)
                    else:  # the other model's own latent space: its whole map
                        m_enc = m.encodings()
                        v = {"cx": 0.0, "cy": 0.0, "half": m_enc.limit}
                    _denoise_map(m, m_enc, idx, r["mu_noisy"], v, 400, f"explore_denoise_map_{role}")
        explain_for("denoise_pair", model.dataset)
        return
    noisy, mu_noisy, recon_noisy = denoise_one(model.model, clean, kind, level, seed=idx)
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


SECTION = Section("denoise", "De-noising", render, needs_test_set=True, follows_view=True, presenter_share=0.4)
