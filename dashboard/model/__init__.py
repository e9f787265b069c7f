"""The model being explored, and everything computed once per model.

    registry.py   which checkpoints there are (pretrained/, models/, models/_recovered/): list_models(); no Streamlit
    compute.py    encoding, decoding and grids of a loaded VAE (no Streamlit)
    one_image.py  one image's way through the VAE, step by step, with vae_core's own calls (no Streamlit)
    tuning.py     process tuning: the garbage collector's frozen generation, each request's torch threads
    caches.py     the expensive parts, computed once per model version and shared by every session
    blobs.py      the page's copies: the decoder's weights, the encoded points, the background grid
    handle.py     ModelHandle: one object for the model in use (its entry, the VAE, its dataset, its caches)
    sidebar.py    the sidebar's model picker and summary

Every cache is keyed by the checkpoint's folder and the modification times of its two files, so a retrained
model is picked up and nothing is written to disk.
"""
