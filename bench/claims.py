"""Measures the app's sentences about the latent map on the shipped 2-D MNIST models, so the texts can say
only what holds (and later tests can check the figures).

    python bench/claims.py                                   # mnist-mlp, mnist-beta4, mnist-dvae
    python bench/claims.py pretrained/mnist-mlp --json

1. "Images of the same class land close together": of each test code's k = 10 nearest other test codes
   (posterior means, all 10,000), the fraction with the same label (chance: sum_c p_c^2, about 0.10); and the
   fraction of test codes whose nearest class centroid is their own class's.
2. "A messy digit lands far from the dots, with a wide ellipse": 300 images that are no digit (uniform noise,
   sparse binary noise, random pen scribbles), and the 100 test digits the model reconstructs worst, encoded;
   their sigma (geometric mean over the latent axes) and distance to the nearest test code, against the test
   images' own (a test code's nearest other test code).
3. "beta = 4 gives a rounder, more overlapping map": the eigenvalue ratio lambda_min / lambda_max of the test
   codes' covariance (1 = round), the spread (sqrt of the covariance's trace), and the kNN agreement of 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from vae_core import load_checkpoint, load_dataset  # noqa: E402
from vae_core.losses import reconstruction_nll  # noqa: E402
from vae_core.robustness import class_centroids  # noqa: E402

DEFAULT = ["pretrained/mnist-mlp", "pretrained/mnist-beta4", "pretrained/mnist-dvae"]
K = 10


@torch.no_grad()
def encode(model, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu [N, d], sigma [N, d]) of float images [N, 1, 28, 28] in [0, 1]."""
    mus, sigmas = [], []
    for start in range(0, len(images), batch_size):
        mu, logvar = model.encode(images[start : start + batch_size])
        mus.append(mu)
        sigmas.append(torch.exp(0.5 * logvar))  # sigma = exp(logvar / 2)
    return torch.cat(mus), torch.cat(sigmas)


def nearest_distances(queries: torch.Tensor, codes: torch.Tensor, k: int, exclude_self: bool) -> tuple:
    """(distances [Q, k], indices [Q, k]) of each query's k nearest codes, in chunks (10,000^2 at once is 400 MB)."""
    ds, ix = [], []
    for start in range(0, len(queries), 1000):
        d = torch.cdist(queries[start : start + 1000], codes)
        if exclude_self:
            rows = torch.arange(len(d))
            d[rows, rows + start] = float("inf")
        dist, idx = d.topk(k, largest=False)
        ds.append(dist)
        ix.append(idx)
    return torch.cat(ds), torch.cat(ix)


def messy_images(n_each: int = 100, seed: int = 0) -> dict[str, torch.Tensor]:
    """Images that are no digit: uniform noise, sparse salt noise (20 % of pixels white), pen scribbles."""
    rng = np.random.default_rng(seed)
    uniform = rng.random((n_each, 28, 28)).astype(np.float32)
    sparse = (rng.random((n_each, 28, 28)) < 0.2).astype(np.float32)
    scribbles = []
    for _ in range(n_each):
        # a random pen path: 3 to 6 strokes of 2-3 px width between random points inside the 20x20 digit box
        img = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(img)
        points = [tuple(int(v) for v in rng.integers(4, 24, 2)) for _ in range(int(rng.integers(4, 8)))]
        draw.line(points, fill=255, width=int(rng.integers(2, 4)))
        scribbles.append(np.asarray(img, dtype=np.float32) / 255.0)
    as_tensor = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32)).unsqueeze(1)  # noqa: E731
    return {"uniform noise": as_tensor(uniform), "sparse noise": as_tensor(sparse), "scribbles": as_tensor(scribbles)}


def geometric_sigma(sigma: torch.Tensor) -> torch.Tensor:
    """One width per posterior: (prod_j sigma_j)^(1/d), the radius of a circle of the ellipse's area."""
    return sigma.log().mean(1).exp()


def measure(folder: str) -> dict:
    model, config = load_checkpoint(ROOT / folder if not Path(folder).is_absolute() else folder)
    data = load_dataset(config["data"]["dataset"])
    x = data.test_images.unsqueeze(1).float() / 255.0
    labels = data.test_labels.long()
    mu, sigma = encode(model, x)

    # 1. same class close together
    _, idx = nearest_distances(mu, mu, K, exclude_self=True)
    knn = (labels[idx] == labels.unsqueeze(1)).float().mean().item()
    p = torch.bincount(labels, minlength=10).float() / len(labels)
    classes, centroids = class_centroids(mu, labels)
    nearest_centroid = classes[torch.cdist(mu, centroids).argmin(1)]
    # 2. messy images: sigma and distance to the nearest test code, against the test images'
    own_nn, _ = nearest_distances(mu, mu, 1, exclude_self=True)
    test_sigma = geometric_sigma(sigma)
    # the messiest real digits: the 1 % of test images the model reconstructs worst (-log p(x | z = mu))
    nll = torch.cat([reconstruction_nll(model.decode_raw(mu[i : i + 1000]), x[i : i + 1000], model.cfg.likelihood,
                                        model.cfg.sigma) for i in range(0, len(x), 1000)])
    worst = nll.topk(len(x) // 100).indices
    messy = {}
    for name, images in {**messy_images(), "worst-reconstructed 1 % of test digits": None}.items():
        if images is None:  # a test code's nearest OTHER test code, as for the test images themselves
            m_mu, m_sigma, m_nn = mu[worst], sigma[worst], own_nn[worst]
        else:
            m_mu, m_sigma = encode(model, images)
            m_nn, _ = nearest_distances(m_mu, mu, 1, exclude_self=False)
        g = geometric_sigma(m_sigma)
        messy[name] = {
            "sigma_median": g.median().item(),
            "sigma_vs_test": g.median().item() / test_sigma.median().item(),
            "sigma_above_test_p90": (g > test_sigma.quantile(0.9)).float().mean().item(),
            "nn_median": m_nn.median().item(),
            "nn_vs_test": m_nn.median().item() / own_nn.median().item(),
            "radius_median": m_mu.norm(dim=1).median().item(),
        }
    # 3. shape of the map
    cov = torch.cov(mu.T)
    eig = torch.linalg.eigvalsh(cov)
    return {
        "model": Path(folder).name,
        "beta": model.cfg.beta,
        "knn_agreement": knn,
        "knn_chance": (p**2).sum().item(),
        "nearest_centroid_accuracy": (nearest_centroid == labels).float().mean().item(),
        "test_sigma_median": test_sigma.median().item(),
        "test_nn_median": own_nn.median().item(),
        "test_radius_median": mu.norm(dim=1).median().item(),
        "eig_ratio": (eig.min() / eig.max()).item(),
        "spread": cov.trace().sqrt().item(),
        "messy": messy,
    }


def print_report(results: list[dict]) -> None:
    print(f"1. same class close together (k = {K} nearest test codes; chance {results[0]['knn_chance']:.3f})")
    print("| model | beta | kNN same class | nearest centroid is own class | eigenvalue ratio (1 = round) | spread |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| `{r['model']}` | {r['beta']:g} | {r['knn_agreement']:.3f} | {r['nearest_centroid_accuracy']:.3f} "
              f"| {r['eig_ratio']:.3f} | {r['spread']:.2f} |")
    print()
    print("2. images that are no digit: sigma (geometric mean) and distance to the nearest test code, medians")
    print("| model | images | sigma | sigma / test images' | share above the test images' 90th pct | "
          "nearest test code | / test codes' own | |mu| (test: median) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| `{r['model']}` | test images | {r['test_sigma_median']:.3f} | 1 | | {r['test_nn_median']:.3f} | 1 "
              f"| {r['test_radius_median']:.2f} |")
        for name, m in r["messy"].items():
            print(f"| | {name} | {m['sigma_median']:.3f} | {m['sigma_vs_test']:.2f} | {m['sigma_above_test_p90']:.2f} "
                  f"| {m['nn_median']:.3f} | {m['nn_vs_test']:.1f} | {m['radius_median']:.2f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", default=DEFAULT)
    p.add_argument("--json", action="store_true", help="print one JSON list")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    results = [measure(m) for m in args.models]
    if args.json:
        print(json.dumps(results))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
