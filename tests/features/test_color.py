"""Hue / saturation / value histograms and the color layout."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.features import color_layout, hue_histogram, saturation_histogram, value_histogram


def _solid(*rgb, size=8):
    return np.tile(np.array(rgb, dtype=np.uint8), (size, size, 1))


@pytest.mark.parametrize("fn", [hue_histogram, saturation_histogram, value_histogram])
def test_rows_sum_to_one(real_images, fn):
    for bins in (1, 7, 10, 36):
        h = fn(real_images, bins)
        assert h.dtype == np.float32 and h.shape == (len(real_images), bins)
        np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-5)
        assert np.all(h >= 0)


def test_known_colors_land_in_known_hue_bins():
    colors = {
        (255, 0, 0): 0,  # red, 0 deg
        (255, 255, 0): 1,  # yellow, 60
        (0, 255, 0): 3,  # green, 120
        (0, 255, 255): 5,  # cyan, 180
        (0, 0, 255): 6,  # blue, 240
        (255, 0, 255): 8,  # magenta, 300
        (255, 0, 40): 9,  # red with a little blue: ~351 deg wraps to the last bin
    }
    images = np.stack([_solid(*c) for c in colors])
    h = hue_histogram(images, 10)
    assert list(h.argmax(axis=1)) == list(colors.values())
    np.testing.assert_allclose(h.max(axis=1), 1.0)


def test_gray_pixels_do_not_vote_and_all_gray_is_uniform():
    gray = np.stack([_solid(v, v, v) for v in (0, 77, 255)])
    np.testing.assert_allclose(hue_histogram(gray, 10), 0.1)
    # half gray, half pure green: the gray half does not dilute the green bin
    img = _solid(128, 128, 128)
    img[:, :4] = (0, 200, 0)
    h = hue_histogram(img, 10)[0]
    assert h[3] == pytest.approx(1.0)
    # a faint tint weighs less than a strong color (chroma weighting)
    img = _solid(100, 100, 110)  # nearly gray, bluish
    img[:, :4] = (255, 0, 0)
    h = hue_histogram(img, 10)[0]
    assert h[0] == pytest.approx(255 / (255 + 10), rel=1e-5)


def test_hue_matches_colorsys_weighted_by_chroma(real_images):
    bins = 12
    ours = hue_histogram(real_images[:4], bins)
    for img, row in zip(real_images[:4], ours):
        ref = np.zeros(bins)
        for r, g, b in img.reshape(-1, 3).astype(float):
            hue, _, _ = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
            ref[min(int(hue * bins), bins - 1)] += max(r, g, b) - min(r, g, b)
        ref = ref / ref.sum() if ref.sum() else np.full(bins, 1 / bins)
        # float32 vs float64 may move a pixel sitting exactly on a bin edge
        np.testing.assert_allclose(row, ref, atol=5e-3)


def test_saturation_and_value_bins():
    images = np.stack([_solid(255, 0, 0), _solid(0, 0, 0), _solid(128, 64, 64), _solid(255, 255, 255)])
    s = saturation_histogram(images, 4)
    assert list(s.argmax(axis=1)) == [3, 0, 2, 0]  # saturation 1, 0 (black), 0.5, 0
    v = value_histogram(images, 4)
    assert list(v.argmax(axis=1)) == [3, 0, 2, 3]


def test_color_layout_is_an_area_average(real_images):
    lay = color_layout(real_images, 4)
    assert lay.shape == (len(real_images), 48)
    ref = real_images.reshape(-1, 4, 8, 4, 8, 3).mean(axis=(2, 4)) / 255.0
    np.testing.assert_allclose(lay, ref.reshape(len(real_images), -1), atol=1e-6)
    odd = np.ascontiguousarray(real_images[:3, :29, :31])
    lay = color_layout(odd, 3).reshape(3, 3, 3, 3)
    # cell (1, 2) covers rows 9..18 and columns 20..30 (i*H//g .. (i+1)*H//g)
    np.testing.assert_allclose(lay[:, 1, 2], odd[:, 9:19, 20:31].mean(axis=(1, 2)) / 255.0, atol=1e-6)


def test_single_image_equals_its_batch_row(real_images):
    many = np.concatenate([real_images] * 4)
    for fn in (hue_histogram, saturation_histogram, value_histogram, color_layout):
        np.testing.assert_array_equal(fn(many[30]), fn(many)[30:31])


def test_bad_input():
    with pytest.raises(LinvizError):
        hue_histogram(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(LinvizError):
        hue_histogram(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(LinvizError):
        color_layout(np.zeros((2, 8, 8, 3), np.uint8), 9)
