"""Train a VAE by maximising the ELBO (minimising recon + beta * KL) with Adam.

    python -m vae_core.train --dataset mnist --arch mlp --epochs 30 --out models/my-vae

The loop is `train()`; the command line is one client of it and the dashboard another.
Both observe it through a `Callback` (step metrics, epoch end with the model, a stop flag).
Batches are drawn by index from uint8 tensors held in memory: no DataLoader, no per-image transforms.
"""

from __future__ import annotations

import argparse
import copy
import math
import shlex
import sys
import threading
import time
from dataclasses import asdict, fields

import torch
from safetensors import SafetensorError

from . import settings
from .budget import check_budget, parameter_count
from .callbacks import Callback, EpochMetrics, StepMetrics, TrainResult
from .checkpoint import (
    MAX_CONFIG_BYTES,
    CheckpointError,
    check_output_folder,
    check_output_writable,
    inside_pretrained,
    load_checkpoint,
    save_checkpoint,
)
from .config import VAEConfig
from .data import Dataset, DatasetError, binarize, binarized_test_images, load_dataset, to_float
from .evaluate import evaluate_elbo
from .hardware import available_cpus, make_optimizer, pick_device, pick_precision, torch_threads
from .image_folder import FOLDER, NO_FOLDER, load_image_folder
from .model import VAE
from .noise import corrupt
from .optim import OneCycle
from .recorder import LatentRecorder
from .run_record import checkpoint_meta
from .step_history import MAX_POINTS, StepHistory
from .test_set import write_test_set
from .train_config import TrainConfig

# The loop, its command line, and names of other modules that the app imports from here.
__all__ = ["main", "make_optimizer", "train"]

CORRUPTION_SEED_OFFSET = 0x5EED  # the corruption generator's seed is the run's seed plus this
BINARIZE_SEED_OFFSET = 0xB1A5  # the training binarization's generator: the run's seed plus this

STEP_FIELDS = tuple(f.name for f in fields(StepMetrics))
STEP_MEANS = ("loss", "recon", "kl", "lr")  # a long run's history holds these as means of equal blocks of steps
STEP_POINTS = MAX_POINTS  # every step of a run up to this many

_global_rng = threading.Lock()  # PyTorch's global generator is one per process: jobs in threads take turns


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

    data = data or load_run_data(cfg)
    train_images = data.train_images[: cfg.limit] if cfg.limit else data.train_images
    train_images = train_images.to(device)  # uint8: 47 MB for all of MNIST
    n = len(train_images)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs

    model, eps_gen = seeded_model(model_cfg, cfg.seed, device)
    if cfg.init_from:
        model.load_state_dict(start_weights(cfg.init_from, model_cfg))
    # The corruption draws from a generator of its own, so eps and the batch order follow the same sequence
    # as in a clean run; seeded apart from order_gen (seed + a constant) so the two streams do not coincide.
    noise_gen = torch.Generator(device=device).manual_seed((cfg.seed + CORRUPTION_SEED_OFFSET) % 2**64)
    # Binarization draws from its own generator too; the test set is binarized once, with its recorded seed.
    bin_gen = torch.Generator(device=device).manual_seed((cfg.seed + BINARIZE_SEED_OFFSET) % 2**64)
    if cfg.binarize == "static":
        train_images = binarize(train_images, bin_gen)
    test_images = binarized_test_images(data.test_images.to(device), cfg.binarize, cfg.test_binarize_seed)
    precision = pick_precision(cfg.precision, device, model, cfg.batch_size)  # may time a few steps
    opt = make_optimizer(model, cfg.lr)
    sched = OneCycle(opt, max_lr=cfg.lr, total_steps=total_steps) if cfg.schedule == "onecycle" else None
    for cb in callbacks:
        cb.on_train_start(total_steps, model)

    # Every step up to StepHistory's MAX_POINTS, then means of equal blocks: memory flat in the number of steps.
    step_history = StepHistory(STEP_POINTS, STEP_FIELDS, STEP_MEANS)
    history: dict = {"steps": [], "epochs": []}
    last_good = copy.deepcopy(model.state_dict())
    status, message, epochs_done, step = "completed", "", 0, 0
    start = time.perf_counter()

    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=order_gen).to(device)
        images = binarize(train_images, bin_gen) if cfg.binarize == "dynamic" else train_images
        loss_sum = 0.0  # of the epoch's step losses: train_loss is their mean
        for b in range(steps_per_epoch):
            x = to_float(images[perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]])
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                if cfg.corruption == "none":
                    terms = model(x, eps_gen, k=cfg.iwae_samples)  # encode(), decode_raw() give float32 either way
                else:  # -log p(x | z) + beta KL(q(z|x~) || p(z)),  z ~ q(z|x~),  x~ = corrupt(x)
                    x_noisy = corrupt(x, cfg.corruption, cfg.corruption_level, noise_gen)
                    terms = model(x_noisy, eps_gen, target=x, k=cfg.iwae_samples)
            loss = terms["loss"].mean()  # mean over the batch of recon + beta * KL
            # The step's three numbers in one read (one device sync on CUDA), outside the autograd graph.
            loss_v, recon_v, kl_v = step_means(loss, terms)
            step += 1
            if not math.isfinite(loss_v):
                status = "diverged"
                message = f"loss diverged at step {step} (epoch {epoch}); try a lower learning rate (now {cfg.lr:g})"
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss_v
            m = StepMetrics(step, total_steps, epoch, loss_v, recon_v, kl_v, opt.lr,
                            time.perf_counter() - start)
            step_history.add(*(getattr(m, f) for f in STEP_FIELDS))
            for cb in callbacks:
                cb.on_step(m)
            if any(cb.should_stop() for cb in callbacks):
                status, message = "stopped", f"stopped by request at step {step} (epoch {epoch})"
                break
        if status != "completed":
            break
        test = evaluate_elbo(model, test_images, seed=cfg.seed)
        if not all(math.isfinite(v) for v in test.values()):
            status = "diverged"
            message = f"test loss is not finite after epoch {epoch}; try a lower learning rate (now {cfg.lr:g})"
            break
        em = EpochMetrics(epoch=epoch, epochs=cfg.epochs, step=step, train_loss=loss_sum / steps_per_epoch,
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
    history["steps"] = step_history.rows()
    model.eval()
    return TrainResult(model, status, message, epochs_done, history, time.perf_counter() - start,
                       precision)


def load_run_data(cfg: TrainConfig) -> Dataset:
    """The run's data: an IDX dataset (data.py), or a folder of your images split as cfg says (image_folder.py)."""
    if cfg.dataset == FOLDER:
        if not cfg.data_dir:
            raise DatasetError(NO_FOLDER)
        return load_image_folder(cfg.data_dir, cfg.test_fraction, cfg.split_seed)
    return load_dataset(cfg.dataset, cfg.data_dir)


def write_data_files(out: str, data: Dataset) -> None:
    """What a checkpoint keeps of its data beside it: a folder-of-images model's test images (test_set.py)."""
    if data.name == FOLDER:
        write_test_set(out, data.test_images, data.test_labels)


def step_means(loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> tuple[float, float, float]:
    """(loss, recon, KL) of a step as floats, batch means: one stacked read instead of three."""
    with torch.no_grad():
        return tuple(torch.stack((loss, terms["recon"].mean(), terms["kl"].mean())).tolist())


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


def start_weights(folder: str, model_cfg: VAEConfig) -> dict[str, torch.Tensor]:
    """A checkpoint's weights to start a run from (eps and the batch order still follow the run's seed).
    Refused (ValueError) unless the checkpoint has this run's very architecture."""
    try:
        start, _ = load_checkpoint(folder)
    except CheckpointError as e:
        raise ValueError(f"--init-from: {e}") from None
    if start.cfg != model_cfg:
        raise ValueError(f"--init-from {folder}: its architecture is not this run's ({start.cfg} against {model_cfg})")
    return start.state_dict()


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
                 recorder: LatentRecorder | None = None):
        self.out, self.model_cfg, self.cfg, self.data, self.command = out, model_cfg, cfg, data, command
        self.recorder = recorder  # its replay is written beside each checkpoint (after this epoch's frame)
        self.epochs: list[dict] = []

    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None:
        self.epochs.append(asdict(m))
        partial = TrainResult(model, "running", "", m.epoch, {"epochs": self.epochs, "steps": []}, m.elapsed,
                              pick_precision(self.cfg.precision, model.device, model, self.cfg.batch_size))
        save_checkpoint(model, self.out, checkpoint_meta(self.model_cfg, self.cfg, partial, self.data, self.command))
        write_data_files(self.out, self.data)
        if self.recorder is not None:
            self.recorder.write(self.out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m vae_core.train",
                                description="Train a VAE on MNIST, Fashion-MNIST or a folder of your images.")
    settings.add_arguments(p, settings.run_specs())  # every flag of the run, from its declaration
    p.add_argument("--out", default="models/latest", help="checkpoint folder to write")
    p.add_argument("--replace-pretrained", action="store_true",
                   help="allow --out to replace a shipped model in pretrained/ (scripts/train_pretrained.sh)")
    return p.parse_args(argv)


REPLAY_BYTES_PER_EPOCH = 20_000  # replay.safetensors: ~15 KB a frame


def checkpoint_bytes(model_cfg: VAEConfig, cfg: TrainConfig) -> int:
    """About what writing --out takes at its largest: the new checkpoint staged beside the old one."""
    one = 4 * parameter_count(model_cfg) + MAX_CONFIG_BYTES // 4 + REPLAY_BYTES_PER_EPOCH * (cfg.epochs + 1)
    return 2 * one


def check_out(args: argparse.Namespace, model_cfg: VAEConfig, cfg: TrainConfig) -> None:
    """--out before the data is read and long before any training (CheckpointError): a folder of other files
    (e.g. models/, all the saved models) or a file is refused and stays as it was; a shipped model is replaced
    only with --replace-pretrained; and the folder must be writable, with room for the checkpoint."""
    if inside_pretrained(args.out) and not args.replace_pretrained:
        raise CheckpointError("is in pretrained/, the shipped models; give --replace-pretrained to replace one",
                              args.out)
    check_output_folder(args.out)
    check_output_writable(args.out, checkpoint_bytes(model_cfg, cfg))


def write_error(out: str, e: BaseException) -> str:
    """One line for a failure while writing the checkpoint (--out changed under us, a full disk, a folder gone
    read-only): what the command prints."""
    if isinstance(e, CheckpointError):
        return f"error: --out {e}"
    why = e.strerror if isinstance(e, OSError) and e.strerror else (str(e).splitlines() or [type(e).__name__])[0]
    return f"error: --out {out}: could not be written ({why[:200]})"


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
        check_out(args, model_cfg, cfg)
        if cfg.init_from:
            start_weights(cfg.init_from, model_cfg)
        pick_device(cfg.device)
        data = load_run_data(cfg)
    except (ValueError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except CheckpointError as e:
        print(f"error: --out {e}", file=sys.stderr)
        return 2

    for line in data.skipped:  # a folder of images: each file not used, and why
        print(f"skipped {line}", file=sys.stderr)
    device = pick_device(cfg.device)
    precision = "whichever of fp32 and bf16 a few timed steps find faster" if cfg.precision == "auto" else cfg.precision
    what = data.name if data.name != FOLDER else (
        f"{len(data.train_images)} training and {len(data.test_images)} test images of "
        f"{len(data.class_names)} classes ({', '.join(data.class_names)})")
    print(f"training {model_cfg.arch} VAE (latent {model_cfg.latent_dim}) on {what} from {data.source}, "
          f"device {device}, "
          f"{cfg.threads or available_cpus()} CPU threads, matrix products in {precision}")
    bar = ProgressBar()
    recorder = LatentRecorder(data.test_images, data.test_labels, model_cfg.latent_dim)
    # the recorder before the checkpointer: each epoch's checkpoint is written with that epoch's replay frame
    callbacks = [bar, recorder, EpochCheckpointer(args.out, model_cfg, cfg, data, command, recorder)]
    try:
        result = train(model_cfg, cfg, callbacks, data)
    except (CheckpointError, OSError, SafetensorError) as e:  # --out changed under us, or the disk filled up
        bar.close()
        print(write_error(args.out, e), file=sys.stderr)
        return 1
    bar.close()
    if result.status == "diverged":
        done = result.epochs_completed
        kept = f"; the checkpoint of epoch {done} in {args.out} is kept" if done else ""
        print(f"error: {result.message}{kept}", file=sys.stderr)
        return 1
    try:
        save_checkpoint(result.model, args.out, checkpoint_meta(model_cfg, cfg, result, data, command))
        write_data_files(args.out, data)
        recorder.write(args.out)
    except (CheckpointError, OSError, SafetensorError) as e:
        print(write_error(args.out, e), file=sys.stderr)
        return 1
    metrics = result.history["epochs"][-1]
    print(f"{result.message} in {result.seconds:.1f}s, matrix products in {result.precision}; "
          f"test loss {metrics['test_loss']:.3f} nats/image; "
          f"saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
