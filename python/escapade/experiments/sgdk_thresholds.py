"""`escapade reproduce sgdk-thresholds`: 004's experiments (Sections 4-5, Figures 5-12, Tables 2-5).

For every model and minimizer: the local curvature constants of Definition 3.14 over the ball B(theta*, EPS), the
convergence bound u (Theorem 3.8 (18), 004's "upper bound for convergence", Tables 3 and 5) and the divergence
bound l ((19)-(20), the "lower bound for divergence", Tables 2 and 4) for k in {1, 200, 500, inf}; then SGD-k (with
replacement, Definition 3.5) and GD for k = inf from uniform starts in balls of radius 1e-3, 1e-2, 1e-1 and 1
around theta*, at the step sizes 1.5 l, (u + l) / 2 and u / 2 of Section 5.1, 20 iterations, every iterate
recorded. A path diverged when its status is DIVERGED (a coordinate past 1e8) or its distance to theta* after the
20 iterations exceeds ESCAPE = 2.

Quadratic-circle models (Section 4, Appendix A): 004 does not print its parameters; the ones here are drawn
(seed QC_SEED, QC_TERMS terms) so that the four models have the sharp/flat pattern of Section 4: q3 = -15 and
c2 = c4 = 0 in every term, q2 ~ U(0.05, 0.15), c3 ~ U(8, 12), q1 ~ U(0.15, 0.25) (sharp quadratic minimizer, Models
1 and 3) or U(0.0005, 0.0015) (flat, Models 2 and 4) and c1 ~ U(5, 15) (sharp circular minimizer, Models 1 and 2)
or U(0.005, 0.015) (flat, Models 3 and 4). Styblinski-Tang models (Section 5): StyblinskiTangSum.random(d, N,
seed=m) for Model m = 1, 2, 3 with (d, N) = (10, 200), (50, 1000), (100, 2000).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import _core
from ..analysis.thresholds import LocalCurvature, diagonal_local_curvature, local_curvature, thresholds_table
from ..dynamics import GD, SGDk
from ..landscapes import FiniteSum, QuadraticCircleSum, StyblinskiTangSum
from ..results import SimulationResult, Status
from ..simulate import simulate
from ..starts import UniformBall
from .report import Report, finite, format_table

#: Radius and Monte Carlo size of the curvature ball (004, Section 4: eps ~ 2e-2, 1000 points).
EPS, N_CURVATURE = 0.02, 1000
#: At the quadratic-circle minimizers, eigenvalues of the averaged Hessian below this fraction of the largest
#: count as zero: the valley direction of the quadratic basin grows quartically (its averaged curvature is
#: O(q1 q2^2 eps^2) and Monte Carlo noise), and 004's Tables 2-3 give 2 / lambda_1 there for every k.
QC_RANK_RTOL = 1e-3
QC_TERMS, QC_SEED = 100, 0
ST_SIZES = {"st1": (10, 200, 1), "st2": (50, 1000, 2), "st3": (100, 2000, 3)}  # name -> (dim, terms, seed)
BATCHES: tuple[float, ...] = (1, 200, 500, math.inf)
RADII = (1e-3, 1e-2, 1e-1, 1.0)
RATES = ("1.5l", "(u+l)/2", "u/2")
ITERATIONS, ESCAPE = 20, 2.0
DEFAULT_PATHS = 100
MAX_DRAWN = 25  # paths drawn per panel
MODELS = ("qc1", "qc2", "qc3", "qc4", "st1", "st2", "st3")


CIRCLE_MINIMIZER = np.zeros(2)  # the quadratic-circle models' circular-basin minimizer (the quadratic one: (0, -15))


def quadratic_circle_model(model: int, *, n_terms: int = QC_TERMS, seed: int = QC_SEED) -> QuadraticCircleSum:
    """Model 1-4 of 004's Section 4 as this reproduction draws them (see the module's docstring)."""
    if model not in (1, 2, 3, 4):
        raise ValueError(f"model must be 1, 2, 3 or 4, got {model!r}")
    rng = np.random.default_rng(seed)
    q2 = rng.uniform(0.05, 0.15, n_terms)
    c3 = rng.uniform(8.0, 12.0, n_terms)
    unit_q, unit_c = rng.uniform(0.5, 1.5, n_terms), rng.uniform(0.5, 1.5, n_terms)  # shared by the 4 models
    sharp_quadratic, sharp_circle = model in (1, 3), model in (1, 2)
    q1 = unit_q * (0.2 if sharp_quadratic else 0.001)
    c1 = unit_c * (10.0 if sharp_circle else 0.01)
    return QuadraticCircleSum(q1=q1, q2=q2, q3=-15.0, c1=c1, c2=0.0, c3=c3, c4=0.0)


def styblinski_tang_model(model: int) -> StyblinskiTangSum:
    """Model 1-3 of 004's Section 5: StyblinskiTangSum.random(d, N, seed=model)."""
    name = f"st{model}"
    if name not in ST_SIZES:
        raise ValueError(f"model must be 1, 2 or 3, got {model!r}")
    d, n, seed = ST_SIZES[name]
    return StyblinskiTangSum.random(d, n, seed=seed)


def _setups(models: Sequence[str]) -> list[tuple[str, str, FiniteSum, np.ndarray, LocalCurvature]]:
    """(model, minimizer, landscape, theta*, curvature) for every model and its two minimizers."""
    out = []
    for name in models:
        if name.startswith("qc"):
            f: FiniteSum = quadratic_circle_model(int(name[2:]))
            for label, center in (("circle", CIRCLE_MINIMIZER), ("quadratic", np.array([0.0, -15.0]))):
                curv = local_curvature(f, center, EPS, n_samples=N_CURVATURE, seed=0, rank_rtol=QC_RANK_RTOL)
                out.append((name, label, f, center, curv))
        else:
            st = styblinski_tang_model(int(name[2:]))
            f = st
            for label, center in (("flat", st.flattest_minimizer()), ("sharp", st.sharpest_minimizer())):
                out.append((name, label, f, center, diagonal_local_curvature(st, center, EPS,
                                                                             n_samples=N_CURVATURE, seed=0)))
    return out


def _rate(label: str, u: float, l: float) -> float:
    return {"1.5l": 1.5 * l, "(u+l)/2": (u + l) / 2, "u/2": u / 2}[label]


def _distances(res: Any, center: np.ndarray) -> np.ndarray:
    """(paths, ITERATIONS + 1) distances |x_N - theta*|; inf after a path diverged."""
    D = np.full((res.n_paths, ITERATIONS + 1), np.inf)
    for i, (t, x) in enumerate(res.trajectories):
        steps = np.rint(np.asarray(t)).astype(np.int64)
        on = steps <= ITERATIONS
        D[i, steps[on]] = np.linalg.norm(np.asarray(x)[on] - center, axis=1)
    D[~np.isfinite(D)] = np.inf
    return D


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None,
        models: Sequence[str] = MODELS) -> Report:
    """The reproduction; `models` restricts it to some of MODELS (for quick checks)."""
    models = tuple(models)
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ValueError(f"models must be a non-empty selection of {', '.join(MODELS)}, got {list(models)}")
    n_paths = DEFAULT_PATHS if paths is None else int(paths)
    if n_paths < 1:
        raise ValueError(f"paths must be at least 1, got {paths!r}")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    curves: dict[tuple[str, str, float, str, float], np.ndarray] = {}
    to_circle: dict[tuple[str, str, float, str, float], np.ndarray] = {}  # 004's Figure 8
    thresholds: list[dict[str, Any]] = []
    counter = 0
    for name, label, f, center, curv in _setups(models):
        table = thresholds_table(curv, BATCHES)
        thresholds.append({
            "model": name, "minimizer": label, "center_norm": float(np.linalg.norm(center)),
            "lambda_1": float(curv.lambdas[0]), "lambda_m": float(curv.lambdas[-1]), "m": curv.m,
            "s_f": curv.s_f, "t_f": curv.t_f, "n_indefinite": curv.n_indefinite,
            "k": [finite(k) for k in BATCHES],
            "convergence_u": [float(v) for v in table["convergence"]],
            "divergence_l": [float(v) for v in table["divergence"]],
        })
        for k, (u, l) in zip(BATCHES, zip(table["convergence"], table["divergence"])):
            for rate in RATES:
                lr = _rate(rate, float(u), float(l))
                dyn = GD(lr=lr) if math.isinf(k) else SGDk(lr=lr, batch_size=int(k), replace=True)
                for radius in RADII:
                    counter += 1
                    res = simulate(f, dyn, x0=UniformBall(center, radius), n_paths=n_paths, max_steps=ITERATIONS,
                                   seed=seed * 100_003 + counter, threads=threads, progress=progress,
                                   record_paths=n_paths, record_every=1)
                    assert isinstance(res, SimulationResult)
                    D = _distances(res, center)
                    diverged = (np.asarray(res.status) == int(Status.DIVERGED)) | ~(D[:, -1] <= ESCAPE)
                    curves[(name, label, k, rate, radius)] = D
                    if name.startswith("qc") and label == "quadratic":  # where do paths that leave it go?
                        to_circle[(name, label, k, rate, radius)] = _distances(res, CIRCLE_MINIMIZER)
                    rows.append({
                        "model": name, "minimizer": label, "k": finite(k),
                        "method": "GD" if math.isinf(k) else f"SGD-{int(k)}",
                        "lr_label": rate, "lr": lr, "radius": radius,
                        "diverged_fraction": float(diverged.mean()),
                        "grew_fraction": float(np.mean(~(D[:, -1] <= D[:, 0]))),
                        "final_median_distance": finite(float(np.median(D[:, -1]))),
                        "convergence_u": float(u), "divergence_l": float(l),
                    })
    elapsed = time.perf_counter() - started

    groups: dict[str, Callable[[dict[str, Any]], bool]] = {
        "quadratic-circle, circle minimizer": lambda r: r["model"].startswith("qc") and r["minimizer"] == "circle",
        "quadratic-circle, quadratic minimizer": lambda r: r["model"].startswith("qc") and r["minimizer"] != "circle",
        **{f"Styblinski-Tang, {m}": _styblinski_tang_with(m) for m in ("SGD-1", "SGD-200", "SGD-500", "GD")},
    }
    by_group = {"all settings": _shares(rows)}
    by_group.update({g: _shares([r for r in rows if test(r)]) for g, test in groups.items()})
    by_group = {g: v for g, v in by_group.items() if v["settings"]}
    overall = by_group["all settings"]
    separated = overall["stable_below_u"] >= 0.9 and overall["diverged_above_l"] >= 0.9
    lines = [f"{g}: {100 * v['stable_below_u']:.0f}% of settings stable at u/2, {100 * v['diverged_above_l']:.0f}% "
             f"diverged at 1.5 l, {100 * v['diverged_between']:.0f}% diverged at (u+l)/2 ({v['settings']} per rate)"
             for g, v in by_group.items()]
    statement = (f"below the convergence bound (u/2): {100 * overall['stable_below_u']:.1f}% of settings stable (no "
                 f"path diverged); above the divergence bound (1.5 l): {100 * overall['diverged_above_l']:.1f}% of "
                 f"settings diverged (at least half of the paths); the thresholds "
                 f"{'separated' if separated else 'did not separate'} stable from divergent behaviour over all "
                 "settings (criterion: both shares at least 90%)")
    per_radius = {}
    for radius in RADII:
        sel = [r for r in rows if r["radius"] == radius]
        per_radius[f"{radius:g}"] = {
            rate: float(np.mean([r["diverged_fraction"] >= 0.5 for r in sel if r["lr_label"] == rate]))
            for rate in RATES}
    data = {
        "name": "sgdk-thresholds",
        "description": "004 Sections 4-5: thresholds of SGD-k at quadratic-circle and Styblinski-Tang minimizers, "
                       "checked by simulation",
        "params": {"paths": n_paths, "seed": seed, "iterations": ITERATIONS, "escape_distance": ESCAPE,
                   "eps": EPS, "curvature_samples": N_CURVATURE, "qc_rank_rtol": QC_RANK_RTOL,
                   "qc_terms": QC_TERMS, "qc_seed": QC_SEED, "st_models": {k: list(v) for k, v in ST_SIZES.items()},
                   "models": list(models), "batch_sizes": [finite(k) for k in BATCHES], "radii": list(RADII),
                   "rates": list(RATES), "version": _core.__version__},
        "thresholds": thresholds,
        "rows": rows,
        "summary": {"by_group": by_group, "separated": bool(separated), "diverged_share_by_radius": per_radius,
                    "statement": statement},
        "elapsed": elapsed,
    }
    th_rows = []
    for t in thresholds:
        for k, u, l in zip(BATCHES, t["convergence_u"], t["divergence_l"]):
            th_rows.append([t["model"], t["minimizer"], "GD" if math.isinf(k) else f"{int(k)}", f"{u:.4g}", f"{l:.4g}"])
    summary = summary_table(rows)
    text = "\n".join([
        "SGD-k step-size thresholds at the minimizers of 004's quadratic-circle (qc1-4) and Styblinski-Tang (st1-3) "
        "models",
        f"(local curvature over B(theta*, {EPS:g}) from {N_CURVATURE} points; u = convergence bound, l = divergence "
        f"bound; {n_paths} paths x {ITERATIONS} iterations per setting; diverged: status DIVERGED or distance > "
        f"{ESCAPE:g} at the end)",
        "",
        format_table(["model", "minimizer", "k", "u (convergence)", "l (divergence)"], th_rows),
        "",
        "Share of paths that diverged, by step size (columns) and start radius, per model, minimizer and k:",
        summary.to_string(),
        "",
        "Share of settings where at least half of the paths diverged, by start radius:",
        format_table(["radius", *RATES], [[r, *(f"{v[rate]:.2f}" for rate in RATES)] for r, v in per_radius.items()]),
        "",
        "By group (stable: no path diverged; diverged: at least half of the paths):",
        *lines,
        "",
        statement + ".",
        f"{elapsed:.1f} s.",
    ])
    figures = {}
    for name, label, *_ in _setups_index(thresholds):
        figures[f"{name}-{label}-by-k"] = _figure(curves, name, label, "k")
        figures[f"{name}-{label}-by-radius"] = _figure(curves, name, label, "radius")
        if (name, label, 1, RATES[0], 1e-2) in to_circle:
            figures[f"{name}-{label}-to-circle"] = _figure(to_circle, name, label, "k", target="circular minimizer")
    return Report(data=data, text=text, results={}, figures=figures)


def _styblinski_tang_with(method: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: bool(r["model"].startswith("st") and r["method"] == method)


def _shares(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares of settings stable at u/2 (no path diverged) and diverged (at least half) at 1.5 l and (u+l)/2."""

    def share(rate: str, test: Callable[[float], bool]) -> float:
        sel = [r["diverged_fraction"] for r in rows if r["lr_label"] == rate]
        return float(np.mean([test(x) for x in sel])) if sel else float("nan")

    return {"settings": sum(r["lr_label"] == "u/2" for r in rows),
            "stable_below_u": share("u/2", lambda x: x == 0.0),
            "diverged_above_l": share("1.5l", lambda x: x >= 0.5),
            "diverged_between": share("(u+l)/2", lambda x: x >= 0.5)}


def _setups_index(thresholds: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(t["model"], t["minimizer"]) for t in thresholds]


def summary_table(rows: list[dict[str, Any]]) -> Any:
    """The diverged fractions as a pandas DataFrame: index (model, minimizer, method, radius), one column per rate."""
    import pandas as pd

    df = pd.DataFrame(rows)
    table = df.pivot_table(index=["model", "minimizer", "method", "radius"], columns="lr_label",
                           values="diverged_fraction", sort=False)
    return table[list(RATES)]


def _figure(curves: dict[tuple[str, str, float, str, float], np.ndarray], name: str, label: str,
            by: str, target: str = "minimizer") -> Callable[[Path], None]:
    """Distance to the minimizer against the iteration (log axis): rows the step sizes, columns the batch sizes at
    start radius 1e-2 (004's Figures 9-10) or the start radii at k = 1 (Figures 11-12); with `target`, distances
    to another point (Figure 8: runs started at the quadratic minimizer, measured from the circular one)."""

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        cols: list[Any] = list(BATCHES) if by == "k" else list(RADII)
        fig, axes = plt.subplots(len(RATES), len(cols), figsize=(3.2 * len(cols), 2.6 * len(RATES)),
                                 sharex=True, squeeze=False)
        steps = np.arange(ITERATIONS + 1)
        for i, rate in enumerate(RATES):
            for j, col in enumerate(cols):
                key = (name, label, col, rate, 1e-2) if by == "k" else (name, label, 1, rate, col)
                D = curves[key]
                ax = axes[i, j]
                for d in D[:MAX_DRAWN]:
                    ax.semilogy(steps, np.where(np.isfinite(d), d, np.nan), lw=0.6, alpha=0.5)
                if target == "minimizer":  # the distance beyond which a path counts as diverged
                    ax.axhline(ESCAPE, color="k", ls=":", lw=0.8)
                what = ("GD" if math.isinf(col) else f"k = {int(col)}") if by == "k" else f"radius {col:g}"
                ax.set_title(f"{what}, step {rate}", fontsize=9)
                if j == 0:
                    ax.set_ylabel(f"distance to {target}")
                if i == len(RATES) - 1:
                    ax.set_xlabel("iteration")
        start = f"{name}, started at the {label} minimizer, distance to the {target}" if target != "minimizer" \
            else f"{name} {label} minimizer"
        fig.suptitle(start + (" (start radius 0.01)" if by == "k" else " (SGD-1)"))
        fig.tight_layout()
        fig.savefig(path, dpi=72)
        plt.close(fig)

    return draw
