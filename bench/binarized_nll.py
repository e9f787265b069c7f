"""The papers' measure of a checkpoint: test NLL with k importance samples, -ELBO and active units.

    python bench/binarized_nll.py pretrained/mnist50-binarized --k 5000 --every 10 --write

On the test images binarized once with the seed its config.json records (a model trained with --binarize),
or on grey levels otherwise (vae_core.evaluate says which in "data"). --every N takes every N-th test image
(1,000 of the 10,000 with 10: k = 5000 on all of them is 50 million decoder passes). Prints one JSON object;
--write also records it in the checkpoint's config.json, under "metrics" (nll, nll_se, nll_k, nll_images,
active_units: what the app's model card and pretrained/README.md show).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vae_core.analysis import active_units  # noqa: E402
from vae_core.checkpoint import load_checkpoint, read_config  # noqa: E402
from vae_core.data import binarized_test_images, load_dataset, to_float  # noqa: E402
from vae_core.evaluate import binarization_of, evaluate  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--write", action="store_true", help="record the figures in the checkpoint's config.json")
    args = p.parse_args()
    model, config = load_checkpoint(args.checkpoint)
    mode, seed = binarization_of(config)
    dataset = config.get("data", {}).get("dataset", "mnist")
    result = evaluate(model, dataset, iwae_k=0, binarize=mode, binarize_seed=seed, nll_k=args.k, every=args.every)
    with torch.no_grad():  # active units on all 10,000 test images (Burda et al. 2016: Var_x(mu_j) > 0.01)
        images = binarized_test_images(load_dataset(dataset).test_images, mode, seed or 0)
        mu = torch.cat([model.encode(to_float(images[i : i + 1000]))[0] for i in range(0, len(images), 1000)])
    result["active_units"] = active_units(mu)[0]
    print(json.dumps(result))
    if args.write:
        path = Path(args.checkpoint) / "config.json"
        raw = json.loads(path.read_text())
        raw["metrics"].update(nll=round(result["nll"], 3), nll_se=round(result["nll_se"], 3), nll_k=args.k,
                              nll_images=result["n_test"], active_units=result["active_units"])
        path.write_text(json.dumps(raw, indent=1))
        read_config(args.checkpoint)  # still a valid checkpoint
    return 0


if __name__ == "__main__":
    sys.exit(main())
