"""The view in the URL: the query string follows the settings, and a link opened later shows the same view.

    m    model, "source/name" (pretrained/mnist-mlp)     tab  "train" when the Train tab is open
    z    the ★, comma-separated (1.25,-0.5)               v    the view: centre and half-width (0,0,4)
    map  "plotly" when the Plotly map is shown            bg   1: the manifold under the points
    sub  the sub-tab: grid, morph, prior, recon, denoise  p    the picks, test-image numbers (7,42)
    me   the morph's ends, 0-3 (as listed in the Morph tab)  mm  slerp   ms  the morph's steps
    pr   1: presenter mode                                 ex   0: explanations hidden
    pl   d > 2: the map's plane, "3,7" (z3 against z7; the PCA plane, the default, is left out)
    tr   the Traversals tab's rows (1-10)                  tf   1: traversals held at the last pick
    po   whose posterior is sampled: pick or own            pk  the samples' k (1-64)   ps  their seed
    mf   the morph player's frame, from 1

A parameter that is unknown, not a number, out of range or of the wrong length is ignored and a short note
says so; defaults are left out, so a fresh page has a clean URL. Reading happens once per session (the first
run), writing at the end of every run.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import streamlit as st

from ..session_keys import APP_TAB, MODEL_CHOICE, PRESENTER, SHOW_EXPLANATIONS
from .state import DEFAULTS, MORPH_ENDS, POST_K_MAX, POST_OF, SECTIONS, TRAVERSAL_FROM, ExploreState, clamp, max_half

SUB = dict(zip(("grid", "morph", "prior", "recon", "denoise", "trav", "dims"), SECTIONS))
SUB_NAME = {v: k for k, v in SUB.items()}
APP_KEYS = ("m", "tab", "pr", "ex")
EXPLORE_KEYS = ("z", "v", "map", "bg", "sub", "p", "me", "mm", "ms", "pl", "tr", "tf", "po", "pk", "ps", "mf")
PENDING = "url.pending"  # Explore's parameters, applied once Explore knows the model
READ = "url.read"
NOTES = "url.notes"


def _note(text: str) -> None:
    st.session_state[NOTES] = [*st.session_state.get(NOTES, []), text]


def take_notes() -> list[str]:
    return st.session_state.pop(NOTES, [])


def _floats(text: str, n: int | None = None) -> list[float] | None:
    """ "1.5,-2" -> [1.5, -2.0]; None when a part is not a finite number or the count is not n."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        return None
    if not values or (n is not None and len(values) != n) or not all(math.isfinite(v) for v in values):
        return None
    return values


def read_app(entries) -> None:
    """First run of a session: the parameters the sidebar and the tabs need, before they are drawn."""
    ss = st.session_state
    if ss.get(READ):
        return
    ss[READ] = True
    params = {k: st.query_params.get(k) for k in st.query_params}
    if "m" in params:
        by_name = {e.link_name: e.folder for e in entries}
        folder = by_name.get(params["m"])
        if folder is None:
            _note(f"The link's model “{params['m'][:60]}” is not here; showing the default model.")
        else:
            ss[MODEL_CHOICE] = folder
    if "tab" in params:
        if params["tab"] in ("train", "explore"):
            ss[APP_TAB] = params["tab"].capitalize()
        else:
            _note("The link's tab was not understood; showing Explore.")
    for key, skey in (("pr", PRESENTER), ("ex", SHOW_EXPLANATIONS)):
        if key in params:
            if params[key] in ("0", "1"):
                ss[skey] = params[key] == "1"
            else:
                _note(f"The link's “{key}” must be 0 or 1; ignored.")
    ss[PENDING] = {k: v for k, v in params.items() if k in EXPLORE_KEYS}
    unknown = sorted(k for k in params if k not in APP_KEYS + EXPLORE_KEYS)
    if unknown:
        _note(f"Ignored unknown link parameters: {', '.join(unknown)[:80]}.")


def apply_explore(ctx) -> None:
    """Explore's parameters of the link this session was opened with, checked against the model in use (an
    ExploreContext)."""
    params = st.session_state.pop(PENDING, None)
    if not params:
        return
    state, d, lim, n_test = ctx.state, ctx.d, ctx.lim, ctx.n_test
    bad = []
    if "z" in params:
        z = _floats(params["z"])
        if z is None or len(z) != d or any(abs(v) > lim for v in z):
            bad.append("z")
        else:
            state.z = [clamp(v, lim) for v in z]
    if "v" in params:
        v = _floats(params["v"], 3)
        top = max_half(lim)
        if v is None or not 0 < v[2] <= top or abs(v[0]) > top or abs(v[1]) > top:
            bad.append("v")
        else:
            state.set_view(*v, lim, bump=True)
    if "map" in params:
        if params["map"] in ("live", "plotly"):
            state.map = params["map"]
        else:
            bad.append("map")
    if "bg" in params:
        if params["bg"] in ("0", "1"):
            state.bg = params["bg"] == "1" and d > 1
        else:
            bad.append("bg")
    if "sub" in params:
        if params["sub"] in SUB:
            state.section = SUB[params["sub"]]
        else:
            bad.append("sub")
    if "p" in params:
        p = _floats(params["p"])
        if p is None or len(p) > 2 or not all(v.is_integer() and 0 <= v < n_test for v in p):
            bad.append("p")
        else:
            state.picks = [int(v) for v in p]
    for key, name, ok, conv in (
        ("me", "morph_ends", lambda s: s.isdigit() and int(s) < len(MORPH_ENDS), lambda s: MORPH_ENDS[int(s)]),
        ("mm", "morph_mode", lambda s: s in ("linear", "slerp"), str),
        ("ms", "morph_steps", lambda s: s.isdigit() and 8 <= int(s) <= 32, int),
        ("po", "post_of", lambda s: s in POST_OF, str),
        ("pk", "post_k", lambda s: s.isdigit() and 1 <= int(s) <= POST_K_MAX, int),
        ("ps", "post_seed", lambda s: s.isdigit() and int(s) < 2**31, int),
        ("mf", "morph_frame", lambda s: s.isdigit() and 1 <= int(s) <= 32, lambda s: int(s) - 1),
    ):
        if key in params:
            if ok(params[key]):
                setattr(state, name, conv(params[key]))
            else:
                bad.append(key)
    if "pl" in params:
        plane = _plane(params["pl"], d)
        if plane is None:
            bad.append("pl")
        else:
            state.plane = plane
    if "tr" in params:
        if params["tr"].isdigit() and 1 <= int(params["tr"]) <= min(10, d):
            state.trav_rows = int(params["tr"])
        else:
            bad.append("tr")
    if "tf" in params:
        if params["tf"] in ("0", "1"):
            state.trav_from = TRAVERSAL_FROM[int(params["tf"])]
        else:
            bad.append("tf")
    if bad:
        _note(f"Ignored link parameters that do not fit this model: {', '.join(bad)}.")


def _plane(text: str, d: int):
    """ "pca" -> "pca"; "3,7" -> (2, 6) (1-based in the URL, like the sliders' names); None when it does not fit."""
    if d <= 2:
        return None
    if text == "pca":
        return "pca"
    parts = text.split(",")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    i, j = (int(p) - 1 for p in parts)
    return [i, j] if 0 <= i < d and 0 <= j < d and i != j else None


def _fmt(values) -> str:
    return ",".join(f"{float(v):g}" for v in values)


def params_for(state: ExploreState, model: str | None) -> dict[str, str]:
    """The query string for the current settings, defaults left out."""
    ss = st.session_state
    d, lim = len(state.z), float(state.limit)
    out: dict[str, str] = {}
    if model:
        out["m"] = model
    if ss.get(APP_TAB) == "Train":
        out["tab"] = "train"
    z = state.star_list(d, lim)
    if any(z):
        out["z"] = _fmt(z)
    v = state.view_of(lim)
    if (v["cx"], v["cy"], v["half"]) != (0.0, 0.0, float(lim)):
        out["v"] = _fmt((v["cx"], v["cy"], v["half"]))
    if state.map != "live":
        out["map"] = state.map
    if state.bg:
        out["bg"] = "1"
    if state.section != SECTIONS[0]:
        out["sub"] = SUB_NAME.get(state.section, "grid")
    if state.picks:
        out["p"] = ",".join(str(int(p)) for p in state.picks)
    if state.morph_ends != MORPH_ENDS[0] and state.morph_ends in MORPH_ENDS:
        out["me"] = str(MORPH_ENDS.index(state.morph_ends))
    if state.morph_mode != "linear":
        out["mm"] = state.morph_mode
    if int(state.morph_steps) != 12:
        out["ms"] = str(int(state.morph_steps))
    plane = state.plane_key(d)
    if d > 2 and plane != "pca":
        out["pl"] = f"{plane[0] + 1},{plane[1] + 1}"
    rows = min(int(state.trav_rows), d, 10)  # the tab shows at most d rows
    if rows != min(DEFAULTS["trav_rows"], d):
        out["tr"] = str(rows)
    if state.trav_from != TRAVERSAL_FROM[0] and state.trav_from in TRAVERSAL_FROM:
        out["tf"] = "1"
    if state.post_of in POST_OF:
        out["po"] = state.post_of
    if int(state.post_k) != 16:
        out["pk"] = str(int(state.post_k))
    if int(state.post_seed):
        out["ps"] = str(int(state.post_seed))
    if int(state.morph_frame):
        out["mf"] = str(int(state.morph_frame) + 1)
    if ss.get(PRESENTER):
        out["pr"] = "1"
    if ss.get(SHOW_EXPLANATIONS) is False:
        out["ex"] = "0"
    return out


def write(params: dict[str, str]) -> None:
    """Set the browser's query string (only when it changed: each write is a message to the page)."""
    if {k: st.query_params.get(k) for k in st.query_params} != params:
        st.query_params.from_dict(params)


def link(params: dict[str, str]) -> str:
    """The full address of this view, as the browser shows it (st.context.url is the page without the query)."""
    base = st.context.url or "http://localhost:8501/"
    base = base if base.endswith("/") else base + "/"
    return f"{base}?{urlencode(params, safe=',')}" if params else base  # encoded as the address bar shows it
