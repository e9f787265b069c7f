"""A student's class bar: the room, Follow the lecturer (follow.py), and what the lecturer asks.

A digit: draw it on the pad (or upload a photo of one), pre-processed like MNIST as "Your digit" is; Send encodes
it with the model shown (μ of q(z|x)) and stores the code, the image and its reconstruction for the lecturer's
map. A poll: tap the map where you think the lecturer's test image lands (the ★ goes there, or to the dot tapped;
while the poll is open neither is a break from the lecturer's view), then send the ★'s place on the map as your
guess (read when sent: a release on the map reruns only the map).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from .. import drawing, latent_plane, views
from ..class_store import ClassError
from ..explore import url
from ..explore.context import BEFORE_MAP_KEY
from ..explore.scene import plane_xy
from ..explore.state import ExploreState
from ..safe_text import plain
from .follow import before_map, follow_row, watch_own_moves
from .session import ClassSession, store

PAD_KEY = "class_pad"
UPLOAD_KEY = "class_upload"
THUMB = 84


def _on_drawn() -> None:
    cls = ClassSession()
    png = latent_plane.drawn_value(PAD_KEY)
    if png is None:
        return
    try:
        cls.pad, cls.pad_png, cls.sent = drawing.to_mnist(drawing.read_data_url(png)), png, None
    except drawing.DrawingError as e:
        cls.pad, cls.sent = None, f"!Your drawing: {e}"


def _on_cleared() -> None:
    cls = ClassSession()
    cls.pad = cls.pad_png = None


def _on_upload() -> None:
    cls, f = ClassSession(), st.session_state.get(UPLOAD_KEY)
    if f is None:
        return
    try:
        cls.pad, cls.pad_png, cls.sent = drawing.preprocess(f.getvalue()), None, None
    except drawing.DrawingError as e:
        cls.pad, cls.sent = None, f"!{plain(getattr(f, 'name', 'the file'))}: {e}"


def encoded(model, pixels: np.ndarray) -> tuple[bytes, np.ndarray, bytes]:
    """(the image as stored: 784 uint8, μ of q(z|x) of that very image, its reconstruction at μ: 784 uint8)."""
    image = np.rint(np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    mu, _, recon = model.encode_image(image.astype(np.float32) / 255.0)
    return image.tobytes(), mu, np.rint(np.clip(recon, 0, 1) * 255).astype(np.uint8).tobytes()


def _send_drawing(model, label: str) -> None:
    cls = ClassSession()
    if latent_plane.drawn_value(PAD_KEY) is not None:  # a stroke and Send in one run: Send may be heard first
        _on_drawn()
    if cls.pad is None:
        cls.sent = "!Draw the digit on the pad first (or upload a photo of one)."
        return
    image, mu, recon = encoded(model, cls.pad)
    try:
        store().add_drawing(cls.room, cls.student, label, model.link_name, [float(v) for v in mu], image, recon)
        cls.sent = f"Sent: your {label} is on the lecturer's map."
    except ClassError as e:
        cls.sent = f"!{e}"


def star_on_map(model) -> tuple[float, float] | None:
    """Where the ★ is on this page's map (the map's plane for d > 2), or None before it is set."""
    state, d = ExploreState(), model.latent_dim
    if len(state.z) != d:
        return None
    plane = model.plane(state.projection_for(d)) if d > 2 else None
    x, y = plane_xy(np.array(state.z, np.float32), d, plane)[0]
    return float(x), float(y)


def _send_guess(model, poll: int) -> None:
    cls, at = ClassSession(), star_on_map(model)
    if at is None:
        cls.sent = "!Tap the map first: the ★ marks your guess."
        return
    try:
        store().add_guess(cls.room, cls.student, poll, *at)
        cls.sent = f"Guess sent: ({at[0]:.2f}, {at[1]:.2f}). Tap again and send to change it."
    except ClassError as e:
        cls.sent = f"!{e}"


def _sent_line() -> None:
    sent = ClassSession().sent
    if sent:
        (st.error if sent.startswith("!") else st.success)(sent.lstrip("!"))


def digit_request(model, label: str) -> None:
    cls = ClassSession()
    st.markdown(f"**The lecturer asks: draw a {plain(label)}**")
    c1, c2 = st.columns([1, 1], gap="small")
    with c1:
        latent_plane.drawing_pad(PAD_KEY, cls.pad_png, on_drawn=_on_drawn, on_cleared=_on_cleared)
    with c2:
        st.file_uploader("…or a photo of one", type=["png", "jpg", "jpeg"], key=UPLOAD_KEY, on_change=_on_upload,
                         max_upload_size=drawing.MAX_UPLOAD_MB)
        if cls.pad is not None:
            st.image(views.thumb_url(cls.pad, size=THUMB), width=THUMB, caption="as the model sees it")
        st.button(f"Send my {plain(label)}", key="class_send", icon=":material/send:", type="primary",
                  on_click=_send_drawing, args=(model, label), disabled=cls.pad is None)
        _sent_line()


def poll_request(model, poll: dict) -> None:
    image = int(poll.get("image", 0))
    try:
        enc = model.encodings()
    except Exception:  # no test set here: the map says why
        st.info("The lecturer asks where a test image lands; this model's test set cannot be loaded here.")
        return
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    if 0 <= image < len(enc.labels):
        c1.image(views.thumb_url(enc.images[image].numpy(), size=THUMB), width=THUMB,
                 caption=f"test image #{image}")
    with c2:
        st.markdown("**Where will this image land on the map?** Tap the map there (the ★ moves), then send.")
        st.button("Send my guess: the ★", key="class_guess",
                  icon=":material/where_to_vote:", type="primary", on_click=_send_guess,
                  args=(model, int(poll.get("poll", 0))))
        _sent_line()


def bar(model, entries) -> None:
    """The student's rows (see the module's docstring)."""
    cls = ClassSession()
    st.session_state[url.ON_WRITE] = watch_own_moves
    st.session_state[BEFORE_MAP_KEY] = partial(before_map, entries)
    request = store().request(cls.room)
    if request != cls.request:
        cls.sent = None
    with st.container(key="class_bar", border=True):
        c1, c2 = st.columns([1, 2], vertical_alignment="center")
        c1.markdown(f":material/groups: Class **`{cls.room}`**")
        with c2:
            follow_row(entries)
        if isinstance(request, dict) and request.get("kind") == "digit":
            digit_request(model, str(request.get("label", "")))
        elif isinstance(request, dict) and request.get("kind") == "poll":
            poll_request(model, request)
    cls.request = request  # once drawn: a run cut short before leaves the request news for the next one
