"""A quadratic with given eigenvalues plus a quartic confining term: a strict saddle at the origin."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import as_array, as_float
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StrictSaddle(Landscape):
    """f(x) = sum_i (lambda_i x_i^2 / 2 + q x_i^4 / 4): a quadratic with the given eigenvalues plus a quartic
    confining term. With negative eigenvalues the origin is a strict saddle (an index-m saddle for m negative
    ones), and the minima sit at x_i = +-sqrt(-lambda_i / q) along the negative directions.
    """

    eigenvalues: np.ndarray
    quartic: float = 1.0

    def __init__(self, eigenvalues: ArrayLike, quartic: float = 1.0) -> None:
        object.__setattr__(self, "eigenvalues", as_array("eigenvalues", eigenvalues, ndim=1))
        object.__setattr__(self, "quartic", as_float("quartic", quartic, positive=True))

    def minima(self) -> np.ndarray:
        """The 2^m minimizers (m = number of negative eigenvalues), one per row."""
        lam = self.eigenvalues
        neg = np.flatnonzero(lam < 0)
        signs = np.array(list(itertools.product([-1.0, 1.0], repeat=len(neg)))).reshape(2 ** len(neg), len(neg))
        out = np.zeros((2 ** len(neg), len(lam)))  # with no negative eigenvalue, the origin alone
        out[:, neg] = signs * np.sqrt(-lam[neg] / self.quartic)
        return out

    def _to_core(self) -> Any:
        return _core.StrictSaddle(eigenvalues=self.eigenvalues, quartic=self.quartic)
