"""Results of an ensemble run: per-path arrays (or mergeable statistics) plus everything needed to reproduce them."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
import json
import math
import os
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from . import _core
from ._settings import _size, memory_limit


class Status(enum.IntEnum):
    """How a path ended."""

    EXITED = 0  #: left the `stop` region
    HIT = 1  #: entered the `target` region
    CENSORED = 2  #: reached the time or step cap first
    DIVERGED = 3  #: its state became non-finite or exceeded the divergence bound
    CONVERGED = 4  #: the optimizer's own stopping rule fired (perturbed GD)
    SINGULAR = 5  #: the constraint Jacobian lost rank (J J^T numerically singular): the constrained flow stopped


assert all(int(getattr(_core.Status, s.name)) == s.value for s in Status), "Status codes out of sync with the core"

#: The statuses of paths that neither stopped (EXITED, HIT) nor diverged: the censoring policy counts them as
#: surviving to the cap (`analysis.estimates`).
UNSTOPPED = (Status.CENSORED, Status.CONVERGED, Status.SINGULAR)


def as_status(status: Status | str | int) -> Status:
    """A `Status` from itself, its code or its name (any case); ValueError naming the valid statuses otherwise."""
    try:
        if isinstance(status, str):
            return Status[status.upper()]
        if not isinstance(status, (bool, np.bool_)):
            return Status(status)
    except (KeyError, ValueError, TypeError):
        pass
    raise ValueError(f"status must be one of {[s.name for s in Status]}, got {status!r}")


@dataclasses.dataclass(frozen=True)
class Summary:
    """Exit-time statistics of a run.

    `mean` and `stderr` are over the paths that stopped (EXITED or HIT). When some paths did not stop (CENSORED,
    or CONVERGED or SINGULAR: the package's censoring policy, `analysis.estimates`), that mean is conditional on
    stopping before the cap and biased low; `mean_lower_bound` (such paths counted at the cap, DIVERGED ones left
    out) is then a lower bound of the true mean, and `exponential_mean` = total time at risk / number of stops is
    the censoring-aware maximum-likelihood mean if exit times are exponential (deep wells). Both are NaN where
    adaptive steps censored a path by `max_steps` before `t_max`, at a time the run does not record.
    """

    n_paths: int
    counts: dict[str, int]
    mean: float
    stderr: float
    mean_lower_bound: float
    exponential_mean: float
    censored_fraction: float

    def __str__(self) -> str:
        counts = ", ".join(f"{k.lower()} {v}" for k, v in self.counts.items() if v)
        text = f"{self.n_paths} paths ({counts}); mean exit time {self.mean:.6g} ± {self.stderr:.2g}"
        unstopped = sum(self.counts[s.name] for s in UNSTOPPED)
        share = (f"{100 * unstopped / self.n_paths:.3g}% " if unstopped else "") + (
            "censored" if unstopped == self.counts["CENSORED"] else "censored, converged or singular")
        if unstopped and math.isnan(self.mean_lower_bound):  # censored times not recorded
            text += f" over stopped paths only ({share}, some by max_steps before t_max: no bound)"
        elif unstopped:
            text += (f" over stopped paths only ({share}: true mean >= {self.mean_lower_bound:.6g}, exponential MLE "
                     f"{self.exponential_mean:.6g})")
        return text


@dataclasses.dataclass(frozen=True)
class ExitStats:
    """Mergeable exit-time statistics: counts by status and the mean and sum of squared deviations of the exit
    times of stopped paths, combined chunk by chunk with Chan, Golub and LeVeque's update. They give the same
    `Summary` as the full per-path arrays (to rounding) without keeping them."""

    counts: tuple[int, ...]  # by Status
    n_stopped: int
    mean: float
    m2: float
    total_time: float  # sum of the stopped paths' exit times
    censored_time: float  # sum of the times at risk of the paths that did not stop (UNSTOPPED: each at its run's
    # time cap, the censoring policy; NaN if unknown)

    @classmethod
    def of(cls, status: np.ndarray, exit_time: np.ndarray, cap_time: float) -> ExitStats:
        counts = np.bincount(status.astype(np.int64), minlength=len(Status))[: len(Status)]
        times = exit_time[(status == Status.EXITED) | (status == Status.HIT)]
        with np.errstate(over="ignore"):  # times near 1e300: the sums overflow to inf, which the summary keeps
            mean = float(times.mean()) if times.size else 0.0
            m2, total = float(np.sum((times - mean) ** 2)), float(times.sum())
        return cls(
            counts=tuple(int(c) for c in counts),
            n_stopped=int(times.size),
            mean=mean,
            m2=m2,
            total_time=total,
            censored_time=float(sum(counts[s] for s in UNSTOPPED) * cap_time),
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExitStats:
        """The inverse of `dataclasses.asdict` (as stored in JSON headers). Counts saved before a status was added
        read as 0 for it."""
        counts = tuple(d["counts"]) + (0,) * max(0, len(Status) - len(d["counts"]))
        stats = cls(**{**d, "counts": counts})
        if not (all(type(c) is int and c >= 0 for c in stats.counts) and type(stats.n_stopped) is int
                and stats.n_stopped == stats.counts[Status.EXITED] + stats.counts[Status.HIT]
                and all(isinstance(v, (int, float)) for v in (stats.mean, stats.m2, stats.total_time,
                                                              stats.censored_time))
                and all(v >= 0 for v in (stats.mean, stats.m2, stats.total_time))  # inf: overflowed, as saved
                and not stats.censored_time < 0):  # NaN: unknown
            raise ValueError(f"exit statistics must hold non-negative integer counts (stopped = exited + hit), "
                             f"non-negative (not NaN) times and m2, and a censored time that is one or NaN, got {d!r}")
        return stats

    def merge(self, other: ExitStats) -> ExitStats:
        if len(self.counts) != len(other.counts):
            raise ValueError(f"cannot merge statistics with {len(self.counts)} and {len(other.counts)} status counts")
        n = self.n_stopped + other.n_stopped
        delta = other.mean - self.mean
        try:
            square = delta**2
        except OverflowError:  # means over 1e154 apart: the spread is inf, as for the per-path arrays
            square = math.inf
        both = self.n_stopped and other.n_stopped  # else the term is 0 (even for an inf square)
        return ExitStats(
            counts=tuple(a + b for a, b in zip(self.counts, other.counts)),
            n_stopped=n,
            mean=self.mean + delta * other.n_stopped / n if n else 0.0,
            m2=self.m2 + other.m2 + (square * self.n_stopped * other.n_stopped / n if both else 0.0),
            total_time=self.total_time + other.total_time,
            censored_time=self.censored_time + other.censored_time,
        )

    def restricted_mean(self) -> tuple[float, float]:
        """E[min(tau, cap)] over the paths that did not diverge, those that did not stop counted at the cap (the
        censoring policy, `analysis.estimates`), and its standard error: the mean over the stopped paths where every
        path stopped. (NaN, inf) without paths; the error inf with one."""
        k = self.n_stopped
        unstopped = sum(self.counts[s] for s in UNSTOPPED)
        n = k + unstopped
        if n == 0:
            return math.nan, math.inf
        # the spread of min(tau, cap): the stopped paths' m2, the unstopped ones at the cap merged in (Chan et al.)
        cap = self.censored_time / unstopped if unstopped else 0.0
        gap = cap - self.mean
        m2 = self.m2 + (gap * gap * k * unstopped / n if k and unstopped else 0.0)
        stderr = math.inf if n == 1 else 0.0 if m2 == 0 else math.sqrt(m2 / (n - 1) / n)
        return (self.total_time + self.censored_time) / n if unstopped else self.mean, stderr

    def summary(self) -> Summary:
        n, k = sum(self.counts), self.n_stopped
        censored = self.counts[Status.CENSORED]
        unstopped = sum(self.counts[s] for s in UNSTOPPED)
        at_risk = self.total_time + self.censored_time
        return Summary(
            n_paths=n,
            counts={s.name: self.counts[s] for s in Status},
            mean=self.mean if k else math.nan,
            stderr=math.sqrt(self.m2 / (k - 1) / k) if k > 1 else math.nan,
            mean_lower_bound=at_risk / (k + unstopped) if k + unstopped else math.nan,
            exponential_mean=at_risk / k if k else math.inf,
            censored_fraction=censored / n if n else math.nan,
        )


def _step_capped(params: dict[str, Any], status: np.ndarray, exit_step: np.ndarray) -> int:
    """How many paths of dynamics with their own clock (adaptive steps) the step cap (max_steps) censored before
    t_max: their own time is not recorded (0 for fixed steps, whose step cap is their time cap)."""
    if params.get("max_time") is None:
        return 0
    return int(np.count_nonzero((status == Status.CENSORED) & (exit_step >= params["max_steps"])))


def _cap_time(params: dict[str, Any], status: np.ndarray, exit_step: np.ndarray) -> float:
    """The time at risk of a run's CENSORED paths: max_steps * dt, or t_max for dynamics with their own clock
    (adaptive steps). NaN where such a path was censored by the step cap before t_max (`_step_capped`): counting it
    at t_max would overstate its time at risk."""
    if params.get("max_time") is None:
        return float(params["max_steps"] * params["dynamics"]["dt"])
    return math.nan if _step_capped(params, status, exit_step) else float(params["max_time"])


def censoring_time(result: SimulationResult) -> float:
    """`_cap_time` of a run with per-path arrays, for analyses that need every path's time at risk: a ValueError
    where it is unknown."""
    n = _step_capped(result.params, result.status, result.exit_step)
    if n:
        raise ValueError(f"{n} path(s) of adaptive steps were censored by max_steps={result.params['max_steps']} "
                         f"before t_max={result.params['max_time']:g}, at times the run does not record: raise "
                         "max_steps (or leave it out) so that paths run to t_max")
    return _cap_time(result.params, result.status, result.exit_step)


@dataclasses.dataclass(frozen=True, eq=False)
class RunRecord:
    """What every result carries besides its numbers: trajectories and provenance, and saving and loading."""

    trajectories: list[tuple[np.ndarray, np.ndarray]]
    params: dict[str, Any]
    seed: int
    version: str
    elapsed: float
    total_steps: int

    _kind = ""

    def stats(self) -> ExitStats:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def summary(self) -> Summary:
        return self.stats().summary()

    def _header(self) -> dict[str, Any]:
        return {"kind": self._kind, "params": self.params, "seed": self.seed, "version": self.version,
                "elapsed": self.elapsed, "total_steps": self.total_steps}

    def _arrays(self) -> dict[str, np.ndarray]:
        return trajectory_arrays(self.trajectories)

    def save(self, path: str | Path) -> None:
        """Write a lossless .npz: the arrays, trajectories and a JSON header with params, seed and version."""
        _write_npz(path, self._header(), self._arrays())

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Read a result written by `save`, checking that it is of this class."""
        result = load(path)
        if not isinstance(result, cls):
            raise ValueError(f"{path} holds a {type(result).__name__}, not a {cls.__name__}")
        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} seed={self.seed} version={self.version}: {self.summary()}>"


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SimulationResult(RunRecord):
    """Per-path outcome of `simulate`, with its provenance.

    Attributes
    ----------
    status : int8 (n_paths,) of `Status` codes.
    exit_time : float64 (n_paths,), the time the path stopped (step * dt, or the integrator's own time for
        adaptive steps; an exit of an SDE with the bridge test on, or of DP54, is located inside its last step:
        see docs/engine.md); NaN unless EXITED, HIT, CONVERGED or SINGULAR.
    exit_step : int64 (n_paths,), the step at which the path ended, whatever its status.
    exit_position : float64 (n_paths, d), the state at the stopping step (for CONVERGED the optimizer's answer);
        NaN for CENSORED and DIVERGED. Exit-time statistics (`summary`) use EXITED and HIT paths only.
    final_position : float64 (n_paths, d), every path's state at its last step, whatever its status (CENSORED,
        CONVERGED and DIVERGED too): the point the integrator reached, so for an exit located inside its step
        (the bridge test, DP54's dense output) the end of that step, where `exit_position` is the located exit; for
        CONVERGED (perturbed GD) the answer x~, as `exit_position`. NaN only where a coordinate is not finite, and throughout for a result saved before final_position
        existed.
    trajectories : list of (t (k,), x (k, d)) for the first `record_paths` paths, recorded every
        `record_every` steps plus the start and the end.
    params : the landscape, dynamics, regions, start and run options (JSON-compatible).
    seed, version : what the numbers depend on; elapsed : wall seconds; total_steps : path-steps executed.
    score_sum, score_time : with `sensitivities`, float64 (n_paths, p), column j for params["sensitivities"][j]:
        each path's likelihood-ratio score S = sum_n s_n and sum_n t_n s_n (t_n the time at the start of step n);
        NaN in the columns of parameters done by finite differences. None without sensitivities.
    fd_status, fd_exit_time : with parameters done by finite differences, (n_fd, 4, n_paths): the status and exit
        time of every path in the runs at theta + h, theta - h, theta + 2h, theta - 2h (common random numbers:
        the same seed). None otherwise.
    `sensitivity(quantity, parameter)` turns them into a derivative with its interval (docs/sensitivities.md).
    exit_face : int32 (n_paths,) or None. When `stop` or `target` is a `Box`, a 1-D `Ball` or `Ellipsoid` (an
        interval: its ends "x0-" and "x0+") or several regions, the face each
        EXITED or HIT path ended by (-1 for the others): a code into `face_names` (the stop's faces, then the
        target's). With the bridge test on it is the face whose bridge fired (or whose plane the step's end point
        is beyond), else the face the step's chord crossed. `exit_region` (a property) gives the region, a code
        into `region_names`. None for runs with a single plane, ball or ellipsoid in two dimensions or more.
    """

    status: np.ndarray
    exit_time: np.ndarray
    exit_step: np.ndarray
    exit_position: np.ndarray
    final_position: np.ndarray
    score_sum: np.ndarray | None = None
    score_time: np.ndarray | None = None
    fd_status: np.ndarray | None = None
    fd_exit_time: np.ndarray | None = None
    exit_face: np.ndarray | None = None

    _kind = "paths"

    @property
    def face_names(self) -> list[str]:
        """The names of the exit faces' codes (empty when the run records no faces)."""
        return list(self.params.get("faces", {}).get("faces", []))

    @property
    def region_names(self) -> list[str]:
        """The names of the exit regions' codes: the stop's members (or "stop"), then the target's (or "target")."""
        return list(self.params.get("faces", {}).get("regions", []))

    @property
    def exit_region(self) -> np.ndarray | None:
        """int32 (n_paths,): the region each EXITED or HIT path ended by, a code into `region_names` (-1 for the
        others); None when the run records no faces."""
        if self.exit_face is None:
            return None
        owner = np.asarray(self.params["faces"]["face_region"] + [-1], dtype=np.int32)
        return owner[self.exit_face]  # -1 indexes the appended -1

    def exit_fractions(self, by: str = "region") -> dict[str, float]:
        """The fraction of all paths that ended by each region (by="region") or face (by="face"): splitting
        probabilities when every path stops."""
        if by not in ("region", "face"):
            raise ValueError(f"by must be 'region' or 'face', got {by!r}")
        codes = self.exit_region if by == "region" else self.exit_face
        if codes is None:
            raise ValueError("this run records no exit faces (give a Box, or several regions as a dict or list)")
        names = self.region_names if by == "region" else self.face_names
        counts = np.bincount(codes[codes >= 0], minlength=len(names))
        return {name: float(c) / self.n_paths for name, c in zip(names, counts)}

    @property
    def n_paths(self) -> int:
        return int(self.status.shape[0])

    def count(self, status: Status | str | int) -> int:
        """The number of paths that ended with `status` (a `Status`, its code or its name)."""
        return int(np.count_nonzero(self.status == as_status(status)))

    @property
    def stopped(self) -> np.ndarray:
        """Mask of the paths that EXITED or HIT (those that left by a boundary; CONVERGED and SINGULAR paths also
        carry an exit time, the time they stopped at)."""
        return (self.status == Status.EXITED) | (self.status == Status.HIT)

    def stats(self) -> ExitStats:
        return ExitStats.of(self.status, self.exit_time, _cap_time(self.params, self.status, self.exit_step))

    def to_pandas(self) -> Any:
        """One row per path: status (categorical names), exit_time, exit_step, the exit position x0..x{d-1} and the
        final position final_x0..final_x{d-1}; with exit faces, exit_region and exit_face (categorical names)."""
        import pandas as pd

        d = self.exit_position.shape[1]
        frame = pd.DataFrame(
            {
                "status": pd.Categorical.from_codes(self.status, [s.name for s in Status]),
                "exit_time": self.exit_time,
                "exit_step": self.exit_step,
                **{f"x{i}": self.exit_position[:, i] for i in range(d)},
                **{f"final_x{i}": self.final_position[:, i] for i in range(d)},
                **self._score_columns(),
            }
        )
        if self.exit_face is not None:  # codes as categories (-1, no exit, becomes NaN)
            region = self.exit_region
            assert region is not None
            frame["exit_region"] = pd.Categorical.from_codes(region, self.region_names)
            frame["exit_face"] = pd.Categorical.from_codes(self.exit_face, self.face_names)
        frame.index.name = "path"
        frame.attrs.update(seed=self.seed, version=self.version, params=self.params)
        return frame

    def _score_columns(self) -> dict[str, np.ndarray]:
        """score_<parameter> and score_time_<parameter> of each parameter done by the score."""
        columns: dict[str, np.ndarray] = {}
        if self.score_sum is None or self.score_time is None:
            return columns
        for j, plan in enumerate(self.params.get("sensitivities", [])):
            if plan["method"] == "score":
                columns[f"score_{plan['parameter']}"] = self.score_sum[:, j]
                columns[f"score_time_{plan['parameter']}"] = self.score_time[:, j]
        return columns

    def sensitivity(self, quantity: str, parameter: str, *, form: str = "both", confidence: float = 0.95) -> Any:
        """d E[quantity] / d parameter with its interval, an `Estimate`, from a run with `sensitivities`.

        quantity : "mean_exit_time" (every path must have exited or hit), "capped_exit_time" (E[min(tau, t_max)],
            paths that stopped without an exit at the cap), "exit_probability" (P(tau <= t_max): the path EXITED or
            HIT, as `analysis.quantity_of`) or "hit_probability". parameter : one of the run's `sensitivities`.
        form : for a parameter done by the score, "both" (default: the cost-to-go form sum_n (tau - t_n) s_n for
            times, with a fitted baseline), "cost_to_go", "baseline" or "raw" (F S); see docs/sensitivities.md.
        DIVERGED paths: a probability leaves them out (its derivative is then that of the probability conditional on
        not diverging) and the notes count them; a time refuses them. The estimate's notes say how it was computed
        (score or finite differences, time change, bridge test); its cost counts the finite differences' runs.
        """
        return sensitivity_estimate(self, quantity, parameter, form=form, confidence=confidence)

    def to_xarray(self) -> Any:
        """An xarray Dataset over (path, coordinate) with the per-path arrays; provenance in attrs (params as JSON,
        so that the dataset also writes to netCDF)."""
        import xarray as xr

        return xr.Dataset(
            {
                "status": ("path", self.status),
                "exit_time": ("path", self.exit_time),
                "exit_step": ("path", self.exit_step),
                "exit_position": (("path", "coordinate"), self.exit_position),
                "final_position": (("path", "coordinate"), self.final_position),
                **({} if self.exit_face is None else {"exit_face": ("path", self.exit_face)}),
            },
            coords={"path": np.arange(self.n_paths), "coordinate": np.arange(self.exit_position.shape[1])},
            attrs={"seed": self.seed, "version": self.version, "params": json.dumps(self.params),
                   "status_codes": json.dumps({s.name: s.value for s in Status})},
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "status": self.status,
            "exit_time": self.exit_time,
            "exit_step": self.exit_step,
            "exit_position": self.exit_position,
            "final_position": self.final_position,
            **{name: a for name in ("score_sum", "score_time", "fd_status", "fd_exit_time")
               if (a := getattr(self, name)) is not None},
            **({} if self.exit_face is None else {"exit_face": self.exit_face}),
            **trajectory_arrays(self.trajectories),
        }


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SummaryResult(RunRecord):
    """Outcome of `simulate(..., keep="summary")`: mergeable statistics instead of per-path arrays."""

    exit_stats: ExitStats

    _kind = "summary"

    @property
    def n_paths(self) -> int:
        return sum(self.exit_stats.counts)

    def count(self, status: Status | str | int) -> int:
        """The number of paths that ended with `status` (a `Status`, its code or its name)."""
        return self.exit_stats.counts[as_status(status)]

    def stats(self) -> ExitStats:
        return self.exit_stats

    def _header(self) -> dict[str, Any]:
        return {**super()._header(), "exit_stats": dataclasses.asdict(self.exit_stats)}


_FORMAT = "escapade-result-1"

Trajectories = list[tuple[np.ndarray, np.ndarray]]


def trajectory_arrays(trajectories: Trajectories) -> dict[str, np.ndarray]:
    """Trajectories as named arrays for an .npz file: trajectory_t_<i> and trajectory_x_<i>."""
    arrays: dict[str, np.ndarray] = {}
    for i, (t, x) in enumerate(trajectories):
        arrays[f"trajectory_t_{i}"], arrays[f"trajectory_x_{i}"] = t, x
    return arrays


#: The most a recorded path's time array may be compressed (uncompressed bytes over compressed bytes), above
#: `_SMALL_MEMBER` bytes: a run's times increase, and increasing float64 numbers deflate about 4 to 8-fold (the
#: integers of a discrete map, times k * dt, times one unit in the last place apart), where an array of zeros of
#: a compression bomb deflates about 1000-fold.
_MAX_TIME_RATIO = 64
#: Members up to this many bytes are read whatever their compression: small enough that a bomb gains nothing.
_SMALL_MEMBER = 2**20


class CheckedNpz:
    """An opened .npz (np.load, allow_pickle=False) whose arrays are read only if the data they declare fits in
    their member of the archive: a 1 KB file declaring an array of 1e10 numbers must not make numpy allocate it
    before finding the file short. `size`, the archive's length in bytes: its members' compressed data must lie in
    it without overlapping (one stretch of deflated data listed as many members would inflate many times over)."""

    def __init__(self, data: Any, size: int | None = None) -> None:
        # sets: a sweep of 10,000 points has 1e5 arrays, and numpy's NpzFile looks each name up in a list
        self.data, self.files, self._members = data, frozenset(data.files), frozenset(data.zip.namelist())
        self._trajectories: collections.Counter[str] | None = None
        self._headers: dict[str, tuple[tuple[int, ...], np.dtype[Any], bool, int]] = {}
        if size is not None:
            infos = data.zip.infolist()
            if (sum(info.compress_size for info in infos) > size
                    or any(info.header_offset + info.compress_size > size for info in infos)):
                raise ValueError(f"its members claim more compressed data than the file's {size} bytes hold (they "
                                 "overlap, or their sizes are false)")

    def trajectory_count(self, prefix: str = "") -> int:
        """How many recorded paths the arrays under `prefix` hold (trajectory_t_0, _x_0, ...; counted for every
        prefix in one pass over the names); ValueError when they are not numbered 0 .. n - 1 in pairs."""
        if self._trajectories is None:
            self._trajectories = collections.Counter(name.partition("trajectory_t_")[0] for name in self.files
                                                     if "trajectory_t_" in name)
        n = self._trajectories[prefix]
        if not all(f"{prefix}trajectory_t_{i}" in self.files and f"{prefix}trajectory_x_{i}" in self.files
                   for i in range(n)):
            raise ValueError(f"the recorded paths{' of ' + prefix.rstrip('/') if prefix else ''} are not numbered "
                             f"0 to {n - 1}, each with its times and positions")
        return n

    def _info(self, name: str) -> Any:
        return self.data.zip.getinfo(name if name in self._members else name + ".npy")

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
        """The shape and dtype array `name` declares, read from its header only (its data is not inflated);
        ValueError if it declares objects or more data than its member holds."""
        return self._header(name)[:2]

    def _header(self, name: str) -> tuple[tuple[int, ...], np.dtype[Any], bool, int]:
        """Shape, dtype, Fortran order and where the data starts in the member, read once."""
        if name not in self._headers:
            info = self._info(name)
            with self.data.zip.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read(fh)
                start = fh.tell()
            if dtype.hasobject or math.prod(shape) * dtype.itemsize > info.file_size:
                raise ValueError(f"array {name!r} declares {dtype} of shape {shape}, more than its {info.file_size} "
                                 "bytes")
            self._headers[name] = (tuple(shape), dtype, bool(fortran), start)
        return self._headers[name]

    def check_compression(self, name: str, max_ratio: float, what: str) -> None:
        """ValueError if array `name`, over `_SMALL_MEMBER` bytes, inflates more than `max_ratio`-fold: more than
        `what` compresses (a compression bomb), before it is inflated."""
        shape, dtype = self.header(name)
        nbytes, packed = math.prod(shape) * dtype.itemsize, self._info(name).compress_size
        if nbytes > _SMALL_MEMBER and nbytes > max_ratio * packed:
            raise ValueError(f"array {name!r} declares {nbytes} bytes in {packed} compressed ones, a "
                             f"{nbytes / max(packed, 1):.0f}-fold compression: {what} compresses at most "
                             f"{max_ratio}-fold")

    def __getitem__(self, name: str) -> np.ndarray:
        shape, dtype, fortran, start = self._header(name)
        with self.data.zip.open(self._info(name)) as fh:
            if dtype.subdtype is not None or dtype.fields is not None:  # numpy's reader for what this one skips
                return np.lib.format.read_array(fh, allow_pickle=False)
            # the data into the array, as numpy reads it (in pieces: no second copy of the whole), without parsing
            # the header again
            array = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
            buffer = array.reshape(-1, order="A").view(np.uint8).data
            fh.seek(start)
            done = 0
            while done < len(buffer):
                got = fh.readinto(buffer[done:done + 2**21])
                if not got:
                    raise ValueError(f"array {name!r} holds {done} bytes of its declared {len(buffer)}")
                done += got
            return array


def _archive_size(fh: Any) -> int | None:
    """The length of the open file `fh` in bytes, None if it cannot say."""
    try:
        return os.fstat(fh.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def open_npz(fh: Any) -> Iterator[CheckedNpz]:
    """np.load of an .npz without pickles, as a context manager giving a `CheckedNpz`."""
    size = _archive_size(fh)
    with np.load(fh, allow_pickle=False) as data:
        if not hasattr(data, "zip"):
            raise ValueError("not an .npz archive")
        yield CheckedNpz(data, size)


def regular_file(file: Path, name: str = "") -> Path:
    """`file`, if it is a regular file (or none yet): opening a FIFO or a device would block, read without end, or
    (an .npz's writer seeks back) fail half-written. ValueError naming it (as `name`=, where given)."""
    if file.exists() and not file.is_file():
        shown = f"{name}={str(file)!r}" if name else repr(str(file))
        raise ValueError(f"{shown} is not a regular file (a device, a pipe or a directory)")
    return file


def _typed(cls: Any, d: dict[str, Any], where: str) -> dict[str, Any]:
    """d with the fields of dataclass `cls` whose type is float, int, bool, str, a dict or a pair of floats checked
    (a JSON number for a float, an integer for an int, ...) and converted; the other fields are left to the
    caller. ValueError naming `where` and the field."""
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(d).__name__}")
    out = dict(d)
    for f in dataclasses.fields(cls):
        if f.name not in d:
            continue
        v, kind = d[f.name], str(f.type)  # a string: the module has postponed annotations
        number = type(v) in (int, float)
        ok = {"float": number, "int": type(v) is int, "bool": type(v) is bool, "str": type(v) is str,
              "dict[str, Any]": type(v) is dict,
              "tuple[float, float]": type(v) in (list, tuple) and len(v) == 2
              and all(type(x) in (int, float) for x in v),
              "tuple[str, ...]": type(v) in (list, tuple) and all(type(x) is str for x in v)}.get(kind)
        if ok is None:
            continue
        if not ok:
            raise ValueError(f"{where}: {f.name} must be {kind}, got {v!r:.80}")
        if f.name in ("seed", "total_steps", "n_paths", "path_steps", "n", "censored", "diverged") and not (
                0 <= v < 2**64):
            raise ValueError(f"{where}: {f.name} must be an integer in [0, 2^64), got {v!r}")
        out[f.name] = (float(v) if kind == "float" else tuple(float(x) for x in v) if kind == "tuple[float, float]"
                       else tuple(v) if kind == "tuple[str, ...]" else v)
    return out


def trajectories_from(data: Any, prefix: str = "", *, dim: int | None = None, max_count: int | None = None,
                      max_length: int | None = None) -> Trajectories:
    """The inverse of `trajectory_arrays`, reading an opened `CheckedNpz`. Before any is read, each path's times
    must be a 1-D float64 array compressed no more than times compress, and its positions a float64 array of one
    row per time and `dim` columns (the run's dimension; without `dim`, that of the first path); ValueError naming
    the array otherwise, or when there are more than `max_count` paths or a path of more than `max_length` times
    (what the run's own counts allow)."""
    n = data.trajectory_count(prefix)
    if max_count is not None and n > max_count:
        raise ValueError(f"the file holds {n} recorded paths{' of ' + prefix.rstrip('/') if prefix else ''}, more "
                         f"than the run's {max_count} (params.record_paths)")
    names = [(f"{prefix}trajectory_t_{i}", f"{prefix}trajectory_x_{i}") for i in range(n)]
    for t_name, x_name in names:
        (t_shape, t_dtype), (x_shape, x_dtype) = data.header(t_name), data.header(x_name)
        if t_dtype != np.float64 or len(t_shape) != 1:
            raise ValueError(f"{t_name} must be a 1-D float64 array of times, got {t_dtype} of shape {t_shape}")
        if max_length is not None and t_shape[0] > max_length:
            raise ValueError(f"{t_name} holds {t_shape[0]} times, more than the run records (at most {max_length}: "
                             "params.max_steps // params.record_every + 2)")
        if dim is None and len(x_shape) == 2:
            dim = x_shape[1]  # the recorded paths of a run share its dimension
        if x_dtype != np.float64 or x_shape != (t_shape[0], dim):
            raise ValueError(f"{x_name} must be a float64 array of shape {(t_shape[0], dim)} (one row per time of "
                             f"{t_name}, the run's dimension), got {x_dtype} of shape {x_shape}")
        data.check_compression(t_name, _MAX_TIME_RATIO, "a path's increasing times")
    return [(data[t_name], data[x_name]) for t_name, x_name in names]


def _as_path(path: Any) -> Path:
    """A file path; an int would be taken as an open file descriptor by open() and numpy, so it is refused."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike), got {path!r}")
    return Path(path)


def _write_npz(path: str | Path, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    path = _as_path(path)
    if not path.is_dir():  # a directory: open's own IsADirectoryError
        regular_file(path, "path")
    payload: dict[str, Any] = {"header": np.array(json.dumps({"format": _FORMAT, **header})), **arrays}
    with open(path, "wb") as fh:  # exactly this path: np.savez would append .npz to a bare name
        np.savez_compressed(fh, **payload)


def _from_npz(data: Any, header: dict[str, Any], prefix: str = "") -> SimulationResult | SummaryResult:
    where = f"the header{' of ' + prefix.rstrip('/') if prefix else ''}"
    fields = _typed(RunRecord, {key: header[key] for key in ("params", "seed", "version", "elapsed", "total_steps")},
                    where)
    if header["kind"] not in ("paths", "summary"):
        raise ValueError(f"unknown kind {header['kind']!r}")
    params = fields["params"]
    check_params(params, where)
    n_paths = params.get("n_paths")
    # what the run's own counts allow its recordings: read before any array is
    recorded: dict[str, Any] = {"max_count": params.get("record_paths"), "max_length": None}
    if "record_every" in params:
        recorded["max_length"] = params["max_steps"] // params["record_every"] + 2  # the start, then the end
    if header["kind"] == "summary":
        stats = ExitStats.from_dict(header["exit_stats"])
        if n_paths is not None and sum(stats.counts) != n_paths:
            raise ValueError(f"{where}: exit_stats count {sum(stats.counts)} paths, params.n_paths {n_paths}")
        return SummaryResult(exit_stats=stats, trajectories=trajectories_from(data, prefix, **recorded), **fields)
    # The per-path arrays' dtypes and shapes, from their headers: checked against each other and the params before
    # any is inflated (a damaged or hostile file must not make load allocate what its own counts do not imply).
    names = [name for name in _PATH_ARRAY_TYPES if prefix + name in data.files]
    for name in ("status", "exit_time", "exit_step", "exit_position"):
        if name not in names:
            raise ValueError(f"the file has no {prefix + name} array")
    shapes = {name: data.header(prefix + name) for name in names}
    if "final_position" not in shapes:  # absent from files saved before it existed: NaN
        shapes["final_position"] = shapes["exit_position"]
    check_path_shapes(shapes)
    n = shapes["status"][0][0]
    if n_paths is not None and n != n_paths:
        raise ValueError(f"{where}: the per-path arrays hold {n} paths, params.n_paths {n_paths}")
    _check_recorded_arrays(params, shapes, where)
    trajectories = trajectories_from(data, prefix, dim=shapes["exit_position"][0][1], **recorded)
    arrays = {name: data[prefix + name] for name in names}
    if "final_position" not in arrays:
        arrays["final_position"] = np.full(arrays["exit_position"].shape, np.nan)
    check_path_arrays(arrays)
    faces = params.get("faces")
    n_faces = len(faces["faces"]) if faces is not None else 0
    if "exit_face" in arrays and not ((arrays["exit_face"] >= -1) & (arrays["exit_face"] < n_faces)).all():
        raise ValueError(f"exit_face must hold -1 or codes of the run's {n_faces} faces")
    return SimulationResult(**arrays, trajectories=trajectories, **fields)


def _number(v: Any) -> bool:
    return type(v) in (int, float)


def check_params(params: dict[str, Any], where: str) -> None:
    """The fields of a run's params that its result's methods read (`summary`, `stats` and `repr` the time cap:
    max_steps, dynamics.dt, max_time; `exit_region`, `to_pandas` the faces; `sensitivity` the sensitivities; the
    analyses the recording step), of the types they read them as: ValueError naming `where` and the field, so that
    a damaged header fails in `load` and not later with a KeyError or TypeError. Fields a run may leave out are
    checked where present."""
    missing = object()

    def fail(field: str, what: str, value: Any) -> None:
        got = "nothing (it is missing)" if value is missing else f"{value!r:.80}"
        raise ValueError(f"{where}: params.{field} must be {what}, got {got}")

    if type(params.get("dynamics")) is not dict:
        fail("dynamics", "a table of the dynamics (its to_dict())", params.get("dynamics", missing))
    dt = params["dynamics"].get("dt", missing)
    if not (_number(dt) and 0 < dt < math.inf):
        fail("dynamics.dt", "a positive finite number", dt)
    max_steps = params.get("max_steps", missing)
    if not (type(max_steps) is int and 0 <= max_steps < 2**64 and math.isfinite(max_steps * dt)):
        fail("max_steps", f"an integer >= 0 whose time max_steps * dt (dt={dt}) is finite", max_steps)
    max_time = params.get("max_time")
    if max_time is not None and not (_number(max_time) and 0 < max_time < math.inf):
        fail("max_time", "a positive finite number or null", max_time)
    for field, minimum in (("n_paths", 0), ("record_paths", 0), ("record_every", 1), ("semantics", 0)):
        value = params.get(field, missing)
        if value is not missing and not (type(value) is int and minimum <= value < 2**64):
            fail(field, f"an integer >= {minimum}", value)
    if "bridge" in params and type(params["bridge"]) is not bool:
        fail("bridge", "true or false", params["bridge"])
    if "faces" in params:
        faces = params["faces"]
        table: Any = faces if type(faces) is dict else {}
        names, regions, owner = (table.get(key) for key in ("faces", "regions", "face_region"))
        if not (type(names) is list and type(regions) is list and type(owner) is list
                and all(type(x) is str for x in names + regions) and len(owner) == len(names)
                and all(type(j) is int and 0 <= j < len(regions) for j in owner)):
            fail("faces", "a table of lists: faces and regions (names), face_region (each face's region)", faces)
    if "sensitivities" in params:
        plans = params["sensitivities"]
        if type(plans) is not list:
            fail("sensitivities", "a list of tables", plans)
        for j, plan in enumerate(plans):
            ok = (type(plan) is dict and type(plan.get("parameter")) is str and plan.get("method") in ("score", "fd")
                  and all(_number(plan.get(k)) for k in ("value", "time_exponent", "step"))
                  and type(plan.get("note")) is str)
            if ok and plan["method"] == "fd":
                ok = type(plan.get("fd_index")) is int and plan["step"] != 0 and math.isfinite(plan["step"])
            if not ok:
                fail(f"sensitivities[{j}]", "a table of parameter, value, method ('score' or 'fd'), time_exponent, "
                     "step, note (and fd_index for 'fd')", plan)
        fd = sorted(plan["fd_index"] for plan in plans if plan["method"] == "fd")
        if fd != list(range(len(fd))):
            fail("sensitivities", f"plans whose fd_index number the finite-difference runs 0 to {len(fd) - 1}",
                 fd)


def _check_recorded_arrays(params: dict[str, Any], shapes: dict[str, Any], where: str) -> None:
    """The optional per-path arrays against what the params say the run recorded: exit faces, one column of
    scores per sensitivity, one finite-difference run per parameter done so."""
    if "exit_face" in shapes and "faces" not in params:
        raise ValueError(f"{where}: the file has exit_face but params.faces does not name the faces")
    plans = params.get("sensitivities", [])
    score = any(p["method"] == "score" for p in plans)
    columns = shapes["score_sum"][0][1] if "score_sum" in shapes else None
    if (columns is None and score) or (columns is not None and columns != len(plans) or columns == 0):
        raise ValueError(f"{where}: score_sum must hold a column per sensitivity ({len(plans)} in "
                         f"params.sensitivities{', some done by the score' if score else ''}), got "
                         f"{'none' if columns is None else columns}")
    fd = sum(p["method"] == "fd" for p in plans)
    runs = shapes["fd_status"][0][0] if "fd_status" in shapes else 0
    if runs != fd:
        raise ValueError(f"{where}: fd_status must hold a run per sensitivity done by finite differences ({fd} in "
                         f"params.sensitivities), got {runs}")


# The per-path arrays of a result as simulate makes them: dtype and number of dimensions.
_PATH_ARRAY_TYPES = {"status": ("int8", 1), "exit_time": ("float64", 1), "exit_step": ("int64", 1),
                     "exit_position": ("float64", 2), "final_position": ("float64", 2), "score_sum": ("float64", 2),
                     "score_time": ("float64", 2), "fd_status": ("int8", 3), "fd_exit_time": ("float64", 3),
                     "exit_face": ("int32", 1)}


def check_path_shapes(shapes: dict[str, tuple[tuple[int, ...], Any]]) -> None:
    """The (shape, dtype) of each per-path array of a result file or stored chunk (as `CheckedNpz.header` reads
    them, before their data): the dtypes and dimensions simulate makes, one row per path, positions of one
    dimension."""
    status = shapes["status"][0]
    n = status[0] if len(status) == 1 else -1
    for name, (shape, dt) in shapes.items():
        dtype, ndim = _PATH_ARRAY_TYPES[name]
        # the finite-difference runs' arrays are (parameters, 4 runs, paths): one column per path
        per_path = shape[-1] if name.startswith("fd_") and len(shape) == 3 else (shape[0] if len(shape) >= 1 else -1)
        if dt != dtype or len(shape) != ndim or per_path != n or (name.startswith("fd_") and shape[1] != 4):
            raise ValueError(f"{name} must be a {ndim}-D {dtype} array with one entry per path ({n}), got {dt} "
                             f"of shape {shape}")
    for name, pair in (("score_time", "score_sum"), ("fd_exit_time", "fd_status")):
        if (name in shapes) != (pair in shapes) or (name in shapes and shapes[name][0] != shapes[pair][0]):
            raise ValueError(f"{pair} and {name} must come together, of one shape")
    position, final = shapes["exit_position"][0], shapes["final_position"][0]
    if final != position:
        raise ValueError(f"exit_position and final_position must be (paths, dim) arrays of one shape, got "
                         f"{position} and {final}")


def check_path_arrays(arrays: dict[str, np.ndarray]) -> None:
    """The per-path arrays of a result file or stored chunk: the dtypes and dimensions simulate makes, one row per
    path, positions of one dimension, valid statuses."""
    check_path_shapes({name: (a.shape, a.dtype) for name, a in arrays.items()})
    codes = np.array([s.value for s in Status])
    for name in ("status", "fd_status"):
        if name in arrays and not np.isin(arrays[name], codes).all():
            raise ValueError(f"{name} must hold status codes {codes.tolist()}, got {np.unique(arrays[name])[:8]}")
    stopped = np.isin(arrays["status"], [Status.EXITED, Status.HIT])
    times = arrays["exit_time"][stopped]
    if not (np.isfinite(times) & (times >= 0)).all():  # a NaN or inf time would turn every mean into one
        raise ValueError("exit_time must be a finite time >= 0 for every EXITED or HIT path")


def _coordinate(values: list[Any]) -> np.ndarray:
    """Grid values as an xarray coordinate; values numpy cannot hold in one array become their repr strings."""
    try:
        a = np.asarray(values)
    except ValueError:
        a = np.array([repr(v) for v in values])
    return a if a.ndim == 1 else np.array([repr(v) for v in values])


_SWEEP_SEEDS = ("common", "independent")  # `sweep`'s seeds modes


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """One result per grid point, in the order of the cartesian product of the grid's values.

    seed, seeds : the sweep's base seed and its `seeds` mode ("common": every point ran with `seed`;
    "independent": point i with the seed derived from `seed` and i), which rerun it with `sweep`; None for a sweep
    saved before they were recorded (each point's own seed is in its result). `version` and `semantics` are its
    points' (the package version, and the version of what the simulated bits mean).
    """

    grid: dict[str, list[Any]]
    points: list[dict[str, Any]]
    results: list[SimulationResult | SummaryResult]
    seed: int | None = None
    seeds: str | None = None

    @property
    def version(self) -> str:
        """The version of escapade that ran the sweep (its first point's; "" without points)."""
        return self.results[0].version if self.results else ""

    @property
    def semantics(self) -> int | None:
        """The semantics version of the simulated bits (its first point's params; None where not recorded)."""
        return self.results[0].params.get("semantics") if self.results else None

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> SimulationResult | SummaryResult:
        return self.results[i]

    def __iter__(self) -> Any:
        return iter(self.results)

    def select(self, values: Mapping[str, Any]) -> SweepResult:
        """The sweep at fixed values of some grid keys, e.g. ``sweep.select({"dynamics.lr": 0.2})``: the points
        that have them, with those keys' grid reduced to the one value (a slice of a 2-D sweep is then a sweep over
        the other key, for `plot.arrhenius_sweep` or `analysis.arrhenius_fit_sweep`). A selection of a
        seeds="independent" sweep has seed and seeds None: its points' seeds come from their places in the whole
        grid, which a sweep over the selected grid would not give (each point's own seed stays in its result)."""
        if not isinstance(values, Mapping):
            raise TypeError(f"values must map grid keys to values, got {type(values).__name__}")
        chosen = {}  # the grid's own entry for each value given (200 for 200.0 or np.int64(200))
        for key, value in values.items():
            if key not in self.grid:
                raise ValueError(f"{key!r} is not a key of the sweep's grid {list(self.grid)}")
            matches = [v for v in self.grid[key] if _same_value(v, value)]
            if not matches:
                raise ValueError(f"{key}={value!r} is not one of the grid's values {self.grid[key]}")
            chosen[key] = matches[0]
        kept = [i for i, point in enumerate(self.points) if all(point[k] == v for k, v in chosen.items())]
        grid = {k: [chosen[k]] if k in chosen else list(v) for k, v in self.grid.items()}
        rerun = self.seeds != "independent" or len(kept) == len(self.points)
        return dataclasses.replace(self, grid=grid, points=[self.points[i] for i in kept],
                                   results=[self.results[i] for i in kept], seed=self.seed if rerun else None,
                                   seeds=self.seeds if rerun else None)

    def _provenance(self) -> dict[str, Any]:
        """The sweep's seed, seeds mode, version, semantics and first point's params (JSON text), for attrs: the
        seed and seeds only where recorded (netCDF attributes cannot be None)."""
        recorded = {k: v for k, v in (("seed", self.seed), ("seeds", self.seeds)) if v is not None}
        semantics = {} if self.semantics is None else {"semantics": self.semantics}
        params = json.dumps(self.results[0].params) if self.results else "{}"
        return {**recorded, "version": self.version, **semantics, "params": params}

    def to_pandas(self) -> Any:
        """One row per grid point: the grid values, then the summary (counts by status; `mean` and `stderr` over the
        stopped paths, `mean_lower_bound`, `exponential_mean`), the mean by the censoring policy
        (`restricted_mean`, `restricted_stderr`, `identified`: see `analysis.estimates`) and the seed. Where paths
        did not stop (CENSORED, CONVERGED, SINGULAR), `mean` is conditional on stopping by the cap and biased low,
        and `identified` is False: `restricted_mean` (E[min(tau, cap)], the value of `mean_lower_bound`) is then
        a lower bound of the mean exit time. The frame's `attrs` hold the grid, the sweep's seed and seeds (where
        recorded), the version, the semantics and the first point's params (JSON text)."""
        import pandas as pd

        rows = []
        for point, res in zip(self.points, self.results):
            st = res.stats()
            s, (restricted, restricted_se) = st.summary(), st.restricted_mean()
            rows.append({**point, "n_paths": s.n_paths, **{k.lower(): v for k, v in s.counts.items()},
                         "mean": s.mean, "stderr": s.stderr, "mean_lower_bound": s.mean_lower_bound,
                         "exponential_mean": s.exponential_mean, "restricted_mean": restricted,
                         "restricted_stderr": restricted_se,
                         "identified": st.n_stopped > 0 and not any(s.counts[u.name] for u in UNSTOPPED),
                         "seed": res.seed})
        frame = pd.DataFrame(rows)
        frame.attrs = {"grid": json.dumps(self.grid), **self._provenance()}
        return frame

    def to_xarray(self) -> Any:
        """An xarray Dataset with one dimension per grid key: each point's columns of `to_pandas` (counts by status,
        mean, stderr, mean_lower_bound, exponential_mean, restricted_mean, restricted_stderr, identified) and seed;
        attrs as `to_pandas`'s (grid, seed and seeds where recorded, version, semantics, params)."""
        import xarray as xr

        frame = self.to_pandas()
        keys = list(self.grid)
        shape = tuple(len(v) for v in self.grid.values())
        variables = [c for c in frame.columns if c not in keys]
        coords = {k: _coordinate(v) for k, v in self.grid.items()}
        return xr.Dataset({c: (keys, frame[c].to_numpy().reshape(shape)) for c in variables}, coords=coords,
                          attrs=dict(frame.attrs))

    def save(self, path: str | Path) -> None:
        """One .npz with every point's arrays under the prefix p<i>/; `escapade.load` reads it back. The header
        also records the sweep's seed and seeds, the version and the semantics. The parameters every point shares
        (a landscape's matrix, say) are written once, under "shared_params", and each point's without them."""
        headers = [res._header() for res in self.results]
        shared, own = _split_shared([h["params"] for h in headers])
        header: dict[str, Any] = {"kind": "sweep", "grid": self.grid, "points": self.points, "seed": self.seed,
                                  "seeds": self.seeds, "version": self.version, "semantics": self.semantics,
                                  "shared_params": shared, "results": [{**h, "params": p} for h, p in zip(headers, own)]}
        arrays: dict[str, np.ndarray] = {}
        for i, res in enumerate(self.results):
            arrays.update({f"p{i}/{k}": v for k, v in res._arrays().items()})
        _write_npz(path, header, arrays)

    @classmethod
    def _from_npz(cls, data: Any, header: dict[str, Any]) -> SweepResult:
        grid, points, headers = header["grid"], header["points"], header["results"]
        if not (type(grid) is dict and all(type(v) is list and v for v in grid.values()) and type(points) is list
                and type(headers) is list):
            raise ValueError("a sweep's grid must map names to non-empty lists, and its points and results be lists")
        size = math.prod(len(v) for v in grid.values())
        if not len(points) == len(headers) == size or any(type(p) is not dict or set(p) != set(grid) for p in points):
            raise ValueError(f"a sweep over a grid of {size} points must hold {size} points and results, each point "
                             f"with the grid's keys; got {len(points)} points and {len(headers)} results")
        arrays = {name.split("/")[0] for name in data.files if "/" in name}
        if not arrays <= {f"p{i}" for i in range(size)}:
            raise ValueError(f"the file holds arrays of points beyond the sweep's {size}: {sorted(arrays)[:4]}")
        seed, seeds = header.get("seed"), header.get("seeds")  # absent from files saved before they were recorded
        if not (seed is None or (type(seed) is int and 0 <= seed < 2**64)) or seeds not in (None, *_SWEEP_SEEDS):
            raise ValueError(f"a sweep's seed must be an integer >= 0 and its seeds one of {_SWEEP_SEEDS} (or null), "
                             f"got seed={seed!r:.40}, seeds={seeds!r:.40}")
        shared = header.get("shared_params", {})  # absent from files saved before it was written
        if type(shared) is not dict or any(type(h) is not dict or type(h.get("params")) is not dict for h in headers):
            raise ValueError("a sweep's shared_params and each point's params must be JSON objects")
        results = [_from_npz(data, {**h, "params": _merge_shared(shared, h["params"], f"p{i}")}, prefix=f"p{i}/")
                   for i, h in enumerate(headers)]
        return cls(grid=grid, points=points, results=results, seed=seed, seeds=seeds)

    def __repr__(self) -> str:
        seed = "" if self.seed is None else f" seed={self.seed} seeds={self.seeds}"
        return f"<SweepResult over {list(self.grid)}{seed}: {len(self)} points>"


def _same_json(a: Any, b: Any) -> bool:
    """Whether two JSON-like values are the same value of the same types (1, 1.0 and True differ, so do 0.0 and
    -0.0; NaN is no value of any)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same_json(v, b[k]) for k, v in a.items())
    if type(a) is list:
        return len(a) == len(b) and all(map(_same_json, a, b))
    if type(a) is float:  # -0.0 is not 0.0 (a parameter's sign may matter)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def _split_shared(dicts: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entries every one of several dicts has the same, nested dicts taken apart likewise, and each dict
    without them: _merge_shared(shared, own[i]) is dicts[i] again (but for the order of its keys)."""
    shared: dict[str, Any] = {}
    own = [dict(d) for d in dicts]
    if len(dicts) < 2:
        return shared, own
    for key, first in dicts[0].items():
        values = [d[key] for d in dicts if key in d]
        if len(values) < len(dicts):
            continue
        if all(_same_json(first, v) for v in values[1:]):
            shared[key] = first
            for d in own:
                del d[key]
        elif all(type(v) is dict for v in values):
            inner, rest = _split_shared(values)
            if inner:
                shared[key] = inner
                for d, r in zip(own, rest):
                    d[key] = r
    return shared, own


def _merge_shared(shared: dict[str, Any], own: dict[str, Any], where: str, name: str = "params") -> dict[str, Any]:
    """The params of a sweep's point `where` from the sweep's shared entries and its own (_split_shared's
    inverse)."""
    merged = dict(own)
    for key, value in shared.items():
        if key not in merged:
            merged[key] = value
        elif type(value) is dict and type(merged[key]) is dict:
            merged[key] = _merge_shared(value, merged[key], where, f"{name}.{key}")
        else:
            raise ValueError(f"{where}: {name}.{key} is given both by the point and by the sweep's shared_params")
    return merged


def _same_value(recorded: Any, value: Any) -> bool:
    """Whether a grid's recorded value (JSON-like) is `value`; an array never is (it would compare elementwise)."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return False
    try:
        return bool(recorded == value)
    except (TypeError, ValueError):
        return False


@dataclasses.dataclass(frozen=True)
class EstimateLevel:
    """One rung of an estimate's ladder of step sizes.

    dt : the step. n_paths, path_steps : paths run and path-steps spent at this step. value, stderr : the
    quantity's estimate there and its standard error. censored : paths counted at the cap by the censoring policy
    (CENSORED, CONVERGED or SINGULAR). diverged : paths DIVERGED. elapsed : wall
    seconds spent at this step.
    """

    dt: float
    n_paths: int
    path_steps: int
    value: float
    stderr: float
    censored: int
    diverged: int
    elapsed: float


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Estimate:
    """A number with an interval: what `estimate` (and the other estimators) return.

    The interval ``value ± (half_width_statistical + half_width_bias)`` is stated at `confidence`. Its statistical
    part is z times the standard error of the Monte Carlo estimate; its bias part bounds the time-step bias of
    `value` read off the ladder of step sizes (0 where the dynamics has no time step to refine, a discrete map).
    How the bias estimate's own noise enters depends on the method (docs/accuracy.md): multilevel adds z times its
    standard error to the bias part, the ladder and paired put it in the statistical part (paired also adds one
    standard error to |bias| where the bias is resolved, over 2 of them from 0).

    Attributes
    ----------
    quantity : what was estimated ("mean_exit_time", "exit_probability", ...). value : the estimate, at the finest
        step of the ladder. interval : (low, high). confidence : the interval's level.
    stderr : the statistical standard error of `value`. bias, bias_stderr : the estimated time-step bias of `value`
        (value minus the dt -> 0 limit) and its standard error. extrapolated, extrapolated_stderr : the dt -> 0 limit
        fitted over the ladder (for reference; `value` is the finest level's estimate).
    half_width_statistical, half_width_bias : the interval's two parts.
    rtol : the requested relative accuracy. reached : whether the interval's half-width is below rtol * |value|.
    message : how the run ended (target reached, budget exhausted, ...). notes : what the user must know to read the
        value (censoring, diverged paths, how exits were tested).
    levels : the ladder (`EstimateLevel`s, coarsest first). n_paths, path_steps, elapsed : totals over the ladder.
    params, seed, version : the problem, the estimator's settings, and what the numbers depend on.

    `mean` and `probability` are other names for `value`.
    """

    quantity: str
    value: float
    interval: tuple[float, float]
    confidence: float
    stderr: float
    bias: float
    bias_stderr: float
    extrapolated: float
    extrapolated_stderr: float
    half_width_statistical: float
    half_width_bias: float
    rtol: float
    reached: bool
    message: str
    notes: tuple[str, ...]
    levels: tuple[EstimateLevel, ...]
    n_paths: int
    path_steps: int
    elapsed: float
    params: dict[str, Any]
    seed: int
    version: str

    @property
    def mean(self) -> float:
        """`value` (for a mean exit time)."""
        return self.value

    @property
    def probability(self) -> float:
        """`value` (for a probability)."""
        return self.value

    @property
    def half_width(self) -> float:
        """The interval's half-width: statistical plus bias part."""
        return self.half_width_statistical + self.half_width_bias

    @property
    def relative_error(self) -> float:
        """The half-width over |value|: what `rtol` bounds when `reached`."""
        return self.half_width / abs(self.value) if self.value else math.inf

    def to_dict(self) -> dict[str, Any]:
        """Every field as values Python's json module reads and writes (levels as a list of dicts). Fields that are
        not estimated are NaN and an unbounded interval end is infinite: json writes them as its NaN and Infinity
        tokens, which strict JSON readers refuse (`json.dumps(..., allow_nan=False)` raises)."""
        d = dataclasses.asdict(self)
        d["interval"] = list(self.interval)
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        """The inverse of `to_dict`; ValueError if a field is not of its type."""
        return cls(**_estimate_fields(d))

    def save(self, path: str | Path) -> None:
        """Write the estimate (an .npz with a JSON header, like every result); `escapade.load` reads it back."""
        _write_npz(path, {"kind": "estimate", "estimate": self.to_dict()}, {})

    def to_pandas(self) -> Any:
        """The ladder as a pandas DataFrame, one row per step size."""
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(level) for level in self.levels])

    def __str__(self) -> str:
        low, high = self.interval
        bias = ("" if math.isnan(self.bias) else
                f", time-step bias {self.bias:+.3g} bounded by ± {self.half_width_bias:.3g}")
        text = (f"{self.quantity} = {self.value:.6g}, {100 * self.confidence:g}% interval [{low:.6g}, {high:.6g}] "
                f"(statistical ± {self.half_width_statistical:.3g}{bias}); {self.message}")
        return "\n".join([text, *(f"  note: {note}" for note in self.notes)])

    def __repr__(self) -> str:
        low, high = self.interval
        return (f"<Estimate {self.quantity}={self.value:.6g} [{low:.6g}, {high:.6g}] at {self.confidence:g}, "
                f"{'reached' if self.reached else 'NOT reached'} rtol={self.rtol:g}>")


class SplittingStatus(enum.IntEnum):
    """How one run of `splitting` ended."""

    FINISHED = 0       # every replica reached the product set
    EXTINCT = 1        # every replica was at the level and was killed: the run's estimate is 0
    ITERATION_CAP = 2  # max_iterations came first: the run's estimate is not unbiased
    INTERRUPTED = 3    # stopped (Ctrl-C) before it finished


def _estimate_fields(d: dict[str, Any], cls: Any = None) -> dict[str, Any]:
    """The fields of a dict written by an estimate's `to_dict` (an `Estimate`'s, or `cls`'s simple-typed ones too),
    checked and as constructor arguments."""
    d = _typed(cls or Estimate, d, "the estimate")  # a subclass's fields include Estimate's
    if type(d.get("levels")) is not list:
        raise ValueError(f"the estimate: levels must be a list, got {d.get('levels')!r:.80}")
    d["levels"] = tuple(EstimateLevel(**_typed(EstimateLevel, level, "a level")) for level in d["levels"])
    return d


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SplittingResult(Estimate):
    """The probability of reaching the product set before the reactant set, from `splitting`: an `Estimate`
    (`.value`, also `.probability`; `.interval`, the 95% interval from the independent runs) with the runs' detail.

    Attributes (besides `Estimate`'s)
    ----------
    log_probability : log of `probability` (-inf when every run ended at 0).
    n_replicas, n_runs : N and the number of independent runs. test : "bridge" when the reactant and product sets were
        tested with the Brownian bridge between steps, "steps" when at the steps only (the estimate is then that of
        the discrete chain: Lévy noise, discrete maps, state-dependent noise, or bridge=False).
    run_probability, run_log_weight, run_reached, run_iterations, run_killed, run_steps, run_status,
        run_reactive_time : per run, its estimate prod (1 - K_q / N) * reached / N, the log of the product, the
        replicas in the product set at the end, iterations, replicas killed, path-steps, `SplittingStatus` code, and the
        mean time its final replicas took to reach the product set.
    censored, diverged : replica paths that reached max_steps or diverged (counted as failures; see `notes`).
    reactive_trajectories : (t, x) of up to `record_reactive` paths of run 0 that reached the product set.
    """

    log_probability: float
    n_replicas: int
    n_runs: int
    test: str
    run_probability: np.ndarray
    run_log_weight: np.ndarray
    run_reached: np.ndarray
    run_iterations: np.ndarray
    run_killed: np.ndarray
    run_steps: np.ndarray
    run_status: np.ndarray
    run_reactive_time: np.ndarray
    censored: int
    diverged: int
    reactive_trajectories: list[tuple[np.ndarray, np.ndarray]]

    _RUN_FIELDS = ("run_probability", "run_log_weight", "run_reached", "run_iterations", "run_killed", "run_steps",
                   "run_status", "run_reactive_time")

    @property
    def iterations(self) -> int:
        """Iterations summed over the runs."""
        return int(self.run_iterations.sum())

    def count(self, status: SplittingStatus | str | int) -> int:
        """The number of runs that ended with `status` (a `SplittingStatus`, its code or its name)."""
        s = SplittingStatus[status.upper()] if isinstance(status, str) else SplittingStatus(status)
        return int(np.count_nonzero(self.run_status == s))

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        for key in self._RUN_FIELDS:
            d[key] = [None if isinstance(v, float) and not math.isfinite(v) else v for v in getattr(self, key).tolist()]
        del d["reactive_trajectories"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], trajectories: Any = ()) -> SplittingResult:
        d = _estimate_fields(d, cls)
        for key in cls._RUN_FIELDS:
            real = key in ("run_probability", "run_log_weight", "run_reactive_time")
            v = d.get(key)
            if not (type(v) is list and len(v) == d.get("n_runs") and all(
                    (x is None or type(x) in (int, float)) if real else type(x) is int for x in v)):
                raise ValueError(f"the estimate: {key} must be a list of {d.get('n_runs')!r} "
                                 f"{'numbers' if real else 'integers'}, got {v!r:.80}")
            d[key] = np.array([math.nan if x is None else x for x in v], dtype=float if real else np.int64)
        if not np.isin(d["run_status"], [s.value for s in SplittingStatus]).all():
            raise ValueError(f"the estimate: run_status must hold SplittingStatus codes, got {d['run_status'][:8]}")
        d["run_status"] = d["run_status"].astype(np.int8)
        return cls(**d, reactive_trajectories=list(trajectories))

    def save(self, path: str | Path) -> None:
        """Write the result (an .npz with a JSON header and the trajectories); `escapade.load` reads it back."""
        _write_npz(path, {"kind": "splitting", "estimate": self.to_dict()}, trajectory_arrays(self.reactive_trajectories))

    def to_pandas(self) -> Any:
        """One row per run."""
        import pandas as pd

        table = pd.DataFrame({key.removeprefix("run_"): getattr(self, key) for key in self._RUN_FIELDS})
        table["status"] = pd.Categorical.from_codes(table["status"].astype(int),
                                                    [s.name for s in SplittingStatus])
        return table

    def __repr__(self) -> str:
        low, high = self.interval
        return (f"<SplittingResult probability={self.value:.6g} [{low:.6g}, {high:.6g}] at {self.confidence:g}: "
                f"{self.n_runs} runs of {self.n_replicas} replicas, {self.iterations} iterations, test={self.test}>")


@dataclasses.dataclass(frozen=True)
class Term:
    """One term of a decomposed estimate: its value, standard error and interval (at the estimate's confidence)."""

    name: str
    value: float
    stderr: float
    interval: tuple[float, float]
    n: int  # the samples (paths or runs) behind it


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RareExitTime(Estimate):
    """The mean exit time from `rare_exit_time`: an `Estimate` (`.value`, also `.mean`; `.interval`) of
    E[tau] = E[T_first] + (1/p - 1) E[T_loop] + E[T_reactive] (docs/rare-events.md), with each term.

    Attributes (besides `Estimate`'s)
    ----------
    sigma_level : z_Sigma, the score level of the set Sigma = {score >= z_Sigma} that splits a path into loops.
    first_time : E[T_first], the mean time from x0 to Sigma. loop_time : E[T_loop], the mean time of a loop from
        Sigma back to the reactant set and on to Sigma again. reactive_time : E[T_reactive], the mean time from
        Sigma to the product set of the paths that get there without returning to the reactant set (from the
        splitting runs). probability_term : p, the probability of reaching the product set from Sigma (started from
        the points where the loops reached Sigma) before the reactant set. Each is a `Term` (value, stderr, interval).
    splitting : the `SplittingResult` behind p.
    n_loops, loops_to_product : loops simulated, and those that reached the product set instead (left out of the
        loop time, counted in `notes`).
    start_terms, start_splitting : when x0 lies above Sigma (outside the reactant set), the first trial from x0: the
        Terms p0 (the probability of reaching the product set first, from `start_splitting`), E[T_fail,0] (the mean
        time to the reactant set otherwise) and E[T_reactive,0]; E[tau] = p0 E[T_reactive,0] + (1 - p0)
        (E[T_fail,0] + E[tau from A]). Empty and None otherwise.
    """

    sigma_level: float
    first_time: Term
    loop_time: Term
    reactive_time: Term
    probability_term: Term
    n_loops: int
    loops_to_product: int
    splitting: SplittingResult
    start_terms: tuple[Term, ...] = ()
    start_splitting: SplittingResult | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in dataclasses.fields(Estimate)}
        d.update(interval=list(self.interval), notes=list(self.notes),
                 levels=[dataclasses.asdict(level) for level in self.levels], sigma_level=self.sigma_level,
                 n_loops=self.n_loops, loops_to_product=self.loops_to_product, splitting=self.splitting.to_dict(),
                 start_terms=[{**dataclasses.asdict(t), "interval": list(t.interval)} for t in self.start_terms],
                 start_splitting=None if self.start_splitting is None else self.start_splitting.to_dict())
        for key in ("first_time", "loop_time", "reactive_time", "probability_term"):
            term = getattr(self, key)
            d[key] = {**dataclasses.asdict(term), "interval": list(term.interval)}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RareExitTime:
        d = _estimate_fields(d, cls)
        for key in ("first_time", "loop_time", "reactive_time", "probability_term"):
            d[key] = Term(**_typed(Term, d[key], f"the term {key}"))
        d["splitting"] = SplittingResult.from_dict(d["splitting"])
        if type(d.get("start_terms", [])) is not list:
            raise ValueError(f"the estimate: start_terms must be a list, got {d['start_terms']!r:.80}")
        d["start_terms"] = tuple(Term(**_typed(Term, t, "a start term")) for t in d.get("start_terms", ()))
        if d.get("start_splitting") is not None:
            d["start_splitting"] = SplittingResult.from_dict(d["start_splitting"])
        return cls(**d)

    def save(self, path: str | Path) -> None:
        """Write the result (an .npz with a JSON header); `escapade.load` reads it back."""
        _write_npz(path, {"kind": "rare_exit_time", "estimate": self.to_dict()}, {})

    def __str__(self) -> str:
        lines = [super().__str__()]
        for term in (*self.start_terms, self.first_time, self.loop_time, self.probability_term, self.reactive_time):
            low, high = term.interval
            lines.append(f"  {term.name} = {term.value:.6g} ± {term.stderr:.3g} (SE), [{low:.6g}, {high:.6g}], "
                         f"from {term.n}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        low, high = self.interval
        return (f"<RareExitTime mean={self.value:.6g} [{low:.6g}, {high:.6g}] at {self.confidence:g}, "
                f"p={self.probability_term.value:.4g}, sigma_level={self.sigma_level:.4g}>")


class _NotAResultFile(ValueError):
    """A readable file of another format: load() passes its message on as it is."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError(f"a JSON object repeats a key: {sorted(k for k in d if [p[0] for p in pairs].count(k) > 1)}")
    return d


def read_json(text: str) -> Any:
    """JSON text read from a file: an object that repeats a key is refused (the last would silently win)."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def _read_header(data: CheckedNpz, path: str | Path) -> dict[str, Any]:
    shape, dtype = data.header("header")
    # numpy's text (4 bytes a character), the str and its parsed objects take about 3 times the declared bytes:
    # refused before inflating a header that would pass the memory limit (a small file can declare 1 GB of spaces)
    declared = math.prod(shape) * dtype.itemsize
    limit, source = memory_limit()
    if limit is not None and 3 * declared > limit:
        raise ValueError(f"its header declares {_size(declared)} of text, about {_size(3 * declared)} to read: over "
                         f"the memory limit ({_size(limit)}: {source})")
    header = read_json(str(data["header"]))
    if not isinstance(header, dict):
        raise ValueError(f"its header must be a JSON object, got {type(header).__name__}")
    if header.get("format") != _FORMAT:
        raise _NotAResultFile(f"{path} is not an escapade result file (format {header.get('format')!r})")
    return header


def load(path: str | Path) -> Any:
    """Load a result saved with `.save()`: a SimulationResult, SummaryResult, SweepResult, Estimate, SplittingResult
    or RareExitTime. A file that is not one, or is damaged, raises ValueError naming it (a missing or unreadable
    file raises the OSError of opening it)."""
    file = regular_file(_as_path(path))
    with open(file, "rb") as fh:
        try:
            with open_npz(fh) as data:
                header = _read_header(data, path)
                if header["kind"] == "sweep":
                    return SweepResult._from_npz(data, header)
                if header["kind"] == "estimate":
                    return Estimate.from_dict(header["estimate"])
                if header["kind"] == "splitting":
                    return SplittingResult.from_dict(header["estimate"], trajectories_from(data))
                if header["kind"] == "rare_exit_time":
                    return RareExitTime.from_dict(header["estimate"])
                return _from_npz(data, header)
        except Exception as exc:  # a damaged file fails in many ways: BadZipFile, EOFError, KeyError, TypeError
            # an OSError without an errno is no failure to read the disk but a decompressor's on damaged data (a
            # member whose compression method reads bzip2: "Invalid data stream")
            if isinstance(exc, (MemoryError, _NotAResultFile)) or (isinstance(exc, OSError) and exc.errno is not None):
                raise
            raise ValueError(f"{path} is not a readable escapade result file ({type(exc).__name__}: {exc})") from None


# ---- sensitivities (simulate(..., sensitivities=[...]); the plans are made in sensitivity.py) ----

SENSITIVITY_QUANTITIES = ("mean_exit_time", "capped_exit_time", "exit_probability", "hit_probability")
SENSITIVITY_FORMS = ("both", "cost_to_go", "baseline", "raw")
_TIMES = ("mean_exit_time", "capped_exit_time")
_PROBABILITIES = ("exit_probability", "hit_probability")
_BRIDGE_NOTE = ("the bridge test adds no score term: a step's crossing probability depends on its end points and "
                "the diffusion only, which the parameter does not change (in Y-time for a time-changed parameter)")


def _per_path_quantity(quantity: str, status: np.ndarray, exit_time: np.ndarray, cap: float) -> np.ndarray:
    """Each path's F under the censoring policy (`analysis.estimates`): for a probability 1 or 0 (exit_probability:
    the path stopped, EXITED or HIT, as `quantity_of` counts it) and NaN for a DIVERGED path, which is left out; for
    a time min(tau, cap), the paths that did not stop (CENSORED, CONVERGED, SINGULAR) at the cap."""
    stopped = (status == Status.EXITED) | (status == Status.HIT)
    diverged = status == Status.DIVERGED
    if quantity in _PROBABILITIES:
        F = (stopped if quantity == "exit_probability" else status == Status.HIT).astype(float)
        return np.where(diverged, math.nan, F)
    if np.any(diverged):
        raise ValueError(f"quantity={quantity!r}: {int(np.count_nonzero(diverged))} paths diverged (DIVERGED): their "
                         "time is not defined, and a time's derivative is not taken over the other paths (the "
                         "cost-to-go form and the time change rest on the score's mean being 0 over all paths); take "
                         "a smaller dt or a stop region that ends the paths first, or differentiate a probability "
                         "(which leaves diverged paths out)")
    if quantity == "mean_exit_time" and not np.all(stopped):
        raise ValueError(f"quantity='mean_exit_time': {int(np.count_nonzero(~stopped))} paths did not stop "
                         "(censored, converged or singular: counted at the cap by the censoring policy), so the mean "
                         "exit time is not known; raise t_max or ask for 'capped_exit_time' (E[min(tau, t_max)])")
    return np.where(stopped, exit_time, cap)


def _conditional_terms(F: np.ndarray) -> np.ndarray:
    """Per-path terms whose mean is the mean of F over its paths that did not diverge (F not NaN) and whose spread
    gives that mean's standard error over all the paths (the delta method for a ratio of means), so that the finite
    differences of conditional probabilities still pair path by path."""
    keep = ~np.isnan(F)
    m = float(F[keep].mean())
    return np.where(keep, m + (F.size / np.count_nonzero(keep)) * (F - m), m)


def _estimate(quantity: str, parameter: str, y: np.ndarray, confidence: float, notes: list[str],
              result: SimulationResult, plan: dict[str, Any], message: str, extra: dict[str, Any]) -> Estimate:
    kept = y[~np.isnan(y)]  # NaN: the paths a probability leaves out (DIVERGED)
    n = kept.size
    value = float(np.mean(kept))
    se = float(np.std(kept, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    hw = z * se
    dt = float(result.params["dynamics"].get("dt", math.nan))
    # The cost is that of every run the estimate rests on: the run itself and, for finite differences, its four
    # runs at theta +- h, +- 2h (simulate records their path-steps in the plan, and their time in the run's elapsed).
    statuses = [result.status]
    _, path_steps = sensitivity_cost(result, parameter)
    if plan["method"] == "fd":
        assert result.fd_status is not None
        statuses.extend(result.fd_status[plan["fd_index"]])
        if "fd_path_steps" not in plan:
            notes = [*notes, "the finite-difference runs' cost is not recorded in this result (made before it was): "
                             "path_steps and elapsed count the run at the parameter's value only"]
    status = np.concatenate(statuses)
    level = EstimateLevel(dt=dt, n_paths=status.size, path_steps=path_steps, value=value, stderr=se,
                          censored=int(np.count_nonzero(np.isin(status, UNSTOPPED))),
                          diverged=int(np.count_nonzero(status == Status.DIVERGED)), elapsed=float(result.elapsed))
    params = {**result.params, "sensitivity": {"quantity": quantity, "parameter": parameter, **extra}}
    nan = math.nan
    return Estimate(quantity=f"d {quantity} / d {parameter}", value=value, interval=(value - hw, value + hw),
                    confidence=confidence, stderr=se, bias=nan, bias_stderr=nan, extrapolated=nan,
                    extrapolated_stderr=nan, half_width_statistical=hw, half_width_bias=0.0, rtol=nan,
                    reached=True, message=message, notes=tuple(notes), levels=(level,), n_paths=status.size,
                    path_steps=path_steps, elapsed=float(result.elapsed), params=params,
                    seed=result.seed, version=result.version)


def _sensitivity_plan(result: SimulationResult, parameter: str) -> tuple[int, dict[str, Any]]:
    """The column of `parameter` in the run's sensitivities and its plan's record."""
    plans = result.params.get("sensitivities")
    if not plans:
        raise ValueError("this result carries no sensitivities: run simulate(..., sensitivities=[...])")
    names = [p["parameter"] for p in plans]
    if parameter not in names:
        raise ValueError(f"parameter {parameter!r} is not among this run's sensitivities {names}")
    j = names.index(parameter)
    plan: dict[str, Any] = plans[j]
    return j, plan


def sensitivity_cost(result: SimulationResult, parameter: str) -> tuple[int, int]:
    """The paths and path-steps a sensitivity in `parameter` rests on: the run's and, for finite differences, also
    its four runs' at theta +- h, +- 2h (their path-steps recorded by `simulate`; not in older results)."""
    _, plan = _sensitivity_plan(result, parameter)
    if plan["method"] != "fd":
        return result.n_paths, int(result.total_steps)
    return 5 * result.n_paths, int(result.total_steps) + sum(int(s) for s in plan.get("fd_path_steps", ()))


def sensitivity_per_path(result: SimulationResult, quantity: str, parameter: str, form: str = "both"
                         ) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """The per-path terms whose mean is d E[quantity] / d parameter, the notes, and what params record. A
    probability's terms are NaN on the paths it leaves out (DIVERGED); paths stay in order."""
    if quantity not in SENSITIVITY_QUANTITIES:
        raise ValueError(f"quantity must be one of {SENSITIVITY_QUANTITIES}, got {quantity!r}")
    if form not in SENSITIVITY_FORMS:
        raise ValueError(f"form must be one of {SENSITIVITY_FORMS}, got {form!r}")
    j, plan = _sensitivity_plan(result, parameter)
    cap = float(result.params["max_steps"] * result.params["dynamics"]["dt"])
    notes = [plan["note"]]
    if plan["method"] == "fd":
        assert result.fd_status is not None and result.fd_exit_time is not None
        k = plan["fd_index"]
        Fs = [_per_path_quantity(quantity, result.fd_status[k, i], result.fd_exit_time[k, i], cap) for i in range(4)]
        left = [int(np.count_nonzero(np.isnan(F))) for F in Fs]
        if any(left):  # a probability: each run's over its own paths that did not diverge (the censoring policy)
            if max(left) == Fs[0].size:
                raise ValueError(f"quantity={quantity!r}: every path diverged (DIVERGED) in a finite-difference run "
                                 f"(at {parameter} + h, - h, + 2h, - 2h: {left}): no probability to differentiate; "
                                 "take a smaller dt, or a smaller fd_step")
            Fs = [_conditional_terms(F) for F in Fs]
            notes.append(f"{left[0]}, {left[1]}, {left[2]} and {left[3]} paths diverged in the runs at {parameter} "
                         "+ h, - h, + 2h and - 2h and are left out of each run's probability: the value is the "
                         "derivative of the probability conditional on not diverging")
        h = plan["step"]
        d1 = (Fs[0] - Fs[1]) / (2 * h)  # theta + h, theta - h
        d2 = (Fs[2] - Fs[3]) / (4 * h)  # theta + 2h, theta - 2h
        y = (4 * d1 - d2) / 3
        return y, notes, {"method": "fd", "step": h}
    assert result.score_sum is not None and result.score_time is not None
    F = _per_path_quantity(quantity, result.status, result.exit_time, cap)
    S = result.score_sum[:, j]
    R = result.score_time[:, j]
    time_like = quantity in _TIMES
    keep = ~np.isnan(F)  # a time refused DIVERGED paths above
    if keep.all():
        q = F * S
        if form in ("both", "cost_to_go") and time_like:
            q = F * S - R  # sum_n (tau - t_n) s_n: a step's score pairs with the time still to come
        if form in ("both", "baseline"):
            # the baseline b S (E[S] = 0) with b fitted over the paths (the control-variate coefficient)
            vs = float(np.var(S))
            b = float(np.mean((q - q.mean()) * (S - S.mean())) / vs) if vs > 0 else 0.0
            q = q - b * S
            notes.append(f"baseline b = {b:.6g} (fitted over the paths, the control variate S with E[S] = 0)")
    else:
        if not keep.any():
            raise ValueError(f"quantity={quantity!r}: every one of the {keep.size} paths diverged (DIVERGED): no "
                             "probability to differentiate; take a smaller dt, or a stop region that ends the paths "
                             "first")
        # Whether a path diverges depends on the parameter, so over the paths that did not the score's mean is not
        # 0: d E[F | kept] = E[F S | kept] - E[F | kept] E[S | kept], the covariance of F and S over them (the
        # forms, which rest on E[S] = 0, coincide with it here).
        Fk, Sk = F[keep], S[keep]
        q = np.full(F.shape, math.nan)
        q[keep] = (Fk - Fk.mean()) * (Sk - Sk.mean())
        notes.append(f"{keep.size - int(np.count_nonzero(keep))} paths diverged and are left out: the value is the "
                     "derivative of the probability conditional on not diverging, the covariance of the indicator "
                     f"and the score over the other {int(np.count_nonzero(keep))} paths (whatever the form)")
    kappa = float(plan["time_exponent"])
    y = q
    if kappa and time_like:
        theta = float(plan["value"])
        y = q - kappa * F / theta  # tau = tau_Y / theta^kappa at a fixed chain
        if quantity == "capped_exit_time":
            # t_max held fixed: the chain's cap in Y-time, theta^kappa t_max, moves with theta, and
            # d E[min(tau_Y, c)] / dc = P(tau_Y > c) adds kappa t_max P(tau > t_max) / theta; a path that stopped
            # without an exit (CONVERGED, SINGULAR) counts at the cap, t_max whatever theta, as a censored one.
            y = y + kappa * (cap / theta) * np.isin(result.status, UNSTOPPED)
            notes.append("t_max held fixed: the cap's term kappa t_max P(tau > t_max) / theta is included")
    elif kappa and result.count(Status.CENSORED):
        notes.append(f"{quantity} at a fixed number of steps (t_max moves as theta^-kappa with dt); at a fixed t_max "
                     "its derivative has a term from the exit-time density at t_max that no score gives: "
                     "sensitivity_method='fd' differentiates at a fixed t_max")
    notes.append(_BRIDGE_NOTE if result.params.get("bridge") else "bridge test off: exits seen at the steps only")
    return y, notes, {"method": "score", "form": form}


def sensitivity_estimate(result: SimulationResult, quantity: str, parameter: str, *, form: str = "both",
                         confidence: float = 0.95) -> Estimate:
    """d E[quantity] / d parameter with its interval, from a run with `sensitivities` (see
    `SimulationResult.sensitivity`)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    y, notes, extra = sensitivity_per_path(result, quantity, parameter, form)
    n = int(np.count_nonzero(~np.isnan(y)))
    if extra["method"] == "fd":
        message = f"central finite differences with common random numbers over {n} paths (4 extra runs)"
    elif n < y.size:
        message = f"likelihood-ratio estimate over the {n} paths that did not diverge (the covariance of F and S)"
    else:
        message = f"likelihood-ratio estimate over {n} paths ({form} form)"
    return _estimate(quantity, parameter, y, confidence, notes, result, _sensitivity_plan(result, parameter)[1],
                     message, extra)
