"""Where and how a run computes: the device, the precision of the matrix products, the CPU threads."""

from __future__ import annotations

import contextlib
import os

import torch


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def native_bf16_cpu() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX). PyTorch has no public query."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def pick_precision(name: str, device: torch.device, arch: str = "mlp") -> str:
    """"fp32" or "bf16": the dtype of the layers' matrix products in training (under autocast); the loss is
    float32 either way.

    bfloat16 keeps float32's exponent range with an 8-bit mantissa. A CPU with AVX512-BF16 or AMX multiplies it
    at about twice the float32 rate, and the MLP VAE, whose time goes to its matrix products, trains ~1.5x
    faster to the same test loss (docs/benchmarks.md). So "auto" picks it for the MLP where the hardware has
    it; not where it would be emulated, not for the small conv net (measured: no faster), and not on CUDA,
    where this small model is bound by kernel launches, not by arithmetic.
    """
    if name == "fp32":
        return "fp32"
    if name == "bf16" or (device.type == "cpu" and arch == "mlp" and native_bf16_cpu()):
        return "bf16"
    return "fp32"


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
