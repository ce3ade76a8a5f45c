"""The benchmark peers compute what they claim: bench/peers/ams_numba.py against the exact probability of its chain."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from conftest import ROOT
from scipy.special import ndtr

pytest.importorskip("numba")

# p ~ 3.7e-3: hundreds of AMS iterations per run at N = 20, a few milliseconds each
T, DT, A, B, X0 = 1 / 20, 1e-2, -0.9, 0.0, -0.8


@pytest.fixture(scope="module")
def ams():
    spec = importlib.util.spec_from_file_location("ams_numba", ROOT / "bench" / "peers" / "ams_numba.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def euler_chain_probability(temperature, dt, a, b, x0, order=16):
    """P_x0(x_k >= b before x_k <= a) for x' = x - V'(x) dt + s G, s^2 = 2 T dt, V = x^4/4 - x^2/2, tested at the steps.

    Nystrom on u(x) = P(m(x) + sG >= b) + int_a^b phi_s(y - m(x)) u(y) dy with m(x) = x - V'(x) dt: Gauss-Legendre
    panels of width <= s, where the kernel is smooth on the scale of a panel.
    """
    s = math.sqrt(2 * temperature * dt)

    def m(x):
        return x - (x**3 - x) * dt

    def phi(z):
        return np.exp(-0.5 * (z / s) ** 2) / (s * math.sqrt(2 * math.pi))

    g, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, math.ceil((b - a) / s) + 1)
    half, mid = np.diff(edges) / 2, (edges[:-1] + edges[1:]) / 2
    y = (mid[:, None] + half[:, None] * g).ravel()
    wy = (half[:, None] * w).ravel()
    u = np.linalg.solve(np.eye(y.size) - phi(y[None, :] - m(y)[:, None]) * wy, ndtr((m(y) - b) / s))
    return float(ndtr((m(x0) - b) / s) + phi(y - m(x0)) @ (wy * u))


def test_chain_probability_quadrature_converged():
    # finer panels and more nodes change nothing at the accuracy the AMS check needs
    p = euler_chain_probability(T, DT, A, B, X0)
    assert p == pytest.approx(euler_chain_probability(T, DT, A, B, X0, order=24), rel=1e-10)
    assert 1e-3 < p < 1e-2


@pytest.mark.parametrize(("n_replicas", "n_runs"), [(20, 4000), (2, 20000)])
def test_ams_numba_unbiased(ams, n_replicas, n_runs):
    # N = 2 goes extinct in about a quarter of the runs (both replicas absorbed in A without a new maximum):
    # the estimator stays unbiased only if ties die together and extinction counts as 0
    exact = euler_chain_probability(T, DT, A, B, X0)
    out = ams.run_ams(T, DT, X0, A, B, n_replicas, n_runs, seed=20241204)
    p = out["p"]
    se = p.std(ddof=1) / math.sqrt(n_runs)
    assert abs(p.mean() - exact) < 3 * se, (p.mean(), se, exact)
    assert not out["capped"].any()
    assert np.all(p[out["extinct"]] == 0)
    # the per-run spread of generalized AMS with k = 1 is close to sqrt(p^(-1/N) - 1) (not tested for N = 2)
    if n_replicas >= 20:
        assert p.std(ddof=1) / p.mean() == pytest.approx(math.sqrt(exact ** (-1 / n_replicas) - 1), rel=0.15)
    assert np.all(out["steps"] >= n_replicas)


def test_ams_numba_prange_matches_loop(ams):
    # a run depends only on (seed, run index): the prange driver gives the loop's results bit for bit
    loop = ams.run_ams(T, DT, X0, A, B, 20, 40, seed=7)
    par = ams.run_ams(T, DT, X0, A, B, 20, 40, seed=7, parallel=True, threads=1)
    for key in ("p", "iterations", "steps", "extinct", "capped"):
        np.testing.assert_array_equal(loop[key], par[key])


def test_ams_numba_bad_input(ams):
    with pytest.raises(ValueError, match="x0"):
        ams.run_ams(T, DT, -1.0, A, B, 20, 1, seed=0)
    with pytest.raises(ValueError, match="n_replicas"):
        ams.run_ams(T, DT, X0, A, B, 1, 1, seed=0)
    with pytest.raises(ValueError, match="dt"):
        ams.run_ams(T, -DT, X0, A, B, 20, 1, seed=0)


def test_sensitivity_peer_central_difference_matches_the_exact_derivative():
    # bench/peers/sens_fd_numba.py: dE[tau]/dT on the double well at T = 0.25 (exact -31.39 from the quadrature)
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from peers import sens_fd_numba as peer
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from escapade.analysis import langevin_mean_exit_time_derivative_1d

    exact = langevin_mean_exit_time_derivative_1d(lambda x: x**4 / 4 - x**2 / 2, 0.25, -1.0, -math.inf, 0.0,
                                                  lower_boundary="reflecting")
    d, steps = peer.run_central(3000, T=0.25, h=0.01, dt=1e-3, x0=-1.0, b=0.0, seed=1)
    assert steps > 0
    se = d.std(ddof=1) / math.sqrt(d.size)
    assert abs(d.mean() - exact) < 4 * se + 0.03 * abs(exact)


def load_peer(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "peers" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["sgdk_numba", "sgdk_numpy"])
def test_sgdk_peers_take_the_sgdk_step(name):
    # k = n: every term once, gradient descent on F (to rounding: the peers sum in their own order); k < n: the
    # minibatch step is unbiased, so the mean first step over many paths is GD's within its standard error.
    import escapade as esc

    peer = load_peer(name)
    f = esc.StyblinskiTangSum.random(4, 12, seed=2)
    x0 = np.tile(f.flattest_minimizer() + 0.3, (400, 1))
    gd = esc.simulate(f, esc.GD(0.01), x0=x0[0], n_paths=1, max_steps=3, seed=0).final_position[0]
    x, steps = peer.run(f.c1, f.c2, f.c3, x0[:5], 0.01, 12, 3, seed=1)
    assert steps == 15
    np.testing.assert_allclose(x, np.tile(gd, (5, 1)), rtol=1e-12, atol=1e-12)
    x, _ = peer.run(f.c1, f.c2, f.c3, x0, 0.01, 4, 1, seed=1)
    step = esc.simulate(f, esc.GD(0.01), x0=x0[0], n_paths=1, max_steps=1, seed=0).final_position[0]
    se = x.std(axis=0, ddof=1) / np.sqrt(len(x))
    assert np.all(np.abs(x.mean(axis=0) - step) < 4 * se + 1e-12), (x.mean(axis=0), step, se)
