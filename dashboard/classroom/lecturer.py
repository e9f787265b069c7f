"""The lecturer's class bar: one row over the page. The room's code and the join link with its QR code (large in a
dialog, for the back row), the live count of drawings, asking for a digit, a poll, the class's layer on the map,
ending the class. The counts come from a small fragment that push.py reruns when the room's drawings or guesses
changed (or, without push, that reads the store once a second); the map, which shows them, and the drawings'
download run after it (the page, where it shows no map).
"""

from __future__ import annotations

import io

import segno
import streamlit as st

from ..class_store import ClassError
from ..explore import url
from ..explore.context import OVERLAY_KEY
from ..explore.fragments import MAP_VIEW
from ..views import png_bytes, upscale
from . import fragment_runs, layers, push
from .follow import publish
from .session import ClassSession, leave, store

POLL_S = 1.0  # without push: how often the lecturer's page reads the counts
COUNTS = "class_counts"  # the counts' fragment
DRAWINGS = "class_drawings"  # the drawings' download: a fragment that runs after the counts when they change
ASK_LABEL = "class_ask_label"
POLL_IMAGE = "class_poll_image"


def join_link(room: str) -> str:
    """The students' link: this server as the lecturer's browser reaches it, and the room."""
    return url.link({"class": room})


def qr_png(text: str, scale: int = 12) -> bytes:
    """The QR code of `text`, drawn here (segno): nothing is fetched."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


@st.dialog("Join the class", width="large")
def big_qr(room: str) -> None:
    link = join_link(room)
    st.markdown(f"### Class `{room}`  \nScan, or open **{link}**")
    st.image(qr_png(link, scale=20), width="stretch")


def _try(action, done: str | None = None) -> None:
    """A store action from a button: its refusal (one line) becomes the bar's note."""
    try:
        action()
        ClassSession().note = done
    except ClassError as e:
        ClassSession().note = f"!{e}"


def _ask_digit() -> None:
    cls = ClassSession()
    label = st.session_state.get(ASK_LABEL)
    _try(lambda: store().ask(cls.room, cls.key, {"kind": "digit", "label": str(label)}),
         f"Asked the class to draw a {label}.")


def _stop_asking() -> None:
    cls = ClassSession()
    _try(lambda: store().ask(cls.room, cls.key, None), "The request is withdrawn.")


def _start_poll(model_name: str) -> None:
    cls = ClassSession()
    image = int(st.session_state.get(POLL_IMAGE, 0))
    old = layers.poll_of(store().request(cls.room))
    number = int(old["poll"]) + 1 if old else 1
    cls.reveal = False
    _try(lambda: store().ask(cls.room, cls.key, {"kind": "poll", "poll": number, "image": image,
                                                  "model": model_name}),
         f"Poll {number}: where will test image #{image} land?")


def _clear() -> None:
    cls = ClassSession()
    _try(lambda: store().clear_drawings(cls.room, cls.key), "The class's drawings are cleared.")


def _end() -> None:
    cls = ClassSession()
    try:
        store().end(cls.room, cls.key)
        leave("The class has ended: its drawings and guesses are deleted.")
    except ClassError as e:
        cls.note = f"!{e}"


def counts() -> tuple[tuple[int, int], object]:
    """((drawings, guesses at the open poll), the request) in the store now."""
    cls = ClassSession()
    n = store().drawing_count(cls.room) or 0
    request = store().request(cls.room)
    poll = layers.poll_of(request)
    guesses = len(store().guesses(cls.room, cls.key, int(poll["poll"]))) if poll else 0
    return (n, guesses), request


def register(pulse) -> bool:
    """Tell push what the lecturer's page shows of the room's pulse: rerun its counts when that changes."""
    return push.watch(ClassSession().room, True, (COUNTS,), push.part(pulse, True))


def live_counts(model) -> None:
    """The counts and the drawings by label (rerun by push, or once a second). A change in a run of its own has
    the map (the new drawings and guesses) and the drawings' download run after it, or the whole page where it
    shows no map (the Train tab) or the request changed elsewhere (another of the lecturer's pages); in the page's
    run the map that follows shows them already."""
    cls = ClassSession()
    try:
        pulse = store().pulse(cls.room)  # first: a drawing stored while the counts are read is news again
        if pulse is None:
            leave("This class has ended (idle too long, or ended elsewhere).")
            st.rerun()
        now, request = counts()
    except ClassError as e:
        st.caption(str(e))
        return
    register(pulse)
    if cls.seen is not None and tuple(cls.seen) != now and fragment_runs.in_fragment_run():
        cls.seen = now
        if request != cls.request or not fragment_runs.after_this_run((MAP_VIEW, DRAWINGS)):
            st.rerun()
    cls.seen = now
    poll = layers.poll_of(cls.request)
    count = lambda n, one, many: f"**{n}** {one if n == 1 else many}"  # noqa: E731
    st.markdown(f":material/groups: Class **`{cls.room}`** · {count(now[0], 'drawing', 'drawings')}"
                + (f" · {count(now[1], 'guess', 'guesses')}" if poll else ""))
    by_label = label_counts(layers.drawings(model.link_name))
    st.caption(f"Students open **{join_link(cls.room)}** or scan its QR code."
               + (f" Drawings by label asked: {by_label}." if by_label else ""))


def drawings_download(model) -> None:
    """The class's drawings as a file vae_core reads (a fragment: rerun with the counts when drawings come in)."""
    n = len(layers.drawings(model.link_name))
    what = "the drawing" if n == 1 else f"the {n} drawings"
    st.download_button(f"Download {what} (.safetensors)", layers.download(model) if n else b"",
                       file_name=f"class-{ClassSession().room}-drawings.safetensors", key="class_download",
                       on_click="ignore", disabled=not n, icon=":material/download:")


def label_counts(drawings) -> str:
    """ "7 × 12 · 1 × 3": how many drawings came for each label asked, in the order first asked."""
    counts: dict[str, int] = {}
    for dr in drawings:
        counts[dr.label or "none"] = counts.get(dr.label or "none", 0) + 1
    return " · ".join(f"{label} × {n}" for label, n in counts.items())


def poll_images(model):
    """The model's test set (its Encodings), or None when it cannot be loaded (the map says why)."""
    try:
        return model.encodings()
    except Exception:
        return None


def bar(model) -> None:
    """The lecturer's row (see the module's docstring)."""
    cls = ClassSession()
    st.session_state[url.ON_WRITE] = publish
    st.session_state[OVERLAY_KEY] = layers.overlay
    cls.request = store().request(cls.room)
    with st.container(key="class_bar", border=True):
        c1, c2, c3, c4, c5 = st.columns([3.2, 1, 1, 1, 1], vertical_alignment="center")
        with c1:
            pushed = register(store().pulse(cls.room))
            st.fragment(key=COUNTS, run_every=None if pushed else POLL_S)(live_counts)(model)
        c2.button("QR", key="class_qr", icon=":material/qr_code_2:", width="stretch",
                  on_click=big_qr, args=(cls.room,), help="The join link's QR code, large, for the back row")
        names = layers.class_names(model)
        with c3.popover("Ask", icon=":material/draw:", width="stretch"):
            st.selectbox("Ask the class to draw", names, key=ASK_LABEL)
            st.button(f"Ask the class: draw a {st.session_state.get(ASK_LABEL) or names[0]}", key="class_ask",
                      on_click=_ask_digit, type="primary")
            st.session_state["class_layer"] = bool(cls.layer)
            st.toggle("Show the class's drawings on the map", key="class_layer",
                      on_change=lambda: setattr(cls, "layer", bool(st.session_state["class_layer"])))
            st.fragment(key=DRAWINGS)(drawings_download)(model)
            st.button("Clear the drawings", key="class_clear", on_click=_clear, icon=":material/delete:")
            st.button("Withdraw the request", key="class_stop_ask", on_click=_stop_asking,
                      disabled=cls.request is None)
        with c4.popover("Poll", icon=":material/ballot:", width="stretch"):
            poll_controls(model, cls)
        with c5.popover("End", icon=":material/logout:", width="stretch"):
            st.caption("The class's drawings and guesses are deleted; students' pages go on on their own.")
            st.button("End the class", key="class_end", on_click=_end, type="primary")



def poll_controls(model, cls: ClassSession) -> None:
    """The Poll popover: a test image, start the poll, reveal the guesses."""
    enc = poll_images(model)
    if enc is None:
        st.caption("This model's test set cannot be loaded here: no poll.")
        return
    st.number_input("Test image #", 0, len(enc.labels) - 1, key=POLL_IMAGE, step=1)
    shown = enc.images[int(st.session_state.get(POLL_IMAGE) or 0)].numpy()
    st.image(png_bytes(upscale(shown, size=112)), width=112, caption="the image the class is asked about")
    st.button("Ask: where will it land?", key="class_poll", on_click=_start_poll, args=(model.link_name,),
              type="primary")
    st.session_state["class_reveal"] = bool(cls.reveal)
    st.toggle("Reveal the guesses and the true code", key="class_reveal",
              on_change=lambda: setattr(cls, "reveal", bool(st.session_state["class_reveal"])),
              disabled=layers.poll_of(cls.request) is None)
