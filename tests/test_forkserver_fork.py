"""A replica's training forkserver, forked from the replica before its threads start
(dashboard/training/forkserver_fork.py): trainings run through it as through multiprocessing's own, its workers
share the server's PyTorch pages, the server keeps its own priority and session, and nothing outlives the server.

Each server is a fresh Python process (a fork is only safe before a process's threads, and pytest's has some).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
END_TIMEOUT = 240  # a loaded CI machine: a tiny training, and PyTorch imported once

SERVER = """
import json, os, sys, time
sys.path[:0] = [{tests!r}, {root!r}]
from dashboard.training import forkserver_fork
fork_pid = forkserver_fork.start()  # as dashboard/replica.py does, first

from conftest import small_mnist, tiny_cfg
from factories import tcfg
from dashboard.training import local_worker as tw
from dashboard.training.protocol import Done, Started, WorkerSpec
from vae_core.data import load_dataset


def shared_dirty_mib(pid):
    for line in open(f"/proc/{{pid}}/smaps_rollup"):
        if line.startswith("Shared_Dirty:"):
            return int(line.split()[1]) / 1024


def train_once(data):
    seen, facts = [], {{}}

    def heard(msg):
        seen.append(msg)
        if isinstance(msg, Started) and not facts:  # the worker and its forkserver, while both live
            pid = w.pid
            fs = int(open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[1])
            facts.update(worker=pid, forkserver=fs, worker_nice=os.getpriority(os.PRIO_PROCESS, pid),
                         worker_sid=os.getsid(pid), forkserver_cmdline=open(f"/proc/{{fs}}/cmdline").read(),
                         forkserver_parent=int(open(f"/proc/{{fs}}/stat").read().rsplit(")", 1)[1].split()[1]),
                         shared_dirty_mib=shared_dirty_mib(os.getpid()))

    spec = WorkerSpec(tiny_cfg(), tcfg(epochs=1), data=data, snapshot_images=50, nice=17, threads=1)
    w = tw.WorkerProcess(spec, heard, lambda *a: None).start()
    assert w.join({timeout}), "the training did not end"
    facts["done"] = [m.status for m in seen if isinstance(m, Done)]
    return facts


if __name__ == "__main__":
    data = small_mnist(load_dataset("mnist", None, False))
    out = dict(me=os.getpid(), fork_pid=fork_pid, cmdline=open("/proc/self/cmdline").read(),
               nice=os.getpriority(os.PRIO_PROCESS, 0), sid=os.getsid(0), first=train_once(data))
    if "--kill-forkserver" in sys.argv:
        os.kill(fork_pid, 9)
        time.sleep(0.5)  # the kernel reaps nothing for us: multiprocessing finds it dead at its next start
        out["second"] = train_once(data)
    print(json.dumps(out), flush=True)
"""


def run_server(tmp_path, *args: str) -> dict:
    script = tmp_path / "server.py"
    script.write_text(SERVER.format(tests=str(ROOT / "tests"), root=str(ROOT), timeout=END_TIMEOUT))
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=END_TIMEOUT * 2, env={**os.environ, "VAE_TRAIN_NICE": "15"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_training_runs_through_a_forkserver_forked_from_the_server_and_shares_its_pytorch(tmp_path):
    out = run_server(tmp_path)
    first = out["first"]
    assert first["done"] == ["completed"]
    assert first["forkserver"] == out["fork_pid"] and first["forkserver_parent"] == out["me"]
    assert first["forkserver_cmdline"] == out["cmdline"], "a fork of the server, not a fresh interpreter"
    # PyTorch's pages, imported before the fork, are the server's and its forkserver's at once (a forkserver that
    # imported PyTorch itself would leave the server's anonymous memory all private)
    assert first["shared_dirty_mib"] > 100, first
    # the forkserver took the workers' niceness and a session of its own; the server kept its own
    assert first["worker_nice"] == 17 and first["worker_sid"] == out["fork_pid"]
    assert out["nice"] == os.getpriority(os.PRIO_PROCESS, 0) and out["sid"] == os.getsid(0)
    deadline = time.monotonic() + 30
    while not gone(out["fork_pid"]) and time.monotonic() < deadline:  # ends once its server has
        time.sleep(0.1)
    assert gone(out["fork_pid"]), "the forkserver outlived its server"


def test_a_killed_forkserver_is_replaced_by_multiprocessings_own(tmp_path):
    out = run_server(tmp_path, "--kill-forkserver")
    second = out["second"]
    assert second["done"] == ["completed"]
    assert second["forkserver"] != out["fork_pid"]
    assert "multiprocessing.forkserver" in second["forkserver_cmdline"]


def test_start_does_nothing_where_a_forkserver_runs():
    code = ("import sys; sys.path.insert(0, '.');"
            "from dashboard.training import forkserver_fork as f; a = f.start(); b = f.start(); print(a > 0, b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.split() == ["True", "None"], out.stderr[-2000:]
