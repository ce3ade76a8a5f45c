"""`RunSettings`: every argument of `simulate` besides the problem, held and checked in one place.

`simulate`, `sweep` and `Experiment.run` (config files) build one and hand it on. The checks that need the problem
(n_paths against the rows of x0, t_max against the step size or an adaptive clock, the default lanes) are made
where the problem is known, in `simulate.make_job`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from typing import Any, Callable

import numpy as np

from ._validate import as_float, as_int, as_progress

SENSITIVITY_METHODS = ("auto", "score", "fd")  # how `simulate` differentiates (docs/sensitivities.md)

KEEP = ("paths", "summary")
MAX_STEPS = 2**48 - 2
MAX_INDEX = 2**63 - 1
MAX_NOISE_REFINEMENT = 2**16
# More threads than this only oversubscribes the machine (and thousands can exhaust memory for stacks).
MAX_THREADS = max(64, 8 * (os.cpu_count() or 1))
# The memory a run's result may take: this environment variable (bytes, or with a K/M/G/T suffix in powers of
# 1024, or "off"), read at each run; by default half the memory available when the run starts.
MEMORY_LIMIT_ENV = "ESCAPADE_MEMORY_LIMIT"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _how(default: Any) -> Any:
    """A setting that says how to run and what to keep, not which paths: a sweep takes it once for all its
    points, and a grid cannot vary it."""
    return dataclasses.field(default=default, metadata={"how": True})


@dataclasses.dataclass(frozen=True, eq=False)
class RunSettings:
    """The arguments of `simulate` other than landscape, dynamics, x0, stop and target, with the same defaults (see
    `simulate` for what each one means). Building one checks every value that can be checked without the problem
    (TypeError for the wrong kind, ValueError for a bad value, naming the argument and showing the value) and
    normalizes the numbers to int, float and bool."""

    n_paths: int | None = None
    t_max: float | None = None
    max_steps: int | None = None
    seed: int | None = None
    threads: int | None = _how(None)
    lanes: int | None = None
    bridge: bool = True
    divergence_bound: float = 1e8
    record_paths: int = 0
    record_every: int = 1
    noise_refinement: int = 1
    progress: bool | None = _how(None)
    client: Any = _how(None)
    chunk_size: int | None = _how(None)
    store: str | os.PathLike | None = _how(None)
    keep: str = _how("paths")
    sensitivities: Any = None  # parameter paths; checked against the problem by sensitivity.plan_sensitivities
    sensitivity_method: str = "auto"
    fd_step: float | None = None

    def __post_init__(self) -> None:
        def normalize(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        # How to run first, then which paths (in simulate's order of arguments).
        if self.threads is not None:
            if isinstance(self.threads, numbers.Integral) and not isinstance(self.threads, bool) and self.threads < 1:
                raise ValueError(f"threads must be >= 1, got {self.threads} (threads=None uses all cores)")
            normalize("threads", as_int("threads", self.threads, minimum=1, maximum=MAX_THREADS))
        if self.chunk_size is not None:
            as_int("chunk_size", self.chunk_size, minimum=1)  # checked only: chunks are cut with the value as given
        if self.client is not None and not callable(getattr(self.client, "submit", None)):
            raise TypeError(f"client must be a dask.distributed Client, got {self.client!r}")
        if self.client is not None and getattr(self.client, "status", "running") in ("closing", "closed"):
            raise ValueError(f"client is closed (status {self.client.status!r}): give a running dask Client")
        if not isinstance(self.keep, str) or self.keep not in KEEP:  # an array must not compare elementwise
            raise ValueError(f"keep must be one of {KEEP}, got {self.keep!r}")
        if self.store is not None:
            if not isinstance(self.store, (str, os.PathLike)):
                raise TypeError(f"store must be a directory path (str or os.PathLike), got {self.store!r}")
            if not os.fspath(self.store):  # "" would write the chunks into the current directory
                raise ValueError(f"store must name a directory, got an empty path {self.store!r}")
            if os.path.exists(self.store) and not os.path.isdir(self.store):
                raise ValueError(f"store must be a directory (it is created if missing), got the file "
                                 f"{os.fspath(self.store)!r}")
        normalize("progress", as_progress(self.progress))
        if not isinstance(self.bridge, (bool, np.bool_)):
            raise TypeError(f"bridge must be True or False, got {self.bridge!r}")
        normalize("bridge", bool(self.bridge))
        if self.n_paths is not None:
            normalize("n_paths", as_int("n_paths", self.n_paths, minimum=1, maximum=MAX_INDEX))
        if self.t_max is not None:
            normalize("t_max", as_float("t_max", self.t_max, positive=True))
        if self.max_steps is not None:
            normalize("max_steps", as_int("max_steps", self.max_steps, minimum=1, maximum=MAX_STEPS))
        if self.seed is not None:
            if isinstance(self.seed, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator,
                                      np.random.RandomState)):
                raise TypeError(f"seed must be an integer, got a numpy {type(self.seed).__name__}: path i's noise is a "
                                "function of (seed, i), so pass an int, e.g. seed=int(rng.integers(2**63))")
            normalize("seed", as_int("seed", self.seed, minimum=0, maximum=2**64 - 1))
        if self.lanes is not None:
            normalize("lanes", as_int("lanes", self.lanes, minimum=1, maximum=4096))
        normalize("divergence_bound", as_float("divergence_bound", self.divergence_bound, positive=True,
                                               finite=False))
        normalize("record_paths", as_int("record_paths", self.record_paths, minimum=0, maximum=MAX_INDEX))
        normalize("record_every", as_int("record_every", self.record_every, minimum=1, maximum=MAX_INDEX))
        normalize("noise_refinement", as_int("noise_refinement", self.noise_refinement, minimum=1,
                                             maximum=MAX_NOISE_REFINEMENT))
        normalize("fd_step", check_sensitivity_options(self.sensitivity_method, self.fd_step,
                                                       "paths" if self.sensitivities is None else self.keep))
        if self.sensitivities is None and (self.sensitivity_method != "auto" or self.fd_step is not None):
            given = (f"sensitivity_method={self.sensitivity_method!r}" if self.sensitivity_method != "auto"
                     else f"fd_step={self.fd_step!r}")
            raise ValueError(f"{given} has no effect without sensitivities: name the parameters "
                             f"(sensitivities=[...]) or leave it out")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every setting, in the order of `simulate`'s signature."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def how_to_run(cls) -> tuple[str, ...]:
        """The settings that say how to run and what to keep (threads, client, store, ...), not which paths."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("how"))


def check_sensitivity_options(method: Any, fd_step: Any, keep: str = "paths") -> float | None:
    """The run's sensitivity settings checked before anything runs (also where no sensitivities are asked, so that
    a mistake is not ignored); fd_step as a float. ValueError naming the setting."""
    if not isinstance(method, str) or method not in SENSITIVITY_METHODS:
        raise ValueError(f"sensitivity_method must be one of {SENSITIVITY_METHODS}, got {method!r}")
    if keep != "paths":
        raise ValueError(f"sensitivities need the per-path scores: keep must be 'paths', got keep={keep!r}")
    if fd_step is None:
        return None
    if method == "score":
        raise ValueError(f"fd_step={fd_step!r} is the step of finite differences, which sensitivity_method='score' "
                         f"does not take: leave it out, or use 'fd' or 'auto'")
    if isinstance(fd_step, bool) or not isinstance(fd_step, (int, float)):
        raise ValueError(f"fd_step must be a positive finite number, got {fd_step!r}")
    fd_step = as_float("fd_step", fd_step)  # a whole number past the largest double: named, not an OverflowError
    if not (math.isfinite(fd_step) and fd_step > 0):
        raise ValueError(f"fd_step must be a positive finite number, got {fd_step!r}")
    return fd_step


def available_memory() -> int | None:
    """The memory available to a new allocation in bytes (Linux's MemAvailable, else the free physical pages),
    or None where neither can be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit() -> tuple[int | None, str]:
    """The most bytes a run's result may take, and where that limit comes from: ESCAPADE_MEMORY_LIMIT if set
    ("off" for none), else half the available memory (None where it cannot be read)."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        available = available_memory()
        return (None if available is None else available // 2), f"half the available memory; {MEMORY_LIMIT_ENV} sets it"
    if text.lower() in ("off", "none"):
        return None, f"{MEMORY_LIMIT_ENV}={text}"
    number, unit = text.upper().removesuffix("B").removesuffix("I"), ""
    if number and number[-1] in _UNITS:
        number, unit = number[:-1], number[-1]
    try:
        limit = float(number) * _UNITS[unit]
    except ValueError:
        limit = math.nan
    if not limit >= 0 or math.isinf(limit):
        raise ValueError(f"{MEMORY_LIMIT_ENV} must be a number of bytes (with an optional K, M, G or T suffix) or "
                         f"'off', got {text!r}")
    return int(limit), f"{MEMORY_LIMIT_ENV}={text}"


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def memory_estimate(settings: RunSettings, *, n_paths: int, dim: int, steps: int) -> dict[str, int]:
    """Bytes a run holds at once, by the argument that sets them: the per-path arrays (all paths with
    keep="paths", one chunk with keep="summary"; 25 + 16 d bytes a path: status, exit time and step, exit and
    final position) and the recorded trajectories (each at most steps / record_every + 2 records of d + 1
    numbers)."""
    per_path = 25 + 16 * dim
    if settings.keep == "paths":
        arrays = {"n_paths": n_paths * per_path}
    else:
        chunk = min(n_paths, settings.chunk_size if settings.chunk_size is not None else 1_000_000)
        arrays = {"chunk_size": chunk * per_path}
    records = steps // settings.record_every + 2
    return {**arrays, "record_paths": min(settings.record_paths, n_paths) * records * (dim + 1) * 8}


_ADVICE = {
    "n_paths": "use keep='summary' (statistics only, memory bounded by one chunk; chunk_size and store to checkpoint) "
               "or fewer paths",
    "chunk_size": "use a smaller chunk_size",
    "record_paths": "record fewer paths or use a larger record_every",
}


def _refuse_over_limit(parts: dict[str, int], describe: Callable[[str, str], str]) -> None:
    """ValueError naming the argument of `parts` (bytes by argument) that takes the most, when their sum exceeds
    `memory_limit()`; describe(name, held) says what that argument holds."""
    limit, source = memory_limit()
    total = sum(parts.values())
    if limit is None or total <= limit:
        return
    name = max(parts, key=lambda k: parts[k])
    raise ValueError(f"{name} needs more memory than the limit: {describe(name, _size(parts[name]))} (about "
                     f"{_size(total)} in all, limit {_size(limit)}: {source}); {_ADVICE[name]}")


def check_allocation(name: str, value: Any, nbytes: float, what: str) -> None:
    """ValueError naming `name` when an array it sizes (`nbytes`) exceeds `memory_limit()`: refused before numpy or
    the core tries the allocation (a MemoryError, or an overflow in the size)."""
    limit, source = memory_limit()
    if limit is not None and nbytes > limit:
        raise ValueError(f"{name} needs more memory than the limit: {name}={value} holds {_size(nbytes)} of {what} "
                         f"(limit {_size(limit)}: {source})")


def check_memory(settings: RunSettings, *, n_paths: int, dim: int, steps: int) -> dict[str, int]:
    """Refuse, before anything is allocated, a run whose result would exceed `memory_limit()`: ValueError naming
    the argument that takes the most and saying what to change. Returns the estimate (`memory_estimate`)."""
    parts = memory_estimate(settings, n_paths=n_paths, dim=dim, steps=steps)

    def describe(name: str, held: str) -> str:
        if name == "n_paths":
            return f"n_paths={n_paths} with keep='paths' holds {held} of per-path arrays"
        if name == "chunk_size":
            return f"chunk_size={settings.chunk_size} with keep='summary' holds {held} per chunk"
        return (f"record_paths={settings.record_paths} with record_every={settings.record_every} over up to {steps} "
                f"steps holds up to {held} of trajectories")

    _refuse_over_limit(parts, describe)
    return parts


def check_sweep_memory(estimates: list[dict[str, int]]) -> None:
    """The same refusal for the points of a sweep together: each point's arrays (keep="paths") and recorded
    trajectories are all kept, one chunk at a time is held (keep="summary")."""
    if len(estimates) < 2:
        return
    parts: dict[str, int] = {}
    for estimate in estimates:
        for name, size in estimate.items():
            parts[name] = max(parts.get(name, 0), size) if name == "chunk_size" else parts.get(name, 0) + size
    _refuse_over_limit(parts, lambda name, held: f"the {len(estimates)} points of the sweep hold {held} for {name}")


def pop_settings(args: dict[str, Any]) -> dict[str, Any]:
    """Take the run settings out of `args` (keyword arguments of `simulate`), leaving the problem's."""
    return {name: args.pop(name) for name in RunSettings.names() if name in args}
