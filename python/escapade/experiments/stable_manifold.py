"""`escapade reproduce stable-manifold`: the local stable manifold of Perko's example (002) by the Lyapunov-Perron
iteration and by bisection, against its exact form x3 = -x1^2/3."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..analysis.manifolds import stable_manifold
from .report import Design, Report, finite, format_table

__all__ = ["run"]

DT = 0.005  # the Lyapunov-Perron grid


def _perko(x: np.ndarray) -> np.ndarray:
    """Perko's example at a point (3,) or at each row of (m, 3)."""
    x1, x2, x3 = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([-x1, -x2 + x1**2, x3 + x1**2], axis=-1)


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """The local stable manifold of Perko's example against its exact form x3 = -x1^2/3."""
    n_points = 50 if paths is None else paths
    radius = 0.5
    rows, table = [], []
    deviations: list[float] = []
    start = time.perf_counter()

    def deviation_of(m: Any) -> float:
        x = m.points[m.converged]
        return float(np.max(np.abs(x[:, 2] + x[:, 0] ** 2 / 3))) if len(x) else math.nan

    for method, n in (("lyapunov_perron", n_points), ("bisection", max(1, n_points // 5))):
        m = stable_manifold(_perko, np.zeros(3), radius=radius, n_points=n, method=method, seed=seed, dt=DT,
                            tol=1e-9, vectorized=True)
        x = m.points[m.converged]
        deviation = deviation_of(m)
        deviations.append(deviation)
        rows.append({"method": method, "n_points": n, "converged": int(m.converged.sum()),
                     "max_deviation": finite(deviation),
                     "max_x1": finite(float(np.max(np.abs(x[:, 0]))) if len(x) else math.nan)})
        table.append([method, str(n), str(int(m.converged.sum())), f"{deviation:.2e}"])
    # The Lyapunov-Perron deviation is its quadrature's O(dt^2) error (the kernel exact against a linear
    # interpolant of the nonlinearity): the same points at 2 dt.
    coarse = deviation_of(stable_manifold(_perko, np.zeros(3), radius=radius, n_points=n_points,
                                          method="lyapunov_perron", seed=seed, dt=2 * DT, tol=1e-9, vectorized=True))
    fine = deviations[0]  # Lyapunov-Perron's at DT
    ratio = coarse / fine if fine > 0 else math.nan
    elapsed = time.perf_counter() - start
    data = {
        "params": {"system": "x1' = -x1, x2' = -x2 + x1^2, x3' = x3 + x1^2", "fixed_point": [0.0, 0.0, 0.0],
                   "radius": radius, "n_points": n_points},
        "exact": "x3 = -x1^2 / 3",
        "rows": rows,
        "lyapunov_perron_deviation_at_2dt": finite(coarse),
        "elapsed": elapsed,
    }
    text = "\n".join([
        "Local stable manifold of x1' = -x1, x2' = -x2 + x1^2, x3' = x3 + x1^2 at the origin (Perko)",
        f"points above stable parts drawn uniformly in the disc of radius {radius} of E^s = {{x3 = 0}}, seed {seed}",
        "exact: x3 = -x1^2/3",
        "",
        format_table(["method", "points", "converged", "max |x3 + x1^2/3|"], table),
        "",
        f"Lyapunov-Perron at dt = {2 * DT:g}: {coarse:.2e}, {ratio:.2f} times the deviation at dt = {DT:g}: the",
        "deviation is its quadrature's O(dt^2) error. Its horizon is 30 (30 / the slowest rate, 1) and it stops when",
        "an orbit changes by less than 1e-9. Bisection, the package's own cross-check (002 gives only the iteration),",
        f"brackets the unstable coordinate in [-{2 * radius:g}, {2 * radius:g}] and asks on which side an orbit leaves the ball",
        f"of radius {4 * radius:g} (solve_ivp, rtol 1e-9, atol 1e-12, horizon 30), down to a width of 1e-9; its deviation",
        "is about that width.",
    ])
    design = Design(
        dt=f"{DT:g}: the Lyapunov-Perron iteration's grid (the nonlinearity linear between its points; also run at {2 * DT:g}); bisection "
           "takes adaptive steps (solve_ivp, rtol 1e-9, atol 1e-12) and no dt",
        paths=" and ".join(str(r["n_points"]) for r in rows) + " points",
        seeds=f"seed {seed} for both rows: each draws its own points (normals for the directions, then uniforms "
              "for the radii), so bisection's points share their directions with the first of Lyapunov-Perron's "
              "but not their radii",
        censoring="none (points that do not converge are counted in the table)", rows=len(rows), independent=1,
        choices=("Perko's example is degenerate for the Lyapunov-Perron iteration: its nonlinearity depends on x1 "
                 "alone, whose orbit is exactly linear, so one sweep is exact up to the quadrature and the "
                 "deviation measures the quadrature, not the iteration's convergence",))
    return Report(data=data, text=text, results={}, design=design)
