"""The class's view: the lecturer's page publishes it, the students' pages follow it.

Publishing: every write of the lecturer's address (url.write, at the end of each run and from Explore's fragments)
hands the view to `publish`, which stores it when it changed. Following: no student's page asks. push.py's thread
reads the room's revision ten times a second on each replica and, when it moved, reruns one fragment of each
student's page there: a follower's map without its control row (MAP_VIEW), whose start (`before_map`, Explore's
BEFORE_MAP_KEY) takes the lecturer's view and draws it when the ★, the zoom or the picks are all that changed (the
common case: the lecturer's drag or click; the controls show none of them), writes the address, and has the parts
of the page that show the view (the link, the picked view, the sub-tab: `map_parts`) run right after it; otherwise
it reruns the whole page (the model, a sub-tab, a request...); a page
without the map (the Train tab), or not following, has its follow line rerun (`follow_line`), which reruns the
whole page when there is news for it.
Without push (AppTest, a full registry) the follow line polls the store twice a second instead. A student's own
change of the view (any write of their address that differs from the view followed) breaks away: Follow goes
off, with a note; the Follow button takes the lecturer's view again.

The view is applied in a run of a fragment alone or in the Follow button's callback, never inside a whole
page's run: the sidebar's widgets (the model's choice, presenter mode) then have not been drawn in that run, and
their values may still be set.
"""

from __future__ import annotations

import logging

import streamlit as st

from ..class_store import ClassError
from ..explore import url
from ..explore.context import FOLLOWS_ADDRESS_KEY
from ..explore.fragments import LINK, MAP_VIEW
from ..explore.map_panel import star_in_page
from ..explore.reruns import map_path_follows_star, page_follows_picks
from ..session_keys import PRESENTER, SHOW_EXPLANATIONS
from . import fragment_runs, push
from .in_page import MOVES, WITH_PICKS, InPage, Shows, parts_showing
from .session import ClassSession, leave, store, view_of

POLL_S = 0.5  # without push: how often a student's page asks whether the lecturer's view changed
IN_PAGE_RUN = "class.in_page_run"  # the follow fragment is running as part of the whole page's run
FOLLOW_KEY = "class_follow"
FOLLOW_LINE = "class_follow_line"  # the follow line's fragment
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
        st.session_state[FOLLOWS_ADDRESS_KEY] = ()
        push.watch(cls.room, False, (FOLLOW_LINE,), None)  # the follow line, asked at once, shows the break


def register() -> bool:
    """Tell push what this student's page shows: the revision it applied; rerun its map (following) or its follow
    line on a new one. False: no push here."""
    cls = ClassSession()
    return push.watch(cls.room, False, (MAP_VIEW, FOLLOW_LINE) if cls.follow else (FOLLOW_LINE,), cls.applied)


def map_parts(old: dict | None, new: dict, state, d: int) -> list[str] | None:
    """The fragments besides the map that show the view's change from `old` to `new` (in_page.parts_showing), or
    None when the whole page must rerun: anything but the ★, the zoom and the picks changed, or nothing was applied
    yet."""
    if old is None:
        return None
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    if not changed <= set(WITH_PICKS):
        return None
    return parts_showing(changed, Shows.of(state, d))


def before_map(entries, ctx) -> None:
    """Explore's map (MAP_VIEW), at the start of each of its runs: in its own runs (push reruns it on a follower's
    page when the room's revision moved), take the lecturer's view (`_take_view`); then say whether the map
    follows the ★, the zoom (and the picks) in the page."""
    _take_view(entries, ctx)
    _note_in_page(ctx)


def _note_in_page(ctx) -> None:
    """A follower's map takes the lecturer's ★ and zoom (and picks) in the page (in_page.py) when it moves and
    decodes the ★ there and nothing else on the page that moves with them needs this run: not while a poll asks
    for the student's own tap on the map, nor with the morph's path from the ★ on the map."""
    cls, state = ClassSession(), ctx.state
    poll = isinstance(cls.request, dict) and cls.request.get("kind") == "poll"
    ok = bool(cls.student_page and cls.follow and cls.view is not None and not poll and star_in_page(ctx)
              and not map_path_follows_star(state))
    # the picks too, unless the map draws more from them than their rings and the last one's ellipse: the draws
    # from its posterior, or the sub-tab's own use of them (the morph's path from A to B, ...)
    codes = (WITH_PICKS if not page_follows_picks(state) and state.post_of != "pick" else MOVES) if ok else ()
    st.session_state[FOLLOWS_ADDRESS_KEY] = codes
    push.note_in_page(InPage(d=ctx.d, limit=float(state.limit), view=dict(cls.view), request=cls.request,
                             codes=codes, n_test=ctx.n_test, shows=Shows.of(state, ctx.d)) if ok else None)


def _take_view(entries, ctx) -> None:
    """A follower's map in a run of its own: take the lecturer's view; when only the ★, the zoom or the picks
    changed, the map draws it, the address follows at once, and the parts that show it (the link's box among them)
    run after the map; otherwise the whole page reruns."""
    cls = ClassSession()
    if not (cls.student_page and cls.follow) or not fragment_runs.in_fragment_run():
        return
    try:
        got, request = store().view(cls.room), store().request(cls.room)
    except ClassError:  # the store is unavailable: the follow line says so at the page's next run
        return
    if got is None:
        leave("The lecturer has ended the class. This page works on its own.")
        st.rerun()
    if got[0] == cls.applied:
        return
    if not got[1]:  # nothing published yet
        cls.applied = got[0]
        register()
        return
    old = cls.view
    _apply(got[1], got[0], entries)
    parts = map_parts(old, cls.view, ctx.state, ctx.d)
    if request != cls.request or parts is None:
        st.rerun()
    # The map draws it, the address follows at once; the other parts that show it (the link's box, the picked view,
    # the sub-tab) run right after.
    url.apply_explore(ctx)
    url.write(url.params_for(ctx.state, ctx.model.link_name))
    register()
    fragment_runs.after_this_run((*((LINK,) if cls.view != old else ()), *parts))


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
    """The student's follow line and its button (in the page's run: a button in a fragment that reruns on its
    own can lose a click), and the line's fragment (follower)."""
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


def follow_line(entries) -> None:
    """The follow line (a fragment, rerun by push, or twice a second without it): the store's revision; the page
    reruns whole for a new view, a new request, or a break from the lecturer's view that the button beside it does
    not show yet. (A fragment that draws nothing is not rerun on its timer.)"""
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
        cls.applied = max(revision, got[0]) if got is not None else revision
        st.rerun()  # the whole page: the view, a new request
    cls.applied = revision  # not following: only a new request is news
    register()
    if store().request(cls.room) != cls.request:
        st.rerun()


def follower(entries) -> None:
    """Mount the student's follow line (a fragment that push reruns, or that polls without push) and mark the part
    it runs in the page's run."""
    pushed = register()
    st.session_state[IN_PAGE_RUN] = True
    try:
        st.fragment(key=FOLLOW_LINE, run_every=None if pushed else POLL_S)(follow_line)(entries)
    finally:
        st.session_state[IN_PAGE_RUN] = False
