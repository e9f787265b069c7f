"""TrainConfig: how a model is trained, and the bounds of a run, each declared once.

The bounds are what the command line, the Train form and the checkpoint schema (schema.py) accept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .data import BINARIZATIONS, DATASETS
from .image_folder import FOLDER, MAX_TEST_FRACTION, MIN_TEST_FRACTION
from .noise import KINDS as CORRUPTIONS
from .noise import check_corruption
from .settings import run_settings, setting

# As wide as anything sensible: the checkpoint schema accepts exactly these.
MAX_EPOCHS = 10_000
MAX_BATCH = 65_536
MAX_SEED = 2**63 - 1  # torch.manual_seed takes a signed 64-bit integer
MAX_LR = 1e12  # divergence, not the bound, is what stops a learning rate that is merely too high
MAX_LIMIT = 10_000_000
MAX_CORRUPTION_LEVEL = 1e3
MAX_IWAE_SAMPLES = 5000
MAX_THREADS = 4096  # not a flag: the app sets it; config.json records it
SCHEDULES = ("onecycle", "constant")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")


@run_settings("train")
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
    schedule: str = setting("onecycle", flag="--schedule", choices=SCHEDULES, label="Schedule",
                            help="onecycle warms up to the peak rate, then anneals; constant keeps it fixed")
    seed: int = setting(0, flag="--seed", lo=0, hi=MAX_SEED, label="Seed", ui=dict(hi=2**31 - 1),
                        help="fixes the initial weights, the batch order and the sampling noise")
    device: str = setting("auto", flag="--device", choices=DEVICES, label="Device",
                          help="auto: cuda when there is one")
    # train on the first N training images only
    limit: int | None = setting(None, flag="--limit", kind="int", lo=1, hi=MAX_LIMIT, label="Training images",
                                help="train on the first N training images")
    data_dir: str | None = setting(None, flag="--data-dir", kind="str", shown=False,
                                   help="folder with the dataset's IDX files (or set VAE_DATA_DIR); for --dataset "
                                        "folder, your images: one subfolder per class")
    # --dataset folder: the held-out test images, a seeded fraction of each class (image_folder.py)
    test_fraction: float = setting(0.1, flag="--test-fraction", lo=MIN_TEST_FRACTION, hi=MAX_TEST_FRACTION,
                                   shown=False, applies=("dataset", (FOLDER,)), note="with your own images only",
                                   help="--dataset folder: the share of each class held out as the test set")
    split_seed: int = setting(0, flag="--split-seed", lo=0, hi=MAX_SEED, shown=False,
                              applies=("dataset", (FOLDER,)), note="with your own images only",
                              help="--dataset folder: the seed of the test split")
    threads: int | None = None  # CPU threads for this run; None: every core this process may use
    # the layers' matrix products in "fp32" or "bf16"; "auto": see hardware.pick_precision()
    precision: str = setting("auto", flag="--precision", choices=PRECISIONS, shown=False,
                             help="matrix products in float32 or bfloat16; auto: bfloat16 where a few timed "
                                  "steps of the model find it clearly faster on this CPU")
    # Denoising VAE (Im et al. 2017): train on corrupt(x), reconstruct the clean x. "none" is the plain VAE.
    corruption: str = setting("none", flag="--corruption", choices=CORRUPTIONS, shown=False, label="Corruption",
                              help="denoising VAE: train on corrupted images, reconstruct the clean ones")
    # gaussian: sigma of the added noise; salt-and-pepper: fraction of pixels hit
    corruption_level: float = setting(0.0, flag="--corruption-level", lo=0, hi=MAX_CORRUPTION_LEVEL,
                                      label="Corruption level",
                                      applies=("corruption", tuple(k for k in CORRUPTIONS if k != "none")),
                                      note="with a corruption only", ui=dict(hi=1.0, step=0.05),
                                      help="gaussian: sigma of the added noise; salt-and-pepper: fraction of "
                                           "pixels set to 0 or 1")

    # Binarized MNIST, where a Bernoulli likelihood is a likelihood (the papers' benchmark, Burda et al. 2016)
    binarize: str = setting("none", flag="--binarize", choices=BINARIZATIONS, shown=False, label="Binarize images",
                            help="none: grey levels; dynamic: each training image drawn anew as 0/1 pixels every "
                                 "epoch; static: drawn once. The test set is binarized once, seeded")
    test_binarize_seed: int = setting(0, flag="--test-binarize-seed", lo=0, hi=MAX_SEED, shown=False,
                                      applies=("binarize", ("dynamic", "static")), note="with a binarization only",
                                      help="seed of the test set's one binarization")
    # The IWAE objective (Burda et al. 2016): k importance samples per image; 1 is the ELBO
    iwae_samples: int = setting(1, flag="--iwae-samples", lo=1, hi=MAX_IWAE_SAMPLES, shown=False,
                                label="Importance samples k", ui=dict(hi=64),
                                help="samples per image in the training objective: 1 trains on the ELBO, k > 1 on "
                                     "the tighter IWAE bound (Burda et al. 2016), k times the decoder's work")
    # Fine-tuning: the run starts from a checkpoint's weights instead of seeded random ones (same architecture)
    init_from: str | None = setting(None, flag="--init-from", kind="str", shown=False,
                                    help="start from this checkpoint folder's weights (the same architecture), e.g. "
                                         "to go on training a model with another objective such as --iwae-samples")

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if self.epochs > MAX_EPOCHS or self.batch_size > MAX_BATCH:
            raise ValueError(f"epochs must be at most {MAX_EPOCHS:,} and batch size at most {MAX_BATCH:,}")
        if not (0 < self.lr <= MAX_LR and math.isfinite(self.lr)):
            raise ValueError(f"learning rate must be a positive number (at most {MAX_LR:g}), got {self.lr}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in 0..{MAX_SEED} (a 64-bit integer)")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be 'onecycle' or 'constant', got {self.schedule!r}")
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be at least 1 (and at most {MAX_LIMIT:,})")
        if self.binarize not in BINARIZATIONS:
            raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {self.binarize!r}")
        if not 1 <= self.iwae_samples <= MAX_IWAE_SAMPLES or not 0 <= self.test_binarize_seed <= MAX_SEED:
            raise ValueError(f"iwae_samples must be in 1..{MAX_IWAE_SAMPLES} and test_binarize_seed a 64-bit seed")
        if not MIN_TEST_FRACTION <= self.test_fraction <= MAX_TEST_FRACTION or not 0 <= self.split_seed <= MAX_SEED:
            raise ValueError(f"the test fraction must be in {MIN_TEST_FRACTION}..{MAX_TEST_FRACTION} and the split "
                             "seed a 64-bit seed")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {self.precision!r}")
        object.__setattr__(self, "corruption", check_corruption(self.corruption, self.corruption_level))
        if (self.corruption == "none") != (self.corruption_level == 0):
            raise ValueError("a corruption needs a level above 0, and a level needs a corruption "
                             f"(got {self.corruption!r} at {self.corruption_level!r})")
