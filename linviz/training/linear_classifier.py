"""``LinearClassifier``: a multiclass SVM or softmax classifier in the scikit-learn shape.

Hyper-parameters are stored unchanged by ``__init__``; ``fit`` learns ``W_`` (D, C) and
``classes_``, trains with :func:`linviz.training.train` (so the GUI and the estimator share
one loop, which is why it lives here, above the losses in ``linviz.models``) and returns
``self``. ``X`` is a feature matrix whose LAST column is the constant bias feature
(``FeaturePipeline.transform_features`` appends it); with ``unregularized_bias``
(the default) the last row of W, the biases, is not regularized.

``decision_function`` is the one scoring path (``X @ W_``); ``predict`` and ``score`` build on
it, and ``predict_proba`` exists only for the softmax loss, whose scores are log-probabilities
up to a constant. SVM scores are not probabilities, so an SVM has no ``predict_proba``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from linviz.models.losses import LOSSES, softmax
from linviz.training.loop import TrainingConfig, run_to_end, train


class LinearClassifier:
    """Multiclass linear classifier trained by minibatch optimization.

    Parameters mirror :class:`~linviz.training.TrainingConfig` (``loss`` "svm" or "softmax",
    ``reg``, ``reg_type``, ``optimizer``, ``learning_rate``, ...). ``reg``, ``learning_rate``,
    ``lr_decay``, ``momentum``, ``batch_size``, ``epochs``, ``search_step`` and
    ``search_sample`` left at None take the recommended settings for the loss and optimizer
    (:func:`~linviz.training.recommended_settings` on HOG + hue features), the defaults of the
    CLI and the window; for other features pass them, e.g.
    ``LinearClassifier(**recommended_settings("raw"))``. After ``fit``: ``W_`` (D, C),
    ``classes_`` (C,), ``loss_history_``, ``train_accuracies_``, ``val_accuracies_``,
    ``stop_reason_`` and ``final_snapshot_``.
    """

    def __init__(self, loss="softmax", reg=None, reg_type="l2", elastic_beta=1.0, delta=1.0,
                 squared_hinge=False, optimizer="sgd", learning_rate=None, lr_decay=None,
                 momentum=None, batch_size=None, epochs=None, seed=0, early_stopping=None,
                 unregularized_bias=True, keep_best=True, search_step=None, search_sample=None):
        self.loss = loss
        self.reg = reg
        self.reg_type = reg_type
        self.elastic_beta = elastic_beta
        self.delta = delta
        self.squared_hinge = squared_hinge
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_decay = lr_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.seed = seed
        self.early_stopping = early_stopping
        self.unregularized_bias = unregularized_bias
        self.keep_best = keep_best
        self.search_step = search_step
        self.search_sample = search_sample

    # sklearn-style parameter access (enough for clone-like use and GridSearch-like loops)
    def get_params(self, deep=True) -> dict:
        return {name: getattr(self, name) for name in (
            "loss", "reg", "reg_type", "elastic_beta", "delta", "squared_hinge", "optimizer",
            "learning_rate", "lr_decay", "momentum", "batch_size", "epochs", "seed",
            "early_stopping", "unregularized_bias", "keep_best", "search_step", "search_sample")}

    def set_params(self, **params) -> "LinearClassifier":
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"unknown parameter {name!r}")
            setattr(self, name, value)
        return self

    def training_config(self, epochs: Optional[int] = None):
        """The :class:`~linviz.training.TrainingConfig` ``fit`` trains with (the settings left
        at None filled in from the recommended ones)."""
        return TrainingConfig(
            loss=self.loss, delta=self.delta, squared_hinge=self.squared_hinge, reg=self.reg,
            reg_type=self.reg_type, elastic_beta=self.elastic_beta, optimizer=self.optimizer,
            learning_rate=self.learning_rate, lr_decay=self.lr_decay, momentum=self.momentum,
            batch_size=self.batch_size, epochs=self.epochs if epochs is None else epochs,
            seed=self.seed, early_stopping=self.early_stopping,
            unregularized_bias=self.unregularized_bias, search_step=self.search_step,
            search_sample=self.search_sample)

    def _encode(self, y) -> np.ndarray:
        y = np.asarray(y)
        positions = np.searchsorted(self.classes_, y)
        positions = np.clip(positions, 0, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[positions], y):
            unknown = sorted(set(np.unique(y).tolist()) - set(self.classes_.tolist()))
            raise ValueError(f"labels {unknown[:5]} are not among classes_ {self.classes_.tolist()}")
        return positions.astype(np.int64)

    def _run(self, X, y, X_val, y_val, W0, epochs=None):
        y_idx = self._encode(y)
        val_idx = self._encode(y_val) if y_val is not None else None
        final = run_to_end(train(X, y_idx, X_val, val_idx, self.training_config(epochs), W0=W0,
                                 n_classes=len(self.classes_)))
        use_best = self.keep_best or final.stop_reason.startswith("diverged")
        self.W_ = final.best_W if use_best and final.best_W is not None else final.W
        self.final_snapshot_ = final
        self.loss_history_ = np.array(final.losses)
        self.train_accuracies_ = list(final.train_accuracies)
        self.val_accuracies_ = list(final.val_accuracies)
        self.stop_reason_ = final.stop_reason
        return self

    def fit(self, X, y, X_val=None, y_val=None) -> "LinearClassifier":
        """Train from scratch. With validation data and ``keep_best``, W_ is the best-validation W."""
        self.classes_ = np.unique(np.asarray(y))
        if len(self.classes_) < 2:
            raise ValueError("fit needs at least two classes in y")
        return self._run(X, y, X_val, y_val, None)

    def partial_fit(self, X, y, classes=None) -> "LinearClassifier":
        """One epoch over (X, y) starting from the current W_ (``classes`` needed on the first call).

        The optimizer state (momentum, Adam moments) starts afresh on every call.
        """
        if not hasattr(self, "W_"):
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit")
            self.classes_ = np.unique(np.asarray(classes))
            W0 = None
        else:
            W0 = self.W_
        return self._run(X, y, None, None, W0, epochs=1)

    def _check_fitted(self, X) -> np.ndarray:
        if not hasattr(self, "W_"):
            raise AttributeError("this LinearClassifier is not fitted yet; call fit first")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.W_.shape[0]:
            raise ValueError(f"X must have shape (N, {self.W_.shape[0]}) (features + bias column), "
                             f"got {X.shape}")
        return X

    def decision_function(self, X) -> np.ndarray:
        """Class scores X @ W_ (N, C): the one scoring path of the classifier."""
        X = self._check_fitted(X)
        return np.asarray(X, dtype=self.W_.dtype) @ self.W_

    def predict(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    @property
    def predict_proba(self):
        """Class probabilities (softmax only; an SVM's scores are not probabilities)."""
        spec = LOSSES.get(self.loss)
        if spec is None or not spec.has_probabilities:
            raise AttributeError(f"predict_proba is only defined for a loss with probabilities (softmax), not "
                                 f"loss={self.loss!r}; use decision_function for its scores")
        return self._predict_proba

    def _predict_proba(self, X) -> np.ndarray:
        return softmax(self.decision_function(X).astype(np.float64))

    def score(self, X, y) -> float:
        """Mean accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
