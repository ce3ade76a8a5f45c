"""Review findings on loading results and rebuilding recorded dynamics: a damaged params header or trajectory is
refused by `load` with a ValueError naming the file and the field (not a KeyError in `summary()` later); a
compression bomb or arrays whose shapes disagree are refused before their data is inflated; a recorded
`to_dict()` of a discrete map or of a ConstrainedFlow rebuilds the same dynamics (`Restart(table, ...)`)."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest

import escapade as esc
from escapade import dynamics as dynamics_module

from conftest import assert_same_arrays, assert_same_trajectories


def _run(**kw):
    args = dict(x0=[-1.0], stop=esc.HalfSpace([1.0]), n_paths=20, t_max=10.0, seed=0, record_paths=2,
                progress=False)
    args.update(kw)
    return esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), **args)


def _members(result, tmp_path):
    path = tmp_path / "orig.npz"
    result.save(path)
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _write(tmp_path, arrays, header=None, name="bad.npz"):
    arrays = dict(arrays)
    if header is not None:
        arrays["header"] = np.array(json.dumps(header))
    path = tmp_path / name
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def _refused(path, *words):
    with pytest.raises(ValueError) as info:
        esc.load(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message
    return message


# ---------------------------------------------------------------------------------------------------------------
# 1. params and trajectories checked in load


def _pop(key):
    return lambda p: p.pop(key)


def _set(key, value):
    return lambda p: p.__setitem__(key, value)


PARAM_EDITS = {
    "no max_steps": (_pop("max_steps"), "params.max_steps"),
    "max_steps a string": (_set("max_steps", "x"), "params.max_steps"),
    "max_steps null": (_set("max_steps", None), "params.max_steps"),
    "dynamics a string": (_set("dynamics", "x"), "params.dynamics"),
    "no dynamics": (_pop("dynamics"), "params.dynamics"),
    "dynamics without dt": (lambda p: p["dynamics"].pop("dt"), "params.dynamics.dt"),
    "dt a list": (lambda p: p["dynamics"].__setitem__("dt", []), "params.dynamics.dt"),
    "dt negative": (lambda p: p["dynamics"].__setitem__("dt", -1), "params.dynamics.dt"),
    "max_time a string": (_set("max_time", "x"), "params.max_time"),
    "record_every 0": (_set("record_every", 0), "params.record_every"),
    "faces not a table": (_set("faces", "x"), "params.faces"),
    "faces out of range": (_set("faces", {"faces": ["a"], "regions": ["r"], "face_region": [3]}), "params.faces"),
    "sensitivities a string": (_set("sensitivities", "x"), "params.sensitivities"),
    "n_paths disagrees": (_set("n_paths", 21), "n_paths"),
}


@pytest.mark.parametrize("edit", list(PARAM_EDITS), ids=list(PARAM_EDITS))
def test_damaged_params_are_refused_by_load(tmp_path, edit):
    change, field = PARAM_EDITS[edit]
    arrays = _members(_run(), tmp_path)
    header = json.loads(str(arrays["header"]))
    change(header["params"])
    _refused(_write(tmp_path, arrays, header), field)


def test_empty_params_are_refused(tmp_path):
    arrays = _members(_run(), tmp_path)
    header = json.loads(str(arrays["header"]))
    header["params"] = {}
    _refused(_write(tmp_path, arrays, header), "params.dynamics")


def test_damaged_params_of_a_summary_and_of_a_sweep_point_are_refused(tmp_path):
    arrays = _members(_run(keep="summary"), tmp_path)
    header = json.loads(str(arrays["header"]))
    del header["params"]["max_steps"]
    _refused(_write(tmp_path, arrays, header), "params.max_steps")
    sweep = esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.25, dt=1e-2), grid={"stop.offset": [-0.5, 0.0]},
                      x0=[-1.0], stop=esc.HalfSpace([1.0]), n_paths=20, t_max=10.0, seed=0, progress=False)
    arrays = _members(sweep, tmp_path)
    # a point's own entry, and one its points share (written once under shared_params: every point lacks it)
    header = json.loads(str(arrays["header"]))
    header["results"][1]["params"]["stop"] = "x"  # its offset is its own, the rest shared: given twice
    _refused(_write(tmp_path, arrays, header), "p1", "params.stop is given both")
    header = json.loads(str(arrays["header"]))
    header["results"][1]["params"]["dynamics"] = "x"
    _refused(_write(tmp_path, arrays, header), "p1", "params.dynamics is given both")
    header = json.loads(str(arrays["header"]))
    header["shared_params"].pop("max_steps")
    _refused(_write(tmp_path, arrays, header), "p0", "params.max_steps")
    header = json.loads(str(arrays["header"]))
    header["shared_params"]["dynamics"] = "x"
    _refused(_write(tmp_path, arrays, header), "p0", "params.dynamics")


def test_results_with_params_that_pass_work_in_full(tmp_path):
    """What load accepts, summary(), stats(), repr() and the faces can use: a run with exit faces and one with
    score sensitivities load back the same."""
    boxed = _run(stop=esc.Box([-2.0], [0.0]), n_paths=30)
    boxed.save(tmp_path / "box.npz")
    back = esc.load(tmp_path / "box.npz")
    assert_same_arrays(back, boxed)
    assert back.summary() == boxed.summary() and repr(back) == repr(boxed)
    assert back.exit_fractions() == boxed.exit_fractions()
    scored = _run(sensitivities=["dynamics.temperature"], n_paths=30)
    scored.save(tmp_path / "score.npz")
    back = esc.load(tmp_path / "score.npz")
    np.testing.assert_array_equal(back.score_sum, scored.score_sum)
    est = back.sensitivity("exit_probability", "dynamics.temperature")
    assert est.value == scored.sensitivity("exit_probability", "dynamics.temperature").value


def test_score_columns_must_match_the_sensitivities(tmp_path):
    arrays = _members(_run(sensitivities=["dynamics.temperature"], n_paths=30), tmp_path)
    header = json.loads(str(arrays["header"]))
    header["params"]["sensitivities"] = []
    _refused(_write(tmp_path, arrays, header), "score_sum")
    arrays = {k: v for k, v in arrays.items() if k not in ("score_sum", "score_time")}
    _refused(_write(tmp_path, arrays), "score_sum")


@pytest.mark.parametrize("t, x, field", [
    (np.array(["a", "b"]), np.array([["c"], ["d"]]), "trajectory_t_0"),
    (np.arange(3.0), np.array([["c"], ["d"], ["e"]]), "trajectory_x_0"),
    (np.arange(3.0), np.zeros((2, 1)), "trajectory_x_0"),      # one row per time
    (np.arange(3.0), np.zeros((3, 2)), "trajectory_x_0"),      # the run's dimension (1)
    (np.arange(3, dtype=np.int64), np.zeros((3, 1)), "trajectory_t_0"),
    (np.zeros((3, 1)), np.zeros((3, 1)), "trajectory_t_0"),
])
def test_damaged_trajectories_are_refused(tmp_path, t, x, field):
    for keep in ("paths", "summary"):
        arrays = _members(_run(keep=keep), tmp_path)
        arrays["trajectory_t_0"], arrays["trajectory_x_0"] = t, x
        if keep == "summary" and field == "trajectory_x_0" and x.dtype == np.float64 and x.shape[1] == 2:
            arrays["trajectory_x_1"] = np.zeros((arrays["trajectory_t_1"].size, 2))  # both of dimension 2: fine
            esc.load(_write(tmp_path, arrays)).summary()
            continue
        _refused(_write(tmp_path, arrays), field)


# ---------------------------------------------------------------------------------------------------------------
# 2. compression bombs and inconsistent shapes refused before the data is inflated


def _peak_of_load(path):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            esc.load(path)
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def test_a_long_trajectory_beside_a_short_position_array_is_refused_before_reading(tmp_path):
    arrays = _members(_run(), tmp_path)
    arrays["trajectory_t_0"], arrays["trajectory_x_0"] = np.zeros(4_000_000), np.zeros((1, 1))  # 32 MB of times
    path = _write(tmp_path, arrays)
    peak, message = _peak_of_load(path)
    assert "trajectory_" in message and str(path) in message
    assert peak < 8_000_000


def test_a_trajectory_longer_than_the_run_records_is_refused(tmp_path):
    res = _run(record_every=10)  # at most 1000 // 10 + 2 records
    arrays = _members(res, tmp_path)
    n = 500
    arrays["trajectory_t_0"], arrays["trajectory_x_0"] = np.arange(n) * 0.01, np.zeros((n, 1))
    _refused(_write(tmp_path, arrays), "trajectory_t_0", "record_every")
    header = json.loads(str(arrays["header"]))
    header["params"]["record_paths"] = 1  # the file holds 2
    arrays = _members(res, tmp_path)
    _refused(_write(tmp_path, arrays, header), "record_paths")


def test_a_compression_bomb_of_times_is_refused_before_it_is_inflated(tmp_path):
    """Without the counts that bound a recording (record_every, record_paths taken out, max_steps raised), a time
    array of zeros that deflates 1000-fold is no run's times: refused before it is inflated."""
    arrays = _members(_run(), tmp_path)
    header = json.loads(str(arrays["header"]))
    for key in ("record_every", "record_paths"):
        del header["params"][key]
    header["params"]["max_steps"] = 10**12
    n = 4_000_000
    arrays["trajectory_t_0"], arrays["trajectory_x_0"] = np.zeros(n), np.zeros((n, 1))
    path = _write(tmp_path, arrays, header)
    assert path.stat().st_size < 200_000  # 64 MB declared
    peak, message = _peak_of_load(path)
    assert "trajectory_t_0" in message and "compress" in message
    assert peak < 8_000_000


def test_members_claiming_more_than_the_file_holds_are_refused(tmp_path):
    from escapade.results import CheckedNpz

    class Info:
        def __init__(self, offset, size):
            self.header_offset, self.compress_size = offset, size

    class Zip:
        def __init__(self, infos):
            self.infos = infos

        def infolist(self):
            return self.infos

        def namelist(self):
            return [f"m{i}" for i in range(len(self.infos))]

    class Data:
        files = []

        def __init__(self, infos):
            self.zip = Zip(infos)

    CheckedNpz(Data([Info(0, 400), Info(450, 400)]), 1000)  # fits
    for infos in ([Info(0, 600), Info(0, 600)], [Info(900, 200)]):  # overlapping, past the end
        with pytest.raises(ValueError, match="more compressed data"):
            CheckedNpz(Data(infos), 1000)


def test_long_recordings_of_real_data_still_load(tmp_path):
    """Legitimate large files: a Langevin path recorded over 300,000 steps (noisy positions), and gradient descent
    recorded over 300,000 iterations after it has converged (its positions constant, deflating ~1000-fold: only
    the times' compression is bounded)."""
    lang = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.01, dt=1e-3), x0=[-1.0],
                        stop=esc.HalfSpace([1.0]), n_paths=1, max_steps=300_000, seed=1, record_paths=1,
                        progress=False)
    gd = esc.simulate(esc.DoubleWell(), esc.GD(0.1), x0=[-1.2], stop=esc.HalfSpace([1.0]), n_paths=1,
                      max_steps=300_000, seed=1, record_paths=1, progress=False)
    for res in (lang, gd):
        assert res.trajectories[0][0].nbytes > 2**21
        res.save(tmp_path / "long.npz")
        back = esc.load(tmp_path / "long.npz")
        assert_same_arrays(back, res)
        assert_same_trajectories(back, res)


# ---------------------------------------------------------------------------------------------------------------
# 3. recorded tables of discrete maps and ConstrainedFlow rebuild the same dynamics


@pytest.mark.parametrize("dynamics", [
    esc.GD(0.1), esc.GD([0.1, 0.2, 0.3]), esc.HeavyBall(0.1), esc.SGLD(0.1, 0.1), esc.AdaGrad(0.1),
    esc.PerturbedGD(0.1, radius=0.01, g_thres=1e-3, f_thres=1e-4, t_thres=20),
    esc.ConstrainedFlow(esc.Parabola(), dt=0.01),
    esc.ConstrainedFlow(esc.Parabola(), dt=0.01, max_step=0.5, forcing=esc.Periodic(1.0, 3.0)),
    esc.Langevin(temperature=0.1, dt=0.01),
], ids=lambda d: type(d).__name__)
def test_a_recorded_table_rebuilds_the_dynamics(dynamics):
    table = dynamics.to_dict()
    again = dynamics_module.dynamics_from_table("dynamics", json.loads(json.dumps(table)))  # as a result file gives it back
    assert type(again) is type(dynamics) and again.to_dict() == table
    restart = esc.Restart(json.loads(json.dumps(table)), period=5.0)
    assert restart.dynamics.to_dict() == table
    assert restart.to_dict() == esc.Restart(dynamics, period=5.0).to_dict()


def test_restart_from_the_recorded_table_of_a_run_runs_the_same(tmp_path):
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0]), n_paths=3, max_steps=10, seed=0, progress=False)
    first = esc.simulate(esc.DoubleWell(), esc.Restart(esc.GD(0.1), period=5.0), **kw)
    first.save(tmp_path / "r.npz")
    recorded = esc.load(tmp_path / "r.npz").params["dynamics"]
    again = esc.simulate(esc.DoubleWell(), esc.Restart(recorded["dynamics"], period=recorded["period"]), **kw)
    assert again.params == first.params
    assert_same_arrays(again, first)


def test_a_recorded_table_must_keep_what_the_class_fixes():
    with pytest.raises(ValueError, match="GD sets dt = 1.0 itself"):
        dynamics_module.dynamics_from_table("dynamics", {**esc.GD(0.1).to_dict(), "dt": 2.0})
    with pytest.raises(ValueError, match="must name its type"):
        esc.Restart({"type": "NoSuchDynamics", "dt": 1.0}, period=5.0)


def test_finite_difference_runs_must_match_the_sensitivities(tmp_path):
    res = _run(sensitivities=["dynamics.temperature"], sensitivity_method="fd", n_paths=20, t_max=5.0)
    arrays = _members(res, tmp_path)
    assert esc.load(_write(tmp_path, arrays)).fd_status.shape == (1, 4, 20)
    header = json.loads(str(arrays["header"]))
    header["params"]["sensitivities"][0]["fd_index"] = 3
    _refused(_write(tmp_path, arrays, header), "fd_index")
    header["params"]["sensitivities"][0]["fd_index"] = "0"
    _refused(_write(tmp_path, arrays, header), "params.sensitivities[0]")
    _refused(_write(tmp_path, {k: v for k, v in arrays.items() if not k.startswith("fd_")}), "fd_status")


def test_a_member_whose_compression_method_is_damaged_gives_a_value_error(tmp_path):
    """A bit flip that makes a member read as bzip2 makes the decompressor raise OSError (no errno): a damaged
    file, not a failure to read the disk."""
    import struct

    path = tmp_path / "r.npz"
    _run().save(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")  # the central directory: set the first member's method to bzip2 (12)
    assert struct.unpack_from("<H", data, at + 10)[0] == 8
    struct.pack_into("<H", data, at + 10, 12)
    path.write_bytes(bytes(data))
    _refused(path, "not a readable escapade result file")


def test_a_header_beyond_the_memory_limit_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    """A small file whose JSON header is padded with spaces (16 M characters deflate to about 16 KB, 64 MB as
    numpy's text) is refused by the memory limit before it is read, as every other array a file declares."""
    arrays = _members(_run(), tmp_path)
    arrays["header"] = np.array(str(arrays["header"]) + " " * (16 * 2**20))
    path = _write(tmp_path, arrays)
    assert path.stat().st_size < 500_000
    assert isinstance(esc.load(path), esc.SimulationResult)  # the padding is harmless JSON
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "100M")
    peak, message = _peak_of_load(path)
    assert "header declares 64.0 MiB of text" in message and "memory limit" in message
    assert peak < 8_000_000


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_exit_times_are_refused(tmp_path, value):
    arrays = _members(_run(), tmp_path)
    stopped = np.flatnonzero(np.isin(arrays["status"], [esc.Status.EXITED, esc.Status.HIT]))
    arrays["exit_time"] = arrays["exit_time"].copy()
    arrays["exit_time"][stopped[0]] = value
    _refused(_write(tmp_path, arrays), "exit_time must be a finite time >= 0")


@pytest.mark.parametrize("field, value", [("mean", float("nan")), ("m2", float("nan")), ("total_time", -math.inf),
                                          ("mean", -1.0), ("censored_time", -1.0)])
def test_nan_or_negative_summary_statistics_are_refused(tmp_path, field, value):
    """NaN or negative exit statistics are no run's. (+inf is: m2 and the totals of exit times near 1e300 overflow,
    and such a summary saves and loads.)"""
    path = tmp_path / "summary.npz"
    _run(keep="summary", record_paths=0).save(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    header["exit_stats"][field] = value
    _refused(_write(tmp_path, arrays, header), "exit statistics must hold")


def test_a_summary_whose_sums_overflowed_saves_and_loads(tmp_path):
    """Exit times near 1e299 (a plane 1e150 away, one step of dt = 1e300): m2 overflows to inf in the summary,
    which loads back."""
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(temperature=0.1, dt=1e300), x0=[0.0],
                       stop=esc.HalfSpace([1.0], 1e150), n_paths=200, max_steps=1, seed=0, keep="summary",
                       divergence_bound=math.inf)
    assert math.isinf(res.exit_stats.m2)
    res.save(tmp_path / "s.npz")
    back = esc.load(tmp_path / "s.npz")
    assert back.exit_stats == res.exit_stats
