"""Configuration mistakes found in review, each refused when the file is read with a one-line ConfigError naming the
file, table and key: a sweep parameter given twice, whole numbers too large for a float, sensitivities with a
sweep, unknown keys in a mapping of names to regions, a nested type a file cannot name, and files that are not
regular or too large."""

from __future__ import annotations

import os

import pytest

import escapade as esc
import escapade.config as config_module
from escapade.cli import main
from escapade.config import ConfigError, load_config

from conftest import BASE_CONFIG, edited_config, write_config

HUGE = "1" + "0" * 400  # a TOML integer past the largest double (1.8e308)
SWEEP = "[sweep.grid]\n"

BAD = {
    "grid quoted and dotted": (SWEEP + '"dynamics.temperature" = [0.1, 0.125]\ndynamics.temperature = [0.5]\n',
                               "config [sweep.grid]: 'dynamics.temperature' is given twice"),
    "grid quoted and table": ('[sweep.grid]\n"dynamics.temperature" = [0.1]\n[sweep.grid.dynamics]\n'
                              "temperature = [0.5]\n", "config [sweep.grid]: 'dynamics.temperature' is given twice"),
    "grid run key and run.key": (SWEEP + 'n_paths = [10]\n"run.n_paths" = [30, 40]\n',
                                 "config [sweep.grid]: 'run.n_paths' is given twice (also as 'n_paths')"),
    "huge temperature": (("temperature = 0.25", f"temperature = {HUGE}"),
                         "config [dynamics]: temperature must be finite, got an integer too large for a float"),
    "huge dt": (("dt = 0.01", f"dt = {HUGE}"), "config [dynamics]: dt must be finite, got an integer too large"),
    "huge t_max": (("t_max = 100.0", f"t_max = {HUGE}"), "config [run]: t_max must be finite, got an integer too large"),
    "huge divergence_bound": (("seed = 3", f"seed = 3\ndivergence_bound = {HUGE}"),
                              "config [run]: divergence_bound must be finite, got an integer too large"),
    "huge fd_step": (("seed = 3", f"seed = 3\nfd_step = {HUGE}"), "too large for a float"),
    "huge x0": (("x0 = [-1.0]", f"x0 = [{HUGE}]"), "config [start]: x0 must be finite, got an integer too large"),
    "huge x0 among floats": (("x0 = [-1.0]", f"x0 = [[-1.0], [{HUGE}]]"),
                             "config [start]: x0 must be finite, got an integer too large"),
    "huge radius": (("x0 = [-1.0]", f'type = "UniformBall"\ncenter = [-1.0]\nradius = {HUGE}'),
                    "config [start]: radius must be finite, got an integer too large"),
    "huge lr entry": (('type = "Langevin"\ntemperature = 0.25\ndt = 0.01', f'type = "GD"\nlr = [0.1, {HUGE}]'),
                      "config [dynamics]: lr must be finite, got an integer too large"),
    "huge normal": (("normal = [1.0]", f"normal = [{HUGE}]"), "config [stop]: normal must be finite, got an integer"),
    "huge grid value": (SWEEP + f'"dynamics.temperature" = [0.1, {HUGE}]\n',
                        "config [sweep.grid]: dynamics.temperature = 1000"),
    "sensitivities with a sweep": ((("seed = 3", 'seed = 3\nsensitivities = ["dynamics.temperature"]'),
                                    ("", SWEEP + "bridge = [true, false]\n")),
                                   "config [run]: sensitivities: a [sweep] does not carry them"),
    "unknown key in a mapping of regions": ((('type = "HalfSpace"', 'type = "Union"\nregions = {a = {type = '
                                                                    '"HalfSpace", normale = [1.0]}}'),
                                             ("normal = [1.0]\noffset = 0.0\n", "")),
                                            "config [stop]: regions.a: unknown key 'normale' for HalfSpace; allowed: "
                                            "normal, offset, reflecting, type"),
    "nested abstract dynamics": (('type = "Langevin"\ntemperature = 0.25\ndt = 0.01',
                                  'type = "Restart"\nrate = 1.0\ndynamics = {type = "DiscreteMap", lr = 0.1, '
                                  'schedule = "constant"}'),
                                 "config [dynamics]: dynamics must name its type, one of ['AdaGrad'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_is_refused_naming_the_key(case, tmp_path, capsys):
    edits, message = BAD[case]
    config = write_config(tmp_path, edited_config(edits))
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert str(info.value).startswith(f"{config}: ") and message in str(info.value)
    assert main(["run", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err
    assert not (tmp_path / "exp.npz").exists()


def test_valid_files_of_the_same_shapes_still_load(tmp_path):
    """One spelling of each grid parameter, a mapping of named regions and a nested dynamics are what they were."""
    grid = load_config(write_config(tmp_path, BASE_CONFIG + SWEEP + 'dynamics.temperature = [0.1, 0.2]\n'
                                                             '"run.n_paths" = [10]\nstart.x0 = [[-1.0]]\n'))
    assert grid.grid == {"dynamics.temperature": [0.1, 0.2], "n_paths": [10], "x0": [[-1.0]]}
    union = load_config(write_config(tmp_path, edited_config((
        ('type = "HalfSpace"', 'type = "Union"\nregions = {a = {type = "HalfSpace", normal = [1.0]}, '
                               'b = {type = "Ball", center = [-3.0], radius = 0.5}}'),
        ("normal = [1.0]\noffset = 0.0\n", "")))))
    assert isinstance(union.stop, esc.Union) and union.stop.names == ("a", "b")
    restart = load_config(write_config(tmp_path, edited_config((
        'type = "Langevin"\ntemperature = 0.25\ndt = 0.01',
        'type = "Restart"\nrate = 1.0\ndynamics = {type = "Langevin", temperature = 0.25, dt = 0.01}'))))
    assert isinstance(restart.dynamics, esc.Restart) and isinstance(restart.dynamics.dynamics, esc.Langevin)


def test_a_recorded_table_names_only_a_concrete_public_type():
    with pytest.raises(ValueError, match=r"dynamics must name its type, one of \['AdaGrad'.*'DiscreteMap'"):
        esc.Restart({"type": "DiscreteMap", "lr": 0.1, "schedule": "constant"}, rate=1.0)
    assert esc.Restart({"type": "GD", "lr": 0.1}, rate=1.0).dynamics.lr == 0.1


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_not_read():
    with pytest.raises(ConfigError, match="^/dev/zero: not a regular file"):
        load_config("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_by_the_command_in_one_line(tmp_path, capsys):
    fifo = tmp_path / "exp.toml"
    os.mkfifo(fifo)
    assert main(["run", str(fifo)]) == 2  # without waiting for a writer
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"{fifo}: not a regular file" in err


def test_a_file_over_the_size_cap_is_refused(tmp_path, monkeypatch):
    config = write_config(tmp_path, BASE_CONFIG)
    monkeypatch.setattr(config_module, "MAX_FILE_BYTES", len(BASE_CONFIG) - 1)
    with pytest.raises(ConfigError, match=rf"^{config}: larger than 0 MiB, the most a configuration file may be"):
        load_config(config)
    monkeypatch.setattr(config_module, "MAX_FILE_BYTES", len(BASE_CONFIG))
    assert load_config(config).grid is None  # at the cap: read


def test_the_size_cap_is_64_mib():
    assert config_module.MAX_FILE_BYTES == 64 * 2**20
