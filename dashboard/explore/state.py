"""Every Explore setting, in one object over st.session_state.

Streamlit drops the state of a widget that a run does not draw (the Explore tab is not drawn while Train is
open), so the values live in plain session keys ("explore.<name>") that no widget owns. Each widget is fed
from its value before it is created (`bind`) and writes back through its on_change callback; a trip to Train,
a model switch or a URL load therefore only ever touches these values. The URL (url.py) reads and writes them
too, so a setting added here with a default is kept in the session; add it to url.PARAMS to share it.
A setting holds ids ("morph", "star-pick"), never the labels the widgets show for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from vae_core import analysis
from vae_core.data import CLASS_NAMES

from ..session_values import SessionValues, seed_widget

# The choices of a few settings: id -> the label shown. The order is the widgets' (and the link's "me" numbers).
TRAVERSAL_FROM = {"star": "the ★", "pick": "the last pick"}
MORPH_ENDS = {"picks": "A → B: the last two picks", "star-pick": "★ → last pick",
              "own-star": "Your digit → ★", "own-pick": "Your digit → last pick"}
MORPH_ENDS_WITH_STAR = frozenset({"star-pick", "own-star"})  # the path moves with the ★
MORPH_ENDS_WITH_OWN = frozenset({"own-star", "own-pick"})  # the path starts at your digit
NOISE_KINDS = {"gaussian": "Gaussian", "salt-and-pepper": "Salt and pepper"}  # ids: views.add_noise's kinds
DIRECTION_KINDS = {"ink": "Ink (more ink →)", "slant": "Slant (leaning right →)", "class": "Class A → class B"}
DIRECTION_T = 2.0  # the Directions slider's range, ±: twice the distance between the two groups' means
RECON_IMAGES = {"each-class": "one of each class", "random": "random"}
UNDO_LEVELS = 20
Z_STEP = 0.01  # the ★ keeps two decimals (a pick goes to its μ exactly); a coarser step would show a snapped value

DEFAULTS: dict = {
    "z": (),  # the ★, [d] floats (empty: not set yet for this model)
    "z_rev": 0,  # bumped at every change of z: the Live map takes Python's ★ only at a new one (plane.js)
    "page_seq": 0,  # the last release the Live map numbered that Python has: a map sent before it is behind
    "view": None,  # {cx, cy, half, rev}: the square of the plane shown; None: the home view
    "bg": False,  # the manifold faintly under the points
    "map": "live",  # an id of maps.MAP_KINDS
    "section": "grid",  # an id of sections.SECTIONS (the first: the Manifold grid)
    "picks": (),  # test-image indices; the last two are the morph's A and B
    "pick_index": 0,  # the "Test image #" box
    "hidden": (),  # classes hidden from the map's legend
    "hidden_rev": 0,
    "morph_ends": "picks", "morph_mode": "linear", "morph_steps": 12,
    "grid_n": 20, "prior_seed": 0, "recon_which": "each-class", "recon_n": 12, "recon_seed": 0,
    "dn_index": 0, "dn_kind": "gaussian", "dn_level": 0.3,
    "undo": (),  # earlier (z, picks), newest last
    "model_key": None, "model_folder": None, "dataset": None, "limit": 4.0,
    "model_source": None,  # (folder, stamp, dataset, d) of the model shown: where its map's plane comes from
    "notes": (),  # short messages for the next run (a refused URL parameter, picks dropped by a model switch)
    "projection": "pca",  # d > 2: the map, "pca" (the codes' principal plane), "umap" or (i, j): z_i against z_j
    "trav_rows": 8, "trav_from": "star",  # the Traversals tab: how many dimensions, held at what
    # posterior samples z = mu + sigma * eps of the pick or your digit (posterior.py); post_of "" = none shown
    "post_of": "", "post_k": 16, "post_seed": 0,
    "morph_frame": 0, "morph_playing": False,  # the morph player's frame (0-based) and whether it plays
    "dir_kind": "ink", "dir_from": 3, "dir_to": 8, "dir_t": 0.0,  # the Directions tab (DIRECTION_KINDS)
    "sample_x": False,  # decoded pictures as draws x ~ p(x|z) instead of the mean E[x|z] (sampling.py)
    # the Step by step tab (walk.py): eps's seed, the steps shown when presenting, whose image (when both exist)
    "steps_seed": 0, "steps_at": 1, "steps_of": "own",
}
POST_OF = ("pick", "own")  # whose posterior the samples come from: the last pick, or your digit
POST_K_MAX = 64
STEPS = 6  # the Step by step tab's steps: x, the encoder, eps, z, the decoder, the loss
STEPS_OF = {"own": "your digit", "pick": "the last pick"}


def clamp(v: float, lim: float) -> float:
    """A finite value on the sliders' grid of 0.01 inside [-lim, lim] (NaN -> 0)."""
    v = float(v)
    if not math.isfinite(v):
        v = 0.0 if math.isnan(v) else math.copysign(lim, v)
    return float(min(lim, max(-lim, round(v, 2))))


def max_half(lim: float) -> float:
    """The widest view: the sliders' range, or ±8 when that is smaller."""
    return float(max(8.0, 2 * lim))


class ExploreState(SessionValues):
    """st.session_state seen as Explore's settings: state.z, state.picks, ... (see DEFAULTS)."""

    PREFIX = "explore."
    DEFAULTS = DEFAULTS

    def _read(self, value):
        return list(value) if isinstance(value, tuple) else value

    def __setattr__(self, name: str, value) -> None:
        if name == "z" and list(value) != list(self.z):
            super().__setattr__("z_rev", int(self.z_rev) + 1)
        super().__setattr__(name, value)

    def note(self, text: str) -> None:
        self.notes = [*self.notes, text]

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    # --- widgets fed from the values -----------------------------------------------------------

    def bind(self, name: str, on_change: Callable[[], None] | None = None, shown: dict | None = None) -> dict:
        """Keyword arguments for a widget showing setting `name` (its key is "explore_<name>"): the widget starts
        from the stored value and stores its own on change. Pass no value/default to the widget.
        shown: {id: label} for a widget whose value is the label (st.tabs), the setting keeping the id."""
        wkey = f"explore_{name}"
        value = getattr(self, name)
        seed_widget(self._ss, wkey, shown.get(value, value) if shown else value)
        back = {label: key for key, label in shown.items()} if shown else None
        return {"key": wkey, "on_change": self._from_widget, "args": (name, wkey, on_change, back)}

    def _from_widget(self, name: str, wkey: str, then: Callable[[], None] | None, back: dict | None = None) -> None:
        value = self._ss.get(wkey)
        setattr(self, name, back.get(value, value) if back else value)
        if then is not None:
            then()

    # --- the ★ and the picks, with undo ---------------------------------------------------------

    def star(self, d: int, lim: float) -> np.ndarray:
        """The ★ [d] (float32), padded with 0 or cut to d and clamped to ±lim."""
        z = [clamp(v, lim) for v in self.z[:d]]
        return np.array(z + [0.0] * (d - len(z)), dtype=np.float32)

    def star_list(self, d: int, lim: float) -> list[float]:
        """The ★ as Python floats on the sliders' 0.01 grid (what the sliders and the URL show)."""
        return [clamp(v, lim) for v in self.star(d, lim)]

    def _push_undo(self) -> None:
        entry = {"z": list(self.z), "picks": list(self.picks)}
        history = self.undo
        if not history or history[-1] != entry:
            self.undo = (history + [entry])[-UNDO_LEVELS:]

    def move_star(self, z, lim: float, undoable: bool = True) -> None:
        new = [clamp(v, lim) for v in z]
        if new == list(self.z):
            return
        if undoable:
            self._push_undo()
        self.z = new

    def pick(self, index: int, mu: np.ndarray, lim: float) -> None:
        """Pick test image `index` (the last two picks are the morph's ends) and move the ★ to its μ."""
        self._push_undo()
        index = int(index)
        self.picks = [p for p in self.picks if p != index][-1:] + [index]
        self.z = [clamp(v, lim) for v in mu]

    def can_undo(self) -> bool:
        return bool(self.undo)

    def undo_last(self) -> bool:
        history = self.undo
        if not history:
            return False
        last = history.pop()
        self.undo, self.z, self.picks = history, last["z"], last["picks"]
        return True

    # --- the view: the square of the plane shown ------------------------------------------------

    def view_of(self, lim: float) -> dict:
        v = self.view
        if not isinstance(v, dict):
            return {"cx": 0.0, "cy": 0.0, "half": float(lim), "rev": 0}
        return v

    def set_view(self, cx: float, cy: float, half: float, lim: float, bump: bool) -> None:
        """Store a view; bump its rev when Python moved it (the page then applies it, see the protocol)."""
        top = max_half(lim)
        half = float(min(top, max(0.05, half)))
        cx, cy = (float(min(top, max(-top, round(c, 4)))) for c in (cx, cy))
        rev = int(self.view_of(lim).get("rev", 0)) + (1 if bump else 0)
        self.view = {"cx": cx, "cy": cy, "half": round(half, 4), "rev": rev}

    # --- the map's plane (d > 2) -----------------------------------------------------------------

    def projection_for(self, d: int):
        """"pca", "umap" (d > 2) or (i, j) with 0 <= i != j < d: the map to show (a stored pair beyond d reads as
        "pca")."""
        p = self.projection
        if p == "umap" and d > 2:
            return "umap"
        if isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(k, int) for k in p):
            i, j = p
            if 0 <= i < d and 0 <= j < d and i != j:
                return (int(i), int(j))
        return "pca"

    # --- a model switch ----------------------------------------------------------------------

    def follow_model(self, model, lim: float, plane_of: Callable | None = None) -> None:
        """Another model (a ModelHandle) keeps what still means the same: the ★'s place on the map (the code of the
        new model's map plane at the old ★'s map position, clamped to its range lim), the view, the hidden classes
        by name, and the picks (test-image numbers) only when the dataset is the same. A note says what was
        dropped. The undo history belongs to the old model's codes and goes.
        plane_of(source, projection): the map's analysis.Plane of a model_source, None where the map is (z1, z2)."""
        if self.model_key == model.key:
            return
        first = self.model_key is None
        # a folder-of-images model's test images are its own: its name says which (ModelHandle.test_set_name)
        old_dataset, dataset, d = self.dataset, getattr(model, "test_set_name", model.dataset), model.latent_dim
        plane_of = plane_of or (lambda source, projection: None)
        old_source, source = self.model_source, (model.folder, getattr(model, "stamp", None), model.dataset, d)
        xy = None if first or old_source is None else self._map_xy(plane_of(old_source, self.projection_for(
            old_source[3])), old_source[3])
        self.model_key, self.model_folder, self.dataset, self.limit = model.key, model.folder, dataset, float(lim)
        self.model_source = source
        if not first:
            self.undo = []
        if self.projection_for(d) == "pca" and self.projection != "pca":
            if d > 2:
                self.note("The map shows the PCA plane: this model has fewer coordinates than the plane asked for.")
            self.projection = "pca"
        if xy is None:
            self.z = self.star_list(d, lim)
        else:
            self._star_at(xy, plane_of(source, self.projection_for(d)) if d > 2 else None, d, lim)
        if old_dataset is not None and old_dataset != dataset:
            self._follow_classes(old_dataset, dataset)
            if self.picks:
                self.note(f"The picks were dropped: they were images of {old_dataset}, and this model uses "
                          f"{dataset}.")
                self.picks = []
        v = self.view_of(lim)
        self.set_view(v["cx"], v["cy"], v["half"], lim, bump=not first)

    def _map_xy(self, plane, d: int) -> tuple[float, float]:
        """Where the map of a model of d dimensions (plane: its Plane, or None: (z1, z2)) draws the ★."""
        z = np.array(self.z[:d] + [0.0] * (d - len(self.z[:d])), np.float64)
        if plane is not None and plane.dim == d:
            u, v = analysis.to_plane(z[None], plane)[0]
            return float(u), float(v)
        return float(z[0]) if d else 0.0, float(z[1]) if d > 1 else 0.0

    def _star_at(self, xy: tuple[float, float], plane, d: int, lim: float) -> None:
        """The ★ at map position xy of a model of d dimensions: on its plane (d > 2) the code whose projection is
        xy (its other directions at the codes' mean), else (z1, z2) = xy; a note when its range moves it."""
        if plane is not None and plane.dim == d:
            z = analysis.from_plane(np.array([xy]), plane)[0]
        else:
            z = np.array([xy[0], xy[1], *[0.0] * max(0, d - 2)][:d], np.float64)
        self.z = [clamp(v, lim) for v in z]
        shown = self._map_xy(plane, d)
        if max(abs(shown[0] - xy[0]), abs(shown[1] - xy[1] if d > 1 else 0.0)) > 0.05:
            self.note(f"The ★ moved to ({shown[0]:.2f}, {shown[1]:.2f}) on the map: its place "
                      f"({xy[0]:.2f}, {xy[1]:.2f}) is outside this model's range.")

    def _follow_classes(self, old_dataset: str, dataset: str) -> None:
        """The hidden classes by name: kept where the new dataset has a class of that name, else shown again."""
        if not self.hidden:
            return
        old_names, names = CLASS_NAMES.get(old_dataset, ()), CLASS_NAMES.get(dataset, ())
        hidden = [old_names[i] for i in self.hidden if 0 <= i < len(old_names)]
        kept = [n for n in hidden if n in names]
        dropped = [n for n in hidden if n not in names]
        self.hidden, self.hidden_rev = sorted(names.index(n) for n in kept), int(self.hidden_rev) + 1
        if dropped:
            self.note(f"Shown again: {', '.join(dropped)} (hidden before; {dataset} has no class of that name).")
