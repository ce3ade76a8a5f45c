"""The dynamics and the Brownian-bridge crossing test: Langevin with a constant diffusion uses it and only ends
paths earlier on the same noise; discrete maps, jump noise and state-dependent noise never use it."""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc


@pytest.mark.parametrize("lanes", [7, 64])
def test_bridge_only_ends_paths_earlier_on_the_same_noise(lanes):
    land, dyn = esc.DoubleWell(), esc.Langevin(temperature=1 / 8, dt=1e-2)
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=2000, t_max=1e4, seed=23, lanes=lanes)
    with_bridge = esc.simulate(land, dyn, bridge=True, **kw)
    without = esc.simulate(land, dyn, bridge=False, **kw)
    assert np.all(with_bridge.status == esc.Status.EXITED) and np.all(without.status == esc.Status.EXITED)
    assert np.all(with_bridge.exit_step <= without.exit_step)
    earlier = with_bridge.exit_step < without.exit_step
    assert earlier.sum() > 100
    # Paths the bridge did not end earlier are the very same paths, their exits located inside the same step.
    np.testing.assert_array_equal(with_bridge.final_position[~earlier], without.final_position[~earlier])
    np.testing.assert_array_equal(without.final_position, without.exit_position)  # discrete: the end of the step
    assert np.all(without.exit_position[:, 0] >= 0)  # discrete monitoring only sees positions outside
    assert np.all(with_bridge.final_position[earlier, 0] < 0)  # a crossing between two inside positions
    assert np.all(with_bridge.exit_position == 0.0)  # the bridge's exits are placed on the boundary
    assert np.all(with_bridge.exit_time <= without.exit_time * (1 + 1e-15))
    assert with_bridge.summary().mean < without.summary().mean


def test_maps_never_use_the_bridge_test():
    dyn = esc.NoisyGD(lr=0.05, noise_radius=2.0)
    kwargs = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=300, max_steps=10**6, seed=2)
    a = esc.simulate(esc.DoubleWell(), dyn, bridge=True, **kwargs)
    b = esc.simulate(esc.DoubleWell(), dyn, bridge=False, **kwargs)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)


def test_jump_noise_never_uses_the_bridge_test():
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=300, t_max=1e4, seed=2)
    a = esc.simulate(esc.DoubleWell(), esc.LevyLangevin(1.5, 0.3, dt=0.01), bridge=True, **kw)
    b = esc.simulate(esc.DoubleWell(), esc.LevyLangevin(1.5, 0.3, dt=0.01), bridge=False, **kw)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    assert np.all(a.status == esc.Status.EXITED)


def test_state_dependent_langevin_never_uses_the_bridge_test():
    dyn = esc.Langevin(eps=0.7, S="hessian", dt=0.05)
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], -0.6), n_paths=100, t_max=1e3, seed=2)
    a = esc.simulate(esc.DoubleWell(), dyn, bridge=True, **kw)
    b = esc.simulate(esc.DoubleWell(), dyn, bridge=False, **kw)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    assert np.sum(a.status == esc.Status.EXITED) > 50


@pytest.mark.parametrize("scale, offset", [(2.0**700, -0.25), (2.0**-600, -0.25), (2.0**-1060, 0.0), (1e200, 0.0),
                                           (1e-160, 0.0), (1e-200, 0.0)])
def test_bridge_works_for_normals_of_any_magnitude(scale, offset):
    # The normal's length once overflowed (1e200) or underflowed (1e-160; 1e-200 was called the zero vector),
    # which silently turned the bridge test off. Rescaled by a power of two, the run is the unit normal's bit for
    # bit (offsets: exact multiples of the scale, or 0).
    land, dyn = esc.DoubleWell(), esc.Langevin(temperature=1 / 8, dt=1e-2)
    kw = dict(x0=[-1.0], n_paths=300, t_max=1e3, seed=5)
    unit = esc.simulate(land, dyn, stop=esc.HalfSpace([1.0], offset), **kw)
    without = esc.simulate(land, dyn, stop=esc.HalfSpace([1.0], offset), bridge=False, **kw)
    scaled = esc.simulate(land, dyn, stop=esc.HalfSpace([scale], offset * scale), **kw)
    np.testing.assert_array_equal(scaled.exit_step, unit.exit_step)
    np.testing.assert_array_equal(scaled.exit_position, unit.exit_position)
    assert np.sum(unit.exit_step < without.exit_step) > 10  # the bridge test is on


def test_bridge_works_for_extreme_normals_in_two_dimensions():
    land = esc.Quadratic(np.diag([1.0, 2.0]))
    dyn = esc.Langevin(eps=0.5, S=np.array([[1.0, 0.3], [0.0, 0.8]]), dt=1e-2)
    kw = dict(x0=[0.0, 0.0], n_paths=300, t_max=1e3, seed=8)
    unit = esc.simulate(land, dyn, stop=esc.HalfSpace([1.0, -2.0], 0.5), **kw)
    for k in (600, -700):
        scaled = esc.simulate(land, dyn, stop=esc.HalfSpace([2.0**k, -(2.0**(k + 1))], 0.5 * 2.0**k), **kw)
        np.testing.assert_array_equal(scaled.exit_step, unit.exit_step)
        np.testing.assert_array_equal(scaled.exit_position, unit.exit_position)


def test_balls_of_any_radius_contain_their_points():
    # A radius below about 1e-154 once squared to 0, and the ball excluded its own centre.
    for r in (1e-170, 1e-300, 5e-324):
        ball = esc.Ball([0.0, 0.0], r)
        assert ball.contains([0.0, 0.0]) and ball.contains([r / 2, -r / 2])
        assert not ball.contains([0.0, 2 * r]) and not ball.contains([1.0, -2.0])
        assert esc.Ball([1.0, -2.0], r).contains([1.0, -2.0])
    ball = esc.Ball([0.0, 0.0], 1e200)  # its square overflowed: points at 1e160 and beyond were outside
    np.testing.assert_array_equal(ball.contains([[1e160, 0.0], [0.7e200, 0.7e200], [0.8e200, 0.8e200], [1e300, 0]]),
                                  [True, True, False, False])
