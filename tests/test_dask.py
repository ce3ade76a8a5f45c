"""Runs on a Dask cluster: any cut of the path range, run on any worker in any order, merges into the very bits of
one local run; so do sweeps, summaries, and stores finished or resumed on a cluster."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

# A scheduler serves its HTTP routes on port 8787 even without a dashboard; when another cluster on the machine
# holds that port, it warns, moves to a free port and leaves the socket of the failed attempt to the collector.
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:Port \d+ is already in use:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"),
]

import escapade._execute as execute_module  # noqa: E402
from escapade import Langevin, SimulationResult, Status, SummaryResult, SweepResult, UniformBall  # noqa: E402

from conftest import (  # noqa: E402
    N_PATHS,
    SEED,
    SWEEP_GRID,
    assert_same_result,
    assert_same_summary,
    assert_same_trajectories,
    chunk_files,
    file_ids,
    run_sweep,
    w1,
)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    dask_client = distributed.Client(cluster)
    try:
        yield dask_client
    finally:
        dask_client.close()
        cluster.close()


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


# ---------------------------------------------------------------------------------------------------------------
# Stores and clusters


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


def test_a_closed_client_is_refused():
    class Closed:  # what a dask Client looks like after close()
        status = "closed"

        def submit(self, *args, **kwargs):
            raise AssertionError("not called")

    with pytest.raises(ValueError, match="client is closed"):
        w1(client=Closed())
