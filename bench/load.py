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
import json
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_start import CHROMIUM_ARGS, VIEWPORT, chromium_path, cpu_seconds, peak_rss_mib, start_app  # noqa: E402
from load_measure import (  # noqa: E402
    Sampler,
    Stats,
    add_session_args,
    machine_busy,
    print_outcome,
    server_exceptions,
    server_runs,
    summarise,
)
from page_actions import (  # noqa: E402
    ACTIONS,
    KINDS,
    MORPH_OPEN,
    PAGE_PROBE,
    READY,
    ActionFailed,
    Session,
    Wire,
    page_problems,
)

TRAIN_DONE = re.compile(r"Trained \d+ epochs in")  # dashboard/training/job.py, _outcome_message()
TRAIN_FAILED = re.compile(r"Training (stopped|diverged)|training failed")


# --- one explorer ------------------------------------------------------------------------------


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
