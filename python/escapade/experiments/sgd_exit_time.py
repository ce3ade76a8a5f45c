"""`escapade reproduce sgd-exit-time`: 003's exit-time claims for SGD leaving an r-ball around a quadratic minimum
(isotropic and Hessian-shaped noise, the continuous SDE and the discrete map), measured as the slope of log E[tau] in
B / eta and set next to the Freidlin–Wentzell slope and 003's (the theory: `escapade.analysis.sgd`).

`sgd_exit_time_experiment` runs one setting by plain Monte Carlo; `sgd_small_noise_experiment` continues an SDE
setting to small noise (B / eta = 1 / eps^2 up to 30) by adaptive multilevel splitting (`rare_exit_time`); `run` is
the reproduction over d = 2 and 10, two sharpness scales and two radii, with a small-noise series for two 2-D models.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from .._validate import as_float, as_int, as_square_matrix
from ..analysis.arrhenius import ArrheniusFit, arrhenius_fit
from ..analysis.estimates import mean_stderr, path_values
from ..analysis.exact import linear_mean_exit_time
from ..analysis.sgd import SGDExitPrediction, noise_matrix, sgd_exit_time_prediction
from ..analysis.statistics import exponential_fit
from ..dynamics import GaussianSGD
from ..landscapes import Quadratic
from ..rare import rare_exit_time
from ..regions import Ball, Outside
from ..results import UNSTOPPED, RareExitTime, SplittingStatus
from ..sweep import sweep
from .report import Design, Report, finite, format_table

__all__ = ["SGDExitExperiment", "SGDSmallNoiseSeries", "run", "sgd_exit_time_experiment", "sgd_small_noise_experiment"]

DYNAMICS = ("continuous", "discrete")
NOISES = ("isotropic", "hessian")
# The most censored paths a point's mean may rest on before the cap is raised (and, failing that, flagged).
CENSORED_LIMIT = 0.1
# The reproduction's SDE steps: the Euler–Maruyama exponent within this of the SDE's at each row's largest B / eta.
DT_RTOL = 0.01
# The reproduction's mean exit times run over this range (in units of 1 / lambda_min) at each row's 5 points.
TIME_RANGE = (8.0, 150.0)
# The small-noise series of the reproduction: (d, alpha, r, noise) of its models (2-D SDE rows, both with V0 = 1:
# 003 says 2 for C = I at alpha = 1 and 4 for C = H at alpha = 4), its largest B / eta, its points per model (from
# the model's largest Monte Carlo B / eta on), and the splitting runs per point.
SMALL_NOISE_MODELS: tuple[tuple[int, float, float, str], ...] = ((2, 1.0, 1.0, "isotropic"), (2, 4.0, 1.0, "hessian"))
SMALL_NOISE_MAX = 30.0
SMALL_NOISE_POINTS = 7
SMALL_NOISE_RUNS = 10
# The reactant set of the splitting: the ball of this fraction of r around the minimum.
REACTANT_FRACTION = 0.25


def _log_exit_time_estimate(H: np.ndarray, P: np.ndarray, r: float, x: float) -> float:
    """log of a Laplace estimate of the mean exit time from the ball |theta| < r at inverse noise x = B / eta:
    1 / (flux of the stationary density N(0, P / x) through the sphere, at the inward drift speed theta^T H theta / r).
    Directions where V on the sphere stays within 1 / x of V0 count as flat (the exit set is then a sphere of
    that dimension). Used to place the noise levels; not a prediction."""
    w, U = np.linalg.eigh(P)
    d = w.size
    gap = 1 / (2 * w) - 1 / (2 * w[-1])
    flat = gap * x < 1
    m = int(flat.sum())
    v0 = r**2 / (2 * w[-1])
    log_density = (d / 2) * math.log(x / (2 * math.pi)) - 0.5 * float(np.sum(np.log(w))) - x * v0
    log_area = math.log(2) + (m / 2) * math.log(math.pi) + (m - 1) * math.log(r) - float(special.gammaln(m / 2))
    log_transverse = float(np.sum(0.5 * np.log(math.pi / (x * gap[~flat]))))
    Uf = U[:, flat]
    speed = r * float(np.trace(Uf.T @ H @ Uf)) / m
    return -(math.log(speed) + log_density + log_area + log_transverse)


def _grid(H: np.ndarray, pred: SGDExitPrediction, lo: float, hi: float, n: int) -> np.ndarray:
    """n values of B / eta at which the estimated mean exit time runs from lo to hi (in units of 1 / lambda_min)."""
    P, r, v0 = pred.quasipotential.P, pred.radius, pred.fw_slope

    def solve(target: float) -> float:
        def f(u: float) -> float:
            return _log_exit_time_estimate(H, P, r, u / v0) - math.log(target / pred.lambda_min)

        # the estimate is meaningful where it increases with u: search above its minimum
        us = np.linspace(1.0, 200.0, 400)
        u_lo = float(us[int(np.argmin([f(u) for u in us]))])
        if f(u_lo) >= 0:
            return u_lo
        return float(optimize.brentq(f, u_lo, 200.0, xtol=1e-6))

    return np.linspace(solve(lo), solve(hi), n) / v0


def _scheme_exponent_gap(H: np.ndarray, pred: SGDExitPrediction, dt: float) -> float:
    """V0 of the Euler–Maruyama scheme at step dt minus V0 of the SDE. The scheme is the linear map
    theta' = (I - dt H) theta + sqrt(eta / B) sqrt(dt) C^{1/2} xi, the discrete map of the same prediction with
    eta = dt, whose quasi-potential (the discrete Lyapunov equation) sets its exponent: at B / eta = x its mean
    exit time is off by about a factor exp(x * gap)."""
    return sgd_exit_time_prediction(H, pred.radius, noise=pred.noise, lr=dt).fw_slope - pred.fw_slope


def _choose_dt(H: np.ndarray, pred: SGDExitPrediction, x_max: float, rtol: float) -> tuple[float, float]:
    """The step (two significant digits, at most 0.1 / lambda_max(H)) at which the scheme's exponent is off by at
    most rtol at the largest B / eta, i.e. the mean exit times by about rtol relative; and that exponent gap."""
    h0 = 0.1 / float(np.linalg.eigvalsh(H)[-1])
    gap = _scheme_exponent_gap(H, pred, h0)
    dt = h0 if abs(gap) * x_max <= rtol else float(f"{h0 * rtol / (abs(gap) * x_max):.2g}")
    while abs(gap := _scheme_exponent_gap(H, pred, dt)) * x_max > rtol:  # nearly linear in dt: rarely loops
        dt = float(f"{0.9 * dt:.2g}")
    return dt, gap


def _point_mean(result: Any, unit: float) -> tuple[float, float, str, int]:
    """(mean, stderr, estimator, censored paths) of one point: the sample mean without censoring, else the
    exponential MLE (events over total time at risk, `exponential_fit`) with its standard error mean /
    sqrt(events)."""
    s = result.summary()
    n_censored = sum(s.counts[status.name] for status in UNSTOPPED)  # the censoring policy's
    if n_censored == 0:
        return s.mean * unit, s.stderr * unit, "sample mean", 0
    f = exponential_fit(result)
    se = f.mean_stderr if f.events else math.inf
    return f.mean * unit, se * unit, "exponential MLE", n_censored


@dataclasses.dataclass(frozen=True, eq=False)
class SGDExitExperiment:
    """Simulated slope of log E[tau] in B / eta next to the theories (see `sgd_exit_time_experiment`).

    Attributes
    ----------
    prediction : the `SGDExitPrediction` (FW and 003 slopes).
    inverse_noise : (n,) the values of B / eta; batch_size : (n,) B = inverse_noise * eta.
    mean, stderr : (n,) mean exit times (time units: t, or k eta for the map) and standard errors; censored : (n,)
        censored paths per point (the mean is then the exponential MLE, `exponential_fit`); estimator : (n,) which
        ("sample mean" or "exponential MLE").
    dt : the SDE's time step (None for the map, whose step eta is part of the model).
    dt_bias, dt_bias_stderr : (n,) the time-step bias of each mean at dt (the mean at dt minus its dt -> 0 limit,
        order 1 in dt), read off a run at 2 dt driven by the same Brownian paths; NaN for the map or without the
        ladder.
    mean_dt_bias, mean_dt_bias_stderr : the points' relative biases dt_bias / mean averaged over the points
        (its standard error from the paths, whose random numbers the points share).
    slope_dt_bias, slope_dt_bias_stderr : the time-step bias of the corrected slope (its value at dt minus its
        dt -> 0 limit, to first order in the relative biases).
    exponent_dt_bias : the scheme's own exponent at dt minus the SDE's, times the largest B / eta (what `dt` is
        chosen by; NaN for the map).
    fit : the straight-line fit of log mean in B / eta (003's Figure 2 reading).
    corrected_fit : for the SDE, the same with the prefactor power m / 2 divided out (the slope to compare with
        V0); m counts the directions along which V on the sphere stays within 1 / (B / eta) of V0 (so nearly tied
        directions count as flat at the simulated noise levels). For the map, with the power m / 2 - 1/2 divided
        out: a map whose steps outgrow the boundary layer exits by jumping over it, with the prefactor
        (B / eta)^(1 - m/2) in that limit against the SDE's (B / eta)^(-m/2), and at the simulated B / eta it is
        between the two (the exact 1-D map's local power d log / d log x is +0.22 at B / eta = 4, +0.39 at 8, +0.5
        in the limit; the SDE's -0.5); `map_bracket` holds the fits at both ends.
    map_bracket : for the map, the fits with the powers m / 2 - 1 and m / 2 divided out (None for the SDE): the
        slope V0 is compared with the span of their intervals.
    params : lr, dt, n_paths, seed, t_cap, the matrices.
    results : the `SweepResult` behind the means; coarse_results : the one at 2 dt (None without it).
    """

    prediction: SGDExitPrediction
    inverse_noise: np.ndarray
    batch_size: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    censored: np.ndarray
    estimator: tuple[str, ...]
    dt: float | None
    dt_bias: np.ndarray
    dt_bias_stderr: np.ndarray
    mean_dt_bias: float
    mean_dt_bias_stderr: float
    slope_dt_bias: float
    slope_dt_bias_stderr: float
    exponent_dt_bias: float
    fit: ArrheniusFit
    corrected_fit: ArrheniusFit
    params: dict[str, Any]
    results: Any
    coarse_results: Any = None
    map_bracket: tuple[ArrheniusFit, ArrheniusFit] | None = None

    @property
    def fw_interval(self) -> tuple[float, float]:
        """The interval the FW slope is compared with: the corrected fit's, or for the map the span of the
        bracket's two intervals."""
        if self.map_bracket is None:
            return self.corrected_fit.barrier_ci
        return (min(f.barrier_ci[0] for f in self.map_bracket), max(f.barrier_ci[1] for f in self.map_bracket))

    @property
    def fw_agrees(self) -> bool:
        """The FW slope lies in `fw_interval`."""
        lo, hi = self.fw_interval
        return bool(lo <= self.prediction.fw_slope <= hi)

    @property
    def paper_agrees(self) -> bool:
        """003's slope lies in the interval of the corrected fit or of the straight-line fit."""
        p = self.prediction.paper_slope
        return any(lo <= p <= hi for lo, hi in (self.corrected_fit.barrier_ci, self.fit.barrier_ci))

    @property
    def censored_fraction(self) -> float:
        """The largest fraction of censored paths at any point."""
        return float(self.censored.max()) / self.params["n_paths"]

    @property
    def rests_on_censoring(self) -> bool:
        """Some point's mean rests on more than `CENSORED_LIMIT` (10%) censored paths."""
        return self.censored_fraction > CENSORED_LIMIT

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible numbers."""
        p = self.prediction

        def fit(f: ArrheniusFit) -> dict[str, Any]:
            return {"slope": f.barrier, "stderr": f.barrier_stderr, "ci": list(f.barrier_ci),
                    "prefactor": f.prefactor, "power": f.power, "chi2": f.chi2, "dof": f.dof}

        return {
            "noise": p.noise, "dynamics": p.dynamics, "radius": p.radius, "lambda_min": p.lambda_min,
            "multiplicity": p.multiplicity, "fw_slope": p.fw_slope, "fw_continuous_slope": p.fw_continuous_slope,
            "paper_slope": p.paper_slope, "fit": fit(self.fit), "corrected_fit": fit(self.corrected_fit),
            "map_bracket": None if self.map_bracket is None else [fit(f) for f in self.map_bracket],
            "fw_interval": list(self.fw_interval), "fw_agrees": self.fw_agrees, "paper_agrees": self.paper_agrees,
            "dt": self.dt,
            "dt_bias": {"mean_relative": finite(self.mean_dt_bias), "mean_relative_stderr":
                        finite(self.mean_dt_bias_stderr), "slope": finite(self.slope_dt_bias),
                        "slope_stderr": finite(self.slope_dt_bias_stderr),
                        "scheme_exponent": finite(self.exponent_dt_bias)},
            "censored_fraction": self.censored_fraction, "rests_on_censoring": self.rests_on_censoring,
            "points": [{"inverse_noise": float(x), "batch_size": float(b), "mean": finite(m), "stderr": finite(s),
                        "censored": int(c), "estimator": e, "dt_bias": finite(db), "dt_bias_stderr": finite(dbs),
                        "relative_dt_bias": finite(db / m)}
                       for x, b, m, s, c, e, db, dbs in zip(self.inverse_noise, self.batch_size, self.mean,
                                                            self.stderr, self.censored, self.estimator,
                                                            self.dt_bias, self.dt_bias_stderr)],
            "params": self.params,
        }


def sgd_exit_time_experiment(
    H: ArrayLike, radius: float, *, noise: str = "isotropic", dynamics: str = "continuous", lr: float | None = None,
    inverse_noise: Sequence[float] | None = None, n_points: int = 5, time_range: tuple[float, float] = (8.0, 150.0),
    n_paths: int = 200, dt: float | None = None, dt_rtol: float = 0.01, dt_ladder: bool = True,
    t_max: float | None = None, cap_raises: int = 3, seed: int = 0, threads: int | None = None,
    progress: bool | None = False, confidence: float = 0.95,
) -> SGDExitExperiment:
    """Measure the slope of log E[tau] in B / eta for SGD leaving the ball |theta| < r around the minimum 0 of
    theta^T H theta / 2, and set it next to the Freidlin–Wentzell and the 003 slopes.

    Every path starts at the minimum. The continuous SDE runs as ``GaussianSGD(lr, B, C).continuous(dt)`` (a
    `Langevin` with eps = sqrt(eta / B), S = C^{1/2}; Brownian-bridge exit test), the discrete map as
    ``GaussianSGD(lr, B, C)`` with its exit step counted as time k eta. The batch size B varies at fixed eta (a
    `sweep`, common random numbers). Two weighted fits of log E[tau]: the straight line (what 003 plots) and the
    one with the prefactor's power m / 2 divided out, whose slope converges to V0 (the straight line is biased
    low by about m / (2 B / eta) at moderate B / eta).

    The SDE's time step. Euler–Maruyama with step dt is itself a linear map, whose quasi-potential is smaller than
    the SDE's: its mean exit times are low by about a factor exp(x (V0(dt) - V0)) at B / eta = x, a bias that grows
    with x (at dt = 0.1 / lambda_max it is 30% at the deepest points with C = H in d = 2, 40-50% in d = 10). The
    default dt is the one at which that factor is within `dt_rtol` of 1 at the largest B / eta, and with
    `dt_ladder` the bias left at dt is measured point by point from a second run at 2 dt driven by the same
    Brownian paths (``simulate(noise_refinement=2)``; bias at dt = E[tau(2 dt) - tau(dt)], order 1 in dt).

    Censoring. When more than 10% of a point's paths are censored at the time cap, the points are run again with
    a higher cap (at most `cap_raises` times; each time at least twice the cap, and three times the worst point's
    exponential-MLE mean, at most 20 times the cap). A point's mean over censored paths is the exponential MLE
    (`exponential_fit`); `rests_on_censoring` says when some point is still more than 10% censored.

    Parameters
    ----------
    H : (d, d) symmetric positive definite.
    radius : r.
    noise : "isotropic" (C = I) or "hessian" (C = H).
    dynamics : "continuous" or "discrete".
    lr : eta; default 0.1 / lambda_max(H).
    inverse_noise : the values of B / eta; default `n_points` values where the mean exit time is expected to run
        over `time_range` (in units of 1 / lambda_min).
    n_paths : paths per point.
    dt : the SDE's time step (default: chosen by `dt_rtol`); ignored for the map.
    dt_rtol : the SDE's default step keeps the scheme's exponent within this of the SDE's at the largest B / eta.
    dt_ladder : measure the time-step bias with a coupled run at 2 dt (half the cost of the run at dt).
    t_max : the first time cap (time units); default 40 time_range[1] / lambda_min, or with `inverse_noise` 40 times
        the FW estimate exp(V0 B / eta) / lambda_min at the largest B / eta.
    cap_raises : how many times the cap may be raised.
    seed, threads, progress : as in `simulate` (one seed for every point: common random numbers).
    confidence : level of the slope intervals.

    Returns
    -------
    SGDExitExperiment
    """
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}, got dynamics={dynamics!r}")
    if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) or n_points < 3:
        raise ValueError(f"n_points must be an integer >= 3, got n_points={n_points!r}")
    rtol = as_float("dt_rtol", dt_rtol, positive=True)
    if not rtol < 1:
        raise ValueError(f"dt_rtol must be in (0, 1), got dt_rtol={dt_rtol!r}")
    n_paths = as_int("n_paths", n_paths, minimum=2)  # a standard error needs two paths per point
    Hm = as_square_matrix("H", H, symmetric=True)
    w = np.linalg.eigvalsh(Hm)
    eta = 0.1 / float(w[-1]) if lr is None else as_float("lr", lr, positive=True)
    pred = sgd_exit_time_prediction(Hm, radius, noise=noise, lr=eta if dynamics == "discrete" else None)
    lam = pred.lambda_min
    if inverse_noise is None:
        lo, hi = (float(v) for v in time_range)
        if not 0 < lo < hi:
            raise ValueError(f"time_range must be (low, high) with 0 < low < high, got time_range={time_range!r}")
        x = _grid(Hm, pred, lo, hi, int(n_points))
        t_cap = 40.0 * hi / lam
    else:
        x = np.asarray(inverse_noise, dtype=np.float64)
        if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x) & (x > 0)):
            raise ValueError(f"inverse_noise must hold two or more positive values, got "
                             f"inverse_noise={inverse_noise!r}")
        # a generous cap from the FW estimate at the largest B / eta
        t_cap = 40.0 * math.exp(min(pred.fw_slope * float(x.max()), 50.0)) / lam
    if t_max is not None:
        t_cap = as_float("t_max", t_max, positive=True)
    raises = as_int("cap_raises", cap_raises, minimum=0)
    C = noise_matrix(Hm, noise)
    d = Hm.shape[0]
    continuous = dynamics == "continuous"
    step: float | None = None
    exponent_bias = math.nan
    if continuous:
        if dt is None:
            step, gap = _choose_dt(Hm, pred, float(x.max()), rtol)
        else:
            step = as_float("dt", dt, positive=True)
            if not step * float(w[-1]) < 2:  # Euler-Maruyama on the quadratic is unstable from dt lambda_max = 2 on
                raise ValueError(f"dt must be below 2 / lambda_max(H) = {2 / float(w[-1]):.6g}, got dt={dt!r}")
            gap = _scheme_exponent_gap(Hm, pred, step)
        exponent_bias = gap * float(x.max())
    batch = x * eta
    sgd = GaussianSGD(lr=eta, batch_size=float(batch[0]), C=C)
    stop = Ball(center=np.zeros(d), radius=pred.radius)
    common: dict[str, Any] = dict(x0=np.zeros(d), stop=stop, n_paths=int(n_paths), seed=seed, threads=threads,
                                  progress=progress, seeds="common")
    unit = 1.0 if continuous else eta

    def simulate_points(cap: float, h: float | None = None, **extra: Any) -> Any:
        if h is not None:
            return sweep(Quadratic(Hm), sgd.continuous(h), grid={"dynamics.eps": [float(v) for v in np.sqrt(1 / x)]},
                         t_max=cap, **common, **extra)
        return sweep(Quadratic(Hm), sgd, grid={"dynamics.batch_size": [float(b) for b in batch]},
                     max_steps=int(math.ceil(cap / eta)), **common)

    res = simulate_points(t_cap, step)
    for _ in range(raises):  # raise the cap until no point rests on more than CENSORED_LIMIT censored paths
        counts = [r.summary().counts["CENSORED"] for r in res.results]
        worst = [r for r, c in zip(res.results, counts) if c > CENSORED_LIMIT * int(n_paths)]
        if not worst:
            break
        need = max(3.0 * exponential_fit(r).mean * unit for r in worst)
        t_cap = min(max(2.0 * t_cap, need), 20.0 * t_cap)
        res = simulate_points(t_cap, step)
    means, errors, censored, estimator = [], [], [], []
    for r in res.results:
        m, se, how, n_censored = _point_mean(r, unit)
        means.append(m)
        errors.append(se)
        censored.append(n_censored)
        estimator.append(how)
    mean, stderr = np.array(means), np.array(errors)
    fit = arrhenius_fit(x, mean, stderr, x="inverse", confidence=confidence)
    # directions whose V on the sphere exceeds V0 by less than 1 / (B / eta) count as flat at these noise levels
    m_eff = pred.quasipotential.exit_multiplicity(rtol=1.0 / (pred.fw_slope * float(np.median(x))))
    corrected = arrhenius_fit(x, mean, stderr, x="inverse", power=m_eff / 2 - (0.0 if continuous else 0.5),
                              confidence=confidence)
    bracket = None if continuous else tuple(arrhenius_fit(x, mean, stderr, x="inverse", power=m_eff / 2 - shift,
                                                          confidence=confidence) for shift in (1.0, 0.0))
    bias = np.full(x.size, math.nan)
    bias_se = np.full(x.size, math.nan)
    mean_bias = mean_bias_se = slope_bias = slope_bias_se = math.nan
    coarse = None
    if continuous and dt_ladder:
        assert step is not None
        coarse = simulate_points(t_cap, 2 * step, noise_refinement=2)
        # path k's time at 2 dt minus its time at dt, point by point (the paths are paired across both levels and,
        # by the common seed, across the points)
        diff = np.column_stack([path_values(c, "mean_exit_time") - path_values(f, "mean_exit_time")
                                for f, c in zip(res.results, coarse.results)])
        for i in range(x.size):
            bias[i], bias_se[i] = mean_stderr(diff[:, i], "mean_exit_time")
        relative = diff / mean
        mean_bias, mean_bias_se = mean_stderr(relative.mean(axis=1), "mean_exit_time")
        # the corrected slope is sum_i c_i log(mean_i) (weighted least squares, weights (mean / stderr)^2): its bias
        # at dt is sum_i c_i (bias_i / mean_i), path by path
        wts = (mean / stderr) ** 2
        xc = x - np.sum(wts * x) / np.sum(wts)
        coef = wts * xc / np.sum(wts * xc**2)
        slope_bias, slope_bias_se = mean_stderr(relative @ coef, "mean_exit_time")
    params = {"H": Hm.tolist(), "C": C.tolist(), "lr": eta, "dt": step, "dt_rtol": rtol if dt is None else None,
              "n_paths": int(n_paths), "seed": seed, "t_cap": t_cap}
    return SGDExitExperiment(
        prediction=pred, inverse_noise=x, batch_size=batch, mean=mean, stderr=stderr, censored=np.array(censored),
        estimator=tuple(estimator), dt=step, dt_bias=bias, dt_bias_stderr=bias_se, mean_dt_bias=mean_bias,
        mean_dt_bias_stderr=mean_bias_se, slope_dt_bias=slope_bias, slope_dt_bias_stderr=slope_bias_se,
        exponent_dt_bias=exponent_bias, fit=fit, corrected_fit=corrected, map_bracket=bracket, params=params,
        results=res,
        coarse_results=coarse)


@dataclasses.dataclass(frozen=True, eq=False)
class SGDSmallNoiseSeries:
    """Mean exit times at small noise by adaptive multilevel splitting, and the slope of their logarithm in
    B / eta = 1 / eps^2 (see `sgd_small_noise_experiment`).

    Attributes
    ----------
    prediction : the `SGDExitPrediction` of the SDE (FW and 003 slopes).
    inverse_noise : (n,) the values of B / eta = 1 / eps^2; batch_size : (n,) B = inverse_noise * eta.
    mean, stderr : (n,) mean exit times (`RareExitTime.mean`) and their standard errors (delta method over the
        terms; p's from the spread of the splitting runs); interval : (n, 2) their intervals.
    probability : (n,) p, the probability of reaching the sphere from the level set Sigma before the reactant ball.
    dt : the SDE's time step (one for the series). exponent_dt_bias : (n,) the Euler–Maruyama scheme's exponent at
        dt minus the SDE's, times B / eta: about the relative bias of each mean from the step.
    fit : the straight-line fit of log mean in 1 / eps^2; corrected_fit : the same with the prefactor's power m / 2
        divided out (the slope to compare with V0).
    fit_interval, corrected_interval : the fits' slope intervals widened by sqrt(chi2 / dof) where that exceeds 1
        (the points scatter more than their standard errors say: these come from n_runs runs each and are themselves
        uncertain); the intervals `fw_agrees` and `paper_agrees` read.
    estimates : the `RareExitTime` of each point.
    params : lr, dt, the splitting's sizes, the reactant radius, the seed of each point, the matrices.
    """

    prediction: SGDExitPrediction
    inverse_noise: np.ndarray
    batch_size: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    interval: np.ndarray
    probability: np.ndarray
    dt: float
    exponent_dt_bias: np.ndarray
    fit: ArrheniusFit
    corrected_fit: ArrheniusFit
    fit_interval: tuple[float, float]
    corrected_interval: tuple[float, float]
    estimates: tuple[RareExitTime, ...]
    params: dict[str, Any]

    @property
    def fw_agrees(self) -> bool:
        """The FW slope V0 lies in the (widened) interval of the corrected fit."""
        lo, hi = self.corrected_interval
        return bool(lo <= self.prediction.fw_slope <= hi)

    @property
    def paper_agrees(self) -> bool:
        """003's slope lies in the (widened) interval of the corrected fit or of the straight-line fit."""
        p = self.prediction.paper_slope
        return any(lo <= p <= hi for lo, hi in (self.corrected_interval, self.fit_interval))

    @property
    def elapsed(self) -> float:
        """Seconds spent in `rare_exit_time`, all points."""
        return float(sum(e.elapsed for e in self.estimates))

    def counts(self) -> dict[str, int]:
        """What the splitting runs of all points ended in (finished, extinct, at the iteration cap), and the replica
        paths censored at the step cap or diverged, the loops that reached the sphere instead of returning, and
        the points whose estimate is not clean (`RareExitTime.reached` false)."""
        runs = [e.splitting for e in self.estimates]
        return {"runs": sum(r.n_runs for r in runs),
                "finished": sum(r.count(SplittingStatus.FINISHED) for r in runs),
                "extinct": sum(r.count(SplittingStatus.EXTINCT) for r in runs),
                "iteration_cap": sum(r.count(SplittingStatus.ITERATION_CAP) for r in runs),
                "censored_paths": sum(r.censored for r in runs), "diverged_paths": sum(r.diverged for r in runs),
                "loops_to_product": sum(e.loops_to_product for e in self.estimates),
                "points_not_reached": sum(not e.reached for e in self.estimates)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible numbers."""
        p = self.prediction

        def fit(f: ArrheniusFit, widened: tuple[float, float]) -> dict[str, Any]:
            return {"slope": f.barrier, "stderr": f.barrier_stderr, "ci": list(f.barrier_ci),
                    "widened_ci": list(widened), "prefactor": f.prefactor, "power": f.power, "chi2": f.chi2,
                    "dof": f.dof}

        return {
            "noise": p.noise, "dynamics": p.dynamics, "radius": p.radius, "lambda_min": p.lambda_min,
            "fw_slope": p.fw_slope, "paper_slope": p.paper_slope, "fit": fit(self.fit, self.fit_interval),
            "corrected_fit": fit(self.corrected_fit, self.corrected_interval), "fw_agrees": self.fw_agrees,
            "paper_agrees": self.paper_agrees,
            "dt": self.dt, "counts": self.counts(), "elapsed": self.elapsed,
            "points": [{"inverse_noise": float(x), "batch_size": float(b), "mean": finite(float(m)),
                        "stderr": finite(float(s)), "interval": [finite(float(lo)), finite(float(hi))],
                        "probability": finite(float(q)), "sigma_level": e.sigma_level,
                        "loop_time": finite(e.loop_time.value), "first_time": finite(e.first_time.value),
                        "reactive_time": finite(e.reactive_time.value), "exponent_dt_bias": float(g),
                        "test": e.splitting.test, "seed": e.seed, "path_steps": e.path_steps}
                       for x, b, m, s, (lo, hi), q, g, e in zip(self.inverse_noise, self.batch_size, self.mean,
                                                                self.stderr, self.interval, self.probability,
                                                                self.exponent_dt_bias, self.estimates)],
            "params": self.params,
        }


def _widened(f: ArrheniusFit) -> tuple[float, float]:
    """The slope interval of a weighted fit, widened by sqrt(chi2 / dof) where that exceeds 1."""
    scale = math.sqrt(f.chi2 / f.dof) if f.dof > 0 and math.isfinite(f.chi2) else 1.0
    half = max(1.0, scale) * (f.barrier_ci[1] - f.barrier)
    return (f.barrier - half, f.barrier + half)


def _point_seed(seed: int, i: int) -> int:
    """The seed of point i of a small-noise series: numpy's SeedSequence of the series' seed with (i,) as its spawn
    key (the points are independent)."""
    state = np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def sgd_small_noise_experiment(
    H: ArrayLike, radius: float, *, noise: str = "isotropic", lr: float | None = None,
    inverse_noise: ArrayLike | None = None, x_max: float = SMALL_NOISE_MAX, n_points: int = SMALL_NOISE_POINTS,
    n_replicas: int = 50, n_runs: int = SMALL_NOISE_RUNS, n_loops: int = 2000, reactant_radius: float | None = None,
    dt: float | None = None, dt_rtol: float = 0.01, seed: int = 0, threads: int | None = None,
    progress: bool | None = False, confidence: float = 0.95,
) -> SGDSmallNoiseSeries:
    """Mean exit times of the SDE d theta = -H theta dt + sqrt(eta / B) C^{1/2} dW from the ball |theta| < r down to
    small noise, by adaptive multilevel splitting, and the slope of log E[tau] in 1 / eps^2 = B / eta next to the
    Freidlin–Wentzell V0 and 003's slope.

    Plain Monte Carlo (`sgd_exit_time_experiment`) pays E[tau] ~ exp(V0 B / eta) per path, which stops it near
    V0 B / eta = 10; here each point is `rare_exit_time` from the minimum: reactant A = the ball of radius
    `reactant_radius` around 0, product B = outside the r-ball (``Outside(Ball(0, r))``), the default score (signed
    distance to B, |theta| - r), A and B tested with the Brownian bridge (the noise is constant), and
    E[tau] = E[T_first] + (1/p - 1) E[T_loop] + E[T_reactive]. Each point has its own seed (independent points),
    so the weighted fits' chi-square means what it says.

    The time step is chosen as in `sgd_exit_time_experiment`: the scheme's exponent within `dt_rtol` of the SDE's at
    the largest B / eta (one dt for the series); the bias it leaves is reported per point as
    `exponent_dt_bias` (no coupled run at 2 dt: splitting runs at two steps share no Brownian paths).

    Parameters
    ----------
    H : (d, d) symmetric positive definite. radius : r. noise : "isotropic" (C = I) or "hessian" (C = H).
    lr : eta (it sets B = (B / eta) eta; the SDE depends on eta / B only); default 0.1 / lambda_max(H).
    inverse_noise : the values of B / eta; default `n_points` values from the largest of
        `sgd_exit_time_experiment`'s default grid (mean exit time about 150 / lambda_min) to `x_max`.
    n_replicas, n_runs, n_loops : of each `rare_exit_time` (n_loops is also its pilot's size).
    reactant_radius : of A; default r / 4.
    dt, dt_rtol : the SDE's step, or the rule that chooses it.
    seed, threads, progress : the series' seed (point i's is `_point_seed(seed, i)`), threads and progress bar.
    confidence : of the points' and the slopes' intervals.

    Returns
    -------
    SGDSmallNoiseSeries
    """
    Hm = as_square_matrix("H", H, symmetric=True)
    w = np.linalg.eigvalsh(Hm)
    eta = 0.1 / float(w[-1]) if lr is None else as_float("lr", lr, positive=True)
    pred = sgd_exit_time_prediction(Hm, radius, noise=noise)
    rtol = as_float("dt_rtol", dt_rtol, positive=True)
    if not rtol < 1:
        raise ValueError(f"dt_rtol must be in (0, 1), got dt_rtol={dt_rtol!r}")
    if inverse_noise is None:
        top = as_float("x_max", x_max, positive=True)
        if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) or n_points < 3:
            raise ValueError(f"n_points must be an integer >= 3, got n_points={n_points!r}")
        low = float(_grid(Hm, pred, *TIME_RANGE, 2)[-1])
        if not low < top:
            raise ValueError(f"x_max must exceed the largest Monte Carlo B / eta {low:.6g}, got x_max={x_max!r}")
        x = np.linspace(low, top, int(n_points))
    else:
        x = np.asarray(inverse_noise, dtype=np.float64)
        if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x) & (x > 0)):
            raise ValueError(f"inverse_noise must hold two or more positive values, got "
                             f"inverse_noise={inverse_noise!r}")
    r_a = pred.radius / 4 if reactant_radius is None else as_float("reactant_radius", reactant_radius, positive=True)
    if not r_a < pred.radius:
        raise ValueError(f"reactant_radius must be below the radius {pred.radius:g}, got "
                         f"reactant_radius={reactant_radius!r}")
    if dt is None:
        step, gap = _choose_dt(Hm, pred, float(x.max()), rtol)
    else:
        step = as_float("dt", dt, positive=True)
        if not step * float(w[-1]) < 2:
            raise ValueError(f"dt must be below 2 / lambda_max(H) = {2 / float(w[-1]):.6g}, got dt={dt!r}")
        gap = _scheme_exponent_gap(Hm, pred, step)
    C = noise_matrix(Hm, noise)
    d = Hm.shape[0]
    seed = as_int("seed", seed, minimum=0)
    reactant = Ball(center=np.zeros(d), radius=r_a)
    product = Outside(Ball(center=np.zeros(d), radius=pred.radius))
    seeds = [_point_seed(seed, i) for i in range(x.size)]
    estimates = []
    for xi, s in zip(x, seeds):
        dynamics = GaussianSGD(lr=eta, batch_size=float(xi) * eta, C=C).continuous(step)
        estimates.append(rare_exit_time(Quadratic(Hm), dynamics, x0=np.zeros(d), reactant=reactant, product=product,
                                        n_replicas=n_replicas, n_runs=n_runs, n_loops=n_loops,
                                        n_pilot=max(10, n_loops), seed=s, threads=threads, progress=progress,
                                        confidence=confidence))
    mean = np.array([e.mean for e in estimates])
    stderr = np.array([e.stderr for e in estimates])
    fit = arrhenius_fit(x, mean, stderr, x="inv_eps2", confidence=confidence)
    m_eff = pred.quasipotential.exit_multiplicity(rtol=1.0 / (pred.fw_slope * float(np.median(x))))
    corrected = arrhenius_fit(x, mean, stderr, x="inv_eps2", power=m_eff / 2, confidence=confidence)
    params = {"H": Hm.tolist(), "C": C.tolist(), "lr": eta, "dt": step, "dt_rtol": rtol if dt is None else None,
              "n_replicas": int(n_replicas), "n_runs": int(n_runs), "n_loops": int(n_loops),
              "reactant_radius": r_a, "seed": seed, "point_seeds": seeds}
    return SGDSmallNoiseSeries(
        prediction=pred, inverse_noise=x, batch_size=x * eta, mean=mean, stderr=stderr,
        interval=np.array([e.interval for e in estimates]),
        probability=np.array([e.probability_term.value for e in estimates]), dt=step, exponent_dt_bias=gap * x,
        fit=fit, corrected_fit=corrected, fit_interval=_widened(fit), corrected_interval=_widened(corrected),
        estimates=tuple(estimates), params=params)


def _monte_carlo_check(s: SGDSmallNoiseSeries, e: SGDExitExperiment) -> dict[str, Any]:
    """The series' first point against the Monte Carlo row's mean at the same B / eta (its largest): the difference
    in units of the combined standard error, and whether it is within 3."""
    x = float(s.inverse_noise[0])
    i = int(np.argmin(np.abs(e.inverse_noise - x)))
    if not math.isclose(float(e.inverse_noise[i]), x, rel_tol=1e-12):
        raise ValueError(f"the series starts at B / eta = {x} where the Monte Carlo row has no point")
    se = math.hypot(float(s.stderr[0]), float(e.stderr[i]))
    z = (float(s.mean[0]) - float(e.mean[i])) / se
    return {"inverse_noise": x, "splitting": float(s.mean[0]), "splitting_stderr": float(s.stderr[0]),
            "splitting_dt": s.dt, "monte_carlo": float(e.mean[i]), "monte_carlo_stderr": float(e.stderr[i]),
            "monte_carlo_dt": e.dt, "monte_carlo_estimator": e.estimator[i], "z": z, "agrees": abs(z) <= 3}


def _sgd_hessians() -> dict[int, np.ndarray]:
    """The base Hessians H_0 of the SGD reproduction: d = 2, eigenvalues 1 and 3 rotated by 0.5 rad; d = 10,
    eigenvalues 1 and 9 values in [2, 3], in a fixed random basis."""
    c, s = math.cos(0.5), math.sin(0.5)
    rot = np.array([[c, -s], [s, c]])
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((10, 10)))
    out = {2: rot @ np.diag([1.0, 3.0]) @ rot.T, 10: q @ np.diag(np.r_[1.0, np.linspace(2.0, 3.0, 9)]) @ q.T}
    return {d: (h + h.T) / 2 for d, h in out.items()}


def _row_seed(seed: int, d: int, alpha: float, radius: float, noise: str, dynamics: str, series: int = 0) -> int:
    """The seed of one row of the reproduction: numpy's SeedSequence of the user's seed with the row's identity
    (d, 1000 alpha, 1000 r, the noise's and the dynamics' index) as its spawn key, so that every row has its own
    random numbers and a row's seed does not depend on which other rows run. `series` 1 is the small-noise series
    of the same model (its key has a sixth entry, 1)."""
    key: tuple[int, ...] = (d, round(1000 * alpha), round(1000 * radius), NOISES.index(noise),
                            DYNAMICS.index(dynamics))
    if series:
        key += (int(series),)
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def _exact_means(e: SGDExitExperiment) -> np.ndarray:
    """The exact mean exit times of a 2-D continuous row's points: L u = -1 on the disk, L = -(H x).grad +
    (1/2) (eta / B) C : grad^2 (`analysis.linear_mean_exit_time`)."""
    H, C = np.array(e.params["H"]), np.array(e.params["C"])
    disk = Ball(center=np.zeros(H.shape[0]), radius=e.prediction.radius)
    return np.array([float(linear_mean_exit_time(H, C / x, disk)) for x in e.inverse_noise])


def _exact_reference(e: SGDExitExperiment) -> dict[str, Any]:
    """A 2-D continuous row against its exact mean exit times: per point the exact mean, the simulated one and
    their ratio, and the Freidlin–Wentzell (Laplace) estimate exp(V0 B / eta) x prefactor; the corrected slope of
    the exact means (the simulation's relative errors as weights) next to the simulated one and V0."""
    exact = _exact_means(e)
    H = np.array(e.params["H"])
    P, r = e.prediction.quasipotential.P, e.prediction.radius
    fw = np.array([math.exp(_log_exit_time_estimate(H, P, r, float(x))) for x in e.inverse_noise])
    exact_fit = arrhenius_fit(e.inverse_noise, exact, exact * e.stderr / e.mean, x="inverse",
                              power=e.corrected_fit.power)
    return {
        "exact_corrected_slope": exact_fit.barrier,
        "points": [{"inverse_noise": float(x), "exact": float(ex), "mean": float(m), "stderr": float(s),
                    "ratio": float(m / ex), "ratio_stderr": float(s / ex), "fw_estimate": float(f)}
                   for x, ex, m, s, f in zip(e.inverse_noise, exact, e.mean, e.stderr, fw)],
    }


def _table_row(e: SGDExitExperiment, d: int, alpha: float) -> list[str]:
    """One row of the reproduction's table; the censoring column says when a point rests on more than 10% censored
    paths."""
    p, f, c = e.prediction, e.fit, e.corrected_fit
    cens = f"{int(e.censored.max())}/{e.params['n_paths']}" + (" >10%: MLE" if e.rests_on_censoring else "")
    dt_text = "eta (map)" if e.dt is None else f"{e.dt:.2g}"
    bias_text = "-" if e.dt is None or not math.isfinite(e.mean_dt_bias) else \
        f"{100 * e.mean_dt_bias:+.1f}% ± {100 * e.mean_dt_bias_stderr:.1f}%"
    return [str(d), f"{alpha:g}", f"{p.radius:g}", "C = I" if p.noise == "isotropic" else "C = H", p.dynamics,
            dt_text, bias_text, cens, f"{f.barrier:.3f} [{f.barrier_ci[0]:.3f}, {f.barrier_ci[1]:.3f}]",
            f"{c.barrier:.3f} [{e.fw_interval[0]:.3f}, {e.fw_interval[1]:.3f}]", f"{c.power:g}", f"{p.fw_slope:.3f}",
            f"{p.paper_slope:.3f}", "agrees" if e.paper_agrees else "DISAGREES"]


def _small_noise(experiments: dict[tuple[int, float, float, str, str], SGDExitExperiment],
                 base: dict[int, np.ndarray], n_paths: int, seed: int, threads: int | None,
                 progress: bool | None) -> dict[str, Any]:
    """The reproduction's small-noise series: each model of `SMALL_NOISE_MODELS` continued by
    `sgd_small_noise_experiment` from its Monte Carlo row's largest B / eta (the point both estimate, the check of
    the splitting against plain Monte Carlo) to `SMALL_NOISE_MAX`; n_paths / 4 replicas (at least 10) per run,
    10 n_paths loops.
    Returns the JSON part, the text (tables and the series' design), the statement and the estimates."""
    n_replicas, n_loops = max(10, n_paths // 4), max(10, 10 * n_paths)
    series, point_table, fit_table, checks, results = [], [], [], [], {}
    for d, alpha, r, noise in SMALL_NOISE_MODELS:
        e = experiments[d, alpha, r, noise, "continuous"]
        x = np.linspace(float(e.inverse_noise[-1]), SMALL_NOISE_MAX, SMALL_NOISE_POINTS)
        row_seed = _row_seed(seed, d, alpha, r, noise, "continuous", series=1)
        s = sgd_small_noise_experiment(alpha * base[d], r, noise=noise, lr=e.params["lr"], inverse_noise=x,
                                       n_replicas=n_replicas, n_runs=SMALL_NOISE_RUNS, n_loops=n_loops,
                                       dt_rtol=DT_RTOL, seed=row_seed, threads=threads, progress=progress)
        check = _monte_carlo_check(s, e)
        p, f, c, label = s.prediction, s.fit, s.corrected_fit, "C = I" if noise == "isotropic" else "C = H"
        (f_lo, f_hi), (c_lo, c_hi) = s.fit_interval, s.corrected_interval
        row = {"d": d, "alpha": alpha, "seed": row_seed, **s.to_dict(), "monte_carlo_check": check,
               "monte_carlo_fit": {"inverse_noise": [float(e.inverse_noise[0]), float(e.inverse_noise[-1])],
                                   "slope": e.fit.barrier, "ci": list(e.fit.barrier_ci),
                                   "corrected_slope": e.corrected_fit.barrier,
                                   "corrected_ci": list(e.corrected_fit.barrier_ci)}}
        series.append(row)
        for i, (xi, m, se, (lo, hi), q, g, est) in enumerate(zip(s.inverse_noise, s.mean, s.stderr, s.interval,
                                                                s.probability, s.exponent_dt_bias, s.estimates)):
            point_table.append([str(d), f"{alpha:g}", f"{r:g}", label, f"{xi:.3f}", f"{s.dt:.2g}",
                                f"{m:.4g} ± {se:.2g}", f"[{lo:.4g}, {hi:.4g}]", f"{q:.3g}",
                                f"{100 * math.expm1(g):+.2f}%"])
            results[f"sgd-exit-time-small-noise-d{d}-a{alpha:g}-r{r:g}-{noise}-{i}"] = est
        fit_table.append([str(d), f"{alpha:g}", f"{r:g}", label, f"{x[0]:.2f}-{x[-1]:.0f}",
                          f"{f.barrier:.3f} [{f_lo:.3f}, {f_hi:.3f}]", f"{c.barrier:.3f} [{c_lo:.3f}, {c_hi:.3f}]",
                          f"{c.power:g}", f"{c.chi2:.1f}/{c.dof}", f"{p.fw_slope:.3f}", f"{p.paper_slope:.3f}",
                          f"{e.fit.barrier:.3f} [{e.fit.barrier_ci[0]:.3f}, {e.fit.barrier_ci[1]:.3f}]",
                          f"{e.corrected_fit.barrier:.3f} [{e.corrected_fit.barrier_ci[0]:.3f}, "
                          f"{e.corrected_fit.barrier_ci[1]:.3f}]",
                          f"{e.inverse_noise[0]:.2f}-{e.inverse_noise[-1]:.2f}"])
        checks.append(f"{label}, alpha = {alpha:g}, B/eta = {check['inverse_noise']:.3f}: splitting "
                      f"{check['splitting']:.4g} ± {check['splitting_stderr']:.2g} (dt {s.dt:.2g}), Monte Carlo "
                      f"{check['monte_carlo']:.4g} ± {check['monte_carlo_stderr']:.2g} (dt {e.dt:.2g}, "
                      f"{e.params['n_paths']} paths): {check['z']:+.2f} combined SE, "
                      + ("within 3" if check["agrees"] else "MORE THAN 3"))
    counts = {k: sum(row["counts"][k] for row in series) for k in series[0]["counts"]}
    n_points = sum(len(row["points"]) for row in series)
    n_fw = sum(1 for row in series if row["fw_agrees"])
    n_paper = sum(1 for row in series if row["paper_agrees"])
    n_checks = sum(1 for row in series if row["monte_carlo_check"]["agrees"])
    worst_gap = max(abs(math.expm1(float(g["exponent_dt_bias"]))) for row in series for g in row["points"])
    statement = (f"at small noise (1/eps^2 = B/eta up to {SMALL_NOISE_MAX:g}, adaptive multilevel splitting) the "
                 f"Freidlin-Wentzell V0 lies inside the corrected slope's 95% interval in {n_fw} of {len(series)} "
                 f"models and 003's slope inside an interval in {n_paper} of {len(series)}; the splitting agrees with "
                 f"plain Monte Carlo within 3 combined SE at the shared point in {n_checks} of {len(series)}")
    dts = ", ".join(f"{row['dt']:.2g} ({'C = I' if row['noise'] == 'isotropic' else 'C = H'}, alpha = "
                    f"{row['alpha']:g})" for row in series)
    design = Design(
        dt=(f"one per model, {dts}: the reproduction's rule (the Euler-Maruyama scheme's exponent within {DT_RTOL:g} "
            f"of the SDE's) at B/eta = {SMALL_NOISE_MAX:g}, so each mean is low by at most {100 * worst_gap:.2f}% "
            "from the step (the 'scheme bias' column); reactant and product tested with the Brownian bridge, the "
            "level set Sigma at the steps; no run at 2 dt (splitting runs at two steps share no Brownian paths)"),
        paths=(f"{n_replicas} replicas x {SMALL_NOISE_RUNS} independent splitting runs per point (the interval of p "
               f"is a t interval over the runs), {n_loops} loops and {n_loops} pilot excursions per point"),
        seeds=(f"one per point, SeedSequence(series seed, spawn_key=(i,)); the series seed is the row seed with a "
               f"sixth key entry 1, SeedSequence({seed}, spawn_key=(d, 1000 alpha, 1000 r, noise, dynamics, 1)); "
               "the points are independent of each other and of the Monte Carlo rows"),
        censoring=(f"replica paths capped at 10^8 steps: {counts['censored_paths']} censored, "
                   f"{counts['diverged_paths']} diverged; of {counts['runs']} splitting runs {counts['extinct']} "
                   f"went extinct and {counts['iteration_cap']} stopped at the iteration cap; "
                   f"{counts['loops_to_product']} loop(s) reached the sphere before returning to the reactant ball "
                   "(left out of E[T_loop])"),
        rows=n_points, independent=n_points)
    elapsed = float(sum(row["elapsed"] for row in series))
    text = "\n".join([
        f"Small noise: mean exit times by adaptive multilevel splitting (rare_exit_time) up to 1/eps^2 = B/eta = "
        f"{SMALL_NOISE_MAX:g}",
        f"(2-D SDE, V0 = 1 in both; reactant: the ball of radius r/{1 / REACTANT_FRACTION:g}, product: outside the "
        "r-ball, score |theta| - r; the first point is the Monte Carlo row's largest B/eta; scheme bias: "
        "exp(B/eta (V0(dt) - V0)) - 1)",
        "",
        format_table(["d", "alpha", "r", "noise", "B/eta", "dt", "E[tau] ± SE", "95% interval", "p",
                      "scheme bias"], point_table),
        "",
        "Slope S of log E[tau] = a + S / eps^2 over the small-noise points (straight line, and with the prefactor "
        "(1/eps^2)^(-m/2) divided out; 95% intervals, widened by sqrt(chi2/dof) where that exceeds 1), next to FW, "
        "003 and the Monte Carlo row's fits (5 points each):",
        format_table(["d", "alpha", "r", "noise", "B/eta", "S [95%]", "corrected S [95%]", "m/2", "chi2/dof",
                      "FW", "003", "MC fit [95%]", "MC corrected [95%]", "MC B/eta"], fit_table),
        "",
        "Splitting against plain Monte Carlo at the shared point:",
        *[f"  {line}" for line in checks],
        "",
        statement[0].upper() + statement[1:] + ".",
        "",
        "Design of the small-noise series:",
        design.text(),
        "",
        "Design of the Monte Carlo table:",
    ])
    data = {"models": [list(m) for m in SMALL_NOISE_MODELS], "max_inverse_noise": SMALL_NOISE_MAX,
            "n_replicas": n_replicas, "n_runs": SMALL_NOISE_RUNS, "n_loops": n_loops,
            "reactant_fraction": REACTANT_FRACTION, "series": series, "counts": counts,
            "fw_in_interval": n_fw, "paper_in_interval": n_paper, "monte_carlo_agrees": n_checks,
            "design": design.to_dict(), "statement": statement, "elapsed": elapsed}
    return {"data": data, "text": text, "statement": statement, "results": results}


def _run_row(base: dict[int, np.ndarray], d: int, alpha: float, r: float, noise: str, dynamics: str, n_paths: int,
             seed: int, threads: int | None, progress: bool | None) -> SGDExitExperiment:
    """One Monte Carlo row of the reproduction (H = alpha H_0, eta = 0.1 / lambda_max(H_0), its own seed): the same
    numbers whichever other rows run."""
    lr = 0.1 / float(np.linalg.eigvalsh(base[d])[-1])  # fixed eta; eta lambda_max = 0.1 alpha
    return sgd_exit_time_experiment(alpha * base[d], r, noise=noise, dynamics=dynamics, lr=lr, n_paths=n_paths,
                                    time_range=TIME_RANGE, dt_rtol=DT_RTOL,
                                    seed=_row_seed(seed, d, alpha, r, noise, dynamics), threads=threads,
                                    progress=progress)


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """003's mean exit times of SGD from a quadratic minimum against the Freidlin–Wentzell answer and simulation."""
    n_paths = 200 if paths is None else paths
    alphas, time_range = [1.0, 4.0], TIME_RANGE
    base = _sgd_hessians()
    configs = [(d, alpha, r) for d in (2, 10) for alpha in alphas for r in ((0.5, 1.0) if d == 2 else (1.0,))]
    rows, table, exact_table = [], [], []
    results: dict[str, Any] = {}
    experiments: dict[tuple[int, float, float, str, str], SGDExitExperiment] = {}
    elapsed = 0.0
    for d, alpha, r in configs:
        lr = 0.1 / float(np.linalg.eigvalsh(base[d])[-1])  # fixed eta; eta lambda_max = 0.1 alpha
        for noise in NOISES:
            for dynamics in DYNAMICS:
                row_seed = _row_seed(seed, d, alpha, r, noise, dynamics)
                e = _run_row(base, d, alpha, r, noise, dynamics, n_paths, seed, threads, progress)
                experiments[d, alpha, r, noise, dynamics] = e
                elapsed += e.results.results[0].elapsed
                if e.coarse_results is not None:
                    elapsed += e.coarse_results.results[0].elapsed
                p = e.prediction
                row = {"d": d, "alpha": alpha, "seed": row_seed, **e.to_dict()}
                row.pop("params")
                row["lr"] = lr
                row["t_cap"] = e.params["t_cap"]
                row["fw_deviation"] = e.corrected_fit.barrier / p.fw_slope - 1
                row["paper_over_fw"] = p.paper_slope / p.fw_slope
                label = "C = I" if noise == "isotropic" else "C = H"
                if d == 2 and dynamics == "continuous":
                    ref = _exact_reference(e)
                    row["exact"] = ref
                    for q in ref["points"]:
                        exact_table.append([f"{alpha:g}", f"{r:g}", label, f"{q['inverse_noise']:.3f}",
                                            f"{q['exact']:.4g}", f"{q['mean']:.4g} ± {q['stderr']:.2g}",
                                            f"{q['ratio']:.3f} ± {q['ratio_stderr']:.3f}",
                                            f"{q['fw_estimate']:.4g}"])
                rows.append(row)
                name = f"sgd-exit-time-d{d}-a{alpha:g}-r{r:g}-{noise}-{dynamics}"
                results[name] = e.results
                table.append(_table_row(e, d, alpha))
    n_rows = len(rows)
    independent = len({r["seed"] for r in rows})  # every row has its own seed stream
    # Models distinct in law: SDE rows that differ only in alpha or r, and map rows that differ only in r, are
    # rescalings of one another (the map's eta lambda_max = 0.1 alpha is not).
    distinct = len({(r["d"], r["noise"]) + ((r["alpha"],) if r["dynamics"] == "discrete" else ()) for r in rows})
    n_bad = sum(1 for r in rows if not r["paper_agrees"])
    fw_dev = max(abs(r["fw_deviation"]) for r in rows)
    n_fw = sum(1 for r in rows if r["fw_agrees"])
    n_censored_rows = sum(1 for r in rows if r["rests_on_censoring"])
    continuous = [r for r in rows if r["dt"] is not None]
    worst_bias = max((abs(r["dt_bias"]["mean_relative"] or 0.0) for r in continuous), default=math.nan)
    statement = (f"003's slope disagrees with the simulation in {n_bad} of {n_rows} settings ({independent} "
                 f"independent runs of {distinct} models distinct in law); the Freidlin-Wentzell slope V0 is within {100 * fw_dev:.0f}% of the "
                 f"corrected simulated slope in all of them (inside its 95% interval in {n_fw})")
    exact_rows = [r for r in rows if r.get("exact")]
    exact_gap: dict[str, tuple[float, float]] = {}
    for noise in NOISES:
        gaps = [r["exact"]["exact_corrected_slope"] / r["fw_slope"] for r in exact_rows if r["noise"] == noise]
        if gaps:
            exact_gap[noise] = (min(gaps), max(gaps))
    ratios = np.array([q["ratio"] for r in exact_rows for q in r["exact"]["points"]])
    data: dict[str, Any] = {
        "params": {
            "model": "L = theta^T H theta / 2, H = alpha H_0; exit from |theta| < r starting at 0",
            "continuous": "d theta = -H theta dt + sqrt(eta / B) C^{1/2} dW (GaussianSGD.continuous, Euler-Maruyama "
                          "with the Brownian-bridge exit test; dt per row, chosen so that the scheme's exponent is "
                          f"within {DT_RTOL:g} of the SDE's at the largest B / eta)",
            "discrete": "theta_{k+1} = theta_k - eta H theta_k + (eta / sqrt(B)) C^{1/2} xi_k (GaussianSGD), time "
                        "k eta (no time step to choose: eta is the model's)",
            "noise": {"isotropic": "C = I", "hessian": "C = H"},
            "H0": {str(d): h.tolist() for d, h in base.items()},
            "alphas": alphas,
            "n_paths": n_paths,
            "time_range": list(time_range),
            "seeds": "row seed = SeedSequence(seed, spawn_key=(d, 1000 alpha, 1000 r, noise index, dynamics index))"
                     ".generate_state(1, uint64)[0] >> 1, common to the row's points",
            "slope": "of log E[tau] in B / eta, weighted least squares over 5 values of B / eta (eta fixed)",
            "corrected": "SDE rows: the same after dividing E[tau] by (B / eta)^(-m / 2), m the number of directions "
                         "the exit set spans; map rows: by (B / eta)^(1/2 - m / 2), midway between the SDE's prefactor "
                         "and the jump limit's (B / eta)^(1 - m / 2), V0 compared with the span of both ends' "
                         "intervals (docs/theory.md)",
            "dt_bias": "mean at dt minus its dt -> 0 limit, from a run at 2 dt driven by the same Brownian paths "
                       "(order 1)",
        },
        "rows": rows,
        "summary": {
            "rows": n_rows,
            "independent": independent,
            "distinct_models": distinct,
            "paper_disagrees": n_bad,
            "fw_in_interval": n_fw,
            "max_abs_fw_deviation": fw_dev,
            "rows_resting_on_censoring": n_censored_rows,
            "max_abs_mean_dt_bias": finite(worst_bias),
            "exact_ratio_range": [finite(float(ratios.min())), finite(float(ratios.max()))] if ratios.size else None,
            "statement": statement,
        },
        "elapsed": elapsed,
    }
    small = _small_noise(experiments, base, n_paths, seed, threads, progress)
    data["small_noise"] = small["data"]
    data["summary"]["small_noise_statement"] = small["statement"]
    data["elapsed_monte_carlo"] = elapsed
    data["elapsed"] = elapsed + small["data"]["elapsed"]
    for name, estimate in small["results"].items():
        results[name] = estimate
    dt_lo = min(r["dt"] for r in continuous)
    dt_hi = max(r["dt"] for r in continuous)
    text = "\n".join([
        "Slope of log E[tau] in B / eta for SGD leaving |theta| < r around the minimum of theta^T H theta / 2",
        "(H = alpha H_0; continuous SDE and discrete map; C = I or C = H; "
        f"{n_paths} paths per point, 5 values of B / eta, a seed per row from seed {seed})",
        "FW: Freidlin-Wentzell V0 = min over |theta| = r of the quasi-potential (Lyapunov equation);",
        "003: 2 r^2 lambda_min (C = I) and 2 r^2 sqrt(lambda_min) (C = H), Theorems 1-2;",
        "fit: straight line; corrected: prefactor (B / eta)^(-power) divided out, power = m/2 for the SDE and "
        "m/2 - 1/2 for the map, whose FW check takes the span of the intervals at powers m/2 - 1 and m/2 (95% "
        "intervals);",
        "dt: the SDE's step (the map has none: its step eta is the model); dt bias: of the row's means, averaged over",
        "its points, from a run at 2 dt on the same Brownian paths; cens.: most censored paths at a point",
        "",
        format_table(["d", "alpha", "r", "noise", "SGD", "dt", "dt bias", "cens.", "fit [95%]", "corrected [95%]",
                      "power", "FW", "003", "003 vs simulation"], table),
        "",
        statement + ".",
        ("No row's mean rests on more than 10% censored paths." if n_censored_rows == 0 else
         f"{n_censored_rows} rows rest on more than 10% censored paths at some point (exponential MLE, flagged)."),
        "",
        *(["2-D SDE rows against the exact mean exit times (L u = -1 on the disk, analysis.linear_mean_exit_time) "
           "and the Freidlin-Wentzell (Laplace) estimate exp(V0 B / eta) x the flux prefactor:",
           format_table(["alpha", "r", "noise", "B/eta", "exact", "simulated", "simulated / exact", "FW"],
                        exact_table), ""] if exact_table else []),
        "003 drops the 1/2 of L = theta^T H theta / 2 (a factor 2) and, for C = H, writes C^{1/2} for C in its "
        "Hamilton-Jacobi equation: the exact answer for C = H is V0 = r^2, independent of the sharpness.",
        "The corrected slope still carries finite-noise terms: the next prefactor terms (a few % low, most for "
        "C = H). A map whose steps outgrow the boundary layer exits by jumping over it, with the prefactor "
        "(B / eta)^(1 - m/2) in that limit against the SDE's (B / eta)^(-m/2); at these B / eta it is between the "
        "two (for the exact 1-D map the local power is +0.22 at B / eta = 4, +0.39 at 8, +1/2 in the limit: "
        "docs/theory.md), so the map rows divide out the midway power and are checked against the span of both "
        "ends' intervals.",
        *([f"The exact means' corrected slope is {exact_gap['isotropic'][0]:.3f}-{exact_gap['isotropic'][1]:.3f} "
           f"V0 for C = I and {exact_gap['hessian'][0]:.3f}-{exact_gap['hessian'][1]:.3f} V0 for C = H in the 2-D "
           "SDE rows: the finite-noise part of their gap (the time step's part is the dt bias column)."]
          if exact_gap else []),
        f"{elapsed:.1f} s of Monte Carlo simulation, {small['data']['elapsed']:.1f} s of splitting.",
        "",
        small["text"],
    ])
    design = Design(
        dt=(f"SDE rows: per row, {dt_lo:.2g} to {dt_hi:.2g}, so that the Euler-Maruyama scheme's exponent is within "
            f"{DT_RTOL:g} of the SDE's at the row's largest B / eta (bias measured at 2 dt: largest row average "
            f"{100 * worst_bias:.1f}%); map rows: none (the step eta is the model)"),
        paths=f"{n_paths} per point at dt, and the same {n_paths} Brownian paths at 2 dt for the bias (SDE rows)",
        seeds=(f"one per row, from seed {seed} and the row's (d, alpha, r, noise, dynamics) by numpy's SeedSequence "
               f"(listed in the JSON); common to the row's 5 points. SDE rows that differ only in alpha or r, and "
               f"map rows that differ only in r, are rescalings of one another in law: the {independent} "
               f"independent runs cover {distinct} distinct models"),
        censoring=(f"time cap 40 x 150 / lambda_min, raised for a row until at most 10% of any point's paths are "
                   f"censored; {n_censored_rows} rows rest on more than 10%; a censored point's mean is the "
                   f"exponential MLE"),
        rows=n_rows, independent=independent)
    return Report(data=data, text=text, results=results, design=design)
