"""Fixed points of flows and maps: the linearization, its stable/unstable split, and the local stable manifold.

For a flow x' = F(x) (or a map x -> G(x)) with a hyperbolic fixed point x*, write F(x* + y) = A y + eta(y), A the
Jacobian. The points whose forward orbit converges to x* form the stable manifold W^s, tangent at x* to the stable
subspace E^s of A (eigenvalues with negative real part for a flow, modulus below 1 for a map) and, near x*, the
graph of a function from E^s to the unstable subspace E^u. Two ways to compute points of it:

- Lyapunov–Perron: an orbit y(t) converging to 0 with stable part a at t = 0 is a fixed point of
      y(t) = e^{tA} a + int_0^t e^{(t-s)A} P_s eta(y(s)) ds - int_t^inf e^{(t-s)A} P_u eta(y(s)) ds
  (for a map, y_t = A^t a + sum_{i<t} A^{t-1-i} P_s eta(y_i) - sum_{i>=t} A^{t-1-i} P_u eta(y_i)); iterating the
  right-hand side from y = e^{tA} a converges for small a, and y(0) is the point of W^s above a.
- bisection (one unstable direction): along the unstable direction through x* + a, the orbits on one side leave
  on one side of W^s and the others on the other side; bisecting on which side an orbit leaves a ball pins the
  point where it does not leave at all.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import solve_ivp

from .._validate import as_array, as_float, as_int

__all__ = ["FixedPoint", "StableManifold", "linearize", "numerical_jacobian", "stable_manifold"]

VectorField = Callable[[np.ndarray], ArrayLike]
_KINDS = ("flow", "map")


def numerical_jacobian(field: VectorField, x: ArrayLike, *, step: float = 1e-6) -> np.ndarray:
    """The Jacobian (d, d) of `field` at x by central differences with relative step `step`."""
    x = as_array("x", x, ndim=1)
    step = as_float("step", step, positive=True)
    d = x.shape[0]
    J = np.empty((d, d))
    for j in range(d):
        h = step * max(1.0, abs(x[j]))
        e = np.zeros(d)
        e[j] = h
        J[:, j] = (_call(field, x + e, d) - _call(field, x - e, d)) / (2 * h)
    return J


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point and its linearization: eigenvalues of the Jacobian, the stable and unstable subspaces (real
    orthonormal bases, one column per dimension) and the spectral projectors onto them."""

    point: np.ndarray
    jacobian: np.ndarray
    kind: str
    eigenvalues: np.ndarray
    stable: np.ndarray
    unstable: np.ndarray
    P_stable: np.ndarray
    P_unstable: np.ndarray

    @property
    def n_stable(self) -> int:
        return int(self.stable.shape[1])

    @property
    def n_unstable(self) -> int:
        return int(self.unstable.shape[1])

    @property
    def is_saddle(self) -> bool:
        return self.n_stable > 0 and self.n_unstable > 0


def linearize(field: VectorField, point: ArrayLike, *, kind: str = "flow", jacobian: ArrayLike | None = None,
              step: float = 1e-6, tol: float = 1e-8) -> FixedPoint:
    """Linearize a flow x' = field(x) (`kind="flow"`) or a map x -> field(x) (`kind="map"`) at its fixed point
    `point`. The Jacobian is `jacobian` (a (d, d) array, or a callable of x) or central differences of `field`.

    Raises ValueError if `point` is not a fixed point (|residual| > tol (1 + |x|)) or is not hyperbolic (an
    eigenvalue on the imaginary axis for a flow, on the unit circle for a map, to within 1e-9).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    x = as_array("point", point, ndim=1)
    d = x.shape[0]
    residual = _call(field, x, d) - (x if kind == "map" else 0.0)
    if np.linalg.norm(residual) > tol * (1 + np.linalg.norm(x)):
        raise ValueError(f"point must be a fixed point of the {kind}, got point={x.tolist()} with residual "
                         f"{residual.tolist()}")
    if jacobian is None:
        A = numerical_jacobian(field, x, step=step)
    else:
        A = as_array("jacobian", jacobian(x) if callable(jacobian) else jacobian, ndim=2)
        if A.shape != (d, d):
            raise ValueError(f"jacobian must have shape {(d, d)}, got {A.shape}")
    lam, V = np.linalg.eig(A)
    margin = lam.real if kind == "flow" else np.abs(lam) - 1.0
    if np.any(np.abs(margin) < 1e-9):
        raise ValueError(f"the fixed point must be hyperbolic (no center directions), got Jacobian eigenvalues "
                         f"{lam.tolist()}")
    W = np.linalg.inv(V)
    s, u = margin < 0, margin > 0
    P_s = np.real(V[:, s] @ W[s, :])
    P_u = np.real(V[:, u] @ W[u, :])
    return FixedPoint(point=x, jacobian=A, kind=kind, eigenvalues=lam, stable=_range_basis(P_s, int(s.sum())),
                      unstable=_range_basis(P_u, int(u.sum())), P_stable=P_s, P_unstable=P_u)


@dataclasses.dataclass(frozen=True)
class StableManifold:
    """Points of the local stable manifold: `points` (n, d), each the point of W^s above `stable_part` (n, d)
    (its component in E^s, relative to the fixed point); `converged` (n,) whether each point's computation met
    its tolerance; `method` "lyapunov_perron" or "bisection"."""

    fixed_point: FixedPoint
    points: np.ndarray
    stable_part: np.ndarray
    converged: np.ndarray
    method: str


def stable_manifold(field: VectorField, point: ArrayLike, *, kind: str = "flow", jacobian: ArrayLike | None = None,
                    radius: float = 0.1, n_points: int = 50, stable_part: ArrayLike | None = None,
                    method: str = "lyapunov_perron", horizon: float | None = None, dt: float = 0.01,
                    tol: float = 1e-10, max_iter: int = 200, seed: int = 0,
                    vectorized: bool = False) -> StableManifold:
    """Points of the local stable manifold of the hyperbolic fixed point `point` of a flow or map (see
    `linearize` for `field`, `kind` and `jacobian`).

    The stable parts a (relative to the fixed point, in E^s) are `stable_part` projected onto E^s, or `n_points`
    drawn uniformly from the ball of E^s of radius `radius` (seeded by `seed`). For each one the point above it:

    - `method="lyapunov_perron"`: the Lyapunov–Perron iteration on t in [0, horizon] (flows: a grid of step `dt`,
      each eigen-direction's kernel e^{lambda t} integrated exactly against the piecewise-linear interpolant of the
      nonlinear part, so stiff directions (|lambda| dt >> 1) are safe; the error is O(dt^2) and needs `dt` to
      resolve the transients of the nonlinear part along the orbit; maps: `horizon` iterations), until the orbit
      changes by less than `tol`; `horizon` defaults to 30 / (the slowest rate) — the time in which e^{tA}
      shrinks E^s and E^u by e^-30. `converged` says that this fixed-point iteration settled (and the point is
      finite), not that the point is within `tol` of W^s: the discretization error in `dt` and `horizon` is
      separate.
    - `method="bisection"` (one unstable direction only): bisection of the unstable coordinate on whether the
      orbit (solve_ivp for a flow, iterates for a map, up to `horizon`) leaves the ball of radius 4 `radius`
      on the positive or the negative side of the unstable direction (or, for an orbit still inside the ball at
      `horizon`, the sign of its unstable coordinate then), down to an interval of width `tol`; `converged`
      says that the interval shrank to `tol`. Judging an orbit by its linear unstable coordinate at `horizon`
      costs about (the distance of W^s from E^s at the orbit's end) * e^{-lambda_u horizon}: small unless
      `horizon` is short.

    With `vectorized=True`, `field` also accepts an (m, d) array of points and returns (m, d), one row per point;
    the Lyapunov–Perron iteration then evaluates it once per sweep instead of once per point and time.
    """
    fp = linearize(field, point, kind=kind, jacobian=jacobian)
    radius = as_float("radius", radius, positive=True)
    dt = as_float("dt", dt, positive=True)
    tol = as_float("tol", tol, positive=True)
    max_iter = as_int("max_iter", max_iter, minimum=1)
    if method not in ("lyapunov_perron", "bisection"):
        raise ValueError(f"method must be 'lyapunov_perron' or 'bisection', got {method!r}")
    d = fp.point.shape[0]
    if fp.n_stable == 0:
        raise ValueError("the fixed point has no stable directions: its stable manifold is the point itself")
    if not isinstance(vectorized, (bool, np.bool_)):
        raise TypeError(f"vectorized must be True or False, got {vectorized!r}")
    if stable_part is None:
        n = as_int("n_points", n_points, minimum=1)
        rng = np.random.default_rng(as_int("seed", seed, minimum=0, maximum=2**64 - 1))
        z = rng.standard_normal((n, fp.n_stable))
        z *= radius * rng.random((n, 1)) ** (1 / fp.n_stable) / np.linalg.norm(z, axis=1, keepdims=True)
        a = z @ fp.stable.T
    else:
        a = as_array("stable_part", stable_part, ndim=2)
        if a.shape[1] != d:
            raise ValueError(f"stable_part must have shape (n, {d}), got {a.shape}")
        a = a @ fp.P_stable.T
    lam = fp.eigenvalues
    rates = np.abs(lam.real) if kind == "flow" else np.abs(np.log(np.abs(lam)))
    if horizon is None:
        horizon = 30.0 / float(rates.min())
        if kind == "map":
            horizon = float(np.ceil(horizon))
    horizon = as_float("horizon", horizon, positive=True)
    if method == "lyapunov_perron":
        # the iteration holds a few complex (n, grid, d) arrays: refuse a grid that cannot fit, naming its sizes
        n_grid = math.ceil(horizon / dt) + 1 if kind == "flow" else int(horizon) + 1
        if a.shape[0] * n_grid * d > _MAX_LP_CELLS:
            raise ValueError(f"the Lyapunov-Perron grid of {a.shape[0]} points x {n_grid} times (horizon / dt + 1, "
                             f"horizon={horizon:g}, dt={dt:g}) x {d} coordinates is above {_MAX_LP_CELLS:.3g} cells "
                             f"(about 5 GiB): raise dt, or lower horizon or the number of points")
        points, ok = _lyapunov_perron(field, fp, a, horizon, dt, tol, max_iter, bool(vectorized))
    else:
        if fp.n_unstable != 1:
            raise ValueError(f"method='bisection' needs exactly one unstable direction, got {fp.n_unstable}")
        points, ok = _bisection(field, fp, a, 4 * radius, horizon, tol)
    return StableManifold(fixed_point=fp, points=points, stable_part=a, converged=ok, method=method)


# --- helpers ---------------------------------------------------------------------------------------------------


def _call(field: VectorField, x: np.ndarray, d: int) -> np.ndarray:
    v = np.asarray(field(x), dtype=np.float64)
    if v.shape != (d,):
        raise ValueError(f"field must return a vector of shape ({d},), got shape {v.shape}")
    return v


def _range_basis(P: np.ndarray, rank: int) -> np.ndarray:
    """An orthonormal basis (d, rank) of the range of the projector P."""
    if rank == 0:
        return np.zeros((P.shape[0], 0))
    U, _, _ = np.linalg.svd(P)
    return U[:, :rank]


_MAX_LP_CELLS = 2**26  # complex cells of one (n, grid, d) array; the iteration holds about five


def _lyapunov_perron(field: VectorField, fp: FixedPoint, a: np.ndarray, horizon: float, dt: float, tol: float,
                     max_iter: int, vectorized: bool) -> tuple[np.ndarray, np.ndarray]:
    x0, A, kind = fp.point, fp.jacobian, fp.kind
    d = x0.shape[0]
    lam, V = np.linalg.eig(A)
    W = np.linalg.inv(V)
    stable = (lam.real < 0) if kind == "flow" else (np.abs(lam) < 1)
    if kind == "flow":
        n_grid = int(np.ceil(horizon / dt)) + 1
        t = np.linspace(0.0, horizon, n_grid)
        h = t[1] - t[0]
        growth = np.exp(lam * h)  # e^{lambda h}, one factor per eigen-direction
        linear = np.exp(np.outer(t, lam))  # (T, d)
    else:
        n_grid = int(horizon) + 1
        growth = lam
        linear = lam[None, :] ** np.arange(n_grid)[:, None]
    za = a @ W.T  # stable parts in eigen-coordinates (n, d)
    z = linear[None, :, :] * za[:, None, :]  # the linear orbits (n, T, d)
    ok = np.zeros(a.shape[0], dtype=bool)
    from scipy.signal import lfilter  # here: scipy.signal imports scipy.stats, most of a second

    for _ in range(max_iter):
        y = np.real(z @ V.T)  # (n, T, d), relative to the fixed point
        eta = _eta(field, x0, A, y, kind, vectorized)  # (n, T, d)
        g = eta @ W.T  # in eigen-coordinates
        new = np.empty_like(z)
        for j in range(d):
            q, gj = growth[j], g[:, :, j]
            if kind == "flow":
                # The kernel e^{lambda (t - s)} is integrated exactly against the linear interpolant of g (the
                # trapezoidal rule is wrong once |lambda| h >> 1, i.e. on stiff flows).
                if stable[j]:  # I(t_{k+1}) = q I(t_k) + h (w_far g_k + w_near g_{k+1}), I(0) = 0
                    w_near, w_far = _kernel_weights(lam[j] * h)
                    u = np.zeros_like(gj)
                    u[:, 1:] = h * (w_far * gj[:, :-1] + w_near * gj[:, 1:])
                    new[:, :, j] = linear[None, :, j] * za[:, None, j] + lfilter([1.0], [1.0, -q], u, axis=1)
                else:  # J(t_k) = J(t_{k+1}) / q + h (w_near g_k + w_far g_{k+1}), J(T) = 0; y_u = -J
                    w_near, w_far = _kernel_weights(-lam[j] * h)
                    rev = gj[:, ::-1]
                    u = np.zeros_like(rev)
                    u[:, 1:] = h * (w_near * rev[:, 1:] + w_far * rev[:, :-1])
                    new[:, :, j] = -lfilter([1.0], [1.0, -1.0 / q], u, axis=1)[:, ::-1]
            else:
                if stable[j]:  # z_{t+1} = q z_t + g_t, z_0 = a
                    u = np.zeros_like(gj)
                    u[:, 0] = za[:, j]
                    u[:, 1:] = gj[:, :-1]
                    new[:, :, j] = lfilter([1.0], [1.0, -q], u, axis=1)
                else:  # z_t = (z_{t+1} - g_t) / q, z_T = 0
                    rev = gj[:, ::-1]
                    u = np.zeros_like(rev)
                    u[:, 1:] = -rev[:, 1:] / q
                    new[:, :, j] = lfilter([1.0], [1.0, -1.0 / q], u, axis=1)[:, ::-1]
        change = np.abs(np.real((new - z) @ V.T)).max(axis=(1, 2))
        z = new
        ok = change < tol
        if ok.all():
            break
    y0 = np.real(z[:, 0, :] @ V.T)
    ok &= np.all(np.isfinite(y0), axis=1)
    return x0 + y0, ok


def _kernel_weights(z: complex) -> tuple[complex, complex]:
    """int_0^1 e^{z tau} (1 - tau) dtau and int_0^1 e^{z tau} tau dtau (Re z < 0): the weights of the values of g
    where the kernel is 1 ("near") and e^z ("far") in the exact integral of the kernel against g's linear
    interpolant. Closed forms (e^z - 1 - z) / z^2 and ((z - 1) e^z + 1) / z^2; a series for small |z|, where they
    cancel."""
    z = complex(z)
    if abs(z) < 1.0:  # sum_n z^n / (n + 2)! and sum_n (n + 1) z^n / (n + 2)!; 20 terms: below 1e-19 at |z| = 1
        near = far = 0j
        term: complex = 0.5  # z^n / (n + 2)!
        for n in range(20):
            near += term
            far += (n + 1) * term
            term *= z / (n + 3)
    else:
        near, far = (np.expm1(z) - z) / z**2, ((z - 1) * np.exp(z) + 1) / z**2
    if z.imag == 0:  # a real eigenvalue: g is real in its coordinate, keep it so
        return near.real, far.real
    return near, far


def _eta(field: VectorField, x0: np.ndarray, A: np.ndarray, y: np.ndarray, kind: str,
         vectorized: bool) -> np.ndarray:
    """The nonlinear part eta(y) = F(x0 + y) - A y (flows) or G(x0 + y) - x0 - A y (maps) at every (n, T) point."""
    d = x0.shape[0]
    flat = y.reshape(-1, d)
    if vectorized:
        F = np.asarray(field(x0 + flat), dtype=np.float64)
        if F.shape != flat.shape:
            raise ValueError(f"field must return an array of shape {flat.shape} for {flat.shape[0]} points "
                             f"(vectorized=True), got shape {F.shape}")
    else:
        F = np.array([_call(field, x0 + row, d) for row in flat])
    if kind == "map":
        F = F - x0
    return (F - flat @ A.T).reshape(y.shape)


def _bisection(field: VectorField, fp: FixedPoint, a: np.ndarray, out_radius: float, horizon: float,
               tol: float) -> tuple[np.ndarray, np.ndarray]:
    x0, kind = fp.point, fp.kind
    d = x0.shape[0]
    e_u = fp.unstable[:, 0]
    w_u = fp.P_unstable.T @ e_u  # the unstable coordinate of y: w_u . y (zero on E^s)
    w_u = w_u / (w_u @ e_u)

    def side(c: float, base: np.ndarray) -> float:
        """+1 or -1: the side of the unstable direction where the orbit from x0 + base + c e_u leaves the ball, or
        where it is at the horizon if it is still inside (the sign of its unstable coordinate then: a short horizon
        must not stop the bisection at its first guess); 0 if that coordinate is exactly 0, nan if not finite."""
        start = x0 + base + c * e_u
        if kind == "flow":
            def leave(_t: float, x: np.ndarray) -> float:
                return float(np.linalg.norm(x - x0) - out_radius)
            leave.terminal = True  # type: ignore[attr-defined]
            sol = solve_ivp(lambda _t, x: _call(field, x, d), (0.0, horizon), start, events=leave, rtol=1e-9,
                            atol=1e-12)
            end = sol.y[:, -1]
        else:
            end = start
            for _ in range(int(horizon)):
                end = _call(field, end, d)
                if not np.all(np.isfinite(end)) or np.linalg.norm(end - x0) > out_radius:
                    break
        u = float(w_u @ (end - x0))
        return float(np.sign(u)) if math.isfinite(u) else math.nan

    points = np.empty_like(a)
    ok = np.zeros(a.shape[0], dtype=bool)
    for k, base in enumerate(a):
        lo, hi = -out_radius / 2, out_radius / 2
        s_lo, s_hi = side(lo, base), side(hi, base)
        if not s_lo * s_hi < 0:  # no bracket (same side, an exact 0 or a nan)
            points[k] = np.nan
            continue
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            s_mid = side(mid, base)
            if s_mid == 0:  # ends exactly on E^s: this is the point
                lo = hi = mid
            elif s_mid == s_lo:
                lo = mid
            elif s_mid == s_hi:
                hi = mid
            else:  # a nan: the orbit blew up; report no convergence rather than a guess
                break
        points[k] = x0 + base + 0.5 * (lo + hi) * e_u
        ok[k] = hi - lo <= tol
    return points, ok
