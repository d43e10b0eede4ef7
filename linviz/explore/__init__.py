"""linviz.explore: the computations behind the labs, one module per lab. No Qt.

Each function here takes plain arrays (and, where features matter, a fitted
:class:`~linviz.features.FeaturePipeline`), so a notebook can use them as the app does.

- :func:`score_breakdown`: one image's scores, SVM margins and hinge terms, softmax
  probabilities and -ln p, its data loss and the regularization loss (the lecture's tables).
- :func:`evidence`: where a score comes from: the products w_k x_k summed back onto the
  image, per feature block (pixels, HOG cells, histogram bins, colour layout), plus the bias.
"""

from linviz.explore.evidence import BlockEvidence, Evidence, evidence
from linviz.explore.gradient_table import GradientTable, gradient_table
from linviz.explore.loss_surface import LossSurface, loss_surface
from linviz.explore.race import RaceSettings, RaceSnapshot, race
from linviz.explore.score_breakdown import ScoreBreakdown, score_breakdown

__all__ = ["BlockEvidence", "Evidence", "GradientTable", "LossSurface", "RaceSettings", "RaceSnapshot",
           "ScoreBreakdown", "evidence", "gradient_table", "loss_surface", "race", "score_breakdown"]
