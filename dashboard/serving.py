"""Running the app's Streamlit servers from outside: free ports, the health check, one server process.

Used by scripts/serve_class.sh (through scripts/ports.py), the browser tests and the bench scripts. Standard
library only: scripts/ports.py runs it before every replica starts, with nothing heavy imported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
HEALTH = "/_stcore/health"


def free_ports(n: int, avoid: frozenset[int] = frozenset()) -> list[int]:
    """n different loopback ports that nothing listens on now, none of `avoid` (a port chosen, not yet listened on:
    the class's own, which the kernel may hand out again until HAProxy binds it)."""
    socks: list[socket.socket] = []  # all open at once, so the ports differ
    try:
        while len(socks) - sum(s.getsockname()[1] in avoid for s in socks) < n:
            socks.append(socket.socket())
            socks[-1].bind(("127.0.0.1", 0))
        return [p for p in (s.getsockname()[1] for s in socks) if p not in avoid][:n]
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


def listen_error(addr: str, port: int) -> OSError | None:
    """Why addr:port cannot be listened on, or None when it can."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy does: TIME_WAIT is no obstacle
        try:
            s.bind((addr, port))
        except OSError as e:
            return e
    return None


def healthy(url: str, replica: str | None = None) -> bool:
    """Whether the server at url answers its health check; through the proxy, whether replica `replica` did."""
    headers = {"Cookie": f"LE_REPLICA={replica}"} if replica else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url + HEALTH, headers=headers), timeout=2) as r:
            return r.status == 200 and (replica is None or r.headers.get("X-Replica") == replica)
    except OSError:
        return False


def local_url(port: int, addr: str = "127.0.0.1") -> str:
    """The URL this machine reaches a server on, listening on addr:port (any address: through loopback)."""
    host = "127.0.0.1" if addr in ("0.0.0.0", "::") else addr
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"  # an IPv6 address in brackets


def wait_all(items: Iterable, ready: Callable[[object], bool], seconds: float, poll: float = 0.5) -> set:
    """Poll until every item is ready or the time is up; the items still not ready (empty: all were)."""
    deadline = time.monotonic() + seconds
    waiting = set(items)
    while waiting and time.monotonic() < deadline:
        waiting = {i for i in waiting if not ready(i)}
        if waiting:
            time.sleep(poll)
    return waiting


@dataclass
class Server:
    """A server process started by start_streamlit (or a script that runs several: proc is its parent)."""

    proc: subprocess.Popen
    url: str
    started: float  # time.time() just before the process was started
    log: Path  # its stdout and stderr

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def wait_healthy(self, timeout: float = 120, poll: float = 0.025) -> float:
        """Poll the health check until it answers; time.time() of the answer. RuntimeError, with the end of the
        log, when the process exits first or the time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            if healthy(self.url):
                return time.time()
            time.sleep(poll)
        raise RuntimeError(f"streamlit did not answer at {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_streamlit(log: Path, script: Path = APP, env: dict | None = None, python_flags: Iterable[str] = (),
                    entry: Path | None = None) -> Server:
    """`streamlit run script` on a free port (headless, no usage stats), in its own session; its output goes to
    `log`, a file (a pipe nobody reads would block the server once full). entry: a Python script run in place of
    `-m streamlit` with the same arguments (bench/timed_server.py)."""
    port = free_port()
    streamlit = [str(entry)] if entry else ["-m", "streamlit"]
    cmd = [sys.executable, *python_flags, *streamlit, "run", str(script), "--server.headless", "true",
           "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    started = time.time()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return Server(proc, f"http://127.0.0.1:{port}", started, log)


@contextlib.contextmanager
def running_streamlit(script: Path = APP, env: dict | None = None, timeout: float = 90) -> Iterator[Server]:
    """start_streamlit for the duration of the block, healthy when the block starts; stopped and its log removed
    after it."""
    tmp = Path(tempfile.mkdtemp(prefix="streamlit-server-"))
    try:
        server = start_streamlit(tmp / "server.log", script, env)
        try:
            server.wait_healthy(timeout, poll=0.3)
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
