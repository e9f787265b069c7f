"""The Train page's view of a job: while it runs, a fragment that reruns every POLL_S seconds (progress, Stop,
the loss curves, the latent space forming); once it has finished, its outcome, the replay and the save form.

The owner's poll is the job's heartbeat (training/job.py): a page that stops polling loses its job.
"""

from __future__ import annotations

import time

import plotly.graph_objects as go
import streamlit as st

from ..training import speed
from ..training.job import TrainingJob
from ..training.snapshot import JobSnapshot
from ..training.time_format import format_seconds
from .figures import loss_figure
from .jobs import find_job
from .replay import ReplayData, latent_panel, replay_player
from .save import save_form, save_message
from .state import TrainState

POLL_S = 1.0  # seconds between refreshes of the live view (each is also the heartbeat)
KEEP_ALIVE_S = 30.0  # while a finished, unsaved run is on screen, it is touched this often (training/job.py: Memory)
# The live loss chart is rebuilt at most this often. Streamlit keys a chart by its content, so a new figure is a
# new chart that the browser builds from scratch (the live view's largest work there); the same figure costs none.
LOSS_REDRAW_S = 2.0


def progress_text(s: JobSnapshot) -> str:
    """The progress line; the time left from the completed epochs' pace (training/eta.py), with a word when
    other sessions are slowing the run."""
    if s.state == "starting":
        return "Loading the data…"
    if s.stop_reason is not None:  # shown on the click's own rerun; the job ends within a second
        kept = f"epoch {s.epochs_completed} is kept" if s.epochs_completed else "no epoch has completed yet"
        return f"Stopping… at step {s.step:,} (the run ends within a second; {kept})"
    return (f"Epoch {max(1, s.epoch)}/{s.epochs} · step {s.step:,}/{s.total_steps:,} · "
            f"{format_seconds(s.elapsed)} elapsed · {speed.pace_text(s.eta, s.slowdown)}")


def stop_job(job_id: str) -> None:
    """The Stop button: ask the job to stop, without waiting for it to end. The fragment's rerun that follows
    reruns the whole page, which gives the form back at once (a Start waits for the stopping run:
    training/registry.py); the live view says "Stopping…" until a poll finds the run ended."""
    job = find_job(job_id)
    if job is not None:
        job.stop()
        TrainState().stop_asked = job_id


def live_loss(s: JobSnapshot) -> go.Figure:
    """The live loss chart: the figure built last, unless LOSS_REDRAW_S have passed since (or the run is
    stopping: the finished view draws its whole curve)."""
    state = TrainState()
    kept = state.live_loss
    if kept is not None and kept[0] == s.job_id and (
            s.stop_reason is not None or time.monotonic() - kept[1] < LOSS_REDRAW_S):
        return kept[2]
    fig = loss_figure(s.steps, s.epoch_metrics, total_steps=s.total_steps, step_stride=s.steps_stride)
    state.live_loss = (s.job_id, time.monotonic(), fig)
    return fig


def live_view(job_id: str, owner: bool) -> None:
    """Reruns every POLL_S seconds while a job runs (an st.fragment): the owner's poll is the heartbeat."""
    job = find_job(job_id)
    if job is None:
        st.rerun()
    if owner:
        job.touch()
    s = job.snapshot()
    state = TrainState()
    # The whole app: once done, the finished view (and the save form) replaces this one; on the Stop click's own
    # run, the page gives the form back at once.
    if s.done or (owner and state.stop_asked == job_id):
        state.stop_asked = None
        st.rerun()
    # the Stop column: room for its icon and word at 1366 px with the sidebar open (a sixth of the column was not)
    head = st.columns([3, 1], vertical_alignment="bottom")
    head[0].progress(s.fraction, text=progress_text(s))
    if owner:
        head[1].button("Stop", icon=":material/stop:", key=state.key("stop"), on_click=stop_job, args=(job_id,),
                       width="stretch", disabled=s.stop_reason is not None)
    else:
        head[1].caption("watching, read-only")
    st.plotly_chart(live_loss(s), key=state.key("live_loss_chart"), config={"displaylogo": False})
    latent_panel(ReplayData.of_job(s), -1, state.key("live_latent"), live=True)


def _keep_alive(job_id: str) -> None:
    """A fragment that shows nothing: while this page shows its finished, unsaved run, the run keeps its model."""
    job = find_job(job_id)
    if job is not None and job.session_id == TrainState().session_id():
        job.touch()


def finished_view(job: TrainingJob) -> None:
    state = TrainState()
    if job.session_id == state.session_id():
        job.touch()
    s = job.snapshot()
    show = {"completed": st.success, "stopped": st.warning, "diverged": st.error, "error": st.error}[s.state]
    show(s.message)
    if s.can_save:
        st.fragment(run_every=KEEP_ALIVE_S)(_keep_alive)(s.job_id)
    if not s.latents:
        return
    replay_player(ReplayData.of_job(s), state.key(f"replay_{s.job_id}"), state.key("done"))
    if s.can_save:
        save_form(job)
    elif s.released == "saved" and s.saved_to:
        save_message()
    elif s.released in ("abandoned", "forgotten") and s.epochs_completed > 0 and not s.recovered_to:
        st.info("This run's model was let go after the page was away for a while, to free the server's memory; "
                "train again to save one.")
