"""Per-step metrics in bounded memory (vae_core/step_history.py) in the training job: a long run's curves
keep their shape and the job's memory stays flat in the number of steps, in the worker's report and in the web
server's job."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np

from dashboard.training.job import TrainingJob
from dashboard.training.protocol import StepRow, Steps
from peak_memory import traced_growth  # noqa: E402
from vae_core.config import VAEConfig
from vae_core.train_config import TrainConfig

STEPS = 100_000


def losses(n: int) -> np.ndarray:
    """A training curve's shape: a fast fall, a slow decline, and the noise of single batches."""
    rng = np.random.default_rng(0)
    t = np.arange(1, n + 1)
    return 540 * np.exp(-t / 300) + 150 * np.exp(-t / 40_000) + 100 + rng.normal(0, 8, n)


def job_fed(n: int, job: TrainingJob | None = None, start: int = 0, batch: int = 50) -> TrainingJob:
    """A job as the web server holds it, given n more steps the way a worker reports them (batches of Steps)."""
    job = job or TrainingJob(VAEConfig(hidden=(8,)), TrainConfig(epochs=1, device="cpu"), session_id="s")
    y = losses(start + n)
    for b in range(start, start + n, batch):
        job._on_message(Steps([StepRow(i + 1, 1 + i // 1000, float(y[i]), float(y[i]) - 10, 10.0, 0.0)
                               for i in range(b, min(b + batch, start + n))]))
    return job


def test_a_long_run_keeps_a_bounded_history_whose_curve_matches_the_full_one():
    from vae_core.step_history import MAX_POINTS

    s = job_fed(STEPS).snapshot()
    x, y = np.array(s.steps["step"]), np.array(s.steps["loss"])
    assert len(x) <= MAX_POINTS + 1 and all(len(v) == len(x) for v in s.steps.values())
    assert x[-1] == STEPS and np.all(np.diff(x) > 0)
    # Each point is the mean of the steps since the previous point: the same as the full curve averaged so.
    full = losses(STEPS)
    edges = np.concatenate([[0], x])
    reference = np.array([full[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
    np.testing.assert_allclose(y, reference, rtol=1e-9)
    # Equal blocks: every point but the last (the latest steps, still filling) spans the same number of steps.
    assert len(set(np.diff(x[:-1]).tolist())) == 1
    # And the curve as a whole: within the batch noise of the full one smoothed over the same span.
    stride = int(x[1] - x[0])
    smooth = np.convolve(full, np.ones(stride) / stride, mode="valid")[x[:-1] - stride]
    assert np.max(np.abs(y[:-1] - smooth)) < 1e-6


def test_a_short_run_keeps_every_step():
    s = job_fed(500).snapshot()
    assert s.steps["step"] == list(range(1, 501))
    np.testing.assert_allclose(s.steps["loss"], losses(500), rtol=1e-12)


def test_the_jobs_memory_is_flat_in_the_number_of_steps():
    """The job after 2**14 and after 2**17 steps (the same point in the halving cycle: as many points kept)."""
    first, more = 2**14, 2**17 - 2**14
    job, grown = traced_growth(lambda: job_fed(first), lambda job: job_fed(more, job, start=first))
    assert grown / more < 1, f"{grown / more:.1f} bytes a step"  # every step kept: about 150 bytes a step
    assert len(job.snapshot().steps["step"]) <= 8193


def test_the_workers_report_keeps_a_bounded_history():
    from dashboard.training.run import _Reporter

    reporter = _Reporter(lambda msg: None, threading.Event(), lambda model, epoch: None)
    try:
        for i, y in enumerate(losses(STEPS)):
            reporter.on_step(SimpleNamespace(step=i + 1, epoch=1, loss=float(y), recon=float(y), kl=1.0, elapsed=0.0))
    finally:
        reporter.close()
    rows = reporter.history.rows()
    assert len(rows) <= 8193 and rows[-1]["step"] == STEPS
    assert set(rows[0]) == {"step", "epoch", "loss", "recon", "kl"}


def test_the_plotted_curve_of_a_long_run_matches_the_full_resolution_one():
    """The chart smooths over the same span of steps whether it has every step or block means of them: the
    drawn curve stays within 1 % of the one drawn from every step, the steep start included."""
    from dashboard.train import figures

    s = job_fed(STEPS).snapshot()
    assert s.steps_stride > 1
    y = losses(STEPS)
    drawn_from_all = figures._curves({"step": list(range(1, STEPS + 1)), "loss": y, "recon": y, "kl": y})["loss"]
    x = np.array(s.steps["step"])
    drawn = figures._curves(s.steps, s.steps_stride)["loss"]
    np.testing.assert_allclose(drawn, drawn_from_all[x - 1], rtol=0.01)
    figures.loss_figure(s.steps, s.epoch_metrics, step_stride=s.steps_stride)  # builds
