"""Explore's settings survive a visit to Train, live in the URL, and a link restores them (AppTest)."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_explore_app import APP, at, checkpoints, pick, plane_data, scatter_charts, select_model  # noqa: F401

from apptest_helpers import send_event
from dashboard_apptest import move_star, plane_elements, scatter_spec, star_z, use_map, whole_page


def fresh(checkpoints, monkeypatch, query: dict) -> AppTest:
    """A new session (a fresh browser) opening the app with this query string."""
    pre, mine = checkpoints
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    app = AppTest.from_file(APP, default_timeout=60)
    app.checkpoint_roots = (pre, mine)
    app.query_params.update(query)
    app.run()
    assert not app.exception, app.exception
    return app


def settings(app) -> dict:
    ss = app.session_state
    keys = ("z", "view", "bg", "map", "section", "picks", "morph_ends", "morph_mode", "morph_steps", "grid_n",
            "prior_seed", "dn_level", "hidden")
    return {k: ss.get(f"explore.{k}") for k in keys}


def open_tab(app, label: str):
    app.session_state["app_tab"] = label
    app.run()
    assert not app.exception, app.exception
    return app


def test_a_visit_to_train_keeps_every_explore_setting(at):
    pick(at, 7)
    pick(at, 42)
    move_star(at, (0, 1.5))
    send_event(at, "explore_plane", "view", {"cx": 0.5, "cy": -0.25, "half": 2.5})  # a zoom on the map
    whole_page(at).toggle(key="explore_bg").set_value(True).run()
    use_map(at, "plotly")
    at.session_state["explore.section"] = "morph"
    at.run()
    at.selectbox(key="explore_morph_ends").set_value("star-pick").run()
    at.radio(key="explore_morph_mode").set_value("slerp").run()
    at.slider(key="explore_morph_steps").set_value(20).run()
    assert not at.exception
    before = settings(at)
    assert before["z"][0] == 1.5 and before["view"]["half"] == 2.5 and before["picks"] == [7, 42]
    open_tab(at, "Train")
    assert not [s for s in at.slider if s.key and s.key.startswith("explore_")], "Explore is not drawn"
    open_tab(at, "Explore")
    assert settings(at) == before
    # ...and the widgets show them again, not their defaults
    assert at.slider(key="explore_z0").value == 1.5 and scatter_spec(at)["view"]["half"] == 2.5
    assert at.toggle(key="explore_bg").value is True
    assert at.segmented_control(key="explore_map").value == "plotly" and scatter_charts(at)
    assert at.selectbox(key="explore_morph_ends").value == "star-pick"
    assert at.radio(key="explore_morph_mode").value == "slerp" and at.slider(key="explore_morph_steps").value == 20


def test_the_url_follows_the_settings(at):
    assert dict(at.query_params) == {"m": "pretrained/mnist-mlp"}, "defaults are left out"
    pick(at, 7)
    move_star(at, (1, -1.25))
    whole_page(at).segmented_control(key="explore_map").set_value("plotly").run()
    at.session_state["explore.section"] = "morph"
    at.run()
    q = dict(at.query_params)
    z = at.session_state["explore.z"]
    assert q["z"] == f"{z[0]:g},-1.25" and q["p"] == "7" and q["map"] == "plotly" and q["sub"] == "morph"
    open_tab(at, "Train")
    assert at.query_params["tab"] == "train" and at.query_params["p"] == "7", "kept while Train is open"
    at.toggle(key="presenter").set_value(True).run()
    at.toggle(key="show_explanations").set_value(False).run()
    assert (at.query_params["pr"], at.query_params["ex"]) == ("1", "0")


def test_a_link_opened_in_a_new_session_shows_the_same_view(checkpoints, monkeypatch):
    query = {"m": "models/three-d", "z": "1.5,-0.75,0.25", "v": "0.5,-0.5,2", "map": "plotly", "bg": "1",
             "sub": "morph", "p": "7,42", "me": "1", "mm": "slerp", "ms": "16", "pr": "1", "ex": "0"}
    app = fresh(checkpoints, monkeypatch, query)
    assert not app.info, [i.value for i in app.info]
    assert app.selectbox(key="model_choice").value.endswith("/models/three-d")
    assert [app.slider(key=f"explore_z{i}").value for i in range(3)] == [1.5, -0.75, 0.25]
    s = settings(app)
    assert (s["view"]["cx"], s["view"]["cy"], s["view"]["half"]) == (0.5, -0.5, 2.0)
    assert s["picks"] == [7, 42] and s["map"] == "plotly" and s["bg"] is True and s["section"] == "morph"
    assert (s["morph_ends"], s["morph_mode"], s["morph_steps"]) == ("star-pick", "slerp", 16)
    assert app.session_state["presenter"] is True and app.session_state["show_explanations"] is False
    assert dict(app.query_params) == query, "the URL is written back unchanged"


def test_a_link_to_the_train_tab_opens_it(checkpoints, monkeypatch):
    app = fresh(checkpoints, monkeypatch, {"tab": "train", "p": "3"})
    assert app.session_state["app_tab"] == "Train"
    open_tab(app, "Explore")
    assert app.session_state["explore.picks"] == [3], "Explore's part of the link waits until Explore opens"


@pytest.mark.parametrize("query, refused", [
    ({"m": "pretrained/no-such-model"}, "model"),
    ({"z": "nan,1"}, "z"),
    ({"z": "1e308,0"}, "z"),
    ({"z": "1,2,3"}, "z"),  # the default model has d = 2
    ({"z": "garbage"}, "z"),
    ({"p": "1000000000"}, "p"),
    ({"p": "1.5"}, "p"),
    ({"v": "0,0,0"}, "v"),
    ({"v": "0,0,inf"}, "v"),
    ({"sub": "nope"}, "sub"),
    ({"map": "3d"}, "map"),
    ({"ms": "999"}, "ms"),
    ({"pr": "yes"}, "pr"),
    ({"tab": "admin"}, "tab"),
    ({"zz": "1"}, "zz"),
])
def test_a_bad_link_parameter_is_ignored_with_a_note(checkpoints, monkeypatch, query, refused):
    app = fresh(checkpoints, monkeypatch, query)
    assert not app.error and not app.exception
    notes = " ".join(i.value for i in app.info)
    assert refused in notes, notes
    assert "/tmp" not in notes and "Traceback" not in notes
    data = plane_data(app)
    assert data["z"] == [0.0, 0.0] and data["view"]["half"] == data["limit"], "the default view instead"
    assert app.selectbox(key="model_choice").value.endswith("/pretrained/mnist-mlp")


def test_the_copy_link_control_shows_the_full_address(at):
    pick(at, 7)
    (code,) = [c for c in at.code if "p=7" in c.value]
    assert code.value.startswith("http") and "m=pretrained%2Fmnist-mlp" in code.value


def test_the_undo_button_steps_back_through_moves_and_picks(at):
    assert at.button(key="explore_undo").disabled
    pick(at, 7)
    z7 = at.session_state["explore.z"]
    move_star(at, (0, 2.0))
    pick(at, 42)
    assert at.session_state["explore.picks"] == [7, 42] and plane_data(at)["undoable"] is True
    whole_page(at).button(key="explore_undo").click().run()
    assert at.session_state["explore.picks"] == [7] and star_z(at)[0] == 2.0
    whole_page(at).button(key="explore_undo").click().run()
    assert at.session_state["explore.z"] == z7
    whole_page(at).button(key="explore_undo").click().run()
    assert at.session_state["explore.picks"] == [] and at.session_state["explore.z"] == [0.0, 0.0]
    assert whole_page(at).button(key="explore_undo").disabled and plane_data(at)["undoable"] is False


def test_a_release_sets_every_dimension(at):
    select_model(at, "three-d")
    send_event(at, "explore_plane", "release", {"z": [1.0, -2.0, 0.5]})
    assert star_z(at) == [1.0, -2.0, 0.5]
    send_event(at, "explore_plane", "release", {"z": [0.25, 0.75]})  # a page that sends only the plane's two
    assert star_z(at) == [0.25, 0.75, 0.5]


def test_the_plane_is_told_the_view_and_the_focus(at):
    data = plane_data(at)
    assert data["view"] == {"cx": 0.0, "cy": 0.0, "half": data["limit"], "rev": 0} and data["focus"] is None
    send_event(at, "explore_plane", "view", {"cx": 1.0, "cy": 0.0, "half": 2.0})
    data = plane_data(at)
    assert data["view"] == {"cx": 1.0, "cy": 0.0, "half": 2.0, "rev": 0}, "the page's own zoom: no new rev"
    whole_page(at).button(key="explore_reset_view").click().run()
    data = plane_data(at)
    assert data["view"] == {"cx": 0.0, "cy": 0.0, "half": data["limit"], "rev": 1}, "Python moved it: a new rev"
    pick(at, 7)
    assert plane_data(at)["focus"] == [pytest.approx(p, abs=0.006) for p in at.session_state["explore.z"]]
    whole_page(at).button(key="explore_reset_view").click().run()
    data = plane_data(at)
    assert data["view"]["half"] == data["limit"] and data["view"]["rev"] == 2 and data["home"]["half"] == data["limit"]


def test_the_page_s_zoom_legend_and_undo_reach_the_state(at):
    pick(at, 7)
    send_event(at, "explore_plane", "view", {"cx": 1.0, "cy": 0.5, "half": 1.5})
    view = at.session_state["explore.view"]
    assert (view["cx"], view["cy"], view["half"], view["rev"]) == (1.0, 0.5, 1.5, 0), "stored, rev unchanged"
    assert at.query_params["v"] == "1,0.5,1.5"
    send_event(at, "explore_plane", "legend", {"hidden": [3, 99, "x"]})
    assert at.session_state["explore.hidden"] == [3]
    send_event(at, "explore_plane", "undo", {})
    assert at.session_state["explore.picks"] == []


def _ring_url() -> str:
    import base64
    import io

    from PIL import Image

    yy, xx = np.mgrid[:280, :280]
    img = ((np.abs(np.hypot(yy - 140, xx - 120) - 70) <= 12) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_a_link_reopens_the_hidden_classes_and_the_drawn_digit(at, checkpoints, monkeypatch):
    """Round trip: what the first session shows (hidden classes, your digit ◆ where the model puts it, the morph
    from it) the link's new session shows exactly."""
    send_event(at, "explore_plane", "legend", {"hidden": [1, 7]})
    send_event(at, "explore_draw", "drawn", _ring_url())
    at.session_state["explore.section"] = "morph"
    at.run()
    at.selectbox(key="explore_morph_ends").set_value("own-star").run()
    whole_page(at)
    query = dict(at.query_params)
    assert query["hc"] == "1,7" and query["me"] == "2" and query["dg"]
    assert len(query["dg"]) < 1500, "a short address"
    first = plane_data(at)
    app = fresh(checkpoints, monkeypatch, query)
    assert not app.info, [i.value for i in app.info]
    again = plane_data(app)
    assert again["hidden"] == [1, 7], "the page applies it: a mount applies any hiddenRev"
    assert np.array_equal(app.session_state["explore_own"]["pixels"], at.session_state["explore_own"]["pixels"]), \
        "the very digit, not an approximation"
    assert [m for m in again["marks"] if m["label"] == "yours"] == [m for m in first["marks"] if m["label"] == "yours"]
    assert again["path"] == first["path"], "the same morph, from your digit"
    assert dict(app.query_params) == query, "the URL is written back unchanged"


def test_a_link_without_the_digit_leaves_out_what_needs_it(at):
    at.session_state["explore.section"] = "morph"
    at.run()
    at.selectbox(key="explore_morph_ends").set_value("own-star").run()
    whole_page(at)
    assert "me" not in at.query_params and "dg" not in at.query_params, "no digit: the link would open another view"


@pytest.mark.parametrize("dg", ["!!!", "eJw", "A" * 1600, "eJzLSM3JyQcABiwCFQ"])  # junk, cut, too long, "hello"
def test_a_bad_digit_in_a_link_is_one_clear_note(checkpoints, monkeypatch, dg):
    app = fresh(checkpoints, monkeypatch, {"dg": dg, "hc": "3"})
    notes = [i.value for i in app.info]
    assert notes == ["The link's drawn digit (“dg”) could not be read; it was left out."], notes
    assert "explore_own" not in app.session_state and plane_data(app)["hidden"] == [3]


@pytest.mark.parametrize("hc", ["10", "1,x", "-1", "1,,2"])
def test_hidden_classes_in_a_link_must_be_labels_of_the_model(checkpoints, monkeypatch, hc):
    app = fresh(checkpoints, monkeypatch, {"hc": hc})
    assert any("hc" in i.value for i in app.info) and plane_data(app)["hidden"] == []


def test_an_undo_after_a_release_the_page_shows_sends_the_map_again_with_a_new_z_rev(at):
    """The page takes Python's ★ at a new zRev: an undo back to the ★ the map was last sent with must still reach
    it (the same data twice is not drawn again by the page), and a release Streamlit replays is not taken twice."""
    send_event(at, "explore_plane", "release", {"z": [3.5, 3.5], "seq": 1})
    first = plane_data(at)  # Undo came alive: the map was sent, with the ★ at the click
    assert first["z"] == [3.5, 3.5] and first["ack"] == 1
    send_event(at, "explore_plane", "release", {"z": [3.3, 3.4], "seq": 2})  # the arrow keys' pause
    assert not plane_elements(at), "the page shows that ★ already: the map is not sent"
    send_event(at, "explore_plane", "undo", {})
    again = plane_data(at)
    assert again["z"] == first["z"] and again["zRev"] > first["zRev"] and again["ack"] == 2
    assert at.query_params["z"] == "3.5,3.5"
    send_event(at, "explore_plane", "release", {"z": [3.3, 3.4], "seq": 2})  # replayed with a later event
    assert star_z(at) == [3.5, 3.5], "seq 2 was taken already"


def test_an_undo_carrying_the_release_streamlit_dropped_takes_back_that_move(at):
    """Of two events of the plane waiting for one run Streamlit keeps the newer: an undo sent while the keys'
    release was on its way carries that release, and takes back the keys' move, not the click before it."""
    send_event(at, "explore_plane", "release", {"z": [3.5, 3.5], "seq": 1})  # the click
    send_event(at, "explore_plane", "undo", {"release": {"z": [3.3, 3.4], "seq": 2}})  # the keys' own: dropped
    assert star_z(at) == [3.5, 3.5] and plane_data(at)["ack"] == 2 and at.query_params["z"] == "3.5,3.5"
    send_event(at, "explore_plane", "release", {"z": [3.3, 3.4], "seq": 2})  # had it come after all
    assert star_z(at) == [3.5, 3.5], "seq 2 was taken already"
    send_event(at, "explore_plane", "undo", {"release": {"z": [3.3, 3.4], "seq": 2}})  # one Python has: an undo
    assert star_z(at) == [0.0, 0.0]


def test_the_address_is_written_again_when_the_servers_copy_was_taken_back(at):
    """A run preempted by another interaction has its query string taken back on the server's side after the
    browser got it: the next write must not trust that copy (the address would keep the preempted ★)."""
    from dashboard.explore import url

    move_star(at, (0, 1.5))
    assert at.query_params["z"] == "1.5,0"
    whole_page(at)
    assert at.session_state[url.WRITTEN]["z"] == "1.5,0"
    at.session_state[url.WRITTEN] = {**at.session_state[url.WRITTEN], "z": "9,9"}  # what the browser was sent
    send_event(at, "explore_plane", "release", {"z": [1.5, 0.0]})  # nothing changes: only the link reruns
    assert at.session_state[url.WRITTEN]["z"] == "1.5,0", "written again"
    assert at.query_params["z"] == "1.5,0"
