"""linviz.models: the SVM and softmax losses, regularizers, LinearClassifier, kNN, model files."""

from linviz.models.losses import LOSSES, LossFunction, softmax_loss, svm_loss
from linviz.models.regularizers import REG_TYPES, regularization

__all__ = ["LOSSES", "LossFunction", "REG_TYPES", "regularization", "softmax_loss", "svm_loss"]
