"""The class store's speed and size: revision(), publish() and add_drawing(), SQLite and Redis, 1 and 2 processes.

    python bench/class_store.py                    # both backends, 2,000 calls of each per process
    python bench/class_store.py --calls 500 --backends sqlite

revision() is what every follower's page polls (about twice a second each: 300 students are 600 calls a second
over all replicas); publish() is the lecturer's every change; add_drawing() a student's drawing (a 16-number
code, two 784-byte images). Each is called --calls times in one process, then in two processes at once (two
replicas on one store, started together), and its throughput (calls a second, all processes together) and
latency (median and 99th percentile of one call) are printed. SQLite is a file in a temporary folder (as in the
models folder), Redis a redis-server started here on a free port (tests/redis_server.py). Then the store's
size with a full room (MAX_DRAWINGS_PER_ROOM drawings): SQLite's file (and its WAL), Redis's used_memory.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import redis  # noqa: E402

from dashboard.class_store import bounds, open_store  # noqa: E402
from redis_server import redis_server  # noqa: E402

IMAGE = bytes(range(256)) * 3 + bytes(16)
CODE = [0.125 * i for i in range(16)]


def _calls(target: str, room: str, key: str, op: str, calls: int, tag: str, start, out) -> None:
    """One process: `calls` calls of `op`, timed one by one, after every process is ready."""
    store = open_store({"CLASS_STORE": target})
    fns = {
        "revision": lambda i: store.revision(room),
        "publish": lambda i: store.publish(room, key, {"model": "mnist-2d", "z1": f"{i * 0.001:.3f}", "z2": "0.5"}),
        "add_drawing": lambda i: store.add_drawing(room, f"{tag}{i}", "7", "mnist-2d", CODE, IMAGE, IMAGE),
    }
    fn = fns[op]
    store.revision(room)  # a first call opens the connection, outside the timing
    start.wait()
    times = []
    t0 = time.perf_counter()
    for i in range(calls):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    out.put((time.perf_counter() - t0, times))


def run(target: str, op: str, calls: int, procs: int) -> tuple[float, float, float]:
    """(calls a second over all processes, median ms, p99 ms)."""
    store = open_store({"CLASS_STORE": target})
    room, key = store.create()
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(procs), ctx.Queue()
    ps = [ctx.Process(target=_calls, args=(target, room, key, op, calls, f"p{n}s", start, out)) for n in range(procs)]
    for p in ps:
        p.start()
    results = [out.get(timeout=600) for _ in ps]
    for p in ps:
        p.join()
    store.end(room, key)
    wall = max(w for w, _ in results)
    times = sorted(t for _, ts in results for t in ts)
    return procs * calls / wall, statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3


def size_of_a_full_room(target: str, folder: Path) -> str:
    store = open_store({"CLASS_STORE": target})
    if target.startswith("redis"):
        r = redis.Redis.from_url(target)
        before = r.info("memory")["used_memory"]
    room, key = store.create()
    for i in range(bounds.MAX_DRAWINGS_PER_ROOM):
        store.add_drawing(room, f"s{i}", "7", "mnist-2d", CODE, IMAGE, IMAGE)
    n = store.drawing_count(room)
    if target.startswith("redis"):
        used = r.info("memory")["used_memory"] - before
        return f"{n} drawings: Redis used_memory +{used / 1e6:.2f} MB ({used / n:.0f} bytes a drawing)"
    db, wal = (folder / name for name in ("class.sqlite3", "class.sqlite3-wal"))
    size, wal_size = db.stat().st_size, wal.stat().st_size if wal.exists() else 0
    return (f"{n} drawings: SQLite file {size / 1e6:.2f} MB ({size / n:.0f} bytes a drawing), "
            f"its WAL {wal_size / 1e6:.2f} MB (after every call above)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--backends", nargs="+", default=["sqlite", "redis"], choices=["sqlite", "redis"])
    args = ap.parse_args()
    calls = min(args.calls, bounds.MAX_DRAWINGS_PER_ROOM // 2)  # add_drawing: two processes fill one room at most
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            folder = Path(tmp) / backend
            folder.mkdir()
            with contextlib.ExitStack() as stack:
                if backend == "sqlite":
                    target = f"sqlite:///{folder / 'class.sqlite3'}"
                else:
                    target = stack.enter_context(redis_server(folder))
                print(f"\n{backend}")
                print(f"{'call':<12} {'processes':>9} {'calls/s':>9} {'median ms':>10} {'p99 ms':>8}")
                for op in ("revision", "publish", "add_drawing"):
                    for procs in (1, 2):
                        n = calls if op == "add_drawing" else args.calls
                        rate, median, p99 = run(target, op, n, procs)
                        print(f"{op:<12} {procs:>9} {rate:>9.0f} {median:>10.3f} {p99:>8.3f}")
                print(size_of_a_full_room(target, folder))


if __name__ == "__main__":
    main()
