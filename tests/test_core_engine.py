"""The ensemble engine through the public API: reproducibility, statuses, trajectories, starts, results."""

from __future__ import annotations

import functools
import importlib.metadata
import math
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

import escapade
from escapade import (
    Ball,
    Box,
    DoubleWell,
    Gaussian,
    HalfSpace,
    Langevin,
    Quadratic,
    Status,
    UniformBall,
    UniformBox,
    _core,
    simulate,
)

from conftest import N_SIGMA, double_well

RESULT_ARRAYS = ("status", "exit_time", "exit_step", "exit_position")


def assert_same_result(a, b):
    for name in RESULT_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        if x.dtype.kind == "f":
            bad = np.nonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))[0]
        else:
            bad = np.nonzero(x != y)[0]
        assert bad.size == 0, f"{name} differs for {bad.size} paths, first rows {bad[:10].tolist()}"


# ---------------------------------------------------------------------------------------------------------------
# Bitwise reproducibility


PROBLEMS = {
    "w1": dict(
        landscape=DoubleWell(),
        dynamics=Langevin(temperature=1 / 16, dt=1e-2),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=2000,
        t_max=1e4,
    ),
    "quadratic3d": dict(
        landscape=Quadratic([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]]),
        dynamics=Langevin(temperature=0.2, dt=1e-2),
        x0=UniformBall([0.0, 0.0, 0.0], 0.5),
        stop=Ball([0.0, 0.0, 0.0], 1.5),
        target=Box([0.8, -np.inf, -np.inf], [np.inf, np.inf, np.inf]),
        n_paths=1000,
        t_max=100.0,
    ),
    "quadratic3d_anisotropic": dict(
        landscape=Quadratic([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]], center=[0.1, 0.0, -0.1]),
        dynamics=Langevin(eps=0.6, S=[[1.0, 0.2], [0.0, 0.8], [0.5, -0.3]], dt=1e-2),
        x0=UniformBall([0.0, 0.0, 0.0], 0.5),
        stop=Ball([0.0, 0.0, 0.0], 1.5),
        target=Box([0.8, -np.inf, -np.inf], [np.inf, np.inf, np.inf]),
        n_paths=1000,
        t_max=100.0,
    ),
}
BASELINE = (1, 64)
CONFIGS = [(2, 64), (1, 1), (1, 7), (2, 7), (1, 256), (2, 256)]


@functools.lru_cache(maxsize=None)
def run_problem(name, threads, lanes, seed=11):
    spec = dict(PROBLEMS[name])
    return simulate(spec.pop("landscape"), spec.pop("dynamics"), seed=seed, threads=threads, lanes=lanes, **spec)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"threads{c[0]}-lanes{c[1]}")
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_bitwise_identical_for_any_threads_and_lanes(problem, config):
    base = run_problem(problem, *BASELINE)
    other = run_problem(problem, *config)
    assert np.all(np.isin(other.status, [int(s) for s in Status])), "paths left without a final status"
    assert_same_result(base, other)
    assert other.total_steps == base.total_steps


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_same_seed_same_result_different_seed_different_result(problem):
    a = run_problem(problem, *BASELINE)
    spec = dict(PROBLEMS[problem])
    again = simulate(spec.pop("landscape"), spec.pop("dynamics"), seed=11, threads=1, lanes=64, **spec)
    assert_same_result(a, again)
    c = run_problem(problem, *BASELINE, seed=12)
    assert np.mean(a.exit_step != c.exit_step) > 0.9


def w1_reference(seed, n_paths, max_steps, temperature, dt):
    """The W1 problem (double well, stop at x >= 0 with the Brownian-bridge test) stepped in numpy.

    Every path is advanced with the draws of `_core.step_draws` and the same floating-point operations as the
    engine, so the result must match the engine's bit for bit, path by path.
    """
    x = np.full(n_paths, -1.0)
    status = np.full(n_paths, -1, dtype=np.int8)
    exit_step = np.zeros(n_paths, dtype=np.int64)
    exit_position = np.full(n_paths, np.nan)
    scale = math.sqrt(2.0 * temperature * dt)
    var = 2.0 * temperature * dt
    running = np.arange(n_paths)
    for step in range(max_steps):
        if running.size == 0:
            break
        z, u = _core.step_draws(seed, running.astype(np.uint64), step, 1)
        xa = x[running]
        g = (xa * xa) * xa - xa
        xn = (xa - dt * g) + scale * z[:, 0]
        left = ~(1.0 * xn < 0.0)
        q = (0.0 - 1.0 * xa) * (0.0 - 1.0 * xn)
        p = np.exp(np.minimum(-2.0 * q / var, 0.0))
        crossed = u < p
        diverged = ~(np.abs(xn) <= 1e8)
        ended = np.full(running.size, -1, dtype=np.int8)
        if step + 1 >= max_steps:
            ended[:] = Status.CENSORED
        ended[crossed | left] = Status.EXITED
        ended[diverged] = Status.DIVERGED
        done = ended != -1
        idx = running[done]
        status[idx] = ended[done]
        exit_step[idx] = step + 1
        stopped = ended[done] == Status.EXITED
        exit_position[idx[stopped]] = xn[done][stopped]
        x[running] = xn
        running = running[~done]
    return status, exit_step, exit_position


REF = dict(seed=2718, n_paths=400, max_steps=3000, temperature=1 / 8, dt=1e-2)


@functools.lru_cache(maxsize=None)
def w1_reference_cached():
    return w1_reference(**REF)


@pytest.mark.parametrize(
    "config", [(1, 64), (2, 64), (1, 1), (1, 7), (1, 256), (2, 16)], ids=lambda c: f"threads{c[0]}-lanes{c[1]}"
)
def test_w1_matches_stepwise_reference(config):
    status, exit_step, exit_position = w1_reference_cached()
    assert np.count_nonzero(status == Status.EXITED) > 300  # most paths exit: lanes are refilled and packed
    res = simulate(
        DoubleWell(),
        Langevin(temperature=REF["temperature"], dt=REF["dt"]),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=REF["n_paths"],
        max_steps=REF["max_steps"],
        seed=REF["seed"],
        threads=config[0],
        lanes=config[1],
    )
    wrong = np.nonzero(
        (res.status != status)
        | (res.exit_step != exit_step)
        | ~((res.exit_position[:, 0] == exit_position) | (np.isnan(res.exit_position[:, 0]) & np.isnan(exit_position)))
    )[0]
    assert wrong.size == 0, (
        f"{wrong.size} paths differ from the reference, e.g. path {wrong[0]}: engine status "
        f"{res.status[wrong[0]]} step {res.exit_step[wrong[0]]}, reference status {status[wrong[0]]} "
        f"step {exit_step[wrong[0]]}"
    )
    np.testing.assert_array_equal(res.exit_time[res.stopped], exit_step[res.stopped] * REF["dt"])


# ---------------------------------------------------------------------------------------------------------------
# Censoring and the step cap


@pytest.mark.parametrize("k", [1, 2, 3, 7, 10, 25])
@pytest.mark.parametrize("config", [(1, 16), (2, 64)], ids=lambda c: f"threads{c[0]}-lanes{c[1]}")
def test_t_max_of_k_steps_censors_every_path_at_step_k(k, config):
    dt = 0.1  # k * 0.1 is not exact in binary for most k: t_max = k * dt must still give k steps
    res = simulate(
        DoubleWell(),
        Langevin(temperature=1 / 16, dt=dt),
        x0=[-1.0],
        n_paths=300,
        t_max=k * dt,
        seed=4,
        threads=config[0],
        lanes=config[1],
    )
    assert res.params["max_steps"] == k
    assert np.all(res.status == Status.CENSORED), dict(zip(*np.unique(res.status, return_counts=True)))
    np.testing.assert_array_equal(res.exit_step, np.full(300, k))
    assert np.all(np.isnan(res.exit_time))
    assert np.all(np.isnan(res.exit_position))
    assert res.total_steps == 300 * k
    s = res.summary()
    assert s.counts["CENSORED"] == 300 and s.censored_fraction == 1.0
    assert math.isnan(s.mean)


def test_censoring_mixed_with_exits():
    dt, n_steps = 1e-2, 2000
    res = simulate(
        DoubleWell(),
        Langevin(temperature=1 / 16, dt=dt),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=500,
        max_steps=n_steps,
        seed=8,
        threads=2,
    )
    censored = res.status == Status.CENSORED
    assert 0 < censored.sum() < 500
    assert set(np.unique(res.status).tolist()) == {int(Status.EXITED), int(Status.CENSORED)}
    np.testing.assert_array_equal(res.exit_step[censored], n_steps)
    assert np.all(np.isnan(res.exit_time[censored]))
    assert np.all(res.exit_step[~censored] <= n_steps)
    assert np.all(res.exit_step[~censored] >= 1)
    np.testing.assert_array_equal(res.exit_time[~censored], res.exit_step[~censored] * dt)


@pytest.mark.parametrize(
    ("t_max", "steps"), [(0.5e-2, 1), (1e-2, 1), (1e-2 * (1 + 1e-9), 2), (0.3, 30), (0.3 + 1e-9, 31), (1.0, 100)]
)
def test_t_max_is_rounded_up_to_whole_steps(t_max, steps):
    res = simulate(DoubleWell(), Langevin(temperature=0.1, dt=1e-2), x0=[-1.0], n_paths=4, t_max=t_max, seed=0)
    assert res.params["max_steps"] == steps
    np.testing.assert_array_equal(res.exit_step, steps)


def test_max_steps_and_t_max_take_the_smaller_cap():
    dyn = Langevin(temperature=0.1, dt=1e-2)
    res = simulate(DoubleWell(), dyn, x0=[-1.0], n_paths=4, t_max=1.0, max_steps=40, seed=0)
    assert res.params["max_steps"] == 40
    res = simulate(DoubleWell(), dyn, x0=[-1.0], n_paths=4, t_max=0.2, max_steps=40, seed=0)
    assert res.params["max_steps"] == 20


# ---------------------------------------------------------------------------------------------------------------
# Divergence


def test_unstable_quadratic_diverges():
    res = simulate(
        Quadratic([[-1.0]]),
        Langevin(temperature=0.05, dt=1e-2),
        x0=[0.0],
        n_paths=500,
        t_max=100.0,
        divergence_bound=10.0,
        seed=5,
    )
    assert np.all(res.status == Status.DIVERGED)
    assert np.all(np.isnan(res.exit_time))
    assert np.all(np.isnan(res.exit_position))
    assert np.all(res.exit_step > 0) and np.all(res.exit_step < 10_000)
    s = res.summary()
    assert s.counts == {"EXITED": 0, "HIT": 0, "CENSORED": 0, "DIVERGED": 500, "CONVERGED": 0, "SINGULAR": 0}
    assert math.isnan(s.mean) and math.isnan(s.stderr)


def test_divergence_mixed_with_exits_keeps_summary_finite():
    res = simulate(
        Quadratic([[-1.0]]),
        Langevin(temperature=0.05, dt=1e-2),
        x0=[0.0],
        stop=HalfSpace([-1.0], 1.0),  # leaving it: x <= -1
        n_paths=1000,
        t_max=100.0,
        divergence_bound=10.0,
        seed=6,
    )
    exited = res.status == Status.EXITED
    diverged = res.status == Status.DIVERGED
    assert np.all(exited | diverged)
    assert 300 < exited.sum() < 700  # either side with about equal odds
    assert np.all(np.isnan(res.exit_time[diverged]))
    assert np.all(np.isfinite(res.exit_time[exited]))
    assert np.all(res.exit_position[exited, 0] < -0.9)
    s = res.summary()
    assert math.isfinite(s.mean) and math.isfinite(s.stderr)
    assert s.mean == pytest.approx(res.exit_time[exited].mean(), rel=1e-12)


def test_overflow_to_infinity_diverges_with_infinite_bound():
    res = simulate(
        Quadratic([[-50.0]]),
        Langevin(temperature=0.0, dt=1e-2),  # x_{n+1} = 1.5 x_n: overflows after about 1750 steps
        x0=[1.0],
        n_paths=3,
        t_max=1e3,
        divergence_bound=np.inf,
        seed=0,
    )
    assert np.all(res.status == Status.DIVERGED)
    assert np.all((res.exit_step > 1700) & (res.exit_step < 1800))


# ---------------------------------------------------------------------------------------------------------------
# Paths that end at step 0, targets


def test_paths_ending_at_step_zero():
    x0 = np.array([[0.5], [-2.5], [-1.0], [1e9], [0.0], [-1.0]])
    res = simulate(
        DoubleWell(),
        Langevin(temperature=0.1, dt=1e-2),
        x0=x0,
        stop=HalfSpace([1.0], 0.0),  # contains x < 0
        target=Box([-3.0], [-2.0]),
        t_max=1e4,
        seed=1,
        record_paths=6,
    )
    assert res.n_paths == 6
    expected = [Status.EXITED, Status.HIT, None, Status.DIVERGED, Status.EXITED, None]
    for i, want in enumerate(expected):
        if want is None:
            assert res.exit_step[i] > 0
            continue
        assert res.status[i] == want, i
        assert res.exit_step[i] == 0, i
        t, x = res.trajectories[i]
        np.testing.assert_array_equal(t, [0.0])
        np.testing.assert_array_equal(x, x0[i : i + 1])
        if want == Status.DIVERGED:
            assert np.isnan(res.exit_time[i]) and np.isnan(res.exit_position[i, 0])
        else:
            assert res.exit_time[i] == 0.0
            np.testing.assert_array_equal(res.exit_position[i], x0[i])


def test_start_outside_stop_with_a_sampler():
    # Half of a box straddling the boundary starts outside: those paths exit at once, at their start.
    sampler = UniformBox([-1.0, -1.0], [1.0, 1.0])
    res = simulate(
        DoubleWell(2),
        Langevin(temperature=0.1, dt=1e-2),
        x0=sampler,
        stop=HalfSpace([1.0, 0.0], 0.0),
        n_paths=400,
        t_max=1.0,
        seed=9,
    )
    starts = sampler.sample(400, seed=9)
    outside = starts[:, 0] >= 0
    assert np.all(res.status[outside] == Status.EXITED)
    assert np.all(res.exit_step[outside] == 0)
    np.testing.assert_array_equal(res.exit_position[outside], starts[outside])
    assert np.all(res.exit_step[~outside] > 0)


def test_target_only_matches_stop_with_the_complement():
    # Entering {x > 0} and leaving {x < 0} are the same event (up to x == 0 exactly), and both use the same
    # draws, crossing test included: the runs agree path by path.
    land, dyn = DoubleWell(), Langevin(temperature=1 / 8, dt=1e-2)
    kw = dict(x0=[-1.0], n_paths=2000, t_max=1e4, seed=31)
    hit = simulate(land, dyn, target=HalfSpace([-1.0], 0.0), **kw)
    ex = simulate(land, dyn, stop=HalfSpace([1.0], 0.0), **kw)
    assert np.all(hit.status == Status.HIT)
    assert np.all(ex.status == Status.EXITED)
    np.testing.assert_array_equal(hit.exit_step, ex.exit_step)
    np.testing.assert_array_equal(hit.exit_position, ex.exit_position)
    # And the mean first-passage time agrees with the exact one.
    exact = escapade.analysis.langevin_mean_exit_time_1d(
        double_well, 1 / 8, -1.0, -np.inf, 0.0, lower_boundary="reflecting"
    )
    s = hit.summary()
    assert abs(s.mean - exact) <= N_SIGMA * s.stderr


def test_stop_and_target_together():
    temperature = 1 / 8
    res = simulate(
        DoubleWell(),
        Langevin(temperature=temperature, dt=1e-3),
        x0=[-1.0],
        stop=HalfSpace([-1.0], 1.5),  # contains x > -1.5
        target=HalfSpace([-1.0], 0.0),  # x > 0
        n_paths=4000,
        t_max=1e3,
        seed=17,
    )
    exited = res.status == Status.EXITED
    hit = res.status == Status.HIT
    assert np.all(exited | hit)
    assert np.all(res.exit_position[exited, 0] < -1.3)
    assert np.all(res.exit_position[hit, 0] > -0.2)
    # Probability of reaching 0 before -1.5 from -1: the scale function of the diffusion.
    num = quad(lambda y: math.exp(double_well(y) / temperature), -1.5, -1.0)[0]
    den = quad(lambda y: math.exp(double_well(y) / temperature), -1.5, 0.0)[0]
    p = num / den
    assert abs(hit.mean() - p) <= N_SIGMA * math.sqrt(p * (1 - p) / res.n_paths)


# ---------------------------------------------------------------------------------------------------------------
# Starting points given as an array


def test_points_x0_one_row_per_path():
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1.5, -0.5, size=(37, 2))
    res = simulate(
        DoubleWell(2),
        Langevin(temperature=0.1, dt=1e-2),
        x0=x0,
        stop=Ball([-1.0, -1.0], 2.0),
        t_max=0.5,
        seed=2,
        record_paths=37,
        record_every=7,
    )
    assert res.n_paths == 37
    assert res.params["n_paths"] == 37
    assert len(res.trajectories) == 37
    for i, (t, x) in enumerate(res.trajectories):
        assert t[0] == 0.0
        np.testing.assert_array_equal(x[0], x0[i])


def test_points_x0_with_fewer_paths_uses_the_first_rows():
    x0 = np.linspace(-1.5, -0.5, 20)[:, None]
    kw = dict(t_max=0.2, seed=3, record_paths=20)
    land, dyn = DoubleWell(), Langevin(temperature=0.1, dt=1e-2)
    part = simulate(land, dyn, x0=x0, n_paths=8, **kw)
    full = simulate(land, dyn, x0=x0, **kw)
    assert part.n_paths == 8 and len(part.trajectories) == 8
    for i in range(8):
        np.testing.assert_array_equal(part.trajectories[i][1][0], x0[i])
    np.testing.assert_array_equal(part.status, full.status[:8])
    np.testing.assert_array_equal(part.exit_step, full.exit_step[:8])
    np.testing.assert_array_equal(part.exit_time, full.exit_time[:8])
    np.testing.assert_array_equal(part.exit_position, full.exit_position[:8])


# ---------------------------------------------------------------------------------------------------------------
# Trajectories


def test_trajectories_recorded_every_k_steps():
    dt, every = 1e-2, 10
    x0 = [-1.0]
    res = simulate(
        DoubleWell(),
        Langevin(temperature=1 / 8, dt=dt),
        x0=x0,
        stop=HalfSpace([1.0], 0.0),
        n_paths=50,
        t_max=1e4,
        seed=13,
        record_paths=3,
        record_every=every,
    )
    assert len(res.trajectories) == 3
    for i, (t, x) in enumerate(res.trajectories):
        assert res.status[i] == Status.EXITED
        assert t.ndim == 1 and x.shape == (t.size, 1)
        assert t[0] == 0.0
        np.testing.assert_array_equal(x[0], x0)
        assert np.all(np.diff(t) > 0)
        k = np.arange(t.size - 1)
        np.testing.assert_array_equal(t[:-1], (every * k) * dt)  # exactly step * dt
        assert t[-1] == res.exit_time[i]
        np.testing.assert_array_equal(x[-1], res.exit_position[i])
        assert t.size == res.exit_step[i] // every + 1 + (res.exit_step[i] % every != 0)
        assert np.all(x[:-1, 0] < 0)  # inside the stop region until the end


def test_trajectory_of_a_censored_path_ends_at_the_cap():
    dt = 1e-2
    res = simulate(
        Quadratic([[1.0]]),
        Langevin(temperature=0.01, dt=dt),
        x0=[0.0],
        stop=Ball([0.0], 10.0),
        n_paths=4,
        max_steps=95,
        seed=1,
        record_paths=10,
        record_every=20,
    )
    assert len(res.trajectories) == 4  # no more than there are paths
    for t, x in res.trajectories:
        np.testing.assert_array_equal(t, np.array([0, 20, 40, 60, 80, 95]) * dt)
        assert np.all(np.isfinite(x))
    assert np.all(res.status == Status.CENSORED)


# ---------------------------------------------------------------------------------------------------------------
# Start samplers


def test_uniform_box_sampler_statistics():
    lo, hi = np.array([-1.0, 0.0, 10.0]), np.array([1.0, 0.5, 10.001])
    n = 100_000
    x = UniformBox(lo, hi).sample(n, seed=42)
    assert x.shape == (n, 3)
    assert np.all((x >= lo) & (x <= hi))
    w = hi - lo
    mean_se = w / math.sqrt(12 * n)
    assert np.all(np.abs(x.mean(axis=0) - (lo + hi) / 2) <= N_SIGMA * mean_se)
    var_se = w**2 / math.sqrt(180 * n)
    assert np.all(np.abs(x.var(axis=0) - w**2 / 12) <= N_SIGMA * var_se)
    for i in range(3):
        assert stats.kstest((x[:, i] - lo[i]) / w[i], "uniform").pvalue > 1e-4
    corr = np.corrcoef(x.T)
    assert np.all(np.abs(corr[np.triu_indices(3, 1)]) <= N_SIGMA / math.sqrt(n))


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_uniform_ball_sampler_statistics(d):
    rng = np.random.default_rng(d)
    center = rng.normal(size=d)
    radius = 2.0
    n = 100_000
    x = UniformBall(center, radius).sample(n, seed=7)
    assert x.shape == (n, d)
    r = np.linalg.norm(x - center, axis=1)
    assert np.all(r <= radius * (1 + 1e-12))
    # (r / R)^d is uniform on (0, 1) for a uniform point in a ball.
    assert stats.kstest((r / radius) ** d, "uniform").pvalue > 1e-4
    # Each coordinate has mean c_i and variance R^2 / (d + 2).
    sd = radius / math.sqrt(d + 2)
    assert np.all(np.abs(x.mean(axis=0) - center) <= N_SIGMA * sd / math.sqrt(n))
    if d > 1:
        u = (x - center) / r[:, None]  # uniform directions
        assert np.all(np.abs(u.mean(axis=0)) <= N_SIGMA / math.sqrt(d * n))
        c = np.corrcoef(x.T)
        assert np.all(np.abs(c[np.triu_indices(d, 1)]) <= N_SIGMA / math.sqrt(n))


def test_gaussian_sampler_statistics():
    mean = np.array([1.0, -1.0, 0.25])
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 0.5, 0.1], [-0.3, 0.1, 1.0]])
    n = 100_000
    x = Gaussian(mean, cov).sample(n, seed=3)
    assert x.shape == (n, 3)
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(x.mean(axis=0) - mean) <= N_SIGMA * se_mean)
    sample_cov = np.cov(x.T)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(sample_cov - cov) <= N_SIGMA * se_cov)
    m2 = np.einsum("ni,ij,nj->n", x - mean, np.linalg.inv(cov), x - mean)
    assert stats.kstest(m2, stats.chi2(3).cdf).pvalue > 1e-4


@pytest.mark.parametrize(
    "sampler",
    [UniformBox([0.0, 1.0], [1.0, 3.0]), UniformBall([0.0, 0.0], 1.0), Gaussian([0.0, 0.0], [[1.0, 0.2], [0.2, 1.0]])],
    ids=lambda s: type(s).__name__,
)
def test_samplers_are_deterministic_functions_of_seed_and_path(sampler):
    a = sampler.sample(100, seed=5)
    np.testing.assert_array_equal(a, sampler.sample(100, seed=5))
    assert np.all(a != sampler.sample(100, seed=6))
    np.testing.assert_array_equal(sampler.sample(30, seed=5, first=40), a[40:70])
    assert sampler.sample(0, seed=5).shape == (0, 2)
    # The engine starts path i at the sampler's point i.
    res = simulate(
        DoubleWell(2), Langevin(temperature=0.1, dt=1e-2), x0=sampler, n_paths=25, max_steps=2, seed=5, record_paths=25
    )
    starts = np.array([x[0] for _, x in res.trajectories])
    np.testing.assert_array_equal(starts, a[:25])


# ---------------------------------------------------------------------------------------------------------------
# Brownian-bridge test on common random numbers


@pytest.mark.parametrize("lanes", [7, 64])
def test_bridge_only_ends_paths_earlier_on_the_same_noise(lanes):
    land, dyn = DoubleWell(), Langevin(temperature=1 / 8, dt=1e-2)
    kw = dict(x0=[-1.0], stop=HalfSpace([1.0], 0.0), n_paths=2000, t_max=1e4, seed=23, lanes=lanes)
    with_bridge = simulate(land, dyn, bridge=True, **kw)
    without = simulate(land, dyn, bridge=False, **kw)
    assert np.all(with_bridge.status == Status.EXITED) and np.all(without.status == Status.EXITED)
    assert np.all(with_bridge.exit_step <= without.exit_step)
    earlier = with_bridge.exit_step < without.exit_step
    assert earlier.sum() > 100
    # Paths the bridge did not end earlier are the very same paths.
    np.testing.assert_array_equal(with_bridge.exit_position[~earlier], without.exit_position[~earlier])
    assert np.all(without.exit_position[:, 0] >= 0)  # discrete monitoring only sees positions outside
    assert np.all(with_bridge.exit_position[earlier, 0] < 0)  # a crossing between two inside positions
    assert with_bridge.summary().mean < without.summary().mean


# ---------------------------------------------------------------------------------------------------------------
# Summary


def test_summary_matches_numpy():
    dt = 1e-2
    res = simulate(
        DoubleWell(),
        Langevin(temperature=1 / 16, dt=dt),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=1000,
        t_max=50.0,
        seed=77,
    )
    s = res.summary()
    stopped = res.stopped
    times = res.exit_time[stopped]
    k = times.size
    n_cens = int(np.count_nonzero(res.status == Status.CENSORED))
    assert 100 < k < 900 and n_cens == 1000 - k
    assert s.n_paths == 1000
    assert s.counts == {st.name: int(np.count_nonzero(res.status == st)) for st in Status}
    assert sum(s.counts.values()) == 1000
    assert s.mean == pytest.approx(times.mean(), rel=1e-13)
    assert s.stderr == pytest.approx(times.std(ddof=1) / math.sqrt(k), rel=1e-13)
    cap = res.params["max_steps"] * dt
    assert cap == pytest.approx(50.0)
    assert s.mean_lower_bound == pytest.approx((times.sum() + n_cens * cap) / 1000, rel=1e-13)
    assert s.exponential_mean == pytest.approx((times.sum() + n_cens * cap) / k, rel=1e-13)
    assert s.censored_fraction == n_cens / 1000
    assert s.mean < s.mean_lower_bound < s.exponential_mean
    assert "censored" in str(s)
    assert res.total_steps == int(res.exit_step.sum())


def test_summary_without_censoring():
    res = run_problem("w1", *BASELINE)
    s = res.summary()
    assert s.censored_fraction == 0.0
    assert s.mean_lower_bound == pytest.approx(s.mean, rel=1e-12)
    assert s.exponential_mean == pytest.approx(s.mean, rel=1e-12)
    # The mean escape time out of the left well agrees with the exact one.
    exact = escapade.analysis.langevin_mean_exit_time_1d(
        double_well, 1 / 16, -1.0, -np.inf, 0.0, lower_boundary="reflecting"
    )
    assert abs(s.mean - exact) <= N_SIGMA * s.stderr


# ---------------------------------------------------------------------------------------------------------------
# Results: files, pandas, versions, status codes, pickling


def small_result(**kw):
    args = dict(
        x0=UniformBall([0.0, 0.0], 0.3),
        stop=Ball([0.0, 0.0], 1.0),
        target=Box([0.5, -np.inf], [np.inf, np.inf]),
        n_paths=300,
        max_steps=400,
        seed=2**64 - 1,
        record_paths=4,
        record_every=5,
    )
    args.update(kw)
    return simulate(Quadratic([[1.0, 0.2], [0.2, 0.5]]), Langevin(temperature=0.2, dt=1e-2), **args)


@pytest.mark.parametrize("name", ["result.npz", "result.bin", "no_suffix"])
def test_save_load_round_trip(tmp_path, name):
    res = small_result()
    assert {Status.EXITED, Status.HIT, Status.CENSORED} <= set(Status(int(s)) for s in res.status)
    path = tmp_path / name
    res.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # exactly this path
    back = escapade.load(path)
    assert_same_result(res, back)
    for name_ in RESULT_ARRAYS:
        assert getattr(back, name_).dtype == getattr(res, name_).dtype
    assert len(back.trajectories) == len(res.trajectories) == 4
    for (t, x), (tb, xb) in zip(res.trajectories, back.trajectories):
        np.testing.assert_array_equal(t, tb)
        np.testing.assert_array_equal(x, xb)
    assert back.params == res.params
    assert back.seed == res.seed == 2**64 - 1
    assert back.version == res.version == escapade.__version__
    assert back.total_steps == res.total_steps
    assert back.elapsed == res.elapsed
    assert back.summary() == res.summary()
    assert escapade.SimulationResult.load(str(path)).seed == res.seed


def test_load_rejects_other_npz(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, header=np.array('{"format": "something-else"}'))
    with pytest.raises(ValueError, match="not an escapade result"):
        escapade.load(path)


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    res = small_result()
    df = res.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["status", "exit_time", "exit_step", "x0", "x1"]
    assert len(df) == res.n_paths
    assert df.index.name == "path"
    assert list(df["status"].cat.categories) == ["EXITED", "HIT", "CENSORED", "DIVERGED", "CONVERGED", "SINGULAR"]
    np.testing.assert_array_equal(df["status"].cat.codes.to_numpy(), res.status)
    np.testing.assert_array_equal(df["exit_time"].to_numpy(), res.exit_time)
    np.testing.assert_array_equal(df["exit_step"].to_numpy(), res.exit_step)
    np.testing.assert_array_equal(df[["x0", "x1"]].to_numpy(), res.exit_position)
    assert df.attrs["seed"] == res.seed and df.attrs["version"] == res.version


def test_versions_agree():
    assert escapade.__version__ == importlib.metadata.version("escapade") == _core.__version__


def test_status_codes_agree_with_core():
    for s in Status:
        assert int(getattr(_core.Status, s.name)) == s.value
    assert [s.name for s in Status] == ["EXITED", "HIT", "CENSORED", "DIVERGED", "CONVERGED", "SINGULAR"]
    assert int(_core.Status.RUNNING) not in [s.value for s in Status]


def test_params_record_the_problem():
    res = small_result()
    p = res.params
    assert p["landscape"] == {"type": "Quadratic", "H": [[1.0, 0.2], [0.2, 0.5]], "center": [0.0, 0.0]}
    assert p["dynamics"] == {"type": "Langevin", "dt": 0.01, "temperature": 0.2, "eps": None, "S": None}
    assert p["stop"] == {"type": "Ball", "center": [0.0, 0.0], "radius": 1.0}
    assert p["target"]["type"] == "Box"
    assert p["x0"] == {"type": "UniformBall", "center": [0.0, 0.0], "radius": 0.3}
    assert p["n_paths"] == 300 and p["max_steps"] == 400 and p["t_max"] is None


SPECS = [
    DoubleWell(3),
    Quadratic([[2.0, 0.5], [0.5, -1.0]], center=[0.1, 0.2]),
    Langevin(temperature=0.3, dt=0.01),
    Langevin(eps=0.5, S=[[1.0, 0.0, 0.5], [0.2, 1.0, 0.0]], dt=0.02),
    HalfSpace([1.0, -2.0], 0.5),
    Ball([0.0, 1.0], 2.0),
    Box([-1.0, -np.inf], [1.0, 2.0]),
    UniformBox([0.0, 0.0], [1.0, 2.0]),
    UniformBall([1.0, 1.0], 0.5),
    Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]]),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_specs_pickle_after_their_core_was_built(spec):
    core = spec._core  # build the compiled object first
    assert spec._core is core
    back = pickle.loads(pickle.dumps(spec))
    assert type(back) is type(spec)
    assert back.to_dict() == spec.to_dict()
    assert back._core is not core  # rebuilt on demand
    for attr in ("dim", "dt"):
        if hasattr(core, attr):
            assert getattr(back._core, attr) == getattr(core, attr)


def test_unpickled_problem_gives_the_same_run():
    land = Quadratic([[1.0, 0.2], [0.2, 0.5]])
    dyn = Langevin(eps=0.5, S=[[1.0, 0.0, 0.5], [0.2, 1.0, 0.0]], dt=0.01)
    stop, start = Ball([0.0, 0.0], 1.0), Gaussian([0.0, 0.0], [[0.05, 0.0], [0.0, 0.05]])
    kw = dict(n_paths=200, t_max=20.0, seed=99)
    a = simulate(land, dyn, x0=start, stop=stop, **kw)
    land2, dyn2, stop2, start2 = pickle.loads(pickle.dumps((land, dyn, stop, start)))
    b = simulate(land2, dyn2, x0=start2, stop=stop2, **kw)
    assert_same_result(a, b)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_spec_repr_shows_its_parameters(spec):
    text = repr(spec)
    assert text.startswith(type(spec).__name__ + "(")
    for key, value in spec.to_dict().items():
        if key != "type" and value is not None:
            assert f"{key}=" in text, f"{key} missing from {text}"


# ---------------------------------------------------------------------------------------------------------------
# Ctrl-C


CHILD = textwrap.dedent(
    """
    import signal
    import sys
    import escapade as e

    # Python turns SIGINT into KeyboardInterrupt only if it did not inherit the signal as ignored, as it does when
    # the tests run as a background job of a non-interactive shell; an interactive session always has it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("started", flush=True)
    try:
        e.simulate(e.DoubleWell(), e.Langevin(temperature=0.1, dt=0.01), x0=[-1.0], n_paths=10**6, t_max=1e9,
                   seed=1, threads=2, progress=False)
    except KeyboardInterrupt:
        if sys.argv[1] == "reraise":
            raise
        # The engine is usable again after an interrupted run.
        r = e.simulate(e.DoubleWell(), e.Langevin(temperature=0.1, dt=0.01), x0=[-1.0], n_paths=100, max_steps=10,
                       seed=1, threads=2)
        print("after", r.summary().counts["CENSORED"], flush=True)
        sys.exit(0)
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["reraise", "catch"])
def test_ctrl_c_stops_a_long_run(tmp_path, mode):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "started"
        try:
            proc.wait(timeout=1.5)  # let the run get going; it must not end by itself
        except subprocess.TimeoutExpired:
            pass
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)  # a hang check, not a timing requirement
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"still running 30 s after SIGINT; stdout: {out!r}; stderr: {err[-3000:]!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "finished" not in out
    if mode == "reraise":
        assert "KeyboardInterrupt" in err
        assert proc.returncode != 0
    else:
        assert proc.returncode == 0, err
        assert "after 100" in out
