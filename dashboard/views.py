"""Pure functions that turn model outputs into pictures, animations and figures.

Nothing here calls Streamlit, so every function can be unit-tested on its own.
Images are numpy arrays: float in [0, 1] or uint8 in [0, 255], shape [H, W] (one image) or [N, H, W].
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

# Ten colours that stay apart for the common kinds of colour blindness (Okabe-Ito, plus two).
CLASS_COLORS = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
    "#56B4E9", "#F0E442", "#000000", "#999999", "#8C564B",
)
DISPLAY_SIZE = 280  # pixels: a 28 x 28 image at 10x


# --- images ----------------------------------------------------------------------------------


def to_array(images) -> np.ndarray:
    """A torch tensor or numpy array of images -> float32 numpy in [0, 1], channel axis of 1 dropped.

    [B, 1, H, W] -> [B, H, W]; [1, H, W] -> [H, W]; uint8 is divided by 255.
    """
    if hasattr(images, "detach"):  # a torch tensor, without importing torch here
        images = images.detach().cpu().numpy()
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    else:
        arr = arr.astype(np.float32, copy=False)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def to_uint8(images) -> np.ndarray:
    """Images in [0, 1] (or already uint8) -> uint8 in [0, 255], same shape after to_array."""
    arr = to_array(images)
    return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)


def upscale(image, size: int | None = DISPLAY_SIZE, scale: int | None = None) -> np.ndarray:
    """Nearest-neighbour enlargement so each pixel stays a crisp square: uint8 [H*s, W*s].

    Give either the target size of the longer side (rounded down to a whole multiple) or the factor.
    """
    img = to_uint8(image)
    if img.ndim != 2:
        raise ValueError(f"upscale takes one image [H, W], got shape {img.shape}")
    if scale is None:
        scale = max(1, int(size) // max(img.shape))
    scale = max(1, int(scale))
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


def tile(images, ncols: int | None = None, pad: int = 0, pad_value: int = 255, scale: int = 1) -> np.ndarray:
    """Images [N, H, W] laid out in rows of ncols (default: all in one row) -> one uint8 image.

    `pad` pixels of `pad_value` separate the tiles (after scaling); empty cells of the last row stay pad_value.
    """
    imgs = to_uint8(images)
    if imgs.ndim == 2:
        imgs = imgs[None]
    n, h, w = imgs.shape
    if scale > 1:
        imgs = np.repeat(np.repeat(imgs, scale, axis=1), scale, axis=2)
        h, w = h * scale, w * scale
    ncols = n if not ncols else max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * h + (nrows - 1) * pad, ncols * w + (ncols - 1) * pad), pad_value, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        y, x = r * (h + pad), c * (w + pad)
        out[y : y + h, x : x + w] = imgs[i]
    return out


def grid_image(grid, scale: int = 1, pad: int = 0) -> np.ndarray:
    """A decoded n x m latent grid [n, m, H, W] (row 0 = top) -> one uint8 image of n*H by m*W (times scale)."""
    arr = to_uint8(grid)
    if arr.ndim != 4:
        raise ValueError(f"grid_image takes [rows, cols, H, W], got shape {arr.shape}")
    rows, cols, h, w = arr.shape
    return tile(arr.reshape(rows * cols, h, w), ncols=cols, pad=pad, scale=scale)


def png_bytes(image) -> bytes:
    """A uint8 (or [0, 1] float) image [H, W] or [H, W, 3] -> PNG file bytes."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = to_uint8(arr)
    buf = io.BytesIO()
    # zlib level 1: 0.7 ms for a 280 px digit against 1.8 ms at Pillow's default 6, for ~10 % more bytes;
    # the server encodes these at every student's pick
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def png_url(image) -> str:
    """An image (PNG bytes, or an array as png_bytes takes) as a data: URL. st.image puts such a URL in the page
    as it is: no media file kept for the session, no download by the browser. A pick in the Morph tab shows four
    images; serving each as a file cost the server 2-5 ms of CPU and the browser one more request."""
    png = image if isinstance(image, bytes) else png_bytes(image)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def thumb_url(image, size: int | None = DISPLAY_SIZE) -> str:
    """A 28 x 28 image enlarged to `size` pixels (upscale) as a PNG data URL (png_url): what st.image shows."""
    return png_url(upscale(image, size=size))


def strip_image(frames, scale: int = 3, pad: int = 2, ncols: int | None = None) -> np.ndarray:
    """The frames of a morph [T, H, W] side by side (or wrapped after ncols), white gaps between."""
    return tile(frames, ncols=ncols, pad=pad, scale=scale)


def strip_png(frames, scale: int = 3, pad: int = 2) -> bytes:
    """The morph as one PNG strip, frames left to right."""
    return png_bytes(strip_image(frames, scale=scale, pad=pad))


GREY_PALETTE = [level for i in range(256) for level in (i, i, i)]  # palette index i is grey level i


def gif_bytes(frames, size: int = DISPLAY_SIZE, duration_ms: int = 80, hold_ms: int = 500) -> bytes:
    """An animated GIF of the frames [T, H, W], each enlarged (nearest neighbour) to about `size` px.

    Loops forever; the first and last frames are held for `hold_ms` so the endpoints can be seen.
    (GIF merges consecutive identical frames, so a morph between identical codes has fewer frames.)
    """
    imgs = to_uint8(frames)
    if imgs.ndim == 2:
        imgs = imgs[None]
    if len(imgs) == 0:
        raise ValueError("gif_bytes needs at least one frame")
    # Palette frames sharing one fixed grey palette, written without Pillow's palette optimisation: the same
    # pixels, encoded in 6 ms instead of 25 (it would otherwise build and match a palette for every frame).
    pil = []
    for f in imgs:
        frame = Image.fromarray(upscale(f, size=size)).convert("P")
        frame.putpalette(GREY_PALETTE)
        pil.append(frame)
    durations = [int(duration_ms)] * len(pil)
    durations[0] = durations[-1] = max(int(hold_ms), int(duration_ms))
    buf = io.BytesIO()
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=durations, loop=0,
                optimize=False)
    return buf.getvalue()


def add_noise(image, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Corrupt one image (float [H, W] in [0, 1]); returns a new float32 image in [0, 1].

    gaussian:        x + N(0, level^2), clipped to [0, 1]
    salt-and-pepper: a fraction `level` of the pixels set to 0 or 1 (half each)
    """
    x = to_array(image).copy()
    rng = np.random.default_rng(seed)
    level = float(level)
    if kind == "gaussian":
        x = x + rng.normal(0.0, level, size=x.shape).astype(np.float32)
    elif kind in ("salt-and-pepper", "salt_and_pepper", "s&p"):
        hit = rng.random(x.shape) < level
        salt = rng.random(x.shape) < 0.5
        x[hit & salt] = 1.0
        x[hit & ~salt] = 0.0
    else:
        raise ValueError(f"noise kind must be 'gaussian' or 'salt-and-pepper', got {kind!r}")
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def recon_gallery(originals, reconstructions, scale: int = 2, pad: int = 2) -> np.ndarray:
    """Test images (top row) over their reconstructions (bottom row) -> one uint8 image."""
    a, b = to_uint8(originals), to_uint8(reconstructions)
    if a.ndim == 2:
        a, b = a[None], b[None]
    if a.shape != b.shape:
        raise ValueError(f"originals {a.shape} and reconstructions {b.shape} differ in shape")
    return tile(np.concatenate([a, b]), ncols=len(a), pad=pad, scale=scale)


# --- latent geometry -------------------------------------------------------------------------


def plane_coords(mu: np.ndarray, seed: int = 0) -> np.ndarray:
    """The two coordinates plotted for each code [N, d] -> [N, 2]: (z1, z2), or (z1, jitter) when d = 1."""
    mu = np.asarray(mu, dtype=np.float32)
    if mu.shape[1] >= 2:
        return np.ascontiguousarray(mu[:, :2])
    jitter = np.random.default_rng(seed).uniform(-0.5, 0.5, size=len(mu)).astype(np.float32)
    return np.stack([mu[:, 0], jitter], 1)


def latent_limit(mu: np.ndarray, floor: float = 4.0, cap: float = 10.0) -> float:
    """Half-width of the slider range and the plot: +-4, widened (to a half unit) when the data reach further."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.size == 0 or not np.isfinite(mu).all():
        return floor
    reach = float(np.quantile(np.abs(mu[:, : min(2, mu.shape[1])]), 0.999)) * 1.1
    return float(min(cap, max(floor, math.ceil(reach * 2) / 2)))


def ellipse_shape(center: Sequence[float], sigma: Sequence[float], color: str = "#222222",
                  dash: bool = False) -> dict:
    """A Plotly layout shape: the axis-aligned 1-sigma ellipse of a diagonal Gaussian q(z|x) in (z1, z2)."""
    (x, y), (sx, sy) = (float(center[0]), float(center[1])), (float(sigma[0]), float(sigma[1]))
    return dict(
        type="circle", xref="x", yref="y", x0=x - sx, x1=x + sx, y0=y - sy, y1=y + sy,
        line=dict(color=color, width=2, dash="dash" if dash else "solid"), fillcolor="rgba(0,0,0,0.08)",
        layer="above",
    )


# --- the latent scatter ----------------------------------------------------------------------


def scatter_figure(
    points: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    extent: float = 4.0,
    marker: Sequence[float] | None = None,
    picks: Sequence[tuple[str, float, float]] = (),
    ellipses: Sequence[dict] = (),
    background: np.ndarray | str | None = None,
    background_extent: float | None = None,
    background_opacity: float = 0.35,
    extra: Sequence[dict] = (),
    arrows: Sequence[tuple[float, float, float, float]] = (),
    height: int = 600,
    point_size: float = 4.0,
    uirevision: str | None = None,
    axis_titles: tuple[str, str] = ("z1", "z2"),
    center: Sequence[float] = (0.0, 0.0),
    hidden: Sequence[int] = (),
    font_size: int = 15,
) -> go.Figure:
    """The latent map: one WebGL trace per class (so the legend can hide classes), points = posterior means.

    points [N, 2] plotted coordinates; labels [N] ints; each point's customdata is its test-set index.
    marker: the slider position (a star). picks: (name, x, y) of picked points (open rings).
    ellipses: keyword arguments of ellipse_shape (center, sigma, color, dash), each drawn as a 1-sigma ellipse.
    background: a decoded grid image (uint8, row 0 = top, or
    the URL of one) stretched under the points over [-b, b]^2, b = background_extent (default: extent).
    extra: more dicts of x, y, name, symbol, color.
    arrows: (x0, y0, x1, y1) drawn as arrows from (x0, y0) to (x1, y1).
    center, extent: the square shown, [cx - e, cx + e] x [cy - e, cy + e]. hidden: classes shown only in the
    legend. font_size: ticks, legend and hover text (titles 2 px larger); 18 for a lecture hall.
    """
    pts = np.asarray(points, dtype=np.float32)
    labels = np.asarray(labels).astype(np.int64)
    hidden = {int(h) for h in hidden}
    # Plain dicts, no validation: plotly's validating constructors took ~30 ms for this figure, which the Train
    # tab builds at every epoch of every training, in the server that answers the students' clicks.
    traces: list[dict] = []
    annotations: list[dict] = []
    for k, name in enumerate(class_names):
        idx = np.flatnonzero(labels == k)
        traces.append(dict(
            type="scattergl", x=pts[idx, 0], y=pts[idx, 1], customdata=idx.astype(np.int32), mode="markers",
            name=str(name), visible="legendonly" if k in hidden else True,
            marker=dict(size=point_size, color=CLASS_COLORS[k % len(CLASS_COLORS)], opacity=0.7),
            hovertemplate=f"<b>{name}</b><br>test image #%{{customdata}}<br>"
                          f"z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
        ))
    # The markers are WebGL traces too: SVG traces would be drawn underneath the WebGL points.
    for name, x, y in picks:
        traces.append(dict(
            type="scattergl", x=[x], y=[y], mode="markers", name=f"picked {name}", hoverinfo="skip",
            showlegend=False, marker=dict(size=16, symbol="circle-open", color="#D62728", line=dict(width=3)),
        ))
        annotations.append(dict(x=x, y=y, text=f"<b>{name}</b>", showarrow=False, xshift=13, yshift=13,
                                font=dict(size=14, color="#D62728"), bgcolor="rgba(255,255,255,0.7)"))
    for e in extra:
        traces.append(dict(
            type="scattergl", x=list(e["x"]), y=list(e["y"]), mode=e.get("mode", "markers"), name=e.get("name", ""),
            marker=dict(size=e.get("size", 14), symbol=e.get("symbol", "x"), color=e.get("color", "#D62728"),
                        line=dict(width=1.5, color="white")),
            line=dict(color=e.get("color", "#D62728"), dash="dot"), hoverinfo="name",
        ))
    if marker is not None:
        traces.append(dict(
            type="scattergl", x=[float(marker[0])], y=[float(marker[1])], mode="markers", name="slider z",
            marker=dict(size=18, symbol="star", color="#FFD700", line=dict(width=1.5, color="#111111")),
            hovertemplate="slider z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    e, (cx, cy) = float(extent), (float(center[0]), float(center[1]))
    # Type big enough to read on a projector from the back of a room.
    f, ft = int(font_size), int(font_size) + 2
    axis = dict(zeroline=True, constrain="domain", tickfont=dict(size=f))
    layout = dict(
        height=height, margin=dict(l=10, r=10, t=36, b=10), dragmode="pan", font=dict(size=f),
        legend=dict(title=dict(text="class: click hides,<br>double-click shows only it", font=dict(size=f)),
                    itemsizing="constant", itemclick="toggle", itemdoubleclick="toggleothers",
                    font=dict(size=f), y=1, yanchor="top"),
        hoverlabel=dict(font=dict(size=f)),
        xaxis=dict(title=dict(text=axis_titles[0], font=dict(size=ft)), range=[cx - e, cx + e], **axis),
        yaxis=dict(title=dict(text=axis_titles[1], font=dict(size=ft)), range=[cy - e, cy + e], scaleanchor="x",
                   scaleratio=1, **axis),
        uirevision=uirevision, hovermode="closest", clickmode="event+select", annotations=annotations,
    )
    fig = go.Figure({"data": traces, "layout": layout}, _validate=False)
    for ellipse in ellipses:
        fig.add_shape(**ellipse_shape(**ellipse))
    for x0, y0, x1, y1 in arrows:
        fig.add_annotation(x=float(x1), y=float(y1), ax=float(x0), ay=float(y0), xref="x", yref="y", axref="x",
                           ayref="y", text="", showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=2.5,
                           arrowcolor="#D62728", standoff=8)
    if background is not None:
        b = e if background_extent is None else float(background_extent)
        # a data URL made here: the figure is not validated, and validation is what turns a PIL image into one
        source = background if isinstance(background, str) else (
            "data:image/png;base64,"
            + base64.b64encode(png_bytes(np.asarray(background, dtype=np.uint8))).decode("ascii"))
        fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
        fig.add_layout_image(
            source=source, xref="x", yref="y", x=-b, y=b,
            sizex=2 * b, sizey=2 * b, sizing="stretch", xanchor="left", yanchor="top",
            opacity=background_opacity, layer="below",
        )
    return fig


def selected_index(event, n_points: int) -> int | None:
    """The test-set index of the last clicked point in a Streamlit Plotly selection event (Compare's maps), or None.

    Points of the class traces carry their index as customdata; clicks on the marker or picks have none.
    """
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for p in reversed(list(points or [])):
        cd = p.get("customdata") if isinstance(p, dict) else None
        if isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        if isinstance(cd, (int, float)) and not isinstance(cd, bool) and 0 <= int(cd) < n_points:
            return int(cd)
    return None
