"""The Numba kernels of k-nearest-neighbour search (:mod:`linviz.models.knn` explains the
method): exact float64 distances, the float32 L1 screening, the bounded selection of
candidates, the exact finish, and the votes. Each comes as a serial kernel and, where it
pays, a ``_parallel`` twin for the heavy lane.
"""

from __future__ import annotations

import numpy as np

from linviz.numba_setup import kernel, prange

# --------------------------------------------------------------------------- exact distances


@kernel
def exact_distance(a, b, metric, norm_a, norm_b):
    """The float64 distance of two float32 rows (squared for L2): eight partial sums over
    d = 0..7 (mod 8), combined as ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)). No
    fastmath: the same two rows give the same bits wherever they sit in memory and whichever
    kernel (serial or parallel) asks."""
    D = a.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    s5 = 0.0
    s6 = 0.0
    s7 = 0.0
    d = 0
    if metric == 0:  # L1
        while d + 8 <= D:
            s0 += abs(np.float64(a[d]) - np.float64(b[d]))
            s1 += abs(np.float64(a[d + 1]) - np.float64(b[d + 1]))
            s2 += abs(np.float64(a[d + 2]) - np.float64(b[d + 2]))
            s3 += abs(np.float64(a[d + 3]) - np.float64(b[d + 3]))
            s4 += abs(np.float64(a[d + 4]) - np.float64(b[d + 4]))
            s5 += abs(np.float64(a[d + 5]) - np.float64(b[d + 5]))
            s6 += abs(np.float64(a[d + 6]) - np.float64(b[d + 6]))
            s7 += abs(np.float64(a[d + 7]) - np.float64(b[d + 7]))
            d += 8
        while d < D:
            s0 += abs(np.float64(a[d]) - np.float64(b[d]))
            d += 1
    elif metric == 1:  # L2, squared
        while d + 8 <= D:
            t0 = np.float64(a[d]) - np.float64(b[d])
            t1 = np.float64(a[d + 1]) - np.float64(b[d + 1])
            t2 = np.float64(a[d + 2]) - np.float64(b[d + 2])
            t3 = np.float64(a[d + 3]) - np.float64(b[d + 3])
            t4 = np.float64(a[d + 4]) - np.float64(b[d + 4])
            t5 = np.float64(a[d + 5]) - np.float64(b[d + 5])
            t6 = np.float64(a[d + 6]) - np.float64(b[d + 6])
            t7 = np.float64(a[d + 7]) - np.float64(b[d + 7])
            s0 += t0 * t0
            s1 += t1 * t1
            s2 += t2 * t2
            s3 += t3 * t3
            s4 += t4 * t4
            s5 += t5 * t5
            s6 += t6 * t6
            s7 += t7 * t7
            d += 8
        while d < D:
            t0 = np.float64(a[d]) - np.float64(b[d])
            s0 += t0 * t0
            d += 1
    else:  # cosine
        if norm_a == 0.0 or norm_b == 0.0:
            return 1.0
        return 1.0 - dot64(a, b) / (norm_a * norm_b)
    return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))


@kernel
def dot64(a, b):
    """sum a_d b_d in float64, eight partial sums as in :func:`exact_distance`."""
    D = a.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    s5 = 0.0
    s6 = 0.0
    s7 = 0.0
    d = 0
    while d + 8 <= D:
        s0 += np.float64(a[d]) * np.float64(b[d])
        s1 += np.float64(a[d + 1]) * np.float64(b[d + 1])
        s2 += np.float64(a[d + 2]) * np.float64(b[d + 2])
        s3 += np.float64(a[d + 3]) * np.float64(b[d + 3])
        s4 += np.float64(a[d + 4]) * np.float64(b[d + 4])
        s5 += np.float64(a[d + 5]) * np.float64(b[d + 5])
        s6 += np.float64(a[d + 6]) * np.float64(b[d + 6])
        s7 += np.float64(a[d + 7]) * np.float64(b[d + 7])
        d += 8
    while d < D:
        s0 += np.float64(a[d]) * np.float64(b[d])
        d += 1
    return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))


@kernel
def squared_norm(a):
    return dot64(a, a)


@kernel
def squared_norms(X, out):
    for i in range(X.shape[0]):
        out[i] = squared_norm(X[i])


@kernel(parallel=True)
def squared_norms_parallel(X, out):
    for i in prange(X.shape[0]):
        out[i] = squared_norm(X[i])


@kernel
def exact_matrix(A, B, metric, norms_a, norms_b, out):
    for i in range(A.shape[0]):
        for j in range(B.shape[0]):
            out[i, j] = exact_distance(A[i], B[j], metric, norms_a[i], norms_b[j])


# --------------------------------------------------------------------------- L1 screening


@kernel(fastmath={"reassoc", "contract"})
def l1_tile(A, B, rows, j0, j1, out, i0, n):
    """out[i0 + t, j - j0] = float32 sum |A[i0 + t] - B[rows[j]]| for t < n, j in [j0, j1):
    eight query rows per pass over a training row (eight SIMD accumulators)."""
    D = A.shape[1]
    if n == 8:
        a0 = A[i0]
        a1 = A[i0 + 1]
        a2 = A[i0 + 2]
        a3 = A[i0 + 3]
        a4 = A[i0 + 4]
        a5 = A[i0 + 5]
        a6 = A[i0 + 6]
        a7 = A[i0 + 7]
        for j in range(j0, j1):
            b = B[rows[j]]
            s0 = np.float32(0.0)
            s1 = np.float32(0.0)
            s2 = np.float32(0.0)
            s3 = np.float32(0.0)
            s4 = np.float32(0.0)
            s5 = np.float32(0.0)
            s6 = np.float32(0.0)
            s7 = np.float32(0.0)
            for d in range(D):
                bd = b[d]
                s0 += abs(a0[d] - bd)
                s1 += abs(a1[d] - bd)
                s2 += abs(a2[d] - bd)
                s3 += abs(a3[d] - bd)
                s4 += abs(a4[d] - bd)
                s5 += abs(a5[d] - bd)
                s6 += abs(a6[d] - bd)
                s7 += abs(a7[d] - bd)
            out[i0, j - j0] = s0
            out[i0 + 1, j - j0] = s1
            out[i0 + 2, j - j0] = s2
            out[i0 + 3, j - j0] = s3
            out[i0 + 4, j - j0] = s4
            out[i0 + 5, j - j0] = s5
            out[i0 + 6, j - j0] = s6
            out[i0 + 7, j - j0] = s7
    else:
        for t in range(n):
            a = A[i0 + t]
            for j in range(j0, j1):
                b = B[rows[j]]
                s = np.float32(0.0)
                for d in range(D):
                    s += abs(a[d] - b[d])
                out[i0 + t, j - j0] = s


@kernel
def l1_block(A, B, rows, j0, j1, out):
    R = A.shape[0]
    for t in range((R + 7) // 8):
        i0 = t * 8
        l1_tile(A, B, rows, j0, j1, out, i0, min(8, R - i0))


@kernel(parallel=True)
def l1_block_parallel(A, B, rows, j0, j1, out):
    R = A.shape[0]
    for t in prange((R + 7) // 8):
        i0 = t * 8
        l1_tile(A, B, rows, j0, j1, out, i0, min(8, R - i0))


# --------------------------------------------------------------------------- selection


@kernel
def screen_row(i, V, j0, factor, mode, k, exclude, scale, margin, heaps, sizes, found, found_v, counts, overflow):
    """Screen chunk V[i, :] (searched rows j0, j0 + 1, ...) for query i.

    The screening value v_j is V (L1), V + factor_j (L2: |b|^2 - 2 a.b) or V * factor_j
    (cosine: -a.b / |b|), in float32. ``heaps[i]`` keeps the k smallest values so far (a
    max-heap): its top t only decreases. Row j is kept as a candidate when v_j <= t * scale
    + margin with the t of that moment, which the final t can only tighten; the candidates
    are kept in order of j. When the list is full it is compacted with the current t; when
    that does not free room (thousands of rows within the error bound of each other) the
    query is marked ``overflow`` and :func:`finish_row` measures every row exactly.
    """
    heap = heaps[i]
    kept = found[i]
    kept_v = found_v[i]
    cap = kept.shape[0]
    skip = exclude[i]
    size = sizes[i]
    count = counts[i]
    for jj in range(V.shape[1]):
        j = j0 + jj
        if j == skip:
            continue
        v = V[i, jj]
        if mode == 1:
            v = v + factor[j]
        elif mode == 2:
            v = v * factor[j]
        if size < k:  # push, sift up
            c = size
            size += 1
            while c > 0:
                parent = (c - 1) // 2
                if heap[parent] >= v:
                    break
                heap[c] = heap[parent]
                c = parent
            heap[c] = v
        elif v < heap[0]:  # replace the largest, sift down
            c = 0
            while True:
                child = 2 * c + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] > heap[child]:
                    child += 1
                if heap[child] <= v:
                    break
                heap[c] = heap[child]
                c = child
            heap[c] = v
        elif np.float64(v) > np.float64(heap[0]) * scale[i] + margin[i]:
            continue
        if overflow[i]:
            continue
        if count == cap:  # compact with today's threshold
            limit = np.float64(heap[0]) * scale[i] + margin[i] if size == k else np.inf
            kept_count = 0
            for c in range(count):
                if np.float64(kept_v[c]) <= limit:
                    kept[kept_count] = kept[c]
                    kept_v[kept_count] = kept_v[c]
                    kept_count += 1
            count = kept_count
            if count == cap:
                overflow[i] = True
                continue
        kept[count] = j
        kept_v[count] = v
        count += 1
    sizes[i] = size
    counts[i] = count


@kernel
def screen_block(V, j0, factor, mode, k, exclude, scale, margin, heaps, sizes, found, found_v, counts, overflow):
    for i in range(V.shape[0]):
        screen_row(i, V, j0, factor, mode, k, exclude, scale, margin, heaps, sizes, found, found_v, counts, overflow)


@kernel(parallel=True)
def screen_block_parallel(V, j0, factor, mode, k, exclude, scale, margin, heaps, sizes, found, found_v, counts,
                          overflow):
    for i in prange(V.shape[0]):
        screen_row(i, V, j0, factor, mode, k, exclude, scale, margin, heaps, sizes, found, found_v, counts, overflow)


@kernel
def finish_row(i, A, B, rows, metric, k, exclude, scale, margin, heaps, found, found_v, counts, overflow, norms_a,
               norms_b, out_d, out_i):
    """Exact distances for query i's candidates (or every row after an overflow); the k
    smallest by (distance, j) go to out_d[i], out_i[i] (searched-row positions)."""
    threshold = np.float64(heaps[i, 0]) * scale[i] + margin[i]
    a = A[i]
    na = norms_a[i]
    skip = exclude[i]
    total = rows.shape[0] if overflow[i] else counts[i]
    filled = 0
    for c in range(total):
        if overflow[i]:
            j = c
            if j == skip:
                continue
        else:
            if np.float64(found_v[i, c]) > threshold:
                continue
            j = found[i, c]
        row = rows[j]
        d = exact_distance(a, B[row], metric, na, norms_b[row])
        if filled == k and d >= out_d[i, k - 1]:
            continue  # j is larger than every index kept: an equal distance loses
        p = filled if filled < k else k - 1
        while p > 0 and out_d[i, p - 1] > d:
            out_d[i, p] = out_d[i, p - 1]
            out_i[i, p] = out_i[i, p - 1]
            p -= 1
        out_d[i, p] = d
        out_i[i, p] = j
        if filled < k:
            filled += 1


@kernel
def finish_block(A, B, rows, metric, k, exclude, scale, margin, heaps, found, found_v, counts, overflow, norms_a,
                 norms_b, out_d, out_i):
    for i in range(A.shape[0]):
        finish_row(i, A, B, rows, metric, k, exclude, scale, margin, heaps, found, found_v, counts, overflow, norms_a,
                   norms_b, out_d, out_i)


@kernel(parallel=True)
def finish_block_parallel(A, B, rows, metric, k, exclude, scale, margin, heaps, found, found_v, counts, overflow,
                          norms_a, norms_b, out_d, out_i):
    for i in prange(A.shape[0]):
        finish_row(i, A, B, rows, metric, k, exclude, scale, margin, heaps, found, found_v, counts, overflow, norms_a,
                   norms_b, out_d, out_i)


# --------------------------------------------------------------------------- votes


@kernel
def count_votes(labels, ks, n_classes, out):
    """out[i, t] = the majority class among labels[i, :ks[t]] (ks ascending); equal counts
    go to the smaller class index."""
    counts = np.zeros(n_classes, np.int64)
    kmax = ks[ks.shape[0] - 1]
    for i in range(labels.shape[0]):
        counts[:] = 0
        best = labels[i, 0]
        best_count = 0
        q = 0
        for t in range(kmax):
            c = labels[i, t]
            counts[c] += 1
            if counts[c] > best_count or (counts[c] == best_count and c < best):
                best = c
                best_count = counts[c]
            while q < ks.shape[0] and ks[q] == t + 1:
                out[i, q] = best
                q += 1
