"""Explore's fragments, by key: the parts of the tab that rerun on their own (reruns.py says which rerun when).

    MAP         the map's control row (and the plane's choice for d > 2), and the map under it
      LINK      in it: the link to this view and the URL (a move of the ★ that the page already shows reruns this)
      MAP_VIEW  in it: the map itself, with the Plotly map's sliders (a pick or a move reruns this and LINK)
    PICKED      the picked point's image, reconstruction and q(z|x), picking by number and sampling the pick's
                posterior (not when presenting)
    TABS        the sub-tabs (Manifold grid, Morph, ...)
      MORPH     in it: the Morph tab's player under its settings (a pick reruns this, not the settings)
    the page    everything else: the sidebar, the notes, your digit
"""

from __future__ import annotations

import streamlit as st

MAP, PICKED, TABS = "explore_map", "explore_picked", "explore_tabs"
LINK = "explore_link"
MAP_VIEW = "explore_map_view"
MORPH = "explore_morph"


def rerun_map_and_tabs() -> None:
    """A sub-tab's setting that the map draws too (the sub-tab itself, the morph's path and frame)."""
    st.rerun([MAP, TABS])
