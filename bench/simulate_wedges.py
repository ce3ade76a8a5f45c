"""`escapade.simulate` in a wedge: stop and target boundaries meeting at an angle near the start, against exact answers.

Brownian motion (a flat landscape, Langevin at T = 1/2, so Sigma = I) from radius r0 in the wedge
{0 < phi < alpha}: the target is {y < 0} (the side phi = 0), stop the half-plane on the wedge's side of the ray at
phi = alpha. The polar angle is harmonic, so P(HIT) = 1 - phi0 / alpha exactly. The Euler chain is exact at the
steps and its bridge between them drift-free: the only error left is the test of a step whose bridge could have
crossed both boundaries (refined, engine.hpp refine_double_crossings), which matters where the start lies within a
step's spread of the corner. Semantics 23 refines such a step down to parts of 2^-60 of it (at most 256 halvings
past the eighth); semantics 22 stopped at 2^-8, where a part's spread (0.22 / 16 = 0.014 at dt = 0.05) still
exceeds 0.01. Those deeper halvings stop at a spread of 1e-5 of |x| (bridge.hpp above_rounding: below it the
rounding of |x| outgrows the tolerances that tell one boundary given twice): with --corner C the wedge's corner lies
at (C, C), and from about C = 1000 the rows from 0.01 off the corner are refined no deeper than semantics 22's. Run
the script with each build on PYTHONPATH to compare them.

  python bench/simulate_wedges.py                  # 200,000 paths per row (about a minute)
  python bench/simulate_wedges.py --paths 20000    # a quick look
  python bench/simulate_wedges.py --corner 1e4     # the same wedges at (1e4, 1e4)

Rows: angles 45, 90 (two starts), 135 and 160 degrees, r0 = 0.01 and 0.001, dt = 0.05 and 0.005; each row an
independent experiment (seed = 1000 * SEED + row), t_max = 50 (the censored share, below 1e-3, is in the table).
Writes bench/out/simulate_wedges.json and prints a markdown table.
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

WEDGES = ((45, 0.3), (90, 0.125), (90, 0.5), (135, 0.3), (160, 0.5))  # (alpha in degrees, phi0 / alpha)


def run(radii, dts, n_paths: int, seed: int, threads: int, corner: float = 0.0) -> list[dict]:
    import escapade as esc

    rows = []
    for r0 in radii:
        for deg, frac in WEDGES:
            a = math.radians(deg)
            normal = [-math.sin(a), math.cos(a)]
            stop = esc.HalfSpace(normal, (normal[0] + normal[1]) * corner)
            target = esc.HalfSpace([0.0, 1.0], corner)
            x0 = [corner + r0 * math.cos(frac * a), corner + r0 * math.sin(frac * a)]
            exact = 1 - frac
            for dt in dts:
                row_seed = 1000 * seed + len(rows)
                t0 = time.perf_counter()
                r = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(temperature=0.5, dt=dt), x0=x0, stop=stop,
                                 target=target, n_paths=n_paths, seed=row_seed, threads=threads, t_max=50,
                                 progress=False)
                wall = time.perf_counter() - t0
                st = np.asarray(r.status)
                hit = float(np.mean(st == esc.Status.HIT))
                se = math.sqrt(hit * (1 - hit) / n_paths)
                rows.append(dict(angle=deg, start=frac, r0=r0, corner=corner, dt=dt, exact=exact, hit=hit, stderr=se,
                                 z=(hit - exact) / se, censored=float(np.mean(st == esc.Status.CENSORED)),
                                 seed=row_seed, semantics=r.params.get("semantics"), wall_s=wall))
                print(f"{deg} degrees, {frac:g} alpha, r0 {r0:g}, corner {corner:g}, dt {dt:g}: {hit:.4f} ± {se:.4f}"
                      f" exact {exact:.4f} z {rows[-1]['z']:+.1f} ({wall:.1f} s)", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| angle | start | r0 | corner | dt | exact | P(HIT) ± SE | z | censored | seed | wall s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['angle']} | {r['start']:g} α | {r['r0']:g} | {r['corner']:g} | {r['dt']:g} | "
                     f"{r['exact']:.4f} | {r['hit']:.4f} ± {r['stderr']:.4f} | {r['z']:+.1f} | {r['censored']:.1e} | "
                     f"{r['seed']} | {r['wall_s']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--radii", type=float, nargs="+", default=[0.01, 0.001])
    ap.add_argument("--dts", type=float, nargs="+", default=[0.05, 0.005])
    ap.add_argument("--paths", type=int, default=200_000)
    ap.add_argument("--corner", type=float, default=0.0, help="the wedge's corner at (CORNER, CORNER)")
    ap.add_argument("--seed", type=int, default=23, help="row k runs with seed 1000 * SEED + k")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=C.OUT / "simulate_wedges.json")
    args = ap.parse_args()
    info = C.machine_info()
    t0 = time.perf_counter()
    rows = run(tuple(args.radii), tuple(args.dts), args.paths, args.seed, args.threads, args.corner)
    out = dict(rows=rows, machine=info, threads=args.threads, paths=args.paths, total_wall_s=time.perf_counter() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print()
    print(table(rows))
    print(f"\n{args.paths} paths per row, {args.threads} thread(s), {out['total_wall_s']:.0f} s; {info['cpu_model']},"
          f" escapade {info['escapade']}, semantics {rows[0]['semantics']}; wrote {args.out}")


if __name__ == "__main__":
    main()
