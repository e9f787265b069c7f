"""What the UMAP map costs: time and memory, per model with d > 2 (nothing here is a test).

    python bench/umap_plane.py                                # the shipped 16-D and 64-D models
    python bench/umap_plane.py --models mnist16-mlp --repeats 2

In a fresh process: importing umap-learn; then per model, on its 10,000 test codes, umap_plane.umap_points (the
first call compiles numba's functions: its time is printed apart from the later calls'), the peak resident memory
after it, the page's part (NeighbourMap.to_code of one point, to_map of one code: a release and the ★'s place),
and the 10-NN label agreement on the UMAP map against the PCA plane (what the map's caption says).
Other load on the machine distorts every figure: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vae_core import load_checkpoint, load_dataset  # noqa: E402
from vae_core.analysis import encode_all, principal_plane, to_plane  # noqa: E402
from vae_core.neighbour_map import NeighbourMap, fit_to_box, neighbour_agreement  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["mnist16-mlp", "fashion64-conv"])
    ap.add_argument("--repeats", type=int, default=2, help="UMAP runs per model after the first")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    t = time.perf_counter()
    from vae_core import umap_plane  # noqa: PLC0415 (timed: this import is what the app's UMAP path pays)

    print(f"import umap-learn: {time.perf_counter() - t:.1f} s, peak memory {peak_mb():.0f} MB")
    first = True
    for name in args.models:
        model, config = load_checkpoint(ROOT / "pretrained" / name)
        data = load_dataset(config["data"]["dataset"], None, False)
        mu, _ = encode_all(model, data.test_images)
        mu = mu.numpy()
        labels = data.test_labels.numpy()
        before = peak_mb()
        times, runs = [], []
        for _ in range(1 + args.repeats):
            t = time.perf_counter()
            runs.append(umap_plane.umap_points(mu))
            times.append(time.perf_counter() - t)
        points = runs[0]
        same = all(np.array_equal(points, p) for p in runs[1:]) if len(runs) > 1 else "not checked (--repeats 0)"
        label = "first call (numba compiles)" if first else "first call"
        first = False
        later = f", later {statistics.median(times[1:]):.1f} s (median of {len(times) - 1})" if len(times) > 1 else ""
        print(f"{name} (d = {mu.shape[1]}): UMAP of {len(mu)} codes: {label} {times[0]:.1f} s{later}; "
              f"peak memory {peak_mb():.0f} MB ({peak_mb() - before:+.0f} MB); seeded: same map {same}")
        nm = NeighbourMap(mu.astype(np.float64), fit_to_box(points, 4.0))
        t = time.perf_counter()
        for p in nm.points[:200]:
            nm.to_code(p + 0.01)
        release = (time.perf_counter() - t) / 200
        t = time.perf_counter()
        for z in nm.codes[:200]:
            nm.to_map(z + 0.01)
        place = (time.perf_counter() - t) / 200
        pca = to_plane(mu, principal_plane(mu))
        print(f"  to_code (a release): {release * 1e3:.2f} ms, to_map (the ★'s place): {place * 1e3:.2f} ms; "
              f"10-NN label agreement: UMAP {neighbour_agreement(nm.points, labels):.3f}, "
              f"PCA plane {neighbour_agreement(pca, labels):.3f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
