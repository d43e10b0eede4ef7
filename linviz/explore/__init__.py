"""linviz.explore: the computations behind the labs, one module per lab. No Qt.

Each function here takes plain arrays (and, where features matter, a fitted
:class:`~linviz.features.FeaturePipeline`), so a notebook can use them as the app does.

- :func:`score_breakdown`: one image's scores, SVM margins and hinge terms, softmax
  probabilities and -ln p, its data loss and the regularization loss (the lecture's tables).
- :func:`evidence`: where a score comes from: the products w_k x_k summed back onto the
  image, per feature block (pixels, HOG cells, histogram bins, color layout), plus the bias.
- :mod:`linviz.explore.knn`: k-nearest neighbours: cross-validation snapshots fold by fold,
  one image's neighbours and vote, test accuracy and timing beside a linear model.
- :func:`loss_surface`: the loss along lines and over planes through W, exact and fast
  (:mod:`linviz.explore.loss_surface`, with the directions: random, gradient, trajectory PCA).
- :func:`race`: random search to Adam on one budget of examples processed
  (:mod:`linviz.explore.race`).
- :func:`gradient_table`: the gradient check with the course's verdicts, and
  :func:`gradient_sweep`, its error against the step h (:mod:`linviz.explore.gradient_table`).

The package binds only the result types; each function is imported from its own module
(``from linviz.explore.evidence import evidence``), so that ``linviz.explore.evidence`` is always
the module, never a function of the same name.
"""

from linviz.explore.evidence import BlockEvidence, Evidence
from linviz.explore.gradient_table import GradientTable
from linviz.explore.knn import ClassifierTiming, CrossValidation, KnnFeatures, KnnSetup, Neighbors
from linviz.explore.loss_surface import LossSurface
from linviz.explore.race import RaceSettings, RaceSnapshot
from linviz.explore.score_breakdown import ScoreBreakdown

__all__ = ["BlockEvidence", "ClassifierTiming", "CrossValidation", "Evidence", "GradientTable", "KnnFeatures",
           "KnnSetup", "LossSurface", "Neighbors", "RaceSettings", "RaceSnapshot", "ScoreBreakdown"]
