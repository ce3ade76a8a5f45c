"""Behaviour pinned down after review: sweeps over any constructor argument, resuming stores without a seed,
bounds on threads and counts, one symmetry rule, exact merging of censored time."""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc

W1 = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=1e4)


def test_sweep_over_eps_of_isotropic_langevin():
    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(eps=0.5, dt=1e-2), grid={"dynamics.eps": [0.5, 0.4]},
                   n_paths=200, seed=0, **W1)
    direct = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.4**2 / 2, dt=1e-2), n_paths=200, seed=0, **W1)
    np.testing.assert_array_equal(sw[1].exit_time, direct.exit_time)  # eps without S is temperature eps^2 / 2


def test_store_resumes_without_a_seed(tmp_path):
    first = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), n_paths=300, chunk_size=100,
                         store=tmp_path / "run", **W1)
    again = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), n_paths=300, chunk_size=100,
                         store=tmp_path / "run", **W1)
    assert again.seed == first.seed
    np.testing.assert_array_equal(again.exit_time, first.exit_time)


def test_sweep_store_resumes_without_a_seed(tmp_path):
    kwargs = dict(grid={"dynamics.temperature": [0.25, 0.125]}, seeds="independent", n_paths=100, chunk_size=50,
                  store=tmp_path / "sweep", **W1)
    first = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), **kwargs)
    again = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), **kwargs)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.exit_time, b.exit_time)


@pytest.mark.parametrize(("override", "exc", "match"), [
    ({"threads": 10**6}, ValueError, "threads"),
    ({"n_paths": 2**64}, ValueError, "n_paths"),
    ({"record_every": 2**70}, ValueError, "record_every"),
    ({"record_paths": 2**70}, ValueError, "record_paths"),
])
def test_out_of_range_integers(override, exc, match):
    args = dict(n_paths=10, seed=0, **W1)
    args.update(override)
    with pytest.raises(exc, match=match):
        esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), **args)


@pytest.mark.parametrize(("grid", "match"), [({"n_paths": 100}, "list"), ({"keep": ["summary"]}, "keep"),
                                             ({"dynamics.temperature": "0.1"}, "list")])
def test_bad_sweep_grids(grid, match):
    with pytest.raises(ValueError, match=match):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), grid=grid, n_paths=10, seed=0, **W1)


def test_sweep_seed_is_validated():
    with pytest.raises(ValueError, match="seed"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), grid={"bridge": [True]}, seed=-5,
                  seeds="independent", n_paths=10, **W1)


def test_nearly_symmetric_matrices_are_accepted_and_symmetrized():
    cov = [[1e-6, 5e-7 + 1e-19], [5e-7, 1e-6]]
    g = esc.Gaussian(mean=[0.0, 0.0], cov=cov)
    assert np.array_equal(g.cov, g.cov.T)
    assert g.sample(5, seed=0).shape == (5, 2)
    with pytest.raises(ValueError, match="cov"):
        esc.Gaussian(mean=[0.0, 0.0], cov=[[1e-6, 6e-7], [5e-7, 1e-6]])


def test_merging_runs_with_different_caps_keeps_the_censored_time():
    short = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), n_paths=200, seed=0,
                         x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=50.0)
    long = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), n_paths=200, seed=1,
                        x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=500.0)
    merged = short.stats().merge(long.stats())
    censored = short.count(esc.Status.CENSORED) * 50.0 + long.count(esc.Status.CENSORED) * 500.0
    assert merged.censored_time == pytest.approx(censored)
    total = short.exit_time[short.stopped].sum() + long.exit_time[long.stopped].sum()
    k = short.stopped.sum() + long.stopped.sum()
    assert merged.summary().exponential_mean == pytest.approx((total + censored) / k)
