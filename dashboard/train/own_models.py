"""The models this session saved, each with Delete (and a confirm): only one's own, never another session's, a
recovered one or a shipped one (training/save.py's ownership rule)."""

from __future__ import annotations

import logging

import streamlit as st

from .. import paths, session_keys
from ..training.save import delete_user_model, own_models, user_model_path
from .state import TrainState

log = logging.getLogger(__name__)


def _on_delete(name: str) -> None:
    state = TrainState()
    state.delete_confirm = name
    state.delete_msg = ("warning", f"Delete **{name}** for good? Its folder models/{name} is removed.")


def _on_keep() -> None:
    state = TrainState()
    state.drop("delete_confirm")
    state.delete_msg = ("info", "Nothing was deleted.")


def _on_confirm() -> None:
    state = TrainState()
    name = state.delete_confirm
    state.drop("delete_confirm")
    if not name:
        return
    try:
        folder = str(user_model_path(name).resolve())
        delete_user_model(name, state.session_id())
    except ValueError as e:  # not this session's, or gone: the message names no server path
        state.delete_msg = ("error", str(e))
        return
    except OSError as e:
        log.exception("deleting the model %r failed", name)
        state.delete_msg = ("error", f"The model could not be deleted ({e.strerror or type(e).__name__}).")
        return
    for key in (session_keys.MODEL_CHOICE, state.key("saved_folder")):
        if st.session_state.get(key) == folder:  # the sidebar's picker falls back to a model that exists
            st.session_state.pop(key, None)
    state.delete_msg = ("success", f"Deleted **{name}**.")


def own_models_section() -> None:
    """An expander listing this session's saved models, each with Delete; nothing when it has saved none."""
    state = TrainState()
    if paths.models_root_problem() is not None:
        return
    names = own_models(state.session_id())
    msg = state.delete_msg
    if not names and not msg:
        return
    with st.expander(f"Your saved models ({len(names)})", expanded=bool(msg), icon=":material/folder:"):
        if msg:
            getattr(st, msg[0])(msg[1])
        if state.delete_confirm in names:
            c1, c2 = st.columns(2)
            c1.button(f"Delete {state.delete_confirm}", key=state.key("delete_yes"), type="primary",
                      icon=":material/delete:", on_click=_on_confirm, width="stretch")
            c2.button("Keep it", key=state.key("delete_keep"), on_click=_on_keep, width="stretch")
        for name in names:
            c1, c2 = st.columns([4, 1], vertical_alignment="center")
            c1.markdown(f"`models/{name}`")
            c2.button("Delete", key=state.key(f"delete_model_{name}"), icon=":material/delete:", on_click=_on_delete,
                      args=(name,), width="stretch", help=f"Delete models/{name} (asks first).")
        st.caption("Only the models saved in this session are listed; others' models and the shipped ones "
                   "cannot be deleted here.")

