"""The view in the URL: the query string follows the settings, and a link opened later shows the same view.

PARAMS below is every parameter: its code, the setting it carries, how its text is read (checked against the
model in use) and written. A parameter that is unknown, not a number, out of range or of the wrong length is
ignored and a short note says so; defaults are left out, so a fresh page has a clean URL. Reading happens once
per session (the first run), writing at the end of every run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from .. import drawing
from ..safe_text import plain
from ..session_keys import APP_TAB, LECTURE_SCENE, MODEL_CHOICE, PRESENTER, SHOW_EXPLANATIONS
from . import maps, sections
from .context import OWN_KEY
from .link_text import flag, floats, fmt, int_in, one_of, whole
from .state import (
    DEFAULTS,
    DIRECTION_KINDS,
    DIRECTION_T,
    MORPH_ENDS,
    MORPH_ENDS_WITH_OWN,
    POST_K_MAX,
    POST_OF,
    STEPS,
    TRAVERSAL_FROM,
    ExploreState,
    clamp,
    max_half,
)

PENDING = "url.pending"  # Explore's parameters, applied once Explore knows the model
READ = "url.read"
RESET = "url.reset"  # the pending parameters are a whole view: what they leave out goes back to its default
NOTES = "url.notes"
WRITTEN = "url.written"  # the query string last written
# The address's parameters that a layer above reads itself (the class's room and key, dashboard/classroom): not
# unknown to a link, kept in the address by every write (KEEP: their values), and never part of a view.
OTHER_PARAMS = ("class", "key")
KEEP = "url.keep"
ON_WRITE = "url.on_write"  # a function of the view's parameters that a layer above sets: run at every write
MORPH_END_IDS = tuple(MORPH_ENDS)  # "me": 0-3, as listed in the Morph tab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fit:
    """What a link's values are checked against: the model's latent dimension, the sliders' range, the test set's
    size; and on the page's own parameters, the models listed."""

    d: int = 0
    lim: float = 4.0
    n_test: int = 0
    entries: tuple = ()
    n_classes: int = 0


@dataclass(frozen=True)
class Param:
    code: str
    setting: str  # ExploreState's setting, or for the page's own parameters (app=True) a session key
    parse: Callable[[str, Fit], object]  # the value, or None when the text does not fit
    format: Callable[[ExploreState, Fit], str | None]  # the text, or None for the default (left out)
    apply: Callable[[ExploreState, object, Fit], None] | None = None  # default: store the value in the setting
    app: bool = False  # read before the sidebar is drawn, not by Explore
    refused: str = ""  # the note when its text does not fit (an Explore parameter without one: listed in one note)
    reset: Callable[[ExploreState, Fit], None] | None = None  # default: store DEFAULTS[setting]


def _star(s: str, fit: Fit):
    z = floats(s)
    return None if z is None or len(z) != fit.d or any(abs(v) > fit.lim for v in z) else [clamp(v, fit.lim) for v in z]


def _view(s: str, fit: Fit):
    v, top = floats(s, 3), max_half(fit.lim)
    return None if v is None or not 0 < v[2] <= top or abs(v[0]) > top or abs(v[1]) > top else v


def _view_text(state: ExploreState, fit: Fit) -> str | None:
    v = state.view_of(fit.lim)
    return fmt((v["cx"], v["cy"], v["half"])) if (v["cx"], v["cy"], v["half"]) != (0.0, 0.0, fit.lim) else None


def _picks(s: str, fit: Fit):
    p = floats(s)
    return None if p is None or len(p) > 2 or not all(v.is_integer() and 0 <= v < fit.n_test for v in p) \
        else [int(v) for v in p]


def _projection(s: str, fit: Fit):
    """ "pca" -> "pca", "umap" -> "umap"; "3,7" -> [2, 6] (1-based in the URL, like the sliders' names); None when
    it does not fit."""
    if fit.d <= 2:
        return None
    if s in ("pca", "umap"):
        return s
    parts = [whole(p) for p in s.split(",")]
    if len(parts) != 2 or None in parts:
        return None
    i, j = (p - 1 for p in parts)
    return [i, j] if 0 <= i < fit.d and 0 <= j < fit.d and i != j else None


def _projection_text(state: ExploreState, fit: Fit) -> str | None:
    key = state.projection_for(fit.d)
    if fit.d <= 2 or key == "pca":
        return None
    return key if key == "umap" else f"{key[0] + 1},{key[1] + 1}"


def _dir_classes(s: str, fit: Fit):
    """ "3,8" -> [3, 8]: the Directions tab's classes A and B, by label."""
    p = [whole(x) if x != "0" else 0 for x in s.split(",")] if len(s) <= 40 else [None]
    return p if len(p) == 2 and None not in p and all(c < fit.n_classes for c in p) and p[0] != p[1] else None


def _dir_classes_apply(state: ExploreState, value, fit: Fit) -> None:
    state.dir_from, state.dir_to = value


def _dir_t(s: str, fit: Fit):
    t = floats(s, 1)
    return None if t is None or abs(t[0]) > DIRECTION_T else round(t[0], 1)


def _trav_rows(s: str, fit: Fit):
    return n if (n := whole(s)) is not None and 1 <= n <= min(10, fit.d) else None


def _trav_rows_text(state: ExploreState, fit: Fit) -> str | None:
    rows = min(int(state.trav_rows), fit.d, 10)  # the tab shows at most d rows
    return str(rows) if rows != min(DEFAULTS["trav_rows"], fit.d) else None


def _hidden(s: str, fit: Fit):
    """ "1,4" -> [1, 4]: the labels of the classes hidden from the map's legend (for MNIST the digits themselves)."""
    labels = [whole(p) for p in s.split(",")] if len(s) <= 200 else [None]
    if None in labels or not all(h < fit.n_classes for h in labels):
        return None
    return sorted(set(labels))


def _hide(state: ExploreState, hidden, fit: Fit) -> None:
    state.hidden, state.hidden_rev = hidden, int(state.hidden_rev) + 1  # a new rev: the maps apply it


def _own_pixels():
    own = st.session_state.get(OWN_KEY)
    return own.get("pixels") if isinstance(own, dict) else None


def _own_digit(state: ExploreState, pixels, fit: Fit) -> None:
    st.session_state[OWN_KEY] = {"source": "upload: the link's digit", "pixels": pixels}


def _without_own(text: Callable[[object], str | None], own: Callable[[object], bool]
                 ) -> Callable[[ExploreState, Fit], str | None]:
    """A setting about your digit is in the link only with the digit (dg): else the link would open another view."""
    def format(state: ExploreState, fit: Fit) -> str | None:
        value = text(state, fit)
        return None if value is not None and own(state) and _own_pixels() is None else value
    return format


def _model(s: str, fit: Fit):
    return next((e.folder for e in fit.entries if e.link_name == s), None)


def _unless(default, text: Callable[[object], str]) -> Callable[[object], str | None]:
    return lambda value: None if value == default else text(value)


def _setting(name: str, text: Callable[[object], str | None]) -> Callable[[ExploreState, Fit], str | None]:
    return lambda state, fit: text(getattr(state, name))


# The order is the query string's. Examples: m=pretrained/mnist-mlp, z=1.25,-0.5, v=0,0,4 (centre, half-width),
# sub=morph, p=7,42 (test-image numbers), me=1 (the morph's ends as listed in its tab), pl=3,7 (z3 against z7) or
# pl=umap, dk=slant dc=3,8 dt=1.5 (the Directions tab: the direction, its classes A and B, the slider's t),
# sx=1 (decodes drawn as x ~ p(x|z)), mf=5 (the morph player's frame, from 1), es=3 (the Step by step tab's ε
# seed), sn=4 (its step shown when presenting), pr=1 (presenter mode),
# ex=0 (explanations hidden), hc=1,4 (the classes hidden from the legend, by label), dg=... (your drawn digit:
# drawing.digit_text), sc=3 (the lecture's third scene, dashboard/lecture).
PARAMS: tuple[Param, ...] = (
    Param("m", MODEL_CHOICE, _model, lambda state, fit: None, app=True,
          refused="The link's model “{text}” is not here; showing the default model."),
    Param("tab", APP_TAB, lambda s, fit: s.capitalize() if s in ("train", "explore") else None,
          lambda state, fit: "train" if st.session_state.get(APP_TAB) == "Train" else None, app=True,
          refused="The link's tab was not understood; showing Explore."),
    Param("z", "z", _star, lambda state, fit: fmt(z) if any(z := state.star_list(fit.d, fit.lim)) else None),
    Param("v", "view", _view, _view_text, apply=lambda state, v, fit: state.set_view(*v, fit.lim, bump=True),
          reset=lambda state, fit: state.set_view(0.0, 0.0, fit.lim, fit.lim, bump=True)),
    Param("map", "map", lambda s, fit: s if s in maps.BY_ID else None,
          _setting("map", _unless(maps.MAP_KINDS[0].id, str))),
    Param("bg", "bg", lambda s, fit: None if (v := flag(s, fit)) is None else v and fit.d > 1,
          _setting("bg", lambda on: "1" if on else None)),
    Param("sub", "section", lambda s, fit: s if s in sections.BY_ID else None,
          _setting("section", _unless(sections.SECTIONS[0].id, str))),
    Param("p", "picks", _picks, _setting("picks", lambda p: ",".join(str(int(i)) for i in p) if p else None)),
    Param("hc", "hidden", _hidden, _setting("hidden", lambda h: ",".join(str(int(k)) for k in h) if h else None),
          apply=_hide, reset=lambda state, fit: _hide(state, [], fit)),
    # a lecture's scene without a digit keeps the one a student drew (the next scenes may use it)
    Param("dg", OWN_KEY, lambda s, fit: drawing.digit_from_text(s),
          lambda state, fit: None if (px := _own_pixels()) is None else drawing.digit_text(px), apply=_own_digit,
          refused="The link's drawn digit (“dg”) could not be read; it was left out.", reset=lambda state, fit: None),
    Param("me", "morph_ends", lambda s, fit: MORPH_END_IDS[n] if (n := whole(s)) is not None
          and n < len(MORPH_END_IDS) else None, _without_own(_setting("morph_ends", lambda e: str(
              MORPH_END_IDS.index(e)) if e != MORPH_END_IDS[0] and e in MORPH_END_IDS else None),
              lambda state: state.morph_ends in MORPH_ENDS_WITH_OWN)),
    Param("mm", "morph_mode", one_of("linear", "slerp"), _setting("morph_mode", _unless("linear", str))),
    Param("ms", "morph_steps", int_in(8, 32),
          _setting("morph_steps", lambda n: str(int(n)) if int(n) != 12 else None)),
    Param("pl", "projection", _projection, _projection_text),
    Param("tr", "trav_rows", _trav_rows, _trav_rows_text),
    Param("dk", "dir_kind", one_of(*DIRECTION_KINDS), _setting("dir_kind", _unless(DEFAULTS["dir_kind"], str))),
    Param("dc", "dir_from", _dir_classes, lambda state, fit: None if (state.dir_from, state.dir_to) == (
        DEFAULTS["dir_from"], DEFAULTS["dir_to"]) else f"{int(state.dir_from)},{int(state.dir_to)}",
        apply=_dir_classes_apply, reset=lambda state, fit: _dir_classes_apply(
            state, (DEFAULTS["dir_from"], DEFAULTS["dir_to"]), fit)),
    Param("dt", "dir_t", _dir_t, _setting("dir_t", lambda t: None if not t else f"{float(t):g}")),
    Param("tf", "trav_from", lambda s, fit: list(TRAVERSAL_FROM)[int(s)] if s in ("0", "1") else None,
          _setting("trav_from", lambda f: "1" if f == list(TRAVERSAL_FROM)[1] else None)),
    Param("po", "post_of", one_of(*POST_OF), _without_own(_setting("post_of", lambda w: w if w in POST_OF else None),
                                                           lambda state: state.post_of == "own")),
    Param("pk", "post_k", int_in(1, POST_K_MAX), _setting("post_k", lambda k: str(int(k)) if int(k) != 16 else None)),
    Param("ps", "post_seed", int_in(0, 2**31 - 1), _setting("post_seed", lambda s: str(int(s)) if int(s) else None)),
    Param("sx", "sample_x", flag, _setting("sample_x", lambda on: "1" if on else None)),
    Param("mf", "morph_frame", int_in(1, 32, shift=-1),
          _setting("morph_frame", lambda f: str(int(f) + 1) if int(f) else None)),
    Param("es", "steps_seed", int_in(0, 2**31 - 1),
          _setting("steps_seed", lambda s: str(int(s)) if int(s) else None)),
    Param("sn", "steps_at", int_in(1, STEPS), _setting("steps_at", lambda n: str(int(n)) if int(n) != 1 else None)),
    Param("pr", PRESENTER, flag, lambda state, fit: "1" if st.session_state.get(PRESENTER) else None, app=True,
          refused="The link's “pr” must be 0 or 1; ignored."),
    Param("ex", SHOW_EXPLANATIONS, flag,
          lambda state, fit: "0" if st.session_state.get(SHOW_EXPLANATIONS) is False else None, app=True,
          refused="The link's “ex” must be 0 or 1; ignored."),
    Param("sc", LECTURE_SCENE, int_in(1, 999, shift=-1),
          lambda state, fit: None if (i := st.session_state.get(LECTURE_SCENE)) is None else str(i + 1), app=True,
          refused="The link's lecture scene “sc” was not understood; ignored."),
)
BY_CODE = {p.code: p for p in PARAMS}


def _parse(p: Param, text: str, fit: Fit):
    """The parameter's value, or None when its text does not fit: a parser that raises on text nobody foresaw
    refuses it too, so one odd parameter never costs the rest of the link."""
    try:
        return p.parse(text, fit)
    except (ValueError, TypeError, ArithmeticError, IndexError):
        log.warning("the link parameter %s=%.60r could not be read", p.code, text, exc_info=True)
        return None


def _note(text: str) -> None:
    st.session_state[NOTES] = [*st.session_state.get(NOTES, []), text]


note = _note  # a line for the top of the next page (what a lecture's scene could not show, say)


def take_notes() -> list[str]:
    return st.session_state.pop(NOTES, [])


def read_app(entries) -> None:
    """First run of a session: the parameters the sidebar and the tabs need, before they are drawn."""
    ss = st.session_state
    if ss.get(READ):
        return
    ss[READ] = True
    _open({k: st.query_params.get(k) for k in st.query_params}, entries, reset=False)


def open_view(params: dict[str, str], entries) -> None:
    """Show another view in this session as its link would (a lecture's scene): what the parameters leave out
    goes back to its default. Call where a widget's callback runs, before the sidebar is drawn."""
    _open(params, entries, reset=True)


def _open(params: dict[str, str], entries, reset: bool) -> None:
    ss = st.session_state
    fit = Fit(entries=tuple(entries))
    for p in PARAMS:
        if p.app and p.code in params:
            value = _parse(p, params[p.code], fit)
            if value is None:
                _note(p.refused.format(text=plain(params[p.code][:60])))
            else:
                ss[p.setting] = value
        elif p.app and reset and p.code not in ("m", "sc"):  # a view without "m" keeps the model shown
            ss.pop(p.setting, None)  # as in a fresh session: the widget's default
    ss[PENDING] = {k: v for k, v in params.items() if k in BY_CODE and not BY_CODE[k].app}
    ss[RESET] = reset
    unknown = sorted(k for k in params if k not in BY_CODE and k not in OTHER_PARAMS)
    if unknown:
        _note(f"Ignored unknown link parameters: {plain(', '.join(unknown)[:80])}.")


def apply_explore(ctx) -> None:
    """Explore's parameters of the link this session was opened with, checked against the model in use (an
    ExploreContext)."""
    params, reset = st.session_state.pop(PENDING, None), st.session_state.pop(RESET, False)
    if not params and not reset:
        return
    params = params or {}
    n_classes = len(ctx.enc.class_names) if ctx.enc is not None else 0
    state, fit, bad = ctx.state, Fit(ctx.d, ctx.lim, ctx.n_test, n_classes=n_classes), []
    for p in PARAMS:
        if reset and not p.app:  # a whole view: what it leaves out, or cannot use, is the default
            _reset(p, state, fit)
    for p in PARAMS:
        if p.app or p.code not in params:
            continue
        value = _parse(p, params[p.code], fit)
        if value is None and p.refused:
            _note(p.refused)
        elif value is None:
            bad.append(p.code)
        else:
            _set(p, state, value, fit)
    if bad:
        _note(f"Ignored link parameters that do not fit this model: {', '.join(bad)}.")


def apply_codes(state: ExploreState, params: dict[str, str], codes: tuple[str, ...], fit: Fit) -> bool:
    """Take Explore's parameters `codes` of a whole view (one left out goes back to its default), as apply_explore
    does; False, and nothing taken, when one of them does not fit (apply_explore then says so in a note)."""
    values = {}
    for code in codes:
        if code in params:
            values[code] = _parse(BY_CODE[code], params[code], fit)
            if values[code] is None:
                return False
    for code in codes:
        if code in values:
            _set(BY_CODE[code], state, values[code], fit)
        else:
            _reset(BY_CODE[code], state, fit)
    return True


def in_order(params: dict[str, str]) -> dict[str, str]:
    """The parameters in the order url.write gives them: the view's in PARAMS' order, then the kept ones."""
    rank = {code: i for i, code in enumerate(BY_CODE)}
    return dict(sorted(params.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _set(p: Param, state: ExploreState, value, fit: Fit) -> None:
    if p.apply is not None:
        p.apply(state, value, fit)
    else:
        setattr(state, p.setting, value)


def _reset(p: Param, state: ExploreState, fit: Fit) -> None:
    if p.reset is not None:
        p.reset(state, fit)
    elif p.setting in DEFAULTS:
        setattr(state, p.setting, DEFAULTS[p.setting])


def params_for(state: ExploreState, model: str | None) -> dict[str, str]:
    """The query string for the current settings, defaults left out. model: its link_name."""
    fit = Fit(len(state.z), float(state.limit))
    out = {"m": model} if model else {}
    for p in PARAMS:
        text = p.format(state, fit)
        if text is not None:
            out[p.code] = text
    return out


def write(params: dict[str, str]) -> None:
    """Set the browser's query string (only when it changed: each write is a message to the page), with the
    parameters kept for a layer above (KEEP). That layer's ON_WRITE hears of the view first."""
    on_write = st.session_state.get(ON_WRITE)
    if callable(on_write):
        on_write(dict(params))
    keep = st.session_state.get(KEEP)
    params = {**params, **keep} if isinstance(keep, dict) else params
    # Also when it differs from the last one written: a run that another interaction preempts (a release, then
    # an undo) has its query string taken back on the server's side while the browser already shows it.
    if {k: st.query_params.get(k) for k in st.query_params} != params or st.session_state.get(WRITTEN) != params:
        st.query_params.from_dict(params)
        st.session_state[WRITTEN] = dict(params)


def link(params: dict[str, str]) -> str:
    """The full address of this view, as the browser shows it (st.context.url is the page without the query)."""
    base = st.context.url or "http://localhost:8501/"
    base = base if base.endswith("/") else base + "/"
    return f"{base}?{urlencode(params, safe=',')}" if params else base  # encoded as the address bar shows it
