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
from ..section import PRESENTER_SHARE, Section
from ..state import NOISE_KINDS

PRESENTER_MAP = 200  # px: the height of each of the pair's maps beside the big map (a 720-px screen's share)


def _denoise_map(model, enc, idx: int, mu_noisy, v: dict, height: int, key: str, plane=None, pkey=None,
                 compact: bool = False, title: str | None = None):
    """One model's map (the square v) with the clean image's code and the noisy input's code, an arrow between.
    plane, pkey (d > 2): the map's plane (analysis.Plane) and its key; the codes on it are the map's own (cached).
    compact (presenting, two maps in a narrow column): no legend (the big map beside has it), thin margins."""
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
    if compact:
        fig.update_layout(showlegend=False, margin=dict(l=8, r=8, t=28 if title else 8, b=8),
                          title=dict(text=title, font_size=13, x=0.5, xanchor="center", y=0.99) if title else None)
    else:  # half a row, or a phone's width: the legend in rows under the map leaves the map the whole width
        fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=-0.27, yanchor="top",
                                      entrywidth=0.33, entrywidthmode="fraction", title=dict(text="")))
    st.plotly_chart(fig, key=key, config={"displaylogo": False, "displayModeBar": not compact})


def _pair_maps(ctx: ExploreContext, rows, idx: int, height: int, compact: bool) -> None:
    """Each model of the pair on its own map, clean code → noisy code: side by side."""
    state, enc, lim = ctx.state, ctx.enc, ctx.lim
    cols = st.columns(2, gap="small" if compact else "medium")
    for col, (m, role, r, _) in zip(cols, rows):
        with col:
            if not compact:  # compact: the figure's title names it
                st.markdown(f"**{plain(m.entry.name)}** ({role}): its own map, clean code → noisy code")
            if m.key == ctx.model.key:  # the map explored, at its zoom
                m_enc, v = enc, state.view_of(lim)
            else:  # the other model's own latent space: its whole map
                m_enc = m.encodings()
                v = {"cx": 0.0, "cy": 0.0, "half": m_enc.limit}
            _denoise_map(m, m_enc, idx, r["mu_noisy"], v, height, f"explore_denoise_map_{role}", compact=compact,
                         title=m.entry.name)


def render(ctx: ExploreContext) -> None:
    model, enc, state, lim = ctx.model, ctx.enc, ctx.state, ctx.lim
    c1, c2, c3 = st.columns([1, 1.3, 1.7] if ctx.presenting else [1, 1, 2])
    idx = int(c1.number_input("Test image #", 0, len(enc.labels) - 1, step=1, **state.bind("dn_index")))
    if ctx.presenting:  # a radio's two lines would take the height the maps need
        kind = c2.selectbox("Noise", list(NOISE_KINDS), format_func=NOISE_KINDS.get, **state.bind("dn_kind"))
    else:
        kind = c2.radio("Noise", list(NOISE_KINDS), format_func=NOISE_KINDS.get, **state.bind("dn_kind"))
    level = float(c3.slider("Noise level" if ctx.presenting else "Noise level (σ, or share of pixels hit)",
                            0.0, 1.0, step=0.05, **state.bind("dn_level")))
    clean = views.to_array(enc.images[idx])
    why = denoise_pair.why_no_pair(model)
    other = None
    if why is None:
        other, why = denoise_pair.partner(model)
    if other is not None:
        noisy = views.add_noise(clean, kind, level, seed=idx)
        rows = denoise_pair.pair_view(model, other, enc, idx, kind, NOISE_KINDS[kind], level, noisy, THUMB,
                                      compact=ctx.presenting)
        _pair_maps(ctx, rows, idx, PRESENTER_MAP if ctx.presenting else 400, ctx.presenting)
        if ctx.presenting:
            denoise_pair.summary(rows, NOISE_KINDS[kind], level, compact=True)
        explain_for("denoise_pair", model.dataset)
        return
    noisy, mu_noisy, recon_noisy = denoise_one(model.model, clean, kind, level, seed=idx)
    recon_clean = model.decode(enc.mu[idx])[0]
    shift = float(np.linalg.norm(mu_noisy - enc.mu[idx]))  # |Δμ| = ||μ(x̃) - μ(x)||
    plane, pkey = ctx.map_plane()  # d > 2: the plane of the map beside, as its points are
    images = ((clean, "clean test image"), (noisy, "noisy input"), (recon_noisy, "reconstruction of the noisy input"),
              (recon_clean, "reconstruction of the clean"))
    moved = (f"The noise moved the code by |Δμ| = **{shift:.2f}**; the clean image's σ is about "
             f"{float(np.mean(enc.sigma[idx])):.2f}.")
    if ctx.presenting:  # one column beside the big map: the four images two by two, this map beside them
        short = ("clean", "noisy", "recon. noisy", "recon. clean")
        left, right = st.columns([1, 1.3], gap="small")
        with left:
            for pair in ((0, 1), (2, 3)):
                for col, i in zip(st.columns(2, gap="small"), pair):
                    col.image(views.thumb_url(images[i][0], size=THUMB), width="stretch", caption=short[i])
        with right:
            _denoise_map(model, enc, idx, mu_noisy, state.view_of(lim), PRESENTER_MAP + 40, "explore_denoise_map",
                         plane, pkey, compact=True)
        st.markdown(moved)
        return
    left, right = st.columns([1, 1], gap="large")
    with left:
        for row in (images[:2], images[2:]):
            c1, c2 = st.columns(2)
            for col, (img, caption) in zip((c1, c2), row):
                col.image(views.thumb_url(img, size=THUMB), width=THUMB, caption=caption)
        st.markdown(moved)
        st.info(why, icon=":material/info:")
        explain("denoise")
    with right:
        _denoise_map(model, enc, idx, mu_noisy, state.view_of(lim), 460, "explore_denoise_map", plane, pkey)


SECTION = Section("denoise", "De-noising", render, needs_test_set=True, follows_view=True,
                  presenter_share=PRESENTER_SHARE)
