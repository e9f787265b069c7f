"""The Explore tab's Plotly map in a real browser (see conftest.py).

The page loads with the live plane; switched to the Plotly map it holds all 10,000 test images, a hover names
a point's class and number, and a click on a real point (found on the screen from Plotly's own axis mapping)
picks that test image: the sliders go to its posterior mean and the server decodes a new image.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from .conftest import SHOTS  # noqa: E402

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


def slider_value(page, name: str) -> float:
    return float(page.get_by_role("slider", name=name).input_value())


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
    page.wait_for_timeout(300)


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
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "explore-plotly.png"))
    page.locator(".st-key-explore_scatter").screenshot(path=str(SHOTS / "explore-plotly-map.png"))


def test_the_manifold_lies_under_the_plotly_map(page):
    switch_to_plotly(page)
    page.locator(".st-key-explore_bg").get_by_text("Manifold", exact=True).click()
    page.wait_for_function(f"() => {{ const g = document.querySelector('{SCATTER}'); "
                           "return g && g._fullLayout && g._fullLayout.images.length === 1; }", timeout=60_000)
    image = page.evaluate(f"() => document.querySelector('{SCATTER}')._fullLayout.images[0]")
    extent = page.evaluate(f"() => document.querySelector('{SCATTER}')._fullLayout.xaxis.range")
    assert image["source"].startswith("data:image/png") and image["layer"] == "below"
    assert image["x"] < extent[0] and image["x"] + image["sizex"] > extent[1], "the grid covers the whole view"
    page.wait_for_timeout(500)
    page.locator(".st-key-explore_scatter").screenshot(path=str(SHOTS / "explore-plotly-manifold.png"))
