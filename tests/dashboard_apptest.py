"""The dashboard in AppTest on tiny checkpoints in a temporary folder: the fixtures (`checkpoints`, `at`) and the
helpers that read what the page shows, shared by test_dashboard_app.py and test_explore_app.py.

LATENT_EXPLORER_PRETRAINED_DIR / LATENT_EXPLORER_MODELS_DIR point the model registry at them, so the tests
neither need nor touch the real pretrained/ and models/ folders.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apptest_helpers import scatter_charts  # noqa: E402
from factories import tiny_checkpoint  # noqa: E402
from vae_core import VAEConfig  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    pre, mine = root / "pretrained", root / "models"
    tiny_checkpoint(pre / "mnist-mlp", loss=140.0)
    tiny_checkpoint(pre / "mnist-conv", arch="conv", seed=1, loss=145.0)
    tiny_checkpoint(mine / "three-d", latent_dim=3, seed=2)
    broken = mine / "broken"  # a valid config but no weights: listed, fails to load
    broken.mkdir(parents=True)
    (broken / "config.json").write_text(json.dumps({
        "format": "latent-explorer-vae", "format_version": 1,
        "model": VAEConfig(hidden=(16,)).to_dict(), "data": {"dataset": "mnist"},
    }))
    return pre, mine


@pytest.fixture
def at(checkpoints, monkeypatch):
    pre, mine = checkpoints
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    app = AppTest.from_file(APP, default_timeout=60)
    app.checkpoint_roots = (pre, mine)
    first_run(app)
    assert not app.exception, app.exception
    return app


def first_run(app):
    """Run a new session's first run, keeping what its off-screen Plotly map was sent (the Plotly map does not
    get those blobs again)."""
    app.run()
    warm = warm_data(app)
    app.warm_blobs = warm["blobs"] if warm else {}
    return app


def warm_data(app) -> dict | None:
    """What the off-screen Plotly map under the Live map was sent (maps/plotly.py warm), in the run that sent it."""
    els = [el for el in app.main if getattr(el, "type", "") == "bidi_component"
           and el.proto.component_name == "latent_explorer.plotly_map"
           and el.proto.id.endswith("-explore_plotly_warm_map")]
    return component_data(els[0]) if els else None


def image_urls(app, caption_start: str) -> list[str]:
    """URLs of st.image elements whose caption starts with caption_start (a URL is a hash of the image bytes)."""
    return [url for img in app.image for url, cap in zip(img.value, img.captions) if cap.startswith(caption_start)]


def explore_scope(app):
    """The Explore tab's block when the app has several tabs, else the whole main area."""
    tabs = [t for t in app.tabs if t.label == "Explore"]
    return tabs[0] if tabs else app.main


def plane_elements(app):
    """The latent-plane components on the page (st.components.v2, so AppTest sees an UnknownElement)."""
    return [el for el in app.main if getattr(el, "type", "") == "bidi_component"
            and el.proto.component_name == "latent_explorer.latent_plane"]


def component_data(el) -> dict:
    """A components-v2 element's data: the page is sent one JSON document as bytes (latent_plane.spec.as_json)."""
    return json.loads(el.proto.bytes) if el.proto.WhichOneof("data") == "bytes" else json.loads(el.proto.json)


def plane_data(app) -> dict:
    """What the plane was sent in the last run: z, extent, marks, blob keys and the blobs sent this run."""
    (el,) = plane_elements(app)
    return component_data(el)


def scatter_spec(app) -> dict:
    """What the Plotly map was sent in the last run: classes, star, marks, ellipses, view, hidden, blob keys and the
    blobs sent this run (dashboard/explore/maps/plotly.py map_data)."""
    (el,) = scatter_charts(app)
    spec = component_data(el)
    spec["sent_before"] = getattr(app, "warm_blobs", {})  # what the page already holds from the off-screen map
    return spec


def plotly_array(value) -> np.ndarray:
    """A trace's x / y / customdata as plotly.py sends it: a list, or a typed array {"dtype", "bdata"}."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def class_points(spec: dict) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(class name, x, y, test-image index) of each class, from the points blob of a run that sent it."""
    p = spec["blobs"].get(spec["points"]) or spec["sent_before"][spec["points"]]
    xy = np.frombuffer(base64.b64decode(p["xy"]), "<f4").reshape(-1, 2)
    labels = np.frombuffer(base64.b64decode(p["labels"]), np.uint8)
    return [(name, xy[labels == k, 0], xy[labels == k, 1], np.flatnonzero(labels == k))
            for k, name in enumerate(spec["classes"])]


def star(spec: dict) -> tuple[float, float]:
    return float(spec["star"][0]), float(spec["star"][1])


def star_z(app) -> list[float]:
    """The ★ (every coordinate) as Explore holds it: its state, or before anything moved it, what the plane got."""
    z = list(app.session_state["explore.z"]) if "explore.z" in app.session_state else []
    return [float(v) for v in (z or plane_data(app)["z"])]


def move_star(app, *coords: tuple[int, float]):
    """Set coordinates (i, value) of the ★ as the Live map's own z sliders do: their release sends the full z."""
    from apptest_helpers import send_event

    z = star_z(app)
    for i, v in coords:
        z[i] = v
    return send_event(app, "explore_plane", "release", {"z": z})


def use_map(app, kind: str):
    """The map's kind ("live" or "plotly"), chosen in its control row, which a pick or a move does not rerun."""
    whole_page(app).segmented_control(key="explore_map").set_value(kind).run()
    assert not app.exception, app.exception
    return app


def use_plotly_map(app):
    return use_map(app, "plotly")


def select_model(app, name: str):
    """Choose a checkpoint folder by name; the selectbox shows its label (name, dataset, arch, loss)."""
    box = whole_page(app).selectbox(key="model_choice")
    (label,) = [o for o in box.options if o.startswith((f"{name} · ", f"models/{name} · "))]
    (folder,) = [root / name for root in app.checkpoint_roots if (root / name).is_dir()]
    box.select(str(folder.resolve())).run()
    assert box.options[app.selectbox(key="model_choice").index] == label
    return app


def whole_page(app):
    """AppTest's tree holds what its last run drew: after a keyed fragment rerun (dashboard/explore/reruns.py), only
    those fragments, where a browser still shows the rest of the page. A run in which no widget changed (so no
    callback) draws the whole page from the session's state, which is what the browser shows."""
    if not len(app.sidebar):  # every full run draws the sidebar (the model's choice)
        app.run()
    return app


def pick(app, index: int):
    whole_page(app).number_input(key="explore_pick_index").set_value(index)
    return app.button(key="explore_pick_button").click().run()
