"""The dashboard against what a class leaves in models/: bad config.json files, links, a thousand folders, a
models folder it must not write to, a tab that fails. Driven with streamlit.testing.v1.AppTest on tiny
checkpoints in tmp_path (LATENT_EXPLORER_*_DIR); the real pretrained/ and models/ are not touched.

What must hold: the page keeps working and says what is wrong in one line, and no server path (the tmp
folder, the repository) appears in anything the page shows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bad_checkpoints import write_bad_checkpoints  # noqa: E402  (the library's corpus: tests/bad_checkpoints.py)
from dashboard.model.registry import list_models  # noqa: E402
from dashboard.train import figures  # noqa: E402
from dashboard.training.registry import registry, reset_registry  # noqa: E402
from factories import app_roots, tiny_checkpoint  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")
START = "train_start"


@pytest.fixture
def roots(tmp_path, monkeypatch):
    pre, mine = app_roots(tmp_path, monkeypatch)
    reset_registry(max_jobs=1)
    yield pre, mine
    reset_registry()


def start_app(tab: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    if tab:
        app.session_state["app_tab"] = tab  # app.py's TAB_KEY: only the open tab runs
    app.run()
    assert not app.exception, app.exception
    return app


def page_texts(app) -> list[str]:
    """Everything the page shows as text: messages, markdown, captions, and every option of every selectbox
    (as its label)."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code", "latex",
                 "error", "warning", "info", "success", "exception"):
        texts += [str(getattr(el, "value", "")) for el in getattr(app, kind)]
    for box in app.selectbox:
        texts += [str(o) for o in box.options]
    return texts


def assert_no_server_path(app, *paths: Path) -> None:
    shown = "\n".join(page_texts(app))
    for p in (ROOT, *paths):
        for form in {str(p), str(Path(p).resolve())}:
            assert form not in shown, f"{form} is on the page"


def labels(app) -> list[str]:
    return list(app.selectbox(key="model_choice").options)


def choose(app, folder: Path) -> AppTest:
    app.selectbox(key="model_choice").select(str(Path(os.path.realpath(folder.parent)) / folder.name)).run()
    assert not app.exception, app.exception
    return app


# --- bad config.json files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """tests/bad_checkpoints.py's folders (over a hundred: every section of config.json malformed in every
    way, damaged weights), written once for this module."""
    return write_bad_checkpoints(tmp_path_factory.mktemp("bad") / "models")


def values_only_bad(name: str) -> bool:
    """The corpus's folder whose config.json and weights header are sound and one weight is NaN: the listing
    (which checks the weights' size and header, not their values) cannot tell; loading it does."""
    return name == "weights-nan-value"


@pytest.fixture
def bad_roots(corpus, tmp_path, monkeypatch):
    pre = tmp_path / "pretrained"
    tiny_checkpoint(pre / "mnist-mlp")
    mine = next(iter(corpus.values())).parent
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(pre))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(mine))
    reset_registry(max_jobs=1)
    yield pre, mine
    reset_registry()


def test_bad_checkpoints_are_listed_unreadable_and_the_page_keeps_working(bad_roots, corpus):
    pre, mine = bad_roots
    app = start_app()
    assert not app.error
    shown = labels(app)
    assert len(shown) == len(corpus) + 1
    for name in corpus:
        (label,) = [x for x in shown if x.startswith(f"models/{name} · ")]
        assert len(label.splitlines()) == 1 and len(label) < 150, label
        if values_only_bad(name):  # config and header sound: listed as it says, refused when loaded
            assert label.startswith(f"models/{name} · MNIST · 2-D · loss "), label
        else:
            assert label.startswith(f"models/{name} · unreadable ("), label
    assert_no_server_path(app, mine.parent, pre.parent)

    # Picking bad ones: one line saying why, the last good model stays, the page (Explore) keeps working.
    for name in ("json-broken", "history-steps-an-int", "hidden-twelve-8192s", "weights-garbage", "config-missing",
                 "weights-nan-value"):
        choose(app, corpus[name])
        (error,) = app.error
        head, still = error.value.split("\n\n")
        assert head.startswith(f"Could not load models/{name}: ") and len(head.splitlines()) == 1, error.value
        assert still == "Still showing pretrained/mnist-mlp."
        assert app.session_state["model_last_good"].endswith("mnist-mlp")
        assert app.get("bidi_component") or app.image, "the Explore tab still draws"
        assert_no_server_path(app, mine.parent, pre.parent)


def test_another_session_is_not_disturbed_by_a_bad_checkpoint(bad_roots, corpus):
    good = start_app()
    other = start_app()
    choose(other, corpus["json-nesting-10000"])
    assert other.error
    good.run()
    assert not good.exception and not good.error


def test_compare_offers_only_readable_models_and_keeps_working(bad_roots, corpus):
    pre, mine = bad_roots
    app = start_app("Train")
    options = app.selectbox(key="train_compare_0").options
    assert len(options) == 1 + sum(values_only_bad(n) for n in corpus)  # the unreadable ones are not offered
    assert not any("unreadable" in str(o) for o in options)
    folders = {Path(e.folder).name: e.folder for e in list_models()}
    app.selectbox(key="train_compare_0").set_value(folders["weights-nan-value"])
    app.selectbox(key="train_compare_1").set_value(folders["mnist-mlp"]).run()
    assert not app.exception, app.exception
    (error,) = app.error
    assert error.value.startswith("Cannot show this model: ") and len(error.value.splitlines()) == 1
    assert [c for c in app.get("plotly_chart") if "train_compare_1_latent" in c.proto.id]  # the other column
    assert_no_server_path(app, mine.parent, pre.parent)


@pytest.mark.parametrize("history", [
    {"steps": 5, "epochs": []},
    {"steps": "many", "epochs": "some"},
    {"steps": {"step": [1, 2], "loss": [500.0, "x"], "recon": [480.0, 1.0], "kl": [20.0, 1.0]}, "epochs": 60},
    {"steps": [{"step": 1, "loss": 500.0, "recon": 480.0, "kl": 20.0}, {"step": "2", "loss": 1, "recon": 1, "kl": 1}],
     "epochs": [{"epoch": 1, "step": 1, "test_loss": "low", "test_kl": 3.0},
                {"epoch": 2, "step": 1, "test_loss": 190.0, "test_kl": "kl"}, 135.4]},
    [1, 2],
    None,
])
def test_compare_reads_only_the_valid_part_of_training_curves(history):
    """Compare's curves from config['history'], whatever shape a config.json from elsewhere gives it: only rows of
    finite numbers are plotted (read_config refuses such files today; this holds for any config it lets by)."""
    steps, epochs = figures.steps_from_history(history), figures.epochs_from_history(history)
    assert all(isinstance(v, (int, float)) for column in steps.values() for v in column)
    assert len({len(c) for c in steps.values()}) == 1
    assert all(isinstance(e["test_loss"], float) for e in epochs)
    if isinstance(history, dict) and isinstance(history["steps"], (list, dict)):
        assert steps["step"] == [1] and steps["loss"] == [500.0]
    if isinstance(history, dict) and isinstance(history["epochs"], list) and history["epochs"]:
        assert [(e["epoch"], e["test_loss"], e["test_kl"]) for e in epochs] == [(2, 190.0, None)]
    figures.loss_figure(steps, epochs)  # builds


# --- the Train form ---------------------------------------------------------------------------


def test_the_train_form_refuses_a_model_over_the_size_budget(roots):
    app = start_app("Train")
    app.text_input(key="train_hidden").set_value("8192,8192,8192")
    app.button(key=START).click().run()
    assert not app.exception, app.exception
    (error,) = [e for e in app.error if e.value.startswith("Cannot start")]
    assert "parameters" in error.value and "limit" in error.value
    assert registry().running_jobs() == [] and registry().job_for(app.session_state["train_session_id"]) is None


# --- many folders -----------------------------------------------------------------------------


def test_a_thousand_folders_keep_the_page_working(roots):
    pre, mine = roots
    template = pre / "mnist-mlp"
    config = (template / "config.json").read_text()
    for i in range(1000):
        folder = mine / f"m{i:04d}"
        folder.mkdir()
        (folder / "config.json").write_text(config)
        os.link(template / "model.safetensors", folder / "model.safetensors")
    app = start_app()
    assert not app.error
    shown = labels(app)
    assert len(shown) == 1001 and shown[-1].startswith("models/m0999 · MNIST · 2-D")
    choose(app, mine / "m0500")
    assert not app.error and app.session_state["model_last_good"].endswith("m0500")
    app.run()  # a rerun with the list cached
    assert not app.exception and len(labels(app)) == 1001
    # A new folder is listed on the next rerun (the folder's mtime changed), a removed one disappears.
    tiny_checkpoint(mine / "fresh", seed=4)
    (mine / "m0001" / "config.json").unlink()
    (mine / "m0001" / "model.safetensors").unlink()
    app.run()
    shown = labels(app)
    assert any(x.startswith("models/fresh · ") for x in shown) and not any(x.startswith("models/m0001 ") for x in shown)


# --- the models root --------------------------------------------------------------------------


def test_a_models_root_inside_pretrained_stops_the_app_with_one_message(roots, monkeypatch, tmp_path):
    pre, _ = roots
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(pre / "models"))
    app = start_app()
    (error,) = app.error
    assert "inside pretrained/" in error.value and "LATENT_EXPLORER_MODELS_DIR" in error.value
    assert not app.tabs and not app.exception
    assert_no_server_path(app, tmp_path)
    assert sorted(p.name for p in pre.iterdir()) == ["mnist-mlp"]  # nothing written


def test_a_models_root_that_is_not_a_folder_still_shows_the_shipped_models(roots, monkeypatch, tmp_path):
    not_a_folder = tmp_path / "models-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(not_a_folder))
    app = start_app()
    assert not app.error and not app.exception and app.tabs
    assert labels(app) == ["mnist-mlp · 2-D · loss 150.0"]
    assert_no_server_path(app, tmp_path)


# --- links ------------------------------------------------------------------------------------


def test_a_link_to_a_shipped_model_neither_relabels_nor_duplicates_it(roots, tmp_path):
    pre, mine = roots
    (mine / "mnist-mlp").symlink_to(pre / "mnist-mlp", target_is_directory=True)
    outside = tiny_checkpoint(tmp_path / "elsewhere" / "secret", seed=9)
    (mine / "secret").symlink_to(outside, target_is_directory=True)
    app = start_app()
    shown = labels(app)
    assert [x for x in shown if x.startswith("mnist-mlp")] == ["mnist-mlp · 2-D · loss 150.0"]
    for name in ("mnist-mlp", "secret"):
        (label,) = [x for x in shown if x.startswith(f"models/{name} · ")]
        assert label.startswith(f"models/{name} · unreadable (") and "link" in label
    choose(app, mine / "secret")
    assert "link" in app.error[0].value and "Still showing pretrained/mnist-mlp" in app.error[0].value
    assert_no_server_path(app, tmp_path)


def test_a_linked_config_json_shows_none_of_its_fields(roots, tmp_path):
    _, mine = roots
    elsewhere = tiny_checkpoint(tmp_path / "elsewhere" / "other", seed=3, metrics={"test_loss": 42.0})
    folder = mine / "looks-fine"
    folder.mkdir()
    (folder / "config.json").symlink_to(elsewhere / "config.json")
    os.link(elsewhere / "model.safetensors", folder / "model.safetensors")
    weights_linked = mine / "weights-linked"
    weights_linked.mkdir()
    (weights_linked / "config.json").write_text((elsewhere / "config.json").read_text())
    (weights_linked / "model.safetensors").symlink_to(elsewhere / "model.safetensors")
    app = start_app()
    shown = labels(app)
    (label,) = [x for x in shown if x.startswith("models/looks-fine · ")]
    assert "unreadable" in label and "config.json" in label and "42.0" not in label
    (label,) = [x for x in shown if x.startswith("models/weights-linked · ")]
    assert "unreadable" in label and "model.safetensors" in label
    assert_no_server_path(app, tmp_path)


# --- tracebacks never reach the page ----------------------------------------------------------


def test_a_failing_tab_shows_one_line_and_no_traceback(roots, monkeypatch, tmp_path):
    from dashboard.train import page

    def broken(active=None):
        raise OSError(f"[Errno 13] Permission denied: '{tmp_path}/models/x'")

    monkeypatch.setattr(page, "render", broken)
    app = start_app("Train")
    (error,) = app.error
    assert error.value.startswith("This tab ran into an error (OSError)") and len(error.value.splitlines()) == 1
    assert not app.exception
    assert_no_server_path(app, tmp_path)
    assert app.selectbox(key="model_choice").value.endswith("mnist-mlp")  # the sidebar still works


def test_errors_are_not_detailed_on_the_page_by_config():
    """.streamlit/config.toml: an exception that escapes anyway shows no message, type or traceback."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_messages_for_the_page_lose_their_absolute_paths():
    from dashboard import paths

    text = "/srv/app/data/t10k-images: cannot be read ([Errno 2] No such file: '/srv/x/y.gz'); see models/x, http://a.b/c"
    assert paths.hide_paths(text) == "t10k-images: cannot be read ([Errno 2] No such file: 'y.gz'); see models/x, http://a.b/c"
