"""The denoising VAE (Im et al. 2017): encode a corrupted x~, score the decoder against the clean x.

    loss = -log p(x | z) + beta KL(q(z|x~) || p(z)),   z ~ q(z|x~)
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from tests.conftest import tiny_cfg
from vae_core.evaluate import evaluate_elbo
from vae_core.model import VAE
from vae_core.noise import corrupt
from vae_core.train import main, train
from vae_core.train_config import TrainConfig

TINY = tiny_cfg(hidden=(64,))


@pytest.fixture(scope="module")
def small_test_set(mnist):
    return dataclasses.replace(mnist, test_images=mnist.test_images[:500], test_labels=mnist.test_labels[:500])


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_loss_uses_the_noisy_input_and_the_clean_target(mnist_batch, beta):
    torch.manual_seed(0)
    model = VAE(dataclasses.replace(TINY, beta=beta))
    x = mnist_batch[:8]
    x_noisy = corrupt(x, "gaussian", 0.3, torch.Generator().manual_seed(1))
    terms = model.loss_terms(x_noisy, torch.Generator().manual_seed(2), target=x)

    # by hand: q(z|x~), z = mu + sigma eps with the same eps, Bernoulli -log p(x|z) of the CLEAN x, closed-form KL
    mu, logvar = model.encode(x_noisy)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(2))
    z = mu + torch.exp(0.5 * logvar) * eps
    p = torch.sigmoid(model.decode_raw(z)).flatten(1).double()
    t = x.flatten(1).double()
    recon = -(t * torch.log(p) + (1 - t) * torch.log1p(-p)).sum(1)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(1)
    assert torch.allclose(terms["recon"].double(), recon, rtol=1e-4)
    assert torch.allclose(terms["kl"], kl, rtol=1e-5)
    assert torch.allclose(terms["loss"], terms["recon"] + beta * terms["kl"])

    # scoring against the noisy image instead is a different loss (what a plain VAE on noisy data would learn)
    noisy_target = model.loss_terms(x_noisy, torch.Generator().manual_seed(2))
    assert torch.equal(noisy_target["kl"], terms["kl"])  # the same posterior
    tn = x_noisy.flatten(1).double()
    assert torch.allclose(noisy_target["recon"].double(), -(tn * torch.log(p) + (1 - tn) * torch.log1p(-p)).sum(1),
                          rtol=1e-4)
    assert (noisy_target["recon"] - terms["recon"]).abs().max() > 1.0  # nats per image
    # and target=x is what a plain call does on a clean image
    clean = model.loss_terms(x, torch.Generator().manual_seed(2))
    assert torch.equal(model.loss_terms(x, torch.Generator().manual_seed(2), target=x)["loss"], clean["loss"])


def test_denoising_training_is_reproducible_and_differs_from_plain(small_test_set):
    cfg = TrainConfig(limit=256, epochs=1, batch_size=64, device="cpu", seed=7)
    dvae = dataclasses.replace(cfg, corruption="gaussian", corruption_level=0.3)
    a = train(TINY, dvae, data=small_test_set).model.state_dict()
    torch.manual_seed(999)  # the global generator does not feed the corruption
    b = train(TINY, dvae, data=small_test_set).model.state_dict()
    plain = train(TINY, cfg, data=small_test_set).model.state_dict()
    sp = train(TINY, dataclasses.replace(cfg, corruption="salt-and-pepper", corruption_level=0.3),
               data=small_test_set).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["decoder.net.2.weight"], plain["decoder.net.2.weight"])
    assert not torch.equal(a["decoder.net.2.weight"], sp["decoder.net.2.weight"])


def test_corruption_has_its_own_generator(small_test_set):
    """A corruption too faint to matter trains almost the weights of a clean run: the batch order and the
    eps of the reparameterisation come out of their generators as they do without it."""
    cfg = TrainConfig(limit=256, epochs=1, batch_size=64, device="cpu", seed=7)
    plain = train(TINY, cfg, data=small_test_set)
    faint = train(TINY, dataclasses.replace(cfg, corruption="gaussian", corruption_level=1e-12), data=small_test_set)
    for k, v in plain.model.state_dict().items():
        assert torch.allclose(v, faint.model.state_dict()[k], atol=1e-5), k
    other_seed = train(TINY, dataclasses.replace(cfg, seed=8), data=small_test_set)
    assert not torch.allclose(plain.model.state_dict()["decoder.net.2.weight"],
                              other_seed.model.state_dict()["decoder.net.2.weight"], atol=1e-5)


def test_test_loss_is_the_plain_elbo_on_clean_test_images(small_test_set):
    cfg = TrainConfig(limit=256, epochs=1, batch_size=64, device="cpu", seed=7, corruption="salt-and-pepper",
                      corruption_level=0.2)
    result = train(TINY, cfg, data=small_test_set)
    last = result.history["epochs"][-1]
    clean = evaluate_elbo(result.model, small_test_set.test_images, seed=cfg.seed)
    assert last["test_loss"] == clean["test_loss"] and last["test_kl"] == clean["test_kl"]


@pytest.mark.parametrize("kw,msg", [(dict(corruption="speckle", corruption_level=0.1), "noise kind"),
                                    (dict(corruption="gaussian"), "needs a level"),
                                    (dict(corruption_level=0.2), "needs a corruption"),
                                    (dict(corruption="gaussian", corruption_level=-1.0), "level"),
                                    (dict(corruption="salt-and-pepper", corruption_level=1.5), "fraction")])
def test_train_config_rejects_bad_corruptions(kw, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**kw)


def test_cli_records_the_corruption(tmp_path, capsys):
    out = tmp_path / "dvae"
    argv = ["--hidden", "64", "--device", "cpu", "--limit", "200", "--epochs", "1",
            "--corruption", "gaussian", "--corruption-level", "0.3", "--out", str(out)]
    assert main(argv) == 0
    training = json.loads((out / "config.json").read_text())["training"]
    assert training["corruption"] == "gaussian" and training["corruption_level"] == 0.3

    plain = tmp_path / "plain"
    assert main(["--hidden", "64", "--device", "cpu", "--limit", "200", "--epochs", "1", "--out", str(plain)]) == 0
    training = json.loads((plain / "config.json").read_text())["training"]
    assert training["corruption"] == "none" and training["corruption_level"] == 0.0


def test_cli_rejects_a_corruption_without_a_level(tmp_path, capsys):
    capsys.readouterr()
    assert main(["--corruption", "gaussian", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: a corruption needs a level above 0") and "Traceback" not in err
    assert not (tmp_path / "m").exists()
