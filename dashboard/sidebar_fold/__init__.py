"""Presenter mode folds the sidebar away, wherever it was opened: a tiny st.components.v2 component
(fold.js, inline, no imports of its own).

Streamlit folds it by itself when st.set_page_config's initial_sidebar_state changes, unless the reader opened or
folded the sidebar by hand once: that choice is kept in the browser (localStorage) and wins from then on. A
phone's sidebar opens only by hand, so switching presenter mode there used to leave the sidebar over the page.
The page now folds it with Streamlit's own button, as a reader would, when presenter mode is switched on, and
on a switch either way where the open sidebar lies over the page (a narrow window: a phone).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

__all__ = ["fold_on_switch", "NAME", "KEY"]

NAME = "latent_explorer.sidebar_fold"
KEY = "sidebar_fold"
_JS = (Path(__file__).resolve().parent / "fold.js").read_text(encoding="utf-8")
_component = st.components.v2.component(NAME, js=_JS)


def fold_on_switch(presenting: bool) -> None:
    """Mount in the sidebar (it shows nothing); the page folds the sidebar when `presenting` has changed."""
    with st.sidebar:
        _component(key=KEY, data={"presenter": bool(presenting)}, width="content", height="content")
