"""'Moving along an attribute direction changes the property': the claim the Directions sub-tab makes.

For a property (ink, slant) v = mean code above the median - mean code below (vae_core.attributes), the codes
z + t v of n test images are decoded for t in TS, and the property of the decoded images is averaged over them at
each t; rho is Spearman's rank correlation of t with that mean (1: it rises at every step), `rise` the mean at
the last t minus at the first, `spread` the property's standard deviation over the test images (its scale).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr

from vae_core import attributes

from .codes import Codes, decode

TS = tuple(np.linspace(-2.0, 2.0, 9))  # the Directions slider's range: twice the distance between the halves


def along_property(c: Codes, name: str, n: int = 200, ts=TS) -> dict:
    values = attributes.measure(name, c.x)
    v = attributes.property_direction(c.mu.numpy(), values)
    z = c.mu[:n].double().numpy()
    means = []
    for t in ts:
        images = decode(c.model, torch.from_numpy(z + t * v[None]).float()).reshape(-1, 28, 28)
        means.append(float(attributes.measure(name, images).mean()))
    rho = float(spearmanr(ts, means).statistic)
    return {"rho": rho, "means": means, "rise": means[-1] - means[0], "spread": float(values.std())}
