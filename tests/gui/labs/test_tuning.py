"""The Tuning lab: the search fills the heat map, its best cell is the best run of
``tune --json``, a click makes a run the current model, Cancel keeps the finished runs."""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from linviz.cli import main
from linviz.explore.tuning import heat_map
from linviz.gui.labs.tuning import TuningLab


@pytest.fixture
def private_history(tmp_path, monkeypatch):
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))


def _lab(window, wait_idle) -> TuningLab:
    window.data_controller.extract_features()
    wait_idle(window)
    lab = next(lab for lab in window.labs if isinstance(lab, TuningLab))
    window.view_tabs.setCurrentWidget(lab)
    window.resize(1366, 768)
    window.show()
    return lab


def _click(qtbot, lab, x, y):
    vb = lab.heatmap.getPlotItem().getViewBox()
    scene = vb.mapViewToScene(QPointF(x, y))
    point = lab.heatmap.mapFromScene(scene)
    QTest.mouseClick(lab.heatmap.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_the_search_fills_the_heat_map_and_its_best_cell_is_tunes_best(qtbot, make_window, wait_idle, wait_quick,
                                                                        capsys, private_history):
    window = make_window("demo")
    lab = _lab(window, wait_idle)
    lab.lr_edit.setText("1e-3,1e-1,30")
    lab.reg_edit.setText("1e-4,1e-1")
    lab.epochs_spin.setValue(2)
    lab.start_button.click()
    qtbot.waitUntil(lambda: lab.state is not None and len(lab.state.results) >= 1, timeout=60_000)
    filled_early = np.isfinite(heat_map(lab.state.plan, list(lab.state.results))[0]).sum()
    wait_idle(window)
    wait_quick(window)
    state = lab.state
    values, best_cell = heat_map(state.plan, state.results)
    assert np.isfinite(values).all() and 1 <= filled_early <= 6
    assert max(state.workers) == 2 or (state.workers and __import__("os").cpu_count() == 1)  # both cores
    image = lab.image.image
    assert image.shape[:2] == (3, 2)  # learning rates x regs, every cell colored by its accuracy
    cmap = __import__("pyqtgraph").colormap.get("viridis")
    chance = 1 / len(window.workbench.class_names)  # one fixed scale, chance to 1, with its color bar
    for (row, col), value in np.ndenumerate(values):
        np.testing.assert_array_equal(image[row, col], cmap.map((value - chance) / (1 - chance), mode="byte"))
    assert lab.colorbar.isVisible() and lab.colorbar.levels() == pytest.approx((chance, 1.0))
    lab.scale_box.setCurrentIndex(lab.scale_box.findData("found"))  # more contrast: worst to best found
    lab.scale_box.activated.emit(lab.scale_box.currentIndex())
    wait_quick(window)
    lo, hi = np.nanmin(values), np.nanmax(values)
    assert lab.colorbar.levels() == pytest.approx((lo, hi))
    np.testing.assert_array_equal(lab.image.image[best_cell], cmap.map(1.0, mode="byte"))
    lab.scale_box.setCurrentIndex(lab.scale_box.findData("fixed"))
    lab.scale_box.activated.emit(lab.scale_box.currentIndex())
    wait_quick(window)
    # ... drawn where the axes say: the cell at (reg j, learning rate k) is row k, column j
    rect = lab.image.mapRectToParent(lab.image.boundingRect())
    assert (rect.width(), rect.height()) == (2, 3)
    shown = [label.toPlainText() for label in lab.cell_labels if label.isVisible()]
    assert len(shown) == 6 and sum(t.endswith("\n✕") for t in shown) >= 1  # diverged
    assert "✕: diverged" in lab.legend.text()
    assert lab.best_box.isVisible()
    rect = lab.best_box.rect()
    assert (int(rect.center().y()), int(rect.center().x())) == best_cell

    # the same search from the command line, on the same split
    n_val = len(window.workbench.data.val.labels)
    capsys.readouterr()
    out_stream, err_stream = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out_stream), contextlib.redirect_stderr(err_stream):
        code = main(["tune", "demo", "--features", "hog+hue", "--lr", "1e-3,1e-1,30", "--reg", "1e-4,1e-1",
                     "--epochs", "2", "--val", str(n_val), "--json"])
    out, err = out_stream.getvalue(), err_stream.getvalue()
    assert code == 0, err
    cli = json.loads(out)
    row, col = best_cell
    assert (cli["best"]["learning_rate"], cli["best"]["reg"]) == (state.plan.learning_rates[row], state.plan.regs[col])
    assert cli["best"]["val_accuracy"] == pytest.approx(values[row, col])
    for run in cli["runs"]:
        r = state.plan.learning_rates.index(run["learning_rate"]), state.plan.regs.index(run["reg"])
        assert run["val_accuracy"] == pytest.approx(values[r])

    # every run is in the run history; a click on the best cell shows it, Make current makes it the model
    assert len(window.workbench.runs.records) == 6
    assert all(r.origin == "search" for r in window.workbench.runs.records)
    before = window.workbench.model
    _click(qtbot, lab, col + 0.5, row + 0.5)
    best_index = row * len(state.plan.regs) + col
    assert lab.selected_index == best_index
    wait_quick(window)
    assert window.workbench.model is before  # a click never replaces the model by itself
    assert lab.run_templates.tile_count > 0 and lab.make_current_button.isEnabled()
    lab.make_current_button.click()
    qtbot.waitUntil(lambda: (wait_quick(window),
                             window.workbench.runs.current_for(window.workbench.model) is not None)[1],
                    timeout=30_000)
    np.testing.assert_array_equal(window.workbench.model.W, state.result_at(best_index).final.best_W)
    assert window.loss_view.point_count == state.result_at(best_index).final.iteration
    assert lab.run_templates.tile_count > 0 and "now the current model" in lab.run_caption.text()
    x, _ = lab.run_loss.getData()
    assert len(x) == state.result_at(best_index).final.iteration


def test_cancel_keeps_the_finished_runs(qtbot, make_window, wait_idle, wait_quick, private_history):
    window = make_window("demo")
    lab = _lab(window, wait_idle)
    lab.lr_edit.setText("1e-3:1e-1:4")
    lab.reg_edit.setText("1e-4:1e-1:4")
    lab.epochs_spin.setValue(60)
    lab.start_button.click()
    qtbot.waitUntil(lambda: lab.state is not None and len(lab.state.results) >= 1, timeout=120_000)
    lab.cancel_button.click()
    wait_idle(window)
    wait_quick(window)
    state = lab.state
    kept = len(state.results)
    assert 1 <= kept < 16
    values, best = heat_map(state.plan, state.results)
    assert np.isfinite(values).sum() == kept and best is not None
    assert all(r.final.epochs_done == 60 for r in state.results)  # only whole runs
    assert len(window.workbench.runs.records) == kept
    assert not lab.cancel_button.isEnabled() and lab.start_button.isEnabled()
    assert f"{kept} of 16 runs done" in lab.caption.text()


def test_a_random_search_is_a_scatter_over_the_same_axes(qtbot, make_window, wait_idle, wait_quick,
                                                         private_history):
    window = make_window("demo")
    lab = _lab(window, wait_idle)
    lab.mode_box.setCurrentIndex(lab.mode_box.findData("random"))
    lab.lr_edit.setText("1e-3:1:2")
    lab.reg_edit.setText("1e-4:1:2")
    lab.trials_spin.setValue(5)
    lab.epochs_spin.setValue(1)
    lab.start_button.click()
    wait_idle(window)
    wait_quick(window)
    assert len(lab.scatter.points()) == 5 and not lab.image.isVisible()
    accuracies = sorted(f"{r.val_accuracy:.3f}" for r in lab.state.results)
    assert sorted(lab.point_labels.texts) == accuracies  # every point says its value
    r = lab.state.results[2]
    assert lab.index_at(math.log10(r.reg), math.log10(r.learning_rate)) == r.index
    lab.lr_edit.setText("1e-3:abc:3")
    lab.start_button.click()
    assert any("learning rates" in m for m in window.error_messages)


def test_before_a_search_the_heat_map_says_what_to_do_and_the_loss_follows_the_model(make_window, wait_idle,
                                                                                    private_history):
    """No axes from -500 to 500 "(x0.001)" before anything ran: a sentence instead. An SVM
    model makes the search's loss SVM."""
    window = make_window("demo")
    panel = window.training_panel
    panel.loss_box.setCurrentIndex(panel.loss_box.findData("svm"))
    panel.epochs_spin.setValue(1)
    window.training_controller.train()
    wait_idle(window)
    lab = _lab(window, wait_idle)
    item = lab.heatmap.getPlotItem()
    assert "press Start" in lab.heatmap_hint.text and not item.getAxis("left").isVisible()
    assert not item.getAxis("bottom").isVisible() and not lab.colorbar.isVisible()
    assert "Click a cell" in lab.run_hint.text
    assert lab.loss_box.currentData() == "svm"
