"""Your own landscapes, constraints and forcings, at native speed.

`CompiledLandscape` takes functions compiled with numba (an `njit` function per point, which escapade wraps,
or a `cfunc` with escapade's C signature): the C++ worker threads call them through function pointers, without
the GIL. `BatchedLandscape` takes plain Python functions (numpy, JAX, PyTorch) that receive a whole block of
points `(lanes, d)` at once: the engine takes the GIL once per block-step for them.

Either one is a finite sum F = sum_i p_i f_i when given per-term gradients (`n_terms`, and `p` for weights
other than uniform), and then works with `SGDk` and minibatch `SGLD` as well as with every full-gradient
dynamics. `CompiledConstraint` and `CompiledForcing` do the same for the constrained flow's g(x) = 0 and w(t).
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
from typing import Any, Callable, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._settings import check_allocation
from ._validate import MAX_DIM, as_int
from ._spec import Spec
from .constraints import Constraint
from .drifts import Drift
from .forcing import Forcing
from .landscapes import Landscape
from .landscapes.finite_sum import _probabilities

__all__ = ["BatchedDiffusion", "BatchedDrift", "BatchedLandscape", "CallbackError", "CompiledConstraint",
           "CompiledDiffusion", "CompiledDrift", "CompiledForcing", "CompiledLandscape", "C_SIGNATURES", "Diffusion"]

# The C signatures a numba cfunc (or any C function whose address is passed as an int) must have. Points are
# stored one after another: point l is x[l * d : (l + 1) * d], a C-ordered (width, d) array.
C_SIGNATURES = {
    "gradient": "void(CPointer(float64) x, CPointer(float64) g, int64 d, int64 width)",
    "value": "float64(CPointer(float64) x, int64 d)",
    "hessian": "void(CPointer(float64) x, CPointer(float64) H, int64 d)",
    "term_gradient": "void(int64 i, CPointer(float64) x, CPointer(float64) g, int64 d)",
    "constraint_value": "void(CPointer(float64) x, CPointer(float64) g, int64 n, int64 m)",
    "constraint_jacobian": "void(CPointer(float64) x, CPointer(float64) J, int64 n, int64 m)",  # J (m, n) C order
    "forcing": "void(float64 t, CPointer(float64) w, int64 n)",
    # b(x_l, t_l) for width points (width, d) at times t (width,); S(x_l) (width, d, k) C order
    "drift": "void(CPointer(float64) x, CPointer(float64) t, CPointer(float64) b, int64 d, int64 width)",
    "diffusion": "void(CPointer(float64) x, CPointer(float64) S, int64 d, int64 k, int64 width)",
}


class CallbackError(RuntimeError):
    """A user callback raised an exception or returned something unusable; the message names the callback."""


class _Address(int):
    """A function address given to a `from_addresses` constructor; the other constructors refuse a plain int."""


def _addresses(**fns: Any) -> dict[str, _Address | None]:
    """The arguments of a `from_addresses` constructor, checked: positive ints, or None for not given."""
    out: dict[str, _Address | None] = {}
    for key, fn in fns.items():
        if fn is None:
            out[key] = None
            continue
        if not isinstance(fn, (int, np.integer)) or isinstance(fn, (bool, np.bool_)):
            raise TypeError(f"{key} must be a function address (an int) or None, got {fn!r}")
        if fn <= 0:
            raise ValueError(f"{key} must be a positive function address, got {fn}")
        out[key] = _Address(fn)
    return out


def _refuse_addresses(cls: str, **fns: Any) -> None:
    """An int given where a function is expected: only the explicit low-level constructor takes addresses."""
    for key, fn in fns.items():
        if isinstance(fn, (int, np.integer)) and not isinstance(fn, (_Address, bool, np.bool_)):
            raise TypeError(f"{key} must be a numba function, got the int {int(fn)}; a C function's address is taken "
                            f"only by {cls}.from_addresses(...), which cannot check it")


def _callback_name(fn: Any) -> str:
    if isinstance(fn, _Address):
        return f"{int(fn):#x}"
    py_func = getattr(fn, "py_func", None) or getattr(fn, "__wrapped__", None) or fn
    module = getattr(py_func, "__module__", None)
    name = getattr(py_func, "__qualname__", None) or getattr(py_func, "__name__", None) or repr(fn)
    return f"{module}.{name}" if module and module != "__main__" else str(name)


def code_digest(*objects: Any) -> str:
    """A digest of the user's code an object runs: every callable in its (nested) dataclass fields, by its byte
    code, constants, defaults, and the values it closes over or reads as globals (numbers, numpy scalars, strings,
    arrays, functions, and the items of containers and the attributes of objects, to a depth of 8); "" when there
    is none. A result records a callback by name only; a store compares this digest too, so that chunks made by
    another body, or the same body over other values, under the same name are not reused (an object without
    attributes, a C extension's say, counts by its type only, and a set of other than numbers and strings by its
    size). A closure over state the callback changes (a call counter, a cache) so changes the digest: such a run's
    store cannot be resumed."""
    h = hashlib.sha256()
    seen: set[int] = set()
    enclosing: set[int] = set()  # the lists and tuples being hashed (a list may hold itself)
    found = False

    def value(v: Any, depth: int) -> None:
        if isinstance(v, (bool, int, float, complex, str, bytes, type(None))):
            h.update(repr(v).encode())
        elif isinstance(v, (np.ndarray, np.generic)):  # numpy scalars by value too (np.float32 is no float)
            v = np.asarray(v)
            if v.dtype.hasobject:
                h.update(b"object array")
                value(v.tolist(), depth + 1)
            else:
                h.update(str(v.dtype).encode() + str(v.shape).encode() + np.ascontiguousarray(v).tobytes())
        elif callable(v) or hasattr(v, "co_code"):
            code(v, depth + 1)
        elif depth > 8 or id(v) in seen:
            h.update(type(v).__name__.encode())
        elif isinstance(v, (tuple, list)):
            if id(v) in enclosing:  # a list that holds itself: once
                h.update(type(v).__name__.encode())
                return
            enclosing.add(id(v))
            for item in v:
                value(item, depth)
            enclosing.discard(id(v))
        else:
            seen.add(id(v))
            h.update(type(v).__qualname__.encode())
            if isinstance(v, dict):
                for key, item in v.items():
                    value(key, depth + 1)
                    value(item, depth + 1)
            elif isinstance(v, (set, frozenset)):  # in a fixed order only for numbers and strings (an object's
                simple = all(isinstance(item, (bool, int, float, str, bytes)) for item in v)  # repr holds its address)
                for item in sorted(v, key=repr) if simple else ():
                    value(item, depth + 1)
                h.update(str(len(v)).encode())
            elif dataclasses.is_dataclass(v):
                for field in dataclasses.fields(v):
                    value(field.name, depth + 1)
                    value(getattr(v, field.name, None), depth + 1)
            elif isinstance(getattr(v, "__dict__", None), dict):
                value(vars(v), depth + 1)

    def code(fn: Any, depth: int) -> None:
        if depth > 8 or id(fn) in seen:
            return
        seen.add(id(fn))
        fn = getattr(fn, "py_func", None) or getattr(fn, "__wrapped__", None) or getattr(fn, "__func__", None) or fn
        co = fn if hasattr(fn, "co_code") else getattr(fn, "__code__", None)
        if co is None:  # a callable object: its type, and its call method's code
            h.update(type(fn).__qualname__.encode())
            call = getattr(type(fn), "__call__", None)
            if call is not None and hasattr(call, "__code__"):
                code(call, depth + 1)
            return
        h.update(co.co_code + repr(co.co_names).encode() + repr(co.co_varnames).encode())
        value(co.co_consts, depth)
        value(getattr(fn, "__defaults__", None), depth)
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value(cell.cell_contents, depth)
            except ValueError:  # an empty cell
                pass
        glob = getattr(fn, "__globals__", {})
        for name in co.co_names:
            if name in glob and not isinstance(glob[name], type(np)):
                value(glob[name], depth)

    def walk(obj: Any, depth: int) -> None:
        nonlocal found
        if obj is None or depth > 8 or not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            return
        for field in dataclasses.fields(obj):
            v = getattr(obj, field.name, None)
            if callable(v) and not dataclasses.is_dataclass(v):
                found = True
                code(v, 0)
            elif dataclasses.is_dataclass(v):
                walk(v, depth + 1)
            elif isinstance(v, (tuple, list)):
                for item in v:
                    walk(item, depth + 1)

    for obj in objects:
        walk(obj, 0)
    return h.hexdigest()[:16] if found else ""


def _uniform_or(p: ArrayLike | None, n_terms: int | None) -> np.ndarray | None:
    """The term weights, or None for a landscape that is not a finite sum."""
    if n_terms is None:
        if p is not None:
            raise ValueError("p needs n_terms (the number of terms of the finite sum)")
        return None
    n = as_int("n_terms", n_terms, minimum=1, maximum=2**62)
    check_allocation("n_terms", n, 8.0 * n, "term weights")  # p is held as an array of n_terms doubles
    return _probabilities(p, n)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class _Custom(Landscape):
    # Runs the user's code: a configuration file cannot name it (config.registry() leaves it out).
    _runs_code: ClassVar[bool] = True

    dim: int = 1  # a field (with a default) rather than Landscape's property
    gradient_fn: Any = None
    value_fn: Any = None
    hessian_fn: Any = None
    term_fn: Any = None
    p: np.ndarray | None = None
    name: str = ""

    def _set(self, dim: int, name: str | None, p: np.ndarray | None, **fns: Any) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        object.__setattr__(self, "p", p)
        for key, fn in fns.items():
            object.__setattr__(self, key, fn)
        given = [fn for fn in (self.gradient_fn, self.term_fn) if fn is not None]
        object.__setattr__(self, "name", name or type(self).__name__ + "(" + _callback_name(given[0]) + ")")

    @property
    def n_terms(self) -> int | None:
        """Number of terms of the finite sum, or None when only the full gradient was given."""
        return None if self.p is None else int(self.p.size)

    def to_dict(self) -> dict[str, Any]:
        """The callbacks are recorded by name (a function is not data)."""
        out: dict[str, Any] = {"type": type(self).__name__, "dim": self.dim, "name": self.name}
        for key in ("gradient_fn", "value_fn", "hessian_fn", "term_fn"):
            fn = getattr(self, key)
            if fn is not None:
                out[key[:-3]] = _callback_name(fn)
        if self.p is not None:
            out["p"] = self.p.tolist()
        if getattr(self, "vectorized", False):
            out["vectorized"] = True
        return out


# --- compiled callbacks (numba) ---------------------------------------------------------------------------------


def _numba() -> Any:
    try:
        import numba
        import numba.core.ccallback
        import numba.core.registry
    except ImportError as e:
        raise ImportError('CompiledLandscape needs numba: pip install "escapade[numba]"') from e
    return numba


def _signatures(numba: Any) -> dict[str, Any]:
    t = numba.types
    dp = t.CPointer(t.float64)
    return {
        "gradient": t.void(dp, dp, t.int64, t.int64),
        "value": t.float64(dp, t.int64),
        "hessian": t.void(dp, dp, t.int64),
        "term_gradient": t.void(t.int64, dp, dp, t.int64),
        "constraint_value": t.void(dp, dp, t.int64, t.int64),
        "constraint_jacobian": t.void(dp, dp, t.int64, t.int64),
        "forcing": t.void(t.float64, dp, t.int64),
        "drift": t.void(dp, dp, dp, t.int64, t.int64),
        "diffusion": t.void(dp, dp, t.int64, t.int64, t.int64),
    }


# How escapade calls an njit function of each kind (for the error when numba cannot compile the call).
_FORMS = {
    "gradient": "gradient(x, out), x and out float64 arrays of shape (d,)",
    "block_gradient": "gradient(x, out), x and out float64 arrays of shape (width, d) (vectorized=True)",
    "value": "value(x) -> float, x a float64 array of shape (d,)",
    "hessian": "hessian(x, out), x of shape (d,) and out of shape (d, d), float64",
    "term_gradient": "term_gradient(i, x, out), i an int64, x and out float64 arrays of shape (d,)",
    "constraint_value": "value(x, out), x of shape (d,) and out of shape (m,), float64",
    "constraint_jacobian": "jacobian(x, out), x of shape (d,) and out of shape (m, d), float64",
    "forcing": "forcing(t, out), t a float64 and out a float64 array of shape (d,)",
    "drift": "drift(x, out), x and out float64 arrays of shape (d,)",
    "drift_t": "drift(x, t, out), x and out float64 arrays of shape (d,), t a float64 (time_dependent=True)",
    "diffusion": "S(x, out), x a float64 array of shape (d,) and out of shape (d, k)",
}


def _error_reporter() -> Any:
    """The C function escapade_callback_error(lane) of the core, callable from numba: a wrapper calls it when the
    user's function raises, and the engine then stops the run with a CallbackError."""
    global _REPORTER
    if _REPORTER is None:
        _REPORTER = ctypes.CFUNCTYPE(None, ctypes.c_int64)(_core.callback_error_address())
    return _REPORTER


_REPORTER: Any = None


def _wrap_njit(numba: Any, kind: str, fn: Any, sig: Any) -> Any:
    """A cfunc with escapade's C signature around an njit function written per point on numpy arrays (kind
    "block_gradient": a gradient written for a whole block, (width, d) arrays). An exception in the function
    is caught and reported to the engine (escapade_callback_error), which stops the run with a CallbackError."""
    carray = numba.carray
    report = _error_reporter()

    def block_gradient(xp: Any, gp: Any, d: Any, width: Any) -> None:
        try:
            fn(carray(xp, (width, d)), carray(gp, (width, d)))
        except Exception:
            report(-1)

    def gradient(xp: Any, gp: Any, d: Any, width: Any) -> None:
        x = carray(xp, (width, d))
        g = carray(gp, (width, d))
        lane = 0
        try:
            for lane in range(width):
                fn(x[lane], g[lane])
        except Exception:
            report(lane)

    def value(xp: Any, d: Any) -> Any:
        try:
            return fn(carray(xp, (d,)))
        except Exception:
            report(0)
            return np.nan

    def hessian(xp: Any, hp: Any, d: Any) -> None:
        try:
            fn(carray(xp, (d,)), carray(hp, (d, d)))
        except Exception:
            report(0)

    def term_gradient(i: Any, xp: Any, gp: Any, d: Any) -> None:
        try:
            fn(i, carray(xp, (d,)), carray(gp, (d,)))
        except Exception:
            report(0)

    def constraint_value(xp: Any, gp: Any, n: Any, m: Any) -> None:
        try:
            fn(carray(xp, (n,)), carray(gp, (m,)))
        except Exception:
            report(0)

    def constraint_jacobian(xp: Any, jp: Any, n: Any, m: Any) -> None:
        try:
            fn(carray(xp, (n,)), carray(jp, (m, n)))
        except Exception:
            report(0)

    def forcing(t: Any, wp: Any, n: Any) -> None:
        try:
            fn(t, carray(wp, (n,)))
        except Exception:
            report(0)

    def drift(xp: Any, tp: Any, bp: Any, d: Any, width: Any) -> None:
        x = carray(xp, (width, d))
        b = carray(bp, (width, d))
        lane = 0
        try:
            for lane in range(width):
                fn(x[lane], b[lane])
        except Exception:
            report(lane)

    def drift_t(xp: Any, tp: Any, bp: Any, d: Any, width: Any) -> None:
        x = carray(xp, (width, d))
        t = carray(tp, (width,))
        b = carray(bp, (width, d))
        lane = 0
        try:
            for lane in range(width):
                fn(x[lane], t[lane], b[lane])
        except Exception:
            report(lane)

    def diffusion(xp: Any, sp: Any, d: Any, k: Any, width: Any) -> None:
        x = carray(xp, (width, d))
        S = carray(sp, (width, d, k))
        lane = 0
        try:
            for lane in range(width):
                fn(x[lane], S[lane])
        except Exception:
            report(lane)

    wrappers = {"drift": drift, "drift_t": drift_t, "diffusion": diffusion, "gradient": gradient, "block_gradient": block_gradient, "value": value, "hessian": hessian,
                "term_gradient": term_gradient, "constraint_value": constraint_value,
                "constraint_jacobian": constraint_jacobian, "forcing": forcing}
    return numba.cfunc(sig, nopython=True)(wrappers[kind])


_WRAPPERS: dict[tuple[str, Any], Any] = {}


def _address(kind: str, fn: Any, keep: list[Any], vectorized: bool = False, form: str | None = None) -> int:
    """The C function pointer of a callback: an njit function (wrapped), a cfunc (signature checked), or an int."""
    if fn is None:
        return 0
    if isinstance(fn, _Address):  # from a from_addresses constructor, which checked it
        return int(fn)
    numba = _numba()
    sig = _signatures(numba)[kind]
    if isinstance(fn, numba.core.ccallback.CFunc):
        if fn._sig != sig:
            raise TypeError(f"{kind} cfunc {_callback_name(fn)} has signature {fn._sig}, escapade calls "
                            f"{C_SIGNATURES[kind]}")
        keep.append(fn)
        return int(fn.address)
    if isinstance(fn, numba.core.registry.CPUDispatcher):
        form = form or ("block_gradient" if vectorized and kind == "gradient" else kind)
        wrapped = _WRAPPERS.get((form, fn))
        if wrapped is None:  # compiling takes a moment: once per function
            try:
                wrapped = _wrap_njit(numba, form, fn, sig)
            except numba.core.errors.TypingError as e:
                lines = [line.strip() for line in str(e).splitlines() if line.strip()]
                raise TypeError(f"{kind} {_callback_name(fn)}: numba cannot compile the call {_FORMS[form]}: "
                                f"{' '.join(lines[:4])[:600]}") from None
            _WRAPPERS[(form, fn)] = wrapped
        keep.append(wrapped)
        return int(wrapped.address)
    batched = {"forcing": "", "constraint_value": "", "constraint_jacobian": "", "drift": " (plain Python functions go "
               "to BatchedDrift)", "diffusion": " (plain Python functions go to BatchedDiffusion)"}
    raise TypeError(f"{kind} must be a numba njit function or a numba cfunc with signature {C_SIGNATURES[kind]}; "
                    f"got {fn!r}{batched.get(kind, ' (plain Python functions go to BatchedLandscape)')}")


# The probe: each compiled callback is called once at construction, on a test point, with guard cells after its
# input and output, so that a function of the wrong dimension or one that writes past its output is an error
# before any run (an exception at the test point is the run's to report).
_GUARD = 16
_SENTINEL = np.frombuffer(b"escapade", dtype=np.float64)[0]  # a bit pattern no function writes by chance
_PROTOTYPES: dict[str, tuple[Any, ...]] = {
    "gradient": (None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64),
    "value": (ctypes.c_double, ctypes.c_void_p, ctypes.c_int64),
    "hessian": (None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64),
    "term_gradient": (None, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64),
    "constraint_value": (None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64),
    "constraint_jacobian": (None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64),
    "forcing": (None, ctypes.c_double, ctypes.c_void_p, ctypes.c_int64),
    "drift": (None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64),
    "diffusion": (None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64),
}


def _probe(kind: str, fn: Any, address: int, d: int, m: int = 1) -> None:
    """Call the compiled callback once on a test point (two points for a gradient, which takes a block) and
    check that it reads only its d coordinates per point, leaves x alone and writes only its output."""
    width = 2 if kind in ("gradient", "drift") else 1
    n_in = 0 if kind == "forcing" else width * d
    n_out = {"gradient": width * d, "value": 0, "hessian": d * d, "term_gradient": d, "constraint_value": m,
             "constraint_jacobian": m * d, "forcing": d, "drift": width * d, "diffusion": d * m}[kind]
    shape = {"gradient": f"({d},)", "hessian": f"({d}, {d})", "term_gradient": f"({d},)",
             "constraint_value": f"({m},)", "constraint_jacobian": f"({m}, {d})", "forcing": f"({d},)",
             "drift": f"({d},)", "diffusion": f"({d}, {m})"}.get(kind)
    point = 0.5 + 0.125 * (np.arange(n_in) % 5)  # finite and not 0 (where 1/x raises)
    call = ctypes.CFUNCTYPE(*_PROTOTYPES[kind])(address)
    what = f"{kind} callback {_callback_name(fn)}"

    def run(pad: float) -> tuple[np.ndarray, np.ndarray, bytes, bool]:
        x = np.full(n_in + _GUARD, pad)
        x[:n_in] = point
        out = np.full(n_out + _GUARD, _SENTINEL)
        xp, op = x.ctypes.data, out.ctypes.data
        times = np.full(width, 0.5)
        args = {"drift": (xp, times.ctypes.data, op, d, width), "diffusion": (xp, op, d, m, 1),"gradient": (xp, op, d, width), "value": (xp, d), "hessian": (xp, op, d),
                "term_gradient": (0, xp, op, d), "constraint_value": (xp, op, d, m),
                "constraint_jacobian": (xp, op, d, m), "forcing": (0.5, op, d)}[kind]
        result = call(*args)
        raised = _core.take_callback_error() is not None  # an exception: the run reports it where it happens
        return x, out, out[:n_out].tobytes() + np.float64(result if result is not None else 0.0).tobytes(), raised

    x, out, first, raised = run(0.75)
    if out[n_out:].tobytes() != np.full(_GUARD, _SENTINEL).tobytes():
        sizes = (f"dim = {d}, n_constraints = {m}" if kind.startswith("constraint") else
                 f"dim = {d}, noise_dim = {m}" if kind == "diffusion" else f"dim = {d}")
        raise ValueError(f"{what} writes past the end of its output, of shape {shape} for {sizes}: is it written "
                         f"for another dimension?")
    unwritten = int(np.sum(out[:n_out].view(np.uint64) == np.array([_SENTINEL]).view(np.uint64)[0]))
    if unwritten and not raised:  # the engine's output buffers are not cleared between calls: what is skipped is stale
        raise ValueError(f"{what} leaves {unwritten} of the {n_out} entries of its output unwritten (shape "
                         f"{shape or '()'} per point, dim = {d}): write every entry, zeros included; is it written "
                         f"for another dimension?")
    if x[:n_in].tobytes() != point.tobytes():
        raise ValueError(f"{what} changes its input x: it must only read it")
    if n_in:  # a function that reads past its point sees the pad: NaN there changes what it returns
        if run(np.nan)[2] != first and run(0.75)[2] == first:
            raise ValueError(f"{what} reads past the end of x, which has dim = {d} coordinates: is it written for "
                             f"another dimension?")


def _check_callbacks(fns: dict[str, Any], d: int, m: int = 1, vectorized: bool = False,
                     form: str | None = None) -> None:
    """Compile each callback now (a TypeError for a wrong signature) and probe it; addresses go unchecked."""
    keep: list[Any] = []
    for kind, fn in fns.items():
        if fn is not None and not isinstance(fn, _Address):
            _probe(kind, fn, _address(kind, fn, keep, vectorized, form), d, m)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class CompiledLandscape(_Custom):
    """A landscape from numba-compiled functions, called by the engine's threads without the GIL.

    Each callback is a numba `njit` function written for one point, which escapade wraps:

    * `gradient(x, out)`: write grad f(x) into `out` (both float64 arrays of shape (d,));
    * `value(x) -> float`;
    * `hessian(x, out)`: write the (d, d) Hessian into `out`;
    * `term_gradient(i, x, out)`: write grad f_i(x) of term i of a finite sum.

    or a `numba.cfunc` with the C signature in `escapade.custom.C_SIGNATURES` (the gradient then receives a
    whole block: `width` points one after another). The addresses of C or Fortran functions go to the
    low-level `CompiledLandscape.from_addresses`; an int given here is a TypeError.

    Parameters
    ----------
    dim : the dimension d.
    gradient : the gradient (required unless `term_gradient` is given; a finite sum's gradient is then the
        weighted sum of its terms' gradients).
    value, hessian : optional; dynamics that need them (perturbed GD needs `value`) say so.
    term_gradient, n_terms, p : per-term gradients of a finite sum F = sum_i p_i f_i (p uniform by default).
    vectorized : the njit `gradient` is written for a whole block, `gradient(x, out)` with (width, d) arrays, one
        row per lane: a loop over rows that numba can vectorize is faster than one call per point when the
        gradient is cheap (default False: one point per call).
    name : shown in results and errors; default from the function's name.

    Each callback is compiled and called once on a test point at construction: a call numba cannot compile is a
    TypeError, and a function written for another dimension (writing past the end of `out`, reading past the end
    of `x`, or writing into `x`) is a ValueError. An exception raised by an njit callback during a run stops it
    with `CallbackError` naming the callback and the point; a NaN it returns at a finite point stops the run with a
    ValueError that names it (at a non-finite point the path is reported as diverged instead).
    """

    vectorized: bool = False

    def __init__(self, dim: int, gradient: Any = None, *, value: Any = None, hessian: Any = None,
                 term_gradient: Any = None, n_terms: int | None = None, p: ArrayLike | None = None,
                 vectorized: bool = False, name: str | None = None) -> None:
        if not isinstance(vectorized, (bool, np.bool_)):
            raise TypeError(f"vectorized must be True or False, got {vectorized!r}")
        object.__setattr__(self, "vectorized", bool(vectorized))
        if gradient is None and term_gradient is None:
            raise ValueError("CompiledLandscape needs gradient= (or term_gradient= and n_terms= for a finite sum)")
        if (term_gradient is None) != (n_terms is None):
            raise ValueError("term_gradient and n_terms go together (a finite sum needs both)")
        _refuse_addresses("CompiledLandscape", gradient=gradient, value=value, hessian=hessian,
                          term_gradient=term_gradient)
        self._set(dim, name, _uniform_or(p, n_terms), gradient_fn=gradient, value_fn=value, hessian_fn=hessian,
                  term_fn=term_gradient)
        _check_callbacks({"gradient": gradient, "value": value, "hessian": hessian,
                                "term_gradient": term_gradient}, self.dim, vectorized=self.vectorized)

    @classmethod
    def from_addresses(cls, dim: int, gradient: int | None = None, *, value: int | None = None,
                       hessian: int | None = None, term_gradient: int | None = None, n_terms: int | None = None,
                       p: ArrayLike | None = None, name: str | None = None) -> CompiledLandscape:
        """Low level: a landscape from the addresses (ints) of C functions with the signatures of
        `escapade.custom.C_SIGNATURES` (C, Fortran, or a cfunc's `address`). escapade calls them as they are: it
        cannot check an address or its signature, and a wrong one crashes the interpreter. Never pass addresses
        that come from a file or another untrusted source. The arguments are otherwise those of the class."""
        fns = _addresses(gradient=gradient, value=value, hessian=hessian, term_gradient=term_gradient)
        return CompiledLandscape(dim, fns["gradient"], value=fns["value"], hessian=fns["hessian"],
                                 term_gradient=fns["term_gradient"], n_terms=n_terms, p=p, name=name)

    def _to_core(self) -> Any:
        keep: list[Any] = []  # the compiled wrappers must outlive the core object
        addr = {kind: _address(kind, fn, keep, self.vectorized) for kind, fn in (("gradient", self.gradient_fn), ("value", self.value_fn),
                                                              ("hessian", self.hessian_fn),
                                                              ("term_gradient", self.term_fn))}
        core: Any
        if self.p is None:
            core = _core.CompiledLandscape(dim=self.dim, name=self.name, gradient=addr["gradient"],
                                           value=addr["value"], hessian=addr["hessian"])
        else:
            core = _core.CompiledFiniteSum(dim=self.dim, name=self.name, term_gradient=addr["term_gradient"],
                                           p=self.p, gradient=addr["gradient"], value=addr["value"],
                                           hessian=addr["hessian"])
        object.__setattr__(self, "_compiled_callbacks", keep)
        return core


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class CompiledConstraint(Constraint):
    """Equality constraints g(x) = 0 (m of them in d unknowns) for `ConstrainedFlow`, from numba-compiled functions:
    `value(x, out)` writes g(x) (m,) and `jacobian(x, out)` writes J = Dg(x) (m, d), both njit functions of one
    point (or cfuncs with the signatures `C_SIGNATURES["constraint_value"]` and `["constraint_jacobian"]`, J in
    C order; C functions' addresses go to the low-level `CompiledConstraint.from_addresses`). Called from the
    engine's threads without the GIL; NaN at a finite point stops the run with a ValueError naming the function."""

    _runs_code: ClassVar[bool] = True

    dim: int = 1
    n_constraints: int = 1
    value_fn: Any = None
    jacobian_fn: Any = None
    name: str = ""

    def __init__(self, dim: int, n_constraints: int, value: Any, jacobian: Any, *, name: str | None = None) -> None:
        d = as_int("dim", dim, minimum=1, maximum=MAX_DIM)
        object.__setattr__(self, "dim", d)
        object.__setattr__(self, "n_constraints", as_int("n_constraints", n_constraints, minimum=1, maximum=d))
        if value is None or jacobian is None:
            raise ValueError("CompiledConstraint needs both value= and jacobian=")
        _refuse_addresses("CompiledConstraint", value=value, jacobian=jacobian)
        object.__setattr__(self, "value_fn", value)
        object.__setattr__(self, "jacobian_fn", jacobian)
        object.__setattr__(self, "name", name or f"CompiledConstraint({_callback_name(value)})")
        _check_callbacks({"constraint_value": value, "constraint_jacobian": jacobian}, d, self.n_constraints)

    @classmethod
    def from_addresses(cls, dim: int, n_constraints: int, value: int, jacobian: int, *,
                       name: str | None = None) -> CompiledConstraint:
        """Low level: constraints from the addresses (ints) of C functions with the signatures
        `C_SIGNATURES["constraint_value"]` and `["constraint_jacobian"]`, called unchecked (a wrong address or
        signature crashes the interpreter); never from untrusted input."""
        fns = _addresses(value=value, jacobian=jacobian)
        return CompiledConstraint(dim, n_constraints, fns["value"], fns["jacobian"], name=name)

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self.dim, "n_constraints": self.n_constraints, "name": self.name,
                "value": _callback_name(self.value_fn), "jacobian": _callback_name(self.jacobian_fn)}

    def _to_core(self) -> Any:
        keep: list[Any] = []
        core = _core.CompiledConstraint(dim=self.dim, n_constraints=self.n_constraints, name=self.name,
                                        value=_address("constraint_value", self.value_fn, keep),
                                        jacobian=_address("constraint_jacobian", self.jacobian_fn, keep))
        object.__setattr__(self, "_compiled_callbacks", keep)
        return core


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class CompiledForcing(Forcing):
    """A deterministic forcing w(t) for `ConstrainedFlow` from a numba-compiled function `forcing(t, out)` that
    writes w(t) (d,) (or a cfunc with the signature `C_SIGNATURES["forcing"]`; a C function's address goes to the
    low-level `CompiledForcing.from_addresses`); the same for every path. Called from the engine's threads, at
    every stage time of the integrator."""

    _runs_code: ClassVar[bool] = True

    dim: int = 1
    forcing_fn: Any = None
    name: str = ""

    def __init__(self, dim: int, forcing: Any, *, name: str | None = None) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        if forcing is None:
            raise ValueError("CompiledForcing needs forcing=")
        _refuse_addresses("CompiledForcing", forcing=forcing)
        object.__setattr__(self, "forcing_fn", forcing)
        object.__setattr__(self, "name", name or f"CompiledForcing({_callback_name(forcing)})")
        _check_callbacks({"forcing": forcing}, self.dim)

    @classmethod
    def from_addresses(cls, dim: int, forcing: int, *, name: str | None = None) -> CompiledForcing:
        """Low level: a forcing from the address (an int) of a C function with the signature
        `C_SIGNATURES["forcing"]`, called unchecked (a wrong address or signature crashes the interpreter); never
        from untrusted input."""
        return CompiledForcing(dim, _addresses(forcing=forcing)["forcing"], name=name)

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self.dim, "name": self.name,
                "forcing": _callback_name(self.forcing_fn)}

    def _to_core(self) -> Any:
        keep: list[Any] = []
        core = _core.CompiledForcing(dim=self.dim, name=self.name, forcing=_address("forcing", self.forcing_fn, keep))
        object.__setattr__(self, "_compiled_callbacks", keep)
        return core


# --- batched Python callbacks -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class BatchedLandscape(_Custom):
    """A landscape from Python functions that evaluate a whole block of points at once (numpy, JAX, PyTorch).

    * `gradient(x) -> g`: x is a read-only float64 array (lanes, d), one row per path of the block; return the
      gradients as anything `numpy.asarray` turns into shape (lanes, d);
    * `value(x) -> float` for one point (d,); `hessian(x) -> (d, d)` for one point;
    * `term_gradients(terms, x) -> g`: terms (lanes,) int32, g[l] = grad f_{terms[l]}(x[l]) — one call per
      minibatch slot per block-step for `SGDk` and minibatch `SGLD`.

    The engine calls them with the GIL held, once per block-step and thread, so each call sees `lanes` points:
    pass `simulate(..., lanes=1024)` (up to 4096) so that the Python overhead (microseconds per call) is spread
    over many paths; the default 64 suits compiled landscapes. Each call's arrays are its own: a function may keep
    one (or a view of it) after the call, and it keeps that call's values. An exception in a callback, a wrong
    shape or a NaN at a finite point stops the run and raises `CallbackError` naming the callback, from whichever
    thread called it.

    Parameters are those of `CompiledLandscape`, with `term_gradients` in place of `term_gradient`.
    """

    def __init__(self, dim: int, gradient: Callable[..., Any] | None = None, *,
                 value: Callable[..., Any] | None = None, hessian: Callable[..., Any] | None = None,
                 term_gradients: Callable[..., Any] | None = None, n_terms: int | None = None,
                 p: ArrayLike | None = None, name: str | None = None) -> None:
        if gradient is None and term_gradients is None:
            raise ValueError("BatchedLandscape needs gradient= (or term_gradients= and n_terms= for a finite sum)")
        if (term_gradients is None) != (n_terms is None):
            raise ValueError("term_gradients and n_terms go together (a finite sum needs both)")
        for key, fn in (("gradient", gradient), ("value", value), ("hessian", hessian),
                        ("term_gradients", term_gradients)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{key} must be callable, got {fn!r}")
        self._set(dim, name, _uniform_or(p, n_terms), gradient_fn=gradient, value_fn=value, hessian_fn=hessian,
                  term_fn=term_gradients)

    def _to_core(self) -> Any:
        def pair(fn: Any) -> tuple[Any, str | None]:
            return (fn, None if fn is None else _callback_name(fn))

        fns = (pair(self.gradient_fn), pair(self.value_fn), pair(self.hessian_fn))
        if self.p is None:
            return _core.PythonLandscape(dim=self.dim, name=self.name, gradient=fns[0], value=fns[1], hessian=fns[2],
                                         error=CallbackError)
        return _core.PythonFiniteSum(dim=self.dim, name=self.name, term_gradients=pair(self.term_fn), p=self.p,
                                     gradient=fns[0], value=fns[1], hessian=fns[2], error=CallbackError)


# --- drifts and noise factors -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class CompiledDrift(Drift):
    """A drift b(x) (or b(x, t) with `time_dependent=True`) for `Langevin` from a numba `njit` function written
    for one point, `drift(x, out)` or `drift(x, t, out)`, writing b into `out` (d,); or a `numba.cfunc` with the
    C signature `C_SIGNATURES["drift"]` (a whole block: width points and their times). Called by the engine's
    threads without the GIL, at each step's start time t = step * dt. b is used as given, never as a gradient.

    Probed once at construction like `CompiledLandscape`'s callbacks (wrong dimension: ValueError); a NaN at a
    finite point stops the run with a ValueError naming it, an exception with `CallbackError`."""

    _runs_code: ClassVar[bool] = True

    dim: int = 1
    drift_fn: Any = None
    time_dependent: bool = False
    name: str = ""

    def __init__(self, dim: int, drift: Any, *, time_dependent: bool = False, name: str | None = None) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        if drift is None:
            raise ValueError("CompiledDrift needs drift=")
        if not isinstance(time_dependent, (bool, np.bool_)):
            raise TypeError(f"time_dependent must be True or False, got {time_dependent!r}")
        _refuse_addresses("CompiledDrift", drift=drift)
        object.__setattr__(self, "drift_fn", drift)
        object.__setattr__(self, "time_dependent", bool(time_dependent))
        object.__setattr__(self, "name", name or f"CompiledDrift({_callback_name(drift)})")
        _check_callbacks({"drift": drift}, self.dim, form=self._form)

    @property
    def _form(self) -> str:
        return "drift_t" if self.time_dependent else "drift"

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self.dim, "name": self.name, "drift": _callback_name(self.drift_fn),
                "time_dependent": self.time_dependent}

    def _to_core(self) -> Any:
        keep: list[Any] = []
        core = _core.CompiledDrift(dim=self.dim, name=self.name,
                                   drift=_address("drift", self.drift_fn, keep, form=self._form),
                                   time_dependent=self.time_dependent)
        object.__setattr__(self, "_compiled_callbacks", keep)
        return core


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class BatchedDrift(Drift):
    """A drift for `Langevin` from a Python function on a whole block of points: `drift(x) -> b` with x a
    read-only (lanes, d) float64 array, or `drift(x, t) -> b` with `time_dependent=True` (t (lanes,), each
    path's time at the step's start); b anything `numpy.asarray` turns into shape (lanes, d). Called with the GIL
    once per block-step (pass `simulate(..., lanes=1024)` to spread the call's cost). A wrong shape, an exception
    or a NaN at a finite point stops the run with `CallbackError` naming the function."""

    _runs_code: ClassVar[bool] = True

    dim: int = 1
    drift_fn: Any = None
    time_dependent: bool = False
    name: str = ""

    def __init__(self, dim: int, drift: Callable[..., Any], *, time_dependent: bool = False,
                 name: str | None = None) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        if not callable(drift):
            raise TypeError(f"drift must be callable, got {drift!r}")
        if not isinstance(time_dependent, (bool, np.bool_)):
            raise TypeError(f"time_dependent must be True or False, got {time_dependent!r}")
        object.__setattr__(self, "drift_fn", drift)
        object.__setattr__(self, "time_dependent", bool(time_dependent))
        object.__setattr__(self, "name", name or f"BatchedDrift({_callback_name(drift)})")

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dim": self.dim, "name": self.name, "drift": _callback_name(self.drift_fn),
                "time_dependent": self.time_dependent}

    def _to_core(self) -> Any:
        return _core.PythonDrift(dim=self.dim, name=self.name, drift=self.drift_fn,
                                 time_dependent=self.time_dependent, error=CallbackError)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Diffusion(Spec):
    """A state-dependent noise factor S(x), d x k, for `Langevin(eps=..., S=...)`: dX = b dt + eps S(X) dW (Ito).
    `dim` None: a factor written for any dimension; `noise_dim` None: k = d (square S)."""

    _runs_code: ClassVar[bool] = True

    fn: Any = None
    dim: int | None = None
    noise_dim: int | None = None
    name: str = ""

    def _set(self, fn: Any, dim: int | None, noise_dim: int | None, name: str | None) -> None:
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "dim", None if dim is None else as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        object.__setattr__(self, "noise_dim",
                           None if noise_dim is None else as_int("noise_dim", noise_dim, minimum=1, maximum=MAX_DIM))
        object.__setattr__(self, "name", name or f"{type(self).__name__}({_callback_name(fn)})")

    def k(self, d: int) -> int:
        """The number of noise coordinates in dimension d."""
        return d if self.noise_dim is None else self.noise_dim

    def factor(self, x: ArrayLike) -> np.ndarray:
        """S at each row of x (n, d) -> (n, d, k), or at a point (d,) -> (d, k)."""
        a = np.asarray(x, dtype=float)
        pts = a.reshape(1, -1) if a.ndim == 1 else a
        S = self._core.factor(np.ascontiguousarray(pts))
        return S[0] if a.ndim == 1 else S

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "S": _callback_name(self.fn), "dim": self.dim,
                "noise_dim": self.noise_dim, "name": self.name}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class CompiledDiffusion(Diffusion):
    """S(x) from a numba `njit` function `S(x, out)` writing the (d, k) factor at one point (or a cfunc with the
    signature `C_SIGNATURES["diffusion"]`), called by the engine's threads without the GIL. With `dim` given it is
    probed once at construction (a function written for another shape is a ValueError); a non-finite entry at a
    finite point stops the run with a ValueError naming it."""

    def __init__(self, S: Any, *, dim: int | None = None, noise_dim: int | None = None,
                 name: str | None = None) -> None:
        if S is None:
            raise ValueError("CompiledDiffusion needs S=")
        _refuse_addresses("CompiledDiffusion", S=S)
        self._set(S, dim, noise_dim, name)
        if self.dim is not None:
            _check_callbacks({"diffusion": S}, self.dim, self.k(self.dim))
        else:
            _address("diffusion", S, [])  # compile now: a call numba cannot compile is a TypeError here

    def _to_core(self) -> Any:
        keep: list[Any] = []
        core = _core.CompiledDiffusion(dim=self.dim or 0, noise_dim=self.noise_dim or 0, name=self.name,
                                       S=_address("diffusion", self.fn, keep))
        object.__setattr__(self, "_compiled_callbacks", keep)
        return core


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class BatchedDiffusion(Diffusion):
    """S(x) from a Python function on a block of points: `S(x) -> (lanes, d, k)` for x a read-only (lanes, d)
    array, called with the GIL once per block-step. A wrong shape, an exception or a NaN at a finite point stops
    the run with `CallbackError` naming it; an infinite entry with a ValueError."""

    def __init__(self, S: Callable[..., Any], *, dim: int | None = None, noise_dim: int | None = None,
                 name: str | None = None) -> None:
        if not callable(S):
            raise TypeError(f"S must be callable, got {S!r}")
        self._set(S, dim, noise_dim, name)

    def _to_core(self) -> Any:
        return _core.PythonDiffusion(dim=self.dim or 0, noise_dim=self.noise_dim or 0, name=self.name, S=self.fn,
                                     error=CallbackError)


def as_diffusion(name: str, S: Any, noise_dim: int | None = None) -> Diffusion:
    """A `Diffusion` from what `Langevin(S=...)` takes: one already, a numba function (compiled), or a Python
    callable (batched)."""
    if isinstance(S, Diffusion):
        if noise_dim is not None:
            raise ValueError(f"noise_dim goes into the Diffusion itself, got noise_dim={noise_dim!r} with {S!r}")
        return S
    try:
        import numba.core.ccallback
        import numba.core.registry

        compiled = isinstance(S, (numba.core.ccallback.CFunc, numba.core.registry.CPUDispatcher))
    except ImportError:  # pragma: no cover - numba is optional
        compiled = False
    if compiled:
        return CompiledDiffusion(S, noise_dim=noise_dim)
    if callable(S):
        return BatchedDiffusion(S, noise_dim=noise_dim)
    raise TypeError(f"{name} must be a matrix, 'hessian', 'empirical' or a callable S(x), got {S!r}")
