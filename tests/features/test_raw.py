"""Raw pixels: scale, order, grayscale, downscaling."""

import numpy as np

from linviz.features import raw_pixels, rgb_to_gray


def test_raw_pixels_keep_image_order_in_unit_range(real_images):
    x = raw_pixels(real_images)
    assert x.dtype == np.float32 and x.shape == (len(real_images), 32 * 32 * 3)
    np.testing.assert_allclose(x, real_images.reshape(len(real_images), -1) / 255.0, atol=1e-7)


def test_grayscale_and_size(real_images):
    g = raw_pixels(real_images, grayscale=True)
    np.testing.assert_allclose(g, rgb_to_gray(real_images).reshape(len(real_images), -1) / 255.0, atol=1e-6)
    small = raw_pixels(real_images, size=8)
    assert small.shape == (len(real_images), 8 * 8 * 3)
    ref = real_images.reshape(-1, 8, 4, 8, 4, 3).mean(axis=(2, 4)) / 255.0
    np.testing.assert_allclose(small, ref.reshape(len(real_images), -1), atol=1e-6)
    assert raw_pixels(real_images, grayscale=True, size=16).shape == (len(real_images), 256)


def test_single_image(real_images):
    np.testing.assert_array_equal(raw_pixels(real_images[3]), raw_pixels(real_images)[3:4])
