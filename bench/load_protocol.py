"""Load on the server alone: a class whose browsers run elsewhere, as they do in a lecture.

    python bench/load_protocol.py                          # 20 students, 24 actions each, plus one training
    python bench/load_protocol.py --students 50 --json test-output/load-protocol-50.json

bench/load.py drives N real Chromium pages on the server's own machine; on a 2-core machine those pages need
several times the CPU the server does (0.2-0.5 CPU-s of rendering per action against the server's 0.02-0.07),
so its figures say more about Chromium than about the server. Here the students speak Streamlit's protocol
directly, as their browsers would from their own laptops:

record    one real browser session (headless Chromium) opens the page, opens Explore's "Morph" sub-tab and does
          --actions actions of bench/load.py (slider steps, map clicks, picks for a morph); every message the
          page sends on its websocket is recorded (Chrome DevTools Protocol), grouped by action.
replay    --students websocket clients (no browser) each open a session of their own and send that recording,
          action by action, --think seconds apart on average (uniform between half and one and a half times
          it). An action's latency runs from its first message to the end of the last script run it causes
          (ForwardMsg script_finished) and the download of every image that run put on the page, which the
          browser would fetch before showing it. The first group (the page load) is timed apart.
trainer   one more session trains the quick preset in the Train tab. --trainer browser (default): a real
          browser page, as in bench/load.py, which redraws its live view every second on this machine's CPU.
          --trainer protocol: its messages recorded too (open Train, Start, the live view's once-a-second
          poll, Stop) and replayed like a student's: Start, then the poll every second until the page says
          "Trained N epochs", which leaves the machine to the server as in a lecture.
probe     with --probe, one more real browser session explores among them exactly as bench/load.py's explorers
          do: what one student sees on screen while the class works, its own rendering included (here on the
          server's machine, so it also competes with the server for the CPU, which a laptop would not).

During the replay this script, the trainer's and the probe's browsers run --browser-nice steps (default 10)
below the server, as in bench/load.py: they stand for other machines. What the students' figures leave out is
their own rendering (the 100-250 ms an action takes on screen with one student alone on this machine, most
of it Chromium's; --probe measures it under load) and the network. What it keeps is all the
server's work: every script run, the deltas it serialises and sends, the images it serves, the training.
It prints latency per action (median, p95, max), errors (an action without a result in --action-timeout s, a
run that ends in an exception, a dropped connection, an exception in the server's log), the server's peak
memory, its CPU, the script runs it timed itself (bench/timed_server.py), and whether the training finished.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
import load_measure  # noqa: E402
import page_actions  # noqa: E402
from cold_start import (  # noqa: E402
    CHROMIUM_ARGS,
    VIEWPORT,
    chromium_path,
    cpu_seconds,
    peak_rss_mib,
    start_app,
    start_class,
)
from protocol_student import Student  # noqa: E402

# --- record: what one real browser sends ----------------------------------------------------------


class Recording(page_actions.Wire):
    """The Wire of bench/page_actions.py, also keeping every binary message the page sends, under the current action."""

    def __init__(self) -> None:
        super().__init__()
        self.action = "page load"
        self.groups: list[tuple[str, list[bytes]]] = [("page load", [])]

    def start(self, action: str) -> None:
        self.action = action
        self.groups.append((action, []))

    def _sent(self, p: dict) -> None:
        frame = p["response"]
        if frame.get("opcode") == 2:
            self.groups[-1][1].append(base64.b64decode(frame["payloadData"]))
        super()._sent(p)


async def record(url: str, args) -> list[tuple[str, list[bytes]]]:
    """Drive one real page through the page load, opening Morph and --actions actions; the messages it sent."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        ctx = await browser.new_context(viewport=VIEWPORT)
        await ctx.add_init_script(page_actions.PAGE_PROBE)
        page = await ctx.new_page()
        wire = Recording()
        session = page_actions.Session(page, wire, args.action_timeout)
        await wire.attach(ctx, page)
        await page.goto(url, timeout=args.load_timeout * 1000)
        await page.wait_for_function(page_actions.READY, timeout=args.load_timeout * 1000, polling=100)
        await asyncio.sleep(1.0)  # messages the page sends once drawn (component values) belong to the load
        wire.start("open morph")
        tab = page.get_by_role("tab", name="Morph", exact=True)
        await session.timed("open morph", "text", page_actions.MORPH_OPEN, lambda: tab.click())
        rng, picks = random.Random(args.seed), []
        for i in range(args.actions):
            kind = page_actions.KINDS[i % len(page_actions.KINDS)]
            await asyncio.sleep(0.5)
            wire.start(kind)
            await page_actions.ACTIONS[kind](session, rng, picks)
        await asyncio.sleep(1.0)
        # The morph's caption names the last two picks: a replay that reproduces the session ends on the same.
        args.final_caption = await page.evaluate(MORPH_CAPTION_JS)
        await browser.close()
    return [(name, msgs) for name, msgs in wire.groups if msgs]


async def record_trainer(url: str, args, pin: str = "") -> dict[str, list[bytes]]:
    """One real page opens the Train tab, starts the quick preset, lets the live view poll, then stops it (on
    replica `pin`, e.g. "r1", behind scripts/serve_class.sh)."""
    from playwright.async_api import async_playwright
    from streamlit.proto.BackMsg_pb2 import BackMsg

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        ctx = await browser.new_context(viewport=VIEWPORT)
        if pin:
            await ctx.add_cookies([{"name": "LE_REPLICA", "value": pin, "url": url}])
        page = await ctx.new_page()
        wire = Recording()
        await wire.attach(ctx, page)
        await page.goto(url, timeout=args.load_timeout * 1000)
        await page.wait_for_function("() => window.__latentPlane && window.__latentPlane.ready",
                                     timeout=args.load_timeout * 1000, polling=100)
        await asyncio.sleep(1.0)
        wire.start("train tab")
        await page.get_by_role("tab", name="Train", exact=True).click()
        start = page.get_by_role("button", name="Start training")
        await start.wait_for(timeout=args.load_timeout * 1000)
        await asyncio.sleep(1.0)
        wire.start("start")
        await start.click()
        await page.locator(".st-key-train_stop").get_by_role("button").wait_for(timeout=args.load_timeout * 1000)
        wire.start("polls")
        await asyncio.sleep(3.5)
        wire.start("stop")
        await page.locator(".st-key-train_stop").get_by_role("button").click()
        await page.locator('[data-testid="stAlert"]').filter(has_text=load.TRAIN_FAILED).wait_for(timeout=60_000)
        await browser.close()
    groups = dict(wire.groups)
    polls = [m for m in groups["polls"] if BackMsg.FromString(m).rerun_script.fragment_id]
    if not polls:
        raise SystemExit("recording the trainer: the live view sent no poll")
    return {"page load": groups["page load"], "train tab": groups["train tab"], "start": groups["start"],
            "poll": [polls[-1]]}


async def protocol_trainer(url: str, recorded: dict[str, list[bytes]], args, stats: load_measure.Stats,
                           pin: str = "") -> None:
    """Replays the recorded trainer: Start, then the live view's poll every second until training ends (on
    replica `pin`, e.g. "r1", behind scripts/serve_class.sh)."""
    info = stats.training
    info.update(finished=False, message=None, seconds=None)
    s = Student(-1, url, args.load_timeout)
    s.cookie = f"LE_REPLICA={pin}" if pin else ""
    try:
        await s.connect()
        for group in ("page load", "train tab", "start"):
            await s.act(recorded[group])
        t0 = time.monotonic()
        if args.progress:
            print("  training started", flush=True)
        while time.monotonic() < t0 + args.train_timeout:
            await asyncio.sleep(POLL_S)
            await s.act(recorded["poll"])
            done = [a for a in s.alerts if load.TRAIN_DONE.search(a)]
            failed = [a for a in s.alerts if load.TRAIN_FAILED.search(a)]
            if done or failed:
                info.update(finished=bool(done), message=(done or failed)[0].strip(), seconds=time.monotonic() - t0)
                if failed:
                    stats.errors.append(f"trainer: {failed[0][:200]}")
                break
        else:
            stats.errors.append(f"trainer: not finished after {args.train_timeout:.0f} s")
        await s.close()
    except Exception as e:
        stats.errors.append(f"trainer: {type(e).__name__}: {str(e)[:200]}")
    stats.errors += [f"trainer: {p}" for p in s.problems]


POLL_S = 1.0  # dashboard/train/live.py's POLL_S: the live view's fragment reruns this often


MORPH_CAPTION_JS = """() => [...document.querySelectorAll('[data-testid="stImage"]')].map((e) => e.textContent)
    .filter((t) => t.includes('test image #') && t.includes('→')).at(-1) || null"""


async def student(n: int, url: str, groups, args, stats: load_measure.Stats, start_at: float) -> None:
    rng = random.Random(args.seed * 1000 + n)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    s = Student(n, url, args.action_timeout)
    try:
        t = time.monotonic()
        await s.connect()
        await s.act(groups[0][1])
        stats.page_loads.append(time.monotonic() - t)
        for i, (kind, messages) in enumerate(groups[1:]):
            if i > 0:
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
            try:
                started = time.monotonic() - start_at
                ms = await s.act(messages)
                stats.add(kind, ms, None)
                stats.timeline.append((started, ms))
            except Exception as e:
                stats.errors.append(f"student {n}, action {i + 1} ({kind}): {type(e).__name__}: {str(e)[:160]}")
                s.problems.clear()
        await s.close()
        if s.morph_caption != args.final_caption:
            stats.errors.append(f"student {n}: the replay ended on {s.morph_caption!r}, the recorded page on "
                                f"{args.final_caption!r}")
    except Exception as e:
        stats.errors.append(f"student {n}: {type(e).__name__}: {str(e)[:200]}")
    stats.errors += [f"student {n}: {p}" for p in s.problems]
    if args.progress:
        print(f"  student {n} done at {time.monotonic() - start_at:.0f} s ({s.images} images downloaded)", flush=True)


async def drive(url: str, groups, trainer_groups, args, stats: load_measure.Stats, probe: load_measure.Stats) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        t0 = time.monotonic()
        tasks = [student(i, url, groups, args, stats, t0 + args.ramp * i / max(1, args.students))
                 for i in range(args.students)]
        if args.train and args.trainer == "browser":
            tasks.append(load.trainer(browser, url, args, stats))
        elif args.train:
            tasks.append(protocol_trainer(url, trainer_groups, args, stats))
        if args.probe:
            tasks.append(load.explorer(args.students, browser, url, args, probe, t0))
        await asyncio.gather(*tasks)
        await browser.close()


# --- the run ------------------------------------------------------------------------------------


WINDOW_S = 10.0


def by_window(timeline: list[tuple[float, float]]) -> list[dict]:
    """The actions' latency by WINDOW_S windows of when they started: whether the slow ones are the class's
    arrival (every student's page load at once) or its steady state."""
    windows: dict[int, list[float]] = {}
    for started, ms in timeline:
        windows.setdefault(int(started // WINDOW_S), []).append(ms)
    return [{"from_s": w * WINDOW_S, "to_s": (w + 1) * WINDOW_S, **load_measure.summarise(v)}
            for w, v in sorted(windows.items())]


def report(args, stats: load_measure.Stats, probe: load_measure.Stats, measured: dict) -> dict:
    every = [v for vs in stats.on_screen.values() for v in vs]
    summary = {
        "students": args.students, "actions_per_student": len(measured["recorded"]) - 1, "think_s": args.think,
        "ramp_s": args.ramp, "train": args.train, "trainer": args.trainer, "browser_nice": args.browser_nice,
        "cpus": os.cpu_count(), **measured, "errors": stats.errors,
        "latency_ms": load_measure.summarise(every),
        "by_kind": {k: load_measure.summarise(v) for k, v in stats.on_screen.items()},
        "page_load_s": load_measure.summarise(stats.page_loads), "training": stats.training,
        "by_window": by_window(stats.timeline),
    }
    if args.probe:
        screen = [v for k, vs in probe.on_screen.items() if k != "open morph" for v in vs]
        summary["probe"] = {"on_screen_ms": load_measure.summarise(screen), "errors": probe.errors,
                            "server_ms": load_measure.summarise([v for vs in probe.server.values() for v in vs]),
                            "page_load_s": probe.page_loads}
    fmt = lambda s: f"median {s['median']:6.0f} ms, p95 {s['p95']:6.0f} ms, max {s['max']:6.0f} ms"  # noqa: E731
    print(f"\nload over the protocol: {args.students} students x {summary['actions_per_student']} actions "
          f"(think {args.think:g} s, arrivals over {args.ramp:g} s)"
          f"{f' + 1 training (quick preset, trainer: {args.trainer})' if args.train else ''}"
          f", {os.cpu_count()} CPUs, students and browsers at nice +{args.browser_nice} from the server, "
          f"{measured['wall_s']:.0f} s")
    print(f"  recorded from one real page: {', '.join(f'{k} ({m} msg)' for k, m in measured['recorded'][:6])}, ...")
    print(f"  every student's replay ended where the recorded page did ({args.final_caption!r}) unless an error "
          f"below says otherwise")
    print(f"  per action, server side: {fmt(summary['latency_ms'])}  over {len(every)} actions")
    for k, v in summary["by_kind"].items():
        print(f"    {k:10s} n={v['n']:4d}  {fmt(v)}")
    print("  by when the action started (s after the class arrived): " + ", ".join(
        f"{w['from_s']:.0f}-{w['to_s']:.0f} s p95 {w['p95']:.0f} ms (n={w['n']})" for w in summary["by_window"]))
    runs = measured["runs"]
    print(f"  script runs, timed in the server: {fmt(runs['all'])}  over {runs['all']['n']} runs "
          f"(full: median {runs['full']['median']:.0f} ms, p95 {runs['full']['p95']:.0f} ms; fragment: median "
          f"{runs['fragment']['median']:.0f} ms, p95 {runs['fragment']['p95']:.0f} ms)")
    if args.probe:
        p = summary["probe"]
        load_s = p["page_load_s"][0] if p["page_load_s"] else math.nan
        print(f"  one real page among them (--probe), on screen: {fmt(p['on_screen_ms'])}  over "
              f"{p['on_screen_ms']['n']} actions; its page load {load_s:.1f} s; "
              f"errors {len(p['errors'])}")
    loads = summary["page_load_s"]
    print(f"  page load (first run and its images): median {loads['median']:.2f} s, max {loads['max']:.2f} s")
    load_measure.print_outcome(args, stats, measured, f"the trainer's browser and this script's students "
                                               f"{measured['browser_cpu_s']:.0f} + {measured['self_cpu_s']:.0f}")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=20, help="concurrent sessions (default 20)")
    ap.add_argument("--actions", type=int, default=24, help="actions recorded and replayed per student (default 24)")
    load_measure.add_session_args(ap)
    ap.add_argument("--probe", action="store_true", help="one more session in a real browser, timed on screen")
    ap.add_argument("--trainer", choices=("browser", "protocol"), default="browser",
                    help="the training session in a real browser page (default) or replayed like the students")
    ap.add_argument("--browser-nice", type=int, default=10,
                    help="how much lower this script's and the browsers' CPU priority is than the server's during "
                         "the replay (nice steps; default 10, as in bench/load.py)")
    ap.add_argument("--replicas", type=int, default=0,
                    help="serve through scripts/serve_class.sh with this many replicas behind HAProxy (default 0: "
                         "one plain `streamlit run`, no proxy)")
    args = ap.parse_args()
    if args.students < 0 or args.actions < 1:
        sys.exit("--students must not be negative and --actions must be at least 1")
    args.shots = None  # load.trainer() takes screenshots only when asked

    app = start_class(args.replicas, timed_runs=True) if args.replicas else start_app(timed_runs=True)
    stats, probe = load_measure.Stats(), load_measure.Stats()
    try:
        app.wait_healthy()
        if args.progress:
            print("recording one real page ...", flush=True)
        groups = asyncio.run(record(app.url, args))
        record_training = args.train and args.trainer == "protocol"
        trainer_groups = asyncio.run(record_trainer(app.url, args)) if record_training else None
        if args.progress:
            print(f"recorded {len(groups) - 1} actions; replaying with {args.students} students ...", flush=True)
        # As in bench/load.py: the students' and the trainer's side stand for other machines, so they get the
        # CPU after the server (inherited by the browser started below). It can only lengthen what they measure.
        os.nice(args.browser_nice)
        sampler = load_measure.Sampler(app.proc.pid)
        sampler.start()
        cpu0, self0, (busy0, total0) = cpu_seconds(app.proc.pid), _self_cpu(), load_measure.machine_busy()
        t0, t0_wall = time.monotonic(), time.time()
        asyncio.run(drive(app.url, groups, trainer_groups, args, stats, probe))
        wall = time.monotonic() - t0
        cpu1, self1, (busy1, total1) = cpu_seconds(app.proc.pid), _self_cpu(), load_measure.machine_busy()
        sampler.stop()
        if app.proc.poll() is not None:
            stats.errors.append(f"the server exited with {app.proc.returncode}:\n{app.log_tail()}")
        measured = {
            "recorded": [(k, len(m)) for k, m in groups], "wall_s": wall,
            "server_peak_rss_mib": sampler.peak_mib, "server_vmhwm_mib": peak_rss_mib(app.proc.pid),
            "server_cpu_s": cpu1 - cpu0, "browser_cpu_s": sampler.browser_cpu_s, "self_cpu_s": self1 - self0,
            "machine_busy": (busy1 - busy0) / max(1, total1 - total0),
            "runs": load_measure.server_runs(app.runs_log, t0_wall),
        }
        stats.errors += [f"server: {f}" for f in load_measure.server_exceptions(app.log_text())]
        summary = report(args, stats, probe, measured)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    finally:
        app.cleanup()


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


if __name__ == "__main__":
    main()
