"""Dimensions: the mean KL per dimension over the test set, the active units (Burda et al. 2016) and what they
say about posterior collapse."""

from __future__ import annotations

import streamlit as st

from vae_core.analysis import ACTIVE_THRESHOLD

from ...explain import explain
from ..context import ExploreContext
from ..figures import kl_figure
from ..section import PRESENTER_SHARE, Section


def collapse_sentence(summary, name: str = "This model") -> str:
    """What this model's KLs say, in numbers computed from it: a fact about the model shown (name), not about
    every VAE of its size."""
    d = len(summary.kl)
    active = summary.activity > ACTIVE_THRESHOLD
    n_active = int(active.sum())
    if n_active == d:
        return (f"{name}: all {d} dimensions are active, every one carries information about the image "
                f"(the smallest KL is {float(summary.kl.min()):.2f} nats).")
    quiet = float(summary.kl[~active].max())
    busy = f"; the active ones carry {float(summary.kl[active].min()):.2f} to {float(summary.kl[active].max()):.2f}" \
        if n_active else ""
    return (f"{name}: {d - n_active} of its {d} dimensions are inactive, their KL is at most {quiet:.3f} "
            f"nats{busy}. Its encoder gives every image nearly the prior N(0, 1) there, so its decoder has learnt to "
            f"ignore them (posterior collapse); {n_active} dimensions do all the work.")


def render(ctx: ExploreContext) -> None:
    summary = ctx.model.analysis()  # needs_test_set: the codes are there
    d = len(summary.kl)
    largest = int(summary.order[0])
    if ctx.presenting:  # beside the big map three metrics' large numbers were cut ("13 of …"): one line of them
        with st.container(key="explore_dims_headline"):
            st.markdown(f"**{summary.active} of {d}** active units · total KL **{summary.kl_total:.2f}** nats · "
                        f"largest **z{largest + 1}: {float(summary.kl[largest]):.2f}** nats")
        _chart_and_sentence(summary, f"`{ctx.model.entry.name}`")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Active units", f"{summary.active} of {d}", help="Dimensions j with Cov_x(E_q[z_j]) > 0.01 "
              "(Burda et al. 2016): their mean μ_j changes with the image.")
    c2.metric("Total KL", f"{summary.kl_total:.2f} nats", help="Mean KL(q(z|x) ‖ N(0, I)) over the test images: "
              "the sum of the bars.")
    c3.metric("Largest KL", f"z{largest + 1}: {float(summary.kl[largest]):.2f} nats")
    _chart_and_sentence(summary, f"`{ctx.model.entry.name}`")
    explain("dimensions")


def _chart_and_sentence(summary, name: str) -> None:
    st.plotly_chart(kl_figure(summary), key="explore_kl_chart", config={"displaylogo": False})
    st.caption(f"Mean KL per latent dimension over the {len(summary.mu):,} test images, largest first; blue: "
               f"active, grey: inactive.")
    st.markdown(collapse_sentence(summary, name))


SECTION = Section("dims", "Dimensions", render, needs_test_set=True, presenter_share=PRESENTER_SHARE)
