"""Exact mean exit times, used as references for the Monte Carlo engine.

For a one-dimensional diffusion ``dX = a(X) dt + sigma(X) dW`` the mean exit
time ``T(x)`` solves ``a T' + (sigma^2 / 2) T'' = -1`` with ``T = 0`` at an
absorbing end and ``T' = 0`` at a reflecting end.  With the potential-like
function ``psi(x) = -int^x 2 a / sigma^2`` the scale density is
``s = exp(psi)`` and the speed density is ``m = 2 exp(-psi) / sigma^2``, and
every solution is a double integral of the kernel

    K(z, y) = s(y) m(z) = 2 / sigma^2(z) * exp(psi(y) - psi(z))

over part of the square ``(lower, upper)^2`` (``y`` is a scale variable and
``z`` a speed variable).  Only the difference ``psi(y) - psi(z)`` is ever
exponentiated, so the kernel stays finite whenever the answer does, even for
very small noise.  For overdamped Langevin dynamics ``psi = U / T`` exactly.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import quad

__all__ = [
    "mean_exit_time_1d",
    "langevin_mean_exit_time_1d",
    "brownian_ball_exit_time",
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
    lower, upper = float(lower), float(upper)
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
    for name, end, kind in (("lower", lower, lower_boundary), ("upper", upper, upper_boundary)):
        if math.isinf(end) and kind == "absorbing":
            raise ValueError(
                f"{name}={end} is infinite and cannot be absorbing; "
                f"pass {name}_boundary='reflecting'"
            )
    if lower_boundary == upper_boundary == "reflecting":
        raise ValueError(
            "lower_boundary and upper_boundary are both 'reflecting': the process never exits"
        )
    return lower, upper


def _check_x0(x0: ArrayLike, lower: float, upper: float) -> np.ndarray:
    x = np.asarray(x0, dtype=float)
    bad = ~np.isfinite(x) | (x < lower) | (x > upper)
    if bad.any():
        raise ValueError(
            f"x0 must be finite and lie in [lower, upper] = [{lower}, {upper}], "
            f"got x0={x[bad].flat[0]}"
        )
    return x


def _constant(c: float) -> ScalarFunction:
    return lambda _x: c


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be positive and finite, got {name}={value}")
    return value


def _exit_time(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x: float,
    lower: float,
    upper: float,
    lower_boundary: str,
    upper_boundary: str,
) -> float:
    """Mean exit time from ``x``, given ``dpsi(z, y) = psi(y) - psi(z)`` and
    ``speed(z) = 2 / sigma^2(z)``; the boundaries are assumed validated."""

    def kernel(z: float, y: float) -> float:
        return speed(z) * math.exp(dpsi(z, y))

    def integral(f: ScalarFunction, a: float, b: float) -> float:
        return _quad(f, a, b, _RTOL_INNER)

    if lower_boundary == "reflecting":
        # T' = -s(x) int_lower^x m (no flux through lower), T(upper) = 0.
        return _quad(
            lambda y: integral(lambda z: kernel(z, y), lower, y), x, upper, _RTOL_OUTER
        )
    if upper_boundary == "reflecting":
        # Mirror image: T' = s(x) int_x^upper m, T(lower) = 0.
        return _quad(
            lambda y: integral(lambda z: kernel(z, y), y, upper), lower, x, _RTOL_OUTER
        )
    # Both ends absorbing: T(x) = int G(x, z) m(z) dz with the Green's function
    # G = (S(min) - S(lower)) (S(upper) - S(max)) / (S(upper) - S(lower)), S the
    # scale function.  Split at z = x:  T = (1 - p) left + p right, where
    #   left  = int_lower^x (S(z) - S(lower)) m(z) dz,
    #   right = int_x^upper (S(upper) - S(z)) m(z) dz,
    # and p = (S(x) - S(lower)) / (S(upper) - S(lower)) is the probability of
    # leaving through upper.  All terms are positive: no cancellation.
    left = _quad(lambda z: integral(lambda y: kernel(z, y), lower, z), lower, x, _RTOL_OUTER)
    right = _quad(lambda z: integral(lambda y: kernel(z, y), z, upper), x, upper, _RTOL_OUTER)
    # S(x) - S(lower) and S(upper) - S(x), both scaled by exp(-psi(x)); the
    # two weights are formed separately since either may be tiny.
    w_left = integral(lambda y: math.exp(dpsi(x, y)), lower, x)
    w_right = integral(lambda y: math.exp(dpsi(x, y)), x, upper)
    total = w_left + w_right
    return (w_right / total) * left + (w_left / total) * right


def _solve(
    dpsi: Callable[[float, float], float],
    speed: ScalarFunction,
    x0: ArrayLike,
    lower: float,
    upper: float,
    lower_boundary: str,
    upper_boundary: str,
) -> float | np.ndarray:
    lower, upper = _check_interval(lower, upper, lower_boundary, upper_boundary)
    x = _check_x0(x0, lower, upper)
    out = np.array(
        [
            _exit_time(dpsi, speed, float(xi), lower, upper, lower_boundary, upper_boundary)
            for xi in x.flat
        ]
    ).reshape(x.shape)
    return float(out) if out.ndim == 0 else out


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
        ``+inf`` if that end is reflecting (the process cannot exit there).
    lower_boundary, upper_boundary : {"absorbing", "reflecting"}
        Behaviour at each end; at least one end must be absorbing.

    Returns
    -------
    float or numpy.ndarray
        The mean exit time, with the shape of ``x0``.

    Raises
    ------
    ValueError
        For an empty interval, an unknown boundary, an infinite absorbing end,
        two reflecting ends, ``x0`` outside the interval or not finite, or a
        noise variance that is not positive.

    Notes
    -----
    The exponent ``psi(y) - psi(z) = -int_z^y 2 a / sigma^2`` is itself
    computed by quadrature, so each value costs a triply nested quadrature;
    use :func:`langevin_mean_exit_time_1d` when the drift is a gradient.  The
    mean exit time must be finite: towards an infinite end the speed measure
    must be integrable.  ``OverflowError`` is raised if ``psi(y) - psi(z)``
    exceeds about 709 where the integrals need it.  With a reflecting end that
    means an astronomically large answer; with two absorbing ends it can also
    happen for a strong drift, ``2 |a| (upper - lower) / sigma^2 > 700``.

    Examples
    --------
    >>> round(mean_exit_time_1d(0.0, 1.0, 0.5, 0.0, 1.0), 12)
    0.25
    """
    a: ScalarFunction = drift if callable(drift) else _constant(float(drift))
    variance: ScalarFunction = (
        noise_variance if callable(noise_variance) else _constant(_positive(noise_variance, "noise_variance"))
    )

    def speed(z: float) -> float:  # 2 / sigma^2(z)
        v = float(variance(z))
        if not v > 0.0:
            raise ValueError(f"noise_variance must be positive, got {v} at x={z}")
        return 2.0 / v

    def dpsi(z: float, y: float) -> float:  # psi(y) - psi(z)
        return -_quad(lambda u: float(a(u)) * speed(u), z, y, _RTOL_PSI, _ATOL_PSI)

    return _solve(dpsi, speed, x0, lower, upper, lower_boundary, upper_boundary)


def langevin_mean_exit_time_1d(
    potential: ScalarFunction,
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
    potential : callable
        The potential ``U(x)``.
    temperature : float
        The temperature ``T > 0``.
    x0 : float or array_like
        Starting point(s), inside ``[lower, upper]``.
    lower, upper : float
        Ends of the interval; an infinite end must be reflecting.
    lower_boundary, upper_boundary : {"absorbing", "reflecting"}
        Behaviour at each end; at least one end must be absorbing.

    Returns
    -------
    float or numpy.ndarray
        The mean exit time, with the shape of ``x0``.

    Raises
    ------
    ValueError
        As :func:`mean_exit_time_1d`, and for a temperature that is not
        positive.

    Examples
    --------
    Escape from the left well of ``U = x^4/4 - x^2/2`` over the barrier at 0:

    >>> t = langevin_mean_exit_time_1d(lambda x: x**4 / 4 - x**2 / 2, 1 / 16,
    ...     -1.0, -np.inf, 0.0, lower_boundary="reflecting")
    >>> round(t, 3)
    135.783
    """
    temperature = _positive(temperature, "temperature")

    def dpsi(z: float, y: float) -> float:
        return (float(potential(y)) - float(potential(z))) / temperature

    inv_t = 1.0 / temperature
    return _solve(
        dpsi, lambda _z: inv_t, x0, lower, upper, lower_boundary, upper_boundary
    )


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
    x = np.asarray(x0, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"x0 must be a finite 1-D array of coordinates, got x0={x0!r}")
    radius = _positive(radius, "radius")
    temperature = _positive(temperature, "temperature")
    c = np.zeros_like(x) if center is None else np.asarray(center, dtype=float)
    if c.shape != x.shape or not np.isfinite(c).all():
        raise ValueError(
            f"center must be finite with the shape of x0 {x.shape}, got center={center!r}"
        )
    r2 = float(np.sum((x - c) ** 2))
    if r2 > radius**2:
        raise ValueError(
            f"x0 must lie inside the ball: |x0 - center| = {math.sqrt(r2)} > radius = {radius}"
        )
    return (radius**2 - r2) / (2.0 * x.size * temperature)
