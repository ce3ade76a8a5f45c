"""Drifts that are not gradients: a vector field b(x[, t]) given as itself, for `Langevin`
(dX = [b(X, t) + w(t)] dt + noise).

A `Drift` is not a `Landscape`: it has no value f(x), and its `field` is never read as minus a gradient. The
analysis functions that need a gradient (critical points, barriers, Kramers and Eyring rates, the exact 1-D
references) refuse it with a TypeError; `simulate` runs it with `Langevin` only.

Built-ins: `LinearDrift` (b(x) = -A (x - center), any square A: non-symmetric A is the standard non-normal,
non-gradient linear SDE whose quasi-potential `analysis.linear_quasipotential` gives) and `TiltedPeriodic` (the
tilted washboard F - V0 (2 pi / L) sin(2 pi x / L), coordinate by coordinate). User drifts: `CompiledDrift`
(numba) and `BatchedDrift` (numpy on a block of points) in `escapade.custom`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_float, as_times, check_dim, real_array

__all__ = ["Drift", "LinearDrift", "TiltedPeriodic", "refuse_drift"]


def refuse_drift(name: str, value: Any, needs: str = "a gradient") -> None:
    """TypeError when `value` is a `Drift`: the caller needs a landscape f (`needs` says why)."""
    if isinstance(value, Drift):
        raise TypeError(f"{name} must be an escapade Landscape ({needs}), got the drift {value!r}: a Drift b(x) is "
                        f"not the gradient of a function")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Drift(Spec):
    """Common interface: `dim`, `time_dependent` and `field(x, t=0)` = b(x, t)."""

    @property
    def dim(self) -> int:
        return int(self._core.dim)

    @property
    def time_dependent(self) -> bool:
        return bool(self._core.time_dependent)

    def field(self, x: ArrayLike, t: ArrayLike | float = 0.0) -> np.ndarray:
        """b(x, t) at a point (d,) -> (d,) or at each row of (n, d) -> (n, d), at time(s) t."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the drift's dimension")
        pts = a.reshape(1, -1) if a.ndim == 1 else a
        times = as_times("t", t, pts.shape[0])
        b = self._core.field(pts, times)
        return b[0] if a.ndim == 1 else b

    def __call__(self, x: ArrayLike, t: ArrayLike | float = 0.0) -> np.ndarray:
        return self.field(x, t)

    # A drift is not a landscape: the methods a landscape has say so rather than being missing.
    def gradient(self, x: ArrayLike) -> np.ndarray:
        raise TypeError(f"{self!r} is a drift b(x), not a landscape: it has no gradient (b is not assumed to be "
                        f"-grad f); use field(x)")

    def value(self, x: ArrayLike) -> float:
        raise TypeError(f"{self!r} is a drift b(x), not a landscape: it has no value f(x)")

    def hessian(self, x: ArrayLike) -> np.ndarray:
        raise TypeError(f"{self!r} is a drift b(x), not a landscape: it has no Hessian")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class LinearDrift(Drift):
    """b(x) = -A (x - center) for a square matrix A (eigenvalues with positive real parts: a stable point at
    `center`). A non-symmetric A is not a gradient; the Freidlin-Wentzell quasi-potential of
    dX = -A X dt + sqrt(2 T) dW is x^T Q^{-1} x / 2 with A Q + Q A^T = 2 I (`analysis.linear_quasipotential`)."""

    A: np.ndarray
    center: np.ndarray | None = None

    def __init__(self, A: ArrayLike, *, center: ArrayLike | None = None) -> None:
        M = as_array("A", A, ndim=2)
        if M.shape[0] != M.shape[1]:
            raise ValueError(f"A must be a square matrix, got shape {M.shape}")
        object.__setattr__(self, "A", M)
        if center is not None:
            c = as_array("center", center, ndim=1)
            if c.shape[0] != M.shape[0]:
                raise ValueError(f"center must have length {M.shape[0]} (A's size), got {c.shape[0]}")
            object.__setattr__(self, "center", c)
        else:
            object.__setattr__(self, "center", None)

    def _to_core(self) -> Any:
        c = np.zeros(self.A.shape[0]) if self.center is None else self.center
        return _core.LinearDrift(A=self.A, center=c)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class TiltedPeriodic(Drift):
    """The tilted periodic potential's force, coordinate by coordinate:
    b_i(x) = force_i - barrier (2 pi / period) sin(2 pi x_i / period), the force of
    U(x) = sum_i [-barrier cos(2 pi x_i / period) - force_i x_i]. On the circle (x mod period) the field has no
    potential when force != 0; for |force| < 2 pi barrier / period it has stable points, beyond it runs."""

    force: np.ndarray
    barrier: float = 1.0
    period: float = 2 * math.pi

    def __init__(self, force: ArrayLike | float, *, barrier: float = 1.0, period: float = 2 * math.pi) -> None:
        F = as_array("force", np.atleast_1d(real_array("force", force)), ndim=1)
        object.__setattr__(self, "force", F)
        object.__setattr__(self, "barrier", as_float("barrier", barrier, nonnegative=True))
        object.__setattr__(self, "period", as_float("period", period, positive=True))

    def _to_core(self) -> Any:
        return _core.TiltedPeriodicDrift(force=self.force, barrier=self.barrier, period=self.period)
