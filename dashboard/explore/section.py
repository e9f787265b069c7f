"""What an Explore sub-tab declares: one Section per module of sections/, listed once in sections/__init__.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .context import ExploreContext
from .fragments import TABS
from .state import ExploreState

# Presenting: the open sub-tab's column beside the map, a share of the width. At 1280 px (1,230 px of page
# without the sidebar) the map's column then holds a 460-px canvas beside its 300-px panel (the digit,
# sliders, legend); at 1920 the canvas is as tall as the screen lets it be.
PRESENTER_SHARE = 0.36


def _never(state: ExploreState, d: int) -> bool:
    return False


@dataclass(frozen=True)
class Section:
    """One sub-tab. render(ctx) draws it; in presenter mode (ctx.presenting) it sits beside the map, in
    `presenter_share` of the width and the screen's height, and keeps to its essentials (render decides which).

    What it follows decides what reruns after a change elsewhere (reruns.change): follows_star(state, d) when
    what it shows moves with the ★ for the model's d, follows_picks and follows_view when it shows the picks or
    the map's zoom; `fragment` is what reruns then (its own fragment under its settings, or the whole sub-tab)."""

    id: str  # the setting's value (state.section) and the link's "sub"
    title: str  # the tab's label
    render: Callable[[ExploreContext], None]
    needs_test_set: bool = False  # left out when the model's test set cannot be loaded
    min_latent_dim: int = 1  # left out for a model with fewer latent dimensions
    follows_star: Callable[[ExploreState, int], bool] = _never
    follows_picks: bool = False
    follows_view: bool = False
    fragment: str = TABS
    presenter_only: bool = False  # a panel of presenter mode (sections.PANELS): the page shows it elsewhere
    presenter_title: str = ""  # presenting, a shorter label, if its own would wrap the tabs into one more row
    presenter_share: float = field(kw_only=True)  # presenting: its column's share of the width, the map's the rest

    def available(self, ctx: ExploreContext) -> bool:
        return ((ctx.enc is not None or not self.needs_test_set) and ctx.d >= self.min_latent_dim
                and (ctx.presenting or not self.presenter_only))
