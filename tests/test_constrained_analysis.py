"""Sections II-V of 000 checked numerically: equilibria of U_alpha are the KKT points, Proposition 1's decay of g,
Proposition 2's bound, biased forcings (Definition 1), Theorem 1's conditions, r and E, strong equilibria."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

import escapade as esc
from escapade.analysis import (
    biased_check,
    constrained_basin,
    constrained_equilibrium,
    drift_bound,
    feasibility_decay,
    kkt_residual,
    multiplier,
    proposition2_bound,
    strong_equilibrium,
    theorem1_check,
    unforced_drift,
)

PARABOLA = esc.Parabola()
ACKLEY = esc.Ackley()


def flow(constraint=PARABOLA, alpha=1.0, **kwargs):
    return esc.ConstrainedFlow(constraint, dt=0.01, alpha=alpha, **kwargs)


# --- equilibria of U_alpha (alpha > 0) are exactly the KKT points (Proposition 1) ---------------------------------


@pytest.mark.parametrize("landscape", [ACKLEY, esc.Quadratic(np.diag([1.0, 2.0]), center=[0.5, 1.5])],
                         ids=["ackley", "quadratic"])
def test_equilibria_of_the_drift_are_kkt_points(landscape):
    fl = flow(alpha=2.0, forcing=esc.Periodic(1.0, 1.0))  # the forcing is ignored: U_alpha alone
    found = 0
    for x0 in ([0.3, 0.6], [1.2, 1.4], [2.1, -2.0], [0.1, -0.4]):
        try:
            x = constrained_equilibrium(landscape, fl, x0)
        except ValueError:
            continue
        found += 1
        assert np.linalg.norm(unforced_drift(landscape, fl, x)) < 1e-10
        res = kkt_residual(landscape, PARABOLA, x)
        assert res.stationarity < 1e-9 and res.feasibility < 1e-10, res
        J = PARABOLA.jacobian(x)
        lam = -np.linalg.solve(J @ J.T, J @ landscape.gradient(x))  # eq. (3)
        np.testing.assert_allclose(res.multiplier, lam)
    assert found >= 2


@pytest.mark.parametrize("x0", [[2.0, 2.0], [0.6, -1.1], [4.5, 3.0]])
def test_kkt_points_are_equilibria(x0):
    cons = {"type": "eq", "fun": PARABOLA.value, "jac": PARABOLA.jacobian}
    sol = optimize.minimize(ACKLEY.value, x0, jac=ACKLEY.gradient, constraints=[cons], method="SLSQP",
                            options={"ftol": 1e-15, "maxiter": 500})
    assert sol.success
    assert kkt_residual(ACKLEY, PARABOLA, sol.x).is_kkt(1e-5)
    for alpha in (0.5, 1.0, 3.0):
        assert np.linalg.norm(unforced_drift(ACKLEY, flow(alpha=alpha), sol.x)) < 1e-5
    # polished by root-finding on the drift, it is the same point
    x = constrained_equilibrium(ACKLEY, flow(), sol.x)
    assert np.linalg.norm(x - sol.x) < 1e-5


def test_multiplier_matches_the_lagrangian_of_a_projection():
    # min |x - c|^2 / 2 on a.x = b: lambda = -(a.c - b) / |a|^2 ... sign from grad f + J^T lambda = 0 at x*
    a, b, c = np.array([1.0, 2.0]), 1.0, np.array([3.0, -1.0])
    con = esc.Affine([a], [b])
    q = esc.Quadratic(np.eye(2), center=c)
    x_star = c - a * (a @ c - b) / (a @ a)
    np.testing.assert_allclose(multiplier(q, con, x_star), [(a @ c - b) / (a @ a)])
    assert kkt_residual(q, con, x_star).is_kkt(1e-12)


# --- Proposition 1: g(x(t)) = exp(-alpha t) g(x0) -----------------------------------------------------------------


def recorded(landscape, fl, x0, t_max):
    res = esc.simulate(landscape, fl, x0=x0, n_paths=1, t_max=t_max, seed=0, record_paths=1)
    return res.trajectories[0]


def test_proposition1_decay_on_an_affine_constraint_is_exact_up_to_rounding():
    con = esc.Affine([[1.0, 1.0, 1.0]], [1.0])
    t, x = recorded(esc.Quadratic(np.eye(3), center=[3.0, -1.0, 2.0]), flow(con, alpha=2.0), [5.0, 5.0, 5.0], 5.0)
    # RK4 on g' = -2 g: error of exp(-2 dt) per step, (2 dt)^5 / 120 relative
    assert feasibility_decay(con, 2.0, t, x) < 1e-9


def test_proposition1_decay_on_the_parabola_to_integrator_accuracy():
    errs = []
    for dt in (0.01, 0.005):
        fl = esc.ConstrainedFlow(PARABOLA, dt=dt, alpha=1.0)
        t, x = recorded(ACKLEY, fl, [3.0, 1.0], 5.0)
        errs.append(feasibility_decay(PARABOLA, 1.0, t, x))
    assert errs[0] < 1e-5 and errs[1] < errs[0] / 8  # fourth order


def test_proposition1_decay_with_dp54():
    fl = esc.ConstrainedFlow(PARABOLA, dt=0.01, alpha=0.5, method="dp54", rtol=1e-10, atol=1e-12)
    t, x = recorded(ACKLEY, fl, [-2.0, 2.5], 5.0)
    assert feasibility_decay(PARABOLA, 0.5, t, x) < 1e-7


# --- Proposition 2 --------------------------------------------------------------------------------------------------


def test_proposition2_bound_under_constant_forcing():
    # g = x1 + x2 - 1, w = (c, 0): J w = c, so g(t) = c (1 - e^{-alpha t}) / alpha from a feasible start
    alpha, c = 1.0, 0.3
    con = esc.Affine([[1.0, 1.0]], [1.0])
    w = esc.TableForcing([0.0, 10.0], [[c, 0.0], [c, 0.0]])
    t, x = recorded(esc.Quadratic(np.eye(2)), flow(con, alpha=alpha, forcing=w), [0.5, 0.5], 8.0)
    g = np.abs(con.value(x)[:, 0])
    np.testing.assert_allclose(g, c * (1 - np.exp(-alpha * t)) / alpha, atol=1e-9)
    bound = proposition2_bound(alpha, t, xi=c, epsilon=0.05)
    np.testing.assert_allclose(bound.stated, c * t * np.exp(-alpha * t), atol=1e-12)
    assert np.all(g <= bound.corrected + 1e-9)
    np.testing.assert_allclose(bound.corrected, c * (1 - np.exp(-alpha * t)) / alpha, rtol=1e-4, atol=1e-12)
    # the stated bound (e^{-alpha t} int xi) goes to 0 while |g| -> c / alpha: it does not hold here
    assert g[-1] > 10 * bound.stated[-1]
    assert bound.t_epsilon == pytest.approx(bound.times[np.nonzero(bound.stated > 0.05)[0][-1] + 1])


# --- Definition 1: biased forcing ----------------------------------------------------------------------------------


def test_constant_forcing_is_biased_by_its_norm_for_any_delta():
    c = np.array([0.6, -0.8]) * 2.5
    for delta in (0.1, 1.0, 7.0):
        chk = biased_check(lambda t: np.tile(c, (len(t), 1)), delta, (0.0, 10.0), dt=0.05, epsilon=2.5)
        assert chk.epsilon == pytest.approx(2.5, rel=1e-12)
        assert chk.biased
        np.testing.assert_allclose(chk.directions, np.tile(c / 2.5, (len(chk.taus), 1)), atol=1e-12)


@pytest.mark.parametrize("delta", [0.5, 2.0])
def test_periodic_forcing_bias_is_the_chord_distance(delta):
    # w traces an arc of angle omega delta on the circle of radius A; for omega delta < pi the best v points at
    # the arc's middle and the margin is A cos(omega delta / 2)
    A, omega = 1.5, 0.8
    chk = biased_check(esc.Periodic(A, omega), delta, (0.0, 20.0), dt=0.01)
    assert chk.epsilon == pytest.approx(A * math.cos(omega * delta / 2), rel=1e-6)
    assert not biased_check(esc.Periodic(A, omega), delta, (0.0, 20.0), dt=0.01, epsilon=A).biased


def test_fast_periodic_forcing_is_not_biased():
    # a full turn inside each window: 0 is in the hull, no direction has a positive margin
    chk = biased_check(esc.Periodic(1.0, 10.0), 1.0, (0.0, 5.0), dt=0.01)
    assert chk.epsilon <= 1e-3


# --- Theorem 1: r, E and the verdict -------------------------------------------------------------------------------


def test_theorem1_verdict_by_hand():
    ok = theorem1_check(radius=0.5, drift_bound=1.0, delta=2.0, epsilon=1.6)  # 2 * 0.6 = 1.2 > 1
    assert ok.epsilon_exceeds_drift and ok.long_enough and ok.escapes
    short = theorem1_check(radius=0.5, drift_bound=1.0, delta=1.5, epsilon=1.6)  # 0.9 < 1
    assert short.epsilon_exceeds_drift and not short.long_enough and not short.escapes
    weak = theorem1_check(radius=0.5, drift_bound=1.0, delta=100.0, epsilon=0.9)
    assert not weak.epsilon_exceeds_drift and not weak.escapes


def test_drift_bound_of_a_linear_flow():
    # unconstrained U = -H x: sup over the ball of radius r is r * max eig H, on the boundary
    q = esc.Quadratic(np.diag([1.0, 3.0]))
    fl = esc.ConstrainedFlow(None, dt=0.01)
    assert drift_bound(q, fl, [0.0, 0.0], 0.7, n_samples=256) == pytest.approx(2.1, rel=1e-6)


def test_theorem1_on_a_sharp_ackley_minimum():
    fl = flow(alpha=1.0)
    end = recorded(ACKLEY, fl, [2.0, 2.0], 20.0)[1][-1]
    x_star = constrained_equilibrium(ACKLEY, fl, end)  # a local minimum of Ackley on the parabola, near (2, 2)
    assert kkt_residual(ACKLEY, PARABOLA, x_star).is_kkt(1e-9)
    basin = constrained_basin(ACKLEY, fl, x_star, x_star - 1.5, x_star + 1.5, 13, t_max=20.0, tol=0.05)
    assert basin.inside[84] and 0 < basin.fraction < 1 and 0 < basin.radius < 1.5 * math.sqrt(2)
    E = drift_bound(ACKLEY, fl, x_star, basin.radius, n_samples=512, n_refine=2)
    assert E >= np.linalg.norm(unforced_drift(ACKLEY, fl, x_star + [basin.radius, 0.0]))
    chk = biased_check(lambda t: np.tile([2 * E, 0.0], (len(t), 1)), 2.0, (0.0, 4.0), dt=0.1)
    verdict = theorem1_check(basin.radius, E, 2.0, chk.epsilon)
    assert verdict.escapes == (2.0 * (chk.epsilon - E) > 2 * basin.radius)
    assert verdict.escapes  # 2 E - E = E, and 2 E > 2 r here
    # and the forced flow does leave the ball around x_star
    forced = flow(alpha=1.0, forcing=esc.TableForcing([0.0, 5.0], [[2 * E, 0.0], [2 * E, 0.0]]))
    res = esc.simulate(ACKLEY, forced, x0=x_star, n_paths=1, t_max=2.0, seed=0,
                       stop=esc.Ball(x_star, basin.radius))
    assert res.status[0] == esc.Status.EXITED


# --- Definition 2: strong equilibrium -------------------------------------------------------------------------------


def test_strong_equilibrium_of_a_projection():
    a, b, c = np.array([1.0, 1.0]), 1.0, np.array([2.0, 0.0])
    con = esc.Affine([a], [b])
    q = esc.Quadratic(np.eye(2), center=c)
    x_star = c - a * (a @ c - b) / (a @ a)
    se = strong_equilibrium(q, con, x_star, beta=1.0, radius=1.0, n_samples=256)
    assert se.strong and se.gradient_norm < 1e-12
    assert se.tangent_min_eigenvalue == pytest.approx(1.0)
    assert se.hessian_min_eigenvalue == pytest.approx(1.0)  # I + beta a a^T
    assert 1.0 <= se.gamma1 < 1.01  # L_beta = |x - x*|^2 / 2 + beta g^2 / 2 here
    off = strong_equilibrium(q, con, x_star + [0.1, -0.1], beta=1.0, radius=1.0, n_samples=64)
    assert not off.strong


def test_strong_equilibrium_on_ackley_and_the_parabola():
    se = strong_equilibrium(ACKLEY, PARABOLA, [0.0, 0.0], beta=10.0, radius=0.2, n_samples=256)
    assert se.gradient_norm < 1e-12 and se.tangent_min_eigenvalue > 0 and se.strong


# --- bad input ------------------------------------------------------------------------------------------------------


def test_bad_input_names_the_argument():
    fl = flow()
    with pytest.raises(TypeError, match="flow"):
        unforced_drift(ACKLEY, "rk4", [0.0, 0.0])
    with pytest.raises(TypeError, match="landscape"):
        constrained_equilibrium(None, fl, [0.0, 0.0])
    with pytest.raises(ValueError, match="x0"):
        constrained_equilibrium(ACKLEY, fl, [0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="constraint"):
        multiplier(ACKLEY, None, [0.0, 0.0])
    with pytest.raises(ValueError, match="delta"):
        biased_check(esc.Periodic(1.0, 1.0), -1.0, (0.0, 1.0))
    with pytest.raises(ValueError, match="window"):
        biased_check(esc.Periodic(1.0, 1.0), 1.0, (2.0, 1.0))
    with pytest.raises(TypeError, match="window"):
        biased_check(esc.Periodic(1.0, 1.0), 1.0, (0.0, 1.0, 2.0))
    with pytest.raises(TypeError, match="w must"):
        biased_check(3.0, 1.0, (0.0, 1.0))
    with pytest.raises(ValueError, match="radius"):
        theorem1_check(-1.0, 1.0, 1.0, 1.0)
    with pytest.raises(TypeError, match="epsilon"):
        theorem1_check(1.0, 1.0, 1.0, "big")
    with pytest.raises(ValueError, match="times"):
        proposition2_bound(1.0, [0.0, 2.0, 1.0], xi=1.0)
    with pytest.raises(ValueError, match="xi"):
        proposition2_bound(1.0, [0.0, 1.0], xi=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        feasibility_decay(PARABOLA, -1.0, [0.0], [[0.0, 0.0]])
    with pytest.raises(ValueError, match="beta"):
        strong_equilibrium(ACKLEY, PARABOLA, [0.0, 0.0], beta=-1.0, radius=1.0)
