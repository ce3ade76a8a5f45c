"""The experiments package: the registry both `escapade reproduce` and `experiments.reproduce` read, the Report,
and the names that moved there from `analysis`."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json

import pytest

import escapade as esc
from escapade.cli import main
from escapade.experiments import REPRODUCTIONS, Design, Report, reproduce


def test_reproduce_is_what_the_command_prints(capsys):
    assert main(["reproduce", "stable-manifold", "--paths", "5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = reproduce("stable-manifold", paths=5)
    assert isinstance(report, Report)
    ours = json.loads(report.to_json())
    assert list(ours)[:4] == ["name", "description", "version", "seed"]
    assert ours["version"] == esc.__version__ and ours["seed"] == 0
    assert ours["description"] == REPRODUCTIONS["stable-manifold"].description
    printed.pop("elapsed"), ours.pop("elapsed")
    assert ours == printed


def test_report_save_writes_what_out_writes(tmp_path):
    report = reproduce("double-well-bias", paths=20)
    out = report.save(tmp_path / "new", "double-well-bias")
    assert sorted(p.name for p in out.iterdir()) == ["double-well-bias.json", "double-well-bias.npz",
                                                     "double-well-bias.txt"]
    assert json.loads((out / "double-well-bias.json").read_text()) == report.data
    assert len(esc.load(out / "double-well-bias.npz")) == 8  # 4 values of dt, with and without the bridge


def test_every_registered_module_has_a_run():
    import importlib

    for r in REPRODUCTIONS.values():
        assert callable(importlib.import_module(f"escapade.experiments.{r.module}").run), r.name


def test_bad_reproduction_arguments():
    with pytest.raises(ValueError, match="unknown reproduction 'nope'; available: constrained-ackley"):
        reproduce("nope")
    with pytest.raises(ValueError, match="paths must be >= 1, got 0"):
        reproduce("stable-manifold", paths=0)
    with pytest.raises(TypeError, match="paths must be an integer"):
        reproduce("stable-manifold", paths=2.5)


@pytest.mark.parametrize("name", ["sgd_exit_time_experiment", "SGDExitExperiment", "mlp_exit_time_experiment",
                                  "MLPExitExperiment"])
def test_moved_experiments_still_reachable_from_analysis_with_a_warning(name):
    with pytest.warns(DeprecationWarning, match=f"escapade.analysis.{name} moved to escapade.experiments.{name}"):
        moved = getattr(esc.analysis, name)
    assert moved is getattr(esc.experiments, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        esc.analysis.nothing  # noqa: B018


DESIGN_RUNS = [
    ("double-well-bias", 20), ("stable-manifold", 5), ("saddle-escape", 2), ("constrained-ackley", 5),
    ("sgd-exit-time", 5),
    pytest.param("mlp-exit-time", 3, marks=pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                                              reason="needs scikit-learn")),
    # 13 s even with 1 path (the curvature of 14 minimizers, 672 settings): the fast check of its design is in
    # test_sgdk_reproduction.py::test_reproduction_runs_small_and_reports_documented_keys.
    pytest.param("sgdk-thresholds", 1, marks=pytest.mark.slow),
]


def test_every_reproduction_has_its_design_checked():
    checked = {run.values[0] if hasattr(run, "values") else run[0] for run in DESIGN_RUNS}
    assert checked == set(REPRODUCTIONS)


@pytest.mark.parametrize("name, paths", DESIGN_RUNS)
def test_a_reproduction_states_its_design_under_the_table(name, paths, monkeypatch):
    if name == "sgd-exit-time":
        from escapade.experiments import sgd_exit_time

        monkeypatch.setattr(sgd_exit_time, "DT_RTOL", 0.3)  # coarser SDE steps than the reproduction's, to stay fast
        monkeypatch.setattr(sgd_exit_time, "_exact_means", lambda e: e.mean)  # and no exact solves
    if name == "mlp-exit-time":  # its rare series and quadratic model take ~10^5 steps a path: cheap ones here
        module = importlib.import_module("escapade.experiments.mlp_exit_time")
        monkeypatch.setattr(module, "mlp_exit_time_experiment", functools.partial(
            module.mlp_exit_time_experiment, rare_inverse_noise=(50.0, 60.0), quadratic_max_steps=1000))
    report = reproduce(name, paths=paths)
    design = report.data["design"]
    assert set(design) == {"dt", "paths", "seeds", "censoring", "rows", "independent"}
    assert 1 <= design["independent"] <= design["rows"]
    assert report.text.endswith(f"independent experiments: {design['independent']} of {design['rows']} rows")
    assert f"seeds: {design['seeds']}" in report.text


def test_a_design_cannot_count_more_independent_rows_than_it_has():
    with pytest.raises(ValueError, match="independent must lie in"):
        Design(dt="0.1", paths="1", seeds="0", censoring="none", rows=2, independent=3)
