"""Evaluate a checkpoint on the test set.

    python -m vae_core.evaluate pretrained/mnist-mlp --json

test_loss  = mean over test images of  -log p(x|z) + KL(q(z|x) || p(z))   (one z ~ q(z|x) each; -ELBO in nats)
iwae_bound = mean of  -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)          (tighter; -> -log p(x) as k grows)

A model whose results are not finite numbers (weights that overflow, e.g. 3e38 everywhere) is refused like a
bad checkpoint: one line on stderr, exit 2, nothing on stdout; so --json prints valid JSON or nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import torch

from .checkpoint import CheckpointError, load_checkpoint
from .data import DatasetError, load_dataset, to_float
from .losses import kl_to_standard_normal, reconstruction_nll
from .model import VAE
from .settings import FlagError, int_in
from .train_config import MAX_LIMIT

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
def evaluate_iwae(model: VAE, images: torch.Tensor, k: int = 100, batch_size: int = 250, seed: int = 0) -> float:
    """Mean importance-weighted bound on -log p(x), nats per image (lower is better)."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size]).to(model.device)
        total -= model.iwae_log_likelihood(x, k, generator=gen).sum().item()
    model.train(was_training)
    return total / len(images)


def evaluate(model: VAE, dataset_name: str, iwae_k: int = 100, data_dir: str | None = None,
             limit: int | None = None) -> dict:
    data = load_dataset(dataset_name, data_dir)
    images = data.test_images[:limit] if limit else data.test_images
    result = {"dataset": dataset_name, "n_test": len(images), **evaluate_elbo(model, images)}
    if iwae_k > 0:
        result["iwae_k"] = iwae_k
        result["iwae_bound"] = evaluate_iwae(model, images, iwae_k)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vae_core.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="checkpoint folder (config.json + model.safetensors)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--iwae-k", type=int, default=100,
                   help=f"importance samples for the IWAE bound, up to {MAX_IWAE_K} (0 to skip)")
    p.add_argument("--data-dir", default=None, help="folder with the dataset's IDX files")
    p.add_argument("--limit", type=int, default=None, help="evaluate on the first N test images only")
    args = p.parse_args(argv)
    try:
        int_in("--iwae-k", args.iwae_k, 0, MAX_IWAE_K)
        int_in("--limit", args.limit, 1, MAX_LIMIT)
        model, config = load_checkpoint(args.checkpoint)
        # read_config validated the data section: absent, or a dataset name we know.
        result = evaluate(model, config.get("data", {}).get("dataset", "mnist"), args.iwae_k, args.data_dir, args.limit)
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
