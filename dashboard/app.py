"""Latent-space explorer: `streamlit run dashboard/app.py` from the repository root.

This file only sets up the page, the sidebar (model picker, explanations toggle) and the tabs;
each tab lives in its own module.

Only the open tab runs (st.tabs tracks which one is open and reruns on a switch), and its module is imported
when it is first opened: a class of students exploring does not build the Train tab's forms and charts on
every rerun, nor watch someone's training job once a second, and the first screen does not wait for them.
They are tabs rather than st.navigation pages: a switch between pages clears the address's query parameters
unless each switch passes them again, while a tab keeps one address, which holds Explore's view through a visit
to Train.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root.
REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import streamlit as st  # noqa: E402

from dashboard import session_keys  # noqa: E402
from dashboard.train.state import TrainState  # noqa: E402  (light: Streamlit only)

# (label, module with render(model): the ModelHandle in use); more tabs are added here.
TABS = [("Explore", "dashboard.explore"), ("Train", "dashboard.train.page")]
TAB_KEY = session_keys.APP_TAB
# A file the app serves itself: a Material icon name makes the browser fetch its picture from Google's font host,
# which a lecture hall without a network never answers.
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")
# Presenter mode: the page's margins go to the map (sized to the width and the height left), and the sub-tabs
# beside it wrap into rows instead of scrolling sideways (the selected one underlined, as a tab is).
PRESENTER_CSS = (
    "[data-testid=stMainBlockContainer] { padding: 3.5rem 1.5rem 0.5rem; }"
    " .st-key-explore_section [role=tablist] { flex-wrap: wrap; overflow: visible; column-gap: 0.7rem;"
    " row-gap: 0; height: auto !important; }"
    " .st-key-explore_section [data-baseweb=tab-highlight], .st-key-explore_section [data-baseweb=tab-border]"
    " { display: none; }"
    " .st-key-explore_section [role=tab] { height: 2.1rem !important; margin: 0 !important;"
    " border-bottom: 3px solid transparent; }"
    # the manifold grid beside the map: as tall as the screen leaves under the tabs, its slider and caption, and
    # square (contain: a box wider than tall would stretch it)
    " .st-key-explore_grid_image img { max-height: calc(100vh - 400px); width: auto !important; max-width: 100%;"
    " object-fit: contain; object-position: left top; }"
    # the prior's samples likewise, under a row of controls and the Sample switch
    " .st-key-explore_prior_image img { max-height: calc(100vh - 400px); width: auto !important; max-width: 100%;"
    " object-fit: contain; object-position: left top; }"
    " .st-key-explore_section [role=tab][aria-selected=true] { border-bottom-color: currentColor; }"
    # a model's name in code type, read from the back of the room as the text around it
    " [data-testid=stMain] [data-testid=stMarkdownContainer] code { font-size: 1em; }"
)
# Every tab of a row in sight: a row too long for its column wraps, rather than hiding its last tabs behind a
# scroll arrow. A picture is never wider than its column (a phone's is 358 px). The Train form's two columns
# become one where a column would be too narrow for its choices' names ("MLP (fully connected)").
LAYOUT_CSS = ("[data-testid=stTabs] [role=tablist] { flex-wrap: wrap; row-gap: 0; }"
              "[data-testid=stTabs] [role=tab] { height: 2.25rem; }"  # two rows beside the map cost 27 px, not 63
              "[data-testid=stImageContainer], [data-testid=stImageContainer] img { max-width: 100%; height: auto; }"
              ".st-key-train_settings [data-testid=stHorizontalBlock] { flex-wrap: wrap; }"
              ".st-key-train_settings [data-testid=stColumn] { min-width: 15rem; }"
              ".st-key-explore_own_strip [data-testid=stHorizontalBlock] { flex-wrap: wrap; }"
              ".st-key-explore_own_strip [data-testid=stColumn] { min-width: 7.5rem; }"
              # the class bar's buttons keep their names (an icon, a word and a popover's arrow) beside an open
              # sidebar: a column too narrow for them goes under the join link
              ".st-key-class_bar [data-testid=stHorizontalBlock] { flex-wrap: wrap; }"
              ".st-key-class_bar [data-testid=stColumn] { min-width: 7.5rem; }"
              ".st-key-class_bar [data-testid=stColumn]:first-child { min-width: 16rem; }"
              ".st-key-sidebar_fold { display: none; }")  # shows nothing: no gap in the sidebar either


def keep_own_training_alive() -> None:
    """This session's training job stops when its page stops checking in (the Train tab's live view does that
    every second). While another tab is open, a fragment that shows nothing checks in instead."""
    job_id = TrainState().job_id
    if not job_id or st.session_state.get(TAB_KEY) == "Train":
        return
    from dashboard.train.live import POLL_S
    from dashboard.training.registry import registry

    job = registry().job_for(TrainState().session_id())
    if job is not None and job.job_id == job_id and job.running:
        st.fragment(run_every=POLL_S)(_heartbeat)(job_id)


def _heartbeat(job_id: str) -> None:
    from dashboard.training.registry import registry

    job = registry().job_for(TrainState().session_id())
    if job is not None and job.job_id == job_id and job.running:
        job.touch()
    else:
        st.rerun()  # the job has ended: a full run drops this fragment


def render_tab(module: str, model) -> None:
    """The error boundary of a tab: whatever a tab raises becomes one line on the page, and the traceback goes
    to the server log (a student sees neither a traceback nor a server path; the sidebar and other tabs work).
    st.rerun and st.stop raise BaseExceptions, not Exceptions: they pass through as they should."""
    try:
        importlib.import_module(module).render(model)
    except Exception as e:
        logging.getLogger("dashboard.app").exception("the tab %s failed", module)
        st.error(f"This tab ran into an error ({type(e).__name__}); the details are in the server log. "
                 "The other tabs and the model list still work.")


def main() -> None:
    """One run of the page: the sidebar and the open tab."""
    st.set_page_config(page_title="Latent-space explorer", page_icon=FAVICON, layout="wide")
    st.sidebar.title("Latent-space explorer")

    # The first session of a fresh server imports PyTorch here (seconds); the title above is already on its page.
    with st.spinner("Starting: loading PyTorch…"):
        from dashboard import explain, phone_css, sidebar_fold, streamlit_tuning
        from dashboard.model import sidebar, tuning
        from dashboard.model.registry import list_models

    streamlit_tuning.keep_theme_sections()
    tuning.use_request_threads()
    tuning.freeze_imported_objects()

    from dashboard import lecture
    from dashboard.explore import ExploreState, url
    from dashboard.presenter import presenting
    from dashboard.session_keys import PRESENTER

    url.read_app(list_models())  # a shared link: its model, tab, presenter mode (once per session)
    lecture.check_link(list_models())
    model, error = sidebar.model_picker()
    if model is not None:
        st.sidebar.markdown(sidebar.model_summary(model))
    explain.sidebar_toggle()
    st.session_state.setdefault(PRESENTER, False)
    st.session_state[PRESENTER] = bool(st.session_state[PRESENTER])  # kept while Train is open
    st.sidebar.toggle("Presenter mode", key=PRESENTER,
                      help="For a projector: larger type, fewer controls and captions, the sub-view beside the map. "
                           "The sidebar folds away (the arrow at the top left brings it back).")
    # The projector needs the width (at 1280 px an open sidebar puts the decoded digit under the map): presenter
    # mode, switched on here or by a link, folds the sidebar away. Streamlit applies the initial state when it
    # changes only, so a sidebar opened again by hand stays open.
    st.set_page_config(initial_sidebar_state="collapsed" if presenting() else "auto")
    sidebar_fold.fold_on_switch(presenting())  # where a sidebar opened by hand would stay open (a phone's)
    if model is not None:
        lecture.controls(model, list_models())
    # Keep enlarged 28 x 28 images crisp even when the browser scales them. KaTeX's multi-line formulas reach a
    # few pixels past their own box: a little padding keeps that inside, so nothing scrolls or clips. Presenter
    # mode gives the page's top margin (108 px, under a 68 px header) to the map, which is sized to the height.
    st.html("<style>img { image-rendering: pixelated; } .katex-display { padding-inline: 8px; }" + LAYOUT_CSS
            + phone_css.PHONE_CSS + (PRESENTER_CSS if presenting() else "") + "</style>")

    for note in url.take_notes():
        st.info(note, icon=":material/link_off:")
    if error:
        st.error(error)
    if model is None:
        st.stop()
    from dashboard import classroom

    classroom.class_bar(model, list_models())  # a class in the room: its bar over the tabs (?class=...)
    if len(TABS) == 1:
        render_tab(TABS[0][1], model)
    else:
        for tab, (_, module) in zip(st.tabs([label for label, _ in TABS], key=TAB_KEY, on_change="rerun"), TABS):
            if tab.open is False:  # None would mean "not tracked": then every tab runs
                continue
            with tab:
                render_tab(module, model)
    lecture.title_bar(list_models())  # last: it must not move what the page shows above it
    tuning.freeze_imported_objects()  # a tab opened for the first time has imported its modules
    keep_own_training_alive()
    # The URL follows the settings on every tab (Explore also writes it from its fragment's reruns).
    url.write(url.params_for(ExploreState(), model.link_name))


# Streamlit runs this file for every run of a page, as the process's __main__ module. A multiprocessing child
# started meanwhile (a training worker, the presets' timing process) first re-runs its parent's __main__ file,
# named "__mp_main__": without this guard each of them rendered the whole page in bare mode before its work
# (the model, the 10,000 test encodings, a screen of warnings in the server's log).
if __name__ != "__mp_main__":
    main()
