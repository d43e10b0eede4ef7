"""The offline demo set: deterministic, six classes, learnable from color and from shape."""

from __future__ import annotations

import numpy as np

from linviz.data import DEMO_CLASSES, load_dataset, make_demo_dataset


def nearest_class_mean_accuracy(train_x, train_y, test_x, test_y) -> float:
    means = np.stack([train_x[train_y == c].mean(0) for c in np.unique(train_y)])
    distances = ((test_x[:, None, :] - means[None]) ** 2).sum(-1)
    return float((distances.argmin(1) == test_y).mean())


def hue_histogram(images: np.ndarray, bins: int = 12) -> np.ndarray:
    """Saturation-weighted hue histogram (a small stand-in for the features package)."""
    rgb = images.astype(np.float32) / 255.0
    high, low = rgb.max(-1), rgb.min(-1)
    chroma = high - low
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.where(chroma > 0, chroma, 1)
    hue = np.where(high == r, ((g - b) / safe) % 6, np.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4)) / 6
    index = np.minimum((hue * bins).astype(int), bins - 1).reshape(len(images), -1)
    weights = chroma.reshape(len(images), -1)
    out = np.zeros((len(images), bins), np.float32)
    for k in range(bins):
        out[:, k] = (weights * (index == k)).sum(1)
    return out / np.maximum(out.sum(1, keepdims=True), 1e-6)


def test_shapes_classes_and_determinism():
    a = make_demo_dataset(n_train_per_class=20, n_test_per_class=5, seed=3)
    b = make_demo_dataset(n_train_per_class=20, n_test_per_class=5, seed=3)
    c = make_demo_dataset(n_train_per_class=20, n_test_per_class=5, seed=4)
    assert a.class_names == DEMO_CLASSES and len(DEMO_CLASSES) >= 6
    assert a.train.images.shape == (120, 32, 32, 3) and a.train.images.dtype == np.uint8
    assert a.test.images.shape == (30, 32, 32, 3)
    assert list(np.bincount(a.train.labels)) == [20] * 6
    assert np.array_equal(a.train.images, b.train.images) and a.key == b.key
    assert not np.array_equal(a.train.images, c.train.images) and a.key != c.key
    assert a.source == "demo" and a.skipped == []


def test_other_image_size_and_load_dataset():
    small = make_demo_dataset(n_train_per_class=4, n_test_per_class=0, image_size=16)
    assert small.train.images.shape == (24, 16, 16, 3) and small.test is None
    demo = load_dataset("demo")
    assert len(demo.train) == 500 * len(DEMO_CLASSES) and len(demo.test) == 100 * len(DEMO_CLASSES)


def test_images_vary_and_use_the_full_range():
    demo = make_demo_dataset(n_train_per_class=50, n_test_per_class=0)
    images = demo.train.images
    assert images.min() < 20 and images.max() > 235
    assert images.reshape(len(images), -1).std(0).mean() > 30  # not one template repeated


def test_learnable_from_pixels_color_and_shape():
    demo = make_demo_dataset(n_train_per_class=150, n_test_per_class=60, seed=1)
    train, test = demo.train, demo.test
    flat = lambda s: s.images.reshape(len(s), -1).astype(np.float32)  # noqa: E731
    chance = 1 / len(DEMO_CLASSES)
    pixels = nearest_class_mean_accuracy(flat(train), train.labels, flat(test), test.labels)
    assert pixels > 2 * chance
    # Color tells the family (pairs of classes) but not the shape within it.
    families = np.array([0, 0, 1, 1, 2, 2])
    hue_train, hue_test = hue_histogram(train.images), hue_histogram(test.images)
    family_accuracy = nearest_class_mean_accuracy(hue_train, families[train.labels], hue_test, families[test.labels])
    class_accuracy = nearest_class_mean_accuracy(hue_train, train.labels, hue_test, test.labels)
    assert family_accuracy > 0.75
    assert class_accuracy < family_accuracy - 0.2  # color alone cannot separate disk/cross, square/ring, ...
    # Gray-level edges (shape) separate the shapes within a family.
    gray = lambda s: np.abs(np.diff(s.images.mean(-1), axis=1)).reshape(len(s), -1)  # noqa: E731
    shape_accuracy = nearest_class_mean_accuracy(gray(train), train.labels, gray(test), test.labels)
    assert shape_accuracy > 1.5 * chance


def test_the_demo_set_is_the_same_whatever_the_rendering_chunk(monkeypatch):
    import linviz.data.demo as demo

    whole = make_demo_dataset(n_train_per_class=20, n_test_per_class=5, seed=3, image_size=24)
    monkeypatch.setattr(demo, "_CHUNK_PIXELS", 24 * 24 * 7)  # 7 images at a time
    chunked = make_demo_dataset(n_train_per_class=20, n_test_per_class=5, seed=3, image_size=24)
    np.testing.assert_array_equal(whole.train.images, chunked.train.images)
    np.testing.assert_array_equal(whole.test.images, chunked.test.images)
    np.testing.assert_array_equal(whole.train.labels, chunked.train.labels)


def test_large_demo_images_are_generated_in_bounded_memory(run_cli):
    result = run_cli("info", "demo", "--image-size", "96", "--json", memory_gb=2, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"image_shape"' in result.stdout


def test_a_demo_set_larger_than_memory_allows_is_refused_with_the_figures(run_cli):
    result = run_cli("info", "demo", "--image-size", "512", memory_gb=3, timeout=120)
    lines = [line for line in result.stderr.replace("\r", "\n").splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert "512x512" in lines[0] and "GiB" in lines[0] and "smaller image size" in lines[0], lines[0]
