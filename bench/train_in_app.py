"""In-app training speed against the command line's: the same run, through both paths, in one process.

    python bench/train_in_app.py                          # 10,000 images, 3 epochs, MLP 512,256, 2 rounds
    python bench/train_in_app.py --limit 2000 --epochs 2 --rounds 1   # quick smoke run

cli  vae_core.train.train(model_cfg, cfg) with no callbacks: the loop `python -m vae_core.train` runs
     (the command line adds only its progress bar and a checkpoint per epoch).
app  dashboard.training.job.TrainingJob, as the Train tab starts it: the loop in a background thread with the
     job's callback (per-step bookkeeping, a latent snapshot of 2,000 test images and 8 decoded samples per
     epoch), while this (main) thread does, once a second, what the tab's live fragment does on every poll:
     job.touch(), job.snapshot(), build figures.loss_figure(...), build the latent figure and the samples PNG
     when a new epoch has arrived, and turn both figures into the JSON st.plotly_chart sends (it does so on
     every call, so the unchanged latent figure is serialised on every poll too). The app's time runs from
     job.start() to the job's end, so it includes the job's own extra work (subset, the snapshot before
     training, one per epoch).

Each run is a fresh Python process, as the command line and the app's server are: the data is loaded and a
short warm-up run goes first (through the same path), then one run is timed, with the same settings and seed
and train()'s own thread count (every core). Fresh processes matter: once one thread of a process has run a
parallel region, OpenMP keeps its team of threads, and a second thread's team then runs about a third slower
on 2 cores (libgomp spins less when it manages more threads than there are cores). The rounds alternate cli,
app, cli, app, ... so a drift in the machine's speed hits both; the medians are compared. The goal: app / cli <= 1.2.
Other load on the machine distorts the figures: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import plotly.io

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard import views  # noqa: E402
from dashboard.train import figures, live  # noqa: E402
from dashboard.training.job import TrainingJob  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.data import load_dataset  # noqa: E402
from vae_core.hardware import available_cpus  # noqa: E402
from vae_core.train import train  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402

POLL_S = live.POLL_S


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit", type=int, default=10000, help="training images (default 10,000)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--hidden", default="512,256")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--rounds", type=int, default=2, help="cli + app pairs, alternating")
    p.add_argument("--child", choices=("cli", "app"), help=argparse.SUPPRESS)  # one timed run (internal)
    args = p.parse_args()
    if min(args.limit, args.epochs, args.batch_size, args.rounds) < 1:
        p.error("--limit, --epochs, --batch-size and --rounds must be at least 1")
    return args


def time_cli(model_cfg: VAEConfig, cfg: TrainConfig, data) -> float:
    t0 = time.perf_counter()
    result = train(model_cfg, cfg, [], data)
    seconds = time.perf_counter() - t0
    assert result.status == "completed", result.message
    return seconds


def chart_spec(fig) -> str:
    """What st.plotly_chart does with a go.Figure before sending it (streamlit/elements/plotly_chart.py)."""
    return plotly.io.to_json(fig.to_dict(), validate=False)


def poll_like_the_page(job: TrainingJob, latent_cache: dict) -> None:
    """One poll of the live fragment (dashboard/train/live.py: live_view; replay.py: _epoch_view)."""
    job.touch()
    s = job.snapshot()
    live.progress_text(s)
    chart_spec(figures.loss_figure(s.steps, s.epoch_metrics, total_steps=s.total_steps))
    if s.latents and s.labels is not None:
        snap = s.latents[-1]
        if snap.epoch not in latent_cache:
            fig = figures.latent_figure(snap.points, s.labels, s.class_names, uirevision=f"train-{s.job_id}")
            latent_cache[snap.epoch] = (fig, views.png_url(figures.samples_image(snap.samples)))
        chart_spec(latent_cache[snap.epoch][0])


def time_app(model_cfg: VAEConfig, cfg: TrainConfig, data, models_root: str) -> tuple[float, float, int]:
    """(seconds from start to end, seconds spent polling, number of polls)."""
    job = TrainingJob(model_cfg, cfg, session_id="bench", data=data, models_root=models_root)
    latent_cache: dict = {}
    polling, polls = 0.0, 0
    t0 = time.perf_counter()
    job.start()
    next_poll = t0
    while not job.wait(max(0.0, next_poll - time.perf_counter())):
        p0 = time.perf_counter()
        poll_like_the_page(job, latent_cache)
        polling += time.perf_counter() - p0
        polls += 1
        next_poll = p0 + POLL_S
    seconds = time.perf_counter() - t0
    s = job.snapshot()
    assert s.state == "completed", s.message
    return seconds, polling, polls


def child(args: argparse.Namespace) -> int:
    """One timed run of one path in this (fresh) process; prints its figures as one JSON line."""
    model_cfg, cfg = configs(args)
    data = load_dataset("mnist")
    warm = TrainConfig(epochs=1, limit=1000, device="cpu")
    with tempfile.TemporaryDirectory() as models_root:
        if args.child == "cli":
            train(model_cfg, warm, [], data)
            out = {"seconds": time_cli(model_cfg, cfg, data)}
        else:
            TrainingJob(model_cfg, warm, session_id="warm-up", data=data, models_root=models_root).start().wait()
            seconds, polling, polls = time_app(model_cfg, cfg, data, models_root)
            out = {"seconds": seconds, "polling": polling, "polls": polls}
    print(json.dumps(out))
    return 0


def configs(args: argparse.Namespace) -> tuple[VAEConfig, TrainConfig]:
    hidden = tuple(int(h) for h in args.hidden.split(","))
    return (VAEConfig(arch="mlp", latent_dim=2, hidden=hidden),
            TrainConfig(dataset="mnist", epochs=args.epochs, batch_size=args.batch_size, limit=args.limit,
                        device="cpu", seed=0))


def run_child(path: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", path, "--limit", str(args.limit), "--epochs", str(args.epochs),
           "--hidden", args.hidden, "--batch-size", str(args.batch_size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    args = parse_args()
    if args.child:
        return child(args)
    print(f"MNIST, {args.limit:,} training images, {args.epochs} epochs, MLP {args.hidden}, batch {args.batch_size}, "
          f"{available_cpus()} CPU threads; poll every {POLL_S:g} s; each run in a fresh process")
    cli, app = [], []
    for r in range(1, args.rounds + 1):
        cli.append(run_child("cli", args)["seconds"])
        a = run_child("app", args)
        app.append(a["seconds"])
        print(f"round {r}: cli {cli[-1]:6.2f} s   app {a['seconds']:6.2f} s   "
              f"({a['polls']} polls, {a['polling']:.2f} s of the main thread spent polling)", flush=True)
    c, a = statistics.median(cli), statistics.median(app)
    print(f"median: cli {c:.2f} s, app {a:.2f} s, app / cli = {a / c:.3f} (goal <= 1.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
