"""Posterior sampling made visible: k draws z = mu + sigma * eps from q(z|x) of the pick or of your digit.

The draws go on the map (scene.build_scene's `posterior`: small dots inside the 1σ / 2σ ellipses) and their
decodes into a strip under the panel. Which posterior (state.post_of: "pick", "own" or "" for none), k and the
seed live in ExploreState and the URL, so a Resample or a trip to Train keeps what the class sees.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from vae_core.model import sample_posterior

from .. import views
from ..explain import explain_for
from ..presenter import presenting
from . import reruns, sampling
from .context import ExploreContext
from .fragments import LINK, MAP_VIEW, PICKED, TABS
from .scene import OWN_COLOR, PICK_COLOR
from .state import POST_K_MAX, ExploreState

ss = st.session_state
ZOOM_SIGMAS = 6  # "zoom to it" shows ±6σ around μ: the 2σ ellipse spans a third of the view
STRIP_COLS = 8  # decodes per row of the strip, 2x: 8 x 58 px
STRIP_PX = 360  # wider than this, the strip shrinks to its column


def draw(mu, sigma, k: int, seed: int) -> np.ndarray:
    """k draws from N(mu, diag sigma^2), float32 [k, d]: z_i = mu + sigma * eps_i, eps from a generator seeded
    with `seed`, so the same (k, seed) gives the same dots on every run and for every student."""
    g = torch.Generator().manual_seed(int(seed))
    return sample_posterior(torch.as_tensor(np.asarray(mu, np.float32)), None, int(k), g,
                            sigma=torch.as_tensor(np.asarray(sigma, np.float32))).numpy()


def source(ctx: ExploreContext, own=None):
    """(mu [d], sigma [d], what it is, colour) of the posterior sampled now, or None."""
    state, enc = ctx.state, ctx.enc
    if state.post_of == "pick" and enc is not None:
        picks = ctx.valid_picks()
        if picks:
            i = picks[-1]
            return enc.mu[i], enc.sigma[i], f"test image #{i}", PICK_COLOR
    if state.post_of == "own" and own is not None:
        return own[0], own[1], "your digit", OWN_COLOR
    return None


def k_of(state: ExploreState) -> int:
    return int(min(POST_K_MAX, max(1, int(state.post_k))))


def for_scene(ctx: ExploreContext, own=None):
    """build_scene's `posterior`: (mu, sigma, the draws, colour), or None when no samples are shown."""
    src = source(ctx, own)
    if src is None:
        return None
    mu, sigma, _, color = src
    return mu, sigma, draw(mu, sigma, k_of(ctx.state), int(ctx.state.post_seed)), color


def landed(enc, zs: np.ndarray, idx: int) -> str:
    """Where the draws land on the map: how many lie nearest a test code of the pick's own class."""
    others = np.ones(len(enc.labels), bool)
    others[idx] = False  # not the picked image itself
    mu, labels = enc.mu[others], enc.labels[others]
    # nearest test code of each draw: argmin_j |z_i - mu_j|^2 = argmin_j (|mu_j|^2 - 2 z_i . mu_j)
    nearest = labels[np.argmin((mu**2).sum(1)[None] - 2 * zs @ mu.T, axis=1)]
    own = int(enc.labels[idx])
    same = int((nearest == own).sum())
    name = enc.class_names[own]
    if same == len(zs):
        return f"All {len(zs)} draws land nearest a test image of this class ({name})."
    rest = sorted({enc.class_names[int(c)] for c in nearest if c != own})
    return (f"{same} of {len(zs)} draws land nearest a test image of this class ({name}); the others nearest "
            f"a {', '.join(rest)}.")


def zoom_to(state: ExploreState, mu, sigma, lim: float) -> None:
    """Centre the map on μ, half-width 6 max(σ) (σ of 0.03 is a few pixels at the home view)."""
    half = ZOOM_SIGMAS * float(np.max(np.asarray(sigma)[:2]))
    y = float(mu[1]) if len(mu) > 1 else 0.0
    state.set_view(float(mu[0]), y, max(0.05, half), lim, bump=True)


def _shown(state: ExploreState, which: str, apply) -> None:
    """apply() a change of the draws, then rerun what shows them. The pick's controls sit in the picked view's
    fragment: the map, the link (the draws are in the URL) and that fragment, or the page when your digit's draws
    (in the page) go. Your digit's controls are the page's: their own interaction reruns it all. Presenting, both
    sit in the sub-tabs' fragment, beside the map: that and the map."""
    was = state.post_of
    apply()
    if presenting():
        st.rerun([MAP_VIEW, LINK, TABS])
    if which != "pick":
        return
    if was == "own":
        st.rerun()
    st.rerun([MAP_VIEW, LINK, PICKED])


def _toggle(state: ExploreState, which: str) -> None:
    on = bool(ss.get(f"explore_post_{which}"))
    _shown(state, which, lambda: setattr(
        state, "post_of", which if on else ("" if state.post_of == which else state.post_of)))


def _resample(state: ExploreState, which: str) -> None:
    _shown(state, which, lambda: setattr(state, "post_seed", int(state.post_seed) + 1))


def _k_moved(state: ExploreState, which: str) -> None:
    _shown(state, which, lambda: setattr(state, "post_k", int(ss["explore_post_k_widget"])))


def _zoom(state: ExploreState, which: str, mu, sigma, lim: float, d: int) -> None:
    if which == "pick" or presenting():
        reruns.change(state, d, lambda: zoom_to(state, mu, sigma, lim))  # the map, and a sub-tab showing the zoom
    else:
        zoom_to(state, mu, sigma, lim)


def controls(ctx: ExploreContext, which: str, own=None) -> None:
    """The sampling control of one panel (which: "pick" or "own"): a toggle, then k, Resample, zoom, the strip."""
    state, enc, lim = ctx.state, ctx.enc, ctx.lim
    ss[f"explore_post_{which}"] = state.post_of == which
    st.toggle("Sample z ~ q(z|x) on the map", key=f"explore_post_{which}", on_change=_toggle, args=(state, which),
              help="Draw k codes z = μ + σ ⊙ ε from this image's posterior: dots on the map, decodes below.")
    src = source(ctx, own) if state.post_of == which else None
    if src is None:
        return
    mu, sigma, what, _ = src
    k, seed = k_of(state), int(state.post_seed)
    ss["explore_post_k_widget"] = k
    st.slider("Samples k", 1, POST_K_MAX, key="explore_post_k_widget", on_change=_k_moved, args=(state, which))
    # A row of their own: beside the slider, in the panel's column at 1280 px, their labels shrank to "R" and "Z".
    c2, c3 = st.columns(2)
    c2.button("Resample", icon=":material/casino:", key=f"explore_post_resample_{which}", on_click=_resample,
              args=(state, which), use_container_width=True)
    c3.button("Zoom to it", icon=":material/zoom_in:", key=f"explore_post_zoom_{which}", on_click=_zoom,
              args=(state, which, mu, sigma, lim, ctx.d), use_container_width=True,
              help="Centre the map on μ, ±6σ wide, so that the draws and both ellipses are visible.")
    zs = draw(mu, sigma, k, seed)
    sampling.toggle(ctx, f"post_{which}")
    images = sampling.shown(ctx, ctx.model.decode(zs), seed)
    strip = views.tile(images, ncols=min(k, STRIP_COLS), pad=2, scale=2)
    st.image(views.png_url(strip), width=strip.shape[1] if strip.shape[1] <= STRIP_PX else "stretch",
             caption=f"{k} decodes of z = μ + σ ⊙ ε from {what}'s q(z|x), seed {seed}: the decoder's "
                     f"{sampling.what(ctx)}")
    if enc is not None and which == "pick":
        st.caption(landed(enc, zs, state.picks[-1]))
    if len(sigma) > 1:
        spread = ", ".join(f"{2 * float(s):.3f}" for s in np.asarray(sigma)[:2])
        # P(inside the k-σ ellipse) of a 2-D Gaussian: 1 - exp(-k^2 / 2): 39 % for 1σ, 86 % for 2σ
        st.caption(f"On the map: the inner ellipse is 1σ, the outer one 2σ = ({spread}) in (z1, z2); about 39 % "
                   "of the draws fall inside 1σ and 86 % inside 2σ.")
    explain_for("posterior", ctx.model.dataset)
