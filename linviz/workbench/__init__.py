"""linviz.workbench: what the window shows, without the window. No Qt in here.

The evented state (:class:`Workbench`, whose psygnal signals the views and labs connect to),
the immutable values it holds (:mod:`linviz.workbench.state`), the job functions that make them
off the GUI thread (:mod:`linviz.workbench.jobs`; the kNN lab's in :mod:`~linviz.workbench.knn_jobs`),
the history of recorded runs, and the picture
helpers that turn weights and features into images. Usable from a script or a notebook, and
tested without a display.
"""

from linviz.workbench.state import (SPLITS, Evaluation, ExtractedFeatures, Model, PreparedData, SelectedImage,
                                    Selection, SplitSettings, TrainingFrame, UserImage)
from linviz.workbench.workbench import Workbench

__all__ = ["SPLITS", "Evaluation", "ExtractedFeatures", "Model", "PreparedData", "SelectedImage", "Selection",
           "SplitSettings", "TrainingFrame", "UserImage", "Workbench"]
