"""What the Brownian-bridge exit test costs per step: the README's double well with and without it.

  simulate(DoubleWell(), Langevin(1/16, dt, scheme), x0=[-1], stop=HalfSpace([1], 0), n_paths, t_max=1e5, seed,
           threads=1, bridge=True | False)

for scheme "euler" and "heun", timed by the CPU time of the process (time.process_time, one thread), as ns per
path-step. Each configuration runs --repeat times, round robin, and the table gives the best and the median.
With --builds DIR ..., each configuration runs once per build in its own process with PYTHONPATH=DIR (a directory
holding an `escapade` package), the builds alternating, so that two builds are compared in one run on the same
machine; the path-steps of each build are printed too (a change that keeps the bits gives the same counts).

  python bench/bench_bridge_step.py [--dt 0.025] [--paths 20000] [--repeat 5] [--builds DIR ...]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CONFIGS = [(scheme, bridge) for scheme in ("euler", "heun") for bridge in (True, False)]


def one_run(scheme: str, bridge: bool, dt: float, paths: int, seed: int) -> dict:
    import escapade as esc

    f, stop = esc.DoubleWell(), esc.HalfSpace(normal=[1.0], offset=0.0)
    c0 = time.process_time()
    r = esc.simulate(f, esc.Langevin(1 / 16, dt=dt, scheme=scheme), x0=[-1.0], stop=stop, n_paths=paths, t_max=1e5,
                     seed=seed, threads=1, bridge=bridge)
    cpu = time.process_time() - c0
    return {"ns": cpu / r.total_steps * 1e9, "path_steps": int(r.total_steps)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dt", type=float, default=0.025)
    ap.add_argument("--paths", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--builds", nargs="*", default=[], help="package directories to compare (PYTHONPATH each)")
    ap.add_argument("--one", nargs=2, metavar=("SCHEME", "BRIDGE"), help=argparse.SUPPRESS)  # a child process
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one[0], args.one[1] == "1", args.dt, args.paths, args.seed)))
        return
    builds = args.builds or [None]
    times: dict[tuple, list[float]] = {}
    steps: dict[tuple, int] = {}
    print("load average", os.getloadavg(), flush=True)
    for _ in range(args.repeat):
        for scheme, bridge in CONFIGS:
            for build in builds:
                if build is None:
                    out = one_run(scheme, bridge, args.dt, args.paths, args.seed)
                else:
                    env = dict(os.environ, PYTHONPATH=build, OMP_NUM_THREADS="1")
                    cmd = [sys.executable, __file__, "--one", scheme, "1" if bridge else "0", "--dt", str(args.dt),
                           "--paths", str(args.paths), "--seed", str(args.seed)]
                    out = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True,
                                                    check=True).stdout.splitlines()[-1])
                key = (scheme, bridge, build)
                times.setdefault(key, []).append(out["ns"])
                steps[key] = out["path_steps"]
    print(f"\ndt = {args.dt}, {args.paths} paths, seed {args.seed}, one thread, {args.repeat} runs each; "
          f"load average {os.getloadavg()}\n")
    print("| scheme | bridge | build | ns per path-step (best) | median | path-steps |")
    print("|---|---|---|---:|---:|---:|")
    for (scheme, bridge, build), ts in times.items():
        print(f"| {scheme} | {'on' if bridge else 'off'} | {build or 'this'} | {min(ts):.2f} | "
              f"{statistics.median(ts):.2f} | {steps[(scheme, bridge, build)]} |")


if __name__ == "__main__":
    main()
