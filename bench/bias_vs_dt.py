"""W1 mean exit time against dt, with and without the Brownian-bridge correction, and the time to an answer
within 1% of the exact value.

Part 1, bias against dt.  escapade runs W1 (1-D double well, T = 1/16, x0 = -1, exit at x >= 0) with
--paths paths for each dt in {0.05, 0.02, 0.01, 0.005, 0.002, 0.001}, once with bridge=False (discrete
monitoring: a path exits at the first step with x >= 0) and once with bridge=True (also exits between steps
with the Brownian-bridge crossing probability).  Both use the same seed, hence the same normals (the bridge's
uniforms are drawn either way).  With --full also dt = 1e-4 without the bridge (about 10x the cost of dt=1e-3;
--full-from reuses such a row from an earlier run).
bias = mean - exact, SE = sd / sqrt(n); the exact value comes from escapade.analysis (quadrature).

Part 2, time to a trustworthy answer: the wall time until |bias| + 2 SE < 1% of the exact value.  With the
bias b and standard deviation sd of the exit time at a given dt, N = (2 sd / (0.01 exact - |b|))^2 paths are
needed, and time = N x (measured wall time per path at that dt).  The conservative variant puts the bias at
its upper bound |b| + 2 SE(b) instead.  A dt qualifies only when its bias is
established below 1%: |b| + 2 SE(b) < 1% (otherwise N would rest on a bias that may exceed the target).

  * escapade with the bridge, at its best measured dt;
  * escapade without the bridge, at its best measured dt (usually none qualifies);
  * the best peer, numba prange with xoshiro256** + polar (discrete monitoring, the same estimator as
    escapade bridge=False): its wall time per path-step is measured in this run at dt = 1e-3 on --peer-paths
    paths (best of one measurement before and one after the dt sweep, next to escapade's on the same work)
    and scaled to the dt it needs (time per path = steps per path x time per path-step, steps per path =
    mean exit time / dt).  Its bias at dt is escapade bridge=False's at that dt: measured at dt = 1e-4 with
    --full, otherwise extrapolated from the measured points with bias = c sqrt(dt) (fit over dt <= 0.005).
    Also reported: the peer at the dt that minimizes its time on that curve (bias = 0.5% there).

    python bench/bias_vs_dt.py               # 2e5 paths per run, 2 threads
    python bench/bias_vs_dt.py --full        # adds dt = 1e-4 without the bridge (slow)
    python bench/bias_vs_dt.py --full-from bench/out/dt1e-4.json   # reuse an earlier dt = 1e-4 row
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

DTS = [0.05, 0.02, 0.01, 0.005, 0.002, 0.001]


def run_escapade(n, dt, threads, seed, bridge):
    r, wall = C.simulate_w1(n, dt, threads, seed, bridge)
    mean, se, sd, k = C.mean_se(r.exit_time)
    return dict(dt=dt, bridge=bridge, n_paths=n, n_exited=k, mean=mean, se=se, sd=sd, wall_s=wall,
                path_steps=r.total_steps, wall_per_path_s=wall / n, ns_per_step=wall / r.total_steps * 1e9)


def time_to_answer(bias, se_bias, sd, wall_per_path, exact, tol=0.01):
    """Whether dt qualifies (|bias| + 2 SE < tol * exact), the paths N and seconds needed with the point
    estimate |bias|, and the same with the bias at its upper bound |bias| + 2 SE (conservative)."""
    ok = bool(abs(bias) + 2 * se_bias < tol * exact)
    out = [ok]
    for b in (abs(bias), abs(bias) + 2 * se_bias):
        room = tol * exact - b
        n = (2 * sd / room) ** 2 if room > 0 else math.inf
        out += [n, n * wall_per_path]
    return tuple(out)


def measure_costs(n, th, seed, w1_numba):
    """Wall ns per path-step at dt = 1e-3 on n paths: the numba peer, escapade without and with the bridge."""
    out = {}
    t0 = time.perf_counter()
    et, steps = w1_numba.run_xoshiro(n, 1e-3, th, seed)
    wall = time.perf_counter() - t0
    m, se, _, _ = C.mean_se(et)
    out["peer"] = dict(wall_s=wall, path_steps=steps, ns_per_step=wall / steps * 1e9, mean=m, se=se)
    for key, bridge in (("escapade_nobridge", False), ("escapade_bridge", True)):
        r = run_escapade(n, 1e-3, th, seed, bridge)
        out[key] = dict(wall_s=r["wall_s"], path_steps=r["path_steps"], ns_per_step=r["ns_per_step"],
                        mean=r["mean"], se=r["se"])
    return out


def fit_sqrt(rows, exact, dt_max):
    """Weighted least squares of bias/exact = c sqrt(dt) over rows with dt <= dt_max: (c, se_c, dts)."""
    pts = [r for r in rows if r["dt"] <= dt_max * (1 + 1e-9)]
    x = np.array([math.sqrt(r["dt"]) for r in pts])
    y = np.array([(r["mean"] - exact) / exact for r in pts])
    w = np.array([1 / (r["se"] / exact) ** 2 for r in pts])
    c = float(np.sum(w * x * y) / np.sum(w * x * x))
    se_c = float(1 / math.sqrt(np.sum(w * x * x)))
    return c, se_c, [r["dt"] for r in pts]


def bgk_coefficient(exact):
    """Leading discrete-monitoring bias of W1, bias/exact ~ c sqrt(dt): the boundary x = 0 monitored every dt
    acts like one shifted outwards by beta sigma sqrt(dt), beta = -zeta(1/2)/sqrt(2 pi) = 0.5826
    (Broadie, Glasserman and Kou 1997), so c = beta sigma T'(0) / exact with T(b) the mean exit time to the
    level b; for dX = -U'(X) dt + sqrt(2T) dW, T'(b) = exp(U(b)/T) / T * int_{-inf}^b exp(-U(y)/T) dy."""
    from scipy.integrate import quad

    beta = 0.5825971579390106
    sigma = math.sqrt(2 * C.TEMPERATURE)
    integral = quad(lambda y: math.exp(-(y**4 / 4 - y**2 / 2) / C.TEMPERATURE), -np.inf, 0.0)[0]
    return beta * sigma * integral / C.TEMPERATURE / exact


def fit_sqrt_lin(rows, exact):
    """bias/exact = a sqrt(dt) + b dt over all rows (weighted): (a, b)."""
    x = np.array([[math.sqrt(r["dt"]), r["dt"]] for r in rows])
    y = np.array([(r["mean"] - exact) / exact for r in rows])
    w = np.sqrt(np.array([1 / (r["se"] / exact) ** 2 for r in rows]))
    coef, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
    return float(coef[0]), float(coef[1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=200_000, help="paths per escapade run (default 200000)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every run (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full", action="store_true", help="also dt = 1e-4 without the bridge (expensive)")
    ap.add_argument("--full-from", type=Path, default=None,
                    help="take the dt=1e-4 bridge=False row from an earlier run instead of measuring it: a JSON "
                         "file holding that row, or a bias.json written with --full")
    ap.add_argument("--dts", type=float, nargs="+", default=DTS, help="dt values (default %(default)s)")
    ap.add_argument("--peer-paths", type=int, default=10_000, help="paths for the numba timing at dt=1e-3")
    ap.add_argument("--json", type=Path, default=C.OUT / "bias.json")
    args = ap.parse_args(argv)

    machine = C.machine_info()
    exact = C.exact_mean()
    th, seed = args.threads, args.seed
    t_start = time.perf_counter()

    # per-path-step costs on equal work, measured before and after part 1 (best of the two): the machine may
    # be shared, and part 1 takes minutes
    from peers import w1_numba

    w1_numba.warmup()
    cost_runs = [measure_costs(args.peer_paths, th, seed, w1_numba)]

    # ---------------------------------------------------------------- part 1: bias against dt
    rows = []
    for dt in sorted(args.dts, reverse=True):
        for bridge in (False, True):
            r = run_escapade(args.paths, dt, th, seed, bridge)
            r["bias"] = r["mean"] - exact
            rows.append(r)
            print(f"# dt={dt:g} bridge={bridge}: mean {r['mean']:.4f} ± {r['se']:.4f}  {r['wall_s']:.2f} s",
                  file=sys.stderr, flush=True)
    if args.full_from is not None:
        saved = json.loads(args.full_from.read_text())
        cand = saved.get("rows", [saved]) if isinstance(saved, dict) else saved
        r = next(x for x in cand if abs(x["dt"] - 1e-4) < 1e-12 and not x["bridge"])
        r = {k: r[k] for k in ("dt", "bridge", "n_paths", "n_exited", "mean", "se", "sd", "wall_s", "path_steps",
                               "wall_per_path_s", "ns_per_step")}
        r["bias"] = r["mean"] - exact
        r["source"] = str(args.full_from)
        rows.append(r)
    elif args.full:
        r = run_escapade(args.paths, 1e-4, th, seed, False)
        r["bias"] = r["mean"] - exact
        rows.append(r)
        print(f"# dt=1e-4 bridge=False: mean {r['mean']:.4f} ± {r['se']:.4f}  {r['wall_s']:.2f} s",
              file=sys.stderr, flush=True)

    nob = sorted((r for r in rows if not r["bridge"]), key=lambda r: r["dt"])
    c, se_c, fit_dts = fit_sqrt([r for r in nob if r["dt"] >= 5e-4], exact, 0.005)
    a2, b2 = fit_sqrt_lin([r for r in nob if r["dt"] >= 5e-4], exact)
    c_theory = bgk_coefficient(exact)

    cost_runs.append(measure_costs(args.peer_paths, th, seed, w1_numba))
    costs = {k: min((c[k] for c in cost_runs), key=lambda r: r["ns_per_step"]) for k in cost_runs[0]}
    peer = costs["peer"]

    # ---------------------------------------------------------------- part 2: time to a trustworthy answer
    for r in rows:
        ok, n_req, t_req, n_c, t_c = time_to_answer(r["bias"], r["se"], r["sd"], r["wall_per_path_s"], exact)
        r.update(qualifies=ok, n_required=n_req, time_required_s=t_req, n_required_conservative=n_c,
                 time_required_conservative_s=t_c)
    best_bridge = min((r for r in rows if r["bridge"] and r["qualifies"]), key=lambda r: r["time_required_s"],
                      default=None)
    best_nobridge = min((r for r in rows if not r["bridge"] and r["qualifies"]),
                        key=lambda r: r["time_required_s"], default=None)

    sd_ref = next(r["sd"] for r in nob if abs(r["dt"] - 1e-3) < 1e-12) if any(
        abs(r["dt"] - 1e-3) < 1e-12 for r in nob) else nob[0]["sd"]

    def peer_at(dt, bias, se_bias, source, sd=sd_ref):
        steps_per_path = (exact + bias) / dt
        wpp = steps_per_path * peer["ns_per_step"] * 1e-9
        ok, n_req, t_req, n_c, t_c = time_to_answer(bias, se_bias, sd, wpp, exact)
        return dict(dt=dt, bias=bias, se_bias=se_bias, bias_source=source, steps_per_path=steps_per_path,
                    wall_per_path_s=wpp, qualifies=ok, n_required=n_req, time_required_s=t_req,
                    n_required_conservative=n_c, time_required_conservative_s=t_c)

    peer_rows = []
    m4 = next((r for r in nob if abs(r["dt"] - 1e-4) < 1e-12), None)
    if m4 is not None:
        peer_rows.append(peer_at(1e-4, m4["bias"], m4["se"], "measured (escapade bridge=False at dt=1e-4)", m4["sd"]))
    # extrapolation on bias = c sqrt(dt); the uncertainty of c is propagated
    peer_rows.append(peer_at(1e-4, c * math.sqrt(1e-4) * exact, se_c * math.sqrt(1e-4) * exact,
                             f"extrapolated, bias = c sqrt(dt) fitted over dt in {fit_dts}"))
    dt_opt = (0.01 / (2 * c)) ** 2 if c > 0 else 1e-4
    peer_rows.append(peer_at(dt_opt, c * math.sqrt(dt_opt) * exact, se_c * math.sqrt(dt_opt) * exact,
                             "extrapolated, at the dt minimizing the peer's time (bias = 0.5%)"))
    for r in nob:  # the measured dts, for completeness (these do not qualify when the bias is >= 1%)
        if r["dt"] >= 5e-4:
            peer_rows.append(peer_at(r["dt"], r["bias"], r["se"], "measured (escapade bridge=False)", r["sd"]))
    best_peer = min((p for p in peer_rows if p["qualifies"]), key=lambda p: p["time_required_s"], default=None)
    peer_1e4 = next((p for p in peer_rows if abs(p["dt"] - 1e-4) < 1e-12), None)

    headline = None
    if best_bridge and best_peer:
        # the same on an equal-cost basis: escapade's time per path at its dt re-derived from its cost per
        # path-step measured next to the peer's (removes the effect of load that changed during part 1)
        eb = best_bridge
        esc_wpp_eq = eb["path_steps"] / eb["n_paths"] * costs["escapade_bridge"]["ns_per_step"] * 1e-9
        best_peer_c = min((p for p in peer_rows if p["qualifies"]), key=lambda p: p["time_required_conservative_s"])
        best_bridge_c = min((r for r in rows if r["bridge"] and r["qualifies"]),
                            key=lambda r: r["time_required_conservative_s"])
        headline = dict(
            escapade_bridge_dt=eb["dt"], escapade_bridge_time_s=eb["time_required_s"],
            peer_dt=best_peer["dt"], peer_time_s=best_peer["time_required_s"],
            ratio=best_peer["time_required_s"] / eb["time_required_s"],
            ratio_peer_at_1e4=(peer_1e4["time_required_s"] / eb["time_required_s"]) if peer_1e4 else None,
            ratio_by_peer_row=[dict(dt=p["dt"], bias_source=p["bias_source"],
                                    ratio=p["time_required_s"] / eb["time_required_s"],
                                    ratio_conservative=p["time_required_conservative_s"]
                                    / best_bridge_c["time_required_conservative_s"])
                               for p in peer_rows if p["qualifies"]],
            escapade_bridge_time_equal_cost_s=eb["n_required"] * esc_wpp_eq,
            ratio_equal_cost=best_peer["time_required_s"] / (eb["n_required"] * esc_wpp_eq),
            conservative=dict(escapade_dt=best_bridge_c["dt"],
                              escapade_time_s=best_bridge_c["time_required_conservative_s"],
                              peer_dt=best_peer_c["dt"], peer_time_s=best_peer_c["time_required_conservative_s"],
                              ratio=best_peer_c["time_required_conservative_s"]
                              / best_bridge_c["time_required_conservative_s"]),
        )

    report = dict(
        workload=dict(name="W1", exact_mean=exact, n_paths=args.paths, threads=th, seed=seed, dts=args.dts,
                      full=args.full),
        machine=machine, rows=rows,
        fit=dict(c=c, se_c=se_c, dts=fit_dts, form="bias/exact = c sqrt(dt)", two_term=dict(a=a2, b=b2,
                 form="bias/exact = a sqrt(dt) + b dt"), c_theory=c_theory,
                 c_theory_note="0.5826 sigma T'(0) / exact: the discretely monitored boundary acts as one shifted "
                               "by 0.5826 sigma sqrt(dt) (Broadie-Glasserman-Kou), T(b) = mean exit time to level b"),
        peer=dict(name="numba prange, xoshiro256** + polar", measured_at_dt=1e-3, n_paths=args.peer_paths,
                  threads=th, cost_runs=cost_runs, best_costs=costs, best=peer, rows=peer_rows),
        best=dict(escapade_bridge=best_bridge, escapade_nobridge=best_nobridge, peer=best_peer),
        headline=headline, total_s=time.perf_counter() - t_start,
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_clean(report), indent=2))
    print(markdown(report))
    return report


def _clean(x):
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _t(s):
    if s is None or not math.isfinite(s):
        return "—"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    if s < 600:
        return f"{s:.3g} s"
    if s < 3 * 3600:
        return f"{s / 60:.3g} min"
    return f"{s / 3600:.3g} h"


def _n(x):
    return "—" if not math.isfinite(x) else f"{x:.3g}"


def markdown(rep) -> str:
    wl, ex = rep["workload"], rep["workload"]["exact_mean"]
    L = [f"W1 mean exit time vs dt: {wl['n_paths']} paths per run, {wl['threads']} threads, seed {wl['seed']}; "
         f"exact {ex:.4f}.", "",
         "| dt | bridge | mean | SE | bias % ± SE % | wall s | ns/path-step (wall) | qualifies | N for 1% | "
         "time for 1% | time, conservative |",
         "|---:|:---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|"]
    for r in sorted(rep["rows"], key=lambda r: (-r["dt"], r["bridge"])):
        L.append(f"| {r['dt']:g} | {'yes' if r['bridge'] else 'no'} | {r['mean']:.3f} | {r['se']:.3f} | "
                 f"{100 * r['bias'] / ex:+.2f} ± {100 * r['se'] / ex:.2f} | {r['wall_s']:.2f} | "
                 f"{r['ns_per_step']:.3f} | {'yes' if r['qualifies'] else 'no'} | {_n(r['n_required'])} | "
                 f"{_t(r['time_required_s'])} | {_t(r['time_required_conservative_s'])} |")
    f = rep["fit"]
    L += ["", f"Fit of the bridge=False bias: bias/exact = c sqrt(dt), c = {f['c']:.4f} ± {f['se_c']:.4f} "
          f"(dt in {f['dts']}); two-term fit a sqrt(dt) + b dt: a = {f['two_term']['a']:.4f}, "
          f"b = {f['two_term']['b']:.4f}. Leading-order theory (Broadie-Glasserman-Kou boundary shift): "
          f"c = {f['c_theory']:.4f}.", ""]
    p = rep["peer"]
    bc = p["best_costs"]
    L += [f"Costs on equal work (dt=1e-3, {p['n_paths']} paths, {p['threads']} threads, best of a measurement "
          f"before and after the dt sweep), wall ns per path-step: {p['name']} {bc['peer']['ns_per_step']:.3f} "
          f"(mean {bc['peer']['mean']:.2f} ± {bc['peer']['se']:.2f}); escapade bridge=False "
          f"{bc['escapade_nobridge']['ns_per_step']:.3f}; escapade bridge=True "
          f"{bc['escapade_bridge']['ns_per_step']:.3f}.", "",
          "| peer dt | bias % ± SE % | bias from | steps/path | qualifies | N for 1% | time for 1% | "
          "time, conservative |",
          "|---:|---:|---|---:|:---:|---:|---:|---:|"]
    for q in p["rows"]:
        L.append(f"| {q['dt']:.3g} | {100 * q['bias'] / ex:+.2f} ± {100 * q['se_bias'] / ex:.2f} | "
                 f"{q['bias_source']} | {q['steps_per_path']:.3g} | {'yes' if q['qualifies'] else 'no'} | "
                 f"{_n(q['n_required'])} | {_t(q['time_required_s'])} | "
                 f"{_t(q['time_required_conservative_s'])} |")
    b = rep["best"]
    L.append("")
    if b["escapade_bridge"]:
        r = b["escapade_bridge"]
        L.append(f"escapade, bridge: best dt {r['dt']:g}, N = {r['n_required']:.3g} paths, "
                 f"time {_t(r['time_required_s'])}.")
    else:
        L.append("escapade, bridge: no measured dt qualifies.")
    if b["escapade_nobridge"]:
        r = b["escapade_nobridge"]
        L.append(f"escapade, no bridge: best dt {r['dt']:g}, time {_t(r['time_required_s'])}.")
    else:
        L.append("escapade, no bridge: no measured dt qualifies (bias >= 1% - 2 SE at every measured dt).")
    if b["peer"]:
        L.append(f"best peer: dt {b['peer']['dt']:.3g} ({b['peer']['bias_source']}), "
                 f"time {_t(b['peer']['time_required_s'])}.")
    h = rep["headline"]
    if h:
        L.append(f"Ratio of wall times to a 1%-trustworthy answer, best peer / escapade with bridge: "
                 f"{h['ratio']:.3g}x" + (f" (peer at dt=1e-4: {h['ratio_peer_at_1e4']:.3g}x)."
                                         if h["ratio_peer_at_1e4"] else "."))
        L.append(f"Same with escapade's time per path taken from its cost per path-step measured next to the "
                 f"peer's: escapade {_t(h['escapade_bridge_time_equal_cost_s'])}, ratio {h['ratio_equal_cost']:.3g}x.")
        for q in h["ratio_by_peer_row"]:
            L.append(f"  peer at dt {q['dt']:.3g} ({q['bias_source']}): ratio {q['ratio']:.3g}x, "
                     f"conservative {q['ratio_conservative']:.3g}x")
        cc = h["conservative"]
        L.append(f"Conservative (bias taken at |bias| + 2 SE): escapade dt {cc['escapade_dt']:g} "
                 f"{_t(cc['escapade_time_s'])}, peer dt {cc['peer_dt']:.3g} {_t(cc['peer_time_s'])}, "
                 f"ratio {cc['ratio']:.3g}x.")
    L.append(f"Total run time {rep['total_s']:.0f} s.")
    return "\n".join(L)


if __name__ == "__main__":
    main()
