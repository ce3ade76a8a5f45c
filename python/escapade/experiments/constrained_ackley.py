"""`escapade reproduce constrained-ackley`: 000's numerical example (Section VI, Figures 1-4, Tables I and II).

The Ackley variant (12) with a = 20, d = 0.05 on the parabola x1 = x2^2 / 2, the projected flow (7) with periodic
forcing w(t) = A [cos(omega t), sin(omega t)], success = entering the unit ball around the global minimizer 0
by t = 20. The paper does not state c, alpha or the integrator; this reproduction takes c = 2 pi (the classical
Ackley value), alpha = 1 and Dormand-Prince 5(4) with located events, and does not tune them to the tables.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import plot
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
from .report import Report, format_table

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


def model(alpha: float = ALPHA, c: float = C_DEFAULT) -> tuple[Ackley, ConstrainedFlow, Ball]:
    """The landscape, the unforced flow and the target of the experiment."""
    flow = ConstrainedFlow(Parabola(), dt=0.01, alpha=alpha, method="dp54", rtol=1e-6, atol=1e-9)
    return Ackley(a=A_PAPER, d=D_PAPER, c=c), flow, Ball([0.0, 0.0], 1.0)


def _forced(flow: ConstrainedFlow, amplitude: float, omega: float) -> ConstrainedFlow:
    return ConstrainedFlow(flow.constraint, dt=flow.dt, alpha=flow.alpha, method=flow.method, rtol=flow.rtol,
                           atol=flow.atol, forcing=Periodic(amplitude, omega))


def _rates(res: SweepResult) -> list[SuccessRate]:
    return [success_rate(r) for r in res]


def _pct(s: SuccessRate) -> str:
    return f"{100 * s.rate:.2f}"


def _ci(s: SuccessRate) -> str:
    return f"[{100 * s.low:.1f}, {100 * s.high:.1f}]"


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    n_uniform = 10_000 if paths is None else paths
    f, flow, target = model()
    grid = grid_points([-HALF_SIDE] * 2, [HALF_SIDE] * 2, 17)  # 289 points, as the tables' percentages show
    box = UniformBox([-HALF_SIDE] * 2, [HALF_SIDE] * 2)
    common: dict[str, Any] = dict(target=target, t_max=T_SUCCESS, threads=threads, progress=progress)
    start_sets: dict[str, dict[str, Any]] = {"grid": dict(x0=grid), "uniform_289": dict(x0=box, n_paths=289),
                  "uniform": dict(x0=box, n_paths=n_uniform)}

    unforced = {name: success_rate(simulate(f, flow, seed=seed, **kw, **common)) for name, kw in start_sets.items()}
    tables: dict[str, list[dict[str, Any]]] = {}
    results: dict[str, Any] = {}
    text_tables = []
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
            doc_rows.append({"A": amp, "omega": omega, "paper_percent": paper,
                             "paper_count_of_289": round(paper * 289 / 100),
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
    ])
    figures = {name: _figure(name, seed) for name in ("figure-1", "figure-2", "figure-3", "figure-4")}
    return Report(data=data, text=text, results=results, figures=figures)


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
