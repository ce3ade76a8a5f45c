"""Landscapes and constraints from sympy expressions: value, gradient and Hessian against the built-ins and finite
differences, simulations against the built-ins, params, and clear errors for bad input."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

import escapade as esc

sp = pytest.importorskip("sympy")
pytest.importorskip("numba")

x, y, z = sp.symbols("x y z")
a, d, c = sp.symbols("a d c")
ACKLEY = (a * sp.exp(-d) - a * sp.exp(-sp.sqrt((x**2 + y**2) / 2 + d**2)) + sp.E
          - sp.exp((sp.cos(c * x) + sp.cos(c * y)) / 2))
POINTS = np.random.default_rng(0).uniform(-3.0, 3.0, size=(400, 2))


@pytest.fixture(scope="module")
def well():
    return esc.SymbolicLandscape(x**4 / 4 - x**2 / 2, [x])


@pytest.fixture(scope="module")
def ackley():
    return esc.SymbolicLandscape(ACKLEY, [x, y], params={a: 20, d: sp.Rational(1, 20), c: 2 * sp.pi})


def assert_same_calculus(mine, builtin, points, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(mine.value(points), builtin.value(points), rtol=rtol, atol=atol)
    np.testing.assert_allclose(mine.gradient(points), builtin.gradient(points), rtol=rtol, atol=atol)
    for p in points[:40]:
        np.testing.assert_allclose(mine.hessian(p), builtin.hessian(p), rtol=rtol, atol=atol)


def test_double_well_matches_the_builtin(well):
    assert well.dim == 1
    assert_same_calculus(well, esc.DoubleWell(), np.linspace(-3.0, 3.0, 601)[:, None], atol=0.0)
    kw = dict(x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=300, t_max=300.0, seed=7, threads=2)
    mine = esc.simulate(well, esc.Langevin(temperature=1 / 16, dt=1e-2), **kw)
    builtin = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-2), **kw)
    assert (builtin.status == esc.Status.EXITED).mean() > 0.5
    assert np.array_equal(mine.status, builtin.status)
    np.testing.assert_allclose(mine.exit_time, builtin.exit_time, rtol=1e-12)  # here even bit for bit


def test_ackley_with_params_matches_the_builtin(ackley):
    assert_same_calculus(ackley, esc.Ackley(), POINTS)
    assert ackley.to_dict() == {"type": "SymbolicLandscape", "dim": 2,
                                "name": "SymbolicLandscape(" + str(ACKLEY)[:57] + "...)",
                                "expression": str(ACKLEY), "coordinates": ["x", "y"],
                                "params": {"a": 20.0, "d": 0.05, "c": 2 * np.pi}}


def test_styblinski_tang_matches_the_builtin():
    f = esc.SymbolicLandscape(sum((v**4 - 16 * v**2 + 5 * v) / 2 for v in (x, y)), (x, y), hessian=False)
    builtin = esc.StyblinskiTangSum([[1.0, 1.0]], [[-16.0, -16.0]], [[5.0, 5.0]])
    np.testing.assert_allclose(f.value(POINTS), builtin.value(POINTS), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f.gradient(POINTS), builtin.gradient(POINTS), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="has no hessian callback"):
        f.hessian([0.0, 0.0])
    kw = dict(x0=[-2.9, 2.75], stop=esc.Ball(center=[-2.9, 2.75], radius=2.0), n_paths=64, max_steps=1000, seed=3)
    dyn = esc.Langevin(temperature=4.0, dt=1e-3)
    mine, ref = esc.simulate(f, dyn, **kw), esc.simulate(builtin, dyn, **kw)
    assert np.array_equal(mine.status, ref.status) and len(set(ref.status.tolist())) > 1
    np.testing.assert_allclose(mine.exit_position, ref.exit_position, rtol=1e-9, atol=1e-12)


def test_non_separable_derivatives_match_finite_differences():
    f = esc.SymbolicLandscape((1 - x) ** 2 + 3 * (y - x**2) ** 2 + sp.sin(x * y * z) + sp.log(1 + z**2) * x, [x, y, z])
    h = 1e-6
    for p in np.random.default_rng(1).uniform(-1.5, 1.5, size=(20, 3)):
        steps = h * np.eye(3)
        fd_grad = [(f.value(p + e) - f.value(p - e)) / (2 * h) for e in steps]
        fd_hess = np.array([(f.gradient(p + e) - f.gradient(p - e)) / (2 * h) for e in steps])
        np.testing.assert_allclose(f.gradient(p), fd_grad, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(f.hessian(p), fd_hess, rtol=1e-6, atol=1e-6)
        assert np.array_equal(f.hessian(p), f.hessian(p).T)


def test_constrained_flow_matches_the_builtin(ackley):
    parabola = esc.SymbolicConstraint(x - y**2 / 2, [x, y])
    np.testing.assert_array_equal(parabola.jacobian([1.0, 2.0]), [[1.0, -2.0]])

    def flow(landscape, constraint):
        return esc.simulate(landscape, esc.ConstrainedFlow(constraint, dt=0.01, forcing=esc.Periodic(0.5, 3.0)),
                            x0=esc.UniformBox(low=[-3.0, -3.0], high=[3.0, 3.0]),
                            target=esc.Ball(center=[0.0, 0.0], radius=1.0), n_paths=100, t_max=20.0, seed=0)

    mine, builtin = flow(ackley, parabola), flow(esc.Ackley(), esc.Parabola())
    assert np.array_equal(mine.status, builtin.status) and np.mean(builtin.status == esc.Status.HIT) > 0.5
    np.testing.assert_allclose(mine.exit_time, builtin.exit_time, rtol=1e-12)


def test_constraint_list_params_and_record():
    r = sp.Symbol("r")
    g = esc.SymbolicConstraint([x**2 + y**2 + z**2 - r**2, z - x * y], [x, y, z], params={r: 2.0})
    assert (g.dim, g.n_constraints) == (3, 2)
    p = np.array([1.0, 0.5, -0.25])
    np.testing.assert_allclose(g.value(p), [1.3125 - 4.0, -0.75], rtol=1e-15)
    np.testing.assert_allclose(g.jacobian(p), [[2.0, 1.0, -0.5], [-0.5, -1.0, 1.0]], rtol=1e-15)
    assert g.to_dict()["expression"] == ["-r**2 + x**2 + y**2 + z**2", "-x*y + z"]
    assert g.to_dict()["params"] == {"r": 2.0}
    with pytest.raises(ValueError, match="n_constraints must be <= 1"):
        esc.SymbolicConstraint([x, x + 1], [x])


def test_params_are_substituted_exactly():
    s, unused = sp.symbols("s unused")
    f = esc.SymbolicLandscape(s * x**2 / 2, [x], {s: 1 / 3, unused: 5}, hessian=False)
    assert f.gradient([3.0])[0] == (1 / 3) * 3.0  # every digit of the float, not 15 of them
    assert f.params == {"s": 1 / 3, "unused": 5.0}
    g = esc.SymbolicLandscape(s * x, [x], {s: np.float64(-2.5)}, hessian=False)
    assert g.value([2.0]) == -5.0 and g.gradient([7.0])[0] == -2.5


def test_division_by_zero_is_infinite_not_an_exception():
    f = esc.SymbolicLandscape(1 / x + y, [x, y], hessian=False)
    assert f.value([0.0, 1.0]) == np.inf
    np.testing.assert_array_equal(f.gradient([0.0, 1.0]), [-np.inf, 1.0])  # and a constant entry


def test_pickles_after_use(well):
    well.gradient([1.0])
    back = pickle.loads(pickle.dumps(well))
    assert back.to_dict() == well.to_dict()
    np.testing.assert_array_equal(back.gradient([2.0]), [6.0])


@pytest.mark.parametrize("args, error, match", [
    (("x**2", [x]), TypeError, r"f must be a sympy expression, got 'x\*\*2' \(str\) \(sympy.sympify parses"),
    ((sp.Eq(x, 1), [x]), TypeError, "f must be a sympy expression"),
    ((x**2, x), TypeError, "coordinates must be a sequence of sympy symbols"),
    ((x**2, [x, x]), ValueError, "coordinates must be distinct sympy symbols"),
    ((x**2, ["x"]), ValueError, "coordinates must be distinct sympy symbols"),
    ((x**2, []), ValueError, "at least one"),
    ((a * x**2 + y, [x, y]), ValueError, r"f = a\*x\*\*2 \+ y has symbols that are neither coordinates nor params: a$"),
    ((a * x**2 + c * d, [x], {a: 1.0}), ValueError, "neither coordinates nor params: c, d"),
    ((a * x, [x], {a: float("nan")}), ValueError, r"params\[a\] must be a finite real number, got nan"),
    ((a * x, [x], {a: np.inf}), ValueError, r"params\[a\] must be a finite real number"),
    ((a * x, [x], {a: 1j}), ValueError, r"params\[a\] must be a finite real number"),
    ((a * x, [x], {a: "1"}), ValueError, r"params\[a\] must be a finite real number"),
    ((a * x, [x], {a: y}), ValueError, r"params\[a\] must be a finite real number"),
    ((x * y, [x], {x: 1.0, y: 2.0}), ValueError, "params keys must be sympy symbols other than the coordinates"),
    ((a * x, [x], {"a": 1.0}), ValueError, "params keys must be sympy symbols"),
    ((x + sp.Function("h")(x), [x]), ValueError, r"f = x \+ h\(x\) has functions escapade cannot compile: h\(x\)"),
    ((sp.Integral(sp.exp(x * y), (y, 0, 1)), [x]), ValueError, "bound symbols .*Integral"),
    ((sp.Max(x, 1) + sp.Abs(y), [x, y]), ValueError, "compile the hessian: .* for DiracDelta .hessian=False leaves"),
])
def test_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        esc.SymbolicLandscape(*args)


def test_bad_constraint_input():
    with pytest.raises(TypeError, match="g must be a sympy expression, got 1.0"):
        esc.SymbolicConstraint([x, 1.0], [x, y])
    with pytest.raises(ValueError, match="neither coordinates nor params: z"):
        esc.SymbolicConstraint([x, z], [x, y])


def test_missing_sympy_or_numba_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)
    with pytest.raises(ImportError, match=r'pip install "escapade\[symbolic\]"'):
        esc.SymbolicLandscape(x**2, [x])
    with pytest.raises(ImportError, match=r'pip install "escapade\[symbolic\]"'):
        esc.SymbolicConstraint(x, [x, y])
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(ImportError, match=r'pip install "escapade\[numba\]"'):
        esc.SymbolicLandscape(x**2, [x])


def test_formulas_that_cannot_compile_are_value_errors_and_names_never_run():
    """A bound symbol's name reached the generated code unchanged (a Sum's index named with a newline ran as a
    statement); integers past 64 bits, a Float beyond double range and a Piecewise without a last branch failed
    inside numba; a symbol named like a coordinate with other assumptions was reported as unknown."""
    x = sp.Symbol("x")
    k = sp.Symbol("k in ()))\nraise SystemExit('ran')\ndef _z(): return ((0")
    with pytest.raises(ValueError, match="bound symbols"):
        esc.SymbolicLandscape(x**2 + sp.Sum(x * k, (k, 0, 2)), [x])
    with pytest.raises(ValueError, match="beyond double precision"):
        esc.SymbolicLandscape(sp.Float("1e400") * x**2, [x])
    with pytest.raises(ValueError, match=r"end it with \(expression, True\)"):
        esc.SymbolicLandscape(sp.Piecewise((x**2, x > 0)), [x])
    with pytest.raises(ValueError, match="named like a coordinate but with other assumptions"):
        esc.SymbolicLandscape(sp.Symbol("x", real=True) ** 2, [x])
    with pytest.raises(TypeError, match="hessian"):
        esc.SymbolicLandscape(x**2, [x], hessian="no")
    with pytest.raises(TypeError, match="name"):
        esc.SymbolicLandscape(x**2, [x], name=5)
    big = esc.SymbolicLandscape(10**19 * x**2 + sp.Integer(2) ** 64, [x])  # 64-bit overflow: printed as doubles
    np.testing.assert_allclose(big.gradient(np.array([1.5])), [3e19], rtol=1e-15)
    assert big.value(np.array([1.5])) == pytest.approx(2.25e19 + 2.0**64, rel=1e-15)
