"""Quadratic-circle sums on R^2 (004, Problem 4.1 and Appendix A)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import as_array
from .finite_sum import FiniteSum, _check_sign, _probabilities, _term_point


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class QuadraticCircleSum(FiniteSum):
    """Quadratic-circle sums on R^2 (004, Problem 4.1 and Appendix A): F(x) = sum_i p_i min{g_i(x), h_i(x)} with

    - the quadratic basin (A1) g(x) = q1 (x2 - q2 x1^2 - q3)^2, zero on the parabola x2 = q2 x1^2 + q3;
    - the circular basin (A2) h(x) = c4 for |x| <= c2, c4 + c1 for |x| >= c3 and in between
      c4 + c1 s^3 (6 s^2 - 15 s + 10) with s = (|x| - c2) / (c3 - c2), twice continuously differentiable;
    - their minimum (A3); where g(x) = h(x) the gradient and Hessian are g's (004, Remark 3).

    Parameters
    ----------
    q1, q2, q3, c1, c2, c3, c4 : the terms' parameters, each a number (shared by every term) or an (n,) array.
        q1, q2, c1, c2, c4 >= 0 and c3 > c2 >= 0; q3 any real.
    p : (n,) the terms' probabilities (default uniform).
    """

    q1: np.ndarray
    q2: np.ndarray
    q3: np.ndarray
    c1: np.ndarray
    c2: np.ndarray
    c3: np.ndarray
    c4: np.ndarray
    p: np.ndarray

    def __init__(self, q1: ArrayLike, q2: ArrayLike, q3: ArrayLike, c1: ArrayLike, c2: ArrayLike, c3: ArrayLike,
                 c4: ArrayLike, p: ArrayLike | None = None) -> None:
        names = ("q1", "q2", "q3", "c1", "c2", "c3", "c4")
        given = {name: as_array(name, v, ndim=(0, 1)) for name, v in zip(names, (q1, q2, q3, c1, c2, c3, c4))}
        n = max(a.size for a in given.values())
        for name, a in given.items():
            if a.ndim == 1 and a.size != n:
                raise ValueError(f"{name} must be a number or have {n} entries (one per term), got shape {a.shape}")
            if name != "q3":
                _check_sign(name, a.reshape(-1), nonnegative=True)
            arr = np.broadcast_to(a, (n,)).copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        bad = np.flatnonzero(self.c3 <= self.c2)
        if len(bad):
            i = int(bad[0])
            raise ValueError(f"c3 must be larger than c2 in every term, got c3[{i}] = {self.c3[i]} <= c2[{i}] = {self.c2[i]}")
        object.__setattr__(self, "p", _probabilities(p, n))

    @property
    def n_terms(self) -> int:
        """The number of terms n."""
        return int(self.q1.shape[0])

    def term_hessians(self, x: ArrayLike) -> np.ndarray:
        """The Hessians of the n terms at a point x (2,), an (n, 2, 2) array: g's (A1) where g_i(x) <= h_i(x) (ties
        included, 004 Remark 3), else h's (A2), h'' e e' + (h' / |x|)(I - e e') with e = x / |x| (zero on the flat
        parts |x| <= c2 and |x| >= c3)."""
        a = _term_point(self, x)
        x1, x2 = float(a[0]), float(a[1])
        q1, q2 = self.q1, self.q2
        u = x2 - q2 * x1**2 - self.q3
        gq = q1 * u**2
        r = float(np.hypot(x1, x2))
        w = self.c3 - self.c2
        s = np.clip((r - self.c2) / w, 0.0, 1.0)
        wall = (r > self.c2) & (r < self.c3)
        hc = self.c4 + self.c1 * s**3 * (6 * s**2 - 15 * s + 10)
        dh = np.where(wall, 30 * self.c1 * s**2 * (s - 1) ** 2 / w, 0.0)
        d2h = np.where(wall, 60 * self.c1 * s * (s - 1) * (2 * s - 1) / w**2, 0.0)
        out = np.zeros((self.n_terms, 2, 2))
        if r > 0:
            e = np.array([x1, x2]) / r
            P = np.outer(e, e)
            out += d2h[:, None, None] * P + (dh / r)[:, None, None] * (np.eye(2) - P)
        quad = gq <= hc
        gh = np.empty((self.n_terms, 2, 2))
        gh[:, 0, 0] = -4 * q1 * q2 * u + 8 * q1 * q2**2 * x1**2
        gh[:, 0, 1] = gh[:, 1, 0] = -4 * q1 * q2 * x1
        gh[:, 1, 1] = 2 * q1
        out[quad] = gh[quad]
        return out

    def _to_core(self) -> Any:
        return _core.QuadraticCircleSum(q1=self.q1, q2=self.q2, q3=self.q3, c1=self.c1, c2=self.c2, c3=self.c3,
                                        c4=self.c4, p=self.p)
