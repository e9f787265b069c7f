"""How a link's values are written as text and read back: whole numbers, lists of numbers, flags, choices.

Each reader returns None for text that does not fit (url.py turns that into a note); the readers take the
parameter's Fit as a second argument, which these general ones do not need.
"""

from __future__ import annotations

import math
from collections.abc import Callable

MAX_DIGITS = 10  # a link's whole numbers: ASCII digits only (str.isdigit() also takes '²' and '٣'), this many


def whole(s: str) -> int | None:
    """ "42" -> 42; None for anything but 1 to MAX_DIGITS ASCII digits."""
    return int(s) if 0 < len(s) <= MAX_DIGITS and s.isascii() and s.isdigit() else None


def floats(text: str, n: int | None = None) -> list[float] | None:
    """ "1.5,-2" -> [1.5, -2.0]; None when a part is not a finite number or the count is not n."""
    if not text.isascii() or len(text) > 400:  # float() reads '٣' as 3; a link holds a few short numbers
        return None
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        return None
    if not values or (n is not None and len(values) != n) or not all(math.isfinite(v) for v in values):
        return None
    return values


def fmt(values) -> str:
    return ",".join(f"{float(v):g}" for v in values)


def int_in(lo: int, hi: int, shift: int = 0) -> Callable[[str, object], int | None]:
    """A whole number lo <= n <= hi, stored as n + shift."""
    return lambda s, fit: n + shift if (n := whole(s)) is not None and lo <= n <= hi else None


def one_of(*values: str) -> Callable[[str, object], str | None]:
    return lambda s, fit: s if s in values else None


def flag(s: str, fit: object) -> bool | None:
    return s == "1" if s in ("0", "1") else None
