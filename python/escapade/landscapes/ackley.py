"""The Ackley variant of 000 eq. (12)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import _core
from .._validate import MAX_DIM, as_float, as_int
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ackley(Landscape):
    """The Ackley variant of 000 eq. (12), in `dim` dimensions (for dim = 2 exactly the paper's):

        f(x) = a e^{-d} - a exp(-sqrt(|x|^2 / dim + d^2)) + e - exp(sum_i cos(c x_i) / dim),

    with f(0) = 0 the global minimum; d > 0 rounds off the classical Ackley cone at the origin. The paper uses
    a = 20, d = 0.05 and does not state c; the default c = 2 pi is the classical Ackley value.
    """

    a: float = 20.0
    d: float = 0.05
    c: float = 2 * np.pi
    dim: int = 2

    def __init__(self, a: float = 20.0, d: float = 0.05, c: float = 2 * np.pi, *, dim: int = 2) -> None:
        object.__setattr__(self, "a", as_float("a", a))
        object.__setattr__(self, "d", as_float("d", d, positive=True))
        object.__setattr__(self, "c", as_float("c", c))
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))

    def _to_core(self) -> Any:
        return _core.Ackley(dim=self.dim, a=self.a, d=self.d, c=self.c)
