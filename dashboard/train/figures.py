"""The Train page's figures, pure (no Streamlit): the loss curves, the latent map of a snapshot, the samples.

Used by the live view, the replay and Compare; the figure builders take plain data (the job's steps and epoch
metrics, or a checkpoint's config["history"]), so they can be tested on their own.
"""

from __future__ import annotations

import html
import json
import math
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import views

MAX_CURVE_POINTS = 600  # points per plotted step curve; longer runs are smoothed, then thinned


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
CURVES = ((TRAIN_LOSS, "#0072B2"), ("train recon (per step, smoothed)", "#56B4E9"),
          ("train KL (per step, smoothed)", "#009E73"), (TEST_LOSS, "#D55E00"), ("test KL (per epoch)", "#CC79A7"))


def _curves(steps: dict, stride: int = 1) -> dict:
    """The per-step curves as plotted: a trailing mean over up to 100 steps (1/40 of the run). stride: steps
    per point, where each point is already the mean of that many (a long run's StepHistory)."""
    n = len(steps.get("step", []))
    window = max(1.0, min(100.0, max(1.0, n * stride / 40)) / stride)
    return {k: smooth(steps.get(k, []), window) for k in ("loss", "recon", "kl")}


def _padded(values: list, pad: float, floor: float | None = None) -> tuple[float, float] | None:
    if not values:
        return None
    lo, hi = min(values), max(values)
    lo = floor if floor is not None else lo
    margin = max(pad, 0.06 * (hi - lo))
    return (lo if floor is not None else lo - margin, hi + margin)


def y_ranges(steps: dict, epoch_metrics: list, stride: int = 1) -> tuple[tuple | None, tuple | None]:
    """(loss panel, KL panel) y ranges that show a run's curves and test points. The first steps (about 550
    nats) would squash the rest: past 40 steps the curves count from the first quarter of the steps on."""
    curves = _curves(steps, stride)
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
    step_stride: int = 1,
    legend: bool = True,
) -> go.Figure:
    """Two panels, both in nats per image against the training step:
    left the training objective (recon + beta KL) and the reconstruction term per step, smoothed, with the test
    loss (recon + KL, the -ELBO) per epoch as markers; right the KL term per step, smoothed, with the test KL per
    epoch. marker_step draws a vertical line (the epoch being replayed). loss_range, kl_range: the panels' y
    ranges (Compare gives two models the same, and the same total_steps); by default the loss panel's is
    y_ranges' past 40 steps. legend=False: none in the figure (Compare draws one for both, legend_html)."""
    # Plain dicts and no validation: plotly's validating constructors took ~35 ms a chart, and the live view
    # draws this one every POLL_S for every trainer, in the server that answers the students' clicks.
    x = np.asarray(steps.get("step", []), dtype=np.int64)
    n = len(x)
    idx = thin_index(n)
    curves = _curves(steps, step_stride)
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

    (loss, recon, kl, test_loss, test_kl) = CURVES
    data = [
        curve(curves["loss"], loss[0], {"width": 2, "color": loss[1]}, 1, legendgroup="loss"),
        curve(curves["recon"], recon[0], {"width": 1.5, "color": recon[1], "dash": "dot"}, 1, legendgroup="recon"),
        curve(curves["kl"], kl[0], {"width": 2, "color": kl[1]}, 2, legendgroup="kl"),
        per_epoch([e["test_loss"] for e in ep], test_loss[0], test_loss[1], 1, "test −ELBO"),
        per_epoch([e.get("test_kl") for e in ep], test_kl[0], test_kl[1], 2, "test KL"),
    ]
    # (double-click the chart to see everything, the first steps included)
    if loss_range is None and n >= 40:
        loss_range = y_ranges(steps, ep, step_stride)[0]
    xmax = total_steps or (int(x[-1]) if n else 1)
    layout = _two_panels()
    for name, rng in (("yaxis", loss_range), ("yaxis2", kl_range)):
        if rng is not None:
            layout[name]["range"] = list(rng)
    # Titles and tick labels get their own margin (automargin), clear of the plots; the KL panel is the narrow
    # one (at 1366 px, Compare's is under 200 px wide): fewer ticks there, and its y title is the loss panel's.
    for col, ticks in (("", 6), ("2", 4)):
        layout["xaxis" + col].update(title={"text": "training step"}, range=[0, max(1, xmax) * 1.01], nticks=ticks,
                                     automargin=True)
        layout["yaxis" + col].update(automargin=True)
    layout["yaxis"]["title"] = {"text": "nats per image (both panels)"}
    if marker_step is not None:
        layout["shapes"] = [{"type": "line", "x0": marker_step, "x1": marker_step, "xref": f"x{col}", "y0": 0,
                             "y1": 1, "yref": f"y{col} domain",
                             "line": {"color": "#888888", "dash": "dash", "width": 1}}
                            for col in ("", "2")]
    layout.update(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="x unified",
                  legend={"orientation": "h", "y": -0.25, "font": {"size": 11}}, showlegend=legend)
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def legend_html(size_px: int) -> str:
    """The loss figure's curves as one line of HTML, for a legend outside the charts (Compare: one for both):
    a line of text wraps where it must and never runs into a plot or an axis title."""
    items = [f'<span style="white-space: nowrap; margin-right: 1.2em"><span style="color: {color}">'
             f'{"●" if "per epoch" in name else "━"}</span> {name}</span>' for name, color in CURVES]
    return f'<div class="loss-legend" style="font-size: {int(size_px)}px; line-height: 1.5">{" ".join(items)}</div>'


@lru_cache(maxsize=1)
def _two_panels_template() -> str:
    """make_subplots' layout for the two panels (domains, anchors, the panels' titles), made once."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.1,
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


LIVE_MAP_PX = 400  # the live latent map's side, in pixels
DOT_OFFSETS = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if dy * dy + dx * dx <= 5]  # a 5 px dot


def latent_image(points: np.ndarray, labels: np.ndarray, extent: float, size: int = LIVE_MAP_PX) -> np.ndarray:
    """The latent map as a picture [size, size, 3] (uint8) of the square [-extent, extent]^2, z2 up: one dot
    per point in its class's colour, thin grey axes through 0. The live view shows this rather than the WebGL
    chart: a browser rendering in software took seconds to build that chart, at every epoch."""
    img = np.full((size, size, 3), 255, dtype=np.uint8)
    mid = size // 2
    img[mid, :] = img[:, mid] = 215
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    keep = np.isfinite(pts).all(1)
    pix = np.round((pts[keep] / (2 * extent) + 0.5) * (size - 1)).astype(np.int64)
    cols, rows = pix[:, 0], size - 1 - pix[:, 1]
    palette = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in views.CLASS_COLORS], dtype=np.uint8)
    colours = palette[np.asarray(labels)[keep].astype(np.int64) % len(palette)]
    for dy, dx in DOT_OFFSETS:
        r, c = rows + dy, cols + dx
        on = (r >= 0) & (r < size) & (c >= 0) & (c < size)
        img[r[on], c[on]] = colours[on]
    return img


def classes_legend_html(class_names, size_px: int = 13) -> str:
    """The latent map's classes and their colours, as one line of HTML that wraps where it must."""
    items = [f'<span style="white-space: nowrap; margin-right: 0.9em"><span style="color: '
             f'{views.CLASS_COLORS[k % len(views.CLASS_COLORS)]}">●</span> {html.escape(str(name))}</span>'
             for k, name in enumerate(class_names)]
    return f'<div class="classes-legend" style="font-size: {int(size_px)}px; line-height: 1.5">{" ".join(items)}</div>'


def samples_image(samples: np.ndarray) -> np.ndarray:
    """8 decoded prior samples in one row, enlarged 3x, white gaps."""
    return views.tile(samples, ncols=len(samples), pad=3, scale=3)
