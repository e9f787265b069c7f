"""Does the encoder map a noisy image near its clean code? vae_core.robustness over noise kinds and levels,
for the plain VAE, the denoising VAE and the beta = 4 VAE, with each model's test loss and KL.

    python bench/denoise_robustness.py                            # the three 2-D MNIST MLPs in pretrained/
    python bench/denoise_robustness.py pretrained/mnist-mlp --json

held:  fraction of the first 1,000 test images whose noisy posterior mean is nearer their own clean mean than
       any other class's centroid of clean means (centroids from all 10,000 test codes)
shift: median |mu(x~) - mu(x)| / median distance between two class centroids
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vae_core import load_checkpoint, load_dataset  # noqa: E402
from vae_core.evaluate import evaluate_elbo  # noqa: E402
from vae_core.robustness import KINDS, LEVELS, robustness_table  # noqa: E402

DEFAULT = ["pretrained/mnist-mlp", "pretrained/mnist-dvae", "pretrained/mnist-beta4"]


def corruption_label(training: dict) -> str:
    kind = training.get("corruption", "none")
    return "clean images" if kind == "none" else f"{kind} {training.get('corruption_level', 0):g}"


def measure(folder: str, n: int) -> dict:
    model, config = load_checkpoint(ROOT / folder if not Path(folder).is_absolute() else folder)
    data = load_dataset(config["data"]["dataset"])
    training = config.get("training", {})
    return {
        "model": Path(folder).name,
        "beta": model.cfg.beta,
        "corruption": corruption_label(training),
        **evaluate_elbo(model, data.test_images),
        "rows": robustness_table(model, data.test_images, data.test_labels, KINDS, LEVELS, n=n),
    }


def print_table(results: list[dict]) -> None:
    print("| model | beta | trained on | test loss | KL |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| `{r['model']}` | {r['beta']:g} | {r['corruption']} | {r['test_loss']:.2f} | {r['test_kl']:.2f} |")
    print()
    for kind in KINDS:
        print(f"{kind}: held (shift)")
        print("| level | " + " | ".join(f"`{r['model']}`" for r in results) + " |")
        print("|---" * (len(results) + 1) + "|")
        for level in LEVELS:
            cells = []
            for r in results:
                row = next(x for x in r["rows"] if x["kind"] == kind and x["level"] == level)
                cells.append(f"{row['held']:.3f} ({row['shift']:.2f})")
            print(f"| {level:g} | " + " | ".join(cells) + " |")
        print()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", default=DEFAULT)
    p.add_argument("--n", type=int, default=1000, help="test images corrupted per kind and level")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    args = p.parse_args(argv)
    results = [measure(m, args.n) for m in args.models]
    if args.json:
        print(json.dumps(results))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
