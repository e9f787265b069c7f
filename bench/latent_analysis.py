"""What looking beyond two dimensions costs: vae_core.analysis per model, and the page's plane decoder.

    python bench/latent_analysis.py                      # every model in pretrained/
    python bench/latent_analysis.py --models mnist16-mlp fashion64-conv --repeats 30

Part 1, per shipped model, on its 10,000 test images: the encode (once, not part of the budget) and then,
each the median of --repeats runs, the principal plane (PCA), the per-dimension KL, the active units, and
the whole summarize_codes() (the analysis latent_summary() does after the encoder; budget 200 ms; its
best run too: on a shared machine a preempted run adds a 50 ms time slice). It also
prints what the analysis finds: active units, KL, the share of variance the principal plane shows.

Part 2, the page's decoder under Node (dashboard/latent_plane/frontend/decode_cli.js): the median time of
one decodePlane(u, v) (setPlane once, then --points points of the plane), and of decode(z) at the same
points, for the shipped models with d > 2 and for MLP decoders 784-512-256-d with random weights at d = 16,
64 and 512 (the budget is 4 ms a call, a 60 Hz frame's share for the decode). Other load on the machine
distorts every figure; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.latent_plane.spec import decoder_spec, plane_spec  # noqa: E402
from vae_core import VAE, VAEConfig, load_checkpoint, load_dataset  # noqa: E402
from vae_core.analysis import (  # noqa: E402
    Plane,
    active_units,
    encode_all,
    from_plane,
    kl_per_dimension,
    principal_plane,
    summarize_codes,
)

CLI = ROOT / "dashboard" / "latent_plane" / "frontend" / "decode_cli.js"


def timings_ms(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def median_ms(fn, repeats: int) -> float:
    return statistics.median(timings_ms(fn, repeats))


def bench_analysis(names: list[str], repeats: int) -> None:
    print(f"## vae_core.analysis on the 10,000 test codes (median of {repeats}; "
          f"torch threads {torch.get_num_threads()})\n")
    print("| model | d | encode ms | PCA ms | KL ms | active ms | summarize_codes ms | active units | KL (nats) "
          "| plane's share of variance |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    datasets = {}
    for name in names:
        model, config = load_checkpoint(ROOT / "pretrained" / name)
        ds = config.get("data", {}).get("dataset", "mnist")
        if ds not in datasets:
            datasets[ds] = load_dataset(ds).test_images
        images = datasets[ds]
        t0 = time.perf_counter()
        mu, logvar = encode_all(model, images)
        encode_ms = (time.perf_counter() - t0) * 1000
        d = mu.shape[1]
        pca = median_ms(lambda mu=mu: principal_plane(mu), repeats)
        kl_t = median_ms(lambda mu=mu, logvar=logvar: kl_per_dimension(mu, logvar), repeats)
        au_t = median_ms(lambda mu=mu: active_units(mu), repeats)
        runs = timings_ms(lambda mu=mu, logvar=logvar: summarize_codes(mu, logvar), repeats)
        whole = f"{statistics.median(runs):.1f} (best {min(runs):.1f})"
        s = summarize_codes(mu, logvar)
        share = f"{s.plane.total_ratio:.1%}" if s.plane is not None else "-"
        print(f"| {name} | {d} | {encode_ms:.0f} | {pca:.1f} | {kl_t:.1f} | {au_t:.1f} | {whole} | "
              f"{s.active}/{d} | {s.kl_total:.2f} | {share} |", flush=True)


def node_median_ms(spec: dict, payload: dict, node: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.json"
        src.write_text(json.dumps({"spec": spec, **payload}))
        proc = subprocess.run([node, str(CLI), str(src)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip())
    return float(re.search(r"median decode ([0-9.]+) ms", proc.stderr).group(1))


def bench_node(names: list[str], points: int) -> None:
    node = shutil.which("node")
    if node is None:
        print("\nNode.js (`node`) is not installed: the page's decoder is not timed.")
        return
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\n## decoder.js under Node {version}: median ms per call over {points} points of a plane\n")
    print("| decoder | d | decodePlane(u, v) | decode(z) |")
    print("|---|---|---|---|")
    cases: list[tuple[str, VAE]] = []
    for name in names:
        model, _ = load_checkpoint(ROOT / "pretrained" / name)
        if model.cfg.latent_dim > 2:
            cases.append((f"{name} (shipped)", model))
    for d in (16, 64, 512):
        torch.manual_seed(d)
        cases.append((f"MLP 784-512-256-{d}, random weights", VAE(VAEConfig(latent_dim=d)).eval()))
    rng = np.random.default_rng(0)
    for label, model in cases:
        d = model.cfg.latent_dim
        q, _ = np.linalg.qr(rng.normal(size=(d, 2)))
        plane = Plane(np.zeros(d), q.T.copy(), np.full(2, np.nan), float("nan"))
        origin = rng.normal(size=d)
        uv = rng.uniform(-3, 3, size=(points, 2))
        spec = decoder_spec(model)
        t_plane = node_median_ms(spec, {"plane": plane_spec(plane, origin), "uv": uv.tolist()}, node)
        t_z = node_median_ms(spec, {"z": from_plane(uv, plane, origin).tolist()}, node)
        print(f"| {label} | {d} | {t_plane:.3f} | {t_z:.3f} |", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="*", default=None, help="folders in pretrained/ (default: all)")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--points", type=int, default=500)
    p.add_argument("--skip-node", action="store_true")
    args = p.parse_args()
    names = args.models or sorted(f.name for f in (ROOT / "pretrained").iterdir() if (f / "config.json").is_file())
    with torch.no_grad():
        bench_analysis(names, args.repeats)
        if not args.skip_node:
            bench_node(names, args.points)
    return 0


if __name__ == "__main__":
    sys.exit(main())
