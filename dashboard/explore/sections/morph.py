"""The Morph: a path between two codes decoded frame by frame, its player, drawn on the map too (explore/morph.py
holds its ends, path and player)."""

from __future__ import annotations

import streamlit as st

from ...explain import explain
from .. import morph, sampling
from ..context import ExploreContext
from ..fragments import MORPH, rerun_map_and_tabs
from ..section import PRESENTER_SHARE, Section
from ..state import MORPH_ENDS, MORPH_ENDS_WITH_STAR


def render(ctx: ExploreContext) -> None:
    state = ctx.state
    path_changed = rerun_map_and_tabs  # the map draws the path
    # Beside the map (presenting) the column is too narrow for the ends' names in a third of it: they share it
    # with the path alone, and the steps keep their value (a link's "ms") without a slider.
    c1, c2, *c3 = st.columns([3, 2] if ctx.presenting else [3, 2, 2])
    c1.selectbox("Ends", list(MORPH_ENDS), format_func=MORPH_ENDS.get, **state.bind("morph_ends", path_changed))
    c2.radio("Path", ("linear", "slerp"), horizontal=True, **state.bind("morph_mode", path_changed))
    for c in c3:
        c.slider("Steps", 8, 32, **state.bind("morph_steps", path_changed))
    sampling.toggle(ctx, "morph")
    morph_view(ctx)
    explain("morph")


# |z| along slerp stays near the ends' lengths only when they are about as long and not nearly opposite
# (tests/test_claims.py measures both cases on the shipped models)
PATH_CAPTION = ("The map draws the path (● one dot per frame) and rings the frame shown. A straight line is linear; "
                "slerp bends around the origin: it keeps |z| when both ends are about as far from 0, but swings far "
                "out between nearly opposite ends.")


@st.fragment(key=MORPH)
def morph_view(ctx: ExploreContext) -> None:
    """The morph between the chosen ends, or what to do first: a fragment under the settings, so that a pick
    (a new end) reruns this and not them."""
    z0, z1, what = morph.ends(ctx)
    if z0 is None:
        st.info(what)
        return
    morph.player(ctx, z0, z1, what)
    if not ctx.presenting:
        st.caption(f"{PATH_CAPTION} The frames are the decoder's {sampling.what(ctx, 0)}.")


SECTION = Section("morph", "Morph", render, follows_star=lambda state, d: state.morph_ends in MORPH_ENDS_WITH_STAR,
                  follows_picks=True, fragment=MORPH, presenter_share=PRESENTER_SHARE)
