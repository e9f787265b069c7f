"""A run's latent space epoch by epoch: the latent panel (map and samples of one snapshot) and the replay
player over a run's snapshots, for a finished job (live.py) and for a saved model's replay (compare.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from .. import views
from ..player import Player, SessionPosition, frames_due
from ..training.snapshot import JobSnapshot
from .figures import (
    classes_legend_html,
    latent_figure,
    latent_image,
    loss_figure,
    plane_axis_titles,
    plane_caption,
    samples_image,
)
from .state import TrainState

REPLAY_SPEEDS = {"½×": 0.5, "1×": 1.0, "2×": 2.0, "4×": 4.0}  # epochs per second of the clock while playing
VIEWS_KEPT = 8  # (run, epoch) views kept in a session


@dataclass(frozen=True)
class ReplayData:
    """What the latent panel and the replay show, from a training job's snapshot or a saved model's replay."""

    ident: str  # names its cached figures (a job id, or a saved folder and its stamp)
    frames: list  # objects with .epoch, .points [N, 2] and .samples [S, H, W], epoch 0 first
    labels: np.ndarray | None
    class_names: tuple
    one_dim: bool
    steps: dict | None = None  # the loss curves drawn beside the replay, when there are any
    epoch_metrics: list = field(default_factory=list)
    total_steps: int | None = None
    steps_stride: int = 1  # steps per point of `steps` (a long run's history, vae_core/step_history.py)

    @classmethod
    def of_job(cls, s: JobSnapshot) -> ReplayData:
        return cls(s.job_id, s.latents, s.labels, s.class_names, s.model_cfg.latent_dim == 1, s.steps,
                   s.epoch_metrics, s.total_steps, s.steps_stride)


def _epoch_view(r: ReplayData, index: int) -> tuple[go.Figure, str]:
    """The latent figure and the samples (a PNG data URL) of one frame, built once per (run, epoch) and kept in
    the session: during training they change once an epoch, not on every poll, so later polls only re-send them."""
    snap = r.frames[index]
    cache = TrainState().view_cache()
    key = (r.ident, snap.epoch)
    if key not in cache:
        if len(cache) >= VIEWS_KEPT:
            cache.pop(next(iter(cache)))
        fig = latent_figure(snap.points, r.labels, r.class_names, uirevision=f"train-{r.ident}", one_dim=r.one_dim,
                            variance=getattr(snap, "variance", None))
        cache[key] = (fig, views.png_url(samples_image(snap.samples)))
    return cache[key]


def _live_map(r: ReplayData, index: int) -> tuple[str, str]:
    """The live view's map as a picture (figures.latent_image; a PNG data URL) and its axes in words, built once
    per (run, epoch) like _epoch_view's. An image whose URL has not changed costs the browser nothing."""
    snap = r.frames[index]
    cache = TrainState().view_cache()
    key = (r.ident, snap.epoch, "image")
    if key not in cache:
        if len(cache) >= VIEWS_KEPT:
            cache.pop(next(iter(cache)))
        extent = views.latent_limit(snap.points)
        variance = getattr(snap, "variance", None)
        if r.one_dim:
            axes = f"z1 across, from {-extent:g} to {extent:g} (one latent dimension: every point on the line z2 = 0)"
        else:
            x, y = plane_axis_titles(variance) if variance is not None else ("z1", "z2")
            axes = f"{x} across, {y} up, each from {-extent:g} to {extent:g}; grey lines at 0"
        cache[key] = (views.png_url(latent_image(snap.points, r.labels, extent)), axes)
    return cache[key]


def latent_panel(r: ReplayData, index: int, key: str, live: bool = False) -> None:
    """The map and the samples of one frame. live: the map as a picture (cheap for the browser at every epoch;
    the finished run's map can be zoomed and hovered)."""
    if not r.frames or r.labels is None:
        st.caption("The latent map appears once the data are loaded.")
        return
    snap = r.frames[index]
    title = "before training" if snap.epoch == 0 else f"after epoch {snap.epoch}"
    st.markdown(f"**Latent space {title}** · {len(snap.points):,} test images, coloured by label")
    fig, png = _epoch_view(r, index)
    if live:
        picture, axes = _live_map(r, index)
        st.image(picture, caption=f"{axes}. Zoom and hover once the run has ended.")
        st.html(classes_legend_html(r.class_names))
    else:
        st.plotly_chart(fig, key=key, config={"displaylogo": False, "scrollZoom": True})
    if getattr(snap, "variance", None) is not None:
        st.caption(plane_caption(snap.variance))
    st.image(png, caption=f"{len(snap.samples)} samples from the prior, decoded (the same z's every epoch)")


def _player(r: ReplayData, key: str) -> Player:
    """The replay's own position ("<key>_at", "<key>_playing") and its slider ("<key>_epoch")."""
    last = len(r.frames) - 1
    return Player(SessionPosition(f"{key}_at", f"{key}_playing", start=last), last, f"{key}_epoch")


def replay_player(r: ReplayData, key: str, charts: str) -> None:
    """Play / pause over the run's epochs (dashboard/player.py). While playing, a fragment reruns every 1/speed s
    and moves the replay's own position on to where the clock says: "4×" is 4 epochs a second of the clock, with
    epochs skipped when drawing one takes longer than a quarter of a second. Play, Pause and the speed rerun the
    page, which (re)starts or drops that timer."""
    if len(r.frames) <= 1:
        _replay_frame(r, key, charts, playing=False)
        return
    player = _player(r, key)
    playing = player.position.playing
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    player.button(c1, f"{key}_play", width="stretch", help="Replays the latent map and the samples epoch by epoch.")
    speed = c2.segmented_control("Speed (epochs per second)", list(REPLAY_SPEEDS), key=f"{key}_speed",
                                 default="1×", persist_state="page",
                                 help="Epochs a second, by the clock: where drawing an epoch takes longer, "
                                      "epochs are skipped to keep the pace.")
    rate = REPLAY_SPEEDS.get(speed or "1×", 1.0)
    if not playing:
        st.session_state.pop(f"{key}_clock", None)
    st.fragment(run_every=1.0 / rate if playing else None)(_replay_frame)(r, key, charts, playing, rate)


def _replay_frame(r: ReplayData, key: str, charts: str, playing: bool, rate: float = 1.0) -> None:
    index = len(r.frames) - 1
    if index > 0:
        player = _player(r, key)
        playing = playing and player.position.playing
        if playing:
            due = frames_due(st.session_state, f"{key}_clock", player.position.frame, rate, time.monotonic())
        if playing and not player.step(due):  # the end: stopped; rerun the page to drop the timer
            st.rerun(scope="app")
        index = player.index
        player.slider(st, "Replay: epoch", playing=playing,
                      help="0 is the untrained model. Move the slider, or press Play, to watch the latent space form.")
    epoch = r.frames[index].epoch
    if r.steps is not None:
        marker = None
        if 0 < epoch <= len(r.epoch_metrics):
            marker = int(r.epoch_metrics[epoch - 1]["step"])
        st.plotly_chart(loss_figure(r.steps, r.epoch_metrics, marker_step=marker, total_steps=r.total_steps,
                                    step_stride=r.steps_stride),
                        key=f"{charts}_loss", config={"displaylogo": False})
    latent_panel(r, index, f"{charts}_latent")
