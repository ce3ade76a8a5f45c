"""Landscapes: the functions whose minima and saddles the dynamics explore (gradients evaluated in C++)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_int, as_square_matrix, check_dim


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
