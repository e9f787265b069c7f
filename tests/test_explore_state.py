"""Explore's state object and scene builder on their own: no Streamlit run, a dict as the session."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import views  # noqa: E402
from dashboard.explore.scene import background_extent, build_scene  # noqa: E402
from dashboard.explore.state import UNDO_LEVELS, ExploreState, clamp  # noqa: E402
from vae_core import analysis  # noqa: E402


class FakeEncodings:
    """Four test images at known places, two classes."""

    class_names = ("zero", "one")
    labels = np.array([0, 1, 0, 1])
    mu = np.array([[1.0, 2.0, 0.5], [-1.0, 0.5, 0.0], [3.0, -3.0, 1.0], [0.0, 0.0, 0.0]], np.float32)
    sigma = np.full((4, 3), 0.2, np.float32)
    xy = mu[:, :2].copy()


def test_clamp_keeps_values_finite_and_on_the_sliders_grid():
    assert clamp(1.234, 4) == 1.23 and clamp(-9, 4) == -4.0
    assert clamp(float("nan"), 4) == 0.0
    assert clamp(float("inf"), 4) == 4.0 and clamp(-1e308, 4) == -4.0


def test_settings_default_and_persist_in_the_session_dict():
    store: dict = {}
    state = ExploreState(store)
    assert state.map == "live" and state.section == "grid" and state.picks == []
    state.map, state.morph_steps = "plotly", 20
    again = ExploreState(store)  # a later run builds a new object over the same session
    assert (again.map, again.morph_steps) == ("plotly", 20)
    assert store["explore.map"] == "plotly"


def test_undo_walks_back_several_moves_and_picks():
    enc, state = FakeEncodings(), ExploreState({})
    state.z = [0.0, 0.0, 0.0]
    state.move_star([1.0, 1.0, 0.0], 4)
    state.pick(0, enc.mu[0], 4)
    state.move_star([2.5, -1.0, 0.0], 4)
    state.pick(2, enc.mu[2], 4)
    assert state.picks == [0, 2] and state.z == [3.0, -3.0, 1.0]
    assert state.undo_last() and (state.z, state.picks) == ([2.5, -1.0, 0.0], [0])
    assert state.undo_last() and (state.z, state.picks) == ([1.0, 2.0, 0.5], [0])
    assert state.undo_last() and (state.z, state.picks) == ([1.0, 1.0, 0.0], [])
    assert state.undo_last() and state.z == [0.0, 0.0, 0.0]
    assert not state.undo_last() and not state.can_undo()


def test_undo_keeps_a_bounded_history_and_ignores_non_moves():
    state = ExploreState({})
    state.z = [0.0, 0.0]
    state.move_star([0.0, 0.0], 4)  # not a move: nothing to undo
    assert not state.can_undo()
    for i in range(UNDO_LEVELS + 5):
        state.move_star([0.05 * (i + 1), 0.0], 4)
    assert len(state.undo) == UNDO_LEVELS


def _model(key: str, dataset: str, d: int):
    """What follow_model reads of a ModelHandle."""
    return SimpleNamespace(key=key, folder=f"/m/{key}", stamp=(1, 1), dataset=dataset, latent_dim=d)


def test_a_model_switch_clips_the_star_and_drops_picks_of_another_dataset_with_a_note():
    state = ExploreState({})
    state.follow_model(_model("a", "mnist", 3), 6.0)
    state.z, state.picks = [5.5, -2.0, 1.0], [3, 7]
    state.move_star([5.0, -2.0, 1.0], 6.0)
    state.follow_model(_model("b", "mnist", 2), 4.0)  # same dataset, smaller range, d = 2
    assert state.z == [4.0, -2.0] and state.picks == [3, 7]
    (note,) = state.take_notes()
    assert "(4.00, -2.00)" in note and "(5.00, -2.00)" in note, "the range moved the ★: said"
    assert not state.can_undo(), "the history belongs to the old model's codes"
    state.follow_model(_model("c", "fashion-mnist", 2), 4.0)
    assert state.picks == [] and state.z == [4.0, -2.0]
    (note,) = state.take_notes()
    assert "picks were dropped" in note and "fashion-mnist" in note and not state.notes


def test_a_view_set_by_python_bumps_its_rev_and_one_from_the_page_does_not():
    state = ExploreState({})
    assert state.view_of(4.0) == {"cx": 0.0, "cy": 0.0, "half": 4.0, "rev": 0}
    state.set_view(1.0, -0.5, 2.0, 4.0, bump=True)
    assert state.view_of(4.0) == {"cx": 1.0, "cy": -0.5, "half": 2.0, "rev": 1}
    state.set_view(1.5, -0.5, 1.0, 4.0, bump=False)  # the page zoomed: it already shows this
    assert state.view_of(4.0)["rev"] == 1
    state.set_view(0, 0, 1e308, 4.0, bump=True)
    assert state.view_of(4.0)["half"] == 8.0, "no wider than the widest view"


def test_the_scene_holds_what_both_maps_draw():
    enc = FakeEncodings()
    view = {"cx": 0.0, "cy": 0.0, "half": 4.0, "rev": 3}
    own = (np.array([0.5, -0.5, 0.0]), np.array([0.3, 0.4, 0.1]))
    scene = build_scene(enc=enc, d=3, z=[1.25, -0.5, 2.0], limit=4.0, view=view, picks=[1, 2, 99], own=own,
                        hidden=[1, 5], background_n=12)
    assert scene.star == (1.25, -0.5) and scene.z == (1.25, -0.5, 2.0)
    assert [(m.label, m.x, m.y) for m in scene.marks[:2]] == [("A", -1.0, 0.5), ("B", 3.0, -3.0)]
    assert scene.marks[2].shape == "diamond" and scene.marks[2].label == "yours"
    posterior, yours = scene.ellipses
    assert (posterior.x, posterior.y, posterior.sx, posterior.top) == (3.0, -3.0, np.float32(0.2), True)
    assert yours.dash and (yours.sx, yours.sy) == (0.3, 0.4)
    assert scene.focus == (3.0, -3.0), "centre on the last pick"
    assert scene.hidden == (1,), "class 5 does not exist"
    assert scene.background == (12, 4.0) and scene.view["rev"] == 3


def test_the_background_covers_a_panned_view():
    assert background_extent({"cx": 0.0, "cy": 0.0, "half": 4.0}, 4.0) == 4.0
    assert background_extent({"cx": 2.2, "cy": -1.0, "half": 1.0}, 4.0) == 3.5  # ceil(3.2 * 2) / 2


def test_the_plotly_map_is_sent_the_scene_and_its_points_once():
    import base64

    from dashboard.explore.maps.plotly import map_data

    class Model:
        key, folder, stamp = "k", "/nowhere", (0, 0)

    enc = FakeEncodings()
    view = {"cx": 1.0, "cy": -1.0, "half": 2.0, "rev": 2}
    scene = build_scene(enc=enc, d=2, z=[0.5, 0.25], limit=4.0, view=view, picks=[0], hidden=[1])
    state = ExploreState({})
    data, blobs = map_data(scene, Model, state, presenter=True, height=500)
    assert data["view"] == view, "the page applies Python's view when its rev changes"
    assert data["uirevision"] == "k" and data["classes"] == ["zero", "one"] and data["hidden"] == [1]
    assert data["star"] == [0.5, 0.25] and [m["label"] for m in data["marks"]] == ["A"]
    assert data["fontSize"] >= 16 and data["height"] == 500 and data["colors"][0] == views.CLASS_COLORS[0]
    (ellipse,) = data["ellipses"]
    assert math.isclose(ellipse["x"] - ellipse["sx"], 0.8, abs_tol=1e-6), "the pick's 1σ ellipse"
    points = blobs[data["points"]]()
    xy = np.frombuffer(base64.b64decode(points["xy"]), "<f4").reshape(-1, 2)
    assert np.array_equal(xy, enc.xy) and points["n"] == 4
    moved = build_scene(enc=enc, d=2, z=[1.5, 0.25], limit=4.0, view=view, picks=[0, 2])
    again, _ = map_data(moved, Model, state, presenter=False, height=500)
    assert again["points"] == data["points"], "the same points, the same key: the page keeps them"


def _plane_of(planes: dict):
    """follow_model's plane_of: the made-up Plane of each model folder (None: its map is (z1, z2))."""
    return lambda source, projection: planes.get(source[0])


def test_a_model_switch_keeps_the_stars_place_on_the_map():
    """The ★ goes to the new model's code that its map draws where the old map drew it: between a 2-D map and the
    plane of a 5-D model, both ways, and the map's readout (the projection) stays."""
    plane = analysis.principal_plane(np.random.default_rng(0).normal(size=(300, 5)) * [3.0, 2.0, 1.0, 0.5, 0.2])
    plane_of = _plane_of({"/m/five": plane})
    state = ExploreState({})
    state.follow_model(_model("two", "mnist", 2), 4.0, plane_of)
    state.move_star([1.5, -0.5], 4.0)
    state.follow_model(_model("five", "mnist", 5), 4.0, plane_of)
    assert len(state.z) == 5
    assert analysis.to_plane(np.array([state.z]), plane)[0] == pytest.approx([1.5, -0.5], abs=0.02), \
        "its projection onto the 5-D model's plane is the 2-D ★"
    state.move_star([0.3, 1.2, -0.4, 0.8, 0.1], 4.0)
    u, v = analysis.to_plane(np.array([state.z], np.float64), plane)[0]
    state.follow_model(_model("two-b", "mnist", 2), 4.0, plane_of)
    assert state.z == [round(u, 2), round(v, 2)] and not state.take_notes()


def test_a_model_switch_keeps_hidden_classes_by_name_and_says_what_it_showed_again():
    state = ExploreState({})
    state.follow_model(_model("a", "mnist", 2), 4.0)
    state.hidden = [1, 4]
    state.follow_model(_model("b", "mnist", 2), 4.0)  # the same classes
    assert state.hidden == [1, 4] and not state.take_notes()
    rev = state.hidden_rev
    state.follow_model(_model("c", "fashion-mnist", 2), 4.0)
    assert state.hidden == [], "no Fashion-MNIST class is called 1 or 4: not “Trouser” and “Coat” by index"
    assert state.hidden_rev == rev + 1, "the maps apply Python's hidden list only with a new rev"
    (note,) = state.take_notes()
    assert "1, 4" in note and "fashion-mnist" in note
    state.hidden = [1, 9]  # Trouser, Ankle boot
    state.follow_model(_model("d", "fashion-mnist", 2), 4.0)
    assert state.hidden == [1, 9]
