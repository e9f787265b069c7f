"""This page's part in a class: which room, as the lecturer (with the key) or a student, following or not; and
the store they share (dashboard/class_store), opened once per process.

The address says it, read once per session: `?class=new` opens a room (the address becomes `?class=ROOM&key=KEY`),
`?class=ROOM&key=KEY` is the lecturer's page again (a reload), `?class=ROOM` a student's. A room that is gone, a
code that is not one or a key that is wrong: one line, and the page goes on as a session of its own.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets

import streamlit as st

from ..class_store import ClassError, ClassStore, open_store
from ..class_store.bounds import MAX_KEY_CHARS, ROOM_LENGTH
from ..class_store.checks import valid_room
from ..explore import url
from ..explore.context import BEFORE_MAP_KEY, FOLLOWS_ADDRESS_KEY, OVERLAY_KEY
from ..safe_text import plain
from ..session_values import SessionValues

log = logging.getLogger(__name__)
# What the class's view leaves to each page: presenter mode, the explanations, a lecture's scene, your own digit.
PERSONAL = ("pr", "ex", "sc", "dg")


class ClassSession(SessionValues):
    """The class in st.session_state: ClassSession().room, .lecturer, ... (see DEFAULTS)."""

    PREFIX = "class."
    DEFAULTS: dict = {
        "checked": False,  # the address was read (a session's first run)
        "room": None,  # the room's code, or None: no class
        "key": None,  # the lecturer's key (None on a student's page)
        "student": None,  # this page's opaque id in the room (a student's)
        "follow": True,  # a student's page shows the lecturer's view
        "shown": None,  # the follow state the page's follow row shows
        "applied": None,  # the store's revision whose view this page applied last
        "view": None,  # the lecturer's view (its parameters, PERSONAL left out) applied last
        "published": None,  # the lecturer's page: the view it published last
        "note": None,  # one line for the class bar (why the class is gone, a refusal)
        "seen": None,  # the lecturer's page: the counts (drawings, guesses) its map shows
        "layer": True,  # the lecturer's map shows the class's drawings
        "reveal": False,  # the lecturer's map shows the poll's guesses and the true code
        "poll_image": 0,  # the test image of the poll being set up
        "pad": None,  # a student's drawing or upload: float32 [28, 28], MNIST-like
        "pad_png": None,  # the pad's PNG (a rerun draws it again)
        "sent": None,  # what a student sent last, one line
        "request": None,  # the lecturer's request this page shows ({"kind": "digit" | "poll", ...}) or None
    }

    @property
    def lecturer(self) -> bool:
        return self.room is not None and self.key is not None

    @property
    def student_page(self) -> bool:
        return self.room is not None and self.key is None


@functools.lru_cache(maxsize=4)
def _open(spec: str) -> ClassStore:
    return open_store({"CLASS_STORE": spec})


def store() -> ClassStore:
    """The class store CLASS_STORE names (one per process and setting); ClassError when it cannot be opened."""
    return _open(os.environ.get("CLASS_STORE", ""))


def view_of(params: dict[str, str]) -> dict[str, str]:
    """The class's part of a page's parameters: PERSONAL left out."""
    return {k: v for k, v in params.items() if k not in PERSONAL}


def read_address() -> None:
    """A session's first run: the class the address names, if any (see the module's docstring)."""
    cls = ClassSession()
    if cls.checked:
        return
    cls.checked = True
    room, key = st.query_params.get("class"), st.query_params.get("key")
    if room is None:
        return
    try:
        if room == "new":
            room, key = store().create()
            cls.room, cls.key = room, key
            return
        if valid_room(room) is None:
            raise ClassError(f"“{plain(room[:20])}” is not a class code: it is {ROOM_LENGTH} letters and digits, as "
                             "on the lecturer's screen. This page works on its own.")
        if not store().exists(room):
            raise ClassError("This class has ended (or its code is wrong): ask the lecturer for the code on the "
                             "screen. This page works on its own.")
        if key is not None:
            if len(key) > MAX_KEY_CHARS or not store().is_lecturer(room, key):
                raise ClassError("The link's class key is not this class's: only the lecturer's page drives the "
                                 "class. This page works on its own.")
            cls.room, cls.key = room.upper(), key
            return
        cls.room, cls.student, cls.follow = room.upper(), secrets.token_urlsafe(12), True
    except ClassError as e:
        leave(str(e))


def leave(note: str | None = None) -> None:
    """No class on this page any more: the address loses class and key, the map its class's layers."""
    cls = ClassSession()
    for name in ("room", "key", "student", "applied", "view", "published", "seen", "sent", "request"):
        setattr(cls, name, None)
    cls.note = note
    for k in (url.KEEP, url.ON_WRITE, OVERLAY_KEY, BEFORE_MAP_KEY, FOLLOWS_ADDRESS_KEY):
        st.session_state.pop(k, None)


def keep_in_address() -> None:
    """Every write of the address keeps the class in it: the lecturer's key too (a reload stays the lecturer's)."""
    cls = ClassSession()
    st.session_state[url.KEEP] = {"class": cls.room, **({"key": cls.key} if cls.key else {})}


def take_note() -> str | None:
    cls = ClassSession()
    note, cls.note = cls.note, None
    return note
