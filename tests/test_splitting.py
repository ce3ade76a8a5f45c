"""Adaptive multilevel splitting (`escapade.splitting`, `escapade.rare_exit_time`) and its scores against exact or
independently computed answers.

References: the scale function of the 1-D double well (the SDE's probability of reaching b before a), a Nyström
solution of the Euler chain's own probability (with and without the Brownian-bridge test; what splitting estimates
at a finite dt), plain `simulate` on the same problem, the exact mean exit time of 1-D Langevin dynamics and the
Eyring–Kramers law. Every statistical check has a fixed seed and a tolerance of 3 standard errors. The long runs
are marked slow; each has a fast version here.
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special

import escapade as esc
from escapade import analysis
from escapade.scores import (Compiled, Distance, Linear, Negated, NormalizedDistance, Quadratic, SignedDistance,
                             default_score)

from conftest import interrupt_child

A_EDGE, B_EDGE = -0.9, 0.0
A = esc.HalfSpace([1.0], A_EDGE)   # {x < -0.9}
B = esc.HalfSpace([-1.0], -B_EDGE)  # {x > 0}
DW = esc.DoubleWell()
Z = 3.0  # tolerances in standard errors

RUN_ARRAYS = ("run_probability", "run_log_weight", "run_reached", "run_iterations", "run_killed", "run_steps",
              "run_status", "run_reactive_time")


def well(x):
    return x**4 / 4 - x**2 / 2


def well_gradient(x):
    return x**3 - x


def split(T=1 / 40, dt=1e-3, **kw):
    """splitting on the 1-D double well from x0 = -0.8, A = {x < -0.9}, B = {x > 0}, one thread."""
    args = dict(x0=[-0.8], reactant=A, product=B, n_replicas=100, n_runs=20, seed=1, threads=1, progress=False)
    args.update(kw)
    return esc.splitting(args.pop("landscape", DW), args.pop("dynamics", esc.Langevin(temperature=T, dt=dt)),
                         **args)


def scale_function_probability(T, a, b, x0, potential=well):
    """P_x0(reach b before a) of dX = -V'(X) dt + sqrt(2T) dW: int_a^x0 e^{V/T} / int_a^b e^{V/T}, the exponent
    shifted by its maximum on [a, b] so that neither integral overflows."""
    grid = np.linspace(a, b, 2001)
    top = float(np.max(potential(grid)))
    f = lambda x: math.exp((potential(x) - top) / T)  # noqa: E731
    num = integrate.quad(f, a, x0, epsabs=0, epsrel=1e-12, limit=200)[0]
    den = integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
    return num / den


@functools.lru_cache(maxsize=None)
def nystrom_chain_probability(T, dt, a, b, x0, bridge, panels_per_sigma=0.5, order=8):
    """P_x0(enter {x >= b} before {x <= a}) of the Euler chain x' = x - V'(x) dt + s G (s^2 = 2 T dt) of the double
    well, by a Nyström solution of h = f + K h on (a, b) (Gauss–Legendre panels of width 2 s).

    With `bridge`, a step x -> y ends in A with probability pA = exp(-2 (x - a)(y - a) / s^2) (1 when y <= a), else
    in B with probability pB = exp(-2 (b - x)(b - y) / s^2) (1 when y >= b), one uniform for both: the step kernel
    is phi(y) (1 - pA)(1 - pB) inside, the success term phi (1 - pA) pB inside plus P(y > b) less the part of it that
    A's bridge takes (a Gaussian integral in closed form)."""
    s2 = 2 * T * dt
    g, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, int(math.ceil((b - a) / math.sqrt(s2) * panels_per_sigma)) + 1)
    h = np.diff(edges)
    y = (edges[:-1, None] + h[:, None] * (g[None] + 1) / 2).ravel()
    wy = (h[:, None] * w[None] / 2).ravel()

    def parts(x):
        m = x - well_gradient(x) * dt
        phi = np.exp(-((y[None] - m[:, None]) ** 2) / (2 * s2)) / math.sqrt(2 * math.pi * s2)
        tail = 0.5 * special.erfc((b - m) / math.sqrt(2 * s2))
        if not bridge:
            return phi * wy, tail
        pa = np.exp(-2 * (x[:, None] - a) * (y[None] - a) / s2)
        pb = np.exp(-2 * (b - x[:, None]) * (b - y[None]) / s2)
        c = 2 * (x - a) / s2  # phi(y) e^{-c (y - a)} is a Gaussian of mean m - c s^2, times e^{c^2 s^2 / 2 - c (m - a)}
        tail = tail - np.exp(c * c * s2 / 2 - c * (m - a)) * 0.5 * special.erfc((b - (m - c * s2)) / math.sqrt(2 * s2))
        return phi * (1 - pa) * (1 - pb) * wy, (phi * (1 - pa) * pb * wy).sum(1) + tail

    K, f = parts(y)
    hy = np.linalg.solve(np.eye(y.size) - K, f)
    K0, f0 = parts(np.array([float(x0)]))
    return float(f0[0] + K0[0] @ hy)


def chain_probability(T, dt, x0, bridge):
    """The Euler chain's probability: escapade.analysis's solver where it exists, else the Nyström solution here."""
    return float(analysis.euler_chain_splitting_probability(well_gradient, T, dt, x0, A_EDGE, B_EDGE, bridge=bridge))


def within(estimate, se, reference, z=Z):
    assert se > 0 and math.isfinite(se)
    assert abs(estimate - reference) <= z * se, (
        f"{estimate:.6g} ± {se:.3g} (SE) vs {reference:.6g}: {(estimate - reference) / se:+.2f} SE")


def simulate_probability(T, dt, n_paths, seed, *, bridge=True, landscape=DW, dynamics=None, x0=(-0.8,), reactant=A,
                         product=B, t_max=1e3):
    """The plain ensemble's fraction of paths that enter B before A (target=A, stop=~B: EXITED means B), with its
    binomial standard error."""
    dyn = dynamics if dynamics is not None else esc.Langevin(temperature=T, dt=dt)
    r = esc.simulate(landscape, dyn, x0=list(x0), target=reactant, stop=~product, n_paths=n_paths, seed=seed,
                     threads=1, bridge=bridge, t_max=t_max, progress=False)
    assert r.count("CENSORED") == 0 and r.count("DIVERGED") == 0
    p = r.count("EXITED") / r.n_paths
    return p, math.sqrt(p * (1 - p) / r.n_paths)


# ---------------------------------------------------------------------------------------------------------------
# 1. The 1-D double well against the scale function


def test_the_references_agree():
    # The bridged chain's probability (Nyström) tends to the scale function's like dt (-0.14% at dt = 1e-3, half
    # that at dt / 2), and does not move when the quadrature is refined.
    T = 1 / 40
    exact = scale_function_probability(T, A_EDGE, B_EDGE, -0.8)
    assert exact == pytest.approx(5.1266001762652795e-05, rel=1e-9)
    bridged = nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, -0.8, True)
    assert bridged == pytest.approx(nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, -0.8, True, 1.0, 10),
                                    rel=1e-9)
    finer = nystrom_chain_probability(T, 5e-4, A_EDGE, B_EDGE, -0.8, True)
    assert abs(bridged / exact - 1) < 2e-3 and abs(finer / exact - 1) < 0.6 * abs(bridged / exact - 1)
    # The plain chain (tested at the steps) is within 1% here too (+0.37%): its O(sqrt(dt)) errors at A and B
    # partly cancel.
    assert abs(nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, -0.8, False) / exact - 1) < 1e-2


@pytest.mark.parametrize("bridge", [True, False])
def test_the_analysis_chain_solver_matches_the_nystrom_here(bridge):
    for T, x0 in ((1 / 40, -0.8), (1 / 26, -0.8), (1 / 100, -0.8)):
        got = analysis.euler_chain_splitting_probability(well_gradient, T, 1e-3, x0, A_EDGE, B_EDGE, bridge=bridge)
        assert got == pytest.approx(nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, x0, bridge), rel=1e-6)


def test_probability_against_the_scale_function():
    T = 1 / 40
    r = split(T)
    exact = scale_function_probability(T, A_EDGE, B_EDGE, -0.8)
    within(r.value, r.stderr, exact)
    # The bridge's O(dt) bias (the bridged Euler chain against the SDE) is far below the tolerance.
    bias = nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, -0.8, True) - exact
    assert abs(bias) < 0.05 * Z * r.stderr
    assert r.test == "bridge" and r.count("FINISHED") == r.n_runs and r.reached
    assert r.log_probability == pytest.approx(math.log(r.value))
    assert r.value == pytest.approx(r.run_probability.mean()) and r.probability == r.value
    assert r.run_probability == pytest.approx(np.exp(r.run_log_weight) * r.run_reached / r.n_replicas)
    low, high = r.interval
    assert low < r.value < high


def test_probability_below_1e8():
    # p ~ 1e-10: 20 runs of 100 replicas, a second or two.
    T = 1 / 100
    r = split(T, seed=2)
    exact = scale_function_probability(T, A_EDGE, B_EDGE, -0.8)
    assert exact < 1e-8
    within(r.value, r.stderr, exact)
    bias = nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, -0.8, True) - exact  # -0.24% of p
    assert abs(bias) < 0.05 * Z * r.stderr


@pytest.mark.slow
def test_probability_below_1e8_tight():
    T = 1 / 100
    r = split(T, seed=3, n_runs=400)
    exact = scale_function_probability(T, A_EDGE, B_EDGE, -0.8)
    within(r.value, r.stderr, exact)
    bias = nystrom_chain_probability(T, 1e-3, A_EDGE, B_EDGE, -0.8, True) - exact
    assert abs(bias) < 0.2 * Z * r.stderr
    print(f"\nT=1/100: {r.value:.5g} ± {r.stderr:.2g} (SE) vs {exact:.5g} "
          f"({(r.value - exact) / r.stderr:+.2f} SE); bridged chain {exact + bias:.5g}")


def test_several_starts_and_a_sampler_give_the_average_probability():
    # Points (n, d) are used in turn by the replicas of all runs (N = 20: 5 replicas per point in every run), a
    # sampler draws each replica's start: either way the estimate is the mean of p over the starts.
    T = 1 / 40
    points = np.array([[-0.85], [-0.8], [-0.75], [-0.7]])
    r = split(T, x0=points, seed=11, n_replicas=20, n_runs=40)
    within(r.value, r.stderr, np.mean([scale_function_probability(T, A_EDGE, B_EDGE, x) for x in points[:, 0]]))
    r = split(T, x0=esc.UniformBox([-0.85], [-0.7]), seed=12, n_replicas=20, n_runs=40)
    mean = integrate.quad(lambda x: scale_function_probability(T, A_EDGE, B_EDGE, x), -0.85, -0.7)[0] / 0.15
    within(r.value, r.stderr, mean)


def test_without_the_bridge_it_estimates_the_plain_chain():
    T = 1 / 40
    r = split(T, bridge=False, seed=4)
    assert r.test == "steps"
    within(r.value, r.stderr, chain_probability(T, 1e-3, -0.8, bridge=False))


# ---------------------------------------------------------------------------------------------------------------
# 2. Unbiasedness at small N: the mean of many runs of 20 replicas


T_UNBIASED = 1 / 26  # p(-0.8) = 1.0e-3


def test_small_n_runs_are_unbiased():
    r = split(T_UNBIASED, n_replicas=20, n_runs=400, seed=5)
    exact = chain_probability(T_UNBIASED, 1e-3, -0.8, bridge=True)
    within(r.value, r.stderr, exact)
    p, se = simulate_probability(T_UNBIASED, 1e-3, 100_000, seed=5)
    within(r.value - p, math.hypot(r.stderr, se), 0.0)
    # The plain chain (bridge off) against the plain ensemble tested at the steps: one and the same chain.
    r0 = split(T_UNBIASED, n_replicas=20, n_runs=400, seed=6, bridge=False)
    within(r0.value, r0.stderr, chain_probability(T_UNBIASED, 1e-3, -0.8, bridge=False))


@pytest.mark.slow
def test_small_n_runs_are_unbiased_many_runs():
    # 10^4 runs of N = 20: the relative SE is about 0.6%, so an error of -1/N = -5% (an estimator that keeps the
    # killed replicas' weight wrong) would sit ~8 SE away, and one of 1/(3N) = 1.7% ~2.7 SE (the power of the
    # 3-SE test against -1/N is ~1).
    N = 20
    r = split(T_UNBIASED, n_replicas=N, n_runs=10_000, seed=7)
    exact = chain_probability(T_UNBIASED, 1e-3, -0.8, bridge=True)
    within(r.value, r.stderr, exact)
    assert r.stderr / exact < 1 / (3 * N) / 2.5  # the SE allows the 1/(3N) check below
    assert abs(r.value / exact - 1) < 1 / (3 * N)
    p, se = simulate_probability(T_UNBIASED, 1e-3, 1_000_000, seed=7)
    within(r.value - p, math.hypot(r.stderr, se), 0.0)
    print(f"\nN=20, 10^4 runs: {r.value:.6g} ± {r.stderr:.2g} (SE), chain {exact:.6g} "
          f"({(r.value - exact) / r.stderr:+.2f} SE, {r.value / exact - 1:+.3%}); simulate {p:.5g} ± {se:.2g}")


# ---------------------------------------------------------------------------------------------------------------
# 3. Mean exit time in 1-D


def exit_time_exact(T, x0=-1.0):
    return analysis.langevin_mean_exit_time_1d(well, T, x0, -np.inf, 0.0, lower_boundary="reflecting")


def exit_time(T, x0=-1.0, **kw):
    args = dict(x0=[x0], reactant=A, product=B, seed=3, threads=1, progress=False)
    args.update(kw)
    return esc.rare_exit_time(DW, esc.Langevin(temperature=T, dt=1e-3), **args)


@pytest.mark.parametrize("x0", [-1.0, -0.8], ids=["x0-in-A", "x0-outside-A"])
def test_rare_exit_time_1d(x0):
    T = 1 / 32
    r = exit_time(T, x0, n_loops=3000, n_replicas=50, n_runs=10, n_pilot=500)
    within(r.mean, r.stderr, exit_time_exact(T, x0))
    p = r.probability_term
    inverse = (1 - (p.stderr / p.value) ** 2) / p.value  # 1/p with its Jensen bias removed to second order
    terms = r.first_time.value + (inverse - 1) * r.loop_time.value + r.reactive_time.value
    if r.start_terms:  # x0 above Sigma: the first trial from x0
        p0, fail0, reactive0 = (t.value for t in r.start_terms)
        assert x0 > -0.9 and r.start_splitting is not None and p0 == r.start_splitting.value
        terms = p0 * reactive0 + (1 - p0) * (fail0 + terms)
    assert r.mean == pytest.approx(terms)
    assert r.probability_term.value == r.splitting.value and r.splitting.n_runs == 10
    assert r.n_loops <= 3000 and r.sigma_level == r.params["sigma_level"]


@pytest.mark.slow
@pytest.mark.parametrize("T, n_runs, n_loops", [(1 / 32, 2500, 150_000), (1 / 64, 4000, 100_000)],
                         ids=["T=1/32", "T=1/64"])
def test_rare_exit_time_1d_tight(T, n_runs, n_loops):
    # SE 0.7% at T = 1/32 and 0.9% at T = 1/64 (the splitting runs dominate it): checked within 3 SE and 2%.
    r = exit_time(T, n_loops=n_loops, n_runs=n_runs)
    exact = exit_time_exact(T)
    print(f"\nT={T:.5g}: {r.mean:.6g} ± {r.stderr:.3g} (SE, {r.stderr / r.mean:.2%}) vs exact {exact:.6g}: "
          f"{r.mean / exact - 1:+.2%} ({(r.mean - exact) / r.stderr:+.2f} SE)")
    within(r.mean, r.stderr, exact)
    assert abs(r.mean / exact - 1) < 0.02


# ---------------------------------------------------------------------------------------------------------------
# 4. A tilted double well in 2-D, over its saddle


@functools.lru_cache(maxsize=None)
def tilted():
    """V(x, y) = x^4/4 - x^2/2 + 0.1 x + y^2 (a CompiledLandscape), its left minimum and its saddle."""
    numba = pytest.importorskip("numba")

    @numba.njit
    def value(x):
        return x[0] ** 4 / 4 - x[0] ** 2 / 2 + 0.1 * x[0] + x[1] ** 2

    @numba.njit
    def gradient(x, out):
        out[0] = x[0] ** 3 - x[0] + 0.1
        out[1] = 2.0 * x[1]

    @numba.njit
    def hessian(x, out):
        out[0, 0] = 3 * x[0] ** 2 - 1
        out[0, 1] = 0.0
        out[1, 0] = 0.0
        out[1, 1] = 2.0

    landscape = esc.CompiledLandscape(2, gradient, value=value, hessian=hessian)
    m = analysis.find_minimum(landscape, [-1.0, 0.0])
    s = analysis.find_saddle(landscape, [0.0, 0.0])
    return landscape, m, s


def tilted_x(x):
    return x**4 / 4 - x**2 / 2 + 0.1 * x


PAST_SADDLE = 0.6


def tilted_exit(T, reactant="half", **kw):
    """rare_exit_time from the left minimum to B = {x > saddle_x + 0.6}; A a half-plane {x < m_x + 0.1} (an x-only
    problem) or a ball of radius `reactant` around the minimum. Returns (result, exact, Eyring–Kramers).

    The x motion does not see y, and B only x, so the mean time to B is the 1-D mean exit time of x to x_B
    (exact). Eyring–Kramers' transition time counts until the path is committed past the saddle: x_B sits 0.6 /
    sqrt(T / |lambda_-|) = 2.6 to 3.7 such widths past it at T = 1/20 to 1/40, so the two differ by the Gaussian
    tail beyond x_B (0.4% at T = 1/20, less below) and the O(1) time from there on, against e^{dV/T} ~ 10^3..10^7.
    """
    landscape, m, s = tilted()
    x_b = float(s.x[0]) + PAST_SADDLE
    A2 = (esc.HalfSpace([1.0, 0.0], float(m.x[0]) + 0.1) if reactant == "half"
          else esc.Ball(m.x, float(reactant)))
    args = dict(x0=m.x, reactant=A2, product=esc.HalfSpace([-1.0, 0.0], -x_b), seed=1, threads=1, progress=False)
    args.update(kw)
    r = esc.rare_exit_time(landscape, esc.Langevin(temperature=T, dt=1e-3), **args)
    exact = analysis.langevin_mean_exit_time_1d(tilted_x, T, float(m.x[0]), -np.inf, x_b,
                                                lower_boundary="reflecting")
    return r, exact, analysis.eyring_kramers(landscape, m, s, T).transition_time


def test_tilted_well_2d():
    T = 1 / 20
    r, exact, ek = tilted_exit(T, n_loops=3000, n_replicas=50, n_runs=20, n_pilot=500)
    within(r.mean, r.stderr, exact)
    # Eyring–Kramers: 3 SE plus its O(T) correction (1 + 1.5 T in 1-D; exact / EK = 1.072 here).
    assert abs(r.mean / ek - 1) < Z * r.stderr / ek + 2 * T


@pytest.mark.slow
def test_tilted_well_2d_against_eyring_kramers():
    ratios = []
    for T in (1 / 20, 1 / 30, 1 / 40):
        r, exact, ek = tilted_exit(T, n_runs=400, n_loops=30_000)
        print(f"\nT=1/{round(1 / T)}: {r.mean:.6g} ± {r.stderr / r.mean:.2%} (SE); exact {exact:.6g} "
              f"({(r.mean - exact) / r.stderr:+.2f} SE); EK {ek:.6g}: estimate/EK {r.mean / ek:.4f}, exact/EK "
              f"{exact / ek:.4f}")
        within(r.mean, r.stderr, exact)
        ratios.append((r.mean / ek, r.stderr / ek, exact / ek))
    exact_ratios = [e for _, _, e in ratios]
    assert exact_ratios[0] > exact_ratios[1] > exact_ratios[2] > 1  # toward 1 as T decreases (the O(T) term)
    assert exact_ratios[2] < 1.05
    est, se, _ = ratios[2]
    assert abs(est - 1) < 0.05 + Z * se


def test_tilted_well_2d_with_a_ball_reactant():
    # The same x-only exit time with A a ball of radius 0.3 around the minimum: the mean exit time does not depend
    # on A, which only splits paths into loops.
    r, exact, _ = tilted_exit(0.1, reactant=0.3, n_loops=5000, n_replicas=50, n_runs=100)
    within(r.mean, r.stderr, exact)


# ---------------------------------------------------------------------------------------------------------------
# 5. Bitwise the same for any threads and lanes


def assert_same_splitting(a, b):
    for name in RUN_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert len(a.reactive_trajectories) == len(b.reactive_trajectories)
    for (t, x), (tb, xb) in zip(a.reactive_trajectories, b.reactive_trajectories):
        assert t.tobytes() == tb.tobytes() and x.tobytes() == xb.tobytes()
    assert (a.value, a.stderr, a.path_steps, a.seed) == (b.value, b.stderr, b.path_steps, b.seed)


def test_splitting_is_bitwise_the_same_for_any_threads_and_lanes():
    kw = dict(n_replicas=20, n_runs=12, seed=9, record_reactive=4)
    ref = split(1 / 16, threads=1, lanes=64, **kw)
    assert len(ref.reactive_trajectories) == 4
    for threads, lanes in ((2, 64), (1, 8), (2, 8), (1, 16)):
        assert_same_splitting(split(1 / 16, threads=threads, lanes=lanes, **kw), ref)
    other = split(1 / 16, threads=1, lanes=64, **{**kw, "seed": 10})
    assert not np.array_equal(other.run_probability, ref.run_probability)


def test_rare_exit_time_is_bitwise_the_same_for_any_threads_and_lanes():
    kw = dict(n_loops=300, n_replicas=20, n_runs=4, n_pilot=100, seed=4)
    ref = exit_time(1 / 16, threads=1, lanes=64, **kw)
    for threads, lanes in ((2, 8), (1, 16)):
        r = exit_time(1 / 16, threads=threads, lanes=lanes, **kw)
        assert (r.mean, r.stderr, r.sigma_level, r.path_steps) == (ref.mean, ref.stderr, ref.sigma_level,
                                                                   ref.path_steps)
        for term in ("first_time", "loop_time", "reactive_time", "probability_term"):
            assert getattr(r, term) == getattr(ref, term), term
        assert_same_splitting(r.splitting, ref.splitting)
    assert exit_time(1 / 16, threads=1, **{**kw, "seed": 5}).mean != ref.mean


def child_env():
    """The environment of a child process, which imports this escapade (from wherever the tests import it)."""
    package_root = str(Path(esc.__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}


LANES_CHILD = textwrap.dedent(
    """
    import sys
    import escapade as e

    r = e.splitting(e.DoubleWell(), e.Langevin(temperature=1 / 16, dt=1e-3), x0=[-0.8],
                    reactant=e.HalfSpace([1.0], -0.9), product=e.HalfSpace([-1.0], 0.0), n_replicas=20, n_runs=6, seed=9, threads=int(sys.argv[2]),
                    lanes=int(sys.argv[1]))
    print(r.run_probability.tobytes().hex(), r.path_steps)
    """
)


def lanes_child(lanes, threads=1):
    proc = subprocess.run([sys.executable, "-c", LANES_CHILD, str(lanes), str(threads)], capture_output=True,
                          text=True, timeout=120, env=child_env())
    assert proc.returncode == 0, f"lanes={lanes}: exit code {proc.returncode}; stderr: {proc.stderr[-2000:]!r}"
    return proc.stdout


@pytest.mark.parametrize("lanes", [1, 4])
def test_fewer_than_8_lanes_give_the_same_bits(lanes):
    # In a child process: the failure is a crash.
    assert lanes_child(lanes) == lanes_child(64)


# ---------------------------------------------------------------------------------------------------------------
# 6. Other dynamics


def finite_sum():
    """A 1-D finite sum of two quadratics with gradients x - 1 and x + 1, weighted 1/2 each: one SGD step moves
    x by -lr (x -+ 1), so that paths stay in [-1, 1]."""
    return esc.StochasticQuadratic(np.array([[[1.0]], [[1.0]]]), r=np.array([[-1.0], [1.0]]))


@pytest.mark.parametrize("name", ["LevyLangevin", "GaussianSGD", "SGDk", "NoisyGD", "SGLD", "Langevin-S",
                                  "Langevin-hessian"])
def test_every_noisy_dynamics_runs(name):
    cases = {
        "LevyLangevin": (DW, esc.LevyLangevin(1.5, 0.2, dt=1e-2), A, B, [-0.8]),
        "GaussianSGD": (DW, esc.GaussianSGD(0.01, 1.0, [[10.0]]), A, B, [-0.8]),
        "SGDk": (finite_sum(), esc.SGDk(0.05, 1), esc.HalfSpace([-1.0], -0.3), esc.HalfSpace([1.0], -0.7), [0.0]),
        "NoisyGD": (DW, esc.NoisyGD(0.01, 10.0), A, B, [-0.8]),
        "SGLD": (DW, esc.SGLD(0.01, 0.04), A, B, [-0.8]),
        "Langevin-S": (DW, esc.Langevin(eps=0.3, S=[[1.2]], dt=1e-3), A, B, [-0.8]),
        "Langevin-hessian": (DW, esc.Langevin(eps=0.4, S="hessian", dt=1e-3), esc.HalfSpace([1.0], -1.1),
                             esc.HalfSpace([-1.0], 0.7), [-0.9]),
    }
    landscape, dyn, reactant, product, x0 = cases[name]
    r = esc.splitting(landscape, dyn, x0=x0, reactant=reactant, product=product, n_replicas=20, n_runs=4, seed=1,
                      threads=1)
    assert r.test == ("bridge" if name == "Langevin-S" else "steps")
    assert 0 < r.value < 1 and r.count("FINISHED") == 4 and r.reached
    assert r.iterations > 0 and r.path_steps > 0


def test_a_discrete_map_against_its_chain_and_the_plain_ensemble():
    # GaussianSGD x' = x - lr V'(x) + lr sqrt(C) G is the Euler chain with dt = lr and T = lr C / 2 (here 1/16),
    # tested at the steps: the Nyström plain chain is its exact probability (7.6e-3).
    lr, C = 0.01, 12.5
    dyn = esc.GaussianSGD(lr, 1.0, [[C]])
    r = split(dynamics=dyn, n_replicas=50, n_runs=100, seed=2)
    assert r.test == "steps"
    exact = nystrom_chain_probability(lr * C / 2, lr, A_EDGE, B_EDGE, -0.8, False)
    within(r.value, r.stderr, exact)
    p, se = simulate_probability(None, None, 100_000, seed=2, dynamics=dyn, bridge=False)
    within(p, se, exact)
    within(r.value - p, math.hypot(r.stderr, se), 0.0)


def test_anisotropic_noise_in_2d_against_the_plain_ensemble():
    # A ball and a tilted half-plane under a constant non-diagonal noise factor, both tested with the bridge (in
    # the noise's frame) by splitting and by simulate alike: the same chain, p ~ 0.04.
    landscape = esc.Quadratic(np.diag([1.0, 2.0]))
    dyn = esc.Langevin(eps=0.35, S=[[1.0, 0.3], [0.0, 0.8]], dt=1e-3)
    sets = dict(reactant=esc.Ball([0.0, 0.0], 0.2), product=esc.HalfSpace([-1.0, -0.5], -0.8))
    r = split(landscape=landscape, dynamics=dyn, x0=[0.3, 0.1], n_replicas=50, n_runs=60, **sets)
    assert r.test == "bridge"
    p, se = simulate_probability(None, None, 50_000, seed=1, landscape=landscape, dynamics=dyn, x0=(0.3, 0.1), **sets)
    within(r.value - p, math.hypot(r.stderr, se), 0.0)


# ---------------------------------------------------------------------------------------------------------------
# 7. Scores


def ellipse_signed_distance(p, center, matrix):
    """Signed distance to the ellipse {(x - c)^T M (x - c) = 1} (positive inside), by minimizing over its angle."""
    lam, V = np.linalg.eigh(matrix)
    axes = 1 / np.sqrt(lam)
    t = np.linspace(0, 2 * np.pi, 20001)
    curve = center[:, None] + V @ (axes[:, None] * np.array([np.cos(t), np.sin(t)]))
    d2 = ((curve - p[:, None]) ** 2).sum(0)
    t0 = t[np.argmin(d2)]
    res = optimize.minimize_scalar(
        lambda u: float(((center + V @ (axes * np.array([np.cos(u), np.sin(u)])) - p) ** 2).sum()),
        bounds=(t0 - 1e-3, t0 + 1e-3), method="bounded", options={"xatol": 1e-14})
    d = math.sqrt(res.fun)
    e = p - center
    return d if e @ matrix @ e < 1 else -d


def test_scores_against_their_formulas():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) * 2
    w, c, M = np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.1, 0.7]), np.array([[2.0, 0.3, 0], [0.3, 1, 0.1],
                                                                                 [0, 0.1, 0.5]])
    cases = [
        (Linear(w, 0.25), X @ w + 0.25),
        (Distance(c, 1.5), 1.5 - np.linalg.norm(X - c, axis=1)),
        (NormalizedDistance(c, -c), np.linalg.norm(X - c, axis=1) / (np.linalg.norm(X - c, axis=1)
                                                                     + np.linalg.norm(X + c, axis=1))),
        (Quadratic(M, c), 0.5 * np.einsum("ni,ij,nj->n", X - c, M, X - c)),
        (Negated(Linear(w)), -(X @ w)),
        (-Distance(c), np.linalg.norm(X - c, axis=1)),
    ]
    for score, want in cases:
        np.testing.assert_allclose(score(X), want, rtol=1e-13, atol=1e-13, err_msg=repr(score))
        assert score(X[3]) == pytest.approx(want[3], rel=1e-13, abs=1e-13)
        assert score.dim == 3
    inner = Linear(w)
    assert -Negated(inner) is inner and -(-inner) is inner


def test_quadratic_score_from_a_quasipotential():
    # For the gradient system A = H with S = I the quasi-potential is x^T H x = 2 f (analysis.linear_quasipotential)
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    center = np.array([0.3, -0.2])
    score = Quadratic.from_quasipotential(analysis.linear_quasipotential(H), center)
    X = np.random.default_rng(2).normal(size=(20, 2))
    np.testing.assert_allclose(score(X), np.einsum("ni,ij,nj->n", X - center, H, X - center), rtol=1e-10)


def test_default_score_is_the_signed_distance_to_the_product():
    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, size=(200, 2))
    n, off = np.array([1.0, -2.0]), 0.5
    center, radius = np.array([0.2, -0.4]), 1.3
    low, high = np.array([-1.0, -0.5]), np.array([1.5, 0.8])
    E = np.array([[2.0, 0.6], [0.6, 1.0]])

    def box_distance(x):
        if np.all((x > low) & (x < high)):
            return float(np.min(np.minimum(x - low, high - x)))
        return -float(np.linalg.norm(np.maximum(np.maximum(low - x, x - high), 0)))

    regions = [
        (esc.HalfSpace(n, off), (off - X @ n) / np.linalg.norm(n)),
        (esc.Ball(center, radius), radius - np.linalg.norm(X - center, axis=1)),
        (esc.Box(low, high), np.array([box_distance(x) for x in X])),
        (esc.Ellipsoid(center, E), np.array([ellipse_signed_distance(x, center, E) for x in X])),
    ]
    regions += [(~region, -want) for region, want in regions]
    for region, want in regions:
        score = default_score(region)
        assert isinstance(score, SignedDistance)
        np.testing.assert_allclose(score(X), want, rtol=1e-9, atol=1e-9, err_msg=repr(region))
        # positive exactly inside (off the boundary)
        assert np.array_equal(score(X) > 0, np.asarray(region.contains(X), bool))


def test_default_score_is_what_splitting_uses():
    a, b = split(1 / 16, n_replicas=20, n_runs=3), split(1 / 16, n_replicas=20, n_runs=3, score=SignedDistance(B))
    assert_same_splitting(a, b)
    assert a.params["score"] == SignedDistance(B).to_dict()


@functools.lru_cache(maxsize=None)
def numba_scores():
    numba = pytest.importorskip("numba")

    @numba.njit
    def identity(x):
        return x[0]

    @numba.njit
    def raising(x):
        if x[0] > -0.7:
            raise ValueError("off the map")
        return x[0]

    @numba.njit
    def nan_past(x):
        return np.nan if x[0] > -0.7 else x[0]

    @numba.njit
    def plateau(x):
        return min(x[0], -0.85)

    @numba.njit
    def inf_past(x):
        return np.inf if x[0] > -0.5 else x[0]

    return identity, raising, nan_past, plateau, inf_past


def test_a_compiled_score_is_bitwise_the_linear_one():
    identity = numba_scores()[0]
    kw = dict(T=1 / 16, n_replicas=20, n_runs=6, seed=3, record_reactive=2)
    assert_same_splitting(split(score=Compiled(1, identity), **kw), split(score=Linear([1.0]), **kw))
    assert Compiled(1, identity)(np.array([[-0.25], [0.5]])).tolist() == [-0.25, 0.5]


def test_a_compiled_score_that_raises_is_a_callback_error():
    raising = numba_scores()[1]
    with pytest.raises(esc.CallbackError, match="raising"):
        split(1 / 16, score=Compiled(1, raising), n_replicas=20, n_runs=4, threads=2)


def test_a_score_that_turns_nan_mid_run_is_a_value_error():
    nan_past = numba_scores()[2]
    with pytest.raises(ValueError, match="NaN"):
        split(1 / 16, score=Compiled(1, nan_past), n_replicas=20, n_runs=4, threads=2)


def test_idle_lanes_are_held_where_a_fast_growing_noise_stays_finite():
    """Lanes with no replica are stepped with the block; held at their last state, they no longer drift off to
    where a growing S(x) overflows (lanes=8 stopped with "S returned a non-finite entry at x = [-2.1e+224]" while
    every replica stops at -1 or 1.5)."""
    numba = pytest.importorskip("numba")

    @numba.njit
    def s(x, out):
        out[0, 0] = 0.5 + x[0] ** 2

    kw = dict(x0=[0.2], reactant=esc.HalfSpace([1.0], -1.0), product=~esc.HalfSpace([1.0], 1.5), n_replicas=20,
              n_runs=2, seed=77, threads=1, progress=False)
    dyn = esc.Langevin(eps=0.45, S=s, dt=1e-3)
    one, eight = (esc.splitting(esc.Linear([0.7]), dyn, lanes=lanes, **kw) for lanes in (1, 8))
    assert eight.probability == one.probability > 0
    np.testing.assert_array_equal(eight.run_log_weight, one.run_log_weight)


def test_sampled_starts_inside_the_product_count_as_arrived():
    """A sampler's start inside B is a replica that reached B (its score +inf stands for that), not a bad score:
    against the exact committor averaged over the sampler's law."""
    r = split(1 / 16, dt=1e-3, x0=esc.UniformBox([-0.85], [0.3]), n_replicas=50, n_runs=20)
    inside = integrate.quad(lambda x: scale_function_probability(1 / 16, A_EDGE, B_EDGE, x), -0.85, B_EDGE,
                            epsabs=0, epsrel=1e-8)[0]
    exact = (inside + (0.3 - B_EDGE)) / (0.3 + 0.85)  # starts above 0 are in B
    assert abs(r.probability - exact) < Z * r.stderr + 0.02 * exact, (r.probability, r.stderr, exact)


def test_a_score_of_infinity_outside_the_product_is_a_value_error():
    """+inf stands for "reached B": a score that returns it before B would count those replicas as arrived (0.0163
    against the exact 0.0076)."""
    inf_past = numba_scores()[4]
    with pytest.raises(ValueError, match="score returned inf at x = .* must be finite outside the product set"):
        split(1 / 16, score=Compiled(1, inf_past), n_replicas=20, n_runs=4)


# ---------------------------------------------------------------------------------------------------------------
# 8. Runs that end early, bad input and Ctrl-C


def test_a_score_that_never_rises_is_refused():
    # Every replica starts on the plateau {x <= -0.85} of min(x, -0.85): no path's score rises above its start, in
    # any run (all extinct at the first level): the score does not separate A from B.
    plateau = numba_scores()[3]
    with pytest.raises(ValueError, match="score: no replica's score rose"):
        split(1 / 40, score=Compiled(1, plateau), n_replicas=20, n_runs=5)


def test_extinct_runs_count_as_zero_with_a_note():
    # Two replicas: a run dies out whenever both sit at the same level (both back in A at once, say), which happens
    # in a good share of runs; those runs count as 0 in the (still unbiased) mean.
    r = split(1 / 40, n_replicas=2, n_runs=60)
    extinct = r.run_status == esc.SplittingStatus.EXTINCT
    assert 0 < extinct.sum() < 60 and np.all(r.run_probability[extinct] == 0) and r.value > 0
    assert r.count("EXTINCT") == extinct.sum() and any("extinct" in note for note in r.notes)


def test_a_tiny_iteration_cap_is_reported():
    r = split(1 / 40, n_replicas=20, n_runs=3, max_iterations=2)
    assert r.count("ITERATION_CAP") == 3 and np.all(r.run_iterations == 2)
    assert r.reached is False
    assert any("max_iterations=2" in note for note in r.notes)


@pytest.mark.parametrize("bridge", [True, False])
def test_reactive_trajectories_are_run_0s_paths_into_the_product(bridge):
    r = split(1 / 40, n_replicas=20, n_runs=2, record_reactive=20, bridge=bridge)
    assert len(r.reactive_trajectories) == r.run_reached[0] == 20
    for t, x in r.reactive_trajectories:
        assert t[0] == 0 and x[0, 0] == -0.8 and x.shape == (t.size, 1)
        np.testing.assert_allclose(np.diff(t), 1e-3, rtol=1e-9)  # every step, branch points included
        assert np.all(x[1:, 0] > A_EDGE) and np.all(x[:-1, 0] < B_EDGE)  # neither set before the end
        if not bridge:
            assert x[-1, 0] > B_EDGE  # (with the bridge the last step may end short of B, having crossed it)
    # run 0's mean time to B is the mean of its recorded paths' durations
    assert np.mean([t[-1] for t, _ in r.reactive_trajectories]) == pytest.approx(r.run_reactive_time[0], rel=1e-12)


def test_one_run_has_no_interval():
    r = split(1 / 40, n_replicas=20, n_runs=1)
    assert math.isnan(r.stderr) and any("one run" in note for note in r.notes)
    assert all(math.isnan(v) for v in r.interval)


def test_censored_paths_are_failures_with_a_note():
    r = split(1 / 40, n_replicas=20, n_runs=2, t_max=0.05)
    assert r.censored > 0 and r.reached is False
    assert any("max_steps" in note and "biases the estimate low" in note for note in r.notes)


def test_overlapping_sets_are_refused_when_a_path_is_found_in_both():
    # B lies inside A at A's entrance: the first step into A is in B too.
    with pytest.raises(ValueError, match="reactant and product overlap"):
        split(1 / 16, product=esc.Box([-0.95], [-0.9]), reactant=esc.HalfSpace([1.0], -0.9 + 1e-12),
              score=Linear([-1.0]), n_replicas=20, n_runs=2)
    with pytest.raises(ValueError, match="reactant and product overlap"):
        split(1 / 16, product=esc.Box([-1.5], [-0.9]), reactant=esc.HalfSpace([1.0], -0.9), bridge=False,
              score=Linear([-1.0]), n_replicas=20, n_runs=2)


@pytest.mark.parametrize("seed", range(3))
def test_sets_that_overlap_in_part_are_refused_when_a_refined_step_enters_the_other_first(seed):
    """A = {x < 0} and B = (-0.05, 0.03) overlap on (-0.05, 0): a step from near B that ends in both may be refined,
    and its bridge found to enter B first; the end in both sets is still the overlap error (a first version of the
    refinement returned an answer here for every seed)."""
    with pytest.raises(ValueError, match="reactant and product overlap"):
        split(0.5, 0.05, landscape=esc.Linear([0.0]), x0=[0.1], reactant=esc.HalfSpace([1.0], 0.0),
              product=esc.Box([-0.05], [0.03]), n_replicas=20, n_runs=5, seed=seed)


CHILD = textwrap.dedent(
    """
    import signal
    import sys
    import escapade as e

    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in tests/test_interrupt.py
    A, B = e.HalfSpace([1.0], -0.9), e.HalfSpace([-1.0], 0.0)
    print("started", flush=True)
    try:
        e.splitting(e.DoubleWell(), e.Langevin(temperature=0.01, dt=1e-3), x0=[-0.8], reactant=A, product=B,
                    n_replicas=1000, n_runs=10**5, seed=1, threads=2, progress=False)
    except KeyboardInterrupt:
        if sys.argv[1] == "reraise":
            raise
        r = e.splitting(e.DoubleWell(), e.Langevin(temperature=0.1, dt=1e-3), x0=[-0.8], reactant=A, product=B,
                        n_replicas=10, n_runs=2, seed=1, threads=2)
        print("after", r.count("FINISHED"), flush=True)
        sys.exit(0)
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["reraise", "catch"])
def test_ctrl_c_stops_a_long_splitting_run(tmp_path, mode):
    out, err, returncode = interrupt_child(CHILD, mode, tmp_path, env=child_env())
    assert "finished" not in out
    if mode == "reraise":
        assert "KeyboardInterrupt" in err and returncode != 0
    else:
        assert returncode == 0, err
        assert "after 2" in out


# ---------------------------------------------------------------------------------------------------------------
# 9. Saving, loading and tables


def assert_same_estimate(a, b):
    for name in ("value", "stderr", "confidence", "reached", "message", "n_paths", "path_steps", "elapsed", "seed",
                 "version"):
        assert getattr(a, name) == getattr(b, name), name
    assert tuple(a.interval) == tuple(b.interval) and tuple(a.notes) == tuple(b.notes)
    assert a.params == b.params


def test_splitting_result_round_trip(tmp_path):
    r = split(1 / 16, n_replicas=20, n_runs=5, record_reactive=3, seed=8)
    path = tmp_path / "split.npz"
    r.save(path)
    back = esc.load(path)
    assert type(back) is esc.SplittingResult
    assert_same_estimate(back, r)
    assert_same_splitting(back, r)
    assert (back.test, back.n_replicas, back.n_runs, back.censored, back.diverged) == (r.test, 20, 5, 0, 0)
    assert back.log_probability == r.log_probability
    table = r.to_pandas()
    assert len(table) == 5 and list(table["status"]) == ["FINISHED"] * 5
    np.testing.assert_array_equal(table["probability"], r.run_probability)
    np.testing.assert_array_equal(table["iterations"], r.run_iterations)


def test_rare_exit_time_round_trip(tmp_path):
    r = exit_time(1 / 16, n_loops=300, n_replicas=20, n_runs=4, n_pilot=100)
    path = tmp_path / "exit.npz"
    r.save(path)
    back = esc.load(path)
    assert type(back) is esc.RareExitTime
    assert_same_estimate(back, r)
    for name in ("sigma_level", "first_time", "loop_time", "reactive_time", "probability_term", "n_loops",
                 "loops_to_product"):
        assert getattr(back, name) == getattr(r, name), name
    assert_same_splitting(back.splitting, r.splitting)
    assert back.mean == r.mean and str(back) == str(r)


# ---------------------------------------------------------------------------------------------------------------
# Review cases: a start above Sigma, Sigma inside A, sets a step apart with the bridge, a small step cap


def test_rare_exit_time_from_above_sigma_runs_a_first_trial():
    # x0 = -0.3 lies far above the default Sigma: the mean is p0 E[T_reactive,0] + (1 - p0) (E[T_fail,0] + E[tau_A]).
    T, dt = 1 / 16, 2e-3
    r = esc.rare_exit_time(DW, esc.Langevin(temperature=T, dt=dt), x0=[-0.3], reactant=A, product=B, n_loops=3000,
                           n_replicas=50, n_runs=20, seed=5, threads=1, progress=False)
    assert len(r.start_terms) == 3 and r.start_splitting is not None and 0 < r.start_terms[0].value < 1
    assert any("x0 lies above Sigma" in note for note in r.notes)
    # against the exact SDE mean, within 3 SE plus the bridge's O(dt) bias (well under 1% here)
    exact = exit_time_exact(T, -0.3)
    assert abs(r.mean - exact) <= Z * r.stderr + 0.01 * exact, (r.mean, r.stderr, exact)


def test_the_first_trial_carries_its_provenance():
    r = esc.rare_exit_time(DW, esc.Langevin(temperature=1 / 16, dt=1e-2), x0=[-0.5], reactant=A, product=B,
                           n_loops=200, n_replicas=20, n_runs=4, seed=1, threads=1, progress=False)
    trial = r.start_splitting
    assert trial is not None and trial.elapsed > 0 and trial.params["x0"] == r.params["x0"]
    assert trial.params["dynamics"] == r.params["dynamics"] and trial.seed != r.seed


def test_a_probability_too_uncertain_for_one_over_p_is_not_reached():
    """Three runs of two replicas, one run alone reaching B: v = Var(p-hat)/p^2 = 1, where (1 - v)/p-hat would drop
    the 1/p term (a mean of 1.3 against the exact 135.8). The correction stops at v = 0.1, and the result says it is
    not reached."""
    r = esc.rare_exit_time(DW, esc.Langevin(temperature=1 / 16, dt=1e-2), x0=[-1.0], reactant=A, product=B,
                           n_replicas=2, n_runs=3, n_loops=200, seed=18, threads=1, progress=False)
    p = r.splitting.run_probability
    assert np.count_nonzero(p) == 1
    assert r.reached is False and any("too large for the 1/p estimate" in note for note in r.notes)
    assert r.mean > 0.9 * r.loop_time.value * (1 / r.probability_term.value - 1) and r.interval[0] >= 0


def test_one_run_gives_no_interval_and_is_not_reached():
    r = esc.rare_exit_time(DW, esc.Langevin(temperature=1 / 16, dt=1e-2), x0=[-1.0], reactant=A, product=B,
                           n_replicas=50, n_runs=1, n_loops=200, seed=3, threads=1, progress=False)
    assert all(math.isnan(end) for end in r.interval) and r.reached is False
    assert any("one splitting run" in note for note in r.notes)


def test_rare_exit_time_takes_a_state_dependent_diffusion_and_records_the_test_it_ran():
    """A callable S keeps each step's covariance as lane state (a cache for the bridge, not memory): allowed; and
    params["bridge"] is what the runs did (jump noise: the steps only)."""
    S = esc.BatchedDiffusion(lambda x: np.full((x.shape[0], 1, 1), 0.35), dim=1)
    r = esc.rare_exit_time(DW, esc.Langevin(eps=1.0, S=S, dt=1e-2), x0=[-1.0], reactant=A, product=B, n_replicas=20,
                           n_runs=3, n_loops=100, seed=1, threads=1, progress=False)
    assert r.mean > 0
    levy = split(dynamics=esc.LevyLangevin(1.5, 0.2, dt=1e-2), n_replicas=10, n_runs=2)
    assert levy.test == "steps" and levy.params["bridge"] is False
    assert split(n_replicas=10, n_runs=2).params["bridge"] is True


@pytest.mark.parametrize("change", ["forcing", "schedule", "state"])
def test_rare_exit_time_refuses_time_dependent_or_stateful_dynamics(change):
    """Its stages each start at t = 0 and hand on positions only: a forcing, a step-size schedule or an optimizer
    state would restart with each (a forcing that kicks at t = 20 gave the unforced 135.8 for a true 21.2)."""
    dynamics = {
        "forcing": esc.Langevin(temperature=1 / 16, dt=1e-2,
                                forcing=esc.TableForcing([0, 20, 20.01], [[0.0], [0.0], [0.6]])),
        "schedule": esc.SGLD(0.01, 0.05, schedule="gelfand_mitter"),
        "state": esc.PerturbedGD(0.01, radius=0.1, g_thres=0.1, f_thres=0.0, t_thres=3),
    }[change]
    with pytest.raises(ValueError, match=f"dynamics.*{'forcing' if change == 'forcing' else ''}.*rare_exit_time"):
        esc.rare_exit_time(DW, dynamics, x0=[-1.0], reactant=A, product=B, n_loops=100, n_replicas=10, n_runs=2,
                           seed=1, threads=1, progress=False)


def test_a_probability_interval_stays_within_zero_and_one():
    r = split(1 / 16, x0=[-0.03], n_replicas=2, n_runs=3, seed=5)
    assert 0.0 <= r.interval[0] <= r.interval[1] <= 1.0


def test_a_sigma_level_inside_the_reactant_set_is_refused():
    with pytest.raises(ValueError, match="sigma_level=.* meets the reactant set"):
        exit_time(1 / 32, sigma_level=-0.95, n_loops=200, n_replicas=20, n_runs=2, n_pilot=100)


def test_sets_a_step_apart_with_the_bridge_follow_the_rule_not_an_overlap_error():
    # B = {x > -0.88} a step or two above A = {x < -0.9}: the refined bridge may find that a step whose end lies in
    # B entered A first; that is the rule, not an overlap. Checked against the bridged chain's exact probability.
    T, dt, x0, b = 0.25, 1e-2, -0.89, -0.88
    r = split(T, dt, x0=[x0], product=esc.HalfSpace([-1.0], -b), n_replicas=50, n_runs=40)
    exact = analysis.euler_chain_splitting_probability(well_gradient, T, dt, x0, A_EDGE, b, bridge=True)
    within(r.value, r.stderr, exact)


# ---------------------------------------------------------------------------------------------------------------
# Steps whose bridge could enter both sets: refined (semantics 21), against exact answers for Brownian motion


def gap_probability(mu, T, a, b, x0):
    """P(reach b before a) of dX = mu dt + sqrt(2 T) dW from x0 in (a, b): the scale function of constant drift."""
    if mu == 0:
        return (x0 - a) / (b - a)
    return math.expm1(-mu * (x0 - a) / T) / math.expm1(-mu * (b - a) / T)


@pytest.mark.parametrize("mu", [0.0, 1.0])
@pytest.mark.parametrize("dt", [0.05, 0.005])
def test_a_gap_narrower_than_a_step_has_the_exact_split(mu, dt):
    """Brownian motion with constant drift between A = {x < 0} and B = {x > 0.1}, from 0.03, at steps whose spread
    (0.22 and 0.07) is wider than the gap: the Euler chain is exact at the steps and the bridge between them is
    drift-free, so the refined bridge test leaves only its finest parts' error. Semantics 20 (one uniform, A first)
    gave 0.104 and 0.261 for the exact 0.3 (mu = 0), 0.132 and 0.284 for 0.321 (mu = 1)."""
    T, a, b, x0 = 0.5, 0.0, 0.1, 0.03
    r = split(T, dt, landscape=esc.Linear([-mu]), x0=[x0], reactant=esc.HalfSpace([1.0], a),
              product=esc.HalfSpace([-1.0], -b), n_replicas=50, n_runs=400, seed=3)
    assert r.test == "bridge"
    within(r.value, r.stderr, gap_probability(mu, T, a, b, x0))
    # the bridged Euler chain's own probability (analysis, the image series of the strip) is the same number
    chain = analysis.euler_chain_splitting_probability(lambda x: np.full_like(x, -mu), T, dt, x0, a, b, bridge=True)
    assert chain == pytest.approx(gap_probability(mu, T, a, b, x0), abs=1e-12)


def test_a_wedge_narrower_than_a_right_angle_has_the_exact_split():
    """Brownian motion in the 60-degree wedge between A = {y < 0} and B (beyond the ray at 60 degrees), from
    radius 0.1 at 20 degrees, at dt = 0.05 (steps of 0.22): B first with probability 20/60 (harmonic measure, the
    angle is harmonic). Semantics 20 gave 0.116."""
    th, phi = math.radians(60), math.radians(20)
    outside = esc.HalfSpace([math.sin(th), -math.cos(th)], 0.0)  # {-sin x + cos y > 0}: beyond the ray
    r = split(0.5, 0.05, landscape=esc.Linear([0.0, 0.0]), x0=[0.1 * math.cos(phi), 0.1 * math.sin(phi)],
              reactant=esc.HalfSpace([0.0, 1.0], 0.0), product=outside & esc.HalfSpace([0.0, -1.0], 0.0),
              n_replicas=50, n_runs=400, seed=4)
    within(r.value, r.stderr, phi / th)


@pytest.mark.parametrize("gap", [1e-5, 0.005, 0.015])
def test_a_gap_far_narrower_than_a_step_has_the_exact_split(gap):
    """A = {x < 0}, B = {x > L} from 0.3 L at dt = 0.05 (steps of 0.22, 15 to 22,000 gaps wide): P(B first) = 0.3.
    Both entries stay likely down to parts whose spread is about L: refined down to 2^-60 of a step (semantics 23).
    Eight halvings (semantics 22, parts of spread 0.014, decided by drawn entry times) gave -19.8, -18.8 and -8.7
    SE."""
    r = split(0.5, 0.05, landscape=esc.Linear([0.0]), x0=[0.3 * gap], reactant=esc.HalfSpace([1.0], 0.0),
              product=esc.HalfSpace([-1.0], -gap), n_replicas=50, n_runs=1000, seed=4)
    within(r.value, r.stderr, 0.3)


def test_an_obtuse_wedge_next_to_the_start_has_the_exact_split():
    """A = {y < 0} and B beyond the ray at 135 degrees (each cut along the bisector of the angle outside the wedge),
    from radius 0.01 at 40.5 degrees, at dt = 0.05: P(B first) = 0.3 (harmonic measure). Eight halvings (semantics
    22) gave +11.8 SE; down to 2^-60 of a step (semantics 23) the finest parts' error is gone."""
    a = 0.75 * math.pi
    cut = [math.sin(a / 2 + math.pi), -math.cos(a / 2 + math.pi)]
    r = split(0.5, 0.05, landscape=esc.Linear([0.0, 0.0]), x0=[0.01 * math.cos(0.3 * a), 0.01 * math.sin(0.3 * a)],
              reactant=esc.HalfSpace([0.0, 1.0], 0.0) & esc.HalfSpace(cut, 0.0),
              product=esc.HalfSpace([math.sin(a), -math.cos(a)], 0.0) & esc.HalfSpace([-cut[0], -cut[1]], 0.0),
              n_replicas=50, n_runs=1000, seed=7)
    within(r.value, r.stderr, 0.3)


def test_a_right_angle_under_correlated_noise_has_the_exact_split():
    """A = {y < 0}, B = {x > 1, y > 0}, dX = S dW with S = [[1, 0], [0.6, 0.5]] from (0.9, 0.1) at dt = 0.05: in the
    coordinates S^-1 x the noise is isotropic and the quarter plane a wedge, so P(B first) is harmonic measure (as
    test_regions checks for simulate's stop and target). The midpoints are drawn with the covariance's root."""
    S = np.array([[1.0, 0.0], [0.6, 0.5]])
    inv = np.linalg.inv(S)
    angle = lambda v: np.arctan2(v[1], v[0])  # noqa: E731
    side_a, side_b, start = angle(inv @ [-1.0, 0.0]), angle(inv @ [0.0, 1.0]), angle(inv @ [-0.1, 0.1])
    exact = ((side_a - start) % (2 * np.pi)) / ((side_a - side_b) % (2 * np.pi))
    r = split(landscape=esc.Linear([0.0, 0.0]), dynamics=esc.Langevin(eps=1.0, S=S.tolist(), dt=0.05),
              x0=[0.9, 0.1], reactant=esc.HalfSpace([0.0, 1.0], 0.0),
              product=esc.HalfSpace([-1.0, 0.0], -1.0) & esc.HalfSpace([0.0, -1.0], 0.0), n_replicas=50, n_runs=400,
              seed=5)
    within(r.value, r.stderr, exact)


def corner_sets(distance):
    """A = {x > c, y < x} and B = {y > c, y > x}, c = distance / sqrt(2): two sets that meet at the corner (c, c),
    `distance` from the origin, mirror images of each other in the diagonal."""
    c = distance / math.sqrt(2)
    return (esc.HalfSpace([-1.0, 0.0], -c) & esc.HalfSpace([-1.0, 1.0], 0.0),
            esc.HalfSpace([0.0, -1.0], -c) & esc.HalfSpace([1.0, -1.0], 0.0))


def test_two_sets_meeting_at_a_corner_next_to_the_start_are_entered_first_equally_often():
    """Brownian motion from the origin, A and B meeting at a corner 0.01 away, at dt = 0.05 (steps of 0.22): by the
    symmetry P(B first) = 1/2. Near the corner both entries stay likely down to the finest parts (spread 0.014),
    where the part's draw decides: where both were entered, the earlier of the two entry times (semantics 22).
    Semantics 21 took A first there: 0.451 (-31 SE)."""
    a, b = corner_sets(0.01)
    r = split(0.5, 0.05, landscape=esc.Linear([0.0, 0.0]), x0=[0.0, 0.0], reactant=a, product=b, n_replicas=50,
              n_runs=2000, seed=2)
    within(r.value, r.stderr, 0.5)


@pytest.mark.parametrize("dt", [0.05, 0.005])
def test_a_right_angle_next_to_the_start_has_the_harmonic_split(dt):
    """A = {x < 0} and B = {y < 0} (cut along the diagonal, so that they do not overlap), Brownian motion from
    (0.01, 0.002), 0.01 from the corner, at steps of 0.22 and 0.07: P(B first) = 1 - (2 / pi) atan(y / x), the
    harmonic measure of the quarter plane. On a finest part with both entries likely, the two entry times (the
    planes at a right angle: independent) decide which came first; an end inside one set is that set unless the
    other's bridge entered it too and first (semantics 22). Semantics 21 took A first: 0.697 (-122 SE) at dt = 0.05,
    0.865 (-8 SE) at 0.005."""
    x, y = 0.01, 0.002
    a = esc.HalfSpace([1.0, 0.0], 0.0) & esc.HalfSpace([1.0, -1.0], 0.0)
    b = esc.HalfSpace([0.0, 1.0], 0.0) & esc.HalfSpace([-1.0, 1.0], 0.0)
    r = split(0.5, dt, landscape=esc.Linear([0.0, 0.0]), x0=[x, y], reactant=a, product=b, n_replicas=50,
              n_runs=2000, seed=7)
    within(r.value, r.stderr, 1 - 2 / math.pi * math.atan2(y, x))


def test_a_band_thinner_than_a_refined_part_is_entered_on_the_way():
    """B a band 0.001 thick between the start and A: every path that reaches A passes through B first, so
    P(B first) = 1. The finest parts of a refined step (spread 0.014 at dt = 0.05) jump the band; one that ends in A
    is B where its chord passed through B first, and where the band's plane and A's are parallel the farther, A,
    cannot be entered first (merge_parallel_crossings). Semantics 20 gave 0.27; without the merge, 0.9996."""
    r = split(0.5, 0.05, landscape=esc.Linear([0.0]), x0=[0.0], reactant=esc.HalfSpace([1.0], -0.1),
              product=esc.Box([-0.05], [-0.049]), n_replicas=50, n_runs=100, seed=4)
    assert r.value == 1.0 and r.count(esc.SplittingStatus.FINISHED) == 100


def test_a_band_touching_the_other_sets_face_is_entered_first():
    """B a band 0.001 thick 0.0005 before the face of A = {x < -0.1}, from 0 at dt = 0.05: every path into A passes
    through B first, so P(B first) = 1. On a finest part that ends in B, A's entry is still likely; its face behind
    B's parallel face is taken out before its entry is drawn against B's (a first version of semantics 22 drew it:
    0.9966)."""
    r = split(0.5, 0.05, landscape=esc.Linear([0.0]), x0=[0.0], reactant=esc.HalfSpace([1.0], -0.1),
              product=esc.Box([-0.0995], [-0.0985]), n_replicas=50, n_runs=100, seed=4)
    assert r.value == 1.0 and r.count(esc.SplittingStatus.FINISHED) == 100


@pytest.mark.parametrize("product", [esc.HalfSpace([-1.0], -0.2) | esc.HalfSpace([1.0], -0.1),
                                     ~esc.Box([-0.1], [0.2])])
def test_a_set_with_faces_on_both_sides_is_merged_face_by_face(product):
    """A a band at 0.1 between the start 0 and B's face at 0.2, B's other face at -0.1: P(B first) = 0.5. B's face
    behind the band is taken out of B's probability, its face at -0.1 keeps its own. A first version merged A with
    one plane of B, and where that was the far face it took out the whole of B: 0.464 at dt = 0.05."""
    r = split(0.5, 0.05, landscape=esc.Linear([0.0]), x0=[0.0], reactant=esc.Box([0.1], [0.101]), product=product,
              n_replicas=50, n_runs=400, seed=11)
    within(r.value, r.stderr, 0.5)


def test_refined_steps_keep_their_bits_at_any_thread_and_lane_count():
    """The refinement's draws are keyed by (seed, continuation, step): the same runs at 1 and 2 threads, 8 and 64
    lanes."""
    kw = dict(landscape=esc.Linear([0.0]), x0=[0.03], reactant=esc.HalfSpace([1.0], 0.0),
              product=esc.HalfSpace([-1.0], -0.1), n_replicas=20, n_runs=12, seed=7)
    runs = [split(0.5, 0.05, threads=t, lanes=n, **kw) for t, n in ((1, 64), (2, 64), (1, 8), (2, 8))]
    for other in runs[1:]:
        for name in RUN_ARRAYS:
            np.testing.assert_array_equal(getattr(other, name), getattr(runs[0], name), err_msg=name)


def test_a_small_step_cap_censors_branched_copies_too():
    # With max_steps the estimate is of P(B before A and before the cap): plain Monte Carlo of the same chain.
    T, dt, cap = 1 / 8, 1e-2, 30
    r = split(T, dt, n_replicas=50, n_runs=40, max_steps=cap, bridge=False)
    assert r.censored > 0 and r.reached is False
    mc = esc.simulate(DW, esc.Langevin(temperature=T, dt=dt), x0=[-0.8], target=A, stop=~B, n_paths=200_000,
                      max_steps=cap, bridge=False, seed=2, threads=1, progress=False)
    p_mc = mc.count("EXITED") / mc.n_paths
    se_mc = math.sqrt(p_mc * (1 - p_mc) / mc.n_paths)
    within(r.value, math.hypot(r.stderr, se_mc), p_mc)


# ---------------------------------------------------------------------------------------------------------------
# The bias of the sets' test against dt (T = 1/32): the bridge estimates the SDE, the steps the Euler chain


def bias_rows(dts, n_runs):
    T = 1 / 32
    sde = scale_function_probability(T, A_EDGE, B_EDGE, -0.8)
    rows = []
    for dt in dts:
        for bridge in (True, False):
            r = split(T, dt, bridge=bridge, n_runs=n_runs, seed=int(1e4 * dt) + bridge)
            rows.append((dt, bridge, r, chain_probability(T, dt, -0.8, bridge), sde))
    return rows


def check_bias_rows(rows):
    for dt, bridge, r, chain, sde in rows:
        within(r.value, r.stderr, chain)  # each estimate is its own chain's probability
    # the exact chains: with the bridge the error against the SDE is smaller at every dt and shrinks like dt
    errors = {(dt, bridge): chain / sde - 1 for dt, bridge, _, chain, sde in rows}
    dts = sorted({dt for dt, *_ in rows})
    for dt in dts:
        assert abs(errors[dt, True]) < abs(errors[dt, False])
    if len(dts) > 1:
        ratio = errors[dts[-1], True] / errors[dts[0], True]
        assert 0.5 * dts[-1] / dts[0] < ratio < 2 * dts[-1] / dts[0]  # O(dt)


def test_the_bridge_estimates_the_sde_and_the_steps_the_chain():
    # dt = 1e-2: the chain tested at the steps is 1.9% above the SDE's p, the bridged chain 1.1% below
    check_bias_rows(bias_rows([1e-2], n_runs=600))


@pytest.mark.slow
def test_the_bridge_estimates_the_sde_and_the_steps_the_chain_at_each_dt():
    # dt from 1e-2 to 1e-3, 2000 runs of 100 replicas per row (a relative SE of 0.66%)
    rows = bias_rows([1e-2, 3e-3, 1e-3], n_runs=2000)
    for dt, bridge, r, chain, sde in rows:
        print(f"\ndt={dt:g} bridge={bridge}: {r.value:.5e} ± {r.stderr:.1e}, chain {chain:.5e} "
              f"({(r.value - chain) / r.stderr:+.2f} SE), SDE {sde:.5e} ({(r.value - sde) / r.stderr:+.2f} SE)")
    check_bias_rows(rows)


# ---------------------------------------------------------------------------------------------------------------
# k > 1: the level is the k-th lowest maximum


@pytest.mark.parametrize("k", [3, 19])
def test_killing_k_at_a_time_is_unbiased(k):
    # N = 20 at p = 1e-3 (T = 1/26), 1000 runs: against the bridged chain's exact probability
    T = 1 / 26
    r = split(T, n_replicas=20, n_runs=1000, k=k, threads=2)
    within(r.value, r.stderr, chain_probability(T, 1e-3, -0.8, True))
    assert r.params["k"] == k and np.all(r.run_killed >= k * r.run_iterations)


def test_k_gives_the_same_bits_for_any_threads_and_lanes():
    runs = [split(1 / 40, n_replicas=30, n_runs=6, k=4, threads=t, lanes=l) for t, l in ((1, 64), (2, 8), (2, 3))]
    for other in runs[1:]:
        for name in RUN_ARRAYS:
            np.testing.assert_array_equal(getattr(runs[0], name), getattr(other, name))


@pytest.mark.parametrize("k", [0, 20, 1.5])
def test_k_must_lie_between_1_and_n_minus_1(k):
    with pytest.raises(TypeError if isinstance(k, float) else ValueError, match="k"):
        split(1 / 40, n_replicas=20, n_runs=2, k=k)


def test_no_interval_when_no_run_reaches_the_product():
    """A score that peaks halfway (the distance to a point inside the basin) makes every run go extinct: the
    all-zero estimates have no spread, which gave the interval [0, 0] as if p = 0 were certain (exact chain
    p = 2.7e-7). Now NaN, not reached, with a note."""
    from escapade import scores

    A, B = esc.HalfSpace([1.0], -0.9), esc.HalfSpace([-1.0], 0.0)
    r = esc.splitting(esc.DoubleWell(), esc.Langevin(temperature=1 / 64, dt=1e-2), x0=[-0.8], reactant=A,
                      product=B, score=scores.Distance([-0.6]), n_runs=20, seed=1000, threads=1, progress=False)
    assert r.value == 0 and not r.reached
    assert all(math.isnan(v) for v in (*r.interval, r.stderr))
    assert any("no run reached the product set" in n for n in r.notes)


def test_the_progress_bar_ends_at_its_total(monkeypatch):
    """The runs finished after the last poll were never counted: a bar of 20 runs closed at 0 / 20."""
    from escapade import rare

    closed = []

    class Watched(rare.Progress):
        def close(self):
            closed.append((self.bar.n, self.bar.total))
            super().close()

    monkeypatch.setattr(rare, "Progress", Watched)
    esc.splitting(esc.DoubleWell(), esc.Langevin(temperature=1 / 100, dt=1e-3), x0=[-0.8],
                  reactant=esc.HalfSpace([1.0], -0.9), product=esc.HalfSpace([-1.0], 0.0), n_runs=20, seed=1,
                  threads=1, progress=True)
    assert closed == [(20, 20)]


def test_a_step_past_the_bound_that_the_bridge_saw_enter_a_set_is_that_event():
    """Brownian motion from 0 in steps of dt = 4 (standard deviation 2.8) between A = {x < -1} and the thin band
    B = (1, 1.5), with divergence_bound = 2: a step that passes through B and ends past the bound entered B on the
    way (its chord crossed it), as it would with no bound. The runs equal those with an infinite bound; before
    semantics 14 343 such replica paths were DIVERGED (failures), and p came out 0.21 against the 0.35 of the
    unbounded runs. Since semantics 21 such steps are refined (both sets within reach), bounded or not, and p is
    near the SDE's 0.5 even at this step."""
    kw = dict(landscape=esc.Linear([0.0]), dynamics=esc.Langevin(temperature=0.5, dt=4.0), x0=[0.0],
              reactant=esc.HalfSpace([1.0], -1.0), product=esc.Box([1.0], [1.5]), n_runs=20)
    bounded, free = split(divergence_bound=2.0, **kw), split(divergence_bound=math.inf, **kw)
    assert bounded.diverged == 0 and free.diverged == 0
    assert bounded.probability == free.probability and bounded.probability > 0.3
    for name in RUN_ARRAYS:
        np.testing.assert_array_equal(getattr(bounded, name), getattr(free, name), err_msg=name)
