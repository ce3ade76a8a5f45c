"""`escapade reproduce constrained-ackley`: 000's numerical example (Section VI, Figures 1-4, Tables I and II).

The Ackley variant (12) with a = 20, d = 0.05 on the parabola x1 = x2^2 / 2, the projected flow (7) with periodic
forcing w(t) = A [cos(omega t), sin(omega t)], success = entering the unit ball around the global minimizer 0
by t = 20. The paper does not state c, alpha or the integrator; this reproduction takes c = 2 pi (the classical
Ackley value), alpha = 1 and Dormand-Prince 5(4) with located events, and does not tune them to the tables. A
second table gives the counts at BEST_FIT, the setting of a bounded search over the unstated choices
(bench/ackley_model_search.py) closest to the paper's counts (alpha = 1/8, the rest as here), which comes closer
but does not reproduce them within noise either.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .. import plot
from .._validate import as_float
from ..analysis.success import SuccessRate, grid_points, success_rate
from ..constraints import Parabola
from ..dynamics import ConstrainedFlow
from ..forcing import Periodic
from ..landscapes import Ackley
from ..regions import Ball
from ..results import Status
from ..simulate import simulate
from ..starts import UniformBox
from ..sweep import SweepResult, sweep
from .report import Design, Report, format_table

A_PAPER, D_PAPER, T_SUCCESS, HALF_SIDE = 20.0, 0.05, 20.0, 4.0
ALPHA, C_DEFAULT = 1.0, 2 * math.pi

#: (A, omega, success rate in percent) of 000's Table I (A = 1, omega varies) and Table II (omega = 1, A varies).
TABLE_I = [(1.0, 0.1, 71.28), (1.0, 0.16681, 76.12), (1.0, 0.27826, 93.77), (1.0, 0.46416, 94.46),
           (1.0, 0.77426, 86.51), (1.0, 1.2915, 80.97), (1.0, 2.1544, 84.78), (1.0, 3.5938, 88.24),
           (1.0, 5.9948, 83.39), (1.0, 10.0, 80.62)]
TABLE_II = [(0.1, 1.0, 82.35), (0.14678, 1.0, 84.43), (0.21544, 1.0, 86.51), (0.31623, 1.0, 88.58),
            (0.46416, 1.0, 91.0), (0.68129, 1.0, 86.16), (1.0, 1.0, 80.28), (1.4678, 1.0, 87.89),
            (2.1544, 1.0, 88.58), (3.1623, 1.0, 87.2)]
#: Without forcing: "about 78%" of 298 uniform random starts (Section VI).
UNFORCED_PAPER = 78.0
#: The tables' percentages as counts out of 289 (every one is k / 289 to the printed digits).
PAPER_COUNTS = np.array([round(p * 289 / 100) for _, _, p in TABLE_I + TABLE_II])
#: The 95% point of chi2 over the 20 rows: a setting within noise of the paper has a distance below it.
CHI2_95 = float(stats.chi2.ppf(0.95, len(PAPER_COUNTS)))

# --- the choices the paper leaves open --------------------------------------------------------------------------

#: 17 x 17 grids of starts (the paper states "a square of side length 8" for its random starts and shows no
#: grid): name -> (low, high, cell_centres). With cell_centres the 289 points are the centres of the 17 x 17 cells
#: of the box, otherwise the box's corners are grid points.
EXTENTS: dict[str, tuple[tuple[float, float], tuple[float, float], bool]] = {
    "[-4,4]^2": ((-4.0, -4.0), (4.0, 4.0), False),
    "[-4,4]^2 cell centres": ((-4.0, -4.0), (4.0, 4.0), True),
    "[-5,5]^2": ((-5.0, -5.0), (5.0, 5.0), False),
    "[0,8]x[-4,4]": ((0.0, -4.0), (8.0, 4.0), False),
}
#: Success rules: entering the unit ball at any time t <= 20 (a located event), or being inside it at t = 20.
RULES = ("by t = 20", "at t = 20")
#: Integrators: DP5(4) at the reproduction's tolerances, DP5(4) at the usual library defaults (MATLAB's ode45,
#: scipy's solve_ivp: rtol 1e-3, atol 1e-6), classical RK4 with a fixed step 0.01.
METHODS: dict[str, dict[str, Any]] = {
    "dp54": dict(method="dp54", dt=0.01, rtol=1e-6, atol=1e-9),
    "dp54-loose": dict(method="dp54", dt=0.01, rtol=1e-3, atol=1e-6),
    "rk4": dict(method="rk4", dt=0.01),
}


def extent_grid(name: str) -> np.ndarray:
    """The 289 starts of one of `EXTENTS`, shape (289, 2)."""
    if name not in EXTENTS:
        raise ValueError(f"extent must be one of {sorted(EXTENTS)}, got {name!r}")
    low, high, centres = EXTENTS[name]
    lo, hi = np.array(low), np.array(high)
    if centres:
        h = (hi - lo) / 17
        lo, hi = lo + h / 2, hi - h / 2
    return grid_points(lo, hi, 17)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One reading of the paper's unstated choices: Ackley's frequency c, alpha, the grid of starts (a key of
    `EXTENTS`), the forcing's phase phi in w(t) = A [cos(omega t + phi), sin(omega t + phi)] (phi = 3 pi / 2 is
    w = A [sin, -cos], by the problem's symmetry x2 -> -x2 the same counts as A [sin, cos]), the success rule (one
    of `RULES`) and the integrator (a key of `METHODS`)."""

    c: float = C_DEFAULT
    alpha: float = ALPHA
    extent: str = "[-4,4]^2"
    phase: float = 0.0
    rule: str = "by t = 20"
    method: str = "dp54"

    def __post_init__(self) -> None:
        object.__setattr__(self, "c", as_float("c", self.c, positive=True))
        object.__setattr__(self, "alpha", as_float("alpha", self.alpha, positive=True))
        object.__setattr__(self, "phase", as_float("phase", self.phase))
        if self.extent not in EXTENTS:
            raise ValueError(f"extent must be one of {sorted(EXTENTS)}, got {self.extent!r}")
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {self.method!r}")

    def flow(self, amplitude: float, omega: float) -> ConstrainedFlow:
        """The forced flow of one table row."""
        return ConstrainedFlow(Parabola(), alpha=self.alpha, forcing=Periodic(amplitude, omega, phase=self.phase),
                               **METHODS[self.method])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: The reproduction's own reading: c = 2 pi, alpha = 1, the grid on [-4, 4]^2, phase 0, success by t = 20, DP5(4).
CURRENT = Setting()
#: The setting whose 20 counts are closest to the paper's in chi2 (the noise-weighted distance the verdict uses: 40.4,
#: sum of |count differences| 135, against the current setting's 196.0 and 325) of the 1,145 settings searched by
#: bench/ackley_model_search.py: its family of 512, whose closest (sum |d| 248, chi2 116.2) sat at the family's
#: corner c = 0.9 x 2 pi, alpha = 0.5, then beyond that corner (`--around-best`: c / (2 pi) in 0.8-1.0, alpha in
#: 1/16-1, the four phases, both grids on [-4, 4]^2; `--refine`: c / (2 pi) in 0.95-1.1, alpha in 3/32-3/16; see
#: bench/RESULTS.md and docs/constraints.md): the reproduction's own setting with alpha = 1/8 (c = 2 pi, phase 0,
#: the grid on [-4, 4]^2, success by t = 20, DP5(4); RK4 with dt = 0.01 gives the same counts), inside the searched
#: ranges of c and alpha. The smallest sum |d| searched, 132 (chi2 56.2), is at c = 1.1 x 2 pi, alpha = 1/8, the
#: end of the refined range. A constant here, so that the reproduction does not rerun the search. It comes closer
#: but does not reproduce the tables within noise (chi2 40.4 > 31.4, docs/constraints.md).
BEST_FIT = Setting(alpha=0.125)


#: The design's statement on the grid starts that lie on the target's boundary (the numbers are recomputed by
#: tests/test_constrained_review.py).
BOUNDARY_CHOICE = (
    "starts on the target's boundary: 4 of the 289 grid starts, (+-1, 0) and (0, +-1), lie exactly on |x| = 1; "
    "the unit ball is open (escapade's Ball), so such a start counts only if its path later enters the ball (the "
    "paper does not say whether its ball is open or closed). At the reproduction's setting all 4 do, in every row "
    "and without forcing, so counting them at t = 0 (a closed ball) would change no count; at the best-fit setting "
    "one path, from (1, 0) at A = 1, omega = 0.1, never enters: a closed ball would give 188 instead of 187 in that "
    "row (sum |d| 134 and chi2 39.8 instead of 135 and 40.4; the verdict is the same)")


def successes(setting: Setting, result: Any) -> np.ndarray:
    """Which paths of a run at `setting` succeed under its rule: status HIT (run with the unit-ball target) for
    "by t = 20", |x(20)| <= 1 (run without a target) for "at t = 20"."""
    if setting.rule == "by t = 20":
        return np.asarray(result.status) == Status.HIT
    return np.linalg.norm(np.asarray(result.final_position), axis=1) <= 1.0


def table_counts(setting: Setting, *, threads: int | None = None,
                 progress: bool | None = None) -> tuple[np.ndarray, list[SweepResult]]:
    """The 20 grid counts (Table I's rows, then Table II's) of a setting, and the two sweeps that made them."""
    f = Ackley(a=A_PAPER, d=D_PAPER, c=setting.c)
    kw: dict[str, Any] = dict(x0=extent_grid(setting.extent), t_max=T_SUCCESS, seed=0, threads=threads,
                              progress=progress)
    if setting.rule == "by t = 20":
        kw["target"] = Ball([0.0, 0.0], 1.0)
    counts, sweeps = [], []
    for rows, key in ((TABLE_I, "dynamics.forcing.omega"), (TABLE_II, "dynamics.forcing.amplitude")):
        values = [r[1] if key.endswith("omega") else r[0] for r in rows]
        res = sweep(f, setting.flow(rows[0][0], rows[0][1]), grid={key: values}, **kw)
        counts += [int(np.count_nonzero(successes(setting, r))) for r in res]
        sweeps.append(res)
    return np.array(counts), sweeps


def distance(counts: ArrayLike, paper: ArrayLike = PAPER_COUNTS) -> dict[str, float]:
    """How far 20 counts out of 289 are from the paper's: the sum and the largest of |count differences|,
    chi2 = sum of (difference)^2 / (289 p (1 - p)) with p the paper's rate (each difference in units of a
    binomial count's variance at the paper's rate), and how many rows differ by more than 2 such SD. A paper count
    of 0 or 289 (variance 0) is refused."""
    k, q = np.asarray(counts, dtype=float), np.asarray(paper, dtype=float)
    if k.shape != q.shape:
        raise ValueError(f"counts must have shape {q.shape}, got {k.shape}")
    if not np.all((q > 0) & (q < 289)):
        raise ValueError(f"paper counts must lie strictly between 0 and 289 (a binomial variance of 0 leaves chi2 "
                         f"undefined), got {np.asarray(paper)[(q <= 0) | (q >= 289)].tolist()}")
    p = q / 289
    d = k - q
    var = 289 * p * (1 - p)
    return {"l1": float(np.abs(d).sum()), "max": float(np.abs(d).max()), "chi2": float(np.sum(d * d / var)),
            "beyond_2sd": int(np.count_nonzero(np.abs(d) > 2 * np.sqrt(var)))}


def model(alpha: float = ALPHA, c: float = C_DEFAULT) -> tuple[Ackley, ConstrainedFlow, Ball]:
    """The landscape, the unforced flow and the target of the experiment."""
    flow = ConstrainedFlow(Parabola(), alpha=alpha, **METHODS[CURRENT.method])
    return Ackley(a=A_PAPER, d=D_PAPER, c=c), flow, Ball([0.0, 0.0], 1.0)


def _forced(flow: ConstrainedFlow, amplitude: float, omega: float) -> ConstrainedFlow:
    return Setting(alpha=flow.alpha).flow(amplitude, omega)


def _rates(res: SweepResult) -> list[SuccessRate]:
    return [success_rate(r) for r in res]


def _pct(s: SuccessRate) -> str:
    return f"{100 * s.rate:.2f}"


def _ci(s: SuccessRate) -> str:
    return f"[{100 * s.low:.1f}, {100 * s.high:.1f}]"


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    n_uniform = 10_000 if paths is None else paths
    f, flow, target = model()
    grid = extent_grid(CURRENT.extent)  # 289 points, as the tables' percentages show
    box = UniformBox([-HALF_SIDE] * 2, [HALF_SIDE] * 2)
    common: dict[str, Any] = dict(target=target, t_max=T_SUCCESS, threads=threads, progress=progress)
    start_sets: dict[str, dict[str, Any]] = {"grid": dict(x0=grid), "uniform_289": dict(x0=box, n_paths=289),
                  "uniform": dict(x0=box, n_paths=n_uniform)}

    unforced = {name: success_rate(simulate(f, flow, seed=seed, **kw, **common)) for name, kw in start_sets.items()}
    tables: dict[str, list[dict[str, Any]]] = {}
    results: dict[str, Any] = {}
    text_tables = []
    current_counts: list[int] = []
    for label, rows, key in (("I", TABLE_I, "dynamics.forcing.omega"), ("II", TABLE_II, "dynamics.forcing.amplitude")):
        values = [r[1] if key.endswith("omega") else r[0] for r in rows]
        base = _forced(flow, rows[0][0], rows[0][1])
        per_start = {}
        for name, kw in start_sets.items():
            res = sweep(f, base, grid={key: values}, seed=seed, **kw, **common)
            per_start[name] = _rates(res)
            if name == "grid":
                results[f"table-{label}-grid"] = res
        doc_rows, text_rows = [], []
        for i, (amp, omega, paper) in enumerate(rows):
            g, u289, u = (per_start[n][i] for n in ("grid", "uniform_289", "uniform"))
            current_counts.append(g.successes)
            doc_rows.append({"A": amp, "omega": omega, "paper_percent": paper,
                             "paper_count_of_289": int(PAPER_COUNTS[len(current_counts) - 1]),
                             "grid": g.to_dict(), "uniform_289": u289.to_dict(), "uniform": u.to_dict()})
            text_rows.append([f"{amp:g}", f"{omega:g}", f"{paper:.2f}", _pct(g), _ci(g), _pct(u289), _pct(u), _ci(u)])
        tables[label] = doc_rows
        text_tables.append(format_table(["A", "omega", "paper %", "grid 289 %", "95% CI", "unif 289 %",
                                          f"unif {n_uniform} %", "95% CI"], text_rows))

    # How much the unstated parameters matter: the grid's unforced success rate for other alpha and c.
    sensitivity: list[dict[str, Any]] = []
    for alpha in (0.1, 1.0, 10.0):
        for c in (2 * math.pi, math.pi):
            fs, fl, _ = model(alpha, c)
            s = success_rate(simulate(fs, fl, x0=grid, seed=seed, **common))
            sensitivity.append({"alpha": alpha, "c": c, "grid": s.to_dict()})

    # The second table: the searched setting closest to the paper's counts (BEST_FIT).
    best_counts, best_sweeps = table_counts(BEST_FIT, threads=threads, progress=progress)
    results["best-fit-table-I-grid"], results["best-fit-table-II-grid"] = best_sweeps
    best_fit = _best_fit_table(np.array(current_counts), best_counts)

    data = {
        "params": {
            "landscape": f.to_dict(),
            "dynamics": flow.to_dict(),
            "target": target.to_dict(),
            "t_max": T_SUCCESS,
            "square": [-HALF_SIDE, HALF_SIDE],
            "grid": "17 x 17 regular grid on the square, endpoints included (289 points)",
            "uniform": f"uniform in the square: 289 points, and {n_uniform} points",
            "unstated_by_the_paper": {"c": C_DEFAULT, "alpha": ALPHA, "integrator": "dp54 (rtol 1e-6, atol 1e-9)"},
        },
        "unforced": {"paper_percent": UNFORCED_PAPER, **{k: v.to_dict() for k, v in unforced.items()}},
        "table_I": tables["I"],
        "table_II": tables["II"],
        "sensitivity_unforced": sensitivity,
        "best_fit": best_fit,
    }
    u0 = unforced
    text = "\n".join([
        "000, Section VI: success = reaching the unit ball around 0 by t = 20 under x' = U_alpha(x) + w(t)",
        f"f = Ackley variant (12), a = 20, d = 0.05, c = 2 pi; g = x1 - x2^2/2; alpha = {ALPHA}; Dormand-Prince 5(4);",
        f"starts: 17 x 17 grid on [-4, 4]^2 (289), uniform (289 and {n_uniform} points); seed {seed}",
        "",
        f"without forcing: paper about {UNFORCED_PAPER:g}% (298 random starts); grid {_pct(u0['grid'])}% "
        f"{_ci(u0['grid'])}, uniform 289 {_pct(u0['uniform_289'])}%, uniform {n_uniform} {_pct(u0['uniform'])}% "
        f"{_ci(u0['uniform'])}",
        "",
        "Table I (A = 1, omega varies), success rate in %",
        text_tables[0],
        "",
        "Table II (omega = 1, A varies), success rate in %",
        text_tables[1],
        "",
        "Unforced grid success rate for other values of the unstated alpha and c:",
        ", ".join(f"alpha {s['alpha']:g}, c {'2 pi' if s['c'] > 4 else 'pi'}: {100 * s['grid']['rate']:.1f}%"
                  for s in sensitivity),
        "",
        _best_fit_text(best_fit),
    ])
    figures = {name: _figure(name, seed) for name in ("figure-1", "figure-2", "figure-3", "figure-4")}
    design = Design(
        dt=f"DP5(4), adaptive (rtol 1e-6, atol 1e-9, first step 0.01), entry into the unit ball located to 1e-9 "
           f"in time; the best-fit table: {_method_text(BEST_FIT.method)}",
        paths=f"289 grid starts per row (the paper's counts are out of 289); {n_uniform} and 289 uniform starts "
              f"per row beside them",
        seeds=f"the flow is deterministic: the grid columns use no random numbers (20 distinct settings of (A, omega), "
              f"exact counts); the two uniform columns are one sample each ({n_uniform} and 289 starts) from seed "
              f"{seed}, the same sample in every row (common random numbers), so as random experiments the 20 rows "
              f"count once; the best-fit table's rows (grid counts at another setting) are not among the rows "
              f"counted",
        censoring="none: a path that has not entered the unit ball by t = 20 is a failure (the success rule), "
                  "not a censored observation; no path ends otherwise (the parabola's J J^T never vanishes)",
        rows=len(TABLE_I) + len(TABLE_II), independent=1,
        choices=(
            f"alpha (the constraint's pull, unstated): {ALPHA:g}; c (Ackley's frequency, unstated): 2 pi. How much "
            "they matter: the unforced grid rate at the other values is printed above the best-fit table",
            "starts: the 17 x 17 grid on [-4, 4]^2 with its corners, because the tables' percentages are whole "
            "counts out of 289 (the text's 298 random starts fit none of them); the cell centres, [-5, 5]^2 and "
            "[0, 8] x [-4, 4] were searched (docs/constraints.md: 'The unstated choices, searched')",
            "forcing phase: A [cos(omega t), sin(omega t)] (phi = 0); success: entering the unit ball at any t <= 20 "
            "(not being inside it at t = 20, which fits the paper's counts far worse in the search)",
            "integrator: DP5(4) at rtol 1e-6; at rtol 1e-10, and with an independent numpy RK4 at h = 0.0025, the "
            "21 grid counts are the same (converged); at rtol 1e-3 single counts move by up to 8",
            BOUNDARY_CHOICE,
        ))
    return Report(data=data, text=text, results=results, figures=figures, design=design)


def _method_text(method: str) -> str:
    m = METHODS[method]
    if method == CURRENT.method:
        return "the same"
    if m["method"] == "rk4":
        return f"RK4, fixed step {m['dt']:g}, entry into the ball located on the step's cubic interpolant"
    return f"DP5(4), adaptive (rtol {m['rtol']:.0e}, atol {m['atol']:.0e}, first step {m['dt']:g})"


def _best_fit_table(current: np.ndarray, best: np.ndarray) -> dict[str, Any]:
    rows = []
    for i, (amp, omega, _) in enumerate(TABLE_I + TABLE_II):
        rows.append({"table": "I" if i < len(TABLE_I) else "II", "A": amp, "omega": omega,
                     "paper_count": int(PAPER_COUNTS[i]), "current_count": int(current[i]),
                     "best_fit_count": int(best[i]), "best_fit_residual": int(best[i] - PAPER_COUNTS[i])})
    return {"setting": BEST_FIT.to_dict(), "current_setting": CURRENT.to_dict(),
            "found_by": "bench/ackley_model_search.py", "rows": rows,
            "distance_current": distance(current), "distance_best_fit": distance(best)}


def _setting_text(s: Setting) -> str:
    return (f"c = {s.c / (2 * math.pi):.4g} x 2 pi, alpha = {s.alpha:g}, grid {s.extent}, "
            f"phase {s.phase / math.pi:g} pi, success {s.rule}, {s.method}")


def _best_fit_text(best_fit: dict[str, Any]) -> str:
    dc, db = best_fit["distance_current"], best_fit["distance_best_fit"]
    rows = [[r["table"], f"{r['A']:g}", f"{r['omega']:g}", str(r["paper_count"]), str(r["current_count"]),
             str(r["best_fit_count"]), f"{r['best_fit_residual']:+d}"] for r in best_fit["rows"]]
    return "\n".join([
        "Counts out of 289 grid starts: the paper's, this reproduction's setting, and the setting closest to the",
        "paper's counts (smallest chi2) of the 1,145 searched by bench/ackley_model_search.py (inside the searched",
        "ranges of c and alpha; the smallest sum |d| searched, 132, has chi2 56.2)",
        f"  current:  {_setting_text(CURRENT)}",
        f"  best fit: {_setting_text(BEST_FIT)}",
        format_table(["table", "A", "omega", "paper", "current", "best fit", "best - paper"], rows),
        "distance to the paper: sum |d|, max |d|, chi2 = sum d^2 / (289 p (1 - p)) with p the paper's rate, rows",
        f"with |d| > 2 sqrt(289 p (1 - p)): current {dc['l1']:.0f}, {dc['max']:.0f}, {dc['chi2']:.1f}, "
        f"{dc['beyond_2sd']}; best fit {db['l1']:.0f}, {db['max']:.0f}, {db['chi2']:.1f}, {db['beyond_2sd']} "
        f"(chi2 of {len(PAPER_COUNTS)} binomial rows exceeds {CHI2_95:.1f} with probability 5%):",
        "no setting searched reproduces the tables within noise (docs/constraints.md)",
    ])


# --- figures ---------------------------------------------------------------------------------------------------

# Starting points of the drawn trajectories: a fixed sample of the square, the same in every figure.
_N_DRAWN = 24


def _trajectories(seed: int, amplitude: float = 0.0, omega: float = 1.0) -> Any:
    f, flow, target = model()
    if amplitude:
        flow = _forced(flow, amplitude, omega)
    starts = UniformBox([-HALF_SIDE] * 2, [HALF_SIDE] * 2).sample(_N_DRAWN, seed=seed)
    return simulate(f, flow, x0=starts, target=target, t_max=T_SUCCESS, seed=seed, record_paths=_N_DRAWN,
                    threads=1)


def _panel(ax: Any, res: Any, title: str) -> None:
    f, _, target = model()
    plot.landscape(f, (-HALF_SIDE - 1, HALF_SIDE + 1), (-HALF_SIDE - 1, HALF_SIDE + 1), ax=ax, result=res,
                   regions=[target], levels=25)
    y = np.linspace(-HALF_SIDE - 1, HALF_SIDE + 1, 200)
    ax.plot(y**2 / 2, y, color="white", linewidth=1.2, linestyle=":", label="g(x) = 0")
    ax.set_xlabel("$x_1$")  # the paper's names of coordinates 0 and 1
    ax.set_ylabel("$x_2$")
    ok = int(np.count_nonzero(res.status == Status.HIT))
    ax.set_title(f"{title}: {ok}/{res.n_paths} reach the unit ball by t = 20", fontsize="medium")


def _figure(name: str, seed: int) -> Callable[[Path], None]:
    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if name == "figure-1":
            fig, ax = plt.subplots(figsize=(6.5, 5.5))
            f, _, _ = model()
            plot.landscape(f, (-HALF_SIDE, HALF_SIDE), (-HALF_SIDE, HALF_SIDE), ax=ax, levels=30, resolution=300)
            y = np.linspace(-HALF_SIDE, HALF_SIDE, 200)
            ax.plot(y**2 / 2, y, color="white", linewidth=1.5, label="feasible set x1 = x2^2/2")
            ax.legend(loc="upper right", fontsize="small", facecolor="0.7")
            ax.set_xlabel("$x_1$")
            ax.set_ylabel("$x_2$")
            ax.set_title("Ackley variant (12), a = 20, d = 0.05, c = 2 pi", fontsize="medium")
        else:
            cases = {"figure-2": [(0.0, 1.0, "no forcing")],
                     "figure-3": [(1.0, 0.1, "A = 1, omega = 0.1"), (1.0, 0.27826, "A = 1, omega = 0.278")],
                     "figure-4": [(0.46416, 1.0, "A = 0.464, omega = 1"), (3.1623, 1.0, "A = 3.16, omega = 1")]}[name]
            fig, axes = plt.subplots(1, len(cases), figsize=(6.5 * len(cases), 5.5), squeeze=False)
            for ax, (amplitude, omega, title) in zip(axes[0], cases):
                _panel(ax, _trajectories(seed, amplitude, omega), title)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    return draw
