"""The periodic landscape amplitude * sum_i (1 - cos(2 pi x_i / period))."""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import _core
from .._validate import MAX_DIM, as_float, as_int
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Cosine(Landscape):
    """f(x) = amplitude * sum_i (1 - cos(2 pi x_i / period)): minima at the multiples of `period`, saddles and
    maxima halfway, barrier 2 * amplitude per coordinate. The gradient is evaluated with a vectorized sine, as fast
    per lane as the polynomial landscapes.

    Parameters
    ----------
    dim : number of coordinates (a separable sum); default 1. amplitude : finite (negative flips the landscape).
    period : positive.
    """

    dim: int = 1
    amplitude: float = 1.0
    period: float = 1.0

    def __init__(self, dim: int = 1, amplitude: float = 1.0, period: float = 1.0) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        object.__setattr__(self, "amplitude", as_float("amplitude", amplitude))
        object.__setattr__(self, "period", as_float("period", period, positive=True))

    def _to_core(self) -> Any:
        return _core.Cosine(dim=self.dim, amplitude=self.amplitude, period=self.period)
