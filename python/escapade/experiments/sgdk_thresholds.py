"""`escapade reproduce sgdk-thresholds`: 004's experiments (Sections 4-5, Figures 5-12, Tables 2-5).

For every model and minimizer: the local curvature constants of Definition 3.14 over the ball B(theta*, EPS), the
convergence bound u (Theorem 3.8 (18), 004's "upper bound for convergence", Tables 3 and 5) and the divergence
bound l ((19)-(20), the "lower bound for divergence", Tables 2 and 4) for k in {1, 200, 500, inf}; then SGD-k (with
replacement, Definition 3.5) and GD for k = inf from uniform starts in balls of radius 1e-3, 1e-2, 1e-1 and 1
around theta*, at the step sizes 1.5 l, (u + l) / 2 and u / 2 of Section 5.1, 20 iterations, every iterate
recorded. A path diverged (left) when its status is DIVERGED (a coordinate past 1e8) or, after the 20 iterations, it
lies outside theta*'s basin (Styblinski-Tang, `left_basin`) or farther than ESCAPE = 2 from theta*
(quadratic-circle); it grew when its final distance to theta* exceeds its start's. The two differ: GD between the
bounds on Styblinski-Tang Model 1 grows away from theta* (92-100% of the paths, default run) yet stays in its
basin (docs/sgdk.md).
u is Theorem 3.8's (18) at every minimizer, as in 004's tables (Definition 3.14), also at the inhomogeneous
Styblinski-Tang minimizers; the JSON adds Theorem 3.12's (39) there (`convergence_u_theorem_3_12`).

Quadratic-circle models (Section 4, Appendix A): 004 does not print its parameters; the ones here are drawn
(seed QC_SEED, QC_TERMS terms) so that the four models have the sharp/flat pattern of Section 4: q3 = -15 and
c2 = c4 = 0 in every term, q2 ~ U(0.05, 0.15), c3 ~ U(8, 12), q1 ~ U(0.1, 0.3) (sharp quadratic minimizer, Models
1 and 3) or U(0.0005, 0.0015) (flat, Models 2 and 4) and c1 ~ U(5, 15) (sharp circular minimizer, Models 1 and 2)
or U(0.005, 0.015) (flat, Models 3 and 4). Their quadratic minimizer (0, -15) is degenerate (the Hessian there is
diag(0, 2 E[q1]) for any constants of Appendix A), and the tables say so.

Styblinski-Tang models (Section 5), (d, N) = (10, 200), (50, 1000), (100, 2000) for Model m = 1, 2, 3, seed m: by
default calibrated so that their curvature constants are those that 004's Tables 4-5 imply (`implied_constants`,
`calibrated_styblinski_tang`, fitted by `fit_styblinski_tang`); family="uniform" gives the earlier
StyblinskiTangSum.random(d, N, seed=m) (models "st1-uniform" ... in `run`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import scipy.special
from numpy.typing import ArrayLike

from .. import _core
from .._validate import as_array, as_int, check_dim
from ..analysis.thresholds import (LocalCurvature, convergence_threshold, diagonal_local_curvature, divergence_threshold,
                                   local_curvature, thresholds_table)
from ..dynamics import GD, SGDk
from ..landscapes import FiniteSum, QuadraticCircleSum, StyblinskiTangSum
from ..results import SimulationResult, Status
from ..simulate import simulate
from ..starts import UniformBall
from .report import Design, Report, finite, format_table

#: Radius and Monte Carlo size of the curvature ball (004, Section 4: eps ~ 2e-2, 1000 points).
EPS, N_CURVATURE = 0.02, 1000
#: At the quadratic-circle minimizers, eigenvalues of the averaged Hessian below this fraction of the largest
#: count as zero: the valley direction of the quadratic basin grows quartically (its averaged curvature is
#: O(q1 q2^2 eps^2) and Monte Carlo noise), and 004's Tables 2-3 give 2 / lambda_1 there for every k.
QC_RANK_RTOL = 1e-3
QC_TERMS, QC_SEED = 100, 0
#: 004's Tables 2 (divergence l) and 3 (convergence u) for the quadratic-circle models at k = 1 and k = inf:
#: (model, minimizer) -> (l(1), l(inf), u(1), u(inf)).
QC_TABLES_2_3 = {
    ("qc1", "circle"): (3.560e11, 3.583e11, 8.318e-05, 2.874e11), ("qc2", "circle"): (3.339e11, 3.360e11, 8.456e-05, 3.180e11),
    ("qc3", "circle"): (1.266e15, 1.273e15, 5.655e-06, 1.226e15), ("qc4", "circle"): (1.269e15, 1.277e15, 5.511e-06, 1.201e15),
    ("qc1", "quadratic"): (4.977, 4.981, 4.977, 4.981), ("qc2", "quadratic"): (995.4, 996.1, 995.4, 996.1),
    ("qc3", "quadratic"): (4.977, 4.981, 4.977, 4.981), ("qc4", "quadratic"): (995.4, 996.1, 995.4, 996.1),
}
ST_SIZES = {"st1": (10, 200, 1), "st2": (50, 1000, 2), "st3": (100, 2000, 3)}  # name -> (dim, terms, seed)
BATCHES: tuple[float, ...] = (1, 200, 500, math.inf)
RADII = (1e-3, 1e-2, 1e-1, 1.0)
RATES = ("1.5l", "(u+l)/2", "u/2")
ITERATIONS, ESCAPE = 20, 2.0
DEFAULT_PATHS = 100
#: Setting n = 1, 2, ... of a run with seed s simulates with seed SEED_STRIDE * s + n.
SEED_STRIDE = 100_003
MAX_DRAWN = 25  # paths drawn per panel
MODELS = ("qc1", "qc2", "qc3", "qc4", "st1", "st2", "st3")
#: Also accepted by `run` (not run by default): the Styblinski-Tang models as drawn before the calibration.
UNIFORM_MODELS = ("st1-uniform", "st2-uniform", "st3-uniform")

#: 004's Tables 4 (divergence bound l) and 5 (convergence bound u), typed in from the paper: (model, minimizer) ->
#: the bound at k = TABLE_K (the last is k = inf, gradient descent).
TABLE_K: tuple[float, ...] = (1, 100, 200, 350, 500, math.inf)
TABLE4 = {
    (1, "flat"): (9.001e-03, 9.814e-02, 1.033e-01, 1.057e-01, 1.067e-01, 1.091e-01),
    (1, "sharp"): (7.682e-03, 8.133e-02, 8.546e-02, 8.737e-02, 8.815e-02, 9.004e-02),
    (2, "flat"): (2.134e-02, 6.831e-01, 8.100e-01, 8.800e-01, 9.116e-01, 9.947e-01),
    (2, "sharp"): (1.951e-02, 6.117e-01, 7.225e-01, 7.833e-01, 8.106e-01, 8.823e-01),
    (3, "flat"): (2.598e-02, 1.221e+00, 1.590e+00, 1.827e+00, 1.942e+00, 2.279e+00),
    (3, "sharp"): (1.871e-02, 8.561e-01, 1.106e+00, 1.264e+00, 1.341e+00, 1.563e+00),
}
TABLE5 = {
    (1, "flat"): (2.319e-03, 4.268e-02, 4.632e-02, 4.808e-02, 4.882e-02, 5.064e-02),
    (1, "sharp"): (2.250e-03, 3.781e-02, 4.087e-02, 4.234e-02, 4.296e-02, 4.447e-02),
    (2, "flat"): (8.603e-04, 7.925e-02, 1.174e-01, 1.329e-01, 1.403e-01, 1.613e-01),
    (2, "sharp"): (8.334e-04, 7.621e-02, 1.049e-01, 1.180e-01, 1.243e-01, 1.418e-01),
    (3, "flat"): (7.587e-04, 7.345e-02, 1.423e-01, 2.379e-01, 2.812e-01, 3.742e-01),
    (3, "sharp"): (9.089e-04, 8.594e-02, 1.629e-01, 2.303e-01, 2.539e-01, 3.337e-01),
}
#: The calibrated family's fitted parameters per model: (log beta_0, log beta_1, r_0, r_1, log kappa_0,
#: log kappa_1), see `calibrated_styblinski_tang`; `fit_styblinski_tang(m)` recomputes them.
ST_CALIBRATED = {
    1: (0.286267, -0.447630, 0.161234, 0.176080, 0.584223, 1.393871),
    2: (-0.880335, -2.680710, 0.098165, 0.144470, 1.110019, 2.604950),
    3: (-1.722586, -3.327307, 0.079474, 0.349425, 1.675179, 2.794186),
}
#: The linear coefficient at which x^4 - 16 x^2 + C x loses its second local minimum: (64 / 3) sqrt(8 / 3).
_C_CRITICAL = 64.0 / 3.0 * math.sqrt(8.0 / 3.0)
#: 004 restricts the Styblinski-Tang sums to (-BOX, BOX)^p; the fit keeps every local minimum of every coordinate
#: within BOX_MARGIN * BOX of the origin (a penalty), so both extreme minimizers lie inside the box.
BOX, BOX_MARGIN = 5.0, 0.98


CIRCLE_MINIMIZER = np.zeros(2)  # the quadratic-circle models' circular-basin minimizer (the quadratic one: (0, -15))


def quadratic_circle_model(model: int, *, n_terms: int = QC_TERMS, seed: int = QC_SEED) -> QuadraticCircleSum:
    """Model 1-4 of 004's Section 4 as this reproduction draws them (see the module's docstring)."""
    if as_int("model", model) not in (1, 2, 3, 4):  # as_int: True is not Model 1
        raise ValueError(f"model must be 1, 2, 3 or 4, got {model!r}")
    rng = np.random.default_rng(seed)
    q2 = rng.uniform(0.05, 0.15, n_terms)
    c3 = rng.uniform(8.0, 12.0, n_terms)
    unit_q, unit_c = rng.uniform(0.5, 1.5, n_terms), rng.uniform(0.5, 1.5, n_terms)  # shared by the 4 models
    sharp_quadratic, sharp_circle = model in (1, 3), model in (1, 2)
    q1 = unit_q * (0.2 if sharp_quadratic else 0.001)
    c1 = unit_c * (10.0 if sharp_circle else 0.01)
    return QuadraticCircleSum(q1=q1, q2=q2, q3=-15.0, c1=c1, c2=0.0, c3=c3, c4=0.0)


def implied_constants(model: int, minimizer: str) -> dict[str, float]:
    """lambda_1, lambda_m, s_f and t_f that 004's Tables 4-5 imply for one column (model 1-3, "flat" or "sharp"):
    the constants for which the thresholds of Theorem 3.8 reproduce its k = inf and k = 1 entries.

    k = inf: l = 2 / lambda_m and u = 2 / lambda_1 (Theorem 2.1), so lambda_m = 2 / l(inf), lambda_1 = 2 / u(inf).
    k = 1: l(1) = 2 lambda_1 / (lambda_1^2 + s_f) ((19) with j = 1, which (20) picks when s_f >= lambda_1 lambda_2,
    true when s_f >= lambda_1^2), so s_f = 2 lambda_1 / l(1) - lambda_1^2; u(1) = 2 lambda_m / (lambda_m^2 + t_f)
    ((18) with j = m, picked when t_f >= lambda_1 lambda_m), so t_f = 2 lambda_m / u(1) - lambda_m^2. Both conditions
    hold in all six columns (checked here)."""
    if (model, minimizer) not in TABLE4:
        raise ValueError(f"model must be 1, 2 or 3 and minimizer 'flat' or 'sharp', got {model!r}, {minimizer!r}")
    low, up = TABLE4[model, minimizer], TABLE5[model, minimizer]
    lam_m, lam_1 = 2.0 / low[-1], 2.0 / up[-1]
    s = 2.0 * lam_1 / low[0] - lam_1**2
    t = 2.0 * lam_m / up[0] - lam_m**2
    if s < lam_1**2 or t < lam_1 * lam_m:  # pragma: no cover - a typing error in the tables
        raise AssertionError(f"the k = 1 entries of model {model} {minimizer} are not in the j = 1 / j = m regime")
    return {"lambda_1": lam_1, "lambda_m": lam_m, "s_f": s, "t_f": t}


def calibrated_styblinski_tang(dim: int, n_terms: int, params: ArrayLike, *, seed: int) -> StyblinskiTangSum:
    """The calibrated family of Styblinski-Tang sums: coordinate j (u_j = j / (dim - 1), 0 for dim = 1) is a scaled
    Styblinski-Tang coordinate with random quartic coefficients,

        c1_ij = beta_j G_ij,   c2_ij = -16 beta_j,   c3_ij = r_j C* beta_j,   C* = (64/3) sqrt(8/3),

    G_ij ~ Gamma(shape 1 / kappa_j^2, scale kappa_j^2) (mean 1, coefficient of variation kappa_j), drawn by the
    inverse distribution function from uniforms of numpy.random.default_rng(seed) (an (n_terms, dim) array), and
    log beta_j, r_j, log kappa_j linear in u_j between the end values in `params` = (log beta_0, log beta_1, r_0,
    r_1, log kappa_0, log kappa_1). beta sets a coordinate's curvature (about 30 beta), r in (0, 1) the asymmetry
    of its two minima (r = 0: symmetric; r -> 1: the flat one disappears), kappa the spread of the terms'
    curvatures at the minima, which sets s_f and t_f (the variance of 6 c1 x^2 + c2 is 36 x^4 beta^2 kappa^2)."""
    d = as_int("dim", dim, minimum=1)
    n = as_int("n_terms", n_terms, minimum=1)
    seed = as_int("seed", seed, minimum=0)
    values = np.asarray(params, dtype=np.float64)
    if values.shape != (6,):
        raise ValueError(f"params must be 6 numbers (log beta_0, log beta_1, r_0, r_1, log kappa_0, log kappa_1), "
                         f"got {np.asarray(params).tolist()}")
    b0, b1, r0, r1, k0, k1 = (float(v) for v in values)
    u = np.linspace(0.0, 1.0, d) if d > 1 else np.zeros(1)
    beta = np.exp((1 - u) * b0 + u * b1)
    r = (1 - u) * r0 + u * r1
    kappa = np.exp((1 - u) * k0 + u * k1)
    uniform = np.random.default_rng(seed).random((n, d))
    g = scipy.special.gammaincinv(1.0 / kappa**2, uniform) * kappa**2
    return StyblinskiTangSum(beta * g, np.broadcast_to(-16.0 * beta, (n, d)),
                             np.broadcast_to(_C_CRITICAL * r * beta, (n, d)))


def styblinski_tang_model(model: int, *, family: str = "calibrated") -> StyblinskiTangSum:
    """Model 1-3 of 004's Section 5 ((d, N) = (10, 200), (50, 1000), (100, 2000), seed = model): "calibrated"
    (default) is `calibrated_styblinski_tang` with the fitted ST_CALIBRATED[model], whose lambda_1, lambda_m, s_f and
    t_f at the flattest and sharpest minimizers are within 10% of `implied_constants`; "uniform" is
    StyblinskiTangSum.random(d, N, seed=model), the earlier model (c1 ~ U(0.5, 1.5), c2 = -16 U(0.5, 1.5),
    c3 = 5 U(0, 2)), whose s_f / lambda_1^2 is about 0.2 instead of 004's 4.6-17."""
    name = f"st{model}"
    if name not in ST_SIZES:
        raise ValueError(f"model must be 1, 2 or 3, got {model!r}")
    d, n, seed = ST_SIZES[name]
    if family == "calibrated":
        return calibrated_styblinski_tang(d, n, ST_CALIBRATED[model], seed=seed)
    if family == "uniform":
        return StyblinskiTangSum.random(d, n, seed=seed)
    raise ValueError(f"family must be 'calibrated' or 'uniform', got {family!r}")


def _point_constants(st: StyblinskiTangSum) -> dict[str, np.ndarray]:
    """(lambda_1, lambda_m, s_f, t_f) at the flattest and sharpest minimizers, evaluated at the minimizer itself
    (the ball average over B(theta*, 0.02) differs by well under 1%); for the fit."""
    A, B, _ = st.coefficients()
    out = {}
    for label, x in (("flat", st.flattest_minimizer()), ("sharp", st.sharpest_minimizer())):
        h = 6.0 * st.c1 * x**2 + st.c2
        lam = 6.0 * A * x**2 + B
        var = st.p @ (h - lam) ** 2
        out[label] = np.array([lam.max(), lam.min(), var.min(), var.max()])
    return out


def _box_excess(st: StyblinskiTangSum) -> float:
    """How far the local minima of st's coordinates reach past BOX_MARGIN * BOX from the origin: the root sum of
    squares of max(|x| - BOX_MARGIN * BOX, 0) over every coordinate's minima (0 when all lie within)."""
    x = np.abs(np.concatenate(st.local_minima_per_coordinate()))
    return float(np.sqrt(np.sum(np.maximum(x - BOX_MARGIN * BOX, 0.0) ** 2)))


def fit_styblinski_tang(model: int, *, start: ArrayLike | None = None) -> np.ndarray:
    """Fit the six parameters of `calibrated_styblinski_tang` for Model 1-3 (its size and seed) by least squares
    (scipy.optimize.least_squares) on the log ratios of the eight constants (lambda_1, lambda_m, s_f, t_f at the flat
    and sharp minimizers, at the minimizers themselves) to `implied_constants`, with a penalty (10 times
    `_box_excess`) that keeps every coordinate's local minima within BOX_MARGIN * BOX = 4.9 of the origin, inside
    004's feasible box (-5, 5)^p. Starts from ST_CALIBRATED[model] unless `start` is given; 1-60 s.
    ST_CALIBRATED holds its answers (rounded to 6 decimals)."""
    from scipy.optimize import least_squares

    name = f"st{model}"
    if name not in ST_SIZES:
        raise ValueError(f"model must be 1, 2 or 3, got {model!r}")
    d, n, seed = ST_SIZES[name]
    target = {label: np.array(list(implied_constants(model, label).values())) for label in ("flat", "sharp")}

    def residuals(theta: np.ndarray) -> np.ndarray:
        try:
            st = calibrated_styblinski_tang(d, n, theta, seed=seed)
            got = _point_constants(st)
        except ValueError:  # a coordinate lost its second minimum
            return np.full(9, 10.0)
        return np.concatenate([np.log(np.concatenate([got["flat"] / target["flat"], got["sharp"] / target["sharp"]])),
                               [10.0 * _box_excess(st)]])

    x0 = np.asarray(ST_CALIBRATED[model] if start is None else start, dtype=np.float64)
    fit = least_squares(residuals, x0, bounds=([-10, -10, 0, 0, -5, -5], [5, 5, 0.7, 0.7, 5, 5]), diff_step=1e-4)
    return np.asarray(fit.x)


def _setups(models: Sequence[str]) -> list[tuple[str, str, FiniteSum, np.ndarray, LocalCurvature]]:
    """(model, minimizer, landscape, theta*, curvature) for every model and its two minimizers."""
    out = []
    for name in models:
        if name.startswith("qc"):
            f: FiniteSum = quadratic_circle_model(int(name[2:]))
            for label, center in (("circle", CIRCLE_MINIMIZER), ("quadratic", np.array([0.0, -15.0]))):
                curv = local_curvature(f, center, EPS, n_samples=N_CURVATURE, seed=0, rank_rtol=QC_RANK_RTOL)
                out.append((name, label, f, center, curv))
        else:
            family = "uniform" if name.endswith("-uniform") else "calibrated"
            st = styblinski_tang_model(int(name[2]), family=family)
            f = st
            for label, center in (("flat", st.flattest_minimizer()), ("sharp", st.sharpest_minimizer())):
                out.append((name, label, f, center, diagonal_local_curvature(st, center, EPS,
                                                                             n_samples=N_CURVATURE, seed=0)))
    return out


def left_basin(st: StyblinskiTangSum, center: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Which of `points` (n, d) lie outside the basin of attraction (under the gradient flow) of the local minimizer
    `center` of a Styblinski-Tang sum: the basin is the product over coordinates of the side of that coordinate's
    local maximum on which center lies, so a point is outside when some coordinate is on the other side (or is
    not finite)."""
    if not isinstance(st, StyblinskiTangSum):
        raise TypeError(f"st must be a StyblinskiTangSum, got {type(st).__name__}")
    x_star = as_array("center", center, ndim=1)
    check_dim("center", x_star, st.dim, "the landscape's dimension")
    pts = as_array("points", points, ndim=2, finite=False)  # a non-finite point is outside
    check_dim("points", pts, st.dim, "the landscape's dimension")
    A, B, C = st.coefficients()
    peaks = np.array([np.sort(np.roots([2.0 * a, 0.0, b, 0.5 * c]).real)[1] for a, b, c in zip(A, B, C)])
    side = np.sign(x_star - peaks)
    return ~np.all(np.isfinite(pts) & (np.sign(pts - peaks) == side), axis=1)


def _rate(label: str, u: float, l: float) -> float:
    return {"1.5l": 1.5 * l, "(u+l)/2": (u + l) / 2, "u/2": u / 2}[label]


def _distances(res: Any, center: np.ndarray) -> np.ndarray:
    """(paths, ITERATIONS + 1) distances |x_N - theta*|; inf after a path diverged."""
    D = np.full((res.n_paths, ITERATIONS + 1), np.inf)
    for i, (t, x) in enumerate(res.trajectories):
        steps = np.rint(np.asarray(t)).astype(np.int64)
        on = steps <= ITERATIONS
        D[i, steps[on]] = np.linalg.norm(np.asarray(x)[on] - center, axis=1)
    D[~np.isfinite(D)] = np.inf
    return D


def _max_seed(n_settings: int) -> int:
    """The largest run seed s whose settings' seeds SEED_STRIDE * s + n, n = 1..n_settings, stay below 2**64."""
    return (2**64 - 1 - n_settings) // SEED_STRIDE


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None,
        models: Sequence[str] = MODELS) -> Report:
    """The reproduction; `models` restricts it to some of MODELS (for quick checks) or adds UNIFORM_MODELS.

    `seed` must be an integer from 0 to `_max_seed` of the run's number of settings (2 minimizers x 4 batch sizes x
    3 steps x 4 start radii = 96 per model), since setting n runs with seed SEED_STRIDE * seed + n < 2**64; with the
    default models that is 184,461,906,879,889 (ValueError naming seed beyond it)."""
    models = tuple(models)
    bad = [m for m in models if m not in MODELS + UNIFORM_MODELS]
    if bad or not models:
        raise ValueError(f"models must be a non-empty selection of {', '.join(MODELS + UNIFORM_MODELS)}, "
                         f"got {list(models)}")
    n_paths = DEFAULT_PATHS if paths is None else as_int("paths", paths, minimum=1)
    n_settings = 2 * len(models) * len(BATCHES) * len(RATES) * len(RADII)
    seed = as_int("seed", seed, minimum=0)
    if seed > _max_seed(n_settings):
        raise ValueError(f"seed must be <= {_max_seed(n_settings)} (setting n = 1..{n_settings} of this run uses seed "
                         f"{SEED_STRIDE} * seed + n, which must stay below 2**64), got {seed}")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    curves: dict[tuple[str, str, float, str, float], np.ndarray] = {}
    to_circle: dict[tuple[str, str, float, str, float], np.ndarray] = {}  # 004's Figure 8
    thresholds: list[dict[str, Any]] = []
    counter = 0
    curvatures: dict[tuple[str, str], LocalCurvature] = {}
    for name, label, f, center, curv in _setups(models):
        curvatures[name, label] = curv
        table = thresholds_table(curv, BATCHES)
        # Theorem 3.12's convergence bound (39) with the same constants, at the inhomogeneous Styblinski-Tang
        # minimizers (the quadratic-circle ones are homogeneous: (18) is theirs)
        u_312 = ([float(v) for v in np.atleast_1d(convergence_threshold(curv, np.array(BATCHES),
                                                                         case="inhomogeneous"))]
                 if isinstance(f, StyblinskiTangSum) else None)
        kind, eigenvalues = minimizer_kind(f, center)
        # any negative eigenvalue of H (below -d * machine epsilon * its largest |eigenvalue|), at the same points;
        # curv.n_indefinite counts those below -rank_rtol * that (QC_RANK_RTOL for quadratic-circle)
        n_negative = (local_curvature(f, center, EPS, n_samples=N_CURVATURE, seed=0).n_indefinite
                      if name.startswith("qc") else curv.n_indefinite)
        thresholds.append({
            "model": name, "minimizer": label, "center_norm": float(np.linalg.norm(center)),
            "kind": kind, "hessian_eigenvalues": eigenvalues.tolist(),
            "lambda_1": float(curv.lambdas[0]), "lambda_m": float(curv.lambdas[-1]), "m": curv.m,
            "s_f": curv.s_f, "t_f": curv.t_f, "n_indefinite": curv.n_indefinite,
            "indefinite_rtol": QC_RANK_RTOL if name.startswith("qc") else None, "n_negative": n_negative,
            "k": [finite(k) for k in BATCHES],
            "convergence_u": [float(v) for v in table["convergence"]],
            "divergence_l": [float(v) for v in table["divergence"]],
            "theorem": str(table["theorem"].iloc[0]), "convergence_u_theorem_3_12": u_312,
        })
        for k, (u, l) in zip(BATCHES, zip(table["convergence"], table["divergence"])):
            for rate in RATES:
                lr = _rate(rate, float(u), float(l))
                dyn = GD(lr=lr) if math.isinf(k) else SGDk(lr=lr, batch_size=int(k), replace=True)
                for radius in RADII:
                    counter += 1
                    res = simulate(f, dyn, x0=UniformBall(center, radius), n_paths=n_paths, max_steps=ITERATIONS,
                                   seed=seed * SEED_STRIDE + counter, threads=threads, progress=progress,
                                   record_paths=n_paths, record_every=1)
                    assert isinstance(res, SimulationResult)
                    D = _distances(res, center)
                    if isinstance(f, StyblinskiTangSum):  # left theta*'s basin (for every start radius)
                        outside = left_basin(f, center, np.array([np.asarray(x)[-1] for _, x in res.trajectories]))
                    else:
                        outside = ~(D[:, -1] <= ESCAPE)
                    diverged = (np.asarray(res.status) == int(Status.DIVERGED)) | outside
                    curves[(name, label, k, rate, radius)] = D
                    if name.startswith("qc") and label == "quadratic":  # where do paths that leave it go?
                        to_circle[(name, label, k, rate, radius)] = _distances(res, CIRCLE_MINIMIZER)
                    rows.append({
                        "model": name, "minimizer": label, "k": finite(k),
                        "method": "GD" if math.isinf(k) else f"SGD-{int(k)}",
                        "lr_label": rate, "lr": lr, "radius": radius,
                        "diverged_fraction": float(diverged.mean()),
                        "grew_fraction": float(np.mean(~(D[:, -1] <= D[:, 0]))),
                        "final_median_distance": finite(float(np.median(D[:, -1]))),
                        "convergence_u": float(u), "divergence_l": float(l),
                    })
    calibration = _calibration(curvatures)
    elapsed = time.perf_counter() - started

    groups: dict[str, Callable[[dict[str, Any]], bool]] = {
        "quadratic-circle, circle minimizer": lambda r: r["model"].startswith("qc") and r["minimizer"] == "circle",
        "quadratic-circle, quadratic minimizer": lambda r: r["model"].startswith("qc") and r["minimizer"] != "circle",
        **{f"Styblinski-Tang, {m}": _styblinski_tang_with(m) for m in ("SGD-1", "SGD-200", "SGD-500", "GD")},
    }
    by_group = {"all settings": _shares(rows)}
    by_group.update({g: _shares([r for r in rows if test(r)]) for g, test in groups.items()})
    by_group = {g: v for g, v in by_group.items() if v["settings"]}
    overall = by_group["all settings"]
    separated = overall["stable_below_u"] >= 0.9 and overall["diverged_above_l"] >= 0.9
    lines = [f"{g}: {100 * v['stable_below_u']:.0f}% of settings stable at u/2 (grew: "
             f"{100 * v['grew_below_u']:.0f}%), {100 * v['diverged_above_l']:.0f}% diverged (left) at 1.5 l (grew: "
             f"{100 * v['grew_above_l']:.0f}%), {100 * v['diverged_between']:.0f}% diverged (left) at (u+l)/2 (grew: "
             f"{100 * v['grew_between']:.0f}%) ({v['settings']} per rate)"
             for g, v in by_group.items()]
    statement = (f"below the convergence bound (u/2): {100 * overall['stable_below_u']:.1f}% of settings stable (no "
                 f"path diverged); above the divergence bound (1.5 l): {100 * overall['diverged_above_l']:.1f}% of "
                 f"settings diverged (at least half of the paths left) and in {100 * overall['grew_above_l']:.1f}% "
                 f"at least half of the paths grew away from theta*; the thresholds "
                 f"{'separated' if separated else 'did not separate'} stable from divergent behaviour over all "
                 "settings (criterion: both shares at least 90%, by the diverged (left) count)")
    per_radius = {}
    for radius in RADII:
        sel = [r for r in rows if r["radius"] == radius]
        per_radius[f"{radius:g}"] = {
            rate: float(np.mean([r["diverged_fraction"] >= 0.5 for r in sel if r["lr_label"] == rate]))
            for rate in RATES}
    data = {
        "name": "sgdk-thresholds",
        "description": "004 Sections 4-5: thresholds of SGD-k at quadratic-circle and Styblinski-Tang minimizers, "
                       "checked by simulation",
        "params": {"paths": n_paths, "seed": seed, "iterations": ITERATIONS, "escape_distance": ESCAPE,
                   "eps": EPS, "curvature_samples": N_CURVATURE, "qc_rank_rtol": QC_RANK_RTOL,
                   "qc_terms": QC_TERMS, "qc_seed": QC_SEED, "st_models": {k: list(v) for k, v in ST_SIZES.items()},
                   "models": list(models), "batch_sizes": [finite(k) for k in BATCHES], "radii": list(RADII),
                   "rates": list(RATES), "version": _core.__version__},
        "thresholds": thresholds,
        "calibration": calibration,
        "rows": rows,
        "summary": {"by_group": by_group, "separated": bool(separated), "diverged_share_by_radius": per_radius,
                    "statement": statement},
        "elapsed": elapsed,
    }
    th_rows = []
    for t in thresholds:
        what = f"{t['kind']}; any negative eigenvalue at {t['n_negative']} of {N_CURVATURE}"
        if t["indefinite_rtol"] is not None:
            what += f", one below -{t['indefinite_rtol']:g} x largest |eigenvalue| at {t['n_indefinite']}"
        for k, u, l in zip(BATCHES, t["convergence_u"], t["divergence_l"]):
            th_rows.append([t["model"], t["minimizer"], what, "GD" if math.isinf(k) else f"{int(k)}", f"{u:.4g}",
                            f"{l:.4g}"])
    qc_rows = [[t["model"], t["minimizer"], *(f"{v:.4g}" for pair in zip(
                    (t["divergence_l"][0], t["divergence_l"][-1], t["convergence_u"][0], t["convergence_u"][-1]),
                    QC_TABLES_2_3[t["model"], t["minimizer"]]) for v in pair)]
               for t in thresholds if (t["model"], t["minimizer"]) in QC_TABLES_2_3]
    def gap(minimizer: str) -> tuple[float, float]:  # smallest and largest |log10(ours / 004's)| over the rows
        logs = [abs(math.log10(ours / paper)) for t in thresholds if t["minimizer"] == minimizer
                and (t["model"], minimizer) in QC_TABLES_2_3
                for ours, paper in zip((t["divergence_l"][0], t["divergence_l"][-1], t["convergence_u"][0],
                                        t["convergence_u"][-1]), QC_TABLES_2_3[t["model"], minimizer])]
        return (min(logs), max(logs)) if logs else (math.nan, math.nan)

    quad, circ = gap("quadratic"), gap("circle")
    qc_text = [
        "Quadratic-circle bounds against 004's Tables 2-3 (k = 1 and GD; ours, then 004's). 004 prints none of its "
        "models' constants: ours are drawn (see the choices below). At the quadratic minimizer the bounds are set by "
        f"E[q1] and agree within {100 * (10 ** quad[1] - 1):.0f}%; at the circular one they are set by the circular "
        f"basin's constants, which 004 does not give, and differ by {circ[0]:.1f} to {circ[1]:.1f} orders of "
        "magnitude: those rows test the bounds on our models, not 004's numbers.",
        format_table(["model", "minimizer", "l(1)", "004 l(1)", "l(GD)", "004 l(GD)", "u(1)", "004 u(1)", "u(GD)",
                      "004 u(GD)"], qc_rows),
        "",
    ] if qc_rows else []
    summary = summary_table(rows)
    text = "\n".join([
        "SGD-k step-size thresholds at the minimizers of 004's quadratic-circle (qc1-4) and Styblinski-Tang (st1-3) "
        "models",
        f"(local curvature over B(theta*, {EPS:g}) from {N_CURVATURE} points; u = convergence bound, l = divergence "
        f"bound; {n_paths} paths x {ITERATIONS} iterations per setting; diverged (left): status DIVERGED, or at the "
        f"end outside theta*'s basin (Styblinski-Tang) or farther than {ESCAPE:g} from theta* (quadratic-circle); "
        "grew: the final distance to theta* above the start's, which a path can do without leaving (GD on st1 "
        "between the bounds), and which SGD-k's noise at an inhomogeneous minimizer does even below u)",
        "",
        format_table(["model", "minimizer", "theta*: its Hessian; the Hessian over the ball's points", "k",
                      "u (convergence)", "l (divergence)"], th_rows),
        *_theorem_text(thresholds),
        "",
        *qc_text,
        *_calibration_text(calibration),
        f"Share of paths that diverged (left), by step size (columns) and start radius, per model, minimizer and k "
        f"(one setting per cell; {n_paths} paths, so a share p has binomial standard error sqrt(p (1 - p) / "
        f"{n_paths}), at most {0.5 / math.sqrt(n_paths):.2g}):",
        summary.to_string(),
        "",
        "Share of paths that grew (ended farther from theta* than they started; inside or outside its basin), same "
        "cells:",
        summary_table(rows, values="grew_fraction").to_string(),
        "",
        "Share of settings where at least half of the paths diverged (left), by start radius:",
        format_table(["radius", *RATES], [[r, *(f"{v[rate]:.2f}" for rate in RATES)] for r, v in per_radius.items()]),
        "",
        f"By group (stable: no path of {n_paths} diverged, which bounds the probability of divergence by "
        f"{1 - 0.05 ** (1 / n_paths):.2g} at 95%; diverged (left): at least half of the paths left; grew: at least "
        "half of the paths ended farther from theta* than they started; with fewer paths more settings read stable):",
        *lines,
        "",
        statement + ".",
        f"{elapsed:.1f} s.",
    ])
    figures = {}
    for name, label, *_ in _setups_index(thresholds):
        figures[f"{name}-{label}-by-k"] = _figure(curves, name, label, "k")
        figures[f"{name}-{label}-by-radius"] = _figure(curves, name, label, "radius")
        if (name, label, 1, RATES[0], 1e-2) in to_circle:
            figures[f"{name}-{label}-to-circle"] = _figure(to_circle, name, label, "k", target="circular minimizer")
    n_table_rows = len(rows) // len(RATES)
    design = Design(
        dt="a map, no dt: each row's step sizes are 1.5 l, (u + l)/2 and u/2 of its model, minimizer and k",
        paths=f"{n_paths} per setting, {ITERATIONS} iterations each; a setting is one cell of the table of diverged "
              f"fractions: its {n_table_rows} rows (model, minimizer, k, start radius) times its {len(RATES)} "
              f"columns (step), {len(rows)} settings",
        seeds=f"setting n uses seed 100003 * seed + n (seed = {seed}: seeds {SEED_STRIDE * seed + 1} to "
              f"{SEED_STRIDE * seed + counter}), n = 1..{counter} counting the settings by model, minimizer, k, step "
              f"and start radius (the radius fastest), so each setting has its own stream and no two rows share one; "
              f"the models are fixed (quadratic-circle seed {QC_SEED}, Styblinski-Tang Model m seed m), the "
              "curvature points seed 0",
        censoring="none at a cap: a path runs the 20 iterations unless a coordinate passes 1e8 first (it stops "
                  "there, status DIVERGED; no feasible box is applied, see choices); a DIVERGED path, or one that ends "
                  f"outside theta*'s basin (Styblinski-Tang) or farther than {ESCAPE:g} from theta* "
                  "(quadratic-circle), counts as diverged",
        rows=n_table_rows, independent=n_table_rows,
        choices=(
            f"quadratic-circle constants: 004 prints none; drawn (seed {QC_SEED}, {QC_TERMS} terms) with q3 = -15, "
            "c2 = c4 = 0, q2 ~ U(0.05, 0.15), c3 ~ U(8, 12), q1 ~ 0.2 U(0.5, 1.5) (Models 1, 3) or 0.001 U(0.5, 1.5) "
            "(2, 4), c1 ~ 10 U(0.5, 1.5) (1, 2) or 0.01 U(0.5, 1.5) (3, 4) (docs/sgdk.md): the quadratic "
            "minimizer's bounds match 004's, the circular one's do not (the table of bounds against 004's above)",
            "protocol: every model at 1.5 l, (u + l)/2 and u/2 of its own bounds (004 Section 5.1), also for the "
            "quadratic-circle models, which 004 Section 4.1 ran at fixed steps 1e10 to 5e12 (circular) or 1 to 1024 "
            "(quadratic) from discs of radius 1e-8; ours start in balls of radius 1e-3 to 1",
            "t_f: Definition 3.14 defines s_f only; t_f is the ball average of the largest generalized eigenvalue "
            "of (M, H), the pointwise counterpart of s_f (for the diagonal Styblinski-Tang models any reading of "
            "it gives the same number)",
            f"verdicts: stable means none of {n_paths} paths diverged and diverged at least half: the shares "
            "depend on the number of paths (at 10 paths more settings read stable). Diverged counts the paths that "
            "left (status DIVERGED, outside theta*'s basin or beyond the escape distance at the end), not those "
            "that grew away from theta* and stayed: the grew shares are printed beside it (GD between the bounds "
            "on Styblinski-Tang Model 1: none left, nearly all grew)",
            "u: Theorem 3.8's (18) with Definition 3.14's constants at every minimizer, 004's choice for its "
            "tables, also at the inhomogeneous Styblinski-Tang minimizers, where Theorem 3.12's (39) applies and is "
            "slightly lower (printed under the thresholds; JSON convergence_u_theorem_3_12)",
            "no feasible box: 004 keeps its iterates in one ((-10, 10) x (-20, 15) in Problem 4.1, (-5, 5)^p in "
            "5.1), where its diverging paths end at the corners; here they run to 1e8 and stop DIVERGED, often "
            "before the 20 iterations. The verdicts are the same; the plots' diverging lines leave the axis",
        ))
    return Report(data=data, text=text, results={}, figures=figures, design=design)


def minimizer_kind(f: Any, center: np.ndarray, *, rtol: float = 1e-9) -> tuple[str, np.ndarray]:
    """What the Hessian of F at `center` says about the point: "strict minimizer" (every eigenvalue above rtol times
    the largest absolute one), "saddle" (one below minus that) or "degenerate" (positive semi-definite and
    singular: a minimizer only if the higher-order terms make it one). Returns the label and the eigenvalues."""
    if not callable(getattr(f, "hessian", None)):
        raise TypeError(f"f must be a landscape with a method hessian(x), got {type(f).__name__}")
    w = np.linalg.eigvalsh(np.asarray(f.hessian(center), dtype=np.float64))
    tol = rtol * float(np.abs(w).max(initial=0.0))
    kind = "strict minimizer" if w.min() > tol else ("saddle" if w.min() < -tol else "degenerate")
    return kind, w


def _calibration(curvatures: dict[tuple[str, str], LocalCurvature]) -> list[dict[str, Any]]:
    """For every calibrated Styblinski-Tang model in the run: 004's constants (solved back from its Tables 4-5), the
    calibrated model's and the uniform model's, with the bounds at 004's batch sizes."""
    out = []
    ks = np.array(TABLE_K)
    for (name, label), curv in curvatures.items():
        if not name.startswith("st") or name.endswith("-uniform"):
            continue
        model = int(name[2])
        implied = implied_constants(model, label)
        paper = {**implied, "divergence_l": list(TABLE4[model, label]), "convergence_u": list(TABLE5[model, label])}
        uniform_curv = curvatures.get((f"{name}-uniform", label))  # the run's own, when it runs the uniform model
        if uniform_curv is None:
            uniform = styblinski_tang_model(model, family="uniform")
            center = uniform.flattest_minimizer() if label == "flat" else uniform.sharpest_minimizer()
            uniform_curv = diagonal_local_curvature(uniform, center, EPS, n_samples=N_CURVATURE, seed=0)
        curves = {"calibrated": curv, "uniform": uniform_curv}
        entry: dict[str, Any] = {"model": name, "minimizer": label, "004": paper}
        for source, c in curves.items():
            entry[source] = {"lambda_1": float(c.lambdas[0]), "lambda_m": float(c.lambdas[-1]), "s_f": c.s_f,
                             "t_f": c.t_f,
                             "divergence_l": [float(v) for v in np.atleast_1d(divergence_threshold(c, ks))],
                             "convergence_u": [float(v) for v in np.atleast_1d(convergence_threshold(c, ks))]}
        for source in ("004", "calibrated", "uniform"):
            e = entry[source]
            e["s_f_over_lambda_1_sq"] = e["s_f"] / e["lambda_1"] ** 2
            e["l1_over_linf"] = e["divergence_l"][0] / e["divergence_l"][-1]
        out.append(entry)
    return out


def _calibration_text(calibration: list[dict[str, Any]]) -> list[str]:
    if not calibration:
        return []
    const, bounds = [], []
    for c in calibration:
        for source in ("004", "calibrated", "uniform"):
            e = c[source]
            const.append([c["model"], c["minimizer"], source, f"{e['lambda_1']:.4g}", f"{e['lambda_m']:.4g}",
                          f"{e['s_f']:.4g}", f"{e['t_f']:.4g}", f"{e['s_f_over_lambda_1_sq']:.3g}",
                          f"{e['l1_over_linf']:.3g}"])
            for bound, key in (("l", "divergence_l"), ("u", "convergence_u")):
                bounds.append([c["model"], c["minimizer"], bound, source, *(f"{v:.4g}" for v in e[key])])
    ks = ["GD" if math.isinf(k) else f"k={int(k)}" for k in TABLE_K]
    return [
        "Styblinski-Tang models against 004's Tables 4-5: the constants (004's solved back from its k = 1 and k = inf "
        "entries; calibrated: the default models; uniform: StyblinskiTangSum.random, the earlier models)",
        format_table(["model", "minimizer", "source", "lambda_1", "lambda_m", "s_f", "t_f", "s_f/lambda_1^2",
                      "l(1)/l(inf)"], const),
        "",
        "and the bounds at 004's batch sizes (004: its Tables 4 (l) and 5 (u) as printed):",
        format_table(["model", "minimizer", "bound", "source", *ks], bounds),
        "",
    ]


def _styblinski_tang_with(method: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: bool(r["model"].startswith("st") and r["method"] == method)


def _shares(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares of settings stable at u/2 (no path diverged) and diverged (at least half left) at 1.5 l and (u+l)/2;
    and, apart from those, of settings where at least half of the paths grew (ended farther from theta* than they
    started), at each step."""

    def share(rate: str, test: Callable[[float], bool], key: str = "diverged_fraction") -> float:
        sel = [r[key] for r in rows if r["lr_label"] == rate]
        return float(np.mean([test(x) for x in sel])) if sel else float("nan")

    def grew(x: float) -> bool:
        return x >= 0.5

    return {"settings": sum(r["lr_label"] == "u/2" for r in rows),
            "stable_below_u": share("u/2", lambda x: x == 0.0),
            "diverged_above_l": share("1.5l", lambda x: x >= 0.5),
            "diverged_between": share("(u+l)/2", lambda x: x >= 0.5),
            "grew_below_u": share("u/2", grew, "grew_fraction"),
            "grew_between": share("(u+l)/2", grew, "grew_fraction"),
            "grew_above_l": share("1.5l", grew, "grew_fraction")}


def _setups_index(thresholds: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(t["model"], t["minimizer"]) for t in thresholds]


def summary_table(rows: list[dict[str, Any]], *, values: str = "diverged_fraction") -> Any:
    """The diverged (left) fractions, or with values="grew_fraction" the shares of paths that grew away from theta*,
    as a pandas DataFrame: index (model, minimizer, method, radius), one column per rate."""
    import pandas as pd

    if values not in ("diverged_fraction", "grew_fraction"):
        raise ValueError(f"values must be 'diverged_fraction' or 'grew_fraction', got {values!r}")
    df = pd.DataFrame(rows)
    table = df.pivot_table(index=["model", "minimizer", "method", "radius"], columns="lr_label",
                           values=values, sort=False)
    return table[list(RATES)]


def _theorem_text(thresholds: list[dict[str, Any]]) -> list[str]:
    """Which theorem u comes from, and how far Theorem 3.12's (39) is from it at the inhomogeneous minimizers."""
    gaps = [(k, 1 - b / a) for t in thresholds if t["convergence_u_theorem_3_12"] is not None
            for k, a, b in zip(BATCHES, t["convergence_u"], t["convergence_u_theorem_3_12"]) if math.isfinite(k)]
    text = ("u is Theorem 3.8's (18) at every minimizer (Definition 3.14's constants, as 004's Tables 3 and 5)")
    if gaps:
        one = [g for k, g in gaps if k == 1]
        rest = [g for k, g in gaps if k != 1]
        text += (". The Styblinski-Tang minimizers are inhomogeneous, where Theorem 3.12's (39) applies: with the "
                 f"same constants it is {100 * min(one):.2g}-{100 * max(one):.2g}% lower at k = 1"
                 + (f" and at most {100 * max(rest):.2g}% lower at the larger k" if rest else "")
                 + ", equal for GD; u/2 is below both (it is below (39) for any constants)")
    return ["", text + "."]


def _figure(curves: dict[tuple[str, str, float, str, float], np.ndarray], name: str, label: str,
            by: str, target: str = "minimizer") -> Callable[[Path], None]:
    """Distance to the minimizer against the iteration (log axis): rows the step sizes, columns the batch sizes at
    start radius 1e-2 (004's Figures 9-10) or the start radii at k = 1 (Figures 11-12); with `target`, distances
    to another point (Figure 8: runs started at the quadratic minimizer, measured from the circular one)."""

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        cols: list[Any] = list(BATCHES) if by == "k" else list(RADII)
        fig, axes = plt.subplots(len(RATES), len(cols), figsize=(3.2 * len(cols), 2.6 * len(RATES)),
                                 sharex=True, squeeze=False)
        steps = np.arange(ITERATIONS + 1)
        for i, rate in enumerate(RATES):
            for j, col in enumerate(cols):
                key = (name, label, col, rate, 1e-2) if by == "k" else (name, label, 1, rate, col)
                D = curves[key]
                ax = axes[i, j]
                for d in D[:MAX_DRAWN]:
                    ax.semilogy(steps, np.where(np.isfinite(d), d, np.nan), lw=0.6, alpha=0.5)
                if target == "minimizer":  # the distance beyond which a path counts as diverged
                    ax.axhline(ESCAPE, color="k", ls=":", lw=0.8)
                what = ("GD" if math.isinf(col) else f"k = {int(col)}") if by == "k" else f"radius {col:g}"
                ax.set_title(f"{what}, step {rate}", fontsize=9)
                if j == 0:
                    ax.set_ylabel(f"distance to {target}")
                if i == len(RATES) - 1:
                    ax.set_xlabel("iteration")
        start = f"{name}, started at the {label} minimizer, distance to the {target}" if target != "minimizer" \
            else f"{name} {label} minimizer"
        fig.suptitle(start + (" (start radius 0.01)" if by == "k" else " (SGD-1)"))
        fig.tight_layout()
        fig.savefig(path, dpi=72)
        plt.close(fig)

    return draw
