"""W1 peer: numpy lockstep over the live paths (single thread).

Workload W1: overdamped Langevin dX = -U'(X) dt + sqrt(2T) dW with
U(x) = x^4/4 - x^2/2, T = 1/16, X_0 = -1, Euler-Maruyama with step dt,
each path stopped at the first step k with X_k >= 0 (exit time k*dt).

All still-running paths advance together, one ufunc pass per operation.
Normals are drawn K steps at a time into a (K, m) block and the trajectory
of the block is kept, so the live set is compacted (and the exact first
exit step of every path that crossed inside the block is read off) only
once per block.  Paths that crossed early in a block keep being advanced
until the block ends; those extra steps are not counted as work.

To save one full pass per step the recursion is written for the scaled
state y = x / s, s = sqrt(2 T dt):
    x' = x (1 + dt) - dt x^3 + s z   <=>   y' = y (a - c y^2) + z,
    a = 1 + dt,  c = dt s^2.
Since s > 0 the exit test y >= 0 is the same as x >= 0.
"""
from __future__ import annotations

import numpy as np

TEMPERATURE = 1.0 / 16.0
X0 = -1.0


def run(n_paths, dt=1e-3, threads=1, seed=0, max_steps=None, block=64):
    """Simulate W1.

    Returns (exit_times, total_steps): exit_times is a float64 array of
    length n_paths (nan for paths still running after max_steps steps),
    total_steps the number of path-steps executed (sum of the exit steps,
    max_steps for censored paths).  `threads` is accepted for a uniform
    interface; this peer always runs on one thread.
    """
    n_paths = int(n_paths)
    dt = float(dt)
    rng = np.random.default_rng(seed)
    s = np.sqrt(2.0 * TEMPERATURE * dt)
    a = 1.0 + dt
    c = dt * s * s
    K = int(block)
    cap = np.iinfo(np.int64).max if max_steps is None else int(max_steps)

    exit_steps = np.full(n_paths, -1, dtype=np.int64)
    ids = np.arange(n_paths, dtype=np.int64)
    m = n_paths
    # flat buffers, reshaped to C-contiguous (K+1, m) / (K, m) views
    ybuf = np.empty((K + 1) * n_paths)
    zbuf = np.empty(K * n_paths)
    tbuf = np.empty(n_paths)
    y0 = np.full(n_paths, X0 / s)
    k0 = 0  # steps done by every live path
    while m > 0 and k0 < cap:
        nb = min(K, cap - k0)
        Y = ybuf[: (nb + 1) * m].reshape(nb + 1, m)
        Z = zbuf[: nb * m].reshape(nb, m)
        Y[0] = y0[:m]
        rng.standard_normal(out=Z)
        t = tbuf[:m]
        for j in range(nb):
            y = Y[j]
            np.multiply(y, y, out=t)
            t *= -c
            t += a
            t *= y
            np.add(t, Z[j], out=Y[j + 1])
        hit = Y[1:] >= 0.0
        first = hit.argmax(axis=0)  # first True row, 0 if none
        crossed = hit[first, np.arange(m)]
        if crossed.any():
            exit_steps[ids[crossed]] = k0 + 1 + first[crossed]
            keep = ~crossed
            ids = ids[keep]
            y0 = Y[nb][keep]
            m = ids.size
        else:
            y0 = Y[nb].copy()
        k0 += nb

    done = exit_steps >= 0
    exit_times = np.full(n_paths, np.nan)
    exit_times[done] = exit_steps[done] * dt
    # censored paths (only possible when the cap stopped the loop) ran k0 steps
    total_steps = int(exit_steps[done].sum()) + int((~done).sum()) * k0
    return exit_times, total_steps


if __name__ == "__main__":
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    dt = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-3
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    t0 = time.perf_counter()
    et, steps = run(n, dt, 1, seed)
    w = time.perf_counter() - t0
    ok = et[np.isfinite(et)]
    print(f"mean={ok.mean():.4f} se={ok.std(ddof=1)/np.sqrt(ok.size):.4f} "
          f"steps={steps} wall={w:.3f}s ns/step/thread={w/steps*1e9:.3f}")
