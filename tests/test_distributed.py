"""Chunked execution: Dask clusters, the checkpoint store with resume, keep="summary" and sweeps.

Path i depends only on (seed, i), so any cut of the path range, run anywhere and in any order, must merge into
the very bits of one local run.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

# A scheduler serves its HTTP routes on port 8787 even without a dashboard; when another cluster on the machine
# holds that port, it warns, moves to a free port and leaves the socket of the failed attempt to the collector.
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:Port \d+ is already in use:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"),
]

import escapade  # noqa: E402
import escapade._execute as execute_module  # noqa: E402
from escapade import (  # noqa: E402
    DoubleWell,
    ExitStats,
    HalfSpace,
    Langevin,
    Quadratic,
    SimulationResult,
    Status,
    SummaryResult,
    SweepResult,
    UniformBall,
    simulate,
    sweep,
)

RESULT_ARRAYS = ("status", "exit_time", "exit_step", "exit_position")
N_PATHS = 3000
SEED = 2024
W1 = dict(
    landscape=DoubleWell(),
    dynamics=Langevin(temperature=1 / 16, dt=1e-2),
    x0=[-1.0],
    stop=HalfSpace([1.0], 0.0),
    t_max=1e4,
)


def w1(**overrides):
    """The W1 double well (escape from x = -1 over the barrier at 0), with some arguments replaced."""
    args = dict(W1, n_paths=N_PATHS, seed=SEED, progress=False)
    args.update(overrides)
    return simulate(args.pop("landscape"), args.pop("dynamics"), **args)


def same_bits(x, y):
    return x.dtype == y.dtype and x.shape == y.shape and np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(
        y
    ).tobytes()


def assert_same_trajectories(a, b):
    assert len(a.trajectories) == len(b.trajectories)
    for i, ((t, x), (tb, xb)) in enumerate(zip(a.trajectories, b.trajectories)):
        assert same_bits(t, tb), f"trajectory {i}: times differ"
        assert same_bits(x, xb), f"trajectory {i}: states differ"


def assert_same_result(a, b):
    """Bit for bit the same run: per-path arrays, trajectories, step count and provenance."""
    assert type(a) is type(b)
    for name in RESULT_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        if not same_bits(x, y):
            if x.dtype.kind == "f":
                bad = np.nonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))[0]
            else:
                bad = np.nonzero(x != y)[0]
            pytest.fail(f"{name} differs for {bad.size} paths, first rows {bad[:10].tolist()}")
    assert_same_trajectories(a, b)
    assert a.total_steps == b.total_steps
    assert without_lanes(a.params) == without_lanes(b.params)
    assert (a.seed, a.version) == (b.seed, b.version)


def without_lanes(params):
    """The recorded parameters but `lanes`, which changes how the engine runs, not the numbers."""
    return {k: v for k, v in params.items() if k != "lanes"}


def assert_same_summary(s, ref, rel=1e-12):
    """Counts exactly equal, the statistics to rounding (NaN and inf where the reference has them)."""
    assert s.n_paths == ref.n_paths
    assert s.counts == ref.counts
    assert s.censored_fraction == ref.censored_fraction
    for name in ("mean", "stderr", "mean_lower_bound", "exponential_mean"):
        got, want = getattr(s, name), getattr(ref, name)
        if math.isfinite(want):
            assert got == pytest.approx(want, rel=rel, abs=0), name
        else:
            assert (math.isnan(got) and math.isnan(want)) or got == want, f"{name}: {got} != {want}"


def chunk_files(store):
    return sorted(p.name for p in store.glob("chunk-*.npz"))


def file_ids(store):
    """(inode, mtime) of every chunk file: a chunk written again (atomically, by rename) changes both."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store.glob("chunk-*.npz")}


@pytest.fixture
def count_chunks(monkeypatch):
    """Counts the chunks run in this process (the local path calls escapade._execute.run_chunk per chunk)."""
    calls = []
    original = execute_module.run_chunk

    def counting(job, first, n, *args, **kwargs):
        calls.append((first, n))
        return original(job, first, n, *args, **kwargs)

    monkeypatch.setattr(execute_module, "run_chunk", counting)
    return calls


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    dask_client = distributed.Client(cluster)
    try:
        yield dask_client
    finally:
        dask_client.close()
        cluster.close()


@pytest.fixture(scope="module")
def w1_local():
    """The reference: one unchunked local run of W1, recording trajectories that span several chunks."""
    return w1(threads=2, record_paths=1100, record_every=2000)


# ---------------------------------------------------------------------------------------------------------------
# Distributed runs equal local runs


def test_cluster_has_two_single_threaded_workers(client):
    assert sorted(client.nthreads().values()) == [1, 1]


@pytest.mark.parametrize("chunk_size", [None, 250, 1999], ids=lambda c: f"chunk_size={c}")
def test_w1_distributed_equals_local(client, w1_local, chunk_size):
    res = w1(client=client, chunk_size=chunk_size, record_paths=1100, record_every=2000)
    assert isinstance(res, SimulationResult)
    assert res.n_paths == N_PATHS
    # the trajectories come from more than one chunk: the default size on 2 worker threads is 1000 paths
    assert len(execute_module.plan(N_PATHS, chunk_size, 2)) > 1
    assert len(res.trajectories) == 1100
    assert_same_result(w1_local, res)
    assert res.count(Status.EXITED) == N_PATHS


def test_w1_distributed_with_more_engine_threads_per_task(client, w1_local):
    res = w1(client=client, chunk_size=700, threads=2, lanes=16, record_paths=1100, record_every=2000)
    assert_same_result(w1_local, res)


def test_distributed_sampler_start(client):
    kw = dict(x0=UniformBall([-1.0], 0.3), record_paths=9, record_every=100)
    local = w1(threads=2, **kw)
    remote = w1(client=client, chunk_size=4, n_paths=40, **kw)
    assert_same_result(w1(threads=1, n_paths=40, **kw), remote)
    res = w1(client=client, chunk_size=600, **kw)
    assert_same_result(local, res)
    assert len(np.unique(res.exit_step)) > 100  # the starts really differ from path to path


def test_distributed_points_start(client):
    rng = np.random.default_rng(3)
    points = rng.uniform(-1.3, -0.7, size=(N_PATHS + 500, 1))
    for n_paths in (None, N_PATHS):  # all rows, or the first n_paths of them
        local = w1(x0=points, n_paths=n_paths, threads=2, record_paths=5, record_every=500)
        res = w1(x0=points, n_paths=n_paths, client=client, chunk_size=400, record_paths=5, record_every=500)
        assert_same_result(local, res)
        assert res.n_paths == (n_paths or len(points))
        for (t, x), x0 in zip(res.trajectories, points):
            assert t[0] == 0.0 and x[0, 0] == x0[0]


def test_distributed_summary_equals_local_summary(client):
    kw = dict(t_max=100.0, record_paths=3, record_every=1000)  # censors a good part of the paths
    full = w1(threads=2, **kw)
    res = w1(client=client, chunk_size=300, keep="summary", **kw)
    assert isinstance(res, SummaryResult)
    assert 0 < full.count(Status.CENSORED) < N_PATHS
    assert_same_summary(res.summary(), full.summary())
    assert res.n_paths == N_PATHS
    assert all(res.count(s) == full.count(s) for s in Status)
    assert res.total_steps == full.total_steps
    assert_same_trajectories(full, res)
    assert res.params == full.params and res.seed == full.seed
    # the same chunks merged in the same order: the very same statistics as a local chunked run
    local = w1(chunk_size=300, keep="summary", **kw)
    assert res.exit_stats == local.exit_stats
    default = w1(client=client, keep="summary", **kw)
    assert_same_summary(default.summary(), full.summary())


def test_store_finished_on_the_cluster(client, tmp_path, w1_local):
    """Chunks written locally and chunks run on the cluster merge into the local result."""
    store = tmp_path / "store"
    kw = dict(chunk_size=500, record_paths=1100, record_every=2000, store=store)
    assert_same_result(w1_local, w1(**kw))
    files = chunk_files(store)
    assert len(files) == 6
    (store / files[1]).unlink()
    (store / files[4]).unlink()
    kept = file_ids(store)
    res = w1(client=client, **kw)
    assert_same_result(w1_local, res)
    assert chunk_files(store) == files
    after = file_ids(store)
    assert {k: after[k] for k in kept} == kept  # the chunks found in the store were not run again
    again = w1(client=client, **kw)
    assert file_ids(store) == after
    assert_same_result(w1_local, again)


def test_client_whose_workers_have_not_joined_yet():
    """A cluster still starting (no worker yet) runs the chunks once workers join, with the default chunk size."""
    with distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as fresh:
        assert fresh.nthreads() == {}
        cluster.scale(1)
        res = w1(n_paths=500, t_max=100.0, client=fresh)
    assert_same_result(w1(n_paths=500, t_max=100.0), res)


def test_store_resumes_on_a_cluster_of_another_size(client, tmp_path):
    """A checkpointed run killed on a 2-worker cluster resumes with the same call on a cluster that lost a worker."""
    store = tmp_path / "store"
    kw = dict(n_paths=20_000, t_max=0.5, store=store)  # more paths than 1000 per chunk on either cluster
    first = w1(client=client, **kw)
    files = chunk_files(store)
    assert len(files) > 2
    for name in files[1::2]:
        (store / name).unlink()
    kept = file_ids(store)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as smaller:
        resumed = w1(client=smaller, **kw)
    assert_same_result(first, resumed)
    after = file_ids(store)
    assert {k: after[k] for k in kept} == kept


# ---------------------------------------------------------------------------------------------------------------
# Sweeps


SWEEP_GRID = {"dynamics.temperature": [1 / 16, 1 / 10], "bridge": [True, False]}


def run_sweep(**kw):
    args = dict(W1, grid=SWEEP_GRID, n_paths=1000, seed=SEED, record_paths=2, record_every=1000, progress=False)
    args.update(kw)
    return sweep(args.pop("landscape"), args.pop("dynamics"), **args)


def point_by_simulate(point, seed):
    return w1(dynamics=Langevin(temperature=point["dynamics.temperature"], dt=1e-2), bridge=point["bridge"],
              n_paths=1000, seed=seed, record_paths=2, record_every=1000)


@pytest.mark.parametrize("seeds", ["independent", "common"])
def test_sweep_distributed_equals_local(client, seeds):
    local = run_sweep(seeds=seeds, threads=2)
    remote = run_sweep(seeds=seeds, client=client, chunk_size=300)
    assert isinstance(remote, SweepResult)
    assert len(local) == len(remote) == 4
    assert remote.grid == local.grid == {k: list(v) for k, v in SWEEP_GRID.items()}
    expected_points = [{"dynamics.temperature": t, "bridge": b} for t in SWEEP_GRID["dynamics.temperature"]
                       for b in SWEEP_GRID["bridge"]]
    assert remote.points == local.points == expected_points
    for a, b in zip(local, remote):
        assert_same_result(a, b)
    seeds_used = [r.seed for r in remote]
    if seeds == "common":
        assert seeds_used == [SEED] * 4
    else:
        assert len(set(seeds_used)) == 4
    for point, res in zip(remote.points, remote):
        assert res.params["dynamics"]["temperature"] == point["dynamics.temperature"]
        assert res.params["bridge"] is point["bridge"]
        assert_same_result(point_by_simulate(point, res.seed), res)
    means = [r.summary().mean for r in remote]
    assert means[2] < means[0] and means[3] < means[1]  # hotter escapes sooner
    assert means[0] < means[1] and means[2] < means[3]  # the bridge only ends paths earlier


def test_sweep_summary_on_the_cluster(client):
    full = run_sweep(seeds="independent")
    res = run_sweep(seeds="independent", client=client, keep="summary")
    for a, b in zip(full, res):
        assert isinstance(b, SummaryResult)
        assert_same_summary(b.summary(), a.summary())
        assert b.seed == a.seed and b.total_steps == a.total_steps


def test_sweep_to_pandas():
    pytest.importorskip("pandas")
    res = run_sweep(seeds="independent")
    df = res.to_pandas()
    assert len(df) == 4
    assert list(df.columns) == [
        "dynamics.temperature", "bridge", "n_paths", "exited", "hit", "censored", "diverged", "converged", "singular", "mean", "stderr",
        "mean_lower_bound", "exponential_mean", "seed",
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
    back = escapade.load(path)
    assert isinstance(back, SweepResult)
    assert back.grid == res.grid and back.points == res.points
    assert len(back) == len(res)
    for a, b in zip(res, back):
        if keep == "paths":
            assert_same_result(a, b)
        else:
            assert isinstance(b, SummaryResult)
            assert b.exit_stats == a.exit_stats
            assert_same_trajectories(a, b)
            assert (b.params, b.seed, b.version, b.total_steps) == (a.params, a.seed, a.version, a.total_steps)
        assert b.elapsed == a.elapsed
        assert b.summary() == a.summary()


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


def test_sweep_over_numpy_values(tmp_path):
    """Grids built with numpy (np.arange, boolean arrays) give JSON-compatible points that save and load."""
    res = run_sweep(grid={"n_paths": np.arange(100, 301, 100), "bridge": np.array([True, False])}, t_max=50.0)
    assert len(res) == 6
    assert [r.n_paths for r in res] == [100, 100, 200, 200, 300, 300]
    assert [p["n_paths"] for p in res.points] == [100, 100, 200, 200, 300, 300]
    assert [r.params["bridge"] for r in res] == [True, False] * 3
    path = tmp_path / "sweep.npz"
    res.save(path)
    back = escapade.load(path)
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
    back = escapade.load(path)
    assert [np.asarray(p["x0"]).tolist() for p in back.points] == [[-1.0], [-0.5]]
    for a, b in zip(res, back):
        assert_same_result(a, b)


def test_sweep_grid_values_json_cannot_hold_fail_before_running(tmp_path, count_chunks):
    """Points are saved as JSON: a grid value JSON cannot hold is converted, or refused before any path runs."""
    grid = {"stop": [HalfSpace([1.0], 0.0), HalfSpace([1.0], -0.5)]}
    try:
        res = run_sweep(grid=grid, n_paths=200)
    except (TypeError, ValueError) as exc:
        assert count_chunks == [], f"every point ran before the grid was refused: {exc}"
        assert "stop" in str(exc) or "grid" in str(exc)
    else:
        path = tmp_path / "sweep.npz"
        res.save(path)
        assert len(escapade.load(path)) == 2


# ---------------------------------------------------------------------------------------------------------------
# Chunked local runs


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 333, 599, 600, 5000])
def test_chunked_local_equals_unchunked(chunk_size, count_chunks):
    n = 600
    kw = dict(n_paths=n, t_max=200.0, record_paths=5, record_every=50)
    whole = w1(**kw)
    assert count_chunks == [(0, n)]
    count_chunks.clear()
    chunked = w1(chunk_size=chunk_size, threads=1, **kw)
    assert_same_result(whole, chunked)
    assert count_chunks == [(first, min(chunk_size, n - first)) for first in range(0, n, chunk_size)]


# ---------------------------------------------------------------------------------------------------------------
# keep="summary": statistics merged chunk by chunk


def quadratic_unstable(**kw):
    """Escape from the top of an inverted parabola: about half the paths exit at x <= -1, the rest diverge."""
    args = dict(x0=[0.0], stop=HalfSpace([-1.0], 1.0), n_paths=2000, t_max=100.0, divergence_bound=10.0, seed=6,
                progress=False)
    args.update(kw)
    return simulate(Quadratic([[-1.0]]), Langevin(temperature=0.05, dt=1e-2), **args)


SUMMARY_CASES = {
    "w1": lambda **kw: w1(**kw),
    "w1-censored": lambda **kw: w1(t_max=50.0, **kw),
    "w1-all-censored": lambda **kw: w1(t_max=0.25, **kw),  # exit by t = 0.25 needs a 5.7-sigma move
    "diverged": lambda **kw: quadratic_unstable(**kw),
    "all-diverged": lambda **kw: quadratic_unstable(stop=None, **kw),
    "exited-censored-diverged": lambda **kw: quadratic_unstable(t_max=4.0, **kw),
    "exited-hit-censored": lambda **kw: quadratic_unstable(target=HalfSpace([-1.0], -2.0), t_max=3.0, **kw),
}


@pytest.mark.parametrize("chunk_size", [None, 97])
@pytest.mark.parametrize("case", sorted(SUMMARY_CASES))
def test_summary_result_equals_summary_of_the_arrays(case, chunk_size):
    run = SUMMARY_CASES[case]
    full = run(record_paths=3, record_every=10)
    res = run(keep="summary", chunk_size=chunk_size, record_paths=3, record_every=10)
    assert isinstance(res, SummaryResult) and not hasattr(res, "status")
    assert_same_summary(res.summary(), full.summary())
    assert res.n_paths == full.n_paths
    assert [res.count(s) for s in Status] == [full.count(s) for s in Status]
    ref = full.stats()
    got = res.stats()
    assert got.counts == ref.counts and got.n_stopped == ref.n_stopped and got.censored_time == ref.censored_time
    for name in ("mean", "m2", "total_time"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=1e-12, abs=0), name
    assert res.total_steps == full.total_steps
    assert_same_trajectories(full, res)
    assert (res.params, res.seed, res.version) == (full.params, full.seed, full.version)
    counts = full.summary().counts
    if case == "w1-censored":
        assert counts["EXITED"] > 0 and counts["CENSORED"] > 0
    elif case == "w1-all-censored":
        assert counts["CENSORED"] == full.n_paths and math.isnan(res.summary().mean)
    elif case == "diverged":
        assert counts["EXITED"] > 0 and counts["DIVERGED"] > 0
    elif case == "all-diverged":
        assert counts["DIVERGED"] == full.n_paths and math.isinf(res.summary().exponential_mean)
    elif case == "exited-censored-diverged":
        assert counts["EXITED"] > 0 and counts["CENSORED"] > 0 and counts["DIVERGED"] > 0
    elif case == "exited-hit-censored":
        assert counts["EXITED"] > 0 and counts["HIT"] > 0 and counts["CENSORED"] > 0


def test_summary_with_a_chunk_where_no_path_stopped(count_chunks):
    # 100 paths deep in the left well (none escapes within t_max), then 100 at the barrier (most do)
    points = np.concatenate([np.full((100, 1), -1.0), np.full((100, 1), -0.001)])
    for order in (points, points[::-1].copy()):
        full = w1(x0=order, n_paths=None, t_max=1.0)
        res = w1(x0=order, n_paths=None, t_max=1.0, keep="summary", chunk_size=100)
        stopped = [int(np.count_nonzero(full.stopped[i : i + 100])) for i in (0, 100)]
        assert min(stopped) == 0 and max(stopped) > 80
        assert_same_summary(res.summary(), full.summary())
        assert res.stats().n_stopped == max(stopped)
    assert len(count_chunks) == 4 + 2


def exit_stats_pieces(seed=0):
    rng = np.random.default_rng(seed)
    n = 1000
    status = rng.choice(np.array([0, 1, 2, 3], dtype=np.int8), size=n, p=[0.6, 0.2, 0.15, 0.05])
    exit_time = np.where(status <= 1, rng.exponential(40.0, n) + 1e3, np.nan)  # a large offset tests stability
    cuts = [0, 1, 5, 5, 200, 201, 650, 999, 1000]  # single paths and an empty piece among them
    pieces = [ExitStats.of(status[a:b], exit_time[a:b], 500.0) for a, b in zip(cuts[:-1], cuts[1:])]
    return ExitStats.of(status, exit_time, 500.0), pieces


def assert_close_stats(got, ref):
    assert got.counts == ref.counts and got.n_stopped == ref.n_stopped and got.censored_time == ref.censored_time
    for name in ("mean", "m2", "total_time"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=1e-12, abs=0), name
    assert_same_summary(got.summary(), ref.summary())


def test_exit_stats_merge_any_grouping():
    ref, pieces = exit_stats_pieces()
    left = pieces[0]
    for p in pieces[1:]:
        left = left.merge(p)
    right = pieces[-1]
    for p in reversed(pieces[:-1]):
        right = p.merge(right)
    while len(pieces) > 1:  # pairwise tree
        pieces = [pieces[i].merge(pieces[i + 1]) if i + 1 < len(pieces) else pieces[i]
                  for i in range(0, len(pieces), 2)]
    for merged in (left, right, pieces[0]):
        assert_close_stats(merged, ref)
    a, b, c = exit_stats_pieces(1)[1][2:5]
    assert_close_stats(a.merge(b).merge(c), a.merge(b.merge(c)))
    assert_close_stats(a.merge(b), b.merge(a))


def test_exit_stats_merge_with_nothing_stopped():
    ref, _ = exit_stats_pieces()
    censored = ExitStats.of(np.full(7, Status.CENSORED, np.int8), np.full(7, np.nan), 500.0)
    empty = ExitStats.of(np.zeros(0, np.int8), np.zeros(0), 500.0)
    assert censored.n_stopped == 0 and censored.counts == (0, 0, 7, 0, 0, 0)
    assert empty.n_stopped == 0 and empty.counts == (0, 0, 0, 0, 0, 0)
    for nothing in (censored, empty):
        for merged in (nothing.merge(ref), ref.merge(nothing)):
            assert merged.n_stopped == ref.n_stopped
            assert merged.mean == ref.mean and merged.m2 == ref.m2 and merged.total_time == ref.total_time
            assert merged.counts == tuple(x + y for x, y in zip(ref.counts, nothing.counts))
    both = censored.merge(empty).merge(censored)
    assert both.counts == (0, 0, 14, 0, 0, 0) and both.n_stopped == 0
    s = both.summary()
    assert math.isnan(s.mean) and math.isnan(s.stderr) and math.isinf(s.exponential_mean)
    assert s.mean_lower_bound == 500.0 and s.censored_fraction == 1.0
    one = ExitStats.of(np.array([0], np.int8), np.array([3.0]), 500.0)
    assert censored.merge(one).summary().mean == 3.0 and math.isnan(censored.merge(one).summary().stderr)


@pytest.mark.parametrize("name", ["summary.npz", "summary.bin"])
def test_summary_result_save_load_round_trip(tmp_path, name):
    res = w1(t_max=100.0, keep="summary", chunk_size=700, record_paths=4, record_every=100)
    path = tmp_path / name
    res.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    back = escapade.load(path)
    assert isinstance(back, SummaryResult)
    assert back.exit_stats == res.exit_stats
    assert back.summary() == res.summary()
    assert_same_trajectories(res, back)
    assert (back.params, back.seed, back.version, back.elapsed, back.total_steps) == (
        res.params, res.seed, res.version, res.elapsed, res.total_steps)
    assert repr(back) == repr(res)


# ---------------------------------------------------------------------------------------------------------------
# The checkpoint store


@pytest.mark.parametrize("keep", ["paths", "summary"])
def test_store_rerun_skips_finished_chunks(tmp_path, count_chunks, keep):
    store = tmp_path / "store"
    kw = dict(chunk_size=500, record_paths=700, record_every=2000, keep=keep)
    first = w1(store=store, **kw)
    assert len(count_chunks) == 6
    assert chunk_files(store) == [f"chunk-{i:015d}.npz" for i in range(0, N_PATHS, 500)]
    assert sorted(p.name for p in store.iterdir()) == sorted(["run.json", *chunk_files(store)])  # nothing else
    before = file_ids(store)
    count_chunks.clear()
    # threads and lanes do not change the numbers, so the store serves a run with other ones
    again = w1(store=store, threads=1, lanes=8, **kw)
    assert count_chunks == []
    assert file_ids(store) == before
    plain = w1(**kw)
    for res in (first, again):
        if keep == "paths":
            assert_same_result(plain, res)
        else:
            assert res.exit_stats == plain.exit_stats
            assert_same_trajectories(plain, res)
            assert res.total_steps == plain.total_steps


def test_store_resumes_missing_chunks(tmp_path, count_chunks, w1_local):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000, store=store)
    w1(**kw)
    (store / "chunk-000000000001000.npz").unlink()
    count_chunks.clear()
    res = w1(**kw)
    assert count_chunks == [(1000, 1000)]
    assert_same_result(w1_local, res)


KILLED_CHILD = textwrap.dedent(
    """
    import sys
    import escapade as e

    # one thread, one lane: slow on purpose, so that the parent can kill it halfway
    e.simulate(e.DoubleWell(), e.Langevin(temperature=1 / 16, dt=1e-2), x0=[-1.0], stop=e.HalfSpace([1.0], 0.0),
               n_paths=int(sys.argv[2]), t_max=1e4, seed=int(sys.argv[3]), chunk_size=int(sys.argv[4]),
               record_paths=3, record_every=500, threads=1, lanes=1, store=sys.argv[1], progress=False)
    print("finished", flush=True)
    """
)


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, count_chunks):
    store = tmp_path / "store"
    n_paths, chunk_size, seed = 8000, 400, 77
    n_chunks = n_paths // chunk_size
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD, str(store), str(n_paths), str(seed), str(chunk_size)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a hang check, not a timing requirement
        while len(chunk_files(store) if store.exists() else []) < 2:
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "no chunk was written"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert "finished" not in out
    done = chunk_files(store)
    assert 2 <= len(done) < n_chunks, f"{len(done)} of {n_chunks} chunks finished: kill the run earlier"
    before = file_ids(store)

    kw = dict(n_paths=n_paths, seed=seed, chunk_size=chunk_size, record_paths=3, record_every=500)
    resumed = w1(store=store, threads=2, **kw)
    done_first = {int(name[6:-4]) for name in done}
    assert sorted(count_chunks) == [(f, chunk_size) for f in range(0, n_paths, chunk_size) if f not in done_first]
    after = file_ids(store)
    assert {k: after[k] for k in before} == before
    assert len(after) == n_chunks
    uninterrupted = w1(n_paths=n_paths, seed=seed, record_paths=3, record_every=500, threads=2)
    assert_same_result(uninterrupted, resumed)


@pytest.mark.parametrize(
    ("change", "differs_in"),
    [
        (dict(seed=SEED + 1), "seed"),
        (dict(t_max=5e3), "params"),
        (dict(n_paths=N_PATHS - 1), "params"),
        (dict(dynamics=Langevin(temperature=0.07, dt=1e-2)), "params"),
        (dict(bridge=False), "params"),
        (dict(chunk_size=600), "chunks"),
        (dict(keep="summary"), "keep"),
    ],
    ids=["seed", "t_max", "n_paths", "temperature", "bridge", "chunk_size", "keep"],
)
def test_store_of_a_different_run_is_refused(tmp_path, count_chunks, change, differs_in):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, store=store)
    w1(**kw)
    before = file_ids(store)
    meta = (store / "run.json").read_bytes()
    count_chunks.clear()
    with pytest.raises(ValueError, match="store") as info:
        w1(**{**kw, **change})
    assert str(store) in str(info.value) and differs_in in str(info.value)
    assert count_chunks == []  # refused before anything ran
    assert file_ids(store) == before and (store / "run.json").read_bytes() == meta


def test_leftover_temporary_files_do_not_break_resume(tmp_path, w1_local):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000, store=store)
    w1(**kw)
    chunk = store / "chunk-000000000002000.npz"
    data = chunk.read_bytes()
    chunk.unlink()
    # what a write killed before its rename leaves: a truncated and an empty temporary file
    (store / ".tmp-k1ll3d").write_bytes(data[: len(data) // 2])
    (store / ".tmp-empty0").write_bytes(b"")
    res = w1(**kw)
    assert_same_result(w1_local, res)
    assert len(chunk_files(store)) == 3
    again = w1(**kw)
    assert_same_result(w1_local, again)


# ---------------------------------------------------------------------------------------------------------------
# Bad input


def small_sweep(**kw):
    args = dict(W1, grid={"dynamics.temperature": [0.1]}, n_paths=10, seed=1, t_max=1.0)
    args.update(kw)
    return sweep(args.pop("landscape"), args.pop("dynamics"), **args)


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        pytest.param(lambda: w1(n_paths=10, client=object()), TypeError, "client", id="client-object"),
        pytest.param(lambda: w1(n_paths=10, client="tcp://localhost:8786"), TypeError, "client", id="client-str"),
        pytest.param(lambda: w1(n_paths=10, keep="all"), ValueError, "keep", id="keep-all"),
        pytest.param(lambda: w1(n_paths=10, keep=None), ValueError, "keep", id="keep-none"),
        pytest.param(lambda: w1(n_paths=10, chunk_size=0), ValueError, "chunk_size", id="chunk_size-0"),
        pytest.param(lambda: w1(n_paths=10, chunk_size=-5), ValueError, "chunk_size", id="chunk_size-negative"),
        pytest.param(lambda: w1(n_paths=10, chunk_size=2.5), TypeError, "chunk_size", id="chunk_size-float"),
        pytest.param(lambda: small_sweep(grid={"dynamics.nope": [1]}), ValueError, "dynamics.nope",
                     id="sweep-unknown-field"),
        pytest.param(lambda: small_sweep(grid={"nope.x": [1]}), ValueError, "nope.x", id="sweep-unknown-spec"),
        pytest.param(lambda: small_sweep(grid={"x0.radius": [1]}), ValueError, "x0.radius",
                     id="sweep-field-of-an-array"),
        pytest.param(lambda: small_sweep(grid={}), ValueError, "grid", id="sweep-empty-grid"),
        pytest.param(lambda: small_sweep(grid={"bridge": []}), ValueError, "bridge", id="sweep-empty-values"),
        pytest.param(lambda: small_sweep(grid=[("bridge", [True])]), ValueError, "grid", id="sweep-grid-not-mapping"),
        pytest.param(lambda: small_sweep(grid={"nope": [1]}), TypeError, "nope", id="sweep-unknown-argument"),
        pytest.param(lambda: small_sweep(grid={"dynamics.temperature": [-1.0]}), ValueError, "temperature",
                     id="sweep-bad-value"),
        pytest.param(lambda: small_sweep(seeds="x"), ValueError, "seeds", id="sweep-seeds"),
        pytest.param(lambda: small_sweep(client=object()), TypeError, "client", id="sweep-client"),
        pytest.param(lambda: small_sweep(keep="all"), ValueError, "keep", id="sweep-keep"),
        pytest.param(lambda: small_sweep(chunk_size=0), ValueError, "chunk_size", id="sweep-chunk_size"),
    ],
)
def test_bad_execution_arguments(call, exc, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc, match=name.replace(".", r"\.")):
        call()
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_valid_run_after_rejections():
    with pytest.raises(TypeError):
        w1(n_paths=10, client=object())
    res = w1(n_paths=10, t_max=1.0, chunk_size=3)
    assert res.n_paths == 10
