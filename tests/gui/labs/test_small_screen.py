"""Every lab at 1024 x 700, as a student with a small screen meets it: the window stays that
size, no lab scrolls sideways, no text is cut off, no table column is narrower than what it
shows, and the side panel shows all of itself without scrolling."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QComboBox, QHeaderView,
                               QLabel, QPushButton, QTableView, QTabWidget, QWidget)

from linviz.workbench import Selection
from linviz.gui.widgets.choices import width_showing

SMALL = (1024, 700)


def train_demo(window, wait_idle, loss="svm"):
    panel = window.training_panel
    panel.loss_box.setCurrentIndex(panel.loss_box.findData(loss))
    panel.epochs_spin.setValue(3)
    window.features_panel.set_spec_text("hog+hue")
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.model is not None, window.error_messages


def every_view(window):
    """(title, widget) of every tab, an inner tab (the Optimization lab's views) on its own,
    each made current before it is yielded."""
    tabs = window.view_tabs
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        page = tabs.widget(i)
        inner = page.findChild(QTabWidget, "optimizationTabs")
        if inner is None:
            yield tabs.tabText(i), page
            continue
        for k in range(inner.count()):
            inner.setCurrentIndex(k)
            yield f"{tabs.tabText(i)} / {inner.tabText(k)}", inner.widget(k)
    from linviz.gui.labs.inside_image import InsideImageLab

    inside = next(lab for lab in window.labs if isinstance(lab, InsideImageLab))
    tabs.setCurrentWidget(inside)
    inside.lecture_button.setChecked(True)  # the lecture's examples: a page of their own
    yield "Inside one image / Lecture example", inside
    inside.lecture_button.setChecked(False)


def shown(widget: QWidget, root: QWidget) -> bool:
    return widget.isVisibleTo(root) and widget.isVisible()


def _name(widget: QWidget) -> str:
    text = widget.objectName() or type(widget).__name__
    if isinstance(widget, (QLabel, QAbstractButton)):
        text += f" {widget.text()[:50]!r}"
    return text


def layout_problems(root: QWidget) -> list[str]:
    """What a reader would see as broken in ``root`` as laid out now."""
    problems = []
    for area in root.findChildren(QAbstractScrollArea):
        if shown(area, root) and area.horizontalScrollBar().isVisible():
            problems.append(f"horizontal scroll bar in {_name(area)}")
    for table in root.findChildren(QTableView):
        if not shown(table, root) or table.model() is None:
            continue
        header = table.horizontalHeader()
        for c in range(header.count()):
            if header.isSectionHidden(c) or header.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch:
                continue
            wanted = max(header.sectionSizeFromContents(c).width(), table.sizeHintForColumn(c))
            if header.sectionSize(c) < wanted - 1:
                title = table.model().headerData(c, header.orientation())
                problems.append(f"{_name(table)} column {title!r} is {header.sectionSize(c)} px, its text {wanted}")
    for label in root.findChildren(QLabel):
        if not shown(label, root) or not label.text().strip():
            continue
        if label.wordWrap():
            needed = label.heightForWidth(label.width())
            if label.height() < needed - 1:
                problems.append(f"{_name(label)} cut off: {label.height()} of {needed} px high")
        elif label.width() < label.minimumSizeHint().width() - 1:
            problems.append(f"{_name(label)} cut off: {label.width()} of {label.minimumSizeHint().width()} px wide")
    for control in root.findChildren(QWidget):
        if not shown(control, root) or not isinstance(control, (QAbstractButton, QComboBox)):
            continue
        width, height = _needed(control)
        if control.width() < width - 1 or control.height() < height - 1:
            problems.append(f"{_name(control)} squeezed to {control.width()} x {control.height()} "
                            f"(needs {width} x {height})")
        elif isinstance(control, QComboBox) and control.width() < width_showing(control, control.currentText()) - 1:
            problems.append(f"{_name(control)} cuts its choice {control.currentText()!r}: {control.width()} px "
                            f"of {width_showing(control, control.currentText())}")
    problems += overlap_problems(root)
    problems += plot_problems(root)
    return problems


def folded(widget: QWidget, root: QWidget) -> bool:
    """``widget`` or a parent up to ``root`` folded away on purpose (a collapsed QCollapsible:
    its height capped below what its contents need)."""
    while widget is not None:
        layout = widget.layout()
        if widget.height() == 0 or (layout is not None and widget.maximumHeight() < layout.minimumSize().height()):
            return True
        if widget is root:
            return False
        widget = widget.parentWidget()
    return False


def overlap_problems(root: QWidget) -> list[str]:
    """Panes given less height than their contents need, and widgets of one layout drawn
    over one another: what Qt does to such a pane."""
    from itertools import combinations

    from PySide6.QtWidgets import QStackedLayout

    def laid_out(layout) -> list[QWidget]:
        if isinstance(layout, QStackedLayout):
            return []  # its pages share one place by design
        found = []
        for i in range(layout.count()):
            item = layout.itemAt(i)
            if item.widget() is not None and shown(item.widget(), root):
                found.append(item.widget())
            elif item.layout() is not None:
                found += laid_out(item.layout())
        return found

    problems = []
    for parent in [root, *root.findChildren(QWidget)]:
        if parent.layout() is None or not shown(parent, root):
            continue
        needed = parent.layout().minimumSize()
        if parent.height() < needed.height() - 1 and not folded(parent, root):
            problems.append(f"{_name(parent)} squeezed to {parent.height()} px, its contents need {needed.height()}")
        for a, b in combinations(laid_out(parent.layout()), 2):
            if a.geometry().intersects(b.geometry()):
                problems.append(f"{_name(a)} and {_name(b)} drawn over one another")
    return problems


def plot_problems(root: QWidget) -> list[str]:
    """Axis titles cut off by their axis, legends cut off by their plot."""
    import pyqtgraph as pg

    problems = []
    for view in root.findChildren(pg.GraphicsView):
        if not shown(view, root):
            continue
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem) and item.isVisible() and item.label.isVisible():
                text = item.label.toPlainText()
                room = item.width() if item.orientation in ("top", "bottom") else item.height()
                needed = item.label.boundingRect().width()
                if text and needed > room + 1:
                    problems.append(f"{_name(view)}: axis title {text!r} needs {needed:.0f} px, has {room:.0f}")
            if isinstance(item, pg.LegendItem) and item.isVisible() and item.parentItem() is not None:
                legend, plot = item.sceneBoundingRect(), item.parentItem().sceneBoundingRect()
                if not plot.contains(legend):
                    problems.append(f"{_name(view)}: the legend does not fit its plot")
    return problems


def _needed(control: QWidget) -> tuple[int, int]:
    """The size below which a control's words are cut. A push button's text with a few pixels
    of frame (the style's minimum hint adds a floor of 80 pixels whatever the text); any
    other control: its minimum size hint."""
    hint = control.minimumSizeHint()
    if isinstance(control, QPushButton) and control.text() and control.icon().isNull():
        text = control.fontMetrics().horizontalAdvance(control.text().replace("&", ""))
        return text + 8 + (12 if control.menu() is not None else 0), hint.height()
    return hint.width(), hint.height()


@pytest.fixture
def small_window(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    window.resize(*SMALL)
    window.show()
    train_demo(window, wait_idle)
    window.workbench.select(Selection("validation", 3))
    wait_quick(window)
    return window


def _settle(window, qtbot, wait_quick):
    qtbot.wait(50)
    wait_quick(window)
    qtbot.wait(50)


def test_the_window_stays_1024_by_700(small_window, qtbot, wait_quick):
    window = small_window
    bar = window.view_tabs.tabBar()
    last = bar.tabRect(bar.count() - 1)
    assert bar.tabRect(0).left() >= 0 and last.right() <= bar.width(), "tabs scrolled out of sight"
    for title, view in every_view(window):
        _settle(window, qtbot, wait_quick)
        assert (window.width(), window.height()) == SMALL, f"{title} widens the window to {window.size()}"
        dock = window.docks["training"]
        assert dock.width() >= 300, f"{title} ({view.minimumSizeHint().width()} px at least) squeezes the side " \
                                    f"panel to {dock.width()} px"


def fill_the_labs(window, wait_idle, wait_quick) -> None:
    """Every lab with something in it: two runs to compare, a search, cross-validation and a
    test of kNN, a race (their tables and notes are what overflow first)."""
    from linviz.gui.labs.knn import KnnLab
    from linviz.gui.labs.optimization import OptimizationLab
    from linviz.gui.labs.runs import RunsLab
    from linviz.gui.labs.tuning import TuningLab

    labs = {type(lab): lab for lab in window.labs}
    window.training_panel.reg_slider.setValue(0.1)
    window.training_controller.train()
    wait_idle(window)
    runs = labs[RunsLab]
    window.view_tabs.setCurrentWidget(runs)
    wait_quick(window)
    runs.select_runs([r.id for r in window.workbench.runs.records[:2]])
    tuning = labs[TuningLab]
    window.view_tabs.setCurrentWidget(tuning)
    tuning.lr_edit.setText("0.01,0.1")
    tuning.reg_edit.setText("1e-3,1e-1")
    tuning.epochs_spin.setValue(1)
    tuning.start()
    wait_idle(window)
    knn = labs[KnnLab]
    window.view_tabs.setCurrentWidget(knn)
    wait_idle(window)
    knn.ks_edit.setText("1, 3, 5")
    knn.cross_validate()
    wait_idle(window)
    knn.run_test()
    wait_idle(window)
    race = labs[OptimizationLab].race
    window.view_tabs.setCurrentWidget(labs[OptimizationLab])
    labs[OptimizationLab].tabs.setCurrentWidget(race)
    race.budget_spin.setValue(20)
    race.start()
    wait_idle(window)
    wait_quick(window)


def test_no_lab_scrolls_sideways_or_cuts_text_at_1024_by_700(small_window, qtbot, wait_idle, wait_quick):
    window = small_window
    fill_the_labs(window, wait_idle, wait_quick)
    found = {}
    for title, view in every_view(window):
        _settle(window, qtbot, wait_quick)
        problems = layout_problems(view)
        if problems:
            found[title] = problems
    assert not found, "\n".join(f"{t}: {p}" for t, ps in found.items() for p in ps)


def test_the_playgrounds_settings_show_whole_at_1024_by_700(small_window, qtbot, wait_quick):
    """Each page of the 2-D playground's settings (W and b, the loss, the data) fits its pane
    at 1024 x 700 with the demo's banner showing: no scroll bar, no box cut at the right."""
    from linviz.gui.labs.playground import PlaygroundLab

    window = small_window
    lab = next(lab for lab in window.labs if isinstance(lab, PlaygroundLab))
    window.view_tabs.setCurrentWidget(lab)
    assert window.banner.isVisible()  # the demo set: the banner takes its height too
    for k in range(lab.tabs.count()):
        lab.tabs.setCurrentIndex(k)
        _settle(window, qtbot, wait_quick)
        area = lab.tabs.widget(k)
        page = area.widget()
        assert area.verticalScrollBar().maximum() == 0, f"{lab.tabs.tabText(k)}: scrolls ({page.height()} px " \
                                                         f"of contents in {area.viewport().height()})"
        assert page.minimumSizeHint().width() <= area.viewport().width(), \
            f"{lab.tabs.tabText(k)}: {page.minimumSizeHint().width()} px of contents in {area.viewport().width()}"


def test_the_lecture_example_shows_both_examples_whole_at_1024_by_700(small_window, qtbot, wait_quick):
    """One below the other on a small screen: the figure W x + b = s keeps its height (x's last
    pixel included) and the score table shows its three rows without scrolling."""
    from linviz.gui.labs.inside_image import InsideImageLab

    window = small_window
    inside = next(lab for lab in window.labs if isinstance(lab, InsideImageLab))
    window.view_tabs.setCurrentWidget(inside)
    inside.lecture_button.setChecked(True)
    _settle(window, qtbot, wait_quick)
    page = inside.lecture_page
    for label in (page.equation, page.svm):
        assert label.height() >= label.sizeHint().height() - 1, (label.height(), label.sizeHint().height())
    table = page.table
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    assert table.rowCount() == 3 and table.viewport().height() >= rows, (table.viewport().height(), rows)
    assert not table.verticalScrollBar().isVisible()


def test_the_side_panel_needs_no_scrolling_at_1024_by_700(small_window, qtbot, wait_quick):
    """After a run (its sanity check, rates and result shown) every control of Model and
    training is in sight, Save model included."""
    window = small_window
    _settle(window, qtbot, wait_quick)
    scroll = window.docks["training"].widget()
    assert not scroll.verticalScrollBar().isVisible(), (
        f"the panel needs {window.training_panel.sizeHint().height()} px, has {scroll.viewport().height()}")
    panel = window.training_panel
    for button in (panel.save_button, panel.load_button, panel.test_button):
        bottom = button.mapTo(scroll.viewport(), button.rect().bottomLeft()).y()
        assert bottom <= scroll.viewport().height(), f"{button.text()} is below the panel's edge"
    assert not layout_problems(panel), layout_problems(panel)


def _has_data(plot_item) -> bool:
    import pyqtgraph as pg

    for item in plot_item.getViewBox().addedItems:
        if not item.isVisible():
            continue
        if isinstance(item, pg.PlotDataItem):
            x, _ = item.getData()
            if x is not None and len(x):
                return True
        elif isinstance(item, pg.ImageItem) and item.image is not None:
            return True
        elif isinstance(item, pg.BarGraphItem):
            heights = item.opts.get("height")
            widths = item.opts.get("width")
            if any(v is not None and np.size(v) > 1 or (np.size(v) == 1 and np.ndim(v) == 1)
                   for v in (heights, widths)) \
                    and np.size(item.opts.get("x0") if item.opts.get("x0") is not None else item.opts.get("x")):
                return True
        elif isinstance(item, pg.ScatterPlotItem) and len(item.points()):
            return True
    return False


def test_every_empty_plot_says_what_to_do_instead_of_showing_meaningless_axes(make_window, qtbot, wait_idle,
                                                                              wait_quick):
    """Before anything ran: no axis from -0.4 to 0.4 or "(x0.001)" from -500 to 500; a sentence
    that says how to fill the plot."""
    import pyqtgraph as pg

    window = make_window("demo")
    window.resize(*SMALL)
    window.show()
    wait_idle(window)
    found = []
    for title, view in every_view(window):
        if title == "Training":
            continue
        _settle(window, qtbot, wait_quick)
        for widget in view.findChildren(pg.GraphicsView):
            if not shown(widget, view):
                continue
            for item in widget.scene().items():
                if not isinstance(item, pg.PlotItem) or not item.isVisible() or _has_data(item):
                    continue
                axes = [name for name in ("left", "bottom") if item.getAxis(name).isVisible()]
                hints = [i for i in item.items if isinstance(i, pg.TextItem) and i.isVisible() and i.toPlainText()]
                if axes or not hints:
                    found.append(f"{title}: {_name(widget)} is empty with axes {axes} and no hint")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("sizes", [[(1366, 768)], [SMALL, (1366, 768)]], ids=["1366x768", "1024x700-then-1366x768"])
def test_the_gradient_checks_table_shows_every_column_and_the_window_keeps_its_size(make_window, qtbot, wait_idle,
                                                                                   wait_quick, sizes):
    """At 1366 x 768 the filled table beside the plots was cut at "rel. e" (the verdict and
    Richardson columns behind a scroll bar: its width was chosen while it was empty); given
    its width, the notes beside it wrapped and the window grew to 805 px."""
    from linviz.gui.labs.optimization import OptimizationLab

    window = make_window("demo")
    window.resize(*sizes[0])
    window.show()
    train_demo(window, wait_idle)
    lab = next(lab for lab in window.labs if isinstance(lab, OptimizationLab))
    window.view_tabs.setCurrentWidget(lab)
    check = lab.gradient_check
    lab.tabs.setCurrentWidget(check)
    check.check()
    wait_idle(window)
    for size in sizes:
        window.resize(*size)
        _settle(window, qtbot, wait_quick)
        assert (window.width(), window.height()) == size, f"the window is {window.size()}, not {size}"
        table = check.table
        assert not table.horizontalScrollBar().isVisible(), (size, table.width(), table_width_of(table))


def table_width_of(table) -> int:
    from linviz.gui.views.tables import table_width

    return table_width(table)
