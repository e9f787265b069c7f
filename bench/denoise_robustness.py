"""Does the encoder map a noisy image near its clean code? vae_core.robustness over noise kinds and levels,
for every shipped model (the plain VAEs, the denoising VAE, the beta = 4 VAE, the 16-D and 64-D ones), with
each model's test loss, KL and active units.

    python bench/denoise_robustness.py                            # every model in pretrained/
    python bench/denoise_robustness.py pretrained/mnist-mlp --json
    python bench/denoise_robustness.py --iwae-k 100               # and the IWAE bound (slow: 100 decodes an image)

held:  fraction of the first 1,000 test images whose noisy posterior mean is nearer their own clean mean than
       any other class's centroid of clean means (centroids from all 10,000 test codes)
shift: median |mu(x~) - mu(x)| / median distance between two class centroids
active units: latent dimensions with Var_x(mu_j) > 0.01 over the 10,000 test codes (vae_core.analysis)
A model whose data set is not installed (Fashion-MNIST) is skipped, with a line saying so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vae_core import load_checkpoint, load_dataset  # noqa: E402
from vae_core.analysis import active_units  # noqa: E402
from vae_core.evaluate import evaluate_elbo, evaluate_iwae  # noqa: E402
from vae_core.robustness import KINDS, LEVELS, encode_means, robustness_table  # noqa: E402

DEFAULT = ["pretrained/mnist-mlp", "pretrained/mnist-dvae", "pretrained/mnist-beta4", "pretrained/mnist-conv",
           "pretrained/fashion-mlp", "pretrained/mnist16-mlp", "pretrained/fashion64-conv"]


def corruption_label(training: dict) -> str:
    kind = training.get("corruption", "none")
    return "clean images" if kind == "none" else f"{kind} {training.get('corruption_level', 0):g}"


def measure(folder: str, n: int, iwae_k: int = 0) -> dict:
    model, config = load_checkpoint(ROOT / folder if not Path(folder).is_absolute() else folder)
    model.eval()
    data = load_dataset(config["data"]["dataset"], None, False)
    training = config.get("training", {})
    return {
        "model": Path(folder).name,
        "d": model.cfg.latent_dim,
        "beta": model.cfg.beta,
        "corruption": corruption_label(training),
        **evaluate_elbo(model, data.test_images),
        "iwae_bound": evaluate_iwae(model, data.test_images, k=iwae_k) if iwae_k else None,
        "active_units": active_units(encode_means(model, data.test_images))[0],
        "rows": robustness_table(model, data.test_images, data.test_labels, KINDS, LEVELS, n=n),
    }


def held(r: dict, kind: str, level: float) -> float:
    return next(x for x in r["rows"] if x["kind"] == kind and x["level"] == level)["held"]


def print_table(results: list[dict]) -> None:
    print("| model | d | beta | trained on | test loss | KL | IWAE bound | active units "
          "| held, gaussian 0.05 / 0.1 / 0.3 | held, salt-and-pepper 0.05 / 0.1 / 0.3 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        iwae = "" if r["iwae_bound"] is None else f"{r['iwae_bound']:.2f}"
        cells = [" / ".join(f"{held(r, kind, lv):.2f}" for lv in (0.05, 0.1, 0.3)) for kind in KINDS]
        print(f"| `{r['model']}` | {r['d']} | {r['beta']:g} | {r['corruption']} | {r['test_loss']:.2f} "
              f"| {r['test_kl']:.2f} | {iwae} | {r['active_units']} of {r['d']} | {cells[0]} | {cells[1]} |")
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
    p.add_argument("--iwae-k", type=int, default=0, help="also the IWAE bound with this many samples (0: not)")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    args = p.parse_args(argv)
    results = []
    for m in args.models:
        try:
            results.append(measure(m, args.n, args.iwae_k))
        except Exception as e:  # noqa: BLE001 - a data set not installed (Fashion-MNIST): that model is skipped
            print(f"{m}: skipped ({e.__class__.__name__}: {str(e).splitlines()[0]})", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
