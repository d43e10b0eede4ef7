"""One image through a linear classifier, term by term, as the lecture's worked examples.

``score_breakdown(W, x, y, loss=...)`` returns every number of the lecture's tables for one
image: the scores s = x W, the SVM margins s_j - s_y + delta and hinge terms, the softmax's
unnormalized e^(s_j - max s) (shifted by the largest score so that nothing overflows; the
shift cancels in the probabilities), the probabilities and -ln p, the image's data loss L_i
(natural logarithm) and the regularization loss reg * R(W). Both losses' columns are always
computed; ``data_loss`` is the chosen loss's. Everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.models.losses import loss_named
from linviz.models.regularizers import regularization


@dataclass(frozen=True)
class ScoreBreakdown:
    loss: str  # which loss ``data_loss`` is: a name of linviz.models.LOSSES
    true_class: int
    delta: float
    squared: bool
    scores: np.ndarray  # (C,) s_j = x . w_j (the bias is x's last entry times W's last row)
    margins: np.ndarray  # (C,) s_j - s_y + delta; the true class's own entry is delta (no term)
    hinge: np.ndarray  # (C,) max(0, margin) (squared if ``squared``), 0 for the true class
    exp_shifted: np.ndarray  # (C,) e^(s_j - max s)
    probabilities: np.ndarray  # (C,) softmax
    neg_log_probabilities: np.ndarray  # (C,) -ln p_j
    data_loss: float  # L_i: sum of the hinge terms (SVM) or -ln p_y (softmax)
    reg_loss: float  # reg * R(W) over the regularized rows

    @property
    def total(self) -> float:
        """This image's share of the objective: L_i + reg * R(W)."""
        return self.data_loss + self.reg_loss

    @property
    def predicted_class(self) -> int:
        return int(np.argmax(self.scores))


def score_breakdown(W, x, y: int, *, loss: str, delta: float = 1.0, squared: bool = False, reg: float = 0.0,
                    reg_type: str = "l2", elastic_beta: float = 1.0,
                    n_reg_rows: Optional[int] = None) -> ScoreBreakdown:
    """The breakdown of image ``x`` (D,) (the bias 1 included, last) with true class ``y``.

    W is (D, C) with the bias as its last row. ``n_reg_rows`` as in
    :func:`linviz.models.svm_loss`: None regularizes every row (the textbook definition);
    D - 1 leaves the bias row free, as the app's models do.
    """
    spec = loss_named(loss)
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if W.ndim != 2 or x.shape != (W.shape[0],):
        raise ValueError(f"x must have shape ({W.shape[0]},) to match W {W.shape}, got {x.shape}")
    y = int(y)
    if not 0 <= y < W.shape[1]:
        raise ValueError(f"true class {y} is not among the {W.shape[1]} classes")
    scores = x @ W
    margins = scores - scores[y] + float(delta)
    hinge = np.maximum(margins, 0.0)
    if squared:
        hinge = hinge * hinge
    margins[y] = float(delta)
    hinge[y] = 0.0
    exp_shifted = np.exp(scores - scores.max())
    total = exp_shifted.sum()
    probabilities = exp_shifted / total
    neg_log = np.log(total) - (scores - scores.max())  # -ln p, without rounding p first
    data_loss = float(hinge.sum()) if spec.hinge else float(neg_log[y])
    reg_loss, _ = regularization(W, float(reg), reg_type, float(elastic_beta), n_reg_rows)
    return ScoreBreakdown(loss, y, float(delta), bool(squared), scores, margins, hinge, exp_shifted, probabilities,
                          neg_log, data_loss, float(reg_loss))
