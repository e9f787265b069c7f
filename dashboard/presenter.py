"""Presenter mode: the one answer to whether it is on (the sidebar toggle, or a link's "pr=1")."""

from __future__ import annotations

import streamlit as st

from .session_keys import PRESENTER


def presenting() -> bool:
    """For a projector: larger type, fewer controls and captions, the sub-view beside the map."""
    return bool(st.session_state.get(PRESENTER, False))
