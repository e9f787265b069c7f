"""The IDX reader, the SHA-256 check, the search for the dataset, and the bundled MNIST."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import idx_bytes, tiny_idx_arrays, write_fake_dataset

from vae_core import data
from vae_core.data import DatasetError, load_dataset, parse_idx, read_raw

# --- parse_idx ------------------------------------------------------------------------------------


def test_parse_idx_three_dimensional():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + bytes(range(24))
    assert raw == idx_bytes(arr)
    out = parse_idx(raw)
    assert out.dtype == np.uint8
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)
    assert out[1, 2, 3] == 23


def test_parse_idx_one_dimensional_labels():
    raw = bytes([0, 0, 8, 1, 0, 0, 0, 5, 9, 8, 7, 0, 255])
    out = parse_idx(raw)
    assert out.shape == (5,)
    assert out.tolist() == [9, 8, 7, 0, 255]


def test_parse_idx_large_sizes_are_big_endian():
    arr = np.zeros((1, 300), dtype=np.uint8)  # 300 = 0x0000012c: little-endian reading would say 0x2c010000
    out = parse_idx(idx_bytes(arr))
    assert out.shape == (1, 300)


@pytest.mark.parametrize("raw", [b"", b"\x00\x00", b"\x01\x00\x08\x01\x00\x00\x00\x01\x05",
                                 b"\x00\x01\x08\x01\x00\x00\x00\x01\x05", b"\x1f\x8b\x08\x00rest-of-a-gzip"])
def test_parse_idx_bad_magic(raw):
    with pytest.raises(DatasetError, match="not an IDX file \\(bad magic number\\)"):
        parse_idx(raw, "my-file")


def test_parse_idx_error_names_the_file():
    with pytest.raises(DatasetError, match="^/some/where/labels: not an IDX file"):
        parse_idx(b"junk", "/some/where/labels")


def test_parse_idx_unsupported_type_code():
    raw = bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\x00\x00\x80\x3f"  # 0x0D = float32
    with pytest.raises(DatasetError, match="unsupported IDX type code 0x0d"):
        parse_idx(raw)


def test_parse_idx_truncated_header():
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0])  # says 3 dimensions, holds 1.5 sizes
    with pytest.raises(DatasetError, match="truncated IDX header"):
        parse_idx(raw)


def test_parse_idx_truncated_data():
    raw = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    with pytest.raises(DatasetError, match="header says 24 values, file holds 23"):
        parse_idx(raw[:-1])
    with pytest.raises(DatasetError, match="truncated or oversized: header says 24 values, file holds 12"):
        parse_idx(raw[:-12])


def test_parse_idx_oversized_data():
    raw = idx_bytes(np.arange(6, dtype=np.uint8))
    with pytest.raises(DatasetError, match="header says 6 values, file holds 7"):
        parse_idx(raw + b"\x00")


# --- read_raw: raw and gzip --------------------------------------------------------------------------


def test_read_raw_plain_and_gzip_give_the_same_array(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    raw = idx_bytes(arr)
    (tmp_path / "imgs").write_bytes(raw)
    (tmp_path / "imgs.gz").write_bytes(gzip.compress(raw, mtime=0))
    assert read_raw(tmp_path / "imgs") == raw
    assert read_raw(tmp_path / "imgs.gz") == raw
    np.testing.assert_array_equal(parse_idx(read_raw(tmp_path / "imgs.gz")), arr)


def test_read_raw_truncated_gzip(tmp_path):
    raw = idx_bytes(np.random.default_rng(1).integers(0, 256, size=(20, 28, 28), dtype=np.uint8))
    gz = gzip.compress(raw, mtime=0)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DatasetError, match="cannot be read .*damaged or truncated") as info:
        read_raw(path)
    assert str(path) in str(info.value)


def test_read_raw_not_a_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(b"this is not gzip data at all")
    with pytest.raises(DatasetError, match="damaged or truncated"):
        read_raw(path)


def test_read_raw_corrupted_gzip_raises_dataset_error(tmp_path):
    raw = idx_bytes(np.random.default_rng(2).integers(0, 256, size=(20, 28, 28), dtype=np.uint8))
    gz = bytearray(gzip.compress(raw, mtime=0))
    gz[10] = 0x07  # first deflate block header: BFINAL=1, BTYPE=11 (reserved, invalid)
    path = tmp_path / "imgs.gz"
    path.write_bytes(bytes(gz))
    with pytest.raises(DatasetError, match="damaged or truncated"):
        read_raw(path)


def test_read_raw_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="cannot be read"):
        read_raw(tmp_path / "nope")


def test_read_raw_refuses_content_beyond_the_expected_size(tmp_path):
    raw = idx_bytes(np.zeros((5, 28, 28), dtype=np.uint8))
    (tmp_path / "imgs").write_bytes(raw)
    (tmp_path / "imgs.gz").write_bytes(gzip.compress(raw, mtime=0))
    assert read_raw(tmp_path / "imgs.gz", len(raw)) == raw  # exactly the limit is fine
    with pytest.raises(DatasetError, match="decompresses to more than the official file's 3,935 bytes"):
        read_raw(tmp_path / "imgs.gz", len(raw) - 1)
    with pytest.raises(DatasetError, match="larger than the official file"):
        read_raw(tmp_path / "imgs", len(raw) - 1)


def test_expected_sizes_are_the_official_files(mnist):
    assert data.EXPECTED_BYTES["train-images-idx3-ubyte"] == 16 + mnist.train_images.numel()
    assert data.EXPECTED_BYTES["t10k-labels-idx1-ubyte"] == 8 + mnist.test_labels.numel()


# A gzip of 200 MB of zeros (a few hundred KB on disk) in place of the training images: refused after reading
# at most the official file's 47 MB, and the process's memory grows by about that, not by 200 MB.
_BOMB = r"""
import gzip, json, sys
from pathlib import Path
from tests.peak_memory import peak_kib
folder = Path(sys.argv[1])
# 200 gzip members of 1 MiB of zeros each: one valid gzip file (readers concatenate members), made in no time
(folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(1 << 20), mtime=0) * 200)
from vae_core.data import DatasetError, load_dataset
before = peak_kib()
try:
    load_dataset("mnist", str(folder), False)
    message = None
except DatasetError as e:
    message = str(e)
grown = peak_kib() - before
gz_bytes = (folder / "train-images-idx3-ubyte.gz").stat().st_size
print(json.dumps({"message": message, "grown_kib": grown, "gz_bytes": gz_bytes}))
"""


def test_a_gzip_bomb_named_like_an_idx_file_fails_fast_in_bounded_memory(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import ROOT

    write_fake_dataset(tmp_path, gz=True)
    proc = subprocess.run([sys.executable, "-c", _BOMB, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout)
    assert r["gz_bytes"] < 2_000_000
    assert r["message"] and "\n" not in r["message"]
    assert "train-images-idx3-ubyte.gz: decompresses to more than the official file's 47,040,016 bytes" in r["message"]
    assert r["grown_kib"] < 120 * 1024  # 47 MB read (+ gzip's buffers); unbounded, it would be over 200 MB


# --- finding and checking a dataset folder -------------------------------------------------------------


def test_fake_dataset_fails_the_sha256_check(tmp_path, fresh_dataset_cache):
    write_fake_dataset(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=str(tmp_path), download=False)
    msg = str(info.value)
    assert "SHA-256" in msg
    assert "does not match the official mnist file" in msg
    assert str(tmp_path / "train-images-idx3-ubyte") in msg  # which file
    assert data.SHA256["mnist"]["train-images-idx3-ubyte"][:16] in msg  # what was expected


@pytest.mark.parametrize("gz", [False, True])
def test_load_from_reads_a_valid_folder(tmp_path, monkeypatch, gz, fresh_dataset_cache):
    """With the expected hashes pointed at the tiny files, the whole loading path runs through."""
    arrays = write_fake_dataset(tmp_path / "mnist", gz=gz)
    hashes = {stem: hashlib.sha256(idx_bytes(a)).hexdigest() for stem, a in arrays.items()}
    monkeypatch.setitem(data.SHA256, "mnist", hashes)
    # data_dir may be the dataset folder's parent: <data_dir>/mnist/ is tried first
    ds = load_dataset("mnist", data_dir=str(tmp_path), download=False)
    assert ds.name == "mnist"
    assert ds.source == str(tmp_path / "mnist")
    assert ds.sha256 == hashes
    assert ds.train_images.dtype == torch.uint8 and ds.train_images.shape == (3, 28, 28)
    assert ds.test_images.shape == (2, 28, 28)
    assert torch.equal(ds.train_images, torch.from_numpy(arrays["train-images-idx3-ubyte"]))
    assert torch.equal(ds.test_images, torch.from_numpy(arrays["t10k-images-idx3-ubyte"]))
    assert ds.train_labels.tolist() == [5, 0, 4]
    assert ds.test_labels.tolist() == [7, 2]
    assert ds.train_images.is_contiguous()
    # the tensors own writable memory (copied out of the read-only bytes buffer)
    ds.train_images[0, 0, 0] = 1


def test_load_from_finds_files_in_a_raw_subfolder(tmp_path, monkeypatch):
    arrays = write_fake_dataset(tmp_path / "raw", gz=True)
    monkeypatch.setitem(data.SHA256, "mnist", {s: hashlib.sha256(idx_bytes(a)).hexdigest() for s, a in arrays.items()})
    ds = data._load_from("mnist", tmp_path)
    assert ds.test_labels.tolist() == [7, 2]


def test_checksum_mismatch_in_one_file_only(tmp_path, monkeypatch):
    arrays = write_fake_dataset(tmp_path)
    hashes = {s: hashlib.sha256(idx_bytes(a)).hexdigest() for s, a in arrays.items()}
    monkeypatch.setitem(data.SHA256, "mnist", hashes)
    # a label flipped in the test labels: still a valid IDX file, but not the official bytes
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([7, 3], dtype=np.uint8)))
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte: SHA-256 .* does not match"):
        data._load_from("mnist", tmp_path)


def test_truncated_gzip_in_a_dataset_folder(tmp_path, fresh_dataset_cache):
    write_fake_dataset(tmp_path, gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"  # the first file read
    p.write_bytes(p.read_bytes()[:30])
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz: cannot be read .*damaged or truncated"):
        load_dataset("mnist", data_dir=str(tmp_path), download=False)


@pytest.fixture
def nowhere(tmp_path, monkeypatch, fresh_dataset_cache):
    """Every place load_dataset looks points at an empty temporary folder."""
    for attr in ("REPO_DATA_DIR", "SYSTEM_DATA_DIR", "DOWNLOAD_DIR"):
        d = tmp_path / attr.lower()
        d.mkdir()
        monkeypatch.setattr(data, attr, d)
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    return tmp_path, empty


def test_missing_dataset_lists_where_it_looked(nowhere):
    root, empty = nowhere
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=str(empty), download=False)
    msg = str(info.value)
    assert msg.startswith("The mnist dataset was not found. Looked in:")
    for d in (empty / "mnist", empty, root / "repo_data_dir" / "mnist", root / "system_data_dir" / "mnist",
              root / "download_dir" / "mnist"):
        assert f"  - {d}\n" in msg
    assert "--data-dir" in msg and "VAE_DATA_DIR" in msg
    assert "download failed" not in msg


def test_missing_dataset_without_data_dir(nowhere):
    root, _ = nowhere
    with pytest.raises(DatasetError, match="Looked in:") as info:
        load_dataset("fashion-mnist", download=False)
    msg = str(info.value)
    assert str(root / "system_data_dir" / "fashion-mnist") in msg
    assert "apt-get install dataset-fashion-mnist" in msg


def test_incomplete_folder_is_skipped(nowhere):
    root, empty = nowhere
    write_fake_dataset(empty)
    (empty / "t10k-labels-idx1-ubyte").unlink()  # three of four files: not a dataset folder
    with pytest.raises(DatasetError, match="not found"):
        load_dataset("mnist", data_dir=str(empty), download=False)


def test_failed_download_is_reported(nowhere, monkeypatch):
    def offline(name):
        raise OSError("no network here")

    monkeypatch.setattr(data, "_download", offline)
    with pytest.raises(DatasetError, match="The download failed too: no network here"):
        load_dataset("mnist", download=True)


def test_vae_data_dir_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    dirs = data.candidate_dirs("mnist")
    assert dirs[:2] == [tmp_path / "mnist", tmp_path]
    assert dirs[2:] == [data.REPO_DATA_DIR / "mnist", data.SYSTEM_DATA_DIR / "mnist", data.DOWNLOAD_DIR / "mnist"]
    # an explicit data_dir wins over the variable
    assert data.candidate_dirs("mnist", "/x")[:2] == [data.Path("/x/mnist"), data.Path("/x")]


def test_unknown_dataset_name():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar10'; choose one of mnist, fashion-mnist"):
        load_dataset("cifar10", download=False)


def test_tiny_idx_helper_is_consistent():
    arrays = tiny_idx_arrays()
    assert set(arrays) == set(data.FILES)


# --- the bundled MNIST --------------------------------------------------------------------------------


def test_bundled_mnist_loads(mnist):
    assert mnist.name == "mnist"
    assert all(data._find_file(Path(mnist.source), stem) for stem in data.FILES)
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    for t in (mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels):
        assert t.dtype == torch.uint8
    assert int(mnist.train_labels.min()) == 0 and int(mnist.train_labels.max()) == 9
    assert int(mnist.test_labels.min()) == 0 and int(mnist.test_labels.max()) == 9
    assert int(mnist.train_images.max()) == 255 and int(mnist.train_images.min()) == 0
    assert mnist.sha256 == data.SHA256["mnist"]
    assert mnist.class_names == tuple("0123456789")


def test_bundled_mnist_is_the_official_data(mnist):
    # well-known facts about MNIST: the first labels, and the class counts
    assert mnist.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert mnist.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert torch.bincount(mnist.train_labels.long()).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                                                  5851, 5949]
    assert torch.bincount(mnist.test_labels.long()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                                                 1009]


def test_bundled_mnist_files_are_gzipped_idx():
    folder = data.REPO_DATA_DIR / "mnist"
    for stem in data.FILES:
        assert data._find_file(folder, stem) == folder / f"{stem}.gz"


def test_load_dataset_is_cached_per_arguments(nowhere, monkeypatch):
    _, folder = nowhere
    arrays = write_fake_dataset(folder)
    monkeypatch.setitem(data.SHA256, "mnist", {s: hashlib.sha256(idx_bytes(a)).hexdigest() for s, a in arrays.items()})
    first = load_dataset("mnist", str(folder), False)
    assert load_dataset("mnist", str(folder), False) is first
    (folder / "train-labels-idx1-ubyte").unlink()  # not looked at again: the cached copy is returned
    assert load_dataset("mnist", str(folder), False) is first
    load_dataset.cache_clear()
    with pytest.raises(DatasetError, match="not found"):  # after clearing, it looks again
        load_dataset("mnist", str(folder), False)


def test_to_float():
    x = torch.tensor([[[0, 255], [51, 102]]], dtype=torch.uint8)
    f = data.to_float(x)
    assert f.shape == (1, 1, 2, 2) and f.dtype == torch.float32
    assert torch.allclose(f, torch.tensor([[[[0.0, 1.0], [0.2, 0.4]]]]))
    assert x.dtype == torch.uint8 and x[0, 0, 1] == 255  # the input is left alone


def test_fashion_class_names():
    assert data.CLASS_NAMES["fashion-mnist"][9] == "Ankle boot"
    assert len(data.CLASS_NAMES["fashion-mnist"]) == 10
