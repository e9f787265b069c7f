"""The Train tab in a real browser: train on the quick preset, watch the curve grow, stop, save, explore the model.

This module starts its own Streamlit server with LATENT_EXPLORER_MODELS_DIR pointing at a temporary folder,
so the model saved here never lands in the repository's models/. Screenshots: test-output/screenshots/train-*.png.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vae_core import load_checkpoint  # noqa: E402

from .conftest import SHOTS, VIEWPORT, digit, frame, running_app, torch_digit  # noqa: E402

PLOTS_CLEAR = """(chart) => {
  // in one Plotly chart: overlapping x tick labels, and axis titles over a plot area or the legend
  const box = (e) => e.getBoundingClientRect();
  const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const out = [];
  for (const axis of ['xtick', 'x2tick']) {
    const ticks = [...chart.querySelectorAll(`g.${axis} text`)].map(box).filter((b) => b.width > 0);
    for (let i = 1; i < ticks.length; i++) if (meets(ticks[i - 1], ticks[i])) out.push(`${axis} ${i} overlaps`);
  }
  const plots = [...chart.querySelectorAll('.nsewdrag')].map(box);
  const legend = chart.querySelector('g.legend');
  for (const t of chart.querySelectorAll('.g-xtitle, .g-x2title, .g-ytitle, .g-y2title')) {
    if (!t.getBoundingClientRect().width) continue;
    if (plots.some((p) => meets(box(t), p))) out.push(`${t.getAttribute('class')} over a plot`);
    if (legend && meets(box(t), box(legend))) out.push(`${t.getAttribute('class')} over the legend`);
  }
  return out;
}"""

MODEL_NAME = "e2e-quick-demo"
HANG_MS = 120_000  # a wait for the page longer than this is a hang
STALL_S = 60  # wait_on_progress(): this long without a change of the progress bar's text is a hang
LOSS_TRACE = "train: recon + β·KL, the objective (per step, smoothed)"  # dashboard/train/figures.py's TRAIN_LOSS

# Points in the live loss trace shown on the page (-1 while there is none). Plotly keeps the decoded arrays
# in _fullData; `data` may still hold Plotly 6's typed-array form.
LIVE_LOSS_POINTS = f"""() => {{
  for (const el of document.querySelectorAll('.js-plotly-plot')) {{
    if (el.offsetParent === null) continue;
    const t = (el._fullData || []).find((t) => t.name === {json.dumps(LOSS_TRACE)});
    if (t) return t.x.length;
  }}
  return -1;
}}"""

@pytest.fixture(scope="module")
def train_app(chromium, tmp_path_factory):
    """(url, models folder) of a Streamlit server of our own that saves models into a temporary folder."""
    models_dir = tmp_path_factory.mktemp("user-models")
    # The training at nice 0, not the app's 19: on a loaded machine a nice-19 job gets almost no CPU, and this
    # test is about what the page shows, not about priorities (tests/test_training_job.py covers those).
    with running_app({"LATENT_EXPLORER_MODELS_DIR": str(models_dir), "VAE_TRAIN_NICE": "0"}) as url:
        yield url, models_dir


def live_loss_points(page) -> int:
    return page.evaluate(LIVE_LOSS_POINTS)


def progress_text(page) -> str:
    bar = page.locator('[data-testid="stProgress"]')
    return bar.first.inner_text() if bar.count() else ""


def wait_on_progress(page, done, what: str, stall_s: float = STALL_S) -> None:
    """Wait until done() is true, however long a loaded machine makes the training take, as long as it makes
    progress: the progress bar's epoch and step change. Fails after stall_s seconds without."""
    last, since = None, time.monotonic()
    while not done():
        text = progress_text(page)
        step = re.search(r"Epoch \d+/\d+ · step [\d,]+", text)  # not the elapsed time: that moves on its own
        mark = step.group(0) if step else text
        if mark != last:
            last, since = mark, time.monotonic()
        elif time.monotonic() - since > stall_s:
            raise AssertionError(f"no training progress for {stall_s:.0f} s while waiting for {what} ({text!r})")
        page.wait_for_timeout(250)


def wait_for_more_points(page, than: int) -> int:
    wait_on_progress(page, lambda: live_loss_points(page) > than, f"more than {than} points on the loss curve")
    return live_loss_points(page)


def selected(page, label: str) -> str:
    """The option shown by a Streamlit selectbox (a combobox whose input holds the chosen option's text)."""
    return page.get_by_role("combobox", name=label).input_value()


@pytest.fixture
def page(browser):
    """A fresh page (a new session); on a failure its last state is kept as train-failure.png."""
    ctx = browser.new_context(viewport=VIEWPORT)
    # A bound on a hang, not an expected wait: with two busy loops beside a training at nice 0, a rerun of the
    # page or a full-page screenshot (Playwright's default bound: 30 s) has taken longer.
    ctx.set_default_timeout(HANG_MS)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def test_train_stop_save_and_explore(page, train_app):
    url, models_dir = train_app
    try:
        train_stop_save_and_explore(page, url, models_dir)
    except BaseException:
        page.screenshot(path=str(SHOTS / "train-failure.png"), full_page=True)
        raise
    assert not page.errors, f"JavaScript errors on the page: {page.errors}"


def train_stop_save_and_explore(page, url: str, models_dir: Path) -> None:
    page.goto(url)
    page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=90_000)

    page.get_by_role("tab", name="Train").click()
    page.get_by_role("combobox", name="Preset").wait_for()
    assert selected(page, "Preset").startswith("Quick demo")
    assert selected(page, "Training images") == "60,000"  # the preset's training-set size
    assert live_loss_points(page) == -1  # no curve before Start
    # A run of many short epochs, to stop mid-way and replay: 10,000 images for 30 epochs (the Quick demo is 3).
    pick(page, "Training images", "10,000")
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("30")
    epochs.press("Enter")  # commits the value (the progress bar below says "Epoch n/30")
    assert selected(page, "Training images") == "10,000" and epochs.input_value() == "30"

    page.get_by_role("button", name="Start training").click()
    # The curve grows while training runs: more points at a later read, with the Stop button still there.
    first = wait_for_more_points(page, 0)
    later = wait_for_more_points(page, first)
    assert later > first
    stop = page.locator(".st-key-train_stop").get_by_role("button", name="Stop")  # not the app's own "Stop"
    assert stop.is_visible()
    progress = page.locator('[data-testid="stProgress"]').inner_text()
    assert re.search(r"Epoch \d+/30 · step [\d,]+/[\d,]+ · .+ elapsed · about .+ left", progress), progress

    # A few epochs in: the latent map and the samples are there; the screenshot shows the run mid-way.
    epoch_3 = page.get_by_text(re.compile(r"Latent space after epoch ([3-9]|\d\d)\b"))
    wait_on_progress(page, lambda: epoch_3.count() > 0, "the latent map of epoch 3")
    frame(page)
    page.screenshot(path=str(SHOTS / "train-live.png"), full_page=True)
    # At 1366 x 768 with the sidebar open the Stop button still says "Stop" whole (it read "□ S." in a sixth of
    # the column): nothing inside it is cut.
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.locator('[data-testid="stSidebar"]').bounding_box()["width"] > 200  # open
    frame(page)
    assert stop.inner_text().strip().endswith("Stop")
    assert stop.evaluate("""(b) => [b, ...b.querySelectorAll('*')].filter(
        (e) => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0).map((e) => e.outerHTML.slice(0, 80))""") == []
    page.set_viewport_size(VIEWPORT)
    frame(page)
    # Stop: the click's own response gives the form back, without waiting for the run to end (its page says
    # "Stopping…" until then; tests/test_train_tab.py asserts that mechanism). The time is measured here and
    # printed, not asserted: on a loaded machine a browser round trip alone can take longer than a second.
    start_button = page.get_by_role("button", name="Start training")
    t0 = time.monotonic()
    stop.click()
    page.wait_for_function("""() => [...document.querySelectorAll('button')].some(
        (b) => b.innerText.includes('Start training') && !b.disabled)""", polling="raf")
    print(f"Stop to the form back: {time.monotonic() - t0:.2f} s")
    assert start_button.is_enabled()

    stopped = page.locator('[data-testid="stAlert"]').filter(has_text="Training stopped")
    stopped.wait_for()
    assert "))" not in stopped.inner_text()  # the loop's "(epoch N)" is not wrapped in brackets again
    kept = int(re.search(r"The model of epoch (\d+) is kept", stopped.inner_text()).group(1))
    assert 3 <= kept < 30

    # The replay plays: after Play the shown epoch moves on by itself, no further click.
    shown_epoch = page.get_by_text(re.compile(r"^Latent space (before training|after epoch \d+)"))
    page.get_by_role("button", name="Play", exact=True).click()
    page.get_by_role("button", name="Pause", exact=True).wait_for()
    first_shown = shown_epoch.first.inner_text()
    page.wait_for_function(
        """(first) => [...document.querySelectorAll('p')].some((p) => /^Latent space (before training|after epoch \\d+)/
                      .test(p.innerText) && !p.innerText.startsWith(first.split(' ·')[0]))""",
        arg=first_shown)
    assert shown_epoch.first.inner_text().split(" ·")[0] != first_shown.split(" ·")[0]
    page.screenshot(path=str(SHOTS / "train-replay.png"), full_page=True)
    # At the last epoch it stops by itself; the slider and the map agree on the epoch shown.
    page.get_by_role("button", name="Play", exact=True).wait_for()
    frame(page)
    slider = page.locator('[data-testid="stSliderThumbValue"]').first  # the number above the thumb
    page.wait_for_function("""(kept) => [...document.querySelectorAll('p')].some(
        (p) => p.innerText.startsWith('Latent space after epoch ' + kept + ' '))""", arg=kept)
    print("slider", slider.inner_text(), shown_epoch.first.inner_text())
    assert slider.inner_text() == str(kept)

    # One save: Enter in the name field saves; the form then goes, so no second submit can clash with it.
    save_form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("textbox", name="Name"))
    name_box = save_form.get_by_role("textbox", name="Name")
    name_box.fill(MODEL_NAME)
    name_box.press("Enter")
    page.get_by_text(re.compile(rf"Saved as {MODEL_NAME}")).wait_for()
    assert page.get_by_text("already exists").count() == 0
    assert page.get_by_role("textbox", name="Name").count() == 0
    folder = models_dir / MODEL_NAME
    saved, config = load_checkpoint(folder)
    assert config["training"]["epochs_completed"] == kept and config["training"]["status"] == "stopped"
    page.screenshot(path=str(SHOTS / "train-saved.png"), full_page=True)

    renders = page.evaluate("window.__latentPlane.renders")
    page.get_by_role("button", name="Explore it now").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    # The picker shows its value inside an input, so wait for the summary it writes below: the new test loss.
    sidebar.get_by_text(f"test loss {config['metrics']['test_loss']:.2f} nats").wait_for()
    # ... and the Explore tab is open, without a click on it.
    page.wait_for_function("""() => [...document.querySelectorAll('[role=tab]')].some(
        (t) => t.innerText.trim() === 'Explore' && t.getAttribute('aria-selected') === 'true')""")
    page.wait_for_function(f"window.__latentPlane.renders > {renders} && window.__latentPlane.ready")
    # The sidebar describes the new model: its test loss and the epochs it was trained for.
    summary = sidebar.inner_text()
    assert f"test loss {config['metrics']['test_loss']:.2f} nats" in summary, summary
    assert f"{kept} epochs" in summary, summary
    # The map is drawn by the new model: the page's decoder output at the ★ is this checkpoint's decode.
    page.mouse.move(5, 5)
    frame(page)
    z = page.evaluate("window.__latentPlane.z")
    shown = digit(page)
    assert np.abs(shown.astype(int) - torch_digit(saved, z).astype(int)).max() <= 1, "the map is not the new model's"
    pretrained, _ = load_checkpoint(ROOT / "pretrained" / "mnist-mlp")
    assert np.abs(shown.astype(int) - torch_digit(pretrained, z).astype(int)).max() > 1
    page.screenshot(path=str(SHOTS / "train-explore-new-model.png"), full_page=True)


def pick(page, label: str, option: str) -> None:
    """Pick the option reading exactly `option` in the selectbox `label`."""
    box = page.get_by_role("combobox", name=label, exact=True)
    for _ in range(5):
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).first.click(timeout=10_000)
        except Exception:  # the list was redrawn under the click (the page was still rerunning)
            page.keyboard.press("Escape")
            continue
        if box.input_value() == option:
            return
    raise AssertionError(f"could not pick {option} in {label}")


def choose(page, label: str, name: str) -> None:
    """Pick the option starting with `name` in the selectbox `label` (again, if a rerun redrew the list)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    for _ in range(5):
        box.click()
        try:
            page.locator("[role=option]", has_text=re.compile(rf"^{name} · ")).first.click(timeout=10_000)
        except Exception:  # the list was redrawn under the click (the page was still rerunning)
            page.keyboard.press("Escape")
            continue
        if box.input_value().startswith(f"{name} · "):
            return
    raise AssertionError(f"could not choose {name} in {label}")


def wait_for_one_map_each(page) -> None:
    """Both Compare maps drawn, and the previous run's copies gone (Streamlit keeps them while a run is on)."""
    page.wait_for_function("""() => [0, 1].every((i) => document.querySelectorAll(
        `.st-key-train_compare_${i}_latent .js-plotly-plot .nsewdrag`).length === 1)""", timeout=120_000)
    frame(page)


def map_boxes(page) -> list[dict]:
    """The two Compare maps' plot squares (Plotly's drag layer over the axes), each scrolled into view."""
    boxes = []
    for i in (0, 1):
        chart = page.locator(f".st-key-train_compare_{i}_latent .js-plotly-plot")
        chart.scroll_into_view_if_needed()
        frame(page)
        whole, plot = chart.bounding_box(), chart.locator(".nsewdrag").first.bounding_box()
        boxes.append(dict(plot, chart=whole))
    return boxes


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_compare_shows_both_maps_whole(browser, train_app, size):
    """Compare of mnist-mlp and mnist-beta4 at a projector's size: each latent map lies wholly inside the window
    (once scrolled to), large, square and on the same scale as the other; side by side, both at once."""
    url, _ = train_app
    width, height = size
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Start training").wait_for()
        choose(page, "Model A", "mnist-mlp")
        choose(page, "Model B", "mnist-beta4")
        wait_for_one_map_each(page)
        for box in map_boxes(page):  # large (the default): one above the other
            chart = box["chart"]
            assert chart["x"] >= 0 and chart["x"] + chart["width"] <= width + 1, (size, chart)
            assert chart["height"] <= height - 60, (size, chart)  # fits under Streamlit's header
            assert box["width"] >= 450 and abs(box["width"] - box["height"]) <= 2, (size, box)
        page.screenshot(path=str(SHOTS / f"compare-large-{width}x{height}.png"))  # B's map, scrolled to
        a, b = map_boxes(page)
        assert abs(a["width"] - b["width"]) <= 2  # the same scale, the same size

        page.locator(".st-key-train_compare_layout").get_by_text("Side by side", exact=True).click()
        page.wait_for_function("""() => {
            const [a, b] = [0, 1].map(
                (i) => document.querySelector(`.st-key-train_compare_${i}_latent .js-plotly-plot`));
            return a && b && Math.abs(a.getBoundingClientRect().top - b.getBoundingClientRect().top) < 2;
        }""")
        wait_for_one_map_each(page)
        a, b = map_boxes(page)
        assert a["chart"]["x"] + a["chart"]["width"] <= b["chart"]["x"]
        assert b["chart"]["x"] + b["chart"]["width"] <= width + 1
        assert abs(a["y"] - b["y"]) <= 2 and a["width"] >= 200 and abs(a["width"] - b["width"]) <= 2, (a, b)
        page.screenshot(path=str(SHOTS / f"compare-side-by-side-{width}x{height}.png"))
        page.get_by_text("Training curves, on the same axes").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"compare-whole-{width}x{height}.png"), full_page=True)
    except BaseException:
        page.screenshot(path=str(SHOTS / f"compare-failure-{width}x{height}.png"), full_page=True)
        raise
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.mark.parametrize("presenter", [False, True], ids=["sidebar-open", "presenter"])
def test_compare_curves_share_their_axes_and_nothing_collides_at_1366(browser, train_app, presenter):
    """Compare's training curves at 1366 x 768 (the sidebar open, or presenter mode): both charts on the same x
    and y ranges, no two x tick labels overlapping, no axis title over a plot or a legend, and the one legend
    for both at 16 px or more in presenter mode."""
    url, _ = train_app
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    try:
        page.goto(url + ("?pr=1" if presenter else ""))
        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Start training").wait_for()
        choose(page, "Model A", "mnist-mlp")
        choose(page, "Model B", "mnist-beta4")
        page.wait_for_function("""() => [0, 1].every((i) => document.querySelectorAll(
            `.st-key-train_compare_${i}_loss .js-plotly-plot .xtick`).length > 0)""", timeout=120_000)
        page.get_by_text("Training curves, on the same axes").scroll_into_view_if_needed()
        frame(page)
        charts = [page.locator(f".st-key-train_compare_{i}_loss .js-plotly-plot") for i in (0, 1)]
        layouts = [c.evaluate("(el) => ['xaxis', 'xaxis2', 'yaxis', 'yaxis2'].map((a) => el._fullLayout[a].range)")
                   for c in charts]
        assert layouts[0] == layouts[1], layouts
        for chart in charts:
            assert chart.evaluate(PLOTS_CLEAR) == []
        legend = page.locator(".loss-legend")
        size = float(legend.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))
        assert legend.inner_text().count("per epoch") == 2
        if presenter:
            assert size >= 16, size
        charts[0].scroll_into_view_if_needed()
        frame(page)
        page.screenshot(path=str(SHOTS / f"compare-curves-1366{'-presenter' if presenter else ''}.png"))
    except BaseException:
        page.screenshot(path=str(SHOTS / "compare-curves-failure.png"), full_page=True)
        raise
    finally:
        ctx.close()
