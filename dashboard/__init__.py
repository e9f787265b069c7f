"""The Streamlit dashboard on top of vae_core.

    app.py             page config, the sidebar model picker and the tabs (`streamlit run dashboard/app.py`)
    model/             the model registry (pretrained/ and models/), ModelHandle and what is cached per model
    presenter.py       whether presenter mode is on      session_keys.py  session keys shared by modules
    views.py           pure functions that build images, GIFs and Plotly figures (no Streamlit calls)
    explore/           the Explore tab (its __init__.py lists its modules)
    latent_plane/      the in-page latent plane and drawing pad (st.components.v2, plain JS)
    plotly_map/        the Plotly map as a component
    train/             the Train tab (its __init__.py lists its modules), Compare among them
    training/          a training's job in the server, its worker process or Ray actor, the presets' times
    player.py          Play / Pause and a frame slider (the training replay)
    session_keys.py    the session keys more than one page uses
    explain.py         the short explanation shown with each view
    replica.py         one app process of scripts/serve_class.sh: `streamlit run` after a warm-up of the landing page
    streamlit_tuning.py  a per-run cost of Streamlit's server, kept once per parsed config
"""
