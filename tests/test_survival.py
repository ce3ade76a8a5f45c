"""Kaplan–Meier survival and Greenwood errors: hand-computed cases, an independent brute-force estimator, a known
exponential law, and the censored data of a run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import escapade as esc
from escapade import Status
from escapade.analysis.survival import KaplanMeier, kaplan_meier, survival_data, survival_of
from escapade.results import SimulationResult


def brute_force_km(times, observed):
    """Kaplan–Meier and Greenwood straight from the definitions, one subject at a time (plain Python)."""
    subjects = list(zip([float(t) for t in times], [bool(o) for o in observed]))
    event_times = sorted({t for t, o in subjects if o})
    s, greenwood = 1.0, 0.0
    out_t, out_s, out_se = [], [], []
    for tk in event_times:
        at_risk = sum(1 for t, _ in subjects if t >= tk)
        deaths = sum(1 for t, o in subjects if o and t == tk)
        s *= 1.0 - deaths / at_risk
        if at_risk > deaths:
            greenwood += deaths / (at_risk * (at_risk - deaths))
        out_t.append(tk)
        out_s.append(s)
        out_se.append(s * math.sqrt(greenwood))
    return np.array(out_t), np.array(out_s), np.array(out_se)


# nine subjects: ties between events (t = 3) and between an event and a censoring (t = 2), last subject an event
HAND_TIMES = [1, 2, 2, 3, 3, 4, 5, 6, 7]
HAND_OBSERVED = [1, 1, 0, 1, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("times", [["1", "2.5"], [True, True], np.array(["2020-01-01"], dtype="datetime64[D]"),
                                   [1 + 0j, 2.0], np.array(["1.5", "2"], dtype=object), [True, 2.5],
                                   pd.Series(["1.5", "2.5"])])
def test_times_that_are_not_real_numbers_are_refused(times):
    # text, booleans and dates converted silently (a date to its day number: an exponential mean of 18262.0)
    with pytest.raises(TypeError, match="times must be an array of real numbers"):
        kaplan_meier(times, np.ones(len(times), dtype=bool))
    with pytest.raises(TypeError, match="times"):
        esc.analysis.exponential_fit(times)


def test_no_censoring_gives_one_minus_the_ecdf():
    rng = np.random.default_rng(0)
    times = np.round(rng.exponential(2.0, size=500), 1)  # rounded: many ties
    km = kaplan_meier(times, np.ones(times.size, dtype=bool))
    assert np.array_equal(km.time, np.unique(times))
    ecdf = np.array([np.count_nonzero(times <= t) for t in km.time]) / times.size
    np.testing.assert_allclose(km.survival, 1.0 - ecdf, rtol=1e-12, atol=1e-15)
    assert km.survival[-1] == 0.0 and km.stderr[-1] == 0.0
    # without censoring Greenwood's variance is the binomial one, S (1 - S) / n
    np.testing.assert_allclose(km.stderr[:-1], np.sqrt(km.survival * (1 - km.survival) / times.size)[:-1],
                               rtol=1e-10)


def test_hand_computed_censored_example():
    # at risk n and events d at each event time:   t=1: 9, 1   t=2: 8, 1   t=3: 6, 2   t=5: 3, 1   t=7: 1, 1
    # S = 8/9, 8/9 * 7/8, * 4/6, * 2/3, * 0
    order = [4, 0, 8, 2, 6, 1, 5, 3, 7]  # any input order
    km = kaplan_meier(np.array(HAND_TIMES, float)[order], np.array(HAND_OBSERVED, bool)[order])
    assert isinstance(km, KaplanMeier)
    np.testing.assert_array_equal(km.time, [1, 2, 3, 5, 7])
    np.testing.assert_allclose(km.survival, [8 / 9, 7 / 9, 14 / 27, 28 / 81, 0.0], rtol=1e-14, atol=0)


def test_greenwood_by_hand():
    # sum of d / (n (n - d)): 1/72, + 1/56, + 2/24, + 1/6; the last step empties the risk set (S = 0, SE = 0)
    expected = [
        8 / 9 * math.sqrt(1 / 72),  # = 2 sqrt(2) / 27
        7 / 9 * math.sqrt(1 / 72 + 1 / 56),  # = 7/9 sqrt(2/63)
        14 / 27 * math.sqrt(1 / 72 + 1 / 56 + 1 / 12),  # = 14/27 sqrt(29/252)
        28 / 81 * math.sqrt(1 / 72 + 1 / 56 + 1 / 12 + 1 / 6),  # = 28/81 sqrt(71/252)
        0.0,
    ]
    _, _, se = kaplan_meier(HAND_TIMES, HAND_OBSERVED)
    np.testing.assert_allclose(se, expected, rtol=1e-14, atol=0)
    assert se[0] == pytest.approx(2 * math.sqrt(2) / 27, rel=1e-14)
    assert se[3] == pytest.approx(28 / 81 * math.sqrt(71 / 252), rel=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    times = rng.integers(0, 15, size=n).astype(float)  # heavy ties, zeros included
    observed = rng.random(n) < 0.6
    t, s, se = kaplan_meier(times, observed)
    bt, bs, bse = brute_force_km(times, observed)
    np.testing.assert_array_equal(t, bt)
    np.testing.assert_allclose(s, bs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(se, bse, rtol=1e-12, atol=1e-15)


def test_events_come_before_censorings_at_the_same_time():
    # one event and one censoring at t = 1: both at risk there, so S(1) = 1 - 1/2 (not 1 - 1/1)
    t, s, _ = kaplan_meier([1.0, 1.0, 2.0], [True, False, True])
    np.testing.assert_array_equal(t, [1.0, 2.0])
    np.testing.assert_allclose(s, [2 / 3, 0.0])
    t, s, _ = kaplan_meier([1.0, 1.0], [False, True])
    np.testing.assert_allclose(s, [0.5])


def test_exponential_with_random_censoring():
    rng = np.random.default_rng(42)
    n, mean = 20_000, 2.0
    life = rng.exponential(mean, size=n)
    censor = rng.exponential(4.0, size=n)
    times, observed = np.minimum(life, censor), life <= censor
    km = kaplan_meier(times, observed)
    for t in (0.5, 1.0, 2.0, 4.0, 6.0):
        k = np.searchsorted(km.time, t, side="right") - 1  # S is constant from km.time[k] to the next event
        assert abs(km.survival[k] - math.exp(-t / mean)) < 4 * km.stderr[k], (t, km.survival[k], km.stderr[k])


def test_all_censored_and_empty_inputs():
    t, s, se = kaplan_meier([1.0, 2.0], [False, False])
    assert t.size == s.size == se.size == 0
    t, s, se = kaplan_meier([], [])
    assert t.size == s.size == se.size == 0


@pytest.mark.parametrize(
    ("times", "observed", "match"),
    [
        ([1.0, 2.0], [True], "same length"),
        ([1.0, float("nan")], [True, True], "NaN"),
        ([1.0, -0.5], [True, True], "negative"),
        ([1.0, float("inf")], [True, False], "finite"),
        ([[1.0, 2.0]], [[True, True]], "1-dimensional"),
        ([1.0, 2.0], [1, 2], "booleans"),
        ([1.0, 2.0], [0.5, 1.0], "booleans"),
    ],
)
def test_bad_input(times, observed, match):
    with pytest.raises(ValueError, match=match):
        kaplan_meier(times, observed)


def test_observed_as_integers():
    np.testing.assert_array_equal(kaplan_meier(HAND_TIMES, HAND_OBSERVED).survival,
                                  kaplan_meier(HAND_TIMES, np.array(HAND_OBSERVED, bool)).survival)


def _synthetic_result(status, exit_time, max_steps=100, dt=0.5):
    status = np.asarray(status, dtype=np.int8)
    n = status.size
    return SimulationResult(
        status=status, exit_time=np.asarray(exit_time, float), exit_step=np.zeros(n, np.int64),
        exit_position=np.zeros((n, 1)), final_position=np.zeros((n, 1)), trajectories=[], params={"max_steps": max_steps, "dynamics": {"dt": dt}},
        seed=0, version="test", elapsed=0.0, total_steps=0,
    )


def test_survival_data_from_statuses():
    nan = float("nan")
    res = _synthetic_result(
        [Status.EXITED, Status.CENSORED, Status.HIT, Status.DIVERGED, Status.EXITED, Status.CENSORED],
        [3.0, nan, 7.5, nan, 50.0, nan],
    )
    times, observed = survival_data(res)
    # diverged path dropped; censored paths at the cap 100 * 0.5 = 50, after the event at 50
    np.testing.assert_array_equal(times, [3.0, 50.0, 7.5, 50.0, 50.0])
    np.testing.assert_array_equal(observed, [True, False, True, True, False])
    t, s, _ = survival_of(res)
    np.testing.assert_array_equal(t, [3.0, 7.5, 50.0])
    np.testing.assert_allclose(s, [4 / 5, 3 / 5, 3 / 5 * (1 - 1 / 3)])


def test_survival_of_a_run():
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), x0=[-1.0],
                       stop=esc.HalfSpace([1.0], 0.0), n_paths=400, t_max=20.0, seed=5)
    assert res.count(Status.CENSORED) > 0 and res.count(Status.EXITED) > 0
    times, observed = survival_data(res)
    assert times.size == res.n_paths and observed.sum() == res.count(Status.EXITED)
    np.testing.assert_allclose(times[~observed], 20.0)
    t, s, se = survival_of(res)
    assert np.all(np.diff(t) > 0) and np.all(np.diff(s) <= 0) and np.all(se >= 0)
    # nothing is censored before the cap, so up to it S is 1 - ECDF of the exit times over all paths
    stopped = np.sort(res.exit_time[res.stopped])
    ecdf = np.searchsorted(stopped, t, side="right") / res.n_paths
    np.testing.assert_allclose(s, 1 - ecdf, rtol=1e-12)
    assert s[-1] == pytest.approx(res.count(Status.CENSORED) / res.n_paths)


def test_survival_of_rejects_summaries():
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), x0=[-1.0],
                       stop=esc.HalfSpace([1.0], 0.0), n_paths=10, t_max=1.0, seed=5, keep="summary")
    with pytest.raises(TypeError, match="keep='paths'"):
        survival_of(res)
    with pytest.raises(TypeError, match="SimulationResult"):
        survival_data([1.0, 2.0])


def test_adaptive_paths_censored_by_the_step_cap_have_no_time_at_risk():
    """x' = 1 from 9.5 and from 0 to x = 10 with at most 20 steps of 0.1: half the paths exit at 0.5, half are
    censored by max_steps at their own time 2, not at t_max = 1000. Counting them at t_max gave an exponential MLE
    mean of 1000.5 (the right one, 25 / 10 = 2.5, is not known to the run): refused, not guessed."""
    flow = esc.ConstrainedFlow(None, dt=0.1, method="dp54", max_step=0.1)
    x0 = np.array([[9.5]] * 10 + [[0.0]] * 10)
    kw = dict(x0=x0, stop=esc.HalfSpace([1.0], 10.0), t_max=1000.0, seed=0, threads=1)
    res = esc.simulate(esc.Linear([-1.0]), flow, max_steps=20, **kw)
    assert res.count(Status.CENSORED) == 10
    np.testing.assert_allclose(res.final_position[res.status == Status.CENSORED], 2.0, rtol=1e-12)
    for analysis in (survival_data, esc.analysis.exponential_fit, esc.analysis.decay_rate):
        with pytest.raises(ValueError, match="max_steps=20 before t_max=1000"):
            analysis(res)
    with pytest.raises(ValueError, match="max_steps=20"):
        esc.analysis.quantity_of(res, "mean_exit_time")
    s = res.summary()
    assert math.isnan(s.mean_lower_bound) and math.isnan(s.exponential_mean) and "no bound" in str(s)
    assert math.isnan(esc.simulate(esc.Linear([-1.0]), flow, max_steps=20, keep="summary", **kw)
                      .summary().exponential_mean)
    # run to t_max = 5 without a step cap: the censored paths' time at risk is 5, and everything is known
    ok = esc.simulate(esc.Linear([-1.0]), flow, **{**kw, "t_max": 5.0})
    assert esc.analysis.exponential_fit(ok).mean == pytest.approx((10 * 0.5 + 10 * 5.0) / 10)
    assert ok.summary().mean_lower_bound == pytest.approx((10 * 0.5 + 10 * 5.0) / 20)


def test_decay_rate_without_a_usable_path_says_why():
    gd = esc.simulate(esc.Quadratic([[1.0]]), esc.GD(lr=3.0), x0=[1.0], stop=esc.HalfSpace([1.0], 1e9), n_paths=5,
                      max_steps=100, seed=0, threads=1)  # every path diverges
    with pytest.raises(ValueError, match=r"\(diverged 5; DIVERGED"):
        esc.analysis.decay_rate(gd)


def test_fits_of_a_run_whose_paths_all_diverged_say_so():
    """Diverged paths are left out, so a run of nothing else has no times: exponential_fit and
    exit_time_statistics said "times must not be empty", exponential_test "needs at least 2 observed times, got 0",
    and coefficient_of_variation answered NaN."""
    gd = esc.simulate(esc.Quadratic([[1.0]]), esc.GD(lr=3.0), x0=[1.0], stop=esc.HalfSpace([1.0], 1e9), n_paths=5,
                      max_steps=100, seed=0, threads=1)  # every path diverges
    assert gd.count(Status.DIVERGED) == 5
    for analysis in (esc.analysis.exponential_fit, esc.analysis.exit_time_statistics,
                     esc.analysis.exponential_test, esc.analysis.coefficient_of_variation):
        with pytest.raises(ValueError, match=r"^times: no path of the result EXITED or HIT.*all 5 of its paths "
                                             r"DIVERGED \(diverged 5, censored 0\)"):
            analysis(gd)
        with pytest.raises(ValueError, match="^times must not be empty$"):  # plain arrays keep their message
            analysis([])
    with pytest.raises(ValueError, match="at least 2 observed times, got 1"):  # times, but too few exits
        esc.analysis.exponential_test([1.0, 2.0], [True, False])


def test_an_exit_at_time_zero_is_named_where_it_leaves_out_the_weibull_test():
    t = np.random.default_rng(0).exponential(1.0, 500)
    o = t < 2.0
    st = esc.analysis.exit_time_statistics(np.append(np.minimum(t, 2.0), 0.0), np.append(o, True))
    assert st.exponential_test is None and math.isnan(st.cv.value)
    assert "no Weibull test (exits at time 0)" in str(st)
