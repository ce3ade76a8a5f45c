"""Regions of state space. As `stop=` a region ends a path when the path leaves it (status EXITED); as
`target=` when the path enters it (status HIT). Between two steps of an SDE, a crossing the discrete path
missed is caught by the Brownian-bridge test (see `simulate(bridge=...)`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_bounds, as_float, check_dim


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Region(Spec):
    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def contains(self, x: ArrayLike) -> np.ndarray | bool:
        """Whether a point (d,), or each row of (n, d), lies in the region."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the region's dimension")
        inside = self._core.contains(a).astype(bool)
        return bool(inside[0]) if a.ndim == 1 else inside


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class HalfSpace(Region):
    """The half-space {x : normal . x < offset}; a path leaves it when normal . x >= offset."""

    normal: np.ndarray
    offset: float

    def __init__(self, normal: ArrayLike, offset: float = 0.0) -> None:
        n = as_array("normal", normal, ndim=1)
        if not np.any(n):
            raise ValueError(f"normal must be non-zero, got {n.tolist()}")
        object.__setattr__(self, "normal", n)
        object.__setattr__(self, "offset", as_float("offset", offset))

    def _to_core(self) -> Any:
        return _core.HalfSpace(normal=self.normal, offset=self.offset)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ball(Region):
    """The open ball {x : |x - center| < radius}."""

    center: np.ndarray
    radius: float

    def __init__(self, center: ArrayLike, radius: float) -> None:
        object.__setattr__(self, "center", as_array("center", center, ndim=1))
        object.__setattr__(self, "radius", as_float("radius", radius, positive=True))

    def _to_core(self) -> Any:
        return _core.Ball(center=self.center, radius=self.radius)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Box(Region):
    """The open box {x : low < x < high}; bounds may be infinite (a slab or a half-line)."""

    low: np.ndarray
    high: np.ndarray

    def __init__(self, low: ArrayLike, high: ArrayLike) -> None:
        lo, hi = as_bounds(low, high, finite=False)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    def _to_core(self) -> Any:
        return _core.Box(low=self.low, high=self.high)
