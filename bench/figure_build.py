"""What the Train tab's live view builds every second: the loss chart and the latent map, on synthetic data.

    python bench/figure_build.py            # 1,500 steps, 20 epochs, 2,000 points, 20 repeats

Prints the median milliseconds to build each figure (figures.loss_figure, figures.latent_figure) and to turn
it into what st.plotly_chart sends (plotly.tools.return_figure_from_figure_or_data, then plotly.io.to_json).
The live view runs these in the web server, beside the students' requests (docs/benchmarks.md, "Training
beside a class").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import plotly.io
import plotly.tools

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dashboard.train import figures  # noqa: E402


def median_ms(f, repeats: int) -> float:
    f()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    steps = {"step": list(range(args.steps)), "loss": list(100 + 100 * rng.random(args.steps)),
             "recon": list(100 * rng.random(args.steps)), "kl": list(10 * rng.random(args.steps))}
    epochs = [{"epoch": i + 1, "step": (i + 1) * args.steps // args.epochs, "test_loss": 150.0, "test_kl": 10.0}
              for i in range(args.epochs)]
    points = rng.normal(size=(args.points, 2)).astype(np.float32)
    labels = rng.integers(0, 10, args.points)
    names = tuple(str(i) for i in range(10))

    def sent(fig):
        return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True), validate=False)

    loss = lambda: figures.loss_figure(steps, epochs, total_steps=2 * args.steps)  # noqa: E731
    latent = lambda: figures.latent_figure(points, labels, names, uirevision="bench")  # noqa: E731
    lf, mf = loss(), latent()
    print(f"figures on synthetic data ({args.steps} steps, {args.epochs} epochs, {args.points} points), "
          f"median of {args.repeats}:")
    print(f"  loss chart:  build {median_ms(loss, args.repeats):6.1f} ms, to what st.plotly_chart sends "
          f"{median_ms(lambda: sent(lf), args.repeats):5.1f} ms")
    print(f"  latent map:  build {median_ms(latent, args.repeats):6.1f} ms, to what st.plotly_chart sends "
          f"{median_ms(lambda: sent(mf), args.repeats):5.1f} ms")


if __name__ == "__main__":
    main()
