"""The Manifold grid: the decoder over an n x n grid of the map's square (for d > 2, of its plane through the
★), the same picture as the map's Manifold background."""

from __future__ import annotations

import streamlit as st

from ... import views
from ...explain import explain
from ...model.compute import plane_slice
from ..context import ExploreContext
from ..fragments import rerun_map_and_tabs
from ..scene import axis_names
from ..section import PRESENTER_SHARE, Section


def render(ctx: ExploreContext) -> None:
    state, lim = ctx.state, ctx.lim
    # the map's Manifold background is the same grid
    then = rerun_map_and_tabs if state.bg else None
    n = int(st.slider("Grid size n (n × n images)", 10, 30, **state.bind("grid_n", then)))
    extent = float(state.view_of(lim)["half"])
    plane, key = ctx.map_plane()  # d > 2: the map's plane, through the ★
    piece = plane_slice(plane, ctx.star()) if plane is not None else None
    png, width = ctx.model.manifold_png(n, extent, piece)
    dims = "z1 (left to right) and z2 (bottom to top)" if ctx.d > 1 else "z1"
    if plane is not None:
        x, y = axis_names(key)
        dims = f"{x} (left to right) and {y} (bottom to top) on the map's plane through the ★"
    with st.container(key="explore_grid_image"):  # presenting, its height is the screen's (app.PRESENTER_CSS)
        st.image(views.png_url(png), width="stretch" if ctx.presenting else width,
                 caption=f"{n} × {n} decodes over [-{extent:g}, {extent:g}]² of {dims}, the map's zoom")
    if not ctx.presenting:
        st.download_button("Download grid (PNG)", png, file_name=f"manifold-{n}x{n}.png",
                           mime="image/png", on_click="ignore", key="explore_grid_dl")
    explain("manifold_plane" if plane is not None else "manifold")


SECTION = Section("grid", "Manifold grid", render, follows_star=lambda state, d: d > 2, follows_view=True,
                  presenter_share=PRESENTER_SHARE)
