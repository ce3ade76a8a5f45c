"""The Eyring–Kramers law: the mean time of a noise-driven transition between two minima through an index-1
saddle, for overdamped Langevin dynamics dX = -grad f(X) dt + sqrt(2 T) dW at small temperature T."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validate import LOG_MAX, as_float
from .geometry import CriticalPoint, _check_landscape, _point, critical_point, find_minimum, find_saddle

__all__ = ["EyringKramers", "eyring_kramers"]


@dataclasses.dataclass(frozen=True)
class EyringKramers:
    """The Eyring–Kramers prediction (see `eyring_kramers`).

    Attributes
    ----------
    temperature : T.
    barrier : f(s) - f(m).
    prefactor : 2 pi / |lambda_-(s)| * sqrt(|det H(s)| / det H(m)), the time scale in front of the exponential.
    transition_time : prefactor * exp(barrier / T), the mean time from m to the other side of the saddle.
    crossing_time : transition_time / 2, the mean time from m to the dividing surface through the saddle.
    rate : 1 / transition_time, the escape rate over this saddle.
    unstable_eigenvalue : lambda_-(s) < 0, the saddle's negative Hessian eigenvalue.
    minimum, saddle : the critical points used.
    """

    temperature: float
    barrier: float
    prefactor: float
    transition_time: float
    crossing_time: float
    rate: float
    unstable_eigenvalue: float
    minimum: CriticalPoint
    saddle: CriticalPoint




def eyring_kramers(
    landscape: Any, minimum: ArrayLike | CriticalPoint, saddle: ArrayLike | CriticalPoint, temperature: float, *,
    refine: bool = True,
) -> EyringKramers:
    """Eyring–Kramers mean transition time from a minimum m over an index-1 saddle s.

    For dX = -grad f(X) dt + sqrt(2 T) dW (escapade's ``Langevin(temperature=T)``; with ``Langevin(eps=...)``
    and isotropic noise, T = eps^2 / 2):

        E[tau] = 2 pi / |lambda_-(s)| * sqrt(|det H(s)| / det H(m)) * exp((f(s) - f(m)) / T) * (1 + O(T)),

    H the Hessian and lambda_-(s) its one negative eigenvalue at s.

    Which event each formula predicts:

    * `transition_time` is the mean time from m until the path is committed to the other side: the first hitting
      of the other minimum, of a small ball around it, or of any surface beyond the saddle by many
      sqrt(T / |lambda_-|). The first hitting of the other minimum's neighbourhood and of a surface just past the
      saddle differ by exponentially little. The relative error is O(T) for a smooth f with nondegenerate critical
      points (the next Laplace terms of the two Gaussian integrals); e.g. 1 + 1.5 T + O(T^2) for the well
      x^4/4 - x^2/2 (about +7% at barrier / T = 7, checked against the exact 1-D quadrature).
    * `crossing_time` is the mean time from m to the first hitting of the dividing surface through s (the
      hyperplane through s normal to the unstable eigenvector): half the transition time, since a path that
      reaches the surface goes on to the other side with probability 1/2. Its relative error is O(sqrt(T)) in
      general (a half-Gaussian integral sees the cubic term of f along the unstable direction) and O(T) when f is
      even about s along that direction, as for the double well.

    Both assume the start is in the basin of m, that s is the lowest saddle out of it (other saddles add their
    rates: 1 / E[tau] = sum of rates) and that T is small against the barrier (barrier / T of 5 or more).

    Parameters
    ----------
    landscape : an escapade Landscape (or anything with value, gradient, hessian).
    minimum, saddle : (d,) points or `CriticalPoint` objects; with `refine` (the default) they are only starts
        for `find_minimum` and `find_saddle`.
    temperature : T > 0.
    refine : polish the points first; otherwise they must be critical points of index 0 and 1 already.

    Returns
    -------
    EyringKramers
    """
    _check_landscape(landscape)
    T = as_float("temperature", temperature, positive=True)
    m0 = _point("minimum", minimum, landscape)
    s0 = _point("saddle", saddle, landscape)
    # The tolerances are relative to the landscape's own units: its largest curvature at the two points and their
    # distance (f or x multiplied by a constant changes no decision; an absolute gtol of 1e-10 left the start of
    # f = 1e-14 x DoubleWell unrefined and called its minimum degenerate).
    guess = [critical_point(landscape, p) for p in (m0, s0)]
    length = float(np.linalg.norm(guess[1].x - guess[0].x))
    if refine:
        gtol = 1e-10 * max(float(np.abs(c.eigenvalues).max()) for c in guess) * length
        if not (gtol > 0 and math.isfinite(gtol)):  # one start for both, no curvature, or an over/underflow
            gtol, length = 1e-10, 1.0  # the absolute defaults
        m = find_minimum(landscape, m0, gtol=gtol)
        s = find_saddle(landscape, s0, gtol=gtol, max_step=0.1 * length)
        # then to the softest curvature of the two points found, so that every direction is converged (a stiff
        # landscape's largest curvature alone leaves its soft directions loose), as far as round-off allows
        soft = min(float(np.abs(m.eigenvalues).min()), float(np.abs(s.eigenvalues).min()))
        fine = 1e-10 * soft * length
        if 0 < fine < gtol:
            try:
                m, s = (find_minimum(landscape, m.x, gtol=fine),
                        find_saddle(landscape, s.x, gtol=fine, max_step=0.1 * length))
            except RuntimeError:
                pass  # the first polish stands: the finer one is below the gradients' round-off
        length = float(np.linalg.norm(s.x - m.x))
    else:
        m, s = guess
    scale = max(float(np.abs(m.eigenvalues).max()), float(np.abs(s.eigenvalues).max()))
    if m.index != 0 or m.eigenvalues[0] <= 1e-12 * scale or m.gradient_norm > 1e-6 * scale * length:
        raise ValueError(f"minimum must be a nondegenerate minimum (positive definite Hessian, zero gradient), got "
                         f"{m!r}")
    if s.index != 1 or np.min(np.abs(s.eigenvalues)) <= 1e-12 * scale or s.gradient_norm > 1e-6 * scale * length:
        raise ValueError(f"saddle must be a nondegenerate index-1 saddle (one negative Hessian eigenvalue, zero "
                         f"gradient), got {s!r}")
    lam = float(s.eigenvalues[0])
    height = s.value - m.value
    prefactor = 2 * math.pi / abs(lam) * math.exp(0.5 * (s.log_abs_det - m.log_abs_det))
    if height / T > LOG_MAX - math.log(max(prefactor, 1.0)):  # exp(barrier / T) beyond floating point
        raise ValueError(f"temperature={temperature!r} is too small for the barrier {height:g}: the transition "
                         f"time prefactor * exp(barrier / temperature) overflows floating point")
    transition = prefactor * math.exp(height / T)
    return EyringKramers(temperature=T, barrier=height, prefactor=prefactor, transition_time=transition,
                         crossing_time=transition / 2, rate=1 / transition, unstable_eigenvalue=lam, minimum=m,
                         saddle=s)
