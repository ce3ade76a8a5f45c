"""The quadratic (x - c)^T H (x - c) / 2 with a dense symmetric H of any signature."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import as_array, as_square_matrix, check_dim
from .base import Landscape


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
