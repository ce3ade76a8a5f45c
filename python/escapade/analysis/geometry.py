"""Geometry of a landscape: minima, index-1 saddles, their Hessians and spectra, barrier heights.

Every function takes a landscape object with ``value(x)``, ``gradient(x)`` and ``hessian(x)`` for a point
``x`` of shape (d,) (every escapade `Landscape` has them, evaluated by the compiled core).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from .._validate import as_float, as_int
from ..drifts import refuse_drift

__all__ = ["CriticalPoint", "barrier", "critical_point", "find_minimum", "find_saddle"]


def _check_landscape(landscape: Any) -> None:
    refuse_drift("landscape", landscape, "a function whose critical points are sought")
    for method in ("value", "gradient", "hessian"):
        if not callable(getattr(landscape, method, None)):
            raise TypeError(f"landscape must have value, gradient and hessian methods (an escapade Landscape), "
                            f"got {type(landscape).__name__}")


def _point(name: str, x: Any, landscape: Any) -> np.ndarray:
    if isinstance(x, CriticalPoint):
        x = x.x
    try:
        a = np.array(x, dtype=np.float64).reshape(-1) if np.ndim(x) <= 1 else None
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a point (an array of d real numbers), got {x!r}") from None
    if a is None or a.size == 0:
        raise ValueError(f"{name} must be a point of shape (d,), got {x!r}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {a.tolist()}")
    dim = getattr(landscape, "dim", a.size)
    if a.size != dim:
        raise ValueError(f"{name} must have {dim} components (the landscape's dimension), got {a.size}")
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class CriticalPoint:
    """A point of a landscape with its value, gradient, Hessian and the Hessian's spectrum.

    Attributes
    ----------
    x : (d,) the point.
    value : f(x).
    gradient : (d,) grad f(x) (zero, to the solver's tolerance, at a critical point).
    hessian : (d, d) the Hessian at x.
    eigenvalues : (d,) its eigenvalues, increasing; eigenvectors : (d, d) the matching unit eigenvectors, as
        columns.
    """

    x: np.ndarray
    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray

    @property
    def index(self) -> int:
        """The number of negative eigenvalues: 0 at a minimum, 1 at an index-1 saddle."""
        return int(np.count_nonzero(self.eigenvalues < 0))

    @property
    def gradient_norm(self) -> float:
        return float(np.linalg.norm(self.gradient))

    @property
    def log_abs_det(self) -> float:
        """log |det H| (the sum of log |eigenvalue|)."""
        return float(np.sum(np.log(np.abs(self.eigenvalues))))

    def __repr__(self) -> str:
        return (f"CriticalPoint(x={np.array2string(self.x, precision=6)}, value={self.value:.8g}, "
                f"index={self.index}, |grad|={self.gradient_norm:.2g}, "
                f"eigenvalues={np.array2string(self.eigenvalues, precision=4)})")


def critical_point(landscape: Any, x: ArrayLike | CriticalPoint) -> CriticalPoint:
    """The value, gradient, Hessian and Hessian spectrum of `landscape` at the point `x` (no search)."""
    _check_landscape(landscape)
    a = _point("x", x, landscape)
    H = np.asarray(landscape.hessian(a), dtype=np.float64)
    H = (H + H.T) / 2
    w, V = np.linalg.eigh(H)
    return CriticalPoint(x=a, value=float(landscape.value(a)), gradient=np.asarray(landscape.gradient(a), float),
                         hessian=H, eigenvalues=w, eigenvectors=V)


def find_minimum(landscape: Any, x0: ArrayLike, *, gtol: float = 1e-10, max_iter: int = 1000) -> CriticalPoint:
    """A local minimum of `landscape`, from the start `x0`.

    Minimizes with scipy's exact trust-region Newton method (``scipy.optimize.minimize(method="trust-exact")``)
    using the landscape's own gradient and Hessian, which also leaves a saddle or a maximum along a direction of
    negative curvature, then, if |grad f| >= gtol, a few plain Newton steps while the Hessian is positive definite
    and |grad f| decreases (trust-exact can stop early where f's round-off hides its predicted decrease).

    Parameters
    ----------
    landscape : an escapade Landscape (or anything with value, gradient, hessian).
    x0 : (d,) the start.
    gtol : stop when |grad f| < gtol.
    max_iter : iteration cap.

    Returns
    -------
    CriticalPoint
        With index 0.

    Raises
    ------
    RuntimeError
        If the search does not reach a point with |grad f| <= 1e3 gtol and a positive semi-definite Hessian
        (e.g. f unbounded below from this start).
    """
    _check_landscape(landscape)
    x = _point("x0", x0, landscape)
    gtol = as_float("gtol", gtol, positive=True)
    max_iter = as_int("max_iter", max_iter, minimum=1)

    def hess(p: np.ndarray) -> np.ndarray:
        H = np.asarray(landscape.hessian(p), dtype=np.float64)
        return (H + H.T) / 2

    res = optimize.minimize(lambda p: float(landscape.value(p)), x, jac=lambda p: np.asarray(landscape.gradient(p)),
                            hess=hess, method="trust-exact", options={"gtol": gtol, "maxiter": int(max_iter)})
    point = critical_point(landscape, _newton_polish(landscape, res.x, gtol))
    floor = -1e-10 * float(np.abs(point.eigenvalues).max())  # relative: f's units change no decision
    if not (point.gradient_norm <= 1e3 * gtol and point.eigenvalues[0] >= floor):
        raise RuntimeError(f"find_minimum did not converge from x0={x.tolist()}: ended at {point!r} ({res.message})")
    return point


def _newton_polish(landscape: Any, x: np.ndarray, gtol: float, steps: int = 10) -> np.ndarray:
    """Plain Newton steps x -= H^-1 g while |g| > gtol, H is positive definite and |g| decreases.

    trust-exact also stops on "a bad approximation caused failure to predict improvement" when the predicted
    decrease of f is below the round-off of f (large values, as on a scaled or Müller–Brown landscape) while
    |g| is still above gtol; Newton on grad f = 0 does not look at f and finishes the job."""
    g = np.asarray(landscape.gradient(x), dtype=np.float64)
    for _ in range(steps):
        gnorm = float(np.linalg.norm(g))
        if not gnorm > gtol:
            break
        H = np.asarray(landscape.hessian(x), dtype=np.float64)
        try:
            L = np.linalg.cholesky((H + H.T) / 2)  # fails unless positive definite: not a minimum's basin
        except np.linalg.LinAlgError:
            break
        trial = x - np.linalg.solve(L.T, np.linalg.solve(L, g))
        g_trial = np.asarray(landscape.gradient(trial), dtype=np.float64)
        if not float(np.linalg.norm(g_trial)) < gnorm:
            break
        x, g = trial, g_trial
    return x


def find_saddle(
    landscape: Any, x0: ArrayLike, *, gtol: float = 1e-10, max_iter: int = 1000, max_step: float = 0.1,
    direction: ArrayLike | None = None,
) -> CriticalPoint:
    """An index-1 saddle of `landscape`, by eigenvector following from the start `x0`.

    Each step works in the eigenbasis (lambda_i, v_i) of the Hessian at the current point: it goes uphill along
    the lowest mode v_1 and downhill along the others, each component scaled by 1 / |lambda_i|,

        dx = (g . v_1) v_1 / |lambda_1| - sum_{i >= 2} (g . v_i) v_i / |lambda_i|,

    and is cut to `max_step`. Where the Hessian has exactly one negative eigenvalue this is Newton's step on
    grad f = 0, so convergence is quadratic near the saddle; from a start in a basin (lambda_1 > 0) it climbs the
    softest direction. A start nearer the saddle than the minima (the midpoint of two minima, the highest image of
    `minimum_energy_path`) is the safe choice.

    Parameters
    ----------
    landscape : an escapade Landscape (or anything with value, gradient, hessian).
    x0 : (d,) the start.
    gtol : stop when |grad f| < gtol at a point of index 1.
    max_iter : iteration cap.
    max_step : the largest step length (a trust radius).
    direction : (d,) which way to climb if the start is a critical point itself (default: the lowest mode).

    Returns
    -------
    CriticalPoint
        With index 1.

    Raises
    ------
    RuntimeError
        If no index-1 critical point is reached within `max_iter` steps.
    """
    _check_landscape(landscape)
    x = _point("x0", x0, landscape)
    gtol = as_float("gtol", gtol, positive=True)
    max_iter = as_int("max_iter", max_iter, minimum=1)
    max_step = as_float("max_step", max_step, positive=True)  # any real scalar: numpy floats too
    push = None if direction is None else _point("direction", direction, landscape)
    for _ in range(int(max_iter)):
        g = np.asarray(landscape.gradient(x), dtype=np.float64)
        H = np.asarray(landscape.hessian(x), dtype=np.float64)
        w, V = np.linalg.eigh((H + H.T) / 2)
        gnorm = float(np.linalg.norm(g))
        index = int(np.count_nonzero(w < 0))
        if gnorm < gtol and index == 1:
            break
        floor = 1e-8 * float(np.abs(w).max()) or 1.0  # relative to the curvature; any at a flat point
        gi = V.T @ g
        coef = -gi / np.maximum(np.abs(w), floor)
        coef[0] = -coef[0]
        step = V @ coef
        if gnorm < gtol:  # a critical point of the wrong index: leave it along the lowest mode
            v = V[:, 0] if push is None else push
            step = max_step * v / np.linalg.norm(v)
        length = float(np.linalg.norm(step))
        if length > max_step:
            step *= max_step / length
        x = x + step
    point = critical_point(landscape, x)
    if not (point.gradient_norm <= 1e3 * gtol and point.index == 1):
        raise RuntimeError(f"find_saddle did not reach an index-1 saddle from x0={_point('x0', x0, landscape).tolist()}"
                           f" in {max_iter} steps: ended at {point!r}")
    return point


def barrier(landscape: Any, minimum: ArrayLike | CriticalPoint, saddle: ArrayLike | CriticalPoint) -> float:
    """f(saddle) - f(minimum), the height of the barrier seen from the minimum."""
    _check_landscape(landscape)
    m = _point("minimum", minimum, landscape)
    s = _point("saddle", saddle, landscape)
    return float(landscape.value(s)) - float(landscape.value(m))
