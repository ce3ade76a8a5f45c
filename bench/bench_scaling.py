"""W1 path throughput as the work is spread: engine threads in one process against Dask workers.

Workload W1: overdamped Langevin dX = -U'(X) dt + sqrt(2T) dW, U(x) = x^4/4 - x^2/2, T = 1/16, X_0 = -1,
Euler-Maruyama with step dt (default 1e-3), each path stopped when it crosses 0 (Brownian-bridge test on);
10,000 paths by default (--paths).  Configurations, all with the same seed, hence the same paths:

  escapade, threads=1 / threads=2    one process, one engine call over the whole path range
  Dask, 1 worker / 2 workers         LocalCluster(n_workers=k, threads_per_worker=1, processes=True); simulate(
                                     client=...) cuts the range into chunks (default about 4 per worker thread,
                                     at least 1,000 paths; --chunk-size) run with one engine thread per task

The timer is around the `simulate` call only: for Dask it includes shipping the problem to the workers,
scheduling, returning and merging the chunks, but not starting the cluster (reported separately, and one small
warm-up run per cluster is done first).  Each configuration is timed best-of-k (k = --repeat), round robin over
the configurations, so that a passing load on the machine does not hit every repeat of one of them.

Throughput is path-steps per second (the steps the engine executed, counted by the engine); speed-up is against
escapade threads=1, and parallel efficiency is the speed-up divided by the number of cores the configuration
uses.  Every configuration's per-path results are checked bitwise equal to the first one's.

    python bench/bench_scaling.py                 # 10,000 paths, best of 3
    python bench/bench_scaling.py --paths 2000 --repeat 1

Writes a markdown table to stdout and everything to bench/out/scaling.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

T_MAX = 1e6  # no path is censored: W1's mean exit time is about 136


def digest(res) -> str:
    """A hash of the per-path arrays, to check that every configuration ran the very same paths."""
    h = hashlib.sha256()
    for name in ("status", "exit_time", "exit_step", "exit_position"):
        h.update(getattr(res, name).tobytes())
    return h.hexdigest()[:16]


def run_once(n, dt, seed, **how):
    import escapade as esc

    landscape, dyn, stop = C.w1_problem(dt)
    t0 = time.perf_counter()
    res = esc.simulate(landscape, dyn, x0=[C.X0], stop=stop, n_paths=n, t_max=T_MAX, seed=seed, progress=False,
                       **how)
    wall = time.perf_counter() - t0
    return dict(wall=wall, steps=int(res.total_steps), digest=digest(res), mean=res.summary().mean)


def start_cluster(workers: int):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with warnings.catch_warnings():  # the second cluster's HTTP routes move off the port the first one holds
        warnings.filterwarnings("ignore", message=r"Port \d+ is already in use", category=UserWarning)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(workers)
    started = time.perf_counter() - t0
    return cluster, client, started


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=10_000, help="paths per run (default 10000)")
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--chunk-size", type=int, default=None, help="paths per Dask task (default: escapade's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=C.OUT / "scaling.json")
    args = ap.parse_args(argv)

    import escapade  # noqa: F401  (fail early without the package)
    from escapade._execute import plan

    info = C.machine_info()
    clusters = {}
    for k in (1, 2):
        cluster, client, started = start_cluster(k)
        run_once(200, args.dt, args.seed + 1, client=client, threads=1)  # workers import escapade, build the core
        clusters[k] = (cluster, client, started)
        print(f"# Dask LocalCluster with {k} worker(s) started in {started:.2f} s", file=sys.stderr, flush=True)

    configs = {
        "escapade threads=1": dict(cores=1, how=dict(threads=1)),
        "escapade threads=2": dict(cores=2, how=dict(threads=2)),
        "Dask 1 worker": dict(cores=1, how=dict(client=clusters[1][1], threads=1, chunk_size=args.chunk_size),
                              chunks=len(plan(args.paths, args.chunk_size, 1))),
        "Dask 2 workers": dict(cores=2, how=dict(client=clusters[2][1], threads=1, chunk_size=args.chunk_size),
                               chunks=len(plan(args.paths, args.chunk_size, 2))),
    }
    runs = {key: [] for key in configs}
    try:
        for rep in range(args.repeat):
            for key, cfg in configs.items():
                r = run_once(args.paths, args.dt, args.seed, **cfg["how"])
                runs[key].append(r)
                rate = r["steps"] / r["wall"]
                print(f"# {key:20s} run {rep + 1}: {r['wall']:8.3f} s  {r['steps']} steps  {rate:.3e} path-steps/s",
                      file=sys.stderr, flush=True)
    finally:
        for cluster, client, _ in clusters.values():
            client.close()
            cluster.close()

    reference = runs["escapade threads=1"][0]
    rows = []
    for key, cfg in configs.items():
        best = min(runs[key], key=lambda r: r["wall"])
        rows.append(dict(
            config=key,
            cores=cfg["cores"],
            chunks=cfg.get("chunks", 1),
            runs=len(runs[key]),
            best_wall_s=best["wall"],
            all_wall_s=[r["wall"] for r in runs[key]],
            path_steps=best["steps"],
            path_steps_per_s=best["steps"] / best["wall"],
            identical=all(r["digest"] == reference["digest"] and r["steps"] == reference["steps"] for r in runs[key]),
            mean_exit_time=best["mean"],
        ))
    base = rows[0]["path_steps_per_s"]
    for row in rows:
        row["speedup"] = row["path_steps_per_s"] / base
        row["efficiency"] = row["speedup"] / row["cores"]
    try:
        info["loadavg_at_end"] = os.getloadavg()
    except OSError:
        pass
    report = dict(
        workload=dict(name="W1", paths=args.paths, dt=args.dt, temperature=C.TEMPERATURE, x0=C.X0, bridge=True,
                      t_max=T_MAX, seed=args.seed, chunk_size=args.chunk_size),
        repeat=args.repeat,
        cluster_start_s={f"{k} worker(s)": v[2] for k, v in clusters.items()},
        machine=info,
        rows=rows,
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return report


def markdown(report) -> str:
    w = report["workload"]
    m = report["machine"]
    lines = [
        f"W1, {w['paths']:,} paths, dt = {w['dt']:g}, bridge on; best of {report['repeat']}; "
        f"{m.get('cpu_model', '?')}, {m.get('logical_cpus', '?')} logical CPUs, load average at start "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_at_start', ()))}",
        "",
        "| configuration | cores | chunks | best wall [s] | path-steps/s | speed-up | parallel efficiency "
        "| same paths |",
        "|---|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['config']} | {r['cores']} | {r['chunks']} | {r['best_wall_s']:.3f} | {r['path_steps_per_s']:.3e} | "
            f"{r['speedup']:.2f} | {100 * r['efficiency']:.0f}% | {'yes' if r['identical'] else 'NO'} |"
        )
    starts = ", ".join(f"{k} {v:.2f} s" for k, v in report["cluster_start_s"].items())
    lines += ["", f"Cluster start-up (not in the timings): {starts}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
