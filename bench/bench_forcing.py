"""Cost of a Brownian-path forcing w(t) = scale B(t) per evaluation, against the number of dyadic levels, and in a
constrained-flow run against the same run with a periodic forcing.

1. `BrownianForcing.__call__` on one path at the times an integrator visits (a grid of step `dt`, RK4's stage
   times t, t + dt/2, t + dt): ns per evaluation for resolutions giving 8 to 32 levels. Walking Levy's
   construction from the root costs levels + 1 nodes per evaluation; with the per-path chain it is O(1) amortized,
   so the cost should not grow with the levels.
2. The unconstrained flow x' = -grad f(x) + w(t) (RK4, f = |x|^2 / 2 in 2-D, t in [0, 20], dt = 1e-3, 200 paths,
   one thread) with the Brownian forcing at resolution 1e-3 (15 levels) and 1e-6 (25 levels), against the same run
   with a periodic forcing (one sincos per stage): ns per path-step and the ratio.

    python bench/bench_forcing.py [--json FILE]
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

HORIZON = 20.0


def per_evaluation(levels: int, dt: float = 1e-3, steps: int = 200_000) -> float:
    """ns per evaluation along RK4's stage times on one path."""
    w = esc.BrownianForcing(1.0, horizon=HORIZON, dim=2, resolution=HORIZON / 2**levels)
    t = np.repeat(np.arange(steps) * dt, 3) + np.tile([0.0, dt / 2, dt], steps)
    w(t[:10], seed=1, path=0)  # build the core object outside the clock
    start = time.perf_counter()
    w(t, seed=1, path=0)
    return 1e9 * (time.perf_counter() - start) / t.size


def flow_run(forcing: esc.Forcing, n_paths: int = 200) -> float:
    """ns per path-step of the forced RK4 flow."""
    flow = esc.ConstrainedFlow(None, dt=1e-3, forcing=forcing, method="rk4")
    start = time.perf_counter()
    res = esc.simulate(esc.Quadratic(np.eye(2)), flow, x0=[0.0, 0.0], n_paths=n_paths, t_max=HORIZON, seed=0,
                       threads=1)
    wall = time.perf_counter() - start
    return 1e9 * wall / float(res.total_steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    rows: dict[str, float] = {}
    print(f"{'BrownianForcing(...)(t), RK4 stage times':48} {'ns/evaluation':>14}")
    for levels in (8, 16, 24, 32):
        rows[f"eval_levels_{levels}"] = ns = min(per_evaluation(levels) for _ in range(3))
        print(f"{f'  {levels} levels':48} {ns:14.1f}")
    print(f"\n{'forced RK4 flow, 2-D, 200 paths x 20,000 steps':48} {'ns/path-step':>14} {'/ periodic':>11}")
    periodic = min(flow_run(esc.Periodic(1.0, 1.0)) for _ in range(3))
    rows["flow_periodic"] = periodic
    print(f"{'  Periodic(1, 1)':48} {periodic:14.1f} {1.0:11.2f}")
    for res in (1e-3, 1e-6):
        ns = min(flow_run(esc.BrownianForcing(1.0, horizon=HORIZON, resolution=res)) for _ in range(3))
        levels = esc.BrownianForcing.levels_for(HORIZON, res)
        rows[f"flow_brownian_levels_{levels}"] = ns
        print(f"{f'  BrownianForcing, resolution {res:g} ({levels} levels)':48} {ns:14.1f} {ns / periodic:11.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_info(), "results": rows}, indent=1))


if __name__ == "__main__":
    main()
