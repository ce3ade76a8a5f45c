"""The interface every landscape shares (escapade/landscape.hpp): `dim`, and `value`, `gradient`, `hessian`
evaluated by the compiled core."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike

from .._spec import Spec
from .._validate import as_array, check_dim


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
