"""Landscapes: the functions whose minima and saddles the dynamics explore (gradients evaluated in C++)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_float, as_int, as_square_matrix, check_dim


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Landscape(Spec):
    """Common interface: `dim`, and `value`, `gradient`, `hessian` evaluated by the compiled core."""

    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def value(self, x: ArrayLike) -> np.ndarray | float:
        """f at a point (d,) or at each row of (n, d)."""
        a = self._points(x)
        v = self._core.value(a)
        return float(v[0]) if a.ndim == 1 else v

    def gradient(self, x: ArrayLike) -> np.ndarray:
        """grad f at a point (d,) -> (d,), or at each row of (n, d) -> (n, d)."""
        a = self._points(x)
        g = self._core.gradient(a)
        return g[0] if a.ndim == 1 else g

    def hessian(self, x: ArrayLike) -> np.ndarray:
        """The Hessian (d, d) at a point (d,)."""
        a = as_array("x", x, ndim=1)
        check_dim("x", a, self.dim, "the landscape's dimension")
        return self._core.hessian(a)

    def _points(self, x: ArrayLike) -> np.ndarray:
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the landscape's dimension")
        return a


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DoubleWell(Landscape):
    """f(x) = sum_i (x_i^4 / 4 - x_i^2 / 2): minima at x_i = +-1, barrier height 1/4 per coordinate at 0.

    Parameters
    ----------
    dim : number of coordinates (a separable sum of 1-D double wells); default 1.
    """

    dim: int = 1

    def __init__(self, dim: int = 1) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1))

    def _to_core(self) -> Any:
        return _core.DoubleWell(dim=self.dim)


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
        signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * len(neg), indexing="ij")).reshape(len(neg), -1).T
        out = np.zeros((max(len(signs), 1), len(lam)))
        if len(neg):
            out[:, neg] = signs * np.sqrt(-lam[neg] / self.quartic)
        return out

    def _to_core(self) -> Any:
        return _core.StrictSaddle(eigenvalues=self.eigenvalues, quartic=self.quartic)


# ---------------------------------------------------------------------------------------------------------------
# Finite sums: F(x) = sum_i p_i f_i(x), whose terms SGDk and SGLD minibatches sample


def _probabilities(p: ArrayLike | None, n: int) -> np.ndarray:
    """The terms' probabilities: uniform when None, else n non-negative numbers summing to 1."""
    if p is None:
        return np.full(n, 1.0 / n)
    a = as_array("p", p, ndim=1)
    if a.shape != (n,) or np.any(a < 0) or abs(a.sum() - 1.0) > 1e-9:
        raise ValueError(f"p must be {n} non-negative probabilities summing to 1, got {a.tolist()}")
    return a


def _rng(seed: Any) -> np.random.Generator:
    return np.random.default_rng(as_int("seed", seed, minimum=0))


def _check_sign(name: str, a: np.ndarray, *, nonnegative: bool) -> None:
    bad = np.argwhere(a < 0 if nonnegative else a > 0)
    if len(bad):
        where = tuple(int(k) for k in bad[0])
        want = ">= 0" if nonnegative else "<= 0"
        raise ValueError(f"{name} must be {want} in every entry, got {name}[{', '.join(map(str, where))}] = {a[where]}")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class FiniteSum(Landscape):
    """A finite sum F(x) = sum_i p_i f_i(x): `value`, `gradient` and `hessian` are F's, `term_gradient` a term's.
    `SGDk` and `SGLD` with a batch size sample the terms with probabilities p."""

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


def _term_point(f: Landscape, x: ArrayLike) -> np.ndarray:
    a = as_array("x", x, ndim=1)
    check_dim("x", a, f.dim, "the landscape's dimension")
    return a


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StochasticQuadratic(FiniteSum):
    """The stochastic quadratic problem (004, Problem 3.1) with n terms:
    F(x) = sum_i p_i f_i(x), f_i(x) = x^T Q_i x / 2 + r_i^T x, each Q_i symmetric positive semi-definite.

    Parameters
    ----------
    Q : (n, d, d) the terms' matrices.
    r : (n, d) the terms' linear parts (default zero).
    p : (n,) the terms' probabilities (default uniform), as sampled by `SGDk`.

    `homogeneous` and `inhomogeneous` draw random instances of either kind (004, Definition 3.4).
    """

    Q: np.ndarray
    r: np.ndarray
    p: np.ndarray

    def __init__(self, Q: ArrayLike, r: ArrayLike | None = None, p: ArrayLike | None = None) -> None:
        Q = as_array("Q", Q, ndim=3)
        n, d, d2 = Q.shape
        if d != d2:
            raise ValueError(f"Q must have shape (n, d, d), got {Q.shape}")
        for i in range(n):
            q = Q[i]
            if np.abs(q - q.T).max() > 1e-12 * max(np.abs(q).max(), 1e-300):
                raise ValueError(f"Q must be symmetric in every term, got term {i} = {q.tolist()}")
            w = np.linalg.eigvalsh(q)
            if w.min() < -1e-12 * max(1.0, float(np.abs(w).max())):
                raise ValueError(f"Q must be positive semi-definite in every term, got term {i} with eigenvalues {w.tolist()}")
        r = np.zeros((n, d)) if r is None else as_array("r", r, ndim=2)
        if r.shape != (n, d):
            raise ValueError(f"r must have shape {(n, d)} (one vector per term), got {r.shape}")
        object.__setattr__(self, "Q", Q)
        object.__setattr__(self, "r", r)
        object.__setattr__(self, "p", _probabilities(p, n))

    @property
    def n_terms(self) -> int:
        """The number of terms n."""
        return int(self.Q.shape[0])

    @classmethod
    def homogeneous(cls, dim: int, n_terms: int, *, seed: int, rank: int | None = None,
                    minimizer: ArrayLike | None = None, p: ArrayLike | None = None) -> StochasticQuadratic:
        """A random instance whose minimizer theta* minimizes every term: Q_i theta* + r_i = 0 for all i.

        Q_i = A_i A_i^T / rank with A_i a (dim, rank) standard normal matrix (rank defaults to dim), and
        r_i = -Q_i theta*; theta* is `minimizer`, or standard normal drawn from `seed`.
        """
        d, n, k, rng = cls._sizes(dim, n_terms, rank, seed)
        theta = rng.normal(size=d) if minimizer is None else as_array("minimizer", minimizer, ndim=1)
        check_dim("minimizer", theta, d, "dim")
        Q = cls._random_psd(rng, n, d, k)
        return cls(Q, -Q @ theta, p)

    @classmethod
    def inhomogeneous(cls, dim: int, n_terms: int, *, seed: int, rank: int | None = None, spread: float = 1.0,
                      p: ArrayLike | None = None) -> StochasticQuadratic:
        """A random instance whose terms have minimizers of their own: r_i = -Q_i theta_i (so r_i lies in the
        image of Q_i, as Problem 3.1 asks) with theta_i = m + spread * z_i, m and z_i standard normal.

        Q_i as in `homogeneous`. With n_terms >= 2 and spread > 0 no point minimizes every term (almost surely).
        """
        d, n, k, rng = cls._sizes(dim, n_terms, rank, seed)
        if n < 2:
            raise ValueError(f"n_terms must be >= 2 for an inhomogeneous instance, got {n}")
        spread = as_float("spread", spread, positive=True)
        theta = rng.normal(size=d) + spread * rng.normal(size=(n, d))
        Q = cls._random_psd(rng, n, d, k)
        return cls(Q, -np.einsum("nij,nj->ni", Q, theta), p)

    @staticmethod
    def _sizes(dim: int, n_terms: int, rank: int | None, seed: int) -> tuple[int, int, int, np.random.Generator]:
        d = as_int("dim", dim, minimum=1)
        n = as_int("n_terms", n_terms, minimum=1)
        k = d if rank is None else as_int("rank", rank, minimum=1, maximum=d)
        return d, n, k, _rng(seed)

    @staticmethod
    def _random_psd(rng: np.random.Generator, n: int, d: int, k: int) -> np.ndarray:
        A = rng.normal(size=(n, d, k))
        Q = np.einsum("nik,njk->nij", A, A) / k
        return (Q + Q.transpose(0, 2, 1)) / 2

    def minimizer(self) -> np.ndarray:
        """A minimizer theta* of F: the least-norm solution of E[Q] theta = -E[r] (unique when E[Q] is
        positive definite)."""
        EQ = np.einsum("n,nij->ij", self.p, self.Q)
        Er = self.p @ self.r
        theta: np.ndarray = np.linalg.lstsq(EQ, -Er, rcond=None)[0]
        return theta

    def is_homogeneous(self, *, tol: float = 1e-9) -> bool:
        """Whether some theta minimizes every term with p_i > 0 (004, Definition 3.4): the stacked system
        Q_i theta = -r_i has a solution, up to `tol` relative to the size of Q and r."""
        tol = as_float("tol", tol, positive=True)
        used = self.p > 0
        M = self.Q[used].reshape(-1, self.dim)
        b = -self.r[used].reshape(-1)
        theta = np.linalg.lstsq(M, b, rcond=None)[0]
        scale = np.abs(M).max() * np.abs(theta).max() + np.abs(b).max()
        return bool(np.abs(M @ theta - b).max() <= tol * max(scale, 1e-300))

    def term_hessians(self, x: ArrayLike) -> np.ndarray:
        """The Hessians of the n terms at a point x (d,): the constant (n, d, d) array Q. With the attribute `p`
        this is the finite-sum protocol of `escapade.analysis.local_curvature`."""
        _term_point(self, x)
        return self.Q

    def _to_core(self) -> Any:
        return _core.StochasticQuadratic(Q=self.Q, r=self.r, p=self.p)


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
        d = as_int("dim", dim, minimum=1)
        n = as_int("n_terms", n_terms, minimum=1)
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
        grids = np.meshgrid(*minima, indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=1)

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
                raise ValueError(f"coordinate {j} of F has no local minimum (summed coefficients A={A}, B={B}, C={C}; "
                                 "c1 must be positive somewhere in that column)")
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


def _data(X: ArrayLike, y: ArrayLike, *, outputs: bool) -> tuple[np.ndarray, np.ndarray]:
    X = as_array("X", X, ndim=2)
    y = as_array("y", y, ndim=(1, 2) if outputs else 1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one target per row of X ({X.shape[0]}), got shape {y.shape}")
    return X, y


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
        H = self.X.T @ self.X / n + self.l2 * np.eye(self.dim)
        w: np.ndarray = np.linalg.lstsq(H, self.X.T @ self.y / n, rcond=None)[0]
        return w

    def term_hessians(self, x: ArrayLike) -> np.ndarray:
        """The Hessians of the n terms at a point x (d,): x_i x_i^T + l2 I, (n, d, d)."""
        _term_point(self, x)
        return np.einsum("ij,ik->ijk", self.X, self.X) + self.l2 * np.eye(self.dim)

    def _to_core(self) -> Any:
        return _core.LeastSquares(X=self.X, y=self.y, l2=self.l2)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class MLP(FiniteSum):
    """A one-hidden-layer tanh network fitted by l2-regularized mean squared error (003's experiment), one term
    per sample: yhat(x) = W2 tanh(W1 x + b1) + b2 and
    f_i(theta) = |yhat(x_i) - y_i|^2 / 2 + (l2 / 2) |theta|^2, F = (1/n) sum_i f_i.

    The parameters are flattened as theta = [W1 (hidden, p) row by row, b1 (hidden), W2 (m, hidden) row by row,
    b2 (m)] for p inputs and m outputs; `unflatten` and `flatten` convert. The Hessian is exact (Gauss-Newton
    part plus the residual curvature).

    Parameters
    ----------
    X : (n, p) the inputs.
    y : (n,) or (n, m) the targets.
    hidden : the number of hidden units.
    l2 : the weight decay, >= 0 (applied to every parameter).
    """

    X: np.ndarray
    y: np.ndarray
    hidden: int
    l2: float = 1e-3

    def __init__(self, X: ArrayLike, y: ArrayLike, hidden: int, *, l2: float = 1e-3) -> None:
        X, y = _data(X, y, outputs=True)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "hidden", as_int("hidden", hidden, minimum=1))
        object.__setattr__(self, "l2", as_float("l2", l2, nonnegative=True))

    @property
    def n_terms(self) -> int:
        """The number of samples n."""
        return int(self.X.shape[0])

    @property
    def n_outputs(self) -> int:
        """The number of outputs m (1 for a 1-D y)."""
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    @property
    def dim(self) -> int:
        """The number of parameters, the length of theta."""
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        return h * p + h + m * h + m

    def unflatten(self, theta: ArrayLike) -> dict[str, np.ndarray]:
        """theta (dim,) as {"W1": (hidden, p), "b1": (hidden,), "W2": (m, hidden), "b2": (m,)}."""
        t = as_array("theta", theta, ndim=1)
        check_dim("theta", t, self.dim, "the number of parameters")
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        sizes = np.cumsum([h * p, h, m * h])
        W1, b1, W2, b2 = np.split(t, sizes)
        return {"W1": W1.reshape(h, p), "b1": b1, "W2": W2.reshape(m, h), "b2": b2}

    def flatten(self, W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike) -> np.ndarray:
        """The parameter vector theta of the given weights (the inverse of `unflatten`)."""
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        parts = []
        for name, value, shape in (("W1", W1, (h, p)), ("b1", b1, (h,)), ("W2", W2, (m, h)), ("b2", b2, (m,))):
            a = as_array(name, value, ndim=len(shape))
            if a.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
            parts.append(a.reshape(-1))
        return np.concatenate(parts)

    def init(self, *, seed: int) -> np.ndarray:
        """A random starting theta: weights normal with variance 1 / fan-in, biases zero."""
        rng = _rng(seed)
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        return self.flatten(rng.normal(size=(h, p)) / np.sqrt(p), np.zeros(h), rng.normal(size=(m, h)) / np.sqrt(h),
                            np.zeros(m))

    def predict(self, theta: ArrayLike, X: ArrayLike | None = None) -> np.ndarray:
        """yhat for each row of X (default the training inputs): (n,) for a 1-D y, else (n, m)."""
        w = self.unflatten(theta)
        Xa = self.X if X is None else as_array("X", X, ndim=2)
        check_dim("X", Xa, self.X.shape[1], "the number of inputs")
        out: np.ndarray = np.tanh(Xa @ w["W1"].T + w["b1"]) @ w["W2"].T + w["b2"]
        return out[:, 0] if self.y.ndim == 1 else out

    def _to_core(self) -> Any:
        return _core.MLP(X=self.X, y=self.y.reshape(self.y.shape[0], -1), hidden=self.hidden, l2=self.l2)
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
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1))

    def _to_core(self) -> Any:
        return _core.Ackley(dim=self.dim, a=self.a, d=self.d, c=self.c)
@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Octopus(Landscape):
    """The "octopus" of Du, Jin, Lee, Jordan, Poczos & Singh (2017, "Gradient descent can take exponential time to
    escape saddle points"): a C^2 function with a chain of `dim` strict saddles and one local minimum (per
    orthant), which gradient descent from a random start in [-tau, tau]^d visits one after another, so that the
    time it needs to reach the minimum grows exponentially with the dimension.

    f is even in every coordinate; with y = |x|, let k be the number of leading coordinates with y_j >= 2 tau and
    i = k + 1 the active one. On the domain D: y_j in [2 tau, 6 tau] for j < i, y_i in [0, 2 tau),
    y_j in [0, tau] for j > i (the k = d piece is [2 tau, 6 tau]^d),

        f = sum_{j<i} L (y_j - 4 tau)^2 - gamma y_i^2 + sum_{j>i} L y_j^2 - (i-1) nu           if y_i <= tau,
        f = sum_{j<i} L (y_j - 4 tau)^2 + G(y_i, y_{i+1}) + sum_{j>i+1} L y_j^2 - (i-1) nu     if tau < y_i < 2 tau,
        f = sum_j L (y_j - 4 tau)^2 - d nu                                                      if k = d,

    with the splines G(a, b) = g1(a) + g2(a) b^2 that turn coordinate i from unstable (-gamma) to stable (about
    4 tau) and coordinate i + 1 from stable (L) to unstable (-gamma), and nu = (37 L + 13 gamma) tau^2 / 6.
    Outside D the function is not defined: value, gradient and Hessian are NaN, and a simulated path that leaves
    D ends DIVERGED (gradient descent with lr <= 1 / (2 L) from [-tau, tau]^d stays in D).

    Parameters
    ----------
    dim : the number of coordinates d (and of saddles).
    L : the curvature 2 L of the stable directions (default e, as in the paper's experiments).
    gamma : the negative curvature -2 gamma of each saddle's unstable direction (default 1).
    tau : the length scale (default e).
    """

    dim: int = 2
    L: float = math.e
    gamma: float = 1.0
    tau: float = math.e

    def __init__(self, dim: int, *, L: float = math.e, gamma: float = 1.0, tau: float = math.e) -> None:
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1))
        object.__setattr__(self, "L", as_float("L", L, positive=True))
        object.__setattr__(self, "gamma", as_float("gamma", gamma, positive=True))
        object.__setattr__(self, "tau", as_float("tau", tau, positive=True))

    @property
    def nu(self) -> float:
        """The drop of f from one saddle to the next, (37 L + 13 gamma) tau^2 / 6."""
        return float(self._core.nu)

    def saddles(self) -> np.ndarray:
        """The d saddles in the positive orthant, one per row: saddle i has i - 1 leading entries 4 tau, then
        zeros (Hessian diagonal: 2 L, ..., -2 gamma at coordinate i, 2 L, ...)."""
        return np.tril(np.full((self.dim, self.dim), 4.0 * self.tau), k=-1)

    def minimum(self) -> np.ndarray:
        """The local minimum (4 tau, ..., 4 tau) of the positive orthant, where f = -d nu."""
        return np.full(self.dim, 4.0 * self.tau)

    def in_domain(self, x: ArrayLike) -> np.ndarray | bool:
        """True where x (d,) or each row of x (n, d) lies in the domain D (where f is defined)."""
        v = self.value(x)
        return bool(np.isfinite(v)) if np.ndim(v) == 0 else np.isfinite(v)

    def _to_core(self) -> Any:
        return _core.Octopus(dim=self.dim, L=self.L, gamma=self.gamma, tau=self.tau)
