"""The Train page's session values, in one object over st.session_state.

Every key starts with "train_". The plain values (DEFAULTS) are read and written as attributes, state.job_id;
a widget's key is state.key(name), so the form's settings ("train_<setting>"), the charts and the buttons keep
the names the tests and the browser checks use. Only the open tab runs (app.py), and Streamlit forgets a
widget's value once it is not drawn: the page's widgets have persist_state="page", so the settings, the name
typed to save and the compare picks survive a visit to Explore.
"""

from __future__ import annotations

import uuid

from ..session_values import SessionValues

DEFAULTS: dict = {
    "job_id": None,  # the job this session started last (app.py keeps it alive on the other tab)
    "preset": None,  # the Preset box (a widget)
    "notice": None,  # (st function name, text) under Start: why a start was refused
    "save_msg": None,  # (st function name, text) under the save form
    "save_confirm": None,  # the name a "Replace it?" waits on
    "saved_folder": None,  # the folder saved last: "Explore it now" selects it
    "delete_confirm": None,  # the name of this session's model a "Delete it?" waits on
    "delete_msg": None,  # (st function name, text) under this session's saved models
    "save_name": "",  # the save form's name field (a widget)
    "compare_z": None,  # the ★ both compared models decode, [d] floats
    "compare_z_from": "",  # where that ★ came from, in words
    "compare_click": None,  # (map, test image index) of a click, resolved once the models are loaded
    "upload": None,  # the "Your images" zip: {"name", "classes", "counts", "skipped", "n_skipped"} or {"error"}
    "stop_asked": None,  # the job whose Stop was just clicked: the fragment's next run reruns the whole page
    "live_loss": None,  # (job id, monotonic time built, figure): the live loss chart, rebuilt every LOSS_REDRAW_S
}


class TrainState(SessionValues):
    """st.session_state seen as the Train page's values: state.job_id, state.save_msg, ... (see DEFAULTS)."""

    PREFIX = "train_"
    DEFAULTS = DEFAULTS

    def has(self, name: str) -> bool:
        return self.key(name) in self._ss

    def drop(self, *names: str) -> None:
        for name in names:
            self._ss.pop(self.key(name), None)

    # --- widgets -----------------------------------------------------------------------------

    def key(self, name: str) -> str:
        """The session key of a value or a widget: "train_<name>"."""
        return self.PREFIX + name

    def widget(self, name: str, default=None):
        return self._ss.get(self.key(name), default)

    def set_widget(self, name: str, value) -> None:
        self._ss[self.key(name)] = value

    # --- values with a life of their own -------------------------------------------------------

    def session_id(self) -> str:
        """This browser session's id ("train_session_id", made on first use): the jobs it starts are its own."""
        key = self.key("session_id")
        if key not in self._ss:
            self._ss[key] = uuid.uuid4().hex
        return self._ss[key]

    def view_cache(self) -> dict:
        """(run, epoch) -> (latent figure, samples PNG): built once an epoch, not on every poll."""
        return self._ss.setdefault(self.key("view_cache"), {})
