"""How well the Train tab's "about N left" holds: its estimate against the time the run then really took.

    python bench/eta_accuracy.py                 # MLP 512,256, 10,000 images, 30 epochs: many short epochs
    python bench/eta_accuracy.py --limit 60000 --epochs 3     # the Quick demo's run
    python bench/eta_accuracy.py --epochs 10

The job is the Train tab's own (dashboard.training.job.TrainingJob, the loop in a worker process); its snapshot is
read four times a second, as a page would. From the second epoch on, each estimate is compared with the time the
run still took after it: error = estimate / actual - 1. Printed: the median and the largest |error|, and the
share of estimates within 25 % (the goal: all of them), over the reads made while more than 5 s were left (the
last seconds' ratios swing on a fraction of a second). Other load on the machine is part of what it measures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.training.job import TrainingJob  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402

MIN_LEFT_S = 5.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--limit", type=int, default=10_000)
    args = ap.parse_args()
    load = os.getloadavg()
    models = Path(tempfile.mkdtemp(prefix="eta-bench-"))
    job = TrainingJob(VAEConfig(hidden=(512, 256)), TrainConfig(limit=args.limit, epochs=args.epochs, device="cpu"),
                      session_id="bench", models_root=models)
    reads: list[tuple[float, float]] = []  # (elapsed, estimate of the seconds left), from the second epoch on
    started = time.perf_counter()
    job.start()
    try:
        while not job.done:
            s = job.snapshot()
            if s.epochs_completed >= 1 and s.eta is not None and s.state == "running":
                reads.append((s.elapsed, s.eta))
            time.sleep(0.25)
    finally:
        job.stop()
        job.wait(30)
    wall = time.perf_counter() - started  # from Start: the worker's start, its data and the run's last map
    s = job.snapshot()
    total = s.elapsed
    errors = [eta / (total - at) - 1 for at, eta in reads if total - at > MIN_LEFT_S]
    print(f"load average at the start: {load[0]:.2f}; at the end: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    print(f"run: {s.state}, {s.epochs_completed} epochs, {total:.1f} s of training, {wall:.1f} s from start() "
          f"to the job's end (its worker's start and data load, the last epoch's map)")
    if not errors:
        sys.exit("no estimate was read with more than 5 s left")
    within = sum(abs(e) <= 0.25 for e in errors) / len(errors)
    sizes = [abs(e) for e in errors]
    print(f"estimates from the second epoch on: {len(errors)}; |error| median {statistics.median(sizes):.1%}, "
          f"max {max(sizes):.1%}; within 25 %: {within:.0%}")


if __name__ == "__main__":
    main()
