"""Shared fixtures: the bundled MNIST (loaded once), tiny model configs, IDX file helpers.

Everything here is deterministic (explicit seeds) and offline; models are kept tiny so the suite runs
in well under a minute on a small CPU.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from worker_scheduling import ModuleScheduling  # noqa: E402

from vae_core import data as data_mod  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402

PRETRAINED = ROOT / "pretrained"


def tiny_cfg(arch: str = "mlp", likelihood: str = "bernoulli", latent_dim: int = 2, **kw) -> VAEConfig:
    """A model small enough to build and run in milliseconds."""
    if arch == "conv":
        kw.setdefault("conv_channels", (4, 8))
        kw.setdefault("hidden", (16,))
    else:
        kw.setdefault("hidden", (32, 16))
    return VAEConfig(arch=arch, likelihood=likelihood, latent_dim=latent_dim, **kw)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file: 0, 0, type 0x08, ndim, big-endian int32 sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()


def tiny_idx_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Four small arrays standing in for the MNIST files (3 train and 2 test images of 28x28)."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.array([5, 0, 4], dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.array([7, 2], dtype=np.uint8),
    }


def write_fake_dataset(folder: Path, gz: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    """Write four tiny, valid IDX files into folder (raw or .gz); returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = tiny_idx_arrays(seed)
    for stem, arr in arrays.items():
        raw = idx_bytes(arr)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw, mtime=0))
        else:
            (folder / stem).write_bytes(raw)
    return arrays


def small_mnist(mnist) -> data_mod.Dataset:
    """A picklable slice of MNIST (500 training, 300 test images), cheap to send to a training worker."""
    return data_mod.Dataset("mnist", mnist.train_images[:500].clone(), mnist.train_labels[:500].clone(),
                            mnist.test_images[:300].clone(), mnist.test_labels[:300].clone(), mnist.source,
                            mnist.sha256)


def finishes(job, stall: float = 120) -> bool:
    """Wait until a dashboard training job has finished, however long a loaded machine makes it take, as long as
    it makes progress (a new step, epoch or state); False when nothing moved for `stall` seconds."""
    import time

    last, since = None, time.monotonic()
    while not job.wait(0.1):
        s = job.snapshot()
        mark = (s.state, s.step, s.epochs_completed)
        if mark != last:
            last, since = mark, time.monotonic()
        elif time.monotonic() - since > stall:
            return False
    return True


def pytest_xdist_make_scheduler(config, log):
    """With `-n 2` (scripts/test.sh's whole suite) and pytest.ini's `--dist loadfile`: a module's tests on one
    worker, the layout matrix split by model (tests/worker_scheduling.py)."""
    return ModuleScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, read once per session (download disabled: tests never use the network)."""
    return data_mod.load_dataset("mnist", None, False)


@pytest.fixture(scope="session")
def mnist_batch(mnist):
    """64 fixed training images as float [64, 1, 28, 28] in [0, 1]."""
    return data_mod.to_float(mnist.train_images[:64])


@pytest.fixture
def fresh_dataset_cache():
    """load_dataset is lru_cached: clear it around tests that change where or what it loads."""
    data_mod.load_dataset.cache_clear()
    yield
    data_mod.load_dataset.cache_clear()


# One intra-op thread. On a small, shared CI machine (2 cores, often busy) torch's default of one thread per
# core spends most of its time in OpenMP barriers: a tiny training step goes from ~5 ms to ~500 ms.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_and_one_thread(monkeypatch):
    """A fixed seed for every test, and one CPU thread even inside vae_core.train.train()."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # train() sizes its thread pool by vae_core.hardware.available_cpus()
    torch.manual_seed(0)
    yield
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _training_at_normal_priority(monkeypatch):
    """Training jobs in tests run at nice 0 (VAE_TRAIN_NICE=0), not the app's default 19.

    At nice 19 the job's thread yields to everything else on the machine; on a loaded CI machine (other test
    runs, busy loops) it then gets almost no CPU and waits on it time out. The tests check behaviour, not the
    priority (test_training_job.py sets VAE_TRAIN_NICE itself where the priority is the subject)."""
    monkeypatch.setenv("VAE_TRAIN_NICE", "0")
