"""Monte Carlo exit times against exact answers (tolerances from the standard error, fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d

from conftest import double_well

T_W1 = 1 / 16


@pytest.fixture(scope="module")
def w1_runs():
    """W1 at dt = 1e-3 with and without the bridge test, on the same noise (same seed)."""
    kwargs = dict(x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=20_000, t_max=1e5, seed=7, threads=2)
    dyn = esc.Langevin(temperature=T_W1, dt=1e-3)
    corrected = esc.simulate(esc.DoubleWell(), dyn, bridge=True, **kwargs)
    uncorrected = esc.simulate(esc.DoubleWell(), dyn, bridge=False, **kwargs)
    return corrected, uncorrected


def test_w1_exact_value():
    exact = langevin_mean_exit_time_1d(double_well, T_W1, -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    assert exact == pytest.approx(135.783, abs=5e-4)


def test_double_well_with_bridge_matches_exact(w1_runs):
    corrected, _ = w1_runs
    s = corrected.summary()
    assert s.counts["EXITED"] == corrected.n_paths
    exact = langevin_mean_exit_time_1d(double_well, T_W1, -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    assert abs(s.mean - exact) < 3 * s.stderr, (s.mean, s.stderr, exact)


def test_double_well_without_bridge_is_biased_as_predicted(w1_runs):
    corrected, uncorrected = w1_runs
    # Same noise: a path never stops later with the bridge test than without it.
    assert np.all(corrected.exit_step <= uncorrected.exit_step)
    diff = uncorrected.exit_time - corrected.exit_time
    assert diff.mean() > 5 * diff.std(ddof=1) / math.sqrt(diff.size)  # a clear positive delay
    # Discrete monitoring acts like a boundary moved out by beta sigma sqrt(dt), beta = -zeta(1/2)/sqrt(2 pi)
    # (Siegmund; Broadie, Glasserman & Kou 1997): the biased estimator matches the exact time to that boundary.
    beta = 0.5825971579390106
    shifted = beta * math.sqrt(2 * T_W1) * math.sqrt(1e-3)
    predicted = langevin_mean_exit_time_1d(double_well, T_W1, -1.0, -np.inf, shifted, lower_boundary="reflecting")
    s = uncorrected.summary()
    assert abs(s.mean - predicted) < 3 * s.stderr, (s.mean, s.stderr, predicted)


@pytest.mark.parametrize("dim", [1, 3, 10])
def test_brownian_exit_from_ball(dim):
    T, radius = 0.5, 1.0
    x0 = np.zeros(dim)
    x0[0] = 0.3
    res = esc.simulate(
        esc.Quadratic(np.zeros((dim, dim))),
        esc.Langevin(temperature=T, dt=1e-4),
        x0=x0,
        stop=esc.Ball(center=np.zeros(dim), radius=radius),
        n_paths=20_000,
        t_max=100.0,
        seed=dim,
        threads=2,
    )
    s = res.summary()
    exact = brownian_ball_exit_time(x0, radius, temperature=T)
    assert s.counts["EXITED"] == res.n_paths
    assert abs(s.mean - exact) < 3 * s.stderr, (s.mean, s.stderr, exact)
    # Exit positions lie on the sphere up to one step's motion.
    r = np.linalg.norm(res.exit_position, axis=1)
    assert np.all(np.abs(r - radius) < 10 * math.sqrt(2 * T * 1e-4 * dim))


def test_ornstein_uhlenbeck_exit_from_interval():
    theta, sigma, a, x0 = 1.0, 1.0, 1.5, 0.4
    res = esc.simulate(
        esc.Quadratic([[theta]]),
        esc.Langevin(temperature=sigma**2 / 2, dt=1e-3),
        x0=[x0],
        stop=esc.Box(low=[-a], high=[a]),
        n_paths=20_000,
        t_max=1e4,
        seed=11,
        threads=2,
    )
    s = res.summary()
    exact = mean_exit_time_1d(lambda x: -theta * x, sigma**2, x0, -a, a)
    assert abs(s.mean - exact) < 3 * s.stderr, (s.mean, s.stderr, exact)
    # Leaving through the nearer end is more likely; the exact split is the scale-function ratio.
    up = np.mean(res.exit_position[:, 0] > 0)
    z = np.linspace(-a, a, 20_001)
    scale = np.exp(theta * z**2 / sigma**2)
    cum = np.concatenate([[0], np.cumsum((scale[1:] + scale[:-1]) / 2 * np.diff(z))])
    p_up = np.interp(x0, z, cum) / cum[-1]
    assert abs(up - p_up) < 4 * math.sqrt(p_up * (1 - p_up) / res.n_paths), (up, p_up)


def test_hit_target_matches_exit_of_complement():
    """Entering the half-line x >= 0 as a target equals leaving x < 0 as a stop region, path by path."""
    dyn = esc.Langevin(temperature=T_W1, dt=1e-2)
    common = dict(x0=[-1.0], n_paths=500, t_max=1e5, seed=3, threads=2)
    by_exit = esc.simulate(esc.DoubleWell(), dyn, stop=esc.HalfSpace([1.0], 0.0), **common)
    by_hit = esc.simulate(esc.DoubleWell(), dyn, target=esc.Box(low=[0.0], high=[np.inf]), **common)
    assert np.all(by_hit.status == esc.Status.HIT)
    np.testing.assert_array_equal(by_exit.exit_step, by_hit.exit_step)


def test_a_step_that_jumps_over_a_target_hits_it():
    # A fast drift carries every path across a small ball (or box) in one step at dt = 0.01: the straight chord
    # of the step passes through the target, so the bridge must count it as hit.
    for target in (esc.Ball([5.3765, 0.0], 0.3), esc.Box([5.0766, -0.3], [5.6766, 0.3])):
        res = esc.simulate(esc.Quadratic(np.eye(2), center=[100.0, 0.0]), esc.Langevin(temperature=1e-3, dt=1e-2),
                           x0=[0.0, 0.0], target=target, n_paths=200, t_max=20.0, seed=0)
        assert np.all(res.status == esc.Status.HIT)


def test_interval_target_equals_half_line_target_path_by_path():
    # From below 0.9, a path cannot reach [0.9, inf) without passing through [0.9, 1.1]; first-hitting must agree.
    common = dict(x0=[0.0], n_paths=20_000, t_max=1.0, seed=1)
    dyn = esc.Langevin(temperature=0.5, dt=0.1)
    interval = esc.simulate(esc.Quadratic([[0.0]]), dyn, target=esc.Box([0.9], [1.1]), **common)
    half_line = esc.simulate(esc.Quadratic([[0.0]]), dyn, target=esc.Box([0.9], [np.inf]), **common)
    np.testing.assert_array_equal(interval.status, half_line.status)
    np.testing.assert_array_equal(interval.exit_step, half_line.exit_step)
    # and P(hit by t = 1) matches the reflection principle, 2 P(W_1 sqrt(2T) > 0.9), to the O(dt) error
    from scipy.stats import norm

    p = np.mean(interval.status == esc.Status.HIT)
    exact = 2 * norm.sf(0.9 / math.sqrt(2 * 0.5))
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / 20_000) + 0.005
