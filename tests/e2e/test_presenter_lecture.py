"""docs/lecture.md walked through in presenter mode, on one projector screen that never scrolls (1280 x 720 and
1920 x 1080, Chromium, the sidebar folded away), with the 2-D mnist-mlp and the 16-D mnist16-mlp: the map is the
largest thing on the screen, and the pick (its image, reconstruction and posterior), picking by number, sampling
z ~ q(z|x) with Resample and Zoom to it, your own digit's pad, the morph, the manifold grid, de-noising and a
16-D model's dimensions are panels beside it, each within the screen. Screenshots: test-output/screenshots/."""

from __future__ import annotations

import pytest

from .conftest import LP, SHOTS, run_done
from .test_lecture_hall import SIDEBAR_FOLDED, open_app

# The smallest canvas of the map at each screen size.
MIN_CANVAS = {1280: 440, 1920: 640}

CANVAS = """() => {
  const host = [...document.querySelectorAll('*')]
    .find((e) => e.shadowRoot && e.shadowRoot.querySelector('canvas.lp-digit'));
  const r = host.shadowRoot.querySelector('.lp-plane-box canvas').getBoundingClientRect();
  return [r.width, r.height];
}"""

# Nothing on the page has scrolled (the window or any box taller than a line: an icon's glyph may scroll in its
# span), and nothing is wider than the window.
UNSCROLLED = """() => ({
  scrolled: [...document.querySelectorAll('*')].filter((e) => e.scrollTop > 0 && e.clientHeight > 60)
    .map((e) => `${e.tagName}.${e.className}`.slice(0, 60) + ` ${e.scrollTop}`)
    .concat(window.scrollY ? ['window'] : []),
  sideways: Math.max(document.documentElement.scrollWidth,
                     document.querySelector('[data-testid=stMain]').scrollWidth) - window.innerWidth,
})"""

# Where an element (by CSS selector, the first that shows) lies on the screen, and the screen's size.
BOX = """(sel) => {
  const e = [...document.querySelectorAll(sel)].find((x) => x.getBoundingClientRect().width > 0);
  if (!e) return null;
  const r = e.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height,
          w: window.innerWidth, h: window.innerHeight};
}"""


LOCATED = """(e) => {
  const r = e.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height,
          w: window.innerWidth, h: window.innerHeight};
}"""


def on_screen(page, selector, what: str, min_width: float = 1) -> dict:
    """The element's box (a CSS selector's first shown element, or a locator), asserted wholly inside the window
    as it is (never scrolled) and at least min_width wide."""
    if isinstance(selector, str):
        page.wait_for_function(f"() => ({BOX})({selector!r}) !== null", timeout=60_000)
        box = page.evaluate(BOX, selector)
    else:
        selector.wait_for(timeout=60_000)
        box = selector.evaluate(LOCATED)
    assert box["width"] >= min_width, (what, box)
    assert box["left"] >= 0 and box["right"] <= box["w"] + 0.5, (what, "sideways", box)
    assert box["top"] >= 0 and box["bottom"] <= box["h"] + 0.5, (what, "below the screen's edge", box)
    return box


def still_one_screen(page, step: str) -> None:
    state = page.evaluate(UNSCROLLED)
    assert state == {"scrolled": [], "sideways": 0}, (step, state)


def open_panel(page, title: str) -> None:
    page.get_by_role("tab", name=title, exact=True).click()
    page.get_by_role("tab", name=title, exact=True).and_(page.locator("[aria-selected=true]")).wait_for()
    run_done(page)


def shot(page, tag: str, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"presenter-lecture-{tag}-{step}.png"))


def pick_by_number(page, index: int) -> None:
    box = page.get_by_role("spinbutton", name="Test image #").first
    box.fill(str(index))
    box.press("Enter")
    page.get_by_role("button", name="Pick", exact=True).click()
    page.wait_for_function("(i) => (new URLSearchParams(location.search).get('p') || '').split(',').pop() === i",
                           arg=str(index), timeout=30_000)
    page.locator("[data-testid=stImageCaption]").filter(has_text=f"test image #{index} (").first.wait_for()
    run_done(page)


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("model", ["mnist-mlp", "mnist16-mlp"])
def test_the_lecture_in_presenter_mode_on_one_screen(browser, app_url, width, height, model):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = f"{model}-{width}x{height}"
    ctx, page = open_app(browser, app_url, f"m=pretrained/{model}&pr=1", width=width, height=height)
    page.wait_for_function(SIDEBAR_FOLDED)
    page.wait_for_function(f"{LP}.remeasured >= 2")
    run_done(page)

    # 1:00-3:00: the map is the largest thing on the screen
    w, h = page.evaluate(CANVAS)
    assert w == h and w >= MIN_CANVAS[width], (tag, w, h)
    on_screen(page, ".st-key-explore_plane", "the map")
    for tab in page.locator(".st-key-explore_section [role=tab]").all():  # every panel reachable, none scrolled
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, box
    still_one_screen(page, "the map")

    # 5:00: a pick by number: the image, its reconstruction, μ and σ beside the map
    open_panel(page, "Pick")
    on_screen(page, ".st-key-explore_pick_index input", "Test image #")
    pick_by_number(page, 7)
    pick_by_number(page, 42)
    image = page.locator("[data-testid=stImage]").filter(has_text="test image #42 (")
    assert image.count() == 1
    on_screen(page, image.locator("img"), "the picked image", 100)
    recon = page.locator("[data-testid=stImage]").filter(has_text="reconstruction at μ").first
    on_screen(page, recon.locator("img"), "its reconstruction", 100)
    if model == "mnist-mlp":  # μ and σ as text; for d > 4 a chart of them per dimension
        on_screen(page, page.get_by_text("μ = (").first, "μ")
        on_screen(page, page.get_by_text("σ = (").first, "σ")
    else:
        on_screen(page, ".st-key-explore_pick_q_42", "the posterior chart", 200)
    shot(page, tag, "pick")
    still_one_screen(page, "pick")

    # 5:00: sampling z ~ q(z|x), Resample and Zoom to it
    open_panel(page, "Sampling")
    page.get_by_text("Sample z ~ q(z|x) on the map").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('po') === 'pick'")
    page.locator("[data-testid=stImageCaption]").filter(has_text="decodes of z = μ + σ ⊙ ε").first.wait_for()
    run_done(page)
    on_screen(page, ".st-key-explore_post_resample_pick button", "Resample")
    on_screen(page, ".st-key-explore_post_zoom_pick button", "Zoom to it")
    strip = page.locator("[data-testid=stImage]").filter(has_text="decodes of z = μ + σ ⊙ ε").locator("img")
    on_screen(page, strip, "the strip of decodes", 100)
    seed = page.evaluate("location.search")
    page.get_by_role("button", name="Resample").click()
    page.wait_for_function("(before) => location.search !== before", arg=seed)
    view = page.evaluate(f"{LP}.view ? JSON.stringify({LP}.view) : location.search")
    page.get_by_role("button", name="Zoom to it").click()
    page.wait_for_function(f"(before) => ({LP}.view ? JSON.stringify({LP}.view) : location.search) !== before",
                           arg=view)
    run_done(page)
    # the ★ sits on pick B, among its draws: the marks' labels keep clear of it and of each other
    page.wait_for_function(f"{LP}.labels && {LP}.labels.length === 2 && {LP}.samples")
    labels, star = page.evaluate(f"[{LP}.labels, {LP}.starBox]")
    for i, a in enumerate(labels):
        for b in labels[i + 1:] + [star]:
            apart = a["x1"] <= b["x0"] or b["x1"] <= a["x0"] or a["y1"] <= b["y0"] or b["y1"] <= a["y0"]
            assert apart, (a, b)
    shot(page, tag, "sampling")
    still_one_screen(page, "sampling")

    # 6:30: your own digit: the pad and the uploader
    open_panel(page, "Your digit")
    on_screen(page, page.locator("canvas.dp-canvas").first, "the drawing pad", 150)  # in a shadow root
    on_screen(page, ".st-key-explore_upload [data-testid=stFileUploader]", "the uploader", 100)  # not the Lecture's
    # a stroke on the pad (a "1"): encoded, it lands on the map beside the panel as ◆ "yours"
    pad = page.locator("canvas.dp-canvas").first.bounding_box()
    x = pad["x"] + pad["width"] / 2
    page.mouse.move(x, pad["y"] + pad["height"] * 0.2)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x, pad["y"] + pad["height"] * (0.2 + 0.06 * k))
    page.mouse.up()
    page.wait_for_function(f"{LP}.labels && {LP}.labels.some((l) => l.text === 'yours')", timeout=60_000)
    run_done(page)
    shot(page, tag, "own")
    still_one_screen(page, "own")

    # 5:00: the morph between the two picks, its player at the screen's height
    open_panel(page, "Morph")
    frame = page.locator("[data-testid=stImage]").filter(has_text="test image #7 → #42").first
    on_screen(page, frame, "the morph's frame and its caption", 150)
    on_screen(page, ".st-key-explore_morph_play", "Play")
    on_screen(page, ".st-key-explore_morph_frame_widget", "the frame slider")
    shot(page, tag, "morph")
    still_one_screen(page, "morph")

    # 3:00: the manifold grid
    open_panel(page, "Grid")
    grid = on_screen(page, ".st-key-explore_section [data-testid=stImage] img", "the manifold grid", 200)
    assert grid["width"] <= w, ("the map stays the largest thing", grid, w)
    still_one_screen(page, "grid")

    # Optional: de-noising; on a 2-D model its pair of maps with the clean -> noisy arrows
    open_panel(page, "De-noising")
    if model == "mnist-mlp":
        for role in ("plain", "denoising"):
            on_screen(page, f".st-key-explore_denoise_map_{role} .main-svg", f"the {role} model's map", 150)
    else:
        on_screen(page, ".st-key-explore_denoise_map .main-svg", "the de-noising map", 200)
    shot(page, tag, "denoise")
    still_one_screen(page, "denoise")

    # Optional: dimensions, their headline numbers whole
    open_panel(page, "Dimensions")
    on_screen(page, ".st-key-explore_dims_headline", "the dimensions' headline")
    cut = page.evaluate("() => [...document.querySelectorAll('.st-key-explore_dims_headline *')]"
                        ".filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)")
    assert cut == [], cut
    on_screen(page, ".st-key-explore_kl_chart .main-svg", "the KL chart", 200)
    shot(page, tag, "dims")
    still_one_screen(page, "dims")

    w2, _ = page.evaluate(CANVAS)
    assert w2 >= MIN_CANVAS[width], ("the map kept its size through the panels", w2)
    assert not page.errors
    ctx.close()
