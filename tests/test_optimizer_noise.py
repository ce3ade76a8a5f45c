"""Optimizer noise: Gaussian SGD with state-dependent covariance (Hessian, empirical) and its continuous version,
symmetric alpha-stable noise for the discrete map and the Levy-driven SDE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import solve_discrete_lyapunov

import escapade as esc
from escapade import _core

FLAT1 = esc.Quadratic(np.zeros((1, 1)))


def first_steps(dynamics, n, seed, landscape=FLAT1, dim=1):
    """x_1 of n paths started at 0, read off as exit positions from a tiny ball."""
    res = esc.simulate(landscape, dynamics, x0=np.zeros(dim), stop=esc.Ball(np.zeros(dim), 1e-100), n_paths=n,
                       max_steps=1, seed=seed, divergence_bound=math.inf)
    assert np.all(res.exit_step == 1)
    return res.exit_position


def assert_cdf_matches(x, dist, n_sigma=4.5):
    """The empirical CDF at the distribution's quantiles is p within n_sigma binomial standard errors."""
    p = np.array([0.02, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 0.98])
    q = dist.ppf(p)
    f = (x[:, None] <= q[None, :]).mean(axis=0)
    se = np.sqrt(p * (1 - p) / x.size)
    assert np.all(np.abs(f - p) < n_sigma * se), (f, p, se)


# ------------------------------------------------------------------------------------------ alpha-stable noise


@pytest.mark.parametrize("alpha", [0.8, 1.5, 1.9])
def test_stable_sgd_noise_matches_scipy_levy_stable(alpha):
    # Flat landscape: x_1 = scale * S with S ~ S_alpha(1, 0, 0) = scipy's levy_stable(alpha, 0) (S0 and S1 agree
    # for beta = 0); scipy's `scale` multiplies the standard variable as ours does.
    scale = 0.7
    x = first_steps(esc.StableSGD(lr=0.3, alpha=alpha, scale=scale), 20_000, seed=int(alpha * 10))[:, 0]
    assert_cdf_matches(x, stats.levy_stable(alpha, 0.0, scale=scale))


def test_small_alpha_draws_do_not_overflow_in_a_factor():
    """For alpha = 0.01 a factor of the Chambers-Mallows-Stuck formula underflows where the draw is finite: the
    share of draws beyond 1e300 (DIVERGED) against the formula in logarithms with numpy (4e6 draws)."""
    alpha, n = 0.01, 400_000
    res = esc.simulate(FLAT1, esc.StableSGD(lr=1.0, alpha=alpha, scale=1.0), x0=[0.0], n_paths=n, max_steps=1, seed=5,
                       divergence_bound=1e300)
    diverged = res.count(esc.Status.DIVERGED) / n
    rng = np.random.default_rng(0)
    v = np.pi * (rng.random(4_000_000) - 0.5)
    w = -np.log(rng.random(v.size))
    log_x = (np.log(np.abs(np.sin(alpha * v))) - np.log(np.cos(v)) / alpha
             + (1 - alpha) / alpha * (np.log(np.cos((1 - alpha) * v)) - np.log(w)))
    p = float(np.mean(log_x > 300 * np.log(10)))
    assert abs(diverged - p) < 4 * math.sqrt(p * (1 - p) / n) + 4 * math.sqrt(p / v.size), (diverged, p)


def test_stable_alpha_one_is_cauchy_and_alpha_two_is_gaussian_with_variance_two_scale_squared():
    n, scale = 20_000, 0.5
    cauchy = first_steps(esc.StableSGD(lr=0.1, alpha=1.0, scale=scale), n, seed=1)[:, 0]
    assert stats.kstest(cauchy, stats.cauchy(scale=scale).cdf).pvalue > 1e-3
    gauss = first_steps(esc.StableSGD(lr=0.1, alpha=2.0, scale=scale), n, seed=2)[:, 0]
    assert stats.kstest(gauss, stats.norm(scale=math.sqrt(2) * scale).cdf).pvalue > 1e-3
    var = 2 * scale**2  # the standard stable convention: S_2(1, 0, 0) = N(0, 2)
    assert abs(gauss.var() - var) < 4 * var * math.sqrt(2 / n)


def test_stable_coordinates_are_independent_and_identically_distributed():
    x = first_steps(esc.StableSGD(lr=0.1, alpha=2.0, scale=1.0), 20_000, seed=3, landscape=esc.Quadratic(np.zeros((3, 3))),
                    dim=3)
    c = np.corrcoef(x.T)
    assert np.all(np.abs(c[np.triu_indices(3, 1)]) < 4 / math.sqrt(x.shape[0]))
    for j in range(3):
        assert stats.kstest(x[:, j], stats.norm(scale=math.sqrt(2)).cdf).pvalue > 1e-3


def test_levy_langevin_increment_is_dt_to_the_one_over_alpha_times_stable():
    alpha, scale, dt = 1.5, 0.4, 0.01
    x = first_steps(esc.LevyLangevin(alpha, scale, dt=dt), 20_000, seed=4)[:, 0]
    assert_cdf_matches(x, stats.levy_stable(alpha, 0.0, scale=scale * dt ** (1 / alpha)))


def test_stable_sgd_step_is_the_gradient_step_plus_the_noise():
    # The same seed draws the same uniforms: the noise of a step does not depend on the landscape.
    H = np.array([[2.0, 0.3], [0.3, 1.0]])
    x0 = np.array([0.4, -0.2])
    kw = dict(x0=x0, n_paths=50, max_steps=1, seed=9, record_paths=50)
    dyn = esc.StableSGD(lr=0.1, alpha=1.3, scale=0.2)
    on_h = esc.simulate(esc.Quadratic(H), dyn, **kw)
    flat = esc.simulate(esc.Quadratic(np.zeros((2, 2))), dyn, **kw)
    noise = np.array([x[-1] for _, x in flat.trajectories]) - x0
    got = np.array([x[-1] for _, x in on_h.trajectories])
    np.testing.assert_allclose(got, x0 - 0.1 * H @ x0 + noise, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------------- state-dependent Gaussian SGD


def test_gaussian_sgd_with_hessian_noise_stationary_covariance_solves_the_discrete_lyapunov_equation():
    H = np.array([[2.0, 0.6], [0.6, 1.0]])
    lr, B, n, steps = 0.1, 4.0, 20_000, 200
    res = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=lr, batch_size=B, C="hessian"), x0=[0.0, 0.0], n_paths=n,
                       max_steps=steps, seed=3, record_paths=n, record_every=steps)
    X = np.array([x[-1] for _, x in res.trajectories])
    A = np.eye(2) - lr * H
    sigma = solve_discrete_lyapunov(A, lr**2 / B * H)  # Sigma = A Sigma A^T + (lr^2 / B) H
    S = np.cov(X.T)
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / n)
    assert np.all(np.abs(S - sigma) < 4 * se), (S, sigma, se)


def test_hessian_noise_on_a_quadratic_is_the_fixed_matrix_c_equal_h():
    H = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.2], [0.0, -0.2, 0.5]])
    kw = dict(x0=esc.UniformBall(np.zeros(3), 0.5), n_paths=40, max_steps=100, seed=6, record_paths=40)
    a = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=0.1, batch_size=2.0, C="hessian"), **kw)
    b = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=0.1, batch_size=2.0, C=H), **kw)
    for (_, xa), (_, xb) in zip(a.trajectories, b.trajectories):
        np.testing.assert_allclose(xa, xb, rtol=1e-12, atol=1e-14)


def psd_sqrt(S):
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def test_hessian_noise_clips_negative_curvature_like_a_numpy_loop():
    # Double well: H(x) = diag(3 x^2 - 1); near the saddle the negative eigenvalues get no noise.
    seed, steps, lr, B = 5, 20, 0.05, 2.0
    x0 = np.array([[0.1, -0.4], [1.5, 0.2], [-0.3, 0.9]])
    res = esc.simulate(esc.DoubleWell(dim=2), esc.GaussianSGD(lr=lr, batch_size=B, C="hessian"), x0=x0,
                       max_steps=steps, seed=seed, record_paths=3)
    x = x0.copy()
    for t in range(steps):
        z, _ = _core.step_draws(seed, np.arange(3, dtype=np.uint64), t, 2)
        noise = np.array([psd_sqrt(np.diag(3 * xi * xi - 1)) @ zi for xi, zi in zip(x, z)])
        x = x - lr * (x * x * x - x) + lr / math.sqrt(B) * noise
    final = np.array([xs[-1] for _, xs in res.trajectories])
    np.testing.assert_allclose(final, x, rtol=1e-12, atol=1e-14)


def stochastic_quadratic(p=None):
    rng = np.random.default_rng(7)
    n, d = 5, 3
    M = rng.standard_normal((n, d, d))
    Q = np.einsum("nij,nkj->nik", M, M) / d + 0.2 * np.eye(d)
    r = rng.standard_normal((n, d))
    p = np.full(n, 1.0 / n) if p is None else np.asarray(p)
    return esc.StochasticQuadratic(Q, r, p), Q, r, p


@pytest.mark.parametrize("weights", [None, [0.1, 0.3, 0.2, 0.25, 0.15]])
def test_empirical_noise_matches_numpy_fed_the_same_normals(weights):
    f, Q, r, p = stochastic_quadratic(weights)
    seed, steps, lr, B, n = 13, 6, 0.05, 3.0, 4
    x0 = np.random.default_rng(1).uniform(-1, 1, (n, 3))
    res = esc.simulate(f, esc.GaussianSGD(lr=lr, batch_size=B, C="empirical"), x0=x0, max_steps=steps, seed=seed,
                       record_paths=n)
    x = x0.copy()
    for t in range(steps):
        z, _ = _core.step_draws(seed, np.arange(n, dtype=np.uint64), t, len(p))  # one normal per term
        G = np.einsum("nij,lj->lni", Q, x) + r[None]  # (paths, terms, d): the terms' gradients
        g = np.einsum("n,lni->li", p, G)
        A = np.sqrt(p)[None, :, None] * (G - g[:, None, :])  # C = sum_i A_i A_i^T
        x = x - lr * g + lr / math.sqrt(B) * np.einsum("lni,ln->li", A, z)
    final = np.array([xs[-1] for _, xs in res.trajectories])
    np.testing.assert_allclose(final, x, rtol=1e-11, atol=1e-13)


def test_empirical_noise_covariance_is_the_term_gradient_covariance():
    f, Q, r, p = stochastic_quadratic([0.1, 0.3, 0.2, 0.25, 0.15])
    x0 = np.array([0.3, -0.5, 0.8])
    lr, B, n = 0.1, 1.0, 20_000
    x1 = first_steps_at(f, esc.GaussianSGD(lr=lr, batch_size=B, C="empirical"), x0, n)
    G = Q @ x0 + r
    g = p @ G
    C = (p[:, None] * (G - g)).T @ (G - g)
    S = np.cov(((x1 - (x0 - lr * g)) / lr).T)
    se = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / n)
    assert np.all(np.abs(S - C) < 4.5 * se), (S, C)


def first_steps_at(f, dyn, x0, n):
    res = esc.simulate(f, dyn, x0=x0, stop=esc.Ball(x0, 1e-100), n_paths=n, max_steps=1, seed=8)
    assert np.all(res.exit_step == 1)
    return res.exit_position


def test_continuous_sgd_with_state_dependent_noise():
    f, Q, r, p = stochastic_quadratic()
    sgd = esc.GaussianSGD(lr=0.2, batch_size=2.0, C="empirical")
    sde = sgd.continuous(dt=0.01)
    assert sde.S == "empirical" and sde.eps == pytest.approx(math.sqrt(0.1))
    seed, n = 4, 3
    x0 = np.random.default_rng(2).uniform(-1, 1, (n, 3))
    res = esc.simulate(f, sde, x0=x0, max_steps=1, seed=seed, record_paths=n)
    z, _ = _core.step_draws(seed, np.arange(n, dtype=np.uint64), 0, len(p))
    G = np.einsum("nij,lj->lni", Q, x0) + r[None]
    g = G.mean(axis=1)
    A = np.sqrt(p)[None, :, None] * (G - g[:, None, :])
    expected = x0 - 0.01 * g + math.sqrt(0.01) * sde.eps * np.einsum("lni,ln->li", A, z)
    np.testing.assert_allclose(np.array([xs[-1] for _, xs in res.trajectories]), expected, rtol=1e-12, atol=1e-14)
    # Hessian noise in continuous time: on a quadratic the same as the constant factor H^{1/2}.
    H = np.array([[1.5, 0.2], [0.2, 0.7]])
    kw = dict(x0=[0.1, 0.0], stop=esc.Ball([0.0, 0.0], 0.6), n_paths=30, t_max=50.0, seed=1, record_paths=30)
    a = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=0.1, batch_size=1.0, C="hessian").continuous(0.05), **kw,
                     bridge=False)
    b = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=0.1, batch_size=1.0, C=H).continuous(0.05), **kw, bridge=False)
    for (_, xa), (_, xb) in zip(a.trajectories, b.trajectories):
        np.testing.assert_allclose(xa, xb, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------- reproducibility


def w2_like(d=20):
    rng = np.random.default_rng(0)
    Qm, _ = np.linalg.qr(rng.standard_normal((d, d)))
    H = (Qm * np.logspace(-1, 0.5, d)) @ Qm.T
    return (H + H.T) / 2


@pytest.mark.parametrize("case", ["stable_sgd", "levy", "hessian", "empirical", "langevin_hessian", "fixed_d20"])
def test_new_noise_is_bitwise_reproducible_across_threads_and_lanes(case):
    f2 = esc.DoubleWell(dim=2)
    problems = {
        "stable_sgd": (f2, esc.StableSGD(lr=0.05, alpha=1.7, scale=0.1)),
        "levy": (f2, esc.LevyLangevin(1.7, 0.3, dt=0.05)),
        "hessian": (f2, esc.GaussianSGD(lr=0.05, batch_size=0.5, C="hessian")),
        "empirical": (stochastic_quadratic()[0], esc.GaussianSGD(lr=0.1, batch_size=0.3, C="empirical")),
        "langevin_hessian": (f2, esc.Langevin(eps=0.6, S="hessian", dt=0.05)),
        "fixed_d20": (esc.Quadratic(w2_like()), esc.GaussianSGD(lr=0.05, batch_size=1.0, C=w2_like())),
    }
    f, dyn = problems[case]
    d = f.dim
    kwargs = dict(x0=esc.UniformBall(np.zeros(d), 0.3), stop=esc.Ball(np.zeros(d), 0.9 if d > 2 else 2.5),
                  n_paths=300, max_steps=5_000, seed=5)
    if case in ("hessian", "langevin_hessian"):  # an eigendecomposition per lane and step
        kwargs.update(n_paths=100, max_steps=2_000)
    runs = [esc.simulate(f, dyn, threads=t, lanes=lanes, **kwargs) for t, lanes in ((1, 1), (1, 7), (2, 64), (1, 8))]
    assert np.any(runs[0].status == esc.Status.EXITED)
    for other in runs[1:]:
        for name in ("status", "exit_step", "exit_position"):
            np.testing.assert_array_equal(getattr(runs[0], name), getattr(other, name))


# ------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("make", "exc", "match"), [
    (lambda: esc.StableSGD(lr=0.1, alpha=0.0), ValueError, "alpha"),
    (lambda: esc.StableSGD(lr=0.1, alpha=2.5), ValueError, "alpha"),
    (lambda: esc.StableSGD(lr=0.1, alpha=math.nan), ValueError, "alpha"),
    (lambda: esc.StableSGD(lr=0.1, alpha="heavy"), TypeError, "alpha"),
    (lambda: esc.StableSGD(lr=0.1, alpha=1.5, scale=-1.0), ValueError, "scale"),
    (lambda: esc.LevyLangevin(-1.0, dt=0.1), ValueError, "alpha"),
    (lambda: esc.LevyLangevin(1.5, -0.1, dt=0.1), ValueError, "scale"),
    (lambda: esc.LevyLangevin(1.5, 1.0, dt=0.0), ValueError, "dt"),
    (lambda: esc.GaussianSGD(lr=0.1, batch_size=1, C="bogus"), ValueError, "C"),
    (lambda: esc.Langevin(eps=0.1, S="bogus", dt=0.1), ValueError, "S"),
    (lambda: esc.Langevin(temperature=0.1, S="hessian", dt=0.1), ValueError, "S"),
    (lambda: esc.GaussianSGD(lr=0.1, batch_size=1, C="hessian").noise_factor(), ValueError, "C"),
    (lambda: esc.Langevin(eps=0.1, S="hessian", dt=0.1).diffusion_matrix(2), ValueError, "S"),
    (lambda: _core.StableSGD(lr=_core.StepPolicy(_core.StepKind.CONSTANT, 0.1), alpha=2.01, scale=1.0), ValueError,
     "alpha"),
    (lambda: _core.LevyLangevin(alpha=0.0, scale=1.0, dt=0.1), ValueError, "alpha"),
    (lambda: _core.GaussianSGD(lr=_core.StepPolicy(_core.StepKind.CONSTANT, 0.1), batch_size=1.0, noise="bogus"),
     ValueError, "C"),
])
def test_bad_noise_parameters(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize(("dyn", "match"), [
    (esc.GaussianSGD(lr=0.1, batch_size=1, C="empirical"), "C must be .*finite sum"),
    (esc.Langevin(eps=0.1, S="empirical", dt=0.1), "S must be .*finite sum"),
])
def test_empirical_noise_needs_a_finite_sum(dyn, match):
    with pytest.raises(ValueError, match=match):
        esc.simulate(esc.DoubleWell(dim=2), dyn, x0=[0.0, 0.0], n_paths=1, max_steps=5, seed=0)


def test_small_alpha_scales_in_logarithms():
    """LevyLangevin at alpha = 0.005, dt = 0.01: the step's scale dt^(1/alpha) = 1e-400 underflows to 0 and a draw
    overflows with probability ~1e-4 where their product does not. Both are formed in logarithms: Brownian-free Levy
    flights leave (-1, 1) from 0 after E[tau] = 1 / Gamma(1 + alpha) (Getoor; +0.6% of time-step bias at this dt,
    measured on 400,000 paths), and only the steps beyond the largest double (about 3% of the paths here) diverge.
    Before, every path moved by 0 * X and diverged on the first infinite draw. A zero scale adds nothing: StableSGD
    with scale 0 is GD, bit for bit, also at alpha = 0.01 where draws overflow."""
    alpha = 0.005
    res = esc.simulate(FLAT1, esc.LevyLangevin(alpha=alpha, scale=1.0, dt=0.01), x0=[0.0], stop=esc.Box([-1.0], [1.0]),
                       n_paths=4000, t_max=100.0, seed=3)
    exited = res.status == esc.Status.EXITED
    assert np.all(exited | (res.status == esc.Status.DIVERGED)) and exited.mean() > 0.95
    t = res.exit_time[exited]
    exact = 1 / math.gamma(1 + alpha)
    assert abs(t.mean() - exact) < 4 * t.std() / math.sqrt(t.size) + 0.03 * exact, (t.mean(), exact)
    kw = dict(x0=[-0.5], n_paths=256, max_steps=300, seed=1)
    gd = esc.simulate(esc.DoubleWell(), esc.GD(lr=0.1), **kw)
    quiet = esc.simulate(esc.DoubleWell(), esc.StableSGD(lr=0.1, alpha=0.01, scale=0.0), **kw)
    assert quiet.count(esc.Status.CENSORED) == 256
    np.testing.assert_array_equal(quiet.final_position, gd.final_position)


def test_a_jump_past_the_divergence_bound_out_of_stop_is_an_exit():
    """At alpha = 0.1 a sixth of the jumps that leave (-1, 1) land beyond 1e8, the default divergence bound: they
    exited (the point is finite and outside stop), and were reported DIVERGED. The run is now the same as with the
    bound out of the way, and splitting between two half-lines (whose union holds every far point) likewise."""
    dyn = esc.LevyLangevin(alpha=0.1, scale=1.0, dt=0.01)
    kw = dict(x0=[0.0], stop=esc.Box([-1.0], [1.0]), n_paths=4000, t_max=0.5, seed=2)
    near, far = esc.simulate(FLAT1, dyn, **kw), esc.simulate(FLAT1, dyn, divergence_bound=1e300, **kw)
    assert near.count(esc.Status.DIVERGED) == 0 and np.any(np.abs(near.exit_position) > 1e8)
    np.testing.assert_array_equal(near.status, far.status)
    np.testing.assert_array_equal(near.exit_time, far.exit_time)
    split = dict(x0=[0.5], reactant=esc.HalfSpace([1.0], -1.0), product=esc.HalfSpace([-1.0], -1.0), n_replicas=50,
                 n_runs=10, seed=4)
    slowdyn = esc.LevyLangevin(alpha=0.1, scale=0.05, dt=0.01)
    a, b = esc.splitting(FLAT1, slowdyn, **split), esc.splitting(FLAT1, slowdyn, divergence_bound=1e300, **split)
    assert a.probability == b.probability and a.interval == b.interval
    # a replica that ended far out leaves its lane idle at its point before the step, as the engine does: a
    # gradient defined only within the bound is never asked beyond it (it was, and stopped the run)
    seen = []

    def grad(x):
        seen.append(float(np.max(np.abs(x))))
        return np.where(np.abs(x) > 1e8, np.nan, 0.0)

    c = esc.splitting(esc.BatchedLandscape(1, grad), slowdyn, threads=1, **split)
    assert c.probability == a.probability and max(seen) < 1e8


def test_a_zero_scale_adds_nothing_where_the_step_scale_overflows():
    # dt^(1/alpha) = 3^1000 overflows: 0 times it was NaN, and every path diverged at its first step
    quiet = esc.simulate(esc.Quadratic([[0.01]]), esc.LevyLangevin(alpha=0.001, scale=0.0, dt=3.0), x0=[1.0],
                         n_paths=4, max_steps=5, seed=0)
    assert quiet.count(esc.Status.CENSORED) == 4
    np.testing.assert_allclose(quiet.final_position, (1 - 0.03) ** 5, rtol=1e-12)
