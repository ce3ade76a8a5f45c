"""Command line: `escapade run CONFIG.toml` (an experiment described in a TOML file), `escapade reproduce NAME`
(a registered reproduction), `escapade demo` (a first exit-time experiment against its exact answer), `escapade
info` (the build)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

import numpy as np

from . import _constrained_ackley, _core, _mlp_exit_time, _sgdk_thresholds
from .analysis import langevin_mean_exit_time_1d
from .config import ConfigError, load_config
from .dynamics import Langevin
from .landscapes import DoubleWell
from .regions import HalfSpace
from .results import SimulationResult, Status, SummaryResult
from .simulate import simulate
from .sweep import SweepResult, sweep

__all__ = ["REPRODUCTIONS", "Report", "main"]


# --- helpers ---------------------------------------------------------------------------------------------------


def _format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, one line per row, under a header line."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _finite(x: float) -> float | None:
    """A float for JSON: None for NaN and infinities."""
    return float(x) if math.isfinite(x) else None


def _sweep_table(res: SweepResult) -> str:
    header = [*res.grid, "paths", "mean exit time", "± SE", "stopped", "censored", "diverged"]
    rows = []
    for point, r in zip(res.points, res.results):
        s = r.summary()
        rows.append([*(f"{v:g}" if isinstance(v, float) else str(v) for v in point.values()), str(s.n_paths),
                     f"{s.mean:.6g}", f"{s.stderr:.2g}", str(s.counts["EXITED"] + s.counts["HIT"]),
                     str(s.counts["CENSORED"]), str(s.counts["DIVERGED"])])
    return _format_table(header, rows)


# --- escapade run ----------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    experiment = load_config(args.config)
    out = Path(args.output) if args.output is not None else Path(args.config).with_suffix(".npz")
    if not out.parent.is_dir():  # fail before the run, not after it
        raise ValueError(f"cannot write {out}: no directory {out.parent}")
    overrides: dict[str, Any] = {"progress": args.progress}
    if args.threads is not None:
        overrides["threads"] = args.threads
    result = experiment.run(**overrides)
    result.save(out)
    if isinstance(result, SweepResult):
        print(_sweep_table(result))
        seeds = sorted({r.seed for r in result.results})
        seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds per point ({experiment.seeds})"
        elapsed = result.results[0].elapsed  # the whole sweep: its points run together
        print(f"{len(result)} points, {seed_text}, {elapsed:.2f} s; wrote {out}")
    else:
        print(result.summary())
        print(f"seed {result.seed}, {result.elapsed:.2f} s; wrote {out}")
    return 0


# --- escapade reproduce ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    """What a reproduction returns: a JSON-compatible document with its numbers and the parameters that produced
    them (`escapade reproduce` puts the name, description, version and seed in front); the same numbers as a text
    table; the results (saved by `--out`); and figures, name -> a function that draws one and saves it to the PNG
    path it is given (called only with `--out`)."""

    data: dict[str, Any]
    text: str
    results: dict[str, SimulationResult | SummaryResult | SweepResult]
    figures: dict[str, Callable[[Path], None]] = dataclasses.field(default_factory=dict)


def _double_well_bias(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """Mean exit time over the double-well barrier, against its exact value, for several dt, with and without
    the Brownian-bridge test (common random numbers, so the columns differ by the method only)."""
    n_paths = 20_000 if paths is None else paths
    temperature, x0, t_max = 1 / 16, -1.0, 1e6
    dts, bridges = [0.05, 0.02, 0.01, 0.005], [False, True]
    exact = float(langevin_mean_exit_time_1d(lambda x: x**4 / 4 - x**2 / 2, temperature, x0, -np.inf, 0.0,
                                             lower_boundary="reflecting"))
    landscape, stop = DoubleWell(), HalfSpace(normal=[1.0], offset=0.0)
    res = sweep(landscape, Langevin(temperature=temperature, dt=dts[0]), grid={"dynamics.dt": dts, "bridge": bridges},
                seeds="common", seed=seed, x0=[x0], stop=stop, n_paths=n_paths, t_max=t_max, threads=threads,
                progress=progress)
    rows, table = [], []
    for point, r in zip(res.points, res.results):
        s = r.summary()
        bias, bias_se = 100 * (s.mean / exact - 1), 100 * s.stderr / exact
        rows.append({"dt": point["dynamics.dt"], "bridge": point["bridge"], "n_paths": s.n_paths,
                     "counts": s.counts, "mean": _finite(s.mean), "stderr": _finite(s.stderr),
                     "bias_percent": _finite(bias), "bias_percent_stderr": _finite(bias_se),
                     "path_steps": r.total_steps})
        censored = s.counts[Status.CENSORED.name]
        table.append([f"{point['dynamics.dt']:g}", "Brownian bridge" if point["bridge"] else "discrete only",
                      f"{s.mean:.3f} ± {s.stderr:.3f}", f"{bias:+.2f}% ± {bias_se:.2f}%", str(censored)])
    data = {
        "params": {
            "potential": "x**4/4 - x**2/2",
            "landscape": landscape.to_dict(),
            "dynamics": {"type": "Langevin", "temperature": temperature},
            "stop": stop.to_dict(),
            "x0": [x0],
            "n_paths": n_paths,
            "t_max": t_max,
            "grid": res.grid,
            "seeds": "common",
        },
        "exact": exact,
        "rows": rows,
        "elapsed": res.results[0].elapsed,  # the whole sweep (its points run together)
    }
    text = "\n".join([
        "Mean exit time from the left well of f(x) = x^4/4 - x^2/2 over the barrier at x = 0",
        f"dX = -f'(X) dt + sqrt(2T) dW, T = 1/16, X0 = -1; {n_paths} paths per row, seed {seed} (common to all rows)",
        f"exact (quadrature): {exact:.4f}",
        "",
        _format_table(["dt", "exit test", "mean ± SE", "bias ± SE", "censored"], table),
        "",
        f"{res.results[0].elapsed:.1f} s. Discrete monitoring alone sees exits late (a bias of order sqrt(dt)); "
        "the bridge test removes that bias, leaving Euler-Maruyama's of order dt.",
    ])
    return Report(data=data, text=text, results={"double-well-bias": res})


def _sgd_hessians() -> dict[int, np.ndarray]:
    """The base Hessians H_0 of the SGD reproduction: d = 2, eigenvalues 1 and 3 rotated by 0.5 rad; d = 10,
    eigenvalues 1 and 9 values in [2, 3], in a fixed random basis."""
    c, s = math.cos(0.5), math.sin(0.5)
    rot = np.array([[c, -s], [s, c]])
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((10, 10)))
    out = {2: rot @ np.diag([1.0, 3.0]) @ rot.T, 10: q @ np.diag(np.r_[1.0, np.linspace(2.0, 3.0, 9)]) @ q.T}
    return {d: (h + h.T) / 2 for d, h in out.items()}


def _sgd_exit_time(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """003's mean exit times of SGD from a quadratic minimum against the Freidlin–Wentzell answer and simulation."""
    from .analysis.sgd import sgd_exit_time_experiment

    n_paths = 200 if paths is None else paths
    alphas, time_range = [1.0, 4.0], (8.0, 150.0)
    base = _sgd_hessians()
    configs = [(d, alpha, r) for d in (2, 10) for alpha in alphas for r in ((0.5, 1.0) if d == 2 else (1.0,))]
    rows, table, results = [], [], {}
    elapsed = 0.0
    for d, alpha, r in configs:
        H = alpha * base[d]
        lr = 0.1 / float(np.linalg.eigvalsh(base[d])[-1])  # fixed eta; eta lambda_max = 0.1 alpha
        for noise in ("isotropic", "hessian"):
            for dynamics in ("continuous", "discrete"):
                e = sgd_exit_time_experiment(H, r, noise=noise, dynamics=dynamics, lr=lr, n_paths=n_paths,
                                             time_range=time_range, seed=seed, threads=threads, progress=progress)
                elapsed += e.results.results[0].elapsed
                p = e.prediction
                row = {"d": d, "alpha": alpha, **e.to_dict()}
                row.pop("params")
                row["lr"] = lr
                row["fw_deviation"] = e.corrected_fit.barrier / p.fw_slope - 1
                row["paper_over_fw"] = p.paper_slope / p.fw_slope
                rows.append(row)
                name = f"sgd-exit-time-d{d}-a{alpha:g}-r{r:g}-{noise}-{dynamics}"
                results[name] = e.results
                f, c = e.fit, e.corrected_fit
                table.append([str(d), f"{alpha:g}", f"{r:g}", "C = I" if noise == "isotropic" else "C = H", dynamics,
                              f"{f.barrier:.3f} [{f.barrier_ci[0]:.3f}, {f.barrier_ci[1]:.3f}]",
                              f"{c.barrier:.3f} [{c.barrier_ci[0]:.3f}, {c.barrier_ci[1]:.3f}]", f"{c.power:g}",
                              f"{p.fw_slope:.3f}", f"{p.paper_slope:.3f}",
                              "agrees" if e.paper_agrees else "DISAGREES"])
    n_bad = sum(1 for r in rows if not r["paper_agrees"])
    fw_dev = max(abs(r["fw_deviation"]) for r in rows)
    n_fw = sum(1 for r in rows if r["fw_agrees"])
    statement = (f"003's slope disagrees with the simulation in {n_bad} of {len(rows)} settings; the "
                 f"Freidlin-Wentzell slope V0 is within {100 * fw_dev:.0f}% of the corrected simulated slope in all "
                 f"of them (inside its 95% interval in {n_fw})")
    data = {
        "params": {
            "model": "L = theta^T H theta / 2, H = alpha H_0; exit from |theta| < r starting at 0",
            "continuous": "d theta = -H theta dt + sqrt(eta / B) C^{1/2} dW (GaussianSGD.continuous, dt = 0.1 / "
                          "lambda_max(H))",
            "discrete": "theta_{k+1} = theta_k - eta H theta_k + (eta / sqrt(B)) C^{1/2} xi_k (GaussianSGD), time "
                        "k eta",
            "noise": {"isotropic": "C = I", "hessian": "C = H"},
            "H0": {str(d): h.tolist() for d, h in base.items()},
            "alphas": alphas,
            "n_paths": n_paths,
            "time_range": list(time_range),
            "slope": "of log E[tau] in B / eta, weighted least squares over 5 values of B / eta (eta fixed)",
            "corrected": "the same after dividing E[tau] by (B / eta)^(-m / 2), m the dimension of the exit set",
        },
        "rows": rows,
        "summary": {
            "rows": len(rows),
            "paper_disagrees": n_bad,
            "fw_in_interval": n_fw,
            "max_abs_fw_deviation": fw_dev,
            "statement": statement,
        },
        "elapsed": elapsed,
    }
    text = "\n".join([
        "Slope of log E[tau] in B / eta for SGD leaving |theta| < r around the minimum of theta^T H theta / 2",
        "(H = alpha H_0; continuous SDE and discrete map; C = I or C = H; "
        f"{n_paths} paths per point, 5 values of B / eta, seed {seed})",
        "FW: Freidlin-Wentzell V0 = min over |theta| = r of the quasi-potential (Lyapunov equation);",
        "003: 2 r^2 lambda_min (C = I) and 2 r^2 sqrt(lambda_min) (C = H), Theorems 1-2;",
        "fit: straight line; corrected: prefactor (B / eta)^(-m/2) divided out (95% intervals)",
        "",
        _format_table(["d", "alpha", "r", "noise", "SGD", "fit [95%]", "corrected [95%]", "m/2", "FW", "003",
                       "003 vs simulation"], table),
        "",
        statement + ".",
        "003 drops the 1/2 of L = theta^T H theta / 2 (a factor 2) and, for C = H, writes C^{1/2} for C in its "
        "Hamilton-Jacobi equation: the exact answer for C = H is V0 = r^2, independent of the sharpness.",
        "The corrected slope still carries finite-noise terms: the next prefactor terms (a few % low, most for "
        "C = H in d = 10) and, for the discrete map, the overshoot of the boundary (003's O(sqrt(eta)), largest "
        "at eta lambda_max = 0.4, alpha = 4), which enters the exponent at order sqrt(B / eta).",
        f"{elapsed:.1f} s of simulation.",
    ])
    return Report(data=data, text=text, results=results)
def _table_rows(table: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows as JSON-compatible dicts (NaN -> None, numpy scalars -> Python)."""
    rows = []
    for record in table.to_dict("records"):
        rows.append({k: (_finite(float(v)) if isinstance(v, (float, np.floating)) else
                         int(v) if isinstance(v, (np.integer,)) else v) for k, v in record.items()})
    return rows


def _times_text(table: Any, keys: Sequence[str]) -> str:
    header = [*keys, "paths", "mean ± SE", "stopped", "censored", "other"]
    rows = []
    for r in table.to_dict("records"):
        stopped = int(r["exited"] + r["hit"])
        other = int(r["diverged"] + r["converged"])
        mean = f"{r['mean']:.4g} ± {r['stderr']:.2g}" if stopped > 1 else "-"
        if r["censored"]:
            mean += f" (>= {r['mean_lower_bound']:.4g})"
        rows.append([*(f"{r[k]:g}" if isinstance(r[k], float) else str(r[k]) for k in keys), str(r["n_paths"]),
                     mean, str(stopped), str(int(r["censored"])), str(other)])
    return _format_table(header, rows)


def _saddle_escape(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """Escape times from a strict saddle vs dimension and curvature (GD, noisy GD, perturbed GD, SGD), and the
    time GD and perturbed GD need to reach the minimum of Du et al.'s chain of saddles vs dimension."""
    from .experiments import octopus_escape_times, saddle_escape_times

    n_paths = 100 if paths is None else paths
    escape_params: dict[str, Any] = {"dims": [10, 100, 1000], "curvatures": [0.1, 1.0], "radius": 0.1,
                                     "start_radius": 1e-3, "noise": 1e-2, "lr": 0.1, "quartic": 1.0,
                                     "max_steps": 20_000}
    octopus_params: dict[str, Any] = {"dims": [2, 3, 4, 5, 6, 7, 8], "L": 1.0, "gamma": 1.0, "tau": 1.0,
                                      "lr": 0.25, "epsilon": 1e-2, "noise": 1e-2, "max_steps": 100_000}
    escape = saddle_escape_times(**escape_params, n_paths=n_paths, seed=seed, threads=threads, progress=progress)
    octopus = octopus_escape_times(**octopus_params, n_paths=n_paths, seed=seed, threads=threads,
                                   progress=progress)
    data = {
        "params": {"n_paths": n_paths, "strict_saddle": escape_params, "octopus": octopus_params},
        "strict_saddle": _table_rows(escape),
        "octopus": _table_rows(octopus),
    }
    text = "\n".join([
        "Iterations to leave the ball of radius 0.1 around the strict saddle of",
        "f = -c x_1^2/2 + sum_{i>1} x_i^2/2 + sum_i x_i^4/4, from uniform starts in the ball of radius 1e-3;",
        f"lr 0.1, noise 1e-2 (sphere, perturbation radius, Gaussian); {n_paths} paths per row, seed {seed}",
        "",
        _times_text(escape, ["method", "dim", "curvature"]),
        "",
        "Iterations to reach the epsilon-second-order stationary points (epsilon = 1e-2) of Du et al.'s octopus",
        "(L = gamma = tau = 1, lr 0.25), from uniform starts in [0, tau]^d; perturbation radius 1e-2",
        "",
        _times_text(octopus, ["method", "dim"]),
        "",
        "GD waits at each of the d saddles of the octopus longer than at the one before: its time grows",
        "geometrically with d (and once its stable coordinates underflow, its steps round to 0 and it never leaves:",
        "censored), while perturbed GD's grows about linearly.",
    ])

    def draw(path: Path) -> None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plot import mean_times

        fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
        for ax, c in zip(axes[:2], escape_params["curvatures"]):
            mean_times(escape[escape["curvature"] == c], x="dim", group="method", ax=ax)
            ax.set_title(f"strict saddle, curvature -{c:g} along x_1")
        mean_times(octopus, x="dim", group="method", ax=axes[2], logx=False)
        axes[2].set_title("octopus (Du et al. 2017): time to the minimum")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    return Report(data=data, text=text, results={}, figures={"saddle-escape": draw})


def _perko(x: np.ndarray) -> np.ndarray:
    """Perko's example at a point (3,) or at each row of (m, 3)."""
    x1, x2, x3 = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([-x1, -x2 + x1**2, x3 + x1**2], axis=-1)


def _stable_manifold(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """The local stable manifold of Perko's example against its exact form x3 = -x1^2/3."""
    import time

    from .analysis import stable_manifold

    n_points = 50 if paths is None else paths
    radius = 0.5
    rows, table = [], []
    start = time.perf_counter()
    for method, n in (("lyapunov_perron", n_points), ("bisection", max(1, n_points // 5))):
        m = stable_manifold(_perko, np.zeros(3), radius=radius, n_points=n, method=method, seed=seed, dt=0.005,
                            tol=1e-9, vectorized=True)
        x = m.points[m.converged]
        deviation = float(np.max(np.abs(x[:, 2] + x[:, 0] ** 2 / 3))) if len(x) else math.nan
        rows.append({"method": method, "n_points": n, "converged": int(m.converged.sum()),
                     "max_deviation": _finite(deviation),
                     "max_x1": _finite(float(np.max(np.abs(x[:, 0]))) if len(x) else math.nan)})
        table.append([method, str(n), str(int(m.converged.sum())), f"{deviation:.2e}"])
    elapsed = time.perf_counter() - start
    data = {
        "params": {"system": "x1' = -x1, x2' = -x2 + x1^2, x3' = x3 + x1^2", "fixed_point": [0.0, 0.0, 0.0],
                   "radius": radius, "n_points": n_points},
        "exact": "x3 = -x1^2 / 3",
        "rows": rows,
        "elapsed": elapsed,
    }
    text = "\n".join([
        "Local stable manifold of x1' = -x1, x2' = -x2 + x1^2, x3' = x3 + x1^2 at the origin (Perko)",
        f"points above stable parts drawn uniformly in the disc of radius {radius} of E^s = {{x3 = 0}}, seed {seed}",
        "exact: x3 = -x1^2/3",
        "",
        _format_table(["method", "points", "converged", "max |x3 + x1^2/3|"], table),
        "",
        f"{elapsed:.1f} s.",
    ])
    return Report(data=data, text=text, results={})


#: name -> (description, function(paths=, seed=, threads=, progress=) -> Report)
REPRODUCTIONS: dict[str, tuple[str, Callable[..., Report]]] = {
    "double-well-bias": (
        "bias of the double-well mean exit time vs dt, with and without the Brownian-bridge test "
        "(exact value by quadrature; default 20000 paths)",
        _double_well_bias,
    ),
    "sgd-exit-time": (
        "003's exit-time formulas for SGD (isotropic and Hessian noise, continuous and discrete, d = 2 and 10) "
        "against Freidlin-Wentzell and simulation (default 200 paths per point)",
        _sgd_exit_time,
    ),
    "mlp-exit-time": (
        "003's Section 6 and Figure 2: mean exit times of minibatch SGD from an r-ball around a trained MLP minimum "
        "(diabetes data) vs sharpness alpha, radius r and B / eta, against Freidlin-Wentzell and 003 (default 200 "
        "paths per point)",
        _mlp_exit_time.run,
    ),
    "constrained-ackley": (
        "000's Tables I and II and Figures 1-4: success rates of the forced projected flow on the Ackley variant "
        "under a parabola constraint, 289 grid and uniform starts (--paths: the large uniform sample, default 10000)",
        _constrained_ackley.run,
    ),
    "saddle-escape": (
        "iterations to escape a strict saddle vs dimension and curvature (GD, noisy GD, perturbed GD, SGD), and "
        "GD vs perturbed GD on Du et al.'s chain of saddles vs dimension (default 100 paths per row)",
        _saddle_escape,
    ),
    "stable-manifold": (
        "the local stable manifold of Perko's example by the Lyapunov-Perron iteration and by bisection, against "
        "its exact form x3 = -x1^2/3 (default 50 points)",
        _stable_manifold,
    ),
    "sgdk-thresholds": (
        "004's Sections 4-5 and Figures 5-12: convergence and divergence step-size bounds of SGD-k at the minimizers "
        "of quadratic-circle and Styblinski-Tang sums, checked by 20-iteration runs (default 100 paths per setting)",
        _sgdk_thresholds.run,
    ),
}


def _reproduce(args: argparse.Namespace) -> int:
    if args.list:
        if args.name is not None:
            raise ValueError("give a reproduction's name or --list, not both")
        width = max(len(name) for name in REPRODUCTIONS)
        for name, (description, _) in REPRODUCTIONS.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.name is None:
        raise ValueError("give the name of a reproduction, or --list to see them")
    if args.name not in REPRODUCTIONS:
        raise ValueError(f"unknown reproduction {args.name!r}; available: {', '.join(sorted(REPRODUCTIONS))}")
    if args.paths is not None and args.paths < 1:
        raise ValueError(f"--paths must be at least 1, got {args.paths}")
    description, run = REPRODUCTIONS[args.name]
    report = run(paths=args.paths, seed=args.seed, threads=args.threads, progress=args.progress)
    head = {"name": args.name, "description": description, "version": _core.__version__, "seed": args.seed}
    document = json.dumps({**head, **report.data}, indent=2, allow_nan=False)
    print(document if args.json else report.text)
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{args.name}.json").write_text(document + "\n")
        (out / f"{args.name}.txt").write_text(report.text + "\n")
        for name, res in report.results.items():
            res.save(out / f"{name}.npz")
        for name, draw in report.figures.items():
            draw(out / f"{name}.png")
        if not args.json:
            if report.figures:
                print(f"\nwrote {args.name}.json, {args.name}.txt, the results (.npz) and {len(report.figures)} "
                      f"figures (.png) to {out}")
            else:
                print(f"\nwrote {args.name}.json, {args.name}.txt and the results (.npz) to {out}")
    return 0


# --- escapade demo, info ---------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    T = 1 / 16
    exact = langevin_mean_exit_time_1d(
        lambda x: x**4 / 4 - x**2 / 2, T, -1.0, -np.inf, 0.0, lower_boundary="reflecting"
    )
    print("Escape from the left well of f(x) = x^4/4 - x^2/2 over the barrier at x = 0")
    print(f"dX = -f'(X) dt + sqrt(2T) dW, T = 1/16, X0 = -1; {args.paths} paths, seed {args.seed}")
    print(f"exact mean exit time (quadrature): {exact:.4f}\n")
    print(f"{'dt':>7} {'exit test':>16} {'mean ± SE':>18} {'bias':>16} {'wall':>7} {'path-steps/s':>13}")
    for dt in args.dt:
        for bridge in (True, False):
            res = simulate(
                DoubleWell(),
                Langevin(temperature=T, dt=dt),
                x0=[-1.0],
                stop=HalfSpace(normal=[1.0], offset=0.0),
                n_paths=args.paths,
                t_max=1e6,
                seed=args.seed,
                threads=args.threads,
                bridge=bridge,
            )
            s = res.summary()
            bias = 100 * (s.mean / exact - 1)
            print(
                f"{dt:>7g} {'Brownian bridge' if bridge else 'discrete only':>16} "
                f"{s.mean:>9.3f} ± {s.stderr:<6.3f} {bias:>+7.2f}% ± {100 * s.stderr / exact:.2f}% "
                f"{res.elapsed:>6.2f}s {res.total_steps / res.elapsed:>13.3g}"
            )
    print("\nThe bridge test catches exits between steps; discrete monitoring alone overestimates exit times.")
    return 0


def _info(_: argparse.Namespace) -> int:
    info = {"version": _core.__version__, "threads": _core.default_threads(), **_core.build_info()}
    print(json.dumps(info, indent=2))
    return 0


# --- parser ----------------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="escapade", description=__doc__)
    parser.add_argument("--version", action="version", version=f"escapade {_core.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run an experiment described in a TOML file and save its result",
                         description="Run the experiment described in CONFIG (see docs/configuration.md), print "
                                     "its summary and save the result (.npz; escapade.load reads it).")
    run.add_argument("config", metavar="CONFIG.toml")
    run.add_argument("-o", "--output", metavar="OUT.npz", help="result file (default: CONFIG with .npz)")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: when stderr is a terminal)")
    run.add_argument("--threads", type=int, default=None, help="engine threads (default: [run] threads, or all cores)")
    run.set_defaults(run=_run)

    rep = sub.add_parser("reproduce", help="run a registered reproduction and print its table",
                         description="Run a registered reproduction; --list shows them.")
    rep.add_argument("name", nargs="?", metavar="NAME")
    rep.add_argument("--list", action="store_true", help="list the reproductions")
    rep.add_argument("--json", action="store_true", help="print a JSON document instead of the table")
    rep.add_argument("--paths", type=int, default=None, help="paths per run (default: the reproduction's own)")
    rep.add_argument("--out", metavar="DIR",
                     help="also write NAME.json, NAME.txt, the results (.npz) and the pictures (.png) to DIR")
    rep.add_argument("--seed", type=int, default=0, help="default 0")
    rep.add_argument("--threads", type=int, default=None, help="default: all cores")
    rep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: when stderr is a terminal)")
    rep.set_defaults(run=_reproduce)

    demo = sub.add_parser("demo", help="double-well mean exit time against its exact value")
    demo.add_argument("--paths", type=int, default=20_000, help="number of paths (default 20000)")
    demo.add_argument("--dt", type=float, nargs="+", default=[1e-2, 1e-3], help="time steps (default 0.01 0.001)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--threads", type=int, default=None, help="default: all cores")
    demo.set_defaults(run=_demo)

    info = sub.add_parser("info", help="version, threads, compiler and build flags")
    info.set_defaults(run=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        where = f"{args.config}: " if args.command == "run" else ""
        return _fail(f"{where}{exc}")
    except (ValueError, TypeError, OSError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", status=130)


def _fail(message: str, status: int = 2) -> int:
    print(f"escapade: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
