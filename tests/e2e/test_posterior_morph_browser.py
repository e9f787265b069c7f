"""Explore's views in a real browser: posterior samples on the live plane, the morph's path and its player.

The positions come from the page itself (window.__latentPlane: where the plane drew each sample and each frame
of the path, and its own mapping from latent to screen); the colours from a screenshot, so what is checked is
what a student sees.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import SHOTS

ROOT = Path(__file__).resolve().parents[2]
READY = "window.__latentPlane && window.__latentPlane.ready"
SAMPLE_RGB = (0xD6, 0x27, 0x28)  # scene.PICK_COLOR: the pick's samples
FRAME_RGB = (0xFF, 0x7F, 0x0E)  # scene.FRAME_COLOR: the ring on the frame shown


def open_app(browser, app_url: str, query: str, width: int, height: int):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_url}/?{query}")
    page.wait_for_function(READY, timeout=90_000)
    page.errors = errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    return ctx, page


def screen(page) -> Image.Image:
    return Image.open(io.BytesIO(page.screenshot())).convert("RGB")


def drawn(page, layer: str) -> np.ndarray:
    """Where the plane drew a layer's points, in viewport px now (it records them in its canvas's px)."""
    px, r = page.evaluate(f"[window.__latentPlane.{layer}.px, window.__latentPlane.canvasRect()]")
    return np.array(px, dtype=float) + [r["left"], r["top"]]


def near(rgb, target, tol=40) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(rgb, target))


def posterior_of(index: int):
    from vae_core import load_checkpoint, load_dataset

    model, _ = load_checkpoint(ROOT / "pretrained" / "mnist-mlp")
    x = load_dataset("mnist").test_images[index : index + 1].float().div(255).unsqueeze(1)
    with torch.no_grad():
        mu, logvar = model.encode(x)
    return mu[0].numpy(), torch.exp(0.5 * logvar[0]).numpy()


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_the_samples_appear_on_the_live_plane_inside_the_ellipse(browser, app_url, width, height):
    from dashboard.explore.posterior import draw

    ctx, page = open_app(browser, app_url, "p=7&po=pick&pk=64", width, height)
    page.wait_for_function("window.__latentPlane.samples && window.__latentPlane.samples.n === 64", timeout=60_000)
    page.locator(".st-key-explore_post_zoom_pick button").first.click()
    page.wait_for_function("window.__latentPlane.view.half < 0.6", timeout=60_000)
    page.locator(".st-key-explore_plane").scroll_into_view_if_needed()
    mu, sigma = posterior_of(7)
    zs = draw(mu, sigma, 64, 0)
    # the frame after the zoom has drawn: the first sample is where the plane's own mapping puts it
    page.wait_for_function("""([x, y]) => { const S = window.__latentPlane, p = S.locate(x, y), r = S.canvasRect();
        const q = S.samples && S.samples.px[0];
        return q && Math.abs(r.left + q[0] - p.x) < 1 && Math.abs(r.top + q[1] - p.y) < 1; }""",
                           arg=[float(zs[0, 0]), float(zs[0, 1])], timeout=30_000)
    centre = page.evaluate("([x, y]) => window.__latentPlane.locate(x, y)", [float(mu[0]), float(mu[1])])
    edge = page.evaluate("([x, y]) => window.__latentPlane.locate(x, y)",
                         [float(mu[0] + 2 * sigma[0]), float(mu[1] + 2 * sigma[1])])
    rx, ry = abs(edge["x"] - centre["x"]), abs(edge["y"] - centre["y"])
    assert min(rx, ry) > 30, "zoomed in, the 2σ ellipse is wider than the ★"
    pts = drawn(page, "samples")
    inside = (((pts[:, 0] - centre["x"]) / rx) ** 2 + ((pts[:, 1] - centre["y"]) / ry) ** 2) <= 1
    expected = (((zs - mu) / (2 * sigma)) ** 2).sum(1) <= 1  # the same draws, in latent space
    assert inside.sum() == expected.sum() > 40, (inside.sum(), expected.sum())
    shot = screen(page)
    clear = [p for p in pts if np.hypot(p[0] - centre["x"], p[1] - centre["y"]) > 25
             and np.min([np.hypot(*(p - q)) or np.inf for q in pts]) > 8]
    assert clear, "a sample stands clear of the ★ and of the other samples"
    assert all(near(shot.getpixel((int(round(x)), int(round(y)))), SAMPLE_RGB) for x, y in clear[:5])
    page.screenshot(path=str(SHOTS / f"posterior-samples-{width}x{height}.png"))
    assert not page.errors
    ctx.close()


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_morph_play_advances_frames_and_the_scrubber_marks_the_path(browser, app_url, width, height):
    ctx, page = open_app(browser, app_url, "p=7,42&sub=morph&mm=slerp", width, height)
    page.wait_for_function("window.__latentPlane.path && window.__latentPlane.path.n === 12", timeout=60_000)
    assert page.evaluate("window.__latentPlane.path.frame") == 0
    page.locator(".st-key-explore_morph_play button").first.click()
    page.wait_for_function("window.__latentPlane.path && window.__latentPlane.path.frame >= 3", timeout=60_000)
    page.get_by_text("· frame 12 of 12").first.wait_for(timeout=60_000)  # it plays to the end, then stops
    # the map takes the same run's frame a moment after the caption shows it
    page.wait_for_function("window.__latentPlane.path.frame === 11", timeout=60_000)
    thumb = page.locator(".st-key-explore_morph_frame_widget input[type=range]").first
    thumb.focus()
    for _ in range(7):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("window.__latentPlane.path && window.__latentPlane.path.frame === 4", timeout=60_000)
    page.get_by_text("· frame 5 of 12").first.wait_for(timeout=60_000)
    page.locator(".st-key-explore_plane").scroll_into_view_if_needed()
    x, y = drawn(page, "path")[4]
    shot = screen(page)
    ring = [shot.getpixel((int(round(x + dx)), int(round(y + dy)))) for dx, dy in ((8, 0), (-8, 0), (0, 8), (0, -8))]
    assert sum(near(p, FRAME_RGB, 60) for p in ring) >= 2, ring
    page.screenshot(path=str(SHOTS / f"morph-path-{width}x{height}.png"))
    assert not page.errors
    ctx.close()


def test_the_morph_path_from_a_1_to_a_7_stands_out_on_the_black_7s(browser, app_url):
    """The lecture's morph from a 1 (test image #2) to a 7 (#0) ends in the 7s, whose dots are black: along the path
    the screen shows the dark line with a white casing at least 3 px wide on each side of it."""
    ctx, page = open_app(browser, app_url, "p=2,0&sub=morph", 1600, 1000)
    page.wait_for_function("window.__latentPlane.path && window.__latentPlane.path.n === 12", timeout=60_000)
    page.locator(".st-key-explore_plane").scroll_into_view_if_needed()
    page.wait_for_function("window.__latentPlane.ready", timeout=30_000)
    pts = drawn(page, "path")
    grey = np.asarray(screen(page).convert("L"), dtype=float)
    checked = 0
    for a, b in zip(pts[2:9], pts[3:10]):  # clear of the ends' rings, labels and the ★
        m, t = (a + b) / 2, b - a
        if np.hypot(*t) < 8:
            continue
        n = np.array([-t[1], t[0]]) / np.hypot(*t)
        def at(s, m=m, n=n):  # the grey level s px across the path from its segment's middle
            return grey[int(round(m[1] + s * n[1])), int(round(m[0] + s * n[0]))]
        assert min(at(s) for s in (-0.5, 0, 0.5)) < 90, "the dark line"
        assert at(3) > 235 and at(-3) > 235, ("a white casing on both sides", at(3), at(-3))
        checked += 1
    assert checked >= 4, "the path is long enough on the screen to see"
    page.screenshot(path=str(SHOTS / "morph-1-to-7.png"))
    assert not page.errors
    ctx.close()
