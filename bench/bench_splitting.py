"""Adaptive multilevel splitting: escapade against a hand-written numba AMS, the gain over plain Monte Carlo, and
the cost of rare mean exit times, all measured in one process.

Problem: the double well V = x^4/4 - x^2/2, overdamped Langevin, Euler-Maruyama with dt = 1e-3, from x0 = -0.8;
A = {x <= -0.9} (reactant), B = {x >= 0} (product), score = x (escapade's default, the signed distance to B, is
x + const). p = P(B before A).

Sections (--sections, default all):
  peer   escapade.splitting and bench/peers/ams_numba.py at T = 1/64, N = 1000, one thread each, then two threads:
         wall per run, relative variance per run, seconds to a 1% answer = wall per run x relative variance / 1e-4.
         escapade with bridge=False does the peer's work exactly (the chain tested at the steps); bridge=True (its
         default, which estimates the SDE) is a separate row.
  gain   the work-normalized variance gain of splitting over plain Monte Carlo for p from 1e-2 to 1e-12 (T chosen
         from the exact probability): plain Monte Carlo's variance p (1 - p) per path times its measured cost per
         path, over splitting's variance per run times its measured wall per run.
  exit   rare_exit_time for the mean exit time from x0 = -1 at T = 1/64 (1% half-width) and T = 1/100 (2%), two
         threads, against the exact mean, with plain Monte Carlo's time for the same accuracy from its measured
         cost per step (coefficient of variation 1: (1.96 / rtol)^2 paths of E[tau] / dt steps each).

    python bench/bench_splitting.py [--quick] [--sections peer,gain,exit]

Prints markdown tables and writes bench/out/splitting.json.
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

DT = 1e-3
X0, A, B = -0.8, -0.9, 0.0


def U(x):
    return x**4 / 4 - x**2 / 2


def problem(T, dt=DT):
    import escapade as esc

    return (esc.DoubleWell(), esc.Langevin(temperature=T, dt=dt), esc.HalfSpace(normal=[1.0], offset=A),
            esc.HalfSpace(normal=[-1.0], offset=-B))


def exact_p(T):
    from escapade.analysis import euler_chain_splitting_probability, langevin_splitting_probability_1d
    import escapade as esc

    return {"sde": float(langevin_splitting_probability_1d(U, T, X0, A, B)),
            "chain": float(euler_chain_splitting_probability(esc.DoubleWell(), T, DT, X0, A, B, bridge=False)),
            "bridged_chain": float(euler_chain_splitting_probability(esc.DoubleWell(), T, DT, X0, A, B, bridge=True))}


def escapade_runs(T, N, R, threads, bridge, seed=1):
    import escapade as esc

    land, dyn, a, b = problem(T)
    t = time.perf_counter()
    r = esc.splitting(land, dyn, x0=[X0], reactant=a, product=b, n_replicas=N, n_runs=R, seed=seed, threads=threads,
                      bridge=bridge, progress=False)
    wall = time.perf_counter() - t
    return r.run_probability, r.path_steps, wall


def summary(name, p, steps, wall, exact):
    R = p.size
    mean = float(p.mean())
    relvar = float(p.var(ddof=1) / mean**2) if R > 1 and mean > 0 else math.nan
    per_run = wall / R
    return dict(name=name, runs=R, mean=mean, se=float(p.std(ddof=1) / math.sqrt(R)), exact=exact,
                z=(mean - exact) / (p.std(ddof=1) / math.sqrt(R)), relvar=relvar, wall=wall, per_run=per_run,
                ns_per_step=wall / steps * 1e9, to_1pct=per_run * relvar / 1e-4)


def section_peer(quick):
    from peers import ams_numba

    T, N = 1 / 64, 1000
    R_esc, R_peer = (16, 4) if quick else (128, 16)
    ex = exact_p(T)
    ams_numba.warm_up()
    rows = []
    for threads in (1, 2):
        p, steps, wall = escapade_runs(T, N, R_esc * threads, threads, bridge=False)
        rows.append(summary(f"escapade bridge=False, {threads} thread(s)", p, steps, wall, ex["chain"]))
        p, steps, wall = escapade_runs(T, N, R_esc * threads, threads, bridge=True, seed=2)
        rows.append(summary(f"escapade bridge=True, {threads} thread(s)", p, steps, wall, ex["bridged_chain"]))
        out = ams_numba.run_ams(T, DT, X0, A, B, N, R_peer * threads, seed=3, parallel=threads > 1, threads=threads)
        rows.append(summary(f"numba AMS peer, {threads} thread(s)", out["p"], int(out["steps"].sum()), out["wall"],
                            ex["chain"]))
    # Relative variance pooled over every run of the chain (escapade bridge=False and the peer estimate the same
    # p): the peer's few runs give a noisy variance of their own, so its time to 1% is also given with the pooled one.
    print(f"\n### peer: T = 1/64, dt = {DT}, N = {N}, x0 = {X0}, A = (-inf, {A}], B = [{B}, inf)\n")
    print(f"exact p: SDE {ex['sde']:.5e}, chain (steps) {ex['chain']:.5e}, bridged chain {ex['bridged_chain']:.5e}\n")
    print("| implementation | runs | p | z vs exact | rel. var per run | wall per run (s) | ns per step | s to 1% |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['runs']} | {r['mean']:.4e} ± {r['se']:.1e} | {r['z']:+.2f} | {r['relvar']:.4f} | "
              f"{r['per_run']:.3f} | {r['ns_per_step']:.2f} | {r['to_1pct']:.1f} |")
    by = {r["name"]: r for r in rows}
    ratios = {}
    for threads in (1, 2):
        esc_r = by[f"escapade bridge=False, {threads} thread(s)"]
        peer = by[f"numba AMS peer, {threads} thread(s)"]
        ratios[threads] = dict(per_run=peer["per_run"] / esc_r["per_run"],
                               per_step=peer["ns_per_step"] / esc_r["ns_per_step"],
                               to_1pct_pooled=(peer["per_run"] / esc_r["per_run"]))
        print(f"\nthreads={threads}: peer / escapade wall per run {ratios[threads]['per_run']:.2f}x, per Euler step "
              f"{ratios[threads]['per_step']:.2f}x (same relative variance in law: the same algorithm on the same chain)")
    one, two = by["escapade bridge=False, 1 thread(s)"], by["escapade bridge=False, 2 thread(s)"]
    print(f"escapade two threads / one thread, per run: {one['per_run'] / two['per_run']:.2f}x")
    tams = pytams_seconds_per_step(T, N=10, iterations=20)
    if tams is not None:
        print(f"pyTAMS 1.0 (N = 10, 20 iterations, one worker; its cost is mostly per trajectory): "
              f"{tams * 1e9:.3g} ns per Euler step, {tams * 1e9 / one['ns_per_step']:.3g}x escapade's")
    return dict(exact=ex, rows=rows, ratios=ratios, pytams_s_per_step=tams)


def pytams_seconds_per_step(T, N, iterations, timeout=600):
    """pyTAMS's seconds per Euler step on a small setting (bench/peers/ams_pytams.py), in a child process with a
    timeout (one run in about 60 was seen never to return); None, with the reason printed, if it cannot run."""
    import subprocess

    code = ("import json, sys; sys.path.insert(0, %r); from peers.ams_pytams import run_pytams; "
            "print(json.dumps(run_pytams(%r, %r, %r, %r, %r, %d, %d)))" % (str(C.HERE), T, DT, X0, A, B, N, iterations))
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"pyTAMS: no result within {timeout} s")
        return None
    if out.returncode != 0:
        print(f"pyTAMS did not run ({out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode})")
        return None
    return float(json.loads(out.stdout.strip().splitlines()[-1])["s_per_step"])


def section_gain(quick):
    from scipy.optimize import brentq

    from escapade.analysis import langevin_splitting_probability_1d
    import escapade as esc

    targets = [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]
    N, R = (100, 8) if quick else (200, 32)
    rows = []
    for p_target in targets:
        T = brentq(lambda t: math.log(langevin_splitting_probability_1d(U, t, X0, A, B)) - math.log(p_target),
                   1 / 400, 1.0)
        land, dyn, a, b = problem(T)
        p, steps, wall = escapade_runs(T, N, R, 1, bridge=True, seed=5)
        mean = float(p.mean())
        var_run = float(p.var(ddof=1))
        # plain Monte Carlo: cost per path measured on paths of this T (most return to A quickly)
        mc = esc.simulate(land, dyn, x0=[X0], target=a, stop=~b, n_paths=20_000 if quick else 100_000,
                          max_steps=10**8, seed=6, threads=1, progress=False)
        t_path = mc.elapsed / mc.n_paths
        var_mc = mean * (1 - mean)
        gain = (var_mc * t_path) / (var_run * wall / R)
        rows.append(dict(T=T, p_exact=float(langevin_splitting_probability_1d(U, T, X0, A, B)), p=mean,
                         relvar=var_run / mean**2, wall_per_run=wall / R, mc_s_per_path=t_path,
                         mc_steps_per_path=mc.total_steps / mc.n_paths, gain=gain))
    print(f"\n### gain over plain Monte Carlo (N = {N}, {R} runs per row, one thread, bridge on)\n")
    print("| T | exact p | splitting p | rel. var per run | s per run | MC s per path | work-normalized gain |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| 1/{1 / r['T']:.1f} | {r['p_exact']:.3e} | {r['p']:.3e} | {r['relvar']:.4f} | {r['wall_per_run']:.4f} |"
              f" {r['mc_s_per_path']:.2e} | {r['gain']:.3g} |")
    return rows


def section_exit(quick):
    from escapade.analysis import langevin_mean_exit_time_1d
    import escapade as esc

    out = []
    # Sized from a pilot: a run's relative variance of p is about log(1/p)/N (0.018 at T = 1/64, 0.026 at 1/100 for
    # N = 1000) and a loop's time has a coefficient of variation of about 1.7.
    settings = [(1 / 64, 0.01, 1e-3, dict(n_replicas=1000, n_runs=1100, n_loops=300_000)),
                (1 / 64, 0.01, 2e-3, dict(n_replicas=1000, n_runs=1100, n_loops=300_000)),
                (1 / 100, 0.02, 1e-3, dict(n_replicas=1000, n_runs=380, n_loops=100_000))]
    if quick:
        settings = [(1 / 64, 0.05, DT, dict(n_replicas=100, n_runs=8, n_loops=5_000))]
    for T, rtol, dt, kw in settings:
        land, dyn, a, b = problem(T, dt)
        exact = float(langevin_mean_exit_time_1d(U, T, -1.0, -np.inf, 0.0, lower_boundary="reflecting"))
        t = time.perf_counter()
        # burn_in=0: in 1-D every loop enters A at its one boundary point, so the loops' law is settled at once.
        r = esc.rare_exit_time(land, dyn, x0=[-1.0], reactant=a, product=b, seed=7, threads=2, progress=False,
                               burn_in=0, **kw)
        wall = time.perf_counter() - t
        # plain Monte Carlo for the same accuracy: cost per step measured on this problem (a short run)
        mc = esc.simulate(land, dyn, x0=[-1.0], stop=~b, n_paths=2_000, max_steps=200_000, seed=8, threads=2,
                          progress=False)
        ns_step = mc.elapsed / mc.total_steps
        mc_seconds = (1.96 / rtol) ** 2 * exact / dt * ns_step
        out.append(dict(T=T, rtol=rtol, dt=dt, exact=exact, mean=r.mean, interval=r.interval,
                        rel_half_width=(r.interval[1] - r.interval[0]) / 2 / r.mean, wall=wall, sigma=r.sigma_level,
                        p=r.probability_term.value, mc_seconds=mc_seconds, settings=kw))
    print("\n### mean exit time from x0 = -1 (rare_exit_time, two threads, bridge on)\n")
    print("| T | dt | target | exact | estimate | error | 95% interval | half-width | wall (s) | plain MC for the same |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        lo, hi = r["interval"]
        print(f"| 1/{1 / r['T']:.0f} | {r['dt']:g} | {100 * r['rtol']:g}% | {r['exact']:.4e} | {r['mean']:.4e} | "
              f"{r['mean'] / r['exact'] - 1:+.2%} | [{lo:.4e}, {hi:.4e}] | {100 * r['rel_half_width']:.2f}% | "
              f"{r['wall']:.1f} | {r['mc_seconds']:.2e} s |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", default="peer,gain,exit")
    args = ap.parse_args()
    results = {"machine": C.machine_info()}
    for name in args.sections.split(","):
        results[name] = {"peer": section_peer, "gain": section_gain, "exit": section_exit}[name](args.quick)
    C.OUT.mkdir(exist_ok=True)
    (C.OUT / "splitting.json").write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
