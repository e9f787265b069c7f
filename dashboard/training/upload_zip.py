"""A .zip of your images (one folder per class) unpacked for a training, inside the models folder only.

    unpack_zip(data, models_root)  -> Unpacked: models/.uploads/<id>/images/<class>/<file>, what was skipped
    remove_upload(folder)             an upload no longer needed (a new one replaces it, or it is cleared)
    remove_stale_uploads(root)        uploads older than MAX_AGE_S (a session that went away)

Hardening, each bound below or in vae_core.image_folder (one place each):
  * the zip's size, its number of entries and the total of its images' bytes (read, never trusting the headers);
  * only PNG and JPEG members are considered, each opened with PIL within vae_core's pixel bound (a small file
    that decodes to gigapixels is refused before its pixels are decoded) and decoded whole (a damaged one is
    found here, not in the training);
  * no member is written outside its upload folder: absolute paths, drive letters, '..', backslashes and links
    are skipped, and each target path is checked to lie inside the folder;
  * macOS's __MACOSX/ and hidden files are passed over silently; every other member not used gets one line
    "member: why" (Unpacked.skipped); a zip that cannot be used at all raises ZipRefused, one line.
.uploads starts with a dot, so the model list (dashboard/model/registry.py) never shows it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from vae_core.image_folder import (
    IMAGE_SUFFIXES,
    MAX_CLASS_NAME,
    MAX_CLASSES,
    MAX_FILE_BYTES,
    MAX_IMAGES,
    MIN_PER_CLASS,
    ImageFileError,
    check_image,
)

MAX_ZIP_MB = 32  # the uploader's limit and .streamlit/config.toml's server.maxUploadSize
MAX_ZIP_BYTES = MAX_ZIP_MB * 2**20
MAX_MEMBERS = MAX_IMAGES + 1_000  # entries of the archive: images, folders and other files together
MAX_TOTAL_BYTES = 256 * 2**20  # the images' bytes once unpacked, all together
MAX_AGE_S = 24 * 3600  # an upload older than this is removed when anyone uploads
UPLOADS = ".uploads"  # under the models folder
IMAGES = "images"  # the folder the training reads: models/.uploads/<id>/images
MAX_SKIPPED_SHOWN = 50  # lines of skipped members kept; the rest are counted

_DRIVE = re.compile(r"^[A-Za-z]:")


class ZipRefused(ValueError):
    """The upload cannot be used at all; str(e) is the page's one line."""


@dataclass(frozen=True)
class Unpacked:
    folder: Path  # the images, one subfolder per class: the training's data_dir
    classes: tuple[str, ...]
    counts: tuple[int, ...]  # images per class
    skipped: tuple[str, ...]  # "member: why", at most MAX_SKIPPED_SHOWN
    n_skipped: int


def uploads_dir(models_root: str | os.PathLike) -> Path:
    return Path(models_root) / UPLOADS


def _why_unsafe(info: zipfile.ZipInfo, parts: list[str]) -> str | None:
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a link; only files are unpacked"
    if name.startswith("/") or _DRIVE.match(name) or "\\" in name:
        return "an absolute path or one with backslashes; only paths inside the archive are unpacked"
    if any(p in ("", ".", "..") for p in parts) or "\x00" in name:
        return "a path that leaves the archive's folder ('..'); not unpacked"
    return None


def _members(zf: zipfile.ZipFile) -> tuple[list[tuple[zipfile.ZipInfo, list[str]]], list[str]]:
    """The image members with their path parts, and lines for the members passed over."""
    images, skipped = [], []
    for info in zf.infolist():
        parts = info.filename.rstrip("/").split("/")
        why = _why_unsafe(info, parts)
        if why is None and (info.is_dir() or any(p.startswith(".") or p == "__MACOSX" for p in parts)):
            continue  # folders are made as their files need them; macOS's metadata and hidden files are not ours
        if why is None and not parts[-1].lower().endswith(IMAGE_SUFFIXES):
            why = "not a PNG or JPEG file"
        if why is not None:
            skipped.append(f"{info.filename[:200]}: {why}")
        else:
            images.append((info, parts))
    return images, skipped


def _class_paths(images: list[tuple[zipfile.ZipInfo, list[str]]]) -> list[list[str] | None]:
    """Each image's path below the class folders: one common top folder (a zipped folder) is dropped; a file
    not inside a class folder gets None."""
    strip = len({p[0] for _, p in images}) == 1 and all(len(p) >= 3 for _, p in images)
    return [p[1:] if strip else p if len(p) >= 2 else None for _, p in images]


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, reading at most MAX_FILE_BYTES + 1 whatever its header says; ImageFileError."""
    if info.flag_bits & 0x1:
        raise ImageFileError("encrypted; not unpacked")
    if info.file_size > MAX_FILE_BYTES:
        raise ImageFileError(f"{info.file_size:,} bytes, over the {MAX_FILE_BYTES:,} an image file may have")
    try:
        with zf.open(info) as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError, ValueError) as e:
        raise ImageFileError(f"cannot be unpacked ({(str(e).splitlines() or [type(e).__name__])[0][:100]})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ImageFileError(f"over the {MAX_FILE_BYTES:,} bytes an image file may have")
    return raw


def unpack_zip(data: bytes, models_root: str | os.PathLike) -> Unpacked:
    """The zip's images under models_root/.uploads/<new id>/images/<class>/; ZipRefused (one line) when it
    cannot be used, having written nothing that stays."""
    if len(data) > MAX_ZIP_BYTES:
        raise ZipRefused(f"the zip is {len(data) / 2**20:.1f} MB; at most {MAX_ZIP_MB} MB")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise ZipRefused("not a zip file (or a damaged one); zip the folder of class subfolders and upload "
                         "the .zip") from None
    with zf:
        if len(zf.infolist()) > MAX_MEMBERS:
            raise ZipRefused(f"the zip has {len(zf.infolist()):,} entries; at most {MAX_MEMBERS:,}")
        images, skipped = _members(zf)
        if len(images) > MAX_IMAGES:
            raise ZipRefused(f"the zip holds {len(images):,} images; at most {MAX_IMAGES:,}")
        rels = _class_paths(images)
        classes = sorted({r[0] for r in rels if r is not None})
        if len(classes) > MAX_CLASSES:
            raise ZipRefused(f"the zip has {len(classes)} class folders; at most {MAX_CLASSES}")
        base = uploads_dir(models_root) / uuid.uuid4().hex
        dest = base / IMAGES
        dest.mkdir(parents=True)
        try:
            skipped += _extract(zf, images, rels, dest)
            return _result(dest, skipped)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise


def _extract(zf: zipfile.ZipFile, images, rels, dest: Path) -> list[str]:
    skipped, total = [], 0
    root = dest.resolve()
    for (info, _), rel in zip(images, rels):
        name = info.filename[:200]
        if rel is None:
            skipped.append(f"{name}: not in a class folder (the images go in one folder per class)")
            continue
        if len(rel[0]) > MAX_CLASS_NAME or not rel[0].isprintable():
            skipped.append(f"{name}: its class folder's name must be printable and at most {MAX_CLASS_NAME} "
                           "characters")
            continue
        try:
            raw = _read_member(zf, info)
            total += len(raw)
            if total > MAX_TOTAL_BYTES:
                raise ZipRefused(f"the zip's images take more than {MAX_TOTAL_BYTES // 2**20} MB unpacked; "
                                 f"at most {MAX_TOTAL_BYTES // 2**20} MB")
            check_image(io.BytesIO(raw))
        except ImageFileError as e:
            skipped.append(f"{name}: {e}")
            continue
        target = dest.joinpath(*rel)
        if root not in target.resolve().parents:  # _why_unsafe already refused '..': a second lock
            skipped.append(f"{name}: a path outside the upload; not unpacked")
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as f:  # never through an existing file or link
                f.write(raw)
        except OSError as e:
            skipped.append(f"{name}: cannot be written ({e.strerror or type(e).__name__})")
    return skipped


def _result(dest: Path, skipped: list[str]) -> Unpacked:
    classes = tuple(sorted(d.name for d in dest.iterdir() if d.is_dir()))
    counts = tuple(sum(1 for p in (dest / c).rglob("*") if p.is_file()) for c in classes)
    if not classes:
        raise ZipRefused("no PNG or JPEG images in class folders; the zip should hold one folder per class "
                         "(e.g. cats/1.png, dogs/2.jpg)" + (f"; {len(skipped)} file(s) skipped" if skipped else ""))
    few = [c for c, n in zip(classes, counts) if n < MIN_PER_CLASS]
    if few:
        raise ZipRefused(f"class {few[0]!r} has fewer than {MIN_PER_CLASS} usable images; each class needs at "
                         "least one to train on and one to test on")
    return Unpacked(dest, classes, counts, tuple(skipped[:MAX_SKIPPED_SHOWN]), len(skipped))


def remove_upload(folder: str | os.PathLike | None, models_root: str | os.PathLike) -> None:
    """Remove an upload (its images folder or the upload folder), only ever inside models_root/.uploads/."""
    if not folder:
        return
    uploads = uploads_dir(models_root).resolve()
    path = Path(folder).resolve()
    base = path.parent if path.name == IMAGES else path
    if base.parent == uploads:
        shutil.rmtree(base, ignore_errors=True)


def remove_stale_uploads(models_root: str | os.PathLike, max_age: float = MAX_AGE_S) -> None:
    """Remove the uploads not touched for max_age seconds (their sessions have gone)."""
    uploads = uploads_dir(models_root)
    try:
        entries = list(os.scandir(uploads))
    except OSError:
        return
    now = time.time()
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False) and now - e.stat(follow_symlinks=False).st_mtime > max_age:
                shutil.rmtree(e.path, ignore_errors=True)
        except OSError:
            pass
