#!/usr/bin/env bash
# Install what the tests need, lint, and run them. Usage: bash scripts/test.sh [pytest args]
#
# The virtual environment lives outside the clone, keyed by a hash of the requirements files, so a second
# run (or a second clone) reuses it; a fresh machine builds it from the package registry.
set -euo pipefail
cd "$(dirname "$0")/.."

hash=$(cat requirements*.txt | sha256sum | cut -c1-12)
venv="${VAE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/latent-explorer/venv-$hash}"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  echo "creating virtual environment $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt
  touch "$venv/.complete"
fi

# The whole suite (no arguments: the README's command and CI) starts with the lint and the architecture's
# contracts (pyproject.toml), a few seconds; a run of chosen tests skips them. It runs in TEST_WORKERS (default 2)
# pytest-xdist workers, 0 for one process: much of its time is spent waiting on Streamlit servers and Chromium
# (docs/benchmarks.md, "The suite's time"). pytest.ini's `--dist loadfile` keeps a module's tests on one worker
# (tests/worker_scheduling.py). Chosen tests run in one process unless the arguments say `-n 2`.
workers=()
if [ $# -eq 0 ]; then
  "$venv/bin/ruff" check . || { echo "ruff found problems (above)" >&2; exit 1; }
  PYTHONPATH="$PWD" "$venv/bin/lint-imports" || { echo "an import breaks a contract of pyproject.toml (above)" >&2; exit 1; }
  workers=(-n "${TEST_WORKERS:-2}")
fi

mkdir -p test-output
"$venv/bin/python" -m pytest -q --durations=15 "${workers[@]}" "$@"  # the slowest tests, to keep CI under its 20 minutes
