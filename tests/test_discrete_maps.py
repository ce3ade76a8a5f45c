"""Discrete optimizer maps: GD with step schedules, heavy ball, noisy GD, Gaussian SGD."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import solve_discrete_lyapunov

import escapade as esc
from escapade import _core


def final_states(res):
    return np.array([x[-1] for _, x in res.trajectories])


def test_gd_on_x_squared_follows_the_textbook_sequence():
    # f(x) = x^2, step 1.1: x_{t+1} = x_t - 2.2 x_t = -1.2 x_t (004, Section 2).
    res = esc.simulate(esc.Quadratic([[2.0]]), esc.GD(lr=1.1), x0=[-1.0], n_paths=1, max_steps=5, seed=0,
                       record_paths=1)
    t, x = res.trajectories[0]
    np.testing.assert_array_equal(t, np.arange(6.0))  # dt = 1: time counts iterations
    expected = [-1.0]
    for _ in range(5):
        expected.append(expected[-1] - 1.1 * (2.0 * expected[-1]))
    np.testing.assert_array_equal(x[:, 0], expected)
    np.testing.assert_allclose(x[:3, 0], [-1.0, 1.2, -1.44], rtol=1e-15)
    assert res.status[0] == esc.Status.CENSORED


@pytest.mark.parametrize(("lr", "status"), [(0.45, esc.Status.HIT), (1.9 / 4.0, esc.Status.HIT),
                                            (2.1 / 0.5, esc.Status.DIVERGED), (0.6, esc.Status.DIVERGED)])
def test_gd_step_thresholds_on_a_quadratic(lr, status):
    # Theorem 2.1 of 004: GD on a quadratic with eigenvalues in [0.5, 4] converges for lr < 2/4 and diverges for
    # lr > 2/0.5; in between it diverges along the steep direction from a generic start.
    H = np.diag([0.5, 1.0, 4.0])
    res = esc.simulate(esc.Quadratic(H), esc.GD(lr=lr), x0=esc.UniformBall(np.zeros(3), 1.0),
                       target=esc.Ball(np.zeros(3), 1e-8), n_paths=50, max_steps=20_000, seed=1,
                       divergence_bound=1e6)
    assert np.all(res.status == status)


def test_step_schedules():
    assert esc.GD(lr=0.3).step_size(7) == 0.3
    assert esc.GD(lr=2.0, schedule="inverse_sqrt").step_size(3) == 2.0 / math.sqrt(4.0)
    assert esc.GD(lr=2.0, schedule="inverse").step_size(3) == 2.0 / 4.0
    assert esc.GD(lr=[0.1, 0.2, 0.3]).step_size(1) == 0.2
    for bad, error in ((-1, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match="t"):
            esc.GD(lr=2.0, schedule="inverse").step_size(bad)
        with pytest.raises(error, match="t"):
            esc.SGLD(0.1, 0.2).step_sizes(bad)
    with pytest.raises(ValueError, match="t must be below the table's 3 step sizes"):
        esc.GD(lr=[0.1, 0.2, 0.3]).step_size(3)


@pytest.mark.parametrize("schedule", ["constant", "inverse_sqrt", "inverse", "table"])
def test_gd_schedules_match_a_numpy_loop(schedule):
    lr = np.linspace(0.5, 0.05, 40) if schedule == "table" else 0.4
    dyn = esc.GD(lr=lr) if schedule == "table" else esc.GD(lr=lr, schedule=schedule)
    res = esc.simulate(esc.DoubleWell(dim=2), dyn, x0=[0.3, -2.0], n_paths=1, max_steps=40, seed=0, record_paths=1)
    x = np.array([0.3, -2.0])
    for t in range(40):
        x = x - dyn.step_size(t) * ((x * x) * x - x)
    np.testing.assert_array_equal(final_states(res)[0], x)


def heavy_ball_reference(x0, lr, beta, steps):
    x, v = np.array(x0, float), np.zeros(len(x0))
    for _ in range(steps):
        v = beta * v - lr * ((x * x) * x - x)
        x = x + v
    return x


def test_heavy_ball_matches_a_numpy_loop():
    x0 = [0.2, -1.7]
    res = esc.simulate(esc.DoubleWell(dim=2), esc.HeavyBall(lr=0.05, momentum=0.8), x0=x0, n_paths=1, max_steps=60,
                       seed=0, record_paths=1)
    np.testing.assert_array_equal(final_states(res)[0], heavy_ball_reference(x0, 0.05, 0.8, 60))


def test_noisy_gd_matches_a_numpy_loop_fed_the_same_noise():
    seed, steps, lr, r = 11, 30, 0.05, 0.5
    x0 = np.array([[0.1, -0.4], [1.5, 0.2], [-0.3, 0.9]])
    res = esc.simulate(esc.DoubleWell(dim=2), esc.NoisyGD(lr=lr, noise_radius=r), x0=x0, max_steps=steps, seed=seed,
                       record_paths=3)
    x = x0.copy()
    for t in range(steps):
        z, _ = _core.step_draws(seed, np.arange(3, dtype=np.uint64), t, 2)
        scale = r / np.sqrt(z[:, 0] * z[:, 0] + z[:, 1] * z[:, 1])
        x = x - lr * (((x * x) * x - x) + scale[:, None] * z)
    np.testing.assert_array_equal(final_states(res), x)


def test_gaussian_sgd_stationary_covariance_solves_the_discrete_lyapunov_equation():
    H = np.array([[2.0, 0.6], [0.6, 1.0]])
    C = np.array([[1.0, -0.3], [-0.3, 0.5]])
    lr, B, n, steps = 0.1, 4.0, 20_000, 300
    res = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=lr, batch_size=B, C=C), x0=[0.0, 0.0], n_paths=n,
                       max_steps=steps, seed=3, record_paths=n, record_every=steps)
    X = final_states(res)
    A = np.eye(2) - lr * H
    sigma = solve_discrete_lyapunov(A, lr**2 / B * C)  # Sigma = A Sigma A^T + (lr^2 / B) C
    S = np.cov(X.T)
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / n)  # SE of a sample covariance (Gaussian)
    assert np.all(np.abs(S - sigma) < 4 * se), (S, sigma, se)
    assert np.all(np.abs(X.mean(axis=0)) < 4 * np.sqrt(np.diag(sigma) / n))


@pytest.mark.parametrize("dynamics", [esc.HeavyBall(lr=0.05, momentum=0.7), esc.NoisyGD(lr=0.05, noise_radius=2.0),
                                      esc.GaussianSGD(lr=0.05, batch_size=2.0, C=np.eye(2))])
def test_maps_are_bitwise_reproducible_across_threads_and_lanes(dynamics):
    # Exit times spread widely, so blocks refill and pack: per-lane state must move with its path.
    kwargs = dict(x0=esc.UniformBall([-1.0, -1.0], 0.3), stop=esc.Ball([-1.0, -1.0], 0.9), n_paths=600,
                  max_steps=20_000, seed=5)
    a = esc.simulate(esc.DoubleWell(dim=2), dynamics, threads=1, lanes=1, **kwargs)
    b = esc.simulate(esc.DoubleWell(dim=2), dynamics, threads=2, lanes=64, **kwargs)
    for name in ("status", "exit_time", "exit_step", "exit_position"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize(("make", "exc", "match"), [
    (lambda: esc.GD(lr=-0.1), ValueError, "lr"),
    (lambda: esc.GD(lr=0.1, schedule="cosine"), ValueError, "schedule"),
    (lambda: esc.GD(lr=[0.1, -0.2]), ValueError, "lr"),
    (lambda: esc.GD(lr="fast"), TypeError, "lr"),
    (lambda: esc.HeavyBall(lr=0.1, momentum=1.0), ValueError, "momentum"),
    (lambda: esc.NoisyGD(lr=0.1, noise_radius=-1.0), ValueError, "noise_radius"),
    (lambda: esc.GaussianSGD(lr=0.1, batch_size=0, C=np.eye(2)), ValueError, "batch_size"),
    (lambda: esc.GaussianSGD(lr=0.1, batch_size=1, C=[[1.0, 2.0], [2.0, 1.0]]), ValueError, "C"),
    (lambda: esc.GaussianSGD(lr=0.1, batch_size=1, C=[[1.0, 0.5], [0.0, 1.0]]), ValueError, "C"),
])
def test_bad_map_parameters(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_map_runs():
    with pytest.raises(ValueError, match="lr"):  # a table shorter than the run
        esc.simulate(esc.DoubleWell(), esc.GD(lr=[0.1] * 5), x0=[0.5], n_paths=1, max_steps=10, seed=0)
    with pytest.raises(ValueError, match="C"):  # covariance of the wrong size
        esc.simulate(esc.DoubleWell(dim=3), esc.GaussianSGD(lr=0.1, batch_size=1, C=np.eye(2)), x0=[0.0, 0.0, 0.0],
                     n_paths=1, max_steps=10, seed=0)


def adaptive_reference(x0, steps, delta0, mode):
    x = np.array(x0, float)
    d = len(x)
    G = delta0**2 * np.eye(d) if mode == "full" else np.full(d if mode == "diagonal" else 1, delta0**2)
    for _ in range(steps):
        g = (x * x) * x - x
        if mode == "diagonal":
            G = G + g * g
            x = x - 1.0 * g / np.sqrt(G)
        elif mode == "norm":
            G = G + np.sum(g * g) if d > 1 else G + g * g
            x = x - (1.0 / np.sqrt(G[0])) * g
        else:
            G = G + np.outer(g, g)
            w, V = np.linalg.eigh(G)
            x = x - V @ ((V.T @ g) / np.sqrt(w))
    return x


@pytest.mark.parametrize("mode", ["diagonal", "norm", "full"])
def test_adaptive_policies_match_a_numpy_loop(mode):
    x0 = [0.3, -1.6]
    dyn = esc.AdaNorm(delta0=0.5) if mode == "norm" else esc.AdaGrad(delta0=0.5, matrix=mode)
    res = esc.simulate(esc.DoubleWell(dim=2), dyn, x0=x0, n_paths=1, max_steps=50, seed=0, record_paths=1)
    got, want = final_states(res)[0], adaptive_reference(x0, 50, 0.5, mode)
    if mode == "full":  # numpy's eigensolver and escapade's Jacobi rotations round differently
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    elif mode == "norm":  # |g|^2 summed in another order by numpy for d > 1: equal to rounding
        np.testing.assert_allclose(got, want, rtol=1e-14)
    else:
        np.testing.assert_array_equal(got, want)


def test_adagrad_full_matches_numpy_on_a_dense_quadratic():
    # A dense 6 x 6 Hessian: G = delta0^2 I + sum g g^T has no zero off-diagonal entry from the first step, so every
    # Jacobi rotation is exercised; the whole path (every step's x) against numpy's eigh, to rounding.
    rng = np.random.default_rng(4)
    A = rng.normal(size=(6, 6))
    H, c = A @ A.T / 6 + 0.2 * np.eye(6), rng.normal(size=6)
    x0, lr, delta0, steps = rng.normal(size=6), 0.3, 0.7, 12
    res = esc.simulate(esc.Quadratic(H, center=c), esc.AdaGrad(lr=lr, delta0=delta0, matrix="full"), x0=x0,
                       n_paths=1, max_steps=steps, seed=0, record_paths=1)
    _, got = res.trajectories[0]
    x, G, want = np.array(x0), delta0**2 * np.eye(6), [np.array(x0)]
    for _ in range(steps):
        g = H @ (x - c)
        G = G + np.outer(g, g)
        w, V = np.linalg.eigh(G)
        x = x - lr * (V @ ((V.T @ g) / np.sqrt(w)))
        want.append(x)
    assert got.shape == (steps + 1, 6)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-12, atol=1e-13)


def test_adagrad_full_state_moves_with_its_path():
    dyn = esc.AdaGrad(lr=0.5, delta0=1.0, matrix="full")
    kwargs = dict(x0=esc.UniformBall([0.0, 0.0], 0.5), target=esc.Ball([1.0, 1.0], 0.05), n_paths=300,
                  max_steps=5000, seed=9)
    a = esc.simulate(esc.DoubleWell(dim=2), dyn, threads=1, lanes=1, **kwargs)
    b = esc.simulate(esc.DoubleWell(dim=2), dyn, threads=2, lanes=32, **kwargs)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    np.testing.assert_array_equal(a.exit_position, b.exit_position)


def test_bad_adaptive_parameters():
    with pytest.raises(ValueError, match="delta0"):
        esc.AdaGrad(delta0=0.0)
    with pytest.raises(ValueError, match="matrix"):
        esc.AdaGrad(matrix="block")
    with pytest.raises(ValueError, match="delta0"):
        esc.AdaNorm(delta0=-1.0)


def test_gaussian_sgd_continuous_version():
    C = np.array([[1.0, 0.3], [0.3, 0.5]])
    sgd = esc.GaussianSGD(lr=0.1, batch_size=4.0, C=C)
    sde = sgd.continuous(dt=1e-3)
    assert isinstance(sde, esc.Langevin) and sde.dt == 1e-3
    np.testing.assert_allclose(sde.diffusion_matrix(2), 0.1 / 4.0 * C, rtol=1e-12)  # Sigma = (eta / B) C
    with pytest.raises(ValueError, match="schedule"):
        esc.GaussianSGD(lr=0.1, batch_size=1.0, C=C, schedule="inverse").continuous(dt=1e-3)


def marker_sum(p):
    """n terms f_i(x) = x_i on R^n: one term's gradient is e_i, so a step shows which terms were drawn."""
    n = len(p)
    return esc.StochasticQuadratic(np.zeros((n, n, n)), np.eye(n), p)


def drawn_counts(p, k, replace, n_paths=20_000, seed=0):
    n = len(p)
    res = esc.simulate(marker_sum(p), esc.SGDk(lr=1.0, batch_size=k, replace=replace), x0=np.zeros(n),
                       n_paths=n_paths, max_steps=1, seed=seed, record_paths=n_paths)
    x1 = np.array([x[-1] for _, x in res.trajectories])
    return np.rint(-k * x1).astype(int)  # x1 = -(1/k) sum_j e_{i_j}


@pytest.mark.parametrize("k", [1, 3])
def test_sgdk_draws_terms_with_their_probabilities(k):
    p = np.array([0.1, 0.2, 0.3, 0.4])
    counts = drawn_counts(p, k, replace=True)
    assert np.all(counts.sum(axis=1) == k)
    freq = counts.sum(axis=0) / counts.sum()
    se = np.sqrt(p * (1 - p) / counts.sum())
    assert np.all(np.abs(freq - p) < 4 * se), (freq, p)


def test_sgdk_without_replacement_never_repeats_a_term():
    counts = drawn_counts(np.full(5, 0.2), 3, replace=False)
    assert counts.max() == 1 and np.all(counts.sum(axis=1) == 3)
    inclusion = counts.mean(axis=0)  # uniform p: each term is in the batch with probability k / n
    assert np.all(np.abs(inclusion - 0.6) < 4 * np.sqrt(0.6 * 0.4 / counts.shape[0]))
    p = np.array([0.5, 0.3, 0.1, 0.1])
    res = esc.simulate(marker_sum(p), esc.SGDk(lr=1.0, batch_size=4, replace=False), x0=np.zeros(4), n_paths=50,
                       max_steps=1, seed=0)
    assert np.all(res.final_position == -p)  # k = n: every term once, weighted: the step is grad F = p, whatever p


def test_sgdk_with_the_full_batch_without_replacement_is_gd_bitwise():
    rng = np.random.default_rng(0)
    n, d = 6, 3
    A = rng.normal(size=(n, d, d))
    f = esc.StochasticQuadratic(np.einsum("nij,nkj->nik", A, A), rng.normal(size=(n, d)))
    common = dict(x0=esc.UniformBall(np.zeros(d), 1.0), n_paths=50, max_steps=30, seed=4, record_paths=50)
    gd = esc.simulate(f, esc.GD(lr=0.02), **common)
    sgd = esc.simulate(f, esc.SGDk(lr=0.02, batch_size=n, replace=False), **common)
    for (_, a), (_, b) in zip(gd.trajectories, sgd.trajectories):
        np.testing.assert_array_equal(a, b)


def small_weighted_sum():
    """Five quadratic terms on R^2 with unequal weights p, a point x and the terms' gradients there (numpy)."""
    rng = np.random.default_rng(1)
    p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    a = rng.normal(size=(5, 2, 2))
    Q, r = np.einsum("nij,nkj->nik", a, a), rng.normal(size=(5, 2))
    x = np.array([0.7, -0.4])
    return esc.StochasticQuadratic(Q, r, p), p, x, np.einsum("nij,j->ni", Q, x) + r


def enumerated_batches(p, g, k, replace):
    """Every minibatch SGD-k can draw, as {sorted indices: (probability, batch gradient)}, by enumeration: with
    replacement the ordered k-tuples of independent draws with probabilities p, gradient their mean; without,
    the k-subsets, each with probability 1 / C(n, k), gradient (1/k) sum_{i in S} n p_i g_i."""
    n = len(p)
    out = {}
    if replace:
        for t in itertools.product(range(n), repeat=k):
            key = tuple(sorted(t))
            prob = out.get(key, (0.0, None))[0] + np.prod(p[list(t)])
            out[key] = (prob, g[list(key)].mean(axis=0))
    else:
        for s in itertools.combinations(range(n), k):
            out[s] = (1 / math.comb(n, k), (n * p[list(s), None] * g[list(s)]).sum(axis=0) / k)
    return out


@pytest.mark.parametrize("replace", [True, False], ids=["with", "without"])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_sgdk_minibatch_gradient_is_unbiased_for_a_weighted_sum(k, replace):
    f, p, x, g = small_weighted_sum()
    batches = enumerated_batches(p, g, k, replace)
    probs = np.array([b[0] for b in batches.values()])
    steps = np.array([b[1] for b in batches.values()])
    grad = p @ g
    np.testing.assert_allclose(f.gradient(x), grad, rtol=1e-14)  # the numpy terms are the landscape's
    np.testing.assert_allclose(probs @ steps, grad, rtol=1e-14, atol=1e-15)  # the scheme: E[batch gradient] = grad F
    # its covariance, as docs/sgdk.md states it
    n, dev = len(p), steps - grad
    cov = np.einsum("b,bi,bj->ij", probs, dev, dev)
    if replace:
        want = (np.einsum("i,ia,ib->ab", p, g, g) - np.outer(grad, grad)) / k
    else:
        want = (n - k) / (n - 1) / k * (np.einsum("i,ia,ib->ab", n * p**2, g, g) - np.outer(grad, grad))
    np.testing.assert_allclose(cov, want, atol=1e-13)
    # The engine: one step of size 1 from x on many paths; each path's step is one of the batch gradients.
    n_paths = 20_000
    res = esc.simulate(f, esc.SGDk(lr=1.0, batch_size=k, replace=replace), x0=x, n_paths=n_paths, max_steps=1,
                       seed=10 * k + replace)
    assert res.params["semantics"] >= 3  # the unbiased scheme came with semantics 3
    drawn = x - res.final_position
    gap = np.abs(drawn[:, None, :] - steps[None]).max(axis=2)
    which = gap.argmin(axis=1)
    assert gap[np.arange(n_paths), which].max() < 1e-12
    # ... drawn with the scheme's probabilities (bins expecting fewer than 5 pooled) ...
    counts, expected = np.bincount(which, minlength=len(probs)), n_paths * probs
    small = expected < 5
    if small.any():
        counts = np.append(counts[~small], counts[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    if len(counts) > 1:
        assert stats.chisquare(counts, expected).pvalue > 1e-4
    # ... and the mean step is grad F within 4 standard errors (the old successive sampling was 9% off at k = 2).
    se = drawn.std(axis=0, ddof=1) / math.sqrt(n_paths)
    assert np.all(np.abs(drawn.mean(axis=0) - grad) <= 4 * se + 1e-11), (drawn.mean(axis=0), grad, se)  # + rounding


def test_sgdk_full_batch_of_a_weighted_sum_without_replacement_is_gd_bitwise():
    f, _, _, _ = small_weighted_sum()
    common = dict(x0=esc.UniformBall(np.zeros(2), 1.0), n_paths=20, max_steps=30, seed=4, record_paths=20)
    gd = esc.simulate(f, esc.GD(lr=0.05), **common)
    sgd = esc.simulate(f, esc.SGDk(lr=0.05, batch_size=5, replace=False), **common)
    for (_, a), (_, b) in zip(gd.trajectories, sgd.trajectories):
        np.testing.assert_array_equal(a, b)


def test_sgdk_under_uniform_weights_takes_the_plain_mean():
    # n = 49: 49 * (1/49) rounds to 1 - 2^-53, so a weight n p_i applied under uniform p would show in the bits.
    assert 49 * (1 / 49) != 1.0
    n, k = 49, 3
    res = esc.simulate(marker_sum(np.full(n, 1 / n)), esc.SGDk(lr=1.0, batch_size=k, replace=False),
                       x0=np.zeros(n), n_paths=200, max_steps=1, seed=0)
    x1 = res.final_position
    assert np.all((x1 == 0.0) | (x1 == -(1.0 / k))) and np.all((x1 != 0).sum(axis=1) == k)


@pytest.mark.parametrize("dyn", [esc.SGDk(lr=0.1, batch_size=2, replace=False),
                                 esc.SGDk(lr=0.1, batch_size=3, replace=True),
                                 esc.SGLD(A=0.05, B=0.05, batch_size=3, replace=False)], ids=["without", "with", "sgld"])
def test_sgdk_on_a_weighted_sum_is_bitwise_across_threads_and_lanes(dyn):
    # The minibatch noise carries paths out of a ball around the minimizer (0.27, 0.26) after 5 to 300 steps, so
    # blocks refill and pack: each lane's draws and weights must move with its path.
    f, _, _, _ = small_weighted_sum()
    kwargs = dict(x0=esc.UniformBall([0.27, 0.26], 0.1), stop=esc.Ball([0.27, 0.26], 0.6), n_paths=300,
                  max_steps=300, seed=6)
    a = esc.simulate(f, dyn, threads=1, lanes=1, **kwargs)
    b = esc.simulate(f, dyn, threads=2, lanes=32, **kwargs)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    np.testing.assert_array_equal(a.exit_position, b.exit_position)


def test_bad_sgdk_input():
    f = marker_sum(np.full(3, 1 / 3))
    with pytest.raises(ValueError, match="batch_size"):  # more than n without replacement
        esc.simulate(f, esc.SGDk(lr=0.1, batch_size=4, replace=False), x0=np.zeros(3), n_paths=1, max_steps=1, seed=0)
    with pytest.raises(ValueError, match="landscape"):  # not a finite sum
        esc.simulate(esc.DoubleWell(), esc.SGDk(lr=0.1, batch_size=1), x0=[0.0], n_paths=1, max_steps=1, seed=0)
    with pytest.raises(ValueError, match="p"):
        esc.StochasticQuadratic(np.zeros((2, 1, 1)), p=[0.5, 0.6])
    with pytest.raises(ValueError, match="semi-definite"):
        esc.StochasticQuadratic(np.array([[[-1.0]]]))
    with pytest.raises(TypeError, match="batch_size"):
        esc.SGDk(lr=0.1, batch_size=1.5)
    with pytest.raises(ValueError, match="0 normals and 70000 uniforms per step of SGDk"):  # one counter's draws
        esc.simulate(f, esc.SGDk(lr=0.1, batch_size=70_000), x0=np.zeros(3), n_paths=1, max_steps=1, seed=0)
    with pytest.raises(ValueError, match="2147483647 uniforms"):  # k + 1 overflowed an int and passed the check
        esc.simulate(f, esc.SGDk(lr=0.1, batch_size=2**31 - 1), x0=np.zeros(3), n_paths=1, max_steps=1, seed=0)


def test_sgld_constant_schedule_stationary_covariance():
    # x' = (I - A H) x + B z: Sigma solves Sigma = (I - A H) Sigma (I - A H)^T + B^2 I.
    H = np.array([[1.5, 0.4], [0.4, 0.8]])
    A, B, n, steps = 0.2, 0.3, 20_000, 200
    res = esc.simulate(esc.Quadratic(H), esc.SGLD(A=A, B=B), x0=[0.0, 0.0], n_paths=n, max_steps=steps, seed=8,
                       record_paths=n, record_every=steps)
    X = final_states(res)
    M = np.eye(2) - A * H
    sigma = solve_discrete_lyapunov(M, B**2 * np.eye(2))
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / n)
    assert np.all(np.abs(np.cov(X.T) - sigma) < 4 * se)


def test_sgld_gelfand_mitter_schedule_matches_a_numpy_loop():
    dyn = esc.SGLD(A=0.5, B=0.2, schedule="gelfand_mitter", t0=5.0)
    a0, b0 = dyn.step_sizes(0)
    assert a0 == 0.5 / 5.0 and b0 == pytest.approx(math.sqrt(0.2 / (5.0 * math.log(math.log(5.0)))), rel=1e-15)
    seed, steps = 3, 40
    res = esc.simulate(esc.DoubleWell(dim=2), dyn, x0=[0.2, -0.5], n_paths=1, max_steps=steps, seed=seed,
                       record_paths=1)
    x = np.array([0.2, -0.5])
    for t in range(steps):
        z, _ = _core.step_draws(seed, np.array([0], dtype=np.uint64), t, 2)
        a, b = dyn.step_sizes(t)
        x = (x - a * ((x * x) * x - x)) + b * z[0]
    np.testing.assert_array_equal(final_states(res)[0], x)


def test_sgld_with_minibatches_of_a_finite_sum():
    f = marker_sum(np.full(4, 0.25))  # term gradients e_i: a minibatch step shows the drawn terms
    res = esc.simulate(f, esc.SGLD(A=1.0, B=0.0, batch_size=2, replace=False), x0=np.zeros(4), n_paths=2000,
                       max_steps=1, seed=0, record_paths=2000)
    counts = np.rint(-2 * final_states(res)).astype(int)
    assert counts.max() == 1 and np.all(counts.sum(axis=1) == 2)
    with pytest.raises(ValueError, match="landscape"):
        esc.simulate(esc.DoubleWell(), esc.SGLD(A=0.1, B=0.1, batch_size=2), x0=[0.0], n_paths=1, max_steps=1, seed=0)
    with pytest.raises(ValueError, match="t0"):
        esc.SGLD(A=0.1, B=0.1, schedule="gelfand_mitter", t0=2.0)
    with pytest.raises(ValueError, match="schedule"):
        esc.SGLD(A=0.1, B=0.1, schedule="cosine")


def test_perturbed_gd_escapes_a_strict_saddle_and_stops():
    # The double well in 2-D has strict saddles at (0, +-1): GD started there never moves, perturbed GD escapes
    # to the minima (+-1, 1) and then stops by its own rule with status CONVERGED, answering the point x~.
    f, x0 = esc.DoubleWell(dim=2), [0.0, 1.0]
    gd = esc.simulate(f, esc.GD(lr=0.1), x0=x0, n_paths=10, max_steps=2000, seed=0)
    assert np.all(gd.status == esc.Status.CENSORED)
    pgd = esc.PerturbedGD(lr=0.1, radius=0.1, g_thres=1e-3, f_thres=1e-4, t_thres=50)
    res = esc.simulate(f, pgd, x0=x0, n_paths=400, max_steps=10_000, seed=0)
    assert np.all(res.status == esc.Status.CONVERGED)
    at_minimum = np.abs(np.abs(res.exit_position) - 1.0).max(axis=1) < 1e-2
    assert at_minimum.mean() > 0.95
    left = res.exit_position[at_minimum, 0] < 0
    assert abs(left.mean() - 0.5) < 4 * math.sqrt(0.25 / at_minimum.sum())  # both minima, by symmetry
    assert np.all(np.isfinite(res.exit_time)) and res.summary().counts["CONVERGED"] == 400


def test_perturbed_gd_parameters_from_the_theorem():
    L, rho, eps, d, df, c, delta = 2.0, 6.0, 1e-2, 2, 1.0, 1.0, 0.1
    p = esc.PerturbedGD.from_theorem(L, rho, eps, dim=d, delta_f=df, c=c, delta=delta)
    chi = 3 * max(math.log(d * L * df / (c * eps**2 * delta)), 4)
    assert p.lr == c / L and p.g_thres == pytest.approx(math.sqrt(c) * eps / chi**2)
    assert p.radius == pytest.approx(math.sqrt(c) * eps / (chi**2 * L))
    assert p.t_thres == math.ceil(chi * L / (c**2 * math.sqrt(rho * eps)))  # whole iterations
    assert p.f_thres == pytest.approx(c / chi**3 * math.sqrt(eps**3 / rho))
    for t_thres in (0.5, 5.5):  # "t_thres iterations after a jump" never comes for a fraction
        with pytest.raises(ValueError, match="t_thres"):
            esc.PerturbedGD(lr=0.1, radius=0.1, g_thres=1e-3, f_thres=1e-4, t_thres=t_thres)
    with pytest.raises(ValueError, match="delta"):
        esc.PerturbedGD.from_theorem(L, rho, eps, dim=d, delta_f=df, delta=2.0)


def test_perturbed_gd_from_the_theorem_stops_at_the_minimum():
    """Started at the minimum of a convex quadratic, f cannot fall by f_thres after the first jump: every path ends
    CONVERGED t_thres iterations after it, at step t_thres + 1 (the jump at t = 0), answering x0."""
    p = esc.PerturbedGD.from_theorem(L=2.0, rho=1.0, epsilon=1e-2, dim=2, delta_f=1.0)
    res = esc.simulate(esc.Quadratic(np.diag([1.0, 2.0])), p, x0=[0.0, 0.0], n_paths=4, max_steps=20_000, seed=0)
    assert np.all(res.status == esc.Status.CONVERGED)
    assert np.all(res.exit_step == p.t_thres + 1) and np.all(res.exit_position == 0.0)
