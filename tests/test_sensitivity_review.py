"""Sensitivities under the package's censoring policy (analysis/estimates.py): "exit_probability" is P(the path
stopped, EXITED or HIT, by t_max), as `quantity_of` has it; DIVERGED paths are left out of a probability's
derivative (which is then that of the probability conditional on not diverging) and counted; paths that stopped
without an exit (CONVERGED, SINGULAR) count at the cap; a finite-difference estimate's cost counts its four runs.
Each against an exact answer: 0 where the probability is constant (every path stops, or a symmetry), a closed-form
derivative, or the same finite differences taken by hand over `quantity_of`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import quantity_of

S = esc.Status


def test_exit_probability_is_the_probability_of_stopping_exit_or_hit():
    # A stop and a target: every path exits or hits in all five runs, so P(tau <= t_max) = 1 at every temperature
    # and its derivative is exactly 0 (the derivative of P(EXITED) alone was -0.1375 here).
    kw = dict(x0=[0.3], stop=esc.HalfSpace([1.0], 1.0), target=esc.HalfSpace([1.0], -1.0), n_paths=2000,
              t_max=200.0, seed=1, threads=1, sensitivities=["dynamics.temperature"])
    ou, lang = esc.Quadratic(np.eye(1)), esc.Langevin(0.5, dt=0.01)
    r = esc.simulate(ou, lang, sensitivity_method="fd", **kw)
    assert np.isin(r.fd_status, [S.EXITED, S.HIT]).all() and r.count(S.EXITED) > 500 and r.count(S.HIT) > 500
    e = r.sensitivity("exit_probability", "dynamics.temperature")
    assert e.value == 0.0 and e.interval == (0.0, 0.0)
    assert r.sensitivity("hit_probability", "dynamics.temperature").value != 0.0
    # the score: F = 1 on every path, so F S = S, whose mean is 0 (within its standard error)
    score = esc.simulate(ou, lang, **kw)
    assert score.stopped.all()
    raw = score.sensitivity("exit_probability", "dynamics.temperature", form="raw")
    assert abs(raw.value) < 4 * raw.stderr
    assert abs(score.sensitivity("exit_probability", "dynamics.temperature").value) < 1e-9 * raw.stderr


def test_converged_paths_count_as_not_stopped_at_the_cap():
    # Perturbed GD from the minimum of x^2/2 (lr 0.1): the jump xi, uniform in [-r, r], is followed by a GD step,
    # so the path exits |x| < 0.5 at t = 1 when 0.9 |xi| > 0.5, P = 1 - 5 / (9 r), and else CONVERGED at t = 5.
    # At r = 1: dP/dr = 5/9; E[min(tau, t_max)] = P + (1 - P) t_max with t_max = 100, d/dr = -99 * 5/9 = -55.
    dyn = esc.PerturbedGD(0.1, radius=1.0, g_thres=0.01, f_thres=0.001, t_thres=5)
    r = esc.simulate(esc.Quadratic(np.eye(1)), dyn, x0=[0.0], stop=esc.Ball([0.0], 0.5), n_paths=4000,
                     max_steps=100, seed=3, threads=1, sensitivities=["dynamics.radius"], sensitivity_method="fd")
    assert r.count(S.CONVERGED) > 1000 and r.count(S.EXITED) + r.count(S.CONVERGED) == r.n_paths
    p = r.sensitivity("exit_probability", "dynamics.radius")
    assert abs(p.value - 5 / 9) < 4 * p.stderr, p
    t = r.sensitivity("capped_exit_time", "dynamics.radius")  # refused before (CONVERGED had "no derivative")
    assert abs(t.value + 55.0) < 4 * t.stderr, t
    assert t.levels[0].censored == np.isin(np.concatenate([r.status, r.fd_status.ravel()]), [S.CONVERGED]).sum()
    with pytest.raises(ValueError, match="did not stop .censored, converged or singular"):
        r.sensitivity("mean_exit_time", "dynamics.radius")


def test_diverged_paths_are_left_out_of_a_probability_and_counted():
    # Euler is unstable in x1 (dt * 100 = 5): 36 of 400 paths diverge, and every other one exits, so
    # P(exit | not diverged) = 1 and its derivative is exactly 0 (it was -3.7e6 with the diverged paths' scores).
    r = esc.simulate(esc.Quadratic(np.diag([1.0, 100.0])), esc.Langevin(temperature=0.5, dt=0.05), x0=[0.4, 0.0],
                     stop=esc.HalfSpace([1.0, 0.0], 0.5), n_paths=400, t_max=5.0, seed=0, threads=1,
                     sensitivities=["dynamics.temperature"])
    diverged = r.count(S.DIVERGED)
    assert diverged > 10 and r.count(S.EXITED) == r.n_paths - diverged
    for form in ("both", "raw"):
        e = r.sensitivity("exit_probability", "dynamics.temperature", form=form)
        assert e.value == 0.0 and e.interval == (0.0, 0.0)
        assert any(f"{diverged} paths diverged and are left out" in n for n in e.notes), e.notes
        assert e.levels[0].diverged == diverged and e.n_paths == r.n_paths
        assert f"over the {r.n_paths - diverged} paths that did not diverge" in e.message
    assert r.sensitivity("hit_probability", "dynamics.temperature").value == 0.0
    with pytest.raises(ValueError, match="36 paths diverged"):  # a time's derivative still refuses them
        r.sensitivity("capped_exit_time", "dynamics.temperature")


SYMMETRIC = dict(x0=[0.0, 0.0], stop=esc.HalfSpace([1.0, 0.0], 0.4), target=esc.HalfSpace([1.0, 0.0], -0.4),
                 t_max=50.0, threads=1, divergence_bound=1.0, sensitivities=["dynamics.temperature"])


def symmetric(method, n, seed, temperature=0.2):
    """x0 leaves (-0.4, 0.4) by either side with probability 1/2 whatever T; x1, independent of it, is unstable
    (dt * 12.5 = 2.5) and diverges before x0 stops on about 15% of the paths, more often at a higher T."""
    return esc.simulate(esc.Quadratic(np.diag([1.0, 12.5])), esc.Langevin(temperature, dt=0.2), n_paths=n, seed=seed,
                        sensitivity_method=method, **SYMMETRIC)


def test_a_probability_conditional_on_not_diverging_by_the_score():
    # P(hit | not diverged) = 1/2 at every T: the derivative is 0. Over the paths that did not diverge the score's
    # mean is not 0 (P(not diverged) falls with T), so mean(F S) alone would give 1.6 +- 0.09 here.
    r = symmetric("score", 20_000, 5)
    assert r.count(S.DIVERGED) > 1000
    for form in ("both", "raw"):
        e = r.sensitivity("hit_probability", "dynamics.temperature", form=form)
        assert abs(e.value) < 4 * e.stderr and e.stderr < 0.1, e


def test_a_probability_conditional_on_not_diverging_by_finite_differences():
    n = 4000
    r = symmetric("fd", n, 7)
    e = r.sensitivity("hit_probability", "dynamics.temperature")
    assert abs(e.value) < 4 * e.stderr, e  # exact: 0 (the unconditional P(hit)'s derivative is about 1.3)
    # the same finite differences by hand: each run's conditional probability (quantity_of, diverged left out)
    plan = r.params["sensitivities"][0]
    h, T = plan["step"], plan["value"]
    runs = [symmetric("score", n, 7, T + k * h) for k in (1, -1, 2, -2)]
    for i, run in enumerate(runs):
        assert np.array_equal(run.status, r.fd_status[0, i])  # common random numbers: the same paths
    m = [quantity_of(run, "hit_probability").value for run in runs]
    exact = (4 * (m[0] - m[1]) / (2 * h) - (m[2] - m[3]) / (4 * h)) / 3
    assert e.value == pytest.approx(exact, rel=1e-9, abs=1e-9)
    left = [run.count(S.DIVERGED) for run in runs]
    assert any(f"{left[0]}, {left[1]}, {left[2]} and {left[3]} paths diverged" in note for note in e.notes)
    assert e.levels[0].diverged == r.count(S.DIVERGED) + sum(left)


def test_a_finite_difference_estimate_counts_the_cost_of_its_four_runs(tmp_path):
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=300, t_max=100.0, seed=2, threads=1)
    r = esc.simulate(esc.DoubleWell(), esc.Langevin(0.25, dt=0.01), sensitivities=["dynamics.temperature"],
                     sensitivity_method="fd", **kw)
    h = r.params["sensitivities"][0]["step"]
    runs = [esc.simulate(esc.DoubleWell(), esc.Langevin(0.25 + k * h, dt=0.01), **kw) for k in (1, -1, 2, -2)]
    for i, run in enumerate(runs):
        assert np.array_equal(run.status, r.fd_status[0, i])
    e = r.sensitivity("capped_exit_time", "dynamics.temperature")
    steps = r.total_steps + sum(run.total_steps for run in runs)  # 164313 of the run itself, then about 4x more
    assert e.path_steps == e.levels[0].path_steps == steps > 4 * r.total_steps
    assert e.n_paths == e.levels[0].n_paths == 5 * r.n_paths
    assert e.elapsed == r.elapsed > 0 and not any("not recorded" in n for n in e.notes)
    r.save(tmp_path / "fd.npz")
    assert esc.load(tmp_path / "fd.npz").sensitivity("capped_exit_time", "dynamics.temperature").path_steps == steps
    # a result that did not record the runs' cost says so
    old = dict(r.params, sensitivities=[{k: v for k, v in p.items() if k != "fd_path_steps"}
                                        for p in r.params["sensitivities"]])
    e_old = dataclasses.replace(r, params=old).sensitivity("capped_exit_time", "dynamics.temperature")
    assert e_old.path_steps == r.total_steps and any("not recorded" in n for n in e_old.notes)
