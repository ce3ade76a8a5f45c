"""Styblinski-Tang sums (004, eqs. 54-55) and their local minimizers."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._settings import check_allocation
from .._validate import MAX_DIM, as_array, as_int
from .finite_sum import FiniteSum, _check_sign, _probabilities, _rng, _term_point


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StyblinskiTangSum(FiniteSum):
    """Styblinski-Tang sums (004, eqs. 54-55): F(x) = sum_i p_i f_i(x) with separable quartic terms
    f_i(x) = (1/2) sum_j (c1_ij x_j^4 + c2_ij x_j^2 + c3_ij x_j),  c1, c3 >= 0, c2 <= 0.

    F is itself (1/2) sum_j (A_j x_j^4 + B_j x_j^2 + C_j x_j) with A = p @ c1 (and B, C alike), summed once, so
    its gradient costs O(d) for any number of terms. Its Hessian is diagonal, 6 A_j x_j^2 + B_j, and its local
    minimizers are all combinations of each coordinate's local minima (two per coordinate when the cubic
    2 A_j x^3 + B_j x + C_j / 2 has three real roots, so 2^d minimizers).

    Parameters
    ----------
    c1, c2, c3 : (n, d) the terms' quartic, quadratic and linear coefficients.
    p : (n,) the terms' probabilities (default uniform).
    """

    c1: np.ndarray
    c2: np.ndarray
    c3: np.ndarray
    p: np.ndarray

    def __init__(self, c1: ArrayLike, c2: ArrayLike, c3: ArrayLike, p: ArrayLike | None = None) -> None:
        a = as_array("c1", c1, ndim=2)
        b = as_array("c2", c2, ndim=2)
        c = as_array("c3", c3, ndim=2)
        for name, arr in (("c2", b), ("c3", c)):
            if arr.shape != a.shape:
                raise ValueError(f"{name} must have the shape of c1 {a.shape} (n_terms, dim), got {arr.shape}")
        _check_sign("c1", a, nonnegative=True)
        _check_sign("c2", b, nonnegative=False)
        _check_sign("c3", c, nonnegative=True)
        object.__setattr__(self, "c1", a)
        object.__setattr__(self, "c2", b)
        object.__setattr__(self, "c3", c)
        object.__setattr__(self, "p", _probabilities(p, a.shape[0]))

    @property
    def n_terms(self) -> int:
        """The number of terms n."""
        return int(self.c1.shape[0])

    @classmethod
    def random(cls, dim: int, n_terms: int, *, seed: int, p: ArrayLike | None = None) -> StyblinskiTangSum:
        """Random terms around the classic Styblinski-Tang function (x^4 - 16 x^2 + 5 x) / 2: independently
        for every term and coordinate, c1 ~ U(0.5, 1.5), c2 = -16 U(0.5, 1.5), c3 = 5 U(0, 2).

        Every coefficient triple in that box (and so the weighted sum of any such terms) has two local minima
        per coordinate, so the sum has exactly 2^dim local minimizers. 004's Models 1-3 are dim 10, 50, 100 with
        200, 1000, 2000 terms.
        """
        d = as_int("dim", dim, minimum=1, maximum=MAX_DIM)
        n = as_int("n_terms", n_terms, minimum=1)
        check_allocation("n_terms", n, 8.0 * n * d * 4, f"random coefficients at dim={d}")  # c1, c2, c3, a temporary
        rng = _rng(seed)
        c1 = rng.uniform(0.5, 1.5, size=(n, d))
        c2 = -16.0 * rng.uniform(0.5, 1.5, size=(n, d))
        c3 = 5.0 * rng.uniform(0.0, 2.0, size=(n, d))
        return cls(c1, c2, c3, p)

    def coefficients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The summed coefficients (A, B, C), each (d,), of F = (1/2) sum_j (A_j x_j^4 + B_j x_j^2 + C_j x_j)."""
        return self._core.A, self._core.B, self._core.C

    def local_minima_per_coordinate(self) -> list[np.ndarray]:
        """For each coordinate j, the local minima of x -> (A_j x^4 + B_j x^2 + C_j x) / 2 in increasing order
        (the real roots of the cubic 2 A_j x^3 + B_j x + C_j / 2 with positive curvature 6 A_j x^2 + B_j,
        polished by Newton steps)."""
        A, B, C = self.coefficients()
        out = []
        for a, b, c in zip(A, B, C):
            roots = np.roots([2.0 * a, 0.0, b, 0.5 * c])
            real = roots.real[np.abs(roots.imag) <= 1e-8 * max(1.0, float(np.abs(roots).max(initial=0.0)))]
            for _ in range(3):  # Newton on the derivative; the roots are simple where the curvature is positive
                curv = 6.0 * a * real**2 + b
                step = np.divide(2.0 * a * real**3 + b * real + 0.5 * c, curv, out=np.zeros_like(real), where=curv != 0)
                real = real - step
            out.append(np.sort(real[6.0 * a * real**2 + b > 0]))
        return out

    def minimizer(self, choice: ArrayLike) -> np.ndarray:
        """The minimizer taking local minimum choice[j] (an index into local_minima_per_coordinate()[j]) in
        coordinate j."""
        minima = self._minima_or_raise()
        idx = np.asarray(choice)
        if idx.shape != (self.dim,) or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"choice must be {self.dim} integers (one index per coordinate), got {choice!r}")
        for j, (k, m) in enumerate(zip(idx, minima)):
            if not 0 <= k < len(m):
                raise ValueError(f"choice[{j}] must be in [0, {len(m)}) (coordinate {j} has {len(m)} local minima), "
                                 f"got {int(k)}")
        return np.array([m[k] for k, m in zip(idx, minima)])

    def minimizers(self, *, max_count: int = 2**16) -> np.ndarray:
        """All local minimizers of F, one per row (every combination of the per-coordinate minima, the last
        coordinate varying fastest). Raises ValueError when there would be more than `max_count`."""
        max_count = as_int("max_count", max_count, minimum=1)
        minima = self._minima_or_raise()
        count = int(np.prod([len(m) for m in minima], dtype=float))
        if count > max_count:
            raise ValueError(f"max_count must be at least the number of minimizers ({count}), got {max_count}; "
                             "use minimizer(choice), sharpest_minimizer() or flattest_minimizer() instead")
        check_allocation("max_count", max_count, 8.0 * count * (len(minima) + 1), f"{count} minimizers")
        out = np.empty((count, len(minima)))
        later = count  # how many rows each value of coordinate j spans: the product of the later coordinates' counts
        for j, m in enumerate(minima):  # any dimension (numpy's meshgrid stops at 32)
            later //= len(m)
            out[:, j] = np.tile(np.repeat(m, later), count // (len(m) * later))
        return out

    def sharpest_minimizer(self) -> np.ndarray:
        """The minimizer with the largest Hessian eigenvalues: in every coordinate the local minimum of larger
        curvature. It has the largest sharpness (largest eigenvalue) of all minimizers and, among the minimizers
        of that sharpness, every eigenvalue (so also the trace and determinant) largest."""
        return self._extreme_minimizer(np.argmax)

    def flattest_minimizer(self) -> np.ndarray:
        """The minimizer with the smallest Hessian eigenvalues: in every coordinate the local minimum of smaller
        curvature (the smallest sharpness, and every eigenvalue smallest)."""
        return self._extreme_minimizer(np.argmin)

    def _extreme_minimizer(self, pick: Any) -> np.ndarray:
        A, B, _ = self.coefficients()
        minima = self._minima_or_raise()
        return np.array([m[int(pick(6.0 * a * m**2 + b))] for a, b, m in zip(A, B, minima)])

    def _minima_or_raise(self) -> list[np.ndarray]:
        minima = self.local_minima_per_coordinate()
        for j, m in enumerate(minima):
            if len(m) == 0:
                A, B, C = (v[j] for v in self.coefficients())
                why = ("c1 must be positive somewhere in that column" if not A > 0 else
                       "its only minimum is degenerate, with zero curvature (B = 0 and C = 0 give A x^4 / 2)")
                raise ValueError(f"coordinate {j} of F has no local minimum with positive curvature (summed "
                                 f"coefficients A={A}, B={B}, C={C}; {why})")
        return minima

    def term_hessians(self, x: ArrayLike) -> np.ndarray:
        """The Hessians of the n terms at a point x (d,): diagonal, 6 c1_ij x_j^2 + c2_ij, as an (n, d, d) array."""
        a = _term_point(self, x)
        diag = 6.0 * self.c1 * a**2 + self.c2
        out = np.zeros((self.n_terms, self.dim, self.dim))
        out[:, np.arange(self.dim), np.arange(self.dim)] = diag
        return out

    def _to_core(self) -> Any:
        return _core.StyblinskiTangSum(c1=self.c1, c2=self.c2, c3=self.c3, p=self.p)
