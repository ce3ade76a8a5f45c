"""Landscapes: the functions whose minima and saddles the dynamics explore (gradients evaluated in C++)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_float, as_int, as_square_matrix, check_dim


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Landscape(Spec):
    """Common interface: `dim`, and `value`, `gradient`, `hessian` evaluated by the compiled core."""

    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def value(self, x: ArrayLike) -> np.ndarray | float:
        """f at a point (d,) or at each row of (n, d)."""
        a = self._points(x)
        v = self._core.value(a)
        return float(v[0]) if a.ndim == 1 else v

    def gradient(self, x: ArrayLike) -> np.ndarray:
        """grad f at a point (d,) -> (d,), or at each row of (n, d) -> (n, d)."""
        a = self._points(x)
        g = self._core.gradient(a)
        return g[0] if a.ndim == 1 else g

    def hessian(self, x: ArrayLike) -> np.ndarray:
        """The Hessian (d, d) at a point (d,)."""
        a = as_array("x", x, ndim=1)
        check_dim("x", a, self.dim, "the landscape's dimension")
        return self._core.hessian(a)

    def _points(self, x: ArrayLike) -> np.ndarray:
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the landscape's dimension")
        return a


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DoubleWell(Landscape):
    """f(x) = sum_i (x_i^4 / 4 - x_i^2 / 2): minima at x_i = +-1, barrier height 1/4 per coordinate at 0.

    Parameters
    ----------
    dim : number of coordinates (a separable sum of 1-D double wells); default 1.
    """

    dim: int = 1

    def __init__(self, dim: int = 1) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1))

    def _to_core(self) -> Any:
        return _core.DoubleWell(dim=self.dim)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Quadratic(Landscape):
    """f(x) = (x - c)^T H (x - c) / 2 for a dense symmetric H of any signature.

    Parameters
    ----------
    H : (d, d) symmetric matrix.
    center : (d,) the critical point c; default the origin.
    """

    H: np.ndarray
    center: np.ndarray  # the origin when not given

    def __init__(self, H: ArrayLike, center: ArrayLike | None = None) -> None:
        H = as_square_matrix("H", H, symmetric=True)
        c = np.zeros(H.shape[0]) if center is None else as_array("center", center, ndim=1)
        check_dim("center", c, H.shape[0], "the size of H")
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "center", c)

    def _to_core(self) -> Any:
        return _core.Quadratic(H=self.H, center=self.center)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StochasticQuadratic(Landscape):
    """The stochastic quadratic problem (004, Problem 3.1) with n terms:
    F(x) = sum_i p_i f_i(x), f_i(x) = x^T Q_i x / 2 + r_i^T x, each Q_i symmetric positive semi-definite.

    Parameters
    ----------
    Q : (n, d, d) the terms' matrices.
    r : (n, d) the terms' linear parts (default zero).
    p : (n,) the terms' probabilities (default uniform), as sampled by `SGDk`.
    """

    Q: np.ndarray
    r: np.ndarray
    p: np.ndarray

    def __init__(self, Q: ArrayLike, r: ArrayLike | None = None, p: ArrayLike | None = None) -> None:
        Q = as_array("Q", Q, ndim=3)
        n, d, d2 = Q.shape
        if d != d2:
            raise ValueError(f"Q must have shape (n, d, d), got {Q.shape}")
        for i in range(n):
            q = Q[i]
            if np.abs(q - q.T).max() > 1e-12 * max(np.abs(q).max(), 1e-300):
                raise ValueError(f"Q must be symmetric in every term, got term {i} = {q.tolist()}")
            w = np.linalg.eigvalsh(q)
            if w.min() < -1e-12 * max(1.0, float(np.abs(w).max())):
                raise ValueError(f"Q must be positive semi-definite in every term, got term {i} with eigenvalues {w.tolist()}")
        r = np.zeros((n, d)) if r is None else as_array("r", r, ndim=2)
        if r.shape != (n, d):
            raise ValueError(f"r must have shape {(n, d)} (one vector per term), got {r.shape}")
        p = np.full(n, 1.0 / n) if p is None else as_array("p", p, ndim=1)
        if p.shape != (n,) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
            raise ValueError(f"p must be {n} non-negative probabilities summing to 1, got {p.tolist()}")
        object.__setattr__(self, "Q", Q)
        object.__setattr__(self, "r", r)
        object.__setattr__(self, "p", p)

    @property
    def n_terms(self) -> int:
        return int(self.Q.shape[0])

    def _to_core(self) -> Any:
        return _core.StochasticQuadratic(Q=self.Q, r=self.r, p=self.p)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StrictSaddle(Landscape):
    """f(x) = sum_i (lambda_i x_i^2 / 2 + q x_i^4 / 4): a quadratic with the given eigenvalues plus a quartic
    confining term. With negative eigenvalues the origin is a strict saddle (an index-m saddle for m negative
    ones), and the minima sit at x_i = +-sqrt(-lambda_i / q) along the negative directions.
    """

    eigenvalues: np.ndarray
    quartic: float = 1.0

    def __init__(self, eigenvalues: ArrayLike, quartic: float = 1.0) -> None:
        object.__setattr__(self, "eigenvalues", as_array("eigenvalues", eigenvalues, ndim=1))
        object.__setattr__(self, "quartic", as_float("quartic", quartic, positive=True))

    def minima(self) -> np.ndarray:
        """The 2^m minimizers (m = number of negative eigenvalues), one per row."""
        lam = self.eigenvalues
        neg = np.flatnonzero(lam < 0)
        signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * len(neg), indexing="ij")).reshape(len(neg), -1).T
        out = np.zeros((max(len(signs), 1), len(lam)))
        if len(neg):
            out[:, neg] = signs * np.sqrt(-lam[neg] / self.quartic)
        return out

    def _to_core(self) -> Any:
        return _core.StrictSaddle(eigenvalues=self.eigenvalues, quartic=self.quartic)


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
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1))
        object.__setattr__(self, "L", as_float("L", L, positive=True))
        object.__setattr__(self, "gamma", as_float("gamma", gamma, positive=True))
        object.__setattr__(self, "tau", as_float("tau", tau, positive=True))

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
