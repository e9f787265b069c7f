"""Memory of each app replica behind scripts/serve_class.sh: RSS, PSS and USS of its process tree, and where it goes.

    python bench/replica_memory.py                     # 2 replicas, idle after their landing page
    python bench/replica_memory.py --arena-max 0       # glibc's default malloc arenas (8 x cores), for comparison

RSS counts every resident page a process maps, so pages that two processes share (the forkserver's children
inherit its imports; every process maps the same CUDA and torch libraries) are counted in each; PSS divides a
shared page between the processes mapping it (the tree's PSS is what it costs the machine); USS counts only the
pages no other process maps; "resident" counts each physical page the tree maps once, shared with another tree or
not (/proc/<pid>/pagemap, as root): the memory the replica holds, the goal's figure. Read from
/proc/<pid>/smaps_rollup; the breakdown (anonymous memory, libraries by
name) from /proc/<pid>/smaps. bench/class_replay.py reports the same figures under a class's load.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_start import parent, process_tree, start_class  # noqa: E402

REPLICA = re.compile(rb"run\x00dashboard/app\.py")
PAGE = os.sysconf("SC_PAGE_SIZE")


def replicas(script_pid: int, log: str = "") -> list[int]:
    """The replica processes (`... run dashboard/app.py`) under scripts/serve_class.sh, in HAProxy's order (r1,
    r2, ...: the LE_REPLICA cookie's values) as serve_class.sh's output `log` names them, else in port order."""
    named = {int(port): int(i) for i, port in re.findall(r"replica r(\d+) on 127\.0\.0\.1:(\d+)", log)}
    found, matched = [], set()
    for pid in process_tree(script_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if REPLICA.search(cmd):
            matched.add(pid)
            if parent(pid) in matched:  # the replica's training forkserver: a fork, with its command line
                continue
            port = cmd.split(b"--server.port\x00", 1)[1].split(b"\x00", 1)[0]
            found.append((int(port), pid))
    return [pid for _, pid in sorted(found, key=lambda t: (named.get(t[0], 0), t[0]))]


def page_frames(pid: int) -> np.ndarray:
    """The physical page frames a process has resident (/proc/PID/pagemap; zeros without CAP_SYS_ADMIN)."""
    found = []
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                lo, hi = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
                pagemap.seek(lo // PAGE * 8)
                try:
                    entries = np.frombuffer(pagemap.read((hi - lo) // PAGE * 8), dtype=np.uint64)
                except OSError:  # [vsyscall]
                    continue
                present = (entries >> np.uint64(63)) == 1
                found.append(entries[present] & np.uint64((1 << 55) - 1))
    except OSError:
        pass
    return np.concatenate(found) if found else np.zeros(0, np.uint64)


def resident(pids: list[int]) -> float | None:
    """MiB of memory the processes hold together, each physical page counted once (a page shared with a process
    outside them counts in full): what the tree would free if it ended. None where the frames cannot be read."""
    frames = np.concatenate([page_frames(p) for p in pids] or [np.zeros(0, np.uint64)])
    if frames.size and not frames.any():
        return None
    return np.unique(frames).size * PAGE / 2**20


def rollup(pid: int) -> dict[str, float]:
    """{"rss", "pss", "uss"} of one process, in MiB (zeros when it is gone)."""
    v = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in v:
                v[name] = int(rest.split()[0])
    except OSError:
        pass
    return {"rss": v["Rss"] / 1024, "pss": v["Pss"] / 1024, "uss": (v["Private_Clean"] + v["Private_Dirty"]) / 1024}


def tree_memory(pid: int) -> dict:
    """A replica's tree: the sums of rollup() over its processes, and how many processes."""
    procs = process_tree(pid)
    tot = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    for p in procs:
        for k, v in rollup(p).items():
            tot[k] += v
    return {**tot, "resident": resident(procs) or 0.0, "processes": len(procs)}


def breakdown(pid: int, top: int = 8) -> list[tuple[str, float, float]]:
    """(mapping, RSS MiB, PSS MiB) of one process, grouped: heap and anonymous memory, and each file by name."""
    groups: dict[str, list[float]] = {}
    name, rss, pss = None, 0, 0
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return []

    def flush() -> None:
        if name is not None:
            g = groups.setdefault(name, [0.0, 0.0])
            g[0] += rss / 1024
            g[1] += pss / 1024

    for line in lines:
        head = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            flush()
            path = head[5] if len(head) > 5 else ""
            name = ("[anon]" if not path or path.startswith("[anon") else
                    path if path.startswith("[") else Path(path).name.split(".so")[0] + ".so*"
                    if ".so" in path else Path(path).name)
            rss = pss = 0
        elif head and head[0] == "Rss:":
            rss = int(head[1])
        elif head and head[0] == "Pss:":
            pss = int(head[1])
    flush()
    return sorted(((k, v[0], v[1]) for k, v in groups.items()), key=lambda t: -t[1])[:top]


def processes(pid: int) -> list[dict]:
    """Each process of a replica's tree: its pid, the start of its command line and its rollup()."""
    out = []
    for p in process_tree(pid):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\x00", b" ")[:80].decode(errors="replace")
        except OSError:
            continue
        out.append({"pid": p, "cmd": cmd.strip(), **rollup(p)})
    return out


class Meter(threading.Thread):
    """Every 2 s, each replica tree's memory (keeping the peak of each figure), and at each tree's peak PSS its
    processes and the breakdown() of its biggest one (by PSS)."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self._halt = pids, threading.Event()
        self.peak = [dict(rss=0.0, pss=0.0, uss=0.0, resident=0.0, processes=0) for _ in pids]
        self.at_peak: list[dict] = [{} for _ in pids]

    def run(self) -> None:
        while not self._halt.wait(2.0):
            self.sample()

    def sample(self) -> list[dict]:
        now = [tree_memory(p) for p in self.pids]
        for i, (peak, m) in enumerate(zip(self.peak, now)):
            if m["pss"] > peak["pss"]:
                procs = processes(self.pids[i])
                big = max(procs, key=lambda r: r["pss"]) if procs else None
                self.at_peak[i] = {"processes": procs, "biggest": big and big["pid"],
                                   "breakdown": breakdown(big["pid"]) if big else []}
            for k in peak:
                peak[k] = max(peak[k], m[k])
        return now

    def stop(self) -> list[dict]:
        self._halt.set()
        self.join()
        return self.sample()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--arena-max", type=int, default=None,
                    help="MALLOC_ARENA_MAX for the replicas (default: what serve_class.sh sets; 0: glibc's own)")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds to wait once healthy (default 10)")
    args = ap.parse_args()
    env = {} if args.arena_max is None else {"MALLOC_ARENA_MAX": str(args.arena_max)}  # glibc: 0 is its default
    app = start_class(args.replicas, extra_env=env)
    try:
        app.wait_healthy()
        time.sleep(args.settle)
        for i, pid in enumerate(replicas(app.proc.pid, app.log_text()), 1):
            m = tree_memory(pid)
            print(f"replica r{i} (pid {pid}, {m['processes']} processes): RSS {m['rss']:.0f} MiB, "
                  f"PSS {m['pss']:.0f} MiB, USS {m['uss']:.0f} MiB, resident {m['resident']:.0f} MiB (each page once)")
            for r in processes(pid):
                print(f"  pid {r['pid']}: RSS {r['rss']:.0f}, PSS {r['pss']:.0f}, USS {r['uss']:.0f} MiB  {r['cmd']}")
                for name, rss, pss in breakdown(r["pid"]):
                    print(f"      {name:40s} RSS {rss:7.1f}  PSS {pss:7.1f} MiB")
        arenas = env.get("MALLOC_ARENA_MAX", os.environ.get("MALLOC_ARENA_MAX", "serve_class.sh's default"))
        print(f"MALLOC_ARENA_MAX in the replicas: {arenas} (0: glibc's default)")
    finally:
        app.cleanup()


if __name__ == "__main__":
    main()
