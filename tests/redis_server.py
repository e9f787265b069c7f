"""A throwaway redis-server (Debian's) on a free loopback port, in a folder of its own, for the class store's
tests and bench/class_store.py. Nothing is saved to disk; the server ends with the context."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from dashboard.serving import free_port

REQUIRE_ENV = "LATENT_EXPLORER_REQUIRE_REDIS"  # "1" in CI (.ci/run installs redis-server): missing is a failure


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).is_file()), None)


@contextlib.contextmanager
def redis_server(folder: Path, timeout: float = 30.0) -> Iterator[str]:
    """Start redis-server in `folder`; yield its redis:// address; stop it."""
    binary = redis_server_binary()
    if binary is None:
        raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder), "--logfile", str(folder / "redis.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "redis.log").read_text() if (folder / "redis.log").exists() else ""
                    raise RuntimeError(f"redis-server did not start on port {port}:\n{log}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
