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
import logging
import math
import threading
import warnings
import zlib

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_MB = 2  # the uploader's max_upload_size (server.maxUploadSize is the larger limit of the zip upload)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MIN_SIDE = 8  # px: smaller pictures hold no readable digit
MAX_SIDE = 4096  # px: a phone photo (4032 x 3024) fits; a 10,000 x 10,000 picture is refused before decoding
MAX_PIXELS = 16_800_000
FORMATS = ("PNG", "JPEG")
# Memory: PIL holds a decoded picture at its mode's pixel size (1 byte for grey or a palette, 2 for 16-bit grey,
# 4 for colour); a picture larger than this once decoded is refused. Then it is reduced to WORK_SIDE before any
# float copy, so one upload stays under 64 MB (bench/upload_memory.py).
DECODE_BUDGET = 40 * 2**20
WORK_SIDE = 1024
PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}
STRIP_ROWS = 256  # rows of the picture reduced at a time
DECODES = 2  # pictures decoded at once in one server process
DECODE_WAIT_S = 20.0
_decoding = threading.BoundedSemaphore(DECODES)

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
    """PNG or JPEG file bytes -> a grey image, float32 [H, W] in [0, 1] (0 = black), at most WORK_SIDE a side.

    Transparent pixels are laid on white; if that leaves no contrast (white ink on transparency), on black.
    A small file can hold a huge picture (a solid 4096 x 4096 PNG is 150 KB): the decoded size is checked from
    the header before decoding, a JPEG is decoded already reduced, and at most DECODES pictures are decoded at
    once in this process, so memory stays bounded whatever the class uploads.
    """
    if not data:
        raise DrawingError("The file is empty.")
    if len(data) > max_bytes:
        raise DrawingError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    if not _decoding.acquire(timeout=DECODE_WAIT_S):
        raise DrawingError("The server is busy reading other pictures; try again in a moment.")
    try:
        return _grey(_decode(data))
    finally:
        _decoding.release()


def _decode(data: bytes) -> Image.Image:
    """The picture, decoded within the memory budget and reduced to at most WORK_SIDE a side."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size checks below are stricter
            img = Image.open(io.BytesIO(data))  # reads the header only
            if img.format not in FORMATS:
                raise DrawingError(f"This is a {img.format} image; upload a PNG or a JPEG.")
            w, h = img.size
            if w < MIN_SIDE or h < MIN_SIDE:
                raise DrawingError(f"The picture is only {w} × {h} pixels; it needs at least {MIN_SIDE} × {MIN_SIDE}.")
            if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
                raise DrawingError(f"The picture is {w:,} × {h:,} pixels; the limit is {MAX_SIDE:,} pixels a side. "
                                   "Crop or shrink it first.")
            if img.format == "JPEG":
                img.draft(img.mode, (WORK_SIDE, WORK_SIDE))  # the decoder scales by 1/2, 1/4 or 1/8 as it reads
            if decoded_bytes(img) > DECODE_BUDGET:
                raise DrawingError(f"The picture is {w:,} × {h:,} pixels: {decoded_bytes(img) / 2**20:.0f} MB once "
                                   f"decoded, over the {DECODE_BUDGET / 2**20:.0f} MB limit. Crop or shrink it, "
                                   "or save it as a JPEG.")
            img.load()
    except DrawingError:
        raise
    except UnidentifiedImageError:
        raise DrawingError("This file is not a picture that can be read; upload a PNG or a JPEG.") from None
    except Image.DecompressionBombError:
        raise DrawingError(f"The picture has too many pixels; the limit is {MAX_SIDE:,} pixels a side. "
                           "Crop or shrink it first.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        logging.getLogger(__name__).info("an unreadable picture", exc_info=True)  # the decoder's words: the log
        raise DrawingError("The picture is damaged and cannot be read; upload a PNG or a JPEG.") from None
    factor = math.ceil(max(img.size) / WORK_SIDE)
    return _reduce(img, factor) if factor > 1 else img


def _reduce(img: Image.Image, factor: int) -> Image.Image:
    """The picture shrunk by `factor` (a box filter: the digit is 20 px in the end), strip by strip, so that no
    whole-picture copy is made (converting a palette or 16-bit picture, or Image.reduce premultiplying RGBA)."""
    mode = _work_mode(img)
    w, h = img.size
    out = Image.new(mode, (math.ceil(w / factor), math.ceil(h / factor)))
    rows = factor * max(1, STRIP_ROWS // factor)
    for y in range(0, h, rows):
        strip = img.crop((0, y, w, min(h, y + rows)))
        out.paste((strip if strip.mode == mode else strip.convert(mode)).reduce(factor), (0, y // factor))
    return out


def _work_mode(img: Image.Image) -> str:
    """The mode _grey reads a picture in: RGBA where there is transparency, 32-bit for 16-bit grey."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return "RGBA"
    if img.mode.startswith("I"):
        return "I"
    return img.mode if img.mode in ("L", "RGB", "F") else "L"


def decoded_bytes(img: Image.Image) -> int:
    """The bytes PIL allocates to hold the decoded picture (its mode's pixel size), known from the header."""
    return img.size[0] * img.size[1] * PIXEL_BYTES.get(img.mode, 4)


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
    image = Image.fromarray(np.ascontiguousarray(patch, dtype=np.float32), mode="F")
    out = image.resize(size, Image.Resampling.LANCZOS)
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
    return np.round(out * 255) / np.float32(255)  # 8 bits a pixel, as MNIST stores its digits: a link holds it exactly


def preprocess(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """PNG/JPEG bytes -> MNIST-like float32 [28, 28]. Raises DrawingError with a message for the user."""
    return to_mnist(read_image(data, max_bytes))


DIGIT_TEXT_MAX = 1500  # characters: a drawn digit's text is ~150-400 (most of the 28 x 28 field is blank)


def digit_text(pixels: np.ndarray) -> str:
    """A 28 x 28 digit in [0, 1] -> URL-safe text: its 784 bytes (8 bits a pixel), deflated, base64url."""
    raw = np.clip(np.round(np.asarray(pixels, np.float64) * 255), 0, 255).astype(np.uint8).reshape(FIELD * FIELD)
    return base64.urlsafe_b64encode(zlib.compress(raw.tobytes(), 9)).decode("ascii").rstrip("=")


def digit_from_text(text: str) -> np.ndarray | None:
    """digit_text's inverse: float32 [28, 28], or None for text that is not one digit's (too long, not base64url,
    not deflate, or not exactly 784 bytes once inflated: a bomb stops at 785)."""
    if not 0 < len(text) <= DIGIT_TEXT_MAX or not text.isascii():
        return None
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflate = zlib.decompressobj()
        raw = inflate.decompress(packed, FIELD * FIELD + 1)
    except (ValueError, zlib.error):
        return None
    if len(raw) != FIELD * FIELD or inflate.unconsumed_tail or not inflate.eof:
        return None
    return (np.frombuffer(raw, np.uint8).reshape(FIELD, FIELD) / np.float32(255)).astype(np.float32)
