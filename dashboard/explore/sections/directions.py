"""Directions: a line through the latent space with a meaning, from one group of codes to another
(vae_core.attributes), and the ★ moved along it.

v = mean code of group B - mean code of group A: two classes, or the test images above and below the median of a
property measured on their pixels (ink, slant). The slider moves the ★ by (t - t_before) v from where it is (the
map decodes it there); the strip decodes ★ + t v for t from -2 to +2 and measures the property on each decode.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import attributes

from ... import views
from ...explain import explain
from .. import sampling
from ..context import ExploreContext
from ..fragments import rerun_map_and_tabs
from ..section import PRESENTER_SHARE, Section
from ..state import DIRECTION_KINDS, DIRECTION_T
from .traversals import column_labels

STRIP_TS = tuple(np.linspace(-DIRECTION_T, DIRECTION_T, 9))
ss = st.session_state


def direction_of(ctx: ExploreContext) -> tuple[np.ndarray, str]:
    """(v, what it is, for the caption) for the settings in use."""
    state, names = ctx.state, ctx.enc.class_names
    if state.dir_kind == "class":
        a, b = int(state.dir_from), int(state.dir_to)
        return ctx.model.attribute_direction("class", a, b), f"the mean code of the {names[b]}s − that of the " \
                                                             f"{names[a]}s"
    what = {"ink": "ink (mean pixel value)", "slant": "slant"}[state.dir_kind]
    return (ctx.model.attribute_direction(state.dir_kind),
            f"the mean code of the test images with more {what} than the median − of those with less")


def _moved(ctx: ExploreContext) -> None:
    """The slider: the ★ moves by (t - t_before) v from where it is now."""
    state = ctx.state
    t, before = float(ss["explore_dir_t"]), float(state.dir_t)
    v, _ = direction_of(ctx)
    z = ctx.star().astype(np.float64) + (t - before) * v
    state.dir_t = t
    state.move_star(list(z), ctx.lim)
    rerun_map_and_tabs()  # the map shows the ★, this tab decodes from it


def render(ctx: ExploreContext) -> None:
    state, enc = ctx.state, ctx.enc
    names = list(enc.class_names)
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    c1.selectbox("Direction", list(DIRECTION_KINDS), format_func=DIRECTION_KINDS.get, **state.bind("dir_kind"))
    if state.dir_kind == "class":
        for col, name, title in ((c2, "dir_from", "A"), (c3, "dir_to", "B")):
            if not 0 <= int(getattr(state, name)) < len(names):
                setattr(state, name, 0)
            col.selectbox(title, list(range(len(names))), format_func=lambda i: names[i], **state.bind(name))
        if state.dir_from == state.dir_to:
            st.info("Choose two different classes.")
            return
    v, what = direction_of(ctx)
    ss["explore_dir_t"] = float(state.dir_t)
    st.slider("Move the ★ along it: t", -DIRECTION_T, DIRECTION_T, step=0.1, format="%.1f", key="explore_dir_t",
              on_change=_moved, args=(ctx,),
              help="Each step moves the ★ by (new t − old t) · v from where it is; the map decodes it there.")
    sampling.toggle(ctx, "dir")
    z = ctx.star().astype(np.float64)
    codes = attributes.along(z, v, STRIP_TS)
    decoded = ctx.model.decode(codes)
    images = sampling.shown(ctx, decoded, seed=0)
    cell, pad = 56, 2
    style = "font-size:1rem;line-height:1.2" if ctx.presenting else "font-size:0.75rem;line-height:1.2"
    st.markdown(column_labels(STRIP_TS, cell, pad, style=style), unsafe_allow_html=True)
    strip = views.tile(images, ncols=len(STRIP_TS), pad=pad, scale=2)
    st.image(views.png_url(strip), width=strip.shape[1] if not ctx.presenting else "stretch")
    measured = "" if state.dir_kind == "class" else (
        f" Its {state.dir_kind} on each decode (of the mean E[x|z]): " + ", ".join(
            f"{x:.2f}" for x in attributes.measure(state.dir_kind, decoded)) + ".")
    st.caption(f"v = {what} (|v| = {np.linalg.norm(v):.2f}). The strip decodes ★ + t·v for t from −2 to +2 "
               f"(the labels): the decoder's {sampling.what(ctx, 0)}; t = 1 moves as far as one group's mean code "
               f"is from the other's.{measured}")
    if state.dir_kind != "class" and not ctx.presenting:
        st.caption(f"On every shipped model, the decodes' {state.dir_kind} rises along v on average "
                   f"(measured over 200 test codes); from one ★ it may not rise at every step.")
    explain("directions")


SECTION = Section("dir", "Directions", render, needs_test_set=True, follows_star=lambda state, d: True,
                  presenter_share=PRESENTER_SHARE)
