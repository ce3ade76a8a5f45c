"""Results as tables: pandas and xarray views hold the same numbers as the result objects."""

from __future__ import annotations

import json

import numpy as np
import pytest

import escapade as esc

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")

W1 = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=300.0, seed=5)


@pytest.fixture(scope="module")
def result():
    return esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), n_paths=300, **W1)


@pytest.fixture(scope="module")
def sweep_result():
    return esc.sweep(
        esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), n_paths=200,
        grid={"dynamics.temperature": [0.25, 0.125, 0.0625], "bridge": [True, False]}, **W1,
    )


def test_result_to_xarray(result):
    ds = result.to_xarray()
    np.testing.assert_array_equal(ds["exit_time"].values, result.exit_time)
    np.testing.assert_array_equal(ds["status"].values, result.status)
    np.testing.assert_array_equal(ds["exit_position"].values, result.exit_position)
    np.testing.assert_array_equal(ds["final_position"].values, result.final_position)
    assert ds["final_position"].dims == ("path", "coordinate")
    assert ds.attrs["seed"] == result.seed
    assert json.loads(ds.attrs["params"]) == result.params


def test_sweep_to_pandas_and_xarray_agree(sweep_result):
    frame = sweep_result.to_pandas()
    assert len(frame) == 6
    ds = sweep_result.to_xarray()
    assert ds["mean"].dims == ("dynamics.temperature", "bridge")
    for point, res in zip(sweep_result.points, sweep_result.results):
        s = res.summary()
        cell = ds.sel({k: v for k, v in point.items()})
        assert float(cell["mean"]) == s.mean
        assert int(cell["exited"]) == s.counts["EXITED"]
        row = frame[(frame["dynamics.temperature"] == point["dynamics.temperature"]) & (frame["bridge"] == point["bridge"])]
        assert row["stderr"].item() == s.stderr


def test_censoring_shows_in_the_tables(sweep_result):
    frame = sweep_result.to_pandas()
    # t_max = 300 censors some paths at T = 1/16 (mean exit time ~136) and none at T = 1/4.
    cold = frame[frame["dynamics.temperature"] == 0.0625]
    hot = frame[frame["dynamics.temperature"] == 0.25]
    assert (cold["censored"] > 0).all() and (hot["censored"] == 0).all()
    assert (frame["exited"] + frame["censored"] == frame["n_paths"]).all()
