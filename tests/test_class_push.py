"""The class's push (dashboard/classroom/push.py): which page is asked to rerun what, once per change; which view
change a follower's map takes, and what reruns after it (follow.map_parts); which it takes in the page, and what
that writes in the session (in_page.py); and the Streamlit internals push
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
from streamlit.runtime.state.session_state import SessionState

from dashboard.classroom import fragment_runs, in_page, push
from dashboard.classroom.follow import FOLLOW_LINE, map_parts
from dashboard.classroom.lecturer import COUNTS
from dashboard.explore import url
from dashboard.explore.fragments import LINK, MAP_VIEW, MORPH, PICKED, TABS


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
    # a move taken in the page: no run can start while a session's ScriptRunner is None on the event loop (it is
    # made there, for a request, and released there at its SHUTDOWN); its state, queue and a run made for the parts
    source = inspect.getsource(AppSession)
    assert "self._scriptrunner = None" in source and "self._scriptrunner = ScriptRunner(" in source
    assert "self._session_state = SessionState()" in init and callable(AppSession._enqueue_forward_msg)
    assert list(inspect.signature(AppSession._create_scriptrunner).parameters) == ["self", "initial_rerun_data"]


def test_a_page_not_asked_after_all_is_asked_again_at_the_next_tick(pages):
    """A rerun the thread could not ask for (the page's first run under way, or its whole page while it runs) is
    asked for again at the next tick, not RETRY_S later."""
    pages["s1"] = push.Page("ROOM", False, (MAP_VIEW, FOLLOW_LINE), shown=None)  # a page joining: nothing shown yet
    assert push.due({"ROOM": (1, 0, 0)}, 10.0) == [("s1", (MAP_VIEW, FOLLOW_LINE))]
    assert push.due({"ROOM": (1, 0, 0)}, 10.1) == []  # asked: not again until RETRY_S
    push._ask_again("s1")
    assert push.due({"ROOM": (1, 0, 0)}, 10.2) == [("s1", (MAP_VIEW, FOLLOW_LINE))]


FOLLOWER = in_page.InPage(d=2, limit=4.0, view={"m": "a", "z": "1,0"}, request=None)
PICKER = dataclasses.replace(FOLLOWER, codes=in_page.WITH_PICKS, n_test=100, shows=in_page.Shows(picked=True))


@pytest.mark.parametrize("info, view, parts", [
    (FOLLOWER, {"m": "a", "z": "1.5,-1"}, (LINK,)),  # the drag: the address, and the link's box
    (FOLLOWER, {"m": "a", "z": "1,0", "v": "1,0,2"}, (LINK,)),  # a zoom
    (dataclasses.replace(FOLLOWER, shows=in_page.Shows(TABS, zoom=True)), {"m": "a", "z": "1,0", "v": "1,0,2"},
     (LINK, TABS)),
    (dataclasses.replace(FOLLOWER, shows=in_page.Shows(TABS, star=True)), {"m": "a", "z": "2,0"}, (LINK, TABS)),
    (FOLLOWER, {"m": "a", "z": "1,0"}, ()),  # the revision moved, the view did not (a cleared layer)
    (FOLLOWER, {"m": "a", "z": "1,0", "p": "7"}, None),  # a pick, where the map draws more from it: the map's run
    (FOLLOWER, {"m": "b", "z": "1,0"}, None),  # another model
    # where the map takes the picks: the picked view after, and the sub-tab that shows the ★ once
    (PICKER, {"m": "a", "z": "2,0", "p": "7"}, (LINK, PICKED)),
    (dataclasses.replace(PICKER, shows=in_page.Shows(TABS, star=True, picked=True)), {"m": "a", "z": "2,0", "p": "7"},
     (LINK, PICKED, TABS)),
    (dataclasses.replace(PICKER, shows=in_page.Shows()), {"m": "a", "z": "1,0", "p": "7,3"}, (LINK,)),  # presenting
    (PICKER, {"m": "b", "z": "1,0", "p": "7"}, None),
])
def test_which_moves_a_follower_s_map_takes_in_the_page(info, view, parts):
    assert in_page.parts(info, view) == parts


def test_a_move_taken_in_the_page_gives_the_session_the_view_and_the_page_its_address():
    state = SessionState()  # a session's state, written from outside its runs (push does it on the event loop)
    state["explore.z"], state["explore.z_rev"] = [1.0, 0.0], 3
    state["explore.view"] = {"cx": 0.0, "cy": 0.0, "half": 4.0, "rev": 2}
    state["class.view"], state["class.applied"] = dict(FOLLOWER.view), 5
    state[url.WRITTEN] = {"m": "a", "z": "1,0", "pr": "1", "class": "ROOM1"}
    info, address = in_page.take(state, FOLLOWER, 6, {"m": "a", "z": "1.5,-1", "v": "1,0,2", "pr": "1"})
    assert state["explore.z"] == [1.5, -1.0] and state["explore.z_rev"] == 4, "the map's next run keeps this ★"
    assert state["explore.view"] == {"cx": 1.0, "cy": 0.0, "half": 2.0, "rev": 3}
    assert state["class.view"] == info.view == {"m": "a", "z": "1.5,-1", "v": "1,0,2"}, "no personal parameters"
    assert state["class.applied"] == 6
    assert list(address.items()) == [("m", "a"), ("z", "1.5,-1"), ("v", "1,0,2"), ("pr", "1"), ("class", "ROOM1")]
    assert state[url.WRITTEN] == address, "the page's next write of its address knows it has it"
    msg, query = in_page.address_message(address)
    assert msg.page_info_changed.query_string == query == "m=a&z=1.5%2C-1&v=1%2C0%2C2&pr=1&class=ROOM1"
    # the lecturer goes back home: the parameters left out are the defaults
    info, address = in_page.take(state, info, 7, {"m": "a"})
    assert list(state["explore.z"]) == [] and state["explore.view"] == {"cx": 0.0, "cy": 0.0, "half": 4.0, "rev": 4}
    assert address == {"m": "a", "pr": "1", "class": "ROOM1"}
    assert in_page.take(state, info, 8, {"m": "a"})[1] is None, "the same address: no message"
    # a ★ that does not fit this page's model: nothing taken (the map's run says so)
    assert in_page.take(state, info, 9, {"m": "a", "z": "1,2,3"}) is None
    assert state["class.applied"] == 8 and state[url.WRITTEN] == address


def test_a_pick_taken_in_the_page_gives_the_session_the_picks_and_the_page_its_address():
    state = SessionState()
    state["explore.z"], state["explore.z_rev"], state["explore.picks"] = [1.0, 0.0], 3, [5]
    state["explore.view"] = {"cx": 0.0, "cy": 0.0, "half": 4.0, "rev": 2}
    state["class.view"], state["class.applied"] = {"m": "a", "z": "1,0", "p": "5"}, 5
    state[url.WRITTEN] = {"m": "a", "z": "1,0", "p": "5", "class": "ROOM1"}
    info = dataclasses.replace(PICKER, view={"m": "a", "z": "1,0", "p": "5"})
    info, address = in_page.take(state, info, 6, {"m": "a", "z": "0.5,-2", "p": "5,42"})
    assert list(state["explore.picks"]) == [5, 42] and state["explore.z"] == [0.5, -2.0]
    assert list(address.items()) == [("m", "a"), ("z", "0.5,-2"), ("p", "5,42"), ("class", "ROOM1")]
    info, address = in_page.take(state, info, 7, {"m": "a", "z": "0.5,-2"})  # the picks cleared
    assert list(state["explore.picks"]) == [] and "p" not in address
    # a test image this model does not have: nothing taken (the map's run says so)
    assert in_page.take(state, info, 8, {"m": "a", "z": "0.5,-2", "p": "100"}) is None
    assert list(state["explore.picks"]) == []
    # a map that does not take the picks leaves them alone, and its address keeps the ones it showed
    state[url.WRITTEN] = {"m": "a", "z": "0.5,-2", "p": "9"}
    assert in_page.address_for(state, {"m": "a", "z": "1,1", "p": "3"}) == {"m": "a", "z": "1,1", "p": "9"}
    assert in_page.address_for(state, {"m": "a", "z": "1,1", "p": "3"}, in_page.WITH_PICKS) == \
        {"m": "a", "z": "1,1", "p": "3"}


def test_the_thread_moves_followers_in_the_page_and_reruns_the_others(pages, monkeypatch):
    class Store:
        def pulse(self, room):
            return (6, 0, 0)

        def view(self, room):
            return 6, {"m": "a", "z": "2,0"}

        def request(self, room):
            return None

    monkeypatch.setattr(push, "store", Store)
    pages["in_page"] = push.Page("ROOM1", False, (MAP_VIEW, FOLLOW_LINE), shown=5, in_page=FOLLOWER)
    pages["plotly"] = push.Page("ROOM1", False, (MAP_VIEW, FOLLOW_LINE), shown=5)  # its map runs on the server
    pages["picked"] = push.Page("ROOM1", False, (MAP_VIEW, FOLLOW_LINE), shown=5,  # the lecturer then picked a dot
                                in_page=dataclasses.replace(FOLLOWER, view={"m": "a", "z": "1,0", "p": "3"}))
    pages["withdrawn"] = push.Page("ROOM1", False, (MAP_VIEW, FOLLOW_LINE), shown=5,  # its request went
                                   in_page=dataclasses.replace(FOLLOWER, request={"kind": "digit", "label": "1"}))
    asks, moves = push._tick()
    # the request's change needs the page's run: its address goes ahead of it (None: no parts, the page runs)
    assert sorted(moves) == [("in_page", 6, {"m": "a", "z": "2,0"}, (LINK,)),
                             ("withdrawn", 6, {"m": "a", "z": "2,0"}, None)]
    assert sorted(asks) == [("picked", (MAP_VIEW, FOLLOW_LINE)), ("plotly", (MAP_VIEW, FOLLOW_LINE))]


class _Runner:
    """A ScriptRunner as push sees it: it takes a request while it runs, refuses one while it winds down."""

    def __init__(self, accepts: bool):
        self.accepts, self.requests = accepts, []

    def request_rerun(self, data):
        self.requests.append(data)
        return self.accepts


class _Session:
    def __init__(self, runner=None):
        self._scriptrunner, self.created = runner, []
        self._client_state = ClientState(query_string="class=ROOM1", page_script_hash="h")

    def _create_scriptrunner(self, data):
        self.created.append(data)


def test_a_run_is_never_asked_of_a_session_whose_last_run_winds_down():
    """Its last run's messages reach the session after it: a new ScriptRunner made now would have them dropped
    (a request the page drew, never sent). push asks again at the next tick instead."""
    idle, running, winding = _Session(), _Session(_Runner(accepts=True)), _Session(_Runner(accepts=False))
    assert fragment_runs.request_run(idle, ["link"]) and idle.created[0].fragment_id_queue == ["link"]
    assert idle.created[0].widget_states is None, "no widget values: the browser sent none"
    assert fragment_runs.request_run(running, ["link"]) and not running.created
    assert running._scriptrunner.requests[0].is_fragment_scoped_rerun is False, "after the run, not cutting it"
    assert not fragment_runs.request_run(winding, ["link"]) and not winding.created


def test_push_runs_at_most_max_runs_pages_at_once_the_lecturer_s_first(pages, monkeypatch):
    """A class's hundred runs at once would each take a share of the GIL from the event loop that sends the next
    move's addresses: push starts MAX_RUNS at a time, the lecturer's page (its counts, the drawings on its map)
    ahead of the students'."""
    sessions = {sid: _Session() for sid in ("lect", "s1", "s2", "s3", "s4")}
    for sid in sessions:
        pages[sid] = push.Page("ROOM1", sid == "lect", (MAP_VIEW,), shown=0)
    started, later = [], []
    loop = SimpleNamespace(call_later=lambda delay, f, *a: later.append(f))
    monkeypatch.setattr(push.Runtime, "instance", staticmethod(lambda: SimpleNamespace(
        get_app_session=sessions.get, _get_async_objs=lambda: SimpleNamespace(eventloop=loop))))

    def start(sid, what):
        started.append((sid, what))
        sessions[sid]._scriptrunner = _Runner(accepts=True)  # its run is under way

    monkeypatch.setattr(push, "_rerun", lambda sid, fragments: start(sid, fragments))
    monkeypatch.setattr(push, "_rerun_parts", lambda sid, keys: start(sid, keys) or True)
    monkeypatch.setattr(push, "_waiting", push.deque())
    monkeypatch.setattr(push, "_drain_due", False)
    monkeypatch.setattr(push, "MAX_RUNS", 2)
    monkeypatch.setattr(push, "_slots", {})
    push._run_later([("s1", (LINK, PICKED)), ("s2", (LINK,))], [("s3", (MAP_VIEW,)), ("lect", (COUNTS,))])
    assert started == [("lect", (COUNTS,)), ("s1", (LINK, PICKED))]
    assert later == [push._drain], "the others wait, looked at again shortly"
    push._run_later([("s4", (LINK,))], [])  # a drain is due already: no second one
    assert later == [push._drain]
    for sid in ("lect", "s1"):
        sessions[sid]._scriptrunner = None  # their runs ended
    later.clear()
    push._drain()
    assert started[2:] == [("s2", (LINK,)), ("s3", (MAP_VIEW,))]
    for sid in ("s2", "s3"):
        sessions[sid]._scriptrunner = None
    later.clear()
    push._drain()
    assert started[4:] == [("s4", (LINK,))] and later == [] and not push._waiting
    # a run that takes long (a page computing a UMAP map) holds its turn SLOT_S at most
    push._run_later([("s1", (LINK,)), ("s2", (LINK,))], [])
    assert started[5:] == [("s1", (LINK,))], "s4 still runs: one more at once"
    clock = push.time.monotonic()
    monkeypatch.setattr(push.time, "monotonic", lambda: clock + push.SLOT_S + 0.1)
    push._drain()
    assert started[6:] == [("s2", (LINK,))] and not push._waiting


def test_parts_whose_page_winds_down_wait_in_the_queue(pages, monkeypatch):
    """A page whose last run still winds down cannot be asked now: its parts go back in the queue, behind the
    others, and start at a later look."""
    sessions = {"s1": _Session(), "s2": _Session()}
    later = []
    loop = SimpleNamespace(call_later=lambda delay, f, *a: later.append(f))
    monkeypatch.setattr(push.Runtime, "instance", staticmethod(lambda: SimpleNamespace(
        get_app_session=sessions.get, _get_async_objs=lambda: SimpleNamespace(eventloop=loop))))
    winding, started = {"s1"}, []

    def rerun_parts(sid, keys) -> bool:
        if sid in winding:
            return False
        started.append(sid)
        return True

    monkeypatch.setattr(push, "_rerun_parts", rerun_parts)
    monkeypatch.setattr(push, "_waiting", push.deque())
    monkeypatch.setattr(push, "_drain_due", False)
    monkeypatch.setattr(push, "_slots", {})
    push._run_later([("s1", (LINK,)), ("s2", (LINK,))], [])
    assert started == ["s2"] and list(push._waiting) == [("s1", (LINK,), True)] and later == [push._drain]
    winding.clear()
    push._drain()
    assert started == ["s2", "s1"] and not push._waiting
