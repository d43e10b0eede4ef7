"""Numba kernels of the loss surface: the data loss at every point of a grid W + a D1 + b D2.

Because the model is linear, the scores at ``W + a D1 + b D2`` are ``S0 + a S1 + b S2`` with
``S0 = X W``, ``S1 = X D1`` and ``S2 = X D2`` computed once (one matrix product, in NumPy);
each grid point then costs O(N C) instead of O(N D C). The kernels take those three (N, C)
score matrices in float64 and fill a (rows, columns) grid, row k at ``betas[k]``, column m at
``alphas[m]``.

Layout of the work. For one grid row (fixed b) and one image, the scores along the row are
``t + a s`` with ``t = S0_i + b S2_i`` and ``s = S1_i``: the innermost loops run over the
row's alphas, contiguous, and vectorize (4 doubles per AVX2 instruction), one class at a
time. The SVM's hinge terms are linear in a on either side of one kink, so each term is
placed once on the row (difference arrays, :func:`_svm_row`); the softmax shares one exp per
class over blocks of alphas (:func:`_softmax_rows`, with a polynomial exp that LLVM
vectorizes: libm's is a call per value) and takes no logarithm per image.

The row drivers come in two forms: ``parallel`` (prange over the grid's rows, for the heavy
lane and the CLI: parallel kernels run from one thread at a time) and ``serial`` (the live
surface on the quick lane, which runs while training uses the other core). Both compute
the same numbers: each grid row is summed by one thread, in image order.
"""

from __future__ import annotations

import numpy as np

from linviz.models.losses import SVM_KERNEL
from linviz.numba_setup import kernel, prange

_FAST = {"reassoc", "contract"}

# exp(x) for x <= 0 in float64: x = n ln2 + r, |r| <= ln2 / 2 (Cody-Waite split of ln2),
# e^r by its Taylor polynomial to r^12 (truncation below 2e-16 relative), 2^n from the
# exponent bits. Below -708 (e^x under the smallest normal double) the result is 0.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93145751953125e-1
_LN2_LO = 1.42860682030941723212e-6
_EXP_MIN = -708.0
_INV_FACT = tuple(1.0 / float(np.prod(np.arange(1, m + 1, dtype=np.float64))) for m in range(13))
(_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12) = _INV_FACT

_MAGIC = 6755399441055744.0  # 1.5 * 2^52: adding it leaves a small integer in the low mantissa bits
_EXP_OFFSET = np.int64(1023) - np.int64(np.array(_MAGIC).view(np.int64))

_BLOCK = 16  # softmax: alphas per block sharing one exp per class
_BLOCK_SPREAD = 40.0  # ... while no score moves by more than this across the block
_LN2 = 0.6931471805599453
_MANTISSA = np.int64((1 << 52) - 1)
_EXPONENT_ONE = np.int64(1023 << 52)


@kernel(fastmath=_FAST)
def _exp_nonpositive(x, scratch, bits, out, n):
    """out[k] = e^x[k] for x[k] <= 0 (or NaN), k < n; ``scratch`` is float64 scratch and
    ``bits`` its int64 view (made once by the caller: a view made here would cost two atomic
    reference counts per call, more than the arithmetic for a few values).

    2^n is built from its exponent bits: n + 1.5 * 2^52 puts the integer n in the low bits
    of a double, which the int64 view shifts into place. (AVX2 has no vector conversion from
    double to int64; written this way every loop vectorizes.)
    """
    for k in range(n):
        v = x[k]
        kf = np.floor(v * _LOG2E + 0.5)
        kf = kf if kf >= -1022.0 else -1022.0  # NaN fails the test and is clamped too
        r = (v - kf * _LN2_HI) - kf * _LN2_LO
        p = _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        p = p * r + _C1
        p = p * r + _C0
        out[k] = p
        scratch[k] = kf + _MAGIC
    for k in range(n):
        bits[k] = (bits[k] + _EXP_OFFSET) << np.int64(52)
    for k in range(n):
        out[k] = 0.0 if x[k] < _EXP_MIN else out[k] * scratch[k]


@kernel(fastmath=_FAST)
def _svm_row(S0, S1, S2, y, alphas, uniform, b, delta, squared, row):
    """row[m] = sum over images of the SVM data loss at W + alphas[m] D1 + b D2 (not averaged).

    Every hinge term ``max(0, u + a v)`` is active on a prefix or a suffix of the ascending
    alphas (on all or none when v = 0): where a is beyond x = -u/v. For evenly spaced alphas
    (``uniform``) each term adds its coefficients (u, v; for the squared hinge u^2, 2uv, v^2)
    at the end of its range to difference arrays (a suffix at its first index, a prefix to
    running totals and, negated, at its end), and one prefix sum per row gives the loss at
    every alpha: O(1) per term instead of O(len(alphas)). The ends come from x's position on
    the grid, without branches (a term's side is a coin flip). An alpha within rounding of x
    may fall on either side: there the margin is zero to rounding, and so is the difference
    it makes. Other alphas: every term at every alpha (vectorized over the alphas).
    """
    N, C = S0.shape
    K = alphas.shape[0]
    a0 = alphas[0]
    step = (alphas[K - 1] - a0) / (K - 1) if K > 1 else 1.0
    inv_step = 1.0 / step if step > 0.0 else 0.0
    d0 = np.zeros(K + 1)
    d1 = np.zeros(K + 1)
    d2 = np.zeros(K + 1)
    base0 = 0.0  # terms active from the first alpha on
    base1 = 0.0
    base2 = 0.0
    for m in range(K):
        row[m] = 0.0
    for i in range(N):
        yi = y[i]
        ty = S0[i, yi] + b * S2[i, yi]
        sy = S1[i, yi]
        for j in range(C):
            if j == yi:
                continue
            u = S0[i, j] + b * S2[i, j] - ty + delta
            v = S1[i, j] - sy
            if not uniform:
                for m in range(K):
                    margin = u + alphas[m] * v
                    if squared:
                        row[m] += margin * margin if margin > 0.0 else 0.0
                    else:
                        row[m] += margin if margin > 0.0 else 0.0
                continue
            c0 = u * u if squared else u
            c1 = 2.0 * u * v if squared else v
            c2 = v * v
            if v == 0.0:
                if u > 0.0:
                    base0 += c0
                    base1 += c1
                    base2 += c2
                continue
            # x's position on the grid, clamped before the int conversion
            g = (-u / v - a0) * inv_step
            g = min(max(g, -1.0), K + 1.0)
            up = v > 0.0
            # rising: active from the first m with a_m > x; falling: for the m with a_m < x
            edge = min(max(int(np.floor(g)) + 1 if up else int(np.ceil(g)), 0), K)
            sign = 1.0 if up else -1.0
            d0[edge] += sign * c0
            d1[edge] += sign * c1
            d2[edge] += sign * c2
            base0 += 0.0 if up else c0
            base1 += 0.0 if up else c1
            base2 += 0.0 if up else c2
    if uniform:
        c0 = base0
        c1 = base1
        c2 = base2
        for m in range(K):
            c0 += d0[m]
            c1 += d1[m]
            c2 += d2[m]
            a = alphas[m]
            row[m] = c0 + a * (c1 + a * c2) if squared else c0 + a * c1


@kernel(fastmath=_FAST)
def _softmax_rows(S0, S1, S2, R, y, alphas, uniform, betas, r0, r1, log_chunk, out):
    """out[k, m] = sum over images of the softmax data loss (natural log) at
    W + alphas[m] D1 + betas[k] D2, for the grid rows r0 <= k < r1. ``R`` = e^(S1 h) for
    evenly spaced alphas (``uniform``; h their step), else unused.

    Along a row the scores are z_j(a) = t_j + a s_j. For a block of n evenly spaced alphas
    from a_0, ``e^(z_j(a_0 + k h) - T) = e^(z_j(a_0) - T) r_j^k`` with ``r_j = e^(s_j h)``:
    one exp per class per block instead of one per alpha, and the powers r_j^k depend on the
    image only, so they are made once per image for all the rows (images outside, rows
    inside). The logarithm of each image's sum is not taken: the sums are multiplied, and
    every ``log_chunk`` images (few enough that the product of sums in [e^-40, C] stays a
    normal double) the product's binary exponent moves into the loss exactly; one log per
    alpha at the end. No scalar call is left in the loops. The shift T is the largest score at
    the block's two ends: the largest score is
    convex in a, so no term exceeds 1. A block is as long as keeps every score within
    ``_BLOCK_SPREAD`` of its start (the whole row when the scores move little): then the
    largest term is at least e^-40 and a term too small to count at the start (< 1e-250)
    stays negligible. Images whose blocks would be shorter than 4 alphas (a huge range) are
    computed alpha by alpha, with the largest score at each alpha as the shift.
    """
    N, C = S0.shape
    K = alphas.shape[0]
    a0 = alphas[0]
    a_end = alphas[K - 1]
    step = (a_end - a0) / (K - 1) if K > 1 else 0.0
    rows = r1 - r0
    top = np.empty(K)
    acc = np.empty(K)
    block = np.empty(K)
    prod = np.ones((rows, K))
    prod_bits = prod.view(np.int64)
    z = np.empty(K)
    e = np.empty(max(K, C))
    scratch = np.empty(max(K, C))
    bits = scratch.view(np.int64)
    powers = np.empty((C, K))
    starts = np.empty(C)
    for k in range(r0, r1):
        for m in range(K):
            out[k, m] = 0.0
    in_chunk = 0
    for i in range(N):
        yi = y[i]
        largest = 0.0
        for j in range(C):
            largest = max(largest, abs(S1[i, j]))
        B = 1
        if uniform and K > 1:
            if largest * step * (K - 1) <= _BLOCK_SPREAD:
                B = K
            else:
                B = min(K, int(_BLOCK_SPREAD / (largest * step)) + 1)
        if B >= 4:
            for j in range(C):  # r_j^k for k < B, by doubling: r^(q + k) = r^q r^k
                powers[j, 0] = 1.0
                q = 1
                rq = R[i, j]
                while q < B:
                    n = min(q, B - q)
                    for k in range(n):
                        powers[j, q + k] = powers[j, k] * rq
                    rq = rq * rq
                    q += n
        for k in range(r0, r1):
            b = betas[k]
            if B == K and B >= 4:
                # the whole row is one block (the usual case): summed in place, one shift
                T = -np.inf
                for j in range(C):
                    t = S0[i, j] + b * S2[i, j]
                    s = S1[i, j]
                    T = max(T, max(t + a0 * s, t + a_end * s))
                for j in range(C):
                    starts[j] = (S0[i, j] + b * S2[i, j] + a0 * S1[i, j]) - T
                _exp_nonpositive(starts, scratch, bits, e, C)
                for m in range(K):
                    acc[m] = 0.0
                for j in range(C):
                    e0 = e[j]
                    e0 = e0 if e0 >= 1e-250 else 0.0  # negligible along the row; no denormals
                    pj = powers[j]
                    for m in range(K):
                        acc[m] += e0 * pj[m]
                shift = T - (S0[i, yi] + b * S2[i, yi])
                sy = S1[i, yi]
                out_k = out[k]
                prod_k = prod[k - r0]
                for m in range(K):
                    out_k[m] += shift - alphas[m] * sy
                    prod_k[m] *= acc[m]
                continue
            if B >= 4:
                for m0 in range(0, K, B):
                    n = min(B, K - m0)
                    a_first = a0 + m0 * step
                    a_last = a0 + (m0 + n - 1) * step
                    T = -np.inf
                    for j in range(C):
                        t = S0[i, j] + b * S2[i, j]
                        s = S1[i, j]
                        T = max(T, max(t + a_first * s, t + a_last * s))
                    for j in range(C):
                        starts[j] = (S0[i, j] + b * S2[i, j] + a_first * S1[i, j]) - T
                    _exp_nonpositive(starts, scratch, bits, e, C)
                    # Summed into a block of its own from index 0: loops over acc[m0 + m]
                    # did not vectorize (3x slower).
                    for m in range(n):
                        block[m] = 0.0
                    for j in range(C):
                        e0 = e[j]
                        e0 = e0 if e0 >= 1e-250 else 0.0  # negligible across the block; no denormals
                        pj = powers[j]
                        for m in range(n):
                            block[m] += e0 * pj[m]
                    for m in range(n):
                        acc[m0 + m] = block[m]
                        top[m0 + m] = T
            else:
                t0 = S0[i, 0] + b * S2[i, 0]
                s0 = S1[i, 0]
                for m in range(K):
                    top[m] = t0 + alphas[m] * s0
                    acc[m] = 0.0
                for j in range(1, C):
                    t = S0[i, j] + b * S2[i, j]
                    s = S1[i, j]
                    for m in range(K):
                        v = t + alphas[m] * s
                        top[m] = v if v > top[m] else top[m]
                for j in range(C):
                    t = S0[i, j] + b * S2[i, j]
                    s = S1[i, j]
                    for m in range(K):
                        z[m] = (t + alphas[m] * s) - top[m]
                    _exp_nonpositive(z, scratch, bits, e, K)
                    for m in range(K):
                        acc[m] += e[m]
            ty = S0[i, yi] + b * S2[i, yi]
            sy = S1[i, yi]
            out_k = out[k]
            prod_k = prod[k - r0]
            for m in range(K):
                out_k[m] += top[m] - (ty + alphas[m] * sy)
                prod_k[m] *= acc[m]
        in_chunk += 1
        if in_chunk == log_chunk:
            # Move each product's binary exponent into the sums (exact), leaving it in [1, 2).
            for k in range(rows):
                bits_k = prod_bits[k]
                out_k = out[r0 + k]
                for m in range(K):
                    v = bits_k[m]
                    out_k[m] += ((v >> np.int64(52)) - np.int64(1023)) * _LN2
                    bits_k[m] = (v & _MANTISSA) | _EXPONENT_ONE
            in_chunk = 0
    for k in range(rows):
        for m in range(K):
            out[r0 + k, m] += np.log(prod[k, m])


@kernel
def _grid_rows(S0, S1, S2, R, y, alphas, uniform, betas, r0, r1, loss_code, delta, squared, log_chunk, out):
    if loss_code == SVM_KERNEL:
        for k in range(r0, r1):
            _svm_row(S0, S1, S2, y, alphas, uniform, betas[k], delta, squared, out[k])
    else:
        _softmax_rows(S0, S1, S2, R, y, alphas, uniform, betas, r0, r1, log_chunk, out)


@kernel(parallel=True)
def data_grid_parallel(S0, S1, S2, R, y, alphas, uniform, betas, row0, row1, loss_code, delta, squared, log_chunk,
                       parts, out):
    """Rows row0..row1-1 of the summed data loss, ``out[k, m]`` at (alphas[m], betas[k]),
    in ``parts`` groups of consecutive rows run side by side (a group shares the softmax's
    per-image powers)."""
    rows = row1 - row0
    size = (rows + parts - 1) // parts
    for p in prange(parts):
        r0 = row0 + p * size
        r1 = min(row1, r0 + size)
        if r0 < r1:
            _grid_rows(S0, S1, S2, R, y, alphas, uniform, betas, r0, r1, loss_code, delta, squared, log_chunk, out)


@kernel
def data_grid_serial(S0, S1, S2, R, y, alphas, uniform, betas, row0, row1, loss_code, delta, squared, log_chunk,
                     parts, out):
    """The same as :func:`data_grid_parallel`, on the calling thread only (``parts`` unused)."""
    _grid_rows(S0, S1, S2, R, y, alphas, uniform, betas, row0, row1, loss_code, delta, squared, log_chunk, out)


@kernel(fastmath=_FAST)
def _abs_row(w, d1, d2, alphas, b, row):
    K = alphas.shape[0]
    n = w.shape[0]
    for m in range(K):
        a = alphas[m]
        total = 0.0
        for e in range(n):
            total += abs(w[e] + a * d1[e] + b * d2[e])
        row[m] = total


@kernel(parallel=True)
def abs_grid_parallel(w, d1, d2, alphas, betas, out):
    """out[k, m] = sum |w + alphas[m] d1 + betas[k] d2| (the L1 penalty over the grid)."""
    for k in prange(betas.shape[0]):
        _abs_row(w, d1, d2, alphas, betas[k], out[k])


@kernel
def abs_grid_serial(w, d1, d2, alphas, betas, out):
    for k in range(betas.shape[0]):
        _abs_row(w, d1, d2, alphas, betas[k], out[k])
