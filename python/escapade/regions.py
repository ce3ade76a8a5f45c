"""Regions of state space. As `stop=` a region ends a path when the path leaves it (status EXITED); as
`target=` when the path enters it (status HIT). Between two steps of an SDE, a crossing the discrete path
missed is caught by the Brownian-bridge test (see `simulate(bridge=...)`). `~region` (an `Outside`) is the
complement of a region."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_bounds, as_float, as_square_matrix, check_dim


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Region(Spec):
    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def contains(self, x: ArrayLike) -> np.ndarray | bool:
        """Whether a point (d,), or each row of (n, d), lies in the region."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the region's dimension")
        inside = self._core.contains(a).astype(bool)
        return bool(inside[0]) if a.ndim == 1 else inside

    def __invert__(self) -> Region:
        """`~region`: the complement, `Outside(region)` (and `~Outside(r)` is `r` itself)."""
        return Outside(self)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class HalfSpace(Region):
    """The half-space {x : normal . x < offset}; a path leaves it when normal . x >= offset."""

    normal: np.ndarray
    offset: float

    def __init__(self, normal: ArrayLike, offset: float = 0.0) -> None:
        n = as_array("normal", normal, ndim=1)
        if not np.any(n):
            raise ValueError(f"normal must be non-zero, got {n.tolist()}")
        object.__setattr__(self, "normal", n)
        object.__setattr__(self, "offset", as_float("offset", offset))

    def _to_core(self) -> Any:
        return _core.HalfSpace(normal=self.normal, offset=self.offset)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ball(Region):
    """The open ball {x : |x - center| < radius}.

    The Brownian-bridge test uses the tangent plane at the step's end point with the radial distances of both end
    points; under anisotropic noise (Sigma = L L^T) the distances are measured where the noise is isotropic
    (y = L^-1 x, where the ball is an ellipsoid).
    """

    center: np.ndarray
    radius: float

    def __init__(self, center: ArrayLike, radius: float) -> None:
        object.__setattr__(self, "center", as_array("center", center, ndim=1))
        object.__setattr__(self, "radius", as_float("radius", radius, positive=True))

    def _to_core(self) -> Any:
        return _core.Ball(center=self.center, radius=self.radius)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ellipsoid(Region):
    """The open ellipsoid {x : (x - center)^T matrix (x - center) < 1}, `matrix` symmetric positive definite
    (d, d): an ellipse in 2-D, an interval in 1-D. Its semi-axes are 1 / sqrt of the eigenvalues of `matrix`,
    along the eigenvectors; `Ellipsoid.from_axes(center, axes, rotation)` builds it from those.

    The Brownian-bridge test uses the tangent plane at the boundary point nearest to the step's end point, with
    the exact distances of both end points from the ellipsoid; under anisotropic noise (Sigma = L L^T) those
    distances are measured where the noise is isotropic (y = L^-1 x, where it is another ellipsoid). Semi-axes whose ratio exceeds 2^128 (about 3e38;
    a condition number of `matrix` above about 1e77) are refused.
    """

    center: np.ndarray
    matrix: np.ndarray

    def __init__(self, center: ArrayLike, matrix: ArrayLike) -> None:
        c = as_array("center", center, ndim=1)
        a = as_square_matrix("matrix", matrix, symmetric=True)
        check_dim("matrix", a, c.shape[0], "the length of center")
        scale = 2.0**-64 if np.abs(a).max() > 1e300 else 1.0  # a power of two: no overflow near the largest double
        lam = np.linalg.eigvalsh(a * scale)
        if not (lam[0] > 0 and lam[-1] * 2.0**-256 <= lam[0]):
            shown = f"eigenvalues {(lam / scale).tolist()} of {a.tolist()}" if a.size <= 36 else (
                f"smallest eigenvalue {lam[0] / scale}, largest {lam[-1] / scale}")
            raise ValueError(f"matrix must be positive definite, its eigenvalues within a factor 2^256 (about 1e77) "
                             f"of each other (semi-axes within a factor 3e38), got {shown}")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "matrix", a)

    @classmethod
    def from_axes(cls, center: ArrayLike, axes: ArrayLike, rotation: ArrayLike | None = None) -> Ellipsoid:
        """The ellipsoid with semi-axes `axes` (d,) (positive) along the columns of `rotation` (an orthogonal
        (d, d) matrix; default the coordinate axes): matrix = rotation diag(axes^-2) rotation^T."""
        c = as_array("center", center, ndim=1)
        e = as_array("axes", axes, ndim=1)
        check_dim("axes", e, c.shape[0], "the length of center")
        if not np.all(e > 0):
            raise ValueError(f"axes must be positive, got {e.tolist()}")
        with np.errstate(all="ignore"):
            inv2 = (1.0 / e) ** 2
        if not np.all(np.isfinite(inv2) & (inv2 > 0)):
            raise ValueError(f"axes must lie between about 1e-154 and 1e154 (their inverse squares are doubles), "
                             f"got {e.tolist()}")
        if rotation is None:
            return cls(c, np.diag(inv2))
        r = as_square_matrix("rotation", rotation)
        check_dim("rotation", r, c.shape[0], "the length of center")
        if np.abs(r.T @ r - np.eye(r.shape[0])).max() > 1e-10:
            raise ValueError(f"rotation must be an orthogonal matrix (rotation^T rotation = I), got {r.tolist()}")
        m = (r * inv2) @ r.T
        return cls(c, (m + m.T) / 2)

    def distance(self, x: ArrayLike) -> np.ndarray | float:
        """The Euclidean distance from a point (d,), or each row of (n, d), to the boundary (inside or outside)."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the region's dimension")
        out = self._core.distance(a)
        return float(out[0]) if a.ndim == 1 else out

    def nearest(self, x: ArrayLike) -> np.ndarray:
        """The boundary point nearest to a point (d,), or to each row of (n, d)."""
        a = as_array("x", x, ndim=(1, 2), finite=False)
        check_dim("x", a, self.dim, "the region's dimension")
        out = self._core.nearest(a)
        return out[0] if a.ndim == 1 else out

    def _to_core(self) -> Any:
        return _core.Ellipsoid(center=self.center, matrix=self.matrix)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Box(Region):
    """The open box {x : low < x < high}; bounds may be infinite (a slab or a half-line)."""

    low: np.ndarray
    high: np.ndarray

    def __init__(self, low: ArrayLike, high: ArrayLike) -> None:
        lo, hi = as_bounds(low, high, finite=False)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    def _to_core(self) -> Any:
        return _core.Box(low=self.low, high=self.high)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Outside(Region):
    """The complement {x : x not in region} of a region, also written `~region`: as `stop=` it ends a path when the
    path enters `region`, so the `stop` region of one run can be the set another must reach (`~stop`).

    The other regions are open sets, so their complements are closed: a point on the boundary of `region` lies
    in `Outside(region)`. The Brownian-bridge test and the located exit are those of `region` seen from the other
    side, so `simulate(stop=~region)` ends each path at the same step and time as `simulate(target=region)`
    with the same seed (status EXITED instead of HIT). `~Outside(r)` gives back `r` itself, so `~~r is r`;
    `Outside(Outside(r))`, built explicitly, is the same set. In a configuration file or a recorded
    `to_dict()` the region is a table naming its type: `{type = "Outside", region = {type = "Ball", ...}}`.
    """

    region: Region

    def __init__(self, region: Region | dict[str, Any]) -> None:
        if isinstance(region, dict):  # a table {"type": "Ball", ...}: a region of this module, never other code
            args = dict(region)
            kind = args.pop("type", None)
            cls = _REGION_TYPES.get(kind) if isinstance(kind, str) else None
            if cls is None:
                raise ValueError(f"region must name its type, one of {sorted(_REGION_TYPES)}, got {region!r}")
            region = cls(**args)
        if not isinstance(region, Region):
            raise TypeError(f"region must be an escapade Region (HalfSpace, Ball, Ellipsoid, Box, Outside), "
                            f"got {region!r}")
        object.__setattr__(self, "region", region)

    def __invert__(self) -> Region:
        return self.region

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Outside", "region": self.region.to_dict()}

    def _to_core(self) -> Any:
        return _core.Outside(self.region._core)


#: The regions a table {"type": ..., ...} inside an `Outside` may name.
_REGION_TYPES: dict[str, type[Region]] = {cls.__name__: cls for cls in (HalfSpace, Ball, Ellipsoid, Box, Outside)}
