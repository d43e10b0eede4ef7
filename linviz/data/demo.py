"""The offline demo set: colored shapes on textured backgrounds, generated on the fly.

Six classes in three color families, two shapes per family:

    disk, cross      (red / orange)
    square, ring     (blue)
    triangle, bars   (green)

so color alone (a hue histogram) tells the family but not the shape, and shape alone (HOG
on gray levels) tells the shape family but is blurred by position, scale, rotation,
textured backgrounds of any hue and noise. A linear model on raw pixels gets part of the
way; HOG + hue together do clearly better, and the learned templates show colored blobs in
the middle of the picture. Everything is vectorized NumPy from one seeded generator:
the same arguments always give the same pixels (about 0.2 s for 500 + 100 per class).
"""

from __future__ import annotations

import numpy as np

from linviz.data.dataset import Dataset, Split

DEMO_CLASSES = ["disk", "cross", "square", "ring", "triangle", "bars"]
# Base hue (0..1) of each class: two classes share each color family.
_CLASS_HUE = {"disk": 0.02, "cross": 0.02, "square": 0.61, "ring": 0.61, "triangle": 0.31, "bars": 0.31}


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorized HSV (each in 0..1, any shape) -> RGB float32 in 0..1, last axis 3."""
    h = np.mod(h, 1.0) * 6.0
    i = np.floor(h).astype(np.int32) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1).astype(np.float32)


def _signed_distance(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Approximate distance to the shape's edge in shape units (negative inside)."""
    au, av = np.abs(u), np.abs(v)
    if shape == "disk":
        return np.sqrt(u * u + v * v) - 1.0
    if shape == "ring":
        radius = np.sqrt(u * u + v * v)
        return np.abs(radius - 0.78) - 0.24
    if shape == "square":
        return np.maximum(au, av) - 0.8
    if shape == "cross":
        return np.minimum(np.maximum(au - 0.28, av - 1.0), np.maximum(av - 0.28, au - 1.0))
    if shape == "triangle":
        # equilateral triangle pointing up (v grows downwards, so the apex is at v = -1)
        return np.maximum(v - 0.55, (np.sqrt(3.0) * au - v - 0.9) / 2.0)
    if shape == "bars":
        outside = np.maximum(au, av) - 0.95
        stripe = np.abs(np.mod(v + 0.95, 0.76) - 0.38) - 0.19  # three bars and two gaps
        return np.maximum(outside, stripe)
    raise ValueError(shape)


def _render(labels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    n = len(labels)
    scale = size / 32.0
    coords = (np.arange(size, dtype=np.float32) + 0.5) / scale
    ys, xs = np.meshgrid(coords, coords, indexing="ij")

    # Background: a hue of its own, a soft gradient, blotchy low-frequency texture.
    bg_h = rng.random(n, dtype=np.float32)[:, None, None]
    bg_s = rng.uniform(0.05, 0.45, n).astype(np.float32)[:, None, None]
    angle = rng.uniform(0, 2 * np.pi, n).astype(np.float32)[:, None, None]
    ramp = (np.cos(angle) * xs + np.sin(angle) * ys) / 32.0 - 0.5
    grid = rng.random((n, 5, 5), dtype=np.float32)
    cell = np.minimum((coords * 4.0 / 32.0).astype(np.int64), 3)
    frac = (coords * 4.0 / 32.0 - cell).astype(np.float32)
    # bilinear upsampling of the 5x5 grid to size x size
    g00 = grid[:, cell][:, :, cell]
    g01 = grid[:, cell][:, :, cell + 1]
    g10 = grid[:, cell + 1][:, :, cell]
    g11 = grid[:, cell + 1][:, :, cell + 1]
    fy, fx = frac[None, :, None], frac[None, None, :]
    blotch = (g00 * (1 - fy) * (1 - fx) + g01 * (1 - fy) * fx + g10 * fy * (1 - fx) + g11 * fy * fx) - 0.5
    bg_v = np.clip(rng.uniform(0.35, 0.85, n).astype(np.float32)[:, None, None] + 0.35 * ramp + 0.35 * blotch, 0, 1)
    # HSV -> RGB is linear in V: one color per image, scaled by the brightness map.
    bg_color = _hsv_to_rgb(bg_h[:, 0, 0], bg_s[:, 0, 0], np.ones(n, np.float32))
    image = bg_v[..., None] * bg_color[:, None, None, :]

    # Foreground: position, scale, rotation and color jitter per image.
    cx = rng.uniform(10, 22, n).astype(np.float32)[:, None, None]
    cy = rng.uniform(10, 22, n).astype(np.float32)[:, None, None]
    radius = rng.uniform(6.0, 11.0, n).astype(np.float32)[:, None, None]
    theta = rng.uniform(-0.6, 0.6, n).astype(np.float32)[:, None, None]
    dx, dy = (xs - cx) / radius, (ys - cy) / radius
    u = np.cos(theta) * dx + np.sin(theta) * dy
    v = -np.sin(theta) * dx + np.cos(theta) * dy
    base_hue = np.array([_CLASS_HUE[c] for c in DEMO_CLASSES], np.float32)[labels]
    fg_h = (base_hue + rng.normal(0, 0.035, n)).astype(np.float32)
    fg_s = rng.uniform(0.55, 1.0, n).astype(np.float32)
    fg_v = rng.uniform(0.55, 1.0, n).astype(np.float32)
    color = _hsv_to_rgb(fg_h, fg_s, fg_v)[:, None, None, :]
    alpha = np.zeros((n, size, size), np.float32)
    for k, shape in enumerate(DEMO_CLASSES):
        members = np.flatnonzero(labels == k)
        if len(members):
            distance = _signed_distance(shape, u[members], v[members]) * radius[members] * scale
            alpha[members] = np.clip(0.5 - distance, 0.0, 1.0)
    alpha = alpha[..., None]
    image = image * (1 - alpha) + color * alpha
    image += 0.03 * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def make_demo_dataset(
    *, n_train_per_class: int = 500, n_test_per_class: int = 100, seed: int = 0, image_size: int = 32
) -> Dataset:
    """The demo set: ``len(DEMO_CLASSES)`` classes, deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    n_classes = len(DEMO_CLASSES)
    splits = []
    for per_class in (n_train_per_class, n_test_per_class):
        labels = np.repeat(np.arange(n_classes, dtype=np.int64), per_class)
        labels = labels[rng.permutation(len(labels))]
        splits.append(Split(_render(labels, rng, image_size), labels))
    return Dataset(
        class_names=list(DEMO_CLASSES),
        train=splits[0],
        test=splits[1] if n_test_per_class > 0 else None,
        skipped=[],
        source="demo",
    )
