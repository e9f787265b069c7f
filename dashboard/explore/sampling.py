"""The "Sample x ~ p(x|z)" switch: the views' decoded pictures as draws from the decoder's distribution instead of
its mean E[x|z] (the honest answer to "why is it blurry?": the mean is an average of many images).

One setting (state.sample_x) for every view that shows decodes (prior samples, the manifold grid, traversals,
the morph, the posterior strip, reconstructions); each view draws with a seed of its own, shown or fixed, so a
rerun shows the same draw. The pixels come from dashboard.model.compute.sample_pixels. The decoded digit beside
the map (decoded in the page) stays the mean.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import views
from ..model.caches import MorphMedia, manifold_grid
from ..model.compute import SAMPLED_LIKELIHOODS, sample_pixels
from ..presenter import presenting
from .context import ExploreContext
from .fragments import LINK, PICKED, TABS
from .state import ExploreState

LABEL = "Sample x ~ p(x|z)"
HELP = ("Off: each picture is the decoder's mean E[x|z], the average of every image it could draw there, so it "
        "is smooth and blurry. On: one draw x ~ p(x|z) instead: every pixel white or black with the decoded "
        "probability (a Gaussian-likelihood model: the mean plus its σ of noise), from a fixed seed. The digit "
        "decoded beside the map stays the mean.")
ss = st.session_state


def available(ctx: ExploreContext) -> bool:
    return ctx.model.model.cfg.likelihood in SAMPLED_LIKELIHOODS


def on(ctx: ExploreContext) -> bool:
    return bool(ctx.state.sample_x) and available(ctx)


def _store(state: ExploreState, key: str) -> None:
    state.sample_x = bool(ss.get(key))
    # every view that shows decodes follows, and the link
    st.rerun([TABS, LINK] if presenting() else [PICKED, TABS, LINK])


def toggle(ctx: ExploreContext, where: str, container=None) -> None:
    """The switch, bound to state.sample_x (`where` makes its widget key: the posterior strip and a sub-tab can
    be on the page together)."""
    key = f"explore_sample_x_{where}"
    ss[key] = on(ctx)
    (container or st).toggle(LABEL, key=key, on_change=_store, args=(ctx.state, key), disabled=not available(ctx),
                             help=HELP if available(ctx) else "This model's likelihood has no pixel draw here.")


def shown(ctx: ExploreContext, images, seed: int):
    """The decoded means as they are, or one draw x ~ p(x|z) of them (float32 in [0, 1]) when the switch is on."""
    if not on(ctx):
        return images
    cfg = ctx.model.model.cfg
    return sample_pixels(images, cfg.likelihood, cfg.sigma, seed)


def what(ctx: ExploreContext, seed: int | None = None) -> str:
    """The captions' word for the pictures: "means E[x|z]" or "draws x ~ p(x|z)" (with its seed)."""
    if not on(ctx):
        return "means E[x|z]"
    return "draws x ~ p(x|z)" + (f" (pixel seed {seed})" if seed is not None else "")


def grid_png(ctx: ExploreContext, n: int, extent, piece) -> tuple[bytes, int]:
    """The manifold grid as a PNG and its width: the cached means, or one draw of every cell (seed 0).
    `extent`: the view's (x0, x1, y0, y1), or the half-width of a square about 0."""
    if not on(ctx):
        return ctx.model.manifold_png(n, extent, piece)
    grid = shown(ctx, manifold_grid(ctx.model.folder, ctx.model.stamp, n, extent, piece), seed=0)
    image = views.grid_image(grid, scale=max(1, 600 // (int(n) * 28)))
    return views.png_bytes(image), int(image.shape[1])


def morph_media(ctx: ExploreContext, media: MorphMedia) -> MorphMedia:
    """The morph's frames as they are, or one draw of each (seed 0), with their strip."""
    if not on(ctx):
        return media
    frames = views.to_uint8(shown(ctx, media.frames, seed=0))
    frames.setflags(write=False)
    strip = views.strip_image(frames, scale=2, pad=2, ncols=8)
    return MorphMedia(np.asarray(frames), views.png_url(strip), strip.shape[1])
