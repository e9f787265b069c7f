"""Range checks for the command lines' flags, each failing with one line that names the flag.

argparse turns "inf", "nan" and a 23-digit seed into a float or int without complaint; what they then break
(a crash at save, an overflow in torch.manual_seed, a misleading "lower the learning rate") is far from the
flag. Checked here, right after parsing, the message says which flag and what it accepts.
"""

from __future__ import annotations

import math

MAX_SEED = 2**63 - 1  # torch.manual_seed takes a signed 64-bit integer


class FlagError(ValueError):
    """A flag's value out of range; the message names the flag."""


def int_in(flag: str, value: int | None, lo: int, hi: int) -> None:
    if value is not None and not lo <= value <= hi:
        shown = str(value) if len(str(value)) <= 24 else f"a {len(str(abs(value)))}-digit number"
        bound = f"at least {lo:,}" if value < lo else f"at most {hi:,}"
        raise FlagError(f"{flag} must be {bound} (an integer in {lo:,}..{hi:,}), got {shown}")


def number_in(flag: str, value: float, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> None:
    """lo <= value <= hi (or < at an open end), and finite."""
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        lo_s, hi_s = ("(" if lo_open else "[") + f"{lo:g}", f"{hi:g}" + (")" if hi_open else "]")
        raise FlagError(f"{flag} must be a finite number in {lo_s}, {hi_s}, got {value:g}")


def int_list(flag: str, what: str, text: str, lo: int, hi: int, *, min_len: int = 1, max_len: int = 32,
             example: str = "512,256") -> tuple[int, ...]:
    """'512,256' -> (512, 256): comma-separated integers, each in lo..hi, between min_len and max_len of them."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not min_len <= len(parts) <= max_len or not all(p.isdigit() and len(p) <= 9 for p in parts):
        count = f"{min_len}" if min_len == max_len else f"{min_len} to {max_len}"
        raise FlagError(f"{flag} must be {count} comma-separated integers in {lo}..{hi}, e.g. {example}")
    values = tuple(int(p) for p in parts)
    for v in values:
        if not lo <= v <= hi:
            raise FlagError(f"{what} must be {lo}..{hi}, got {v} ({flag})")
    return values
