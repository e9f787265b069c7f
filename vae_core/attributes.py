"""Directions in latent space with a meaning: from one group of codes to another (no Streamlit).

    ink(images)              the mean pixel value of each image, in [0, 1]
    slant(images)            the shear of each image's ink, from its second moments (> 0: leaning right)
    class_direction          v = mean code of class b - mean code of class a
    property_direction       v = mean code of the images above the median of a property - of those below
    along(z, v, ts)          the codes z + t v

With v a difference of two means, z + 1 v moves a code as far as the mean of one group is from the other's.
"""

from __future__ import annotations

import numpy as np
import torch

PROPERTIES = ("ink", "slant")


def _pixels(images) -> np.ndarray:
    """float64 [N, H, W] in [0, 1] from uint8 or float, [N, H, W] or [N, 1, H, W] (numpy or torch)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    a = np.asarray(images)
    x = a.astype(np.float64) / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)
    if x.ndim == 4:
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"images must be [N, H, W] or [N, 1, H, W], got {a.shape}")
    return x


def ink(images) -> np.ndarray:
    """[N]: the mean pixel value of each image (how much ink: thick strokes, big digits)."""
    return _pixels(images).mean(axis=(1, 2))


def slant(images) -> np.ndarray:
    """[N]: how far the ink leans right per unit of height, from the image's second moments.

    With pixel values as weights, x the column and y = -row (upwards): slant = Cov(x, y) / Var(y), the x shift
    per unit of y of the least-squares line x ~ y through the ink (0: upright, > 0: the top to the right).
    A blank image has slant 0."""
    x = _pixels(images)
    _, h, w = x.shape
    mass = x.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    cols, ups = np.arange(w, dtype=np.float64), -np.arange(h, dtype=np.float64)
    mx = (x.sum(1) * cols).sum(1) / safe
    my = (x.sum(2) * ups).sum(1) / safe
    dx, dy = cols[None, :] - mx[:, None], ups[None, :] - my[:, None]  # [N, W], [N, H]
    cov = np.einsum("nhw,nh,nw->n", x, dy, dx) / safe
    var = np.einsum("nhw,nh->n", x, dy**2) / safe
    return np.where((mass > 0) & (var > 0), cov / np.where(var > 0, var, 1.0), 0.0)


def measure(name: str, images) -> np.ndarray:
    """A property of PROPERTIES, by name."""
    if name == "ink":
        return ink(images)
    if name == "slant":
        return slant(images)
    raise ValueError(f"unknown property {name!r}; known: {', '.join(PROPERTIES)}")


def direction(codes_from, codes_to) -> np.ndarray:
    """[d]: mean(codes_to) - mean(codes_from)."""
    a, b = np.asarray(codes_from, np.float64), np.asarray(codes_to, np.float64)
    if a.ndim != 2 or b.ndim != 2 or not len(a) or not len(b) or a.shape[1] != b.shape[1]:
        raise ValueError(f"need two non-empty groups of codes [N, d], got {a.shape} and {b.shape}")
    return b.mean(0) - a.mean(0)


def class_direction(mu, labels, a: int, b: int) -> np.ndarray:
    """From class a to class b: mean of the codes labelled b - mean of those labelled a."""
    labels = np.asarray(labels)
    mu = np.asarray(mu)
    return direction(mu[labels == a], mu[labels == b])


def median_split(values) -> tuple[np.ndarray, np.ndarray]:
    """(below, above): the masks of the values below and above their median (those equal to it in neither)."""
    v = np.asarray(values, np.float64)
    m = np.median(v)
    return v < m, v > m


def property_direction(mu, values) -> np.ndarray:
    """From the images below the property's median to those above: mean code above - mean code below."""
    below, above = median_split(values)
    mu = np.asarray(mu)
    return direction(mu[below], mu[above])


def along(z, v, ts) -> np.ndarray:
    """[len(ts), d]: z + t v for each t."""
    z, v = np.asarray(z, np.float64).reshape(-1), np.asarray(v, np.float64).reshape(-1)
    return z[None] + np.asarray(ts, np.float64).reshape(-1, 1) * v[None]
