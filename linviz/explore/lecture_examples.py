"""The linear-classification lecture's two worked examples, computed by the labs' own code.

* **An image to class scores** (CS231n notes, "Linear classification"): a 2 x 2 image with
  pixels 56, 231, 24, 2 stretched into a column x, a 3 x 4 W (cat, dog, ship) and a bias b;
  s = W x + b. The notes' figure prints 61.95 for the ship's score, which leaves out the
  ship's bias -1.2: W x + b gives 60.75.
* **The multiclass SVM loss of three images** (the lecture's slides): scores of a cat, a car
  and a frog image under the classes cat, car, frog, with delta = 1: losses 2.9, 0 and 12.9,
  mean 5.27.

Both go through :func:`~linviz.explore.score_breakdown.score_breakdown`, the function the
"Inside one image" lab uses for real images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linviz.explore.score_breakdown import ScoreBreakdown, score_breakdown

IMAGE_CLASSES = ("cat", "dog", "ship")
IMAGE_PIXELS = np.array([[56.0, 231.0], [24.0, 2.0]])  # the 2 x 2 image; x is it row by row
IMAGE_W = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
IMAGE_B = np.array([1.1, 3.2, -1.2])
IMAGE_TRUE = 0  # it is a cat (and the classifier thinks it a dog)

SVM_CLASSES = ("cat", "car", "frog")
# scores[i, j]: image i's score for class j; image i's true class is i
SVM_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])


def image_x() -> np.ndarray:
    """The image stretched into a column: its pixels row by row."""
    return IMAGE_PIXELS.ravel()


def image_example(loss: str = "svm", delta: float = 1.0) -> ScoreBreakdown:
    """The image's scores s = W x + b and its loss (true class cat), with the bias folded into
    W as its last row and a 1 appended to x, as the lab does for every image."""
    W = np.vstack([IMAGE_W.T, IMAGE_B])
    x = np.append(image_x(), 1.0)
    return score_breakdown(W, x, IMAGE_TRUE, loss=loss, delta=delta)


@dataclass(frozen=True)
class SvmExample:
    breakdowns: tuple  # one ScoreBreakdown per image (cat, car, frog)

    @property
    def losses(self) -> np.ndarray:
        return np.array([b.data_loss for b in self.breakdowns])

    @property
    def mean_loss(self) -> float:
        return float(self.losses.mean())


def svm_example(delta: float = 1.0) -> SvmExample:
    """The three images' multiclass SVM losses: each image's scores taken as given (W the
    identity), its own class true."""
    identity = np.eye(len(SVM_CLASSES))
    return SvmExample(tuple(score_breakdown(identity, SVM_SCORES[i], i, loss="svm", delta=delta)
                            for i in range(len(SVM_CLASSES))))
