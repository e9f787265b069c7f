"""The two panels under the map: the picked test image, and your own drawn or uploaded digit."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import drawing, latent_plane, models, views
from ..explain import explain
from . import posterior, reruns
from .state import ExploreState

THUMB = 140  # px: the smaller images
PAD_KEY = "explore_draw"
ss = st.session_state


def _vector(name: str, v: np.ndarray, digits: int) -> str:
    k = min(len(v), 4)
    return f"{name} = ({', '.join(f'{x:.{digits}f}' for x in v[:k])}{', …' if len(v) > k else ''})"


def _posterior(active, mu, sigma, key: str) -> None:
    """q(z|x): μ and σ as text for d <= 4, else per dimension in a small chart (dimensions.posterior_chart)."""
    if len(mu) <= 4:
        st.markdown(f"{_vector('μ', mu, 2)}  \n{_vector('σ', sigma, 3)}")
        return
    from . import dimensions

    order = None
    try:
        order = models.latent_analysis(active.entry.folder, active.entry.stamp, active.dataset).order
    except Exception:  # no test set: the dimensions in order
        pass
    st.plotly_chart(dimensions.posterior_chart(mu, sigma, order), key=key, config={"displaylogo": False,
                    "displayModeBar": False})
    st.caption("μ (dot) and ±σ (bar) of q(z|x) per dimension, the most informative dimensions first.")


# --- the picked point ----------------------------------------------------------------------------


def picked_view(active, enc, state: ExploreState) -> None:
    """The last pick: the image, its reconstruction, q(z|x)."""
    st.markdown("#### Picked point")
    picks = [p for p in state.picks if 0 <= p < len(enc.labels)]
    if not picks:
        st.caption("Click a point on the map, or enter a test-image number below, to see the image, "
                   "its reconstruction and its posterior q(z|x).")
        return
    idx = picks[-1]
    label = enc.class_names[int(enc.labels[idx])]
    image, recon = models.picked_images(active.entry.folder, active.entry.stamp, active.dataset, idx, THUMB)
    c1, c2 = st.columns(2)
    c1.image(image, width=THUMB, caption=f"test image #{idx} ({label})")
    c2.image(recon, width=THUMB, caption="reconstruction at μ")
    _posterior(active, enc.mu[idx], enc.sigma[idx], f"explore_pick_q_{idx}")
    explain("pick")


def pick_by_number(active, enc, state: ExploreState, lim: float) -> None:
    """A test image by its number. In the picked view's fragment: a new number reruns that alone, a pick what
    shows it (reruns.change), never the whole page."""
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.number_input("Test image #", 0, len(enc.labels) - 1, step=1, **state.bind("pick_index"))
    c2.button("Pick", key="explore_pick_button", on_click=_pick_by_number, args=(state, enc, lim, active.latent_dim))


def picked_controls(active, enc, state: ExploreState, lim: float) -> None:
    """Under the picked view, in its fragment: sampling the pick's posterior onto the map (the controls' changes
    rerun the map with it: posterior.controls)."""
    if any(0 <= p < len(enc.labels) for p in state.picks):
        posterior.controls(active, enc, state, lim, "pick")


def _pick_by_number(state: ExploreState, enc, lim: float, d: int) -> None:
    i = int(state.pick_index)  # the box's bounds keep it in range; a stale one picks nothing
    reruns.change(state, d, lambda: state.pick(i, enc.mu[i], lim) if 0 <= i < len(enc.labels) else None)


# --- your own digit ------------------------------------------------------------------------------


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


def own_code(active) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(mu, sigma, reconstruction) of your digit under the model in use, encoded once per digit and model."""
    own = ss.get("explore_own")
    if not own:
        return None
    if own.get("model") != active.entry.key:
        own["model"], own["code"] = active.entry.key, models.encode_image(active.model, own["pixels"])
    return own["code"]


def own_digit_panel(active, state: ExploreState, lim: float) -> None:
    """Draw or upload a digit: pre-processed like MNIST, encoded, shown on the plane and reconstructed."""
    st.markdown("#### Your own digit")
    c1, c2 = st.columns([1, 1], gap="medium")
    with c1:
        latent_plane.drawing_pad(PAD_KEY, ss.get("explore_draw_png"), on_drawn=_on_drawn, on_cleared=_on_cleared)
    with c2:
        st.file_uploader(
            f"…or upload a picture (PNG or JPEG, up to {drawing.MAX_UPLOAD_MB} MB)", type=["png", "jpg", "jpeg"],
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
        i1.image(views.thumb_url(own["pixels"], size=THUMB), width=THUMB,
                 caption=f"{source}, as the model sees it (28 × 28)")
        i2.image(views.thumb_url(recon, size=THUMB), width=THUMB,
                 caption="your digit's reconstruction at μ")
        _posterior(active, mu, sigma, "explore_own_q")
        st.button("Move the ★ here", key="explore_own_to_star", icon=":material/my_location:",
                  on_click=lambda: state.move_star(code[0], lim))
    explain("own")
    posterior.controls(active, None, state, lim, "own", own=code)
