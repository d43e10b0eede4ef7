"""Image files of every kind the loaders meet, written by the tests themselves."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from linviz.data import CIFAR10_CLASSES


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gradient(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth RGB picture (JPEG keeps it close) with a per-seed tint."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    tint = rng.integers(0, 120, 3)
    rgb = np.stack([xs * 255 // max(width - 1, 1), ys * 255 // max(height - 1, 1),
                    (xs + ys) * 127 // max(width + height - 2, 1)], -1)
    return np.clip(rgb // 2 + tint, 0, 255).astype(np.uint8)


def class_folders(root: Path, classes=("a", "b"), n: int = 3, size: int = 16) -> Path:
    """``root/<class>/<i>.png``: n small gradient pictures per class."""
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(gradient(size, size, i)).save(root / cls / f"{i}.png")
    return root


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def exif_rotated_jpeg() -> bytes:
    """A 40x20 JPEG, left half red, right half blue, with EXIF orientation 6 (rotate 90 CW)."""
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    image = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def mixed_good_files() -> dict[str, bytes]:
    """name -> bytes of readable images in many formats and modes (all must load)."""
    rgb = Image.fromarray(gradient(48, 48, 1))
    gray16 = Image.fromarray((np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).astype(np.uint16))
    rgba = Image.fromarray(np.dstack([gradient(32, 32, 2), np.full((32, 32), 128, np.uint8)]), "RGBA")
    return {
        "a.png": encode(rgb, "PNG"),
        "b.jpg": encode(Image.fromarray(gradient(32, 32, 3)), "JPEG", quality=90),
        "c.bmp": encode(rgb, "BMP"),
        "d.gif": encode(rgb.convert("P"), "GIF"),
        "e.tiff": encode(gray16, "TIFF"),
        "f.jpeg": encode(rgb.convert("CMYK"), "JPEG"),
        "g.png": encode(rgb.convert("P"), "PNG"),
        "h.png": encode(rgba, "PNG"),
        "i.png": encode(rgb.convert("L"), "PNG"),
        "j.jpg": exif_rotated_jpeg(),
        "k.webp": encode(rgb, "WEBP") if "WEBP" in Image.SAVE else encode(rgb, "PNG"),
        "large.jpg": encode(Image.fromarray(gradient(900, 500, 4)), "JPEG"),
        "l.png": encode(gray16, "PNG"),
    }


def broken_files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the skip reason must contain)."""
    good = encode(Image.fromarray(gradient(64, 64, 5)), "PNG")
    return {
        "truncated.png": (good[: len(good) // 2], "truncated"),
        "empty.jpg": (b"", "empty"),
        "text.jpg": (b"this is not a picture, just text\n" * 3, "not an image"),
        "bomb.png": (png_bomb(), "bomb"),
    }


# --------------------------------------------------------------------------- CIFAR-10 batches

BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


class Python2StylePickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` (BINSTRING), as the official batches were written."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def official_pickle(obj) -> bytes:
    """Protocol 2, Python 2 strings, and numpy 1.x's module path, like the real files."""
    buffer = io.BytesIO()
    Python2StylePickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def batch_bytes(n: int, seed: int, columns: int = 3072, n_labels=None) -> bytes:
    rng = np.random.default_rng(seed)
    batch = {
        b"batch_label": f"batch {seed}".encode(),
        b"labels": [int(x) for x in rng.integers(0, 10, n if n_labels is None else n_labels)],
        b"data": rng.integers(0, 256, (n, columns), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }
    return official_pickle(batch)


def meta_bytes() -> bytes:
    return official_pickle({b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072})


def write_batches(folder: Path, n: int = 12, overrides=None) -> Path:
    """A cifar-10-batches-py folder with ``n`` images per batch."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"batches.meta": meta_bytes(), **{name: batch_bytes(n, i) for i, name in enumerate(BATCH_NAMES)}}
    files.update(overrides or {})
    for name, data in files.items():
        if data is not None:
            (folder / name).write_bytes(data)
    return folder


def write_tarball(path: Path, n: int = 12) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [("batches.meta", meta_bytes())] + [(b, batch_bytes(n, i))
                                                              for i, b in enumerate(BATCH_NAMES)]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
