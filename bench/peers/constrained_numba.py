"""Constrained-Ackley peer in numba: prange over paths, one path per iteration, each run to its own stop.

Same workload, drift formula, stage-time forcing and stop rule as constrained_numpy.py (see there). Compiled with
fastmath=False so that the arithmetic is the same IEEE operations as the numpy peer's. Call warmup() once before
timing. run(x0, amplitude, omega, alpha, dt, n_steps) -> (hit, exit_step, gradient evaluations).

Paths that hit the target early take a few hundred steps, censored ones all n_steps, and they cluster on the grid:
prange's default static split leaves one thread idle while the other finishes. `chunksize` (numba's
set_parallel_chunksize, default 8) hands out small chunks on demand instead.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .constrained_numpy import drift

# the numpy peer's formula, compiled for scalars
_drift = njit(inline="always")(drift)


@njit(parallel=True)
def _kernel(x0, amp, om, alpha, h, n_steps, hit, exit_step):
    for p in prange(x0.shape[0]):
        a1, a2 = x0[p, 0], x0[p, 1]
        A, w = amp[p], om[p]
        step = n_steps
        ok = a1 * a1 + a2 * a2 < 1.0
        if ok:
            step = 0
        k = 0
        while not ok and k < n_steps:
            t = k * h
            k11, k12 = _drift(a1, a2, t, A, w, alpha)
            k21, k22 = _drift(a1 + h / 2 * k11, a2 + h / 2 * k12, t + h / 2, A, w, alpha)
            k31, k32 = _drift(a1 + h / 2 * k21, a2 + h / 2 * k22, t + h / 2, A, w, alpha)
            k41, k42 = _drift(a1 + h * k31, a2 + h * k32, t + h, A, w, alpha)
            a1 = a1 + h / 6 * (k11 + 2 * k21 + 2 * k31 + k41)
            a2 = a2 + h / 6 * (k12 + 2 * k22 + 2 * k32 + k42)
            k += 1
            if a1 * a1 + a2 * a2 < 1.0:
                ok = True
                step = k
        hit[p] = ok
        exit_step[p] = step


def run(x0, amplitude, omega, alpha, dt, n_steps, chunksize=8):
    x0 = np.ascontiguousarray(x0, dtype=float)
    n = x0.shape[0]
    amp = np.ascontiguousarray(np.broadcast_to(amplitude, (n,)), dtype=float)
    om = np.ascontiguousarray(np.broadcast_to(omega, (n,)), dtype=float)
    hit = np.zeros(n, dtype=np.bool_)
    exit_step = np.zeros(n, dtype=np.int64)
    old = numba.set_parallel_chunksize(chunksize)
    try:
        _kernel(x0, amp, om, float(alpha), float(dt), int(n_steps), hit, exit_step)
    finally:
        numba.set_parallel_chunksize(old)
    return hit, exit_step, int(4 * exit_step.sum())


def warmup():
    run(np.array([[2.0, 2.0], [0.1, 0.1]]), 1.0, 1.0, 1.0, 0.01, 3)
