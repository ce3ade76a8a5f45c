"""noise_refinement: a run at dt with noise_refinement=r and a run at dt / r with the same seed are driven by one
Brownian path (coupled levels for multilevel Monte Carlo), and each run keeps its law."""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc
from escapade.config import parse_config

from conftest import assert_same_arrays

FLAT = esc.Quadratic([[0.0]])  # zero gradient: Langevin is Brownian motion, the positions are the noise's sums
OU = esc.Quadratic([[1.0]])  # with Langevin, an Ornstein-Uhlenbeck process


def recorded(landscape, dynamics, *, x0, r, every, steps, n, seed):
    res = esc.simulate(landscape, dynamics, x0=x0, n_paths=n, max_steps=steps, seed=seed, record_paths=n,
                       record_every=every, noise_refinement=r)
    return res.trajectories


@pytest.mark.parametrize("r", [2, 3, 4, 5])
def test_brownian_paths_at_dt_and_dt_over_r_agree_at_every_coarse_time(r):
    """Pure Brownian motion: the run at dt with noise_refinement=r is the run at dt / r seen every r steps (r = 3
    and 5 cross the 4-step blocks the engine draws in)."""
    dt, steps, T = 0.1, 41, 0.5
    coarse = recorded(FLAT, esc.Langevin(temperature=T, dt=dt), x0=[0.3], r=r, every=1, steps=steps, n=9, seed=3)
    fine = recorded(FLAT, esc.Langevin(temperature=T, dt=dt / r), x0=[0.3], r=1, every=r, steps=steps * r, n=9,
                    seed=3)
    for (tc, xc), (tf, xf) in zip(coarse, fine):
        assert xc.shape == (steps + 1, 1) and xf.shape == xc.shape
        np.testing.assert_allclose(tc, tf, rtol=1e-12)
        np.testing.assert_allclose(xc, xf, rtol=0, atol=1e-12)
        assert np.ptp(xc) > 0.5  # the paths moved: the agreement is not trivial


def test_coupling_holds_for_several_noise_coordinates():
    """Three normals a step (a 2 x 3 noise matrix) in two dimensions: each coordinate is coupled to its own."""
    S = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, -0.7]])
    flat = esc.Quadratic(np.zeros((2, 2)))
    for r in (2, 4):
        coarse = recorded(flat, esc.Langevin(eps=0.8, S=S, dt=0.05), x0=[0.0, 1.0], r=r, every=1, steps=24, n=5,
                          seed=8)
        fine = recorded(flat, esc.Langevin(eps=0.8, S=S, dt=0.05 / r), x0=[0.0, 1.0], r=1, every=r, steps=24 * r,
                        n=5, seed=8)
        for (_, xc), (_, xf) in zip(coarse, fine):
            np.testing.assert_allclose(xc, xf, rtol=0, atol=1e-12)


def test_ornstein_uhlenbeck_coupled_positions_converge_at_strong_order_one():
    """With a drift the coupled runs differ by the discretization: additive noise gives Euler-Maruyama strong
    order 1, so the mean squared difference at t = 1 falls 4x each time dt halves (measured 4.21, 4.03, 3.99 from
    dt = 0.1; independent runs differ by about 0.85, whatever dt)."""
    def final(dt, r, seed=5, n=4000):
        steps = round(1.0 / dt)
        trajectories = recorded(OU, esc.Langevin(temperature=0.5, dt=dt), x0=[1.0], r=r, every=steps, steps=steps,
                                n=n, seed=seed)
        return np.array([x[-1, 0] for _, x in trajectories])

    msd = []
    for dt in (0.1, 0.05, 0.025):
        msd.append(np.mean((final(dt, 2) - final(dt / 2, 1)) ** 2))
    ratios = np.array(msd[:-1]) / np.array(msd[1:])
    assert np.all((ratios > 3.4) & (ratios < 4.8)), (msd, ratios)
    assert msd[0] < 1e-3
    independent = np.mean((final(0.1, 2) - final(0.05, 1, seed=6)) ** 2)
    assert independent > 500 * msd[0]  # about 0.85, the variance of the difference of two independent states


@pytest.mark.parametrize("bridge", [True, False])
def test_coupled_exit_times_differ_much_less_than_independent_ones(bridge):
    """Exit times of an Ornstein-Uhlenbeck process from (-1, 1) at dt = 0.02 (noise_refinement=2) and 0.01:
    the variance of the difference of a coupled pair is measured 11x (with the bridge; its uniforms are coupled
    too) and 18x (without) smaller than for independent runs."""
    def exits(dt, r, seed):
        return esc.simulate(OU, esc.Langevin(temperature=0.5, dt=dt), x0=[0.0], stop=esc.Box([-1.0], [1.0]),
                            n_paths=4000, t_max=100.0, seed=seed, bridge=bridge, noise_refinement=r).exit_time

    coarse = exits(0.02, 2, seed=7)
    coupled = np.var(coarse - exits(0.01, 1, seed=7))
    independent = np.var(coarse - exits(0.01, 1, seed=8))
    assert independent > 6 * coupled, (coupled, independent)


@pytest.mark.parametrize("r", [2, 3])
def test_poisson_restarts_are_coupled_too(r):
    """Brownian motion from 1 to 0 with resetting at rate a: a coarse step restarts when one of the fine run's r
    steps does (each drew its own restart decision, so pairs parted at the first restart: variance ratio 2 against
    independent runs, now 4-7x). The law keeps its exact mean (e^sqrt(a) - 1) / a (T = 1, Evans & Majumdar)."""
    a = 1.5936**2
    exact = (np.exp(np.sqrt(a)) - 1) / a

    def exits(dt, refinement, seed):
        return esc.simulate(esc.Linear([0.0]), esc.Restart(esc.Langevin(1.0, dt=dt), rate=a), x0=[1.0],
                            stop=esc.HalfSpace([-1.0], 0.0), n_paths=4000, t_max=200, seed=seed,
                            noise_refinement=refinement).exit_time

    coarse = exits(0.02, r, seed=5)
    coupled = np.var(coarse - exits(0.02 / r, 1, seed=5))
    independent = np.var(coarse - exits(0.02 / r, 1, seed=6))
    assert independent > 3 * coupled, (coupled, independent)
    se = coarse.std() / np.sqrt(coarse.size)
    assert abs(coarse.mean() - exact) < 4 * se + 0.02 * exact  # restarts at the ends of steps: an O(dt) delay


@pytest.mark.parametrize("r", [2, 3])
def test_sharp_restarts_to_random_points_are_coupled(r):
    """Brownian motion restarted every 0.5 to a uniform point of [0.5, 1.5]: the coarse run with noise_refinement=r
    restarts at the fine run's points (keyed by the fine step count at the restart), so each pair stays on one path
    after its restarts: one coarse step after each restart both runs are at the same place, to rounding. Before,
    the coarse run drew its points by its own step count and pairs parted at the first restart."""
    dyn = esc.Langevin(temperature=0.5, dt=0.1)
    kw = dict(x0=[1.0], n_paths=12, max_steps=20, record_paths=12, record_every=1)

    def run(dt, refinement):
        res = esc.simulate(FLAT, esc.Restart(esc.Langevin(0.5, dt=dt), period=0.5, to=esc.UniformBox([0.5], [1.5])),
                           seed=4, noise_refinement=refinement, **{**kw, "max_steps": kw["max_steps"] * (r // refinement)})
        return res.trajectories

    coarse, fine = run(dyn.dt, r), run(dyn.dt / r, 1)
    for (tc, xc), (tf, xf) in zip(coarse, fine):
        after = np.isin(np.round(tc, 9), np.round(np.arange(1, 4) * 0.5 + dyn.dt, 9))  # a step past each restart
        assert after.sum() == 3
        np.testing.assert_allclose(xc[after], xf[np.searchsorted(np.round(tf, 9), np.round(tc[after], 9))],
                                   rtol=1e-12)


def test_law_unchanged_double_well_mean_exit_time():
    """Different paths, the same law: the double well's mean exit time with noise_refinement=2 agrees with
    noise_refinement=1 at the same dt (measured 18.138 and 18.135, paired standard error 0.28). The two runs share
    their seed and so some of their normals: the standard error is the paired one."""
    def exits(r):
        return esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 8, dt=0.01), x0=[-1.0],
                            stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=4000, t_max=1e5, seed=21,
                            noise_refinement=r).exit_time

    a, b = exits(1), exits(2)
    assert not np.array_equal(a, b)
    d = b - a
    assert abs(d.mean()) < 3 * d.std(ddof=1) / np.sqrt(len(d))


@pytest.mark.parametrize("r", [2, 3])
def test_bitwise_identical_for_any_threads_and_lanes(r):
    def run(threads, lanes):
        return esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 8, dt=0.02), x0=[-1.0],
                            stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=600, t_max=1e4, seed=4,
                            threads=threads, lanes=lanes, noise_refinement=r)

    base = run(1, 8)
    for threads, lanes in ((2, 8), (1, 64), (2, 64), (2, 7)):
        other = run(threads, lanes)
        assert_same_arrays(base, other)
        assert other.total_steps == base.total_steps


def test_params_record_it_only_when_not_one():
    args = dict(x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=50, t_max=100.0, seed=2)
    default = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), **args)
    one = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), noise_refinement=1, **args)
    assert "noise_refinement" not in default.params and "noise_refinement" not in one.params
    assert_same_arrays(default, one)
    two = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), noise_refinement=2, **args)
    assert two.params["noise_refinement"] == 2


def test_sweep_and_config_pass_it_on():
    args = dict(x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=40, t_max=50.0, seed=6)
    swept = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), grid={"noise_refinement": [1, 3]},
                      **args)
    for r, res in zip((1, 3), swept.results):
        alone = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), noise_refinement=r, **args)
        assert_same_arrays(res, alone)
    experiment = parse_config({"landscape": {"type": "DoubleWell"},
                               "dynamics": {"type": "Langevin", "temperature": 0.2, "dt": 0.01},
                               "start": {"x0": [-1.0]}, "stop": {"type": "HalfSpace", "normal": [1.0]},
                               "run": {"n_paths": 40, "t_max": 50.0, "seed": 6, "noise_refinement": 3}})
    assert_same_arrays(experiment.run(), swept.results[1])
