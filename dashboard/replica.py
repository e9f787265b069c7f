"""One app process of scripts/serve_class.sh: `python -m dashboard.replica run dashboard/app.py [streamlit flags]`.

It is `streamlit run`, after rendering the landing page once, headless, in this process (Streamlit's AppTest):
PyTorch and the app are imported, and the default model, its test-set encodings and the blobs the page sends
are in st.cache_resource, which every session of the process shares. Streamlit starts listening only then, so
the proxy's health check (/_stcore/health) sends a replica no student before it is warm, at the start of a
lecture or after a restart. Otherwise a replica's first student pays that start (about 5 s of a core), and the
students who arrive with them on that replica wait behind it (docs/benchmarks.md, "A class behind a proxy").
A landing page that fails here is logged in one line and the replica starts anyway: its first session shows
the same failure as it would have, in the page. Before all of that, while it has one thread, the process forks
the forkserver of its trainings (dashboard/training/forkserver_fork.py), which then shares its PyTorch.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
WARM_TIMEOUT_S = 600.0  # a loaded machine importing PyTorch and encoding 10,000 images; a hang must not block forever


class _Drop(logging.Filter):
    """Drops one known, harmless log line of a logger."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def _quiet_warm_up_lines() -> None:
    # AppTest runs the page in this thread, outside a server ("missing ScriptRunContext ... bare mode"), and it
    # parses the config before `streamlit run` parses it again with the flags (--server.port ...), which then
    # reads as a change of [server] needing a restart. Neither is true of the server that starts next.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _Drop("Thread 'MainThread': missing ScriptRunContext"))
    logging.getLogger("streamlit.config").addFilter(_Drop("An update to the [server] config option section"))


def warm(app: Path = APP, timeout: float = WARM_TIMEOUT_S) -> str | None:
    """Render the landing page once in this process. None when it ran cleanly, else what went wrong (one line)."""
    from streamlit.testing.v1 import AppTest

    _quiet_warm_up_lines()
    main = sys.modules.get("__main__")
    try:
        at = AppTest.from_file(str(app), default_timeout=timeout).run()
    except Exception as e:  # noqa: BLE001 (a warm-up is an optimisation: the replica serves either way)
        return f"{type(e).__name__}: {e}"
    finally:  # a script run installs the page as the process's __main__ (which multiprocessing's children re-run)
        sys.modules["__main__"] = main
    if at.exception:  # its message is redacted on the page (client.showErrorDetails); Streamlit logged it above
        return "the page raised an exception (its traceback is in the log above)"
    errors = [e.value for e in at.error]
    return f"the page shows an error: {errors[0]}" if errors else None


def main() -> None:
    # before anything starts a thread: the training forkserver shares this process's PyTorch (forkserver_fork.py)
    from dashboard.training import forkserver_fork

    forkserver_fork.start()
    from streamlit.web import cli

    t0 = time.perf_counter()
    problem = warm()
    took = time.perf_counter() - t0
    print(f"replica: landing page rendered in {took:.1f} s before serving" if problem is None
          else f"replica: the warm-up did not finish cleanly ({problem}); serving anyway", file=sys.stderr, flush=True)
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
