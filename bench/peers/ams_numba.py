"""Adaptive multilevel splitting (AMS) peer in numba: the 1-D double well.

Problem: V(x) = x^4/4 - x^2/2, Euler-Maruyama x' = x - V'(x) dt + sqrt(2 T dt) G from x0, each replica stopped at
the first step with x <= a (reactant A) or x >= b (product B), tested at the steps only (no Brownian bridge).
Estimated: p = P_x0(the chain reaches B before A).

The method (generalized AMS of Brehier, Gazeau, Goudenege, Lelievre & Rousset, Ann. Appl. Probab. 26 (2016),
with k = 1; unbiased for discrete-time chains): score = x. Each replica keeps only its running-maximum points
(its records: the start and every point where x set a new maximum), the only points it can be branched at. At
each iteration the level is the smallest maximum score among the N replicas; if it is >= b every replica is in
B and the run stops. All K replicas whose maximum is <= the level die together; if K = N the run went extinct
(p_hat = 0). Otherwise each killed replica copies a survivor chosen uniformly (independently) up to the
survivor's first record with score > level and continues from there with fresh noise until A or B. The
estimate of one run is p_hat = prod_q (1 - K_q / N) * (#replicas in B at the end) / N; at an iteration cap
the replicas already in B are counted.

Randomness: xoshiro256** per run, its state from splitmix64 of (seed, run index) as in w1_numba.py, normals
by the Marsaglia polar method (both normals of a pair used; an unused second normal carries over to the next
replica or branch, it is fresh noise there too). Survivor choice: floor(u (N - K)) with u a
53-bit uniform from the same stream. A run's result depends only on (seed, run index), not on the driver or
the thread count.

Public entry points
-------------------
run_ams(temperature, dt, x0, a, b, n_replicas, n_runs, seed, max_iterations=10**7, parallel=False,
        threads=None) -> dict
    n_runs independent runs. parallel=False: a Python loop calling the compiled one-run function (one thread);
    parallel=True: one numba prange over the runs (threads: numba threads, default numba's). Returns
    {"p": float64[n_runs] (p_hat per run), "iterations": int64[n_runs] (killing steps), "steps":
    int64[n_runs] (Euler steps, the N initial paths included), "extinct": bool[n_runs], "capped":
    bool[n_runs] (stopped at max_iterations), "wall": float (seconds for all runs), "run_wall":
    float64[n_runs] (seconds per run; parallel=True: nan)}.
warm_up()
    Compiles both drivers (a tiny run each); call it before timing.
one_run(temperature, dt, x0, a, b, n_replicas, seed, run, max_iterations) -> (p, iterations, steps, status)
    The compiled single run (status 0: all in B, 1: extinct, 2: iteration cap).
"""
from __future__ import annotations

import math
import time

import numba
import numpy as np
from numba import njit, prange

_U = np.uint64
_GOLDEN = _U(0x9E3779B97F4A7C15)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2^-53
_INITIAL_RECORDS = 256  # record slots per replica; doubled when a replica needs more

ALL_IN_B, EXTINCT, CAPPED = 0, 1, 2


@njit(inline="always")
def _mix64(z):
    z = (z ^ (z >> _U(30))) * _M1
    z = (z ^ (z >> _U(27))) * _M2
    return z ^ (z >> _U(31))


@njit(inline="always")
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@njit(inline="always")
def _next(st):
    """xoshiro256** on the state array st[0:4]."""
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    r = _rotl(s1 * _U(5), 7) * _U(9)
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    return r


@njit(inline="always")
def _seed(st, seed, run):
    sm = _mix64(_mix64(_U(seed)) ^ _U(run))
    for i in range(4):
        sm += _GOLDEN
        st[i] = _mix64(sm)


@njit(cache=False)
def _advance(x, xmax, rec, n, st, c, dt, s, a, b):
    """Continue one replica from x (running maximum xmax, records rec[:n]) until x <= a or x >= b.

    c[0] holds the spare normal of the polar pair (nan if none), c[1] counts Euler steps. Returns
    (rec, n): rec is reallocated (doubled) when full.
    """
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    spare = c[0]
    steps = 0
    while True:
        if not math.isnan(spare):  # the second normal of the last pair
            g = spare
            spare = math.nan
        else:
            while True:  # polar method: (u, v) uniform on the square until inside the unit disc
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
            f = math.sqrt(-2.0 * math.log(q) / q)
            g = f * u
            spare = f * v
        x = x - (x * x * x - x) * dt + s * g
        steps += 1
        if x > xmax:
            xmax = x
            if n == rec.shape[0]:
                grown = np.empty(2 * n)
                grown[:n] = rec
                rec = grown
            rec[n] = x
            n += 1
            if x >= b:
                break
        elif x <= a:
            break
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    c[0] = spare
    c[1] += steps
    return rec, n


@njit(cache=False)
def one_run(temperature, dt, x0, a, b, n_replicas, seed, run, max_iterations):
    """One AMS run; returns (p_hat, iterations, Euler steps, status)."""
    nrep = n_replicas
    s = math.sqrt(2.0 * temperature * dt)
    st = np.empty(4, dtype=np.uint64)
    _seed(st, seed, run)
    c = np.empty(2)  # spare normal, step count
    c[0] = math.nan
    c[1] = 0.0
    recs = [np.empty(_INITIAL_RECORDS) for _ in range(nrep)]  # records of each replica, increasing
    smax = np.empty(nrep)  # maximum score = last record
    for i in range(nrep):
        rec = recs[i]
        rec[0] = x0
        rec, n = _advance(x0, x0, rec, 1, st, c, dt, s, a, b)
        recs[i] = rec
        smax[i] = rec[n - 1]
    weight = 1.0
    iterations = 0
    status = ALL_IN_B
    killed = np.empty(nrep, dtype=np.int64)
    survivors = np.empty(nrep, dtype=np.int64)
    while True:
        level = smax.min()
        if level >= b:
            break
        if iterations >= max_iterations:
            status = CAPPED
            break
        nk = 0
        ns = 0
        for i in range(nrep):
            if smax[i] <= level:
                killed[nk] = i
                nk += 1
            else:
                survivors[ns] = i
                ns += 1
        iterations += 1
        if ns == 0:
            weight = 0.0
            status = EXTINCT
            break
        weight *= 1.0 - nk / nrep
        for m in range(nk):
            i = killed[m]
            j = survivors[int(float(np.int64(_next(st) >> _U(11))) * _TWO_M53 * ns)]
            parent = recs[j]
            cut = 0  # the parent's first record above the level: the branch point (its maximum is above the level)
            while parent[cut] <= level:
                cut += 1
            # in 1-D the state at a record is its score; records at or below the level are never branch points
            # again (levels only rise), so the child starts its records at the branch point
            rec = recs[i]
            rec[0] = parent[cut]
            n = 1
            if rec[0] < b:  # otherwise the branch point is the parent's arrival in B, and so is the child's
                rec, n = _advance(rec[0], rec[0], rec, 1, st, c, dt, s, a, b)
            recs[i] = rec
            smax[i] = rec[n - 1]
    in_b = 0
    for i in range(nrep):
        if smax[i] >= b:
            in_b += 1
    p = weight * in_b / nrep if status != EXTINCT else 0.0
    return p, iterations, np.int64(c[1]), status


@njit(parallel=True, cache=False)
def _runs_prange(temperature, dt, x0, a, b, n_replicas, n_runs, seed, max_iterations, p, it, steps, status):
    for r in prange(n_runs):
        p[r], it[r], steps[r], status[r] = one_run(temperature, dt, x0, a, b, n_replicas, seed, r, max_iterations)


def _check(temperature, dt, x0, a, b, n_replicas, n_runs, max_iterations):
    for name, v in (("temperature", temperature), ("dt", dt)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if not (a < x0 < b):
        raise ValueError(f"need a < x0 < b, got a={a!r}, x0={x0!r}, b={b!r}")
    for name, v, lo in (("n_replicas", n_replicas, 2), ("n_runs", n_runs, 1), ("max_iterations", max_iterations, 0)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")


def run_ams(temperature, dt, x0, a, b, n_replicas, n_runs, seed, max_iterations=10**7, parallel=False, threads=None):
    """n_runs independent AMS runs; see the module docstring for the returned dict."""
    _check(temperature, dt, x0, a, b, n_replicas, n_runs, max_iterations)
    args = (float(temperature), float(dt), float(x0), float(a), float(b), int(n_replicas))
    n_runs, seed, max_iterations = int(n_runs), int(seed), int(max_iterations)
    p = np.empty(n_runs)
    it = np.empty(n_runs, dtype=np.int64)
    steps = np.empty(n_runs, dtype=np.int64)
    status = np.empty(n_runs, dtype=np.int64)
    run_wall = np.full(n_runs, np.nan)
    if parallel:
        if threads is not None:
            numba.set_num_threads(int(threads))
        t0 = time.perf_counter()
        _runs_prange(*args, n_runs, seed, max_iterations, p, it, steps, status)
        wall = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        for r in range(n_runs):
            t1 = time.perf_counter()
            p[r], it[r], steps[r], status[r] = one_run(*args, seed, r, max_iterations)
            run_wall[r] = time.perf_counter() - t1
        wall = time.perf_counter() - t0
    return {"p": p, "iterations": it, "steps": steps, "extinct": status == EXTINCT, "capped": status == CAPPED,
            "wall": wall, "run_wall": run_wall}


def warm_up():
    """Compile the one-run function and the prange driver."""
    run_ams(0.25, 1e-2, -0.8, -0.9, 0.0, 4, 2, 0, max_iterations=50)
    run_ams(0.25, 1e-2, -0.8, -0.9, 0.0, 4, 2, 0, max_iterations=50, parallel=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--temperature", type=float, default=1 / 64)
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--x0", type=float, default=-0.8)
    ap.add_argument("--a", type=float, default=-0.9)
    ap.add_argument("--b", type=float, default=0.0)
    ap.add_argument("--replicas", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parallel", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ns = ap.parse_args()
    warm_up()
    out = run_ams(ns.temperature, ns.dt, ns.x0, ns.a, ns.b, ns.replicas, ns.runs, ns.seed,
                  parallel=ns.parallel, threads=ns.threads)
    p = out["p"]
    k = p.size
    se = p.std(ddof=1) / math.sqrt(k) if k > 1 else math.nan
    rsd = p.std(ddof=1) / p.mean() if k > 1 else math.nan
    steps = int(out["steps"].sum())
    print(f"runs={k} p={p.mean():.6e} se={se:.3e} rel_sd_per_run={rsd:.4f} "
          f"iterations/run={out['iterations'].mean():.1f} steps/run={steps / k:.4e} wall={out['wall']:.3f}s "
          f"ns/step={out['wall'] / steps * 1e9:.3f} extinct={int(out['extinct'].sum())} capped={int(out['capped'].sum())}")
