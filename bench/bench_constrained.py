"""Constrained-Ackley benchmark: the workload of 000's Tables I and II with RK4, escapade against numpy and numba.

Workload: Ackley (a = 20, d = 0.05, c = 2 pi) on the parabola x1 = x2^2 / 2, the flow x' = U_alpha(x) + w(t) with
alpha = 1 and w(t) = A [cos(omega t), sin(omega t)], for the 20 (A, omega) rows of Tables I (A = 1) and II
(omega = 1) taken from escapade.experiments.constrained_ackley, each from the 289 starts of the 17 x 17 grid on [-4, 4]^2;
RK4 with step dt (default 1e-3) on t in [0, 20], a path stopping (HIT) at the end of the first step inside the
unit ball around 0: about 1.2e8 path-steps at most. escapade runs it as the reproduction does (one sweep per
table over the forcing parameter); the peers (peers/constrained_numpy.py, peers/constrained_numba.py) use the
same drift formula, forcing at the stage times and stop rule. Reported: wall time, path-steps/s (steps actually
taken by paths, up to their stop), success counts per setting and the paths whose outcome differs.

Then DP5(4) (rtol 1e-6, as in the reproduction) on the same starts: its success counts and its gradient
evaluations (6 drift evaluations per attempted step, accepted or rejected, plus one for each path's first step:
the last stage of an accepted step is the next one's first, and a rejected step keeps its first) against RK4's 4
per step.

    python bench/bench_constrained.py [--dt 1e-3] [--settings 20] [--threads 2] [--repeat 3] [--no-numpy]
                                      [--no-dp54] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as C  # noqa: E402

T_MAX, ALPHA = 20.0, 1.0


def settings(n: int) -> list[tuple[float, float]]:
    from escapade.experiments.constrained_ackley import TABLE_I, TABLE_II

    rows = [(a, w) for a, w, _ in TABLE_I] + [(a, w) for a, w, _ in TABLE_II]
    return rows[:n] if n >= len(rows) else [rows[i] for i in np.linspace(0, len(rows) - 1, n).astype(int)]


def run_escapade(rows, pts, dt, threads, method="rk4", lanes=64):
    """One sweep per table, as `escapade reproduce constrained-ackley` does; returns (wall, hit, exit_step)."""
    import escapade as esc

    f = esc.Ackley(a=20.0, d=0.05, c=2 * np.pi)
    kw = dict(rtol=1e-6, atol=1e-9) if method == "dp54" else {}
    target = esc.Ball([0.0, 0.0], 1.0)
    if len(rows) == 20:  # Table I (A = 1, omega varies), then Table II (omega = 1, A varies)
        groups = [("omega", list(range(10))), ("amplitude", list(range(10, 20)))]
    else:  # a subset: one sweep per row
        groups = [("omega", [i]) for i in range(len(rows))]
    hit = np.zeros((len(rows), len(pts)), dtype=bool)
    steps = np.zeros((len(rows), len(pts)), dtype=np.int64)
    t0 = time.perf_counter()
    for key, idx in groups:
        a0, w0 = rows[idx[0]]
        flow = esc.ConstrainedFlow(esc.Parabola(), dt=dt, alpha=ALPHA, method=method,
                                   forcing=esc.Periodic(a0, w0), **kw)
        values = [rows[i][1] if key == "omega" else rows[i][0] for i in idx]
        res = esc.sweep(f, flow, grid={f"dynamics.forcing.{key}": values}, x0=pts, target=target, t_max=T_MAX,
                        seed=0, threads=threads, progress=False, lanes=lanes)
        for i, r in zip(idx, res):
            hit[i] = np.asarray(r.status) == esc.Status.HIT
            steps[i] = np.asarray(r.exit_step)
    return time.perf_counter() - t0, hit, steps


def run_peer(module, rows, pts, dt, **kwargs):
    n_steps = int(round(T_MAX / dt))
    x0 = np.tile(pts, (len(rows), 1))
    amp = np.repeat([a for a, _ in rows], len(pts))
    om = np.repeat([w for _, w in rows], len(pts))
    t0 = time.perf_counter()
    hit, steps, _ = module.run(x0, amp, om, ALPHA, dt, n_steps, **kwargs)
    wall = time.perf_counter() - t0
    return wall, hit.reshape(len(rows), -1), steps.reshape(len(rows), -1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--settings", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lanes", type=int, default=64, help="escapade's lanes per block (simulate's lanes=)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of escapade and numba (interleaved; min wall)")
    ap.add_argument("--no-numpy", action="store_true", help="skip the numpy peer (run once: it is slow)")
    ap.add_argument("--no-dp54", action="store_true")
    ap.add_argument("--no-jax", action="store_true", help="skip the JAX peer (run when jax is installed)")
    ap.add_argument("--json", type=Path, default=C.OUT / "constrained.json")
    args = ap.parse_args(argv)

    import numba

    from escapade.analysis import grid_points
    from peers import constrained_numba, constrained_numpy

    numba.set_num_threads(args.threads)
    machine = C.machine_info()
    rows = settings(args.settings)
    pts = grid_points([-4.0, -4.0], [4.0, 4.0], 17)
    out: dict = {}
    constrained_numba.warmup()
    runs = {"escapade": lambda: run_escapade(rows, pts, args.dt, args.threads, lanes=args.lanes),
            "numba": lambda: run_peer(constrained_numba, rows, pts, args.dt),
            "numba-static": lambda: run_peer(constrained_numba, rows, pts, args.dt, chunksize=0)}
    walls: dict = {name: [] for name in runs}
    for _ in range(args.repeat):  # interleaved, so that a change in the machine's load hits all alike
        for name, fn in runs.items():
            res = fn()
            walls[name].append(res[0])
            out[name] = (min(walls[name]),) + tuple(res[1:])
    if not args.no_jax:
        try:
            from peers import constrained_jax
        except ImportError:
            print("jax is not installed: no JAX row (pip install jax jaxlib)")
        else:
            constrained_jax.warmup(int(round(T_MAX / args.dt)), len(rows) * len(pts))
            walls["jax"] = []
            for _ in range(args.repeat):
                res = run_peer(constrained_jax, rows, pts, args.dt)
                walls["jax"].append(res[0])
            out["jax"] = (min(walls["jax"]),) + tuple(res[1:])
    if not args.no_numpy:
        out["numpy"] = run_peer(constrained_numpy, rows, pts, args.dt)
        walls["numpy"] = [out["numpy"][0]]
    ref_hit = out["escapade"][1]
    report = []
    for name, (wall, hit, steps) in out.items():
        total = int(steps.sum())
        differ = int(np.count_nonzero(hit != ref_hit))
        same_step = float(np.mean(steps == out["escapade"][2]))
        report.append(dict(impl=name, wall_s=wall, walls_s=walls[name], path_steps=total, path_steps_per_s=total / wall,
                           gradient_evals=4 * total, hits=hit.sum(axis=1).tolist(), outcomes_differing=differ,
                           same_exit_step_fraction=same_step))
        runs_s = ", ".join(f"{w:.2f}" for w in walls[name])
        print(f"{name:12s} wall {wall:8.2f} s (runs {runs_s})  {total:.3e} path-steps  {total / wall:.3e} steps/s  "
              f"hits {hit.sum()}  differ {differ}  same exit step {same_step:.4f}", flush=True)
    best_peer = min(r["wall_s"] for r in report if r["impl"] != "escapade")
    print(f"escapade / best peer speed: {best_peer / report[0]['wall_s']:.2f}x")
    if not args.no_dp54:
        wall, hit, steps = run_escapade(rows, pts, 1e-2, args.threads, method="dp54")
        evals = 6 * int(steps.sum()) + steps.size  # one first stage per path, then six per attempted step
        differ = int(np.count_nonzero(hit != ref_hit))
        report.append(dict(impl="escapade-dp54", wall_s=wall, attempted_steps=int(steps.sum()),
                           gradient_evals=evals, hits=hit.sum(axis=1).tolist(), outcomes_differing=differ))
        print(f"dp54      wall {wall:8.2f} s  {int(steps.sum()):.3e} attempted steps  {evals:.3e} gradient evals "
              f"(RK4: {report[0]['gradient_evals']:.3e}, ratio {report[0]['gradient_evals'] / evals:.1f}x)  "
              f"hits {hit.sum()}  differ from RK4 {differ}", flush=True)
    print("hits per setting (A, omega): " + " / ".join(r["impl"] for r in report))
    for i, (a, w) in enumerate(rows):
        print(f"  ({a:g}, {w:g}): " + " / ".join(str(r["hits"][i]) for r in report))
    machine["loadavg_at_end"] = list(__import__("os").getloadavg())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(dict(machine=machine, settings=rows, args={k: str(v) for k, v in
                                                                                  vars(args).items()},
                                         rows=report), indent=1))


if __name__ == "__main__":
    main()
