"""Load: a class exploring at once while one student trains, in real browser sessions on one machine.

    python bench/load.py                                  # 20 explorers, 24 actions each, plus one training
    python bench/load.py --explorers 30 --json test-output/load-30.json
    python bench/load.py --explorers 2 --actions 8 --no-train       # a quick check of the script itself

It starts `streamlit run dashboard/app.py` on a free port (the shipped models, an empty models folder of its
own) and one headless Chromium, and opens one browser context (one Streamlit session) per student:

explorers   --explorers N sessions, all opening the page at once (or spread over --ramp seconds). Each waits
            for the latent map, opens Explore's "Morph" sub-tab, then does
            --actions actions, --think seconds apart on average (uniform between half and one and a half
            times it), cycling through:
              slider  focus the Live map's own z1 or z2 slider, press ArrowRight or ArrowLeft (one 0.05
                      step): the page decodes it and releases it to Python, a fragment rerun; done when that
                      run has ended (the page showed the step at once; Python reruns only what else shows it)
              map     click a random point of the latent map (a dot there is picked; else the ★ moves there):
                      fragment reruns; done as for the slider
              morph   type a test-image number into "Test image #" and press "Pick": a full rerun; done when
                      the morph GIF's caption names the new pair ("test image #A → #B"), or for the very
                      first pick when the page says "1 so far"
trainer     one more session opens the Train tab and presses "Start training" with the default preset
            (Quick demo: 10,000 images, 30 epochs), keeps the page open (its live view polls every second)
            and waits for "Trained 30 epochs in ...".

Two latencies per action:
on screen   timed in the page, on its own clock: from the input event (a capturing keydown / pointerdown
            listener) to the animation frame after the result is on the page (a MutationObserver). It
            includes the browser's own work, and here the browsers share the server's CPUs.
server      timed on the page's websocket at the browser's network layer (Chrome DevTools Protocol Network
            events, whose timestamps do not wait for the page's busy main thread): from the first rerun
            request the action sends to the end of the last run it caused (ForwardMsg script_finished). This
            is what a student's own laptop would see, less its rendering and the network.
script run  timed inside the server (bench/timed_server.py wraps Streamlit's ScriptRunner): the duration of
            every script run, full or fragment, of every session including the trainer's polls. It is the
            server's own cost and wait (CPU, GIL), free of the browsers: on a 2-core machine that also runs
            N Chromium pages, "server" above also carries the browser's network thread waiting for a core.
An action whose result does not show within --action-timeout seconds is an error, as are JavaScript errors,
Streamlit exceptions on the page, lost connections and exceptions in the server's log.

Memory: the server's resident set (VmRSS of the process and its children from /proc) is sampled every 0.5 s;
its peak is printed with VmHWM (the kernel's own peak) of the tree. CPU: the server's and the browser's CPU
seconds (from /proc) show how the machine was shared: on the 2-core machine Chromium, rendering N pages, needs
as much CPU as the server or more, which a lecture would not ask of the server's machine. So the browser (and
this script) run --browser-nice steps (default 10) below the server's priority: the server gets the CPU first,
the pages take what is left, and their on-screen figures carry that wait. --browser-nice 0 shares evenly.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import random
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_start import (  # noqa: E402
    CHROMIUM_ARGS,
    VIEWPORT,
    chromium_path,
    cpu_seconds,
    peak_rss_mib,
    percentile,
    process_tree,
    rss_mib,
    start_app,
)

TRAIN_DONE = re.compile(r"Trained \d+ epochs in")  # dashboard/training/job.py, _outcome_message()
TRAIN_FAILED = re.compile(r"Training (stopped|diverged)|training failed")
KINDS = ("slider", "map", "slider", "morph")
MORPH_OPEN = "to morph between them"  # dashboard/explore/morph.py, the ends message: the Morph tab is open
RUN_DONE = (0, 3)  # ForwardMsg.ScriptFinishedStatus: FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY

# Installed in every page before its scripts run. arm(kind, spec) notes what the result will be (the Live map's
# next update from Python, a caption, a text), then the next keydown / pointerdown starts the clock; the first
# animation frame after the result is on the page (and any image in it decoded) stops it. Results go to
# window.__load.done.
PAGE_PROBE = r"""(() => {
  const P = (window.__load = { pending: null, done: [] });
  const now = () => performance.now();
  for (const t of ['keydown', 'pointerdown']) document.addEventListener(t, () => {
    if (P.pending && P.pending.t0 === null) P.pending.t0 = now();
  }, true);
  const images = () => document.querySelectorAll('[data-testid="stImage"]');
  const withText = (text) => [...images()].find((e) => e.textContent.includes(text))?.querySelector('img');
  const main = () => document.querySelector('[data-testid="stMain"]');
  P.arm = (kind, spec) => {
    let check;
    const LP = () => window.__latentPlane;
    const renders = LP() ? LP().renders : 0;
    // the Live map's own update from Python's rerun (a canvas redraw: no DOM mutation, so polled every frame)
    if (kind === 'render') check = () => (LP() && LP().renders > renders && LP().ready ? true : null);
    else if (kind === 'caption') check = () => withText(spec) || null;
    else check = () => ((main()?.textContent || '').includes(spec) ? true : null);
    P.pending = { check, t0: null, armed: now() };
    if (kind === 'render') {
      const poll = () => { if (P.pending && P.pending.check === check) { look(); requestAnimationFrame(poll); } };
      requestAnimationFrame(poll);
    }
  };
  let scheduled = false;
  const look = () => {
    scheduled = false;
    const p = P.pending;
    const hit = p && p.check();
    if (!hit) return;
    P.pending = null;
    const t0 = p.t0 === null ? p.armed : p.t0;
    const finish = () => requestAnimationFrame(() => P.done.push(now() - t0));
    if (hit instanceof HTMLImageElement) hit.decode().then(finish, finish); else finish();
  };
  new MutationObserver(() => {
    if (P.pending && !scheduled) { scheduled = true; requestAnimationFrame(look); }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})()"""

READY = "() => window.__latentPlane && window.__latentPlane.ready"


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


# --- the websocket, seen from the browser's network layer --------------------------------------


class Wire:
    """Rerun requests sent and successful ends of runs, with the browser's network timestamps (seconds)."""

    def __init__(self) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._back, self._forward = BackMsg, ForwardMsg
        self.reruns: list[float] = []
        self.finished: list[float] = []

    async def attach(self, ctx, page) -> None:
        cdp = await ctx.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", self._sent)
        cdp.on("Network.webSocketFrameReceived", self._received)
        await cdp.send("Network.enable")

    def _sent(self, p: dict) -> None:
        frame = p["response"]
        if frame.get("opcode") == 2:
            msg = self._back.FromString(base64.b64decode(frame["payloadData"]))
            if msg.WhichOneof("type") == "rerun_script":
                self.reruns.append(p["timestamp"])

    def _received(self, p: dict) -> None:
        frame = p["response"]
        # script_finished messages are tiny; the big ones (deltas) need not be decoded.
        if frame.get("opcode") == 2 and len(frame["payloadData"]) < 400:
            msg = self._forward.FromString(base64.b64decode(frame["payloadData"]))
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in RUN_DONE:
                self.finished.append(p["timestamp"])

    def mark(self) -> tuple[int, int]:
        return len(self.reruns), len(self.finished)

    async def server_ms(self, since: tuple[int, int], timeout: float) -> float | None:
        """From the first rerun request after `since` to the first successful end of a run after the last such
        request; waits for that end (it can come after the result is on screen). None if it never came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.reruns[since[0]:]
            if sent:
                ends = [t for t in self.finished[since[1]:] if t >= sent[-1]]
                if ends:
                    return (ends[0] - sent[0]) * 1000
            await asyncio.sleep(0.05)
        return None


# --- one explorer ------------------------------------------------------------------------------


class ActionFailed(Exception):
    pass


@dataclass
class Session:
    page: object
    wire: Wire
    timeout: float

    async def timed(self, kind: str, check: str, spec: str | None, act) -> tuple[float, float | None]:
        """Arm the page's probe, do the action, wait for its result: (on-screen ms, server ms).
        check "run": the page shows the result itself at once (the Live map's ★ and digit); done when Python has
        it, the end of the run it caused as the browser receives it (both figures are then that)."""
        page = self.page
        since = self.wire.mark()
        if check == "run":
            await act()
            ms = await self.wire.server_ms(since, self.timeout)
            if ms is None:
                raise ActionFailed(f"{kind}: no run ended within {self.timeout:.0f} s")
            return ms, ms
        await page.evaluate("([k, s]) => window.__load.arm(k, s)", [check, spec])
        await act()
        try:
            await page.wait_for_function("() => window.__load.done.length > 0 && !window.__load.pending",
                                         timeout=self.timeout * 1000, polling=50)
        except Exception as e:
            await page.evaluate("() => { window.__load.pending = null; }")
            raise ActionFailed(f"{kind}: no result within {self.timeout:.0f} s") from e
        done = await page.evaluate("() => window.__load.done.splice(0)")
        return float(done[-1]), await self.wire.server_ms(since, self.timeout)


async def page_problems(page) -> list[str]:
    """Streamlit's own error displays: an exception box, or the status widget saying the connection is lost."""
    return await page.evaluate("""() => {
        const out = [];
        for (const e of document.querySelectorAll('[data-testid="stException"]'))
            out.push('exception: ' + e.textContent.slice(0, 200));
        const s = document.querySelector('[data-testid="stStatusWidget"]');
        if (s && /connect/i.test(s.textContent)) out.push('status: ' + s.textContent.slice(0, 100));
        return out;
    }""")


async def slider_step(s: Session, rng: random.Random, picks: list[int]):
    # the Live map's own z1 or z2 slider: the page decodes the step, then releases it to Python (a fragment run)
    slider = s.page.locator(".lp-slider-input").nth(rng.choice((0, 1)))
    await slider.focus()
    key = rng.choice(("ArrowRight", "ArrowLeft"))
    return await s.timed("slider", "run", None, lambda: s.page.keyboard.press(key))


async def map_click(s: Session, rng: random.Random, picks: list[int]):
    page = s.page
    await page.locator(".lp-overlay").scroll_into_view_if_needed()
    z = (rng.uniform(-2.5, 2.5), rng.uniform(-2.5, 2.5))
    xy = await page.evaluate("([x, y]) => window.__latentPlane.locate(x, y)", list(z))
    result = await s.timed("map", "run", None, lambda: page.mouse.click(xy["x"], xy["y"]))
    last = await page.evaluate("() => window.__latentPlane.triggers.at(-1)")
    if last and last.get("event") == "pick":  # a dot was hit: it is now the last pick (explore.pick)
        index = int(last["value"]["index"])
        picks[:] = [p for p in picks if p != index][-1:] + [index]
    return result


async def morph_pick(s: Session, rng: random.Random, picks: list[int]):
    index = rng.randrange(10_000)
    while index in picks:
        index = rng.randrange(10_000)
    await s.page.get_by_label("Test image #", exact=True).fill(str(index))
    if picks:
        check, spec = "caption", f"test image #{picks[-1]} → #{index},"
    else:
        check, spec = "text", "; 1 so far"
    button = s.page.get_by_role("button", name="Pick", exact=True)
    result = await s.timed("morph", check, spec, lambda: button.click())
    picks[:] = picks[-1:] + [index]
    return result


ACTIONS = {"slider": slider_step, "map": map_click, "morph": morph_pick}


async def explorer(n: int, browser, url: str, args, stats: Stats, start_at: float) -> None:
    rng = random.Random(args.seed * 1000 + n)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    ctx = await browser.new_context(viewport=VIEWPORT)
    try:
        await ctx.add_init_script(PAGE_PROBE)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: stats.errors.append(f"explorer {n}: JavaScript error: {e}"))
        session = Session(page, Wire(), args.action_timeout)
        await session.wire.attach(ctx, page)
        t = time.monotonic()
        try:
            await page.goto(url, timeout=args.load_timeout * 1000)
            await page.wait_for_function(READY, timeout=args.load_timeout * 1000, polling=100)
        except Exception as e:
            stats.errors.append(f"explorer {n}: the page did not load in {args.load_timeout:.0f} s "
                                f"({type(e).__name__})")
            return
        stats.page_loads.append(time.monotonic() - t)
        picks: list[int] = []
        for i in range(-1, args.actions):  # -1: open the Morph sub-tab
            kind = "open morph" if i < 0 else KINDS[(i + n) % len(KINDS)]
            if i >= 0:
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
            try:
                if i < 0:
                    tab = page.get_by_role("tab", name="Morph", exact=True)
                    result = await session.timed(kind, "text", MORPH_OPEN, lambda tab=tab: tab.click())
                else:
                    result = await ACTIONS[kind](session, rng, picks)
                stats.add(kind, *result)
            except Exception as e:  # ActionFailed, or Playwright: an element that never appeared, a closed page
                what = str(e) if isinstance(e, ActionFailed) else f"{kind}: {type(e).__name__}: {str(e)[:160]}"
                stats.errors.append(f"explorer {n}, action {i + 2}: {what}")
                if args.shots:
                    shot = args.shots / f"load-explorer-{n}-action-{i + 2}.png"
                    await page.screenshot(path=str(shot), full_page=True)
        stats.errors += [f"explorer {n}: {p}" for p in await page_problems(page)]
    finally:
        await ctx.close()
        if args.progress:
            print(f"  explorer {n} done at {time.monotonic() - start_at:.0f} s", flush=True)


# --- the trainer -------------------------------------------------------------------------------


async def trainer(browser, url: str, args, stats: Stats) -> None:
    ctx = await browser.new_context(viewport=VIEWPORT)
    info = stats.training
    info.update(finished=False, message=None, seconds=None)
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda e: stats.errors.append(f"trainer: JavaScript error: {e}"))
        await page.goto(url, timeout=args.load_timeout * 1000)
        await page.wait_for_function("() => window.__latentPlane && window.__latentPlane.ready",
                                     timeout=args.load_timeout * 1000, polling=100)
        await page.get_by_role("tab", name="Train", exact=True).click()
        await page.get_by_role("button", name="Start training").click(timeout=args.load_timeout * 1000)
        t0 = time.monotonic()
        if args.progress:
            print("  training started", flush=True)
        alerts = page.locator('[data-testid="stAlert"]')
        done, failed = alerts.filter(has_text=TRAIN_DONE), alerts.filter(has_text=TRAIN_FAILED)
        while time.monotonic() < t0 + args.train_timeout:
            if await done.count():
                info.update(finished=True, message=(await done.first.inner_text()).strip(),
                            seconds=time.monotonic() - t0)
                return
            if await failed.count():
                info["message"] = (await failed.first.inner_text()).strip()
                stats.errors.append(f"trainer: {info['message'][:200]}")
                return
            await asyncio.sleep(1.0)
        progress = page.locator('[data-testid="stProgress"]')
        seen = (await progress.first.inner_text()).strip() if await progress.count() else "no progress bar"
        info["message"] = f"not finished after {args.train_timeout:.0f} s; the page shows: {seen[:120]}"
        stats.errors.append(f"trainer: {info['message']}")
        if args.shots:
            await page.screenshot(path=str(args.shots / "load-trainer-timeout.png"), full_page=True)
    except Exception as e:
        stats.errors.append(f"trainer: {type(e).__name__}: {str(e)[:200]}")
    finally:
        await ctx.close()


# --- measuring the machine ---------------------------------------------------------------------


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


# --- the run -----------------------------------------------------------------------------------


async def drive(url: str, args, stats: Stats) -> str:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        t0 = time.monotonic()
        tasks = [explorer(i, browser, url, args, stats, t0 + (args.ramp * i / max(1, args.explorers)))
                 for i in range(args.explorers)]
        if args.train:
            tasks.append(trainer(browser, url, args, stats))
        await asyncio.gather(*tasks)
        version = browser.version
        await browser.close()
    return version


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


def report(args, stats: Stats, measured: dict) -> dict:
    every_screen = [v for vs in stats.on_screen.values() for v in vs]
    every_server = [v for vs in stats.server.values() for v in vs]
    summary = {
        "explorers": args.explorers, "actions_per_explorer": args.actions, "think_s": args.think, "train": args.train,
        "browser_nice": args.browser_nice, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cpus": os.cpu_count(), **measured, "errors": stats.errors,
        "on_screen_ms": summarise(every_screen), "server_ms": summarise(every_server),
        "by_kind": {k: {"on_screen_ms": summarise(v), "server_ms": summarise(stats.server.get(k, []))}
                    for k, v in stats.on_screen.items()},
        "page_load_s": summarise(stats.page_loads), "training": stats.training,
    }
    fmt = lambda s: f"median {s['median']:6.0f} ms, p95 {s['p95']:6.0f} ms, max {s['max']:6.0f} ms"  # noqa: E731
    print(f"\nload: {args.explorers} explorers x {args.actions} actions (think {args.think:g} s)"
          f"{' + 1 training (quick preset)' if args.train else ''}; headless Chromium {measured['chromium']}, "
          f"{os.cpu_count()} CPUs, browser at nice +{args.browser_nice} from the server, {measured['wall_s']:.0f} s")
    print(f"  per action, on screen: {fmt(summary['on_screen_ms'])}  over {len(every_screen)} actions")
    print(f"  per action, server:    {fmt(summary['server_ms'])}  over {len(every_server)} actions")
    for k, v in summary["by_kind"].items():
        print(f"    {k:10s} n={v['on_screen_ms']['n']:4d}  on screen {fmt(v['on_screen_ms'])};  "
              f"server {fmt(v['server_ms'])}")
    runs = measured["runs"]
    print(f"  script runs, timed in the server: {fmt(runs['all'])}  over {runs['all']['n']} runs "
          f"(full runs: median {runs['full']['median']:.0f} ms, p95 {runs['full']['p95']:.0f} ms, "
          f"n={runs['full']['n']}; "
          f"fragment runs: median {runs['fragment']['median']:.0f} ms, p95 {runs['fragment']['p95']:.0f} ms, "
          f"n={runs['fragment']['n']})")
    loads = summary["page_load_s"]
    print(f"  page load (goto -> map and image shown): median {loads['median']:.1f} s, max {loads['max']:.1f} s")
    print_outcome(args, stats, measured, f"Chromium and its driver {measured['browser_cpu_s']:.0f}")
    return summary


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--explorers", type=int, default=20, help="concurrent exploring sessions (default 20)")
    ap.add_argument("--actions", type=int, default=24, help="actions per explorer after the page load (default 24)")
    add_session_args(ap)
    ap.add_argument("--browser-nice", type=int, default=10,
                    help="how much lower the browser's CPU priority is than the server's (nice steps; 0: equal)")
    ap.add_argument("--shots", type=Path, help="a folder for screenshots of sessions that went wrong")
    args = ap.parse_args()
    if args.explorers < 0 or args.actions < 0:
        sys.exit("--explorers and --actions must not be negative")
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)

    app = start_app(timed_runs=True)
    stats = Stats()
    try:
        app.wait_healthy()
        # From here on this script, Playwright's driver and Chromium run at a lower priority than the server
        # (niceness is inherited by the processes started later): the server's machine gets the CPU first, as
        # it would in a lecture where the students' browsers run on their own laptops.
        os.nice(args.browser_nice)
        sampler = Sampler(app.proc.pid)
        sampler.start()
        cpu0, (busy0, total0), t0 = cpu_seconds(app.proc.pid), machine_busy(), time.monotonic()
        t0_wall = time.time()
        version = asyncio.run(drive(app.url, args, stats))
        wall = time.monotonic() - t0
        cpu1, (busy1, total1) = cpu_seconds(app.proc.pid), machine_busy()
        sampler.stop()
        if app.proc.poll() is not None:
            stats.errors.append(f"the server exited with {app.proc.returncode}:\n{app.log_tail()}")
        measured = {
            "chromium": version, "wall_s": wall, "server_peak_rss_mib": sampler.peak_mib,
            "server_vmhwm_mib": peak_rss_mib(app.proc.pid), "server_cpu_s": cpu1 - cpu0,
            "browser_cpu_s": sampler.browser_cpu_s, "machine_busy": (busy1 - busy0) / max(1, total1 - total0),
        }
        measured["runs"] = server_runs(app.runs_log, t0_wall)
        failures = server_exceptions(app.log_text())
        stats.errors += [f"server: {f}" for f in failures]
        summary = report(args, stats, measured)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    finally:
        app.cleanup()


if __name__ == "__main__":
    main()
