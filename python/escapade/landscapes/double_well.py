"""The separable double well height * sum_i (x_i^4 / 4 - x_i^2 / 2)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import _core
from .._validate import MAX_DIM, as_float, as_int
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DoubleWell(Landscape):
    """f(x) = height * sum_i (x_i^4 / 4 - x_i^2 / 2): minima at x_i = +-1, barrier height / 4 per coordinate at 0.

    Parameters
    ----------
    dim : number of coordinates (a separable sum of 1-D double wells); default 1.
    height : a positive scale of the whole landscape (default 1), so that the barrier is a parameter that
        `sweep` and `simulate(..., sensitivities=["landscape.height"])` can vary. height = 1 computes exactly what
        the landscape computed before it had a height, and is left out of `to_dict`.
    """

    dim: int = 1
    height: float = 1.0

    def __init__(self, dim: int = 1, height: float = 1.0) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        object.__setattr__(self, "height", as_float("height", height, positive=True))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.height == 1.0:  # the records of runs from before the height existed stay as they were
            del out["height"]
        return out

    def _to_core(self) -> Any:
        if self.height == 1.0:
            return _core.DoubleWell(dim=self.dim)
        return _core.DoubleWell(dim=self.dim, height=self.height)
