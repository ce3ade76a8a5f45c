"""keep="summary": exit statistics merged chunk by chunk equal the summary of the per-path arrays, for any grouping
of the chunks, with chunks where nothing stopped and runs with different caps; a summary result saves and loads."""

from __future__ import annotations

import math

import numpy as np
import pytest

import escapade
from escapade import DoubleWell, ExitStats, HalfSpace, Langevin, Quadratic, Status, SummaryResult, simulate

from conftest import assert_same_summary, assert_same_trajectories, w1


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


# ---------------------------------------------------------------------------------------------------------------
# Merging exit statistics


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


def test_merging_runs_with_different_caps_keeps_the_censored_time():
    short = simulate(DoubleWell(), Langevin(temperature=1 / 16, dt=1e-2), n_paths=200, seed=0,
                         x0=[-1.0], stop=HalfSpace([1.0], 0.0), t_max=50.0)
    long = simulate(DoubleWell(), Langevin(temperature=1 / 16, dt=1e-2), n_paths=200, seed=1,
                        x0=[-1.0], stop=HalfSpace([1.0], 0.0), t_max=500.0)
    merged = short.stats().merge(long.stats())
    censored = short.count(Status.CENSORED) * 50.0 + long.count(Status.CENSORED) * 500.0
    assert merged.censored_time == pytest.approx(censored)
    total = short.exit_time[short.stopped].sum() + long.exit_time[long.stopped].sum()
    k = short.stopped.sum() + long.stopped.sum()
    assert merged.summary().exponential_mean == pytest.approx((total + censored) / k)


# ---------------------------------------------------------------------------------------------------------------
# Files


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
