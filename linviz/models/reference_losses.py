"""Plain NumPy reference implementations of the SVM and softmax losses.

Two per loss, written the way the CS231n notes derive them:

* ``*_naive``: explicit loops over images and classes, the definition read aloud;
* ``*_vectorized``: the same in whole-array NumPy, what a careful NumPy user writes.

They exist to check the fused kernels (tests) and to be timed against them (bench); the
application itself always uses :func:`linviz.models.svm_loss` / ``softmax_loss``. All of them
return ``(loss, dW)`` with the data loss averaged over N plus ``reg * R(W)``.
"""

from __future__ import annotations

import numpy as np

from linviz.models.regularizers import regularization


def svm_loss_naive(W, X, y, reg, delta=1.0, *, squared=False, reg_type="l2", elastic_beta=1.0,
                   n_reg_rows=None):
    """Multiclass SVM (hinge) loss with loops: L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + delta)."""
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros(W.shape, dtype=np.float64)
    for i in range(num_train):
        scores = X[i].astype(np.float64) @ W.astype(np.float64)
        correct = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct + delta
            if margin > 0:
                if squared:
                    loss += margin * margin
                    dW[:, j] += 2.0 * margin * X[i]
                    dW[:, y[i]] -= 2.0 * margin * X[i]
                else:
                    loss += margin
                    dW[:, j] += X[i]
                    dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    reg_loss, reg_grad = regularization(W, reg, reg_type, elastic_beta, n_reg_rows)
    return loss + reg_loss, (dW + reg_grad).astype(W.dtype)


def svm_loss_vectorized(W, X, y, reg, delta=1.0, *, squared=False, reg_type="l2", elastic_beta=1.0,
                        n_reg_rows=None):
    """The SVM loss without loops, computed in the dtype of W and X (float32 for the bench)."""
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + W.dtype.type(delta))
    margins[rows, y] = 0
    if squared:
        data_loss = np.sum(margins.astype(np.float64) ** 2) / n
        coeff = 2 * margins
    else:
        data_loss = np.sum(margins, dtype=np.float64) / n
        coeff = (margins > 0).astype(W.dtype)
    coeff[rows, y] = -np.sum(coeff, axis=1)
    dW = X.T @ coeff
    dW /= n
    reg_loss, reg_grad = regularization(W, reg, reg_type, elastic_beta, n_reg_rows)
    dW += reg_grad
    return float(data_loss + reg_loss), dW


def softmax_loss_naive(W, X, y, reg, *, reg_type="l2", elastic_beta=1.0, n_reg_rows=None):
    """Softmax (cross-entropy) loss with loops: L_i = -log(e^{s_{y_i}} / sum_j e^{s_j})."""
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros(W.shape, dtype=np.float64)
    for i in range(num_train):
        scores = X[i].astype(np.float64) @ W.astype(np.float64)
        scores -= scores.max()  # e^{s - max} never overflows; the ratio is unchanged
        exp_scores = np.exp(scores)
        total = exp_scores.sum()
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            p = exp_scores[j] / total
            dW[:, j] += (p - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    reg_loss, reg_grad = regularization(W, reg, reg_type, elastic_beta, n_reg_rows)
    return loss + reg_loss, (dW + reg_grad).astype(W.dtype)


def softmax_loss_vectorized(W, X, y, reg, *, reg_type="l2", elastic_beta=1.0, n_reg_rows=None):
    """The softmax loss without loops, computed in the dtype of W and X."""
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    sums = exp_scores.sum(axis=1, keepdims=True)
    data_loss = np.sum(np.log(sums[:, 0].astype(np.float64)) - scores[rows, y]) / n
    probs = exp_scores / sums
    probs[rows, y] -= 1
    dW = X.T @ probs
    dW /= n
    reg_loss, reg_grad = regularization(W, reg, reg_type, elastic_beta, n_reg_rows)
    dW += reg_grad
    return float(data_loss + reg_loss), dW
