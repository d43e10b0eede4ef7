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
first row and a zero gradient weight, so there is one code path. Long rows (raw pixels) are
cut into chunks of ``CHUNK`` = 1024 features, and every class pair runs over one chunk
before the next: the chunk of the 8 rows (32 KB) then stays in L1 across the 5 passes of
the forward and of the backward step instead of streaming from L2 ten times (20% faster
on 3,073 features; HOG + hue, 155 features, is a single chunk). ``fastmath`` is limited
to ``reassoc`` and ``contract``: the dot products may be summed in vector lanes and fused,
but NaN and inf keep their meaning (the training loop relies on them to detect divergence).

Inner loops index ``X[row, d]`` and ``Wt[c, d]`` directly. Row views (``x0 = X[r]``) cost
an atomic reference-count increment and decrement each in compiled code, 16 per block and
call: 4 us of a 25 us HOG + hue iteration. The feature index runs over an unsigned range,
so that Numba emits no negative-index wraparound select and the loop still vectorizes.

The SVM margins are selects, not branches (whether a margin is active is a coin flip). The
softmax takes exp() of a whole block's shifted scores in one vectorized pass
(``_exp_nonpositive_f32``, float32 data only): each libm exp call cost more than the rest
of the softmax per score.

Precision. Dot products run in the data type (float32 in the app, as many partial sums as
BLAS uses); the per-image loss, the softmax normalizer and the batch total accumulate in
float64, where float32 loses digits (a sum of 200 losses, or of exp() over the classes).
"""

from __future__ import annotations

import numpy as np

from linviz.numba_setup import kernel

_FAST = {"reassoc", "contract"}
# Which loss loss_batch computes: an integer, because a string argument would cost a
# dispatch in every call (linviz.models.losses.LOSSES names them).
SVM_KERNEL = 0
SOFTMAX_KERNEL = 1
BLOCK = 8
CHUNK = 1024


# exp() of the shifted softmax scores (all <= 0) in float32, written so that LLVM vectorizes
# it: without a vector math library every np.exp is a libm call, and 2,000 of them per batch
# cost more than the rest of the softmax. Cephes' expf: x = k ln2 + r with |r| <= ln2/2
# (Cody-Waite split of ln2), e^r by a degree-7 polynomial, 2^k from its exponent bits.
# Relative error <= 2 float32 ulps. Below -87 (e^x under the smallest normal float32) the
# result is 0 instead of a denormal; a NaN stays NaN.
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_MIN = np.float32(-87.0)
_P0 = np.float32(1.9875691500e-4)
_P1 = np.float32(1.3981999507e-3)
_P2 = np.float32(8.3334519073e-3)
_P3 = np.float32(4.1665795894e-2)
_P4 = np.float32(1.6666665459e-1)
_P5 = np.float32(5.0000001201e-1)


@kernel(fastmath=_FAST)
def _exp_nonpositive_f32(x, bits, out, n):
    """out[i] = e^x[i] for x[i] <= 0 (or NaN), i < n; ``bits`` is int32 scratch."""
    half = np.float32(0.5)
    one = np.float32(1.0)
    lowest = np.float32(-126.0)
    for i in range(n):
        v = x[i]
        kf = np.floor(v * _LOG2E + half)
        # clamped first, so that the float -> int conversion never sees a NaN
        kf = kf if kf >= lowest else lowest
        r = (v - kf * _LN2_HI) - kf * _LN2_LO
        r2 = r * r
        poly = ((((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5) * r2 + r) + one
        out[i] = poly
        bits[i] = (np.int32(kf) + np.int32(127)) << np.int32(23)
    scale = bits[:n].view(np.float32)
    for i in range(n):
        v = x[i]
        out[i] = np.float32(0.0) if v < _EXP_MIN else out[i] * scale[i]


@kernel(fastmath=_FAST, inner=True)
def _regularize(Wt, dWt, want_grad, reg, reg_code, elastic_beta, n_reg):
    """reg * R(W) over the first ``n_reg`` features; with ``want_grad`` also d(reg*R)/dW into
    dWt (zero beyond ``n_reg``)."""
    C, D = Wt.shape
    total = 0.0
    for c in range(C):
        w = Wt[c]
        if want_grad:
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
        else:
            for d in range(n_reg):
                v = np.float64(w[d])
                if reg_code == 0:
                    total += v * v
                elif reg_code == 1:
                    total += abs(v)
                else:
                    total += elastic_beta * v * v + abs(v)
    return reg * total


@kernel(fastmath=_FAST, inner=True)
def _block_rows(X, idx, b0, rows):
    """The 8 row numbers of block ``b0`` (padded with the first one); returns how many are real."""
    B = idx.shape[0]
    n = min(BLOCK, B - b0)
    for k in range(BLOCK):
        rows[k] = idx[b0 + k] if k < n else idx[b0]
    return n


@kernel(fastmath=_FAST, inner=True)
def _block_scores(Wt, X, rows, S, d0, d1):
    """S[k, c] += X[rows[k], d0:d1] . Wt[c, d0:d1] for the 8 rows of a block, two classes at a time."""
    C, D = Wt.shape
    r0 = rows[0]; r1 = rows[1]; r2 = rows[2]; r3 = rows[3]  # noqa: E702
    r4 = rows[4]; r5 = rows[5]; r6 = rows[6]; r7 = rows[7]  # noqa: E702
    c = 0
    while c + 1 < C:
        # np.float32(0) accumulators become float64 when the data is float64 (type unification).
        a0 = np.float32(0.0); a1 = np.float32(0.0); a2 = np.float32(0.0); a3 = np.float32(0.0)  # noqa: E702
        a4 = np.float32(0.0); a5 = np.float32(0.0); a6 = np.float32(0.0); a7 = np.float32(0.0)  # noqa: E702
        e0 = np.float32(0.0); e1 = np.float32(0.0); e2 = np.float32(0.0); e3 = np.float32(0.0)  # noqa: E702
        e4 = np.float32(0.0); e5 = np.float32(0.0); e6 = np.float32(0.0); e7 = np.float32(0.0)  # noqa: E702
        for d in range(np.uint64(d0), np.uint64(d1)):
            wd = Wt[c, d]
            vd = Wt[c + 1, d]
            p = X[r0, d]; a0 += p * wd; e0 += p * vd  # noqa: E702
            p = X[r1, d]; a1 += p * wd; e1 += p * vd  # noqa: E702
            p = X[r2, d]; a2 += p * wd; e2 += p * vd  # noqa: E702
            p = X[r3, d]; a3 += p * wd; e3 += p * vd  # noqa: E702
            p = X[r4, d]; a4 += p * wd; e4 += p * vd  # noqa: E702
            p = X[r5, d]; a5 += p * wd; e5 += p * vd  # noqa: E702
            p = X[r6, d]; a6 += p * wd; e6 += p * vd  # noqa: E702
            p = X[r7, d]; a7 += p * wd; e7 += p * vd  # noqa: E702
        S[0, c] += a0; S[1, c] += a1; S[2, c] += a2; S[3, c] += a3  # noqa: E702
        S[4, c] += a4; S[5, c] += a5; S[6, c] += a6; S[7, c] += a7  # noqa: E702
        S[0, c + 1] += e0; S[1, c + 1] += e1; S[2, c + 1] += e2; S[3, c + 1] += e3  # noqa: E702
        S[4, c + 1] += e4; S[5, c + 1] += e5; S[6, c + 1] += e6; S[7, c + 1] += e7  # noqa: E702
        c += 2
    if c < C:  # odd number of classes: the last one alone
        a0 = np.float32(0.0); a1 = np.float32(0.0); a2 = np.float32(0.0); a3 = np.float32(0.0)  # noqa: E702
        a4 = np.float32(0.0); a5 = np.float32(0.0); a6 = np.float32(0.0); a7 = np.float32(0.0)  # noqa: E702
        for d in range(np.uint64(d0), np.uint64(d1)):
            wd = Wt[c, d]
            a0 += X[r0, d] * wd; a1 += X[r1, d] * wd; a2 += X[r2, d] * wd; a3 += X[r3, d] * wd  # noqa: E702
            a4 += X[r4, d] * wd; a5 += X[r5, d] * wd; a6 += X[r6, d] * wd; a7 += X[r7, d] * wd  # noqa: E702
        S[0, c] += a0; S[1, c] += a1; S[2, c] += a2; S[3, c] += a3  # noqa: E702
        S[4, c] += a4; S[5, c] += a5; S[6, c] += a6; S[7, c] += a7  # noqa: E702


@kernel(fastmath=_FAST, inner=True)
def _block_gradient(G, X, rows, dWt, d0, d1):
    """dWt[c, d0:d1] += sum_k G[k, c] * X[rows[k], d0:d1] for the 8 rows of a block, two classes
    at a time."""
    C, D = dWt.shape
    r0 = rows[0]; r1 = rows[1]; r2 = rows[2]; r3 = rows[3]  # noqa: E702
    r4 = rows[4]; r5 = rows[5]; r6 = rows[6]; r7 = rows[7]  # noqa: E702
    c = 0
    while c + 1 < C:
        g0 = G[0, c]; g1 = G[1, c]; g2 = G[2, c]; g3 = G[3, c]  # noqa: E702
        g4 = G[4, c]; g5 = G[5, c]; g6 = G[6, c]; g7 = G[7, c]  # noqa: E702
        h0 = G[0, c + 1]; h1 = G[1, c + 1]; h2 = G[2, c + 1]; h3 = G[3, c + 1]  # noqa: E702
        h4 = G[4, c + 1]; h5 = G[5, c + 1]; h6 = G[6, c + 1]; h7 = G[7, c + 1]  # noqa: E702
        for d in range(np.uint64(d0), np.uint64(d1)):
            p0 = X[r0, d]; p1 = X[r1, d]; p2 = X[r2, d]; p3 = X[r3, d]  # noqa: E702
            p4 = X[r4, d]; p5 = X[r5, d]; p6 = X[r6, d]; p7 = X[r7, d]  # noqa: E702
            dWt[c, d] += (g0 * p0 + g1 * p1 + g2 * p2 + g3 * p3) + (g4 * p4 + g5 * p5 + g6 * p6 + g7 * p7)
            dWt[c + 1, d] += (h0 * p0 + h1 * p1 + h2 * p2 + h3 * p3) + (h4 * p4 + h5 * p5 + h6 * p6 + h7 * p7)
        c += 2
    if c < C:
        g0 = G[0, c]; g1 = G[1, c]; g2 = G[2, c]; g3 = G[3, c]  # noqa: E702
        g4 = G[4, c]; g5 = G[5, c]; g6 = G[6, c]; g7 = G[7, c]  # noqa: E702
        for d in range(np.uint64(d0), np.uint64(d1)):
            dWt[c, d] += (g0 * X[r0, d] + g1 * X[r1, d] + g2 * X[r2, d] + g3 * X[r3, d]) + (
                g4 * X[r4, d] + g5 * X[r5, d] + g6 * X[r6, d] + g7 * X[r7, d])


@kernel(fastmath=_FAST, inner=True)
def _svm_block(S, G, y, rows, n, delta, squared, inv_b, data_loss):
    """The hinge losses of the ``n`` real rows of a block of scores ``S`` added to
    ``data_loss`` (returned), and their gradient with respect to the scores into ``G``
    (already divided by the batch size; zero for the padding rows).

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + delta), or its square when ``squared``.
    """
    C = S.shape[1]
    for k in range(BLOCK):
        if k >= n:
            for c in range(C):
                G[k, c] = 0
            continue
        yi = y[rows[k]]
        correct = np.float64(S[k, yi])
        count = 0.0
        # Branch-free (selects): whether a margin is active is a coin flip per class, and
        # mispredicted branches cost more than the arithmetic. "not <= 0" rather than
        # "> 0": a NaN margin must reach the loss, so that the training loop sees
        # divergence instead of a loss that silently stops moving.
        for c in range(C):
            margin = np.float64(S[k, c]) - correct + delta
            active = (not margin <= 0.0) & (c != yi)
            if squared:
                term = margin * margin
                coeff = 2.0 * margin
            else:
                term = margin
                coeff = 1.0
            term = term if active else 0.0
            coeff = coeff if active else 0.0
            data_loss += term
            G[k, c] = coeff * inv_b
            count += coeff
        G[k, yi] = -count * inv_b
    return data_loss


@kernel(fastmath=_FAST, inner=True)
def _softmax_block(S, G, y, rows, n, M, T, E, bits, fast_exp, inv_b, data_loss):
    """The cross-entropy losses of the ``n`` real rows of a block of scores ``S`` added to
    ``data_loss`` (returned), and their gradient with respect to the scores into ``G``
    (already divided by the batch size; zero for the padding rows). ``M``, ``T``, ``E``
    (the data type) and ``bits`` (int32) are scratch.

    L_i = log(sum_j e^{s_j - m}) - (s_{y_i} - m) with m = max_j s_j, so no exp() overflows
    even for scores of 1e4; d L_i / d s_j = p_j - [j == y_i]. ``fast_exp``: the vectorized
    float32 exp() (float32 data only).
    """
    C = S.shape[1]
    # shifted scores of the whole block, then one exp() pass over them
    for k in range(n):
        m = S[k, 0]
        for c in range(1, C):
            if S[k, c] > m:
                m = S[k, c]
        M[k] = m
        for c in range(C):
            T[k * C + c] = S[k, c] - m
    if fast_exp:
        _exp_nonpositive_f32(T, bits, E, n * C)
    else:
        for j in range(n * C):
            E[j] = np.exp(T[j])
    for k in range(BLOCK):
        if k >= n:
            for c in range(C):
                G[k, c] = 0
            continue
        yi = y[rows[k]]
        m = M[k]
        total = 0.0
        for c in range(C):
            total += E[k * C + c]
        data_loss += np.log(total) - (np.float64(S[k, yi]) - np.float64(m))
        inv_total = 1.0 / total
        for c in range(C):
            G[k, c] = E[k * C + c] * inv_total * inv_b
        G[k, yi] -= inv_b
    return data_loss


@kernel(fastmath=_FAST)
def loss_batch(Wt, X, y, idx, loss_code, delta, squared, reg, reg_code, elastic_beta, n_reg, dWt, fast_exp):
    """The SVM (``loss_code`` SVM_KERNEL) or softmax (SOFTMAX_KERNEL) loss of the rows ``idx``
    (mean over them) plus reg*R(W); its gradient into dWt, unless ``dWt`` is empty (size 0:
    the loss alone). ``delta`` and ``squared`` are the SVM's, ``fast_exp`` the softmax's
    (the vectorized float32 exp(), float32 data only); each loss ignores the other's.

    One kernel for both losses: the blocked scores and gradient around the per-block loss
    are the same code, and one kernel is one compile.
    """
    C, D = Wt.shape
    B = idx.shape[0]
    want_grad = dWt.size > 0
    reg_loss = _regularize(Wt, dWt, want_grad, reg, reg_code, elastic_beta, n_reg)
    rows = np.empty(BLOCK, np.int64)
    S = np.empty((BLOCK, C), Wt.dtype)
    G = np.zeros((BLOCK, C), Wt.dtype)
    # the softmax's exp() in the data type (each term exact to its precision, and half the
    # cost of a float64 exp); the sums in float64
    M = np.empty(BLOCK, Wt.dtype)
    T = np.empty(BLOCK * C, Wt.dtype)
    E = np.empty(BLOCK * C, Wt.dtype)
    bits = np.empty(BLOCK * C, np.int32)
    inv_b = 1.0 / B
    data_loss = 0.0
    for b0 in range(0, B, BLOCK):
        n = _block_rows(X, idx, b0, rows)
        S[:] = 0
        for d0 in range(0, D, CHUNK):
            _block_scores(Wt, X, rows, S, d0, min(D, d0 + CHUNK))
        if loss_code == SVM_KERNEL:
            data_loss = _svm_block(S, G, y, rows, n, delta, squared, inv_b, data_loss)
        else:
            data_loss = _softmax_block(S, G, y, rows, n, M, T, E, bits, fast_exp, inv_b, data_loss)
        if want_grad:
            for d0 in range(0, D, CHUNK):
                _block_gradient(G, X, rows, dWt, d0, min(D, d0 + CHUNK))
    return data_loss * inv_b + reg_loss
