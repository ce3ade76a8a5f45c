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
    np.testing.assert_array_equal(interval.exit_time, half_line.exit_time)  # located on the same plane, x = 0.9
    # and P(hit by t = 1) matches the reflection principle, 2 P(W_1 sqrt(2T) > 0.9), to the O(dt) error
    from scipy.stats import norm

    p = np.mean(interval.status == esc.Status.HIT)
    exact = 2 * norm.sf(0.9 / math.sqrt(2 * 0.5))
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / 20_000) + 0.005


# --- exits located inside the step (the bridge's crossing time) ---------------------------------------------------

BALL3 = dict(T=0.5, x0=[0.5, 0.0, 0.0], exact=0.25)  # (R^2 - |x0|^2) / (2 d T)


def brownian_ball3(dt, n_paths, seed=1, **kw):
    return esc.simulate(esc.Quadratic(np.zeros((3, 3))), esc.Langevin(temperature=BALL3["T"], dt=dt),
                        x0=BALL3["x0"], stop=esc.Ball(np.zeros(3), 1.0), n_paths=n_paths, t_max=100.0, seed=seed,
                        **kw)


def test_located_exit_from_the_3_ball_is_unbiased_at_a_coarse_step():
    # Reported at the end of its step, the exit time was +9.9% at dt = 0.05 (about dt / 2); located inside the
    # step it is within 5 standard errors, which here is 0.41% of the exact mean (the target: 0.5%).
    assert brownian_ball_exit_time(BALL3["x0"], 1.0, temperature=BALL3["T"]) == pytest.approx(BALL3["exact"])
    dt = 0.05
    res = brownian_ball3(dt, 1_000_000)
    s = res.summary()
    assert s.counts["EXITED"] == res.n_paths
    assert abs(s.mean - BALL3["exact"]) < 5 * s.stderr < 0.005 * BALL3["exact"], (s.mean, s.stderr)
    # on the sphere, inside the last step; the final position is where that step ended
    np.testing.assert_allclose(np.linalg.norm(res.exit_position, axis=1), 1.0, rtol=1e-14)
    assert np.all(res.exit_time <= res.exit_step * dt * (1 + 1e-15))
    assert np.all(res.exit_time >= (res.exit_step - 1) * dt)
    inside = np.linalg.norm(res.final_position, axis=1) < 1.0  # caught by the bridge between two inside points
    assert 0.05 < inside.mean() < 0.95


@pytest.mark.slow
@pytest.mark.parametrize("dt", [0.05, 0.02, 0.01, 0.002])
def test_located_exit_from_the_3_ball_over_a_step_ladder(dt):
    s = brownian_ball3(dt, 1_000_000, seed=2).summary()
    assert abs(s.mean - BALL3["exact"]) < 5 * s.stderr, (dt, s.mean, s.stderr)


def test_located_exit_time_has_the_exact_first_passage_law():
    # Brownian motion (sigma^2 = 1) from -1 leaving x < 0: the bridge test and the crossing time drawn from the
    # bridge's law given that it crossed are exact for a half-space, so at any step the exit times have the law
    # of the first passage, P(tau <= t) = erfc(1 / sqrt(2 t)), here conditioned on tau <= t_max.
    from scipy import special, stats

    dt, t_max, n = 0.25, 4.0, 50_000
    res = esc.simulate(esc.Quadratic([[0.0]]), esc.Langevin(temperature=0.5, dt=dt), x0=[-1.0],
                       stop=esc.HalfSpace([1.0], 0.0), n_paths=n, t_max=t_max, seed=3)
    p_exit = special.erfc(1 / math.sqrt(2 * t_max))
    exited = res.status == esc.Status.EXITED
    assert abs(exited.mean() - p_exit) < 5 * math.sqrt(p_exit * (1 - p_exit) / n)
    times = res.exit_time[exited]
    assert stats.kstest(times, lambda t: special.erfc(1 / np.sqrt(2 * np.maximum(t, 1e-300))) / p_exit).pvalue > 1e-3
    # the end of the step, as bridge=False reports it, is far from that law
    late = res.exit_step[exited] * dt
    assert stats.kstest(late, lambda t: special.erfc(1 / np.sqrt(2 * np.maximum(t, 1e-300))) / p_exit).pvalue < 1e-6
    np.testing.assert_array_equal(res.exit_position[exited], 0.0)


@pytest.mark.parametrize("case", ["half-space", "box-stop", "box-target"])
def test_without_noise_the_located_exit_is_the_linear_interpolation(case):
    # Temperature 0: the bridge has no variance across the boundary, so the crossing is where the step's chord
    # meets it: theta = (b - x_before) / (x_after - x_before) along the face's coordinate (or the normal).
    stop = target = None
    if case == "half-space":
        stop, normal, bound = esc.HalfSpace([1.0, 1.0], 1.0), np.array([1.0, 1.0]), 1.0
    elif case == "box-stop":
        stop, normal, bound = esc.Box([-1.0, -1.0], [0.7, 2.0]), np.array([1.0, 0.0]), 0.7
    else:
        target, normal, bound = esc.Box([0.7, -1.0], [3.0, 2.0]), np.array([1.0, 0.0]), 0.7
    dt = 0.3
    res = esc.simulate(esc.Quadratic(np.eye(2), center=[2.0, 0.5]), esc.Langevin(temperature=0.0, dt=dt),
                       x0=[0.0, 0.1], stop=stop, target=target, n_paths=1, t_max=100.0, seed=0, record_paths=1)
    assert res.status[0] == (esc.Status.EXITED if stop is not None else esc.Status.HIT)
    k = int(res.exit_step[0])
    t, x = res.trajectories[0]
    before, after = x[k - 1], res.final_position[0]
    theta = (bound - normal @ before) / (normal @ after - normal @ before)
    assert 0 < theta < 1
    assert res.exit_time[0] == pytest.approx((k - 1 + theta) * dt, rel=1e-13)
    np.testing.assert_allclose(res.exit_position[0], before + theta * (after - before), rtol=1e-13, atol=1e-15)
    assert normal @ res.exit_position[0] == pytest.approx(bound, rel=1e-15)
    # the trajectory ends at the located exit
    assert t[-1] == res.exit_time[0]
    np.testing.assert_array_equal(x[-1], res.exit_position[0])


def test_located_exits_are_the_same_bits_for_any_threads_and_lanes():
    # A box stop (whose face is drawn) and a ball target, in 3-D with a correlated noise matrix.
    kw = dict(x0=esc.UniformBall([0.0, 0.0, 0.0], 0.5), stop=esc.Box([-1.0, -1.2, -0.9], [1.1, 1.0, 1.3]),
              target=esc.Ball([0.6, 0.0, 0.0], 0.25), n_paths=3000, t_max=50.0, seed=9)
    dyn = esc.Langevin(eps=0.8, S=[[1.0, 0.0, 0.0], [0.4, 0.9, 0.0], [0.0, 0.3, 1.1]], dt=0.02)
    land = esc.Quadratic(np.diag([0.5, 1.0, -0.2]))
    runs = [esc.simulate(land, dyn, threads=threads, lanes=lanes, **kw) for threads, lanes in [(1, 8), (2, 64), (1, 64)]]
    first = runs[0]
    assert first.count("EXITED") > 500 and first.count("HIT") > 500
    for other in runs[1:]:
        for name in ("status", "exit_step", "exit_time", "exit_position", "final_position"):
            assert getattr(first, name).tobytes() == getattr(other, name).tobytes(), name
    # every located exit lies on its region's boundary: a face of the box, or the sphere
    ex = first.exit_position[first.status == esc.Status.EXITED]
    on_face = np.isclose(ex, [-1.0, -1.2, -0.9], rtol=0, atol=1e-15) | np.isclose(ex, [1.1, 1.0, 1.3], rtol=0, atol=1e-15)
    assert np.all(on_face.any(axis=1))
    hit = first.exit_position[(first.status == esc.Status.HIT) & (first.exit_step > 0)]  # not the starts inside
    np.testing.assert_allclose(np.linalg.norm(hit - [0.6, 0.0, 0.0], axis=1), 0.25, rtol=1e-14)
