"""Constrained flows (000): constraints, the projected drift, RK4 / DP54 / Euler-Maruyama, forcings, success rates
with Wilson intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

import escapade as esc
from escapade.analysis import grid_points, quantity_of, success_rate, wilson_interval

K, A, OMEGA, X0 = 1.5, 0.8, 2.0, 1.0  # x' = -K x + A cos(OMEGA t), x(0) = X0


def forced_decay(t):
    """Closed form of x' = -K x + A cos(OMEGA t), x(0) = X0."""
    s = A / (K * K + OMEGA * OMEGA)
    return math.exp(-K * t) * (X0 - s * K) + s * (K * math.cos(OMEGA * t) + OMEGA * math.sin(OMEGA * t))


def forced_flow(method, dt, **kwargs):
    forcing = esc.Periodic(A, OMEGA, directions=[[1.0, 0.0]])
    return esc.ConstrainedFlow(dt=dt, forcing=forcing, method=method, **kwargs)


def end_point(landscape, flow, x0, t_max, **kwargs):
    """x(t_max) of one path (recorded at its start and end)."""
    res = esc.simulate(landscape, flow, x0=x0, n_paths=1, t_max=t_max, seed=0, record_paths=1,
                       record_every=2**40, **kwargs)
    t, x = res.trajectories[0]
    return t[-1], x[-1]


# --- integrators ------------------------------------------------------------------------------------------------


def test_rk4_is_fourth_order_on_a_forced_linear_ode():
    f = esc.Quadratic([[K]])
    errors = []
    for dt in (0.1, 0.05, 0.025):
        t, x = end_point(f, forced_flow("rk4", dt), [X0], 2.0)
        assert t == pytest.approx(2.0)
        errors.append(abs(x[0] - forced_decay(2.0)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 3.8) & (orders < 4.2)), (errors, orders)


def test_euler_is_first_order():
    f = esc.Quadratic([[K]])
    e1 = abs(end_point(f, forced_flow("euler", 0.01), [X0], 2.0)[1][0] - forced_decay(2.0))
    e2 = abs(end_point(f, forced_flow("euler", 0.005), [X0], 2.0)[1][0] - forced_decay(2.0))
    assert 1.8 < e1 / e2 < 2.2


@pytest.mark.parametrize("rtol", [1e-5, 1e-8])
def test_dp54_meets_its_tolerance_and_stops_at_t_max(rtol):
    f = esc.Quadratic([[K]])
    t, x = end_point(f, forced_flow("dp54", 0.1, rtol=rtol, atol=rtol * 1e-2), [X0], 3.0)
    assert t == 3.0  # the last step lands on the cap exactly
    assert abs(x[0] - forced_decay(3.0)) < 10 * rtol


def test_dp54_takes_few_steps_and_reports_its_own_time():
    f = esc.Quadratic([[K]])
    res = esc.simulate(f, forced_flow("dp54", 0.1, rtol=1e-6), x0=[X0], n_paths=3, t_max=10.0, seed=0)
    assert np.all(res.status == esc.Status.CENSORED)
    assert np.all(res.exit_step < 200)  # attempted steps, far fewer than 10 / 0.001
    assert res.params["max_time"] == 10.0
    assert res.summary().mean_lower_bound == pytest.approx(10.0)  # censored paths count at the time cap


def test_dp54_with_atol_0_takes_a_coordinate_that_stays_0_as_exact():
    """With atol = 0 a coordinate that stays exactly 0 has error scale 0: its error, also 0, was 0 / 0 and every
    step was rejected for ever (a hang). It now adds no error: the flow x' = -x from (0.5, 0) reaches t_max = 1 in
    a few steps, at 0.5 e^-1 to the tolerance, and the second coordinate stays 0."""
    res = esc.simulate(esc.Quadratic(np.eye(2)), esc.ConstrainedFlow(dt=0.1, method="dp54", atol=0.0, rtol=1e-8),
                       x0=[0.5, 0.0], stop=esc.Ball([0.0, 0.0], 1.0), n_paths=1, t_max=1.0, max_steps=1000, seed=0)
    assert res.status[0] == esc.Status.CENSORED and res.exit_step[0] < 100
    assert res.final_position[0, 0] == pytest.approx(0.5 * np.exp(-1.0), rel=1e-7) and res.final_position[0, 1] == 0


def test_dp54_reuses_the_last_stage_and_a_rejected_first_stage():
    ackley, rows = esc.Ackley(), [0]

    def counted(x):
        rows[0] += x.shape[0]
        return ackley.gradient(np.array(x))

    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.01, alpha=1.0, method="dp54", forcing=esc.Periodic(1.0, 0.27826))
    # no target: every path runs to t_max, so the block of 8 lanes stays full but for the last steps of its paths
    kw = dict(x0=esc.UniformBox([-4.0, -4.0], [4.0, 4.0]), n_paths=16, t_max=20.0, seed=0, threads=1, lanes=8)
    res = esc.simulate(esc.BatchedLandscape(2, counted), flow, **kw)
    attempted = int(np.sum(res.exit_step))
    # 6 evaluations per attempted step and 1 per path, plus idle lanes while a block waits for its slowest path;
    # without reuse 7 per attempted step
    assert 6 * attempted + res.n_paths <= rows[0] < 6.6 * attempted + res.n_paths
    # the same attempted steps as the built-in, whose blocks are packed differently (other sub-blocks gathered)
    assert np.array_equal(esc.simulate(ackley, flow, **kw).exit_step, res.exit_step)


def test_event_time_is_located_on_the_dense_output():
    # First time x(t) drops below 0.3 (leaves the half-space x > 0.3).
    level = 0.3
    t_star = optimize.brentq(lambda t: forced_decay(t) - level, 0.0, 1.5)
    f = esc.Quadratic([[K]])
    stop = esc.HalfSpace(normal=[-1.0], offset=-level)
    for method, dt, tol in (("dp54", 0.2, 1e-8), ("rk4", 0.01, 1e-8), ("euler", 0.001, 1e-3)):
        flow = forced_flow(method, dt, rtol=1e-10, atol=1e-12, event_tol=1e-12)
        res = esc.simulate(f, flow, x0=[X0], stop=stop, n_paths=1, t_max=5.0, seed=0)
        assert res.status[0] == esc.Status.EXITED
        assert abs(res.exit_time[0] - t_star) < tol, method
        assert res.exit_position[0, 0] == pytest.approx(level, abs=1e-12 if method != "dp54" else 1e-8)
        if method == "dp54":
            assert res.exit_step[0] < 40  # the event did not need small steps


# x' = diag(1, 1/2) x from (0.3, 0.2): x(t) = (0.3 e^t, 0.2 e^(t/2)) leaves the unit disc when u = e^t solves
# 0.09 u^2 + 0.04 u = 1.
GROWTH, GROWTH_X0 = esc.Quadratic([[-1.0, 0.0], [0.0, -0.5]]), [0.3, 0.2]
GROWTH_EXIT = math.log((-0.04 + math.sqrt(0.04**2 + 4 * 0.09)) / 0.18)


@pytest.mark.parametrize("method, dts, order", [("rk4", (0.2, 0.1, 0.05, 0.025), 4),
                                                ("euler", (0.02, 0.01, 0.005, 0.0025), 1)])
def test_fixed_step_exits_are_located_at_the_methods_order(method, dts, order):
    errors = []
    for dt in dts:
        res = esc.simulate(GROWTH, esc.ConstrainedFlow(dt=dt, method=method), x0=GROWTH_X0,
                           stop=esc.Ball([0.0, 0.0], 1.0), n_paths=1, t_max=5.0, seed=0, record_paths=1)
        assert res.status[0] == esc.Status.EXITED
        assert res.params["semantics"] >= 2
        t = res.exit_time[0]
        # inside the last step, not at its end, and on the circle
        assert (res.exit_step[0] - 1) * dt < t < res.exit_step[0] * dt
        assert np.linalg.norm(res.exit_position[0]) == pytest.approx(1.0, abs=1e-12)
        # the recorded path ends at the located point
        tr, xr = res.trajectories[0]
        assert tr[-1] == t and np.array_equal(xr[-1], res.exit_position[0])
        errors.append(abs(t - GROWTH_EXIT))
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert order - 0.5 < slope < order + 0.5, (errors, slope)


def test_fixed_step_hits_are_located_too():
    # x' = -x from 1 enters the target |x| < 0.5 at ln 2, located to RK4's accuracy (not at a multiple of dt).
    res = esc.simulate(esc.Quadratic([[1.0]]), esc.ConstrainedFlow(dt=0.1), x0=[1.0], target=esc.Ball([0.0], 0.5),
                       n_paths=1, t_max=5.0, seed=0)
    assert res.status[0] == esc.Status.HIT
    assert abs(res.exit_time[0] - math.log(2.0)) < 1e-6
    assert res.exit_position[0, 0] == pytest.approx(0.5, abs=1e-12)


# --- constraints and the projected drift ------------------------------------------------------------------------


def test_constraints_value_and_jacobian():
    x = np.array([0.7, -1.2, 0.4])
    p = esc.Parabola(dim=3)
    assert p.value(x) == pytest.approx([0.7 - (1.44 + 0.16) / 2])
    np.testing.assert_allclose(p.jacobian(x), [[1.0, 1.2, -0.4]])
    s = esc.Sphere(center=[1.0, 0.0, 0.0], radius=2.0)
    assert s.value(x) == pytest.approx([0.09 + 1.44 + 0.16 - 4.0])
    np.testing.assert_allclose(s.jacobian(x), [2 * (x - [1.0, 0.0, 0.0])])
    Am = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]])
    a = esc.Affine(Am, [1.0, 2.0])
    np.testing.assert_allclose(a.value(x), Am @ x - [1.0, 2.0])
    np.testing.assert_allclose(a.jacobian(x), Am)
    np.testing.assert_allclose(a.value(np.stack([x, 2 * x])), np.stack([Am @ x, Am @ (2 * x)]) - [1.0, 2.0])


def test_projected_drift_matches_the_formula():
    f = esc.Ackley()
    alpha = 0.7
    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.01, alpha=alpha, forcing=esc.Periodic(0.5, 3.0))
    rng = np.random.default_rng(1)
    for x in rng.uniform(-3, 3, size=(5, 2)):
        t = rng.uniform(0, 5)
        J = np.array([[1.0, -x[1]]])
        g = np.array([x[0] - x[1] ** 2 / 2])
        M = np.linalg.inv(J @ J.T)
        U = -(np.eye(2) - J.T @ M @ J) @ f.gradient(x) - alpha * (J.T @ M @ g)
        w = 0.5 * np.array([math.cos(3 * t), math.sin(3 * t)])
        np.testing.assert_allclose(flow.drift(f, x, t), U + w, rtol=1e-12, atol=1e-12)
        # 000's closed form for the parabola
        U2 = -np.array([[x[1] ** 2, x[1]], [x[1], 1]]) / (1 + x[1] ** 2) @ f.gradient(x) \
            - alpha * g[0] / (1 + x[1] ** 2) * np.array([1.0, -x[1]])
        np.testing.assert_allclose(U, U2, rtol=1e-12, atol=1e-12)


def test_affine_infeasibility_decays_exactly_like_exp_minus_alpha_t():
    # J U = -alpha g at every point, so every RK4 stage of g is the RK4 stage of g' = -alpha g: g_n = R(-alpha h)^n g0
    alpha, h, n = 0.8, 0.05, 60
    Am, b = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, -2.0]]), np.array([0.5, -1.0])
    flow = esc.ConstrainedFlow(esc.Affine(Am, b), dt=h, alpha=alpha)
    x0 = np.array([2.0, -1.0, 0.7])
    res = esc.simulate(esc.Quadratic(np.diag([1.0, 2.0, 3.0])), flow, x0=x0, n_paths=1, max_steps=n, seed=0,
                       record_paths=1)
    t, xs = res.trajectories[0]
    g = xs @ Am.T - b
    z = -alpha * h
    R = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
    g0 = Am @ x0 - b
    np.testing.assert_allclose(g, np.outer(R ** np.arange(n + 1), g0), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g, np.outer(np.exp(-alpha * t), g0), rtol=1e-6)


def test_feasible_paths_stay_feasible_and_reach_the_constrained_minimizer_on_a_sphere():
    c = np.array([1.0, 2.0, -2.0])
    f = esc.Quadratic(np.eye(3), center=c)  # min |x - c|^2 / 2 on |x| = 2: x* = 2 c / |c|
    flow = esc.ConstrainedFlow(esc.Sphere(center=[0.0, 0.0, 0.0], radius=2.0), dt=0.01, alpha=1.0)
    x0 = np.array([[0.0, 0.0, 2.0], [2.0, 0.0, 0.0], [0.0, -2.0, 0.0]])
    res = esc.simulate(f, flow, x0=x0, t_max=30.0, seed=0, record_paths=3, record_every=10)
    for _, xs in res.trajectories:
        assert np.max(np.abs(np.sum(xs**2, axis=1) - 4.0)) < 1e-7
        np.testing.assert_allclose(xs[-1], 2 * c / np.linalg.norm(c), atol=1e-8)


def test_dp54_reaches_the_minimizer_on_an_affine_set():
    c = np.array([3.0, -1.0, 2.0])
    Am, b = np.array([[1.0, 1.0, 1.0]]), np.array([1.0])
    x_star = c - Am.T @ np.linalg.solve(Am @ Am.T, Am @ c - b)
    flow = esc.ConstrainedFlow(esc.Affine(Am, b), dt=0.1, alpha=2.0, method="dp54", rtol=1e-10, atol=1e-12)
    res = esc.simulate(esc.Quadratic(np.eye(3), center=c), flow, x0=[[5.0, 5.0, 5.0]], t_max=40.0, seed=0,
                       record_paths=1, record_every=2**40)
    np.testing.assert_allclose(res.trajectories[0][1][-1], x_star, atol=1e-8)


@pytest.mark.parametrize("method", ["euler", "rk4", "dp54"])
def test_singular_jacobian_ends_the_path_with_its_own_status(method):
    # J = 2x vanishes at the sphere's center; dependent rows of A make J J^T singular everywhere.
    sphere = esc.ConstrainedFlow(esc.Sphere(center=[0.0, 0.0], radius=1.0), dt=0.01, method=method)
    res = esc.simulate(esc.Quadratic(np.eye(2)), sphere, x0=[[0.0, 0.0], [0.5, 0.1]], t_max=1.0, seed=0)
    assert res.status.tolist() == [esc.Status.SINGULAR, esc.Status.CENSORED]
    assert res.exit_time[0] == 0.0 and np.all(res.exit_position[0] == 0.0)
    dependent = esc.ConstrainedFlow(esc.Affine([[1.0, 1.0], [2.0, 2.0]], [0.0, 1.0]), dt=0.01, method=method)
    res = esc.simulate(esc.Quadratic(np.eye(2)), dependent, x0=[0.3, 0.2], n_paths=4, t_max=1.0, seed=0)
    assert np.all(res.status == esc.Status.SINGULAR)
    assert np.all(np.isfinite(res.exit_position))
    assert res.summary().counts["SINGULAR"] == 4
    assert np.all(np.isnan(dependent.drift(esc.Quadratic(np.eye(2)), [0.3, 0.2])))


# --- forcing ---------------------------------------------------------------------------------------------------


def test_periodic_forcing_in_a_plane_and_with_directions():
    w = esc.Periodic(2.0, 0.5, dim=3, plane=(2, 0), phase=0.1)
    t = np.array([0.0, 1.0, 7.3])
    expected = np.zeros((3, 3))
    expected[:, 2], expected[:, 0] = 2 * np.cos(0.5 * t + 0.1), 2 * np.sin(0.5 * t + 0.1)
    np.testing.assert_allclose(w(t), expected, atol=1e-15)
    M = np.array([[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(esc.Periodic(1.0, 1.0, directions=M)(t), np.stack([np.cos(t), np.cos(t) + np.sin(t)], 1))


def test_table_forcing_interpolates():
    w = esc.TableForcing([0.0, 1.0, 3.0], [[0.0, 1.0], [2.0, 1.0], [0.0, -1.0]])
    np.testing.assert_allclose(w([-1.0, 0.5, 2.0, 9.0]), [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, -1.0]])


def test_random_directions_are_unit_pushes_held_for_tau():
    w = esc.RandomDirections(1.5, 0.5, dim=3)
    v = w(np.array([0.0, 0.2, 0.49, 0.5, 0.9]), seed=3, path=7)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.5)
    np.testing.assert_array_equal(v[0], v[2])
    assert not np.allclose(v[2], v[3])
    assert not np.allclose(v, w(np.array([0.0, 0.2, 0.49, 0.5, 0.9]), seed=3, path=8))


def test_brownian_forcing_has_brownian_statistics():
    w = esc.BrownianForcing(2.0, horizon=8.0, dim=2, resolution=1e-2)
    t = np.array([0.0, 1.0, 3.0, 8.0])
    paths = np.stack([w(t, seed=5, path=p) for p in range(2000)])  # (paths, times, dims)
    assert np.all(paths[:, 0] == 0.0)
    var = paths[:, 1:].var(axis=0)  # scale^2 t per coordinate
    expected = 4.0 * t[1:, None]
    se = expected * math.sqrt(2 / 2000)
    assert np.all(np.abs(var - expected) < 4 * se)
    incr = paths[:, 3] - paths[:, 2]  # independent of B(3)
    assert abs(np.corrcoef(incr[:, 0], paths[:, 2, 0])[0, 1]) < 4 / math.sqrt(2000)
    # between the dyadic times the path is linear: the same at any resolution where both are nodes
    np.testing.assert_array_equal(w(np.array([2.0]), seed=1, path=0), w(np.array([2.0]), seed=1, path=0))


def test_brownian_forcing_bits_do_not_depend_on_the_order_of_calls():
    """Each thread keeps a path's chain of dyadic intervals between calls and climbs only as far as a new time needs;
    every value must be the one a walk from the root gives (a fresh forcing object has no chain yet), whatever the
    order of times and paths, including paths that share a slot of the table (0, 256, 512)."""
    kw = dict(horizon=4.0, dim=3, resolution=1e-3)
    w = esc.BrownianForcing(1.3, **kw)
    rng = np.random.default_rng(0)
    grid = np.arange(0.0, 4.2, 0.0037)  # forward in steps, past the horizon at the end
    times = np.concatenate([grid, rng.uniform(-0.5, 4.5, 60), grid[::-7], [2.0, 1.0, 0.5, 4.0, 0.0, 1e9]])
    for path in (0, 256, 1, 512):
        got = w(times, seed=9, path=path)
        for k in rng.choice(len(times), 40, replace=False).tolist() + [len(times) - 1]:
            fresh = esc.BrownianForcing(1.3, **kw)(times[k:k + 1], seed=9, path=path)
            np.testing.assert_array_equal(got[k:k + 1], fresh)
    # interleaved paths, one time at a time: each call meets another path's chain in the shared slot
    for t in grid[::13]:
        for path in (0, 256):
            np.testing.assert_array_equal(w([t], seed=9, path=path),
                                          esc.BrownianForcing(1.3, **kw)([t], seed=9, path=path))


@pytest.mark.parametrize("method, noise", [("rk4", 0.0), ("dp54", 0.0), ("euler", 0.3), ("euler", 0.0)])
@pytest.mark.parametrize("forcing", [esc.BrownianForcing(1.0, horizon=5.0), esc.RandomDirections(2.0, 0.3)])
def test_forced_runs_are_bitwise_the_same_for_any_thread_count(method, noise, forcing):
    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.02, alpha=1.0, forcing=forcing, method=method, noise=noise)
    kw = dict(x0=esc.UniformBox([-3.0, -3.0], [3.0, 3.0]), target=esc.Ball([0.0, 0.0], 1.0), n_paths=150,
              t_max=5.0, seed=11, record_paths=2)
    a = esc.simulate(esc.Ackley(), flow, threads=1, **kw)
    b = esc.simulate(esc.Ackley(), flow, threads=2, lanes=16, **kw)
    for name in ("status", "exit_time", "exit_step", "exit_position"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for (ta, xa), (tb, xb) in zip(a.trajectories, b.trajectories):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(xa, xb)
    assert len(set(a.status.tolist())) > 1  # some hit, some not: the forcing matters


def test_brownian_forcing_differs_between_paths_and_seeds():
    flow = esc.ConstrainedFlow(None, dt=0.01, forcing=esc.BrownianForcing(1.0, horizon=2.0))
    res = esc.simulate(esc.Quadratic(np.eye(2)), flow, x0=[0.0, 0.0], n_paths=2, t_max=2.0, seed=0, record_paths=2)
    assert not np.array_equal(res.trajectories[0][1], res.trajectories[1][1])


# --- success rates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n", "conf"), [(0, 10, 0.95), (3, 10, 0.9), (266, 289, 0.95), (289, 289, 0.99)])
def test_wilson_interval_solves_the_score_inequality(k, n, conf):
    # The interval is the set of p with (k/n - p)^2 <= z^2 p (1 - p) / n: the roots of a quadratic in p.
    z = stats.norm.ppf((1 + conf) / 2)
    p_hat = k / n
    roots = np.sort(np.roots([1 + z * z / n, -(2 * p_hat + z * z / n), p_hat * p_hat]).real)
    low, high = wilson_interval(k, n, conf)
    np.testing.assert_allclose([low, high], roots, atol=1e-12)


def test_success_rate_of_a_trivial_case_is_one():
    pts = grid_points([-0.5, -0.5], [0.5, 0.5], 5)
    flow = esc.ConstrainedFlow(esc.Parabola(), dt=0.01)
    res = esc.simulate(esc.Ackley(), flow, x0=pts, target=esc.Ball([0.0, 0.0], 1.0), t_max=1.0, seed=0)
    s = success_rate(res)
    assert (s.successes, s.n, s.rate, s.high) == (25, 25, 1.0, 1.0)
    assert s.low == pytest.approx(wilson_interval(25, 25)[0])
    assert success_rate(res.status, status="censored").rate == 0.0


def test_success_rate_leaves_diverged_paths_out():
    """GD at lr 0.1 from U(-5, 5) on the double well: starts beyond |x| ~ 3.3 overshoot and diverge. P(hit) is over
    the paths that did not diverge, as `quantity_of`'s hit_probability (83/200 counted them as failures)."""
    res = esc.simulate(esc.DoubleWell(), esc.GD(lr=0.1), x0=esc.UniformBox([-5.0], [5.0]),
                       target=esc.Ball([1.0], 0.1), n_paths=200, max_steps=200, seed=1, threads=1)
    hit, diverged = res.count(esc.Status.HIT), res.count(esc.Status.DIVERGED)
    assert hit > 20 and diverged > 5
    s = success_rate(res)
    assert (s.successes, s.n, s.diverged) == (hit, 200 - diverged, diverged) and "diverged left out" in str(s)
    assert s.rate == quantity_of(res, "hit_probability").value
    assert success_rate(res.status) == s
    everything = success_rate(res, status="diverged")
    assert (everything.successes, everything.n, everything.diverged) == (diverged, 200, 0)
    with pytest.raises(TypeError, match="integer status codes"):
        success_rate(res.status == esc.Status.HIT, status="exited")
    with pytest.raises(ValueError, match="not a status code"):
        success_rate(np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="no paths that did not diverge"):
        success_rate(np.array([3, 3]))


def test_grid_points_are_the_papers_289():
    pts = grid_points([-4.0, -4.0], [4.0, 4.0], 17)
    assert pts.shape == (289, 2)
    np.testing.assert_array_equal(np.unique(pts[:, 0]), np.arange(-4.0, 4.5, 0.5))
    assert grid_points([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [2, 3, 4]).shape == (24, 3)


# --- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "exc", "match"), [
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, alpha=-1.0), ValueError, "alpha"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, rtol=-1e-6), ValueError, "rtol"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, atol=-1.0), ValueError, "atol"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, event_tol=0.0), ValueError, "event_tol"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.0), ValueError, "dt"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, method="rk45"), ValueError, "method"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, noise=0.1), ValueError, "noise"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, forcing="periodic"), TypeError, "forcing"),
    (lambda: esc.ConstrainedFlow("parabola", dt=0.01), TypeError, "constraint"),
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.01, forcing=esc.Periodic(1.0, 1.0, dim=3)), ValueError,
     "forcing"),
    (lambda: esc.Periodic(1.0, 1.0, plane=(0, 0)), ValueError, "plane"),
    (lambda: esc.Periodic(1.0, 1.0, directions=np.ones((2, 3))), ValueError, "directions"),
    (lambda: esc.BrownianForcing(1.0, horizon=-1.0), ValueError, "horizon"),
    (lambda: esc.RandomDirections(1.0, tau=0.0), ValueError, "tau"),
    (lambda: esc.TableForcing([0.0, 1.0], [[1.0, 2.0]]), ValueError, "values"),
    (lambda: esc.TableForcing([1.0, 0.0], [[1.0], [2.0]]), ValueError, "times"),
    (lambda: esc.Sphere([0.0, 0.0], radius=0.0), ValueError, "radius"),
    (lambda: esc.Affine(np.ones((2, 3)), [1.0]), ValueError, "b"),
    (lambda: esc.Parabola(dim=1), ValueError, "dim"),
    (lambda: esc.Ackley(d=0.0), ValueError, "d"),
    (lambda: wilson_interval(5, 3), ValueError, "successes"),
    (lambda: wilson_interval(1, 3, confidence=1.5), ValueError, "confidence"),
])
def test_bad_input_names_the_argument(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize(("flow", "landscape", "match"), [
    (esc.ConstrainedFlow(esc.Parabola(dim=3), dt=0.01), esc.Ackley(), "constraint"),
    (esc.ConstrainedFlow(None, dt=0.01, forcing=esc.Periodic(1.0, 1.0, dim=3)), esc.Ackley(), "forcing"),
    (esc.ConstrainedFlow(esc.Parabola(), dt=0.01, forcing=esc.BrownianForcing(1.0, horizon=1.0)), esc.Ackley(),
     "horizon"),
])
def test_mismatched_problems_are_refused(flow, landscape, match):
    with pytest.raises(ValueError, match=match):
        esc.simulate(landscape, flow, x0=[1.0, 1.0], n_paths=1, t_max=2.0, seed=0)


def test_a_t_max_rounded_up_past_the_forcing_horizon_is_refused():
    """t_max = 1 at dt = 0.3 runs 4 steps, to t = 1.2: RK4 would read the forcing past its horizon."""
    flat = esc.Quadratic(np.zeros((1, 1)))
    forcing = esc.BrownianForcing(1.0, horizon=1.0, dim=1)
    with pytest.raises(ValueError, match="horizon"):
        esc.simulate(flat, esc.ConstrainedFlow(dt=0.3, forcing=forcing), x0=[0.0], n_paths=1, seed=1, t_max=1.0)
    r = esc.simulate(flat, esc.ConstrainedFlow(dt=0.1, forcing=forcing), x0=[0.0], n_paths=1, seed=1, t_max=1.0)
    assert r.exit_step[0] == 10  # 10 steps of 0.1 reach the horizon, up to rounding


@pytest.mark.parametrize("method", ["rk4", "euler"])
def test_estimate_of_a_noiseless_flow_takes_the_ladder(method):
    """A flow without Gaussian noise cannot share noise between levels: "auto" takes the ladder (it raised about
    noise_refinement), and "multilevel" says why."""
    flow = esc.ConstrainedFlow(dt=0.1, method=method, forcing=esc.RandomDirections(2.0, 0.5))
    kw = dict(x0=[0.0, 0.0], stop=esc.Ball([0.0, 0.0], 1.0), t_max=50.0, rtol=0.05, seed=1)
    est = esc.estimate(esc.Quadratic(np.eye(2)), flow, **kw)
    assert est.params["method"] == "ladder" and est.value > 0
    with pytest.raises(ValueError, match="Gaussian noise"):
        esc.estimate(esc.Quadratic(np.eye(2)), flow, method="multilevel", **kw)


# --- the reproduction ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ackley_reproduction(tmp_path_factory):
    """One run of `escapade reproduce constrained-ackley --paths 100 --json --out DIR`, shared by the tests below:
    the JSON it prints, the `Report` it made and DIR."""
    import contextlib
    import io
    import json

    from escapade import cli

    out, reports, stdout, original = tmp_path_factory.mktemp("constrained-ackley"), [], io.StringIO(), cli.reproduce

    def keep(*args, **kwargs):
        reports.append(original(*args, **kwargs))
        return reports[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLBACKEND", "Agg")
        mp.setattr(cli, "reproduce", keep)
        with contextlib.redirect_stdout(stdout):
            assert cli.main(["reproduce", "constrained-ackley", "--paths", "100", "--json", "--threads", "2",
                             "--out", str(out)]) == 0
    return json.loads(stdout.getvalue()), reports[0], out


def test_reproduce_constrained_ackley(ackley_reproduction):
    doc, _, tmp_path = ackley_reproduction
    assert [r["paper_percent"] for r in doc["table_I"]][:3] == [71.28, 76.12, 93.77]
    for row in doc["table_I"] + doc["table_II"]:
        assert row["grid"]["n"] == 289 and row["uniform_289"]["n"] == 289 and row["uniform"]["n"] == 100
        assert row["grid"]["low"] <= row["grid"]["rate"] <= row["grid"]["high"]
    # the paper's percentages are counts out of 289
    assert all(abs(100 * r["paper_count_of_289"] / 289 - r["paper_percent"]) < 0.01 for r in doc["table_I"])
    assert doc["params"]["unstated_by_the_paper"]["c"] == 2 * math.pi
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in names if n.endswith(".png")] == [f"figure-{i}.png" for i in range(1, 5)]
    # rerunning gives the same numbers (fixed seed)
    grid = esc.analysis.grid_points([-4.0, -4.0], [4.0, 4.0], 17)
    from escapade.experiments.constrained_ackley import model

    f, flow, target = model()
    res = esc.simulate(f, flow, x0=grid, target=target, t_max=20.0, seed=0)
    assert doc["unforced"]["grid"]["successes"] == res.count(esc.Status.HIT)


# 000's Tables I and II as counts out of 289, typed in from the paper's percentages (71.28% = 206 / 289, ...).
PAPER_COUNTS_I = [206, 220, 271, 273, 250, 234, 245, 255, 241, 233]
PAPER_COUNTS_II = [238, 244, 250, 256, 263, 249, 232, 254, 256, 252]


def _ackley_flow(t, y, c, alpha, amplitude, omega, phase, a=20.0, d=0.05):
    """000's (7) for all starts at once, written from the paper: x' = U_alpha(x) + w(t) with f = (12), g = x1 -
    x2^2 / 2, J = [1, -x2], U_alpha = -(I - J^T J / (J J^T)) grad f - alpha J^T g / (J J^T), w = A [cos(omega t +
    phase), sin(omega t + phase)]."""
    x1, x2 = y[0::2], y[1::2]
    s = np.sqrt((x1**2 + x2**2) / 2 + d * d)
    radial = a * np.exp(-s) / (2 * s)
    waves = np.exp((np.cos(c * x1) + np.cos(c * x2)) / 2) * c / 2
    g1, g2 = radial * x1 + waves * np.sin(c * x1), radial * x2 + waves * np.sin(c * x2)
    jj = 1 + x2 * x2
    jgrad, g = (g1 - x2 * g2) / jj, x1 - x2 * x2 / 2
    out = np.empty_like(y)
    out[0::2] = -(g1 - jgrad) - alpha * g / jj + amplitude * math.cos(omega * t + phase)
    out[1::2] = -(g2 + x2 * jgrad) + alpha * g * x2 / jj + amplitude * math.sin(omega * t + phase)
    return out


def _ackley_successes(starts, setting, amplitude, omega, t_max=20.0):
    """Which starts succeed under the setting's rule, by scipy's DOP853 (rtol 1e-8) on the whole set of starts:
    "by t = 20" = |x| < 1 (the target, `Ball`, is the open ball: a grid start on the unit circle, such as (1, 0),
    has not entered it) at a step end or at 3 more points of a step's dense output, "at t = 20" = |x(20)| <= 1."""
    from scipy.integrate import DOP853

    sol = DOP853(lambda t, y: _ackley_flow(t, y, setting.c, setting.alpha, amplitude, omega, setting.phase), 0.0,
                 np.asarray(starts, dtype=float).ravel(), t_max, rtol=1e-8, atol=1e-10)
    inside = np.linalg.norm(starts, axis=1) < 1
    while sol.status == "running":
        sol.step()
        if setting.rule == "by t = 20":
            dense = sol.dense_output()
            for t in np.linspace(sol.t_old, sol.t, 5)[1:]:
                inside |= np.linalg.norm(dense(t).reshape(-1, 2), axis=1) < 1
    return np.linalg.norm(sol.y.reshape(-1, 2), axis=1) <= 1 if setting.rule == "at t = 20" else inside


# The grids of starts the search tried, written out: 17 points per axis, x1 and x2 ranges.
_EXTENTS = {"[-4,4]^2": (np.linspace(-4, 4, 17), np.linspace(-4, 4, 17)),
            "[-4,4]^2 cell centres": (-4 + 8 / 17 * (np.arange(17) + 0.5), -4 + 8 / 17 * (np.arange(17) + 0.5)),
            "[-5,5]^2": (np.linspace(-5, 5, 17), np.linspace(-5, 5, 17)),
            "[0,8]x[-4,4]": (np.linspace(0, 8, 17), np.linspace(-4, 4, 17))}


def test_the_search_grids_are_the_ones_written_out():
    from escapade.experiments import constrained_ackley as ca

    for name, (u, v) in _EXTENTS.items():
        x1, x2 = np.meshgrid(u, v, indexing="ij")
        np.testing.assert_allclose(ca.extent_grid(name), np.stack([x1.ravel(), x2.ravel()], axis=1), atol=1e-14)
    with pytest.raises(ValueError, match="extent must be one of"):
        ca.Setting(extent="[-3,3]^2")
    with pytest.raises(ValueError, match="rule must be one of"):
        ca.Setting(rule="by t = 30")
    with pytest.raises(ValueError, match="method must be one of"):
        ca.Setting(method="euler")
    with pytest.raises(ValueError, match=r"counts must have shape \(20,\)"):
        ca.distance([1, 2, 3])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(c=-1.0), ValueError, "c must be positive, got -1.0"),
    (dict(c=0.0), ValueError, "c must be positive, got 0.0"),
    (dict(c=math.inf), ValueError, "c must be finite, got inf"),
    (dict(c="2 pi"), TypeError, "c must be a real number"),
    (dict(alpha=-0.5), ValueError, "alpha must be positive, got -0.5"),
    (dict(alpha=math.nan), ValueError, "alpha must be finite, got nan"),
    (dict(phase=math.inf), ValueError, "phase must be finite, got inf"),
])
def test_a_setting_refuses_a_bad_c_alpha_or_phase(kwargs, error, match):
    from escapade.experiments import constrained_ackley as ca

    with pytest.raises(error, match=match):
        ca.Setting(**kwargs)


def test_distance_refuses_a_paper_count_with_no_variance():
    """chi2 divides by 289 p (1 - p): a paper count of 0 or 289 would give inf or nan, not a distance."""
    from escapade.experiments import constrained_ackley as ca

    for edge in (0, 289):
        paper = ca.PAPER_COUNTS.copy()
        paper[3] = edge
        with pytest.raises(ValueError, match=rf"paper counts must lie strictly between 0 and 289.*\[{edge}\]"):
            ca.distance(ca.PAPER_COUNTS, paper)
    # inside the range, chi2 is the sum of d^2 / (289 p (1 - p)), here one row off by 17 at p = 1 / 289
    paper = ca.PAPER_COUNTS.copy()
    paper[0] = 1
    counts = paper.copy()
    counts[0] = 18
    assert ca.distance(counts, paper)["chi2"] == pytest.approx(17**2 / (1 - 1 / 289), rel=1e-12)


def test_reproduce_constrained_ackley_best_fit_table(ackley_reproduction):
    """The second table: the paper's counts, ours at the current and at the best-fit setting, and the distances;
    the best-fit count of Table I's omega = 0.1 row (the row where the current setting is furthest from the paper)
    recomputed from the paper's equations with scipy, start by start. The reproduction's run is shared with
    test_reproduce_constrained_ackley; what remains is a DOP853 solve of the 289 starts (about 1 s)."""
    from escapade.experiments import constrained_ackley as ca

    _, report, _ = ackley_reproduction
    table = report.data["best_fit"]
    rows = table["rows"]
    paper = np.array(PAPER_COUNTS_I + PAPER_COUNTS_II)
    assert [r["paper_count"] for r in rows] == paper.tolist()
    assert [r["current_count"] for r in rows] == [r["grid"]["successes"] for r in
                                                  report.data["table_I"] + report.data["table_II"]]
    best = np.array([r["best_fit_count"] for r in rows])
    assert [r["best_fit_residual"] for r in rows] == (best - paper).tolist()
    assert table["setting"] == ca.BEST_FIT.to_dict() and table["found_by"] == "bench/ackley_model_search.py"

    # Table I, omega = 0.1: every one of the 289 starts, independently.
    setting = ca.BEST_FIT
    u, v = _EXTENTS[setting.extent]
    x1, x2 = np.meshgrid(u, v, indexing="ij")
    ok = _ackley_successes(np.stack([x1.ravel(), x2.ravel()], axis=1), setting, 1.0, 0.1)
    engine = ca.successes(setting, report.results["best-fit-table-I-grid"][0])
    assert np.array_equal(engine, ok)
    assert rows[0]["best_fit_count"] == int(ok.sum())

    for name, counts in (("distance_best_fit", best), ("distance_current", [r["current_count"] for r in rows])):
        d = np.asarray(counts) - paper
        p = paper / 289
        assert table[name]["l1"] == np.abs(d).sum() and table[name]["max"] == np.abs(d).max()
        assert table[name]["chi2"] == pytest.approx(np.sum(d**2 / (289 * p * (1 - p))), rel=1e-12)
        assert table[name]["beyond_2sd"] == np.sum(d**2 > 4 * 289 * p * (1 - p))
    assert table["distance_best_fit"]["l1"] <= table["distance_current"]["l1"]
    # what the text claims: closer than the current setting in chi2, but beyond the 95% point of chi2(20)
    assert table["distance_current"]["chi2"] > table["distance_best_fit"]["chi2"] > stats.chi2.ppf(0.95, 20)
    assert stats.chi2.ppf(0.95, 20) == pytest.approx(31.4, abs=0.05) and "31.4" in report.text
    assert "best fit" in report.text and report.text.endswith(report.design.text())
    assert "independent experiments: 1 of 20 rows (rows that share a seed stream are correlated and count once)" \
        "\nchoice: alpha" in report.text
    # the grid columns are exact, the uniform columns one sample shared by every row: the rows count once
    design = report.data["design"]
    assert design["independent"] == 1 and "same sample in every row" in design["seeds"]


@pytest.mark.parametrize("rtol", [1e-6, 1e-3])
def test_dp54_finds_a_visit_inside_one_step(rtol):
    """x(t) = sin t (a flat line forced by cos t): DP5(4)'s steps grow to about 0.5, longer than the path's stay in a
    small target near the top. The visit starts and ends inside one step; the dense output's interior points find
    it, at asin of the target's near edge."""
    flat, forcing = esc.Quadratic([[0.0]]), esc.Periodic(1.0, 1.0, directions=[[1.0, 0.0]])
    flow = esc.ConstrainedFlow(None, method="dp54", forcing=forcing, dt=0.01, rtol=rtol)
    for center, radius in [(0.9, 0.05), (1.0, 0.002)]:
        res = esc.simulate(flat, flow, x0=[0.0], target=esc.Ball([center], radius), n_paths=1, t_max=10.0, seed=0,
                           progress=False)
        assert res.status[0] == esc.Status.HIT
        assert res.exit_time[0] == pytest.approx(np.arcsin(center - radius), abs=100 * rtol)
