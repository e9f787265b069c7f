"""The claims, one function each: a model's Codes in, plain numbers out (the package's docstring lists them)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from dashboard.drawing import to_mnist
from vae_core.analysis import summarize_codes
from vae_core.data import binarized_test_images
from vae_core.evaluate import binarization_of, evaluate_elbo
from vae_core.losses import reconstruction_nll
from vae_core.model import interpolate_latents, sample_posterior
from vae_core.noise import corrupt
from vae_core.robustness import CleanCodes, class_centroids, robustness

from .codes import N_SMALL, Codes, K, decode, encode, geometric_sigma, judge, load_codes, nearest_distances


def same_class(c: Codes, k: int = K) -> dict:
    """'Images of the same class land close together', on the map (plane) and in the whole latent space."""
    p = torch.bincount(c.labels, minlength=10).float() / len(c.labels)
    out = {"knn_chance": (p**2).sum().item()}  # two random codes share a label with prob sum_c p_c^2
    for where, pts in (("plane", c.plane), ("latent", c.mu)):
        _, idx = nearest_distances(pts, pts, k, exclude_self=True)
        out[f"knn_{where}"] = (c.labels[idx] == c.labels.unsqueeze(1)).float().mean().item()
    classes, centroids = class_centroids(c.plane, c.labels)
    nearest = classes[torch.cdist(c.plane, centroids).argmin(1)]
    out["nearest_centroid_plane"] = (nearest == c.labels).float().mean().item()
    return out


def overlap(c: Codes, k: int = K) -> dict:
    """Which two classes overlap most on the map: m_ab = share of class a's codes' k neighbours in class b,
    o_ab = (m_ab + m_ba) / 2; the pairs by o, most overlapping first."""
    _, idx = nearest_distances(c.plane, c.plane, k, exclude_self=True)
    nb = c.labels[idx]  # [N, k]
    m = torch.zeros(10, 10)
    for a in range(10):
        rows = nb[c.labels == a].flatten()
        if len(rows):
            m[a] = torch.bincount(rows, minlength=10).float()[:10] / len(rows)
    o = (m + m.T) / 2
    pairs = sorted(((o[a, b].item(), a, b) for a in range(10) for b in range(a + 1, 10)), reverse=True)
    return {"pairs": [(a, b, round(v, 4)) for v, a, b in pairs[:5]],
            "rank_4_9": next(i for i, (_, a, b) in enumerate(pairs) if (a, b) == (4, 9)) + 1,
            "o_4_9": o[4, 9].item()}


def ellipse(c: Codes) -> dict:
    """'A small Gaussian cloud': sigma along the two plotted axes (geometric mean), over the codes' spread
    there, sqrt(tr Cov(plane) / 2), both as medians / one figure."""
    d_axes = min(2, c.d)
    g = geometric_sigma(c.sigma[:, :d_axes])
    spread = (torch.cov(c.plane.T).trace() / 2).sqrt().item()
    return {"sigma_median": g.median().item(), "spread": spread, "sigma_over_spread": g.median().item() / spread}


@torch.no_grad()
def smoothness(c: Codes, n: int = 500, steps: tuple[float, ...] = (0.01, 0.1, 0.5), seed: int = 0) -> dict:
    """'Small steps in z give small changes in the picture': for z ~ N(0, I) and a random direction u (|u| = 1),
    mean |f(z + s u) - f(z)| over the pixels, against mean |f(z) - f(z')| for an independent z'."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, c.d, generator=g)
    u = torch.randn(n, c.d, generator=g)
    u = u / u.norm(dim=1, keepdim=True)
    base = decode(c.model, z)
    far = (base - decode(c.model, torch.randn(n, c.d, generator=g))).abs().mean().item()
    out = {"far": far}
    for s in steps:
        out[f"step_{s:g}"] = (decode(c.model, z + s * u) - base).abs().mean().item() / far
    return out


def _pairs(c: Codes, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n pairs (i, j) of test images with different labels, among the first N_SMALL."""
    g = torch.Generator().manual_seed(seed)
    m = min(N_SMALL, len(c.labels))
    i, j = torch.randint(m, (4 * n,), generator=g), torch.randint(m, (4 * n,), generator=g)
    keep = c.labels[i] != c.labels[j]
    return i[keep][:n], j[keep][:n]


def ghost_share(images: torch.Tensor) -> torch.Tensor:
    """Of the inked pixels (p > 0.25), the share at half-tone (p < 0.75): a cross-fade of two different images
    leaves each one's strokes at about half strength ("ghosts"); a drawn stroke is mostly full."""
    ink = images > 0.25
    return ((images < 0.75) & ink).sum(1).float() / ink.sum(1).clamp(min=1)


@torch.no_grad()
def morph(c: Codes, n: int = 200) -> dict:
    """'Plausible images, not a cross-fade of pixels': at the middle of the linear path between the codes of
    two test images of different classes, f((z0 + z1) / 2) against the cross-fade (f(z0) + f(z1)) / 2."""
    i, j = _pairs(c, n)
    z0, z1 = c.mu[i], c.mu[j]
    e0, e1, mid = decode(c.model, z0), decode(c.model, z1), decode(c.model, (z0 + z1) / 2)
    fade = (e0 + e1) / 2
    nn = judge(c)
    d_ends = torch.cat([nn(e0)[1], nn(e1)[1]]).median().item()
    return {
        "ghost_mid": ghost_share(mid).median().item(),
        "ghost_fade": ghost_share(fade).median().item(),
        "ghost_ends": ghost_share(torch.cat([e0, e1])).median().item(),
        # distance to the nearest training image, over the ends' (1 = as close to real data as the ends)
        "nn_mid_vs_ends": nn(mid)[1].median().item() / d_ends,
        "nn_fade_vs_ends": nn(fade)[1].median().item() / d_ends,
    }


def slerp(c: Codes, n: int = 200, steps: int = 17) -> dict:
    """|z(t)| along both paths between the codes of two test images of different classes: the straight line's
    middle over the ends' mean length; the arc's shortest |z(t)| over the shorter end's (5th percentile of the
    pairs) and its longest over the longer end's (95th percentile), and the share of arcs that swing out past
    1.2 times the longer end (slerp between nearly opposite ends of unequal length bulges: 1/sin(omega))."""
    i, j = _pairs(c, n)
    line_mid, arc_low, arc_high = [], [], []
    for a, b in zip(c.mu[i], c.mu[j]):
        line_mid.append(interpolate_latents(a, b, 3, "linear")[1].norm() / ((a.norm() + b.norm()) / 2))
        r = interpolate_latents(a, b, steps, "slerp").norm(dim=1)
        arc_low.append(r.min() / torch.minimum(a.norm(), b.norm()))
        arc_high.append(r.max() / torch.maximum(a.norm(), b.norm()))
    low, high = torch.stack(arc_low), torch.stack(arc_high)
    return {"line_mid_over_ends": torch.stack(line_mid).median().item(),
            "arc_low_p05": low.quantile(0.05).item(), "arc_high_p95": high.quantile(0.95).item(),
            "arc_out_share": (high > 1.2).float().mean().item()}


@torch.no_grad()
def prior(c: Codes, n: int = N_SMALL, seed: int = 0) -> dict:
    """'These samples look like the data': a decoded prior sample's distance to its nearest training image over
    a reconstruction's (1: as close to real images as the reconstructions of test images are). And the codes
    against N(0, I) on the active dimensions: the aggregate posterior's mean and per-axis variance,
    Var(z_j) = Var_x(mu_j) + E_x[sigma_j^2] (1 for the prior)."""
    nn = judge(c)
    z = torch.randn(n, c.d, generator=torch.Generator().manual_seed(seed))
    d_prior = nn(decode(c.model, z))[1].median().item()
    d_recon = nn(decode(c.model, c.mu[:n]))[1].median().item()
    s = summarize_codes(c.mu.numpy(), c.logvar.numpy())
    active = s.activity > 0.01
    var = s.activity + np.exp(c.logvar.numpy().astype(np.float64)).mean(0)
    mean = c.mu.numpy().astype(np.float64).mean(0)
    return {"nn_prior_vs_recon": d_prior / d_recon,
            "agg_var_min": float(var[active].min()), "agg_var_max": float(var[active].max()),
            "agg_mean_abs_max": float(np.abs(mean[active]).max())}


@torch.no_grad()
def posterior_strip(c: Codes, n: int = 150, k: int = 16, visible: float = 0.25) -> dict:
    """'Where sigma is small the decodes usually look identical to the reconstruction; a wider cloud gives
    visible variations': for the first n test images, k draws z = mu + sigma * eps (the strip's default k),
    and per draw the number of pixels whose value moves from the reconstruction at mu by more than `visible`
    (a quarter of the range). A strip "looks identical" when every draw moves fewer than 5 pixels so, and
    "varies visibly" when some draw moves 20 or more."""
    g = torch.Generator().manual_seed(0)
    moved = []
    for i in range(n):
        z = sample_posterior(c.mu[i], None, k, generator=g, sigma=c.sigma[i])
        moved.append(((decode(c.model, z) - decode(c.model, c.mu[i : i + 1])).abs() > visible).sum(1))
    most = torch.stack(moved).max(1).values.float()
    return {"sigma_median": c.sigma[:n].median().item(), "identical_share": (most < 5).float().mean().item(),
            "visible_share": (most >= 20).float().mean().item()}


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """sum over pixels of |x[i+1, j] - x[i, j]| + |x[i, j+1] - x[i, j]|: edges; a blurred image has less."""
    x = images.view(-1, 28, 28)
    return (x[:, 1:] - x[:, :-1]).abs().sum((1, 2)) + (x[:, :, 1:] - x[:, :, :-1]).abs().sum((1, 2))


@torch.no_grad()
def recon(c: Codes, n: int = N_SMALL) -> dict:
    """'Blur is the price': total variation of f(mu(x)) over x's, and what else is lost: how often the
    reconstruction's nearest training image has x's label (against the same for x itself)."""
    x, y = c.x[:n].flatten(1), c.labels[:n]
    r = decode(c.model, c.mu[:n])
    nn = judge(c)
    return {"tv_ratio": (total_variation(r) / total_variation(x).clamp(min=1e-6)).median().item(),
            "label_kept": (nn(r)[0] == y).float().mean().item(),
            "label_of_input": (nn(x)[0] == y).float().mean().item()}


def messy_images(n_each: int = 100, seed: int = 0) -> dict[str, torch.Tensor]:
    """Images that are no digit: uniform noise, sparse salt noise (20 % of pixels white), and pen scribbles drawn
    as on the page's pad (280 x 280, a 20 px pen) and prepared by the page's own dashboard.drawing.to_mnist."""
    rng = np.random.default_rng(seed)
    uniform = rng.random((n_each, 28, 28)).astype(np.float32)
    sparse = (rng.random((n_each, 28, 28)) < 0.2).astype(np.float32)
    scribbles = []
    for _ in range(n_each):
        # a random pen path: 3 to 6 strokes between random points of the pad
        img = Image.new("L", (280, 280), 0)
        points = [tuple(int(v) for v in rng.integers(20, 260, 2)) for _ in range(int(rng.integers(4, 8)))]
        ImageDraw.Draw(img).line(points, fill=255, width=20, joint="curve")
        scribbles.append(to_mnist(np.asarray(img, dtype=np.float32) / 255.0))
    as_tensor = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32)).unsqueeze(1)  # noqa: E731
    return {"uniform noise": as_tensor(uniform), "sparse noise": as_tensor(sparse), "scribbles": as_tensor(scribbles)}


@torch.no_grad()
def messy(c: Codes) -> dict:
    """'Even a scribble lands among the dots, with an ordinary ellipse': per kind of non-digit image, the median
    sigma (geometric mean) over the test images' median, the share of them with a sigma above the test images'
    90th percentile, and the median distance to the nearest test code over a test code's to its nearest other
    (in the whole latent space); the same for the 1 % of test digits the model reconstructs worst."""
    own_nn, _ = nearest_distances(c.mu, c.mu, 1, exclude_self=True)
    test_sigma = geometric_sigma(c.sigma)
    nll = torch.cat([reconstruction_nll(c.model.decode_raw(c.mu[i : i + 1000]), c.x[i : i + 1000],
                                        c.model.cfg.likelihood, c.model.cfg.sigma) for i in range(0, len(c.x), 1000)])
    worst = nll.topk(max(1, len(c.x) // 100)).indices  # -log p(x | z = mu), the messiest real digits
    out = {}
    for name, images in {**messy_images(), "worst-reconstructed 1 %": None}.items():
        if images is None:
            m_mu, m_sigma, m_nn = c.mu[worst], c.sigma[worst], own_nn[worst]
        else:
            m_mu, m_sigma = encode(c.model, images)
            m_nn, _ = nearest_distances(m_mu, c.mu, 1, exclude_self=False)
        g = geometric_sigma(m_sigma)
        out[name] = {"sigma_vs_test": g.median().item() / test_sigma.median().item(),
                     "sigma_above_test_p90": (g > test_sigma.quantile(0.9)).float().mean().item(),
                     "nn_vs_test": m_nn.median().item() / own_nn.median().item()}
    return out


@torch.no_grad()
def denoise(c: Codes, levels: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3), n: int = N_SMALL) -> dict:
    """'Light noise moves the code a little and the decoder still draws nearly the clean picture': `held` of
    vae_core.robustness per kind and level, and the picture: RMS(f(mu(x~)) - f(mu(x))) over RMS(f(mu(x)) -
    f(mu(x'))) for another test image x' (0: the same picture, 1: as different as another image)."""
    codes = CleanCodes(c.model, c.dataset.test_images[: len(c.labels)], c.labels)
    out = {}
    clean = decode(c.model, c.mu[:n])
    other = (clean - clean.roll(1, 0)).pow(2).mean(1).sqrt().median().item()
    for kind in ("gaussian", "salt-and-pepper"):
        for level in levels:
            out[f"held_{kind}_{level:g}"] = robustness(codes, kind, level, n)["held"]
        noisy = corrupt(c.x[:n], kind, levels[0], torch.Generator().manual_seed(0))
        r = decode(c.model, encode(c.model, noisy)[0])
        out[f"picture_{kind}_{levels[0]:g}"] = (r - clean).pow(2).mean(1).sqrt().median().item() / other
    return out


@torch.no_grad()
def path_1_to_7(c: Codes, steps: int = 12) -> dict:
    """The lecture's drag from the 1s to the 7s: the straight path from the centroid of the 1s' codes to the 7s',
    decoded; each frame's nearest training image's label, and its distance there over the ends'."""
    classes, centroids = class_centroids(c.mu, c.labels)
    a, b = centroids[(classes == 1).nonzero()[0, 0]], centroids[(classes == 7).nonzero()[0, 0]]
    frames = decode(c.model, interpolate_latents(a, b, steps, "linear"))
    labels, dist = judge(c)(frames)
    return {"labels": labels.tolist(), "nn_vs_ends": (dist / dist[[0, -1]].mean()).tolist()}


def latent_use(c: Codes) -> dict:
    """Active units (Var_x(mu_j) > 0.01), their margin (the least active used one, the most active unused one),
    the mean KL, and the share of the codes' variance that the map's two plotted coordinates show."""
    s = summarize_codes(c.mu.numpy(), c.logvar.numpy())
    used, unused = s.activity[s.activity > 0.01], s.activity[s.activity <= 0.01]
    total = float(s.activity.sum())
    shown = float(c.plane.double().var(0, unbiased=False).sum()) if c.d >= 2 else float(s.activity[0])
    return {"active": s.active, "d": c.d, "kl": s.kl_total,
            "least_used": float(used.min()) if len(used) else None,
            "most_unused": float(unused.max()) if len(unused) else None,
            "plane_share": shown / total}


def elbo(c: Codes) -> dict:
    """The test loss, recon and KL on all 10,000 test images (one z sample, seeded) and as config.json says; a
    binarized model's on the test images binarized as its training measured them."""
    mode, seed = binarization_of(c.config)
    got = evaluate_elbo(c.model, binarized_test_images(c.dataset.test_images, mode, seed or 0))
    return {**got, **{f"recorded_{k}": v for k, v in c.config.get("metrics", {}).items()}}


CLAIMS = {"same_class": same_class, "overlap": overlap, "ellipse": ellipse, "smoothness": smoothness,
          "morph": morph, "slerp": slerp, "prior": prior, "posterior_strip": posterior_strip, "recon": recon,
          "messy": messy, "denoise": denoise,
          "latent_use": latent_use, "elbo": elbo}


def measure_all(name: str, only: list[str] | None = None) -> dict:
    c = load_codes(name)
    out = {"model": c.name, "d": c.d, "beta": c.model.cfg.beta, "dataset": c.dataset.name}
    for claim, fn in CLAIMS.items():
        if only is None or claim in only:
            out[claim] = fn(c)
    if c.dataset.name == "mnist" and (only is None or "path_1_to_7" in only):
        out["path_1_to_7"] = path_1_to_7(c)
    return out


def measure(folder: str) -> dict:
    """The map report of docs/benchmarks.md (`python bench/claims.py --map`)."""
    c = load_codes(folder)
    sc, m = same_class(c), messy(c)
    cov = torch.cov(c.mu.T)
    eig = torch.linalg.eigvalsh(cov)
    test_sigma = geometric_sigma(c.sigma)
    own_nn, _ = nearest_distances(c.mu, c.mu, 1, exclude_self=True)
    return {
        "model": c.name, "beta": c.model.cfg.beta, "knn_agreement": sc["knn_latent"], "knn_chance": sc["knn_chance"],
        "nearest_centroid_accuracy": sc["nearest_centroid_plane"], "test_sigma_median": test_sigma.median().item(),
        "test_nn_median": own_nn.median().item(), "eig_ratio": (eig.min() / eig.max()).item(),
        "spread": cov.trace().sqrt().item(), "messy": m,
    }
