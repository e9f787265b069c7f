"""The Manifold grid: the decoder over an n x n grid of the square the map shows (its view: centre and zoom; for
d > 2, that square of its plane through the ★), the region of the map's Manifold background in view."""

from __future__ import annotations

import streamlit as st

from ... import views
from ...explain import explain
from ...model.compute import plane_slice, view_span
from .. import sampling
from ..context import ExploreContext
from ..fragments import rerun_map_and_tabs
from ..scene import axis_names
from ..section import PRESENTER_SHARE, Section


def render(ctx: ExploreContext) -> None:
    state, lim = ctx.state, ctx.lim
    # the map's Manifold background is the same grid
    then = rerun_map_and_tabs if state.bg else None
    n = int(st.slider("Grid size n (n × n images)", 10, 30, **state.bind("grid_n", then)))
    x0, x1, y0, y1 = span = tuple(round(v, 3) for v in view_span(state.view_of(lim)))
    plane, key = ctx.map_plane()  # d > 2: the map's plane, through the ★
    piece = plane_slice(plane, ctx.star()) if plane is not None else None
    sampling.toggle(ctx, "grid")
    png, width = sampling.grid_png(ctx, n, span, piece)
    dims = "z1 (left to right) and z2 (bottom to top)" if ctx.d > 1 else "z1"
    if plane is not None:
        x, y = axis_names(key)
        on = "the PCA plane" if ctx.on_umap else "the map's plane"
        dims = f"{x} (left to right) and {y} (bottom to top) on {on} through the ★"
    # under the grid, not above it: a line there would push a presenter's grid off the screen
    whose = "UMAP's map has no plane to lay a grid on" if ctx.on_umap else "the map's view"
    with st.container(key="explore_grid_image"):  # presenting, its height is the screen's (app.PRESENTER_CSS)
        st.image(views.png_url(png), width="stretch" if ctx.presenting else width,
                 caption=f"{n} × {n} decodes over [{x0:g}, {x1:g}] × [{y0:g}, {y1:g}] of {dims} ({whose}): "
                         f"the decoder's {sampling.what(ctx, 0)}")
    if not ctx.presenting:
        st.download_button("Download grid (PNG)", png, file_name=f"manifold-{n}x{n}.png",
                           mime="image/png", on_click="ignore", key="explore_grid_dl")
    explain("manifold_plane" if plane is not None else "manifold")


SECTION = Section("grid", "Manifold grid", render, presenter_title="Grid", follows_star=lambda state, d: d > 2,
                  follows_view=True, presenter_share=PRESENTER_SHARE)
