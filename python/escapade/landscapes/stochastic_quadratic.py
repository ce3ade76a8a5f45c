"""The stochastic quadratic problem (004, Problem 3.1) and its random homogeneous and inhomogeneous
instances."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._settings import check_allocation
from .._validate import MAX_DIM, _short, as_array, as_float, as_int, check_dim
from .finite_sum import FiniteSum, _probabilities, _rng, _term_point


#: The component of E[r] outside the range of E[Q] that `StochasticQuadratic.minimizer` and `quadratic_curvature`
#: tolerate, relative to the problem's scale (rounding in r_i = -Q_i theta_i leaves one of order machine epsilon
#: times it).
RANGE_RTOL = 1e-8


def _check_has_minimizer(Q: np.ndarray, r: np.ndarray, p: np.ndarray) -> None:
    """ValueError naming r when E[r] is not in the range of E[Q]: F(x) = x'E[Q]x / 2 + E[r]'x is then unbounded below
    (along the part of E[r] in the null space of E[Q]) and has no minimizer (004, Problem 3.1)."""
    used = p > 0
    d = Q.shape[1]
    EQ = np.einsum("n,nij->ij", p, Q)
    EQ = (EQ + EQ.T) / 2
    Er = p @ r
    w, V = np.linalg.eigh(EQ)
    top = float(np.abs(w).max(initial=0.0))
    in_range = w > d * np.finfo(np.float64).eps * top if top > 0 else np.zeros(d, dtype=bool)
    Vr, Vn = V[:, in_range], V[:, ~in_range]
    outside = float(np.linalg.norm(Vn.T @ Er)) if Vn.shape[1] else 0.0
    if outside == 0.0:
        return
    theta = -(Vr / w[in_range]) @ (Vr.T @ Er)  # least-norm solution of E[Q] theta = -E[r] (its range part)
    scale = float((np.linalg.norm(Q[used], ord=2, axis=(1, 2)) * np.linalg.norm(theta)
                   + np.linalg.norm(r[used], axis=1)).max())
    if outside > RANGE_RTOL * scale:
        raise ValueError(
            "r must have its expectation E[r] = sum_i p_i r_i in the range of E[Q] = sum_i p_i Q_i (004, Problem "
            f"3.1), got E[r] = {_short(Er.tolist())} with a component of norm {outside:.6g} in the null space of E[Q] "
            f"(tolerance {RANGE_RTOL:g} x the problem's scale {scale:.6g}): F is unbounded below along it and the "
            "problem has no minimizer")


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

    Any such sum can be simulated, but only one whose E[r] = sum_i p_i r_i lies in the range of
    E[Q] = sum_i p_i Q_i has a minimizer (else F decreases without bound along the part of E[r] in the null space
    of E[Q]; linear terms, Q = 0, are an example): `minimizer` and `escapade.analysis.quadratic_curvature` (so
    every threshold computed from the problem) raise a ValueError naming r when that part exceeds RANGE_RTOL = 1e-8
    times the problem's scale (max over the terms with p_i > 0 of |Q_i|_2 |theta| + |r_i|, theta the least-norm
    solution of E[Q] theta = -E[r]). 004's Problem 3.1 asks more, r_i in the image of Q_i for every term (each f_i
    has a minimizer), which implies it; escapade needs only F's minimizer and does not check the terms one by one.
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
            if w.min() < -1e-12 * float(np.abs(w).max()):  # relative: Q may be tiny
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
        d = as_int("dim", dim, minimum=1, maximum=MAX_DIM)
        n = as_int("n_terms", n_terms, minimum=1)
        k = d if rank is None else as_int("rank", rank, minimum=1, maximum=d)
        # the factors (n, d, k) and Q (n, d, d) with its symmetrized copy and a temporary, before numpy tries them
        check_allocation("n_terms", n, 8.0 * n * d * (k + 3 * d), f"random term matrices at dim={d}")
        return d, n, k, _rng(seed)

    @staticmethod
    def _random_psd(rng: np.random.Generator, n: int, d: int, k: int) -> np.ndarray:
        A = rng.normal(size=(n, d, k))
        Q = np.einsum("nik,njk->nij", A, A) / k
        return (Q + Q.transpose(0, 2, 1)) / 2

    def minimizer(self) -> np.ndarray:
        """A minimizer theta* of F: the least-norm solution of E[Q] theta = -E[r] (unique when E[Q] is
        positive definite). ValueError naming r when E[r] is not in the range of E[Q]: F then has no minimizer
        (see the class notes)."""
        _check_has_minimizer(self.Q, self.r, self.p)
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
