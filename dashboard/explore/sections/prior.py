"""Prior samples: decodes of z ~ N(0, I), the VAE as a generative model."""

from __future__ import annotations

import streamlit as st
import torch

from ... import views
from ...explain import explain
from .. import sampling
from ..context import ExploreContext
from ..section import PRESENTER_SHARE, Section


def render(ctx: ExploreContext) -> None:
    state = ctx.state
    c1, c2, c3 = st.columns([1, 1.4, 1.6], vertical_alignment="bottom")  # room for "Resample" beside the map
    seed = int(c1.number_input("Seed", 0, 2**31 - 1, step=1, **state.bind("prior_seed")))
    c2.button("Resample", icon=":material/casino:", key="explore_resample",
              on_click=lambda: setattr(state, "prior_seed", seed + 1))
    # presenting, its label at 16 px is wider than its column: on a row of its own
    sampling.toggle(ctx, "prior", None if ctx.presenting else c3)
    generator = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        samples = ctx.model.model.sample(64, generator=generator).cpu()
    image = views.tile(sampling.shown(ctx, samples, seed), ncols=8, pad=2, scale=2)
    with st.container(key="explore_prior_image"):  # presenting, its height is the screen's (app.PRESENTER_CSS)
        st.image(views.png_url(image), width="stretch" if ctx.presenting else image.shape[1],
                 caption=f"64 decodes of z ~ N(0, I), seed {seed}: the decoder's {sampling.what(ctx)}")
    explain("prior")


SECTION = Section("prior", "Prior samples", render, presenter_title="Prior", presenter_share=PRESENTER_SHARE)
