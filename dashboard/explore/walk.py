"""The Step by step tab's image and its computation (model/one_image.py): whose image it is, the walk with the
seeded ε, where z goes on the map, and the controls that change them (another ε, the step shown).

The image is your digit when there is one, else the last pick; with both, a choice (state.steps_of). ε's seed
(state.steps_seed) and, presenting, the steps shown (state.steps_at) are settings, in the link too (url.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ..model.one_image import Walk
from ..presenter import presenting
from .context import OWN_KEY, ExploreContext
from .fragments import LINK, MAP_VIEW, TABS
from .scene import Mark, plane_xy
from .state import STEPS, STEPS_OF

Z_COLOR = "#FF7F0E"  # the ring of z on the map: not a class colour's red or purple (the pick's, your digit's)
Z_STEP = 4  # the step that shows z: presenting, the map marks it from this step on


@dataclass(frozen=True)
class Shown:
    which: str  # "own" or "pick"
    what: str  # "test image #42 (7)", "your digit"
    walk: Walk
    choices: tuple[str, ...]  # the images there are to choose from


def choices(ctx: ExploreContext) -> tuple[str, ...]:
    """The images the tab can walk through, your digit first."""
    own = ctx.own_code() is not None
    return tuple(w for w, there in (("own", own), ("pick", bool(ctx.valid_picks()))) if there)


def current(ctx: ExploreContext) -> Shown | None:
    """The image walked through now and its walk, or None when there is neither a pick nor your digit."""
    can = choices(ctx)
    if not can:
        return None
    state = ctx.state
    which = state.steps_of if state.steps_of in can else can[0]
    seed = int(state.steps_seed)
    if which == "own":
        return Shown(which, "your digit", ctx.model.walk_pixels(st.session_state[OWN_KEY]["pixels"], seed), can)
    i = ctx.valid_picks()[-1]
    label = ctx.enc.class_names[int(ctx.enc.labels[i])]
    return Shown(which, f"test image #{i} ({label})", ctx.model.walk_test_image(i, seed), can)


def step_at(ctx: ExploreContext) -> int:
    """The last step shown: all of them, unless presenting (then one more at each → )."""
    return int(min(STEPS, max(1, int(ctx.state.steps_at)))) if presenting() else STEPS


def marks_for_scene(ctx: ExploreContext, plane) -> tuple[Mark, ...]:
    """z on the map (a ring labelled z; for d > 2 its projection on the map's plane) while this tab is open and,
    presenting, once its step is shown."""
    if ctx.state.section != "steps" or step_at(ctx) < Z_STEP:
        return ()
    shown = current(ctx)
    if shown is None:
        return ()
    x, y = plane_xy(shown.walk.z[None], ctx.d, plane)[0]
    return (Mark(float(x), float(y), "z", Z_COLOR, label_at="sw"),)


def _draw_another(ctx: ExploreContext) -> None:
    ctx.state.steps_seed = int(ctx.state.steps_seed) + 1
    st.rerun([MAP_VIEW, LINK, TABS])  # z moves on the map; the seed is in the link


def _step(ctx: ExploreContext, delta: int) -> None:
    state = ctx.state
    before = step_at(ctx)
    state.steps_at = int(min(STEPS, max(1, before + delta)))
    if (before >= Z_STEP) != (state.steps_at >= Z_STEP):
        st.rerun([MAP_VIEW, LINK, TABS])  # z appears on the map, or goes
    st.rerun([LINK, TABS])


def _chosen(ctx: ExploreContext) -> None:
    ctx.state.steps_of = st.session_state["explore_steps_of_widget"]
    st.rerun([MAP_VIEW, LINK, TABS])


def draw_button(ctx: ExploreContext) -> None:
    st.button("Draw another ε", icon=":material/casino:", key="explore_steps_draw", on_click=_draw_another,
              args=(ctx,), help="A new ε ~ N(0, I) (the next seed): a new z, x̂ and reconstruction term; the KL "
                                "does not depend on ε.")


def step_buttons(ctx: ExploreContext, prev_key: str, next_key: str) -> None:
    """‹ and › : the step shown, presenting (the lecture's → and ← press them first: session_keys.BUILD_*)."""
    at = step_at(ctx)
    c1, c2 = st.columns(2)
    c1.button("‹ Back", key=prev_key, on_click=_step, args=(ctx, -1), disabled=at <= 1, width="stretch",
              help="The previous step (←)")
    c2.button("Next ›", key=next_key, on_click=_step, args=(ctx, 1), disabled=at >= STEPS,
              width="stretch", help="The next step (→)")


def choice(ctx: ExploreContext, shown: Shown) -> None:
    """With both a pick and your digit: which one to walk through."""
    if len(shown.choices) < 2:
        return
    st.session_state["explore_steps_of_widget"] = shown.which
    st.radio("Image", shown.choices, format_func=STEPS_OF.get, horizontal=True, key="explore_steps_of_widget",
             on_change=_chosen, args=(ctx,), label_visibility="collapsed")


def vector_text(v: np.ndarray, digits: int = 3) -> str:
    """(0.123, -1.456): every coordinate, as the page prints it."""
    return "(" + ", ".join(f"{float(x):.{digits}f}" for x in v) + ")"
