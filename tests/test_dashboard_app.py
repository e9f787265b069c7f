"""The dashboard end to end with streamlit.testing.v1.AppTest, on tiny checkpoints in a temporary folder.

LATENT_EXPLORER_PRETRAINED_DIR / LATENT_EXPLORER_MODELS_DIR point the model registry at them, so the tests
neither need nor touch the real pretrained/ and models/ folders.
"""

from __future__ import annotations

import base64
from pathlib import Path

from dashboard_apptest import (  # noqa: F401  (at and checkpoints are fixtures, found by name)
    at,
    checkpoints,
    explore_scope,
    image_urls,
    move_star,
    plane_data,
    select_model,
)

ROOT = Path(__file__).resolve().parent.parent


def test_app_starts_with_the_default_model(at):
    assert not at.error
    box = at.selectbox(key="model_choice")
    assert box.value.endswith("/pretrained/mnist-mlp")
    # the plane: all 10,000 test images in 10 classes, the ★ at the sliders' z, and the decoder for the page,
    # which has the z sliders (so Streamlit's are not on the Live map's page, nor the server's image)
    data = plane_data(at)
    assert data["sliders"] is True and "sliderOrder" not in data, "z1, z2 in order"
    assert not [s.key for s in at.slider if s.key.startswith("explore_z")] and not image_urls(at, "decoder output")
    assert data["classes"] == [str(k) for k in range(10)] and len(data["colors"]) >= 10
    assert data["z"] == [0.0, 0.0] and data["extent"] == data["limit"] >= 4.0
    points = data["blobs"][data["points"]]
    assert points["n"] == 10_000 and len(base64.b64decode(points["xy"])) == 10_000 * 2 * 4
    decoder = data["blobs"][data["decoder"]]
    assert decoder["format"] == "vae-decoder" and decoder["latent_dim"] == 2 and decoder["output"] == "sigmoid"
    assert data["background"] is None and data["marks"] == []
    assert explore_scope(at).latex, "explanations are on by default"


def test_picking_a_model_in_the_selectbox(at):
    select_model(at, "mnist-conv")
    assert not at.exception and not at.error
    assert at.session_state["model_last_good"].endswith("mnist-conv")
    select_model(at, "three-d")
    assert not at.exception and not at.error
    # one slider per dimension in the page; for d > 2 they come by KL (tests/test_explore_dimensions.py)
    assert sorted(plane_data(at)["sliderOrder"]) == [0, 1, 2] and len(plane_data(at)["z"]) == 3
    move_star(at, (2, 1.0))
    assert plane_data(at)["z"][2] == 1.0


def test_a_broken_checkpoint_shows_an_error_and_keeps_the_last_model(at):
    select_model(at, "mnist-conv")
    select_model(at, "broken")
    assert not at.exception
    assert len(at.error) == 1 and "model.safetensors" in at.error[0].value
    assert "Still showing models/mnist-conv" not in at.error[0].value  # mnist-conv is in pretrained/
    assert "Still showing pretrained/mnist-conv" in at.error[0].value
    assert at.session_state["model_last_good"].endswith("mnist-conv")
    assert plane_data(at)["decoder"] and image_urls(at, "20 × 20 decodes"), "the last good model is still shown"


def test_explanations_toggle_hides_them(at):
    assert explore_scope(at).latex
    at.toggle(key="show_explanations").set_value(False).run()
    assert not at.exception and not explore_scope(at).latex

