"""The lecture's controls, in a "Lecture" expander of the sidebar: start and stop, go to a scene, add the view
shown as a scene, move the current scene up or down, delete it, download the lecture, load one. Stepping
itself does not need the sidebar (the keys and the title bar, keys.py). Every change is a widget callback, so
the page drawn after it already shows it.
"""

from __future__ import annotations

import streamlit as st

from ..explore import url
from ..explore.state import ExploreState
from ..safe_text import plain
from ..session_keys import LECTURE_SCENE
from . import session
from .scenes import MAX_BYTES, MAX_LINE, MAX_TITLE, LectureError, dump, parse, scene_of

PICK = "lecture_pick"  # the scene selectbox
NEW_TITLE, NEW_LINE = "lecture_new_title", "lecture_new_line"
UPLOAD = "lecture_upload"
UPLOAD_MB = 1  # the uploader's own limit; parse() checks MAX_BYTES


def controls(model, entries) -> None:
    """The sidebar's Lecture expander. model: the ModelHandle in use (its link name goes into an added scene)."""
    lec = session.lecture()
    i = session.index()
    with st.sidebar.expander("Lecture", icon=":material/slideshow:", expanded=i is not None):
        if lec is None:
            st.error(st.session_state.get(session.ERROR, "The lecture could not be read."), icon=":material/error:")
            return
        status = session.take_status()
        if status:
            (st.error if status.startswith("!") else st.success)(plain(status.lstrip("!")))
        n = len(lec.scenes)
        if i is None:
            st.caption(f"**{plain(lec.title)}**: {n} scene{'s' if n != 1 else ''}. PageDown / PageUp (a clicker) "
                       "or → / ← step through them; the title shows at the top of the page.")
            st.button("Start the lecture", key="lecture_start", icon=":material/play_arrow:", width="stretch",
                      on_click=session.go_to, args=(0, entries))
        else:
            st.session_state[PICK] = i
            st.selectbox("Scene", range(n), key=PICK, format_func=lambda k: f"{k + 1} · {lec.scenes[k].title}",
                         on_change=lambda: session.go_to(st.session_state[PICK], entries))
            if lec.scenes[i].line:
                st.caption(plain(lec.scenes[i].line))
            # two a row: the sidebar's width holds two short labels, not three (a cut label reads "D")
            c1, c2 = st.columns(2)
            c1.button("Up", key="lecture_up", icon=":material/arrow_upward:", disabled=i == 0, width="stretch",
                      help="Move this scene one place earlier", on_click=_move, args=(-1,))
            c2.button("Down", key="lecture_down", icon=":material/arrow_downward:", disabled=i == n - 1,
                      width="stretch", help="Move this scene one place later", on_click=_move, args=(1,))
            c1, c2 = st.columns(2)
            c1.button("Delete", key="lecture_delete", disabled=n == 1, width="stretch",
                      help="Delete this scene (a lecture keeps at least one)", on_click=_delete, args=(entries,))
            c2.button("Stop", key="lecture_stop", width="stretch", on_click=session.stop,
                      help="End the lecture: the title goes, and PageDown scrolls the page again")
        st.text_input("New scene's title", key=NEW_TITLE, max_chars=MAX_TITLE, placeholder=f"Scene {n + 1}")
        st.text_input("Its line for the lecturer", key=NEW_LINE, max_chars=MAX_LINE)
        st.button("Add this view as a scene", key="lecture_add", icon=":material/add_photo_alternate:",
                  on_click=_add, args=(model.link_name,),
                  help="The view shown now (model, settings, presenter mode), after the current scene.")
        st.download_button("Download the lecture", dump(lec), file_name="lecture.json", mime="application/json",
                           key="lecture_download", icon=":material/download:", on_click="ignore")
        st.file_uploader(f"Load a lecture (JSON, up to {MAX_BYTES // 1024} KB)", type=["json"], key=UPLOAD,
                         on_change=_load, max_upload_size=UPLOAD_MB,
                         help="A file downloaded here, or written by hand (docs/lecture.md). A file that does not "
                              "fit is refused, and the lecture in use stays as it is.")


def _add(model_name: str) -> None:
    """The view shown now becomes a scene after the current one (at the end when no lecture is under way), and
    the current scene: the page already shows it."""
    lec = session.lecture()
    if lec is None:
        return
    ss = st.session_state
    i = session.index()
    at = len(lec.scenes) if i is None else i + 1
    title = ss.get(NEW_TITLE) or f"Scene {at + 1}"
    scene = scene_of(title, url.params_for(ExploreState(), model_name), ss.get(NEW_LINE) or "")
    session.replace(lec.model_copy(update={"scenes": (*lec.scenes[:at], scene, *lec.scenes[at:])}))
    ss[LECTURE_SCENE] = at
    ss[NEW_TITLE] = ss[NEW_LINE] = ""
    session.set_status(f"Added scene {at + 1}, “{scene.title}”. Download the lecture to keep it.")


def _move(delta: int) -> None:
    lec, i = session.lecture(), session.index()
    if lec is None or i is None or not 0 <= i + delta < len(lec.scenes):
        return
    scenes = list(lec.scenes)
    scenes[i], scenes[i + delta] = scenes[i + delta], scenes[i]
    session.replace(lec.model_copy(update={"scenes": tuple(scenes)}))
    st.session_state[LECTURE_SCENE] = i + delta  # the same scene, in its new place


def _delete(entries) -> None:
    lec, i = session.lecture(), session.index()
    if lec is None or i is None or len(lec.scenes) < 2:
        return
    gone = lec.scenes[i]
    session.replace(lec.model_copy(update={"scenes": lec.scenes[:i] + lec.scenes[i + 1:]}))
    session.go_to(min(i, len(lec.scenes) - 2), entries)
    session.set_status(f"Deleted “{gone.title}”.")


def _load() -> None:
    f = st.session_state.get(UPLOAD)
    if f is None:
        return
    name = f"“{f.name[:60]}”"
    try:
        new = parse(f.getvalue(), name)
    except LectureError as e:
        session.set_status(f"!{e}")
        return
    session.replace(new)
    session.stop()
    session.set_status(f"Loaded {name}: {len(new.scenes)} scenes. Start the lecture to show them.")
