"""The command line: `escapade run` gives the Python API's bits, bad experiment files give one clear line and
exit status 2, `reproduce`, `info` and `--version` work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import escapade as esc
from escapade.cli import main
from escapade.experiments import REPRODUCTIONS
from escapade.config import ConfigError, load_config, registry

from conftest import BASE_CONFIG, ROOT, edited_config, write_config

EXAMPLES = ROOT / "examples"


def escapade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "escapade", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def assert_same_paths(a, b):
    assert type(a) is type(b) is esc.SimulationResult
    for name in ("status", "exit_time", "exit_step", "exit_position"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), name  # bit for bit, NaNs included
    assert a.params == b.params and a.seed == b.seed and a.version == b.version


# --- escapade run ------------------------------------------------------------------------------------------------


def test_run_double_well_example_matches_python_api(tmp_path):
    proc = escapade("run", str(EXAMPLES / "double_well.toml"), "-o", str(tmp_path / "dw.npz"), "--threads", "1",
                    "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "10000 paths" in proc.stdout and "dw.npz" in proc.stdout
    from_cli = esc.load(tmp_path / "dw.npz")
    direct = esc.simulate(
        esc.DoubleWell(dim=1),
        esc.Langevin(temperature=0.0625, dt=0.01),
        x0=[-1.0],
        stop=esc.HalfSpace(normal=[1.0], offset=0.0),
        n_paths=10_000, t_max=1e5, seed=0,
    )
    assert_same_paths(from_cli, direct)


def test_run_temperature_sweep_example_matches_python_api(tmp_path):
    proc = escapade("run", str(EXAMPLES / "temperature_sweep.toml"), "-o", str(tmp_path / "sweep.npz"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "dynamics.temperature" in proc.stdout
    from_cli = esc.load(tmp_path / "sweep.npz")
    direct = esc.sweep(
        esc.DoubleWell(),
        esc.Langevin(temperature=0.0625, dt=0.01),
        grid={"dynamics.temperature": [0.125, 0.1, 0.08333333333333333, 0.0625]},
        seeds="common", seed=0,
        x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=5000, t_max=1e5,
    )
    assert isinstance(from_cli, esc.SweepResult)
    assert from_cli.grid == direct.grid and from_cli.points == direct.points
    for a, b in zip(from_cli, direct):
        assert_same_paths(a, b)


def test_run_stores_where_the_command_line_says(tmp_path, capsys):
    """--store names a checkpoint directory anywhere (the user's choice; a file's own store stays in its
    directory), and a second run resumes from it with the same numbers."""
    (tmp_path / "project").mkdir()
    config = write_config(tmp_path / "project", BASE_CONFIG, "small.toml")
    store = tmp_path / "elsewhere" / "store"
    assert main(["run", str(config), "--store", str(store)]) == 0
    assert (store / "run.json").is_file()
    first = esc.load(config.with_suffix(".npz"))
    assert main(["run", str(config), "--store", str(store), "-o", str(tmp_path / "again.npz")]) == 0
    np.testing.assert_array_equal(esc.load(tmp_path / "again.npz").exit_time, first.exit_time)


def test_run_writes_next_to_the_config_by_default(tmp_path, capsys):
    config = write_config(tmp_path, BASE_CONFIG, "small.toml")
    assert main(["run", str(config)]) == 0
    res = esc.load(tmp_path / "small.npz")
    assert res.n_paths == 200 and res.seed == 3
    assert str(res.summary()) in capsys.readouterr().out
    assert main(["run", str(config), "-o", str(tmp_path / "missing" / "out.npz")]) == 2
    assert "no directory" in capsys.readouterr().err
    (tmp_path / "dir.npz").mkdir()
    assert main(["run", str(config), "-o", str(tmp_path / "dir.npz")]) == 2  # before running, not after
    err = capsys.readouterr()
    assert "it is a directory" in err.err and "wrote" not in err.out
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    assert main(["run", str(tmp_path / "bad.toml")]) == 2
    assert f"{tmp_path / 'bad.toml'}: invalid TOML" in capsys.readouterr().err


# --- bad configurations ----------------------------------------------------------------------------------------

REGIONS = ", ".join(sorted(registry()["region"]))
DYNAMICS = ", ".join(sorted(registry()["dynamics"]))
RUN_KEYS = ("bridge, chunk_size, divergence_bound, fd_step, keep, lanes, max_steps, n_paths, noise_refinement, "
            "record_every, record_paths, seed, sensitivities, sensitivity_method")

BAD = {
    "unknown table": (("", "[foo]\nbar = 1\n"),
                      "config: unknown table [foo]; allowed tables: dynamics, landscape, run, start, stop, sweep, "
                      "target"),
    "key outside tables": (("[landscape]\n", "paths = 3\n[landscape]\n"), "config: unknown key 'paths' outside any table"),
    "unknown landscape key": (('type = "DoubleWell"\n', 'type = "DoubleWell"\ndimension = 2\n'),
                              "config [landscape]: unknown key 'dimension' for DoubleWell; allowed: dim, height, type"),
    "unknown run key": (("seed = 3", "seed = 3\npaths = 10"), f"config [run]: unknown key 'paths'; allowed: {RUN_KEYS}"),
    "unknown stop type": (('type = "HalfSpace"', 'type = "Sphere"'),
                          f"config [stop]: unknown type 'Sphere'; allowed: {REGIONS}"),
    "unknown dynamics type": (('type = "Langevin"', 'type = "Newton"'),
                              f"config [dynamics]: unknown type 'Newton'; allowed: {DYNAMICS}"),
    "type not a string": (('type = "HalfSpace"', "type = 3"), f"config [stop]: unknown type 3; allowed: {REGIONS}"),
    "n_paths string": (("n_paths = 200", 'n_paths = "many"'), "config [run]: n_paths must be an integer, got 'many'"),
    "n_paths float": (("n_paths = 200", "n_paths = 2.5"), "config [run]: n_paths must be an integer, got 2.5"),
    "temperature string": (("temperature = 0.25", 'temperature = "hot"'),
                           "config [dynamics]: temperature must be a real number, got 'hot'"),
    "negative temperature": (("temperature = 0.25", "temperature = -1"), "config [dynamics]: temperature must be >= 0"),
    "normal string": (("normal = [1.0]", 'normal = "up"'), "config [stop]: normal must be an array of real numbers"),
    "bridge number": (("seed = 3", "seed = 3\nbridge = 1"), "config [run]: bridge must be True or False, got 1"),
    "x0 wrong length": (("x0 = [-1.0]", "x0 = [-1.0, 0.0]"), "config [start]: x0 must have 1 components"),
    "x0 and type": (("x0 = [-1.0]", 'x0 = [-1.0]\ntype = "UniformBall"'),
                    "config [start]: give either x0 or type with its arguments, not both"),
    "missing landscape": (('[landscape]\ntype = "DoubleWell"\n', ""), "config: missing table [landscape]"),
    "missing dt": (("dt = 0.01\n", ""), "config [dynamics]: missing key 'dt' (Langevin requires it)"),
    "missing type": (('type = "HalfSpace"\n', ""), f"config [stop]: missing key 'type'; allowed types: {REGIONS}"),
    "missing start": (("x0 = [-1.0]\n", ""), "config [start]: missing key 'x0' or 'type'"),
    "missing t_max": (("t_max = 100.0\n", ""), "config [run]: give t_max (or max_steps)"),
    "missing n_paths": (("n_paths = 200\n", ""), "config [run]: n_paths is required"),
    "start not a table": ((("[start]\nx0 = [-1.0]\n", ""), ("[landscape]\n", "start = [-1.0]\n[landscape]\n")),
                          "config: 'start' must be a table [start], got [-1.0]"),
    "unknown grid key": (("", '[sweep.grid]\n"dynamics.temp" = [0.1]\n'),
                         "config [sweep.grid]: unknown key 'dynamics.temp': Langevin has no parameter 'temp'"),
    "bad grid value": (("", '[sweep.grid]\n"dynamics.temperature" = [0.1, -1.0]\n'),
                       "config [sweep.grid]: dynamics.temperature = -1.0: temperature must be >= 0"),
    "bad grid run value": (("", "[sweep.grid]\nn_paths = [10, 0]\n"), "config [sweep.grid]: n_paths = 0: n_paths must be >= 1"),
    "grid not a list": (("", "[sweep.grid]\nn_paths = 10\n"), "config [sweep.grid]: 'n_paths' must be a non-empty array"),
    "unknown sweep key": (("", "[sweep]\nseed = 1\n"), "config [sweep]: unknown key 'seed'; allowed: grid, seeds"),
    "bad seeds": (("", '[sweep]\nseeds = "same"\n[sweep.grid]\nn_paths = [10]\n'),
                  "config [sweep]: seeds must be one of common, independent, got 'same'"),
    "invalid toml": (("seed = 3", "seed = = 3"), "invalid TOML"),
    "huge grid": (("", "[sweep.grid]\n" + "".join(f"{k} = [{', '.join(['10'] * 22)}]\n"
                                                 for k in ("n_paths", "t_max", "max_steps"))),
                  "config [sweep.grid]: 10,648 points (22 x 22 x 22) is more than the 10,000"),
    "deep nesting": (("x0 = [-1.0]", "x0 = " + "[" * 3000 + "]" * 3000), "values are nested too deeply"),
    "huge integer": (("seed = 3", "seed = " + "1" * 5000), "invalid TOML: Exceeds the limit (4300 digits)"),
    "unknown sensitivity": (("seed = 3", 'seed = 3\nsensitivities = ["dynamics.temp"]'),
                            "config [run]: sensitivities: 'dynamics.temp' is not a parameter"),
    "sensitivities of a summary": (("seed = 3", 'seed = 3\nsensitivities = ["dynamics.temperature"]\nkeep = "summary"'),
                                   "config [run]: sensitivities need the per-path scores: keep must be 'paths'"),
    "bad sensitivity_method": (("seed = 3", 'seed = 3\nsensitivity_method = "bogus"'),
                               "config [run]: sensitivity_method must be one of ('auto', 'score', 'fd'), got 'bogus'"),
    "negative fd_step": (("seed = 3", "seed = 3\nfd_step = -5.0"),
                         "config [run]: fd_step must be a positive finite number, got -5.0"),
    "fd_step without sensitivities": (("seed = 3", "seed = 3\nfd_step = 0.1"),
                                      "fd_step=0.1 has no effect without sensitivities"),
    "fd_step with the score": (("seed = 3", 'seed = 3\nsensitivities = ["dynamics.temperature"]\n'
                                'sensitivity_method = "score"\nfd_step = 0.1'),
                               "fd_step=0.1 is the step of finite differences"),
    "bad grid sensitivity_method": (("", '[sweep.grid]\nsensitivity_method = ["score", "bogus"]\n'),
                                    "sensitivity_method='score' has no effect without sensitivities: name the "
                                    "parameters (sensitivities=[...]) or leave it out (at the grid point "
                                    "sensitivity_method = 'score')"),
    "bad grid fd_step": (("", "[sweep.grid]\nfd_step = [0.1, -1.0]\n"),
                         "fd_step=0.1 has no effect without sensitivities: name the parameters "
                         "(sensitivities=[...]) or leave it out (at the grid point fd_step = 0.1)"),
    "unknown nested key": ((('type = "HalfSpace"', 'type = "Outside"\nregion = {type = "Ball", centre = [0.0], '
                                                   "radius = 1.0}"), ("normal = [1.0]\noffset = 0.0\n", "")),
                           "config [stop]: region: unknown key 'centre' for Ball; allowed: center, radius, type"),
    "unknown key in a nested array": ((('type = "HalfSpace"', 'type = "Intersection"\nregions = [{type = "Ball", '
                                                              'center = [0.0], radius = 2.0}, {type = "HalfSpace", '
                                                              "normall = [1.0]}]"),
                                       ("normal = [1.0]\noffset = 0.0\n", "")),
                                      "config [stop]: regions: unknown key 'normall' for HalfSpace; allowed: normal, "
                                      "offset, reflecting, type"),
    "forcing too large": (("dt = 0.01", 'dt = 0.01\nforcing = {type = "RandomDirections", amplitude = 1.0, tau = 1.0, '
                                        "dim = 1099511627776}"), "config [dynamics]: "),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_exits_2_with_one_line(case, tmp_path, capsys):
    edit, message = BAD[case]
    config = write_config(tmp_path, edited_config(edit))
    assert main(["run", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"escapade: error: {config}: ")
    assert message in err
    with pytest.raises(ConfigError, match="config|TOML"):
        load_config(config)
    assert not (tmp_path / "exp.npz").exists()


def test_a_recursion_error_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    """Whatever recurses too deeply on the way (the checks of a config, a run), the command says so in one line."""
    import escapade.cli as cli

    def deep(path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cli, "load_config", deep)
    assert main(["run", str(write_config(tmp_path, BASE_CONFIG))]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "escapade: error: input nested too deeply (Python's recursion limit)\n"


def test_bad_config_in_a_process_exits_2_without_traceback(tmp_path):
    config = write_config(tmp_path, BASE_CONFIG.replace('type = "HalfSpace"', 'type = "Sphere"'))
    proc = escapade("run", str(config), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"escapade: error: {config}: config [stop]: unknown type 'Sphere'; allowed: {REGIONS}\n"
    missing = escapade("run", "nowhere.toml", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "nowhere.toml" in missing.stderr
    usage = escapade("run", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1 and "Traceback" not in usage.stderr


# --- reproduce, info, --version ----------------------------------------------------------------------------------


def test_reproduce_list(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert "double-well-bias" in out
    assert set(REPRODUCTIONS) == {line.split()[0] for line in out.splitlines()}


def test_reproduce_unknown_name(capsys):
    assert main(["reproduce", "nothing-here"]) == 2
    assert "unknown reproduction 'nothing-here'; available: constrained-ackley, double-well-bias" in capsys.readouterr().err
    assert main(["reproduce"]) == 2


def test_reproduce_double_well_bias_json(tmp_path, capsys):
    assert main(["reproduce", "double-well-bias", "--paths", "2000", "--json", "--out", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"name", "description", "version", "seed", "params", "exact", "rows", "elapsed"} <= set(doc)
    assert doc["name"] == "double-well-bias" and doc["version"] == esc.__version__ and doc["seed"] == 0
    assert doc["exact"] == pytest.approx(135.783, abs=1e-3)
    assert doc["params"]["n_paths"] == 2000 and doc["params"]["seeds"] == "common"
    rows = doc["rows"]
    assert [(r["dt"], r["bridge"]) for r in rows] == [(dt, b) for dt in (0.05, 0.02, 0.01, 0.005) for b in (False, True)]
    for r in rows:
        assert r["n_paths"] == 2000 and r["counts"]["EXITED"] == 2000
        assert r["bias_percent"] == pytest.approx(100 * (r["mean"] / doc["exact"] - 1))
        assert abs(r["bias_percent"]) < 5 * r["bias_percent_stderr"] + (15 if not r["bridge"] else 2)
    assert json.loads((tmp_path / "double-well-bias.json").read_text()) == doc
    saved = esc.load(tmp_path / "double-well-bias.npz")
    assert [p["dynamics.dt"] for p in saved.points] == [r["dt"] for r in rows]


def test_info_prints_json(capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == esc.__version__ and info["threads"] >= 1


def test_version(tmp_path):
    proc = escapade("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"escapade {esc.__version__}"


# --- arguments checked before anything runs or prints ------------------------------------------------------------


@pytest.mark.parametrize("command", [["run", "exp.toml"], ["reproduce", "double-well-bias"], ["demo"]])
@pytest.mark.parametrize("threads", ["0", "-1", "two"])
def test_every_command_refuses_threads_below_one(command, threads, capsys):
    assert_usage_error([*command, "--threads", threads], "--threads", capsys)


def assert_usage_error(argv, option, capsys):
    """The parser refuses argv: exit status 2, one line on stderr naming the option, nothing on stdout."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"argument {option}: must be" in err


@pytest.mark.parametrize("args, message", [
    (["--dt", "-1"], "dt must be positive, got -1.0"),
    (["--dt", "0.01", "0"], "dt must be positive, got 0.0"),
    (["--dt", "1e-9"], "--dt 1e-09 is too small: the demo runs its paths up to t = 1e+06, more than 281474976710654 "
                       "steps of it"),
])
def test_demo_checks_its_arguments_before_printing(args, message, capsys):
    assert main(["demo", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"escapade: error: {message}\n"
    with pytest.raises(SystemExit):
        main(["demo", "--paths", "1"])  # a standard error needs two
    assert "argument --paths: must be at least 2, got 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "double-well-bias", "--paths", "1"])
    assert "argument --paths: must be at least 2, got 1" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["reproduce", "double-well-bias"], ["reproduce", "stable-manifold"], ["demo"]])
@pytest.mark.parametrize("seed", ["-1", "1.5", str(2**64)])
def test_every_command_refuses_a_bad_seed_naming_it(command, seed, capsys):
    assert_usage_error([*command, "--seed", seed], "--seed", capsys)


def test_run_refuses_to_overwrite_its_config_or_write_another_format(tmp_path, capsys):
    """The result never replaces the configuration file (a config named .npz, or -o the config itself), and is
    written as .npz only: refused before the run."""
    text = write_config(tmp_path, BASE_CONFIG, "cfg.toml").read_text()
    npz_config = write_config(tmp_path, text, "cfg.npz")
    for args in ([str(npz_config)], [str(tmp_path / "cfg.toml"), "-o", str(tmp_path / "cfg.toml")],
                 [str(tmp_path / "cfg.toml"), "-o", str(tmp_path / "." / "cfg.toml")]):
        assert main(["run", *args]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "it is the configuration file" in err
    assert npz_config.read_text() == text and (tmp_path / "cfg.toml").read_text() == text
    for name, suffix in (("out.csv", "'.csv'"), ("out", "'(none)'")):
        assert main(["run", str(tmp_path / "cfg.toml"), "-o", str(tmp_path / name)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and f"results are saved as .npz only, got the suffix {suffix}" in err
        assert not (tmp_path / name).exists()
    # nor to a device or a pipe, whose .npz could not be written after the run (an .npz's writer seeks back)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.npz")
        assert main(["run", str(tmp_path / "cfg.toml"), "-o", str(tmp_path / "pipe.npz")]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "-o='" in err and "is not a regular file" in err


def test_reproduce_checks_out_before_running(tmp_path, capsys, monkeypatch):
    import escapade.cli as cli

    def never(*args, **kwargs):
        raise AssertionError("ran before checking --out")

    monkeypatch.setattr(cli, "reproduce", never)
    (tmp_path / "afile").touch()
    for out, message in ((tmp_path / "afile", "it is not a directory"),
                         (tmp_path / "afile" / "sub", f"{tmp_path / 'afile'} is not a directory")):
        assert main(["reproduce", "double-well-bias", "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == f"escapade: error: cannot write to --out {out}: {message}\n"
    assert not (tmp_path / "new").exists()  # a directory still to be made passes the check (and is not made by it)
    cli._check_out_directory(tmp_path / "new" / "deeper")


def test_run_store_on_the_command_line_may_be_a_link(tmp_path, capsys):
    """--store is the user's own choice, so it may be a link (a scratch directory elsewhere); a link inside the
    store is refused with an error, not a traceback."""
    config = write_config(tmp_path, BASE_CONFIG, "small.toml")
    (tmp_path / "scratch").mkdir()
    try:
        (tmp_path / "link").symlink_to(tmp_path / "scratch", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    assert main(["run", str(config), "--store", str(tmp_path / "link")]) == 0
    assert (tmp_path / "scratch" / "run.json").is_file()
    (tmp_path / "scratch" / "run.json").rename(tmp_path / "run.json")
    (tmp_path / "scratch" / "run.json").symlink_to(tmp_path / "run.json")
    assert main(["run", str(config), "--store", str(tmp_path / "link")]) == 2
    assert "run.json' is a symbolic link" in capsys.readouterr().err
