"""Asking a page's fragments to run, from the page's own run or from the server's event loop.

The class's pages rerun only the parts that show a change (push.py asks for them; a follower's map asks for the
parts beside it). Streamlit has public ways to rerun only from inside a page's run, and none that waits for the run
under way or carries no widget values, so these use its internals (marked "Streamlit internals:";
tests/test_class_push.py fails when the pinned Streamlit changes them).
"""

from __future__ import annotations

from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def in_fragment_run() -> bool:
    """Whether this run is a fragment's own (not the whole page's). Streamlit internals: the run's context lists
    the fragments it runs only then."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def after_this_run(keys: tuple[str, ...]) -> bool:
    """Run these fragments of the page (those it holds) once the run under way is over: the parts of a follower's
    page that show the lecturer's move besides its map. Streamlit internals: the request st.rerun makes from a
    page's body, naming fragments and not fragment-scoped, so it waits for this run instead of cutting it short
    (ScriptRequests), and with no widget values, so the parts see what this run set (a client state's values are
    the page's last ones, from before the move). False when the page holds none of them."""
    ctx = get_script_run_ctx()
    if ctx is None or ctx.script_requests is None:
        return False
    ids = held(ctx.fragment_storage, keys)
    if ids:
        ctx.script_requests.request_rerun(RerunData(
            query_string=ctx.query_string, page_script_hash=ctx.page_script_hash, fragment_id_queue=ids,
            is_fragment_scoped_rerun=False, cached_message_hashes=ctx.cached_message_hashes,
            context_info=ctx.context_info))
    return bool(ids)


def held(storage, keys: tuple[str, ...]) -> list[str]:
    """The fragment ids of those keys the page holds now, in order (Streamlit internals: what st.rerun(key)
    resolves); a key it does not hold (another tab open, a run that failed) is left out."""
    ids = []
    for key in keys:
        try:
            ids.extend(storage.resolve_target([key]))
        except Exception:
            continue
    return ids


def request_run(session: AppSession, ids: list[str]) -> bool:
    """Ask a session to run these fragments (none: its whole page) after any run under way (not cutting it short),
    with its address and page and no widget values; False: not now, its last run is still winding down.

    No widget values: the browser sent nothing, and its client state's values read as new input (none, for a page
    that has only loaded) would run the callbacks of widgets that a fragment's run does not draw, with no value.
    Not while a ScriptRunner winds down: the messages of its last run reach the session on this event loop after
    it, and the session drops those of a ScriptRunner that is no longer its own (a request drawn, then never
    sent). Streamlit internals: the session's last client state, its ScriptRunner (None from its end to the next
    request) and what AppSession.request_rerun makes of a request."""
    client = session._client_state
    data = RerunData(query_string=client.query_string, page_script_hash=client.page_script_hash,
                     fragment_id_queue=list(ids), is_fragment_scoped_rerun=False,
                     cached_message_hashes=frozenset(client.cached_message_hashes),
                     context_info=client.context_info if client.HasField("context_info") else None)
    runner = session._scriptrunner
    if runner is None:
        session._create_scriptrunner(data)
        return True
    return runner.request_rerun(data)
