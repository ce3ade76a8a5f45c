"""SGD-k on a 100-dimensional Styblinski-Tang sum with 2,000 terms, k = 500: path-steps per second, with peers.

Each path starts 1e-2 (per coordinate, uniform) from the sharpest minimizer and runs 200 iterations at the
learning rate 0.01 (no stop region: every path is censored at the cap, so all runs do identical work). A
path-step samples 500 term indices and sums their gradients (500 x 100 terms of 5 floating-point operations
each); GD is shown for scale (its gradient comes from the summed coefficients, O(d)).

Rows, at each thread count: escapade without and with replacement and GD (`esc.simulate`); peers for SGD-k
without replacement on the same sum, the same starts' law and the same work: numba prange over paths (partial
Fisher-Yates, term-by-term loops, fastmath; bench/peers/sgdk_numba.py) and numpy advancing all paths together
(argpartition of uniform keys, the minibatch sums as one BLAS product; bench/peers/sgdk_numpy.py, in a subprocess
whose BLAS uses that many threads). Each configuration is run --repeat times, interleaved, and the best wall time
kept; ratios are (peer's wall time) / (escapade's, same thread count) from the same run. The escapade rows at 1
and 2 threads must give bitwise the same final positions (checked). `mean |x - x*|` (the final distance from the
minimizer, averaged over paths and coordinates) shows that the peers run the same dynamics.

--clock cpu times each run by the CPU time of its process (`time.process_time`) instead of the wall clock: on a
shared machine the load disturbs it less, and at one thread it is the time of the one thread doing the work (at
two threads it adds both threads' time, so the rows then read as path-steps per CPU-second).

    python bench/bench_sgdk.py [--paths 256] [--steps 200] [--threads 1 2] [--repeat 3] [--clock wall|cpu]
                               [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, run_worker  # noqa: E402

import escapade as esc  # noqa: E402

D, N, K, LR = 100, 2000, 500, 0.01
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def workload():
    f = esc.StyblinskiTangSum.random(D, N, seed=0)
    return f, f.sharpest_minimizer()


def starts(center, paths, seed):
    return center + np.random.default_rng(seed).uniform(-1e-2, 1e-2, size=(paths, D))


def run_escapade(dyn, paths, steps, threads):
    f, center = workload()
    start = esc.UniformBox(low=center - 1e-2, high=center + 1e-2)
    t0 = clock()
    res = esc.simulate(f, dyn, x0=start, n_paths=paths, max_steps=steps, seed=1, threads=threads, progress=False)
    wall = clock() - t0
    return dict(wall=wall, steps=int(res.exit_step.sum()), final=res.final_position,
                dist=float(np.abs(res.final_position - center).mean()),
                diverged=int(np.sum(res.status == esc.Status.DIVERGED)))


def run_numba(paths, steps, threads):
    from peers import sgdk_numba

    f, center = workload()
    x0 = starts(center, paths, 1)
    t0 = clock()
    x, total = sgdk_numba.run(f.c1, f.c2, f.c3, x0, LR, K, steps, seed=1, threads=threads)
    return dict(wall=clock() - t0, steps=total, dist=float(np.abs(x - center).mean()))


def run_numpy(paths, steps, threads):
    out = run_worker(Path(__file__).resolve(), ["--numpy-worker", str(paths), str(steps), "--clock",
                                                "cpu" if clock is time.process_time else "wall"], threads)
    return json.loads(out.strip().splitlines()[-1])


def numpy_worker(paths, steps):
    from peers import sgdk_numpy

    f, center = workload()
    x0 = starts(center, paths, 1)
    t0 = clock()
    x, total = sgdk_numpy.run(f.c1, f.c2, f.c3, x0, LR, K, steps, seed=1)
    print(json.dumps(dict(wall=clock() - t0, steps=total, dist=float(np.abs(x - center).mean()))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=256)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--skip", nargs="*", default=[], help="skip configurations whose key contains any of these")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                    help="time runs by the wall clock (default) or by the process's CPU time")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--numpy-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    if args.numpy_worker:
        numpy_worker(*args.numpy_worker)
        return
    from peers import sgdk_numba

    sgdk_numba.warmup()
    P, S = args.paths, args.steps
    configs = []
    for th in args.threads:
        configs += [
            (f"esc_worep_t{th}", "escapade, SGD-500 without replacement", th,
             lambda th=th: run_escapade(esc.SGDk(LR, K, replace=False), P, S, th)),
            (f"esc_rep_t{th}", "escapade, SGD-500 with replacement", th,
             lambda th=th: run_escapade(esc.SGDk(LR, K, replace=True), P, S, th)),
            (f"esc_gd_t{th}", "escapade, GD (closed-form full gradient, O(d))", th,
             lambda th=th: run_escapade(esc.GD(LR), P, S, th)),
            (f"numba_t{th}", "numba prange, SGD-500 without replacement", th, lambda th=th: run_numba(P, S, th)),
            (f"numpy_t{th}", "numpy over paths + BLAS, SGD-500 without replacement", th,
             lambda th=th: run_numpy(P, S, th)),
        ]
    configs = [c for c in configs if not any(s in c[0] for s in args.skip)]
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for key, label, th, thunk in configs:
            r = thunk()
            if key not in best or r["wall"] < best[key]["wall"]:
                best[key] = dict(r, label=label, threads=th)
            print(f"# {key}: {r['wall']:.2f} s, {r['steps'] / r['wall']:.3g} path-steps/s, load "
                  f"{os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    if "esc_worep_t1" in best and "esc_worep_t2" in best:
        same = np.array_equal(best["esc_worep_t1"]["final"], best["esc_worep_t2"]["final"])
        print(f"# escapade threads=1 and threads=2 final positions bitwise equal: {same}", file=sys.stderr)
    rows = []
    print("| implementation | threads | path-steps/s | µs per path-step per thread | mean abs(x - x*) | ratio vs escapade |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, r in best.items():
        ref = best.get(f"esc_worep_t{r['threads']}")
        ratio = r["wall"] / ref["wall"] * ref["steps"] / r["steps"] if ref and not key.startswith("esc") else float("nan")
        us = r["wall"] * (1 if clock is time.process_time else r["threads"]) / r["steps"] * 1e6
        rows.append(dict(key=key, label=r["label"], threads=r["threads"], wall=r["wall"], path_steps=r["steps"],
                         path_steps_per_s=r["steps"] / r["wall"], us_per_step_thread=us, mean_dist=r["dist"],
                         ratio=ratio, diverged=r.get("diverged")))
        print(f"| {r['label']} | {r['threads']} | {r['steps'] / r['wall']:.3g} | {us:.1f} | {r['dist']:.4g} | "
              f"{'' if np.isnan(ratio) else f'{ratio:.2f}'} |")
    if args.json:
        machine = machine_info()
        machine["loadavg_at_end"] = os.getloadavg()
        args.json.write_text(json.dumps({"machine": machine, "rows": rows, "args": vars(args) | {"json": str(args.json)}},
                                        indent=1))


if __name__ == "__main__":
    main()
