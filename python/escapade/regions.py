"""Regions of state space. As `stop=` a region ends a path when the path leaves it (status EXITED); as
`target=` when the path enters it (status HIT). Between two steps of an SDE, a crossing the discrete path
missed is caught by the Brownian-bridge test (see `simulate(bridge=...)`). `~region` (an `Outside`) is the
complement of a region, `a & b` (an `Intersection`) and `a | b` (a `Union`) combine regions, and a `Box`'s
faces or a `HalfSpace` can be reflecting walls (docs/boundaries.md)."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec, spec_from_table
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

    def __and__(self, other: Region) -> Region:
        """`a & b`: the `Intersection` (a path stays inside both)."""
        return Intersection([self, other])

    def __or__(self, other: Region) -> Region:
        """`a | b`: the `Union`."""
        return Union([self, other])

    @property
    def n_faces(self) -> int:
        """The number of faces a path can leave the region by (a Box's 2 d, a combination's sum)."""
        return int(self._core.n_faces)

    @property
    def reflects(self) -> bool:
        """Whether some face is a reflecting wall."""
        return bool(self._core.reflects)

    def face_names(self) -> list[str]:
        """The faces' names, in the order of their codes (`SimulationResult.exit_face`)."""
        return ["boundary"]


#: How deep regions may nest (`Outside`, `Intersection` and `Union` inside one another): what a result records,
#: pickles and prints is walked recursively, and several times this depth would pass Python's recursion limit.
MAX_NESTING = 100


def _nesting(region: Region) -> int:
    """How many combinations and complements `region` is built of, one inside the other (0 for a plain region)."""
    return int(region.__dict__.get("_nesting", 0))


def _combined_nesting(name: str, kind: str, members: Iterable[Region]) -> int:
    """The nesting of a `kind` (Outside, Intersection, Union) of `members`, one more than its deepest member's;
    ValueError naming `name` beyond MAX_NESTING."""
    depth = 1 + max(_nesting(r) for r in members)
    if depth > MAX_NESTING:
        article = "an" if kind[0] in "AEIOU" else "a"
        raise ValueError(f"{name} must nest at most {MAX_NESTING} levels deep (complements and combinations inside "
                         f"one another), got {depth} levels: {article} {kind} of a region nested {depth - 1} deep. "
                         "Combine many regions at one level, Intersection([r1, r2, ...]) or Union([...]) (or a list "
                         "as stop= or target=), not r = r & ... or r = r | ... in a loop")
    return depth


def _set_nesting(self: Region, name: str, members: Iterable[Region]) -> None:
    """Record `self`'s nesting (_combined_nesting)."""
    object.__setattr__(self, "_nesting", _combined_nesting(name, type(self).__name__, members))


def _check_table_nesting(name: str, table: Any) -> None:
    """A recorded table {"type": "Outside", "region": {...}} (or a combination's "regions") to become a member of
    a complement or combination, nested so deep that the latter would pass MAX_NESTING: ValueError naming `name`,
    found without recursion before any region of it is built."""
    level, depth = [table], 0  # the tables `depth` levels inside `table`
    while level:
        if depth >= MAX_NESTING:
            raise ValueError(f"{name} must nest at most {MAX_NESTING} levels deep (complements and combinations "
                             f"inside one another), got a table of regions nested at least {depth} deep, which "
                             f"would make {depth + 1} levels")
        inner: list[Any] = []
        for t in level:
            members = t.get("regions")
            members = list(members.values()) if isinstance(members, Mapping) else members
            inner += [t.get("region"), *(members if isinstance(members, (list, tuple)) else [])]
        level = [t for t in inner if isinstance(t, Mapping)]
        depth += 1


def _ends(region: Region) -> list[str]:
    """A ball's or an ellipsoid's faces: its boundary, and in one dimension, where it is an interval, its two ends
    (named as a 1-D Box's)."""
    return ["x0-", "x0+"] if region.dim == 1 else ["boundary"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class HalfSpace(Region):
    """The half-space {x : normal . x < offset}; a path leaves it when normal . x >= offset.

    reflecting=True makes the plane a wall: as (part of) a `stop` region, a step that ends beyond it is mirrored
    back across it and the path never leaves by it (SDE integrators only; docs/boundaries.md).
    """

    normal: np.ndarray
    offset: float
    reflecting: bool = False

    def __init__(self, normal: ArrayLike, offset: float = 0.0, *, reflecting: bool = False) -> None:
        n = as_array("normal", normal, ndim=1)
        if not np.any(n):
            raise ValueError(f"normal must be non-zero, got {n.tolist()}")
        if not isinstance(reflecting, (bool, np.bool_)):
            raise TypeError(f"reflecting must be True or False, got {reflecting!r}")
        object.__setattr__(self, "normal", n)
        object.__setattr__(self, "offset", as_float("offset", offset))
        object.__setattr__(self, "reflecting", bool(reflecting))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.reflecting:  # absorbing planes are recorded as they always were
            del out["reflecting"]
        return out

    def _to_core(self) -> Any:
        if self.reflecting:
            return _core.HalfSpace(normal=self.normal, offset=self.offset, reflecting=True)
        return _core.HalfSpace(normal=self.normal, offset=self.offset)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ball(Region):
    """The open ball {x : |x - center| < radius}.

    The Brownian-bridge test uses the tangent plane at the step's end point with the radial distances of both end
    points; under anisotropic noise (Sigma = L L^T) the distances are measured where the noise is isotropic
    (y = L^-1 x, where the ball is an ellipsoid). In one dimension the ball is an interval with two faces, its ends
    ("x0-", "x0+"), each tested as a 1-D `Box`'s.
    """

    center: np.ndarray
    radius: float

    def __init__(self, center: ArrayLike, radius: float) -> None:
        object.__setattr__(self, "center", as_array("center", center, ndim=1))
        object.__setattr__(self, "radius", as_float("radius", radius, positive=True))

    def _to_core(self) -> Any:
        return _core.Ball(center=self.center, radius=self.radius)

    def face_names(self) -> list[str]:
        return _ends(self)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ellipsoid(Region):
    """The open ellipsoid {x : (x - center)^T matrix (x - center) < 1}, `matrix` symmetric positive definite
    (d, d): an ellipse in 2-D, an interval in 1-D. Its semi-axes are 1 / sqrt of the eigenvalues of `matrix`,
    along the eigenvectors; `Ellipsoid.from_axes(center, axes, rotation)` builds it from those.

    The Brownian-bridge test uses the tangent plane at the boundary point nearest to the step's end point, with
    the exact distances of both end points from the ellipsoid; under anisotropic noise (Sigma = L L^T) those
    distances are measured where the noise is isotropic (y = L^-1 x, where it is another ellipsoid). In one
    dimension it is an interval with two faces, its ends ("x0-", "x0+"), each tested as a 1-D `Box`'s. Semi-axes
    whose ratio exceeds 2^128 (about 3e38; a condition number of `matrix` above about 1e77) are refused.
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

    def face_names(self) -> list[str]:
        return _ends(self)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Box(Region):
    """The open box {x : low < x < high}; bounds may be infinite (a slab or a half-line).

    Its faces are named "x0-" (x_0 = low[0]), "x0+" (x_0 = high[0]), "x1-", ... in that order (their codes 0, 1,
    2, ...), or by `labels` (2 d names in the same order). A run whose `stop` or `target` is a Box reports the face
    each path left or entered by (`SimulationResult.exit_face`).

    reflecting : faces that are reflecting walls instead of exits: True (all), or a list of face names (or
        labels) or codes. A step that ends beyond a reflecting face is mirrored back inside (folded into the slab
        when both faces of a coordinate reflect). SDE integrators only; docs/boundaries.md.
    """

    low: np.ndarray
    high: np.ndarray
    reflecting: tuple[str, ...] = ()
    labels: tuple[str, ...] | None = None

    def __init__(self, low: ArrayLike, high: ArrayLike, *, reflecting: bool | Iterable[str | int] = (),
                 labels: Iterable[str] | None = None) -> None:
        lo, hi = as_bounds(low, high, finite=False)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)
        d = lo.shape[0]
        default = [f"x{i}{s}" for i in range(d) for s in "-+"]
        if labels is not None:
            if isinstance(labels, str) or not isinstance(labels, Iterable):
                raise TypeError(f"labels must be a list of {2 * d} face names, got {labels!r}")
            names = list(labels)
            if len(names) != 2 * d or not all(isinstance(n, str) and n for n in names) or len(set(names)) != 2 * d:
                raise ValueError(f"labels must be {2 * d} distinct non-empty names (faces {default}), got {labels!r}")
            object.__setattr__(self, "labels", tuple(names))
        names = list(self.labels) if self.labels is not None else default
        if isinstance(reflecting, (bool, np.bool_)):
            chosen = list(range(2 * d)) if reflecting else []
        elif isinstance(reflecting, (str, int)) or not isinstance(reflecting, Iterable):
            raise TypeError(f"reflecting must be True, False or a list of face names {names} or codes, "
                            f"got {reflecting!r}")
        else:
            chosen = []
            for face in reflecting:
                if isinstance(face, str) and face in names:
                    chosen.append(names.index(face))
                elif isinstance(face, str) and face in default:
                    chosen.append(default.index(face))
                elif isinstance(face, (int, np.integer)) and not isinstance(face, bool) and 0 <= face < 2 * d:
                    chosen.append(int(face))
                else:
                    raise ValueError(f"reflecting must name faces of the box, one of {names} (or codes 0 .. "
                                     f"{2 * d - 1}), got {face!r}")
        for f in chosen:
            bound = (lo if f % 2 == 0 else hi)[f // 2]
            if not np.isfinite(bound):
                raise ValueError(f"reflecting face {names[f]!r} is at infinity ({bound}); a wall must be finite")
        object.__setattr__(self, "reflecting", tuple(names[f] for f in sorted(set(chosen))))

    def face_names(self) -> list[str]:
        d = self.low.shape[0]
        return list(self.labels) if self.labels is not None else [f"x{i}{s}" for i in range(d) for s in "-+"]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.reflecting:  # a box without walls or labels is recorded as it always was
            del out["reflecting"]
        else:
            out["reflecting"] = list(self.reflecting)
        if self.labels is None:
            del out["labels"]
        else:
            out["labels"] = list(self.labels)
        return out

    def _to_core(self) -> Any:
        if not self.reflecting:
            return _core.Box(low=self.low, high=self.high)
        names = self.face_names()
        flags = [1 if n in self.reflecting else 0 for n in names]
        return _core.Box(low=self.low, high=self.high, reflecting=flags)


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
            _check_table_nesting("region", region)
            args = dict(region)
            kind = args.pop("type", None)
            cls = _REGION_TYPES.get(kind) if isinstance(kind, str) else None
            if cls is None:
                raise ValueError(f"region must name its type, one of {sorted(_REGION_TYPES)}, got {region!r}")
            region = cls(**args)
        if not isinstance(region, Region):
            raise TypeError(f"region must be an escapade Region (HalfSpace, Ball, Ellipsoid, Box, Outside), "
                            f"got {region!r}")
        if region.reflects:
            raise ValueError(f"region must have no reflecting faces (the complement of a wall is not defined), "
                             f"got {region!r}")
        _set_nesting(self, "region", [region])
        object.__setattr__(self, "region", region)

    def __invert__(self) -> Region:
        return self.region

    def face_names(self) -> list[str]:
        return self.region.face_names()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Outside", "region": self.region.to_dict()}

    def _to_core(self) -> Any:
        return _core.Outside(self.region._core)


def _members(name: str, regions: Any) -> tuple[tuple[Region, ...], tuple[str, ...]]:
    """Regions and their names from a list (named "0", "1", ...) or a dict {name: region}."""
    if isinstance(regions, Mapping):
        items = list(regions.items())
    elif isinstance(regions, (list, tuple)):
        items = [(str(i), r) for i, r in enumerate(regions)]
    else:
        raise TypeError(f"{name} must be a list of regions or a dict {{name: region}}, got {regions!r}")
    if not items:
        raise ValueError(f"{name} must hold at least one region, got {regions!r}")
    out, names = [], []
    for key, r in items:
        if isinstance(r, Mapping):
            _check_table_nesting(name, r)
        r = spec_from_table(name, r, Region)  # a recorded table {"type": ..., ...}
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name} must be named by non-empty strings, got the key {key!r}")
        if not isinstance(r, Region):
            raise TypeError(f"{name}[{key!r}] must be an escapade Region, got {r!r}")
        out.append(r)
        names.append(key)
    dims = {r.dim for r in out}
    if len(dims) > 1:
        raise ValueError(f"{name} must be regions of one dimension, got dimensions {[r.dim for r in out]}")
    return tuple(out), tuple(names)


def _member_faces(regions: tuple[Region, ...], names: tuple[str, ...]) -> list[str]:
    faces = []
    for r, n in zip(regions, names):
        own = r.face_names()
        faces += [n] if len(own) == 1 else [f"{n}:{f}" for f in own]
    return faces


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class _Combination(Region):
    """Named regions combined (`Intersection`, `Union`): faces numbered region by region."""

    regions: tuple[Region, ...]
    names: tuple[str, ...]

    def __init__(self, regions: Iterable[Region] | Mapping[str, Region]) -> None:
        members, names = _members("regions", regions if isinstance(regions, Mapping) else list(regions))
        self._check(members, names)
        _set_nesting(self, "regions", members)
        object.__setattr__(self, "regions", members)
        object.__setattr__(self, "names", names)

    def _check(self, members: tuple[Region, ...], names: tuple[str, ...]) -> None:
        """Refuse members the combination cannot hold (ValueError naming `regions`)."""

    def face_names(self) -> list[str]:
        return _member_faces(self.regions, self.names)

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "regions": {n: r.to_dict() for n, r in zip(self.names, self.regions)}}


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class Intersection(_Combination):
    """The set of points inside every region of `regions` (a list, or a dict {name: region}); `a & b`. As `stop=`
    a path ends when it leaves any of them, and the run reports which one (`SimulationResult.exit_region`) and by
    which face. Faces are numbered region by region (a Box contributes its 2 d faces). Reflecting members (walls)
    keep the path in; `simulate(stop={...})` builds one from a dict or list.

    The bridge test leaving the intersection combines the members' as a box combines its faces; entering it (as a
    target, or a complement) is tested by the one member a step's ends lie outside, else, for a convex set, against
    the tangent plane at its point nearest the step's end (`project`), as a box's corner is, else by the members'
    faces that lead in (docs/regions.md).
    """

    def project(self, x: ArrayLike) -> np.ndarray:
        """The point of the set (its closure) nearest to a point (d,), or to each row of (n, d): the point itself
        inside; NaN where none is found (members without a common point, or a degenerate set: a single point, faces
        within about 1e-7 radians of parallel). For a convex intersection (half-spaces, balls, ellipsoids and boxes
        without reflecting faces, and intersections of such; ValueError otherwise): exact to rounding for
        half-spaces and boxes and where one curved member alone is nearest, else to about 1e-6 of the larger of the
        set's and the point's size, a few times that where curved members meet at a very small angle
        (docs/regions.md). From afar, a point's own rounding limits this: about 1e-13 of its distance, more along a
        curved boundary."""
        a = as_array("x", x, ndim=(1, 2), finite=True)
        check_dim("x", a, self.dim, "the region's dimension")
        out = self._core.project(a.reshape(-1, self.dim))
        return out[0] if a.ndim == 1 else out

    def _to_core(self) -> Any:
        return _core.Intersection([r._core for r in self.regions])


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class Union(_Combination):
    """The set of points inside some region of `regions` (a list, or a dict {name: region}); `a | b`. As
    `target=` a path ends when it enters any of them, and the run reports which one (`exit_region`) and by which
    face; `simulate(target={...})` builds one from a dict or list. It is the complement of the intersection of the
    complements, so its members cannot be reflecting.
    """

    def _check(self, members: tuple[Region, ...], names: tuple[str, ...]) -> None:
        for r, n in zip(members, names):
            if r.reflects:
                raise ValueError(f"regions[{n!r}] must have no reflecting faces in a Union, got {r!r}")

    def _to_core(self) -> Any:
        return _core.Outside(_core.Intersection([_core.Outside(r._core) for r in self.regions]))


def as_region(name: str, value: Any, combine: type[Intersection] | type[Union]) -> Region | None:
    """A `stop` or `target` argument as a region: a Region itself, or a dict/list of regions combined (stop: their
    Intersection, target: their Union)."""
    if value is None or isinstance(value, Region):
        return value
    if isinstance(value, (Mapping, list, tuple)):
        members, _ = _members(name, value)  # errors name the argument
        _combined_nesting(name, combine.__name__, members)
        return combine(value)
    raise TypeError(f"{name} must be an escapade Region, a dict {{name: region}} or a list of regions, or None, "
                    f"got {value!r}")


def face_table(stop: Region | None, target: Region | None) -> dict[str, Any] | None:
    """The names of the regions and faces a run reports exits by (None when neither region has faces or members
    to tell apart: a single plane, ball or ellipsoid)."""
    def labelled(region: Region | None) -> bool:  # members or faces to tell apart (a Box, ~Box, a combination)
        return isinstance(region, _Combination) or (region is not None and region.n_faces > 1)

    def side(region: Region | None, default: str) -> tuple[list[str], list[str], list[int]]:
        if region is None:
            return [], [], []
        if isinstance(region, _Combination):
            owner = [j for j, r in enumerate(region.regions) for _ in range(r.n_faces)]
            return list(region.names), region.face_names(), owner
        own = region.face_names()
        return [default], own if len(own) > 1 else [default], [0] * len(own)

    if not labelled(stop) and not labelled(target):
        return None
    regions_s, faces_s, owner_s = side(stop, "stop")
    regions_t, faces_t, owner_t = side(target, "target")
    if len(set(faces_s + faces_t)) < len(faces_s) + len(faces_t):  # two boxes' "x0-": say whose
        faces_s, faces_t = [f"stop:{f}" for f in faces_s], [f"target:{f}" for f in faces_t]
    if len(set(regions_s + regions_t)) < len(regions_s) + len(regions_t):
        regions_s, regions_t = [f"stop:{r}" for r in regions_s], [f"target:{r}" for r in regions_t]
    return {"regions": regions_s + regions_t, "faces": faces_s + faces_t,
            "face_region": owner_s + [len(regions_s) + j for j in owner_t]}


#: The regions a table {"type": ..., ...} inside an `Outside` may name.
_REGION_TYPES: dict[str, type[Region]] = {cls.__name__: cls for cls in (HalfSpace, Ball, Ellipsoid, Box, Outside,
                                                                          Intersection, Union)}
