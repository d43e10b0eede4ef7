"""linviz.explore: the computations behind the labs, one module per lab. No Qt.

Each function here takes plain arrays (and, where features matter, a fitted
:class:`~linviz.features.FeaturePipeline`), so a notebook can use them as the app does.

- :func:`score_breakdown`: one image's scores, SVM margins and hinge terms, softmax
  probabilities and -ln p, its data loss and the regularization loss (the lecture's tables).
- :func:`evidence`: where a score comes from: the products w_k x_k summed back onto the
  image, per feature block (pixels, HOG cells, histogram bins, colour layout), plus the bias.
- :mod:`linviz.explore.knn`: k-nearest neighbours: cross-validation snapshots fold by fold,
  one image's neighbours and vote, test accuracy and timing beside a linear model.
"""

from linviz.explore.evidence import BlockEvidence, Evidence, evidence
from linviz.explore.knn import (ClassifierTiming, CrossValidation, KnnFeatures, KnnSetup, Neighbors,
                                cross_validation, knn_test, linear_test, neighbors_of, prepare_knn,
                                run_cross_validation)
from linviz.explore.score_breakdown import ScoreBreakdown, score_breakdown

__all__ = ["BlockEvidence", "ClassifierTiming", "CrossValidation", "Evidence", "KnnFeatures", "KnnSetup", "Neighbors",
           "ScoreBreakdown", "cross_validation", "evidence", "knn_test", "linear_test", "neighbors_of", "prepare_knn",
           "run_cross_validation", "score_breakdown"]
