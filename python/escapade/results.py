"""Results of an ensemble run: per-path arrays plus everything needed to reproduce them."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from . import _core


class Status(enum.IntEnum):
    """How a path ended."""

    EXITED = 0  #: left the `stop` region
    HIT = 1  #: entered the `target` region
    CENSORED = 2  #: reached the time or step cap first
    DIVERGED = 3  #: its state became non-finite or exceeded the divergence bound


assert all(int(getattr(_core.Status, s.name)) == s.value for s in Status), "Status codes out of sync with the core"


@dataclasses.dataclass(frozen=True)
class Summary:
    """Exit-time statistics of a run.

    `mean` and `stderr` are over the paths that stopped (EXITED or HIT). When some paths were censored, that mean
    is conditional on stopping before the cap and biased low; `mean_lower_bound` (censored paths counted at the
    cap) is then a lower bound of the true mean, and `exponential_mean` = total time at risk / number of stops is
    the censoring-aware maximum-likelihood mean if exit times are exponential (deep wells).
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
        if self.censored_fraction > 0:
            text += (
                f" over stopped paths only ({100 * self.censored_fraction:.3g}% censored: true mean >= "
                f"{self.mean_lower_bound:.6g}, exponential MLE {self.exponential_mean:.6g})"
            )
        return text


@dataclasses.dataclass(frozen=True, eq=False)
class SimulationResult:
    """Per-path outcome of `simulate`, with its provenance.

    Attributes
    ----------
    status : int8 (n_paths,) of `Status` codes.
    exit_time : float64 (n_paths,), the time the path stopped (step * dt); NaN unless EXITED or HIT.
    exit_step : int64 (n_paths,), the step at which the path ended, whatever its status.
    exit_position : float64 (n_paths, d), the state at the stopping step; NaN unless EXITED or HIT.
    trajectories : list of (t (k,), x (k, d)) for the first `record_paths` paths, recorded every
        `record_every` steps plus the start and the end.
    params : the landscape, dynamics, regions, start and run options (JSON-compatible).
    seed, version : what the numbers depend on; elapsed : wall seconds; total_steps : path-steps executed.
    """

    status: np.ndarray
    exit_time: np.ndarray
    exit_step: np.ndarray
    exit_position: np.ndarray
    trajectories: list[tuple[np.ndarray, np.ndarray]]
    params: dict[str, Any]
    seed: int
    version: str
    elapsed: float
    total_steps: int

    @property
    def n_paths(self) -> int:
        return int(self.status.shape[0])

    def count(self, status: Status) -> int:
        return int(np.count_nonzero(self.status == status))

    @property
    def stopped(self) -> np.ndarray:
        """Mask of the paths that EXITED or HIT (those with an exit time)."""
        return (self.status == Status.EXITED) | (self.status == Status.HIT)

    def summary(self) -> Summary:
        n = self.n_paths
        stopped = self.stopped
        times = self.exit_time[stopped]
        k = times.size
        mean = float(times.mean()) if k else math.nan
        stderr = float(times.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan
        censored = self.status == Status.CENSORED
        cap = self.params.get("max_steps", 0) * self.params["dynamics"]["dt"]
        at_risk = float(times.sum() + censored.sum() * cap)
        n_known = k + int(censored.sum())
        return Summary(
            n_paths=n,
            counts={s.name: self.count(s) for s in Status},
            mean=mean,
            stderr=stderr,
            mean_lower_bound=at_risk / n_known if n_known else math.nan,
            exponential_mean=at_risk / k if k else math.inf,
            censored_fraction=float(censored.sum()) / n,
        )

    def to_pandas(self) -> Any:
        """One row per path: status (categorical names), exit_time, exit_step and the exit position x0..x{d-1}."""
        import pandas as pd

        d = self.exit_position.shape[1]
        frame = pd.DataFrame(
            {
                "status": pd.Categorical.from_codes(self.status, [s.name for s in Status]),
                "exit_time": self.exit_time,
                "exit_step": self.exit_step,
                **{f"x{i}": self.exit_position[:, i] for i in range(d)},
            }
        )
        frame.index.name = "path"
        frame.attrs.update(seed=self.seed, version=self.version, params=self.params)
        return frame

    def save(self, path: str | Path) -> None:
        """Write a lossless .npz: the arrays, trajectories and a JSON header with params, seed and version."""
        header = {
            "format": "escapade-result-1",
            "params": self.params,
            "seed": self.seed,
            "version": self.version,
            "elapsed": self.elapsed,
            "total_steps": self.total_steps,
        }
        arrays = {
            "status": self.status,
            "exit_time": self.exit_time,
            "exit_step": self.exit_step,
            "exit_position": self.exit_position,
        }
        for i, (t, x) in enumerate(self.trajectories):
            arrays[f"trajectory_t_{i}"], arrays[f"trajectory_x_{i}"] = t, x
        with open(path, "wb") as fh:  # exactly this path: np.savez would append .npz to a bare name
            np.savez_compressed(fh, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> SimulationResult:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != "escapade-result-1":
                raise ValueError(f"{path} is not an escapade result file (format {header.get('format')!r})")
            n_traj = sum(1 for k in data.files if k.startswith("trajectory_t_"))
            return cls(
                status=data["status"],
                exit_time=data["exit_time"],
                exit_step=data["exit_step"],
                exit_position=data["exit_position"],
                trajectories=[(data[f"trajectory_t_{i}"], data[f"trajectory_x_{i}"]) for i in range(n_traj)],
                params=header["params"],
                seed=int(header["seed"]),
                version=header["version"],
                elapsed=float(header["elapsed"]),
                total_steps=int(header["total_steps"]),
            )

    def __repr__(self) -> str:
        return f"<SimulationResult seed={self.seed} version={self.version}: {self.summary()}>"


load = SimulationResult.load
