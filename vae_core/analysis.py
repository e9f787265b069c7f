"""Looking at a latent space of any dimension d through planes and per-dimension numbers (no Streamlit here).

A 2-D map can show only a plane of a d-dimensional latent space. This module picks the plane and says how much
of the codes it holds, and measures each latent dimension on its own:

    principal_plane(mu)            the plane through the codes' mean spanned by their two principal axes
    align_plane(plane, previous)   the same plane, its axes turned/flipped to match an earlier one (live maps)
    coordinate_plane(d, i, j)      the plane of coordinates z_i, z_j
    to_plane / from_plane          z <-> (u, v) on a plane, from_plane anchored at a chosen point
    kl_per_dimension(mu, logvar)   KL(q(z_j|x) || N(0, 1)) averaged over images, one number per dimension
    active_units(mu)               the dimensions whose posterior mean varies with x (Burda et al. 2016)
    traversal_latents(z, dims)     one dimension swept at a time, the others held at z
    latent_summary(model, images)  all of the above for a model and a test set, encoding it once

Codes come in as numpy arrays or torch tensors and go out as float64 numpy (the sums over 10,000 codes are
then exact enough that the per-dimension KLs add up to the total to ~1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

ACTIVE_THRESHOLD = 0.01  # Burda et al. 2016: dimension j is active when Cov_x(E_q[z_j]) > 0.01


def _np(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def _float32(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().float().numpy()
    return np.asarray(a, dtype=np.float32)


def _codes(mu) -> np.ndarray:
    mu = _np(mu)
    if mu.ndim != 2 or len(mu) == 0:
        raise ValueError(f"codes must be a non-empty [N, d] array, got shape {mu.shape}")
    if not np.isfinite(mu).all():
        raise ValueError("codes contain NaN or infinite values")
    return mu


@dataclass(frozen=True)
class Plane:
    """The affine plane {mean + u e1 + v e2} in latent space."""

    mean: np.ndarray  # [d]
    basis: np.ndarray  # [2, d], rows e1, e2, orthonormal
    variance_ratio: np.ndarray  # [2]: variance of the codes along e_k over their total variance (NaN: unknown)
    total_ratio: float  # sum of the two: the share of the codes' variance the map shows

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])


def _check_dim(d: int) -> None:
    if d < 2:
        raise ValueError(f"a plane needs at least 2 latent dimensions, the model has {d}")


def _fix_signs(basis: np.ndarray) -> np.ndarray:
    """Each axis turned so that its largest |component| is positive: the same codes give the same axes."""
    idx = np.abs(basis).argmax(axis=1)
    signs = np.sign(basis[np.arange(len(basis)), idx])
    signs[signs == 0] = 1.0
    return basis * signs[:, None]


def principal_plane(mu) -> Plane:
    """The principal plane of the codes mu [N, d] (PCA).

    C = 1/N sum_n (mu_n - m)(mu_n - m)^T,  C e_k = lambda_k e_k,  lambda_1 >= lambda_2 >= ...
    plane = {m + u e_1 + v e_2};  variance_ratio_k = lambda_k / tr C

    For d == 2 it is the (z1, z2) plane through 0, so a 2-D model keeps its own axes.
    """
    mu = _codes(mu)
    _check_dim(mu.shape[1])
    m = mu.mean(axis=0)
    return _principal_plane(m, mu - m)


def _principal_plane(m: np.ndarray, x: np.ndarray) -> Plane:
    """principal_plane from the mean m and the centred codes x = mu - m."""
    n, d = x.shape
    # einsum, not x.T @ x: BLAS would split this small product over threads that, on a busy 2-core server,
    # wait on each other (1.3 s for 10,000 x 64 under load, against ~20 ms on one core, docs/benchmarks.md)
    cov = np.einsum("ni,nj->ij", x, x, optimize=False) / n  # [d, d]
    total = float(np.trace(cov))
    if d == 2:
        var = np.diag(cov)
        ratio = var / total if total > 0 else np.full(2, np.nan)
        return Plane(np.zeros(2), np.eye(2), ratio, float(ratio.sum()))
    lam, vecs = np.linalg.eigh(cov)  # ascending eigenvalues, orthonormal eigenvector columns
    order = np.argsort(-lam, kind="stable")[:2]
    basis = _fix_signs(vecs[:, order].T.copy())
    ratio = np.clip(lam[order], 0.0, None) / total if total > 0 else np.full(2, np.nan)
    return Plane(m, basis, ratio, float(ratio.sum()))


def coordinate_plane(d: int, i: int, j: int, mu=None) -> Plane:
    """The plane of coordinates z_i, z_j through 0 (e1 = unit vector i, e2 = unit vector j).

    Given the codes mu, variance_ratio_k = Var(mu_i) / sum_j Var(mu_j) (else NaN).
    """
    _check_dim(d)
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise ValueError(f"need two different coordinates in 0..{d - 1}, got {i} and {j}")
    basis = np.zeros((2, d))
    basis[0, i] = basis[1, j] = 1.0
    ratio = np.full(2, np.nan)
    if mu is not None:
        var = _codes(mu).var(axis=0)
        if var.sum() > 0:
            ratio = var[[i, j]] / var.sum()
    return Plane(np.zeros(d), basis, ratio, float(ratio.sum()))


def align_plane(plane: Plane, previous: Plane | None) -> Plane:
    """plane with its axes rotated or flipped within the plane to lie as close as possible to previous's.

    Orthogonal Procrustes in 2-D: R = argmin_{R^T R = I} ||R B - P||_F  with B, P the [2, d] bases;
    M = P B^T = U S V^T  ->  R = U V^T.  The plane itself (its span and mean) does not change.
    The variance ratios move with the axes: ratio'_k = sum_j R_kj^2 ratio_j (the in-plane covariance of a
    principal plane is diagonal, so this is exact for it).
    """
    if previous is None:
        return plane
    if previous.dim != plane.dim:
        raise ValueError(f"cannot align a plane in {plane.dim} dimensions with one in {previous.dim}")
    u, _, vt = np.linalg.svd(previous.basis @ plane.basis.T)
    r = u @ vt  # [2, 2] orthogonal
    ratio = (r**2) @ plane.variance_ratio
    return replace(plane, basis=r @ plane.basis, variance_ratio=ratio)


def to_plane(z, plane: Plane) -> np.ndarray:
    """Coordinates on the plane of codes z [N, d]:  (u, v)_n = ((z_n - m) . e_1, (z_n - m) . e_2)."""
    z = _np(z)
    return (z - plane.mean) @ plane.basis.T


def plane_ellipses(sigma, plane: Plane) -> np.ndarray:
    """The 1σ ellipses of N(mu_n, diag sigma_n^2) seen on the plane, [N, 3]: (s1, s2, angle) each.

    (u, v) = B (z - m) is Gaussian with covariance S = B diag(sigma^2) B^T [2, 2]; S = R diag(s1^2, s2^2) R^T gives
    the axes' lengths s1 >= s2 and the angle of the first axis from u, counter-clockwise. (Centred on to_plane(mu).)"""
    sigma = _np(sigma).reshape(-1, plane.basis.shape[1])
    b = plane.basis
    cov = np.einsum("ij,nj,kj->nik", b, sigma**2, b)
    lam, vec = np.linalg.eigh(cov)  # ascending
    s = np.sqrt(np.clip(lam[:, ::-1], 0.0, None))
    angle = np.arctan2(vec[:, 1, 1], vec[:, 0, 1])  # the largest eigenvalue's axis
    return np.stack([s[:, 0], s[:, 1], angle], axis=1)


def plane_origin(plane: Plane, origin_z=None) -> np.ndarray:
    """The point o of the plane where (u, v) = (0, 0) when the slice is anchored at origin_z (default: m):

        o = z0 - sum_k ((z0 - m) . e_k) e_k

    so o keeps z0's coordinates off the plane, and (u, v) = (0, 0) lies beside z0, not at m.
    """
    z0 = plane.mean if origin_z is None else _np(origin_z).reshape(-1)
    if z0.shape != (plane.dim,):
        raise ValueError(f"origin must have {plane.dim} coordinates, got {z0.shape}")
    return z0 - ((z0 - plane.mean) @ plane.basis.T) @ plane.basis


def from_plane(uv, plane: Plane, origin_z=None) -> np.ndarray:
    """Codes at (u, v) [N, 2] on the slice through origin_z:  z = o + u e_1 + v e_2  (o: plane_origin).

    to_plane(from_plane(uv)) == uv:  (o - m) . e_k = 0, so only u e_1 + v e_2 projects.
    """
    uv = _np(uv).reshape(-1, 2)
    return plane_origin(plane, origin_z) + uv @ plane.basis


def kl_per_dimension(mu, logvar) -> np.ndarray:
    """[d]: KL_j = mean_n 1/2 (mu_nj^2 + sigma_nj^2 - log sigma_nj^2 - 1);  sum_j KL_j = mean KL(q(z|x) || N(0, I))."""
    mu, logvar = _np(mu), _np(logvar)
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ValueError(f"mu and logvar must both be [N, d], got {mu.shape} and {logvar.shape}")
    return (0.5 * (mu**2 + np.exp(logvar) - logvar - 1.0)).mean(axis=0)


def active_units(mu, threshold: float = ACTIVE_THRESHOLD) -> tuple[int, np.ndarray]:
    """(count, A) with A_j = Cov_x(E_q(z|x)[z_j]) = Var_n(mu_nj), active where A_j > threshold (Burda et al. 2016).

    A dimension whose posterior mean does not depend on x carries no information about x: the decoder
    ignores it and its KL goes to 0 ("posterior collapse").
    """
    a = _codes(mu).var(axis=0)
    return int((a > threshold).sum()), a


def dimension_order(kl) -> np.ndarray:
    """Dimensions by KL, largest first (the most informative first); ties keep index order."""
    return np.argsort(-_np(kl), kind="stable")


def traversal_latents(z, dims, values=None, n: int = 7) -> np.ndarray:
    """Codes for a traversal grid, [len(dims) * n, d], row-major: row r sweeps dimension dims[r] over values
    (default linspace(-3, 3, n): the prior's +-3 sigma), every other coordinate held at z.

        out[r * n + c] = z  with  z_{dims[r]} = values[c]
    """
    z = _np(z).reshape(-1)
    d = len(z)
    values = np.linspace(-3.0, 3.0, n) if values is None else _np(values).reshape(-1)
    dims = [int(j) for j in dims]
    if any(not 0 <= j < d for j in dims):
        raise ValueError(f"dimensions must be in 0..{d - 1}, got {dims}")
    out = np.tile(z, (len(dims), len(values), 1))  # [rows, columns, d]
    for r, j in enumerate(dims):
        out[r, :, j] = values
    return out.reshape(-1, d)


@dataclass(frozen=True)
class LatentSummary:
    mu: np.ndarray  # [N, d] float32 posterior means
    logvar: np.ndarray  # [N, d] float32
    plane: Plane | None  # principal plane (None for a 1-D model)
    kl: np.ndarray  # [d] per-dimension KL, nats per image
    kl_total: float  # sum of kl: mean KL(q(z|x) || N(0, I))
    active: int  # active units
    activity: np.ndarray  # [d] Var_x(mu_j)
    order: np.ndarray  # [d] dimensions by KL, largest first


def summarize_codes(mu, logvar, threshold: float = ACTIVE_THRESHOLD) -> LatentSummary:
    """The analysis of encoded codes (the part of latent_summary after the encoder).

    The codes are checked and converted to float64 once; the same formulas as the functions above follow.
    """
    mu64, logvar64 = _codes(mu), _np(logvar)
    if logvar64.shape != mu64.shape:
        raise ValueError(f"mu and logvar must both be [N, d], got {mu64.shape} and {logvar64.shape}")
    n, d = mu64.shape
    m = mu64.mean(axis=0)
    x = mu64 - m
    activity = np.einsum("nj,nj->j", x, x) / n  # Var_n(mu_nj)
    # KL_j = mean_n 1/2 (mu^2 + exp(logvar) - logvar - 1) = 1/2 (Var(mu_j) + m_j^2 + mean(exp(logvar_j) - logvar_j) - 1)
    kl = 0.5 * (activity + m**2 + (np.exp(logvar64) - logvar64).mean(axis=0) - 1.0)
    plane = _principal_plane(m, x) if d >= 2 else None
    return LatentSummary(mu=_float32(mu), logvar=_float32(logvar), plane=plane, kl=kl, kl_total=float(kl.sum()),
                         active=int((activity > threshold).sum()), activity=activity, order=dimension_order(kl))


@torch.no_grad()
def encode_all(model, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """mu, logvar [N, d] of images (uint8 [N, 28, 28] or float [N, 1, 28, 28] in [0, 1]), in eval mode."""
    was_training = model.training
    model.eval()
    mus, logvars = [], []
    try:
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size]
            x = x.unsqueeze(1).float().div(255.0) if x.dtype == torch.uint8 else x.float()
            mu, logvar = model.encode(x.to(model.device))
            mus.append(mu.cpu())
            logvars.append(logvar.cpu())
    finally:
        model.train(was_training)
    return torch.cat(mus), torch.cat(logvars)


def latent_summary(model, images: torch.Tensor, threshold: float = ACTIVE_THRESHOLD) -> LatentSummary:
    """Encode images once and analyse their codes: principal plane, per-dimension KL, active units, order."""
    mu, logvar = encode_all(model, images)
    return summarize_codes(mu, logvar, threshold)
