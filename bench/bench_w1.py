"""W1 throughput: escapade against plain C, numba and numpy on identical work, in one process.

Workload W1: overdamped Langevin dX = -U'(X) dt + sqrt(2T) dW, U(x) = x^4/4 - x^2/2, T = 1/16, X_0 = -1,
Euler-Maruyama with step dt (default 1e-3), each path stopped at the first step with X >= 0; 10,000 paths.
Every implementation below does the same work: the same recursion, discrete monitoring (escapade with
bridge=False), the same number of paths and the same dt; the number of path-steps each one executed is counted
by the implementation itself.  escapade with bridge=True (Brownian-bridge crossing test between steps, which
removes the O(sqrt(dt)) delay of discrete monitoring) is reported as a separate row.

Each configuration runs at each thread count in --threads and is timed best-of-k (k = --repeat), round robin
over the configurations so that a transient load on the machine does not hit all repeats of one of them; a
configuration whose repeats have already used --budget seconds stops repeating earlier (the table says how
many runs each best is over).  Wall time is the timer around the simulation itself (the Python call, or the
timer inside the compiled programs), excluding process start-up and compilation.

    python bench/bench_w1.py                 # full run, threads 1 and 2, best of 3
    python bench/bench_w1.py --quick         # one run each, numpy on 2,000 paths

Writes a markdown table to stdout and everything to bench/out/w1.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

REFERENCE = "escapade (Python API), bridge=False"


# ------------------------------------------------------------------ one run of each implementation


def run_escapade(n, dt, threads, seed, bridge):
    r, wall = C.simulate_w1(n, dt, threads, seed, bridge)
    mean, se, _, k = C.mean_se(r.exit_time)
    return dict(wall=wall, steps=r.total_steps, mean=mean, se=se, n_exited=k)


def run_engine(exe, n, dt, threads, bridge):
    out = subprocess.run([str(exe), str(n), str(threads), str(int(bridge)), repr(dt)],
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out.strip().splitlines()[-1])
    # the engine benchmark prints the mean only; with the same seed (0) its paths are the Python API's
    return dict(wall=d["seconds"], steps=d["path_steps"], mean=d["mean_exit_time"], se=float("nan"),
                n_exited=n)


def run_plain(exe, n, dt, threads, seed):
    out = subprocess.run([str(exe), str(n), repr(dt), str(threads), str(seed)],
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out.strip().splitlines()[-1])
    return dict(wall=d["wall_s"], steps=d["total_steps"], mean=d["mean_exit_time"], se=d["se"],
                n_exited=d["n_exited"])


def run_py(fn, n, dt, threads, seed, **kwargs):
    t0 = time.perf_counter()
    et, steps = fn(n, dt, threads, seed, **kwargs)
    wall = time.perf_counter() - t0
    mean, se, _, k = C.mean_se(et)
    return dict(wall=wall, steps=steps, mean=mean, se=se, n_exited=k)


# ------------------------------------------------------------------ driver


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=10_000, help="paths per run (default 10000)")
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="stop repeating a configuration once its runs took this many seconds (default 20)")
    ap.add_argument("--numpy-paths", type=int, default=None,
                    help="paths for the numpy lockstep peer (default: --paths; 2000 with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="one run each, numpy peer on 2,000 paths")
    ap.add_argument("--skip", nargs="*", default=[], help="skip configurations whose key contains any of these")
    ap.add_argument("--rebuild-engine", action="store_true", help="rebuild build/bench/bench/escapade_bench_w1")
    ap.add_argument("--json", type=Path, default=C.OUT / "w1.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
        if args.numpy_paths is None:
            args.numpy_paths = 2000
    if args.numpy_paths is None:
        args.numpy_paths = args.paths
    n, dt, seed = args.paths, args.dt, args.seed

    machine = C.machine_info()
    try:
        exact = C.exact_mean()
    except Exception:  # noqa: BLE001 - scipy missing: fall back to the tabulated value
        exact = C.EXACT_MEAN
    plain = C.build_plain()
    engine = C.engine_binary(args.rebuild_engine)

    from peers import w1_numba, w1_numpy

    t0 = time.perf_counter()
    w1_numba.warmup()
    compile_s = time.perf_counter() - t0
    import numba

    # (key, label, threads, discrete?, n_paths, thunk)
    configs = []
    for th in args.threads:
        configs += [
            (f"esc_api_nobridge_t{th}", REFERENCE, th, True, n,
             lambda th=th: run_escapade(n, dt, th, seed, False)),
            (f"esc_api_bridge_t{th}", "escapade (Python API), bridge=True", th, False, n,
             lambda th=th: run_escapade(n, dt, th, seed, True)),
        ]
        if engine is not None:
            configs += [
                (f"esc_engine_nobridge_t{th}", "escapade C++ engine binary, bridge=False", th, True, n,
                 lambda th=th: run_engine(engine, n, dt, th, False)),
                (f"esc_engine_bridge_t{th}", "escapade C++ engine binary, bridge=True", th, False, n,
                 lambda th=th: run_engine(engine, n, dt, th, True)),
            ]
        configs += [
            (f"plain_fastmath_t{th}", "plain C, -O3 -march=native -ffast-math (floor)", th, True, n,
             lambda th=th: run_plain(plain["fastmath"], n, dt, th, seed)),
            (f"plain_strict_t{th}", "plain C strict, -O3 -march=native -ffp-contract=off", th, True, n,
             lambda th=th: run_plain(plain["strict"], n, dt, th, seed)),
            (f"plain_escflags_t{th}", "plain C, escapade's flags", th, True, n,
             lambda th=th: run_plain(plain["escflags"], n, dt, th, seed)),
            (f"numba_xoshiro_polar_t{th}", "numba prange, xoshiro256** + polar", th, True, n,
             lambda th=th: run_py(w1_numba.run_xoshiro, n, dt, th, seed)),
            (f"numba_xoshiro_bm_t{th}", "numba prange, xoshiro256** + Box-Muller", th, True, n,
             lambda th=th: run_py(w1_numba.run_xoshiro_bm, n, dt, th, seed)),
            (f"numba_nprandom_t{th}", "numba prange, np.random (numba's generator)", th, True, n,
             lambda th=th: run_py(w1_numba.run_nprandom, n, dt, th, seed)),
        ]
        if th == 1:
            npaths = args.numpy_paths
            configs.append(("numpy_lockstep_t1", f"numpy lockstep (1 thread, {npaths} paths)", 1, True, npaths,
                            lambda: run_py(w1_numpy.run, npaths, dt, 1, seed)))
            # the plain form of the same loop: one draw of normals and one compaction per step
            configs.append(("numpy_lockstep_per_step_t1", f"numpy lockstep, one step per call (1 thread, {npaths} paths)",
                            1, True, npaths, lambda: run_py(w1_numpy.run, npaths, dt, 1, seed, block=1)))
    configs = [c for c in configs if not any(s in c[0] for s in args.skip)]

    runs: dict[str, list[dict]] = {c[0]: [] for c in configs}
    spent = {c[0]: 0.0 for c in configs}
    t_start = time.perf_counter()
    for rep in range(args.repeat):
        for key, label, th, _, _, thunk in configs:
            if rep > 0 and spent[key] >= args.budget:
                continue
            t1 = time.perf_counter()
            r = thunk()
            spent[key] += time.perf_counter() - t1
            r["loadavg_1min_after"] = os.getloadavg()[0]
            runs[key].append(r)
            print(f"# {key:28s} run {rep + 1}: {r['wall']:8.3f} s  {r['steps']} steps  mean {r['mean']:.4f}",
                  file=sys.stderr, flush=True)
    total_s = time.perf_counter() - t_start

    # ------------------------------------------------------------------ results
    rows = []
    for key, label, th, discrete, npaths, _ in configs:
        rr = runs[key]
        best = min(rr, key=lambda r: r["wall"] / r["steps"])
        ns = best["wall"] * th / best["steps"] * 1e9
        rows.append(dict(key=key, label=label, threads=th, discrete_monitoring=discrete, n_paths=npaths, dt=dt,
                         runs=len(rr), wall_s=best["wall"], wall_all_s=[r["wall"] for r in rr],
                         path_steps=best["steps"], path_steps_per_s=best["steps"] / best["wall"],
                         ns_per_step_per_thread=ns, mean_exit_time=best["mean"], se=best["se"],
                         loadavg_1min_after_runs=[r["loadavg_1min_after"] for r in rr],
                         n_exited=best["n_exited"]))
    ref = {r["threads"]: r for r in rows if r["label"] == REFERENCE}
    for r in rows:
        rf = ref.get(r["threads"])
        r["ratio_vs_escapade"] = (r["ns_per_step_per_thread"] / rf["ns_per_step_per_thread"]) if rf else None
        r["bias_pct"] = 100 * (r["mean_exit_time"] / exact - 1)

    # sanity: discrete-monitoring estimates against their pooled (inverse-variance) mean
    disc = [r for r in rows if r["discrete_monitoring"] and math.isfinite(r["se"])]
    seen, uniq = set(), []
    for r in disc:  # runs of one estimator at several thread counts are the same paths: count them once
        k = (r["key"].rsplit("_t", 1)[0], round(r["mean_exit_time"], 9))
        if k not in seen:
            seen.add(k)
            uniq.append(r)
    w = np.array([1 / r["se"] ** 2 for r in uniq])
    pooled = float(np.sum(w * [r["mean_exit_time"] for r in uniq]) / w.sum()) if uniq else float("nan")
    for r in rows:
        r["z_vs_pooled_discrete"] = ((r["mean_exit_time"] - pooled) / r["se"]) if math.isfinite(r["se"]) else None

    report = dict(
        workload=dict(name="W1", potential="x^4/4 - x^2/2", temperature=C.TEMPERATURE, x0=C.X0,
                      exit="x >= 0", dt=dt, n_paths=n, seed=seed, exact_mean=exact),
        settings=dict(repeat=args.repeat, budget_s=args.budget, threads=args.threads, numpy_paths=args.numpy_paths,
                      quick=args.quick, numba_compile_s=compile_s, numba_threading_layer=_layer(numba),
                      total_measure_s=total_s, plain_builds=C.PLAIN_BUILDS,
                      escapade_flags=C.ESCAPADE_FLAGS, engine_binary=str(engine) if engine else None),
        machine=machine, pooled_discrete_mean=pooled, results=rows,
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return report


def _layer(numba):
    try:
        return numba.threading_layer()
    except ValueError:
        return None


def _fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}"


def markdown(report) -> str:
    m, wl = report["machine"], report["workload"]
    lines = [
        f"W1: {wl['n_paths']} paths, dt={wl['dt']:g}, seed {wl['seed']}; exact mean exit time {wl['exact_mean']:.3f}.",
        f"Machine: {m['cpu_model']} ({m.get('physical_cores', m['logical_cpus'])} cores), "
        f"{(m['cxx'] or ['?'])[0]}, numpy {m['numpy']}, numba {m['numba']}, escapade {m['escapade']}, "
        f"{m['date']}.",
        "",
        "| implementation | threads | runs | wall s (best) | path-steps/s | ns/step/thread | mean ± SE | "
        "vs exact | ratio vs escapade |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        se = "(same paths as API)" if not math.isfinite(r["se"]) else f"± {r['se']:.2f}"
        lines.append(
            f"| {r['label']} | {r['threads']} | {r['runs']} | {r['wall_s']:.3f} | {r['path_steps_per_s']:.3g} | "
            f"{r['ns_per_step_per_thread']:.3f} | {r['mean_exit_time']:.2f} {se} | {r['bias_pct']:+.2f}% | "
            f"{_fmt_ratio(r['ratio_vs_escapade'])} |"
        )
    lines += [
        "",
        "ratio = (peer wall time per path-step) / (escapade Python API, bridge=False, same thread count); "
        "> 1 means escapade is faster.",
        f"Pooled mean of the discrete-monitoring estimates: {report['pooled_discrete_mean']:.2f} "
        f"({100 * (report['pooled_discrete_mean'] / wl['exact_mean'] - 1):+.2f}% vs exact; expected about +2% "
        "at dt=1e-3); largest |z| of one estimate against it: "
        f"{max((abs(r['z_vs_pooled_discrete']) for r in report['results'] if r['discrete_monitoring'] and r['z_vs_pooled_discrete'] is not None), default=float('nan')):.2f}.",
        "Estimators that share a random stream agree path by path: plain C (all builds) and numba Box-Muller; "
        "escapade's API and its engine binary.",
    ]
    np_rows = [r for r in report["results"] if r["key"].startswith("numpy")]
    if np_rows and np_rows[0]["n_paths"] != wl["n_paths"]:
        lines.append(f"numpy lockstep ran on {np_rows[0]['n_paths']} paths, not {wl['n_paths']}: its cost per "
                     "path-step depends on the number of live paths (array length per ufunc pass), so this "
                     "ratio is indicative only.")
    s = report["settings"]
    lines.append(f"Best of up to {s['repeat']} runs (fewer where a configuration's runs exceeded {s['budget_s']:g} s); "
                 f"numba threading layer: {s['numba_threading_layer']}; measuring took {s['total_measure_s']:.0f} s.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
