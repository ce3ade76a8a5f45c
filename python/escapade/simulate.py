"""`simulate`: run an ensemble of independent paths in the compiled engine."""

from __future__ import annotations

import math
import os
import secrets
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._execute import KEEP, Job, Store, execute, points_digest
from ._validate import as_array, as_float, as_int, check_dim
from .dynamics import Dynamics
from .landscapes import Landscape
from .regions import Region
from .results import SimulationResult, SummaryResult
from .starts import StartSampler

__all__ = ["simulate"]

_MAX_STEPS = 2**48 - 2
_MAX_INDEX = 2**63 - 1
# More threads than this only oversubscribes the machine (and thousands can exhaust memory for stacks).
_MAX_THREADS = max(64, 8 * (os.cpu_count() or 1))


def _require(name: str, value: Any, kind: type, optional: bool = False) -> None:
    if (value is None and optional) or isinstance(value, kind):
        return
    raise TypeError(f"{name} must be an escapade {kind.__name__}{' or None' if optional else ''}, got {value!r}")


def _start(x0: Any, dim: int) -> tuple[StartSampler | np.ndarray, dict[str, Any], int | None]:
    """The start (a sampler or a validated array), its description, and the number of paths it fixes."""
    if isinstance(x0, StartSampler):
        if x0.dim != dim:
            raise ValueError(f"x0 must have {dim} components (the landscape's dimension), got a {x0.dim}-D {x0!r}")
        return x0, x0.to_dict(), None
    a = as_array("x0", x0, ndim=(1, 2))
    check_dim("x0", a, dim, "the landscape's dimension")
    if a.ndim == 1:
        return a, {"type": "Point", "x0": a.tolist()}, None
    return a, {"type": "Points", "n": a.shape[0], "sha256": points_digest(a)}, a.shape[0]


def _max_steps(t_max: float | None, max_steps: int | None, dt: float) -> int:
    if t_max is None and max_steps is None:
        raise ValueError("give t_max (or max_steps): a path that never stops would otherwise run forever")
    cap = _MAX_STEPS
    if t_max is not None:
        t_max = as_float("t_max", t_max, positive=True)
        steps = t_max / dt
        if steps > _MAX_STEPS:
            raise ValueError(f"t_max must be at most {_MAX_STEPS} steps of dt={dt}, got t_max={t_max}")
        cap = max(1, math.ceil(steps * (1 - 1e-12)))  # t_max = k * dt in floating point still gives k steps
    if max_steps is not None:
        cap = min(cap, as_int("max_steps", max_steps, minimum=1, maximum=_MAX_STEPS))
    return cap


def make_job(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike | StartSampler,
    stop: Region | None = None,
    target: Region | None = None,
    n_paths: int | None = None,
    t_max: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    lanes: int | None = None,
    bridge: bool = True,
    divergence_bound: float = 1e8,
    record_paths: int = 0,
    record_every: int = 1,
) -> Job:
    """Validate the arguments of `simulate` that define the ensemble; raises TypeError/ValueError naming them."""
    _require("landscape", landscape, Landscape)
    _require("dynamics", dynamics, Dynamics)
    _require("stop", stop, Region, optional=True)
    _require("target", target, Region, optional=True)
    if not isinstance(bridge, (bool, np.bool_)):
        raise TypeError(f"bridge must be True or False, got {bridge!r}")
    dim = landscape.dim
    for name, region in (("stop", stop), ("target", target)):
        if region is not None and region.dim != dim:
            raise ValueError(f"{name} must have dimension {dim} (the landscape's), got {region!r}")
    start, start_desc, n_points = _start(x0, dim)
    if n_paths is None:
        if n_points is None:
            raise ValueError("n_paths is required unless x0 is an (n, d) array of starting points")
        n_paths = n_points
    n_paths = as_int("n_paths", n_paths, minimum=1, maximum=_MAX_INDEX)
    if n_points is not None and n_paths > n_points:
        raise ValueError(f"n_paths must be at most the {n_points} rows of x0, got {n_paths}")
    max_time = math.inf
    if dynamics._own_clock:  # adaptive steps: t_max caps each path's own time, max_steps its attempted steps
        if t_max is None:
            raise ValueError(f"t_max is required with adaptive steps ({type(dynamics).__name__}, method="
                             f"{getattr(dynamics, 'method', '?')!r})")
        max_time = as_float("t_max", t_max, positive=True)
        cap = _MAX_STEPS if max_steps is None else as_int("max_steps", max_steps, minimum=1, maximum=_MAX_STEPS)
    else:
        cap = _max_steps(t_max, max_steps, dynamics.dt)
    dynamics._check_steps(cap)
    dynamics._check_time(float(t_max) if t_max is not None else cap * dynamics.dt)
    seed = secrets.randbits(63) if seed is None else as_int("seed", seed, minimum=0, maximum=2**64 - 1)
    # In one dimension a lane-step is so cheap that the fixed cost of a block-step shows: wider blocks (measured
    # 4-8% faster on the W1 double well); in more dimensions 64 keeps a block's arrays small.
    lanes = (128 if dim == 1 else 64) if lanes is None else as_int("lanes", lanes, minimum=1, maximum=4096)
    divergence_bound = as_float("divergence_bound", divergence_bound, positive=True, finite=False)
    record_paths = as_int("record_paths", record_paths, minimum=0, maximum=_MAX_INDEX)
    record_every = as_int("record_every", record_every, minimum=1, maximum=_MAX_INDEX)
    params: dict[str, Any] = {
        "landscape": landscape.to_dict(),
        "dynamics": dynamics.to_dict(),
        "stop": stop.to_dict() if stop is not None else None,
        "target": target.to_dict() if target is not None else None,
        "x0": start_desc,
        "n_paths": n_paths,
        "max_steps": cap,
        "t_max": None if t_max is None else float(t_max),
        "bridge": bool(bridge),
        "divergence_bound": divergence_bound,
        "record_paths": record_paths,
        "record_every": record_every,
        "lanes": lanes,
    }
    if not math.isinf(max_time):
        params["max_time"] = max_time
    return Job(landscape=landscape, dynamics=dynamics, stop=stop, target=target, x0=start, n_paths=n_paths,
               max_steps=cap, seed=seed, lanes=lanes, bridge=bool(bridge), divergence_bound=divergence_bound,
               record_paths=record_paths, record_every=record_every, params=params, max_time=max_time)


def check_execution(threads: int | None, chunk_size: int | None, client: Any, keep: str) -> int | None:
    """Validate the arguments of `simulate` that say how to run; returns the thread count."""
    if threads is not None:
        threads = as_int("threads", threads, minimum=1, maximum=_MAX_THREADS)
    if chunk_size is not None:
        as_int("chunk_size", chunk_size, minimum=1)
    if client is not None and not callable(getattr(client, "submit", None)):
        raise TypeError(f"client must be a dask.distributed Client, got {client!r}")
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}, got {keep!r}")
    return threads


def simulate(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike | StartSampler,
    stop: Region | None = None,
    target: Region | None = None,
    n_paths: int | None = None,
    t_max: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    lanes: int | None = None,
    bridge: bool = True,
    divergence_bound: float = 1e8,
    record_paths: int = 0,
    record_every: int = 1,
    progress: bool | None = None,
    client: Any = None,
    chunk_size: int | None = None,
    store: str | os.PathLike | None = None,
    keep: str = "paths",
) -> SimulationResult | SummaryResult:
    """Run `n_paths` independent paths of `dynamics` on `landscape` until each one stops.

    A path stops with status EXITED when it leaves `stop`, HIT when it enters `target`, DIVERGED when a
    coordinate becomes non-finite or exceeds `divergence_bound` in absolute value, and CENSORED when it reaches
    `t_max` (or `max_steps`) first.

    Parameters
    ----------
    landscape, dynamics : what is optimized and how the state moves.
    x0 : a point (d,) for every path, an array (n, d) of one start per path, or a sampler (`UniformBox`,
        `UniformBall`, `Gaussian`) drawn from the seed.
    stop, target : regions; either may be omitted.
    n_paths : number of paths (default: the number of rows of an (n, d) `x0`).
    t_max, max_steps : the cap; at least one is required. t_max is rounded up to whole steps.
    seed : 0 <= seed < 2**64. Path i's noise and start depend on (seed, i) only, so results are bitwise the same
        for any `threads`, `lanes`, `chunk_size` or `client`. Default: a fresh random seed, recorded in the result.
    threads : engine threads (default: all cores; with a `client`, per task, default 1 since Dask runs one task
        per worker thread). lanes : paths per thread block (default 128 in one dimension, 64 otherwise).
    bridge : test for crossings between steps with the Brownian bridge (continuous-time dynamics with constant
        Gaussian noise only: not for discrete maps, `LevyLangevin` or state-dependent `Langevin` noise). It
        removes the O(sqrt(dt)) delay of discrete monitoring; exact for half-spaces with additive noise.
    record_paths, record_every : record the trajectories of paths 0 .. record_paths - 1 every `record_every`
        steps.
    progress : show a progress bar (default: when stderr is a terminal).
    client : a `dask.distributed.Client`: the path range is cut into chunks run on the cluster's workers and
        merged in path order, bit for bit the local result.
    chunk_size : paths per chunk (default: about 4 chunks per Dask thread, or 1% of the paths locally but at least
        64 paths per lane of every thread; at least 1,000 and at most 1,000,000). Giving it, a store or
        keep="summary" runs locally chunk by chunk too; each chunk waits for its slowest path, so small chunks
        leave lanes idle.
    store : a directory where finished chunks are written as they complete; calling again with the same
        arguments and store skips them, so a killed run resumes where it stopped (with `seed=None`, the seed the
        store's run started with). The store refuses chunks of a different run.
    keep : "paths" (per-path arrays, a `SimulationResult`) or "summary" (mergeable statistics only, a
        `SummaryResult`: memory bounded by one chunk, for 10^9 paths).
    """
    threads = check_execution(threads, chunk_size, client, keep)
    if seed is None and store is not None:  # resuming: the seed the store's run was started with
        seed = Store.stored_seed(store)
    job = make_job(landscape, dynamics, x0=x0, stop=stop, target=target, n_paths=n_paths, t_max=t_max,
                   max_steps=max_steps, seed=seed, lanes=lanes, bridge=bridge, divergence_bound=divergence_bound,
                   record_paths=record_paths, record_every=record_every)
    (result,) = execute([job], threads=threads, chunk_size=chunk_size, client=client, stores=[store], keep=keep,
                        progress=progress)
    return result
