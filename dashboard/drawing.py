"""Turn a drawing or an uploaded picture into an MNIST-like 28 x 28 image (no Streamlit here).

MNIST's digits were made like this (LeCun et al.): white ink on black, the digit scaled so that its longer
side is 20 pixels, then placed in a 28 x 28 field so that its centre of mass is at the centre (pixel 14, 14).
`to_mnist` does the same to any grey image:

    1. ink polarity  the background is the median of the border pixels; dark ink on a light background is inverted
    2. contrast      background -> 0, the strongest ink -> 1; faint noise (< 0.15) is dropped
    3. crop          to the bounding box of the ink
    4. scale         the longer side to 20 px (Lanczos, aspect ratio kept)
    5. centre        by centre of mass in 28 x 28, a whole-pixel shift as in MNIST, never cutting ink off

Anything that cannot become a digit raises DrawingError with a message for the user: an empty image, a file
that is not a PNG/JPEG, a corrupt or truncated one, one too small or too large.
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_MB = 2  # also server.maxUploadSize in .streamlit/config.toml and the uploader's max_upload_size
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MIN_SIDE = 8  # px: smaller pictures hold no readable digit
MAX_SIDE = 4096  # px: a phone photo (4032 x 3024) fits; a 10,000 x 10,000 picture is refused before decoding
MAX_PIXELS = 16_800_000
FORMATS = ("PNG", "JPEG")

FIELD = 28  # the output is FIELD x FIELD
BOX = 20  # the longer side of the digit
CENTRE = 14.0  # where MNIST's centres of mass lie (0-based pixel coordinates)
NOISE = 0.15  # ink below this (after the contrast stretch) is dropped
INK = 0.3  # ink above this counts for the bounding box
MIN_CONTRAST = 0.15  # less difference than this between background and ink: an empty picture


class DrawingError(ValueError):
    """A picture that cannot be turned into a digit; the message says why, for the user."""


# --- reading -------------------------------------------------------------------------------------


def read_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """PNG or JPEG file bytes -> a grey image, float32 [H, W] in [0, 1] (0 = black).

    Transparent pixels are laid on white; if that leaves no contrast (white ink on transparency), on black.
    """
    if not data:
        raise DrawingError("The file is empty.")
    if len(data) > max_bytes:
        raise DrawingError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size check below is stricter
            img = Image.open(io.BytesIO(data))  # reads the header only
            if img.format not in FORMATS:
                raise DrawingError(f"This is a {img.format} image; upload a PNG or a JPEG.")
            w, h = img.size
            if w < MIN_SIDE or h < MIN_SIDE:
                raise DrawingError(f"The picture is only {w} × {h} pixels; it needs at least {MIN_SIDE} × {MIN_SIDE}.")
            if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
                raise DrawingError(f"The picture is {w:,} × {h:,} pixels; the limit is {MAX_SIDE:,} pixels a side. "
                                   "Crop or shrink it first.")
            img.load()
    except DrawingError:
        raise
    except UnidentifiedImageError:
        raise DrawingError("This file is not a picture that can be read; upload a PNG or a JPEG.") from None
    except Image.DecompressionBombError:
        raise DrawingError(f"The picture has too many pixels; the limit is {MAX_SIDE:,} pixels a side. "
                           "Crop or shrink it first.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise DrawingError(f"The picture is damaged and cannot be read ({e}).") from None
    return _grey(img)


def _grey(img: Image.Image) -> np.ndarray:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        alpha = rgba[..., 3]
        on_white = lum * alpha + (1.0 - alpha)
        if float(np.ptp(on_white)) >= MIN_CONTRAST:
            return on_white.astype(np.float32)
        return (lum * alpha).astype(np.float32)
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = float(arr.max()) if arr.size else 1.0
        return np.clip(arr / (65535.0 if top > 255 else 255.0), 0, 1).astype(np.float32)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def read_data_url(url: str, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """A `data:image/png;base64,...` URL (what the drawing canvas sends) -> grey image, as read_image."""
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
        raise DrawingError("The drawing did not arrive as an image.")
    payload = url.split(";base64,", 1)[1]
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise DrawingError("The drawing is too large.")
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:
        raise DrawingError("The drawing did not arrive as an image.") from None
    return read_image(data, max_bytes)


# --- MNIST-style pre-processing ------------------------------------------------------------------


def border_median(grey: np.ndarray) -> float:
    """The median of the outer ring of pixels (2 px, or 1 on tiny images): the background level."""
    h, w = grey.shape
    k = 2 if min(h, w) >= 8 else 1
    ring = np.concatenate([grey[:k].ravel(), grey[-k:].ravel(), grey[:, :k].ravel(), grey[:, -k:].ravel()])
    return float(np.median(ring))


def ink_map(grey: np.ndarray) -> np.ndarray:
    """A grey image -> ink in [0, 1] on a background of 0, whichever way round the picture was."""
    g = np.asarray(grey, dtype=np.float32)
    if g.ndim != 2 or min(g.shape) < 1:
        raise DrawingError("The picture has no pixels.")
    if not np.isfinite(g).all():
        raise DrawingError("The picture holds invalid values.")
    bg = border_median(g)
    ink, bg = (1.0 - g, 1.0 - bg) if bg > 0.5 else (g, bg)
    top = float(ink.max())
    if top - bg < MIN_CONTRAST:
        raise DrawingError("The picture is empty: there is no ink to read. Draw or upload a digit.")
    ink = np.clip((ink - bg) / (top - bg), 0.0, 1.0)
    ink[ink < NOISE] = 0.0
    return ink.astype(np.float32)


def _resize(patch: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize float [h, w] to (width, height) = size with Lanczos (anti-aliased when shrinking)."""
    out = Image.fromarray(np.ascontiguousarray(patch, dtype=np.float32), mode="F").resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, column) centre of mass of a non-negative image."""
    img = np.asarray(img, dtype=np.float64)
    total = img.sum()
    if total <= 0:
        raise DrawingError("The picture is empty: there is no ink to read. Draw or upload a digit.")
    rows, cols = np.arange(img.shape[0]), np.arange(img.shape[1])
    return float((img.sum(1) * rows).sum() / total), float((img.sum(0) * cols).sum() / total)


def to_mnist(grey: np.ndarray) -> np.ndarray:
    """A grey picture (float [H, W] in [0, 1], either polarity) -> the model's input, float32 [28, 28] in [0, 1]."""
    ink = ink_map(grey)
    rows, cols = np.flatnonzero((ink >= INK).any(1)), np.flatnonzero((ink >= INK).any(0))
    if rows.size == 0:
        raise DrawingError("The picture is empty: there is no ink to read. Draw or upload a digit.")
    patch = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = patch.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = _resize(patch, (nw, nh))
    if small.max() <= 0:
        raise DrawingError("The picture is empty: there is no ink to read. Draw or upload a digit.")
    cy, cx = centre_of_mass(small)
    top = int(np.clip(round(CENTRE - cy), 0, FIELD - nh))
    left = int(np.clip(round(CENTRE - cx), 0, FIELD - nw))
    out = np.zeros((FIELD, FIELD), np.float32)
    out[top : top + nh, left : left + nw] = small
    return out


def preprocess(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """PNG/JPEG bytes -> MNIST-like float32 [28, 28]. Raises DrawingError with a message for the user."""
    return to_mnist(read_image(data, max_bytes))
