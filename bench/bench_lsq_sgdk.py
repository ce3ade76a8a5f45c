"""SGD-k on least-squares sums: escapade's block kernel against a numpy loop vectorized over paths, CPU time of one
thread, in one process.

For each (d, k / n) the script builds `LeastSquares` on n = 800 Gaussian samples (seed 0), runs SGD-k with
replacement (k = frac * n) from w = 0 for a fixed number of iterations (no stop region: identical work) with
escapade (threads=1) and with the numpy peer (bench/peers/lsq_sgdk_numpy.py, its BLAS held to one thread), each the
best of `--repeat` runs, and prints microseconds of CPU per path-step, the ratio and both paths' mean distance from
the least-squares solution (they agree in law, not in bits). To compare two builds of escapade, run the script once
per build with `--skip-numpy`.

    python bench/bench_lsq_sgdk.py
    python bench/bench_lsq_sgdk.py --dims 100 --fracs 0.25 --repeat 5

`--mlp` times escapade alone on `MLP` sums instead (the diabetes data's first 100 rows, needs scikit-learn;
hidden units 4, 8 and 32; k = 3 and 25 with replacement; 256 paths x 2000 iterations from one point), to compare
builds.
"""
from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

N, PATHS, LR, L2 = 800, 128, 0.05, 0.01


def problem(d: int):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=N)
    w_star = np.linalg.solve(X.T @ X / N + L2 * np.eye(d), X.T @ y / N)
    return X, y, w_star


def best_of(repeat: int, fn):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return min(times), out


def mlp_rows(repeat: int) -> None:
    import escapade as esc
    from escapade.datasets import load_diabetes

    X, y = load_diabetes()
    X, y = X[:100], y[:100]
    print(f"# escapade {esc.__version__}; MLP on 100 diabetes rows, 256 paths x 2000 iterations, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("hidden, parameters, k, escapade us/path-step, ns per drawn term")
    for hidden in (4, 8, 32):
        net = esc.MLP(X, y, hidden=hidden, l2=0.01)
        th0 = 0.1 * np.random.default_rng(0).normal(size=net.dim)
        for k in (3, 25):
            t, _ = best_of(repeat, lambda: esc.simulate(net, esc.SGDk(0.01, k), x0=th0, n_paths=256, max_steps=2000,
                                                        seed=1, threads=1, progress=False))
            us = t / (256 * 2000) * 1e6
            print(f"{hidden}, {net.dim}, {k}, {us:.3f}, {us / k * 1e3:.0f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", type=int, nargs="+", default=[20, 50, 100, 200])
    ap.add_argument("--fracs", type=float, nargs="+", default=[0.1, 0.25, 0.5], help="k / n")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument("--mlp", action="store_true", help="time SGD-k on MLP sums (escapade only)")
    args = ap.parse_args(argv)
    if args.mlp:
        mlp_rows(args.repeat)
        return

    import escapade as esc
    from peers import lsq_sgdk_numpy

    print(f"# escapade {esc.__version__}; n = {N}, {PATHS} paths, load average {os.getloadavg()[0]:.1f}")
    print("d, k/n, k, iterations, escapade us/path-step, numpy us/path-step, numpy / escapade, "
          "mean |w - w*| escapade, numpy")
    for d in args.dims:
        X, y, w_star = problem(d)
        f = esc.LeastSquares(X, y, l2=L2)
        for frac in args.fracs:
            k = max(1, int(round(frac * N)))
            steps = max(20, int(3e7 / (k * d * PATHS)))
            t_esc, res = best_of(args.repeat, lambda: esc.simulate(
                f, esc.SGDk(LR, k), x0=np.zeros(d), n_paths=PATHS, max_steps=steps, seed=1, threads=1,
                progress=False))
            us_esc = t_esc / (PATHS * steps) * 1e6
            dist_esc = float(np.abs(res.final_position - w_star).mean())
            line = f"{d}, {frac}, {k}, {steps}, {us_esc:.3f}"
            if args.skip_numpy:
                print(line + f", , , {dist_esc:.4g},", flush=True)
                continue
            t_np, (W, _) = best_of(args.repeat, lambda: lsq_sgdk_numpy.run(
                X, y, L2, np.zeros((PATHS, d)), LR, k, steps, seed=1))
            us_np = t_np / (PATHS * steps) * 1e6
            print(line + f", {us_np:.3f}, {us_np / us_esc:.2f}, {dist_esc:.4g}, "
                  f"{float(np.abs(W - w_star).mean()):.4g}", flush=True)


if __name__ == "__main__":
    main()
