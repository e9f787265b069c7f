"""The class in the room (dashboard/classroom) in AppTest: opening a class, joining it, a bad room, a wrong key, an
ended class, the lecturer's view published, a drawing on the lecturer's map at its μ, a poll's heat map, and the
drawings' file as vae_core reads it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from dashboard.class_store import ClassError, open_store
from dashboard.classroom import layers, student
from dashboard.explore.scene import heat_grid
from dashboard.model.handle import load
from dashboard.model.registry import list_models
from dashboard_apptest import APP, checkpoints, first_run, move_star, plane_data  # noqa: F401
from vae_core import load_checkpoint
from vae_core.drawings import DrawingsError, drawings_bytes, read_drawings


@pytest.fixture
def class_env(checkpoints, monkeypatch, tmp_path):
    pre, mine = checkpoints
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    spec = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("CLASS_STORE", spec)
    return open_store({"CLASS_STORE": spec}), pre


def page(query: dict) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        app.query_params[k] = v
    first_run(app)
    assert not app.exception, app.exception
    return app


def texts(app) -> str:
    return " ".join(str(e.value) for kind in (app.info, app.error, app.success, app.markdown, app.caption)
                    for e in kind)


def lecturer_page() -> tuple[AppTest, str, str]:
    app = page({"class": "new"})
    room, key = app.query_params["class"], app.query_params["key"]
    return app, room[0] if isinstance(room, list) else room, key[0] if isinstance(key, list) else key


def test_a_lecturer_opens_a_class_and_a_student_joins_it_without_its_controls(class_env):
    store, _ = class_env
    app, room, key = lecturer_page()
    assert store.is_lecturer(room, key) and len(key) >= 32
    assert f"Class **`{room}`**" in texts(app) and f"?class={room}" in texts(app), "the join link is shown"
    assert [b for b in app.button if b.key == "class_qr"], "the QR code's button"
    published = store.view(room)
    assert published is not None and published[1].get("m"), "the lecturer's view is published at once"
    assert "key" not in published[1] and "class" not in published[1]
    move_star(app, (0, 1.25), (1, -0.5))  # the lecturer's move, as the map's release sends it
    assert store.view(room)[1]["z"] == "1.25,-0.5", "published from the map's own rerun"
    assert app.query_params["class"] in (room, [room]) and app.query_params["key"] in (key, [key])

    pupil = page({"class": room.lower()})  # a code typed in small letters is the same room
    assert f"Class **`{room}`**" in texts(pupil)
    assert "key" not in pupil.query_params and pupil.query_params["class"] in (room, [room])
    keys = {b.key for b in pupil.button}
    assert "class_unfollow" in keys and not keys & {"class_ask", "class_poll", "class_end", "class_clear", "class_qr"}


@pytest.mark.parametrize("query, says", [
    ({"class": "ZZZZZ"}, "This class has ended (or its code is wrong)"),
    ({"class": "QQ"}, "“QQ” is not a class code: it is 5 letters and digits"),
])
def test_a_bad_room_is_one_line_and_the_page_works_on(class_env, query, says):
    app = page(query)
    assert says in texts(app)
    assert "class" not in app.query_params, "the address loses the class"
    assert plane_data(app)["points"], "the map is there"


def test_a_wrong_key_drives_nothing(class_env):
    store, _ = class_env
    _, room, key = lecturer_page()
    rev = store.revision(room)
    app = page({"class": room, "key": key[:-2] + "xx"})
    assert "The link's class key is not this class's" in texts(app)
    assert "class" not in app.query_params and "key" not in app.query_params
    assert not [b for b in app.button if b.key and b.key.startswith("class_")]
    assert store.revision(room) == rev, "nothing was published"
    for refused in (lambda: store.publish(room, "x" * 32, {"m": "a"}), lambda: store.ask(room, "x" * 32, None),
                    lambda: store.clear_drawings(room, "x" * 32), lambda: store.drawings(room, "x" * 32)):
        with pytest.raises(ClassError, match="Only the lecturer"):
            refused()


def test_the_guesses_density_peaks_where_most_guessed():
    grid = heat_grid(np.array([(0, 0), (0.1, 0), (0, 0.1), (3, 3)], np.float32))
    n, (x0, x1, y0, y1) = grid["n"], grid["extent"]
    density = np.array(grid["grid"]).reshape(n, n)
    row, col = np.unravel_index(density.argmax(), density.shape)
    x, y = x0 + (x1 - x0) * col / (n - 1), y1 - (y1 - y0) * row / (n - 1)  # row 0 at the top
    assert abs(x) < 0.3 and abs(y) < 0.3 and density.max() == 1.0 and grid["count"] == 4
    assert heat_grid(np.zeros((0, 2))) is None


def test_an_ended_class_says_so_and_its_data_is_gone(class_env):
    store, _ = class_env
    app, room, key = lecturer_page()
    pupil = page({"class": room})
    app.button(key="class_end").click().run()
    assert "The class has ended" in texts(app) and not store.exists(room)
    assert "class" not in app.query_params
    pupil.run()
    assert "This class has ended" in texts(pupil) and "class" not in pupil.query_params


def test_a_drawing_lands_on_the_lecturer_s_map_at_its_mu_and_a_poll_s_guesses_make_the_heat_map(class_env):
    store, pre = class_env
    app, room, key = lecturer_page()
    model, _ = load_checkpoint(pre / "mnist-mlp")
    rng = np.random.default_rng(0)
    pixels = rng.random((28, 28)).astype(np.float32)
    handle, _ = load(next(e for e in list_models() if e.link_name == "pretrained/mnist-mlp"))
    image, mu, recon = student.encoded(handle, pixels)
    with torch.no_grad():
        want, _ = model.encode(torch.tensor(np.frombuffer(image, np.uint8).reshape(1, 1, 28, 28) / 255.0,
                                            dtype=torch.float32))
    np.testing.assert_allclose(mu, want[0].numpy(), rtol=1e-5, atol=1e-6)
    store.add_drawing(room, "s1", "7", "pretrained/mnist-mlp", [float(v) for v in mu], image, recon)
    app.run()
    dots = plane_data(app)["classDots"]
    assert dots["labels"] == ["7"] and dots["xy"] == pytest.approx([float(mu[0]), float(mu[1])], abs=1e-4)
    assert "· **1** drawing" in texts(app) and "Drawings by label asked: 7 × 1." in texts(app)
    (download,) = [b for b in app.get("download_button") if b.proto.id.endswith("-class_download")]
    assert download.proto.label == "Download the drawing (.safetensors)" and not download.proto.disabled

    app.session_state["class_poll_image"] = 3
    app.button(key="class_poll").click().run()
    poll = store.request(room)
    assert poll["kind"] == "poll" and poll["image"] == 3
    for i, (x, y) in enumerate([(0.5, 0.5), (0.6, 0.4), (-1.0, 1.0)]):
        store.add_guess(room, f"s{i}", poll["poll"], x, y)
    app.toggle(key="class_reveal").set_value(True).run()
    data = plane_data(app)
    assert data["heat"] == heat_grid(np.array([(0.5, 0.5), (0.6, 0.4), (-1.0, 1.0)], np.float32))
    assert data["heat"]["count"] == 3
    (truth,) = [m for m in data["marks"] if m["label"] == "true μ"]
    enc = handle.encodings()
    assert (truth["x"], truth["y"]) == pytest.approx((float(enc.mu[3, 0]), float(enc.mu[3, 1])), abs=1e-6)
    (ring,) = [e for e in data["ellipses"] if e["color"] == "#111111" and not e.get("dash")]
    assert (ring["sx"], ring["sy"]) == pytest.approx((2 * float(enc.sigma[3, 0]), 2 * float(enc.sigma[3, 1])))

    # what the Download button offers, made from the store's drawings
    got = read_drawings(drawings_bytes(layers.drawing_set(handle, store.drawings(room, key))))
    assert len(got) == 1 and got.model == "pretrained/mnist-mlp" and got.class_names[got.labels[0]] == "7"
    np.testing.assert_array_equal(got.images[0].ravel(), np.frombuffer(image, np.uint8))
    np.testing.assert_allclose(got.codes[0], mu, rtol=1e-6)
    with pytest.raises(DrawingsError):
        read_drawings(b"not a file")


def test_send_takes_a_stroke_heard_in_the_same_run(monkeypatch):
    """A busy server joins a stroke on the pad and the Send after it into one run, whose callbacks may come in
    either order: Send then takes the stroke itself, and the drawing is stored, not refused as missing."""
    import base64
    from types import SimpleNamespace

    from dashboard import views

    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 130:150] = 1.0  # a 1, as a finger draws it on the 280-px pad
    png = "data:image/png;base64," + base64.b64encode(views.png_bytes(canvas)).decode("ascii")
    cls = SimpleNamespace(pad=None, pad_png=None, sent=None, room="ROOM1", student="s1")
    stored = []
    monkeypatch.setattr(student, "ClassSession", lambda: cls)
    monkeypatch.setattr(student.latent_plane, "drawn_value", lambda key: png)
    monkeypatch.setattr(student, "store", lambda: SimpleNamespace(add_drawing=lambda *a: stored.append(a)))
    handle, _ = load(next(e for e in list_models() if e.link_name == "pretrained/mnist-mlp"))
    student._send_drawing(handle, "1")
    assert cls.sent == "Sent: your 1 is on the lecturer's map." and len(stored) == 1
    room, who, label, model, mu, image, recon = stored[0]
    assert (room, who, label, model) == ("ROOM1", "s1", "1", "pretrained/mnist-mlp") and len(mu) == 2
