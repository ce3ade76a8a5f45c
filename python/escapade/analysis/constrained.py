"""Sections II-V of 000 made numerical: the multiplier (3) and KKT residuals, equilibria of U_alpha, the decay of
the constraint along the flow (Proposition 1), Proposition 2's feasibility bound, the region of attraction of an
equilibrium with its radius r and the drift bound E, (delta, epsilon)-biased forcings (Definition 1), the escape
conditions of Theorem 1, and the augmented Lagrangian L_beta with the strong-equilibrium conditions
(Definition 2)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from .._validate import as_array, as_float, as_int, check_dim
from ..constraints import Constraint
from ..drifts import refuse_drift
from ..dynamics import ConstrainedFlow
from ..forcing import Forcing
from ..landscapes import Landscape
from ..regions import Ball
from ..results import Status
from ..simulate import simulate
from .success import grid_points

__all__ = [
    "Basin",
    "BiasCheck",
    "KKTResidual",
    "Proposition2Bound",
    "StrongEquilibrium",
    "Theorem1Check",
    "augmented_lagrangian",
    "biased_check",
    "constrained_basin",
    "constrained_equilibrium",
    "drift_bound",
    "feasibility_decay",
    "kkt_residual",
    "multiplier",
    "proposition2_bound",
    "strong_equilibrium",
    "theorem1_check",
    "unforced_drift",
]


def _check_flow(flow: Any) -> Any:
    if not isinstance(flow, ConstrainedFlow):
        raise TypeError(f"flow must be an escapade ConstrainedFlow, got {flow!r}")
    return flow


def _check_landscape(landscape: Any) -> Any:
    refuse_drift("landscape", landscape, "the constrained flow projects a gradient")
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be an escapade Landscape, got {landscape!r}")
    return landscape


def _check_constraint(constraint: Any) -> Any:
    if not isinstance(constraint, Constraint):
        raise TypeError(f"constraint must be an escapade Constraint (Parabola, Sphere, Affine), got {constraint!r}")
    return constraint


def _point(name: str, x: ArrayLike, dim: int) -> np.ndarray:
    a = as_array(name, x, ndim=1)
    check_dim(name, a, dim, "the problem's dimension")
    return a


def _unforced(flow: Any) -> Any:
    """The same flow without forcing (U_alpha alone), integrated with the same method and step."""
    return ConstrainedFlow(flow.constraint, dt=flow.dt, alpha=flow.alpha, method=flow.method, rtol=flow.rtol,
                           atol=flow.atol, singular_tol=flow.singular_tol, max_step=flow.max_step)


# --- Section II: multiplier (3), KKT points and equilibria --------------------------------------------------------


def multiplier(landscape: Any, constraint: Any, x: ArrayLike) -> np.ndarray:
    """000 eq. (3): lambda(x) = -(J J^T)^{-1} J grad f(x), shape (m,); the KKT multiplier at a stationary point."""
    _check_landscape(landscape)
    _check_constraint(constraint)
    p = _point("x", x, constraint.dim)
    J = constraint.jacobian(p)
    return -np.linalg.solve(J @ J.T, J @ landscape.gradient(p))


@dataclasses.dataclass(frozen=True)
class KKTResidual:
    """At x: the multiplier (3), |grad f + J^T lambda| (stationarity) and |g| (feasibility)."""

    x: np.ndarray
    multiplier: np.ndarray
    stationarity: float
    feasibility: float

    def is_kkt(self, tol: float = 1e-8) -> bool:
        return self.stationarity <= tol and self.feasibility <= tol


def kkt_residual(landscape: Any, constraint: Any, x: ArrayLike) -> KKTResidual:
    """The first-order conditions grad f + J^T lambda = 0, g = 0 at x, with lambda from (3)."""
    lam = multiplier(landscape, constraint, x)
    p = _point("x", x, constraint.dim)
    J = constraint.jacobian(p)
    return KKTResidual(x=p, multiplier=lam, stationarity=float(np.linalg.norm(landscape.gradient(p) + J.T @ lam)),
                       feasibility=float(np.linalg.norm(constraint.value(p))))


def unforced_drift(landscape: Any, flow: Any, x: ArrayLike) -> np.ndarray:
    """U_alpha(x) of the flow without its forcing, at a point (d,) or rows (n, d)."""
    return _unforced(_check_flow(flow)).drift(_check_landscape(landscape), x)


def constrained_equilibrium(landscape: Any, flow: Any, x0: ArrayLike, *, tol: float = 1e-12) -> np.ndarray:
    """An equilibrium of U_alpha (a root of the unforced drift) found by scipy.optimize.root from x0; ValueError
    if the root finder does not converge."""
    _check_flow(flow)
    _check_landscape(landscape)
    p = _point("x0", x0, landscape.dim)
    tol = as_float("tol", tol, positive=True)
    u = _unforced(flow)
    sol = optimize.root(lambda z: u.drift(landscape, z), p, method="hybr", tol=tol)
    if not sol.success or not np.all(np.isfinite(sol.x)):
        raise ValueError(f"x0: no equilibrium found from {p.tolist()} ({sol.message})")
    return np.asarray(sol.x, dtype=float)


# --- Section III: Proposition 1 and Proposition 2 ------------------------------------------------------------------


def feasibility_decay(constraint: Any, alpha: float, t: ArrayLike, x: ArrayLike) -> float:
    """Proposition 1 along a recorded path (t (k,), x (k, d)): max_k |g(x(t_k)) - exp(-alpha t_k) g(x(t_0))|
    relative to max(|g(x(t_0))|, 1e-300) -- zero for the exact flow whatever f (without forcing)."""
    _check_constraint(constraint)
    alpha = as_float("alpha", alpha, nonnegative=True)
    times = as_array("t", t, ndim=1)
    pts = as_array("x", x, ndim=2)
    if pts.shape[0] != times.shape[0]:
        raise ValueError(f"x must have one row per time ({times.shape[0]}), got shape {pts.shape}")
    g = constraint.value(pts)
    predicted = np.exp(-alpha * (times - times[0]))[:, None] * g[0]
    return float(np.max(np.abs(g - predicted)) / max(float(np.max(np.abs(g[0]))), 1e-300))


@dataclasses.dataclass(frozen=True)
class Proposition2Bound:
    """Proposition 2 on a time grid: `stated` is the paper's bound e^{-alpha t} int_0^t xi exp(int_0^t chi
    e^{-alpha r} dr); `corrected` is what variation of constants gives for g' = -alpha g + J w with
    |J w| <= chi |g| + xi: e^{-alpha t} int_0^t e^{alpha s} xi(s) ds exp(int_0^t chi). `t_epsilon` is the first
    grid time after which the stated bound stays <= epsilon (NaN if none or no epsilon given)."""

    times: np.ndarray
    stated: np.ndarray
    corrected: np.ndarray
    epsilon: float
    t_epsilon: float


def _values(name: str, value: Any, times: np.ndarray) -> np.ndarray:
    v = value(times) if callable(value) else value
    out = np.broadcast_to(np.asarray(v, dtype=float), times.shape).astype(float)
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ValueError(f"{name} must be finite and >= 0 on the time grid, got {value!r}")
    return out


def _cumtrapz(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.diff(t) * (y[1:] + y[:-1]) / 2)])


def proposition2_bound(alpha: float, times: ArrayLike, xi: Any, chi: Any = 0.0, *,
                       epsilon: float | None = None) -> Proposition2Bound:
    """Proposition 2's bound on |g(y(t))| for a feasible start, given |J_g(y) w(y, t)| <= chi(t) |g(y)| + xi(t)
    (5); xi and chi are numbers or functions of t (arrays), integrated by the trapezoid rule on `times`
    (increasing, from 0)."""
    alpha = as_float("alpha", alpha, nonnegative=True)
    t = as_array("times", times, ndim=1)
    if t[0] != 0 or np.any(np.diff(t) <= 0):
        raise ValueError(f"times must increase from 0, got {t[:3].tolist()}...")
    xs, cs = _values("xi", xi, t), _values("chi", chi, t)
    stated = np.exp(-alpha * t) * _cumtrapz(xs, t) * np.exp(_cumtrapz(cs * np.exp(-alpha * t), t))
    corrected = np.exp(-alpha * t) * _cumtrapz(np.exp(alpha * t) * xs, t) * np.exp(_cumtrapz(cs, t))
    eps, t_eps = math.nan, math.nan
    if epsilon is not None:
        eps = as_float("epsilon", epsilon, positive=True)
        bad = np.nonzero(stated > eps)[0]
        if bad.size == 0:
            t_eps = float(t[0])
        elif bad[-1] + 1 < t.size:
            t_eps = float(t[bad[-1] + 1])
    return Proposition2Bound(times=t, stated=stated, corrected=corrected, epsilon=eps, t_epsilon=t_eps)


# --- Section IV: region of attraction, E, biased forcing, Theorem 1 ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Basin:
    """The grid estimate of an equilibrium's region of attraction R: `points` (n, d), `inside` (n,) whether the
    unforced flow from each ended within `tol` of `center` by t_max, `radius` r = max |x - center| over the points
    inside (000, Theorem 1), and the fraction inside."""

    center: np.ndarray
    points: np.ndarray
    inside: np.ndarray
    radius: float
    fraction: float


def constrained_basin(landscape: Any, flow: Any, center: ArrayLike, low: ArrayLike, high: ArrayLike,
                      n: int | ArrayLike, *, t_max: float = 20.0, tol: float = 1e-2, seed: int = 0,
                      threads: int | None = None) -> Basin:
    """Which points of the grid (analysis.grid_points(low, high, n)) the unforced flow carries into the ball of
    radius `tol` around the equilibrium `center` by t_max (escapade.simulate with a target Ball). r is an
    estimate: it is resolved to the grid spacing, and it is exact only if R lies inside the box."""
    _check_flow(flow)
    _check_landscape(landscape)
    c = _point("center", center, landscape.dim)
    t_max = as_float("t_max", t_max, positive=True)
    tol = as_float("tol", tol, positive=True)
    pts = grid_points(low, high, n)
    check_dim("low", pts, landscape.dim, "the landscape's dimension")
    res: Any = simulate(landscape, _unforced(flow), x0=pts, target=Ball(c, tol), t_max=t_max, seed=seed,
                        threads=threads)
    inside = np.asarray(res.status) == Status.HIT
    dist = np.linalg.norm(pts - c, axis=1)
    radius = float(dist[inside].max()) if inside.any() else 0.0
    return Basin(center=c, points=pts, inside=inside, radius=radius, fraction=float(inside.mean()))


def drift_bound(landscape: Any, flow: Any, center: ArrayLike, radius: float, *, n_samples: int = 4096,
                n_refine: int = 8, seed: int = 0) -> float:
    """An estimate of E = sup_{|x - center| <= radius} |U_alpha(x)| (000, Theorem 1): the largest |U_alpha| over
    `n_samples` uniform points of the ball (and its center), then SLSQP from the `n_refine` best ones. A lower
    estimate of the true supremum (a global maximum is not certified)."""
    _check_flow(flow)
    _check_landscape(landscape)
    c = _point("center", center, landscape.dim)
    radius = as_float("radius", radius, nonnegative=True)
    n_samples = as_int("n_samples", n_samples, minimum=1)
    n_refine = as_int("n_refine", n_refine, minimum=0)
    u = _unforced(flow)
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))
    d = c.size
    z = rng.standard_normal((n_samples, d))
    z *= (radius * rng.random(n_samples) ** (1 / d) / np.linalg.norm(z, axis=1))[:, None]
    pts = np.vstack([c, c + z])
    norms = np.linalg.norm(u.drift(landscape, pts), axis=1)
    norms = np.where(np.isfinite(norms), norms, -np.inf)
    best = float(norms.max())

    def neg(x: np.ndarray) -> float:
        v = float(np.linalg.norm(u.drift(landscape, x)))
        return -v if math.isfinite(v) else 0.0

    cons = [{"type": "ineq", "fun": lambda x: radius * radius - float(np.sum((x - c) ** 2))}]
    for i in np.argsort(norms)[::-1][:n_refine]:
        sol = optimize.minimize(neg, pts[i], method="SLSQP", constraints=cons, options={"maxiter": 100})
        if np.linalg.norm(sol.x - c) <= radius * (1 + 1e-9):
            best = max(best, -float(sol.fun))
    return best


@dataclasses.dataclass(frozen=True)
class BiasCheck:
    """Definition 1 on a sampled window [t0, t1]: for each start tau of `taus`, `directions[k]` is a unit v(tau)
    and `margins[k]` = min over the samples t in [tau, tau + delta] of <w(t), v(tau)>. `epsilon` = min of the
    margins is the largest epsilon for which the samples are (delta, epsilon)-biased with these directions;
    `biased` says whether it reaches the requested `target` epsilon (if given)."""

    delta: float
    window: tuple[float, float]
    taus: np.ndarray
    directions: np.ndarray
    margins: np.ndarray
    epsilon: float
    target: float
    biased: bool


def _min_norm_in_hull(W: np.ndarray) -> np.ndarray:
    """The point of the convex hull of the rows of W nearest to 0 (Wolfe's problem), by NNLS with a heavy
    simplex row, then renormalized weights."""
    k = W.shape[0]
    scale = max(float(np.abs(W).max()), 1e-300)
    weight = 1e3
    A = np.vstack([W.T / scale, weight * np.ones((1, k))])
    b = np.zeros(A.shape[0])
    b[-1] = weight
    p, _ = optimize.nnls(A, b)
    s = p.sum()
    return (p / s) @ W if s > 0 else W[0]


def biased_check(w: Any, delta: float, window: tuple[float, float], *, dt: float = 1e-3,
                 epsilon: float | None = None, seed: int = 0, path: int = 0) -> BiasCheck:
    """Whether w(t) is (delta, epsilon)-biased over the window T = [t0, t1] (000, Definition 1: for every tau in
    T a unit v(tau) with <w(t), v(tau)> >= epsilon for all t in [tau, tau + delta] ∩ T), checked on the grid of
    step `dt`. For each tau the direction is the best one for the samples: v = p / |p| with p the point of the
    convex hull of the samples nearest to 0, whose margin min <w(t), v> is the hull's distance from 0 when 0 is
    outside it. `w` is an escapade Forcing (evaluated with seed, path) or a function of times (k,) -> (k, d).
    Cost: one small non-negative least-squares problem per tau, over the delta / dt samples of its window."""
    delta = as_float("delta", delta, positive=True)
    dt = as_float("dt", dt, positive=True)
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise TypeError(f"window must be a pair (t0, t1) of numbers, got {window!r}")
    t0, t1 = as_float("window", window[0]), as_float("window", window[1])
    if not t0 < t1:
        raise ValueError(f"window must have t0 < t1, got {window!r}")
    target = math.nan if epsilon is None else as_float("epsilon", epsilon)
    if isinstance(w, Forcing):
        def sample(t: np.ndarray) -> np.ndarray:
            return np.asarray(w(t, seed=seed, path=path))
    elif callable(w):
        def sample(t: np.ndarray) -> np.ndarray:
            return np.asarray(w(t), dtype=float).reshape(t.size, -1)
    else:
        raise TypeError(f"w must be an escapade Forcing or a function of time, got {w!r}")
    n = int(round((t1 - t0) / dt))
    times = np.linspace(t0, t1, n + 1)
    W = sample(times)
    if not np.all(np.isfinite(W)):
        raise ValueError(f"w must be finite on the window {window!r}")
    span = int(round(delta / ((t1 - t0) / n)))
    dirs = np.zeros_like(W)
    margins = np.empty(n + 1)
    for k in range(n + 1):
        seg = W[k:k + span + 1]
        p = _min_norm_in_hull(seg)
        norm = float(np.linalg.norm(p))
        v = p / norm if norm > 0 else np.eye(W.shape[1])[0]
        dirs[k] = v
        margins[k] = float(np.min(seg @ v))
    eps = float(margins.min())
    return BiasCheck(delta=delta, window=(t0, t1), taus=times, directions=dirs, margins=margins, epsilon=eps,
                     target=target, biased=bool(epsilon is not None and eps >= target))


@dataclasses.dataclass(frozen=True)
class Theorem1Check:
    """Theorem 1's numbers: r (radius of R), E (sup of |U_alpha| on the ball of radius r), the forcing's delta and
    epsilon, and the two conditions epsilon > E and delta (epsilon - E) > 2 r; `escapes` when both hold (then
    every visit to R is left within delta)."""

    radius: float
    drift_bound: float
    delta: float
    epsilon: float
    epsilon_exceeds_drift: bool
    long_enough: bool
    escapes: bool


def theorem1_check(radius: float, drift_bound: float, delta: float, epsilon: float) -> Theorem1Check:
    """The conditions of 000's Theorem 1 for a (delta, epsilon)-biased forcing (e.g. from `biased_check`), a
    region of attraction of radius r (`constrained_basin`) and E (`drift_bound`)."""
    r = as_float("radius", radius, nonnegative=True)
    E = as_float("drift_bound", drift_bound, nonnegative=True)
    delta = as_float("delta", delta, positive=True)
    eps = as_float("epsilon", epsilon)
    a, b = eps > E, delta * (eps - E) > 2 * r
    return Theorem1Check(radius=r, drift_bound=E, delta=delta, epsilon=eps, epsilon_exceeds_drift=a,
                         long_enough=b, escapes=a and b)


# --- Section V: the augmented Lagrangian and strong equilibria -----------------------------------------------------


def augmented_lagrangian(landscape: Any, constraint: Any, center: ArrayLike, beta: float) -> Callable[[Any], Any]:
    """L_beta(x) = f(x) - f(x*) + lambda_0^T g(x) + beta/2 |g(x)|^2 (000, Section V) with lambda_0 = lambda(x*)
    from (3); returns a function of a point (d,) -> float or rows (n, d) -> (n,)."""
    c = _point("center", center, constraint.dim)
    beta = as_float("beta", beta, nonnegative=True)
    lam0 = multiplier(landscape, constraint, c)
    f0 = float(landscape.value(c))

    def L(x: Any) -> Any:
        a = np.asarray(x, dtype=float)
        g = constraint.value(a)
        out = np.asarray(landscape.value(a)) - f0 + g @ lam0 + beta / 2 * np.sum(g * g, axis=-1)
        return float(out) if a.ndim == 1 else out

    return L


def _constraint_hessians(constraint: Any, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Hessians of the m constraint functions (m, d, d), central differences of the Jacobian."""
    d = x.size
    cols = [(constraint.jacobian(x + h * e) - constraint.jacobian(x - h * e)) / (2 * h) for e in np.eye(d)]
    H = np.stack(cols, axis=-1)  # (m, d, d): H[i, :, j] = d J_i / d x_j
    return (H + np.swapaxes(H, 1, 2)) / 2


@dataclasses.dataclass(frozen=True)
class StrongEquilibrium:
    """Definition 2 checked at x* for one beta, with radius r: `multiplier` lambda_0, `gradient_norm` |grad L_beta
    (x*)| and `feasibility` |g(x*)| (first order), `tangent_min_eigenvalue` the smallest eigenvalue of the Hessian
    of L_0 on the tangent space {J y = 0} (second order, Remark 4), `hessian_min_eigenvalue` that of the full
    Hessian of L_beta; `gamma1` = min 2 L_beta(x) / |x - x*|^2 and `gamma2` = min max(|g|^2, grad f^T P grad f) /
    |x - x*|^2 over sampled points 0 < |x - x*| <= r; `strong` when the first-order residuals are below tol and
    gamma1, gamma2 > 0 (estimates: minima over samples)."""

    center: np.ndarray
    beta: float
    radius: float
    multiplier: np.ndarray
    gradient_norm: float
    feasibility: float
    tangent_min_eigenvalue: float
    hessian_min_eigenvalue: float
    gamma1: float
    gamma2: float
    strong: bool


def strong_equilibrium(landscape: Any, constraint: Any, center: ArrayLike, *, beta: float, radius: float,
                       n_samples: int = 2048, seed: int = 0, tol: float = 1e-8) -> StrongEquilibrium:
    """Numerical test of 000's Definition 2 at x* = `center` for the given beta and radius r."""
    _check_landscape(landscape)
    _check_constraint(constraint)
    c = _point("center", center, constraint.dim)
    beta = as_float("beta", beta, nonnegative=True)
    radius = as_float("radius", radius, positive=True)
    n_samples = as_int("n_samples", n_samples, minimum=1)
    tol = as_float("tol", tol, positive=True)
    lam0 = multiplier(landscape, constraint, c)
    J, g0 = constraint.jacobian(c), constraint.value(c)
    grad_L = landscape.gradient(c) + J.T @ lam0 + beta * J.T @ g0
    H0 = np.asarray(landscape.hessian(c)) + np.einsum("i,ijk->jk", lam0, _constraint_hessians(constraint, c))
    Hb = H0 + beta * J.T @ J
    _, s, vt = np.linalg.svd(J)
    null = vt[int(np.sum(s > 1e-12 * max(1.0, s.max()))):].T
    tangent = float(np.linalg.eigvalsh(null.T @ H0 @ null).min()) if null.shape[1] else math.inf
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))
    d = c.size
    z = rng.standard_normal((n_samples, d))
    z *= (radius * rng.random(n_samples) ** (1 / d) / np.linalg.norm(z, axis=1))[:, None]
    z = z[np.linalg.norm(z, axis=1) > 0]
    pts = c + z
    r2 = np.sum(z * z, axis=1)
    L = augmented_lagrangian(landscape, constraint, c, beta)(pts)
    g = constraint.value(pts)
    proj = np.empty(len(pts))
    for i, x in enumerate(pts):
        Jx, gf = constraint.jacobian(x), landscape.gradient(x)
        proj[i] = gf @ gf - (Jx @ gf) @ np.linalg.solve(Jx @ Jx.T, Jx @ gf)
    gamma1 = float(np.min(2 * L / r2))
    gamma2 = float(np.min(np.maximum(np.sum(g * g, axis=1), proj) / r2))
    grad_norm, feas = float(np.linalg.norm(grad_L)), float(np.linalg.norm(g0))
    return StrongEquilibrium(center=c, beta=beta, radius=radius, multiplier=lam0, gradient_norm=grad_norm,
                             feasibility=feas, tangent_min_eigenvalue=tangent,
                             hessian_min_eigenvalue=float(np.linalg.eigvalsh(Hb).min()), gamma1=gamma1,
                             gamma2=gamma2, strong=grad_norm <= tol and feas <= tol and gamma1 > 0 and gamma2 > 0)
