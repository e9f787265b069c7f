"""Dragging through the latent plane: the page's own decoder against a round trip to Python.

    python bench/drag_fps.py                       # starts the app on a free port, mnist-mlp, headless Chromium
    python bench/drag_fps.py --model mnist-conv    # another model from pretrained/
    python bench/drag_fps.py --model mnist16-mlp --no-server   # d = 16: the drag decodes on the PCA plane
    python bench/drag_fps.py --url http://localhost:8501 --moves 300 --server-samples 20

What it measures, in headless Chromium driven by Playwright (the timings come from the page's own
performance.now(), not from Playwright):

browser path  Playwright holds the mouse button down on the plane and dispatches --moves pointer moves
              along a Lissajous curve over the plane, --rate a second (125, a USB mouse's polling rate),
              without waiting for each to be handled, so they come faster than the screen refreshes.
              The component decodes z -> 28 x 28 and redraws the plane's overlay and the image once per
              animation frame, and times that work: "decode + draw" is from the start of the frame's
              callback to the end of its drawing (window.__latentPlane.frames). "delivered" is the rate of
              those frames while dragging (from their start times): at most the display's 60 Hz.
keyboard      the plane gets focus and --keys arrow presses (Right, Up, Left, Down in turn: 0.1 each) go to it,
              each awaited and followed by two animation frames, like a held key's repeat (~30/s); every
              press is decoded and drawn in the page with no trigger, and the decode + draw of the frames
              the keys caused (window.__latentPlane.frameCauses == "key") is reported.
in-page slider the z1 range input of the side panel is dragged by the mouse (--slider-moves moves at --rate a
              second): every input event decodes and draws in the page; frames caused by "slider". The
              app shows these sliders only when Python sends data.sliders; when the app under test does
              not, they are measured on a small app that mounts the component alone with sliders on (the
              same model, the same decoder.js and plane.js).
server path   the classic Streamlit way, beside the Plotly map: the z1 slider gets focus and the keyboard
              moves it one step (ArrowRight / ArrowLeft alternately); Streamlit reruns the fragment and
              PyTorch decodes on the server. Timed from the keydown (a capturing listener) to the new server
              image being decoded by the browser and the next animation frame after it (a MutationObserver on
              its src).

For a model with d > 2 the map is the test codes' PCA plane: the page decodes z = o + u e1 + v e2 with the
plane folded into the decoder's first layer (decoder.js setPlane / decodePlane), and the script also prints
the time of what the app computes once per model for that map (latent analysis: PCA, KL per dimension,
active units, the codes on the plane; dashboard/model/caches.py latent_analysis and map_points).

Chromium is started with --headless --no-sandbox --disable-gpu --disable-background-networking, so the
2-D canvas is drawn by the CPU. Other load on the machine distorts the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cold_start  # bench/ is on sys.path when a script in it runs
from cold_start import CHROMIUM_ARGS, App, chromium_path, percentile

ROOT = Path(__file__).resolve().parent.parent

SERVER_PROBE = """() => {
  const probe = (window.__serverPath = { t0: null, results: [], lastSrc: null });
  const serverImg = () => [...document.querySelectorAll('[data-testid="stImage"]')]
      .find((e) => e.textContent.includes('decoder output at z'))?.querySelector('img');
  probe.lastSrc = serverImg()?.src;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') probe.t0 = performance.now();
  }, true);
  new MutationObserver(() => {
    const img = serverImg();
    if (!img || img.src === probe.lastSrc || probe.t0 === null) return;
    probe.lastSrc = img.src;
    const t0 = probe.t0;
    probe.t0 = null;
    img.decode().catch(() => {}).then(() => requestAnimationFrame(() => probe.results.push(performance.now() - t0)));
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
}"""


def start_app(model: str) -> App:
    """The app on a free port, with a pretrained/ holding only `model` (so it is the one shown)."""
    src = ROOT / "pretrained" / model
    if not (src / "model.safetensors").is_file():
        sys.exit(f"no checkpoint at {src}")
    tmp = Path(tempfile.mkdtemp(prefix="drag-fps-"))
    # a copy, not a link: the model list never follows links out of pretrained/
    shutil.copytree(src, tmp / "pretrained" / model)
    return healthy(cold_start.start_app({"LATENT_EXPLORER_PRETRAINED_DIR": str(tmp / "pretrained")}, tmp=tmp))


def healthy(app: App) -> App:
    """The app once it answers; stopped and its folder removed when it does not."""
    try:
        app.wait_healthy()
    except BaseException:
        app.cleanup()
        raise
    return app


async def measure_drag(page, moves: int, rate: float) -> dict:
    """Hold the button and send `moves` pointer moves at `rate` per second (like a mouse, whose USB polling is
    125 Hz or more), without waiting for each to be handled: the page gets them faster than it draws frames."""
    await page.evaluate("() => { const s = window.__latentPlane; s.frames.length = 0; s.frameStarts.length = 0; }")
    c = await page.evaluate("window.__latentPlane.locate(0, 0)")
    edge = await page.evaluate("window.__latentPlane.locate(3, 3)")
    rx, ry = edge["x"] - c["x"], edge["y"] - c["y"]
    await page.mouse.move(c["x"], c["y"])
    await page.mouse.down()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    pending = []
    for i in range(moves):
        t = 2 * math.pi * i / moves
        x, y = c["x"] + rx * math.sin(3 * t), c["y"] + ry * math.sin(2 * t)
        pending.append(asyncio.ensure_future(page.mouse.move(x, y)))
        await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - loop.time()))
    await asyncio.gather(*pending)
    wall = loop.time() - t0
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    frames = await page.evaluate("window.__latentPlane.frames.slice()")
    starts = await page.evaluate("window.__latentPlane.frameStarts.slice()")
    await page.mouse.up()
    intervals = [b - a for a, b in zip(starts, starts[1:])]
    return {
        "frames": len(frames), "moves": moves, "moves_per_second": moves / wall, "drag_seconds": wall,
        "median_ms": statistics.median(frames), "p95_ms": percentile(frames, 0.95), "max_ms": max(frames),
        "median_interval_ms": statistics.median(intervals) if intervals else math.nan,
        "delivered_fps": (len(starts) - 1) / ((starts[-1] - starts[0]) / 1000) if len(starts) > 1 else math.nan,
    }


def summary(frames: list[float]) -> dict:
    if not frames:
        return {"frames": 0, "median_ms": math.nan, "p95_ms": math.nan, "max_ms": math.nan}
    return {"frames": len(frames), "median_ms": statistics.median(frames), "p95_ms": percentile(frames, 0.95),
            "max_ms": max(frames)}


async def frames_caused_by(page, cause: str, since: int) -> list[float]:
    return await page.evaluate(
        f"(() => {{ const s = window.__latentPlane; "
        f"return s.frames.filter((_, i) => i >= {since} && s.frameCauses[i] === '{cause}'); }})()")


async def measure_keys(page, keys: int) -> dict:
    """Arrow presses on the focused plane, each decoded and drawn in the page (no trigger until the pause)."""
    await page.evaluate("window.__latentPlane.nudgePauseMs = 60000")  # one gesture: no release mid-measure
    await page.locator("canvas.lp-overlay").focus()
    since = await page.evaluate("window.__latentPlane.frames.length")
    triggers = await page.evaluate("window.__latentPlane.triggers.length")
    for i in range(keys):
        await page.keyboard.press(("ArrowRight", "ArrowUp", "ArrowLeft", "ArrowDown")[i % 4])
        await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    frames = await frames_caused_by(page, "key", since)
    sent = await page.evaluate("window.__latentPlane.triggers.length") - triggers
    await page.evaluate("window.__latentPlane.nudgePauseMs = 0")
    await page.locator("canvas.lp-overlay").blur()  # the one release
    return {**summary(frames), "keys": keys, "triggers_during": sent}


async def measure_slider(page, moves: int, rate: float) -> dict:
    """Drag the in-page z1 slider: every input event decodes and draws in the page, no trigger until release."""
    box = await page.locator("input.lp-slider-input").first.bounding_box()
    y, x0, w = box["y"] + box["height"] / 2, box["x"] + 6, box["width"] - 12
    since = await page.evaluate("window.__latentPlane.frames.length")
    triggers = await page.evaluate("window.__latentPlane.triggers.length")
    await page.mouse.move(x0 + w / 2, y)
    await page.mouse.down()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    pending = []
    for i in range(moves):
        x = x0 + w * (0.5 + 0.45 * math.sin(2 * math.pi * i / 150))
        pending.append(asyncio.ensure_future(page.mouse.move(x, y)))
        await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - loop.time()))
    await asyncio.gather(*pending)
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    frames = await frames_caused_by(page, "slider", since)
    sent = await page.evaluate("window.__latentPlane.triggers.length") - triggers
    await page.mouse.up()
    return {**summary(frames), "moves": moves, "triggers_during": sent}


SLIDER_APP = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from dashboard import latent_plane as lp
from vae_core import load_checkpoint

@st.cache_resource
def model():
    return load_checkpoint({checkpoint!r})[0].eval()

st.set_page_config(layout="wide")
m = model()
d = m.cfg.latent_dim
lp.latent_plane("plane", dict(z=[0.0] * d, limit=3.0, view=dict(cx=0.0, cy=0.0, half=3.0, rev=0), sliders=True,
                axes=["z1", "z2"], classes=[], colors=["#1f77b4"], decoder="dec", points=None, background=None,
                marks=[], ellipses=[], note=None), dict(dec=lp.decoder_spec(m)))
"""


def start_slider_app(model: str) -> App:
    """A page with the component alone and its in-page sliders on, for when the app does not show them."""
    tmp = Path(tempfile.mkdtemp(prefix="drag-fps-sliders-"))
    script = tmp / "slider_app.py"
    script.write_text(SLIDER_APP.format(root=str(ROOT), checkpoint=str(ROOT / "pretrained" / model)))
    return healthy(cold_start.start_app(script=script, tmp=tmp))


async def measure_server(page, samples: int) -> dict:
    # Streamlit's z sliders and the server's image are beside the Plotly map (the Live map has its own sliders
    # and decodes in the page); for d > 2 the sliders come by KL, not z1 first
    await page.locator(".st-key-explore_map").get_by_text("Plotly", exact=True).click()
    slider = page.locator('[class*="st-key-explore_z"] input').first
    await slider.wait_for(timeout=60_000)
    await slider.scroll_into_view_if_needed()
    await slider.focus()
    await page.evaluate(SERVER_PROBE)
    for i in range(samples):
        await page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        await page.wait_for_function(f"window.__serverPath.results.length > {i}", timeout=60_000)
        await page.wait_for_timeout(150)  # let the rerun finish before the next key
    results = await page.evaluate("window.__serverPath.results.slice()")
    return {"samples": len(results), "median_ms": statistics.median(results), "p95_ms": percentile(results, 0.95),
            "max_ms": max(results)}


async def run(url: str, args) -> tuple[dict, dict, str]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1600, "height": 1200})
        await page.goto(url)
        await page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=180_000)
        await page.wait_for_timeout(1000)
        await measure_drag(page, args.warmup, args.rate)  # JIT warm-up; its release reruns the app
        await page.wait_for_timeout(3000)
        drag = await measure_drag(page, args.moves, args.rate)
        await page.wait_for_timeout(3000)
        await measure_keys(page, 20)  # warm-up
        keys = await measure_keys(page, args.keys)
        await page.wait_for_timeout(3000)
        slider, where = None, "the app"
        if await page.locator("input.lp-slider-input").count():
            await measure_slider(page, 40, args.rate)
            slider = await measure_slider(page, args.slider_moves, args.rate)
        server = None if args.no_server else await measure_server(page, args.server_samples)
        if slider is None and args.url is None:
            sliders_app = start_slider_app(args.model)
            try:
                spage = await browser.new_page(viewport={"width": 1600, "height": 1200})
                await spage.goto(sliders_app.url)
                await spage.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=180_000)
                await spage.locator("input.lp-slider-input").first.wait_for()
                await measure_slider(spage, 40, args.rate)
                slider, where = await measure_slider(spage, args.slider_moves, args.rate), "the component alone"
            finally:
                sliders_app.cleanup()
        version = browser.version
        await browser.close()
    return drag, keys, slider, where, server, version


def analysis_time(model: str, repeats: int = 7) -> dict:
    """What the app computes once per model for a d > 2 map (dashboard/model/caches.py latent_analysis + map_points):
    the PCA plane, KL per dimension and active units of the 10,000 test codes, and the codes on the plane. The
    encoding itself (the cached test_encodings) is not timed."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from dashboard.model import compute
    from vae_core import analysis, load_checkpoint, load_dataset

    vae, config = load_checkpoint(ROOT / "pretrained" / model)
    data = load_dataset((config.get("data") or {}).get("dataset", "mnist"), None)
    mu, sigma = compute.encode_images(vae, data.test_images)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        summary = analysis.summarize_codes(mu, 2.0 * np.log(np.maximum(sigma.astype(np.float64), 1e-30)))
        analysis.to_plane(mu, summary.plane)
        times.append((time.perf_counter() - t0) * 1000)
    return {"d": mu.shape[1], "n": len(mu), "median_ms": statistics.median(times), "best_ms": min(times),
            "active": summary.active, "share": float(summary.plane.total_ratio) if summary.plane else math.nan}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an app already running (it must show the model to measure); default: start one")
    ap.add_argument("--model", default="mnist-mlp", help="a folder of pretrained/ (when starting the app)")
    ap.add_argument("--moves", type=int, default=600, help="pointer moves in the drag")
    ap.add_argument("--rate", type=float, default=125.0, help="pointer moves per second (a USB mouse: 125)")
    ap.add_argument("--warmup", type=int, default=60, help="pointer moves before measuring")
    ap.add_argument("--keys", type=int, default=200, help="arrow key presses on the focused plane")
    ap.add_argument("--slider-moves", type=int, default=400, help="pointer moves dragging an in-page z slider")
    ap.add_argument("--server-samples", type=int, default=30, help="slider steps timed on the server path")
    ap.add_argument("--chromium", help="the Chromium binary (default /usr/bin/chromium)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--no-server", action="store_true", help="skip the server path (slow on a busy machine)")
    args = ap.parse_args()

    app = None if args.url else start_app(args.model)
    url = args.url or app.url
    try:
        drag, keys, slider, where, server, version = asyncio.run(run(url, args))
    finally:
        if app is not None:
            app.cleanup()

    print(f"latent plane drag, model {args.model if args.url is None else '(as served at ' + url + ')'}, "
          f"headless Chromium {version}, {os.cpu_count()} CPUs")
    print(f"browser path  decode + draw per frame: median {drag['median_ms']:.2f} ms, p95 {drag['p95_ms']:.2f} ms, "
          f"max {drag['max_ms']:.2f} ms over {drag['frames']} frames")
    print(f"              -> {1000 / drag['median_ms']:.0f} frames/s of decode + draw capacity at the median "
          f"({1000 / drag['p95_ms']:.0f} at p95)")
    print(f"              delivered while dragging: {drag['delivered_fps']:.1f} frames/s (median frame interval "
          f"{drag['median_interval_ms']:.1f} ms), from {drag['moves']} pointer moves at "
          f"{drag['moves_per_second']:.0f}/s, with no Python in the loop")
    print(f"keyboard      decode + draw per arrow key nudge: median {keys['median_ms']:.2f} ms, "
          f"p95 {keys['p95_ms']:.2f} ms, "
          f"max {keys['max_ms']:.2f} ms over {keys['frames']} frames from {keys['keys']} presses; "
          f"{keys['triggers_during']} triggers to Python during them")
    if slider is None:
        print("in-page slider not measured: the app at --url shows no in-page sliders (data.sliders is false)")
    else:
        print(f"in-page slider decode + draw per slider input: median {slider['median_ms']:.2f} ms, "
              f"p95 {slider['p95_ms']:.2f} ms, max {slider['max_ms']:.2f} ms over {slider['frames']} frames from "
              f"{slider['moves']} pointer moves ({where}); {slider['triggers_during']} triggers during the drag")
    if server is not None:
        print(f"server path   slider step -> new image on screen: median {server['median_ms']:.0f} ms, "
              f"p95 {server['p95_ms']:.0f} ms, max {server['max_ms']:.0f} ms over {server['samples']} steps "
              f"-> {1000 / server['median_ms']:.1f} images/s")
    plane = None
    if args.url is None:
        plane = analysis_time(args.model)
        if plane["d"] > 2:
            print(f"latent analysis (once per model, cached): PCA plane + KL per dimension + active units + the "
                  f"{plane['n']:,} codes on the plane, d = {plane['d']}: median {plane['median_ms']:.1f} ms, best "
                  f"{plane['best_ms']:.1f} ms; {plane['active']} active units, the plane shows "
                  f"{plane['share']:.0%} of the variance")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "chromium": version, "browser": drag, "keyboard": keys,
                                         "in_page_slider": slider, "server": server, "analysis": plane},
                                        indent=1) + "\n")


if __name__ == "__main__":
    main()
