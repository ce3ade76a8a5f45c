"""`escapade reproduce stable-manifold`: the local stable manifold of Perko's example (002) by the Lyapunov-Perron
iteration and by bisection, against its exact form x3 = -x1^2/3."""

from __future__ import annotations

import math
import time

import numpy as np

from ..analysis.manifolds import stable_manifold
from .report import Design, Report, finite, format_table

__all__ = ["run"]


def _perko(x: np.ndarray) -> np.ndarray:
    """Perko's example at a point (3,) or at each row of (m, 3)."""
    x1, x2, x3 = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([-x1, -x2 + x1**2, x3 + x1**2], axis=-1)


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """The local stable manifold of Perko's example against its exact form x3 = -x1^2/3."""
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
                     "max_deviation": finite(deviation),
                     "max_x1": finite(float(np.max(np.abs(x[:, 0]))) if len(x) else math.nan)})
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
        format_table(["method", "points", "converged", "max |x3 + x1^2/3|"], table),
        "",
        f"{elapsed:.1f} s.",
    ])
    design = Design(
        dt="0.005 (the integration step of both methods)",
        paths=" and ".join(str(r["n_points"]) for r in rows) + " points",
        seeds=f"seed {seed} for both rows (bisection refines the first of the same points)",
        censoring="none (points that do not converge are counted in the table)", rows=len(rows), independent=1)
    return Report(data=data, text=text, results={}, design=design)
