"""The peer a user would write for dE[tau]/dT: central finite differences with common random numbers, in numba.

Overdamped Langevin dX = -U'(X) dt + sqrt(2T) dW on U(x) = x^4/4 - x^2/2, Euler-Maruyama with step dt, from x0
until the first step with X >= b. Each pair i runs two paths in lockstep at T + h and T - h driven by the same
normals (xoshiro256** with the polar method, seeded per pair as bench/peers/w1_numba.py's fastest peer), each until
its own exit; the pair's difference quotient is
(tau+ - tau-) / (2h). `run_richardson` runs four paths at T +- h and T +- 2h and returns the per-pair
(4 D(h) - D(2h)) / 3. One pair per prange iteration: results do not depend on the thread count.

Both return (per-pair difference quotients, total path-steps executed). Call warmup() once before timing.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from .w1_numba import _TWO_M53, _U, _mix64, _rotl, _seed_state

_NO_CAP = np.iinfo(np.int64).max - 2


@njit(inline="always")
def _xoshiro(s0, s1, s2, s3):
    """One output of xoshiro256** and the new state."""
    r = _rotl(s1 * _U(5), 7) * _U(9)
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return r, s0, s1, s2, _rotl(s3, 45)


@njit(inline="always")
def _normal_pair(s0, s1, s2, s3):
    """Two standard normals by the polar method on xoshiro256** (as w1_numba.run_xoshiro), and the new state."""
    while True:
        r1, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
        r2, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
        u = float(np.int64(r1 >> _U(11))) * (2.0 * _TWO_M53) - 1.0
        v = float(np.int64(r2 >> _U(11))) * (2.0 * _TWO_M53) - 1.0
        q = u * u + v * v
        if q < 1.0 and q > 0.0:
            break
    f = math.sqrt(-2.0 * math.log(q) / q)
    return f * u, f * v, s0, s1, s2, s3


@njit(inline="always")
def _step(x, z, sc, dt):
    return x - (x * x * x - x) * dt + sc * z


@njit(parallel=True, cache=False)
def _kernel(n_pairs, temps, dt, x0, b, seed, max_steps, out_tau, out_steps):
    # up to four paths in lockstep on one stream of normals (unused ones start past b and never move)
    m = temps.shape[0]
    sc = np.zeros(4)
    for j in range(m):
        sc[j] = math.sqrt(2.0 * temps[j] * dt)
    seed_mixed = _mix64(_U(seed))
    for i in prange(n_pairs):
        s0, s1, s2, s3 = _seed_state(seed_mixed, i)
        xa = x0
        xb = x0
        xc = x0 if m > 2 else b
        xd = x0 if m > 3 else b
        ka = kb = kc = kd = -1
        k = 0
        steps = 0
        z2 = 0.0
        have = False
        while k < max_steps and (ka < 0 or kb < 0 or (m > 2 and kc < 0) or (m > 3 and kd < 0)):
            if have:
                z = z2
                have = False
            else:
                z, z2, s0, s1, s2, s3 = _normal_pair(s0, s1, s2, s3)
                have = True
            k += 1
            if ka < 0:
                xa = _step(xa, z, sc[0], dt)
                steps += 1
                if xa >= b:
                    ka = k
            if kb < 0:
                xb = _step(xb, z, sc[1], dt)
                steps += 1
                if xb >= b:
                    kb = k
            if m > 2 and kc < 0:
                xc = _step(xc, z, sc[2], dt)
                steps += 1
                if xc >= b:
                    kc = k
            if m > 3 and kd < 0:
                xd = _step(xd, z, sc[3], dt)
                steps += 1
                if xd >= b:
                    kd = k
        ks = (ka, kb, kc, kd)
        for j in range(m):
            out_tau[i, j] = ks[j] * dt if ks[j] >= 0 else np.nan
        out_steps[i] = steps


def _run(temps, n_pairs, dt, x0, b, seed, threads, max_steps):
    numba.set_num_threads(int(threads))
    cap = _NO_CAP if max_steps is None else int(max_steps)
    tau = np.empty((int(n_pairs), len(temps)))
    steps = np.empty(int(n_pairs), dtype=np.int64)
    _kernel(int(n_pairs), np.asarray(temps, dtype=np.float64), float(dt), float(x0), float(b), int(seed), cap, tau,
            steps)
    return tau, int(steps.sum())


def run_central(n_pairs, T=0.1, h=0.002, dt=1e-3, x0=-1.2, b=0.2, seed=0, threads=1, max_steps=None):
    """Per-pair (tau(T + h) - tau(T - h)) / (2h) with common normals, and the path-steps executed."""
    tau, steps = _run([T + h, T - h], n_pairs, dt, x0, b, seed, threads, max_steps)
    return (tau[:, 0] - tau[:, 1]) / (2 * h), steps


def run_richardson(n_pairs, T=0.1, h=0.01, dt=1e-3, x0=-1.2, b=0.2, seed=0, threads=1, max_steps=None):
    """Per-pair (4 D(h) - D(2h)) / 3 with D(h) = (tau(T + h) - tau(T - h)) / (2h), common normals."""
    tau, steps = _run([T + h, T - h, T + 2 * h, T - 2 * h], n_pairs, dt, x0, b, seed, threads, max_steps)
    d1 = (tau[:, 0] - tau[:, 1]) / (2 * h)
    d2 = (tau[:, 2] - tau[:, 3]) / (4 * h)
    return (4 * d1 - d2) / 3, steps


def warmup():
    run_central(4, dt=1e-2)
