"""Finite sums F(x) = sum_i p_i f_i(x), whose terms SGDk and SGLD minibatches sample, and the argument
checks their constructors share."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_array, as_int, check_dim
from .base import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class FiniteSum(Landscape):
    """A finite sum F(x) = sum_i p_i f_i(x): `value`, `gradient` and `hessian` are F's, `term_gradient` a term's.
    `SGDk` and `SGLD` with a batch size sample the terms: with replacement with probabilities p, without
    uniformly with weights n p_i (either way the minibatch gradient's expectation is grad F)."""

    @property
    def n_terms(self) -> int:
        """The number of terms n."""
        return int(self._core.n_terms)

    @property
    def weights(self) -> np.ndarray:
        """The terms' probabilities p (n,)."""
        w: np.ndarray = self._core.weights
        return w

    def term_gradient(self, i: int, x: ArrayLike) -> np.ndarray:
        """grad f_i (not weighted by p_i) at a point (d,) -> (d,), or at each row of (n, d) -> (n, d)."""
        i = as_int("i", i, minimum=0, maximum=self.n_terms - 1)
        a = self._points(x)
        g = self._core.term_gradient(i, a)
        return g[0] if a.ndim == 1 else g


def _probabilities(p: ArrayLike | None, n: int) -> np.ndarray:
    """The terms' probabilities: uniform when None, else n non-negative numbers summing to 1."""
    if p is None:
        return np.full(n, 1.0 / n)
    a = as_array("p", p, ndim=1)
    if a.shape != (n,) or np.any(a < 0) or abs(a.sum() - 1.0) > 1e-9:
        raise ValueError(f"p must be {n} non-negative probabilities summing to 1, got {a.tolist()}")
    return a


def _term_point(f: Landscape, x: ArrayLike) -> np.ndarray:
    a = as_array("x", x, ndim=1)
    check_dim("x", a, f.dim, "the landscape's dimension")
    return a


def _data(X: ArrayLike, y: ArrayLike, *, outputs: bool) -> tuple[np.ndarray, np.ndarray]:
    X = as_array("X", X, ndim=2)
    y = as_array("y", y, ndim=(1, 2) if outputs else 1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one target per row of X ({X.shape[0]}), got shape {y.shape}")
    return X, y


def _rng(seed: Any) -> np.random.Generator:
    return np.random.default_rng(as_int("seed", seed, minimum=0))


def _check_sign(name: str, a: np.ndarray, *, nonnegative: bool) -> None:
    bad = np.argwhere(a < 0 if nonnegative else a > 0)
    if len(bad):
        where = tuple(int(k) for k in bad[0])
        want = ">= 0" if nonnegative else "<= 0"
        raise ValueError(f"{name} must be {want} in every entry, got {name}[{', '.join(map(str, where))}] = {a[where]}")
