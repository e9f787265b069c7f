"""The app on a phone (390 x 844, touch, 3 device pixels a CSS pixel) in a real Chromium: a finger drags the ★
and decodes in the page, two fingers pinch the map's view, a finger draws a digit that lands on the map as ◆,
none of these scrolls the page, presenter mode switched from the sidebar folds it away, nothing scrolls
sideways, and every control of the main area is at least 44 px tall.

Fingers are CDP touch events (Input.dispatchTouchEvent): Playwright's touchscreen only taps. One server for the
module (conftest's app_url), one page per scenario.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dashboard import drawing
from dashboard.explore.scene import OWN_COLOR
from dashboard.phone_css import PHONE_CSS, PHONE_MAX_PX, TARGET_PX
from vae_core import load_checkpoint

from .conftest import APP_IDLE, LP, ROOT, SHOTS, close, digit, frame, plane_settled, torch_digit
from .test_latent_plane_browser import count_sent_frames, triggers
from .test_layout_matrix import PAD_INK, SIDEBAR_FOLDED, SIDEBAR_SHOWN

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
# Where the page could scroll: the window, and Streamlit's main area (the one that scrolls in this app).
SCROLL = "() => [window.scrollX, window.scrollY, document.querySelector('[data-testid=stMain]').scrollTop]"
# How wide the page is against the phone's 390 px: the document, the main area, and the viewport (a mobile
# browser widens or zooms out its viewport to show a page wider than the screen).
WIDTHS = """() => { const m = document.querySelector('[data-testid=stMain]');
  return {doc: document.documentElement.scrollWidth, main: m.scrollWidth, inner: innerWidth,
          visual: visualViewport.width, scale: visualViewport.scale}; }"""
# The main area's controls a finger aims at, [name, height] of each shown: its buttons (Streamlit's and the
# components', in their shadow roots), tabs, toggles and checkboxes (the whole line is the target), radio
# options, slider thumbs (Streamlit's: the box holding its hidden range input; the plane's own range inputs)
# and expanders; and Plotly's toolbar buttons over a chart (shown on a tap, measured shown or not).
CONTROLS = """() => {
  const out = [];
  const shown = (e) => { const r = e.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && e.checkVisibility({opacityProperty: true, visibilityProperty: true}); };
  const name = (e) => `${e.tagName.toLowerCase()}.${e.className.split(' ')[0]} in `
    + `${e.closest('[data-testid]')?.dataset.testid || 'a component'} "`
    + `${(e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 30)}"`;
  const take = (root, sel) => { for (const e of root.querySelectorAll(sel)) {
    if (shown(e) && !e.closest('.js-plotly-plot')) out.push([name(e), e.getBoundingClientRect().height]); } };
  const main = document.querySelector('[data-testid=stMain]');
  for (const e of main.querySelectorAll('.js-plotly-plot .modebar-btn')) {
    const r = e.getBoundingClientRect();
    const side = Math.min(r.height, r.width);
    if (r.width > 1 && r.height > 1) out.push([`plotly toolbar "${e.dataset.title || ''}"`, side]);
  }
  take(main, 'button, [role=tab], [data-testid=stCheckbox] label, [data-testid=stRadioOption], '
    + '[data-testid=stSlider] div:has(> div > input[type=range]), [data-testid=stExpander] summary');
  for (const host of main.querySelectorAll('*')) {
    if (host.shadowRoot) take(host.shadowRoot, 'button, input[type=range], summary');
  }
  return out;
}"""
# Pixels of the plane's overlay canvas within r CSS px of (x, y) (client px) that are `rgb`'s colour.
COLOURED = """([x, y, r, rgb]) => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('canvas.lp-overlay'));
  const c = host.shadowRoot.querySelector('canvas.lp-overlay'), b = c.getBoundingClientRect(), k = c.width / b.width;
  const d = c.getContext('2d').getImageData(Math.round((x - b.left - r) * k), Math.round((y - b.top - r) * k),
                                            Math.round(2 * r * k), Math.round(2 * r * k)).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    n += Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 30 && d[i + 3] > 200;
  }
  return n;
}"""
# The pad's ink (red channel > 0) per column band of its 280 px: [left third, middle third, right third].
PAD_BANDS = """() => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('canvas.dp-canvas'));
  const c = host.shadowRoot.querySelector('canvas.dp-canvas');
  const d = c.getContext('2d').getImageData(0, 0, 280, 280).data;
  const bands = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) if (d[i] > 0) bands[Math.min(2, Math.floor(((i / 4) % 280) / 94))]++;
  return bands; }"""


@pytest.fixture(scope="module")
def mlp():
    model, _ = load_checkpoint(ROOT / "pretrained" / "mnist-mlp")
    return model


def open_phone(browser, app_url: str, query: str = ""):
    """A phone's page at the app with `query`, once the map is ready and has measured its place; its CDP session
    for the fingers. page.sent: a list that grows by one for every message the page sends to the server."""
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.sent = count_sent_frames(page)  # before the page opens its WebSocket
    page.goto(f"{app_url}/?{query}")
    page.wait_for_function(f"{LP} && {LP}.ready", timeout=120_000)
    plane_settled(page, timeout=120_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return ctx, page, ctx.new_cdp_session(page)


def touch(cdp, kind: str, *points) -> None:
    """One touch event: every finger down at `points` (client px; none for touchEnd), finger i keeping id i."""
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": p["x"], "y": p["y"], "id": i} for i, p in enumerate(points)]})


def address(page, name: str) -> str | None:
    """A parameter of the page's address as the address bar shows it (location.href)."""
    return page.evaluate("(name) => new URL(location.href).searchParams.get(name)", name)


def address_z(page) -> list[float]:
    return [float(v) for v in address(page, "z").split(",")]


def locate(page, x: float, y: float) -> dict:
    return page.evaluate(f"{LP}.locate({x}, {y})")


def centre_on_screen(page, selector: str) -> None:
    """Scroll the element to the middle of the screen and wait until it stays put."""
    page.locator(selector).first.evaluate("(e) => e.scrollIntoView({block: 'center'})")
    page.wait_for_function(APP_IDLE)
    frame(page)


def no_sideways(page, where: str) -> None:
    w = page.evaluate(WIDTHS)
    assert max(w["doc"], w["main"], w["inner"]) <= 390 and w["visual"] == 390 and w["scale"] == 1, f"{where}: {w}"


def test_a_finger_drags_the_star_and_two_pinch_the_view_without_scrolling_the_page(browser, app_url, mlp):
    ctx, page, cdp = open_phone(browser, app_url)
    sent = page.sent
    centre_on_screen(page, "canvas.lp-overlay")
    scroll = page.evaluate(SCROLL)
    assert scroll[2] > 0, "the map is below the first screen: the main area scrolls to it"

    # one finger from (-2, 2) to (1.5, -1): down and to the right, a swipe that would scroll the page up
    a, b = locate(page, -2, 2), locate(page, 1.5, -1)
    sent_before, images = len(sent), []
    touch(cdp, "touchStart", a)
    for t in np.linspace(0, 1, 13)[1:]:
        touch(cdp, "touchMove", {"x": a["x"] + t * (b["x"] - a["x"]), "y": a["y"] + t * (b["y"] - a["y"])})
        frame(page)
        images.append(digit(page))
    assert page.evaluate(f"{LP}.mode") == "drag"
    assert page.evaluate(SCROLL) == scroll, "the page scrolled under the finger"
    assert len(sent) == sent_before, "the page talked to the server during the drag"
    assert len({im.tobytes() for im in images}) >= 8, "the decoded digit should follow the finger"
    touch(cdp, "touchEnd")
    page.wait_for_function("() => /[?&]z=/.test(location.href)", timeout=30_000)
    page.wait_for_function(APP_IDLE, timeout=60_000)
    assert address_z(page) == pytest.approx([1.5, -1], abs=0.006), "Python has the drag's end (the address bar)"
    assert page.evaluate(f"Array.from({LP}.zFull)") == pytest.approx([1.5, -1], abs=1e-6)
    frame(page)
    assert np.abs(digit(page).astype(int) - torch_digit(mlp, [1.5, -1]).astype(int)).max() <= 1
    assert page.evaluate(SCROLL) == scroll

    # two fingers about (0.5, 0.5) spread to twice their distance: half the span, (0.5, 0.5) stays under them
    half = page.evaluate(f"{LP}.view")["half"]
    c, d = locate(page, 0, 0.5), locate(page, 1, 0.5)
    mid = {"x": (c["x"] + d["x"]) / 2, "y": c["y"]}
    touch(cdp, "touchStart", c, d)
    for t in np.linspace(0, 1, 6)[1:]:
        spread = t * (d["x"] - c["x"]) / 2
        touch(cdp, "touchMove", {"x": c["x"] - spread, "y": c["y"]}, {"x": d["x"] + spread, "y": d["y"]})
    assert page.evaluate(f"{LP}.mode") == "pinch"
    touch(cdp, "touchEnd")
    view = page.evaluate(f"{LP}.view")
    assert view["half"] == pytest.approx(half / 2, rel=0.01)
    assert locate(page, 0.5, 0.5) == pytest.approx(mid, abs=1), "the pinch's centre moved on the plane"
    # as after a wheel zoom: the settled view goes to Python, which writes it into the link (3 decimals)
    page.wait_for_function(f"""() => {{ const v = new URLSearchParams(location.search).get('v');
        return v && Math.abs(Number(v.split(',')[2]) - {LP}.view.half) < 6e-4; }}""", timeout=30_000)
    assert [float(v) for v in address(page, "v").split(",")] == pytest.approx(
        [view["cx"], view["cy"], view["half"]], abs=6e-4)
    assert len(triggers(page, "release")) == 1, "the pinch moved the ★"
    assert address_z(page) == pytest.approx([1.5, -1], abs=0.006)
    assert page.evaluate(SCROLL) == scroll
    page.screenshot(path=str(SHOTS / "phone-pinched.png"))

    # the same swipe beside the map, on the page's own text, scrolls it: the map is what holds the finger
    text = page.locator(".lp-side-title").bounding_box()
    start = {"x": text["x"] + 20, "y": text["y"] + 5}
    touch(cdp, "touchStart", start)
    for dy in range(20, 201, 20):
        touch(cdp, "touchMove", {"x": start["x"], "y": start["y"] - dy})
    touch(cdp, "touchEnd")
    page.wait_for_function(f"(top) => ({SCROLL})()[2] > top + 50", arg=scroll[2], timeout=10_000)
    close(ctx, page)


def test_a_finger_draws_a_digit_that_lands_on_the_map(browser, app_url, mlp):
    ctx, page, cdp = open_phone(browser, app_url)
    centre_on_screen(page, "canvas.dp-canvas")
    scroll = page.evaluate(SCROLL)
    box = page.locator("canvas.dp-canvas").bounding_box()
    assert box["width"] == pytest.approx(280, abs=1) and box["x"] + box["width"] <= 390
    k = box["width"] / 280
    stroke = [{"x": box["x"] + k * 140, "y": box["y"] + k * y} for y in (40, 80, 120, 160, 200, 240)]
    touch(cdp, "touchStart", stroke[0])
    for p in stroke[1:]:  # a "1", drawn downwards: a swipe that would scroll the page up
        touch(cdp, "touchMove", p)
    assert page.evaluate(SCROLL) == scroll, "the page scrolled under the pen"
    touch(cdp, "touchEnd")
    left, middle, right = page.evaluate(PAD_BANDS)
    assert middle > 3000 and left == right == 0, "ink where the finger went, none elsewhere"
    page.get_by_text("your drawing, as the model sees it").wait_for(timeout=60_000)
    page.wait_for_function("() => /[?&]dg=/.test(location.href)", timeout=30_000)
    page.wait_for_function(APP_IDLE, timeout=60_000)
    assert page.evaluate(SCROLL) == scroll
    assert page.evaluate(PAD_INK) > 0, "the pad keeps its drawing after Python's rerun"

    # the digit in the link, encoded by PyTorch: the ◆ is there on the map
    pixels = drawing.digit_from_text(address(page, "dg"))
    assert pixels is not None and pixels.max() == 1.0
    with torch.no_grad():
        mu = mlp.encode(torch.from_numpy(pixels)[None, None])[0][0].tolist()
    page.wait_for_function(f"() => ({LP}.labels || []).some((l) => l.text === 'yours')", timeout=30_000)
    centre_on_screen(page, "canvas.lp-overlay")
    at = locate(page, *mu)
    rgb = [int(OWN_COLOR[i:i + 2], 16) for i in (1, 3, 5)]
    assert page.evaluate(COLOURED, [at["x"], at["y"], 12, rgb]) > 50, f"no ◆ at μ = {mu}"
    far = locate(page, -mu[0], -mu[1])
    assert page.evaluate(COLOURED, [far["x"], far["y"], 12, rgb]) == 0
    page.screenshot(path=str(SHOTS / "phone-drawn.png"))
    close(ctx, page)


def test_presenter_mode_from_the_phone_s_sidebar_folds_it_and_nothing_scrolls_sideways(browser, app_url):
    ctx, page, _ = open_phone(browser, app_url, "p=7,42")
    assert page.evaluate(SIDEBAR_FOLDED), "a phone opens with its sidebar folded"
    assert page.locator(".katex-display").count() > 0, "the explanations (their formulas) are on"
    no_sideways(page, "the page")
    sidebar = page.locator('[data-testid="stSidebar"]')
    for on in (True, False):
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.wait_for_function(SIDEBAR_SHOWN)
        assert page.evaluate("() => document.elementFromPoint(200, 400).closest('[data-testid=stSidebar]') !== null"), \
            "the open sidebar lies over the page"
        sidebar.get_by_text("Presenter mode").click()
        page.wait_for_function(f"(on) => (new URLSearchParams(location.search).get('pr') === '1') === on "
                               f"&& ({APP_IDLE})()", arg=on, timeout=90_000)
        page.wait_for_function(SIDEBAR_FOLDED, timeout=30_000)
        # the page is the finger's again
        assert page.evaluate("() => document.elementFromPoint(200, 400).closest('[data-testid=stMain]') !== null")
        page.wait_for_function(f"() => {LP}.ready", timeout=60_000)
        no_sideways(page, f"presenter mode {'on' if on else 'off'}")
        if on:
            page.screenshot(path=str(SHOTS / "phone-presenter.png"))
    # a sub-tab's explanation and formula after the switches
    page.get_by_role("tab", name="Morph", exact=True).click()
    page.wait_for_function(f"() => [...document.querySelectorAll('.katex-display')].some((k) => "
                           f"k.textContent.includes('sin')) && ({APP_IDLE})()", timeout=90_000)
    no_sideways(page, "Morph")
    close(ctx, page)


# Each drawn Plotly chart of the main area: its width and its plot area's (CSS px), once Plotly laid it out.
PLOT_WIDTHS = """() => [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]
  .filter((g) => g.offsetParent !== null && g._fullLayout && g._fullLayout._size)
  .map((g) => [g.clientWidth, g._fullLayout._size.w])"""


def test_the_de_noising_maps_keep_the_phone_s_width_for_the_map(browser, app_url):
    """The de-noising pair's two maps, stacked on a phone: their class legend lies in rows under each map, so the
    plot keeps most of the width (beside it, the legend left the map a fifth of the phone's width)."""
    ctx, page, _ = open_phone(browser, app_url, "sub=denoise")
    page.wait_for_function(f"() => ({PLOT_WIDTHS})().length >= 2 && ({APP_IDLE})()", timeout=90_000)
    widths = page.evaluate(PLOT_WIDTHS)
    assert all(plot >= 0.8 * chart for chart, plot in widths), f"chart and plot widths (px): {widths}"
    no_sideways(page, "De-noising")
    page.locator("[data-testid=stMain] .js-plotly-plot").first.screenshot(path=str(SHOTS / "phone-denoise-map.png"))
    close(ctx, page)


def test_controls_are_thumb_sized_on_a_phone_and_compact_on_a_laptop(browser, app_url):
    ctx, page, _ = open_phone(browser, app_url, "p=7,42")
    seen = {}
    # the map, the pick and the grid; then a select box, radio options, sliders; then a Plotly chart's toolbar
    for tab, shows in ((None, None), ("Morph", "[data-testid=stRadioOption]"),
                       ("Dimensions", ".js-plotly-plot .modebar-btn")):
        if tab:
            page.get_by_role("tab", name=tab, exact=True).click()
            page.wait_for_function(f"() => document.querySelector('{shows}') && ({APP_IDLE})()", timeout=90_000)
            frame(page)
        controls = page.evaluate(CONTROLS)
        small = [(n, round(h, 1)) for n, h in controls if h < TARGET_PX - 0.5]
        assert not small, f"controls under {TARGET_PX} px on a phone: {small}"
        seen.update(controls)
    kinds = " ".join(seen)
    for kind in ('"Explore"', '"Manifold"', '"linear"', '"Pick"', "in stSlider", "button.lp-btn", "plotly toolbar",
                 "button.lp-legend-item", "input.lp-slider-input", "button.dp-clear"):
        assert kind in kinds, f"no {kind} among the controls measured: {sorted(seen)[:8]}"
    page.screenshot(path=str(SHOTS / "phone-controls.png"))
    # a laptop's window: the same page keeps its compact rows (the rule is the phone's only)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_function(f"() => ({CONTROLS})().filter(([n, h]) => h < {TARGET_PX} - 4).length > 10")
    close(ctx, page)


def test_the_phone_rules_are_one_width():
    """The app's phone CSS and the components' (their shadow roots) switch at one width."""
    rule = f"@media (max-width: {PHONE_MAX_PX}px)"
    frontend = Path(drawing.__file__).resolve().parent / "latent_plane" / "frontend"
    assert PHONE_CSS.startswith(rule)
    for css in ("plane.css", "draw.css"):
        assert rule in (frontend / css).read_text(), css
