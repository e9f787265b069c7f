"""Two sub-tabs about the latent dimensions one at a time, for a model of any latent dimension d.

    Traversals   rows = dimensions (most informative first), columns = that dimension swept over [-3, 3] with
                 the others held at the ★ or at the last pick's μ (the figure of the β-VAE papers)
    Dimensions   the mean KL per dimension over the test set, the active units (Burda et al. 2016) and what
                 they say about posterior collapse

Both read the model's analysis (ModelHandle.analysis, computed once per model) and register in RENDERERS like sections.py.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis
from vae_core.analysis import ACTIVE_THRESHOLD

from .. import views
from ..explain import explain
from .context import ExploreContext
from .figures import kl_figure
from .state import TRAVERSAL_FROM

TRAVERSAL_STEPS = 9  # columns: -3, -2.25, ..., +3
MAX_ROWS = 10


def _summary(ctx: ExploreContext):
    """The model's LatentSummary, or None without a test set."""
    return ctx.model.analysis() if ctx.enc is not None else None


def plane_axes(key) -> tuple[str, str]:
    return ("PC1", "PC2") if key == "pca" else (f"z{key[0] + 1}", f"z{key[1] + 1}")


def held_code(ctx: ExploreContext) -> tuple[np.ndarray, str]:
    """The code the traversal holds the other dimensions at, and what it is (for the caption)."""
    enc, picks = ctx.enc, ctx.valid_picks()
    if ctx.state.trav_from == TRAVERSAL_FROM[1] and picks:
        p = picks[-1]
        return enc.mu[p].astype(np.float32), f"μ of test image #{p} ({enc.class_names[int(enc.labels[p])]})"
    return ctx.star(), "the ★"


def traversal_images(model, z, dims, steps: int = TRAVERSAL_STEPS) -> np.ndarray:
    """float32 [len(dims), steps, 28, 28]: row r decodes z with z_dims[r] = -3 ... +3 (the prior's ±3σ)."""
    out = model.decode(analysis.traversal_latents(z, dims, n=steps))
    return out.reshape(len(dims), steps, *out.shape[1:])


def traversals_section(ctx: ExploreContext) -> None:
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
    c2.radio("Other dimensions held at", TRAVERSAL_FROM, horizontal=True, **state.bind("trav_from"),
             help=None if has_pick else "Pick a test image (click a dot) to hold them at its μ.")
    z, what = held_code(ctx)
    if state.trav_from == TRAVERSAL_FROM[1] and what == "the ★":
        st.caption("No test image is picked yet: the traversal holds the other dimensions at the ★.")
    dims = order[:rows]
    images = traversal_images(ctx.model, z, dims)
    values = np.linspace(-3.0, 3.0, TRAVERSAL_STEPS)
    scale = 2
    for r, j in enumerate(dims):
        left, right = st.columns([1, 6], vertical_alignment="center")
        kl = f"KL {summary.kl[j]:.2f}" if summary is not None else ""
        left.markdown(f"**z{j + 1}**  \n{kl}")
        strip = views.tile(images[r], ncols=TRAVERSAL_STEPS, pad=2, scale=scale)
        right.image(views.png_url(strip), width=strip.shape[1])
    st.caption(f"Each row sweeps one dimension z_j over {', '.join('0' if v == 0 else f'{v:+g}' for v in values[::2])} (left to right; "
               f"{TRAVERSAL_STEPS} steps), every other dimension held at {what}. Rows: the dimensions with the "
               f"largest KL first{'' if summary is not None else ' (no test set: in order)'}.")
    explain("traversals")


def collapse_sentence(summary) -> str:
    """What this model's KLs say, in numbers computed from it (so it is true of whichever model is shown)."""
    d = len(summary.kl)
    active = summary.activity > ACTIVE_THRESHOLD
    n_active = int(active.sum())
    if n_active == d:
        return (f"All {d} dimensions are active: every one carries information about the image "
                f"(the smallest KL is {float(summary.kl.min()):.2f} nats).")
    quiet = float(summary.kl[~active].max())
    busy = f"; the active ones carry {float(summary.kl[active].min()):.2f} to {float(summary.kl[active].max()):.2f}" \
        if n_active else ""
    return (f"{d - n_active} of the {d} dimensions are inactive: their KL is at most {quiet:.3f} nats{busy}. "
            f"The encoder gives every image nearly the prior N(0, 1) there, so the decoder has learnt to ignore them "
            f"(posterior collapse); {n_active} dimensions do all the work.")


def dimensions_section(ctx: ExploreContext) -> None:
    summary = _summary(ctx)
    d = len(summary.kl)
    c1, c2, c3 = st.columns(3)
    c1.metric("Active units", f"{summary.active} of {d}", help="Dimensions j with Cov_x(E_q[z_j]) > 0.01 "
              "(Burda et al. 2016): their mean μ_j changes with the image.")
    c2.metric("Total KL", f"{summary.kl_total:.2f} nats", help="Mean KL(q(z|x) ‖ N(0, I)) over the test images: "
              "the sum of the bars.")
    c3.metric("Largest KL", f"z{int(summary.order[0]) + 1}: {float(summary.kl[summary.order[0]]):.2f} nats")
    st.plotly_chart(kl_figure(summary), key="explore_kl_chart", config={"displaylogo": False})
    st.caption(f"Mean KL per latent dimension over the {len(summary.mu):,} test images, largest first; blue: "
               f"active, grey: inactive.")
    st.markdown(collapse_sentence(summary))
    explain("dimensions")


RENDERERS = {"Traversals": traversals_section, "Dimensions": dimensions_section}
NEEDS_TEST_SET = ("Dimensions",)
