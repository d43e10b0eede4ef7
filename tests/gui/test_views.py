"""The live views take plain numpy arrays: fed here with synthetic data, no training."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.gui.pictures import MosaicLayout, diverging_rgb, mosaic


def test_mosaic_layout_maps_pixels_back_to_tiles():
    tiles = np.arange(7 * 4 * 4 * 3, dtype=np.uint8).reshape(7, 4, 4, 3)
    picture, layout = mosaic(tiles, cols=3, gap=2)
    assert picture.shape == (3 * 6 + 2, 3 * 6 + 2, 3) and picture.flags.c_contiguous
    y, x = layout.origin(1, 2)
    np.testing.assert_array_equal(picture[y:y + 4, x:x + 4], tiles[5])
    assert layout.cell_at(y + 1, x + 3) == (1, 2)
    assert layout.cell_at(0.5, 0.5) is None  # the outer gap
    wide = MosaicLayout(2, 2, 4, 4, gap=1, row_gap=5)
    assert wide.cell_at(wide.origin(1, 1)[0] + 1, wide.origin(1, 1)[1] + 1) == (1, 1)


def test_diverging_colormap_is_white_at_zero_and_signed():
    rgb = diverging_rgb(np.array([-1.0, 0.0, 1.0]))
    assert tuple(rgb[1]) == (247, 247, 247)
    assert rgb[0, 2] > rgb[0, 0] and rgb[2, 0] > rgb[2, 2]  # blue for negative, red for positive


def test_views_draw_synthetic_arrays(qtbot):
    from linviz.gui.views.accuracy_view import AccuracyView
    from linviz.gui.views.confusion_view import ConfusionView
    from linviz.gui.views.loss_view import LossView
    from linviz.gui.views.probabilities_view import ProbabilitiesView
    from linviz.gui.views.templates_view import TemplatesView

    names = ["cat", "dog", "automobile"]
    loss = LossView()
    qtbot.addWidget(loss)
    losses = np.linspace(2.3, 1.0, 500).astype(np.float32)
    loss.set_losses(losses, losses)
    loss.log_box.setChecked(True)
    assert loss.point_count == 500

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)
    accuracy.set_accuracies([0.3, 0.4], [0.28, 0.35])
    assert accuracy.point_count == 2

    probabilities = ProbabilitiesView()
    qtbot.addWidget(probabilities)
    probabilities.set_values(np.array([-1.5, 2.0, 0.25]), names, "scores", true_class=1)
    assert probabilities.kind == "scores" and "dog" in probabilities.caption.text()

    confusion = ConfusionView()
    qtbot.addWidget(confusion)
    clicked = []
    confusion.cellClicked.connect(lambda t, p: clicked.append((t, p)))
    confusion.set_counts(np.array([[5, 1, 0], [2, 3, 1], [0, 0, 6]]), names)
    assert "77.8%" in confusion.caption.text()

    templates = TemplatesView()
    qtbot.addWidget(templates)
    tiles = [np.full((64, 64, 3), 40 * k, np.uint8) for k in range(3)]
    templates.set_templates([("raw", tiles), ("hue", tiles)], names)
    assert templates.tile_count == 6
    image = templates.mosaic.image.image
    assert image.dtype == np.uint8 and image.ndim == 3


def test_template_pictures_for_every_block_kind():
    from linviz.features import FeaturePipeline
    from linviz.gui.template_pictures import template_rows

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
    pipeline = FeaturePipeline("raw,hog,hue:bins=10,layout:grid=4")
    pipeline.fit(pipeline.extract(images))
    W = rng.normal(size=(pipeline.dim + 1, 4)).astype(np.float32)
    rows = template_rows(W, pipeline)
    assert [name.split()[0] for name, _ in rows] == ["raw", "hog", "hue", "layout"]
    for _, tiles in rows:
        assert len(tiles) == 4 and all(t.shape == (64, 64, 3) and t.dtype == np.uint8 for t in tiles)


@pytest.mark.parametrize("value", [0.0, 1e-4, 0.5, 3.0])
def test_log_slider_round_trips(qtbot, value):
    from linviz.gui.log_slider import LogSlider

    slider = LogSlider(1e-6, 10.0, 1e-3, allow_zero=True)
    qtbot.addWidget(slider)
    slider.setValue(value)
    assert slider.value() == pytest.approx(value, rel=0.13)
