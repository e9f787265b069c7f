"""Saving a finished run from the Train page: the name form, Replace / Keep on a clash, and "Explore it now".

The model goes to models/<name>/ (training/save.py's rules) with the run's replay beside it, for Compare.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from .. import session_keys
from ..safe_text import plain
from ..training.job import TrainingJob
from ..training.save import (
    NAME_RULE,
    ModelExistsError,
    may_replace,
    model_exists,
    user_model_path,
    validate_name,
)
from .jobs import find_job
from .state import TrainState

log = logging.getLogger(__name__)


def _saved(folder) -> None:
    state = TrainState()
    state.drop("save_confirm")
    state.saved_folder = str(Path(folder).resolve())
    state.save_msg = ("success", f"Saved as **{Path(folder).name}**. It is now in the sidebar's **Model** "
                                       f"list as models/{Path(folder).name}.")


def _save(job_id: str, name: str, overwrite: bool) -> None:
    """The one save: the form's button and Enter in its name field both come here, once per submit."""
    state = TrainState()
    state.drop("save_confirm")
    job = find_job(job_id)
    if job is None or job.session_id != state.session_id():
        state.save_msg = ("error", "This training run is no longer available.")
        return
    try:
        name = validate_name(name)
        done = job.snapshot().saved_to
        if done and Path(done).resolve() == user_model_path(name, job.models_root).resolve():
            _saved(done)  # a second submit of the same save (Enter, then a click) is that save, not a clash
            return
        if not overwrite and model_exists(name, job.models_root):
            raise ModelExistsError(name)
        folder = job.save(name, overwrite=overwrite)
    except ModelExistsError:  # found before writing, or saved meanwhile by another session (any replica)
        if may_replace(name, state.session_id(), job.models_root):
            state.save_confirm = name
            state.save_msg = ("warning", f"A model named **{name}** already exists. Replace it?")
        else:
            state.save_msg = ("warning", f"A model named **{name}** already exists, saved by another session "
                                         "(or shipped with the app), so it cannot be replaced from here; "
                                         "choose another name.")
        return
    except (ValueError, FileExistsError) as e:  # the messages name no server path (training/save.py)
        state.save_msg = ("error", plain(e))  # they quote the typed name
        return
    except OSError as e:  # a full disk, a permission: the path stays in the server log
        log.exception("saving the model %r failed", name)
        state.save_msg = ("error", f"The model could not be saved ({type(e).__name__}: "
                                         f"{e.strerror or 'a file system error'}); nothing was changed.")
        return
    _saved(folder)


def _on_save(job_id: str) -> None:
    _save(job_id, str(TrainState().save_name), overwrite=False)


def _on_replace(job_id: str) -> None:
    name = TrainState().save_confirm
    if name:
        _save(job_id, name, overwrite=True)


def _on_keep() -> None:
    state = TrainState()
    state.drop("save_confirm")
    state.save_msg = ("info", "Nothing was replaced; choose another name.")


def _on_open_saved() -> None:
    """Explore the saved model: select it in the sidebar's picker and open the Explore tab (app.py's keys)."""
    folder = TrainState().saved_folder
    if folder:
        st.session_state[session_keys.MODEL_CHOICE] = folder
        st.session_state[session_keys.APP_TAB] = "Explore"


def save_form(job: TrainingJob) -> None:
    st.markdown("#### Save this model")
    # An st.form: Enter in the name field submits it, exactly as the button does, and only once.
    state = TrainState()
    with st.form(state.key("save_form"), border=True, enter_to_submit=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.text_input("Name", key=state.key("save_name"), persist_state="page", max_chars=64, placeholder="e.g. my-vae",
                      help=f"{NAME_RULE}. Saved to models/<name>/.")
        c2.form_submit_button("Save", icon=":material/save:", on_click=_on_save, args=(job.job_id,),
                              width="stretch")
    save_message(job.job_id)


def save_message(job_id: str | None = None) -> None:
    """The last save's outcome; on a clash, Replace and Keep; after a save, "Explore it now"."""
    state = TrainState()
    msg = state.save_msg
    if not msg:
        return
    getattr(st, msg[0])(msg[1])
    if msg[0] == "warning" and state.save_confirm and job_id:
        c1, c2 = st.columns(2)
        c1.button(f"Replace {state.save_confirm}", key=state.key("save_replace"), type="primary",
                  icon=":material/published_with_changes:", on_click=_on_replace, args=(job_id,), width="stretch")
        c2.button("Keep it", key=state.key("save_keep"), on_click=_on_keep, width="stretch")
    if msg[0] == "success" and state.saved_folder:
        st.button("Explore it now", key=state.key("explore_saved"), icon=":material/scatter_plot:",
                  on_click=_on_open_saved, help="Selects it in the sidebar's Model list and opens Explore.")
