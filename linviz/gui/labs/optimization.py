"""Optimization: the lecture's three pictures of it, each a view of its own (tabs inside this lab).

* **Loss landscape** (:mod:`~linviz.gui.labs._optimization.landscape`): the loss along lines
  and over planes through the current W, live while training.
* **Strategy race** (:mod:`~linviz.gui.labs._optimization.race`): random search to Adam on
  one budget of examples processed, on the heavy lane.
* **Gradient check** (:mod:`~linviz.gui.labs._optimization.gradient_check`): analytic vs
  numerical derivatives, judged by the course's thresholds.

Each view is itself a :class:`~linviz.gui.labs.lab.Lab` (it computes only while shown); this
module only puts them side by side. The arithmetic is in :mod:`linviz.explore`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout

from linviz.gui.labs._optimization.gradient_check import GradientCheckView
from linviz.gui.labs._optimization.landscape import LandscapeView
from linviz.gui.labs._optimization.race import RaceView
from linviz.gui.labs.lab import Lab


class OptimizationLab(Lab):
    title = "Optimization"
    order = 70
    object_name = "optimizationLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.landscape = LandscapeView(workbench, job_queue)
        self.race = RaceView(workbench, job_queue)
        self.gradient_check = GradientCheckView(workbench, job_queue)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("optimizationTabs")
        self.tabs.setDocumentMode(True)
        for view in (self.landscape, self.race, self.gradient_check):
            self.tabs.addTab(view, view.title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def refresh(self) -> None:
        """Nothing of its own: each view refreshes itself when shown."""
