"""What reflecting walls, exit faces, restarts and the periodic landscape cost, one process, one engine thread.

Rows, each in CPU nanoseconds per path-step (best of --repeat, round robin over the rows):

* W1 (double well, T = 1/16, dt = 1e-3, X0 = -1, stop at 0) with a HalfSpace stop, and the same interval as a Box
  (exit faces recorded), as a Box with a reflecting wall at -2, and with Poisson restarts at a rate so low that it
  changes nothing but the per-step test;
* the periodic landscape: `Cosine` against the same gradient as a numba `CompiledLandscape` (one point per call) and
  against W1's polynomial.

    python bench/bench_boundaries.py            # 2,000 paths per row, best of 3
    python bench/bench_boundaries.py --quick    # 500 paths, one run
"""
from __future__ import annotations

import argparse
import math
import time

import escapade as esc


def rows(n: int) -> dict[str, tuple]:
    dw, dyn = esc.DoubleWell(), esc.Langevin(1 / 16, dt=1e-3)
    k = 2 * math.pi

    import numba

    @numba.njit
    def grad(x, out):
        for i in range(x.shape[0]):
            out[i] = 0.1 * k * math.sin(k * x[i])

    numba_cos = esc.CompiledLandscape(1, grad)
    periodic = esc.Langevin(0.25, dt=1e-3)
    return {
        "W1, HalfSpace stop": (dw, dyn, esc.HalfSpace([1.0], 0.0), [-1.0]),
        "W1, Box stop (exit faces)": (dw, dyn, esc.Box([-10.0], [0.0]), [-1.0]),
        "W1, Box with a reflecting wall at -2": (dw, dyn, esc.Box([-2.0], [0.0], reflecting=["x0-"]), [-1.0]),
        "W1, Poisson restarts, rate 1e-9": (dw, esc.Restart(dyn, rate=1e-9), esc.HalfSpace([1.0], 0.0), [-1.0]),
        "Cosine (built-in), T = 1/4": (esc.Cosine(1, 0.1, 1.0), periodic, esc.HalfSpace([1.0], 1.5), [0.0]),
        "cosine as a numba CompiledLandscape": (numba_cos, periodic, esc.HalfSpace([1.0], 1.5), [0.0]),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, repeat = (500, 1) if args.quick else (args.paths, args.repeat)
    table = rows(n)
    best: dict[str, float] = {}
    steps: dict[str, int] = {}
    for name, (f, dyn, stop, x0) in table.items():  # compile and warm up
        esc.simulate(f, dyn, x0=x0, stop=stop, n_paths=8, t_max=1.0, seed=0, threads=1, progress=False)
    for _ in range(repeat):
        for name, (f, dyn, stop, x0) in table.items():
            t0 = time.process_time()
            r = esc.simulate(f, dyn, x0=x0, stop=stop, n_paths=n, t_max=200, seed=0, threads=1, bridge=False,
                             progress=False)
            ns = (time.process_time() - t0) / r.total_steps * 1e9
            best[name] = min(best.get(name, math.inf), ns)
            steps[name] = r.total_steps
    ref = best["W1, HalfSpace stop"]
    print(f"| row | ns / path-step | ratio to W1 | path-steps |\n|---|---|---|---|")
    for name in table:
        print(f"| {name} | {best[name]:.2f} | {best[name] / ref:.2f} | {steps[name]:,} |")


if __name__ == "__main__":
    main()
