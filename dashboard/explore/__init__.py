"""The Explore tab: move through the latent space of a trained VAE and see what the decoder draws.

    __init__.py     the layout (this file): the map, the picked view and your digit, the sub-tabs
    context.py      ExploreContext: the model (a ModelHandle), its test codes, the sliders' range, the settings
    state.py        every Explore setting (ExploreState over st.session_state, ids not labels), undo, model switches
    url.py          the settings in the query string: PARAMS, one table of (code, setting, parse, format)
    scene.py        what the map shows (points, ★, picks, ellipses, background, view): one pure builder
    map_panel.py    the map's fragment: its control row, the plane's choice (d > 2), the map, the notes under it
    maps/           the kinds of map, registered in maps/__init__.py: live.py (the latent-plane component,
                    decoding in the page), plotly.py (a WebGL scatter)
    sliders.py      Streamlit's z sliders and the server's decoded image, beside a map that does not decode
    picked.py       the picked test image      own_digit.py   your own drawn or uploaded digit
    posterior.py    k draws z = μ + σ ⊙ ε       morph.py       the morph's ends, path and player
    section.py      what a sub-tab declares (id, title, what it follows and needs, its presenter column)
    sections/       one module per sub-tab, registered in sections/__init__.py
    denoise_pair.py the plain and the denoising VAE side by side (the De-noising sub-tab)
    walk.py         the Step by step sub-tab's image, its computation (model/one_image.py), z on the map
    figures.py      the small Plotly charts (q(z|x) per dimension, KL per dimension)
    fragments.py    the fragments' keys          reruns.py      which of them rerun after a change

A new sub-tab is a module in sections/ declaring its Section and one line in sections/__init__.py; a new kind
of map a module in maps/ and one line in maps/__init__.py; a new setting a default in state.DEFAULTS, and a
row of url.PARAMS to share it.
For d > 2 the map is a plane through the latent space (the test codes' principal plane, or two coordinates:
state.projection), chosen in map_panel.plane_controls; the scene projects everything onto it.
Presenting, the map's column takes the rest of the width beside the sub-tabs, and the picked view, its sampling
and your digit are the first of them (sections.PANELS, drawn by PANELS below).
The map (with its control row and sliders), the picked view and the sub-tabs are three st.fragments, and the
link in the control row a fourth inside the map's: a change reruns the ones that show it (reruns.py), the whole
page only for what the rest of the page shows.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from ..model.handle import ModelHandle
from . import map_panel, own_digit, picked, sections, url
from .context import ExploreContext, source_plane
from .fragments import PICKED, TABS, rerun_map_and_tabs
from .maps import plotly
from .state import ExploreState

__all__ = ["render", "ExploreState"]


def render(model: ModelHandle) -> None:
    ctx, data_error = ExploreContext.of(model)
    state = ctx.state
    state.follow_model(model, ctx.lim, source_plane)
    url.apply_explore(ctx)
    # One container whatever it holds: an element that comes and goes above the map would move the map in the
    # page's tree, and the browser would mount it afresh (the Plotly map redrawn from scratch).
    with st.container():
        for note in state.take_notes() + url.take_notes():
            st.info(note, icon=":material/info:")
        if ctx.enc is None:
            st.error(data_error)
    if ctx.presenting:
        share = sections.open_section(ctx).presenter_share  # the open sub-tab's column beside the map
        left, right = st.columns([1 - share, share], gap="small")
        with left:
            map_panel.map_panel(ctx)
        with right:
            sub_tabs(ctx)
    else:
        map_panel.map_panel(ctx)
        map_panel.map_notes(ctx)
        left, right = st.columns([2, 3], gap="large")
        with left:
            if ctx.enc is not None:
                picked_view(ctx)
        with right:
            own_digit.own_digit_panel(ctx)
        sub_tabs(ctx)
    if state.map == "live":  # last: drawn in a session's first run only, it must not move what comes before it
        plotly.warm_if_waiting()


@st.fragment(key=PICKED)
def picked_view(ctx: ExploreContext) -> None:
    """A fragment of its own, so that a pick that nothing else outside the map shows reruns only the two; with
    the picking by number and the sampling of the pick's posterior, so that neither reruns the whole page."""
    picked.picked_view(ctx)
    picked.pick_by_number(ctx)
    picked.picked_controls(ctx)


@st.fragment(key=TABS)
def sub_tabs(ctx: ExploreContext) -> None:
    """A fragment: a sub-tab's own settings rerun it alone (or with the map, for what the map draws)."""
    state = ctx.state
    shown = sections.shown(ctx)
    if state.section not in [s.id for s in shown]:
        state.section = shown[0].id
    titles = {s.id: (ctx.presenting and s.presenter_title) or s.title for s in shown}
    changed = partial(_section_changed, ctx, sections.open_section(ctx).presenter_share)
    tabs = st.tabs(list(titles.values()), **state.bind("section", changed, shown=titles))
    for section, tab in zip(shown, tabs):
        if tab.open is False:  # only the open tab runs; None: state not tracked, run them all
            continue
        with tab:
            PANELS.get(section.id, section.render)(ctx)
    url.write(url.params_for(state, ctx.model.link_name))  # its settings are in the URL too


def _pick_panel(ctx: ExploreContext) -> None:
    picked.pick_by_number(ctx)  # first: under the images and the explanation it fell below a 720-px screen
    picked.picked_view(ctx)


def _sampling_panel(ctx: ExploreContext) -> None:
    if not ctx.valid_picks():
        st.info("Pick a test image first (click a dot, or the Pick tab's number): its q(z|x) is sampled here.")
        return
    picked.picked_controls(ctx)


# Presenting: the panels (sections.PANELS) that the page shows under the map otherwise, as the first tabs beside
# the map; inside this fragment, so their changes rerun it with the map (posterior.py, own_digit.py).
PANELS = {"pick": _pick_panel, "sample": _sampling_panel, "own": own_digit.own_digit_panel}


def _section_changed(ctx: ExploreContext, laid_out: float) -> None:
    """A new sub-tab reruns the map too (the map draws the morph's path); the whole page when presenting, if
    the new one's column beside the map is another width."""
    if ctx.presenting and sections.open_section(ctx).presenter_share != laid_out:
        st.rerun()
    rerun_map_and_tabs()
