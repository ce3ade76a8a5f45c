"""Review fixes at the edges of the input range: full AdaGrad where delta0^2 is below the round-off of |g|^2,
random starts beyond one stream's words, a 1-D ball start whose normal is exactly 0, and the range of
`strict_saddle_gd_mean`, `stable_manifold`'s arguments and `minimum_action_path` on a non-gradient field."""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import minimum_action_path, stable_manifold
from escapade.experiments.saddles import strict_saddle_gd_mean


def _adagrad_full_reference(H, x, lr, delta0, steps):
    # G = delta0^2 I + sum g g^T: eigendecompose the sum alone and add delta0^2 to its eigenvalues
    S = np.zeros_like(H)
    for _ in range(steps):
        g = H @ x
        S += np.outer(g, g)
        w, V = np.linalg.eigh(S)
        x = x - lr * V @ ((V.T @ g) / np.sqrt(w.clip(0) + delta0**2))
    return x


@pytest.mark.parametrize("delta0", [1e-8, 1e-10, 1e-30, 1e-150])
def test_full_adagrad_with_a_tiny_delta0_is_finite_and_right(delta0):
    # delta0^2 below one ulp of |g|^2 was lost from G: a zero eigenvalue, inf / NaN steps and a DIVERGED path
    H = np.diag([1.0, 2.0, 3.0])
    x0 = np.array([0.3, -0.2, 0.1])
    res = esc.simulate(esc.Quadratic(H), esc.AdaGrad(0.1, delta0=delta0, matrix="full"), x0=x0, n_paths=1,
                       max_steps=20, seed=0)
    assert res.status[0] == esc.Status.CENSORED
    # the reference at delta0 = 1e-8 (where it is well conditioned): below, the path changes by O(delta0^2 / |g|^2)
    np.testing.assert_allclose(res.final_position[0], _adagrad_full_reference(H, x0, 0.1, 1e-8, 20), atol=1e-7)


def test_full_adagrad_in_two_dimensions_takes_the_exact_first_step():
    # g = (0.1, 0.2): G g = (delta0^2 + |g|^2) g, so the first step is lr g / sqrt(delta0^2 + |g|^2)
    g = np.array([0.1, 0.2])
    res = esc.simulate(esc.Quadratic(np.eye(2)), esc.AdaGrad(1.0, delta0=1e-100, matrix="full"), x0=g, n_paths=1,
                       max_steps=1, seed=0)
    np.testing.assert_allclose(res.final_position[0], g - g / np.linalg.norm(g), atol=1e-15)


@pytest.mark.parametrize("delta0", [1e-160, 1e155])
@pytest.mark.parametrize("cls", [lambda d: esc.AdaGrad(delta0=d, matrix="full"), lambda d: esc.AdaNorm(delta0=d),
                                 lambda d: esc.AdaGrad(delta0=d)])
def test_adagrad_refuses_a_delta0_whose_square_is_not_a_normal_double(cls, delta0):
    # below 1.5e-154, delta0^2 underflows to 0 (0 / 0 at a critical point); above 1.3e154 it overflows
    with pytest.raises(ValueError, match="delta0"):
        esc.simulate(esc.Quadratic(np.eye(2)), cls(delta0), x0=[0.0, 0.0], n_paths=1, max_steps=2, seed=0)


@pytest.mark.parametrize("sampler", [lambda d: esc.UniformBox(np.zeros(d), np.ones(d)),
                                     lambda d: esc.UniformBall(np.zeros(d), 1.0)])
def test_random_starts_refuse_more_coordinates_than_one_stream_holds(sampler):
    # a start's coordinates come from one counter stream of 2^18 words: beyond, coordinate j + 2^18 repeated j
    with pytest.raises(ValueError, match="262142"):
        sampler(2**18 + 8).sample(1, seed=0)


def test_random_starts_below_the_stream_limit_do_not_repeat():
    # 32-bit uniforms: among 2^18 of them about 8 pairs coincide by chance; a wrapped stream repeats thousands
    x = esc.UniformBox(np.zeros(2**18 - 2), np.ones(2**18 - 2)).sample(1, seed=0)[0]
    assert x.size - np.unique(x).size < 30


def test_a_one_dimensional_ball_start_never_is_nan():
    # seed 51576746, path 0: the one normal is exactly 0 (a Box-Muller angle of a quarter turn), which gave a NaN
    # start and a DIVERGED path; its partner in the pair now gives the direction
    ball = esc.UniformBall([0.0], 1.0)
    x = ball.sample(1, seed=51576746)
    assert np.isfinite(x).all() and abs(x[0, 0]) <= 1
    res = esc.simulate(esc.Quadratic(np.zeros((1, 1))), esc.Langevin(temperature=0.1, dt=0.01), x0=ball,
                       n_paths=2, max_steps=5, seed=51576746)
    assert (res.status == esc.Status.CENSORED).all()


def test_strict_saddle_gd_mean_refuses_step_sizes_where_its_formula_fails():
    # at lr = 3 the other coordinates grow (x (1 - lr) = -2 x per step) and decide the exit: the formula read 25.2
    # for a simulated 7.17
    assert strict_saddle_gd_mean(dim=10, curvature=0.1, lr=1.5) == pytest.approx(46.88, rel=1e-3)
    with pytest.raises(ValueError, match="lr"):
        strict_saddle_gd_mean(dim=10, curvature=0.1, lr=3.0)
    with pytest.raises(ValueError, match="lr"):
        strict_saddle_gd_mean(dim=2, curvature=0.5, quartic=1.0, radius=0.5, lr=1.99)


def _saddle_field(x):
    return np.array([x[0], -x[1]])


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (1.5, TypeError), (True, TypeError), (None, TypeError)])
def test_stable_manifold_checks_its_seed(bad, exc):
    with pytest.raises(exc, match="seed"):
        stable_manifold(_saddle_field, [0.0, 0.0], seed=bad, n_points=2)


def test_stable_manifold_checks_vectorized_and_its_grid_size():
    with pytest.raises(TypeError, match="vectorized"):
        stable_manifold(_saddle_field, [0.0, 0.0], vectorized="yes", n_points=2)
    with pytest.raises(ValueError, match="dt"):  # 30000001 grid times: a MemoryError before
        stable_manifold(_saddle_field, [0.0, 0.0], dt=1e-6, n_points=50)


def test_minimum_action_path_of_a_non_gradient_field_with_a_known_quasipotential():
    # b = -grad f + 1.0 R grad f (R a quarter turn) is transverse: the quasi-potential is still 2 f, so the least
    # action from the minimum (-1, 0) to the saddle (0, 0) of f = (x^2 - 1)^2 / 4 + y^2 / 2 is 2 (1/4) = 0.5
    def field(p):
        g = np.stack([p[:, 0] ** 3 - p[:, 0], p[:, 1]], axis=1)
        return -g + np.stack([-g[:, 1], g[:, 0]], axis=1)
    r = minimum_action_path(field, [-1.0, 0.0], [0.0, 0.0])
    assert r.converged and r.action == pytest.approx(0.5, rel=2e-3)  # 0.50008 at 65 images


@pytest.mark.parametrize("flow", [lambda g: esc.ConstrainedFlow(g, dt=0.01, alpha=1e300),
                                  lambda g: esc.ConstrainedFlow(g, dt=0.01, forcing=esc.Periodic(1e300, 1.0))])
def test_overflow_in_a_constrained_flow_is_diverged_not_singular(flow):
    # on the parabola J J^T = 1 + x_2^2 >= 1 never loses rank: an overflowing J J^T was called SINGULAR
    r = esc.simulate(esc.Ackley(), flow(esc.Parabola()), x0=[[3.0, 1.0]], t_max=1.0, seed=0)
    assert r.status[0] == esc.Status.DIVERGED
    # a row of norm 1e160 (the set x_1 = 0.1): k = jg / inf = 0 ran the unconstrained flow, CENSORED, off the set
    for A, b in (([[1e160, 0.0, 0.0]], [1e159]), ([[1e160, 0.0, 0.0], [0.0, 1.0, 0.0]], [1e159, 0.0])):
        affine = esc.ConstrainedFlow(esc.Affine(A, b), dt=0.01)
        r = esc.simulate(esc.Quadratic(np.eye(3)), affine, x0=[[0.1, 0.0, 0.5]], t_max=1.0, seed=0)
        assert r.status[0] == esc.Status.DIVERGED
        assert np.isnan(affine.drift(esc.Quadratic(np.eye(3)), [0.1, 0.0, 0.5])).all()
    sph = esc.ConstrainedFlow(esc.Sphere(center=[0.0, 0.0], radius=1.0), dt=0.01)  # a real singular point
    r = esc.simulate(esc.Quadratic(np.eye(2)), sph, x0=[[0.0, 0.0]], t_max=1.0, seed=0)
    assert r.status[0] == esc.Status.SINGULAR


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"n_paths": 2.5}, TypeError, "n_paths"),   # was truncated to 2
    ({"n_paths": 1}, ValueError, "n_paths"),    # failed after the whole run on a NaN standard error
    ({"n_paths": True}, TypeError, "n_paths"),
    ({"lr": "a"}, (TypeError, ValueError), "lr"),
    ({"lr": [0.1]}, (TypeError, ValueError), "lr"),
    ({"lr": 0.0}, ValueError, "lr"),            # named batch_size, which the caller never gave
])
def test_sgd_exit_time_experiment_checks_its_arguments_first(kwargs, exc, name):
    from escapade.experiments import sgd_exit_time_experiment
    with pytest.raises(exc, match=name):
        sgd_exit_time_experiment(np.diag([1.0, 4.0]), 1.0, **kwargs)
