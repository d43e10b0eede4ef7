"""Image folders from a directory, .zip, .tar, .tar.gz and .tgz: layout, formats, skips."""

from __future__ import annotations

import io
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_testfiles import broken_files, encode, gradient, mixed_good_files
from linviz.data import load_dataset
from linviz.data.folders import assign_layout
from linviz.errors import Cancelled, DatasetError

N_GOOD = len(mixed_good_files())


def make_zip(root: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, wrapper + path.relative_to(root).as_posix())
    return target


def make_tar(root: Path, target: Path, mode: str, wrapper: str = "") -> Path:
    with tarfile.open(target, mode) as tar:
        tar.add(root, arcname=wrapper.rstrip("/") or ".", recursive=True)
    return target


def check_tree_dataset(dataset, label_prefix: str):
    assert dataset.class_names == ["cat", "dog"]
    assert len(dataset.train) == 2 * N_GOOD and len(dataset.test) == 2 * N_GOOD
    assert dataset.train.images.shape[1:] == (32, 32, 3) and dataset.train.images.dtype == np.uint8
    assert dataset.train.labels.dtype == np.int64
    assert list(np.bincount(dataset.train.labels)) == [N_GOOD, N_GOOD]
    reasons = {Path(p).name: r for p, r in dataset.skipped}
    for name, (_, word) in broken_files().items():
        assert word in reasons[name], (name, reasons.get(name))
    assert "not an image file" in reasons["notes.txt"]
    assert not any(".hidden" in p or "__MACOSX" in p or "DS_Store" in p for p, _ in dataset.skipped)
    assert all(p.startswith(label_prefix) for p, _ in dataset.skipped)
    assert len(dataset.skipped) == len(broken_files()) + 1


def test_directory_with_train_and_test(image_tree):
    dataset = load_dataset(image_tree)
    check_tree_dataset(dataset, str(image_tree))
    assert dataset.source == str(image_tree)


@pytest.mark.parametrize("suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz")])
def test_tar_archives_read_in_place(image_tree, tmp_path, suffix, mode):
    archive = make_tar(image_tree, tmp_path / f"images{suffix}", mode)
    dataset = load_dataset(archive)
    check_tree_dataset(dataset, str(archive))
    # Same pictures, same order, same fingerprint as the folder itself.
    assert dataset.key == load_dataset(image_tree).key


def test_zip_with_a_wrapper_folder(image_tree, tmp_path):
    archive = make_zip(image_tree, tmp_path / "images.zip", wrapper="my images/")
    dataset = load_dataset(archive)
    check_tree_dataset(dataset, str(archive))
    assert dataset.key == load_dataset(image_tree).key


def test_nothing_is_extracted(image_tree, tmp_path):
    archive = make_tar(image_tree, tmp_path / "images.tar.gz", "w:gz")
    before = set(tmp_path.rglob("*"))
    load_dataset(archive)
    assert set(tmp_path.rglob("*")) == before


def test_class_folders_without_splits(tmp_path):
    for cls, seed in (("zebra", 1), ("apple", 2), ("mango", 3)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(gradient(40, 30, seed * 10 + i)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "loose.png").write_bytes(encode(Image.fromarray(gradient(8, 8)), "PNG"))
    dataset = load_dataset(tmp_path, image_size=16)
    assert dataset.class_names == ["apple", "mango", "zebra"]
    assert dataset.test is None and len(dataset.train) == 9
    assert dataset.train.images.shape == (9, 16, 16, 3)
    assert list(dataset.train.labels) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert dataset.skipped == [(f"{tmp_path}/loose.png",
                                "not inside a class folder (put images in one sub-folder per class)")]


def test_layout_rules():
    split, cls, names, problems = assign_layout(
        ["data/train/a/1.png", "data/train/b/2.png", "data/test/a/3.png", "data/other/a/4.png", "data/train/5.png"]
    )
    assert split == ["train", "train", "test", None, None]
    assert names == ["a", "b"]
    assert "outside" in problems[3] and "class folder" in problems[4]
    split, cls, names, _ = assign_layout(["train/x/1.png", "val/x/2.png"])
    assert split == ["train", "test"]


def test_tar_with_long_names_and_pax_headers(tmp_path):
    long_class = "c" * 120
    png = encode(Image.fromarray(gradient(8, 8)), "PNG")
    for fmt, name in ((tarfile.GNU_FORMAT, "gnu.tar"), (tarfile.PAX_FORMAT, "pax.tar"),
                      (tarfile.USTAR_FORMAT, "ustar.tar")):
        target = tmp_path / name
        with tarfile.open(target, "w", format=fmt) as tar:
            for cls in (long_class if fmt != tarfile.USTAR_FORMAT else "c" * 90, "d"):
                info = tarfile.TarInfo(f"{cls}/{'f' * 60}é.png")
                info.size = len(png)
                tar.addfile(info, io.BytesIO(png))
        dataset = load_dataset(target)
        assert len(dataset.train) == 2 and dataset.class_names[1] == "d", name
        assert dataset.class_names[0].startswith("ccc")


def test_truncated_tar_keeps_what_it_read_and_says_so(image_tree, tmp_path):
    archive = make_tar(image_tree, tmp_path / "images.tar", "w")
    data = archive.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) * 2 // 3])
    dataset = load_dataset(cut)
    assert 0 < len(dataset.train) < 2 * N_GOOD
    assert any(p == str(cut) and "truncated" in r for p, r in dataset.skipped)
    gz = tmp_path / "cut.tar.gz"
    full = make_tar(image_tree, tmp_path / "full.tar.gz", "w:gz").read_bytes()
    gz.write_bytes(full[: len(full) * 2 // 3])
    dataset = load_dataset(gz)
    assert any(p == str(gz) and "truncated" in r for p, r in dataset.skipped)


@pytest.mark.parametrize("content,match", [
    (b"", "empty archive"),
    (b"x" * 2048, "not a tar archive"),
])
def test_bad_tar_files_raise(tmp_path, content, match):
    path = tmp_path / "bad.tar"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=match):
        load_dataset(path)


def test_bad_zip_and_unknown_file_raise(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DatasetError, match="bad.zip: not a readable zip"):
        load_dataset(tmp_path / "bad.zip")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="notes.txt: not a dataset"):
        load_dataset(tmp_path / "notes.txt")
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "missing")


def test_folder_without_readable_images_raises(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "x.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match="no readable images found.*x.jpg"):
        load_dataset(tmp_path)


def test_zip_member_declared_too_large_is_skipped(tmp_path, monkeypatch):
    import linviz.data.archives as archives

    png = encode(Image.fromarray(gradient(64, 64)), "PNG")
    target = tmp_path / "z.zip"
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("cat/ok.png", png)
        zf.writestr("cat/huge.png", png + b"\0" * 5000)
    monkeypatch.setattr(archives, "MAX_FILE_BYTES", len(png) + 10)
    dataset = load_dataset(target)
    assert len(dataset.train) == 1
    assert any("huge.png" in p and "too large" in r for p, r in dataset.skipped)


def test_progress_and_cancel(image_tree):
    calls = []
    load_dataset(image_tree, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] > 0
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        load_dataset(image_tree, cancel=stop)


def test_cancel_during_decoding(image_tree, monkeypatch):
    import linviz.data.folders as folders

    monkeypatch.setattr(folders, "CHUNK_SIZE", 2)  # many chunks, so cancel lands mid-way
    seen = []
    with pytest.raises(Cancelled):
        load_dataset(image_tree, image_size=8, progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) > 2)
    assert 2 < len(seen) < 30


def test_unreadable_file_is_skipped(image_tree):
    # A dangling symlink cannot be opened, even by root (chmod 0 would not stop root).
    (image_tree / "train" / "dog" / "gone.png").symlink_to(image_tree / "nowhere.png")
    dataset = load_dataset(image_tree)
    assert any(p.endswith("dog/gone.png") and "cannot read" in r for p, r in dataset.skipped)
    assert len(dataset.train) == 2 * N_GOOD


@pytest.mark.parametrize("packed", ["folder", "zip"])
def test_a_class_folder_without_a_readable_image_is_said_not_dropped_silently(tmp_path, packed):
    """A practitioner's third class of unsupported files (or none at all) is not a class: the
    load says so, beside the files it skipped."""
    root = tmp_path / "pics"
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(gradient(20, 20)).save(root / name / f"{k}.png")
    (root / "birds").mkdir()
    (root / "birds" / "a.heic").write_bytes(b"not decodable here")
    (root / "birds" / "b.jpg").write_bytes(b"\xff\xd8 a cut JPEG")
    (root / "empty").mkdir()
    source = root if packed == "folder" else make_zip(root, tmp_path / "pics.zip")
    dataset = load_dataset(str(source))
    assert dataset.class_names == ["cats", "dogs"]
    said = {path: reason for path, reason in dataset.skipped}
    assert said[f"{source}/birds"] == "no readable image in this class folder: the class is left out"
    if packed == "folder":  # a zip lists no empty folder
        assert said[f"{source}/empty"] == "no readable image in this class folder: the class is left out"
    assert sum("class is left out" in reason for reason in said.values()) == (2 if packed == "folder" else 1)
