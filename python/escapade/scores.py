"""Scores (reaction coordinates) for `splitting` and `rare_exit_time`: a function of the state that increases from the
reactant set toward the product set. Splitting kills the replicas whose highest score is lowest and branches the
others where their score first passed that level, so a score only has to order states sensibly: a poor score gives
a correct answer with a larger variance (docs/rare-events.md).

`SignedDistance(product)` is the default: minus the distance to the product set outside it, 0 on its boundary and
the distance to the boundary inside it. Scores are evaluated in the compiled core; `Compiled` takes a numba function
of one point, called without the GIL like a `CompiledLandscape`'s value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_float, as_int, as_square_matrix, check_dim, real_array
from .regions import Region

__all__ = ["Score", "Linear", "Distance", "NormalizedDistance", "Quadratic", "SignedDistance", "Negated", "Compiled",
           "default_score"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Score(Spec):
    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def __call__(self, x: ArrayLike) -> np.ndarray | float:
        """The score of a point (d,), or of each row of (n, d)."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the score's dimension")
        out = self._core.evaluate(a)
        return float(out[0]) if a.ndim == 1 else out

    def __neg__(self) -> Score:
        """`-score`: the score with its sign flipped (`-(-s)` is `s` itself)."""
        return Negated(self)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Linear(Score):
    """weights . x + offset: a projection on a direction (a linear reaction coordinate)."""

    weights: np.ndarray
    offset: float

    def __init__(self, weights: ArrayLike, offset: float = 0.0) -> None:
        w = as_array("weights", weights, ndim=1)
        if not np.any(w):
            raise ValueError(f"weights must be non-zero, got {w.tolist()}")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "offset", as_float("offset", offset))

    def _to_core(self) -> Any:
        return _core.LinearScore(weights=self.weights, offset=self.offset)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Distance(Score):
    """radius - |x - point|: increases toward `point`, 0 on the sphere of `radius` around it (the signed distance
    to the ball `Ball(point, radius)`)."""

    point: np.ndarray
    radius: float

    def __init__(self, point: ArrayLike, radius: float = 0.0) -> None:
        object.__setattr__(self, "point", as_array("point", point, ndim=1))
        object.__setattr__(self, "radius", as_float("radius", radius, nonnegative=True))

    def _to_core(self) -> Any:
        return _core.DistanceScore(point=self.point, radius=self.radius)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class NormalizedDistance(Score):
    """|x - a| / (|x - a| + |x - b|): 0 at `a` (a point of the reactant set, e.g. its minimum), 1 at `b` (a point of
    the product set), the usual normalized reaction coordinate between two states."""

    a: np.ndarray
    b: np.ndarray

    def __init__(self, a: ArrayLike, b: ArrayLike) -> None:
        pa = as_array("a", a, ndim=1)
        pb = as_array("b", b, ndim=1)
        check_dim("b", pb, pa.shape[0], "the length of a")
        if np.array_equal(pa, pb):
            raise ValueError(f"b must differ from a, got a = b = {pa.tolist()}")
        object.__setattr__(self, "a", pa)
        object.__setattr__(self, "b", pb)

    def _to_core(self) -> Any:
        return _core.NormalizedDistanceScore(a=self.a, b=self.b)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Quadratic(Score):
    """(x - center)^T matrix (x - center) / 2, `matrix` symmetric: with matrix = P^-1 of a linear system's
    stationary covariance P, the Freidlin–Wentzell quasi-potential of that system (`from_quasipotential`)."""

    matrix: np.ndarray
    center: np.ndarray

    def __init__(self, matrix: ArrayLike, center: ArrayLike) -> None:
        c = as_array("center", center, ndim=1)
        m = as_square_matrix("matrix", matrix, symmetric=True)
        check_dim("matrix", m, c.shape[0], "the length of center")
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "center", c)

    @classmethod
    def from_quasipotential(cls, quasipotential: Any, center: ArrayLike) -> Quadratic:
        """The quasi-potential x^T P^-1 x / 2 of `analysis.linear_quasipotential(...)`, centred at the minimum."""
        P = getattr(quasipotential, "P", None)
        if P is None:
            raise TypeError(f"quasipotential must be a LinearQuasiPotential (with its matrix P), got {quasipotential!r}")
        P = real_array("quasipotential.P", P)
        if P.ndim != 2:
            raise TypeError(f"quasipotential must be a LinearQuasiPotential (with its matrix P), got {quasipotential!r}")
        M = np.linalg.inv(P)
        return cls((M + M.T) / 2, center)

    def _to_core(self) -> Any:
        return _core.QuadraticScore(matrix=self.matrix, center=self.center)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SignedDistance(Score):
    """The Euclidean distance to the boundary of `region`, positive inside and negative outside: minus the distance
    to the region from outside it. The default score toward a product set (for `HalfSpace(normal=n, offset=c)`,
    the set {n . x < c}: (c - n . x) / |n|; for a `Ball`: radius - |x - center|)."""

    region: Region

    def __init__(self, region: Region) -> None:
        if not isinstance(region, Region):
            raise TypeError(f"region must be an escapade Region, got {region!r}")
        object.__setattr__(self, "region", region)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SignedDistance", "region": self.region.to_dict()}

    def _to_core(self) -> Any:
        return _core.RegionScore(region=self.region._core)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Negated(Score):
    """-score."""

    score: Score

    def __init__(self, score: Score) -> None:
        if not isinstance(score, Score):
            raise TypeError(f"score must be an escapade Score, got {score!r}")
        object.__setattr__(self, "score", score)

    def __neg__(self) -> Score:
        return self.score

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Negated", "score": self.score.to_dict()}

    def _to_core(self) -> Any:
        return _core.NegatedScore(score=self.score._core)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Compiled(Score):
    """A user's score: a numba ``@njit`` function ``score(x) -> float`` of one point x (a float64 array of shape
    (d,)), or a cfunc with the signature of a landscape's value (``C_SIGNATURES["value"]``). It is compiled once and
    called from the core's threads without the GIL; an exception inside it stops the run with a CallbackError, and a
    NaN score stops it with a ValueError."""

    dim_: int
    fn: Any
    name: str

    def __init__(self, dim: int, fn: Any, *, name: str | None = None) -> None:
        from .custom import _callback_name, _check_callbacks, _refuse_addresses

        d = as_int("dim", dim, minimum=1)
        _refuse_addresses("scores.Compiled", score=fn)
        _check_callbacks({"value": fn}, d)
        object.__setattr__(self, "dim_", d)
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "name", name or _callback_name(fn))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Compiled", "dim": self.dim_, "fn": self.name}

    def _to_core(self) -> Any:
        from .custom import _address

        keep: list[Any] = []
        core = _core.CompiledScore(dim=self.dim_, name=self.name, score=_address("value", self.fn, keep))
        object.__setattr__(self, "_compiled_callbacks", keep)  # the wrappers live as long as the score
        return core


def default_score(product: Region) -> Score:
    """The default score toward `product`: `SignedDistance(product)`."""
    return SignedDistance(product)
