"""Du et al.'s (2017) "octopus": a chain of strict saddles on which gradient descent takes exponential time."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import MAX_DIM, as_float, as_int
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Octopus(Landscape):
    """The "octopus" of Du, Jin, Lee, Jordan, Poczos & Singh (2017, "Gradient descent can take exponential time to
    escape saddle points"): a C^2 function with a chain of `dim` strict saddles and one local minimum (per
    orthant), which gradient descent from a random start in [-tau, tau]^d visits one after another, so that the
    time it needs to reach the minimum grows exponentially with the dimension.

    f is even in every coordinate; with y = |x|, let k be the number of leading coordinates with y_j >= 2 tau and
    i = k + 1 the active one. On the domain D: y_j in [2 tau, 6 tau] for j < i, y_i in [0, 2 tau),
    y_j in [0, tau] for j > i (the k = d piece is [2 tau, 6 tau]^d),

        f = sum_{j<i} L (y_j - 4 tau)^2 - gamma y_i^2 + sum_{j>i} L y_j^2 - (i-1) nu           if y_i <= tau,
        f = sum_{j<i} L (y_j - 4 tau)^2 + G(y_i, y_{i+1}) + sum_{j>i+1} L y_j^2 - (i-1) nu     if tau < y_i < 2 tau,
        f = sum_j L (y_j - 4 tau)^2 - d nu                                                      if k = d,

    with the splines G(a, b) = g1(a) + g2(a) b^2 that turn coordinate i from unstable (-gamma) to stable (about
    4 tau) and coordinate i + 1 from stable (L) to unstable (-gamma), and nu = (37 L + 13 gamma) tau^2 / 6.
    Outside D the function is not defined: value, gradient and Hessian are NaN, and a simulated path that leaves
    D ends DIVERGED (gradient descent with lr <= 1 / (2 L) from [-tau, tau]^d stays in D).

    Parameters
    ----------
    dim : the number of coordinates d (and of saddles).
    L : the curvature 2 L of the stable directions (default e, as in the paper's experiments).
    gamma : the negative curvature -2 gamma of each saddle's unstable direction (default 1).
    tau : the length scale (default e).
    """

    dim: int = 2
    L: float = math.e
    gamma: float = 1.0
    tau: float = math.e

    def __init__(self, dim: int, *, L: float = math.e, gamma: float = 1.0, tau: float = math.e) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        object.__setattr__(self, "L", as_float("L", L, positive=True))
        object.__setattr__(self, "gamma", as_float("gamma", gamma, positive=True))
        object.__setattr__(self, "tau", as_float("tau", tau, positive=True))
        # its pieces are polynomials in x / tau with coefficients in L, gamma and tau: extreme values overflow or
        # underflow there (tau = 1e200: nu and f NaN), which would run as garbage
        nu, low = self.nu, float(self.value(self.minimum()))
        if not (math.isfinite(nu) and nu > 0 and math.isfinite(low) and low < 0):
            raise ValueError(f"L, gamma and tau must give a finite octopus (nu = (37 L + 13 gamma) tau^2 / 6 > 0 and "
                             f"f = -dim nu at the minimum), got nu = {nu!r}, f = {low!r} from L={L!r}, "
                             f"gamma={gamma!r}, tau={tau!r}")

    @property
    def nu(self) -> float:
        """The drop of f from one saddle to the next, (37 L + 13 gamma) tau^2 / 6."""
        return float(self._core.nu)

    def saddles(self) -> np.ndarray:
        """The d saddles in the positive orthant, one per row: saddle i has i - 1 leading entries 4 tau, then
        zeros (Hessian diagonal: 2 L, ..., -2 gamma at coordinate i, 2 L, ...)."""
        return np.tril(np.full((self.dim, self.dim), 4.0 * self.tau), k=-1)

    def minimum(self) -> np.ndarray:
        """The local minimum (4 tau, ..., 4 tau) of the positive orthant, where f = -d nu."""
        return np.full(self.dim, 4.0 * self.tau)

    def in_domain(self, x: ArrayLike) -> np.ndarray | bool:
        """True where x (d,) or each row of x (n, d) lies in the domain D (where f is defined)."""
        v = self.value(x)
        return bool(np.isfinite(v)) if np.ndim(v) == 0 else np.isfinite(v)

    def _to_core(self) -> Any:
        return _core.Octopus(dim=self.dim, L=self.L, gamma=self.gamma, tau=self.tau)
