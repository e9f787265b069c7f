"""The generic player (dashboard/player.py) and Train's state object (dashboard/train/state.py), on a plain dict
standing in for st.session_state: no page run needed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.player import Player, SessionPosition, frames_due  # noqa: E402
from dashboard.train.state import TrainState  # noqa: E402


def player(store: dict, last: int = 3, first: int = 0) -> Player:
    return Player(SessionPosition("p_at", "p_playing", start=last, store=store), last, "p_slider", first=first,
                  store=store)


def test_play_at_the_end_starts_again_and_plays_to_the_end_then_stops():
    store: dict = {}
    p = player(store)
    assert (p.position.frame, p.position.playing) == (3, False)  # a new replay shows the trained model
    p.toggle()
    assert (p.position.frame, p.position.playing) == (0, True)
    assert [p.step() for _ in range(4)] == [True, True, True, False]
    assert (p.position.frame, p.position.playing) == (3, False)
    p.toggle()
    p.step()
    p.toggle()  # Pause keeps the frame
    assert (p.position.frame, p.position.playing) == (1, False)


def test_the_slider_writes_the_position_only_when_a_hand_moves_it():
    store: dict = {}
    seen = []
    p = player(store, last=11, first=1)  # the morph's frames count from 1
    store["p_slider"] = 5
    p._scrubbed(lambda: seen.append(p.position.frame))
    assert p.position.frame == 4 and seen == [4]
    p.position.frame = 99
    assert p.index == 11


def test_train_state_names_every_value_train_():
    store: dict = {}
    state = TrainState(store)
    state.job_id = "j1"
    state.save_msg = ("info", "x")
    assert store == {"train_job_id": "j1", "train_save_msg": ("info", "x")}
    state.drop("save_msg", "save_confirm")
    assert state.save_msg is None and state.key("stop") == "train_stop"
    sid = state.session_id()
    assert store["train_session_id"] == sid == state.session_id()
    with pytest.raises(AttributeError):
        state.not_a_value = 1


def test_stop_at_last_stops_as_the_last_frame_is_reached():
    store: dict = {}
    p = Player(SessionPosition("p_at", "p_playing", store=store), 2, "p_slider", stop_at_last=True, store=store)
    p.toggle()
    assert [p.step() for _ in range(2)] == [True, False]
    assert (p.position.frame, p.position.playing) == (2, False)


def test_a_speed_of_four_is_four_frames_a_second_by_the_clock_when_ticks_come_late():
    """4 frames a second: ticks every 0.55 s (drawing a frame took longer than the quarter second between
    ticks) still move 4 frames a second, skipping some; before, each tick moved one (1.8 a second)."""
    store: dict = {}
    p = Player(SessionPosition("p_at", "p_playing", start=0, store=store), 40, "p_slider", store=store)
    p.toggle()
    for k in range(5):  # ticks at 0, 0.55, ..., 2.2 s
        t = 0.55 * k
        p.step(frames_due(store, "p_clock", p.position.frame, 4.0, now=100.0 + t))
        assert p.position.frame == 1 + int(4 * t + 1e-9)
    assert p.position.frame == 9
    # ticks on time move one frame each; a new rate starts the clock again
    for k in range(1, 4):
        p.step(frames_due(store, "p_clock", p.position.frame, 4.0, now=102.2 + 0.25 * k))
    assert p.position.frame == 12
    p.step(frames_due(store, "p_clock", p.position.frame, 1.0, now=103.0))
    assert p.position.frame == 13 and store["p_clock"] == (103.0, 12, 1.0)
