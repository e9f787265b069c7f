"""The Step by step sub-tab in AppTest: every number it prints is vae_core's for that image and that ε (computed
here with vae_core directly), "Draw another ε" changes ε and z and keeps the sum, z is marked on the map, and
presenting shows one step at a time (the step and the seed in the link)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from test_explore_url import fresh

from dashboard import drawing
from dashboard_apptest import (  # noqa: F401
    at,
    checkpoints,
    pick,
    plane_data,
    select_model,
    whole_page,
)
from vae_core import VAE, VAEConfig, load_checkpoint, load_dataset, save_checkpoint, to_float
from vae_core.data import binarized_test_images

STEPS_QUERY = {"m": "pretrained/mnist-mlp", "sub": "steps", "p": "7"}


def library(folder, x: torch.Tensor, seed: int) -> dict:
    """The same computation with vae_core's own calls: encode, reparameterize, loss_terms, one seeded ε."""
    model, _ = load_checkpoint(folder)
    g = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
    with torch.no_grad():
        mu, logvar = model.encode(x)
        z = model.reparameterize(mu, logvar, g())
        terms = model.loss_terms(x, g())
    return {"μ": mu[0].numpy(), "log σ²": logvar[0].numpy(), "ε": torch.randn(mu.shape, generator=g())[0].numpy(),
            "σ": torch.exp(0.5 * logvar)[0].numpy(), "z": z[0].numpy(), "recon": float(terms["recon"][0]),
            "kl": float(terms["kl"][0]), "loss": float(terms["loss"][0])}


def mnist_test_image(index: int) -> torch.Tensor:
    return to_float(load_dataset("mnist").test_images[index : index + 1])


def printed(v, digits: int = 3) -> str:
    return "(" + ", ".join(f"{float(x):.{digits}f}" for x in v) + ")"


def shown_vectors(app) -> dict[str, str]:
    """The vectors the page prints in lines ("μ = (0.123, -1.456)")."""
    out = {}
    for md in app.markdown:
        for line in md.value.split("  \n"):
            m = re.fullmatch(r"(μ|log σ²|ε|σ|z) = (\(.*\))", line.strip())
            if m:
                out[m.group(1)] = m.group(2)
    return out


def shown_nats(app) -> dict[str, float]:
    """The loss table: reconstruction, KL and their sum, as printed."""
    (text,) = [md.value for md in app.markdown if md.value.startswith("reconstruction −log p(x|z) = ")]
    rows = dict(re.findall(r"^(.+?) = \*\*(-?[\d.]+)\*\*", text, re.M))
    return {"recon": rows["reconstruction −log p(x|z)"], "kl": rows["KL(q(z|x) ‖ p(z))"],
            "sum": rows["−ELBO, their sum"]}


def test_every_number_is_vae_core_s_and_another_eps_keeps_the_sum(checkpoints, monkeypatch):
    app = fresh(checkpoints, monkeypatch, STEPS_QUERY)
    folder = checkpoints[0] / "mnist-mlp"
    want = library(folder, mnist_test_image(7), 0)
    vectors = shown_vectors(app)
    assert vectors == {k: printed(want[k]) for k in ("μ", "log σ²", "ε", "σ", "z")}
    nats = shown_nats(app)
    assert nats == {"recon": f"{want['recon']:.2f}", "kl": f"{want['kl']:.2f}",
                    "sum": f"{want['recon'] + want['kl']:.2f}"}
    assert [c.value for c in app.caption if c.value.startswith("Test image #7 (")], "it walks the last pick"
    (mark,) = [m for m in plane_data(app)["marks"] if m["label"] == "z"]
    assert (mark["x"], mark["y"]) == pytest.approx(tuple(want["z"]), abs=1e-6), "z is marked on the map"

    app.button(key="explore_steps_draw").click().run()
    assert not app.exception, app.exception
    app = whole_page(app)
    again = library(folder, mnist_test_image(7), 1)
    vectors = shown_vectors(app)
    assert vectors["ε"] == printed(again["ε"]) != printed(want["ε"]), "another ε"
    assert vectors["z"] == printed(again["z"]) != printed(want["z"]), "another z"
    assert vectors["μ"] == printed(want["μ"]), "the same encoder output"
    nats = shown_nats(app)
    assert nats["recon"] == f"{again['recon']:.2f}" and nats["kl"] == f"{want['kl']:.2f}", "only the recon moves"
    assert abs(float(nats["recon"]) + float(nats["kl"]) - float(nats["sum"])) <= 0.011, "the sum, as printed"
    assert nats["sum"] == f"{again['recon'] + again['kl']:.2f}"
    assert app.query_params["es"] == "1", "the seed is in the link"
    (mark,) = [m for m in plane_data(app)["marks"] if m["label"] == "z"]
    assert (mark["x"], mark["y"]) == pytest.approx(tuple(again["z"]), abs=1e-6), "z moved on the map"


@pytest.fixture(scope="module")
def odd_model(checkpoints):
    """A 6-D Gaussian model with β = 2 trained (so its config says) on binarized images: a table of the vectors,
    the Gaussian's terms, the β objective and the binarized test image."""
    torch.manual_seed(5)
    folder = checkpoints[1] / "six-d-gauss"
    save_checkpoint(VAE(VAEConfig(latent_dim=6, hidden=(16,), likelihood="gaussian", sigma=0.2, beta=2.0)), folder,
                    {"data": {"dataset": "mnist"}, "metrics": {"test_loss": 700.0},
                     "training": {"binarize": "dynamic", "test_binarize_seed": 3}})
    return folder


def test_a_6d_gaussian_binarized_model_shows_its_table_and_its_terms(at, odd_model):
    select_model(at, "six-d-gauss")
    pick(at, 11)
    at.session_state["explore.section"] = "steps"
    at.run()
    assert not at.exception, at.exception
    binarized = binarized_test_images(load_dataset("mnist").test_images, "dynamic", 3)[11:12]
    want = library(odd_model, to_float(binarized), 0)
    tables = {tuple(df.value.columns): df.value for df in at.dataframe}
    enc = tables[("μ", "log σ²")]
    assert list(enc.index) == [f"z{j}" for j in range(1, 7)], "every dimension"
    np.testing.assert_array_equal(enc["μ"].to_numpy(), np.round(want["μ"].astype(np.float64), 3))
    np.testing.assert_array_equal(enc["log σ²"].to_numpy(), np.round(want["log σ²"].astype(np.float64), 3))
    np.testing.assert_array_equal(tables[("ε",)]["ε"].to_numpy(), np.round(want["ε"].astype(np.float64), 3))
    np.testing.assert_array_equal(tables[("σ", "z")]["z"].to_numpy(), np.round(want["z"].astype(np.float64), 3))
    nats = shown_nats(at)
    assert (nats["recon"], nats["kl"]) == (f"{want['recon']:.2f}", f"{want['kl']:.2f}")
    images = [cap for img in at.image for cap in img.captions]
    assert "test image #11 (6), binarized once with seed 3 as this model's test loss is measured" in images
    captions = " ".join(c.value for c in at.caption)
    assert f"β = 2: {want['loss']:.2f} nats here" in captions, "loss_terms' objective, recon + β KL"
    assert any(r"\sigma_x^2" in t.value for t in at.latex), "the Gaussian's formula"


def test_presenting_shows_one_step_at_a_time_and_the_link_keeps_it(checkpoints, monkeypatch):
    app = fresh(checkpoints, monkeypatch, {**STEPS_QUERY, "pr": "1"})
    titles = lambda: [md.value for md in app.markdown if re.search(r"\*\*\d/6 · ", md.value)]  # noqa: E731
    assert titles()[0].endswith("**1/6 · The image x**")
    assert not shown_vectors(app), "only the image"
    assert not [m for m in plane_data(app)["marks"] if m["label"] == "z"], "z is not drawn before its step"
    assert app.button(key="lecture_build_prev").disabled
    for n in range(2, 7):
        app.button(key="lecture_build_next").click().run()
        assert not app.exception, app.exception
        heads = ("The encoder", "A draw", "z =", "The decoder", "The loss")
        assert titles()[0].split("· ")[-1].startswith(heads[n - 2])
        assert app.query_params["sn"] == str(n)
    assert app.button(key="lecture_build_next").disabled, "the last step: → moves to the next scene"
    assert shown_nats(app)["kl"], "the loss step"
    assert [m for m in plane_data(whole_page(app))["marks"] if m["label"] == "z"], "z on the map from its step on"
    app.button(key="lecture_build_prev").click().run()
    assert app.query_params["sn"] == "5"

    linked = fresh(checkpoints, monkeypatch, {**STEPS_QUERY, "pr": "1", "sn": "3", "es": "4"})
    want = library(checkpoints[0] / "mnist-mlp", mnist_test_image(7), 4)
    assert shown_vectors(linked) == {"ε": printed(want["ε"])}, "the link's step and ε"


def test_your_digit_comes_first_and_the_pick_is_a_choice_away(checkpoints, monkeypatch):
    pixels = drawing.digit_from_text(drawing.digit_text(mnist_test_image(3)[0, 0].numpy()))  # as a link carries it
    app = fresh(checkpoints, monkeypatch, {**STEPS_QUERY, "dg": drawing.digit_text(pixels)})
    folder = checkpoints[0] / "mnist-mlp"
    want = library(folder, torch.from_numpy(np.asarray(pixels, np.float32))[None, None], 0)
    assert shown_vectors(app)["μ"] == printed(want["μ"]) and shown_nats(app)["recon"] == f"{want['recon']:.2f}"
    app.radio(key="explore_steps_of_widget").set_value("pick").run()
    assert not app.exception, app.exception
    assert shown_vectors(whole_page(app))["μ"] == printed(library(folder, mnist_test_image(7), 0)["μ"])


def test_without_a_pick_or_a_digit_it_says_what_to_do(checkpoints, monkeypatch):
    app = fresh(checkpoints, monkeypatch, {"m": "pretrained/mnist-mlp", "sub": "steps"})
    assert [i.value for i in app.info if i.value.startswith("Pick a test image")]
    assert not [m for m in plane_data(app)["marks"] if m["label"] == "z"]
