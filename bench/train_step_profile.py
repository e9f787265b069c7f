"""Where a training step's time goes: the MLP VAE's step at batch 128, phase by phase, and the loop around it.

    python bench/train_step_profile.py                     # 300 steps a run, fp32 and bf16, every core, 3 rounds
    python bench/train_step_profile.py --threads 1 --ops   # one thread, and the operators (PyTorch profiler)

phases     the step of vae_core.train._train, written out here with a clock between its parts, on full MNIST
           (vae_core.data.load_dataset) in the order of a seeded permutation, with the trainer's own pieces
           (seeded_model, make_optimizer, to_float, step_means):
             batch      gather the batch by index from the uint8 images, cast to float in [0, 1]
             forward    model(x, eps_gen) under autocast (bf16) or not (fp32): encoder, sampling, decoder, the
                        ELBO's terms; then the batch mean of the loss
             read       the step's loss, reconstruction and KL as three floats (step_means)
             zero_grad  opt.zero_grad()
             backward   loss.backward()
             optimizer  opt.step() (fused Adam)
train()    vae_core.train.train() itself over as many steps (limit = steps x batch, one epoch), timed by a
           callback from on_train_start to the last on_step: its per-step time minus the phases' sum is the
           loop's own bookkeeping (step metrics, history, callbacks, the autocast context, the shuffle).

Each figure is per step, the mean over the timed steps (the first WARMUP untimed): wall-clock milliseconds
and process CPU milliseconds (with more than one thread it counts OpenMP's waiting too). The
phases and train() alternate for --rounds rounds, and the medians of the rounds are printed, so a drift in
the machine's speed hits both. Other load inflates wall-clock time; with --threads 1 the CPU figures are the
work itself and change little with the load. --ops adds the PyTorch profiler's table of operators (self CPU
time per step; under load only the shares mean anything).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vae_core.callbacks import Callback  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.data import load_dataset, to_float  # noqa: E402
from vae_core.hardware import make_optimizer, pick_precision, probed  # noqa: E402
from vae_core.train import seeded_model, step_means, train  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402

BATCH = 128
WARMUP = 20
PHASES = ("batch", "forward", "read", "zero_grad", "backward", "optimizer")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300, help="timed steps a run (default 300)")
    p.add_argument("--rounds", type=int, default=3, help="phases + train() this many times each (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    p.add_argument("--precision", choices=("fp32", "bf16", "both"), default="both")
    p.add_argument("--ops", action="store_true", help="also the PyTorch profiler's operators, per step")
    args = p.parse_args()
    if min(args.steps, args.rounds, args.threads) < 1:
        p.error("--steps, --rounds and --threads must be at least 1")
    return args


def phases(images: torch.Tensor, precision: str, steps: int, prof=None) -> dict[str, tuple[float, float]]:
    """The trainer's step with a clock between its parts: phase -> (wall ms, CPU ms), means per step."""
    model, eps_gen = seeded_model(VAEConfig(), 0, torch.device("cpu"))
    opt = make_optimizer(model, 1e-3)
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    per_epoch = len(images) // BATCH
    wall = {k: 0.0 for k in PHASES}
    cpu = {k: 0.0 for k in PHASES}
    model.train()
    for s in range(WARMUP + steps):
        if s == WARMUP and prof is not None:
            prof.start()
        b = s % per_epoch
        clocks = [(time.perf_counter(), time.process_time())]
        x = to_float(images[perm[b * BATCH : (b + 1) * BATCH]])
        clocks.append((time.perf_counter(), time.process_time()))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            terms = model(x, eps_gen)
        loss = terms["loss"].mean()
        clocks.append((time.perf_counter(), time.process_time()))
        step_means(loss, terms)
        clocks.append((time.perf_counter(), time.process_time()))
        opt.zero_grad()
        clocks.append((time.perf_counter(), time.process_time()))
        loss.backward()
        clocks.append((time.perf_counter(), time.process_time()))
        opt.step()
        clocks.append((time.perf_counter(), time.process_time()))
        if s >= WARMUP:
            for k, (w0, c0), (w1, c1) in zip(PHASES, clocks, clocks[1:]):
                wall[k] += w1 - w0
                cpu[k] += c1 - c0
    if prof is not None:
        prof.stop()
    return {k: (1e3 * wall[k] / steps, 1e3 * cpu[k] / steps) for k in PHASES}


class StepClock(Callback):
    """train()'s steps: wall and CPU time from on_train_start to the last on_step, after WARMUP steps."""

    def on_train_start(self, total_steps: int, model) -> None:
        self.n, self.start = 0, None

    def on_step(self, m) -> None:
        self.n += 1
        if self.n == WARMUP:
            self.start = (time.perf_counter(), time.process_time())
        self.end = (time.perf_counter(), time.process_time())


def train_step_ms(precision: str, steps: int, threads: int) -> tuple[float, float]:
    """vae_core.train.train()'s (wall ms, CPU ms) per step, over steps after WARMUP, on full MNIST."""
    clock = StepClock()
    cfg = TrainConfig(epochs=1, batch_size=BATCH, lr=1e-3, schedule="constant", seed=0, device="cpu",
                      limit=(WARMUP + steps) * BATCH, precision=precision, threads=threads)
    train(VAEConfig(), cfg, [clock], load_dataset("mnist"))
    n = clock.n - WARMUP
    return 1e3 * (clock.end[0] - clock.start[0]) / n, 1e3 * (clock.end[1] - clock.start[1]) / n


def print_ops(prof, steps: int) -> None:
    """The profiler's operators by self CPU time, per step."""
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in rows)
    print(f"  {'operator':<44}{'ms/step':>9}{'share':>8}{'calls/step':>12}")
    for e in rows[:16]:
        print(f"  {e.key[:43]:<44}{e.self_cpu_time_total / 1e3 / steps:9.3f}{e.self_cpu_time_total / total:8.1%}"
              f"{e.count / steps:12.1f}")


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, {args.threads} thread(s) of {os.cpu_count()} cores, batch {BATCH}, "
          f"MLP VAE {VAEConfig().hidden} latent {VAEConfig().latent_dim}; load average {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}")
    images = load_dataset("mnist").train_images
    precisions = ["fp32", "bf16"] if args.precision == "both" else [args.precision]
    runs: dict[str, list] = {p: [] for p in precisions}
    for r in range(args.rounds):
        for p in precisions:
            runs[p].append((phases(images, p, args.steps), train_step_ms(p, args.steps, args.threads)))
        print(f"round {r + 1} of {args.rounds} done (load {os.getloadavg()[0]:.2f})", flush=True)

    pick_precision("auto", torch.device("cpu"), seeded_model(VAEConfig(), 0, torch.device("cpu"))[0], BATCH)
    for (_, batch, _, threads), (choice, times) in probed().items():
        ms = {k: ", ".join(f"{1e3 * t:.2f}" for t in v) for k, v in times.items()}
        print(f"precision 'auto' here: {choice} (its probe at batch {batch}, {threads} thread(s), ms a step: "
              f"fp32 [{ms['fp32']}], bf16 [{ms['bf16']}])")

    for p in precisions:
        def med(k: str, i: int, rs=runs[p]) -> float:
            return statistics.median(r[0][k][i] for r in rs)

        tw = statistics.median(r[1][0] for r in runs[p])
        tc = statistics.median(r[1][1] for r in runs[p])
        sw, sc = sum(med(k, 0) for k in PHASES), sum(med(k, 1) for k in PHASES)
        print(f"\n{p}: ms per step, median of {args.rounds} round(s) of {args.steps} steps")
        print(f"  {'':<22}{'wall':>8}{'CPU':>8}{'share':>8}")
        for k in PHASES:
            print(f"  {k:<22}{med(k, 0):8.2f}{med(k, 1):8.2f}{med(k, 0) / tw:8.1%}")
        print(f"  {'loop bookkeeping':<22}{tw - sw:8.2f}{tc - sc:8.2f}{(tw - sw) / tw:8.1%}   "
              "(train() minus the phases)")
        print(f"  {'train(), a step':<22}{tw:8.2f}{tc:8.2f}   -> {60000 / BATCH * tw / 1e3:.2f} s a 469-step epoch")

    if args.ops:
        for p in precisions:
            prof = profile(activities=[ProfilerActivity.CPU])
            phases(images, p, min(args.steps, 100), prof)
            print(f"\n{p}: operators (PyTorch profiler, {min(args.steps, 100)} steps)")
            print_ops(prof, min(args.steps, 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
