"""Explore in a lecture hall, in a real Chromium (see conftest.py): settings survive a trip to Train, a copied
link opens the same view in a fresh browser, the map, the decoded digit and the legend fit a 1280 x 720 or
1920 x 1080 screen, no formula or label is clipped, and presenter mode puts the morph beside the map."""

from __future__ import annotations

import pytest

from .conftest import EXPLORE_SHOWN, LP, SHOTS, frame, nudge_page_slider, plane_z, run_done, settled, url_z

READY = "window.__latentPlane && window.__latentPlane.ready"

# Bounding boxes (viewport px) of the plane's canvas, the decoded digit and the legend (inside the component's
# shadow root); with scroll true, after scrolling the page so that the component's top sits under Streamlit's
# header.
PLANE_BOXES = """(scroll) => {
  const host = [...document.querySelectorAll('*')]
    .find((e) => e.shadowRoot && e.shadowRoot.querySelector('canvas.lp-digit'));
  const root = host.shadowRoot;
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const header = document.querySelector('header');
  const top = host.getBoundingClientRect().top + window.scrollY;
  if (scroll) window.scrollTo(0, top - (header ? header.getBoundingClientRect().height : 0) - 8);
  return {
    plane: box(root.querySelector('.lp-plane-box canvas')), digit: box(root.querySelector('canvas.lp-digit')),
    legend: box(root.querySelector('.lp-legend')), header: header ? header.getBoundingClientRect().bottom : 0,
    width: window.innerWidth, height: window.innerHeight,
  };
}"""

# Formulas that scroll or clip (.katex-display scrolls when its formula is wider), and labels or buttons whose
# text is cut ("Pl…"). A folded sidebar (presenter mode) is 0 px wide and shows nothing: its labels are not cut.
CLIPPED = """() => {
  const shown = (e) => e.offsetParent !== null && !e.closest('[data-testid=stSidebar][data-collapsed=true]');
  return {
    formulas: [...document.querySelectorAll('.katex-display')].filter(shown)
      .filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent.slice(0, 40)),
    labels: [...document.querySelectorAll('[data-testid="stWidgetLabel"] p, button p, [role="tab"] p')]
      .filter(shown).filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent.slice(0, 40)),
  };
}"""


def open_app(browser, app_url: str, query: str = "", width: int = 1280, height: int = 720):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url if "?" in app_url else f"{app_url}/{'?' + query if query else ''}")  # a link, or the app
    page.wait_for_function(READY, timeout=90_000)
    page.errors = errors
    return ctx, page


def close_sidebar(page) -> None:
    page.locator('[data-testid="stSidebar"]').hover()
    page.locator('[data-testid="stSidebarCollapseButton"] button').click()
    # Streamlit 1.67 marks a closed sidebar data-collapsed="true"; it slides out, so wait until it is off screen.
    page.wait_for_function("() => { const s = document.querySelector('[data-testid=stSidebar]'); "
                           "return s.getAttribute('data-collapsed') === 'true' "
                           "&& s.getBoundingClientRect().right <= 0; }")


def test_a_trip_to_train_and_back_keeps_the_view(browser, app_url):
    ctx, page = open_app(browser, app_url, "z=1.5,-1&p=7&sub=morph&me=1&bg=1", width=1600, height=1000)
    page.get_by_role("tab", name="Train").click()
    page.wait_for_function(f"() => !({EXPLORE_SHOWN})()")
    page.evaluate("window.__latentPlane.zFull = null")  # forget the page's copy: what comes back is Python's
    page.get_by_role("tab", name="Explore").click()
    assert plane_z(page) == [1.5, -1.0]
    assert page.locator(".st-key-explore_bg input").is_checked()
    assert page.get_by_role("tab", name="Morph", selected=True).count() == 1
    page.get_by_text("★ → test image #7").first.wait_for()
    assert "z=1.5,-1" in page.url.replace("%2C", ",") and "p=7" in page.url
    assert not page.errors
    ctx.close()


def test_a_copied_link_opens_the_same_view_in_a_fresh_browser(browser, app_url):
    ctx, page = open_app(browser, app_url, width=1600, height=1000)
    page.locator(".st-key-explore_pick_index input").fill("42")
    page.locator(".st-key-explore_pick_index input").press("Enter")
    page.locator(".st-key-explore_pick_button button").click()
    page.wait_for_function("() => location.search.includes('p=42')")
    z42 = url_z(page)
    # The run writes the address bar (the link, in the map's control row) before it sends the map under it: the
    # step must start from the ★ the map shows at the pick, not from where it was.
    page.wait_for_function(f"([x, y]) => Math.abs({LP}.zFull[0] - x) < 0.006 && Math.abs({LP}.zFull[1] - y) < 0.006",
                           arg=z42)
    nudge_page_slider(page)  # one step of 0.05 on the map's z1 slider
    z42_param = ",".join(f"{v:g}" for v in z42)
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('z') !== '{z42_param}'")
    z = url_z(page)
    assert z[1] == z42[1] and abs(z[0] - z42[0]) <= 0.08, (z42, z)
    page.locator("[data-testid='stPopoverButton']:visible").first.click()
    shown = page.locator("[data-testid='stCode'] code").filter(has_text="p=42").first.inner_text()
    link = page.url
    assert shown.replace("%2C", ",") == link.replace("%2C", ","), "the control shows the address bar's URL"
    ctx.close()
    fresh, other = open_app(browser, link, width=1600, height=1000)
    assert plane_z(other) == pytest.approx(z, abs=1e-6)
    other.locator("[data-testid=stImageCaption]").filter(has_text="test image #42 (").first.wait_for()
    assert not other.errors
    fresh.close()


@pytest.mark.parametrize("width, height, sidebar", [(1280, 720, "open"), (1280, 720, "closed"),
                                                    (1920, 1080, "open"), (1920, 1080, "closed")])
def test_the_map_the_digit_and_the_legend_fit_the_screen(browser, app_url, width, height, sidebar):
    ctx, page = open_app(browser, app_url, width=width, height=height)
    if sidebar == "closed":
        close_sidebar(page)
    boxes = settled(page, PLANE_BOXES, True)  # scrolled, and laid out
    page.screenshot(path=str(SHOTS / f"lecture-hall-{width}x{height}-{sidebar}.png"))
    for name in ("plane", "digit", "legend"):
        left, top, right, bottom = boxes[name]
        assert left >= 0 and right <= boxes["width"], (name, boxes)
        assert top >= boxes["header"] - 1 and bottom <= boxes["height"], (name, boxes)
    ctx.close()


# Every width for the lecture's main views; the narrowest for the others (where a label clips first).
@pytest.mark.parametrize("width, query", [
    (w, q) for w in (1280, 1440, 1920) for q in ("p=7,42&sub=morph", "sub=recon", "pr=1&p=7,42&sub=morph")
] + [(1280, "p=7&po=pick&sub=denoise"), (1280, "m=pretrained/mnist16-mlp&sub=dims")])
def test_no_formula_or_label_is_clipped(browser, app_url, width, query):
    ctx, page = open_app(browser, app_url, query, width=width, height=900)
    page.locator(".katex-display").first.wait_for()
    run_done(page)
    page.evaluate("document.fonts.ready.then(() => null)")  # KaTeX lays out again once its fonts have loaded
    frame(page)
    clipped = page.evaluate(CLIPPED)
    assert clipped == {"formulas": [], "labels": []}, clipped
    if "pr=1" not in query:  # the drawing pad stays inside its column (it once covered the uploader's label)
        pad = page.locator("canvas.dp-canvas")
        column = page.locator('[data-testid="stColumn"]').filter(has=pad).last.bounding_box()
        box = pad.bounding_box()
        assert box["x"] + box["width"] <= column["x"] + column["width"] + 1, (box, column)
    ctx.close()


SIDEBAR_FOLDED = ("() => { const s = document.querySelector('[data-testid=stSidebar]'); "
                  "return s.getAttribute('data-collapsed') === 'true' && s.getBoundingClientRect().right <= 0; }")


@pytest.mark.parametrize("width, height, model", [(1280, 720, "mnist-mlp"), (1280, 720, "mnist16-mlp"),
                                                  (1920, 1080, "mnist-mlp")])
def test_presenter_mode_puts_the_morph_beside_the_map(browser, app_url, width, height, model):
    ctx, page = open_app(browser, app_url, f"m=pretrained/{model}&pr=1&p=7,42&sub=morph", width=width, height=height)
    gif = page.locator('[data-testid="stImage"]').filter(has_text="test image #7 → #42").first
    gif.wait_for()
    plane = page.locator(".st-key-explore_plane").bounding_box()
    morph = gif.bounding_box()
    assert morph["x"] >= plane["x"] + plane["width"] - 1, "beside, not under"
    assert morph["y"] < plane["y"] + plane["height"], "at the map's height"
    # the link opened presenter mode with the sidebar folded away: the map, the digit beside it and the legend
    # are on the screen as the page opens, not scrolled
    page.wait_for_function(SIDEBAR_FOLDED)
    page.wait_for_function(f"{LP}.remeasured >= 2")
    boxes = page.evaluate(PLANE_BOXES, False)
    for name in ("plane", "digit", "legend"):
        left, top, right, bottom = boxes[name]
        assert left >= 0 and right <= boxes["width"] and top >= boxes["header"] - 1 and bottom <= boxes["height"], \
            (name, boxes)
    assert boxes["digit"][0] >= boxes["plane"][2], "the digit beside the map, not under it"
    # the morph's player too: Play, its frame slider and the frame
    for what in (page.locator(".st-key-explore_morph_play"), page.locator(".st-key-explore_morph_frame_widget"), gif):
        box = what.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (what, box)
    page.screenshot(path=str(SHOTS / f"presenter-{width}x{height}{'' if model == 'mnist-mlp' else '-' + model}.png"))
    assert not page.errors
    ctx.close()


def test_switching_presenter_mode_on_folds_the_sidebar_and_an_opened_one_stays(browser, app_url):
    ctx, page = open_app(browser, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Presenter mode").click()
    page.wait_for_function(SIDEBAR_FOLDED)
    page.wait_for_function("() => new URLSearchParams(location.search).get('pr') === '1'")
    page.locator('[data-testid="stExpandSidebarButton"]').click()  # the arrow at the top left
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().left >= 0")
    # a rerun of the whole page (another setting of the sidebar) leaves the sidebar open
    sidebar.get_by_text("Show explanations").click()
    # the run has ended once it wrote the address; a fold would have been sent at its start (set_page_config)
    page.wait_for_function("() => new URLSearchParams(location.search).get('ex') === '0'")
    assert sidebar.get_attribute("data-collapsed") != "true" and sidebar.get_by_text("Presenter mode").is_visible()
    assert not page.errors
    ctx.close()
