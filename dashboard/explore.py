"""The Explore tab: move through the latent space of a trained VAE and see what the decoder draws.

Layout: the latent map with, under it, the sliders and the image PyTorch decodes on the server, all one
st.fragment, so a slider move reruns only that part and the ★ on the map follows it. The map is either the
live plane (a custom component, dashboard/latent_plane: moving the pointer over it decodes in the browser, with
no rerun; a release or a click sends z back, which moves the sliders and reruns the fragment, or the whole
page when the open morph starts or ends at the ★; a click on a dot picks it and reruns the page) or a Plotly
scatter (zoom, hover, and a click on a point picks that test image, through Streamlit's selection events).
Under them: the picked point, your own drawn or uploaded digit, then lazy sub-tabs for the manifold grid,
morphs, prior samples, reconstructions and de-noising. All session keys start with "explore_"."""

from __future__ import annotations

import base64
from functools import partial

import numpy as np
import streamlit as st
import torch

from . import drawing, latent_plane, models, views
from .explain import explain
from .models import ActiveModel, Encodings

SLIDERS_SHOWN = 8  # sliders beyond this many dimensions go into an expander
SECTIONS = ("Manifold grid", "Morph", "Prior samples", "Reconstructions", "De-noising")
THUMB = 140  # px: the smaller images (picked point, your digit, de-noising)
PLANE_KEY = "explore_plane"
SCATTER_KEY = "explore_scatter"
MAP_KIND_KEY = "explore_map_kind"
MAP_KINDS = {"live": "Live (decodes in your browser)", "plotly": "Plotly (zoom, hover, select)"}
PAD_KEY = "explore_draw"
OWN_COLOR = "#7B2CBF"  # your digit on the plane
PICK_COLOR = "#D62728"

ss = st.session_state


# --- state -----------------------------------------------------------------------------------


def _zkey(i: int) -> str:
    return f"explore_z{i}"


def _clamp(v: float, lim: float) -> float:
    return float(min(lim, max(-lim, round(float(v), 2))))


def slider_z(d: int) -> np.ndarray:
    """The latent code the sliders point at, read from session state ([d] float32)."""
    return np.array([float(ss.get(_zkey(i), 0.0)) for i in range(d)], dtype=np.float32)


def _set_sliders(z, lim: float) -> None:
    for i, v in enumerate(z):
        ss[_zkey(i)] = _clamp(v, lim)


def _extent_max(lim: float) -> float:
    return float(max(8.0, 2 * lim))


def _sync_model(active: ActiveModel, lim: float) -> None:
    """Another model starts from z = 0 with nothing picked; the same folder rewritten (retrained, or saved
    after another epoch) keeps the picks and the sliders, clamped to the new range. Your own digit stays:
    it is encoded again by whichever model is in use."""
    key, folder = active.entry.key, active.entry.folder
    if ss.get("explore_model_key") == key:
        return
    same_folder = ss.get("explore_model_folder") == folder
    ss["explore_model_key"], ss["explore_model_folder"] = key, folder
    if same_folder:
        for i in range(active.latent_dim):
            ss[_zkey(i)] = _clamp(ss.get(_zkey(i), 0.0), lim)
        ss["explore_extent"] = min(max(float(ss.get("explore_extent", lim)), 1.0), _extent_max(lim))
        return
    ss["explore_picks"] = []
    ss["explore_extent"] = float(lim)
    for i in range(active.latent_dim):
        ss[_zkey(i)] = 0.0


def pick(enc: Encodings, index: int, lim: float) -> None:
    """Pick test image `index`: remember it (the last two picks are the morph's A and B) and move the sliders
    to its posterior mean. Called from widget callbacks, i.e. before the sliders are created."""
    index = int(index)
    picks = [p for p in ss.get("explore_picks", []) if p != index][-1:] + [index]
    ss["explore_picks"] = picks
    _set_sliders(enc.mu[index], lim)


def _on_pick_button(enc: Encodings, lim: float) -> None:
    pick(enc, int(ss.get("explore_pick_index", 0)), lim)


def _on_plane_release(d: int, lim: float) -> None:
    """A drag on the plane ended (or the plane was clicked): the sliders go there. The fragment reruns; the whole
    page only when something outside it shows the ★ (a full run costs the server and each browser 2-3x more)."""
    z = latent_plane.release_value(PLANE_KEY)
    if z is not None:
        _set_sliders(z[:d], lim)
        ss["explore_plane_rerun"] = page_follows_star()


def page_follows_star() -> bool:
    """Whether a view outside the explore fragment shows the ★: only the Morph tab, with the ★ as an end."""
    return ss.get("explore_section") == "Morph" and "★" in str(ss.get("explore_morph_ends", MORPH_ENDS[0]))


def _on_plane_pick(enc: Encodings | None, lim: float) -> None:
    index = latent_plane.pick_value(PLANE_KEY)
    if enc is not None and index is not None and index < len(enc.labels):
        pick(enc, index, lim)
        ss["explore_plane_rerun"] = True


def _on_scatter_select(enc: Encodings | None, lim: float) -> None:
    """A click on the Plotly map: a test image's point picks it; the ★, the rings or empty space do nothing."""
    index = views.selected_index(ss.get(SCATTER_KEY), len(enc.labels)) if enc is not None else None
    if index is not None:
        pick(enc, index, lim)
        ss["explore_plane_rerun"] = True


def map_kind() -> str:
    return ss.get(MAP_KIND_KEY) or "live"


# --- your own digit: state changes, in callbacks ---------------------------------------------


def _set_own(pixels: np.ndarray | None, source: str, error: str | None = None, note: str | None = None) -> None:
    """Your digit (float32 [28, 28], MNIST-like) or why there is none."""
    if pixels is not None:
        ss["explore_own"] = {"source": source, "pixels": pixels}
    elif ss.get("explore_own", {}).get("source", "").startswith(source.split(":")[0]):
        ss.pop("explore_own", None)  # the drawing was cleared, or the upload removed: its digit goes too
    ss["explore_own_error"], ss["explore_own_note"] = error, note


def _on_drawn() -> None:
    url = latent_plane.drawn_value(PAD_KEY)
    if url is None:
        return
    ss["explore_draw_png"] = url
    try:
        _set_own(drawing.to_mnist(drawing.read_data_url(url)), "drawing")
    except drawing.DrawingError as e:
        _set_own(None, "drawing", note=f"Your drawing: {e}")


def _on_cleared() -> None:
    ss.pop("explore_draw_png", None)
    _set_own(None, "drawing", note="The canvas is empty: draw a digit on it (or upload a picture).")


def _on_upload() -> None:
    f = ss.get("explore_upload")
    if f is None:
        _set_own(None, "upload")
        return
    name = getattr(f, "name", "the file")
    size = int(getattr(f, "size", 0) or 0)
    if size > drawing.MAX_UPLOAD_BYTES:  # the uploader and server.maxUploadSize stop these first
        _set_own(None, "upload", error=f"{name}: the file is {size / 2**20:.1f} MB; the limit is "
                                       f"{drawing.MAX_UPLOAD_MB} MB.")
        return
    try:
        _set_own(drawing.preprocess(f.getvalue()), f"upload: {name}")
    except drawing.DrawingError as e:
        _set_own(None, "upload", error=f"{name}: {e}")


@torch.inference_mode()
def encode_own(active: ActiveModel, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Your digit [28, 28] -> (mu [d], sigma [d], the reconstruction at mu [28, 28])."""
    x = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None, None].to(active.model.device)
    mu, logvar = active.model.encode(x)
    mu, sigma = mu[0].float().cpu().numpy(), torch.exp(0.5 * logvar[0]).float().cpu().numpy()
    return mu, sigma, models.decode(active.model, mu)[0]


def own_code(active: ActiveModel) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    own = ss.get("explore_own")
    if not own:
        return None
    if own.get("model") != active.entry.key:  # encode once per digit and model
        own["model"], own["code"] = active.entry.key, encode_own(active, own["pixels"])
    return own["code"]


# --- the page --------------------------------------------------------------------------------


def render(active: ActiveModel) -> None:
    enc, data_error = None, None
    try:
        enc = models.test_encodings(active.entry.folder, active.entry.stamp, active.dataset)
    except Exception as e:  # DatasetError (missing data) or an unknown dataset name
        data_error = str(e)
    lim = enc.limit if enc is not None else 4.0
    _sync_model(active, lim)

    st.markdown("#### The latent map")
    if enc is None:
        st.error(f"The test set of this model cannot be loaded, so the map shows no points.\n\n{data_error}")
    map_controls(active, lim)
    explore_panel(active, enc, lim)

    left, right = st.columns([2, 3], gap="large")
    with left:
        if enc is not None:
            picked_panel(active, enc, lim)
    with right:
        own_digit_panel(active, lim)

    sections = SECTIONS if enc is not None else ("Manifold grid", "Morph", "Prior samples")
    tabs = st.tabs(list(sections), key="explore_section", on_change="rerun")
    renderers = {
        "Manifold grid": lambda: manifold_section(active, lim),
        "Morph": lambda: morph_section(active, enc),
        "Prior samples": lambda: prior_section(active),
        "Reconstructions": lambda: recon_section(active, enc),
        "De-noising": lambda: denoise_section(active, enc, lim),
    }
    for name, tab in zip(sections, tabs):
        # Only the open tab runs (on_change="rerun"); .open is None if state is not tracked: run them all.
        if tab.open is False:
            continue
        with tab:
            renderers[name]()


def map_controls(active: ActiveModel, lim: float) -> None:
    """The map's kind and view: outside the fragment, since the manifold grid and the de-noising map share them."""
    c1, c2, c3 = st.columns([3, 2, 3], vertical_alignment="bottom")
    c1.slider("View ±", 1.0, _extent_max(lim), step=0.5, key="explore_extent",
              help="Half-width of the square of the latent plane shown (and of the manifold grid).")
    c2.toggle("Manifold under the points", key="explore_bg", disabled=active.latent_dim < 2,
              help="Show the decoded grid faintly behind the points, aligned with the axes.")
    c3.segmented_control(
        "Map", list(MAP_KINDS), format_func=MAP_KINDS.get, default="live", required=True, key=MAP_KIND_KEY,
        help="Live: the map decodes wherever the pointer goes, in your browser. Plotly: zoom, pan, hover for a "
             "point's class and number, and click a point to pick it; each change goes through Python.",
    )


@st.fragment
def explore_panel(active: ActiveModel, enc: Encodings | None, lim: float) -> None:
    """The map, the sliders and the server's image. A slider move reruns only this; the map's ★ follows."""
    if ss.pop("explore_plane_rerun", False):
        st.rerun()  # a release or a pick on the plane: every view follows the new z, not only this fragment
    holder = st.container()  # the map goes first on the page, but needs the sliders' values
    plotly_map = map_kind() == "plotly"
    # The live plane draws its own image beside it; the Plotly map gets the server's image there instead.
    if plotly_map:
        c1, c3 = st.columns([5, 4], gap="large")
    else:
        c1, c2, c3 = st.columns([5, 3, 4], gap="large")
    with c1:
        z = decoder_sliders(active, lim)
    if not plotly_map:
        with c2:
            decoder_image(active, z)
    with c3:
        explain("map")
        explain("decoder", active.model.cfg.likelihood)
    with holder:
        if plotly_map:
            scatter(active, enc, lim, z)
        else:
            plane(active, enc, lim, z)


def plane_data(active: ActiveModel, enc: Encodings | None, lim: float, z: np.ndarray) -> tuple[dict, dict]:
    """(what the plane shows, the blobs it refers to) for the current state."""
    d = active.latent_dim
    folder, stamp = active.entry.folder, active.entry.stamp
    extent = float(ss.get("explore_extent", lim))
    dkey, dspec, why = models.decoder_blob(folder, stamp)
    blobs: dict = {}
    data = {
        "z": [round(float(v), 4) for v in z], "limit": float(lim), "extent": extent,
        "axes": ["z1", "z2"] if d > 1 else ["z1", "(random jitter)"],
        "classes": list(enc.class_names) if enc is not None else [], "colors": list(views.CLASS_COLORS),
        "decoder": None, "points": None, "background": None, "backgroundOpacity": 0.35,
        "marks": [], "ellipses": [], "note": None,
    }
    if dspec is not None:
        data["decoder"], blobs[dkey] = dkey, dspec
    else:  # the server fallback: the page shows the server's image, decoded again after each release
        image = views.png_bytes(views.upscale(models.decode(active.model, z)[0]))
        data["serverImage"] = "data:image/png;base64," + base64.b64encode(image).decode("ascii")
        data["note"] = f"This decoder runs on the server only ({why}): release the ★ to see its image."
    if enc is not None:
        pkey, pspec = models.points_blob(folder, stamp, active.dataset)
        data["points"], blobs[pkey] = pkey, pspec
        picks = [p for p in ss.get("explore_picks", []) if 0 <= p < len(enc.labels)]
        names = ("A", "B") if len(picks) == 2 else ("A",)
        for name, p in zip(names, picks):
            data["marks"].append({"x": float(enc.plane[p, 0]), "y": float(enc.plane[p, 1]), "label": name,
                                  "color": PICK_COLOR})
        if picks and d > 1:
            p = picks[-1]
            data["ellipses"].append({"x": float(enc.mu[p, 0]), "y": float(enc.mu[p, 1]),
                                     "sx": float(enc.sigma[p, 0]), "sy": float(enc.sigma[p, 1]), "color": "#222222"})
    code = own_code(active)
    if code is not None:
        mu, sigma, _ = code
        x, y = float(mu[0]), float(mu[1]) if d > 1 else 0.0
        data["marks"].append({"x": x, "y": y, "label": "yours", "color": OWN_COLOR, "shape": "diamond"})
        if d > 1:
            data["ellipses"].append({"x": x, "y": y, "sx": float(sigma[0]), "sy": float(sigma[1]),
                                     "color": OWN_COLOR, "dash": True, "fill": "rgba(123,44,191,0.10)"})
    if ss.get("explore_bg") and d > 1:
        n = int(ss.get("explore_grid_n", 20))
        gkey = latent_plane.blob_key("grid", folder, stamp, n, extent)
        data["background"] = gkey
        blobs[gkey] = lambda: models.grid_blob(folder, stamp, n, extent)[1]
    return data, blobs


def plane(active: ActiveModel, enc: Encodings | None, lim: float, z: np.ndarray) -> None:
    data, blobs = plane_data(active, enc, lim, z)
    latent_plane.latent_plane(
        PLANE_KEY, data, blobs, on_release=partial(_on_plane_release, active.latent_dim, lim),
        on_pick=partial(_on_plane_pick, enc, lim),
    )
    st.caption("Move the pointer over the map: your browser decodes every point it passes, with no round trip "
               "to Python. Drag the ★ and let go, or click, to move the sliders there; click a dot to pick that "
               "test image; click a class to hide it.")


def map_figure(active: ActiveModel, enc: Encodings | None, lim: float, z: np.ndarray):
    """The Plotly map for the current state: every test image, the ★ at z, the picks, q(z|x) of the last one,
    your digit, and the manifold under them when it is switched on."""
    d = active.latent_dim
    extent = float(ss.get("explore_extent", lim))
    if enc is not None:
        points, labels, class_names = enc.plane, enc.labels, enc.class_names
    else:
        points, labels, class_names = np.zeros((0, 2), np.float32), np.zeros(0, np.int64), ()
    picks = [p for p in ss.get("explore_picks", []) if enc is not None and 0 <= p < len(enc.labels)]
    names = ("A", "B") if len(picks) == 2 else ("A",)
    marks = [(name, float(points[p, 0]), float(points[p, 1])) for name, p in zip(names, picks)]
    ellipses = [dict(center=enc.mu[picks[-1], :2], sigma=enc.sigma[picks[-1], :2])] if picks and d > 1 else []
    extra = []
    code = own_code(active)
    if code is not None:
        mu, sigma, _ = code
        extra.append(dict(x=[float(mu[0])], y=[float(mu[1]) if d > 1 else 0.0], name="your digit",
                          symbol="diamond", color=OWN_COLOR, size=16))
        if d > 1:
            ellipses.append(dict(center=mu[:2], sigma=sigma[:2], color=OWN_COLOR, dash=True))
    background, background_extent = None, None
    if ss.get("explore_bg") and d > 1:
        _, spec = models.grid_blob(active.entry.folder, active.entry.stamp, int(ss.get("explore_grid_n", 20)), extent)
        background, background_extent = spec["src"], spec["extent"][1]
    star = (round(float(z[0]), 4), round(float(z[1]), 4) if d > 1 else 0.0)  # the sliders' values, not float32's
    return views.scatter_figure(
        points, labels, class_names, extent=extent, marker=star, picks=marks, ellipses=ellipses, extra=extra,
        background=background, background_extent=background_extent,
        background_opacity=0.45, height=700, point_size=5, uirevision=f"{active.entry.key}|{extent}",
        axis_titles=("z1", "z2") if d > 1 else ("z1", "(random jitter)"),
    )


def scatter(active: ActiveModel, enc: Encodings | None, lim: float, z: np.ndarray) -> None:
    """The Plotly map, with the server's image at the ★ beside it."""
    # Streamlit keys a Plotly chart by a hash of its figure, so a moved ★ is a new chart: Plotly's zoom and
    # legend clicks do not survive it (the caption says so).
    fig = map_figure(active, enc, lim, z)
    left, right = st.columns([5, 2], gap="medium")
    left.plotly_chart(
        fig, key=SCATTER_KEY, on_select=partial(_on_scatter_select, enc, lim), selection_mode="points",
        config={"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]},
    )
    with right:
        decoder_image(active, z, size=280)
    right.caption("Hover over a dot for its class and test-image number; click it to pick that image (the sliders "
                  "and the ★ go to its μ). Scroll to zoom, drag to pan, click a class in the legend to hide it. Every "
                  "move of the ★ redraws the map, back to the View ± square with all classes shown.")


def decoder_sliders(active: ActiveModel, lim: float) -> np.ndarray:
    """One slider per latent dimension (beyond SLIDERS_SHOWN in an expander). Returns their z."""
    st.markdown("#### Decode a point")
    d = active.latent_dim
    for i in range(d):
        ss.setdefault(_zkey(i), 0.0)
    z = []
    main = min(d, SLIDERS_SHOWN)
    for i in range(main):
        z.append(st.slider(f"z{i + 1}", -lim, lim, step=0.01, format="%.2f", key=_zkey(i)))
    if d > main:
        with st.expander(f"z{main + 1} … z{d}"):
            for i in range(main, d):
                z.append(st.slider(f"z{i + 1}", -lim, lim, step=0.01, format="%.2f", key=_zkey(i)))
    return np.array(z, dtype=np.float32)


def decoder_image(active: ActiveModel, z: np.ndarray, size: int = 196) -> None:
    """The sliders' z decoded by PyTorch on the server: the classic Streamlit path, a rerun per slider move."""
    image = models.decode(active.model, z)[0]
    shown = ", ".join(f"{v:.2f}" for v in z[:4]) + (", …" if len(z) > 4 else "")
    st.image(views.upscale(image, size=size), output_format="PNG", width=size,
             caption=f"decoder output at z = ({shown}), by PyTorch on the server")


def picked_panel(active: ActiveModel, enc: Encodings, lim: float) -> None:
    st.markdown("#### Picked point")
    picks = [p for p in ss.get("explore_picks", []) if 0 <= p < len(enc.labels)]
    if not picks:
        st.caption("Click a point on the map, or enter a test-image number below, to see the image, "
                   "its reconstruction and its posterior q(z|x).")
    else:
        idx = picks[-1]
        label = enc.class_names[int(enc.labels[idx])]
        recon = models.decode(active.model, enc.mu[idx])[0]
        c1, c2 = st.columns(2)
        c1.image(views.upscale(enc.images[idx], size=THUMB), output_format="PNG", width=THUMB, caption=f"test image #{idx} ({label})")
        c2.image(views.upscale(recon, size=THUMB), output_format="PNG", width=THUMB, caption="reconstruction at μ")
        mu, sigma = enc.mu[idx], enc.sigma[idx]
        k = min(len(mu), 4)
        more = ", …" if len(mu) > k else ""
        st.markdown(
            f"μ = ({', '.join(f'{v:.2f}' for v in mu[:k])}{more})  \n"
            f"σ = ({', '.join(f'{v:.3f}' for v in sigma[:k])}{more})"
        )
        explain("pick")
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.number_input("Test image #", 0, len(enc.labels) - 1, step=1, key="explore_pick_index")
    c2.button("Pick", key="explore_pick_button", on_click=partial(_on_pick_button, enc, lim))


def _move_star_to_own(active: ActiveModel, lim: float) -> None:
    code = own_code(active)
    if code is not None:
        _set_sliders(code[0], lim)


def own_digit_panel(active: ActiveModel, lim: float) -> None:
    """Draw or upload a digit: pre-processed like MNIST, encoded, shown on the plane and reconstructed."""
    st.markdown("#### Your own digit")
    c1, c2 = st.columns([1, 1], gap="medium")
    with c1:
        latent_plane.drawing_pad(PAD_KEY, ss.get("explore_draw_png"), on_drawn=_on_drawn, on_cleared=_on_cleared)
    with c2:
        st.file_uploader(
            f"…or upload a picture of one (PNG or JPEG, up to {drawing.MAX_UPLOAD_MB} MB)", type=["png", "jpg", "jpeg"],
            key="explore_upload", on_change=_on_upload, max_upload_size=drawing.MAX_UPLOAD_MB,
            help="Dark ink on light paper or light on dark: either works. It is cropped, scaled and centred like MNIST.",
        )
        if ss.get("explore_own_error"):
            st.error(ss["explore_own_error"], icon=":material/error:")
        elif ss.get("explore_own_note"):
            st.info(ss["explore_own_note"], icon=":material/draw:")
        code = own_code(active)
        own = ss.get("explore_own")
        if code is None or own is None:
            if not ss.get("explore_own_error") and not ss.get("explore_own_note"):
                st.caption("Draw a digit on the black square, or upload a picture: it is encoded, shown on the "
                           "map (◆ with its 1σ ellipse) and reconstructed here.")
            return
        mu, sigma, recon = code
        i1, i2 = st.columns(2)
        source = "your drawing" if own["source"] == "drawing" else own["source"].split(": ", 1)[-1]
        i1.image(views.upscale(own["pixels"], size=THUMB), output_format="PNG", width=THUMB,
                 caption=f"{source}, as the model sees it (28 × 28)")
        i2.image(views.upscale(recon, size=THUMB), output_format="PNG", width=THUMB, caption="your digit's reconstruction at μ")
        k = min(len(mu), 4)
        more = ", …" if len(mu) > k else ""
        st.markdown(f"μ = ({', '.join(f'{v:.2f}' for v in mu[:k])}{more})  \n"
                    f"σ = ({', '.join(f'{v:.3f}' for v in sigma[:k])}{more})")
        st.button("Move the ★ to your digit", key="explore_own_to_star", icon=":material/my_location:",
                  on_click=partial(_move_star_to_own, active, lim))
    explain("own")


# --- the sub-tabs ----------------------------------------------------------------------------


def manifold_section(active: ActiveModel, lim: float) -> None:
    n = st.slider("Grid size n (n × n images)", 10, 30, 20, key="explore_grid_n", persist_state="page")
    extent = float(ss.get("explore_extent", lim))
    grid = models.manifold_grid(active.entry.folder, active.entry.stamp, int(n), extent)
    image = views.grid_image(grid, scale=max(1, 600 // (n * 28)))
    dims = "z1 (left to right) and z2 (bottom to top)" if active.latent_dim > 1 else "z1"
    st.image(image, output_format="PNG", width=image.shape[1],
             caption=f"{n} × {n} decodes over [-{extent:g}, {extent:g}]² of {dims}, the map's view")
    st.download_button("Download grid (PNG)", views.png_bytes(image), file_name=f"manifold-{n}x{n}.png",
                       mime="image/png", on_click="ignore", key="explore_grid_dl")
    explain("manifold")


MORPH_ENDS = ("A → B: the last two picked points", "★ → last picked point", "Your digit → ★",
              "Your digit → last picked point")


def morph_section(active: ActiveModel, enc: Encodings | None) -> None:
    c1, c2, c3 = st.columns([3, 2, 3])
    ends = c1.radio("Endpoints", MORPH_ENDS, key="explore_morph_ends", persist_state="page")
    mode = c2.radio("Path", ("linear", "slerp"), key="explore_morph_mode", persist_state="page", horizontal=True)
    steps = c3.slider("Steps", 8, 32, 12, key="explore_morph_steps", persist_state="page")
    picks = [p for p in ss.get("explore_picks", []) if enc is not None and 0 <= p < len(enc.labels)]
    own = own_code(active)
    if ends.startswith("Your digit") and own is None:
        st.info("Draw or upload a digit (under the map): the morph starts from its code μ.")
        explain("morph")
        return
    if ends == MORPH_ENDS[0]:
        if len(picks) < 2:
            st.info(f"Pick two points on the map (or by number) to morph between them; {len(picks)} picked so far.")
            explain("morph")
            return
        z0, z1 = enc.mu[picks[0]], enc.mu[picks[1]]
        what = f"test image #{picks[0]} → #{picks[1]}"
    elif ends == MORPH_ENDS[2]:
        z0, z1 = own[0], slider_z(active.latent_dim)
        what = "your digit → ★"
    else:
        if not picks:
            st.info("Pick a point on the map (or by number): the morph runs to it.")
            explain("morph")
            return
        if ends == MORPH_ENDS[1]:
            z0, what = slider_z(active.latent_dim), f"★ → test image #{picks[-1]}"
        else:
            z0, what = own[0], f"your digit → test image #{picks[-1]}"
        z1 = enc.mu[picks[-1]]
    ends_key = [tuple(round(float(v), 6) for v in np.ravel(z)) for z in (z0, z1)]
    media = models.morph_media(active.entry.folder, active.entry.stamp, *ends_key, int(steps), mode)
    c1, c2 = st.columns([1, 2])
    c1.image(media.gif, width=views.DISPLAY_SIZE, caption=f"{what}, {mode}, {media.n_frames} steps")
    c2.image(media.strip_shown, width=media.strip_width,
             caption="the same path, frame by frame (left to right, top to bottom)")
    d1, d2, _ = st.columns([1, 1, 2])
    d1.download_button("Download GIF", media.gif, file_name="morph.gif", mime="image/gif", on_click="ignore",
                       key="explore_morph_gif")
    d2.download_button("Download strip (PNG)", media.strip_download, file_name="morph.png", mime="image/png",
                       on_click="ignore", key="explore_morph_png")
    explain("morph")


def _resample() -> None:
    ss["explore_prior_seed"] = int(ss.get("explore_prior_seed", 0)) + 1


def prior_section(active: ActiveModel) -> None:
    c1, c2, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
    ss.setdefault("explore_prior_seed", 0)
    seed = c1.number_input("Seed", 0, 2**31 - 1, step=1, key="explore_prior_seed", persist_state="page")
    c2.button("Resample", on_click=_resample, icon=":material/casino:", key="explore_resample")
    generator = torch.Generator().manual_seed(int(seed))
    with torch.inference_mode():
        samples = active.model.sample(64, generator=generator).cpu()
    image = views.tile(samples, ncols=8, pad=2, scale=2)
    st.image(image, output_format="PNG", width=image.shape[1], caption=f"64 decodes of z ~ N(0, I), seed {seed}")
    explain("prior")


def _shuffle() -> None:
    ss["explore_recon_seed"] = int(ss.get("explore_recon_seed", 0)) + 1


def recon_section(active: ActiveModel, enc: Encodings) -> None:
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    which = c1.radio("Images", ("one of each class", "random"), key="explore_recon_which", horizontal=True,
                     persist_state="page")
    count = c2.slider("How many (random)", 6, 20, 12, key="explore_recon_n", persist_state="page",
                      disabled=which != "random")
    c3.button("Shuffle", on_click=_shuffle, icon=":material/shuffle:", key="explore_shuffle")
    rng = np.random.default_rng(int(ss.get("explore_recon_seed", 0)))
    if which == "random":
        idx = rng.choice(len(enc.labels), size=int(count), replace=False)
    else:
        idx = np.array([rng.choice(np.flatnonzero(enc.labels == k)) for k in range(len(enc.class_names))
                        if (enc.labels == k).any()])
    recon = models.decode(active.model, enc.mu[idx])
    image = views.recon_gallery(enc.images[idx].numpy(), recon, scale=2, pad=2)
    st.image(image, output_format="PNG", width=image.shape[1], caption="top: test images · bottom: their reconstructions at μ · "
             + ", ".join(f"#{i}" for i in idx))
    explain("recon")


NOISE_KINDS = {"Gaussian": "gaussian", "Salt and pepper": "salt-and-pepper"}


def denoise_section(active: ActiveModel, enc: Encodings, lim: float) -> None:
    c1, c2, c3 = st.columns([1, 1, 2])
    idx = int(c1.number_input("Test image #", 0, len(enc.labels) - 1, 0, step=1, key="explore_dn_index",
                              persist_state="page"))
    kind = c2.radio("Noise", list(NOISE_KINDS), key="explore_dn_kind", persist_state="page")
    level = c3.slider("Noise level (σ, or the fraction of pixels hit)", 0.0, 1.0, 0.3, step=0.05,
                      key="explore_dn_level", persist_state="page")
    clean = views.to_array(enc.images[idx])
    noisy = views.add_noise(clean, NOISE_KINDS[kind], level, seed=idx)
    with torch.inference_mode():
        mu_noisy, logvar = active.model.encode(torch.from_numpy(noisy)[None, None].to(active.model.device))
    mu_noisy = mu_noisy[0].float().cpu().numpy()
    recon_noisy = models.decode(active.model, mu_noisy)[0]
    recon_clean = models.decode(active.model, enc.mu[idx])[0]
    shift = float(np.linalg.norm(mu_noisy - enc.mu[idx]))
    left, right = st.columns([1, 1], gap="large")
    with left:
        for row in ((clean, "clean test image", noisy, "noisy input"),
                    (recon_noisy, "reconstruction of the noisy input", recon_clean, "reconstruction of the clean image")):
            c1, c2 = st.columns(2)
            c1.image(views.upscale(row[0], size=THUMB), output_format="PNG", width=THUMB, caption=row[1])
            c2.image(views.upscale(row[2], size=THUMB), output_format="PNG", width=THUMB, caption=row[3])
        st.markdown(f"The noise moved the code by |Δμ| = **{shift:.2f}**; the clean image's σ is about "
                    f"{float(np.mean(enc.sigma[idx])):.2f}.")
        explain("denoise")
    clean_xy = enc.plane[idx]
    noisy_xy = (float(mu_noisy[0]), float(mu_noisy[1]) if active.latent_dim > 1 else float(clean_xy[1]))
    fig = views.scatter_figure(
        enc.plane, enc.labels, enc.class_names, extent=float(ss.get("explore_extent", lim)), height=460,
        point_size=3, uirevision=active.entry.key,
        extra=[
            dict(x=[clean_xy[0]], y=[clean_xy[1]], name="clean image", symbol="circle", color="#D62728"),
            dict(x=[noisy_xy[0]], y=[noisy_xy[1]], name="noisy input", symbol="x", color="#D62728", size=16),
        ],
        arrows=[(clean_xy[0], clean_xy[1], noisy_xy[0], noisy_xy[1])],
    )
    with right:
        st.plotly_chart(fig, key="explore_denoise_map", config={"displaylogo": False})
