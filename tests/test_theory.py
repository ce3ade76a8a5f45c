"""Exit-time theory against simulation: exit-time statistics, landscape geometry, Eyring–Kramers, Freidlin–Wentzell
quasi-potentials and minimum-action paths, Arrhenius fits, and 003's SGD exit times (the reproduction)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import (
    arrhenius_fit,
    arrhenius_fit_sweep,
    barrier,
    coefficient_of_variation,
    exit_time_statistics,
    exponential_fit,
    exponential_test,
    eyring_kramers,
    find_minimum,
    find_saddle,
    langevin_mean_exit_time_1d,
    linear_quasipotential,
    minimum_action_path,
    minimum_energy_path,
    sgd_exit_time_prediction,
)
from escapade.cli import main
from escapade.experiments import sgd_exit_time, sgd_exit_time_experiment

from conftest import double_well


# --- exit-time statistics --------------------------------------------------------------------------------------


def test_exponential_rate_mle_with_censoring_recovers_the_rate():
    rng = np.random.default_rng(0)
    rate, cap = 0.5, 2.5
    t = rng.exponential(1 / rate, 4000)
    observed = t < cap
    times = np.minimum(t, cap)
    fit = exponential_fit(times, observed)
    assert fit.censored == int((~observed).sum()) > 1000  # heavy censoring
    assert fit.rate_ci[0] < rate < fit.rate_ci[1]
    assert abs(fit.rate - rate) < 3 * fit.rate_stderr
    assert fit.mean_ci[0] < 1 / rate < fit.mean_ci[1]
    assert fit.rate == pytest.approx(observed.sum() / times.sum())
    # the naive mean of the observed times is far off; the MLE is not
    assert times[observed].mean() < 0.6 / rate


def test_exponential_interval_covers_at_its_level():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(400):
        t = rng.exponential(2.0, 30)
        lo, hi = exponential_fit(t, confidence=0.9).rate_ci
        hits += lo < 0.5 < hi
    assert abs(hits / 400 - 0.9) < 3 * math.sqrt(0.9 * 0.1 / 400)


def test_exponential_mle_standard_errors_match_scipy_on_a_hand_made_sample():
    # 3 events, 1 censored, total time at risk 10: rate 3/10, mean 10/3, SEs rate/sqrt(3) and mean/sqrt(3)
    times, observed = np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, True, False, True])
    fit = exponential_fit(times, observed)
    assert (fit.events, fit.censored, fit.exposure) == (3, 1, 10.0)
    assert fit.rate == pytest.approx(0.3) and fit.rate_stderr == pytest.approx(0.3 / math.sqrt(3))
    assert fit.mean == pytest.approx(10 / 3) and fit.mean_stderr == pytest.approx(10 / 3 / math.sqrt(3))
    # independently: scipy's censored MLE of the scale, and the observed information of scipy's log-likelihood
    from scipy import stats

    data = stats.CensoredData(uncensored=times[observed], right=times[~observed])
    _, scale = stats.expon.fit(data, floc=0)
    assert fit.mean == pytest.approx(scale, rel=1e-4)  # scipy maximizes numerically

    def loglik(s):
        return (stats.expon.logpdf(times[observed], scale=s).sum() + stats.expon.logsf(times[~observed], scale=s).sum())

    h = 1e-3 * scale
    info = -(loglik(scale + h) - 2 * loglik(scale) + loglik(scale - h)) / h**2
    assert fit.mean_stderr == pytest.approx(1 / math.sqrt(info), rel=1e-4)
    assert "± 1.9" in str(fit) and "± 1.9" in str(exit_time_statistics(times, observed))


def test_exponential_mle_standard_error_matches_the_spread_over_replications():
    # 1000 replications of 200 censored exponential times: the spread of the MLE mean and rate against the mean
    # reported standard error, within the spread's own sampling error (relative 1 / sqrt(2 * 1000))
    rng = np.random.default_rng(11)
    reps, n, mean, cap = 1000, 200, 2.0, 3.0
    t = rng.exponential(mean, (reps, n))
    fits = [exponential_fit(np.minimum(row, cap), row < cap) for row in t]
    assert np.mean([f.censored for f in fits]) == pytest.approx(n * math.exp(-cap / mean), rel=0.05)
    tol = 3 / math.sqrt(2 * reps)
    means, rates = np.array([f.mean for f in fits]), np.array([f.rate for f in fits])
    assert np.std(means, ddof=1) / np.mean([f.mean_stderr for f in fits]) == pytest.approx(1, abs=tol + 0.01)
    assert np.std(rates, ddof=1) / np.mean([f.rate_stderr for f in fits]) == pytest.approx(1, abs=tol + 0.01)
    assert abs(means.mean() - mean) < 3 * np.std(means) / math.sqrt(reps)


def test_coefficient_of_variation_and_its_standard_error():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    from scipy import stats

    cv = coefficient_of_variation(t)
    assert cv.method == "sample" and cv.value == pytest.approx(stats.variation(t, ddof=1))
    rng = np.random.default_rng(12)
    reps, n = 500, 1000  # (at n = 200 the plug-in error of exponential times is ~10% small: m4 is heavy-tailed)
    tol = 3 / math.sqrt(2 * reps)
    for shape in (1.0, 4.0):  # exponential (CV 1) and gamma of shape 4 (CV 1/2)
        cvs = [coefficient_of_variation(rng.gamma(shape, 1.0, n)) for _ in range(reps)]
        values = np.array([c.value for c in cvs])
        assert values.mean() == pytest.approx(1 / math.sqrt(shape), abs=0.01)
        rms = math.sqrt(np.mean([c.stderr**2 for c in cvs]))
        assert np.std(values, ddof=1) / rms == pytest.approx(1, abs=tol + 0.02)
    # with censoring: the CV of the fitted Weibull law, 1 for exponential times, 1/2-ish for Weibull(2.1)
    x = rng.exponential(1.0, 2000)
    c = coefficient_of_variation(np.minimum(x, 2.0), x < 2.0)
    assert c.method == "weibull" and c.censored > 200 and c.ci[0] < 1 < c.ci[1] and c.stderr < 0.05
    w = rng.weibull(2.1, 2000)
    c = coefficient_of_variation(np.minimum(w, 1.2), w < 1.2)
    exact = math.sqrt(math.gamma(1 + 2 / 2.1) / math.gamma(1 + 1 / 2.1) ** 2 - 1)
    assert c.ci[0] < exact < c.ci[1] and c.ci[1] < 0.6
    assert math.isnan(coefficient_of_variation([1.0, 2.0]).value)  # too few times
    assert exit_time_statistics(t).cv == cv


def test_exponential_shape_tests():
    rng = np.random.default_rng(2)
    t = rng.exponential(3.0, 3000)
    cap = 4.0
    weibull = exponential_test(np.minimum(t, cap), t < cap)
    assert weibull.p_value > 0.01 and weibull.shape_ci[0] < 1 < weibull.shape_ci[1]
    assert exponential_test(t[:300], method="lilliefors", n_mc=500).p_value > 0.01
    w = rng.weibull(1.5, 1000)
    rejected = exponential_test(w)
    assert rejected.p_value < 1e-6 and rejected.shape_ci[0] < 1.5 < rejected.shape_ci[1]
    assert exponential_test(w[:300], method="lilliefors", n_mc=500).p_value < 0.01
    with pytest.raises(ValueError, match="lilliefors"):
        exponential_test(np.minimum(t, cap), t < cap, method="lilliefors")
    with pytest.raises(ValueError, match="method"):
        exponential_test(t, method="ks")


def _rejection_rates(d: int, samples: int, n_mc: int, cap: float | None = None) -> dict[str, float]:
    """How often exponential samples of d times (censored at `cap`) are rejected at level 0.05 by each
    calibration of the Weibull test."""
    rng = np.random.default_rng(7 + d)
    rejected = {"chi2": 0, "monte_carlo": 0}
    done = 0
    while done < samples:
        t = rng.exponential(1.0, d)
        o = t < (cap if cap is not None else math.inf)
        if o.sum() < 2:
            continue
        t = np.minimum(t, cap) if cap is not None else t
        done += 1
        for c in rejected:
            rejected[c] += exponential_test(t, o, calibration=c, n_mc=n_mc, seed=done).p_value <= 0.05
    return {c: r / samples for c, r in rejected.items()}


def test_few_exits_calibrate_the_weibull_test_by_monte_carlo():
    """With 5 exits Wilks' chi-square law rejects exponential samples about 10.6% of the time at level 0.05; the
    simulated null law holds the level (exactly 5/100 with n_mc = 99 for uncensored times, whose statistic's law
    does not depend on the rate), within 3.5 binomial standard errors of 400 samples."""
    rates = _rejection_rates(5, 400, 99)
    se = math.sqrt(0.05 * 0.95 / 400)
    assert abs(rates["monte_carlo"] - 0.05) < 3.5 * se, rates
    assert rates["chi2"] > 0.05 + 2 * se, rates  # the liberal law it replaces
    t = np.random.default_rng(1).exponential(1.0, 10)
    assert exponential_test(t).calibration == "monte_carlo"
    assert exponential_test(np.random.default_rng(1).exponential(1.0, 50)).calibration == "chi2"
    assert exponential_test(t, calibration="chi2").p_value == exponential_test(t, calibration="chi2", n_mc=5).p_value
    a, b = exponential_test(t, seed=3), exponential_test(t, seed=3)
    assert a.p_value == b.p_value and 0 < a.p_value <= 1
    assert a.statistic == exponential_test(t, calibration="chi2").statistic
    # censoring at one cap (a run's t_max) simulates the exits alone, the rest counted at the cap: the same
    # statistic as the full sample, and a p-value in the time of the exits (50,000 times, 34 exits)
    from escapade.analysis.statistics import _weibull_statistic

    s = np.random.default_rng(1).exponential(1800.0, 50_000)
    seen = s < 1.0
    capped = np.minimum(s, 1.0)
    d = int(seen.sum())
    full = _weibull_statistic(capped, seen)[0]
    short = _weibull_statistic(np.append(capped[seen], 1.0), np.arange(d + 1) < d, np.append(np.ones(d), s.size - d))
    assert short[0] == pytest.approx(full, rel=1e-9)
    big = exponential_test(capped, seen)
    assert big.calibration == "monte_carlo" and 0 < big.p_value <= 1
    assert exponential_test([1.0, 1.0, 1.0]).calibration == "chi2"  # an infinite statistic: p = 0 exactly
    assert exponential_test(t, calibration="chi2", n_mc=0).p_value > 0  # n_mc is only read where it is used
    # power: a Weibull law of shape 4 (a rise time) with 15 exits
    assert exponential_test(np.random.default_rng(2).weibull(4.0, 15)).p_value < 0.01
    with pytest.raises(ValueError, match="calibration"):
        exponential_test(t, calibration="bootstrap")


@pytest.mark.slow
def test_few_exits_monte_carlo_level_with_and_without_censoring():
    """The level at 5 and 10 exits and with a cap that censors about 37% of 15 times, 1,000 samples each: within
    3.5 binomial standard errors of 0.05 (the censored case is a parametric bootstrap at the fitted rate)."""
    se = math.sqrt(0.05 * 0.95 / 1000)
    for d, cap in ((5, None), (10, None), (15, 1.0)):
        rates = _rejection_rates(d, 1000, 199, cap)
        assert abs(rates["monte_carlo"] - 0.05) < 3.5 * se, (d, cap, rates)


def test_exit_time_statistics_of_a_run():
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=0.01), x0=[-1.0],
                       stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=2000, t_max=40.0, seed=0)
    st = exit_time_statistics(res)
    s = res.summary()
    assert st.events == s.counts["EXITED"] and st.censored == s.counts["CENSORED"] > 0
    assert st.mean == pytest.approx(s.mean) and st.stderr == pytest.approx(s.stderr)
    exact = langevin_mean_exit_time_1d(double_well, 0.1, -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    e = st.exponential
    assert e.mean_ci[0] < exact < e.mean_ci[1] or abs(e.mean - exact) < 0.05 * exact  # deep-well law
    assert 0 < st.quantiles[0.1] < st.quantiles[0.5] < 40.0
    assert math.isnan(st.quantiles[0.9])  # 25% of the paths are still in at the cap
    assert st.exponential_test.shape > 1  # a shallow well (barrier / T = 2.5): exits need a rise time
    assert "exponential MLE" in str(st)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"times": [1.0, -1.0]}, ValueError, "times"),
    ({"times": [1.0, 2.0], "observed": [1, 2]}, ValueError, "observed"),
    ({"times": [1.0, 2.0], "confidence": 1.5}, ValueError, "confidence"),
    ({"times": [1.0, 2.0], "confidence": "high"}, TypeError, "confidence"),
])
def test_statistics_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        exponential_fit(**kwargs)


# --- geometry and Eyring–Kramers -------------------------------------------------------------------------------


def test_minima_saddles_and_barriers():
    f = esc.StrictSaddle([-1.0, 1.0])  # x^4/4 - x^2/2 + y^2/2 + y^4/4
    m = find_minimum(f, [-0.6, 0.4])
    s = find_saddle(f, [-0.4, 0.3])
    np.testing.assert_allclose(m.x, [-1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(s.x, [0.0, 0.0], atol=1e-9)
    assert m.index == 0 and s.index == 1
    np.testing.assert_allclose(m.eigenvalues, [1.0, 2.0])
    np.testing.assert_allclose(s.eigenvalues, [-1.0, 1.0])
    assert barrier(f, m, s) == pytest.approx(0.25)
    dw = esc.DoubleWell(dim=2)
    s2 = find_saddle(dw, [0.3, -0.7])
    np.testing.assert_allclose(s2.x, [0.0, -1.0], atol=1e-9)
    s3 = find_saddle(dw, [-1.0, -1.0])  # from a minimum: climbs the softest direction
    assert s3.index == 1 and s3.value == pytest.approx(-0.25)
    with pytest.raises(ValueError, match="x0"):
        find_saddle(f, [0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="landscape"):
        find_minimum(object(), [0.0])


def test_eyring_kramers_error_is_order_temperature():
    """The exact 1-D quadrature of the separable 2-D well: exact / Eyring–Kramers = 1 + 1.5 T + O(T^2), for the
    transition (full Gaussian at the saddle) and the crossing of the dividing surface x = 0 (half of it)."""
    f = esc.StrictSaddle([-1.0, 1.0])
    for T in (1 / 48, 1 / 96, 1 / 192):
        ek = eyring_kramers(f, [-1.0, 0.0], [0.0, 0.0], T)
        transition = langevin_mean_exit_time_1d(double_well, T, -1.0, -np.inf, 1.0, lower_boundary="reflecting")
        crossing = langevin_mean_exit_time_1d(double_well, T, -1.0, -np.inf, 0.0, lower_boundary="reflecting")
        assert abs((transition / ek.transition_time - 1) / T - 1.5) < 12 * T
        assert abs((crossing / ek.crossing_time - 1) / T - 1.5) < 12 * T
    assert ek.prefactor == pytest.approx(2 * math.pi / math.sqrt(2))  # sqrt(|det H(s)| / det H(m)) = sqrt(1 / 2)
    assert ek.barrier == pytest.approx(0.25) and ek.unstable_eigenvalue == pytest.approx(-1.0)


def test_eyring_kramers_against_simulation_2d():
    """dX = -grad f dt + sqrt(2T) dW on f = x^4/4 - x^2/2 + y^2/2 + y^4/4 at barrier / T = 6, from (-1, 0) to the
    other minimum's line x = 1. The asymptotic law is 8.3% below the exact answer here (its O(T) error), so the
    simulation (2.6% standard error) must agree with the exact quadrature to 3 SE and with Eyring–Kramers to 10%
    up to 2 SE."""
    f = esc.StrictSaddle([-1.0, 1.0])
    T = 0.25 / 6
    ek = eyring_kramers(f, [-1.0, 0.0], [0.1, -0.1], T)
    exact = langevin_mean_exit_time_1d(double_well, T, -1.0, -np.inf, 1.0, lower_boundary="reflecting")
    res = esc.simulate(f, esc.Langevin(temperature=T, dt=0.02), x0=[-1.0, 0.0],
                       stop=esc.HalfSpace(normal=[1.0, 0.0], offset=1.0), n_paths=1500, t_max=1e6, seed=0)
    s = res.summary()
    assert s.counts["EXITED"] == 1500
    rel_se = s.stderr / s.mean
    assert rel_se < 0.03
    assert abs(s.mean - exact) < 3 * s.stderr
    assert abs(exact / ek.transition_time - 1) < 0.10
    assert abs(s.mean / ek.transition_time - 1) < 0.10 + 2 * rel_se


class ScaledWell:
    """h f(x / L) for the 2-D well f = x^4/4 - x^2/2 + y^2/2 + y^4/4: energies in units of h, lengths of L."""

    dim = 2

    def __init__(self, h, L):
        self.h, self.L = h, L

    def value(self, x):
        u, v = np.asarray(x) / self.L
        return self.h * (u**4 / 4 - u**2 / 2 + v**2 / 2 + v**4 / 4)

    def gradient(self, x):
        u, v = np.asarray(x) / self.L
        return self.h / self.L * np.array([u**3 - u, v + v**3])

    def hessian(self, x):
        u, v = np.asarray(x) / self.L
        return self.h / self.L**2 * np.diag([3 * u**2 - 1, 1 + 3 * v**2])


@pytest.mark.parametrize("h, L", [(1e-14, 1.0), (1e-20, 1.0), (1e8, 1.0), (1.0, 1e-6), (1.0, 1e5), (1e-12, 1e-4)])
def test_eyring_kramers_keeps_its_answer_in_any_units(h, L):
    """Energies times h and lengths times L at T = h / 10: the same minimum and saddle (times L), barrier times h
    and transition time times L^2 / h. Absolute tolerances (a gradient of 1e-10, curvatures of at least 1e-12)
    left the start of the h = 1e-14 well unrefined and then called its minimum degenerate."""
    ref = eyring_kramers(ScaledWell(1.0, 1.0), [-0.9, 0.05], [0.1, -0.05], 0.1)
    ek = eyring_kramers(ScaledWell(h, L), [-0.9 * L, 0.05 * L], [0.1 * L, -0.05 * L], 0.1 * h)
    np.testing.assert_allclose(ek.minimum.x / L, [-1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(ek.saddle.x / L, [0.0, 0.0], atol=1e-9)
    assert ek.barrier / h == pytest.approx(ref.barrier, rel=1e-9)
    assert ek.transition_time * h / L**2 == pytest.approx(ref.transition_time, rel=1e-9)


def test_eyring_kramers_converges_every_direction_of_a_stiff_landscape():
    """A well with curvatures 1e8 across and 1 along the path: the refinement goes on to the softest curvature of
    the points it found (tolerances from the largest alone left the minimum 5.5e-4 off and the time 8.3e-4)."""
    ek = eyring_kramers(ScaledWell(1.0, 1.0), [-0.9, 0.01], [0.05, 0.01], 0.05)
    stiff = StiffWell()
    got = eyring_kramers(stiff, [-0.9, 0.01], [0.05, 0.01], 0.05)
    exact = 2 * math.pi / math.sqrt(2) * math.exp(0.25 / 0.05)  # 2 pi / |lambda_s| sqrt(|det Hs| / det Hm)
    assert got.transition_time == pytest.approx(exact, rel=1e-9) and ek.barrier == pytest.approx(0.25)
    np.testing.assert_allclose(got.minimum.x, [-1.0, 0.0], atol=1e-9)
    # one start for both points (between them) is allowed: the refinement's own defaults then
    both = eyring_kramers(stiff, [-0.5, 0.0], [-0.5, 0.0], 0.05)
    assert both.transition_time == pytest.approx(exact, rel=1e-9)


class StiffWell:
    """x^4/4 - x^2/2 + 1e8 y^2 / 2."""

    dim = 2

    def value(self, p):
        x, y = p
        return x**4 / 4 - x**2 / 2 + 0.5e8 * y**2

    def gradient(self, p):
        x, y = p
        return np.array([x**3 - x, 1e8 * y])

    def hessian(self, p):
        x, _ = p
        return np.array([[3 * x**2 - 1, 0.0], [0.0, 1e8]])


def test_eyring_kramers_bad_input():
    f = esc.StrictSaddle([-1.0, 1.0])
    with pytest.raises(ValueError, match="temperature"):
        eyring_kramers(f, [-1.0, 0.0], [0.0, 0.0], -1.0)
    with pytest.raises(ValueError, match="saddle"):
        eyring_kramers(f, [-1.0, 0.0], [-1.0, 0.0], 0.1, refine=False)
    with pytest.raises(ValueError, match="minimum"):
        eyring_kramers(f, [0.0, 0.0], [0.0, 0.0], 0.1, refine=False)
    with pytest.raises(TypeError, match="temperature"):
        eyring_kramers(f, [-1.0, 0.0], [0.0, 0.0], "0.1")
    # a numpy integer is a temperature like any other
    assert eyring_kramers(f, [-1.0, 0.0], [0.0, 0.0], np.int64(1)).transition_time == \
        eyring_kramers(f, [-1.0, 0.0], [0.0, 0.0], 1.0).transition_time


# --- quasi-potentials and minimum-action paths -----------------------------------------------------------------


def test_lyapunov_quasipotential_gradient_case_is_twice_the_potential():
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    qp = linear_quasipotential(H)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2))
    f = esc.Quadratic(H)
    np.testing.assert_allclose(qp(x), 2 * f.value(x))
    r = 0.7
    v0, where = qp.ball_exit(r)
    assert v0 == pytest.approx(np.linalg.eigvalsh(H)[0] * r**2)  # 2 min f on the sphere
    assert qp(where) == pytest.approx(v0)


@pytest.mark.parametrize("spectrum", [[1.0, 2.0, 5.0], [0.1, 3.0, 30.0]])
def test_hessian_shaped_noise_quasipotential_does_not_depend_on_h(spectrum):
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    H = q @ np.diag(spectrum) @ q.T
    H = (H + H.T) / 2
    S = np.linalg.cholesky(H)  # S S^T = H
    qp = linear_quasipotential(H, S)
    np.testing.assert_allclose(qp.P, np.eye(3) / 2, atol=1e-12)
    x = np.array([0.3, -0.2, 0.5])
    assert qp(x) == pytest.approx(x @ x)  # V = |x|^2
    assert qp.ball_exit(2.0)[0] == pytest.approx(4.0) and qp.exit_multiplicity() == 3


def test_discrete_quasipotential_tends_to_the_continuous_one():
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    cont = linear_quasipotential(H).ball_exit(1.0)[0]
    for eta in (1e-2, 1e-3):
        disc = linear_quasipotential(np.eye(2) - eta * H, math.sqrt(eta) * np.eye(2), discrete=True).ball_exit(1.0)[0]
        assert abs(disc / cont - 1) < 2 * eta * 2.2


def test_minimum_action_path_of_a_gradient_system():
    f = esc.StrictSaddle([-1.0, 1.0])
    bent = np.array([[-1.0, 0.0], [-0.5, 0.6], [0.0, 0.8], [0.5, 0.6], [1.0, 0.0]])
    string = minimum_energy_path(f, [-1.0, 0.0], [1.0, 0.0], path0=bent)
    assert string.converged
    np.testing.assert_allclose(string.path[string.highest], [0.0, 0.0], atol=1e-6)
    assert string.action == pytest.approx(2 * 0.25, rel=1e-6)
    gmam = minimum_action_path(f, [-1.0, 0.0], [1.0, 0.0], path0=bent)
    assert gmam.action == pytest.approx(2 * 0.25, rel=5e-3)  # second order in the spacing (65 images)
    assert np.linalg.norm(gmam.path - [0.0, 0.0], axis=1).min() < 0.02  # through the saddle


def test_minimum_action_path_of_a_non_normal_linear_system_matches_lyapunov():
    A = np.array([[1.0, 2.0], [0.0, 3.0]])
    S = np.array([[1.0, 0.2], [0.0, 0.7]])
    x1 = np.array([0.6, -0.4])
    gmam = minimum_action_path(lambda x: -x @ A.T, [0.0, 0.0], x1, S=S)
    assert gmam.action == pytest.approx(linear_quasipotential(A, S)(x1), rel=1e-3)


def test_quasipotential_bad_input():
    with pytest.raises(ValueError, match="A"):
        linear_quasipotential([[-1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="spectral radius"):
        linear_quasipotential(np.eye(2) * 1.5, discrete=True)
    with pytest.raises(ValueError, match="S"):
        linear_quasipotential(np.eye(2), np.ones((3, 1)))
    with pytest.raises(ValueError, match="n_images"):
        minimum_energy_path(esc.DoubleWell(), [-1.0], [1.0], n_images=2)


# --- Arrhenius fits --------------------------------------------------------------------------------------------


def test_arrhenius_fit_recovers_the_double_well_barrier():
    res = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=0.01),
                    grid={"dynamics.temperature": [1 / x for x in (10.0, 11.5, 13.0, 14.5, 16.0)]},
                    x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=2000, t_max=1e5, seed=0)
    fit = arrhenius_fit_sweep(res, "dynamics.temperature")
    assert abs(fit.barrier / 0.25 - 1) < 0.05
    assert fit.barrier_ci[0] < 0.25 < fit.barrier_ci[1]
    frame = res.to_pandas()
    direct = arrhenius_fit(frame["dynamics.temperature"], frame["mean"], frame["stderr"])
    assert direct.barrier == pytest.approx(fit.barrier)
    # the same numbers, read as eps = sqrt(2 T): exp(V0 / eps^2) with V0 = 2 * barrier
    eps = np.sqrt(2 * frame["dynamics.temperature"])
    assert arrhenius_fit(eps, frame["mean"], frame["stderr"], x="eps").barrier == pytest.approx(2 * fit.barrier)


def test_arrhenius_fit_reads_its_noise_levels_as_x_says():
    # exact data mean = 1.7 * exp(0.8 / eps^2), given as eps, 1 / eps^2, T = eps^2 (x = 1 / T) and as x itself
    eps = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    mean = 1.7 * np.exp(0.8 / eps**2)
    se = 0.03 * mean
    forms = [arrhenius_fit(eps, mean, se, x="eps"), arrhenius_fit(1 / eps**2, mean, se, x="inv_eps2"),
             arrhenius_fit(eps**2, mean, se, x="temperature"), arrhenius_fit(eps**2, mean, se),
             arrhenius_fit(1 / eps**2, mean, se, x="inverse"), arrhenius_fit(1 / eps**2, mean, se, scale="inverse"),
             arrhenius_fit(eps**2, mean, se, scale="temperature"), arrhenius_fit(eps, mean, se, x="eps", scale="eps")]
    for fit in forms:
        assert fit.barrier == pytest.approx(0.8) and fit.prefactor == pytest.approx(1.7)
        assert fit.barrier_stderr == pytest.approx(forms[0].barrier_stderr)
    # the older scale="eps" still reads eps, with a warning that names the explicit forms
    with pytest.warns(DeprecationWarning, match="x='inv_eps2'"):
        assert arrhenius_fit(eps, mean, se, scale="eps").barrier == pytest.approx(0.8)
    # 1 / eps^2 passed as scale="eps" (every level above 1: not noise amplitudes) is refused, not misread
    with pytest.raises(ValueError, match="x='inv_eps2'"):
        arrhenius_fit(1 / eps**2, mean, se, scale="eps")
    with pytest.raises(ValueError, match="disagree"):
        arrhenius_fit(eps, mean, se, x="eps", scale="inverse")
    with pytest.raises(ValueError, match="x must be one of"):
        arrhenius_fit(eps, mean, se, x="sigma")
    with pytest.raises(ValueError, match="scale must be one of"):
        arrhenius_fit(eps, mean, se, scale="inv_eps2")


def test_arrhenius_fit_exact_data_and_bad_input():
    x = np.array([2.0, 3.0, 4.0, 5.0])
    mean = 1.7 * x**-0.5 * np.exp(0.8 * x)
    fit = arrhenius_fit(x, mean, 0.02 * mean, scale="inverse", power=0.5)
    assert fit.barrier == pytest.approx(0.8) and fit.prefactor == pytest.approx(1.7)
    np.testing.assert_allclose(fit.predict(x), mean)
    assert arrhenius_fit(x, mean, 0.02 * mean, scale="inverse").barrier < 0.8  # the prefactor's power biases it
    with pytest.raises(ValueError, match="scale"):
        arrhenius_fit(x, mean, scale="beta")
    with pytest.raises(ValueError, match="mean"):
        arrhenius_fit(x, -mean)
    with pytest.raises(ValueError, match="two distinct"):
        arrhenius_fit([1.0, 1.0], [2.0, 3.0])
    with pytest.raises(TypeError, match="noise"):
        arrhenius_fit(["a", "b"], [2.0, 3.0])
    with pytest.raises(TypeError, match="confidence"):
        arrhenius_fit(x, mean, confidence="a")
    with pytest.raises(TypeError, match="power"):
        arrhenius_fit(x, mean, power="a")


# --- 003: SGD exit times ---------------------------------------------------------------------------------------


def test_sgd_predictions():
    H = np.diag([0.5, 2.0])
    r = 0.8
    iso = sgd_exit_time_prediction(H, r)
    assert iso.fw_slope == pytest.approx(0.5 * r**2) and iso.paper_slope == pytest.approx(2 * 0.5 * r**2)
    hess = sgd_exit_time_prediction(H, r, noise="hessian")
    assert hess.fw_slope == pytest.approx(r**2) and hess.paper_slope == pytest.approx(2 * r**2 * math.sqrt(0.5))
    assert sgd_exit_time_prediction(4 * H, r, noise="hessian").fw_slope == pytest.approx(r**2)  # sharpness cancels
    disc = sgd_exit_time_prediction(H, r, lr=1e-3)
    assert disc.dynamics == "discrete" and disc.fw_slope == pytest.approx(iso.fw_slope, rel=3e-3)
    with pytest.raises(ValueError, match="noise"):
        sgd_exit_time_prediction(H, r, noise="diagonal")
    with pytest.raises(ValueError, match="lr"):
        sgd_exit_time_prediction(H, r, lr=1.5)
    with pytest.raises(ValueError, match="radius"):
        sgd_exit_time_prediction(H, -1.0)
    with pytest.raises(ValueError, match="dynamics"):
        sgd_exit_time_experiment(H, r, dynamics="euler")
    with pytest.raises(ValueError, match="n_points"):
        sgd_exit_time_experiment(H, r, n_points=1)


def _disk_ou_mean_exit_time(lam, s2, r):
    """E[tau] from the centre of the disk |x| < r for dX = -lam X dt + sqrt(s2) dW in 2-D: the radial equation
    (s2 / 2) (u'' + u' / rho) - lam rho u' = -1, u(r) = 0, integrated twice."""
    from scipy import integrate

    def du(s):  # -u'(s)
        return (2 / s2) * integrate.quad(lambda t: (t / s) * math.exp(lam * (s * s - t * t) / s2), 0, s)[0]

    return integrate.quad(du, 0, r)[0]


def test_sgd_exit_time_default_dt_keeps_each_mean_within_2_percent_of_exact():
    """H = C = I, r = 1: dtheta = -theta dt + sqrt(eta / B) dW, exact E[tau] by radial quadrature. At the old
    default dt = 0.1 / lambda_max the means were about 0.8 of exact here."""
    x = [4.0, 5.0]
    e = sgd_exit_time_experiment(np.eye(2), 1.0, noise="hessian", inverse_noise=x, n_paths=1000, dt_ladder=False,
                                 seed=4)
    assert e.dt < 0.1 and abs(e.exponent_dt_bias) <= 0.01
    for xi, m, se in zip(x, e.mean, e.stderr):
        exact = _disk_ou_mean_exit_time(1.0, 1 / xi, 1.0)
        assert abs(m / exact - 1) <= 0.02 + 3 * se / exact, (xi, m, exact)


@pytest.mark.slow
def test_sgd_exit_time_row_within_2_percent_of_exact_at_every_point():
    """The reproduction's 2-D, alpha = 1, r = 1, C = H SDE row (its dt, 1000 paths a point) against
    `linear_mean_exit_time`: at the old dt = 0.1 / lambda_max these points were 0.68-0.86 of exact."""
    from escapade.analysis import linear_mean_exit_time

    H = sgd_exit_time._sgd_hessians()[2]
    e = sgd_exit_time_experiment(H, 1.0, noise="hessian", lr=0.1 / 3, n_paths=1000, dt_ladder=False, seed=7)
    for xi, m, se in zip(e.inverse_noise, e.mean, e.stderr):
        exact = linear_mean_exit_time(H, H / xi, esc.Ball(center=[0.0, 0.0], radius=1.0))
        assert abs(m / exact - 1) <= 0.02 + 3 * se / exact, (xi, m, exact)


def test_sgd_exit_time_ladder_measures_the_time_step_bias():
    """At a coarse dt the means are about 10% low; the coupled run at 2 dt measures that bias: mean - bias agrees
    with the exact mean."""
    x = [4.0, 5.0]
    e = sgd_exit_time_experiment(np.eye(2), 1.0, noise="hessian", inverse_noise=x, n_paths=1000, dt=0.05, seed=4)
    assert e.dt == 0.05 and e.coarse_results is not None
    for xi, m, se, b, sb in zip(x, e.mean, e.stderr, e.dt_bias, e.dt_bias_stderr):
        exact = _disk_ou_mean_exit_time(1.0, 1 / xi, 1.0)
        assert b / m < -0.04
        assert abs((m - b) / exact - 1) <= 0.02 + 3 * math.hypot(se, sb) / exact, (xi, m, b, exact)
    assert e.mean_dt_bias < 0 and math.isfinite(e.mean_dt_bias_stderr)
    assert math.isfinite(e.slope_dt_bias) and math.isfinite(e.slope_dt_bias_stderr)
    d = e.to_dict()
    assert d["dt"] == 0.05 and d["points"][0]["dt_bias"] == pytest.approx(e.dt_bias[0])
    with pytest.raises(ValueError, match="dt_rtol"):
        sgd_exit_time_experiment(np.eye(2), 1.0, inverse_noise=x, dt_rtol=1.5)
    with pytest.raises(ValueError, match="dt"):
        sgd_exit_time_experiment(np.eye(2), 1.0, inverse_noise=x, dt=-0.1)
    with pytest.raises(ValueError, match=r"dt must be below 2 / lambda_max\(H\) = 0.666667, got dt=1"):
        sgd_exit_time_experiment(np.diag([1.0, 3.0]), 1.0, inverse_noise=x, dt=1)


def test_sgd_exit_time_censored_points_raise_the_cap_or_say_so():
    """The map from 0 leaving the disk at B / eta = 2 and 6 (the deeper one's mean far beyond a cap of 2): without
    raising the cap its mean rests on the exponential MLE of mostly censored paths, and the row says so; with
    raises the cap grows until at most 10% of any point's paths are censored."""
    H = np.eye(2)
    kw = dict(noise="isotropic", dynamics="discrete", inverse_noise=[2.0, 6.0], n_paths=200, t_max=2.0, seed=5)
    stuck = sgd_exit_time_experiment(H, 1.0, cap_raises=0, **kw)
    assert stuck.censored[-1] > 20 and stuck.rests_on_censoring and stuck.estimator[-1] == "exponential MLE"
    fit = exponential_fit(stuck.results.results[-1])
    eta = stuck.params["lr"]
    assert stuck.mean[-1] == pytest.approx(fit.mean * eta)
    assert stuck.stderr[-1] == pytest.approx(fit.mean * eta / math.sqrt(fit.events))
    row = sgd_exit_time._table_row(stuck, 2, 1.0)
    assert ">10%" in row[7] and row[5] == "eta (map)"
    assert stuck.to_dict()["rests_on_censoring"] is True
    raised = sgd_exit_time_experiment(H, 1.0, **kw)
    assert raised.params["t_cap"] > 2.0 and not raised.rests_on_censoring
    assert raised.censored.max() <= 20 and ">10%" not in sgd_exit_time._table_row(raised, 2, 1.0)[7]
    with pytest.raises(ValueError, match="cap_raises"):
        sgd_exit_time_experiment(H, 1.0, cap_raises=-1, **{k: v for k, v in kw.items()})


def test_sgd_exit_time_exact_reference_solves_the_rows_sde():
    """The exact column of the reproduction: for H = C = I its means are the radial quadrature's at D = C / (B / eta),
    next to the simulated means and the FW (Laplace) estimate."""
    x = [3.0, 4.0]
    e = sgd_exit_time_experiment(np.eye(2), 1.0, noise="hessian", inverse_noise=x, n_paths=50, dt_ladder=False,
                                 seed=6)
    ref = sgd_exit_time._exact_reference(e)
    for q, xi, m in zip(ref["points"], x, e.mean):
        assert q["exact"] == pytest.approx(_disk_ou_mean_exit_time(1.0, 1 / xi, 1.0), rel=1e-6)
        assert q["mean"] == m and q["ratio"] == pytest.approx(m / q["exact"]) and q["fw_estimate"] > 0
    assert math.isfinite(ref["exact_corrected_slope"])


def test_sgd_reproduction_rows_have_their_own_seeds():
    configs = [(d, a, r, noise, dyn) for d in (2, 10) for a in (1.0, 4.0) for r in ((0.5, 1.0) if d == 2 else (1.0,))
               for noise in ("isotropic", "hessian") for dyn in ("continuous", "discrete")]
    seeds = [sgd_exit_time._row_seed(0, *c) for c in configs]
    assert len(configs) == 24 and len(set(seeds)) == 24
    assert sgd_exit_time._row_seed(1, *configs[0]) != seeds[0]
    assert sgd_exit_time._row_seed(0, *configs[0]) == seeds[0]  # a row's seed depends on the row only


def test_reproduce_sgd_exit_time_json(tmp_path, capsys, monkeypatch):
    # coarser SDE steps than the reproduction's, to keep this fast (the step rule is tested above)
    monkeypatch.setattr(sgd_exit_time, "DT_RTOL", 0.3)
    # and the simulated means for the exact ones (40 solves; the exact column is checked above)
    monkeypatch.setattr(sgd_exit_time, "_exact_means", lambda e: 1.01 * e.mean)
    assert main(["reproduce", "sgd-exit-time", "--paths", "10", "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "sgd-exit-time" and data["seed"] == 0
    assert {"description", "version", "params", "rows", "summary", "elapsed"} <= set(data)
    assert len(data["rows"]) == 24
    # every row its own seed stream: 24 independent runs, and alpha = 4 is not alpha = 1 rescaled in time
    assert len({r["seed"] for r in data["rows"]}) == 24
    assert data["design"]["independent"] == data["summary"]["independent"] == 24 == data["design"]["rows"]
    assert "24 independent runs of 12 models distinct in law" in data["summary"]["statement"]
    assert data["summary"]["distinct_models"] == 12
    pick = {(r["d"], r["alpha"], r["radius"], r["noise"], r["dynamics"]): r for r in data["rows"]}
    m1 = np.array([p["mean"] for p in pick[2, 1.0, 1.0, "hessian", "continuous"]["points"]])
    m4 = np.array([p["mean"] for p in pick[2, 4.0, 1.0, "hessian", "continuous"]["points"]])
    assert not np.allclose(4 * m4, m1, rtol=1e-6)
    for r in data["rows"]:
        if r["dynamics"] == "continuous":
            assert r["dt"] > 0 and r["dt_bias"]["mean_relative"] is not None
            assert all(p["dt_bias"] is not None for p in r["points"])
        else:
            assert r["dt"] is None and r["dt_bias"]["mean_relative"] is None
        assert r["rests_on_censoring"] == (r["censored_fraction"] > 0.1)
        if r["d"] == 2 and r["dynamics"] == "continuous":
            assert len(r["exact"]["points"]) == 5
            assert r["exact"]["points"][0]["ratio"] == pytest.approx(1 / 1.01)
        else:
            assert "exact" not in r
    row = data["rows"][0]
    assert {"d", "alpha", "radius", "noise", "dynamics", "lambda_min", "fw_slope", "paper_slope", "fit",
            "corrected_fit", "fw_agrees", "paper_agrees", "fw_deviation", "points"} <= set(row)
    assert {"slope", "stderr", "ci"} <= set(row["fit"])
    for r in data["rows"]:
        assert r["paper_slope"] / r["fw_slope"] >= 1.9  # 003's slope is at least twice V0 here
    assert data["summary"]["paper_disagrees"] >= 20
    assert {"rows", "paper_disagrees", "fw_in_interval", "max_abs_fw_deviation", "statement"} <= set(data["summary"])
    assert (tmp_path / "sgd-exit-time.json").exists()


@pytest.mark.parametrize("lam", [1.0, 4.0])
def test_hessian_noise_exponent_in_one_dimension_by_quadrature(lam):
    """d theta = -lam theta dt + eps sqrt(lam) dW (C = H = lam) leaving (-r, r): the exact mean exit time's slope
    in 1 / eps^2 tends to r^2 (minus the prefactor's 1 / (2 x)) for every lam; 003 says 2 r^2 sqrt(lam)."""
    r = 0.5

    def log_mean(x):  # Langevin form: U = lam theta^2 / 2, T = eps^2 lam / 2
        return math.log(langevin_mean_exit_time_1d(lambda t: lam * t * t / 2, lam / (2 * x), 0.0, -r, r))

    x = 120.0
    slope = (log_mean(x + 1) - log_mean(x - 1)) / 2
    assert slope + 1 / (2 * x) == pytest.approx(r**2, rel=0.02)
    p = sgd_exit_time_prediction([[lam]], r, noise="hessian")
    assert p.fw_slope == pytest.approx(r**2) and p.paper_slope == pytest.approx(2 * r**2 * math.sqrt(lam))


def test_exit_time_statistics_of_arrays_and_bad_quantiles():
    t = np.random.default_rng(5).exponential(1.0, 500)
    st = exit_time_statistics(t, quantiles=(0.5,))
    assert st.censored == 0 and st.quantiles[0.5] == pytest.approx(math.log(2), rel=0.15)
    assert st.exponential.mean == pytest.approx(t.mean())
    with pytest.raises(ValueError, match="quantiles"):
        exit_time_statistics(t, quantiles=(1.5,))
    with pytest.raises(ValueError, match="observed"):
        exit_time_statistics(esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.5, dt=0.01), x0=[-1.0],
                                          stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=4, t_max=10.0,
                                          seed=0), observed=[True] * 4)
