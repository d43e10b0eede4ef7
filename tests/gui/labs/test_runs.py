"""The Runs lab: every run recorded, overlaid, compared, restored, renamed, deleted, exported,
and still there in a new window."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QTableWidget

from linviz.gui.labs.runs import COLUMNS, ID_ROLE, PALETTE, RunsLab
from linviz.gui.views.tables import column_width


@pytest.fixture
def private_history(tmp_path, monkeypatch):
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "runs"


def _train(window, wait_idle, wait_quick, reg):
    panel = window.training_panel
    panel.epochs_spin.setValue(2)
    panel.batch_spin.setValue(100)
    panel.lr_slider.setValue(1e-2)
    panel.reg_slider.setValue(reg)
    window.training_controller.train()
    wait_idle(window)
    wait_quick(window)


def _lab(window) -> RunsLab:
    lab = next(lab for lab in window.labs if isinstance(lab, RunsLab))
    window.view_tabs.setCurrentWidget(lab)
    window.show()
    return lab


def _wait_rows(qtbot, window, wait_quick, lab, n):
    qtbot.waitUntil(lambda: (wait_quick(window), lab.table.rowCount() == n)[1], timeout=30_000)


def test_runs_are_recorded_overlaid_compared_and_restored(qtbot, make_window, wait_idle, wait_quick,
                                                          private_history):
    window = make_window("demo")
    for reg in (1e-4, 1e-2, 1.0):
        _train(window, wait_idle, wait_quick, reg)
    lab = _lab(window)
    table = window.findChild(QTableWidget, "runsTable")
    assert table is lab.table
    _wait_rows(qtbot, window, wait_quick, lab, 3)
    history = window.workbench.runs
    assert [r.reg for r in history.records] == [1.0, 1e-2, 1e-4]  # newest first
    newest = history.records[0]
    assert history.current_for(window.workbench.model) == newest.id  # the model is the newest run's
    assert table.item(0, 0).text().startswith("● ")
    column = {name: c for c, (name, _) in enumerate(COLUMNS)}
    assert table.item(0, column["Optimizer"]).text() == "SGD"  # as the training panel names it, not "sgd"
    # at 1024 x 700 the names, which differ only at their end, stay whole: the columns their
    # tooltip repeats give way first
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=5_000)
    if table.viewport().width() >= sum(column_width(table, c) for c in range(len(COLUMNS))):
        pytest.skip("this font leaves room for every column at 1024 x 700: nothing to give way")
    names = [table.item(r, 0).text() for r in range(3)]
    margin = 2 * table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 4  # the cell's own padding

    def whole() -> bool:  # each name fits its cell without losing its middle
        room = table.columnWidth(0) - margin
        return all(table.fontMetrics().elidedText(n, Qt.TextElideMode.ElideMiddle, room) == n for n in names)

    qtbot.waitUntil(whole, timeout=5_000)  # the header lays out after a fit
    assert lab.columns.hidden
    # sortable: by validation accuracy, as numbers
    table.sortItems([name for name, _ in COLUMNS].index("Val"))
    shown = [history.get(table.item(row, 0).data(ID_ROLE)) for row in range(3)]
    vals = [r.val_accuracy for r in shown]
    assert vals == sorted(vals)

    # three runs selected: three curves in three colors, the current one thick and dark
    lab.select_runs([r.id for r in history.records])
    qtbot.waitUntil(lambda: (wait_quick(window), len(lab.curve_items) == 3)[1], timeout=30_000)
    pens = {key: items[0].opts["pen"] for key, items in lab.curve_items.items()}
    assert pens[newest.id].color().getRgb()[:3] == (20, 20, 20) and pens[newest.id].widthF() > 3
    others = [pens[r.id].color().getRgb()[:3] for r in history.records[1:]]
    assert len(set(others)) == 2 and all(c in PALETTE for c in others)
    x, y = lab.curve_items[newest.id][0].getData()
    assert len(x) == newest.iterations
    _, val = lab.curve_items[newest.id][1].getData()
    np.testing.assert_allclose(val, history.get(newest.id).curves.val_accuracies)

    # two selected: templates side by side on one color scale
    weak, strong = history.records[2], history.records[0]
    lab.select_runs([weak.id, strong.id])
    qtbot.waitUntil(lambda: (wait_quick(window), "One color scale" in lab.templates_caption.text())[1],
                    timeout=30_000)
    picture = lab.templates.mosaic.image.image
    assert picture is not None and picture.shape[0] > picture.shape[1] / 10
    # reg 1.0 shrinks the weights: its half of the mosaic is paler (closer to white / gray)
    half = picture.shape[0] // 2
    ink = [np.mean(np.abs(255 - picture[:half].astype(int))), np.mean(np.abs(255 - picture[half:].astype(int)))]
    order = [r.id for r in lab.selected_records()]
    weak_ink = ink[order.index(weak.id)]
    strong_ink = ink[order.index(strong.id)]
    assert strong_ink < weak_ink

    # restore the weak-regularization run as the current model
    lab.select_runs([weak.id])
    lab.restore_selected()
    qtbot.waitUntil(lambda: (wait_quick(window), history.current_for(window.workbench.model) == weak.id)[1],
                    timeout=30_000)
    np.testing.assert_array_equal(window.workbench.model.W, history.store.load_model(weak.id).W)
    assert window.loss_view.point_count == weak.iterations
    assert window.accuracy_view.point_count == 2
    assert window.workbench.model.evaluation is not None

    # rename, export, delete
    lab.rename_selected("weak reg")
    qtbot.waitUntil(lambda: (wait_quick(window), history.get(weak.id).name == "weak reg")[1], timeout=10_000)
    out = private_history.parent / "runs.csv"
    lab.select_runs([])
    lab.export(str(out), "csv")
    wait_quick(window)
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and {r["name"] for r in rows} >= {"weak reg"}
    lab.export(str(private_history.parent / "runs.json"), "json")
    wait_quick(window)
    data = json.loads((private_history.parent / "runs.json").read_text())
    assert len(data["runs"]) == 3 and all("curves" in r for r in data["runs"])
    lab.select_runs([history.records[1].id])
    lab.delete_selected()
    qtbot.waitUntil(lambda: (wait_quick(window), len(history.records) == 2)[1], timeout=10_000)
    _wait_rows(qtbot, window, wait_quick, lab, 2)
    window.shutdown()

    # a new window reads them back
    again = make_window("demo")
    lab2 = _lab(again)
    _wait_rows(qtbot, again, wait_quick, lab2, 2)
    assert {r.name for r in again.workbench.runs.records} == {"weak reg", ""}


def test_rerun_trains_with_the_records_settings(qtbot, make_window, wait_idle, wait_quick, private_history):
    window = make_window("demo")
    _train(window, wait_idle, wait_quick, 0.05)
    qtbot.waitUntil(lambda: (wait_quick(window), len(window.workbench.runs.records) == 1)[1], timeout=30_000)
    first = window.workbench.runs.records[0]
    window.training_panel.reg_slider.setValue(1e-5)  # the panel moved on
    window.training_panel.epochs_spin.setValue(7)
    lab = _lab(window)
    _wait_rows(qtbot, window, wait_quick, lab, 1)
    lab.select_runs([first.id])
    lab.rerun_selected()
    wait_idle(window)
    qtbot.waitUntil(lambda: (wait_quick(window), len(window.workbench.runs.records) == 2)[1], timeout=30_000)
    second = window.workbench.runs.records[0]
    assert second.settings == first.settings and second.features == first.features
    assert second.val_accuracy == first.val_accuracy  # same seed, same settings, same data
    np.testing.assert_array_equal(window.workbench.runs.store.load_model(second.id).W,
                                  window.workbench.runs.store.load_model(first.id).W)
    assert window.training_panel.reg_slider.value() == pytest.approx(0.05, rel=0.3)


def test_a_corrupt_history_is_reported_not_fatal(qtbot, make_window, wait_quick, private_history):
    private_history.parent.mkdir(parents=True)
    private_history.write_bytes(b"\x00garbage")  # the runs folder is a file
    window = make_window("demo")
    lab = _lab(window)
    qtbot.waitUntil(lambda: (wait_quick(window), window.workbench.runs.loaded)[1], timeout=30_000)
    assert any("set aside" in m for m in window.error_messages), window.error_messages
    assert lab.table.rowCount() == 0 and private_history.is_dir()


def test_the_table_is_as_tall_as_its_runs_until_the_user_moves_it(qtbot, make_window, wait_idle, wait_quick,
                                                                  private_history):
    """Two runs in a table of 220 pixels left the curves and the templates below it short at
    1024 x 700: the table takes the rows it shows (a few at least), the rest goes below; once
    the user drags the splitter, the table keeps that height."""
    from linviz.gui.labs.runs import TABLE_MAX_PX

    window = make_window("demo")
    window.resize(1024, 700)
    for reg in (1e-3, 1e-1):
        _train(window, wait_idle, wait_quick, reg)
    lab = _lab(window)
    _wait_rows(qtbot, window, wait_quick, lab, 2)
    qtbot.wait(50)
    top, below = lab.splitter.sizes()
    assert top < TABLE_MAX_PX - 40, top
    assert not lab.table.verticalScrollBar().isVisible()
    rows_bottom = lab.table.visualItemRect(lab.table.item(1, 0)).bottom()
    assert rows_bottom <= lab.table.viewport().height()
    lab.splitter.setSizes([top + 60, below - 60])
    lab.splitter.splitterMoved.emit(top + 60, 1)  # as a drag does
    _train(window, wait_idle, wait_quick, 1.0)
    _wait_rows(qtbot, window, wait_quick, lab, 3)
    assert lab.splitter.sizes()[0] == top + 60
