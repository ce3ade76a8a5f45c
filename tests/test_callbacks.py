"""User landscapes: numba-compiled callbacks (bitwise equal to the built-ins) and batched Python callbacks
(equal to rounding), with every dynamics, on several threads, and clean errors from inside callbacks."""

from __future__ import annotations

import pickle
import sys
import threading

import numpy as np
import pytest

import escapade as esc

numba = pytest.importorskip("numba")

HALF = esc.HalfSpace(normal=[1.0], offset=0.0)
W1 = esc.Langevin(temperature=1 / 16, dt=1e-2)


@numba.njit
def well_gradient(x, out):
    for i in range(x.size):
        out[i] = (x[i] * x[i]) * x[i] - x[i]


@numba.njit
def well_value(x):
    f = 0.0
    for i in range(x.size):
        f += 0.25 * (x[i] * x[i]) * (x[i] * x[i]) - 0.5 * (x[i] * x[i])
    return f


@numba.njit
def well_hessian(x, out):
    out[:, :] = 0.0
    for i in range(x.size):
        out[i, i] = 3.0 * x[i] * x[i] - 1.0


@numba.cfunc("void(CPointer(float64), CPointer(float64), int64, int64)")
def well_gradient_block(xp, gp, d, width):
    x = numba.carray(xp, (width * d,))
    g = numba.carray(gp, (width * d,))
    for i in range(width * d):
        g[i] = (x[i] * x[i]) * x[i] - x[i]


@numba.njit
def well_gradient_rows(x, out):
    for lane in range(x.shape[0]):
        for i in range(x.shape[1]):
            out[lane, i] = (x[lane, i] * x[lane, i]) * x[lane, i] - x[lane, i]


def numpy_well_gradient(x):
    return x * x * x - x


def same(a, b):
    assert np.array_equal(a.status, b.status)
    assert np.array_equal(a.exit_step, b.exit_step)
    assert np.array_equal(a.exit_time, b.exit_time, equal_nan=True)
    assert np.array_equal(a.exit_position, b.exit_position, equal_nan=True)


def run(landscape, dynamics=W1, **kw):
    args = dict(x0=[-1.0] * landscape.dim, n_paths=300, seed=7, t_max=300.0, threads=2)
    if dynamics is W1:
        args["stop"] = HALF
    args.update(kw)
    return esc.simulate(landscape, dynamics, **args)


# --- equal to the built-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gradient, vectorized", [(well_gradient, False), (well_gradient_rows, True),
                                                  (well_gradient_block, False)], ids=["njit", "njit-block", "cfunc"])
def test_compiled_double_well_is_bitwise_the_builtin(gradient, vectorized):
    builtin = run(esc.DoubleWell())
    compiled = run(esc.CompiledLandscape(1, gradient, vectorized=vectorized))
    same(builtin, compiled)
    assert (builtin.status == esc.Status.EXITED).mean() > 0.5  # the comparison covers real exits


def test_compiled_is_bitwise_across_threads_and_lanes():
    f = esc.CompiledLandscape(1, well_gradient)
    same(run(f, threads=1, lanes=64), run(f, threads=2, lanes=8))


def test_batched_numpy_double_well_equals_the_builtin():
    builtin = run(esc.DoubleWell())
    batched = run(esc.BatchedLandscape(1, numpy_well_gradient), lanes=128)
    assert np.array_equal(builtin.status, batched.status)
    np.testing.assert_allclose(batched.exit_time, builtin.exit_time, rtol=1e-12)


def test_batched_blocks_stay_dense_once_no_paths_are_left_to_start():
    widths = []

    def gradient(x):
        widths.append(x.shape[0])
        return numpy_well_gradient(x)

    # t_max long enough that no path is censored, so the last paths end one by one
    args = dict(n_paths=64, lanes=64, threads=1, t_max=1e4)
    res = run(esc.BatchedLandscape(1, gradient), **args)
    assert res.count(esc.Status.EXITED) == 64
    assert np.array_equal(res.exit_step, run(esc.DoubleWell(), **args).exit_step)
    # the block narrows 8 lanes at a time as paths finish (a cheap built-in only halves it when half are idle)
    assert widths[0] == 64 and min(widths) == 8
    assert {56, 48, 40, 24} <= set(widths)


def test_callbacks_evaluate_value_gradient_hessian():
    f = esc.CompiledLandscape(2, well_gradient, value=well_value, hessian=well_hessian)
    g = esc.BatchedLandscape(2, numpy_well_gradient, value=lambda x: float(np.sum(x**4 / 4 - x**2 / 2)),
                             hessian=lambda x: np.diag(3 * x**2 - 1))
    ref = esc.DoubleWell(dim=2)
    pts = np.array([[0.3, -1.2], [2.0, 0.5]])
    for h in (f, g):
        np.testing.assert_allclose(h.gradient(pts), ref.gradient(pts), rtol=1e-15)
        np.testing.assert_allclose(h.value(pts), ref.value(pts), rtol=1e-15)
        np.testing.assert_allclose(h.hessian(pts[0]), ref.hessian(pts[0]), rtol=1e-15)


# --- every dynamics -------------------------------------------------------------------------------------------

DYNAMICS = {
    "Langevin": esc.Langevin(temperature=0.1, dt=1e-2),
    "GD": esc.GD(0.1),
    "HeavyBall": esc.HeavyBall(0.05, momentum=0.8),
    "NoisyGD": esc.NoisyGD(0.1, noise_radius=0.3),
    "GaussianSGD": esc.GaussianSGD(0.1, batch_size=2.0, C=np.eye(2)),
    "AdaGrad": esc.AdaGrad(0.3, matrix="full"),
    "AdaNorm": esc.AdaNorm(0.3),
    "SGLD": esc.SGLD(0.1, 0.05),
    "PerturbedGD": esc.PerturbedGD(0.1, radius=0.1, g_thres=1e-3, f_thres=1e-6, t_thres=20),
}


@pytest.mark.parametrize("name", sorted(DYNAMICS))
def test_every_dynamics_runs_a_compiled_landscape_bitwise(name):
    dyn = DYNAMICS[name]
    kw = dict(x0=[0.05, -0.02], stop=esc.Ball(center=[0.0, 0.0], radius=0.8), n_paths=64, max_steps=400, seed=3,
              threads=2)
    builtin = esc.simulate(esc.DoubleWell(dim=2), dyn, **kw)
    compiled = esc.simulate(esc.CompiledLandscape(2, well_gradient, value=well_value, hessian=well_hessian), dyn, **kw)
    same(builtin, compiled)


# --- finite sums: SGD-k samples the user's terms --------------------------------------------------------------

RNG = np.random.default_rng(5)
A = RNG.normal(size=(6, 2, 2))
Q_TERMS = np.einsum("nij,nkj->nik", A, A) + 0.2 * np.eye(2)
R_TERMS = RNG.normal(size=(6, 2))


@numba.njit
def quad_term(i, x, out):
    for j in range(x.size):
        s = R_TERMS[i, j]
        for k in range(x.size):
            s += Q_TERMS[i, j, k] * x[k]
        out[j] = s


def numpy_quad_terms(terms, x):
    return np.einsum("ljk,lk->lj", Q_TERMS[terms], x) + R_TERMS[terms]


@pytest.mark.parametrize("dyn", [esc.SGDk(0.05, 3, replace=False), esc.SGDk(0.05, 4, replace=True),
                                 esc.SGLD(0.05, 0.01, batch_size=2), esc.GD(0.05)], ids=["sgdk", "sgdk-repl", "sgld", "gd"])
@pytest.mark.parametrize("p", [None, np.array([0.1, 0.2, 0.3, 0.1, 0.2, 0.1])], ids=["uniform", "weighted"])
def test_finite_sum_callbacks_match_the_builtin(dyn, p):
    kw = dict(x0=[0.5, -0.5], stop=esc.Ball(center=[0.0, 0.0], radius=3.0), n_paths=40, max_steps=200, seed=11,
              threads=2)
    builtin = esc.simulate(esc.StochasticQuadratic(Q_TERMS, R_TERMS, p), dyn, **kw)
    compiled = esc.simulate(esc.CompiledLandscape(2, term_gradient=quad_term, n_terms=6, p=p), dyn, **kw)
    same(builtin, compiled)
    batched = esc.simulate(esc.BatchedLandscape(2, term_gradients=numpy_quad_terms, n_terms=6, p=p), dyn, **kw)
    assert np.array_equal(builtin.status, batched.status)
    np.testing.assert_allclose(batched.exit_position, builtin.exit_position, rtol=1e-9, atol=1e-12)


def test_full_batch_sgd_on_a_compiled_sum_is_gd():
    f = esc.CompiledLandscape(2, term_gradient=quad_term, n_terms=6)
    kw = dict(x0=[0.5, -0.5], stop=esc.Ball(center=[0.0, 0.0], radius=3.0), n_paths=8, max_steps=50, seed=1)
    same(esc.simulate(f, esc.SGDk(0.05, 6, replace=False), **kw), esc.simulate(f, esc.GD(0.05), **kw))


# --- errors ---------------------------------------------------------------------------------------------------


def test_python_exception_in_a_worker_thread_names_the_callback():
    threads_seen = set()

    def failing(x):
        threads_seen.add(threading.get_ident())
        if len(threads_seen) > 1 or threading.current_thread() is not threading.main_thread():
            raise ZeroDivisionError("boom")
        return x * x * x - x

    f = esc.BatchedLandscape(1, failing)
    with pytest.raises(esc.CallbackError, match=r"gradient callback .*failing raised ZeroDivisionError: boom"):
        run(f, n_paths=400, threads=2, lanes=16)
    assert any(t != threading.main_thread().ident for t in threads_seen)
    same(run(esc.DoubleWell()), run(esc.DoubleWell()))  # the engine is usable afterwards


@pytest.mark.parametrize("signal", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("threads", [1, 2])
def test_keyboard_interrupt_and_system_exit_in_a_callback_pass_through(signal, threads):
    """Ctrl-C inside a Python callback is a KeyboardInterrupt (not a CallbackError), from any thread."""
    def interrupted(x):
        raise signal("stop")

    with pytest.raises(signal) as info:
        run(esc.BatchedLandscape(1, interrupted), n_paths=64, threads=threads, lanes=16)
    assert not isinstance(info.value, esc.CallbackError)
    with pytest.raises(signal):
        esc.BatchedLandscape(1, numpy_well_gradient, value=lambda x: interrupted(x)).value([0.0])
    same(run(esc.DoubleWell(), n_paths=20), run(esc.DoubleWell(), n_paths=20))  # the engine is usable afterwards


def test_wrong_shape_and_nan_are_reported():
    with pytest.raises(esc.CallbackError, match=r"must return an array of shape \(\d+, 1\), got \(\d+,\)"):
        run(esc.BatchedLandscape(1, lambda x: x[:, 0]))
    with pytest.raises(esc.CallbackError, match="returned NaN at the finite point"):
        run(esc.BatchedLandscape(1, lambda x: np.full_like(x, np.nan)))


@numba.njit
def nan_gradient(x, out):
    out[0] = np.nan if x[0] > -0.9 else x[0]


def test_compiled_nan_stops_the_run_with_a_named_error():
    with pytest.raises(ValueError, match=r"gradient callback of CompiledLandscape\(.*nan_gradient\) returned NaN"):
        run(esc.CompiledLandscape(1, nan_gradient), threads=2)


def _cone_gradient(x):  # |x|: its gradient x / |x| is NaN at the origin only
    return x / np.sqrt(np.sum(x * x, axis=1, keepdims=True))


@pytest.mark.parametrize("n_paths,threads,lanes", [(4, 1, None), (5, 2, None), (4, 1, 3), (9, 2, 8)])
def test_lanes_without_a_path_do_not_call_back_at_zeros(n_paths, threads, lanes):
    """Lanes of a block with no path to start were set to x = 0 and stepped with the others: a callback that is
    NaN there stopped the run for some thread counts, block sizes and n_paths only (5 paths on 2 threads, lanes=3),
    though no path comes near the origin. They now mirror a running lane."""
    f = esc.BatchedLandscape(2, _cone_gradient)
    with np.errstate(invalid="ignore"):
        res = esc.simulate(f, esc.Langevin(temperature=0.05, dt=0.01), x0=[1.0, 1.0], stop=esc.Ball([0.0, 0.0], 5.0),
                           n_paths=n_paths, max_steps=20, seed=0, threads=threads, lanes=lanes)
    one = esc.simulate(f, esc.Langevin(temperature=0.05, dt=0.01), x0=[1.0, 1.0], stop=esc.Ball([0.0, 0.0], 5.0),
                       n_paths=n_paths, max_steps=20, seed=0, threads=1, lanes=1)
    assert np.all(res.status == esc.Status.CENSORED) and np.array_equal(res.final_position, one.final_position)
    pgd = esc.PerturbedGD(lr=0.1, radius=0.1, g_thres=1e-3, f_thres=1e-4, t_thres=5)  # asks f where |g| is small
    esc.simulate(f, pgd, x0=[1.0, 1.0], stop=esc.Ball([0.0, 0.0], 5.0), n_paths=n_paths, max_steps=5, seed=0,
                 threads=threads, lanes=lanes)


def test_splitting_lanes_without_a_replica_do_not_call_back_at_zeros():
    centre = np.array([2.0, 2.0])

    def gradient(x):  # x - centre, NaN at the origin only (far from every replica)
        r = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
        return (x - centre) * (r / r)

    f = esc.BatchedLandscape(2, gradient)
    runs = [esc.splitting(f, esc.Langevin(temperature=0.3, dt=0.01), x0=[2.3, 2.0], reactant=esc.Ball(centre, 0.2),
                          product=~esc.Ball(centre, 1.2), n_replicas=3, n_runs=1, seed=1, threads=threads,
                          lanes=lanes).value for threads, lanes in [(1, None), (2, None), (1, 5)]]
    assert runs[0] == runs[1] == runs[2]


def test_overflow_is_divergence_not_an_error():
    res = run(esc.CompiledLandscape(1, well_gradient), dynamics=esc.GD(1.0), x0=[50.0], stop=None, max_steps=100,
              t_max=None)
    assert np.all(res.status == esc.Status.DIVERGED)


def test_bad_callbacks_raise_type_and_value_errors():
    with pytest.raises(TypeError, match="plain Python functions go to BatchedLandscape"):
        esc.CompiledLandscape(1, numpy_well_gradient).gradient([0.0])
    bad_sig = numba.cfunc("float64(CPointer(float64), int64)")(lambda xp, d: 0.0)
    with pytest.raises(TypeError, match="has signature .* escapade calls void"):
        esc.CompiledLandscape(1, bad_sig).gradient([0.0])
    with pytest.raises(ValueError, match="needs gradient="):
        esc.CompiledLandscape(1)
    with pytest.raises(ValueError, match="term_gradient and n_terms go together"):
        esc.CompiledLandscape(1, term_gradient=quad_term)
    with pytest.raises(ValueError, match="p must be 3 non-negative probabilities"):
        esc.BatchedLandscape(2, term_gradients=numpy_quad_terms, n_terms=3, p=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="dim must be"):
        esc.BatchedLandscape(0, numpy_well_gradient)
    with pytest.raises(TypeError, match="gradient must be callable"):
        esc.BatchedLandscape(1, 3.0)
    with pytest.raises(ValueError, match="has no value callback"):
        esc.CompiledLandscape(1, well_gradient).value([0.0])
    with pytest.raises(ValueError, match="has no hessian callback"):
        esc.BatchedLandscape(1, numpy_well_gradient).hessian([0.0])


def test_integer_addresses_only_through_from_addresses():
    for value in (4096, np.int64(4096)):
        with pytest.raises(TypeError, match=r"gradient must be a numba function, got the int 4096; .* only by "
                                            r"CompiledLandscape.from_addresses"):
            esc.CompiledLandscape(1, value)
    with pytest.raises(TypeError, match=r"value must be a numba function, got the int 8.*CompiledLandscape"):
        esc.CompiledLandscape(1, well_gradient, value=8)
    with pytest.raises(TypeError, match=r"jacobian must be a numba function.*CompiledConstraint.from_addresses"):
        esc.CompiledConstraint(2, 1, parabola_value, 4096)
    with pytest.raises(TypeError, match=r"forcing must be a numba function.*CompiledForcing.from_addresses"):
        esc.CompiledForcing(2, 4096)
    with pytest.raises(ValueError, match="gradient must be a positive function address, got -1"):
        esc.CompiledLandscape.from_addresses(1, -1)
    with pytest.raises(TypeError, match="gradient must be a function address"):
        esc.CompiledLandscape.from_addresses(1, well_gradient_block)
    # the low-level constructor runs a C function given by its address, here a cfunc's
    low = esc.CompiledLandscape.from_addresses(1, well_gradient_block.address, name="well")
    assert low.to_dict()["gradient"] == hex(well_gradient_block.address)
    same(run(low, n_paths=50), run(esc.DoubleWell(), n_paths=50))


def test_missing_numba_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(ImportError, match=r'pip install "escapade\[numba\]"'):
        esc.CompiledLandscape(1, object()).gradient([0.0])


def test_results_record_the_callbacks_by_name():
    res = run(esc.CompiledLandscape(1, well_gradient, value=well_value), n_paths=8)
    spec = res.params["landscape"]
    assert spec["type"] == "CompiledLandscape" and spec["gradient"].endswith("well_gradient")
    assert spec["value"].endswith("well_value")


# --- the constrained flow: compiled constraints, forcings and landscapes ------------------------------------

A_ACK, D_ACK, C_ACK = 20.0, 0.05, 2 * np.pi


@numba.njit
def parabola_value(x, out):
    s = 0.0
    for i in range(1, x.size):
        s += x[i] * x[i]
    out[0] = x[0] - 0.5 * s


@numba.njit
def parabola_jacobian(x, out):
    out[0, 0] = 1.0
    for i in range(1, x.size):
        out[0, i] = -x[i]


@numba.njit
def circle_forcing(t, out):
    out[0] = 0.5 * np.cos(3.0 * t)
    out[1] = 0.5 * np.sin(3.0 * t)


@numba.njit
def ackley_gradient(x, out):
    n = x.size
    sq = 0.0
    cs = 0.0
    for i in range(n):
        sq += x[i] * x[i]
        cs += np.cos(C_ACK * x[i])
    r = np.sqrt(sq / n + D_ACK * D_ACK)
    p = A_ACK * np.exp(-r) / (n * r)
    q = np.exp(cs / n) * C_ACK / n
    for i in range(n):
        out[i] = p * x[i] + q * np.sin(C_ACK * x[i])


def flow_run(constraint, forcing, landscape=None, method="rk4"):
    flow = esc.ConstrainedFlow(constraint, dt=0.01, alpha=1.0, forcing=forcing, method=method)
    return esc.simulate(landscape or esc.Ackley(), flow, x0=esc.UniformBox(low=[-3.0, -3.0], high=[3.0, 3.0]),
                        target=esc.Ball(center=[0.0, 0.0], radius=1.0), n_paths=64, t_max=20.0, seed=5, threads=2)


@pytest.mark.parametrize("method", ["rk4", "dp54"])
def test_compiled_constraint_reproduces_the_parabola_flow(method):
    compiled = esc.CompiledConstraint(2, 1, parabola_value, parabola_jacobian)
    np.testing.assert_array_equal(compiled.jacobian([0.3, -1.2]), esc.Parabola().jacobian([0.3, -1.2]))
    builtin = flow_run(esc.Parabola(), esc.Periodic(0.5, 3.0), method=method)
    same(builtin, flow_run(compiled, esc.Periodic(0.5, 3.0), method=method))
    assert 0 < np.mean(builtin.status == esc.Status.HIT) < 1  # some paths reach the target, some do not


def test_compiled_forcing_and_landscape_reproduce_the_builtins():
    forcing = esc.CompiledForcing(2, circle_forcing)
    np.testing.assert_allclose(forcing([0.0, 0.7]), esc.Periodic(0.5, 3.0)([0.0, 0.7]), rtol=1e-15, atol=1e-15)
    builtin = flow_run(esc.Parabola(), esc.Periodic(0.5, 3.0))
    custom = flow_run(esc.CompiledConstraint(2, 1, parabola_value, parabola_jacobian), forcing,
                      esc.CompiledLandscape(2, ackley_gradient))
    assert np.array_equal(builtin.status, custom.status)
    np.testing.assert_allclose(custom.exit_time, builtin.exit_time, rtol=1e-9)


@numba.njit
def nan_constraint(x, out):
    out[0] = np.nan


def test_compiled_constraint_errors():
    with pytest.raises(ValueError, match=r"value callback of CompiledConstraint\(.*nan_constraint\) returned NaN"):
        flow_run(esc.CompiledConstraint(2, 1, nan_constraint, parabola_jacobian), None)
    with pytest.raises(ValueError, match="n_constraints must be"):
        esc.CompiledConstraint(2, 3, parabola_value, parabola_jacobian)
    with pytest.raises(ValueError, match="needs both value= and jacobian="):
        esc.CompiledConstraint(2, 1, parabola_value, None)
    with pytest.raises(TypeError, match="forcing must be a numba njit function"):
        esc.CompiledForcing(2, lambda t, out: None)(0.0)


def test_pickles_after_the_callbacks_were_compiled():
    f = esc.CompiledLandscape(1, well_gradient, value=well_value)
    f.gradient([1.0])  # builds the core and the compiled wrappers, which do not pickle
    back = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(back.gradient([2.0]), [6.0])
    assert back.to_dict() == f.to_dict()


# --- a compiled callback that fails, or does not fit, is an error -----------------------------------------------


@numba.njit
def raising_gradient(x, out):
    if x[0] > -0.5:
        raise ValueError("outside the model's range")
    out[0] = (x[0] * x[0]) * x[0] - x[0]


@numba.njit
def raising_rows(x, out):
    for lane in range(x.shape[0]):
        if x[lane, 0] > -0.5:
            raise ValueError("outside")
        out[lane, 0] = (x[lane, 0] * x[lane, 0]) * x[lane, 0] - x[lane, 0]


@numba.njit
def raising_value(x):
    if x[0] > 0.8:
        raise ValueError("too far")
    return x[0]


@numba.njit
def raising_hessian(x, out):
    raise ValueError("no curvature")


@pytest.mark.parametrize("gradient, vectorized, where", [(raising_gradient, False, r"at x = \[-0\.\d+"),
                                                         (raising_rows, True, "on a block of points")],
                         ids=["njit", "njit-block"])
def test_an_exception_in_a_compiled_callback_stops_the_run(capfd, gradient, vectorized, where):
    """The reproducer: this used to print "Exception ignored" and return a wrong mean exit time."""
    landscape = esc.CompiledLandscape(1, gradient, vectorized=vectorized)
    with pytest.raises(esc.CallbackError, match=rf"gradient callback of CompiledLandscape\(.*{gradient.__name__}\) "
                                                rf"raised an exception {where}"):
        run(landscape, threads=2, n_paths=200)
    assert "Exception ignored" not in capfd.readouterr().err
    same(run(esc.CompiledLandscape(1, well_gradient), n_paths=50), run(esc.DoubleWell(), n_paths=50))


def test_an_exception_in_value_hessian_constraint_or_forcing_is_a_callback_error():
    landscape = esc.CompiledLandscape(1, well_gradient, value=raising_value, hessian=raising_hessian)
    assert landscape.value([0.5]) == 0.5
    with pytest.raises(esc.CallbackError, match=r"value callback of .* raised an exception at x = \[0\.875\]"):
        landscape.value([0.875])
    with pytest.raises(esc.CallbackError, match=r"hessian callback of .* raised an exception at x = \[0\.5\]"):
        landscape.hessian([0.5])
    constraint = esc.CompiledConstraint(2, 1, raising_constraint, parabola_jacobian)
    with pytest.raises(esc.CallbackError, match=r"value callback of CompiledConstraint\(.*raising_constraint\) "
                                                r"raised an exception at x = \["):
        flow_run(constraint, None)
    with pytest.raises(esc.CallbackError, match=r"forcing callback of .* raised an exception at t = 1\.5"):
        esc.CompiledForcing(2, raising_forcing)(1.5)
    assert esc.CompiledForcing(2, raising_forcing)(0.5).tolist() == [[0.5, 0.0]]


@numba.njit
def raising_constraint(x, out):
    if x[0] > -100.0:
        raise ValueError("no constraint")
    out[0] = x[0]


@numba.njit
def raising_forcing(t, out):
    if t > 1.0:
        raise ValueError("too late")
    out[0] = t
    out[1] = 0.0


@numba.njit
def raising_term(i, x, out):
    if i == 3:
        raise IndexError("term 3")
    out[0] = x[0] - 1.0
    out[1] = x[1]


def test_an_exception_in_a_term_gradient_stops_a_minibatch_run():
    sum_ = esc.CompiledLandscape(2, term_gradient=raising_term, n_terms=5)
    with pytest.raises(esc.CallbackError, match=r"term_gradient callback of .*raising_term\) raised an exception"):
        esc.simulate(sum_, esc.SGDk(0.1, batch_size=2), x0=[0.0, 0.0], n_paths=20, max_steps=50, seed=0)


@numba.njit
def gradient_2d(x, out):  # written for d = 2
    out[0] = x[0]
    out[1] = 2.0 * x[1]


@numba.njit
def reads_2d(x, out):  # reads two coordinates, writes one
    out[0] = x[0] + x[1]


@numba.njit
def writes_x(x, out):
    x[0] = 0.0
    out[0] = 1.0


@numba.njit
def hessian_2d(x, out):
    out[:, :] = 0.0
    out[0, 0] = 1.0
    out[1, 1] = 2.0


@numba.njit
def one_argument(x):
    return x


@numba.cfunc("void(CPointer(float64), CPointer(float64), int64, int64)")
def cfunc_past_the_end(xp, gp, d, width):
    g = numba.carray(gp, (width * d + 1,))
    for i in range(width * d + 1):
        g[i] = 1.0


def test_compiled_callbacks_of_the_wrong_dimension_or_signature_fail_at_construction():
    with pytest.raises(ValueError, match=r"gradient callback .*gradient_2d writes past the end of its output, of "
                                         r"shape \(1,\) for dim = 1"):
        esc.CompiledLandscape(1, gradient_2d)
    assert esc.CompiledLandscape(2, gradient_2d).gradient([1.0, 1.0]).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"gradient callback .*reads_2d reads past the end of x, which has dim = 1"):
        esc.CompiledLandscape(1, reads_2d)
    with pytest.raises(ValueError, match=r"gradient callback .*writes_x changes its input x"):
        esc.CompiledLandscape(1, writes_x)
    with pytest.raises(ValueError, match=r"hessian callback .*hessian_2d writes past the end of its output, of "
                                         r"shape \(1, 1\)"):
        esc.CompiledLandscape(1, well_gradient, hessian=hessian_2d)
    with pytest.raises(ValueError, match=r"gradient callback .*cfunc_past_the_end writes past the end"):
        esc.CompiledLandscape(1, cfunc_past_the_end)
    with pytest.raises(TypeError, match=r"gradient .*one_argument: numba cannot compile the call gradient\(x, out\)"):
        esc.CompiledLandscape(1, one_argument)
    with pytest.raises(TypeError, match=r"value .*well_gradient: numba cannot compile the call value\(x\) -> float"):
        esc.CompiledLandscape(1, well_gradient, value=well_gradient)
    with pytest.raises(ValueError, match=r"value callback .*gradient_2d writes past the end of its output, of "
                                         r"shape \(1,\) for dim = 2, n_constraints = 1"):
        esc.CompiledConstraint(2, 1, gradient_2d, parabola_jacobian)  # writes 2 constraint values, not 1


@pytest.mark.parametrize("threads", [1, 2])
def test_a_run_started_inside_a_callback_is_refused(threads):
    """Dynamics and landscapes keep per-thread scratch space across their calls into a callback: a run started from
    inside one, on the same thread, would share it (silently different numbers, or freed buffers under the outer
    run). It is refused with a clear error, the outer run stops, and the next run is unaffected."""
    started = []

    def gradient(x):
        if not started:
            started.append(True)
            esc.simulate(esc.DoubleWell(), esc.Langevin(0.1, dt=0.01), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                         n_paths=10, t_max=1.0, seed=0, threads=1, progress=False)
        return x**3 - x

    kw = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=100, t_max=1.0, seed=0, threads=threads, progress=False)
    with pytest.raises(esc.CallbackError, match="a run cannot start inside a callback of another run") as info:
        esc.simulate(esc.BatchedLandscape(1, gradient), esc.Langevin(0.1, dt=0.01), **kw)
    assert isinstance(info.value.__cause__, RuntimeError)
    plain = esc.simulate(esc.BatchedLandscape(1, lambda x: x**3 - x), esc.Langevin(0.1, dt=0.01), **kw)
    one = esc.simulate(esc.BatchedLandscape(1, lambda x: x**3 - x), esc.Langevin(0.1, dt=0.01), **{**kw, "threads": 1})
    np.testing.assert_array_equal(plain.final_position, one.final_position)


@pytest.mark.parametrize("as_list", [False, True])
def test_complex_values_from_a_callback_are_an_error(as_list):
    """numpy would keep only the real parts (with a ComplexWarning): the run stops instead, for an array or a list."""
    def gradient(x):
        g = (x**3 - x) + 0j
        return g.tolist() if as_list else g

    with pytest.raises(esc.CallbackError, match="gradient callback .* must return real numbers, got complex128 values"):
        esc.simulate(esc.BatchedLandscape(1, gradient), esc.Langevin(0.1, dt=0.01), x0=[-1.0],
                     stop=esc.HalfSpace([1.0], 0.0), n_paths=20, t_max=2.0, seed=0, threads=1, progress=False)


def test_a_compiled_callback_that_leaves_outputs_unwritten_is_refused():
    """The engine's output buffers are not cleared between calls: an entry a gradient skips (here one written for
    d = 1, given d = 2) would be stale data, different for each thread count. Refused when it is built."""
    @numba.njit
    def one_coordinate(x, out):
        out[0] = (x[0] * x[0]) * x[0] - x[0]

    with pytest.raises(ValueError, match="leaves 2 of the 4 entries of its output unwritten"):
        esc.CompiledLandscape(2, one_coordinate)


def test_diverging_paths_of_a_callback_end_as_diverged():
    """A lane whose path diverged is idle until it is refilled, but a block is stepped as one: it is held where it was,
    not stepped on to where S(x) = 1 + x^2 overflows to inf * 0 = NaN and the run would stop with a callback error."""
    @numba.njit
    def S(x, out):
        out[0, 0] = 1.0 + x[0] ** 2

    runs = [esc.simulate(esc.DoubleWell(), esc.Langevin(eps=1.0, S=S, dt=0.02), x0=[-1.0], n_paths=500, t_max=20.0,
                         seed=1, threads=threads, progress=False) for threads in (1, 2)]
    assert (runs[0].status == esc.Status.DIVERGED).sum() > 20
    np.testing.assert_array_equal(runs[0].status, runs[1].status)


def test_arrays_a_callback_keeps_hold_that_calls_values():
    """A batched callback that keeps its input (or a view of it) after the call keeps that call's points: reading
    them after the run crashed the interpreter when they were views of the engine's buffers. Every kept array
    equals the copy taken during its call, for the landscape's gradient and term gradients, a drift with its
    times and a diffusion, at two threads."""
    kept, copies = [], []

    def keep(*arrays):
        for a in arrays:
            assert not a.flags.writeable
            kept.extend((a, a[1:]))
            copies.extend((a.copy(), a[1:].copy()))

    def gradient(x):
        keep(x)
        return x**3 - x

    def term_gradients(terms, x):
        keep(terms, x)
        return x - 0.1 * terms[:, None]

    def drift(x, t):
        keep(x, t)
        return -x

    def diffusion(x):
        keep(x)
        return np.broadcast_to(0.3 * np.eye(2), (x.shape[0], 2, 2))

    kw = dict(x0=[0.1, -0.2], n_paths=300, max_steps=20, seed=4, threads=2, lanes=64)
    esc.simulate(esc.BatchedLandscape(2, gradient), esc.Langevin(0.1, dt=0.01), **kw)
    esc.simulate(esc.BatchedLandscape(2, term_gradients=term_gradients, n_terms=5), esc.SGDk(0.05, 2), **kw)
    esc.simulate(esc.BatchedDrift(2, drift, time_dependent=True), esc.Langevin(0.1, dt=0.01), **kw)
    esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(eps=1.0, S=esc.BatchedDiffusion(diffusion, dim=2), dt=0.01), **kw)
    assert len(kept) > 100
    for a, c in zip(kept, copies):
        assert np.array_equal(a, c)
