"""How long a training run takes on this server: the presets' time labels.

Every preset is labelled the same way: once per server process, a short run of vae_core's own training loop
(train(), whatever it does to be fast) on random images of the preset's size, in a process of its own forked
like a training worker, at its priority, on its cores and threads (measure_apart), gives seconds per training
step and seconds per test-set evaluation; then

    run time = epochs x (ceil(n_train / batch) x seconds per step + seconds per evaluation)

One method, one measurement per model and batch, for all presets: a label from a past run (taken under whatever
load it met) beside one from a timing would not compare. A fixed "≈30 s" was wrong on any other machine. In a
thread of the web server the timing held that server's interpreter and cores for seconds when the Train tab first
opened, while a class was arriving (docs/benchmarks.md, "A class behind a proxy").

The running job's time left is training/eta.py's.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing.util
import threading

import torch

from vae_core import settings
from vae_core.callbacks import Callback
from vae_core.config import VAEConfig
from vae_core.data import Dataset
from vae_core.train import train
from vae_core.train_config import TrainConfig

from .env import train_nice_default
from .local_worker import end_with_parent, local_threads, worker_context
from .priority import lower_priority
from .time_format import format_seconds

log = logging.getLogger(__name__)

SLOWER = 1.3  # the current epoch this many times slower than the fastest one: say so
TIMED_STEPS = 12  # steps timed per model (after WARMUP_STEPS untimed ones)
WARMUP_STEPS = 3
TEST_IMAGES = 10_000
MEASURE_TIMEOUT_S = 300.0  # a timing process that has not answered by then is killed (the label stays "timing…")
SOURCE = "timed on this server"

_lock = threading.Lock()
_step_s: dict[tuple, float] = {}  # (model config, batch, device) -> seconds per training step, measured
_eval_s: dict[tuple, float] = {}  # (model config, device) -> seconds per evaluation of the test set
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


class _Times(Callback):
    """Each step's and the epoch end's time since the loop began (vae_core's own clock)."""

    def __init__(self):
        self.steps: list[float] = []
        self.end: float | None = None

    def on_step(self, m) -> None:
        self.steps.append(m.elapsed)

    def on_epoch_end(self, m, model) -> None:
        self.end = m.elapsed


def measure(model_cfg: VAEConfig, batch_size: int, device_name: str = "cpu",
            steps: int = TIMED_STEPS, cfg: TrainConfig | None = None) -> tuple[float, float]:
    """(seconds per training step, seconds per test-set evaluation) of this model here: one epoch of
    vae_core.train.train() over WARMUP_STEPS + steps batches of random images, then its test evaluation."""
    shape = (*model_cfg.image_shape[1:],)
    gen = torch.Generator().manual_seed(0)
    n = batch_size * (WARMUP_STEPS + steps)
    train_images = torch.randint(0, 256, (n, *shape), dtype=torch.uint8, generator=gen)
    test_images = torch.randint(0, 256, (TEST_IMAGES, *shape), dtype=torch.uint8, generator=gen)
    labels = lambda k: torch.zeros(k, dtype=torch.uint8)  # noqa: E731
    name = cfg.dataset if cfg is not None else "mnist"
    data = Dataset(name, train_images, labels(n), test_images, labels(TEST_IMAGES), "random", {})
    base = cfg or TrainConfig()
    run = dataclasses.replace(base, epochs=1, limit=n, batch_size=batch_size, device=device_name,
                              threads=base.threads or torch.get_num_threads())
    times = _Times()
    train(model_cfg, run, [times], data)
    step_s = (times.steps[-1] - times.steps[WARMUP_STEPS - 1]) / (len(times.steps) - WARMUP_STEPS)
    return step_s, max(0.0, times.end - times.steps[-1])


def _measure_child(model_cfg: VAEConfig, cfg: TrainConfig, nice: int, conn) -> None:
    """The timing process: a local training worker's priority, cores and threads, then measure()."""
    end_with_parent()
    lower_priority(nice)
    torch.set_num_threads(cfg.threads or local_threads())
    try:
        conn.send(("ok", measure(model_cfg, cfg.batch_size, cfg.device, cfg=cfg)))
    except BaseException as e:  # noqa: BLE001  (the parent must hear why)
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def measure_apart(model_cfg: VAEConfig, cfg: TrainConfig,
                  timeout: float = MEASURE_TIMEOUT_S) -> tuple[float, float]:
    """measure() in a process of its own, as a training worker runs (local_worker.worker_context, its nice
    value and cores): (seconds per training step, seconds per test-set evaluation)."""
    ctx = worker_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure_child, name="preset-timing", daemon=True,
                       args=(model_cfg, cfg, train_nice_default(), child))
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
            step_s, eval_s = measure_apart(model_cfg, cfg)
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
    """(seconds, where the figure comes from) for a whole run, or None while its model is being timed."""
    with _lock:
        step_s = _step_s.get((model_cfg, cfg.batch_size, cfg.device))
        eval_s = _eval_s.get((model_cfg, cfg.device))
    if step_s is None or eval_s is None:
        return None
    # epoch = ceil(n / batch) steps + one evaluation of the test set
    return cfg.epochs * (math.ceil(n_train / cfg.batch_size) * step_s + eval_s), SOURCE


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


def pace_text(eta: float | None, slowdown: float) -> str:
    text = f"about {format_seconds(eta)} left"
    if slowdown >= SLOWER:
        text += f" · other sessions are slowing this run: {slowdown:.1f}x slower than its fastest epoch"
    return text
