"""The Explore tab: move through the latent space of a trained VAE and see what the decoder draws.

    state.py        every Explore setting (ExploreState over st.session_state), undo, model switches
    scene.py        what the map shows (points, ★, picks, ellipses, background, view): one pure builder
    plane_view.py   the live map (the latent-plane component): the scene as its data, its events
    plotly_view.py  the Plotly map: the same scene as a WebGL scatter
    panels.py       the picked point and your own digit        sections.py   the sub-tabs
    dimensions.py   the Traversals and Dimensions sub-tabs (a latent space of any d)
    posterior.py    k draws z = μ + σ ⊙ ε of a posterior          morph.py      the morph's ends, path and player
    url.py          the settings in the query string
    __init__.py     the layout (this file)

For d > 2 the map is a plane through the latent space (the test codes' principal plane, or two coordinates:
state.plane), chosen in plane_controls below; the scene projects everything onto it.
A new view of the map reads the scene (scene.build_scene) and the state, and is called from map_panel below.
The map (with its control row and sliders), the picked view and the sub-tabs are three st.fragments, and the
link in the control row a fourth inside the map's: a change reruns the ones that show it (reruns.py), the whole
page only for what the rest of the page shows.
The Live map carries its own z sliders and decoded digit (in the page, at every frame), so the fragment adds
Streamlit's z sliders and the server's decoded image only beside the Plotly map, which has neither: every
element in the fragment is work for the server at every step of every student.
"""

from __future__ import annotations

import streamlit as st

from vae_core.analysis import ACTIVE_THRESHOLD

from .. import models, views
from ..explain import explain
from . import dimensions, morph, panels, plane_view, plotly_view, posterior, reruns, sections, url
from .reruns import presenter
from .scene import build_scene
from .state import MAP_KINDS, SECTIONS, Z_STEP, ExploreState

__all__ = ["render", "ExploreState"]

SLIDERS_SHOWN = 8  # sliders beyond this many dimensions go into an expander
WARM_SCENE = "_explore_warm_scene"  # the Live map's scene, for the off-screen Plotly map at the end of the page
ss = st.session_state


def model_name(active) -> str:
    """How the URL names a model: where it lives and its folder's name, never a server path."""
    return f"{active.entry.source}/{active.entry.name}"


def render(active) -> None:
    state = ExploreState()
    enc, data_error = None, None
    try:
        enc = models.test_encodings(active.entry.folder, active.entry.stamp, active.dataset)
    except Exception as e:  # DatasetError (missing data) or an unknown dataset name
        data_error = str(e)
    lim = enc.limit if enc is not None else 4.0
    d = active.latent_dim
    state.follow_model(active.entry.key, active.entry.folder, active.dataset, d, lim)
    url.apply_explore(state, d, lim, len(enc.labels) if enc is not None else 0)
    # One container whatever it holds: an element that comes and goes above the map would move the map in the
    # page's tree, and the browser would mount it afresh (the Plotly map redrawn from scratch).
    with st.container():
        for note in state.take_notes() + url.take_notes():
            st.info(note, icon=":material/info:")
        if enc is None:
            st.error(f"The test set of this model cannot be loaded, so the map shows no points.\n\n{data_error}")
    if presenter():
        left, right = st.columns([3, 2], gap="medium")
        with left:
            map_panel(active, enc, lim)
        with right:
            sub_tabs(active, enc, state, lim)
    else:
        map_panel(active, enc, lim)
        map_notes(active)
        left, right = st.columns([2, 3], gap="large")
        with left:
            if enc is not None:
                picked_view(active, enc, lim)
        with right:
            panels.own_digit_panel(active, state, lim)
        sub_tabs(active, enc, state, lim)
    if state.map == "live" and WARM_SCENE in ss:  # last: drawn in a session's first run only, it must not move
        plotly_view.warm(*ss.pop(WARM_SCENE))   # what comes before it


@st.fragment(key=reruns.PICKED)
def picked_view(active, enc, lim: float) -> None:
    """A fragment of its own, so that a pick that nothing else outside the map shows reruns only the two; with
    the picking by number and the sampling of the pick's posterior, so that neither reruns the whole page."""
    state = ExploreState()
    panels.picked_view(active, enc, state)
    panels.pick_by_number(active, enc, state, lim)
    panels.picked_controls(active, enc, state, lim)


@st.fragment(key=reruns.TABS)
def sub_tabs(active, enc, state: ExploreState, lim: float) -> None:
    """A fragment: a sub-tab's own settings rerun it alone (or with the map, for what the map draws)."""
    renderers = {**sections.RENDERERS, **dimensions.RENDERERS}
    needs = (*sections.NEEDS_TEST_SET, *dimensions.NEEDS_TEST_SET)
    names = [s for s in SECTIONS if s in renderers and (enc is not None or s not in needs)]
    if state.section not in names:
        state.section = names[0]
    tabs = st.tabs(names, **state.bind("section", reruns.rerun_map_and_tabs))  # the map draws the morph's path
    for name, tab in zip(names, tabs):
        if tab.open is False:  # only the open tab runs; None: state not tracked, run them all
            continue
        with tab:
            renderers[name](active, enc, state, lim)
    url.write(url.params_for(state, model_name(active)))  # its settings are in the URL too


# --- the map's fragment ---------------------------------------------------------------------------


def _reset_view(state: ExploreState, lim: float, d: int) -> None:
    reruns.change(state, d, lambda: state.set_view(0.0, 0.0, lim, lim, bump=True))


def _undo(state: ExploreState, d: int) -> None:
    reruns.change(state, d, state.undo_last)


def _slider_moved(state: ExploreState, i: int, d: int, lim: float) -> None:
    z = state.star_list(d, lim)
    z[i] = float(ss[f"explore_z{i}"])
    reruns.change(state, d, lambda: state.move_star(z, lim))


def _row(widths: list[float]) -> list:
    """Columns for the non-zero widths, None in place of the zero ones."""
    cols = iter(st.columns([w for w in widths if w], vertical_alignment="bottom"))
    return [next(cols) if w else None for w in widths]


def controls(active, state: ExploreState, lim: float, d: int) -> None:
    """One compact row over the map: the map's kind, the manifold, reset the view, undo, the link.

    The zoom is the maps' own (wheel, pinch, their + / − buttons), about the pointer, and reaches Python as a
    view event; no Streamlit slider holds it: a slider's value set by Python can come back stale with the next
    trigger and undo a zoom the user just made."""
    show_tip = not presenter()
    # At 1280 px with the sidebar open the map's column is ~440 px, ~360 px without the gaps: "Live | Plotly" needs
    # ~140 px, the Manifold toggle ~100, the icon buttons ~35 and the link ~50.
    c1, c2, c3, c4, c5 = _row([2.8, 2.0, 0.7, 0.7, 1.0])
    c1.segmented_control("Map", list(MAP_KINDS), format_func=MAP_KINDS.get, required=True, **state.bind("map"),
                         help="Live: decodes wherever the pointer goes, in your browser. Plotly: zoom, pan, hover "
                              "and click to pick; each change goes through Python." if show_tip else None)
    c2.toggle("Manifold", disabled=d < 2, **state.bind("bg"),
              help="The decoder's images on a grid, faintly under the points (the Manifold grid tab shows the "
                   "same square)." if show_tip else None)
    c3.button("", icon=":material/fit_screen:", key="explore_reset_view", on_click=_reset_view, args=(state, lim, d),
              help="Reset the view", use_container_width=True)
    c4.button("", icon=":material/undo:", key="explore_undo", on_click=_undo, args=(state, d),
              disabled=not state.can_undo(), help="Undo the last move of the ★ or pick", use_container_width=True)
    with c5:
        link_control(active)


@st.fragment(key=reruns.LINK)
def link_control(active) -> None:
    """The link to this view, and the address bar's query string: a fragment of its own, so that a move of the
    ★ that the page already shows (a release on the Live map) reruns only this."""
    params = url.params_for(ExploreState(), model_name(active))
    with st.popover("", icon=":material/link:", help="Copy a link to this view", use_container_width=True):
        st.markdown("**Link to this view** (the copy button is at the right of the box):")
        st.code(url.link(params), language=None, wrap_lines=True)
    url.write(params)


def decoder_sliders(state: ExploreState, d: int, lim: float, summary=None) -> None:
    """One slider per latent dimension, fed from the ★. With a summary (d > 2): the dimensions by KL, most
    informative first, each labelled with its KL; the first SLIDERS_SHOWN active ones shown, the other active
    ones and the inactive ones (Cov_x(μ_j) <= 0.01: posterior collapse) each in an expander.
    Without: z1..zd in order, beyond SLIDERS_SHOWN in an expander."""
    z = state.star_list(d, lim)  # Python floats: 1.23, not float32 1.2300000190734863

    def one(i: int) -> None:
        ss[f"explore_z{i}"] = z[i]
        label = f"z{i + 1}" if summary is None else f"z{i + 1} · KL {summary.kl[i]:.2f}"
        st.slider(label, -lim, lim, step=Z_STEP, format="%.2f", key=f"explore_z{i}", on_change=_slider_moved,
                  args=(state, i, d, lim))

    if summary is None:
        order, active = list(range(d)), list(range(d))
    else:
        order = [int(i) for i in summary.order]
        active = [i for i in order if summary.activity[i] > ACTIVE_THRESHOLD]
    inactive = [i for i in order if i not in active]
    main, more = active[:SLIDERS_SHOWN], active[SLIDERS_SHOWN:]
    for i in main:
        one(i)
    if more:
        with st.expander(f"{len(more)} more dimensions" if summary is not None else f"z{SLIDERS_SHOWN + 1} … z{d}"):
            for i in more:
                one(i)
    if inactive:
        with st.expander(f"{len(inactive)} inactive dimensions (KL ≈ 0)"):
            for i in inactive:
                one(i)


def decoder_image(active, z, size: int = 196) -> None:
    """The ★ decoded by PyTorch on the server."""
    image = models.decode(active.model, z)[0]
    shown = ", ".join(f"{v:.2f}" for v in z[:4]) + (", …" if len(z) > 4 else "")
    st.image(views.thumb_url(image, size=size), width=size,
             caption=f"decoder output at z = ({shown}), on the server")


def _plane_changed(state: ExploreState, lim: float, old: tuple[int, int]) -> None:
    """A new plane: new coordinates on the map, so the view goes home; the manifold grid follows it.
    old: the two coordinates shown before; choosing the other axis's coordinate swaps the two."""
    if ss.get("explore_plane_kind") == "PCA":
        state.plane = "pca"
    else:
        i, j = int(ss.get("explore_plane_x", old[0])), int(ss.get("explore_plane_y", old[1]))
        if i == j:  # the same coordinate twice is no plane
            i, j = (i, old[0]) if i != old[0] else (old[1], j)
        state.plane = [i, j]
    state.set_view(0.0, 0.0, lim, lim, bump=True)
    reruns.rerun_map_and_tabs()  # the sub-tabs' maps and grids are on the plane too


def plane_controls(active, state: ExploreState, lim: float, summary) -> None:
    """d > 2: which plane the map shows, the codes' principal plane (PCA) or two coordinates zi, zj (listed by
    KL, most informative first)."""
    d = active.latent_dim
    key = state.plane_key(d)
    order = [int(i) for i in summary.order]
    ss["explore_plane_kind"] = "PCA" if key == "pca" else "Coordinates"
    i, j = key if key != "pca" else (order[0], order[1])
    ss["explore_plane_x"], ss["explore_plane_y"] = i, j
    c1, c2, c3 = st.columns([2.2, 1.4, 1.4], vertical_alignment="bottom")
    c1.segmented_control(
        "Plane", ["PCA", "Coordinates"], required=True, key="explore_plane_kind", on_change=_plane_changed,
        args=(state, lim, (i, j)), help="The map shows a plane through the latent space, through the ★. PCA: the "
        "two directions in which the test codes μ spread most (PC1, PC2). Coordinates: two of the z's.")
    name = lambda k: f"z{k + 1} · KL {summary.kl[k]:.2f}"  # noqa: E731
    for col, wkey, title in ((c2, "explore_plane_x", "x axis"), (c3, "explore_plane_y", "y axis")):
        col.selectbox(title, order, format_func=name, key=wkey, on_change=_plane_changed, args=(state, lim, (i, j)),
                      disabled=key == "pca")


def plane_caption(scene) -> str:
    """Under the map: which plane it is, its share of the variance, and what the dots are."""
    return (f"{scene.caption}. Dots: the test images' μ projected onto the plane; moving on the map changes z "
            f"along the plane only, the other directions stay at the ★'s.")


@st.fragment(key=reruns.MAP)
def map_panel(active, enc, lim: float) -> None:
    """The control row, the plane's choice (d > 2) and the map under them, a fragment of its own: a pick or a
    move of the ★ reruns that alone (with the link), not the controls above it."""
    state = ExploreState()
    d = active.latent_dim
    controls(active, state, lim, d)
    summary = None
    if d > 2 and enc is not None:
        summary = models.latent_analysis(active.entry.folder, active.entry.stamp, active.dataset)
        plane_controls(active, state, lim, summary)
    map_view(active, enc, lim, summary)


@st.fragment(key=reruns.PLANE)
def map_view(active, enc, lim: float, summary) -> None:
    state = ExploreState()
    d, is_presenter = active.latent_dim, presenter()
    own = panels.own_code(active)
    plane, plane_key, points = None, None, None
    if summary is not None:
        folder, stamp = active.entry.folder, active.entry.stamp
        plane_key = state.plane_key(d)
        plane = models.plane_of(folder, stamp, active.dataset, plane_key)
        points = models.plane_points(folder, stamp, active.dataset, plane_key)
    path, frame = morph.path_for_scene(active, enc, state, lim)
    scene = build_scene(enc=enc, d=d, z=state.star(d, lim), limit=lim, view=state.view_of(lim), picks=state.picks,
                        own=own[:2] if own is not None else None, hidden=state.hidden,
                        background_n=state.grid_n if state.bg else None, plane=plane, plane_key=plane_key,
                        plane_points=points, posterior=posterior.for_scene(active, enc, state, own), path=path,
                        path_frame=frame)
    # A release on the Live map: the page has moved its ★ and decoded it, unless the server decodes (its image)
    # or the Manifold background is the plane through the ★ (d > 2), which then moves with it.
    page_has_star = state.map == "live" and plane_view.decodes_in_page(active) and not (state.bg and d > 2)

    def handle(change, star_shown: bool = False) -> None:
        reruns.change(state, d, change, star_shown and page_has_star)
    if state.map == "plotly":
        left, right = st.columns([3, 1], gap="small")
        with left:
            plotly_view.show(scene, active, enc, state, is_presenter, height=plotly_view.HEIGHT[is_presenter],
                             handle=handle)
        with right:
            decoder_image(active, state.star(d, lim), size=180)
            decoder_sliders(state, d, lim, summary)
        if not is_presenter:
            st.caption("Hover over a dot for its class and number; click it to pick that image (the ★ goes to its "
                       "μ). Scroll to zoom, drag to pan. Legend: click a class to hide it, double-click to show only "
                       "it, double-click it again to show all.")
            if scene.caption:
                st.caption(plane_caption(scene))
    else:  # the page decodes and has the z sliders (dashboard/latent_plane); its releases come back here
        plane_view.show(scene, active, enc, state, is_presenter, handle=handle)
        if not ss.get(plotly_view.WARM_KEY):
            ss[WARM_SCENE] = (scene, active, state, is_presenter)  # for plotly_view.warm, at the end of the page
        if scene.caption and not is_presenter:
            st.caption(plane_caption(scene))
        if not plane_view.decodes_in_page(active):  # the page shows the server's image, but has no sliders
            decoder_sliders(state, d, lim, summary)


def map_notes(active) -> None:
    """The two explanations under the map: outside its fragment, since a move of the ★ changes neither."""
    c1, c2 = st.columns(2, gap="large")
    with c1:
        explain("map")
        if active.latent_dim > 2:  # the map is a plane through the latent space (scene.plane)
            explain("plane")
    with c2:
        explain("decoder", active.model.cfg.likelihood)
