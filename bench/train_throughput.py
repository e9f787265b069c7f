"""Training throughput: our trainer against the common PyTorch loop, one epoch each, same model.

    python bench/train_throughput.py                                       # full MNIST, 3 rounds of 3 + 3 + 2 epochs
    python bench/train_throughput.py --limit 6000 --epochs 2 --ref-epochs 1 --rounds 1   # quick smoke run

What it measures, on the CPU (ours in this process, the reference in one of its own):

ours       vae_core.train.train() with the MLP VAE (VAEConfig(arch="mlp")), batch 128, Adam at a constant 1e-3,
           seed 0, over MNIST's 60,000 training images as loaded by vae_core.data.load_dataset("mnist"):
           uint8 tensors in memory, batches drawn by index, no DataLoader, fused Adam, and the default
           precision "auto": the layers' matrix products in bfloat16 where a short probe of the model's own
           training steps (vae_core.hardware.probe_precision, once per process) finds it clearly faster than
           float32, float32 elsewhere; the loss is float32 either way. The probe's timings are printed.
           A Callback times each epoch. "train" is from the start of the epoch (the end of the previous one,
           or on_train_start for the first) to the last on_step of the epoch: the shuffle and every step,
           per-step bookkeeping included. "+eval" adds the test-set evaluation that train() runs at each
           epoch end (10,000 images, also with --limit) and the copy of the weights it keeps.
reference  the style of pytorch/examples' VAE: torchvision.datasets.MNIST(transform=ToTensor()) in a
           DataLoader(batch_size=128, shuffle=True, num_workers=0), the same VAE class, plain
           torch.optim.Adam(lr=1e-3), loss = model(x)["loss"].mean(), loss.item() every step, no evaluation.
           Its root is a temporary folder holding the bundled data/mnist/*.gz decompressed into
           MNIST/raw/, since torchvision 0.29 looks only for the uncompressed files (and cannot download here).

The machine is a shared VM whose speed drifts by 15 % or more within minutes, so the whole comparison runs
--rounds times (ours, the reference, ours again, ours in fp32, in turn: ours is taken on both sides of the
reference, so that a drift during the round hits both alike). Every
round's ratio is printed with whether it reaches --goal (3x: the goal is that every round does), then the
median over rounds. The load average is printed before and after each round: other load on the machine
distorts all of it.
The first epoch of each is reported as warm-up; "steady" is the median of the later epochs (ours: of both its runs)
or the second epoch (reference). The ratio reference / ours is of steady training time, so above 1 means ours is
faster. One-off costs are reported apart: our dataset load (decompress, SHA-256 check, parse) and the reference's
dataset construction (reading the raw files). The reference runs in a fresh process of its own each round, as it
would be run, so that neither loop inherits the other's process state (the allocator's heap, the thread pools, the
caches). Both run with --threads torch threads, by default os.cpu_count() (ours through TrainConfig.threads, which
its precision probe runs with too).
"ours, fp32" runs our trainer again with precision="fp32", to show what the loop alone gains over the
reference and what bfloat16 adds (it is the same as "ours" where the probe chose float32).
Other load on the machine distorts the wall-clock figures: run it on an otherwise idle machine. The ratio
of process CPU seconds is printed too: with --threads 1 it is the work each loop does, which other jobs on a
shared machine barely change (with more threads it also counts OpenMP's waiting).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vae_core.callbacks import Callback  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.data import FILES, load_dataset  # noqa: E402
from vae_core.hardware import probed  # noqa: E402
from vae_core.model import VAE  # noqa: E402
from vae_core.train import train  # noqa: E402
from vae_core.train_config import TrainConfig  # noqa: E402

BATCH_SIZE = 128
LR = 1e-3
SEED = 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs of our trainer (the first is warm-up)")
    p.add_argument("--ref-epochs", type=int, default=2, help="epochs of the reference loop (the first is warm-up)")
    p.add_argument("--limit", type=int, default=None, help="use the first N training images, for both")
    p.add_argument("--rounds", type=int, default=3, help="repeat ours + reference this many times (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads (default: all cores)")
    p.add_argument("--goal", type=float, default=3.0, help="the ratio every round should reach (default 3)")
    args = p.parse_args()
    if min(args.epochs, args.ref_epochs, args.threads, args.rounds, args.limit or 1) < 1:
        p.error("--epochs, --ref-epochs, --rounds, --threads and --limit must be at least 1")
    return args


# --- ours: vae_core.train.train, timed by a callback ---------------------------------------------


class EpochTimer(Callback):
    """Per epoch: seconds of training (epoch start to last step) and seconds including the evaluation."""

    def __init__(self):
        self.train_s: list[float] = []
        self.train_cpu: list[float] = []  # process CPU seconds of the same span
        self.with_eval_s: list[float] = []
        self.steps: list[int] = []

    def on_train_start(self, total_steps: int, model: VAE) -> None:
        self.epoch_start, self.epoch_cpu = time.perf_counter(), time.process_time()
        self.last_step, self.last_cpu, self.n_steps = self.epoch_start, self.epoch_cpu, 0

    def on_step(self, m) -> None:
        self.last_step, self.last_cpu = time.perf_counter(), time.process_time()
        self.n_steps += 1

    def on_epoch_end(self, m, model: VAE) -> None:
        now = time.perf_counter()
        self.train_s.append(self.last_step - self.epoch_start)
        self.train_cpu.append(self.last_cpu - self.epoch_cpu)
        self.with_eval_s.append(now - self.epoch_start)
        self.steps.append(self.n_steps)
        self.epoch_start, self.epoch_cpu, self.n_steps = now, time.process_time(), 0


def run_ours(args: argparse.Namespace, precision: str = "auto") -> dict:
    t0 = time.perf_counter()
    data = load_dataset("mnist")  # cached per process: train() below gets the same object
    load_s = time.perf_counter() - t0

    timer = EpochTimer()
    cfg = TrainConfig(epochs=args.epochs, batch_size=BATCH_SIZE, lr=LR, schedule="constant", seed=SEED,
                      device="cpu", limit=args.limit, precision=precision, threads=args.threads)
    result = train(VAEConfig(arch="mlp"), cfg, [timer], data)
    if result.status != "completed":
        raise SystemExit(f"our trainer did not complete: {result.message}")
    n = len(data.train_images[: args.limit] if args.limit else data.train_images)
    return {"n": n, "load_s": load_s, "train_s": timer.train_s, "train_cpu": timer.train_cpu,
            "with_eval_s": timer.with_eval_s,
            "steps": timer.steps, "final_train_loss": result.history["epochs"][-1]["train_loss"],
            "precision": result.precision}


# --- reference: torchvision MNIST + DataLoader + the classic loop --------------------------------


def prepare_torchvision_root(root: Path) -> None:
    """Decompress the bundled data/mnist/*.gz into <root>/MNIST/raw/, where torchvision's MNIST looks."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in FILES:  # all four: MNIST._check_exists wants the test files too, even for train=True
        with gzip.open(REPO / "data" / "mnist" / f"{stem}.gz", "rb") as src, open(raw / stem, "wb") as dst:
            shutil.copyfileobj(src, dst)


def run_reference(args: argparse.Namespace, root: Path) -> dict:
    t0 = time.perf_counter()
    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    if args.limit:
        dataset = Subset(dataset, range(min(args.limit, len(dataset))))
    construct_s = time.perf_counter() - t0
    train_loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    device = torch.device("cpu")
    model = VAE(VAEConfig()).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)

    epoch_s, epoch_cpu, losses = [], [], []
    for _ in range(args.ref_epochs):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.train()
        train_loss = 0.0
        for data, _ in train_loader:
            data = data.to(device)
            optimizer.zero_grad()
            loss = model(data)["loss"].mean()
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        epoch_s.append(time.perf_counter() - start)
        epoch_cpu.append(time.process_time() - start_cpu)
        losses.append(train_loss / len(train_loader))
    return {"n": len(dataset), "construct_s": construct_s, "epoch_s": epoch_s, "epoch_cpu": epoch_cpu,
            "final_train_loss": losses[-1]}


# --- report --------------------------------------------------------------------------------------


def steady(times: list[float]) -> tuple[float, str]:
    """Median of the epochs after the first; the first alone (flagged) when there is only one."""
    if len(times) == 2:
        return times[1], "epoch 2"
    if len(times) > 2:
        return statistics.median(times[1:]), f"median of epochs 2..{len(times)}"
    return times[0], "only epoch, includes warm-up"


def steady_around(before: list[float], after: list[float]) -> tuple[float, str]:
    """Ours before and after the reference: the median of both runs' epochs after their first (the first epochs
    alone, flagged, when a run has one), so a drift of the machine's speed during the round hits both sides."""
    if len(before) > 1:
        return statistics.median(before[1:] + after[1:]), f"median of epochs 2..{len(before)}, before + after"
    return statistics.median(before + after), "only epoch, includes warm-up"


def one_round(args: argparse.Namespace, root: Path) -> dict:
    """Ours (default precision), the reference, ours again, then ours in fp32: the steady epoch times and the
    ratios, ours taken on both sides of the reference."""
    load_before = os.getloadavg()[0]
    print(f"  ours: {args.epochs} epoch(s) of vae_core.train.train ...", flush=True)
    ours = run_ours(args)
    print(f"  reference: {args.ref_epochs} epoch(s) of torchvision MNIST + DataLoader + classic loop ...", flush=True)
    # In a fresh process, as it is run (see the module's docstring).
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        ref = pool.apply(run_reference, (args, root))
    print(f"  ours again: {args.epochs} epoch(s) of vae_core.train.train ...", flush=True)
    again = run_ours(args)
    print(f"  ours, fp32: {args.epochs} epoch(s) of vae_core.train.train(precision='fp32') ...", flush=True)
    ours_fp32 = run_ours(args, "fp32")
    assert ours["n"] == ref["n"], (ours["n"], ref["n"])
    r = {"ours": ours, "again": again, "fp32": ours_fp32, "ref": ref, "load": (load_before, os.getloadavg()[0])}
    r["ours_train"], r["ours_how"] = steady_around(ours["train_s"], again["train_s"])
    r["ours_eval"], _ = steady_around(ours["with_eval_s"], again["with_eval_s"])
    r["fp32_train"], r["fp32_how"] = steady(ours_fp32["train_s"])
    r["ref_train"], r["ref_how"] = steady(ref["epoch_s"])
    r["ratio"] = r["ref_train"] / r["ours_train"]
    r["ratio_cpu"] = steady(ref["epoch_cpu"])[0] / steady_around(ours["train_cpu"], again["train_cpu"])[0]
    r["ratio_eval"] = r["ref_train"] / r["ours_eval"]
    r["ratio_fp32"] = r["ref_train"] / r["fp32_train"]
    return r


def print_round(k: int, r: dict, goal: float) -> None:
    ours, n = r["ours"], r["ours"]["n"]
    print(f"\nround {k}: per-epoch seconds, {n} images, {ours['steps'][0]} steps of {BATCH_SIZE}; "
          f"load average {r['load'][0]:.2f} before, {r['load'][1]:.2f} after")
    print(f"  {'':<28}{'warm-up':>10}{'steady':>10}{'images/s':>11}   steady is")
    rows = [
        (f"ours, training ({ours['precision']})", ours["train_s"][0], r["ours_train"], r["ours_how"]),
        ("ours, training + test eval", ours["with_eval_s"][0], r["ours_eval"], r["ours_how"]),
        ("ours, training, fp32", r["fp32"]["train_s"][0], r["fp32_train"], r["fp32_how"]),
        ("reference, training", r["ref"]["epoch_s"][0], r["ref_train"], r["ref_how"]),
    ]
    for name, first, st, how in rows:
        print(f"  {name:<28}{first:10.2f}{st:10.2f}{n / st:11.0f}   {how}")
    print(f"  all epochs: ours {[round(s, 2) for s in ours['train_s']]} and again "
          f"{[round(s, 2) for s in r['again']['train_s']]}, "
          f"ours +eval {[round(s, 2) for s in ours['with_eval_s']]}, "
          f"ours fp32 {[round(s, 2) for s in r['fp32']['train_s']]}, "
          f"reference {[round(s, 2) for s in r['ref']['epoch_s']]}")
    print(f"  ratio reference / ours: {r['ratio']:.2f}, {'at least' if r['ratio'] >= goal else 'BELOW'} {goal:g}x "
          f"(with our eval: {r['ratio_eval']:.2f}; ours in fp32: {r['ratio_fp32']:.2f}); "
          f"of CPU seconds: {r['ratio_cpu']:.2f}")


def cpu_line() -> str:
    """The CPU the figures belong to: the same bench gives other ratios on another CPU generation (bfloat16's rate)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "cpu: unknown (no /proc/cpuinfo)"
    lines = text.split("\n\n")[0].splitlines()  # the first processor's block
    first = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    flags = set(first.get("flags", "").split())
    extensions = [f for f in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    if "amx_tile" not in flags:
        extensions.append("no AMX")
    return (f"cpu: {first.get('model name', '?')}, family {first.get('cpu family', '?')} "
            f"model {first.get('model', '?')}, {', '.join(extensions)}")


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"threads {torch.get_num_threads()} (os.cpu_count() {os.cpu_count()}), device cpu; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(cpu_line())
    print(f"batch {BATCH_SIZE}, Adam lr {LR:g}, MLP VAE {VAEConfig().hidden} latent {VAEConfig().latent_dim}, "
          f"training images {args.limit or 'all'}, {args.rounds} round(s)")

    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-mnist-") as tmp:
        t0 = time.perf_counter()
        prepare_torchvision_root(Path(tmp))
        prepare_s = time.perf_counter() - t0
        for k in range(1, args.rounds + 1):
            print(f"round {k} of {args.rounds}", flush=True)
            rounds.append(one_round(args, Path(tmp)))
            r = rounds[-1]  # at once, so a run cut short still leaves its rounds
            print(f"  round {k}: steady epoch ours {r['ours_train']:.2f} s, reference {r['ref_train']:.2f} s: "
                  f"ratio {r['ratio']:.2f} ({'at least' if r['ratio'] >= args.goal else 'BELOW'} {args.goal:g}x), "
                  f"of CPU seconds {r['ratio_cpu']:.2f}; load {r['load'][0]:.2f} -> {r['load'][1]:.2f}", flush=True)

    first = rounds[0]
    for (_, batch, _, threads), (choice, times) in probed().items():
        ms = {k: ", ".join(f"{1e3 * t:.2f}" for t in v) for k, v in times.items()}
        print(f"\nprecision probe (batch {batch}, {threads} threads): ms per step, fp32 [{ms['fp32']}], "
              f"bf16 [{ms['bf16']}] -> {choice}")
    print("\none-off costs (round 1)")
    print(f"  ours       load_dataset('mnist') (gunzip, SHA-256, parse)   {first['ours']['load_s']:7.2f} s")
    print(f"  reference  datasets.MNIST(...) construction                 {first['ref']['construct_s']:7.2f} s"
          f"   (+ {prepare_s:.2f} s decompressing into the temp root, bench setup only)")
    for k, r in enumerate(rounds, 1):
        print_round(k, r, args.goal)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(f"\nover {len(rounds)} round(s), medians: ours {med('ours_train'):.2f} s ({first['ours']['precision']}), "
          f"ours in fp32 {med('fp32_train'):.2f} s, reference {med('ref_train'):.2f} s an epoch")
    print(f"ratio reference / ours (steady training time), median of rounds: {med('ratio'):.2f}"
          f"   (rounds: {', '.join(format(r['ratio'], '.2f') for r in rounds)})")
    reached = sum(r["ratio"] >= args.goal for r in rounds)
    print(f"  at least {args.goal:g}x in {reached} of {len(rounds)} round(s): "
          f"{'every round' if reached == len(rounds) else 'NOT every round'}")
    print(f"  of process CPU seconds (steady epochs; with --threads 1 this holds under other load), median: "
          f"{med('ratio_cpu'):.2f}   (rounds: {', '.join(format(r['ratio_cpu'], '.2f') for r in rounds)})")
    print(f"  against ours with its per-epoch test eval: {med('ratio_eval'):.2f}; against ours in fp32: "
          f"{med('ratio_fp32'):.2f}")
    if len(first["ours"]["train_s"]) < 2 or len(first["ref"]["epoch_s"]) < 2:
        print("  note: a side ran one epoch only, so its 'steady' figure includes warm-up")
    print(f"mean train loss of the last epoch (sanity): ours {first['ours']['final_train_loss']:.2f}, "
          f"ours fp32 {first['fp32']['final_train_loss']:.2f}, "
          f"reference {first['ref']['final_train_loss']:.2f} nats/image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
