"""The parts of a lecture not covered by the other browser tests: two picks and a morph whose GIF is
downloaded, the manifold drawn under the map, and switching to another model in the sidebar.

Screenshots go to test-output/screenshots/ (the README and docs/lecture.md use them).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from .conftest import SHOTS, run_done, url_z  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def pick_by_number(page, index: int) -> None:
    box = page.get_by_role("spinbutton", name="Test image #").first
    box.fill(str(index))
    box.press("Enter")
    page.get_by_role("button", name="Pick", exact=True).click()
    page.get_by_text(f"test image #{index} (").wait_for(timeout=30_000)



def test_two_picks_make_a_morph_whose_gif_downloads(page):
    pick_by_number(page, 3)  # test image #3 is a 0
    pick_by_number(page, 2)  # test image #2 is a 1
    page.wait_for_function("() => new URLSearchParams(location.search).get('p') === '3,2'", timeout=30_000)
    assert url_z(page) not in (None, [0.0, 0.0]), "the ★ went to the pick"

    page.get_by_role("tab", name="Morph").click()
    page.get_by_text("test image #3 → #2").first.wait_for(timeout=30_000)
    steps = int(page.get_by_role("slider", name="Steps").input_value())
    page.get_by_text("test image #3 → #2").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "morph.png"))

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download GIF").click()
    gif = Path(info.value.path()).read_bytes()
    assert gif[:6] == b"GIF89a"
    frames = Image.open(io.BytesIO(gif)).n_frames
    assert frames == steps, f"the GIF has {frames} frames for {steps} steps"

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download strip (PNG)").click()
    strip = Image.open(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert strip.format == "PNG" and strip.width > strip.height


def test_manifold_under_the_points(page):
    page.locator(".st-key-explore_bg").get_by_text("Manifold", exact=True).click()
    page.wait_for_function("window.__latentPlane && window.__latentPlane.background", timeout=30_000)
    run_done(page)  # the grid under the points is drawn, and the rest of the run's page is there
    page.screenshot(path=str(SHOTS / "manifold-under-points.png"))


def test_switching_to_the_conv_model(page):
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("combobox").first.click()
    page.get_by_role("option", name="mnist-conv").first.click()
    sidebar.get_by_text("conv, latent dim 2").wait_for(timeout=60_000)
    # The page's decoder is replaced by the conv one (the plane reports which decoder it runs).
    page.wait_for_function(
        "window.__latentPlane && window.__latentPlane.ready && window.__latentPlane.decoderKind === 'conv'",
        timeout=60_000)
    page.screenshot(path=str(SHOTS / "conv-model.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
