"""What every part of the Explore tab reads in one run: the model, its test codes and the sliders' range."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from ..model import caches
from ..model.compute import Encodings, NonFiniteCodes
from ..model.handle import ModelHandle, test_set_missing
from ..presenter import presenting
from .scene import ClassOverlay
from .state import ExploreState

DEFAULT_LIMIT = 4.0  # the sliders' range without a test set to measure it on
THUMB = 140  # px: the smaller images (a pick, your digit, their reconstructions)
OWN_KEY = "explore_own"  # your digit: {"source", "pixels"}, and once encoded {"model": its key, "code"}
# A function (ExploreContext) -> scene.ClassOverlay | None that a layer above sets (the class, dashboard/classroom):
# what the map shows besides the test set. Explore imports nothing of that layer.
OVERLAY_KEY = "explore.overlay"
# A function (ExploreContext) -> None that the class sets on a follower's page: called first in each run of the
# map's fragment, before it draws; it may change the settings (the lecturer's view) or rerun the whole page.
BEFORE_MAP_KEY = "explore.before_map"
# The view's parameters ("z", "v", and maybe "p") that the class sets on a follower's page whose map takes the
# lecturer's ★, zoom (and picks) from the address, which the server changes with no run of the page's script (the
# Live map reads it in the page: frontend/follow.js).
FOLLOWS_ADDRESS_KEY = "explore.follows_address"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExploreContext:
    """model: the model explored; enc: its test set's codes, None when the test set cannot be loaded (the map
    is then empty); lim: the sliders' half-range and the map's home half-width; state: the settings (a view of
    the session's values, so a fragment's rerun with this context reads them afresh)."""

    model: ModelHandle
    enc: Encodings | None
    lim: float
    state: ExploreState = field(default_factory=ExploreState)

    @classmethod
    def of(cls, model: ModelHandle) -> tuple[ExploreContext, str | None]:
        """(the context, why the test set cannot be loaded or None): one plain line for the page; the full
        reason (the folders looked in, a download's error) goes to the server log."""
        try:
            enc = model.encodings()
        except NonFiniteCodes as e:  # the model, not the data: its line says so
            return cls(model, None, DEFAULT_LIMIT), f"The map shows no points: {e}."
        except Exception:  # DatasetError (missing data) or an unknown dataset name
            log.warning("the test set of %s cannot be loaded", model.folder, exc_info=True)
            return cls(model, None, DEFAULT_LIMIT), test_set_missing(model.dataset)
        return cls(model, enc, enc.limit), None

    @property
    def d(self) -> int:
        return self.model.latent_dim

    @property
    def presenting(self) -> bool:
        return presenting()

    @property
    def follows_address(self) -> tuple[str, ...]:
        """The view's parameters the map takes from the page's address: () when it does not follow it."""
        codes = st.session_state.get(FOLLOWS_ADDRESS_KEY)
        return tuple(codes) if isinstance(codes, tuple) else ()

    @property
    def n_test(self) -> int:
        return len(self.enc.labels) if self.enc is not None else 0

    def star(self):
        """The ★ [d] (float32) in the sliders' range."""
        return self.state.star(self.d, self.lim)

    def valid_picks(self) -> list[int]:
        """The picks that are test images of this model's data set."""
        n = self.n_test
        return [p for p in self.state.picks if 0 <= p < n]

    @property
    def on_umap(self) -> bool:
        """Whether the map is UMAP's (d > 2 with a test set): no plane, the server decodes (map_panel)."""
        return self.d > 2 and self.enc is not None and self.state.projection_for(self.d) == "umap"

    def map_plane(self):
        """(the analysis.Plane the map shows, its projection "pca" or (i, j)), or (None, None): d <= 2 or no
        test set (the map is then (z1, z2)). UMAP is no plane: the views that need one (the manifold grid, the
        de-noising map) show the PCA plane then."""
        if self.d <= 2 or self.enc is None:
            return None, None
        projection = self.state.projection_for(self.d)
        projection = "pca" if projection == "umap" else projection
        return self.model.plane(projection), projection

    def own_code(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(mu, sigma, reconstruction) of your digit under this model, encoded once per digit and model."""
        own = st.session_state.get(OWN_KEY)
        if not own:
            return None
        if own.get("model") != self.model.key:
            own["model"], own["code"] = self.model.key, self.model.encode_image(own["pixels"])
        return own["code"]

    def overlay(self) -> ClassOverlay | None:
        """The class's layers for the map, or None (no class, or its store could not be read: logged)."""
        provide = st.session_state.get(OVERLAY_KEY)
        if not callable(provide):
            return None
        try:
            return provide(self)
        except Exception:
            log.warning("the class's map layers could not be made", exc_info=True)
            return None


def source_plane(source, projection):
    """The map's plane of a model version (ExploreState.model_source: folder, stamp, dataset, d) for a projection;
    None where its map is (z1, z2): d <= 2, or its test set cannot be loaded (no codes, no plane)."""
    folder, stamp, dataset, d = source
    if d <= 2:
        return None
    projection = "pca" if projection == "umap" else projection  # the ★ keeps its place on the PCA plane
    try:
        return caches.map_plane(folder, stamp, dataset, projection)
    except Exception:  # the folder is gone, or its test set: the ★ keeps its (z1, z2)
        log.warning("the map plane of %s cannot be computed", folder, exc_info=True)
        return None
