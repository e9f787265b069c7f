"""Step by step: one image's computation, x -> encoder -> (μ, log σ²) -> ε -> z = μ + σ ⊙ ε -> decoder -> the loss,
each step with its formula and its values (VAE Explainer, Bertucci et al. 2024). The values are vae_core's
(model/one_image.py); presenting, the steps come one at a time, with → and ← as a slide's builds."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.evaluate import data_label

from ... import views
from ...explain import explain
from ...session_keys import BUILD_NEXT, BUILD_PREV
from .. import walk
from ..context import ExploreContext
from ..section import PRESENTER_SHARE, Section
from ..state import STEPS

TITLES = ("The image x", "The encoder: μ and log σ²", "A draw ε ~ N(0, I)", "z = μ + σ ⊙ ε", "The decoder: x̂",
          "The loss of this image")
CHAIN = ("x", "μ, log σ²", "ε", "z", "x̂", "loss")
INLINE_DIMS = 4  # up to this many dimensions the vectors are printed in a line, more in a table
IMAGE_PX = 112  # 28 x 28 at 4x
DIGITS = 3  # the vectors' decimals
NATS = 2  # the loss terms' decimals

ENCODER = (r"\begin{gathered}(\mu,\ \log \sigma^2) = \text{encoder}_\phi(x) \\ "
           r"q_\phi(z \mid x) = \mathcal{N}\big(\mu,\ \operatorname{diag} \sigma^2\big)\end{gathered}")
EPSILON = r"\varepsilon \sim \mathcal{N}(0, I)"
Z = (r"\begin{gathered}\sigma = \exp\big(\tfrac{1}{2} \log \sigma^2\big) \\ "
     r"z = \mu + \sigma \odot \varepsilon\end{gathered}")
DECODER = {
    "bernoulli": r"\begin{gathered}p = \operatorname{sigmoid}\big(f_\theta(z)\big) \\ "
                 r"p_\theta(x \mid z) = \textstyle\prod_i p_i^{x_i} (1 - p_i)^{1 - x_i}\end{gathered}",
    "continuous-bernoulli": r"\begin{gathered}\lambda = \operatorname{sigmoid}\big(f_\theta(z)\big) \\ "
                            r"p_\theta(x \mid z) = \textstyle\prod_i C(\lambda_i)\, \lambda_i^{x_i} "
                            r"(1 - \lambda_i)^{1 - x_i}\end{gathered}",
    "gaussian": r"p_\theta(x \mid z) = \mathcal{N}\big(x;\ f_\theta(z),\ \sigma_x^2 I\big)",
}
RECON = {
    "bernoulli": r"\begin{gathered}-\log p_\theta(x \mid z) = \\ "
                 r"-\textstyle\sum_i \big[x_i \log p_i + (1 - x_i) \log (1 - p_i)\big]\end{gathered}",
    "continuous-bernoulli": r"\begin{gathered}-\log p_\theta(x \mid z) = -\textstyle\sum_i \big[x_i \log \lambda_i \\ "
                            r"+ (1 - x_i) \log (1 - \lambda_i) + \log C(\lambda_i)\big]\end{gathered}",
    "gaussian": r"\begin{gathered}-\log p_\theta(x \mid z) = \textstyle\sum_i \frac{(x_i - f_\theta(z)_i)^2}"
                r"{2 \sigma_x^2} \\ + 784 \big(\log \sigma_x + \tfrac{1}{2} \log 2\pi\big)\end{gathered}",
}
KL = (r"\begin{gathered}\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big) = \\ "
      r"\tfrac{1}{2} \textstyle\sum_j \big(\mu_j^2 + \sigma_j^2 - \log \sigma_j^2 - 1\big)\end{gathered}")
LOSS = (r"\begin{gathered}-\mathrm{ELBO}(x) \approx -\log p_\theta(x \mid z) \\ "
        r"+ \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)\end{gathered}")
PARAMETER = {"bernoulli": "p, each pixel's probability of 1", "continuous-bernoulli": "λ, each pixel's parameter",
             "gaussian": "the mean f(z), clipped to [0, 1] to draw it"}


def _values(columns: dict[str, np.ndarray]) -> None:
    """Vectors per dimension: a line each for a few dimensions, a table (every dimension, rows z1 … zd) for more."""
    d = len(next(iter(columns.values())))
    if d <= INLINE_DIMS:
        st.markdown("  \n".join(f"{name} = {walk.vector_text(v, DIGITS)}" for name, v in columns.items()))
        return
    import pandas as pd  # here, not at the top: a replica that never shows this table never loads pandas (~70 MiB)

    frame = pd.DataFrame({name: np.round(v.astype(np.float64), DIGITS) for name, v in columns.items()},
                         index=[f"z{j + 1}" for j in range(d)])
    st.dataframe(frame, height=min(38 + 35 * d, 212), width="stretch",
                 column_config={name: st.column_config.NumberColumn(format=f"%.{DIGITS}f") for name in columns})


def _image(picture: np.ndarray, caption: str, width: int = IMAGE_PX) -> None:
    st.image(views.thumb_url(picture, size=width), width=width, caption=caption)


def _step_x(ctx: ExploreContext, shown: walk.Shown, f, v) -> None:
    mode, seed = ctx.model.binarization
    f.latex(r"x \in \{0, 1\}^{28 \times 28}" if mode != "none" else r"x \in [0, 1]^{28 \times 28}")
    how = f", binarized once with seed {seed} as this model's test loss is measured" if mode != "none" else ""
    with v:
        _image(shown.walk.x, f"{shown.what}{how}")


def _step_encoder(ctx: ExploreContext, shown: walk.Shown, f, v) -> None:
    f.latex(ENCODER)
    with v:
        _values({"μ": shown.walk.mu, "log σ²": shown.walk.logvar})


def _step_eps(ctx: ExploreContext, shown: walk.Shown, f, v) -> None:
    f.latex(EPSILON)
    with v:
        _values({"ε": shown.walk.eps})
        st.caption(f"Seed {int(ctx.state.steps_seed)}: the same ε at every rerun and in a link to this view.")
        walk.draw_button(ctx)


def _step_z(ctx: ExploreContext, shown: walk.Shown, f, v) -> None:
    f.latex(Z)
    with v:
        _values({"σ": shown.walk.sigma, "z": shown.walk.z})
        where = "its projection on the map's plane" if ctx.d > 2 else "z on the map"
        st.caption(f"The orange ring labelled z is {where}.")


def _step_decoder(ctx: ExploreContext, shown: walk.Shown, f, v) -> None:
    w = shown.walk
    f.latex(DECODER[w.likelihood])
    if w.likelihood == "gaussian":
        f.markdown(f"σₓ = {w.sigma_x:g}, the same for every pixel.")
    with v:
        c1, c2 = st.columns(2)
        with c1:
            _image(w.parameter, f"x̂: {PARAMETER[w.likelihood]}")
        if w.likelihood == "continuous-bernoulli":  # its mean is not λ: pulled towards 1/2
            with c2:
                _image(w.mean, "its mean E[x|z]")


def _step_loss(ctx: ExploreContext, shown: walk.Shown, f, v) -> None:
    w = shown.walk
    if not ctx.presenting:  # beside the map only the sum's formula: the terms' are too tall for 720 px
        f.latex(RECON[w.likelihood])
        f.latex(KL)
    f.latex(LOSS)
    with v:
        c1, c2, c3 = st.columns([1, 1, 3], vertical_alignment="center")
        with c1:
            _image(w.x, "x", 56)
        with c2:
            _image(w.parameter, "x̂", 56)
        with c3:
            st.markdown(loss_lines(w))
        mode, seed = ctx.model.binarization
        notes = [] if ctx.presenting else [  # presenting: the sidebar's model card says what the nats are
            f"In nats: {data_label(w.likelihood, mode, seed, w.sigma_x)}. One sample z: another ε gives another "
            "reconstruction term, the same KL (closed form)."]
        if w.beta != 1:
            notes.append(f"Training minimised −log p(x|z) + β·KL with β = {w.beta:g}: {w.objective:.{NATS}f} nats "
                         "here.")
        if notes:
            st.caption(" ".join(notes))
        if ctx.presenting:  # the other steps are hidden: another ε from here too
            walk.draw_button(ctx)


def loss_lines(w) -> str:
    """The three numbers of the loss step, in nats, as printed."""
    return (f"reconstruction −log p(x|z) = **{w.recon:.{NATS}f}**  \nKL(q(z|x) ‖ p(z)) = **{w.kl:.{NATS}f}**  \n"
            f"−ELBO, their sum = **{w.neg_elbo:.{NATS}f}** nats")


STEP_VIEWS = (_step_x, _step_encoder, _step_eps, _step_z, _step_decoder, _step_loss)


def _chain(at: int) -> str:
    """x → μ, log σ² → … with the step shown in bold and those to come faint."""
    parts = [f"**{name}**" if i + 1 == at else (name if i < at else f":gray[{name}]") for i, name in enumerate(CHAIN)]
    return " → ".join(parts)


def render(ctx: ExploreContext) -> None:
    shown = walk.current(ctx)
    if shown is None:
        st.info("Pick a test image (click a dot, or pick one by its number) or draw your digit: its way through the "
                "model is shown here step by step.")
        return
    walk.choice(ctx, shown)
    if ctx.presenting:
        at = walk.step_at(ctx)
        walk.step_buttons(ctx, BUILD_PREV, BUILD_NEXT)
        st.markdown(f"{_chain(at)}  \n**{at}/{STEPS} · {TITLES[at - 1]}**")
        box = st.container()
        STEP_VIEWS[at - 1](ctx, shown, box, box)
        return
    st.caption(f"{shown.what.capitalize()} through the model: every number below is computed by vae_core for this "
               "image and this ε.")
    for i, (title, view) in enumerate(zip(TITLES, STEP_VIEWS)):
        st.markdown(f"##### {i + 1}. {title}")
        formula, values = st.columns(2, gap="medium")  # the formula beside its values (stacked on a phone)
        view(ctx, shown, formula, values)
    explain("steps")


SECTION = Section("steps", "Step by step", render, follows_picks=True, presenter_title="Steps",
                  presenter_share=PRESENTER_SHARE)
