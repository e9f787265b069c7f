"""A 16-D model in a real browser: the PCA map and its caption, dragging on the plane decodes
z = o + u e1 + v e2 in the page with no message to the server until the release, the page's digit equals
PyTorch's, a coordinate plane, the Traversals and Dimensions tabs, and plane links (see conftest.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vae_core import analysis, load_checkpoint  # noqa: E402

from .conftest import SHOTS, close, digit, plane_settled, torch_digit, url_z  # noqa: E402

MODEL = "pretrained/mnist16-mlp"
FRAME = "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


@pytest.fixture(scope="module")
def mlp16():
    model, _ = load_checkpoint(ROOT / MODEL)
    return model


def open_page(browser, app_url, query: str = "", viewport=(1600, 1200)):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(f)))
    page.goto(f"{app_url}/?m={MODEL}{query}")
    page.wait_for_function("window.__latentPlane && window.__latentPlane.ready && window.__latentPlane.planeBasis",
                           timeout=120_000)
    page.errors, page.sent = errors, sent
    return ctx, page


def test_dragging_on_the_pca_plane_decodes_in_the_page_until_the_release(browser, app_url, mlp16):
    ctx, page = open_page(browser, app_url)
    stats = page.evaluate("window.__latentPlane.caption")
    assert re.fullmatch(r"PCA plane: PC1–PC2, \d+% of the variance", stats)
    page.get_by_text(re.compile(r"PCA plane: PC1–PC2, \d+% of the variance\. Dots")).wait_for(timeout=30_000)
    assert page.evaluate("window.__latentPlane.axes") == ["PC1", "PC2"]
    basis = page.evaluate("window.__latentPlane.planeBasis")
    plane = analysis.Plane(np.array(basis["mean"]), np.array([basis["e1"], basis["e2"]]), np.full(2, np.nan), 0.0)
    plane_settled(page)  # no rerun to come during the drag, and locate() points where the mouse lands
    renders = page.evaluate("window.__latentPlane.renders")
    start = page.evaluate("window.__latentPlane.locate(-1.5, -1)")
    end = page.evaluate("window.__latentPlane.locate(2, 1.5)")
    sent_before = len(page.sent)
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    images = []
    for t in np.linspace(0, 1, 20):
        page.mouse.move(start["x"] + t * (end["x"] - start["x"]), start["y"] + t * (end["y"] - start["y"]))
        page.evaluate(FRAME)
        images.append(digit(page))
    page.screenshot(path=str(SHOTS / "dragging-16d.png"))
    assert len(page.sent) == sent_before, "the page talked to the server during the drag"
    assert page.evaluate("window.__latentPlane.renders") == renders
    assert len({im.tobytes() for im in images}) >= 12, "the digit changes along the drag"
    # the page decoded z = o + u e1 + v e2 with o the slice through the ★: the same as PyTorch's decode
    z_page = np.array(page.evaluate("window.__latentPlane.zFull"))
    u, v = page.evaluate("window.__latentPlane.z")
    assert analysis.to_plane(z_page[None], plane)[0] == pytest.approx([u, v], abs=1e-6)
    assert (u, v) == pytest.approx((2.0, 1.5), abs=0.05)
    assert np.abs(images[-1].astype(int) - torch_digit(mlp16, z_page.tolist()).astype(int)).max() <= 1
    page.mouse.up()
    release = page.evaluate("window.__latentPlane.triggers.at(-1)")
    assert release["event"] == "release" and len(release["value"]["z"]) == 16
    assert release["value"]["z"] == pytest.approx(z_page.tolist(), abs=0.01)  # (u, v) rounded to 0.01 on release
    page.wait_for_function(f"window.__latentPlane.renders > {renders}", timeout=60_000)
    z = release["value"]["z"]
    page.wait_for_function("() => new URLSearchParams(location.search).has('z')")
    assert url_z(page) == pytest.approx(z, abs=0.006), "Python holds every coordinate of the released z"
    # the page's 16 sliders: by KL, each named with it, the 3 inactive ones folded under one line
    assert page.locator(".lp-sliders > .lp-slider").count() == 13
    inactive = page.locator(".lp-inactive .lp-slider")
    assert inactive.count() == 3 and not inactive.first.is_visible()
    assert page.locator(".lp-inactive-title").inner_text() == "3 inactive dimensions (KL \u2248 0)"
    assert re.fullmatch(r"z\d+ · KL \d+\.\d\d", page.locator(".lp-slider-name").first.inner_text())
    close(ctx, page)


def test_a_coordinate_plane_changes_the_dots(browser, app_url):
    ctx, page = open_page(browser, app_url)
    before = page.evaluate("window.__latentPlane.pointsKey")
    page.locator(".st-key-explore_plane_kind").get_by_text("Coordinates", exact=True).click()
    page.wait_for_function(f"window.__latentPlane.pointsKey && window.__latentPlane.pointsKey !== '{before}'",
                           timeout=60_000)
    axes = page.evaluate("window.__latentPlane.axes")
    assert all(re.fullmatch(r"z\d+", a) for a in axes) and axes[0] != axes[1]
    assert page.evaluate("window.__latentPlane.caption").startswith(f"Coordinate plane: {axes[0]}–{axes[1]}")
    page.wait_for_function("window.__latentPlane.pointsDrawn > 1000")
    assert f"pl={axes[0][1:]}%2C{axes[1][1:]}" in page.url or f"pl={axes[0][1:]},{axes[1][1:]}" in page.url
    close(ctx, page)


def test_traversals_and_dimensions_tabs(browser, app_url):
    ctx, page = open_page(browser, app_url)
    page.get_by_role("tab", name="Traversals").click()
    page.get_by_text(re.compile(r"Each row sweeps one dimension")).wait_for(timeout=60_000)
    assert page.get_by_text(re.compile(r"^z\d+\s*KL \d+\.\d\d$")).count() == 8, "8 rows by default"
    page.get_by_text(re.compile(r"Each row sweeps one dimension")).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "traversals-16d.png"))
    page.get_by_role("tab", name="Dimensions").click()
    page.get_by_text("13 of 16").wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"3 of its 16 dimensions are inactive")).wait_for()
    page.get_by_text(re.compile(r"3 of its 16 dimensions are inactive")).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "dimensions-16d.png"))
    close(ctx, page)


@pytest.mark.parametrize("viewport", [(1280, 720), (1920, 1080)])
def test_a_plane_link_reloads_and_a_bad_one_is_refused(browser, app_url, viewport):
    ctx, page = open_page(browser, app_url, "&pl=3,5", viewport)
    assert page.evaluate("window.__latentPlane.axes") == ["z3", "z5"]
    page.screenshot(path=str(SHOTS / f"plane-16d-{viewport[0]}x{viewport[1]}.png"))
    close(ctx, page)
    ctx, page = open_page(browser, app_url, "&pl=3,3", viewport)
    page.get_by_text("Ignored link parameters that do not fit this model: pl.").wait_for(timeout=30_000)
    assert page.evaluate("window.__latentPlane.axes") == ["PC1", "PC2"]
    close(ctx, page)


@pytest.mark.parametrize("viewport", [(1280, 720), (1920, 1080)])
def test_the_plane_s_caption_fits_its_map_in_presenter_mode(browser, app_url, viewport):
    """Presenter mode's larger type on the narrower map of a 1280 px projector: the caption drops its kind, then
    takes smaller type (never under 10 px), and is never clipped by the map's edge."""
    ctx, page = open_page(browser, app_url, "&pr=1", viewport=viewport)
    page.wait_for_function("window.__latentPlane.remeasured >= 2 && window.__latentPlane.captionDrawn")
    drawn = page.evaluate("window.__latentPlane.captionDrawn")
    assert drawn["width"] <= drawn["room"] and drawn["px"] >= 10, drawn
    assert re.fullmatch(r"(PCA plane: )?PC1–PC2, \d+% of the variance", drawn["text"]), drawn
    if viewport[0] == 1920:
        assert drawn["text"].startswith("PCA plane: ") and drawn["px"] == 15, drawn  # room enough: as it was
    assert not page.errors
    ctx.close()
