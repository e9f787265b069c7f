"""The "Sample x ~ p(x|z)" switch: draws from the decoder's distribution instead of its mean, in every Explore view
that shows decoded images (dashboard/explore/sampling.py, dashboard/model/compute.py sample_pixels).

On: each picture is one draw (Bernoulli: pixels 0 or 1; Gaussian: mean + σ noise) whose average over many draws
is the decoded mean; off: the pictures are the means themselves. AppTest checks that every view has the switch,
that it changes the pictures and the link (sx=1), and that a link with sx=1 opens with it on.
"""

from __future__ import annotations

import base64
import io
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from test_explore_url import fresh

from dashboard.model.compute import sample_pixels
from dashboard_apptest import at, checkpoints, image_urls, pick  # noqa: F401
from tests.conftest import PRETRAINED
from vae_core import load_checkpoint


@pytest.fixture(scope="module")
def means():
    """The shipped mnist-mlp decoder's means at 16 prior draws: [16, 28, 28] in [0, 1]."""
    model, _ = load_checkpoint(PRETRAINED / "mnist-mlp")
    with torch.no_grad():
        return model.sample(16, generator=torch.Generator().manual_seed(0))[:, 0].numpy()


def test_bernoulli_draws_are_binary_and_average_to_the_mean(means):
    draws = np.stack([sample_pixels(means, "bernoulli", 0.1, seed=s) for s in range(2000)])
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert draws.shape == (2000, *means.shape) and draws.dtype == np.float32
    # the average of n draws: standard error sqrt(p(1-p)/n) <= 0.011 at n = 2000
    assert np.abs(draws.mean(0) - means).max() < 0.06
    assert np.abs(draws.mean(0) - means).mean() < 0.01
    grey = (means > 0.2) & (means < 0.8)
    assert grey.sum() > 100  # the means are not binary themselves: a draw is not the mean
    assert np.abs(draws[0] - means)[grey].min() > 0.19


def test_the_seed_fixes_the_draw(means):
    a, b = sample_pixels(means, "bernoulli", 0.1, seed=7), sample_pixels(means, "bernoulli", 0.1, seed=7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, sample_pixels(means, "bernoulli", 0.1, seed=8))
    # uint8 means (the cached grid and morph frames) give the draw of the same probabilities
    u8 = np.rint(means * 255).astype(np.uint8)
    assert np.abs(sample_pixels(u8, "bernoulli", 0.1, seed=7) - a).mean() < 0.01


def test_gaussian_draws_add_sigma_noise_to_the_mean():
    mean = np.full((4000, 28, 28), 0.5, np.float32)
    draws = sample_pixels(mean, "gaussian", 0.1, seed=1)
    assert abs(float(draws.mean()) - 0.5) < 0.002 and abs(float(draws.std()) - 0.1) < 0.002
    assert draws.min() >= 0 and draws.max() <= 1  # clipped to [0, 1] like the mean
    with pytest.raises(ValueError):
        sample_pixels(mean, "poisson", 0.1, seed=1)


def _ctx(on: bool, likelihood: str = "bernoulli"):
    cfg = SimpleNamespace(likelihood=likelihood, sigma=0.1)
    return SimpleNamespace(state=SimpleNamespace(sample_x=on), model=SimpleNamespace(model=SimpleNamespace(cfg=cfg)))


def test_the_views_show_the_mean_when_off_and_a_draw_when_on(means):
    from dashboard.explore import sampling

    assert sampling.shown(_ctx(False), means, seed=0) is means
    assert sampling.what(_ctx(False)) == "means E[x|z]"
    drawn = sampling.shown(_ctx(True), means, seed=3)
    assert np.array_equal(drawn, sample_pixels(means, "bernoulli", 0.1, seed=3))
    assert sampling.what(_ctx(True), 3) == "draws x ~ p(x|z) (pixel seed 3)"
    # a likelihood without a pixel draw here keeps the means (its switch is disabled)
    assert sampling.shown(_ctx(True, "continuous-bernoulli"), means, seed=0) is means


# --- the page ---------------------------------------------------------------------------------------------


VIEWS = [("prior", "prior", "64 decodes"), ("grid", "grid", ""), ("trav", "trav", ""),
         ("recon", "recon", "top: test images"), ("morph", "morph", ""), ("dir", "dir", "")]


def _pixels(url: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L"))


def _switch(app, where):
    return app.toggle(key=f"explore_sample_x_{where}")


@pytest.mark.parametrize("section, where, caption", VIEWS)
def test_every_view_of_decodes_has_the_switch(at, section, where, caption):  # noqa: F811
    at.session_state["explore.section"] = section
    if section == "morph":
        pick(at, 3)
        pick(at, 40)
    at.run()
    assert not at.exception, at.exception
    before = [img.value for img in at.image]
    assert _switch(at, where).value is False
    _switch(at, where).set_value(True).run()
    assert not at.exception, at.exception
    at.run()  # the whole page, as the browser shows it
    assert at.session_state["explore.sample_x"] is True and at.query_params["sx"] == "1"
    assert _switch(at, where).value is True
    captions = [c.value for c in at.caption] + [c for img in at.image for c in img.captions]
    assert any("draws x ~ p(x|z)" in c for c in captions), captions
    assert [img.value for img in at.image] != before  # the decodes are drawn, not the means
    drawn = [url for img in at.image for url, c in zip(img.value, img.captions) if "draws x ~ p(x|z)" in c]
    for url in drawn:  # the pictures said to be draws are binary (white padding between the tiles)
        pixels = _pixels(url)
        if section == "recon":  # the test images on top, their reconstructions under them
            pixels = pixels[pixels.shape[0] // 2 + 1 :]
        assert set(np.unique(pixels)) <= {0, 255}, section
    if section in ("prior", "grid"):
        assert drawn
    if caption:
        assert image_urls(at, caption)
    _switch(at, where).set_value(False).run()
    at.run()
    assert "sx" not in at.query_params and at.session_state["explore.sample_x"] is False
    assert [img.value for img in at.image] == before  # the means again, the same pictures


def test_the_posterior_strip_has_the_switch(at):  # noqa: F811
    pick(at, 5)
    at.toggle(key="explore_post_pick").set_value(True).run()
    at.run()
    strip = image_urls(at, "16 decodes of z = μ + σ ⊙ ε")
    assert strip and _switch(at, "post_pick").value is False
    _switch(at, "post_pick").set_value(True).run()
    at.run()
    assert image_urls(at, "16 decodes of z = μ + σ ⊙ ε") != strip
    assert any("draws x ~ p(x|z) (pixel seed 0)" in c for img in at.image for c in img.captions)


def test_a_link_with_sx_opens_with_the_switch_on(checkpoints, monkeypatch):  # noqa: F811
    app = fresh(checkpoints, monkeypatch, {"sub": "prior", "sx": "1"})
    assert not app.exception and not [i.value for i in app.info]
    assert app.session_state["explore.sample_x"] is True and _switch(app, "prior").value is True
    bad = fresh(checkpoints, monkeypatch, {"sub": "prior", "sx": "2"})
    assert any("sx" in i.value for i in bad.info)
