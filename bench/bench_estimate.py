"""`escapade.estimate` to a stated accuracy: coverage of its interval over independent seeds against exact (or
independently computed) answers, and its cost; the methods (multilevel, ladder, paired) against each other on the same
problem.

Problems (each: the value estimate() is asked for, the exact answer and where it comes from):
  double-well  the README's W1: DoubleWell, T = 1/16, x0 = -1, exit at x >= 0; mean exit time, exact 135.78297715
               (quadrature, analysis.langevin_mean_exit_time_1d); dt0 = 0.1
  double-well-heun  the same with Langevin(scheme="heun"), whose drift error is of order dt^2; dt0 = 0.1
  ball5        Brownian motion (temperature 1/2, dX = dW) leaving the unit 5-ball from (0.5, 0, 0, 0, 0):
               exact (R^2 - |x0|^2) / (2 d T) = 0.15; dt0 = 0.01
  ou-interval  dX = -X dt + sqrt(2T) dW, T = 1/4, from 0.3 leaving (-0.5, 1): exact by quadrature
               (analysis.mean_exit_time_1d); dt0 = 0.05
  ellipse      V = x^T A x / 2 with A = [[1, 0.3], [0.3, 0.5]], noise eps S with S = [[1, 0], [0.5, 0.8]], eps = 0.7,
               from (0.2, -0.1), leaving the ellipse x^T M x < 1, M = [[1, 0.4], [0.4, 2]]: reference from a
               long run at dt = 1e-4 with the bridge test (--reference-paths paths, its standard error stated);
               dt0 = 0.05

  python bench/bench_estimate.py                     # all problems, 100 seeds each, rtol 0.01, 2 threads
  python bench/bench_estimate.py --problems double-well --seeds 20
  python bench/bench_estimate.py --compare-methods   # also each method on the double well (Euler and Heun)

Writes bench/out/estimate.json and prints a markdown table: coverage (intervals containing the exact value, of the
seeds run), the share that reached the target, median wall time, CPU time (all threads) and path-steps, and the
largest relative error.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def problems(reference_paths: int, threads: int) -> dict:
    import escapade as esc
    from escapade.analysis import langevin_mean_exit_time_1d, mean_exit_time_1d

    out = {}
    dw = float(langevin_mean_exit_time_1d(lambda x: x**4 / 4 - x**2 / 2, 1 / 16, -1.0, -np.inf, 0.0,
                                          lower_boundary="reflecting"))
    out["double-well"] = dict(args=dict(landscape=esc.DoubleWell(), dynamics=esc.Langevin(temperature=1 / 16, dt=0.1),
                                        x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), t_max=1e5),
                              exact=dw, source="quadrature")
    out["double-well-heun"] = dict(args={**out["double-well"]["args"],
                                         "dynamics": esc.Langevin(temperature=1 / 16, dt=0.1, scheme="heun")},
                                   exact=dw, source="quadrature")
    x0 = np.array([0.5, 0, 0, 0, 0])
    out["ball5"] = dict(args=dict(landscape=esc.Quadratic(np.zeros((5, 5))), dynamics=esc.Langevin(temperature=0.5, dt=0.01),
                                  x0=x0, stop=esc.Ball(np.zeros(5), 1.0), t_max=100.0),
                        exact=(1 - x0 @ x0) / (2 * 5 * 0.5), source="closed form")
    ou = float(mean_exit_time_1d(lambda x: -x, 0.5, 0.3, -0.5, 1.0))
    out["ou-interval"] = dict(args=dict(landscape=esc.Quadratic(np.eye(1)), dynamics=esc.Langevin(temperature=0.25, dt=0.05),
                                        x0=[0.3], stop=esc.Box([-0.5], [1.0]), t_max=100.0),
                              exact=ou, source="quadrature")
    if reference_paths > 0:
        A = np.array([[1.0, 0.3], [0.3, 0.5]])
        S = np.array([[1.0, 0.0], [0.5, 0.8]])
        args = dict(landscape=esc.Quadratic(A), dynamics=esc.Langevin(eps=0.7, S=S, dt=0.05), x0=[0.2, -0.1],
                    stop=esc.Ellipsoid([0.0, 0.0], [[1.0, 0.4], [0.4, 2.0]]), t_max=100.0)
        t0 = time.perf_counter()
        ref = esc.simulate(**{**args, "dynamics": esc.Langevin(eps=0.7, S=S, dt=1e-4)}, n_paths=reference_paths,
                           seed=12345, threads=threads)
        s = ref.summary()
        out["ellipse"] = dict(args=args, exact=s.mean, exact_stderr=s.stderr,
                              source=f"dt = 1e-4 run, {reference_paths} paths, seed 12345 "
                                     f"({time.perf_counter() - t0:.0f} s)")
    return out


def run_problem(name: str, spec: dict, seeds: int, rtol: float, threads: int, method: str,
                first_seed: int = 0) -> dict:
    import escapade as esc

    rows = []
    for seed in range(first_seed, first_seed + seeds):
        t0, c0 = time.perf_counter(), time.process_time()
        e = esc.estimate(**spec["args"], rtol=rtol, seed=seed, threads=threads, method=method, progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        low, high = e.interval
        rows.append(dict(seed=seed, method=e.params["method"], value=e.value, low=low, high=high,
                         covered=bool(low <= spec["exact"] <= high),
                         reached=e.reached, wall_s=wall, cpu_s=cpu, path_steps=e.path_steps, levels=len(e.levels),
                         finest_dt=e.levels[-1].dt, rel_error=abs(e.value / spec["exact"] - 1),
                         half_width_rel=e.relative_error))
        print(f"# {name} seed {seed}: {e.value:.6g} [{low:.6g}, {high:.6g}] exact {spec['exact']:.6g} "
              f"{'ok' if rows[-1]['covered'] else 'MISSED'} {wall:.2f} s {e.path_steps:.3g} steps", file=sys.stderr,
              flush=True)
    return dict(problem=name, method=method, exact=spec["exact"], exact_source=spec["source"],
                exact_stderr=spec.get("exact_stderr"), rtol=rtol, threads=threads, seeds=seeds, rows=rows,
                covered=sum(r["covered"] for r in rows), reached=sum(r["reached"] for r in rows),
                chosen={m: sum(r["method"] == m for r in rows) for m in ("multilevel", "ladder", "paired")},
                median_cpu_s=statistics.median(r["cpu_s"] for r in rows),
                median_wall_s=statistics.median(r["wall_s"] for r in rows),
                median_path_steps=statistics.median(r["path_steps"] for r in rows),
                max_rel_error=max(r["rel_error"] for r in rows))


def markdown(report: dict) -> str:
    lines = [f"estimate() coverage, rtol {report['rtol']}, {report['threads']} threads, seeds as listed "
             f"({report['machine'].get('cpu_model', '?')}):", "",
             "| problem | method | exact (source) | seeds | covered | reached | median wall | median CPU | "
             "median path-steps | largest |error| |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        exact = f"{r['exact']:.8g}" + (f" ± {r['exact_stderr']:.2g}" if r["exact_stderr"] else "")
        chosen = ", ".join(f"{m} {n}" for m, n in r["chosen"].items() if n)
        lines.append(f"| {r['problem']} | {r['method']} ({chosen}) | {exact} ({r['exact_source']}) | {r['seeds']} | "
                     f"{r['covered']} | {r['reached']} | {r['median_wall_s']:.2f} s | {r['median_cpu_s']:.2f} s | "
                     f"{r['median_path_steps']:.3g} | "
                     f"{100 * r['max_rel_error']:.2f}% |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", nargs="+", default=["double-well", "double-well-heun", "ball5", "ou-interval",
                                                      "ellipse"])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    ap.add_argument("--rtol", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--method", default="auto")
    ap.add_argument("--compare-methods", action="store_true",
                    help="also run the double well (Euler and Heun) with each method on --compare-seeds seeds")
    ap.add_argument("--compare-seeds", type=int, default=5)
    ap.add_argument("--reference-paths", type=int, default=200_000)
    ap.add_argument("--json", type=Path, default=C.OUT / "estimate.json")
    args = ap.parse_args(argv)
    specs = problems(args.reference_paths if "ellipse" in args.problems else 0, args.threads)
    results = [run_problem(name, specs[name], args.seeds, args.rtol, args.threads, args.method, args.first_seed)
               for name in args.problems if name in specs]
    if args.compare_methods:
        for name in ("double-well", "double-well-heun"):
            for method in ("multilevel", "ladder", "paired"):
                results.append(run_problem(name, specs[name], args.compare_seeds, args.rtol, args.threads, method))
    report = dict(machine=C.machine_info(), rtol=args.rtol, threads=args.threads, results=results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=float))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
