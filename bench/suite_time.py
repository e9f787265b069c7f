"""The test suite's wall time in one process against two pytest-xdist workers, under the same conditions.

    python bench/suite_time.py                                  # the whole suite: one process, then -n 2
    python bench/suite_time.py tests/e2e                        # a part of it (any pytest arguments)
    python bench/suite_time.py --order parallel-first tests/e2e -k "not phone"

Each run is `python -m pytest -q -p no:cacheprovider --durations=40 ARGS` (with `-n 2` for the second; pytest.ini's
`--dist loadfile` and tests/worker_scheduling.py group the tests), as CI would run it: with
LATENT_EXPLORER_REQUIRE_BROWSER=1 and LATENT_EXPLORER_REQUIRE_NODE=1. Printed for each: the 1-minute load
average before and after (the machine may be shared: compare runs only at a like load), the wall time, pytest's
summary line and its exit status; each run's whole output goes to test-output/suite-time-<mode>.log (the slowest
40 setups and calls are at its end).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load() -> float:
    return os.getloadavg()[0]


def run(mode: str, args: list[str]) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=40",
           *(["-n", "2"] if mode == "parallel" else []), *args]
    log = ROOT / "test-output" / f"suite-time-{mode}.log"
    log.parent.mkdir(exist_ok=True)
    env = {**os.environ, "LATENT_EXPLORER_REQUIRE_BROWSER": "1", "LATENT_EXPLORER_REQUIRE_NODE": "1"}
    before, t0 = load(), time.monotonic()
    with open(log, "wb") as out:
        rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.monotonic() - t0
    lines = [x for x in log.read_text(errors="replace").splitlines() if x.strip()]
    summary = next((x for x in reversed(lines) if " in " in x and ("passed" in x or "failed" in x)), "")
    return {"mode": mode, "load_before": before, "load_after": load(), "wall_s": wall, "rc": rc,
            "summary": summary.strip("= "), "log": str(log.relative_to(ROOT))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--order", choices=("serial-first", "parallel-first"), default="serial-first")
    opts, args = parser.parse_known_args()
    modes = ["serial", "parallel"] if opts.order == "serial-first" else ["parallel", "serial"]
    print(f"pytest arguments: {' '.join(args) or '(the whole suite)'}; {os.cpu_count()} CPUs")
    results = {}
    for mode in modes:
        r = results[mode] = run(mode, args)
        name = "one process" if mode == "serial" else "two workers"
        print(f"{name}: {r['wall_s']:.0f} s, load {r['load_before']:.1f} before, {r['load_after']:.1f} after, "
              f"exit status {r['rc']}: {r['summary']} ({r['log']})", flush=True)
    print(f"two workers take {results['parallel']['wall_s'] / results['serial']['wall_s']:.0%} of one process's time")


if __name__ == "__main__":
    main()
