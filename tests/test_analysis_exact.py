"""Tests of the exact mean exit times in escapade.analysis."""
import math

import numpy as np
import pytest

from escapade.analysis import (
    brownian_ball_exit_time,
    langevin_mean_exit_time_1d,
    mean_exit_time_1d,
)

from conftest import double_well


def double_well_drift(x):
    return x - x**3


def test_brownian_motion_two_absorbing_ends():
    lower, upper, var = -0.5, 2.0, 0.7
    x = np.linspace(lower, upper, 7)
    got = mean_exit_time_1d(0.0, var, x, lower, upper)
    assert isinstance(got, np.ndarray) and got.shape == x.shape
    np.testing.assert_allclose(got, (x - lower) * (upper - x) / var, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("mu", [-3.0, 0.4, 5.0])
def test_constant_drift_two_absorbing_ends(mu):
    # Optional stopping: E[X_tau] - x0 = mu E[tau], and the probability of
    # leaving through the upper end is (1 - e^{-k (x0-l)}) / (1 - e^{-k (r-l)})
    # with k = 2 mu / sigma^2.
    lower, upper, var = 1.0, 3.0, 0.8
    k = 2 * mu / var
    x = np.array([1.2, 2.0, 2.9])
    p_upper = np.expm1(-k * (x - lower)) / np.expm1(-k * (upper - lower))
    expected = (lower + (upper - lower) * p_upper - x) / mu
    got = mean_exit_time_1d(lambda _x: mu, lambda _x: var, x, lower, upper)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_reflecting_lower_end():
    radius, var = 1.5, 0.3
    x = np.array([0.0, 0.4, 1.5])
    got = mean_exit_time_1d(0.0, var, x, 0.0, radius, lower_boundary="reflecting")
    np.testing.assert_allclose(got, (radius**2 - x**2) / var, rtol=1e-10, atol=1e-14)


def test_reflecting_upper_end_mirrors_lower():
    got = mean_exit_time_1d(0.0, 0.3, -0.4, -1.5, 0.0, upper_boundary="reflecting")
    assert isinstance(got, float)
    assert got == pytest.approx((1.5**2 - 0.4**2) / 0.3, rel=1e-10)


def test_double_well_w1():
    kwargs = dict(lower_boundary="reflecting")
    t_langevin = langevin_mean_exit_time_1d(double_well, 1 / 16, -1.0, -np.inf, 0.0, **kwargs)
    t_drift = mean_exit_time_1d(double_well_drift, 1 / 8, -1.0, -np.inf, 0.0, **kwargs)
    assert round(t_langevin, 3) == 135.783
    assert t_drift == pytest.approx(t_langevin, rel=1e-8)


def test_small_noise_does_not_overflow():
    # Barrier height / T = 25: the answer is about e^25 ~ 1e11 while the
    # scale and speed densities separately span far more than that.
    kwargs = dict(lower_boundary="reflecting")
    t_langevin = langevin_mean_exit_time_1d(double_well, 0.01, -1.0, -np.inf, 0.0, **kwargs)
    t_drift = mean_exit_time_1d(double_well_drift, 0.02, -1.0, -np.inf, 0.0, **kwargs)
    # Kramers: pi / sqrt(U''(-1) |U''(0)|) e^{dU/T}, up to O(T) corrections.
    kramers = math.pi / math.sqrt(2.0) * math.exp(25.0)
    assert t_langevin == pytest.approx(kramers, rel=0.05)
    assert t_drift == pytest.approx(t_langevin, rel=1e-8)


def test_langevin_two_absorbing_ends_matches_drift_form():
    x = np.array([-0.9, 0.0, 0.3])
    t_langevin = langevin_mean_exit_time_1d(double_well, 0.2, x, -1.5, 1.2)
    t_drift = mean_exit_time_1d(double_well_drift, 0.4, x, -1.5, 1.2)
    np.testing.assert_allclose(t_drift, t_langevin, rtol=1e-8)


def ou_exit_time_series(x, theta, sigma, a, terms=200):
    """Even power series of the solution of (sigma^2/2) T'' - theta x T' = -1,
    T(+-a) = 0: c_2 = -1/sigma^2, c_{n+2} = k n c_n / ((n+2)(n+1)), k = 2 theta/sigma^2."""
    k = 2 * theta / sigma**2
    coeffs = {2: -1 / sigma**2}
    for n in range(2, 2 * terms, 2):
        coeffs[n + 2] = k * n * coeffs[n] / ((n + 2) * (n + 1))

    def series(t):
        return sum(c * t**n for n, c in coeffs.items())

    return series(x) - series(a)


def test_ornstein_uhlenbeck_symmetric_interval():
    theta, sigma, a = 1.3, 0.6, 1.0
    x = np.array([0.0, 0.5, -0.8])
    got = mean_exit_time_1d(lambda y: -theta * y, sigma**2, x, -a, a)
    np.testing.assert_allclose(got, ou_exit_time_series(x, theta, sigma, a), rtol=1e-6)
    # Same answer via symmetry: reflecting at 0, and via the potential theta x^2 / 2.
    half = mean_exit_time_1d(
        lambda y: -theta * y, sigma**2, 0.0, 0.0, a, lower_boundary="reflecting"
    )
    pot = langevin_mean_exit_time_1d(lambda y: theta * y**2 / 2, sigma**2 / 2, 0.0, -a, a)
    assert half == pytest.approx(got[0], rel=1e-8)
    assert pot == pytest.approx(got[0], rel=1e-8)


@pytest.mark.parametrize("d", [1, 3, 10])
def test_brownian_ball(d):
    rng = np.random.default_rng(d)
    center = rng.normal(size=d)
    offset = rng.normal(size=d)
    offset *= 0.7 / np.linalg.norm(offset)
    got = brownian_ball_exit_time(center + offset, 2.0, temperature=0.25, center=center)
    assert got == pytest.approx((4.0 - 0.49) / (d * 0.5), rel=1e-12)
    assert brownian_ball_exit_time(np.zeros(d), 2.0, temperature=0.25) == pytest.approx(8.0 / d)


def test_brownian_ball_1d_matches_interval():
    t_ball = brownian_ball_exit_time([0.3], 1.2, temperature=0.4, center=[-0.1])
    t_line = mean_exit_time_1d(0.0, 2 * 0.4, 0.3, -1.3, 1.1)
    assert t_ball == pytest.approx(t_line, rel=1e-10)


def zero(_x):
    return 0.0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(x0=2.0), "x0"),
        (dict(x0=float("nan")), "x0"),
        (dict(x0=[0.5, -0.1]), "x0"),
        (dict(lower=1.0, upper=1.0), "lower"),
        (dict(lower_boundary="sticky"), "lower_boundary"),
        (dict(upper_boundary="Absorbing"), "upper_boundary"),
        (dict(lower=-np.inf), "lower=-inf"),
        (dict(upper=np.inf), "upper=inf"),
        (dict(lower_boundary="reflecting", upper_boundary="reflecting"), "reflecting"),
        (dict(noise_variance=0.0), "noise_variance"),
        (dict(noise_variance=lambda x: x - 0.3), "noise_variance"),
    ],
)
def test_mean_exit_time_bad_input(kwargs, name):
    args = dict(drift=zero, noise_variance=1.0, x0=0.5, lower=0.0, upper=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        mean_exit_time_1d(**args)


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(temperature=0.0), "temperature"), (dict(temperature=-1.0), "temperature"),
     (dict(x0=-0.5), "x0")],
)
def test_langevin_bad_input(kwargs, name):
    args = dict(potential=double_well, temperature=0.1, x0=0.5, lower=0.0, upper=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        langevin_mean_exit_time_1d(**args)


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        (([1.0, 1.0], 1.0), dict(temperature=1.0), "x0"),
        (([0.1, 0.1], 0.0), dict(temperature=1.0), "radius"),
        (([0.1, 0.1], 1.0), dict(temperature=0.0), "temperature"),
        (([0.1, 0.1], 1.0), dict(temperature=1.0, center=[0.0, 0.0, 0.0]), "center"),
        (([[0.1, 0.1]], 1.0), dict(temperature=1.0), "x0"),
    ],
)
def test_brownian_ball_bad_input(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        brownian_ball_exit_time(*args, **kwargs)
