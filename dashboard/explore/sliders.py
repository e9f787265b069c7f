"""Streamlit's z sliders and the server's decoded image: beside a map that does not decode in the page."""

from __future__ import annotations

import streamlit as st

from vae_core.analysis import ACTIVE_THRESHOLD

from .. import views
from . import reruns
from .context import ExploreContext
from .state import Z_STEP

SLIDERS_SHOWN = 8  # sliders beyond this many dimensions go into an expander
ss = st.session_state


def _slider_moved(ctx: ExploreContext, i: int) -> None:
    state = ctx.state
    z = state.star_list(ctx.d, ctx.lim)
    z[i] = float(ss[f"explore_z{i}"])
    reruns.change(state, ctx.d, lambda: state.move_star(z, ctx.lim))


def decoder_sliders(ctx: ExploreContext, summary=None) -> None:
    """One slider per latent dimension, fed from the ★. With a summary (d > 2): the dimensions by KL, most
    informative first, each labelled with its KL; the first SLIDERS_SHOWN active ones shown, the other active
    ones and the inactive ones (Cov_x(μ_j) <= 0.01: posterior collapse) each in an expander.
    Without: z1..zd in order, beyond SLIDERS_SHOWN in an expander."""
    d, lim = ctx.d, ctx.lim
    z = ctx.state.star_list(d, lim)  # Python floats: 1.23, not float32 1.2300000190734863

    def one(i: int) -> None:
        ss[f"explore_z{i}"] = z[i]
        label = f"z{i + 1}" if summary is None else f"z{i + 1} · KL {summary.kl[i]:.2f}"
        st.slider(label, -lim, lim, step=Z_STEP, format="%.2f", key=f"explore_z{i}", on_change=_slider_moved,
                  args=(ctx, i))

    if summary is None:
        order, active = list(range(d)), list(range(d))
    else:
        order = [int(i) for i in summary.order]
        active = [i for i in order if summary.activity[i] > ACTIVE_THRESHOLD]
    inactive = [i for i in order if i not in active]
    main, more = active[:SLIDERS_SHOWN], active[SLIDERS_SHOWN:]
    for i in main:
        one(i)
    if more:
        with st.expander(f"{len(more)} more dimensions" if summary is not None else f"z{SLIDERS_SHOWN + 1} … z{d}"):
            for i in more:
                one(i)
    if inactive:
        with st.expander(f"{len(inactive)} inactive dimensions (KL ≈ 0)"):
            for i in inactive:
                one(i)


def decoder_image(ctx: ExploreContext, z, size: int = 196) -> None:
    """The ★ decoded by PyTorch on the server."""
    image = ctx.model.decode(z)[0]
    shown = ", ".join(f"{v:.2f}" for v in z[:4]) + (", …" if len(z) > 4 else "")
    st.image(views.thumb_url(image, size=size), width=size,
             caption=f"decoder output at z = ({shown}), on the server")
