"""The live views take plain numpy arrays: fed here with synthetic data, no training."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from linviz.workbench.pictures import MosaicLayout, diverging_rgb, mosaic


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
    loss.set_losses(losses)
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


def _templates_shown(qtbot, names: list, width: int, height: int):
    """A TemplatesView of ``width`` x ``height`` on screen showing two blocks of ``names``'
    tiles; and the tiles."""
    from linviz.gui.views.templates_view import TemplatesView

    tiles = [np.full((32, 32, 3), 20 * k, np.uint8) for k in range(len(names))]
    templates = TemplatesView()
    qtbot.addWidget(templates)
    templates.resize(width, height)
    templates.show()
    qtbot.waitExposed(templates)
    templates.set_templates([("hog 8px", tiles), ("hue", tiles)], names)
    return templates, tiles


def test_many_classes_templates_go_in_two_bands_in_a_view_not_much_wider_than_high(qtbot):
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    templates, tiles = _templates_shown(qtbot, names, 360, 260)  # the Training tab's templates at 1024 x 700
    assert templates.tile_count == 20
    assert templates.mosaic.layout_info.rows == 5 and templates.mosaic.layout_info.cols == 5  # 2 bands, a blank row
    assert templates._tile_text(0, 1) == "automobile · hog 8px" and templates._tile_text(4, 4) == "truck · hue"
    assert templates._tile_text(2, 0) == ""  # between the bands: room for the names
    assert sorted(templates.class_labels.texts) == sorted(names) and templates.row_labels.texts.count("hue") == 2

    templates.set_templates([("hog 8px", tiles[:9]), ("hue", tiles[:9])], names)  # a name too many
    assert len(templates.class_labels.texts) == 9 and "truck" not in templates.class_labels.texts

    templates.resize(1400, 200)  # wide and low: one strip of ten columns shows bigger tiles
    templates.set_templates([("hog 8px", tiles), ("hue", tiles)], names)
    qtbot.waitUntil(lambda: templates.mosaic.layout_info.rows == 2)
    assert templates.mosaic.layout_info.cols == 10 and templates._tile_text(1, 9) == "truck · hue"


def test_template_names_alternate_lines_only_when_wider_than_a_tile_on_screen(qtbot):
    names = ["disk", "cross", "square", "ring", "triangle", "bars"]  # the demo set's classes
    templates, _ = _templates_shown(qtbot, names, 1100, 380)  # the Training tab's templates at 1920 x 1080
    ys = {round(y, 3) for y in templates.class_labels._ys}
    assert len(ys) == 1  # one line: "triangle" fits its tile

    templates.resize(300, 200)  # narrow: tiles of about 35 pixels, "triangle" is wider
    qtbot.waitUntil(lambda: len({round(y, 3) for y in templates.class_labels._ys}) == 2)
    assert sorted(templates.class_labels.texts) == sorted(names)

    templates.resize(1100, 380)  # and back
    qtbot.waitUntil(lambda: len({round(y, 3) for y in templates.class_labels._ys}) == 1)


def test_template_pictures_for_every_block_kind():
    from linviz.features import FeaturePipeline
    from linviz.workbench.template_pictures import template_rows

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
    from linviz.gui.widgets.log_slider import LogSlider

    slider = LogSlider(1e-6, 10.0, 1e-3, allow_zero=True)
    qtbot.addWidget(slider)
    slider.setValue(value)
    assert slider.value() == pytest.approx(value, rel=0.13)


@pytest.mark.parametrize("values, kind", [
    ([-0.60, -0.21, 0.11, -2.41, 0.46, 2.74], "scores"),
    ([-12.5, 3.0, 40.25, -0.5, 7.75, 1.0], "scores"),
    ([0.02, 0.9995, 0.0005, 0.0, 0.0, 0.0], "probabilities"),
    ([0.41, 0.29, 0.08, 0.06, 0.12, 0.04], "probabilities"),
])
def test_probability_and_score_labels_fit_in_the_plot(qtbot, values, kind):
    from PySide6.QtCore import QRectF

    from linviz.gui.views.probabilities_view import ProbabilitiesView

    names = ["disk", "cross", "square", "ring", "triangle", "bars"]
    view = ProbabilitiesView()
    qtbot.addWidget(view)
    view.resize(270, 360)
    view.show()
    qtbot.waitExposed(view)
    view.set_values(np.array(values), names, kind, true_class=5)
    item = view.plot.getPlotItem()

    def outside() -> list:
        """Labels not inside the plot area, once the layout has settled (slow under load)."""
        box = item.getViewBox().sceneBoundingRect()
        return [(text, rect, box) for text, rect in zip(view.value_labels.texts, view.value_labels.scene_rects())
                if not box.contains(QRectF(rect).adjusted(2, 2, -2, -2))]

    try:
        qtbot.waitUntil(lambda: not outside(), timeout=3000)
    finally:
        assert not outside(), outside()
    axis = item.getAxis("bottom")
    assert axis.label.boundingRect().width() <= axis.width()
    assert axis.autoSIPrefixScale == 1.0 and "x0.0" not in axis.labelString()  # ticks read 0.2, not 200 (x0.001)
    if kind == "scores":
        assert "score" in view.caption.text()
    # narrower plots still fit the labels (the range follows resizes)
    view.resize(200, 360)
    qtbot.wait(50)
    try:
        qtbot.waitUntil(lambda: not outside(), timeout=3000)
    finally:
        assert not outside(), outside()


def test_templates_caption_names_the_blocks_shown():
    from linviz.features import FeaturePipeline
    from linviz.workbench.template_pictures import templates_caption

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)

    def caption(spec):
        pipeline = FeaturePipeline(spec)
        pipeline.fit(pipeline.extract(images))
        return templates_caption(pipeline)

    hog_hue = caption("hog,hue:bins=10")
    assert "HOG" in hog_hue and "hue" in hog_hue
    assert "raw pixels" not in hog_hue and "layout" not in hog_hue and "stretched" not in hog_hue
    raw = caption("raw")
    assert "raw pixels" in raw and "stretched per class" in raw and "HOG" not in raw
    assert "color layout" in caption("hue:bins=12,layout:grid=4")


def test_skipped_files_are_named_once(tmp_path):
    from linviz.workbench.user_images import read_user_images, skipped_summary

    good = tmp_path / "good.jpg"
    Image.fromarray(np.full((40, 40, 3), 120, np.uint8)).save(good, quality=90)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(good.read_bytes()[:200])
    images, skipped = read_user_images([good, corrupt], 32)
    assert len(images) == 1 and len(skipped) == 1
    summary = skipped_summary(len(images), skipped)
    assert summary.count("corrupt.jpg") == 1, summary
    assert str(tmp_path) not in summary, summary


def test_dropped_image_captions_use_the_core_softmax():
    from linviz import workbench as session
    from linviz.workbench.user_images import top_classes_caption
    from linviz.models import softmax

    x = np.array([1.0, -2.0, 0.5], np.float32)
    W = np.array([[2.0, 0.1], [0.3, 0.4], [0.0, 1.0]], np.float32)
    p = softmax((x @ W)[None])[0]
    assert top_classes_caption(x, W, ["cat", "dog"], "softmax") == f"cat {p[0]:.0%}\ndog {p[1]:.0%}"
    assert not hasattr(session, "softmax")  # one softmax: linviz.models.softmax


def test_confusion_numbers_fit_their_cells_or_are_left_out(qtbot):
    """One painted item for all counts: readable when cells are big enough, hidden when not,
    and 100 classes add no graphics items (they froze the app for 17 s as 10,100 text items)."""
    from linviz.gui.views.confusion_view import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(420, 420)
    view.show()
    rng = np.random.default_rng(0)
    names = [f"class {i}" for i in range(10)]
    view.set_counts(rng.integers(0, 99, size=(10, 10)), names)
    items = len(view.plot.getPlotItem().getViewBox().addedItems)
    view.grab()
    assert view.numbers.drawn_px >= 7 and len(view.numbers.texts) > 80
    many = [f"c{i}" for i in range(100)]
    view.set_counts(rng.integers(0, 9999, size=(100, 100)), many)
    view.grab()
    assert view.numbers.drawn_px == 0  # 4-pixel cells: no numbers, no overlap
    assert len(view.plot.getPlotItem().getViewBox().addedItems) == items
    ticks = view.plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert len(ticks) <= 20


def test_a_fitting_axis_title_stays_centred_on_its_axis(qtbot):
    """The title chosen for a new width is placed for its own length (not left where a shorter
    one sat, running past the plot's right edge)."""
    import pyqtgraph as pg

    from linviz.gui.views.plot_style import fitting_title

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    item = widget.getPlotItem()
    fitting_title(item, "bottom", "log10 of the relative error (zeros at the left)",
                  "log10 of the rel. error (zeros at left)", "log10 rel. error")
    widget.show()
    axis = item.getAxis("bottom")
    for width in (700, 300, 200, 300, 700):
        widget.resize(width, 200)
        qtbot.wait(20)
        label = axis.label
        room = axis.width()
        shown = label.boundingRect().width()
        if not label.isVisible():
            continue
        assert shown <= room, (width, label.toPlainText())
        assert abs(label.pos().x() - (room - shown) / 2) <= 1, (width, label.toPlainText(), label.pos().x())


def test_pictures_are_shown_with_their_own_bytes_as_colors(qtbot):
    """A mosaic's uint8 picture reaches Qt as it is: no levels (pyqtgraph would rescale a copy
    of every pixel at every change for the same colors), and the painted colors are exact."""
    from linviz.gui.views.mosaic_view import MosaicView

    view = MosaicView()
    qtbot.addWidget(view)
    picture = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    view.set_mosaic(picture, MosaicLayout(rows=1, cols=1, tile_h=24, tile_w=40, gap=0))
    assert view.image.levels is None
    view.image.render()
    qimage = view.image.qimage
    assert (qimage.width(), qimage.height()) == (40, 24)
    for y, x in ((0, 0), (5, 17), (23, 39)):
        color = qimage.pixelColor(x, y)
        assert (color.red(), color.green(), color.blue()) == tuple(int(v) for v in picture[y, x])
    from linviz.gui.views.plot_style import show_colors

    with pytest.raises(TypeError, match="uint8"):
        show_colors(view.image, picture.astype(np.float32))


def test_the_value_axis_is_set_up_once_per_kind_and_hidden_without_values(qtbot):
    """Probabilities, then SVM scores, then nothing, then probabilities: the axis says what the
    bars are; redrawing the same kind leaves the axis's tick layout alone."""
    from linviz.gui.views.probabilities_view import ProbabilitiesView

    view = ProbabilitiesView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    axis = view.plot.getPlotItem().getAxis("bottom")
    names = ["cat", "dog", "ship"]
    view.set_values(np.array([0.2, 0.7, 0.1]), names, "probabilities")
    assert axis.isVisible() and axis.labelText == "probability"
    qtbot.waitUntil(lambda: axis.picture is not None, timeout=5000)  # painted: its ticks laid out
    view.set_values(np.array([0.3, 0.6, 0.1]), names, "probabilities")
    assert axis.picture is not None  # the same kind: no new tick layout
    view.set_values(np.array([1.5, -0.5, 0.2]), names, "scores")
    assert axis.labelText == "SVM score"
    view.clear()
    assert not axis.isVisible()
    view.set_values(np.array([0.2, 0.7, 0.1]), names, "probabilities")
    assert axis.isVisible() and axis.labelText == "probability"


def test_count_axes_read_short_whole_numbers():
    from linviz.text import count_text

    assert [count_text(v) for v in (0, 500, 2500, 10_000, 200_000, 1e6, 1.5e6, 12_345_678)] == \
        ["0", "500", "2,500", "10k", "200k", "1M", "1.5M", "12.3M"]
