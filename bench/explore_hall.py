"""Explore as a student sees it, in a real Chromium against `streamlit run dashboard/app.py`: how long from an
action to its result on screen.

    python bench/explore_hall.py [--repeats 10]

Prints the median and p95 (wall clock around Playwright's actions, waiting on what the page shows) of:
    plotly switch     a click on "Plotly" until its 10,000 points are drawn          (goal <= 1 s); the page
                      has drawn the map off screen first (it does once it has had 1.5 s without input)
    click to pick     a click on a dot of the Plotly map until "test image #i (" shows (goal <= 1 s)
    pick on the map   the same click until the map has drawn the ★ on that dot (Plotly.react, zoom kept)
    slider -> digit   an arrow key on the Live map's own z1 slider until the page has decoded and drawn the new
                      digit (the goal: the z sliders decode in the page, as the plane does)
    slider -> Python  the same key until Python's rerun for its release has reached the page (the address bar
                      holds the new ★; the server path, p95 goal <= 80 ms)
Each repetition is a fresh page (a new session); the server is started once and warmed by one visit.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.serving import running_streamlit  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.e2e.test_explore_browser import CLASS_POINTS, SCATTER, STAR, lone_point  # noqa: E402

READY = "window.__latentPlane && window.__latentPlane.ready"
OFFSCREEN = "window.__plotlyMap && window.__plotlyMap.draws.some((d) => d.kind === 'offscreen')"
ALL_DRAWN = (f"() => {{ const p = ({CLASS_POINTS})('{SCATTER}'); "
             "return p && p.reduce((n, t) => n + t.x.length, 0) === 10000; }")


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def one_visit(browser, url: str, times: dict) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function(READY, timeout=120_000)
    # the Live map's z1 slider: five arrow presses, each waited for in the page, then in Python
    page.locator(".lp-slider-input").first.focus()
    for _ in range(5):
        decodes, address = page.evaluate("[window.__latentPlane.decodes, location.search]")
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => window.__latentPlane.decodes > {decodes}", timeout=30_000, polling="raf")
        times["slider -> digit"].append(time.perf_counter() - t0)
        page.wait_for_function("(before) => location.search !== before", arg=address, timeout=30_000,
                               polling="raf")
        times["slider -> Python"].append(time.perf_counter() - t0)
    # the Plotly switch, once the page has drawn it off screen (after 1.5 s without input: a page just opened
    # and used at once switches as before, drawing the map itself)
    page.wait_for_function(OFFSCREEN, timeout=60_000)
    t0 = time.perf_counter()
    page.locator(".st-key-explore_map").get_by_text("Plotly", exact=True).click()
    page.wait_for_function(ALL_DRAWN, timeout=60_000)
    times["plotly switch"].append(time.perf_counter() - t0)
    page.locator(SCATTER).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    # click to pick
    _, x, y, index, (px, py) = lone_point(page, page.evaluate(CLASS_POINTS, SCATTER))
    z = (round(x, 2), round(y, 2))
    t0 = time.perf_counter()
    page.mouse.click(px, py)
    page.get_by_text(re.compile(rf"test image #{index} \(")).first.wait_for(timeout=30_000)
    times["click to pick"].append(time.perf_counter() - t0)
    page.wait_for_function(f"() => {{ const s = ({STAR})('{SCATTER}'); "
                           f"return Math.abs(s[0] - {z[0]}) < 1e-6 && Math.abs(s[1] - {z[1]}) < 1e-6; }}",
                           timeout=30_000)
    times["pick on the map"].append(time.perf_counter() - t0)
    ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        sys.exit("no Chromium: install /usr/bin/chromium or set LATENT_EXPLORER_CHROMIUM")
    times: dict[str, list[float]] = {"plotly switch": [], "click to pick": [], "pick on the map": [],
                                     "slider -> digit": [], "slider -> Python": []}
    load = os.getloadavg()
    with running_streamlit() as server, sync_playwright() as p:
        url = server.url
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        one_visit(browser, url, {k: [] for k in times})  # warm: model load, encodings, first Plotly figure
        for _ in range(args.repeats):
            one_visit(browser, url, times)
        browser.close()
    print(f"load average at the start: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min); "
          f"at the end: {os.getloadavg()[0]:.2f} (1 min); {os.cpu_count()} CPUs")
    for name, values in times.items():
        print(f"{name:16s} median {statistics.median(values) * 1000:7.0f} ms   p95 {p95(values) * 1000:7.0f} ms"
              f"   (n = {len(values)})")


if __name__ == "__main__":
    main()
