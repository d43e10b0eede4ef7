"""A zoomable view of ONE mosaic image (the base of the templates view and the gallery)."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QRectF, Signal, Slot

from linviz.workbench.pictures import MosaicLayout
from linviz.gui.views.plot_style import highlight_rect, show_colors

NAVIGATION_KEYS = {int(k.value) for k in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
                                         Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)}


class MosaicView(pg.GraphicsLayoutWidget):
    """One ImageItem in a locked-aspect ViewBox; emits the (row, col) of a clicked tile."""

    tileClicked = Signal(int, int)
    keyPressed = Signal(int)  # a Qt.Key the view did not use (the gallery navigates with them)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.viewbox = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.viewbox.setMouseEnabled(x=False, y=False)  # a picture, not a plot: no accidental pans
        self.image = pg.ImageItem()
        self.viewbox.addItem(self.image)
        self.layout_info: MosaicLayout | None = None
        self._shape: tuple | None = None  # (picture shape, margins) the view was fitted to
        self._labels: list[pg.TextItem] = []
        self.highlight = highlight_rect()
        self.viewbox.addItem(self.highlight)
        self.hint = pg.TextItem(color=(110, 110, 110), anchor=(0.5, 0.5))  # what an empty view waits for
        self.viewbox.addItem(self.hint, ignoreBounds=True)
        self.hint.setVisible(False)
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.scene().sigMouseMoved.connect(self._on_hover)
        self.tile_tooltip: Optional[Callable[[int, int], str]] = None  # (row, col) -> text
        self.navigates = False  # True: arrow and page keys go to keyPressed
        self.draw_count = 0

    def set_mosaic(self, picture: np.ndarray, layout: MosaicLayout, margin_top: float = 0.0,
                   margin_left: float = 0.0) -> None:
        """Replace the picture (uint8 RGB, fixed levels: no auto-levelling per frame)."""
        show_colors(self.image, picture)
        self.hint.setVisible(False)
        self.layout_info = layout
        if (picture.shape, margin_top, margin_left) != self._shape:  # the view fits a new picture or margins
            self._shape = (picture.shape, margin_top, margin_left)
            h, w = picture.shape[:2]
            self.viewbox.setRange(QRectF(-margin_left, -margin_top, w + margin_left, h + margin_top), padding=0.01)
        self.draw_count += 1

    def set_labels(self, texts: list[tuple[str, float, float, str]], color=(30, 30, 30)) -> None:
        """Text items at picture coordinates: (text, x, y, anchor) with anchor 'top'/'left'.

        Items are reused: created only when more are needed, so a redraw only sets text.
        """
        while len(self._labels) < len(texts):
            item = pg.TextItem(color=color)
            self.viewbox.addItem(item, ignoreBounds=True)
            self._labels.append(item)
        for item, (text, x, y, anchor) in zip(self._labels, texts):
            # Each setter relayouts the item: touch only what changed (this runs 5x a second).
            placement = (x, y, anchor)
            if getattr(item, "_placement", None) != placement:
                item._placement = placement
                item.setAnchor((0.5, 1.0) if anchor == "top" else (1.0, 0.5))
                item.setPos(x, y)
            if item.toPlainText() != text:
                item.setText(text)
            if not item.isVisible():
                item.setVisible(True)
        for item in self._labels[len(texts):]:
            item.setVisible(False)

    def highlight_tile(self, row: int | None, col: int | None = None) -> None:
        if row is None or self.layout_info is None:
            self.highlight.setVisible(False)
            return
        y, x = self.layout_info.origin(row, col)
        self.highlight.setRect(QRectF(x - 1, y - 1, self.layout_info.tile_w + 2, self.layout_info.tile_h + 2))
        self.highlight.setVisible(True)

    def clear_picture(self) -> None:
        self.image.clear()
        self.layout_info = None
        self._shape = None
        self.set_labels([])
        self.highlight.setVisible(False)
        self.hint.setVisible(False)

    def show_hint(self, text: str) -> None:
        """No picture: ``text`` in the middle of the view, until the next picture."""
        self.clear_picture()
        self.viewbox.setRange(QRectF(0, 0, 1, 1), padding=0)
        self.hint.setText(text)
        self.hint.setPos(0.5, 0.5)
        self.hint.setVisible(True)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        key = int(key.value) if hasattr(key, "value") else int(key)
        if self.navigates and key in NAVIGATION_KEYS:
            self.keyPressed.emit(key)
            event.accept()
            return
        super().keyPressEvent(event)

    @Slot(object)
    def _on_hover(self, scene_pos) -> None:
        text = ""
        if self.tile_tooltip is not None and self.layout_info is not None:
            point = self.viewbox.mapSceneToView(scene_pos)
            cell = self.layout_info.cell_at(point.y(), point.x())
            text = self.tile_tooltip(*cell) if cell is not None else ""
        if self.toolTip() != text:
            self.setToolTip(text)

    @Slot(object)
    def _on_clicked(self, event) -> None:
        if self.layout_info is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.viewbox.mapSceneToView(event.scenePos())
        cell = self.layout_info.cell_at(point.y(), point.x())
        if cell is not None:
            self.tileClicked.emit(*cell)
