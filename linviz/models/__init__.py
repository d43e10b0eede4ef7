"""linviz.models: the SVM and softmax losses, regularizers, kNN, model files."""

from linviz.models.knn import METRICS as KNN_METRICS
from linviz.models.knn import KNearestNeighbor, cross_validate_knn, pairwise_distances
from linviz.models.losses import LOSSES, LossFunction, softmax, softmax_loss, svm_loss
from linviz.models.model_file import ImagePrediction, SavedModel, load_model, save_model
from linviz.models.regularizers import REG_TYPES, regularization

__all__ = [
    "ImagePrediction", "KNN_METRICS", "KNearestNeighbor", "LOSSES", "LossFunction", "REG_TYPES",
    "SavedModel", "cross_validate_knn", "load_model", "pairwise_distances", "regularization",
    "save_model", "softmax", "softmax_loss", "svm_loss",
]
