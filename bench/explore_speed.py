"""The server-side work behind the Explore tab, timed per model: what a slider move, a model switch and
the sub-views cost in PyTorch on the CPU (model time only; the browser's part is bench/drag_fps.py).

    python bench/explore_speed.py                     # the three shipped models
    python bench/explore_speed.py pretrained/mnist-mlp

Each part runs with the threads the app gives it: a request (slider move, morph, grid) computes on
tuning.REQUEST_THREADS torch thread(s); the once-per-model encoding of the test set uses every core.

Prints, for each model, the median (and p95 where repeated) of:
    decode one z         what a slider move costs (goal: <= 5 ms)
    encode 10,000        the test set's posterior means and sigmas, once per model (goal: <= 1 s)
    manifold grid 20x20  400 decodes, once per model and grid size
    morph 32 steps       one interpolation decoded
    decoder for page     the float32 base64 weights sent once per session to the page's decoder
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from dashboard.latent_plane import decoder_spec  # noqa: E402
from dashboard.model import compute, tuning  # noqa: E402
from vae_core import hardware, load_checkpoint, load_dataset  # noqa: E402


def timings(fn, repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", default=[str(ROOT / "pretrained" / m) for m in
                                                   ("mnist-mlp", "fashion-mlp", "mnist-conv")])
    args = ap.parse_args()
    tuning.use_request_threads()
    print(f"torch {torch.__version__}, CPU: requests on {torch.get_num_threads()} thread(s), "
          f"the test-set encoding on {hardware.available_cpus()}")
    print(f"{'model':<14}{'decode one z':>20}{'encode 10,000':>16}{'grid 20x20':>14}{'morph 32':>12}"
          f"{'page decoder':>22}")
    for folder in args.models:
        model, config = load_checkpoint(folder)
        data = load_dataset(config["data"]["dataset"])
        z = torch.zeros(model.cfg.latent_dim).numpy()
        dec = timings(lambda model=model, z=z: compute.decode(model, z), repeat=1000)
        enc = timings(lambda model=model, data=data: compute.compute_encodings(model, data), repeat=5, warmup=1)
        grid = timings(lambda model=model: compute.compute_grid(model, 20, 4.0), repeat=10, warmup=1)
        z0, z1 = torch.full((model.cfg.latent_dim,), -2.0), torch.full((model.cfg.latent_dim,), 2.0)
        with torch.inference_mode():
            morph = timings(lambda model=model, z0=z0, z1=z1: model.interpolate(z0, z1, 32, "slerp"), repeat=20)
        spec = decoder_spec(model)
        page = timings(lambda model=model: decoder_spec(model), repeat=10, warmup=1)
        print(f"{Path(folder).name:<14}"
              f"{statistics.median(dec):>9.3f} ms (p95 {p95(dec):.3f})"
              f"{statistics.median(enc):>13.0f} ms"
              f"{statistics.median(grid):>11.1f} ms"
              f"{statistics.median(morph):>9.1f} ms"
              f"{statistics.median(page):>8.1f} ms, {len(spec['data']) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
