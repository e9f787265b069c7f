"""The picked test image under the map: the image, its reconstruction and q(z|x), picking by number, and the
sampling of its posterior."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ..explain import explain
from . import posterior, reruns
from .context import THUMB, ExploreContext
from .figures import posterior_chart

PRESENTER_THUMB = 128  # px: presenting, room for q(z|x)'s chart on a 720-px screen, and "reconstruction" whole at 16 px


def _vector(name: str, v: np.ndarray, digits: int) -> str:
    k = min(len(v), 4)
    return f"{name} = ({', '.join(f'{x:.{digits}f}' for x in v[:k])}{', …' if len(v) > k else ''})"


def show_q(ctx: ExploreContext, mu, sigma, key: str) -> None:
    """q(z|x): μ and σ as text for d <= 4, else per dimension in a small chart (figures.posterior_chart)."""
    if len(mu) <= 4:
        st.markdown(f"{_vector('μ', mu, 2)}  \n{_vector('σ', sigma, 3)}")
        return
    order = None
    try:
        order = ctx.model.analysis().order
    except Exception:  # no test set: the dimensions in order
        pass
    # presenting, beside the map, it must fit under the images on a 720-px screen
    st.plotly_chart(posterior_chart(mu, sigma, order, height=160 if ctx.presenting else 200), key=key,
                    config={"displaylogo": False, "displayModeBar": False})
    if not ctx.presenting:
        st.caption("μ (dot) and ±σ (bar) of q(z|x) per dimension, the most informative dimensions first.")


def picked_view(ctx: ExploreContext) -> None:
    """The last pick: the image, its reconstruction, q(z|x)."""
    if not ctx.presenting:  # presenting, the tab says it
        st.markdown("#### Picked point")
    picks = ctx.valid_picks()
    if not picks:
        st.caption("Click a point on the map, or enter a test-image number below, to see the image, "
                   "its reconstruction and its posterior q(z|x).")
        return
    enc, idx = ctx.enc, picks[-1]
    label = enc.class_names[int(enc.labels[idx])]
    image, recon = ctx.model.picked_images(idx, THUMB)
    c1, c2 = st.columns(2)
    width = PRESENTER_THUMB if ctx.presenting else THUMB
    c1.image(image, width=width, caption=f"test image #{idx} ({label})")
    c2.image(recon, width=width, caption="reconstruction at μ")
    show_q(ctx, enc.mu[idx], enc.sigma[idx], f"explore_pick_q_{idx}")
    explain("pick")


def pick_by_number(ctx: ExploreContext) -> None:
    """A test image by its number. In the picked view's fragment: a new number reruns that alone, a pick what
    shows it (reruns.change), never the whole page."""
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.number_input("Test image #", 0, ctx.n_test - 1, step=1, **ctx.state.bind("pick_index"))
    c2.button("Pick", key="explore_pick_button", on_click=_pick_by_number, args=(ctx,))


def picked_controls(ctx: ExploreContext) -> None:
    """Under the picked view, in its fragment: sampling the pick's posterior onto the map (the controls' changes
    rerun the map with it: posterior.controls)."""
    if ctx.valid_picks():
        posterior.controls(ctx, "pick")


def _pick_by_number(ctx: ExploreContext) -> None:
    state = ctx.state
    i = int(state.pick_index)  # the box's bounds keep it in range; a stale one picks nothing
    reruns.change(state, ctx.d, lambda: state.pick(i, ctx.enc.mu[i], ctx.lim) if 0 <= i < ctx.n_test else None)
