"""A class following its lecturer, on scripts/serve_class.sh's replicas: what the issue's "Measured" asks.

    python bench/class_replay.py                                   # 100 followers, 50 drawers, 2 replicas
    python bench/class_replay.py --followers 10 --drawers 5 --moves 6 --json test-output/class-replay-small.json
    python bench/class_replay.py --train                           # and a training on the lecturer's replica

The lecturer is one real Chromium page (?class=new): it drags the ★ to a new place on its map every --move-every s
(--moves-by: or clicks a place, which picks the dot there if there is one; or presses arrow keys; or opens a
sub-tab; the page publishes its view to the class store) and asks the class for a digit twice, with the key its
address holds (the same store call as its Ask button). Its map's count of the class's drawings is read in the page
(window.__latentPlane.classDots.n, checked every 50 ms).

The students speak Streamlit's protocol, as bench/load_protocol.py's do (150 browsers do not fit on 2 cores):
one real Chromium student page joins by the link, follows for 3.5 s, draws a 1 on the pad and sends it; every
message it sends on its websocket is recorded (Chrome DevTools Protocol). Each replayed student then sends that page
load (its own session: the server gives it its own student id), and afterwards what its browser would: nothing
while it follows (the server pushes each move: dashboard/classroom/push.py reruns the page's map), or, on a server
that tells the page to poll (an auto_rerun message), that fragment's rerun every `interval` s with the address the
page has now (its last page_info_changed). A drawer, when its page shows the lecturer's request, waits 0.5-5 s,
then sends the recorded drawing and the Send click. "recorded" in the output counts the real page's messages, its
polls while following among them (0 with push).

follow     from the lecturer's move (the moment this script sees the store's revision bump with the new view:
           it reads the store every 25 ms) to the moment a student's session receives its address with the new ★
           (ForwardMsg page_info_changed whose z is the published z)
drawing    from the Send click's message to the lecturer's map showing that many drawings (the kth drawing in
           the store's order against the first time the map counts k); "in the store" is the store's own time
errors     a move a student never got, a request a drawer's page never showed, a drawing not sent or never on
           the map, a failed run, a dropped connection, an exception in a replica's log
cpu        the replica processes' CPU-seconds (from /proc, their whole trees) over the class ÷ students ÷ seconds
memory     each replica's process tree at the end and at its peak: RSS, and PSS / USS from smaps_rollup, and its
           resident memory with each physical page counted once (pagemap)
           (PSS shares a page between the processes that map it; USS counts only pages no other process maps),
           and at the peak its processes and where its biggest one's memory goes (bench/replica_memory.py)
training   with --train, one more session on the lecturer's replica (HAProxy's LE_REPLICA cookie) starts the
           Train tab's quick preset as the lecture starts and polls its live view every second, as a page does
           (bench/load_protocol.py's protocol trainer); the memory is read until the training has ended
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_measure  # noqa: E402
import page_actions  # noqa: E402
import replica_memory  # noqa: E402
from class_pupil import Pupil, pupil  # noqa: E402
from cold_start import CHROMIUM_ARGS, VIEWPORT, chromium_path, cpu_seconds, start_class  # noqa: E402
from load_protocol import Recording, protocol_trainer, record_trainer  # noqa: E402

LP = "window.__latentPlane"
ASKS = ("1", "7")  # the digits the lecturer asks for, after the second move and half way through
TABS = ("Prior samples", "Manifold grid")  # --moves-by tab: the lecturer opens these in turn (a whole page each)
PARAM = {"drag": "z", "star": "z", "key": "z", "tab": "sub"}  # what a move changes in the view
# The lecturer's map: every change of its count of the class's drawings, on the wall clock (ms).
DOTS_PROBE = """(() => {
  const log = (window.__dots = []);
  setInterval(() => {
    const lp = window.__latentPlane, n = lp && lp.classDots ? lp.classDots.n : 0;
    if (!log.length || log[log.length - 1][1] !== n) log.push([performance.timeOrigin + performance.now(), n]);
  }, 50);
})()"""


# --- record: one real student page -------------------------------------------------------------


async def open_lecturer(browser, url: str, timeout: float):
    ctx = await browser.new_context(viewport=VIEWPORT)
    await ctx.add_init_script(DOTS_PROBE)
    page = await ctx.new_page()
    await page.goto(f"{url}/?class=new", timeout=timeout * 1000)
    await page.wait_for_function("() => /[?&]key=/.test(location.search)", timeout=timeout * 1000)
    await page.wait_for_function(page_actions.READY, timeout=timeout * 1000, polling=100)
    q = parse_qs((await page.evaluate("location.search")).lstrip("?"))
    return ctx, page, q["class"][0], q["key"][0]


async def record_student(browser, url: str, room: str, store, key: str, timeout: float) -> dict:
    """A real student page joins, follows, draws a 1 and sends it; what it sent, by step."""
    ctx = await browser.new_context(viewport=VIEWPORT)
    page = await ctx.new_page()
    wire = Recording()
    await wire.attach(ctx, page)
    await page.goto(f"{url}/?class={room}", timeout=timeout * 1000)
    await page.get_by_text("Following the lecturer").wait_for(timeout=timeout * 1000)
    await page.wait_for_function(page_actions.READY, timeout=timeout * 1000, polling=100)
    wire.start("polls")
    await asyncio.sleep(3.5)
    store.ask(room, key, {"kind": "digit", "label": "1"})
    await page.get_by_text("The lecturer asks: draw a 1").wait_for(timeout=timeout * 1000)
    await asyncio.sleep(1.0)
    wire.start("draw")
    pad = page.locator(".st-key-class_pad canvas.dp-canvas")
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    k = box["width"] / 280  # a stroke down the middle of the 280 px pad: a 1
    await page.mouse.move(box["x"] + 140 * k, box["y"] + 50 * k)
    await page.mouse.down()
    for y in (120, 190, 240):
        await page.mouse.move(box["x"] + 140 * k, box["y"] + y * k, steps=2)
    await page.mouse.up()
    send = page.get_by_role("button", name="Send my 1")
    await page.wait_for_function("() => [...document.querySelectorAll('button')].some((b) => "
                                 "b.textContent.includes('Send my 1') && !b.disabled)", timeout=timeout * 1000)
    await asyncio.sleep(0.5)
    wire.start("send")
    await send.click()
    await page.get_by_text("Sent: your 1 is on the lecturer's map.").wait_for(timeout=timeout * 1000)
    await asyncio.sleep(0.5)
    await ctx.close()
    groups = dict(wire.groups)
    from streamlit.proto.BackMsg_pb2 import BackMsg

    # a page the server pushes to sends nothing while it follows; one that polls (no push) sends its fragment's
    # reruns, replayed at the interval the server names
    polls = [m for m in groups["polls"] if BackMsg.FromString(m).rerun_script.fragment_id]
    if not groups["draw"] or not groups["send"]:
        raise SystemExit(f"recording the student: draw {len(groups['draw'])}, send {len(groups['send'])} messages")
    return {"page load": groups["page load"], "poll": polls[-1] if polls else None, "draw": groups["draw"],
            "send": groups["send"], "polls while following": len(polls)}


# --- the lecture -------------------------------------------------------------------------------


class StoreWatch(threading.Thread):
    """Reads the store's revision every 25 ms; on a bump, the view's `param` (the ★ "z", or the sub-tab "sub")
    with the time it was first seen."""

    def __init__(self, store, room: str, param: str):
        super().__init__(daemon=True)
        self.store, self.room, self.param, self.moves, self._halt = store, room, param, [], threading.Event()

    def run(self) -> None:
        last, shown = None, None  # the value before the lecture is no move
        while not self._halt.wait(0.025):
            rev = self.store.revision(self.room)
            if rev is not None and rev != last:
                t, last = time.time(), rev
                got = self.store.view(self.room)
                z = (got[1] or {}).get(self.param, "") if got else None
                if z is not None and shown is not None and z != shown:
                    self.moves.append((t, z))
                shown = z if z is not None else shown

    def stop(self) -> None:
        self._halt.set()
        self.join()


async def lecture(page, store, room: str, key: str, args, out: dict) -> None:
    """Move the ★ (by a click, or arrow keys: --moves-by key; or open the other sub-tab: --moves-by tab) every
    --move-every s; ask for a 1 after the second move and a 7 half way through."""
    rng = random.Random(args.seed)
    await page.locator(".st-key-explore_plane").scroll_into_view_if_needed()
    for i in range(args.moves):
        t0 = time.monotonic()
        if args.moves_by == "tab":
            await page.get_by_role("tab", name=TABS[i % 2]).click()
        elif args.moves_by == "key":  # the ★ alone (a click may pick a dot): arrow presses, Python has it after them
            await page.locator("canvas.lp-overlay").focus()
            for _ in range(3):
                await page.keyboard.press(("ArrowRight", "ArrowUp", "ArrowLeft", "ArrowDown")[i % 4])
        elif args.moves_by == "drag":  # a drag ends where it is let go, on a dot or not (a pick is a click)
            a = await page.evaluate(f"{LP}.locate({rng.uniform(-2, 2):.3f}, {rng.uniform(-2, 2):.3f})")
            b = await page.evaluate(f"{LP}.locate({rng.uniform(-2, 2):.3f}, {rng.uniform(-2, 2):.3f})")
            await page.mouse.move(a["x"], a["y"])
            await page.mouse.down()
            await page.mouse.move(b["x"], b["y"], steps=8)
            await page.mouse.up()
        else:
            at = await page.evaluate(f"{LP}.locate({rng.uniform(-2, 2):.3f}, {rng.uniform(-2, 2):.3f})")
            await page.mouse.click(at["x"], at["y"])
        if i == 1:
            store.ask(room, key, {"kind": "digit", "label": ASKS[0]})
        if i == args.moves // 2 + 1:
            store.ask(room, key, {"kind": "digit", "label": ASKS[1]})
        await asyncio.sleep(max(0.0, args.move_every - (time.monotonic() - t0)))
    await asyncio.sleep(args.settle)


# --- the run ------------------------------------------------------------------------------------


def follow_latencies(moves: list[tuple[float, str]], pupils: list[Pupil], timeout: float,
                     param: str = "z") -> tuple[list, list, list]:
    """(ms from each move until each student's page has it or a later move: a page that lags applies the newest
    view and skips those between; errors: a move the page never caught up with; the slowest page's ms per move)."""
    ms, missed, slowest = [], [], [0.0] * len(moves)
    for p in pupils:
        got = [(at, parse_qs(qs).get(param, [""])[0]) for at, qs in p.addresses]
        for i, (t, _) in enumerate(moves):
            # the first address with this move's value or a later one's, received after that move (give or take
            # the watch's clock; a sub-tab's value comes back every other move)
            at = next((at for at, z in got if any(z == zj and at >= tj - 0.5 for tj, zj in moves[i:])), None)
            if at is None or at - t > timeout:
                missed.append(f"student {p.n}: never caught up with move {i + 1}")
            else:
                ms.append(max(0.0, at - t) * 1000)
                slowest[i] = max(slowest[i], ms[-1])
    return ms, missed, slowest


def drawing_latencies(store, room: str, key: str, pupils: list[Pupil], dots: list, errors: list) -> dict:
    """Send → in the store, and send → on the lecturer's map (the kth drawing against the map's count k)."""
    drawings = store.drawings(room, key)
    sends = sorted(t for p in pupils for t in p.sent_at)
    stored, on_map = [], []
    for k, d in enumerate(drawings, 1):
        sent = max((t for t in sends if t <= d.at), default=None)  # the latest Send before it was stored
        if sent is None:
            continue
        stored.append((d.at - sent) * 1000)
        shown = next((t / 1000 for t, n in dots if n >= k), None)
        if shown is None:
            errors.append(f"drawing {k} never on the lecturer's map")
        else:
            on_map.append(max(0.0, shown - sent) * 1000)
    sent_ok = sum(p.sent_ok for p in pupils)
    if sent_ok != len(sends) or len(drawings) != len(sends):
        errors.append(f"{len(sends)} drawings sent, {sent_ok} confirmed on the students' pages, "
                      f"{len(drawings)} in the store")
    return {"to_store_ms": load_measure.summarise(stored), "to_map_ms": load_measure.summarise(on_map),
            "sent": len(sends), "stored": len(drawings)}


async def drive(app, store, args) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"pupils": [], "errors": [], "joined": 0}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(args.chromium), args=CHROMIUM_ARGS)
        lctx, lect, room, key = await open_lecturer(browser, app.url, args.load_timeout)
        pin = next((c["value"] for c in await lctx.cookies() if c["name"] == "LE_REPLICA"), "")
        trainer_rec = await record_trainer(app.url, args, pin) if args.train else None
        rec = await record_student(browser, app.url, room, store, key, args.load_timeout)
        store.ask(room, key, None)
        store.clear_drawings(room, key)
        os.nice(args.browser_nice)  # the students and the lecturer's browser stand for other machines
        pids = replica_memory.replicas(app.proc.pid, app.log_text())  # r1, r2, ...: the LE_REPLICA cookie's
        cpu = lambda: sum(cpu_seconds(pid) for pid in pids)  # noqa: E731
        meter = replica_memory.Meter(pids)
        meter.start()
        stop, n = asyncio.Event(), args.followers + args.drawers
        t0 = time.monotonic()
        tasks = [asyncio.create_task(pupil(i, i >= args.followers, app.url, room, rec, args, out,
                                           t0 + args.ramp * i / max(1, n), stop)) for i in range(n)]
        while out["joined"] + len(out["errors"]) < n and time.monotonic() < t0 + args.ramp + args.load_timeout:
            await asyncio.sleep(0.5)
        out["join_s"] = time.monotonic() - t0
        if args.progress:
            print(f"  {out['joined']} of {n} students joined in {out['join_s']:.0f} s; the lecture starts", flush=True)
        watch = StoreWatch(store, room, PARAM[args.moves_by])
        watch.start()
        cpu0, t1 = cpu(), time.monotonic()
        stats = load_measure.Stats()
        trainer = asyncio.create_task(protocol_trainer(app.url, trainer_rec, args, stats, pin)) if args.train \
            else None
        await lecture(lect, store, room, key, args, out)
        out["class_s"], out["cpu_s"] = time.monotonic() - t1, cpu() - cpu0
        watch.stop()
        stop.set()
        await asyncio.gather(*tasks)
        if trainer is not None:  # the memory is read until the training has ended
            await trainer
            out["errors"] += stats.errors
        out["training"], out["pin"] = stats.training if args.train else None, pin
        out["memory_end"], out["memory_peak"], out["at_peak"] = meter.stop(), meter.peak, meter.at_peak
        out["dots"] = await lect.evaluate("window.__dots")
        out["moves"], out["room"], out["key"], out["recorded"] = watch.moves, room, key, \
            {k: (v if isinstance(v, int) else int(v is not None) if k == "poll" else len(v))
                                                    for k, v in rec.items()}
        await lctx.close()
        await browser.close()
    return out


def report(args, out: dict, store, app) -> dict:
    pupils, errors = out["pupils"], list(out["errors"])
    follow, missed, slowest = follow_latencies(out["moves"], pupils, args.action_timeout, PARAM[args.moves_by])
    errors += missed
    for p in pupils:  # a drawer whose page never showed a request could not answer it
        if p.n >= args.followers:
            errors += [f"student {p.n}: its page never showed the request for a {label}" for label in ASKS
                       if not any(f"draw a {label}" in body for _, body in p.asked)]
    drawing = drawing_latencies(store, out["room"], out["key"], pupils, out["dots"], errors)
    errors += [f"server: {f}" for f in load_measure.server_exceptions(app.log_text())]
    n = args.followers + args.drawers
    summary = {
        "followers": args.followers, "drawers": args.drawers, "replicas": args.replicas, "store": args.store,
        "moves": len(out["moves"]), "moves_by": args.moves_by, "move_every_s": args.move_every,
        "class_s": out["class_s"],
        "join_s": out["join_s"], "recorded": out["recorded"], "cpus": os.cpu_count(),
        "load_before": args.load_before, "follow_ms": load_measure.summarise(follow),
        "follow_slowest_ms": [round(v) for v in slowest], "drawing": drawing,
        "cpu_s": out["cpu_s"], "cpu_per_student_s": out["cpu_s"] / n / out["class_s"],
        "cpu_per_student_move_ms": out["cpu_s"] / n / max(1, len(out["moves"])) * 1000,
        "memory_end_mib": out["memory_end"], "memory_peak_mib": out["memory_peak"], "at_peak": out["at_peak"],
        "lecturer_replica": out["pin"], "training": out["training"],
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX", "2 (serve_class.sh)"), "errors": errors,
    }
    f, d = summary["follow_ms"], drawing
    print(f"\na class on {args.replicas} replicas ({args.store} store): {args.followers} followers + "
          f"{args.drawers} drawers over the protocol, the lecturer a real Chromium page moving every "
          f"{args.move_every:g} s ({len(out['moves'])} moves in {out['class_s']:.0f} s), asking for a digit twice; "
          f"{os.cpu_count()} CPUs, load average {args.load_before} before the run")
    print(f"  recorded from one real student page: {summary['recorded']} messages")
    print(f"  all {n} students joined in {out['join_s']:.0f} s" if out["join_s"] else "")
    print(f"  follow (move in the store -> the student's page has it or a newer one): median {f['median']:.0f} ms, "
          f"p95 {f['p95']:.0f} ms, max {f['max']:.0f} ms over {f['n']} (student, move) pairs  [goal p95 <= 1000]")
    print(f"    the slowest page, move by move: {', '.join(str(v) for v in summary['follow_slowest_ms'])} ms")
    print(f"  drawing (Send -> in the store): median {d['to_store_ms']['median']:.0f} ms, p95 "
          f"{d['to_store_ms']['p95']:.0f} ms; (Send -> on the lecturer's map): median {d['to_map_ms']['median']:.0f}"
          f" ms, p95 {d['to_map_ms']['p95']:.0f} ms over {d['to_map_ms']['n']} drawings  [goal p95 <= 2000]")
    print(f"  replicas' CPU: {out['cpu_s']:.1f} CPU-s over {out['class_s']:.0f} s = "
          f"{summary['cpu_per_student_s'] * 1000:.2f} CPU-ms per student per second "
          f"({out['cpu_s'] / out['class_s']:.2f} cores for {n} students); per student and move "
          f"{summary['cpu_per_student_move_ms']:.1f} CPU-ms (moves by {args.moves_by}, the asks and drawings included)")
    for i, (m, pk) in enumerate(zip(out["memory_end"], out["memory_peak"]), 1):
        print(f"  replica r{i} ({m['processes']} processes, peak {pk['processes']}): RSS {m['rss']:.0f} MiB (peak "
              f"{pk['rss']:.0f}), PSS {m['pss']:.0f} MiB (peak {pk['pss']:.0f}), USS {m['uss']:.0f} MiB (peak "
              f"{pk['uss']:.0f}), resident, each page once, {m['resident']:.0f} MiB (peak {pk['resident']:.0f})  "
              f"[goal resident <= 1024]{'  the lecturer' if out['pin'] == f'r{i}' else ''}")
        at = out["at_peak"][i - 1]
        for r in at.get("processes", []):
            print(f"    at its peak PSS, pid {r['pid']}: RSS {r['rss']:.0f}, PSS {r['pss']:.0f}, USS {r['uss']:.0f} MiB"
                  f"  {r['cmd'][:60]}")
        for name, rss, pss in at.get("breakdown", [])[:6]:
            print(f"      pid {at['biggest']}: {name:34s} RSS {rss:6.0f}  PSS {pss:6.0f} MiB")
    if out["training"] is not None:
        t = out["training"]
        took = f", {t['seconds']:.0f} s from Start" if t["seconds"] else ""
        print(f"  training on {out['pin'] or 'an unpinned replica'}: "
              f"{'finished' if t['finished'] else 'NOT finished'} ({t['message']}{took})")
    print(f"  errors: {len(errors)}" + "".join(f"\n    {e}" for e in errors[:15]))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--followers", type=int, default=100)
    ap.add_argument("--drawers", type=int, default=50, help="students who also draw when asked (default 50)")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    ap.add_argument("--moves", type=int, default=12, help="the lecturer's moves (default 12)")
    ap.add_argument("--move-every", type=float, default=3.0)
    ap.add_argument("--moves-by", choices=tuple(PARAM), default="drag",
                    help="drag: the lecturer drags the ★ across its map (a follower's map takes it in the page); "
                    "star: it clicks its map (the ★ moves, or the dot there is picked: a follower's map reruns, and "
                    "its picked view); key: it moves the ★ with arrow keys; tab: it opens another sub-tab (a "
                    "follower's whole page)")
    ap.add_argument("--ramp", type=float, default=30.0, help="the students arrive over this many seconds")
    ap.add_argument("--settle", type=float, default=8.0, help="seconds after the last move before the end")
    ap.add_argument("--action-timeout", type=float, default=30.0)
    ap.add_argument("--load-timeout", type=float, default=240.0)
    ap.add_argument("--browser-nice", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chromium", default=None)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--train", action="store_true", help="one training (quick preset) on the lecturer's replica")
    ap.add_argument("--train-timeout", type=float, default=600.0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with contextlib.ExitStack() as stack:
        env = {}
        if args.store == "redis":
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
            from redis_server import redis_server

            env["CLASS_STORE"] = stack.enter_context(redis_server(Path(tempfile.mkdtemp(prefix="bench-redis-"))))
        app = start_class(args.replicas, extra_env=env)
        stack.callback(app.cleanup)
        app.wait_healthy()
        from dashboard.class_store import open_store

        store = open_store(env or {"CLASS_STORE": f"sqlite:///{app.tmp / 'models' / '_class' / 'class.sqlite3'}"})
        out = asyncio.run(drive(app, store, args))
        summary = report(args, out, store, app)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
