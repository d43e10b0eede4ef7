"""Weight templates: one tile per class (columns) and per feature block (rows), ONE image."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from linviz.gui.pictures import grid_mosaic
from linviz.gui.views.mosaic_view import MosaicView


class TemplatesView(QWidget):
    """Draws template pictures (``set_templates``); bound to a workbench, its model's."""

    def __init__(self, bench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("templatesView")
        self.caption = QLabel("Weight templates: train a model to see what each class looks for")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.mosaic = MosaicView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.mosaic, 1)
        self.tile_count = 0
        self._bench = bench
        self._drawn = None
        if bench is not None:
            bench.model_changed.connect(self._on_model)

    def _on_model(self, model) -> None:
        if model is None:
            self._drawn = None
            self.clear()
        elif model.templates is not None and model.templates is not self._drawn:
            from linviz.gui.template_pictures import templates_caption

            self._drawn = model.templates
            self.set_templates(model.templates, self._bench.class_names,
                               caption=templates_caption(model.features.pipeline))

    def set_templates(self, rows: list[tuple[str, list[np.ndarray]]], class_names: list[str], caption: str = "") -> None:
        """``rows``: (feature block name, one (s, s, 3) uint8 tile per class) per block."""
        if not rows:
            return
        tile = rows[0][1][0].shape[0]
        gap = max(2, tile // 12)
        labels = []
        if len(rows) == 1 and len(rows[0][1]) > 6:
            # One feature block: wrap the classes into two rows, so each tile is twice as big,
            # with a name above every tile.
            tiles = rows[0][1]
            cols = -(-len(tiles) // 2)
            grid = [tiles[:cols], tiles[cols:]]
            picture, layout = grid_mosaic(grid, gap=gap, row_gap=int(0.3 * tile))
            for k, name in enumerate(class_names[: len(tiles)]):
                y, x = layout.origin(k // cols, k % cols)
                labels.append((name, x + layout.tile_w / 2, y - 1, "top"))
            self.mosaic.set_mosaic(picture, layout, margin_top=0.3 * tile)
            self.mosaic.set_labels(labels)
            self.tile_count = len(tiles)
            if caption:
                self.caption.setText(caption)
            return
        picture, layout = grid_mosaic([tiles for _, tiles in rows], gap=gap)
        # Long class names ("automobile") are wider than a tile: alternate two label lines.
        longest = max((len(n) for n in class_names), default=0)
        stagger = longest > 6 and len(class_names) > 4
        margin_top = (0.55 if stagger else 0.3) * layout.tile_h
        margin_left = 0.0 if len(rows) == 1 else 1.3 * layout.tile_w
        self.mosaic.set_mosaic(picture, layout, margin_top=margin_top, margin_left=margin_left)
        for c, name in enumerate(class_names[: layout.cols]):
            y, x = layout.origin(0, c)
            lift = 0.25 * layout.tile_h if stagger and c % 2 else 0.0
            labels.append((name, x + layout.tile_w / 2, y - 1 - lift, "top"))
        if len(rows) > 1:
            for r, (row_name, _) in enumerate(rows):
                y, x = layout.origin(r, 0)
                labels.append((row_name, x - 3, y + layout.tile_h / 2, "left"))
        self.mosaic.set_labels(labels)
        self.tile_count = sum(len(t) for _, t in rows)
        if caption:
            self.caption.setText(caption)

    def clear(self) -> None:
        self.mosaic.clear_picture()
        self.tile_count = 0
        self.caption.setText("Weight templates: train a model to see what each class looks for")
