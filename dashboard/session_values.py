"""A page's values in st.session_state as one object's attributes: the pattern of ExploreState and TrainState."""

from __future__ import annotations

from collections.abc import MutableMapping

import streamlit as st


class SessionValues:
    """st.session_state seen as attributes: each name of DEFAULTS is stored under PREFIX + name, and reads its
    default until it is set. A subclass names its PREFIX and DEFAULTS (and may convert what it reads: `_read`)."""

    PREFIX = ""
    DEFAULTS: dict = {}

    def __init__(self, store: MutableMapping | None = None):
        self._ss = st.session_state if store is None else store

    def _read(self, value):
        return value

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self.DEFAULTS:
            raise AttributeError(name)
        return self._read(self._ss.get(self.PREFIX + name, self.DEFAULTS[name]))

    def __setattr__(self, name: str, value) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self.DEFAULTS:
            self._ss[self.PREFIX + name] = value
        else:
            raise AttributeError(f"{type(self).__name__} has no value {name!r}")


def seed_widget(store: MutableMapping, key: str, value) -> None:
    """Give the widget under `key` the value Python holds, before the widget is drawn. Only when it differs: any
    write, even of the value it has, makes Streamlit push the value into the browser's widget, and a run that
    answers an earlier move of a slider would put the slider back under a hand that has moved it since (its later
    moves, arrow keys under load, then lost)."""
    if key not in store or store[key] != value:
        store[key] = value
