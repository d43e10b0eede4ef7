"""Weight templates: one tile per class (columns) and per feature block (rows), ONE image;
many classes in a view not much wider than high go in two bands, one above the other.

Class names and row names are painted by two items that shrink their text to the room a tile
leaves on screen and cut what still does not fit ("autom…"); every tile's tooltip has the
whole name. From 1024 x 700 up nothing overlaps or is cut mid-letter.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from linviz.gui.runtime.redraw import Redraw
from linviz.workbench.pictures import grid_mosaic
from linviz.gui.views.mosaic_view import MosaicView
from linviz.gui.views.painted_labels import TEXT_SPACING_PX, PaintedLabels

EMPTY = "Weight templates: train a model to see what each class looks for"
WAITING = "Train a model to see each class's template"


class TemplatesView(QWidget):
    """Draws template pictures (``set_templates``); bound to a workbench, its model's."""

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("templatesView")
        self.caption = QLabel(EMPTY)
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.mosaic = MosaicView()
        self.class_labels = PaintedLabels(font_px=12, min_px=7, fit_width=1.0)
        self.row_labels = PaintedLabels(font_px=12, min_px=7, fit_width=1.0)
        for labels in (self.class_labels, self.row_labels):
            self.mosaic.viewbox.addItem(labels, ignoreBounds=True)
        self.mosaic.tile_tooltip = self._tile_text
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.mosaic, 1)
        self.tile_count = 0
        self._grid: list[list[tuple[str, str]]] = []  # (class name, row name) per tile
        self._bench = workbench
        self._drawn = None
        self._shown = None  # (rows, class names, their printable names, (bands, staggered)) as drawn
        self.mosaic.installEventFilter(self)  # its size (not only this view's) picks the bands
        if workbench is not None:
            self._redraw = Redraw(workbench, self._on_model, 0, widget=self)  # every new model, while it is seen
            workbench.model_changed.connect(self._redraw)
            workbench.features_changed.connect(self._on_features)

    def _on_model(self, model) -> None:
        if model is None:
            self._drawn = None
            self.clear()
        elif model.templates is not None and model.templates is not self._drawn:
            self._drawn = model.templates
            self.set_templates(model.templates, self._bench.class_names,
                               caption=_caption(model.features.pipeline))

    def _on_features(self, features) -> None:
        """Before any model: how to read the templates of these features. The caption is then
        already there when the first model comes (a caption that changed its height at a run's
        start laid the view out again in the run's first frame)."""
        if self._drawn is None:
            self.clear()

    def set_templates(self, rows: list[tuple[str, list[np.ndarray]]], class_names: list[str],
                      caption: str = "") -> None:
        """``rows``: (feature block name, one (s, s, 3) uint8 tile per class) per block."""
        from linviz.text import printable

        if not rows:
            return
        names = [printable(n) for n in class_names]
        tile = rows[0][1][0].shape[0]
        gap = max(2, tile // 12)
        if len(rows) == 1 and len(rows[0][1]) > 6:
            # One feature block: wrap the classes into rows (two up to 20 classes), so each tile
            # is bigger, with a name above every tile.
            tiles = rows[0][1]
            n_rows = 2 if len(tiles) <= 20 else -(-len(tiles) // 10)
            cols = -(-len(tiles) // n_rows)
            grid = [tiles[r * cols:(r + 1) * cols] for r in range(n_rows)]
            picture, layout = grid_mosaic(grid, gap=gap, row_gap=int(0.3 * tile))
            xs, ys, texts = [], [], []
            for k, name in enumerate(names[: len(tiles)]):
                y, x = layout.origin(k // cols, k % cols)
                xs.append(x + layout.tile_w / 2)
                ys.append(y - 1)
                texts.append(name)
            self._grid = [[(names[r * cols + c] if r * cols + c < len(names) else "", rows[0][0])
                           for c in range(cols)] for r in range(n_rows)]
            self.mosaic.set_mosaic(picture, layout, margin_top=0.3 * tile)
            self.class_labels.fit_width = layout.tile_w + gap
            self.class_labels.set_labels(xs, ys, texts, align="above")
            self.row_labels.clear()
            self.tile_count = len(tiles)
            self._shown = None
        else:
            self._shown = (rows, class_names, names, self._draw_blocks(rows, names, gap))
        if caption:
            self.caption.setText(caption)

    def _draw_blocks(self, rows: list[tuple[str, list[np.ndarray]]], names: list[str], gap: int) -> tuple:
        """Several feature blocks: a row per block, a column per class; with many classes in a
        view not much wider than high (1024 x 700), the classes in two bands, one above the
        other, each with its names and its rows: tiles about twice as big as in one strip.
        Names wider than a tile on screen alternate between two lines. Returns the
        arrangement: (bands, staggered)."""
        n_classes = max(len(tiles) for _, tiles in rows)
        names = names[:n_classes]
        bands, stagger = self._arrangement(len(rows), names)
        cols = -(-n_classes // bands)
        blank = np.full_like(rows[0][1][0], 255)
        # each band's rows, then (between bands) a blank row where the next band's names go
        per_band = len(rows) + 1
        grid = []
        for b in range(bands):
            if b:
                grid.append([blank])
            grid += [tiles[b * cols:(b + 1) * cols] for _, tiles in rows]
        band_names = [names[b * cols:(b + 1) * cols] for b in range(bands)]
        picture, layout = grid_mosaic(grid, gap=gap)
        margin_top = (0.55 if stagger else 0.3) * layout.tile_h
        margin_left = 0.0 if len(rows) == 1 else 1.6 * layout.tile_w
        self.mosaic.set_mosaic(picture, layout, margin_top=margin_top, margin_left=margin_left)
        xs, ys, texts = [], [], []
        for b, band in enumerate(band_names):
            for c, name in enumerate(band):
                y, x = layout.origin(b * per_band, c)
                xs.append(x + layout.tile_w / 2)
                ys.append(y - 1 - (0.25 * layout.tile_h if stagger and c % 2 else 0.0))
                texts.append(name)
        self.class_labels.fit_width = (2 * (layout.tile_w + gap) - 2 * gap) if stagger else layout.tile_w + gap
        self.class_labels.set_labels(xs, ys, texts, align="above")
        block_rows = [(b * per_band + k, row_name) for b in range(bands) for k, (row_name, _) in enumerate(rows)]
        if len(rows) > 1:
            self.row_labels.fit_width = margin_left - 0.1 * layout.tile_w
            self.row_labels.set_labels([layout.origin(0, 0)[1]] * len(block_rows),
                                       [layout.origin(r, 0)[0] + layout.tile_h / 2 for r, _ in block_rows],
                                       [row_name for _, row_name in block_rows], align="right")
        else:
            self.row_labels.clear()
        self._grid = [[("", "")] * layout.cols for _ in range(len(grid))]
        for r, row_name in block_rows:
            band = band_names[r // per_band]
            self._grid[r] = [(band[c] if c < len(band) else "", row_name) for c in range(layout.cols)]
        self.tile_count = sum(len(t) for _, t in rows)
        return bands, stagger

    def _arrangement(self, n_blocks: int, names: list[str]) -> tuple[int, bool]:
        """(1 or 2 bands of classes: whichever shows the bigger tiles in the view's shape,
        whether the names alternate between two lines: when the widest is wider than a tile
        on screen at the labels' full size, and there are neighbours to alternate with)."""
        n_classes = len(names)
        width, height = max(1, self.mosaic.width()), max(1, self.mosaic.height())

        def tile_px(bands: int) -> float:
            columns = -(-n_classes // bands) + (1.6 if n_blocks > 1 else 0.0)  # and the row names
            return min(width / columns, height / (bands * (n_blocks + 0.55)))  # and the class names

        bands = 2 if n_classes > 6 and tile_px(2) > tile_px(1) else 1
        widest = self.class_labels.widest_px(names)
        return bands, -(-n_classes // bands) > 1 and widest > tile_px(bands) - TEXT_SPACING_PX

    def eventFilter(self, watched, event) -> bool:
        if watched is self.mosaic and event.type() == QEvent.Type.Resize and self._shown is not None:
            rows, class_names, names, arrangement = self._shown
            if self._arrangement(len(rows), names[:max(len(t) for _, t in rows)]) != arrangement:
                self.set_templates(rows, class_names)  # the other arrangement fits better now
        return super().eventFilter(watched, event)

    def _tile_text(self, row: int, col: int) -> str:
        if 0 <= row < len(self._grid) and 0 <= col < len(self._grid[row]):
            name, block = self._grid[row][col]
            return f"{name} · {block}" if name else ""
        return ""

    @property
    def label_texts(self) -> list[str]:
        return self.class_labels.texts + self.row_labels.texts

    def clear(self) -> None:
        """No templates: what the features' templates will show, or what to do to see any."""
        self.class_labels.clear()
        self.row_labels.clear()
        self._grid = []
        self.tile_count = 0
        self._shown = None
        features = self._bench.features if self._bench is not None else None
        if features is None:
            self.caption.setText(EMPTY)
            self.mosaic.clear_picture()
        else:
            self.caption.setText(_caption(features.pipeline))
            self.mosaic.show_hint(WAITING)


def _caption(pipeline) -> str:
    from linviz.workbench.template_pictures import templates_caption

    return templates_caption(pipeline)
