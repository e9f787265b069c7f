"""Evaluate a checkpoint on the test set.

    python -m vae_core.evaluate pretrained/mnist-mlp --json
    python -m vae_core.evaluate pretrained/mnist50-binarized --nll-k 5000     # the papers' NLL

test_loss  = mean over test images of  -log p(x|z) + KL(q(z|x) || p(z))   (one z ~ q(z|x) each; -ELBO in nats)
iwae_bound = mean of  -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)          (tighter; -> -log p(x) as k grows)
nll        = the same with --nll-k samples (5000: Burda et al. 2016's test NLL), with nll_se, the standard
             error of that mean over the images (std / sqrt(n))

A model trained on binarized images (config.json's training.binarize) is measured on the test images binarized
once with the recorded seed (training.test_binarize_seed; --test-binarize-seed draws another binarization):
there its Bernoulli nats are -log p(x) of 0/1 images, the papers' benchmark. Other models are measured on grey
levels, where a Bernoulli model's nats are a cross-entropy (`data` in the output says which).

A model trained on a folder of images (--dataset folder) is measured on its recorded test split: the images
kept with the checkpoint (test_set.safetensors), or, with --data-dir, that folder split again and checked.

A model whose results are not finite numbers (weights that overflow, e.g. 3e38 everywhere) is refused like a
bad checkpoint: one line on stderr, exit 2, nothing on stdout; so --json prints valid JSON or nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import torch

from .checkpoint import CheckpointError, load_checkpoint
from .data import Dataset, DatasetError, binarized_test_images, load_dataset, to_float
from .image_folder import FOLDER, load_image_folder
from .losses import kl_to_standard_normal, reconstruction_nll
from .model import VAE
from .settings import FlagError, int_in
from .test_set import read_test_set
from .train_config import MAX_LIMIT, MAX_SEED

# The IWAE's memory no longer grows with k (model.iwae_log_likelihood works in chunks), its time does: k = 5000
# on the 10,000 test images is about 50 times the default's.
MAX_IWAE_K = 5000


@torch.no_grad()
def evaluate_elbo(model: VAE, images: torch.Tensor, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Mean test loss, reconstruction and KL per image (nats), one z sample per image, seeded."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    totals = {"recon": 0.0, "kl": 0.0}
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size]).to(model.device)
        mu, logvar = model.encode(x)
        eps = torch.randn(mu.shape, generator=gen).to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        nll = reconstruction_nll(model.decode_raw(z), x, model.cfg.likelihood, model.cfg.sigma)
        totals["recon"] += nll.sum().item()
        totals["kl"] += kl_to_standard_normal(mu, logvar).sum().item()
    model.train(was_training)
    n = len(images)
    recon, kl = totals["recon"] / n, totals["kl"] / n
    return {"test_loss": recon + kl, "test_recon": recon, "test_kl": kl}


@torch.no_grad()
def iwae_nll(model: VAE, images: torch.Tensor, k: int = 100, batch_size: int = 250, seed: int = 0) -> torch.Tensor:
    """-log p(x) per image, estimated with k importance samples: -log (1/k) sum_i p(x, z_i) / q(z_i|x).
    Memory is bounded whatever k and the number of images: images in batches, samples in chunks."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = torch.empty(len(images), dtype=torch.float64)
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size]).to(model.device)
        out[start : start + len(x)] = -model.iwae_log_likelihood(x, k, generator=gen).double().cpu()
    model.train(was_training)
    return out


def evaluate_iwae(model: VAE, images: torch.Tensor, k: int = 100, batch_size: int = 250, seed: int = 0) -> float:
    """Mean importance-weighted bound on -log p(x), nats per image (lower is better)."""
    return iwae_nll(model, images, k, batch_size, seed).mean().item()


def nll_with_se(model: VAE, images: torch.Tensor, k: int, seed: int = 0) -> dict:
    """The papers' test NLL (k = 5000: Burda et al. 2016) and its standard error over the images."""
    start = time.perf_counter()
    per_image = iwae_nll(model, images, k, seed=seed)
    n = len(per_image)
    se = per_image.std().item() / math.sqrt(n) if n > 1 else 0.0
    return {"nll_k": k, "nll": per_image.mean().item(), "nll_se": se,
            "nll_seconds": round(time.perf_counter() - start, 1)}


def binarization_of(config: dict, test_binarize_seed: int | None = None) -> tuple[str, int | None]:
    """(binarize mode, seed) of a checkpoint's test images: what it was trained on, from config.json's training
    section (a checkpoint from before binarization: "none", grey levels)."""
    training = config.get("training") or {}
    mode = training.get("binarize") or "none"
    if mode == "none":
        return mode, None
    return mode, test_binarize_seed if test_binarize_seed is not None else training.get("test_binarize_seed", 0)


def data_label(likelihood: str, mode: str, seed: int | None, sigma: float = 0.1) -> str:
    """What a model's nats are measured on, in words (the command's output, the app's model card)."""
    if mode != "none":
        return f"-log p(x) of binarized test images (0/1 pixels, seed {seed})"
    if likelihood == "bernoulli":
        return "Bernoulli cross-entropy on grey levels (not a log-likelihood: Bernoulli is over 0/1)"
    if likelihood == "continuous-bernoulli":
        return "-log density of grey levels (continuous Bernoulli)"
    return f"-log density of grey levels (Gaussian, σ = {sigma:g})"


def folder_test_set(checkpoint: str, config: dict, data_dir: str | None = None) -> Dataset:
    """A folder-of-images model's recorded test split: the images kept with the checkpoint (test_set.py); with
    data_dir, read again from that folder with the recorded seed and fraction, and refused (DatasetError) unless
    it is the same list of test files (the SHA-256 config.json recorded)."""
    data = config.get("data") or {}
    classes, split = data.get("classes"), data.get("split")
    if not classes or not split:
        raise DatasetError(f"{checkpoint}: config.json does not record the classes and test split of its images")
    if data_dir is None:
        return read_test_set(checkpoint, classes)
    again = load_image_folder(data_dir, split["fraction"], split["seed"])
    if list(again.class_names) != list(classes) or again.info["split"] != split:
        raise DatasetError(f"{data_dir}: not the folder this model was trained on, or it changed since (its test "
                           "split with the recorded seed and fraction is not the recorded list of files)")
    return again


def evaluate(model: VAE, dataset_name: str, iwae_k: int = 100, data_dir: str | None = None,
             limit: int | None = None, *, binarize: str = "none", binarize_seed: int | None = None,
             nll_k: int = 0, every: int = 1, data: Dataset | None = None) -> dict:
    """The test-set figures; images binarized once with binarize_seed when binarize is not "none"; with
    `every`, every n-th test image (spread over the whole set: its first half is the easier one). data: the
    test set itself (a folder of images' recorded split, folder_test_set) instead of loading dataset_name."""
    data = data or load_dataset(dataset_name, data_dir)
    images = binarized_test_images(data.test_images, binarize, binarize_seed or 0)[::every]
    images = images[:limit] if limit else images
    label = data_label(model.cfg.likelihood, binarize, binarize_seed, model.cfg.sigma)
    result = {"dataset": dataset_name, "n_test": len(images), "data": label, **evaluate_elbo(model, images)}
    if iwae_k > 0:
        result["iwae_k"] = iwae_k
        result["iwae_bound"] = evaluate_iwae(model, images, iwae_k)
    if nll_k > 0:
        result.update(nll_with_se(model, images, nll_k))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vae_core.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="checkpoint folder (config.json + model.safetensors)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--iwae-k", type=int, default=100,
                   help=f"importance samples for the IWAE bound, up to {MAX_IWAE_K} (0 to skip)")
    p.add_argument("--data-dir", default=None, help="folder with the dataset's IDX files; for a model trained on a "
                   "folder of images, that folder (its test split is checked against the recorded one; without "
                   "it, the test images kept with the checkpoint)")
    p.add_argument("--limit", type=int, default=None, help="evaluate on the first N test images only")
    p.add_argument("--every", type=int, default=1,
                   help="every N-th test image (10: 1,000 images spread over the test set)")
    p.add_argument("--nll-k", type=int, default=0,
                   help=f"importance samples of the test NLL, with its standard error (5000: the papers'; up to "
                        f"{MAX_IWAE_K}; 0 to skip)")
    p.add_argument("--test-binarize-seed", type=int, default=None,
                   help="a binarized model: binarize the test images with this seed, not the recorded one")
    args = p.parse_args(argv)
    try:
        int_in("--iwae-k", args.iwae_k, 0, MAX_IWAE_K)
        int_in("--nll-k", args.nll_k, 0, MAX_IWAE_K)
        int_in("--limit", args.limit, 1, MAX_LIMIT)
        int_in("--every", args.every, 1, MAX_LIMIT)
        int_in("--test-binarize-seed", args.test_binarize_seed, 0, MAX_SEED)
        model, config = load_checkpoint(args.checkpoint)
        mode, seed = binarization_of(config, args.test_binarize_seed)
        # read_config validated the data section: absent, or a dataset name we know.
        name = config.get("data", {}).get("dataset", "mnist")
        data = folder_test_set(args.checkpoint, config, args.data_dir) if name == FOLDER else None
        result = evaluate(model, name, args.iwae_k, args.data_dir, args.limit, binarize=mode, binarize_seed=seed,
                          nll_k=args.nll_k, every=args.every, data=data)
        not_finite = [k for k, v in result.items() if isinstance(v, float) and not math.isfinite(v)]
        if not_finite:
            verb = "is not a finite number" if len(not_finite) == 1 else "are not finite numbers"
            raise CheckpointError(f"{', '.join(not_finite)} {verb}: the model's weights overflow (or hold "
                                  "values no trained model has)", args.checkpoint)
    except (FlagError, CheckpointError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>12}: {value:.3f}" if isinstance(value, float) else f"{key:>12}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
