"""SGD-k peer in numba, parallel over paths with prange, one path per iteration.

Workload (bench_sgdk.py): SGD-k without replacement on a Styblinski-Tang sum, x' = x - (lr / k) sum_{i in S}
grad f_i(x) with grad f_i(x)_j = 2 c1_ij x_j^3 + c2_ij x_j + c3_ij / 2. Each path keeps its own permutation of
the term indices and draws S as a partial Fisher-Yates shuffle of it (k swaps, O(k) per step; any permutation
shuffled so gives a uniform k-subset); x^3 is taken once per step and the gradient summed term by term over the
k rows of the (n, d) coefficient arrays (contiguous), compiled with fastmath=True so LLVM may fuse and reorder as
it likes (numba's best case). Uniforms come from numba's np.random (per-thread state, seeded per path inside the
loop, so results do not depend on the thread count). Returns (final positions, path-steps); call warmup() once
before timing.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, fastmath=True)
def _kernel(a2, b, ch, x0, lr, k, steps, seed, out):
    n, d = a2.shape
    for p in prange(x0.shape[0]):
        np.random.seed((seed * 1000003 + p) & 0xFFFFFFFF)
        perm = np.arange(n)
        x = x0[p].copy()
        x3 = np.empty(d)
        g = np.empty(d)
        for _ in range(steps):
            for j in range(k):  # partial Fisher-Yates: perm[:k] is the batch
                r = j + np.random.randint(n - j)
                t = perm[j]
                perm[j] = perm[r]
                perm[r] = t
            for i in range(d):
                x3[i] = x[i] * x[i] * x[i]
                g[i] = 0.0
            for j in range(k):
                t = perm[j]
                for i in range(d):
                    g[i] += a2[t, i] * x3[i] + b[t, i] * x[i] + ch[t, i]
            for i in range(d):
                x[i] -= lr / k * g[i]
        out[p] = x


def run(c1, c2, c3, x0, lr, k, steps, seed=0, threads=None):
    import numba

    if threads:
        numba.set_num_threads(threads)
    a2 = np.ascontiguousarray(2.0 * np.asarray(c1, dtype=float))
    b = np.array(c2, dtype=float, order="C")  # a writable copy: a read-only array is another signature
    ch = np.ascontiguousarray(0.5 * np.asarray(c3, dtype=float))
    x0 = np.array(x0, dtype=float, order="C")
    out = np.empty_like(x0)
    _kernel(a2, b, ch, x0, float(lr), int(k), int(steps), int(seed), out)
    return out, x0.shape[0] * int(steps)


def warmup() -> None:
    rng = np.random.default_rng(0)
    c = rng.random((6, 3))
    run(c, -c, c, rng.random((2, 3)), 0.01, 2, 2)
