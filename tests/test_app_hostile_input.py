"""The dashboard against a read-only models folder, a missing data set, links that carry markdown and URL
parameters that do not parse: the page keeps working, says what is wrong in one plain line, shows no server
path and renders no user-given string as markdown. Driven with AppTest on tiny checkpoints in tmp_path.
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

from dashboard.model.registry import list_models  # noqa: E402
from dashboard.train import form  # noqa: E402
from dashboard.training.registry import registry, reset_registry  # noqa: E402
from factories import app_roots, tiny_checkpoint  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")
START = "train_start"
SAVE = "FormSubmitter:train_save_form-Save"


@pytest.fixture
def roots(tmp_path, monkeypatch):
    pre, mine = app_roots(tmp_path, monkeypatch)
    monkeypatch.setattr(form, "TRAIN_SIZES", (500, 2000))
    reset_registry(max_jobs=1)
    yield pre, mine
    reset_registry()


def start_app(tab: str | None = None, query: dict | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    if tab:
        app.session_state["app_tab"] = tab  # app.py's TAB_KEY: only the open tab runs
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def messages(app) -> list[str]:
    return [str(el.value) for kind in ("error", "warning", "info", "success") for el in getattr(app, kind)]


def read_only(folder: Path, monkeypatch) -> None:
    """chmod 0o555; as root (where the bits do not stop writes) the app's check is told what any other user
    would be, the one way the app decides it: os.access."""
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real = os.access

        def access(path, mode, *args, **kw):
            if mode & os.W_OK and Path(path) == folder:
                return False
            return real(path, mode, *args, **kw)

        monkeypatch.setattr(os, "access", access)


# --- a read-only models folder ----------------------------------------------------------------


def test_a_read_only_models_folder_still_shows_the_shipped_models(roots, monkeypatch):
    _, mine = roots
    read_only(mine, monkeypatch)
    try:
        app = start_app()
        assert not app.error, messages(app)
        assert app.tabs and app.selectbox(key="model_choice").value.endswith("mnist-mlp")
    finally:
        mine.chmod(0o755)


def test_a_read_only_models_folder_lets_training_run_and_save_says_why_not(roots, monkeypatch):
    import time

    _, mine = roots
    read_only(mine, monkeypatch)
    try:
        app = start_app("Train")
        app.text_input(key="train_hidden").set_value("16")
        app.selectbox(key="train_limit").set_value(500)
        app.number_input(key="train_epochs").set_value(1)
        app.button(key=START).click().run()
        assert not app.exception and not [m for m in messages(app) if m.startswith("Cannot start")], messages(app)
        deadline = time.monotonic() + 120
        while not any(m.startswith("Trained ") for m in messages(app)):
            assert time.monotonic() < deadline, messages(app)
            time.sleep(0.2)  # the page's poll, standing in for its timer
            app.run()
        app.text_input(key="train_save_name").set_value("mine")
        app.button(key=SAVE).click().run()
        assert not app.exception, app.exception
        (error,) = app.error
        assert "not a writable folder" in error.value and len(error.value.splitlines()) == 1
        assert str(mine) not in error.value and list(mine.iterdir()) == []
        assert registry().job_for(app.session_state["train_session_id"]) is not None  # the run is kept
    finally:
        mine.chmod(0o755)


# --- a data set that is not installed ---------------------------------------------------------


def test_a_missing_test_set_is_one_plain_line_without_server_paths(roots, monkeypatch, tmp_path, caplog):
    import streamlit as st

    from vae_core import data

    pre, _ = roots
    tiny_checkpoint(pre / "fashion-mlp", dataset="fashion-mnist")
    empty = tmp_path / "no-data"
    empty.mkdir()
    looked = [empty / "fashion-mnist", Path("/usr/share/datasets/not-here/fashion-mnist"),
              Path("/root/.cache/latent-explorer/not-here/fashion-mnist")]

    def no_download(name):
        raise OSError(f"[Errno 111] Connection refused while writing /root/.cache/latent-explorer/{name}")

    monkeypatch.setattr(data, "candidate_dirs", lambda name, data_dir=None: looked)
    monkeypatch.setattr(data, "_download", no_download)
    data.load_dataset.cache_clear()
    st.cache_resource.clear()
    try:
        app = start_app(query={"m": "pretrained/fashion-mlp"})
    finally:
        data.load_dataset.cache_clear()
        st.cache_resource.clear()
    assert app.selectbox(key="model_choice").value.endswith("fashion-mlp")
    (error,) = app.error
    assert error.value == ("The Fashion-MNIST test set is not installed on this server (or cannot be read), so "
                           "the map shows no points.")
    shown = "\n".join(messages(app) + [str(m.value) for m in app.markdown] + [str(c.value) for c in app.caption])
    for secret in ("/usr/share", "/root/.cache", str(tmp_path), "Connection refused", "Errno"):
        assert secret not in shown
    assert "Connection refused" in caplog.text and "/usr/share/datasets/not-here" in caplog.text


# --- numbers in a link, a form field and a flag -----------------------------------------------

ODD_NUMBERS = ["²", "٣", "1" * 5000, "²,1", "1,²"]
NUMBER_CODES = ["me", "ms", "pk", "ps", "mf", "tr", "pl", "p", "z", "v", "dc", "dt", "es", "sn"]


@pytest.mark.parametrize("text", ODD_NUMBERS, ids=["superscript", "arabic-indic", "5000-digits", "sup-1", "1-sup"])
@pytest.mark.parametrize("code", NUMBER_CODES)
def test_a_link_number_that_is_not_ascii_digits_is_refused_without_raising(code, text):
    from dashboard.explore import url

    fit = url.Fit(d=16, lim=4.0, n_test=10_000)
    assert url.BY_CODE[code].parse(text, fit) is None


@pytest.mark.parametrize("query", [
    {"m": "pretrained/mnist16-mlp", "me": "²"}, {"m": "pretrained/mnist16-mlp", "ms": "²"},
    {"m": "pretrained/mnist16-mlp", "pk": "²"}, {"m": "pretrained/mnist16-mlp", "ps": "1" * 5000},
    {"m": "pretrained/mnist16-mlp", "mf": "²"}, {"m": "pretrained/mnist16-mlp", "tr": "²"},
    {"m": "pretrained/mnist16-mlp", "pl": "²,1"}, {"m": "pretrained/mnist16-mlp", "ms": "١٢"},
], ids=lambda q: "-".join(k for k in q if k != "m"))
def test_a_link_with_an_odd_number_keeps_the_rest_of_the_link_and_says_so(roots, query):
    pre, _ = roots
    tiny_checkpoint(pre / "mnist16-mlp", latent_dim=16, seed=4)
    app = start_app(query={**query, "mm": "slerp"})
    (code,) = [k for k in query if k != "m"]
    assert not app.error, messages(app)
    assert [m for m in messages(app) if code in m and m.startswith("Ignored link parameters")], messages(app)
    assert app.session_state["explore.morph_mode"] == "slerp"  # the rest of the link is applied
    assert app.selectbox(key="model_choice").value.endswith("mnist16-mlp")


@pytest.mark.parametrize("text", ["٣", "²", "16,²", "1" * 5000])
def test_hidden_sizes_take_ascii_digits_only_and_name_the_field(text):
    from vae_core import settings

    specs = settings.run_specs()
    with pytest.raises(ValueError) as form_error:
        settings.check({"hidden": text}, specs, name=lambda sp: sp.label or sp.flag)
    assert "Hidden sizes" in str(form_error.value) and "invalid literal" not in str(form_error.value)
    with pytest.raises(ValueError) as cli_error:
        settings.check({"hidden": text}, specs)
    assert "--hidden" in str(cli_error.value)


def test_the_cli_refuses_a_whole_number_in_other_digits(capsys):
    import argparse

    from vae_core import settings

    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, settings.run_specs())
    with pytest.raises(SystemExit):
        parser.parse_args(["--epochs", "٣"])
    assert "--epochs" in capsys.readouterr().err
    assert parser.parse_args(["--epochs", "3"]).epochs == 3


# --- markdown in what a user gives ------------------------------------------------------------

INJECTED = ["[Session expired: sign in again](https://evil.example/login)", "![](https://evil.example/t.png)"]


def unescaped(body: str) -> str:
    """What markdown shows of a body whose punctuation is backslash-escaped: the text as given."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body)


def assert_shown_as_text(body: str, given: str) -> None:
    import re

    assert not re.search(r"(?<!\\)\]\(|(?<!\\)!\[|(?<!\\)\[", body), body  # no link or image markdown left
    assert "https://" not in body and given in unescaped(body), body  # no autolink; the text as given


@pytest.mark.parametrize("given", INJECTED)
def test_a_model_name_in_a_link_is_shown_as_text(roots, given):
    app = start_app(query={"m": given})
    (note,) = [el for el in app.info if "is not here" in el.value]
    assert_shown_as_text(note.proto.body, given[:60])


def test_a_link_parameter_name_is_shown_as_text(roots):
    app = start_app(query={"[x](https://evil.example)": "1"})
    (note,) = [el for el in app.info if el.value.startswith("Ignored unknown link parameters")]
    assert_shown_as_text(note.proto.body, "[x](https://evil.example)")


def test_a_folder_name_in_could_not_load_is_shown_as_text(roots):
    import json

    _, mine = roots
    name = "[Sign in](https:evil.example)"  # a folder name cannot hold '/'
    bad = mine / name
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"format": "latent-explorer-vae"}))
    app = start_app()
    (entry,) = [e for e in list_models() if e.name == name]
    app.selectbox(key="model_choice").set_value(entry.folder).run()
    assert not app.exception, app.exception
    (error,) = app.error
    assert error.value.startswith("Could not load models/")
    assert_shown_as_text(error.proto.body, f"models/{name}")


def test_an_uploaded_file_name_is_shown_as_text(roots):
    import streamlit as st

    from dashboard.explore import own_digit

    class Upload:
        name = "![](https:evil.example) x.png"
        size = 10

        def getvalue(self):
            return b"not a picture"

    st.session_state["explore_upload"] = Upload()
    try:
        own_digit._on_upload()
        body = st.session_state["explore_own_error"]
    finally:
        st.session_state.clear()
    assert_shown_as_text(body, Upload.name)


@pytest.mark.parametrize("text", ["٣", "²"])
def test_the_train_form_names_hidden_sizes_for_other_digits(roots, text):
    app = start_app("Train")
    app.text_input(key="train_hidden").set_value(text)
    app.button(key=START).click().run()
    assert not app.exception, app.exception
    (error,) = [e for e in app.error if e.value.startswith("Cannot start")]
    assert "Hidden sizes" in error.value and "invalid literal" not in error.value
    assert registry().running_jobs() == []
