"""Port chores for scripts/serve_class.sh (stdlib only).

    python scripts/ports.py --check ADDR PORT        exit 1 with one line if ADDR:PORT cannot be listened on
    python scripts/ports.py --pick N                 print N free loopback ports
    python scripts/ports.py --wait-healthy S P...    wait up to S seconds until every 127.0.0.1:P/_stcore/health answers 200
    python scripts/ports.py --wait-proxy S ADDR PORT N   ... until the proxy at ADDR:PORT reaches each of replicas r1..rN
"""

from __future__ import annotations

import socket
import sys
import time
import urllib.request


def check(addr: str, port: int) -> int:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy does: TIME_WAIT is no obstacle
        try:
            s.bind((addr, port))
        except OSError as e:
            why = "it is in use by another program" if e.errno == 98 else e.strerror
            print(f"serve_class: cannot listen on {addr}:{port}: {why}; choose another with --port", file=sys.stderr)
            return 1
    return 0


def pick(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]  # all open at once, so the n ports differ
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def healthy(port: int, addr: str = "127.0.0.1", replica: str | None = None) -> bool:
    """Whether addr:port answers its health check; through the proxy, whether replica `replica` answered."""
    host = "127.0.0.1" if addr in ("0.0.0.0", "::") else addr
    host = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    headers = {"Cookie": f"LE_REPLICA={replica}"} if replica else {}
    try:
        req = urllib.request.Request(f"http://{host}:{port}/_stcore/health", headers=headers)
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status == 200 and (replica is None or r.headers.get("X-Replica") == replica)
    except OSError:
        return False


def wait_proxy(seconds: float, addr: str, port: int, n: int) -> int:
    deadline = time.monotonic() + seconds
    waiting = {f"r{i}" for i in range(1, n + 1)}
    while waiting and time.monotonic() < deadline:
        waiting = {r for r in waiting if not healthy(port, addr, r)}
        if waiting:
            time.sleep(0.5)
    if waiting:
        print(f"serve_class: the proxy on port {port} does not reach {sorted(waiting)} after {seconds:g} s", file=sys.stderr)
        return 1
    return 0


def wait_healthy(seconds: float, ports: list[int]) -> int:
    deadline = time.monotonic() + seconds
    waiting = set(ports)
    while waiting and time.monotonic() < deadline:
        waiting = {p for p in waiting if not healthy(p)}
        if waiting:
            time.sleep(0.5)
    if waiting:
        print(f"serve_class: no health answer from ports {sorted(waiting)} after {seconds:g} s", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--check":
        return check(argv[1], int(argv[2]))
    if len(argv) == 2 and argv[0] == "--pick":
        print(" ".join(map(str, pick(int(argv[1])))))
        return 0
    if len(argv) >= 3 and argv[0] == "--wait-healthy":
        return wait_healthy(float(argv[1]), [int(p) for p in argv[2:]])
    if len(argv) == 5 and argv[0] == "--wait-proxy":
        return wait_proxy(float(argv[1]), argv[2], int(argv[3]), int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
