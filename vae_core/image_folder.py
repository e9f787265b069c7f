"""Your own images: a folder with one subfolder per class (torchvision's ImageFolder layout), as a Dataset.

    DIR/cats/001.png  DIR/cats/x/002.jpg  DIR/dogs/a.jpeg ...   ->  classes ("cats", "dogs"), sorted by name

Each PNG or JPEG is brought to the models' image, 1 x 28 x 28: converted to greyscale (PIL's "L",
0.299 R + 0.587 G + 0.114 B; transparency over white), scaled to fit inside 28 x 28 with its aspect kept, and
padded to 28 x 28 with the median grey of its own border (a photo on white paper is not framed in black). The
grey levels stay as they are: dark ink on white stays dark on white.

The held-out test split is seeded: per class, round(fraction * n) of its n usable images (at least one, and at
least one left to train on) drawn with the seed. config.json records the seed, the fraction, the class names
and the SHA-256 of the sorted list of test files (data_info).

A file that is not a readable PNG or JPEG, or over a bound below, is skipped with one line saying which file
and why; a folder with no class subfolders, too many images or classes, or a class with fewer than two usable
images is refused (DatasetError, one line). Nothing here unpickles anything.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .data import Dataset, DatasetError

# The bounds of a folder of images, in one place (the app's zip upload reads them too).
MAX_IMAGES = 20_000  # images in the folder: reading them takes about a second per thousand
MAX_CLASSES = 10  # subfolders; the app's map has ten class colours
MAX_CLASS_NAME = 64  # characters of a subfolder's name, the legend's label
MAX_IMAGE_PIXELS = 24_000_000  # width x height of one image (a 24-megapixel photo), checked before decoding
MAX_FILE_BYTES = 20 * 2**20  # bytes of one image file
MIN_PER_CLASS = 2  # one to train on, one to test on
MIN_TEST_FRACTION, MAX_TEST_FRACTION = 0.05, 0.5
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SIDE = 28  # the models' images are 1 x 28 x 28
FIT = "pad"  # aspect kept, padded with the border's median grey (recorded in config.json)
FOLDER = "folder"  # the dataset's name in --dataset and config.json
NO_FOLDER = "the folder dataset needs your images: --data-dir DIR (one subfolder per class)"

# PIL's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS) is one for the whole process, and the app's digit
# uploader (dashboard/drawing.py) sets its own bound under PIL's default; so it is left as it is, and check_image
# compares width x height, read from the file's header, with MAX_IMAGE_PIXELS before a pixel is decoded (and turns
# PIL's warning into a refusal).


class ImageFileError(ValueError):
    """One image that cannot be used; the message says why, without the path."""


def _grey(im: Image.Image) -> Image.Image:
    """Any PNG/JPEG mode -> "L"; transparent pixels count as white."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if im.mode.startswith("I;16") or im.mode == "I":  # 16-bit grey: keep the top 8 bits
        return Image.fromarray((np.asarray(im, dtype=np.uint32) >> 8).astype(np.uint8))
    return im.convert("L")


def fit_to_side(im: Image.Image, side: int = SIDE) -> np.ndarray:
    """A greyscale image scaled to fit inside side x side (aspect kept), padded with its border's median grey."""
    w, h = im.size
    scale = side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), dtype=np.uint8)
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    out = np.full((side, side), int(np.median(border)), dtype=np.uint8)
    top, left = (side - size[1]) // 2, (side - size[0]) // 2
    out[top : top + size[1], left : left + size[0]] = small
    return out


def check_image(fp) -> Image.Image:
    """An opened PNG or JPEG within MAX_IMAGE_PIXELS, its pixels decoded; ImageFileError saying why not.
    fp: a path or a binary file object."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=("PNG", "JPEG"))
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ImageFileError(f"{w} x {h} pixels, over the {MAX_IMAGE_PIXELS:,} an image may have")
            if im.format == "JPEG":
                im.draft("L", (SIDE * 4, SIDE * 4))  # decode a large JPEG at a fraction of its size: much faster
            im.load()
            return im
    except ImageFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFileError(f"over the {MAX_IMAGE_PIXELS:,} pixels an image may have") from None
    except UnidentifiedImageError:
        raise ImageFileError("not a PNG or JPEG image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # truncated or damaged data
        why = (str(e).splitlines() or [type(e).__name__])[0][:120]
        raise ImageFileError(f"a damaged image ({why})") from None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """One image file -> uint8 [28, 28]; ImageFileError (one line, no path) when it cannot be used."""
    path = Path(path)
    size = path.lstat().st_size
    if size > MAX_FILE_BYTES:
        raise ImageFileError(f"{size:,} bytes, over the {MAX_FILE_BYTES:,} an image file may have")
    with open(path, "rb") as f:
        im = check_image(f)
        return fit_to_side(_grey(im))


@dataclass(frozen=True)
class Listing:
    classes: tuple[str, ...]
    files: tuple[tuple[str, ...], ...]  # per class, the image files' paths relative to the root (posix), sorted
    skipped: tuple[str, ...]  # "path: why", one line each


def list_folder(root: str | os.PathLike) -> Listing:
    """The classes (subfolders, sorted) and their PNG/JPEG files; other files listed as skipped. DatasetError
    for a root that is not a folder, one without class subfolders, or one over MAX_CLASSES or MAX_IMAGES."""
    root = Path(root)
    if root.is_symlink() or not root.is_dir():
        raise DatasetError(f"{root}: not a folder; give a folder with one subfolder of images per class")
    skipped: list[str] = []
    dirs = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_dir(follow_symlinks=False):
            dirs.append(entry.name)
        else:
            skipped.append(f"{entry.name}: not in a class folder (the images go in one subfolder per class)")
    if not dirs:
        raise DatasetError(f"{root}: no class subfolders; put the images of each class in a subfolder of its own "
                           "(e.g. cats/1.png, dogs/2.jpg)")
    if len(dirs) > MAX_CLASSES:
        raise DatasetError(f"{root}: {len(dirs)} class subfolders; at most {MAX_CLASSES}")
    files, total = [], 0
    for name in dirs:
        if len(name) > MAX_CLASS_NAME or not name.isprintable():
            raise DatasetError(f"{root}: a class folder's name must be printable and at most {MAX_CLASS_NAME} "
                               f"characters: {name[:MAX_CLASS_NAME]!r}")
        found = []
        for folder, subdirs, names in os.walk(root / name):  # never follows links
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for file in sorted(names):
                rel = Path(folder, file).relative_to(root).as_posix()
                if file.startswith("."):
                    continue
                if Path(folder, file).is_symlink():
                    skipped.append(f"{rel}: a link; only files are read")
                elif not file.lower().endswith(IMAGE_SUFFIXES):
                    skipped.append(f"{rel}: not a PNG or JPEG file")
                else:
                    found.append(rel)
                    total += 1
                    if total > MAX_IMAGES:
                        raise DatasetError(f"{root}: more than {MAX_IMAGES:,} images; at most {MAX_IMAGES:,}")
        files.append(tuple(found))
    return Listing(tuple(dirs), tuple(files), tuple(skipped))


def held_out_count(n: int, fraction: float) -> int:
    """How many of a class's n images are held out: round(fraction n), at least 1, leaving at least 1."""
    return 0 if n < MIN_PER_CLASS else min(n - 1, max(1, round(fraction * n)))


def split(files: tuple[tuple[str, ...], ...], fraction: float, seed: int) -> list[np.ndarray]:
    """Per class, a boolean mask of its (sorted) files: True for the held-out test images. Seeded: the same
    files, fraction and seed give the same split on any machine (numpy's PCG64)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    masks = []
    for names in files:
        mask = np.zeros(len(names), dtype=bool)
        mask[rng.permutation(len(names))[: held_out_count(len(names), fraction)]] = True
        masks.append(mask)
    return masks


def list_sha256(paths: list[str]) -> str:
    """SHA-256 of the sorted paths, one per line: what config.json records of the test split."""
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()


def load_image_folder(root: str | os.PathLike, test_fraction: float = 0.1, split_seed: int = 0) -> Dataset:
    """Every usable image of the folder, split into train and test; unusable files in .skipped ("path: why")."""
    if not MIN_TEST_FRACTION <= test_fraction <= MAX_TEST_FRACTION:
        raise DatasetError(f"the test fraction must be in {MIN_TEST_FRACTION}..{MAX_TEST_FRACTION}, "
                           f"got {test_fraction}")
    listing = list_folder(root)
    root = Path(root)
    skipped = list(listing.skipped)
    images, usable = [], []
    for cls, names in zip(listing.classes, listing.files):
        kept = []
        for rel in names:
            try:
                images.append(read_image(root / rel))
                kept.append(rel)
            except ImageFileError as e:
                skipped.append(f"{rel}: {e}")
            except OSError as e:
                skipped.append(f"{rel}: cannot be read ({e.strerror or type(e).__name__})")
        if len(kept) < MIN_PER_CLASS:
            raise DatasetError(f"{root}: class {cls!r} has {len(kept)} usable image(s); each class needs at least "
                               f"{MIN_PER_CLASS} (one to train on, one to test on)")
        usable.append(tuple(kept))
    masks = split(tuple(usable), test_fraction, split_seed)
    stack = torch.from_numpy(np.stack(images))
    labels = torch.cat([torch.full((len(k),), c, dtype=torch.uint8) for c, k in enumerate(usable)])
    test = torch.from_numpy(np.concatenate(masks))
    test_files = [rel for names, mask in zip(usable, masks) for rel, t in zip(names, mask) if t]
    info = {"classes": list(listing.classes), "n_test": int(test.sum()), "fit": FIT, "skipped": len(skipped),
            "split": {"seed": split_seed, "fraction": test_fraction, "test_files_sha256": list_sha256(test_files)}}
    return Dataset(name=FOLDER, train_images=stack[~test], train_labels=labels[~test], test_images=stack[test],
                   test_labels=labels[test], source=str(root), sha256={}, classes=listing.classes, info=info,
                   skipped=tuple(skipped))
