"""The Streamlit dashboard on top of vae_core.

    app.py      page config, the sidebar model picker and the tabs (`streamlit run dashboard/app.py`)
    models.py   the model registry (pretrained/ and models/) and the cached model, encodings and grids
    views.py    pure functions that build images, GIFs and Plotly figures (no Streamlit calls)
    explore.py  the Explore tab
    explain.py  the short explanation shown with each view
"""
