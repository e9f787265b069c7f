"""The latent plane, the drawing pad and the uploader in a real browser (see conftest.py).

The central check: while the pointer drags across the plane the image changes frame by frame, and not one
message goes from the page to the Python server (no rerun); after the release the sliders move to where the
drag ended, and the page's image equals PyTorch's decode of that z.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vae_core import load_checkpoint  # noqa: E402
from .conftest import SHOTS, digit, torch_digit  # noqa: E402


@pytest.fixture(scope="module")
def mlp():
    model, _ = load_checkpoint(ROOT / "pretrained" / "mnist-mlp")
    return model


def count_sent_frames(page) -> list:
    """A list that grows by one for every WebSocket message the page sends to the server (reruns included)."""
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(f)))
    return sent


def slider_value(page, name: str) -> float:
    return float(page.get_by_role("slider", name=name).input_value())


def test_dragging_decodes_in_the_page_and_the_release_moves_the_sliders(browser, app_url, mlp):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1200})
    page = ctx.new_page()
    sent = count_sent_frames(page)  # listen before the page opens its WebSocket
    page.goto(app_url)
    page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=90_000)
    page.wait_for_timeout(500)
    renders = page.evaluate("window.__latentPlane.renders")
    start = page.evaluate("window.__latentPlane.locate(-2, -2)")
    end = page.evaluate("window.__latentPlane.locate(2.5, 2)")
    frames_before, sent_before = page.evaluate("window.__latentPlane.frames.length"), len(sent)

    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    images = []
    for t in np.linspace(0, 1, 25):
        page.mouse.move(start["x"] + t * (end["x"] - start["x"]), start["y"] + t * (end["y"] - start["y"]))
        page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        images.append(digit(page))
    page.screenshot(path=str(SHOTS / "dragging.png"))
    assert page.evaluate("window.__latentPlane.mode") == "drag"
    # no Python in the loop: nothing sent to the server, no new data from it
    assert len(sent) == sent_before, "the page talked to the server during the drag"
    assert page.evaluate("window.__latentPlane.renders") == renders
    assert page.evaluate("window.__latentPlane.frames.length") - frames_before >= 20
    distinct = {im.tobytes() for im in images}
    assert len(distinct) >= 15, "the drawn digit should change as the pointer moves"
    assert np.abs(images[0].astype(int) - images[-1].astype(int)).max() > 100

    page.mouse.up()
    release = page.evaluate("window.__latentPlane.triggers.at(-1)")
    assert release["event"] == "release"
    z = release["value"]["z"]
    assert z == pytest.approx([2.5, 2.0], abs=0.05)
    for _ in range(300):  # the rerun: the sliders move to the released z
        if (slider_value(page, "z1"), slider_value(page, "z2")) == pytest.approx(tuple(z)):
            break
        page.wait_for_timeout(100)
    assert (slider_value(page, "z1"), slider_value(page, "z2")) == pytest.approx(tuple(z))
    assert len(sent) > sent_before, "the release went to Python"
    page.wait_for_function(f"window.__latentPlane.renders > {renders}")
    page.get_by_text(re.compile(rf"decoder output at z = \({z[0]:.2f}, {z[1]:.2f}\)")).wait_for(timeout=30_000)
    page.mouse.move(5, 5)  # off the plane: the image shows the ★ again
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    shown = digit(page)
    assert np.abs(shown.astype(int) - torch_digit(mlp, z).astype(int)).max() <= 1, "browser and PyTorch disagree"
    page.screenshot(path=str(SHOTS / "released.png"))
    ctx.close()


def test_hovering_decodes_and_clicking_a_dot_picks_it(page, mlp):
    before = digit(page)
    target = page.evaluate("window.__latentPlane.locate(-1.5, 0.5)")
    page.mouse.move(target["x"], target["y"])
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page.evaluate("window.__latentPlane.mode") == "hover"
    hovered = digit(page)
    assert not np.array_equal(before, hovered)
    # find a dot: walk a small spiral until the readout names one, then click it
    found = None
    for r in np.linspace(0, 40, 41):
        a = r * 0.7
        page.mouse.move(target["x"] + r * np.cos(a), target["y"] + r * np.sin(a))
        text = page.locator(".lp-readout-near").inner_text()
        if text.startswith("dot: test image #"):
            found = int(re.search(r"#(\d+)", text).group(1))
            break
    assert found is not None, "no dot near (-1.5, 0.5) on the map"
    page.mouse.down()
    page.mouse.up()
    page.get_by_text(re.compile(rf"test image #{found} \(")).first.wait_for(timeout=30_000)
    assert page.evaluate("window.__latentPlane.triggers.at(-1)")["value"] == {"index": found}


def draw_stroke(page, points):
    pad = page.locator("canvas.dp-canvas")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


def test_drawing_a_digit_encodes_it(page):
    pad = page.locator("canvas.dp-canvas")
    pad.scroll_into_view_if_needed()
    # a "1": one vertical stroke
    draw_stroke(page, [(140, 50), (140, 120), (140, 190), (140, 240)])
    page.get_by_text("your drawing, as the model sees it").wait_for(timeout=30_000)
    page.get_by_text("your digit's reconstruction at μ").wait_for()
    page.locator("text=μ = (").last.wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "own-digit.png"), full_page=True)
    own = page.locator('[data-testid="stImage"]').filter(has_text="as the model sees it")
    own.scroll_into_view_if_needed()
    own.screenshot(path=str(SHOTS / "own-digit-input.png"))
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("The canvas is empty").wait_for(timeout=30_000)


def png_bytes(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(arr, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def upload(page, name: str, data: bytes, mime: str = "image/png"):
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_uploads_good_and_bad(page):
    from tests.test_drawing import big_png

    ring = np.zeros((280, 280), np.uint8)
    yy, xx = np.mgrid[:280, :280]
    ring[np.abs(np.hypot(yy - 140, xx - 140) - 80) <= 10] = 255
    good = png_bytes(255 - ring)  # dark ink on white paper
    page.locator('[data-testid="stFileUploader"]').scroll_into_view_if_needed()
    upload(page, "zero.png", good)
    page.get_by_text("zero.png, as the model sees it").wait_for(timeout=30_000)

    cases = [
        ("dot.png", png_bytes([[255]]), "only 1 × 1 pixels"),
        ("huge.png", big_png(10_000, 10_000), "10,000 × 10,000"),
        ("notes.png", b"this is not a picture\n" * 50, "not a picture"),
        ("broken.png", good[:300], "damaged"),
    ]
    for name, data, message in cases:
        upload(page, name, data)
        alert = page.locator('[data-testid="stAlert"]').filter(has_text=name)
        alert.wait_for(timeout=30_000)
        assert message in alert.inner_text()
    # over the limit: the uploader refuses it in the page, before it reaches Python
    upload(page, "big.png", b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20))
    page.get_by_text(re.compile(r"(File must be|larger than|exceeds).*2", re.I)).first.wait_for(timeout=30_000)
    page.locator('[data-testid="stFileUploader"]').screenshot(path=str(SHOTS / "upload-too-big.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.evaluate("window.__latentPlane.ready")
