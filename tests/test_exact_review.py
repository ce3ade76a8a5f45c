"""Review fixes of the exact 1-D mean exit times (escapade.analysis.exact), sgd_exit_time_prediction and
exponential_test: infinite means refused, far walls that used to overflow, the tail of an explosion, the analytic
temperature derivative, and errors that name what went wrong. References are closed forms, 1-D quadratures of
closed forms, or (marked) 30-digit mpmath values."""
import math

import numpy as np
import pytest
from scipy import special, stats
from scipy.integrate import quad

from escapade.analysis import (
    coefficient_of_variation,
    exit_time_statistics,
    exponential_test,
    langevin_mean_exit_time_1d,
    langevin_mean_exit_time_derivative_1d,
    mean_exit_time_1d,
    sgd_exit_time_prediction,
)


def double_well(x):
    return x**4 / 4 - x**2 / 2


def fine_quad(f, a, b, points=None):
    return quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=500, points=points)[0]


# --- 1. an infinite mean exit time is refused, not returned as a finite (even negative) number ---------------------


@pytest.mark.parametrize("call", [
    # Brownian motion reflected at -inf: null recurrent, E[tau] = inf
    lambda: mean_exit_time_1d(0.0, 1.0, 0.5, -np.inf, 1.0, lower_boundary="reflecting"),
    lambda: mean_exit_time_1d(0.0, 1.0, 0.5, 0.0, np.inf, upper_boundary="reflecting"),  # the mirror image
    lambda: langevin_mean_exit_time_1d(lambda x: 0.0, 0.1, 0.5, -np.inf, 1.0, lower_boundary="reflecting"),
    # exp(-U / T) ~ |x|^-1/2 and ~ |x|^-1: not integrable
    lambda: langevin_mean_exit_time_1d(lambda x: 0.25 * math.log1p(x * x), 1.0, 0.5, -np.inf, 1.0,
                                       lower_boundary="reflecting"),
    lambda: langevin_mean_exit_time_1d(lambda x: 0.5 * math.log1p(x * x), 1.0, 0.5, -np.inf, 1.0,
                                       lower_boundary="reflecting"),
    lambda: langevin_mean_exit_time_derivative_1d(lambda x: 0.0, 0.1, 0.5, -np.inf, 1.0,
                                                  lower_boundary="reflecting"),
], ids=["bm", "bm-mirror", "flat", "log-quarter", "log-half", "derivative-flat"])
def test_an_infinite_mean_exit_time_is_refused(call):
    with pytest.raises(ValueError, match="infinite"):
        call()


@pytest.mark.parametrize("call", [
    # a drift away from the absorbing end: the speed measure grows exponentially
    lambda: mean_exit_time_1d(-1.0, 1.0, 0.5, -np.inf, 1.0, lower_boundary="reflecting"),
    lambda: langevin_mean_exit_time_derivative_1d(lambda x: x, 0.1, -1.0, -np.inf, 0.0, lower_boundary="reflecting"),
], ids=["drift-away", "derivative-drift-away"])
def test_a_mean_exit_time_beyond_floating_point_or_infinite_is_refused(call):
    with pytest.raises(ValueError, match="no finite floating-point value"):
        call()


@pytest.mark.parametrize("f", [langevin_mean_exit_time_1d, langevin_mean_exit_time_derivative_1d])
def test_the_derivative_refuses_an_unreachable_infinite_end_as_the_mean_does(f):
    # dX = dt + dW on (0, inf): never reaches +inf in finite time (the derivative returned -0.736)
    with pytest.raises(ValueError, match="upper=inf is infinite and absorbing"):
        f(lambda x: -x, 0.5, 0.5, 0.0, np.inf, lower_boundary="reflecting")


def flat_log_reference(alpha, x0):
    """U = alpha log(1 + x^2), T = 1, reflecting at -inf, absorbing at 1: T(x0) = int_x0^1 (1 + y^2)^alpha M(y) dy
    with M(y) = int_-inf^y (1 + z^2)^-alpha = sqrt(pi) Gamma(alpha - 1/2) / (2 Gamma(alpha)) + y 2F1(1/2, alpha;
    3/2; -y^2)."""
    half = math.sqrt(math.pi) * special.gamma(alpha - 0.5) / (2 * special.gamma(alpha))
    return fine_quad(lambda y: (1 + y * y) ** alpha * (half + y * special.hyp2f1(0.5, alpha, 1.5, -y * y)), x0, 1.0)


@pytest.mark.parametrize("alpha", [0.6, 1.0])
def test_a_slowly_decaying_speed_measure_is_summed_to_full_accuracy(alpha):
    # exp(-U) ~ |x|^-1.2: finite, but its tail converges slowly
    got = langevin_mean_exit_time_1d(lambda x: alpha * math.log1p(x * x), 1.0, 0.5, -np.inf, 1.0,
                                     lower_boundary="reflecting")
    assert got == pytest.approx(flat_log_reference(alpha, 0.5), rel=1e-10)


def test_the_arctan_case_in_closed_form():
    # alpha = 1: M(y) = arctan(y) + pi/2 and T(x) = F(1) - F(x), F = (y + y^3/3)(arctan y + pi/2) - y^2/6 - log(1+y^2)/3
    def F(y):
        return (y + y**3 / 3) * (math.atan(y) + math.pi / 2) - y * y / 6 - math.log1p(y * y) / 3

    x = np.array([-2.0, 0.0, 0.5])
    got = langevin_mean_exit_time_1d(lambda t: math.log1p(t * t), 1.0, x, -np.inf, 1.0, lower_boundary="reflecting")
    np.testing.assert_allclose(got, [F(1.0) - F(v) for v in x], rtol=1e-10)


# --- 2. a far wall high up the potential no longer overflows -------------------------------------------------------


def drift_closed_form(mu, var, x, lower, upper):
    """dX = mu dt + sqrt(var) dW, both ends absorbing: E[tau] = (lower + (upper - lower) p - x) / mu with
    p = expm1(-k (x - lower)) / expm1(-k (upper - lower)), k = 2 mu / var (optional stopping)."""
    k = 2 * mu / var
    a1, a2 = x - lower, upper - lower
    if k > 0:
        p = math.expm1(-k * a1) / math.expm1(-k * a2)
    else:  # the same ratio, without exp(|k| a2) overflowing
        p = math.exp(k * (a2 - a1)) * math.expm1(k * a1) / math.expm1(k * a2)
    return (lower + (upper - lower) * p - x) / mu


@pytest.mark.parametrize("mu, x", [(1.0, 8.0), (-1.0, 2.0)])
def test_a_strong_drift_across_a_long_interval_has_its_closed_form(mu, x):
    # k (upper - lower) = 1000: exp(psi(y) - psi(z)) reaches e^800 although the answer is 2
    expected = drift_closed_form(mu, 0.02, x, 0.0, 10.0)
    assert mean_exit_time_1d(lambda _y: mu, 0.02, x, 0.0, 10.0) == pytest.approx(expected, rel=1e-10)
    assert langevin_mean_exit_time_1d(lambda y: -mu * y, 0.01, x, 0.0, 10.0) == pytest.approx(expected, rel=1e-10)


def test_the_ornstein_uhlenbeck_far_wall():
    # U = x^2 / 2, T = 0.1 from 0 on (-1, 12): the wall at 12 contributes e^-720; 30-digit mpmath of the Green's
    # function formula: 134.287085954222 (the same on (-1, 6))
    U = lambda x: x * x / 2  # noqa: E731
    assert langevin_mean_exit_time_1d(U, 0.1, 0.0, -1.0, 12.0) == pytest.approx(134.287085954222, rel=1e-11)
    assert mean_exit_time_1d(lambda x: -x, 0.2, 0.0, -1.0, 12.0) == pytest.approx(134.287085954222, rel=1e-11)


@pytest.mark.parametrize("T, x0, absorbing, reflecting", [
    (0.01, -1.0, (-3.0, 1.2), dict(lower=-np.inf, upper=1.2, lower_boundary="reflecting")),
    (0.1, 0.0, (-0.01, 5.0), dict(lower=-0.01, upper=np.inf, upper_boundary="reflecting")),
])
def test_a_far_wall_of_the_double_well_is_as_good_as_reflecting(T, x0, absorbing, reflecting):
    # the far wall lies e^-1500 up the potential: absorbing there or reflecting at infinity (another code path)
    # agree to rounding; both ends absorbing used to overflow
    got = langevin_mean_exit_time_1d(double_well, T, x0, *absorbing)
    assert got == pytest.approx(langevin_mean_exit_time_1d(double_well, T, x0, **reflecting), rel=1e-10)


# --- 3. an absorbing end at infinity (an explosion) to the documented accuracy -------------------------------------


@pytest.mark.parametrize("x0, expected", [(0.0, 4.17962341223497), (5.0, 0.200404677461823)])
def test_the_quadratic_integrate_and_fire_neuron_to_1e_10(x0, expected):
    # dX = X^2 dt + dW, reflecting at -inf, absorbing at +inf (was 1.25e-4 off at x0 = 5). The reference is
    # 30-digit mpmath of int_x0^inf dy int_0^inf 2 exp(-2 t (t^2 - 3 y t + 3 y^2) / 3) dt, the exponent expanded.
    got = mean_exit_time_1d(lambda x: x * x, 1.0, x0, -np.inf, np.inf, lower_boundary="reflecting")
    assert got == pytest.approx(expected, rel=1e-10)
    langevin = langevin_mean_exit_time_1d(lambda x: -x**3 / 3, 0.5, x0, -np.inf, np.inf, lower_boundary="reflecting")
    assert langevin == pytest.approx(expected, rel=1e-10)


def test_the_explosion_with_an_absorbing_lower_end():
    # the same neuron absorbed at -1 too (30-digit mpmath of the Green's function formula on (-1, inf)); the far
    # end's boundary layer (width 1 / (2 c^2) at the cut c) used to slip between Gauss-Kronrod's nodes
    got = mean_exit_time_1d(lambda x: x * x, 1.0, 0.0, -1.0, np.inf)
    assert got == pytest.approx(1.70035273344554, rel=1e-10)


@pytest.mark.parametrize("x0, expected", [(0.0, 3.045448004719119), (6.0, 0.8176686845168502)])
def test_an_explosion_at_power_one_and_a_half(x0, expected):
    # dX = X^1.5 dt + dW on (0, inf), reflecting at 0. Reference: int_x0^200 g by 30-digit mpmath (g(y) =
    # int_0^y 2 exp(0.8 (z^2.5 - y^2.5)) dz) plus int_200^inf of g's asymptotic series to 7 terms (exact sympy
    # integrals; the series agrees with g(200) to 30 digits)
    got = mean_exit_time_1d(lambda x: abs(x)**1.5, 1.0, x0, 0.0, np.inf, lower_boundary="reflecting")
    assert got == pytest.approx(expected, rel=1e-10)


# --- 4. the temperature derivative with two absorbing ends is analytic ---------------------------------------------


def ou_reflecting_reference(T):
    """U = x^2 / 2 on (0, 1), reflecting at 0, from 0 (= both ends of (-1, 1) absorbing, by symmetry): with
    a = 1 / (2T) and g(y) = exp(a y^2) sqrt(pi a) erf(y sqrt(a)), E[tau] = int_0^1 g and, as
    dg/da = y^2 g + g / (2a) + y, dE[tau]/dT = -2 a^2 int_0^1 (y^2 g + g / (2a) + y)."""
    a = 1 / (2 * T)

    def g(y):
        return math.exp(a * y * y) * math.sqrt(math.pi * a) * math.erf(y * math.sqrt(a))

    mean = fine_quad(g, 0.0, 1.0)
    derivative = -2 * a * a * fine_quad(lambda y: y * y * g(y) + g(y) / (2 * a) + y, 0.0, 1.0)
    return mean, derivative


@pytest.mark.parametrize("T", [0.05, 0.01, 0.005])
def test_the_derivative_keeps_its_accuracy_at_low_temperature(T):
    # barrier / T = 10, 50, 100: the Richardson difference was 1.3e-9, 2.9e-7, 4.0e-6 off
    U = lambda x: x * x / 2  # noqa: E731
    mean, derivative = ou_reflecting_reference(T)
    assert langevin_mean_exit_time_1d(U, T, 0.0, -1.0, 1.0) == pytest.approx(mean, rel=1e-10)
    assert langevin_mean_exit_time_derivative_1d(U, T, 0.0, -1.0, 1.0) == pytest.approx(derivative, rel=1e-9)
    reflecting = langevin_mean_exit_time_derivative_1d(U, T, 0.0, 0.0, 1.0, lower_boundary="reflecting")
    assert reflecting == pytest.approx(derivative, rel=1e-9)


@pytest.mark.parametrize("mu, T", [(0.7, 0.5), (-1.3, 0.5), (0.7, 0.05)])
def test_the_derivative_of_a_constant_drift_in_closed_form(mu, T):
    # U = -mu x, both ends absorbing: E[tau] = (lower + (upper - lower) p - x) / mu with k = mu / T in p, so
    # dE/dT = (upper - lower) / mu * dp/dk * (-mu / T^2). Where the drift dominates (k = 14) the derivative is
    # far below its terms, of size E[tau] / T: it is good to 1e-10 of those
    lower, upper = -1.0, 1.5
    x = np.array([-0.6, 0.2, 1.1])
    k = mu / T
    A, B = np.expm1(-k * (x - lower)), math.expm1(-k * (upper - lower))
    dp = (-(x - lower) * np.exp(-k * (x - lower)) * B + A * (upper - lower) * math.exp(-k * (upper - lower))) / B**2
    expected = (upper - lower) / mu * dp * (-mu / T**2)
    got = langevin_mean_exit_time_derivative_1d(lambda y: -mu * y, T, x, lower, upper)
    scale = langevin_mean_exit_time_1d(lambda y: -mu * y, T, x, lower, upper) / T
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10 * float(scale.max()))


def test_the_derivative_of_the_explosion_matches_a_difference_of_the_mean():
    # the tail beyond the cut contributes its own derivative (terms in T and T^2)
    U = lambda x: -x**3 / 3  # noqa: E731
    args = (0.0, -np.inf, np.inf)
    h = 1e-4
    diff = (langevin_mean_exit_time_1d(U, 0.5 + h, *args, lower_boundary="reflecting")
            - langevin_mean_exit_time_1d(U, 0.5 - h, *args, lower_boundary="reflecting")) / (2 * h)
    got = langevin_mean_exit_time_derivative_1d(U, 0.5, *args, lower_boundary="reflecting")
    assert got == pytest.approx(diff, rel=1e-7)


# --- 5. errors that say what went wrong ----------------------------------------------------------------------------


def test_the_derivative_refuses_an_overflow_with_a_value_error():
    # it let a raw OverflowError out where the mean said ValueError
    for f in (langevin_mean_exit_time_1d, langevin_mean_exit_time_derivative_1d):
        with pytest.raises(ValueError, match="no finite floating-point value"):
            f(double_well, 2e-4, -1.0, -np.inf, 0.0, lower_boundary="reflecting")


def test_a_drift_or_noise_variance_returning_an_array_is_named():
    with pytest.raises(TypeError, match="drift must return a single real number"):
        mean_exit_time_1d(lambda x: np.array([x, x]), 1.0, 0.5, 0.0, 1.0)
    with pytest.raises(TypeError, match="noise_variance must return a single real number"):
        mean_exit_time_1d(0.0, lambda x: np.array([1.0, 1.0]), 0.5, 0.0, 1.0)


def test_an_answer_beyond_floating_point_is_called_an_overflow_not_a_nan():
    # Brownian motion on (-1e200, 1e200): E[tau] = 1e400
    with pytest.raises(ValueError, match="overflowed") as info:
        mean_exit_time_1d(0.0, 1.0, 0.0, -1e200, 1e200)
    assert "NaN" not in str(info.value)


@pytest.mark.parametrize("lam", [1e-12, 1e-17])
def test_sgd_prediction_of_an_ill_conditioned_hessian(lam):
    # positive definite, condition number 1e17: V0 = lambda_min r^2 (isotropic), r^2 (C = H), and for the map
    # min over i of r^2 lambda_i (2 - eta lambda_i) / 2
    H = np.diag([lam, 1.0])
    assert sgd_exit_time_prediction(H, 1.0).fw_slope == pytest.approx(lam, rel=1e-12)
    assert sgd_exit_time_prediction(H, 1.0, noise="hessian").fw_slope == pytest.approx(1.0, rel=1e-12)
    disc = sgd_exit_time_prediction(H, 2.0, lr=0.5)
    assert disc.fw_slope == pytest.approx(4.0 * lam * (2 - 0.5 * lam) / 2, rel=1e-12)
    assert disc.fw_continuous_slope == pytest.approx(4.0 * lam, rel=1e-12)


def test_exponential_test_of_times_spanning_the_floating_point_range():
    # t / mean(t) underflowed to 0 and scipy's root finder saw NaN; the test is scale-free, so it must not care
    t = np.array([1e-300, 1.0, 1e300])
    r = exponential_test(t)
    assert 0.0 <= r.p_value <= 1.0 and math.isfinite(r.statistic)
    assert r.shape_ci[0] <= r.shape <= r.shape_ci[1]
    s = exponential_test(t * 1e-8)
    assert s.statistic == pytest.approx(r.statistic, rel=1e-9) and s.shape == pytest.approx(r.shape, rel=1e-6)
    assert exit_time_statistics([1e-200, 1.0, 2.0, 3.0]).exponential_test is not None


@pytest.mark.parametrize("inverse_temperature", [340, 400, 800])
def test_a_deep_well_with_an_infinite_reflecting_end(inverse_temperature):
    """The blocks of the speed measure's mass fall off by more than e^-745 at such a temperature: their ratio
    underflowed to 0 and math.log(0) raised 'math domain error'. The mass beyond x = -3 is below e^-6000 of it, so
    a reflecting wall there gives the same mean (its own quadrature, no blocks)."""
    U = lambda x: x**4 / 4 - x**2 / 2  # noqa: E731
    T = 1.0 / inverse_temperature
    far = langevin_mean_exit_time_1d(U, T, -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    wall = langevin_mean_exit_time_1d(U, T, -1.0, -3.0, 0.0, lower_boundary="reflecting")
    assert far == pytest.approx(wall, rel=1e-12) and far > 1e35
    d_far = langevin_mean_exit_time_derivative_1d(U, T, -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    d_wall = langevin_mean_exit_time_derivative_1d(U, T, -1.0, -3.0, 0.0, lower_boundary="reflecting")
    assert d_far == pytest.approx(d_wall, rel=1e-10) and d_far < 0


def test_weibull_shape_outside_the_old_bracket():
    """The shape was fitted only within [e^-6, e^6]: on [1e-300, 1, 1e300] it reported the bracket's edge 0.00248.
    The MLE is the root of the profile score, 0.00201940759146486 by bisection at 60 digits (mpmath)."""
    r = exponential_test([1e-300, 1.0, 1e300])
    assert r.shape == pytest.approx(0.0020194075914648572, rel=1e-9)
    assert r.shape_ci[0] < r.shape < r.shape_ci[1] < 1.0
    # against scipy's censored Weibull fit at a shape of 30 with censoring
    rng = np.random.default_rng(5)
    t = rng.weibull(30.0, 400)
    observed = t < 1.03
    fit = exponential_test(np.minimum(t, 1.03), observed)
    data = stats.CensoredData(uncensored=t[observed], right=np.full(int((~observed).sum()), 1.03))
    k, _, _ = stats.weibull_min.fit(data, floc=0.0)
    assert fit.shape == pytest.approx(k, rel=1e-4) and fit.shape_ci[0] < 30.0 < fit.shape_ci[1]
    big = exponential_test(rng.weibull(1e3, 100) * 5.0)  # k far above e^6, its interval around it
    assert big.shape_ci[0] < 1e3 < big.shape_ci[1] and 403 < big.shape


def test_identical_event_times_have_an_infinite_weibull_shape():
    # the likelihood grows without bound as k -> infinity: the exponential law is rejected outright
    r = exponential_test([2.0, 2.0, 2.0, 2.0])
    assert r.shape == math.inf and r.statistic == math.inf and r.p_value == 0.0 and r.shape_ci == (math.inf, math.inf)
    cv = coefficient_of_variation([2.0, 2.0, 2.0, 2.0, 1.5], [1, 1, 1, 1, 0])  # censored before the events
    assert cv.value == 0.0 and cv.ci[0] == 0.0


def test_exponential_test_is_unchanged_in_the_ordinary_range():
    rng = np.random.default_rng(3)
    t = rng.weibull(1.4, 200) * 7.0
    r = exponential_test(t)
    for scale in (1e-250, 1e250):
        s = exponential_test(t * scale)
        assert s.statistic == pytest.approx(r.statistic, rel=1e-8)
        assert s.shape_ci == pytest.approx(r.shape_ci, rel=1e-6)
    assert r.shape == pytest.approx(1.4, rel=0.15) and r.p_value < 1e-3
