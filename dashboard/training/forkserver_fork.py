"""multiprocessing's forkserver started by a fork of this process, not as a fresh interpreter: for a replica of
scripts/serve_class.sh (dashboard/replica.py), at its start, before it has a second thread.

Why: the forkserver that multiprocessing starts is a new interpreter that imports PyTorch again, and the training
worker it forks carries that import too: about 250 MiB of the machine's memory (PSS) per replica that trains,
beside the replica's own import (docs/benchmarks.md, "Memory of a replica"). Forked from the replica once PyTorch
is imported, the forkserver, and every worker and timing process it forks, share those pages with the replica,
copy on write. gc.freeze() keeps the collector of either side from writing to (and so copying) the pages of the
objects imported before the fork.

Why only there: a fork copies one thread, so it is safe while the process has no other thread of its own;
Streamlit's server starts its threads later. multiprocessing then finds a forkserver running and uses it; if it
ever dies, multiprocessing starts a fresh one (local_worker.worker_context's preload) as it would have.
"""

from __future__ import annotations

import gc
import importlib
import os
import socket
import sys
from collections.abc import Sequence
from multiprocessing import connection, forkserver, resource_tracker, util

from .local_worker import FORKSERVER_PRELOAD, FORKSERVER_START


def start(preload: Sequence[str] = FORKSERVER_PRELOAD) -> int | None:
    """Import `preload` here, then fork the forkserver, which imports the rest (FORKSERVER_START: its niceness
    and session, which this process must not take). Its pid, or None when a forkserver already runs."""
    server = forkserver._forkserver
    if server._forkserver_pid is not None:
        return None
    for name in preload:
        if name != FORKSERVER_START:
            importlib.import_module(name)
    resource_tracker.ensure_running()  # as ForkServer.ensure_running does: its children are told of the tracker

    listener = socket.socket(socket.AF_UNIX)
    address = connection.arbitrary_address("AF_UNIX")
    listener.bind(address)
    if not util.is_abstract_socket_namespace(address):
        os.chmod(address, 0o600)
    listener.listen()
    alive_r, alive_w = os.pipe()  # every client holds the write end: EOF once all are gone ends the server

    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the forkserver
        code = 1
        try:
            os.close(alive_w)
            forkserver.main(listener.detach(), alive_r, list(preload))
        except SystemExit as e:  # the last client is gone
            code = e.code if isinstance(e.code, int) else 0
        except BaseException:  # noqa: BLE001  (it must never return into the replica's code)
            sys.excepthook(*sys.exc_info())
            sys.stderr.flush()
        finally:
            os._exit(code)

    os.close(alive_r)
    listener.close()
    server._preload_modules = list(preload)
    server._forkserver_address = address
    server._forkserver_alive_fd = alive_w
    server._forkserver_pid = pid
    return pid
