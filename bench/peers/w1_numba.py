"""W1 peers in numba, parallel over paths with prange.

Workload W1: overdamped Langevin dX = -U'(X) dt + sqrt(2T) dW with
U(x) = x^4/4 - x^2/2, T = 1/16, X_0 = -1, Euler-Maruyama with step dt,
each path stopped at the first step k with X_k >= 0 (exit time k*dt).

run_nprandom: one path per prange iteration, normals from numba's
    np.random (per-thread Mersenne Twister state, seeded per path with
    np.random.seed inside the loop, so results do not depend on the
    thread count or scheduling).
run_xoshiro: one path per prange iteration, inlined xoshiro256** with the
    Marsaglia polar method (both normals of a pair used, two steps per
    iteration), state seeded per path from splitmix64 as in w1_plain.c:
        sm = mix64(mix64(seed) ^ path); s0..s3 = 4 splitmix64 outputs of sm.
run_xoshiro_bm: the same with Box-Muller instead of polar; it consumes the
    per-path stream exactly as w1_plain.c does (u1 = ((r1>>11)+1) 2^-53,
    u2 = (r2>>11) 2^-53, z1 = R cos(2 pi u2) then z2 = R sin(2 pi u2)), so
    its exit steps agree with the C peer path by path up to rounding.

Both return (exit_times, total_steps): float64 exit times (nan for paths
censored at max_steps) and the number of path-steps executed (sum of exit
steps, max_steps for censored paths).  Call warmup() once before timing.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

TEMPERATURE = 1.0 / 16.0
X0 = -1.0
_NO_CAP = np.iinfo(np.int64).max - 2

# ---------------------------------------------------------------- (a)


@njit(parallel=True, cache=False)
def _kernel_nprandom(n_paths, dt, seed, max_steps, out_steps):
    s = math.sqrt(2.0 * TEMPERATURE * dt)
    for i in prange(n_paths):
        np.random.seed((seed * 1000003 + i) & 0xFFFFFFFF)
        x = X0
        k = 0
        exited = False
        while k < max_steps:
            x = x - (x * x * x - x) * dt + s * np.random.standard_normal()
            k += 1
            if x >= 0.0:
                exited = True
                break
        out_steps[i] = k if exited else -1


def run_nprandom(n_paths, dt=1e-3, threads=1, seed=0, max_steps=None):
    numba.set_num_threads(int(threads))
    cap = _NO_CAP if max_steps is None else int(max_steps)
    steps = np.empty(int(n_paths), dtype=np.int64)
    _kernel_nprandom(int(n_paths), float(dt), int(seed), cap, steps)
    return _finish(steps, float(dt), cap)


# ---------------------------------------------------------------- (b)

_U = np.uint64
_GOLDEN = _U(0x9E3779B97F4A7C15)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2^-53
_TWO_PI = 2.0 * math.pi


@njit(inline="always")
def _mix64(z):
    z = (z ^ (z >> _U(30))) * _M1
    z = (z ^ (z >> _U(27))) * _M2
    return z ^ (z >> _U(31))


@njit(inline="always")
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@njit(inline="always")
def _seed_state(seed_mixed, i):
    sm = _mix64(seed_mixed ^ _U(i))
    sm += _GOLDEN
    s0 = _mix64(sm)
    sm += _GOLDEN
    s1 = _mix64(sm)
    sm += _GOLDEN
    s2 = _mix64(sm)
    sm += _GOLDEN
    s3 = _mix64(sm)
    return s0, s1, s2, s3


@njit(parallel=True, cache=False)
def _kernel_xoshiro_bm(n_paths, dt, seed, max_steps, out_steps):
    s = math.sqrt(2.0 * TEMPERATURE * dt)
    seed_mixed = _mix64(_U(seed))
    for i in prange(n_paths):
        s0, s1, s2, s3 = _seed_state(seed_mixed, i)
        x = X0
        k = 0
        exit_k = -1
        while k < max_steps:
            # xoshiro256** twice -> two uniforms
            r1 = _rotl(s1 * _U(5), 7) * _U(9)
            t = s1 << _U(17)
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = _rotl(s3, 45)
            r2 = _rotl(s1 * _U(5), 7) * _U(9)
            t = s1 << _U(17)
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = _rotl(s3, 45)
            u1 = float(np.int64((r1 >> _U(11)) + _U(1))) * _TWO_M53  # (0, 1]
            u2 = float(np.int64(r2 >> _U(11))) * _TWO_M53  # [0, 1)
            rad = s * math.sqrt(-2.0 * math.log(u1))
            th = _TWO_PI * u2
            x = x - (x * x * x - x) * dt + rad * math.cos(th)
            k += 1
            if x >= 0.0:
                exit_k = k
                break
            if k >= max_steps:
                break
            x = x - (x * x * x - x) * dt + rad * math.sin(th)
            k += 1
            if x >= 0.0:
                exit_k = k
                break
        out_steps[i] = exit_k


def run_xoshiro_bm(n_paths, dt=1e-3, threads=1, seed=0, max_steps=None):
    numba.set_num_threads(int(threads))
    cap = _NO_CAP if max_steps is None else int(max_steps)
    steps = np.empty(int(n_paths), dtype=np.int64)
    _kernel_xoshiro_bm(int(n_paths), float(dt), int(seed), cap, steps)
    return _finish(steps, float(dt), cap)


@njit(parallel=True, cache=False)
def _kernel_xoshiro(n_paths, dt, seed, max_steps, out_steps):
    s = math.sqrt(2.0 * TEMPERATURE * dt)
    seed_mixed = _mix64(_U(seed))
    for i in prange(n_paths):
        s0, s1, s2, s3 = _seed_state(seed_mixed, i)
        x = X0
        k = 0
        exit_k = -1
        while k < max_steps:
            # polar method: (u, v) uniform on the square until inside the disc
            while True:
                r1 = _rotl(s1 * _U(5), 7) * _U(9)
                t = s1 << _U(17)
                s2 ^= s0
                s3 ^= s1
                s1 ^= s2
                s0 ^= s3
                s2 ^= t
                s3 = _rotl(s3, 45)
                r2 = _rotl(s1 * _U(5), 7) * _U(9)
                t = s1 << _U(17)
                s2 ^= s0
                s3 ^= s1
                s1 ^= s2
                s0 ^= s3
                s2 ^= t
                s3 = _rotl(s3, 45)
                u = float(np.int64(r1 >> _U(11))) * (2.0 * _TWO_M53) - 1.0
                v = float(np.int64(r2 >> _U(11))) * (2.0 * _TWO_M53) - 1.0
                q = u * u + v * v
                if q < 1.0 and q > 0.0:
                    break
            f = s * math.sqrt(-2.0 * math.log(q) / q)
            x = x - (x * x * x - x) * dt + f * u
            k += 1
            if x >= 0.0:
                exit_k = k
                break
            if k >= max_steps:
                break
            x = x - (x * x * x - x) * dt + f * v
            k += 1
            if x >= 0.0:
                exit_k = k
                break
        out_steps[i] = exit_k


def run_xoshiro(n_paths, dt=1e-3, threads=1, seed=0, max_steps=None):
    numba.set_num_threads(int(threads))
    cap = _NO_CAP if max_steps is None else int(max_steps)
    steps = np.empty(int(n_paths), dtype=np.int64)
    _kernel_xoshiro(int(n_paths), float(dt), int(seed), cap, steps)
    return _finish(steps, float(dt), cap)


# ---------------------------------------------------------------- common


def _finish(steps, dt, cap):
    done = steps >= 0
    exit_times = np.full(steps.size, np.nan)
    exit_times[done] = steps[done] * dt
    total_steps = int(steps[done].sum()) + int((~done).sum()) * cap
    return exit_times, total_steps


def warmup():
    """Compile all kernels (tiny run, short cap)."""
    run_nprandom(4, 1e-3, 1, 0, max_steps=100)
    run_xoshiro(4, 1e-3, 1, 0, max_steps=100)
    run_xoshiro_bm(4, 1e-3, 1, 0, max_steps=100)


if __name__ == "__main__":
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    dt = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-3
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    warmup()
    for name, fn in (("numba_nprandom", run_nprandom), ("numba_xoshiro", run_xoshiro),
                     ("numba_xoshiro_bm", run_xoshiro_bm)):
        t0 = time.perf_counter()
        et, st = fn(n, dt, threads, seed)
        w = time.perf_counter() - t0
        ok = et[np.isfinite(et)]
        print(f"{name} threads={threads} mean={ok.mean():.4f} "
              f"se={ok.std(ddof=1) / np.sqrt(ok.size):.4f} steps={st} wall={w:.3f}s "
              f"ns/step/thread={w * threads / st * 1e9:.3f}")
