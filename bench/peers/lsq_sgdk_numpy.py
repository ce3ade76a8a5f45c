"""SGD-k peer on a least-squares sum: numpy, all paths advanced together (vectorized over paths).

Workload (bench_lsq_sgdk.py): F(w) = (1/n) sum_i f_i(w), f_i(w) = (x_i^T w - y_i)^2 / 2 + (l2 / 2) |w|^2, SGD-k
with replacement, w' = w - (lr / k) sum_{i in S} grad f_i(w), the k terms of S drawn uniformly per path and step.
Each step, for every path at once: S as a (paths, k) array of uniform indices, the residuals as one batched product
of the selected rows with the paths' w (einsum), and the minibatch sum of r_i x_i as another (a different
summation order from escapade's, so the paths agree in law, not in bits). Returns (final positions, path-steps).
"""
from __future__ import annotations

import numpy as np


def run(X, y, l2, w0, lr, k, steps, seed=0):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n = X.shape[0]
    W = np.array(w0, dtype=float, copy=True)  # paths x d
    m = W.shape[0]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        S = rng.integers(0, n, size=(m, k))
        XS = X[S]  # paths x k x d
        r = np.einsum("pkd,pd->pk", XS, W) - y[S]
        G = np.einsum("pk,pkd->pd", r, XS) + k * l2 * W
        W -= (lr / k) * G
    return W, m * steps
