"""The separable double well sum_i (x_i^4 / 4 - x_i^2 / 2)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import _core
from .._validate import MAX_DIM, as_int
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DoubleWell(Landscape):
    """f(x) = sum_i (x_i^4 / 4 - x_i^2 / 2): minima at x_i = +-1, barrier height 1/4 per coordinate at 0.

    Parameters
    ----------
    dim : number of coordinates (a separable sum of 1-D double wells); default 1.
    """

    dim: int = 1

    def __init__(self, dim: int = 1) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))

    def _to_core(self) -> Any:
        return _core.DoubleWell(dim=self.dim)
