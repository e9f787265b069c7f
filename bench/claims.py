"""Prints what the app (dashboard/explain.py) and docs/lecture.md say the shipped models do, as measured by
dashboard/claims/ (whose docstring lists the claims and the measures); tests/test_claims.py checks the same
figures on the shipped weights, with margins.

    python bench/claims.py                                   # every shipped model, a table per claim
    python bench/claims.py pretrained/mnist-mlp --json
    python bench/claims.py --map                             # the map report of docs/benchmarks.md (2-D MNIST)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import claims  # noqa: E402

DEFAULT = ["pretrained/mnist-mlp", "pretrained/mnist-beta4", "pretrained/mnist-dvae"]  # the --map report


def print_map_report(results: list[dict]) -> None:
    print(f"same class close together (k = {claims.K} nearest test codes; chance {results[0]['knn_chance']:.3f})")
    print("| model | beta | kNN same class | nearest centroid is own class | eigenvalue ratio (1 = round) | spread |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| `{r['model']}` | {r['beta']:g} | {r['knn_agreement']:.3f} | {r['nearest_centroid_accuracy']:.3f} "
              f"| {r['eig_ratio']:.3f} | {r['spread']:.2f} |")
    print()
    print("images that are no digit: sigma and nearest test code over the test images' own, medians")
    print("| model | " + " | ".join(results[0]["messy"]) + " |")
    print("|---" * (len(results[0]["messy"]) + 1) + "|")
    for r in results:
        print(f"| `{r['model']}` | " + " | ".join(f"sigma {m['sigma_vs_test']:.2f}x, distance {m['nn_vs_test']:.1f}x"
                                                 for m in r["messy"].values()) + " |")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def print_all(results: list[dict]) -> None:
    names = [k for k in results[0] if k not in ("model", "d", "beta", "dataset")]
    for claim in names:
        print(f"## {claim}")
        for r in results:
            if claim in r:
                print(f"  {r['model']:<15} {_fmt(r[claim])}")
        print()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", help="names in pretrained/ or folders (default: every shipped model)")
    p.add_argument("--only", nargs="*", help=f"claims to measure, of: {' '.join(claims.CLAIMS)} path_1_to_7")
    p.add_argument("--map", action="store_true", help="the map report of docs/benchmarks.md (2-D MNIST models)")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    if args.map:
        results = [claims.measure(m) for m in args.models or DEFAULT]
        print(json.dumps(results)) if args.json else print_map_report(results)
        return 0
    results = []
    for name in args.models or claims.SHIPPED:
        try:
            results.append(claims.measure_all(name, args.only))
        except Exception as e:  # noqa: BLE001 - a missing data set (Fashion-MNIST) skips that model, said so
            print(f"{name}: skipped ({e.__class__.__name__}: {str(e).splitlines()[0]})", file=sys.stderr)
    print(json.dumps(results)) if args.json else print_all(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
