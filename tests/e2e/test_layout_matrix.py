"""Every Explore sub-tab, with presenter mode on and off, at three projector sizes and on a phone, for a 2-D, a
16-D and a 64-D model (and the Train tab at each size), in a real Chromium: nothing scrolls sideways, no text is
cut or lies over another, the map is on the screen, and in presenter mode the map and the sub-tab's figure are
on the screen unscrolled, in type of at least 16 px. The checks are one script, layout_checks.js.

One page per model and size: its sub-tabs are opened in turn by a click, then presenter mode is switched on by the
sidebar's toggle, as a lecturer would (on the phone too: the sidebar opened over the page folds away), and its
panels and sub-tabs are opened in turn; a cell (its test id, e.g.
mnist16-1280x720-presenter-grid) costs a rerun, not a page load. A failing cell's screenshot and failures go to
test-output/matrix/; with LAYOUT_MATRIX_SHOTS=1 every cell's screenshot does (to look at them all: a run of
this file alone takes a few minutes, and the pictures are a minute of the whole suite's time).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dashboard.explore.sections import PANELS, SECTIONS

from .conftest import APP_IDLE, OUT, frame, settled
from .test_latent_plane_browser import draw_stroke, png_bytes, upload

CHECKS = (Path(__file__).parent / "layout_checks.js").read_text()
SHOTS = OUT / "matrix"
MODELS = {"mnist": ("pretrained/mnist-mlp", 2), "mnist16": ("pretrained/mnist16-mlp", 16),
          "fashion64": ("pretrained/fashion64-conv", 64)}
SIZES = {"1280x720": (1280, 720), "1366x768": (1366, 768), "1920x1080": (1920, 1080), "phone": (390, 844)}
MODES = ("normal", "presenter")
TRAIN = "train"  # the Train tab, checked on the 2-D model's pages after its sub-tabs
PLOTLY = "plotly"  # the Plotly map instead of the Live one, on the 2-D model's pages, before Train
UMAP = "umap"  # the UMAP map instead of the PCA plane, with the first sub-tab, on the pages of the models beyond 2-D
# a digit drawn on the pad, then a picture uploaded: the 2-D model's pages out of presenter mode ("own" is presenter
# mode's panel of your digit)
OWN = "drawn"

CELLS = [
    pytest.param(model, size, mode, s.id, id=f"{model}-{size}-{mode}-{s.id}")
    for model, (_, d) in MODELS.items() for size in SIZES for mode in MODES
    for s in (PANELS if mode == "presenter" else ()) + SECTIONS if d >= s.min_latent_dim
] + [pytest.param("mnist", size, mode, extra, id=f"mnist-{size}-{mode}-{extra}")
     for size in SIZES for mode in MODES for extra in (OWN, PLOTLY, TRAIN)
     if not (extra == OWN and mode == "presenter")] + [
    pytest.param(model, size, mode, UMAP, id=f"{model}-{size}-{mode}-{UMAP}")
    for model, (_, d) in MODELS.items() if d > 2 for size in SIZES for mode in MODES]
# The 2-D model's own digit, Plotly map and Train cells run after its sub-tabs, on the same page; a page's
# presenter cells after its others.
CELLS.sort(key=lambda p: list(MODELS).index(p.values[0]) * 100 + list(SIZES).index(p.values[1]) * 10
           + MODES.index(p.values[2]))

NO_FIGURE = ("sample",)  # the Sampling panel's controls draw the pick's samples on the map: it has no figure of its own
TITLES = {s.id: s.title for s in SECTIONS}
PRESENTER_TITLES = {s.id: s.presenter_title or s.title for s in PANELS + SECTIONS}
# The open sub-tab's panel once its run has drawn it: a figure, no skeleton left, no run under way.
DRAWN = """([title, figure]) => {
  const tab = [...document.querySelectorAll('[role=tab]')].find((t) => t.textContent.trim() === title);
  if (!tab || tab.getAttribute('aria-selected') !== 'true') return null;
  const panel = document.getElementById(tab.getAttribute('aria-controls'));
  if (!panel || panel.querySelector('[data-testid=stSkeleton]')) return null;
  const pad = [...panel.querySelectorAll('*')].some((e) => e.shadowRoot?.querySelector('canvas.dp-canvas'));
  const fig = panel.querySelector('[data-testid=stImage] img, [data-testid=stPlotlyChart] .main-svg');
  if (figure && !pad && !fig) return null;
  if (!panel.querySelector('[data-testid=stWidgetLabel], [data-testid=stMarkdownContainer]')) return null;
  return (""" + APP_IDLE + """)() ? panel.id : null;
}"""
TRAIN_DRAWN = """() => {
  const tab = [...document.querySelectorAll('[role=tab]')].find((t) => t.textContent.trim() === 'Train');
  const panel = tab && tab.getAttribute('aria-selected') === 'true'
    && document.getElementById(tab.getAttribute('aria-controls'));
  return Boolean(panel && panel.querySelector('[data-testid=stButton], [data-testid=stFormSubmitButton]')
                 && (""" + APP_IDLE + """)());
}"""
PLOTLY_BOX = """() => { const g = [...document.querySelectorAll('.pm-graph')]
  .find((g) => g.getBoundingClientRect().left >= 0 && g.querySelector('.main-svg'));
  return g ? JSON.stringify(g.getBoundingClientRect()) : null; }"""
PLOTLY_DRAWN = f"() => window.__plotlyMap?.ready && ({PLOTLY_BOX})() && ({APP_IDLE})()"
# the Live map on a plane kind, drawn ("UMAP": its axes are UMAP's)
PLANE_DRAWN = """(kind) => { const on = [...document.querySelectorAll('.st-key-explore_plane_kind [role=radio]')]
  .find((b) => b.innerText.trim() === kind); if (!on || on.getAttribute('aria-checked') !== 'true') return false;
  const umap = /UMAP/.test((window.__latentPlane?.axes || [])[0] || '');
  return (kind === 'UMAP') === umap && window.__latentPlane?.ready && (""" + APP_IDLE + """)(); }"""
SHOW_PANEL = """(panel) => {
  panel.scrollIntoView({block: 'start'});
  const main = document.querySelector('[data-testid=stMain]');
  (main && main.scrollTop > 0 ? main : document.scrollingElement).scrollTop -= 160;
}"""


SIDEBAR_SHOWN = "() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().left >= 0"
SIDEBAR_FOLDED = ("() => { const s = document.querySelector('[data-testid=stSidebar]'); "
                  "return s.getAttribute('data-collapsed') === 'true' && s.getBoundingClientRect().right <= 0; }")
PRESENTING = ("() => new URLSearchParams(location.search).get('pr') === '1' && window.__latentPlane?.ready && "
              f"({APP_IDLE})()")


class Pages:
    """The page of the cells under way: a cell of another model or size closes it and opens its own; a presenter
    cell on a page out of presenter mode switches it on there."""

    def __init__(self, browser, app_url):
        self.browser, self.app_url, self.key, self.mode, self.ctx, self.page = browser, app_url, None, None, None, None

    def get(self, model: str, size: str, mode: str):
        if self.key != (model, size) or (self.mode == "presenter" and mode != "presenter"):
            self.close()
            width, height = SIZES[size]
            phone = size == "phone"
            self.ctx = self.browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone,
                                                has_touch=phone, device_scale_factor=1)
            page = self.ctx.new_page()
            page.errors = []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            query = f"m={MODELS[model][0]}&p=7,42" + ("&pr=1" if mode == "presenter" else "")
            page.goto(f"{self.app_url}/?{query}")
            page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=120_000)
            self.key, self.mode, self.page = (model, size), mode, page
        if mode == "presenter" and self.mode != "presenter":
            self.present()
        return self.page

    def present(self) -> None:
        """Presenter mode switched on by the sidebar's toggle, from Explore's Live map (the cells before may have
        left the Train tab or the Plotly map open)."""
        page = self.page
        if not page.evaluate(SIDEBAR_SHOWN):  # a phone's, or one folded by hand
            page.locator('[data-testid="stExpandSidebarButton"]').click()
            page.wait_for_function(SIDEBAR_SHOWN)
        page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
        page.wait_for_function(SIDEBAR_FOLDED, timeout=90_000)
        page.wait_for_function(f"() => new URLSearchParams(location.search).get('pr') === '1' && ({APP_IDLE})()",
                               timeout=90_000)
        explore = page.get_by_role("tab", name="Explore", exact=True)
        if explore.get_attribute("aria-selected") != "true":
            explore.click()
            page.wait_for_function(f"() => document.querySelector('.st-key-explore_map') && ({APP_IDLE})()",
                                   timeout=90_000)
        live = page.locator(".st-key-explore_map [role=radio]").filter(has_text="Live").first
        if live.get_attribute("aria-checked") != "true":
            live.click()
        page.wait_for_function(PRESENTING, timeout=90_000)
        self.mode = "presenter"

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.close()
        self.key = self.mode = self.ctx = self.page = None


@pytest.fixture(scope="module")
def pages(browser, app_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    p = Pages(browser, app_url)
    yield p
    p.close()


PAD_INK = """() => { const c = document.querySelector('canvas.dp-canvas')
  || [...document.querySelectorAll('*')].map((e) => e.shadowRoot?.querySelector('canvas.dp-canvas')).find(Boolean);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0; for (let i = 0; i < d.length; i += 4) ink += d[i] > 0; return ink; }"""


def draw_own(page) -> None:
    """A "1" drawn on the pad, until its strip (the digit as the model sees it, its reconstruction) is shown."""
    # centred: scrolled up to just in view, the pad's top would sit under Streamlit's fixed header, which then
    # takes the stroke's first point (after a sub-tab whose panel the cell scrolled to the top)
    page.locator("canvas.dp-canvas").evaluate("(e) => e.scrollIntoView({block: 'center'})")
    draw_stroke(page, [(140, 50), (140, 120), (140, 190), (140, 240)])
    page.get_by_text("your drawing, as the model sees it").wait_for(timeout=60_000)
    page.get_by_text("your digit's reconstruction at μ").wait_for(timeout=60_000)
    page.wait_for_function(APP_IDLE, timeout=60_000)
    frame(page)


def open_tab(page, section: str, presenting: bool = False) -> str | None:
    """Open the sub-tab (or the Train tab, or the Plotly map) and wait until it is drawn; the sub-tab's panel's
    id."""
    if section == OWN:
        draw_own(page)
        return None
    if section == UMAP:
        panel = open_tab(page, SECTIONS[0].id, presenting)  # the grid beside it: the PCA plane's, it says
        plane_kind(page, "UMAP")
        return panel
    if section == PLOTLY:
        open_tab(page, SECTIONS[0].id, presenting)  # the map's cell: not the last sub-tab's own findings again
        page.locator(".st-key-explore_map button").filter(has_text="Plotly").click()
        page.wait_for_function(PLOTLY_DRAWN, timeout=90_000)
        settled(page, PLOTLY_BOX)  # it fits its height to the window once what is above it has arrived
        return None
    title = "Train" if section == TRAIN else (PRESENTER_TITLES if presenting else TITLES)[section]
    tab = page.get_by_role("tab", name=title, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    if section == TRAIN:
        page.wait_for_function(TRAIN_DRAWN, timeout=90_000)
        panel = None
    else:
        panel = page.wait_for_function(DRAWN, arg=[title, section not in NO_FIGURE], timeout=90_000).json_value()
    page.evaluate("document.fonts.ready.then(() => null)")  # KaTeX lays out again once its fonts have loaded
    frame(page)
    frame(page)
    return panel


def plane_kind(page, kind: str) -> None:
    page.locator(".st-key-explore_plane_kind [role=radio]").filter(has_text=kind).click()
    page.wait_for_function(PLANE_DRAWN, arg=kind, timeout=120_000)
    frame(page)


@pytest.mark.parametrize("model, size, mode, section", CELLS)
def test_layout_cell(pages, request, model, size, mode, section):
    try:
        page = pages.get(model, size, mode)
        panel = open_tab(page, section, mode == "presenter")
    except Exception:
        pages.close()  # a page that did not draw the tab is not reused for the next cell
        raise
    presenter = mode == "presenter" and section not in (TRAIN, PLOTLY)
    fails = page.evaluate(CHECKS, {"presenter": presenter, "phone": size == "phone", "panel": panel,
                                  "map": {TRAIN: None, PLOTLY: "plotly", OWN: None}.get(section, "live"),
                                  "presenting": mode == "presenter", "figure": section not in NO_FIGURE})
    if not presenter and panel:  # the cell's own content in the picture, its row of tabs under the header
        page.locator(f"[id='{panel}']").evaluate(SHOW_PANEL)
        frame(page)
    if section == OWN:  # the strip in the picture
        page.get_by_text("your drawing, as the model sees it").scroll_into_view_if_needed()
    if fails or os.environ.get("LAYOUT_MATRIX_SHOTS") == "1":
        page.screenshot(path=str(SHOTS / f"{request.node.callspec.id}.png"))
    if fails:  # beside the picture, as the run goes (a CI artifact too)
        (SHOTS / f"{request.node.callspec.id}.txt").write_text("\n".join(fails) + "\n")
    if section == OWN:  # an upload replaces the drawing: the pad no longer shows it
        assert page.evaluate(PAD_INK) > 0
        ring = np.zeros((280, 280), np.uint8)
        yy, xx = np.mgrid[:280, :280]
        ring[np.abs(np.hypot(yy - 140, xx - 140) - 80) <= 10] = 255
        upload(page, "zero.png", png_bytes(255 - ring))
        page.get_by_text("zero.png, as the model sees it").wait_for(timeout=60_000)
        page.wait_for_function(f"() => ({PAD_INK})() === 0", timeout=30_000)
    if section == UMAP:  # the page's next cells are on the PCA plane
        plane_kind(page, "PCA")
    assert not page.errors, f"JavaScript errors on the page: {page.errors}"
    assert not fails, "\n".join(fails)
