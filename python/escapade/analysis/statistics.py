"""Exit-time statistics with censoring: the mean with its standard error, Kaplan–Meier quantiles, the
maximum-likelihood exponential rate with its standard error and an exact chi-square interval, the coefficient of
variation, and tests of the exponential shape.

Escape from a deep well is a rare event, and its time is then close to exponential: a single rate describes it.
These functions measure that rate from a run (or from plain arrays of times) and check the shape, so that a
mean exit time can be compared with a theory (Eyring–Kramers, Freidlin–Wentzell) that predicts the rate.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from .._validate import as_float, as_int
from .estimates import check_confidence, normal_quantile
from .survival import KaplanMeier, censored_data, kaplan_meier, survival_data

__all__ = [
    "CoefficientOfVariation",
    "ExitTimeStatistics",
    "ExponentialFit",
    "ExponentialTest",
    "coefficient_of_variation",
    "exit_time_statistics",
    "exponential_fit",
    "exponential_test",
]

_TESTS = ("weibull", "lilliefors")
_CALIBRATIONS = ("auto", "chi2", "monte_carlo")
#: With fewer exits than this, calibration="auto" calibrates the Weibull test by Monte Carlo (chi-square is liberal).
_MONTE_CARLO_BELOW = 50


def _level(confidence: float) -> float:
    return check_confidence(confidence)  # also refuses levels so near 0 or 1 that the normal quantile is 0 or inf


def _times(times: Any, observed: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """(times, observed) from a SimulationResult or from arrays."""
    if hasattr(times, "status") or hasattr(times, "exit_stats"):
        if observed is not None:
            raise ValueError("observed goes with an array of times, not with a result (it has its own statuses)")
        return survival_data(times)
    return censored_data(times, observed)


def _no_times(times: Any) -> ValueError:
    """The error for empty times: for a result, every path DIVERGED (the others are events or censored)."""
    if not hasattr(times, "status"):
        return ValueError("times must not be empty")
    n = int(times.status.size)
    return ValueError(f"times: no path of the result EXITED or HIT, and none was censored: all {n} of its paths "
                      f"DIVERGED (diverged {n}, censored 0), and diverged paths are left out (a divergence is not "
                      "an exit time), so there are no times to use; take a smaller step (dt, or a discrete map's lr) "
                      "or a stop region that ends the paths before they diverge")


@dataclasses.dataclass(frozen=True)
class ExponentialFit:
    """Maximum-likelihood exponential law of right-censored times.

    Attributes
    ----------
    rate : events / exposure, the MLE of the rate; its reciprocal `mean` is the MLE of the mean.
    rate_ci, mean_ci : (low, high) confidence intervals (see `exponential_fit` for how they are computed).
    rate_stderr : rate / sqrt(events), from the Fisher information (NaN without events).
    mean_stderr : mean / sqrt(events), the same by the delta method (NaN without events).
    events : number of observed times; censored : number of censored ones.
    exposure : total time at risk, the sum of all times (observed and censored).
    confidence : the level of the intervals.
    """

    rate: float
    rate_ci: tuple[float, float]
    rate_stderr: float
    mean: float
    mean_ci: tuple[float, float]
    events: int
    censored: int
    exposure: float
    confidence: float
    mean_stderr: float = math.nan

    def __str__(self) -> str:
        return (f"exponential MLE mean {self.mean:.6g} ± {self.mean_stderr:.2g} [{self.mean_ci[0]:.6g}, "
                f"{self.mean_ci[1]:.6g}] ({self.events} events, {self.censored} censored, "
                f"{100 * self.confidence:g}% interval)")


def exponential_fit(times: Any, observed: ArrayLike | None = None, *, confidence: float = 0.95) -> ExponentialFit:
    """Fit an exponential law to right-censored exit times by maximum likelihood.

    With d events and total time at risk E = sum of all times (censored ones up to their censoring time), the
    log-likelihood d log(rate) - rate E is maximal at rate = d / E, whatever the censoring times are. Its
    standard error is rate / sqrt(d) (the observed Fisher information d / rate^2), and that of the mean 1 / rate is
    mean / sqrt(d) (the delta method).

    The interval is exact, from the chi-square law: without censoring 2 rate E ~ chi2(2d), so
    [chi2_{a/2}(2d), chi2_{1-a/2}(2d)] / (2E); with censoring at fixed times (a time cap) the upper end uses
    2d + 2 degrees of freedom, the usual conservative interval for time-terminated data. With no event the rate is
    0 and only the upper end is informative.

    Parameters
    ----------
    times : (n,) array of times, or a SimulationResult (its stopped paths are events, its censored paths are
        censored at the cap, diverged paths are left out; see `survival_data`; a ValueError says so when every
        path diverged).
    observed : (n,) booleans, True for an event; default all True. Only with an array of times.
    confidence : level of the intervals, default 0.95.

    Returns
    -------
    ExponentialFit
    """
    level = _level(confidence)
    t, o = _times(times, observed)
    if t.size == 0:
        raise _no_times(times)
    with np.errstate(over="ignore"):  # an infinite sum is refused below
        d, exposure = int(o.sum()), float(t.sum())
    censored = int(t.size - d)
    if not 0 < exposure < math.inf:
        raise ValueError(f"times must have a positive finite sum (the exposure), got {exposure}")
    alpha = 1.0 - level
    rate = d / exposure
    if not rate < math.inf:  # events over a subnormal exposure
        raise ValueError(f"times sum to {exposure!r} for {d} events: a rate that overflows")
    from scipy import stats  # here: its import costs most of a second

    low = float(stats.chi2.ppf(alpha / 2, 2 * d)) / (2 * exposure) if d > 0 else 0.0
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * d + (2 if censored else 0))) / (2 * exposure)
    mean = 1.0 / rate if d else math.inf
    mean_ci = (1.0 / high, 1.0 / low if low > 0 else math.inf)
    return ExponentialFit(rate=rate, rate_ci=(low, high), rate_stderr=rate / math.sqrt(d) if d else math.nan,
                          mean=mean, mean_ci=mean_ci, events=d, censored=censored, exposure=exposure,
                          confidence=level, mean_stderr=mean / math.sqrt(d) if d else math.nan)


@dataclasses.dataclass(frozen=True)
class ExponentialTest:
    """A test of the hypothesis "the exit times are exponential".

    Attributes
    ----------
    method : "weibull" (likelihood ratio against a Weibull law, censoring-aware) or "lilliefors" (Kolmogorov–
        Smirnov with the rate estimated, uncensored times only).
    statistic : 2 (log L_Weibull - log L_exponential), or the KS distance.
    p_value : small when the times are not exponential.
    shape : the fitted Weibull shape k (1 for an exponential law; k > 1 means exits are rarer early on than an
        exponential law allows, as for a path that must first travel to the boundary) and `shape_ci`, its
        profile-likelihood interval; NaN for "lilliefors". Identical event times (a deterministic exit) have
        shape inf (the likelihood grows without bound in k) and statistic inf; shapes beyond e^-96 or e^96 are
        reported as 0 or inf.
    calibration : how `p_value` was computed: "chi2" (Wilks' chi-square law) or "monte_carlo" (the statistic's
        law simulated under the fitted exponential law, `n_mc` samples).
    """

    method: str
    statistic: float
    p_value: float
    shape: float
    shape_ci: tuple[float, float]
    calibration: str = "chi2"


def _weibull_profile(logs: np.ndarray, o: np.ndarray, count: np.ndarray | None = None) -> tuple[Any, Any]:
    """Profile log-likelihood of the Weibull shape k (scale maximized out) for censored times given by their
    logarithms `logs` (any common shift of them, a change of time unit, changes it by a constant only), as a
    function of log k, and k times its derivative in k (the same sign as the score; decreasing, the profile being
    concave in k). `count`: how many times each entry stands for (censored ones at a common cap, say; default 1)."""
    count = np.ones(logs.shape) if count is None else count
    d = int(count[o].sum())
    log_t = float(count[o] @ logs[o])

    def powers(log_k: float) -> tuple[float, float, np.ndarray]:
        k = math.exp(log_k)
        a = k * logs  # t^k = exp(a), summed stably
        m = float(a.max())
        return k, m, count * np.exp(a - m)

    def loglik(log_k: float) -> float:
        k, m, w = powers(log_k)
        log_sum = m + math.log(float(w.sum()))
        return d * log_k - d * (log_sum - math.log(d)) + (k - 1) * log_t - d

    def score(log_k: float) -> float:
        k, _, w = powers(log_k)
        return d + k * (log_t - d * float(w @ logs) / float(w.sum()))

    return loglik, score


def _weibull_statistic(t: np.ndarray, o: np.ndarray, count: np.ndarray | None = None) -> tuple[float, Any, float]:
    """The likelihood-ratio statistic 2 (log L(k_hat) - log L(1)) of positive censored times (`count`: as in
    `_weibull_profile`), with the profile log-likelihood (of log k) and log k_hat."""
    logs = np.log(t)
    # in units of the times' geometric mean: log-times span at most about 1420 whatever the times are (1e-300 and
    # 1e300 together), where t / mean(t) would underflow to 0 or overflow
    loglik, score = _weibull_profile(logs - float(logs.mean()), o, count)
    if not math.isfinite(loglik(0.0)):
        raise ValueError(f"times give a Weibull likelihood that is not finite (times from {float(t.min())!r} to "
                         f"{float(t.max())!r})")
    u_hat = _log_shape_fit(score)
    # at the limit the likelihood still grows (identical event times: k -> infinity), without bound
    statistic = max(0.0, 2.0 * float(loglik(u_hat) - loglik(0.0))) if abs(u_hat) < _LOG_SHAPE_LIMIT else math.inf
    return statistic, loglik, u_hat


def _weibull_monte_carlo_p(t: np.ndarray, o: np.ndarray, statistic: float, n_mc: int, seed: int) -> float:
    """The Weibull statistic's p-value under the fitted exponential law, by simulation: each sample draws
    exponential times at the censoring-aware rate, censored where the data were (a censored time at its own value,
    an observed one at the largest censored time: the time cap of a run; none without censoring); samples with
    fewer than 2 exits, which have no statistic, are drawn again, at most 100 n_mc times in all (then p counts the
    samples drawn). Without censoring the statistic's law does not depend on the rate, and the p-value is exact but
    for the Monte Carlo error. Censoring at one cap (a run's t_max) costs O(exits) per sample, not O(times): the
    number of exits is binomial, their times exponential below the cap, and the rest one entry counted n - d times."""
    n = t.size
    rate = float(o.sum()) / float(t.sum())
    c = float(t[~o].max()) if not o.all() else math.inf  # the largest censored time: the run's cap
    one_cap = not o.all() and bool(np.all(t[~o] == c)) and bool(np.all(t[o] <= c))
    cap = np.where(o, c, t)  # each time's own cap
    p_exit = -math.expm1(-rate * c)
    rng = np.random.default_rng(seed)
    exceed = done = 0
    for _ in range(100 * n_mc):  # bounded: samples have 2 exits about as often as data like these
        if done == n_mc:
            break
        if one_cap:
            d = int(rng.binomial(n, p_exit))
            if d < 2:
                continue
            exits = -np.log1p(-rng.random(d) * p_exit) / rate  # exponential, conditioned below the cap
            if d == n:
                value = _weibull_statistic(exits, np.ones(d, dtype=bool))[0]
            else:
                value = _weibull_statistic(np.append(exits, c), np.arange(d + 1) < d, np.append(np.ones(d), n - d))[0]
        else:
            s = rng.exponential(1.0 / rate, n)
            ob = s < cap
            if ob.sum() < 2:
                continue
            value = _weibull_statistic(np.minimum(s, cap), ob)[0]
        done += 1
        exceed += value >= statistic
    return (1 + exceed) / (1 + done)


def exponential_test(
    times: Any, observed: ArrayLike | None = None, *, method: str = "weibull", confidence: float = 0.95,
    calibration: str = "auto", n_mc: int = 2000, seed: int = 0,
) -> ExponentialTest:
    """Test whether right-censored exit times are exponential.

    ``method="weibull"`` (the default) is a likelihood-ratio test of the exponential law inside the Weibull family
    S(t) = exp(-(t / s)^k): both fitted by maximum likelihood with censoring (the scale profiled out in closed
    form), the statistic 2 (log L(k_hat) - log L(1)) is chi-square with one degree of freedom under the
    exponential hypothesis as the number of exits grows (Wilks). It uses censored times correctly and also returns
    the fitted shape with its profile-likelihood interval, which says in which direction a rejected law departs.
    With few exits the chi-square law is only approximate and the test liberal (at level 0.05 exponential samples
    are rejected 10.6% of the time with 5 exits, 7.0% with 10, 6.5% with 20 and 4.9% with 50; 4,000 samples each),
    so below 50 exits `calibration="auto"` (the default) simulates the statistic's law instead: `n_mc` samples of
    the fitted exponential law with the data's censoring (`seed`), p = (1 + #{statistic >= observed}) / (1 + n_mc),
    which rejects 5.3% with 5 exits and 5.6% with 10 (1,000 samples each, n_mc = 999; chi-square 11.8% and 8.2%
    of the same samples), and 4.1% of 15 times censored at a cap (about 9.5 exits; chi-square 4.8%). ``"chi2"`` and
    ``"monte_carlo"`` choose either whatever the number of exits. The shape's interval is profile likelihood at
    every size, and covers less than it says with few exits (92% at 10 exits for 95%).

    ``method="lilliefors"`` is the Kolmogorov–Smirnov distance between the empirical law and the exponential law
    with the rate estimated from the same data; its null law is not Kolmogorov's (the estimate pulls the fit
    closer), so the p-value is computed by Monte Carlo under the fitted law (Lilliefors' exponential test,
    `scipy.stats.goodness_of_fit`, `n_mc` samples, `seed`). Uncensored times only.

    The Weibull fit works with the logarithms of the times in units of their geometric mean (the profile
    likelihood of the shape does not depend on the unit), so any positive floats are taken, 1e-300 and 1e300
    together included.

    Parameters
    ----------
    times, observed : as in `exponential_fit`; every event time must be positive.
    method : "weibull" or "lilliefors".
    confidence : level of the interval of the Weibull shape.
    calibration : the Weibull p-value's null law: "auto", "chi2" or "monte_carlo" (above; Lilliefors' is always by
        Monte Carlo).
    n_mc, seed : Monte Carlo samples and seed of a simulated p-value.

    Returns
    -------
    ExponentialTest
    """
    if not isinstance(method, str) or method not in _TESTS:  # `in` on an array would compare elementwise
        raise ValueError(f"method must be one of {_TESTS}, got method={method!r}")
    if not isinstance(calibration, str) or calibration not in _CALIBRATIONS:
        raise ValueError(f"calibration must be one of {_CALIBRATIONS}, got calibration={calibration!r}")
    level = _level(confidence)
    t, o = _times(times, observed)
    if t.size == 0:
        raise _no_times(times)
    d = int(o.sum())
    if d < 2:
        raise ValueError(f"testing the exponential shape needs at least 2 observed times, got {d}")
    if np.any(t[o] <= 0):
        raise ValueError(f"times must be positive for the events, got {float(t[o].min())}")
    from scipy import stats  # here: its import costs most of a second

    if method == "lilliefors" or calibration != "chi2":  # a simulated p-value
        n_mc = as_int("n_mc", n_mc, minimum=1)
        seed = as_int("seed", seed, minimum=0, maximum=2**32 - 1)  # numpy's legacy seeds, which scipy takes
    if method == "lilliefors":
        if d < t.size:
            raise ValueError(f"method='lilliefors' needs uncensored times; {t.size - d} are censored: use "
                             "method='weibull'")
        res = stats.goodness_of_fit(stats.expon, t, known_params={"loc": 0.0}, statistic="ks",
                                    n_mc_samples=n_mc, random_state=seed)
        return ExponentialTest("lilliefors", float(res.statistic), float(res.pvalue), math.nan, (math.nan, math.nan),
                               "monte_carlo")
    keep = t > 0  # a censored time of 0 carries no information
    t, o = t[keep], o[keep]
    statistic, loglik, u_hat = _weibull_statistic(t, o)
    best = loglik(u_hat)
    cut = float(stats.chi2.ppf(level, 1)) / 2

    def excess(u: float) -> float:
        return best - loglik(u) - cut

    low, high = (_interval_end(excess, u_hat, side) for side in (-1.0, 1.0))
    if abs(u_hat) >= _LOG_SHAPE_LIMIT:  # an unbounded likelihood: no finite k is within the cut of its supremum
        low = high = u_hat * math.inf
    shape = math.exp(u_hat) if abs(u_hat) < _LOG_SHAPE_LIMIT else math.copysign(math.inf, u_hat)  # inf or 0
    if calibration == "auto":
        calibration = "monte_carlo" if d < _MONTE_CARLO_BELOW else "chi2"
    if not math.isfinite(statistic):  # identical event times: probability 0 under any exponential law
        calibration = "chi2"
    p_value = (_weibull_monte_carlo_p(t, o, statistic, n_mc, seed) if calibration == "monte_carlo"
               else float(stats.chi2.sf(statistic, 1)))
    return ExponentialTest("weibull", statistic, p_value, shape, (math.exp(low), math.exp(high)), calibration)


#: |log k| beyond which the Weibull shape counts as 0 or infinite (k = 3e-42 or 2.6e41): identical event times
#: have k -> infinity, and the likelihood is flat to rounding well before.
_LOG_SHAPE_LIMIT = 96.0


def _log_shape_fit(score: Any) -> float:
    """The log shape maximizing the profile likelihood: the root of its decreasing `score`, bracketed in [-6, 6]
    and the bracket doubled until it holds the root, up to +-`_LOG_SHAPE_LIMIT` (then that limit: k 0 or inf)."""
    low, high = -6.0, 6.0
    while score(low) < 0 and low > -_LOG_SHAPE_LIMIT:
        low, high = max(2 * low, -_LOG_SHAPE_LIMIT), low
    while score(high) > 0 and high < _LOG_SHAPE_LIMIT:
        low, high = high, min(2 * high, _LOG_SHAPE_LIMIT)
    if score(low) <= 0:
        return low
    if score(high) >= 0:
        return high
    return float(optimize.brentq(score, low, high, xtol=1e-12))


def _interval_end(excess: Any, u_hat: float, side: float) -> float:
    """The end of the profile-likelihood interval on `side` (-1 or +1) of `u_hat`: where `excess` turns positive,
    searched at steps doubling from 2; +-`_LOG_SHAPE_LIMIT` (an end at 0 or infinity) if it stays below."""
    step = 2.0
    while True:
        u = max(min(u_hat + side * step, _LOG_SHAPE_LIMIT), -_LOG_SHAPE_LIMIT)
        if excess(u) > 0:
            return float(optimize.brentq(excess, *sorted((u_hat, u))))
        if abs(u) >= _LOG_SHAPE_LIMIT:
            return side * math.inf
        step *= 2


def _weibull_cv(k: float) -> float:
    """sd / mean of a Weibull law of shape k: sqrt(Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 - 1)."""
    try:
        return math.sqrt(math.expm1(math.lgamma(1 + 2 / k) - 2 * math.lgamma(1 + 1 / k)))
    except (OverflowError, ZeroDivisionError):  # k near 0 (the end of a wide interval): beyond floating point
        return math.inf


@dataclasses.dataclass(frozen=True)
class CoefficientOfVariation:
    """The coefficient of variation sd / mean of exit times (1 for an exponential law), see
    `coefficient_of_variation`.

    Attributes
    ----------
    value, stderr, ci : the estimate, its standard error and its interval at `confidence`.
    method : "sample" (the sample coefficient of variation of uncensored times) or "weibull" (that of the Weibull
        law fitted by maximum likelihood with censoring).
    events, censored : how many times were observed and censored.
    confidence : the level of the interval.
    """

    value: float
    stderr: float
    ci: tuple[float, float]
    method: str
    events: int
    censored: int
    confidence: float

    def __str__(self) -> str:
        return (f"CV {self.value:.3g} ± {self.stderr:.2g} [{self.ci[0]:.3g}, {self.ci[1]:.3g}] "
                f"({self.method})")


def coefficient_of_variation(
    times: Any, observed: ArrayLike | None = None, *, confidence: float = 0.95,
) -> CoefficientOfVariation:
    """The coefficient of variation sd / mean of exit times, with its standard error and interval.

    An exponential law has 1, whatever its rate: a value near 1 says the exits are rare events, the regime where
    Eyring–Kramers and Freidlin–Wentzell apply; a value well below 1 says the paths need a rise time (they travel to
    the boundary rather than wait for a fluctuation), a value above 1 a mixture of fast and slow exits.

    Without censoring it is the sample value s / mean (s with n - 1 in the denominator), its standard error the
    delta method with the sample moments, Var ~ (c^4 + (m4 - m2^2) / (4 m2 mean^2) - c m3 / (m2^(1/2) mean^2)) / n
    (1 / n for an exponential law), and the interval value ± z stderr. With censored times the sample value is not
    identified (the tail beyond the cap is unseen); it is then that of the Weibull law fitted with censoring
    (`exponential_test`'s shape k: c = sqrt(Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 - 1)), its interval the image of the
    shape's profile-likelihood interval and its standard error that interval's half width over z.

    Parameters
    ----------
    times, observed : as in `exponential_fit` (a SimulationResult, or arrays; a ValueError when there are no times,
        which says so when every path of a run diverged).
    confidence : level of the interval.

    Returns
    -------
    CoefficientOfVariation (NaN with fewer than 3 events, and with censored times and an event at time 0).
    """
    level = _level(confidence)
    t, o = _times(times, observed)
    if t.size == 0:
        raise _no_times(times)
    return _coefficient_of_variation(t, o, level)


def _coefficient_of_variation(t: np.ndarray, o: np.ndarray, level: float,
                              test: ExponentialTest | None = None) -> CoefficientOfVariation:
    """`coefficient_of_variation` of censored times (t, o); `test`: their `exponential_test` at `level` if the
    caller has it already (its Weibull fit is the censored case's)."""
    d, n = int(o.sum()), int(t.size)
    z = normal_quantile(level)
    nan = CoefficientOfVariation(math.nan, math.nan, (math.nan, math.nan), "sample" if d == n else "weibull", d,
                                 n - d, level)
    if d < 3:
        return nan
    if d == n:
        mu = float(t.mean())
        if not mu > 0:
            return nan
        c = float(t.std(ddof=1)) / mu
        dev = t - mu
        m2, m3, m4 = (float(np.mean(dev**k)) for k in (2, 3, 4))
        if m2 == 0:
            return CoefficientOfVariation(0.0, 0.0, (0.0, 0.0), "sample", d, 0, level)
        var = (c**4 + (m4 - m2**2) / (4 * m2 * mu**2) - c * m3 / (math.sqrt(m2) * mu**2)) / n
        se = math.sqrt(max(var, 0.0))
        return CoefficientOfVariation(c, se, (max(c - z * se, 0.0), c + z * se), "sample", d, 0, level)
    if np.any(t[o] <= 0):
        return nan
    w = test if test is not None else exponential_test(t, o, confidence=level, calibration="chi2")  # shape only
    c = _weibull_cv(w.shape)
    ci = (_weibull_cv(w.shape_ci[1]), _weibull_cv(w.shape_ci[0]))  # decreasing in k
    return CoefficientOfVariation(c, (ci[1] - ci[0]) / (2 * z), ci, "weibull", d, n - d, level)


@dataclasses.dataclass(frozen=True)
class ExitTimeStatistics:
    """Exit-time statistics of a run or of arrays of censored times (see `exit_time_statistics`).

    Attributes
    ----------
    n : number of times; events, censored : how many were observed and censored.
    mean, stderr, mean_ci : the sample mean of the observed times, its standard error and normal interval. With
        censoring this mean is conditional on exiting before the cap (biased low); use `exponential.mean`.
    quantiles : q -> the Kaplan–Meier q-quantile, the first event time t with S(t) <= 1 - q (censoring-aware);
        NaN where the curve never gets that low.
    kaplan_meier : the survival curve.
    exponential : the exponential fit (censoring-aware MLE of the rate and the mean).
    exponential_test : the Weibull likelihood-ratio test of the exponential shape (None with fewer than 2 events,
        or with an event at time 0, which no Weibull law puts mass on: a path that started outside `stop`).
    cv : the coefficient of variation (`coefficient_of_variation`; 1 for an exponential law; NaN with censored
        times and an event at time 0, since it then comes from the Weibull fit).
    """

    n: int
    events: int
    censored: int
    mean: float
    stderr: float
    mean_ci: tuple[float, float]
    quantiles: dict[float, float]
    kaplan_meier: KaplanMeier
    exponential: ExponentialFit
    exponential_test: ExponentialTest | None
    cv: CoefficientOfVariation | None = None

    def __str__(self) -> str:
        e = self.exponential
        text = (f"{self.n} times ({self.events} observed, {self.censored} censored): mean {self.mean:.6g} ± "
                f"{self.stderr:.2g}; exponential MLE mean {e.mean:.6g} ± {e.mean_stderr:.2g} [{e.mean_ci[0]:.6g}, "
                f"{e.mean_ci[1]:.6g}]")
        if self.cv is not None and math.isfinite(self.cv.value):
            text += f"; CV {self.cv.value:.3g} ± {self.cv.stderr:.2g}"
        if self.exponential_test is not None:
            x = self.exponential_test
            text += f"; Weibull shape {x.shape:.3g} (exponential law p = {x.p_value:.3g})"
        elif self.events >= 2 and self.kaplan_meier.time.size and self.kaplan_meier.time[0] == 0:
            text += "; no Weibull test (exits at time 0)"
        return text


def exit_time_statistics(
    times: Any, observed: ArrayLike | None = None, *, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    confidence: float = 0.95,
) -> ExitTimeStatistics:
    """Everything about a sample of exit times at once: mean ± SE, Kaplan–Meier quantiles, the exponential MLE
    with its standard error and interval, the coefficient of variation and the Weibull test of the exponential
    shape.

    Parameters
    ----------
    times, observed : as in `exponential_fit` (a SimulationResult, or arrays).
    quantiles : levels in (0, 1) of the quantiles to report.
    confidence : level of the intervals.

    Returns
    -------
    ExitTimeStatistics
    """
    level = _level(confidence)
    if isinstance(quantiles, (str, bytes)) or not np.iterable(quantiles):
        raise TypeError(f"quantiles must be a sequence of levels in (0, 1), got quantiles={quantiles!r}")
    qs = [as_float("quantiles", q) for q in quantiles]
    for q in qs:
        if not 0 < q < 1:
            raise ValueError(f"quantiles must lie in (0, 1), got {q!r}")
    t, o = _times(times, observed)
    if t.size == 0:
        raise _no_times(times)
    ev = t[o]
    mean = float(ev.mean()) if ev.size else math.nan
    stderr = float(ev.std(ddof=1) / math.sqrt(ev.size)) if ev.size > 1 else math.nan
    z = normal_quantile(level)
    km = kaplan_meier(t, o)
    qvals = {}
    for q in qs:
        below = np.flatnonzero(km.survival <= 1.0 - q + 1e-12)
        qvals[q] = float(km.time[below[0]]) if below.size else math.nan
    test = exponential_test(t, o, confidence=level) if ev.size >= 2 and np.all(ev > 0) else None
    return ExitTimeStatistics(n=int(t.size), events=int(ev.size), censored=int(t.size - ev.size), mean=mean,
                              stderr=stderr, mean_ci=(mean - z * stderr, mean + z * stderr), quantiles=qvals,
                              kaplan_meier=km, exponential=exponential_fit(t, o, confidence=level),
                              exponential_test=test, cv=_coefficient_of_variation(t, o, level, test))
