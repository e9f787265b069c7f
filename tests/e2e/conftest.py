"""Browser tests: the real app in a real (headless) Chromium, driven by Playwright.

A Streamlit server is started once for the module that needs it (`streamlit run dashboard/app.py` on a free
port, the shipped models in pretrained/, an empty models folder), and each test opens a fresh page, i.e. a fresh
session.

Skipped, with the reason, when there is no Chromium: /usr/bin/chromium (Debian's package), or the
browser named by LATENT_EXPLORER_CHROMIUM, or Playwright's own download (`playwright install chromium`).
Screenshots go to test-output/screenshots/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from dashboard import serving

ROOT = Path(__file__).resolve().parents[2]
APP = serving.APP
OUT = ROOT / "test-output"
SHOTS = OUT / "screenshots"  # scripts/update_screenshots.sh copies the README's and docs/lecture.md's from here
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1600, "height": 1200}
# The grey levels of the 28 x 28 image the live plane decoded in the page (the red channel of its canvas).
DIGIT_PIXELS = """() => {
  const host = [...document.querySelectorAll('*')]
    .find((e) => e.shadowRoot && e.shadowRoot.querySelector('canvas.lp-digit'));
  const c = host.shadowRoot.querySelector('canvas.lp-digit');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const out = [];
  for (let i = 0; i < d.length; i += 4) out.push(d[i]);
  return out;
}"""


def digit(page) -> np.ndarray:
    """The 28 x 28 grey levels the live plane last decoded in the page."""
    return np.array(page.evaluate(DIGIT_PIXELS), dtype=np.uint8).reshape(28, 28)


def frame(page) -> None:
    """Until the page has drawn two more frames."""
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def settled(page, script: str, arg=None, frames: int = 3):
    """What `script` returns once it has returned the same for a few frames (the page may still be laying out)."""
    value, still = page.evaluate(script, arg), 0
    for _ in range(200):
        frame(page)
        now = page.evaluate(script, arg)
        still = still + 1 if now == value else 0
        if still >= frames:
            return now
        value = now
    raise AssertionError(f"{script[:60]!r} kept changing: {value}")


def settled_box(locator, frames: int = 3) -> dict:
    """The element's box once it has stayed put for a few frames: on a loaded machine the page may still be
    laying out (fonts, the sliders' column) after it is ready, and a drag aimed at the old box hits a neighbour."""
    box, still = locator.bounding_box(), 0
    for _ in range(200):
        frame(locator.page)
        now = locator.bounding_box()
        still = still + 1 if now == box else 0
        if still >= frames:
            return now
        box = now
    raise AssertionError(f"{locator} kept moving: {box}")


def aimed_box(locator, tries: int = 50) -> dict:
    """settled_box, checked where it matters: the element itself is what the page has under the box's centre
    (with two busy loops, a box could stay put for three frames and still move before the press)."""
    for _ in range(tries):
        box = settled_box(locator)
        centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
        # in its own root: a component's elements may live in a shadow root, whose host the document would name
        if locator.evaluate("(el, [x, y]) => el.getRootNode().elementFromPoint(x, y) === el", centre):
            return box
    raise AssertionError(f"{locator} is not under its own box's centre")


def close(ctx, page) -> None:
    """Close a page opened with its JavaScript errors collected in page.errors; there must be none."""
    errors = page.errors
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def slider_value(page, name: str) -> float:
    """The value of the server's z slider `name` ("z1", "z2", ...) beside the Plotly map: Streamlit's, by its key
    (the Live map has only its own in-page sliders)."""
    i = int(name.lstrip("z")) - 1
    return float(page.locator(f".st-key-explore_z{i} input[type=range]").input_value())


LP = "window.__latentPlane"
EXPLORE_SHOWN = "() => Boolean(document.querySelector('.st-key-explore_map'))"  # the map's control row
# Streamlit marks its app element with the state of the script: "running" during a run (a fragment's too).
APP_IDLE = "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'"


def run_done(page, timeout: float = 60_000) -> None:
    """Until no script run is under way and the page has drawn two more frames: the page as a screenshot or the
    next gesture should find it, once what started the run has been seen."""
    page.wait_for_function(APP_IDLE, timeout=timeout)
    frame(page)


def plane_settled(page, timeout: float = 60_000) -> None:
    """run_done, and the live plane has measured its place again (it does 300 and 1,500 ms after it mounts, as
    what is above it arrives): its locate() then names the pixel a gesture lands on."""
    page.wait_for_function(f"() => {LP}.remeasured >= 2 && ({APP_IDLE})()", timeout=timeout)
    frame(page)


def url_param(page, name: str) -> str | None:
    m = re.search(rf"[?&]{name}=([^&]*)", page.url.replace("%2C", ","))
    return m.group(1) if m else None


def url_z(page) -> list[float] | None:
    """The ★ as Python last wrote it into the link (two decimals), or None at the origin (a default: left out)."""
    z = url_param(page, "z")
    return None if z is None else [float(v) for v in z.split(",")]


def plane_z(page) -> list[float]:
    """Every coordinate of the ★ as the Live map holds it (float32, as the page decodes it)."""
    page.wait_for_function(f"() => {LP} && {LP}.ready && {LP}.zFull")
    return [float(v) for v in page.evaluate(f"Array.from({LP}.zFull)")]


def nudge_page_slider(page, key: str = "ArrowRight") -> None:
    """One keyboard step (0.05) of the Live map's first in-page z slider: the page decodes it and releases it to
    Python; wait until Python has it (its rerun writes the new ★ into the address bar)."""
    address = page.evaluate("location.search")
    page.locator(".lp-slider-input").first.focus()
    page.keyboard.press(key)
    page.wait_for_function("(before) => location.search !== before", arg=address, timeout=30_000)


def torch_digit(model, z) -> np.ndarray:
    """The same image decoded by PyTorch, rounded as the page's canvas rounds it."""
    with torch.no_grad():
        x = model.decode(torch.tensor([z], dtype=torch.float32))[0, 0].numpy()
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def chromium_path() -> str | None:
    """A Chromium to drive, or None: the environment's choice, Debian's, then Playwright's own."""
    for candidate in (os.environ.get("LATENT_EXPLORER_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
        return path if path and Path(path).is_file() else None
    except Exception:
        return None


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        if os.environ.get("LATENT_EXPLORER_REQUIRE_BROWSER") == "1":  # CI: a missing browser is a failure
            pytest.fail("LATENT_EXPLORER_REQUIRE_BROWSER=1 but no Chromium was found")
        pytest.skip("no Chromium for the browser tests: install Debian's `chromium` (/usr/bin/chromium), set "
                    "LATENT_EXPLORER_CHROMIUM, or run `playwright install chromium`")
    return path


@contextlib.contextmanager
def running_app(env: dict | None = None, script: Path = APP):
    """`streamlit run dashboard/app.py` (or another page) on a free port for the duration of the block; yields
    its URL."""
    with serving.running_streamlit(script, env) as server:
        yield server.url


@pytest.fixture(scope="module")
def app_url(chromium, tmp_path_factory):
    """The app with the shipped models and an empty models folder of its own: nothing a developer saved in
    models/ shows, and the servers of two pytest-xdist workers share no folder they may write to."""
    with running_app({"LATENT_EXPLORER_MODELS_DIR": str(tmp_path_factory.mktemp("models"))}) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page (a new Streamlit session) with the Explore tab loaded and the plane's decoder ready."""
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(app_url)
    pg.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=90_000)
    pg.errors = errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def dot_near(page, zx: float, zy: float) -> int:
    """Move the pointer on the Live map from the point (zx, zy) along a small spiral until the readout names a test
    image's dot under it: that image's index (the pointer stays there; a click picks it)."""
    target = page.evaluate(f"{LP}.locate({zx}, {zy})")
    for r in np.linspace(0, 40, 41):
        a = r * 0.7
        page.mouse.move(target["x"] + r * np.cos(a), target["y"] + r * np.sin(a))
        text = page.locator(".lp-readout-near").inner_text()
        if text.startswith("dot: test image #"):
            return int(re.search(r"#(\d+)", text).group(1))
    raise AssertionError(f"no dot near ({zx}, {zy}) on the map")
