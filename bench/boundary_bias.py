"""Bias of the mean exit time near curved and non-smooth boundaries, against dt, with and without the
Brownian-bridge test.

Every case is Brownian motion (a `Quadratic` with a zero matrix, so no drift) with an exact mean exit time, its
noise scaled so that the mean is 1; escapade runs it for each dt of the ladder 0.1 ... 1e-4, once with the bridge
test (exits located inside the step) and once without it (discrete monitoring, for reference). Cases:

  ball-d{2,3,10}-r{0,0.5,0.9}  `Langevin(temperature=T)` leaving the unit `Ball` from x0 = (r, 0, ...):
                                exact mean (1 - r^2) / (2 d T), so T = (1 - r^2) / (2 d).
  box-corner                   the unit square `Box` from x0 = (0.1, 0.1), next to a corner: the exact mean solves
                                T Laplacian u = -1, u = 0 on the boundary; u = x (1 - x) / (2 T) minus the harmonic
                                single sine series sum_{m odd} 4 / (T m^3 pi^3) sin(m pi x) cosh(m pi (y - 1/2)) /
                                cosh(m pi / 2) (exponentially convergent; checked against the double sine series).
  ellipse-iso                  the ellipse {x : x^T A x < 1}, A = (B B^T)^-1 with B = [[1, 0], [0.6, 0.5]],
                                isotropic `Langevin(temperature=T)` from x0 = B (0.5, 0): u = (1 - x^T A x) /
                                (2 T tr A) (T Laplacian u = -2 T tr A / (2 T tr A) = -1).
  ellipse-B-r{0,0.5,0.9}       the same ellipse with the noise of `Langevin(eps, S=B)`, dX = eps B dW: y = B^-1 X is a
                                Brownian motion with covariance eps^2 I and leaves the unit disk, so the mean from
                                x0 = B (r, 0) is (1 - r^2) / (d eps^2) (at the centre 1 / (d eps^2)).
  ellipsoid3-B-r0.5            the same in 3-D, B = [[1, 0, 0], [0.6, 0.5, 0], [-0.3, 0.4, 0.7]], x0 = B (0.5, 0, 0).

Paths: a pilot of --pilot paths at dt = 0.02 (bridge on) gives the exit time's coefficient of variation cv; each
case then runs n = (cv / --target-se)^2 paths (at most --max-paths), fewer where a row would exceed --row-steps
path-steps (the dt = 1e-4 rows, and 1e-3 for the high-variance cases): every row's n is in the table. The runs
without the bridge use --off-fraction of the paths (their bias is tens of times the SE anyway). Seed: --seed plus
the case's index, the same for every dt and for both bridge settings.

Fit: the relative bias with the bridge against dt, b(dt) = c1 dt + c2 dt^(3/2), weighted least squares (weights
1 / SE^2) over the whole ladder; c1 is the O(dt) constant (bias per unit dt, relative to a mean of 1).

    python bench/boundary_bias.py                       # the full ladder, every case (~25-40 min on 2 cores)
    python bench/boundary_bias.py --cases ellipse       # the cases whose name contains "ellipse"
    python bench/boundary_bias.py --dts 0.05 0.01 --max-paths 100000 --no-off   # quick
    python bench/boundary_bias.py --out bench/out/boundary_bias_before.json     # another build, kept apart
    python bench/boundary_bias.py --docs bench/out/boundary_bias.json bench/out/boundary_bias_before.json

Output: markdown on stdout (one table per case, then the fits), everything in bench/out/boundary_bias.json.
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

LADDER = [0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 1e-4]
SHEAR2 = np.array([[1.0, 0.0], [0.6, 0.5]])
SHEAR3 = np.array([[1.0, 0.0, 0.0], [0.6, 0.5, 0.0], [-0.3, 0.4, 0.7]])


def box_mean_exit_time(x: float, y: float, temperature: float, terms: int = 4001) -> float:
    """Mean exit time of Brownian motion (T Laplacian u = -1) from the unit square, by the single sine series."""
    m = np.arange(1, terms + 1, 2, dtype=float)
    # cosh(m pi (y - 1/2)) / cosh(m pi / 2), written with exponentials that cannot overflow
    ratio = (np.exp(-m * np.pi * y) + np.exp(-m * np.pi * (1 - y))) / (1 + np.exp(-m * np.pi))
    series = np.sum(4 / (m**3 * np.pi**3) * np.sin(m * np.pi * x) * ratio)
    return float((x * (1 - x) / 2 - series) / temperature)


def box_mean_exit_time_double(x: float, y: float, temperature: float, terms: int = 2001) -> float:
    """The same by the double sine series sum_{m,n odd} 16 sin(m pi x) sin(n pi y) / (pi^4 m n (m^2 + n^2) T)."""
    m = np.arange(1, terms + 1, 2, dtype=float)
    sx = np.sin(m * np.pi * x) / m
    sy = np.sin(m * np.pi * y) / m
    return float(np.sum(np.outer(sx, sy) / (m[:, None] ** 2 + m[None, :] ** 2)) * 16 / np.pi**4 / temperature)


def cases():
    """name -> (landscape, dynamics factory dt -> Langevin, x0, stop, exact mean, description)."""
    import escapade as esc

    out = {}
    for d in (2, 3, 10):
        for r in (0.0, 0.5, 0.9):
            T = (1 - r * r) / (2 * d)
            x0 = np.zeros(d)
            x0[0] = r
            out[f"ball-d{d}-r{r:g}"] = (
                esc.Quadratic(np.zeros((d, d))), lambda dt, T=T: esc.Langevin(temperature=T, dt=dt), x0,
                esc.Ball(np.zeros(d), 1.0), 1.0, f"Ball d={d}, x0=({r:g}, 0, ...), T={T:.6g}")
    T = box_mean_exit_time(0.1, 0.1, 1.0)  # the mean at T = 1, so that it is 1 at this T
    out["box-corner"] = (
        esc.Quadratic(np.zeros((2, 2))), lambda dt, T=T: esc.Langevin(temperature=T, dt=dt), np.array([0.1, 0.1]),
        esc.Box([0.0, 0.0], [1.0, 1.0]), box_mean_exit_time(0.1, 0.1, T), f"unit square, x0=(0.1, 0.1), T={T:.6g}")
    A = np.linalg.inv(SHEAR2 @ SHEAR2.T)
    x0 = SHEAR2 @ np.array([0.5, 0.0])
    T = (1 - x0 @ A @ x0) / (2 * np.trace(A))
    out["ellipse-iso"] = (
        esc.Quadratic(np.zeros((2, 2))), lambda dt, T=T: esc.Langevin(temperature=T, dt=dt), x0,
        esc.Ellipsoid(np.zeros(2), A), (1 - x0 @ A @ x0) / (2 * T * np.trace(A)),
        f"ellipse (B B^T)^-1, isotropic, x0=B(0.5,0), T={T:.6g}")
    for B, tag, radii in ((SHEAR2, "ellipse-B", (0.0, 0.5, 0.9)), (SHEAR3, "ellipsoid3-B", (0.5,))):
        d = B.shape[0]
        A = np.linalg.inv(B @ B.T)
        A = (A + A.T) / 2
        for r in radii:
            y0 = np.zeros(d)
            y0[0] = r
            eps = math.sqrt((1 - r * r) / d)
            out[f"{tag}-r{r:g}"] = (
                esc.Quadratic(np.zeros((d, d))), lambda dt, eps=eps, B=B: esc.Langevin(eps=eps, S=B, dt=dt), B @ y0,
                esc.Ellipsoid(np.zeros(d), A), (1 - r * r) / (d * eps * eps),
                f"ellipsoid (B B^T)^-1, d={d}, dX = eps B dW, x0=B({r:g},0..), eps={eps:.6g}")
    return out


def run_row(case, dt, n, seed, bridge, threads):
    import escapade as esc

    landscape, dyn, x0, stop, exact, _ = case
    t0 = time.perf_counter()
    r = esc.simulate(landscape, dyn(dt), x0=x0, stop=stop, n_paths=n, t_max=200.0, seed=seed, threads=threads,
                     bridge=bridge, progress=False)
    wall = time.perf_counter() - t0
    mean, se, sd, k = C.mean_se(r.exit_time)
    return dict(dt=dt, bridge=bridge, n_paths=n, n_exited=k, mean=mean, se=se, sd=sd, exact=exact,
                bias=mean / exact - 1, bias_se=se / exact, wall_s=wall, path_steps=int(r.total_steps))


def fit(rows):
    """Weighted least squares of the relative bias on (dt, dt^1.5): c1, c2, their SEs and chi^2 / dof."""
    dt = np.array([r["dt"] for r in rows])
    b = np.array([r["bias"] for r in rows])
    s = np.array([r["bias_se"] for r in rows])
    X = np.column_stack([dt, dt**1.5]) / s[:, None]
    y = b / s
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    cov = np.linalg.inv(X.T @ X)
    dof = max(len(rows) - 2, 1)
    chi2 = float(np.sum((X @ coef - y) ** 2))
    # the one-term fit b(dt) = c dt
    x1 = dt / s
    c = float(x1 @ y / (x1 @ x1))
    return dict(c1=float(coef[0]), c1_se=float(math.sqrt(cov[0, 0])), c2=float(coef[1]),
                c2_se=float(math.sqrt(cov[1, 1])), chi2_dof=chi2 / dof, c=c, c_se=float(1 / math.sqrt(x1 @ x1)),
                c_chi2_dof=float(np.sum((x1 * c - y) ** 2)) / max(len(rows) - 1, 1))


def pct(b, s):
    return f"{100 * b:+.3f} ± {100 * s:.3f}%"


def docs_tables(doc, before=None):
    """The compact tables of docs/regions.md from a run's JSON (and, for cases it holds, an earlier build's)."""
    cs = doc["cases"]
    dts = doc["ladder"]
    lines = ["| case | exact mean | seed | paths a row (bridge; without: a quarter) |", "|---|---:|---:|---|"]
    for name, c in cs.items():
        ns = [r["on"]["n_paths"] for r in c["rows"]]
        parts = []
        for n in dict.fromkeys(ns):
            at = [r["on"]["dt"] for r in c["rows"] if r["on"]["n_paths"] == n]
            parts.append(f"{n:,} (dt {', '.join(f'{d:g}' for d in at)})")
        desc = c["description"].replace("|", "\\|")
        lines.append(f"| {name}: {desc} | {c['exact']:.10g} | {c['seed']} | {'; '.join(parts)} |")
    out = ["\n".join(lines)]
    head = "| case | " + " | ".join(f"dt {d:g}" for d in dts) + " |"
    rule = "|---|" + "---:|" * len(dts)
    for key, title in (("on", "with the bridge"), ("off", "without the bridge")):
        rows = [f"Bias of the mean exit time {title}, % of the exact mean ± SE:", "", head, rule]
        for name, c in cs.items():
            cells = [f"{100 * r[key]['bias']:+.2f} ± {100 * r[key]['bias_se']:.2f}" if r[key] else "–"
                     for r in c["rows"]]
            rows.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("\n".join(rows))
    rows = ["Fits of the relative bias with the bridge (dt in units of the mean), b(dt) = c dt and "
            "b(dt) = c1 dt + c2 dt^1.5, weighted least squares over the ladder:", "",
            "| case | c | chi2/dof | c1 | c2 | chi2/dof |", "|---|---:|---:|---:|---:|---:|"]
    for name, c in cs.items():
        f = fit([r["on"] for r in c["rows"]])
        rows.append(f"| {name} | {f['c']:+.3f} ± {f['c_se']:.3f} | {f['c_chi2_dof']:.2f} | "
                    f"{f['c1']:+.3f} ± {f['c1_se']:.3f} | {f['c2']:+.3f} ± {f['c2_se']:.3f} | {f['chi2_dof']:.2f} |")
    out.append("\n".join(rows))
    if before:
        rows = ["Before and after the distances in the noise's frame (bias with the bridge, %):", "", head, rule]
        for name, c in before["cases"].items():
            if name not in cs:
                continue
            for tag, cc in (("before", c), ("after", cs[name])):
                cells = [f"{100 * r['on']['bias']:+.2f} ± {100 * r['on']['bias_se']:.2f}" for r in cc["rows"]]
                rows.append(f"| {name}, {tag} | " + " | ".join(cells) + " |")
        out.append("\n".join(rows))
    return "\n\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="*", default=None, help="run the cases whose name contains any of these")
    ap.add_argument("--dts", nargs="*", type=float, default=LADDER)
    ap.add_argument("--target-se", type=float, default=0.0015, help="relative SE aimed at (default 0.15%%)")
    ap.add_argument("--pilot", type=int, default=20000)
    ap.add_argument("--max-paths", type=int, default=2_000_000)
    ap.add_argument("--row-steps", type=float, default=2.5e8, help="at most this many path-steps a row")
    ap.add_argument("--off-fraction", type=float, default=0.25)
    ap.add_argument("--no-off", action="store_true", help="skip the runs without the bridge")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=C.OUT / "boundary_bias.json")
    ap.add_argument("--docs", nargs="+", type=Path, default=None, metavar="JSON",
                    help="print the tables of docs/regions.md from a run's JSON (a second JSON: the build before)")
    a = ap.parse_args(argv)
    if a.docs:
        loaded = [json.loads(p.read_text()) for p in a.docs]
        print(docs_tables(loaded[0], loaded[1] if len(loaded) > 1 else None))
        return

    import escapade as esc

    allc = cases()
    names = [k for k in allc if a.cases is None or any(s in k for s in a.cases)]
    info = C.machine_info()
    doc = dict(machine=info, escapade_core=esc._core.__file__, args={k: str(v) for k, v in vars(a).items()},
               ladder=a.dts, cases={})
    print(f"# Boundary bias of the mean exit time ({info['date']}, {info['cpu_model']}, {a.threads} threads)\n")
    t_all = time.perf_counter()
    for idx, name in enumerate(allc):
        if name not in names:
            continue
        case = allc[name]
        seed = a.seed + idx
        pilot = run_row(case, 0.02, a.pilot, seed + 1000, True, a.threads)
        cv = pilot["sd"] / pilot["mean"]
        n_case = int(min(a.max_paths, max(10_000, math.ceil((cv / a.target_se) ** 2))))
        rows = []
        for dt in a.dts:
            steps = case[4] / dt
            n = int(min(n_case, max(5_000, a.row_steps / steps)))
            on = run_row(case, dt, n, seed, True, a.threads)
            off = None
            if not a.no_off:
                off = run_row(case, dt, max(5_000, int(n * a.off_fraction)), seed, False, a.threads)
            rows.append(dict(on=on, off=off))
        fr = fit([r["on"] for r in rows])
        doc["cases"][name] = dict(description=case[5], exact=case[4], seed=seed, cv=cv, n_case=n_case, rows=rows,
                                  fit=fr)
        print(f"## {name}: {case[5]}; exact mean {case[4]:.10g}, seed {seed}\n")
        print("| dt | paths (bridge) | bias with bridge | paths (no bridge) | bias without bridge |")
        print("|---:|---:|---:|---:|---:|")
        for r in rows:
            on, off = r["on"], r["off"]
            o = (f"{off['n_paths']:,} | {pct(off['bias'], off['bias_se'])}" if off else "– | –")
            print(f"| {on['dt']:g} | {on['n_paths']:,} | {pct(on['bias'], on['bias_se'])} | {o} |")
        print(f"\nfit (bridge): bias = ({fr['c1']:+.3f} ± {fr['c1_se']:.3f}) dt + ({fr['c2']:+.3f} ± {fr['c2_se']:.3f})"
              f" dt^1.5, chi2/dof {fr['chi2_dof']:.2f}\n", flush=True)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(doc, indent=1))
    print("## Fits of the relative bias with the bridge: c1 dt + c2 dt^1.5\n")
    print("| case | c1 | c2 | chi2/dof |")
    print("|---|---:|---:|---:|")
    for name, c in doc["cases"].items():
        f = c["fit"]
        print(f"| {name} | {f['c1']:+.3f} ± {f['c1_se']:.3f} | {f['c2']:+.3f} ± {f['c2_se']:.3f} | {f['chi2_dof']:.2f} |")
    doc["wall_s"] = time.perf_counter() - t_all
    a.out.write_text(json.dumps(doc, indent=1))
    print(f"\nwall {doc['wall_s']:.0f} s; {a.out}")


if __name__ == "__main__":
    main()
