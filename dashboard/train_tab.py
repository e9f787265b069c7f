"""The Train tab: train a VAE in the app and watch it learn, then save it and compare it with others.

Left: the settings form (with presets) and Start. Right: while a job runs, an st.fragment that reruns every
second shows the progress, the loss curves and the latent space forming; after it, an epoch slider replays
the run and a form saves the model into models/<name> (it then appears in the sidebar's model list).
Below: Compare, two saved models side by side (dashboard/compare.py). The training itself is dashboard/training_job.py, which runs
vae_core's loop in a background thread. All session keys start with "train_".

Only the open tab runs (app.py), and Streamlit forgets a widget's value once it is not drawn: every widget
here has persist_state="page", so the settings, the name typed to save and the compare picks survive a visit
to Explore (a lecturer trains with beta = 1, explores, and comes back to train with beta = 4).

The figure builders at the top are pure functions (no Streamlit calls) so they can be tested on their own.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from plotly.subplots import make_subplots

from vae_core.budget import MAX_PARAMETERS, check_budget
from vae_core.config import VAEConfig
from vae_core.replay import write_replay
from vae_core import settings
from vae_core.train import TrainConfig

from . import models, paths, train_speed, views
from . import training_job as tj

POLL_S = 1.0  # seconds between refreshes of the live view (each is also the heartbeat)
KEEP_ALIVE_S = 30.0  # while a finished, unsaved run is on screen, it is touched this often (training_job: Memory)
TRAIN_SIZES = (2000, 10000, 60000)
MAX_CURVE_POINTS = 600  # points per plotted step curve; longer runs are smoothed, then thinned

# The form draws one widget per setting declared in vae_core (settings.py); a conditional one right after the
# setting it depends on, so that each sits beside its condition in the form's two columns.
FORM = [sp for sp in settings.run_specs() if sp.label]
for _sp in [sp for sp in FORM if sp.applies]:
    FORM.remove(_sp)
    FORM.insert(next(i for i, c in enumerate(FORM) if c.name == _sp.applies[0]) + 1, _sp)
# Where the form differs from the command line's defaults: a preset fills every field.
BASE = {**{sp.name: settings.format_value(sp, sp.default) if sp.kind == "ints" else sp.default for sp in FORM},
        "epochs": 60, "limit": 60000, "device": "cpu"}
# (The pretrained recipe is scripts/train_pretrained.sh.) Their durations are measured on this server
# (train_speed.py), never written here.
PRESETS = {
    "Quick demo": dict(BASE, limit=10000, epochs=30),
    "Lecture": dict(BASE, limit=60000, epochs=40),
    "Best (the pretrained recipe)": dict(BASE, limit=60000, epochs=60),
    # The quick demo's data and epochs with 16 latent dimensions: what more dimensions buy, at a like cost.
    "16-D MLP": dict(BASE, latent_dim=16, limit=10000, epochs=30),
}
CUSTOM = "Custom"

HELP = f"""
**How training here works.** The app runs the same training loop as
`python -m vae_core.train` (same settings, same speed), in the background of this server.

* **One job at a time** on this machine (the limit is set by `VAE_MAX_TRAINING_JOBS`); while someone else's job
  runs, you can watch it here, read-only.
* **Keep this page open while it trains.** The page checks in about every second. If it stops checking in for
  {tj.heartbeat_timeout_default():.0f} s (tab closed, network gone), training stops at the next step and the
  model of the last completed epoch is saved to `models/_recovered/<time>/` (nothing is saved if no epoch
  had completed); it is listed in the sidebar's **Model** list as `recovered/<time>`. A later session does not
  resume the job.
* **Nothing is kept unless you save it.** Save the model under a name to find it in the sidebar's
  **Model** list; models live in `models/` (never in `pretrained/`). A run that diverges is not saved.
  Once saved, or after the page has been away for {tj.keep_unsaved_default() / 60:.0f} minutes, the run's model
  is freed from the server's memory (its curves stay for the replay).
* **Size limit.** A model over {MAX_PARAMETERS:,} parameters (e.g. hidden sizes 8192,8192,8192) is refused
  before it starts: the app only trains what it can save and load again.
"""

ss = st.session_state
log = logging.getLogger(__name__)


# --- pure figure builders ---------------------------------------------------------------------


def smooth(values, window: float) -> np.ndarray:
    """Trailing moving average over `window` points (fewer at the start); vectorised, so cheap on long runs."""
    x = np.asarray(values, dtype=np.float64)
    w = int(round(window))
    if len(x) == 0 or w <= 1:
        return x.copy()
    cs = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(0, i - w)
    return (cs[i] - cs[lo]) / (i - lo)


def thin_index(n: int, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """At most max_points indices spread over range(n), always including the last one."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def steps_from_history(history) -> dict:
    """config['history']['steps'] in either stored form (a list of row dicts, or a dict of columns)
    -> {'step': [...], 'loss': [...], 'recon': [...], 'kl': [...]}: only the rows whose four values are all
    finite numbers (a config.json edited by hand may hold anything there); empty lists when there are none."""
    keys = ("step", "loss", "recon", "kl")
    steps = history.get("steps") if isinstance(history, dict) else None
    if isinstance(steps, dict):
        columns = [steps.get(k) for k in keys]
        if not all(isinstance(c, list) for c in columns):
            return {k: [] for k in keys}
        rows = [dict(zip(keys, values)) for values in zip(*columns)]
    elif isinstance(steps, list):
        rows = [r for r in steps if isinstance(r, dict)]
    else:
        rows = []
    rows = [r for r in rows if all(_finite(r.get(k)) for k in keys)]
    return {k: [r[k] for r in rows] for k in keys}


def epochs_from_history(history) -> list[dict]:
    """config['history']['epochs'] -> the epochs whose step and test loss are finite numbers (test_kl kept when
    it is one too): what loss_figure plots."""
    epochs = history.get("epochs") if isinstance(history, dict) else None
    out = []
    for e in epochs if isinstance(epochs, list) else []:
        if isinstance(e, dict) and _finite(e.get("test_loss")) and _finite(e.get("step", 0)):
            out.append({"epoch": e.get("epoch") if _finite(e.get("epoch")) else len(out) + 1,
                        "step": e.get("step", 0), "test_loss": e["test_loss"],
                        "test_kl": e.get("test_kl") if _finite(e.get("test_kl")) else None})
    return out


# What each loss curve is: training minimises recon + β·KL, the test loss is the plain −ELBO (β = 1), so for
# β > 1 the train curve sits above the test loss by about (β − 1)·KL.
TRAIN_LOSS = "train: recon + β·KL, the objective (per step, smoothed)"
TEST_LOSS = "test: recon + KL, the −ELBO (per epoch)"


def _curves(steps: dict) -> dict:
    """The per-step curves as plotted: a trailing mean over up to 100 steps (1/40 of the run)."""
    n = len(steps.get("step", []))
    window = min(100.0, max(1.0, n / 40))
    return {k: smooth(steps.get(k, []), window) for k in ("loss", "recon", "kl")}


def _padded(values: list, pad: float, floor: float | None = None) -> tuple[float, float] | None:
    if not values:
        return None
    lo, hi = min(values), max(values)
    lo = floor if floor is not None else lo
    margin = max(pad, 0.06 * (hi - lo))
    return (lo if floor is not None else lo - margin, hi + margin)


def y_ranges(steps: dict, epoch_metrics: list) -> tuple[tuple | None, tuple | None]:
    """(loss panel, KL panel) y ranges that show a run's curves and test points. The first steps (about 550
    nats) would squash the rest: past 40 steps the curves count from the first quarter of the steps on."""
    curves = _curves(steps)
    n = len(curves["loss"])
    tail = slice(n // 4, None) if n >= 40 else slice(None)
    ep = [e for e in epoch_metrics or [] if isinstance(e, dict) and "test_loss" in e]
    loss = [*curves["loss"][tail].tolist(), *curves["recon"][tail].tolist(), *(float(e["test_loss"]) for e in ep)]
    kl = [*curves["kl"][tail].tolist(), *(float(e["test_kl"]) for e in ep if e.get("test_kl") is not None)]
    return _padded(loss, 1.0), _padded(kl, 0.2, floor=min([0.0, *kl]))


def shared_range(ranges) -> tuple[float, float] | None:
    """The smallest range holding every given one (None ones skipped): two charts drawn on it compare by eye."""
    ranges = [r for r in ranges if r is not None]
    return (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None


def loss_figure(
    steps: dict,
    epoch_metrics: list,
    *,
    height: int = 330,
    marker_step: int | None = None,
    total_steps: int | None = None,
    loss_range: tuple | None = None,
    kl_range: tuple | None = None,
) -> go.Figure:
    """Two panels, both in nats per image against the training step:
    left the training objective (recon + beta KL) and the reconstruction term per step, smoothed, with the test
    loss (recon + KL, the -ELBO) per epoch as markers; right the KL term per step, smoothed, with the test KL per
    epoch. marker_step draws a vertical line (the epoch being replayed). loss_range, kl_range: the panels' y
    ranges (Compare gives two models the same); by default the loss panel's is y_ranges' past 40 steps."""
    # Plain dicts and no validation: plotly's validating constructors took ~35 ms a chart, and the live view
    # draws this one every POLL_S for every trainer, in the server that answers the students' clicks.
    x = np.asarray(steps.get("step", []), dtype=np.int64)
    n = len(x)
    idx = thin_index(n)
    curves = _curves(steps)
    ep = [e for e in epoch_metrics or [] if isinstance(e, dict) and "test_loss" in e]
    ex = [int(e.get("step", 0)) for e in ep]
    hover = [f"epoch {e.get('epoch')}" for e in ep]

    def curve(y, name, line, col, **more):
        return {"type": "scatter", "x": x[idx], "y": y[idx], "mode": "lines", "name": name, "line": line,
                "xaxis": "x" if col == 1 else "x2", "yaxis": "y" if col == 1 else "y2", **more}

    def per_epoch(y, name, color, col, what):
        return {"type": "scatter", "x": ex, "y": y, "mode": "lines+markers", "name": name, "text": hover,
                "marker": {"size": 7, "color": color}, "line": {"width": 1, "color": color},
                "hovertemplate": f"%{{text}}: %{{y:.2f}} nats<extra>{what}</extra>",
                "xaxis": "x" if col == 1 else "x2", "yaxis": "y" if col == 1 else "y2"}

    data = [
        curve(curves["loss"], TRAIN_LOSS, {"width": 2, "color": "#0072B2"}, 1, legendgroup="loss"),
        curve(curves["recon"], "train recon (per step, smoothed)", {"width": 1.5, "color": "#56B4E9", "dash": "dot"},
              1, legendgroup="recon"),
        curve(curves["kl"], "train KL (per step, smoothed)", {"width": 2, "color": "#009E73"}, 2, legendgroup="kl"),
        per_epoch([e["test_loss"] for e in ep], TEST_LOSS, "#D55E00", 1, "test −ELBO"),
        per_epoch([e.get("test_kl") for e in ep], "test KL (per epoch)", "#CC79A7", 2, "test KL"),
    ]
    # (double-click the chart to see everything, the first steps included)
    if loss_range is None and n >= 40:
        loss_range = y_ranges(steps, ep)[0]
    xmax = total_steps or (int(x[-1]) if n else 1)
    layout = _two_panels()
    for name, rng in (("yaxis", loss_range), ("yaxis2", kl_range)):
        if rng is not None:
            layout[name]["range"] = list(rng)
    for col in ("", "2"):
        layout["xaxis" + col].update(title={"text": "training step"}, range=[0, max(1, xmax) * 1.01])
        layout["yaxis" + col]["title"] = {"text": "nats per image"}
    if marker_step is not None:
        layout["shapes"] = [{"type": "line", "x0": marker_step, "x1": marker_step, "xref": f"x{col}", "y0": 0,
                             "y1": 1, "yref": f"y{col} domain", "line": {"color": "#888888", "dash": "dash", "width": 1}}
                            for col in ("", "2")]
    layout.update(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="x unified",
                  legend={"orientation": "h", "y": -0.25, "font": {"size": 11}})
    return go.Figure({"data": data, "layout": layout}, _validate=False)


@lru_cache(maxsize=1)
def _two_panels_template() -> str:
    """make_subplots' layout for the two panels (domains, anchors, the panels' titles), made once."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.09,
                        subplot_titles=("loss", "KL(q(z|x) ‖ p(z))"))
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)  # plotly's default one, added again when the figure is drawn
    return json.dumps(layout)


def _two_panels() -> dict:
    return json.loads(_two_panels_template())


def plane_axis_titles(variance) -> tuple[str, str]:
    """The axes of a map on a PCA plane, each with its share of the codes' variance."""
    return tuple(f"PC{k + 1} · {100 * float(v):.0f}% of the variance" for k, v in enumerate(variance[:2]))


def plane_caption(variance) -> str:
    share = 100 * float(np.sum(variance[:2]))
    return (f"For more than two latent dimensions the map is the PCA plane of this epoch's codes: PC1 and PC2 "
            f"show {share:.0f}% of their variance. It is turned to match the previous epoch's plane, so the "
            "picture does not flip or rotate from one epoch to the next.")


def latent_figure(points: np.ndarray, labels: np.ndarray, class_names, *, height: int = 420,
                  uirevision: str | None = None, one_dim: bool = False, variance=None,
                  extent: float | None = None, marker=None) -> go.Figure:
    """The 2,000-image subset's posterior means, coloured by label (the Explore map's look). variance: the share
    of the codes' variance along each axis when the points lie on a PCA plane (d > 2); None: (z1, z2)."""
    if variance is not None:
        titles = plane_axis_titles(variance)
    else:
        titles = ("z1", "(z2 = 0: one latent dimension)") if one_dim else ("z1", "z2")
    return views.scatter_figure(
        points, labels, class_names, extent=extent or views.latent_limit(points), height=height, point_size=3.5,
        uirevision=uirevision, axis_titles=titles, marker=marker,
    )


def samples_image(samples: np.ndarray) -> np.ndarray:
    """8 decoded prior samples in one row, enlarged 3x, white gaps."""
    return views.tile(samples, ncols=len(samples), pad=3, scale=3)


# --- settings ---------------------------------------------------------------------------------


def _key(field: str) -> str:
    return f"train_{field}"


def devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _options(spec: settings.Spec) -> list:
    """A choice's options in the form: the training sizes offered and this server's devices are the app's."""
    if spec.name == "limit":
        return list(TRAIN_SIZES)
    if spec.name == "device":
        return devices()
    return list(spec.choices)


FORMATS = {
    "dataset": lambda d: models.DATASET_TITLES.get(d, d),
    "arch": lambda a: {"mlp": "MLP (fully connected)", "conv": "Convolutional"}.get(a, a),
    "limit": lambda n: f"{n:,}",
}


def _apply_preset() -> None:
    preset = PRESETS.get(ss.get("train_preset"))
    if preset is None:
        return
    for name, value in preset.items():
        if name == "limit" and value not in TRAIN_SIZES:
            value = TRAIN_SIZES[-1]
        ss[_key(name)] = value


def _init_settings() -> None:
    if "train_preset" not in ss:
        ss["train_preset"] = next(iter(PRESETS))
        _apply_preset()
    for name, value in BASE.items():
        ss.setdefault(_key(name), value)
    if ss[_key("limit")] not in TRAIN_SIZES:
        ss[_key("limit")] = TRAIN_SIZES[-1]
    if ss[_key("device")] not in devices():
        ss[_key("device")] = "cpu"


def form_values() -> dict:
    """The form's values by setting name (lists as the text typed); settings not on the form at their default."""
    return {sp.name: ss.get(_key(sp.name), BASE.get(sp.name, sp.default)) for sp in settings.run_specs()}


def settings_from_state() -> tuple[VAEConfig, TrainConfig]:
    """The form's values -> (model config, training config); ValueError naming the field by its label.
    A field that does not apply (greyed out) is not used: its setting takes its default."""
    specs = settings.run_specs()
    checked = settings.check(form_values(), specs, name=lambda sp: sp.label or sp.flag)
    return settings.build(checked, specs, drop_inapplicable=True)


def session_id() -> str:
    if "train_session_id" not in ss:
        ss["train_session_id"] = uuid.uuid4().hex
    return ss["train_session_id"]


def _on_start() -> None:
    ss.pop("train_notice", None)
    ss.pop("train_save_msg", None)
    ss.pop("train_save_confirm", None)
    try:
        model_cfg, train_cfg = settings_from_state()
        check_budget(model_cfg, train_cfg.batch_size)  # from the numbers alone: refused before any allocation
    except ValueError as e:  # BudgetError is one too
        ss["train_notice"] = ("error", f"Cannot start: {e}")
        return
    problem = paths.models_root_problem()
    if problem is not None:
        ss["train_notice"] = ("error", f"Cannot start: {problem}")
        return
    try:
        job = tj.registry().start(session_id(), model_cfg, train_cfg)
    except tj.JobLimitError as e:
        ss["train_notice"] = ("warning", str(e))
        return
    except ValueError as e:
        ss["train_notice"] = ("error", f"Cannot start: {e}")
        return
    ss["train_job_id"] = job.job_id
    train_speed.start_run(job.job_id, model_cfg, train_cfg, ss.get("train_preset"))


def _widget(col, spec: settings.Spec, values: dict) -> None:
    """One setting's widget, generated from its declaration; greyed out, with the reason, where it does not apply."""
    key, ui = _key(spec.name), spec.ui
    off = not spec.is_applicable(values)
    common = dict(key=key, persist_state="page", help=spec.help[:1].upper() + spec.help[1:] + ".", disabled=off)
    if spec.kind == "ints":
        col.text_input(spec.label, **common)
    elif spec.choices or spec.name == "limit":
        col.selectbox(spec.label, _options(spec), format_func=FORMATS.get(spec.name, str), **common)
    elif spec.kind == "int":
        col.number_input(spec.label, int(ui.get("lo", spec.lo)), int(ui.get("hi", spec.hi)),
                         step=int(ui.get("step", 1)), **common)
    else:
        col.number_input(spec.label, float(ui.get("lo", spec.lo)), float(ui.get("hi", spec.hi)),
                         step=float(ui.get("step", 0.1)), format="%g", **common)
    if off:
        col.caption(f"Not used: {spec.note}.")


def settings_form(busy: bool) -> None:
    """The settings as plain widgets (not an st.form): each change reruns the page, so the greyed-out fields
    and the command-line text below follow the form at once."""
    st.selectbox("Preset", [*PRESETS, CUSTOM], key="train_preset", persist_state="page", on_change=_apply_preset,
                 help="Fills in the settings below; change any of them afterwards.")
    # The time is a caption, not part of the option's label: a label that changes once the timing is in would
    # no longer match the selected option.
    if ss.get("train_preset") in PRESETS:
        st.caption(train_speed.preset_label(PRESETS, TRAIN_SIZES)(ss["train_preset"]))
    values = form_values()
    with st.container(border=True, key="train_settings"):
        for i in range(0, len(FORM), 2):
            cols = st.columns(2)
            for col, spec in zip(cols, FORM[i:i + 2]):
                _widget(col, spec, values)
        st.button("Start training", key="train_start", type="primary", icon=":material/play_arrow:",
                  on_click=_on_start, disabled=busy, width="stretch")
    if busy:
        st.caption("Settings apply to the next run; this one is still training.")
    try:
        model_cfg, train_cfg = settings_from_state()
    except ValueError as e:
        st.caption(f"Same run from the command line: (fix the settings first: {e})")
    else:
        st.caption("Same run from the command line:")
        st.code(f"{tj.train_command(model_cfg, train_cfg)} --out models/NAME", language="bash", wrap_lines=True)


# --- the job views ----------------------------------------------------------------------------


def _find_job(job_id: str) -> tj.TrainingJob | None:
    reg = tj.registry()
    own = reg.job_for(session_id())
    if own is not None and own.job_id == job_id:
        return own
    return next((j for j in reg.running_jobs() if j.job_id == job_id), None)


def record_poll(s: tj.JobSnapshot) -> list[tuple[float, int]]:
    """This session's polls of a job, (elapsed s, step) each: what the ETA's recent pace is measured on."""
    polls = ss.setdefault("train_pace", {}).setdefault(s.job_id, [])
    if s.step > 0 and (not polls or polls[-1] != (s.elapsed, s.step)):
        polls.append((s.elapsed, s.step))
        if len(polls) > 600:  # bounded: the start's polls (its pace) and the recent ones are all pace() reads
            del polls[60:-540]
    return polls


def progress_text(s: tj.JobSnapshot, polls: list[tuple[float, int]] = ()) -> str:
    """The progress line; the time left from the run's own recent pace (train_speed.pace over the polls),
    with a word when other sessions are slowing it. Without polls: the mean pace so far."""
    if s.state == "starting":
        return "Loading the data…"
    if s.stop_reason is not None:  # shown on the click's own rerun; the job ends within a second
        kept = f"epoch {s.epochs_completed} is kept" if s.epochs_completed else "no epoch has completed yet"
        return f"Stopping… at step {s.step:,} (the run ends within a second; {kept})"
    eta, slowdown = train_speed.pace(list(polls) or [(s.elapsed, s.step)], s.total_steps)
    return (f"Epoch {max(1, s.epoch)}/{s.epochs} · step {s.step:,}/{s.total_steps:,} · "
            f"{tj.format_seconds(s.elapsed)} elapsed · {train_speed.pace_text(eta, slowdown)}")


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

    @classmethod
    def of_job(cls, s: tj.JobSnapshot) -> "ReplayData":
        return cls(s.job_id, s.latents, s.labels, s.class_names, s.model_cfg.latent_dim == 1, s.steps,
                   s.epoch_metrics, s.total_steps)


def _epoch_view(r: ReplayData, index: int) -> tuple[go.Figure, str]:
    """The latent figure and the samples (a PNG data URL) of one frame, built once per (run, epoch) and kept in the session:
    during training they change once an epoch, not on every poll, so later polls only re-send them."""
    snap = r.frames[index]
    cache = ss.setdefault("train_view_cache", {})
    key = (r.ident, snap.epoch)
    if key not in cache:
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        fig = latent_figure(snap.points, r.labels, r.class_names, uirevision=f"train-{r.ident}", one_dim=r.one_dim,
                            variance=getattr(snap, "variance", None))
        cache[key] = (fig, views.png_url(samples_image(snap.samples)))
    return cache[key]


def _latent_panel(r: ReplayData, index: int, key: str) -> None:
    if not r.frames or r.labels is None:
        st.caption("The latent map appears once the data are loaded.")
        return
    snap = r.frames[index]
    title = "before training" if snap.epoch == 0 else f"after epoch {snap.epoch}"
    st.markdown(f"**Latent space {title}** · {len(snap.points):,} test images, coloured by label")
    fig, png = _epoch_view(r, index)
    st.plotly_chart(fig, key=key, config={"displaylogo": False, "scrollZoom": True})
    if getattr(snap, "variance", None) is not None:
        st.caption(plane_caption(snap.variance))
    st.image(png, caption=f"{len(snap.samples)} samples from the prior, decoded (the same z's every epoch)")


def _live_view(job_id: str, owner: bool) -> None:
    """Reruns every POLL_S seconds while a job runs (an st.fragment): the owner's poll is the heartbeat."""
    job = _find_job(job_id)
    if job is None:
        st.rerun()
    if owner:
        job.touch()
    s = job.snapshot()
    if s.done:
        st.rerun()  # the whole app: the finished view (and the save form) replaces this one
    head = st.columns([5, 1], vertical_alignment="bottom")
    head[0].progress(s.fraction, text=progress_text(s, record_poll(s)))
    if owner:
        head[1].button("Stop", icon=":material/stop:", key="train_stop", on_click=job.stop, width="stretch",
                       disabled=s.stop_reason is not None)
    else:
        head[1].caption("watching, read-only")
    st.plotly_chart(loss_figure(s.steps, s.epoch_metrics, total_steps=s.total_steps), key="train_live_loss",
                    config={"displaylogo": False})
    _latent_panel(ReplayData.of_job(s), -1, "train_live_latent")


def _keep_alive(job_id: str) -> None:
    """A fragment that shows nothing: while this page shows its finished, unsaved run, the run keeps its model."""
    job = _find_job(job_id)
    if job is not None and job.session_id == session_id():
        job.touch()


REPLAY_SPEEDS = {"½×": 0.5, "1×": 1.0, "2×": 2.0, "4×": 4.0}  # epochs shown per second while playing


def _keys(key: str) -> tuple[str, str, str]:
    """The replay's own position and play flag, and its slider's key while paused."""
    return f"{key}_at", f"{key}_playing", f"{key}_epoch"


def _on_play(key: str, last: int) -> None:
    at_key, playing_key, _ = _keys(key)
    if ss.get(playing_key):
        ss[playing_key] = False
        return
    if ss.get(at_key, last) >= last:
        ss[at_key] = 0  # Play at the end starts over from the untrained model
    ss[playing_key] = True


def _scrubbed(key: str) -> None:
    at_key, _, slider_key = _keys(key)
    ss[at_key] = int(ss[slider_key])


def replay_player(r: ReplayData, key: str, charts: str) -> None:
    """Play / pause over the run's epochs. While playing, a fragment reruns every 1/speed s and moves the
    replay's own position on by one; Play, Pause and the speed rerun the page, which (re)starts or drops that
    timer. The position is kept apart from the slider, as the morph's player does (explore/morph.py): a timer's
    request carries the value the browser's slider showed when it was sent, which under load is a tick behind,
    and read as the position it would jump back (or to the end, and stop)."""
    last = len(r.frames) - 1
    at_key, playing_key, _ = _keys(key)
    if last <= 0:
        _replay_frame(r, key, charts, playing=False)
        return
    ss.setdefault(at_key, last)
    playing = bool(ss.get(playing_key))
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    c1.button("Pause" if playing else "Play", key=f"{key}_play", width="stretch",
              icon=":material/pause:" if playing else ":material/play_arrow:",
              on_click=_on_play, args=(key, last),
              help="Replays the latent map and the samples epoch by epoch.")
    speed = c2.segmented_control("Speed (epochs per second)", list(REPLAY_SPEEDS), key=f"{key}_speed",
                                 default="1×", persist_state="page")
    every = 1.0 / REPLAY_SPEEDS.get(speed or "1×", 1.0) if playing else None
    st.fragment(run_every=every)(_replay_frame)(r, key, charts, playing)


def _replay_frame(r: ReplayData, key: str, charts: str, playing: bool) -> None:
    last = len(r.frames) - 1
    at_key, playing_key, slider_key = _keys(key)
    index = last
    if last > 0:
        if playing and ss.get(playing_key):
            if ss.get(at_key, last) >= last:  # the end: stop, and rerun the page to drop the timer
                ss[playing_key] = False
                st.rerun(scope="app")
            ss[at_key] = min(last, ss.get(at_key, 0) + 1)
        index = min(last, max(0, int(ss.get(at_key, last))))
        if playing and ss.get(playing_key):
            # Another key, no callback, disabled: what the browser sends back for it is never read.
            ss[f"{slider_key}_playing"] = index
            st.slider("Replay: epoch", 0, last, key=f"{slider_key}_playing", disabled=True, help="Pause to scrub.")
        else:
            ss[slider_key] = index
            st.slider("Replay: epoch", 0, last, key=slider_key, on_change=_scrubbed, args=(key,),
                      help="0 is the untrained model. Move the slider, or press Play, to watch the latent "
                           "space form.")
    epoch = r.frames[index].epoch
    if r.steps is not None:
        marker = None
        if 0 < epoch <= len(r.epoch_metrics):
            marker = int(r.epoch_metrics[epoch - 1]["step"])
        st.plotly_chart(loss_figure(r.steps, r.epoch_metrics, marker_step=marker, total_steps=r.total_steps),
                        key=f"{charts}_loss", config={"displaylogo": False})
    _latent_panel(r, index, f"{charts}_latent")


def finished_view(job: tj.TrainingJob) -> None:
    if job.session_id == session_id():
        job.touch()
    s = job.snapshot()
    train_speed.finish_run(s.job_id, s.state, s.elapsed, s.epochs_completed)
    show = {"completed": st.success, "stopped": st.warning, "diverged": st.error, "error": st.error}[s.state]
    show(s.message)
    if s.can_save:
        st.fragment(run_every=KEEP_ALIVE_S)(_keep_alive)(s.job_id)
    if not s.latents:
        return
    replay_player(ReplayData.of_job(s), f"train_replay_{s.job_id}", "train_done")
    if s.can_save:
        save_form(job)
    elif s.released == "saved" and s.saved_to:
        _save_message()
    elif s.released in ("abandoned", "forgotten") and s.epochs_completed > 0 and not s.recovered_to:
        st.info("This run's model was let go after the page was away for a while, to free the server's memory; "
                "train again to save one.")


# --- saving -----------------------------------------------------------------------------------


def _saved(folder) -> None:
    ss.pop("train_save_confirm", None)
    ss["train_saved_folder"] = str(Path(folder).resolve())
    ss["train_save_msg"] = ("success", f"Saved as **{Path(folder).name}**. It is now in the sidebar's **Model** "
                                       f"list as models/{Path(folder).name}.")


def _save(job_id: str, name: str, overwrite: bool) -> None:
    """The one save: the form's button and Enter in its name field both come here, once per submit."""
    ss.pop("train_save_confirm", None)
    job = _find_job(job_id)
    if job is None or job.session_id != session_id():
        ss["train_save_msg"] = ("error", "This training run is no longer available.")
        return
    try:
        name = tj.validate_name(name)
        done = job.snapshot().saved_to
        if done and Path(done).resolve() == tj.user_model_path(name, job.models_root).resolve():
            _saved(done)  # a second submit of the same save (Enter, then a click) is that save, not a clash
            return
        if not overwrite and tj.model_exists(name, job.models_root):
            ss["train_save_confirm"] = name
            ss["train_save_msg"] = ("warning", f"A model named **{name}** already exists. Replace it?")
            return
        folder = job.save(name, overwrite=overwrite)
        _store_replay(job, folder)
    except (ValueError, FileExistsError) as e:  # the messages name no server path (training_job)
        ss["train_save_msg"] = ("error", str(e))
        return
    except OSError as e:  # a full disk, a permission: the path stays in the server log
        log.exception("saving the model %r failed", name)
        ss["train_save_msg"] = ("error", f"The model could not be saved ({type(e).__name__}: "
                                         f"{e.strerror or 'a file system error'}); nothing was changed.")
        return
    _saved(folder)


def _store_replay(job: tj.TrainingJob, folder) -> None:
    """The run's per-epoch maps and samples beside the saved checkpoint, for Compare's replay. The model is
    saved either way: a replay that cannot be written is logged, and the model simply has none."""
    s = job.snapshot()
    if not s.latents or s.labels is None:
        return
    try:
        write_replay(folder, s.latents, s.labels)
    except (OSError, ValueError):
        log.exception("writing the replay of %s failed", folder)


def _on_save(job_id: str) -> None:
    _save(job_id, str(ss.get("train_save_name", "")), overwrite=False)


def _on_replace(job_id: str) -> None:
    name = ss.get("train_save_confirm")
    if name:
        _save(job_id, name, overwrite=True)


def _on_keep() -> None:
    ss.pop("train_save_confirm", None)
    ss["train_save_msg"] = ("info", "Nothing was replaced; choose another name.")


def _on_open_saved() -> None:
    """Explore the saved model: select it in the sidebar's picker and open the Explore tab (app.py's keys)."""
    folder = ss.get("train_saved_folder")
    if folder:
        ss["model_choice"] = folder  # the sidebar picker's key (dashboard/models.py)
        ss["app_tab"] = "Explore"  # app.py's TAB_KEY


def save_form(job: tj.TrainingJob) -> None:
    st.markdown("#### Save this model")
    # An st.form: Enter in the name field submits it, exactly as the button does, and only once.
    with st.form("train_save_form", border=True, enter_to_submit=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.text_input("Name", key="train_save_name", persist_state="page", max_chars=64, placeholder="e.g. my-vae",
                      help=f"{tj.NAME_RULE}. Saved to models/<name>/.")
        c2.form_submit_button("Save", icon=":material/save:", on_click=_on_save, args=(job.job_id,),
                              width="stretch")
    _save_message(job.job_id)


def _save_message(job_id: str | None = None) -> None:
    msg = ss.get("train_save_msg")
    if not msg:
        return
    getattr(st, msg[0])(msg[1])
    if msg[0] == "warning" and ss.get("train_save_confirm") and job_id:
        c1, c2 = st.columns(2)
        c1.button(f"Replace {ss['train_save_confirm']}", key="train_save_replace", type="primary",
                  icon=":material/published_with_changes:", on_click=_on_replace, args=(job_id,), width="stretch")
        c2.button("Keep it", key="train_save_keep", on_click=_on_keep, width="stretch")
    if msg[0] == "success" and ss.get("train_saved_folder"):
        st.button("Explore it now", key="train_explore_saved", icon=":material/scatter_plot:",
                  on_click=_on_open_saved, help="Selects it in the sidebar's Model list and opens Explore.")


# --- the tab ----------------------------------------------------------------------------------


def render(active=None) -> None:
    """The Train tab. `active` (the model explored in this session) is not used: training never changes it."""
    _init_settings()
    sid = session_id()
    reg = tj.registry()
    job = reg.job_for(sid)
    others = [] if job is not None and job.running else reg.others_running(sid)

    st.markdown("### Train a VAE")
    with st.expander("How training here works", icon=":material/info:"):
        st.markdown(HELP)
    left, right = st.columns([2, 3], gap="large")
    with left:
        settings_form(busy=job is not None and job.running)
        notice = ss.get("train_notice")
        if notice:
            getattr(st, notice[0])(notice[1])
    with right:
        if job is not None and job.running:
            st.fragment(run_every=POLL_S)(_live_view)(job.job_id, True)
        elif job is not None:
            # This session's finished run (and its save form) stays first; another session's run is only named.
            if others:
                st.info(f"A training job started in another session is running ({progress_text(others[0].snapshot())})."
                        " You can start a new one when it has finished.")
            finished_view(job)
        elif others:
            st.info("A training job started in another session is running; you are watching it. You can start "
                    "yours when it has finished.")
            st.fragment(run_every=POLL_S)(_live_view)(others[0].job_id, False)
        else:
            st.info("Choose a preset (or your own settings) and press **Start training**. The loss curves and "
                    "the latent space will appear here as the model learns.")
    st.divider()
    from .compare import compare_section  # (compare.py draws with this module's figures and replay player)

    compare_section()
