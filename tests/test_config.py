"""Experiments described by TOML tables: load_config and parse_config give runs with overrides, samplers, points,
targets, keep and store, the forms of a sweep grid, finite sums and constrained flows."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

import escapade as esc
from escapade.cli import main
from escapade.config import ConfigError, Experiment, load_config, parse_config, registry

from conftest import BASE_CONFIG, write_config


def test_load_config_runs_with_overrides(tmp_path):
    experiment = load_config(write_config(tmp_path, BASE_CONFIG))
    assert isinstance(experiment, Experiment) and experiment.name == "exp" and experiment.grid is None
    a = experiment.run(threads=1)
    b = experiment.run(n_paths=50)
    assert a.n_paths == 200 and b.n_paths == 50
    assert a.exit_time[:50].tobytes() == b.exit_time.tobytes()  # path i depends on (seed, i) only
    with pytest.raises(TypeError, match="unexpected keyword argument 'paths'"):
        experiment.run(paths=5)


def test_config_samplers_points_targets_and_summary(tmp_path):
    text = """
[landscape]
type = "Quadratic"
H = [[1.0, 0.0], [0.0, 2.0]]

[dynamics]
type = "Langevin"
eps = 0.5
dt = 0.01

[stop]
type = "Ball"
center = [0, 0]
radius = 1.0

[target]
type = "Box"
low = [0.5, -inf]
high = [inf, inf]

[start]
type = "UniformBall"
center = [0.0, 0.0]
radius = 0.2

[run]
n_paths = 300
max_steps = 2000
seed = 5
keep = "summary"
store = "chunks"
chunk_size = 100
"""
    experiment = load_config(write_config(tmp_path, text))
    assert experiment.options["store"] == str(tmp_path / "chunks")  # relative to the file
    res = experiment.run()
    assert isinstance(res, esc.SummaryResult) and res.n_paths == 300
    direct = esc.simulate(
        esc.Quadratic([[1.0, 0.0], [0.0, 2.0]]), esc.Langevin(eps=0.5, dt=0.01),
        x0=esc.UniformBall(center=[0.0, 0.0], radius=0.2), stop=esc.Ball([0, 0], 1.0),
        target=esc.Box([0.5, -np.inf], [np.inf, np.inf]), n_paths=300, max_steps=2000, seed=5,
    )
    assert res.summary().counts == direct.summary().counts
    points = parse_config({**_tables(BASE_CONFIG), "start": {"x0": [[-1.0], [-0.5], [-0.2]]}, "run": {"t_max": 10.0}})
    assert points.run(seed=1).n_paths == 3  # one path per starting point


def test_sweep_grid_forms(tmp_path):
    base = _tables(BASE_CONFIG)
    nested = parse_config({**base, "sweep": {"grid": {"dynamics": {"temperature": [0.25, 0.5]}, "bridge": [True]}}})
    quoted = parse_config({**base, "sweep": {"grid": {"dynamics.temperature": [0.25, 0.5], "run.bridge": [True]}}})
    assert nested.grid == quoted.grid == {"dynamics.temperature": [0.25, 0.5], "bridge": [True]}
    sampler = {"type": "UniformBall", "center": [-1.0], "radius": 0.1}
    started = parse_config({**base, "start": sampler, "sweep": {"grid": {"start.radius": [0.1, 0.2]},
                                                                "seeds": "independent"}})
    res = started.run()
    assert [p["x0.radius"] for p in res.points] == [0.1, 0.2] and res[0].seed != res[1].seed


def _tables(text: str) -> dict:
    return tomllib.loads(text)


def test_a_configuration_file_names_a_finite_sum():
    experiment = parse_config({
        "landscape": {"type": "QuadraticCircleSum", "q1": [0.01, 0.02], "q2": [0.1, 0.3], "q3": -15.0,
                      "c1": 3.0, "c2": 1.0, "c3": 6.0, "c4": 0.0},
        "dynamics": {"type": "SGDk", "lr": 0.5, "batch_size": 1},
        "start": {"type": "UniformBall", "center": [0.0, -15.0], "radius": 0.1},
        "stop": {"type": "Ball", "center": [0.0, -15.0], "radius": 5.0},
        "run": {"n_paths": 20, "max_steps": 10, "seed": 0},
    })
    assert isinstance(experiment.landscape, esc.QuadraticCircleSum) and experiment.landscape.n_terms == 2
    assert len(experiment.run().status) == 20


def test_an_experiment_file_describes_a_constrained_flow(tmp_path):
    config = tmp_path / "ackley.toml"
    config.write_text("""
[landscape]
type = "Ackley"

[dynamics]
type = "ConstrainedFlow"
dt = 0.01
alpha = 1.0
method = "dp54"
constraint = { type = "Parabola" }
forcing = { type = "Periodic", amplitude = 1.0, omega = 0.27826 }

[start]
type = "UniformBox"
low = [-4.0, -4.0]
high = [4.0, 4.0]

[target]
type = "Ball"
center = [0.0, 0.0]
radius = 1.0

[run]
n_paths = 50
t_max = 20.0
seed = 1
""")
    res = load_config(config).run()
    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.01, method="dp54", forcing=esc.Periodic(1.0, 0.27826))
    same = esc.simulate(esc.Ackley(), flow, x0=esc.UniformBox([-4.0, -4.0], [4.0, 4.0]), n_paths=50, t_max=20.0,
                        seed=1, target=esc.Ball([0.0, 0.0], 1.0))
    np.testing.assert_array_equal(res.exit_time, same.exit_time)
    # the recorded description rebuilds the dynamics
    rebuilt = esc.ConstrainedFlow(**{k: v for k, v in res.params["dynamics"].items() if k not in ("type",)
                                     and v is not None})
    assert rebuilt.forcing.omega == 0.27826 and isinstance(rebuilt.constraint, esc.Parabola)
    with pytest.raises(ValueError, match="constraint must name its type"):
        esc.ConstrainedFlow({"type": "Ellipse"}, dt=0.01)


def _toml_value(value):
    """A recorded value as TOML writes it (a test's own small writer: numbers, strings, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not np.isfinite(value):
        return "inf" if value > 0 else "-inf" if value < 0 else "nan"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"


def _file_from_params(res):
    """The configuration file docs/configuration.md ("A result's params and a file") says a result's params give:
    its tables with the nulls left out, the start point as [start] x0, the [run] keys, and the seed."""
    params = res.params
    tables = {name: params[name] for name in ("landscape", "dynamics", "stop", "target") if params[name] is not None}
    start = params["x0"]
    tables["start"] = {"x0": start["x0"]} if start["type"] == "Point" else start
    run = [key for key in ("n_paths", "t_max", "max_steps", "bridge", "divergence_bound", "record_paths",
                           "record_every", "lanes", "noise_refinement") if params.get(key) is not None]
    tables["run"] = {**{key: params[key] for key in run}, "seed": res.seed}
    return "\n".join(f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items() if v is not None)
                     for name, table in tables.items())


@pytest.mark.parametrize("case", ["GD", "Restart", "ConstrainedFlow", "Langevin"])
def test_a_results_params_written_as_a_file_rerun_it_bit_for_bit(tmp_path, case):
    """A discrete map records dt = 1 (the class sets it; a [dynamics] table refused it as an unknown key) and an
    unbounded max_step is recorded as null, which TOML cannot write (left out, it is the default)."""
    runs = {
        "GD": (esc.DoubleWell(), esc.GD(0.1), dict(x0=[-1.0], stop=esc.HalfSpace([1.0]), n_paths=3, max_steps=10)),
        "Restart": (esc.DoubleWell(), esc.Restart(esc.HeavyBall(0.1, momentum=0.5), period=5.0),
                    dict(x0=[-1.0], stop=esc.HalfSpace([1.0]), n_paths=3, max_steps=10)),
        "ConstrainedFlow": (esc.Linear([-1.0]), esc.ConstrainedFlow(None, dt=0.1, method="dp54"),
                            dict(x0=[0.0], stop=esc.HalfSpace([1.0], 10.0), n_paths=3, t_max=100.0)),
        "Langevin": (esc.DoubleWell(), esc.Langevin(0.25, dt=0.01),
                     dict(x0=esc.UniformBox([-1.0], [-0.5]), stop=esc.HalfSpace([1.0]),
                          target=esc.Box([-np.inf], [-1.5]), n_paths=50, t_max=5.0, noise_refinement=2)),
    }
    landscape, dynamics, kw = runs[case]
    res = esc.simulate(landscape, dynamics, seed=7, progress=False, **kw)
    res.save(tmp_path / "run.npz")
    config = tmp_path / "again.toml"
    config.write_text(_file_from_params(esc.load(tmp_path / "run.npz")))
    again = load_config(config).run(progress=False)
    assert again.params == res.params and again.seed == res.seed
    for name in ("status", "exit_time", "exit_step", "exit_position", "final_position"):
        assert getattr(again, name).tobytes() == getattr(res, name).tobytes(), name


def test_a_dynamics_table_may_hold_the_dt_its_class_sets_and_no_other():
    tables = {"landscape": {"type": "DoubleWell"}, "start": {"x0": [-1.0]}, "run": {"n_paths": 2, "max_steps": 5}}
    assert parse_config({**tables, "dynamics": {"type": "GD", "lr": 0.1, "dt": 1}}).dynamics.dt == 1.0
    with pytest.raises(ConfigError, match=r"^config \[dynamics\]: GD sets dt = 1.0 itself, got dt = 0.5"):
        parse_config({**tables, "dynamics": {"type": "GD", "lr": 0.1, "dt": 0.5}})
    nested = {"type": "Restart", "period": 2.0, "dynamics": {"type": "GD", "lr": 0.1, "dt": 2.0}}
    with pytest.raises(ConfigError, match=r"^config \[dynamics\]: dynamics: GD sets dt = 1.0 itself, got dt = 2.0"):
        parse_config({**tables, "dynamics": nested})
    with pytest.raises(ConfigError, match=r"unknown key 'dtt' for GD; allowed: lr, schedule, type"):
        parse_config({**tables, "dynamics": {**nested, "dynamics": {"type": "GD", "lr": 0.1, "dtt": 1.0}}})


# --- what a file may not do: name code, write outside its directory ------------------------------------------


NATIVE_ADDRESS = BASE_CONFIG.replace('type = "DoubleWell"', 'type = "CompiledLandscape"\ndim = 1\ngradient = 4096')


@pytest.mark.parametrize("type_name", ["CompiledLandscape", "BatchedLandscape", "SymbolicLandscape"])
def test_a_file_cannot_name_code(tmp_path, type_name):
    text = NATIVE_ADDRESS.replace("CompiledLandscape", type_name)
    with pytest.raises(ConfigError, match=rf"\[landscape\]: type '{type_name}' runs code .* cannot be built from "
                                              "a configuration file"):
        load_config(write_config(tmp_path, text))
    assert type_name not in registry()["landscape"]
    assert "DoubleWell" in registry()["landscape"]


def test_escapade_run_on_a_native_address_fails_cleanly(tmp_path, capsys):
    """The reproducer: this file used to make escapade call address 4096 (a segfault)."""
    assert main(["run", str(write_config(tmp_path, NATIVE_ADDRESS))]) == 2
    err = capsys.readouterr().err
    assert "type 'CompiledLandscape' runs code" in err and not (tmp_path / "exp.npz").exists()


def test_a_constrained_flow_in_a_file_cannot_name_compiled_constraints():
    for key, type_name in (("constraint", "CompiledConstraint"), ("forcing", "CompiledForcing")):
        tables = _tables(BASE_CONFIG)
        tables["dynamics"] = {"type": "ConstrainedFlow", "dt": 0.01, key: {"type": type_name, "dim": 1}}
        with pytest.raises(ConfigError, match=rf"{key} must name its type, one of"):
            parse_config(tables)


@pytest.mark.parametrize("store, why", [("/tmp/chunks", "an absolute path"), ("../chunks", "a path with '..'"),
                                        ("a/../../chunks", "a path with '..'"), ("", "an empty path"),
                                        ("C:\\chunks", "an absolute path"), ("..\\chunks", "a path with '..'")])
def test_a_file_stores_only_inside_its_directory(tmp_path, store, why):
    tables = _tables(BASE_CONFIG)
    tables["run"]["store"] = store
    with pytest.raises(ConfigError, match=rf"\[run\]: store must be a relative path inside the configuration "
                                              rf"file's directory, got {why}"):
        parse_config(tables, directory=tmp_path)


def test_a_store_inside_the_directory_and_one_given_to_run(tmp_path):
    tables = _tables(BASE_CONFIG)
    tables["run"].update(store="runs/a", keep="summary", n_paths=20)
    experiment = parse_config(tables, directory=tmp_path)
    assert experiment.options["store"] == str(tmp_path / "runs" / "a")
    elsewhere = tmp_path / "elsewhere"  # a store outside the directory: given in Python, not by the file
    res = experiment.run(store=str(elsewhere))
    assert res.n_paths == 20 and elsewhere.is_dir()


@pytest.mark.parametrize("grid", [{"seed": [0, 1]}, {"sensitivities": [["dynamics.temperature"]]}])
def test_grid_keys_a_sweep_refuses_are_refused_at_load(grid):
    """A seed says how to run, and sweep does not carry sensitivities: both fail when the file is read, not when
    the sweep starts."""
    base = {"landscape": {"type": "DoubleWell"}, "dynamics": {"type": "Langevin", "temperature": 0.1, "dt": 0.01},
            "start": {"x0": [-1.0]}, "run": {"n_paths": 10, "t_max": 1.0, "seed": 0}}
    with pytest.raises(ConfigError, match=f"unknown key {next(iter(grid))!r}"):
        parse_config({**base, "sweep": {"grid": grid}})


def test_a_store_a_symbolic_link_leads_out_of_the_directory_is_refused(tmp_path):
    directory, outside = tmp_path / "cfg", tmp_path / "outside"
    directory.mkdir()
    outside.mkdir()
    (directory / "inner").mkdir()
    try:
        (directory / "link").symlink_to(outside, target_is_directory=True)
        (directory / "here").symlink_to(directory / "inner", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    tables = _tables(BASE_CONFIG)
    tables["run"]["store"] = "link/s"
    with pytest.raises(ConfigError, match=r"\[run\]: store must be a relative path inside .* symbolic links lead to"):
        parse_config(tables, directory=directory)
    tables["run"]["store"] = "here/s"  # a link that stays inside is fine
    assert parse_config(tables, directory=directory).options["store"] == str(directory / "here" / "s")


def test_a_grid_of_too_many_points_is_refused_before_any_point_is_checked(tmp_path, monkeypatch):
    import escapade.config as config

    def never(*args, **kwargs):
        raise AssertionError("a grid point was checked")

    monkeypatch.setattr(config, "_check_job", never)
    values = ", ".join(["0.25"] * 100)  # 3 x 100 values in a 1 KB file: a million points
    grid = f'[sweep.grid]\n"dynamics.temperature" = [{values}]\n"dynamics.dt" = [{values}]\nt_max = [{values}]\n'
    path = write_config(tmp_path, BASE_CONFIG + grid)
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}: config \[sweep.grid\]: 1,000,000 points "
                                          rf"\(100 x 100 x 100\) is more than the {config.MAX_GRID_POINTS:,}"):
        load_config(path)


def test_values_nested_too_deeply_are_a_config_error(tmp_path):
    deep_x0 = write_config(tmp_path, BASE_CONFIG.replace("x0 = [-1.0]", "x0 = " + "[" * 3000 + "]" * 3000))
    with pytest.raises(ConfigError, match=f"{re.escape(str(deep_x0))}: invalid TOML: values are nested too deeply"):
        load_config(deep_x0)
    union = {"type": "HalfSpace", "normal": [1.0]}  # deeper than Python recurses, past the TOML reader
    for _ in range(2000):
        union = {"type": "Union", "regions": [union]}
    tables = _tables(BASE_CONFIG)
    tables["stop"] = union
    with pytest.raises(ConfigError, match="config: values are nested too deeply"):
        parse_config(tables)


def test_an_integer_too_long_for_python_names_the_file(tmp_path):
    path = write_config(tmp_path, BASE_CONFIG.replace("seed = 3", "seed = " + "1" * 5000))
    with pytest.raises(ConfigError, match=f"{re.escape(str(path))}: invalid TOML: .*4300 digits"):
        load_config(path)


def test_a_forcing_the_engine_cannot_build_is_reported_under_dynamics():
    tables = _tables(BASE_CONFIG)
    tables["dynamics"]["forcing"] = {"type": "RandomDirections", "amplitude": 1.0, "tau": 1.0, "dim": 2**40}
    with pytest.raises(ConfigError, match=r"^config \[dynamics\]: "):
        parse_config(tables)


@pytest.mark.parametrize("sweep", [False, True])
def test_a_link_planted_after_the_file_was_read_does_not_lead_its_store_out(tmp_path, sweep):
    """The file's store is checked when it is written, not only when the file is read: a link put in its way
    between the two is refused, and nothing is written where it leads."""
    directory, outside = tmp_path / "cfg", tmp_path / "outside"
    directory.mkdir()
    outside.mkdir()
    tables = _tables(BASE_CONFIG)
    tables["run"].update(store="runs/a", keep="summary", n_paths=20)
    if sweep:
        tables["sweep"] = {"grid": {"bridge": [True, False]}}
    experiment = parse_config(tables, directory=directory)
    try:
        (directory / "runs").symlink_to(outside, target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    for seed in (None, 3):  # resuming (the stored seed is looked up) and not
        with pytest.raises(ValueError, match=r"store .*runs/a' must stay inside the configuration file's directory"):
            experiment.run(seed=seed)
    assert list(outside.iterdir()) == []
    (directory / "runs").unlink()
    (directory / "inner").mkdir()
    (directory / "runs").symlink_to(directory / "inner", target_is_directory=True)  # a link that stays inside
    experiment.run()
    assert (directory / "inner" / "a").is_dir()


def test_load_config_accepts_a_utf8_byte_order_mark(tmp_path):
    """Some editors start UTF-8 files with a byte order mark; the file reads as without it."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE_CONFIG.encode())
    assert load_config(path).options == load_config(write_config(tmp_path, BASE_CONFIG)).options
