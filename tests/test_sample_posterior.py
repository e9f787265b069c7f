"""sample_posterior: k draws z = mu + sigma * eps from one posterior N(mu, diag sigma^2)."""

from __future__ import annotations

import math

import pytest
import torch

from vae_core.model import sample_posterior


@pytest.mark.parametrize("given", ["logvar", "sigma"])
def test_sample_mean_and_covariance_match_the_posterior(given):
    mu = torch.tensor([1.5, -0.7, 0.0])
    sigma = torch.tensor([0.3, 1.2, 0.05])
    k = 4096
    g = torch.Generator().manual_seed(0)
    if given == "logvar":
        z = sample_posterior(mu, torch.log(sigma**2), k, g)
    else:
        z = sample_posterior(mu, None, k, g, sigma=sigma)
    assert z.shape == (k, 3)
    # Monte Carlo error: the mean's standard error is sigma / sqrt(k); allow 4 of them
    assert torch.all((z.mean(0) - mu).abs() < 4 * sigma / math.sqrt(k))
    cov = torch.cov(z.T)
    # a variance's standard error is sigma^2 sqrt(2 / (k - 1)); a covariance's is sigma_i sigma_j / sqrt(k)
    se = torch.outer(sigma, sigma) / math.sqrt(k)
    se.diagonal().copy_(sigma**2 * math.sqrt(2 / (k - 1)))
    assert torch.all((cov - torch.diag(sigma**2)).abs() < 4 * se)


def test_same_generator_same_draws_and_k_one():
    mu, logvar = torch.zeros(2), torch.zeros(2)
    a = sample_posterior(mu, logvar, 5, torch.Generator().manual_seed(1))
    b = sample_posterior(mu, logvar, 5, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert sample_posterior(mu, logvar, 1, torch.Generator().manual_seed(1)).shape == (1, 2)


def test_zero_sigma_gives_mu_and_bad_arguments_fail():
    mu = torch.tensor([0.2, 0.4])
    assert torch.equal(sample_posterior(mu, None, 3, sigma=torch.zeros(2)), mu.expand(3, 2))
    with pytest.raises(ValueError, match="exactly one"):
        sample_posterior(mu, torch.zeros(2), 3, sigma=torch.ones(2))
    with pytest.raises(ValueError, match="exactly one"):
        sample_posterior(mu, None, 3)
    with pytest.raises(ValueError, match="at least 1"):
        sample_posterior(mu, torch.zeros(2), 0)
    with pytest.raises(ValueError, match="differ in shape"):
        sample_posterior(mu, torch.zeros(3), 4)
