"""`streamlit run ...` with every script run timed inside the server, for bench/load.py.

    LATENT_BENCH_RUN_LOG=runs.jsonl python bench/timed_server.py run dashboard/app.py [streamlit flags]

Appends one JSON line per script run (a full run or a fragment's) to LATENT_BENCH_RUN_LOG:
{"end": time.time() at its end, "ms": its duration, "session": its session id, "fragment": whether it was a
fragment run}. The duration is
the server's own: from the moment the run starts in its thread until the run has produced its last element,
including any wait for the CPU or the GIL, and nothing of the browsers' time or of the network. The app is
not changed; this wraps Streamlit's ScriptRunner._run_script in this process only. With TIMED_SERVER_REPLICA set
(bench/cold_start.start_class) it is a replica of scripts/serve_class.sh, dashboard/replica.py's warm-up included.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from streamlit.runtime.scriptrunner import script_runner
from streamlit.web import cli

_log = open(os.environ["LATENT_BENCH_RUN_LOG"], "a", buffering=1)  # noqa: SIM115 (open for the process' life)
_lock = threading.Lock()
_run_script = script_runner.ScriptRunner._run_script


def _timed_run_script(self, rerun_data):
    if type(self).__name__ == "LocalScriptRunner":  # AppTest's: the replica's warm-up, no session's run
        return _run_script(self, rerun_data)
    t0 = time.perf_counter()
    try:
        return _run_script(self, rerun_data)
    finally:
        ms = (time.perf_counter() - t0) * 1000
        line = {"end": time.time(), "ms": round(ms, 2), "session": getattr(self, "_session_id", None),
                "fragment": bool(getattr(rerun_data, "fragment_id_queue", None))}
        with _lock:
            _log.write(json.dumps(line) + "\n")


script_runner.ScriptRunner._run_script = _timed_run_script

if __name__ == "__main__":
    if os.environ.get("TIMED_SERVER_REPLICA"):  # a replica of scripts/serve_class.sh: warm first, as it would be
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from dashboard import replica

        replica.main()
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())
