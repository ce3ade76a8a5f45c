"""Beyond gradient flows: time-dependent forcing of Langevin, drifts that are not gradients, and a user's
state-dependent diffusion, each against an independent reference (a Fokker-Planck solve, a numpy loop, the
spectral solve of the backward Kolmogorov equation, the quasi-potential, the 1-D quadrature), at fixed seeds with
tolerances from the standard error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.integrate import solve_ivp

import escapade as esc
from escapade import analysis

numba = pytest.importorskip("numba")

Z = 4.5  # standard errors allowed between an estimate and its exact reference


# ---- time-dependent drift: the noisy fold under a linear ramp ------------------------------------------------------


def fp_survival(b, T, lo, hi, x0, times, n=200):
    """P(tau > t) for dX = b(X, t) dt + sqrt(2 T) dW from x0, absorbed at hi, reflected at lo: the Fokker-Planck
    equation by finite volumes (n cells, central fluxes b p - T p', p = 0 on the absorbing face) and BDF in time."""
    h = (hi - lo) / n
    xc = lo + h * (np.arange(n) + 0.5)
    xf = lo + h * np.arange(n + 1)
    p0 = np.zeros(n)
    p0[np.argmin(abs(xc - x0))] = 1.0 / h

    def jac(t, p=None):
        bf = b(xf[1:n], t)  # the interior faces
        a_l, a_r = bf / 2 + T / h, bf / 2 - T / h  # flux = a_l p_left + a_r p_right
        main = np.zeros(n)
        main[:-1] -= a_l
        main[1:] += a_r
        main[-1] -= 2 * T / h  # the absorbing face, half a cell away
        return sp.diags([a_l / h, main / h, -a_r / h], [-1, 0, 1], format="csc")

    sol = solve_ivp(lambda t, p: jac(t) @ p, (0, times[-1]), p0, method="BDF", t_eval=times, jac=jac, rtol=1e-6,
                    atol=1e-9)
    return sol.y.sum(axis=0) * h


FOLD_T, FOLD_RATE, FOLD_EXIT = 0.05, 0.05, 0.5


def fold_reference(times):
    # dX = (X - X^3 + rate t) dt + sqrt(2 T) dW: the left well of the tilted double well meets the saddle (a fold)
    # at tilt 2 / (3 sqrt 3), t = 7.7; reflecting at -2.5 (where the density is below 1e-30), absorbed at 0.5.
    return fp_survival(lambda x, t: x - x**3 + FOLD_RATE * t, FOLD_T, -2.5, FOLD_EXIT, -1.0, times)


def check_switching(res, times, S_ref):
    assert np.all(res.status == esc.Status.EXITED)
    tau = res.exit_time
    n = tau.size
    for t, s in zip(times[1:], S_ref[1:]):
        emp = np.mean(tau > t)
        se = math.sqrt(max(s * (1 - s), 1e-4) / n)
        assert abs(emp - s) < Z * se + 2e-3, (t, emp, s)
    mean_ref = np.trapezoid(S_ref, times)
    assert abs(tau.mean() - mean_ref) < Z * tau.std() / math.sqrt(n) + 0.01, (tau.mean(), mean_ref)


def test_noisy_fold_under_a_ramp_against_fokker_planck():
    times = np.linspace(0, 25, 51)
    S_ref = fold_reference(times)
    assert S_ref[-1] < 1e-8  # every path switched by then
    dyn = esc.Langevin(temperature=FOLD_T, dt=1e-3, forcing=esc.Ramp([0.0], [FOLD_RATE]))
    res = esc.simulate(esc.DoubleWell(), dyn, x0=[-1.0], stop=esc.HalfSpace([1.0], FOLD_EXIT), n_paths=3000,
                       t_max=40.0, seed=11)
    check_switching(res, times, S_ref)
    assert res.params["dynamics"]["forcing"]["type"] == "Ramp"


def test_time_dependent_user_drift_against_fokker_planck():
    # The same fold as a user's b(x, t) = x - x^3 + rate t (numba, time-dependent) and as a batched numpy function.
    times = np.linspace(0, 25, 51)
    S_ref = fold_reference(times)

    @numba.njit
    def fold(x, t, out):
        out[0] = x[0] - x[0] ** 3 + FOLD_RATE * t

    dyn = esc.Langevin(temperature=FOLD_T, dt=1e-3)
    stop = esc.HalfSpace([1.0], FOLD_EXIT)
    res = esc.simulate(esc.CompiledDrift(1, fold, time_dependent=True), dyn, x0=[-1.0], stop=stop, n_paths=2000,
                       t_max=40.0, seed=12)
    check_switching(res, times, S_ref)
    batched = esc.BatchedDrift(1, lambda x, t: x - x**3 + FOLD_RATE * t[:, None], time_dependent=True)
    res = esc.simulate(batched, dyn, x0=[-1.0], stop=stop, n_paths=1024, t_max=40.0, seed=13, lanes=1024)
    check_switching(res, times, S_ref)


@pytest.mark.slow
def test_noisy_fold_under_a_ramp_against_fokker_planck_slow():
    times = np.linspace(0, 25, 101)
    S_ref = fp_survival(lambda x, t: x - x**3 + FOLD_RATE * t, FOLD_T, -2.5, FOLD_EXIT, -1.0, times, n=400)
    dyn = esc.Langevin(temperature=FOLD_T, dt=2.5e-4, forcing=esc.Ramp([0.0], [FOLD_RATE]))
    res = esc.simulate(esc.DoubleWell(), dyn, x0=[-1.0], stop=esc.HalfSpace([1.0], FOLD_EXIT), n_paths=40_000,
                       t_max=40.0, seed=14)
    check_switching(res, times, S_ref)


# ---- 000's forced flow with noise against a numpy loop -------------------------------------------------------------


def ackley_gradient(x, a=20.0, d=0.05, c=2 * np.pi):
    """grad f of 000 eq. (12) (escapade's Ackley, dim 2) for rows of x, written out independently."""
    n = x.shape[1]
    r = np.sqrt(np.sum(x**2, axis=1) / n + d**2)
    g1 = a * np.exp(-r)[:, None] * x / (n * r[:, None])
    e = np.exp(np.sum(np.cos(c * x), axis=1) / n)
    g2 = e[:, None] * c * np.sin(c * x) / n
    return g1 + g2


def test_forced_ackley_at_zero_noise_is_the_numpy_loop_bit_for_bit():
    # Langevin(T = 0) with the forcing of 000, Section VI: x' = x + dt (-grad f(x) + w(t)), t = k dt.
    f, w = esc.Ackley(), esc.Periodic(1.0, 0.5)
    dt, steps = 0.01, 300
    x0 = np.array([[2.3, -1.1], [0.4, 3.2], [-2.0, -2.5]])
    res = esc.simulate(f, esc.Langevin(temperature=0.0, dt=dt, forcing=w), x0=x0, max_steps=steps, seed=0)
    x = x0.copy()
    for k in range(steps):
        b = -f.gradient(x) + w(k * dt)
        x = x + dt * b
    assert np.array_equal(res.final_position, x)


def test_forced_ackley_with_noise_against_a_numpy_loop():
    # dX = (-grad f(X) + w(t)) dt + sqrt(2 T) dW: the probability of reaching the unit ball around the global minimum
    # by t = 4 and the mean time of those that do, escapade against an independent Euler-Maruyama loop in numpy.
    f, w = esc.Ackley(), esc.Periodic(1.0, 1.0)
    T, dt, t_max, n = 0.1, 5e-3, 4.0, 4000
    x0 = np.array([2.2, -1.3])
    res = esc.simulate(f, esc.Langevin(temperature=T, dt=dt, forcing=w), x0=x0, target=esc.Ball([0.0, 0.0], 1.0),
                       n_paths=n, t_max=t_max, seed=21, bridge=False)
    hit = res.status == esc.Status.HIT
    rng = np.random.default_rng(22)
    x = np.tile(x0, (n, 1))
    t_hit = np.full(n, np.nan)
    alive = np.ones(n, bool)
    for k in range(round(t_max / dt)):
        wt = np.array([math.cos(k * dt), math.sin(k * dt)])
        xa = x[alive]
        x[alive] = xa + dt * (-ackley_gradient(xa) + wt) + math.sqrt(2 * T * dt) * rng.standard_normal(xa.shape)
        now = alive & (np.sum(x**2, axis=1) < 1.0)
        t_hit[now] = (k + 1) * dt
        alive &= ~now
    p_esc, p_np = hit.mean(), np.mean(~alive)
    se = math.sqrt(p_np * (1 - p_np) * 2 / n)
    assert 0.1 < p_np < 0.9
    assert abs(p_esc - p_np) < Z * se, (p_esc, p_np)
    m_esc, m_np = res.exit_time[hit].mean(), np.nanmean(t_hit)
    se = math.sqrt(res.exit_time[hit].var() / hit.sum() + np.nanvar(t_hit) / np.sum(~alive))
    assert abs(m_esc - m_np) < Z * se, (m_esc, m_np)


def test_zero_forcing_keeps_langevin_bits():
    # The general integrator with w = 0 takes the same steps as the plain one: x + dt (-g) + s z = (x - dt g) + s z.
    args = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=64, t_max=20.0, seed=5)
    plain = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), **args)
    forced = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01, forcing=esc.Ramp(0.0, 0.0)),
                          **args)
    assert np.array_equal(plain.exit_time, forced.exit_time, equal_nan=True)
    assert "forcing" not in plain.params["dynamics"]


# ---- drifts that are not gradients --------------------------------------------------------------------------------

A_NONNORMAL = np.array([[1.0, 3.0], [-0.5, 1.5]])


def test_nonnormal_linear_exit_from_an_ellipse_against_the_exact_solve():
    # dX = -A X dt + sqrt(2 T) dW with non-symmetric A, leaving an ellipse; the reference solves the backward
    # Kolmogorov equation L u = -1 (spectral collocation, analysis.linear_mean_exit_time).
    T = 0.1
    region = esc.Ellipsoid.from_axes([0.0, 0.0], [0.8, 0.5], rotation=[[0.8, -0.6], [0.6, 0.8]])
    exact = analysis.linear_mean_exit_time(A_NONNORMAL, 2 * T * np.eye(2), region)
    res = esc.simulate(esc.LinearDrift(A_NONNORMAL), esc.Langevin(temperature=T, dt=1e-3), x0=[0.0, 0.0],
                       stop=region, n_paths=4000, t_max=200.0, seed=31)
    tau = res.exit_time
    assert np.all(res.status == esc.Status.EXITED)
    se = tau.std() / math.sqrt(tau.size)
    assert abs(tau.mean() - exact) < Z * se + 0.01 * exact, (tau.mean(), exact, se)


def fw_exponents(eps2):
    """V0 fitted to the exact mean exit times of dX = -A X dt + eps dW from the unit disk at each three successive
    noise levels of eps2: log E[tau] = V0 / eps^2 + m log eps + c."""
    e = np.asarray(eps2)
    logs = np.array([math.log(analysis.linear_mean_exit_time(A_NONNORMAL, v * np.eye(2), esc.Ball([0.0, 0.0], 1.0),
                                                             rtol=1e-8)) for v in e])
    return [np.linalg.solve(np.column_stack([1 / e[i:i + 3], 0.5 * np.log(e[i:i + 3]), np.ones(3)]), logs[i:i + 3])[0]
            for i in range(len(e) - 2)]


def test_freidlin_wentzell_exponent_of_a_nonnormal_linear_sde():
    # E[tau] ~ C eps^m exp(V0 / eps^2) for dX = -A X dt + eps dW leaving the unit disk, V0 the minimum of the
    # quasi-potential x^T P^-1 x / 2 on the circle (A P + P A^T = I). The exponent fitted to the exact mean exit
    # times at three noise levels tends to V0 as the levels fall (the prefactor's O(eps^2) corrections: 5.4% off at
    # eps^2 = 0.14..0.10, 2.6% at 0.12..0.08, 0.3% at 0.08..0.05 in the slow test); the simulation follows the exact
    # mean at two moderate levels, so its exponent is the quasi-potential's.
    V0, _ = analysis.linear_quasipotential(A_NONNORMAL).ball_exit(1.0)
    coarse, finer = fw_exponents([0.14, 0.12, 0.10, 0.08])
    assert abs(finer - V0) < 0.5 * abs(coarse - V0)
    assert abs(finer - V0) < 0.03 * V0, (finer, V0)
    for k, e2 in enumerate((0.6, 0.4)):
        exact = analysis.linear_mean_exit_time(A_NONNORMAL, e2 * np.eye(2), esc.Ball([0.0, 0.0], 1.0))
        res = esc.simulate(esc.LinearDrift(A_NONNORMAL), esc.Langevin(eps=math.sqrt(e2), dt=2e-3), x0=[0.0, 0.0],
                           stop=esc.Ball([0.0, 0.0], 1.0), n_paths=2000, t_max=500.0, seed=40 + k)
        tau = res.exit_time
        se = tau.std() / math.sqrt(tau.size)
        assert abs(tau.mean() - exact) < Z * se + 0.01 * exact, (e2, tau.mean(), exact)


@pytest.mark.slow
def test_freidlin_wentzell_exponent_of_a_nonnormal_linear_sde_slow():
    V0, _ = analysis.linear_quasipotential(A_NONNORMAL).ball_exit(1.0)
    assert abs(fw_exponents([0.08, 0.06, 0.05])[0] - V0) < 0.005 * V0


def test_tilted_periodic_exit_against_quadrature():
    # In 1-D the washboard's force is -U' with U = -V0 cos x - F x: the quadrature with that potential.
    F, V0, T = 0.3, 0.5, 0.25
    drift = esc.TiltedPeriodic(F, barrier=V0)
    assert np.allclose(drift.field(np.array([[0.7]])), F - V0 * math.sin(0.7))
    exact = analysis.langevin_mean_exit_time_1d(lambda x: -V0 * math.cos(x) - F * x, T, 0.0, -2.0, 2.5)
    # the general quadrature takes the 1-D drift as its a(x)
    assert analysis.mean_exit_time_1d(drift, 2 * T, 0.0, -2.0, 2.5) == pytest.approx(exact, rel=1e-7)
    res = esc.simulate(drift, esc.Langevin(temperature=T, dt=1e-3), x0=[0.0], stop=esc.Box([-2.0], [2.5]),
                       n_paths=4000, t_max=500.0, seed=51)
    tau = res.exit_time
    se = tau.std() / math.sqrt(tau.size)
    assert abs(tau.mean() - exact) < Z * se + 0.005 * exact, (tau.mean(), exact)


def test_a_drift_is_never_a_gradient():
    b = esc.LinearDrift(A_NONNORMAL)
    assert not isinstance(b, esc.Landscape)
    with pytest.raises(TypeError, match="not a landscape"):
        b.gradient([0.0, 0.0])
    with pytest.raises(TypeError, match="landscape"):
        analysis.critical_point(b, [0.0, 0.0])
    with pytest.raises(TypeError, match="landscape"):
        esc.simulate(b, esc.HeavyBall(0.1), x0=[0.1, 0.1], max_steps=3, seed=0)
    # The minimum action path takes the drift as the vector field it is.
    assert np.allclose(b.field([1.0, 2.0]), -A_NONNORMAL @ [1.0, 2.0])


# ---- state-dependent diffusion: D(x) = 1 + x^2 / 2 -----------------------------------------------------------------


@numba.njit
def s_factor(x, out):
    out[0, 0] = math.sqrt(1.0 + 0.5 * x[0] ** 2)


def batched_factor(x):
    return np.sqrt(1.0 + 0.5 * x**2)[:, :, None]


def exit_check(res, exact, rel=0.01):
    tau = res.exit_time
    assert np.all(res.status == esc.Status.EXITED)
    se = tau.std() / math.sqrt(tau.size)
    assert abs(tau.mean() - exact) < Z * se + rel * exact, (tau.mean(), exact, se)


@pytest.mark.parametrize("S", [s_factor, batched_factor], ids=["numba", "batched"])
def test_state_dependent_diffusion_against_quadrature(S):
    # dX = -f'(X) dt + sqrt(2) S(X) dW, S^2 = D = 1 + X^2 / 2 (eps = sqrt 2): the 1-D quadrature with
    # sigma^2(x) = 2 D(x), on the double well from its minimum to the interval (-2, 0.5).
    exact = analysis.mean_exit_time_1d(lambda x: x - x**3, lambda x: 2 + x**2, -1.0, -2.0, 0.5)
    dyn = esc.Langevin(eps=math.sqrt(2), dt=1e-3, S=S)
    lanes = 1024 if S is batched_factor else None
    res = esc.simulate(esc.DoubleWell(), dyn, x0=[-1.0], stop=esc.Box([-2.0], [0.5]), n_paths=3000, t_max=500.0,
                       seed=61, lanes=lanes)
    exit_check(res, exact)


def test_ito_correction_against_quadrature():
    # With ito_correction the drift is -D f' + D' (T = eps^2 / 2 = 1): the one whose stationary law is exp(-f).
    exact = analysis.mean_exit_time_1d(lambda x: -(1 + x**2 / 2) * (x**3 - x) + x, lambda x: 2 + x**2, -1.0, -2.0,
                                       0.5)
    dyn = esc.Langevin(eps=math.sqrt(2), dt=1e-3, S=s_factor, ito_correction=True)
    res = esc.simulate(esc.DoubleWell(), dyn, x0=[-1.0], stop=esc.Box([-2.0], [0.5]), n_paths=3000, t_max=500.0,
                       seed=62)
    exit_check(res, exact)
    assert res.params["dynamics"]["ito_correction"] is True


def test_ito_correction_samples_the_stationary_law():
    # A long run in a wide box: the positions after t = 20 follow exp(-f) / Z on the double well (T = 1), whatever D.
    dyn = esc.Langevin(eps=math.sqrt(2), dt=2e-3, S=s_factor, ito_correction=True)
    res = esc.simulate(esc.DoubleWell(), dyn, x0=[-1.0], n_paths=4000, t_max=20.0, seed=63)
    x = res.final_position[:, 0]
    grid = np.linspace(-6, 6, 24001)
    p = np.exp(-(grid**4 / 4 - grid**2 / 2))
    mean2 = np.trapezoid(grid**2 * p, grid) / np.trapezoid(p, grid)
    se = np.std(x**2) / math.sqrt(x.size)
    assert abs(np.mean(x**2) - mean2) < Z * se + 0.01 * mean2, (np.mean(x**2), mean2)


def test_frozen_bridge_beats_no_bridge_at_a_coarse_step():
    # The bridge with the step's covariance frozen at its start: at dt = 1e-2 its error is far below that of
    # monitoring the steps only (O(sqrt dt)).
    exact = analysis.mean_exit_time_1d(lambda x: x - x**3, lambda x: 2 + x**2, -1.0, -2.0, 0.5)
    dyn = esc.Langevin(eps=math.sqrt(2), dt=1e-2, S=s_factor)
    args = dict(x0=[-1.0], stop=esc.Box([-2.0], [0.5]), n_paths=4000, t_max=500.0, seed=64)
    bridged = esc.simulate(esc.DoubleWell(), dyn, **args).exit_time.mean()
    plain = esc.simulate(esc.DoubleWell(), dyn, bridge=False, **args).exit_time.mean()
    assert abs(bridged - exact) < 0.3 * abs(plain - exact), (bridged, plain, exact)


@pytest.mark.slow
def test_state_dependent_diffusion_against_quadrature_slow():
    exact = analysis.mean_exit_time_1d(lambda x: x - x**3, lambda x: 2 + x**2, -1.0, -2.0, 0.5)
    dyn = esc.Langevin(eps=math.sqrt(2), dt=2.5e-4, S=s_factor)
    res = esc.simulate(esc.DoubleWell(), dyn, x0=[-1.0], stop=esc.Box([-2.0], [0.5]), n_paths=40_000, t_max=500.0,
                       seed=65)
    exit_check(res, exact, rel=0.003)


def test_levy_langevin_takes_a_forcing():
    # At scale 0 the jump dynamics is the forced flow: x' = (x - dt grad f) + dt w(t), bit for bit with a numpy loop;
    # without a forcing it keeps its bits and its params.
    f, w = esc.DoubleWell(), esc.Ramp([0.2], [0.5])
    dt, steps = 0.01, 200
    res = esc.simulate(f, esc.LevyLangevin(1.5, 0.0, dt=dt, forcing=w), x0=[[-1.0]], max_steps=steps, seed=0)
    x = np.array([[-1.0]])
    for k in range(steps):
        x = (x - dt * f.gradient(x)) + dt * w(k * dt)
    assert np.array_equal(res.final_position, x)
    args = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=32, t_max=5.0, seed=3)
    plain = esc.simulate(f, esc.LevyLangevin(1.5, 0.5, dt=dt), **args)
    zero = esc.simulate(f, esc.LevyLangevin(1.5, 0.5, dt=dt, forcing=esc.Ramp(0.0, 0.0)), **args)
    assert np.array_equal(plain.exit_time, zero.exit_time, equal_nan=True)
    assert "forcing" not in plain.params["dynamics"]
