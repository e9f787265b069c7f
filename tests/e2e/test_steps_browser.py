"""The Step by step tab's builds in a real Chromium, presenting during a lecture at 1280 × 720: → shows its next
step (the address keeps it), ← the one before, and after its last step → moves on to the lecture's next scene.
Each step passes the layout matrix's checks there (the matrix itself opens the tab at its first step)."""

from __future__ import annotations

from .conftest import close, run_done
from .test_explore_browser import open_explore
from .test_layout_matrix import CHECKS, DRAWN
from .test_lecture_clicker import LECTURE, TITLE, on_scene

STEP_SHOWN = """(n) => [...document.querySelectorAll('[data-testid=stMarkdownContainer] strong')]
    .some((e) => e.textContent.startsWith(n + '/6 · '))"""


def on_step(page, n: int) -> None:
    """Until the tab shows step n of 6 and the address says so (the default, 1, is left out); then the layout
    matrix's checks of a sub-tab beside the map."""
    page.wait_for_function(STEP_SHOWN, arg=n, timeout=60_000)
    page.wait_for_function("(n) => (new URLSearchParams(location.search).get('sn') || '1') === String(n)", arg=n,
                           timeout=60_000)
    run_done(page)
    figure = n in (1, 5, 6)  # the steps with a picture: x, x̂, and both beside the loss
    panel = page.wait_for_function(DRAWN, arg=["Steps", figure], timeout=60_000).json_value()
    fails = page.evaluate(CHECKS, {"presenter": True, "presenting": True, "phone": False, "panel": panel,
                                   "map": "live", "figure": figure})
    assert not fails, f"step {n}: " + "\n".join(fails)


def test_arrows_reveal_the_steps_then_move_to_the_next_scene(browser, app_url):
    ctx, page = open_explore(browser, app_url, "sc=1&m=pretrained/mnist-mlp&sub=steps&p=7&pr=1",
                             {"width": 1280, "height": 720})
    page.wait_for_function(f"() => ({TITLE})()?.startsWith('1/')", timeout=60_000)
    on_step(page, 1)
    for n in (2, 3):
        page.keyboard.press("ArrowRight")
        on_step(page, n)
    page.keyboard.press("ArrowLeft")  # back one build, not a scene
    on_step(page, 2)
    for n in (3, 4, 5, 6):
        page.keyboard.press("PageDown")  # a clicker's "next"
        on_step(page, n)
    assert page.evaluate(TITLE).startswith(f"1/{len(LECTURE.scenes)} · "), "still the first scene"
    assert page.locator(".st-key-lecture_build_next button").first.is_disabled()
    page.keyboard.press("ArrowRight")  # the last build shown: the next scene
    on_scene(page, 2)
    assert not page.errors, page.errors
    close(ctx, page)
