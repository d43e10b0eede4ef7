"""The "Nearest neighbors" lab on the demo set: the CV plot fills in fold by fold and equals
the core's cross-validation, the neighbours of the selected image equal a brute force, the
test and the linear comparison, Cancel stops promptly, and hidden it computes nothing."""

from __future__ import annotations

import time

import numpy as np
import pytest

from linviz.workbench import Selection


def lab_of(window):
    from linviz.gui.labs.knn import KnnLab

    return next(lab for lab in window.labs if isinstance(lab, KnnLab))


def show_lab(window, wait_idle, wait_quick):
    lab = lab_of(window)
    window.view_tabs.setCurrentWidget(lab)
    window.show()
    wait_idle(window)  # the lab indexes the training images on the heavy lane
    wait_quick(window)
    return lab


def configure(lab, size=None, ks="1, 3, 7", folds=3, metric="l2", features="raw"):
    if size is not None:
        lab.size_spin.setValue(size)
    lab.ks_edit.setText(ks)
    lab.folds_spin.setValue(folds)
    lab.distance_box.setCurrentIndex(lab.distance_box.findData(metric))
    lab.feature_box.setCurrentIndex(lab.feature_box.findData(features))
    lab._on_setting()


def brute_force(Xtr, ytr, x, k, metric):
    Xtr, x = np.asarray(Xtr, dtype=np.float64), np.asarray(x, dtype=np.float64)  # no copy when float64
    d = np.abs(Xtr - x).sum(1) if metric == "l1" else ((Xtr - x) ** 2).sum(1)
    order = np.argsort(d, kind="stable")[:k]
    return order, np.argmax(np.bincount(ytr[order], minlength=ytr.max() + 1))


def slow_folds(monkeypatch, seconds: float) -> None:
    """Each fold takes at least ``seconds`` more (the real search still runs)."""
    from linviz.explore import knn as explore_knn

    real = explore_knn.iter_cross_validation

    def slowed(*args, **kwargs):
        for item in real(*args, **kwargs):
            time.sleep(seconds)
            yield item

    monkeypatch.setattr(explore_knn, "iter_cross_validation", slowed)


def test_the_cv_plot_fills_in_fold_by_fold_and_equals_the_core(make_window, wait_idle, wait_quick, monkeypatch):
    from linviz.features import raw_pixels
    from linviz.models.knn import cross_validate_knn

    slow_folds(monkeypatch, 0.3)  # a fold every 0.3 s at least: the display timer sees each one
    window = make_window("demo")
    lab = show_lab(window, wait_idle, wait_quick)
    configure(lab, size=600, ks="1, 3, 7, 20", folds=3, metric="l1")
    wait_idle(window)
    seen = []
    draw = lab._draw_cv
    monkeypatch.setattr(lab, "_draw_cv", lambda cv: (seen.append(None if cv is None else cv.folds_done), draw(cv)))
    lab.cv_button.click()
    wait_idle(window)
    assert [n for n in seen if n] == [1, 2, 3], seen  # live: one drawing per finished fold

    cv = lab.cv
    subset = lab.setup.value.subset
    X = raw_pixels(window.workbench.data.train.images[subset])
    core = cross_validate_knn(X, window.workbench.data.train.labels[subset], [1, 3, 7, 20], folds=3, metric="l1")
    np.testing.assert_array_equal(cv.fold_accuracies, np.array([core[k] for k in (1, 3, 7, 20)]).T)
    xs, ys = lab.fold_dots.getData()
    assert len(xs) == 12 and sorted(ys) == sorted(np.concatenate([core[k] for k in (1, 3, 7, 20)]))
    np.testing.assert_allclose(lab.mean_line.getData()[1], [np.mean(core[k]) for k in (1, 3, 7, 20)])
    best = max((1, 3, 7, 20), key=lambda k: (np.mean(core[k]), -k))
    assert lab.best_mark.getData()[0][0] == (1, 3, 7, 20).index(best)
    assert lab.k_spin.value() == best and f"best k = {best}" in lab.cv_caption.text()
    assert not window.error_messages, window.error_messages


def test_the_neighbours_of_the_selected_image_are_the_exact_nearest(make_window, wait_idle, wait_quick, drop_paths,
                                                                     tmp_path):
    from PIL import Image

    from linviz.features import raw_pixels

    window = make_window("demo")
    lab = show_lab(window, wait_idle, wait_quick)
    configure(lab, size=800, metric="l1")
    lab.k_spin.setValue(7)
    window.workbench.select(Selection("validation", 5))
    wait_idle(window)
    wait_quick(window)
    data = window.workbench.data
    subset = lab.setup.value.subset
    Xtr, ytr = raw_pixels(data.train.images[subset]), data.train.labels[subset]
    order, vote = brute_force(Xtr, ytr, raw_pixels(data.val.images[5:6])[0], 7, "l1")
    np.testing.assert_array_equal(lab.neighbors.indices, subset[order])
    assert lab.neighbors.predicted == vote
    assert lab.neighbors_view.count() == 7
    names = data.class_names
    assert lab.neighbors_view.item(0).text().startswith(f"1. {names[ytr[order[0]]]}")
    assert f"<b>{names[vote]}</b>" in lab.query_text.text() and "true class" in lab.query_text.text()

    # a training image among the kNN images is not its own nearest neighbour
    own = int(subset[3])
    window.workbench.select(Selection("train", own))
    wait_quick(window)
    assert own not in lab.neighbors.indices and "itself left out" in lab.query_text.text()

    # a dropped-in image has no label: its neighbours and their vote all the same
    path = tmp_path / "mine.png"
    Image.fromarray(data.val.images[5]).save(path)
    drop_paths(window, [path])
    window.workbench.select(Selection("yours", 0))
    wait_quick(window)
    np.testing.assert_array_equal(lab.neighbors.indices, subset[order])
    assert "no label" in lab.query_text.text()
    assert not window.error_messages, window.error_messages


def test_test_accuracy_beside_the_current_linear_model_and_the_next_mistake(make_window, wait_idle, wait_quick):
    from linviz.features import raw_pixels

    window = make_window("demo")
    panel = window.training_panel
    panel.epochs_spin.setValue(1)
    window.features_panel.set_spec_text("raw")
    window.training_controller.train()
    wait_idle(window)
    lab = show_lab(window, wait_idle, wait_quick)
    configure(lab, size=300)
    lab.k_spin.setValue(3)
    wait_idle(window)
    lab.test_button.click()
    wait_idle(window)
    result = lab.test
    data = window.workbench.data
    subset = lab.setup.value.subset
    Xtr, ytr = raw_pixels(data.train.images[subset]).astype(np.float64), data.train.labels[subset]
    X_test = raw_pixels(data.test.images)
    expected = [brute_force(Xtr, ytr, x, 3, "l2")[1] for x in X_test]
    np.testing.assert_array_equal(result.predicted, expected)
    assert result.knn.accuracy == pytest.approx(np.mean(np.array(expected) == data.test.labels))
    assert lab.compare_table.rowCount() == 2
    assert "current model" in lab.compare_table.item(1, 0).text()  # same features (raw): the trained model
    W = window.workbench.model.W
    linear = np.mean(np.argmax(window.workbench.features.X_test @ W, axis=1) == data.test.labels)
    assert float(lab.compare_table.item(1, 1).text()) == pytest.approx(linear, abs=5e-4)
    assert result.linear.train_seconds is not None and result.knn.predict_seconds > 0

    lab.mistake_button.click()
    wait_quick(window)
    first = int(result.mistakes[0])
    assert window.workbench.selection == Selection("test", first)
    lab.mistake_button.click()
    assert window.workbench.selection == Selection("test", int(result.mistakes[1]))
    assert not window.error_messages, window.error_messages


def test_cancel_stops_cross_validation_promptly_and_keeps_the_finished_folds(qtbot, make_window, wait_idle,
                                                                               wait_quick, monkeypatch):
    from linviz.models import knn as core

    monkeypatch.setattr(core, "CHUNK_BYTES", 64 * 256 * 4)  # small chunks: many cancel checks
    slow_folds(monkeypatch, 0.2)  # 10 folds: 2 s at least, so Cancel comes mid-way on any machine
    window = make_window("demo")
    lab = show_lab(window, wait_idle, wait_quick)
    configure(lab, ks="1, 5, 50, 100", folds=10, metric="l1")  # all 2,000 images, 10 folds
    wait_idle(window)
    lab.cv_button.click()
    qtbot.waitUntil(lambda: window.job_status.progress.bar.value() > 0, timeout=30_000)
    window.job_status.cancel_button.click()
    wait_idle(window, timeout_s=10)  # a chunk and a pause between folds, not the 10 folds' 2+ s
    assert lab.cv is None or not lab.cv.done
    assert "cancelled" in window.message_label.text().lower()
    assert not window.error_messages, window.error_messages


def test_hidden_it_computes_nothing(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    lab = show_lab(window, wait_idle, wait_quick)
    assert lab.setup is not None
    window.view_tabs.setCurrentIndex(0)
    done = window.job_runner.quick.completed
    window.workbench.select(Selection("validation", 9))
    wait_quick(window)
    assert window.job_runner.quick.completed == done
    window.view_tabs.setCurrentWidget(lab)
    wait_quick(window)
    assert window.job_runner.quick.completed == done + 1 and lab.neighbors is not None


def test_before_cross_validation_the_plot_says_what_to_do_and_the_picker_moves_the_query(make_window, wait_idle,
                                                                                          wait_quick):
    """No validation accuracy axis from -0.4 to 0.4 before anything ran; ◀ ▶ change the image
    whose neighbours are shown, without leaving the lab."""
    from linviz.gui.labs.knn import KnnLab
    from linviz.workbench import Selection

    window = make_window("demo")
    lab = next(lab for lab in window.labs if isinstance(lab, KnnLab))
    window.view_tabs.setCurrentWidget(lab)
    window.show()
    wait_idle(window)
    item = lab.cv_plot.getPlotItem()
    assert "Cross-validate" in lab.cv_hint.text and not item.getAxis("left").isVisible()
    window.workbench.select(Selection("validation", 7))
    wait_idle(window)
    wait_quick(window)
    lab.picker.next_button.click()
    wait_quick(window)
    assert window.workbench.selection == Selection("validation", 8)
    assert lab.neighbors is not None and "validation image 8" in lab.query_text.text()
    assert lab.ks_edit.toolTip().endswith("1, 3, 5, 8, 10, 12, 15, 20, 50, 100")  # the whole list, cut in the box
    lab.ks_edit.setText("1, 3")
    assert lab.ks_edit.toolTip().endswith(": 1, 3")
    lab.cross_validate()
    wait_idle(window)
    assert lab.cv_hint.text == "" and item.getAxis("left").isVisible()
