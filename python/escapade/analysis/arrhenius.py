"""Arrhenius fits: the barrier (or quasi-potential) and prefactor of log E[tau] = log(prefactor) + barrier * x,
with x = 1 / T, 1 / eps^2 or any inverse noise level (such as B / eta for SGD)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validate import LOG_MAX, as_float, real_array
from ..results import Estimate, EstimateLevel, SimulationResult, SweepResult, sensitivity_cost, sensitivity_per_path
from .estimates import LevelStatistic, check_confidence, normal_quantile, point_mean

__all__ = ["ArrheniusFit", "arrhenius_fit", "arrhenius_fit_sweep"]

# what the first argument of `arrhenius_fit` holds, and the abscissa x of the fit it gives
_X = ("temperature", "eps", "inv_eps2", "inverse")
_SCALES = ("temperature", "eps", "inverse")  # the older keyword `scale`, kept
# The largest |power| of the prefactor accepted (m / 2 for an exit set spanning m directions).
MAX_POWER = 1e6


def abscissa(x: str | None, scale: str | None, values: np.ndarray) -> np.ndarray:
    """The fit's abscissa from the noise levels `values`, read as `x` says (or the older `scale`)."""
    if x is not None and x not in _X:
        raise ValueError(f"x must be one of {_X} (what the noise levels are), got x={x!r}")
    if scale is not None and scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, got scale={scale!r}; better, say what the noise levels "
                         f"are with x= (one of {_X})")
    if x is not None and scale is not None and x != scale:
        raise ValueError(f"x={x!r} and scale={scale!r} disagree on what the noise levels are: give x= only")
    if x is None and scale == "eps":
        if float(values.min()) > 1:
            raise ValueError(f"scale='eps' reads noise as eps and fits against 1/eps^2, but every noise level is "
                             f"above 1 (noise={values.tolist()}): if these are 1/eps^2 say x='inv_eps2', if they "
                             "are eps say x='eps'")
        warnings.warn("arrhenius_fit(scale='eps') is ambiguous (the fit's abscissa is 1/eps^2, not eps): say "
                      "x='eps' when noise holds eps, x='inv_eps2' when it holds 1/eps^2", DeprecationWarning,
                      stacklevel=3)
    kind = x if x is not None else scale if scale is not None else "temperature"
    if kind == "temperature":
        return 1.0 / values
    if kind == "eps":
        return 1.0 / values**2
    return values


@dataclasses.dataclass(frozen=True)
class ArrheniusFit:
    """A fitted Arrhenius law mean = prefactor * x^(-power) * exp(barrier * x) (see `arrhenius_fit`).

    Attributes
    ----------
    barrier : the slope of log(mean) in x (a barrier for x = 1 / T, a quasi-potential V0 for x = 1 / eps^2).
    barrier_stderr, barrier_ci : its standard error and confidence interval.
    prefactor, prefactor_ci : exp(intercept) and its interval; log_prefactor_stderr : SE of the intercept.
    power : the fixed power of the prefactor that was divided out (0 for the plain law).
    chi2, dof, p_value : weighted residual sum of squares, n - 2 and the chi-square goodness-of-fit p-value
        (NaN without standard errors).
    confidence : the level of the intervals.
    """

    barrier: float
    barrier_stderr: float
    barrier_ci: tuple[float, float]
    prefactor: float
    log_prefactor_stderr: float
    prefactor_ci: tuple[float, float]
    power: float
    chi2: float
    dof: int
    p_value: float
    confidence: float

    def predict(self, x: ArrayLike) -> np.ndarray:
        """The fitted mean at inverse noise levels x."""
        xx = real_array("x", x)
        return self.prefactor * xx ** (-self.power) * np.exp(self.barrier * xx)


def _positive(name: str, value: Any) -> np.ndarray:
    a = real_array(name, value)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a) & (a > 0)):
        raise ValueError(f"{name} must be finite and positive, got {name}={a.tolist()}")
    return a


def check_series(
    noise: ArrayLike, mean: ArrayLike, stderr: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Noise levels, mean exit times and (optional) standard errors as float arrays: non-empty, 1-D, finite,
    positive and of one length; raises TypeError/ValueError naming the argument (`plot.arrhenius` checks with it)."""
    level = _positive("noise", noise)
    m = _positive("mean", mean)
    if m.shape != level.shape:
        raise ValueError(f"noise and mean must have the same length, got {level.size} and {m.size}")
    se = None if stderr is None else _positive("stderr", stderr)
    if se is not None and se.shape != level.shape:
        raise ValueError(f"stderr must have one entry per noise level, got {se.size} for {level.size}")
    return level, m, se


def arrhenius_fit(
    noise: ArrayLike | SimulationResult, mean: ArrayLike | None = None, stderr: ArrayLike | None = None, *,
    x: str | None = None, scale: str | None = None, power: float = 0.0, confidence: float = 0.95,
    mode: str = "global", parameter: str | None = None,
) -> Any:
    """Weighted least-squares fit of log mean = log(prefactor) - power * log x + barrier * x; or, with
    mode="local", the local slope d log E[tau] / dx at one noise level from one run.

    Parameters
    ----------
    mode : "global" (the fit over noise levels, an `ArrheniusFit`) or "local": `noise` is then one
        `SimulationResult` run with ``sensitivities=["dynamics.temperature"]`` (or ``"dynamics.eps"``), and the
        answer is an `Estimate` of d log E[tau] / d(1/T) = -T^2 (dE[tau]/dT) / E[tau] (or d log E[tau] / d(1/eps^2)
        = -(eps^3 / 2) (dE[tau]/deps) / E[tau]) with its interval (delta method over the paths' joint terms), the
        slope the global fit's `barrier` estimates over a range. parameter : the run's noise parameter (default:
        whichever of the two it has). mean, stderr, x, scale, power are not used.
    noise : (n,) positive noise levels, read as `x` says.
    x : what `noise` holds, and so the abscissa x of the fit: "temperature" (temperatures T, x = 1 / T; the
        default), "eps" (noise amplitudes eps, x = 1 / eps^2, the Freidlin–Wentzell form exp(V0 / eps^2)),
        "inv_eps2" (1 / eps^2 itself, x = noise) or "inverse" (any inverse noise level, such as B / eta; x = noise).
        "eps" and "inv_eps2" give the same fit of the same data, and so do "temperature" with T and "inverse" with
        1 / T.
    scale : the older name of `x`, kept: ``scale="temperature"`` and ``scale="inverse"`` are ``x=`` of the same
        name; ``scale="eps"`` still reads noise as eps but warns (DeprecationWarning: the name does not say whether
        it is the fit's abscissa 1 / eps^2), and refuses noise levels that are all above 1, which look like
        1 / eps^2. Giving both `x` and `scale` is an error unless they agree.
    mean : (n,) positive mean exit times.
    stderr : (n,) their standard errors; the weights are 1 / (stderr / mean)^2 (the delta method for log mean) and
        the parameter errors follow from them. Without, the points are weighted equally and the errors come from
        the residual scatter (Student t intervals; needs n >= 3).
    power : a known power of the prefactor, mean ~ x^(-power) exp(barrier x), divided out before the fit (0: the
        plain Arrhenius law). For exit from a ball around a quadratic minimum, `power` = m / 2 with m the number
        of directions the exit set spans (see `LinearQuasiPotential.exit_multiplicity`); dividing it out removes
        the bias of order m / (2 x) that the straight-line fit otherwise puts on the barrier.
    confidence : level of the intervals.

    Returns
    -------
    ArrheniusFit
    """
    confidence = check_confidence(confidence)
    if mode not in ("global", "local"):
        raise ValueError(f"mode must be 'global' or 'local', got mode={mode!r}")
    if mode == "local":
        return _local_slope(noise, parameter, confidence)
    if isinstance(noise, SimulationResult) or mean is None:
        raise TypeError("arrhenius_fit needs noise levels and mean exit times (or mode='local' with a run that has "
                        f"sensitivities), got noise={type(noise).__name__}, mean={mean!r}")
    power = as_float("power", power)
    if abs(power) > MAX_POWER:  # power * log x would overflow, or the prefactor x^power would
        raise ValueError(f"power must be in [-{MAX_POWER:g}, {MAX_POWER:g}], got power={power!r}")
    level, m, se = check_series(noise, mean, stderr)
    u = abscissa(x, scale, level)
    if np.unique(u).size < 2:
        raise ValueError(f"an Arrhenius fit needs at least two distinct noise levels, got noise={level.tolist()}")
    y = np.log(m) + power * np.log(u)
    sigma = None if se is None else se / m
    with np.errstate(all="ignore"):
        sw = np.ones_like(u) if sigma is None else 1.0 / sigma
        design = np.column_stack([np.ones_like(u), u]) * sw[:, None]
        gram = design.T @ design
        finite = np.all(np.isfinite(gram)) and np.all(np.isfinite(y * sw))
    if not finite:  # LAPACK would fail on it ("illegal value")
        raise ValueError(f"the weighted fit overflows: stderr / mean is too small or 1 / noise too large for floating "
                         f"point, got noise={level.tolist()}, mean={m.tolist()}, stderr="
                         f"{None if se is None else se.tolist()}")
    coef, *_ = np.linalg.lstsq(design, y * sw, rcond=None)
    cov = np.linalg.inv(gram)
    dof = u.size - 2
    resid = (y - coef[0] - coef[1] * u) * sw
    chi2 = float(resid @ resid)
    from scipy import stats  # here: its import costs most of a second

    if sigma is None:
        cov = cov * (chi2 / dof) if dof > 0 else np.full_like(cov, np.nan)
        q = float(stats.t.ppf(0.5 + confidence / 2, dof)) if dof > 0 else math.nan
        chi2, p_value = math.nan, math.nan
    else:
        q = normal_quantile(confidence)
        p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan
    log_a, slope = float(coef[0]), float(coef[1])
    se_b, se_a = math.sqrt(cov[1, 1]), math.sqrt(cov[0, 0])
    if log_a > LOG_MAX or log_a + q * se_a > LOG_MAX:  # exp would overflow (a NaN interval, dof 0, passes)
        raise ValueError(f"the fitted prefactor exp({log_a:g}) (or its interval) is beyond floating point: check "
                         f"noise={level.tolist()}, mean={m.tolist()} and power={power!r}")
    return ArrheniusFit(barrier=slope, barrier_stderr=se_b, barrier_ci=(slope - q * se_b, slope + q * se_b),
                        prefactor=math.exp(log_a), log_prefactor_stderr=se_a,
                        prefactor_ci=(math.exp(log_a - q * se_a), math.exp(log_a + q * se_a)), power=float(power),
                        chi2=chi2, dof=dof, p_value=p_value, confidence=float(confidence))


def _local_slope(res: Any, parameter: str | None, confidence: float) -> Estimate:
    """d log E[tau] / d(1/T) (or d(1/eps^2)) from one run's likelihood-ratio terms."""
    if not isinstance(res, SimulationResult):
        raise TypeError(f"arrhenius_fit(mode='local') needs a SimulationResult run with sensitivities, got "
                        f"{type(res).__name__}")
    names = [p["parameter"] for p in res.params.get("sensitivities") or []]
    if parameter is None:
        found = [n for n in ("dynamics.temperature", "dynamics.eps") if n in names]
        if not found:
            raise ValueError("arrhenius_fit(mode='local') needs a run with sensitivities=['dynamics.temperature'] "
                             f"or ['dynamics.eps'], got sensitivities {names}")
        parameter = found[0]
    if parameter not in ("dynamics.temperature", "dynamics.eps"):
        raise ValueError(f"parameter must be 'dynamics.temperature' or 'dynamics.eps', got parameter={parameter!r}")
    y, notes, extra = sensitivity_per_path(res, "mean_exit_time", parameter)
    tau = res.exit_time
    theta = float(next(p for p in res.params["sensitivities"] if p["parameter"] == parameter)["value"])
    # d log E / dx with x = 1/T (dx = -dT/T^2) or x = 1/eps^2 (dx = -2 deps/eps^3)
    c = -theta**2 if parameter == "dynamics.temperature" else -theta**3 / 2
    m, d = float(np.mean(tau)), float(np.mean(y))
    value = c * d / m
    n = tau.size
    se = abs(c) / m * float(np.std(y - (d / m) * tau, ddof=1)) / math.sqrt(n)  # the delta method for d / m
    q = normal_quantile(confidence)
    x_name = "1/T" if parameter == "dynamics.temperature" else "1/eps^2"
    level_dt = float(res.params["dynamics"].get("dt", math.nan))
    paths, path_steps = sensitivity_cost(res, parameter)  # with finite differences, their four runs' too
    level = EstimateLevel(dt=level_dt, n_paths=paths, path_steps=path_steps, value=value, stderr=se,
                          censored=0, diverged=0, elapsed=res.elapsed)
    nan = math.nan
    return Estimate(quantity=f"d log mean_exit_time / d {x_name}", value=value,
                    interval=(value - q * se, value + q * se), confidence=confidence, stderr=se, bias=nan,
                    bias_stderr=nan, extrapolated=nan, extrapolated_stderr=nan, half_width_statistical=q * se,
                    half_width_bias=0.0, rtol=nan, reached=True,
                    message=f"local Arrhenius slope at {parameter} = {theta:g} from {n} paths", notes=tuple(notes),
                    levels=(level,), n_paths=paths, path_steps=path_steps, elapsed=res.elapsed,
                    params={**res.params, "arrhenius": {"mode": "local", "parameter": parameter, **extra}},
                    seed=res.seed, version=res.version)


def _point_estimate(res: Any, estimator: str) -> tuple[float, float, bool]:
    """(mean, stderr, identified) of one run: the censoring policy's mean (`point_mean`; not identified where paths
    did not stop: then a lower bound), or the censoring-aware exponential MLE."""
    if estimator == "mean":
        m = point_mean(res)
        return m.value, m.stderr, m.identified
    st = res.stats()
    k = st.n_stopped
    if k == 0:
        return math.nan, math.nan, True
    mle = (st.total_time + st.censored_time) / k
    return mle, mle / math.sqrt(k), True


def arrhenius_fit_sweep(
    sweep_result: Any, key: str, *, x: str | None = None, scale: str | None = None, estimator: str = "mean",
    power: float = 0.0, confidence: float = 0.95,
) -> ArrheniusFit:
    """`arrhenius_fit` of a `SweepResult` over the noise level `key` (its only varying grid key).

    Parameters
    ----------
    sweep_result : SweepResult
    key : the grid key of the noise level, e.g. ``"dynamics.temperature"`` or ``"dynamics.eps"``.
    x : what the key's values are, as in `arrhenius_fit`; default by the key's name: "temperature" for a
        temperature or a learning rate lr (SGD's temperature is lr C / (2 B)), "eps" for eps, "inverse" for
        batch_size; other keys need x=.
    scale : the older name of `x`, as in `arrhenius_fit`.
    estimator : "mean" (the mean exit time and its standard error by the censoring policy, `analysis.estimates`:
        DIVERGED paths left out) or "exponential" (the censoring-aware exponential MLE total time at risk / stops,
        standard error mean / sqrt(stops)). With "mean", a point where paths did not stop by the cap (CENSORED,
        CONVERGED or SINGULAR) has no identified mean, only the restricted mean E[min(tau, cap)], a lower bound: such
        points are refused by name (a ValueError), not fitted; use "exponential", a larger t_max, or a sweep without
        them. Points with fewer than two paths (no standard error) are left out.
    power, confidence : as in `arrhenius_fit`.
    """
    if not isinstance(sweep_result, SweepResult):
        raise TypeError(f"sweep_result must be an escapade SweepResult, got {type(sweep_result).__name__}")
    if key not in sweep_result.grid:
        raise ValueError(f"key={key!r} is not a key of the sweep's grid {list(sweep_result.grid)}")
    others = [k for k, v in sweep_result.grid.items() if k != key and len(v) > 1]
    if others:
        raise ValueError(f"the sweep also varies {others}: fit a sweep over {key!r} only")
    if x is None and scale is None:
        x = noise_kind(key)
    noise, means, errors, _, bounds = sweep_series(sweep_result, key, estimator)
    if bounds:
        raise ValueError(f"estimator='mean' fits mean exit times, but paths did not stop by the cap at "
                         f"{censored_points(key, bounds)}: the mean there is not identified, only the restricted mean "
                         "E[min(tau, cap)] (a lower bound; the censoring policy, analysis.estimates). Fit with "
                         "estimator='exponential' (the censoring-aware exponential MLE), rerun those points with a "
                         "larger t_max, or leave them out of the sweep")
    return arrhenius_fit(noise, means, errors, x=x, scale=scale, power=power, confidence=confidence)


# What a noise parameter's values are, by its name: a temperature-like level (the exponent goes as 1 / level: a
# temperature, a learning rate, whose SGD temperature is eta C / (2 B)), an amplitude (1 / eps^2) or an inverse level
# (the batch size).
_NOISE_KINDS = {"temperature": "temperature", "lr": "temperature", "eps": "eps", "batch_size": "inverse"}


def noise_kind(key: str) -> str:
    """The `x` of a sweep's noise key ("dynamics.temperature" -> "temperature", ...); ValueError asking for x= when
    the name does not say."""
    field = str(key).rpartition(".")[2]
    if field not in _NOISE_KINDS:
        raise ValueError(f"say what the values of {key!r} are with x= (one of {_X}): the fit's abscissa is 1 / T for "
                         f"a temperature-like level, 1 / eps^2 for an amplitude eps, the value itself for an inverse "
                         f"level; it is known for the keys {sorted(_NOISE_KINDS)} only")
    return _NOISE_KINDS[field]


Bound = tuple[Any, LevelStatistic, dict[str, Any]]  # a point without an identified mean: (level, point_mean, point)


def sweep_series(sweep_result: Any, key: str, estimator: str = "mean") -> tuple[
        list[Any], list[float], list[float], list[dict[str, Any]], list[Bound]]:
    """A sweep over `key` as (noise levels, mean exit times, standard errors, the grid points left out because
    they have no finite mean and positive standard error (e.g. fewer than two paths), and the points whose mean is
    not identified). The last are estimator="mean"'s points where paths did not stop by the cap (the censoring
    policy: `point_mean`), each as (noise level, its `point_mean`, the grid point): their value is the restricted
    mean, a lower bound, which must not be fitted as a mean."""
    if estimator not in ("mean", "exponential"):
        raise ValueError(f"estimator must be 'mean' or 'exponential', got estimator={estimator!r}")
    noise, means, errors, excluded, bounds = [], [], [], [], []
    for point, res in zip(sweep_result.points, sweep_result.results):
        m, se, identified = _point_estimate(res, estimator)
        if not identified and math.isfinite(m):
            bounds.append((point[key], point_mean(res), point))
        elif identified and math.isfinite(m) and math.isfinite(se) and se > 0:
            noise.append(point[key])
            means.append(m)
            errors.append(se)
        else:
            excluded.append(point)
    return noise, means, errors, excluded, bounds


def censored_points(key: str, bounds: list[Bound]) -> str:
    """The points of `sweep_series`' last list as text: "key=0.15 (38 of 200 paths at the cap: >= 10.76)", ..."""
    return ", ".join(f"{key}={level!r} ({m.censored} of {m.n + m.diverged} paths at the cap: >= {m.value:.4g})"
                     for level, m, _ in bounds)
