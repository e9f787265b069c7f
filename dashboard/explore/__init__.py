"""The Explore tab: move through the latent space of a trained VAE and see what the decoder draws.

    context.py      ExploreContext: the model (a ModelHandle), its test codes, the sliders' range, the settings
    state.py        every Explore setting (ExploreState over st.session_state), undo, model switches
    scene.py        what the map shows (points, ★, picks, ellipses, background, view): one pure builder
    map_panel.py    the map's fragment: its control row, the plane's choice (d > 2), the map and its notes
    plane_view.py   the live map (the latent-plane component): the scene as its data, its events
    plotly_view.py  the Plotly map: the same scene as a WebGL scatter
    sliders.py      the z sliders and the server's decoded image (beside a map that does not decode)
    picked.py       the picked point            own_digit.py  your own drawn or uploaded digit
    sections.py     the sub-tabs                dimensions.py the Traversals and Dimensions sub-tabs
    posterior.py    k draws z = μ + σ ⊙ ε of a posterior          morph.py      the morph's ends, path and player
    figures.py      the small Plotly charts (q(z|x) per dimension, KL per dimension)
    reruns.py       what reruns after a change (the fragments)   url.py  the settings in the query string
    __init__.py     the layout (this file)

For d > 2 the map is a plane through the latent space (the test codes' principal plane, or two coordinates:
state.plane), chosen in map_panel.plane_controls; the scene projects everything onto it.
The map (with its control row and sliders), the picked view and the sub-tabs are three st.fragments, and the
link in the control row a fourth inside the map's: a change reruns the ones that show it (reruns.py), the whole
page only for what the rest of the page shows.
"""

from __future__ import annotations

import streamlit as st

from ..model.handle import ModelHandle
from . import dimensions, map_panel, own_digit, picked, plotly_view, reruns, sections, url
from .context import ExploreContext
from .state import SECTIONS, ExploreState

__all__ = ["render", "ExploreState"]


def render(model: ModelHandle) -> None:
    ctx, data_error = ExploreContext.of(model)
    state = ctx.state
    state.follow_model(model, ctx.lim)
    url.apply_explore(ctx)
    # One container whatever it holds: an element that comes and goes above the map would move the map in the
    # page's tree, and the browser would mount it afresh (the Plotly map redrawn from scratch).
    with st.container():
        for note in state.take_notes() + url.take_notes():
            st.info(note, icon=":material/info:")
        if ctx.enc is None:
            st.error(f"The test set of this model cannot be loaded, so the map shows no points.\n\n{data_error}")
    if ctx.presenting:
        left, right = st.columns([3, 2], gap="medium")
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
        plotly_view.warm_if_waiting()


@st.fragment(key=reruns.PICKED)
def picked_view(ctx: ExploreContext) -> None:
    """A fragment of its own, so that a pick that nothing else outside the map shows reruns only the two; with
    the picking by number and the sampling of the pick's posterior, so that neither reruns the whole page."""
    picked.picked_view(ctx)
    picked.pick_by_number(ctx)
    picked.picked_controls(ctx)


@st.fragment(key=reruns.TABS)
def sub_tabs(ctx: ExploreContext) -> None:
    """A fragment: a sub-tab's own settings rerun it alone (or with the map, for what the map draws)."""
    state = ctx.state
    renderers = {**sections.RENDERERS, **dimensions.RENDERERS}
    needs = (*sections.NEEDS_TEST_SET, *dimensions.NEEDS_TEST_SET)
    names = [s for s in SECTIONS if s in renderers and (ctx.enc is not None or s not in needs)]
    if state.section not in names:
        state.section = names[0]
    tabs = st.tabs(names, **state.bind("section", reruns.rerun_map_and_tabs))  # the map draws the morph's path
    for name, tab in zip(names, tabs):
        if tab.open is False:  # only the open tab runs; None: state not tracked, run them all
            continue
        with tab:
            renderers[name](ctx)
    url.write(url.params_for(state, ctx.model.link_name))  # its settings are in the URL too
