"""Equality constraints g(x) = 0 for the constrained flow (`ConstrainedFlow`): value g (m,) and Jacobian J (m, d),
evaluated by the compiled core."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import MAX_DIM, as_array, as_float, as_int, check_dim

__all__ = ["Affine", "Constraint", "Parabola", "Sphere"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Constraint(Spec):
    """Common interface: `dim` (d), `n_constraints` (m), `value` and `jacobian`."""

    @property
    def dim(self) -> int:
        return int(self._core.dim)

    @property
    def n_constraints(self) -> int:
        return int(self._core.n_constraints)

    def value(self, x: ArrayLike) -> np.ndarray:
        """g at a point (d,) -> (m,), or at each row of (n, d) -> (n, m)."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the constraint's dimension")
        g = self._core.value(a)
        return g[0] if a.ndim == 1 else g

    def jacobian(self, x: ArrayLike) -> np.ndarray:
        """J = Dg, shape (m, d), at a point (d,)."""
        a = as_array("x", x, ndim=1)
        check_dim("x", a, self.dim, "the constraint's dimension")
        return self._core.jacobian(a)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Parabola(Constraint):
    """g(x) = x_0 - (x_1^2 + ... + x_{d-1}^2) / 2; for d = 2 the parabola x1 = x2^2 / 2 of 000's example, whose
    Jacobian J = [1, -x_2] never loses rank."""

    dim: int = 2

    def __init__(self, dim: int = 2) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=2, maximum=MAX_DIM))

    def _to_core(self) -> Any:
        return _core.Parabola(dim=self.dim)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Sphere(Constraint):
    """g(x) = |x - center|^2 - radius^2; J = 2 (x - center)^T vanishes at the center (status SINGULAR there)."""

    center: np.ndarray
    radius: float

    def __init__(self, center: ArrayLike, radius: float = 1.0) -> None:
        object.__setattr__(self, "center", as_array("center", center, ndim=1))
        object.__setattr__(self, "radius", as_float("radius", radius, positive=True))

    def _to_core(self) -> Any:
        return _core.Sphere(center=self.center, radius=self.radius)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Affine(Constraint):
    """g(x) = A x - b with A (m, d) and b (m,); J = A, singular when A has dependent rows."""

    A: np.ndarray
    b: np.ndarray

    def __init__(self, A: ArrayLike, b: ArrayLike) -> None:
        A = as_array("A", A, ndim=2)
        b = as_array("b", b, ndim=1)
        if b.shape[0] != A.shape[0]:
            raise ValueError(f"b must have {A.shape[0]} entries (the rows of A), got shape {b.shape}")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)

    def _to_core(self) -> Any:
        return _core.Affine(A=self.A, b=self.b)
