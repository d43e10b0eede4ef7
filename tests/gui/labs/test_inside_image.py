"""The "Inside one image" lab: its numbers are W^T x, its maps add up to the score, Δ edits
recompute the margins, and it computes nothing while hidden."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.workbench import Selection


def lab_of(window):
    from linviz.gui.labs.inside_image import InsideImageLab

    return next(lab for lab in window.labs if isinstance(lab, InsideImageLab))


def train_demo(window, wait_idle, loss="softmax", spec="hog+hue"):
    panel = window.training_panel
    panel.loss_box.setCurrentIndex(panel.loss_box.findData(loss))
    panel.epochs_spin.setValue(3)
    panel.batch_spin.setValue(100)
    window.features_panel.set_spec_text(spec)
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.model is not None, window.error_messages


def show_lab(window, wait_quick):
    lab = lab_of(window)
    window.view_tabs.setCurrentWidget(lab)
    window.show()
    wait_quick(window)
    return lab


def table_column(lab, column: int) -> np.ndarray:
    return np.array([float(lab.table.item(r, column).text()) for r in range(lab.table.rowCount())])


def test_the_score_table_is_w_transpose_x_and_the_maps_sum_to_the_scores(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle, "softmax", "raw:size=16,hog:cell=8:block=2,hue,layout")
    window.workbench.select(Selection("validation", 7))
    lab = show_lab(window, wait_quick)
    model = window.workbench.model
    x = window.workbench.features.X_val[7].astype(np.float64)
    scores = x @ model.W.astype(np.float64)  # computed here, independently of the lab
    np.testing.assert_allclose(table_column(lab, 1), scores, atol=1e-3)
    p = np.exp(scores - scores.max())
    p /= p.sum()
    np.testing.assert_allclose(table_column(lab, 3), p, atol=1e-4)
    true = int(window.workbench.data.val.labels[7])
    assert lab.table.item(true, 0).text().endswith("(true)")
    top = int(np.argmax(scores))
    others = [lab.table.item(j, 0).text() for j in range(len(scores)) if j != true]
    assert [t for t in others if "(top)" in t] == ([] if top == true else [lab.table.item(top, 0).text()])
    assert lab.result.breakdown.data_loss == pytest.approx(-np.log(p[true]), abs=1e-6)
    for _, ev in lab.result.rows:
        maps = sum(float(b.values.sum()) for b in ev.blocks)
        assert maps + ev.bias == pytest.approx(ev.score, abs=1e-9)
    top = int(np.argmax(scores))
    assert lab.result.rows[0][1].score == pytest.approx(scores[top], abs=1e-9)
    assert "validation split" in lab.totals.text() and "Regularization" in lab.totals.text()
    assert lab.mosaic.image.image is not None


def test_delta_edits_recompute_the_margins_not_the_model(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle, "svm")
    window.workbench.select(Selection("validation", 3))
    lab = show_lab(window, wait_quick)
    W = window.workbench.model.W
    scores = window.workbench.features.X_val[3].astype(np.float64) @ W.astype(np.float64)
    y = int(window.workbench.data.val.labels[3])
    for delta in (1.0, 4.0):
        lab.delta_spin.setValue(delta)
        wait_quick(window)
        margins = [float(lab.table.item(j, 2).text()) if j != y else np.nan for j in range(len(scores))]
        expected = scores - scores[y] + delta
        expected[y] = np.nan
        np.testing.assert_allclose(margins, expected, atol=2e-3)
        hinge = np.maximum(expected, 0)
        assert lab.result.breakdown.data_loss == pytest.approx(np.nansum(hinge), abs=1e-9)
    assert window.workbench.model.W is W


def test_a_dropped_image_takes_the_top_class_as_assumed_true(make_window, wait_idle, wait_quick, drop_paths, tmp_path):
    from PIL import Image

    window = make_window("demo")
    train_demo(window, wait_idle)
    path = tmp_path / "mine.png"
    Image.fromarray(window.workbench.data.val.images[0]).save(path)
    drop_paths(window, [path])
    lab = show_lab(window, wait_quick)
    assert lab.true_box.isEnabled()
    top = lab.result.breakdown.predicted_class
    assert lab.result.assumed and lab.result.breakdown.true_class == top
    assert "(assumed)" in lab.table.item(top, 0).text()
    other = (top + 1) % len(window.workbench.class_names)
    lab.true_box.setCurrentIndex(other + 1)
    lab.true_box.activated.emit(other + 1)
    wait_quick(window)
    assert lab.result.breakdown.true_class == other and not lab.result.assumed


def test_a_dropped_image_never_takes_the_previous_images_class(make_window, wait_idle, wait_quick, drop_paths,
                                                                 tmp_path):
    # a labelled gallery image first (its class shown as true), then a dropped-in image: it has
    # no label, so the top class is assumed and said to be, until the user picks one
    from PIL import Image

    window = make_window("demo")
    train_demo(window, wait_idle)
    data, features, W = window.workbench.data, window.workbench.features, window.workbench.model.W
    top = int(np.argmax(features.X_val[0] @ W))  # the dropped copy of validation image 0 (PNG: same pixels)
    other = int(np.flatnonzero(data.val.labels != top)[0])
    window.gallery_view.select("validation", other)
    lab = show_lab(window, wait_quick)
    gallery_class = int(data.val.labels[other])
    assert lab.result.breakdown.true_class == gallery_class and not lab.result.assumed
    assert lab.true_box.currentData() == gallery_class and not lab.true_box.isEnabled()
    for k in range(2):
        path = tmp_path / f"mine{k}.png"
        Image.fromarray(data.val.images[0]).save(path)
        drop_paths(window, [path])
        wait_quick(window)
        assert window.workbench.selection.split == "yours"
        b = lab.result.breakdown
        assert lab.result.assumed and b.true_class == top != gallery_class
        assert lab.true_box.isEnabled() and lab.true_box.currentData() is None  # "top class (assumed)"
        assert "(assumed)" in lab.caption.text() and "(assumed)" in lab.table.item(top, 0).text()
        # the user picks a class: it is used, and no longer called assumed
        lab.true_box.setCurrentIndex(gallery_class + 1)
        lab.true_box.activated.emit(gallery_class + 1)
        wait_quick(window)
        assert lab.result.breakdown.true_class == gallery_class and not lab.result.assumed
        assert "(assumed)" not in lab.caption.text()
        window.gallery_view.select("validation", other)  # back to a labelled image, then the next drop
        wait_quick(window)


def test_without_a_model_it_says_what_to_do_and_hidden_it_computes_nothing(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    lab = show_lab(window, wait_quick)
    assert "train a model" in lab.caption.text()
    window.view_tabs.setCurrentIndex(0)  # the training view: the lab is hidden
    done = window.job_runner.quick.completed
    train_demo(window, wait_idle)
    window.workbench.select(Selection("validation", 1))
    wait_quick(window)
    assert window.job_runner.quick.completed == done
    window.view_tabs.setCurrentWidget(lab)
    wait_quick(window)
    assert window.job_runner.quick.completed == done + 1 and lab.table.rowCount() == 6


def test_the_lecture_example_shows_the_lectures_picture_and_numbers_and_nothing_stale(make_window, wait_idle,
                                                                                      wait_quick):
    """After an image was shown, the lecture example leaves none of it: no bar of the image's
    rows, no class box reading the image's class; the 2 x 2 image, W, x, b and the scores, and
    the cat / car / frog SVM losses 2.9, 0 and 12.9 beside them."""
    window = make_window("demo")
    train_demo(window, wait_idle, "svm")
    window.workbench.select(Selection("validation", 2))
    lab = show_lab(window, wait_quick)
    assert lab.result is not None
    lab.lecture_button.setChecked(True)
    wait_quick(window)
    page = lab.lecture_page
    assert page.isVisible() and not lab.splitter.isVisible()
    scores = np.array([float(page.table.item(r, 1).text()) for r in range(page.table.rowCount())])
    np.testing.assert_allclose(scores, [-96.8, 437.9, 60.75], atol=1e-9)
    assert "61.95" in page.image_note.text()
    equation = page.equation.text()
    for number in ("56", "231", "24", "0.2", "-0.5", "2.1", "-0.3", "1.1", "3.2", "-1.2", "437.9", "60.75"):
        assert f">{number}<" in equation or f"<b>{number}</b>" in equation, number
    svm = page.svm.text()
    assert all(f"<b>{v}</b>" in svm for v in ("2.9", "0", "12.9")) and "5.27" in page.svm_note.text()
    assert not lab.true_box.isVisible() and not lab.compare_box.isVisible() and lab.delta_spin.isVisible()
    assert lab.bar_item.opts["width"] == [] and lab.result is None
    lab.delta_spin.setValue(2.0)  # Δ recomputes the lecture's SVM example
    wait_quick(window)
    assert "Δ = 2" in page.svm_note.text()
    lab.lecture_button.setChecked(False)
    wait_quick(window)
    assert lab.result is not None and lab.true_box.isVisible() and lab.table.rowCount() == 6


def test_the_lecture_example_says_whose_loss_it_computes(make_window, wait_idle, wait_quick):
    """Untrained, the example is the lecture's SVM while the side panel may say softmax: the
    caption says which (it said "the current model's loss" with no model)."""
    window = make_window("demo")
    lab = show_lab(window, wait_quick)
    lab.lecture_button.setChecked(True)
    wait_quick(window)
    assert "the lecture's SVM loss: no model is trained yet" in lab.caption.text()
    lab.lecture_button.setChecked(False)
    train_demo(window, wait_idle, "softmax")
    lab.lecture_button.setChecked(True)
    wait_quick(window)
    assert "with the current model's loss" in lab.caption.text()


def test_an_answer_for_a_model_that_is_gone_is_never_shown(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle)
    window.workbench.select(Selection("validation", 2))
    lab = show_lab(window, wait_quick)
    window.workbench.select(Selection("validation", 4))  # a request is on its way...
    window.workbench.clear_model()  # ...and its model goes before the answer arrives
    wait_quick(window)
    assert lab.result is None and lab.table.rowCount() == 0
    assert "train a model" in lab.caption.text()
    assert not window.error_messages, window.error_messages


def test_the_shares_are_against_the_average_training_image_unless_asked(make_window, wait_idle, wait_quick):
    """By default each block's bar is what it adds to the average training image's score (the
    gray part, w_y's bias: standardized features are 0 at the training mean); the folded-in
    form is one choice away, and the captions say which is shown."""
    from linviz.explore.evidence import ABSENT, AVERAGE_IMAGE

    window = make_window("demo")
    train_demo(window, wait_idle, "softmax", "hog:cell=8:block=2,hue,layout")
    window.workbench.select(Selection("validation", 5))
    lab = show_lab(window, wait_quick)
    assert lab.relative_box.currentData() == AVERAGE_IMAGE
    W = window.workbench.model.W.astype(np.float64)
    top = lab.result.breakdown.predicted_class
    ev = lab.result.rows[0][1]
    assert ev.bias == pytest.approx(W[-1, top], abs=1e-9)
    assert ev.bias + sum(b.total for b in ev.blocks) == pytest.approx(ev.score, abs=1e-9)
    assert "average training image" in lab.bars_caption.text() and "average" in lab.evidence_caption.text()
    assert "the average image's score" in lab.legend.text()
    lab.relative_box.setCurrentIndex(lab.relative_box.findData(ABSENT))
    lab.relative_box.activated.emit(lab.relative_box.currentIndex())
    wait_quick(window)
    folded = lab.result.rows[0][1]
    assert folded.score == pytest.approx(ev.score, abs=1e-9) and folded.bias != pytest.approx(ev.bias)
    assert "absent feature" in lab.bars_caption.text() and "folded in" in lab.legend.text()


def test_comparing_with_the_top_class_compares_with_the_runner_up(make_window, wait_idle, wait_quick):
    """A leftover "Compare with" choice that is this image's top class would give "horse −
    horse (+0.00)": the runner-up is compared instead, and the caption says why."""
    window = make_window("demo")
    train_demo(window, wait_idle)
    window.workbench.select(Selection("validation", 3))
    lab = show_lab(window, wait_quick)
    top = lab.result.breakdown.predicted_class
    lab.compare_box.setCurrentIndex(top + 1)
    lab.compare_box.activated.emit(top + 1)
    wait_quick(window)
    names = window.workbench.class_names
    scores = lab.result.breakdown.scores
    runner_up = int(np.argsort(scores)[-2])
    assert lab.result.rows[2][0] == f"compared: {names[runner_up]}"
    assert lab.result.rows[3][0] == f"{names[top]} − {names[runner_up]}"
    assert "runner-up" in lab.caption.text()


def test_the_evidence_maps_grow_with_the_window(make_window, wait_idle, wait_quick, qtbot):
    """At 1920 x 1080 the tiles are drawn at least twice as large as at 1024 x 700 (they stayed
    about 50 pixels wide), rows going side by side when the view is wide."""
    window = make_window("demo")
    train_demo(window, wait_idle)
    window.workbench.select(Selection("validation", 3))
    lab = show_lab(window, wait_quick)
    sizes = {}
    for size in ((1024, 700), (1920, 1080)):
        window.resize(*size)
        qtbot.wait(100)
        wait_quick(window)
        px, _ = lab.mosaic.viewbox.viewPixelSize()
        sizes[size] = 64 / px  # a tile's width on screen
    assert sizes[(1024, 700)] >= 36, sizes
    assert sizes[(1920, 1080)] >= 2 * sizes[(1024, 700)] - 1, sizes


def test_the_lecture_example_is_drawn_larger_on_a_wide_window(make_window, wait_idle, wait_quick, qtbot):
    """At 1920 x 1080 the lecture's picture, its numbers and the table's rows are larger than at
    1024 x 700 (the page filled a quarter of the screen), and the table still shows every row."""
    window = make_window("demo")
    train_demo(window, wait_idle, "svm")
    lab = show_lab(window, wait_quick)
    lab.lecture_button.setChecked(True)
    page = lab.lecture_page
    drawn = {}
    for size in ((1024, 700), (1920, 1080)):
        window.resize(*size)
        qtbot.wait(100)
        wait_quick(window)
        table = page.table
        assert not table.verticalScrollBar().isVisible(), size
        drawn[size] = (page.picture.pixmap().width(), page.equation.sizeHint().width(), table.rowHeight(0))
    small, large = drawn[(1024, 700)], drawn[(1920, 1080)]
    assert all(b >= 1.3 * a for a, b in zip(small, large)), drawn


def test_previous_next_and_the_gallery_change_the_image_without_leaving_the_lab(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle)
    window.workbench.select(Selection("validation", 3))
    lab = show_lab(window, wait_quick)
    lab.picker.next_button.click()
    wait_quick(window)
    assert window.workbench.selection == Selection("validation", 4) and "validation image 4" in lab.caption.text()
    lab.picker.previous_button.click()
    wait_quick(window)
    assert window.workbench.selection == Selection("validation", 3)
    lab.picker.open_gallery()
    gallery = lab.picker.gallery
    assert lab.picker.dialog.isVisible() and len(gallery.shown_indices)
    gallery.split_box.setCurrentText("validation")
    index = int(gallery.shown_indices[5])
    gallery._on_tile_clicked(0, 5)
    wait_quick(window)
    assert window.workbench.selection == Selection("validation", index)
    assert window.view_tabs.currentWidget() is lab and f"validation image {index}" in lab.caption.text()
    lab.picker.dialog.hide()


def test_the_score_table_shows_every_class_without_scrolling(make_window, wait_idle, wait_quick, qtbot):
    """Sized for its rows before the first result gave it columns, it was one header short."""
    window = make_window("demo")
    train_demo(window, wait_idle, "softmax")
    window.resize(1920, 1080)
    lab = show_lab(window, wait_quick)
    qtbot.wait(100)
    wait_quick(window)
    table = lab.table
    assert table.rowCount() == len(window.workbench.class_names)
    assert not table.verticalScrollBar().isVisible()
    assert table.viewport().height() >= table.rowCount() * table.rowHeight(0)


def test_the_legend_says_when_the_gray_part_is_too_thin_to_see():
    """When the average image scores near 0 in every row, the legend names the gray part's size
    instead of leaving a student looking for a color that is not drawn."""
    from types import SimpleNamespace

    from linviz.gui.labs.inside_image import _thin_part_note

    def row(bias, *blocks):
        parts = [SimpleNamespace(total=t) for t in blocks]
        return "row", SimpleNamespace(blocks=parts, bias=bias, score=bias + sum(blocks))

    rows = [row(0.004, 0.9, 0.1), row(-0.003, -0.5, 0.6)]
    assert _thin_part_note(rows, 300) == " (at most 0.004 here: too thin to see)"  # 0.8 px
    assert _thin_part_note(rows, 1000) == ""  # 2.7 px in a wide plot: drawn
    assert _thin_part_note([row(0.2, 0.9, 0.1), row(-0.003, -0.5, 0.6)], 300) == ""  # one row shows it
    assert _thin_part_note([row(1e-5, 0.9, 0.1)], 300) == " (under 0.001 here: too thin to see)"
    assert _thin_part_note([], 300) == ""
