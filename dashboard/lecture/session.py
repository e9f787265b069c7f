"""The lecture in this session: its scenes (the shipped lecture until another is loaded or edited), the scene
shown, and showing one. A scene is shown as its link would be (url.open_view): model, tab, presenter mode and
every Explore setting, those it leaves out at their defaults. The scene's number is in the address ("sc", from
1), so a reload stays on it; the view itself comes back from the address's other parameters, as for any link
(a link of the scene's number alone shows the scene).
"""

from __future__ import annotations

import streamlit as st

from ..explore import url
from ..session_keys import LECTURE_SCENE
from .scenes import Lecture, LectureError, Scene, shipped

LECTURE = "lecture.lecture"  # the Lecture in use (None until first needed: then the shipped one)
ERROR = "lecture.error"  # why the shipped lecture could not be read (one line)
STATUS = "lecture.status"  # one line about the last edit or load, shown once in the sidebar
CHECKED = "lecture.link_checked"


def lecture() -> Lecture | None:
    """The session's lecture, the shipped one at first; None when that file is broken (ERROR says why)."""
    ss = st.session_state
    if not isinstance(ss.get(LECTURE), Lecture):
        try:
            ss[LECTURE] = shipped()
        except LectureError as e:
            ss[ERROR] = str(e)
            return None
    return ss[LECTURE]


def replace(new: Lecture) -> None:
    st.session_state[LECTURE] = new


def index() -> int | None:
    """The scene shown (0-based), or None when no lecture is under way."""
    i = st.session_state.get(LECTURE_SCENE)
    return i if isinstance(i, int) and not isinstance(i, bool) else None


def current() -> Scene | None:
    lec, i = lecture(), index()
    return lec.scenes[i] if lec is not None and i is not None and 0 <= i < len(lec.scenes) else None


def check_link(entries) -> None:
    """A session's first run, after the link was read: a scene number beyond the lecture gets a note (and no
    lecture is under way); a link naming only the scene ("?sc=3", typed by hand) shows that scene. A link the app
    wrote itself holds the view as well, which it shows as it was."""
    ss = st.session_state
    if ss.get(CHECKED):
        return
    ss[CHECKED] = True
    i, lec = index(), lecture()
    if i is None:
        return
    if lec is None or i >= len(lec.scenes):
        ss[LECTURE_SCENE] = None
        url.note(f"The link's lecture scene {i + 1} is not in the lecture; ignored.")
    elif set(st.query_params) == {"sc"}:
        go_to(i, entries)


def go_to(i: int, entries) -> None:
    """Show scene i (clamped to the lecture), as its link would. For a widget's callback (before the sidebar)."""
    lec = lecture()
    if lec is None:
        return
    i = max(0, min(len(lec.scenes) - 1, int(i)))
    url.open_view(dict(lec.scenes[i].state), entries)
    st.session_state[LECTURE_SCENE] = i


def stop() -> None:
    st.session_state[LECTURE_SCENE] = None


def set_status(text: str) -> None:
    st.session_state[STATUS] = text


def take_status() -> str | None:
    return st.session_state.pop(STATUS, None)
