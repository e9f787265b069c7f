"""What the folders in models/ cost each rerun of the page: 0 against 1,000 checkpoint folders.

    python bench/scan_models.py                  # 0 and 1,000 folders, 30 reruns each
    python bench/scan_models.py --folders 0 1000 5000 --reruns 50

For each size, a temporary pretrained/ (one tiny model) and models/ (N copies of a tiny checkpoint, plus a
few bad ones) are made; then

  scan          dashboard.model.registry.list_models() alone, warm (what every rerun calls): median ms
  first scan    the same, the first time (every config read and validated once): ms
  stamps        the pass that scan() makes every RESTAT_S seconds (2 s): every folder's two files lstat'ed
  rerun         a whole rerun of the app (streamlit.testing AppTest, the Explore tab, the model cached):
                median ms, and "added": its difference from the 0-folder case
Each median is given as wall time and as this process's CPU time: on a shared machine the wall time also
holds the waits for a core (the load average is printed), the CPU time is what the work itself costs.

The folders' weights are hard links to one file (stat cost is the same as for real copies; disk is not).
Every figure is a median over --reruns runs after two warm-up runs; the machine's other load shows up in
them, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_roots(tmp: Path, n: int) -> tuple[Path, Path]:
    import torch

    from vae_core import VAE, VAEConfig, save_checkpoint

    pre, mine = tmp / "pretrained", tmp / "models"
    torch.manual_seed(0)
    template = save_checkpoint(VAE(VAEConfig(hidden=(16,))), pre / "mnist-mlp",
                               {"data": {"dataset": "mnist"}, "metrics": {"test_loss": 140.0}})
    mine.mkdir(parents=True)
    config = (template / "config.json").read_text()
    for i in range(n):
        folder = mine / f"model-{i:05d}"
        folder.mkdir()
        (folder / "config.json").write_text(config)
        os.link(template / "model.safetensors", folder / "model.safetensors")
    if n:  # a few bad ones among them, as a class would leave
        (mine / "broken-json").mkdir()
        (mine / "broken-json" / "config.json").write_text("{not json")
        (mine / "no-weights").mkdir()
        (mine / "no-weights" / "config.json").write_text(config)
    return pre, mine


def median_ms(fn, reruns: int) -> tuple[float, float]:
    """(median wall ms, median CPU ms of this process) of fn(). On a shared, loaded machine the wall time also
    holds the waits for a core; the CPU time is what the call itself costs."""
    fn(), fn()
    wall, cpu = [], []
    for _ in range(reruns):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def measure(n: int, reruns: int) -> dict:
    from streamlit.testing.v1 import AppTest

    from dashboard.model import registry

    tmp = Path(tempfile.mkdtemp(prefix="scan-models-"))
    try:
        pre, mine = make_roots(tmp, n)
        os.environ["LATENT_EXPLORER_PRETRAINED_DIR"] = str(pre)
        os.environ["LATENT_EXPLORER_MODELS_DIR"] = str(mine)
        t = time.perf_counter()
        entries = registry.list_models()
        first = (time.perf_counter() - t) * 1000
        assert len(entries) == n + 1 + (2 if n else 0), len(entries)
        scan, scan_cpu = median_ms(registry.list_models, reruns)
        stamp, stamp_cpu = median_ms(lambda: registry.list_models(max_age=0), reruns)
        app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
        app.run()
        assert not app.exception, app.exception
        rerun, rerun_cpu = median_ms(app.run, reruns)
        return {"folders": n, "first_scan_ms": first, "scan_ms": scan, "scan_cpu_ms": scan_cpu, "stamp_ms": stamp,
                "stamp_cpu_ms": stamp_cpu, "rerun_ms": rerun, "rerun_cpu_ms": rerun_cpu}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folders", type=int, nargs="+", default=[0, 1000])
    ap.add_argument("--reruns", type=int, default=30)
    args = ap.parse_args()
    rows = [measure(n, args.reruns) for n in args.folders]
    base, base_cpu = rows[0]["rerun_ms"], rows[0]["rerun_cpu_ms"]
    print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'folders':>8} {'first scan':>11} {'scan':>7} {'scan CPU':>9} {'stamps':>7} {'stamps CPU':>11} "
          f"{'rerun':>7} {'rerun CPU':>10} {'added':>7} {'added CPU':>10}   (ms, medians)")
    for r in rows:
        print(f"{r['folders']:>8} {r['first_scan_ms']:>11.1f} {r['scan_ms']:>7.2f} {r['scan_cpu_ms']:>9.2f} "
              f"{r['stamp_ms']:>7.2f} {r['stamp_cpu_ms']:>11.2f} "
              f"{r['rerun_ms']:>7.1f} {r['rerun_cpu_ms']:>10.1f} {r['rerun_ms'] - base:>+7.1f} "
              f"{r['rerun_cpu_ms'] - base_cpu:>+10.1f}")


if __name__ == "__main__":
    main()
