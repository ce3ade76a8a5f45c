"""Step-size thresholds of SGD-k (004, Sections 2-3): curvature constants, Theorems 3.8 and 3.12, the nonconvex
constants of Definition 3.14, and the growth of the error, checked against exact arithmetic and simulations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import (
    GrowthRate,
    convergence_threshold,
    critical_batch_sizes,
    divergence_index,
    divergence_threshold,
    error_factor,
    error_factor_bounds,
    growth_rate,
    local_curvature,
    quadratic_curvature,
    thresholds_table,
    trajectory_errors,
)

INF = np.inf


def homogeneous_problem(seed=0, n=6, d=3, rank=None):
    """Q_i = B_i B_i^T (B_i d x rank), a random theta*, r_i = -Q_i theta*: every term is minimized at theta*."""
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, d, rank or d))
    Q = np.einsum("nij,nkj->nik", B, B)
    theta = rng.normal(size=d)
    r = -np.einsum("nij,j->ni", Q, theta)
    return esc.StochasticQuadratic(Q, r), theta


def inhomogeneous_problem(seed=0, n=6, d=3):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, d, d))
    Q = np.einsum("nij,nkj->nik", B, B)
    return esc.StochasticQuadratic(Q, rng.normal(size=(n, d)))


# --- curvature constants --------------------------------------------------------------------------------------


def test_curvature_constants_match_table_1():
    f, theta = homogeneous_problem()
    c = quadratic_curvature(f)
    A = np.einsum("i,ijk->jk", f.p, f.Q)
    M = np.einsum("i,iab,bc,icd->ad", f.p, f.Q, A, f.Q) - A @ A @ A  # Table 1, as written
    np.testing.assert_allclose(c.M, M, atol=1e-12 * np.abs(M).max())
    np.testing.assert_allclose(c.lambdas, np.sort(np.linalg.eigvalsh(A))[::-1], rtol=1e-12)
    assert c.m == 3 and c.homogeneous and c.psi == 0.0
    np.testing.assert_allclose(c.theta_star, theta, rtol=1e-10)
    assert 0 < c.s_Q <= c.t_Q
    # the same constants from arrays
    c2 = quadratic_curvature(f.Q, f.r, f.p)
    assert (c2.s_Q, c2.t_Q) == (c.s_Q, c.t_Q)


def test_s_and_t_are_the_extreme_rayleigh_quotients_on_the_range():
    # rank-2 E[Q] in R^4: the quotient of (4)-(5) over random v with v'E[Q]v != 0
    f, _ = homogeneous_problem(seed=1, n=5, d=4, rank=1)
    f = esc.StochasticQuadratic(np.concatenate([f.Q[:2], f.Q[:2]]))  # two distinct rank-1 terms: rank E[Q] = 2
    c = quadratic_curvature(f)
    assert c.m == 2
    v = np.random.default_rng(2).normal(size=(200_000, 4))
    ratio = np.einsum("na,ab,nb->n", v, c.M, v) / np.einsum("na,ab,nb->n", v, c.A, v)
    assert ratio.min() >= c.s_Q * (1 - 1e-9) and ratio.max() <= c.t_Q * (1 + 1e-9)
    assert ratio.min() <= c.s_Q * (1 + 1e-3) and ratio.max() >= c.t_Q * (1 - 1e-3)


def test_constant_q_has_zero_s_and_t_and_gd_thresholds_for_every_k():
    H = np.diag([4.0, 1.0, 0.5])
    c = quadratic_curvature(np.stack([H, H, H]))
    assert abs(c.s_Q) <= 1e-12 and abs(c.t_Q) <= 1e-12
    k = np.array([1, 7, 100, INF])
    np.testing.assert_allclose(convergence_threshold(c, k), 2 / 4.0, rtol=1e-12)
    np.testing.assert_allclose(divergence_threshold(c, k), 2 / 0.5, rtol=1e-12)


def test_t_is_positive_iff_q_varies_but_s_can_vanish():
    # Lemma 3.3 (3) claims s_Q > 0 whenever Q is not almost surely constant; Q_i = diag(a_i, 1) varies only along
    # e_1, so M = diag(Var(a) E[a], 0) and s_Q = 0 while t_Q = Var(a) = 1.
    c = quadratic_curvature([np.diag([1.0, 1.0]), np.diag([3.0, 1.0])])
    assert c.s_Q == pytest.approx(0.0, abs=1e-12)
    assert c.t_Q == pytest.approx(1.0, rel=1e-12)


def test_inhomogeneous_constants():
    f = inhomogeneous_problem()
    c = quadratic_curvature(f)
    assert not c.homogeneous and c.residual > 1e-3 * c.scale
    np.testing.assert_allclose(c.A @ c.theta_star, -f.p @ f.r, atol=1e-12)  # (1)
    g = np.einsum("ijk,k->ij", f.Q, c.theta_star) + f.r
    assert c.noise_variance == pytest.approx(np.einsum("i,ij,jk,ik->", f.p, g, c.A, g), rel=1e-12)
    np.testing.assert_allclose(c.cross, np.einsum("i,ijk,kl,il->j", f.p, f.Q, c.A, g), rtol=1e-10)
    assert c.psi >= c.noise_variance > 0
    # a homogeneous problem with terms of lower rank stays homogeneous (a tolerance, not exact zeros)
    h, _ = homogeneous_problem(seed=3, rank=1)
    assert quadratic_curvature(h).homogeneous


@pytest.mark.parametrize("k", [1, 2])
def test_lemma_3_6_and_the_bound_37_by_enumerating_the_batches(k):
    # E[e_{N+1} | theta_N] over every batch of k terms drawn with replacement, against (9) and the upper bound (37)
    f = inhomogeneous_problem(seed=7, n=4)
    c = quadratic_curvature(f)
    lam, C = c.lambdas, 0.05
    batches = np.array(np.meshgrid(*[np.arange(4)] * k, indexing="ij")).reshape(k, -1).T
    weights = np.prod(f.p[batches], axis=1)
    rng = np.random.default_rng(8)
    for _ in range(5):
        x = rng.normal(size=3)
        delta = x - c.theta_star
        grads = np.einsum("bkij,j->bki", f.Q[batches], x) + f.r[batches]
        nxt = x - C * grads.mean(axis=1) - c.theta_star
        exact = weights @ np.einsum("ba,ac,bc->b", nxt, c.A, nxt)
        e = [delta @ np.linalg.matrix_power(c.A, j) @ delta for j in (1, 2, 3)]
        eM = delta @ c.M @ delta
        nine = (e[0] - 2 * C * e[1] + C**2 * e[2] + C**2 / k * eM + 2 * C**2 / k * delta @ c.cross
                + C**2 / k * c.noise_variance)
        assert exact == pytest.approx(nine, rel=1e-10)
        poly = 1 - 2 * C * lam + (1 + 1 / k) * C**2 * lam**2
        bound = e[0] * (poly.max() + C**2 * c.t_Q / k) + C**2 * c.psi / k
        assert exact <= bound


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_lemma_3_6_without_replacement_is_the_reweighted_problem_at_a_larger_k(k):
    # SGD-k without replacement (k distinct terms uniformly, term i weighted by n p_i): E[e_{N+1} | theta_N] over
    # every k-subset is (9) for the terms (n p_i Q_i, n p_i r_i) under uniform weights, with k replaced by
    # k (n - 1) / (n - k), the finite-population correction (docs/sgdk.md); k = n is gradient descent.
    n = 4
    f = inhomogeneous_problem(seed=7, n=n)
    p = np.array([0.45, 0.3, 0.15, 0.1])
    Q, r = f.Q, f.r
    c = quadratic_curvature(n * p[:, None, None] * Q, n * p[:, None] * r)
    original = quadratic_curvature(Q, r, p)
    np.testing.assert_allclose(c.A, original.A, rtol=1e-13)  # same E[Q] and minimizer, other M
    np.testing.assert_allclose(c.theta_star, original.theta_star, rtol=1e-12)
    inv_k = (n - k) / (k * (n - 1))
    subsets = np.array(list(itertools.combinations(range(n), k)))
    C = 0.05
    rng = np.random.default_rng(8)
    for _ in range(5):
        x = rng.normal(size=3)
        delta = x - c.theta_star
        grads = n * p[subsets, None] * (np.einsum("bkij,j->bki", Q[subsets], x) + r[subsets])
        nxt = x - C * grads.mean(axis=1) - c.theta_star
        exact = np.einsum("ba,ac,bc->b", nxt, c.A, nxt).mean()
        e = [delta @ np.linalg.matrix_power(c.A, j) @ delta for j in (1, 2, 3)]
        nine = (e[0] - 2 * C * e[1] + C**2 * e[2]
                + C**2 * inv_k * (delta @ c.M @ delta + 2 * delta @ c.cross + c.noise_variance))
        assert exact == pytest.approx(nine, rel=1e-10)


# --- thresholds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_thresholds_are_theorem_3_8_case_by_case(seed):
    c = quadratic_curvature(homogeneous_problem(seed=seed)[0])
    lam, s, t = c.lambdas, c.s_Q, c.t_Q
    l1, lm = lam[0], lam[-1]
    for k in [1, 2, 3, 5, 10, 30, 100, 1000]:
        want = 2 * l1 / (l1**2 + t / k) if k > t / (l1 * lm) else 2 * lm / (lm**2 + t / k)  # (18)
        assert convergence_threshold(c, k) == pytest.approx(want, rel=1e-14)
        j = divergence_index(c, k)
        if k <= s / (lam[0] * lam[1]):  # (20)
            assert j == 1
        elif k > s / (lam[-1] * lam[-2]):
            assert j == len(lam)
        else:
            assert s / (lam[j - 1] * lam[j - 2]) < k <= s / (lam[j - 1] * lam[j])
        lj = lam[j - 1]
        assert divergence_threshold(c, k) == pytest.approx(2 * lj / (lj**2 + s / k), rel=1e-14)  # (19)
        # (20)'s j maximizes (19): the lower bound of Lemma 3.7 crosses one there
        assert divergence_threshold(c, k) == pytest.approx(np.max(2 * lam / (lam**2 + s / k)), rel=1e-14)
        low, _ = error_factor_bounds(c, divergence_threshold(c, k), k)
        _, high = error_factor_bounds(c, convergence_threshold(c, k), k)
        assert low == pytest.approx(1.0, abs=1e-12) and high == pytest.approx(1.0, abs=1e-12)
        assert convergence_threshold(c, k) <= divergence_threshold(c, k)


def test_critical_batch_sizes_mark_the_regime_changes():
    c = quadratic_curvature(homogeneous_problem(seed=2)[0])
    lam = c.lambdas
    kc, kd = critical_batch_sizes(c)
    assert kc == pytest.approx(c.t_Q / (lam[0] * lam[-1])) and kd == pytest.approx(c.s_Q / (lam[-2] * lam[-1]))
    assert divergence_index(c, 0.99 * kd) < len(lam) and divergence_index(c, 1.01 * kd) == len(lam)
    l1, lm = lam[0], lam[-1]
    assert convergence_threshold(c, 1.01 * kc) == pytest.approx(2 * l1 / (l1**2 + c.t_Q / (1.01 * kc)))
    assert convergence_threshold(c, 0.99 * kc) == pytest.approx(2 * lm / (lm**2 + c.t_Q / (0.99 * kc)))
    assert critical_batch_sizes(c, case="inhomogeneous").convergence == pytest.approx(kc - 1)


def test_batch_size_to_infinity_gives_theorem_2_1():
    for c in [quadratic_curvature(homogeneous_problem()[0]), quadratic_curvature(inhomogeneous_problem())]:
        l1, lm = c.lambdas[0], c.lambdas[-1]
        for case in ["homogeneous", "inhomogeneous"]:
            assert convergence_threshold(c, INF, case=case) == pytest.approx(2 / l1, rel=1e-14)
            assert divergence_threshold(c, INF, case=case) == pytest.approx(2 / lm, rel=1e-14)
            big = convergence_threshold(c, np.array([1e6, 1e9]), case=case)
            np.testing.assert_allclose(big, 2 / l1, rtol=1e-4)
            np.testing.assert_allclose(divergence_threshold(c, np.array([1e6, 1e9]), case=case), 2 / lm, rtol=1e-4)
        # thresholds grow with the batch size
        k = np.array([1, 2, 4, 8, 16, 64, 256, INF])
        assert np.all(np.diff(convergence_threshold(c, k)) > 0) and np.all(np.diff(divergence_threshold(c, k)) >= 0)


def test_inhomogeneous_thresholds_theorem_3_12():
    c = quadratic_curvature(inhomogeneous_problem(seed=4))
    lam, s, t = c.lambdas, c.s_Q, c.t_Q
    l1, lm = lam[0], lam[-1]
    for k in [1, 3, 10, 100]:
        j = 1 if k + 1 > t / (l1 * lm) else len(lam)  # (34)'s cases, with the step of (39)
        lj = lam[j - 1]
        want = 2 * lj / ((1 + 1 / k) * lj**2 + t / k)
        assert convergence_threshold(c, k) == pytest.approx(want, rel=1e-14)
        assert convergence_threshold(c, k) < convergence_threshold(c, k, case="homogeneous")  # shrinks
        gamma = 0.5 * np.sqrt(s / k) * 0.7  # 4 gamma^2 in (0, s/k]
        jj = divergence_index(c, k, gamma=gamma)
        terms = 2 * (lam + gamma) / (lam**2 + s / k)  # (35) for every j: (36) picks the largest
        assert jj == np.argmax(terms) + 1
        g_thr = divergence_threshold(c, k, gamma=gamma)
        assert g_thr == pytest.approx(terms.max(), rel=1e-14)
        assert g_thr > divergence_threshold(c, k)  # gamma -> 0+ is the homogeneous (19), the smallest
    assert np.isnan(divergence_threshold(c, INF, gamma=0.1))  # no gamma > 0 allowed when s_Q / k = 0
    assert np.isnan(divergence_threshold(c, 1, gamma=np.sqrt(s)))  # 4 gamma^2 > s_Q / k


def test_thresholds_table():
    f, _ = homogeneous_problem()
    table = thresholds_table(f)
    assert list(table.index) == [1, 10, 100, INF] and table.index.name == "k"
    assert list(table.columns) == ["convergence", "divergence", "j", "lambda_j", "theorem"]
    assert set(table["theorem"]) == {"3.8"}  # homogeneous: Theorem 3.8
    c = quadratic_curvature(f)
    assert table.loc[INF, "divergence"] == pytest.approx(2 / c.lambdas[-1])
    np.testing.assert_array_equal(table["convergence"], convergence_threshold(c, [1, 10, 100, INF]))
    t2 = thresholds_table(inhomogeneous_problem(), ks=[1, 2], gamma=0.01)
    assert np.all(np.isfinite(t2["divergence"]))
    assert set(t2["theorem"]) == {"3.12"}


# --- the simulated error ---------------------------------------------------------------------------------------


def simulated_errors(f, theta, lr, k, *, n_paths=1000, steps=12, seed=0):
    c = quadratic_curvature(f)
    res = esc.simulate(f, esc.SGDk(lr=lr, batch_size=k, replace=True),
                       x0=esc.UniformBall(theta, 1e-3), n_paths=n_paths, max_steps=steps, seed=seed,
                       record_paths=n_paths, divergence_bound=1e300)
    assert np.all(res.status == esc.Status.CENSORED)
    return res, trajectory_errors(res, theta, matrix=c.A)


@pytest.mark.parametrize("k", [1, 3])
def test_sgdk_diverges_above_and_converges_below_the_thresholds(k):
    f, theta = homogeneous_problem()
    c = quadratic_curvature(f)
    res, E = simulated_errors(f, theta, 1.1 * divergence_threshold(c, k), k)
    assert E.shape == (1000, 13)
    up = growth_rate(E)
    assert up.low > 1, up
    assert np.all(np.diff(E.mean(axis=0)) > 0)  # E[e_N] grows at every step (Theorem 3.8, Remark 1)
    assert growth_rate(res, theta, matrix=c.A).factor == up.factor  # from the result directly
    _, E = simulated_errors(f, theta, 0.9 * convergence_threshold(c, k), k, seed=1)
    down = growth_rate(E)
    assert down.high < 1, down
    assert np.all(np.diff(E.mean(axis=0)) < 0)


def test_error_factor_is_the_second_moment_recursion():
    f, _ = homogeneous_problem(seed=5)
    c = quadratic_curvature(f)
    lam = c.lambdas
    C, k = 0.2, 2
    rho = error_factor(f, C, k)
    low, high = error_factor_bounds(c, C, k)
    assert low <= rho <= high
    # iterate S_{N+1} = (I - CA) S (I - CA) + C^2/k E[(Q - A) S (Q - A)] and watch tr(A S_N)
    S = np.eye(3)
    B = np.eye(3) - C * c.A
    D = f.Q - c.A

    def step(S):
        return B @ S @ B + C**2 / k * np.einsum("i,iab,bc,icd->ad", f.p, D, S, D)

    for _ in range(400):  # power iteration: S_N / |S_N| tends to the top eigenvector of the map
        S = step(S)
        S /= np.abs(S).max()
    assert np.trace(c.A @ step(S)) / np.trace(c.A @ S) == pytest.approx(rho, rel=1e-9)
    # gradient descent: the largest (1 - C lambda)^2, the square of GD's per-direction factor |1 - C lambda|
    assert error_factor(f, 0.35, INF) == pytest.approx(np.max((1 - 0.35 * lam) ** 2), rel=1e-12)


def test_gd_on_x_squared_diverges_by_the_factor_1_2():
    # 004 Section 2: f(x) = x^2, step 1.1, x0 = -1: 1.2, -1.44, ...; the distance grows by |1 - 2C| = 1.2
    res = esc.simulate(esc.Quadratic([[2.0]]), esc.GD(lr=1.1), x0=[-1.0], n_paths=1, max_steps=10, seed=0,
                       record_paths=1)
    D = trajectory_errors(res, [0.0])
    np.testing.assert_allclose(D[0, :3], [1.0, 1.2, 1.44], rtol=1e-15)
    for method in ["log_mean", "mean_log"]:
        g = growth_rate(D, method=method)
        assert g.factor == pytest.approx(1.2, rel=1e-12) and g.effective_paths == pytest.approx(1.0, rel=1e-12)
    f = esc.StochasticQuadratic([[[2.0]]])
    assert error_factor(f, 1.1, INF) == pytest.approx(1.2**2, rel=1e-12)  # e_N = 2 x^2 grows by 1.44


def test_growth_rate_reports_how_many_paths_carry_the_mean():
    """Kish's (sum e)^2 / sum e^2 at the worst fitted iteration: n for equal errors; for log-normal errors with log
    sd s it tends to n exp(-s^2), whose shrinking is what undoes the "log_mean" interval."""
    E = np.ones((40, 5)) * 0.5 ** np.arange(5)
    assert growth_rate(E).effective_paths == pytest.approx(40.0, rel=1e-12)
    rng = np.random.default_rng(2)
    s = np.sqrt(np.arange(6) * 0.09)  # the log sd grows with the iteration: 0.3 per step
    E = np.exp(s * rng.standard_normal((20_000, 6)))
    assert growth_rate(E).effective_paths == pytest.approx(20_000 * np.exp(-s[-1] ** 2), rel=0.05)
    # scale-free: errors of a divergence near 1e200 (whose squares overflow) give the same
    assert growth_rate(E * 1e200).effective_paths == pytest.approx(growth_rate(E).effective_paths, rel=1e-12)


def test_growth_rate_on_exact_geometric_data():
    rng = np.random.default_rng(0)
    scale = rng.lognormal(size=(50, 1))
    E = scale * 0.8 ** np.arange(0, 30, 3)  # recorded every 3 iterations
    for method in ["log_mean", "mean_log"]:
        g = growth_rate(E, method=method, every=3, level=0.9)
        assert isinstance(g, GrowthRate)
        assert g.factor == pytest.approx(0.8, rel=1e-12) and g.low <= g.factor <= g.high
        np.testing.assert_array_equal(g.iterations, np.arange(0, 30, 3))
    E[3, 5:] = np.nan  # a path that ended: only iterations reached by every path are fitted
    assert list(growth_rate(E, every=3).iterations) == [0, 3, 6, 9, 12]


# --- the nonconvex constants -----------------------------------------------------------------------------------


def test_local_curvature_of_a_stochastic_quadratic_is_exact():
    f, theta = homogeneous_problem(seed=6)
    c = quadratic_curvature(f)
    loc = local_curvature(f, theta, 0.1, n_samples=50, seed=0)
    np.testing.assert_allclose(loc.lambdas, c.lambdas, rtol=1e-12)
    assert loc.s_f == pytest.approx(c.s_Q, rel=1e-10) and loc.t_f == pytest.approx(c.t_Q, rel=1e-10)
    assert loc.n_samples == 50 and loc.n_indefinite == 0
    assert loc.s_se <= 1e-10 * c.s_Q and np.all(loc.lambdas_se <= 1e-12 * c.lambdas[0])
    k = np.array([1, 10, INF])
    np.testing.assert_allclose(divergence_threshold(loc, k), divergence_threshold(c, k), rtol=1e-10)
    np.testing.assert_allclose(convergence_threshold(loc, k), convergence_threshold(c, k), rtol=1e-10)
    # a plain callable with weights
    loc2 = local_curvature(lambda x: f.Q, theta, 0.1, p=f.p, n_samples=20)
    assert loc2.t_f == pytest.approx(c.t_Q, rel=1e-10)


def test_local_curvature_averages_over_the_ball():
    # terms f_i(x) = a_i x^2 / 2 + x^4 / 4 in 1-D: H_i = a_i + 3 x^2, H = E[a] + 3 x^2, uniform on [-eps, eps]:
    # the ball average of H is E[a] + eps^2; M(x) = Var(a) H(x), so s_f = t_f = Var(a) exactly.
    a = np.array([1.0, 2.0, 6.0])
    eps = 0.5

    def term_hessians(x):
        return (a + 3 * x[0] ** 2)[:, None, None]

    loc = local_curvature(term_hessians, [0.0], eps, n_samples=4000, seed=1)
    assert abs(loc.lambdas[0] - (a.mean() + eps**2)) < 4 * loc.lambdas_se[0]
    assert loc.lambdas_se[0] > 0
    assert loc.s_f == pytest.approx(a.var(), rel=1e-12) and loc.t_f == pytest.approx(a.var(), rel=1e-12)
    table = thresholds_table(loc, ks=[1, INF])
    assert table.loc[INF, "divergence"] == pytest.approx(2 / loc.lambdas[0])


# --- bad input ------------------------------------------------------------------------------------------------


def test_bad_input():
    f, theta = homogeneous_problem()
    c = quadratic_curvature(f)
    with pytest.raises(ValueError, match="k"):
        convergence_threshold(c, 0)
    with pytest.raises(ValueError, match="k"):
        divergence_threshold(c, [1, -2])
    with pytest.raises(TypeError, match="k"):
        convergence_threshold(c, "many")
    with pytest.raises(ValueError, match="eps"):
        local_curvature(f, theta, 0.0)
    with pytest.raises(ValueError, match="center"):
        local_curvature(f, [0.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="semi-definite"):
        quadratic_curvature([[[1.0, 0.0], [0.0, -1.0]]])
    with pytest.raises(ValueError, match="Q"):
        quadratic_curvature(np.ones((2, 2)))
    with pytest.raises(ValueError, match="r"):
        quadratic_curvature(f.Q, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="p"):
        quadratic_curvature(f.Q, None, np.full(6, 0.5))
    with pytest.raises(TypeError, match="r and p"):
        quadratic_curvature(f, f.r)
    with pytest.raises(ValueError, match="E\\[Q\\]"):
        quadratic_curvature(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="gamma"):
        divergence_threshold(c, 1, gamma=0.1)  # a homogeneous minimizer
    with pytest.raises(ValueError, match="gamma"):
        divergence_threshold(c, 1, case="inhomogeneous", gamma=-1.0)
    with pytest.raises(ValueError, match="case"):
        convergence_threshold(c, 1, case="convex")
    with pytest.raises(TypeError, match="curvature"):
        convergence_threshold(np.eye(2), 1)
    with pytest.raises(TypeError, match="landscape"):
        local_curvature(3.0, theta, 0.1)
    with pytest.raises(ValueError, match="term_hessians"):
        local_curvature(lambda x: np.eye(3), theta, 0.1)
    with pytest.raises(ValueError, match="method"):
        growth_rate(np.ones((3, 4)), method="median")
    with pytest.raises(ValueError, match="errors"):
        growth_rate(np.ones((3, 1)))
    with pytest.raises(ValueError, match="lr"):
        error_factor_bounds(c, np.nan, 1)
    res = esc.simulate(f, esc.GD(lr=0.01), x0=theta, n_paths=1, max_steps=2, seed=0)
    with pytest.raises(ValueError, match="trajectories"):
        trajectory_errors(res, theta)


@pytest.mark.parametrize("make", [lambda: esc.StyblinskiTangSum.random(3, 7, seed=2),
                                  lambda: esc.LeastSquares(np.arange(18.0).reshape(6, 3) % 5, np.arange(6.0), l2=0.3),
                                  lambda: esc.StochasticQuadratic.homogeneous(3, 4, seed=1)],
                         ids=["styblinski-tang", "least-squares", "stochastic-quadratic"])
def test_term_hessians_average_to_the_hessian(make):
    f = make()
    x = np.array([0.4, -1.1, 1.7])
    H = f.term_hessians(x)
    assert H.shape == (f.n_terms, 3, 3)
    np.testing.assert_allclose(np.einsum("i,ijk->jk", f.weights, H), f.hessian(x), rtol=1e-12, atol=1e-12)
