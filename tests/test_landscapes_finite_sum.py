"""Finite-sum landscapes: Styblinski-Tang sums, quadratic-circle sums, the stochastic quadratic generators, least
squares and the MLP. Gradients and Hessians against independent numpy code and finite differences, per-term
gradients against the full gradient, minimizers against brute force, SGD-k against GD."""

from __future__ import annotations

import itertools
import pickle
import sys

import numpy as np
import pytest

import escapade as esc
from escapade.config import registry

# ---------------------------------------------------------------------------------------------------------------
# Helpers


def fd_gradient(f, x, eps=1e-6):
    return np.array([(f.value(x + eps * e) - f.value(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])


def fd_hessian(f, x, eps=1e-6):
    H = np.array([(f.gradient(x + eps * e) - f.gradient(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])
    return (H + H.T) / 2


def weighted_term_gradients(f, x):
    return sum(f.weights[i] * f.term_gradient(i, x) for i in range(f.n_terms))


def assert_full_batch_sgdk_is_gd(f, center, radius, lr, steps=20):
    common = dict(x0=esc.UniformBall(center, radius), n_paths=16, max_steps=steps, seed=4, record_paths=16)
    gd = esc.simulate(f, esc.GD(lr=lr), **common)
    sgd = esc.simulate(f, esc.SGDk(lr=lr, batch_size=f.n_terms, replace=False), **common)
    for (_, a), (_, b) in zip(gd.trajectories, sgd.trajectories):
        assert np.all(np.isfinite(a))
        np.testing.assert_array_equal(a, b)


def assert_sgd1_steps_along_one_term(f, x0, lr):
    """One SGD-1 step from x0 is x0 - lr grad f_i(x0) for one of the terms i (the engine uses the per-term path)."""
    res = esc.simulate(f, esc.SGDk(lr=lr, batch_size=1), x0=x0, n_paths=8, max_steps=1, seed=2, record_paths=8)
    steps = np.array([x0 - lr * f.term_gradient(i, x0) for i in range(f.n_terms)])
    for _, x in res.trajectories:
        assert np.min(np.abs(steps - x[-1]).max(axis=1)) <= 1e-12 * max(1.0, np.abs(steps).max())


# ---------------------------------------------------------------------------------------------------------------
# Styblinski-Tang sums


def st_reference(c1, c2, c3, p, x):
    """Value, gradient, Hessian of sum_i p_i (1/2) sum_j (c1 x^4 + c2 x^2 + c3 x), term by term."""
    value = sum(pi * 0.5 * np.sum(a * x**4 + b * x**2 + c * x) for pi, a, b, c in zip(p, c1, c2, c3))
    grad = sum(pi * (2 * a * x**3 + b * x + 0.5 * c) for pi, a, b, c in zip(p, c1, c2, c3))
    hess = np.diag(sum(pi * (6 * a * x**2 + b) for pi, a, b, c in zip(p, c1, c2, c3)))
    return value, grad, hess


@pytest.fixture
def small_st():
    rng = np.random.default_rng(5)
    n, d = 7, 3
    p = rng.dirichlet(np.ones(n))
    return esc.StyblinskiTangSum(rng.uniform(0.5, 1.5, (n, d)), -16 * rng.uniform(0.5, 1.5, (n, d)),
                                 5 * rng.uniform(0, 2, (n, d)), p)


def test_styblinski_tang_matches_numpy_and_finite_differences(small_st):
    f = small_st
    rng = np.random.default_rng(0)
    for x in rng.uniform(-5, 5, size=(5, f.dim)):
        value, grad, hess = st_reference(f.c1, f.c2, f.c3, f.p, x)
        assert f.value(x) == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(f.gradient(x), grad, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(f.hessian(x), hess, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(f.gradient(x), fd_gradient(f, x), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(f.hessian(x), fd_hessian(f, x), rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(weighted_term_gradients(f, x), f.gradient(x), rtol=1e-12, atol=1e-10)
        for i in range(f.n_terms):
            one = st_reference(f.c1[i:i + 1], f.c2[i:i + 1], f.c3[i:i + 1], [1.0], x)[1]
            np.testing.assert_allclose(f.term_gradient(i, x), one, rtol=1e-13, atol=1e-12)
    A, B, C = f.coefficients()
    np.testing.assert_allclose(A, f.p @ f.c1, rtol=1e-14)
    X = rng.normal(size=(4, f.dim))
    np.testing.assert_array_equal(f.gradient(X)[2], f.gradient(X[2]))


def test_styblinski_tang_minimizers_against_brute_force(small_st):
    f = small_st
    minima = f.local_minima_per_coordinate()
    assert [len(m) for m in minima] == [2] * f.dim
    all_min = f.minimizers()
    assert all_min.shape == (2**f.dim, f.dim)
    eig = np.array([np.linalg.eigvalsh(f.hessian(x)) for x in all_min])
    assert np.abs(f.gradient(all_min)).max() < 1e-10
    assert eig.min() > 0
    # Brute force over a fine grid of each coordinate's 1-D function: the two minima are its local minima.
    A, B, C = f.coefficients()
    grid = np.linspace(-6, 6, 200_001)
    for j in range(f.dim):
        phi = 0.5 * (A[j] * grid**4 + B[j] * grid**2 + C[j] * grid)
        local = grid[1:-1][(phi[1:-1] < phi[:-2]) & (phi[1:-1] < phi[2:])]
        np.testing.assert_allclose(minima[j], local, atol=1e-4)
    sharpness = eig.max(axis=1)
    trace = eig.sum(axis=1)
    sharp, flat = f.sharpest_minimizer(), f.flattest_minimizer()
    for x, best in ((sharp, np.argmax), (flat, np.argmin)):
        k = best(trace)
        np.testing.assert_array_equal(x, all_min[k])   # the unique extreme of the trace
        assert sharpness[k] == best_value(sharpness, best)  # and an extreme of the sharpness
    np.testing.assert_array_equal(f.minimizer([1, 0, 1]), all_min[0b101])


def best_value(values, best):
    return values[best(values)]


@pytest.mark.parametrize(("dim", "n_terms"), [(10, 200), (50, 1000), (100, 2000)])
def test_styblinski_tang_paper_sizes_are_practical(dim, n_terms):
    f = esc.StyblinskiTangSum.random(dim, n_terms, seed=dim)
    assert (f.dim, f.n_terms) == (dim, n_terms)
    assert all(len(m) == 2 for m in f.local_minima_per_coordinate())  # 2^dim minimizers, as in 004's Models
    sharp, flat = f.sharpest_minimizer(), f.flattest_minimizer()
    assert np.abs(f.gradient(sharp)).max() < 1e-9 and np.abs(f.gradient(flat)).max() < 1e-9
    hs, hf = np.diag(f.hessian(sharp)), np.diag(f.hessian(flat))
    assert np.all(hs >= hf) and hf.min() > 0 and hs.max() > hf.max()
    # SGD-k runs on it: 200 paths of 50 steps of SGD-10 near the flat minimizer stay near it at a small step.
    res = esc.simulate(f, esc.SGDk(lr=1e-3, batch_size=10), x0=esc.UniformBall(flat, 1e-2), n_paths=200,
                       max_steps=50, seed=0, stop=esc.Ball(flat, 1.0))
    assert np.all(res.status == esc.Status.CENSORED)


def test_styblinski_tang_random_is_reproducible_and_classic_on_average():
    a = esc.StyblinskiTangSum.random(3, 50, seed=1)
    b = esc.StyblinskiTangSum.random(3, 50, seed=1)
    np.testing.assert_array_equal(a.c2, b.c2)
    assert not np.array_equal(a.c2, esc.StyblinskiTangSum.random(3, 50, seed=2).c2)
    A, B, C = a.coefficients()
    assert np.all(np.abs(A - 1) < 0.2) and np.all(np.abs(B + 16) < 3) and np.all(np.abs(C - 5) < 1.5)


def test_styblinski_tang_full_batch_sgdk_is_gd(small_st):
    f = esc.StyblinskiTangSum(small_st.c1, small_st.c2, small_st.c3)  # uniform p
    assert_full_batch_sgdk_is_gd(f, f.flattest_minimizer(), 0.5, lr=0.01)
    assert_sgd1_steps_along_one_term(small_st, np.array([0.5, -1.0, 2.0]), lr=0.01)


def test_styblinski_tang_bad_input(small_st):
    c1, c2, c3 = small_st.c1, small_st.c2, small_st.c3
    with pytest.raises(ValueError, match=r"c2 must be <= 0 .*c2\[0, 1\] = 3.0"):
        esc.StyblinskiTangSum(c1, np.where(np.arange(c2.size).reshape(c2.shape) == 1, 3.0, c2), c3)
    with pytest.raises(ValueError, match="c1 must be >= 0"):
        esc.StyblinskiTangSum(-c1, c2, c3)
    with pytest.raises(ValueError, match="c3 must have the shape of c1"):
        esc.StyblinskiTangSum(c1, c2, c3[:, :2])
    with pytest.raises(ValueError, match="p must be"):
        esc.StyblinskiTangSum(c1, c2, c3, p=np.ones(len(c1)))
    with pytest.raises(ValueError, match="c1 must be finite"):
        esc.StyblinskiTangSum(np.full_like(c1, np.nan), c2, c3)
    with pytest.raises(TypeError, match="seed"):
        esc.StyblinskiTangSum.random(2, 3, seed=1.5)
    with pytest.raises(ValueError, match="n_terms"):
        esc.StyblinskiTangSum.random(2, 0, seed=1)
    with pytest.raises(ValueError, match=r"choice\[1\] must be in \[0, 2\)"):
        small_st.minimizer([0, 2, 0])
    with pytest.raises(TypeError, match="choice"):
        small_st.minimizer([0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="max_count"):
        small_st.minimizers(max_count=4)
    with pytest.raises(ValueError, match="coordinate 0 of F has no local minimum"):
        esc.StyblinskiTangSum(np.zeros((1, 1)), -np.ones((1, 1)), np.zeros((1, 1))).sharpest_minimizer()
    with pytest.raises(ValueError, match=r"i must be <= 6"):
        small_st.term_gradient(7, np.zeros(3))


# ---------------------------------------------------------------------------------------------------------------
# Quadratic-circle sums


def qc_term_reference(q, x):
    """(value, gradient, Hessian, |g - h|) of min{g, h} for one term's parameters q = (q1, q2, q3, c1, c2, c3, c4):
    h as a function of r = |x|, its derivatives by the chain rule."""
    q1, q2, q3, c1, c2, c3, c4 = q
    x1, x2 = x
    u = x2 - q2 * x1**2 - q3
    g = q1 * u**2
    g_grad = np.array([-4 * q1 * q2 * x1 * u, 2 * q1 * u])
    g_hess = np.array([[-4 * q1 * q2 * u + 8 * q1 * q2**2 * x1**2, -4 * q1 * q2 * x1], [-4 * q1 * q2 * x1, 2 * q1]])
    r = np.hypot(x1, x2)
    if r <= c2:
        h, h1, h2 = c4, 0.0, 0.0
    elif r >= c3:
        h, h1, h2 = c4 + c1, 0.0, 0.0
    else:
        w = c3 - c2
        s = (r - c2) / w
        h = c4 + c1 * (6 * s**5 - 15 * s**4 + 10 * s**3)
        h1 = c1 * (30 * s**4 - 60 * s**3 + 30 * s**2) / w
        h2 = c1 * (120 * s**3 - 180 * s**2 + 60 * s) / w**2
    if g <= h:
        return g, g_grad, g_hess, h - g
    if h1 == 0 and h2 == 0:
        return h, np.zeros(2), np.zeros((2, 2)), g - h
    e = np.array([x1, x2]) / r
    return h, h1 * e, h2 * np.outer(e, e) + h1 / r * (np.eye(2) - np.outer(e, e)), g - h


QC_PARAMS = dict(q1=[0.01, 0.02, 0.015], q2=[0.1, 0.3, 0.2], q3=-15.0, c1=[3.0, 4.0, 2.0], c2=[1.0, 2.0, 0.5],
                 c3=[6.0, 8.0, 5.0], c4=[0.0, 0.1, 0.2])


def test_quadratic_circle_matches_numpy_and_finite_differences():
    f = esc.QuadraticCircleSum(**QC_PARAMS, p=[0.5, 0.3, 0.2])
    params = np.array([getattr(f, k) for k in ("q1", "q2", "q3", "c1", "c2", "c3", "c4")]).T
    rng = np.random.default_rng(3)
    points = np.vstack([rng.uniform([-10, -20], [10, 15], size=(40, 2)), [[0.0, 0.0], [0.3, -0.2], [0.0, -15.0]]])
    regions = set()
    for x in points:
        parts = [qc_term_reference(q, x) for q in params]
        assert f.value(x) == pytest.approx(sum(pi * v[0] for pi, v in zip(f.p, parts)), rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(f.gradient(x), sum(pi * v[1] for pi, v in zip(f.p, parts)), rtol=1e-11,
                                   atol=1e-13)
        np.testing.assert_allclose(f.hessian(x), sum(pi * v[2] for pi, v in zip(f.p, parts)), rtol=1e-11,
                                   atol=1e-13)
        np.testing.assert_allclose(weighted_term_gradients(f, x), f.gradient(x), rtol=1e-12, atol=1e-14)
        r = np.hypot(*x)
        regions.update(("in" if r <= c2 else "out" if r >= c3 else "wall") for c2, c3 in zip(f.c2, f.c3))
        # Away from the switching set g = h every term is C^2: finite differences agree.
        if min(v[3] for v in parts) > 1e-3:
            np.testing.assert_allclose(f.gradient(x), fd_gradient(f, x), rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(f.hessian(x), fd_hessian(f, x), rtol=1e-4, atol=1e-6)
    assert regions == {"in", "out", "wall"}


def test_quadratic_circle_circular_basin_is_c2_and_minima_are_where_004_puts_them():
    f = esc.QuadraticCircleSum(q1=1.0, q2=0.5, q3=-15.0, c1=5.0, c2=2.0, c3=4.0, c4=0.0)
    for r in (2.0, 4.0):  # both circles: h, h' and h'' continuous (zero slope and curvature on the flat sides)
        for side in (-1e-7, 1e-7):
            x = np.array([0.6, 0.8]) * (r + side)
            assert np.abs(f.gradient(x)).max() < 1e-9 and np.abs(f.hessian(x)).max() < 1e-5
    # The circular minimum (a flat disc around the origin, value c4) and the quadratic one at (0, q3).
    assert f.value([0.0, 0.0]) == 0.0 and f.value([0.0, -15.0]) == 0.0
    np.testing.assert_array_equal(f.gradient([0.0, -15.0]), [0.0, 0.0])
    np.testing.assert_array_equal(f.hessian([0.0, -15.0]), [[0.0, 0.0], [0.0, 2.0]])


def test_quadratic_circle_ties_take_the_quadratic_gradient():
    # At (0, -13): u = 2, g = q1 u^2 = 6 and h = c4 + c1 = 6 exactly (outside the outer circle): a tie.
    f = esc.QuadraticCircleSum(q1=1.5, q2=0.5, q3=-15.0, c1=5.0, c2=2.0, c3=4.0, c4=1.0)
    x = np.array([0.0, -13.0])
    assert f.value(x) == 6.0
    np.testing.assert_array_equal(f.gradient(x), [0.0, 2 * 1.5 * 2.0])  # grad g, not grad h = 0
    np.testing.assert_array_equal(f.hessian(x), [[-4 * 1.5 * 0.5 * 2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(f.gradient([0.0, -12.9]), [0.0, 0.0])  # just past the tie h < g: flat h


def test_quadratic_circle_full_batch_sgdk_is_gd():
    f = esc.QuadraticCircleSum(**QC_PARAMS)
    assert_full_batch_sgdk_is_gd(f, np.array([0.0, -14.0]), 3.0, lr=0.5)
    assert_sgd1_steps_along_one_term(f, np.array([0.5, -13.0]), lr=0.5)


def test_quadratic_circle_bad_input():
    with pytest.raises(ValueError, match=r"c3 must be larger than c2 in every term, got c3\[1\] = 2.0"):
        esc.QuadraticCircleSum(**{**QC_PARAMS, "c3": [6.0, 2.0, 5.0]})
    with pytest.raises(ValueError, match=r"q1 must be >= 0 .*q1\[0\] = -1.0"):
        esc.QuadraticCircleSum(**{**QC_PARAMS, "q1": [-1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="c4 must be a number or have 3 entries"):
        esc.QuadraticCircleSum(**{**QC_PARAMS, "c4": [1.0, 2.0]})
    with pytest.raises(TypeError, match="q2"):
        esc.QuadraticCircleSum(**{**QC_PARAMS, "q2": "steep"})
    with pytest.raises(ValueError, match="x must have 2 components"):
        esc.QuadraticCircleSum(**QC_PARAMS).gradient([0.0, 1.0, 2.0])


# ---------------------------------------------------------------------------------------------------------------
# Stochastic quadratic generators (004, Problem 3.1 and Definition 3.4)


@pytest.mark.parametrize("rank", [None, 1])
def test_homogeneous_generator(rank):
    f = esc.StochasticQuadratic.homogeneous(4, 6, seed=3, rank=rank)
    assert f.is_homogeneous()
    theta = f.minimizer()
    if rank is None:  # E[Q] positive definite: theta* is the one minimizer, and it minimizes every term
        for i in range(f.n_terms):
            assert np.abs(f.term_gradient(i, theta)).max() < 1e-10
    assert np.abs(f.gradient(theta)).max() < 1e-10
    for q in f.Q:
        assert np.linalg.eigvalsh(q).min() > -1e-12
        assert np.linalg.matrix_rank(q) == (4 if rank is None else 1)
    given = esc.StochasticQuadratic.homogeneous(2, 3, seed=0, minimizer=[1.0, -2.0])
    np.testing.assert_allclose(given.minimizer(), [1.0, -2.0], atol=1e-12)


def test_inhomogeneous_generator():
    f = esc.StochasticQuadratic.inhomogeneous(4, 6, seed=3)
    assert not f.is_homogeneous()
    theta = f.minimizer()
    assert np.abs(f.gradient(theta)).max() < 1e-10
    assert min(np.abs(f.term_gradient(i, theta)).max() for i in range(f.n_terms)) > 1e-3
    # Each r_i lies in the image of its Q_i (Problem 3.1), even for rank-deficient terms.
    g = esc.StochasticQuadratic.inhomogeneous(3, 5, seed=1, rank=1)
    for q, r in zip(g.Q, g.r):
        x = np.linalg.lstsq(q, r, rcond=None)[0]
        np.testing.assert_allclose(q @ x, r, atol=1e-10)
    a = esc.StochasticQuadratic.inhomogeneous(2, 3, seed=7)
    np.testing.assert_array_equal(a.Q, esc.StochasticQuadratic.inhomogeneous(2, 3, seed=7).Q)


def test_homogeneity_check_ignores_terms_of_probability_zero():
    f = esc.StochasticQuadratic.homogeneous(2, 3, seed=0)
    r = f.r.copy()
    r[2] += 1.0  # term 2 now has another minimizer
    assert not esc.StochasticQuadratic(f.Q, r).is_homogeneous()
    assert esc.StochasticQuadratic(f.Q, r, p=[0.5, 0.5, 0.0]).is_homogeneous()


def test_stochastic_quadratic_sgdk_and_bad_input():
    f = esc.StochasticQuadratic.inhomogeneous(3, 4, seed=2)
    assert_full_batch_sgdk_is_gd(f, np.zeros(3), 1.0, lr=0.05)
    assert_sgd1_steps_along_one_term(f, np.array([0.1, 0.2, -0.3]), lr=0.05)
    Q = np.array([np.eye(2), np.diag([1.0, -0.5])])
    with pytest.raises(ValueError, match=r"Q must be positive semi-definite in every term, got term 1 with eigenvalues \[-0.5, 1.0\]"):
        esc.StochasticQuadratic(Q)
    with pytest.raises(ValueError, match="n_terms must be >= 2"):
        esc.StochasticQuadratic.inhomogeneous(2, 1, seed=0)
    with pytest.raises(ValueError, match="rank must be <= 2"):
        esc.StochasticQuadratic.homogeneous(2, 3, seed=0, rank=3)
    with pytest.raises(ValueError, match="minimizer must have 2 components"):
        esc.StochasticQuadratic.homogeneous(2, 3, seed=0, minimizer=[1.0])
    with pytest.raises(ValueError, match="spread must be positive"):
        esc.StochasticQuadratic.inhomogeneous(2, 3, seed=0, spread=0.0)
    with pytest.raises(TypeError, match="seed"):
        esc.StochasticQuadratic.homogeneous(2, 3, seed=None)


# ---------------------------------------------------------------------------------------------------------------
# Least squares and the MLP on a data matrix


@pytest.fixture
def data():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(25, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=25)


def test_least_squares_matches_numpy(data):
    X, y = data
    f = esc.LeastSquares(X, y, l2=0.1)
    w = np.array([0.2, -0.1, 0.4])
    assert f.value(w) == pytest.approx(np.mean((X @ w - y) ** 2) / 2 + 0.05 * w @ w, rel=1e-13)
    np.testing.assert_allclose(f.gradient(w), X.T @ (X @ w - y) / len(y) + 0.1 * w, rtol=1e-12)
    np.testing.assert_allclose(f.hessian(w), X.T @ X / len(y) + 0.1 * np.eye(3), rtol=1e-12)
    for i in (0, 7):
        np.testing.assert_allclose(f.term_gradient(i, w), (X[i] @ w - y[i]) * X[i] + 0.1 * w, rtol=1e-13)
    np.testing.assert_allclose(weighted_term_gradients(f, w), f.gradient(w), rtol=1e-12)
    assert np.abs(f.gradient(f.solution())).max() < 1e-12
    assert_full_batch_sgdk_is_gd(f, f.solution(), 1.0, lr=0.1)
    assert_sgd1_steps_along_one_term(f, w, lr=0.1)


def mlp_reference(X, Y, h, l2, theta):
    """The mean over samples of |W2 tanh(W1 x + b1) + b2 - y|^2 / 2 plus l2 |theta|^2 / 2, and its gradient by
    backpropagation written with whole-array numpy."""
    n, p = X.shape
    m = Y.shape[1]
    W1 = theta[:h * p].reshape(h, p)
    b1 = theta[h * p:h * p + h]
    W2 = theta[h * p + h:h * p + h + m * h].reshape(m, h)
    b2 = theta[h * p + h + m * h:]
    A = np.tanh(X @ W1.T + b1)
    E = A @ W2.T + b2 - Y
    value = 0.5 * np.sum(E**2) / n + 0.5 * l2 * theta @ theta
    D = (E @ W2) * (1 - A**2)
    grad = np.concatenate([(D.T @ X).ravel(), D.sum(0), (E.T @ A).ravel(), E.sum(0)]) / n + l2 * theta
    return value, grad


@pytest.mark.parametrize("outputs", [1, 2])
def test_mlp_matches_numpy_and_finite_differences(data, outputs):
    X, y = data
    Y = y if outputs == 1 else np.stack([y, np.sin(y)], axis=1)
    f = esc.MLP(X, Y, hidden=4, l2=0.01)
    assert f.dim == 4 * 3 + 4 + outputs * 4 + outputs and f.n_terms == 25 and f._core.dim == f.dim
    theta = f.init(seed=0) + 0.1 * np.random.default_rng(1).normal(size=f.dim)
    value, grad = mlp_reference(X, Y.reshape(25, -1), 4, 0.01, theta)
    assert f.value(theta) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(f.gradient(theta), grad, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(weighted_term_gradients(f, theta), grad, rtol=1e-11, atol=1e-13)
    H = f.hessian(theta)
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_allclose(H, fd_hessian(f, theta), rtol=1e-5, atol=1e-7)
    one = mlp_reference(X[3:4], Y.reshape(25, -1)[3:4], 4, 0.01, theta)[1]
    np.testing.assert_allclose(f.term_gradient(3, theta), one, rtol=1e-12, atol=1e-14)
    # flatten / unflatten / predict agree with the loss.
    w = f.unflatten(theta)
    np.testing.assert_array_equal(f.flatten(**w), theta)
    resid = f.predict(theta) - Y
    assert f.value(theta) == pytest.approx(0.5 * np.sum(resid**2) / 25 + 0.005 * theta @ theta, rel=1e-12)


def test_mlp_sgdk_and_bad_input(data):
    X, y = data
    f = esc.MLP(X[:12], y[:12], hidden=3)
    theta = f.init(seed=2)
    assert_full_batch_sgdk_is_gd(f, theta, 0.5, lr=0.05)
    assert_sgd1_steps_along_one_term(f, theta, lr=0.05)
    with pytest.raises(TypeError, match="hidden"):
        esc.MLP(X, y, hidden=2.5)
    with pytest.raises(ValueError, match="hidden must be >= 1"):
        esc.MLP(X, y, hidden=0)
    with pytest.raises(ValueError, match="y must have one target per row of X"):
        esc.MLP(X, y[:-1], hidden=2)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        esc.LeastSquares(X, y, l2=-1.0)
    with pytest.raises(ValueError, match="y must be 1-dimensional"):
        esc.LeastSquares(X, np.stack([y, y], axis=1))
    with pytest.raises(ValueError, match="theta must have"):
        f.unflatten(np.zeros(3))
    with pytest.raises(ValueError, match=r"W2 must have shape \(1, 3\)"):
        f.flatten(np.zeros((3, 3)), np.zeros(3), np.zeros((3, 1)), np.zeros(1))


def test_diabetes_loader_and_a_fit_on_it():
    pytest.importorskip("sklearn")
    X, y = esc.datasets.load_diabetes()
    assert X.shape == (442, 10) and y.shape == (442,)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    assert y.std() == pytest.approx(1.0)
    raw_X, raw_y = esc.datasets.load_diabetes(standardize=False)
    assert raw_y.min() > 20  # the raw disease-progression scores
    f = esc.LeastSquares(X, y, l2=1e-3)
    assert f.value(f.solution()) < 0.5 * 0.55  # the linear model explains about half the variance
    mlp = esc.MLP(X, y, hidden=8)
    theta = mlp.init(seed=0)
    res = esc.simulate(mlp, esc.GD(lr=0.2), x0=theta, n_paths=1, max_steps=200, seed=0, record_paths=1)
    assert mlp.value(res.trajectories[0][1][-1]) < 0.5 * mlp.value(theta)


def test_datasets_say_how_to_install_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "escapade\[data\]"'):
        esc.datasets.load_diabetes()


# ---------------------------------------------------------------------------------------------------------------
# As specs: recorded and pickled


SPECS = [
    esc.StyblinskiTangSum.random(2, 3, seed=0),
    esc.QuadraticCircleSum(**QC_PARAMS),
    esc.StochasticQuadratic.homogeneous(2, 3, seed=0),
    esc.LeastSquares([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 2.0, 3.0], l2=0.5),
    esc.MLP([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 2.0, 3.0], hidden=2),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_finite_sums_round_trip(spec):
    back = pickle.loads(pickle.dumps(spec))
    assert back.to_dict() == spec.to_dict()
    args = {k: v for k, v in spec.to_dict().items() if k != "type"}
    rebuilt = type(spec)(**args)  # what a result records rebuilds the landscape
    x = np.linspace(-1, 1, spec.dim)
    np.testing.assert_array_equal(rebuilt.gradient(x), spec.gradient(x))
    assert type(spec).__name__ in registry()["landscape"]
    assert repr(spec).startswith(type(spec).__name__ + "(")
    assert isinstance(spec, esc.FiniteSum) and spec.n_terms == len(spec.weights)


def test_styblinski_tang_minimizers_are_the_products_of_the_coordinate_minima():
    # A 2-D Styblinski-Tang sum: the four minimizers are the products of the per-coordinate minima.
    f = esc.StyblinskiTangSum.random(2, 4, seed=9)
    minima = f.local_minima_per_coordinate()
    expected = np.array(list(itertools.product(*minima)))
    np.testing.assert_array_equal(f.minimizers(), expected)


@pytest.mark.parametrize(("make", "match"), [
    (lambda c: c.StyblinskiTangSum(c1=np.ones((2, 3)), c2=np.ones((2, 3)), c3=np.ones((2, 3)), p=[0.5, 0.5]), "c2"),
    (lambda c: c.StyblinskiTangSum(c1=np.ones((2, 3)), c2=-np.ones((2, 2)), c3=np.ones((2, 3)), p=[0.5, 0.5]), "c2"),
    (lambda c: c.StyblinskiTangSum(c1=np.ones(3), c2=-np.ones(3), c3=np.ones(3), p=[1.0]), "c1"),
    (lambda c: c.StyblinskiTangSum(c1=np.ones((2, 1)), c2=-np.ones((2, 1)), c3=np.ones((2, 1)), p=[0.5, 0.6]), "p"),
    (lambda c: c.QuadraticCircleSum(q1=[1.0], q2=[1.0], q3=[0.0], c1=[1.0], c2=[2.0], c3=[2.0], c4=[0.0], p=[1.0]),
     "c3"),
    (lambda c: c.QuadraticCircleSum(q1=[1.0], q2=[1.0], q3=[0.0], c1=[1.0], c2=[1.0], c3=[2.0], c4=[0.0, 1.0],
                                    p=[1.0]), "c4"),
    (lambda c: c.LeastSquares(X=np.ones((3, 2)), y=np.ones(2), l2=0.0), "y"),
    (lambda c: c.LeastSquares(X=np.ones((3, 2)), y=np.ones(3), l2=np.nan), "l2"),
    (lambda c: c.MLP(X=np.ones((3, 2)), y=np.ones((3, 1)), hidden=0, l2=0.0), "hidden"),
    (lambda c: c.MLP(X=np.ones((3, 0)), y=np.ones((3, 1)), hidden=2, l2=0.0), "X"),
    (lambda c: c.MLP(X=np.ones((3, 2)), y=np.ones((2, 1)), hidden=2, l2=0.0), "y"),
])
def test_the_core_rejects_bad_input_by_name(make, match):
    from escapade import _core

    with pytest.raises(ValueError, match=match):
        make(_core)



def test_minimizers_are_every_combination_in_product_order():
    """The minimizers, built coordinate by coordinate (numpy's meshgrid stops at 32 dimensions), are every
    combination of the per-coordinate minima, the last coordinate varying fastest, as itertools.product orders
    them."""
    import itertools

    for d in (1, 3, 6):
        f = esc.StyblinskiTangSum.random(d, 4, seed=1)
        expected = np.array(list(itertools.product(*f.local_minima_per_coordinate())))
        assert np.array_equal(f.minimizers(), expected)
