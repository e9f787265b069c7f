"""The training loop's per-step history in bounded memory (vae_core/step_history.py): every step up to a bound,
then means of equal blocks of steps, so a run of batch 1 over many epochs keeps a flat memory and a faithful
curve, in the loop's result and in what config.json records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from peak_memory import traced_growth  # noqa: E402
from vae_core import train as train_mod
from vae_core.callbacks import Callback
from vae_core.config import VAEConfig
from vae_core.run_record import compact_history
from vae_core.train_config import TrainConfig

STEPS = 100_000


def losses(n: int) -> np.ndarray:
    """A training curve's shape: a fast fall, a slow decline, and the noise of single batches."""
    rng = np.random.default_rng(0)
    t = np.arange(1, n + 1)
    return 540 * np.exp(-t / 300) + 150 * np.exp(-t / 40_000) + 100 + rng.normal(0, 8, n)


def history_of(n: int, history=None, start: int = 0):
    """The loop's StepHistory (its fields and means) after n more simulated steps."""
    from vae_core.step_history import StepHistory

    history = history or StepHistory(train_mod.STEP_POINTS, train_mod.STEP_FIELDS, train_mod.STEP_MEANS)
    y = losses(start + n)
    for i in range(start, start + n):
        loss = float(y[i])
        history.add(*(dict(step=i + 1, total_steps=STEPS, epoch=1 + i // 1000, loss=loss, recon=loss - 10,
                           kl=10.0, lr=1e-3, elapsed=i * 1e-3)[f] for f in train_mod.STEP_FIELDS))
    return history


def block_means(full: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The mean of full over each block of steps ending at `ends` (1-based, the previous end excluded)."""
    edges = np.concatenate([[0], ends])
    return np.array([full[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])


def test_the_history_of_a_long_run_is_bounded_and_its_curve_matches_every_step():
    rows = history_of(STEPS).rows()
    assert len(rows) <= train_mod.STEP_POINTS + 1
    assert set(rows[0]) == {"step", "total_steps", "epoch", "loss", "recon", "kl", "lr", "elapsed"}
    x, y = np.array([r["step"] for r in rows]), np.array([r["loss"] for r in rows])
    assert x[-1] == STEPS and np.all(np.diff(x) > 0)
    assert len(set(np.diff(x[:-1]).tolist())) == 1  # equal blocks (the last one still filling)
    np.testing.assert_allclose(y, block_means(losses(STEPS), x), rtol=1e-9)
    assert rows[-1]["epoch"] == 100 and rows[-1]["lr"] == pytest.approx(1e-3)


def test_the_history_memory_is_flat_in_the_number_of_steps():
    """After 2**14 and after 2**17 steps (the same point of the halving cycle: as many points kept)."""
    first, more = 2**14, 2**17 - 2**14
    history, grown = traced_growth(lambda: history_of(first), lambda h: history_of(more, h, start=first))
    assert grown / more < 1, f"{grown / more:.1f} bytes a step"  # every step kept as a dict: ~600 bytes a step


class Losses(Callback):
    def __init__(self):
        self.rows = []

    def on_step(self, m) -> None:
        self.rows.append(dataclasses.asdict(m))


def test_the_training_loop_keeps_its_history_bounded(mnist, monkeypatch):
    """The loop itself, with a bound of 8 points: 40 steps of batch 10 give block means of the steps it ran."""
    monkeypatch.setattr(train_mod, "STEP_POINTS", 8)
    seen = Losses()
    data = dataclasses.replace(mnist, test_images=mnist.test_images[:100], test_labels=mnist.test_labels[:100])
    result = train_mod.train(VAEConfig(hidden=(8,)), TrainConfig(limit=200, epochs=2, batch_size=10, device="cpu"),
                             [seen], data=data)
    steps = result.history["steps"]
    assert len(seen.rows) == 40 and len(steps) <= 9 and steps[-1]["step"] == 40
    x = np.array([s["step"] for s in steps])
    for key in ("loss", "recon", "kl", "lr"):
        full = np.array([r[key] for r in seen.rows])
        np.testing.assert_allclose([s[key] for s in steps], block_means(full, x), rtol=1e-9)
    assert [s["epoch"] for s in steps] == [seen.rows[i - 1]["epoch"] for i in x]


def test_config_json_records_block_means_of_a_long_run():
    """Thinned to at most 1,000 points by block means, not by single noisy steps picked from the run."""
    y = losses(STEPS)
    rows = [dict(step=i + 1, epoch=1, loss=float(y[i]), recon=float(y[i]), kl=1.0) for i in range(STEPS)]
    steps = compact_history({"steps": rows, "epochs": []})["steps"]
    assert len(steps["step"]) == 1000 and steps["step"][-1] == STEPS
    x = np.array(steps["step"])
    np.testing.assert_allclose(steps["loss"], block_means(losses(STEPS), x), atol=1e-3)  # rounded to 4 places
