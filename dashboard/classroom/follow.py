"""The class's view: the lecturer's page publishes it, the students' pages follow it.

Publishing: every write of the lecturer's address (url.write, at the end of each run and from Explore's fragments)
hands the view to `publish`, which stores it when it changed. Following: a small fragment on each student's page
reads the store's revision twice a second (one cheap read) and only when it changed reruns the whole page, which
then shows the lecturer's view as its link would (url.open_view). A student's own change of the view (any write
of their address that differs from the view followed) breaks away: Follow goes off, with a note; the Follow
button takes the lecturer's view again.

The view is applied in a run of the fragment alone or in the Follow button's callback, never inside a whole
page's run: the sidebar's widgets (the model's choice, presenter mode) then have not been drawn in that run, and
their values may still be set.
"""

from __future__ import annotations

import logging

import streamlit as st

from ..class_store import ClassError
from ..explore import url
from ..session_keys import PRESENTER, SHOW_EXPLANATIONS
from .session import ClassSession, leave, store, view_of

POLL_S = 0.5  # how often a student's page asks whether the lecturer's view changed: half of the second a move may take
IN_PAGE_RUN = "class.in_page_run"  # the follow fragment is running as part of the whole page's run
FOLLOW_KEY = "class_follow"
BROKE_AWAY = ("You moved away from the lecturer's view; “Follow the lecturer” takes you back.")

log = logging.getLogger(__name__)


def publish(params: dict[str, str]) -> None:
    """The lecturer's url.write hook: store the view when it changed (a refusal goes to the log: the page, not
    the class, is what the lecturer is looking at)."""
    cls = ClassSession()
    view = view_of(params)
    if not cls.lecturer or view == cls.published:
        return
    try:
        store().publish(cls.room, cls.key, view)
        cls.published = view
    except ClassError as e:
        log.warning("publishing the class's view failed: %s", e)
        cls.note = str(e)


def compared(view: dict | None, poll_open: bool) -> dict:
    """What must stay equal to the followed view: all of it, but the ★, the zoom and the picks while a poll asks
    where the image lands (a tap on the map moves the ★, or picks the dot under it)."""
    return {k: v for k, v in (view or {}).items() if not (poll_open and k in ("z", "v", "p"))}


def watch_own_moves(params: dict[str, str]) -> None:
    """A student's url.write hook: a view that is not the one followed breaks away."""
    cls = ClassSession()
    if not cls.student_page or not cls.follow or cls.view is None:
        return
    poll_open = isinstance(cls.request, dict) and cls.request.get("kind") == "poll"
    if compared(view_of(params), poll_open) != compared(cls.view, poll_open):
        cls.follow = False
        cls.note = BROKE_AWAY


def _apply(view: dict[str, str], revision: int, entries) -> None:
    """Show the lecturer's view as its link would, keeping this page's own presenter mode and explanations."""
    cls, ss = ClassSession(), st.session_state
    own = {k: ss[k] for k in (PRESENTER, SHOW_EXPLANATIONS) if k in ss}
    url.open_view(dict(view), entries)
    ss.update(own)
    cls.view, cls.applied = view_of(view), revision


def follow_on(entries) -> None:
    """The Follow button's callback: the lecturer's view at once (a callback runs before the page is drawn)."""
    cls = ClassSession()
    cls.follow, cls.note = True, None
    got = store().view(cls.room)
    if got is not None and got[1]:
        _apply(got[1], got[0], entries)
    else:
        cls.applied = None


def follow_off() -> None:
    ClassSession().follow = False


def follow_row(entries) -> None:
    """The student's follow line and its button (in the page's run: a button in a fragment that reruns every
    second can lose a click), and the fragment that polls (follower)."""
    cls = ClassSession()
    cls.shown = cls.follow
    c1, c2 = st.columns([3, 2], vertical_alignment="center")
    with c1:
        follower(entries)
    if cls.follow:
        c2.button("Stop following", key="class_unfollow", on_click=follow_off, width="stretch")
    else:
        c2.button("Follow the lecturer", key=FOLLOW_KEY, icon=":material/sync:", on_click=follow_on,
                  args=(entries,), type="primary", width="stretch")


def poll(entries) -> None:
    """Twice a second (a fragment: the follow line): the store's revision; the page reruns whole for a new view,
    a new request, or a break from the lecturer's view that the button beside it does not show yet. (A fragment
    that draws nothing is not rerun on its timer.)"""
    try:
        _check(entries)
    except ClassError as e:
        st.caption(str(e))
        return
    cls = ClassSession()
    if cls.follow != cls.shown and not st.session_state.get(IN_PAGE_RUN, False):
        st.rerun()
    if cls.follow:
        st.markdown(":material/sync: **Following the lecturer**")
    else:
        st.caption(cls.note if cls.note == BROKE_AWAY else "Your own view; the lecturer's is a click away.")


def _check(entries) -> None:
    """A new revision: a follower's page takes the lecturer's view; any page reruns whole for a new request."""
    cls = ClassSession()
    revision = store().revision(cls.room)
    if revision is None:  # the class has ended: the whole page says so
        leave("The lecturer has ended the class. This page works on its own.")
        st.rerun()
    if revision == cls.applied or st.session_state.get(IN_PAGE_RUN, False):
        return
    if cls.follow:
        got = store().view(cls.room)
        if got is not None and got[1]:
            _apply(got[1], got[0], entries)
        cls.applied = revision
        st.rerun()  # the whole page: the view, a new request
    cls.applied = revision  # not following: only a new request is news
    if store().request(cls.room) != cls.request:
        st.rerun()


def follower(entries) -> None:
    """Mount the student's follow fragment (polling) and mark the part it runs in the page's run."""
    st.session_state[IN_PAGE_RUN] = True
    try:
        st.fragment(run_every=POLL_S)(poll)(entries)
    finally:
        st.session_state[IN_PAGE_RUN] = False
