"""Explore beyond two dimensions: the map's plane, the sliders by KL, Traversals and Dimensions.

AppTest on the tiny checkpoints of dashboard_apptest (models/three-d has d = 3), the pure scene on made-up
codes, and what the app says about the shipped 16-D and 64-D models checked on those models.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from test_explore_url import fresh, open_tab

from apptest_helpers import send_event
from dashboard_apptest import (  # noqa: F401
    at,
    checkpoints,
    image_urls,
    move_star,
    pick,
    plane_data,
    select_model,
    star_z,
    use_plotly_map,
)
from vae_core import analysis

ROOT = Path(__file__).resolve().parent.parent


# --- the scene: everything projected onto the plane ---------------------------------------------


def _codes(n=400, d=5, seed=0):
    rng = np.random.default_rng(seed)
    mu = (rng.normal(size=(n, d)) * np.array([3.0, 2.0, 1.0, 0.5, 0.1][:d])).astype(np.float32)
    sigma = rng.uniform(0.2, 1.0, size=(n, d)).astype(np.float32)
    return SimpleNamespace(mu=mu, sigma=sigma, labels=np.arange(n) % 10, class_names=[str(k) for k in range(10)],
                           xy=mu[:, :2].copy())


def test_the_scene_projects_codes_star_picks_and_ellipses_onto_the_plane():
    from dashboard.explore.scene import build_scene

    enc = _codes()
    plane = analysis.principal_plane(enc.mu)
    z = enc.mu[7]
    scene = build_scene(enc=enc, d=5, z=z, limit=4.0, view={"cx": 0, "cy": 0, "half": 4, "rev": 0}, picks=[3, 7],
                        plane=plane, projection="pca")
    np.testing.assert_allclose(scene.points, analysis.to_plane(enc.mu, plane), atol=1e-5)
    assert scene.star == pytest.approx(tuple(analysis.to_plane(z[None], plane)[0]), abs=1e-3)
    assert scene.focus == pytest.approx(tuple(scene.points[7]))
    assert [(m.label, m.x, m.y) for m in scene.marks] == [("A", *scene.points[3]), ("B", *scene.points[7])]
    assert scene.axes == ("PC1", "PC2")
    assert scene.caption == f"PCA plane: PC1–PC2, {plane.total_ratio:.0%} of the variance"
    # the ellipse is q's covariance seen on the plane: R diag(sx^2, sy^2) R^T == B diag(sigma^2) B^T
    (e,) = scene.ellipses
    r = np.array([[math.cos(e.angle), -math.sin(e.angle)], [math.sin(e.angle), math.cos(e.angle)]])
    shown = r @ np.diag([e.sx**2, e.sy**2]) @ r.T
    np.testing.assert_allclose(shown, (plane.basis * enc.sigma[7].astype(np.float64) ** 2) @ plane.basis.T, atol=1e-6)
    assert (e.x, e.y) == pytest.approx(tuple(scene.points[7]), abs=1e-5)


def test_a_coordinate_plane_shows_those_two_coordinates():
    from dashboard.explore.scene import build_scene

    enc = _codes()
    plane = analysis.coordinate_plane(5, 2, 0, enc.mu)
    scene = build_scene(enc=enc, d=5, z=enc.mu[1], limit=4.0, view={"cx": 0, "cy": 0, "half": 4}, picks=[1],
                        plane=plane, projection=(2, 0))
    np.testing.assert_allclose(scene.points, enc.mu[:, [2, 0]], atol=1e-6)
    assert scene.axes == ("z3", "z1") and scene.caption.startswith("Coordinate plane: z3–z1, ")
    share = enc.mu.var(0)[[2, 0]].sum() / enc.mu.var(0).sum()
    assert scene.caption.endswith(f"{share:.0%} of the variance")
    (e,) = scene.ellipses
    assert sorted([e.sx, e.sy]) == pytest.approx(sorted(enc.sigma[1][[2, 0]]), abs=1e-6)


def test_without_a_plane_the_map_is_z1_z2_as_before():
    from dashboard.explore.scene import build_scene

    enc = _codes(d=3)
    scene = build_scene(enc=enc, d=3, z=[1.0, 2.0, 3.0], limit=4.0, view={"cx": 0, "cy": 0, "half": 4}, picks=[5])
    assert scene.axes == ("z1", "z2") and scene.star == (1.0, 2.0) and scene.caption == "" and scene.plane is None
    (e,) = scene.ellipses
    assert (e.sx, e.sy, e.angle) == (pytest.approx(enc.sigma[5, 0]), pytest.approx(enc.sigma[5, 1]), 0.0)


# --- the app on a 3-D model ---------------------------------------------------------------------


def _summary(app):
    from dashboard.model import caches, registry

    entry = [e for e in registry.list_models() if e.name == "three-d"][0]
    return caches.latent_analysis(entry.folder, entry.stamp, "mnist")


def test_a_3d_model_shows_the_pca_plane_and_the_page_gets_its_basis(at):
    select_model(at, "three-d")
    data = plane_data(at)
    summary = _summary(at)
    plane = summary.plane
    assert data["axes"] == ["PC1", "PC2"]
    assert data["plane"]["mean"] == pytest.approx(list(plane.mean), abs=1e-9)
    assert np.allclose([data["plane"]["e1"], data["plane"]["e2"]], plane.basis, atol=1e-9)
    assert data["caption"] == f"PCA plane: PC1–PC2, {plane.total_ratio:.0%} of the variance"
    assert any(data["caption"] in c.value for c in at.caption), "the caption is under the map too"
    active = [int(j) for j in summary.order if summary.activity[j] > 0.01]
    assert data["sliderOrder"] == active + [int(j) for j in summary.order if int(j) not in active], \
        "the page's sliders by KL, largest first, the inactive ones last"
    assert data["sliderActive"] == len(active), "and folded away"
    points = data["blobs"][data["points"]]
    assert points["n"] == len(summary.mu)
    assert data["sliderNames"] == [f"z{j + 1} · KL {summary.kl[j]:.2f}" for j in range(len(summary.kl))]
    # beside the Plotly map, Streamlit's sliders: in the same order, with the same names
    use_plotly_map(at)
    sliders = [s for s in at.slider if s.key.startswith("explore_z")]
    assert [int(s.key[9:]) for s in sliders] == data["sliderOrder"]
    assert [s.label for s in sliders] == [data["sliderNames"][int(s.key[9:])] for s in sliders]


def test_switching_to_a_coordinate_plane_changes_the_dots_and_the_view_goes_home(at):
    select_model(at, "three-d")
    pca = plane_data(at)
    at.segmented_control(key="explore_plane_kind").set_value("Coordinates").run()
    assert not at.exception
    summary = _summary(at)
    first, second = (int(j) for j in summary.order[:2])
    assert at.session_state["explore.projection"] == [first, second]
    data = plane_data(at)
    assert data["points"] != pca["points"] and data["axes"] == [f"z{first + 1}", f"z{second + 1}"]
    assert data["caption"].startswith(f"Coordinate plane: z{first + 1}–z{second + 1}")
    assert data["view"]["rev"] == pca["view"]["rev"] + 1
    # choosing the y axis's coordinate for x swaps the two
    at.selectbox(key="explore_plane_x").set_value(second).run()
    assert at.session_state["explore.projection"] == [second, first]
    assert at.query_params["pl"] == f"{second + 1},{first + 1}"
    at.segmented_control(key="explore_plane_kind").set_value("PCA").run()
    assert at.session_state["explore.projection"] == "pca" and "pl" not in at.query_params


def test_a_release_on_the_plane_sets_every_slider(at):
    select_model(at, "three-d")
    send_event(at, "explore_plane", "release", {"z": [0.5, -1.25, 2.0]})
    assert star_z(at) == [0.5, -1.25, 2.0]
    assert plane_data(at)["z"] == [0.5, -1.25, 2.0]


def test_the_manifold_grid_lies_on_the_plane_through_the_star(at):
    select_model(at, "three-d")
    (grid,) = image_urls(at, "20 × 20 decodes")
    move_star(at, (2, 2.0))  # off the (z1, z2) plane, not off the PCA one only
    (moved,) = image_urls(at, "20 × 20 decodes")
    assert moved != grid, "another slice through the ★: another grid"
    captions = [c for img in at.image for c in img.captions if c.startswith("20 × 20")]
    assert "PC1 (left to right) and PC2 (bottom to top) on the map's plane" in captions[0]
    at.toggle(key="explore_bg").set_value(True).run()
    data = plane_data(at)
    assert data["background"] in data["blobs"]


def test_the_manifold_grid_decodes_the_square_of_the_plane_the_map_shows(at):
    """d > 2: the grid's codes are the points of the plane through the ★ inside the map's view."""
    import base64
    import io

    import torch
    from PIL import Image

    from dashboard import views
    from vae_core import load_checkpoint

    select_model(at, "three-d")
    move_star(at, (2, 1.5))
    send_event(at, "explore_plane", "view", {"cx": 0.8, "cy": -1.1, "half": 0.5})
    at.run()
    ((url, caption),) = [(u, c) for img in at.image for u, c in zip(img.value, img.captions)
                         if c.startswith("20 × 20 decodes")]
    assert "[0.3, 1.3] × [-1.6, -0.6]" in caption, caption
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L"))
    plane = _summary(at).plane
    u, v = np.meshgrid(np.linspace(0.3, 1.3, 20), np.linspace(-0.6, -1.6, 20))  # rows from the top
    codes = analysis.from_plane(np.stack([u.ravel(), v.ravel()], 1), plane, np.array(star_z(at)))
    assert np.allclose(analysis.to_plane(codes, plane), np.stack([u.ravel(), v.ravel()], 1)), "the view's square"
    model, _ = load_checkpoint(at.checkpoint_roots[1] / "three-d")
    with torch.inference_mode():
        images = model.decode(torch.as_tensor(codes, dtype=torch.float32))[:, 0].numpy()
    expected = views.grid_image(views.to_uint8(images).reshape(20, 20, 28, 28))
    assert shown.shape == expected.shape and np.abs(shown.astype(int) - expected).max() <= 1


def test_a_switch_to_a_3d_model_keeps_the_stars_place_on_the_map(at):
    """The 2-D ★ becomes the 3-D code that the map (its PCA plane) draws at the same place, which the page's
    readout shows: not (z1, z2) copied with z3 = 0, drawn somewhere else."""
    move_star(at, (0, 1.5), (1, -0.5))
    select_model(at, "three-d")
    data = plane_data(at)
    plane = data["plane"]
    z, mean = np.array(data["z"]), np.array(plane["mean"])
    assert [float((z - mean) @ np.array(plane[e])) for e in ("e1", "e2")] == pytest.approx([1.5, -0.5], abs=0.02)
    select_model(at, "mnist-mlp")  # and back: the same place
    assert plane_data(at)["z"] == pytest.approx([1.5, -0.5], abs=0.011)


def test_traversals_show_one_row_per_dimension_by_kl(at):
    select_model(at, "three-d")
    at.session_state["explore.section"] = "trav"
    at.run()
    assert not at.exception
    summary = _summary(at)
    rows = [m.value for m in at.markdown if m.value.startswith("**z")]
    assert rows == [f"**z{j + 1}**  \nKL {summary.kl[j]:.2f}" for j in summary.order[:3]]
    # the columns are labelled with the values of z_j they decode (the traversal's own values)
    (labels,) = [m.value for m in at.markdown if "white-space:nowrap" in m.value]
    swept = analysis.traversal_latents(np.zeros(3, np.float32), [0], n=9)[:, 0]
    assert re.findall(r">([^<]+)</span>", labels) == [
        "0" if v == 0 else f"{v:+g}".replace("-", "−") for v in swept] == [
        "−3", "−2.25", "−1.5", "−0.75", "0", "+0.75", "+1.5", "+2.25", "+3"]
    at.slider(key="explore_trav_rows").set_value(2).run()
    assert len([m for m in at.markdown if m.value.startswith("**z")]) == 2
    assert at.query_params["tr"] == "2" and at.query_params["sub"] == "trav"
    # held at the last pick's μ: the traversal of its code
    pick(at, 5)
    at.radio(key="explore_trav_from").set_value("pick").run()
    assert any("μ of test image #5" in c.value for c in at.caption)


def test_the_dimensions_tab_shows_the_kl_chart_and_the_active_units(at):
    select_model(at, "three-d")
    at.session_state["explore.section"] = "dims"
    at.run()
    assert not at.exception
    summary = _summary(at)
    (metric,) = [m for m in at.metric if m.label == "Active units"]
    assert metric.value == f"{summary.active} of 3"
    assert any(el.proto.id.endswith("-explore_kl_chart") for el in at.main if getattr(el, "type", "") == "plotly_chart")
    assert any("Cov" in x.value for x in at.latex), "the formula"


@pytest.mark.parametrize("pl, refused", [("1,1", True), ("9,2", True), ("x", True), ("2,3", False), ("pca", False)])
def test_a_plane_in_the_link(checkpoints, monkeypatch, pl, refused):
    app = fresh(checkpoints, monkeypatch, {"m": "models/three-d", "pl": pl})
    notes = [i.value for i in app.info]
    if refused:
        assert any("pl" in n and "Ignored" in n for n in notes), notes
        assert "explore.projection" not in app.session_state or app.session_state["explore.projection"] == "pca"
    else:
        assert not notes
        assert "explore.projection" in app.session_state and app.session_state["explore.projection"] == (
            "pca" if pl == "pca" else [1, 2])
        if pl != "pca":
            assert plane_data(app)["axes"] == ["z2", "z3"]


def test_a_plane_in_the_link_of_a_2d_model_is_refused(checkpoints, monkeypatch):
    app = fresh(checkpoints, monkeypatch, {"pl": "1,2"})
    assert any("pl" in i.value for i in app.info)
    assert "plane" not in plane_data(app)


def test_the_plane_and_the_slider_order_survive_a_visit_to_train(at):
    select_model(at, "three-d")
    at.segmented_control(key="explore_plane_kind").set_value("Coordinates").run()
    plane = at.session_state["explore.projection"]
    order = plane_data(at)["sliderOrder"]
    open_tab(at, "Train")
    open_tab(at, "Explore")
    assert at.session_state["explore.projection"] == plane
    assert plane_data(at)["sliderOrder"] == order
    assert plane_data(at)["axes"] == [f"z{plane[0] + 1}", f"z{plane[1] + 1}"]


def test_the_picked_point_shows_mu_and_sigma_per_dimension_for_d_above_4():
    from dashboard.explore.figures import posterior_chart

    enc = _codes(d=5)
    fig = posterior_chart(enc.mu[0], enc.sigma[0], order=[4, 3, 2, 1, 0])
    (trace,) = fig.data
    assert list(trace.x) == ["z5", "z4", "z3", "z2", "z1"]
    assert list(trace.y) == pytest.approx(list(enc.mu[0][::-1]))
    assert list(trace.error_y.array) == pytest.approx(list(enc.sigma[0][::-1]))


# --- what the app says is true of the shipped models ---------------------------------------------


@pytest.mark.parametrize("name, dataset, d, active", [("mnist16-mlp", "mnist", 16, 13),
                                                       ("fashion64-conv", "fashion-mnist", 64, 9)])
def test_the_sentences_about_collapse_are_true_of_the_shipped_models(name, dataset, d, active):
    """docs/benchmarks.md's counts; explain.TEXTS["dimensions"] and ["traversals"] on these models."""
    import torch

    from dashboard.explore.sections.dimensions import collapse_sentence
    from dashboard.model import compute
    from vae_core import load_checkpoint, load_dataset

    folder = ROOT / "pretrained" / name
    try:
        data = load_dataset(dataset, None, download=False)
    except Exception as e:  # noqa: BLE001  (no data set here: nothing to check it on)
        pytest.skip(f"{dataset} is not available: {e}")
    model, _ = load_checkpoint(folder)
    mu, sigma = compute.encode_images(model, data.test_images)
    summary = analysis.summarize_codes(mu, 2 * np.log(sigma.astype(np.float64)))
    assert (len(summary.kl), summary.active) == (d, active)
    off = summary.activity <= 0.01
    # "its μ_j stays near 0 and its σ_j near 1 whatever the image (KL ≈ 0)"
    assert summary.kl[off].max() < 0.01 < float(np.median(summary.kl[~off]))
    assert np.abs(mu[:, off]).mean() < 0.1 and np.abs(sigma[:, off] - 1).mean() < 0.15
    assert collapse_sentence(summary, name).startswith(f"{name}: {d - active} of its {d} dimensions are inactive")
    # "A dimension with KL ≈ 0 gives a row of identical images": the traversal of the quietest dimension
    j = int(summary.order[-1])
    with torch.no_grad():
        rows = model.decode(torch.tensor(analysis.traversal_latents(mu[0], [j, int(summary.order[0])], n=9),
                                         dtype=torch.float32))[:, 0].numpy().reshape(2, 9, 28, 28)
    quiet = np.abs(rows[0] - rows[0, 4]).max()
    busy = np.abs(rows[1] - rows[1, 4]).max()
    assert quiet < 0.1 < busy, (quiet, busy)


def test_de_noising_a_3d_model_is_drawn_on_the_maps_plane(at):
    """The de-noising map of a model with d > 2 shows the same plane as the map above (PCA by default): the clean
    image's code at its μ projected onto that plane, not at (z1, z2)."""
    import json

    from dashboard.model import caches, registry

    select_model(at, "three-d")
    at.session_state["explore.section"] = "denoise"
    at.run()
    assert not at.exception
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-explore_denoise_map")]
    fig = json.loads(chart.proto.spec)
    assert (fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]) == ("PC1", "PC2")
    entry = [e for e in registry.list_models() if e.name == "three-d"][0]
    mu = caches.test_encodings(entry.folder, entry.stamp, "mnist").mu
    (clean,) = [t for t in fig["data"] if t.get("name") == "clean image"]
    expected = analysis.to_plane(mu[:1], _summary(at).plane)[0]  # test image #0, the default
    assert (clean["x"][0], clean["y"][0]) == pytest.approx(tuple(expected), abs=1e-5)
    assert (clean["x"][0], clean["y"][0]) != pytest.approx(tuple(mu[0, :2]), abs=1e-3), "not the first two z's"


@pytest.mark.parametrize("name, projection", [("mnist-mlp", None), ("mnist16-mlp", "pca"), ("mnist16-mlp", (4, 1))])
def test_a_follower_s_map_draws_a_pick_as_the_server_s_scene_does(name, projection):
    """The lecturer's picks reach a follower's map with no run of it (frontend/follow.js): a ring at the pick's
    point, and the last pick's ellipse from the blob of every test image's ellipse. That blob's row is the scene's
    ellipse, for the shipped 2-D and 16-D models, on the PCA plane and on a coordinate plane."""
    from dashboard.explore.scene import build_scene
    from dashboard.model.handle import load
    from dashboard.model.registry import list_models

    handle, _ = load(next(e for e in list_models() if e.link_name == f"pretrained/{name}"))
    enc = handle.encodings()
    key, spec = handle.pick_shapes_blob(projection)
    shapes = np.frombuffer(base64.b64decode(spec["sxa"]), "<f4").reshape(-1, 3)
    assert spec["kind"] == "shapes" and spec["n"] == len(shapes) == len(enc.labels)
    plane = handle.plane(projection) if projection is not None else None
    points = handle.map_points(projection)
    for picks in ([17], [3, 2048], [9999]):
        scene = build_scene(enc=enc, d=handle.latent_dim, z=enc.mu[picks[-1]], limit=4.0,
                            view={"cx": 0, "cy": 0, "half": 4}, picks=picks, plane=plane, projection=projection,
                            points_on_plane=points if plane is not None else None)
        assert [(m.pick, m.x, m.y) for m in scene.marks] == [(p, *points[p]) for p in picks]
        (e,) = scene.ellipses
        assert e.pick == picks[-1]
        assert (e.sx, e.sy) == pytest.approx(tuple(shapes[picks[-1], :2]), rel=1e-5)
        # the same ellipse: an angle is the axis's direction, up to a half turn
        turn = (e.angle - float(shapes[picks[-1], 2])) % math.pi
        assert min(turn, math.pi - turn) < 1e-4 or abs(e.sx - e.sy) < 1e-6
        assert (e.x, e.y) == pytest.approx(tuple(points[picks[-1]]), abs=1e-4)
