"""One per-run cost of Streamlit's server that a class multiplies, kept once per parsed config in this process.

Every script run, a fragment's too, starts with a NewSession message to its browser, and Streamlit builds that
message's theme from the six [theme...] sections of the config with `config.get_options_for_section`, which
walks all ~370 options each time: about 1 ms of the server's event loop per run, and an action that reruns
other fragments from a callback (reruns.change) is two runs. Those sections change only when the config is
parsed again (Streamlit re-reads a config.toml that changed into a new options dict; theme options cannot be
set from a script), so the sections are kept per options dict, and a re-read config is read afresh.

Streamlit 1.67; if its config module ever lacks these names, nothing is changed. Measured with
bench/action_cost.py (docs/benchmarks.md, "A class behind a proxy").
"""

from __future__ import annotations

import threading

from streamlit import config

_lock = threading.Lock()
_kept: dict[str, dict] = {}
_parsed: list = [None]  # the options dict that _kept was read from (a reference: an id could be reused)


def _theme_sections_once(read):
    def get_options_for_section(section: str) -> dict:
        if not section.startswith("theme"):
            return read(section)
        options = getattr(config, "_config_options", None)
        with _lock:
            if options is None or options is not _parsed[0]:
                _kept.clear()
                _parsed[0] = options
            if section not in _kept:
                _kept[section] = read(section)
            return dict(_kept[section])

    get_options_for_section.__wrapped__ = read
    return get_options_for_section


def keep_theme_sections() -> None:
    """Install the kept theme sections (once per process; idempotent)."""
    read = getattr(config, "get_options_for_section", None)
    if read is None or not hasattr(config, "_config_options") or hasattr(read, "__wrapped__"):
        return
    config.get_options_for_section = _theme_sections_once(read)
