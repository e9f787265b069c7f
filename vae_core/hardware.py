"""Where and how a run computes: the device, the precision of the matrix products, the CPU threads."""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import time

import torch

from .optim import Adam


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


# The probe: PROBE_TRIALS alternated trials of PROBE_STEPS training steps in each precision, after one untimed
# step of each. Alternating, and taking each precision's fastest trial, lets a burst of other load on a shared
# machine hit both alike. bfloat16 must win by BF16_MARGIN: on a tie, float32's exact arithmetic is kept.
PROBE_TRIALS = 3
PROBE_STEPS = 3
PROBE_MAX_BATCH = 1024  # a larger batch is probed at this size: the ratio is settled by then
PROBE_BUDGET_S = 2.0  # once a probe has spent this long, no further trial is started
BF16_MARGIN = 0.9  # bf16 is chosen when its step takes at most this share of an fp32 step

_probed: dict[tuple, tuple[str, dict]] = {}  # (model config, batch, device, threads) -> (choice, timings)
_probe_lock = threading.Lock()


def make_optimizer(model: torch.nn.Module, lr: float) -> Adam:
    """The run's Adam (optim.py): one fused pass over memory updates all parameters (CPU and CUDA)."""
    return Adam(model.parameters(), lr=lr)


def choose_precision(fp32_s: list[float], bf16_s: list[float], margin: float = BF16_MARGIN) -> str:
    """From each precision's timed trials (seconds per step): "bf16" if its fastest trial takes at most
    `margin` times the fastest float32 trial, else "fp32"."""
    if not fp32_s or not bf16_s:
        raise ValueError("both precisions need at least one timed trial")
    return "bf16" if min(bf16_s) <= margin * min(fp32_s) else "fp32"


def _step_seconds(model: torch.nn.Module, opt: Adam, x: torch.Tensor, gen: torch.Generator,
                  bf16: bool, steps: int) -> float:
    """Seconds per training step (forward, backward, optimizer step), as train() takes it."""
    t = time.perf_counter()
    for _ in range(steps):
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(x, gen)["loss"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - t) / steps


def probe_precision(model: torch.nn.Module, batch_size: int) -> tuple[str, dict]:
    """Time the model's own training steps in float32 and in bfloat16 on this machine: (choice, timings).

    Works on a copy in eval mode (no dropout draws), with generators of its own and random images: the run's
    weights and random streams are untouched, so a seed gives the same run whether or not it probed."""
    probe = copy.deepcopy(model).eval()
    opt = make_optimizer(probe, 1e-6)
    device = next(probe.parameters()).device
    gen = torch.Generator(device=device).manual_seed(0)
    shape = (min(batch_size, PROBE_MAX_BATCH), *probe.cfg.image_shape)
    x = torch.rand(shape, generator=gen, device=device)
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    start = time.perf_counter()
    for bf16 in (False, True):
        _step_seconds(probe, opt, x, gen, bf16, 1)  # warm-up: first-call allocations, kernel selection
    for _ in range(PROBE_TRIALS):
        for name in ("fp32", "bf16"):
            times[name].append(_step_seconds(probe, opt, x, gen, name == "bf16", PROBE_STEPS))
        if time.perf_counter() - start > PROBE_BUDGET_S:
            break
    return choose_precision(times["fp32"], times["bf16"]), times


def pick_precision(name: str, device: torch.device, model: torch.nn.Module | None = None,
                   batch_size: int = 128) -> str:
    """"fp32" or "bf16": the dtype of the layers' matrix products in training (under autocast); the loss, the
    sampling and the weights are float32 either way.

    bfloat16 keeps float32's exponent range with an 8-bit mantissa. Whether it is faster depends on the CPU, the
    model and the batch, and on this machine it stopped paying for the MLP once the loop's other costs shrank
    (docs/benchmarks.md). So "auto" on the CPU times a few steps of the model in both (probe_precision) and takes
    bfloat16 only where it is clearly faster; the choice is kept for the process, per model configuration,
    batch and thread count, so every run of a process with those settings computes alike. On CUDA "auto" is
    float32: this small model is bound by kernel launches there, not by arithmetic. Without a model (nothing
    to time) "auto" is float32.
    """
    if name in ("fp32", "bf16"):
        return name
    if device.type != "cpu" or model is None:
        return "fp32"
    key = (model.cfg, min(batch_size, PROBE_MAX_BATCH), device.type, torch.get_num_threads())
    with _probe_lock:  # one probe at a time: two at once would time each other
        if key not in _probed:
            _probed[key] = probe_precision(model, batch_size)
        return _probed[key][0]


def probed() -> dict[tuple, tuple[str, dict]]:
    """What this process has measured: key -> (choice, {"fp32": [s per step...], "bf16": [...]})."""
    with _probe_lock:
        return dict(_probed)


def available_cpus() -> int:
    """Cores this process may use: OMP_NUM_THREADS if set, else the CPU affinity mask."""
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isascii() and threads.isdigit() and len(threads) <= 4:  # isdigit() alone also takes '²'
        return max(1, int(threads))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with n intra-op threads, then restore the previous setting (it is process-wide)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
