"""Results: the summary against numpy and the exact mean, save and load, pandas, the recorded problem, status codes
equal to the core's, statistics saved by an older version."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import escapade
from escapade import (
    Ball,
    Box,
    DoubleWell,
    ExitStats,
    HalfSpace,
    Langevin,
    Quadratic,
    Status,
    UniformBall,
    _core,
    simulate,
)

from conftest import BASELINE, N_SIGMA, RESULT_ARRAYS, assert_same_arrays, double_well, run_problem, same_bits


# ---------------------------------------------------------------------------------------------------------------
# Summary


def test_summary_matches_numpy():
    dt = 1e-2
    res = simulate(
        DoubleWell(),
        Langevin(temperature=1 / 16, dt=dt),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=1000,
        t_max=50.0,
        seed=77,
    )
    s = res.summary()
    stopped = res.stopped
    times = res.exit_time[stopped]
    k = times.size
    n_cens = int(np.count_nonzero(res.status == Status.CENSORED))
    assert 100 < k < 900 and n_cens == 1000 - k
    assert s.n_paths == 1000
    assert s.counts == {st.name: int(np.count_nonzero(res.status == st)) for st in Status}
    assert sum(s.counts.values()) == 1000
    assert s.mean == pytest.approx(times.mean(), rel=1e-13)
    assert s.stderr == pytest.approx(times.std(ddof=1) / math.sqrt(k), rel=1e-13)
    cap = res.params["max_steps"] * dt
    assert cap == pytest.approx(50.0)
    assert s.mean_lower_bound == pytest.approx((times.sum() + n_cens * cap) / 1000, rel=1e-13)
    assert s.exponential_mean == pytest.approx((times.sum() + n_cens * cap) / k, rel=1e-13)
    assert s.censored_fraction == n_cens / 1000
    assert s.mean < s.mean_lower_bound < s.exponential_mean
    assert "censored" in str(s)
    assert res.total_steps == int(res.exit_step.sum())


@pytest.mark.parametrize("max_steps", [150, 200])
def test_one_censoring_policy_for_paths_that_stop_without_an_exit(max_steps):
    """Perturbed GD from the saddle (0, 1) of the 2-D double well: the paths that fall left leave x > -0.5, those
    that fall right stop by the optimizer's own rule (CONVERGED) and never exit. The censoring policy counts them,
    like CENSORED paths, at the cap: the summary's lower bound, the restricted mean of `quantity_of` and its
    `identified` all say so (at max_steps=200 no path is CENSORED)."""
    pgd = escapade.PerturbedGD(lr=0.1, radius=0.1, g_thres=1e-3, f_thres=1e-4, t_thres=50)
    res = simulate(DoubleWell(dim=2), pgd, x0=[0.0, 1.0], stop=HalfSpace([-1.0, 0.0], 0.5), n_paths=200,
                   max_steps=max_steps, seed=0)
    converged = res.count(Status.CONVERGED)
    unstopped = converged + res.count(Status.CENSORED)
    assert converged > 50 and res.count(Status.EXITED) > 50 and (max_steps == 150) == (res.count(Status.CENSORED) > 0)
    restricted = np.where(res.stopped, res.exit_time, max_steps).mean()
    s = res.summary()
    assert s.mean_lower_bound == pytest.approx(restricted, rel=1e-13)
    assert s.mean < s.mean_lower_bound and f"true mean >= {s.mean_lower_bound:.6g}" in str(s)
    quantity_of = escapade.analysis.estimates.quantity_of
    stat = quantity_of(res, "mean_exit_time")
    assert stat.value == pytest.approx(restricted, rel=1e-13)
    assert not stat.identified and stat.censored == unstopped
    # the survival analyses censor them at the cap too: the Kaplan-Meier area to the cap is the restricted mean,
    # the median is the 100th exit time of all 200 paths (not of the exits only), the exponential MLE the summary's
    times, observed = escapade.analysis.survival_data(res)
    assert times.size == 200 and int((~observed).sum()) == unstopped and np.all(times[~observed] == max_steps)
    km = escapade.analysis.survival_of(res)
    steps = np.diff(np.concatenate([[0.0], km.time, [max_steps]]))
    assert float(np.sum(np.concatenate([[1.0], km.survival]) * steps)) == pytest.approx(restricted, rel=1e-12)
    assert escapade.analysis.exponential_fit(res).mean == pytest.approx(s.exponential_mean, rel=1e-13)
    assert "censored, converged or singular" in str(s)
    empty = escapade.ExitStats.of(np.zeros(0, dtype=np.int8), np.zeros(0), 1.0).summary()
    assert str(empty).startswith("0 paths")  # no division by the 0 paths
    median = escapade.analysis.exit_time_statistics(res).quantiles[0.5]
    assert median == np.sort(res.exit_time[res.stopped])[99] == quantity_of(res, "quantile", q=0.5).value


def test_summary_without_censoring():
    res = run_problem("w1", *BASELINE)
    s = res.summary()
    assert s.censored_fraction == 0.0
    assert s.mean_lower_bound == pytest.approx(s.mean, rel=1e-12)
    assert s.exponential_mean == pytest.approx(s.mean, rel=1e-12)
    # The mean escape time out of the left well agrees with the exact one.
    exact = escapade.analysis.langevin_mean_exit_time_1d(
        double_well, 1 / 16, -1.0, -np.inf, 0.0, lower_boundary="reflecting"
    )
    assert abs(s.mean - exact) <= N_SIGMA * s.stderr


# ---------------------------------------------------------------------------------------------------------------
# Files, pandas, status codes, the recorded problem


def small_result(**kw):
    args = dict(
        x0=UniformBall([0.0, 0.0], 0.3),
        stop=Ball([0.0, 0.0], 1.0),
        target=Box([0.5, -np.inf], [np.inf, np.inf]),
        n_paths=300,
        max_steps=400,
        seed=2**64 - 1,
        record_paths=4,
        record_every=5,
    )
    args.update(kw)
    return simulate(Quadratic([[1.0, 0.2], [0.2, 0.5]]), Langevin(temperature=0.2, dt=1e-2), **args)


@pytest.mark.parametrize("name", ["result.npz", "result.bin", "no_suffix"])
def test_save_load_round_trip(tmp_path, name):
    res = small_result()
    assert {Status.EXITED, Status.HIT, Status.CENSORED} <= set(Status(int(s)) for s in res.status)
    path = tmp_path / name
    res.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # exactly this path
    back = escapade.load(path)
    assert_same_arrays(res, back)
    for name_ in RESULT_ARRAYS:
        assert getattr(back, name_).dtype == getattr(res, name_).dtype
    assert len(back.trajectories) == len(res.trajectories) == 4
    for (t, x), (tb, xb) in zip(res.trajectories, back.trajectories):
        np.testing.assert_array_equal(t, tb)
        np.testing.assert_array_equal(x, xb)
    assert back.params == res.params
    assert back.seed == res.seed == 2**64 - 1
    assert back.version == res.version == escapade.__version__
    assert back.total_steps == res.total_steps
    assert back.elapsed == res.elapsed
    assert back.summary() == res.summary()
    assert escapade.SimulationResult.load(str(path)).seed == res.seed


def test_final_position_round_trips_and_is_nan_in_files_saved_before_it(tmp_path):
    res = small_result()
    assert np.all(np.isfinite(res.final_position))  # every status has one, CENSORED included
    stopped = res.stopped & (res.exit_step > 0)
    assert np.all(np.isnan(res.exit_position[~res.stopped]))  # no exit there, a final position all the same
    assert not np.array_equal(res.final_position[stopped], res.exit_position[stopped])  # end of step vs exit
    path = tmp_path / "r.npz"
    res.save(path)
    back = escapade.load(path)
    assert same_bits(back.final_position, res.final_position)
    with np.load(path) as data:  # the file as saved before final_position existed
        old = {k: data[k] for k in data.files if k != "final_position"}
    np.savez_compressed(tmp_path / "old.npz", **old)
    before = escapade.load(tmp_path / "old.npz")
    assert before.final_position.shape == res.final_position.shape and np.all(np.isnan(before.final_position))
    assert same_bits(before.exit_position, res.exit_position)


def test_load_rejects_other_npz(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, header=np.array('{"format": "something-else"}'))
    with pytest.raises(ValueError, match="not an escapade result"):
        escapade.load(path)


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    res = small_result()
    df = res.to_pandas()
    assert isinstance(df, pd.DataFrame)
    # the target is a Box: the region and face each path ended by come last
    assert list(df.columns) == ["status", "exit_time", "exit_step", "x0", "x1", "final_x0", "final_x1",
                                "exit_region", "exit_face"]
    assert list(df["exit_region"].cat.categories) == ["stop", "target"]
    np.testing.assert_array_equal(df["exit_region"].cat.codes.to_numpy(), res.exit_region)
    assert len(df) == res.n_paths
    assert df.index.name == "path"
    assert list(df["status"].cat.categories) == ["EXITED", "HIT", "CENSORED", "DIVERGED", "CONVERGED", "SINGULAR"]
    np.testing.assert_array_equal(df["status"].cat.codes.to_numpy(), res.status)
    np.testing.assert_array_equal(df["exit_time"].to_numpy(), res.exit_time)
    np.testing.assert_array_equal(df["exit_step"].to_numpy(), res.exit_step)
    np.testing.assert_array_equal(df[["x0", "x1"]].to_numpy(), res.exit_position)
    np.testing.assert_array_equal(df[["final_x0", "final_x1"]].to_numpy(), res.final_position)
    assert df.attrs["seed"] == res.seed and df.attrs["version"] == res.version


def test_status_codes_agree_with_core():
    for s in Status:
        assert int(getattr(_core.Status, s.name)) == s.value
    assert [s.name for s in Status] == ["EXITED", "HIT", "CENSORED", "DIVERGED", "CONVERGED", "SINGULAR"]
    assert int(_core.Status.RUNNING) not in [s.value for s in Status]


def test_params_record_the_problem():
    res = small_result()
    p = res.params
    assert p["landscape"] == {"type": "Quadratic", "H": [[1.0, 0.2], [0.2, 0.5]], "center": [0.0, 0.0]}
    assert p["dynamics"] == {"type": "Langevin", "dt": 0.01, "temperature": 0.2, "eps": None, "S": None}
    assert p["stop"] == {"type": "Ball", "center": [0.0, 0.0], "radius": 1.0}
    assert p["target"]["type"] == "Box"
    assert p["x0"] == {"type": "UniformBall", "center": [0.0, 0.0], "radius": 0.3}
    assert p["n_paths"] == 300 and p["max_steps"] == 400 and p["t_max"] is None


@pytest.mark.parametrize("dynamics, bridge", [
    (Langevin(temperature=0.1, dt=0.01), True),
    (Langevin(eps=0.3, S="hessian", dt=0.01), False),  # state-dependent noise: exits at the steps
    (escapade.LevyLangevin(alpha=1.5, scale=0.1, dt=0.01), False),
    (escapade.GD(lr=0.1), False),
])
def test_params_record_whether_the_bridge_test_ran(dynamics, bridge):
    res = simulate(DoubleWell(), dynamics, x0=[-1.0], stop=HalfSpace([1.0]), n_paths=5, max_steps=50, seed=0)
    assert res.params["bridge"] is bridge
    off = simulate(DoubleWell(), dynamics, x0=[-1.0], stop=HalfSpace([1.0]), n_paths=5, max_steps=50, seed=0,
                   bridge=False)
    assert off.params["bridge"] is False
    if not bridge:  # the request changes nothing where there is no bridge test
        np.testing.assert_array_equal(res.exit_time, off.exit_time)


def test_statistics_saved_before_the_singular_status_still_load():
    old = {"counts": [1, 2, 3, 0, 0], "n_stopped": 3, "mean": 1.0, "m2": 0.5, "total_time": 3.0, "censored_time": 9.0}
    stats = ExitStats.from_dict(old)
    assert stats.counts == (1, 2, 3, 0, 0, 0)
    assert stats.summary().counts["SINGULAR"] == 0


def test_params_record_the_paths_recorded():
    # record_paths above n_paths records every path: params say so (they said 10 for 5 trajectories).
    land, dyn = DoubleWell(), Langevin(temperature=1 / 16, dt=1e-2)
    for keep in ("paths", "summary"):
        res = simulate(land, dyn, x0=[-1.0], stop=HalfSpace([1.0]), n_paths=5, t_max=0.1, seed=0, record_paths=10,
                       keep=keep)
        assert res.params["record_paths"] == 5 and len(res.trajectories) == 5


def test_count_takes_a_status_its_code_or_name_and_refuses_others():
    res = small_result()
    for r in (res, small_result(keep="summary")):
        n = r.count(Status.EXITED)
        assert r.count(0) == r.count("EXITED") == r.count("exited") == n > 0
        for bad in ("FOO", 17, -1, True, 1.5, None):
            with pytest.raises(ValueError, match=r"status must be one of \['EXITED', 'HIT'"):
                r.count(bad)


def test_exit_stats_merge_means_far_apart():
    # delta**2 raised OverflowError for means over 1e154 apart; the spread is now inf, as numpy's.
    a = ExitStats(counts=(1, 0, 0, 0, 0, 0), n_stopped=1, mean=1.0, m2=0.0, total_time=1.0, censored_time=0.0)
    b = ExitStats(counts=(1, 0, 0, 0, 0, 0), n_stopped=1, mean=1e300, m2=0.0, total_time=1e300, censored_time=0.0)
    merged = a.merge(b)
    assert merged.n_stopped == 2 and merged.mean == 5e299 and merged.m2 == math.inf
    empty = ExitStats(counts=(0,) * 6, n_stopped=0, mean=0.0, m2=0.0, total_time=0.0, censored_time=0.0)
    assert empty.merge(b).mean == 1e300 and empty.merge(b).m2 == b.merge(empty).m2 == 0.0


def _hostile_files():
    """(name, header or None, arrays): result files that are damaged or were never escapade's."""
    n = 10
    good = dict(status=np.zeros(n, np.int8), exit_time=np.ones(n), exit_step=np.ones(n, np.int64),
                exit_position=np.zeros((n, 1)), final_position=np.zeros((n, 1)))
    base = dict(kind="paths", params={}, seed=0, version="0", elapsed=0.0, total_steps=n)
    stats = dict(counts=[n, 0, 0, 0, 0, 0, 0], n_stopped=n, mean=1.0, m2=0.0, total_time=float(n), censored_time=0.0)
    return [
        ("no kind", {k: v for k, v in base.items() if k != "kind"}, good),
        ("no seed", {k: v for k, v in base.items() if k != "seed"}, good),
        ("a list", [1, 2], good),
        ("unknown kind", {**base, "kind": "weird"}, good),
        ("empty estimate", {"kind": "estimate", "estimate": {}}, {}),
        ("sweep of an int", {"kind": "sweep", "grid": {}, "points": [], "results": 5}, {}),
        ("short status", base, {**good, "status": np.zeros(3, np.int8)}),
        ("bad status codes", base, {**good, "status": np.full(n, 42, np.int8)}),
        ("positions of another dimension", base, {**good, "exit_position": np.zeros((n, 3))}),
        ("string times", base, {**good, "exit_time": np.array(["1"] * n)}),
        ("negative counts", {**base, "kind": "summary", "exit_stats": {**stats, "counts": [-5, 0, 0, 0, 0, 0, 0]}}, {}),
        ("negative m2", {**base, "kind": "summary", "exit_stats": {**stats, "m2": -1.0}}, {}),
        ("fractional seed", {**base, "seed": 1.5}, good),
        ("seed as text", {**base, "seed": "7"}, good),
        ("seed as a bool", {**base, "seed": True}, good),
        ("negative seed", {**base, "seed": -5}, good),
        ("version as a number", {**base, "version": 123}, good),
        ("params as a list", {**base, "params": [1, 2]}, good),
        ("fractional total_steps", {**base, "total_steps": 3.9}, good),
        ("elapsed as text", {**base, "elapsed": "nan"}, good),
        ("float exit steps", base, {**good, "exit_step": np.ones(n)}),
        ("half-precision times", base, {**good, "exit_time": np.ones(n, np.float16)}),
        ("unsigned status", base, {**good, "status": np.zeros(n, np.uint64)}),
        ("exit faces the run has not", base, {**good, "exit_face": np.full(n, 3, np.int32)}),
        ("a score without its times", base, {**good, "score_sum": np.zeros((n, 1))}),
        ("an exit without its time", base, {**good, "exit_time": np.r_[np.nan, np.ones(n - 1)]}),
        ("a repeated key", json.dumps({"format": "escapade-result-1", **base})[:-1] + ', "seed": 9}', good),
        ("nested 100000 deep", json.dumps({"format": "escapade-result-1", **base})[:-1]
         + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}", good),
        ("a sweep short of its grid", {"kind": "sweep", "grid": {"a": [1, 2]}, "points": [{"a": 1}],
                                       "results": [base]}, {f"p0/{k}": v for k, v in good.items()}),
        ("a sweep with a point's arrays left over", {"kind": "sweep", "grid": {"a": [1]}, "points": [{"a": 1}],
                                                     "results": [base]},
         {**{f"p0/{k}": v for k, v in good.items()}, **{f"p1/{k}": v for k, v in good.items()}}),
    ]


@pytest.mark.parametrize("name, header, arrays", _hostile_files(), ids=[c[0] for c in _hostile_files()])
def test_load_names_a_damaged_or_foreign_file(tmp_path, name, header, arrays):
    """Nothing in a result file is trusted: every inconsistency is a ValueError naming the file, at load, not an
    IndexError or a nonsense summary later."""

    path = tmp_path / "result.npz"
    if isinstance(header, dict):
        header = {"format": "escapade-result-1", **header}
    np.savez(path, header=np.array(header if isinstance(header, str) else json.dumps(header)), **arrays)
    with pytest.raises(ValueError, match=f"{path}"):
        escapade.load(path)


def _estimate_dict(**changes):
    level = dict(dt=0.1, n_paths=10, path_steps=100, value=1.0, stderr=0.1, censored=0, diverged=0, elapsed=0.1)
    d = dict(quantity="mean_exit_time", value=1.0, interval=[0.8, 1.2], confidence=0.95, stderr=0.1, bias=0.0,
             bias_stderr=0.0, extrapolated=1.0, extrapolated_stderr=0.1, half_width_statistical=0.2,
             half_width_bias=0.0, rtol=0.1, reached=True, message="target reached", notes=["a note"], levels=[level],
             n_paths=10, path_steps=100, elapsed=0.1, params={}, seed=1, version="0")
    return {**d, **changes}


@pytest.mark.parametrize("changes", [dict(value="abc"), dict(value=[1, 2]), dict(interval=[0, 1, 2]),
                                     dict(reached="no"), dict(seed=1.5), dict(params=[1]), dict(notes="abc"),
                                     dict(levels=[dict(dt="x")]), dict(levels="x")])
def test_an_estimate_file_with_a_field_of_another_type_is_refused(tmp_path, changes):

    path = tmp_path / "estimate.npz"
    good = {"format": "escapade-result-1", "kind": "estimate", "estimate": _estimate_dict()}
    np.savez(path, header=np.array(json.dumps(good)))
    assert escapade.load(path).notes == ("a note",)
    np.savez(path, header=np.array(json.dumps({**good, "estimate": _estimate_dict(**changes)})))
    with pytest.raises(ValueError, match=f"{path} is not a readable .*must be"):
        escapade.load(path)


@pytest.mark.parametrize("key, value", [("run_status", [300]), ("run_reached", [1.7]), ("n_runs", "1"),
                                        ("run_steps", [1, 2])])
def test_a_splitting_file_with_runs_of_another_type_is_refused(tmp_path, key, value):

    runs = dict(run_probability=[0.5], run_log_weight=[-0.7], run_reached=[1], run_iterations=[3], run_killed=[2],
                run_steps=[100], run_status=[0], run_reactive_time=[None])
    d = _estimate_dict(quantity="probability", log_probability=-0.7, n_replicas=4, n_runs=1, test="bridge",
                       censored=0, diverged=0, **runs)
    path = tmp_path / "splitting.npz"
    np.savez(path, header=np.array(json.dumps({"format": "escapade-result-1", "kind": "splitting", "estimate": d})))
    assert escapade.load(path).run_status.tolist() == [0]
    d[key] = value
    np.savez(path, header=np.array(json.dumps({"format": "escapade-result-1", "kind": "splitting", "estimate": d})))
    with pytest.raises(ValueError, match=f"{path} is not a readable .*{key}"):
        escapade.load(path)


def test_an_array_declared_larger_than_its_file_is_refused_unread(tmp_path):
    """A 1 KB file may declare an array of 1e10 numbers: numpy would allocate 80 GB before finding it short."""
    import io
    import zipfile

    path = tmp_path / "result.npz"
    res = small_result()
    res.save(path)
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)})
    npy.write(b"\0" * 64)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members["exit_time.npy"] = npy.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match=r"exit_time.*shape \(10000000000,\), more than its"):
        escapade.load(path)
    assert json.loads(str(np.load(path)["header"]))["seed"] == res.seed


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_not_opened(tmp_path):
    """Opening a FIFO blocks until someone writes to it: load refuses anything but a regular file (in a
    subprocess, so that a regression fails instead of hanging)."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "result.npz"
    os.mkfifo(fifo)
    code = f"import escapade\ntry:\n    escapade.load({str(fifo)!r})\nexcept ValueError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "is not a regular file" in out.stdout, out.stderr


def test_save_to_a_device_or_a_fifo_is_refused_naming_the_path(tmp_path):
    """An .npz's writer seeks back in its file: /dev/null (whose position stays 0) gave a raw struct.error, and a
    FIFO would block until someone reads it. Both are refused before opening, naming the path."""
    import os

    res = small_result()
    targets = ["/dev/null"] if os.path.exists("/dev/null") else []
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.npz")
        targets.append(str(tmp_path / "fifo.npz"))
    for target in targets:
        with pytest.raises(ValueError, match=f"path='{target}' is not a regular file"):
            res.save(target)
    with pytest.raises(IsADirectoryError):  # a directory: open's own error, naming it
        res.save(tmp_path)


@pytest.mark.parametrize("content", [b"", b"not a zip file at all" * 10])
def test_load_of_garbage_bytes_names_the_file(tmp_path, content):
    path = tmp_path / "result.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{path} is not a readable escapade result file"):
        escapade.load(path)
    with pytest.raises(FileNotFoundError):
        escapade.load(tmp_path / "missing.npz")


def test_finite_difference_sensitivities_survive_save_and_load(tmp_path):
    """fd_status and fd_exit_time are (parameters, 4 runs, paths): load checks them by their last axis."""
    res = escapade.simulate(escapade.DoubleWell(), escapade.Langevin(0.25, dt=0.01), x0=[-1.0],
                            stop=escapade.HalfSpace([1.0], 0.0), n_paths=50, t_max=5.0, seed=0, threads=1,
                            progress=False, sensitivities=["dynamics.temperature"], sensitivity_method="fd")
    assert res.fd_status.shape == (1, 4, 50)
    res.save(tmp_path / "fd.npz")
    back = escapade.load(tmp_path / "fd.npz")
    np.testing.assert_array_equal(back.fd_status, res.fd_status)
    np.testing.assert_array_equal(back.fd_exit_time, res.fd_exit_time)


def test_checked_npz_reads_arrays_as_numpy_does(tmp_path):
    """The .npz reader that checks each array's declared size reads the data itself (numpy's own reader looks
    every name up in a list, quadratic in a large sweep's 1e5 arrays): same values, dtype, byte order and layout."""
    from escapade.results import open_npz

    arrays = {"c": np.arange(12.0).reshape(3, 4), "f": np.asfortranarray(np.arange(6).reshape(2, 3)),
              "big": np.arange(5, dtype=">i4"), "empty": np.zeros((0, 2)), "flags": np.array([True, False])}
    np.savez_compressed(tmp_path / "a.npz", **arrays)
    with open(tmp_path / "a.npz", "rb") as fh, open_npz(fh) as data:
        assert data.files == set(arrays)
        for name, want in arrays.items():
            got = data[name]
            assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), name
            got[...] = 0  # writable, as numpy's arrays are


def test_recorded_paths_with_a_gap_are_refused(tmp_path):
    """A file whose recorded paths skip a number is damaged: refused by name, not read short."""
    res = escapade.simulate(escapade.DoubleWell(), escapade.Langevin(temperature=0.25, dt=0.01), x0=[-1.0],
                            stop=escapade.HalfSpace([1.0], 0.0), n_paths=4, t_max=1.0, seed=0, record_paths=3)
    res.save(tmp_path / "r.npz")
    with np.load(tmp_path / "r.npz") as data:
        arrays = {k: data[k] for k in data.files if not k.endswith("_1")}
    np.savez(tmp_path / "gap.npz", **arrays)
    with pytest.raises(ValueError, match="not numbered 0 to 1"):
        escapade.load(tmp_path / "gap.npz")
