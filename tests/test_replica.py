"""A replica of scripts/serve_class.sh starts warm (dashboard/replica.py), and dashboard/app.py is nothing but a
page: a multiprocessing child that re-runs it as its parent's __main__ does nothing.

AppTest on a tiny checkpoint in tmp_path (LATENT_EXPLORER_*_DIR); the real pretrained/ and models/ are not touched.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import vae_core  # noqa: E402
from dashboard import replica  # noqa: E402
from dashboard.model import caches as models  # noqa: E402
from factories import tiny_checkpoint  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def tiny_models(tmp_path, monkeypatch):
    tiny_checkpoint(tmp_path / "pretrained" / "tiny")
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("LATENT_EXPLORER_PRETRAINED_DIR", str(tmp_path / "pretrained"))
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(tmp_path / "models"))
    st.cache_resource.clear()  # cold, as a new process is: other tests may have filled these caches
    yield
    st.cache_resource.clear()


def test_after_the_warm_up_a_students_first_page_loads_and_encodes_nothing(tiny_models, monkeypatch):
    calls: list[str] = []
    load, encode = vae_core.load_checkpoint, models.compute_encodings
    monkeypatch.setattr(vae_core, "load_checkpoint", lambda *a, **k: calls.append("load") or load(*a, **k))
    monkeypatch.setattr(models, "compute_encodings", lambda *a, **k: calls.append("encode") or encode(*a, **k))

    assert replica.warm(APP) is None
    assert calls == ["load", "encode"], "the warm-up loads the default model and encodes the test set"

    calls.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and not at.error
    assert Path(at.sidebar.selectbox[0].value).name == "tiny", "the student's page shows the warmed model"
    assert calls == [], "the student's first page found the model and its encodings in the process's caches"


def test_a_page_that_fails_in_the_warm_up_is_one_line_and_the_replica_goes_on(tmp_path, caplog):
    app = tmp_path / "app.py"
    app.write_text("import streamlit as st\nst.title('x')\nraise RuntimeError('no models folder here')\n")
    said = replica.warm(app)
    assert said is not None and "raised an exception" in said and "\n" not in said
    assert "no models folder here" in caplog.text  # the traceback went to the log
    assert "not found" in replica.warm(tmp_path / "missing.py")  # no page at all: a message, not an exception


def test_a_multiprocessing_child_rerunning_the_app_as_main_does_nothing(monkeypatch):
    """multiprocessing re-runs the parent's __main__ file (under `streamlit run`: app.py) as "__mp_main__" in each
    child it starts; the training worker and the presets' timing process must not render the page there."""
    def page_rendered(*a, **k):
        raise AssertionError("app.py rendered the page in a multiprocessing child")

    monkeypatch.setattr(st, "set_page_config", page_rendered)
    names = runpy.run_path(APP, run_name="__mp_main__")
    assert "main" in names and "models" not in names  # defined, not run: no model, no PyTorch import by the page


def test_a_replica_forks_its_training_forkserver_before_anything_else(monkeypatch):
    """The fork must come while the process has one thread: before the warm-up's page run and Streamlit's server."""
    from streamlit.web import cli

    from dashboard.training import forkserver_fork

    order: list[str] = []
    monkeypatch.setattr(forkserver_fork, "start", lambda: order.append("fork"))
    monkeypatch.setattr(replica, "warm", lambda: order.append("warm"))
    monkeypatch.setattr(cli, "main", lambda: order.append("serve") or 0)
    monkeypatch.setattr(sys, "argv", ["replica", "run", APP])
    with pytest.raises(SystemExit):
        replica.main()
    assert order == ["fork", "warm", "serve"]
