"""How long a training run takes on this server, and how long the running one has left.

Presets: a fixed "≈30 s" was wrong on any other machine or load (117 s measured under load). Instead, once per
server process, a few training steps of each preset's model are timed on random images (and one test-set
evaluation), and a preset that has run here is labelled from its last run, which is better still. The timing
runs where a training would: in a process of its own, forked like a training worker, at its priority and on its
cores (measure_apart). In a thread of the web server it held that server's interpreter and cores for seconds
when the Train tab first opened, while a class was arriving (docs/benchmarks.md, "A class behind a proxy").

    epoch time = ceil(n_train / batch) * (seconds per step) + (seconds per 10,000-image evaluation)

ETA: from the run's own recent pace (the last WINDOW_S seconds of polls), not the mean since the start, so a
burst of load moves it by what the burst costs; when the recent pace is much slower than the run's pace at its
start, the page says so (other sessions are sharing the CPU).
"""

from __future__ import annotations

import logging
import math
import multiprocessing.util
import threading
import time

import torch

from vae_core import settings
from vae_core.config import VAEConfig
from vae_core.data import to_float
from vae_core.evaluate import evaluate_elbo
from vae_core.hardware import available_cpus, pick_device
from vae_core.model import VAE
from vae_core.train import make_optimizer
from vae_core.train_config import TrainConfig

from .env import train_nice_default
from .local_worker import end_with_parent, worker_context
from .priority import lower_priority
from .time_format import format_seconds

log = logging.getLogger(__name__)

WINDOW_S = 20.0  # seconds of recent polls the ETA's pace is taken over
SLOWER = 1.3  # recent pace this many times slower than at the start: say so
TIMED_STEPS = 12  # steps timed per model (after WARMUP_STEPS untimed ones)
WARMUP_STEPS = 3
TEST_IMAGES = 10_000
MEASURE_TIMEOUT_S = 300.0  # a timing process that has not answered by then is killed (the label stays "timing…")

_lock = threading.Lock()
_step_s: dict[tuple, float] = {}  # (model config, batch, device) -> seconds per training step, measured
_eval_s: dict[tuple, float] = {}  # (model config, device) -> seconds per evaluation of the test set
_last_run: dict[tuple, float] = {}  # (model config, batch, device, n_train) -> seconds per epoch of the last run
_runs: dict[str, tuple] = {}  # job id -> the key of _last_run its time goes to
_thread: threading.Thread | None = None
_pending: list[tuple[VAEConfig, TrainConfig]] = []  # runs whose model is still to be timed
_exiting = False  # the interpreter is ending: multiprocessing ends a timing process, and that is no failure


def _note_exit() -> None:
    global _exiting
    _exiting = True


# multiprocessing's exit handler runs its finalizers of priority >= 0 before it terminates the daemonic children
multiprocessing.util.Finalize(None, _note_exit, exitpriority=100)


def _run_key(model_cfg: VAEConfig, cfg: TrainConfig) -> tuple:
    return model_cfg, cfg.batch_size, cfg.device, cfg.limit


@torch.no_grad()
def _time_eval(model: VAE, device: torch.device) -> float:
    images = torch.randint(0, 256, (TEST_IMAGES, *model.cfg.image_shape[1:]), dtype=torch.uint8, device=device)
    t = time.perf_counter()
    evaluate_elbo(model, images)
    return time.perf_counter() - t


def measure(model_cfg: VAEConfig, batch_size: int, device_name: str = "cpu",
            steps: int = TIMED_STEPS) -> tuple[float, float]:
    """(seconds per training step, seconds per test-set evaluation) of this model here, on random images."""
    device = pick_device(device_name)
    gen = torch.Generator(device=device).manual_seed(0)
    model = VAE(model_cfg).to(device)
    opt = make_optimizer(model, 1e-3)
    # the dataset's layout: uint8 [B, H, W], one grey channel
    x = to_float(torch.randint(0, 256, (batch_size, *model_cfg.image_shape[1:]), dtype=torch.uint8, device=device))
    t = 0.0
    for i in range(WARMUP_STEPS + steps):
        if i == WARMUP_STEPS:
            t = time.perf_counter()
        loss = model(x, gen)["loss"].mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    step_s = (time.perf_counter() - t) / steps
    return step_s, _time_eval(model, device)


def _measure_child(model_cfg: VAEConfig, batch_size: int, device_name: str, nice: int, conn) -> None:
    """The timing process: a training worker's priority, cores and threads, then measure()."""
    end_with_parent()
    lower_priority(nice)
    torch.set_num_threads(available_cpus())
    try:
        conn.send(("ok", measure(model_cfg, batch_size, device_name)))
    except BaseException as e:  # noqa: BLE001  (the parent must hear why)
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def measure_apart(model_cfg: VAEConfig, batch_size: int, device_name: str = "cpu",
                  timeout: float = MEASURE_TIMEOUT_S) -> tuple[float, float]:
    """measure() in a process of its own, as a training worker runs (local_worker.worker_context, its nice
    value and cores): (seconds per training step, seconds per test-set evaluation)."""
    ctx = worker_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure_child, name="preset-timing", daemon=True,
                       args=(model_cfg, batch_size, device_name, train_nice_default(), child))
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"the timing process did not answer in {timeout:.0f} s")
        kind, value = parent.recv()
    except EOFError:
        raise RuntimeError("the timing process ended without an answer") from None
    finally:
        parent.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if kind != "ok":
        raise RuntimeError(value)
    return value


def _measure_pending() -> None:
    global _thread
    while True:
        with _lock:
            if not _pending:
                _thread = None  # under the lock: a plan queued from now on starts a new thread
                return
            model_cfg, cfg = _pending.pop(0)
        key = (model_cfg, cfg.batch_size, cfg.device)
        if key in _step_s:
            continue
        try:
            step_s, eval_s = measure_apart(model_cfg, cfg.batch_size, cfg.device)
        except Exception:  # a timing is a nicety: the label says "timing…", the log says why
            if _exiting:
                return
            log.exception("timing the preset model failed")
            continue
        with _lock:
            _step_s[key], _eval_s[(model_cfg, cfg.device)] = step_s, eval_s


def ensure_measured(plans: list[tuple[VAEConfig, TrainConfig]]) -> threading.Thread | None:
    """Queue the timing of these runs' models (each once per process); a background thread of the server waits
    for each timing process in turn. The thread, or None when everything is timed already."""
    global _thread
    with _lock:
        for model_cfg, cfg in plans:
            if (model_cfg, cfg.batch_size, cfg.device) not in _step_s and (model_cfg, cfg) not in _pending:
                _pending.append((model_cfg, cfg))
        if _pending and _thread is None:
            _thread = threading.Thread(target=_measure_pending, name="preset-timing", daemon=True)
            _thread.start()
        return _thread


def estimate(model_cfg: VAEConfig, cfg: TrainConfig, n_train: int) -> tuple[float, str] | None:
    """(seconds, where the figure comes from) for a whole run, or None while nothing is known yet."""
    with _lock:
        per_epoch = _last_run.get(_run_key(model_cfg, cfg))
        if per_epoch is not None:
            return cfg.epochs * per_epoch, "its last run here"
        step_s = _step_s.get((model_cfg, cfg.batch_size, cfg.device))
        eval_s = _eval_s.get((model_cfg, cfg.device))
    if step_s is None or eval_s is None:
        return None
    # epoch = ceil(n / batch) steps + one evaluation of the test set
    return cfg.epochs * (math.ceil(n_train / cfg.batch_size) * step_s + eval_s), "timed on this server"


def preset_label(presets: dict, train_sizes) -> callable:
    """name -> 'Quick demo: about 41 s (timed on this server)'; starts the timing of the presets' models."""
    plans, specs = {}, settings.run_specs()
    for name, values in presets.items():
        values = dict(values, limit=values["limit"] if values["limit"] in train_sizes else train_sizes[-1])
        try:
            plans[name] = settings.build(settings.check(values, specs), specs, drop_inapplicable=True)
        except ValueError:
            continue
    ensure_measured(list(plans.values()))

    def label(name: str) -> str:
        if name not in plans:
            return name
        model_cfg, cfg = plans[name]
        est = estimate(model_cfg, cfg, cfg.limit)
        if est is None:
            return f"{name}: being timed on this server…"
        return f"{name}: about {format_seconds(est[0])} ({est[1]})"

    return label


def start_run(job_id: str, model_cfg: VAEConfig, cfg: TrainConfig, preset: str | None) -> None:
    """Remember a started run, so that its time labels its preset once it has completed."""
    with _lock:
        _runs[job_id] = _run_key(model_cfg, cfg)


def finish_run(job_id: str, state: str, elapsed: float, epochs_completed: int) -> None:
    """A completed run's seconds per epoch become its settings' label (only a completed run: a stopped one's
    last epoch may be partial)."""
    with _lock:
        key = _runs.pop(job_id, None)
        if key is not None and state == "completed" and epochs_completed > 0:
            _last_run[key] = elapsed / epochs_completed


def pace(samples: list[tuple[float, int]], total_steps: int, window: float = WINDOW_S) -> tuple[float | None, float]:
    """(seconds left, how many times slower the recent pace is than the start's) from polls (elapsed s, step).

    recent rate = (step_last - step_i) / (t_last - t_i), t_i the first poll within `window` s of the last;
    start rate, the same over the first `window` s after the first step. Until the run is two windows long the
    rate is the mean since the start and the slowdown 1."""
    samples = [(t, s) for t, s in samples if s > 0]
    if len(samples) < 2:
        if samples and samples[0][0] > 0:
            t, s = samples[0]
            return (total_steps - s) * t / s, 1.0
        return None, 1.0
    t_last, s_last = samples[-1]
    t_first, s_first = samples[0]

    def rate(points):
        (t0, s0), (t1, s1) = points[0], points[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else None

    recent = rate([p for p in samples if p[0] >= t_last - window])
    if t_last - t_first < 2 * window or recent is None:
        mean = s_last / t_last if t_last > 0 else None
        return ((total_steps - s_last) / mean if mean else None), 1.0
    start = rate([p for p in samples if p[0] <= t_first + window])
    slowdown = start / recent if start else 1.0
    return (total_steps - s_last) / recent, slowdown


def pace_text(eta: float | None, slowdown: float) -> str:
    text = f"about {format_seconds(eta)} left"
    if slowdown >= SLOWER:
        text += f" · other sessions are slowing this run: {slowdown:.1f}x slower than at its start"
    return text
