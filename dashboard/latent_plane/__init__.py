"""The latent plane and the drawing pad: two st.components.v2 components, plain JS files, no build step.

    latent_plane(...)   the encoded test set, the ★ and a copy of the decoder that runs in the page, so that
                        moving or dragging over the plane, the arrow keys and the in-page z sliders show the
                        decoded image at every animation frame with no Python in the loop; a release, a click,
                        a settled zoom, a legend change or an undo goes back to Python as one event each
                        (the protocol: frontend/plane.js's header)
    drawing_pad(...)    a 280 x 280 pad to draw a digit on; each finished stroke goes back as a PNG

st.components.v2 (Streamlit >= 1.50) runs a component's JavaScript as an ES module in the app's own page,
in a shadow root: no iframe and no postMessage between the two, and module-level state (the decoder, the
points) survives reruns. Nothing is built or installed. The plane is ES modules, one job each: the app's server
serves frontend/ (assets.serve_modules, before each mount) and the page imports frontend/plane.js, which imports
its siblings by relative URL. frontend/decoder.js is also what the Node parity test runs. The CSS, and the
drawing pad's one file, are passed inline.

Large data (decoder weights, points, the background picture) goes in data["blobs"] only the first time a
session needs it (spec.BlobLedger); later runs send its key, and the page keeps what it was sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from .assets import serve_modules
from .spec import BlobLedger, UnsupportedDecoder, as_json, blob_key, decoder_spec, image_spec, points_spec, shapes_spec

__all__ = [
    "latent_plane", "release_value", "pick_value", "view_value", "legend_value", "undo_value", "drawing_pad",
    "drawn_value", "BlobLedger", "UnsupportedDecoder",
    "as_json", "blob_key", "decoder_spec", "image_spec", "points_spec", "shapes_spec", "PLANE_NAME", "PAD_NAME",
]

FRONTEND = Path(__file__).resolve().parent / "frontend"
PLANE_NAME = "latent_explorer.latent_plane"
PAD_NAME = "latent_explorer.drawing_pad"
PLANE_ENTRY = "plane.js"  # the module the page imports; it imports the rest of frontend/


def _read(*names: str) -> str:
    return "\n".join((FRONTEND / n).read_text(encoding="utf-8") for n in names)


_PLANE_CSS = _read("plane.css")
# The js is set at each mount (serve_modules): it needs the running server's component manager.
_plane = st.components.v2.component(PLANE_NAME, css=_PLANE_CSS)
_pad = st.components.v2.component(PAD_NAME, css=_read("draw.css"), js=_read("draw.js"))


def _ledger(key: str) -> BlobLedger:
    ss = st.session_state
    name = f"_{key}_blobs_sent"
    if not isinstance(ss.get(name), BlobLedger):
        ss[name] = BlobLedger()
    return ss[name]


def _on_missing(key: str) -> None:
    """The page does not hold some blobs it was told about: send them again with this rerun."""
    value = st.session_state.get(key)
    missing = value.get("missing") if hasattr(value, "get") else None
    if isinstance(missing, list):
        _ledger(key).forget(missing)


def latent_plane(
    key: str,
    data: dict,
    blobs: dict[str, dict | Callable[[], dict]],
    on_release: Callable[[], None] | None = None,
    on_pick: Callable[[], None] | None = None,
    on_view: Callable[[], None] | None = None,
    on_legend: Callable[[], None] | None = None,
    on_undo: Callable[[], None] | None = None,
):
    """Mount the plane. `data` says what to show (see the protocol in frontend/plane.js: z, limit,
    view {cx, cy, half, rev}, home, focus, hidden + hiddenRev, presenter, undoable, sliders, sliderOrder,
    sliderNames, marks, ellipses, ...); `blobs` maps the keys that data refers to (data["decoder"],
    data["points"], data["background"]) to their payloads, or to functions making them: only those this
    session has not been sent yet are made and sent.

    The callbacks run (as widget callbacks, before the script) when the page sends that event; read it with
    release_value / pick_value / view_value / legend_value / undo_value(key).
    """
    serve_modules(PLANE_NAME, FRONTEND, PLANE_ENTRY, _PLANE_CSS)
    payload = dict(data)
    payload["blobs"] = _ledger(key).outgoing(blobs)
    noop = lambda: None  # noqa: E731  (a trigger needs a callback to be reported)
    return _plane(
        key=key, data=as_json(payload), width="stretch", height="content",
        on_release_change=on_release or noop, on_pick_change=on_pick or noop, on_view_change=on_view or noop,
        on_legend_change=on_legend or noop, on_undo_change=on_undo or noop,
        on_missing_change=lambda: _on_missing(key),
    )


def _event(key: str, name: str):
    value = st.session_state.get(key)
    return value.get(name) if hasattr(value, "get") else None


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def release_value(key: str) -> list[float] | None:
    """Inside on_release: the whole latent vector [z1, ..., zd] the page ended on (a drag's end, a click on the
    plane, the arrow keys' pause, an in-page slider let go). Older pages sent only the plane's (z1, z2):
    callers take z[:d]."""
    v = _event(key, "release")
    z = v.get("z") if isinstance(v, dict) else None
    if not isinstance(z, list) or not z or len(z) > 4096 or not all(_number(x) for x in z):
        return None
    return [float(x) for x in z]


def view_value(key: str) -> dict[str, float] | None:
    """Inside on_view: the square the page settled on after a zoom or pan, {cx, cy, half} (half > 0)."""
    v = _event(key, "view")
    if not isinstance(v, dict) or not all(_number(v.get(k)) for k in ("cx", "cy", "half")) or not v["half"] > 0:
        return None
    return {k: float(v[k]) for k in ("cx", "cy", "half")}


def legend_value(key: str) -> list[int] | None:
    """Inside on_legend: the class indices now hidden in the legend (sorted, no repeats; [] = all shown)."""
    v = _event(key, "legend")
    hidden = v.get("hidden") if isinstance(v, dict) else None
    if not isinstance(hidden, list) or len(hidden) > 1024:
        return None
    if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in hidden):
        return None
    return sorted(set(hidden))


def undo_value(key: str) -> bool:
    """Inside on_undo: whether this run was asked to undo (Backspace / U on the plane, or its Undo button)."""
    return isinstance(_event(key, "undo"), dict)


def pick_value(key: str) -> int | None:
    """Inside on_pick: the index of the clicked dot (a test image)."""
    v = _event(key, "pick")
    i = v.get("index") if isinstance(v, dict) else None
    return int(i) if isinstance(i, int) and not isinstance(i, bool) and i >= 0 else None


def drawing_pad(key: str, image: str | None, on_drawn: Callable[[], None], on_cleared: Callable[[], None],
                blank_rev: int = 0):
    """Mount the drawing pad; `image` (a PNG data URL) refills a blank pad; a new `blank_rev` blanks it (the
    page's digit is now another's, an upload). Read the drawing with drawn_value."""
    return _pad(key=key, data={"image": image, "blank": int(blank_rev)}, width="content", height="content",
                on_drawn_change=on_drawn, on_cleared_change=on_cleared)


def drawn_value(key: str) -> str | None:
    """Inside on_drawn: the pad as a PNG data URL."""
    v = _event(key, "drawn")
    return v if isinstance(v, str) else None
