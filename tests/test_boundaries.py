"""Reflecting walls, which way out (exit faces and regions), stochastic resetting and the quasi-stationary decay
rate, each against an exact or independently computed answer at a fixed seed, tolerances from the standard
error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, linalg, optimize, special, stats

import escapade as esc
from escapade import analysis

Z = 4.0  # standard errors allowed


def double_well(x):
    return x**4 / 4 - x**2 / 2


# ---- reflecting walls ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["box", "walls"])
def test_double_well_reflecting_wall_mean_exit_time(form):
    # Double well at T = 1/2 from x0 = -1, reflecting wall at -2, absorbing end at 0: the exact mean (2.5195)
    # is 16% above that with both ends absorbing (2.1640), so the wall is seen.
    T, dt = 0.5, 1e-3
    exact = analysis.langevin_mean_exit_time_1d(double_well, T, -1.0, -2.0, 0.0, lower_boundary="reflecting")
    absorbing = analysis.langevin_mean_exit_time_1d(double_well, T, -1.0, -2.0, 0.0)
    if form == "box":
        stop = esc.Box([-2.0], [0.0], reflecting=["x0-"])
    else:
        stop = {"wall": esc.HalfSpace([-1.0], 2.0, reflecting=True), "exit": esc.HalfSpace([1.0], 0.0)}
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(T, dt=dt), x0=[-1.0], stop=stop, n_paths=12_000, t_max=200,
                       seed=11, progress=False)
    s = res.summary()
    assert s.counts["EXITED"] == 12_000
    assert np.all(res.final_position[:, 0] > -2.0)
    assert abs(s.mean - exact) < Z * s.stderr + 0.005 * exact, (s.mean, s.stderr, exact)
    assert s.mean - absorbing > 10 * s.stderr
    # every exit by the absorbing end
    assert set(res.exit_region.tolist()) == {res.region_names.index("stop" if form == "box" else "exit")}


def test_free_diffusion_reflected_at_zero_absorbed_at_one():
    # dX = sqrt(2 D) dW on (0, 1), reflecting at 0, absorbing at 1: E tau = (1 - x0^2) / (2 D). The wall is
    # where the path starts its excursions, so a scheme of weak order 1/2 at the wall would show at dt = 1e-3.
    D, x0, dt = 0.5, 0.25, 1e-3
    exact = (1 - x0**2) / (2 * D)
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(D, dt=dt), x0=[x0], stop=esc.Box([0.0], [1.0], reflecting=[0]),
                       n_paths=20_000, t_max=50, seed=5, progress=False)
    s = res.summary()
    assert abs(s.mean - exact) < Z * s.stderr + 0.005 * exact, (s.mean, s.stderr, exact)
    assert np.all(res.exit_face == 1)  # "x0+"


def test_reflecting_box_stationary_density_is_uniform():
    # Brownian motion in a box with all faces reflecting: after many relaxation times (1 / (pi^2 D) per unit
    # length) the positions are uniform in each coordinate; KS test at a fixed seed. dt is large enough that some
    # steps cross the whole box (the fold).
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=0.02), x0=[0.1, 0.9],
                       stop=esc.Box([0.0, -1.0], [1.0, 2.0], reflecting=True), n_paths=3000, t_max=4.0, seed=3,
                       progress=False)
    assert res.count("CENSORED") == 3000
    x = res.final_position
    assert np.all((x[:, 0] >= 0) & (x[:, 0] <= 1) & (x[:, 1] >= -1) & (x[:, 1] <= 2))
    assert stats.kstest(x[:, 0], "uniform", args=(0.0, 1.0)).pvalue > 1e-3
    assert stats.kstest(x[:, 1], "uniform", args=(-1.0, 3.0)).pvalue > 1e-3
    big = esc.simulate(esc.Linear([0.0]), esc.Langevin(0.5, dt=4.0), x0=[0.5],
                       stop=esc.Box([0.0], [1.0], reflecting=True), n_paths=200, max_steps=3, seed=1,
                       progress=False)
    assert np.all((big.final_position >= 0) & (big.final_position <= 1))


def test_reflection_refused_where_it_is_not_defined():
    wall = esc.Box([-2.0], [0.0], reflecting=["x0-"])
    with pytest.raises(ValueError, match="stop has reflecting faces.*discrete optimizer map"):
        esc.simulate(esc.DoubleWell(), esc.GD(0.1), x0=[-1.0], stop=wall, n_paths=2, max_steps=3, seed=0)
    with pytest.raises(ValueError, match="target"):
        esc.simulate(esc.DoubleWell(), esc.Langevin(0.5, dt=0.01), x0=[-1.0], target=wall, n_paths=2, t_max=1,
                     seed=0)
    with pytest.raises(ValueError, match="region"):
        esc.Outside(wall)


def test_no_walls_same_bits_and_params():
    # A Box without walls or labels records and computes as before; reflecting=() is no reflection.
    a = esc.Box([-2.0], [0.0])
    b = esc.Box([-2.0], [0.0], reflecting=())
    assert a.to_dict() == {"type": "Box", "low": [-2.0], "high": [0.0]}
    assert esc.HalfSpace([1.0], 0.0).to_dict() == {"type": "HalfSpace", "normal": [1.0], "offset": 0.0}
    run = dict(x0=[-1.0], n_paths=200, t_max=50, seed=4, progress=False)
    ra = esc.simulate(esc.DoubleWell(), esc.Langevin(0.5, dt=0.01), stop=a, **run)
    rb = esc.simulate(esc.DoubleWell(), esc.Langevin(0.5, dt=0.01), stop=b, **run)
    assert np.array_equal(ra.exit_time, rb.exit_time)


# ---- which way out ---------------------------------------------------------------------------------------------


def splitting_right(v, D, x0, L):
    """P(leave (0, L) at L) for dX = v dt + sqrt(2 D) dW from x0."""
    return math.expm1(-v * x0 / D) / math.expm1(-v * L / D)


@pytest.mark.parametrize("form", ["box", "dict", "targets"])
def test_splitting_probability_of_drift_diffusion(form):
    v, D, x0, L, n = 1.0, 0.5, 0.3, 1.0, 20_000
    exact = splitting_right(v, D, x0, L)
    dyn = esc.Langevin(D, dt=1e-3)
    kw = dict(x0=[x0], n_paths=n, t_max=100, seed=21, progress=False)
    if form == "box":
        res = esc.simulate(esc.Linear([-v]), dyn, stop=esc.Box([0.0], [L], labels=["left", "right"]), **kw)
        p = res.exit_fractions("face")["right"]
    elif form == "dict":
        res = esc.simulate(esc.Linear([-v]), dyn, stop={"left": esc.HalfSpace([-1.0], 0.0),
                                                        "right": esc.HalfSpace([1.0], L)}, **kw)
        p = res.exit_fractions()["right"]
    else:
        res = esc.simulate(esc.Linear([-v]), dyn, target={"left": esc.HalfSpace([1.0], 0.0),
                                                          "right": esc.HalfSpace([-1.0], -L)}, **kw)
        p = res.exit_fractions()["right"]
    assert res.count("CENSORED") == 0
    se = math.sqrt(exact * (1 - exact) / n)
    assert abs(p - exact) < Z * se, (p, exact, se)
    # the face agrees with where the exit was placed
    if form == "box":
        right = res.exit_face == res.face_names.index("right")
    else:
        right = res.exit_region == res.region_names.index("right")
    assert np.allclose(res.exit_position[right, 0], L) and np.allclose(res.exit_position[~right, 0], 0.0)


@pytest.mark.parametrize("bridge", [True, False])
def test_box_faces_match_exit_positions_in_2d(bridge):
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=0.01), x0=[0.2, 0.7],
                       stop=esc.Box([0.0, 0.0], [1.0, 2.0]), n_paths=2000, t_max=50, seed=2, bridge=bridge,
                       progress=False)
    assert res.face_names == ["x0-", "x0+", "x1-", "x1+"]
    x, f = res.exit_position, res.exit_face
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 2.0])
    beyond = np.stack([lo[0] - x[:, 0], x[:, 0] - hi[0], lo[1] - x[:, 1], x[:, 1] - hi[1]], axis=1)
    assert np.all(f >= 0)
    # the reported face is one the exit point lies on (bridge) or beyond (end of step)
    assert np.all(beyond[np.arange(len(f)), f] >= -1e-12)
    assert len(set(f.tolist())) == 4


def _square_exit_share(x: float, y: float, terms: int = 400) -> float:
    """P(Brownian motion from (x, y) leaves the unit square through y = 1): the harmonic function
    sum over odd m of 4 / (m pi) sin(m pi x) sinh(m pi y) / sinh(m pi), the ratio of sinh's written to not overflow."""
    m = np.arange(1, 2 * terms, 2)
    ratio = np.exp(m * np.pi * (y - 1)) * (1 - np.exp(-2 * m * np.pi * y)) / (1 - np.exp(-2 * m * np.pi))
    return float(np.sum(4 / (m * np.pi) * np.sin(m * np.pi * x) * ratio))


def test_exit_faces_near_a_corner_against_the_harmonic_measure():
    """Brownian motion from (0.1, 0.15) in the unit square at a coarse dt = 0.04: the faces' shares against the exact
    harmonic measure. A corner step that ends beyond two faces took each half the time (x0- 0.562 for 0.609, 43
    standard errors at 2e5 paths); the first face crossed is now the one the step met first."""
    x, y, n = 0.1, 0.15, 50_000
    res = esc.simulate(esc.Quadratic(np.zeros((2, 2))), esc.Langevin(temperature=0.5, dt=0.04), x0=[x, y],
                       stop=esc.Box([0.0, 0.0], [1.0, 1.0]), n_paths=n, t_max=50.0, seed=12)
    shares = res.exit_fractions("face")
    exact = {"x0-": _square_exit_share(y, 1 - x), "x0+": _square_exit_share(y, x),
             "x1-": _square_exit_share(x, 1 - y), "x1+": _square_exit_share(x, y)}
    assert sum(exact.values()) == pytest.approx(1.0, abs=1e-9)
    for face, p in exact.items():
        assert abs(shares[face] - p) < 4 * math.sqrt(p * (1 - p) / n), (face, shares[face], p)


def test_exit_faces_of_a_discrete_map_and_of_starts_outside():
    # GD on a quadratic centred outside the box: every path leaves by x0+; a start outside exits at step 0 by the
    # face it lies beyond.
    res = esc.simulate(esc.Quadratic(np.eye(2), center=[3.0, 0.5]), esc.GD(0.3), x0=np.array([[0.5, 0.5],
                                                                                              [0.5, -1.0]]),
                       stop=esc.Box([0.0, 0.0], [1.0, 1.0]), max_steps=100, seed=0, progress=False)
    assert res.exit_face.tolist() == [1, 2]
    assert res.exit_step.tolist()[1] == 0


def test_exit_faces_survive_save_load_pandas_and_chunks(tmp_path):
    kw = dict(x0=[0.5], n_paths=3000, t_max=20, seed=9, progress=False)
    stop = esc.Box([0.0], [1.0], labels=["low", "high"])
    res = esc.simulate(esc.Linear([-0.5]), esc.Langevin(0.5, dt=0.01), stop=stop, **kw)
    res.save(tmp_path / "r.npz")
    back = esc.load(tmp_path / "r.npz")
    assert np.array_equal(back.exit_face, res.exit_face) and back.face_names == ["low", "high"]
    frame = res.to_pandas()
    assert list(frame["exit_face"].cat.categories) == ["low", "high"]
    assert (frame["exit_face"] == "high").sum() == np.count_nonzero(res.exit_face == 1)
    chunked = esc.simulate(esc.Linear([-0.5]), esc.Langevin(0.5, dt=0.01), stop=stop, chunk_size=1000,
                           store=tmp_path / "store", **kw)
    assert np.array_equal(chunked.exit_face, res.exit_face)
    # a single plane records no faces, as before
    plain = esc.simulate(esc.Linear([-0.5]), esc.Langevin(0.5, dt=0.01), stop=esc.HalfSpace([1.0], 1.0), **kw)
    assert plain.exit_face is None and "faces" not in plain.params


# ---- stochastic resetting ----------------------------------------------------------------------------------------


def reset_mean(r, D=1.0, x0=1.0):
    """Mean first passage to 0 of diffusion from x0 > 0 with Poisson resetting to x0 at rate r (Evans-Majumdar)."""
    return math.expm1(math.sqrt(r / D) * x0) / r


def test_poisson_restart_mean_time_and_optimal_rate():
    # The optimal rate r* = z*^2 D / x0^2, z* the root of z / 2 = 1 - exp(-z) (1.5936), minimizes reset_mean.
    z = optimize.brentq(lambda z: z / 2 - 1 + math.exp(-z), 0.5, 3.0)
    best = optimize.minimize_scalar(reset_mean, bounds=(0.1, 20.0), method="bounded", options={"xatol": 1e-8})
    assert best.x == pytest.approx(z**2, rel=1e-5)
    means = {}
    for factor in (0.5, 1.0, 2.0):
        r = factor * z**2
        dyn = esc.Restart(esc.Langevin(1.0, dt=1e-3), rate=r)
        res = esc.simulate(esc.Linear([0.0]), dyn, x0=[1.0], stop=esc.HalfSpace([-1.0], 0.0), n_paths=12_000,
                           t_max=200, seed=7, progress=False)
        s = res.summary()
        exact = reset_mean(r)
        assert res.count("CENSORED") == 0
        assert abs(s.mean - exact) < Z * s.stderr + 0.005 * exact, (factor, s.mean, s.stderr, exact)
        means[factor] = (s.mean, s.stderr)
    for factor in (0.5, 2.0):  # the optimum is seen in the simulations too
        assert means[1.0][0] < means[factor][0]


def test_sharp_restart_mean_time_against_quadrature():
    # Restart every tau: E T = E[min(T0, tau)] / P(T0 < tau), T0 the free first passage with
    # P(T0 > t) = erf(x0 / sqrt(4 D t)).
    D, x0, tau = 1.0, 1.0, 1.0
    surv = lambda t: special.erf(x0 / math.sqrt(4 * D * t)) if t > 0 else 1.0  # noqa: E731
    exact = integrate.quad(surv, 0.0, tau, epsabs=1e-12)[0] / (1 - surv(tau))
    dyn = esc.Restart(esc.Langevin(D, dt=1e-3), period=tau)
    res = esc.simulate(esc.Linear([0.0]), dyn, x0=[x0], stop=esc.HalfSpace([-1.0], 0.0), n_paths=8000, t_max=200,
                       seed=8, progress=False)
    s = res.summary()
    assert abs(s.mean - exact) < Z * s.stderr + 0.005 * exact, (s.mean, s.stderr, exact)


def test_restart_reproducible_across_threads_and_to_a_sampler():
    dyn = esc.Restart(esc.Langevin(0.3, dt=0.01), rate=0.7, to=esc.UniformBox([-1.2], [-0.8]))
    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=500, t_max=100, seed=3, progress=False)
    one = esc.simulate(esc.DoubleWell(), dyn, threads=1, lanes=8, **kw)
    two = esc.simulate(esc.DoubleWell(), dyn, threads=2, **kw)
    assert np.array_equal(one.exit_time, two.exit_time)
    assert one.params["dynamics"]["type"] == "Restart" and one.params["dynamics"]["rate"] == 0.7
    # rate 0 is the dynamics itself, bit for bit
    plain = esc.simulate(esc.DoubleWell(), esc.Langevin(0.3, dt=0.01), **kw)
    never = esc.simulate(esc.DoubleWell(), esc.Restart(esc.Langevin(0.3, dt=0.01), rate=0.0), **kw)
    assert np.array_equal(plain.exit_time, never.exit_time)
    assert not np.array_equal(plain.exit_time, one.exit_time)


# ---- small conveniences ------------------------------------------------------------------------------------------


def test_linear_and_cosine_landscapes():
    lin = esc.Linear([2.0, -1.0])
    x = np.array([[0.3, 0.4], [1.0, -2.0]])
    assert np.allclose(lin.value(x), x @ [2.0, -1.0])
    assert np.allclose(lin.gradient(x), [[2.0, -1.0], [2.0, -1.0]])
    cos = esc.Cosine(dim=2, amplitude=0.7, period=2.5)
    k = 2 * np.pi / 2.5
    y = np.array([[0.1, -3.0], [1e6, 7.3], [-2.2, 0.0]])
    assert np.allclose(cos.value(y), (0.7 * (1 - np.cos(k * y))).sum(axis=1), rtol=1e-13, atol=1e-13)
    assert np.allclose(cos.gradient(y), 0.7 * k * np.sin(k * y), rtol=1e-12, atol=1e-13)
    assert np.allclose(cos.hessian(y[0]), np.diag(0.7 * k * k * np.cos(k * y[0])))


def principal_eigenvalue(potential, T, a, b, n=6000):
    """The smallest eigenvalue of -(T f'' - U' f') on (a, b), reflecting at a, absorbing at b: finite volumes in
    the symmetric form T e^{U/T} (e^{-U/T} f')' (scipy's tridiagonal eigensolver)."""
    h = (b - a) / n
    x = a + h * np.arange(n + 1)
    psi = -potential(x) / T
    mid = -potential(x[:-1] + h / 2) / T
    shift = psi.max()
    w, wm = np.exp(psi - shift), np.exp(mid - shift)
    # unknowns f_0 .. f_{n-1} (f_n = 0); the half-cell at a has its own volume h / 2
    vol = np.full(n, h)
    vol[0] = h / 2
    right = wm[:n]
    left = np.concatenate([[0.0], wm[: n - 1]])
    diag = T * (left + right) / (h * vol * w[:n])
    off = -T * wm[: n - 1] / (h * np.sqrt(vol[:-1] * w[: n - 1] * vol[1:] * w[1:n]))
    return float(linalg.eigh_tridiagonal(diag, off, select="i", select_range=(0, 0), eigvals_only=True)[0])


def test_decay_rate_against_the_principal_eigenvalue():
    T = 0.25
    exact = principal_eigenvalue(double_well, T, -3.5, 0.0)
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(T, dt=1e-3), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                       n_paths=10_000, t_max=60, seed=13, progress=False)
    est = analysis.decay_rate(res, t0=3.0)
    assert isinstance(est, esc.Estimate) and est.quantity == "decay_rate"
    low, high = est.interval
    assert low < est.value < high
    assert abs(est.value - exact) < Z * est.stderr + 0.005 * exact, (est.value, est.stderr, exact)
    with pytest.raises(ValueError, match="t0"):
        analysis.decay_rate(res, t0=1e9)


def test_threshold_at_infinity_by_the_deterministic_tail():
    # The noisy fold dX = (X^2 + mu) dt + sqrt(2 T) dW explodes in finite time: its mean time to +inf, with the
    # deterministic tail beyond the cut, against a finite threshold L plus the tail's closed form
    # (pi/2 - arctan(L / sqrt(mu))) / sqrt(mu), both for the potential and for the drift.
    mu, T, L = 1.0, 0.1, 10.0
    U = lambda x: -x**3 / 3 - mu * x  # noqa: E731
    at_inf = analysis.langevin_mean_exit_time_1d(U, T, 0.0, -3.0, math.inf, lower_boundary="reflecting")
    tail = (math.pi / 2 - math.atan(L / math.sqrt(mu))) / math.sqrt(mu)
    finite = analysis.langevin_mean_exit_time_1d(U, T, 0.0, -3.0, L, lower_boundary="reflecting") + tail
    assert at_inf == pytest.approx(finite, rel=1e-4)
    drift = analysis.mean_exit_time_1d(lambda x: x * x + mu, 2 * T, 0.0, -3.0, math.inf, lower_boundary="reflecting")
    assert drift == pytest.approx(at_inf, rel=1e-6)
    # both ends at infinity, symmetric drift x^3: symmetric answer
    both = analysis.mean_exit_time_1d(lambda x: x**3, 0.5, [-0.5, 0.5], -math.inf, math.inf)
    assert both[0] == pytest.approx(both[1], rel=1e-8)
    # an absorbing end on the other side too: the tail counts for the paths that leave upward. dX = X^2 dt + sqrt(2)
    # dW from -0.05 on (-0.1, inf), against the finite end L = 40 plus P(L first) / L (the tail of dy / y^2), and
    # an asymmetric case against a 25-digit mpmath quadrature (2.985660); the tail had P(lower first) as its weight
    # (0.1271 and 2.9921).
    V = lambda x: -x**3 / 3  # noqa: E731
    absorbing = analysis.langevin_mean_exit_time_1d(V, 1.0, -0.05, -0.1, math.inf)
    far = (analysis.langevin_mean_exit_time_1d(V, 1.0, -0.05, -0.1, 40.0)
           + analysis.langevin_splitting_probability_1d(V, 1.0, -0.05, -0.1, 40.0) / 40.0)
    assert absorbing == pytest.approx(far, rel=1e-4)
    assert analysis.mean_exit_time_1d(lambda x: x * x, 2.0, -0.05, -0.1, math.inf) == pytest.approx(absorbing, rel=1e-6)
    assert analysis.langevin_mean_exit_time_1d(lambda x: -x**3 / 3 + x**2 / 2, 0.5, 0.0, -1.0, math.inf) == \
        pytest.approx(2.985660, rel=1e-5)
    # a linear drift never gets there in finite time: refused, naming the end
    with pytest.raises(ValueError, match="upper=inf"):
        analysis.mean_exit_time_1d(lambda x: x, 1.0, 0.0, -1.0, math.inf, lower_boundary="reflecting")


def test_a_restart_point_in_the_target_or_outside_stop_ends_the_path_there():
    """A restart point is tested as a start is (semantics 11). Before, the path went on from it and ended only if
    its next step stayed there."""
    f = esc.Quadratic([[1.0]])
    # GD restarted every 5 steps at the target's centre: HIT at step 5, there, the jump the trajectory's last point
    res = esc.simulate(f, esc.Restart(esc.GD(0.1), period=5, to=[5.0]), x0=[0.0], target=esc.Ball([5.0], 0.1),
                       n_paths=1, max_steps=50, seed=0, record_paths=1)
    assert (res.status[0], res.exit_step[0], res.exit_time[0], res.exit_position[0, 0]) == (esc.Status.HIT, 5, 5.0, 5.0)
    t, x = res.trajectories[0]
    assert t[-1] == 5.0 and x[-1, 0] == 5.0 and x[-2, 0] == 0.0
    assert res.params["semantics"] >= 11
    # without the bridge too: every Langevin path restarted into a small target ends at the first restart (t = 1)
    for bridge in (True, False):
        r = esc.simulate(esc.Linear([0.0]), esc.Restart(esc.Langevin(0.5, dt=0.1), period=1.0, to=[5.0]), x0=[0.0],
                         target=esc.Ball([5.0], 0.01), n_paths=200, t_max=3, seed=0, bridge=bridge)
        assert np.all(r.status == esc.Status.HIT) and np.all(r.exit_time <= 1.0 + 1e-12)
    # Gaussian SGD on x^2/2 restarted every 10 steps uniformly in [-1.2, 1.2], stop (-1, 1): 1/12 of the restarts
    # land outside, against an independent numpy simulation of the same map that tests them as starts
    dyn = esc.Restart(esc.GaussianSGD(0.1, batch_size=1.0, C=[[0.09]]), period=10, to=esc.UniformBox([-1.2], [1.2]))
    r = esc.simulate(f, dyn, x0=[0.0], stop=esc.Box([-1.0], [1.0]), n_paths=20_000, max_steps=100, seed=1)
    rng = np.random.default_rng(0)
    n = 200_000
    x, alive = np.zeros(n), np.ones(n, dtype=bool)
    for k in range(1, 101):
        x = 0.9 * x + 0.03 * rng.standard_normal(n)
        alive &= np.abs(x) < 1.0
        if k % 10 == 0 and k < 100:  # the cap comes before a restart at step 100
            x = np.where(alive, rng.uniform(-1.2, 1.2, n), x)
            alive &= np.abs(x) < 1.0
    p, q = r.stopped.mean(), 1 - alive.mean()
    assert abs(p - q) < 4 * math.sqrt(p * (1 - p) / 20_000 + q * (1 - q) / n)  # was 0.49 for 0.80
    outside = r.status == esc.Status.EXITED
    assert np.all(np.abs(r.exit_position[outside, 0]) >= 1.0)


def test_an_acute_wedge_of_reflecting_walls_keeps_every_point_inside():
    """Two reflecting walls at 20 degrees, absorbing at radius 1: mirroring once at each wall could leave a point
    beyond the first (760 of 8975 recorded points, and a target beyond a wall hit by 19% of the paths). The mirrors
    now repeat until none moves the point. The mean exit time is the disk's, (1 - r^2) / (4 T) with T = 1/2."""
    a = np.deg2rad(20.0)
    stop = {"A": esc.HalfSpace([0.0, -1.0], 0.0, reflecting=True),
            "B": esc.HalfSpace([-np.sin(a), np.cos(a)], 0.0, reflecting=True), "out": esc.Ball([0.0, 0.0], 1.0)}
    x0 = [0.5 * np.cos(a / 2), 0.5 * np.sin(a / 2)]
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=0.01), x0=x0, stop=stop, n_paths=4000, t_max=20,
                       seed=1, record_paths=200)
    s = res.summary()
    assert abs(s.mean - 0.375) < 4 * s.stderr and s.counts["EXITED"] == 4000
    points = np.concatenate([x for _, x in res.trajectories])
    assert np.all(points[:, 1] >= 0) and np.all(points[:, 1] * np.cos(a) - points[:, 0] * np.sin(a) <= 1e-12)
    beyond = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=0.01), x0=[0.3, 0.05], stop=stop,
                          target=esc.Ball([0.05, -0.06], 0.04), n_paths=4000, t_max=5.0, seed=2)
    assert beyond.count("HIT") == 0


def test_a_start_or_restart_beyond_a_reflecting_wall_has_left():
    """A point placed beyond a reflecting wall is outside the domain: EXITED at once, as beyond an absorbing face
    (semantics 11; before, a start ran on from its mirror image, and a restart to -20 beyond the wall at 0 of
    Box([0], [10]) was carried across the box in one step)."""
    walled = esc.Box([0.0], [1.0], reflecting=["x0-"])
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(0.5, dt=0.01), x0=[-0.5], stop=walled, n_paths=5, t_max=1.0,
                       seed=0)
    assert np.all(res.status == esc.Status.EXITED) and np.all(res.exit_step == 0)
    assert res.exit_fractions(by="face")["x0-"] == 1.0  # the wall it lies beyond, not the absorbing face
    restarted = esc.simulate(esc.Linear([0.0]), esc.Restart(esc.Langevin(0.5, dt=0.0125), period=0.1, to=[-20.0]),
                             x0=[5.0], stop=esc.Box([0.0], [10.0], reflecting=["x0-"]), n_paths=3, t_max=1.0, seed=0)
    assert np.all(restarted.exit_time == 0.1) and np.all(restarted.exit_position == -20.0)


def test_a_point_far_beyond_two_parallel_walls_is_diverged_not_left_outside():
    """Two reflecting half-spaces make the slab (0, 1); each round of mirrors moves a point far beyond by twice the
    width, and after the rounds' cap (1024) a point still outside went on outside the domain, silently (a target
    beyond a wall hit by 1674 of 2000 paths at T = 2e6). It is now DIVERGED; a reflecting Box folds such a point."""
    slab = {"lo": esc.HalfSpace([-1.0], 0.0, reflecting=True), "hi": esc.HalfSpace([1.0], 1.0, reflecting=True)}
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(2e8, dt=0.01), x0=[0.5], stop=slab,
                       target=esc.HalfSpace([1.0], -5.0), n_paths=200, max_steps=20, seed=0, record_paths=50)
    assert res.count("HIT") == 0 and res.count("DIVERGED") > 100
    assert all(np.all((x >= 0) & (x <= 1)) for _, x in res.trajectories if np.isfinite(x).all())


def test_restarts_of_optimizer_maps():
    # Random restarts of heavy ball (its momentum is reset with the point) and of GD: the restarted run's paths
    # reach the same points, only later; with restarts to a box of starts, some paths end elsewhere, and a restart
    # to a corner of the box beyond the ball of radius 2 leaves `stop` there.
    hb = esc.HeavyBall(0.05, momentum=0.5)
    kw = dict(x0=[0.5, 0.5], stop=esc.Ball([0.0, 0.0], 2.0), target=esc.Ball([0.0, 0.0], 1e-3), n_paths=50,
              max_steps=5000, seed=0, progress=False)
    plain = esc.simulate(esc.Quadratic(np.eye(2)), hb, **kw)
    again = esc.simulate(esc.Quadratic(np.eye(2)), esc.Restart(hb, period=20.0), **kw)
    assert plain.count("HIT") == 50 and again.count("CENSORED") == 50  # restarted every 20 steps, before the hit
    sampled = esc.simulate(esc.Quadratic(np.eye(2)), esc.Restart(esc.GD(0.05), rate=0.01,
                                                                 to=esc.UniformBox([-1.5, -1.5], [1.5, 1.5])), **kw)
    hit = sampled.status == esc.Status.HIT
    assert hit.sum() + sampled.count("EXITED") == 50 and np.all(sampled.exit_time[hit] >= plain.exit_time[hit])
    assert np.all(np.linalg.norm(sampled.exit_position[~hit], axis=1) >= 2.0)
    # a map that draws nothing starts paths at any step and packs its blocks at any step: the restart decisions
    # move with the lanes (same bits on one thread with narrow blocks and on two)
    gd = esc.Restart(esc.GD(0.05), rate=0.05, to=esc.UniformBox([-1.5, -1.5], [1.5, 1.5]))
    many = dict(kw, n_paths=300, x0=esc.UniformBox([-1.0, -1.0], [1.0, 1.0]))
    one = esc.simulate(esc.Quadratic(np.eye(2)), gd, threads=1, lanes=8, **many)
    two = esc.simulate(esc.Quadratic(np.eye(2)), gd, threads=2, lanes=64, **many)
    assert np.array_equal(one.exit_step, two.exit_step)
    assert np.array_equal(one.exit_position, two.exit_position, equal_nan=True)


def test_walls_several_regions_and_restarts_from_a_configuration_table():
    from escapade.config import parse_config

    table = {
        "landscape": {"type": "Linear", "slope": [0.0]},
        "dynamics": {"type": "Restart", "rate": 2.5, "dynamics": {"type": "Langevin", "temperature": 1.0, "dt": 0.01},
                     "to": {"type": "UniformBox", "low": [0.5], "high": [1.5]}},
        "stop": {"type": "Intersection", "regions": {"wall": {"type": "HalfSpace", "normal": [1.0], "offset": 3.0,
                                                              "reflecting": True},
                                                     "exit": {"type": "HalfSpace", "normal": [-1.0], "offset": 0.0}}},
        "start": {"x0": [1.0]},
        "run": {"n_paths": 50, "t_max": 50.0, "seed": 1},
    }
    experiment = parse_config(table)
    assert isinstance(experiment.dynamics, esc.Restart) and isinstance(experiment.stop, esc.Intersection)
    res = experiment.run(progress=False)
    assert res.region_names == ["wall", "exit"] and np.all(res.exit_region[res.stopped] == 1)
    # what the result records builds the same problem again
    again = esc.Restart(**{k: v for k, v in res.params["dynamics"].items() if k not in ("type", "dt")})
    assert again.to_dict() == res.params["dynamics"]
    assert esc.Intersection(res.params["stop"]["regions"]).to_dict() == res.params["stop"]


def test_estimate_refines_the_step_of_a_restarted_dynamics():
    # estimate's ladder halves the restarted dynamics' dt (restarts are then drawn with that step's probability);
    # its interval covers Evans-Majumdar's mean.
    r = 2.5
    est = esc.estimate(esc.Linear([0.0]), esc.Restart(esc.Langevin(1.0, dt=0.02), rate=r), x0=[1.0],
                       stop=esc.HalfSpace([-1.0], 0.0), rtol=0.05, seed=1, t_max=100, progress=False)
    assert len(est.levels) >= 2 and est.levels[1].dt == 0.01
    assert "restarts" in " ".join(est.notes)
    low, high = est.interval
    assert low < reset_mean(r) < high


def test_two_boxes_name_their_faces_apart():
    """A Box as stop and a Box as target both have faces x0-, ...: the names say whose, so that per-face fractions
    count every path and the pandas table has distinct categories."""
    res = esc.simulate(esc.Quadratic(np.zeros((2, 2))), esc.Langevin(0.5, dt=1e-3), x0=[0.0, 0.0],
                       stop=esc.Box([-2, -2], [2, 2]), target=esc.Box([0.5, 0.5], [1.0, 1.0]), n_paths=300, t_max=50,
                       seed=4, threads=1, progress=False)
    assert res.face_names == [f"{side}:{face}" for side in ("stop", "target") for face in ("x0-", "x0+", "x1-", "x1+")]
    stopped = np.isin(res.status, [esc.Status.EXITED, esc.Status.HIT]).mean()
    assert math.isclose(sum(res.exit_fractions("face").values()), stopped)
    table = res.to_pandas()
    assert set(table["exit_face"].dropna().unique()) <= set(res.face_names)


def test_crossings_are_placed_where_a_path_can_cross():
    """The bridge places a crossing on one face's plane. Entering an intersection, leaving a union, or entering a
    target that pokes beyond stop's walls, that point can lie inside another member or beyond a wall: such a draw
    is no crossing (the path goes on), and a step that ended in the region is placed on its chord instead. Every
    exit position then lies on the region's boundary, inside the walls."""
    flat = esc.Quadratic(np.zeros((2, 2)))
    dyn = esc.Langevin(0.5, dt=1e-2)
    kw = dict(n_paths=1000, t_max=20, seed=1, threads=1, progress=False)
    corner = esc.Box([0, 0], [1, 1]) & esc.Ball([0, 0], 1.0)
    res = esc.simulate(flat, dyn, x0=[1.1, 0.05], stop=esc.Ball([0, 0], 3.0), target=corner, **kw)
    x = res.exit_position[res.status == esc.Status.HIT]
    assert len(x) > 500
    assert np.all(np.minimum(np.minimum(x, 1 - x).min(axis=1), 1 - np.linalg.norm(x, axis=1)) > -1e-12)
    res = esc.simulate(flat, dyn, x0=[0.4, 0.0], stop=esc.Union([esc.Ball([0, 0], 0.6), esc.Ball([0.8, 0], 0.6)]), **kw)
    x = res.exit_position
    assert np.all(np.minimum(np.linalg.norm(x, axis=1), np.linalg.norm(x - [0.8, 0], axis=1)) > 0.6 - 1e-12)
    res = esc.simulate(flat, dyn, x0=[0.5, 0.5], stop=esc.Box([0, 0], [1, 1], reflecting=True),
                       target=~esc.Ball([0.5, 0.5], 0.55), **kw)
    x = res.exit_position
    assert np.all((x >= -1e-12) & (x <= 1 + 1e-12))
    assert np.allclose(np.linalg.norm(x - 0.5, axis=1), 0.55, atol=1e-9)


def test_a_shared_face_near_a_box_corner_is_crossed_once():
    """Near a corner two of the box's faces can be crossed; the target's plane is merged with the face it is
    parallel to, not with the likelier one: a target beyond the box's own face x = 1 is never hit, and the exit
    times are those of the box alone, bit for bit where the last step ended inside the box (a step that ended in the
    target beyond it is refined, semantics 20, and its exit drawn on the part of its bridge that crossed: the same
    law, within the standard error)."""
    flat = esc.Quadratic(np.zeros((2, 2)))
    kw = dict(x0=[0.9, 0.9], n_paths=5000, t_max=20, seed=3, threads=1, progress=False)
    alone = esc.simulate(flat, esc.Langevin(0.5, dt=1e-2), stop=esc.Box([-1, -1], [1, 1]), **kw)
    both = esc.simulate(flat, esc.Langevin(0.5, dt=1e-2), stop=esc.Box([-1, -1], [1, 1]),
                        target=esc.HalfSpace([-1, 0], -1), **kw)
    assert not np.any(both.status == esc.Status.HIT)
    inside = (np.abs(alone.final_position) < 1).all(axis=1)
    assert inside.sum() > 500
    np.testing.assert_array_equal(both.exit_time[inside], alone.exit_time[inside])
    a, b = alone.summary(), both.summary()
    assert abs(a.mean - b.mean) < 4 * np.hypot(a.stderr, b.stderr)


def test_a_rejected_crossing_at_the_step_cap_is_censored():
    st = esc.Union([esc.Ball([0, 0], 0.6), esc.Ball([0.8, 0], 0.6)])
    res = esc.simulate(esc.Quadratic(np.zeros((2, 2))), esc.Langevin(0.5, dt=1e-2), x0=[0.41, 0.44], stop=st,
                       max_steps=1, n_paths=20000, seed=0, threads=1, progress=False)
    assert res.exit_step.max() == 1 and res.total_steps == 20000
