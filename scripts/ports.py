"""Port chores for scripts/serve_class.sh (the work is dashboard/serving.py's; this prints its one-line messages).

    python scripts/ports.py --check ADDR PORT           exit 1 with one line if ADDR:PORT cannot be listened on
    python scripts/ports.py --pick N [AVOID...]         print N free loopback ports, none of AVOID
    python scripts/ports.py --wait-healthy S P...       wait up to S seconds until every 127.0.0.1:P answers its
                                                        health check (/_stcore/health) with 200
    python scripts/ports.py --wait-proxy S ADDR PORT N  ... until the proxy at ADDR:PORT reaches replicas r1..rN
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import serving  # noqa: E402


def check(addr: str, port: int) -> int:
    error = serving.listen_error(addr, port)
    if error is None:
        return 0
    why = "it is in use by another program" if error.errno == 98 else error.strerror
    print(f"serve_class: cannot listen on {addr}:{port}: {why}; choose another with --port", file=sys.stderr)
    return 1


def wait_healthy(seconds: float, ports: list[int]) -> int:
    waiting = serving.wait_all(ports, lambda p: serving.healthy(serving.local_url(p)), seconds)
    if waiting:
        print(f"serve_class: no health answer from ports {sorted(waiting)} after {seconds:g} s", file=sys.stderr)
        return 1
    return 0


def wait_proxy(seconds: float, addr: str, port: int, n: int) -> int:
    url = serving.local_url(port, addr)
    waiting = serving.wait_all([f"r{i}" for i in range(1, n + 1)], lambda r: serving.healthy(url, r), seconds)
    if waiting:
        print(f"serve_class: the proxy on port {port} does not reach {sorted(waiting)} after {seconds:g} s",
              file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--check":
        return check(argv[1], int(argv[2]))
    if len(argv) >= 2 and argv[0] == "--pick":
        print(" ".join(map(str, serving.free_ports(int(argv[1]), frozenset(int(p) for p in argv[2:])))))
        return 0
    if len(argv) >= 3 and argv[0] == "--wait-healthy":
        return wait_healthy(float(argv[1]), [int(p) for p in argv[2:]])
    if len(argv) == 5 and argv[0] == "--wait-proxy":
        return wait_proxy(float(argv[1]), argv[2], int(argv[3]), int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
