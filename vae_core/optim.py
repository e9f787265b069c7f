"""Adam and the one-cycle schedule, as a few lines around PyTorch's fused Adam kernel.

Why not torch.optim: building any torch.optim optimizer imports torch._dynamo (about 155 MiB more in every
training process, docs/benchmarks.md), and its step() spends about 0.25 ms of Python a step around a 0.45 ms kernel
(docs/benchmarks.md). The arithmetic is the same kernel called with the same arguments, so the weights equal
torch.optim.Adam(fused=True) with OneCycleLR's defaults bit for bit (tests/test_optim.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class Adam:
    """Adam (Kingma & Ba 2015) without weight decay:
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   w <- w - lr * m^ / (sqrt(v^) + eps)
    with m^, v^ the bias-corrected moments; one fused pass over every parameter that has a gradient."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        # one count per parameter, a float32 scalar as the kernel takes it: a parameter without a gradient in a
        # step is not updated and does not count that step (as in torch.optim)
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        params, exp_avg, exp_avg_sq, steps = ([xs[i] for i in live] for xs in
                                              (self.params, self.exp_avg, self.exp_avg_sq, self.steps))
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(params, [p.grad for p in params], exp_avg, exp_avg_sq, [], steps, amsgrad=False,
                           lr=self.lr, beta1=self.beta1, beta2=self.beta2, weight_decay=0.0, eps=self.eps,
                           maximize=False, grad_scale=None, found_inf=None)


def _cos(start: float, end: float, pct: float) -> float:
    """Cosine from start (pct 0) to end (pct 1), written as OneCycleLR writes it."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


class OneCycle:
    """The one-cycle schedule (Smith & Topin 2017) as torch.optim.lr_scheduler.OneCycleLR with its defaults: the
    rate rises from max_lr / 25 to max_lr over the first 30 % of the steps, then falls to max_lr / 25e4, each
    half a cosine; Adam's beta1 moves the other way, 0.95 -> 0.85 -> 0.95. Sets the rate of the next step."""

    def __init__(self, opt: Adam, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, base_momentum: float = 0.85,
                 max_momentum: float = 0.95):
        initial = max_lr / div_factor
        self.opt, self.total_steps = opt, total_steps
        # (last step of the phase, rate at its start and end, beta1 at its start and end)
        self.phases = ((float(pct_start * total_steps) - 1, initial, max_lr, max_momentum, base_momentum),
                       (total_steps - 1, max_lr, initial / final_div_factor, base_momentum, max_momentum))
        self.step_num = -1
        self.step()

    def step(self) -> None:
        self.step_num += 1
        if self.step_num > self.total_steps:
            raise ValueError(f"stepped {self.step_num} times, the schedule has {self.total_steps} steps")
        start = 0.0
        for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
            if self.step_num <= end or i == len(self.phases) - 1:
                pct = (self.step_num - start) / (end - start)
                self.opt.lr, self.opt.beta1 = _cos(lr0, lr1, pct), _cos(m0, m1, pct)
                return
            start = end
