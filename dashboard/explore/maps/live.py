"""The Live map: the scene sent to the latent-plane component (dashboard/latent_plane), and its events. The page
decodes the ★ itself (and has its own z sliders) whenever it can run the model's decoder.

data.z with zRev (bumped at every change of z) and ack (the seq of the page's last release Python has),
data.view/home/focus/hidden/presenter/undoable/sliders (and for d > 2 the plane, its caption and the sliders'
KL order) go to the page; release (the full z), pick, view,
legend and undo (with the page's last release when Python had not acknowledged it) come back, each as a
callback that only changes the state object. view.rev is bumped only
when Python moves the view, so the page keeps a zoom that Python has not heard of yet. data.samples (posterior
draws) and data.path (the morph's path, its marked frame) are two more layers of the overlay (overlay_layers).
"""

from __future__ import annotations

import base64
import inspect
import math

import streamlit as st

from vae_core.analysis import ACTIVE_THRESHOLD
from vae_core.neighbour_map import NeighbourMap

from ... import latent_plane, views
from ...model.compute import plane_slice
from ..context import ExploreContext
from ..scene import PICK_COLOR, POSTERIOR_COLOR, UMAP_DECODING, Scene, map_caption, overlay_layers
from ..sliders import decoder_sliders
from ..state import ExploreState
from . import plotly

KEY = "explore_plane"


def map_data(scene: Scene, ctx: ExploreContext) -> tuple[dict, dict]:
    """(what the plane shows, the blobs it refers to)."""
    model, state = ctx.model, ctx.state
    dkey, dspec, why = model.decoder_blob()
    umap = isinstance(scene.plane, NeighbourMap)
    if umap:  # no plane to decode on in the page: a 2-D map (the ★ at its place) whose ★ the server decodes
        dspec, why = None, "UMAP has no inverse"
    blobs: dict = {}
    v = scene.view
    data = {
        "z": list(scene.star) if umap else list(scene.z), "zRev": int(state.z_rev), "ack": int(state.page_seq),
        "limit": scene.limit,
        "view": {"cx": v["cx"], "cy": v["cy"], "half": v["half"], "rev": int(v.get("rev", 0))},
        "extent": v["half"],  # an older page, still open in a browser, reads only this
        "home": scene.home, "focus": list(scene.focus) if scene.focus else None,
        "hidden": list(scene.hidden), "hiddenRev": int(state.hidden_rev),
        "presenter": ctx.presenting, "undoable": state.can_undo(),
        "sliders": True,  # the page's own z sliders decode while dragged; Python follows on release
        "axes": list(scene.axes), "classes": list(scene.class_names), "colors": list(views.CLASS_COLORS),
        "decoder": None, "points": None, "background": None, "backgroundOpacity": 0.35,
        "marks": [{"x": m.x, "y": m.y, "label": m.label, "color": m.color, **({"shape": m.shape}
                   if m.shape != "ring" else {}), **({"labelAt": m.label_at} if m.label_at != "ne" else {}),
                   **({"pick": m.pick} if m.pick is not None else {})} for m in scene.marks],
        "ellipses": [{"x": e.x, "y": e.y, "sx": e.sx, "sy": e.sy, "color": e.color, "angle": e.angle,
                      **({"dash": True} if e.dash else {}), **({"fill": e.fill} if e.fill else {}),
                      **({"z": "top"} if e.top else {}), **({"pick": e.pick} if e.pick is not None else {})}
                     for e in scene.ellipses],
        "note": None,
    }
    if scene.plane is not None and not umap:  # d > 2: the page decodes z = o + u e1 + v e2 (plane.js's header)
        p = scene.plane
        data["plane"] = {"mean": [float(x) for x in p.mean], "e1": [float(x) for x in p.basis[0]],
                         "e2": [float(x) for x in p.basis[1]]}
        data["caption"] = scene.caption
    data.update(slider_layout(ctx, scene))
    data.update(overlay_layers(scene))
    if dspec is not None:
        data["decoder"], blobs[dkey] = dkey, dspec
    else:  # the server fallback: the page shows the server's image, decoded again after each release
        image = views.png_bytes(views.upscale(model.decode(list(scene.z))[0]))
        data["serverImage"] = "data:image/png;base64," + base64.b64encode(image).decode("ascii")
        data["note"] = f"This decoder runs on the server only ({why}): release the ★ to see its image."
        data["sliders"] = False
    if umap:
        # presenting, one short line: the side panel holds the legend above it on a 720-px screen
        data["note"] = (f"No inverse: the server decodes the mix of the {scene.plane.k} nearest dots' codes; release "
                        "the ★." if ctx.presenting else UMAP_DECODING.format(k=scene.plane.k) + " Release the ★ to "
                        "see its image.")
        data["caption"] = scene.map_caption or scene.caption
        data["mapCoords"] = True  # data.z is the ★'s place on the map, not a code: the readout says "map (u, v)"
    if len(scene.points):
        pkey, pspec = model.points_blob(scene.projection if scene.plane is not None else None)
        data["points"], blobs[pkey] = pkey, pspec
    if ctx.follows_address and not umap:
        data["followAddress"] = follow_address(ctx, scene, blobs)
    if scene.background is not None:
        n, e = scene.background
        piece = plane_slice(scene.plane, scene.z) if scene.plane is not None else None
        gkey = model.grid_blob_key(n, e, piece)
        data["background"] = gkey
        blobs[gkey] = lambda: model.grid_blob(n, e, piece)[1]
    return data, blobs


def follow_address(ctx: ExploreContext, scene: Scene, blobs: dict) -> dict:
    """A class follower's map takes these parameters of the view from the page's address (frontend/follow.js):
    the ★ and the zoom, and where the class says so the picks, drawn as build_scene draws them (rings at the
    points, the last pick's 1σ ellipse from each test image's, a blob)."""
    out = {"limit": float(ctx.state.limit), "codes": list(ctx.follows_address)}
    if "p" in ctx.follows_address and len(scene.points):
        shapes = ctx.model.pick_shapes_blob(scene.projection if scene.plane is not None else None)
        if shapes is not None:
            out["shapes"], blobs[shapes[0]] = shapes
        out.update(pickColor=PICK_COLOR, posteriorColor=POSTERIOR_COLOR)
    return out


def slider_layout(ctx: ExploreContext, scene: Scene) -> dict:
    """d > 2 with a test set: the page's z sliders by KL, most informative first, each named with its KL, the
    inactive ones (Burda et al. 2016: Cov_x(μ_j) <= ACTIVE_THRESHOLD) last and folded; else {} (z1, z2 in order)."""
    if scene.plane is None or isinstance(scene.plane, NeighbourMap):
        return {}
    summary = ctx.model.analysis()
    by_kl = [int(i) for i in summary.order]
    active_dims = [i for i in by_kl if summary.activity[i] > ACTIVE_THRESHOLD]
    return {"sliderOrder": active_dims + [i for i in by_kl if i not in active_dims],
            "sliderNames": [f"z{i + 1} · KL {summary.kl[i]:.2f}" for i in range(len(by_kl))],
            "sliderActive": len(active_dims)}


def _event(name: str):
    value = st.session_state.get(KEY)
    return value.get(name) if hasattr(value, "get") else None


def _numbers(values, n: int | None = None) -> list[float] | None:
    if not isinstance(values, list) or not values or (n is not None and len(values) < n):
        return None
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in values):
        return None
    return [float(x) for x in values]


def on_release(state: ExploreState, d: int, lim: float, to_code=None) -> None:
    """A drag ended, the plane was clicked, the keys paused or a page slider was let go: the ★ goes there.
    The page sends the full z; an older page still open sends (z1, z2): the other dimensions stay.
    to_code: UMAP's map, whose page sends the ★'s place (u, v): the ★ goes to to_code(u, v)."""
    _take_release(state, _event("release"), d, lim, to_code)


def _take_release(state: ExploreState, value, d: int, lim: float, to_code=None) -> None:
    """Move the ★ to a release {z, seq} of the page's, unless Python has taken that release already."""
    z = _numbers(value.get("z") if isinstance(value, dict) else None)
    if z is None or (to_code is not None and len(z) < 2):
        return
    if to_code is not None:
        z = [float(c) for c in to_code(z[:2])[0]]
    seq = value.get("seq")  # the page numbers its releases
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq < 2**53:
        if seq <= int(state.page_seq):  # taken already: a trigger Streamlit replays with a later event
            return
        state.page_seq = seq
    full = state.star_list(d, lim)
    full[: min(d, len(z))] = z[:d]
    state.move_star(full, lim)


def on_pick(state: ExploreState, enc, lim: float) -> None:
    value = _event("pick")
    i = value.get("index") if isinstance(value, dict) else None
    if enc is not None and isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(enc.labels):
        state.pick(i, enc.mu[i], lim)


def on_view(state: ExploreState, lim: float) -> None:
    """The page zoomed or panned: remember it (state + URL) without bumping rev, the page already shows it."""
    value = _event("view")
    v = _numbers([value.get(k) for k in ("cx", "cy", "half")] if isinstance(value, dict) else None, 3)
    if v is not None and v[2] > 0:
        state.set_view(*v, lim, bump=False)


def on_legend(state: ExploreState, n_classes: int) -> None:
    value = _event("legend")
    hidden = value.get("hidden") if isinstance(value, dict) else None
    if isinstance(hidden, list):
        state.hidden = sorted({int(h) for h in hidden if isinstance(h, int) and 0 <= h < n_classes})


def on_undo(state: ExploreState, d: int, lim: float, to_code=None) -> None:
    """Undo the page's last move. An undo sent while the page's last release was on its way carries that release:
    Streamlit keeps only the newer of two events of one component that wait for the same run, so the release
    may never come on its own; taken first, the undo takes back that move and not the one before it."""
    value = _event("undo")
    _take_release(state, value.get("release") if isinstance(value, dict) else None, d, lim, to_code)
    state.undo_last()


def _accepted() -> set[str]:
    """The callbacks latent_plane.latent_plane takes: the page's view/legend/undo events need its support."""
    return set(inspect.signature(latent_plane.latent_plane).parameters)


def show(scene: Scene, ctx: ExploreContext, handle=lambda change, star_shown=False: change()) -> None:
    """Mount the plane; each event's callback is handle(its change, star_shown) (the layout applies it and
    decides what reruns); star_shown: the event is a release, whose ★ the page already shows."""
    state, enc, d, lim = ctx.state, ctx.enc, ctx.d, scene.limit
    data, blobs = map_data(scene, ctx)
    to_code = scene.plane.to_code if isinstance(scene.plane, NeighbourMap) else None
    callbacks = {
        "on_release": lambda: on_release(state, d, lim, to_code),
        "on_pick": lambda: on_pick(state, enc, lim),
        "on_view": lambda: on_view(state, lim),
        "on_legend": lambda: on_legend(state, len(scene.class_names)),
        "on_undo": lambda: on_undo(state, d, lim, to_code),
    }
    accepted = _accepted()
    def then(event, f):
        return lambda: handle(f, event == "on_release")

    latent_plane.latent_plane(KEY, data, blobs, **{k: then(k, f) for k, f in callbacks.items() if k in accepted})


def show_map(ctx: ExploreContext, scene: Scene, summary, handle) -> None:
    """The map, its caption, and Streamlit's sliders only when the page cannot decode (it shows the server's
    image then); its releases come back through handle."""
    show(scene, ctx, handle=handle)
    plotly.remember_for_warm(scene, ctx)
    if scene.caption and not ctx.presenting:
        st.caption(map_caption(scene))
    if not ctx.model.decodes_in_page() or isinstance(scene.plane, NeighbourMap):
        decoder_sliders(ctx, summary)
