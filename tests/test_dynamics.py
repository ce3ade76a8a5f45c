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
    # Paths the bridge did not end earlier are the very same paths.
    np.testing.assert_array_equal(with_bridge.exit_position[~earlier], without.exit_position[~earlier])
    assert np.all(without.exit_position[:, 0] >= 0)  # discrete monitoring only sees positions outside
    assert np.all(with_bridge.exit_position[earlier, 0] < 0)  # a crossing between two inside positions
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
