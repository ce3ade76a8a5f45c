"""W2 peers in numba, parallel over paths with prange, one path per iteration.

Workload W2 (bench_w2.py): Gaussian SGD x' = x - eta H x + s R z on a d-dimensional quadratic, R = C^{1/2}
precomputed, s = eta / sqrt(B), z ~ N(0, I_d), each path stopped at the first step with |x| >= 1.

Normals come from numba's np.random (per-thread state, seeded per path inside the loop, so results do not
depend on the thread count). Two ways to do the two mat-vecs of a step:

run_loops: explicit loops, column by column (g += H[:, k] y_k: contiguous, vectorized), compiled with
    fastmath=True so LLVM may fuse and reorder as it likes (numba's best case);
run_blas:  np.dot(H, y, out) into preallocated vectors, i.e. BLAS dgemv per path per product.

Both return (exit_steps, total_steps): int64 exit steps (-1 for paths still running after max_steps) and the
number of path-steps executed. Call warmup() once before timing.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange


@njit(parallel=True, fastmath=True)
def _kernel_loops(H, R, eta, s, n_paths, seed, max_steps, out_steps):
    d = H.shape[0]
    for p in prange(n_paths):
        np.random.seed((seed * 1000003 + p) & 0xFFFFFFFF)
        x = np.zeros(d)
        g = np.empty(d)
        noise = np.empty(d)
        z = np.empty(d)
        k = 0
        exited = False
        while k < max_steps:
            for i in range(d):
                z[i] = np.random.standard_normal()
                g[i] = 0.0
                noise[i] = 0.0
            for j in range(d):  # H and R symmetric: row j is column j, contiguous
                xj = x[j]
                zj = z[j]
                for i in range(d):
                    g[i] += H[j, i] * xj
                    noise[i] += R[j, i] * zj
            r2 = 0.0
            for i in range(d):
                x[i] = x[i] - eta * g[i] + s * noise[i]
                r2 += x[i] * x[i]
            k += 1
            if r2 >= 1.0:
                exited = True
                break
        out_steps[p] = k if exited else -1


@njit(parallel=True)
def _kernel_blas(H, R, eta, s, n_paths, seed, max_steps, out_steps):
    d = H.shape[0]
    for p in prange(n_paths):
        np.random.seed((seed * 1000003 + p) & 0xFFFFFFFF)
        x = np.zeros(d)
        g = np.empty(d)
        noise = np.empty(d)
        z = np.empty(d)
        k = 0
        exited = False
        while k < max_steps:
            for i in range(d):
                z[i] = np.random.standard_normal()
            np.dot(H, x, g)
            np.dot(R, z, noise)
            r2 = 0.0
            for i in range(d):
                x[i] = x[i] - eta * g[i] + s * noise[i]
                r2 += x[i] * x[i]
            k += 1
            if r2 >= 1.0:
                exited = True
                break
        out_steps[p] = k if exited else -1


def _run(kernel, H, R, eta, s, n_paths, threads, seed, max_steps):
    numba.set_num_threads(int(threads))
    steps = np.empty(int(n_paths), dtype=np.int64)
    kernel(np.ascontiguousarray(H), np.ascontiguousarray(R), float(eta), float(s), int(n_paths), int(seed),
           int(max_steps), steps)
    total = int(np.where(steps >= 0, steps, max_steps).sum())
    return steps, total


def run_loops(H, R, eta, s, n_paths, threads=1, seed=0, max_steps=10**9):
    return _run(_kernel_loops, H, R, eta, s, n_paths, threads, seed, max_steps)


def run_blas(H, R, eta, s, n_paths, threads=1, seed=0, max_steps=10**9):
    return _run(_kernel_blas, H, R, eta, s, n_paths, threads, seed, max_steps)


def warmup(H, R, eta, s):
    run_loops(H, R, eta, s, 4, threads=1, max_steps=5)
    run_blas(H, R, eta, s, 4, threads=1, max_steps=5)
