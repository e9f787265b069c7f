"""The lecture's keys and title bar: a small st.components.v2 component (frontend/keys.js, its protocol in the
header there). Mounted only while a lecture is under way, so that otherwise PageDown scrolls the page as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ..latent_plane.spec import as_json

__all__ = ["lecture_keys", "step_value", "NAME", "KEY"]

FRONTEND = Path(__file__).resolve().parent / "frontend"
NAME = "latent_explorer.lecture_keys"
KEY = "lecture_keys"


def _read(name: str) -> str:
    return (FRONTEND / name).read_text(encoding="utf-8")


# Small enough to go inline with every mount (no imports of its own, so no served folder is needed).
_component = st.components.v2.component(NAME, css=_read("keys.css"), js=_read("keys.js"))


def lecture_keys(index: int, titles: list[str], line: str, on_step: Callable[[], None]):
    """Mount the keys and the title bar: scene `index` (0-based) of `titles` is shown, with the lecturer's line.
    on_step runs (as a widget callback) when the page asks for another scene: read it with step_value()."""
    return _component(key=KEY, data=as_json({"index": int(index), "titles": list(titles), "line": line}),
                      width="stretch", height="content", on_step_change=on_step)


def step_value(count: int) -> int | None:
    """Inside on_step: the scene the page asked for, if it is one of the `count` scenes."""
    value = st.session_state.get(KEY)
    step = value.get("step") if hasattr(value, "get") else None
    i = step.get("index") if isinstance(step, dict) else None
    return i if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count else None
