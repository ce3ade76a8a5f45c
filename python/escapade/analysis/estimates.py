"""Estimates from runs: the quantities an ensemble answers (a mean exit time, an exit or hit probability, a quantile
of the exit time, the probability of leaving through a given region) with their standard errors, the package's one
censoring policy, and the time-step bias read off a ladder of step sizes.

Censoring policy: a path still running at the cap (CENSORED) counts as surviving to the cap, and so does a path that
stopped without an exit (CONVERGED: the optimizer's own rule; SINGULAR: a constrained flow's Jacobian lost rank). A
mean exit time over such paths is then not identified; what the data do identify is the restricted mean E[min(tau,
t_max)] (the area under the Kaplan–Meier curve up to the cap: every path here is censored at the same cap, so it is
the sample mean of min(tau, t_max)), a lower bound of E[tau]. It is returned with `identified=False`. DIVERGED paths
are neither exits nor censorings: they are left out and counted, so that a result can say so.

Beyond the cap only a model of the tail can go: where exits are exponential (a deep well, the regime of
Freidlin–Wentzell and Eyring–Kramers, which `statistics.exponential_test` checks), the censoring-aware maximum-
likelihood mean, total time at risk over exits (`statistics.exponential_fit` on `survival.survival_data`, the
same censoring), estimates E[tau] itself. The reproductions that compare mean exit times with such theories (SGD's
and the MLP's exit times) take it where paths are censored, and say so (their `estimator` column, the MLP's
`lower_bound` beside it); everything else reports the restricted mean.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from .._validate import as_array, as_float, check_confidence
from ..results import UNSTOPPED, SimulationResult, Status, censoring_time
from .survival import censored_data

__all__ = ["MEAN_QUANTITIES", "QUANTITIES", "DtBias", "LevelStatistic", "censored_mean", "check_confidence", "dt_bias",
           "mean_stderr", "normal_quantile", "path_values", "point_mean", "quantity_of"]

QUANTITIES = ("mean_exit_time", "exit_probability", "hit_probability", "quantile", "exit_through")
# The quantities that are means of a per-path value (multilevel Monte Carlo applies to them).
MEAN_QUANTITIES = ("mean_exit_time", "exit_probability", "hit_probability", "exit_through")
# The orders of the dt bias accepted: Euler-Maruyama's are 1/2 and 1, higher schemes' 2 to 4.
MIN_ORDER, MAX_ORDER = 0.01, 100.0


def check_quantile_level(q: Any) -> float:
    """`q`, the level of quantity='quantile', as a float in (0, 1); TypeError/ValueError naming it otherwise."""
    if q is None:
        raise ValueError("quantity='quantile' needs q, the level of the quantile in (0, 1)")
    level = as_float("q", q)
    if not 0 < level < 1:
        raise ValueError(f"q must be in (0, 1), got q={q!r}")
    return level


def normal_quantile(confidence: float) -> float:
    """z of a two-sided interval at `confidence` (1.96 at 0.95): the bits of scipy.stats.norm.ppf(0.5 + confidence
    / 2), from scipy.special, whose import is a fraction of scipy.stats' (most of a second)."""
    return float(special.ndtri(0.5 + check_confidence(confidence) / 2))


@dataclasses.dataclass(frozen=True)
class LevelStatistic:
    """One quantity of one run (or of several runs pooled).

    Attributes
    ----------
    value, stderr : the estimate and its standard error.
    n : paths the estimate uses (all but DIVERGED). censored : how many paths did not stop, counted at the cap by
        the censoring policy (CENSORED, CONVERGED or SINGULAR). diverged : how many paths DIVERGED.
    identified : False where censoring leaves the quantity unidentified (see the module's censoring policy); the
        value is then the restricted mean up to the cap, or a quantile at the cap.
    """

    value: float
    stderr: float
    n: int
    censored: int
    diverged: int
    identified: bool = True


def censored_mean(times: ArrayLike, observed: ArrayLike, cap: float) -> tuple[float, float, bool]:
    """The mean of right-censored times under the package's censoring policy: ``(mean, stderr, identified)``.

    Without censoring, the sample mean and sd / sqrt(n). With censoring (every censored time at `cap`), the restricted
    mean E[min(T, cap)] (the Kaplan–Meier area up to `cap`), a lower bound of E[T], with identified = False.
    """
    t, o = censored_data(times, observed)
    cap = as_float("cap", cap, positive=True)
    slack = 16 * np.finfo(float).eps * cap  # a run's cap max_steps * dt may differ from its t_max in the last bits
    if t.size and t.max() > cap + slack:
        raise ValueError(f"times must be at most cap={cap}, got {t.max()} at index {int(np.argmax(t))}")
    off = ~o & (np.abs(t - cap) > slack)
    if off.any():
        first = int(np.flatnonzero(off)[0])
        raise ValueError(f"censored times must equal cap={cap} (censoring at the cap is the policy this mean "
                         f"assumes), got {t[first]} at index {first}")
    t = np.minimum(t, cap)
    if t.size == 0:
        return math.nan, math.nan, False
    mean, stderr = mean_stderr(t, "mean_exit_time")
    return mean, stderr, bool(o.all())


def path_values(result: SimulationResult, quantity: str, *, through: Any = None) -> np.ndarray:
    """Each path's contribution to a quantity that is a mean over paths: min(tau, cap) for "mean_exit_time" (the
    censoring policy: paths without an exit, CENSORED, CONVERGED or SINGULAR, count at the cap), 0 or 1 for the
    probabilities; NaN for DIVERGED paths, which a quantity leaves out. Paths stay in order, so that two runs driven
    by one Brownian path (`simulate(noise_refinement=...)`) can be paired path by path."""
    status = result.status
    stopped = result.stopped
    if quantity == "mean_exit_time":
        cap = censoring_time(result)
        values = np.minimum(np.where(stopped, result.exit_time, cap), cap)
    elif quantity == "exit_probability":
        values = stopped.astype(np.float64)
    elif quantity == "hit_probability":
        values = (status == Status.HIT).astype(np.float64)
    elif quantity == "exit_through":
        exited = status == Status.EXITED
        values = np.zeros(status.shape[0])
        if exited.any():
            values[exited] = np.asarray(through.contains(result.exit_position[exited]), dtype=np.float64)
    else:
        raise ValueError(f"quantity must be one of {MEAN_QUANTITIES} to be a mean over paths, got {quantity!r}")
    return np.where(status == Status.DIVERGED, np.nan, values)


def mean_stderr(values: np.ndarray, quantity: str) -> tuple[float, float]:
    """The mean of finite per-path values and its standard error. For a probability the error uses
    (k + 1/2) / (n + 1) in place of k / n, so that it is never 0 (ladders weigh levels by 1 / stderr**2)."""
    v = values[np.isfinite(values)]
    n = v.size
    if n == 0:
        return math.nan, math.inf
    mean = float(v.mean())
    if quantity != "mean_exit_time":
        p = (mean * n + 0.5) / (n + 1)
        return mean, math.sqrt(p * (1 - p) / n)
    if n > 1 and v.min() == v.max():  # every path alike (a noiseless flow): exact, where var() rounds to 1e-17
        return mean, 0.0
    return mean, float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf


def quantity_of(result: SimulationResult, quantity: str, *, q: float | None = None, through: Any = None,
                confidence: float = 0.95) -> LevelStatistic:
    """The value of `quantity` (one of `QUANTITIES`) in a run, with its standard error.

    mean_exit_time : E[tau] over the paths that EXITED or HIT (the censoring policy above for CENSORED paths).
    exit_probability : P(the path stopped, EXITED or HIT, before the cap).
    hit_probability : P(the path entered `target` before leaving `stop` and before the cap).
    quantile : the `q`-quantile of tau (paths that did not stop count as tau > cap); its standard error is read off the
        distribution-free order-statistic interval at `confidence` (half its width over the normal quantile).
    exit_through : P(the path left `stop` at a point of the region `through`).
    """
    if quantity == "quantile":  # before any arithmetic: q = 1.5 or NaN would fail deep inside
        q = check_quantile_level(q)
        check_confidence(confidence)
    status = result.status
    diverged = int(np.count_nonzero(status == Status.DIVERGED))
    n = status.shape[0] - diverged
    censored = int(np.count_nonzero(np.isin(status, UNSTOPPED)))  # the censoring policy's: at the cap
    if n == 0:
        return LevelStatistic(math.nan, math.inf, 0, censored, diverged, False)
    if quantity in MEAN_QUANTITIES:
        value, stderr = mean_stderr(path_values(result, quantity, through=through), quantity)
        identified = quantity != "mean_exit_time" or censored == 0
        return LevelStatistic(value, stderr, n, censored, diverged, identified)
    if quantity == "quantile":
        assert q is not None  # checked above
        cap = censoring_time(result)  # censored paths count as not exited by then
        keep = status != Status.DIVERGED
        t = np.sort(np.where(result.stopped, result.exit_time, math.inf)[keep])
        z = normal_quantile(confidence)
        spread = z * math.sqrt(n * q * (1 - q))
        lo = min(max(math.floor(n * q - spread) - 1, 0), n - 1)
        hi = min(max(math.ceil(n * q + spread), 0), n - 1)
        value = float(np.quantile(t, q, method="inverted_cdf"))
        if not math.isfinite(value):  # more than 1 - q of the paths did not exit
            return LevelStatistic(cap, math.inf, n, censored, diverged, False)
        while t[hi] == t[lo] and (lo > 0 or hi < n - 1):  # tied times (steps of a grid): widen to distinct ones
            lo, hi = max(lo - 1, 0), min(hi + 1, n - 1)
        stderr = (t[hi] - t[lo]) / (2 * z) if math.isfinite(t[hi]) else math.inf
        return LevelStatistic(value, float(stderr), n, censored, diverged)
    raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")


def point_mean(res: Any) -> LevelStatistic:
    """The mean exit time of one run (a sweep's point: a SimulationResult or a SummaryResult) by the censoring policy
    (`analysis.estimates`), from its exit statistics: paths that did not stop (CENSORED, CONVERGED, SINGULAR) count
    at the cap, DIVERGED ones are left out. Without such paths it is the mean over the stopped paths (`Summary.mean`
    and `stderr`); with them, the restricted mean E[min(tau, cap)] (`Summary.mean_lower_bound`, a lower bound of
    E[tau]) with identified=False, as `quantity_of(res, "mean_exit_time")` gives for per-path results."""
    st = res.stats()
    unstopped, diverged = sum(st.counts[u] for u in UNSTOPPED), st.counts[Status.DIVERGED]
    n = st.n_stopped + unstopped
    if n == 0:
        return LevelStatistic(math.nan, math.inf, 0, 0, diverged, False)
    value, stderr = st.restricted_mean()
    return LevelStatistic(value, stderr, n, unstopped, diverged, unstopped == 0)


@dataclasses.dataclass(frozen=True)
class DtBias:
    """The time-step bias of the finest step of a ladder, from the weighted least-squares fit
    value(dt) = extrapolated + slope * dt**order over the ladder's levels.

    bias, stderr : slope * dt_min**order (the finest level's value minus the dt -> 0 limit) and its standard error.
    extrapolated, extrapolated_stderr : the fitted dt -> 0 limit (Richardson's extrapolation for two levels).
    chi2, dof : the fit's chi-square and degrees of freedom (levels - 2). consistent : whether the chi-square is
        below its 99% point, i.e. the levels agree with a bias proportional to dt**order (always True for two).
    """

    bias: float
    stderr: float
    extrapolated: float
    extrapolated_stderr: float
    chi2: float
    dof: int
    consistent: bool
    order: float


def dt_bias(dts: ArrayLike, values: ArrayLike, stderrs: ArrayLike, *, order: float = 1.0) -> DtBias:
    """Fit value = extrapolated + slope * dt**order to two or more levels (weights 1 / stderr**2) and return the
    bias of the finest level with its standard error; see `DtBias`.

    The Euler–Maruyama scheme with the Brownian-bridge exit test has a weak error of order 1 in dt (Gobet 2000);
    with exits monitored only at the steps, of order 1/2.
    """
    h = as_array("dts", dts, ndim=1)
    y = as_array("values", values, ndim=1)
    s = as_array("stderrs", stderrs, ndim=1)
    if not h.size == y.size == s.size:
        raise ValueError(f"dts, values and stderrs must be 1-D of one length, got shapes {h.shape}, {y.shape}, "
                         f"{s.shape}")
    if h.size < 2:
        raise ValueError(f"a ladder needs at least two levels, got {h.size}")
    order = as_float("order", order, positive=True)
    if not MIN_ORDER <= order <= MAX_ORDER:  # outside, dt**order of distinct steps round to equal values or to 0/inf
        raise ValueError(f"order must be in [{MIN_ORDER:g}, {MAX_ORDER:g}], got order={order}")
    if not (np.all(h > 0) and np.unique(h).size == h.size):
        raise ValueError(f"dts must be distinct and positive, got {h.tolist()}")
    if not np.all(s > 0):
        raise ValueError(f"stderrs must be positive, got {s.tolist()}")
    with np.errstate(over="ignore", under="ignore"):  # refused below
        x = h**order
        w = 1.0 / s**2
    if np.unique(x).size < 2 or not (np.all(np.isfinite(x) & (x > 0)) and np.all(np.isfinite(w))):
        raise ValueError(f"dts**order must be distinct, positive and finite, and 1 / stderrs**2 finite, for the fit: "
                         f"got dts={h.tolist()}, order={order}, stderrs={s.tolist()}")
    X = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ (X.T @ (w * y))
    chi2 = float(np.sum(w * (y - X @ beta) ** 2))
    dof = h.size - 2
    x_min = float(x.min())
    return DtBias(
        bias=float(beta[1] * x_min),
        stderr=float(math.sqrt(cov[1, 1]) * x_min),
        extrapolated=float(beta[0]),
        extrapolated_stderr=float(math.sqrt(cov[0, 0])),
        chi2=chi2,
        dof=dof,
        consistent=dof == 0 or chi2 <= 2 * float(special.gammaincinv(dof / 2, 0.99)),  # chi-square's 0.99 quantile
        order=order,
    )
