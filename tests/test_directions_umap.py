"""A nonlinear map beside the planes (UMAP, decoded through its nearest dots) and directions with a meaning
(vae_core.attributes, the Directions sub-tab).

The library on made-up codes and images; the app in AppTest on the tiny checkpoints of dashboard_apptest
(models/three-d has d = 3). UMAP itself is run here on 300 codes, twice (numba compiles it first: the slow part
of this module, 6 minutes on a machine loaded 20-fold); the app's tests put the map's points in its disk cache
first, as a server that made them before would have, and fail if the app computes them again.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_explore_url import fresh

from apptest_helpers import send_event
from dashboard.model.compute import decode
from dashboard_apptest import at, checkpoints, plane_data, select_model, star_z  # noqa: F401
from vae_core import attributes, neighbour_map

# --- the neighbour map: a point of the map decodes to its nearest dots' codes ---------------------------


def _map(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.normal(size=(n, d))
    points = rng.normal(size=(n, 2)) * 3
    return neighbour_map.NeighbourMap(codes, points)


def test_a_dot_decodes_to_its_own_code_and_a_code_sits_on_its_dot():
    m = _map()
    assert np.array_equal(m.to_code(m.points[:50]), m.codes[:50])
    assert np.array_equal(m.to_map(m.codes[:50]), m.points[:50])


def test_between_dots_the_code_is_the_inverse_distance_mix_of_the_k_nearest():
    m = _map()
    p = np.array([[0.3, -0.7]])
    dist = np.linalg.norm(m.points - p, axis=1)
    near = np.argsort(dist)[: m.k]
    w = 1 / dist[near]
    assert np.allclose(m.to_code(p)[0], (w[:, None] * m.codes[near]).sum(0) / w.sum())
    dz = np.linalg.norm(m.codes - m.codes[0] * 0.5, axis=1)
    near = np.argsort(dz)[: m.k]
    w = 1 / dz[near]
    assert np.allclose(m.to_map(m.codes[0] * 0.5)[0], (w[:, None] * m.points[near]).sum(0) / w.sum())


def test_neighbour_agreement_counts_each_points_k_nearest_others():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 200)
    points = rng.normal(size=(200, 2)) + labels[:, None] * 10.0  # three far-apart clusters
    assert neighbour_agreement_brute(points, labels, 10) == pytest.approx(
        neighbour_map.neighbour_agreement(points, labels, 10))
    assert neighbour_map.neighbour_agreement(points, labels) == 1.0
    mixed = rng.normal(size=(200, 2))
    assert neighbour_map.neighbour_agreement(mixed, labels) < 0.5


def neighbour_agreement_brute(points, labels, k):
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(d, np.inf)
    idx = np.argsort(d, axis=1)[:, :k]
    return float((labels[idx] == labels[:, None]).mean())


def test_fit_to_box_keeps_the_shape_and_fills_the_square():
    p = np.array([[10.0, 5.0], [14.0, 7.0], [12.0, 6.0]])
    q = neighbour_map.fit_to_box(p, 4.0)
    assert np.abs(q).max() == pytest.approx(0.9 * 4.0)
    assert np.allclose((q[1] - q[0]) / (p[1] - p[0]), (q[1] - q[0])[0] / (p[1] - p[0])[0]), "one scale"


def test_umap_is_seeded_the_same_codes_give_the_same_map():
    from vae_core import umap_plane  # umap-learn: numba compiles it here, the slow part of this module

    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(size=(150, 6)), rng.normal(size=(150, 6)) + 6]).astype(np.float32)
    a, b = umap_plane.umap_points(codes), umap_plane.umap_points(codes)
    assert a.shape == (300, 2) and a.dtype == np.float32 and np.array_equal(a, b)
    labels = np.repeat([0, 1], 150)
    assert neighbour_map.neighbour_agreement(a, labels) > 0.95, "two clusters stay apart"


# --- attribute directions --------------------------------------------------------------------------------


def _bar(shear: float) -> np.ndarray:
    """A 28 x 28 stroke from row 4 to 23, its column moving right by `shear` per row upwards."""
    img = np.zeros((28, 28))
    for r in range(4, 24):
        img[r, int(round(14 + shear * (14 - r)))] = 1.0
    return img


def test_ink_is_the_mean_pixel_and_slant_the_lean_to_the_right():
    upright, right, left = _bar(0.0), _bar(0.5), _bar(-0.5)
    images = np.stack([upright, right, left])
    assert np.allclose(attributes.ink(images), images.mean(axis=(1, 2)))
    assert np.allclose(attributes.ink((images * 255).astype(np.uint8)), images.mean(axis=(1, 2)), atol=1e-3)
    s = attributes.slant(images)
    assert s[0] == pytest.approx(0.0, abs=1e-9)
    assert s[1] == pytest.approx(0.5, abs=0.05) and s[2] == pytest.approx(-0.5, abs=0.05)
    assert attributes.slant(np.zeros((1, 28, 28)))[0] == 0.0, "a blank image has no slant"


def test_directions_are_differences_of_group_means():
    rng = np.random.default_rng(0)
    mu, labels = rng.normal(size=(100, 4)), np.repeat([0, 1, 2, 3], 25)
    assert np.allclose(attributes.class_direction(mu, labels, 1, 3), mu[labels == 3].mean(0) - mu[labels == 1].mean(0))
    values = np.arange(100.0)
    below, above = attributes.median_split(values)
    assert below.sum() == above.sum() == 50 and not (below & above).any()
    assert np.allclose(attributes.property_direction(mu, values), mu[50:].mean(0) - mu[:50].mean(0))
    z, v = mu[0], mu[1]
    assert np.allclose(attributes.along(z, v, [-1, 0, 2]), [z - v, z, z + 2 * v])
    with pytest.raises(ValueError):
        attributes.measure("roundness", mu)


# --- the app: UMAP as a third choice of plane ---------------------------------------------------------------


@pytest.fixture
def umap_points_cached(checkpoints, monkeypatch):
    """The three-d model's UMAP points in the app's disk cache (any fixed map of its codes: here their first two
    coordinates, squeezed), and umap_points failing if the app computes them again."""
    from dashboard.model import caches, registry, umap_cache
    from vae_core import umap_plane

    pre, mine = checkpoints
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    (entry,) = [e for e in registry.list_models() if e.name == "three-d"]
    enc = caches.test_encodings(entry.folder, entry.stamp, "mnist")
    points = np.ascontiguousarray(np.tanh(enc.mu[:, :2]) * 5, dtype=np.float32)
    umap_cache._write(umap_cache._cache_file(entry.folder, entry.stamp, len(enc.mu)), points)

    def computed_again(mu, seed=0):
        raise AssertionError("the UMAP points were computed again")

    monkeypatch.setattr(umap_plane, "umap_points", computed_again)
    return entry, enc, points


def test_umap_is_made_once_per_model_and_kept_on_disk(umap_points_cached, monkeypatch):
    from dashboard.model import umap_cache
    from vae_core import umap_plane

    entry, enc, points = umap_points_cached
    umap_cache.umap_view.clear()
    first = umap_cache.umap_view(entry.folder, entry.stamp, "mnist")
    assert umap_cache.umap_view(entry.folder, entry.stamp, "mnist") is first, "cached: the same object"
    assert np.allclose(first.neighbours.points, neighbour_map.fit_to_box(points, enc.limit))
    assert first.agreement == neighbour_map.neighbour_agreement(first.neighbours.points, enc.labels)
    # no file: computed once, written, then read back by the next server (cache cleared) without computing
    calls = []
    monkeypatch.setattr(umap_plane, "umap_points", lambda mu, seed=0: calls.append(1) or points[::-1].copy())
    path = umap_cache._cache_file(entry.folder, entry.stamp, len(enc.mu))
    path.unlink()
    umap_cache.umap_view.clear()
    umap_cache.umap_view(entry.folder, entry.stamp, "mnist")
    umap_cache.umap_view.clear()
    again = umap_cache.umap_view(entry.folder, entry.stamp, "mnist")
    assert calls == [1] and path.is_file()
    assert np.allclose(again.neighbours.points, neighbour_map.fit_to_box(points[::-1], enc.limit))
    path.unlink()
    umap_cache.umap_view.clear()


def test_the_umap_map_shows_the_codes_where_umap_put_them_and_decodes_through_the_nearest(
        at, umap_points_cached, checkpoints, monkeypatch):
    from dashboard.model import umap_cache

    entry, enc, _ = umap_points_cached
    umap_cache.umap_view.clear()
    select_model(at, "three-d")
    at.segmented_control(key="explore_plane_kind").set_value("UMAP").run()
    assert not at.exception, at.exception
    view = umap_cache.umap_view(entry.folder, entry.stamp, "mnist")
    data = plane_data(at)
    assert at.query_params["pl"] == "umap" and data["axes"] == ["UMAP 1", "UMAP 2"]
    assert "plane" not in data and data["decoder"] is None, "no plane to decode on in the page"
    assert "UMAP has no inverse" in data["note"] and data["serverImage"].startswith("data:image/png")
    caption = (f"UMAP of the test codes: of each dot's 10 nearest dots, {view.agreement:.0%} share its label "
               f"(on the PCA plane {view.agreement_pca:.0%})")
    assert any(caption in c.value for c in at.caption), "under the map"
    assert data["caption"] == f"UMAP: kNN {view.agreement:.0%} same class (PCA {view.agreement_pca:.0%})", "on it"
    assert not data["ellipses"]
    # the ★ sits where its nearest codes' dots are; a release on a dot's place puts the ★ at that dot's μ
    assert data["z"] == pytest.approx(list(view.neighbours.to_map(star_z(at))[0]), abs=1e-3)
    i = 17
    send_event(at, "explore_plane", "release", {"z": [float(x) for x in view.neighbours.points[i]]})
    assert star_z(at) == pytest.approx([round(float(v), 2) for v in enc.mu[i]], abs=1e-9)
    assert plane_data(at)["z"] == pytest.approx(list(view.neighbours.to_map(star_z(at))[0]), abs=1e-3)
    assert at.toggle(key="explore_bg").disabled, "no manifold under a map without a plane"
    # a link reopens it
    app = fresh(checkpoints, monkeypatch, {"m": "models/three-d", "pl": "umap"})
    assert plane_data(app)["axes"] == ["UMAP 1", "UMAP 2"]
    app = fresh(checkpoints, monkeypatch, {"pl": "umap"})  # the 2-D model has no choice of plane
    assert any("pl" in i.value for i in app.info) and "explore.projection" not in app.session_state
    umap_cache.umap_view.clear()


# --- the app: the Directions sub-tab --------------------------------------------------------------------------


def test_the_directions_slider_moves_the_star_along_the_direction(at, checkpoints, monkeypatch):
    from dashboard.model import caches, registry

    select_model(at, "three-d")
    at.session_state["explore.section"] = "dir"
    at.run()
    assert not at.exception, at.exception
    (entry,) = [e for e in registry.list_models() if e.name == "three-d"]
    enc = caches.test_encodings(entry.folder, entry.stamp, "mnist")
    v = attributes.property_direction(enc.mu, attributes.ink(enc.images))
    before = np.array(star_z(at))
    at.slider(key="explore_dir_t").set_value(1.5).run()
    assert not at.exception, at.exception
    assert np.allclose(star_z(at), np.round(before + 1.5 * v, 2), atol=1e-9)
    at.slider(key="explore_dir_t").set_value(0.5).run()  # one step back: by (0.5 - 1.5) v from where it is
    assert np.allclose(star_z(at), np.round(np.round(before + 1.5 * v, 2) - v, 2), atol=0.011)
    assert at.query_params["dt"] == "0.5" and at.query_params["sub"] == "dir"
    caption = next(c.value for c in at.caption if c.value.startswith("v = the mean code"))
    strip = attributes.along(np.array(star_z(at)), v, np.linspace(-2, 2, 9))
    shown = caption.split("Its ink on each decode (of the mean E[x|z]): ")[1].rstrip(".").split(", ")

    model = caches.load_model(entry.folder, entry.stamp)[0]
    want = attributes.ink(decode(model, strip))
    assert [float(x) for x in shown] == pytest.approx(want, abs=0.006), "the numbers are the library's"
    at.selectbox(key="explore_dir_kind").set_value("class").run()
    at.selectbox(key="explore_dir_from").set_value(1).run()
    assert at.query_params["dk"] == "class" and at.query_params["dc"] == "1,8"
    app = fresh(checkpoints, monkeypatch, {"m": "models/three-d", "sub": "dir", "dk": "slant", "dt": "-1"})
    assert app.session_state["explore.dir_kind"] == "slant" and app.slider(key="explore_dir_t").value == -1.0
    app = fresh(checkpoints, monkeypatch, {"sub": "dir", "dc": "4,4", "dt": "9"})
    assert any("dc" in i.value and "dt" in i.value for i in app.info)


# --- the map shipped beside the weights (vae_core.umap_file): read first, checked, a stale one ignored ------


def _shipped_models():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "pretrained"
    return [f for f in sorted(root.iterdir())
            if (f / "config.json").is_file()
            and json.loads((f / "config.json").read_text())["model"]["latent_dim"] > 2]


def test_every_shipped_model_beyond_2d_ships_its_umap_map_and_it_keeps_the_classes_together():
    from vae_core import load_dataset, umap_file

    labels = load_dataset("mnist").test_labels.numpy()
    folders = _shipped_models()
    assert {f.name for f in folders} >= {"mnist16-mlp", "fashion64-conv", "mnist50-binarized"}
    for folder in folders:
        points = umap_file.read(folder, len(labels))
        assert points is not None, f"{folder.name}: no valid umap.safetensors (python -m vae_core.umap_plane)"
        assert points.shape == (len(labels), 2) and np.isfinite(points).all()
    # a map of these codes in their order, not any array of the right shape: UMAP keeps MNIST's classes apart
    mnist16 = umap_file.read(folders[0].parent / "mnist16-mlp", len(labels))
    assert neighbour_map.neighbour_agreement(mnist16, labels) > 0.85
    assert neighbour_map.neighbour_agreement(mnist16, np.random.default_rng(0).permutation(labels)) < 0.2


def test_a_stale_or_corrupt_shipped_map_is_ignored_with_one_log_line(tmp_path, caplog):
    import shutil

    from safetensors.numpy import save_file

    from vae_core import umap_file

    src = _shipped_models()[0]
    shutil.copy(src / "model.safetensors", tmp_path / "model.safetensors")
    points = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    path = umap_file.write(tmp_path, points)
    assert np.array_equal(umap_file.read(tmp_path, 500), points)
    (tmp_path / "again").mkdir()
    shutil.copy(src / "model.safetensors", tmp_path / "again" / "model.safetensors")
    assert umap_file.write(tmp_path / "again", points).read_bytes() == path.read_bytes(), "the same map, the same bytes"
    assert umap_file.read(tmp_path / "elsewhere", 500) is None, "no file: nothing, and nothing to say"
    assert not caplog.records

    def ignored(n=500):
        caplog.clear()
        assert umap_file.read(tmp_path, n) is None
        assert len(caplog.records) == 1 and "ignored" in caplog.records[0].getMessage()

    ignored(n=499)  # another test set
    meta = umap_file.provenance(tmp_path, 500)
    save_file({"points": points}, str(path), metadata={**meta, "seed": "1"})
    ignored()
    save_file({"points": points}, str(path), metadata={**meta, "umap_learn": "0.0"})
    ignored()
    bad = points.copy()
    bad[7, 1] = np.nan
    save_file({"points": bad}, str(path), metadata=meta)
    ignored()
    path.write_bytes(b"\x08" + b"\0" * 7 + b"not a safetensors header")
    ignored()
    umap_file.write(tmp_path, points)
    with open(tmp_path / "model.safetensors", "r+b") as f:  # retrained weights: the map is of another model
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    ignored()


def test_the_app_reads_the_shipped_map_before_its_disk_cache_and_computes_nothing(umap_points_cached, caplog):
    from safetensors.numpy import save_file

    from dashboard.model import umap_cache
    from vae_core import umap_file

    entry, enc, cached = umap_points_cached  # the disk cache holds `cached`; computing again fails
    shipped = np.ascontiguousarray(cached[::-1])
    path = umap_file.write(entry.folder, shipped)
    try:
        umap_cache.umap_view.clear()
        view = umap_cache.umap_view(entry.folder, entry.stamp, "mnist")
        assert np.allclose(view.neighbours.points, neighbour_map.fit_to_box(shipped, enc.limit))
        # another model's map beside these weights: ignored (one line), the disk cache's map shown instead
        meta = umap_file.provenance(entry.folder, len(shipped))
        save_file({"points": shipped}, str(path), metadata={**meta, "weights_sha256": "0" * 64})
        umap_cache.umap_view.clear()
        caplog.clear()
        view = umap_cache.umap_view(entry.folder, entry.stamp, "mnist")
        assert np.allclose(view.neighbours.points, neighbour_map.fit_to_box(cached, enc.limit))
        assert [r.getMessage() for r in caplog.records if "UMAP" in r.getMessage()][0].endswith(
            "does not match this model (weights_sha256): ignored")
    finally:
        path.unlink()
        umap_cache.umap_view.clear()
