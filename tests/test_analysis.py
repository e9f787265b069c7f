"""vae_core.analysis: principal plane, plane <-> latent maps, per-dimension KL, active units, traversals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core import VAE, VAEConfig
from vae_core.analysis import (
    Plane,
    active_units,
    align_plane,
    coordinate_plane,
    dimension_order,
    from_plane,
    kl_per_dimension,
    latent_summary,
    plane_origin,
    principal_plane,
    summarize_codes,
    to_plane,
    traversal_latents,
)
from vae_core.losses import kl_to_standard_normal


def anisotropic_codes(n=4000, d=16, seed=0):
    """Codes with known principal axes: standard deviations 5, 3, 1, 0.5, ... along a random rotation."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    scales = np.array([5.0, 3.0] + [1.0 / (k + 1) for k in range(d - 2)])
    return (rng.normal(size=(n, d)) * scales) @ q.T + rng.normal(size=d), q, scales


def test_principal_plane_is_orthonormal_and_ordered():
    mu, q, scales = anisotropic_codes()
    plane = principal_plane(mu)
    assert plane.basis.shape == (2, 16) and plane.mean.shape == (16,)
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(plane.mean, mu.mean(0), atol=1e-12)
    # Variance of the codes along e1 >= along e2 >= along any other unit direction.
    var = np.var(to_plane(mu, plane), axis=0)
    assert var[0] > var[1]
    rng = np.random.default_rng(1)
    for _ in range(50):
        e = rng.normal(size=16)
        e /= np.linalg.norm(e)
        assert var[0] >= np.var(mu @ e) - 1e-9
    # The axes are the true ones (up to sign, fixed by the largest component) and the ratios their shares.
    assert abs(plane.basis[0] @ q[:, 0]) > 0.99 and abs(plane.basis[1] @ q[:, 1]) > 0.99
    for e in plane.basis:
        assert e[np.abs(e).argmax()] > 0
    np.testing.assert_allclose(plane.variance_ratio, var / np.var(mu, axis=0).sum(), rtol=1e-9)
    assert plane.total_ratio == pytest.approx(plane.variance_ratio.sum())
    assert plane.variance_ratio[0] == pytest.approx(25 / (scales**2).sum(), rel=0.1)


def test_principal_plane_is_deterministic_under_sign_flips_of_the_data_order():
    mu, _, _ = anisotropic_codes(seed=3)
    a, b = principal_plane(mu), principal_plane(mu[::-1].copy())
    np.testing.assert_allclose(a.basis, b.basis, atol=1e-9)


def test_two_dimensional_models_keep_their_axes():
    mu = np.random.default_rng(0).normal(size=(500, 2)) * [1.0, 3.0] + [2.0, -1.0]
    plane = principal_plane(torch.from_numpy(mu).float())
    np.testing.assert_array_equal(plane.basis, np.eye(2))
    np.testing.assert_array_equal(plane.mean, np.zeros(2))
    np.testing.assert_allclose(to_plane(mu, plane), mu, atol=1e-12)
    assert plane.variance_ratio[1] > plane.variance_ratio[0] and plane.total_ratio == pytest.approx(1.0)


def test_plane_to_latent_to_plane_is_the_identity():
    mu, _, _ = anisotropic_codes(d=8)
    plane = principal_plane(mu)
    uv = np.random.default_rng(2).normal(size=(20, 2)) * 3
    origin = mu[17]
    z = from_plane(uv, plane, origin)
    np.testing.assert_allclose(to_plane(z, plane), uv, atol=1e-12)
    # The slice through origin: off-plane coordinates of every z are origin's, and origin itself lies on it.
    o = plane_origin(plane, origin)
    np.testing.assert_allclose(from_plane(to_plane(origin[None], plane), plane, origin)[0], origin, atol=1e-12)
    off = (z - o) - ((z - o) @ plane.basis.T) @ plane.basis
    np.testing.assert_allclose(off, 0, atol=1e-12)
    # Without an origin the slice goes through the mean.
    np.testing.assert_allclose(from_plane([[0, 0]], plane)[0], plane.mean, atol=1e-12)


def test_coordinate_plane():
    plane = coordinate_plane(5, 3, 1)
    z = np.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(to_plane(z, plane), z[:, [3, 1]])
    back = from_plane([[7.0, 8.0]], plane, origin_z=z[0])
    np.testing.assert_array_equal(back[0], [0, 8, 2, 7, 4])
    with pytest.raises(ValueError):
        coordinate_plane(5, 2, 2)
    with pytest.raises(ValueError):
        coordinate_plane(1, 0, 1)


def test_align_plane_removes_a_flip_and_a_rotation():
    mu, _, _ = anisotropic_codes(d=10, seed=4)
    previous = principal_plane(mu)
    for angle, flip in [(0.3, 1), (2.5, -1), (np.pi, 1), (-1.2, -1)]:
        c, s = np.cos(angle), np.sin(angle)
        r = np.array([[c, -s], [s, c]]) @ np.diag([1, flip])
        moved = Plane(previous.mean, r @ previous.basis, previous.variance_ratio, previous.total_ratio)
        aligned = align_plane(moved, previous)
        np.testing.assert_allclose(aligned.basis, previous.basis, atol=1e-12)
        assert aligned.total_ratio == previous.total_ratio
    # A slightly different plane (next epoch's codes) keeps its span, and its axes end near the previous ones.
    nxt = principal_plane(mu + np.random.default_rng(5).normal(size=mu.shape) * 0.05)
    flipped = Plane(nxt.mean, -nxt.basis[::-1], nxt.variance_ratio[::-1], nxt.total_ratio)
    aligned = align_plane(flipped, previous)
    assert np.linalg.norm(aligned.basis - previous.basis) < 0.1
    np.testing.assert_allclose(aligned.basis.T @ aligned.basis, nxt.basis.T @ nxt.basis, atol=1e-12)  # same span
    # The ratios follow the axes: here e1 and e2 swapped places and come back.
    np.testing.assert_allclose(aligned.variance_ratio, nxt.variance_ratio, atol=1e-3)
    np.testing.assert_allclose(aligned.variance_ratio, np.var(to_plane(mu, aligned), 0) / np.var(mu, 0).sum(),
                               rtol=0.05)
    assert align_plane(nxt, None) is nxt


def test_per_dimension_kls_sum_to_the_total():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(300, 12, generator=g) * 2, torch.randn(300, 12, generator=g)
    kl = kl_per_dimension(mu, logvar)
    assert kl.shape == (12,) and (kl >= 0).all()
    assert kl.sum() == pytest.approx(kl_to_standard_normal(mu.double(), logvar.double()).mean().item(), rel=1e-12)
    assert kl_per_dimension(np.zeros((4, 3)), np.zeros((4, 3))).tolist() == [0, 0, 0]  # q = prior
    assert list(dimension_order([0.1, 3.0, 0.0, 3.0])) == [1, 3, 0, 2]


def test_active_units_on_a_model_with_dimensions_switched_off():
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=8, hidden=(32,))).eval()
    off = [1, 4, 6]
    with torch.no_grad():
        model.encoder.to_mu.weight[off] = 0  # mu_j(x) = b_j: the same for every image
        model.encoder.to_mu.weight.mul_(20)  # the others vary well above the 0.01 threshold
    images = (torch.rand(400, 28, 28, generator=torch.Generator().manual_seed(1)) * 255).to(torch.uint8)
    summary = latent_summary(model, images)
    count, activity = active_units(summary.mu)
    assert count == summary.active == 5
    assert (activity[off] < 1e-10).all() and (np.delete(activity, off) > 0.01).all()
    # The summary's KL is the model's own mean KL on these images.
    with torch.no_grad():
        mu, logvar = model.encode(images.unsqueeze(1).float() / 255)
    assert summary.kl_total == pytest.approx(kl_to_standard_normal(mu, logvar).mean().item(), rel=1e-5)
    assert summary.plane is not None and summary.plane.dim == 8
    assert list(summary.order) == list(dimension_order(summary.kl))
    assert summary.kl[summary.order[0]] == summary.kl.max()


def test_traversal_latents_layout():
    z = np.arange(4.0)
    out = traversal_latents(z, dims=[2, 0], n=5)
    assert out.shape == (10, 4)
    grid = out.reshape(2, 5, 4)
    np.testing.assert_allclose(grid[0, :, 2], np.linspace(-3, 3, 5))
    np.testing.assert_allclose(grid[1, :, 0], np.linspace(-3, 3, 5))
    np.testing.assert_array_equal(grid[0][:, [0, 1, 3]], np.tile([0.0, 1.0, 3.0], (5, 1)))
    np.testing.assert_array_equal(grid[1][:, [1, 2, 3]], np.tile([1.0, 2.0, 3.0], (5, 1)))
    assert traversal_latents(z, [1], values=[0.5, 9]).tolist() == [[0, 0.5, 2, 3], [0, 9, 2, 3]]
    with pytest.raises(ValueError):
        traversal_latents(z, [4])


def test_bad_codes_get_one_clear_message():
    with pytest.raises(ValueError, match="at least 2 latent dimensions"):
        principal_plane(np.zeros((5, 1)))
    with pytest.raises(ValueError, match="NaN"):
        principal_plane(np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        principal_plane(np.zeros(3))


@pytest.mark.parametrize("d", [2, 16, 64])
def test_summarize_codes_agrees_with_the_single_functions(d):
    if d > 2:
        mu, _, _ = anisotropic_codes(n=2000, d=d, seed=d)
    else:
        mu = np.random.default_rng(0).normal(size=(2000, 2))
    mu[:, -1] = 0.3  # one dimension switched off
    logvar = np.random.default_rng(1).normal(size=mu.shape) * 0.5 - 1
    s = summarize_codes(torch.from_numpy(mu).float(), logvar)
    mu32 = mu.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(s.kl, kl_per_dimension(mu32, logvar), rtol=1e-9, atol=1e-12)
    count, activity = active_units(mu32)
    assert s.active == count == d - 1
    np.testing.assert_allclose(s.activity, activity, rtol=1e-9, atol=1e-15)
    ref = principal_plane(mu32)
    np.testing.assert_allclose(s.plane.basis, ref.basis, atol=1e-9)
    np.testing.assert_allclose(s.plane.mean, ref.mean, atol=1e-12)
    np.testing.assert_allclose(s.plane.variance_ratio, ref.variance_ratio, rtol=1e-9)
    assert s.mu.dtype == np.float32 and s.mu.shape == (2000, d)
