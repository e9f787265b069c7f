"""The morph: its two ends, its path z(t) through latent space (drawn on the map), and the player.

The player (dashboard/player.py, over state.morph_frame and state.morph_playing) shows one frame at a time with
Play / Pause and a frame slider; the frame under the slider is marked on the map's path (scene.build_scene's
`path_frame`). Playing is a fragment that reruns every TICK_S while state.morph_playing is set: each tick moves
to the next frame and reruns the page, so the map's mark and the frame shown move together; at the last frame
it stops.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import streamlit as st
import torch

from vae_core.model import interpolate_latents

from .. import views
from ..player import Player
from . import sampling
from .context import ExploreContext
from .fragments import rerun_map_and_tabs
from .state import MORPH_ENDS_WITH_OWN, ExploreState

ss = st.session_state
TICK_S = 0.35  # s between two frames while playing (each is a page run: keep it above a run's time)
TICK_KEY = "explore_morph_last_tick"
PRESENTER_FRAME = 224  # px (8 a pixel): the player, the frame and its caption fit under the tabs at 720 px
MIN_LENGTH = 0.05  # ends nearer than this decode to the same picture: the morph is refused with a hint
SAME_ENDS = {  # what to do when the ends coincide, by the ends chosen
    "picks": "The two picks' codes are nearly the same point, so every frame would be the same image: "
                   "pick another point.",
    "star-pick": "The ★ sits on the pick, so every frame would be the same image: move the ★ (drag it, or "
                   "use the sliders) or pick another point.",
    "own-star": "The ★ sits on your digit, so every frame would be the same image: move the ★ away from it.",
    "own-pick": "Your digit lands on the pick, so every frame would be the same image: pick another point.",
}


def ends(ctx: ExploreContext):
    """(z0, z1, what) for the chosen ends, or (None, None, why not / what to do)."""
    state, enc = ctx.state, ctx.enc
    picks = ctx.valid_picks()
    own = ctx.own_code()
    choice = state.morph_ends
    star = ctx.star()
    if choice in MORPH_ENDS_WITH_OWN and own is None:
        return None, None, "Draw or upload a digit (under the map): the morph starts from its code μ."
    if choice == "picks":
        if len(picks) < 2:
            return None, None, f"Pick two points on the map (or by number) to morph between them; {len(picks)} so far."
        z0, z1, what = enc.mu[picks[0]], enc.mu[picks[1]], f"test image #{picks[0]} → #{picks[1]}"
    elif choice == "own-star":
        z0, z1, what = own[0], star, "your digit → ★"
    elif not picks:
        return None, None, "Pick a point on the map (or by number): the morph runs to it."
    elif choice == "star-pick":
        z0, z1, what = star, enc.mu[picks[-1]], f"★ → test image #{picks[-1]}"
    else:
        z0, z1, what = own[0], enc.mu[picks[-1]], f"your digit → test image #{picks[-1]}"
    # |z1 - z0| < MIN_LENGTH: the ★ snaps to two decimals, so "on the pick" is a few thousandths away, not 0
    if float(np.linalg.norm(np.asarray(z1, np.float64) - np.asarray(z0, np.float64))) < MIN_LENGTH:
        return None, None, SAME_ENDS.get(choice, SAME_ENDS["picks"])
    return z0, z1, what


def steps_of(state: ExploreState) -> int:
    return int(min(32, max(8, int(state.morph_steps))))


def path(z0, z1, steps: int, mode: str) -> np.ndarray:
    """The codes of the morph's frames [steps, d] (vae_core's interpolate_latents: linear or slerp)."""
    t0, t1 = (torch.as_tensor(np.asarray(z, np.float32)) for z in (z0, z1))
    return interpolate_latents(t0, t1, steps, mode if mode in ("linear", "slerp") else "linear").numpy()


class MorphPosition:
    """The player's position in two of Explore's settings (morph_frame, morph_playing), which the link shares."""

    def __init__(self, state: ExploreState):
        self.state = state

    @property
    def frame(self) -> int:
        return int(self.state.morph_frame)

    @frame.setter
    def frame(self, value: int) -> None:
        self.state.morph_frame = int(value)

    @property
    def playing(self) -> bool:
        return bool(self.state.morph_playing)

    @playing.setter
    def playing(self, value: bool) -> None:
        self.state.morph_playing = bool(value)


def player_of(state: ExploreState, n: int) -> Player:
    """The morph's n frames, counted from 1 on the slider; a tick reruns the page, so it stops on the last frame
    at once (the Play button and the last frame drawn together)."""
    return Player(MorphPosition(state), n - 1, "explore_morph_frame_widget", "explore_morph_frame_playing",
                  first=1, stop_at_last=True)


def path_for_scene(ctx: ExploreContext):
    """(the path [n, d], the marked frame) while the Morph tab is open with valid ends, else (None, None)."""
    state = ctx.state
    if state.section != "morph":
        state.morph_playing = False  # the player is not on the page: it must not go on when it comes back
        return None, None
    z0, z1, _ = ends(ctx)
    if z0 is None:
        return None, None
    n = steps_of(state)
    return path(z0, z1, n, state.morph_mode), player_of(state, n).index


def _mark_tick() -> None:
    ss[TICK_KEY] = time.monotonic()  # the run that draws the Pause button is not a tick


def _scrubbed(state: ExploreState) -> None:
    state.morph_playing = False  # a hand on the slider stops the play
    rerun_map_and_tabs()  # the map rings the frame shown


def _tick(frames: Player) -> None:
    """Runs every TICK_S while playing: the page's own run draws the frame, a later (timed) run advances it."""
    if not frames.position.playing:
        return
    now = time.monotonic()
    if now - ss.get(TICK_KEY, 0.0) < TICK_S:  # the page run right after a tick (or the Play click)
        return
    ss[TICK_KEY] = now
    frames.step()
    st.rerun()  # the whole page: the frame, the slider and the mark on the map's path


def player(ctx: ExploreContext, z0, z1, what: str) -> None:
    """The frame under the slider, Play / Pause and the slider; the strip and the downloads when not presenting."""
    state, presenting = ctx.state, ctx.presenting
    n, mode = steps_of(state), state.morph_mode
    ends_key = [tuple(round(float(v), 6) for v in np.ravel(z)) for z in (z0, z1)]
    media = sampling.morph_media(ctx, ctx.model.morph_media(*ends_key, n, mode))
    frames = player_of(state, n)
    i = frames.index
    if presenting:  # Play and the slider first: under the frame they fell below a 720-px projector's edge
        _controls(state, frames)
        st.image(media.frame_url(i), width=PRESENTER_FRAME, caption=what)  # the settings above say the rest
        return
    caption = f"{what}, {mode}, {n} steps · frame {i + 1} of {n}"
    c1, c2 = st.columns([1, 2])
    with c1:
        st.image(media.frame_url(i), width=views.DISPLAY_SIZE, caption=caption)
        _controls(state, frames)
    c2.image(media.strip_shown, width="stretch" if media.strip_width > 560 else media.strip_width,
             caption="the same path, frame by frame (left to right, top to bottom)")
    downloads = st.container(horizontal=True)  # one block, not a row of three columns
    # data=callable: encoded when the button is clicked, not at every run of every student's page
    downloads.download_button("Download GIF", media.gif, file_name="morph.gif", mime="image/gif",
                              on_click="ignore", key="explore_morph_gif")
    downloads.download_button("Download strip (PNG)", media.strip_download, file_name="morph.png",
                              mime="image/png", on_click="ignore", key="explore_morph_png")


def _controls(state: ExploreState, frames: Player) -> None:
    """Play / Pause and the frame slider (dashboard/player.py); while playing, the timer that moves the frame."""
    playing = frames.position.playing
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    frames.button(c1, "explore_morph_play", label="", help="Pause" if playing else "Play the morph",
                  then=_mark_tick, use_container_width=True)
    frames.slider(c2, "Frame", help="The frame shown; the map marks it on the path.", playing=playing,
                  then=partial(_scrubbed, state))
    if playing:
        st.fragment(run_every=TICK_S)(_tick)(frames)
