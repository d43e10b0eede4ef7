"""Shared plot settings for the live views."""

from __future__ import annotations


def outward_ticks(plot_item) -> None:
    """Ticks pointing out of the plot area.

    pyqtgraph's default ticks point inwards, so every axis' bounding box overlaps the data
    area and gets repainted whenever a curve in it changes (25 times a second while
    training). Pointing them outwards keeps axis repaints to real range changes.
    """
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        axis.setStyle(tickLength=5)
