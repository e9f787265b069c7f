"""Traversals: rows = dimensions (most informative first), columns = that dimension swept over [-3, 3] with the
others held at the ★ or at the last pick's μ (the figure of the β-VAE papers). Any latent dimension d."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis

from ... import views
from ...explain import explain
from .. import sampling
from ..context import ExploreContext
from ..section import PRESENTER_SHARE, Section
from ..state import TRAVERSAL_FROM

TRAVERSAL_STEPS = 9  # columns: -3, -2.25, ..., +3
MAX_ROWS = 10


def _summary(ctx: ExploreContext):
    """The model's LatentSummary, or None without a test set."""
    return ctx.model.analysis() if ctx.enc is not None else None


def held_code(ctx: ExploreContext) -> tuple[np.ndarray, str]:
    """The code the traversal holds the other dimensions at, and what it is (for the caption)."""
    enc, picks = ctx.enc, ctx.valid_picks()
    if ctx.state.trav_from == "pick" and picks:
        p = picks[-1]
        return enc.mu[p].astype(np.float32), f"μ of test image #{p} ({enc.class_names[int(enc.labels[p])]})"
    return ctx.star(), "the ★"


def traversal_images(model, z, dims, steps: int = TRAVERSAL_STEPS) -> np.ndarray:
    """float32 [len(dims), steps, 28, 28]: row r decodes z with z_dims[r] = -3 ... +3 (the prior's ±3σ)."""
    out = model.decode(analysis.traversal_latents(z, dims, n=steps))
    return out.reshape(len(dims), steps, *out.shape[1:])


LABEL_STYLE = "font-size:0.75rem;line-height:1.2"  # the column labels and their row's name, on one line
PRESENTER_LABEL_STYLE = "font-size:1rem;line-height:1.2"  # presenting: the type read from the back of the room


def value_text(v: float) -> str:
    return "0" if abs(v) < 1e-9 else f"{v:+g}".replace("-", "−")


def column_labels(values, cell: int, pad: int, style: str = LABEL_STYLE) -> str:
    """One label per column over the strip under it (cell px tiles, pad px apart): in shares of the strip's
    width, which a narrow column shrinks (a picture is never wider than its column: app.LAYOUT_CSS)."""
    spans = "".join(f'<span style="flex:1 1 0;min-width:0;text-align:center">{value_text(v)}</span>'
                    for v in values)
    width = len(values) * cell + (len(values) - 1) * pad
    return (f'<div style="display:flex;gap:{100 * pad / width:.2f}%;max-width:{width}px;white-space:nowrap;'
            f'{style}">{spans}</div>')


def render(ctx: ExploreContext) -> None:
    state, enc, d = ctx.state, ctx.enc, ctx.d
    summary = _summary(ctx)
    order = [int(j) for j in summary.order] if summary is not None else list(range(d))
    top = min(d, MAX_ROWS)
    c1, c2 = st.columns([1, 1], vertical_alignment="bottom")
    if top > 1:
        if not 1 <= int(state.trav_rows) <= top:  # a setting from a model with more dimensions
            state.trav_rows = min(top, max(1, int(state.trav_rows)))
        rows = int(c1.slider("Dimensions shown (most informative first)", 1, top, **state.bind("trav_rows")))
    else:
        rows = 1
    has_pick = enc is not None and any(0 <= p < len(enc.labels) for p in state.picks)
    c2.radio("Other dimensions held at", list(TRAVERSAL_FROM), format_func=TRAVERSAL_FROM.get, horizontal=True,
             **state.bind("trav_from"),
             help=None if has_pick else "Pick a test image (click a dot) to hold them at its μ.")
    sampling.toggle(ctx, "trav")
    z, what = held_code(ctx)
    if state.trav_from == "pick" and what == "the ★":
        st.caption("No test image is picked yet: the traversal holds the other dimensions at the ★.")
    dims = order[:rows]
    images = sampling.shown(ctx, traversal_images(ctx.model, z, dims), seed=0)
    values = np.linspace(-3.0, 3.0, TRAVERSAL_STEPS)
    scale = 2
    cell = 28 * scale
    left, right = st.columns([1, 6], vertical_alignment="bottom")
    style = PRESENTER_LABEL_STYLE if ctx.presenting else LABEL_STYLE
    left.markdown(f'<div style="{style}">z_j =</div>', unsafe_allow_html=True)
    right.markdown(column_labels(values, cell, pad=2, style=style), unsafe_allow_html=True)
    for r, j in enumerate(dims):
        left, right = st.columns([1, 6], vertical_alignment="center")
        kl = f"KL {summary.kl[j]:.2f}" if summary is not None else ""
        left.markdown(f"**z{j + 1}**  \n{kl}")
        strip = views.tile(images[r], ncols=TRAVERSAL_STEPS, pad=2, scale=scale)
        right.image(views.png_url(strip), width=strip.shape[1])
    st.caption(f"Each row sweeps one dimension z_j from -3 to +3 in {TRAVERSAL_STEPS} steps (the values over the "
               f"columns), every other dimension held at {what}; the decoder's {sampling.what(ctx, 0)}. Rows: the "
               f"dimensions with the largest KL first{'' if summary is not None else ' (no test set: in order)'}.")
    explain("traversals")


SECTION = Section("trav", "Traversals", render, follows_star=lambda state, d: True, follows_picks=True,
                  presenter_share=PRESENTER_SHARE)
