"""Freidlin–Wentzell theory: quasi-potentials and minimum-action paths.

Convention. For dX = b(X) dt + eps S dW (a d x k noise matrix S, diffusion a = S S^T), the action of a path phi
on [0, t] is (1/2) int |phi' - b(phi)|_a^2 dt with |u|_a^2 = u^T a^{-1} u, the quasi-potential V(x) is the least
action to reach x from the attractor, and the mean exit time from a domain D obeys
eps^2 log E[tau] -> V0 = min over the boundary of D of V (Freidlin & Wentzell, ch. 4), i.e.
E[tau] = exp(V0 / eps^2 + o(1 / eps^2)).

In escapade's terms: ``Langevin(eps=eps, S=S)`` is this SDE with b = -grad f; ``Langevin(temperature=T)`` is
S = I, eps^2 = 2 T. For a gradient system with S = I the quasi-potential is V = 2 (f - f(m)): twice the
potential difference, and exp(V0 / eps^2) = exp(barrier / T).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg

from .._validate import as_array, as_float, as_int, as_square_matrix
from ..drifts import Drift
from .geometry import _check_landscape

__all__ = [
    "LinearQuasiPotential",
    "MinimumActionPath",
    "linear_quasipotential",
    "minimum_action_path",
    "minimum_energy_path",
]

# The most points a string or path may have: each iteration works on all of them (8 * d bytes each, several copies).
MAX_IMAGES = 10**6


@dataclasses.dataclass(frozen=True, eq=False)
class LinearQuasiPotential:
    """The quasi-potential V(x) = x^T P^{-1} x / 2 of a linear system around its fixed point 0 (see
    `linear_quasipotential`).

    Attributes
    ----------
    P : (d, d) the stationary covariance at unit noise (eps = 1).
    A, S : the drift matrix and the noise matrix it was computed from; discrete : whether A is a map's matrix.
    """

    P: np.ndarray
    A: np.ndarray
    S: np.ndarray
    discrete: bool

    def __call__(self, x: ArrayLike) -> np.ndarray | float:
        """V at a point (d,) or at each row of (n, d)."""
        a = np.asarray(x, dtype=np.float64)
        if a.shape[-1:] != (self.P.shape[0],) or a.ndim > 2:
            raise ValueError(f"x must have shape (d,) or (n, d) with d = {self.P.shape[0]}, got {a.shape}")
        y = np.linalg.solve(self.P, np.atleast_2d(a).T).T
        v = 0.5 * np.sum(np.atleast_2d(a) * y, axis=1)
        return float(v[0]) if a.ndim == 1 else v

    def ball_exit(self, radius: float) -> tuple[float, np.ndarray]:
        """(V0, x*): the minimum of V over the sphere |x| = radius, r^2 / (2 lambda_max(P)), and a point where it
        is reached (radius times the top eigenvector of P)."""
        radius = as_float("radius", radius, positive=True)  # any real scalar: numpy integers too
        w, U = np.linalg.eigh(self.P)
        return float(radius) ** 2 / (2 * float(w[-1])), float(radius) * U[:, -1]

    def exit_multiplicity(self, rtol: float = 1e-8) -> int:
        """How many eigenvalues of P tie for the largest (within a relative `rtol` of V on the sphere): 1 when V is
        minimal on the sphere at two opposite points, d when V is constant on it. A mean exit time from a ball
        then behaves as E[tau] ~ c eps^m exp(V0 / eps^2) at small eps (a Laplace count over the exit set)."""
        rtol = as_float("rtol", rtol, nonnegative=True)
        w = np.linalg.eigvalsh(self.P)
        return int(np.count_nonzero(w[-1] / w <= 1 + rtol))


def linear_quasipotential(A: ArrayLike, S: ArrayLike | None = None, *, discrete: bool = False) -> LinearQuasiPotential:
    """Quasi-potential of a linear system with additive noise.

    Continuous time (the default): dX = -A X dt + eps S dW. The stationary covariance is eps^2 P with
    A P + P A^T = S S^T (``scipy.linalg.solve_continuous_lyapunov``), and the quasi-potential is
    V(x) = x^T P^{-1} x / 2, for any A whose eigenvalues have positive real parts (normal or not).
    For the gradient case A = H (f = x^T H x / 2) and S = I: P = H^{-1} / 2 and V = x^T H x = 2 f: twice the
    potential. For S S^T = H (noise shaped like the Hessian, 003's C = H): P = I / 2 and V = |x|^2 whatever H is.

    Discrete time (``discrete=True``): X_{k+1} = A X_k + eps S xi_k, xi_k ~ N(0, I). Then
    P = A P A^T + S S^T (``scipy.linalg.solve_discrete_lyapunov``), for A with spectral radius < 1, and
    E[number of steps to exit] = exp(V0 / eps^2 + o(1 / eps^2)) with the same V.

    Parameters
    ----------
    A : (d, d) the drift matrix (continuous) or the map's matrix (discrete).
    S : (d, k) the noise matrix; default the identity.
    discrete : a map instead of an SDE.

    Returns
    -------
    LinearQuasiPotential
    """
    A = as_square_matrix("A", A)
    d = A.shape[0]
    S = np.eye(d) if S is None else as_array("S", S, ndim=2)
    if S.shape[0] != d:
        raise ValueError(f"S must have {d} rows (the size of A), got shape {S.shape}")
    Q = S @ S.T
    eig = np.linalg.eigvals(A)
    if discrete:
        if np.max(np.abs(eig)) >= 1:
            raise ValueError(f"A must have spectral radius < 1 (a stable map), got eigenvalues {eig.tolist()}")
        P = linalg.solve_discrete_lyapunov(A, Q)
    else:
        if np.min(eig.real) <= 0:
            raise ValueError(f"A must have eigenvalues with positive real parts (dX = -A X dt is stable), got "
                             f"{eig.tolist()}")
        P = linalg.solve_continuous_lyapunov(A, Q)
    P = (P + P.T) / 2
    w = np.linalg.eigvalsh(P)
    if w[0] <= 1e-14 * max(w[-1], 1e-300):
        raise ValueError(f"S must excite every direction: the covariance P is singular (eigenvalues {w.tolist()})")
    return LinearQuasiPotential(P=P, A=np.array(A), S=np.array(S), discrete=bool(discrete))


@dataclasses.dataclass(frozen=True, eq=False)
class MinimumActionPath:
    """A path between two points and its Freidlin–Wentzell action.

    Attributes
    ----------
    path : (n, d) images from the start to the end, equally spaced in arc length.
    action : the geometric action of the path (the quasi-potential difference it realizes; for a gradient system
        with S = I climbing from a minimum over a saddle, 2 (f(s) - f(m))).
    highest : index of the image with the largest landscape value (gradient systems; the saddle's
        neighbourhood), or -1 when no landscape was given.
    iterations : iterations used; converged : whether the tolerance was met.
    """

    path: np.ndarray
    action: float
    highest: int
    iterations: int
    converged: bool


def _reparametrize(path: np.ndarray) -> np.ndarray:
    """The same polygon resampled at equal arc-length spacing (linear interpolation)."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return path.copy()
    u = np.linspace(0.0, s[-1], path.shape[0])
    return np.column_stack([np.interp(u, s, path[:, j]) for j in range(path.shape[1])])


def _endpoints(a: ArrayLike, b: ArrayLike, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
    pa, pb = as_array("start", a, ndim=1), as_array("end", b, ndim=1)
    if pa.shape != pb.shape:
        raise ValueError(f"start and end must have the same dimension, got {pa.shape} and {pb.shape}")
    if dim is not None and pa.shape[0] != dim:
        raise ValueError(f"start must have {dim} components (the landscape's dimension), got {pa.shape[0]}")
    return pa, pb


def _count(name: str, value: Any) -> int:
    """An iteration cap >= 1; a float of integer value (1e4) is taken as that integer."""
    return as_int(name, int(value) if isinstance(value, float) and value.is_integer() else value, minimum=1)


def _initial_path(pa: np.ndarray, pb: np.ndarray, n_images: int, path0: ArrayLike | None) -> np.ndarray:
    n_images = as_int("n_images", n_images, minimum=3, maximum=MAX_IMAGES)
    if path0 is None:
        u = np.linspace(0.0, 1.0, int(n_images))[:, None]
        return (1 - u) * pa + u * pb
    p = as_array("path0", path0, ndim=2)
    if p.shape[1] != pa.shape[0] or p.shape[0] < 2:
        raise ValueError(f"path0 must have shape (k, {pa.shape[0]}) with k >= 2, got {p.shape}")
    p = np.array(p)
    p[0], p[-1] = pa, pb
    # resample the polygon to n_images points
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    u = np.linspace(0.0, s[-1], int(n_images))
    return np.column_stack([np.interp(u, s, p[:, j]) for j in range(p.shape[1])])


class _StepControl:
    """Step control of the string's and gMAM's relaxations: a move 10 times the smallest so far (or a non-finite
    one) means the step is unstable there, so the caller halves it and goes back to the path that moved least.
    Moves below `floor` never count as growth (round-off near convergence)."""

    def __init__(self, path: np.ndarray, floor: float = 0.0) -> None:
        self.best, self.best_moved, self.halvings, self.floor = path, math.inf, 0, floor

    def diverges(self, moved: float) -> bool:
        if math.isfinite(moved) and moved <= 10 * max(self.best_moved, self.floor):
            return False
        self.halvings += 1
        self.best_moved = math.inf
        return True

    def accept(self, path: np.ndarray, moved: float) -> None:
        if moved < self.best_moved:
            self.best, self.best_moved = path, moved


def minimum_energy_path(
    landscape: Any, start: ArrayLike, end: ArrayLike, *, n_images: int = 65, path0: ArrayLike | None = None,
    step: float | None = None, tol: float = 1e-9, max_iter: int = 20000,
) -> MinimumActionPath:
    """The minimum energy path of a gradient system between two minima, by the string method.

    The zero-temperature string method (E, Ren & Vanden-Eijnden 2007): every image takes a gradient-descent step,
    phi_i <- phi_i - h grad f(phi_i), and the string is then resampled at equal arc length; the fixed point is a
    path along which grad f is parallel to the path: it climbs from one minimum along the gentlest route, passes
    through the saddle and descends to the other. The FW action of the climb (S = I) is 2 (f(s) - f(m)).

    Parameters
    ----------
    landscape : an escapade Landscape (or anything with value, gradient, hessian).
    start, end : (d,) the two ends (minima; they are kept fixed).
    n_images : points on the string.
    path0 : (k, d) an initial path (default the straight segment).
    step : the descent step h (default 0.2 / the largest |Hessian eigenvalue| at the ends); halved whenever the
        string diverges (ValueError if it still does after 30 halvings).
    tol : stop when the images move less than tol (max norm per iteration, relative to the step).
    max_iter : iteration cap.

    Returns
    -------
    MinimumActionPath
        With `action` = 2 (max f on the path - f(start)), `highest` the index of the top image (refine it with
        `find_saddle`).
    """
    _check_landscape(landscape)
    pa, pb = _endpoints(start, end, getattr(landscape, "dim", None))
    path = _initial_path(pa, pb, n_images, path0)
    tol = as_float("tol", tol, positive=True)
    if step is None:
        curv = max(float(np.abs(np.linalg.eigvalsh(np.asarray(landscape.hessian(p)))).max()) for p in (pa, pb))
        step = 0.2 / max(curv, 1e-12)
    h = as_float("step", step, positive=True)
    converged = False
    it = 0
    # Descent is unstable where h exceeds 2 / the curvature on the string, which can be stiffer between the ends
    # than at them: a move 10 times the smallest so far (or a non-finite one) means divergence, so the step is
    # halved and the string goes back to where it moved least.
    control = _StepControl(path)
    for it in range(1, _count("max_iter", max_iter) + 1):
        g = np.asarray(landscape.gradient(path[1:-1]))
        new = path.copy()
        new[1:-1] -= h * g
        new = _reparametrize(new)
        moved = float(np.abs(new - path).max())
        if control.diverges(moved):
            if control.halvings > 30:
                raise ValueError(f"minimum_energy_path diverges even at step={h:.3g} (step={step!r} halved "
                                 f"{control.halvings - 1} times): is the landscape's gradient finite along the path?")
            h /= 2
            path = control.best
            continue
        path = new
        control.accept(path, moved)
        if moved < tol * h:
            converged = True
            break
    values = np.asarray(landscape.value(path))
    top = int(np.argmax(values))
    return MinimumActionPath(path=path, action=2 * float(values[top] - values[0]), highest=top, iterations=it,
                             converged=converged)


def _drift_functions(drift: Any) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """(b, jacobian of b) on (n, d) arrays, for a landscape (b = -grad f) or a callable b. The Jacobian is taken by
    central differences of the vectorized drift (2 d calls per evaluation, whatever n)."""
    def shaped(v: Any, x: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if v.size != x.size:  # a flat (n d,) answer is taken as (n, d), as before
            raise ValueError(f"drift must return one row per point, shape {x.shape}, got shape {v.shape}")
        return v.reshape(x.shape)

    if isinstance(drift, Drift):  # a vector field as it is: never read as a gradient
        field = drift

        def bf(x: np.ndarray) -> np.ndarray:
            return shaped(field.field(x), x)
    elif callable(getattr(drift, "gradient", None)):
        landscape = drift

        def bf(x: np.ndarray) -> np.ndarray:
            return -shaped(landscape.gradient(x), x)
    elif callable(drift):
        def bf(x: np.ndarray) -> np.ndarray:
            return shaped(drift(x), x)
    else:
        raise TypeError(f"drift must be a Landscape or a callable b(x) on (n, d) arrays, got {type(drift).__name__}")

    def jacf(x: np.ndarray) -> np.ndarray:
        n, d = x.shape
        J = np.empty((n, d, d))
        for j in range(d):
            e = np.zeros(d)
            e[j] = 1e-6 * max(1.0, float(np.abs(x[:, j]).max()))
            J[:, :, j] = (bf(x + e) - bf(x - e)) / (2 * e[j])
        return J

    return bf, jacf


def minimum_action_path(
    drift: Any, start: ArrayLike, end: ArrayLike, *, S: ArrayLike | None = None, n_images: int = 65,
    path0: ArrayLike | None = None, tol: float = 1e-7, max_rounds: int = 50,
) -> MinimumActionPath:
    """The minimum-action path between two points and its Freidlin–Wentzell action, by the geometric minimum action
    method (gMAM; Heymann & Vanden-Eijnden 2008).

    The action minimized over time is the geometric action of the curve,

        S(phi) = int ( |phi'|_a |b(phi)|_a - <phi', b(phi)>_a ) ds,  <u, v>_a = u^T a^{-1} v,  a = S S^T,

    which does not depend on how the curve is parametrized. In the coordinates y = L^{-1} x (a = L L^T, so the
    noise is isotropic there) the path relaxes along the gMAM flow

        phi_t = lam^2 phi'' + lam lam' phi' - lam (J - J^T) phi' - J^T b,  lam = |b| / |phi'|,  J = grad b,

    whose rest points solve the Euler–Lagrange equation of S; the lam^2 phi'' term is taken implicitly (a
    tridiagonal solve per step) and the images are resampled at equal arc length after every step. Because the
    images stay evenly spaced, none can gather at a critical point (where b = 0 makes a segment free), so the
    path cannot cut across a barrier between two bunched images. The returned action is the discretized S (each
    segment's drift term the mean of its two ends, second order in the spacing). Starting from an attractor, the
    minimal action to reach `end` is the quasi-potential V(end) (up to discretization error).

    For a gradient system (b = -grad f, S = I) the path from a minimum m over an index-1 saddle s is the reversed
    downhill path and S = 2 (f(s) - f(m)); after the saddle the path descends at no cost, and over a chain of
    saddles and minima the action is the sum of the climbs.

    Parameters
    ----------
    drift : a Landscape (b = -grad f) or a callable b(x) mapping (n, d) arrays to (n, d) arrays; the Jacobian of
        b is taken by central differences.
    start, end : (d,) the ends, kept fixed.
    S : (d, k) the noise matrix (a = S S^T must be invertible); default the identity.
    n_images : points on the path.
    path0 : (k, d) an initial path (default the straight segment; give a bent one, or the string method's path, to
        pick a route).
    tol : relative change of the action between rounds (of 200 relaxation steps each) at which to stop.
    max_rounds : cap on the rounds.

    Returns
    -------
    MinimumActionPath
        Its images are equally spaced in arc length in the metric of a^{-1} (Euclidean for S = I); `iterations`
        counts rounds.
    """
    b, jac = _drift_functions(drift)
    pa, pb = _endpoints(start, end, getattr(drift, "dim", None))
    d = pa.shape[0]
    path = _initial_path(pa, pb, n_images, path0)
    tol = as_float("tol", tol, positive=True)
    b0 = b(path)
    if not np.all(np.isfinite(b0)):
        bad = int(np.argwhere(~np.all(np.isfinite(b0), axis=1))[0, 0])
        raise ValueError(f"drift must be finite on the path, got {b0[bad].tolist()} at {path[bad].tolist()}")
    L = np.eye(d)
    if S is not None:
        Sm = as_array("S", S, ndim=2)
        if Sm.shape[0] != d:
            raise ValueError(f"S must have {d} rows (the dimension), got shape {Sm.shape}")
        a = Sm @ Sm.T
        if np.linalg.matrix_rank(a) < d:
            raise ValueError("S S^T must be invertible for the minimum action method")
        L = np.linalg.cholesky(a)
    Linv = linalg.solve_triangular(L, np.eye(d), lower=True)

    identity = S is None

    def b_y(y: np.ndarray) -> np.ndarray:  # the drift in y = L^{-1} x: L^{-1} b(L y), rows
        return b(y) if identity else b(y @ L.T) @ Linv.T

    def jac_y(y: np.ndarray) -> np.ndarray:  # its Jacobian L^{-1} J(L y) L, (n, d, d): two products, n d^3
        return jac(y) if identity else np.matmul(np.matmul(Linv, jac(y @ L.T)), L)

    def action(y: np.ndarray) -> float:
        # sum_i |D_i| (|b_i| + |b_{i+1}|) / 2 - <D_i, (b_i + b_{i+1}) / 2>, D_i = y_{i+1} - y_i
        dy, by = np.diff(y, axis=0), b_y(y)
        nb = np.linalg.norm(by, axis=1)
        return float(np.sum(np.linalg.norm(dy, axis=1) * 0.5 * (nb[1:] + nb[:-1])
                            - np.sum(dy * 0.5 * (by[1:] + by[:-1]), axis=1)))

    n = path.shape[0]
    h = 1.0 / (n - 1)
    y = _reparametrize(path @ Linv.T)
    J = jac_y(y)
    # the explicit part of the flow (J^T b) is stable for steps below 2 / |J|^2; beyond, _StepControl halves it
    # (moves below 1e-6 of the path's length never count as growth)
    control = _StepControl(y, floor=1e-6 * float(np.sum(np.linalg.norm(np.diff(y, axis=0), axis=1))))
    dtau = 0.2 / max(float(np.max(np.linalg.norm(J, ord=2, axis=(1, 2)))) ** 2, 1e-300)
    value = math.inf
    converged = False
    rounds = 0
    per_round = 200
    for rounds in range(1, _count("max_rounds", max_rounds) + 1):
        step = 0
        while step < per_round:
            by = b_y(y)
            J = jac_y(y)
            dy = np.gradient(y, h, axis=0)
            lam = np.linalg.norm(by, axis=1) / np.maximum(np.linalg.norm(dy, axis=1), 1e-300)
            dlam = np.gradient(lam, h)
            li, Ji, di = lam[1:-1], J[1:-1], dy[1:-1]
            rhs = ((li * dlam[1:-1])[:, None] * di
                   - li[:, None] * (np.einsum("nij,nj->ni", Ji, di) - np.einsum("nji,nj->ni", Ji, di))
                   - np.einsum("nji,nj->ni", Ji, by[1:-1]))
            c = li * li / (h * h)
            banded = np.zeros((3, n - 2))
            banded[0, 1:], banded[1], banded[2, :-1] = -c[:-1], 1.0 / dtau + 2 * c, -c[1:]
            r = y[1:-1] / dtau + rhs
            r[0] += c[0] * y[0]
            r[-1] += c[-1] * y[-1]
            new = y.copy()
            new[1:-1] = linalg.solve_banded((1, 1), banded, r)
            new = _reparametrize(new)
            moved = float(np.abs(new - y).max())
            if control.diverges(moved):
                if control.halvings > 30:
                    raise ValueError(f"minimum_action_path diverges even at a relaxation step of {dtau:.3g} "
                                     f"(halved {control.halvings - 1} times): is the drift finite and moderate "
                                     f"between start and end?")
                dtau /= 2
                y = control.best
                continue
            y = new
            control.accept(y, moved)
            step += 1
        new_value = action(y)
        if not math.isfinite(new_value):  # a failure, not a result: the drift overflowed or was NaN along the path
            raise ValueError(f"drift gave a non-finite action ({new_value}) on the path after round {rounds}: is "
                             f"it finite and moderate between start and end?")
        if abs(value - new_value) <= tol * max(abs(new_value), 1e-300):
            value, converged = new_value, True
            break
        value = new_value
    path = y @ L.T
    path[0], path[-1] = pa, pb
    highest = -1
    if not isinstance(drift, Drift) and callable(getattr(drift, "value", None)):
        highest = int(np.argmax(np.asarray(drift.value(path))))
    return MinimumActionPath(path=path, action=value, highest=highest, iterations=rounds, converged=converged)
