"""The Plotly map: the same scene as the live plane, as a WebGL scatter with zoom, hover and click-to-pick.

Zoom survives reruns: the figure's uirevision only changes when Python moves the view (the view's rev) or the
model changes, so Plotly keeps the user's zoom and legend across a moved ★.
"""

from __future__ import annotations

import streamlit as st

from .. import models, views
from .scene import PATH_COLOR, Scene
from .state import ExploreState

KEY = "explore_scatter"
WARM_KEY = "explore_plotly_warm"
# Off screen, out of the layout: a positioned child takes no place in Streamlit's flex column.
_WARM_CSS = f"<style>.st-key-{WARM_KEY} {{ position: absolute; left: -10000px; width: 320px; height: 1px; " \
            "overflow: hidden; }</style>"


def figure(scene: Scene, active, presenter: bool, height: int):
    v = scene.view
    background, background_extent = None, None
    if scene.background is not None:
        n, e = scene.background
        _, spec = models.grid_blob(active.entry.folder, active.entry.stamp, n, e)
        background, background_extent = spec["src"], spec["extent"][1]
    ellipses = [dict(center=(e.x, e.y), sigma=(e.sx, e.sy), color=e.color, dash=e.dash) for e in scene.ellipses]
    picks = [(m.label, m.x, m.y) for m in scene.marks if m.shape == "ring"]
    extra = [dict(x=[m.x], y=[m.y], name="your digit", symbol="diamond", color=m.color, size=16)
             for m in scene.marks if m.shape == "diamond"]
    if scene.path is not None:
        extra.append(dict(x=scene.path[:, 0].tolist(), y=scene.path[:, 1].tolist(), name="morph path",
                          mode="lines+markers", symbol="circle", color=PATH_COLOR, size=6))
    if scene.samples is not None:
        extra.append(dict(x=scene.samples[:, 0].tolist(), y=scene.samples[:, 1].tolist(), name="z = μ + σ ⊙ ε",
                          symbol="circle", color=scene.samples_color, size=7))
    return views.scatter_figure(
        scene.points, scene.labels, scene.class_names, extent=v["half"], center=(v["cx"], v["cy"]),
        marker=scene.star, picks=picks, ellipses=ellipses, extra=extra, background=background,
        background_extent=background_extent, background_opacity=0.45, height=height,
        point_size=6 if presenter else 5, uirevision=f"{active.entry.key}|{v.get('rev', 0)}",
        axis_titles=scene.axes, hidden=scene.hidden, font_size=18 if presenter else 15,
    )


def on_select(state: ExploreState, enc, lim: float) -> None:
    """A click on the Plotly map: a test image's point picks it; the ★, the rings or empty space do nothing."""
    index = views.selected_index(st.session_state.get(KEY), len(enc.labels)) if enc is not None else None
    if index is not None:
        state.pick(index, enc.mu[index], lim)


def show(scene: Scene, active, enc, state: ExploreState, presenter: bool, height: int, after=lambda: None) -> None:
    st.plotly_chart(
        figure(scene, active, presenter, height), key=KEY,
        on_select=lambda: (on_select(state, enc, scene.limit), after()),
        selection_mode="points",
        config={"displaylogo": False, "scrollZoom": True, "doubleClick": "reset",
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]},
    )


def warm() -> None:
    """Under the live map: a one-point WebGL chart off screen, so the browser fetches and compiles Streamlit's
    Plotly bundle (4.7 MB) and WebGL shaders while the student looks at the plane, not after "Plotly" is
    clicked. A switch then only sends and draws the figure (see docs/benchmarks.md, Explore in the lecture hall)."""
    st.html(_WARM_CSS)
    with st.container(key=WARM_KEY):
        st.plotly_chart(_warm_figure(), key=f"{WARM_KEY}_chart", config={"staticPlot": True})


def _warm_figure():
    import plotly.graph_objects as go

    fig = go.Figure(go.Scattergl(x=[0.0], y=[0.0], mode="markers"))
    fig.update_layout(height=40, margin=dict(l=0, r=0, t=0, b=0))
    return fig
