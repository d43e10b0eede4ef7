"""Letting the window run for a while from a script: a real event loop, as the app's own.

A loop of ``processEvents()`` and ``sleep()`` starves what the app schedules on timers (the
throttled labels, the quick lane's jobs): a picture grabbed mid-training then showed the
curves at 1,100 iterations beside a label still at 80 and an empty probabilities view.
"""

from __future__ import annotations


def pump(seconds: float = 0.2) -> None:
    """Run the Qt event loop for ``seconds``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()
