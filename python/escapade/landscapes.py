"""Landscapes: the functions whose minima and saddles the dynamics explore (gradients evaluated in C++)."""

from __future__ import annotations

import dataclasses
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
class Ackley(Landscape):
    """The Ackley variant of 000 eq. (12), in `dim` dimensions (for dim = 2 exactly the paper's):

        f(x) = a e^{-d} - a exp(-sqrt(|x|^2 / dim + d^2)) + e - exp(sum_i cos(c x_i) / dim),

    with f(0) = 0 the global minimum; d > 0 rounds off the classical Ackley cone at the origin. The paper uses
    a = 20, d = 0.05 and does not state c; the default c = 2 pi is the classical Ackley value.
    """

    a: float = 20.0
    d: float = 0.05
    c: float = 2 * np.pi
    dim: int = 2

    def __init__(self, a: float = 20.0, d: float = 0.05, c: float = 2 * np.pi, *, dim: int = 2) -> None:
        object.__setattr__(self, "a", as_float("a", a))
        object.__setattr__(self, "d", as_float("d", d, positive=True))
        object.__setattr__(self, "c", as_float("c", c))
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1))

    def _to_core(self) -> Any:
        return _core.Ackley(dim=self.dim, a=self.a, d=self.d, c=self.c)
