"""SGD-k on a 100-dimensional Styblinski-Tang sum with 2,000 terms, k = 500: path-steps per second.

Each path starts 1e-2 (per coordinate, uniform) from the sharpest minimizer and runs 200 iterations at the
learning rate 0.01 (no stop region: every path is censored at the cap, so all runs do identical work). A
path-step samples 500 term indices and sums their gradients (500 x 100 multiply-adds); GD is shown for
scale (its gradient comes from the summed coefficients, O(d)).

    python bench/bench_sgdk.py [--paths 256] [--threads 1,2] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

import escapade as esc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=256)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    f = esc.StyblinskiTangSum.random(100, 2000, seed=0)
    center = f.sharpest_minimizer()
    start = esc.UniformBox(low=center - 1e-2, high=center + 1e-2)
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        for name, dyn in (("SGD-k, k=500, without replacement", esc.SGDk(0.01, 500, replace=False)),
                          ("SGD-k, k=500, with replacement", esc.SGDk(0.01, 500, replace=True)),
                          ("GD", esc.GD(0.01))):
            t0 = time.perf_counter()
            res = esc.simulate(f, dyn, x0=start, n_paths=args.paths, max_steps=args.steps, seed=1, threads=threads,
                               progress=False)
            wall = time.perf_counter() - t0
            steps = int(res.exit_step.sum())
            rows.append(dict(dynamics=name, threads=threads, paths=args.paths, path_steps=steps, wall_s=wall,
                             path_steps_per_s=steps / wall, diverged=int(np.sum(res.status == esc.Status.DIVERGED))))
            print(f"{name:36} threads={threads}  {steps / wall:12.4g} path-steps/s  wall {wall:6.2f} s  "
                  f"diverged {rows[-1]['diverged']}/{args.paths}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
