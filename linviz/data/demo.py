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

from dataclasses import dataclass

import numpy as np

from linviz.data.dataset import Dataset, Split
from linviz.errors import DatasetError
from linviz.limits import format_bytes, memory_limit

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


@dataclass
class _Draws:
    """Everything random about a split's images but their noise, one entry per image (drawn
    for the whole split first, in one order, so that rendering in chunks changes nothing)."""

    labels: np.ndarray
    bg_h: np.ndarray
    bg_s: np.ndarray
    angle: np.ndarray
    grid: np.ndarray      # (n, 5, 5) background blotches
    cx: np.ndarray
    cy: np.ndarray
    radius: np.ndarray
    theta: np.ndarray
    fg_h: np.ndarray
    fg_s: np.ndarray
    fg_v: np.ndarray
    bg_v: np.ndarray

    def part(self, sl: slice) -> "_Draws":
        return _Draws(**{name: getattr(self, name)[sl] for name in self.__dataclass_fields__})


def _draw(labels: np.ndarray, rng: np.random.Generator) -> _Draws:
    n = len(labels)
    bg_h = rng.random(n, dtype=np.float32)
    bg_s = rng.uniform(0.05, 0.45, n).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    grid = rng.random((n, 5, 5), dtype=np.float32)
    bg_v = rng.uniform(0.35, 0.85, n).astype(np.float32)
    cx = rng.uniform(10, 22, n).astype(np.float32)
    cy = rng.uniform(10, 22, n).astype(np.float32)
    radius = rng.uniform(6.0, 11.0, n).astype(np.float32)
    theta = rng.uniform(-0.6, 0.6, n).astype(np.float32)
    base_hue = np.array([_CLASS_HUE[c] for c in DEMO_CLASSES], np.float32)[labels]
    fg_h = (base_hue + rng.normal(0, 0.035, n)).astype(np.float32)
    fg_s = rng.uniform(0.55, 1.0, n).astype(np.float32)
    fg_v = rng.uniform(0.55, 1.0, n).astype(np.float32)
    return _Draws(labels, bg_h, bg_s, angle, grid, cx, cy, radius, theta, fg_h, fg_s, fg_v, bg_v)


def _render(d: _Draws, noise: np.ndarray, size: int) -> np.ndarray:
    """The images of ``d`` (uint8, (n, size, size, 3)) with ``noise`` (float32, same shape)."""
    n = len(d.labels)
    scale = size / 32.0
    coords = (np.arange(size, dtype=np.float32) + 0.5) / scale
    ys, xs = np.meshgrid(coords, coords, indexing="ij")

    # Background: a hue of its own, a soft gradient, blotchy low-frequency texture.
    angle = d.angle[:, None, None]
    ramp = (np.cos(angle) * xs + np.sin(angle) * ys) / 32.0 - 0.5
    grid = d.grid
    cell = np.minimum((coords * 4.0 / 32.0).astype(np.int64), 3)
    frac = (coords * 4.0 / 32.0 - cell).astype(np.float32)
    # bilinear upsampling of the 5x5 grid to size x size
    g00 = grid[:, cell][:, :, cell]
    g01 = grid[:, cell][:, :, cell + 1]
    g10 = grid[:, cell + 1][:, :, cell]
    g11 = grid[:, cell + 1][:, :, cell + 1]
    fy, fx = frac[None, :, None], frac[None, None, :]
    blotch = (g00 * (1 - fy) * (1 - fx) + g01 * (1 - fy) * fx + g10 * fy * (1 - fx) + g11 * fy * fx) - 0.5
    bg_v = np.clip(d.bg_v[:, None, None] + 0.35 * ramp + 0.35 * blotch, 0, 1)
    # HSV -> RGB is linear in V: one color per image, scaled by the brightness map.
    bg_color = _hsv_to_rgb(d.bg_h, d.bg_s, np.ones(n, np.float32))
    image = bg_v[..., None] * bg_color[:, None, None, :]

    # Foreground: position, scale, rotation and color jitter per image.
    cx, cy = d.cx[:, None, None], d.cy[:, None, None]
    radius, theta = d.radius[:, None, None], d.theta[:, None, None]
    dx, dy = (xs - cx) / radius, (ys - cy) / radius
    u = np.cos(theta) * dx + np.sin(theta) * dy
    v = -np.sin(theta) * dx + np.cos(theta) * dy
    color = _hsv_to_rgb(d.fg_h, d.fg_s, d.fg_v)[:, None, None, :]
    alpha = np.zeros((n, size, size), np.float32)
    for k, shape in enumerate(DEMO_CLASSES):
        members = np.flatnonzero(d.labels == k)
        if len(members):
            distance = _signed_distance(shape, u[members], v[members]) * radius[members] * scale
            alpha[members] = np.clip(0.5 - distance, 0.0, 1.0)
    alpha = alpha[..., None]
    image = image * (1 - alpha) + color * alpha
    image += 0.03 * noise
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


#: Pixels rendered at once: the float32 temporaries of a chunk take about 130 bytes a pixel,
#: so ~70 MB whatever the image size (3600 images of 512 x 512 at once would take 120 GB).
_CHUNK_PIXELS = 1 << 19


def _render_split(labels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    draws = _draw(labels, rng)
    out = np.empty((len(labels), size, size, 3), np.uint8)
    step = max(1, _CHUNK_PIXELS // (size * size))
    for start in range(0, len(labels), step):
        part = slice(start, min(start + step, len(labels)))
        # The noise is drawn chunk by chunk, in order: the same numbers as one draw of the whole.
        noise = rng.standard_normal((part.stop - part.start, size, size, 3), dtype=np.float32)
        out[part] = _render(draws.part(part), noise, size)
    return out


def make_demo_dataset(
    *, n_train_per_class: int = 500, n_test_per_class: int = 100, seed: int = 0, image_size: int = 32
) -> Dataset:
    """The demo set: ``len(DEMO_CLASSES)`` classes, deterministic for a given ``seed``.

    Rendered a chunk of images at a time (bounded temporaries at any image size); a set whose
    images alone take more than :func:`linviz.limits.memory_limit` is refused (DatasetError
    with the figures) before anything is allocated.
    """
    n_classes = len(DEMO_CLASSES)
    n_images = n_classes * (int(n_train_per_class) + int(n_test_per_class))
    nbytes = n_images * image_size * image_size * 3
    if nbytes > memory_limit():
        raise DatasetError(f"demo: {n_images:,} images of {image_size}x{image_size} pixels take "
                           f"{format_bytes(nbytes)}, more than the {format_bytes(memory_limit())} allowed (half of "
                           "this machine's memory); choose a smaller image size")
    rng = np.random.default_rng(seed)
    splits = []
    for per_class in (n_train_per_class, n_test_per_class):
        labels = np.repeat(np.arange(n_classes, dtype=np.int64), per_class)
        labels = labels[rng.permutation(len(labels))]
        splits.append(Split(_render_split(labels, rng, image_size), labels))
    return Dataset(
        class_names=list(DEMO_CLASSES),
        train=splits[0],
        test=splits[1] if n_test_per_class > 0 else None,
        skipped=[],
        source="demo",
    )
