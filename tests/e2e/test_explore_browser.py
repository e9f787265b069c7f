"""The Explore tab's Plotly map in a real browser (see conftest.py).

The page loads with the live plane; switched to the Plotly map it holds all 10,000 test images, a hover names
a point's class and number, and a click on a real point (found on the screen from Plotly's own axis mapping)
picks that test image: the sliders go to its posterior mean and the server decodes a new image.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from .conftest import EXPLORE_SHOWN, SHOTS, nudge_page_slider, run_done, settled_box, slider_value, url_param  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCATTER = ".st-key-explore_scatter .js-plotly-plot"

# (name, x, y, test-image index) of each class trace, read from the figure Plotly drew: `_fullData`, since
# `data` keeps the arrays as plotly.py sent them (base64 typed arrays, {dtype, bdata}).
CLASS_POINTS = """(sel) => {
  const g = document.querySelector(sel);
  if (!g || !g._fullData) return null;
  return g._fullData.filter((t) => t.customdata && t.customdata.length).map((t) => ({
    name: t.name, x: Array.from(t.x), y: Array.from(t.y), index: Array.from(t.customdata),
  }));
}"""

# Screen position (viewport pixels) of latent points [[x, y], ...], from Plotly's own axis mapping.
TO_SCREEN = """([sel, pts]) => {
  const g = document.querySelector(sel);
  const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis, r = g.getBoundingClientRect();
  return pts.map(([x, y]) => [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)]);
}"""

# The plot area in viewport pixels: [left, top, right, bottom].
PLOT_AREA = """(sel) => {
  const g = document.querySelector(sel);
  const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis, r = g.getBoundingClientRect();
  return [r.left + xa._offset, r.top + ya._offset, r.left + xa._offset + xa._length, r.top + ya._offset + ya._length];
}"""

STAR = """(sel) => {
  const t = document.querySelector(sel)._fullData.find((t) => t.name === 'slider z');
  return [t.x[0], t.y[0]];
}"""



def decoded_image_src(page) -> str:
    image = page.locator('[data-testid="stImage"]').filter(has_text="decoder output at z")
    return image.locator("img").get_attribute("src")


def lone_point(page, points: list[dict]) -> tuple[str, float, float, int, tuple[float, float]]:
    """A test image's point well inside the plot with no other point (nor the ★) within 12 px of it on screen,
    so a click there can only mean that one: (class, x, y, index, screen position)."""
    names = np.concatenate([[t["name"]] * len(t["x"]) for t in points])
    xy = np.concatenate([np.stack([t["x"], t["y"]], 1) for t in points])
    index = np.concatenate([t["index"] for t in points])
    screen = np.array(page.evaluate(TO_SCREEN, [SCATTER, xy.tolist()]))
    left, top, right, bottom = page.evaluate(PLOT_AREA, SCATTER)
    star = np.array(page.evaluate(TO_SCREEN, [SCATTER, [page.evaluate(STAR, SCATTER)]]))[0]
    inside = ((screen[:, 0] > left + 40) & (screen[:, 0] < right - 40) & (screen[:, 1] > top + 60)
              & (screen[:, 1] < bottom - 40) & (np.hypot(*(screen - star).T) > 40))
    rng = np.random.default_rng(0)
    for i in rng.permutation(np.flatnonzero(inside)):
        gap = np.hypot(*(screen - screen[i]).T)
        gap[i] = np.inf
        if gap.min() > 12:
            return str(names[i]), float(xy[i, 0]), float(xy[i, 1]), int(index[i]), tuple(screen[i])
    raise AssertionError("no point on the map stands 12 px clear of the others")


def switch_to_plotly(page):
    page.locator(".st-key-explore_map").get_by_text("Plotly", exact=True).click()
    page.wait_for_function(f"() => {{ const p = ({CLASS_POINTS})('{SCATTER}'); "
                           "return p && p.reduce((n, t) => n + t.x.length, 0) === 10000; }", timeout=60_000)
    page.locator(SCATTER).scroll_into_view_if_needed()
    run_done(page)
    settled_box(page.locator(SCATTER))  # points are found on the screen from where the plot is now


def test_a_click_on_the_plotly_map_picks_that_test_image(page):
    page.screenshot(path=str(SHOTS / "explore.png"))
    switch_to_plotly(page)
    points = page.evaluate(CLASS_POINTS, SCATTER)
    assert [t["name"] for t in points] == [str(k) for k in range(10)]
    assert sum(len(t["x"]) for t in points) == 10_000
    assert sorted(i for t in points for i in t["index"]) == list(range(10_000))
    assert page.evaluate(STAR, SCATTER) == [0, 0]

    name, x, y, index, (px, py) = lone_point(page, points)
    page.mouse.move(px, py)
    hover = page.locator(f"{SCATTER} .hoverlayer")
    hover.get_by_text(f"test image #{index}").wait_for(timeout=10_000)
    assert name in hover.text_content()
    page.locator(".st-key-explore_scatter").screenshot(path=str(SHOTS / "explore-plotly-hover.png"))
    before = decoded_image_src(page)
    assert (slider_value(page, "z1"), slider_value(page, "z2")) == (0.0, 0.0)

    page.mouse.click(px, py)
    page.get_by_text(re.compile(rf"test image #{index} \(")).first.wait_for(timeout=30_000)
    z = (round(x, 2), round(y, 2))
    page.get_by_text(f"decoder output at z = ({z[0]:.2f}, {z[1]:.2f})").wait_for(timeout=30_000)
    assert (slider_value(page, "z1"), slider_value(page, "z2")) == z
    assert decoded_image_src(page) != before
    page.wait_for_function(f"() => {{ const s = ({STAR})('{SCATTER}'); "
                           f"return Math.abs(s[0] - {z[0]}) < 1e-6 && Math.abs(s[1] - {z[1]}) < 1e-6; }}",
                           timeout=30_000)
    run_done(page)
    page.screenshot(path=str(SHOTS / "explore-plotly.png"))
    page.locator(".st-key-explore_scatter").screenshot(path=str(SHOTS / "explore-plotly-map.png"))


def test_the_manifold_lies_under_the_plotly_map(page):
    switch_to_plotly(page)
    page.locator(".st-key-explore_bg").get_by_text("Manifold", exact=True).click()
    page.wait_for_function(f"() => {{ const g = document.querySelector('{SCATTER}'); "
                           "return g && g._fullLayout && g._fullLayout.images.length === 1; }", timeout=60_000)
    image = page.evaluate(f"() => document.querySelector('{SCATTER}')._fullLayout.images[0]")
    xr, yr = page.evaluate(f"() => {{ const l = document.querySelector('{SCATTER}')._fullLayout; "
                           "return [l.xaxis.range, l.yaxis.range]; }")
    assert image["source"].startswith("data:image/png") and image["layer"] == "below"
    # The view is the largest square in the plot (here its height); the plot is wider and shows more beside it.
    side = min(xr[1] - xr[0], yr[1] - yr[0])
    cx, cy = (xr[0] + xr[1]) / 2, (yr[0] + yr[1]) / 2
    assert image["x"] < cx - side / 2 and image["x"] + image["sizex"] > cx + side / 2, "the grid covers the view"
    assert image["y"] > cy + side / 2 and image["y"] - image["sizey"] < cy - side / 2, "the grid covers the view"
    run_done(page)
    page.locator(".st-key-explore_scatter").screenshot(path=str(SHOTS / "explore-plotly-manifold.png"))


# --- the live plane in the real app: its view, legend and undo go to Python and stay ---------------------

LP = "window.__latentPlane"


def open_explore(browser, app_url: str, query: str, viewport: dict | None = None):
    """A new context's page at the app's address with `query`, once its latent map is ready; page.errors collects
    the page's JavaScript errors."""
    ctx = browser.new_context(viewport=viewport or {"width": 1600, "height": 1000})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_url}/?{query}")
    page.wait_for_function(f"{LP} && {LP}.ready", timeout=90_000)
    page.errors = errors
    return ctx, page


def test_the_live_plane_s_zoom_legend_and_undo_reach_python_and_stay(browser, app_url):
    ctx, page = open_explore(browser, app_url, "")
    page.locator(".st-key-explore_pick_index input").fill("7")  # a pick the undo can take back (a link's cannot)
    page.locator(".st-key-explore_pick_index input").press("Enter")
    page.locator(".st-key-explore_pick_button button").click()
    page.wait_for_function("() => /[?&]p=7/.test(location.search)", timeout=30_000)
    # the Pick button is under the map: bring the plane back on screen
    page.locator(".st-key-explore_plane").evaluate("(e) => e.scrollIntoView({block: 'center'})")
    settled_box(page.locator(".st-key-explore_plane"))
    at = page.evaluate(f"{LP}.locate(0, 0)")
    assert 0 < at["y"] < 1000, at
    page.mouse.move(at["x"], at["y"])
    for _ in range(4):
        page.mouse.wheel(0, -100)
    # the wheel's steps may settle into more than one view event on a loaded machine: wait for the last one
    page.wait_for_function(f"""() => {{ const v = new URLSearchParams(location.search).get('v'), w = {LP}.view;
        return v && Math.abs(Number(v.split(',')[2]) - w.half) < 6e-4; }}""", timeout=30_000)
    view = page.evaluate(f"{LP}.view")
    assert view["half"] < 3
    assert [float(v) for v in url_param(page, "v").split(",")] == pytest.approx(
        [view["cx"], view["cy"], view["half"]], abs=6e-4), "the link holds the zoom (3 decimals)"
    # a rerun (an in-page slider step, released to Python) keeps the page's zoom
    nudge_page_slider(page)
    assert page.evaluate(f"{LP}.view") == pytest.approx(view, abs=1e-6)
    assert url_param(page, "v") is not None

    # a legend double-click leaves class 3, and a visit to Train and back keeps it
    page.locator(".lp-legend-item", has_text="3").dblclick()
    only_3 = [k for k in range(10) if k != 3]
    page.wait_for_function(f"{LP}.triggers.some((t) => t.event === 'legend')")
    page.get_by_role("tab", name="Train").click()
    page.wait_for_function(f"() => !({EXPLORE_SHOWN})()", timeout=30_000)
    page.evaluate(f"{LP}.hidden = []")  # forget the page's copy: what comes back must come from Python
    page.get_by_role("tab", name="Explore").click()
    page.wait_for_function(f"{LP}.hidden.join() === '{','.join(map(str, only_3))}'", timeout=60_000)
    assert page.evaluate(f"{LP}.view") == pytest.approx(view, abs=6e-4), "the zoom came back too (from Python)"

    # Backspace on the focused plane undoes the last move of the ★ (the slider step), then the pick
    assert url_param(page, "p") == "7"
    run_done(page)
    address = page.evaluate("location.search")
    page.locator("canvas.lp-overlay").focus()
    page.keyboard.press("Backspace")
    page.wait_for_function(f"{LP}.triggers.filter((t) => t.event === 'undo').length === 1")
    # Python has taken the step back (the ★ in the link moved) and its run is over
    page.wait_for_function("(before) => location.search !== before", arg=address, timeout=30_000)
    run_done(page)
    page.locator("canvas.lp-overlay").focus()
    page.keyboard.press("Backspace")
    page.wait_for_function("() => !/[?&]p=/.test(location.search)", timeout=30_000)
    assert not page.errors
    ctx.close()


def test_a_tight_posterior_is_an_ellipse_tens_of_pixels_wide_above_the_star(browser, app_url):
    """σ of test image #7 in mnist-mlp is about 0.05; centred on the pick, its 1σ ellipse is >= 60 px wide, and
    the scene draws it above the ★ (which sits at its centre once picked)."""
    from dashboard.model.caches import test_encodings
    from dashboard.model.registry import list_models

    entry = next(e for e in list_models() if e.name == "mnist-mlp")
    enc = test_encodings(entry.folder, entry.stamp, "mnist")
    sx, sy = (float(s) for s in enc.sigma[7, :2])
    ctx, page = open_explore(browser, app_url, "p=7")
    page.get_by_role("button", name="centre on the pick").click()
    page.wait_for_function(f"{LP}.triggers.some((t) => t.event === 'view')", timeout=30_000)
    mx, my = (float(m) for m in enc.mu[7, :2])
    left = page.evaluate(f"{LP}.locate({mx - sx}, {my})")
    right = page.evaluate(f"{LP}.locate({mx + sx}, {my})")
    top = page.evaluate(f"{LP}.locate({mx}, {my + sy})")
    bottom = page.evaluate(f"{LP}.locate({mx}, {my - sy})")
    width, height = right["x"] - left["x"], bottom["y"] - top["y"]
    assert min(width, height) >= 30, (sx, sy, width, height)
    page.locator(".st-key-explore_plane").screenshot(path=str(SHOTS / "explore-pick-ellipse.png"))
    ctx.close()


PM = "window.__plotlyMap"
X_RANGE = f"() => document.querySelector('{SCATTER}')._fullLayout.xaxis.range.slice()"
# {class name: visible} of the class traces Plotly drew (true, or "legendonly" when the legend hides it)
VISIBLE = f"""() => Object.fromEntries(document.querySelector('{SCATTER}')._fullData
  .filter((t) => t.customdata && t.customdata.length).map((t) => [t.name, t.visible]))"""


def wheel_zoom(page) -> list[float]:
    """One wheel step in on the middle of the Plotly map; wait until Python has the new view: the link's v=...,
    written by that view event's rerun."""
    before = page.evaluate(X_RANGE)
    left, top, right, bottom = page.evaluate(PLOT_AREA, SCATTER)
    page.mouse.move((left + right) / 2, (top + bottom) / 2)
    page.mouse.wheel(0, -100)
    page.wait_for_function("() => /[?&]v=/.test(location.search)", timeout=30_000)  # written by that event's rerun
    # that rerun over and its figure drawn: a drag that starts while Plotly redraws the chart is lost
    run_done(page)
    page.wait_for_function(f"() => {PM}.ready", timeout=30_000)
    settled_box(page.locator(SCATTER))
    zoomed = page.evaluate(X_RANGE)
    assert zoomed[1] - zoomed[0] < 0.95 * (before[1] - before[0]), (before, zoomed)
    return zoomed


def test_a_click_on_the_plotly_map_keeps_its_zoom(page):
    switch_to_plotly(page)
    zoomed = wheel_zoom(page)
    _, x, y, index, (px, py) = lone_point(page, page.evaluate(CLASS_POINTS, SCATTER))
    drawn = page.evaluate(f"{PM}.draws.length")
    page.mouse.click(px, py)
    page.get_by_text(re.compile(rf"test image #{index} \(")).first.wait_for(timeout=30_000)
    z = (round(x, 2), round(y, 2))
    page.wait_for_function(f"() => {{ const s = ({STAR})('{SCATTER}'); "
                           f"return Math.abs(s[0] - {z[0]}) < 1e-6 && Math.abs(s[1] - {z[1]}) < 1e-6; }}",
                           timeout=30_000)
    assert page.evaluate(X_RANGE) == pytest.approx(zoomed, abs=2e-3), "the pick kept the zoom (to 0.1 px)"
    kinds = page.evaluate(f"{PM}.draws.slice({drawn}).map((d) => d.kind)")
    assert kinds and set(kinds) == {"react"}, f"updated in place, not drawn again: {kinds}"


def test_the_plotly_map_drawn_off_screen_takes_the_live_map_s_zoom_and_legend(browser, app_url):
    """Under the Live map the page draws the Plotly map off screen; "Plotly" takes that chart over and updates it.
    It must show what Python holds then, the zoom and the classes hidden on the Live map, not what it was drawn
    with."""
    ctx, page = open_explore(browser, app_url, "")
    page.wait_for_function(f"{PM} && {PM}.draws && {PM}.draws.some((d) => d.kind === 'offscreen')", timeout=60_000)
    at = page.evaluate(f"{LP}.locate(0, 0)")
    page.mouse.move(at["x"], at["y"])
    for _ in range(4):
        page.mouse.wheel(0, -100)
    page.wait_for_function("() => /[?&]v=/.test(location.search)", timeout=30_000)
    view = page.evaluate(f"{LP}.view")
    renders = page.evaluate(f"{LP}.renders")
    page.locator(".lp-legend-item", has_text="3").dblclick()
    page.wait_for_function(f"{LP}.triggers.some((t) => t.event === 'legend')")
    page.wait_for_function(f"{LP}.renders > {renders} && {LP}.ready", timeout=30_000)  # Python's rerun for it
    switch_to_plotly(page)
    page.wait_for_function(f"{PM}.ready", timeout=30_000)
    assert page.evaluate(f"{PM}.adopted") == 1, "the off-screen chart was taken over"
    assert page.evaluate(f"{PM}.draws.filter((d) => d.kind === 'new').length") == 0
    xr, yr = page.evaluate(X_RANGE), page.evaluate(f"() => document.querySelector('{SCATTER}')._fullLayout.yaxis.range")
    assert ((xr[0] + xr[1]) / 2, (yr[0] + yr[1]) / 2) == pytest.approx((view["cx"], view["cy"]), abs=2e-3)
    assert min(xr[1] - xr[0], yr[1] - yr[0]) / 2 == pytest.approx(view["half"], abs=2e-3)
    visible = page.evaluate(VISIBLE)
    assert [name for name, v in visible.items() if v is True] == ["3"], visible
    assert not page.errors, page.errors
    ctx.close()


def test_the_plotly_legend_shows_one_class_or_all_and_the_live_map_follows(page):
    switch_to_plotly(page)
    items = page.locator(f"{SCATTER} .legend .traces")
    items.nth(4).dblclick()
    page.wait_for_function(f"{PM}.triggers.some((t) => t.event === 'legend')", timeout=10_000)
    page.wait_for_function(f"() => Object.values(({VISIBLE})()).filter((v) => v === true).length === 1")
    visible = page.evaluate(VISIBLE)
    assert [name for name, v in visible.items() if v is True] == ["4"], visible
    page.locator(".st-key-explore_scatter").screenshot(path=str(SHOTS / "explore-plotly-only-4.png"))
    # Python has it: the live map hides the same classes
    only_4 = ",".join(str(k) for k in range(10) if k != 4)
    page.locator(".st-key-explore_map").get_by_text("Live", exact=True).click()
    page.wait_for_function(f"{LP}.ready && {LP}.hidden.join() === '{only_4}'", timeout=30_000)
    switch_to_plotly(page)
    assert page.evaluate(f"{PM}.hidden.join()") == only_4, "and the Plotly map comes back with it"
    # a double-click on the only class shown shows them all; a click hides one
    page.locator(f"{SCATTER} .legend .traces").nth(4).dblclick()
    page.wait_for_function(f"() => Object.values(({VISIBLE})()).every((v) => v === true)", timeout=10_000)
    page.locator(f"{SCATTER} .legend .traces").nth(2).click()
    page.wait_for_function(f"() => ({VISIBLE})()['2'] === 'legendonly'", timeout=10_000)
    page.wait_for_function(f"{PM}.triggers.filter((t) => t.event === 'legend').at(-1).value.hidden.join() === '2'")


def test_the_plotly_maps_zoom_survives_a_visit_to_train(page):
    switch_to_plotly(page)
    zoomed = wheel_zoom(page)
    draws = page.evaluate(f"{PM}.draws.length")
    page.get_by_role("tab", name="Train").click()
    page.wait_for_function(f"() => !({EXPLORE_SHOWN})()", timeout=30_000)
    page.get_by_role("tab", name="Explore").click()
    page.wait_for_function(f"() => {PM}.draws.slice({draws}).some((d) => d.kind === 'new') && {PM}.ready "
                           f"&& {PM}.points === 10000", timeout=60_000)
    # Python rounds the view to 3 decimals (the link's precision)
    assert page.evaluate(X_RANGE) == pytest.approx(zoomed, abs=2e-3), "the zoom came back from Python"


def test_the_page_asks_no_other_host_for_anything(browser, app_url):
    """Fonts, icons, scripts: everything comes from the app itself, so the page works in a room with no network."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    asked: list[str] = []
    host = urllib.parse.urlsplit(app_url).netloc
    page.on("request", lambda r: asked.append(r.url))
    page.goto(app_url)
    page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=90_000)
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    # The page's own icon is in place (Streamlit swaps its default for the page config's) before the requests count.
    page.wait_for_function("() => [...document.querySelectorAll('link[rel~=icon]')]"
                           ".some((l) => l.href.includes('/media/') || l.href.includes('gstatic'))")
    outside = [u for u in asked if urllib.parse.urlsplit(u).scheme in ("http", "https")
               and urllib.parse.urlsplit(u).netloc != host]
    ctx.close()
    assert not outside, outside


RANGES = f"""() => {{ const l = document.querySelector('{SCATTER}')._fullLayout;
  return [...l.xaxis.range, ...l.yaxis.range]; }}"""


def test_a_link_reopens_the_plotly_maps_zoom_exactly(browser, app_url):
    """What the Plotly map shows after a zoom and a pan, the link to it shows in a new session: the same x and y
    ranges, not a square of another size fitted to another first width."""
    ctx, page = open_explore(browser, app_url, "")
    switch_to_plotly(page)
    wheel_zoom(page)
    left, top, right, bottom = page.evaluate(PLOT_AREA, SCATTER)
    address = page.evaluate("location.search")
    page.mouse.move((left + right) / 2, (top + bottom) / 2)
    page.mouse.down()
    page.mouse.move((left + right) / 2 + 90, (top + bottom) / 2 + 40, steps=6)
    page.mouse.up()
    page.wait_for_function("(before) => location.search !== before", arg=address, timeout=30_000)
    run_done(page)
    shown = page.evaluate(RANGES)
    link = page.evaluate("location.href")
    assert "map=plotly" in link
    ctx.close()
    again = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = again.new_page()
    page.goto(link)
    page.wait_for_function(f"() => {PM} && {PM}.ready && {PM}.points === 10000", timeout=90_000)
    run_done(page)
    page.wait_for_function(f"() => {PM}.ready", timeout=30_000)
    from .conftest import settled
    assert settled(page, RANGES) == pytest.approx(shown, abs=4e-3), (shown, link)
    again.close()
