"""The Train form's "Your images": a .zip with one folder per class, unpacked into the models folder for the
run (dashboard/training/upload_zip.py, every bound and check there), and what was used and skipped, one line
each. The unpacked folder is the run's data_dir setting; a new upload, or clearing this one, removes it."""

from __future__ import annotations

import logging

import streamlit as st

from vae_core.image_folder import MAX_CLASSES, MAX_IMAGES

from .. import paths
from ..safe_text import plain
from ..training.upload_zip import MAX_ZIP_MB, ZipRefused, remove_stale_uploads, remove_upload, unpack_zip
from .state import TrainState

UPLOAD = "images_zip"  # the uploader's widget (state.key(UPLOAD))
log = logging.getLogger(__name__)


def _on_upload() -> None:
    """Unpack the chosen zip (the previous upload removed first); state.upload says what came of it."""
    state = TrainState()
    root = paths.models_dir()
    remove_upload(state.widget("data_dir"), root)
    state.set_widget("data_dir", None)
    state.upload = None
    file = st.session_state.get(state.key(UPLOAD))
    if file is None:
        return
    name = file.name[:80]
    problem = paths.models_root_problem()
    if problem is not None:
        state.upload = {"error": problem}
        return
    if file.size > MAX_ZIP_MB * 2**20:  # the uploader and server.maxUploadSize stop these first
        state.upload = {"error": f"{name}: larger than {MAX_ZIP_MB} MB"}
        return
    remove_stale_uploads(root)
    try:
        unpacked = unpack_zip(file.getvalue(), root)
    except ZipRefused as e:
        state.upload = {"error": f"{name}: {e}"}
        return
    except OSError as e:  # a full disk, a permission: the server log has the path
        log.exception("unpacking an upload into %s failed", root)
        state.upload = {"error": f"{name}: could not be unpacked on this server ({e.strerror or type(e).__name__})"}
        return
    state.set_widget("data_dir", str(unpacked.folder))
    state.upload = {"name": name, "classes": unpacked.classes, "counts": unpacked.counts,
                    "skipped": unpacked.skipped, "n_skipped": unpacked.n_skipped}


def images_upload(busy: bool) -> None:
    """The uploader and the upload's summary (the form shows it when the dataset is "Your images")."""
    state = TrainState()
    st.file_uploader(
        "Your images: a .zip with one folder per class", type=["zip"], key=state.key(UPLOAD), on_change=_on_upload,
        max_upload_size=MAX_ZIP_MB, disabled=busy,
        help=f"E.g. cats/1.png, cats/2.jpg, dogs/1.png: the folder names are the classes (at most {MAX_CLASSES}, "
             f"{MAX_IMAGES:,} images). Each image is made greyscale and fitted into 28 × 28 pixels, its aspect "
             "kept, padded with its border's grey; 10 % of each class is held out as the test set.")
    info = state.upload
    if not info:
        st.caption("Upload a .zip of your images to train on them.")
        return
    if "error" in info:
        st.error(plain(info["error"]), icon=":material/error:")
        return
    classes = ", ".join(f"{plain(c)} ({n})" for c, n in zip(info["classes"], info["counts"]))
    st.success(f"{plain(info['name'])}: {sum(info['counts']):,} images in {len(info['classes'])} classes: {classes}",
               icon=":material/folder_zip:")
    if info["n_skipped"]:
        with st.expander(f"{info['n_skipped']} file(s) skipped", icon=":material/warning:"):
            more = info["n_skipped"] - len(info["skipped"])
            lines = [plain(line) for line in info["skipped"]] + ([f"and {more} more"] if more > 0 else [])
            st.markdown("\n".join(f"* {line}" for line in lines))
