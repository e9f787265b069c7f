"""Unit tests of the dashboard's pure parts: dashboard/views.py and the registry in dashboard/model/registry.py."""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import views  # noqa: E402
from dashboard.model import compute, registry  # noqa: E402
from factories import tiny_checkpoint  # noqa: E402
from vae_core import VAE, VAEConfig  # noqa: E402

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@pytest.fixture
def codes():
    rng = np.random.default_rng(0)
    return rng.normal(size=(10_000, 2)).astype(np.float32), np.arange(10_000) % 10


# --- images ----------------------------------------------------------------------------------


def test_upscale_is_nearest_neighbour_to_280():
    img = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    big = views.upscale(img)
    assert big.shape == (280, 280) and big.dtype == np.uint8
    # every 10 x 10 block is one source pixel: crisp, no interpolation
    assert np.array_equal(big[::10, ::10], views.to_uint8(img))
    assert np.array_equal(big, np.kron(views.to_uint8(img), np.ones((10, 10), np.uint8)))
    assert views.upscale(img, size=140).shape == (140, 140)
    assert views.upscale(img, scale=3).shape == (84, 84)


def test_to_array_accepts_model_output_and_uint8():
    t = torch.rand(5, 1, 28, 28)
    assert views.to_array(t).shape == (5, 28, 28)
    assert views.to_array(t[:1]).shape == (1, 28, 28)
    assert views.to_array(t[0]).shape == (28, 28)
    u = torch.full((28, 28), 255, dtype=torch.uint8)
    assert views.to_array(u).max() == pytest.approx(1.0)
    assert views.to_uint8(np.array([[-0.5, 0.5, 2.0]])).tolist() == [[0, 128, 255]]


@pytest.mark.parametrize("n", [10, 17, 30])
def test_grid_image_shape(n):
    grid = np.random.default_rng(0).random((n, n, 28, 28)).astype(np.float32)
    img = views.grid_image(grid)
    assert img.shape == (n * 28, n * 28) and img.dtype == np.uint8
    assert views.grid_image(grid, scale=2).shape == (n * 56, n * 56)
    # row 0 of the grid is the top row of the picture
    assert np.array_equal(img[:28, 28:56], views.to_uint8(grid[0, 1]))


def test_tile_wraps_rows_and_pads():
    imgs = np.zeros((10, 28, 28), np.float32)
    out = views.tile(imgs, ncols=4, pad=2)
    assert out.shape == (3 * 28 + 2 * 2, 4 * 28 + 3 * 2)
    assert out[-1, -1] == 255  # the empty cells of the last row stay white
    assert views.strip_image(imgs[:8], scale=3, pad=2).shape == (84, 8 * 84 + 7 * 2)


@pytest.mark.parametrize("steps", [8, 13, 32])
def test_gif_has_one_frame_per_step(steps):
    frames = np.stack([np.full((28, 28), i / (steps - 1), np.float32) for i in range(steps)])
    gif = views.gif_bytes(frames)
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF"
    assert im.n_frames == steps
    assert im.size == (280, 280)
    assert im.info.get("loop") == 0


def test_gif_frames_decode_to_the_upscaled_frames():
    frames = np.random.default_rng(2).random((9, 28, 28)).astype(np.float32)
    im = Image.open(io.BytesIO(views.gif_bytes(frames, size=84)))
    for i, frame in enumerate(views.to_uint8(frames)):
        im.seek(i)
        assert np.array_equal(np.asarray(im.convert("L")), views.upscale(frame, size=84)), f"frame {i}"


def test_strip_png_decodes_to_the_strip():
    frames = np.random.default_rng(1).random((12, 28, 28)).astype(np.float32)
    png = views.strip_png(frames, scale=2, pad=2)
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG" and im.size == (12 * 56 + 11 * 2, 56)
    assert np.array_equal(np.asarray(im), views.strip_image(frames, scale=2, pad=2))


def test_recon_gallery_stacks_originals_over_reconstructions():
    a = np.zeros((6, 28, 28), np.float32)
    b = np.ones((6, 28, 28), np.float32)
    g = views.recon_gallery(a, b, scale=1, pad=0)
    assert g.shape == (56, 6 * 28)
    assert g[:28].max() == 0 and g[28:].min() == 255


def test_add_noise():
    x = np.full((28, 28), 0.5, np.float32)
    assert np.array_equal(views.add_noise(x, "gaussian", 0.0), x)
    g = views.add_noise(x, "gaussian", 0.3, seed=1)
    assert g.min() >= 0 and g.max() <= 1 and not np.array_equal(g, x)
    assert np.array_equal(g, views.add_noise(x, "gaussian", 0.3, seed=1))  # seeded
    sp = views.add_noise(x, "salt-and-pepper", 0.5, seed=0)
    hit = sp != 0.5
    assert 0.35 < hit.mean() < 0.65 and set(np.unique(sp[hit])) <= {0.0, 1.0}
    with pytest.raises(ValueError):
        views.add_noise(x, "speckle", 0.1)


# --- the latent scatter ----------------------------------------------------------------------


def _class_traces(fig):
    return [t for t in fig.data if t.customdata is not None]


def test_scatter_has_10000_points_in_10_traces(codes):
    pts, labels = codes
    fig = views.scatter_figure(pts, labels, [str(i) for i in range(10)], marker=(0.5, -0.5))
    traces = _class_traces(fig)
    assert len(traces) == 10
    assert all(t.type == "scattergl" for t in traces)
    assert sum(len(t.x) for t in traces) == 10_000
    # customdata is the test-set index: every index once, and the point sits at that index's code
    idx = np.concatenate([np.asarray(t.customdata) for t in traces])
    assert sorted(idx.tolist()) == list(range(10_000))
    t3 = traces[3]
    assert np.allclose(np.asarray(t3.x), pts[np.asarray(t3.customdata), 0])
    assert all(labels[i] == 3 for i in np.asarray(t3.customdata))
    assert "customdata" in t3.hovertemplate
    # the slider marker is a visible extra trace
    star = [t for t in fig.data if t.name == "slider z"]
    assert len(star) == 1 and star[0].x == (0.5,) and star[0].y == (-0.5,)
    # it serialises (as Streamlit will) to a compact spec
    assert len(fig.to_json()) < 400_000


def test_scatter_uses_class_names_and_draws_ellipse_and_background(codes):
    pts, labels = codes
    bg = np.zeros((280, 280), np.uint8)
    fig = views.scatter_figure(pts, labels, FASHION, extent=3.0, ellipses=[dict(center=(1.0, 2.0), sigma=(0.5, 0.25))],
                               background=bg,
                               picks=[("A", 0.0, 0.0), ("B", 1.0, 1.0)])
    assert [t.name for t in _class_traces(fig)] == list(FASHION)
    assert "Ankle boot" in _class_traces(fig)[9].hovertemplate
    (shape,) = fig.layout.shapes
    assert shape.type == "circle" and (shape.x0, shape.x1, shape.y0, shape.y1) == (0.5, 1.5, 1.75, 2.25)
    (image,) = fig.layout.images
    assert (image.x, image.y, image.sizex, image.sizey) == (-3.0, 3.0, 6.0, 6.0)
    assert image.xref == "x" and image.yref == "y" and image.layer == "below"
    assert tuple(fig.layout.xaxis.range) == (-3.0, 3.0) and fig.layout.yaxis.scaleanchor == "x"
    assert [t.name for t in fig.data if t.name and t.name.startswith("picked")] == ["picked A", "picked B"]
    assert [(a.text, a.x, a.y) for a in fig.layout.annotations] == [("<b>A</b>", 0.0, 0.0), ("<b>B</b>", 1.0, 1.0)]


def test_scatter_background_can_be_a_url_reaching_past_the_view(codes):
    pts, labels = codes
    url = "data:image/png;base64," + base64.b64encode(views.png_bytes(np.zeros((8, 8), np.uint8))).decode()
    fig = views.scatter_figure(pts, labels, [str(i) for i in range(10)], extent=3.0, background=url,
                               background_extent=3.25)
    (image,) = fig.layout.images
    assert image.source == url
    assert (image.x, image.y, image.sizex, image.sizey) == (-3.25, 3.25, 6.5, 6.5)
    assert tuple(fig.layout.xaxis.range) == (-3.0, 3.0), "the view stays the extent"


def test_scatter_arrows_and_extra_markers(codes):
    pts, labels = codes
    fig = views.scatter_figure(pts, labels, [str(i) for i in range(10)], arrows=[(0, 0, 1, 2)],
                               extra=[dict(x=[1], y=[2], name="noisy input", symbol="x")])
    (arrow,) = fig.layout.annotations
    assert (arrow.ax, arrow.ay, arrow.x, arrow.y, arrow.axref) == (0, 0, 1, 2, "x")
    assert [t.name for t in fig.data][-1] == "noisy input"
    # every trace is WebGL, so markers are drawn above the points rather than underneath
    assert {t.type for t in fig.data} == {"scattergl"}


def test_latent_limit_and_plane_coords():
    assert views.latent_limit(np.zeros((100, 2))) == 4.0
    assert views.latent_limit(np.full((100, 2), 6.0)) == 7.0  # 6 * 1.1 rounded up to a half unit
    assert views.latent_limit(np.full((100, 2), 50.0)) == 10.0
    mu3 = np.arange(30, dtype=np.float32).reshape(10, 3)
    assert np.array_equal(views.plane_coords(mu3), mu3[:, :2])
    p1 = views.plane_coords(np.ones((10, 1), np.float32))
    assert p1.shape == (10, 2) and np.all(np.abs(p1[:, 1]) <= 0.5)


# --- the model registry ----------------------------------------------------------------------


def test_scan_lists_both_folders_with_dataset_dimension_and_loss(tmp_path):
    pre, mine = tmp_path / "pretrained", tmp_path / "models"
    tiny_checkpoint(pre / "mnist-mlp")
    tiny_checkpoint(pre / "fashion-conv", dataset="fashion-mnist", arch="conv", loss=250.0)
    tiny_checkpoint(mine / "my-vae", latent_dim=5)
    (mine / "broken").mkdir()
    (mine / "broken" / "config.json").write_text(json.dumps({"format": "something else"}))
    (mine / ".my-vae.tmp-123").mkdir()  # a checkpoint being written: skipped
    (mine / ".my-vae.tmp-123" / "config.json").write_text("{}")
    (mine / "notes").mkdir()  # not a checkpoint: skipped
    entries = registry.list_models([("pretrained", pre), ("models", mine)])
    labels = {e.name: e.label for e in entries}
    assert sorted(labels) == ["broken", "fashion-conv", "mnist-mlp", "my-vae"]
    # short for the sidebar's box: the data set only where the name does not say it (the summary says the rest)
    assert labels["fashion-conv"] == "fashion-conv · 2-D · loss 250.0"
    assert labels["my-vae"].startswith("models/my-vae · MNIST · 5-D · loss ")
    broken = next(e for e in entries if e.name == "broken")
    assert broken.error and "unreadable" in broken.label
    assert entries[registry.default_index(entries)].name == "mnist-mlp"
    stamp = registry.folder_stamp(pre / "mnist-mlp")
    assert all(stamp) and registry.describe(pre / "mnist-mlp", "pretrained").key.endswith(f"{stamp[0]}:{stamp[1]}")


def test_encode_decode_and_grid_helpers():
    model = VAE(VAEConfig(latent_dim=3, hidden=(16,))).eval()
    images = torch.randint(0, 256, (25, 28, 28), dtype=torch.uint8)
    mu, sigma = compute.encode_images(model, images, batch=10)
    assert mu.shape == sigma.shape == (25, 3) and (sigma > 0).all()
    assert compute.decode(model, mu[0]).shape == (1, 28, 28)
    assert compute.decode(model, mu).shape == (25, 28, 28)
    grid = compute.compute_grid(model, 11, 3.0)
    assert grid.shape == (11, 11, 28, 28) and grid.dtype == np.uint8


def test_selected_index_reads_the_streamlit_event():
    def event(*points):
        return {"selection": {"points": list(points), "point_indices": [], "box": [], "lasso": []}}

    assert views.selected_index(event(), 100) is None
    assert views.selected_index(None, 100) is None
    assert views.selected_index(event({"curve_number": 2, "point_index": 5, "customdata": 42}), 100) == 42
    assert views.selected_index(event({"customdata": [7, "x"]}), 100) == 7
    # clicks on the marker (no customdata) or out-of-range data are ignored; the last valid point wins
    assert views.selected_index(event({"customdata": 3}, {"curve_number": 11, "x": 0.1}), 100) == 3
    assert views.selected_index(event({"customdata": 500}), 100) is None


def test_an_image_as_a_data_url_decodes_to_the_same_pixels():
    import io

    from PIL import Image

    image = (np.arange(28 * 28).reshape(28, 28) % 256).astype(np.uint8)
    for given in (image, views.png_bytes(image), image / 255.0):
        url = views.png_url(given)
        assert url.startswith("data:image/png;base64,")
        decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
        assert np.array_equal(decoded, image)
