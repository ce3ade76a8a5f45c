"""Exact mean exit times and splitting probabilities, used as references for the Monte Carlo engine.

For a one-dimensional diffusion ``dX = a(X) dt + sigma(X) dW`` the mean exit
time ``T(x)`` solves ``a T' + (sigma^2 / 2) T'' = -1`` with ``T = 0`` at an
absorbing end and ``T' = 0`` at a reflecting end.  With the potential-like
function ``psi(x) = -int^x 2 a / sigma^2`` the scale density is
``s = exp(psi)`` and the speed density is ``m = 2 exp(-psi) / sigma^2``, and
every solution is a double integral of the kernel

    K(z, y) = s(y) m(z) = 2 / sigma^2(z) * exp(psi(y) - psi(z))

over part of the square ``(lower, upper)^2`` (``y`` is a scale variable and
``z`` a speed variable).  Only the difference ``psi(y) - psi(z)`` is ever
exponentiated, and with two absorbing ends each integral is divided by the
largest value of its kernel (read off a grid of ``psi``) and the factors are
combined in log scale, so the answer is finite whenever it is representable,
even for very small noise.  For overdamped Langevin dynamics ``psi = U / T``
exactly.  Towards an infinite reflecting end the speed measure is summed over
blocks of doubling length (an infinite mass, hence an infinite mean exit time,
is refused); an infinite absorbing end is replaced by a far cut plus the mean
time from there to infinity, an expansion in the noise.

In two dimensions, `linear_mean_exit_time` solves ``L u = -1`` for a linear
drift and constant noise in a disk or an ellipse by a spectral collocation.

The probability of reaching ``upper`` before ``lower`` is the ratio
``int_lower^x s / int_lower^upper s`` of integrals of the scale density
(`splitting_probability_1d`, `langevin_splitting_probability_1d`).  For the
Euler-Maruyama chain of Langevin dynamics, with or without a Brownian-bridge
test of each step (both ends at once, by the image series of the strip),
`euler_chain_splitting_probability` solves the chain's own integral equation by
the Nystrom method: the exact answer for the scheme, which differs from the
diffusion's by O(sqrt(dt)) (O(dt) with the bridge).
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.special
from numpy.typing import ArrayLike
from scipy.integrate import IntegrationWarning, quad

from .._validate import as_array, as_float, as_int, as_square_matrix
from ..drifts import Drift, refuse_drift
from ..regions import Ball, Ellipsoid

if TYPE_CHECKING:
    from ..landscapes import Landscape

__all__ = [
    "mean_exit_time_1d",
    "langevin_mean_exit_time_1d",
    "langevin_mean_exit_time_derivative_1d",
    "brownian_ball_exit_time",
    "linear_mean_exit_time",
    "splitting_probability_1d",
    "langevin_splitting_probability_1d",
    "euler_chain_splitting_probability",
]

ScalarFunction = Callable[[float], float]
_BOUNDARIES = ("absorbing", "reflecting")

# Relative tolerances of the nested quadratures, tightest innermost so that
# the noise of an inner integral stays well below the outer tolerance.
_RTOL_PSI = 1e-13
_ATOL_PSI = 1e-12
_RTOL_INNER = 1e-12
_RTOL_OUTER = 1e-10


def _quad(f: ScalarFunction, a: float, b: float, rtol: float, atol: float = 0.0) -> float:
    return quad(f, a, b, epsabs=atol, epsrel=rtol, limit=200)[0]


def _check_interval(
    lower: float, upper: float, lower_boundary: str, upper_boundary: str
) -> tuple[float, float]:
    for name, kind in (("lower_boundary", lower_boundary), ("upper_boundary", upper_boundary)):
        if kind not in _BOUNDARIES:
            raise ValueError(f"{name} must be one of {_BOUNDARIES}, got {kind!r}")
    lower, upper = as_float("lower", lower, finite=False), as_float("upper", upper, finite=False)
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
    if math.isinf(upper - lower) and math.isfinite(lower) and math.isfinite(upper):  # quad sees an infinite width
        raise ValueError(f"upper - lower must be finite for finite ends, got lower={lower}, upper={upper}")
    if lower_boundary == upper_boundary == "reflecting":
        raise ValueError(
            "lower_boundary and upper_boundary are both 'reflecting': the process never exits"
        )
    return lower, upper


def _points(x0: ArrayLike) -> np.ndarray:
    """x0 as a float array of any shape; TypeError naming it for what is not numbers."""
    try:
        return np.asarray(x0, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"x0 must be a number or an array of numbers, got x0={x0!r}") from None


def _check_x0(x0: ArrayLike, lower: float, upper: float) -> np.ndarray:
    x = _points(x0)
    bad = ~np.isfinite(x) | (x < lower) | (x > upper)
    if bad.any():
        raise ValueError(
            f"x0 must be finite and lie in [lower, upper] = [{lower}, {upper}], "
            f"got x0={x[bad].flat[0]}"
        )
    return x


def _constant(c: float) -> ScalarFunction:
    return lambda _x: c


def _number(raw: object, name: str, x: float) -> float:
    """The value `raw` that `name` returned at x as a float; TypeError naming `name` for what is not one number."""
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        shape = getattr(raw, "shape", None)
        shown = f"an array of shape {shape}" if shape is not None else repr(raw)
        raise TypeError(f"{name} must return a single real number at each point x, got {shown} at x={x}") from None


def _finite_function(f: Callable[[float], Any], name: str, *, infinite: bool = False) -> ScalarFunction:
    """f as a float function raising ValueError naming `name` where its value is NaN, or infinite unless
    `infinite` (a potential may be +inf far out: exp(-inf) = 0 is right there), and TypeError naming it where it
    does not return one number."""

    def checked(x: float) -> float:
        v = _number(f(x), name, x)
        if math.isnan(v) or (math.isinf(v) and not infinite):
            shown = "NaN" if math.isnan(v) else v
            raise ValueError(f"{name} came out {shown} at x={x}: it must be {'a number' if infinite else 'finite'} "
                             "on [lower, upper]")
        return v

    return checked


def _positive(value: float, name: str) -> float:
    value = as_float(name, value, finite=False)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be positive and finite, got {name}={value}")
    return value


def _log(v: float) -> float:
    return math.log(v) if v > 0.0 else -math.inf


# psi on a grid of a finite interval, from which the two-absorbing-end formula takes the scale factors that keep its
# integrands in floating point: a grid of _GRID_POINTS points and the points asked for, with a step halved where psi
# changes by more than _GRID_JUMP across it (up to _GRID_MAX points; a factor missed between two points only scales
# an integrand, and the quadrature sees it whole).
_GRID_POINTS = 33
_GRID_JUMP = 2.0
_GRID_MAX = 2**14
_LOG_MAX = math.log(np.finfo(float).max)  # about 709.78: exp overflows beyond it


def _psi_grid(
    dpsi: Callable[[float, float], float], lower: float, upper: float, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(grid, psi - psi(lower) on it) for the finite [lower, upper]; `points` inside it are grid points. psi is
    summed over the steps (each a short difference, or a short quadrature of the drift)."""
    inside = points[(points >= lower) & (points <= upper)]
    xs = np.union1d(np.linspace(lower, upper, _GRID_POINTS), inside).tolist()

    def step(a: float, b: float) -> float:
        value = dpsi(a, b)
        if math.isnan(value):
            raise ValueError(f"the exponent psi(y) - psi(z) of the scale density came out NaN between z={a} and "
                             f"y={b}: infinite values of the potential (or of psi) whose difference is undefined, "
                             f"a potential that overflows on [lower, upper] = [{lower}, {upper}]")
        if math.isinf(value):
            raise ValueError(f"the exponent psi(y) - psi(z) of the scale density came out {value} between z={a} and "
                             f"y={b}: the potential is infinite inside [lower, upper] = [{lower}, {upper}] (or "
                             "overflows there), a wall through which the mean exit time is not defined")
        return value

    steps = [step(a, b) for a, b in zip(xs[:-1], xs[1:])]
    while len(xs) < _GRID_MAX:
        split = False
        new_x: list[float] = [xs[0]]
        new_s: list[float] = []
        for a, b, s in zip(xs[:-1], xs[1:], steps):
            mid = 0.5 * (a + b)
            if abs(s) > _GRID_JUMP and a < mid < b and len(xs) + len(new_s) < _GRID_MAX:
                first = step(a, mid)
                new_x += [mid, b]
                new_s += [first, s - first]
                split = True
            else:
                new_x.append(b)
                new_s.append(s)
        xs, steps = new_x, new_s
        if not split:
            break
    return np.array(xs), np.concatenate([[0.0], np.cumsum(steps)])


def _log_scale(dpsi: Callable[[float, float], float], ref: float, a: float, b: float) -> float:
    """log int_a^b exp(psi(y) - psi(ref)) dy for a finite [a, b] holding ref (-inf when a == b)."""
    if not a < b:
        return -math.inf
    xs, psi = _psi_grid(dpsi, a, b, np.array([ref]))
    shift = float(np.max(psi - psi[int(np.searchsorted(xs, ref))]))
    return shift + _log(_quad(lambda y: math.exp(dpsi(ref, y) - shift), a, b, _RTOL_INNER))


def _layer(dpsi: Callable[[float, float], float], end: float, into: float, length: float) -> float:
    """1 / |psi'| at an end of an interval of the given length, by a one-sided difference inside it (`into` = +1
    at its lower end, -1 at its upper end): the width over which exp(psi) changes by a factor e there, that of a
    peak of an integrand at that end or of the boundary layer of an absorbing end the drift pushes into."""
    h = min(1e-6 * max(1.0, abs(end)), 0.25 * length)
    slope = abs(dpsi(end, end + into * h)) / h if h > 0.0 else 0.0
    return 1.0 / slope if slope > 0.0 else math.inf


def _quad_ends(f: ScalarFunction, a: float, b: float, rtol: float, width_a: float, width_b: float,
               atol: float = 0.0) -> float:
    """`_quad` with breakpoints 8 and 64 widths inside each end whose feature (a peak, a boundary layer of e-fold
    width `width_*`) is narrow against [a, b]: without them Gauss-Kronrod can step over a feature narrower than the
    gap between its end node and the end (0.2% of the interval) and report a converged wrong value; with them each
    piece sees the feature, or its tail from e^-8 down, across a few nodes."""
    length = b - a
    points = [v for w, sign, end in ((width_a, 1.0, a), (width_b, -1.0, b)) for k in (8.0, 64.0)
              if 2.0 * k * w < length for v in [end + sign * k * w]]
    if not points:
        return _quad(f, a, b, rtol, atol)
    return quad(f, a, b, epsabs=atol, epsrel=rtol, limit=200, points=sorted(points))[0]


class _Parts:
    """The mean exit time t from one point, the probability p of leaving by upper (q = 1 - p, by lower), and their
    derivatives dt, dp in the temperature (Langevin only)."""

    __slots__ = ("t", "p", "q", "dt", "dp")

    def __init__(self, t: float, p: float, q: float, dt: float = 0.0, dp: float = 0.0) -> None:
        self.t, self.p, self.q, self.dt, self.dp = t, p, q, dt, dp


def _reflecting(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x: float,
    lower: float,
    upper: float,
    lower_reflecting: bool,
    temperature: float | None,
    mass: tuple[float, float, float] | None,
) -> _Parts:
    """One reflecting end: T(x) = int_x^upper dy int_lower^y K(z, y) dz (lower reflecting: T' = -s(x) int_lower^x m,
    no flux through lower, T(upper) = 0) or its mirror image, K(z, y) = speed(z) exp(psi(y) - psi(z)). With a
    temperature, its derivative too: for Langevin dynamics K = exp(d) / T with d = (U(y) - U(z)) / T, whose
    derivative in T is -(1 + d) exp(d) / T^2, integrated the same way. An infinite reflecting end comes with
    `mass` = (c, log S, S'/S) from `_speed_mass`: the inner integral beyond c is exp(psi(y) - psi(c)) S."""
    T = 1.0 if temperature is None else temperature  # only the derivative's kernels use it
    if mass is not None:
        c, log_s, ds = mass
        lower, upper = (c, upper) if lower_reflecting else (lower, c)
    outer_lo, outer_hi = (x, upper) if lower_reflecting else (lower, x)
    far = lower if lower_reflecting else upper  # the inner integrals' fixed end
    at_far = _layer(dpsi, far, 1.0 if lower_reflecting else -1.0, upper - lower)

    def kernel(z: float, y: float) -> float:
        return speed(z) * math.exp(dpsi(z, y))

    def dkernel(z: float, y: float) -> float:
        d = dpsi(z, y)
        return -(1.0 + d) / (T * T) * math.exp(d)

    def inner(k: Callable[[float, float], float], y: float, atol: float) -> float:
        if lower_reflecting:
            value = _quad_ends(lambda z: k(z, y), lower, y, _RTOL_INNER, at_far, _layer(dpsi, y, -1.0, y - lower),
                               atol)
        else:
            value = _quad_ends(lambda z: k(z, y), y, upper, _RTOL_INNER, _layer(dpsi, y, 1.0, upper - y), at_far,
                               atol)
        if mass is None:
            return value
        d = dpsi(c, y)
        return value + math.exp(d + log_s) * (1.0 if k is kernel else ds - d / T)

    length = outer_hi - outer_lo
    widths = (_layer(dpsi, outer_lo, 1.0, length), _layer(dpsi, outer_hi, -1.0, length))

    def outer(k: Callable[[float, float], float], atol: float = 0.0) -> float:
        # the derivative's kernel changes sign: it is integrated to an absolute tolerance too, 1e-13 of the mean / T
        # (its natural scale), shared out over the outer interval for the inner integrals
        inner_atol = atol / length if length > 0.0 else 0.0
        return _quad_ends(lambda y: inner(k, y, inner_atol), outer_lo, outer_hi, _RTOL_OUTER, *widths, atol)

    t = outer(kernel)
    p, q = (1.0, 0.0) if lower_reflecting else (0.0, 1.0)
    return _Parts(t, p, q) if temperature is None else _Parts(t, p, q, outer(dkernel, 1e-13 * t / T))


def _absorbing(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x: float,
    lower: float,
    upper: float,
    grid: tuple[np.ndarray, np.ndarray],
    temperature: float | None,
) -> _Parts:
    """Both ends absorbing (and finite). T(x) = int G(x, z) m(z) dz with the Green's function
    G = (S(min) - S(lower)) (S(upper) - S(max)) / (S(upper) - S(lower)), S the scale function. Split at z = x:
    T = (1 - p) left + p right, where

        left  = int_lower^x (S(z) - S(lower)) m(z) dz = int_lower^x dz int_lower^z K(z, y) dy,
        right = int_x^upper (S(upper) - S(z)) m(z) dz = int_x^upper dz int_z^upper K(z, y) dy,

    and p = (S(x) - S(lower)) / (S(upper) - S(lower)) is the probability of leaving through upper. All terms are
    positive: no cancellation. Each factor can overflow on its own where the product does not (a far wall high up
    the potential: p ~ e^-720 and right ~ e^720), so each integral is computed with its integrand divided by the
    largest value psi on `grid` gives it, and the products are formed in log scale."""
    xs, psi = grid
    rel = psi - psi[int(np.searchsorted(xs, x))]
    below, above = rel[xs <= x], rel[xs >= x]
    w_l, w_r = float(below.max()), float(above.max())  # largest psi(y) - psi(x) on each side
    drop = float(np.max(np.maximum.accumulate(below) - below))  # largest psi(y) - psi(z), lower <= y <= z <= x
    rise = float(np.max(above - np.minimum.accumulate(above)))  # largest psi(y) - psi(z), x <= z <= y <= upper

    # the widths of the features the integrands can have at the ends: peaks of exp(psi), and the boundary layer
    # of the outer integrands at an absorbing end the drift pushes into (of left near lower, of right near upper)
    length = upper - lower
    at_lower, at_upper = _layer(dpsi, lower, 1.0, length), _layer(dpsi, upper, -1.0, length)
    x_left = _layer(dpsi, x, -1.0, x - lower) if x > lower else math.inf
    x_right = _layer(dpsi, x, 1.0, upper - x) if x < upper else math.inf

    def kernel(shift: float) -> Callable[[float, float], float]:
        return lambda z, y: speed(z) * math.exp(dpsi(z, y) - shift)

    def left_integral(k: Callable[[float, float], float], atol: float = 0.0) -> float:
        inner_atol = atol / (x - lower) if x > lower else 0.0

        def inner(z: float) -> float:
            if not z > lower:
                return 0.0
            return _quad_ends(lambda y: k(z, y), lower, z, _RTOL_INNER, at_lower, _layer(dpsi, z, -1.0, z - lower),
                              inner_atol)

        return _quad_ends(inner, lower, x, _RTOL_OUTER, at_lower, x_left, atol)

    def right_integral(k: Callable[[float, float], float], atol: float = 0.0) -> float:
        inner_atol = atol / (upper - x) if x < upper else 0.0

        def inner(z: float) -> float:
            if not z < upper:
                return 0.0
            return _quad_ends(lambda y: k(z, y), z, upper, _RTOL_INNER, _layer(dpsi, z, 1.0, upper - z), at_upper,
                              inner_atol)

        return _quad_ends(inner, x, upper, _RTOL_OUTER, x_right, at_upper, atol)

    left, right = left_integral(kernel(drop)), right_integral(kernel(rise))
    # S(x) - S(lower) and S(upper) - S(x), scaled by exp(-psi(x) - w)
    s_l = _quad_ends(lambda y: math.exp(dpsi(x, y) - w_l), lower, x, _RTOL_INNER, at_lower, x_left)
    s_r = _quad_ends(lambda y: math.exp(dpsi(x, y) - w_r), x, upper, _RTOL_INNER, x_right, at_upper)
    if not all(math.isfinite(v) for v in (left, right, s_l, s_r)):  # an area beyond floating point
        raise ValueError(_TOO_LARGE)
    log_l, log_r = w_l + _log(s_l), w_r + _log(s_r)
    log_total = float(np.logaddexp(log_l, log_r))
    p, q = math.exp(log_l - log_total), math.exp(log_r - log_total)
    a = math.exp(log_r - log_total + drop + _log(left))  # (1 - p) left
    b = math.exp(log_l - log_total + rise + _log(right))  # p right
    if temperature is None:
        return _Parts(a + b, p, q)
    # Langevin: K = exp(d) / T, d = (U(y) - U(z)) / T, so dK/dT = -(1 + d) exp(d) / T^2, and the scale weights
    # exp((U(y) - U(x)) / T) have derivative -(d / T) exp(d). With L = left, R = right, w_l, w_r the weights:
    # dT/dT = (1 - p) L' + p R' + p' (R - L) and p' = p (1 - p) (w_l' / w_l - w_r' / w_r), where every ratio is
    # one of integrals with the same scale factor.
    T = temperature

    def dkernel(shift: float) -> Callable[[float, float], float]:
        def k(z: float, y: float) -> float:
            d = dpsi(z, y)
            return -(1.0 + d) / (T * T) * math.exp(d - shift)

        return k

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0.0 else 0.0

    # the derivatives' kernels change sign: integrated to an absolute tolerance too, 1e-13 of the mean / T
    dleft = left_integral(dkernel(drop), 1e-13 * left / T)
    dright = right_integral(dkernel(rise), 1e-13 * right / T)
    ds_l = _quad_ends(lambda y: -dpsi(x, y) / T * math.exp(dpsi(x, y) - w_l), lower, x, _RTOL_INNER, at_lower,
                      x_left, 1e-14 * s_l / T)
    ds_r = _quad_ends(lambda y: -dpsi(x, y) / T * math.exp(dpsi(x, y) - w_r), x, upper, _RTOL_INNER, x_right,
                      at_upper, 1e-14 * s_r / T)
    r = ratio(ds_l, s_l) - ratio(ds_r, s_r)
    dt = a * ratio(dleft, left) + b * ratio(dright, right) + r * (q * b - p * a)
    return _Parts(a + b, p, q, dt, p * q * r)


def _finite(solve: Callable[..., Any]) -> Callable[..., Any]:
    """`solve` raising ValueError where the quadrature has no finite answer: an integrand of NaN, or an answer (or
    a factor exp(psi) of its integrands) beyond floating point. scipy's IntegrationWarnings on the way to such a
    refusal are dropped (the ValueError says what went wrong); those of an answer are passed on."""

    @functools.wraps(solve)
    def checked(*args: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IntegrationWarning)
            out = _finite_value(solve, args)
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        return out

    return checked


def _finite_value(solve: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        out = solve(*args)
    except OverflowError as exc:
        raise ValueError(f"the mean exit time has no finite floating-point value: exp((U(y) - U(z)) / T), or its "
                         f"analogue for the drift, overflowed ({exc}) where the answer needs it; the barrier is too "
                         "high for this temperature (a mean exit time beyond about 1e308)") from None
    if np.isnan(out).any():
        raise ValueError("the mean exit time came out NaN: the potential (or drift and noise) returned NaN inside "
                         "the interval, or infinite values whose difference is undefined (a potential that "
                         "overflows on [lower, upper])")
    if np.isinf(out).any():
        raise ValueError(_TOO_LARGE)
    return out


_TOO_LARGE = ("the mean exit time has no finite floating-point value: it overflowed (beyond about 1.8e308); the "
              "interval is too long for the noise, or the barrier too high for the temperature")


def _prepare(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x0: ArrayLike,
    lower: float,
    upper: float,
    lower_boundary: str,
    upper_boundary: str,
    temperature: float | None,
) -> tuple[np.ndarray, float, float, dict[str, tuple[float, float, float]], tuple[np.ndarray, np.ndarray] | None,
           tuple[float, float, float] | None]:
    """The checks shared by the mean and its derivative: (x, lo, hi, cuts, grid, mass), with an infinite absorbing
    end replaced by its cut (cuts[name] = (c, tail, dtail)), the mass of the speed measure towards an infinite
    reflecting end (`_speed_mass`: ValueError where it is infinite), and psi on a grid of (lo, hi) when both ends
    are absorbing."""
    lower, upper = _check_interval(lower, upper, lower_boundary, upper_boundary)
    x = _check_x0(x0, lower, upper)
    ends = (("lower", lower, lower_boundary, -1.0), ("upper", upper, upper_boundary, 1.0))
    cuts = {name: _deterministic_tail(dpsi, speed, x, sign, lower, upper, name)
            for name, end, kind, sign in ends if math.isinf(end) and kind == "absorbing"}
    lo = cuts["lower"][0] if "lower" in cuts else lower
    hi = cuts["upper"][0] if "upper" in cuts else upper
    mass = None
    for name, end, kind, sign in ends:
        if math.isinf(end) and kind == "reflecting" and x.size:
            mass = _speed_mass(dpsi, speed, x, sign, lo, hi, name, temperature)
    both = lower_boundary == upper_boundary == "absorbing"
    return x, lo, hi, cuts, (_psi_grid(dpsi, lo, hi, x.ravel()) if both else None), mass


def _one(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x: float,
    lo: float,
    hi: float,
    lower_boundary: str,
    grid: tuple[np.ndarray, np.ndarray] | None,
    temperature: float | None,
    mass: tuple[float, float, float] | None,
) -> _Parts:
    if grid is None:
        return _reflecting(dpsi, speed, x, lo, hi, lower_boundary == "reflecting", temperature, mass)
    return _absorbing(dpsi, speed, x, lo, hi, grid, temperature)


@_finite
def _solve(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x0: ArrayLike,
    lower: float,
    upper: float,
    lower_boundary: str,
    upper_boundary: str,
    temperature: float | None = None,
) -> float | np.ndarray:
    """The mean exit time, or with a temperature (Langevin only: psi = U / T, speed 1 / T) its derivative in it.

    An absorbing end at infinity is the threshold of a process that explodes (a noisy fold, a quadratic
    integrate-and-fire neuron): the path must pass a far point c on its way, so the mean time is that to an absorbing
    c plus, weighted by the probability of leaving there, the mean time from c to infinity (`_deterministic_tail`)."""
    x, lo, hi, cuts, grid, mass = _prepare(dpsi, speed, x0, lower, upper, lower_boundary, upper_boundary,
                                           temperature)
    none = (0.0, 0.0, 0.0)
    _, tail_lo, dtail_lo = cuts.get("lower", none)
    _, tail_hi, dtail_hi = cuts.get("upper", none)
    out = np.empty(x.shape)
    for i, xi in enumerate(x.flat):
        r = _one(dpsi, speed, float(xi), lo, hi, lower_boundary, grid, temperature, mass)
        if temperature is None:
            out.flat[i] = r.t + r.q * tail_lo + r.p * tail_hi
        else:
            out.flat[i] = r.dt - r.dp * tail_lo + r.q * dtail_lo + r.dp * tail_hi + r.p * dtail_hi
    return float(out) if out.ndim == 0 else out


# Towards an infinite reflecting end the speed measure m must have finite mass: it is summed over blocks of doubling
# length until the blocks fall off geometrically and what remains is below _MASS_RTOL of the sum; blocks beyond
# _FAR, or a sum that keeps growing to there, mean an infinite mean exit time. The sum replaces the integral to
# infinity in the mean exit time, which a quadrature on a mapped interval gets wrong, silently, for a slowly
# decaying m (1e-4 for m ~ |z|^-1.1).
_MASS_RTOL = 1e-13
_FAR = 1e300


def _speed_mass(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x: np.ndarray,
    sign: float,
    lo: float,
    hi: float,
    name: str,
    temperature: float | None,
) -> tuple[float, float, float]:
    """(c, log S, S'/S) for the reflecting end at sign * infinity (the other end, lo or hi, absorbing and finite):
    c the start farthest from the absorbing end, S = int from c to the end of speed(z) exp(psi(c) - psi(z)) dz, the
    mass of the speed measure beyond c relative to exp(-psi(c)), and with a temperature (Langevin) its relative
    derivative in it. ValueError where S is infinite, and where the mean exit time from the start nearest the
    absorbing end, at least M(c) (S(end) - S(x)), overflows."""
    c = float(x.min()) if sign < 0 else float(x.max())
    near = float(x.max()) if sign < 0 else float(x.min())  # the start nearest the absorbing end
    end = hi if sign < 0 else lo
    log_w = dpsi(c, near) + _log_scale(dpsi, near, min(near, end), max(near, end))
    width = max(1.0, abs(c))
    where = f"{name}={sign * math.inf}"
    infinite = ValueError(
        f"the mean exit time is infinite: {where} is reflecting, but the speed measure m = 2 exp(-psi) / sigma^2 "
        f"(for Langevin dynamics exp(-U / T) / T) is not integrable towards it (its mass grows without bound, or "
        f"falls off too slowly to sum in floating point, out to |x| = {_FAR:g}): the process wanders off there and "
        "takes infinitely long on average to come back (Brownian motion on a half-line, a drift away from the "
        f"absorbing end, a potential that grows slower than T log|x|); use a finite {name}")
    log_t = math.log(temperature) if temperature is not None else 0.0

    def log_m(z: float, e: float, psi_e: float) -> float:  # log(m(z) / exp(-psi(c))), psi_e = psi(e) - psi(c)
        return math.log(speed(z)) - psi_e - dpsi(e, z)

    e, psi_e, log_sum = c, 0.0, -math.inf
    blocks: list[float] = []
    derivative: list[tuple[float, float]] = []  # (shift, scaled integral of the derivative of m in T)
    for k in range(2000):
        nxt = c + sign * width * 2.0**k
        if not abs(nxt) <= _FAR:
            raise infinite
        psi_next = psi_e + dpsi(e, nxt)
        if math.isnan(psi_next):
            raise ValueError(f"the exponent psi of the scale density came out NaN between {e} and {nxt} (towards "
                             f"{where}): a potential (or drift) that is NaN, or infinite with an undefined difference")
        a, b = min(e, nxt), max(e, nxt)
        samples = [log_m(z, e, psi_e) for z in np.linspace(a, b, 9).tolist()]
        shift = max(samples)
        if math.isnan(shift):
            raise ValueError(f"the speed measure came out NaN between {a} and {b} (towards {where})")
        if shift == -math.inf:
            log_block = -math.inf
        else:
            def scaled(z: float, e: float = e, psi_e: float = psi_e, a: float = a, b: float = b) -> float:
                return math.exp(log_m(z, e, psi_e) - shift)

            try:
                value = _quad(scaled, a, b, _RTOL_INNER)
            except OverflowError:  # a peak between the samples: take the scale from a grid of psi on the block
                xs, psi = _psi_grid(dpsi, a, b, np.array([e]))
                at_e = float(psi[int(np.searchsorted(xs, e))])
                shift = max(shift, max(math.log(speed(z)) - psi_e - (v - at_e) for z, v in zip(xs.tolist(), psi)))
                value = _quad(scaled, a, b, _RTOL_INNER)
            log_block = shift + _log(value)
            if temperature is not None and value > 0.0:
                # m = exp(d) / T with d = psi(c) - psi(z) = log m + log T: dm/dT = -(1 + d) m / T
                T = temperature

                def dscaled(z: float, e: float = e, psi_e: float = psi_e, shift: float = shift) -> float:
                    lm = log_m(z, e, psi_e)
                    return -(1.0 + lm + log_t) / T * math.exp(lm - shift)

                derivative.append((shift, _quad(dscaled, a, b, _RTOL_INNER, 1e-14 * value / T)))
        log_sum = float(np.logaddexp(log_sum, log_block))
        if log_sum + log_w > _LOG_MAX:
            raise ValueError(
                f"the mean exit time has no finite floating-point value: from x0={near} it is at least exp("
                f"{log_sum + log_w:.6g}) (the mass of the speed measure towards {where}, times the scale "
                "S(end) - S(x0) up to the absorbing end), which overflowed; the process drifts off towards "
                f"{where} (an infinite mean), or the barrier is too high for the temperature")
        blocks.append(log_block)
        done = False
        if len(blocks) >= 3 and blocks[-1] < blocks[-2] < blocks[-3]:  # falling off: is the rest negligible?
            # the geometric rest ratio / (1 - ratio) of the last block, in logarithms: the ratio underflows to 0
            # where the blocks fall off by e^-745 (a deep well at a low temperature)
            log_ratio = max(blocks[-1] - blocks[-2], blocks[-2] - blocks[-3])
            done = blocks[-1] + log_ratio - math.log1p(-math.exp(log_ratio)) < log_sum + math.log(_MASS_RTOL)
        if not done and (psi_next == math.inf or log_block == -math.inf):
            # exp(-psi) is 0 from here on (psi = U / T infinite): the mass is finite if it was falling off clearly
            # (by e^-0.5 a block at least); otherwise the potential more likely overflowed than turned into a wall
            if not (len(blocks) < 3 or blocks[-2] <= blocks[-3] - 0.5):
                raise ValueError(
                    f"the mean exit time is infinite, or beyond what floating point can decide: the mass of the "
                    f"speed measure towards {where} kept growing out to |x| = {abs(nxt):.3g}, where the potential "
                    "(or psi) became infinite; it is not integrable, or the potential overflows before its mass "
                    f"converges; use a finite {name}")
            done = True
        if done:
            ds = sum(math.exp(sh - log_sum) * v for sh, v in derivative)
            return c, log_sum, ds
        e, psi_e = nxt, psi_next
    raise infinite


# The mean time from the cut c to an absorbing end at infinity: with b = sigma^2 / 2, g = -T' solves
# g = (1 - b g') / a, whose solution that stays bounded is the series g = 1/a + b a'/a^3 - (b/a)(b a'/a^3)' + ...,
# each term smaller by eps = b |a'| / a^2 (and |b'| / |a|). The cut is placed where eps <= _TAIL_EPS, and the
# first three terms are integrated to infinity (the first analytically by parts): the error is of order
# eps^3 = 1e-12 of the tail.
_TAIL_EPS = 1e-4


def _deterministic_tail(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x: np.ndarray,
    sign: float,
    lower: float,
    upper: float,
    name: str,
) -> tuple[float, float, float]:
    """For an absorbing end at sign * infinity: (c, tail, dtail), a cut c beyond every start and the other end
    where the drift points outward and the expansion of the mean time from c to infinity in the noise converges
    fast (eps <= 1e-4), that mean time, and its derivative in T for Langevin dynamics (b = T). ValueError naming
    the end if there is no such cut or the tail is infinite."""

    def drift(y: float) -> float:  # a = -(dpsi / dy) / speed, by a central difference of psi
        h = 1e-5 * max(1.0, abs(y))
        return -dpsi(y - h, y + h) / (2 * h) / speed(y)

    # in the coordinate t = sign * y, in which the end is at +infinity: drift A, half the noise variance B
    def A(t: float) -> float:
        return sign * drift(sign * t)

    def B(t: float) -> float:
        return 1.0 / speed(sign * t)

    def slope(f: ScalarFunction, t: float) -> float:
        h = 1e-3 * max(1.0, abs(t))
        return (f(t + h) - f(t - h)) / (2 * h)

    finite = [abs(v) for v in (*x.flat, lower, upper) if math.isfinite(v)]
    t = max(1.0, 2.0 * max(finite, default=1.0))
    refuse = ValueError(
        f"{name}={sign * math.inf} is infinite and absorbing, but the drift does not carry the process there in "
        f"finite time (it must point outward and grow faster than |x| so that the deterministic tail, the "
        f"integral of dx / |drift|, converges); pass {name}_boundary='reflecting' or a finite {name}"
    )

    class _Inward(Exception):
        pass

    def A_out(s: float) -> float:
        value = A(s)
        if not value > 0.0:
            raise _Inward
        return value

    for _ in range(200):
        try:
            a, b = A(t), B(t)
            good = a > 0 and max(abs(b * slope(A, t)) / (a * a), abs(slope(B, t)) / a) <= _TAIL_EPS
        except (OverflowError, ZeroDivisionError):
            raise refuse from None
        if good:
            break
        t *= 1.25
    else:
        raise refuse

    def F(s: float) -> float:  # b a' / a^3
        return B(s) * slope(A, s) / A_out(s) ** 3

    def tail_integral(f: ScalarFunction, atol: float = 0.0) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("error", IntegrationWarning)
            try:
                value = quad(f, t, math.inf, epsabs=atol, epsrel=1e-11 if atol == 0.0 else 1e-6, limit=200)[0]
            except (IntegrationWarning, OverflowError, ZeroDivisionError, _Inward):
                raise refuse from None
        if not math.isfinite(value):
            raise refuse
        return value

    term0 = tail_integral(lambda s: 1.0 / A_out(s))
    atol = 1e-13 * term0  # the corrections are small (eps and eps^2 of term0): enough of them, absolutely
    # int b a' / a^3 = b / (2 a^2) at the cut + int b' / (2 a^2)
    term1 = b / (2 * a * a) + tail_integral(lambda s: slope(B, s) / (2 * A_out(s) ** 2), atol)
    # -int (b/a) F' = (b/a) F at the cut + int F (b/a)'
    term2 = b * F(t) / a + tail_integral(
        lambda s: F(s) * (slope(B, s) / A_out(s) - B(s) * slope(A, s) / A(s) ** 2), atol)
    # Langevin dynamics: b = T, a independent of it, so term1 scales as T and term2 as T^2
    return sign * t, term0 + term1 + term2, (term1 + 2.0 * term2) / b


def mean_exit_time_1d(
    drift: ScalarFunction | float,
    noise_variance: ScalarFunction | float,
    x0: ArrayLike,
    lower: float,
    upper: float,
    *,
    lower_boundary: str = "absorbing",
    upper_boundary: str = "absorbing",
) -> float | np.ndarray:
    """Mean first-exit time of a one-dimensional diffusion from an interval.

    The process is ``dX = a(X) dt + sigma(X) dW`` started at ``x0``; it exits
    when it reaches an absorbing end of ``(lower, upper)`` and is pushed back
    at a reflecting end.

    Parameters
    ----------
    drift : callable or float
        The drift ``a(x)``; a float means a constant drift.
    noise_variance : callable or float
        The squared diffusion coefficient ``sigma(x)**2``, positive on the
        interval; a float means a constant.
    x0 : float or array_like
        Starting point(s), inside ``[lower, upper]``.
    lower, upper : float
        Ends of the interval; ``lower`` may be ``-inf`` and ``upper`` may be
        ``+inf``: reflecting there means the process cannot exit there (the
        speed measure must then have finite mass towards that end; ValueError
        otherwise, the mean exit time being infinite); absorbing means a
        threshold at infinity, reached in finite time when the drift explodes
        (the deterministic tail, the integral of ``dx / |a|``, converges;
        ValueError otherwise).
    lower_boundary, upper_boundary : {"absorbing", "reflecting"}
        Behaviour at each end; at least one end must be absorbing.

    Returns
    -------
    float or numpy.ndarray
        The mean exit time, with the shape of ``x0``.

    Raises
    ------
    ValueError
        For an empty interval, an unknown boundary, an infinite absorbing end
        the process does not reach in finite mean time, an infinite reflecting
        end towards which the speed measure is not integrable (an infinite
        mean exit time: Brownian motion on a half-line, a drift away from the
        absorbing end), an answer beyond floating point (about 1e308), two
        reflecting ends, ``x0`` outside the interval or not finite, or a noise
        variance that is not positive.
    TypeError
        For a drift or noise variance that does not return one number at a
        point.

    Notes
    -----
    The exponent ``psi(y) - psi(z) = -int_z^y 2 a / sigma^2`` is itself
    computed by quadrature, so each value costs a triply nested quadrature;
    use :func:`langevin_mean_exit_time_1d` when the drift is a gradient.  The
    quadratures run at a relative tolerance of 1e-10 (1e-12 inside).  The
    mean exit time must be finite: towards an infinite reflecting end the
    speed measure ``m`` must be integrable.  Its mass there is summed over
    blocks of doubling length until they fall off geometrically (to 1e-13 of
    the sum); a mass that keeps growing out to ``|x| = 1e300``, or falls off
    too slowly to converge before, is refused as infinite.  With two absorbing
    ends each integral is scaled by the largest value of its kernel on a grid
    of ``psi``, so a far wall high up the potential (whose factors
    ``exp(psi(y) - psi(z))`` alone would overflow) still gives its finite
    answer. ``ValueError`` is raised where the answer itself exceeds
    floating point, or where a kernel that the answer needs does
    (``psi(y) - psi(z)`` beyond about 709 where it counts: an astronomically
    large answer). An infinite absorbing end is cut at a point ``c`` beyond
    the starts where ``eps = (sigma^2 / 2) |a'| / a^2`` (and
    ``|(sigma^2)'| / (2 |a|)``) is below 1e-4; the mean time from ``c`` to
    infinity is the expansion ``int 1/a + (sigma^2/2) a' / a^3 + ...`` to
    second order in ``eps``, whose error is of order ``eps^3`` = 1e-12 of it.

    Examples
    --------
    >>> round(mean_exit_time_1d(0.0, 1.0, 0.5, 0.0, 1.0), 12)
    0.25
    """
    dpsi, speed = _diffusion_psi(drift, noise_variance)
    return _solve(dpsi, speed, x0, lower, upper, lower_boundary, upper_boundary)


def _diffusion_psi(
    drift: ScalarFunction | float, noise_variance: ScalarFunction | float
) -> tuple[Callable[[float, float], float], ScalarFunction]:
    """``dpsi(z, y) = psi(y) - psi(z) = -int_z^y 2 a / sigma^2`` (by quadrature) and ``speed(z) = 2 / sigma^2(z)``
    of the diffusion ``dX = a(X) dt + sigma(X) dW``, with a constant given as a float."""
    if isinstance(drift, Drift):  # a 1-D drift b(x): its field, as it is
        _check_landscape_dim(drift, "drift")
        field = drift
        drift = lambda x: float(field.field([x])[0])  # noqa: E731
    # Non-finite values are refused where they appear: NaN or inf in a nested quadrature makes it subdivide to its
    # limit at every level, which takes hours.
    a: ScalarFunction = _finite_function(drift, "drift") if callable(drift) else _constant(as_float("drift", drift))
    variance: ScalarFunction = (
        noise_variance if callable(noise_variance) else _constant(_positive(noise_variance, "noise_variance"))
    )

    def speed(z: float) -> float:  # 2 / sigma^2(z)
        v = _number(variance(z), "noise_variance", z)
        if not (v > 0.0 and math.isfinite(v) and math.isfinite(2.0 / v)):
            raise ValueError(f"noise_variance must be positive and finite, and 2 / noise_variance finite (above "
                             f"{2 / np.finfo(float).max:.3g}), got {v} at x={z}")
        return 2.0 / v

    def dpsi(z: float, y: float) -> float:  # psi(y) - psi(z)
        value = -_quad(lambda u: a(u) * speed(u), z, y, _RTOL_PSI, _ATOL_PSI)
        if not math.isfinite(value):  # an infinite exponent would make the outer quadratures subdivide for hours
            raise ValueError(f"the exponent psi(y) - psi(z) = -int_z^y 2 a / sigma^2 came out {value} between "
                             f"z={z} and y={y}: the drift is too strong for the noise over [lower, upper]")
        return value

    return dpsi, speed


def langevin_mean_exit_time_1d(
    potential: ScalarFunction | Landscape,
    temperature: float,
    x0: ArrayLike,
    lower: float,
    upper: float,
    *,
    lower_boundary: str = "absorbing",
    upper_boundary: str = "absorbing",
) -> float | np.ndarray:
    """Mean first-exit time of overdamped Langevin dynamics from an interval.

    The process is ``dX = -U'(X) dt + sqrt(2 T) dW``.  This is the special
    case of :func:`mean_exit_time_1d` with ``a = -U'`` and ``sigma^2 = 2 T``,
    where ``psi = U / T`` is known in closed form; it is faster and more
    accurate than passing the drift.

    Parameters
    ----------
    potential : callable or escapade Landscape
        The potential ``U(x)`` (a landscape must be 1-D).
    temperature : float
        The temperature ``T > 0``.
    x0 : float or array_like
        Starting point(s), inside ``[lower, upper]``.
    lower, upper : float
        Ends of the interval; an infinite end is reflecting where
        ``exp(-U / T)`` is integrable towards it (ValueError otherwise: the
        mean exit time is infinite, as for a flat potential or one that
        grows slower than ``T log|x|``), or absorbing where the potential
        falls fast enough that the process reaches it in finite time (see
        :func:`mean_exit_time_1d`).
    lower_boundary, upper_boundary : {"absorbing", "reflecting"}
        Behaviour at each end; at least one end must be absorbing.

    Returns
    -------
    float or numpy.ndarray
        The mean exit time, with the shape of ``x0``.

    Raises
    ------
    ValueError
        As :func:`mean_exit_time_1d` (an infinite mean exit time included),
        and for a temperature that is not positive.

    Examples
    --------
    Escape from the left well of ``U = x^4/4 - x^2/2`` over the barrier at 0:

    >>> t = langevin_mean_exit_time_1d(lambda x: x**4 / 4 - x**2 / 2, 1 / 16,
    ...     -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    >>> round(t, 3)
    135.783
    """
    u = _potential_function(potential)
    temperature = _positive(temperature, "temperature")

    def dpsi(z: float, y: float) -> float:
        return (u(y) - u(z)) / temperature

    inv_t = 1.0 / temperature
    return _solve(
        dpsi, lambda _z: inv_t, x0, lower, upper, lower_boundary, upper_boundary
    )


def langevin_mean_exit_time_derivative_1d(
    potential: ScalarFunction | Landscape,
    temperature: float,
    x0: ArrayLike,
    lower: float,
    upper: float,
    *,
    lower_boundary: str = "absorbing",
    upper_boundary: str = "absorbing",
) -> float | np.ndarray:
    """The derivative in the temperature of :func:`langevin_mean_exit_time_1d`, d E[tau] / dT.

    Every integral of the mean exit time is differentiated under the integral sign: its kernel
    ``exp((U(y) - U(z)) / T) / T`` becomes ``-(1 / T^2 + (U(y) - U(z)) / T^3) exp((U(y) - U(z)) / T)``, integrated
    by the same nested quadrature. With both ends absorbing the weights ``p`` and ``1 - p`` of the two sides
    depend on T as well: with ``p = w_l / (w_l + w_r)``, ``w`` integrals of ``exp((U(y) - U(x0)) / T)``,
    ``dE[tau]/dT = (1 - p) L' + p R' + p' (R - L)`` and ``p' = p (1 - p) (w_l' / w_l - w_r' / w_r)``, every
    factor scaled as in the mean. The accuracy is that of the quadratures, about 1e-10 of ``E[tau] / T`` (the
    size of the terms), so relative wherever the derivative is not much smaller than that, at low temperature
    too (1e-14 against the closed form at a barrier of 100 T). An infinite absorbing end adds the derivative of
    its tail beyond the cut (the expansion in the noise, whose terms scale as T and T^2).

    Parameters, boundaries and errors as :func:`langevin_mean_exit_time_1d`: in particular ``ValueError`` where
    the mean exit time itself is infinite (a reflecting end at infinity with a speed measure of infinite mass,
    an infinite absorbing end the process does not reach) or beyond floating point. Used to check the
    likelihood-ratio derivative of `simulate(..., sensitivities=["dynamics.temperature"])`
    (docs/sensitivities.md).
    """
    u = _potential_function(potential)
    temperature = _positive(temperature, "temperature")

    def dpsi(z: float, y: float) -> float:
        return (u(y) - u(z)) / temperature

    inv_t = 1.0 / temperature
    return _solve(dpsi, lambda _z: inv_t, x0, lower, upper, lower_boundary, upper_boundary, temperature)


def brownian_ball_exit_time(
    x0: ArrayLike,
    radius: float,
    *,
    temperature: float,
    center: ArrayLike | None = None,
) -> float:
    """Mean exit time of ``dX = sqrt(2 T) dW`` from a ball in ``d`` dimensions.

    The answer is ``(radius^2 - |x0 - center|^2) / (2 d T)``.

    Parameters
    ----------
    x0 : array_like, shape (d,)
        Starting point, inside the closed ball.
    radius : float
        Radius of the ball, positive.
    temperature : float
        The temperature ``T > 0``.
    center : array_like, shape (d,), optional
        Centre of the ball; the origin by default.

    Returns
    -------
    float
        The mean exit time.

    Raises
    ------
    ValueError
        For a non-finite or non-1-D ``x0``, a ``center`` of another shape,
        ``radius`` or ``temperature`` not positive, or ``x0`` outside the ball.

    Examples
    --------
    >>> brownian_ball_exit_time([0.0, 0.0, 0.0], 1.0, temperature=0.5)
    0.3333333333333333
    """
    x = as_array("x0", x0, ndim=1)
    radius = _positive(radius, "radius")
    temperature = _positive(temperature, "temperature")
    c = np.zeros_like(x) if center is None else as_array("center", center, ndim=1)
    if c.shape != x.shape:
        raise ValueError(
            f"center must be finite with the shape of x0 {x.shape}, got center={center!r}"
        )
    with np.errstate(over="ignore"):  # an overflow is refused below
        r2 = float(np.sum((x - c) ** 2))
        out = (radius * radius - r2) / (2.0 * x.size * temperature)
    if r2 > radius * radius:
        raise ValueError(
            f"x0 must lie inside the ball: |x0 - center| = {math.sqrt(r2)} > radius = {radius}"
        )
    if not math.isfinite(out):
        raise ValueError(f"the mean exit time radius^2 / (2 d temperature) overflows floating point: radius={radius} "
                         f"too large or temperature={temperature} too small")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Linear SDEs in a disk or an ellipse: a spectral solve of L u = -1.

# The radial and angular node counts of the automatic refinement: each solve is compared with the one before it,
# and the direction(s) whose spectral tail is not yet below rtol move one level up.
_RADIAL_LEVELS = (8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96)
_ANGULAR_LEVELS = (16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384)


# The operator is built in extended precision (long double: 64-bit mantissa on x86) and the solution refined
# against it: the collocation matrix has a condition number of order n^4 times the mean exit time, so a plain
# double-precision solve loses digits as the noise falls.
_EXT = np.longdouble
_PI = 4 * np.arctan(_EXT(1))


def _chebyshev(n: int) -> np.ndarray:
    """The differentiation matrix on the n + 1 Chebyshev points cos(pi j / n) of [-1, 1], in long double."""
    j = np.arange(n + 1)
    x = np.cos(_PI * j.astype(_EXT) / n)
    c = np.where((j == 0) | (j == n), 2.0, 1.0).astype(_EXT) * (-1.0) ** j
    D = np.outer(c, 1 / c) / (x[:, None] - x[None, :] + np.eye(n + 1, dtype=_EXT))
    D -= np.diag(D.sum(axis=1))
    return D


def _fourier(m: int) -> tuple[np.ndarray, np.ndarray]:
    """First and second differentiation matrices of the trigonometric interpolant on m (even) equispaced angles."""
    h = 2 * _PI / m
    k = (np.arange(m)[:, None] - np.arange(m)[None, :]) % m
    sign = (-1.0) ** k
    off = k != 0
    kh = np.where(off, k * h / 2, _EXT(1))
    D1 = np.where(off, 0.5 * sign / np.tan(kh), _EXT(0))
    D2 = np.where(off, -0.5 * sign / np.sin(kh) ** 2, -_PI**2 / (3 * h**2) - _EXT(1) / 6)
    return D1, D2


def _disk_solve(A: np.ndarray, b: np.ndarray, d: np.ndarray, nr: int, m: int) -> np.ndarray:
    """u on the polar grid (nr radii in (0, 1], m angles) solving
    -(A y + b) . grad u + (1/2) (d_1 u_11 + d_2 u_22) = -1 in the unit disk, u = 0 on the circle.

    Collocation in r on the Chebyshev points of [-1, 1] (2 nr of them, so none at r = 0) with the fold
    u(-r, theta) = u(r, theta + pi), and Fourier in theta (Trefethen, Spectral Methods in MATLAB, ch. 11)."""
    n = 2 * nr - 1
    Dr = _chebyshev(n)
    Drr = Dr @ Dr
    r = np.cos(_PI * np.arange(nr).astype(_EXT) / n)
    T1, T2 = _fourier(m)
    PT1 = np.roll(T1, -(m // 2), axis=0)  # row k of T1 at the opposite angle k + m/2
    theta = 2 * _PI * np.arange(m).astype(_EXT) / m
    A, b, d = (np.asarray(v, dtype=_EXT) for v in (A, b, d))
    R = r[:, None]
    c, s = np.cos(theta)[None, :], np.sin(theta)[None, :]
    v1 = -(A[0, 0] * R * c + A[0, 1] * R * s + b[0])  # the drift in Cartesian components
    v2 = -(A[1, 0] * R * c + A[1, 1] * R * s + b[1])
    h1, h2 = d[0] / 2, d[1] / 2
    # (1/2) (d1 u_11 + d2 u_22) - v . grad u in polar coordinates
    a_rr = h1 * c**2 + h2 * s**2
    a_r = (h1 * s**2 + h2 * c**2) / R + v1 * c + v2 * s
    a_tt = (h1 * s**2 + h2 * c**2) / R**2
    a_rt = 2 * s * c * (h2 - h1) / R
    a_t = 2 * s * c * (h1 - h2) / R**2 + (v2 * c - v1 * s) / R
    a_rr, a_r, a_tt, a_rt, a_t = np.broadcast_arrays(a_rr, a_r, a_tt, a_rt, a_t)
    # rows and columns of the interior nodes only: u = 0 on the circle (node r = 1 and its opposite r = -1)
    inside, opposite = np.arange(1, nr), n - np.arange(1, nr)
    blocks = np.zeros((nr - 1, m, nr - 1, m), dtype=_EXT)
    k = np.arange(m)
    k_opp = (k + m // 2) % m
    for row, i in enumerate(inside):
        blocks[row, k, :, k] += a_rr[i][:, None] * Drr[i, inside] + a_r[i][:, None] * Dr[i, inside]
        blocks[row, k, :, k_opp] += a_rr[i][:, None] * Drr[i, opposite] + a_r[i][:, None] * Dr[i, opposite]
        blocks[row, :, row, :] += a_tt[i][:, None] * T2 + a_t[i][:, None] * T1
        if h1 != h2:
            blocks[row] += a_rt[i][:, None, None] * (Dr[i, inside][None, :, None] * T1[:, None, :]
                                                     + Dr[i, opposite][None, :, None] * PT1[:, None, :])
    L = blocks.reshape((nr - 1) * m, (nr - 1) * m)
    rhs = -np.ones(L.shape[0], dtype=_EXT)
    lu = scipy.linalg.lu_factor(L.astype(np.float64), overwrite_a=True, check_finite=False)
    x = np.zeros(L.shape[0], dtype=_EXT)
    last = np.inf
    for _ in range(_REFINE):  # iterative refinement with the residual in long double
        dx = scipy.linalg.lu_solve(lu, (rhs - L @ x).astype(np.float64), check_finite=False)
        x += dx
        size = float(np.abs(dx).max() / np.abs(x).max())
        # done (the answer is returned in double precision), or at the floor of the long-double residual (or NaN)
        if not (size > 1e-16 and size < last / 4):
            break
        last = size
    u = np.zeros((nr, m))
    u[1:] = x.astype(np.float64).reshape(nr - 1, m)
    return u


_REFINE = 8  # rounds at most; each gains the digits that the double-precision LU keeps


def _disk_evaluate(u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The interpolant of grid values u (nr radii, m angles) at the points y (p, 2) of the closed unit disk:
    trigonometric in the angle, then barycentric Chebyshev along the diameter through each point."""
    nr, m = u.shape
    n = 2 * nr - 1
    rho = np.minimum(np.hypot(y[:, 0], y[:, 1]), 1.0)
    phi = np.arctan2(y[:, 1], y[:, 0])
    coef = np.fft.fft(u, axis=1) / m
    freq = np.fft.fftfreq(m, 1.0 / m)
    freq[m // 2] = 0.0  # the Nyquist mode enters as cos(m theta / 2)
    nyquist = coef[:, m // 2].real.copy()
    coef[:, m // 2] = 0.0

    def along(angle: np.ndarray) -> np.ndarray:  # (nr, p): each radius at the given angles
        return (coef @ np.exp(1j * np.outer(freq, angle))).real + nyquist[:, None] * np.cos(m / 2 * angle)[None, :]

    line = np.concatenate([along(phi), along(phi + np.pi)[::-1]])  # values at r_0 .. r_n along the diameter
    x = np.cos(np.pi * np.arange(n + 1) / n)
    w = (-1.0) ** np.arange(n + 1)
    w[0] /= 2
    w[-1] /= 2
    diff = rho[None, :] - x[:, None]
    exact = diff == 0
    diff[exact] = 1.0
    q = w[:, None] / diff
    out = (q * line).sum(axis=0) / q.sum(axis=0)
    hit = exact.any(axis=0)
    out[hit] = line[np.argmax(exact[:, hit], axis=0), np.nonzero(hit)[0]]
    return out


def _tails(u: np.ndarray) -> tuple[float, float]:
    """The largest of the last four Chebyshev coefficients along the diameters and of the four highest Fourier
    coefficients around the circles, relative to max |u|: how far the radial and the angular resolution are
    from resolving u."""
    nr, m = u.shape
    n = 2 * nr - 1
    scale = float(np.abs(u).max()) or 1.0
    fourier = np.abs(np.fft.fft(u, axis=1)) / m
    k = np.arange(m)
    angular = float(fourier[:, np.minimum(k, m - k) >= m // 2 - 3].max())
    diameters = np.concatenate([u[:, : m // 2], u[::-1, m // 2:]])  # n + 1 values along each diameter
    chebyshev = np.abs(scipy.fft.dct(diameters, type=1, axis=0)) / n
    radial = float(chebyshev[n - 3:].max())
    return radial / scale, angular / scale


def _resolution(value: object) -> tuple[int, int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        nr = as_int("resolution", value, minimum=4)
        return nr, 2 * nr
    if isinstance(value, (tuple, list)) and len(value) == 2:
        nr = as_int("resolution[0]", value[0], minimum=4)
        m = as_int("resolution[1]", value[1], minimum=4)
        if m % 2:
            raise ValueError(f"resolution[1] (the number of angles) must be even, got {m}")
        return nr, m
    raise TypeError(f"resolution must be an integer (radial nodes) or a pair (radial nodes, angles), "
                    f"got {value!r}")


def linear_mean_exit_time(
    A: ArrayLike,
    D: ArrayLike,
    region: Ball | Ellipsoid,
    x0: ArrayLike | None = None,
    *,
    fixed_point: ArrayLike | None = None,
    rtol: float = 1e-10,
    resolution: int | tuple[int, int] | None = None,
    max_resolution: int = 48,
) -> float | np.ndarray:
    """Mean exit time of the 2-D linear SDE ``dX = -A (X - x*) dt + noise`` from a disk or an ellipse.

    The noise is Gaussian with covariance ``D dt`` per step ``dt`` (``D = B B^T`` for ``+ B dW``), so the
    generator is ``L u = -(A (x - x*)) . grad u + (1/2) sum_ij D_ij d_i d_j u`` and the mean exit time solves
    ``L u = -1`` in the region with ``u = 0`` on its boundary.

    escapade's dynamics give ``D`` as ``Langevin.diffusion_matrix(2)``: ``2 T I`` for ``Langevin(temperature=T)``,
    ``eps^2 S S^T`` for ``Langevin(eps=eps, S=S)``, hence ``(lr / batch_size) C`` for
    ``GaussianSGD(lr, batch_size, C).continuous(dt)`` (eps = sqrt(lr / B), S = C^{1/2}). On
    ``Quadratic(H, center)`` the drift is ``-grad f = -H (x - center)``: ``A = H`` and ``x* = center``.

    Parameters
    ----------
    A : (2, 2) real matrix, any (not necessarily symmetric or stable).
    D : (2, 2) symmetric positive definite, the noise covariance per unit time.
    region : a 2-D `escapade.Ball` (any centre) or `escapade.Ellipsoid`; the process exits when it leaves it.
    x0 : (2,) or (p, 2) starting point(s) in the closed region; default the region's centre.
    fixed_point : (2,) the point x* where the drift vanishes; default the origin.
    rtol : the refinement stops when a solve agrees with the one before it to ``rtol`` times the largest value of
        the solution and its radial and angular spectral tails are below ``rtol`` too (default 1e-10).
    resolution : skip the refinement and solve once with this many radial nodes in (0, 1] (an int; twice as many
        angles) or (radial nodes, angles) (angles even).
    max_resolution : the ceiling of the refinement: at most this many radial nodes and 2.5 max_resolution^2
        unknowns (radial nodes - 1 times angles); the dense solve at the default 48 takes several seconds.

    Returns
    -------
    float for a single starting point, or a (p,) array.

    Raises
    ------
    TypeError, ValueError
        For A not a real 2 x 2 matrix, D not symmetric positive definite 2 x 2, a region that is not a 2-D Ball or
        Ellipsoid, x0 or fixed_point not finite 2-vectors, or x0 outside the region.
    RuntimeError
        When the refinement reaches `max_resolution` before two successive solves agree to `rtol` (a very thin
        boundary layer: noise tiny against the drift, an enormous mean exit time, or D strongly anisotropic in
        the region's own coordinates); the message lists the last resolutions with their changes and tails.

    Notes
    -----
    The map ``x = c + M y`` with ``M^T E M = I`` takes the ellipse ``(x - c)^T E (x - c) < 1`` (or the disk,
    ``M = radius I``) onto the unit disk, the drift onto ``-(M^-1 A M y + M^-1 A (c - x*))`` and the noise onto
    ``M^-1 D M^-T``, made diagonal by the choice of the rotation left free in ``M``. The equation there is solved
    by collocation, Chebyshev in the radius (on the diameter, so no node sits at the centre) times Fourier in
    the angle (Trefethen, *Spectral Methods in MATLAB*, ch. 11), and the solution is interpolated spectrally at
    ``x0``. The solution is analytic up to the boundary, so the error falls exponentially with the resolution.
    The refinement starts at 8 radial nodes and 16 angles and raises the radial count (8, 12, 16, 20, 24, 28, 32,
    40, 48, ...), the angular count (16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, ...) or both, whichever
    has its last Chebyshev or Fourier coefficients above ``rtol``; a rotation-invariant problem stays at 16
    angles, a strongly anisotropic one gets many.
    The collocation matrix is ill-conditioned (about n^4 times the mean exit time in units of the relaxation
    time), so it is built in long double and the double-precision LU solve is refined against it. Against the
    radial quadrature (A = lambda I, D = sigma^2 I, which stays at 16 angles) the answer is good to 1e-12 for
    mean exit times up to about 1e3 / lambda, 2e-12 at 1e4 / lambda and 2e-11 at 2e5 / lambda; at 1e7 / lambda
    rounding keeps successive resolutions apart and the refinement stops with RuntimeError unless `rtol` is
    loosened. With many angles the rounding floor is higher, and where long double is plain double (Windows,
    macOS on arm64) it is that of double: about 1e-9 of the answer at 1e3 / lambda.

    Examples
    --------
    The continuous SGD of ``GaussianSGD(lr=0.1, batch_size=2, C=H)`` on ``Quadratic(H)`` leaving the disk of
    radius 0.5 around the minimum, started there; its D is (lr / B) C = 0.05 H:

    >>> import escapade as esc
    >>> H = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> sde = esc.GaussianSGD(lr=0.1, batch_size=2.0, C=H).continuous(dt=1e-3)
    >>> round(linear_mean_exit_time(H, sde.diffusion_matrix(2), esc.Ball([0.0, 0.0], 0.5)), 6)
    12.877234

    (4000 simulated paths at dt = 1e-3, seed 0: 12.89 +- 0.19.)
    """
    a = as_square_matrix("A", A)
    if a.shape != (2, 2):
        raise ValueError(f"A must be a 2 x 2 matrix, got shape {a.shape}")
    dm = as_square_matrix("D", D, symmetric=True)
    if dm.shape != (2, 2):
        raise ValueError(f"D must be a 2 x 2 matrix, got shape {dm.shape}")
    ev = np.linalg.eigvalsh(dm)
    if not ev[0] > 1e-14 * ev[-1]:
        raise ValueError(f"D must be positive definite (the noise covariance per unit time), got eigenvalues "
                         f"{ev.tolist()} of {dm.tolist()}")
    if not isinstance(region, (Ball, Ellipsoid)):
        raise TypeError(f"region must be an escapade Ball or Ellipsoid, got {region!r} ({type(region).__name__})")
    center = np.asarray(region.center, dtype=float)
    if center.shape != (2,):
        raise ValueError(f"region must be 2-dimensional, got a {type(region).__name__} in {center.size} dimensions")
    star = np.zeros(2) if fixed_point is None else as_array("fixed_point", fixed_point, ndim=1)
    if star.shape != (2,):
        raise ValueError(f"fixed_point must have 2 components, got shape {star.shape}")
    rtol = as_float("rtol", rtol, positive=True)
    max_nr = as_int("max_resolution", max_resolution, minimum=_RADIAL_LEVELS[1])
    if x0 is None:
        points, single = center[None, :], True
    else:
        pts = as_array("x0", x0, ndim=(1, 2))
        if pts.shape[-1] != 2:
            raise ValueError(f"x0 must have 2 components (a point (2,) or points (p, 2)), got shape {pts.shape}")
        points, single = pts.reshape(-1, 2), pts.ndim == 1

    # x = c + M y with M^T E M = I, then rotated so that M^-1 D M^-T is diagonal
    if isinstance(region, Ball):
        M0 = float(region.radius) * np.eye(2)
    else:
        w, V = np.linalg.eigh(region.matrix)
        M0 = V / np.sqrt(w)
    M0inv = np.linalg.inv(M0)
    d, Q = np.linalg.eigh(M0inv @ dm @ M0inv.T)
    M = M0 @ Q
    Minv = Q.T @ M0inv
    At = Minv @ a @ M
    bt = Minv @ a @ (center - star)
    y = (points - center) @ Minv.T
    radius2 = np.sum(y**2, axis=1)
    outside = radius2 > 1.0 + 1e-12
    if outside.any():
        raise ValueError(f"x0 must lie in the region, got x0={points[outside][0].tolist()} (at "
                         f"{math.sqrt(float(radius2[outside][0])):.6g} times the distance to the boundary along "
                         f"its ray from the centre)")

    if resolution is not None:
        nr, m = _resolution(resolution)
        out = _disk_evaluate(_disk_solve(At, bt, d, nr, m), y)
    else:
        angles = 2 * np.pi * np.arange(7) / 7
        probes = np.concatenate([[[0.0, 0.0]], 0.5 * np.c_[np.cos(angles), np.sin(angles)],
                                 0.9 * np.c_[np.cos(angles + 0.3), np.sin(angles + 0.3)]])
        check = np.concatenate([y, probes])
        # the cost ceiling: 2.5 max_resolution^2 unknowns (5760 at 48: a dense solve of several seconds)
        max_unknowns = int(2.5 * max_nr**2)
        i_r, i_m = 0, 0
        previous: np.ndarray | None = None
        history: list[str] = []
        while True:
            nr, m = _RADIAL_LEVELS[i_r], _ANGULAR_LEVELS[i_m]
            u = _disk_solve(At, bt, d, nr, m)
            values = _disk_evaluate(u, check)
            tail_r, tail_m = _tails(u)
            scale = max(float(np.abs(u).max()), float(np.abs(values).max()))
            change = np.inf if previous is None else float(np.abs(values - previous).max()) / scale
            history.append(f"({nr}, {m}): change {change:.2g}, tails {tail_r:.2g} (radial), {tail_m:.2g} (angular)")
            if change <= rtol and max(tail_r, tail_m) <= rtol:
                break
            up_r, up_m = tail_r > rtol, tail_m > rtol
            if not (up_r or up_m):
                up_r = up_m = True
            # a direction at its ceiling stays; the other may still move
            if up_r and (i_r + 1 >= len(_RADIAL_LEVELS) or _RADIAL_LEVELS[i_r + 1] > max_nr
                         or (_RADIAL_LEVELS[i_r + 1] - 1) * m > max_unknowns):
                up_r = False
            if up_m and (i_m + 1 >= len(_ANGULAR_LEVELS)
                         or (nr - 1) * _ANGULAR_LEVELS[i_m + 1] > max_unknowns):
                up_m = False
            if not (up_r or up_m):
                raise RuntimeError(
                    "linear_mean_exit_time did not converge to rtol={} within max_resolution={} (resolutions as "
                    "(radial nodes, angles), the change from the previous one and the spectral tails, relative to "
                    "the largest value): {}; raise max_resolution, loosen rtol, or give resolution= to accept a "
                    "fixed resolution".format(rtol, max_nr, "; ".join(history[-3:])))
            i_r += up_r
            i_m += up_m
            previous = values
        out = values[: len(y)]
    out = np.maximum(out, 0.0)
    return float(out[0]) if single else out


# ---------------------------------------------------------------------------------------------------------------
# Splitting probabilities: reaching upper before lower, for a 1-D diffusion and for the Euler-Maruyama chain of
# overdamped Langevin dynamics.

# The scale integrals are summed over pieces of (lower, upper), each integrated with the exponent shifted by its
# own largest end value, and combined in log scale: nothing overflows, and a probability of 1e-30 keeps its digits.
_SPLIT_PIECES = 32
_SPLIT_JUMP = 30.0  # a piece across which psi changes by more than this is halved (up to _SPLIT_DEPTH times)
_SPLIT_DEPTH = 40
_MIN_RTOL = 50 * np.finfo(float).eps
_SPLIT_MAX_PIECES = 2**15  # psi spanning up to about 30 * 2**15 ~ 1e6 (a cap, so a span of 1e300 cannot hang)


def _check_ends(lower: float, upper: float) -> tuple[float, float]:
    lower = as_float("lower", lower)
    upper = as_float("upper", upper)
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
    if not math.isfinite(upper - lower):  # the grids on (lower, upper) would hold inf
        raise ValueError(f"upper - lower must be finite, got lower={lower}, upper={upper}")
    return lower, upper


def _potential_function(potential: object) -> ScalarFunction:
    """U(x) as a float function, from a callable or from a 1-D landscape (its value)."""
    refuse_drift("potential", potential, "a potential U(x)")
    value = getattr(potential, "value", None)
    if callable(value):
        _check_landscape_dim(potential, "potential")
        return _finite_function(lambda x: value(np.array([x])), "potential", infinite=True)
    if callable(potential):
        return _finite_function(potential, "potential", infinite=True)
    raise TypeError(f"potential must be a callable U(x) or a 1-D escapade Landscape, got {potential!r} "
                    f"({type(potential).__name__})")


def _check_landscape_dim(landscape: object, name: str) -> None:
    dim = getattr(landscape, "dim", 1)
    if dim != 1:
        raise ValueError(f"{name} must be a 1-D landscape, got one with dim={dim}")


def _splitting(
    dpsi: Callable[[float, float], float], x0: ArrayLike, lower: float, upper: float, rtol: float, what: str
) -> float | np.ndarray:
    """P(reach upper before lower) = int_lower^x0 exp(psi) / int_lower^upper exp(psi), given
    ``dpsi(z, y) = psi(y) - psi(z)``; `what` names the arguments psi comes from, for the errors."""
    lower, upper = _check_ends(lower, upper)
    x = _check_x0(x0, lower, upper)
    rtol = as_float("rtol", rtol, positive=True)
    if rtol < _MIN_RTOL:  # quad's floor for a purely relative tolerance
        raise ValueError(f"rtol must be at least {_MIN_RTOL:.3g}, got rtol={rtol}")
    edges = np.union1d(np.linspace(lower, upper, _SPLIT_PIECES + 1), x[(x > lower) & (x < upper)])
    pieces: list[tuple[float, float, float]] = []  # (left end, right end, psi(right) - psi(left)), in order
    for c, d in zip(edges[:-1].tolist(), edges[1:].tolist()):
        stack = [(c, d, 0)]
        while stack:
            c0, d0, depth = stack.pop()
            step = dpsi(c0, d0)
            if not math.isfinite(step):
                raise ValueError(f"{what} give a log scale density psi that is not finite between {c0} and {d0} "
                                 f"(lower={lower}, upper={upper})")
            if len(pieces) + len(stack) > _SPLIT_MAX_PIECES:  # psi spans far more than floating point resolves
                raise ValueError(f"{what} make the log scale density psi change by too much across "
                                 f"(lower, upper) = ({lower}, {upper}): more than {_SPLIT_MAX_PIECES} pieces of "
                                 f"at most {_SPLIT_JUMP:g} each; the probability is 0 or 1 to floating point "
                                 "precision (a temperature too small, or an interval too long)")
            if abs(step) > _SPLIT_JUMP and depth < _SPLIT_DEPTH:
                mid = 0.5 * (c0 + d0)
                stack += [(mid, d0, depth + 1), (c0, mid, depth + 1)]  # the left half is taken first
            else:
                pieces.append((c0, d0, step))
    steps = np.array([p[2] for p in pieces])
    psi_left = np.concatenate([[0.0], np.cumsum(steps[:-1])])  # psi at each left end, psi(lower) = 0
    logs = np.empty(len(pieces))
    for k, (c, d, step) in enumerate(pieces):
        shift = max(0.0, step)  # the larger end value of exp(psi - psi(c)) becomes 1

        def shifted(y: float, c: float = c, shift: float = shift) -> float:
            return math.exp(dpsi(c, y) - shift)

        piece = _quad(shifted, c, d, rtol)
        logs[k] = psi_left[k] + shift + math.log(piece)
    # log int_lower^e and log int_e^upper at every end e of a piece; x0 is one of them
    ends = np.append([p[0] for p in pieces], upper)
    below = np.concatenate([[-np.inf], np.logaddexp.accumulate(logs)])
    above = np.concatenate([np.logaddexp.accumulate(logs[::-1])[::-1], [-np.inf]])
    at = np.searchsorted(ends, x)
    out = scipy.special.expit(below[at] - above[at])  # 1 / (1 + above / below), tiny values kept
    return float(out) if out.ndim == 0 else out


def splitting_probability_1d(
    drift: ScalarFunction | float,
    noise_variance: ScalarFunction | float,
    x0: ArrayLike,
    lower: float,
    upper: float,
    *,
    rtol: float = 1e-10,
) -> float | np.ndarray:
    """Probability that a one-dimensional diffusion reaches ``upper`` before ``lower``.

    The process is ``dX = a(X) dt + sigma(X) dW`` started at ``x0``; the answer is the committor
    ``P(x0) = int_lower^x0 s / int_lower^upper s`` with the scale density ``s = exp(psi)``,
    ``psi(y) = -int^y 2 a / sigma^2``.

    Parameters
    ----------
    drift : callable or float
        The drift ``a(x)``; a float means a constant drift.
    noise_variance : callable or float
        The squared diffusion coefficient ``sigma(x)**2``, positive on the interval; a float means a constant.
    x0 : float or array_like
        Starting point(s), in ``[lower, upper]`` (0 at ``lower``, 1 at ``upper``).
    lower, upper : float
        The two ends, finite, ``lower < upper``.
    rtol : float
        Relative tolerance of the quadratures (default 1e-10); the answer has about this relative accuracy
        however small it is.

    Returns
    -------
    float or numpy.ndarray
        The probability, with the shape of ``x0``.

    Raises
    ------
    ValueError
        For ends that are not finite or not ordered, ``x0`` outside ``[lower, upper]`` or not finite, a noise
        variance that is not positive, or ``rtol`` not positive.

    Notes
    -----
    ``psi`` is computed by quadrature, as in :func:`mean_exit_time_1d` (use
    :func:`langevin_splitting_probability_1d` when the drift is a gradient). The interval is cut into 32 pieces
    (more where ``psi`` changes by over 30 across one) and at ``x0``; each piece is integrated with ``psi``
    shifted by its largest end value and the pieces are summed in log scale, so the probability keeps its
    relative accuracy down to the smallest floats (1e-15, 1e-30, ...), and ``psi`` may span thousands.

    Examples
    --------
    Brownian motion: ``P = (x0 - lower) / (upper - lower)``.

    >>> round(splitting_probability_1d(0.0, 1.0, 0.25, 0.0, 1.0), 12)
    0.25
    """
    dpsi, _speed = _diffusion_psi(drift, noise_variance)
    return _splitting(dpsi, x0, lower, upper, rtol, "drift and noise_variance")


def langevin_splitting_probability_1d(
    potential: ScalarFunction | Landscape,
    temperature: float,
    x0: ArrayLike,
    lower: float,
    upper: float,
    *,
    rtol: float = 1e-10,
) -> float | np.ndarray:
    """Probability that overdamped Langevin dynamics reaches ``upper`` before ``lower``.

    The process is ``dX = -U'(X) dt + sqrt(2 T) dW``; this is :func:`splitting_probability_1d` with
    ``a = -U'`` and ``sigma^2 = 2 T``, where ``psi = U / T`` in closed form:
    ``P(x0) = int_lower^x0 exp(U / T) / int_lower^upper exp(U / T)``.

    Parameters
    ----------
    potential : callable or escapade Landscape
        The potential ``U(x)``, or a 1-D landscape (its ``value``).
    temperature : float
        The temperature ``T > 0``.
    x0 : float or array_like
        Starting point(s), in ``[lower, upper]``.
    lower, upper : float
        The two ends, finite, ``lower < upper``.
    rtol : float
        Relative tolerance of the quadratures (default 1e-10), which the answer keeps however small it is.

    Returns
    -------
    float or numpy.ndarray
        The probability, with the shape of ``x0``.

    Raises
    ------
    ValueError
        As :func:`splitting_probability_1d`, and for a temperature that is not positive or a landscape that is
        not 1-D.
    TypeError
        For a potential that is neither callable nor a landscape.

    Examples
    --------
    The double well ``U = x^4/4 - x^2/2`` from ``x0 = -0.8``, reactant ``x <= -0.9``, product ``x >= 0``:

    >>> p = langevin_splitting_probability_1d(lambda x: x**4 / 4 - x**2 / 2, 1 / 64, -0.8, -0.9, 0.0)
    >>> f"{p:.5g}"
    '2.7585e-07'
    """
    temperature = _positive(temperature, "temperature")
    u = _potential_function(potential)

    def dpsi(z: float, y: float) -> float:
        return (u(y) - u(z)) / temperature

    return _splitting(dpsi, x0, lower, upper, rtol, "potential and temperature")


# The Euler-Maruyama chain: Nystrom on composite Gauss-Legendre panels of width 2s, s, s/2, ... (s the step's
# noise scale), each panel with 16 nodes, until two resolutions agree.
_GL_ORDER = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)
# The kernel is kept (as a band) where the Gaussian step density exceeds exp(-_CHAIN_TAIL) of its peak times the
# most u can grow over that distance: the dropped entries change nothing at double precision.
_CHAIN_TAIL = 50.0
_CHAIN_MAX_NODES = 2**30  # no resolution finer than this fits in memory (the band is ~330 nodes wide)


def _gradient_function(gradient: object) -> Callable[[np.ndarray], np.ndarray]:
    """V' on 1-D arrays, from a 1-D landscape (its gradient) or a vectorized callable."""
    refuse_drift("gradient", gradient, "the derivative V' of a potential")
    grad = getattr(gradient, "gradient", None)
    if callable(grad):
        _check_landscape_dim(gradient, "gradient")

        def g(x: np.ndarray) -> np.ndarray:
            return np.asarray(grad(x[:, None]), dtype=np.float64).reshape(x.shape)
    elif callable(gradient):
        f = gradient

        def g(x: np.ndarray) -> np.ndarray:
            out = np.asarray(f(x), dtype=np.float64)
            if out.shape != x.shape:
                raise TypeError(f"gradient must map an array of points to an array of the same shape (V' at each "
                                f"point), got shape {out.shape} for an input of shape {x.shape}")
            return out
    else:
        raise TypeError(f"gradient must be a callable V'(x) on arrays or a 1-D escapade Landscape, got "
                        f"{gradient!r} ({type(gradient).__name__})")

    def checked(x: np.ndarray) -> np.ndarray:
        out = g(x)
        if not np.isfinite(out).all():
            bad = int(np.argmin(np.isfinite(out)))
            raise ValueError(f"gradient must be finite on [lower, upper], got {out[bad]} at x={x[bad]}")
        return out

    return checked


def _images(x: np.ndarray, s: float, lower: float, upper: float) -> tuple[range, float, np.ndarray, np.ndarray]:
    """The image series of a Brownian bridge from x between the ends: the k range, 2 (upper - lower), and x's
    distances to lower and to upper. The first-passage density of Brownian motion from x at `upper` before
    `lower` is sum_k of the one-sided density at distance (upper - x) + 2 k width (Borodin and Salminen, 1.3.0.6):
    terms beyond |k| width > 5 s (their Gaussians below exp(-50)) are dropped."""
    width = upper - lower
    k_max = math.ceil(5.0 * s / width) + 1
    return range(-k_max, k_max + 1), 2.0 * width, x - lower, upper - x


def _passage_terms(x: np.ndarray, s: float, lower: float, upper: float):
    """(sign, delta_A, delta_B) of each image term, broadcast with x: the bridge from x to y hits lower before
    upper with probability sum sign exp(-delta_A (delta_A + 2 (y - x)) / 2 s^2), and upper before lower with
    sum sign exp(-delta_B (delta_B - 2 (y - x)) / 2 s^2), for y anywhere (the path that first reaches the end at
    distance |z| then goes to y has the density phi(|z| + |y - end|), the reflection principle; delta = |z| plus
    x's distance to that end)."""
    ks, period, to_lower, to_upper = _images(x, s, lower, upper)
    for k in ks:
        sign = 1.0 if k >= 0 else -1.0
        yield sign, np.abs(to_lower + k * period) + to_lower, np.abs(to_upper + k * period) + to_upper


def _chain_step(
    x: np.ndarray, m: np.ndarray, y: np.ndarray, w: np.ndarray, s: float, lower: float, upper: float, bridge: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """For steps from x (mean m) to the nodes y (weights w), broadcast: the kernel phi_s(y - m) w times the chance
    the step continues, and (bridge only) the weight of ending in B with y in the gap, phi w P(bridge hits upper
    before lower)."""
    z = (y - m) / s
    k = np.exp(-0.5 * z * z) * (w / (s * math.sqrt(2.0 * math.pi)))
    if not bridge:
        return k, None
    s2 = s * s
    p_a = np.zeros(np.broadcast(x, y).shape)
    p_b = np.zeros_like(p_a)
    for sign, da, db in _passage_terms(x, s, lower, upper):
        p_a += sign * np.exp(-da * (da + 2.0 * (y - x)) / (2.0 * s2))
        p_b += sign * np.exp(-db * (db - 2.0 * (y - x)) / (2.0 * s2))
    p_a, p_b = np.clip(p_a, 0.0, 1.0), np.clip(p_b, 0.0, 1.0)
    return k * np.clip(1.0 - p_a - p_b, 0.0, 1.0), k * p_b


def _chain_tail(x: np.ndarray, m: np.ndarray, s: float, lower: float, upper: float, bridge: bool) -> np.ndarray:
    """The chance of ending in B by landing beyond the gap: P(m + s G >= upper), and with the bridge the landings
    at y >= upper whose bridge did not hit lower first, plus those at y <= lower whose bridge hit upper first."""
    if not bridge:
        return scipy.special.ndtr((m - upper) / s)
    # Each image term is exp(linear in y) times the Gaussian phi_s(y - m): a Gaussian of the same width, shifted
    # by delta, times exp(delta (x - m) / s^2) above (exp(delta (m - x) / s^2) below).
    log_up = scipy.special.log_ndtr((m - upper) / s)
    log_down = scipy.special.log_ndtr((lower - m) / s)
    a_first = np.zeros(np.shape(x))
    b_first = np.zeros(np.shape(x))
    with np.errstate(invalid="ignore", over="ignore"):
        for sign, da, db in _passage_terms(x, s, lower, upper):
            up = da * (x - m) / (s * s) + scipy.special.log_ndtr((m - da - upper) / s)
            down = db * (m - x) / (s * s) + scipy.special.log_ndtr((lower - m - db) / s)
            a_first += sign * np.exp(np.minimum(up - log_up, 0.0))
            b_first += sign * np.exp(np.minimum(down - log_down, 0.0))
        above = np.exp(log_up) * np.clip(1.0 - a_first, 0.0, 1.0)
        below = np.exp(log_down) * np.clip(b_first, 0.0, 1.0)
    return np.where(np.isfinite(above), above, 0.0) + np.where(np.isfinite(below), below, 0.0)


def _chain_solve(
    g: Callable[[np.ndarray], np.ndarray], temperature: float, dt: float, lower: float, upper: float,
    x0: np.ndarray, bridge: bool, panels: int,
) -> np.ndarray:
    """u(x0) from the Nystrom discretization with `panels` Gauss-Legendre panels on (lower, upper)."""
    s = math.sqrt(2.0 * temperature * dt)
    edges = np.linspace(lower, upper, panels + 1)
    half, mid = 0.5 * np.diff(edges), 0.5 * (edges[1:] + edges[:-1])
    y = (mid[:, None] + half[:, None] * _GL_X).ravel()
    w = (half[:, None] * _GL_W).ravel()
    n = y.size
    gy = g(y)
    m = y - gy * dt
    # band of the kernel: |y_j - m_i| <= r s, r chosen so phi_s stays below exp(-_CHAIN_TAIL) times the growth of u
    # (at most exp(|V'| / T) per unit length) over the distance
    grow = float(np.abs(gy).max()) * s / temperature
    r = grow + math.sqrt(grow * grow + 2.0 * _CHAIN_TAIL)
    idx = np.arange(n)
    first = np.searchsorted(y, m - r * s, side="left")
    last = np.searchsorted(y, m + r * s, side="right") - 1
    nl = int(np.clip((idx - first).max(), 0, n - 1))
    nu = int(np.clip((last - idx).max(), 0, n - 1))
    rows = idx[None, :] + (np.arange(nl + nu + 1) - nu)[:, None]  # ab[nu + i - j, j] = a[i, j]
    valid = (rows >= 0) & (rows < n)
    i = np.clip(rows, 0, n - 1)
    k, src = _chain_step(y[i], m[i], y[None, :], w[None, :], s, lower, upper, bridge)
    ab = np.where(valid, -k, 0.0)
    ab[nu] += 1.0
    f = _chain_tail(y, m, s, lower, upper, bridge)
    if src is not None:
        f = f + np.bincount(i[valid], weights=src[valid], minlength=n)
    u = scipy.linalg.solve_banded((nl, nu), ab, f, check_finite=False)
    # the Nystrom interpolation: u(x0) = f(x0) + sum_j K(x0, y_j) w_j u_j
    mx = x0 - g(x0) * dt
    kx, srcx = _chain_step(x0[:, None], mx[:, None], y[None, :], w[None, :], s, lower, upper, bridge)
    out = _chain_tail(x0, mx, s, lower, upper, bridge) + kx @ u
    if srcx is not None:
        out = out + srcx.sum(axis=1)
    return out


def euler_chain_splitting_probability(
    gradient: Callable[[np.ndarray], ArrayLike] | Landscape,
    temperature: float,
    dt: float,
    x0: ArrayLike,
    lower: float,
    upper: float,
    *,
    bridge: bool = False,
    rtol: float = 1e-10,
    max_nodes: int = 100_000,
) -> float | np.ndarray:
    """Probability that the Euler-Maruyama chain of overdamped Langevin dynamics reaches ``upper`` before ``lower``.

    The chain is ``x' = x - V'(x) dt + s G`` with ``s = sqrt(2 T dt)`` and ``G`` standard normal: the scheme
    escapade runs for ``Langevin(temperature=T, dt=dt)``. It ends in B when a step lands in ``[upper, inf)`` and
    in A when one lands in ``(-inf, lower]``. With ``bridge=True`` each step ``x -> y`` also tests the Brownian
    bridge between them (variance ``s^2``, drift-free given its ends) against both ends at once: the step ends in
    B with the probability ``pB(x, y)`` that the bridge reaches ``upper`` before ``lower``, in A with ``pA(x, y)``,
    and else continues; a step that lands beyond an end ends there unless its bridge reached the other end first.
    Both are image series of the strip (first passage of Brownian motion at one end before the other, Borodin and
    Salminen, Handbook of Brownian Motion, 1.3.0.6, with the reflection principle). Where only one end is within
    reach they are the one-sided ``exp(-2 (x - lower)(y - lower) / s^2)`` and ``exp(-2 (upper - x)(upper - y) /
    s^2)``. This is the law that ``escapade.splitting`` (semantics 21) and ``simulate`` (semantics 20, with
    ``stop`` and ``target``) approximate by refining a step whose bridge could cross both ends (up to 60 halvings,
    8 before semantics 23, while both crossings exceed 1e-3); with a constant drift this chain equals the diffusion
    at every ``dt``. The image series takes about 5 s / (upper - lower) terms per kernel entry: a step much wider than the gap is slow
    (about 16 s at s / (upper - lower) = 1000).

    Parameters
    ----------
    gradient : callable or escapade Landscape
        ``V'(x)``, a callable mapping a 1-D array of points to the array of derivatives, or a 1-D landscape (its
        gradient).
    temperature : float
        The temperature ``T > 0``.
    dt : float
        The time step, positive.
    x0 : float or array_like
        Starting point(s), strictly between ``lower`` and ``upper``.
    lower, upper : float
        The ends of the gap, finite, ``lower < upper``.
    bridge : bool
        Whether each step also tests the Brownian bridge (default False).
    rtol : float
        The resolution is refined until two successive ones agree to ``rtol`` relative to each value of the
        answer (default 1e-10).
    max_nodes : int
        The most quadrature nodes a resolution may use (default 100000); ``RuntimeError`` if the refinement would
        need more.

    Returns
    -------
    float or numpy.ndarray
        The probability, with the shape of ``x0``.

    Raises
    ------
    ValueError
        For a temperature, ``dt`` or ``rtol`` that is not positive and finite, ends that are not finite or not
        ordered, ``x0`` not strictly inside, a landscape that is not 1-D, or a gradient that is not finite there.
    TypeError
        For a gradient that is neither a landscape nor a callable returning one value per point, or a
        ``bridge`` that is not a bool.
    RuntimeError
        When two resolutions do not agree to ``rtol`` within ``max_nodes`` nodes.

    Notes
    -----
    The probability ``u`` solves the integral equation, for ``x`` in the gap and ``m(x) = x - V'(x) dt``,

        u(x) = int_{y >= upper} phi_s(y - m) (1 - pA) dy + int_{y <= lower} phi_s(y - m) pB dy
               + int_gap phi_s(y - m) pB dy + int_gap phi_s(y - m) (1 - pA - pB) u(y) dy

    (``pA = pB = 0`` without the bridge; the first term is then ``P(m + s G >= upper)``, and with the bridge the
    first two have closed forms too: each image term is a Gaussian in ``y``). It is solved by the Nystrom method on composite 16-point Gauss-Legendre panels, of
    width ``2 s``, then ``s``, ``s / 2``, ... (at least 4 panels) until ``u(x0)`` agrees between two of them,
    and ``u(x0)`` is read by the Nystrom interpolation formula (no interpolation of ``u``). Every factor of the
    kernel is a Gaussian of width ``s`` in ``y``, so these panels resolve it, and the kernel entries where the
    Gaussian is below about ``exp(-50)`` of its peak (times the growth of ``u`` over that distance) are dropped,
    which leaves the answer unchanged to the last bit in the cases tested: the matrix is banded, about 330 nodes
    wide at panel width ``s`` whatever ``dt``, and the cost grows like the number of nodes,
    ``16 (upper - lower) / s`` at panel width ``s``: about 0.1 s at ``T = 1/64``, ``dt = 1e-3`` on ``(-0.9, 0)``.

    The chain's probability differs from the diffusion's (:func:`langevin_splitting_probability_1d`) by
    ``O(sqrt(dt))`` without the bridge (a step can jump over the boundary unseen) and ``O(dt)`` with it.

    Examples
    --------
    >>> import escapade as esc
    >>> p = euler_chain_splitting_probability(esc.DoubleWell(), 1 / 64, 1e-3, -0.8, -0.9, 0.0)
    >>> f"{p:.4g}"
    '2.738e-07'
    """
    g = _gradient_function(gradient)
    temperature = _positive(as_float("temperature", temperature), "temperature")
    dt = _positive(as_float("dt", dt), "dt")
    lower, upper = _check_ends(lower, upper)
    if not isinstance(bridge, (bool, np.bool_)):
        raise TypeError(f"bridge must be a bool, got {bridge!r} ({type(bridge).__name__})")
    rtol = as_float("rtol", rtol, positive=True)
    max_nodes = as_int("max_nodes", max_nodes, minimum=4 * _GL_ORDER)
    x = _points(x0)
    inside = np.isfinite(x) & (x > lower) & (x < upper)
    if not inside.all():
        raise ValueError(f"x0 must be finite and lie strictly between lower and upper = ({lower}, {upper}), "
                         f"got x0={x[~inside].flat[0]}")
    points = x.ravel()
    s = math.sqrt(2.0 * temperature * dt)
    nodes = _GL_ORDER * (upper - lower) / (2.0 * s) if s > 0 else math.inf  # of the first resolution
    if not nodes <= _CHAIN_MAX_NODES:  # beyond any memory (max_nodes is for what is merely slow: RuntimeError)
        raise ValueError(f"the step's noise scale sqrt(2 temperature dt) = {s:g} (temperature={temperature}, "
                         f"dt={dt}) is too small for the gap (lower, upper) = ({lower}, {upper}): the first "
                         f"resolution would need {nodes:.3g} nodes, over {_CHAIN_MAX_NODES}")
    panels = max(4, math.ceil((upper - lower) / (2.0 * s)))
    previous: np.ndarray | None = None
    history: list[str] = []
    while panels * _GL_ORDER <= max_nodes:
        u = _chain_solve(g, temperature, dt, lower, upper, points, bool(bridge), panels)
        if previous is not None:
            change = float(np.max(np.abs(u - previous) / np.maximum(np.abs(u), np.finfo(float).tiny)))
            history.append(f"{panels * _GL_ORDER} nodes: change {change:.2g}")
            if change <= rtol:
                return float(u[0]) if x.ndim == 0 else u.reshape(x.shape)
        previous = u
        panels *= 2
    raise RuntimeError(f"euler_chain_splitting_probability did not converge to rtol={rtol} within "
                       f"max_nodes={max_nodes} ({'; '.join(history) or 'no two resolutions fit'}); raise max_nodes "
                       "or loosen rtol")
