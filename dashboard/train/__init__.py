"""The Train page (app.py opens train.page): train a VAE, watch it learn, save it, compare two saved models.

    page.py      render(): the page's layout and the "How training here works" text
    form.py      the settings form, the presets and Start
    live.py      the running job's live view; the finished job's outcome, replay and save form
    replay.py    the latent panel and the replay player over a run's snapshots
    figures.py   the loss, latent and samples figures (pure: no Streamlit)
    save.py      saving a finished run's model (the name form, Replace / Keep, "Explore it now")
    own_models.py  the models this session saved, each with Delete
    compare.py   two saved models on the same scales and the same inputs
    jobs.py      the jobs this session may see
    state.py     TrainState: the page's session values, one object over st.session_state

The training itself is dashboard/training/ (no Streamlit).
"""
