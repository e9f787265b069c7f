"""The class's layers on the lecturer's Plotly map, in a real Chromium: a drawing in the class store (as a student's
Send puts it there) is a dot at its code on the Plotly map, with its reconstruction on hover; a revealed poll's
guesses are a heat map beside the true code. (tests/e2e/test_classroom_browser.py walks the same on the Live map.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.class_store import open_store
from vae_core import load_checkpoint
from vae_core.data import load_dataset

from .conftest import ROOT, SHOTS, close, run_done, running_app, url_param

WAIT_MS = 60_000  # a loaded machine (2 cores, shared) gets slack
SCATTER = ".st-key-explore_scatter .js-plotly-plot"
PM = "window.__plotlyMap"
DOTS = f"""() => {{
  const t = document.querySelector('{SCATTER}')?._fullData?.find((t) => t.name === "the class's drawings");
  return t ? [Array.from(t.x), Array.from(t.y)] : null;
}}"""
# viewport pixels of a latent point, from Plotly's own axis mapping
TO_PX = f"""([x, y]) => {{
  const g = document.querySelector('{SCATTER}'), xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
  const r = g.getBoundingClientRect();
  return [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
}}"""


@pytest.fixture(scope="module")
def class_app(chromium, tmp_path_factory):
    spec = f"sqlite:///{tmp_path_factory.mktemp('class') / 'class.sqlite3'}"
    with running_app(env={"CLASS_STORE": spec}) as url:
        yield url, open_store({"CLASS_STORE": spec})


def test_the_class_s_drawings_and_a_poll_s_guesses_show_on_the_lecturer_s_plotly_map(browser, class_app):
    url, store = class_app
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    lect = ctx.new_page()
    lect.errors = []
    lect.on("pageerror", lambda e: lect.errors.append(str(e)))
    lect.goto(f"{url}/?class=new&map=plotly")
    lect.wait_for_function("() => /[?&]key=/.test(location.search)", timeout=WAIT_MS)
    lect.wait_for_function(f"() => {PM} && {PM}.ready && {PM}.points === 10000", timeout=90_000)
    room, key = url_param(lect, "class"), url_param(lect, "key")

    # a drawing of a 7: the model's μ of it, its image and its reconstruction, as a student's Send stores them
    model, _ = load_checkpoint(ROOT / "pretrained" / "mnist-mlp")
    test = load_dataset("mnist")
    i = int(np.flatnonzero(test.test_labels.numpy() == 7)[0])
    # drawn a little to the right of the test image: its code is not on that image's own dot (the pointer on two
    # points at one place shows one of them)
    x = torch.roll(test.test_images[i].float(), 3, dims=1).reshape(1, 1, 28, 28) / 255.0
    with torch.no_grad():
        mu = model.encode(x)[0][0]
        recon = (model.decode(mu[None])[0, 0].numpy() * 255).round().astype(np.uint8).tobytes()
    image = (x[0, 0].numpy() * 255).round().astype(np.uint8).tobytes()
    store.add_drawing(room, "student-one", "7", "pretrained/mnist-mlp", mu.tolist(), image, recon)

    lect.wait_for_function(f"() => {PM}.classDots && {PM}.classDots.n === 1", timeout=WAIT_MS)
    xs, ys = lect.evaluate(DOTS)
    assert (xs[0], ys[0]) == pytest.approx(mu.tolist(), abs=1e-3), "the dot is at the drawing's code"
    run_done(lect)
    px, py = lect.evaluate(TO_PX, [xs[0], ys[0]])
    assert 0 < px < 1600 and 0 < py < 1000, (px, py)
    lect.mouse.move(px, py)
    lect.wait_for_function(f"() => {PM}.classHover === 0", timeout=WAIT_MS)
    shown = lect.evaluate("""() => {
      const c = document.querySelector('.pm-class-tip canvas');
      return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, k) => k % 4 === 0));
    }""")
    assert bytes(shown) == recon, "the hover shows the reconstruction, not the drawing"
    assert lect.locator(".pm-class-tip").inner_text() == "asked: 7"
    lect.mouse.move(0, 0)
    lect.wait_for_function(f"() => {PM}.classHover === null", timeout=WAIT_MS)

    # a poll on test image 0, two guesses, revealed: the heat map and the true μ on the Plotly map
    store.ask(room, key, {"kind": "poll", "poll": 1, "image": 0})
    for n, (gx, gy) in enumerate([(1.0, -1.0), (1.2, -0.8)]):
        store.add_guess(room, f"student-{n}", 1, gx, gy)
    lect.get_by_role("button", name="Poll", exact=True).click()
    lect.locator(".st-key-class_reveal label").click()
    lect.keyboard.press("Escape")
    lect.wait_for_function(f"() => {PM}.heat && {PM}.heat.count === 2", timeout=WAIT_MS)
    names = lect.evaluate(f"() => document.querySelector('{SCATTER}')._fullData.map((t) => t.name)")
    assert "true μ" in names, names
    # the density over the guesses: on the plot, around them (x from 1.0 to 1.2, y from -1.0 to -0.8)
    left, top, width, height = lect.evaluate(f"{PM}.heat.px")
    (ax, ay), (bx, by) = lect.evaluate(TO_PX, [1.0, -1.0]), lect.evaluate(TO_PX, [1.2, -0.8])
    assert left < ax < bx < left + width and top < by < ay < top + height, (left, top, width, height, ax, ay)
    SHOTS.mkdir(parents=True, exist_ok=True)
    lect.locator(SCATTER).screenshot(path=str(SHOTS / "class_plotly_lecturer.png"))
    close(ctx, lect)  # and no JavaScript error on the page
