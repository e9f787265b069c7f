"""What reruns after a change: Explore is four fragments and the rest of the page, and a change reruns only the
parts that show it.

    MAP      the map's control row (and the plane's choice for d > 2), and the map under it
      LINK   in it: the link to this view and the URL (a move of the ★ that the page already shows reruns this)
      PLANE  in it: the map itself, with the Plotly map's sliders (a pick or a move reruns this and LINK)
    PICKED   the picked point's image, reconstruction and q(z|x), picking by number and sampling the pick's
             posterior (not when presenting)
    TABS     the sub-tabs (Manifold grid, Morph, ...)
      MORPH  in it: the Morph tab's player under its settings (a pick reruns this, not the settings)
    the page everything else: the sidebar, the notes, your digit

A widget's own interaction reruns its fragment, or the page for a widget outside them. A callback whose change
shows elsewhere goes through `change` or ends in `rerun_map_and_tabs`: a keyed st.rerun([...]) from a callback
replaces the interaction's own rerun. (Streamlit's rule: if another callback of the same interaction returns
normally and the interaction's own rerun is the page's, the whole page reruns; hence picking by number sits
inside the picked view's fragment.) For a class, most actions are a pick or a step of the ★: a full rerun costs
the server about twice what these fragments do (the sidebar, the page's ~90 elements and Streamlit's NewSession
message, all on the server's one event loop).
"""

from __future__ import annotations

import streamlit as st

from ..presenter import presenting
from .state import ExploreState

MAP, PICKED, TABS = "explore_map", "explore_picked", "explore_tabs"  # the fragments' keys
LINK = "explore_link"  # in MAP's control row: the link to this view and the address bar's query string
PLANE = "explore_map_view"  # in MAP, under its control row: the map itself (and the Plotly map's sliders)
MORPH = "explore_morph"  # in TABS' Morph tab, under its settings: the morph's ends, frame and strip


def morph_from_star(state: ExploreState) -> bool:
    """The Morph tab is open with the ★ as an end: its path, drawn on the map too, moves with the ★."""
    return state.section == "Morph" and "★" in str(state.morph_ends)


def page_follows_star(state: ExploreState, d: int = 2) -> bool:
    """Whether the open sub-tab shows the ★: the Morph tab with the ★ as an end, the Traversals (held at the ★
    or the last pick), and for d > 2 the Manifold grid (its plane goes through the ★)."""
    return morph_from_star(state) or state.section == "Traversals" or (state.section == "Manifold grid" and d > 2)


def page_follows_picks(state: ExploreState) -> bool:
    """Whether a view outside the map and the picked view shows the picks: the Morph tab (its ends) and the
    Traversals (from the last pick). (The draws from the pick's posterior are in the picked view's fragment.)"""
    return state.section in ("Morph", "Traversals")


def page_follows_view(state: ExploreState) -> bool:
    """Whether the open sub-tab shows the map's zoom: the Manifold grid (its square) and the De-noising map."""
    return state.section in ("Manifold grid", "De-noising")


def change(state: ExploreState, d: int, apply, star_shown: bool = False) -> None:
    """In a callback: apply() a change of the picks, the ★ or the view, then rerun the map and whatever else
    shows it. star_shown: the page already shows the ★ where it now is (a release on the Live map, which decodes
    in the page): if that is all that changed, the map need not be sent again."""
    picks, star, view, undoable = tuple(state.picks), tuple(state.z), state.view, state.can_undo()
    apply()
    picks_changed, undo_changed = tuple(state.picks) != picks, state.can_undo() != undoable
    only_star = not picks_changed and state.view == view and not undo_changed and not morph_from_star(state)
    if star_shown and only_star:
        parts = [LINK]
    else:  # the map; with its control row when Undo comes alive or goes
        parts = [MAP] if undo_changed else [PLANE, LINK]
    if picks_changed and not presenting():
        parts.append(PICKED)
    if state.view != view and page_follows_view(state):
        parts.append(TABS)
    elif (picks_changed and page_follows_picks(state)) or (tuple(state.z) != star and page_follows_star(state, d)):
        parts.append(MORPH if state.section == "Morph" else TABS)  # the morph's ends, not its settings
    st.rerun(parts)


def rerun_map_and_tabs() -> None:
    """A sub-tab's setting that the map draws too (the sub-tab itself, the morph's path and frame)."""
    st.rerun([MAP, TABS])

