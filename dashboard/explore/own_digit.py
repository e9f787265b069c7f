"""Your own digit, drawn or uploaded: pre-processed like MNIST, encoded, shown on the map and reconstructed."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import drawing, latent_plane, views
from ..explain import explain
from ..presenter import presenting
from ..safe_text import plain
from . import posterior, reruns
from .context import OWN_KEY, THUMB, ExploreContext
from .fragments import MAP, TABS
from .picked import show_q

PAD_KEY = "explore_draw"
PAD_BLANK = "explore_draw_blank"  # a count: each new value blanks the pad
ss = st.session_state


def _set_own(pixels: np.ndarray | None, source: str, error: str | None = None, note: str | None = None) -> None:
    """Your digit (float32 [28, 28], MNIST-like) or why there is none."""
    if pixels is not None:
        ss[OWN_KEY] = {"source": source, "pixels": pixels}
    elif ss.get(OWN_KEY, {}).get("source", "").startswith(source.split(":")[0]):
        ss.pop(OWN_KEY, None)  # the drawing was cleared, or the upload removed: its digit goes too
    ss["explore_own_error"], ss["explore_own_note"] = error, note
    if presenting():  # the panel is in the sub-tabs' fragment, beside the map that shows the ◆
        st.rerun([MAP, TABS])


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
        _set_own(None, "upload", error=f"{plain(name)}: the file is {size / 2**20:.1f} MB; the limit is "
                                       f"{drawing.MAX_UPLOAD_MB} MB.")
        return
    try:
        _set_own(drawing.preprocess(f.getvalue()), f"upload: {name}")
        ss.pop("explore_draw_png", None)  # the digit is the upload's now: the pad forgets the drawing, and blanks
        ss[PAD_BLANK] = ss.get(PAD_BLANK, 0) + 1
    except drawing.DrawingError as e:
        _set_own(None, "upload", error=f"{plain(name)}: {e}")


def _move_star_here(ctx: ExploreContext, mu) -> None:
    if presenting():  # in the sub-tabs' fragment: the map must follow
        reruns.change(ctx.state, ctx.d, lambda: ctx.state.move_star(mu, ctx.lim))
    else:
        ctx.state.move_star(mu, ctx.lim)


def own_digit_panel(ctx: ExploreContext) -> None:
    """Draw or upload a digit: pre-processed like MNIST, encoded, shown on the plane and reconstructed."""
    if not ctx.presenting:  # presenting, the tab says it
        st.markdown("#### Your own digit")
    c1, c2 = st.columns([1, 1], gap="medium")
    with c1:
        latent_plane.drawing_pad(PAD_KEY, ss.get("explore_draw_png"), on_drawn=_on_drawn, on_cleared=_on_cleared,
                                 blank_rev=ss.get(PAD_BLANK, 0))
    with c2:
        st.file_uploader(
            f"…or upload a picture (PNG or JPEG, up to {drawing.MAX_UPLOAD_MB} MB)", type=["png", "jpg", "jpeg"],
            key="explore_upload", on_change=_on_upload, max_upload_size=drawing.MAX_UPLOAD_MB,
            help="Dark ink on light paper or light on dark: either works. It is cropped, scaled and centred like "
                 "MNIST.",
        )
        if ss.get("explore_own_error"):
            st.error(ss["explore_own_error"], icon=":material/error:")
        elif ss.get("explore_own_note"):
            st.info(ss["explore_own_note"], icon=":material/draw:")
        code = ctx.own_code()
        own = ss.get(OWN_KEY)
        if code is None or own is None:
            if not ss.get("explore_own_error") and not ss.get("explore_own_note"):
                st.caption("Draw a digit on the black square, or upload a picture: it is encoded, shown on the "
                           "map (◆ with its 1σ ellipse) and reconstructed here.")
            return
        mu, sigma, recon = code
        with st.container(key="explore_own_strip"):  # its two columns wrap where too narrow (app.py's CSS)
            i1, i2 = st.columns(2)
        source = "your drawing" if own["source"] == "drawing" else own["source"].split(": ", 1)[-1]
        if ctx.presenting:  # half of the panel's half beside the map: the images fit their columns
            i1.image(views.thumb_url(own["pixels"], size=THUMB), width="stretch", caption="as the model sees it")
            i2.image(views.thumb_url(recon, size=THUMB), width="stretch", caption="reconstruction at μ")
        else:
            i1.image(views.thumb_url(own["pixels"], size=THUMB), width=THUMB,
                     caption=f"{source}, as the model sees it (28 × 28)")
            i2.image(views.thumb_url(recon, size=THUMB), width=THUMB,
                     caption="your digit's reconstruction at μ")
        show_q(ctx, mu, sigma, "explore_own_q")
        st.button("Move the ★ here", key="explore_own_to_star", icon=":material/my_location:",
                  on_click=_move_star_here, args=(ctx, code[0]))
    explain("own")
    posterior.controls(ctx, "own", own=code)
