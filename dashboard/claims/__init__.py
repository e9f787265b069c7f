"""Measures of what the app (dashboard/explain.py) and docs/lecture.md say the shipped models do, so that the texts
say only what holds: tests/test_claims.py checks the figures with margins, bench/claims.py prints them.

    codes.py      a model's encoded test set (Codes), batched decode, nearest neighbours, the pixel-space judge
    measures.py   one function per claim, Codes in, plain numbers out; CLAIMS names them

The claims and the measures:

 same_class     "images of the same class land close together": of each code's k = 10 nearest other codes,
                the share with its label (chance sum_c p_c^2 ~ 0.10), on the map's two plotted coordinates
 overlap        "4 and 9 overlap": for classes a != b, the share of a's codes' neighbours that are b, symmetrised
 ellipse        "a small Gaussian cloud": sigma on the map's axes over the codes' spread on them
 smoothness     "small steps in z give small changes": |f(z + s u) - f(z)| against |f(z) - f(z')|
 morph          "plausible images, not a cross-fade": the path's middle against the cross-fade of its ends
 slerp          "an arc around 0 that keeps |z| where the line cuts inside; it swings out between opposite ends"
 posterior_strip "the strip's decodes look identical where sigma is small, vary visibly where it is wide"
 prior          "these samples look like the data": decoded prior samples' distance to the nearest training
                image against the reconstructions'; the codes' mean and variance against N(0, I)'s
 recon          "blur is the price": the reconstructions' total variation against the inputs', and how often
                a reconstruction's nearest training image (in pixels) still has the input's label
 messy          "a scribble lands among the dots, with an ordinary ellipse" (see messy())
 denoise        "light noise keeps the code and nearly the picture" (vae_core.robustness, and the pictures)
 path_1_to_7    "the 1 turns into a 7 through shapes that are neither" (the lecture's drag)
 latent_use     active units, KL, the share of the codes' variance that the map's plane shows
 elbo           the test loss, recon and KL recorded in config.json, measured again

"Nearest training image" is a pixel-space 1-nearest-neighbour over the first 10,000 training images (PixelNN):
a model-free judge, right for ~95 % of MNIST test digits.
"""

from __future__ import annotations

from .codes import (
    N_SMALL,
    ROOT,
    SHIPPED,
    Codes,
    K,
    PixelNN,
    decode,
    encode,
    folder_of,
    judge,
    load_codes,
    nearest_distances,
)
from .measures import (
    CLAIMS,
    denoise,
    elbo,
    ellipse,
    latent_use,
    measure,
    measure_all,
    messy,
    messy_images,
    morph,
    overlap,
    path_1_to_7,
    posterior_strip,
    prior,
    recon,
    same_class,
    slerp,
    smoothness,
)

# The package's interface: tests/test_claims.py and bench/claims.py use `claims.<name>`.
__all__ = [
    "CLAIMS", "K", "N_SMALL", "ROOT", "SHIPPED", "Codes", "PixelNN", "decode", "denoise", "elbo", "ellipse", "encode",
    "folder_of", "judge", "latent_use", "load_codes", "measure", "measure_all", "messy", "messy_images", "morph",
    "nearest_distances", "overlap", "path_1_to_7", "posterior_strip", "prior", "recon", "same_class", "slerp",
    "smoothness",
]
