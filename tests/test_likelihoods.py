"""Likelihoods that are likelihoods: binarized MNIST, the continuous Bernoulli, the papers' NLL, the IWAE objective,
and their settings on the command line and in config.json."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from conftest import PRETRAINED

from vae_core import settings
from vae_core.checkpoint import load_checkpoint, read_config, save_checkpoint
from vae_core.config import VAEConfig
from vae_core.data import binarize, binarized_test_images, to_float
from vae_core.evaluate import binarization_of, data_label, evaluate, iwae_nll
from vae_core.evaluate import main as evaluate_main
from vae_core.losses import cb_log_c, cb_log_norm, cb_mean, continuous_bernoulli_nll, log_standard_normal
from vae_core.model import VAE
from vae_core.run_record import checkpoint_meta
from vae_core.train import configs_from_args, parse_args, train
from vae_core.train import main as train_main
from vae_core.train_config import TrainConfig

# lambda near 1/2 (the Taylor branch and just past it, either side), and far from it
LAMBDAS = (0.001, 0.1, 0.3, 0.49, 0.4975, 0.49999, 0.5, 0.50001, 0.5025, 0.51, 0.7, 0.9, 0.999)


def _eta(lam: float) -> torch.Tensor:
    return torch.logit(torch.tensor(lam, dtype=torch.float64))


# --- the continuous Bernoulli ------------------------------------------------------------------------------


@pytest.mark.parametrize("lam", LAMBDAS)
def test_continuous_bernoulli_density_integrates_to_one(lam):
    """exp(-nll) over x in [0, 1], by the trapezoid rule on 200,001 points, is 1: a density of grey levels."""
    x = torch.linspace(0, 1, 200_001, dtype=torch.float64).unsqueeze(1)  # 200,001 one-pixel images
    density = torch.exp(-continuous_bernoulli_nll(_eta(lam).expand(len(x), 1), x))
    assert torch.trapezoid(density, x.squeeze(1)).item() == pytest.approx(1.0, abs=1e-6)
    # the Bernoulli's cross-entropy on the same grey levels integrates to less than 1 (1/C(lambda)): no density
    bce = torch.nn.functional.binary_cross_entropy_with_logits(_eta(lam).expand(len(x), 1), x, reduction="none")
    assert torch.trapezoid(torch.exp(-bce.squeeze(1)), x.squeeze(1)).item() < 0.51


@pytest.mark.parametrize("lam", LAMBDAS)
def test_log_normalising_constant_is_the_closed_form_and_smooth_at_one_half(lam):
    eta = _eta(lam).requires_grad_(True)
    log_c = cb_log_c(eta)
    t = torch.tensor(1 - 2 * lam, dtype=torch.float64)
    closed = math.log(2.0) if lam == 0.5 else torch.log(2 * torch.atanh(t) / t).item()  # C(1/2) = 2
    assert log_c.item() == pytest.approx(closed, rel=1e-9, abs=1e-12)
    log_c.backward()
    assert math.isfinite(eta.grad.item())
    # in float32 too (what training uses), near 1/2 where the closed form is 0/0
    assert math.isfinite(cb_log_c(eta.detach().float()).item())
    assert cb_log_c(eta.detach().float()).item() == pytest.approx(closed, abs=1e-5)


@pytest.mark.parametrize("lam", (0.05, 0.4999, 0.5, 0.6, 0.95))
def test_continuous_bernoulli_mean_is_its_first_moment(lam):
    x = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    eta = _eta(lam)
    density = torch.exp(eta * x - cb_log_norm(eta))
    assert cb_mean(eta).item() == pytest.approx(torch.trapezoid(x * density, x).item(), abs=1e-8)


def test_a_continuous_bernoulli_vae_trains_and_decodes_its_mean(mnist):
    cfg = VAEConfig(hidden=(32,), likelihood="continuous-bernoulli")
    result = train(cfg, TrainConfig(limit=500, epochs=1, batch_size=100, device="cpu"),
                   data=dataclasses.replace(mnist, test_images=mnist.test_images[:200]))
    assert result.status == "completed"
    # a log density of grey levels: below zero is possible, and a trained model is well below the untrained one
    assert math.isfinite(result.history["epochs"][-1]["test_loss"])
    with torch.no_grad():
        z = torch.randn(8, 2)
        images = result.model.decode(z)
        assert torch.allclose(images, cb_mean(result.model.decode_raw(z)))
    assert images.min() >= 0 and images.max() <= 1


# --- binarization ------------------------------------------------------------------------------------------


def test_binarize_draws_each_pixel_with_its_grey_level(mnist):
    images = mnist.train_images[:3000]
    a = binarize(images, torch.Generator().manual_seed(5))
    assert a.dtype == torch.uint8 and set(a.unique().tolist()) <= {0, 255}
    assert (a[images == 0] == 0).all() and (a[images == 255] == 255).all()
    # the share of pixels on is the mean grey level
    assert (a.float().mean() / 255).item() == pytest.approx((images.float().mean() / 255).item(), abs=2e-3)
    mid = (images > 100) & (images < 155)  # pixels near grey 0.5 are on about half the time
    assert (a[mid].float().mean() / 255).item() == pytest.approx(0.5, abs=0.03)
    # seeded: the same seed draws the same images; a generator goes on to new draws (a fresh one each epoch)
    gen = torch.Generator().manual_seed(5)
    assert torch.equal(binarize(images, gen), a)
    assert not torch.equal(binarize(images, gen), a)


def test_test_set_binarization_is_fixed_by_its_seed(mnist):
    images = mnist.test_images[:500]
    assert binarized_test_images(images, "none", 0) is images
    assert torch.equal(binarized_test_images(images, "dynamic", 3), binarized_test_images(images, "static", 3))
    assert not torch.equal(binarized_test_images(images, "dynamic", 3), binarized_test_images(images, "dynamic", 4))


@pytest.fixture(scope="module")
def binarized(mnist, tmp_path_factory):
    """A tiny 5-D model trained on dynamically binarized MNIST, and its checkpoint folder."""
    model_cfg = VAEConfig(hidden=(64,), latent_dim=5)
    cfg = TrainConfig(limit=3000, epochs=2, batch_size=100, device="cpu", binarize="dynamic", test_binarize_seed=7)
    small = dataclasses.replace(mnist, test_images=mnist.test_images[:500])
    result = train(model_cfg, cfg, data=small)
    assert result.status == "completed"
    folder = tmp_path_factory.mktemp("binarized") / "tiny"
    save_checkpoint(result.model, folder, checkpoint_meta(model_cfg, cfg, result, mnist, "pytest"))
    return result, folder


def test_training_measures_on_the_binarized_test_set(binarized, mnist):
    result, folder = binarized
    recorded = result.history["epochs"][-1]["test_loss"]
    images = mnist.test_images[:500]
    on_binary = evaluate(result.model, "mnist", iwae_k=0, limit=500, binarize="dynamic", binarize_seed=7)
    assert on_binary["test_loss"] == pytest.approx(recorded, rel=1e-5)  # the recorded seed's binarization
    on_grey = evaluate(result.model, "mnist", iwae_k=0, limit=500)
    assert on_grey["test_loss"] != on_binary["test_loss"] and on_grey["data"].startswith("Bernoulli cross-entropy")
    assert len(images) == on_binary["n_test"]
    config = read_config(folder)
    assert binarization_of(config) == ("dynamic", 7)
    assert config["training"]["binarize"] == "dynamic" and config["training"]["test_binarize_seed"] == 7


def test_binarized_evaluation_is_reproducible_and_another_seed_agrees_within_noise(binarized):
    model = binarized[0].model
    kw = dict(iwae_k=0, binarize="dynamic", nll_k=20, every=5)  # 2,000 test images spread over the set
    a = evaluate(model, "mnist", binarize_seed=0, **kw)
    assert evaluate(model, "mnist", binarize_seed=0, **kw) == {**a, "nll_seconds": pytest.approx(a["nll_seconds"],
                                                                                                  abs=60)}
    b = evaluate(model, "mnist", binarize_seed=1, **kw)
    assert a["n_test"] == b["n_test"] == 2000
    assert a["nll"] != b["nll"]  # another draw of the pixels
    # ... of the same images: the figures agree within the noise of one binarization (the standard error over
    # the images bounds it from above; grey levels are tens of nats away)
    assert abs(a["nll"] - b["nll"]) < 2 * math.hypot(a["nll_se"], b["nll_se"]), (a, b)
    assert abs(a["nll"] - b["nll"]) < 1.0


# --- the papers' NLL ---------------------------------------------------------------------------------------


def test_nll_estimate_approaches_the_exact_marginal():
    """A 1-D latent and a 6-pixel image: log p(x) = log int p(x|z) N(z; 0, 1) dz by quadrature over z, exactly
    enough; the importance-sampled estimate with k = 5000 lands on it, the one-sample bound (the ELBO) does not."""
    torch.manual_seed(3)
    model = VAE(VAEConfig(latent_dim=1, hidden=(8,), image_shape=(1, 1, 6))).eval()
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(4.0)  # p(x|z) changes a lot with z: a posterior far from the prior
    images = torch.tensor([[0, 0, 0, 0, 0, 0], [255, 0, 255, 0, 255, 255], [255] * 6, [0, 255, 0, 0, 255, 0]],
                          dtype=torch.uint8).view(4, 1, 6)
    x = to_float(images)
    z = torch.linspace(-12, 12, 48_001, dtype=torch.float64).unsqueeze(1)
    with torch.no_grad():
        logits = model.decoder.double()(z).view(len(z), -1)
        model.float()
        log_joint = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits.unsqueeze(1).expand(-1, 4, -1), x.double().view(1, 4, 6).expand(len(z), -1, -1),
            reduction="none").sum(2) + log_standard_normal(z).unsqueeze(1)
    exact = -(torch.logsumexp(log_joint, 0) + math.log((z[1] - z[0]).item()))  # -log p(x), [4]
    far = iwae_nll(model, images, k=1, seed=0)
    near = iwae_nll(model, images, k=5000, seed=0)
    assert torch.allclose(near, exact, atol=0.1), (near, exact)
    assert (far - exact).abs().mean() > 10 * (near - exact).abs().mean(), (far, near, exact)
    assert (near >= exact - 0.05).all()  # an upper bound on -log p(x), in expectation


def test_evaluate_cli_prints_the_nll_with_its_standard_error(binarized, capsys):
    _, folder = binarized
    argv = [str(folder), "--json", "--iwae-k", "0", "--nll-k", "50", "--every", "25"]
    assert evaluate_main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_test"] == 400 and out["nll_k"] == 50
    assert out["data"].startswith("-log p(x) of binarized test images") and "seed 7" in out["data"]
    assert 0 < out["nll_se"] < 5 and out["nll"] < out["test_loss"] + 1
    assert evaluate_main(argv + ["--test-binarize-seed", "8"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert "seed 8" in other["data"] and other["nll"] != out["nll"]
    assert evaluate_main(argv[:-2] + ["--nll-k", "5001"]) == 2
    assert capsys.readouterr().err.startswith("error: --nll-k must be at most 5,000")


# --- the IWAE objective ------------------------------------------------------------------------------------


def test_the_iwae_objective_is_tighter_than_the_elbo(binarized, mnist):
    model = binarized[0].model
    x = to_float(binarize(mnist.test_images[:300], torch.Generator().manual_seed(0)))
    with torch.no_grad():
        elbo = model.loss_terms(x, torch.Generator().manual_seed(1))["loss"].mean()
        iwae = model.loss_terms(x, torch.Generator().manual_seed(1), k=20)
    assert iwae["loss"].shape == (300,) and iwae["recon"].shape == (300,)
    assert iwae["loss"].mean() < elbo - 0.5, (iwae["loss"].mean(), elbo)
    cfg = TrainConfig(limit=500, epochs=1, batch_size=100, device="cpu", binarize="static", iwae_samples=4)
    result = train(VAEConfig(hidden=(32,)), cfg, data=dataclasses.replace(mnist, test_images=mnist.test_images[:200]))
    assert result.status == "completed" and math.isfinite(result.history["epochs"][-1]["test_loss"])


# --- settings: the command line, config.json, old checkpoints ----------------------------------------------


def test_cli_flags_reach_the_checkpoint_and_round_trip(tmp_path, capsys):
    out = tmp_path / "m"
    argv = ["--hidden", "24", "--latent-dim", "3", "--activation", "tanh", "--binarize", "dynamic",
            "--test-binarize-seed", "11", "--iwae-samples", "2", "--epochs", "1", "--limit", "256",
            "--batch-size", "128", "--device", "cpu", "--out", str(out)]
    assert train_main(argv) == 0
    capsys.readouterr()
    model, config = load_checkpoint(out)
    assert model.cfg.activation == "tanh" and isinstance(model.encoder.body[2], torch.nn.Tanh)
    assert {k: config["training"][k] for k in ("binarize", "test_binarize_seed", "iwae_samples")} == \
        {"binarize": "dynamic", "test_binarize_seed": 11, "iwae_samples": 2}
    model_cfg, train_cfg = configs_from_args(parse_args(argv))
    assert model.cfg == model_cfg
    # the command text the Train form shows parses back to the same run
    assert configs_from_args(parse_args(settings.to_args(model_cfg, train_cfg))) == (model_cfg, train_cfg)
    assert "--binarize dynamic" in settings.command(model_cfg, train_cfg)


@pytest.mark.parametrize("argv,start", [
    (["--iwae-samples", "0"], "error: --iwae-samples must be at least 1"),
    (["--test-binarize-seed", "-1", "--binarize", "dynamic"], "error: --test-binarize-seed must be at least 0"),
])
def test_bad_flags_are_one_line(tmp_path, capsys, argv, start):
    assert train_main(argv + ["--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.startswith(start)
    for bad in (["--binarize", "sometimes"], ["--activation", "sine"], ["--likelihood", "poisson"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_an_old_checkpoint_is_bernoulli_on_grey_levels():
    """A checkpoint from before these settings (no activation, no binarize) loads as what it was."""
    model, config = load_checkpoint(PRETRAINED / "mnist-mlp")
    assert "activation" not in json.loads((PRETRAINED / "mnist-mlp" / "config.json").read_text())["model"]
    assert model.cfg.activation == "relu" and model.cfg.likelihood == "bernoulli"
    assert binarization_of(config) == ("none", None)
    assert "not a log-likelihood" in data_label(model.cfg.likelihood, "none", None)


def test_the_model_card_says_what_its_nats_are_on(binarized):
    """The sidebar's card: a binarized model's nats are -log p(x) of 0/1 images; an old grey-level Bernoulli
    model's are a cross-entropy, and the card says so."""
    from types import SimpleNamespace

    from dashboard.model.sidebar import model_summary

    old_model, old_config = load_checkpoint(PRETRAINED / "mnist-mlp")
    old = model_summary(SimpleNamespace(model=old_model, config=old_config, dataset="mnist"))
    assert "nats: Bernoulli cross-entropy on grey levels (not a log-likelihood" in old
    result, folder = binarized
    config = read_config(folder)
    config["metrics"].update(nll=91.234, nll_k=5000)
    card = model_summary(SimpleNamespace(model=result.model, config=config, dataset="mnist"))
    assert "nats: -log p(x) of binarized test images (0/1 pixels, seed 7)" in card
    assert "test NLL 91.23 nats (k = 5,000)" in card
    # the shipped binarized model: fine-tuned on the IWAE bound from an ELBO-trained model's weights
    shipped, shipped_config = load_checkpoint(PRETRAINED / "mnist50-binarized")
    card = model_summary(SimpleNamespace(model=shipped, config=shipped_config, dataset="mnist"))
    assert "60 epochs on the IWAE bound, k = 5, from another model's weights" in card
