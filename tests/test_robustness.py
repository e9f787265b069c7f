"""vae_core.robustness: is the noisy image's code nearer its clean code than any other class's centroid?"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import tiny_cfg
from vae_core.model import VAE
from vae_core.noise import corrupt
from vae_core.robustness import CleanCodes, class_centroids, encode_means, robustness, robustness_table


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return VAE(tiny_cfg()).eval()


@pytest.fixture(scope="module")
def test_set(mnist):
    return mnist.test_images[:2000], mnist.test_labels[:2000]


def test_table_values_and_level_zero(tiny_model, test_set):
    images, labels = test_set
    rows = robustness_table(tiny_model, images, labels, levels=(0.0, 0.1, 0.5), n=200)
    assert [(r["kind"], r["level"]) for r in rows] == [(k, lv) for k in ("gaussian", "salt-and-pepper")
                                                       for lv in (0.0, 0.1, 0.5)]
    for r in rows:
        assert 0.0 <= r["held"] <= 1.0 and r["shift"] >= 0 and r["n"] == 200
    zero = [r for r in rows if r["level"] == 0.0]
    assert all(r["held"] == 1.0 and r["shift"] == 0.0 for r in zero)
    # heavy noise moves codes further than light noise
    g = {r["level"]: r for r in rows if r["kind"] == "gaussian"}
    assert g[0.5]["median_shift"] > g[0.1]["median_shift"]


def test_matches_a_direct_computation(tiny_model, test_set):
    images, labels = test_set
    codes = CleanCodes(tiny_model, images, labels)
    got = robustness(codes, "salt-and-pepper", 0.2, n=50, seed=3)

    x = images.unsqueeze(1).float() / 255
    with torch.no_grad():
        mu = tiny_model.encode(x)[0]
        noisy_mu = tiny_model.encode(corrupt(x[:50], "salt-and-pepper", 0.2, torch.Generator().manual_seed(3)))[0]
    centroids = {c: mu[labels == c].mean(0) for c in range(10)}
    held, moved = 0, []
    for i in range(50):
        d_own = (noisy_mu[i] - mu[i]).norm()
        d_other = min((noisy_mu[i] - centroids[c]).norm() for c in range(10) if c != labels[i])
        held += bool(d_own < d_other)
        moved.append(d_own)
    gaps = [(centroids[a] - centroids[b]).norm() for a in range(10) for b in range(a + 1, 10)]
    assert got["held"] == pytest.approx(held / 50)
    assert got["median_shift"] == pytest.approx(torch.stack(moved).median().item(), rel=1e-5)
    assert got["shift"] == pytest.approx(got["median_shift"] / torch.stack(gaps).median().item(), rel=1e-5)


def test_centroids_and_encode_means(tiny_model, test_set):
    images, labels = test_set
    mu = encode_means(tiny_model, images[:300], batch_size=128)
    with torch.no_grad():
        direct = tiny_model.encode(images[:300].unsqueeze(1).float() / 255)[0]
    assert torch.allclose(mu, direct, atol=1e-5)
    classes, centroids = class_centroids(torch.tensor([[0.0, 0], [2, 0], [0, 4], [0, 6]]), torch.tensor([3, 3, 1, 1]))
    assert classes.tolist() == [1, 3]
    assert torch.equal(centroids, torch.tensor([[0.0, 5.0], [1.0, 0.0]]))


def test_one_class_is_refused(tiny_model, mnist):
    with pytest.raises(ValueError, match="two classes"):
        CleanCodes(tiny_model, mnist.test_images[:5], torch.zeros(5, dtype=torch.uint8))


# --- the shipped models ------------------------------------------------------------------------


def test_shipped_denoising_vae_keeps_noisy_codes_where_the_plain_one_loses_them(mnist):
    from tests.conftest import PRETRAINED
    from vae_core.checkpoint import load_checkpoint

    plain, _ = load_checkpoint(PRETRAINED / "mnist-mlp")
    dvae, config = load_checkpoint(PRETRAINED / "mnist-dvae")
    assert (config["training"]["corruption"], config["training"]["corruption_level"]) == ("gaussian", 0.3)
    images, labels = mnist.test_images, mnist.test_labels
    held = {}
    for name, model in (("plain", plain), ("dvae", dvae)):
        codes = CleanCodes(model, images, labels)
        held[name] = {kind: robustness(codes, kind, 0.3, n=300)["held"] for kind in ("gaussian", "salt-and-pepper")}
    # docs/benchmarks.md: at sigma = 0.3 the plain model keeps ~13 % of the codes by their class, the DVAE most
    assert held["plain"]["gaussian"] < 0.3
    assert held["dvae"]["gaussian"] > held["plain"]["gaussian"] + 0.3
    assert held["dvae"]["salt-and-pepper"] > held["plain"]["salt-and-pepper"] + 0.2  # it was trained on gaussian


def test_shipped_models_claims_as_docs_benchmarks_records():
    """dashboard/claims' figures behind the texts (`python bench/claims.py --map`): same class close together
    (plain model), beta = 4 overlaps more, and an image of pure noise does not get a wider ellipse than a digit."""
    from dashboard import claims

    plain, beta4 = claims.measure("pretrained/mnist-mlp"), claims.measure("pretrained/mnist-beta4")
    assert plain["knn_agreement"] > 0.75 and plain["knn_chance"] < 0.11
    assert beta4["knn_agreement"] < plain["knn_agreement"] - 0.05
    assert beta4["test_sigma_median"] > 2 * plain["test_sigma_median"]
    assert plain["messy"]["uniform noise"]["sigma_vs_test"] < 1.0
