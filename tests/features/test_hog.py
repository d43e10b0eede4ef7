"""linviz.features.hog against scikit-image, the GIL, and input handling."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.features import BLOCK_NORMS, hog, hog_length, rgb_to_gray

skfeature = pytest.importorskip("skimage.feature")

TOL = 1e-4
# (orientations, pixels_per_cell, cells_per_block): several of each, incl. orientation
# counts whose bin edges fall on the exact 45/90 degree ties (4, 8, 12) and odd cells
GRID = [(9, 8, 1), (9, 8, 2), (9, 4, 2), (8, 5, 2), (4, 6, 3), (12, 3, 1), (7, 4, 3), (6, 7, 2)]


def _skimage(images, o, c, b, norm, **kw):
    return np.stack([skfeature.hog(img, o, (c, c), (b, b), norm, feature_vector=True, **kw) for img in images])


@pytest.mark.parametrize("norm", BLOCK_NORMS)
@pytest.mark.parametrize("o,c,b", GRID)
def test_gray_float32_equals_skimage(real_images, norm, o, c, b):
    gray = rgb_to_gray(real_images[:12])
    ours = hog(gray, o, c, b, norm)
    ref = _skimage(gray, o, c, b, norm)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("norm", BLOCK_NORMS)
def test_gray_float64_in_unit_range_equals_skimage(real_images, norm):
    gray = rgb_to_gray(real_images[:8]).astype(np.float64) / 255.0
    for o, c, b in [(9, 8, 2), (8, 4, 2), (4, 5, 1)]:
        np.testing.assert_allclose(hog(gray, o, c, b, norm), _skimage(gray, o, c, b, norm), atol=TOL, rtol=0)


# Orientation counts whose bin edges fall on 45 and 135 degrees, on images scaled k / 255 (what
# skimage.util.img_as_float makes of uint8): there a gradient with equal integer components
# comes out of the float64 differences a/255 - b/255 one rounding step off the diagonal, and
# must land in the bin NumPy's arctan2 gives it.
DIAGONAL_EDGES = [(4, 8, 1), (4, 6, 3), (4, 4, 2), (8, 8, 2), (8, 4, 2), (8, 5, 1), (12, 3, 1), (12, 4, 2),
                  (12, 8, 1)]


@pytest.mark.parametrize("norm", BLOCK_NORMS)
@pytest.mark.parametrize("o,c,b", DIAGONAL_EDGES)
def test_gray_float64_scaled_k_over_255_equals_skimage(real_images, norm, o, c, b):
    gray = np.round(rgb_to_gray(real_images[:12])).astype(np.uint8) / 255.0
    assert gray.dtype == np.float64
    np.testing.assert_allclose(hog(gray, o, c, b, norm), _skimage(gray, o, c, b, norm), atol=TOL, rtol=0)


@pytest.mark.parametrize("orientations", [4, 8, 12])
def test_float64_gradients_one_rounding_step_off_the_diagonal_bin_like_skimage(orientations):
    # 3x3 images, 1-pixel cells: the centre cell's histogram is the bin of one gradient, whose
    # row and column components are equal integer differences over 255 (+-, all quadrants).
    rng = np.random.default_rng(orientations)
    n = 3000
    d = rng.integers(1, 256, n)
    below = rng.integers(0, 256 - d)
    sign = rng.choice([-1, 1], n)
    left = rng.integers(np.maximum(0, -sign * d), np.minimum(256, 256 - sign * d))
    imgs = np.zeros((n, 3, 3))
    imgs[:, 2, 1], imgs[:, 0, 1] = (below + d) / 255, below / 255
    imgs[:, 1, 2], imgs[:, 1, 0] = (left + sign * d) / 255, left / 255
    g_row, g_col = imgs[:, 2, 1] - imgs[:, 0, 1], imgs[:, 1, 2] - imgs[:, 1, 0]
    assert np.mean(np.abs(g_row) != np.abs(g_col)) > 0.2  # many are off the diagonal by rounding
    ours = hog(imgs, orientations, 1, 1, "L1").reshape(n, 9, orientations)[:, 4]
    ref = _skimage(imgs, orientations, 1, 1, "L1").reshape(n, 9, orientations)[:, 4]
    np.testing.assert_array_equal(ours.argmax(1), ref.argmax(1))
    np.testing.assert_allclose(ours, ref, atol=TOL, rtol=0)


def test_float64_angles_at_the_ends_of_the_range_bin_like_skimage():
    # rad2deg(arctan2) spans [-180, 180] and "% 180" folds it: signed zeros give +-180 (bin
    # 0), and an angle a hair below 0 becomes 180 after rounding, which no bin holds.
    rows = [0.0, -0.0, 1e-20, -1e-20, 1.0, -1.0, 0.5]
    cols = [1.0, -1.0, 0.0, -0.0, 1e-20, -1e-20, 3.0, -3.0]
    pairs = [(r, c) for r in rows for c in cols]
    imgs = np.zeros((len(pairs), 3, 3))
    imgs[:, 2, 1] = [r for r, _ in pairs]  # minus +0.0 keeps the sign of a zero
    imgs[:, 1, 2] = [c for _, c in pairs]
    g_row, g_col = imgs[:, 2, 1] - imgs[:, 0, 1], imgs[:, 1, 2] - imgs[:, 1, 0]
    assert np.signbit(g_row).any() and np.signbit(g_col).any()
    for o in (4, 9, 12):
        ours = hog(imgs, o, 1, 1, "L1").reshape(len(imgs), 9, o)[:, 4]
        ref = _skimage(imgs, o, 1, 1, "L1").reshape(len(imgs), 9, o)[:, 4]
        assert ((ref.sum(1) == 0) & (np.hypot(g_row, g_col) > 0.5)).any()  # a strong gradient in no bin
        np.testing.assert_array_equal(ours > 0, ref > 0)
        np.testing.assert_allclose(ours, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("direction", [-np.inf, np.inf])
def test_float64_bins_follow_numpys_arctan2_whatever_its_last_bit(monkeypatch, direction):
    # NumPy's arctan2 is SIMD code on some CPUs and the C library's on others; they can
    # differ in the last bit. Stand in for "the other CPU" on any machine: an arctan2 one
    # step off in either direction, seen by scikit-image (its Cython calls np.arctan2 by
    # name) and by linviz alike. The bins must still agree, gradient for gradient.
    n = 3000
    rng = np.random.default_rng(5)
    d = rng.integers(1, 256, n)
    a = rng.integers(0, 256 - d)
    b = rng.integers(0, 256 - d)
    rising = rng.choice([False, True], n)
    imgs = np.zeros((n, 3, 3))
    imgs[:, 2, 1], imgs[:, 0, 1] = (a + d) / 255, a / 255
    imgs[:, 1, 2] = np.where(rising, b + d, b) / 255
    imgs[:, 1, 0] = np.where(rising, b, b + d) / 255

    def centre_bins(hists):
        return hists.reshape(n, 9, 4)[:, 4].argmax(1)

    # unpatched first; this also loads the kernels (Numba must never see the stand-in)
    np.testing.assert_array_equal(centre_bins(hog(imgs, 4, 1, 1, "L1")), centre_bins(_skimage(imgs, 4, 1, 1, "L1")))
    unpatched = centre_bins(_skimage(imgs, 4, 1, 1, "L1"))
    exact = np.arctan2
    monkeypatch.setattr(np, "arctan2", lambda y, x, out=None: np.nextafter(exact(y, x), direction, out=out))
    ref = centre_bins(_skimage(imgs, 4, 1, 1, "L1"))
    assert (ref != unpatched).any()  # the last bit decides some of these bins
    np.testing.assert_array_equal(centre_bins(hog(imgs, 4, 1, 1, "L1")), ref)


@pytest.mark.parametrize("norm", BLOCK_NORMS)
def test_sizes_not_divisible_by_the_cell(odd_sized_images, norm):
    for (h, w), images in odd_sized_images.items():
        gray = rgb_to_gray(images)
        for o, c, b in [(9, 8, 1), (9, 4, 2), (8, 5, 2), (6, 6, 3)]:
            if h // c < b or w // c < b:
                continue
            ours = hog(gray, o, c, b, norm)
            assert ours.shape[1] == hog_length((h, w), o, c, b)
            np.testing.assert_allclose(ours, _skimage(gray, o, c, b, norm), atol=TOL, rtol=0,
                                       err_msg=f"{h}x{w} {o},{c},{b}")


@pytest.mark.parametrize("norm", BLOCK_NORMS)
def test_rgb_is_luma_then_hog(real_images, norm):
    rgb = real_images[:10]
    np.testing.assert_allclose(
        hog(rgb, 9, 8, 2, norm), _skimage(rgb_to_gray(rgb), 9, 8, 2, norm), atol=TOL, rtol=0
    )


def test_luma_weights_are_bt601_not_the_course_typo():
    px = np.array([[[[10, 20, 30]]]], dtype=np.uint8)
    assert rgb_to_gray(px)[0, 0, 0] == pytest.approx(0.299 * 10 + 0.587 * 20 + 0.114 * 30, rel=1e-6)


@pytest.mark.parametrize("norm", BLOCK_NORMS)
def test_channel_max_equals_skimage_channel_axis(real_images, odd_sized_images, norm):
    for images in (real_images[:10], odd_sized_images[(37, 29)]):
        for o, c, b in [(9, 8, 1), (9, 4, 2), (8, 5, 2)]:
            ours = hog(images, o, c, b, norm, channel_max=True)
            ref = _skimage(images, o, c, b, norm, channel_axis=-1)
            np.testing.assert_allclose(ours, ref, atol=TOL, rtol=0)


def test_serial_and_parallel_paths_agree(real_images):
    many = np.concatenate([real_images] * 12)  # > one parallel task
    np.testing.assert_array_equal(hog(many, parallel=True), hog(many, parallel=False))
    np.testing.assert_array_equal(hog(many[5]), hog(many)[5:6])


def test_exact_ties_and_flat_images():
    # flat image: all gradients 0 -> all zeros (no NaN); pure 45/90/135-degree ramps
    flat = np.full((2, 16, 16), 0.5, dtype=np.float32)
    assert np.all(hog(flat, 8, 4, 2, "L2-Hys") == 0)
    yy, xx = np.mgrid[0:16, 0:16].astype(np.float32)
    for img in (xx + yy, xx - yy, yy, xx, -xx, -(xx + yy)):
        img = img[None].astype(np.float32)
        for o in (4, 8, 9):
            np.testing.assert_allclose(hog(img, o, 4, 1, "L1"), _skimage(img, o, 4, 1, "L1"), atol=TOL, rtol=0)


def test_bad_input_is_a_clear_error():
    with pytest.raises(LinvizError, match="too small"):
        hog(np.zeros((1, 10, 10), np.float32), pixels_per_cell=8, cells_per_block=2)
    with pytest.raises(LinvizError, match="block_norm"):
        hog(np.zeros((1, 16, 16), np.float32), block_norm="L3")
    with pytest.raises(LinvizError, match="shape"):
        hog(np.zeros((2, 3, 4, 5, 6), np.uint8))


def test_kernel_does_not_hold_the_gil(real_images):
    """A whole-dataset HOG in a worker thread must leave the main thread running."""
    big = np.ascontiguousarray(np.tile(real_images, (200, 1, 1, 1)))  # 4,800 images
    hog(big[:70], channel_max=True)  # compile / load from cache first
    done = threading.Event()
    elapsed = []

    def work():
        start = time.perf_counter()
        for _ in range(3):
            hog(big, 9, 4, 2, channel_max=True)
        elapsed.append(time.perf_counter() - start)
        done.set()

    thread = threading.Thread(target=work)
    ticks = 0
    thread.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    thread.join()
    # with the GIL held the main thread would get no tick at all until the end; a free
    # main thread ticks about once per millisecond (the bound is loose on purpose)
    assert ticks >= max(3, int(elapsed[0] * 1000 * 0.1)), (ticks, elapsed)


def test_unnormalized_cells_are_the_cell_histograms(real_images):
    """norm="none": the averaged cell histograms, which L1 per 1x1 block only rescales."""
    gray = rgb_to_gray(real_images[:12])
    cells = hog(gray, 9, 8, 1, "none")
    l1 = cells.reshape(12, -1, 9) / (cells.reshape(12, -1, 9).sum(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(l1.reshape(12, -1), _skimage(gray, 9, 8, 1, "L1"), atol=TOL, rtol=0)
    # magnitudes are kept: a flat image has no gradient, a bright edge a large one
    edge = np.zeros((1, 16, 16), np.float32)
    edge[:, :, 8:] = 100.0
    out = hog(edge, 9, 8, 1, "none").reshape(2, 2, 9)
    # columns 7 and 8 see a horizontal difference of 100 in every row: 16 pixels per cell
    # row pair... each cell (8x8) holds one such column -> 8 pixels * 100 / 64
    assert out[0, 0, 0] == pytest.approx(8 * 100 / 64)
    assert out[0, 1, 0] == pytest.approx(8 * 100 / 64)
    assert out[..., 1:].sum() == 0


def test_unnormalized_blocks_repeat_cells(real_images):
    gray = rgb_to_gray(real_images[:3])
    cells = hog(gray, 9, 8, 1, "none").reshape(3, 4, 4, 9)
    blocks = hog(gray, 9, 8, 2, "none").reshape(3, 3, 3, 2, 2, 9)
    np.testing.assert_array_equal(blocks[:, 1, 2, 1, 0], cells[:, 2, 2])


@pytest.mark.parametrize("norm", BLOCK_NORMS)
def test_rgb_luma_path_every_grid_and_odd_size(real_images, odd_sized_images, norm):
    # the uint8 RGB path has its own fused kernel (padded luma plane, flat gradient loop,
    # scattered votes): it must agree with scikit-image on the luma image everywhere
    for o, c, b in GRID:
        ours = hog(real_images[:6], o, c, b, norm)
        np.testing.assert_allclose(ours, _skimage(rgb_to_gray(real_images[:6]), o, c, b, norm), atol=TOL, rtol=0)
    for (h, w), images in odd_sized_images.items():
        for o, c, b in [(9, 8, 1), (9, 4, 2), (7, 5, 2)]:
            if h // c < b or w // c < b:
                continue
            np.testing.assert_allclose(hog(images[:4], o, c, b, norm), _skimage(rgb_to_gray(images[:4]), o, c, b, norm),
                                       atol=TOL, rtol=0, err_msg=f"{h}x{w} {o},{c},{b}")


def test_rgb_tiny_images_and_flat_regions():
    # 1- and 2-pixel-high images (mirrored pad rows fall back on the image itself), flat
    # regions (zero gradients) and pure horizontal / vertical / diagonal edges (exact ties)
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, size=(3, 2, 9, 3), dtype=np.uint8)
    np.testing.assert_allclose(hog(imgs, 9, 1, 1, "L1"), _skimage(rgb_to_gray(imgs), 9, 1, 1, "L1"), atol=TOL, rtol=0)
    one_row = rng.integers(0, 256, size=(2, 1, 7, 3), dtype=np.uint8)
    np.testing.assert_allclose(hog(one_row, 4, 1, 1, "L2"), _skimage(rgb_to_gray(one_row), 4, 1, 1, "L2"),
                               atol=TOL, rtol=0)
    yy, xx = np.mgrid[0:24, 0:24]
    pics = [np.zeros((24, 24)), (xx > 11) * 200.0, (yy > 11) * 200.0, (xx > yy) * 200.0, (xx + yy > 23) * 200.0]
    rgb = np.stack([np.repeat(p[..., None], 3, axis=2) for p in pics]).astype(np.uint8)
    for o in (4, 8, 9):
        np.testing.assert_allclose(hog(rgb, o, 4, 2, "L2-Hys"), _skimage(rgb_to_gray(rgb), o, 4, 2, "L2-Hys"),
                                   atol=TOL, rtol=0)


def test_hog_and_hue_in_place_equal_the_separate_functions(real_images):
    from linviz.features import hue_histogram
    from linviz.features.hog_descriptor import hog_and_hue

    many = np.concatenate([real_images] * 6)  # > one parallel task
    for o, c, b, bins in [(9, 8, 1, 10), (8, 4, 2, 7)]:
        length = hog_length(many.shape[1:3], o, c, b)
        out = np.full((len(many), 3 + length + bins), -1.0, np.float32)
        for parallel in (False, True):
            hog_and_hue(many, out, 3 + bins, 1, o, c, b, "L2-Hys", bins, parallel=parallel)
            np.testing.assert_array_equal(out[:, 3 + bins:], hog(many, o, c, b, "L2-Hys"))
            np.testing.assert_array_equal(out[:, 1:1 + bins], hue_histogram(many, bins))
            assert (out[:, 0] == -1).all() and (out[:, 1 + bins:3 + bins] == -1).all()
    with pytest.raises(ValueError):
        hog_and_hue(many, np.empty((len(many), 10), np.float32), 0, 0)
