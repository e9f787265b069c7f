"""Scenes for a clicker: a lecture is a list of scenes, each a title, a view (its link's parameters) and a line
for the lecturer. PageDown / PageUp (what a presenter's clicker sends) and → / ← step through them; the
scene's title shows large at the top of the page.

    scenes.py     the lecture as data: the pydantic schema, reading a file (one line when it does not fit),
                  writing one; lecture.json, the shipped lecture (docs/lecture.md step by step)
    session.py    the lecture in this session: its scenes, the scene shown ("sc" in the address), showing one
    keys.py       the keys and the title bar: a small components-v2 component (frontend/keys.js)
    controls.py   the sidebar's Lecture expander: start, stop, add the view shown, reorder, delete, download, load

app.py calls check_link() after reading the link, controls() in the sidebar, title_bar() after the tabs.
"""

from __future__ import annotations

from .controls import controls
from .keys import lecture_keys, step_value
from .session import check_link, current, go_to, index, lecture

__all__ = ["check_link", "controls", "title_bar"]


def title_bar(entries) -> None:
    """While a lecture is under way: its keys and the scene's title over the page's header band. Mounted last,
    so that it moves nothing on the page."""
    lec, i, scene = lecture(), index(), current()
    if lec is None or i is None or scene is None:
        return
    def on_step() -> None:
        now = lecture()
        to = step_value(len(now.scenes)) if now is not None else None
        if to is not None:
            go_to(to, entries)

    lecture_keys(i, [s.title for s in lec.scenes], scene.line, on_step)
