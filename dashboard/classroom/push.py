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

A run of a follower's map that takes a pick asks for the page's other parts that show it to run after it
(`after_this_run`), as st.rerun would from a callback.

Streamlit has no public way for the server to rerun a session, so this module alone uses its internals (marked
"Streamlit internals:"; tests/test_class_push.py fails when the pinned Streamlit changes them). Where there is no
server (AppTest) or the registry is full, `watch` answers False and the page polls instead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from ..class_store import ClassError
from .session import store

TICK_S = 0.1  # how often the rooms' pulses are read: a tenth of the second a move may take
MAX_PAGES = 5000  # watched pages per process; past it, a page polls
RETRY_S = 3.0  # a page asked that has not shown the change this long is asked again (a rerun that was lost)
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


_pages: dict[str, Page] = {}  # session id -> its page
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
        page.fragments, page.shown = fragments, shown
    _start()
    return True


def forget() -> None:
    """This session's page shows no class any more."""
    sid = _session_id()
    with _lock:
        _pages.pop(sid, None)


def in_fragment_run() -> bool:
    """Whether this run is a fragment's own (not the whole page's). Streamlit internals: the run's context lists
    the fragments it runs only then."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def after_this_run(keys: tuple[str, ...]) -> None:
    """Run these fragments of the page (those it holds) once the run under way is over: the parts of a follower's
    page that show the lecturer's move besides its map. Streamlit internals: the request st.rerun makes from a
    page's body, naming fragments and not fragment-scoped, so it waits for this run instead of cutting it short
    (ScriptRequests), and with no widget values, so the parts see what this run set (a client state's values are
    the page's last ones, from before the move)."""
    ctx = get_script_run_ctx()
    if ctx is None or ctx.script_requests is None:
        return
    ids = _held(ctx.fragment_storage, keys)
    if ids:
        ctx.script_requests.request_rerun(RerunData(
            query_string=ctx.query_string, page_script_hash=ctx.page_script_hash, fragment_id_queue=ids,
            is_fragment_scoped_rerun=False, cached_message_hashes=ctx.cached_message_hashes,
            context_info=ctx.context_info))


def _held(storage, keys: tuple[str, ...]) -> list[str]:
    """The fragment ids of those keys the page holds now, in order (Streamlit internals: what st.rerun(key)
    resolves); a key it does not hold (another tab open, a run that failed) is left out."""
    ids = []
    for key in keys:
        try:
            ids.extend(storage.resolve_target([key]))
        except Exception:
            continue
    return ids


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


def _tick() -> list[tuple[str, tuple[str, ...]]]:
    with _lock:
        rooms = {page.room for page in _pages.values()}
    pulses = {}
    for room in rooms:
        try:
            pulses[room] = store().pulse(room)
        except ClassError:  # the store is unavailable: the pages say so at their next run; ask again later
            continue
    return due(pulses, time.monotonic())


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
    Streamlit internals: the session's last client state (what run-on-save reruns with: its address and page,
    no widget's trigger) and its fragments' keys (what st.rerun(key) resolves)."""
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
    state = ClientState()
    state.CopyFrom(session._client_state)
    held = _held(session._fragment_storage, fragments)
    state.fragment_id = held[0] if held else ""
    session.request_rerun(state)


def _ask_again(sid: str) -> None:
    """The page was not asked after all: the thread's next tick asks it again, unless its run showed the change."""
    with _lock:
        page = _pages.get(sid)
        if page is not None:
            page.asked = _ASK_NOTHING


def _loop() -> None:
    last_sweep = 0.0
    while True:
        time.sleep(TICK_S)
        try:
            asks = _tick()
            if asks:
                # Streamlit internals: the server's event loop, the one thread that may touch a session
                loop = Runtime.instance()._get_async_objs().eventloop
                for sid, fragments in asks:
                    loop.call_soon_threadsafe(_rerun, sid, fragments)
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
