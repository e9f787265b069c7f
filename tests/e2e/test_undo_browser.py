"""Undo on the Live map in the real app: the page and Python never disagree about where the ★ is.

A click on the plane (a release), arrow keys (the page moves the ★ and releases it after a pause), then Backspace:
whether the undo comes before the keys' release, while it is on its way, or after Python has it, once everything
has settled the ★ the page draws is the ★ in the address (Python's), and the undo took back the keys' move.

The keys are one gesture only while no pause of the page's (NUDGE_PAUSE_MS) falls between two of them: on a loaded
machine one can, and the page then releases the first keys on their own, a move of their own that the undo rightly
leaves. So where the undo goes back to is read from the page as the Backspace reaches it: to the last release
when keys were still unreleased (the page's own undo), else to the release before it (Python's undo).
"""

from __future__ import annotations

import pytest

from .conftest import APP_IDLE, LP, frame, plane_settled, run_done, settled_box, url_z
from .test_explore_browser import open_explore

RELEASES = f"() => {LP}.triggers.filter((t) => t.event === 'release').length"
STAR = f"() => {LP}.star && {LP}.star.map((v) => Math.round(v * 100) / 100)"
RELEASED_Z = f"() => {LP}.triggers.filter((t) => t.event === 'release').map((t) => t.value.z.slice(0, 2))"
# The keys' whole move has gone to Python: the last release is where the page's ★ is now.
KEYS_RELEASED = f"""() => {{ const r = ({RELEASED_Z})(), s = ({STAR})(), z = r[r.length - 1];
  return Boolean(s && z) && Math.abs(s[0] - z[0]) < 0.006 && Math.abs(s[1] - z[1]) < 0.006; }}"""
# What the page holds as the Backspace reaches it (a listener before the plane's): whether keys are waiting for
# their release (read at once: the drawn ★ waits for a frame, which a loaded machine can delay past the Backspace)
# and the releases sent.
WATCH_UNDO = f"""() => window.addEventListener("keydown", (e) => {{
  if (e.key === "Backspace") window.__atUndo = {{ nudging: {LP}.nudging(), released: ({RELEASED_Z})() }};
}}, {{ capture: true }})"""


def undo_target(page) -> list[float]:
    """Where the undo should put the ★: keys not all released yet, the page's own undo goes back to the last
    release (what Python holds); else Python's undo takes that release back, to the one before it."""
    at = page.evaluate("window.__atUndo")
    return at["released"][-1] if at["nudging"] else at["released"][-2]


def agreed(page, timeout: float = 20_000) -> tuple[list[float], list[float]]:
    """Once no run is under way and none starts for a few frames: (the page's ★, the address's ★)."""
    for _ in range(3):
        page.wait_for_function(APP_IDLE, timeout=60_000)
        frame(page)
    try:
        page.wait_for_function(f"() => {{ const s = ({STAR})(), q = new URLSearchParams(location.search).get('z'); "
                               "const z = q ? q.split(',').map(Number) : [0, 0]; "
                               "return s && Math.abs(s[0] - z[0]) < 0.006 && Math.abs(s[1] - z[1]) < 0.006; }",
                               timeout=timeout)
    except Exception:
        pass
    return page.evaluate(STAR), url_z(page) or [0.0, 0.0]


@pytest.mark.parametrize("when", ["before-release", "release-in-flight", "after-python"])
def test_undo_after_arrow_keys_leaves_the_page_and_python_in_agreement(browser, app_url, when):
    ctx, page = open_explore(browser, app_url, "")
    page.locator(".st-key-explore_plane").evaluate("(e) => e.scrollIntoView({block: 'center'})")
    settled_box(page.locator(".st-key-explore_plane"))
    plane_settled(page)
    page.evaluate(WATCH_UNDO)
    for corner in ([3.5, 3.5], [-3.5, 3.5], [3.5, -3.5]):  # empty corners: a click there is a release, not a pick
        at = page.evaluate(f"{LP}.locate({corner[0]}, {corner[1]})")
        address = page.evaluate("location.search")
        page.mouse.click(at["x"], at["y"])  # the pointer stays on the plane
        page.wait_for_function("(before) => location.search !== before", arg=address, timeout=30_000)
        clicked, python = agreed(page)
        assert clicked == python, ("the click", clicked, python)
        releases = page.evaluate(RELEASES)
        address = page.evaluate("location.search")
        for key in ("ArrowLeft", "ArrowLeft", "ArrowDown"):
            page.keyboard.press(key)
        if when != "before-release":  # the keys' pause: their move sent
            page.wait_for_function(f"() => ({RELEASES})() > {releases} && ({KEYS_RELEASED})()", timeout=30_000)
        if when == "after-python":
            page.wait_for_function("(before) => location.search !== before", arg=address, timeout=30_000)
            run_done(page)
        page.keyboard.press("Backspace")
        star, python = agreed(page)
        assert star == python, f"{when}: the page draws the ★ at {star}, Python holds {python}"
        target = undo_target(page)  # the click, unless a pause of the page's split the keys into two moves
        assert star == pytest.approx(target, abs=0.006), f"{when}: the undo went back to {star}, not to {target}"
        split = page.evaluate(f"({RELEASED_Z})().length") - releases > (0 if when == "before-release" else 1)
        assert split or target == pytest.approx(clicked, abs=0.006), f"{when}: the keys, one move, undone to the click"
    assert not page.errors, page.errors
    ctx.close()
