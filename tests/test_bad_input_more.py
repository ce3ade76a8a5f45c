"""More bad input, each refused by name with a ValueError/TypeError (or, where the input is legal but a result has
no interval, an honest unreached result). Cases that could hang if their fix regressed run in a subprocess."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import escapade as esc

A, B = esc.HalfSpace([1.0], -0.9), esc.HalfSpace([-1.0], 0.0)
DW = esc.DoubleWell()


def L():
    return esc.Langevin(temperature=0.1, dt=0.01)


def spl(**overrides):
    args = dict(x0=[-0.8], reactant=A, product=B, n_replicas=4, n_runs=2, seed=0, threads=1, progress=False)
    args.update(overrides)
    return esc.splitting(DW, L(), **args)


def ret(**overrides):
    args = dict(x0=[-1.0], reactant=A, product=B, n_loops=20, n_replicas=4, n_runs=2, n_pilot=20, seed=0, threads=1,
                progress=False)
    args.update(overrides)
    return esc.rare_exit_time(DW, L(), **args)


def sens(T, **kw):
    return esc.simulate(DW, esc.Langevin(T, dt=0.01), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=16,
                        t_max=0.5, seed=0, sensitivities=["dynamics.temperature"], sensitivity_method="fd", **kw)


def in_subprocess(code, timeout=60):
    """Run `code` in a fresh interpreter (a regression would hang): its stdout, or fail on a timeout."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    try:
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                             timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"timed out after {timeout} s (a hang):\n{code}")
    assert out.returncode == 0, out.stderr
    return out.stdout


CASES = [
    # 1. t_thres past the core's exact count
    (lambda: esc.PerturbedGD(0.1, radius=0.1, g_thres=1.0, f_thres=0.1, t_thres=2**53), ValueError, "t_thres"),
    (lambda: esc.PerturbedGD(0.1, radius=0.1, g_thres=1.0, f_thres=0.1, t_thres=1e19), ValueError, "t_thres"),
    # 2. finite-difference steps lost in rounding, or out of the parameter's domain
    (lambda: sens(0.2, fd_step=5e-324), ValueError, "fd_step"),
    (lambda: sens(0.2, fd_step=1.0), ValueError, "fd_step.*dynamics.temperature.*domain"),
    (lambda: sens(0.0), ValueError, "fd_step.*dynamics.temperature.*domain"),
    # 5. an empty store path
    (lambda: esc.simulate(DW, L(), x0=[-1.0], n_paths=2, max_steps=3, seed=0, store=""), ValueError, "store"),
    # 6. tolerances the adaptive integrator can never meet
    (lambda: esc.ConstrainedFlow(esc.Parabola(), dt=0.1, method="dp54", atol=0.0, rtol=5e-324), ValueError, "rtol"),
    (lambda: esc.simulate(esc.Ackley(), esc.ConstrainedFlow(esc.Parabola(), dt=0.1, method="dp54", max_step=1e-300),
                          x0=[1.0, 1.0], n_paths=2, t_max=0.1, seed=0), ValueError, "max_step"),
    # 7. a sigma_level the default score never reaches outside the product set
    (lambda: ret(sigma_level=2.0), ValueError, "sigma_level"),
    # 8. giant allocations
    (lambda: esc.BatchedLandscape(2, lambda x: 2 * x, term_gradients=lambda t, x: 2 * x, n_terms=2**40), ValueError,
     "n_terms"),
    (lambda: ret(n_pilot=2**31), ValueError, "n_pilot"),
    (lambda: ret(n_pilot=2**63), ValueError, "n_pilot"),
    (lambda: ret(n_pilot=10**7), ValueError, "n_pilot"),
    (lambda: esc.UniformBox([0.0], [1.0]).sample(2**40, seed=0), ValueError, "^n "),
    (lambda: esc.UniformBall([0.0], 1.0).sample(2**40, seed=0), ValueError, "^n "),
    (lambda: esc.Gaussian([0.0], [[1.0]]).sample(2**63, seed=0), ValueError, "^n "),
    (lambda: esc.MLP(np.ones((3, 2)), np.ones(3), 2**40), ValueError, "hidden"),
    (lambda: esc.MLP(np.ones((3, 2)), np.ones(3), 2**63), ValueError, "hidden"),
    (lambda: esc.MLP(np.ones((3, 2)), np.ones(3), 2**22), ValueError, "hidden"),
    # 9. overflows
    (lambda: spl(t_max=1e308), ValueError, "t_max"),
    (lambda: ret(t_max=1e308), ValueError, "t_max"),
    (lambda: esc.estimate(DW, L(), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=1e308, seed=0), ValueError,
     "t_max"),
    (lambda: esc.estimate(DW, L(), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), quantity="exit_probability", t_max=20,
                          rtol=5e-324, seed=0), ValueError, "rtol"),
    (lambda: esc.estimate(DW, L(), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), quantity="exit_probability", t_max=20,
                          rtol=1e-300, seed=0), ValueError, "rtol"),
    (lambda: esc.BrownianForcing(1.0, horizon=1e308), ValueError, "resolution"),
    (lambda: esc.BrownianForcing(1.0, horizon=1.0, resolution=5e-324), ValueError, "resolution"),
    # 10. dimensions beyond what the core counts
    (lambda: esc.Langevin(eps=0.3, S=lambda x: np.ones((len(x), 2, 1)), noise_dim=2**31, dt=0.01), ValueError,
     "noise_dim"),
    (lambda: esc.Parabola(2**63), ValueError, "dim"),
    (lambda: esc.Periodic(1.0, 1.0, dim=2**63), ValueError, "dim"),
    (lambda: esc.RandomDirections(1.0, 1.0, dim=2**63), ValueError, "dim"),
    (lambda: esc.BrownianForcing(1.0, horizon=1.0, dim=2**63), ValueError, "dim"),
    (lambda: esc.Ackley(dim=2**63), ValueError, "dim"),
    # 11. a period past the step cap
    (lambda: esc.Restart(esc.Langevin(0.1, dt=0.01), period=1e308), ValueError, "period must be at most"),
    # 12. progress of splitting and rare_exit_time
    (lambda: spl(progress="no"), TypeError, "progress"),
    (lambda: spl(progress=object()), TypeError, "progress"),
    (lambda: spl(progress=math.nan), TypeError, "progress"),
    (lambda: spl(progress=np.array([])), TypeError, "progress"),
    (lambda: ret(progress="no"), TypeError, "progress"),
    # 13. step caps too small for the stages, huge n_loops, x0 beyond the divergence bound
    (lambda: ret(max_steps=1), ValueError, "max_steps"),
    (lambda: ret(t_max=1e-300), ValueError, "max_steps"),
    (lambda: ret(n_loops=2**63), ValueError, "n_loops"),
    (lambda: ret(n_loops=2**40), ValueError, "n_loops"),
    (lambda: spl(divergence_bound=0.5), ValueError, "divergence_bound"),
    (lambda: ret(divergence_bound=0.5), ValueError, "divergence_bound"),
]


@pytest.mark.parametrize("make, error, match", CASES)
def test_bad_input_is_refused_by_name(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_non_finite_symbolic_landscape_is_refused():
    sp = pytest.importorskip("sympy")
    x, a = sp.symbols("x a")
    for expr, params in ((sp.nan * x, None), (sp.zoo * x, None), (sp.oo * x, None), (x / a, {a: 0})):
        with pytest.raises(ValueError, match="not finite"):
            esc.SymbolicLandscape(expr, [x], params=params)


def test_a_small_enough_t_thres_and_fd_step_still_work():
    assert esc.PerturbedGD(0.1, radius=0.1, g_thres=1.0, f_thres=0.1, t_thres=2**48).t_thres == 2**48
    r = sens(0.2, fd_step=0.05)
    assert math.isfinite(r.sensitivity("exit_probability", "dynamics.temperature").value)


def test_one_splitting_run_is_not_reached():
    r = spl(n_runs=1)
    assert all(math.isnan(end) for end in r.interval) and r.reached is False
    assert any("n_runs >= 2" in note for note in r.notes)


def test_an_unidentified_mean_exit_time_has_no_interval_and_says_why():
    r = ret(max_iterations=1)
    assert r.mean == math.inf and all(math.isnan(end) for end in r.interval) and r.reached is False
    assert any("max_iterations=1" in note and "not identified" in note for note in r.notes)


def test_adaptive_steps_that_would_never_finish_are_refused_in_time():
    out = in_subprocess("""
        import escapade as esc
        for kw in (dict(max_step=1e-300), dict(max_step=5e-324), dict(atol=0.0, rtol=5e-324)):
            try:
                esc.simulate(esc.Ackley(), esc.ConstrainedFlow(esc.Parabola(), dt=0.1, method="dp54", **kw),
                             x0=[1.0, 1.0], target=esc.Ball([0.0, 0.0], 0.1), n_paths=2, t_max=0.1, seed=0, threads=1)
            except ValueError as err:
                print(str(err).split(" ")[0])
        r = esc.simulate(esc.Ackley(), esc.ConstrainedFlow(esc.Parabola(), dt=5e-324, method="dp54"),
                         x0=[1.0, 1.0], n_paths=2, t_max=0.1, seed=0, threads=1)
        print(r.n_paths)
    """)
    assert out.split() == ["max_step", "max_step", "rtol", "2"]


def test_a_sigma_level_out_of_reach_is_refused_before_any_path():
    out = in_subprocess("""
        import escapade as esc
        A, B = esc.HalfSpace([1.0], -0.9), esc.HalfSpace([-1.0], 0.0)
        try:
            esc.rare_exit_time(esc.DoubleWell(), esc.Langevin(temperature=0.1, dt=0.01), x0=[-1.0], reactant=A,
                               product=B, n_loops=20, n_replicas=4, n_runs=2, n_pilot=20, seed=0, threads=1,
                               sigma_level=0.0)
        except ValueError as err:
            print(str(err).split(" ")[0])
    """)
    assert out.split() == ["sigma_level"]
