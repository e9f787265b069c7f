"""Explore's sub-tabs, in the order the tabs show them. A new one is a module here declaring its Section
(section.py) and one line below.

PANELS: presenter mode's first tabs beside the map, what the page shows under the map otherwise (the pick, the
sampling of its posterior, your digit). The layout (explore/__init__.py) draws them; they are declared here so
that the link's "sub" and what reruns after a change (reruns.py) know them as they know the sub-tabs."""

from __future__ import annotations

from ..context import ExploreContext
from ..section import PRESENTER_SHARE, Section
from ..state import ExploreState
from . import denoise, dimensions, directions, grid, morph, prior, recon, steps, traversals

SECTIONS: tuple[Section, ...] = (
    grid.SECTION,
    morph.SECTION,
    prior.SECTION,
    recon.SECTION,
    steps.SECTION,
    denoise.SECTION,
    traversals.SECTION,
    dimensions.SECTION,
    directions.SECTION,
)


def _drawn_by_layout(ctx: ExploreContext) -> None:
    raise NotImplementedError("explore/__init__.py draws the presenter panels")


PANELS: tuple[Section, ...] = (
    Section("pick", "Pick", _drawn_by_layout, needs_test_set=True, follows_picks=True, presenter_only=True,
            presenter_share=PRESENTER_SHARE),
    Section("sample", "Sampling", _drawn_by_layout, follows_picks=True, presenter_only=True,
            presenter_share=PRESENTER_SHARE),
    Section("own", "Your digit", _drawn_by_layout, presenter_only=True, presenter_share=PRESENTER_SHARE),
)
BY_ID = {s.id: s for s in PANELS + SECTIONS}


def section_of(state: ExploreState) -> Section:
    """The open sub-tab's Section (the first for an id that is no longer one)."""
    return BY_ID.get(state.section, SECTIONS[0])


def shown(ctx: ExploreContext) -> list[Section]:
    """The sub-tabs this model can show, in order: when presenting, the panels first."""
    return [s for s in PANELS + SECTIONS if s.available(ctx)]


def open_section(ctx: ExploreContext) -> Section:
    """The sub-tab the page shows: the open one if this model can show it, else the first that it can."""
    can = shown(ctx)
    return next((s for s in can if s.id == ctx.state.section), can[0])
