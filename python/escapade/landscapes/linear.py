"""The linear landscape c . x: a constant force."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import MAX_DIM, as_array
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Linear(Landscape):
    """f(x) = slope . x: the constant force -slope (Langevin dynamics on it is drift-diffusion with drift -slope).

    Parameters
    ----------
    slope : (d,) the gradient; all zeros gives free diffusion.
    """

    slope: np.ndarray

    def __init__(self, slope: ArrayLike) -> None:
        c = as_array("slope", slope, ndim=1)
        if c.shape[0] > MAX_DIM:
            raise ValueError(f"slope must have at most {MAX_DIM} components, got {c.shape[0]}")
        object.__setattr__(self, "slope", c)

    def _to_core(self) -> Any:
        return _core.Linear(slope=self.slope)
