"""What the lecturer's map shows of the class (Explore's ClassOverlay), and the class's drawings as a file.

The map asks for its overlay at every draw (a move of the ★ too): the drawings are read from the store only when
the room's revision or drawing count changed, and kept in the session meanwhile.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.data import CLASS_NAMES
from vae_core.drawings import DrawingSet, drawings_bytes

from ..explore.context import ExploreContext
from ..explore.scene import ClassOverlay
from .session import ClassSession, store

CACHE = "class.drawings_cache"  # (room, revision, count, model) -> its drawings


def class_names(model) -> tuple[str, ...]:
    """The labels a lecturer may ask for: the model's data set's classes."""
    return tuple(CLASS_NAMES.get(model.dataset, CLASS_NAMES["mnist"]))


def drawings(model_name: str) -> list:
    """The lecturer's list of the class's drawings under this model (oldest first), read again only when changed."""
    cls, st_store = ClassSession(), store()
    key = (cls.room, st_store.revision(cls.room), st_store.drawing_count(cls.room), model_name)
    cached = st.session_state.get(CACHE)
    if not (isinstance(cached, tuple) and cached[0] == key):
        cached = (key, st_store.drawings(cls.room, cls.key, model=model_name))
        st.session_state[CACHE] = cached
    return cached[1]


def poll_of(request) -> dict | None:
    return request if isinstance(request, dict) and request.get("kind") == "poll" else None


def overlay(ctx: ExploreContext) -> ClassOverlay | None:
    """The lecturer's map: the drawings (when shown), and a revealed poll's guesses with the true q(z|x)."""
    cls = ClassSession()
    if not cls.lecturer:
        return None
    shown = [dr for dr in drawings(ctx.model.link_name) if len(dr.code) == ctx.d] if cls.layer else []
    codes = np.array([dr.code for dr in shown], np.float32).reshape(-1, ctx.d)
    guesses, truth = None, None
    poll = poll_of(store().request(cls.room))
    if poll is not None and cls.reveal and ctx.enc is not None and 0 <= int(poll["image"]) < ctx.n_test:
        got = store().guesses(cls.room, cls.key, int(poll["poll"]))
        guesses = np.array([(g.x, g.y) for g in got], np.float32).reshape(-1, 2)
        i = int(poll["image"])
        truth = (ctx.enc.mu[i], ctx.enc.sigma[i])
    if not len(codes) and truth is None:
        return None
    return ClassOverlay(codes=codes, labels=tuple(dr.label or "" for dr in shown),
                        recons=b"".join(dr.recon for dr in shown), guesses=guesses, truth=truth)


def download(model) -> bytes:
    """The class's drawings under this model as a .safetensors file (vae_core.drawings reads it)."""
    return drawings_bytes(drawing_set(model, drawings(model.link_name)))


def drawing_set(model, got: list) -> DrawingSet:
    """The store's drawings (class_store.Drawing) of this model as vae_core's DrawingSet."""
    names = class_names(model)
    got = [dr for dr in got if len(dr.code) == model.latent_dim]
    n, d = len(got), model.latent_dim
    as_images = lambda attr: np.frombuffer(b"".join(getattr(dr, attr) for dr in got), np.uint8).reshape(n, 28, 28)  # noqa: E731
    return DrawingSet(
        images=as_images("image"), recons=as_images("recon"),
        codes=np.array([dr.code for dr in got], np.float32).reshape(n, d),
        labels=np.array([names.index(dr.label) if dr.label in names else -1 for dr in got], np.int64),
        class_names=names, model=model.link_name)
