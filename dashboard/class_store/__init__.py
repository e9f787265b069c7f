"""The class store: the state a lecturer's class shares across app replicas (no Streamlit, no Plotly).

    store.py         what a store does (ClassStore), ClassError, Drawing, Guess: the API the page uses
    bounds.py        every bound (room code, key, payload sizes, rate limits, caps, idle hours), in one place
    checks.py        the checks both backends make before storing anything, in the same words
    sqlite_store.py  SQLiteStore: one file shared by the replicas on one machine (the default)
    redis_store.py   RedisStore: one Redis shared by replicas on several machines

open_store() picks the backend from CLASS_STORE:
    unset or empty      SQLite in dashboard.paths.class_store_path() (models/_class/class.sqlite3)
    sqlite:///abs/path  SQLite in that file (sqlite:////srv/class.db; sqlite:///rel/path is relative to the cwd)
    redis://host:port/db  (or rediss://) Redis
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from dashboard import paths

from .redis_store import RedisStore
from .sqlite_store import SQLiteStore
from .store import ClassError, ClassStore, Drawing, Guess

__all__ = ["ClassError", "ClassStore", "Drawing", "Guess", "RedisStore", "SQLiteStore", "open_store"]

ENV = "CLASS_STORE"


def open_store(env: Mapping[str, str] = os.environ, clock: Callable[[], float] = time.time) -> ClassStore:
    """The class store CLASS_STORE names (the default SQLite file when unset); ClassError (one line) for a value
    that names none, or a store that cannot be opened."""
    value = (env.get(ENV) or "").strip()
    if not value:
        return SQLiteStore(paths.class_store_path(), clock=clock)
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return SQLiteStore(value[len("sqlite:///"):], clock=clock)
    if value.startswith(("redis://", "rediss://")):
        return RedisStore(value, clock=clock)
    raise ClassError(f"{ENV} must be sqlite:///path or redis://host:port/db; it is not one of these.")
