"""Tests of the exact splitting probabilities in escapade.analysis: the diffusion's (scale-function quadrature)
against closed forms and an independent high-precision quadrature, and the Euler–Maruyama chain's (Nyström solve)
against the numbers of issue 24, its limit dt -> 0, a symmetry, and a plain Monte Carlo run of the chain."""
import math

import mpmath
import numpy as np
import pytest

import escapade as esc
from escapade.analysis import (
    euler_chain_splitting_probability,
    langevin_splitting_probability_1d,
    splitting_probability_1d,
)

from conftest import double_well


def double_well_gradient(x):
    return x**3 - x


def double_well_drift(x):
    return x - x**3


def mp_double_well_splitting(temperature, x0, lower, upper, dps=40):
    """int_lower^x0 exp(U/T) / int_lower^upper exp(U/T) in mpmath at `dps` digits, as a float; each integral over
    40 pieces, short enough for the peaks of width about T / |U'| at the ends (T >= 1/200 here)."""
    with mpmath.workdps(dps):
        t = mpmath.mpf(temperature)

        def f(y):
            return mpmath.exp((y**4 / 4 - y**2 / 2) / t)

        def integral(a, b):
            a, b = mpmath.mpf(a), mpmath.mpf(b)
            return mpmath.quad(f, mpmath.linspace(a, b, 41))

        return float(integral(lower, x0) / (integral(lower, x0) + integral(x0, upper)))


# ---------------------------------------------------------------------------------------------------------------
# The diffusion


def test_brownian_motion_is_linear():
    lower, upper = -0.5, 2.0
    x = np.linspace(lower, upper, 9)
    got = splitting_probability_1d(0.0, 0.7, x, lower, upper)
    assert isinstance(got, np.ndarray) and got.shape == x.shape
    np.testing.assert_allclose(got, (x - lower) / (upper - lower), rtol=1e-12, atol=0)
    flat = langevin_splitting_probability_1d(lambda _y: 0.0, 0.3, x, lower, upper)
    np.testing.assert_allclose(flat, (x - lower) / (upper - lower), rtol=1e-12, atol=0)
    assert isinstance(splitting_probability_1d(0.0, 1.0, 0.25, 0.0, 1.0), float)


@pytest.mark.parametrize("mu, var", [(0.7, 0.5), (-1.3, 2.0), (-100.0, 1.0), (40.0, 0.25)])
def test_constant_drift_closed_form(mu, var):
    # P = (1 - exp(-2 mu (x0 - a) / var)) / (1 - exp(-2 mu (b - a) / var)); mu = -100 gives P down to 1e-70
    lower, upper = 0.0, 1.0
    x = np.array([0.0, 0.05, 0.2, 0.5, 0.9, 0.999, 1.0])
    c = 2 * mu / var
    if c > 0:  # both exponentials tiny: the form without overflow
        want = -np.expm1(-c * (x - lower)) / -np.expm1(-c * (upper - lower))
    else:  # both huge: divide through by exp(-c (b - a))
        want = np.exp(-c * (x - upper)) * -np.expm1(c * (x - lower)) / -np.expm1(c * (upper - lower))
        want[0] = 0.0
    got = splitting_probability_1d(lambda _y: mu, lambda _y: var, x, lower, upper)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
    assert got[0] == 0.0 and got[-1] == 1.0
    if mu == -100.0:
        assert 0 < got[1] < 1e-80  # e^-190: relative accuracy kept far below 1e-15


@pytest.mark.parametrize("temperature", [1 / 40, 1 / 100, 1 / 200])
def test_double_well_against_mpmath(temperature):
    lower, upper = -0.9, 0.0
    x = np.array([-0.899, -0.85, -0.8, -0.5, -0.2, -0.01])
    got = langevin_splitting_probability_1d(double_well, temperature, x, lower, upper)
    want = np.array([mp_double_well_splitting(temperature, xi, lower, upper) for xi in x])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
    if temperature == 1 / 200:
        assert want[0] < 1e-20  # tiny values keep their relative accuracy
    # the general form, with psi by quadrature, and a landscape give the same
    drift = splitting_probability_1d(double_well_drift, 2 * temperature, x, lower, upper)
    np.testing.assert_allclose(drift, want, rtol=1e-9, atol=0)
    np.testing.assert_allclose(langevin_splitting_probability_1d(esc.DoubleWell(), temperature, x, lower, upper),
                               got, rtol=1e-12, atol=0)


def test_double_well_wide_interval_against_mpmath():
    # lower in the far wall, the minimum inside: psi spans over 100 and the integrand has two humps
    temperature, lower, upper = 1 / 100, -1.6, 0.0
    x = np.array([-1.55, -1.0, -0.3])
    got = langevin_splitting_probability_1d(double_well, temperature, x, lower, upper)
    want = np.array([mp_double_well_splitting(temperature, xi, lower, upper) for xi in x])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)


def test_issue_values_of_the_diffusion():
    # the SDE's p of issue 24: x0 = -0.8, A = {x <= -0.9}, B = {x >= 0}
    assert f"{langevin_splitting_probability_1d(double_well, 1 / 64, -0.8, -0.9, 0.0):.4e}" == "2.7585e-07"
    assert f"{langevin_splitting_probability_1d(double_well, 1 / 32, -0.8, -0.9, 0.0):.4e}" == "2.8367e-04"


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(lower=1.0, upper=1.0), ValueError, "lower"),
        (dict(lower=1.0, upper=0.0), ValueError, "lower"),
        (dict(lower=-np.inf), ValueError, "lower"),
        (dict(upper=np.nan), ValueError, "upper"),
        (dict(x0=1.5), ValueError, "x0"),
        (dict(x0=[0.5, -0.1]), ValueError, "x0"),
        (dict(x0=np.nan), ValueError, "x0"),
        (dict(noise_variance=0.0), ValueError, "noise_variance"),
        (dict(noise_variance=lambda y: y - 0.3), ValueError, "noise_variance"),
        (dict(rtol=0.0), ValueError, "rtol"),
    ],
)
def test_splitting_bad_input(kwargs, error, name):
    args = dict(drift=0.0, noise_variance=1.0, x0=0.5, lower=0.0, upper=1.0)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        splitting_probability_1d(**args)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(temperature=-1.0), ValueError, "temperature"),
        (dict(temperature=np.inf), ValueError, "temperature"),
        (dict(x0=-0.95), ValueError, "x0"),
        (dict(lower=0.0, upper=-0.9), ValueError, "lower"),
        (dict(potential="x**2"), TypeError, "potential"),
        (dict(potential=esc.DoubleWell(dim=2)), ValueError, "potential"),
    ],
)
def test_langevin_splitting_bad_input(kwargs, error, name):
    args = dict(potential=double_well, temperature=0.1, x0=-0.8, lower=-0.9, upper=0.0)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        langevin_splitting_probability_1d(**args)


# ---------------------------------------------------------------------------------------------------------------
# The Euler–Maruyama chain


@pytest.mark.parametrize("temperature, sde, percent", [(1 / 64, "2.7585e-07", -0.75), (1 / 32, "2.8367e-04", 0.98)])
def test_issue_values_of_the_chain(temperature, sde, percent):
    # issue 24: at dt = 1e-3 the chain without the bridge differs from the SDE's p by -0.75% (T = 1/64) and
    # +0.98% (T = 1/32)
    p = langevin_splitting_probability_1d(double_well, temperature, -0.8, -0.9, 0.0)
    chain = euler_chain_splitting_probability(esc.DoubleWell(), temperature, 1e-3, -0.8, -0.9, 0.0)
    assert f"{p:.4e}" == sde
    assert round(100 * (chain / p - 1), 2) == percent
    # a callable gradient gives the same
    same = euler_chain_splitting_probability(double_well_gradient, temperature, 1e-3, -0.8, -0.9, 0.0)
    assert same == pytest.approx(chain, rel=1e-12)


def test_chain_converges_to_the_diffusion():
    # the plain chain's error falls like sqrt(dt), the bridged chain's like dt and is far smaller
    temperature, x0, lower, upper = 1 / 32, -0.8, -0.9, 0.0
    p = langevin_splitting_probability_1d(double_well, temperature, x0, lower, upper)
    errors = {}
    for bridge in (False, True):
        errors[bridge] = np.array([euler_chain_splitting_probability(double_well_gradient, temperature, dt, x0, lower,
                                                                     upper, bridge=bridge) / p - 1
                                   for dt in (1e-3, 1e-4)])
    plain, bridged = errors[False], errors[True]
    assert 2.0 < plain[0] / plain[1] < 4.5  # sqrt(10) = 3.16
    assert 7.0 < bridged[0] / bridged[1] < 13.0  # 10
    assert np.all(np.abs(bridged) < np.abs(plain) / 5)
    assert abs(bridged[1]) < 3e-4


def test_chain_symmetry():
    # an odd gradient on a symmetric gap: u(x) + u(-x) = 1, u(0) = 1/2, with and without the bridge
    x = np.array([-0.4, -0.1, 0.0, 0.1, 0.4])
    for bridge in (False, True):
        u = euler_chain_splitting_probability(double_well_gradient, 0.2, 0.01, x, -0.5, 0.5, bridge=bridge)
        assert u.shape == x.shape
        np.testing.assert_allclose(u + u[::-1], 1.0, rtol=0, atol=1e-12)
        assert u[2] == pytest.approx(0.5, abs=1e-12)
        for xi, ui in zip(x[:2], u[:2]):  # an array gives what each point gives
            assert euler_chain_splitting_probability(double_well_gradient, 0.2, 0.01, xi, -0.5, 0.5,
                                                     bridge=bridge) == pytest.approx(ui, rel=1e-10)


def chain_monte_carlo(temperature, dt, x0, lower, upper, bridge, n_paths, seed):
    """The fraction of n_paths chains x' = x - V'(x) dt + s G that end in B = [upper, inf); with the bridge, a step
    x -> y ends in A if y <= lower or U < pA, else in B if y >= upper or U < pA + (1 - pA) pB."""
    rng = np.random.default_rng(seed)
    s = math.sqrt(2 * temperature * dt)
    x = np.full(n_paths, float(x0))
    hits_b = 0
    while x.size:
        y = x - double_well_gradient(x) * dt + s * rng.standard_normal(x.size)
        if bridge:
            u = rng.random(x.size)
            with np.errstate(over="ignore"):
                p_a = np.where(y > lower, np.exp(-2 * (x - lower) * (y - lower) / s**2), 1.0)
                p_b = np.where(y < upper, np.exp(-2 * (upper - x) * (upper - y) / s**2), 1.0)
            in_a = (y <= lower) | (u < p_a)
            in_b = ~in_a & ((y >= upper) | (u < p_a + (1 - p_a) * p_b))
        else:
            in_a, in_b = y <= lower, y >= upper
        hits_b += int(in_b.sum())
        x = y[~(in_a | in_b)]
    return hits_b / n_paths


@pytest.mark.parametrize("bridge", [False, True])
def test_chain_against_monte_carlo(bridge):
    # a coarse step, where the two chains differ by about 10 standard errors
    temperature, dt, x0, lower, upper, n = 1 / 8, 0.05, -0.5, -0.9, 0.0, 100_000
    exact = euler_chain_splitting_probability(double_well_gradient, temperature, dt, x0, lower, upper, bridge=bridge)
    other = euler_chain_splitting_probability(double_well_gradient, temperature, dt, x0, lower, upper,
                                              bridge=not bridge)
    stderr = math.sqrt(exact * (1 - exact) / n)
    assert abs(exact - other) > 8 * stderr  # the check tells the two apart
    estimate = chain_monte_carlo(temperature, dt, x0, lower, upper, bridge, n, seed=24)
    assert abs(estimate - exact) < 3 * stderr, (estimate, exact, stderr)


def test_chain_is_fast_at_the_issue_step():
    import time

    start = time.perf_counter()
    euler_chain_splitting_probability(esc.DoubleWell(), 1 / 64, 1e-3, -0.8, -0.9, 0.0, bridge=True)
    assert time.perf_counter() - start < 5.0  # about 0.1 s; generous for a loaded machine


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(dt=0.0), ValueError, "dt"),
        (dict(dt=-1e-3), ValueError, "dt"),
        (dict(dt=np.nan), ValueError, "dt"),
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(temperature=np.inf), ValueError, "temperature"),
        (dict(x0=-0.9), ValueError, "x0"),
        (dict(x0=0.0), ValueError, "x0"),
        (dict(x0=[-0.8, 0.3]), ValueError, "x0"),
        (dict(x0=np.nan), ValueError, "x0"),
        (dict(lower=0.0, upper=-0.9), ValueError, "lower"),
        (dict(lower=-np.inf), ValueError, "lower"),
        (dict(upper=np.nan), ValueError, "upper"),
        (dict(bridge="yes"), TypeError, "bridge"),
        (dict(rtol=-1.0), ValueError, "rtol"),
        (dict(max_nodes=10), ValueError, "max_nodes"),
        (dict(gradient=3.0), TypeError, "gradient"),
        (dict(gradient=lambda x: 1.0), TypeError, "gradient"),
        (dict(gradient=lambda x: np.log(x + 0.85)), ValueError, "gradient"),
        (dict(gradient=esc.DoubleWell(dim=2)), ValueError, "gradient"),
    ],
)
def test_chain_bad_input(kwargs, error, name):
    args = dict(gradient=double_well_gradient, temperature=1 / 16, dt=1e-2, x0=-0.8, lower=-0.9, upper=0.0)
    args.update(kwargs)
    with pytest.raises(error, match=name), np.errstate(invalid="ignore"):
        euler_chain_splitting_probability(**args)


def test_chain_refuses_to_stop_unconverged():
    with pytest.raises(RuntimeError, match="max_nodes"):
        euler_chain_splitting_probability(double_well_gradient, 1 / 64, 1e-4, -0.8, -0.9, 0.0, max_nodes=1000)
