"""Following in the page: a move of the lecturer's ★, zoom or picks reaches a follower's map with no run of its map.

A follower's Live map moves the ★ and decodes it in the page. When all the lecturer changed is the ★ (z), the
zoom (v) or the picks (p), push.py sends the follower's page its new address, the message st.query_params sends:
the browser's address bar changes, and the map (latent_plane/frontend/follow.js) takes the ★, the zoom and the
picks from it (a pick's ring, and its posterior's ellipse from a blob of every test image's ellipse). The session's
settings are brought to the same view on the server's event loop while no run of that session is under way, so
its next run (a release, a click, the link's box) starts from the view its page shows. The parts of the page that
show the move besides the map (the link's box; the picked view; a sub-tab that shows the ★ or the zoom) are rerun
after.

A run of a follower's map says whether its page can follow so, and which of the three its map takes (`InPage`,
through push.note_in_page: the picks only where nothing else on the map is drawn from them); a change of anything
else (the model, a sub-tab, a request) goes through the map's run as before (follow.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from ..explore import url
from ..explore.fragments import LINK, PICKED, TABS
from ..explore.reruns import page_follows_picks, page_follows_star, page_follows_view
from ..explore.sections import section_of
from ..explore.state import ExploreState
from ..presenter import presenting
from .session import ClassSession, view_of

MOVES = ("z", "v")  # the view's parameters a follower's map takes in the page: the ★ and the zoom
WITH_PICKS = (*MOVES, "p")  # ... and the picks, where the map draws nothing else from them


@dataclass(frozen=True)
class Shows:
    """What a follower's page shows of a move of the view besides its map: the picked view (not presenting), and
    the open sub-tab (its fragment) where that shows the ★, the zoom or the picks."""

    section: str = ""
    star: bool = False
    zoom: bool = False
    picks: bool = False
    picked: bool = False

    @classmethod
    def of(cls, state: ExploreState, d: int) -> Shows:
        """The page's now (in one of its runs)."""
        return cls(section_of(state).fragment, page_follows_star(state, d), page_follows_view(state),
                   page_follows_picks(state), not presenting())


def parts_showing(changed: set[str], shows: Shows) -> list[str]:
    """The fragments besides the map that show a change of these view parameters (as Explore's reruns.change
    picks them for the student's own move)."""
    parts = [PICKED] if "p" in changed and shows.picked else []
    if "v" in changed and shows.zoom:
        parts.append(TABS)
    elif ("p" in changed and shows.picks) or ("z" in changed and shows.star):
        parts.append(shows.section)
    return parts


@dataclass(frozen=True)
class InPage:
    """A follower's page whose map follows in the page: its model's latent dimension, the ★'s range and the test
    set's size, the class's view and request it shows, the view's parameters its map takes (MOVES or WITH_PICKS),
    and what else on the page shows a move."""

    d: int
    limit: float
    view: dict
    request: object
    codes: tuple[str, ...] = MOVES
    n_test: int = 0
    shows: Shows = Shows()


def parts(info: InPage, view: dict) -> tuple[str, ...] | None:
    """The fragments to rerun once the map has taken `view` in the page (the link's box first), or None when the
    change needs the map's run (anything but what its map takes changed)."""
    changed = {k for k in info.view.keys() | view.keys() if info.view.get(k) != view.get(k)}
    if not changed <= set(info.codes):
        return None
    if not changed:
        return ()
    return (LINK, *parts_showing(changed, info.shows))


class _Values:
    """A session's st.session_state from outside its runs (Streamlit's SessionState), as SessionValues reads it."""

    def __init__(self, state) -> None:
        self._state = state

    def get(self, key: str, default=None):
        return self._state[key] if key in self._state else default  # noqa: SIM401 (SessionState has no get)

    def __getitem__(self, key: str):
        return self._state[key]

    def __setitem__(self, key: str, value) -> None:
        self._state[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self._state


def take(session_state, info: InPage, revision: int, view: dict) -> tuple[InPage, dict | None] | None:
    """Give a session's settings what its map takes of `view` (info.codes; the room's view at `revision`; `parts` said
    nothing else changed), as the map's run would: (the page's InPage now, its new address or None when that is
    unchanged), or None when a value does not fit this page's model (the map's run then says so). Call only while
    no run of the session is under way."""
    values = _Values(session_state)
    view = view_of(view)
    if not url.apply_codes(ExploreState(values), view, info.codes, url.Fit(info.d, info.limit, info.n_test)):
        return None
    cls = ClassSession(values)
    cls.view, cls.applied = view, revision
    written = written_address(session_state)
    address = address_for(session_state, view, info.codes)
    values[url.WRITTEN] = address
    return replace(info, view=view), (address if address != written else None)


def written_address(session_state) -> dict:
    """The address the session last wrote to its page."""
    return _Values(session_state).get(url.WRITTEN) or {}


def address_for(session_state, view: dict, codes: tuple[str, ...] = MOVES) -> dict:
    """The page's address with the parameters `codes` of `view`: its last one written, those replaced (read only:
    push sends it to a page whose run is under way, and the map's run that follows takes the view)."""
    kept = {k: v for k, v in written_address(session_state).items() if k not in codes}
    return url.in_order({**kept, **{k: view[k] for k in codes if k in view}})


def address_message(address: dict) -> tuple[ForwardMsg, str]:
    """The message that sets a page's address (what st.query_params sends), and its query string."""
    msg = ForwardMsg()
    msg.page_info_changed.query_string = urlencode(address, doseq=True)
    return msg, msg.page_info_changed.query_string
