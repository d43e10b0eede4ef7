"""The gallery and the confusion matrix after training: cell clicks with feedback, marks,
tooltips, keyboard navigation, and every split browsable."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def trained(make_window, wait_idle):
    window = make_window("demo")
    window.training_panel.epochs_spin.setValue(2)
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.model is not None and not window.error_messages
    return window


def test_the_empty_confusion_matrix_shows_no_raw_axes(make_window, tmp_path):
    window = make_window(str(tmp_path / "loading-nothing"))  # a failing load: no data at first
    view = window.confusion_view
    view._on_data(None)
    item = view.plot.getPlotItem()
    assert not item.getAxis("left").isVisible() and not item.getAxis("bottom").isVisible()
    assert "train a model" in view.caption.text()
    view.set_classes(["cat", "dog"])  # classes known, nothing counted yet: still no axes
    assert not item.getAxis("left").isVisible()
    view.set_counts(np.array([[3, 1], [0, 4]]), ["cat", "dog"])
    assert item.getAxis("left").isVisible() and item.getAxis("bottom").isVisible()
    view.clear()
    assert not item.getAxis("left").isVisible()


def test_clicking_a_cell_shows_the_filter_highlights_the_cell_and_selects_an_image(trained):
    window = trained
    counts = window.confusion_view.counts
    off = counts - np.diag(np.diag(counts))
    t, p = (int(v) for v in np.unravel_index(np.argmax(off), counts.shape))
    window.confusion_view.cellClicked.emit(t, p)
    gallery = window.gallery_view
    assert gallery.split_box.currentText() == "validation"
    assert gallery.class_box.currentIndex() == t + 1 and gallery.predicted_box.currentIndex() == p + 1
    assert window.confusion_view.highlighted == (t, p) and window.confusion_view.highlight.isVisible()
    shown = gallery.shown_indices
    assert len(shown) == min(96, counts[t, p])
    selection = window.workbench.selection
    assert selection.split == "validation" and selection.index == int(shown[0])
    assert "predicted" in window.probabilities_view.caption.text() or window.probabilities_view.values.size
    # The filter changed in the boxes: the highlight goes.
    gallery.predicted_box.setCurrentIndex(0)
    assert window.confusion_view.highlighted is None
    tip = window.confusion_view.cell_text(t, p)
    assert f"{counts[t, p]:,} image" in tip and window.workbench.class_names[t] in tip


def test_thumbnails_are_marked_right_or_wrong_with_a_tooltip(trained, wait_quick):
    from linviz.gui.views.gallery_view import MARK, RIGHT, WRONG

    window = trained
    gallery = window.gallery_view
    gallery.split_box.setCurrentText("validation")
    picture = gallery.mosaic.image.image
    layout = gallery.mosaic.layout_info
    predictions = window.workbench.model.evaluation.val_predictions
    labels = window.workbench.data.val.labels
    for k in range(6):
        y, x = layout.origin(k // 12, k % 12)
        corner = picture[y, x + layout.tile_w - 1]
        index = gallery.shown_indices[k]
        expected = RIGHT if predictions[index] == labels[index] else WRONG
        assert tuple(corner) == tuple(expected)
        assert MARK > 0
    text = gallery._tile_text(0, 0)
    names = window.workbench.class_names
    assert f"predicted {names[predictions[gallery.shown_indices[0]]]}" in text
    # the train split is marked too (the page is scored), the test split only once scored
    gallery.split_box.setCurrentText("train")
    assert "predicted" in gallery._tile_text(0, 0)
    gallery.split_box.setCurrentText("test")
    assert "predicted" not in gallery._tile_text(0, 0)
    window.training_panel.test_button.click()
    wait_quick(window)
    assert "predicted" in gallery._tile_text(0, 0)


def test_keyboard_moves_the_selection_through_the_gallery(trained, qtbot):
    window = trained
    gallery = window.gallery_view
    gallery.split_box.setCurrentText("train")
    gallery.select("train", int(gallery.shown_indices[0]))
    qtbot.keyClick(gallery.mosaic, Qt.Key.Key_Right)
    assert window.workbench.selection.index == int(gallery.shown_indices[1])
    qtbot.keyClick(gallery.mosaic, Qt.Key.Key_Down)
    assert window.workbench.selection.index == int(gallery.shown_indices[13])
    qtbot.keyClick(gallery.mosaic, Qt.Key.Key_End)
    assert window.workbench.selection.index == int(gallery.shown_indices[95])
    qtbot.keyClick(gallery.mosaic, Qt.Key.Key_Right)  # past the page's end: the next page
    assert "page 2" in gallery.count_label.text()
    assert window.workbench.selection.index == int(gallery.shown_indices[0])
    qtbot.keyClick(gallery.mosaic, Qt.Key.Key_PageUp)
    assert "page 1" in gallery.count_label.text()


def test_every_split_can_be_browsed(make_window):
    window = make_window("demo")
    splits = [window.gallery_view.split_box.itemText(i) for i in range(window.gallery_view.split_box.count())]
    assert splits == ["train", "validation", "test"]
    window.gallery_view.split_box.setCurrentText("test")
    assert window.gallery_view.count_label.text().startswith("test:")


def test_confusion_row_labels_never_overlap(qtbot):
    from linviz.gui.views.confusion_view import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    counts = np.arange(100).reshape(10, 10)
    for width, height in ((175, 250), (300, 300), (500, 420)):
        view.resize(width, height)
        view.show()
        qtbot.wait(20)
        view.set_counts(counts, names)
        view.grab()
        ticks = view.plot.getPlotItem().getAxis("left")._tickLevels[0]
        box = view.plot.getPlotItem().getViewBox()
        row_px = box.mapViewToScene(pg_point(0, 1)).y() - box.mapViewToScene(pg_point(0, 0)).y()
        spacing_px = abs(row_px) * (ticks[1][0] - ticks[0][0])
        assert spacing_px >= 12, (width, height, spacing_px)
        with_names = any(not label.split()[0].isdigit() for _, label in ticks)
        assert with_names == (width >= 240), (width, ticks)


def test_few_classes_are_named_where_ten_are_numbered(qtbot):
    """The view of a 1024-pixel window: two classes (cats and dogs) keep their names on the rows,
    ten get numbers (with names their matrix would lose a third of its width)."""
    from linviz.gui.views.confusion_view import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(215, 260)
    view.show()
    qtbot.wait(20)
    for names, named in ((["cats", "dogs"], True), ([f"class {i}" for i in range(10)], False)):
        view.set_counts(np.ones((len(names), len(names)), int), names)
        view.grab()
        labels = [label for _, label in view.plot.getPlotItem().getAxis("left")._tickLevels[0]]
        assert all(not label.isdigit() for label in labels) == named, labels
    view.resize(900, 170)  # wide but low: the square matrix is as small, ten classes numbered
    qtbot.wait(20)
    view.grab()
    assert all(label.isdigit() for _, label in view.plot.getPlotItem().getAxis("left")._tickLevels[0])


def test_the_matrix_keeps_its_size_when_a_run_starts_or_ends(qtbot):
    """The caption reads one line before the first evaluation and two after it: the matrix
    below it was resized (laid out and drawn again) at the start and the end of every run."""
    from linviz.gui.views.confusion_view import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(337, 380)
    view.show()
    qtbot.wait(20)
    empty = view.plot.size()
    view.set_counts(np.arange(100).reshape(10, 10), [f"class {i}" for i in range(10)])
    qtbot.wait(20)
    assert view.plot.size() == empty
    view.clear()
    qtbot.wait(20)
    assert view.plot.size() == empty


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)
