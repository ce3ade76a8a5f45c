"""Built-in landscapes on their own: the octopus (Du et al. 2017), the Ackley variant of 000 and the strict-saddle
test function; values, gradients and Hessians against the papers and finite differences, domains, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import escapade as esc


# ---------------------------------------------------------------------------------------------------------------
# The octopus


def octopus_points(f: esc.Octopus, rng: np.random.Generator, n: int) -> np.ndarray:
    """Random points of every piece of the octopus's domain, with random signs (margin 2% from the seams)."""
    d, tau = f.dim, f.tau
    out = []
    for k in range(d + 1):
        for _ in range(n):
            y = np.empty(d)
            y[:k] = rng.uniform(2.02 * tau, 5.98 * tau, k)
            if k < d:
                y[k] = rng.uniform(0.02 * tau, 1.98 * tau)
                y[k + 1:] = rng.uniform(0.0, 0.98 * tau, d - k - 1)
            out.append(y * rng.choice([-1.0, 1.0], d))
    return np.array(out)


@pytest.mark.parametrize("params", [dict(L=1.0, gamma=1.0, tau=1.0), dict(L=np.e, gamma=0.5, tau=2.0)])
def test_octopus_gradient_and_hessian_match_finite_differences(params):
    f = esc.Octopus(4, **params)
    h = 1e-6 * f.tau
    E = np.eye(f.dim) * h
    for x in octopus_points(f, np.random.default_rng(0), 20):
        fd_grad = np.array([(f.value(x + e) - f.value(x - e)) / (2 * h) for e in E])
        fd_hess = np.array([(f.gradient(x + e) - f.gradient(x - e)) / (2 * h) for e in E])
        scale = max(1.0, f.L * f.tau)
        np.testing.assert_allclose(f.gradient(x), fd_grad, atol=1e-6 * scale)
        np.testing.assert_allclose(f.hessian(x), fd_hess, atol=1e-5 * scale)
        np.testing.assert_array_equal(f.hessian(x), f.hessian(x).T)


def test_octopus_is_c2_across_its_seams():
    f = esc.Octopus(3, L=2.0, gamma=0.5, tau=1.5)
    tau, h = f.tau, 1e-9
    seams = [([tau, 0.4, 0.3], 0), ([2 * tau, 0.4, 0.3], 0), ([4 * tau, tau, 0.5], 1), ([4 * tau, 2 * tau, 0.5], 1),
             ([4 * tau, 4 * tau, tau], 2), ([4 * tau, 4 * tau, 2 * tau], 2)]
    for seam, k in seams:
        x = np.array(seam)
        below, above = x.copy(), x.copy()
        below[k] -= h * tau
        above[k] += h * tau
        assert f.value(below) == pytest.approx(f.value(above), abs=1e-7)
        np.testing.assert_allclose(f.gradient(below), f.gradient(above), atol=1e-7)
        np.testing.assert_allclose(f.hessian(below), f.hessian(above), atol=1e-6)


def test_octopus_saddles_and_minimum_are_where_the_paper_puts_them():
    d, L, gamma, tau = 5, np.e, 1.0, np.e
    f = esc.Octopus(d, L=L, gamma=gamma, tau=tau)
    assert f.nu == pytest.approx((37 * L + 13 * gamma) * tau**2 / 6)
    saddles = f.saddles()
    assert saddles.shape == (d, d)
    for i, s in enumerate(saddles):
        np.testing.assert_array_equal(s, np.r_[np.full(i, 4 * tau), np.zeros(d - i)])
        np.testing.assert_allclose(f.gradient(s), 0.0, atol=1e-12)
        expected = np.full(d, 2 * L)
        expected[i] = -2 * gamma  # one negative eigenvalue: a strict saddle
        np.testing.assert_allclose(f.hessian(s), np.diag(expected), atol=1e-12)
        assert f.value(s) == pytest.approx(-i * f.nu)
    m = f.minimum()
    np.testing.assert_allclose(f.gradient(m), 0.0, atol=1e-12)
    np.testing.assert_allclose(f.hessian(m), 2 * L * np.eye(d))
    assert f.value(m) == pytest.approx(-d * f.nu)
    # even in every coordinate: the reflections are saddles and minima too
    assert f.value(-m) == f.value(m)
    np.testing.assert_allclose(f.gradient(-saddles[2]), 0.0, atol=1e-12)


def test_octopus_is_undefined_outside_its_domain():
    f = esc.Octopus(3, L=1.0, gamma=1.0, tau=1.0)
    outside = [[7.0, 0.0, 0.0], [0.5, 1.5, 0.0], [4.0, 0.5, 1.5], [np.nan, 0.0, 0.0]]
    assert not np.any(f.in_domain(outside))
    assert np.all(np.isnan(f.value(outside)))
    assert np.all(np.isnan(f.gradient(outside)))
    assert np.all(np.isnan(f.hessian(outside[0])))
    assert f.in_domain([1.0, 1.0, 1.0]) and f.in_domain([-4.0, 2.0, -1.0])
    # a path that leaves the domain diverges
    res = esc.simulate(f, esc.GD(0.1), x0=[7.0, 0.0, 0.0], n_paths=1, max_steps=10)
    assert res.status[0] == esc.Status.DIVERGED


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    ({"dim": 0}, ValueError, "dim"), ({"dim": 2.5}, TypeError, "dim"), ({"dim": 2, "L": -1.0}, ValueError, "L"),
    ({"dim": 2, "gamma": 0.0}, ValueError, "gamma"), ({"dim": 2, "tau": np.inf}, ValueError, "tau"),
])
def test_octopus_bad_input(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        esc.Octopus(**kwargs)
    with pytest.raises(ValueError, match="tau"):
        esc._core.Octopus(dim=2, L=1.0, gamma=1.0, tau=-1.0)


def test_octopus_records_itself():
    f = esc.Octopus(3, L=2.0)
    assert f.to_dict() == {"type": "Octopus", "dim": 3, "L": 2.0, "gamma": 1.0, "tau": np.e}


# ---------------------------------------------------------------------------------------------------------------
# Ackley


def test_ackley_matches_the_paper_and_its_derivatives():
    f = esc.Ackley(a=20.0, d=0.05)
    assert f.c == 2 * math.pi
    assert f.value([0.0, 0.0]) == pytest.approx(0.0, abs=1e-14)
    x = np.array([0.8, -1.7])
    r = math.sqrt((x @ x) / 2 + 0.05**2)
    expected = 20 * math.exp(-0.05) - 20 * math.exp(-r) + math.e - math.exp(np.cos(2 * np.pi * x).sum() / 2)
    assert f.value(x) == pytest.approx(expected, rel=1e-14)
    eps = 1e-6
    fd = [(f.value(x + eps * e) - f.value(x - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(f.gradient(x), fd, rtol=1e-7)
    fd_h = np.array([(f.gradient(x + eps * e) - f.gradient(x - eps * e)) / (2 * eps) for e in np.eye(2)])
    np.testing.assert_allclose(f.hessian(x), fd_h, rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Strict saddle


def test_strict_saddle_landscape():
    f = esc.StrictSaddle([-1.0, 2.0, 0.5], quartic=2.0)
    np.testing.assert_allclose(f.gradient(f.minima()), 0.0, atol=1e-15)
    assert np.linalg.eigvalsh(f.hessian([0.0, 0.0, 0.0])).min() == -1.0  # strict saddle at the origin
    assert np.all(np.linalg.eigvalsh(f.hessian(f.minima()[0])) > 0)
    x = np.array([0.3, -0.2, 0.7])
    h = 1e-6
    numeric = [(f.value(x + h * e) - f.value(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(f.gradient(x), numeric, rtol=1e-8)
    # Noisy GD leaves the saddle along the negative direction and settles in one of the two minima.
    res = esc.simulate(f, esc.NoisyGD(lr=0.05, noise_radius=0.05), x0=[0.0, 0.0, 0.0],
                       target=esc.Ball(f.minima()[1], 0.1), stop=esc.Ball([0.0, 0.0, 0.0], 2.0), n_paths=400,
                       max_steps=20_000, seed=0)
    hit = np.mean(res.status == esc.Status.HIT)
    assert abs(hit - 0.5) < 4 * math.sqrt(0.25 / 400) + 0.02  # symmetric: half reach x_0 > 0 first
    with pytest.raises(ValueError, match="quartic"):
        esc.StrictSaddle([-1.0, 1.0], quartic=0.0)


def test_strict_saddle_without_negative_eigenvalues_has_the_origin_as_its_minimizer():
    """2^m minimizers with m = 0 is one, the origin (it failed to build the empty grid of signs)."""
    saddle = esc.StrictSaddle([1.0, 2.0])
    assert np.array_equal(saddle.minima(), np.zeros((1, 2)))
    assert saddle.minima().shape == (1, 2) and np.allclose(saddle.gradient(saddle.minima()[0]), 0.0)
    assert esc.StrictSaddle([-1.0, 2.0, -4.0], quartic=2.0).minima().shape == (4, 3)


def test_styblinski_tang_degenerate_minimum_is_named():
    """c1 > 0 with B = C = 0 gives A x^4 / 2, whose one minimum has zero curvature: the message says so instead of
    asking for a positive c1."""
    with pytest.raises(ValueError, match="zero curvature"):
        esc.StyblinskiTangSum([[1.0]], [[0.0]], [[0.0]]).flattest_minimizer()
    with pytest.raises(ValueError, match="c1 must be positive"):
        esc.StyblinskiTangSum([[0.0]], [[-1.0]], [[0.0]]).flattest_minimizer()


@pytest.mark.parametrize("x", [[1e200, 0.5], [-1e200, 0.5], [1e160, -1e160]])
def test_a_value_past_the_largest_double_is_inf_not_nan(x):
    """x^2 overflows to inf, and inf - inf is NaN: the double well's and the Styblinski–Tang sum's values there are
    their leading powers' (inf), as the gradients already were; elsewhere the same bits."""
    st = esc.StyblinskiTangSum([[1.0, 0.5], [2.0, 1.0]], [[-16.0, -10.0], [-12.0, -20.0]], [[5.0, 2.0], [3.0, 1.0]])
    quadratic = esc.StyblinskiTangSum([[0.0], [0.0]], [[-1.0], [-2.0]], [[0.0], [1.0]])  # no x^4: -x^2 leads
    for f in (esc.DoubleWell(2), esc.DoubleWell(2, height=3.0), st):
        assert f.value(x) == math.inf, f
    assert quadratic.value([1e200]) == -math.inf
    assert quadratic.value([1e100]) == 0.5 * (-1.5 * 1e200)  # x^4 overflows, its coefficient is 0: -x^2 leads
    y = np.array([0.3, -1.7])
    assert esc.DoubleWell(2).value(y) == np.sum(0.25 * (y * y) * (y * y) - 0.5 * (y * y))
