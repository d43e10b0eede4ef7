"""HOG glyph pictures: shape, orientation, signs."""

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.features import hog, hog_cells, hog_glyphs


def test_shape_and_orientation_of_a_vertical_edge():
    img = np.zeros((1, 32, 32), np.float32)
    img[:, :, 16:] = 1.0  # vertical edge: horizontal gradient, bin 0 -> a near-vertical line
    v = hog(img)[0]
    pic = hog_glyphs(v, image_shape=(32, 32), orientations=9, pixels_per_cell=8, cells_per_block=1, glyph_size=15)
    assert pic.shape == (60, 60) and pic.dtype == np.float32
    tile = pic[0:15, 15:30]  # the cell with the edge
    assert tile.max() > 0
    rows, cols = np.nonzero(tile > 0.3)
    assert np.ptp(rows) > 3 * max(1, np.ptp(cols))  # tall, thin: vertical


def test_blocks_average_back_to_cells(real_images):
    v = hog(real_images[:1], 9, 8, 2, "L2")[0]
    cells = hog_cells(v, image_shape=(32, 32), orientations=9, pixels_per_cell=8, cells_per_block=2)
    assert cells.shape == (4, 4, 9)
    # the corner cell sits in exactly one block: its values are that block's
    np.testing.assert_allclose(cells[0, 0], v.reshape(3, 3, 2, 2, 9)[0, 0, 0, 0], rtol=1e-6)


def test_signed_templates():
    rng = np.random.default_rng(0)
    w = rng.normal(size=4 * 4 * 9).astype(np.float32)
    kw = dict(image_shape=(32, 32), orientations=9, pixels_per_cell=8, cells_per_block=1, glyph_size=9)
    both = hog_glyphs(w, **kw)
    pos = hog_glyphs(w, sign="positive", **kw)
    neg = hog_glyphs(w, sign="negative", **kw)
    assert both.min() < 0 < both.max()
    assert pos.min() >= 0 and neg.min() >= 0
    np.testing.assert_allclose(both, pos - neg, atol=1e-5)
    np.testing.assert_allclose(hog_glyphs(-w, **kw), -both, atol=1e-6)


def test_wrong_length_is_a_clear_error():
    with pytest.raises(LinvizError, match="144"):
        hog_glyphs(np.zeros(10), image_shape=(32, 32), orientations=9, pixels_per_cell=8, cells_per_block=1)
