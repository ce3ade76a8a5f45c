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

from .._validate import as_array, as_float, as_int, check_dim, real_array
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


# J J^T counts as singular when its smallest eigenvalue is at most this times max(1, largest): the flow's default
# `singular_tol`, so that a point the simulation would stop at as SINGULAR is refused here too.
_SINGULAR_TOL = 1e-12


def _multiplier(name: str, landscape: Any, constraint: Any, p: np.ndarray) -> np.ndarray:
    """lambda(p) of (3); a ValueError naming `name` and the point where J J^T is (numerically) singular."""
    J = constraint.jacobian(p)
    G = J @ J.T
    ev = np.linalg.eigvalsh(G)
    if not ev[0] > _SINGULAR_TOL * max(1.0, float(ev[-1])):
        rank = int(np.linalg.matrix_rank(J))
        raise ValueError(
            f"{name}: J J^T is singular at {p.tolist()} for {constraint!r} (smallest eigenvalue {ev[0]:.3g}): the "
            f"constraint's Jacobian J has rank {rank} < m = {J.shape[0]} there, its rows are dependent (000's "
            f"Assumption 1 fails), so the multiplier (3) -(J J^T)^{{-1}} J grad f is undefined at that point")
    return -np.linalg.solve(G, J @ landscape.gradient(p))


def multiplier(landscape: Any, constraint: Any, x: ArrayLike) -> np.ndarray:
    """000 eq. (3): lambda(x) = -(J J^T)^{-1} J grad f(x), shape (m,); the KKT multiplier at a stationary point.
    ValueError where J J^T is singular (J's rows dependent: a Sphere's center, an Affine A with dependent rows)."""
    _check_landscape(landscape)
    _check_constraint(constraint)
    return _multiplier("x", landscape, constraint, _point("x", x, constraint.dim))


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
    _check_landscape(landscape)
    _check_constraint(constraint)
    p = _point("x", x, constraint.dim)
    lam = _multiplier("x", landscape, constraint, p)
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
    v = real_array(name, value(times) if callable(value) else value)
    try:
        out = np.broadcast_to(v, times.shape).astype(float)
    except ValueError:
        raise ValueError(f"{name} must be one number or one per time ({times.size}), got shape {v.shape}") from None
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


# The most grid steps biased_check samples (10^7 steps of a 2-d forcing already hold 160 MB).
_MAX_BIAS_STEPS = 10_000_000


def biased_check(w: Any, delta: float, window: tuple[float, float], *, dt: float = 1e-3,
                 epsilon: float | None = None, seed: int = 0, path: int = 0) -> BiasCheck:
    """Whether w(t) is (delta, epsilon)-biased over the window T = [t0, t1] (000, Definition 1: for every tau in
    T a unit v(tau) with <w(t), v(tau)> >= epsilon for all t in [tau, tau + delta] ∩ T), checked on the grid of
    step `dt`. For each tau the direction is the best one for the samples: v = p / |p| with p the point of the
    convex hull of the samples nearest to 0, whose margin min <w(t), v> is the hull's distance from 0 when 0 is
    outside it. `w` is an escapade Forcing (evaluated with seed, path) or a function of times (k,) -> (k, d).
    Cost: one small non-negative least-squares problem per tau, over the delta / dt samples of its window. dt must
    be at most t1 - t0, and the grid at most 10^7 steps (ValueError otherwise)."""
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
            return real_array("w", w(t)).reshape(t.size, -1)
    else:
        raise TypeError(f"w must be an escapade Forcing or a function of time, got {w!r}")
    if dt > t1 - t0:
        raise ValueError(f"dt must be at most the window's length t1 - t0 = {t1 - t0:g} (the grid needs two "
                         f"samples), got dt = {dt!r} for window {window!r}")
    steps = (t1 - t0) / dt
    if not steps <= _MAX_BIAS_STEPS:
        raise ValueError(f"dt = {dt!r} is too small for window {window!r}: (t1 - t0) / dt = {steps:.3g} grid steps, "
                         f"more than {_MAX_BIAS_STEPS:,} (the samples are held in memory and each step solves a "
                         f"least-squares problem); take a larger dt")
    n = max(int(round(steps)), 1)
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
    _check_landscape(landscape)
    _check_constraint(constraint)
    c = _point("center", center, constraint.dim)
    beta = as_float("beta", beta, nonnegative=True)
    lam0 = _multiplier("center", landscape, constraint, c)
    f0 = float(landscape.value(c))

    def L(x: Any) -> Any:
        a = real_array("x", x)
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
    """Definition 2 checked at x* for one beta, with radius r.

    First and second order at x*: `multiplier` lambda_0, `gradient_norm` |grad L_beta(x*)| and `feasibility`
    |g(x*)|, `tangent_min_eigenvalue` the smallest eigenvalue of the Hessian of L_0 on the tangent space
    {J y = 0} (Remark 4), `hessian_min_eigenvalue` that of the full Hessian of L_beta.

    Definition 2's constants, as the infima over the punctured ball 0 < |x - x*| <= r of
    q1(x) = 2 L_beta(x) / |x - x*|^2 and q2(x) = max(|g(x)|^2, grad f^T P grad f (x)) / |x - x*|^2:
    `gamma1`, `gamma2` are the smallest values found -- over the random samples, local minimizations started from
    the best of them, and the limits x -> x* (the quadratic forms of the Taylor expansions at x*) -- each attained
    at `gamma1_point`, `gamma2_point` (x* itself for a limit), to 12 significant digits. Being values of q1, q2,
    they are *upper bounds* of the true infima: a value <= 0 certifies that Definition 2 fails for this r, and a
    value zero within tolerance (e.g. another KKT point, found to rounding) leaves no positive gamma to certify; a
    positive value is an estimate, not a proof (a lower minimum may lie between the samples). `gamma1_sampled`,
    `gamma2_sampled` are the minima over the samples alone. gamma2 = 0 at x != x* exactly where x is another KKT
    point (g = 0 and P grad f = 0; Remark 5), so a ball that holds one is never strong.

    `strong` is False when x* is not a KKT point (residuals above tol) or when gamma1 or gamma2 is negative or zero
    within tolerance (<= gamma_tol times the median of its sampled ratios): `reason` then says where. True means
    that x* is a KKT point and the search found no violation (not a certificate); `reason` says so too."""

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
    gamma1_sampled: float
    gamma2_sampled: float
    gamma1_point: np.ndarray
    gamma2_point: np.ndarray
    reason: str


def _projected_gradient(landscape: Any, constraint: Any, x: np.ndarray) -> np.ndarray:
    """P(x) grad f(x), P = I - J^T (J J^T)^{-1} J: grad f minus its least-squares fit by the rows of J (no
    cancellation in |P grad f|^2, unlike |grad f|^2 - (J grad f)^T (J J^T)^{-1} J grad f, and defined where
    J J^T is singular: there P projects off the span of the rows)."""
    J, gf = constraint.jacobian(x), landscape.gradient(x)
    y = np.linalg.lstsq(J.T, gf, rcond=None)[0]
    return np.asarray(gf - J.T @ y, dtype=float)


def _in_ball(x: np.ndarray, c: np.ndarray, rmin: float, rmax: float) -> np.ndarray:
    """x moved radially onto the annulus rmin <= |x - c| <= rmax (a minimizer may end a rounding outside it)."""
    z = x - c
    n = float(np.linalg.norm(z))
    if n == 0:
        return x
    return c + z * (min(max(n, rmin), rmax) / n)


def strong_equilibrium(landscape: Any, constraint: Any, center: ArrayLike, *, beta: float, radius: float,
                       n_samples: int = 2048, n_refine: int = 8, seed: int = 0, tol: float = 1e-8,
                       gamma_tol: float = 1e-6) -> StrongEquilibrium:
    """Numerical test of 000's Definition 2 at x* = `center` for the given beta and radius r.

    Checks the first-order conditions at x* (|grad L_beta|, |g| <= tol) and searches the ball for the infima of
    q1 = 2 L_beta / |x - x*|^2 and q2 = max(|g|^2, grad f^T P grad f) / |x - x*|^2: the minima over `n_samples`
    uniform points of the ball; SLSQP from the `n_refine` best samples of each (inside the ball, outside
    |x - x*| < 1e-3 r, where rounding swamps the ratios), the best point for q2 then polished by a least-squares
    solve of the KKT system g = 0, P grad f = 0 (to find another KKT point exactly, where q2 = 0); and the limits
    as x -> x*: the smallest eigenvalue of the Hessian of L_beta for q1, and for q2 the smallest
    max(|J u|^2, |M u|^2) over the sampled directions u, M the derivative of P grad f at x* (central differences).

    What is certified: each gamma is attained at `gamma1_point` / `gamma2_point`, so a gamma <= 0 proves that
    Definition 2 fails for this radius, and one zero within tolerance (<= gamma_tol times the median of its
    sampled ratios: e.g. another KKT point, found to rounding) leaves no positive gamma to certify; either makes
    `strong` False. What is estimated: a positive gamma is the smallest value found, an upper bound of the true
    infimum; `strong` = True means that no violation was found, not that none exists. Cost: the samples and
    2 n_refine + 1 small local solves (a few tenths of a second for d = 2 at the defaults)."""
    _check_landscape(landscape)
    _check_constraint(constraint)
    c = _point("center", center, constraint.dim)
    beta = as_float("beta", beta, nonnegative=True)
    radius = as_float("radius", radius, positive=True)
    n_samples = as_int("n_samples", n_samples, minimum=1)
    n_refine = as_int("n_refine", n_refine, minimum=0)
    tol = as_float("tol", tol, positive=True)
    gamma_tol = as_float("gamma_tol", gamma_tol, nonnegative=True)
    lam0 = _multiplier("center", landscape, constraint, c)
    J, g0 = constraint.jacobian(c), constraint.value(c)
    grad_L = landscape.gradient(c) + J.T @ lam0 + beta * J.T @ g0
    H0 = np.asarray(landscape.hessian(c)) + np.einsum("i,ijk->jk", lam0, _constraint_hessians(constraint, c))
    Hb = H0 + beta * J.T @ J
    _, s, vt = np.linalg.svd(J)
    null = vt[int(np.sum(s > 1e-12 * max(1.0, s.max()))):].T
    tangent = float(np.linalg.eigvalsh(null.T @ H0 @ null).min()) if null.shape[1] else math.inf
    hess_min = float(np.linalg.eigvalsh(Hb).min())
    grad_norm, feas = float(np.linalg.norm(grad_L)), float(np.linalg.norm(g0))
    kkt = grad_norm <= tol and feas <= tol

    # Samples: uniform in the ball.
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))
    d = c.size
    z = rng.standard_normal((n_samples, d))
    z *= (radius * rng.random(n_samples) ** (1 / d) / np.linalg.norm(z, axis=1))[:, None]
    z = z[np.linalg.norm(z, axis=1) > 0]
    pts = c + z
    r2 = np.sum(z * z, axis=1)
    L_beta = augmented_lagrangian(landscape, constraint, c, beta)

    def num2(x: np.ndarray) -> float:
        g, pg = constraint.value(x), _projected_gradient(landscape, constraint, x)
        return max(float(g @ g), float(pg @ pg))

    def ratio(num: float, x: np.ndarray) -> float:  # num / |x - c|^2, inf (not an error) at x = c
        d2 = float(np.sum((x - c) ** 2))
        return num / d2 if d2 > 0 else math.inf

    def q1(x: np.ndarray) -> float:
        return ratio(2 * float(L_beta(x)), x)

    def q2(x: np.ndarray) -> float:
        return ratio(num2(x), x)

    s1 = 2 * np.asarray(L_beta(pts)) / r2
    s2 = np.array([num2(x) for x in pts]) / r2
    s1 = np.where(np.isfinite(s1), s1, np.inf)
    s2 = np.where(np.isfinite(s2), s2, np.inf)
    gamma1_sampled, gamma2_sampled = float(s1.min()), float(s2.min())
    best1 = (gamma1_sampled, pts[int(np.argmin(s1))], "a sample")
    best2 = (gamma2_sampled, pts[int(np.argmin(s2))], "a sample")

    # Local minimization from the best samples, on the annulus rho <= |x - c| <= r.
    rho = 1e-3 * radius
    ball = [{"type": "ineq", "fun": lambda x: radius * radius - float(np.sum((x[:d] - c) ** 2))},
            {"type": "ineq", "fun": lambda x: float(np.sum((x[:d] - c) ** 2)) - rho * rho}]
    opts = {"maxiter": 200, "ftol": 1e-15}

    def refined(x: np.ndarray, q: Callable[[np.ndarray], float]) -> tuple[float, np.ndarray]:
        x = np.asarray(x, dtype=float)
        if not np.all(np.isfinite(x)):
            return math.inf, x
        x = _in_ball(x, c, rho, radius)
        v = q(x)
        return (v, x) if math.isfinite(v) else (math.inf, x)

    def epigraph(k: int) -> Callable[[np.ndarray], float]:  # t |x - c|^2 - (|g|^2 or |P grad f|^2) >= 0
        def fun(y: np.ndarray) -> float:
            x = y[:d]
            part = constraint.value(x) if k == 0 else _projected_gradient(landscape, constraint, x)
            return float(y[d] * np.sum((x - c) ** 2) - part @ part)
        return fun

    for i in np.argsort(s1)[:n_refine]:
        if not math.isfinite(s1[i]):
            break
        try:
            with np.errstate(all="ignore"):
                sol = optimize.minimize(q1, pts[i], method="SLSQP", constraints=ball, options=opts)
        except (ValueError, ArithmeticError):  # a trial point where f, g or J is not finite: keep the samples'
            continue
        v, x = refined(sol.x, q1)
        if v < best1[0]:
            best1 = (v, x, "a local minimum")
    epi = ball + [{"type": "ineq", "fun": epigraph(0)}, {"type": "ineq", "fun": epigraph(1)}]
    for i in np.argsort(s2)[:n_refine]:
        if not math.isfinite(s2[i]):
            break
        try:
            with np.errstate(all="ignore"):
                sol = optimize.minimize(lambda y: float(y[d]), np.append(pts[i], s2[i]), method="SLSQP",
                                        constraints=epi, options=opts)
        except (ValueError, ArithmeticError):
            continue
        v, x = refined(sol.x[:d], q2)
        if v < best2[0]:
            best2 = (v, x, "a local minimum")
    if n_refine and math.isfinite(best2[0]):
        # Polish the best point as a root of the KKT system: finds another KKT point exactly (q2 = 0) if it is near.
        def kkt_system(x: np.ndarray) -> np.ndarray:
            return np.concatenate([constraint.value(x), _projected_gradient(landscape, constraint, x)])

        try:
            with np.errstate(all="ignore"):
                root = optimize.least_squares(kkt_system, best2[1], method="lm", xtol=1e-15, ftol=1e-15,
                                              gtol=1e-15).x
        except (ValueError, ArithmeticError):
            root = np.full(d, np.nan)
        if np.all(np.isfinite(root)) and rho <= float(np.linalg.norm(root - c)) <= radius:
            v = q2(root)
            if v < best2[0]:
                best2 = (v, np.asarray(root, dtype=float), "a root of the KKT system")

    # The limits x -> x* (meaningful at a KKT point): q1 -> u^T Hess L_beta u, q2 -> max(|J u|^2, |M u|^2).
    if kkt:
        if hess_min < best1[0]:
            best1 = (hess_min, c, "the limit x -> x* (smallest eigenvalue of the Hessian of L_beta)")
        h = 1e-6 * max(1.0, float(np.abs(c).max()))
        M = np.stack([(_projected_gradient(landscape, constraint, c + h * e)
                       - _projected_gradient(landscape, constraint, c - h * e)) / (2 * h) for e in np.eye(d)], axis=1)
        u = z / np.sqrt(r2)[:, None]
        lim = np.maximum(np.sum((u @ J.T) ** 2, axis=1), np.sum((u @ M.T) ** 2, axis=1))
        if lim.size and float(lim.min()) < best2[0]:
            best2 = (float(lim.min()), c, "the limit x -> x* (smallest max(|J u|^2, |M u|^2) over the sampled "
                                          "directions u, M = D(P grad f)(x*))")

    # To 12 significant digits: a local minimizer finds the rounding errors of the ratios too (a few units in the
    # 16th digit where the true minimum is attained), which would put gamma a hair below an exact infimum.
    gamma1, gamma2 = (float(f"{best[0]:.12g}") for best in (best1, best2))
    scale1 = float(np.median(s1[np.isfinite(s1)])) if np.isfinite(s1).any() else 0.0
    scale2 = float(np.median(s2[np.isfinite(s2)])) if np.isfinite(s2).any() else 0.0

    def where(best: tuple[float, np.ndarray, str]) -> str:
        return (f"at x = {np.round(best[1], 6).tolist()} (|x - x*| = {float(np.linalg.norm(best[1] - c)):.4g}, "
                f"{best[2]})")

    if not kkt:
        strong = False
        reason = (f"x* is not a KKT point: |grad L_beta(x*)| = {grad_norm:.3g}, |g(x*)| = {feas:.3g} "
                  f"(tol {tol:g})")
    elif not (math.isfinite(gamma1) and math.isfinite(gamma2)):
        strong = False
        reason = (f"no finite ratio in the ball (gamma1 = {gamma1}, gamma2 = {gamma2}): f, g or their derivatives "
                  f"are not finite there, nothing is certified")
    elif not gamma1 > gamma_tol * max(scale1, 0.0):
        strong = False
        there = "" if best1[2].startswith("the limit") else f", L_beta = {float(L_beta(best1[1])):.3g} there"
        reason = (f"gamma1 = {gamma1:.3g} is not positive (or zero within gamma_tol {gamma_tol:g} times the sampled "
                  f"median {scale1:.3g}) {where(best1)}{there}: Definition 2 fails for r = {radius:g}")
    elif not gamma2 > gamma_tol * max(scale2, 0.0):
        strong = False
        x2 = best2[1]
        extra = ""
        if not best2[2].startswith("the limit"):
            gx, px = constraint.value(x2), _projected_gradient(landscape, constraint, x2)
            extra = (f", |g| = {float(np.linalg.norm(gx)):.3g} and |P grad f| = {float(np.linalg.norm(px)):.3g} "
                     f"there (another KKT point within tolerance)")
        reason = (f"gamma2 = {gamma2:.3g} is zero within gamma_tol {gamma_tol:g} times the sampled median "
                  f"{scale2:.3g} {where(best2)}{extra}: Definition 2 fails for r = {radius:g}")
    else:
        strong = True
        reason = (f"x* is a KKT point and no violation was found: gamma1 = {gamma1:.4g} {where(best1)}, gamma2 = "
                  f"{gamma2:.4g} {where(best2)}; the smallest values found by {len(pts)} samples, {n_refine} local "
                  f"minimizations each and the limits at x*, upper bounds of the true infima (not a certificate)")
    return StrongEquilibrium(center=c, beta=beta, radius=radius, multiplier=lam0, gradient_norm=grad_norm,
                             feasibility=feas, tangent_min_eigenvalue=tangent, hessian_min_eigenvalue=hess_min,
                             gamma1=gamma1, gamma2=gamma2, strong=strong, gamma1_sampled=gamma1_sampled,
                             gamma2_sampled=gamma2_sampled, gamma1_point=np.asarray(best1[1], dtype=float).copy(),
                             gamma2_point=np.asarray(best2[1], dtype=float).copy(), reason=reason)
