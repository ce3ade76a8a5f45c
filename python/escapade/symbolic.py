"""Landscapes and constraints from sympy expressions, compiled through numba like `CompiledLandscape`.

sympy differentiates the expression; value, gradient and Hessian (or a constraint's value and Jacobian) become
numba njit functions generated from it, each computing shared subexpressions once (`sympy.cse`), and the
engine calls them from its threads without the GIL like any other compiled callback.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any, Mapping, Sequence

from .custom import CompiledConstraint, CompiledLandscape, _numba

__all__ = ["SymbolicConstraint", "SymbolicLandscape"]


def _sympy() -> Any:
    try:
        import sympy
    except ImportError as e:
        raise ImportError('SymbolicLandscape and SymbolicConstraint need sympy: '
                          'pip install "escapade[symbolic]"') from e
    return sympy


def _prepare(sympy: Any, what: str, exprs: list[Any], coordinates: Sequence[Any],
             params: Mapping[Any, Any] | None) -> tuple[list[Any], list[Any], dict[str, float]]:
    """The expressions with the params substituted and the coordinates replaced by real symbols _x0, _x1, ..."""
    if isinstance(coordinates, sympy.Basic) or not isinstance(coordinates, Sequence):
        raise TypeError(f"coordinates must be a sequence of sympy symbols such as [x] or (x, y), got {coordinates!r}")
    coords = list(coordinates)
    bad = [c for c in coords if not isinstance(c, sympy.Symbol)]
    if bad or not coords or len(set(coords)) < len(coords):
        raise ValueError(f"coordinates must be distinct sympy symbols (at least one), got {coords}")
    values: dict[Any, Any] = {}
    for s, v in (params or {}).items():
        if not isinstance(s, sympy.Symbol) or s in coords:
            raise ValueError(f"params keys must be sympy symbols other than the coordinates, got {s!r}")
        try:
            values[s] = sympy.sympify(v, strict=True)
            ok = values[s].is_number and math.isfinite(float(values[s]))
        except (TypeError, sympy.SympifyError):
            ok = False
        if not ok:
            raise ValueError(f"params[{s}] must be a finite real number, got {v!r}")
    xs = [sympy.Symbol(f"_x{i}", real=True) for i in range(len(coords))]
    out = []
    for e in exprs:
        if not isinstance(e, sympy.Expr):
            hint = (" (sympy.sympify parses a string, with eval: never on untrusted text)" if isinstance(e, str)
                    else "")
            raise TypeError(f"{what} must be a sympy expression, got {e!r} ({type(e).__name__}){hint}")
        if e.atoms(sympy.Symbol) != e.free_symbols:  # a bound symbol's name would reach the generated code
            raise ValueError(f"{what} = {_short(str(e))} has bound symbols (a Sum, Product, Integral or Lambda): "
                             "only closed forms compile; write the terms out (.doit())")
        missing = sorted(map(str, e.free_symbols - set(coords) - set(values)))
        if missing:
            named = sorted(set(missing) & {str(c) for c in coords})
            why = (f" ({', '.join(named)}: named like a coordinate but with other assumptions; use the same symbol)"
                   if named else "")
            raise ValueError(f"{what} = {e} has symbols that are neither coordinates nor params: "
                             f"{', '.join(missing)}{why}")
        bad_floats = [f for f in e.atoms(sympy.Float) if not math.isfinite(float(f))]
        if bad_floats:
            raise ValueError(f"{what} = {_short(str(e))} has a number beyond double precision: {bad_floats[0]}")
        for pw in e.atoms(sympy.Piecewise):
            if pw.args[-1].cond is not sympy.true:
                raise ValueError(f"{what}: {_short(str(pw))} has no branch for the remaining points: end it with "
                                 "(expression, True)")
        undefined = sorted(map(str, e.atoms(sympy.core.function.AppliedUndef)))
        if undefined:
            raise ValueError(f"{what} = {e} has functions escapade cannot compile: {', '.join(undefined)}")
        r = e.xreplace({**values, **dict(zip(coords, xs))})
        S = sympy.S
        if r.has(S.NaN, S.ComplexInfinity, S.Infinity, S.NegativeInfinity):  # would compile to nan/inf everywhere
            raise ValueError(f"{what} = {_short(str(e))} is not finite (with the params substituted it contains "
                             f"nan, zoo or oo: {_short(str(r.xreplace(dict(zip(xs, coords)))))})")
        out.append(r)
    return out, xs, {str(s): float(v) for s, v in values.items()}


def _check_name(name: Any) -> None:
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a string or None, got {name!r}")


def _njit(sympy: Any, name: str, d: int, exprs: list[Any], targets: list[str] | None) -> Any:
    """An njit function `name(x)` returning exprs[0] (targets None), or `name(x, out)` assigning exprs[k] to
    targets[k] (entries that are 0 by one fill); shared subexpressions are computed once."""

    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        def _print_Float(self, e: Any) -> str:  # every digit of the double, not the default 15
            return repr(float(e))

        def _print_Integer(self, e: Any) -> str:  # numba types ints in 64 bits: a larger one as a double
            return str(e) if abs(int(e)) < 2**62 else _double(e)

        def _print_Rational(self, e: Any) -> str:
            if max(abs(int(e.p)), abs(int(e.q))) < 2**62:
                return super()._print_Rational(e)
            return _double(e)

    printer = Printer({"strict": True})
    kept = list(zip(targets, exprs)) if targets is not None else [("return", exprs[0])]
    kept = [(t, e) for t, e in kept if t == "return" or e != 0]
    defs, reduced = sympy.cse([e for _, e in kept], symbols=sympy.numbered_symbols("_t"))
    body = [f"_x{i} = x[{i}]" for i in range(d)] + ["out[...] = 0.0"] * (len(kept) < len(exprs))
    try:
        body += [f"{s} = {printer.doprint(e)}" for s, e in defs]
        body += [f"{t} = {printer.doprint(e)}" if t != "return" else f"return float({printer.doprint(e)})"
                 for (t, _), e in zip(kept, reduced)]
    except NotImplementedError as e:
        unsupported = str(e).splitlines()[0].rpartition(": ")[2]
        hint = " (hessian=False leaves the Hessian out)" if name == "hessian" else ""
        raise ValueError(f"cannot compile the {name}: sympy has no Python code for {unsupported}{hint}") from None
    namespace = {module: importlib.import_module(module) for module in printer.module_imports}
    exec(f"def {name}(x{'' if targets is None else ', out'}):\n    " + "\n    ".join(body), namespace)
    return _numba().njit(error_model="numpy")(namespace[name])  # 1/0 is inf, as in C++, not an exception


def _double(e: Any) -> str:
    value = float(e)
    if not math.isfinite(value):
        raise ValueError(f"a number beyond double precision in the derived expressions: {_short(str(e))}")
    return repr(value)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SymbolicLandscape(CompiledLandscape):
    """A landscape from a sympy expression f of the coordinates: sympy derives the gradient and Hessian, and
    value, gradient and Hessian run as generated numba functions (a `CompiledLandscape`).

    Parameters
    ----------
    f : a sympy expression.
    coordinates : the symbols x_1, ..., x_d of f, in the order of the landscape's coordinates.
    params : {symbol: number} substituted into f before it is differentiated and compiled; every other free
        symbol of f must be a coordinate.
    hessian : derive and compile the Hessian too (default True; d(d+1)/2 derivatives).
    name : shown in results and errors; default from f.

    The functions sympy prints for Python's math module compile (exp, log, sqrt, trigonometric, erf, Abs,
    Piecewise, Max, ...); any other is a ValueError here. As in C++, 1/0 is inf rather than an exception.
    sympy and numba work at construction (numba: a second or two).
    """

    expression: str = ""
    coordinates: tuple[str, ...] = ()
    params: dict[str, float] = dataclasses.field(default_factory=dict)

    def __init__(self, f: Any, coordinates: Sequence[Any], params: Mapping[Any, Any] | None = None, *,
                 hessian: bool = True, name: str | None = None) -> None:
        sympy = _sympy()
        _numba()
        if not isinstance(hessian, bool):
            raise TypeError(f"hessian must be True or False, got {hessian!r}")
        _check_name(name)
        (f_,), xs, values = _prepare(sympy, "f", [f], coordinates, params)
        d = len(xs)
        grad = [sympy.diff(f_, x) for x in xs]
        gradient = _njit(sympy, "gradient", d, grad, [f"out[{i}]" for i in range(d)])
        value, hess = _njit(sympy, "value", d, [f_], None), None
        if hessian:  # the upper triangle, written to both halves
            pairs = [(i, j) for i in range(d) for j in range(i, d)]
            hess = _njit(sympy, "hessian", d, [sympy.diff(grad[i], xs[j]) for i, j in pairs],
                         [f"out[{i}, {j}] = out[{j}, {i}]" if i < j else f"out[{i}, {i}]" for i, j in pairs])
        super().__init__(d, gradient, value=value, hessian=hess,
                         name=name or f"SymbolicLandscape({_short(str(f))})")
        object.__setattr__(self, "expression", str(f))
        object.__setattr__(self, "coordinates", tuple(map(str, coordinates)))
        object.__setattr__(self, "params", values)

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self.dim, "name": self.name, "expression": self.expression,
                "coordinates": list(self.coordinates), "params": dict(self.params)}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SymbolicConstraint(CompiledConstraint):
    """Equality constraints g(x) = 0 for `ConstrainedFlow` from sympy expressions: `g` is one expression or a
    list of m of them, the Jacobian is derived by sympy, and both run as generated numba functions (a
    `CompiledConstraint`). `coordinates`, `params` and `name` are those of `SymbolicLandscape`."""

    expression: tuple[str, ...] = ()
    coordinates: tuple[str, ...] = ()
    params: dict[str, float] = dataclasses.field(default_factory=dict)

    def __init__(self, g: Any, coordinates: Sequence[Any], params: Mapping[Any, Any] | None = None, *,
                 name: str | None = None) -> None:
        sympy = _sympy()
        _numba()
        _check_name(name)
        gs = list(g) if isinstance(g, (list, tuple, sympy.MatrixBase)) else [g]
        exprs, xs, values = _prepare(sympy, "g", gs, coordinates, params)
        d, m = len(xs), len(exprs)
        jac = [sympy.diff(e, x) for e in exprs for x in xs]
        super().__init__(d, m, _njit(sympy, "constraint", d, exprs, [f"out[{k}]" for k in range(m)]),
                         _njit(sympy, "jacobian", d, jac, [f"out[{k}, {i}]" for k in range(m) for i in range(d)]),
                         name=name or f"SymbolicConstraint({_short(', '.join(map(str, gs)))})")
        object.__setattr__(self, "expression", tuple(map(str, gs)))
        object.__setattr__(self, "coordinates", tuple(map(str, coordinates)))
        object.__setattr__(self, "params", values)

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self.dim, "n_constraints": self.n_constraints, "name": self.name,
                "expression": list(self.expression), "coordinates": list(self.coordinates),
                "params": dict(self.params)}
