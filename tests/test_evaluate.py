"""Test-set ELBO and the IWAE bound, and the evaluate command line."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from conftest import PRETRAINED

from vae_core.checkpoint import load_checkpoint, read_config, save_checkpoint
from vae_core.config import VAEConfig
from vae_core.evaluate import evaluate, evaluate_elbo, evaluate_iwae, main
from vae_core.model import VAE
from vae_core.run_record import checkpoint_meta
from vae_core.train import train
from vae_core.train_config import TrainConfig

TINY = VAEConfig(hidden=(64,))


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    """A briefly trained tiny model and its checkpoint folder (as the training CLI would write it)."""
    small = dataclasses.replace(mnist, test_images=mnist.test_images[:500], test_labels=mnist.test_labels[:500])
    cfg = TrainConfig(limit=2000, epochs=1, batch_size=100, device="cpu", seed=0)
    result = train(TINY, cfg, data=small)
    assert result.status == "completed"
    folder = tmp_path_factory.mktemp("eval") / "tiny"
    save_checkpoint(result.model, folder, checkpoint_meta(TINY, cfg, result, mnist, "pytest"))
    return result.model, folder


# --- evaluate_elbo / evaluate_iwae -------------------------------------------------------------------------


def test_elbo_is_seeded_and_restores_the_mode(trained, mnist):
    model, _ = trained
    images = mnist.test_images[:300]
    model.train()
    a = evaluate_elbo(model, images, batch_size=100, seed=0)
    assert model.training  # put back as it was
    model.eval()
    b = evaluate_elbo(model, images, batch_size=100, seed=0)
    assert not model.training
    assert a == b
    assert set(a) == {"test_loss", "test_recon", "test_kl"}
    assert a["test_loss"] == pytest.approx(a["test_recon"] + a["test_kl"])
    assert a["test_kl"] > 0
    c = evaluate_elbo(model, images, batch_size=100, seed=1)
    assert c["test_loss"] != a["test_loss"]  # a different z sample
    assert c["test_kl"] == pytest.approx(a["test_kl"])  # the KL is closed form: no sampling


def test_elbo_matches_loss_terms(trained, mnist):
    """The evaluation is the mean of loss_terms' recon + KL (up to the z sample): check with z = mu."""
    model, _ = trained
    from vae_core.data import to_float
    from vae_core.losses import kl_to_standard_normal, reconstruction_nll

    x = to_float(mnist.test_images[:200])
    out = evaluate_elbo(model, mnist.test_images[:200], seed=0)
    mu, logvar = model.encode(x)
    kl = kl_to_standard_normal(mu, logvar).mean().item()
    assert out["test_kl"] == pytest.approx(kl, rel=1e-5)
    # the decoder at the posterior mean reconstructs roughly as well as at a sample
    recon_at_mean = reconstruction_nll(model.decode_raw(mu), x, "bernoulli", 0.1).mean().item()
    assert abs(out["test_recon"] - recon_at_mean) < 0.2 * recon_at_mean


def test_iwae_bound_is_tighter_than_the_elbo(trained, mnist):
    model, _ = trained
    result = evaluate(model, "mnist", iwae_k=50, limit=200)
    assert result["n_test"] == 200 and result["iwae_k"] == 50
    assert math.isfinite(result["iwae_bound"])
    assert result["iwae_bound"] <= result["test_loss"] + 0.5, result
    # and a k=1 "bound" is the ELBO itself, in expectation
    k1 = evaluate_iwae(model, mnist.test_images[:200], k=1, seed=0)
    assert k1 == pytest.approx(result["test_loss"], abs=3.0)
    assert result["iwae_bound"] < k1


def test_iwae_is_seeded(trained, mnist):
    model, _ = trained
    images = mnist.test_images[:50]
    assert evaluate_iwae(model, images, k=5, seed=0) == evaluate_iwae(model, images, k=5, seed=0)
    assert evaluate_iwae(model, images, k=5, seed=0) != evaluate_iwae(model, images, k=5, seed=1)


def test_iwae_log_likelihood_exact_for_a_posterior_equal_to_the_prior():
    """If q(z|x) = p(z) and p(x|z) does not depend on z, every weight is p(x): the estimate is exact for any k."""
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=(8,), likelihood="gaussian", sigma=0.5))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()  # mu = 0, logvar = 0 (q = prior); decoder output 0 for every z
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    from torch.distributions import Normal

    exact = Normal(0.0, 0.5).log_prob(x).flatten(1).sum(1)
    for k in (1, 7):
        est = model.iwae_log_likelihood(x, k, generator=torch.Generator().manual_seed(2))
        assert est.shape == (3,)
        assert torch.allclose(est, exact, rtol=1e-5)


def test_evaluate_without_iwae(trained):
    model, _ = trained
    result = evaluate(model, "mnist", iwae_k=0, limit=100)
    assert set(result) == {"dataset", "n_test", "data", "test_loss", "test_recon", "test_kl"}
    assert result["dataset"] == "mnist" and result["n_test"] == 100


# --- the command line ------------------------------------------------------------------------------


def test_cli_json(trained, capsys):
    _, folder = trained
    assert main([str(folder), "--json", "--iwae-k", "5", "--limit", "200"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) >= {"test_loss", "test_recon", "test_kl", "iwae_bound", "n_test", "dataset"}
    assert result["n_test"] == 200 and result["dataset"] == "mnist" and result["iwae_k"] == 5
    assert all(math.isfinite(result[k]) for k in ("test_loss", "test_recon", "test_kl", "iwae_bound"))
    # the same numbers as the library call
    model, _ = load_checkpoint(folder)
    assert result["test_loss"] == pytest.approx(evaluate(model, "mnist", iwae_k=0, limit=200)["test_loss"])


def test_cli_text(trained, capsys):
    _, folder = trained
    assert main([str(folder), "--iwae-k", "0", "--limit", "100"]) == 0
    out = capsys.readouterr().out.splitlines()
    keys = [line.split(":")[0].strip() for line in out]
    assert keys == ["dataset", "n_test", "data", "test_loss", "test_recon", "test_kl"]
    assert out[1].split(":")[1].strip() == "100"


@pytest.mark.parametrize("what", ["missing", "empty", "corrupt-weights", "bad-json"])
def test_cli_bad_folder_is_one_line_on_stderr(trained, tmp_path, capsys, what):
    _, good = trained
    folder = tmp_path / "ck"
    if what == "empty":
        folder.mkdir()
    elif what in ("corrupt-weights", "bad-json"):
        folder.mkdir()
        (folder / "config.json").write_text((good / "config.json").read_text() if what != "bad-json" else "{oops")
        (folder / "model.safetensors").write_bytes(b"\x00" * 100)
    rc = main([str(folder), "--json", "--iwae-k", "0"])
    captured = capsys.readouterr()
    assert rc != 0
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and str(folder) in lines[0]
    assert "Traceback" not in captured.err


@pytest.mark.skipif(not (PRETRAINED / "mnist-mlp" / "config.json").is_file(), reason="no pretrained/mnist-mlp")
def test_pretrained_mnist_mlp_matches_its_recorded_test_loss():
    folder = PRETRAINED / "mnist-mlp"
    config = read_config(folder)
    model, _ = load_checkpoint(folder)
    result = evaluate(model, config["data"]["dataset"], iwae_k=0)
    assert result["n_test"] == 10000
    assert abs(result["test_loss"] - config["metrics"]["test_loss"]) < 1.0, (result, config["metrics"])


# --- IWAE in chunks: memory bounded whatever k, the same value ----------------------------------------------


def _iwae_in_one_go(model: VAE, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """The IWAE estimate as it was computed before chunking: all k samples at once."""
    from vae_core.losses import log_normal, log_standard_normal, reconstruction_nll

    mu, logvar = model.encode(x)
    b, d = mu.shape
    z = mu + torch.exp(0.5 * logvar) * torch.randn(k, b, d, generator=generator)
    out = model.decode_raw(z.reshape(k * b, d))
    x_rep = x.unsqueeze(0).expand(k, *x.shape).reshape(k * b, *x.shape[1:])
    log_w = (-reconstruction_nll(out, x_rep, model.cfg.likelihood, model.cfg.sigma).view(k, b)
             + log_standard_normal(z) - log_normal(z, mu, logvar))
    return torch.logsumexp(log_w, 0) - math.log(k)


@pytest.mark.parametrize("k", [1, 16, 100, 333])
def test_chunked_iwae_equals_the_one_go_estimate(trained, mnist, k):
    model, _ = trained
    x = mnist.test_images[:40].unsqueeze(1).float() / 255
    with torch.no_grad():
        want = _iwae_in_one_go(model, x, k, torch.Generator().manual_seed(3))
        default = model.iwae_log_likelihood(x, k, generator=torch.Generator().manual_seed(3))
        tiny_chunks = model.iwae_log_likelihood(x, k, generator=torch.Generator().manual_seed(3), chunk_floats=1)
    assert torch.allclose(default, want, atol=1e-4, rtol=0)
    assert torch.allclose(tiny_chunks, want, atol=1e-4, rtol=0)  # chunks of 16 samples


@pytest.mark.parametrize("argv,flag", [(["--iwae-k", "5001"], "--iwae-k"), (["--iwae-k", "-1"], "--iwae-k"),
                                       (["--limit", "0"], "--limit")])
def test_cli_flags_out_of_range_name_the_flag(trained, capsys, argv, flag):
    _, folder = trained
    assert main([str(folder), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"error: {flag} must be")
    assert len(captured.err.strip().splitlines()) == 1
