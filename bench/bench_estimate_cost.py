"""What a certified 1% answer on the README's double well costs, against an uncertified run at a hand-picked step.

  estimate(DoubleWell(), Langevin(1/16, dt=0.1, scheme="heun"), x0=[-1], stop=HalfSpace([1], 0), t_max=1e5,
           rtol=0.01, seed=s, threads=2)          for s = 0 .. seeds - 1, one after the other
  simulate(... Langevin(1/16, dt=0.01), n_paths=66_700, seed=s)   for the first three seeds, in the same run: a
           1% statistical half-width at a step chosen by hand, with no bias estimate

Prints one line per run (method, path-steps, wall and CPU time, whether the interval holds the exact 135.78297715)
and the median wall time of the estimates.

  python bench/bench_estimate_cost.py [--seeds 10] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import escapade as esc

EXACT = 135.78297715071926


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    f, stop = esc.DoubleWell(), esc.HalfSpace(normal=[1.0], offset=0.0)
    print("load average", os.getloadavg())
    walls = []
    for s in range(args.seeds):
        t0, c0 = time.perf_counter(), time.process_time()
        e = esc.estimate(f, esc.Langevin(1 / 16, dt=0.1, scheme="heun"), x0=[-1.0], stop=stop, t_max=1e5, rtol=0.01,
                         seed=s, threads=args.threads)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        walls.append(wall)
        low, high = e.interval
        print(f"seed {s}: {e.params['method']}, {e.path_steps:.3g} path-steps, wall {wall:.2f} s, CPU {cpu:.2f} s, "
              f"{'covered' if low <= EXACT <= high else 'MISSED'}", flush=True)
        if s < 3:
            t0 = time.perf_counter()
            r = esc.simulate(f, esc.Langevin(1 / 16, dt=0.01), x0=[-1.0], stop=stop, n_paths=66_700, t_max=1e5, seed=s,
                             threads=args.threads)
            print(f"  hand-picked Euler dt = 0.01, 66,700 paths: {r.total_steps:.3g} path-steps, wall "
                  f"{time.perf_counter() - t0:.2f} s", flush=True)
    print(f"median wall of the estimates: {statistics.median(walls):.2f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
