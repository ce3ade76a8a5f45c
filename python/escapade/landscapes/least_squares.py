"""Ridge least squares on a data matrix, one term per sample."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import as_float
from .finite_sum import FiniteSum, _data, _term_point


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class LeastSquares(FiniteSum):
    """Ridge least squares on a data matrix, one term per sample (uniform weights):
    f_i(w) = (x_i^T w - y_i)^2 / 2 + (l2 / 2) |w|^2, F = (1/n) sum_i f_i, Hessian X^T X / n + l2 I.

    Parameters
    ----------
    X : (n, d) the samples (add a column of ones for an intercept).
    y : (n,) the targets.
    l2 : the ridge penalty, >= 0.
    """

    X: np.ndarray
    y: np.ndarray
    l2: float = 0.0

    def __init__(self, X: ArrayLike, y: ArrayLike, *, l2: float = 0.0) -> None:
        X, y = _data(X, y, outputs=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "l2", as_float("l2", l2, nonnegative=True))

    @property
    def n_terms(self) -> int:
        """The number of samples n."""
        return int(self.X.shape[0])

    def solution(self) -> np.ndarray:
        """The minimizer of F (least-norm when X^T X / n + l2 I is singular)."""
        n = self.n_terms
        with np.errstate(over="ignore", invalid="ignore"):
            H, b = self.X.T @ self.X / n + self.l2 * np.eye(self.dim), self.X.T @ self.y / n
        if not (np.isfinite(H).all() and np.isfinite(b).all()):
            raise ValueError(f"X^T X / n or X^T y / n overflows (X up to {np.abs(self.X).max():g} in absolute "
                             f"value, y up to {np.abs(self.y).max():g}): scale X and y")
        w: np.ndarray = np.linalg.lstsq(H, b, rcond=None)[0]
        return w

    def term_hessians(self, x: ArrayLike) -> np.ndarray:
        """The Hessians of the n terms at a point x (d,): x_i x_i^T + l2 I, (n, d, d)."""
        _term_point(self, x)
        return np.einsum("ij,ik->ijk", self.X, self.X) + self.l2 * np.eye(self.dim)

    def _to_core(self) -> Any:
        return _core.LeastSquares(X=self.X, y=self.y, l2=self.l2)
