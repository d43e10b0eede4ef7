"""A view as a picture: PNG at the size it has on screen or at a chosen size, and SVG where the
view is drawn as vectors.

The view is painted again through a scaled QPainter (``QWidget.render``), not grabbed and
stretched, so text, lines and bars stay sharp at any size, as pyqtgraph's own exporters do;
pictures inside the view (templates, thumbnails) are scaled as pictures. A chosen size keeps
the view's proportions when asked to; otherwise the view is scaled to fit and centred on its
background. Files are written whole or not at all (:func:`linviz.safe_files.atomic_write`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize
from PySide6.QtGui import QImage, QPainter, QRegion
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from linviz.errors import LinvizError

MAX_SIDE = 8192  # pixels per side of an exported picture
MAX_PIXELS = 40_000_000  # 160 MB of ARGB: the most one export may allocate


class ExportError(LinvizError):
    """A view that cannot be exported as asked (size, format, file)."""


def is_vector(widget: QWidget) -> bool:
    """True when the view draws lines, bars and text only (no image of pixels), so an SVG
    file of it is a real vector drawing."""
    import pyqtgraph as pg

    for view in [widget] + widget.findChildren(pg.GraphicsView):
        if isinstance(view, pg.GraphicsView) and view.isVisible():
            if any(isinstance(item, pg.ImageItem) and item.isVisible() for item in view.scene().items()):
                return False
    for items in widget.findChildren(QAbstractItemView):
        if isinstance(items, QListView) and items.isVisible() and items.viewMode() == QListView.ViewMode.IconMode:
            return False  # thumbnails
    return True


def fitted_size(widget: QWidget, width: int, height: Optional[int] = None) -> QSize:
    """``width`` x the height that keeps the view's proportions (or ``height`` as given)."""
    w, h = max(1, widget.width()), max(1, widget.height())
    if height is None:
        height = max(1, round(width * h / w))
    return QSize(int(width), int(height))


def check_size(size: QSize) -> None:
    w, h = size.width(), size.height()
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise ExportError(f"{w} x {h}: each side must be between 1 and {MAX_SIDE:,} pixels")
    if w * h > MAX_PIXELS:
        raise ExportError(f"{w} x {h} is {w * h:,} pixels; at most {MAX_PIXELS:,}")


def _paint(widget: QWidget, painter: QPainter, size: QSize) -> None:
    """The view, scaled to fit ``size`` and centred, on its own background."""
    w, h = max(1, widget.width()), max(1, widget.height())
    scale = min(size.width() / w, size.height() / h)
    painter.fillRect(QRect(QPoint(0, 0), size), widget.palette().window())
    painter.translate((size.width() - w * scale) / 2, (size.height() - h * scale) / 2)
    painter.scale(scale, scale)
    import pyqtgraph as pg

    for view in [widget] + widget.findChildren(pg.GraphicsView):
        if isinstance(view, pg.GraphicsView):
            view.scene().prepareForPaint()  # what pyqtgraph's own render does first
    # QWidget's render: a graphics view's own render() draws only its scene, without its frame
    QWidget.render(widget, painter, QPoint(0, 0), QRegion(),
                   QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren)


def render_png(widget: QWidget, size: Optional[QSize] = None) -> bytes:
    """The view as PNG bytes, at ``size`` (default: its size on screen)."""
    size = size or widget.size()
    check_size(size)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                           | QPainter.RenderHint.SmoothPixmapTransform)
    try:
        _paint(widget, painter, size)
    finally:
        painter.end()
    return _encoded(image)


def _encoded(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("the picture could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


def render_svg(widget: QWidget, size: Optional[QSize] = None, title: str = "") -> bytes:
    """The view as an SVG drawing of ``size`` (default: its size on screen)."""
    from PySide6.QtSvg import QSvgGenerator

    size = size or widget.size()
    check_size(size)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRect(QPoint(0, 0), size))
    generator.setTitle(title or "linviz view")
    generator.setDescription("Exported from linviz")
    painter = QPainter(generator)
    try:
        _paint(widget, painter, size)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def export_view(widget: QWidget, path, size: Optional[QSize] = None, fmt: Optional[str] = None,
                title: str = "") -> QSize:
    """Write the view to ``path`` as PNG or SVG (``fmt``, else the file's extension); returns
    the size written. ExportError with the reason (size, format, a place that cannot be written)."""
    from linviz.safe_files import FileRefusedError, atomic_write, check_write_target

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "png").lower()
    if fmt not in ("png", "svg"):
        raise ExportError(f"{path.name}: export as .png or .svg, not .{fmt}")
    if fmt == "svg" and not is_vector(widget):
        raise ExportError(f"{title or 'this view'} shows pictures made of pixels: export it as PNG")
    size = size or widget.size()
    try:
        check_write_target(path)
        data = render_png(widget, size) if fmt == "png" else render_svg(widget, size, title)
        with atomic_write(path) as f:
            f.write(data)
    except FileRefusedError as exc:
        raise ExportError(f"cannot write {path}: {exc.reason}") from None
    except OSError as exc:
        raise ExportError(f"cannot write {path} ({exc.strerror or exc})") from None
    return size
