"""Compare two saved models, fairly: the last section of the Train page (page.py draws it).

Everything the two models show is on the same footing, so that a difference on screen is one between them:

    the latent maps     one extent for both (the wider one), large (side by side, or one above the other);
                        the PCA plane of the test codes for d > 2
    one z               the ★ (typed for 1-/2-D models, or a click on a dot of either map: that test image's μ
                        in that model) decoded by both, when their latent spaces have the same dimension
    prior samples       z = ε ~ N(0, I) from one seed: the same ε for both when they have the same dimension
    reconstructions     the same test images through each model (2-D against 16-D: what more dimensions buy)
    training curves     the loss and KL charts on shared x and y ranges, each curve named for what it is (train:
                        recon + β·KL, the objective; test: recon + KL, the −ELBO) in one legend for both
and each model's replay of its training, when it has one. A model that cannot be loaded is one line in its
column; the other column and the page go on. Its session keys are TrainState's, named "train_compare…".
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from vae_core import VAE
from vae_core.analysis import Plane, principal_plane, to_plane
from vae_core.checkpoint import CheckpointError
from vae_core.data import DatasetError
from vae_core.replay import Replay, read_replay

from .. import session_keys, views
from ..model import caches, compute, handle, registry, sidebar
from ..presenter import presenting
from ..safe_text import plain, plain_html
from .figures import (
    epochs_from_history,
    latent_figure,
    legend_html,
    loss_figure,
    shared_range,
    steps_from_history,
    y_ranges,
)
from .replay import ReplayData, replay_player
from .state import TrainState

COMPARE_POINTS = 2000  # test images on each map (the same subset as the training's replay)
N_PRIOR = 8  # prior samples per model
N_RECON = 8  # test images reconstructed by both
# Large by default: one above the other, each the main area's width (~560 px squares at 1280 x 720 with the
# sidebar open); side by side, each is half that width (fine at 1920 px or with the sidebar closed).
LARGE, SIDE_BY_SIDE = "Large, one above the other", "Side by side"
MAP_HEIGHT = {LARGE: 620, SIDE_BY_SIDE: 560}
Z_LIMIT = 10.0  # the typed ★'s range (the maps' widest extent)
AB = "AB"

ss = st.session_state
state = TrainState()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Side:
    """One column's model, loaded, with its encoded test set and (d > 2) the plane its map shows."""

    entry: registry.ModelEntry
    model: VAE
    config: dict
    enc: compute.Encodings
    plane: Plane | None

    @property
    def d(self) -> int:
        return int(self.model.cfg.latent_dim)

    @property
    def name(self) -> str:
        return f"{self.entry.source}/{self.entry.name}"

    @property
    def beta(self) -> float:
        return float(self.model.cfg.beta)

    def points(self, n: int = COMPARE_POINTS) -> np.ndarray:
        """The first n test images' μ on the map: (u, v) = ((μ - m)·e1, (μ - m)·e2) on the PCA plane for d > 2."""
        if self.plane is not None:
            return to_plane(self.enc.mu[:n], self.plane).astype(np.float32)
        return self.enc.xy[:n]

    def map_xy(self, z) -> tuple[float, float]:
        """Where a code z [d] lies on this model's map."""
        z = np.asarray(z, dtype=np.float64)
        if self.plane is not None:
            u, v = to_plane(z[None], self.plane)[0]
            return float(u), float(v)
        return float(z[0]), (float(z[1]) if self.d >= 2 else 0.0)


@st.cache_resource(max_entries=8, show_spinner=False)
def pca_plane(folder: str, stamp, dataset: str) -> Plane:
    """The principal plane of a model's 10,000 test codes, once per model version."""
    return principal_plane(caches.test_encodings(folder, stamp, dataset).mu)


def load_side(entry: registry.ModelEntry) -> tuple[Side | None, str | None]:
    """(the loaded side, None) or (None, why not, in one line without a server path)."""
    try:
        model, config = caches.load_model(entry.folder, entry.stamp)
        dataset = entry.dataset or "mnist"
        enc = caches.test_encodings(entry.folder, entry.stamp, dataset)
        plane = pca_plane(entry.folder, entry.stamp, dataset) if model.cfg.latent_dim > 2 else None
    except Exception as e:  # a damaged checkpoint or missing data: say so (no path), keep the other column
        if not isinstance(e, CheckpointError):
            log.exception("Compare: %s failed to load", entry.folder)
        if isinstance(e, DatasetError):
            return None, handle.test_set_missing(entry.dataset or "mnist")
        return None, registry.public_reason(e, entry.folder)
    return Side(entry, model, config, enc, plane), None


# --- pure parts (no Streamlit) -----------------------------------------------------------------


def prior_eps(seed: int, n: int, d: int) -> np.ndarray:
    """n draws ε ~ N(0, I_d) from `seed`: the same seed and d give the same ε, whichever model decodes them."""
    return torch.randn(n, d, generator=torch.Generator().manual_seed(int(seed))).numpy()


def recon_indices(seed: int, n_test: int, n: int = N_RECON) -> np.ndarray:
    """n distinct test-image indices drawn with `seed`, in increasing order."""
    return np.sort(np.random.default_rng(int(seed)).choice(n_test, size=min(n, n_test), replace=False))


def reconstruct(side: Side, indices) -> np.ndarray:
    """f(μ(x)) for the test images x at `indices`: the decoder's mean at the posterior mean (Explore's recon)."""
    return compute.decode(side.model, side.enc.mu[np.asarray(indices)])


def format_z(z, shown: int = 4) -> str:
    z = [float(v) for v in z]
    body = ", ".join(f"{v:.2f}" for v in z[:shown])
    return f"({body}{', …' if len(z) > shown else ''})"


def curves_note(betas: list[float]) -> str:
    """What the two curves of the loss chart are, with the models' own β."""
    text = ("**train**: recon + β·KL, the objective training minimises, per step; **test**: recon + KL, the "
            "−ELBO (β plays no part), per epoch. Both in nats per image, on the same y ranges for both models.")
    big = sorted({b for b in betas if b > 1})
    if big:
        b = f"{big[-1]:g}"
        text += (f" With β = {b} the KL counts {b} times in training, so that model's train curve sits above its "
                 "test loss (by about (β − 1)·KL).")
    return text


# --- the z both models decode ------------------------------------------------------------------


def _z_keys(d: int) -> list[str]:
    return [state.key(f"compare_z_{k}") for k in range(d)]


def set_z(z, source: str) -> None:
    """The compared ★ and where it came from; the typed fields follow (call before they are drawn)."""
    z = [float(v) for v in z]
    state.compare_z, state.compare_z_from = z, source
    if len(z) <= 2:
        for key, v in zip(_z_keys(len(z)), z):
            ss[key] = min(Z_LIMIT, max(-Z_LIMIT, round(v, 2)))  # the typed field's range


def current_z(d: int) -> np.ndarray:
    """The ★ both models decode: the last one set, or Explore's ★ when it has d coordinates, or z = 0."""
    z = state.compare_z
    if not (isinstance(z, list) and len(z) == d):
        star = ss.get(session_keys.EXPLORE_STAR)  # the default z when it has the right size
        if isinstance(star, (list, tuple)) and len(star) == d:
            set_z(star, "the Explore tab's ★")
        else:
            set_z([0.0] * d, "z = 0, the centre of the prior")
    return np.asarray(state.compare_z, dtype=np.float32)


def _on_typed(d: int) -> None:
    set_z([ss.get(k, 0.0) for k in _z_keys(d)], "typed")


def _on_click(i: int) -> None:
    """A click on a dot of map i: remembered here, turned into that image's μ once the run has the models."""
    index = views.selected_index(state.widget(f"compare_{i}_latent"), COMPARE_POINTS)
    if index is not None:
        state.compare_click = (i, index)


def _resolve_click(sides: list[Side | None]) -> None:
    click = state.compare_click
    state.drop("compare_click")
    if not click:
        return
    i, index = click
    side = sides[i] if 0 <= i < len(sides) else None
    if side is not None and 0 <= index < len(side.enc.mu):
        name = side.enc.class_names[side.enc.labels[index]]
        set_z(side.enc.mu[index], f"test image #{index}'s μ in model {AB[i]} (a {name})")


def _image(place, image: np.ndarray, caption: str) -> None:
    """A uint8 image at its own size, as PNG: digits stay crisp (Streamlit would send other bytes as JPEG)."""
    place.image(views.png_bytes(image), caption=caption, output_format="PNG", width=int(image.shape[1]))


# --- the section -------------------------------------------------------------------------------


@st.fragment
def compare_section() -> None:
    st.markdown("### Compare two models")
    entries = [e for e in registry.list_models() if not e.error]
    if len(entries) < 1:
        st.caption("No saved models yet.")
        return
    by_folder = {e.folder: e for e in entries}
    sides: list[Side | None] = [None, None]
    for i, col in enumerate(st.columns(2, gap="large")):
        with col:
            key = state.key(f"compare_{i}")
            if ss.get(key) not in by_folder:
                ss.pop(key, None)
            folder = st.selectbox(f"Model {AB[i]}", list(by_folder), index=None, key=key, persist_state="page",
                                  placeholder="Choose a saved model", format_func=lambda f: by_folder[f].label)
            if not folder:
                continue
            entry = by_folder[folder]
            st.markdown(f"**{plain(entry.source + '/' + entry.name)}**")
            side, error = load_side(entry)
            if side is None:
                st.error(f"Cannot show this model: {plain(error)}")
                continue
            summary = sidebar.model_summary(handle.ModelHandle(entry, side.model, side.config))
            st.caption(summary.replace("  \n", " · "))
            sides[i] = side
    if not any(sides):
        return
    a, b = sides
    both = a is not None and b is not None
    _resolve_click(sides)
    star = current_z(a.d) if both and a.d == b.d else None
    _maps(sides, star)
    if both:
        _same_z(a, b, star)
        _prior_samples(a, b)
        _reconstructions(a, b)
    _curves(sides)
    _replays(sides)


def _maps(sides: list[Side | None], star: np.ndarray | None) -> None:
    st.markdown("#### Latent spaces, on the same scale")
    layout = st.segmented_control("Maps", list(MAP_HEIGHT), default=LARGE, key=state.key("compare_layout"),
                                  persist_state="page", label_visibility="collapsed") or LARGE
    shown = [s for s in sides if s is not None]
    extent = max(views.latent_limit(s.points()) for s in shown)  # one square for both: the wider of the two
    places = st.columns(2, gap="medium") if layout == SIDE_BY_SIDE else [st.container(), st.container()]
    for i, (place, side) in enumerate(zip(places, sides)):
        if side is None:
            continue
        with place:
            n = min(COMPARE_POINTS, len(side.enc.labels))
            variance = side.plane.variance_ratio if side.plane is not None else None
            fig = latent_figure(
                side.points(n), side.enc.labels[:n], side.enc.class_names, height=MAP_HEIGHT[layout],
                uirevision=side.entry.key, one_dim=side.d == 1, variance=variance, extent=extent,
                marker=side.map_xy(star) if star is not None else None)
            fig.update_traces(selector=dict(name="slider z"), name="★ z, decoded below",
                              hovertemplate="the z both models decode<extra></extra>")
            fig.update_layout(title=dict(text=f"{AB[i]}: {plain_html(side.name)}", font=dict(size=15), x=0.01),
                              margin=dict(l=10, r=10, t=40, b=10))
            if layout == SIDE_BY_SIDE:  # half a row: the legend goes under the map, clear of the axis title
                fig.update_layout(legend=dict(orientation="h", x=0, y=-0.16, yanchor="top", title=dict(text="")))
            st.plotly_chart(fig, key=state.key(f"compare_{i}_latent"), on_select=functools.partial(_on_click, i),
                            selection_mode="points", config={"displaylogo": False, "scrollZoom": True})
            if side.plane is not None:
                st.caption(f"{side.d} dimensions seen on their PCA plane: PC1 and PC2 show "
                           f"{100 * side.plane.total_ratio:.0f}% of the test codes' variance.")
    st.caption(f"The first {COMPARE_POINTS:,} test images' μ, coloured by label, both maps on the same scale. "
               "Click a dot on either map: that image's code is decoded by both models below.")


def _same_z(a: Side, b: Side, z: np.ndarray | None) -> None:
    st.markdown("#### One z, decoded by both")
    if z is None:
        st.info(f"Model A has {a.d} latent dimension{'s' * (a.d > 1)} and model B {b.d}: a z of one is not a z "
                "of the other, so no z is decoded by both. Below, the same test images go through each model.")
        return
    left, mid, right = st.columns([2, 1, 1], vertical_alignment="top")
    with left:
        if a.d <= 2:
            for k, key in enumerate(_z_keys(a.d)):
                ss.setdefault(key, round(float(z[k]), 2))
                st.number_input(f"z{k + 1}", -Z_LIMIT, Z_LIMIT, step=0.1, format="%.2f", key=key,
                                on_change=_on_typed, args=(a.d,))
        st.caption(f"z = {format_z(z)}: {state.compare_z_from}. The ★ on both maps. The same "
                   "numbers mean a different place to each model's decoder, so the two images differ.")
    for place, side, tag in ((mid, a, "A"), (right, b, "B")):
        _image(place, views.upscale(compute.decode(side.model, z)[0], 168), f"{tag} decodes z = {format_z(z)}")


def _prior_samples(a: Side, b: Side) -> None:
    st.markdown("#### Samples from the prior, the same ε for both")
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    seed = c1.number_input("Seed of ε", 0, 2**31 - 1, key=state.key("compare_prior_seed"), persist_state="page",
                           help="z = ε ~ N(0, I): the same seed gives the same draws to both models.")
    if a.d == b.d:
        eps = prior_eps(seed, N_PRIOR, a.d)
        pairs = [(a, eps), (b, eps)]
        c2.caption(f"The same {N_PRIOR} draws z = ε ~ N(0, I) (seed {seed}) decoded by each model.")
    else:
        pairs = [(a, prior_eps(seed, N_PRIOR, a.d)), (b, prior_eps(seed, N_PRIOR, b.d))]
        c2.caption(f"Seed {seed} for both; ε has each model's own size ({a.d} and {b.d} numbers), so the draws "
                   "are not the same points.")
    for (side, eps), tag in zip(pairs, AB):
        _image(st, views.strip_image(compute.decode(side.model, eps), scale=2, pad=2),
               f"{tag}: {side.name}, z = ε (seed {seed})")


def _reconstructions(a: Side, b: Side) -> None:
    st.markdown("#### The same test images, reconstructed by both")
    if a.enc.dataset != b.enc.dataset or not torch.equal(a.enc.images, b.enc.images):  # two folders of images
        st.info("The two models were trained on different datasets, so no test image is shown to both.")
        return
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    seed = c1.number_input("Which images (seed)", 0, 2**31 - 1, key=state.key("compare_recon_seed"),
                           persist_state="page")
    index = recon_indices(seed, len(a.enc.labels))
    c2.caption(f"Test images #{', #'.join(map(str, index))}; each model decodes its own posterior mean, "
               f"x̂ = f(μ(x)). With {a.d} and {b.d} latent dimensions.")
    originals = views.to_array(a.enc.images[torch.from_numpy(index)])
    rows = [("the test images", originals), (f"A: {a.name} ({a.d}-D)", reconstruct(a, index)),
            (f"B: {b.name} ({b.d}-D)", reconstruct(b, index))]
    for caption, images in rows:
        _image(st, views.strip_image(images, scale=2, pad=2), caption)


def last_step(steps: dict, epochs: list) -> int:
    """The last training step a run's curves reach."""
    return int(max([*steps["step"][-1:], *(e["step"] for e in epochs[-1:]), 1]))


def _curves(sides: list[Side | None]) -> None:
    st.markdown("#### Training curves, on the same axes")
    curves = [None if s is None else (steps_from_history(s.config.get("history")),
                                      epochs_from_history(s.config.get("history"))) for s in sides]
    drawn = [c for c in curves if c is not None and (c[0]["step"] or c[1])]
    ranges = [y_ranges(*c) for c in drawn]
    loss_range = shared_range(r[0] for r in ranges)
    kl_range = shared_range(r[1] for r in ranges)
    x_max = max((last_step(*c) for c in drawn), default=1)  # one x range for both: the longer run's
    lasts = [f"{AB[i]} {last_step(*c):,}" for i, c in enumerate(curves) if c is not None and c in drawn]
    st.caption(curves_note([s.beta for s in sides if s is not None]) +
               f" x: the training step, 0 to {x_max:,} on both (steps run: {', '.join(lasts)}).")
    st.html(legend_html(16 if presenting() else 14))
    for i, (col, side, curve) in enumerate(zip(st.columns(2, gap="large"), sides, curves)):
        if side is None:
            continue
        with col:
            st.markdown(f"**{AB[i]}: {plain(side.name)}** · β = {side.beta:g}")
            steps, epochs = curve
            if steps["step"] or epochs:
                st.plotly_chart(loss_figure(steps, epochs, height=320, loss_range=loss_range, kl_range=kl_range,
                                            total_steps=x_max, legend=False),
                                key=state.key(f"compare_{i}_loss"), config={"displaylogo": False})
            else:
                st.caption("This checkpoint holds no training curves that can be read.")


def _replays(sides: list[Side | None]) -> None:
    for i, (col, side) in enumerate(zip(st.columns(2, gap="large"), sides)):
        if side is None:
            continue
        replay = saved_replay(side.entry.folder, side.entry.stamp)
        if replay is None or len(replay.frames) <= 1:
            continue
        with col:
            st.markdown(f"**Replay of {AB[i]}'s training**")
            data = ReplayData(f"{side.entry.key}-replay", replay.frames, replay.labels, side.enc.class_names,
                              one_dim=side.d == 1)
            key = state.key(f"compare_{i}_replay")
            replay_player(data, key, key)


@functools.lru_cache(maxsize=8)
def saved_replay(folder: str, stamp) -> Replay | None:
    """A saved model's replay.safetensors (vae_core/replay.py), read once per version of the folder."""
    return read_replay(folder)
