"""The map's fragment: one control row, the plane's choice (d > 2), the map itself, and the notes under it.

The map is drawn by the kind chosen (maps/: Live or Plotly) from one scene (scene.build_scene). The Live map
carries its own z sliders and decoded digit (in the page, at every frame), so Streamlit's z sliders and the
server's decoded image come only beside a map that has neither: every element in the fragment is work for the
server at every step of every student.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from ..explain import explain
from . import maps, morph, posterior, reruns, url, walk
from .context import BEFORE_MAP_KEY, ExploreContext
from .fragments import LINK, MAP, MAP_VIEW, rerun_map_and_tabs
from .scene import build_scene
from .state import ExploreState

ss = st.session_state


def _reset_view(ctx: ExploreContext) -> None:
    reruns.change(ctx.state, ctx.d, lambda: ctx.state.set_view(0.0, 0.0, ctx.lim, ctx.lim, bump=True))


def _undo(ctx: ExploreContext) -> None:
    reruns.change(ctx.state, ctx.d, ctx.state.undo_last)


def _row(widths: list[float]) -> list:
    """Columns for the non-zero widths, None in place of the zero ones."""
    cols = iter(st.columns([w for w in widths if w], vertical_alignment="bottom"))
    return [next(cols) if w else None for w in widths]


def controls(ctx: ExploreContext) -> None:
    """One compact row over the map: the map's kind, the manifold, reset the view, undo, the link.

    The zoom is the maps' own (wheel, pinch, their + / − buttons), about the pointer, and reaches Python as a
    view event; no Streamlit slider holds it: a slider's value set by Python can come back stale with the next
    trigger and undo a zoom the user just made."""
    state, show_tip = ctx.state, not ctx.presenting
    # Presenting over the Live map, whose own buttons (reset, undo) sit beside it: one of each on the screen, and
    # no labels over the row (their height goes to the map).
    own_buttons = ctx.presenting and maps.kind_of(state).id == "live"
    label = "collapsed" if ctx.presenting else "visible"
    # At 1280 px with the sidebar open the map's column is ~440 px, ~360 px without the gaps: "Live | Plotly" needs
    # ~140 px, the Manifold toggle ~100, the icon buttons ~35 and the link ~50.
    c1, c2, c3, c4, c5 = _row([2.8, 2.0, 0 if own_buttons else 0.7, 0 if own_buttons else 0.7, 1.0])
    titles = {k.id: k.title for k in maps.MAP_KINDS}
    c1.segmented_control("Map", list(titles), format_func=titles.get, required=True, **state.bind("map"),
                         label_visibility=label,
                         help=" ".join(f"{k.title}: {k.help}" for k in maps.MAP_KINDS) if show_tip else None)
    c2.toggle("Manifold", disabled=ctx.d < 2 or ctx.on_umap, **state.bind("bg"),
              help="The decoder's images on a grid, faintly under the points (the Manifold grid tab shows the "
                   "square in view)." if show_tip else None)
    if c3 is not None:
        c3.button("", icon=":material/fit_screen:", key="explore_reset_view", on_click=_reset_view, args=(ctx,),
                  help="Reset the view", use_container_width=True)
        c4.button("", icon=":material/undo:", key="explore_undo", on_click=_undo, args=(ctx,),
                  disabled=not state.can_undo(), help="Undo the last move of the ★ or pick",
                  use_container_width=True)
    with c5:
        link_control(ctx.model.link_name)


@st.fragment(key=LINK)
def link_control(model_name: str) -> None:
    """The link to this view, and the address bar's query string: a fragment of its own, so that a move of the
    ★ that the page already shows (a release on the Live map) reruns only this."""
    params = url.params_for(ExploreState(), model_name)
    with st.popover("", icon=":material/link:", help="Copy a link to this view", use_container_width=True):
        st.markdown("**Link to this view** (the copy button is at the right of the box):")
        st.code(url.link(params), language=None, wrap_lines=True)
    url.write(params)


def _plane_changed(ctx: ExploreContext, old: tuple[int, int]) -> None:
    """A new plane: new coordinates on the map, so the view goes home; the manifold grid follows it.
    old: the two coordinates shown before; choosing the other axis's coordinate swaps the two."""
    state = ctx.state
    kind = ss.get("explore_plane_kind")
    if kind in PLANE_KINDS and PLANE_KINDS[kind] != "coordinates":
        state.projection = PLANE_KINDS[kind]
    else:
        i, j = int(ss.get("explore_plane_x", old[0])), int(ss.get("explore_plane_y", old[1]))
        if i == j:  # the same coordinate twice is no plane
            i, j = (i, old[0]) if i != old[0] else (old[1], j)
        state.projection = [i, j]
    state.set_view(0.0, 0.0, ctx.lim, ctx.lim, bump=True)
    rerun_map_and_tabs()  # the sub-tabs' maps and grids are on the plane too


PLANE_KINDS = {"PCA": "pca", "UMAP": "umap", "Coordinates": "coordinates"}  # the choice's label -> projection


def plane_controls(ctx: ExploreContext, summary) -> None:
    """d > 2: which plane the map shows, the codes' principal plane (PCA), UMAP's map of them, or two coordinates
    zi, zj (listed by KL, most informative first)."""
    key = ctx.state.projection_for(ctx.d)
    order = [int(i) for i in summary.order]
    ss["explore_plane_kind"] = {"pca": "PCA", "umap": "UMAP"}.get(key, "Coordinates") if isinstance(key, str) \
        else "Coordinates"
    i, j = key if not isinstance(key, str) else (order[0], order[1])
    ss["explore_plane_x"], ss["explore_plane_y"] = i, j
    c1, c2, c3 = st.columns([2.2, 1.4, 1.4], vertical_alignment="bottom")
    label = "collapsed" if ctx.presenting else "visible"  # presenting, their height goes to the map
    c1.segmented_control(
        "Plane", list(PLANE_KINDS), required=True, key="explore_plane_kind", on_change=_plane_changed,
        label_visibility=label,
        args=(ctx, (i, j)), help="The map shows a plane through the latent space, through the ★. PCA: the "
        "two directions in which the test codes μ spread most (PC1, PC2). UMAP: a nonlinear map that keeps each "
        "code's neighbours near it (no plane: it decodes through the nearest dots, on the server). Coordinates: two "
        "of the z's.")
    name = lambda k: f"z{k + 1} · KL {summary.kl[k]:.2f}"  # noqa: E731
    for col, wkey, title in ((c2, "explore_plane_x", "x axis"), (c3, "explore_plane_y", "y axis")):
        col.selectbox(title, order, format_func=name, key=wkey, on_change=_plane_changed, args=(ctx, (i, j)),
                      disabled=isinstance(key, str), label_visibility=label)


@st.fragment(key=MAP)
def map_panel(ctx: ExploreContext) -> None:
    """The control row, the plane's choice (d > 2) and the map under them, a fragment of its own: a pick or a
    move of the ★ reruns that alone (with the link), not the controls above it."""
    controls(ctx)
    summary = None
    if ctx.d > 2 and ctx.enc is not None:
        summary = ctx.model.analysis()
        plane_controls(ctx, summary)
    map_view(ctx, summary)


@st.fragment(key=MAP_VIEW)
def map_view(ctx: ExploreContext, summary) -> None:
    before = ss.get(BEFORE_MAP_KEY)
    if callable(before):  # a class's follower: the lecturer's view first (context.BEFORE_MAP_KEY)
        before(ctx)
    state, d, lim = ctx.state, ctx.d, ctx.lim
    own = ctx.own_code()
    plane, projection = ctx.map_plane() if summary is not None else (None, None)
    points = ctx.model.map_points(projection) if plane is not None else None
    umap = None
    if summary is not None and ctx.on_umap:
        # the first time per model: umap-learn's import and the map itself (bench/umap_plane.py); then cached
        with st.spinner("Computing the UMAP map of the test codes, once per model (a minute or more when busy)…"):
            umap = ctx.model.umap()
    if umap is not None:  # no plane: the test codes where UMAP put them, everything else placed by its neighbours
        plane, projection, points = umap.neighbours, "umap", umap.neighbours.points.astype(np.float32)
    path, frame = morph.path_for_scene(ctx)
    scene = build_scene(enc=ctx.enc, d=d, z=ctx.star(), limit=lim, view=state.view_of(lim), picks=state.picks,
                        own=own[:2] if own is not None else None, hidden=state.hidden,
                        background_n=state.grid_n if state.bg and umap is None else None, plane=plane,
                        projection=projection,
                        points_on_plane=points, posterior=posterior.for_scene(ctx, own), path=path, path_frame=frame,
                        extra_marks=walk.marks_for_scene(ctx, plane), overlay=ctx.overlay())
    if umap is not None:
        scene = replace(scene, caption=umap.caption, map_caption=umap.map_caption)
    kind = maps.kind_of(state)
    page_has_star = star_in_page(ctx)

    def handle(change, star_shown: bool = False) -> None:
        reruns.change(state, d, change, star_shown and page_has_star)
    kind.show(ctx, scene, summary, handle)


def star_in_page(ctx: ExploreContext) -> bool:
    """Whether the map moves the ★ and decodes it in the page, with nothing on the map that the server draws from
    the ★: the Live map, unless the server decodes (its image), the Manifold background is the plane through the ★
    (d > 2), or the map is UMAP's."""
    return maps.kind_of(ctx.state).decodes_in_page(ctx.model) and not (ctx.state.bg and ctx.d > 2) \
        and not ctx.on_umap


def map_notes(ctx: ExploreContext) -> None:
    """The two explanations under the map: outside its fragment, since a move of the ★ changes neither."""
    c1, c2 = st.columns(2, gap="large")
    with c1:
        explain("map")
        if ctx.d > 2:  # the map is a plane through the latent space (scene.plane)
            explain("plane")
    with c2:
        explain("decoder", ctx.model.model.cfg.likelihood)
