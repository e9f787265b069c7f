"""The class's push (dashboard/classroom/push.py): which page is asked to rerun what, once per change; which view
change a follower's map takes, and what reruns after it (follow.map_parts); and the Streamlit internals push
relies on, as the pinned Streamlit has them (this test fails first when an upgrade changes them). The browser test
tests/e2e/test_classroom_browser.py checks that a follower's page takes the lecturer's moves without asking."""

from __future__ import annotations

import dataclasses
import inspect
from types import SimpleNamespace

import pytest
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.fragment import MemoryFragmentStorage
from streamlit.runtime.runtime import AsyncObjects
from streamlit.runtime.scriptrunner_utils import script_requests
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests, ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

from dashboard.classroom import push
from dashboard.classroom.follow import FOLLOW_LINE, map_parts
from dashboard.classroom.lecturer import COUNTS
from dashboard.explore.fragments import MAP_VIEW, MORPH, PICKED, TABS


@pytest.fixture
def pages(monkeypatch):
    monkeypatch.setattr(push, "_pages", {})
    return push._pages


def test_each_page_is_asked_once_per_change_of_what_it_shows(pages):
    pages["follower"] = push.Page("ROOM1", False, (MAP_VIEW, FOLLOW_LINE), shown=3)
    pages["own"] = push.Page("ROOM1", False, (FOLLOW_LINE,), shown=3)
    pages["lecturer"] = push.Page("ROOM1", True, (COUNTS,), shown=(0, 0))
    pages["elsewhere"] = push.Page("ROOM2", False, (MAP_VIEW, FOLLOW_LINE), shown=7)
    assert push.due({"ROOM1": (3, 0, 0), "ROOM2": (7, 0, 0)}, 0.0) == []
    # the lecturer moves: the students are asked (the follower its map first), the lecturer is not
    assert push.due({"ROOM1": (4, 0, 0)}, 0.1) == [("follower", (MAP_VIEW, FOLLOW_LINE)), ("own", (FOLLOW_LINE,))]
    assert push.due({"ROOM1": (4, 0, 0)}, 0.2) == [], "asked once, not at every tick"
    pages["follower"].shown = 4  # its map took the view
    # a drawing and a guess: the lecturer's page only
    assert push.due({"ROOM1": (4, 1, 0)}, 0.3) == [("lecturer", (COUNTS,))]
    assert push.due({"ROOM1": (4, 1, 1)}, 0.4) == [("lecturer", (COUNTS,))], "a newer change is asked again"
    # a page that was asked but never showed it is asked again after RETRY_S (a lost rerun), not before
    assert push.due({"ROOM1": (4, 1, 1)}, 0.1 + push.RETRY_S - 0.05) == []
    assert push.due({"ROOM1": (4, 1, 1)}, 0.1 + push.RETRY_S + 0.05) == [("own", (FOLLOW_LINE,))]
    # the class ends: every page in the room is asked (it leaves the class); a room not read this time: nobody
    assert sorted(sid for sid, _ in push.due({"ROOM1": None}, 9.0)) == ["follower", "lecturer", "own"]
    assert push.due({}, 9.1) == []


def test_a_page_without_a_server_is_not_watched_and_polls(pages):
    assert push.watch("ROOM1", False, (FOLLOW_LINE,), None) is False and pages == {}
    assert push.part((5, 2, 1), lecturer=False) == 5 and push.part((5, 2, 1), lecturer=True) == (2, 1)
    assert push.part(None, lecturer=True) is None


@pytest.mark.parametrize("old, new, section, d, parts", [
    ({"m": "a", "z": "0,0"}, {"m": "a", "z": "1,0"}, "grid", 2, []),  # the drag: the map alone
    ({"m": "a", "v": "0,0,4"}, {"m": "a", "v": "1,0,2"}, "prior", 2, []),
    ({"m": "a", "v": "0,0,4"}, {"m": "a", "v": "1,0,2"}, "grid", 2, [TABS]),  # the grid follows the zoom
    ({"m": "a", "z": "0,0"}, {"m": "a", "z": "1,0"}, "grid", 16, [TABS]),  # the grid's plane through the ★
    ({"m": "a", "z": "0,0"}, {"m": "a", "z": "1,0"}, "trav", 2, [TABS]),  # the traversals start at the ★
    ({"m": "a", "p": "3"}, {"m": "a", "p": "4"}, "prior", 2, [PICKED]),  # the picked view under the map
    ({"m": "a", "p": "3"}, {"m": "a", "p": "4"}, "morph", 2, [PICKED, MORPH]),  # the morph's player, not its settings
    ({"m": "a"}, {"m": "a", "z": "1,0", "sub": "morph"}, "grid", 2, None),  # a sub-tab: the page
    ({"m": "a"}, {"m": "b"}, "grid", 2, None),  # another model: the page
    (None, {"m": "a"}, "grid", 2, None),  # nothing applied yet: the page
])
def test_what_a_follower_s_map_takes_and_what_reruns_after_it(old, new, section, d, parts):
    state = SimpleNamespace(section=section, morph_ends="picks", morph_mode="linear")
    assert map_parts(old, new, state, d) == parts


def test_the_streamlit_internals_push_uses_are_there():
    """push.py's uses of Streamlit beyond its public API, as the pinned version has them."""
    assert callable(Runtime.exists) and callable(Runtime.instance)
    assert callable(Runtime.get_app_session) and callable(Runtime.is_active_session)
    assert callable(Runtime._get_async_objs) and "eventloop" in AsyncObjects._fields
    assert list(inspect.signature(AppSession.request_rerun).parameters) == ["self", "client_state"]
    init = inspect.getsource(AppSession.__init__)
    assert "self._client_state = ClientState()" in init and "self._fragment_storage" in init
    # a session's own state: a run under way (a request for the whole page would stop it)
    assert "self._state = AppSessionState.APP_NOT_RUNNING" in init
    assert "self._state = AppSessionState.APP_IS_RUNNING" in inspect.getsource(AppSession)
    assert "page_script_hash" in ClientState.DESCRIPTOR.fields_by_name
    assert callable(MemoryFragmentStorage.resolve_target)
    fields = {f.name for f in dataclasses.fields(ScriptRunContext)}
    assert {"session_id", "fragment_ids_this_run"} <= fields
    assert {"fragment_id", "query_string", "page_script_hash"} <= set(ClientState.DESCRIPTOR.fields_by_name)
    # request_rerun reruns the one fragment a client state names, and drops one the session no longer holds
    assert "fragment_id=fragment_id or None" in inspect.getsource(AppSession.request_rerun)
    # after_this_run: st.rerun's request from a page's body, naming fragments and not fragment-scoped, which
    # waits for the run under way instead of cutting it short
    assert {"script_requests", "fragment_storage", "cached_message_hashes", "context_info"} <= fields
    assert {"fragment_id_queue", "is_fragment_scoped_rerun"} <= {f.name for f in dataclasses.fields(RerunData)}
    requests = ScriptRequests()  # as while a run is under way
    assert requests.request_rerun(RerunData(fragment_id_queue=["picked"], is_fragment_scoped_rerun=False))
    assert requests.on_scriptrunner_yield() is None, "the run under way goes on"
    after = requests.on_scriptrunner_ready()  # it ended: the fragments run next
    assert after.type == ScriptRequestType.RERUN and after.rerun_data.fragment_id_queue == ["picked"]
    assert script_requests._fragment_run_should_not_preempt_script(["picked"], False)


def test_a_page_not_asked_after_all_is_asked_again_at_the_next_tick(pages):
    """A rerun the thread could not ask for (the page's first run under way, or its whole page while it runs) is
    asked for again at the next tick, not RETRY_S later."""
    pages["s1"] = push.Page("ROOM", False, (MAP_VIEW, FOLLOW_LINE), shown=None)  # a page joining: nothing shown yet
    assert push.due({"ROOM": (1, 0, 0)}, 10.0) == [("s1", (MAP_VIEW, FOLLOW_LINE))]
    assert push.due({"ROOM": (1, 0, 0)}, 10.1) == []  # asked: not again until RETRY_S
    push._ask_again("s1")
    assert push.due({"ROOM": (1, 0, 0)}, 10.2) == [("s1", (MAP_VIEW, FOLLOW_LINE))]
