"""Time-step bias of `escapade.splitting` with the Brownian-bridge test on and off, against the two exact answers.

Problem: the double well U(x) = x^4/4 - x^2/2, overdamped Langevin at T = 1/32, from x0 = -0.8; reactant
A = {x <= -0.9}, product B = {x >= 0}; p = P(reach B before A). Two exact values per dt:

  SDE    the diffusion's p, by the scale function (analysis.langevin_splitting_probability_1d; no dt)
  chain  the Euler-Maruyama chain's p, with the sets tested at the steps (bridge off) or with the Brownian bridge
         of each step (bridge on), by a Nystrom solve (analysis.euler_chain_splitting_probability)

Splitting is unbiased for the chain it simulates, so bridge off should match the plain chain (not the SDE: that
differs by the O(sqrt(dt)) error of monitoring at the steps), and bridge on should match the bridged chain, which
lies within about 0.1-1% of the SDE over dt = 1e-2 .. 1e-3 (an O(dt) bias).

  python bench/splitting_bias.py                 # dt 1e-2, 3e-3, 1e-3, bridge on and off, N = 100, 2000 runs each
  python bench/splitting_bias.py --runs 200      # a quick look (about 3% relative SE)

One thread (the result does not depend on it). Writes bench/out/splitting_bias.json and prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

TEMPERATURE = 1 / 32
X0, A, B = -0.8, -0.9, 0.0
DTS = (1e-2, 3e-3, 1e-3)


def run(dts: tuple[float, ...], n_replicas: int, n_runs: int, seed: int, threads: int) -> dict:
    import escapade as esc
    from escapade.analysis import euler_chain_splitting_probability, langevin_splitting_probability_1d

    U = esc.DoubleWell()
    reactant = esc.HalfSpace(normal=[1.0], offset=A)        # {x < a}
    product = esc.HalfSpace(normal=[-1.0], offset=-B)       # {x > b}
    p_sde = float(langevin_splitting_probability_1d(U, TEMPERATURE, X0, A, B))
    rows = []
    for i, dt in enumerate(dts):
        for bridge in (True, False):
            row_seed = seed * 100 + 2 * i + (0 if bridge else 1)
            p_chain = float(euler_chain_splitting_probability(U, TEMPERATURE, dt, X0, A, B, bridge=bridge))
            t0 = time.perf_counter()
            r = esc.splitting(U, esc.Langevin(temperature=TEMPERATURE, dt=dt), x0=[X0], reactant=reactant,
                              product=product, n_replicas=n_replicas, n_runs=n_runs, seed=row_seed, threads=threads,
                              bridge=bridge, progress=False)
            wall = time.perf_counter() - t0
            rows.append(dict(dt=dt, bridge=bridge, test=r.test, n_replicas=n_replicas, n_runs=n_runs, seed=row_seed,
                             estimate=r.value, stderr=r.stderr, p_sde=p_sde, p_chain=p_chain,
                             z_sde=(r.value - p_sde) / r.stderr, z_chain=(r.value - p_chain) / r.stderr,
                             chain_vs_sde=p_chain / p_sde - 1, statuses={s.name: r.count(s) for s in
                                                                          esc.SplittingStatus},
                             path_steps=r.path_steps, wall_s=wall))
            print(f"dt={dt:g} bridge={bridge}: {r.value:.5e} ± {r.stderr:.2e}, chain {p_chain:.5e}, "
                  f"z_chain {rows[-1]['z_chain']:+.2f}, z_sde {rows[-1]['z_sde']:+.2f}, {wall:.1f} s", flush=True)
    return dict(rows=rows, p_sde=p_sde)


def table(rows: list[dict]) -> str:
    lines = ["| dt | bridge | estimate ± SE | rel. SE | exact SDE p | exact chain p (same test) | chain vs SDE | "
             "z vs chain | z vs SDE | seed | path-steps | wall s |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['dt']:g} | {'on' if r['bridge'] else 'off'} | {r['estimate']:.5e} ± {r['stderr']:.2e} | "
                     f"{r['stderr'] / r['estimate']:.2%} | {r['p_sde']:.5e} | {r['p_chain']:.5e} | "
                     f"{r['chain_vs_sde']:+.2%} | {r['z_chain']:+.2f} | {r['z_sde']:+.2f} | {r['seed']} | "
                     f"{r['path_steps']:.3g} | {r['wall_s']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dts", type=float, nargs="+", default=list(DTS))
    ap.add_argument("--replicas", type=int, default=100)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=24, help="row k runs with seed 100 * SEED + k")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=C.OUT / "splitting_bias.json")
    args = ap.parse_args()
    info = C.machine_info()
    t0 = time.perf_counter()
    out = run(tuple(args.dts), args.replicas, args.runs, args.seed, args.threads)
    out.update(machine=info, threads=args.threads, total_wall_s=time.perf_counter() - t0,
               problem=dict(temperature=TEMPERATURE, x0=X0, reactant=f"x <= {A}", product=f"x >= {B}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print()
    print(table(out["rows"]))
    print(f"\n{args.threads} thread(s), {out['total_wall_s']:.0f} s in all; {info['cpu_model']}, "
          f"escapade {info['escapade']}, load average at start {info.get('loadavg_at_start')}; wrote {args.out}")


if __name__ == "__main__":
    main()
