"""Durations as the Train page writes them."""

from __future__ import annotations

import math


def format_seconds(s: float | None) -> str:
    """12 s, 3 min 05 s, 1 h 02 min; '–' when unknown."""
    if s is None or not math.isfinite(s):
        return "–"
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
