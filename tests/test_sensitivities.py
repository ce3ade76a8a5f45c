"""Derivatives of exit statistics with respect to parameters (simulate(..., sensitivities=[...])): the
likelihood-ratio scores against exact answers (the double well's mean exit time in T and in the height, an
Ornstein-Uhlenbeck splitting probability in the drift strength), against finite differences with common random
numbers (000's success rate in the forcing amplitude on the noisy constrained flow), the local Arrhenius slope
against a sweep's global fit, and what the scores leave unchanged (the run's bits, save/load)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import (
    arrhenius_fit,
    langevin_mean_exit_time_1d,
    langevin_splitting_probability_1d,
    langevin_mean_exit_time_derivative_1d,
)


def well(height=1.0):
    return lambda x: height * (x**4 / 4 - x**2 / 2)


def exact_tau(T, height=1.0, x0=-1.0, upper=0.0):
    return langevin_mean_exit_time_1d(well(height), T, x0, -math.inf, upper, lower_boundary="reflecting")


def run_well(T, dt, n, seed, sensitivities, x0=-1.0, upper=0.0, **kw):
    return esc.simulate(esc.DoubleWell(), esc.Langevin(T, dt=dt), x0=[x0], stop=esc.HalfSpace([1.0], upper),
                        n_paths=n, t_max=1e5, seed=seed, sensitivities=sensitivities, **kw)


def close(estimate, exact, bias):
    """|estimate - exact| within 4 standard errors plus an allowance for the chain's time-step bias."""
    assert abs(estimate.value - exact) < 4 * estimate.stderr + bias * abs(exact), (estimate, exact)


def test_double_well_mean_exit_time_in_temperature_and_height():
    T = 0.25
    res = run_well(T, 2e-3, 12_000, 1, ["dynamics.temperature", "landscape.height"])
    d_T = res.sensitivity("mean_exit_time", "dynamics.temperature")
    exact_T = langevin_mean_exit_time_derivative_1d(well(), T, -1.0, -math.inf, 0.0,
                                           lower_boundary="reflecting")
    close(d_T, exact_T, 0.02)
    h = 1e-4
    exact_h = (exact_tau(T, 1 + h) - exact_tau(T, 1 - h)) / (2 * h)
    close(res.sensitivity("mean_exit_time", "landscape.height"), exact_h, 0.02)
    assert any("time change" in note for note in d_T.notes)
    assert any("bridge" in note for note in d_T.notes)
    # the issue's forms: every one unbiased, the cost-to-go form with the baseline the least variable
    forms = {f: res.sensitivity("mean_exit_time", "dynamics.temperature", form=f) for f in
             ("raw", "baseline", "cost_to_go", "both")}
    for e in forms.values():
        close(e, exact_T, 0.02)
    assert forms["both"].stderr < forms["raw"].stderr / 1.5


def test_mean_exit_time_derivative_1d_matches_a_fine_difference_of_the_quadrature():
    T = 0.2
    h = 1e-5
    fd = (exact_tau(T + h) - exact_tau(T - h)) / (2 * h)
    d = langevin_mean_exit_time_derivative_1d(well(), T, -1.0, -math.inf, 0.0, lower_boundary="reflecting")
    assert d == pytest.approx(fd, rel=1e-6)


def ou_check(k, T, a, b, x0, dt, n, seed, bias):
    """dX = -k X dt + sqrt(2 T) dW from x0 in (a, b): d P(reach b first) / dk against the closed form
    P = int_a^x0 e^{k y^2 / 2T} dy / int_a^b e^{k y^2 / 2T} dy (a fine central difference of it in k)."""
    res = esc.simulate(esc.Quadratic([[k]]), esc.Langevin(T, dt=dt), x0=[x0], stop=esc.HalfSpace([-1.0], -a),
                       target=~esc.HalfSpace([1.0], b), n_paths=n, t_max=100.0, seed=seed,
                       sensitivities=["landscape.H"])

    def P(kk):
        return langevin_splitting_probability_1d(lambda x: 0.5 * kk * x * x, T, x0, a, b)

    exact = (P(k + 1e-4) - P(k - 1e-4)) / 2e-4
    close(res.sensitivity("hit_probability", "landscape.H"), exact, bias)
    # exit_probability is P(tau <= t_max), exit or hit: 1 here (every path stops by t_max), its derivative 0
    assert res.stopped.all() and res.sensitivity("exit_probability", "landscape.H").value == 0.0


def test_ornstein_uhlenbeck_splitting_probability_in_the_drift_strength():
    ou_check(1.0, 0.5, -1.0, 1.0, 0.3, 1e-3, 12_000, 3, 0.05)


def forced_flow(amplitude):
    return esc.ConstrainedFlow(esc.Parabola(), dt=0.02, alpha=1.0, forcing=esc.Periodic(amplitude, 2.0),
                               method="euler", noise=0.3)


FLOW_RUN = dict(x0=esc.UniformBox([-3.0, -3.0], [3.0, 3.0]), target=esc.Ball([0.0, 0.0], 1.0), t_max=1.0, seed=11)


def test_success_rate_in_the_forcing_amplitude_against_a_sweep_with_common_random_numbers():
    A, h, n = 1.0, 0.2, 30_000
    res = esc.simulate(esc.Ackley(), forced_flow(A), n_paths=n, sensitivities=["dynamics.forcing.amplitude"],
                       **FLOW_RUN)
    score = res.sensitivity("hit_probability", "dynamics.forcing.amplitude")
    sw = esc.sweep(esc.Ackley(), forced_flow(A), grid={"dynamics.forcing.amplitude": [A - h, A + h]}, n_paths=n,
                   **FLOW_RUN)
    d = ((sw[1].status == esc.Status.HIT).astype(float) - (sw[0].status == esc.Status.HIT)) / (2 * h)
    fd, fd_se = d.mean(), d.std(ddof=1) / math.sqrt(n)
    assert abs(score.value - fd) < 4 * math.hypot(score.stderr, fd_se)
    # the built-in finite differences give the same kind of answer from the same seed
    res_fd = esc.simulate(esc.Ackley(), forced_flow(A), n_paths=4_000, sensitivities=["dynamics.forcing.amplitude"],
                          sensitivity_method="fd", fd_step=h, **FLOW_RUN)
    e = res_fd.sensitivity("hit_probability", "dynamics.forcing.amplitude")
    assert "finite differences" in e.notes[0] and "Richardson" in e.notes[0]
    assert abs(e.value - score.value) < 4 * math.hypot(score.stderr, e.stderr)


def test_local_arrhenius_slope_against_the_global_fit_of_a_sweep():
    T = 0.2
    res = run_well(T, 2e-3, 12_000, 5, ["dynamics.temperature"])
    local = arrhenius_fit(res, mode="local")
    # the exact local slope d log E[tau] / d(1/T) = -T^2 (dE/dT) / E
    exact = -T * T * langevin_mean_exit_time_derivative_1d(well(), T, -1.0, -math.inf, 0.0,
                                                  lower_boundary="reflecting") / exact_tau(T)
    assert abs(local.value - exact) < 4 * local.stderr + 0.02 * exact
    temps = [1 / (1 / T - 0.4), T, 1 / (1 / T + 0.4)]
    sw = esc.sweep(esc.DoubleWell(), esc.Langevin(T, dt=2e-3), grid={"dynamics.temperature": temps}, x0=[-1.0],
                   stop=esc.HalfSpace([1.0], 0.0), n_paths=6_000, t_max=1e5, seed=6)
    means = [r.summary().mean for r in sw]
    ses = [r.summary().stderr for r in sw]
    fit = arrhenius_fit(temps, means, ses)
    assert abs(local.value - fit.barrier) < 4 * math.hypot(local.stderr, fit.barrier_stderr)


def test_scores_leave_the_run_bits_unchanged_and_survive_save_and_load(tmp_path):
    plain = run_well(0.3, 1e-2, 300, 2, None)
    res = run_well(0.3, 1e-2, 300, 2, ["dynamics.temperature", "landscape.height"], threads=2, lanes=16)
    for name in ("status", "exit_time", "exit_step", "exit_position", "final_position"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(res, name))
    one = run_well(0.3, 1e-2, 300, 2, ["dynamics.temperature", "landscape.height"], threads=1)
    np.testing.assert_array_equal(res.score_sum, one.score_sum)
    np.testing.assert_array_equal(res.score_time, one.score_time)
    assert res.score_sum.shape == (300, 2) and np.all(np.isfinite(res.score_sum))
    res.save(tmp_path / "r.npz")
    back = esc.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.score_sum, res.score_sum)
    assert back.sensitivity("mean_exit_time", "landscape.height").value == \
        res.sensitivity("mean_exit_time", "landscape.height").value
    frame = res.to_pandas()
    assert "score_dynamics.temperature" in frame and "score_time_landscape.height" in frame
    assert [p["parameter"] for p in res.params["sensitivities"]] == ["dynamics.temperature", "landscape.height"]


def test_double_well_height_one_keeps_its_record_and_bits():
    assert esc.DoubleWell().to_dict() == {"type": "DoubleWell", "dim": 1}
    assert esc.DoubleWell(height=2.0).to_dict()["height"] == 2.0
    a = run_well(0.3, 1e-2, 50, 4, None)
    b = esc.simulate(esc.DoubleWell(height=1.0), esc.Langevin(0.3, dt=1e-2), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                     n_paths=50, t_max=1e5, seed=4)
    np.testing.assert_array_equal(a.exit_time, b.exit_time)
    # height scales the landscape: at height 2 and temperature 2 T the same chain (drift and noise doubled with dt
    # halved is another chain, so compare the gradient instead)
    np.testing.assert_allclose(esc.DoubleWell(height=2.0).gradient([1.5]), 2 * esc.DoubleWell().gradient([1.5]))


def test_finite_differences_for_state_dependent_noise_are_said_so():
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(eps=0.6, S="hessian", dt=1e-2), x0=[-1.0],
                       stop=esc.Ball([-1.0], 0.5), n_paths=400, t_max=100.0, seed=1, sensitivities=["dynamics.eps"])
    assert res.params["sensitivities"][0]["method"] == "fd"
    e = res.sensitivity("mean_exit_time", "dynamics.eps")
    assert "state-dependent" in e.notes[0] and np.isfinite(e.value) and e.stderr > 0


@pytest.mark.parametrize("case", ["wall", "forcing", "heun"])
def test_steps_the_score_cannot_differentiate_take_finite_differences(case):
    """A reflecting wall folds the Gaussian step, a forcing adds a drift the score does not see, and Heun's step is
    not Gaussian given its start: all take finite differences by default (and say why), and refuse the score when
    it is asked for."""
    walls = esc.Box([-2.0], [0.0], reflecting=["x0-"])
    kw = dict(x0=[-1.0], stop=walls, n_paths=100, t_max=100.0, seed=2, sensitivities=["landscape.height"])
    dyn = esc.Langevin(0.3, dt=1e-2)
    if case == "forcing":
        kw["stop"] = esc.HalfSpace([1.0], 0.0)
        dyn = esc.Langevin(0.3, dt=1e-2, forcing=esc.Ramp([0.0], [0.01]))
    if case == "heun":
        kw["stop"] = esc.HalfSpace([1.0], 0.0)
        dyn = esc.Langevin(0.3, dt=1e-2, scheme="heun")
    res = esc.simulate(esc.DoubleWell(), dyn, **kw)
    assert res.params["sensitivities"][0]["method"] == "fd"
    note = res.sensitivity("mean_exit_time", "landscape.height").notes[0]
    assert {"wall": "reflects", "forcing": "forcing", "heun": "Heun"}[case] in note
    with pytest.raises(ValueError, match="landscape.height"):
        esc.simulate(esc.DoubleWell(), dyn, sensitivity_method="score", **kw)


@pytest.mark.parametrize("dynamics", [esc.Langevin(eps=1.0, S=[[1.0], [0.0]], dt=1e-3),
                                      esc.GaussianSGD(lr=0.1, batch_size=1, C=np.diag([25.0, 0.0]))],
                         ids=["langevin-S-rank-1", "sgd-C-rank-1"])
def test_noise_that_does_not_reach_every_direction_takes_finite_differences(dynamics):
    """With noise of rank 1 in 2-D the parameter moves the step's mean where the noise does not reach: the path laws
    have no likelihood ratio, and the score (with pinv) read d E[tau]/d eps as -22.2 +- 0.2 for -14.3 +- 0.3 (plain
    finite differences of runs with common random numbers). Finite differences by default, the score refused."""
    name = "dynamics.eps" if isinstance(dynamics, esc.Langevin) else "dynamics.lr"
    kw = dict(x0=[0.0, -1.5], stop=esc.HalfSpace([1.0, 1.0], 1.0), n_paths=50, max_steps=20_000, seed=1,
              sensitivities=[name])
    res = esc.simulate(esc.Quadratic(np.diag([1.0, 0.3])), dynamics, **kw)
    assert res.params["sensitivities"][0]["method"] == "fd"
    assert "does not reach every direction" in res.sensitivity("exit_probability", name).notes[0]
    with pytest.raises(ValueError, match="does not reach every direction"):
        esc.simulate(esc.Quadratic(np.diag([1.0, 0.3])), dynamics, sensitivity_method="score", **kw)


def test_gd_has_no_gaussian_step_for_the_score():
    with pytest.raises(ValueError, match="GD draws no Gaussian step"):
        esc.simulate(esc.DoubleWell(), esc.GD(lr=0.1), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=10,
                     max_steps=10, sensitivities=["dynamics.lr"], sensitivity_method="score")


def test_other_gaussian_dynamics_against_independent_runs():
    # SGLD and Gaussian SGD (discrete maps: exit steps jump with the parameter, so finite differences with common
    # random numbers are heavy-tailed) against the Richardson difference (4 D(h) - D(2h)) / 3 of independent runs
    # at theta +- h and +- 2h (h = 5%), and Langevin's eps against the built-in finite differences
    quad = esc.Quadratic(np.diag([1.0, 2.0]))
    kw = dict(x0=[0.0, 0.0], stop=esc.Ball([0.0, 0.0], 1.0), max_steps=5_000)
    cases = [
        (lambda A=0.1, B=0.3: esc.SGLD(A, B), {"dynamics.A": 0.1, "dynamics.B": 0.3}),
        (lambda lr=0.3, batch_size=1.0: esc.GaussianSGD(lr, batch_size=batch_size, C=np.diag([1.0, 0.5])),
         {"dynamics.lr": 0.3, "dynamics.batch_size": 1.0}),
    ]
    for make, params in cases:
        res = esc.simulate(quad, make(), sensitivities=list(params), n_paths=20_000, seed=9, **kw)
        for p, value in params.items():
            assert res.params["sensitivities"][list(params).index(p)]["method"] == "score"
            a = res.sensitivity("capped_exit_time", p)
            h = 0.05 * value
            means, var = {}, 0.0
            for k, sign in enumerate((1, -1, 2, -2)):
                r = esc.simulate(quad, make(**{p.split(".")[1]: value + sign * h}), n_paths=40_000, seed=100 + k,
                                 **kw)
                means[sign] = r.exit_time.mean()
                weight = {1: 4 / 6, -1: -4 / 6, 2: -1 / 12, -2: 1 / 12}[sign] / h
                var += weight**2 * r.exit_time.var() / r.n_paths
            b = (4 * (means[1] - means[-1]) / (2 * h) - (means[2] - means[-2]) / (4 * h)) / 3
            assert abs(a.value - b) < 4 * math.hypot(a.stderr, math.sqrt(var)) + 0.01 * abs(b), (p, a, b)
    lang = esc.Langevin(eps=0.8, S=np.array([[1.0, 0.2], [0.0, 0.7]]), dt=0.01)
    kw = dict(x0=[0.0, 0.0], stop=esc.Ball([0.0, 0.0], 1.0), n_paths=4_000, t_max=100.0, seed=9)
    a = esc.simulate(quad, lang, sensitivities=["dynamics.eps"], **kw).sensitivity("mean_exit_time", "dynamics.eps")
    b = esc.simulate(quad, lang, sensitivities=["dynamics.eps"], sensitivity_method="fd", **kw).sensitivity(
        "mean_exit_time", "dynamics.eps")
    assert abs(a.value - b.value) < 4 * math.hypot(a.stderr, b.stderr)


@pytest.mark.slow
def test_double_well_issue_case_slow():
    # T = 0.1, dt = 1e-3, from -1.2 to x >= 0.2: dE[tau]/dT = -1189.35
    T = 0.1
    res = run_well(T, 1e-3, 40_000, 7, ["dynamics.temperature"], x0=-1.2, upper=0.2)
    exact = langevin_mean_exit_time_derivative_1d(well(), T, -1.2, -math.inf, 0.2, lower_boundary="reflecting")
    assert exact == pytest.approx(-1189.35, abs=0.01)
    close(res.sensitivity("mean_exit_time", "dynamics.temperature"), exact, 0.02)


@pytest.mark.slow
def test_ornstein_uhlenbeck_slow():
    ou_check(2.0, 0.3, -0.8, 0.6, 0.1, 2.5e-4, 200_000, 13, 0.02)


def test_scores_are_the_same_bits_in_chunks_and_from_a_store(tmp_path):
    one = run_well(0.3, 1e-2, 2_000, 8, ["dynamics.temperature"], threads=1)
    chunked = run_well(0.3, 1e-2, 2_000, 8, ["dynamics.temperature"], chunk_size=700, store=tmp_path / "s")
    np.testing.assert_array_equal(one.score_sum, chunked.score_sum)
    np.testing.assert_array_equal(one.score_time, chunked.score_time)
    again = run_well(0.3, 1e-2, 2_000, 8, ["dynamics.temperature"], chunk_size=700, store=tmp_path / "s")
    np.testing.assert_array_equal(one.score_time, again.score_time)


def _bm_exit_time_partial_mean(t: float, n_terms: int = 200) -> float:
    """E[tau; tau <= t] for standard Brownian motion from 0 leaving (-1, 1), from the series of its survival
    P(tau > s) = (4/pi) sum_n (-1)^n / (2n + 1) exp(-(2n + 1)^2 pi^2 s / 8): the integral of the survival to t
    minus t P(tau > t)."""
    n = np.arange(n_terms)
    lam = (2 * n + 1) ** 2 * np.pi**2 / 8
    c = 4 / np.pi * (-1.0) ** n / (2 * n + 1)
    survival = float(np.sum(c * np.exp(-lam * t)))
    integral = float(np.sum(c / lam * (1 - np.exp(-lam * t))))
    return integral - t * survival


def test_capped_exit_time_temperature_derivative_is_at_a_fixed_t_max():
    """E[min(tau, t_max)] of Brownian motion sqrt(2T) W: d/dT at a fixed t_max is -E[tau; tau <= t_max] / T
    (tau = tau_1 / (2T)); the time change alone (a fixed number of steps) would drop t_max P(tau > t_max) / T."""
    T, t_max = 0.5, 1.0
    res = esc.simulate(esc.Quadratic(np.zeros((1, 1))), esc.Langevin(T, dt=1e-3), x0=[0.0], stop=esc.Box([-1.0], [1.0]),
                       n_paths=20_000, t_max=t_max, seed=3, sensitivities=["dynamics.temperature"])
    assert 0.2 < res.count(esc.Status.CENSORED) / res.n_paths < 0.6  # the cap's term matters
    est = res.sensitivity("capped_exit_time", "dynamics.temperature")
    exact = -_bm_exit_time_partial_mean(t_max) / T
    assert abs(est.value - exact) < 4 * est.stderr + 0.01 * abs(exact), (est, exact)
    assert any("t_max held fixed" in n for n in est.notes)
    # with drift, against finite differences with common random numbers (at a fixed dt and t_max)
    kw = dict(x0=[0.0], stop=esc.Box([-1.0], [1.0]), n_paths=20_000, t_max=1.0, seed=4,
              sensitivities=["dynamics.temperature"])
    ou = esc.Quadratic(np.eye(1))
    score = esc.simulate(ou, esc.Langevin(0.3, dt=1e-3), **kw).sensitivity("capped_exit_time", "dynamics.temperature")
    fd = esc.simulate(ou, esc.Langevin(0.3, dt=1e-3), sensitivity_method="fd", **kw).sensitivity(
        "capped_exit_time", "dynamics.temperature")
    assert abs(score.value - fd.value) < 4 * math.hypot(score.stderr, fd.stderr) + 0.02 * abs(fd.value), (score, fd)
    prob = esc.simulate(ou, esc.Langevin(0.3, dt=1e-3), **kw).sensitivity("exit_probability", "dynamics.temperature")
    assert any("sensitivity_method='fd'" in n for n in prob.notes)


def test_a_temperature_derivative_of_a_langevin_given_by_eps_names_eps():
    with pytest.raises(ValueError, match="given by 'eps'; differentiate in 'dynamics.eps'"):
        esc.simulate(esc.DoubleWell(), esc.Langevin(eps=1.0, dt=1e-2), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                     n_paths=10, t_max=10.0, seed=0, sensitivities=["dynamics.temperature"])
