"""MNIST and Fashion-MNIST, read from the official IDX files into memory as uint8 tensors.

Where the files are looked for, in order:
  1. an explicit data_dir (the --data-dir flag) or the VAE_DATA_DIR environment variable;
  2. the copy bundled in this repository (data/<name>/; MNIST only);
  3. /usr/share/datasets/<name>/ (Debian's dataset-fashion-mnist package installs there);
  4. torchvision's download into ~/.cache/latent-explorer/<name>/, when the machine is online.
Every file is checked against the SHA-256 of the official, uncompressed file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SYSTEM_DATA_DIR = Path("/usr/share/datasets")
DOWNLOAD_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "latent-explorer"

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# SHA-256 of the official files after decompression.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
# "folder": your own images, a folder with one subfolder per class (image_folder.py; --data-dir names it)
DATASETS = (*SHA256, "folder")

# Size of each official file after decompression, the same for both datasets: the IDX header (4 bytes, then 4 per
# dimension) + one byte per value (60,000 or 10,000 images of 28 x 28, or as many labels).
EXPECTED_BYTES = {
    "train-images-idx3-ubyte": 16 + 60_000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60_000,
    "t10k-images-idx3-ubyte": 16 + 10_000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10_000,
}

# IDX type codes (http://yann.lecun.com/exdb/mnist/): only unsigned bytes occur in these datasets.
_IDX_DTYPES = {0x08: np.uint8}


class DatasetError(RuntimeError):
    """A dataset that is missing, truncated or not the official one. The message says what to do."""


@dataclass(frozen=True)
class Dataset:
    name: str
    train_images: torch.Tensor  # [60000, 28, 28] uint8
    train_labels: torch.Tensor  # [60000] uint8
    test_images: torch.Tensor  # [10000, 28, 28] uint8
    test_labels: torch.Tensor  # [10000] uint8
    source: str  # the folder the files came from
    sha256: dict  # file name -> SHA-256 of its uncompressed bytes
    classes: tuple[str, ...] = ()  # a folder of images: its class names (the IDX datasets' are CLASS_NAMES)
    info: dict = field(default_factory=dict)  # what config.json's "data" records besides name, sha256, n_train
    skipped: tuple[str, ...] = ()  # a folder of images: the files not used, "path: why" each

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.classes or CLASS_NAMES[self.name]


def parse_idx(raw: bytes, what: str = "IDX data") -> np.ndarray:
    """Parse an IDX file: 2 zero bytes, a type code, the number of dimensions, big-endian int32 sizes, data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetError(f"{what}: not an IDX file (bad magic number)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise DatasetError(f"{what}: unsupported IDX type code 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{what}: truncated IDX header")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    n = int(np.prod(shape)) if shape else 0
    if len(raw) - header != n:
        raise DatasetError(f"{what}: truncated or oversized: header says {n} values, file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=_IDX_DTYPES[type_code], offset=header).reshape(shape)


def read_raw(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of an IDX file, decompressing .gz; a damaged archive raises DatasetError.

    With max_bytes, a file (or an archive's content) longer than that is refused having read at most
    max_bytes + 1 bytes: a small gzip can hold gigabytes of zeros, and must not take the memory to find out.
    """
    limit = -1 if max_bytes is None else max_bytes + 1
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read(limit)
        else:
            if max_bytes is not None and path.stat().st_size > max_bytes:
                raise DatasetError(f"{path}: {path.stat().st_size:,} bytes, larger than the official file "
                                   f"({max_bytes:,}); it is not the official data")
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DatasetError(f"{path}: cannot be read ({e}); the file is damaged or truncated") from e
    if max_bytes is not None and len(raw) > max_bytes:
        raise DatasetError(f"{path}: decompresses to more than the official file's {max_bytes:,} bytes; "
                           "it is damaged or not the official data")
    return raw


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz", folder / "raw" / stem, folder / "raw" / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where load_dataset looks, in order (before any download)."""
    dirs: list[Path] = []
    explicit = data_dir or os.environ.get("VAE_DATA_DIR")
    if explicit:
        # Accept either the dataset folder itself or a parent holding <name>/.
        dirs += [Path(explicit) / name, Path(explicit)]
    dirs += [REPO_DATA_DIR / name, SYSTEM_DATA_DIR / name, DOWNLOAD_DIR / name]
    return dirs


def _load_from(name: str, folder: Path) -> Dataset:
    arrays, hashes = {}, {}
    for stem in FILES:
        path = _find_file(folder, stem)
        raw = read_raw(path, EXPECTED_BYTES[stem])
        digest = hashlib.sha256(raw).hexdigest()
        if digest != SHA256[name][stem]:
            raise DatasetError(
                f"{path}: SHA-256 {digest[:16]}... does not match the official {name} file "
                f"({SHA256[name][stem][:16]}...). The file is damaged or is not {name}; "
                f"delete it and get the official files again."
            )
        arrays[stem], hashes[stem] = parse_idx(raw, str(path)), digest
    return Dataset(
        name=name,
        train_images=torch.from_numpy(arrays["train-images-idx3-ubyte"].copy()),
        train_labels=torch.from_numpy(arrays["train-labels-idx1-ubyte"].copy()),
        test_images=torch.from_numpy(arrays["t10k-images-idx3-ubyte"].copy()),
        test_labels=torch.from_numpy(arrays["t10k-labels-idx1-ubyte"].copy()),
        source=str(folder),
        sha256=hashes,
    )


def _download(name: str) -> Path:
    """Fetch the official files with torchvision (needs a network); returns the folder holding them."""
    from torchvision import datasets  # imported here: only the online path needs it

    root = DOWNLOAD_DIR / name
    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    for train in (True, False):
        cls(str(root), train=train, download=True)
    return root / cls.__name__ / "raw"


def _missing_message(name: str, dirs: list[Path], download_error: Exception | None) -> str:
    looked = "\n".join(f"  - {d}" for d in dirs)
    how = (
        "Get it with: sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu), or put the four official "
        "IDX files (raw or .gz) in a folder and pass --data-dir / set VAE_DATA_DIR."
        if name == "fashion-mnist"
        else "Put the four official MNIST IDX files (raw or .gz) in a folder and pass --data-dir / set VAE_DATA_DIR."
    )
    tail = f"\nThe download failed too: {download_error}" if download_error else ""
    return f"The {name} dataset was not found. Looked in:\n{looked}\n{how}{tail}"


@lru_cache(maxsize=4)
def load_dataset(name: str = "mnist", data_dir: str | None = None, download: bool = True) -> Dataset:
    """Load a dataset into memory (cached per process). Raises DatasetError with a clear message."""
    if name not in SHA256:
        if name in DATASETS:  # "folder": read by image_folder.load_image_folder, with its split
            raise DatasetError(f"the {name} dataset is a folder of your images: give it with --data-dir DIR")
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    dirs = candidate_dirs(name, data_dir)
    for folder in dirs:
        if all(_find_file(folder, stem) for stem in FILES):
            return _load_from(name, folder)
    download_error = None
    if download:
        try:
            return _load_from(name, _download(name))
        except Exception as e:  # no network, a proxy, a half-written cache: all end in the same advice
            download_error = e
    raise DatasetError(_missing_message(name, dirs, download_error))


# none: grey levels; dynamic: a fresh Bernoulli draw of every training image each epoch (Burda et al. 2016);
# static: one draw of the training set, kept for the whole run. The test set is binarized once, seeded.
BINARIZATIONS = ("none", "dynamic", "static")
_BINARIZE_CHUNK = 8192  # images per draw: the uniforms of a chunk take 26 MB, whatever the dataset's size


def binarize(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """uint8 grey levels -> uint8 in {0, 255}: each pixel on with probability its grey level, x_b ~ Bernoulli(x).
    The draws come from `generator` (on the images' device), chunk after chunk in order."""
    out = torch.empty_like(images)
    for start in range(0, len(images), _BINARIZE_CHUNK):
        chunk = images[start : start + _BINARIZE_CHUNK]
        u = torch.rand(chunk.shape, generator=generator, device=chunk.device)
        out[start : start + _BINARIZE_CHUNK] = (u * 255 < chunk).to(torch.uint8).mul_(255)  # P = grey / 255
    return out


def binarized_test_images(images: torch.Tensor, mode: str, seed: int) -> torch.Tensor:
    """The test images a run is measured on: as they are (mode "none"), or binarized once with `seed`."""
    if mode == "none":
        return images
    return binarize(images, torch.Generator(device=images.device).manual_seed(seed))


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 28, 28] -> float32 [B, 1, 28, 28] in [0, 1]."""
    return images.unsqueeze(1).float().div_(255.0)
