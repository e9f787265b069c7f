"""How long the Train tab's Stop button takes to give the form back, measured in a real browser.

    python bench/stop_in_page.py                 # 5 stops
    python bench/stop_in_page.py --repeats 2

Each round: a fresh page opens the Train tab, starts the Quick demo, waits for its first loss points, clicks Stop
and times the click until "Start training" is enabled again (the click's own response; the README promises
within a second). Before the click it also reads, over 4 s, how busy the live view keeps the page's main thread
(Chromium's long tasks: what a click waits behind). bench/stop_latency.py times the job alone (stop() to its
end), without the browser.
Other load on the machine lengthens the figures; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.serving import running_streamlit  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.e2e.test_train_browser import LIVE_LOSS_POINTS  # noqa: E402

# The page's main thread busy with tasks over 50 ms (Chromium's long tasks) in the live view before the click:
# what a click waits behind.
BUSY_WINDOW_MS = 4000
LONG_TASKS = """() => { window.__busyMs = 0; new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__busyMs += e.duration; }).observe({entryTypes: ['longtask']}); }"""
START_ENABLED = """() => [...document.querySelectorAll('button')].some(
    (b) => b.innerText.includes('Start training') && !b.disabled)"""


def one_stop(browser, url: str) -> tuple[float, float]:
    """(seconds from the click to the form back, ms of long tasks a second in the live view before it)"""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(url)
        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Start training").click()
        page.wait_for_function(f"({LIVE_LOSS_POINTS})() > 1", timeout=300_000)
        page.evaluate(LONG_TASKS)
        page.wait_for_timeout(BUSY_WINDOW_MS)
        busy = page.evaluate("window.__busyMs") / (BUSY_WINDOW_MS / 1000)
        stop = page.locator(".st-key-train_stop").get_by_role("button", name="Stop")
        t0 = time.monotonic()
        stop.click()
        page.wait_for_function(START_ENABLED, polling="raf", timeout=60_000)
        return time.monotonic() - t0, busy
    finally:
        page.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        sys.exit("no Chromium: install /usr/bin/chromium or set LATENT_EXPLORER_CHROMIUM")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="stop-bench-models-") as models:
        env = {"LATENT_EXPLORER_MODELS_DIR": models, "VAE_TRAIN_NICE": "0"}
        with running_streamlit(env=env) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            times, busy = zip(*(one_stop(browser, server.url) for _ in range(args.repeats)))
            browser.close()
    print(f"load average at the start: {load[0]:.2f} (1 min); at the end: {os.getloadavg()[0]:.2f}; "
          f"{os.cpu_count()} CPUs")
    print("Stop click -> form back: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print(f"median {statistics.median(times):.2f} s, max {max(times):.2f} s (n = {len(times)})")
    print("live view, the page's main thread in long tasks: " + ", ".join(f"{b:.0f}" for b in busy) + " ms a second")


if __name__ == "__main__":
    main()
