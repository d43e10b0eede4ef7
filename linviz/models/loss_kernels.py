"""Fused Numba kernels for the SVM and softmax losses: scores, margins or probabilities, and
the gradient in one compiled call over a minibatch.

Layout. The kernels take the weights transposed, ``Wt`` (C, D) C-contiguous, and write the
gradient into a preallocated ``dWt`` of the same shape: every inner loop then runs over the
D features of one class row and one image row, both contiguous, which is what the vectorizer
needs. (A (D, C) layout puts a loop of only C = 10 classes innermost.) ``X`` is the whole
feature matrix and ``idx`` the rows of the minibatch: the kernel reads the rows in place, so
there is no ``X[idx]`` copy per iteration (for 200 raw-pixel rows that copy alone costs about
as much as the NumPy matrix product).

Blocking. Scores and gradient are computed for 8 images x 2 classes at a time with the
partial sums in registers: each loaded value of X feeds two multiply-adds and each loaded
weight eight, instead of one each. A batch that is not a multiple of 8 is padded with its
first row and a zero gradient weight, so there is one code path. ``fastmath`` is limited
to ``reassoc`` and ``contract``: the dot products may be summed in vector lanes and fused,
but NaN and inf keep their meaning (the training loop relies on them to detect divergence).

Precision. Dot products run in the data type (float32 in the app, as many partial sums as
BLAS uses); the per-image loss, the softmax normalizer and the batch total accumulate in
float64, where float32 loses digits (a sum of 200 losses, or of exp() over the classes).
"""

from __future__ import annotations

import numpy as np

from linviz.numba_setup import kernel

_FAST = {"reassoc", "contract"}
BLOCK = 8


@kernel(fastmath=_FAST)
def _regularize(Wt, dWt, reg, reg_code, elastic_beta, n_reg):
    """Write d(reg*R)/dW into dWt (zero beyond ``n_reg`` features) and return reg*R(W)."""
    C, D = Wt.shape
    total = 0.0
    for c in range(C):
        w = Wt[c]
        g = dWt[c]
        if reg_code == 0:
            for d in range(n_reg):
                v = w[d]
                total += np.float64(v) * v
                g[d] = 2.0 * reg * v
        elif reg_code == 1:
            for d in range(n_reg):
                v = w[d]
                total += abs(np.float64(v))
                g[d] = reg * np.sign(v)
        else:
            for d in range(n_reg):
                v = w[d]
                total += elastic_beta * np.float64(v) * v + abs(np.float64(v))
                g[d] = reg * (2.0 * elastic_beta * v + np.sign(v))
        for d in range(n_reg, D):
            g[d] = 0
    return reg * total


@kernel(fastmath=_FAST)
def _block_rows(X, idx, b0, rows):
    """The 8 row numbers of block ``b0`` (padded with the first one); returns how many are real."""
    B = idx.shape[0]
    n = min(BLOCK, B - b0)
    for k in range(BLOCK):
        rows[k] = idx[b0 + k] if k < n else idx[b0]
    return n


@kernel(fastmath=_FAST)
def _block_scores(Wt, X, rows, S):
    """S[k, c] = X[rows[k]] . Wt[c] for the 8 rows of a block, two classes at a time."""
    C, D = Wt.shape
    x0 = X[rows[0]]; x1 = X[rows[1]]; x2 = X[rows[2]]; x3 = X[rows[3]]  # noqa: E702
    x4 = X[rows[4]]; x5 = X[rows[5]]; x6 = X[rows[6]]; x7 = X[rows[7]]  # noqa: E702
    c = 0
    while c + 1 < C:
        w = Wt[c]
        v = Wt[c + 1]
        # np.float32(0) accumulators become float64 when the data is float64 (type unification).
        a0 = np.float32(0.0); a1 = np.float32(0.0); a2 = np.float32(0.0); a3 = np.float32(0.0)  # noqa: E702
        a4 = np.float32(0.0); a5 = np.float32(0.0); a6 = np.float32(0.0); a7 = np.float32(0.0)  # noqa: E702
        e0 = np.float32(0.0); e1 = np.float32(0.0); e2 = np.float32(0.0); e3 = np.float32(0.0)  # noqa: E702
        e4 = np.float32(0.0); e5 = np.float32(0.0); e6 = np.float32(0.0); e7 = np.float32(0.0)  # noqa: E702
        for d in range(D):
            wd = w[d]
            vd = v[d]
            p = x0[d]; a0 += p * wd; e0 += p * vd  # noqa: E702
            p = x1[d]; a1 += p * wd; e1 += p * vd  # noqa: E702
            p = x2[d]; a2 += p * wd; e2 += p * vd  # noqa: E702
            p = x3[d]; a3 += p * wd; e3 += p * vd  # noqa: E702
            p = x4[d]; a4 += p * wd; e4 += p * vd  # noqa: E702
            p = x5[d]; a5 += p * wd; e5 += p * vd  # noqa: E702
            p = x6[d]; a6 += p * wd; e6 += p * vd  # noqa: E702
            p = x7[d]; a7 += p * wd; e7 += p * vd  # noqa: E702
        S[0, c] = a0; S[1, c] = a1; S[2, c] = a2; S[3, c] = a3  # noqa: E702
        S[4, c] = a4; S[5, c] = a5; S[6, c] = a6; S[7, c] = a7  # noqa: E702
        S[0, c + 1] = e0; S[1, c + 1] = e1; S[2, c + 1] = e2; S[3, c + 1] = e3  # noqa: E702
        S[4, c + 1] = e4; S[5, c + 1] = e5; S[6, c + 1] = e6; S[7, c + 1] = e7  # noqa: E702
        c += 2
    if c < C:  # odd number of classes: the last one alone
        w = Wt[c]
        a0 = np.float32(0.0); a1 = np.float32(0.0); a2 = np.float32(0.0); a3 = np.float32(0.0)  # noqa: E702
        a4 = np.float32(0.0); a5 = np.float32(0.0); a6 = np.float32(0.0); a7 = np.float32(0.0)  # noqa: E702
        for d in range(D):
            wd = w[d]
            a0 += x0[d] * wd; a1 += x1[d] * wd; a2 += x2[d] * wd; a3 += x3[d] * wd  # noqa: E702
            a4 += x4[d] * wd; a5 += x5[d] * wd; a6 += x6[d] * wd; a7 += x7[d] * wd  # noqa: E702
        S[0, c] = a0; S[1, c] = a1; S[2, c] = a2; S[3, c] = a3  # noqa: E702
        S[4, c] = a4; S[5, c] = a5; S[6, c] = a6; S[7, c] = a7  # noqa: E702


@kernel(fastmath=_FAST)
def _block_gradient(G, X, rows, dWt):
    """dWt[c] += sum_k G[k, c] * X[rows[k]] for the 8 rows of a block, two classes at a time."""
    C, D = dWt.shape
    x0 = X[rows[0]]; x1 = X[rows[1]]; x2 = X[rows[2]]; x3 = X[rows[3]]  # noqa: E702
    x4 = X[rows[4]]; x5 = X[rows[5]]; x6 = X[rows[6]]; x7 = X[rows[7]]  # noqa: E702
    c = 0
    while c + 1 < C:
        g0 = G[0, c]; g1 = G[1, c]; g2 = G[2, c]; g3 = G[3, c]  # noqa: E702
        g4 = G[4, c]; g5 = G[5, c]; g6 = G[6, c]; g7 = G[7, c]  # noqa: E702
        h0 = G[0, c + 1]; h1 = G[1, c + 1]; h2 = G[2, c + 1]; h3 = G[3, c + 1]  # noqa: E702
        h4 = G[4, c + 1]; h5 = G[5, c + 1]; h6 = G[6, c + 1]; h7 = G[7, c + 1]  # noqa: E702
        r = dWt[c]
        q = dWt[c + 1]
        for d in range(D):
            p0 = x0[d]; p1 = x1[d]; p2 = x2[d]; p3 = x3[d]  # noqa: E702
            p4 = x4[d]; p5 = x5[d]; p6 = x6[d]; p7 = x7[d]  # noqa: E702
            r[d] += (g0 * p0 + g1 * p1 + g2 * p2 + g3 * p3) + (g4 * p4 + g5 * p5 + g6 * p6 + g7 * p7)
            q[d] += (h0 * p0 + h1 * p1 + h2 * p2 + h3 * p3) + (h4 * p4 + h5 * p5 + h6 * p6 + h7 * p7)
        c += 2
    if c < C:
        g0 = G[0, c]; g1 = G[1, c]; g2 = G[2, c]; g3 = G[3, c]  # noqa: E702
        g4 = G[4, c]; g5 = G[5, c]; g6 = G[6, c]; g7 = G[7, c]  # noqa: E702
        r = dWt[c]
        for d in range(D):
            r[d] += (g0 * x0[d] + g1 * x1[d] + g2 * x2[d] + g3 * x3[d]) + (
                g4 * x4[d] + g5 * x5[d] + g6 * x6[d] + g7 * x7[d])


@kernel(fastmath=_FAST)
def svm_batch(Wt, X, y, idx, delta, squared, reg, reg_code, elastic_beta, n_reg, want_grad, dWt):
    """Multiclass SVM loss of the rows ``idx`` (mean over them) plus reg*R(W); gradient into dWt.

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + delta), or its square when ``squared``.
    With ``want_grad`` False only the loss is computed (dWt is left untouched).
    """
    C, D = Wt.shape
    B = idx.shape[0]
    if want_grad:
        reg_loss = _regularize(Wt, dWt, reg, reg_code, elastic_beta, n_reg)
    else:
        reg_loss = _reg_value(Wt, reg, reg_code, elastic_beta, n_reg)
    rows = np.empty(BLOCK, np.int64)
    S = np.empty((BLOCK, C), Wt.dtype)
    G = np.zeros((BLOCK, C), Wt.dtype)
    inv_b = 1.0 / B
    data_loss = 0.0
    for b0 in range(0, B, BLOCK):
        n = _block_rows(X, idx, b0, rows)
        _block_scores(Wt, X, rows, S)
        for k in range(BLOCK):
            for c in range(C):
                G[k, c] = 0
            if k >= n:
                continue
            yi = y[rows[k]]
            correct = np.float64(S[k, yi])
            count = 0.0
            for c in range(C):
                if c == yi:
                    continue
                margin = np.float64(S[k, c]) - correct + delta
                # "not <= 0" rather than "> 0": a NaN margin must reach the loss, so that the
                # training loop sees divergence instead of a loss that silently stops moving.
                if not margin <= 0.0:
                    if squared:
                        data_loss += margin * margin
                        coeff = 2.0 * margin
                    else:
                        data_loss += margin
                        coeff = 1.0
                    G[k, c] = coeff * inv_b
                    count += coeff
            G[k, yi] = -count * inv_b
        if want_grad:
            _block_gradient(G, X, rows, dWt)
    return data_loss * inv_b + reg_loss


@kernel(fastmath=_FAST)
def _reg_value(Wt, reg, reg_code, elastic_beta, n_reg):
    """reg * R(W) alone (loss-only evaluations)."""
    C, D = Wt.shape
    total = 0.0
    for c in range(C):
        w = Wt[c]
        for d in range(n_reg):
            v = np.float64(w[d])
            if reg_code == 0:
                total += v * v
            elif reg_code == 1:
                total += abs(v)
            else:
                total += elastic_beta * v * v + abs(v)
    return reg * total


@kernel(fastmath=_FAST)
def softmax_batch(Wt, X, y, idx, reg, reg_code, elastic_beta, n_reg, want_grad, dWt):
    """Softmax (cross-entropy) loss of the rows ``idx`` plus reg*R(W); gradient into dWt.

    L_i = log(sum_j e^{s_j - m}) - (s_{y_i} - m) with m = max_j s_j, so no exp() overflows
    even for scores of 1e4; d L_i / d s_j = p_j - [j == y_i].
    """
    C, D = Wt.shape
    B = idx.shape[0]
    if want_grad:
        reg_loss = _regularize(Wt, dWt, reg, reg_code, elastic_beta, n_reg)
    else:
        reg_loss = _reg_value(Wt, reg, reg_code, elastic_beta, n_reg)
    rows = np.empty(BLOCK, np.int64)
    S = np.empty((BLOCK, C), Wt.dtype)
    G = np.zeros((BLOCK, C), Wt.dtype)
    E = np.empty(C, np.float64)
    inv_b = 1.0 / B
    data_loss = 0.0
    for b0 in range(0, B, BLOCK):
        n = _block_rows(X, idx, b0, rows)
        _block_scores(Wt, X, rows, S)
        for k in range(BLOCK):
            if k >= n:
                for c in range(C):
                    G[k, c] = 0
                continue
            yi = y[rows[k]]
            m = S[k, 0]
            for c in range(1, C):
                if S[k, c] > m:
                    m = S[k, c]
            # exp() in the data type (each term exact to its precision, and half the cost of
            # a float64 exp: it dominates for short feature vectors); the sum in float64.
            total = 0.0
            for c in range(C):
                e = np.exp(S[k, c] - m)
                E[c] = e
                total += e
            data_loss += np.log(total) - (np.float64(S[k, yi]) - np.float64(m))
            inv_total = 1.0 / total
            for c in range(C):
                G[k, c] = E[c] * inv_total * inv_b
            G[k, yi] -= inv_b
        if want_grad:
            _block_gradient(G, X, rows, dWt)
    return data_loss * inv_b + reg_loss
