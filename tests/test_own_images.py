"""Your own images: a folder of class subfolders trained on and evaluated from the command line
(vae_core/image_folder.py), its test split recorded and kept with the checkpoint; the app's .zip reader
(dashboard/training/upload_zip.py) with each bad member or archive in one line; and the Train tab's upload,
a one-epoch run, its save and the saved model's legend in Explore (AppTest)."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_train_tab import SAVE, START, at, configure, dirs, run_until_done  # noqa: F401

from dashboard.training import upload_zip
from dashboard.training.upload_zip import ZipRefused, remove_upload, unpack_zip
from dashboard_apptest import plane_data
from vae_core import evaluate as evaluate_mod
from vae_core import image_folder
from vae_core import train as train_mod
from vae_core.image_folder import load_image_folder, read_image

CLASSES = ("bars", "circles", "crosses")
SIZES = ((28, 28), (40, 30), (17, 50))  # square, wide, tall


def shape_image(c: int, i: int) -> Image.Image:
    """Class c's i-th image: a bar, a disc or a cross, white on black with noise, at one of three sizes; odd ones
    RGB, every fourth RGBA (the JPEGs drop the alpha)."""
    w, h = SIZES[i % 3]
    a = np.zeros((h, w), np.uint8)
    if c == 0:
        a[:, w // 3 : 2 * w // 3] = 255
    elif c == 1:
        yy, xx = np.ogrid[:h, :w]
        a[((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < (min(h, w) / 3) ** 2] = 255
    else:
        a[h // 2 - 2 : h // 2 + 2] = 255
        a[:, w // 2 - 2 : w // 2 + 2] = 255
    a = np.clip(a.astype(int) + np.random.default_rng(100 * c + i).integers(0, 30, a.shape), 0, 255)
    im = Image.fromarray(a.astype(np.uint8))
    return im.convert("RGBA") if i % 4 == 0 else im.convert("RGB") if i % 2 else im


def image_bytes(im: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    (im.convert("RGB") if fmt == "JPEG" and im.mode == "RGBA" else im).save(out, fmt)
    return out.getvalue()


def write_folder(root: Path, per_class: int = 20) -> Path:
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            fmt, suffix = ("JPEG", "jpg") if i % 3 == 1 else ("PNG", "png")
            (root / name / f"{i:02d}.{suffix}").write_bytes(image_bytes(shape_image(c, i), fmt))
    (root / "bars" / "notes.txt").write_text("not an image")
    (root / "bars" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    return root


def png_claiming(width: int, height: int) -> bytes:
    """A 1 x 1 PNG whose header claims width x height: a decompression bomb's size, without its bytes."""
    raw = image_bytes(Image.new("L", (1, 1)), "PNG")
    ihdr = struct.pack(">II", width, height) + raw[24:29]
    return raw[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + raw[33:]


# --- the library and its command lines --------------------------------------------------------------------------


def test_a_folder_trains_for_an_epoch_and_evaluates_on_its_recorded_split(tmp_path, capsys):
    folder = write_folder(tmp_path / "imgs")
    out = tmp_path / "out"
    args = ["--dataset", "folder", "--data-dir", str(folder), "--epochs", "1", "--hidden", "16",
            "--batch-size", "16", "--precision", "fp32", "--out", str(out)]
    assert train_mod.main(args) == 0
    err = capsys.readouterr().err
    assert "skipped bars/notes.txt: not a PNG or JPEG file" in err
    assert "skipped bars/broken.png: " in err
    config = json.loads((out / "config.json").read_text())
    data = config["data"]
    assert data["dataset"] == "folder" and data["classes"] == list(CLASSES) and data["fit"] == "pad"
    assert data["n_train"] == 54 and data["n_test"] == 6 and data["skipped"] == 2  # 2 of each class held out
    assert data["split"]["seed"] == 0 and data["split"]["fraction"] == 0.1
    again = load_image_folder(folder, 0.1, 0)
    assert data["split"] == again.info["split"], "the recorded split is the one the folder gives again"
    assert load_image_folder(folder, 0.1, 1).info["split"]["test_files_sha256"] != data["split"]["test_files_sha256"]
    assert config["training"]["test_fraction"] == 0.1 and config["training"]["split_seed"] == 0
    assert (out / "test_set.safetensors").is_file()

    assert evaluate_mod.main([str(out), "--iwae-k", "5", "--json"]) == 0
    kept = json.loads(capsys.readouterr().out)
    assert kept["dataset"] == "folder" and kept["n_test"] == 6
    assert kept["test_loss"] == pytest.approx(config["metrics"]["test_loss"], rel=1e-5)
    assert evaluate_mod.main([str(out), "--iwae-k", "5", "--json", "--data-dir", str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)["test_loss"] == pytest.approx(kept["test_loss"], rel=1e-6)
    # The folder changed: its split is no longer the recorded one, said in one line.
    next(p for p in (folder / "circles").iterdir()).unlink()
    assert evaluate_mod.main([str(out), "--json", "--data-dir", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "changed" in captured.err


def test_an_image_is_made_grey_and_fitted_into_28_by_28_keeping_its_aspect(tmp_path):
    wide = np.zeros((20, 80, 3), np.uint8)
    wide[:, :, 0] = 255  # pure red: grey 0.299 * 255
    Image.fromarray(wide).save(tmp_path / "wide.png")
    x = read_image(tmp_path / "wide.png")
    assert x.shape == (28, 28) and x.dtype == np.uint8
    assert np.all(x[12:15, :] == 76), "the image: 28 wide, 7 high, in the middle"
    assert np.all(x[:10] == 76) and np.all(x[-10:] == 76), "padded with its border's grey, not black"
    transparent = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    transparent.save(tmp_path / "clear.png")
    assert np.all(read_image(tmp_path / "clear.png") == 255), "transparency counts as white"


def test_a_folder_that_cannot_be_used_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(image_bytes(shape_image(0, 0), "PNG"))
    one = write_folder(tmp_path / "one", per_class=1)
    for folder, why in ((tmp_path / "flat", "no class subfolders"), (one, "at least 2"),
                        (tmp_path / "none", "not a folder")):
        code = train_mod.main(["--dataset", "folder", "--data-dir", str(folder), "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert code == 2 and why in err and len(err.strip().splitlines()) == 1, err
    assert train_mod.main(["--dataset", "folder", "--out", str(tmp_path / "o")]) == 2
    assert "needs your images: --data-dir" in capsys.readouterr().err
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(6000, 5000))
    with pytest.raises(image_folder.ImageFileError, match="pixels"):
        read_image(bomb)


# --- the app's zip reader ----------------------------------------------------------------------------------------


def make_zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symbolic link's mode
            zf.writestr(info, "../../etc/passwd")
    return out.getvalue()


def good_members(top: str = "my-images/", per_class: int = 3) -> dict[str, bytes]:
    return {f"{top}{name}/{i}.{'png' if i % 2 else 'jpg'}": image_bytes(shape_image(c, i), "PNG" if i % 2 else "JPEG")
            for c, name in enumerate(CLASSES) for i in range(per_class)}


def test_a_good_zip_is_unpacked_inside_the_models_folder(tmp_path):
    members = {**good_members(), "my-images/README.txt": b"hi", "__MACOSX/my-images/bars/._0.jpg": b"x",
               "my-images/bars/.DS_Store": b"x"}
    got = unpack_zip(make_zip(members), tmp_path / "models")
    assert got.folder.parent.parent == tmp_path / "models" / ".uploads"
    assert got.classes == CLASSES and got.counts == (3, 3, 3)
    assert got.skipped == ("my-images/README.txt: not a PNG or JPEG file",) and got.n_skipped == 1
    data = load_image_folder(got.folder)
    assert data.class_names == CLASSES and len(data.train_images) + len(data.test_images) == 9
    remove_upload(got.folder, tmp_path / "models")
    assert not got.folder.parent.exists()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    remove_upload(outside, tmp_path / "models")  # never anything outside models/.uploads
    assert outside.is_dir()


def test_bad_members_each_get_one_line_and_nothing_lands_outside(tmp_path):
    root = tmp_path / "a" / "b" / "models"
    members = {**good_members(""), "../evil.png": image_bytes(shape_image(0, 0), "PNG"),
               "/abs.png": image_bytes(shape_image(0, 0), "PNG"), "bars/bomb.png": png_claiming(10_000, 10_000),
               "circles/corrupt.png": image_bytes(shape_image(1, 0), "PNG")[:60], "loose.png": b"x"}
    got = unpack_zip(make_zip(members, links=("bars/link.png",)), root)
    lines = dict(line.split(": ", 1) for line in got.skipped)
    assert "path that leaves" in lines["../evil.png"]
    assert "absolute path" in lines["/abs.png"]
    assert "a link" in lines["bars/link.png"]
    assert "pixels" in lines["bars/bomb.png"]
    assert "damaged" in lines["circles/corrupt.png"] or "not a PNG" in lines["circles/corrupt.png"]
    assert "not in a class folder" in lines["loose.png"]
    assert got.n_skipped == 6 and got.counts == (3, 3, 3)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink()}
    assert all(w.startswith("a/b/models/.uploads/") for w in written), written
    assert not any(p.is_symlink() for p in root.rglob("*"))


def test_a_zip_that_cannot_be_used_is_refused_in_one_line(tmp_path, monkeypatch):
    root = tmp_path / "models"
    cases = [(b"hello, not a zip", "not a zip file"),
             (make_zip({"bars/a.txt": b"x"}), "no PNG or JPEG images"),
             (make_zip({**good_members(""), "solo/1.png": image_bytes(shape_image(0, 1), "PNG")}), "fewer than 2")]
    for data, why in cases:
        with pytest.raises(ZipRefused, match=why) as e:
            unpack_zip(data, root)
        assert "\n" not in str(e.value)
    monkeypatch.setattr(upload_zip, "MAX_MEMBERS", 5)
    with pytest.raises(ZipRefused, match="entries; at most 5"):
        unpack_zip(make_zip(good_members()), root)
    monkeypatch.setattr(upload_zip, "MAX_MEMBERS", 100)
    monkeypatch.setattr(upload_zip, "MAX_TOTAL_BYTES", 2000)
    with pytest.raises(ZipRefused, match="unpacked"):
        unpack_zip(make_zip(good_members()), root)
    monkeypatch.setattr(upload_zip, "MAX_ZIP_BYTES", 100)
    with pytest.raises(ZipRefused, match="MB"):
        unpack_zip(make_zip(good_members()), root)
    assert not [p for p in (root / ".uploads").iterdir()], "a refused zip leaves nothing behind"


def test_stale_uploads_are_removed(tmp_path):
    got = unpack_zip(make_zip(good_members()), tmp_path)
    upload_zip.remove_stale_uploads(tmp_path)
    assert got.folder.is_dir()
    old = got.folder.parent.stat().st_mtime - 2 * upload_zip.MAX_AGE_S
    os.utime(got.folder.parent, (old, old))
    upload_zip.remove_stale_uploads(tmp_path)
    assert not got.folder.parent.exists()


# --- the Train tab ----------------------------------------------------------------------------------------------


def shown(el) -> str:
    """An element's text as the page shows it: the user's text comes escaped for markdown (safe_text.plain)."""
    return str(el.value).replace("\\", "")


def test_the_train_tab_trains_on_an_uploaded_zip_and_explore_shows_its_classes(at, dirs):  # noqa: F811
    _, mine = dirs
    at.selectbox(key="train_dataset").set_value("folder").run()
    assert any("Upload a .zip" in c.value for c in at.caption)
    at.button(key=START).click().run()
    assert any("Cannot start: upload a .zip of your images first" in shown(e) for e in at.error)
    at.file_uploader(key="train_images_zip").upload("bad.zip", b"not a zip", "application/zip").run()
    assert any("bad.zip: not a zip file" in shown(e) for e in at.error)
    members = {**good_members(per_class=10), "my-images/notes.txt": b"x"}
    for _ in range(2):  # a second upload replaces the first: one folder in models/.uploads
        at.file_uploader(key="train_images_zip").upload("shapes.zip", make_zip(members), "application/zip").run()
    assert not at.exception, at.exception
    assert any("shapes.zip: 30 images in 3 classes: bars (10), circles (10), crosses (10)" in shown(s)
               for s in at.success)
    assert any("1 file(s) skipped" in e.label for e in at.expander)
    assert (mine / ".uploads").is_dir() and len(list((mine / ".uploads").iterdir())) == 1, "the bad one left none"
    (command,) = [c.value for c in at.code if "vae_core.train" in c.value]
    assert "--dataset folder" in command and "--data-dir my-images" in command, command
    assert str(mine) not in command, "no server path shown"
    configure(at, epochs=1, batch_size=8, hidden="16")
    at.button(key=START).click().run()
    assert not at.exception, at.exception
    run_until_done(at)
    at.text_input(key="train_save_name").set_value("my-shapes")
    at.button(key=SAVE).click().run()
    assert not at.exception, at.exception
    saved = mine / "my-shapes"
    config = json.loads((saved / "config.json").read_text())
    assert config["data"]["classes"] == list(CLASSES) and config["data"]["n_test"] == 3
    assert config["training"]["data_dir"] == "my-images" and str(mine) not in json.dumps(config)
    assert (saved / "test_set.safetensors").is_file()
    at.button(key="train_explore_saved").click().run()
    assert not at.exception, at.exception
    assert plane_data(at)["classes"] == list(CLASSES), "the legend names the folder's classes"
    assert len(plane_data(at)["classes"]) == 3
