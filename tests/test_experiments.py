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
from escapade.simulate import SEMANTICS


def test_reproduce_is_what_the_command_prints(capsys):
    assert main(["reproduce", "stable-manifold", "--paths", "5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = reproduce("stable-manifold", paths=5)
    assert isinstance(report, Report)
    ours = json.loads(report.to_json())
    assert list(ours)[:5] == ["name", "description", "version", "semantics", "seed"]
    assert ours["version"] == esc.__version__ and ours["semantics"] == SEMANTICS
    assert ours["seed"] == 0
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
    with pytest.raises(ValueError, match="paths must be >= 2, got 1"):  # a standard error needs two
        reproduce("double-well-bias", paths=1)
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
    # 13 s even with 2 paths (the curvature of 14 minimizers, 672 settings): the fast check of its design is in
    # test_sgdk_reproduction.py::test_reproduction_runs_small_and_reports_documented_keys.
    pytest.param("sgdk-thresholds", 2, marks=pytest.mark.slow),
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
    assert set(design) == {"dt", "paths", "seeds", "censoring", "rows", "independent", "choices"}
    assert 1 <= design["independent"] <= design["rows"]
    assert report.text.endswith("\n".join([f"independent experiments: {design['independent']} of {design['rows']} rows "
                                           "(rows that share a seed stream are correlated and count once)",
                                           *(f"choice: {c}" for c in design["choices"])]))
    assert f"seeds: {design['seeds']}" in report.text


def test_a_design_cannot_count_more_independent_rows_than_it_has():
    with pytest.raises(ValueError, match="independent must lie in"):
        Design(dt="0.1", paths="1", seeds="0", censoring="none", rows=2, independent=3)


# --- sgd-exit-time at small noise (adaptive multilevel splitting) ----------------------------------------------


def test_sgd_small_noise_means_agree_with_exact():
    """H = C = I, r = 1: d theta = -theta dt + eps dW leaving the unit disk, E[tau] exact by
    `linear_mean_exit_time`. Each splitting mean is within 3 SE of it, plus the scheme's own exponent bias at dt."""
    import math

    import numpy as np

    from escapade.analysis import linear_mean_exit_time
    from escapade.experiments import sgd_small_noise_experiment

    x = [6.0, 10.0]
    s = sgd_small_noise_experiment(np.eye(2), 1.0, inverse_noise=x, n_replicas=50, n_runs=10, n_loops=500,
                                   dt_rtol=0.05, seed=3, threads=1)
    assert s.dt == 0.01 and np.all(np.abs(s.exponent_dt_bias) <= 0.05)
    for xi, m, se, gap in zip(x, s.mean, s.stderr, s.exponent_dt_bias):
        exact = float(linear_mean_exit_time(np.eye(2), np.eye(2) / xi, esc.Ball(center=[0.0, 0.0], radius=1.0)))
        assert abs(m / exact - 1) <= abs(math.expm1(gap)) + 3 * se / exact, (xi, m, se, exact)
    assert all(e.splitting.test == "bridge" for e in s.estimates)  # constant noise: A and B by the bridge
    assert s.counts()["runs"] == 20 and s.counts()["extinct"] == 0
    assert len(set(s.params["point_seeds"])) == 2  # independent points


def test_sgd_small_noise_fits_and_bad_arguments():
    import numpy as np

    from escapade.analysis import arrhenius_fit
    from escapade.experiments import sgd_small_noise_experiment

    H = np.diag([1.0, 3.0])
    x = [4.0, 6.0, 8.0]
    s = sgd_small_noise_experiment(H, 1.0, inverse_noise=x, n_replicas=10, n_runs=4, n_loops=50, dt_rtol=0.3,
                                   seed=1, threads=1)
    ref = arrhenius_fit(x, s.mean, s.stderr, x="inv_eps2")
    assert s.fit.barrier == pytest.approx(ref.barrier) and s.corrected_fit.power == 0.5  # one exit direction
    for f, (lo, hi) in ((s.fit, s.fit_interval), (s.corrected_fit, s.corrected_interval)):
        slack = 1e-12 * (abs(lo) + abs(hi))  # equal ends (chi2/dof at most 1) may differ in the last bit
        assert lo <= f.barrier_ci[0] + slack and f.barrier_ci[1] <= hi + slack  # widened by sqrt(chi2/dof) above 1
    assert s.prediction.fw_slope == pytest.approx(1.0) and s.prediction.paper_slope == pytest.approx(2.0)
    d = s.to_dict()
    json.dumps(d, allow_nan=False)
    assert [p["inverse_noise"] for p in d["points"]] == x and d["params"]["reactant_radius"] == 0.25
    with pytest.raises(ValueError, match="inverse_noise must hold two or more positive values"):
        sgd_small_noise_experiment(H, 1.0, inverse_noise=[5.0])
    with pytest.raises(ValueError, match="reactant_radius must be below the radius 1, got reactant_radius=1.5"):
        sgd_small_noise_experiment(H, 1.0, inverse_noise=x, reactant_radius=1.5)
    with pytest.raises(ValueError, match="x_max must exceed the largest Monte Carlo B / eta"):
        sgd_small_noise_experiment(H, 1.0, x_max=2.0)
    with pytest.raises(ValueError, match="n_points must be an integer >= 3"):
        sgd_small_noise_experiment(H, 1.0, n_points=2)
    with pytest.raises(ValueError, match="dt must be below 2 / lambda_max"):
        sgd_small_noise_experiment(H, 1.0, inverse_noise=x, dt=1.0)
    with pytest.raises(ValueError, match="dt_rtol must be in"):
        sgd_small_noise_experiment(H, 1.0, inverse_noise=x, dt_rtol=2.0)


def test_sgd_exit_time_small_noise_series_as_the_reproduction_runs_it(monkeypatch):
    """The reproduction's small-noise section on its two Monte Carlo rows (small and coarse here): each series
    starts at its row's largest B / eta and is checked against that row's mean there, its seeds are its own, and
    it states its design."""
    from escapade.experiments import sgd_exit_time as m

    monkeypatch.setattr(m, "DT_RTOL", 0.3)  # coarse steps, to stay fast
    base = m._sgd_hessians()
    rows = {(d, a, r, noise, "continuous"): m._run_row(base, d, a, r, noise, "continuous", 5, 0, 1, False)
            for d, a, r, noise in m.SMALL_NOISE_MODELS}
    small = m._small_noise(rows, base, 5, 0, 1, False)
    data = small["data"]
    assert len(data["series"]) == 2 and data["n_replicas"] == 10 and data["n_runs"] == m.SMALL_NOISE_RUNS
    for row, (key, e) in zip(data["series"], rows.items()):
        xs = [p["inverse_noise"] for p in row["points"]]
        assert len(xs) == m.SMALL_NOISE_POINTS and xs[0] == e.inverse_noise[-1] and xs[-1] == m.SMALL_NOISE_MAX
        check = row["monte_carlo_check"]
        assert check["monte_carlo"] == e.mean[-1] and check["splitting"] == row["points"][0]["mean"]
        assert check["agrees"] == (abs(check["z"]) <= 3)
        assert row["fw_slope"] == pytest.approx(1.0) and row["seed"] != m._row_seed(0, *key)
        assert row["monte_carlo_fit"]["corrected_slope"] == e.corrected_fit.barrier
    assert [r["paper_slope"] for r in data["series"]] == pytest.approx([2.0, 4.0])
    assert data["design"]["rows"] == data["design"]["independent"] == 2 * m.SMALL_NOISE_POINTS
    assert set(data["design"]) == {"dt", "paths", "seeds", "censoring", "rows", "independent", "choices"}
    assert "Design of the small-noise series:" in small["text"] and "corrected S [95%]" in small["text"]
    assert len(small["results"]) == 2 * m.SMALL_NOISE_POINTS
    json.dumps(data, allow_nan=False)


@pytest.mark.slow
def test_sgd_small_noise_series_against_exact_means_at_the_reproductions_model():
    """The reproduction's C = H, alpha = 4 model at three small-noise points (its dt rule, 50 x 10 replicas): each
    mean within 3 SE of `linear_mean_exit_time` plus the scheme's exponent bias, and the corrected slope's
    interval holds the exact means' corrected slope over the same points and V0 = 1."""
    import math

    import numpy as np

    from escapade.analysis import arrhenius_fit, linear_mean_exit_time
    from escapade.experiments import sgd_exit_time as m

    H = 4.0 * m._sgd_hessians()[2]
    x = [9.0, 15.0, 21.0]
    s = m.sgd_small_noise_experiment(H, 1.0, noise="hessian", inverse_noise=x, seed=11)
    disk = esc.Ball(center=[0.0, 0.0], radius=1.0)
    exact = np.array([float(linear_mean_exit_time(H, H / xi, disk, resolution=(48, 96))) for xi in x])
    for xi, mean, se, gap, ex in zip(x, s.mean, s.stderr, s.exponent_dt_bias, exact):
        assert abs(mean / ex - 1) <= abs(math.expm1(gap)) + 3 * se / ex, (xi, mean, se, ex)
    exact_slope = arrhenius_fit(x, exact, exact * s.stderr / s.mean, x="inv_eps2", power=1.0).barrier
    lo, hi = s.corrected_interval
    assert lo <= exact_slope <= hi and s.fw_agrees and not s.paper_agrees
