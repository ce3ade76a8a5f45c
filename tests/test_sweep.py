"""sweep(): grids over any constructor argument (nested ones too) or run argument, with numpy and array values,
common or independent seeds, pandas tables, save and load, its checkpoint store, and bad grids."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import grid_points, wilson_interval

from conftest import W1_EXIT, assert_same_result, assert_same_trajectories, run_sweep, w1


# ---------------------------------------------------------------------------------------------------------------
# Grids


def test_sweep_over_eps_of_isotropic_langevin():
    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(eps=0.5, dt=1e-2), grid={"dynamics.eps": [0.5, 0.4]},
                   n_paths=200, seed=0, **W1_EXIT)
    direct = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.4**2 / 2, dt=1e-2), n_paths=200, seed=0,
                          **W1_EXIT)
    np.testing.assert_array_equal(sw[1].exit_time, direct.exit_time)  # eps without S is temperature eps^2 / 2


def test_sweep_over_a_discrete_map_parameter():
    """A sweep can vary a map's own arguments (its dt, fixed by the class, is not one of them)."""
    sgd = esc.GaussianSGD(lr=0.1, batch_size=1.0, C=np.eye(1))
    res = esc.sweep(esc.Quadratic([[1.0]]), sgd, grid={"dynamics.batch_size": [1.0, 4.0]}, x0=[0.0],
                    stop=esc.Ball(center=[0.0], radius=0.5), n_paths=200, max_steps=10_000, seed=0)
    m = [r.summary().mean for r in res]
    assert m[1] > m[0]  # less noise, later exits
    with pytest.raises(ValueError, match="dt"):
        esc.sweep(esc.Quadratic([[1.0]]), esc.GD(0.1), grid={"dynamics.dt": [0.5]}, x0=[0.0],
                  stop=esc.Ball(center=[0.0], radius=0.5), n_paths=2, max_steps=10)


def test_sweep_over_nested_forcing_parameters():
    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.02, alpha=1.0, forcing=esc.Periodic(1.0, 1.0))
    pts = grid_points([-4.0, -4.0], [4.0, 4.0], 5)
    kw = dict(x0=pts, target=esc.Ball([0.0, 0.0], 1.0), t_max=8.0)
    res = esc.sweep(esc.Ackley(), flow, grid={"dynamics.forcing.amplitude": [0.5, 1.0],
                                              "dynamics.forcing.omega": [0.3, 3.0]}, seed=2, **kw)
    frame = res.to_pandas()
    assert len(frame) == 4 and list(frame.columns[:2]) == ["dynamics.forcing.amplitude", "dynamics.forcing.omega"]
    one = esc.simulate(esc.Ackley(), esc.ConstrainedFlow(esc.Parabola(), dt=0.02, alpha=1.0,
                                                         forcing=esc.Periodic(1.0, 3.0)), seed=2, **kw)
    np.testing.assert_array_equal(res[3].status, one.status)
    assert res[3].params["dynamics"]["forcing"]["omega"] == 3.0
    assert frame["hit"].iloc[3] == one.count(esc.Status.HIT)
    import matplotlib

    matplotlib.use("Agg")
    _, _, info = esc.plot.success_rate(res, "dynamics.forcing.omega", "dynamics.forcing.amplitude")
    assert info["fraction"][1, 1] == one.count(esc.Status.HIT) / 25
    assert np.all((info["low"] <= info["fraction"]) & (info["fraction"] <= info["high"]))
    assert (info["low"][1, 1], info["high"][1, 1]) == wilson_interval(one.count(esc.Status.HIT), 25)


def test_sweep_over_numpy_values(tmp_path):
    """Grids built with numpy (np.arange, boolean arrays) give JSON-compatible points that save and load."""
    res = run_sweep(grid={"n_paths": np.arange(100, 301, 100), "bridge": np.array([True, False])}, t_max=50.0)
    assert len(res) == 6
    assert [r.n_paths for r in res] == [100, 100, 200, 200, 300, 300]
    assert [p["n_paths"] for p in res.points] == [100, 100, 200, 200, 300, 300]
    assert [r.params["bridge"] for r in res] == [True, False] * 3
    path = tmp_path / "sweep.npz"
    res.save(path)
    back = esc.load(path)
    assert back.points == res.points
    for a, b in zip(res, back):
        assert_same_result(a, b)


def test_sweep_over_array_values(tmp_path):
    """x0 is a simulate argument, so a grid may list starting points as arrays; the sweep saves and loads."""
    res = run_sweep(grid={"x0": [np.array([-1.0]), np.array([-0.5])]}, n_paths=200)
    for start, r in zip((-1.0, -0.5), res):
        assert_same_result(w1(x0=[start], n_paths=200, record_paths=2, record_every=1000), r)
    path = tmp_path / "sweep.npz"
    res.save(path)
    back = esc.load(path)
    assert [np.asarray(p["x0"]).tolist() for p in back.points] == [[-1.0], [-0.5]]
    for a, b in zip(res, back):
        assert_same_result(a, b)


def test_sweep_grid_values_json_cannot_hold_fail_before_running(tmp_path, count_chunks):
    """Points are saved as JSON: a grid value JSON cannot hold is converted, or refused before any path runs."""
    grid = {"stop": [esc.HalfSpace([1.0], 0.0), esc.HalfSpace([1.0], -0.5)]}
    try:
        res = run_sweep(grid=grid, n_paths=200)
    except (TypeError, ValueError) as exc:
        assert count_chunks == [], f"every point ran before the grid was refused: {exc}"
        assert "stop" in str(exc) or "grid" in str(exc)
    else:
        path = tmp_path / "sweep.npz"
        res.save(path)
        assert len(esc.load(path)) == 2


def test_small_sweep_points_run_side_by_side_with_the_same_bits():
    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.05, method="dp54",
                               forcing=esc.BrownianForcing(1.0, horizon=10.0, resolution=0.01))
    kw = dict(grid={"dynamics.alpha": [0.5, 1.0, 2.0]}, x0=esc.UniformBox([-4.0, -4.0], [4.0, 4.0]), n_paths=60,
              target=esc.Ball([0.0, 0.0], 1.0), t_max=10.0, seed=4)
    a = esc.sweep(esc.Ackley(), flow, threads=1, **kw)
    b = esc.sweep(esc.Ackley(), flow, threads=2, **kw)
    for ra, rb in zip(a, b):
        np.testing.assert_array_equal(ra.exit_time, rb.exit_time)
        np.testing.assert_array_equal(ra.status, rb.status)


# ---------------------------------------------------------------------------------------------------------------
# Tables and files


def test_sweep_to_pandas():
    pytest.importorskip("pandas")
    res = run_sweep(seeds="independent")
    df = res.to_pandas()
    assert len(df) == 4
    assert list(df.columns) == [
        "dynamics.temperature", "bridge", "n_paths", "exited", "hit", "censored", "diverged", "converged", "singular", "mean", "stderr",
        "mean_lower_bound", "exponential_mean", "restricted_mean", "restricted_stderr", "identified", "seed",
    ]
    for (_, row), point, r in zip(df.iterrows(), res.points, res):
        s = r.summary()
        assert row["dynamics.temperature"] == point["dynamics.temperature"]
        assert row["bridge"] == point["bridge"]
        assert row["n_paths"] == 1000 and row["exited"] == s.counts["EXITED"] == 1000
        assert row["censored"] == 0 and row["hit"] == 0 and row["diverged"] == 0
        assert row["mean"] == s.mean and row["stderr"] == s.stderr
        assert row["seed"] == r.seed


@pytest.mark.parametrize("keep", ["paths", "summary"])
def test_sweep_save_load_round_trip(tmp_path, keep):
    res = run_sweep(seeds="independent", keep=keep, chunk_size=400)
    path = tmp_path / "sweep.npz"
    res.save(path)
    back = esc.load(path)
    assert isinstance(back, esc.SweepResult)
    assert back.grid == res.grid and back.points == res.points
    assert len(back) == len(res)
    for a, b in zip(res, back):
        if keep == "paths":
            assert_same_result(a, b)
        else:
            assert isinstance(b, esc.SummaryResult)
            assert b.exit_stats == a.exit_stats
            assert_same_trajectories(a, b)
            assert (b.params, b.seed, b.version, b.total_steps) == (a.params, a.seed, a.version, a.total_steps)
        assert b.elapsed == a.elapsed
        assert b.summary() == a.summary()


# ---------------------------------------------------------------------------------------------------------------
# The checkpoint store


def test_sweep_store_skips_finished_points(tmp_path, count_chunks):
    store = tmp_path / "sweep-store"
    first = run_sweep(seeds="common", store=store, chunk_size=500)
    assert len(count_chunks) == 8
    assert sorted(p.name for p in store.iterdir()) == [f"point-{i:04d}" for i in range(4)] + ["sweep.json"]
    count_chunks.clear()
    again = run_sweep(seeds="common", store=store, chunk_size=500)
    assert count_chunks == []
    for a, b in zip(first, again):
        assert_same_result(a, b)


def test_a_refused_sweep_leaves_its_store_resumable(tmp_path):
    """Another seed is refused before anything is written: the store still resumes with seed=None."""
    kwargs = dict(grid={"dynamics.temperature": [0.25, 0.5]}, n_paths=50, store=tmp_path / "sw", **W1_EXIT)
    first = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), seed=5, **kwargs)
    with pytest.raises(ValueError, match="holds a sweep with seed=5"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), seed=6, **kwargs)
    again = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), **kwargs)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.exit_time, b.exit_time)


def test_sweep_store_resumes_without_a_seed(tmp_path):
    kwargs = dict(grid={"dynamics.temperature": [0.25, 0.125]}, seeds="independent", n_paths=100, chunk_size=50,
                  store=tmp_path / "sweep", **W1_EXIT)
    first = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), **kwargs)
    again = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), **kwargs)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.exit_time, b.exit_time)


def test_sweep_json_is_written_atomically_and_a_link_there_is_refused(tmp_path, monkeypatch):
    """sweep.json is written to a temporary file and renamed, and a write that fails leaves no sweep.json, so the
    store resumes; a link in its place (dangling: exists() is False) is refused by name, neither followed nor
    replaced, and nothing is written outside the store."""
    store, outside = tmp_path / "sw", tmp_path / "outside"
    store.mkdir()
    outside.mkdir()
    try:
        (store / "sweep.json").symlink_to(outside / "victim.json")
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    kwargs = dict(grid={"dynamics.temperature": [0.25]}, n_paths=20, seed=1, **W1_EXIT)
    with pytest.raises(ValueError, match=r"store entry .*sweep.json' is a symbolic link"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), store=store, **kwargs)
    assert list(outside.iterdir()) == [] and (store / "sweep.json").is_symlink()
    assert sorted(p.name for p in store.iterdir()) == ["sweep.json"]  # no point was opened
    (store / "sweep.json").unlink()
    esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), store=store, **kwargs)
    assert json.loads((store / "sweep.json").read_text())["seed"] == 1

    def killed(*args):
        raise OSError("killed mid-write")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(OSError, match="killed mid-write"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), store=tmp_path / "new", **kwargs)
    assert list((tmp_path / "new").iterdir()) == []  # neither a truncated sweep.json nor a temporary file


def test_a_sweep_json_that_is_not_a_regular_file_is_refused(tmp_path):
    (tmp_path / "dir" / "sweep.json").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"sweep.json' is not a regular file"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), grid={"bridge": [True]},
                  store=tmp_path / "dir", n_paths=10, **W1_EXIT)
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "sweep.json")
    # in a process of its own, so that a read that blocks on the FIFO fails the test instead of hanging it
    script = ("import escapade as esc, sys\n"
              "try:\n"
              "    esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), grid={'bridge': [True]},\n"
              "              store=sys.argv[1], n_paths=10, x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=1.0)\n"
              "except ValueError as exc:\n"
              "    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "fifo")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "sweep.json' is not a regular file" in proc.stdout, proc.stderr


# ---------------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(("grid", "match"), [({"n_paths": 100}, "list"), ({"keep": ["summary"]}, "keep"),
                                             ({"dynamics.temperature": "0.1"}, "list"),
                                             ({"foo": [1]}, "grid key 'foo' is not an argument of simulate")])
def test_bad_sweep_grids(grid, match):
    with pytest.raises((ValueError, TypeError), match=match):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), grid=grid, n_paths=10, seed=0, **W1_EXIT)


def test_a_grid_key_into_regions_given_as_a_dict_says_what_to_do():
    with pytest.raises(ValueError, match=r"stop was given as a dict, whose parts a sweep cannot address"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), grid={"stop.a.offset": [0.0]},
                  x0=[-1.0], stop={"a": esc.HalfSpace([1.0], 0.0)}, n_paths=10, seed=0, t_max=1.0)


def test_a_temperature_sweep_of_a_langevin_given_by_eps_sets_the_temperature():
    """eps without S is temperature = eps^2 / 2: a sweep over the temperature clears eps (it raised "give exactly
    one of temperature and eps"), and each point is the Langevin at that temperature, bit for bit."""
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=50, t_max=100.0, seed=0)
    res = esc.sweep(esc.DoubleWell(), esc.Langevin(eps=1.0, dt=1e-2), grid={"dynamics.temperature": [0.2, 0.25]}, **kw)
    for temperature, r in zip((0.2, 0.25), res):
        assert r.params["dynamics"]["eps"] is None
        direct = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=temperature, dt=1e-2), **kw)
        np.testing.assert_array_equal(r.exit_time, direct.exit_time)
    with pytest.raises(ValueError, match="set one parameter in two ways"):  # one would clear the other
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.3, dt=1e-2),
                  grid={"dynamics.temperature": [0.1, 0.2], "dynamics.eps": [1.0]}, **kw)


def test_sweep_seed_is_validated():
    with pytest.raises(ValueError, match="seed"):
        esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), grid={"bridge": [True]}, seed=-5,
                  seeds="independent", n_paths=10, **W1_EXIT)


SMALL = dict(n_paths=20, keep="summary", x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=10.0)


def test_a_point_directory_that_is_a_link_is_refused_not_followed(tmp_path):
    """A store someone else prepared cannot send a sweep's chunks elsewhere (point-0000 -> ~/.ssh), nor have it read
    another store's: a point's directory that is a symbolic link is refused by name, whether the sweep starts or
    resumes, and nothing is written through it."""
    store, victim = tmp_path / "sw", tmp_path / "victim"
    store.mkdir()
    victim.mkdir()
    (victim / "authorized_keys").write_text("key\n")
    try:
        (store / "point-0000").symlink_to(victim, target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    args = (esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2))
    grid = {"dynamics.temperature": [0.25, 0.3]}
    with pytest.raises(ValueError, match=r"store entry .*point-0000' is a symbolic link"):
        esc.sweep(*args, grid=grid, store=store, seed=1, **SMALL)
    assert sorted(p.name for p in victim.iterdir()) == ["authorized_keys"]
    # resuming: a finished point's directory swapped for a link to a copy of it elsewhere
    (store / "point-0000").unlink()
    first = esc.sweep(*args, grid=grid, store=store, seed=1, **SMALL)
    (store / "point-0001").rename(tmp_path / "copy")
    (store / "point-0001").symlink_to(tmp_path / "copy", target_is_directory=True)
    with pytest.raises(ValueError, match=r"store entry .*point-0001' is a symbolic link"):
        esc.sweep(*args, grid=grid, store=store, **SMALL)
    (store / "point-0001").unlink()
    (tmp_path / "copy").rename(store / "point-0001")
    again = esc.sweep(*args, grid=grid, store=store, **SMALL)
    assert [r.seed for r in again] == [r.seed for r in first]


def test_a_sweep_store_given_as_a_link_is_the_users_choice(tmp_path):
    """The store directory the caller names may itself be a link (a scratch directory elsewhere): only what lies
    inside a store may not be."""
    (tmp_path / "scratch").mkdir()
    try:
        (tmp_path / "link").symlink_to(tmp_path / "scratch", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    args = (esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2))
    first = esc.sweep(*args, grid={"bridge": [True, False]}, store=tmp_path / "link", seed=4, **SMALL)
    assert sorted(p.name for p in (tmp_path / "scratch").iterdir()) == ["point-0000", "point-0001", "sweep.json"]
    again = esc.sweep(*args, grid={"bridge": [True, False]}, store=tmp_path / "link", **SMALL)
    assert [r.seed for r in again] == [r.seed for r in first] == [4, 4]


def test_sweep_json_is_read_once_when_resuming(tmp_path, monkeypatch):
    """sweep.json is read once when a sweep resumes (for its seed and its seeds alike)."""
    execute_module, sweep_module = sys.modules["escapade._execute"], sys.modules["escapade.sweep"]
    args = (esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2))
    first = esc.sweep(*args, grid={"bridge": [True]}, store=tmp_path / "sw", **SMALL)
    reads = []
    for module in (execute_module, sweep_module):
        real = module.read_store_json

        def counting(file, *a, _real=real, **k):
            reads.append(Path(file).name)
            return _real(file, *a, **k)

        monkeypatch.setattr(module, "read_store_json", counting)
    again = esc.sweep(*args, grid={"bridge": [True]}, store=tmp_path / "sw", **SMALL)
    assert reads.count("sweep.json") == 1 and again[0].seed == first[0].seed


def test_select_slices_a_sweep():
    """A slice of a 2-D sweep at one value of a key is a sweep over the other key, point for point."""
    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=1e-2), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
               grid={"dynamics.temperature": [0.2, 0.3], "stop.offset": [0.0, 0.1, 0.2]}, n_paths=8, t_max=5.0,
               seed=3)
    part = sw.select({"stop.offset": 0.1})
    assert part.grid == {"dynamics.temperature": [0.2, 0.3], "stop.offset": [0.1]}
    assert [p["dynamics.temperature"] for p in part.points] == [0.2, 0.3]
    for point, res in zip(part.points, part.results):
        i = sw.points.index(point)
        assert res is sw.results[i]
    assert len(sw.select({"stop.offset": 0.1, "dynamics.temperature": 0.3})) == 1
    same = sw.select({"stop.offset": np.float64(0.1), "dynamics.temperature": np.float32(0.25) * 0 + 0.2})
    assert same.grid["stop.offset"] == [0.1] and type(same.grid["stop.offset"][0]) is float  # the grid's own entry
    assert same.grid["dynamics.temperature"] == [0.2] and len(same) == 1
    with pytest.raises(ValueError, match="not one of"):
        sw.select({"stop.offset": 0.15})
    with pytest.raises(ValueError, match="not one of"):
        sw.select({"stop.offset": np.array([0.1])})
    with pytest.raises(ValueError, match="not a key"):
        sw.select({"dynamics.eps": 0.1})
    with pytest.raises(TypeError, match="values"):
        sw.select("stop.offset")
