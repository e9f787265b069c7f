"""Dimensions: the mean KL per dimension over the test set, the active units (Burda et al. 2016) and what they
say about posterior collapse."""

from __future__ import annotations

import streamlit as st

from vae_core.analysis import ACTIVE_THRESHOLD

from ...explain import explain
from ..context import ExploreContext
from ..figures import kl_figure
from ..section import PRESENTER_SHARE, Section


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


def render(ctx: ExploreContext) -> None:
    summary = ctx.model.analysis()  # needs_test_set: the codes are there
    d = len(summary.kl)
    largest = int(summary.order[0])
    if ctx.presenting:  # beside the big map three metrics' large numbers were cut ("13 of …"): one line of them
        with st.container(key="explore_dims_headline"):
            st.markdown(f"**{summary.active} of {d}** active units · total KL **{summary.kl_total:.2f}** nats · "
                        f"largest **z{largest + 1}: {float(summary.kl[largest]):.2f}** nats")
        _chart_and_sentence(summary)
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Active units", f"{summary.active} of {d}", help="Dimensions j with Cov_x(E_q[z_j]) > 0.01 "
              "(Burda et al. 2016): their mean μ_j changes with the image.")
    c2.metric("Total KL", f"{summary.kl_total:.2f} nats", help="Mean KL(q(z|x) ‖ N(0, I)) over the test images: "
              "the sum of the bars.")
    c3.metric("Largest KL", f"z{largest + 1}: {float(summary.kl[largest]):.2f} nats")
    _chart_and_sentence(summary)
    explain("dimensions")


def _chart_and_sentence(summary) -> None:
    st.plotly_chart(kl_figure(summary), key="explore_kl_chart", config={"displaylogo": False})
    st.caption(f"Mean KL per latent dimension over the {len(summary.mu):,} test images, largest first; blue: "
               f"active, grey: inactive.")
    st.markdown(collapse_sentence(summary))


SECTION = Section("dims", "Dimensions", render, needs_test_set=True, presenter_share=PRESENTER_SHARE)
