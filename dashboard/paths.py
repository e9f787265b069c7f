"""Where the app finds models: one place, so the Train tab saves where the model picker looks.

    pretrained_dir()   the shipped checkpoints (read only)      LATENT_EXPLORER_PRETRAINED_DIR overrides it
    models_dir()       the user's checkpoints (git-ignored)     LATENT_EXPLORER_MODELS_DIR overrides it
    recovered_dir()    models/_recovered: the last epoch of a run whose page went away (dashboard/training/save.py)
    class_store_path() models/_class/class.sqlite3: a lecturer's class shared by every replica (dashboard/class_store)

The models root is the only folder the app writes to (saved and recovered models, the class store unless
CLASS_STORE names another). models_root_problem()
says why it cannot take writes (inside pretrained/, or not writable): Save and the recovered save refuse then.
Only a root inside pretrained/ stops the app (models_root_misplaced); a read-only one still shows the models.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RECOVERED = "_recovered"
CLASS_DIR = "_class"  # a folder of its own: SQLite's -wal/-shm files come and go without touching the models root

log = logging.getLogger(__name__)


def pretrained_dir() -> Path:
    return Path(os.environ.get("LATENT_EXPLORER_PRETRAINED_DIR") or REPO_ROOT / "pretrained")


def models_dir() -> Path:
    return Path(os.environ.get("LATENT_EXPLORER_MODELS_DIR") or REPO_ROOT / "models")


def recovered_dir(models_root: Path | None = None) -> Path:
    return Path(models_root or models_dir()) / RECOVERED


def class_store_path(models_root: Path | None = None) -> Path:
    return Path(models_root or models_dir()) / CLASS_DIR / "class.sqlite3"


_ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/])(?:/[\w.@+~-]+)+/?")  # /a/b/c, not a relative models/x


def hide_paths(text: str) -> str:
    """The text with every absolute path replaced by its last part: '/srv/app/models/x: bad' -> 'x: bad'.
    For messages a student sees; the server log keeps the full ones."""
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0)).name or "/", text)


def inside_pretrained(path: str | os.PathLike) -> bool:
    """Whether the path, links resolved, is pretrained/ or lies inside it."""
    target, pre = Path(path).resolve(), pretrained_dir().resolve()
    return target == pre or pre in target.parents


def models_root_misplaced(models_root: str | os.PathLike | None = None) -> str | None:
    """Why the models root must not be used at all (it lies inside pretrained/), in one line, or None."""
    root = Path(models_root or models_dir())
    if inside_pretrained(root):
        log.error("the models folder %s lies inside the pretrained folder %s", root.resolve(), pretrained_dir())
        return ("The models folder lies inside pretrained/, which holds the shipped models and is never "
                "written. Set LATENT_EXPLORER_MODELS_DIR to another folder and restart the app.")
    return None


def models_root_problem(models_root: str | os.PathLike | None = None) -> str | None:
    """Why the models root cannot take the app's writes, in one line for the page (no server path: the path
    goes to the server log), or None when it can. A root that does not exist yet is fine if it can be made."""
    misplaced = models_root_misplaced(models_root)
    if misplaced is not None:
        return misplaced
    root = Path(models_root or models_dir())
    existing = root
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        log.error("the models folder %s is not writable (checked %s)", root, existing)
        return ("The models folder on this server is not a writable folder, so models cannot be saved; the "
                "shipped ones can still be explored. Make it writable (or set LATENT_EXPLORER_MODELS_DIR to one "
                "that is) and restart the app.")
    return None
