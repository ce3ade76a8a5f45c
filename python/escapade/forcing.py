"""Deterministic and random forcings w(t) for `ConstrainedFlow` (x' = U_alpha(x) + w(t), 000 eq. (7)) and for
`Langevin` (dX = [-grad f + w(t)] dt + noise).

Each is a pure function of (t, seed, path), evaluated in C++ at whatever times the integrator asks for (the
stages of RK4 or of the adaptive DP54 too); random ones draw from the path's own counter-based stream, so runs
are bitwise the same for any thread count.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import MAX_DIM, as_array, as_float, as_int, real_array

__all__ = ["BrownianForcing", "Forcing", "Periodic", "RandomDirections", "Ramp", "TableForcing"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Forcing(Spec):
    """Common interface: `dim` and `__call__(t, seed=0, path=0)`."""

    @property
    def dim(self) -> int:
        return int(self._core.dim)

    def __call__(self, t: ArrayLike, *, seed: int = 0, path: int = 0) -> np.ndarray:
        """w at the times t (k,) for path `path` of a run with seed `seed`; returns (k, d)."""
        times = as_array("t", np.atleast_1d(real_array("t", t)), ndim=1)
        seed = as_int("seed", seed, minimum=0, maximum=2**64 - 1)
        return self._core.eval(times, seed, as_int("path", path, minimum=0, maximum=2**64 - 1))

    def _horizon(self) -> float:
        return math.inf


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Periodic(Forcing):
    """w(t) = amplitude * M [cos(omega t + phase), sin(omega t + phase)] (000, Section VI), with M (d, 2) either
    the unit vectors of coordinates `plane` = (i, j) in `dim` dimensions or a user matrix `directions`."""

    amplitude: float
    omega: float
    dim: int = 2
    plane: tuple[int, int] = (0, 1)
    directions: np.ndarray | None = None
    phase: float = 0.0

    def __init__(self, amplitude: float, omega: float, *, dim: int = 2, plane: tuple[int, int] = (0, 1),
                 directions: ArrayLike | None = None, phase: float = 0.0) -> None:
        object.__setattr__(self, "amplitude", as_float("amplitude", amplitude))
        object.__setattr__(self, "omega", as_float("omega", omega))
        object.__setattr__(self, "phase", as_float("phase", phase))
        if directions is not None:
            M = as_array("directions", directions, ndim=2)
            if M.shape[1] != 2:
                raise ValueError(f"directions must have shape (d, 2), got {M.shape}")
            object.__setattr__(self, "directions", M)
            object.__setattr__(self, "dim", M.shape[0])
            object.__setattr__(self, "plane", tuple(plane))
            return
        dim = as_int("dim", dim, minimum=1, maximum=MAX_DIM)
        p = tuple(plane)
        is_index = [isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) for k in p]  # True is 1
        if len(p) != 2 or not all(ok and 0 <= k < dim for ok, k in zip(is_index, p)) or p[0] == p[1]:
            raise ValueError(f"plane must be two different coordinates in 0..{dim - 1}, got {plane!r}")
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "plane", (int(p[0]), int(p[1])))
        object.__setattr__(self, "directions", None)

    def matrix(self) -> np.ndarray:
        """M, shape (d, 2)."""
        if self.directions is not None:
            return self.directions
        M = np.zeros((self.dim, 2))
        M[self.plane[0], 0] = M[self.plane[1], 1] = 1.0
        return M

    def _to_core(self) -> Any:
        return _core.PeriodicForcing(directions=self.matrix(), amplitude=self.amplitude, omega=self.omega,
                                     phase=self.phase)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class BrownianForcing(Forcing):
    """w(t) = scale * B(t), B a standard Brownian motion in `dim` dimensions with B(0) = 0, one per path (000,
    Lemma 2).

    B is built on [0, horizon] by Levy's midpoint construction from normals keyed by (seed, path, dyadic node),
    halving until the intervals are at most `resolution` long, and interpolated linearly below that: exact at
    the dyadic times, so any integrator (RK4's half steps, DP54's stages) sees one consistent path. A run's
    t_max must not exceed the horizon.
    """

    scale: float
    horizon: float
    dim: int = 2
    resolution: float = 1e-3

    def __init__(self, scale: float, *, horizon: float, dim: int = 2, resolution: float = 1e-3) -> None:
        object.__setattr__(self, "scale", as_float("scale", scale))
        object.__setattr__(self, "horizon", as_float("horizon", horizon, positive=True))
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))
        resolution = as_float("resolution", resolution, positive=True)
        if not self.horizon / resolution <= 2**40:  # also when the ratio overflows to inf (log2 would then fail)
            raise ValueError(f"resolution must be at least horizon / 2**40 (horizon={self.horizon}), got {resolution}")
        object.__setattr__(self, "resolution", resolution)

    @staticmethod
    def levels_for(horizon: float, resolution: float) -> int:
        return max(0, math.ceil(math.log2(horizon / resolution)))

    @property
    def levels(self) -> int:
        """Number of halvings: the path is exact on a grid of horizon / 2**levels <= resolution."""
        return self.levels_for(self.horizon, self.resolution)

    def _horizon(self) -> float:
        return self.horizon

    def _to_core(self) -> Any:
        return _core.BrownianForcing(dim=self.dim, scale=self.scale, horizon=self.horizon, levels=self.levels)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RandomDirections(Forcing):
    """w(t) = amplitude * v_k on [k tau, (k + 1) tau), with v_k independent uniform unit vectors drawn from
    (seed, path, k): a piecewise-constant random push that switches direction every tau."""

    amplitude: float
    tau: float
    dim: int = 2

    def __init__(self, amplitude: float, tau: float, *, dim: int = 2) -> None:
        object.__setattr__(self, "amplitude", as_float("amplitude", amplitude))
        object.__setattr__(self, "tau", as_float("tau", tau, positive=True))
        object.__setattr__(self, "dim", as_int("dim", dim, minimum=1, maximum=MAX_DIM))

    def _to_core(self) -> Any:
        return _core.RandomDirectionForcing(dim=self.dim, amplitude=self.amplitude, tau=self.tau)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class TableForcing(Forcing):
    """w(t) interpolated linearly in user samples: `times` (k,) strictly increasing and `values` (k, d); held at
    the first and last values outside the table."""

    times: np.ndarray
    values: np.ndarray

    def __init__(self, times: ArrayLike, values: ArrayLike) -> None:
        t = as_array("times", times, ndim=1)
        v = as_array("values", values, ndim=2)
        if v.shape[0] != t.shape[0]:
            raise ValueError(f"values must have one row per time ({t.shape[0]}), got shape {v.shape}")
        if np.any(np.diff(t) <= 0):
            raise ValueError(f"times must be strictly increasing, got {t.tolist()}")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)

    def _to_core(self) -> Any:
        return _core.TableForcing(times=self.times, values=self.values)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Ramp(Forcing):
    """w(t) = start + rate * t: a linear ramp, such as a tilt that grows in time. Added to -grad f it makes the
    landscape depend on time, f(x, t) = f(x) - (start + rate t) . x (the noisy fold
    dX = (mu(t) - X**2) dt + noise with mu(t) = start + rate t is `Ramp` on the landscape X**3 / 3)."""

    start: np.ndarray
    rate: np.ndarray

    def __init__(self, start: ArrayLike | float, rate: ArrayLike | float) -> None:
        w0 = as_array("start", np.atleast_1d(real_array("start", start)), ndim=1)
        r = as_array("rate", np.atleast_1d(real_array("rate", rate)), ndim=1)
        if r.shape != w0.shape:
            raise ValueError(f"rate must have the length of start ({w0.shape[0]}), got {r.shape[0]}")
        object.__setattr__(self, "start", w0)
        object.__setattr__(self, "rate", r)

    def _to_core(self) -> Any:
        return _core.RampForcing(start=self.start, rate=self.rate)
