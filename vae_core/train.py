"""Train a VAE by maximising the ELBO (minimising recon + beta * KL) with Adam.

    python -m vae_core.train --dataset mnist --arch mlp --epochs 30 --out models/my-vae

The loop is `train()`; the command line is one client of it and the dashboard another.
Both observe it through a `Callback` (step metrics, epoch end with the model, a stop flag).
Batches are drawn by index from uint8 tensors held in memory: no DataLoader, no per-image transforms.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import math
import os
import platform
import shlex
import sys
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .analysis import Plane, align_plane, principal_plane, to_plane
from .budget import check_budget
from .checkpoint import CheckpointError, check_output_folder, save_checkpoint
from .config import VAEConfig
from .data import DATASETS, Dataset, DatasetError, load_dataset, to_float
from .evaluate import evaluate_elbo
from .flags import MAX_SEED
from .model import VAE
from .replay import Frame, write_replay
from .noise import KINDS as CORRUPTIONS, check_corruption, corrupt
from . import settings
from .settings import setting


# Bounds of a run, as wide as anything sensible and as narrow as the checkpoint schema (schema.py) accepts.
MAX_EPOCHS = 10_000
MAX_BATCH = 65_536
MAX_LR = 1e12  # divergence, not the bound, is what stops a learning rate that is merely too high
MAX_LIMIT = 10_000_000


@dataclass(frozen=True)
class TrainConfig:
    # Each setting is declared once, here (settings.py builds the command line's flags and the form from it).
    dataset: str = setting("mnist", flag="--dataset", choices=DATASETS, label="Dataset", help="the training data")
    epochs: int = setting(30, flag="--epochs", lo=1, hi=MAX_EPOCHS, label="Epochs", ui=dict(hi=500),
                          help="passes over the training images")
    batch_size: int = setting(128, flag="--batch-size", lo=1, hi=MAX_BATCH, label="Batch size",
                              ui=dict(hi=4096, step=32), help="images per step")
    # peak learning rate of the one-cycle schedule (or the constant rate)
    lr: float = setting(3e-3, flag="--lr", lo=0, hi=MAX_LR, lo_open=True, label="Learning rate",
                        ui=dict(lo=1e-6, step=1e-4), help="peak learning rate (one-cycle) or constant rate; too "
                        "high and training diverges (try 1e12 to see it)")
    schedule: str = setting("onecycle", flag="--schedule", choices=("onecycle", "constant"), label="Schedule",
                            help="onecycle warms up to the peak rate, then anneals; constant keeps it fixed")
    seed: int = setting(0, flag="--seed", lo=0, hi=MAX_SEED, label="Seed", ui=dict(hi=2**31 - 1),
                        help="fixes the initial weights, the batch order and the sampling noise")
    device: str = setting("auto", flag="--device", choices=("auto", "cpu", "cuda"), label="Device",
                          help="auto: cuda when there is one")
    # train on the first N training images only
    limit: int | None = setting(None, flag="--limit", kind="int", lo=1, hi=MAX_LIMIT, label="Training images",
                                help="train on the first N training images")
    data_dir: str | None = setting(None, flag="--data-dir", kind="str", shown=False,
                                   help="folder with the dataset's IDX files (or set VAE_DATA_DIR)")
    threads: int | None = None  # CPU threads for this run; None: every core this process may use
    # the layers' matrix products in "fp32" or "bf16"; "auto": see pick_precision()
    precision: str = setting("auto", flag="--precision", choices=("auto", "fp32", "bf16"), shown=False,
                             help="matrix products in float32 or bfloat16; auto: bfloat16 for the MLP on a CPU "
                                  "with native support")
    # Denoising VAE (Im et al. 2017): train on corrupt(x), reconstruct the clean x. "none" is the plain VAE.
    corruption: str = setting("none", flag="--corruption", choices=CORRUPTIONS, shown=False, label="Corruption",
                              help="denoising VAE: train on corrupted images, reconstruct the clean ones")
    # gaussian: sigma of the added noise; salt-and-pepper: fraction of pixels hit
    corruption_level: float = setting(0.0, flag="--corruption-level", lo=0, hi=1e3, label="Corruption level",
                                      applies=("corruption", tuple(k for k in CORRUPTIONS if k != "none")),
                                      note="with a corruption only", ui=dict(hi=1.0, step=0.05),
                                      help="gaussian: sigma of the added noise; salt-and-pepper: fraction of "
                                           "pixels set to 0 or 1")

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if self.epochs > MAX_EPOCHS or self.batch_size > MAX_BATCH:
            raise ValueError(f"epochs must be at most {MAX_EPOCHS:,} and batch size at most {MAX_BATCH:,}")
        if not (0 < self.lr <= MAX_LR and math.isfinite(self.lr)):
            raise ValueError(f"learning rate must be a positive number (at most {MAX_LR:g}), got {self.lr}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in 0..{MAX_SEED} (a 64-bit integer)")
        if self.schedule not in ("onecycle", "constant"):
            raise ValueError(f"schedule must be 'onecycle' or 'constant', got {self.schedule!r}")
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be at least 1 (and at most {MAX_LIMIT:,})")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {self.precision!r}")
        object.__setattr__(self, "corruption", check_corruption(self.corruption, self.corruption_level))
        if (self.corruption == "none") != (self.corruption_level == 0):
            raise ValueError("a corruption needs a level above 0, and a level needs a corruption "
                             f"(got {self.corruption!r} at {self.corruption_level!r})")


@dataclass
class StepMetrics:
    step: int  # 1-based, over the whole run
    total_steps: int
    epoch: int  # 1-based
    loss: float  # mean over the batch of recon + beta * KL, nats per image
    recon: float
    kl: float
    lr: float
    elapsed: float  # seconds since the start of training


@dataclass
class EpochMetrics:
    epoch: int
    epochs: int
    step: int
    train_loss: float  # mean over the epoch's batches
    test_loss: float  # mean over the test set of recon + KL (one z sample), nats per image
    test_recon: float
    test_kl: float
    elapsed: float


class Callback:
    """Override what you need. `should_stop` is asked after every step."""

    def on_train_start(self, total_steps: int, model: VAE) -> None: ...
    def on_step(self, m: StepMetrics) -> None: ...
    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None: ...
    def should_stop(self) -> bool:
        return False


@dataclass
class TrainResult:
    model: VAE  # weights after the last completed epoch (or the last step if no epoch completed)
    status: str  # "completed", "stopped" or "diverged"
    message: str
    epochs_completed: int
    history: dict = field(default_factory=dict)  # {"steps": [...], "epochs": [...]} as plain dicts
    seconds: float = 0.0
    precision: str = "fp32"  # what the matrix products ran in: "fp32" or "bf16"


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
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
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


def make_optimizer(model: VAE, lr: float) -> torch.optim.Optimizer:
    # The fused kernel updates all parameters in one pass over memory; it exists for CPU and CUDA.
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=lr)


def train(
    model_cfg: VAEConfig,
    cfg: TrainConfig,
    callbacks: list[Callback] | tuple = (),
    data: Dataset | None = None,
) -> TrainResult:
    """Train a fresh model. Never raises on divergence: the result says so and holds the last good weights.

    A model or batch over the size budget raises BudgetError (a ValueError) before anything is allocated."""
    check_budget(model_cfg, cfg.batch_size)
    with torch_threads(cfg.threads or available_cpus()):
        return _train(model_cfg, cfg, callbacks, data)


def _train(model_cfg: VAEConfig, cfg: TrainConfig, callbacks, data: Dataset | None) -> TrainResult:
    device = pick_device(cfg.device)
    order_gen = torch.Generator().manual_seed(cfg.seed)  # fixes the batch order

    data = data or load_dataset(cfg.dataset, cfg.data_dir)
    train_images = data.train_images[: cfg.limit] if cfg.limit else data.train_images
    train_images = train_images.to(device)  # uint8: 47 MB for all of MNIST
    n = len(train_images)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs

    model, eps_gen = seeded_model(model_cfg, cfg.seed, device)
    # The corruption draws from a generator of its own, so eps and the batch order follow the same sequence
    # as in a clean run; seeded apart from order_gen (seed + a constant) so the two streams do not coincide.
    noise_gen = torch.Generator(device=device).manual_seed((cfg.seed + CORRUPTION_SEED_OFFSET) % 2**64)
    precision = pick_precision(cfg.precision, device, model_cfg.arch)
    opt = make_optimizer(model, cfg.lr)
    sched = (
        torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total_steps)
        if cfg.schedule == "onecycle"
        else None
    )
    for cb in callbacks:
        cb.on_train_start(total_steps, model)

    history: dict = {"steps": [], "epochs": []}
    last_good = copy.deepcopy(model.state_dict())
    status, message, epochs_done, step = "completed", "", 0, 0
    start = time.perf_counter()

    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=order_gen).to(device)
        epoch_loss = 0.0
        for b in range(steps_per_epoch):
            x = to_float(train_images[perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]])
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                if cfg.corruption == "none":
                    terms = model(x, eps_gen)  # encode() and decode_raw() hand back float32 either way
                else:  # -log p(x | z) + beta KL(q(z|x~) || p(z)),  z ~ q(z|x~),  x~ = corrupt(x)
                    x_noisy = corrupt(x, cfg.corruption, cfg.corruption_level, noise_gen)
                    terms = model(x_noisy, eps_gen, target=x)
            loss = terms["loss"].mean()  # mean over the batch of recon + beta * KL
            step += 1
            if not torch.isfinite(loss):
                status = "diverged"
                message = f"loss diverged at step {step} (epoch {epoch}); try a lower learning rate (now {cfg.lr:g})"
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            m = StepMetrics(
                step=step, total_steps=total_steps, epoch=epoch, loss=loss.item(),
                recon=terms["recon"].mean().item(), kl=terms["kl"].mean().item(),
                lr=opt.param_groups[0]["lr"], elapsed=time.perf_counter() - start,
            )
            epoch_loss += m.loss
            history["steps"].append(asdict(m))
            for cb in callbacks:
                cb.on_step(m)
            if any(cb.should_stop() for cb in callbacks):
                status, message = "stopped", f"stopped by request at step {step} (epoch {epoch})"
                break
        if status != "completed":
            break
        test = evaluate_elbo(model, data.test_images, seed=cfg.seed)
        if not all(math.isfinite(v) for v in test.values()):
            status = "diverged"
            message = f"test loss is not finite after epoch {epoch}; try a lower learning rate (now {cfg.lr:g})"
            break
        em = EpochMetrics(epoch=epoch, epochs=cfg.epochs, step=step, train_loss=epoch_loss / steps_per_epoch,
                          elapsed=time.perf_counter() - start, **test)
        history["epochs"].append(asdict(em))
        epochs_done = epoch
        last_good = copy.deepcopy(model.state_dict())
        for cb in callbacks:
            cb.on_epoch_end(em, model)

    if status != "completed" and (epochs_done > 0 or status == "diverged"):
        # Back to the weights of the last completed epoch (the initial ones if a first epoch diverged).
        model.load_state_dict(last_good)
    if status == "completed":
        message = f"trained {epochs_done} epochs"
    model.eval()
    return TrainResult(model, status, message, epochs_done, history, time.perf_counter() - start,
                       precision)


CORRUPTION_SEED_OFFSET = 0x5EED  # the corruption generator's seed is the run's seed plus this

_global_rng = threading.Lock()  # PyTorch's global generator is one per process: jobs in threads take turns


def seeded_model(model_cfg: VAEConfig, seed: int, device: torch.device) -> tuple[VAE, torch.Generator]:
    """The model's initial weights from torch.manual_seed(seed), and a generator of the run's own for every eps
    of the reparameterisation, continuing that same seeded sequence (so a run gives what it gave when eps came
    from the global generator). A second training job in the same process, or anything else that draws from
    the global generator meanwhile, no longer changes this run's samples."""
    with _global_rng:
        torch.manual_seed(seed)
        model = VAE(model_cfg).to(device)
        eps_gen = torch.Generator(device=device)
        eps_gen.set_state(torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state())
    return model, eps_gen


def data_section(data: Dataset, limit: int | None) -> dict:
    """config.json's "data": the dataset, its files' SHA-256, and how many training images the run used."""
    return {"dataset": data.name, "sha256": data.sha256, "n_train": min(limit or len(data.train_images), len(data.train_images))}


def checkpoint_meta(model_cfg: VAEConfig, cfg: TrainConfig, result: TrainResult, data: Dataset | dict,
                    command: str) -> dict:
    """Everything config.json records besides the model config. data: the Dataset, or its data_section() (what a
    process that trained elsewhere, e.g. the app's training worker, was told of it)."""
    last = result.history["epochs"][-1] if result.history["epochs"] else {}
    return {
        "data": data if isinstance(data, dict) else data_section(data, cfg.limit),
        "training": {**asdict(cfg), "epochs_completed": result.epochs_completed, "status": result.status,
                     "seconds": round(result.seconds, 2), "matmul_precision": result.precision},
        "metrics": {k: last[k] for k in ("test_loss", "test_recon", "test_kl") if k in last},
        "history": compact_history(result.history),
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
    }


def compact_history(history: dict, max_points: int = 1000) -> dict:
    """Training curves for config.json: per-epoch rows, and per-step columns thinned to <= max_points."""
    steps = history["steps"][:: max(1, math.ceil(len(history["steps"]) / max_points))]
    return {
        "epochs": [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()} for e in history["epochs"]],
        "steps": {key: [round(s[key], 4) if isinstance(s[key], float) else s[key] for s in steps]
                  for key in ("step", "epoch", "loss", "recon", "kl")},
    }


class ProgressBar(Callback):
    """tqdm bar with the running loss; prints the test loss at each epoch end."""

    def on_train_start(self, total_steps: int, model: VAE) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total_steps, unit="step", dynamic_ncols=True, mininterval=0.5)
        self.running = None

    def on_step(self, m: StepMetrics) -> None:
        self.running = m.loss if self.running is None else 0.98 * self.running + 0.02 * m.loss
        self.bar.update(1)
        if m.step % 50 == 0:
            self.bar.set_postfix(epoch=m.epoch, loss=f"{self.running:.2f}")

    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None:
        self.bar.write(
            f"epoch {m.epoch:>3}/{m.epochs}  train {m.train_loss:8.3f}  test {m.test_loss:8.3f} "
            f"(recon {m.test_recon:8.3f} + KL {m.test_kl:6.3f}) nats/image  {m.elapsed:6.1f}s"
        )

    def close(self) -> None:
        if hasattr(self, "bar"):
            self.bar.close()


class EpochCheckpointer(Callback):
    """Saves after every epoch, so a crash or divergence later leaves the last good checkpoint in place."""

    def __init__(self, out: str, model_cfg: VAEConfig, cfg: TrainConfig, data: Dataset, command: str,
                 recorder: "LatentRecorder | None" = None):
        self.out, self.model_cfg, self.cfg, self.data, self.command = out, model_cfg, cfg, data, command
        self.recorder = recorder  # its replay is written beside each checkpoint (after this epoch's frame)
        self.epochs: list[dict] = []

    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None:
        self.epochs.append(asdict(m))
        partial = TrainResult(model, "running", "", m.epoch, {"epochs": self.epochs, "steps": []}, m.elapsed,
                              pick_precision(self.cfg.precision, model.device, model.cfg.arch))
        save_checkpoint(model, self.out, checkpoint_meta(self.model_cfg, self.cfg, partial, self.data, self.command))
        if self.recorder is not None:
            self.recorder.write(self.out)


class LatentRecorder(Callback):
    """Records the replay (replay.py): before training and after each epoch, the posterior means of the first
    `n_points` test images and `n_samples` prior draws decoded, the same z's every epoch. One batched encode
    and one decode, in eval mode; the dashboard's training job takes the same snapshots.

    For d > 2 the map is the PCA plane of that epoch's codes (analysis.principal_plane), its axes turned to
    lie closest to the previous epoch's (analysis.align_plane): the picture would otherwise flip or spin from
    one epoch to the next, since an eigenvector's sign and the order of near-equal ones are arbitrary."""

    def __init__(self, test_images: torch.Tensor, test_labels: torch.Tensor, latent_dim: int,
                 n_points: int = 2000, n_samples: int = 8, sample_seed: int = 1234):
        self.images = test_images[:n_points]
        self.labels = test_labels[:n_points].numpy().astype("int64")
        self.z = torch.randn(n_samples, latent_dim, generator=torch.Generator().manual_seed(sample_seed))
        self.frames: list[Frame] = []
        self.plane: Plane | None = None  # the last frame's plane (d > 2), which the next one is aligned to

    def project(self, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Codes [N, d] -> (points [N, 2], share of variance per axis or None, basis [2, d] or None)."""
        d = mu.shape[1]
        if d == 1:
            return np.concatenate([mu, np.zeros_like(mu)], 1), None, None
        if d == 2 or not np.isfinite(mu).all():  # (a diverged model's NaN codes: no plane to fit)
            return mu[:, :2], None, None
        # (u, v)_n = (mu_n - m) . e_k on the plane of the top two principal axes, aligned to the last one
        plane = align_plane(principal_plane(mu), self.plane)
        self.plane = plane
        share = np.nan_to_num(plane.variance_ratio, nan=0.0)  # NaN: codes that do not vary at all
        return to_plane(mu, plane), share.astype(np.float32), plane.basis.astype(np.float32)

    @torch.no_grad()
    def record(self, model: VAE, epoch: int) -> None:
        was_training = model.training
        model.eval()
        try:
            mu = model.encode(to_float(self.images).to(model.device))[0].float().cpu().numpy()
            imgs = model.decode(self.z.to(model.device)).float().cpu()[:, 0]
            samples = (imgs.clamp(0, 1) * 255).round().to(torch.uint8)
        finally:
            model.train(was_training)
        points, share, basis = self.project(mu.astype(np.float64))
        self.frames.append(Frame(epoch, points.astype(np.float32), samples.numpy(), share, basis))

    def on_train_start(self, total_steps: int, model: VAE) -> None:
        self.record(model, 0)

    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None:
        self.record(model, m.epoch)

    def write(self, folder: str | os.PathLike) -> None:
        if self.frames:
            write_replay(folder, self.frames, self.labels)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m vae_core.train", description="Train a VAE on MNIST or Fashion-MNIST.")
    settings.add_arguments(p, settings.run_specs())  # every flag of the run, from its declaration
    p.add_argument("--out", default="models/latest", help="checkpoint folder to write")
    return p.parse_args(argv)


def configs_from_args(args: argparse.Namespace) -> tuple[VAEConfig, TrainConfig]:
    """Every flag in range (FlagError naming the flag), then the two configs."""
    specs = settings.run_specs()
    return settings.build(settings.check(vars(args), specs), specs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m vae_core.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    try:
        model_cfg, cfg = configs_from_args(args)
        check_budget(model_cfg, cfg.batch_size)
        # --out is checked before the data is read and long before any training: a folder of other files
        # (e.g. models/, all the saved models) or a file is refused, and stays as it was.
        check_output_folder(args.out)
        pick_device(cfg.device)
        data = load_dataset(cfg.dataset, cfg.data_dir)
    except (ValueError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except CheckpointError as e:
        print(f"error: --out {e}", file=sys.stderr)
        return 2

    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device, model_cfg.arch)
    print(f"training {model_cfg.arch} VAE (latent {model_cfg.latent_dim}) on {data.name} from {data.source}, "
          f"device {device}, "
          f"{cfg.threads or available_cpus()} CPU threads, matrix products in {precision}")
    bar = ProgressBar()
    recorder = LatentRecorder(data.test_images, data.test_labels, model_cfg.latent_dim)
    # the recorder before the checkpointer: each epoch's checkpoint is written with that epoch's replay frame
    callbacks = [bar, recorder, EpochCheckpointer(args.out, model_cfg, cfg, data, command, recorder)]
    try:
        result = train(model_cfg, cfg, callbacks, data)
    except CheckpointError as e:  # --out changed under us (e.g. a file was put in it) between two epochs
        bar.close()
        print(f"error: --out {e}", file=sys.stderr)
        return 1
    bar.close()
    if result.status == "diverged":
        kept = f"; the checkpoint of epoch {result.epochs_completed} in {args.out} is kept" if result.epochs_completed else ""
        print(f"error: {result.message}{kept}", file=sys.stderr)
        return 1
    try:
        save_checkpoint(result.model, args.out, checkpoint_meta(model_cfg, cfg, result, data, command))
        recorder.write(args.out)
    except CheckpointError as e:
        print(f"error: --out {e}", file=sys.stderr)
        return 1
    metrics = result.history["epochs"][-1]
    print(f"{result.message} in {result.seconds:.1f}s; test loss {metrics['test_loss']:.3f} nats/image; saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
