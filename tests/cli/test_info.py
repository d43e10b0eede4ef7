"""``python main.py info SOURCE [--json]``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from linviz.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "pics"
    for split, n in (("train", 3), ("test", 2)):
        for cls in ("cat", "dog"):
            (root / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(np.full((10, 14, 3), 40 * i, np.uint8)).save(root / split / cls / f"{i}.png")
    (root / "train" / "cat" / "broken.jpg").write_bytes(b"no")
    return root


def test_info_json(folder, capsys):
    assert main(["info", str(folder), "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["classes"] == ["cat", "dog"]
    assert report["splits"] == {"train": 6, "test": 4}
    assert report["per_class"] == {"train": {"cat": 3, "dog": 3}, "test": {"cat": 2, "dog": 2}}
    assert report["image_shape"] == [32, 32, 3]
    assert report["skipped"] == [{"path": f"{folder}/train/cat/broken.jpg",
                                  "reason": "not an image (no known image format)"}]
    assert isinstance(report["seconds"], float)


def test_info_text(folder, capsys):
    assert main(["info", str(folder), "--image-size", "16"]) == 0
    out = capsys.readouterr().out
    assert "cat, dog" in out and "train 6, test 4" in out and "16 x 16 x 3" in out
    assert "broken.jpg: not an image" in out


def test_info_demo(capsys):
    assert main(["info", "demo", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["classes"]) >= 6


@pytest.mark.parametrize("source", ["/no/such/place", "__NOT_A_DATASET__"])
def test_bad_source_exits_2_with_one_line(tmp_path, source):
    if source == "__NOT_A_DATASET__":
        source = str(tmp_path / "notes.txt")
        Path(source).write_text("hello")
    result = subprocess.run(
        [sys.executable, "main.py", "info", source, "--json"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and source in lines[0]


@pytest.mark.shared_data
def test_info_on_the_shared_archive(shared_cifar10, shared_cifar10_archive, capsys):
    # shared_cifar10 loaded (and cached) the archive already: this run reads the cache.
    assert main(["info", str(shared_cifar10_archive), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["splits"] == {"train": 50_000, "test": 10_000}
    assert len(report["classes"]) == 10 and report["skipped"] == []


def test_info_cifar10_download_flag(tmp_path, monkeypatch, capsys):
    """--download fetches CIFAR-10 when no copy is found (the fetch itself is faked here;
    tests/data/test_download.py covers the real one against a local server)."""
    import sys as _sys

    _sys.path.insert(0, str(REPO_ROOT / "tests" / "data"))
    from data_testfiles import write_tarball

    import linviz.data

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LINVIZ_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["info", "cifar10"]) == 2  # not found, no --download
    fetched = []

    def fake_download(progress=None, **kwargs):
        fetched.append(True)
        (tmp_path / "cache").mkdir(exist_ok=True)
        path = write_tarball(tmp_path / "cache" / "cifar-10-python.tar.gz")
        progress(1, 1)
        return path

    monkeypatch.setattr(linviz.data, "download_cifar10", fake_download)
    assert main(["info", "cifar10", "--download", "--json"]) == 0
    assert fetched and json.loads(capsys.readouterr().out)["splits"] == {"train": 60, "test": 12}


@pytest.mark.parametrize("kind", ["empty_dir", "textonly_zip"])
def test_error_after_loading_started_is_one_line(tmp_path, capsys, monkeypatch, kind):
    import zipfile

    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    if kind == "empty_dir":
        source = tmp_path / "empty"
        source.mkdir()
    else:
        source = tmp_path / "textonly.zip"
        with zipfile.ZipFile(source, "w") as z:
            z.writestr("a/b.txt", "hello")
    assert main(["info", str(source)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(source) in lines[0]
