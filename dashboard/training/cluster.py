"""The connection to the Ray cluster at RAY_ADDRESS, bounded in time: a cluster that does not answer is one line
for the page within seconds, never a start that hangs (Ray itself retries a missing cluster for minutes).

    connect()   a TCP probe of the address (PROBE_S), then ray.init in a thread waited on for at most
                VAE_RAY_CONNECT_S seconds; ClusterUnavailableError saying which address does not answer

Ray is imported only when connect() runs, i.e. only where RAY_ADDRESS is set.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

from .env import ray_address

PROBE_S = 3.0  # how long the address's port may take to accept a TCP connection
DEFAULT_CONNECT_S = 30.0  # ray.init's bound (VAE_RAY_CONNECT_S): it ships the code (runtime_env) to the cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
# What a node needs to run a training: the code and the bundled data (vae_core reads data/<name>/), not the rest.
SHIPPED_EXCLUDES = [".git", "models", "test-output", "docs", "pretrained", "bench", "tests", "*.png", "__pycache__"]

log = logging.getLogger(__name__)


class ClusterUnavailableError(RuntimeError):
    """The Ray cluster at RAY_ADDRESS could not be reached; str(e) is the page's line."""


def connect_timeout() -> float:
    try:
        value = float(os.environ.get("VAE_RAY_CONNECT_S", DEFAULT_CONNECT_S))
    except ValueError:
        return DEFAULT_CONNECT_S
    return value if value > 0 else DEFAULT_CONNECT_S


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of "host:port" or "ray://host:port"; None for what Ray resolves itself ("auto")."""
    rest = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


def _unavailable(address: str, why: str) -> ClusterUnavailableError:
    log.error("the Ray cluster at %s does not answer: %s", address, why)
    return ClusterUnavailableError(
        f"the Ray cluster at {address} does not answer ({why}), so nothing could start. Try again later, or "
        "ask whoever runs this server to start the cluster (or to unset RAY_ADDRESS to train on this machine).")


_init_lock = threading.Lock()
_init_thread: threading.Thread | None = None  # a ray.init still under way (one at a time, shared by all starts)
_init_error: list[BaseException] = []


def _init(address: str) -> None:
    import ray  # noqa: PLC0415  (Ray only where a cluster is used)

    try:
        # The repository's code and bundled data go to the cluster with the job (runtime_env working_dir), so
        # a node needs only the same Python packages (requirements-ray.txt). log_to_driver off: the actors'
        # output stays in the cluster's logs, not in the web server's.
        ray.init(address=address, log_to_driver=False, ignore_reinit_error=True,
                 runtime_env={"working_dir": str(REPO_ROOT), "excludes": SHIPPED_EXCLUDES})
    except BaseException as e:  # noqa: BLE001  (the waiting start reports it)
        _init_error.append(e)


def connect(timeout: float | None = None) -> None:
    """Connect this process to the cluster at RAY_ADDRESS, once; ClusterUnavailableError within about
    PROBE_S + timeout seconds when it does not answer. A ray.init that outlives its bound keeps running in
    its thread (it cannot be cancelled); later calls wait on that one instead of starting another."""
    global _init_thread
    import ray  # noqa: PLC0415

    if ray.is_initialized():
        return
    address = ray_address()
    if not address:
        raise ClusterUnavailableError("RAY_ADDRESS is not set")
    target = _host_port(address)
    if target is not None:
        try:
            socket.create_connection(target, timeout=PROBE_S).close()
        except OSError as e:
            raise _unavailable(address, f"no connection: {e.strerror or type(e).__name__}") from None
    wait = connect_timeout() if timeout is None else timeout
    with _init_lock:
        if _init_thread is None or not _init_thread.is_alive():
            _init_error.clear()
            _init_thread = threading.Thread(target=_init, args=(address,), name="vae-ray-connect", daemon=True)
            _init_thread.start()
        thread = _init_thread
    thread.join(wait)
    if thread.is_alive():
        raise _unavailable(address, f"no reply within {wait:.0f} s")
    if _init_error:
        e = _init_error[0]
        raise _unavailable(address, f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else 'no detail'}")
