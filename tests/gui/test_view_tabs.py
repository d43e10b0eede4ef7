"""The window's row of view tabs at the three screen sizes the docs show: a student reads
where every tab leads (no title cut to "R…" or "Tun…", no tab scrolled out of sight),
with the app's own style sheet, as the app draws them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QStyleOptionTab

SIZES = [(1024, 700), (1366, 768), (1920, 1080)]
STYLE_SHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"


def styled_window(make_window, qtbot, size):
    window = make_window("demo")
    # What the app sets on the QApplication (linviz.gui.app.configure_application); on the
    # window here, so the other tests keep Qt's plain style.
    window.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    window.resize(*size)
    window.show()
    qtbot.waitUntil(lambda: window.view_tabs.tabBar().width() > 0)
    qtbot.wait(50)
    return window


def drawn_text(bar, index: int) -> str:
    """The text the style paints on tab ``index`` (Qt elides it while building the option)."""
    option = QStyleOptionTab()
    bar.initStyleOption(option, index)
    return option.text


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tab_title_is_shown_whole(make_window, qtbot, size):
    window = styled_window(make_window, qtbot, size)
    bar = window.view_tabs.tabBar()
    assert bar.tabRect(0).left() >= 0 and bar.tabRect(bar.count() - 1).right() <= bar.width(), \
        "tabs scrolled out of sight"
    cut = {}
    for i in range(bar.count()):
        text = bar.tabText(i)
        # The size hint is the whole text's width plus the style's padding.
        if drawn_text(bar, i) != text or bar.tabRect(i).width() < bar.tabSizeHint(i).width():
            cut[text] = (drawn_text(bar, i), bar.tabRect(i).width())
    assert not cut, f"at {size[0]} x {size[1]} the row is {bar.width()} px and cuts {cut}"


def whole_titles(window) -> list[str]:
    return [window.view_tabs.tabToolTip(i) for i in range(window.view_tabs.count())]


@pytest.mark.parametrize("size", SIZES[1:], ids=[f"{w}x{h}" for w, h in SIZES[1:]])
def test_a_wide_window_shows_the_whole_titles(make_window, qtbot, size):
    """The names the docs use, where there is room for them."""
    window = styled_window(make_window, qtbot, size)
    shown = [window.view_tabs.tabText(i) for i in range(window.view_tabs.count())]
    assert shown == whole_titles(window) and "Nearest neighbors" in shown


def test_a_narrow_window_shortens_only_tabs_with_a_short_title(make_window, qtbot):
    window = styled_window(make_window, qtbot, SIZES[0])
    tabs = window.view_tabs
    shortened = {tabs.tabToolTip(i): tabs.tabText(i) for i in range(tabs.count()) if tabs.tabText(i) != tabs.title(i)}
    short_titles = {lab.title: lab.short_title for lab in window.labs if lab.short_title}
    assert shortened and all(short_titles.get(title) == text for title, text in shortened.items()), shortened
    assert whole_titles(window) == [tabs.title(i) for i in range(tabs.count())]


def test_the_window_names_a_shortened_tab_by_its_whole_title(make_window, qtbot):
    """Saved workspaces, exported views and the screenshots tool's --view all say
    "Nearest neighbors", whichever text the tab shows."""
    from linviz.gui.labs.knn import KnnLab

    window = styled_window(make_window, qtbot, SIZES[0])
    tabs = window.view_tabs
    knn = next(lab for lab in window.labs if isinstance(lab, KnnLab))
    assert tabs.tabText(tabs.indexOf(knn)) == "kNN"
    tabs.setCurrentWidget(knn)
    assert window.workspace_controller.collect().view == "Nearest neighbors"
    assert "The Nearest neighbors tab" in [title for title, _ in window.export_controller.views()]
    assert tabs.index_of_title("Nearest neighbors") == tabs.index_of_title("kNN") == tabs.indexOf(knn)
    assert tabs.index_of_title("Nowhere") == -1


def test_tabs_shorten_as_few_titles_as_fit_the_biggest_saving_first(qtbot):
    from PySide6.QtWidgets import QWidget

    from linviz.gui.widgets.view_tabs import ViewTabs

    tabs = ViewTabs()
    qtbot.addWidget(tabs)
    titles = [("Training", ""), ("A rather long title", "Long"), ("A very much longer title", "Longer"),
              ("Short", "S")]
    for title, short in titles:
        tabs.add_view(QWidget(), title, short)
    tabs.show()  # a hidden widget gets its resize events when it is shown
    bar = tabs.tabBar()

    def width_for(shown):
        return sum(bar.tabSizeHint(i).width() - bar.fontMetrics().horizontalAdvance(bar.tabText(i))
                   + bar.fontMetrics().horizontalAdvance(text) for i, text in enumerate(shown))

    def shown():
        return [tabs.tabText(i) for i in range(tabs.count())]

    whole = [title for title, _ in titles]
    one_short = ["Training", "A rather long title", "Longer", "Short"]
    tabs.resize(width_for(whole), 200)
    assert shown() == whole
    tabs.resize(width_for(whole) - 1, 200)
    assert shown() == one_short
    tabs.resize(width_for(one_short) - 1, 200)
    assert shown() == ["Training", "Long", "Longer", "Short"]
    tabs.resize(width_for(["Training", "Long", "Longer", "S"]) - 1, 200)  # too narrow for any: Qt elides
    assert shown() == ["Training", "Long", "Longer", "S"]
    tabs.resize(width_for(whole) + 50, 200)
    assert shown() == whole
    assert [tabs.title(i) for i in range(tabs.count())] == whole == [tabs.tabToolTip(i) for i in range(tabs.count())]


def test_the_open_tab_stands_out(make_window, qtbot):
    """A rule for the tabs replaces the style's own look, which marked the open one: the
    style sheet marks it again (its own background and underline)."""
    from PySide6.QtGui import QColor

    window = styled_window(make_window, qtbot, SIZES[0])
    tabs = window.view_tabs
    tabs.setCurrentIndex(2)
    qtbot.wait(20)
    bar = tabs.tabBar()
    picture = bar.grab().toImage()

    def colors(index):  # the tab's background and its bottom line, in the middle of the tab
        rect = bar.tabRect(index)
        x = rect.center().x()
        return QColor(picture.pixel(x, rect.top() + 2)).name(), QColor(picture.pixel(x, rect.bottom() - 1)).name()

    accent = "#2864c8"  # the underline of the open tab, the colour of the training curve
    assert colors(2)[1] == accent and colors(2)[0] == "#ffffff", colors(2)
    assert all(colors(i)[1] != accent and colors(i)[0] != "#ffffff" for i in range(bar.count()) if i != 2)
