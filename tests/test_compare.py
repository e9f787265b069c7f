"""Compare (dashboard/train/compare.py) on the shipped models, through AppTest: shared y ranges and named curves, the
maps on one scale, one z decoded by both, prior samples from one ε, the same test images reconstructed by a 2-D
and a 16-D model. The figures asserted are the models' own outputs, computed here with torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apptest_helpers import media_id, select_on_chart  # noqa: E402
from dashboard import views  # noqa: E402
from dashboard.model import compute, registry  # noqa: E402
from dashboard.train import compare, figures  # noqa: E402
from dashboard.training.registry import reset_registry  # noqa: E402
from dashboard_apptest import plotly_array  # noqa: E402
from vae_core import load_checkpoint, load_dataset  # noqa: E402
from vae_core.analysis import principal_plane, to_plane  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
PRETRAINED = ROOT / "pretrained"


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(PRETRAINED))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    monkeypatch.chdir(ROOT)
    reset_registry(max_jobs=1)
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["app_tab"] = "Train"
    app.run()
    assert not app.exception, app.exception
    yield app
    reset_registry()


def choose(at, a: str, b: str):
    folders = {e.name: e.folder for e in registry.list_models() if e.source == "pretrained"}
    at.selectbox(key="train_compare_0").set_value(folders[a])
    at.selectbox(key="train_compare_1").set_value(folders[b]).run()
    assert not at.exception, at.exception
    return at


def figure(at, key: str) -> dict:
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    return json.loads(chart.proto.spec)


def shown(at, caption: str) -> list[str]:
    """The media ids of the images whose caption starts with `caption`."""
    return [url.rsplit("/", 1)[-1].split(".")[0] for img in at.image
            for url, cap in zip(img.value, img.captions) if cap.startswith(caption)]


def side(name: str) -> compare.Side:
    """The model and encodings the page uses (Streamlit's resource cache is this process's): the expected images
    are computed from the very same numbers, so a test can compare the bytes shown."""
    (entry,) = [e for e in registry.list_models() if e.source == "pretrained" and e.name == name]
    loaded, error = compare.load_side(entry)
    assert loaded is not None, error
    return loaded


def decoded_id(s: compare.Side, z, size: int = 168) -> str:
    image = compute.decode(s.model, np.asarray(z, np.float32))[0]
    return media_id(views.png_bytes(views.upscale(image, size)))


def fresh_mu(name: str, index) -> np.ndarray:
    """μ of test images by the checkpoint loaded anew, in torch: what the page's cached codes must be."""
    model, _ = load_checkpoint(PRETRAINED / name)
    x = load_dataset("mnist").test_images[torch.as_tensor(index)].float().div(255).unsqueeze(1)
    with torch.no_grad():
        return model.encode(x)[0].numpy()


def strip_id(images) -> str:
    return media_id(views.png_bytes(views.strip_image(images, scale=2, pad=2)))


def star(spec: dict) -> tuple[float, float]:
    (t,) = [t for t in spec["data"] if t.get("name") == "★ z, decoded below"]
    return float(t["x"][0]), float(t["y"][0])


def test_beta_1_against_beta_4_on_one_footing(at):
    choose(at, "mnist-mlp", "mnist-beta4")
    a, b = side("mnist-mlp"), side("mnist-beta4")

    # The loss and KL charts: the same y ranges for both models, each curve named for what it is.
    fa, fb = figure(at, "train_compare_0_loss"), figure(at, "train_compare_1_loss")
    for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):  # x too: the longer run's steps on both
        assert fa["layout"][axis]["range"] == fb["layout"][axis]["range"], axis
    assert fa["layout"]["xaxis"]["range"][1] >= 28_000  # mnist-mlp's run, longer than mnist-beta4's
    # one legend for both, outside the charts
    assert fa["layout"]["showlegend"] is False and fb["layout"]["showlegend"] is False
    (legend,) = [h.proto.body for h in at.get("html") if "loss-legend" in h.proto.body]
    assert figures.TRAIN_LOSS in legend and "font-size: 14px" in legend
    names = [t["name"] for t in fb["data"]]
    assert names[0] == "train: recon + β·KL, the objective (per step, smoothed)" == figures.TRAIN_LOSS
    assert names[3] == "test: recon + KL, the −ELBO (per epoch)" == figures.TEST_LOSS
    lo, hi = fb["layout"]["yaxis"]["range"]
    assert lo < 128.3 and hi > 158.8  # holds mnist-mlp's recon and mnist-beta4's last train loss (config.json)
    assert any("With β = 4 the KL counts 4 times in training" in c.value for c in at.caption)
    # β = 4's train objective really sits above its test −ELBO at the end (the note's claim, on its curves)
    assert plotly_array(fb["data"][0]["y"])[-1] > plotly_array(fb["data"][3]["y"])[-1]

    # The maps: one scale for both.
    ma, mb = figure(at, "train_compare_0_latent"), figure(at, "train_compare_1_latent")
    assert ma["layout"]["xaxis"]["range"] == mb["layout"]["xaxis"]["range"]
    assert ma["layout"]["yaxis"]["range"] == mb["layout"]["yaxis"]["range"]

    # One z, typed, decoded by both: the images are each model's decode of that z; the ★ on both maps.
    at.number_input(key="train_compare_z_0").set_value(1.5)
    at.number_input(key="train_compare_z_1").set_value(-0.5).run()
    assert shown(at, "A decodes z = (1.50, -0.50)") == [decoded_id(a, [1.5, -0.5])]
    assert shown(at, "B decodes z = (1.50, -0.50)") == [decoded_id(b, [1.5, -0.5])]
    assert decoded_id(a, [1.5, -0.5]) != decoded_id(b, [1.5, -0.5])
    assert star(figure(at, "train_compare_0_latent")) == star(figure(at, "train_compare_1_latent")) == (1.5, -0.5)

    # A click on a dot of B's map: that test image's μ under B is the z both decode.
    select_on_chart(at, "train_compare_1_latent", {"curve_number": 0, "point_number": 0, "point_index": 0,
                                                   "x": 0.0, "y": 0.0, "customdata": 7})
    mu = b.enc.mu[7]
    assert np.allclose(mu, fresh_mu("mnist-beta4", [7])[0], atol=1e-4)
    z_text = compare.format_z(mu)
    assert shown(at, f"A decodes z = {z_text}") == [decoded_id(a, mu)]
    assert shown(at, f"B decodes z = {z_text}") == [decoded_id(b, mu)]
    assert any("test image #7's μ in model B" in c.value for c in at.caption)
    assert np.allclose(star(figure(at, "train_compare_0_latent")), mu, atol=1e-5)

    # Prior samples: the same ε (seed 3) for both.
    at.number_input(key="train_compare_prior_seed").set_value(3).run()
    eps = compare.prior_eps(3, compare.N_PRIOR, 2)
    assert np.array_equal(eps, torch.randn(8, 2, generator=torch.Generator().manual_seed(3)).numpy())
    for s, tag in ((a, "A"), (b, "B")):
        assert shown(at, f"{tag}: {s.name}, z = ε (seed 3)") == [strip_id(compute.decode(s.model, eps))]
    assert not at.exception, at.exception


def test_a_2d_and_a_16d_model_reconstruct_the_same_images(at):
    choose(at, "mnist-mlp", "mnist16-mlp")
    assert any("a z of one is not a z of the other" in i.value for i in at.info)
    assert not [n for n in at.number_input if n.key == "train_compare_z_0"]
    at.number_input(key="train_compare_recon_seed").set_value(5).run()
    index = compare.recon_indices(5, 10_000)
    assert len(set(index)) == compare.N_RECON
    assert any(c.value.startswith(f"Test images #{', #'.join(map(str, index))}") for c in at.caption)
    images = load_dataset("mnist").test_images[torch.from_numpy(index)]
    assert shown(at, "the test images") == [strip_id(images.numpy())]
    for name, tag in (("mnist-mlp", "A"), ("mnist16-mlp", "B")):
        s = side(name)
        assert np.allclose(s.enc.mu[index], fresh_mu(name, index), atol=1e-4)
        assert shown(at, f"{tag}: pretrained/{name} (") == [strip_id(compute.decode(s.model, s.enc.mu[index]))]
    # The 16-D map is its PCA plane: axes named, with the share of the variance.
    spec = figure(at, "train_compare_1_latent")
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("PC1 · ")
    assert any(c.value.startswith("16 dimensions seen on their PCA plane") for c in at.caption)
    # Prior samples: one seed, ε of each model's own size.
    assert any("ε has each model's own size (2 and 16 numbers)" in c.value for c in at.caption)
    assert not at.exception, at.exception


def test_the_pure_parts():
    assert np.array_equal(compare.prior_eps(0, 4, 16), compare.prior_eps(0, 4, 16))
    assert not np.array_equal(compare.prior_eps(0, 4, 16), compare.prior_eps(1, 4, 16))
    assert figures.shared_range([(1.0, 5.0), None, (-2.0, 3.0)]) == (-2.0, 5.0)
    assert figures.shared_range([None]) is None
    steps = {"step": list(range(1, 101)), "loss": [200.0] * 100, "recon": [180.0] * 100, "kl": [5.0] * 100}
    loss, kl = figures.y_ranges(steps, [{"step": 100, "test_loss": 190.0, "test_kl": 6.0}])
    assert loss[0] < 180.0 and loss[1] > 200.0 and kl[0] == 0.0 and kl[1] > 6.0
    note = compare.curves_note([1.0, 1.0])
    assert "β = " not in note.split("−ELBO")[1]  # no β > 1: nothing said about a gap
    mu = np.random.default_rng(0).normal(size=(500, 16))
    plane = principal_plane(mu)
    assert np.allclose(to_plane(mu, plane).mean(axis=0), 0.0, atol=1e-9)


def test_in_presenter_mode_the_curves_legend_is_16_px(at):
    at.session_state["presenter"] = True
    choose(at, "mnist-mlp", "mnist-beta4")
    (legend,) = [h.proto.body for h in at.get("html") if "loss-legend" in h.proto.body]
    assert "font-size: 16px" in legend
