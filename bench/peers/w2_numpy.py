"""W2 peer: numpy lockstep, all live paths advance together with BLAS matrix-matrix products.

Workload W2 (bench_w2.py): Gaussian SGD x' = x - eta H x + s R z, R = C^{1/2} precomputed, s = eta / sqrt(B),
each path stopped at the first step with |x| >= 1. The live paths are the rows of X (m x d):
    X <- X - eta X H + s Z R        (H, R symmetric),  Z = rng.standard_normal((m, d)),
then rows with |x| >= 1 are retired and X is compacted. The BLAS library's thread count is whatever the
caller set (bench_w2.py runs this peer in a subprocess with OPENBLAS_NUM_THREADS and friends).

Returns (exit_steps, total_steps) like the numba peers.
"""
from __future__ import annotations

import numpy as np


def run(H, R, eta, s, n_paths, seed=0, max_steps=10**9):
    n_paths = int(n_paths)
    d = H.shape[0]
    rng = np.random.default_rng(seed)
    A = np.eye(d) - eta * np.asarray(H)  # X - eta X H = X (I - eta H)
    sR = s * np.asarray(R)
    X = np.zeros((n_paths, d))
    alive = np.arange(n_paths)
    exit_steps = np.full(n_paths, -1, dtype=np.int64)
    total = 0
    k = 0
    while alive.size and k < max_steps:
        Z = rng.standard_normal((alive.size, d))
        X = X @ A + Z @ sR
        k += 1
        total += alive.size
        out = np.einsum("ij,ij->i", X, X) >= 1.0
        if out.any():
            exit_steps[alive[out]] = k
            keep = ~out
            alive = alive[keep]
            X = X[keep]
    return exit_steps, total
