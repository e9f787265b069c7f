"""dashboard/streamlit_tuning.py: the theme sections of the config, read once per parsed config, are what
Streamlit's own reading gives, and a config parsed again is read again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit import config

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import streamlit_tuning  # noqa: E402

SECTIONS = ("theme", "theme.light", "theme.dark", "theme.sidebar", "theme.light.sidebar", "theme.dark.sidebar")


@pytest.fixture
def kept(monkeypatch):
    monkeypatch.setattr(config, "get_options_for_section", config.get_options_for_section)  # undone after
    streamlit_tuning.keep_theme_sections()
    streamlit_tuning.keep_theme_sections()  # a second call changes nothing
    yield config.get_options_for_section
    config.get_config_options(force_reparse=True)


def test_kept_sections_are_streamlits_own(kept):
    read = kept.__wrapped__
    assert not hasattr(read, "__wrapped__"), "installed once"
    for section in (*SECTIONS, "server", "client"):
        assert kept(section) == read(section)
    assert kept("theme")["baseFontSize"] == 18  # .streamlit/config.toml's
    kept("theme")["baseFontSize"] = 1  # a caller's change stays its own
    assert kept("theme")["baseFontSize"] == 18


def test_a_config_parsed_again_is_read_again(kept):
    assert kept("theme")["textColor"] == "#111111"
    config.get_config_options(force_reparse=True, options_from_flags={"theme.textColor": "#123456"})
    assert kept("theme")["textColor"] == "#123456"
    config.get_config_options(force_reparse=True)
    assert kept("theme")["textColor"] == "#111111"
