"""Cold start: from `streamlit run dashboard/app.py` to an interactive page in headless Chromium.

    python bench/cold_start.py                 # 3 runs, median
    python bench/cold_start.py --runs 5 --json test-output/cold_start.json
    python bench/cold_start.py --importtime    # also: which imports of the first run cost the most

Each run starts a fresh server process on a free port (the shipped models in pretrained/, an empty models
folder, so a user's trained models do not change the figures) and, as soon as its health endpoint answers, a
fresh browser context (empty cache, a new session) opens the page. Chromium itself is launched once, before
the first run: the students' browsers are already open. All times are from the moment the server process is
started, read on one clock (the page's performance.timeOrigin + now() and Python's time.time()):

server up    /_stcore/health answers (polled every 25 ms)
first paint  the page's first contentful paint (Streamlit's empty shell)
app output   the first element that app.py sends is on the page (the sidebar title)
map drawn    the latent plane holds the decoder and the 10,000 points and has drawn them
             (window.__latentPlane.ready, then one animation frame)
digit shown  the Live map's digit: the page has decoded the ★ with its copy of the decoder and drawn it
             (window.__latentPlane.decodes > 0, then one animation frame)
interactive  the later of "map drawn" and "digit shown"

Chromium runs with --headless --no-sandbox --disable-gpu --disable-background-networking on the same machine,
so on 2 cores the browser and the server compete for the CPU, as they would on a teacher's laptop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.serving import Server, free_port, start_streamlit  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1600, "height": 1200}
MILESTONES = ("server_up", "first_paint", "app_output", "map_drawn", "digit_shown", "interactive")

# Installed before any page script runs: records, on the wall clock (ms since the epoch), when each milestone
# is first seen. A MutationObserver and an animation-frame loop look; neither changes what the page does.
PAGE_PROBE = """(() => {
  const marks = (window.__coldStart = {});
  const wall = () => performance.timeOrigin + performance.now();
  const look = () => {
    if (!marks.app_output && document.querySelector('[data-testid="stSidebar"] h1')) marks.app_output = wall();
    if (!marks._digit && window.__latentPlane && window.__latentPlane.decodes > 0) {
      marks._digit = true;
      requestAnimationFrame(() => { marks.digit_shown = wall(); });
    }
    if (!marks.map_drawn && window.__latentPlane && window.__latentPlane.ready) {
      requestAnimationFrame(() => { marks.map_drawn = marks.map_drawn || wall(); });
    }
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
  const tick = () => { look(); if (!(marks.map_drawn && marks.digit_shown)) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()"""


# --- the server --------------------------------------------------------------------------------


@dataclass
class App(Server):
    """A `streamlit run dashboard/app.py` process started by a bench script, with a folder of its own."""

    tmp: Path  # its private models folder (and the log)

    @property
    def runs_log(self) -> Path:
        return self.tmp / "runs.jsonl"

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values, interpolated linearly between the two nearest ranks (nan when empty)."""
    s = sorted(values)
    if not s:
        return math.nan
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def start_app(extra_env: dict | None = None, python_flags: tuple[str, ...] = (), timed_runs: bool = False,
              script: Path = ROOT / "dashboard" / "app.py", tmp: Path | None = None) -> App:
    """The app (or another page: `script`) on a free port, with an empty models folder of its own. timed_runs:
    through bench/timed_server.py, which logs the duration of every script run to App.runs_log. tmp: the folder
    for the models, the log and what the caller put there first (removed by App.cleanup); default a new one."""
    tmp = tmp or Path(tempfile.mkdtemp(prefix="latent-bench-"))
    (tmp / "models").mkdir(exist_ok=True)
    env = {"LATENT_EXPLORER_MODELS_DIR": str(tmp / "models"), **(extra_env or {})}
    entry = None
    if timed_runs:
        env["LATENT_BENCH_RUN_LOG"] = str(tmp / "runs.jsonl")
        entry = Path(__file__).resolve().parent / "timed_server.py"
    server = start_streamlit(tmp / "server.log", script, env, python_flags, entry)
    return App(server.proc, server.url, server.started, server.log, tmp)


class Class(App):
    """scripts/serve_class.sh: `replicas` app processes behind HAProxy; `proc` is the script, whose process tree
    holds every replica and the proxy (so memory and CPU figures cover them all); its log is the script's output
    followed by every replica's."""

    def log_text(self) -> str:
        logs = [self.log, *sorted(self.tmp.glob("run/replica-*.log"))]
        return "".join(f.read_text(errors="replace") for f in logs if f.exists())


def start_class(replicas: int, extra_env: dict | None = None, timed_runs: bool = False) -> App:
    """scripts/serve_class.sh --replicas N on a free port, with an empty models folder of its own shared by the
    replicas (as in a course); its wait_healthy() waits for the proxy."""
    tmp = Path(tempfile.mkdtemp(prefix="latent-bench-class-"))
    (tmp / "models").mkdir()
    env = {**os.environ, "LATENT_EXPLORER_MODELS_DIR": str(tmp / "models"), "VAE_PYTHON": sys.executable,
           "SERVE_CLASS_RUN_DIR": str(tmp / "run"), **(extra_env or {})}
    if timed_runs:
        env["LATENT_BENCH_RUN_LOG"] = str(tmp / "runs.jsonl")
        env["SERVE_CLASS_ENTRY"] = str(Path(__file__).resolve().parent / "timed_server.py")
        env["TIMED_SERVER_REPLICA"] = "1"
    port = free_port()
    cmd = ["bash", str(ROOT / "scripts" / "serve_class.sh"), "--replicas", str(replicas), "--port", str(port),
           "--bind", "127.0.0.1"]
    started = time.time()
    with open(tmp / "serve_class.out", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Class(proc, f"http://127.0.0.1:{port}", started, tmp / "serve_class.out", tmp)


def chromium_path(given: str | None = None) -> str:
    for candidate in (given, os.environ.get("LATENT_EXPLORER_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("no Chromium found: pass --chromium PATH (Debian: apt-get install chromium)")


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident memory) of a process and its children, summed, in MiB (an upper bound of the
    tree's peak: the children's peaks need not coincide). 0 when the process is gone."""
    return sum(_status_kib(p, "VmHWM") for p in process_tree(pid)) / 1024


def rss_mib(pid: int) -> float:
    """Current resident memory (VmRSS) of a process and its children, in MiB."""
    return sum(_status_kib(p, "VmRSS") for p in process_tree(pid)) / 1024


def parent(pid: int) -> int | None:
    """The parent of a process, read from /proc (None when it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants, read from /proc (psutil is not installed)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (ppid := parent(int(entry.name))) is not None:
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU time of a process (and its living children) so far, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in process_tree(pid) if children else [pid]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- one run -----------------------------------------------------------------------------------


async def one_run(browser, importtime: bool, timeout: float) -> tuple[dict, str]:
    """Start the server, open the page when it answers; the milestones in seconds since the process started."""
    flags = ("-X", "importtime") if importtime else ()
    app = start_app(python_flags=flags)
    try:
        up = app.wait_healthy()
        ctx = await browser.new_context(viewport=VIEWPORT)
        await ctx.add_init_script(PAGE_PROBE)
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(app.url)
        await page.wait_for_function("window.__coldStart && window.__coldStart.map_drawn"
                                     " && window.__coldStart.digit_shown", timeout=timeout * 1000)
        marks = await page.evaluate("""() => {
            const m = {...window.__coldStart};
            const fcp = performance.getEntriesByName('first-contentful-paint')[0];
            if (fcp) m.first_paint = performance.timeOrigin + fcp.startTime;
            return m;
        }""")
        await ctx.close()
        if errors:
            raise RuntimeError(f"JavaScript errors on the page: {errors}")
        result = {"server_up": up - app.started}
        for name in ("first_paint", "app_output", "map_drawn", "digit_shown"):
            result[name] = marks[name] / 1000 - app.started if marks.get(name) else float("nan")
        result["interactive"] = max(result["map_drawn"], result["digit_shown"])
        result["peak_rss_mib"] = peak_rss_mib(app.proc.pid)
        app.stop()
        return result, app.log.read_text(errors="replace") if importtime else ""
    finally:
        app.cleanup()


def import_report(log: str, top: int) -> list[tuple[float, str]]:
    """The slowest top-level imports in a `python -X importtime` log: (cumulative seconds, module)."""
    rows = []
    for line in log.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:  # a top-level import (one space of indentation)
            rows.append((int(m.group(2)) / 1e6, m.group(4)))
    return sorted(rows, reverse=True)[:top]


async def run(args) -> tuple[list[dict], str, list[str]]:
    from playwright.async_api import async_playwright

    results, logs = [], []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        version = browser.version
        for i in range(args.runs):
            result, log = await one_run(browser, args.importtime, args.timeout)
            results.append(result)
            logs.append(log)
            print(f"run {i + 1}: " + ", ".join(f"{k} {result[k]:.2f} s" for k in MILESTONES), flush=True)
        await browser.close()
    return results, version, logs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh server processes to time (default 3)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to wait for an interactive page")
    ap.add_argument("--chromium", help="the Chromium binary (default /usr/bin/chromium)")
    ap.add_argument("--importtime", action="store_true",
                    help="run the server under python -X importtime and print the slowest top-level imports")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    if args.runs < 1:
        sys.exit("--runs must be at least 1")

    results, version, logs = asyncio.run(run(args))
    medians = {k: statistics.median(r[k] for r in results) for k in (*MILESTONES, "peak_rss_mib")}
    print(f"\ncold start of `streamlit run dashboard/app.py`, headless Chromium {version}, {os.cpu_count()} CPUs, "
          f"median of {len(results)} runs (seconds since the server process started):")
    for k in MILESTONES:
        spread = ", ".join(f"{r[k]:.2f}" for r in results)
        print(f"  {k.replace('_', ' '):12s} {medians[k]:6.2f} s   ({spread})")
    print(f"  server peak RSS after the first page: {medians['peak_rss_mib']:.0f} MiB")
    if args.importtime:
        print("\nslowest top-level imports in the server process (first run, cumulative):")
        for seconds, module in import_report(logs[0], 15):
            print(f"  {seconds:6.3f} s  {module}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"chromium": version, "cpus": os.cpu_count(), "runs": results,
                                         "median": medians}, indent=1) + "\n")


if __name__ == "__main__":
    main()
