"""Random starting points. Path i's start depends only on (seed, i), like its noise, so it is the same for any
thread count and any split of the run."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._settings import check_allocation
from ._spec import Spec
from ._validate import as_array, as_bounds, as_float, as_int, as_square_matrix, check_dim


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StartSampler(Spec):
    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def sample(self, n: int, *, seed: int, first: int = 0) -> np.ndarray:
        """The starting points (n, d) of paths first, ..., first + n - 1 for this seed."""
        n = as_int("n", n, minimum=0)
        check_allocation("n", n, 8.0 * n * self.dim, f"points of dimension {self.dim}")  # before the core allocates
        first = as_int("first", first, minimum=0, maximum=2**64 - 1 - n)  # path indices are 64-bit
        return self._core.sample(as_int("seed", seed, minimum=0, maximum=2**64 - 1), first, n)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class UniformBox(StartSampler):
    """Uniform in the box [low, high]."""

    low: np.ndarray
    high: np.ndarray

    def __init__(self, low: ArrayLike, high: ArrayLike) -> None:
        lo, hi = as_bounds(low, high)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    def _to_core(self) -> Any:
        return _core.UniformBoxStart(low=self.low, high=self.high)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class UniformBall(StartSampler):
    """Uniform in the ball |x - center| <= radius."""

    center: np.ndarray
    radius: float

    def __init__(self, center: ArrayLike, radius: float) -> None:
        object.__setattr__(self, "center", as_array("center", center, ndim=1))
        object.__setattr__(self, "radius", as_float("radius", radius, positive=True))
        with np.errstate(over="ignore"):
            reach = np.abs(self.center) + self.radius
        if not np.all(np.isfinite(reach)):  # a point of the ball would be inf
            raise ValueError(f"radius must leave every point of the ball finite, got radius={self.radius} about a "
                             f"center coordinate of {np.abs(self.center).max()}: beyond the largest double")

    def _to_core(self) -> Any:
        return _core.UniformBallStart(center=self.center, radius=self.radius)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Gaussian(StartSampler):
    """Normal with the given mean (d,) and symmetric positive definite covariance (d, d)."""

    mean: np.ndarray
    cov: np.ndarray

    def __init__(self, mean: ArrayLike, cov: ArrayLike) -> None:
        m = as_array("mean", mean, ndim=1)
        c = as_square_matrix("cov", cov, symmetric=True)
        check_dim("cov", c, m.shape[0], "the length of mean")
        if np.linalg.eigvalsh(c).min() <= 0:
            raise ValueError(f"cov must be positive definite, got {c.tolist()}")
        object.__setattr__(self, "mean", m)
        object.__setattr__(self, "cov", c)

    def _to_core(self) -> Any:
        return _core.GaussianStart(mean=self.mean, cov=self.cov)
