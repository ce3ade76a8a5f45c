"""Review fixes of sweeps: the `escapade run` sweep table, `SweepResult.to_pandas`, `arrhenius_fit_sweep` and
`plot.arrhenius_sweep` follow the censoring policy (the restricted mean, flagged ">=" or refused, where paths did
not stop by the cap; they showed the mean over the stopped paths as the mean); `plot.success_rate` leaves DIVERGED
paths out; a `SweepResult` records its base seed and seeds mode (and its file and `to_xarray` them, the version and
the semantics)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import arrhenius_fit, arrhenius_fit_sweep, quantity_of
from escapade.analysis.estimates import point_mean
from escapade.cli import _sweep_table, main

from conftest import BASE_CONFIG

# 38 of 200 paths censored at T = 0.15 (the reproducer's numbers: the mean over the stopped paths 8.59, the
# restricted mean 10.76), 11 at 0.2, 3 at 0.25.
CENSORING = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=200, t_max=20.0, seed=1, threads=1)


@pytest.fixture(scope="module")
def censored_sweep():
    return esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01),
                     grid={"dynamics.temperature": [0.15, 0.2, 0.25]}, **CENSORING)


@pytest.fixture(scope="module")
def diverging_run():
    """GD on the double well from [-5, 5]: 83 HIT, 92 CENSORED, 25 DIVERGED."""
    return esc.simulate(esc.DoubleWell(), esc.GD(lr=0.1), x0=esc.UniformBox([-5.0], [5.0]),
                        target=esc.Ball([1.0], 0.1), n_paths=200, max_steps=200, seed=1, threads=1)


# --- the censoring policy's mean of a sweep point ----------------------------------------------------------------


def test_point_mean_is_quantity_of(censored_sweep, diverging_run):
    for res in [*censored_sweep, diverging_run]:
        m, q = point_mean(res), quantity_of(res, "mean_exit_time")
        assert (m.n, m.censored, m.diverged, m.identified) == (q.n, q.censored, q.diverged, q.identified)
        assert m.value == pytest.approx(q.value, rel=1e-12) and m.stderr == pytest.approx(q.stderr, rel=1e-9)
    assert point_mean(diverging_run).diverged == 25 and point_mean(diverging_run).censored == 92
    first = point_mean(censored_sweep[0])
    assert not first.identified and first.censored == 38 and first.value == pytest.approx(10.7587, abs=1e-4)


def test_point_mean_of_a_summary_result_is_that_of_the_paths(censored_sweep):
    light = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01),
                      grid={"dynamics.temperature": [0.15, 0.2, 0.25]}, keep="summary", **CENSORING)
    for a, b in zip(censored_sweep, light):
        m, n = point_mean(a), point_mean(b)
        assert (m.n, m.censored, m.identified) == (n.n, n.censored, n.identified)
        assert m.value == pytest.approx(n.value, rel=1e-12) and m.stderr == pytest.approx(n.stderr, rel=1e-9)


def test_point_mean_without_censoring_is_the_summary_mean():
    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01), grid={"dynamics.temperature": [0.25]},
                   x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=100, t_max=1e4, seed=1, threads=1)
    s, m = sw[0].summary(), point_mean(sw[0])
    assert m.identified and m.censored == 0 and (m.value, m.stderr) == (s.mean, s.stderr)


# --- 5. tables and fits ------------------------------------------------------------------------------------------


def test_the_run_table_prints_the_restricted_mean_flagged(censored_sweep):
    """It printed 'mean exit time 8.59102 ± 0.43' at T = 0.15, unflagged, with 38 of 200 paths censored."""
    text = _sweep_table(censored_sweep)
    header, first = text.splitlines()[:2]
    assert "mean exit time ± SE" in header
    assert ">= 10.7587 ± 0.47" in first and "8.59" not in first
    assert first.split()[-3:] == ["162", "38", "0"]  # stopped, censored (at the cap), diverged
    assert "lower bound" in text.splitlines()[-1]


def test_the_run_table_prints_an_identified_mean_plainly(tmp_path, capsys):
    config = tmp_path / "sweep.toml"  # the experiment file of the tests, long enough for every path to exit
    config.write_text(BASE_CONFIG.replace("n_paths = 200", "n_paths = 100").replace("t_max = 100.0", "t_max = 1e4")
                      + 'threads = 1\n[sweep.grid]\n"dynamics.temperature" = [0.25, 0.3]\n')
    assert main(["run", str(config)]) == 0
    out = capsys.readouterr().out
    res = esc.load(tmp_path / "sweep.npz")
    for line, r in zip(out.splitlines()[1:3], res):
        s = r.summary()
        assert f"{s.mean:.6g} ± {s.stderr:.2g}" in line and ">=" not in line  # nothing censored: the mean
    assert "lower bound" not in out


def test_the_run_table_counts_converged_paths_at_the_cap():
    """Perturbed GD: paths that converge never exit; the policy counts them at the cap (the table showed them in
    no column, and the mean over the exits, 1.0)."""
    dyn = esc.PerturbedGD(0.1, radius=1.0, g_thres=0.01, f_thres=0.001, t_thres=5)
    sw = esc.sweep(esc.Quadratic(np.eye(1)), dyn, grid={"dynamics.radius": [1.0]}, x0=[0.0],
                   stop=esc.Ball([0.0], 0.5), n_paths=400, max_steps=100, seed=3, threads=1)
    res, m = sw[0], point_mean(sw[0])
    assert res.count("converged") > 0 and m.censored == res.count("converged") and not m.identified
    row = _sweep_table(sw).splitlines()[1]
    assert f">= {m.value:.6g}" in row
    assert row.split()[-3:] == [str(res.count("exited")), str(res.count("converged")), "0"]


def test_arrhenius_fit_sweep_refuses_a_mean_that_is_not_identified(censored_sweep):
    """It fitted the means over the stopped paths (barrier 0.186) with no word of the censoring."""
    with pytest.raises(ValueError, match=r"dynamics.temperature=0.15 \(38 of 200 paths at the cap: >= 10.76\).*"
                                         r"estimator='exponential'"):
        arrhenius_fit_sweep(censored_sweep, "dynamics.temperature")
    fit = arrhenius_fit_sweep(censored_sweep, "dynamics.temperature", estimator="exponential")
    assert 0.15 < fit.barrier < 0.5


def test_arrhenius_fit_sweep_without_censoring_fits_the_means():
    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01),
                   grid={"dynamics.temperature": [0.2, 0.25, 0.3]}, x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                   n_paths=100, t_max=1e4, seed=1, threads=1)
    summaries = [r.summary() for r in sw]
    direct = arrhenius_fit([0.2, 0.25, 0.3], [s.mean for s in summaries], [s.stderr for s in summaries])
    assert arrhenius_fit_sweep(sw, "dynamics.temperature").barrier == pytest.approx(direct.barrier, rel=1e-12)


def test_plot_arrhenius_sweep_draws_lower_bounds_hollow_and_does_not_fit_them():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01),
                   grid={"dynamics.temperature": [0.08, 0.3, 0.4]}, x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                   n_paths=100, t_max=40.0, seed=1, threads=1)
    means = [point_mean(r) for r in sw]
    assert [m.identified for m in means] == [False, True, True]  # this seed: T = 0.08 censored only
    try:
        out = esc.plot.arrhenius_sweep(sw, "dynamics.temperature")
        assert out.info["lower_bounds"] == [sw.points[0]] and out.info["excluded"] == []
        u, y = out.artists["lower_bounds"].get_data()
        assert u.tolist() == pytest.approx([1 / 0.08]) and y.tolist() == pytest.approx([means[0].value])
        assert out.artists["lower_bounds"].get_markerfacecolor() == "white"
        direct = arrhenius_fit([0.3, 0.4], [m.value for m in means[1:]], [m.stderr for m in means[1:]])
        assert out.info["barrier"] == pytest.approx(direct.barrier, rel=1e-12)
        assert "lower bound" in out.ax.get_ylabel()
        exponential = esc.plot.arrhenius_sweep(sw, "dynamics.temperature", estimator="exponential")
        assert exponential.info["lower_bounds"] == [] and exponential.artists["lower_bounds"] is None
        two = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01),
                        grid={"dynamics.temperature": [0.08, 0.3]}, x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                        n_paths=100, t_max=40.0, seed=1, threads=1)
        with pytest.raises(ValueError, match=r"two noise levels.*temperature=0.08.*estimator='exponential'"):
            esc.plot.arrhenius_sweep(two, "dynamics.temperature")  # one mean to fit
        assert esc.plot.arrhenius_sweep(two, "dynamics.temperature", fit=False).info["lower_bounds"] == [two.points[0]]
    finally:
        plt.close("all")


# --- 7. plot.success_rate leaves DIVERGED paths out ---------------------------------------------------------------


def test_plot_success_rate_leaves_diverged_paths_out():
    """It counted DIVERGED paths as failures: 83/200 = 0.415 where the policy gives 83/175 = 0.474."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    sw = esc.sweep(esc.DoubleWell(), esc.GD(lr=0.1), grid={"dynamics.lr": [0.1, 0.05], "target.radius": [0.1, 0.2]},
                   x0=esc.UniformBox([-5.0], [5.0]), target=esc.Ball([1.0], 0.1), n_paths=200, max_steps=200, seed=1,
                   threads=1)
    try:
        out = esc.plot.success_rate(sw, "dynamics.lr", "target.radius", annotate=False)
        first = sw[0]  # lr 0.1, radius 0.1: the run of the reproducer
        assert (first.count("hit"), first.count("diverged")) == (83, 25)
        assert out.info["fraction"][0, 0] == pytest.approx(83 / 175) and out.info["diverged"][0, 0] == 25
        for (r, c), value in np.ndenumerate(out.info["fraction"]):
            res = sw.select({"dynamics.lr": sw.grid["dynamics.lr"][c], "target.radius": sw.grid["target.radius"][r]})[0]
            rate = esc.analysis.success_rate(res)
            assert (value, out.info["low"][r, c], out.info["high"][r, c]) == (rate.rate, rate.low, rate.high)
        assert "diverged paths left out" in out.artists["colorbar"].ax.get_ylabel()
        diverged = esc.plot.success_rate(sw, "dynamics.lr", "target.radius", status="diverged", annotate=False)
        assert diverged.info["fraction"][0, 0] == pytest.approx(25 / 200) and not diverged.info["diverged"].any()
    finally:
        plt.close("all")


# --- 9c. a sweep records its seed, seeds mode, version and semantics ---------------------------------------------


SMALL = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=20, t_max=20.0, threads=1)


def small_sweep(**kwargs):
    return esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01),
                     grid={"dynamics.temperature": [0.25, 0.3]}, **SMALL, **kwargs)


def test_an_independent_sweep_reruns_from_its_file(tmp_path):
    sw = small_sweep(seeds="independent", seed=123)
    assert (sw.seed, sw.seeds) == (123, "independent")
    assert sw.version == esc.__version__ and sw.semantics == sw[0].params["semantics"]
    sw.save(tmp_path / "s.npz")
    header = json.loads(str(np.load(tmp_path / "s.npz")["header"]))
    assert (header["seed"], header["seeds"], header["version"]) == (123, "independent", esc.__version__)
    assert header["semantics"] == sw.semantics
    back = esc.load(tmp_path / "s.npz")
    assert (back.seed, back.seeds) == (123, "independent")
    again = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01), grid=back.grid, seed=back.seed,
                      seeds=back.seeds, **SMALL)
    for a, b in zip(again, back):
        assert a.seed == b.seed
        np.testing.assert_array_equal(a.exit_time, b.exit_time)
    part = sw.select({"dynamics.temperature": 0.3})  # its point's seed comes from its place in the whole grid
    index = sw.grid["dynamics.temperature"].index(0.3)
    assert (part.seed, part.seeds) == (None, None) and part[0].seed == sw[index].seed
    drawn = small_sweep()  # no seed given: the one drawn is recorded
    assert drawn.seeds == "common" and drawn.seed == drawn[0].seed


def test_a_sweep_file_without_seed_still_loads(tmp_path):
    small_sweep(seed=5).save(tmp_path / "s.npz")
    data = dict(np.load(tmp_path / "s.npz"))
    header = json.loads(str(data["header"]))
    for key in ("seed", "seeds", "version", "semantics"):
        del header[key]
    data["header"] = np.array(json.dumps(header))
    with open(tmp_path / "old.npz", "wb") as fh:
        np.savez_compressed(fh, **data)
    old = esc.load(tmp_path / "old.npz")
    assert (old.seed, old.seeds) == (None, None) and len(old) == 2
    assert "seed" not in old.to_pandas().attrs
    header["seeds"] = "sometimes"
    data["header"] = np.array(json.dumps(header))
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez_compressed(fh, **data)
    with pytest.raises(ValueError, match="seeds"):
        esc.load(tmp_path / "bad.npz")


def rewrite_header(src, dst, edit):
    """A copy of the result file src with its JSON header changed by edit(header)."""
    data = dict(np.load(src))
    header = json.loads(str(data["header"]))
    edit(header)
    data["header"] = np.array(json.dumps(header))
    with open(dst, "wb") as fh:
        np.savez_compressed(fh, **data)


def test_a_sweep_file_holds_the_parameters_its_points_share_once(tmp_path):
    """A 60-dimensional quadratic swept over the temperature: its 3,600-entry matrix is written once, under
    shared_params, not once per point (a 300-dimensional one over 40 points made a 316 MB header; now 7.9 MB). The
    loaded points' params are the saved ones; a file written before shared_params (each point's params whole)
    still loads, and one whose shared and own params give the same key is refused."""
    d = 60
    H = np.eye(d) + 0.01 * np.ones((d, d))
    sw = esc.sweep(esc.Quadratic(H), esc.Langevin(temperature=1.0, dt=1e-3),
                   grid={"dynamics.temperature": [0.5, 1.0, 1.5, 2.0], "n_paths": [3, 4]}, x0=np.zeros(d),
                   stop=esc.Ball(np.zeros(d), 1.0), t_max=0.01, seed=1, threads=1)
    path = tmp_path / "s.npz"
    sw.save(path)
    header = json.loads(str(np.load(path)["header"]))
    assert header["shared_params"]["landscape"] == sw[0].params["landscape"]
    assert str(header["results"]).count("landscape") == 0
    own = [h["params"] for h in header["results"]]
    assert [p["dynamics"]["temperature"] for p in own] == [0.5, 0.5, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0]
    assert [p["n_paths"] for p in own] == [3, 4] * 4 and "n_paths" not in header["shared_params"]
    back = esc.load(path)
    assert [b.params for b in back] == [a.params for a in sw]

    def whole(h):
        for r in h["results"]:
            r["params"] = next(a.params for a in sw if a.seed == r["seed"] and a.params["n_paths"] ==
                               r["params"]["n_paths"] and a.params["dynamics"] == {**h["shared_params"]["dynamics"],
                                                                                     **r["params"]["dynamics"]})
        del h["shared_params"]
    rewrite_header(path, tmp_path / "old.npz", whole)
    assert [b.params for b in esc.load(tmp_path / "old.npz")] == [a.params for a in sw]

    def clash(h):
        h["results"][0]["params"]["landscape"] = 1
    rewrite_header(path, tmp_path / "clash.npz", clash)
    with pytest.raises(ValueError, match="p0: params.landscape is given both"):
        esc.load(tmp_path / "clash.npz")
    rewrite_header(path, tmp_path / "list.npz", lambda h: h.update(shared_params=[1]))
    with pytest.raises(ValueError, match="shared_params"):
        esc.load(tmp_path / "list.npz")
    # points that differ only by the sign of a zero keep their own values
    signed = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=0.01), grid={"stop.offset": [0.0, -0.0]},
                       **SMALL)
    signed.save(tmp_path / "signed.npz")
    offsets = [r.params["stop"]["offset"] for r in esc.load(tmp_path / "signed.npz")]
    assert [math.copysign(1.0, o) for o in offsets] == [1.0, -1.0]


def test_to_xarray_and_to_pandas_carry_the_provenance_and_the_policy(censored_sweep):
    pytest.importorskip("pandas")
    pytest.importorskip("xarray")
    frame = censored_sweep.to_pandas()
    for row, res in zip(frame.to_dict("records"), censored_sweep):
        s, m = res.summary(), point_mean(res)
        assert (row["mean"], row["stderr"]) == (s.mean, s.stderr)  # unchanged: over the stopped paths
        assert (row["restricted_mean"], row["restricted_stderr"], row["identified"]) == (m.value, m.stderr,
                                                                                          m.identified)
    assert frame["restricted_mean"][0] == pytest.approx(10.7587, abs=1e-4) and not frame["identified"][0]
    ds = censored_sweep.to_xarray()
    assert (ds.attrs["seed"], ds.attrs["seeds"], ds.attrs["version"]) == (1, "common", esc.__version__)
    assert ds.attrs["semantics"] == censored_sweep.semantics
    assert json.loads(ds.attrs["params"]) == censored_sweep[0].params
    assert json.loads(ds.attrs["grid"]) == censored_sweep.grid
    assert ds.attrs == frame.attrs
    assert ds["identified"].values.tolist() == [False, False, False]


def test_to_pandas_does_not_call_a_point_where_every_path_diverged_identified():
    sw = esc.sweep(esc.Quadratic([[1.0]]), esc.GD(0.5), grid={"dynamics.lr": [0.5, 3.0]}, x0=[1.0],
                   target=esc.Ball([0.0], 1e-3), n_paths=10, max_steps=2000, seed=0, threads=1)
    frame = sw.to_pandas()
    assert list(frame["identified"]) == [point_mean(r).identified for r in sw] == [True, False]
