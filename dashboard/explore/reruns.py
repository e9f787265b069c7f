"""What reruns after a change: Explore is four fragments (fragments.py) and the rest of the page, and a change
reruns only the parts that show it.

A widget's own interaction reruns its fragment, or the page for a widget outside them. A callback whose change
shows elsewhere goes through `change` or ends in fragments.rerun_map_and_tabs: a keyed st.rerun([...]) from a
callback replaces the interaction's own rerun. (Streamlit's rule: if another callback of the same interaction
returns normally and the interaction's own rerun is the page's, the whole page reruns; hence picking by number
sits inside the picked view's fragment.) For a class, most actions are a pick or a step of the ★: a full rerun
costs the server about twice what these fragments do (the sidebar, the page's ~90 elements and Streamlit's
NewSession message, all on the server's one event loop).
"""

from __future__ import annotations

import streamlit as st

from ..presenter import presenting
from .fragments import LINK, MAP, MAP_VIEW, PICKED, TABS
from .sections import section_of
from .state import MORPH_ENDS_WITH_STAR, ExploreState


def map_path_follows_star(state: ExploreState) -> bool:
    """The Morph tab is open with the ★ as an end: its path, drawn on the map too, moves with the ★."""
    return state.section == "morph" and state.morph_ends in MORPH_ENDS_WITH_STAR


def page_follows_star(state: ExploreState, d: int = 2) -> bool:
    """Whether the open sub-tab shows the ★ (its Section's follows_star)."""
    return section_of(state).follows_star(state, d)


def page_follows_picks(state: ExploreState) -> bool:
    """Whether a view outside the map and the picked view shows the picks. (The draws from the pick's posterior
    are in the picked view's fragment.)"""
    return section_of(state).follows_picks


def page_follows_view(state: ExploreState) -> bool:
    """Whether the open sub-tab shows the map's zoom."""
    return section_of(state).follows_view


def change(state: ExploreState, d: int, apply, star_shown: bool = False) -> None:
    """In a callback: apply() a change of the picks, the ★ or the view, then rerun the map and whatever else
    shows it. star_shown: the page already shows the ★ where it now is (a release on the Live map, which decodes
    in the page): if that is all that changed, the map need not be sent again."""
    picks, star, view, undoable = tuple(state.picks), tuple(state.z), state.view, state.can_undo()
    apply()
    picks_changed, undo_changed = tuple(state.picks) != picks, state.can_undo() != undoable
    only_star = not picks_changed and state.view == view and not undo_changed and not map_path_follows_star(state)
    if star_shown and only_star:
        parts = [LINK]
    else:  # the map; with its control row when Undo comes alive or goes
        parts = [MAP] if undo_changed else [MAP_VIEW, LINK]
    if picks_changed and not presenting():
        parts.append(PICKED)
    if state.view != view and page_follows_view(state):
        parts.append(TABS)
    elif (picks_changed and page_follows_picks(state)) or (tuple(state.z) != star and page_follows_star(state, d)):
        parts.append(section_of(state).fragment)  # the morph's ends, not its settings
    st.rerun(parts)
