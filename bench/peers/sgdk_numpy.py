"""SGD-k peer: numpy, all paths advanced together (vectorized over paths), BLAS for the minibatch sums.

Workload (bench_sgdk.py): a Styblinski-Tang sum F = (1/n) sum_i f_i, f_i(x) = (1/2) sum_j (c1_ij x_j^4 +
c2_ij x_j^2 + c3_ij x_j), SGD-k without replacement, x' = x - (lr / k) sum_{i in S} grad f_i(x), S k distinct
terms drawn uniformly per path and step. Each step:
  - S for every path at once: the k smallest of n uniform keys per path (np.argpartition), a uniform k-subset;
  - the per-path sums of the selected terms' coefficients as one matrix product: M (paths x n, ones at S) times
    [2 c1 | c2 | c3 / 2] (n x 3d), so grad = x^3 * sum 2 c1 + x * sum c2 + sum c3 / 2 (a different summation order
    from escapade's term-by-term sum, so the paths agree in law, not in bits).
The BLAS library's thread count is whatever the caller set (bench_sgdk.py runs this peer in a subprocess with
OPENBLAS_NUM_THREADS and friends). Returns (final positions, path-steps).
"""
from __future__ import annotations

import numpy as np


def run(c1, c2, c3, x0, lr, k, steps, seed=0):
    c1, c2, c3 = (np.asarray(c, dtype=float) for c in (c1, c2, c3))
    n, d = c1.shape
    coef = np.hstack([2.0 * c1, c2, 0.5 * c3])  # n x 3d
    X = np.array(x0, dtype=float, copy=True)  # paths x d
    m = X.shape[0]
    rng = np.random.default_rng(seed)
    M = np.zeros((m, n))
    rows = np.repeat(np.arange(m), k)
    for _ in range(steps):
        S = np.argpartition(rng.random((m, n)), k - 1, axis=1)[:, :k]
        M[rows, S.ravel()] = 1.0
        sums = M @ coef  # paths x 3d
        M[rows, S.ravel()] = 0.0
        G = X**3 * sums[:, :d] + X * sums[:, d:2 * d] + sums[:, 2 * d:]
        X -= (lr / k) * G
    return X, m * steps
