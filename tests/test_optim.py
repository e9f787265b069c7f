"""vae_core.optim: Adam and the one-cycle schedule give exactly what torch.optim gives, without importing
torch._dynamo into a training process."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from vae_core import VAEConfig
from vae_core.optim import Adam, OneCycle
from vae_core.train import seeded_model

STEPS = 40


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _run(ours: bool, schedule: bool, skip_decoder_at: int | None = None) -> tuple[list, list, list[float]]:
    """STEPS steps of a small MLP VAE on fixed images: the weights before and after, and each step's rate."""
    model, gen = seeded_model(VAEConfig(arch="mlp", latent_dim=3, hidden=(32, 16)), 0, torch.device("cpu"))
    start = _weights(model)
    x = torch.rand((16, 1, 28, 28), generator=torch.Generator().manual_seed(1))
    if ours:
        opt = Adam(model.parameters(), lr=3e-3)
        sched = OneCycle(opt, max_lr=3e-3, total_steps=STEPS) if schedule else None
        rate = lambda: opt.lr  # noqa: E731
    else:
        opt = torch.optim.Adam(model.parameters(), lr=3e-3, fused=True)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=STEPS) if schedule else None
        rate = lambda: opt.param_groups[0]["lr"]  # noqa: E731
    rates = []
    for step in range(STEPS):
        opt.zero_grad()
        if step == skip_decoder_at:  # a step in which some parameters get no gradient
            loss = model.encode(x)[0].square().mean()
        else:
            loss = model(x, gen)["loss"].mean()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        rates.append(rate())
    return start, _weights(model), rates


@pytest.mark.parametrize("schedule", [True, False], ids=["onecycle", "constant"])
def test_the_weights_equal_torch_optim_s_bit_for_bit(schedule):
    start, ours, our_rates = _run(True, schedule)
    _, theirs, their_rates = _run(False, schedule)
    assert our_rates == their_rates
    assert len(set(our_rates)) == (STEPS if schedule else 1)
    for a, b, s in zip(ours, theirs, start, strict=True):
        assert torch.equal(a, b)
        assert not torch.equal(a, s)


def test_a_parameter_without_a_gradient_is_left_alone_and_its_step_count_waits():
    _, ours, _ = _run(True, True, skip_decoder_at=5)
    _, theirs, _ = _run(False, True, skip_decoder_at=5)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


def test_the_schedule_refuses_a_step_past_its_end():
    opt = Adam([torch.zeros(2, requires_grad=True)], lr=1e-3)
    sched = OneCycle(opt, max_lr=1e-3, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="3 steps"):
        sched.step()


def test_a_training_run_does_not_import_torch_dynamo():
    code = ("import sys, torch\n"
            "from vae_core import VAEConfig, TrainConfig\n"
            "from vae_core.data import Dataset\n"
            "from vae_core.train import train\n"
            "g = torch.Generator().manual_seed(0)\n"
            "imgs = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=g)\n"
            "labels = torch.zeros(64, dtype=torch.uint8)\n"
            "data = Dataset('mnist', imgs, labels, imgs[:32], labels[:32], 'none', {})\n"
            "cfg = TrainConfig(epochs=1, batch_size=32)\n"
            "r = train(VAEConfig(arch='mlp', latent_dim=2, hidden=(16,)), cfg, [], data)\n"
            "assert r.status == 'completed', r.message\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
