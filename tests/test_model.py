"""The VAE: shapes and ranges, the ELBO terms against their formulas, the reparameterisation, the helpers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_cfg
from torch.distributions import Normal, kl_divergence

from vae_core import losses
from vae_core.architectures import BUILDERS
from vae_core.config import VAEConfig
from vae_core.model import VAE, interpolate_latents, latent_grid_points

CASES = [(a, lik, d) for a in ("mlp", "conv") for lik in ("bernoulli", "gaussian") for d in (2, 5)]


def _images(b: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 1, 28, 28, generator=g)


# --- shapes and ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize("arch,likelihood,latent_dim", CASES)
def test_encode_decode_shapes_and_ranges(arch, likelihood, latent_dim):
    torch.manual_seed(1)
    model = VAE(tiny_cfg(arch, likelihood, latent_dim)).eval()
    x = _images(6)

    mu, logvar = model.encode(x)
    assert mu.shape == (6, latent_dim) and logvar.shape == (6, latent_dim)
    assert torch.isfinite(mu).all() and torch.isfinite(logvar).all()

    z = 3 * torch.randn(6, latent_dim, generator=torch.Generator().manual_seed(2))
    raw = model.decode_raw(z)
    img = model.decode(z)
    assert raw.shape == (6, 1, 28, 28) and img.shape == (6, 1, 28, 28)
    assert img.min() >= 0 and img.max() <= 1
    if likelihood == "bernoulli":
        assert torch.allclose(img, torch.sigmoid(raw))
    else:
        assert torch.equal(img, raw.clamp(0, 1))

    terms = model.loss_terms(x)
    assert set(terms) == {"loss", "recon", "kl"}
    for v in terms.values():
        assert v.shape == (6,) and torch.isfinite(v).all()
    assert (terms["kl"] >= 0).all()
    assert torch.allclose(terms["loss"], terms["recon"] + model.cfg.beta * terms["kl"])


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_decode_stays_in_unit_interval_for_extreme_latents(arch):
    torch.manual_seed(0)
    model = VAE(tiny_cfg(arch, "gaussian", 2)).eval()
    z = torch.tensor([[1e3, -1e3], [-1e3, 1e3], [0.0, 0.0]])
    img = model.decode(z)
    assert img.min() >= 0 and img.max() <= 1


def test_beta_weights_kl_in_loss():
    x = _images(4)
    torch.manual_seed(0)
    model = VAE(tiny_cfg(beta=0.25))
    torch.manual_seed(5)
    terms = model.loss_terms(x)
    assert torch.allclose(terms["loss"], terms["recon"] + 0.25 * terms["kl"])


@pytest.mark.parametrize("arch,latent_dim", [("mlp", 2), ("conv", 5)])
def test_sample_shape_range_and_generator(arch, latent_dim):
    torch.manual_seed(0)
    model = VAE(tiny_cfg(arch, "bernoulli", latent_dim)).eval()
    a = model.sample(7, generator=torch.Generator().manual_seed(3))
    b = model.sample(7, generator=torch.Generator().manual_seed(3))
    c = model.sample(7, generator=torch.Generator().manual_seed(4))
    assert a.shape == (7, 1, 28, 28)
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # sample(n) is decode of n prior draws from that generator
    z = torch.randn(7, latent_dim, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(a, model.decode(z))


@pytest.mark.parametrize("arch,likelihood", [("mlp", "bernoulli"), ("conv", "gaussian")])
def test_reconstruct_is_decode_of_posterior_mean(arch, likelihood):
    torch.manual_seed(0)
    model = VAE(tiny_cfg(arch, likelihood, 5)).eval()
    x = _images(5)
    rec = model.reconstruct(x)
    mu, _ = model.encode(x)
    assert rec.shape == x.shape
    assert torch.equal(rec, model.decode(mu))
    assert torch.equal(rec, model.reconstruct(x))  # no sampling noise
    assert rec.min() >= 0 and rec.max() <= 1


# --- interpolation and the latent grid --------------------------------------------------------------


def test_linear_interpolation_endpoints_exact_and_evenly_spaced():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(5, generator=g), torch.randn(5, generator=g)
    path = interpolate_latents(z0, z1, 9)
    assert path.shape == (9, 5)
    assert torch.equal(path[0], z0)
    assert torch.equal(path[-1], z1)
    assert torch.allclose(path[4], (z0 + z1) / 2, atol=1e-6)
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, ((z1 - z0) / 8).expand_as(steps), atol=1e-6)


def test_slerp_endpoints_and_norms():
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(5, generator=g), torch.randn(5, generator=g)
    z1 = z1 / z1.norm() * z0.norm()  # same norm: slerp must stay on that sphere
    path = interpolate_latents(z0, z1, 11, mode="slerp")
    assert path.shape == (11, 5)
    assert torch.allclose(path[0], z0, atol=1e-5)
    assert torch.allclose(path[-1], z1, atol=1e-5)
    assert torch.allclose(path.norm(dim=1), torch.full((11,), float(z0.norm())), atol=1e-4)
    # the angle to z0 grows linearly with t
    cos = (path @ z0) / (path.norm(dim=1) * z0.norm())
    angles = torch.arccos(cos.clamp(-1, 1))
    omega = angles[-1]
    assert torch.allclose(angles, torch.linspace(0, 1, 11) * omega, atol=1e-3)


def test_slerp_between_orthogonal_vectors_passes_through_the_diagonal():
    z0, z1 = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])
    path = interpolate_latents(z0, z1, 3, mode="slerp")
    r = 2 / math.sqrt(2)
    assert torch.allclose(path[1], torch.tensor([r, r]), atol=1e-6)
    # linear goes through the chord instead (norm sqrt 2, not 2)
    assert torch.allclose(interpolate_latents(z0, z1, 3)[1], torch.tensor([1.0, 1.0]))


def test_slerp_falls_back_to_linear_for_parallel_or_zero_vectors():
    z0 = torch.tensor([1.0, 2.0, 3.0])
    for z1 in (2 * z0, torch.zeros(3)):
        assert torch.allclose(interpolate_latents(z0, z1, 5, "slerp"), interpolate_latents(z0, z1, 5, "linear"))


def test_interpolation_rejects_bad_arguments():
    z = torch.zeros(2)
    with pytest.raises(ValueError, match="at least 2"):
        interpolate_latents(z, z, 1)
    with pytest.raises(ValueError, match="mode"):
        interpolate_latents(z, z, 3, mode="cubic")


@pytest.mark.parametrize("latent_dim", [2, 5])
def test_model_interpolate_decodes_the_path(latent_dim):
    torch.manual_seed(0)
    model = VAE(tiny_cfg("mlp", "bernoulli", latent_dim)).eval()
    z0, z1 = torch.randn(latent_dim), torch.randn(latent_dim)
    imgs = model.interpolate(z0, z1, 6)
    assert imgs.shape == (6, 1, 28, 28)
    assert imgs.min() >= 0 and imgs.max() <= 1
    assert torch.allclose(imgs[0], model.decode(z0.unsqueeze(0))[0])
    assert torch.allclose(imgs[-1], model.decode(z1.unsqueeze(0))[0])


def test_latent_grid_points_ordering():
    pts = latent_grid_points(1.0, 3)
    expected = torch.tensor([
        [-1.0, 1.0], [0.0, 1.0], [1.0, 1.0],  # top row: highest z2, z1 increasing left to right
        [-1.0, 0.0], [0.0, 0.0], [1.0, 0.0],
        [-1.0, -1.0], [0.0, -1.0], [1.0, -1.0],  # bottom row: lowest z2
    ])
    assert torch.allclose(pts, expected)


def test_latent_grid_points_with_explicit_extent():
    pts = latent_grid_points((0.0, 2.0, -4.0, 4.0), 5).view(5, 5, 2)
    assert torch.allclose(pts[0, :, 0], torch.linspace(0, 2, 5))  # z1 along a row
    assert torch.allclose(pts[:, 0, 1], torch.linspace(4, -4, 5))  # z2 down a column
    assert torch.all(pts[:, :, 1].max(dim=1).values == pts[:, :, 1].min(dim=1).values)  # z2 constant per row


@pytest.mark.parametrize("arch,latent_dim", [("mlp", 2), ("mlp", 5), ("conv", 2)])
def test_latent_grid_shape_and_content(arch, latent_dim):
    torch.manual_seed(0)
    model = VAE(tiny_cfg(arch, "bernoulli", latent_dim)).eval()
    n = 4
    grid = model.latent_grid(2.0, n)
    assert grid.shape == (n, n, 28, 28)
    assert grid.min() >= 0 and grid.max() <= 1
    pts = latent_grid_points(2.0, n)
    z = torch.zeros(n * n, latent_dim)
    z[:, :2] = pts  # further coordinates held at the prior mean 0
    expected = model.decode(z).view(n, n, 28, 28)
    assert torch.allclose(grid, expected)
    # top-left cell is z = (-2, +2)
    z_tl = torch.zeros(1, latent_dim)
    z_tl[0, :2] = torch.tensor([-2.0, 2.0])
    assert torch.allclose(grid[0, 0], model.decode(z_tl)[0, 0])


# --- the ELBO terms against their formulas --------------------------------------------------------


def test_kl_closed_form_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 4, generator=g, dtype=torch.float64)
    logvar = 0.5 * torch.randn(3, 4, generator=g, dtype=torch.float64)
    kl = losses.kl_to_standard_normal(mu, logvar)
    assert kl.shape == (3,)

    n = 100_000
    eps = torch.randn(n, 3, 4, generator=g, dtype=torch.float64)
    z = mu + torch.exp(0.5 * logvar) * eps
    diff = losses.log_normal(z, mu, logvar) - losses.log_standard_normal(z)  # [n, 3]
    mc = diff.mean(0)
    se = diff.std(0) / math.sqrt(n)
    assert torch.all((mc - kl).abs() < 5 * se + 1e-3), (mc, kl, se)
    assert torch.allclose(mc, kl, rtol=0.02, atol=0.02)


def test_kl_agrees_with_torch_distributions_and_is_zero_at_the_prior():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(losses.kl_to_standard_normal(mu, logvar), kl_divergence(q, p).sum(1), atol=1e-5)
    assert torch.equal(losses.kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_log_normal_and_log_standard_normal_match_torch():
    g = torch.Generator().manual_seed(2)
    z, mu, logvar = (torch.randn(4, 3, generator=g) for _ in range(3))
    expected = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    assert torch.allclose(losses.log_normal(z, mu, logvar), expected, atol=1e-5)
    assert torch.allclose(losses.log_standard_normal(z), Normal(0.0, 1.0).log_prob(z).sum(-1), atol=1e-6)
    assert torch.allclose(losses.log_standard_normal(z), losses.log_normal(z, torch.zeros(3), torch.zeros(3)))


def test_bernoulli_nll_equals_direct_formula():
    g = torch.Generator().manual_seed(3)
    logits = 4 * torch.randn(5, 1, 28, 28, generator=g, dtype=torch.float64)
    x = torch.rand(5, 1, 28, 28, generator=g, dtype=torch.float64)  # soft targets in [0, 1]
    p = torch.sigmoid(logits)
    direct = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)
    nll = losses.bernoulli_nll(logits, x)
    assert nll.shape == (5,)
    assert torch.allclose(nll, direct, rtol=1e-10, atol=1e-8)
    # binary targets: it is the Bernoulli log-probability
    xb = (x > 0.5).double()
    from torch.distributions import Bernoulli

    assert torch.allclose(losses.bernoulli_nll(logits, xb), -Bernoulli(logits=logits).log_prob(xb).flatten(1).sum(1))


def test_bernoulli_nll_gradients_are_those_of_the_formula():
    """The loss's closed-form backward (sigmoid(l) - x for the logits, -l for the targets) against numerical
    differentiation, and in float32 against autograd through binary_cross_entropy_with_logits."""
    g = torch.Generator().manual_seed(6)
    logits = (4 * torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64)).requires_grad_()
    x = torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(losses.bernoulli_nll, (logits, x))
    l32 = (4 * torch.randn(8, 784, generator=g)).requires_grad_()
    x32 = torch.rand(8, 784, generator=g)
    w = torch.rand(8, generator=g)  # a weighted sum: each image's gradient scaled by its own weight
    (losses.bernoulli_nll(l32, x32) * w).sum().backward()
    ours, l32.grad = l32.grad, None
    (torch.nn.functional.binary_cross_entropy_with_logits(l32, x32, reduction="none").sum(1) * w).sum().backward()
    assert torch.allclose(ours, l32.grad, atol=1e-6)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(l32, x32, reduction="none").sum(1)
    assert torch.allclose(losses.bernoulli_nll(l32, x32), expected, rtol=1e-5)


def test_bernoulli_nll_finite_where_sigmoid_saturates():
    logits = torch.tensor([[200.0, -200.0]])
    x = torch.tensor([[0.0, 1.0]])
    nll = losses.bernoulli_nll(logits, x)
    assert torch.isfinite(nll).all()
    assert torch.allclose(nll, torch.tensor([400.0]))


@pytest.mark.parametrize("sigma", [0.1, 1.0, 2.5])
def test_gaussian_nll_equals_normal_log_prob(sigma):
    g = torch.Generator().manual_seed(4)
    mean = torch.randn(4, 1, 28, 28, generator=g, dtype=torch.float64)
    x = torch.rand(4, 1, 28, 28, generator=g, dtype=torch.float64)
    expected = -Normal(mean, sigma).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(losses.gaussian_nll(mean, x, sigma), expected, rtol=1e-10)


def test_reconstruction_nll_dispatches_on_likelihood():
    g = torch.Generator().manual_seed(5)
    out, x = torch.randn(3, 1, 28, 28, generator=g), torch.rand(3, 1, 28, 28, generator=g)
    assert torch.equal(losses.reconstruction_nll(out, x, "bernoulli", 0.1), losses.bernoulli_nll(out, x))
    assert torch.equal(losses.reconstruction_nll(out, x, "gaussian", 0.3), losses.gaussian_nll(out, x, 0.3))


def test_loss_terms_match_formulas_with_the_same_noise():
    torch.manual_seed(0)
    model = VAE(tiny_cfg("mlp", "gaussian", 3, sigma=0.2))
    x = _images(4)
    torch.manual_seed(11)
    terms = model.loss_terms(x)
    mu, logvar = model.encode(x)
    torch.manual_seed(11)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    expected_recon = -Normal(model.decode_raw(z), 0.2).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(terms["recon"], expected_recon, rtol=1e-4)
    assert torch.allclose(terms["kl"], losses.kl_to_standard_normal(mu, logvar))


# --- the reparameterisation and learning -----------------------------------------------------------


def test_reparameterize_is_mu_plus_sigma_eps():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(4.0)]])
    torch.manual_seed(7)
    z = VAE.reparameterize(mu, logvar)
    torch.manual_seed(7)
    eps = torch.randn_like(mu)
    assert torch.allclose(z, mu + torch.tensor([[1.0, 2.0]]) * eps)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_gradients_reach_the_encoder_through_the_sample(arch):
    torch.manual_seed(0)
    model = VAE(tiny_cfg(arch, "bernoulli", 2))
    x = _images(8)
    # The reconstruction term depends on the encoder only through z = mu + sigma * eps.
    recon = model.loss_terms(x)["recon"].mean()
    recon.backward()
    enc = model.encoder
    for name, p in [("to_mu", enc.to_mu.weight), ("to_logvar", enc.to_logvar.weight),
                    ("first layer", next(enc.body.parameters()))]:
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name

    # and through the full loss too
    model.zero_grad()
    model(x)["loss"].mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_loss_falls_on_a_fixed_batch(mnist_batch):
    torch.manual_seed(0)
    model = VAE(tiny_cfg("mlp", "bernoulli", 2, hidden=(64,)))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = mnist_batch

    def fixed_noise_loss() -> float:
        torch.manual_seed(123)
        with torch.no_grad():
            return model(x)["loss"].mean().item()

    before = fixed_noise_loss()
    for _ in range(15):
        loss = model(x)["loss"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = fixed_noise_loss()
    assert math.isfinite(after)
    assert after < 0.8 * before, (before, after)


def test_dropout_only_active_in_train_mode():
    torch.manual_seed(0)
    model = VAE(tiny_cfg("mlp", "bernoulli", 2, dropout=0.5))
    x = _images(3)
    model.eval()
    assert torch.equal(model.encode(x)[0], model.encode(x)[0])
    model.train()
    torch.manual_seed(1)
    a = model.encode(x)[0]
    torch.manual_seed(2)
    b = model.encode(x)[0]
    assert not torch.equal(a, b)


# --- the config ----------------------------------------------------------------------------------


def test_config_round_trip_and_validation():
    cfg = VAEConfig(arch="conv", latent_dim=5, hidden=[64], likelihood="gaussian", sigma=0.2, conv_channels=[8, 16])
    assert cfg.hidden == (64,) and cfg.conv_channels == (8, 16)
    d = cfg.to_dict()
    assert d["hidden"] == [64] and d["image_shape"] == [1, 28, 28]
    assert VAEConfig.from_dict(d) == cfg
    assert cfg.n_pixels == 784
    with pytest.raises(ValueError, match="unknown model config keys"):
        VAEConfig.from_dict({**d, "colour": True})
    for bad in ({"arch": "rnn"}, {"likelihood": "poisson"}, {"latent_dim": 0}, {"hidden": ()}, {"sigma": 0.0},
                {"beta": -1.0}, {"dropout": 1.0}, {"conv_channels": (8,)},
                {"arch": "conv", "image_shape": (1, 32, 32)}):
        with pytest.raises(ValueError):
            VAEConfig(**bad)


def test_mlp_decoder_is_a_plain_linear_relu_stack():
    model = VAE(VAEConfig(hidden=(16, 8), latent_dim=3))
    kinds = [type(m).__name__ for m in model.decoder.net]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    shapes = [tuple(m.weight.shape) for m in model.decoder.net if hasattr(m, "weight")]
    assert shapes == [(8, 3), (16, 8), (784, 16)]
    z = torch.randn(2, 3)
    assert torch.allclose(model.decode(z), torch.sigmoid(F.linear(
        F.relu(F.linear(F.relu(F.linear(z, *_wb(model, 0))), *_wb(model, 2))), *_wb(model, 4))).view(2, 1, 28, 28))


def _wb(model, i):
    layer = model.decoder.net[i]
    return layer.weight, layer.bias


# --- the size budget: parameters known from the config alone ---------------------------------------------


@pytest.mark.parametrize("kw", [
    dict(), dict(arch="conv"), dict(hidden=(7,), latent_dim=3), dict(hidden=(100, 50, 20), latent_dim=5, dropout=0.1),
    dict(arch="conv", hidden=(33,), conv_channels=(5, 9), latent_dim=4, likelihood="gaussian"),
    dict(arch="conv", hidden=(64,), conv_channels=(16, 32)), dict(image_shape=(3, 10, 12), hidden=(17, 13)),
    dict(hidden=(1,), latent_dim=1), dict(hidden=(8192,), latent_dim=2),
])
def test_parameter_count_equals_the_built_models(kw):
    from vae_core.budget import parameter_count

    cfg = VAEConfig(**kw)
    assert parameter_count(cfg) == sum(p.numel() for p in VAE(cfg).parameters())


@pytest.mark.parametrize("arch", list(BUILDERS))
def test_layer_widths_are_those_of_a_forward_pass(arch):
    """budget.py follows shapes through the layers by arithmetic; a real forward pass gives the same sizes."""
    from vae_core.budget import layer_widths

    cfg = VAEConfig(arch=arch, hidden=(33, 17), latent_dim=5, conv_channels=(3, 6), dropout=0.2)
    model = VAE(cfg).eval()

    def forward(net, x):
        made = []
        hooks = [m.register_forward_hook(lambda m, i, out: made.append(out.numel())) for m in net.modules()
                 if list(m.parameters(recurse=False))]
        out = net(x)
        for h in hooks:
            h.remove()
        return out, made

    x = _images(1)
    (mu, logvar), enc = forward(model.encoder, x)  # its last two layers: the mu and logvar heads
    _, dec = forward(model.decoder, mu)
    assert layer_widths(cfg) == [x.numel(), *enc[:-2], enc[-2] + enc[-1], mu.numel(), *dec]


@pytest.mark.parametrize("kw", [dict(), dict(arch="conv"), dict(hidden=(100, 50), dropout=0.3)])
def test_activation_floats_bounds_what_a_training_step_keeps(kw):
    """The bound is at least every intermediate tensor of one forward pass (what autograd keeps)."""
    from vae_core.budget import activation_floats

    cfg = VAEConfig(**kw)
    model = VAE(cfg).train()
    sizes = []
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(o.numel())) for m in model.modules()
             if not list(m.children())]
    model(_images(4)).get("loss").sum().backward()
    for h in hooks:
        h.remove()
    assert sum(sizes) <= activation_floats(cfg, 4) <= 8 * sum(sizes)


@pytest.mark.parametrize("kw,match", [
    (dict(hidden=(float("inf"),)), "hidden must be a list of at most 64 integers"),
    (dict(hidden=(512.5,)), "hidden must be a list"), (dict(hidden="512"), "hidden must be a list"),
    (dict(hidden=(8,) * 33), "hidden sizes must be 1..8192"), (dict(image_shape=(28, 28)), "image_shape"),
    (dict(image_shape=(1, -28, 28)), "image_shape"), (dict(image_shape=(5, 28, 28)), "image_shape"),
    (dict(sigma=math.inf), "sigma must be a finite number"), (dict(beta=math.nan), "beta must be a finite number"),
    (dict(beta=1e9), "beta must be in"), (dict(hidden=(8192,) * 12), "would have 1,489,486,612 parameters"),
])
def test_config_refuses_non_finite_unbounded_and_over_budget_values(kw, match):
    with pytest.raises(ValueError, match=match):
        VAEConfig(**kw)
