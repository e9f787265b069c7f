"""What one student's actions cost: CPU of the server and of the browser, per action, on an idle machine.

    python bench/action_cost.py              # 8 actions of each kind
    python bench/action_cost.py --each 16

One headless Chromium page opens the app, opens Explore's "Morph" sub-tab, then does --each actions of each
kind of bench/load.py (slider step, map click, morph pick, then slider steps again), half a second apart.
For each kind it prints, per action: the on-screen latency (bench/page_actions.py's page probe), the CPU seconds of
the server process and of every Chromium process (from /proc, around the whole batch), and the page's
main-thread time from Chrome's Performance metrics (TaskDuration: scripts, style, layout, paint).
It shows how a class's load divides between the server and the students' browsers (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import page_actions  # noqa: E402
from cold_start import (  # noqa: E402
    CHROMIUM_ARGS,
    VIEWPORT,
    chromium_path,
    cpu_seconds,
    process_tree,
    start_app,
)

METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def browser_cpu_s(server_pid: int) -> float:
    """CPU seconds of this script's child processes other than the server's: Playwright's driver and Chromium."""
    server = set(process_tree(server_pid))
    return sum(cpu_seconds(p, children=False) for p in set(process_tree(os.getpid())[1:]) - server)


async def run(args) -> None:
    from playwright.async_api import async_playwright

    app = start_app()
    try:
        app.wait_healthy()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
            ctx = await browser.new_context(viewport=VIEWPORT)
            await ctx.add_init_script(page_actions.PAGE_PROBE)
            page = await ctx.new_page()
            session = page_actions.Session(page, page_actions.Wire(), 30)
            await session.wire.attach(ctx, page)
            cdp = await ctx.new_cdp_session(page)
            await cdp.send("Performance.enable")

            async def metrics() -> dict:
                return {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}

            b0, s0 = browser_cpu_s(app.proc.pid), cpu_seconds(app.proc.pid)
            t = asyncio.get_running_loop().time()
            await page.goto(app.url)
            await page.wait_for_function(page_actions.READY, timeout=180_000, polling=100)
            print(f"page load: {asyncio.get_running_loop().time() - t:.2f} s on screen; CPU: browser "
                  f"{browser_cpu_s(app.proc.pid) - b0:.2f} s, server {cpu_seconds(app.proc.pid) - s0:.2f} s "
                  f"(the server's first session also loads the model and encodes the test set)")
            tab = page.get_by_role("tab", name="Morph", exact=True)
            await session.timed("open morph", "text", page_actions.MORPH_OPEN, lambda: tab.click())
            await asyncio.sleep(2)
            rng, picks = random.Random(args.seed), []
            print(f"per action, mean over {args.each}:")
            for kind in args.kinds:
                m0, b0, s0 = await metrics(), browser_cpu_s(app.proc.pid), cpu_seconds(app.proc.pid)
                on_screen = []
                for _ in range(args.each):
                    on_screen.append((await page_actions.ACTIONS[kind](session, rng, picks))[0])
                    await asyncio.sleep(0.5)
                await asyncio.sleep(1.0)  # let the last action's rendering finish
                m1 = await metrics()
                main = ", ".join(f"{k} {(m1[k] - m0[k]) / args.each * 1000:.0f} ms" for k in METRICS)
                print(f"  {kind:6s}  server CPU {(cpu_seconds(app.proc.pid) - s0) / args.each * 1000:4.0f} ms, "
                      f"browser CPU {(browser_cpu_s(app.proc.pid) - b0) / args.each * 1000:4.0f} ms, on screen "
                      f"{min(on_screen):.0f}-{max(on_screen):.0f} ms; page main thread: {main}")
            await browser.close()
    finally:
        app.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--each", type=int, default=8, help="actions of each kind (default 8)")
    ap.add_argument("--kinds", nargs="+", choices=sorted(page_actions.ACTIONS),
                    default=["slider", "map", "morph", "slider"],
                    help="the batches, in order (default: slider map morph slider)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chromium", help="the Chromium binary (default /usr/bin/chromium)")
    args = ap.parse_args()
    if args.each < 1:
        sys.exit("--each must be at least 1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
