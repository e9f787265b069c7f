"""The lecture's clicker in a real Chromium (see conftest.py): PageDown / PageUp and → / ← step through the shipped
lecture's scenes, the title bar shows each scene's title and the address bar its view and number; → on the focused
latent map still moves the ★, not the scene."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from dashboard.lecture import scenes

from .conftest import SHOTS, VIEWPORT, close, plane_z, run_done, url_z
from .test_explore_browser import open_explore

LECTURE = scenes.shipped()
TITLE = "() => document.querySelector('[data-testid=stApp]') && [...document.querySelectorAll('*')]" \
        ".map((e) => e.shadowRoot && e.shadowRoot.querySelector('.lk-title')).find(Boolean)?.textContent"


def open_at(browser, app_url: str, query: str):
    return open_explore(browser, app_url, query, VIEWPORT)


def address(page) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(page.evaluate("location.href")).query))


def on_scene(page, n: int, view: bool = True) -> None:
    """Until the page shows scene n (from 1): its title in the bar, its number (and with view, its view) in the
    address bar."""
    scene = LECTURE.scenes[n - 1]
    want = f"{n}/{len(LECTURE.scenes)} · {scene.title}"
    page.wait_for_function(f"(want) => ({TITLE})() === want", arg=want, timeout=60_000)
    page.wait_for_function("(n) => new URLSearchParams(location.search).get('sc') === String(n)", arg=n,
                           timeout=60_000)
    run_done(page)
    if view:
        assert address(page) == {**scene.state, "sc": str(n)}, "the address is the scene's view, and its number"
    assert page.evaluate(TITLE) == want


def test_the_clicker_keys_step_through_the_scenes(browser, app_url):
    ctx, page = open_at(browser, app_url, "sc=2")  # the scene's number alone: its view
    on_scene(page, 2)
    page.keyboard.press("PageDown")  # the focus is on the page: a clicker's "next"
    on_scene(page, 3)
    assert url_z(page) == [-1.2, -0.5], "the ★ between the 1s and the 7s"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lecture-scene.png"))
    page.keyboard.press("ArrowRight")
    on_scene(page, 4)
    page.keyboard.press("ArrowLeft")
    on_scene(page, 3)
    page.keyboard.press("PageUp")
    on_scene(page, 2)
    page.keyboard.press("PageUp")
    on_scene(page, 1)
    page.keyboard.press("PageUp")  # the first scene: nothing before it
    run_done(page)
    assert page.evaluate(TITLE).startswith("1/") and address(page).get("sc") == "1"
    close(ctx, page)


def test_arrows_on_the_focused_map_move_the_star_and_page_down_still_steps(browser, app_url):
    ctx, page = open_at(browser, app_url, "sc=3&m=pretrained/mnist-mlp&z=-1.2,-0.5&pr=1")
    on_scene(page, 3)
    before = plane_z(page)
    page.locator("canvas.lp-overlay").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => new URLSearchParams(location.search).get('z') === '-1.1,-0.5'", timeout=30_000)
    run_done(page)
    assert plane_z(page)[0] > before[0] + 0.05, "→ moved the ★"
    assert address(page).get("sc") == "3" and page.evaluate(TITLE).startswith("3/"), "→ on the map is not a step"
    page.keyboard.press("PageDown")  # PageDown steps wherever the focus is
    on_scene(page, 4)
    close(ctx, page)


def test_keys_in_a_text_field_are_the_fields(browser, app_url):
    ctx, page = open_at(browser, app_url, "sc=3&m=pretrained/mnist-mlp&z=-1.2,-0.5")  # not presenting: a sidebar
    on_scene(page, 3, view=False)  # the link's view (not presenting), at the scene's place
    # a label squeezed by its button runs past the button's content box, which clips it ("Up" shown as "U")
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stSidebar] button p')]
      .filter((p) => p.offsetParent !== null).filter((p) => {
        const b = p.closest('button'), s = getComputedStyle(b);
        const r = b.getBoundingClientRect(), t = p.getBoundingClientRect();
        return t.left < r.left + parseFloat(s.paddingLeft) - 1 || t.right > r.right - parseFloat(s.paddingRight) + 1;
      }).map((p) => p.textContent)""")
    assert not cut, f"the Lecture's buttons are cut: {cut}"
    field = page.get_by_role("textbox", name="New scene's title")
    field.fill("abc")
    field.press("ArrowLeft")
    field.press("PageDown")
    run_done(page)
    assert page.evaluate(TITLE).startswith("3/") and address(page).get("sc") == "3"
    close(ctx, page)
