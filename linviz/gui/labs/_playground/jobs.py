"""The work the playground lab sends to the quick lane (no Qt in here): loading the compiled
losses once, and a loss landscape."""

from __future__ import annotations

import dataclasses
from typing import Optional

from linviz.explore import playground as pgd
from linviz.models.losses import LOSSES

LANDSCAPE_SIZE = 25  # grid points per side


def warmup_job():
    """Evaluate every compiled loss once on the demo state: from Numba's cache that takes about
    a second, after which every evaluation on the GUI thread is instant."""

    def job(ctx) -> bool:
        state = pgd.new_state()
        for loss in LOSSES:  # the compiled ones
            pgd.evaluate(state.points, state.labels, state.W, state.b, loss=loss, reg=0.1)
            pgd.loss_landscape(state.replace(settings=dataclasses.replace(state.settings, loss=loss)), size=2)
        return True

    return job


def landscape_job(state: pgd.PlaygroundState, center):
    """The landscape of ``state`` around ``center`` = (x, y, parameters, span)."""

    def job(ctx) -> Optional[pgd.Landscape]:
        return pgd.loss_landscape(state, center=center[:2], span=center[3], size=LANDSCAPE_SIZE,
                                  cancelled=ctx.cancelled)

    return job
