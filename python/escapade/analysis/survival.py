"""Survival of paths: the Kaplan–Meier estimate of P(exit time > t) with right censoring, and its Greenwood
standard error."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_float, check_confidence, real_array, refuse_masked
from ..results import UNSTOPPED, Estimate, EstimateLevel, SimulationResult, Status, SummaryResult, censoring_time

__all__ = ["KaplanMeier", "censored_data", "decay_rate", "kaplan_meier", "survival_data", "survival_of"]


class KaplanMeier(NamedTuple):
    """A Kaplan–Meier curve; unpacks as ``time, survival, stderr``.

    Attributes
    ----------
    time : float64 (m,), the distinct times at which at least one event happened, increasing.
    survival : float64 (m,), S(t) just after each of those times; S is 1 before the first one and constant
        between them (a right-continuous step function).
    stderr : float64 (m,), the standard error of S by Greenwood's formula; 0 where S is 0.
    """

    time: np.ndarray
    survival: np.ndarray
    stderr: np.ndarray


def censored_data(times: ArrayLike, observed: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-censored times checked and converted: ``(times, observed)`` as float64 and bool arrays.

    `observed` None means every time is an event. Raises TypeError for times that are not real numbers (text,
    booleans, dates, complex numbers), and ValueError (naming the input) unless both are 1-D of the same length,
    every time is finite and >= 0 and `observed` holds booleans or 0/1.
    """
    t = real_array("times", times)  # TypeError for text, booleans, dates, complex numbers, None
    if t.ndim != 1:
        raise ValueError(f"times must be 1-dimensional, got shape {t.shape}")
    refuse_masked("observed", observed)
    o = np.ones(t.shape[0], dtype=np.bool_) if observed is None else np.asarray(observed)
    if o.ndim != 1:
        raise ValueError(f"observed must be 1-dimensional, got shape {o.shape}")
    if o.shape[0] != t.shape[0]:
        raise ValueError(f"times and observed must have the same length, got {t.shape[0]} and {o.shape[0]}")
    if o.dtype != np.bool_:
        ok = (o == 0) | (o == 1) if o.dtype.kind in "biuf" else np.zeros(o.shape[0], dtype=np.bool_)
        if not np.all(ok):
            first = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"observed must hold booleans (or 0/1), got {o[first]!r} at index {first}")
        o = o.astype(np.bool_)
    bad = np.flatnonzero(np.isnan(t))
    if bad.size:
        raise ValueError(f"times must not be NaN; {bad.size} are, the first at index {bad[0]}")
    bad = np.flatnonzero(np.isinf(t))
    if bad.size:
        raise ValueError(f"times must be finite; {bad.size} are not, the first at index {bad[0]} ({t[bad[0]]})")
    bad = np.flatnonzero(t < 0)
    if bad.size:
        raise ValueError(f"times must be >= 0; {bad.size} are negative, the first at index {bad[0]} ({t[bad[0]]})")
    return t, o


def kaplan_meier(times: ArrayLike, observed: ArrayLike) -> KaplanMeier:
    """Kaplan–Meier estimate of the survival function S(t) = P(T > t) from right-censored times.

    With d_k events and n_k subjects at risk (time >= t_k) at the k-th distinct event time t_k,

        S(t) = prod_{t_k <= t} (1 - d_k / n_k),
        Var S(t) = S(t)^2 * sum_{t_k <= t} d_k / (n_k (n_k - d_k))      (Greenwood).

    Ties: at a time shared by events and censorings the events come first, so a subject censored at t_k is still
    at risk at t_k. Where every subject at risk has its event (n_k = d_k), S drops to 0 and its standard error is
    reported as 0.

    Parameters
    ----------
    times : (n,) the time of each subject: its event time if observed, else the time it was censored at.
        Finite and >= 0.
    observed : (n,) booleans (or 0/1): True for an event, False for a censored subject.

    Returns
    -------
    KaplanMeier
        ``(time, survival, stderr)`` at the distinct event times (all three empty when there is no event).

    Raises
    ------
    ValueError
        If the two inputs are not 1-D of the same length, a time is NaN, infinite or negative, or `observed`
        holds something other than booleans or 0/1.
    """
    t, o = censored_data(times, observed)
    event_time, d = np.unique(t[o], return_counts=True)
    # at risk at t_k: every subject with time >= t_k, censored ones at t_k included (events come first)
    n = t.shape[0] - np.searchsorted(np.sort(t), event_time, side="left")
    survival = np.cumprod(1.0 - d / n)
    denom = n * (n - d)
    terms = np.divide(d, denom, out=np.zeros(d.shape[0]), where=denom > 0)  # denom = 0 only where S becomes 0
    stderr = survival * np.sqrt(np.cumsum(terms))
    return KaplanMeier(event_time, survival, stderr)


def survival_data(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """The right-censored times of a run: ``(times, observed)``, the inputs of `kaplan_meier`.

    Paths that stopped (EXITED or HIT) are events at their exit time; paths that did not (CENSORED, and CONVERGED
    or SINGULAR: dynamics that stop by themselves, by no boundary) are censored at the time cap
    ``params["max_steps"] * params["dynamics"]["dt"]``, or `t_max` for adaptive steps (a ValueError where such a
    path was censored by `max_steps` before `t_max`, at a time the run does not record): the package's one
    censoring policy (`analysis.estimates`). DIVERGED paths are left out: their divergence time is not an exit
    time, and treating it as a censoring would assume it says nothing about when they would have exited.

    Parameters
    ----------
    result : SimulationResult
        A run with per-path arrays (``simulate(..., keep="paths")``, the default).

    Returns
    -------
    times : float64 (m,), one per path that did not diverge, in path order.
    observed : bool (m,), True for the stopped paths.
    """
    if isinstance(result, SummaryResult):
        raise TypeError("a SummaryResult (keep='summary') has no per-path exit times; simulate with keep='paths'")
    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be an escapade SimulationResult, got {type(result).__name__}")
    stopped = result.stopped
    keep = result.status != Status.DIVERGED
    times = np.where(stopped, result.exit_time, censoring_time(result))[keep]
    return times.astype(np.float64), stopped[keep]


def survival_of(result: Any) -> KaplanMeier:
    """Kaplan–Meier survival P(exit time > t) of a run, with Greenwood standard errors.

    Stopped paths (EXITED or HIT) are events at their exit time, the others are censored at the time cap, and
    DIVERGED paths are excluded (see `survival_data`).

    Parameters
    ----------
    result : SimulationResult
        A run with per-path arrays.

    Returns
    -------
    KaplanMeier
        ``(time, survival, stderr)``, see `kaplan_meier`.
    """
    return kaplan_meier(*survival_data(result))


def decay_rate(result: Any, *, t0: float = 0.0, confidence: float = 0.95) -> Estimate:
    """The quasi-stationary decay rate lambda of a run's survival, P(tau > t) ~ C exp(-lambda t), from the paths
    still running at `t0`: an `Estimate` with its interval.

    Past the relaxation into the quasi-stationary distribution, the exit times beyond t0 are exponential, so the
    censoring-aware maximum-likelihood rate is k / S, k the exits after t0 and S the time the paths alive at t0
    spent beyond it (each up to its exit or the time cap). Its interval is Garwood's exact Poisson interval in k,
    [chi2_(2k)(a/2), chi2_(2k+2)(1 - a/2)] / (2 S), a = 1 - confidence; `stderr` is lambda / sqrt(k). With
    t0 = 0, lambda is 1 / (the exponential MLE of the mean), which is off by the start's transient (0.5-5% at finite
    barriers): choose t0 past the relaxation time (a few times 1 / (the gap to the next eigenvalue)), where the
    estimate stops depending on it. DIVERGED paths are left out (see `survival_data`).

    Parameters
    ----------
    result : SimulationResult with per-path arrays.
    t0 : the start time, >= 0 and below the time cap.
    confidence : the interval's level, in (0, 1).
    """
    from scipy import stats

    times, observed = survival_data(result)
    t0 = as_float("t0", t0, nonnegative=True)
    confidence = check_confidence(confidence)
    cap = censoring_time(result)
    if not t0 < cap:
        raise ValueError(f"t0 must be below the time cap {cap:g}, got t0={t0!r}")
    alive = times > t0
    k = int(np.count_nonzero(observed & alive))
    exposure = float(np.sum(times[alive] - t0))
    if not exposure > 0:
        if times.size == 0 or t0 == 0:
            counts = ", ".join(f"{s.name.lower()} {result.count(s)}" for s in Status if result.count(s))
            raise ValueError(f"no path that did not diverge ran for a positive time ({counts}; DIVERGED paths are "
                             "left out): no decay rate")
        raise ValueError(f"no path was still running after t0={t0:g}: choose a smaller t0")
    a = 1.0 - confidence
    value = k / exposure
    low = float(stats.chi2.ppf(a / 2, 2 * k)) / (2 * exposure) if k > 0 else 0.0
    high = float(stats.chi2.ppf(1 - a / 2, 2 * k + 2)) / (2 * exposure)
    stderr = value / math.sqrt(k) if k > 0 else math.nan
    n_alive = int(np.count_nonzero(alive))
    notes = (f"{n_alive} of {times.shape[0]} paths were running at t0={t0:g}; {k} exited after it",)
    level = EstimateLevel(dt=float(result.params["dynamics"]["dt"]), n_paths=result.n_paths,
                          path_steps=int(result.total_steps), value=value, stderr=stderr,
                          censored=sum(result.count(s) for s in UNSTOPPED), diverged=result.count(Status.DIVERGED),
                          elapsed=float(result.elapsed))
    return Estimate(quantity="decay_rate", value=value, interval=(low, high), confidence=confidence,
                    stderr=stderr, bias=math.nan, bias_stderr=math.nan, extrapolated=math.nan,
                    extrapolated_stderr=math.nan, half_width_statistical=(high - low) / 2, half_width_bias=0.0,
                    rtol=math.nan, reached=k > 0, message="exponential tail fitted beyond t0", notes=notes,
                    levels=(level,), n_paths=result.n_paths, path_steps=int(result.total_steps),
                    elapsed=float(result.elapsed), params={"t0": t0, "confidence": confidence, **result.params},
                    seed=result.seed, version=result.version)
