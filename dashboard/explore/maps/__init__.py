"""The kinds of latent map Explore offers, in the order of the control row's choice. A new one is a module here
with show_map(ctx, scene, summary, handle) and one line below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..state import ExploreState
from . import live, plotly


@dataclass(frozen=True)
class MapKind:
    id: str  # the setting's value (state.map) and the link's "map"
    title: str  # its label in the control row
    help: str  # what it does, for the control row's tooltip
    # show(ctx, scene, summary, handle): draws the map and what it needs beside it; summary: the latent analysis
    # for d > 2 (the sliders' order), else None; handle(change, star_shown=False) applies an event's change
    show: Callable
    # whether the page decodes the ★ itself for this model: a release on the map is then already shown
    decodes_in_page: Callable = lambda model: False


MAP_KINDS: tuple[MapKind, ...] = (
    MapKind("live", "Live", "decodes wherever the pointer goes, in your browser.", live.show_map,
            lambda model: model.decodes_in_page()),
    MapKind("plotly", "Plotly", "zoom, pan, hover and click to pick; each change goes through Python.",
            plotly.show_map),
)
BY_ID = {k.id: k for k in MAP_KINDS}


def kind_of(state: ExploreState) -> MapKind:
    return BY_ID.get(state.map, MAP_KINDS[0])
