"""How long a shipped model's UMAP map takes to open now that it ships beside the weights (nothing here is a test).

    python bench/umap_open.py                       # every shipped model with d > 2

In a fresh process, per model: vae_core.umap_file.read (the weights' SHA-256, the file, its checks), then what
dashboard/model/umap_cache.umap_view does with the points (fit_to_box, the NeighbourMap's k-d tree, the 10-NN label
agreement of the map and of the PCA plane). Encoding the test images is left out: every plane of the model needs
it, UMAP or not. It also says whether umap-learn was imported (it must not be: reading needs none of it).
A model without its umap.safetensors is timed on a stand-in (its PCA plane written in a temporary copy), marked so.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vae_core import load_checkpoint, load_dataset, umap_file  # noqa: E402
from vae_core.analysis import encode_all, principal_plane, to_plane  # noqa: E402
from vae_core.neighbour_map import NeighbourMap, fit_to_box, neighbour_agreement  # noqa: E402


def main() -> None:
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for folder in sorted((ROOT / "pretrained").iterdir()):
        if not (folder / "config.json").is_file():
            continue
        if json.loads((folder / "config.json").read_text())["model"]["latent_dim"] <= 2:
            continue
        model, config = load_checkpoint(folder)
        data = load_dataset(config["data"]["dataset"], None, False)
        mu = encode_all(model, data.test_images)[0].numpy()
        labels = data.test_labels.numpy()
        pca = to_plane(mu, principal_plane(mu))
        with tempfile.TemporaryDirectory() as tmp:
            where, what = folder, "shipped"
            if not (folder / umap_file.FILE_NAME).is_file():
                where, what = Path(tmp), "stand-in (no umap.safetensors yet)"
                shutil.copy(folder / "model.safetensors", where / "model.safetensors")
                umap_file.write(where, pca)
            t = time.perf_counter()
            points = umap_file.read(where, len(mu))
            t_read = time.perf_counter() - t
        assert points is not None, f"{folder.name}: the map did not validate"
        t = time.perf_counter()
        nm = NeighbourMap(mu.astype(np.float64), fit_to_box(points, 4.0))
        agree = neighbour_agreement(nm.points, labels), neighbour_agreement(pca, labels)
        t_view = time.perf_counter() - t
        print(f"{folder.name} (d = {mu.shape[1]}, {what}): read and checked {t_read * 1e3:.0f} ms, the view "
              f"{t_view * 1e3:.0f} ms; 10-NN agreement UMAP {agree[0]:.3f}, PCA {agree[1]:.3f}; "
              f"umap-learn imported: {'umap' in sys.modules}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
