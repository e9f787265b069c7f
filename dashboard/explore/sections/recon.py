"""Reconstructions: test images and their decodes at μ."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ... import views
from ...explain import explain
from .. import sampling
from ..context import ExploreContext
from ..section import PRESENTER_SHARE, Section
from ..state import RECON_IMAGES


def render(ctx: ExploreContext) -> None:
    state, enc = ctx.state, ctx.enc
    c1, c2, c3 = st.columns([2, 2, 1.5], vertical_alignment="bottom")  # room for "Shuffle" beside the map
    which = c1.radio("Images", list(RECON_IMAGES), format_func=RECON_IMAGES.get, horizontal=True,
                     **state.bind("recon_which"))
    count = int(c2.slider("How many (random)", 6, 20, disabled=which != "random", **state.bind("recon_n")))
    c3.button("Shuffle", icon=":material/shuffle:", key="explore_shuffle",
              on_click=lambda: setattr(state, "recon_seed", int(state.recon_seed) + 1))
    sampling.toggle(ctx, "recon")
    rng = np.random.default_rng(int(state.recon_seed))
    if which == "random":
        idx = rng.choice(len(enc.labels), size=count, replace=False)
    else:
        idx = np.array([rng.choice(np.flatnonzero(enc.labels == k)) for k in range(len(enc.class_names))
                        if (enc.labels == k).any()])
    recon = sampling.shown(ctx, ctx.model.decode(enc.mu[idx]), int(state.recon_seed))
    image = views.recon_gallery(enc.images[idx].numpy(), recon, scale=2, pad=2)
    st.image(views.png_url(image), width=image.shape[1], caption="top: test images · bottom: their "
             f"reconstructions at μ, the decoder's {sampling.what(ctx)} · " + ", ".join(f"#{i}" for i in idx))
    explain("recon")


SECTION = Section("recon", "Reconstructions", render, needs_test_set=True, presenter_title="Recon.",
                  presenter_share=PRESENTER_SHARE)
