"""MNIST-style pre-processing of drawn and uploaded digits (dashboard/drawing.py), and bad uploads."""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import drawing  # noqa: E402
from dashboard.drawing import DrawingError  # noqa: E402


def png(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format="PNG")
    return buf.getvalue()


def canvas(size: int = 280) -> np.ndarray:
    return np.zeros((size, size), np.float32)


def disc(img: np.ndarray, cy: float, cx: float, r: float, value: float = 1.0) -> np.ndarray:
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = value
    return img


def ring(img, cy, cx, r, width):
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    img[np.abs(d - r) <= width / 2] = 1.0
    return img


def ink_box(img: np.ndarray, level: float = 0.05) -> tuple[int, int]:
    rows, cols = np.flatnonzero((img > level).any(1)), np.flatnonzero((img > level).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# --- the pre-processing --------------------------------------------------------------------------


def test_a_centred_stroke_lands_centred_and_20_px_tall():
    img = ring(canvas(), 140, 140, 90, 22)  # an "0" drawn in the middle of the canvas
    out = drawing.to_mnist(img)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.9
    cy, cx = drawing.centre_of_mass(out)
    assert abs(cy - 14.0) <= 0.5 and abs(cx - 14.0) <= 0.5
    h, w = ink_box(out)
    assert max(h, w) in (20, 21)  # 20 px plus at most a faint Lanczos fringe
    assert out[0].max() == out[-1].max() == out[:, 0].max() == out[:, -1].max() == 0


def test_an_off_centre_stroke_is_moved_to_the_centre_of_mass():
    img = canvas(400)
    img[30:150, 300:318] = 1.0  # a "1" in the top right corner
    out = drawing.to_mnist(img)
    cy, cx = drawing.centre_of_mass(out)
    assert abs(cy - 14.0) <= 0.5 and abs(cx - 14.0) <= 0.5
    h, w = ink_box(out)
    assert h in (20, 21) and w <= 5  # the longer side is 20 px, the aspect ratio is kept


def test_a_lopsided_digit_is_centred_by_mass_not_by_box():
    img = canvas()
    img[40:56, 60:240] = 1.0  # the top bar of a "7"
    img[56:240, 222:240] = 1.0  # and its stem
    out = drawing.to_mnist(img)
    cy, cx = drawing.centre_of_mass(out)
    assert abs(cy - 14.0) <= 0.5 and abs(cx - 14.0) <= 0.5
    rows = np.flatnonzero((out > 0.3).any(1))
    assert rows[-1] - rows[0] + 1 == 20
    assert (rows[0] + rows[-1]) / 2 > 14.5, "the box sits low, so that the top-heavy mass is in the middle"


def test_an_extreme_digit_is_never_cut_off():
    """Centring by mass would push this one over the edge; it stops at the edge with all its ink."""
    img = canvas()
    img[40:70, 40:240] = 1.0  # a heavy bar
    img[70:240, 225:240] = 1.0  # a thin stem
    out = drawing.to_mnist(img)
    rows = np.flatnonzero((out > 0.3).any(1))
    assert rows[-1] - rows[0] + 1 == 20 and rows[-1] == 27
    assert drawing.centre_of_mass(out)[0] < 14.0


def test_the_inverted_picture_gives_the_same_result():
    rng = np.random.default_rng(0)
    img = ring(canvas(), 120, 150, 70, 18)
    img[200:260, 100:120] = 0.8
    img = np.clip(img + rng.uniform(0, 0.05, img.shape), 0, 1).astype(np.float32)  # a little paper noise
    direct = drawing.to_mnist(img)
    inverted = drawing.to_mnist(1.0 - img)  # dark ink on white paper
    np.testing.assert_allclose(inverted, direct, atol=1e-6)
    # and as files: white-on-black and black-on-white PNGs
    u8 = (img * 255).round().astype(np.uint8)
    a, b = drawing.preprocess(png(u8)), drawing.preprocess(png(255 - u8))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_an_mnist_digit_survives_the_round_trip(mnist):
    """A test digit blown up 10x and inverted, as a user might upload it, comes back close to the original."""
    for i in range(5):
        orig = mnist.test_images[i].numpy()
        big = 255 - np.kron(orig, np.ones((10, 10), np.uint8))
        out = drawing.preprocess(png(big))
        corr = np.corrcoef(out.ravel(), orig.ravel().astype(np.float32))[0, 1]
        assert corr > 0.8, f"test image {i}: correlation {corr:.2f}"


def test_black_ink_on_a_transparent_background():
    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[50:150, 90:110] = (0, 0, 0, 255)
    out = drawing.preprocess(png(rgba, "RGBA"))
    grey = np.full((200, 200), 255, np.uint8)
    grey[50:150, 90:110] = 0
    np.testing.assert_allclose(out, drawing.preprocess(png(grey)), atol=1e-6)


def test_white_ink_on_a_transparent_background():
    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[50:150, 90:110] = (255, 255, 255, 255)
    out = drawing.preprocess(png(rgba, "RGBA"))
    assert out.max() > 0.9 and abs(drawing.centre_of_mass(out)[0] - 14) <= 0.5


def test_a_colour_jpeg_photo_of_a_digit():
    rgb = np.full((300, 240, 3), (235, 228, 210), np.uint8)  # cream paper
    rgb[60:240, 110:135] = (20, 30, 90)  # blue ink
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=85)
    out = drawing.preprocess(buf.getvalue())
    h, w = ink_box(out, 0.3)
    assert h == 20 and w <= 5


def test_the_canvas_data_url():
    img = (disc(canvas(), 140, 140, 60) * 255).astype(np.uint8)
    url = "data:image/png;base64," + base64.b64encode(png(img)).decode()
    assert drawing.centre_of_mass(drawing.to_mnist(drawing.read_data_url(url)))[0] == pytest.approx(14, abs=0.5)
    for bad in ("", "hello", "data:image/png;base64,!!!", "data:text/plain;base64,aGVsbG8="):
        with pytest.raises(DrawingError):
            drawing.read_data_url(bad)


# --- bad input: a clear message, never a crash ------------------------------------------------------


def big_png(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    """A valid PNG of one flat colour of any size (grey by default; colour type 6 is RGBA), built row by row so
    it costs no memory (about 100 kB here)."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    comp, row, parts = zlib.compressobj(9), b"\0" + b"\x40" * (width * samples * bit_depth // 8), []
    for _ in range(height):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def huge_png():
    return big_png(10_000, 10_000)


def good_png() -> bytes:
    return png((ring(canvas(), 140, 140, 80, 20) * 255).astype(np.uint8))


@pytest.mark.parametrize("make, message", [
    (lambda: png(np.zeros((280, 280), np.uint8)), "empty"),  # an empty (black) canvas
    (lambda: png(np.full((280, 280), 255, np.uint8)), "empty"),  # a blank white page
    (lambda: png(np.full((280, 280), 128, np.uint8)), "empty"),  # flat grey
    (lambda: png(np.zeros((1, 1), np.uint8)), "1 × 1"),
    (lambda: b"", "empty"),
    (lambda: b"just some text, not a picture\n" * 20, "not a picture"),
    (lambda: good_png()[:200], "damaged"),  # a truncated PNG
    (lambda: good_png()[:60] + bytes(200) + good_png()[260:], "damaged"),  # a PNG with bytes overwritten
    (lambda: _gif(), "GIF"),
    (lambda: b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20), "limit is 2 MB"),  # over the upload limit
], ids=["black-canvas", "white-page", "grey", "1x1", "no-bytes", "text", "truncated", "corrupt", "gif", "too-big"])
def test_bad_input_gives_a_clear_message(make, message):
    with pytest.raises(DrawingError, match=message) as info:
        drawing.preprocess(make())
    assert len(str(info.value)) < 200 and "Traceback" not in str(info.value)


def test_a_10000_by_10000_picture_is_refused_before_decoding(huge_png):
    assert len(huge_png) < drawing.MAX_UPLOAD_BYTES  # it compresses well: only the pixel count can refuse it
    with pytest.raises(DrawingError, match="10,000 × 10,000"):
        drawing.preprocess(huge_png)


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(buf, format="GIF")
    return buf.getvalue()


def test_a_tiny_but_valid_picture_works():
    img = np.zeros((8, 8), np.uint8)
    img[1:7, 3:5] = 255
    out = drawing.preprocess(png(img))
    assert ink_box(out, 0.3)[0] == 20


def test_a_small_file_that_decodes_to_a_huge_picture_is_refused_from_its_header():
    bomb = big_png(4096, 4096, bit_depth=16, colour_type=6)  # 16-bit RGBA: about 150 kB of file
    assert len(bomb) < 200_000
    with pytest.raises(DrawingError, match=r"4,096 × 4,096 pixels: 64 MB once decoded, over the 40 MB limit"):
        drawing.preprocess(bomb)


PEAK_CHILD = """
import sys
from dashboard import drawing
from tests.peak_memory import peak_kib
data = open(sys.argv[1], "rb").read()
before = peak_kib()
try:
    drawing.preprocess(data)
    outcome = "read"
except drawing.DrawingError:
    outcome = "refused"
print(outcome, peak_kib() - before)
"""


def _photo(tmp_path: Path, name: str, size: tuple[int, int], mode: str, fmt: str) -> Path:
    """A large picture of a stroke, saved to a file (made in this process, read in a child)."""
    img = Image.new("L", size, 255)
    w, h = size
    img.paste(0, (int(w * 0.45), int(h * 0.2), int(w * 0.55), int(h * 0.8)))
    path = tmp_path / name
    img.convert(mode).save(path, format=fmt)
    return path


@pytest.mark.parametrize("name, size, mode, fmt, outcome", [
    ("bomb.png", None, None, None, "refused"),
    ("rgba.png", (3200, 3200), "RGBA", "PNG", "read"),  # just under the decode budget, with a premultiplying reduce
    ("palette.png", (4000, 4000), "P", "PNG", "read"),  # 1 byte a pixel, converted strip by strip
    ("photo.jpg", (4032, 3024), "RGB", "JPEG", "read"),  # a phone photo, decoded already reduced
])
def test_one_upload_peaks_under_64_mb(tmp_path, name, size, mode, fmt, outcome):
    """The process's own peak memory while one picture is read, measured in a fresh process."""
    if size is None:
        path = tmp_path / name
        path.write_bytes(big_png(4096, 4096, bit_depth=16, colour_type=6))
    else:
        path = _photo(tmp_path, name, size, mode, fmt)
    run = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    got, grown_kib = run.stdout.split()
    assert got == outcome
    assert int(grown_kib) <= 64 * 1024, f"{name}: {int(grown_kib) / 1024:.0f} MB"


def test_pictures_are_decoded_a_few_at_a_time_and_a_long_wait_is_one_line(monkeypatch):
    inside, most, lock, release = [0], [0], threading.Lock(), threading.Event()
    real = drawing._decode

    def held_decode(data):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            assert release.wait(60)
            return real(data)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(drawing, "_decode", held_decode)
    picture, results = good_png(), []
    threads = [threading.Thread(target=lambda: results.append(drawing.preprocess(picture))) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while inside[0] < drawing.DECODES and time.monotonic() < deadline:
        time.sleep(0.01)
    assert inside[0] == drawing.DECODES  # the others wait for a slot
    monkeypatch.setattr(drawing, "DECODE_WAIT_S", 0.05)
    with pytest.raises(DrawingError, match="busy"):
        drawing.preprocess(picture)
    release.set()
    for t in threads:
        t.join(60)
    assert len(results) == 4 and most[0] == drawing.DECODES
