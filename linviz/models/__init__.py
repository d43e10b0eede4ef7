"""linviz.models: the SVM and softmax losses and their table (LOSSES), the regularizers and
theirs (REG_TYPES), kNN, model files."""

from linviz.models.knn import METRICS as KNN_METRICS
from linviz.models.knn import KNearestNeighbor, cross_validate_knn, pairwise_distances
from linviz.models.losses import LOSSES, LossFunction, LossSpec, loss_named, softmax, softmax_loss, svm_loss
from linviz.models.model_file import ImagePrediction, SavedModel, load_model, save_model
from linviz.models.regularizers import REG_TYPES, RegularizerSpec, regularization, regularizer_named

__all__ = [
    "ImagePrediction", "KNN_METRICS", "KNearestNeighbor", "LOSSES", "LossFunction", "LossSpec", "REG_TYPES",
    "RegularizerSpec", "SavedModel", "cross_validate_knn", "load_model", "loss_named", "pairwise_distances",
    "regularization", "regularizer_named", "save_model", "softmax", "softmax_loss", "svm_loss",
]
