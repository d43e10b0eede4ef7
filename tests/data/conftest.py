"""Fixtures of tests/data; the file builders live in data_testfiles.py (importable below)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib keeps test folders off sys.path; the helper module needs it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_testfiles import broken_files, mixed_good_files  # noqa: E402


@pytest.fixture
def image_tree(tmp_path):
    """A folder with train/ and test/ splits, mixed formats, broken, hidden and junk files."""
    root = tmp_path / "images"
    good = mixed_good_files()
    for split in ("train", "test"):
        for cls in ("cat", "dog"):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for name, data in good.items():
                (folder / name).write_bytes(data)
    for name, (data, _) in broken_files().items():
        (root / "train" / "cat" / name).write_bytes(data)
    (root / "train" / "cat" / ".hidden.jpg").write_bytes(b"junk")
    (root / "train" / ".DS_Store").write_bytes(b"junk")
    (root / "__MACOSX" / "train" / "cat").mkdir(parents=True)
    (root / "__MACOSX" / "train" / "cat" / "._a.png").write_bytes(b"junk")
    (root / "train" / "dog" / "notes.txt").write_text("not an image")
    return root
