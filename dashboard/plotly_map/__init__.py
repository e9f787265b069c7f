"""The Plotly map: a st.components.v2 component (ES modules in frontend/, no build step) that draws a latent
scatter with plotly.js and updates it in place. The app's server serves frontend/ and the page imports
frontend/plotly_map.js, which imports its siblings (latent_plane.assets.serve_modules, before each mount).

    plotly_map(key, data, blobs, on_pick=..., on_view=..., on_legend=...)   mount the map; the events'
        values are read with pick_value / view_value / legend_value(key) (frontend/plotly_map.js's header)
    preload(key, data=None, blobs=None)   mount it to show nothing: the page fetches and compiles plotly.js while
        idle, and with data draws that map off screen for a later plotly_map to take over
    points_blob(points, labels)   (key, payload) of the scatter's points, keyed by their content

Why a component and not st.plotly_chart: st.plotly_chart sends the whole figure (10,000 points) on every rerun,
and a figure that changes (the ★ moved by a pick) gets a new element id, so the browser draws it from scratch
and the user's zoom is lost. Here the points go to the page once per session (as in dashboard/latent_plane,
through a BlobLedger), each rerun sends only the marks and the view, and the page calls Plotly.react.

Where plotly.js comes from: the installed `plotly` package ships plotly.min.js (4.8 MB, 1.4 MB gzipped).
Inline component JS is resent with every rerun, so it is served as a file instead: Streamlit serves a
components-v2 asset folder at /_stcore/bidi-components/<component>/<file> for components declared in a
package's pyproject.toml; `_serve_plotly_js` declares the plotly package's package_data folder the same way
(latent_plane.assets.declare_asset_dir). If that is impossible or the page cannot load the URL, the source goes
once per session through the ledger instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import streamlit as st

from .. import latent_plane
from ..latent_plane.assets import declare_asset_dir, serve_modules
from ..latent_plane.spec import BlobLedger, as_json, blob_key, points_spec

__all__ = ["plotly_map", "preload", "points_blob", "pick_value", "view_value", "legend_value", "NAME"]

FRONTEND = Path(__file__).resolve().parent / "frontend"
NAME = "latent_explorer.plotly_map"
ENTRY = "plotly_map.js"  # the module the page imports; it imports the rest of frontend/
ASSETS = "latent_explorer.plotly_js"  # the name plotly's package_data folder is served under
PLOTLY_FILE = "plotly.min.js"
LEDGER = "_plotly_map_blobs_sent"  # one per session: the page keeps its blobs at module level, for every mount
INLINE = "_plotly_map_inline"  # this session's page could not load plotly.js from its URL


def _read(name: str) -> str:
    return (FRONTEND / name).read_text(encoding="utf-8")


_CSS = _read("plotly_map.css")
# Not in a shadow root: plotly.js styles its modebar, hover labels and cursors from the document's head.
# The js is set at each mount (serve_modules): it needs the running server's component manager.
_component = st.components.v2.component(NAME, css=_CSS, isolate_styles=False)


@lru_cache(maxsize=1)
def _plotly_package() -> tuple[Path, str] | None:
    """(plotly's package folder, the plotly.js version of its plotly.min.js), without importing plotly."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "package_data" / PLOTLY_FILE
    try:
        with path.open("r", encoding="utf-8") as f:
            head = f.read(200)
    except OSError:
        return None
    m = re.search(r"plotly\.js v(\d[\w.-]*)", head)
    return root, m.group(1) if m else "unknown"


def _serve_plotly_js() -> str | None:
    """The URL (relative to the app's base path) Streamlit serves plotly.min.js at, or None.

    Registered on the running server's component manager at the first mount (AppTest makes a new one per test),
    as the manifest of a package `latent_explorer` with a component `plotly_js` whose asset_dir is plotly's
    package_data. That folder holds only the plotly package's public files (plotly.min.js, its templates and
    sample datasets)."""
    package = _plotly_package()
    if package is None:
        return None
    root, version = package
    try:
        if not declare_asset_dir(ASSETS, root / "package_data", version):
            return None
    except Exception:  # Streamlit would not serve it: the page gets the source through the ledger
        return None
    # ?v: a new plotly package is a new URL, never an old copy from the browser's cache
    return f"_stcore/bidi-components/{ASSETS}/{PLOTLY_FILE}?v={version}"


def _plotly_source() -> dict:
    root, _ = _plotly_package()
    return {"kind": "script", "source": (root / "package_data" / PLOTLY_FILE).read_text(encoding="utf-8")}


def _plotly_key() -> str:
    package = _plotly_package()
    return blob_key("plotly.js", package[1] if package else None)


def _ledger() -> BlobLedger:
    ss = st.session_state
    if not isinstance(ss.get(LEDGER), BlobLedger):
        ss[LEDGER] = BlobLedger()
    return ss[LEDGER]


def _on_missing(key: str) -> None:
    """The page does not hold some blobs it was told about (or could not load plotly.js): send them again."""
    value = st.session_state.get(key)
    missing = value.get("missing") if hasattr(value, "get") else None
    if not isinstance(missing, list):
        return
    if _plotly_key() in missing:
        st.session_state[INLINE] = True
    _ledger().forget(missing)


def _with_plotly(data: dict, blobs: dict) -> dict:
    """data + where plotly.js comes from, and the blobs this session's page has not been sent yet."""
    url = _serve_plotly_js()
    key = _plotly_key()
    payload = dict(data)
    payload["plotly"] = {"url": url, "key": key}
    if url is None or st.session_state.get(INLINE):
        blobs = {**blobs, key: _plotly_source} if _plotly_package() else blobs
    payload["blobs"] = _ledger().outgoing(blobs)
    return payload


def points_blob(points: np.ndarray, labels: np.ndarray) -> tuple[str, Callable[[], dict]]:
    """(key, a function making the payload): the key is a hash of the numbers, so a new model, dataset or plane
    projection is a new key, and the same points are sent once (80 kB for 10,000 points)."""
    points = np.ascontiguousarray(points, dtype=np.float32)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    digest = hashlib.sha1(points.tobytes() + labels.tobytes()).hexdigest()
    return blob_key("points", digest), lambda: points_spec(points, labels)


def plotly_map(
    key: str,
    data: dict,
    blobs: dict[str, dict | Callable[[], dict]],
    on_pick: Callable[[], None] | None = None,
    on_view: Callable[[], None] | None = None,
    on_legend: Callable[[], None] | None = None,
):
    """Mount the map. `data`: classes, colors, axes, points (a blob key), star [x, y], marks, ellipses,
    background (a blob key of latent_plane.image_spec) + backgroundOpacity, view {cx, cy, half, rev},
    uirevision, hidden + hiddenRev, height, fontSize, pointSize (frontend/plotly_map.js). `blobs` maps the keys
    that data refers to onto their payloads, or functions making them: only those this session's page lacks
    are made and sent."""
    serve_modules(NAME, FRONTEND, ENTRY, _CSS)
    noop = lambda: None  # noqa: E731  (a trigger needs a callback to be reported)
    return _component(
        key=key, data=as_json(_with_plotly(data, blobs)), width="stretch", height="content",
        on_pick_change=on_pick or noop, on_view_change=on_view or noop, on_legend_change=on_legend or noop,
        on_missing_change=lambda: _on_missing(key),
    )


def preload(key: str, data: dict | None = None, blobs: dict | None = None):
    """Mount the component to show nothing: the page loads plotly.js when idle and compiles its WebGL shaders.
    With `data` and `blobs` as for plotly_map, it draws that map off screen for a later plotly_map to take over."""
    payload = {"preload": True} if data is None else {"preload": True, "map": data}
    serve_modules(NAME, FRONTEND, ENTRY, _CSS)
    return _component(key=key, data=as_json(_with_plotly(payload, blobs or {})), width="stretch",
                      height="content", on_missing_change=lambda: _on_missing(key))


# The Plotly map sends the live plane's events (pick, view, legend) with the same values: the same readers.
pick_value, view_value, legend_value = latent_plane.pick_value, latent_plane.view_value, latent_plane.legend_value
