"""simulate() through the engine: the time and step caps, divergence, paths that end at step 0, stop and target
regions, starting points given as an array, and recorded trajectories."""

from __future__ import annotations

import dataclasses
import inspect
import math

import numpy as np
import pytest
from scipy.integrate import quad

import escapade
from escapade import Ball, Box, DoubleWell, HalfSpace, Langevin, Quadratic, Status, UniformBox, simulate
from escapade._settings import RunSettings

from conftest import N_SIGMA, double_well


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
    # the bridge test locates each exit inside its last step
    assert np.all(res.exit_time[~censored] <= res.exit_step[~censored] * dt * (1 + 1e-15))
    assert np.all(res.exit_time[~censored] >= (res.exit_step[~censored] - 1) * dt)


# --- final_position: every path's state at its last step ---------------------------------------------------------


def test_final_positions_of_censored_paths_have_the_ornstein_uhlenbeck_law():
    # f = x^T H x / 2 at temperature T: each coordinate is an OU process, at time t normal with mean
    # x0 exp(-h t) and variance T (1 - exp(-2 h t)) / h. No stop region: every path is CENSORED at t_max, and its
    # final position is its state there.
    h, T, t, n = np.array([1.0, 2.5]), 0.5, 1.0, 20_000
    x0 = np.array([1.5, -1.0])
    res = simulate(Quadratic(np.diag(h)), Langevin(temperature=T, dt=1e-3), x0=x0, n_paths=n, t_max=t, seed=12)
    assert np.all(res.status == Status.CENSORED)
    assert np.all(np.isnan(res.exit_position))
    x = res.final_position
    assert x.shape == (n, 2) and np.all(np.isfinite(x))
    mean, var = x0 * np.exp(-h * t), T * (1 - np.exp(-2 * h * t)) / h
    assert np.all(np.abs(x.mean(axis=0) - mean) < N_SIGMA * np.sqrt(var / n)), (x.mean(axis=0), mean)
    assert np.all(np.abs(x.var(axis=0, ddof=1) - var) < N_SIGMA * var * math.sqrt(2 / (n - 1))), (x.var(axis=0), var)
    assert abs(np.corrcoef(x.T)[0, 1]) < N_SIGMA / math.sqrt(n)  # independent coordinates


def test_final_position_of_a_diverged_path_is_its_last_state_nan_where_not_finite():
    # x0' = x0 + 50 dt x0 overflows to inf; x1 relaxes to 0 and stays finite.
    dyn = Langevin(temperature=0.0, dt=0.1)
    land = Quadratic(np.diag([-50.0, 1.0]))
    bounded = simulate(land, dyn, x0=[1.0, 1.0], n_paths=2, t_max=1e4, seed=0)
    assert np.all(bounded.status == Status.DIVERGED) and np.all(np.isnan(bounded.exit_position))
    k = int(bounded.exit_step[0])
    np.testing.assert_allclose(bounded.final_position[:, 0], 6.0**k)  # the first state past the bound 1e8
    assert np.all(np.abs(bounded.final_position[:, 0]) > 1e8)
    np.testing.assert_allclose(bounded.final_position[:, 1], 0.9**k)
    unbounded = simulate(land, dyn, x0=[1.0, 1.0], n_paths=2, t_max=1e4, seed=0, divergence_bound=math.inf)
    assert np.all(unbounded.status == Status.DIVERGED)
    assert np.all(np.isnan(unbounded.final_position[:, 0]))  # inf
    np.testing.assert_allclose(unbounded.final_position[:, 1], 0.9 ** unbounded.exit_step)


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
    # -1e9: past the divergence bound inside stop (diverged); 1e9: past it, finite, outside stop (exited there)
    x0 = np.array([[0.5], [-2.5], [-1.0], [-1e9], [0.0], [-1.0], [1e9]])
    res = simulate(
        DoubleWell(),
        Langevin(temperature=0.1, dt=1e-2),
        x0=x0,
        stop=HalfSpace([1.0], 0.0),  # contains x < 0
        target=Box([-3.0], [-2.0]),
        t_max=1e4,
        seed=1,
        record_paths=7,
    )
    assert res.n_paths == 7
    expected = [Status.EXITED, Status.HIT, None, Status.DIVERGED, Status.EXITED, None, Status.EXITED]
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


def test_run_settings_match_simulate():
    """RunSettings holds simulate's run settings, in its order and with its defaults (sweep and config read it)."""
    params = inspect.signature(simulate).parameters
    fields = {f.name: f.default for f in dataclasses.fields(RunSettings)}
    assert list(fields) == [p for p in params if p not in ("landscape", "dynamics", "x0", "stop", "target")]
    assert all(params[n].default == d for n, d in fields.items())



# --- memory checked before a run ---------------------------------------------------------------------------------


def test_memory_estimate_counts_arrays_and_recorded_trajectories():
    from escapade._settings import memory_estimate

    paths = memory_estimate(RunSettings(), n_paths=10**9, dim=3, steps=10**4)
    assert paths == {"n_paths": 10**9 * (25 + 48), "record_paths": 0}
    summary = memory_estimate(RunSettings(keep="summary", record_paths=5, record_every=10), n_paths=10**9, dim=1,
                              steps=1000)
    assert summary == {"chunk_size": 10**6 * 41, "record_paths": 5 * (100 + 2) * 2 * 8}
    # at most n_paths paths are recorded; a chunk is at most the whole run
    few = memory_estimate(RunSettings(keep="summary", chunk_size=10**7, record_paths=50), n_paths=10, dim=1, steps=9)
    assert few == {"chunk_size": 10 * 41, "record_paths": 10 * 11 * 2 * 8}


@pytest.mark.parametrize("value, limit", [("1000", 1000), ("2k", 2048), ("1.5MiB", 3 * 2**19), ("3G", 3 * 2**30),
                                          ("off", None), ("None", None)])
def test_memory_limit_from_the_environment(monkeypatch, value, limit):
    from escapade._settings import memory_limit

    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", value)
    assert memory_limit()[0] == limit


def test_memory_limit_defaults_to_half_the_available_memory(monkeypatch):
    from escapade import _settings

    monkeypatch.delenv("ESCAPADE_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(_settings, "available_memory", lambda: 8000)
    assert _settings.memory_limit()[0] == 4000
    monkeypatch.setattr(_settings, "available_memory", lambda: None)  # unknown: no limit
    assert _settings.memory_limit()[0] is None
    assert _settings.available_memory.__module__  # the real reader returns a positive number or None here
    monkeypatch.undo()
    available = _settings.available_memory()
    assert available is None or available > 0


@pytest.mark.parametrize("value", ["abc", "-5", "1X", "inf", ""])
def test_bad_memory_limit_is_named(monkeypatch, value):
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", value)
    if value == "":  # empty: the default
        simulate(DoubleWell(), Langevin(temperature=0.5, dt=0.01), x0=[-1.0], n_paths=2, t_max=0.1, seed=0)
        return
    with pytest.raises(ValueError, match=f"ESCAPADE_MEMORY_LIMIT must be .*got '{value}'"):
        simulate(DoubleWell(), Langevin(temperature=0.5, dt=0.01), x0=[-1.0], n_paths=2, t_max=0.1, seed=0)


@pytest.mark.parametrize("kw, name, advice", [
    (dict(n_paths=10**9), "n_paths", "keep='summary'"),  # the reproducer: 10^9 paths kept
    (dict(n_paths=10**5, dim=50), "n_paths", "keep='summary'"),
    (dict(n_paths=10**9, keep="summary", chunk_size=10**8), "chunk_size", "smaller chunk_size"),
    (dict(n_paths=100, keep="summary", record_paths=100, t_max=1e5), "record_paths", "record_every"),
    (dict(n_paths=10**5, record_paths=1, t_max=1e9), "record_paths", "record_every"),
])
def test_a_run_too_large_for_the_memory_limit_is_refused_before_it_starts(monkeypatch, kw, name, advice):
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "10M")
    dim = kw.pop("dim", 1)
    t_max = kw.pop("t_max", 1.0)
    with pytest.raises(ValueError, match=rf"^{name} needs more memory than the limit: {name}=.*{advice}") as info:
        simulate(DoubleWell(dim=dim), Langevin(temperature=0.5, dt=0.01), x0=[-1.0] * dim, t_max=t_max, seed=0,
                 progress=False, **kw)
    assert "limit 10.0 MiB: ESCAPADE_MEMORY_LIMIT=10M" in str(info.value)


def test_runs_within_the_memory_limit_are_unchanged(monkeypatch):
    kw = dict(x0=[-1.0], n_paths=300, t_max=20.0, seed=4, record_paths=2, record_every=1, progress=False)
    dw, dyn = DoubleWell(), Langevin(temperature=0.5, dt=0.01)
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "off")
    free = simulate(dw, dyn, **kw)
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "1M")  # 300 * 41 bytes + 2 * 2002 * 16 bytes (64 KB) fit
    limited = simulate(dw, dyn, **kw)
    assert limited.exit_time.tobytes() == free.exit_time.tobytes()
    assert [t.tobytes() for t, _ in limited.trajectories] == [t.tobytes() for t, _ in free.trajectories]
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "50K")
    with pytest.raises(ValueError, match="^record_paths needs more memory"):
        simulate(dw, dyn, **kw)
    simulate(dw, dyn, **{**kw, "record_every": 50})  # fewer records fit


def test_adaptive_steps_estimate_recordings_at_t_max_over_dt(monkeypatch):
    from escapade import ConstrainedFlow

    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "1M")
    flow = ConstrainedFlow(dt=0.01, method="dp54")
    kw = dict(x0=[-1.0], n_paths=2, seed=0, record_paths=2, progress=False)
    simulate(DoubleWell(), flow, t_max=1.0, **kw)  # no max_steps: estimated at 100 steps, not 2**48
    with pytest.raises(ValueError, match="^record_paths needs more memory.* over up to 10000000 steps"):
        simulate(DoubleWell(), flow, t_max=1e5, **kw)


def test_cli_refuses_a_run_too_large_for_memory_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import BASE_CONFIG, write_config

    path = write_config(tmp_path, BASE_CONFIG.replace("n_paths = 200", "n_paths = 1000000000"))
    env = {**os.environ, "ESCAPADE_MEMORY_LIMIT": "1G"}
    proc = subprocess.run([sys.executable, "-m", "escapade", "run", str(path), "--no-progress"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "n_paths needs more memory than the limit" in lines[0], proc.stderr
    assert "keep='summary'" in lines[0] and "Traceback" not in proc.stderr


def test_a_sweep_is_refused_when_its_points_together_exceed_the_memory_limit(monkeypatch):
    kw = dict(x0=[-1.0], n_paths=1000, t_max=0.05, seed=0, progress=False)  # 41 KB of arrays a point
    grid = {"dynamics.temperature": [0.5, 0.4, 0.3, 0.2]}
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "100K")
    simulate(DoubleWell(), Langevin(temperature=0.5, dt=0.01), **kw)  # one point fits
    with pytest.raises(ValueError, match=r"^n_paths needs more memory than the limit: the 4 points of the sweep "
                                         r"hold 160.2 KiB for n_paths .*keep='summary'"):
        escapade.sweep(DoubleWell(), Langevin(temperature=0.5, dt=0.01), grid=grid, **kw)
    summary = escapade.sweep(DoubleWell(), Langevin(temperature=0.5, dt=0.01), grid=grid, keep="summary", **kw)
    assert len(summary.results) == 4  # one chunk at a time is held


def test_a_dynamics_the_landscape_cannot_run_is_refused_before_any_run(monkeypatch):
    """The engine's checks of the pair (a finite sum for minibatches, the batch size without replacement) run in
    make_job: `simulate` refuses before the first chunk, and a config's sweep at load, naming the grid point, not
    after its earlier points have run."""
    from escapade import _execute, config

    def no_run(*args, **kwargs):
        raise AssertionError("a run started")

    monkeypatch.setattr(_execute.Job, "run", no_run)
    ls = escapade.LeastSquares([[1.0], [2.0], [3.0]], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"batch_size must be at most the number of terms \(3\)"):
        simulate(ls, escapade.SGDk(lr=0.01, batch_size=5, replace=False), x0=[0.0], n_paths=10, max_steps=10)
    with pytest.raises(ValueError, match="landscape must be a finite sum"):
        simulate(DoubleWell(), escapade.SGDk(lr=0.01, batch_size=2), x0=[0.0], n_paths=10, max_steps=10)
    table = {"landscape": {"type": "LeastSquares", "X": [[1.0], [2.0], [3.0]], "y": [1.0, 2.0, 3.0]},
             "dynamics": {"type": "SGDk", "lr": 0.01, "batch_size": 2, "replace": False},
             "stop": {"type": "Ball", "center": [0.0], "radius": 100.0}, "start": {"x0": [0.0]},
             "run": {"n_paths": 10, "max_steps": 10}, "sweep": {"grid": {"dynamics.batch_size": [2, 5]}}}
    with pytest.raises(config.ConfigError, match=r"\[sweep.grid\]: dynamics.batch_size = 5: batch_size must be at"):
        config.parse_config(table)
