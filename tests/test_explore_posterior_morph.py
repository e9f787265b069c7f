"""Explore's views: posterior samples on the map, the morph's path and player, de-noising side by side.

Unit tests on the scene and the sampling; AppTest on tiny checkpoints (with a tiny "mnist-dvae" trained on
nothing but labelled as a denoising model, so the pair view has its partner); the sentence the sampling view
says about the shipped models is checked on pretrained/ itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from dashboard_apptest import APP, image_urls, move_star, pick, plane_data, scatter_spec, use_plotly_map  # noqa: F401
from factories import tiny_checkpoint

ROOT = Path(__file__).resolve().parent.parent


# --- unit: the draws, the scene ----------------------------------------------------------------------------


def test_the_sampling_views_draws_have_the_posteriors_mean_and_covariance():
    from dashboard.explore.posterior import draw

    mu, sigma, k = np.array([1.2, -0.4], np.float32), np.array([0.03, 0.06], np.float32), 4096
    z = draw(mu, sigma, k, seed=3)
    assert z.shape == (k, 2)
    # Monte Carlo error: the mean's standard error is sigma / sqrt(k); a variance's sigma^2 sqrt(2 / (k - 1));
    # a covariance's sigma_1 sigma_2 / sqrt(k). Four standard errors each.
    assert np.all(np.abs(z.mean(0) - mu) < 4 * sigma / math.sqrt(k))
    cov = np.cov(z.T)
    assert np.all(np.abs(np.diag(cov) - sigma**2) < 4 * sigma**2 * math.sqrt(2 / (k - 1)))
    assert abs(cov[0, 1]) < 4 * sigma[0] * sigma[1] / math.sqrt(k)
    assert np.array_equal(draw(mu, sigma, 16, 3), draw(mu, sigma, 16, 3)), "the same seed, the same dots"
    assert not np.array_equal(draw(mu, sigma, 16, 3), draw(mu, sigma, 16, 4)), "Resample moves them"


def _scene(d=2, **kw):
    from dashboard.explore.scene import build_scene

    return build_scene(enc=None, d=d, z=[0.0] * d, limit=4.0, view={"cx": 0.0, "cy": 0.0, "half": 4.0, "rev": 0},
                       **kw)


def test_the_scene_puts_the_samples_inside_a_2_sigma_ellipse_and_draws_the_path():
    from dashboard.explore import morph, posterior

    mu, sigma = np.array([1.0, 2.0], np.float32), np.array([0.05, 0.1], np.float32)
    zs = posterior.draw(mu, sigma, 64, 0)
    scene = _scene(posterior=(mu, sigma, zs, "#123456"))
    assert scene.samples.shape == (64, 2) and np.allclose(scene.samples, zs)
    (two,) = [e for e in scene.ellipses if e.color == "#123456"]
    assert (two.x, two.y, two.sx, two.sy) == pytest.approx((1.0, 2.0, 0.1, 0.2))
    inside = (((zs - mu) / (2 * sigma)) ** 2).sum(1) <= 1
    assert 0.7 < inside.mean() < 0.97, "about 86 % of 2-D draws fall inside 2σ"
    z0, z1 = np.array([2.0, 0.5]), np.array([-1.0, 2.0])
    lin, sl = (_scene(path=morph.path(z0, z1, 12, m), path_frame=4) for m in ("linear", "slerp"))
    assert lin.path.shape == (12, 2) and np.allclose(lin.path[[0, -1]], [z0, z1], atol=1e-5)
    assert np.allclose(sl.path[[0, -1]], [z0, z1], atol=1e-5)
    assert np.max(np.linalg.norm(lin.path - sl.path, axis=1)) > 0.3, "linear and slerp differ visibly"
    (mark,) = [m for m in lin.marks if m.label == "5/12"]
    assert (mark.x, mark.y) == pytest.approx(tuple(lin.path[4]))
    # any latent_dim: the path is drawn where the map draws codes (z1, z2; z1 and 0 for d = 1)
    assert _scene(d=5, path=np.ones((8, 5)), path_frame=0).path.shape == (8, 2)
    assert np.allclose(_scene(d=1, path=np.ones((8, 1))).path[:, 1], 0.0)


def test_the_live_plane_gets_the_samples_and_path_layers():
    from dashboard.explore import morph, posterior
    from dashboard.explore.scene import overlay_layers

    mu, sigma = np.zeros(2, np.float32), np.full(2, 0.5, np.float32)
    scene = _scene(posterior=(mu, sigma, posterior.draw(mu, sigma, 5, 0), "#D62728"),
                   path=morph.path([1, 1], [-1, 2], 8, "slerp"), path_frame=2)
    layers = overlay_layers(scene)
    assert len(layers["samples"]["xy"]) == 10 and layers["samples"]["color"] == "#D62728"
    assert len(layers["path"]["xy"]) == 16 and layers["path"]["frame"] == 2
    assert overlay_layers(_scene()) == {"samples": None, "path": None, "classDots": None, "heat": None}


def test_play_advances_one_frame_a_tick_and_stops_at_the_end():
    from dashboard.explore import morph
    from dashboard.explore.state import ExploreState

    state = ExploreState({})
    frames = morph.player_of(state, 5)
    state.morph_playing, state.morph_frame = True, 0
    seen = [0]
    while frames.step():
        seen.append(state.morph_frame)
    seen.append(state.morph_frame)
    assert seen == [0, 1, 2, 3, 4] and state.morph_playing is False
    assert frames.step() is False and state.morph_frame == 4
    frames.toggle()  # Play at the last frame starts again from the first
    assert (state.morph_frame, state.morph_playing) == (0, True)


# --- the sentence about the shipped models ---------------------------------------------------------------


@pytest.mark.parametrize("name, dataset", [("mnist-mlp", "mnist"), ("mnist-conv", "mnist"), ("mnist-beta4", "mnist"),
                                           ("mnist-dvae", "mnist"), ("fashion-mlp", "fashion-mnist")])
def test_nearby_zs_decode_to_variations_mostly_of_the_same_digit(name, dataset):
    """explain.TEXTS["posterior"] on the shipped models: the draws' decodes are "mostly of the same digit" (how
    much they vary, identical-looking or visibly, is tests/test_claims.py's posterior_strip test); a few reach
    a neighbouring class where two classes touch on the crowded 2-D map.

    For the first 150 test images, 16 draws z = μ + σ ⊙ ε each. A decode is labelled by the class of the
    nearest (pixel distance) decode at μ of the other test images; the draw keeps the digit when its label is
    the label of the decode at μ. Measured (300 images): mnist-mlp 0.81, mnist-conv 0.74, mnist-beta4 0.64,
    mnist-dvae 0.59, fashion-mlp 0.69 of the draws keep it."""
    from dashboard.explore.posterior import draw
    from vae_core import load_checkpoint, load_dataset
    from vae_core.data import DatasetError

    folder = ROOT / "pretrained" / name
    if not (folder / "model.safetensors").exists():
        pytest.skip(f"pretrained/{name} is not here")
    model, _ = load_checkpoint(folder)
    try:
        data = load_dataset(dataset)
    except DatasetError as e:
        pytest.skip(str(e))
    with torch.no_grad():
        x = data.test_images.float().div(255).unsqueeze(1)
        mu, logvar = model.encode(x)
        sigma = torch.exp(0.5 * logvar)
        refs = model.decode(mu).flatten(1)  # [10000, 784]
        labels = data.test_labels.numpy()
        kept, crossed, spread = [], [], []
        for i in range(150):
            dec = model.decode(torch.from_numpy(draw(mu[i].numpy(), sigma[i].numpy(), 16, seed=i))).flatten(1)
            d = torch.cdist(torch.cat([refs[i : i + 1], dec]), refs)
            d[:, i] = float("inf")  # not the image itself
            nearest = labels[d.argmin(1).numpy()]
            kept.append((nearest[1:] == nearest[0]).mean())
            crossed.append((nearest[1:] != nearest[0]).any())
            spread.append(dec.std(0).mean().item())  # how much the 16 decodes differ, per pixel
    assert float(np.mean(kept)) > 0.5, f"{name}: 'mostly the same digit' fails ({np.mean(kept):.2f})"
    assert float(np.mean(crossed)) > 0.05, f"{name}: no draw reaches another class ({np.mean(crossed):.2f})"
    assert 1e-3 < float(np.median(spread)) < 0.1, f"{name}: not 'variations' ({np.median(spread):.4f})"


# --- AppTest -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoints13(tmp_path_factory):
    root = tmp_path_factory.mktemp("issue13")
    pre, mine = root / "pretrained", root / "models"
    tiny_checkpoint(pre / "mnist-mlp", loss=140.0)
    tiny_checkpoint(pre / "mnist-dvae", seed=4, loss=160.0,
                    training={"corruption": "gaussian", "corruption_level": 0.3})
    tiny_checkpoint(mine / "three-d", latent_dim=3, seed=2)
    return pre, mine


def _app(checkpoints13, monkeypatch, query: dict | None = None) -> AppTest:
    pre, mine = checkpoints13
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    app = AppTest.from_file(APP, default_timeout=90)
    app.checkpoint_roots = (pre, mine)
    if query:
        app.query_params.update(query)
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def at13(checkpoints13, monkeypatch):
    return _app(checkpoints13, monkeypatch)


def test_samples_of_the_pick_are_drawn_on_the_map_and_decoded(at13):
    at = at13
    pick(at, 7)
    assert plane_data(at)["samples"] is None, "no samples until asked for"
    at.toggle(key="explore_post_pick").set_value(True).run()
    data = plane_data(at)
    mu = at.session_state["explore.z"]
    assert len(data["samples"]["xy"]) == 2 * 16
    two = [e for e in data["ellipses"] if e.get("dash") and e["color"] == data["samples"]["color"]]
    assert len(two) == 1 and (two[0]["x"], two[0]["y"]) == pytest.approx(tuple(mu), abs=0.01)
    (strip,) = image_urls(at, "16 decodes of z = μ + σ ⊙ ε from test image #7's q(z|x), seed 0")
    at.slider(key="explore_post_k_widget").set_value(40).run()
    assert len(plane_data(at)["samples"]["xy"]) == 80 and image_urls(at, "40 decodes")
    before = plane_data(at)["samples"]["xy"]
    at.button(key="explore_post_resample_pick").click().run()
    assert plane_data(at)["samples"]["xy"] != before and image_urls(at, "40 decodes of z = μ + σ ⊙ ε from test "
                                                                         "image #7's q(z|x), seed 1")
    at.button(key="explore_post_zoom_pick").click().run()
    view = plane_data(at)["view"]
    xy = np.array(plane_data(at)["samples"]["xy"]).reshape(-1, 2)
    assert (view["cx"], view["cy"]) == pytest.approx((two[0]["x"], two[0]["y"]), abs=1e-3)
    assert view["half"] == pytest.approx(3 * max(two[0]["sx"], two[0]["sy"]), rel=0.01)
    assert np.mean(np.all(np.abs(xy - [view["cx"], view["cy"]]) < view["half"], axis=1)) > 0.9, "in view"
    # the Plotly map shows the same draws
    use_plotly_map(at)
    samples = scatter_spec(at)["samples"]
    assert np.allclose(np.array(samples["xy"]).reshape(-1, 2), xy, atol=1e-3)


def test_k_and_seed_survive_train_and_the_url(at13, checkpoints13, monkeypatch):
    at = at13
    pick(at, 7)
    at.toggle(key="explore_post_pick").set_value(True).run()
    at.slider(key="explore_post_k_widget").set_value(24).run()
    at.button(key="explore_post_resample_pick").click().run()
    xy = plane_data(at)["samples"]["xy"]
    q = dict(at.query_params)
    assert (q["po"], q["pk"], q["ps"]) == ("pick", "24", "1")
    at.session_state["app_tab"] = "Train"
    at.run()
    at.session_state["app_tab"] = "Explore"
    at.run()
    assert plane_data(at)["samples"]["xy"] == xy and at.slider(key="explore_post_k_widget").value == 24
    fresh = _app(checkpoints13, monkeypatch, q)
    assert plane_data(fresh)["samples"]["xy"] == xy, "a link shows the same draws"
    bad = _app(checkpoints13, monkeypatch, {**q, "pk": "999", "po": "nobody"})
    assert any("pk" in i.value and "po" in i.value for i in bad.info), "refused with one note"


def test_samples_of_your_digit(at13):
    import base64

    from test_explore_app import _ring_png

    from apptest_helpers import send_event

    at = at13
    send_event(at, "explore_draw", "drawn", "data:image/png;base64," + base64.b64encode(_ring_png()).decode())
    at.toggle(key="explore_post_own").set_value(True).run()
    data = plane_data(at)
    assert len(data["samples"]["xy"]) == 32 and data["samples"]["color"] == "#7B2CBF"
    assert image_urls(at, "16 decodes of z = μ + σ ⊙ ε from your digit's q(z|x)")
    pick(at, 7)
    at.toggle(key="explore_post_pick").set_value(True).run()  # the pick's draws replace your digit's, in the page too
    assert len(at.sidebar) and at.toggle(key="explore_post_own").value is False
    assert plane_data(at)["samples"]["color"] != "#7B2CBF"
    assert not image_urls(at, "16 decodes of z = μ + σ ⊙ ε from your")


def test_equal_morph_ends_are_refused_with_a_hint(at13):
    at = at13
    pick(at, 7)
    at.session_state["explore.section"] = "morph"
    at.run()
    at.selectbox(key="explore_morph_ends").set_value("star-pick").run()
    assert any("The ★ sits on the pick" in i.value and "move the ★" in i.value for i in at.info)
    assert not image_urls(at, "★ → test image #7") and plane_data(at)["path"] is None
    move_star(at, (0, 3.0))
    assert image_urls(at, "★ → test image #7, linear, 12 steps · frame 1 of 12")
    assert len(plane_data(at)["path"]["xy"]) == 24


def test_the_morph_path_and_the_scrubbed_frame_are_on_the_map(at13):
    at = at13
    pick(at, 7)
    pick(at, 42)
    at.session_state["explore.section"] = "morph"
    at.run()
    path = np.array(plane_data(at)["path"]["xy"]).reshape(-1, 2)
    assert len(path) == 12 and plane_data(at)["path"]["frame"] == 0
    at.slider(key="explore_morph_frame_widget").set_value(6).run()
    data = plane_data(at)
    assert data["path"]["frame"] == 5 and at.query_params["mf"] == "6"
    (mark,) = [m for m in data["marks"] if m["label"] == "6/12"]
    assert (mark["x"], mark["y"]) == pytest.approx(tuple(path[5]), abs=1e-3)
    first = image_urls(at, "test image #7 → #42, linear, 12 steps · frame 6 of 12")
    assert first
    at.radio(key="explore_morph_mode").set_value("slerp").run()
    slerp = np.array(plane_data(at)["path"]["xy"]).reshape(-1, 2)
    assert np.allclose(slerp[[0, -1]], path[[0, -1]], atol=1e-3)
    at.button(key="explore_morph_play").click().run()
    assert at.session_state["explore.morph_playing"] is True
    at.button(key="explore_morph_play").click().run()
    assert at.session_state["explore.morph_playing"] is False
    at.session_state["explore.section"] = "prior"
    at.run()
    assert plane_data(at)["path"] is None, "the path shows while the Morph tab is open"


def test_de_noising_shows_both_models_on_the_same_noisy_input(at13):
    at = at13
    at.session_state["explore.section"] = "denoise"
    at.run()
    assert image_urls(at, "the same noisy input to both")
    assert image_urls(at, "plain: mnist-mlp's reconstruction") and image_urls(at, "denoising: mnist-dvae's")
    text = " ".join(m.value for m in at.markdown)
    assert "**mnist-mlp** (plain): |Δμ| = " in text and "**mnist-dvae** (denoising): |Δμ| = " in text
    assert "over 1,000 test images at this noise" in text
    maps = [el for el in at.main if getattr(el, "type", "") == "plotly_chart"
            and "explore_denoise_map_" in el.proto.id]
    assert len(maps) == 2, "each model's own map"
    from dashboard_apptest import select_model as pick_model

    pick_model(at, "mnist-dvae")  # the denoising model explored: the plain one beside it, same order
    assert image_urls(at, "plain: mnist-mlp's reconstruction") and image_urls(at, "denoising: mnist-dvae's")
    pick_model(at, "three-d")  # not a 2-D MNIST model: shown alone, with why
    assert image_urls(at, "noisy input") and any("needs a 2-D MNIST model" in i.value for i in at.info)
