"""`escapade.splitting` where A and B lie within a few steps' spread of each other, against exact answers.

Brownian motion (a flat or linear landscape, Langevin at T = 1/2, so Sigma = I) between two sets whose boundaries a
step can both reach. The Euler chain is exact at the steps and its bridge between them is drift-free, so the only
error left is the sets' test between steps; each exact answer is a closed form:

  gap       1-D, A = {x < 0}, B = {x > 0.1}, from 0.03, drift mu = 0 and 1: P(B first) =
            (1 - exp(-mu (x0 - a) / T)) / (1 - exp(-mu (b - a) / T)) ((x0 - a) / (b - a) for mu = 0)
  wedge     2-D, A = {y < 0}, B beyond the ray at 60 degrees (and y > 0), from radius 0.1 at 20 degrees: 20/60
            (the polar angle is harmonic)
  skew      2-D, A = {y < 0}, B = {x > 1, y > 0}, dX = S dW with S = [[1, 0], [0.6, 0.5]], from (0.9, 0.1):
            harmonic measure of the wedge that S^-1 makes of the quarter plane
  band      1-D, B a band [-0.05, -0.049] between the start 0 and A = {x < -0.1}, and {x > 0.2}: 1 (no path
            reaches A without passing through the band)
  quadrant  2-D, A = {x < 0} and B = {y < 0} (cut along the diagonal so as not to overlap), from (0.01, 0.002),
            0.01 off the corner: 1 - (2 / pi) atan(0.2) (harmonic measure; dt = 0.05 and 0.005 only: the quarter
            plane's exit time has no mean, and its longest paths at 0.0005 take minutes)
  narrow    1-D, A = {x < 0}, B = {x > L} for L = 0.005 and 0.015, from 0.3 L: 0.3 (gaps far narrower than a
            step's spread; dt = 0.05 and 0.005)
  obtuse    2-D, A = {y < 0} and B beyond the ray at 135 degrees (each cut along the bisector of the angle outside the
            wedge), from radius 0.01 at 40.5 degrees: 0.3 (dt = 0.05 and 0.005)

Rows at dt = 0.05, 0.005 and 0.0005; each row is an independent experiment (seed = 1000 * SEED + row). Semantics 21
refines a step whose bridge could have entered both sets; semantics 20 drew both from one uniform, A first;
semantics 22 orders two entries on a finest part by their drawn entry times (semantics 21: A first); semantics 23
refines down to parts of 2^-60 of a step (22: 2^-8). Run the script with each build on PYTHONPATH to compare them.

  python bench/splitting_near_both.py              # 2000 runs of 50 replicas per row (10 to 20 s)
  python bench/splitting_near_both.py --runs 200   # a quick look

Writes bench/out/splitting_near_both.json and prints a markdown table. One thread (the result does not depend on it).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

T = 0.5
DTS = (0.05, 0.005, 0.0005)


def cases():
    """(name, splitting's keyword arguments but dynamics' dt, a function dt -> dynamics, exact P(B first)[, the dt
    it runs at when not all])."""
    import escapade as esc

    out = []
    for mu in (0.0, 1.0):
        exact = 0.3 if mu == 0 else math.expm1(-mu * 0.03 / T) / math.expm1(-mu * 0.1 / T)
        out.append((f"gap, mu = {mu:g}", dict(landscape=esc.Linear([-mu]), x0=[0.03], reactant=esc.HalfSpace([1.0], 0.0),
                                              product=esc.HalfSpace([-1.0], -0.1)),
                    lambda dt: esc.Langevin(temperature=T, dt=dt), exact))
    th, phi = math.radians(60), math.radians(20)
    out.append(("wedge, 60 degrees", dict(landscape=esc.Linear([0.0, 0.0]),
                                          x0=[0.1 * math.cos(phi), 0.1 * math.sin(phi)],
                                          reactant=esc.HalfSpace([0.0, 1.0], 0.0),
                                          product=esc.HalfSpace([math.sin(th), -math.cos(th)], 0.0)
                                          & esc.HalfSpace([0.0, -1.0], 0.0)),
                lambda dt: esc.Langevin(temperature=T, dt=dt), phi / th))
    S = np.array([[1.0, 0.0], [0.6, 0.5]])
    inv = np.linalg.inv(S)
    angle = lambda v: float(np.arctan2(v[1], v[0]))  # noqa: E731
    side_a, side_b, start = angle(inv @ [-1.0, 0.0]), angle(inv @ [0.0, 1.0]), angle(inv @ [-0.1, 0.1])
    out.append(("skew right angle", dict(landscape=esc.Linear([0.0, 0.0]), x0=[0.9, 0.1],
                                         reactant=esc.HalfSpace([0.0, 1.0], 0.0),
                                         product=esc.HalfSpace([-1.0, 0.0], -1.0) & esc.HalfSpace([0.0, -1.0], 0.0)),
                lambda dt: esc.Langevin(eps=1.0, S=S.tolist(), dt=dt),
                ((side_a - start) % (2 * math.pi)) / ((side_a - side_b) % (2 * math.pi))))
    out.append(("band 0.001 before A", dict(landscape=esc.Linear([0.0]), x0=[0.0], reactant=esc.HalfSpace([1.0], -0.1),
                                            product=esc.Box([-0.05], [-0.049]) | esc.HalfSpace([-1.0], -0.2)),
                lambda dt: esc.Langevin(temperature=T, dt=dt), 1.0))
    out.append(("quadrant, 0.01 off the corner",
                dict(landscape=esc.Linear([0.0, 0.0]), x0=[0.01, 0.002],
                     reactant=esc.HalfSpace([1.0, 0.0], 0.0) & esc.HalfSpace([1.0, -1.0], 0.0),
                     product=esc.HalfSpace([0.0, 1.0], 0.0) & esc.HalfSpace([-1.0, 1.0], 0.0)),
                lambda dt: esc.Langevin(temperature=T, dt=dt), 1 - 2 / math.pi * math.atan2(0.002, 0.01), (0.05, 0.005)))
    for gap in (0.005, 0.015):
        out.append((f"narrow gap, L = {gap:g}", dict(landscape=esc.Linear([0.0]), x0=[0.3 * gap],
                                                     reactant=esc.HalfSpace([1.0], 0.0),
                                                     product=esc.HalfSpace([-1.0], -gap)),
                    lambda dt: esc.Langevin(temperature=T, dt=dt), 0.3, (0.05, 0.005)))
    a = 0.75 * math.pi
    cut = [math.sin(a / 2 + math.pi), -math.cos(a / 2 + math.pi)]  # the bisector of the angle outside the wedge
    out.append(("obtuse wedge, 135 degrees",
                dict(landscape=esc.Linear([0.0, 0.0]), x0=[0.01 * math.cos(0.3 * a), 0.01 * math.sin(0.3 * a)],
                     reactant=esc.HalfSpace([0.0, 1.0], 0.0) & esc.HalfSpace(cut, 0.0),
                     product=esc.HalfSpace([math.sin(a), -math.cos(a)], 0.0) & esc.HalfSpace([-cut[0], -cut[1]], 0.0)),
                lambda dt: esc.Langevin(temperature=T, dt=dt), 0.3, (0.05, 0.005)))
    return out


def run(dts, n_replicas: int, n_runs: int, seed: int, threads: int) -> list[dict]:
    import escapade as esc

    rows = []
    for name, kw, dynamics, exact, *only in cases():
        for dt in (d for d in dts if not only or d in only[0]):
            row_seed = 1000 * seed + len(rows)
            t0 = time.perf_counter()
            r = esc.splitting(dynamics=dynamics(dt), **kw, n_replicas=n_replicas, n_runs=n_runs, seed=row_seed,
                              threads=threads, progress=False)
            wall = time.perf_counter() - t0
            rows.append(dict(case=name, dt=dt, estimate=r.value, stderr=r.stderr, exact=exact,
                             z=(r.value - exact) / r.stderr if r.stderr > 0 else 0.0 if r.value == exact else math.inf,
                             seed=row_seed,
                             semantics=r.params.get("semantics"), path_steps=r.path_steps,
                             ns_per_path_step=1e9 * wall / max(r.path_steps, 1), wall_s=wall))
            print(f"{name} dt={dt:g}: {r.value:.4f} ± {r.stderr:.4f} exact {exact:.4f} z {rows[-1]['z']:+.1f}",
                  flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| case | dt | exact | estimate ± SE | z | seed | path-steps | ns / path-step |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['dt']:g} | {r['exact']:.4f} | {r['estimate']:.4f} ± {r['stderr']:.4f} | "
                     f"{r['z']:+.1f} | {r['seed']} | {r['path_steps']} | {r['ns_per_path_step']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dts", type=float, nargs="+", default=list(DTS))
    ap.add_argument("--replicas", type=int, default=50)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=21, help="row k runs with seed 1000 * SEED + k")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=C.OUT / "splitting_near_both.json")
    args = ap.parse_args()
    info = C.machine_info()
    t0 = time.perf_counter()
    rows = run(tuple(args.dts), args.replicas, args.runs, args.seed, args.threads)
    out = dict(rows=rows, machine=info, threads=args.threads, replicas=args.replicas, runs=args.runs,
               total_wall_s=time.perf_counter() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print()
    print(table(rows))
    print(f"\n{args.replicas} replicas x {args.runs} runs per row, {args.threads} thread(s), {out['total_wall_s']:.0f} s;"
          f" {info['cpu_model']}, escapade {info['escapade']}, semantics {rows[0]['semantics']}; wrote {args.out}")


if __name__ == "__main__":
    main()
