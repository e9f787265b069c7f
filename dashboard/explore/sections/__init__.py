"""Explore's sub-tabs, in the order the tabs show them. A new one is a module here declaring its Section
(section.py) and one line below."""

from __future__ import annotations

from ..context import ExploreContext
from ..section import Section
from ..state import ExploreState
from . import denoise, dimensions, grid, morph, prior, recon, traversals

SECTIONS: tuple[Section, ...] = (
    grid.SECTION,
    morph.SECTION,
    prior.SECTION,
    recon.SECTION,
    denoise.SECTION,
    traversals.SECTION,
    dimensions.SECTION,
)
BY_ID = {s.id: s for s in SECTIONS}


def section_of(state: ExploreState) -> Section:
    """The open sub-tab's Section (the first for an id that is no longer one)."""
    return BY_ID.get(state.section, SECTIONS[0])


def shown(ctx: ExploreContext) -> list[Section]:
    """The sub-tabs this model can show, in order."""
    return [s for s in SECTIONS if s.available(ctx)]


def open_section(ctx: ExploreContext) -> Section:
    """The sub-tab the page shows: the open one if this model can show it, else the first that it can."""
    can = shown(ctx)
    return next((s for s in can if s.id == ctx.state.section), can[0])
