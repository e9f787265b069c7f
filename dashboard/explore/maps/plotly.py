"""The Plotly map: the same scene as the live plane, drawn by plotly.js (dashboard/plotly_map), with zoom, pan,
hover and click-to-pick.

The page keeps the user's zoom across reruns (a pick, a moved ★) and reports it once it settles; Python stores
it without bumping the view's rev, as for the live plane, so it lives in the URL and survives a visit to Train.
A legend click sets the same hidden classes as the live plane's legend.
"""

from __future__ import annotations

import streamlit as st

from ... import plotly_map, views
from ...model.compute import plane_slice
from ..context import ExploreContext
from ..scene import Scene, map_caption, overlay_layers
from ..sliders import decoder_image, decoder_sliders
from ..state import ExploreState

KEY = "explore_scatter"
HEIGHT = {False: 560, True: 600}  # px, by presenter mode
WARM_KEY = "explore_plotly_warm"
WARM_SCENE = "_explore_warm_scene"  # the Live map's scene, for the off-screen Plotly map at the end of the page
# Off screen, out of the layout: a positioned child takes no place in Streamlit's flex column.
_WARM_CSS = f"<style>.st-key-{WARM_KEY} {{ position: absolute; left: -10000px; width: 320px; height: 1px; " \
            "overflow: hidden; }</style>"


def map_data(scene: Scene, model, state: ExploreState, presenter: bool, height: int) -> tuple[dict, dict]:
    """(what the map shows, the blobs it refers to)."""
    v = scene.view
    blobs: dict = {}
    data = {
        "classes": list(scene.class_names), "colors": list(views.CLASS_COLORS), "axes": list(scene.axes),
        "points": None, "star": list(scene.star),
        "marks": [{"x": m.x, "y": m.y, "label": m.label, "color": m.color, "shape": m.shape, "labelAt": m.label_at}
                  for m in scene.marks],
        "ellipses": [{"x": e.x, "y": e.y, "sx": e.sx, "sy": e.sy, "color": e.color, "dash": e.dash, "fill": e.fill,
                      "angle": e.angle} for e in scene.ellipses],
        "background": None, "backgroundOpacity": 0.45,
        "view": {"cx": v["cx"], "cy": v["cy"], "half": v["half"], "rev": int(v.get("rev", 0))},
        "limit": scene.limit, "uirevision": model.key,
        "hidden": list(scene.hidden), "hiddenRev": int(state.hidden_rev),
        "height": int(height), "fontSize": 18 if presenter else 15, "pointSize": 6 if presenter else 5,
    }
    data.update(overlay_layers(scene))  # the posterior's samples and the morph's path, as the Live map's
    if len(scene.points):
        data["points"], blobs[data["points"]] = plotly_map.points_blob(scene.points, scene.labels)
    if scene.background is not None:
        n, e = scene.background
        piece = plane_slice(scene.plane, scene.z) if scene.plane is not None else None  # d > 2: the map's plane
        gkey, gspec = model.grid_blob(n, e, piece)  # cached: the same picture the live plane gets
        data["background"], blobs[gkey] = gkey, gspec
    return data, blobs


def on_pick(state: ExploreState, enc, lim: float) -> None:
    """A click on a test image's point picks it (the ★ goes to its μ); the page sends nothing for other marks."""
    i = plotly_map.pick_value(KEY)
    if enc is not None and i is not None and i < len(enc.labels):
        state.pick(i, enc.mu[i], lim)


def on_view(state: ExploreState, lim: float) -> None:
    """The page zoomed or panned: remember it (state + URL) without bumping rev, the page already shows it."""
    v = plotly_map.view_value(KEY)
    if v is not None:
        state.set_view(v["cx"], v["cy"], v["half"], lim, bump=False)


def on_legend(state: ExploreState, n_classes: int) -> None:
    hidden = plotly_map.legend_value(KEY)
    if hidden is not None:
        state.hidden = [h for h in hidden if h < n_classes]


def show(scene: Scene, ctx: ExploreContext, height: int, handle=lambda change: change()) -> None:
    """Mount the map; each event's callback is handle(its change) (the layout applies it and decides what reruns)."""
    state, enc, lim = ctx.state, ctx.enc, scene.limit
    data, blobs = map_data(scene, ctx.model, state, ctx.presenting, height)
    plotly_map.plotly_map(
        KEY, data, blobs,
        on_pick=lambda: handle(lambda: on_pick(state, enc, lim)),
        on_view=lambda: handle(lambda: on_view(state, lim)),
        on_legend=lambda: handle(lambda: on_legend(state, len(scene.class_names))),
    )


def remember_for_warm(scene: Scene, ctx: ExploreContext) -> None:
    """Under the live map: keep its scene for warm_if_waiting, at the end of the page, until the Plotly map is
    warm."""
    if not st.session_state.get(WARM_KEY):
        st.session_state[WARM_SCENE] = (scene, ctx.model, ctx.state, ctx.presenting)


def warm_if_waiting() -> None:
    if WARM_SCENE in st.session_state:
        warm(*st.session_state.pop(WARM_SCENE))


def warm(scene: Scene, model, state: ExploreState, presenter: bool) -> None:
    """Under the live map, off screen: the page fetches and compiles plotly.js while the student looks at the
    plane, and draws the Plotly map of this scene where nobody sees it, so that "Plotly" only has to take that
    chart over and update it. Once per session: the page keeps plotly.js and that chart once made, and the map's
    fragment reruns at every move of the ★."""
    if st.session_state.get(WARM_KEY):
        return
    st.session_state[WARM_KEY] = True
    data, blobs = map_data(scene, model, state, presenter, HEIGHT[presenter])
    st.html(_WARM_CSS)
    with st.container(key=WARM_KEY):
        plotly_map.preload(f"{WARM_KEY}_map", data, blobs)


def show_map(ctx: ExploreContext, scene: Scene, summary, handle) -> None:
    """The map with the server's decoded ★ and Streamlit's z sliders beside it (the page decodes nothing)."""
    left, right = st.columns([3, 1], gap="small")
    with left:
        show(scene, ctx, height=HEIGHT[ctx.presenting], handle=handle)
    with right:
        decoder_image(ctx, ctx.star(), size=180)
        decoder_sliders(ctx, summary)
    if not ctx.presenting:
        st.caption("Hover over a dot for its class and number; click it to pick that image (the ★ goes to its "
                   "μ). Scroll to zoom, drag to pan. Legend: click a class to hide it, double-click to show only "
                   "it, double-click it again to show all.")
        if scene.caption:
            st.caption(map_caption(scene))
