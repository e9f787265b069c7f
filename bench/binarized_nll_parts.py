"""The papers' test NLL on all 10,000 binarized test images, in spread parts that a busy machine can finish.

    python bench/binarized_nll_parts.py pretrained/mnist50-binarized --k 5000 --parts 10 --progress nll.json

Part j holds test images j, j + P, j + 2P, ... (each part spread over the whole set, as bench/binarized_nll.py's
--every); part j's importance samples are drawn with seed j. After each part it prints the estimate over the
images done so far (mean of -log p(x) per image and its standard error, std / sqrt(n)) and keeps every image's
value in --progress, so a run that is stopped goes on where it stopped. With all parts done, the figure is over
all 10,000 images: the one to set beside Burda et al.'s (their NLL is over the whole test set, k = 5000).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vae_core.analysis import active_units  # noqa: E402
from vae_core.checkpoint import load_checkpoint, read_config  # noqa: E402
from vae_core.data import binarized_test_images, load_dataset, to_float  # noqa: E402
from vae_core.evaluate import binarization_of, iwae_nll  # noqa: E402


def summary(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"images": n, "nll": round(mean, 3), "nll_se": round(sd / math.sqrt(n), 3)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--parts", type=int, default=10)
    p.add_argument("--progress", required=True, help="a JSON file of the parts done (read, then written after each)")
    p.add_argument("--write", action="store_true",
                   help="with every part done, record the figure in the checkpoint's config.json (as binarized_nll.py)")
    args = p.parse_args()
    model, config = load_checkpoint(args.checkpoint)
    mode, seed = binarization_of(config)
    images = binarized_test_images(load_dataset(config.get("data", {}).get("dataset", "mnist")).test_images,
                                   mode, seed or 0)
    path = Path(args.progress)
    done = json.loads(path.read_text()) if path.exists() else {"k": args.k, "parts": args.parts, "values": {}}
    if (done["k"], done["parts"]) != (args.k, args.parts):
        raise SystemExit(f"{path} holds k = {done['k']} in {done['parts']} parts, not k = {args.k} in {args.parts}")
    for j in range(args.parts):
        if str(j) in done["values"]:
            continue
        start = time.perf_counter()
        with torch.no_grad():
            values = iwae_nll(model, images[j :: args.parts], args.k, seed=j)
        done["values"][str(j)] = [round(float(v), 5) for v in values]
        path.write_text(json.dumps(done))
        so_far = [v for part in done["values"].values() for v in part]
        print(json.dumps({"part": j, "seconds": round(time.perf_counter() - start, 1), **summary(so_far)}),
              flush=True)
    result = summary([v for part in done["values"].values() for v in part])
    print(json.dumps({"k": args.k, "data": f"binarized test images ({mode}, seed {seed})", **result}))
    if args.write:
        with torch.no_grad():  # active units on all 10,000 test images (Burda et al. 2016: Var_x(mu_j) > 0.01)
            mu = torch.cat([model.encode(to_float(images[i : i + 1000]))[0] for i in range(0, len(images), 1000)])
        raw = json.loads((Path(args.checkpoint) / "config.json").read_text())
        raw["metrics"].update(nll=result["nll"], nll_se=result["nll_se"], nll_k=args.k, nll_images=result["images"],
                              active_units=active_units(mu)[0])
        (Path(args.checkpoint) / "config.json").write_text(json.dumps(raw, indent=1))
        read_config(args.checkpoint)  # still a valid checkpoint
    return 0


if __name__ == "__main__":
    sys.exit(main())
