"""Which reading of 000's unstated choices reproduces its Tables I and II? A bounded search.

All 20 percentages of 000's Tables I-II are whole counts out of 289 (a 17 x 17 grid of starts), but the paper
leaves Ackley's frequency c, alpha, the grid, the integrator, the exact success rule and the forcing's phase
unstated. This script runs every setting of the family below on the 20 (A, omega) rows and ranks the settings by
the distance of their 20 counts to the paper's (experiments.constrained_ackley.distance: the sum of |count
differences|, then chi2 in units of the binomial variance at the paper's rate).

Family (experiments.constrained_ackley.Setting):
  c        2 pi x {0.90, 0.95, 1.00, 1.05, 1.10}
  alpha    {0.5, 1, 2, 5}
  extent   the 17 x 17 grid on [-4, 4]^2 (corners included; the reproduction's), the centres of the 17 x 17
           cells of [-4, 4]^2, the grid on [-5, 5]^2, and on [0, 8] x [-4, 4] (x1 along the parabola's axis)
  phase    phi in w = A [cos(omega t + phi), sin(omega t + phi)], phi in {0, pi/2, pi, 3 pi/2} (with the symmetry
           x2 -> -x2 of f, g and the grids this also covers A [sin, cos] and the clockwise forcings)
  rule     success = entering the unit ball at any t <= 20 (every setting above), or being inside it at t = 20
           (every setting with c in 2 pi x {0.95, 1.00, 1.05}: this rule runs every path to t = 20, where the
           other stops most paths early, and costs about four times as much)
  = 320 + 192 = 512 settings x 20 rows x 289 starts, integrated with RK4 (dt = 0.01; one sweep per table, phase
  and rule over c x alpha x the row's parameter, the four grids as one set of 1,156 starts).
Then the best `--top` settings are rerun with DP5(4) at the reproduction's tolerances (rtol 1e-6, atol 1e-9) and
at the library defaults (rtol 1e-3, atol 1e-6) to see whether the integrator moves any count, and the grid-noise
check: the best setting on `--shifts` copies of its grid shifted by uniform sub-spacing offsets, the spread of
each row's count over the shifts is how much a count out of 289 moves with where the grid happens to fall.

    python bench/ackley_model_search.py [--threads 2] [--top 10] [--shifts 16] [--quick] [--json FILE]
    python bench/ackley_model_search.py --around-best [--wide | --refine] [--threads 2]

With --around-best, only the sub-family beyond the best setting's corner of the family (c = 0.9 x 2 pi and
alpha = 0.5 are both the lowest values searched): c / (2 pi) in AROUND_C, alpha in AROUND_ALPHA, with the best
setting's grid, phase and rule (RK4, then DP5(4) at the reproduction's tolerances for the closest few); with
--wide also every phase and both grids on [-4, 4]^2 (corners and cell centres); --refine: REFINE_C x
REFINE_ALPHA around the closest setting --wide finds (c = 2 pi, alpha = 0.125, phase 0; c = 2 pi is the end of
AROUND_C). They write bench/out/ackley_model_search_around[_wide|_refine].json.

Prints the ranked settings, the best one's counts row by row against the paper's, and writes
bench/out/ackley_model_search.json.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

C_FACTORS = (0.90, 0.95, 1.00, 1.05, 1.10)
C_FACTORS_AT_20 = (0.95, 1.00, 1.05)  # the rule "at t = 20" (every path runs to t = 20)
ALPHAS = (0.5, 1.0, 2.0, 5.0)
PHASES = (0.0, math.pi / 2, math.pi, 3 * math.pi / 2)
# The sub-family beyond the corner where the search's best setting sits (--around-best).
AROUND_C = (0.80, 0.825, 0.85, 0.875, 0.90, 0.925, 0.95, 0.975, 1.0)
AROUND_ALPHA = (0.0625, 0.09375, 0.125, 0.1875, 0.25, 0.375, 0.5, 0.75, 1.0)
# --refine: around the closest setting of --wide (c = 2 pi, alpha = 0.125, [-4, 4]^2, phase 0), on both sides.
REFINE_C = (0.95, 0.975, 1.0, 1.025, 1.05, 1.075, 1.1)
REFINE_ALPHA = (0.09375, 0.109375, 0.125, 0.140625, 0.15625, 0.1875)


def search(c_factors, alphas, phases, extents, rules, threads):
    """{(c, alpha, extent, phase, rule): 20 counts} over the whole family, RK4 dt = 0.01; c_factors maps each
    rule to its values of c / (2 pi)."""
    import escapade as esc
    from escapade.experiments import constrained_ackley as ca

    starts = np.vstack([ca.extent_grid(e) for e in extents])
    out: dict[tuple, np.ndarray] = {}
    t0 = time.perf_counter()
    for rule, phase in itertools.product(rules, phases):
        cs = [f * 2 * math.pi for f in c_factors[rule]]
        setting = ca.Setting(phase=phase, rule=rule, method="rk4")
        kw = dict(x0=starts, t_max=ca.T_SUCCESS, seed=0, threads=threads)
        if rule == "by t = 20":
            kw["target"] = esc.Ball([0.0, 0.0], 1.0)
        counts = np.zeros((len(cs), len(alphas), len(extents), 20), dtype=int)
        for t, (rows, key) in enumerate(((ca.TABLE_I, "dynamics.forcing.omega"),
                                         (ca.TABLE_II, "dynamics.forcing.amplitude"))):
            values = [r[1] if key.endswith("omega") else r[0] for r in rows]
            res = esc.sweep(esc.Ackley(c=cs[0]), setting.flow(rows[0][0], rows[0][1]),
                            grid={"landscape.c": cs, "dynamics.alpha": list(alphas), key: values}, **kw)
            for n, r in enumerate(res):  # cartesian product in key order: c, alpha, row
                i, rest = divmod(n, len(alphas) * len(values))
                j, k = divmod(rest, len(values))
                ok = ca.successes(setting, r).reshape(len(extents), 289)
                counts[i, j, :, 10 * t + k] = ok.sum(axis=1)
        for (i, c), (j, a), (e, ext) in itertools.product(enumerate(cs), enumerate(alphas), enumerate(extents)):
            out[(c, a, ext, phase, rule)] = counts[i, j, e]
        print(f"  rule {rule!r}, phase {phase:.4f}: done at {time.perf_counter() - t0:.0f} s", file=sys.stderr,
              flush=True)
    return out


def shifted_counts(setting, shifts, threads, seed=0):
    """The setting's 20 counts on `shifts` copies of its grid moved by uniform offsets within one spacing."""
    import escapade as esc
    from escapade.experiments import constrained_ackley as ca

    base = ca.extent_grid(setting.extent)
    h = np.array([np.ptp(base[:, 0]), np.ptp(base[:, 1])]) / 16
    offsets = np.random.default_rng(seed).uniform(-0.5, 0.5, size=(shifts, 2)) * h
    starts = np.vstack([base + o for o in offsets])
    f = esc.Ackley(c=setting.c)
    kw = dict(x0=starts, t_max=ca.T_SUCCESS, seed=0, threads=threads)
    if setting.rule == "by t = 20":
        kw["target"] = esc.Ball([0.0, 0.0], 1.0)
    out = np.zeros((shifts, 20), dtype=int)
    for t, (rows, key) in enumerate(((ca.TABLE_I, "dynamics.forcing.omega"),
                                     (ca.TABLE_II, "dynamics.forcing.amplitude"))):
        values = [r[1] if key.endswith("omega") else r[0] for r in rows]
        res = esc.sweep(f, setting.flow(rows[0][0], rows[0][1]), grid={key: values}, **kw)
        for k, r in enumerate(res):
            out[:, 10 * t + k] = ca.successes(setting, r).reshape(shifts, 289).sum(axis=1)
    return offsets, out


def around_best(threads, top=5, json_path=None, mode="corner"):
    """mode "corner": the sub-family AROUND_C x AROUND_ALPHA with the grid, phase and rule of the search's best
    setting (c = 0.9 x 2 pi, alpha = 0.5, [-4, 4]^2, phase 3 pi / 2, by t = 20): does the fit close in on the
    paper beyond the family's corner? "wide": the same c and alpha with every phase of PHASES and both grids on
    [-4, 4]^2 (corners, cell centres). "refine": REFINE_C x REFINE_ALPHA on [-4, 4]^2 with phase 0, around the
    closest setting of "wide" (whose c = 2 pi is the end of AROUND_C)."""
    from escapade.experiments import constrained_ackley as ca

    rule = "by t = 20"
    c_factors, alphas = (REFINE_C, REFINE_ALPHA) if mode == "refine" else (AROUND_C, AROUND_ALPHA)
    extents = ["[-4,4]^2", "[-4,4]^2 cell centres"] if mode == "wide" else ["[-4,4]^2"]
    phases = {"corner": (3 * math.pi / 2,), "wide": PHASES, "refine": (0.0,)}[mode]
    size = len(c_factors) * len(alphas) * len(extents) * len(phases)
    print(f"sub-family: c / 2pi in {c_factors}, alpha in {alphas}, grids {extents}, phases "
          f"{[round(p / math.pi, 3) for p in phases]} pi, {rule}: {size} settings (RK4, dt = 0.01), threads "
          f"{threads}", file=sys.stderr)
    t0 = time.perf_counter()
    counts = search({rule: c_factors}, alphas, phases, extents, [rule], threads)
    t_search = time.perf_counter() - t0
    ranked = sorted(((ca.distance(k), key, k) for key, k in counts.items()),
                    key=lambda r: (r[0]["l1"], r[0]["chi2"]))
    t1 = time.perf_counter()
    rerun = []
    for dist, key, k in ranked[:top]:
        c, a, extent, phase, _ = key
        km, _ = ca.table_counts(ca.Setting(c=c, alpha=a, extent=extent, phase=phase, rule=rule), threads=threads)
        rerun.append({"c_over_2pi": round(c / (2 * math.pi), 6), "alpha": a, "extent": extent, "phase": phase,
                      "rk4": {"counts": k.tolist(), **dist}, "dp54": {"counts": km.tolist(), **ca.distance(km)}})
    t_top = time.perf_counter() - t1
    print(f"\nsub-family search {t_search:.0f} s, DP5(4) reruns of the {top} closest {t_top:.0f} s")
    for extent, phase in itertools.product(extents, phases):
        print(f"\nsum|d| / chi2 (RK4, dt = 0.01), grid {extent}, phase {phase / math.pi:g} pi; rows c / 2pi, "
              "columns alpha")
        print("c/2pi  " + "".join(f"{a:>14g}" for a in alphas))
        for fc in c_factors:
            c = fc * 2 * math.pi
            cells = [ca.distance(counts[(c, a, extent, phase, rule)]) for a in alphas]
            print(f"{fc:<6g} " + "".join(f"{d['l1']:>8.0f} /{d['chi2']:>5.1f}" for d in cells))
    low = min(ranked, key=lambda r: r[0]["chi2"])
    c, a, extent, phase, _ = low[1]
    print(f"\nsmallest chi2 of the sub-family: {low[0]['chi2']:.1f} (sum|d| {low[0]['l1']:.0f}) at "
          f"{label(ca.Setting(c=c, alpha=a, extent=extent, phase=phase, rule=rule, method='rk4'))}")
    print("\nthe closest, rerun with DP5(4) (rtol 1e-6): sum|d| / max|d| / chi2 / rows beyond 2 SD")
    for r in rerun:
        print(f"  c = {r['c_over_2pi']:g}*2pi, alpha = {r['alpha']:g}, {r['extent']}, phase "
              f"{r['phase'] / math.pi:g} pi: rk4 {r['rk4']['l1']:.0f} / {r['rk4']['max']:.0f} / "
              f"{r['rk4']['chi2']:.1f}; dp54 {r['dp54']['l1']:.0f} / {r['dp54']['max']:.0f} / "
              f"{r['dp54']['chi2']:.1f} / {r['dp54']['beyond_2sd']}")
    doc = {"sub_family": {"c_over_2pi": list(c_factors), "alpha": list(alphas), "extent": extents,
                          "phase": list(phases), "rule": rule, "size": size, "search_integrator": "rk4, dt = 0.01"},
           "seconds": {"search": t_search, "rerun": t_top},
           "ranked": [{"c_over_2pi": round(key[0] / (2 * math.pi), 6), "alpha": key[1], "extent": key[2],
                       "phase": key[3], "counts": k.tolist(), **d} for d, key, k in ranked],
           "rerun_dp54": rerun}
    name = "ackley_model_search_around.json" if mode == "corner" else f"ackley_model_search_around_{mode}.json"
    path = Path(json_path or HERE / "out" / name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


def label(s) -> str:
    return (f"c = {s.c / (2 * math.pi):.2f}*2pi, alpha = {s.alpha:g}, {s.extent}, phase = {s.phase / math.pi:g} pi, "
            f"{s.rule}, {s.method}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=10, help="settings rerun with DP5(4)")
    ap.add_argument("--shifts", type=int, default=16, help="shifted grids for the noise check")
    ap.add_argument("--quick", action="store_true", help="a small family (c = 2 pi, alpha 1 and 2, phase 0)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--around-best", action="store_true",
                    help="only the sub-family beyond the best setting's corner (AROUND_C x AROUND_ALPHA)")
    ap.add_argument("--wide", action="store_true",
                    help="with --around-best: every phase and both grids on [-4, 4]^2, not only the best's")
    ap.add_argument("--refine", action="store_true",
                    help="with --around-best: REFINE_C x REFINE_ALPHA around the closest setting of --wide")
    args = ap.parse_args(argv)
    if args.around_best:
        mode = "refine" if args.refine else "wide" if args.wide else "corner"
        return around_best(args.threads, json_path=args.json, mode=mode)
    args.json = args.json or str(HERE / "out" / "ackley_model_search.json")

    from escapade.experiments import constrained_ackley as ca

    extents, rules = list(ca.EXTENTS), list(ca.RULES)
    if args.quick:
        c_factors, alphas, phases = {r: (1.0,) for r in rules}, (1.0, 2.0), (0.0,)
    else:
        c_factors, alphas, phases = {rules[0]: C_FACTORS, rules[1]: C_FACTORS_AT_20}, ALPHAS, PHASES
    size = sum(len(c_factors[r]) for r in rules) * len(alphas) * len(phases) * len(extents)
    print(f"family: {size} settings x 20 rows x 289 starts (RK4, dt = 0.01), threads {args.threads}",
          file=sys.stderr)

    t0 = time.perf_counter()
    counts = search(c_factors, alphas, phases, extents, rules, args.threads)
    t_search = time.perf_counter() - t0
    ranked = sorted(((ca.distance(k), key, k) for key, k in counts.items()),
                    key=lambda r: (r[0]["l1"], r[0]["chi2"]))

    def setting_of(key, method="rk4"):
        c, a, ext, phase, rule = key
        return ca.Setting(c=c, alpha=a, extent=ext, phase=phase, rule=rule, method=method)

    # The best settings again with DP5(4), tight and loose, through the reproduction's own function.
    t1 = time.perf_counter()
    top = []
    for dist, key, k in ranked[:args.top]:
        row = {"setting": setting_of(key).to_dict(), "rk4": {"counts": k.tolist(), **dist}}
        for method in ("dp54", "dp54-loose"):
            km, _ = ca.table_counts(setting_of(key, method), threads=args.threads)
            row[method] = {"counts": km.tolist(), **ca.distance(km)}
        top.append(row)
    t_top = time.perf_counter() - t1
    methods = ("dp54", "rk4", "dp54-loose")  # on a tie, the reproduction's own integrator
    best_row = min(top, key=lambda r: min((r[m]["l1"], r[m]["chi2"]) for m in methods))
    best_method = min(methods, key=lambda m: (best_row[m]["l1"], best_row[m]["chi2"]))
    best = ca.Setting(**{**best_row["setting"], "method": best_method})
    best_counts = np.array(best_row[best_method]["counts"])

    # Beyond the family's edge: if the best c or alpha is an end of its range, one step further (c / (2 pi) -+
    # 0.05, alpha / 2 or x 2) with the best setting's other choices, to see whether the fit keeps improving outside.
    t_edge = time.perf_counter()
    edge = []
    f_best = round(best.c / (2 * math.pi), 6)
    c_steps = [best.c] + ([round(f_best - 0.05, 6) * 2 * math.pi] if f_best == min(c_factors[best.rule]) else []) \
        + ([round(f_best + 0.05, 6) * 2 * math.pi] if f_best == max(c_factors[best.rule]) else [])
    a_steps = [best.alpha] + ([best.alpha / 2] if best.alpha == min(alphas) else []) + \
        ([best.alpha * 2] if best.alpha == max(alphas) else [])
    for c, a in itertools.product(c_steps, a_steps):
        if (c, a) != (best.c, best.alpha):
            s = ca.Setting(**{**best.to_dict(), "c": c, "alpha": a})
            k, _ = ca.table_counts(s, threads=args.threads)
            edge.append({"setting": s.to_dict(), "counts": k.tolist(), **ca.distance(k)})
    t_edge = time.perf_counter() - t_edge

    t2 = time.perf_counter()
    offsets, shifted = shifted_counts(best, args.shifts, args.threads)
    t_shift = time.perf_counter() - t2
    sd = shifted.std(axis=0, ddof=1)
    paper = ca.PAPER_COUNTS
    binom_sd = np.sqrt(289 * (paper / 289) * (1 - paper / 289))
    current, _ = ca.table_counts(ca.CURRENT, threads=args.threads)

    print(f"\nsearch: {t_search:.0f} s; DP5(4) reruns of the top {args.top}: {t_top:.0f} s; "
          f"{args.shifts} shifted grids: {t_shift:.0f} s")
    print(f"\nthe {min(15, len(ranked))} closest settings (RK4, dt = 0.01), of {len(ranked)}:")
    print("rank  sum|d|  max|d|   chi2  setting")
    for n, (dist, key, _) in enumerate(ranked[:15], 1):
        print(f"{n:4d}  {dist['l1']:6.0f}  {dist['max']:6.0f}  {dist['chi2']:5.1f}  {label(setting_of(key))}")
    print("\nthe top settings under each integrator (sum|d| / max|d| / chi2):")
    for r in top:
        print("  " + label(ca.Setting(**r["setting"])).rsplit(", ", 1)[0] + ": " +
              "; ".join(f"{m} {r[m]['l1']:.0f} / {r[m]['max']:.0f} / {r[m]['chi2']:.1f}"
                        for m in ("rk4", "dp54", "dp54-loose")))
    dc = ca.distance(current)
    db = ca.distance(best_counts)
    current_rk4 = ca.Setting(**{**ca.CURRENT.to_dict(), "method": "rk4"})
    rank = 1 + [setting_of(key) == current_rk4 for _, key, _ in ranked].index(True)
    print(f"\ncurrent setting ({label(ca.CURRENT)}): sum|d| {dc['l1']:.0f}, max {dc['max']:.0f}, "
          f"chi2 {dc['chi2']:.1f}; its rank in the RK4 search: {rank} of {len(ranked)}")
    print(f"best setting ({label(best)}): sum|d| {db['l1']:.0f}, max {db['max']:.0f}, chi2 {db['chi2']:.1f}")
    for e in edge:
        print(f"  beyond the family's edge ({t_edge:.0f} s): {label(ca.Setting(**e['setting']))}: sum|d| "
              f"{e['l1']:.0f}, max {e['max']:.0f}, chi2 {e['chi2']:.1f}")
    for i, name in ((4, "rule"), (2, "grid"), (3, "phase"), (1, "alpha"), (0, "c")):
        best_by = {}
        for dist, key, _ in ranked:  # ranked: the first of each value is its best
            best_by.setdefault(key[i], dist)
        print(f"best sum|d| (max, chi2) by {name}: " + "; ".join(
            f"{(f'{v / math.pi:g} pi' if name == 'phase' else f'{v / (2 * math.pi):.2f}*2pi' if name == 'c' else v)}"
            f" {d['l1']:.0f} ({d['max']:.0f}, {d['chi2']:.0f})" for v, d in best_by.items()))
    every = np.array(list(counts.values()))
    lo, hi = every.min(axis=0), every.max(axis=0)
    print(f"rows whose paper count lies outside the range of the family's {len(every)} settings (RK4): "
          f"{[i for i in range(20) if not lo[i] <= paper[i] <= hi[i]]} (0-based, Table I then II)")
    print("\n  A        omega     paper  current  best  best-paper  binom SD  grid-shift SD  family min-max")
    rows = ca.TABLE_I + ca.TABLE_II
    for i, (amp, omega, _) in enumerate(rows):
        print(f"  {amp:<8g} {omega:<8g} {paper[i]:6d} {current[i]:8d} {best_counts[i]:5d} "
              f"{best_counts[i] - paper[i]:+11d} {binom_sd[i]:9.1f} {sd[i]:14.1f}  {lo[i]:6d}-{hi[i]:d}")
    z_shift = (best_counts - paper) / np.maximum(sd, 0.5)
    print(f"\nbest: sum of squared residuals / grid-shift variance = {np.sum(z_shift**2):.1f} over 20 rows; "
          f"rows beyond 2 binomial SD: {int(np.sum(np.abs(best_counts - paper) > 2 * binom_sd))}, "
          f"beyond 2 grid-shift SD: {int(np.sum(np.abs(z_shift) > 2))}")

    doc = {
        "family": {"c_over_2pi": {r: list(v) for r, v in c_factors.items()}, "alpha": list(alphas),
                   "phase": list(phases), "extent": extents, "rule": rules, "size": size,
                   "search_integrator": "rk4, dt = 0.01"},
        "paper_counts": paper.tolist(),
        "seconds": {"search": t_search, "top": t_top, "edge": t_edge, "shifts": t_shift},
        "family_range": {"min": lo.tolist(), "max": hi.tolist()},
        "edge": edge,
        "ranked": [{"setting": setting_of(key).to_dict(), "counts": k.tolist(), **dist}
                   for dist, key, k in ranked],
        "top_integrators": top,
        "current": {"setting": ca.CURRENT.to_dict(), "counts": current.tolist(), **dc},
        "best": {"setting": best.to_dict(), "counts": best_counts.tolist(), **db},
        "grid_shift": {"offsets": offsets.tolist(), "counts": shifted.tolist(), "sd": sd.tolist()},
        "binomial_sd": binom_sd.tolist(),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
