"""Sensitivities: the cost of carrying likelihood-ratio scores, seconds to a 1% derivative against finite
differences in numba, and the variance per path of each estimator form. One thread each, in one process.

1. Overhead on W1 (dX = -U'(X) dt + sqrt(2T) dW, U = x^4/4 - x^2/2, T = 1/16, dt = 1e-3, X_0 = -1, stop at X >= 0,
   10,000 paths, bridge off as in bench_w1): seconds per path-step with sensitivities=["dynamics.temperature"]
   (and with two parameters) over the plain run's, best of --repeat, round robin.
2. dE[tau]/dT on the double well at T = 0.1, dt = 1e-3, from -1.2 to X >= 0.2 (exact -1189.35, the derivative of the
   quadrature formula): seconds to a 1% relative standard error, escapade (cost-to-go form with a baseline)
   against bench/peers/sens_fd_numba.py (central differences with common random numbers at h = 0.002, and the
   Richardson pair at h = 0.01); escapade with the bridge off is the peer's chain (discrete
   monitoring), with it on the bridged chain. Each is timed on a batch of paths; seconds to 1% =
   (seconds per path) * (variance per path) / (0.01 * 1189.35)^2.
3. The variance per path of the forms raw (tau S), baseline, cost-to-go and both at dt = 1e-2, 1e-3, 1e-4.

    python bench/bench_sensitivities.py            # full run
    python bench/bench_sensitivities.py --quick    # fewer paths

Writes markdown to stdout and everything to bench/out/sensitivities.json.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as C  # noqa: E402

T_CASE, DT_CASE, X0_CASE, B_CASE = 0.1, 1e-3, -1.2, 0.2


def exact_derivative() -> float:
    from escapade.analysis import langevin_mean_exit_time_derivative_1d

    return float(langevin_mean_exit_time_derivative_1d(lambda x: x**4 / 4 - x**2 / 2, T_CASE, X0_CASE, -math.inf,
                                                       B_CASE, lower_boundary="reflecting"))


def w1(n, sensitivities, seed=0):
    import escapade as esc

    t0 = time.perf_counter()
    r = esc.simulate(esc.DoubleWell(), esc.Langevin(1 / 16, dt=1e-3), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                     n_paths=n, t_max=1e6, seed=seed, threads=1, bridge=False, sensitivities=sensitivities)
    return (time.perf_counter() - t0) / r.total_steps


def case_run(n, dt, seed=1, bridge=True):
    import escapade as esc

    t0 = time.perf_counter()
    r = esc.simulate(esc.DoubleWell(), esc.Langevin(T_CASE, dt=dt), x0=[X0_CASE], stop=esc.HalfSpace([1.0], B_CASE),
                     n_paths=n, t_max=1e7, seed=seed, threads=1, bridge=bridge, sensitivities=["dynamics.temperature"])
    return r, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sections", default="overhead,peer,variance",
                    help="comma-separated subset of overhead, peer, variance")
    args = ap.parse_args(argv)
    sections = set(args.sections.split(","))
    q = args.quick
    out: dict = {"machine": C.machine_info()}
    exact = exact_derivative()
    out["exact"] = exact

    # 1. overhead
    if "overhead" in sections:
        overhead(out, q, args.repeat)
    if "peer" in sections:
        to_one_percent(out, q, exact)
    if "variance" in sections:
        variance(out, q)
    (HERE / "out").mkdir(exist_ok=True)
    name = "sensitivities.json" if len(sections) == 3 else f"sensitivities-{'-'.join(sorted(sections))}.json"
    (HERE / "out" / name).write_text(json.dumps(out, indent=1, default=str))


def overhead(out, q, repeat):
    n_w1 = 2_000 if q else 10_000
    configs = {"plain": None, "temperature": ["dynamics.temperature"],
               "temperature+height": ["dynamics.temperature", "landscape.height"]}
    times = {k: [] for k in configs}
    w1(200, None)
    for _ in range(repeat):  # round robin: a transient load hits every configuration of a round alike
        for k, s in configs.items():
            times[k].append(w1(n_w1, s))
    best = {k: min(v) for k, v in times.items()}
    # the ratio of the best times, and the median over rounds of each round's ratio (more robust to load)
    out["overhead"] = {k: {"ns_per_path_step": 1e9 * best[k], "ratio_of_best": best[k] / best["plain"],
                           "median_round_ratio": float(np.median(np.array(times[k]) / np.array(times["plain"]))),
                           "rounds": repeat} for k in configs}
    print(f"## Overhead per path-step on W1 (one thread, bridge off, {repeat} rounds)\n")
    print("| run | ns / path-step (best) | ratio of best | median of round ratios |\n|---|---:|---:|---:|")
    for k, v in out["overhead"].items():
        print(f"| {k} | {v['ns_per_path_step']:.2f} | {v['ratio_of_best']:.3f} | {v['median_round_ratio']:.3f} |")


def to_one_percent(out, q, exact, rounds=3):
    """Each round times escapade and both peers once (round robin, fresh seeds); seconds per sample is the best
    round's, the variance is pooled over the rounds."""
    target = (0.01 * abs(exact)) ** 2
    n_case = 1_000 if q else 4_000
    n_pairs = 1_000 if q else 4_000
    from peers import sens_fd_numba as peer

    peer.warmup()
    names = ("escapade score (cost-to-go + baseline), bridge off", "numba FD, CRN, h = 0.002",
             "numba FD, CRN, Richardson h = 0.01", "escapade score (cost-to-go + baseline), bridge on")
    samples = {k: [] for k in names}
    best = {k: math.inf for k in names}
    for r in range(rounds):
        res, wall = case_run(n_case, DT_CASE, seed=1 + r, bridge=False)
        samples[names[0]].append(per_path_terms(res))
        best[names[0]] = min(best[names[0]], wall / n_case)
        t0 = time.perf_counter()
        d, _ = peer.run_central(n_pairs, T=T_CASE, h=0.002, dt=DT_CASE, x0=X0_CASE, b=B_CASE, seed=3 + 10 * r)
        best[names[1]] = min(best[names[1]], (time.perf_counter() - t0) / n_pairs)
        samples[names[1]].append(d)
        t0 = time.perf_counter()
        d, _ = peer.run_richardson(n_pairs // 2, T=T_CASE, h=0.01, dt=DT_CASE, x0=X0_CASE, b=B_CASE, seed=4 + 10 * r)
        best[names[2]] = min(best[names[2]], (time.perf_counter() - t0) / (n_pairs // 2))
        samples[names[2]].append(d)
        res, wall = case_run(n_case, DT_CASE, seed=1 + r, bridge=True)
        samples[names[3]].append(per_path_terms(res))
        best[names[3]] = min(best[names[3]], wall / n_case)
    rows = {}
    for k in names:
        y = np.concatenate(samples[k])
        v = float(y.var(ddof=1))
        rows[k] = (float(y.mean()), float(y.std(ddof=1) / math.sqrt(y.size)), y.size, v, best[k], best[k] * v / target)
    esc_s = rows[names[0]][5]
    out["to_one_percent"] = {k: dict(zip(("value", "stderr", "samples", "variance_per_sample", "seconds_per_sample",
                                          "seconds_to_1pct"), v)) for k, v in rows.items()}
    print(f"\n## dE[tau]/dT at T = 0.1, dt = 1e-3, -1.2 -> x >= 0.2 (exact {exact:.2f}), one thread, "
          f"{rounds} rounds\n")
    print("| method | estimate | samples | variance per path (pair) | s per path (pair), best round | s to 1% rel. SE "
          "| vs escapade |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k, (val, se, n, v, sec, s1) in rows.items():
        print(f"| {k} | {val:.1f} ± {se:.1f} | {n} | {v:.3g} | {sec:.3g} | {s1:.1f} | {s1 / esc_s:.1f}x |")


def per_path_terms(res):
    """The per-path terms of the default estimate (their mean is the derivative)."""
    from escapade.results import sensitivity_per_path

    y, _, _ = sensitivity_per_path(res, "mean_exit_time", "dynamics.temperature")
    return y


def variance(out, q):
    print("\n## Variance per path of dE[tau]/dT by form (T = 0.1, -1.2 -> x >= 0.2)\n")
    print("| dt | paths | raw | baseline | cost-to-go | both | estimate (both) |\n|---|---:|---:|---:|---:|---:|---:|")
    out["variance"] = {}
    for dt, n in ((1e-2, 20_000), (1e-3, 4_000), (1e-4, 800)):
        if q:
            n //= 4
        r, _ = case_run(n, dt, seed=5)
        v = {}
        for form in ("raw", "baseline", "cost_to_go", "both"):
            est = r.sensitivity("mean_exit_time", "dynamics.temperature", form=form)
            v[form] = est.stderr**2 * n
        both = r.sensitivity("mean_exit_time", "dynamics.temperature")
        out["variance"][str(dt)] = {"n": n, **v, "estimate": both.value, "stderr": both.stderr}
        print(f"| {dt:g} | {n} | {v['raw']:.3g} | {v['baseline']:.3g} | {v['cost_to_go']:.3g} | {v['both']:.3g} | "
              f"{both.value:.1f} ± {both.stderr:.1f} |")


if __name__ == "__main__":
    main()
