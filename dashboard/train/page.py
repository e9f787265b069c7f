"""The Train page: train a VAE in the app and watch it learn, then save it and compare it with others.

Left: the settings form (form.py) and Start. Right: while a job runs, the live view; after it, the replay and
the save form (live.py). Below: Compare, two saved models side by side (compare.py). The training itself runs in
a worker process of its own (dashboard/training/). The session's values are one TrainState (state.py).
"""

from __future__ import annotations

import streamlit as st

from vae_core.budget import MAX_PARAMETERS

from ..training.env import heartbeat_timeout_default, keep_unsaved_default
from ..training.registry import registry
from .compare import compare_section
from .form import init_settings, settings_form
from .live import POLL_S, finished_view, live_view, progress_text
from .own_models import own_models_section
from .state import TrainState

HELP = f"""
**How training here works.** The app runs the same training loop as
`python -m vae_core.train` (same settings, same speed), in the background of this server.

* **One job at a time** on this machine (the limit is set by `VAE_MAX_TRAINING_JOBS`); while someone else's job
  runs, you can watch it here, read-only.
* **Keep this page open while it trains.** The page checks in about every second. If it stops checking in for
  {heartbeat_timeout_default():.0f} s (tab closed, network gone), training stops at the next step and the
  model of the last completed epoch is saved to `models/_recovered/<time>/` (nothing is saved if no epoch
  had completed); it is listed in the sidebar's **Model** list as `recovered/<time>`. A later session does not
  resume the job.
* **Nothing is kept unless you save it.** Save the model under a name to find it in the sidebar's
  **Model** list; models live in `models/` (never in `pretrained/`). A run that diverges is not saved.
  Once saved, or after the page has been away for {keep_unsaved_default() / 60:.0f} minutes, the run's model
  is freed from the server's memory (its curves stay for the replay).
* **Size limit.** A model over {MAX_PARAMETERS:,} parameters (e.g. hidden sizes 8192,8192,8192) is refused
  before it starts: the app only trains what it can save and load again.
"""


def render(active=None) -> None:
    """The Train tab. `active` (the model explored in this session) is not used: training never changes it."""
    init_settings()
    state = TrainState()
    sid = state.session_id()
    reg = registry()
    job = reg.job_for(sid)
    others = [] if job is not None and job.running else reg.others_running(sid)

    st.markdown("### Train a VAE")
    with st.expander("How training here works", icon=":material/info:"):
        st.markdown(HELP)
    left, right = st.columns([2, 3], gap="large")
    with left:
        # A stopping run no longer holds the form: Start waits for it to end (training/registry.py)
        settings_form(busy=job is not None and job.running and not job.stopping)
        notice = state.notice
        if notice:
            getattr(st, notice[0])(notice[1])
    with right:
        if job is not None and job.running:
            st.fragment(run_every=POLL_S)(live_view)(job.job_id, True)
        elif job is not None:
            # This session's finished run (and its save form) stays first; another session's run is only named.
            if others:
                st.info(f"A training job started in another session is running ({progress_text(others[0].snapshot())})."
                        " You can start a new one when it has finished.")
            finished_view(job)
        elif others:
            st.info("A training job started in another session is running; you are watching it. You can start "
                    "yours when it has finished.")
            st.fragment(run_every=POLL_S)(live_view)(others[0].job_id, False)
        else:
            st.info("Choose a preset (or your own settings) and press **Start training**. The loss curves and "
                    "the latent space will appear here as the model learns.")
    own_models_section()
    st.divider()
    compare_section()
