"""Explore in AppTest, on tiny checkpoints in a temporary folder: the map, the sliders, picks, the sub-tabs,
your own digit (moved here from test_dashboard_app.py when explore.py became a package)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import scatter_charts, select_on_scatter, send_event  # noqa: E402, F401
from dashboard_apptest import (  # noqa: E402, F401  (fixtures are found by name in the test module)
    APP,
    at,
    checkpoints,
    class_points,
    explore_scope,
    first_run,
    image_urls,
    move_star,
    pick,
    plane_data,
    plane_elements,
    plotly_array,
    scatter_spec,
    select_model,
    star,
    star_z,
    use_map,
    use_plotly_map,
    whole_page,
)
from factories import tiny_checkpoint  # noqa: E402
from vae_core import VAE, VAEConfig, load_dataset, save_checkpoint  # noqa: E402, F401
from vae_core.data import DatasetError  # noqa: E402, F401

ROOT = Path(__file__).resolve().parent.parent


def test_the_plane_gets_the_decoder_once_and_follows_the_sliders(at):
    first = plane_data(at)
    assert first["sliders"] is True, "the page has the z sliders and decodes while they move"
    assert not [s for s in at.slider if s.key.startswith("explore_z")], \
        "so the Live map's fragment has no Streamlit z slider, and no server image"
    assert image_urls(at, "decoder output") == []
    move_star(at, (0, 1.5))  # one of the page's z sliders let go at 1.5
    data = plane_data(at)
    assert data["z"] == [1.5, 0.0], "the ★ moves with the sliders"
    assert data["blobs"] == {}, "weights and points are sent once per session, then referred to by key"
    assert (data["decoder"], data["points"]) == (first["decoder"], first["points"])
    select_model(at, "mnist-conv")
    data = plane_data(at)
    assert data["decoder"] != first["decoder"] and data["decoder"] in data["blobs"]
    layers = [layer["type"] for layer in data["blobs"][data["decoder"]]["layers"]]
    assert "conv_transpose" in layers and "reshape" in layers
    assert data["z"] == [1.5, 0.0], "the ★ stays where it was (inside the new model's range)"


def test_a_page_that_lost_a_blob_gets_it_again(at):
    key = plane_data(at)["decoder"]
    at.run()
    assert plane_data(at)["blobs"] == {}
    send_event(at, "explore_plane", "missing", [key])
    assert key in plane_data(at)["blobs"]


def test_releasing_the_star_moves_the_sliders(at):
    send_event(at, "explore_plane", "release", {"z": [1.234, -2.5]})
    assert star_z(at) == [1.23, -2.5]
    assert plane_data(at)["z"] == [1.23, -2.5], "the page's sliders are set from it"
    use_plotly_map(at)  # and so are Streamlit's, beside the Plotly map
    assert at.slider(key="explore_z0").value == 1.23 and at.slider(key="explore_z1").value == -2.5
    use_map(at, "live")
    limit = plane_data(at)["limit"]
    send_event(at, "explore_plane", "release", {"z": [99.0, "junk"]})  # a bad event is ignored
    assert star_z(at)[0] == 1.23
    send_event(at, "explore_plane", "release", {"z": [99.0, -99.0]})  # clamped to the sliders' range
    assert star_z(at) == [limit, -limit]


def test_a_release_or_a_pick_reruns_the_sub_tab_only_when_it_shows_it():
    from dashboard.explore import reruns
    from dashboard.explore.state import MORPH_ENDS, MORPH_ENDS_WITH_STAR, ExploreState

    state = ExploreState({})
    # the first sub-tab, the manifold grid, shows the ★ only through a plane of a d > 2 space (the plane through it)
    assert not reruns.page_follows_star(state, 2) and reruns.page_follows_star(state, 16)
    assert not reruns.page_follows_picks(state)
    state.section = "morph"
    assert reruns.page_follows_picks(state)  # its ends are picks
    for ends in MORPH_ENDS:
        state.morph_ends = ends
        assert reruns.page_follows_star(state) == (ends in MORPH_ENDS_WITH_STAR) == ("★" in MORPH_ENDS[ends]), ends
    state.section = "trav"  # held at the ★, or at the last pick
    assert reruns.page_follows_star(state) and reruns.page_follows_picks(state)
    for section in ("prior", "recon", "denoise", "dims"):
        state.section = section
        assert not reruns.page_follows_star(state, 16) and not reruns.page_follows_picks(state), section
    state.post_of = "pick"  # the draws from the pick's posterior: in the picked view's fragment, not the sub-tab
    assert not reruns.page_follows_picks(state)
    for section in ("grid", "denoise"):  # the grid's square and the de-noising map are the map's zoom
        state.section = section
        assert reruns.page_follows_view(state), section


def test_a_release_that_the_page_already_shows_reruns_only_the_link_and_the_address(at):
    move_star(at, (0, 1.0))  # the first move: Undo comes alive on the map, so the map is sent again
    assert plane_elements(at) and plane_data(at)["undoable"] is True
    move_star(at, (0, 1.5))
    assert not plane_elements(at), "the page has moved and decoded its ★ itself: the map is not sent again"
    assert at.query_params["z"] == "1.5,0" and [c for c in at.code if "z=1.5%2C0" in c.value or "z=1.5,0" in c.value]
    assert star_z(at) == [1.5, 0.0]
    at.session_state["explore.section"] = "morph"  # a morph from the ★: its path on the map moves with it
    at.session_state["explore.morph_ends"] = "star-pick"
    pick(at, 3)
    move_star(at, (0, -1.0))
    assert plane_elements(at) and plane_data(at)["path"] is not None and plane_data(at)["z"][0] == -1.0


def test_a_pick_reruns_the_parts_of_the_page_that_show_it_and_no_more(at):
    """AppTest's tree holds what a run drew: after a keyed rerun, only the fragments it reran (reruns.py)."""
    send_event(at, "explore_plane", "pick", {"index": 3})  # a session's first pick: the sampling toggle comes too
    assert not len(at.sidebar), "not the whole page"
    assert image_urls(at, "test image #3") and at.toggle(key="explore_post_pick").value is False
    at.toggle(key="explore_post_pick").set_value(True).run()  # the draws: on the map and under the picked view
    assert not len(at.sidebar) and plane_data(at)["samples"]
    assert image_urls(at, "16 decodes of z = μ + σ ⊙ ε from test image #3")
    at.toggle(key="explore_post_pick").set_value(False).run()
    assert not len(at.sidebar) and plane_data(at)["samples"] is None
    whole_page(at).session_state["explore.section"] = "prior"
    at.run()
    send_event(at, "explore_plane", "pick", {"index": 8})
    assert not len(at.sidebar), "not the whole page"
    assert image_urls(at, "test image #8") and plane_elements(at), "the picked view and the map"
    assert not image_urls(at, "64 decodes"), "the prior samples show no pick: not rerun"
    whole_page(at).session_state["explore.section"] = "morph"
    at.run()
    send_event(at, "explore_plane", "pick", {"index": 12})
    assert not len(at.sidebar) and image_urls(at, "test image #12")
    assert image_urls(at, "test image #8 → #12, linear"), "the morph between the last two picks"
    keys = {getattr(w, "key", None) for w in at.main}
    assert not keys & {"explore_map", "explore_bg", "explore_morph_ends", "explore_morph_steps"}, \
        "neither the map's control row nor the morph's settings: a pick changes neither"
    assert plane_elements(at)
    assert [c for c in at.code if "8%2C12" in c.value or "8,12" in c.value], [c.value for c in at.code]
    # By number: a browser sends it as the picked view's fragment's interaction, so the same parts rerun; AppTest
    # sends every interaction as the page's, and the number's own callback then makes it a whole-page rerun.
    pick(at, 40)
    assert image_urls(at, "test image #40") and image_urls(at, "test image #12 → #40, linear")
    assert at.session_state["explore.picks"] == [12, 40] and at.number_input(key="explore_pick_index").value == 40


def test_a_release_moves_the_star_of_a_morph_that_ends_there(at):
    send_event(at, "explore_plane", "pick", {"index": 7})
    at.session_state["explore.section"] = "morph"
    at.run()
    at.selectbox(key="explore_morph_ends").set_value("star-pick").run()
    send_event(at, "explore_plane", "release", {"z": [1.5, -0.5]})
    assert image_urls(at, "★ → test image #7, linear, 12 steps")
    assert star_z(at) == [1.5, -0.5]


def test_clicking_a_dot_picks_that_test_image(at):
    send_event(at, "explore_plane", "pick", {"index": 7})
    assert at.session_state["explore.picks"] == [7]
    assert image_urls(at, "test image #7") and image_urls(at, "reconstruction at μ")
    data = plane_data(at)
    assert [m["label"] for m in data["marks"]] == ["A"] and len(data["ellipses"]) == 1
    assert data["z"] == star_z(at) != [0.0, 0.0]
    send_event(at, "explore_plane", "pick", {"index": 10_000_000})  # out of range: ignored
    assert at.session_state["explore.picks"] == [7]


def test_the_manifold_background_is_sent_when_switched_on(at):
    at.toggle(key="explore_bg").set_value(True).run()
    data = plane_data(at)
    assert data["background"] in data["blobs"]
    image = data["blobs"][data["background"]]
    assert image["src"].startswith("data:image/png;base64,") and image["extent"][0] < -data["extent"]


def test_the_plotly_map_shows_every_test_image_and_the_star_follows_the_sliders(at):
    assert at.segmented_control(key="explore_map").value == "live" and not scatter_charts(at)
    use_plotly_map(at)
    assert not plane_elements(at), "one map at a time"
    data = scatter_spec(at)
    # The points went with the off-screen map the page drew under the Live map, which it now takes over.
    assert data["points"] in at.warm_blobs and data["points"] not in data["blobs"]
    classes = class_points(data)
    assert [name for name, *_ in classes] == [str(k) for k in range(10)]
    index = np.concatenate([idx for *_, idx in classes])
    assert len(index) == 10_000 and sorted(index.tolist()) == list(range(10_000))
    assert star(data) == (0.0, 0.0)
    view = at.session_state["explore.view"]
    assert data["view"] == {"cx": view["cx"], "cy": view["cy"], "half": view["half"], "rev": view["rev"]}
    # plotly.js is a file Streamlit serves, not part of the data
    assert data["plotly"]["url"].startswith("_stcore/bidi-components/latent_explorer.plotly_js/plotly.min.js?v=3.")
    assert data["plotly"]["key"] not in data["blobs"]
    before = image_urls(at, "decoder output")
    at.slider(key="explore_z0").set_value(1.5).run()
    at.slider(key="explore_z1").set_value(-0.75).run()
    again = scatter_spec(at)
    assert star(again) == (1.5, -0.75)
    assert again["points"] == data["points"] and not again["blobs"], "the 10,000 points went once"
    assert image_urls(at, "decoder output") != before
    use_map(at, "live")
    assert not scatter_charts(at) and plane_data(at)["z"] == [1.5, -0.75]


def test_clicking_a_point_on_the_plotly_map_picks_that_test_image(at):
    use_plotly_map(at)
    first = scatter_spec(at)
    name, x, y, idx = class_points(first)[3]
    i = 5
    before = image_urls(at, "decoder output")
    select_on_scatter(at, int(idx[i]))
    picked = int(idx[i])
    assert at.session_state["explore.picks"] == [picked]
    z = tuple(star_z(at))
    assert z == (round(float(x[i]), 2), round(float(y[i]), 2)) != (0.0, 0.0)
    assert at.slider(key="explore_z0").value == z[0] and at.slider(key="explore_z1").value == z[1]
    assert image_urls(at, f"test image #{picked} ({name})") and image_urls(at, "reconstruction at μ")
    assert image_urls(at, "decoder output") != before
    data = scatter_spec(at)
    assert star(data) == z
    (ring,) = [m for m in data["marks"] if m["label"] == "A"]
    assert (ring["x"], ring["y"]) == pytest.approx((x[i], y[i]))
    (ellipse,) = data["ellipses"]
    assert (ellipse["x"], ellipse["y"]) == pytest.approx((x[i], y[i]), abs=1e-5) and ellipse["sx"] > 0
    # an index beyond the test set, or not a number, picks nothing
    select_on_scatter(at, 10**9)
    select_on_scatter(at, "7")
    assert at.session_state["explore.picks"] == [picked]
    # a second point becomes B, and the ellipse moves to it
    _, x2, y2, idx2 = class_points(first)[7]
    select_on_scatter(at, int(idx2[0]))
    assert at.session_state["explore.picks"] == [picked, int(idx2[0])]
    data = scatter_spec(at)
    assert sorted(m["label"] for m in data["marks"]) == ["A", "B"]
    (ellipse,) = data["ellipses"]
    assert ellipse["x"] == pytest.approx(x2[0], abs=1e-5)


def test_the_plotly_maps_zoom_and_legend_go_to_the_state_and_the_live_map(at):
    use_plotly_map(at)
    rev = at.session_state["explore.view"]["rev"]
    send_event(at, "explore_scatter", "view", {"cx": 1.25, "cy": -0.5, "half": 1.5})
    assert at.session_state["explore.view"] == {"cx": 1.25, "cy": -0.5, "half": 1.5, "rev": rev}, \
        "stored without a new rev: the page already shows it"
    assert at.query_params["v"] == "1.25,-0.5,1.5", "the zoom is in the link"
    assert scatter_spec(at)["view"] == {"cx": 1.25, "cy": -0.5, "half": 1.5, "rev": rev}
    send_event(at, "explore_scatter", "view", {"cx": "x", "cy": 0, "half": -1})  # garbage: ignored
    assert at.session_state["explore.view"]["half"] == 1.5
    only_4 = [k for k in range(10) if k != 4]
    send_event(at, "explore_scatter", "legend", {"hidden": only_4})
    assert at.session_state["explore.hidden"] == only_4 and scatter_spec(at)["hidden"] == only_4
    send_event(at, "explore_scatter", "legend", {"hidden": [1, "2"]})  # garbage: ignored
    assert at.session_state["explore.hidden"] == only_4
    use_map(at, "live")
    data = plane_data(at)
    assert data["hidden"] == only_4 and data["view"]["half"] == 1.5, "both maps share the legend and the view"


def test_a_page_that_cannot_load_plotly_js_gets_its_source_once(at):
    use_plotly_map(at)
    key = scatter_spec(at)["plotly"]["key"]
    send_event(at, "explore_scatter", "missing", [key])
    script = scatter_spec(at)["blobs"][key]
    assert script["kind"] == "script" and "window.Plotly" in script["source"][-2000:]
    at.slider(key="explore_z0").set_value(0.5).run()
    assert key not in scatter_spec(at)["blobs"], "sent once"


def test_the_manifold_lies_under_the_plotly_map_aligned_with_its_axes(at):
    use_plotly_map(at)
    assert scatter_spec(at)["background"] is None
    at.toggle(key="explore_bg").set_value(True).run()
    data = scatter_spec(at)
    image = data["blobs"][data["background"]]
    extent, n = at.session_state["explore.view"]["half"], 20
    half_cell = extent / (n - 1)  # the grid's decodes sit at cell centres: the picture reaches half a cell further
    assert image["src"].startswith("data:image/png;base64,")
    assert image["extent"] == pytest.approx([-extent - half_cell, extent + half_cell] * 2)


def test_moving_a_slider_beside_the_plotly_map_changes_the_servers_decoded_image(at):
    use_plotly_map(at)  # the Plotly map has no decoder in the page: Streamlit's sliders and the server's image
    before = image_urls(at, "decoder output")
    at.slider(key="explore_z0").set_value(2.5).run()
    after = image_urls(at, "decoder output")
    assert not at.exception
    assert len(after) == 1 and after != before
    at.slider(key="explore_z1").set_value(-1.25).run()
    assert image_urls(at, "decoder output") not in (before, after)
    assert star_z(at) == [2.5, -1.25]


def test_grid_size_changes_the_grid_image(at):
    (before,) = image_urls(at, "20 × 20 decodes")
    at.slider(key="explore_grid_n").set_value(12).run()
    assert not at.exception
    assert image_urls(at, "20 × 20") == []
    (after,) = image_urls(at, "12 × 12 decodes")
    assert after != before


def test_picking_points_moves_the_sliders_and_runs_a_morph(at):
    pick(at, 7)
    assert at.session_state["explore.picks"] == [7]
    assert image_urls(at, "test image #7") and image_urls(at, "reconstruction at μ")
    z_at_pick = tuple(star_z(at))
    assert z_at_pick != (0.0, 0.0)
    pick(at, 42)
    assert at.session_state["explore.picks"] == [7, 42]
    at.session_state["explore.section"] = "morph"
    at.run()
    assert not at.exception
    assert image_urls(at, "test image #7 → #42, linear, 12 steps · frame 1 of 12"), "the player's frame"
    assert image_urls(at, "the same path")
    assert {b.label for b in at.get("download_button")} >= {"Download GIF", "Download strip (PNG)"}
    at.radio(key="explore_morph_mode").set_value("slerp").run()
    at.slider(key="explore_morph_steps").set_value(20).run()
    assert image_urls(at, "test image #7 → #42, slerp, 20 steps")


def test_other_sections_render(at):
    pick(at, 3)
    for section in ("recon", "denoise", "prior"):
        at.session_state["explore.section"] = section
        at.run()
        assert not at.exception, section
    assert image_urls(at, "noisy input") == [], "only the open tab runs"
    (before,) = image_urls(at, "64 decodes of z ~ N(0, I), seed 0")
    at.button(key="explore_resample").click().run()
    (after,) = image_urls(at, "64 decodes of z ~ N(0, I), seed 1")
    assert after != before


def _files(*roots: Path) -> dict:
    """Every file under roots with its size and modification time (caches and test output left out)."""
    skip = {".git", "__pycache__", ".pytest_cache", "test-output", ".venv"}
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for root in roots for p in Path(root).rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(root).parts)}


def test_exploring_writes_no_file(at, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    roots = (ROOT, *at.checkpoint_roots, tmp_path)
    before = _files(*roots)
    move_star(at, (0, 1.25))
    pick(at, 3)
    pick(at, 8)
    for section in ("grid", "morph", "prior", "recon", "denoise"):
        at.session_state["explore.section"] = section
        at.run()
        assert not at.exception, section
    send_event(at, "explore_draw", "drawn", "data:image/png;base64," + base64.b64encode(_ring_png()).decode())
    assert image_urls(at, "your digit's reconstruction")
    select_model(at, "mnist-conv")
    assert _files(*roots) == before


def test_fashion_mnist_model_shows_class_names(checkpoints, monkeypatch, tmp_path):
    try:
        load_dataset("fashion-mnist", None, False)
    except DatasetError:
        pytest.skip("Fashion-MNIST is not installed on this machine")
    tiny_checkpoint(tmp_path / "fashion-mlp", dataset="fashion-mnist")
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(tmp_path))
    models_dir = tmp_path.with_name(tmp_path.name + "-models")  # not in pretrained/
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(models_dir))
    app = first_run(AppTest.from_file(APP, default_timeout=60))
    assert not app.exception and not app.error
    names = plane_data(app)["classes"]
    assert names[:2] == ["T-shirt/top", "Trouser"] and names[-1] == "Ankle boot"
    use_plotly_map(app)
    assert [name for name, *_ in class_points(scatter_spec(app))] == names


def test_another_model_of_the_same_dataset_keeps_the_picks_and_the_star(tmp_path, monkeypatch):
    tiny_checkpoint(tmp_path / "mnist-mlp")
    tiny_checkpoint(tmp_path / "other", seed=5)
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(tmp_path))
    models_dir = tmp_path.with_name(tmp_path.name + "-models")  # not in pretrained/
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(models_dir))
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.checkpoint_roots = (tmp_path,)
    pick(app, 5)
    z = star_z(app)
    key = app.session_state["explore.model_key"]
    tiny_checkpoint(tmp_path / "mnist-mlp", seed=3)  # e.g. training saved another epoch
    app.run()
    assert not app.exception
    assert app.session_state["explore.model_key"] != key
    assert app.session_state["explore.picks"] == [5]
    select_model(app, "other")
    assert not app.exception and not app.info, "same dataset: nothing dropped, nothing to say"
    assert app.session_state["explore.picks"] == [5], "test image #5 is the same image under this model"
    assert star_z(app) == z


# --- your own digit: drawn or uploaded ---------------------------------------------------------------


def _png(arr) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(arr, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _ring_png(invert: bool = False) -> bytes:
    import numpy as np

    yy, xx = np.mgrid[:280, :280]
    img = (np.abs(np.hypot(yy - 140, xx - 140) - 80) <= 10).astype(np.uint8) * 255
    return _png(255 - img if invert else img)


def test_drawing_a_digit_shows_it_on_the_plane_and_starts_a_morph(at):
    url = "data:image/png;base64," + base64.b64encode(_ring_png()).decode()
    send_event(at, "explore_draw", "drawn", url)
    assert at.session_state["explore_own"]["source"] == "drawing"
    assert image_urls(at, "your drawing, as the model sees it") and image_urls(at, "your digit's reconstruction")
    data = plane_data(at)
    (mark,) = [m for m in data["marks"] if m["label"] == "yours"]
    assert mark["shape"] == "diamond"
    assert any(e.get("dash") and (e["x"], e["y"]) == (mark["x"], mark["y"]) for e in data["ellipses"])
    at.session_state["explore.section"] = "morph"
    at.run()
    at.selectbox(key="explore_morph_ends").set_value("own-star").run()
    assert not at.exception and image_urls(at, "your digit → ★, linear, 12 steps")
    whole_page(at).button(key="explore_own_to_star").click().run()  # under the map, outside the fragments
    assert star_z(at) == [round(mark["x"], 2), round(mark["y"], 2)]
    # The Plotly map shows the same ◆ and dashed 1σ ellipse.
    use_plotly_map(at)
    data = scatter_spec(at)
    (own,) = [m for m in data["marks"] if m["shape"] == "diamond"]
    assert (own["x"], own["y"]) == pytest.approx((mark["x"], mark["y"]), abs=1e-5)
    (ring,) = [e for e in data["ellipses"] if e["dash"]]
    assert (ring["x"], ring["y"]) == pytest.approx((mark["x"], mark["y"]), abs=1e-5)
    use_map(at, "live")
    send_event(at, "explore_draw", "cleared", True)
    assert "explore_own" not in at.session_state
    assert any("canvas is empty" in i.value for i in at.info)
    assert not [m for m in plane_data(at)["marks"] if m["label"] == "yours"]


def test_uploading_a_picture_of_a_digit(at):
    at.file_uploader(key="explore_upload").upload("seven.png", _ring_png(invert=True), "image/png").run()
    assert not at.exception and not at.error
    assert at.session_state["explore_own"]["source"] == "upload: seven.png"
    assert image_urls(at, "seven.png, as the model sees it")
    assert [m for m in plane_data(at)["marks"] if m["label"] == "yours"]
    at.file_uploader(key="explore_upload").set_value(None).run()
    assert "explore_own" not in at.session_state


def _huge_png() -> bytes:
    from tests.test_drawing import big_png

    return big_png(10_000, 10_000)


@pytest.mark.parametrize("name, make, message", [
    ("dot.png", lambda: _png([[255]]), "1 × 1"),
    ("huge.png", _huge_png, "10,000 × 10,000"),
    ("notes.png", lambda: b"this is not a picture\n" * 50, "not a picture"),
    ("broken.png", lambda: _ring_png()[:300], "damaged"),
    ("blank.png", lambda: _png([[255] * 50] * 50), "empty"),
    ("big.png", lambda: b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20), "limit is 2 MB"),
], ids=["1x1", "10000x10000", "not-an-image", "corrupt", "blank", "over-the-limit"])
def test_a_bad_upload_gives_a_clear_message(at, name, make, message):
    at.file_uploader(key="explore_upload").upload(name, make(), "image/png").run()
    assert not at.exception
    (err,) = at.error
    assert err.value.startswith(name) and message in err.value
    assert "explore_own" not in at.session_state
    assert plane_data(at)["decoder"] and image_urls(at, "20 × 20 decodes"), "the rest of the page still works"


def test_a_decoder_the_page_cannot_run_falls_back_to_the_server(tmp_path, monkeypatch):
    from dashboard import latent_plane

    tiny_checkpoint(tmp_path / "mnist-mlp", seed=7)
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(tmp_path))
    models_dir = tmp_path.with_name(tmp_path.name + "-models")  # not in pretrained/
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(models_dir))

    def refuse(model):
        raise latent_plane.UnsupportedDecoder("layer Tanh has no browser implementation")

    monkeypatch.setattr(latent_plane, "decoder_spec", refuse)
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    data = plane_data(app)
    assert data["decoder"] is None and "Tanh" in data["note"]
    before = data["serverImage"]
    assert before.startswith("data:image/png;base64,")
    send_event(app, "explore_plane", "release", {"z": [2.0, 1.0]})
    assert plane_data(app)["serverImage"] != before, "the server decodes the released z for the page"
    assert plane_data(app)["sliders"] is False and app.slider(key="explore_z1").value == 1.0, \
        "the page has no z sliders then: Streamlit's are under the map"


def _presenter_columns(at) -> list[float]:
    """The weights of the page's first columns side by side: the map's and the sub-tab's, when presenting."""
    todo = [at.main]
    while todo:
        kids = list(getattr(todo.pop(0), "children", {}).values())
        cols = [c for c in kids if type(c).__name__ == "Column"]
        if cols:
            return [c.weight for c in cols]
        todo += kids
    return []


def test_presenting_puts_the_pick_its_sampling_and_your_digit_beside_the_map(at):
    """Under the map without presenter mode; presenting, the first tabs beside it, the pick working from there."""
    assert "Pick" not in [t.label for t in at.tabs]
    assert at.number_input(key="explore_pick_index") is not None and at.file_uploader(key="explore_upload")
    at.toggle(key="presenter").set_value(True).run()
    labels = [t.label for t in at.tabs]
    first = labels.index("Pick")
    assert labels[first:first + 4] == ["Pick", "Sampling", "Your digit", "Grid"]  # presenting: the short titles
    at.session_state["explore.section"] = "pick"
    at.run()
    at.number_input(key="explore_pick_index").set_value(7).run()
    at.button(key="explore_pick_button").click().run()
    assert not at.exception and at.session_state["explore.picks"] == [7]
    assert any(m.value.startswith("μ = (") for m in at.markdown), "the pick's posterior beside the map"
    assert not any(b.key == "explore_undo" for b in at.button), "one undo: the Live map's own"


def test_presenting_gives_the_open_sub_tab_its_declared_share_beside_the_map(at, monkeypatch):
    from dataclasses import replace

    from dashboard.explore import sections
    from dashboard.explore.section import PRESENTER_SHARE

    at.toggle(key="presenter").set_value(True).run()
    # every shipped sub-tab and panel: the same share, the map's column the rest
    assert _presenter_columns(at) == pytest.approx([1 - PRESENTER_SHARE, PRESENTER_SHARE])
    wide = replace(sections.BY_ID["morph"], presenter_share=0.5)
    monkeypatch.setattr(sections, "SECTIONS", tuple(wide if s.id == "morph" else s for s in sections.SECTIONS))
    monkeypatch.setitem(sections.BY_ID, "morph", wide)
    at.session_state["explore.section"] = "morph"
    at.run()
    assert not at.exception and _presenter_columns(at) == pytest.approx([0.5, 0.5])


def _grid_shown(app) -> tuple[np.ndarray, str]:
    """(the Manifold grid tab's image as uint8 [H, W], its caption)."""
    import io

    from PIL import Image

    ((url, caption),) = [(u, c) for img in app.image for u, c in zip(img.value, img.captions)
                         if c.startswith("20 × 20 decodes")]
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("L")), caption


def test_the_manifold_grid_decodes_the_region_the_map_shows(at):
    """The grid is the map's view: its centre and its zoom, after a wheel or a pan (a view event) as after a pick."""
    import torch

    from dashboard import views
    from vae_core import load_checkpoint

    model, _ = load_checkpoint(at.checkpoint_roots[0] / "mnist-mlp")

    def decoded(x0, x1, y0, y1):
        with torch.inference_mode():
            return views.grid_image(views.to_uint8(model.latent_grid((x0, x1, y0, y1), 20).float()))

    send_event(at, "explore_plane", "view", {"cx": -1.0, "cy": -1.96, "half": 0.6})
    whole_page(at)
    shown, caption = _grid_shown(at)
    assert "[-1.6, -0.4] × [-2.56, -1.36]" in caption, caption
    expected = decoded(-1.6, -0.4, -2.56, -1.36)
    assert shown.shape == expected.shape
    assert np.abs(shown.astype(int) - expected).max() <= 1, "the decodes of the view's square"
    assert np.abs(decoded(-0.6, 0.6, -0.6, 0.6).astype(int) - expected).max() > 8, "not the square at the origin"
