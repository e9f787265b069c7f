"""Memory of reading an uploaded picture (dashboard/drawing.py): the server process's own peak while one picture,
then several at once, are read. Each case runs in a fresh process, so one case's peak does not hide another's.

    python bench/upload_memory.py

A small file can hold a huge picture (a flat 16-bit RGBA PNG of 4096 x 4096 is 150 kB of file and 128 MB of
pixels): the reader checks the decoded size from the header, decodes a JPEG already reduced, reduces the rest
strip by strip, and decodes at most drawing.DECODES pictures at once.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

CHILD = """
import sys, threading, time
from dashboard import drawing
from tests.peak_memory import peak_kib
data, copies = open(sys.argv[1], "rb").read(), int(sys.argv[2])
outcomes = []
def read():
    try:
        drawing.preprocess(data); outcomes.append("read")
    except drawing.DrawingError as e:
        outcomes.append("refused")
before, t = peak_kib(), time.perf_counter()
threads = [threading.Thread(target=read) for _ in range(copies)]
for th in threads: th.start()
for th in threads: th.join()
print(outcomes[0], (peak_kib() - before) / 1024, time.perf_counter() - t)
"""


def flat_png(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    """A flat PNG of any size, compressed row by row (what an attacker sends: tiny file, huge picture)."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
    samples = {0: 1, 2: 3, 6: 4}[colour_type]
    comp = zlib.compressobj(9)
    row = b"\0" + b"\x40" * (width * samples * bit_depth // 8)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def stroke(path: Path, size: tuple[int, int], mode: str, fmt: str) -> Path:
    img = Image.new("L", size, 255)
    w, h = size
    img.paste(0, (int(w * 0.45), int(h * 0.2), int(w * 0.55), int(h * 0.8)))
    img.convert(mode).save(path, format=fmt)
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bomb.png").write_bytes(flat_png(4096, 4096, 16, 6))
        cases = [
            ("16-bit RGBA PNG 4096 x 4096 (150 kB)", tmp / "bomb.png"),
            ("RGBA PNG 3200 x 3200", stroke(tmp / "rgba.png", (3200, 3200), "RGBA", "PNG")),
            ("RGB PNG 3200 x 3200", stroke(tmp / "rgb.png", (3200, 3200), "RGB", "PNG")),
            ("palette PNG 4000 x 4000", stroke(tmp / "p.png", (4000, 4000), "P", "PNG")),
            ("JPEG photo 4032 x 3024", stroke(tmp / "photo.jpg", (4032, 3024), "RGB", "JPEG")),
            ("grey PNG 280 x 280 (the pad)", stroke(tmp / "pad.png", (280, 280), "L", "PNG")),
        ]
        print("| picture | file | outcome | peak, 1 upload | peak, 4 at once | time, 1 |")
        print("|---|---|---|---|---|---|")
        for name, path in cases:
            rows = []
            for copies in (1, 4):
                out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(copies)], cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout.split()
                rows.append(out)
            (outcome, one_mb, one_s), (_, four_mb, _) = rows
            print(f"| {name} | {path.stat().st_size / 1024:.0f} kB | {outcome} | {float(one_mb):.0f} MB "
                  f"| {float(four_mb):.0f} MB | {float(one_s) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
