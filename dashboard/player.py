"""A player over numbered frames: Play / Pause and a frame slider, below the pages that use it.

The position is kept apart from the slider. While playing, a timer's request carries the value the browser's
slider showed when it was sent, which under load is a tick behind: read as the position, it would jump back (or
to the end, and stop). So the slider only writes the position when a hand moves it, and while playing a
disabled slider under another key shows the position and is never read.

Where the position lives is the page's (Position: plain session keys here, or a page's state object); how a
tick is timed is the page's too (a fragment's run_every), which calls step(). A tick comes late when drawing a
frame takes longer than its interval (a fragment's timer waits for the run before it): frames_due() says how
many frames a tick moves on so that a rate of n frames a second holds by the clock, skipping frames if it must.
"""

from __future__ import annotations

import math
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Protocol

import streamlit as st

from .session_values import seed_widget

PLAY_ICON, PAUSE_ICON = ":material/play_arrow:", ":material/pause:"


class Position(Protocol):
    """A player's frame (0-based) and whether it plays."""

    frame: int
    playing: bool


class SessionPosition:
    """A position in two plain session keys that no widget owns."""

    def __init__(self, frame_key: str, playing_key: str, start: int = 0, store: MutableMapping | None = None):
        self._ss = st.session_state if store is None else store
        self.frame_key, self.playing_key = frame_key, playing_key
        self._ss.setdefault(frame_key, start)

    @property
    def frame(self) -> int:
        return int(self._ss[self.frame_key])

    @frame.setter
    def frame(self, value: int) -> None:
        self._ss[self.frame_key] = int(value)

    @property
    def playing(self) -> bool:
        return bool(self._ss.get(self.playing_key))

    @playing.setter
    def playing(self, value: bool) -> None:
        self._ss[self.playing_key] = bool(value)


@dataclass(frozen=True)
class Player:
    """Frames 0..last at `position`; the slider counts from `first` (the morph's frames from 1)."""

    position: Position
    last: int
    slider_key: str  # the slider while paused
    playing_slider_key: str = ""  # the disabled slider while playing; default: slider_key + "_playing"
    first: int = 0
    stop_at_last: bool = False  # stop as the last frame is reached, not at the tick after it
    store: MutableMapping = field(default_factory=lambda: st.session_state, repr=False)

    @property
    def index(self) -> int:
        """The frame shown, inside 0..last."""
        return min(self.last, max(0, int(self.position.frame)))

    @property
    def at_end(self) -> bool:
        return self.position.frame >= self.last

    def toggle(self, then: Callable[[], None] | None = None) -> None:
        """Play or Pause (a button's callback); Play at the last frame starts again from the first."""
        if self.position.playing:
            self.position.playing = False
        else:
            if self.at_end:
                self.position.frame = 0
            self.position.playing = True
        if then is not None:
            then()

    def step(self, by: int = 1) -> bool:
        """One tick while playing: `by` frames on (at most to the last); at the last one, stop instead. False
        once it has stopped."""
        if self.at_end:
            self.position.playing = False
            return False
        self.position.frame = min(self.last, self.position.frame + max(1, int(by)))
        if self.stop_at_last and self.at_end:
            self.position.playing = False
        return bool(self.position.playing)

    def _scrubbed(self, then: Callable[[], None] | None) -> None:
        self.position.frame = int(self.store[self.slider_key]) - self.first
        if then is not None:
            then()

    def button(self, place, key: str, *, label: str | None = None, help: str | None = None,
               then: Callable[[], None] | None = None, **kwargs):
        """Play / Pause; label None: the words "Play" and "Pause" beside the icon. then: run after the toggle."""
        playing = self.position.playing
        text = ("Pause" if playing else "Play") if label is None else label
        return place.button(text, key=key, icon=PAUSE_ICON if playing else PLAY_ICON, on_click=self.toggle,
                            args=(then,), help=help, **kwargs)

    def slider(self, place, label: str, *, help: str, playing: bool | None = None,
               then: Callable[[], None] | None = None):
        """The frame slider: live while paused (a move sets the position, then `then`), disabled while playing."""
        playing = self.position.playing if playing is None else playing
        shown = self.index + self.first
        lo, hi = self.first, self.last + self.first
        if playing:
            # Another key, no callback, disabled: what the browser sends back for it is never read.
            key = self.playing_slider_key or f"{self.slider_key}_playing"
            seed_widget(self.store, key, shown)
            return place.slider(label, lo, hi, key=key, disabled=True, help="Pause to scrub.")
        seed_widget(self.store, self.slider_key, shown)
        return place.slider(label, lo, hi, key=self.slider_key, on_change=self._scrubbed, args=(then,), help=help)


def frames_due(store: MutableMapping, key: str, frame: int, rate: float, now: float) -> int:
    """How many frames this tick moves on, so that playing shows `rate` frames a second by the clock however late
    the ticks come. The first tick of a play (or one after a change of rate) moves one frame and starts the clock,
    kept in store[key] as (its time, its frame, rate); each later tick moves to where the clock has got to, at
    least one frame. Drop store[key] on a pause."""
    clock = store.get(key)
    if clock is None or clock[2] != rate or frame < clock[1]:
        store[key] = (now, frame, rate)
        return 1
    t0, f0, _ = clock
    return max(1, f0 + 1 + math.floor((now - t0) * rate + 1e-9) - frame)
