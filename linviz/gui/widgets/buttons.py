"""Push buttons as narrow as their words.

Qt's styles give a push button with text at least 80 pixels, whatever the text: four short
buttons in a row ("Train", "Pause", "Stop", "Reset") then need 330 pixels and widen a side
panel past a 1024-pixel screen's room. A button here asks only for its widest text plus the
style's padding, so a row shrinks until the words themselves would be cut.
"""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

TEXT_PADDING = 14  # pixels beside the text: the frame and a little air


def text_width(button: QPushButton, *texts: str) -> int:
    """Pixels the widest of ``texts`` (default: the button's own) needs on ``button``."""
    metrics = button.fontMetrics()
    words = texts or (button.text(),)
    return max(metrics.horizontalAdvance(t.replace("&", "")) for t in words) + TEXT_PADDING


def narrow(button: QPushButton, *texts: str) -> QPushButton:
    """Let ``button`` shrink to its widest text (``texts``: every text it may show, e.g.
    "Pause" and "Resume"); returns it."""
    button.setMinimumWidth(text_width(button, *texts))
    return button
