"""Decoding within a memory budget: big pictures decoded in their own mode, within a small
tolerance of the full-size result; what would exceed the budget refused with the file's name."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image, ImageOps

from data_testfiles import encode, gradient
from linviz.data import load_dataset, read_image
from linviz.data import images as images_module
from linviz.data.images import ImageDecodeError, decode_image
from linviz.errors import DatasetError


def textured(width: int, height: int, seed: int = 0, amplitude: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(-amplitude, amplitude, (height, width, 3))
    return np.clip(gradient(width, height, seed).astype(int) + noise, 0, 255).astype(np.uint8)


def reference(image: Image.Image, size: int, draft: bool = True) -> np.ndarray:
    """The plain, memory-hungry way: (JPEG draft,) orientation, RGB over white at full size,
    centre square, resize (in two steps, as linviz does)."""
    if draft and image.format == "JPEG":
        image.draft(image.mode, (size, size))
    image = ImageOps.exif_transpose(image)
    rgba = np.asarray(image.convert("RGBA")).astype(np.float32)
    alpha = rgba[:, :, 3:4] / 255.0
    rgb = Image.fromarray(np.rint(rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8))
    w, h = rgb.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    reducing_gap = 3.0 if draft else None
    return np.asarray(rgb.resize((size, size), Image.Resampling.BICUBIC, box=box,
                                 reducing_gap=reducing_gap)).astype(int)


def test_an_image_over_the_budget_is_refused_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(images_module.DECODE_BUDGET, "capacity", 1_000_000)
    big = tmp_path / "cls" / "big.png"
    big.parent.mkdir()
    Image.fromarray(gradient(1000, 800)).save(big)
    Image.fromarray(gradient(40, 40)).save(tmp_path / "cls" / "small.png")
    with pytest.raises(DatasetError) as info:
        read_image(big)
    message = str(info.value)
    assert message.startswith(f"{big}: too large to decode: a 1000x800 RGB image needs about")
    assert "decoding budget" in message
    dataset = load_dataset(tmp_path)
    assert len(dataset.train) == 1
    assert any(path.endswith("big.png") and "decoding budget" in reason for path, reason in dataset.skipped)


def test_threads_wait_for_the_budget_rather_than_exceed_it():
    from linviz.data.images import DecodeBudget

    budget = DecodeBudget(100)
    in_flight, peak = [0], [0]
    lock = threading.Lock()

    def work():
        with budget.reserve(60, "an image"):
            with lock:
                in_flight[0] += 60
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.02)
            with lock:
                in_flight[0] -= 60

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak[0] == 60 and budget.used == 0
    with pytest.raises(ImageDecodeError, match="decoding budget"):
        with budget.reserve(101, "a 10x10 RGB image"):
            pass


def test_large_jpegs_are_drafted_within_a_small_tolerance():
    for width, height in ((1600, 1200), (1200, 1600)):
        data = encode(Image.fromarray(textured(width, height, 3)), "JPEG", quality=90)
        for size in (32, 64):
            expected = reference(Image.open(io.BytesIO(data)), size, draft=False)  # every pixel decoded
            difference = np.abs(decode_image(data, size).astype(int) - expected)
            assert difference.mean() < 1.5 and difference.max() <= 12, (width, height, size)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied_after_resizing_to_the_same_picture(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    for width, height in ((41, 23), (23, 41), (300, 177)):
        pixels = textured(width, height, orientation)
        for fmt in ("PNG", "JPEG"):
            data = encode(Image.fromarray(pixels), fmt, exif=exif.tobytes(),
                          **({"quality": 95} if fmt == "JPEG" else {}))
            for size in (16, 20):
                expected = reference(Image.open(io.BytesIO(data)), size)
                difference = np.abs(decode_image(data, size).astype(int) - expected)
                assert difference.max() <= 3, (orientation, width, height, fmt, size)


def test_transparency_of_big_pictures_is_resized_premultiplied_within_a_small_tolerance(monkeypatch):
    rng = np.random.default_rng(5)
    alpha = np.clip(np.add.outer(np.arange(300), np.arange(400)) // 3 + rng.integers(-20, 20, (300, 400)), 0, 255)
    rgba = np.dstack([textured(400, 300, 5), alpha.astype(np.uint8)])
    data = encode(Image.fromarray(rgba, "RGBA"), "PNG")
    exact = decode_image(data, 32).astype(int)
    assert np.array_equal(exact, reference(Image.open(io.BytesIO(data)), 32))  # small: composited first
    monkeypatch.setattr(images_module, "_COMPOSITE_FIRST_PIXELS", 0)  # as a picture over the threshold
    difference = np.abs(decode_image(data, 32).astype(int) - exact)
    assert difference.mean() < 1.0 and difference.max() <= 8


def test_huge_transparent_pngs_decode_within_the_memory_limit(tmp_path, run_python):
    """24-megapixel RGBA PNGs (about 1.2 GB each when converted at full size, 190 MB as
    decoded now) load under a 1.2 GB address-space limit (the interpreter takes 0.45 GB)."""
    root = tmp_path / "huge"
    (root / "cls").mkdir(parents=True)
    width, height = 6000, 4000
    base = (np.add.outer(np.arange(height) // 7, np.arange(width) // 5) % 256).astype(np.uint8)
    Image.fromarray(np.dstack([base, base[::-1], base[:, ::-1], base // 2 + 100]), "RGBA").save(
        root / "cls" / "a.png", compress_level=1)
    (root / "cls" / "b.png").write_bytes((root / "cls" / "a.png").read_bytes())
    Image.fromarray(gradient(32, 32)).save(root / "cls" / "c.png")
    result = run_python(f"""
        from linviz.data import load_dataset
        dataset = load_dataset({str(root)!r})
        print(len(dataset.train), dataset.skipped)
    """, memory_gb=1.2, env={"LINVIZ_CACHE_DIR": str(tmp_path / "cache")}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[0] == "3", result.stdout
