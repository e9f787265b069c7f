"""The server tells a class's pages that the class changed, instead of every page asking twice a second.

One daemon thread per process (started by the first page that watches) reads the pulse of every room a page on
this replica shows (class_store's pulse(): revision, drawings, guesses; one read per room every TICK_S, however
many pages show it) and asks each page whose part of it changed to rerun one fragment of its own: the first of
the page's `fragments` that it holds (a follower's map, whose start takes the lecturer's view; a student's follow
line; the lecturer's counts), or the whole page when it holds none of them. A page says at each of its runs what
it has shown (`watch`): the thread asks once per change (again only if the page has not shown it RETRY_S later),
and a page that lags takes the newest view.

    a student's part of the pulse:   the revision (the lecturer's view, request, a cleared layer; None: the end)
    the lecturer's part:             (drawings, guesses) (the class's layer on the map; None: the end)

A follower's page whose map follows in the page (in_page.py) is not rerun for a move of the ★, the zoom or (where
its map takes them) the picks: the thread reads the room's view, and on the server's event loop gives the session
the view and its page the new address, all such pages of the room first; the parts that show the move besides the
map run after. A page that runs (or must run, for a new request) gets the address ahead of that run, and the view
with the map's run after. A run of a follower's map that takes a pick asks for the page's other parts that show it
to run after it (`fragment_runs.after_this_run`), as st.rerun would from a callback. The runs push asks for start
in turn, at most MAX_RUNS at once per process, the lecturer's page first (`_drain`).

Streamlit has no public way for the server to rerun a session, so this module and fragment_runs.py alone use its
internals (marked "Streamlit internals:"; tests/test_class_push.py fails when the pinned Streamlit changes them).
Where there is no server (AppTest) or the registry is full, `watch` answers False and the page polls instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from ..class_store import ClassError
from . import in_page
from .fragment_runs import held, request_run
from .session import store

TICK_S = 0.1  # how often the rooms' pulses are read: a tenth of the second a move may take
MAX_PAGES = 5000  # watched pages per process; past it, a page polls
RETRY_S = 3.0  # a page asked that has not shown the change this long is asked again (a rerun that was lost)
PARTS_AFTER_S = 0.1  # with a move taken in the page, the runs wait this long: the addresses go out first
# push's runs under way at once per process; the rest wait their turn. Each run is a thread that takes its share of
# the GIL: with a class's hundred at once, the event loop, which sends the next move's addresses, got one share of a
# hundred. The work is the same; what a page waits for is its turn, not the others' runs.
MAX_RUNS = 2
SLOT_S = 1.0  # a run push started counts against MAX_RUNS this long at most: a slow one (a UMAP map) stalls no class
DRAIN_S = 0.01  # how often the waiting runs are looked at while some wait
GONE_S = 30.0  # a session inactive this long (closed, or its browser gone and not back) is forgotten
_ASK_NOTHING = object()  # nothing asked yet (None is an answer: the room is gone)

log = logging.getLogger(__name__)


@dataclass
class Page:
    room: str
    lecturer: bool
    fragments: tuple[str, ...]  # the fragments' keys (st.fragment(key=...)) to rerun, the first the session holds
    shown: object  # the part of the pulse this page shows
    asked: object = _ASK_NOTHING  # the part of the pulse it was last asked to take
    asked_at: float = 0.0  # time.monotonic() of that
    inactive_since: float | None = None
    in_page: in_page.InPage | None = None  # a follower's map that takes the ★, the zoom (the picks) in the page
    addressed: object = None  # the revision whose address a busy follower's page was sent ahead of its map's run


_pages: dict[str, Page] = {}  # session id -> its page
_waiting: deque[tuple[str, tuple[str, ...], bool]] = deque()  # runs to start: (session id, fragments, parts only)
_drain_due = False  # a look at _waiting is scheduled (only the event loop reads and writes both)
_slots: dict[str, float] = {}  # session id -> time.monotonic() when push started its run (the event loop's too)
_lock = threading.Lock()
_thread: threading.Thread | None = None


def part(pulse: tuple[int, int, int] | None, lecturer: bool):
    """What of the room's pulse a page shows (see the module's docstring)."""
    if pulse is None:
        return None
    return tuple(pulse[1:]) if lecturer else pulse[0]


def _session_id() -> str | None:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _served(sid: str | None) -> bool:
    """A server runs this session (not AppTest, whose Runtime is a stand-in, nor a bare script)."""
    return sid is not None and Runtime.exists() and isinstance(Runtime.instance().get_app_session(sid), AppSession)


def watch(room: str, lecturer: bool, fragments: tuple[str, ...], shown) -> bool:
    """This session's page shows `room` (as its lecturer or a student), and of its pulse `shown`: rerun the first
    of `fragments` it holds when that changes. False: no push here (no server, or the registry is full)."""
    sid = _session_id()
    if not _served(sid):
        return False
    with _lock:
        page = _pages.get(sid)
        if page is None and len(_pages) >= MAX_PAGES:
            return False
        if page is None or page.room != room or page.lecturer != lecturer:
            page = _pages[sid] = Page(room, lecturer, fragments, shown)
        if page.fragments != fragments:  # it no longer follows, or follows again: its map's run notes it anew
            page.in_page = None
        page.fragments, page.shown = fragments, shown
    _start()
    return True


def note_in_page(info: in_page.InPage | None) -> None:
    """Whether this session's map follows the lecturer in the page, and how (its map's run says, at each run)."""
    sid = _session_id()
    with _lock:
        page = _pages.get(sid)
        if page is not None:
            page.in_page = info


def forget() -> None:
    """This session's page shows no class any more."""
    sid = _session_id()
    with _lock:
        _pages.pop(sid, None)


def due(pulses: dict, clock: float) -> list[tuple[str, tuple[str, ...]]]:
    """The pages to ask now, given each watched room's pulse (a room missing: not read this time), marked asked:
    (session id, its fragments)."""
    out = []
    with _lock:
        for sid, page in _pages.items():
            if page.room not in pulses:
                continue
            now = part(pulses[page.room], page.lecturer)
            if now != page.shown and (now != page.asked or clock - page.asked_at > RETRY_S):
                page.asked, page.asked_at = now, clock
                out.append((sid, page.fragments))
    return out


def _tick() -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, int, dict, tuple[str, ...] | None]]]:
    """(the pages to rerun: session id, fragments), (the followers to move in the page: session id, the room's
    revision and view, the parts to rerun after, or None when the page must run for a new request)."""
    with _lock:
        rooms = {page.room for page in _pages.values()}
    pulses = {}
    for room in rooms:
        try:
            pulses[room] = store().pulse(room)
        except ClassError:  # the store is unavailable: the pages say so at their next run; ask again later
            continue
    asks, moves, views = [], [], {}
    for sid, fragments in due(pulses, time.monotonic()):
        with _lock:
            page = _pages.get(sid)
            info = page.in_page if page is not None and not page.lecturer else None
        if info is not None:
            if page.room not in views:
                try:
                    views[page.room] = store().view(page.room), store().request(page.room)
                except ClassError:
                    views[page.room] = None, None
            got, request = views[page.room]
            more = in_page.parts(info, got[1]) if got is not None and got[1] else None
            if more is not None:
                moves.append((sid, got[0], got[1], more if request == info.request else None))
                continue
        asks.append((sid, fragments))
    return asks, moves


def _forget_gone(now: float) -> None:
    """Drop the pages of sessions inactive for GONE_S (a browser that reconnects sooner keeps its place)."""
    runtime = Runtime.instance()
    with _lock:
        for sid, page in list(_pages.items()):
            if runtime.is_active_session(sid):
                page.inactive_since = None
            elif page.inactive_since is None:
                page.inactive_since = now
            elif now - page.inactive_since > GONE_S:
                del _pages[sid]


def _rerun(sid: str, fragments: tuple[str, ...]) -> None:
    """On the server's event loop: ask the session to rerun the first of `fragments` it holds, else its page.
    Streamlit internals: its fragments' keys (what st.rerun(key) resolves)."""
    session = Runtime.instance().get_app_session(sid)
    if session is None:
        return
    if not session._client_state.page_script_hash:  # its first run is under way: no client state to rerun with
        _ask_again(sid)
        return
    if session._state == AppSessionState.APP_IS_RUNNING:
        # Asked now, the session would stop the run under way (a fragment's rerun preempts it too): what that run
        # was to show (a new request, the parts after a follower's map) would be lost. The next tick asks again.
        _ask_again(sid)
        return
    if not request_run(session, held(session._fragment_storage, fragments)[:1]):
        _ask_again(sid)


def _move_in_page(moves: list[tuple[str, int, dict, tuple[str, ...] | None]]
                  ) -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, tuple[str, ...]]]]:
    """On the server's event loop: give each follower its room's view and its page the new address (no run); (the
    parts to rerun after, by session; the pages to rerun after, as `_rerun` does). A session with a run under way
    (or a ScriptRunner still winding down), or one whose page must run for a new request, gets the address alone,
    once (its map moves in the page), and its map's run takes the view after, as for any other change. Streamlit
    internals: a session's ScriptRunner exists from the request of a run to its end, and is made and released only
    on this loop, so while it is None no run can read the settings being written; its session state, its message
    queue and its client state's address."""
    after, reruns = [], []
    for sid, revision, view, more in moves:
        session = Runtime.instance().get_app_session(sid)
        with _lock:
            page = _pages.get(sid)
        if session is None or page is None:
            continue
        if page.in_page is None or session._state == AppSessionState.SHUTDOWN_REQUESTED \
                or not session._client_state.page_script_hash:
            reruns.append((sid, page.fragments))  # its map no longer follows in the page, or it is not running yet
            continue
        if session._scriptrunner is not None or more is None:
            address = in_page.address_for(session._session_state, view, page.in_page.codes)
            if page.addressed != revision and address != in_page.written_address(session._session_state):
                # Not the client state's address: a run's own write of the address compares with that one, so
                # the run under way (the view before) sends none, and the map's run after it sends this one.
                page.addressed = revision
                session._enqueue_forward_msg(in_page.address_message(address)[0])
            reruns.append((sid, page.fragments))
            continue
        taken = in_page.take(session._session_state, page.in_page, revision, view)
        if taken is None:
            reruns.append((sid, page.fragments))
            continue
        info, address = taken
        if address is not None:
            msg, query_string = in_page.address_message(address)
            session._client_state.query_string = query_string
            session._enqueue_forward_msg(msg)
        with _lock:
            page.in_page, page.shown = info, revision
        if more:
            after.append((sid, more))
    return after, reruns


def _rerun_parts(sid: str, keys: tuple[str, ...]) -> bool:
    """On the server's event loop: run these fragments of the page (those it holds). False: not now, its last run
    is still winding down."""
    session = Runtime.instance().get_app_session(sid)
    if session is None or session._state == AppSessionState.SHUTDOWN_REQUESTED:
        return True
    ids = held(session._fragment_storage, keys)
    return not ids or request_run(session, ids)


def _ask_again(sid: str) -> None:
    """The page was not asked after all: the thread's next tick asks it again, unless its run showed the change."""
    with _lock:
        page = _pages.get(sid)
        if page is not None:
            page.asked = _ASK_NOTHING


def _moved_in_page(loop, moves, asks) -> None:
    """The addresses first; the runs PARTS_AFTER_S later: started now, a hundred runs would hold the GIL while the
    event loop sends the addresses."""
    after, reruns = _move_in_page(moves)
    loop.call_later(PARTS_AFTER_S, _run_later, after, [*asks, *reruns])


def _run_later(after, reruns) -> None:
    """Queue these runs (`_drain` starts them); the lecturer's page ahead of the students' (its counts, the class's
    drawings on its map)."""
    with _lock:
        lecturers = {sid for sid, _ in reruns if (page := _pages.get(sid)) is not None and page.lecturer}
    _waiting.extendleft((sid, fragments, False) for sid, fragments in reruns if sid in lecturers)
    _waiting.extend((sid, keys, True) for sid, keys in after)
    _waiting.extend((sid, fragments, False) for sid, fragments in reruns if sid not in lecturers)
    if not _drain_due:
        _drain()


def _drain() -> None:
    """On the server's event loop: start waiting runs while fewer than MAX_RUNS of those push started are under
    way (for SLOT_S at most each: a page's own slow run must not stall the class); look again in DRAIN_S while
    some wait (parts whose page's last run still winds down wait among them). Streamlit internals: a session's
    ScriptRunner exists from a run's request to its end."""
    global _drain_due
    _drain_due = False
    runtime, now = Runtime.instance(), time.monotonic()
    for sid, since in list(_slots.items()):
        session = runtime.get_app_session(sid)
        if session is None or session._scriptrunner is None or now - since > SLOT_S:
            del _slots[sid]
    not_yet = []
    while _waiting and len(_slots) < MAX_RUNS:
        sid, keys, parts_only = item = _waiting.popleft()
        if parts_only:
            if not _rerun_parts(sid, keys):
                not_yet.append(item)
                continue
        else:
            _rerun(sid, keys)
        session = runtime.get_app_session(sid)
        if session is not None and session._scriptrunner is not None:
            _slots[sid] = now
    _waiting.extend(not_yet)
    if _waiting:
        _drain_due = True
        runtime._get_async_objs().eventloop.call_later(DRAIN_S, _drain)


def _loop() -> None:
    last_sweep = 0.0
    while True:
        time.sleep(TICK_S)
        try:
            asks, moves = _tick()
            if asks or moves:
                # Streamlit internals: the server's event loop, the one thread that may touch a session
                loop = Runtime.instance()._get_async_objs().eventloop
                if moves:
                    loop.call_soon_threadsafe(_moved_in_page, loop, moves, asks)
                else:
                    loop.call_soon_threadsafe(_run_later, [], asks)
            if time.monotonic() - last_sweep > GONE_S / 3:
                last_sweep = time.monotonic()
                _forget_gone(last_sweep)
        except Exception:  # the thread must outlive any one failure (the runtime stopping, say)
            log.warning("the class's push failed once", exc_info=True)
            time.sleep(1.0)


def _start() -> None:
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_loop, name="class-push", daemon=True)
            _thread.start()
