"""What the load benches measure besides their sessions' actions, and how they print it.

Stats collects the actions' latencies; Sampler, machine_busy and the server's own run log (bench/timed_server.py)
measure the machine; print_outcome and add_session_args are the lines and options bench/load.py and
bench/load_protocol.py share.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cold_start import cpu_seconds, percentile, process_tree, rss_mib


@dataclass
class Stats:
    on_screen: dict[str, list[float]] = field(default_factory=dict)  # action kind -> ms
    server: dict[str, list[float]] = field(default_factory=dict)  # action kind -> ms
    page_loads: list[float] = field(default_factory=list)  # s, from goto to map and image shown
    errors: list[str] = field(default_factory=list)
    training: dict = field(default_factory=dict)
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (s since the class started, ms) per action

    def add(self, kind: str, on_screen_ms: float, server_ms: float | None) -> None:
        self.on_screen.setdefault(kind, []).append(on_screen_ms)
        if server_ms is not None:
            self.server.setdefault(kind, []).append(server_ms)


def summarise(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": math.nan, "p95": math.nan, "max": math.nan}
    return {"n": len(values), "median": statistics.median(values), "p95": percentile(values, 0.95), "max": max(values)}


class Sampler(threading.Thread):
    """Every `every` seconds: the server tree's resident memory (keeping the peak), and the CPU seconds of this
    script's other children (Playwright's driver and Chromium, whose processes come and go with the pages)."""

    def __init__(self, server_pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.server_pid, self.every, self.peak_mib = server_pid, every, 0.0
        self._browser_cpu: dict[int, float] = {}
        self._halt = threading.Event()

    def _sample(self) -> None:
        server = process_tree(self.server_pid)
        self.peak_mib = max(self.peak_mib, rss_mib(self.server_pid))
        for pid in set(process_tree(os.getpid())[1:]) - set(server):  # [0] is this script itself
            self._browser_cpu[pid] = max(self._browser_cpu.get(pid, 0.0), cpu_seconds(pid, children=False))

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self._sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self._sample()

    @property
    def browser_cpu_s(self) -> float:
        return sum(self._browser_cpu.values())


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def server_exceptions(log: str) -> list[str]:
    """The last line of each traceback in the server's log, leaving out a browser context closing its websocket
    while the server still writes to it (Starlette reports that, and it is how every session here ends)."""
    out = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        last = next((line for line in block.splitlines() if line and not line.startswith(" ")), "?")
        if "WebSocketDisconnected" not in last and "During handling" not in last:
            out.append(last.strip()[:200])
    return out


def server_runs(log: Path, since: float) -> dict:
    """Durations of the script runs the server timed itself (bench/timed_server.py), full runs and fragment
    runs apart, each session's first run (its page load) left out: the server's share of each action,
    without the browsers' time."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    first: set = set()
    # A session's first run is its page load (timed apart, in the browser), not an action.
    rows = [r for r in rows if r["session"] in first or first.add(r["session"])]
    rows = [r for r in rows if r["end"] >= since]
    return {kind: summarise([r["ms"] for r in rows if r["fragment"] == frag])
            for kind, frag in (("full", False), ("fragment", True))} | {"all": summarise([r["ms"] for r in rows])}


def print_outcome(args, stats: Stats, measured: dict, others_cpu: str) -> None:
    """The lines both load benches end with: errors, the server's memory, the CPU, the training."""
    print(f"  errors: {len(stats.errors)}")
    for e in stats.errors[:15]:
        print(f"    {e}")
    if len(stats.errors) > 15:
        print(f"    ... and {len(stats.errors) - 15} more")
    print(f"  server peak memory: {measured['server_peak_rss_mib']:.0f} MiB resident (sampled), "
          f"VmHWM {measured['server_vmhwm_mib']:.0f} MiB")
    print(f"  CPU seconds in {measured['wall_s']:.0f} s: server {measured['server_cpu_s']:.0f}, {others_cpu}; "
          f"the machine's {os.cpu_count()} CPUs {100 * measured['machine_busy']:.0f}% busy")
    if args.train:
        t = stats.training
        state = f"finished in {t['seconds']:.0f} s" if t.get("finished") else "NOT finished"
        print(f"  training: {state} ({t.get('message')})")


def add_session_args(ap: argparse.ArgumentParser) -> None:
    """The options both load benches take, after their own count of sessions and actions."""
    ap.add_argument("--think", type=float, default=1.0, help="mean seconds between a session's actions (default 1)")
    ap.add_argument("--ramp", type=float, default=0.0, help="spread the sessions' arrivals over this many seconds")
    ap.add_argument("--no-train", dest="train", action="store_false", help="no training session")
    ap.add_argument("--action-timeout", type=float, default=30.0, help="seconds before an action counts as failed")
    ap.add_argument("--load-timeout", type=float, default=180.0, help="seconds allowed for a page load")
    ap.add_argument("--train-timeout", type=float, default=900.0, help="seconds allowed for the training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chromium", help="the Chromium binary (default /usr/bin/chromium)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--quiet", dest="progress", action="store_false", help="no progress lines")
