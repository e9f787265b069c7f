"""Putting a folder into the models root so that no reader sees it half-written and, of two writers of one name
(threads, processes, or replicas sharing the folder), exactly one gets it.

    stage(root, name)          a hidden folder beside the target, filled first; removed whatever happens
    publish(folder, target)    rename into place; NameTakenError when the target exists
    replace(folder, target)    the same over an existing target: the old one moved aside, then removed

A rename never replaces a folder that holds anything (POSIX: ENOTEMPTY or EEXIST), and a staged folder always
holds the checkpoint's files, so the file system itself decides who got the name: no lock, no check-then-write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)


class NameTakenError(FileExistsError):
    """The target existed when the folder was to be renamed into place."""


@contextlib.contextmanager
def stage(root: Path, name: str) -> Iterator[Path]:
    """A fresh hidden folder in `root` (the models listing skips names starting with "."), removed on exit:
    what was published out of it is no longer inside."""
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{name}.saving-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish(folder: Path, target: Path) -> Path:
    """Rename `folder` to `target`, which must not exist (NameTakenError otherwise, `folder` left as it was)."""
    if target.exists() or target.is_symlink():  # a rename would replace an empty folder or a link: never ours
        raise NameTakenError(errno.EEXIST, "exists", str(target))
    try:
        os.rename(folder, target)
    except OSError as e:
        if e.errno in TAKEN:
            raise NameTakenError(errno.EEXIST, "exists", str(target)) from None
        raise
    return target


def replace(folder: Path, target: Path, aside: Path) -> Path:
    """Rename `folder` to `target` over an existing target, which is first moved to `aside` (inside the stage,
    so it goes with it). NameTakenError when another writer took the name between the two renames."""
    try:
        os.rename(target, aside)
    except FileNotFoundError:  # it went away meanwhile: this is a plain publish
        pass
    return publish(folder, target)
