"""`rare_exit_time` under the censoring policy, and the cost it reports.

A loop from Sigma (or a path from x0 above Sigma) that reaches neither set by the step cap counts at the cap, which
makes its term a lower bound and the mean exit time not identified (not reached, a note); a diverged loop is left
out and counted in a note. The reported `n_paths` and `path_steps` are everything run: the pilot that chose
sigma_level, every plain ensemble and the splittings. The references are the stages' own results, recorded by
wrapping the `simulate` that `rare_exit_time` calls. The 2-D double well from (-1, -1) to {x > 0}, with A the small
ball around the minimum, has a heavy tail of loops (a loop that wanders into the other well in y takes long to
find A again), so a few of 1000 loops reach a cap of 3000 steps.
"""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc
import escapade.rare as rare

DW2 = esc.DoubleWell(dim=2)
DT = 0.01
DYN = esc.Langevin(temperature=0.1, dt=DT)
A2 = esc.Ball([-1.0, -1.0], 0.05)
B2 = esc.HalfSpace([-1.0, 0.0], 0.0)  # {x > 0}
KW = dict(reactant=A2, product=B2, sigma_level=-0.9, n_loops=1000, n_replicas=10, n_runs=5, burn_in=0,
          threads=1, progress=False)
CAP = 3000


def record(monkeypatch):
    """The (arguments, result) of every plain ensemble `rare_exit_time` runs, in order."""
    stages = []
    simulate = rare.simulate

    def spy(*args, **kwargs):
        result = simulate(*args, **kwargs)
        stages.append((kwargs, result))
        return result

    monkeypatch.setattr(rare, "simulate", spy)
    return stages


def loop_mean(back, again_kwargs, again):
    """The mean time of the loops that returned to A and went on to Sigma (resampled to n_loops: each found in
    `back` by the point where it entered A)."""
    index = {tuple(row): i for i, row in enumerate(back.exit_position) if back.status[i] == esc.Status.HIT}
    kept = np.array([index[tuple(row)] for row in np.atleast_2d(again_kwargs["x0"])])
    return float(np.mean(back.exit_time[kept] + again.exit_time))


def check_cost(e, stages):
    splittings = [e.splitting] + ([e.start_splitting] if e.start_splitting is not None else [])
    assert e.n_paths == sum(r.n_paths for _, r in stages) + sum(s.n_paths for s in splittings)
    assert e.path_steps == sum(r.total_steps for _, r in stages) + sum(s.path_steps for s in splittings)


def test_censored_loops_count_at_the_cap(monkeypatch):
    stages = record(monkeypatch)
    e = esc.rare_exit_time(DW2, DYN, x0=[-1.0, -1.0], max_steps=CAP, seed=3, **KW)
    (_, first), (_, back), (again_kwargs, again) = stages
    returned, censored = back.count("HIT"), back.count("CENSORED")
    # the splitting itself finished uncensored: only the loops make the mean unidentified
    assert censored == 7 and back.count("DIVERGED") == 0 and back.n_paths == 1000
    assert e.splitting.censored == 0 and e.splitting.reached
    m = loop_mean(back, again_kwargs, again)
    restricted = (returned * m + censored * CAP * DT) / (returned + censored)
    assert e.loop_time.value == pytest.approx(restricted, rel=1e-12)
    assert e.loop_time.value > m + 0.1  # was m: the censored loops dropped
    assert not e.reached
    [note] = [n for n in e.notes if "reached neither set" in n]
    assert "7 of 1000 loops from Sigma" in note and "(t = 30)" in note and "not identified" in note
    assert "a lower bound of E[tau]" in note
    # E[tau] is built on the restricted E[T_loop]
    p = e.probability_term
    inverse = (1 - min((p.stderr / p.value) ** 2, rare.V_SMALL)) / p.value
    assert e.mean == pytest.approx(e.first_time.value + (inverse - 1) * e.loop_time.value + e.reactive_time.value)
    check_cost(e, stages)


def test_diverged_loops_left_out_and_counted(monkeypatch):
    stages = record(monkeypatch)
    e = esc.rare_exit_time(DW2, DYN, x0=[-1.0, -1.0], max_steps=CAP, seed=1, divergence_bound=1.7, **KW)
    (_, first), (_, back), (again_kwargs, again) = stages
    returned, censored, diverged = back.count("HIT"), back.count("CENSORED"), back.count("DIVERGED")
    assert (diverged, censored) == (1, 7)
    m = loop_mean(back, again_kwargs, again)
    # the diverged loop is in neither part of the mean
    assert e.loop_time.value == pytest.approx((returned * m + censored * CAP * DT) / (returned + censored), rel=1e-12)
    [note] = [n for n in e.notes if "diverged" in n and "loops from Sigma" in n]
    assert note.startswith("1 of 1000 loops from Sigma diverged: left out of E[T_loop]")
    assert not e.reached
    check_cost(e, stages)


def test_censored_fail_paths_count_at_the_cap(monkeypatch):
    stages = record(monkeypatch)
    e = esc.rare_exit_time(DW2, DYN, x0=[-0.5, -1.0], max_steps=CAP, seed=7, **KW)
    fail = stages[0][1]  # the first trial's paths from x0 to A (or B)
    failed, censored = fail.status == esc.Status.HIT, fail.count("CENSORED")
    assert censored == 6 and fail.count("DIVERGED") == 0 and fail.count("EXITED") > 0
    f0 = e.start_terms[1]
    values = np.concatenate([fail.exit_time[failed], np.full(censored, CAP * DT)])
    assert f0.name == "E[T_fail,0]" and f0.n == values.size == failed.sum() + censored
    assert f0.value == pytest.approx(values.mean(), rel=1e-12)
    assert f0.stderr == pytest.approx(values.std(ddof=1) / np.sqrt(values.size), rel=1e-12)
    assert f0.value > fail.exit_time[failed].mean()  # was the mean over the paths that entered A
    assert not e.reached
    [note] = [n for n in e.notes if "reached neither set" in n]
    assert "6 of 1000 paths from x0" in note and "E[T_fail,0] is a lower bound" in note
    # the splittings' replicas were censored too: the value is then no bound of E[tau]
    assert e.splitting.censored + e.start_splitting.censored > 0 and "neither an estimate nor a bound" in note
    check_cost(e, stages)


def test_cost_includes_the_pilot(monkeypatch):
    stages = record(monkeypatch)
    kw = {**KW, "n_loops": 300, "n_replicas": 20, "n_runs": 3, "burn_in": 1, "n_pilot": 200, "sigma_level": None}
    e = esc.rare_exit_time(DW2, DYN, x0=[-1.0, -1.0], seed=11, **kw)
    check_cost(e, stages)
    # 2 pilot stages (x0 lies in A), the first passage, 2 cycles of loops there and back
    assert len(stages) == 2 + 1 + 2 * 2
    pilot = stages[:2]
    assert pilot[0][0]["x0"].shape == (200, 2)  # the pilot's excursions start from x0, n_pilot of them
    # The same call with sigma_level given runs everything but the pilot (whose seed nothing else uses)
    stages.clear()
    given = esc.rare_exit_time(DW2, DYN, x0=[-1.0, -1.0], seed=11, **{**kw, "sigma_level": e.sigma_level})
    assert given.value == e.value and given.loop_time == e.loop_time
    assert e.path_steps - given.path_steps == sum(r.total_steps for _, r in pilot) > 0
    assert e.n_paths - given.n_paths == sum(r.n_paths for _, r in pilot) >= 200
    # n_paths: the plain paths of every stage and the splitting's replicas (n_replicas x n_runs)
    assert given.n_paths == 300 * (1 + 2 * 2) + 20 * 3
