"""vae_core.noise: the corruptions the denoising VAE trains on and the de-noising view shows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.views import add_noise
from vae_core.noise import check_corruption, corrupt, corrupt_image


@pytest.mark.parametrize("kind", ["gaussian", "salt-and-pepper"])
@pytest.mark.parametrize("level", [0.0, 0.05, 0.3, 0.5])
@pytest.mark.parametrize("seed", [0, 7])
def test_corrupt_image_gives_what_the_view_gave(mnist, kind, level, seed):
    image = mnist.test_images[seed].numpy().astype(np.float32) / 255.0
    expected = add_noise(image, kind, level, seed)
    got = corrupt_image(image, kind, level, seed)
    assert got.dtype == np.float32 and got.shape == (28, 28)
    np.testing.assert_array_equal(got, expected)
    assert not np.shares_memory(got, image)


def test_corrupt_image_none_is_a_copy(mnist):
    image = mnist.test_images[0].numpy().astype(np.float32) / 255.0
    np.testing.assert_array_equal(corrupt_image(image, "none", 0.0), image)


def test_gaussian_adds_noise_of_the_given_sigma_and_clips():
    x = torch.full((64, 1, 28, 28), 0.5)
    g = torch.Generator().manual_seed(1)
    noisy = corrupt(x, "gaussian", 0.05, g)  # 0.5 +- 10 sigma stays inside [0, 1]: nothing clipped
    d = noisy - x
    assert abs(d.mean().item()) < 3 * 0.05 / d.numel() ** 0.5 + 1e-6
    assert d.std().item() == pytest.approx(0.05, rel=0.01)
    big = corrupt(x, "gaussian", 2.0, g)
    assert big.min().item() == 0.0 and big.max().item() == 1.0  # most pixels clipped at one end or the other


def test_salt_and_pepper_hits_the_given_fraction_half_white_half_black():
    x = torch.full((64, 1, 28, 28), 0.5)
    noisy = corrupt(x, "salt-and-pepper", 0.2, torch.Generator().manual_seed(2))
    n = x.numel()
    hit = noisy != 0.5
    assert set(noisy.unique().tolist()) == {0.0, 0.5, 1.0}
    assert hit.float().mean().item() == pytest.approx(0.2, abs=3 * (0.2 * 0.8 / n) ** 0.5)
    white = (noisy == 1.0).sum().item()
    assert white / hit.sum().item() == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("kind,level", [("gaussian", 0.3), ("salt-and-pepper", 0.3)])
def test_corrupt_is_reproducible_from_the_generator_and_leaves_x_alone(mnist_batch, kind, level):
    before = mnist_batch.clone()
    a = corrupt(mnist_batch, kind, level, torch.Generator().manual_seed(5))
    b = corrupt(mnist_batch, kind, level, torch.Generator().manual_seed(5))
    c = corrupt(mnist_batch, kind, level, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(mnist_batch, before)
    assert a.shape == mnist_batch.shape and a.min() >= 0 and a.max() <= 1


@pytest.mark.parametrize("kind,level", [("none", 0.0), ("gaussian", 0.0), ("salt-and-pepper", 0.0)])
def test_no_noise_draws_nothing(mnist_batch, kind, level):
    g = torch.Generator().manual_seed(3)
    state = g.get_state()
    out = corrupt(mnist_batch, kind, level, g)
    assert torch.equal(out, mnist_batch) and out is not mnist_batch
    assert torch.equal(g.get_state(), state)


def test_aliases_and_bad_arguments():
    assert check_corruption("s&p", 0.1) == "salt-and-pepper"
    assert check_corruption("salt_and_pepper", 0.1) == "salt-and-pepper"
    x = torch.zeros(1, 1, 28, 28)
    for kind, level, msg in [("speckle", 0.1, "noise kind"), ("gaussian", -0.1, "level"),
                             ("gaussian", float("nan"), "level"), ("salt-and-pepper", 1.5, "fraction")]:
        with pytest.raises(ValueError, match=msg):
            corrupt(x, kind, level)
        with pytest.raises(ValueError, match=msg):
            corrupt_image(x[0, 0].numpy(), kind, level)
