"""Step-size thresholds of SGD-k near a minimizer (004, Sections 2-3): the curvature constants of a stochastic
quadratic (Problem 3.1, Table 1), the convergence and divergence bounds of Theorems 3.8 and 3.12, their
nonconvex version (Definition 3.14) by Monte Carlo over a ball, and the per-iteration growth factor of the error.

Notation (004, Table 1). A finite stochastic quadratic has terms (Q_i, r_i) drawn with probabilities p_i;
A = E[Q] = sum_i p_i Q_i has nonzero eigenvalues lambda_1 >= ... >= lambda_m > 0 (m = rank A);
M = E[Q A Q] - A^3; e_N = (theta_N - theta*)' A (theta_N - theta*) is the error of the N-th iterate; and

    t_Q = sup { v'Mv / v'Av : v'Av != 0 },    s_Q = inf { v'Mv / v'Av : v'Av != 0 }       (eqs (4), (5)).

SGD-k with step C draws k terms independently (with replacement, Definition 3.5) and steps along the average of
their gradients; k = numpy.inf is gradient descent. Everywhere below `k` may be an array and the answers
broadcast over it.

Which sampling: every formula here is for sampling with replacement, `SGDk(replace=True)`, 004's scheme. For
`SGDk(replace=False)` (k distinct terms drawn uniformly, term i weighted by n p_i) the batch covariance is that
of the reweighted terms (n p_i Q_i, n p_i r_i) under uniform weights times (n - k) / (n - 1), so the same
functions apply to the curvature of those reweighted terms at the batch size k (n - 1) / (n - k) (numpy.inf
at k = n). Under uniform p the constants are unchanged and only k moves; the with-replacement thresholds at k are
then a valid but loose convergence bound and a divergence bound that may be too low. docs/sgdk.md.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, Callable, NamedTuple, Union

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from .._validate import _short, as_array, as_float, as_int, check_dim, refuse_masked
from ..landscapes import StochasticQuadratic, StyblinskiTangSum
from ..landscapes.stochastic_quadratic import _check_has_minimizer
from ..results import RunRecord
from .estimates import normal_quantile

__all__ = [
    "CriticalBatchSizes",
    "GrowthRate",
    "LocalCurvature",
    "QuadraticCurvature",
    "convergence_threshold",
    "critical_batch_sizes",
    "diagonal_local_curvature",
    "divergence_index",
    "divergence_threshold",
    "error_factor",
    "error_factor_bounds",
    "growth_rate",
    "local_curvature",
    "quadratic_curvature",
    "thresholds_table",
    "trajectory_errors",
]

HOMOGENEOUS_RTOL = 1e-8


# ---------------------------------------------------------------------------------------------------------------
# Curvature constants


@dataclasses.dataclass(frozen=True, eq=False)
class QuadraticCurvature:
    """The curvature constants of a finite stochastic quadratic (004, Problem 3.1 and Table 1).

    Attributes
    ----------
    lambdas : (m,) the nonzero eigenvalues lambda_1 >= ... >= lambda_m > 0 of A = E[Q].
    eigenvectors : (d, m) orthonormal eigenvectors U of A for `lambdas` (a basis of the range of A).
    s_Q, t_Q : the extreme generalized eigenvalues of (U'MU, diag(lambdas)), eqs (5) and (4); 0 <= s_Q <= t_Q.
    M : (d, d) the matrix E[Q A Q] - A^3 (computed as E[(Q - A) A (Q - A)], the same matrix without cancellation).
    A : (d, d) E[Q].
    theta_star : (d,) the minimum-norm solution of (1), -A^+ E[r].
    homogeneous : whether theta_star solves every term, Q_i theta* + r_i = 0 for all i with p_i > 0 (Definition
        3.4), within residual <= 1e-8 * scale.
    residual : max over terms with p_i > 0 of |Q_i theta* + r_i| (the Euclidean norm).
    scale : max over those terms of |Q_i|_2 |theta*| + |r_i|, the size `residual` is compared with.
    noise_variance : E[(Q theta* + r)' A (Q theta* + r)], the last term of (9) (0 when homogeneous).
    cross : (d,) E[Q A (Q theta* + r)], the vector in the cross term of (9) (0 when homogeneous).
    psi : the additive constant of the upper bound (37), noise_variance + cross' (A^3)^+ cross (Lemma 3.11);
        E[e_{N+1} | theta_N] <= (factor) e_N + C^2 psi / k.
    """

    lambdas: np.ndarray
    eigenvectors: np.ndarray
    s_Q: float
    t_Q: float
    M: np.ndarray
    A: np.ndarray
    theta_star: np.ndarray
    homogeneous: bool
    residual: float
    scale: float
    noise_variance: float
    cross: np.ndarray
    psi: float

    @property
    def m(self) -> int:
        """rank(E[Q])."""
        return int(self.lambdas.shape[0])

    @property
    def theorem(self) -> str:
        """Which of 004's theorems the thresholds use with case="auto": "3.8" ((18)-(20)) at a homogeneous
        minimizer, "3.12" ((39), (35)-(36)) at an inhomogeneous one. `thresholds_table` prints it per row."""
        return "3.8" if self.homogeneous else "3.12"


def _as_rank_rtol(rank_rtol: Any) -> float | None:
    """None (the default cut) or a fraction in (0, 1): from 1 on not even the largest eigenvalue counts."""
    if rank_rtol is None:
        return None
    r = as_float("rank_rtol", rank_rtol, positive=True)
    if r >= 1:
        raise ValueError(f"rank_rtol must be below 1 (else no eigenvalue counts as nonzero), got {r}")
    return r


def _rank_cut(w: np.ndarray, d: int, rank_rtol: float | None) -> float:
    rtol = d * np.finfo(np.float64).eps if rank_rtol is None else rank_rtol
    return float(rtol * max(np.abs(w).max(), np.finfo(np.float64).tiny))


def _as_problem(Q: Any, r: Any, p: Any) -> StochasticQuadratic:
    if isinstance(Q, StochasticQuadratic):
        if r is not None or p is not None:
            raise TypeError("r and p must be None when Q is a StochasticQuadratic (it has its own)")
        return Q
    return StochasticQuadratic(Q, r, p)  # checks shapes, symmetry, semi-definiteness and p


def _pencil_extremes(M: np.ndarray, U: np.ndarray, lam: np.ndarray) -> tuple[float, float]:
    """The smallest and largest generalized eigenvalues of (U'MU, diag(lam))."""
    B = U.T @ M @ U
    w = scipy.linalg.eigh((B + B.T) / 2, np.diag(lam), eigvals_only=True)
    return float(w[0]), float(w[-1])


def quadratic_curvature(Q: StochasticQuadratic | ArrayLike, r: ArrayLike | None = None,
                        p: ArrayLike | None = None, *, rank_rtol: float | None = None) -> QuadraticCurvature:
    """The constants of Table 1 of 004 for the stochastic quadratic with terms (Q_i, r_i), probabilities p_i.

    Parameters
    ----------
    Q : a `StochasticQuadratic`, or (n, d, d) symmetric positive semi-definite matrices Q_i.
    r : (n, d) the linear parts r_i (default zero); None when `Q` is a StochasticQuadratic.
    p : (n,) the probabilities p_i (default uniform); None when `Q` is a StochasticQuadratic.
    rank_rtol : an eigenvalue of E[Q] counts as nonzero when it exceeds rank_rtol * (largest eigenvalue);
        default d * machine epsilon (as numpy.linalg.matrix_rank).

    Returns
    -------
    QuadraticCurvature
        lambda_1..lambda_m, s_Q, t_Q, M, theta*, whether theta* is homogeneous, and the inhomogeneous constants of
        Theorem 3.12.

    Notes
    -----
    s_Q and t_Q are the extreme eigenvalues of U'MU x = mu diag(lambda) x, U the eigenvectors of E[Q] with nonzero
    eigenvalue: a v with v'Av != 0 splits into a part in the range of A and one in its null space, and the null
    part changes neither v'Av nor v'Mv (Lemma 3.3 (1)), so the extremes of (4)-(5) are attained in the range.
    Rounding below zero (M is positive semi-definite, Lemma 3.3 (2)) is clipped to 0. Constant Q_i give
    M = 0 and s_Q = t_Q = 0. Note that s_Q can be 0 also when the Q_i differ (when they differ only along some
    directions of the range of E[Q]); only t_Q > 0 is equivalent to Q not being almost surely constant.

    Raises
    ------
    ValueError, TypeError
        Naming Q, r, p or rank_rtol: wrong shapes, non-symmetric or indefinite Q_i, p not a distribution,
        E[Q] = 0, E[r] not in the range of E[Q] (004's Problem 3.1: F has no minimizer; `StochasticQuadratic`).
    """
    problem = _as_problem(Q, r, p)
    rank_rtol = _as_rank_rtol(rank_rtol)
    Qs, rs, ps = problem.Q, problem.r, problem.p
    d = Qs.shape[1]
    A = np.einsum("i,ijk->jk", ps, Qs)
    A = (A + A.T) / 2
    w, V = np.linalg.eigh(A)
    if w.max() <= 0:
        raise ValueError("Q must have a nonzero expectation E[Q] (Problem 3.1), got E[Q] = 0")
    _check_has_minimizer(Qs, rs, ps)
    keep = w > _rank_cut(w, d, rank_rtol)
    order = np.argsort(w[keep])[::-1]
    lam = w[keep][order]
    U = V[:, keep][:, order]
    D = Qs - A
    M = np.einsum("i,iab,bc,icd->ad", ps, D, A, D)
    M = (M + M.T) / 2
    s, t = _pencil_extremes(M, U, lam)
    s, t = max(s, 0.0), max(t, 0.0)

    Apinv = (U / lam) @ U.T
    theta = -Apinv @ (ps @ rs)
    g = np.einsum("ijk,k->ij", Qs, theta) + rs  # gradient of each term at theta*
    active = ps > 0
    residual = float(np.linalg.norm(g[active], axis=1).max())
    scale = float((np.linalg.norm(Qs[active], ord=2, axis=(1, 2)) * np.linalg.norm(theta)
                   + np.linalg.norm(rs[active], axis=1)).max())
    homogeneous = residual <= HOMOGENEOUS_RTOL * scale
    if homogeneous:
        noise_variance, cross, psi = 0.0, np.zeros(d), 0.0
    else:
        noise_variance = float(np.einsum("i,ij,jk,ik->", ps, g, A, g))
        cross = np.einsum("i,ijk,kl,il->j", ps, Qs, A, g)
        A3pinv = (U / lam**3) @ U.T
        psi = float(noise_variance + cross @ A3pinv @ cross)
    arrays = [lam, U, M, A, theta, cross]
    for a in arrays:
        a.setflags(write=False)
    return QuadraticCurvature(lambdas=lam, eigenvectors=U, s_Q=s, t_Q=t, M=M, A=A, theta_star=theta,
                              homogeneous=bool(homogeneous), residual=residual, scale=scale,
                              noise_variance=noise_variance, cross=cross, psi=psi)


@dataclasses.dataclass(frozen=True, eq=False)
class LocalCurvature:
    """The constants of 004's deterministic mechanism (Definition 3.14) near a point theta*, estimated by Monte
    Carlo over the ball B(theta*, eps).

    With H_i(theta) the terms' Hessians, H(theta) = sum_i p_i H_i(theta) and
    M(theta) = E[H_i H H_i] - H^3 = E[(H_i - H) H (H_i - H)] at each point:

    Attributes
    ----------
    lambdas : (m,) the nonzero eigenvalues of the ball average of H, eq (49).
    lambdas_se : (m,) their Monte Carlo standard errors (first order: the sample standard deviation of u_j' H u_j
        over the points, divided by sqrt(n_samples), u_j the eigenvector).
    s_f : max(0, ball average of the smallest generalized eigenvalue of (M, H) on the range of H), eq (50).
    t_f : the ball average of the largest one (the analogue of t_Q used for the convergence bound, 004 Table 3).
    s_se, t_se : the Monte Carlo standard errors of the two averages (before the clipping at 0).
    n_samples : the number of uniform points in the ball.
    n_indefinite : how many of them had a Hessian H(theta) with an eigenvalue below -rank_rtol * (its largest
        absolute eigenvalue); there the quotients of (50) are unbounded (the infimum is -inf), and the extremes are
        taken over the span of the eigenvectors with positive eigenvalue instead. Nonzero means eps is not
        "sufficiently small".
    center, eps, seed : where, how wide and with which seed.

    The thresholds of a LocalCurvature use Theorem 3.8's forms ((18) and (19)-(20), as (51)-(52) of Definition
    3.14, which 004 applies to its nonconvex experiments, inhomogeneous minimizers included) unless they are given
    case="inhomogeneous": a LocalCurvature does not know whether the terms' gradients vanish at its center.
    `theorem` says so; `quadratic_curvature` instead picks Theorem 3.12 at an inhomogeneous minimizer (see
    `local_curvature`).
    """

    lambdas: np.ndarray
    lambdas_se: np.ndarray
    s_f: float
    t_f: float
    s_se: float
    t_se: float
    n_samples: int
    n_indefinite: int
    center: np.ndarray
    eps: float
    seed: int

    @property
    def m(self) -> int:
        return int(self.lambdas.shape[0])

    @property
    def theorem(self) -> str:
        """Which of 004's theorems the thresholds use with case="auto": always "3.8" (Definition 3.14's forms)."""
        return "3.8"


TermHessians = Callable[[np.ndarray], Any]


def _hessian_source(landscape: Any, p: ArrayLike | None) -> tuple[TermHessians, np.ndarray | None]:
    method = getattr(landscape, "term_hessians", None)
    if callable(method):
        weights = getattr(landscape, "p", None) if p is None else p
        return method, (None if weights is None else np.asarray(weights, dtype=np.float64))
    if callable(landscape):
        return landscape, (None if p is None else np.asarray(p, dtype=np.float64))
    raise TypeError("landscape must have a method term_hessians(x) -> (n, d, d) and an attribute p, or be a "
                    f"callable x -> (n, d, d), got {type(landscape).__name__}")


def _uniform_ball(n: int, center: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """n points uniform in the ball of `radius` around `center` (directions normal, radii U^(1/d))."""
    d = center.shape[0]
    z = rng.standard_normal((n, d))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    return center + radius * rng.random(n)[:, None] ** (1.0 / d) * z


def local_curvature(landscape: Any, center: ArrayLike, eps: float, *, p: ArrayLike | None = None,
                    n_samples: int = 1000, seed: int = 0, rank_rtol: float | None = None) -> LocalCurvature:
    """lambda_j, s_f and t_f of 004's Definition 3.14 around `center`, averaged over B(center, eps) by Monte Carlo.

    Parameters
    ----------
    landscape : the finite sum f = sum_i p_i f_i, given as either
        - an object with a method ``term_hessians(x)`` returning the (n, d, d) Hessians of the n terms at the point
          x (d,), and an attribute ``p`` (n,), the terms' probabilities (`StochasticQuadratic` is one), or
        - a callable ``x -> (n, d, d)`` with the probabilities in `p`.
    center : (d,) theta*, the local minimizer.
    eps : the radius of the ball, > 0.
    p : (n,) the probabilities; overrides the landscape's ``p``; default uniform.
    n_samples : how many points, uniform in the ball, drawn with numpy's default generator from `seed`.
    seed : the seed of those points.
    rank_rtol : the eigenvalues of the averaged Hessian (and of H at each point) above rank_rtol * (largest) count
        as nonzero; default d * machine epsilon.

    Returns
    -------
    LocalCurvature
        The constants with their Monte Carlo standard errors. For a StochasticQuadratic (constant Hessians) they
        equal `quadratic_curvature`'s lambdas, s_Q and t_Q, with zero standard errors.

    Notes
    -----
    The same constants do not give the same convergence bound by default: a LocalCurvature's thresholds use
    Theorem 3.8 (18) (Definition 3.14, `LocalCurvature.theorem` = "3.8"), while a QuadraticCurvature of an
    inhomogeneous problem uses Theorem 3.12 (39), which is lower by the factor (1 + 1/k) on lambda_j^2 (the
    divergence bounds agree: (35) with gamma -> 0 is (19)). On StochasticQuadratic.inhomogeneous(3, 10, seed=1),
    u(1) = 0.6632 from local_curvature and 0.5675 from quadratic_curvature, u(2) = 1.135 and 0.8807. Pass
    case="inhomogeneous" (or case="homogeneous") to the threshold functions to get the other theorem's bound from
    either; `thresholds_table` prints which one each row uses.
    """
    hess, weights = _hessian_source(landscape, p)
    c = as_array("center", center, ndim=1)
    d = c.shape[0]
    dim = getattr(landscape, "dim", None)
    if isinstance(dim, int):
        check_dim("center", c, dim, "the landscape's dimension")
    eps = as_float("eps", eps, positive=True)
    n_samples = as_int("n_samples", n_samples, minimum=2)
    seed = as_int("seed", seed, minimum=0)
    rank_rtol = _as_rank_rtol(rank_rtol)
    points = _uniform_ball(n_samples, c, eps, np.random.default_rng(seed))

    mats = []  # H(theta) per point
    lows, highs = np.empty(n_samples), np.empty(n_samples)
    n_indefinite = 0
    for s, x in enumerate(points):
        Hi = np.asarray(hess(x), dtype=np.float64)
        if Hi.ndim != 3 or Hi.shape[1:] != (d, d):
            raise ValueError(f"term_hessians must return an (n, {d}, {d}) array, got shape {Hi.shape}")
        if not np.isfinite(Hi).all():  # eigh would fail with a LinAlgError
            raise ValueError(f"term_hessians must return finite values, got NaN or inf at x = {x.tolist()}")
        if weights is None:
            weights = np.full(Hi.shape[0], 1.0 / Hi.shape[0])
        if s == 0:
            if weights.shape != (Hi.shape[0],) or np.any(weights < 0) or not abs(weights.sum() - 1.0) <= 1e-9:
                raise ValueError(f"p must be {Hi.shape[0]} non-negative probabilities summing to 1, "
                                 f"got {np.asarray(weights).tolist()}")
        H = np.einsum("i,ijk->jk", weights, Hi)
        H = (H + H.T) / 2
        mats.append(H)
        w, V = np.linalg.eigh(H)
        cut = _rank_cut(w, d, rank_rtol)
        if w.min() < -cut:
            n_indefinite += 1
        keep = w > cut
        if not keep.any():
            lows[s] = highs[s] = 0.0
            continue
        D = Hi - H
        M = np.einsum("i,iab,bc,icd->ad", weights, D, H, D)
        lows[s], highs[s] = _pencil_extremes((M + M.T) / 2, V[:, keep], w[keep])

    stack = np.array(mats)
    Hbar = stack.mean(axis=0)
    w, V = np.linalg.eigh((Hbar + Hbar.T) / 2)
    keep = _kept(w, d, rank_rtol, c)
    order = np.argsort(w[keep])[::-1]
    lam, U = w[keep][order], V[:, keep][:, order]
    proj = np.einsum("aj,sab,bj->sj", U, stack, U)  # u_j' H(theta_s) u_j
    lam_se = proj.std(axis=0, ddof=1) / np.sqrt(n_samples)
    return _local_result(lam, lam_se, lows, highs, n_indefinite, c, eps, seed)


def _kept(w: np.ndarray, d: int, rank_rtol: float | None, c: np.ndarray) -> np.ndarray:
    """Which eigenvalues `w` of the averaged Hessian around `c` count as nonzero; ValueError when none does."""
    if w.max() <= 0:
        raise ValueError(f"the averaged Hessian around center={c.tolist()} has no positive eigenvalue")
    keep = w > _rank_cut(w, d, rank_rtol)
    if not keep.any():  # a negative eigenvalue dominates the positive ones
        raise ValueError(f"no eigenvalue of the averaged Hessian around center={c.tolist()} exceeds rank_rtol="
                         f"{rank_rtol} (None: d * machine epsilon) times its largest absolute one, got {w.tolist()}")
    return keep


def _local_result(lam: np.ndarray, lam_se: np.ndarray, lows: np.ndarray, highs: np.ndarray, n_indefinite: int,
                  c: np.ndarray, eps: float, seed: int) -> LocalCurvature:
    """The LocalCurvature of per-sample extremes `lows`, `highs` (Monte Carlo means and standard errors)."""
    root = np.sqrt(lows.size)
    for a in (lam, lam_se, c):
        a.setflags(write=False)
    return LocalCurvature(lambdas=lam, lambdas_se=lam_se, s_f=max(float(lows.mean()), 0.0),
                          t_f=max(float(highs.mean()), 0.0), s_se=float(lows.std(ddof=1) / root),
                          t_se=float(highs.std(ddof=1) / root), n_samples=int(lows.size), n_indefinite=n_indefinite,
                          center=c, eps=eps, seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# Thresholds

Curvature = Union[QuadraticCurvature, LocalCurvature, StochasticQuadratic]


def diagonal_local_curvature(st: StyblinskiTangSum, center: np.ndarray, eps: float, *, n_samples: int = 1000,
                             seed: int = 0) -> LocalCurvature:
    """`local_curvature` for a Styblinski-Tang sum, whose term Hessians are diagonal: the same estimator (same
    points, same constants) in O(n d) per point instead of O(n d^3). With diagonal H_i the generalized eigenvalues
    of (M, H) are the per-coordinate variances sum_i p_i (h_ij - H_j)^2."""
    if not isinstance(st, StyblinskiTangSum):  # the Hessians below are Styblinski-Tang's
        raise TypeError(f"st must be a StyblinskiTangSum, got {type(st).__name__} (local_curvature takes any "
                        "finite sum)")
    c = as_array("center", center, ndim=1)
    d = c.shape[0]
    check_dim("center", c, st.dim, "the landscape's dimension")
    eps = as_float("eps", eps, positive=True)
    n_samples = as_int("n_samples", n_samples, minimum=2)
    seed = as_int("seed", seed, minimum=0)
    points = _uniform_ball(n_samples, c, eps, np.random.default_rng(seed))
    p = st.p
    diag = np.empty((n_samples, d))
    lows, highs = np.empty(n_samples), np.empty(n_samples)
    n_indefinite = 0
    for s, x in enumerate(points):
        h = 6.0 * st.c1 * x**2 + st.c2  # (n, d)
        H = p @ h
        var = p @ (h - H) ** 2
        cut = _rank_cut(H, d, None)
        n_indefinite += int(H.min() < -cut)
        keep = H > cut
        lows[s], highs[s] = (var[keep].min(), var[keep].max()) if keep.any() else (0.0, 0.0)
        diag[s] = H
    Hbar = diag.mean(axis=0)
    keep = _kept(Hbar, d, None, c)
    order = np.flatnonzero(keep)[np.argsort(Hbar[keep])[::-1]]
    lam = Hbar[order]
    lam_se = diag[:, order].std(axis=0, ddof=1) / np.sqrt(n_samples)
    return _local_result(lam, lam_se, lows, highs, n_indefinite, c, eps, seed)


def _constants(curvature: Any) -> tuple[np.ndarray, float, float, bool]:
    """(lambdas, s, t, homogeneous) of a QuadraticCurvature, LocalCurvature or StochasticQuadratic."""
    if isinstance(curvature, StochasticQuadratic):
        curvature = quadratic_curvature(curvature)
    if isinstance(curvature, QuadraticCurvature):
        return curvature.lambdas, curvature.s_Q, curvature.t_Q, curvature.homogeneous
    if isinstance(curvature, LocalCurvature):
        if curvature.lambdas.shape[0] == 0:  # not from local_curvature, which keeps at least one
            raise ValueError("curvature must have at least one nonzero eigenvalue, got lambdas=[]")
        return curvature.lambdas, curvature.s_f, curvature.t_f, True
    raise TypeError("curvature must be a QuadraticCurvature, LocalCurvature or StochasticQuadratic, "
                    f"got {type(curvature).__name__}")


def _real_array(name: str, value: Any, what: str) -> np.ndarray:
    """`value` as a float array; TypeError naming `name` unless every entry is a real number (not a bool, None or
    a string: numpy would turn None into NaN and "3" into 3.0)."""
    refuse_masked(name, value)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nesting
        raise TypeError(f"{name} must be {what}, got {_short(value)}") from exc
    if raw.dtype == object:
        ok = all(isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in raw.ravel())
    else:
        ok = raw.dtype.kind in "iuf"
    if not ok:
        raise TypeError(f"{name} must be {what}, got {_short(value)}")
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{name} must be {what}, got {_short(value)}") from exc


def _batch_sizes(k: Any) -> np.ndarray:
    """k as a float array: every entry >= 1 (integer batch sizes, or inf for gradient descent)."""
    a = _real_array("k", k, "a batch size or an array of them (numpy.inf for gradient descent)")
    if np.any(np.isnan(a)) or np.any(a < 1):
        raise ValueError(f"k must be >= 1 (numpy.inf for gradient descent), got {np.asarray(k).tolist()}")
    return a


def _inverse_k(k: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(k), 0.0, 1.0 / np.where(np.isinf(k), 1.0, k))


def _case(curvature: Any, case: str) -> bool:
    if case not in ("auto", "homogeneous", "inhomogeneous"):
        raise ValueError(f"case must be 'auto', 'homogeneous' or 'inhomogeneous', got {case!r}")
    return case == "homogeneous" or (case == "auto" and _constants(curvature)[3])


def _out(a: np.ndarray) -> np.ndarray | float:
    return float(a) if a.ndim == 0 else a


def convergence_threshold(curvature: Curvature, k: ArrayLike = np.inf, *, case: str = "auto") -> np.ndarray | float:
    """The step size below which SGD-k contracts the expected error (004, Theorem 3.8 (18), Theorem 3.12 (34)).

    Homogeneous minimizer (Theorem 3.8): for 0 < C below

        min_{j in {1, m}} 2 lambda_j / (lambda_j^2 + t_Q / k)                                     (18)

    E[e_{N+1}] < E[e_N]: the upper bound of Lemma 3.7 is 1 - 2 C lambda_j + C^2 lambda_j^2 + C^2 t_Q / k, and the
    minimum picks j = 1 when k > t_Q / (lambda_1 lambda_m), j = m otherwise, as (18) states.

    Inhomogeneous minimizer (Theorem 3.12): the factor of e_N in the upper bound (37) is below one for 0 < C below

        min_{j in {1, m}} 2 lambda_j / ((1 + 1/k) lambda_j^2 + t_Q / k)                           (39)

    (j = 1 when k + 1 > t_Q / (lambda_1 lambda_m), as in (34)). (34) as printed has lambda_j^2 in the numerator;
    that is not a step size (its k -> inf limit would be 2, not 2 / lambda_1) and disagrees with its proof, (37)
    and (39), which this function follows. The expected error then stays within C^2 psi / k of a contraction;
    it converges to 0 only with decreasing steps.

    For k = inf both are 2 / lambda_1 = 2 / lambda_max (Theorem 2.1 (1)).

    Parameters
    ----------
    curvature : a `QuadraticCurvature`, a `LocalCurvature` (t_f in place of t_Q; with case="auto" always the
        homogeneous form (18), as 004 Sections 4-5 use it, also at inhomogeneous minimizers) or a
        `StochasticQuadratic`. Their `theorem` says which form "auto" picks: for the same inhomogeneous
        StochasticQuadratic, quadratic_curvature gives (39) and local_curvature (18), e.g. 0.5675 and 0.6632 at k = 1
        on StochasticQuadratic.inhomogeneous(3, 10, seed=1).
    k : the batch size(s), >= 1, of sampling with replacement; numpy.inf for gradient descent. An array gives an
        array of the same shape. Real k are accepted (the formulas are continuous in k; 004's tables use
        0.99 k_max; sampling without replacement is k (n - 1) / (n - k) with reweighted constants, module notes).
    case : "auto" (a QuadraticCurvature's own `homogeneous`; homogeneous for a LocalCurvature), "homogeneous" or
        "inhomogeneous".

    Raises
    ------
    TypeError
        k not a number or an array of numbers (None included).
    ValueError
        k < 1 or NaN, an unknown case.
    """
    lam, _, t, _ = _constants(curvature)
    inhomogeneous = not _case(curvature, case)
    ik = _inverse_k(_batch_sizes(k))[..., None]
    ends = lam[[0, -1]]
    out = np.min(2 * ends / ((1 + ik * inhomogeneous) * ends**2 + t * ik), axis=-1)
    return _out(out)


def divergence_index(curvature: Curvature, k: ArrayLike = np.inf, *, gamma: float = 0.0) -> np.ndarray | int:
    """The index j (1-based, lambda_j in decreasing order) that 004's (20) (gamma = 0) or (36) (gamma > 0)
    selects for each batch size k: the j for which 2 (lambda_j + gamma) / (lambda_j^2 + s / k) is largest.
    Small k picks the sharpest direction (j = 1), large k the flattest (j = m)."""
    lam, s, _, _ = _constants(curvature)
    gamma = as_float("gamma", gamma, nonnegative=True)
    ik = _inverse_k(_batch_sizes(k))
    m = lam.shape[0]
    j = np.ones(ik.shape, dtype=np.int64)
    # (20)/(36): j = l when s / (lambda_l lambda_{l-1} + gamma (..)) < k <= s / (lambda_l lambda_{l+1} + gamma (..)).
    # k > s / x is s / k < x; so j is 1 + the number of consecutive pairs with lambda_l lambda_{l+1} + gamma
    # (lambda_l + lambda_{l+1}) > s / k (those pairs come first: the products decrease along the sorted lambdas).
    for l in range(m - 1):
        pair = lam[l] * lam[l + 1] + gamma * (lam[l] + lam[l + 1])
        j = j + (s * ik < pair)
    return int(j) if j.ndim == 0 else j


def divergence_threshold(curvature: Curvature, k: ArrayLike = np.inf, *, case: str = "auto",
                         gamma: float | None = None) -> np.ndarray | float:
    """The step size above which SGD-k's expected error grows geometrically near the minimizer (004, Theorem 3.8
    (19)-(20), Theorem 3.12 (35)-(36), Definition 3.14 (51)-(52)).

    Homogeneous minimizer (Theorem 3.8): for C above

        2 lambda_j / (lambda_j^2 + s_Q / k),                                                      (19)

    j chosen by k as in (20), E[e_{N+1} | theta_N] > rho e_N with a deterministic rho > 1. The j of (20) is the one
    that maximizes (19) over j = 1..m, so (19) is the step beyond which the lower bound of Lemma 3.7,
    min_j (1 - 2 C lambda_j + C^2 lambda_j^2) + C^2 s_Q / k, exceeds one.

    Inhomogeneous minimizer (Theorem 3.12): for C above

        2 (lambda_j + gamma) / (lambda_j^2 + s_Q / k),      0 < 4 gamma^2 <= s_Q / k,              (35)

    j chosen by k and gamma as in (36), which again maximizes (35) over j (the last case of (36), printed with
    lambda_m lambda_m, is lambda_m lambda_{m-1}: the case boundaries come from (46)-(47)), the expected error grows
    while the iterate is within some delta of theta* (delta depends on gamma). gamma trades that region for the
    threshold: None gives the limit gamma -> 0+, the smallest threshold, equal to the homogeneous (19).

    For k = inf both are 2 / lambda_m = 2 / lambda_min (Theorem 2.1 (2)); for the inhomogeneous form gamma must
    then be None (no gamma > 0 is allowed when s_Q / k = 0).

    Parameters
    ----------
    curvature : a `QuadraticCurvature`, a `LocalCurvature` (s_f in place of s_Q, Definition 3.14) or a
        `StochasticQuadratic`.
    k : the batch size(s), >= 1, of sampling with replacement (without: module notes); numpy.inf for gradient
        descent.
    case : "auto" (a QuadraticCurvature's own `homogeneous`; homogeneous for a LocalCurvature), "homogeneous" or
        "inhomogeneous". For the divergence bound the two agree when gamma is None.
    gamma : the inhomogeneous form's gamma > 0, or None for gamma -> 0+. Where 4 gamma^2 > s_Q / k (gamma not
        allowed for that k) the answer is NaN. Only for the inhomogeneous form.

    Raises
    ------
    TypeError
        k not a number or an array of numbers (None included).
    ValueError
        k < 1, gamma <= 0, a gamma with the homogeneous form.
    """
    lam, s, _, _ = _constants(curvature)
    homogeneous = _case(curvature, case)
    kk = _batch_sizes(k)
    ik = _inverse_k(kk)
    g = 0.0
    if gamma is not None:
        if homogeneous:
            raise ValueError(f"gamma belongs to the inhomogeneous bound (35); got gamma={gamma!r} for a "
                             "homogeneous minimizer (pass case='inhomogeneous' to use it)")
        g = as_float("gamma", gamma, positive=True)
    j = np.asarray(divergence_index(curvature, kk, gamma=g))
    lj = lam[j - 1]
    out = 2 * (lj + g) / (lj**2 + s * ik)
    if gamma is not None:
        out = np.where(4 * g**2 <= s * ik * (1 + 1e-12), out, np.nan)
    return _out(np.asarray(out, dtype=np.float64))


class CriticalBatchSizes(NamedTuple):
    """The batch sizes at which the thresholds change regime (004, (18), (20), (34); Section 4's k_max).

    Attributes
    ----------
    convergence : t / (lambda_1 lambda_m) (homogeneous; minus 1 for the inhomogeneous (34)): for larger k the
        convergence threshold is set by lambda_1 (the sharpest direction), for smaller k by lambda_m.
    divergence : s / (lambda_{m-1} lambda_m): for larger k the divergence threshold is set by lambda_m (the flattest
        direction), and it tends to 2 / lambda_m; below it a sharper direction decides. 0 when m = 1.
    """

    convergence: float
    divergence: float


def critical_batch_sizes(curvature: Curvature, *, case: str = "auto") -> CriticalBatchSizes:
    """Where the thresholds switch eigenvalue: 004's tables evaluate them at 0.99 and 2 times these."""
    lam, s, t, _ = _constants(curvature)
    shift = 0.0 if _case(curvature, case) else 1.0
    div = s / (lam[-2] * lam[-1]) if lam.shape[0] > 1 else 0.0
    return CriticalBatchSizes(convergence=float(t / (lam[0] * lam[-1]) - shift), divergence=float(div))


def thresholds_table(curvature: Curvature, ks: ArrayLike = (1, 10, 100, np.inf), *, case: str = "auto",
                     gamma: float | None = None) -> Any:
    """Convergence and divergence step-size thresholds over batch sizes, as in 004's Tables 2-5, for sampling with
    replacement (without: the module notes).

    Returns
    -------
    pandas.DataFrame
        Indexed by k (inf = gradient descent), with columns ``convergence`` (below it the expected error
        contracts), ``divergence`` (above it it grows geometrically), ``j`` (the eigenvalue index of (20)/(36)),
        ``lambda_j`` and ``theorem``: "3.8" (the homogeneous forms (18), (19)-(20)) or "3.12" (the inhomogeneous
        (39), (35)-(36)), as `case` resolves for this curvature. With case="auto" a QuadraticCurvature uses its
        own `homogeneous`, a LocalCurvature always Theorem 3.8 (Definition 3.14; `local_curvature` notes), so the
        same inhomogeneous StochasticQuadratic can give lower convergence bounds through quadratic_curvature.
    """
    import pandas as pd

    kk = np.atleast_1d(_batch_sizes(ks)).ravel()
    lam = _constants(curvature)[0]
    conv = np.atleast_1d(convergence_threshold(curvature, kk, case=case))
    div = np.atleast_1d(divergence_threshold(curvature, kk, case=case, gamma=gamma))  # validates gamma
    j = np.atleast_1d(divergence_index(curvature, kk, gamma=0.0 if gamma is None else float(gamma)))
    theorem = "3.8" if _case(curvature, case) else "3.12"
    return pd.DataFrame({"convergence": conv, "divergence": div, "j": j, "lambda_j": lam[j - 1],
                         "theorem": [theorem] * kk.shape[0]}, index=pd.Index(kk, name="k"))


# ---------------------------------------------------------------------------------------------------------------
# Growth of the error


def _step_sizes(lr: Any) -> np.ndarray:
    C = _real_array("lr", lr, "a step size or an array of them")
    if not np.all(np.isfinite(C)):
        raise ValueError(f"lr must be finite, got {np.asarray(lr).tolist()}")
    return C


def error_factor_bounds(curvature: Curvature, lr: ArrayLike, k: ArrayLike = np.inf) -> tuple[np.ndarray | float,
                                                                                               np.ndarray | float]:
    """Lemma 3.7's bounds on E[e_{N+1} | theta_N] / e_N for a homogeneous minimizer (004, (10), (12)-(15)):

        min_j (1 - 2 C lambda_j + C^2 lambda_j^2) + C^2 s / k  <=  ratio  <=  max_j (...) + C^2 t / k,

    for every theta_N off the minimizer, hence also for E[e_{N+1}] / E[e_N]. `lr` (C) and `k` broadcast. Sampling
    with replacement (without: the module notes).
    Returns (lower, upper); the divergence and convergence thresholds are where they cross one.
    """
    lam, s, t, _ = _constants(curvature)
    C = _step_sizes(lr)[..., None]
    ik = _inverse_k(_batch_sizes(k))[..., None]
    with np.errstate(over="ignore", invalid="ignore"):  # refused below
        poly = 1 - 2 * C * lam + C**2 * lam**2
        low = poly.min(axis=-1) + (C**2 * s * ik)[..., 0]
        high = poly.max(axis=-1) + (C**2 * t * ik)[..., 0]
    _check_factor_finite(lr, low, high)
    return _out(np.asarray(low)), _out(np.asarray(high))


def _check_factor_finite(lr: Any, *factors: Any) -> None:
    """ValueError naming lr where an error factor, of order (lr lambda_max)^2, overflowed."""
    if not all(np.isfinite(f).all() for f in factors):
        raise ValueError(f"lr={_short(lr)} is too large: the error factor, of order (lr lambda_max)^2, overflows "
                         "floating point")


def error_factor(problem: StochasticQuadratic | ArrayLike, lr: float, k: float = np.inf, *,
                 p: ArrayLike | None = None) -> float:
    """The asymptotic per-iteration factor rho of E[e_N] for SGD-k with constant step C on a homogeneous
    stochastic quadratic: E[e_N] ~ const * rho^N (also of E|theta_N - theta*|^2).

    From (8), with sampling with replacement, the second moment S_N = E[(theta_N - theta*)(theta_N - theta*)']
    follows the linear map

        S_{N+1} = (I - C A) S_N (I - C A) + (C^2 / k) E[(Q - A) S_N (Q - A)],

    whose one-step trace against A is (10); rho is its spectral radius on the range of A (components in the null
    space of A never move and do not enter e_N). For gradient descent (k = inf) rho = max_j (1 - C lambda_j)^2,
    the square of the factor |1 - C lambda_j| by which GD scales the distance along each eigen-direction; rho lies
    between the bounds of `error_factor_bounds`. Costs an eigenvalue problem of size m^2.

    Parameters
    ----------
    problem : a `StochasticQuadratic`, or the (n, d, d) Q_i (then `p`, default uniform). The r_i do not enter:
        the map is that of the homogeneous problem (for an inhomogeneous one it is the factor of the systematic
        component, Theorem 3.12's discussion).
    lr : the step C.
    k : the batch size >= 1, or numpy.inf. For sampling without replacement pass the reweighted Q_i = n p_i Q_i
        (uniform p) and k (n - 1) / (n - k): the map is then exact for that scheme too (module notes).
    """
    sq = _as_problem(problem, None, p)  # refuses a p with a StochasticQuadratic, which has its own
    C = as_float("lr", lr)
    sizes = _batch_sizes(k)
    if sizes.ndim != 0:  # unlike the thresholds, error_factor does not broadcast over k
        raise TypeError(f"k must be a single batch size, got {_short(k)}")
    kk = float(sizes)
    curv = quadratic_curvature(sq)
    U, lam = curv.eigenvectors, curv.lambdas
    m = lam.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):  # refused below
        B = np.eye(m) - C * np.diag(lam)
        K = np.kron(B, B)
        if np.isfinite(kk):
            Dp = np.einsum("aj,iab,bl->ijl", U, sq.Q - curv.A, U)  # U'(Q_i - A)U
            K = K + (C * C / kk) * np.einsum("i,ijl,iab->jalb", sq.p, Dp, Dp).reshape(m * m, m * m)
    _check_factor_finite(lr, K)
    return float(np.abs(np.linalg.eigvals(K)).max())


def trajectory_errors(result: RunRecord, reference: ArrayLike, *, matrix: ArrayLike | None = None) -> np.ndarray:
    """The errors of the recorded trajectories as an array (paths, records): the distance |x - reference|, or with
    `matrix` = A the quadratic form (x - reference)' A (x - reference) (e_N of 004's Table 1 when A = E[Q]).

    Row i is the i-th recorded path (``simulate(..., record_paths=n, record_every=e)``); column j the j-th record
    (step j * e for maps, whose time counts iterations). A path that ended before the last record is NaN beyond its
    end (its last record, at an end step not on the grid, is dropped).
    """
    trajectories = list(result.trajectories)
    if not trajectories:
        raise ValueError("result has no recorded trajectories: simulate with record_paths > 0")
    d = np.asarray(trajectories[0][1]).shape[1]
    ref = as_array("reference", reference, ndim=1)
    if ref.shape != (d,):
        raise ValueError(f"reference must have {d} components (the trajectories' dimension), got shape {ref.shape}")
    A = None
    if matrix is not None:
        A = as_array("matrix", matrix, ndim=2)
        if A.shape != (d, d):
            raise ValueError(f"matrix must have shape {(d, d)}, got {A.shape}")
    every = int(result.params.get("record_every", 1))
    dt = float(result.params["dynamics"]["dt"])
    steps = [np.rint(np.asarray(t) / dt).astype(np.int64) for t, _ in trajectories]
    last = max(int(s.max()) for s in steps)
    out = np.full((len(trajectories), last // every + 1), np.nan)
    for i, ((_, x), st) in enumerate(zip(trajectories, steps)):
        on = st % every == 0
        delta = np.asarray(x)[on] - ref
        out[i, st[on] // every] = (np.linalg.norm(delta, axis=1) if A is None
                                   else np.einsum("na,ab,nb->n", delta, A, delta))
    return out


class GrowthRate(NamedTuple):
    """A fitted geometric rate: the error behaves like factor^N.

    Attributes
    ----------
    factor : exp(rate), the per-iteration factor (> 1: divergence, < 1: convergence).
    low, high : the confidence interval of `factor`.
    rate : the slope of the log error per iteration.
    method : "log_mean" or "mean_log".
    level : the confidence level.
    n_paths : the number of paths used.
    iterations : (n,) the iterations fitted.
    effective_paths : Kish's effective number of paths behind the mean error, (sum e)^2 / sum e^2, at the fitted
        iteration where it is smallest: near n_paths when the paths' errors are alike, near 1 when one path carries
        the mean (see `growth_rate` for what that does to "log_mean").
    """

    factor: float
    low: float
    high: float
    rate: float
    method: str
    level: float
    n_paths: int
    iterations: np.ndarray
    effective_paths: float = float("nan")


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slopes of y (..., n) against x (n,)."""
    xc = x - x.mean()
    return ((y - y.mean(axis=-1, keepdims=True)) @ xc) / (xc @ xc)


def growth_rate(errors: RunRecord | ArrayLike, reference: ArrayLike | None = None, *,
                matrix: ArrayLike | None = None, method: str = "log_mean", start: int = 0, level: float = 0.95,
                every: int = 1, n_boot: int = 400, seed: int = 0) -> GrowthRate:
    """Fit the geometric rate at which the errors grow (divergence) or shrink (convergence) with the iterations.

    Parameters
    ----------
    errors : an array (paths, iterations) of non-negative errors (distances to the minimizer, or e_N), column j at
        iteration j * `every`; or a result with recorded trajectories (then `reference` and optionally `matrix`
        as in `trajectory_errors`, and `every` is taken from the run's record_every).
    method :
        - "log_mean": least-squares line through log(mean over paths of the error) against the iteration; the
          rate of the expected error, e.g. E[e_N] ~ rho^N of Theorem 3.8 (compare with `error_factor`). The
          confidence interval is a percentile bootstrap over paths (`n_boot` resamples, seeded), since the means
          at different iterations share paths. It holds where many paths carry the mean: errors that are
          products of random factors have a heavy right tail, whose unsampled part the bootstrap cannot see, so
          the log of the sample mean is biased low and the interval too narrow. Read `effective_paths`: at 200 of
          500 (log-normal steps, sd 0.3) the 95% interval covers 92% of the time, at 35 of 500 (sd 0.7) 77%, and
          on docs/analysis.md's SGD-2 example, where it is 1.3 of 500, 54%; there the exact `error_factor` is the
          answer, and "mean_log" the rate a typical path sees.
        - "mean_log": the mean over paths of each path's least-squares slope of log(error); the typical
          (Lyapunov) rate, at most the "log_mean" one (Jensen). Its interval is a normal one, mean +- z se.
    start : fit iterations from this column on (skip a transient).
    level : the confidence level, in (0, 1).

    Only iterations that every path reached with a positive finite error are used (paths that ended early would
    bias the mean).
    """
    if isinstance(errors, RunRecord):
        if reference is None:
            raise TypeError("reference (the minimizer) is needed to turn trajectories into errors")
        every = int(errors.params.get("record_every", 1))
        E = trajectory_errors(errors, reference, matrix=matrix)
    else:
        E = as_array("errors", errors, ndim=2, finite=False)
        every = as_int("every", every, minimum=1)
    if method not in ("log_mean", "mean_log"):
        raise ValueError(f"method must be 'log_mean' or 'mean_log', got {method!r}")
    start = as_int("start", start, minimum=0)
    level = as_float("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    n_boot = as_int("n_boot", n_boot, minimum=10)
    if np.any(E < 0):
        raise ValueError("errors must be non-negative")
    usable = np.all(np.isfinite(E) & (E > 0), axis=0)
    usable[:start] = False
    cols = np.flatnonzero(usable)
    if cols.size < 2:
        raise ValueError("errors must have at least two iterations reached by every path with a positive error")
    E = E[:, cols]
    x = cols.astype(np.float64) * every
    n = E.shape[0]

    U = E / E.max(axis=0)  # scale-free: errors near 1e200 (a divergence) or 1e-200 would over- or underflow squared
    effective = float(np.min(U.sum(axis=0) ** 2 / np.sum(U * U, axis=0)))
    if method == "log_mean":
        rate = float(_slopes(x, np.log(E.mean(axis=0))))
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = _slopes(x, np.log(E[idx].mean(axis=1)))
        lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    else:
        per_path = _slopes(x, np.log(E))
        rate = float(per_path.mean())
        se = float(per_path.std(ddof=1) / np.sqrt(n)) if n > 1 else np.inf
        z = normal_quantile(level)
        lo, hi = rate - z * se, rate + z * se
    return GrowthRate(factor=float(np.exp(rate)), low=float(np.exp(lo)), high=float(np.exp(hi)), rate=rate,
                      method=method, level=level, n_paths=n, iterations=cols * every, effective_paths=effective)

