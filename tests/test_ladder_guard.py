"""`estimate`'s ladder refines the step only on a bias estimate at least 3 of its standard errors from 0, as paired
does (`_Estimator.unproven`): the ladder never comes back to a coarser step, so a refinement on a bias its noise
made costs every later round twice the path-steps per path and buys nothing."""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc
from escapade import accuracy
from escapade.analysis import mean_exit_time_1d

FLAT = esc.Quadratic(np.zeros((1, 1)))


def refinements(monkeypatch, method: str) -> list[tuple[bool, float, float]]:
    """(consistent, bias, bias_stderr) of every round whose plan added a finer level, for runs of `method`."""
    seen: list[tuple[bool, float, float]] = []
    make = {"ladder": accuracy._ladder, "paired": accuracy._paired}[method]

    def watched(est):
        m = make(est)

        def plan(out):
            cost, runs = m.plan(out)
            if any(k >= len(est.ladder) for k, _ in runs):
                seen.append((out.consistent, out.bias, out.bias_stderr))
            return cost, runs

        return accuracy._Method(m.name, m.evaluate, plan, m.coupled)

    monkeypatch.setattr(accuracy, f"_{method}", watched)
    return seen


def weak(seen: list[tuple[bool, float, float]]) -> list[tuple[bool, float, float]]:
    return [(ok, b, se) for ok, b, se in seen if ok and abs(b) < accuracy._SIGNIFICANT * se]


@pytest.mark.parametrize("method", ["ladder", "paired"])
def test_no_finer_step_for_a_bias_that_is_noise(monkeypatch, method):
    """Brownian motion from 0 leaving (-1, 1) with the bridge test: every step has the exact mean exit time 1, so the
    bias is nil and any finer step is bought with noise. Before the guard, the ladder added a fourth to sixth level
    in 6 of these 10 seeds (7 refinements, each on a bias 1.2-2.2 of its standard errors from 0) and reached the
    target in 3; with it, 3 levels in all 10, 8 reached, at the same budget."""
    seen = refinements(monkeypatch, method)
    reached = 0
    for seed in range(10):
        e = esc.estimate(FLAT, esc.Langevin(temperature=0.5, dt=0.1), x0=[0.0], stop=esc.Box([-1.0], [1.0]),
                         t_max=50, rtol=0.01, seed=seed, method=method, n_pilot=100, budget=5e6, threads=1)
        assert e.params["method"] == method
        assert len(e.levels) == 3, (seed, e.levels)
        low, high = e.interval
        assert low <= 1.0 <= high, (seed, e)
        # each level's own value against the exact 1, within 4 of its standard errors
        assert all(abs(lv.value - 1.0) <= 4 * lv.stderr for lv in e.levels), (seed, e.levels)
        reached += e.reached
    assert seen == [], weak(seen)
    if method == "ladder":
        assert reached >= 7, reached


def test_a_real_bias_is_still_refined_away(monkeypatch):
    """Ornstein-Uhlenbeck leaving (-0.5, 1) from 0.3 at dt0 = 0.2: the bias at dt0/4 (about -4.5%) exceeds the 3%
    goal, so the ladder must go finer, and does, on significant bias estimates only."""
    exact = float(mean_exit_time_1d(lambda x: -x, 0.5, 0.3, -0.5, 1.0))
    seen = refinements(monkeypatch, "ladder")
    for seed in range(4):
        e = esc.estimate(esc.Quadratic(np.eye(1)), esc.Langevin(temperature=0.25, dt=0.2), x0=[0.3],
                         stop=esc.Box([-0.5], [1.0]), t_max=100.0, rtol=0.03, seed=seed, method="ladder", threads=1)
        assert e.reached and len(e.levels) >= 4, (seed, e.levels)
        # the coarsest levels are biased low by far more than their noise, the finest much less
        first, last = e.levels[0], e.levels[-1]
        assert exact - first.value > 0.05 * exact + 4 * first.stderr, (seed, first)
        assert abs(last.value - exact) < 0.04 * exact + 4 * last.stderr, (seed, last)
    assert seen and weak(seen) == [], seen


def test_unproven_is_the_guard_both_methods_share():
    def outcome(bias: float, se: float, consistent: bool = True) -> accuracy._Outcome:
        return accuracy._Outcome(1.0, 0.01, 0.02, abs(bias), bias, se, 1.0 - bias, 0.01, consistent, [])

    cheap, dear = (1.0, []), (2.0, [])
    assert accuracy._Estimator.unproven(outcome(0.02, 0.01), stay=dear, refine=cheap)  # 2 SE: noise could do it
    assert not accuracy._Estimator.unproven(outcome(0.04, 0.01), stay=dear, refine=cheap)  # 4 SE: refine
    assert not accuracy._Estimator.unproven(outcome(0.02, 0.01), stay=cheap, refine=dear)  # staying is cheaper
    assert not accuracy._Estimator.unproven(outcome(0.02, 0.01, False), stay=dear, refine=cheap)  # levels disagree
    assert accuracy._Estimator.unproven(outcome(-0.02, 0.01), stay=(float("inf"), []), refine=(0.0, []))


def test_the_ladder_plans_in_samples_when_paths_diverge():
    """Half the paths of an unstable linear drift diverge: the plan's sample counts (diverged paths left out) were
    compared with the levels' path counts, so the levels the bias is read from looked full, only the finest grew,
    and the run stalled unreached after 6e7 path-steps; the same problem with an exit instead of divergence takes
    2e6."""
    e = esc.estimate(esc.Quadratic(-4 * np.eye(1)), esc.Langevin(temperature=0.5, dt=0.1), x0=[0.0],
                     stop=esc.HalfSpace([1.0], 1.0), divergence_bound=3, t_max=50, rtol=0.03, seed=1, method="ladder",
                     threads=1)
    assert e.reached, e.message
    assert all(lv.diverged > 0.3 * lv.n_paths for lv in e.levels)
    assert e.path_steps < 2e7
