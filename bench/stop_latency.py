"""How long Stop takes: from job.stop() to the job's end, wherever the training is when it is pressed.

    python bench/stop_latency.py                  # 3 stops at each place, the Quick demo's model on 10,000 images
    python bench/stop_latency.py --repeats 1      # a quick run

The job is the Train tab's own (dashboard.training.job.TrainingJob: the loop in a worker process). Stop is pressed
  mid-epoch     half-way through an epoch's steps (the loop hears it after its current step);
  evaluating    right after an epoch's last step, while the worker evaluates the 10,000 test images;
  first step    as soon as the run has started.
It prints, per place, the seconds from stop() to the job's end (median and max) and what the job kept. The goal:
Stop in <= 1 s wherever the job is. Other load on the machine lengthens the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.training.job import TrainingJob  # noqa: E402
from dashboard.training.protocol import STOP_GRACE_S  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402


def wait_for(job: TrainingJob, ready, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not ready(job.snapshot()):
        if time.monotonic() > deadline or job.done:
            raise RuntimeError(f"the job did not get there: {job.snapshot().state} {job.snapshot().message}")
        time.sleep(0.01)


def one_stop(place: str, models: Path, limit: int) -> tuple[float, str]:
    steps_per_epoch = -(-limit // 128)
    job = TrainingJob(VAEConfig(hidden=(512, 256)), TrainConfig(limit=limit, epochs=30, device="cpu"),
                         session_id="bench", models_root=models)
    job.start()
    try:
        if place == "first step":
            wait_for(job, lambda s: s.step >= 1)
        elif place == "mid-epoch":
            wait_for(job, lambda s: s.epochs_completed >= 1 and s.step >= steps_per_epoch + steps_per_epoch // 2)
        else:  # evaluating: epoch 2's steps are all done, its end-of-epoch evaluation runs
            wait_for(job, lambda s: s.step >= 2 * steps_per_epoch)
        t0 = time.perf_counter()
        job.stop()
        job.wait()
        took = time.perf_counter() - t0
    finally:
        job.stop()
        job.wait(30)
    s = job.snapshot()
    return took, f"{s.state}, {s.epochs_completed} epoch(s) kept"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, default=10_000, help="training images (the Quick demo's 10,000)")
    args = ap.parse_args()
    models = Path(tempfile.mkdtemp(prefix="stop-bench-"))
    print(f"Stop latency: the Train tab's job, MLP 512,256, {args.limit:,} images, {args.repeats} stops per place "
          f"(grace before a kill: {STOP_GRACE_S} s)")
    for place in ("mid-epoch", "evaluating", "first step"):
        times, kept = [], []
        for _ in range(args.repeats):
            took, what = one_stop(place, models, args.limit)
            times.append(took)
            kept.append(what)
        how = "; ".join(sorted(set(kept)))
        print(f"  {place:<11} median {statistics.median(times):.2f} s, max {max(times):.2f} s   ({how})")


if __name__ == "__main__":
    main()
