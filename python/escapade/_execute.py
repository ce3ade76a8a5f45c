"""Running jobs: path ranges cut into chunks, run here or on a Dask cluster, checkpointed to a store, merged.

Path i's noise and start depend only on (seed, i), so any cut of the path range, run anywhere in any order,
merges into the same bits as one local run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import stat
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

import numpy as np

from . import _core
from ._settings import RunSettings, check_sweep_memory
from .results import (ExitStats, SimulationResult, SummaryResult, _cap_time, check_path_arrays, open_npz, read_json,
                      regular_file, trajectories_from, trajectory_arrays)
from .restart import Restart
from .starts import StartSampler

# Locally, chunks of fewer than this many paths per engine thread run side by side, one thread each.
_SMALL_CHUNK = 256

# The per-path arrays of a chunk (keep="paths"), as the engine returns them.
PATH_ARRAYS = ("status", "exit_time", "exit_step", "exit_position", "final_position")
SCORE_ARRAYS = ("score_sum", "score_time")  # with sensitivities only


@dataclasses.dataclass(frozen=True, eq=False)
class Job:
    """One ensemble, as validated by `simulate`: picklable, so that it can travel to a Dask worker."""

    landscape: Any
    dynamics: Any
    stop: Any
    target: Any
    x0: StartSampler | np.ndarray
    n_paths: int
    max_steps: int
    seed: int
    lanes: int
    bridge: bool
    divergence_bound: float
    record_paths: int
    record_every: int
    params: dict[str, Any]
    max_time: float = math.inf  # the time cap of dynamics with their own clock (adaptive steps)
    memory: dict[str, int] = dataclasses.field(default_factory=dict)  # bytes held, by argument (memory_estimate)
    noise_refinement: int = 1  # step n's normals: the sum of steps r n .. r n + r - 1 of the run at dt / r
    # Likelihood-ratio scores (sensitivity.SensitivityPlan with method "score") and the engine's matrix M.
    sensitivities: tuple[Any, ...] = ()
    sensitivity_matrix: np.ndarray | None = None

    def _start(self) -> Any:
        if isinstance(self.x0, StartSampler):
            return self.x0._core
        if self.x0.ndim == 1:
            return _core.FixedStart(self.x0)
        return _core.PointsStart(self.x0)

    def run(self, first: int, n: int, threads: int, progress: Any = None) -> dict[str, Any]:
        """The engine's raw output for paths first .. first + n - 1."""
        return _core.run(
            landscape=self.landscape._core,
            dynamics=self.dynamics._core,
            start=self._start(),
            stop=None if self.stop is None else self.stop._core,
            target=None if self.target is None else self.target._core,
            n_paths=n,
            first_path=first,
            max_steps=self.max_steps,
            seed=self.seed,
            threads=threads,
            lanes=self.lanes,
            bridge=self.bridge,
            divergence_bound=self.divergence_bound,
            record_paths=self.record_paths,
            record_every=self.record_every,
            max_time=self.max_time,
            noise_refinement=self.noise_refinement,
            progress=progress,
            **self._sensitivity_args(),
            restart=self.dynamics._restart_core() if isinstance(self.dynamics, Restart) else None,
        )

    def _sensitivity_args(self) -> dict[str, Any]:
        if not self.sensitivities:
            return {}  # the engine's call as it was without sensitivities
        return {"sensitivities": [plan.core() for plan in self.sensitivities],
                "sensitivity_matrix": self.sensitivity_matrix}


@dataclasses.dataclass(frozen=True, eq=False)
class Chunk:
    """The outcome of paths first .. first + n - 1: arrays (keep="paths") or statistics only."""

    first: int
    n: int
    arrays: dict[str, np.ndarray] | None
    stats: ExitStats
    total_steps: int
    trajectories: list[tuple[np.ndarray, np.ndarray]]


def run_chunk(job: Job, first: int, n: int, threads: int, keep: str, progress: Any = None) -> Chunk:
    """Run one chunk (here or on a Dask worker) and reduce it as `keep` asks."""
    out = job.run(first, n, threads, progress)
    arrays = {k: out[k] for k in PATH_ARRAYS + SCORE_ARRAYS if k in out}
    if "faces" in job.params:  # the exit faces, kept only where they name something (a Box, several regions)
        arrays["exit_face"] = out["exit_face"]
    return Chunk(
        first=first,
        n=n,
        arrays=arrays if keep == "paths" else None,
        stats=ExitStats.of(arrays["status"], arrays["exit_time"],
                           _cap_time(job.params, arrays["status"], arrays["exit_step"])),
        total_steps=int(out["total_steps"]),
        trajectories=list(out["trajectories"]),
    )


def plan(n_paths: int, chunk_size: int | None, slots: int, minimum: int = 1_000) -> list[tuple[int, int]]:
    """(first, n) of each chunk. Default size: about 4 chunks per Dask thread, or 100 checkpoints locally, and at
    least `minimum` paths (every chunk waits for its slowest path, so small chunks leave lanes idle)."""
    if chunk_size is None:
        chunk_size = min(max(math.ceil(n_paths / (4 * slots)), minimum, 1), 1_000_000)
    return [(first, min(chunk_size, n_paths - first)) for first in range(0, n_paths, chunk_size)]


class Store:
    """A directory of finished chunks: `run.json` says which run they belong to, `chunk-<first>.npz` each hold
    one chunk, written atomically (temporary file, then rename), so a killed run leaves only whole chunks. Each
    chunk's header carries the digest of `run.json` (the run's fingerprint): a chunk of another run, or one that
    cannot be read, is refused with an error naming its file (delete the file and it is computed again)."""

    def __init__(self, path: str | os.PathLike, fingerprint: dict[str, Any]) -> None:
        self.where = store_path(path)
        self.path = self.where.check()
        self.path.mkdir(parents=True, exist_ok=True)
        self.where.check()  # what mkdir found or made
        self.digest = run_digest(fingerprint)
        self.keep = fingerprint.get("keep")
        meta = self.path / "run.json"
        if os.path.lexists(meta):  # a link too: refused by name, not taken for a new store
            stored = self._meta(self.path)
            if stored != fingerprint:
                keys = sorted(k for k in set(stored) | set(fingerprint) if stored.get(k) != fingerprint.get(k))
                old, new = stored.get("params"), fingerprint.get("params")
                if "params" in keys and isinstance(old, dict) and isinstance(new, dict):  # which of them
                    keys.remove("params")
                    keys += sorted(f"params[{k!r}]" for k in set(old) | set(new) if old.get(k) != new.get(k))
                    if old.get("semantics") != new.get("semantics"):
                        keys.append(f"(semantics {old.get('semantics')!r} there, {new.get('semantics')!r} here: "
                                    "written by another version)")
                raise ValueError(
                    f"store {str(self.path)!r} holds chunks of a different run (differs in {', '.join(keys)}); "
                    "use a new store or delete this one"
                )
        else:
            atomic_write(meta, lambda fh: fh.write(json.dumps(fingerprint, indent=1).encode()))

    @staticmethod
    def _meta(path: str | os.PathLike) -> Any:
        """The fingerprint in a store's run.json; ValueError naming the file if it cannot be read."""
        return read_store_json(store_path(path).check() / "run.json")

    @staticmethod
    def stored_seed(path: str | os.PathLike, name: str = "run.json") -> int | None:
        """The seed of the run a store holds (of the sweep, name="sweep.json"), if it holds one."""
        meta = store_path(path).check() / name
        return read_store_json(meta, with_seed=True)["seed"] if os.path.lexists(meta) else None

    @staticmethod
    def stored_plan(path: str | os.PathLike, n_paths: int) -> list[tuple[int, int]] | None:
        """The chunks of the run a store holds, if it holds one whose chunks cut paths 0 .. n_paths - 1 in order
        (else None: the plan is made anew, and a store of another cut is then refused as a different run)."""
        meta = store_path(path).check() / "run.json"
        if not os.path.lexists(meta):
            return None
        chunks = Store._meta(path).get("chunks")
        if not isinstance(chunks, list):
            return None
        plan, end = [], 0
        for c in chunks:
            if not (isinstance(c, list) and len(c) == 2 and all(type(v) is int for v in c) and c[0] == end and c[1] >= 1):
                return None
            plan.append((c[0], c[1]))
            end += c[1]
        return plan if end == n_paths else None

    def _file(self, first: int) -> Path:
        return self.path / f"chunk-{first:015d}.npz"

    def has(self, first: int) -> bool:
        return os.path.lexists(self._file(first))  # a link too: read() refuses it by name

    def write(self, chunk: Chunk) -> None:
        header = {"first": chunk.first, "n": chunk.n, "total_steps": chunk.total_steps,
                  "stats": dataclasses.asdict(chunk.stats), "run": self.digest}
        arrays = {**(chunk.arrays or {}), **trajectory_arrays(chunk.trajectories)}
        payload: dict[str, Any] = {"header": np.array(json.dumps(header)), **arrays}
        self.where.check()  # when it is written, not only when the store was opened
        atomic_write(self._file(chunk.first), lambda fh: np.savez(fh, **payload))

    def read(self, first: int, n: int) -> Chunk:
        """The stored chunk of paths first .. first + n - 1. ValueError naming the file if it cannot be read, belongs
        to another run (its fingerprint differs) or holds other paths; chunks written before chunks carried the
        fingerprint are trusted on run.json's word."""
        file = self._file(first)
        again = "delete it and the next call computes it again"
        not_a_link(file)
        try:
            with open_store_file(file) as fh, open_npz(fh) as data:  # closed even if np.load fails
                header = read_json(str(data["header"]))
                counts = ("first", "n", "total_steps")
                if not all(type(header.get(k)) is int and 0 <= header[k] < 2**63 for k in counts):
                    raise ValueError(f"first, n and total_steps must be non-negative integers, got {header!r:.200}")
                chunk = Chunk(
                    first=header["first"],
                    n=header["n"],
                    arrays=({k: data[k] for k in (*PATH_ARRAYS, *SCORE_ARRAYS, "exit_face") if k in data.files}
                            if "status" in data.files else None),
                    stats=ExitStats.from_dict(header["stats"]),
                    total_steps=header["total_steps"],
                    trajectories=trajectories_from(data),
                )
                if chunk.arrays is not None:
                    check_path_arrays(chunk.arrays)
        except Exception as exc:  # a damaged file fails in many ways: BadZipFile, EOFError, KeyError, zlib.error
            raise ValueError(f"store chunk {str(file)!r} is damaged ({type(exc).__name__}: {exc}); {again}") from None
        if header.get("run", self.digest) != self.digest:
            raise ValueError(f"store chunk {str(file)!r} belongs to a different run (fingerprint {header['run']!r}, "
                             f"this store's run.json gives {self.digest!r}); {again}")
        if self.keep == "paths" and not (chunk.arrays is not None and set(PATH_ARRAYS) <= set(chunk.arrays)):
            raise ValueError(f"store chunk {str(file)!r} is damaged (its paths' arrays are missing); {again}")
        sizes = {len(a) for a in (chunk.arrays or {}).values()}
        if (chunk.first, chunk.n) != (first, n) or not sizes <= {n} or sum(chunk.stats.counts) != n:
            raise ValueError(f"store chunk {str(file)!r} holds {chunk.n} paths from {chunk.first}, this run's "
                             f"chunk is {n} paths from {first}; {again}")
        return chunk


@dataclasses.dataclass(frozen=True)
class StorePath:
    """Where a store lies: `base`, or the sweep point `base / point`. `base` is the directory the caller named, taken
    as it is (a link there is the user's own choice); `point` may not be a link; with `inside` (the directory of the
    configuration file that named the store), `base` must stay inside it once links are followed. `check()` says so
    each time the store is opened or written, not only when the file was read."""

    base: Path
    point: str | None = None
    inside: Path | None = None

    @property
    def path(self) -> Path:
        return self.base if self.point is None else self.base / self.point

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:  # as messages quote it: the directory
        return str(self.path)

    def check(self) -> Path:
        """The store's directory; ValueError if links now lead it out of `inside` or `point` is a link."""
        if self.inside is not None:
            resolved = self.base.resolve()
            if not resolved.is_relative_to(self.inside.resolve()):
                raise ValueError(f"store {str(self.base)!r} must stay inside the configuration file's directory "
                                 f"{str(self.inside)!r}, and symbolic links now lead it to {str(resolved)!r}; nothing "
                                 "was written there (to write elsewhere, pass store= to Experiment.run or --store)")
        if self.point is not None:
            not_a_link(self.path)
        return self.path


def store_path(store: str | os.PathLike) -> StorePath:
    return store if isinstance(store, StorePath) else StorePath(Path(store))


def not_a_link(path: Path) -> Path:
    """`path`, an entry of a store (run.json, sweep.json, a chunk, a point's directory), if it is not a symbolic
    link: escapade never reads or writes through one there, so a store someone else prepared cannot point it at
    files elsewhere."""
    if path.is_symlink():
        raise ValueError(f"store entry {str(path)!r} is a symbolic link, which a store never holds (escapade does not "
                         "read or write through links inside a store); remove it, or use a new store")
    return path


def open_store_file(file: Path) -> BinaryIO:
    """A store's file opened for reading, if it is a regular file and not a link (checked on the file opened: a
    link or a FIFO put in its place meanwhile is not followed, nor waited on). Callers name a link first
    (`not_a_link`), outside the "damaged" message their errors get."""
    fd = os.open(regular_file(file),
                 os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{str(file)!r} is not a regular file")
    return os.fdopen(fd, "rb")


def atomic_write(target: Path, write: Callable[[Any], Any]) -> None:
    """Write `target` through write(binary file) to a temporary file beside it, then rename it into place: a killed
    run leaves no half-written file. A link at `target` is refused; one planted there meanwhile is replaced, not
    followed."""
    not_a_link(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def read_store_json(file: Path, with_seed: bool = False) -> dict[str, Any]:
    """A store's JSON object (run.json, sweep.json), with a seed (an integer in [0, 2^64)) if asked; ValueError
    naming the file if it cannot be read or lacks them."""
    not_a_link(file)
    try:
        with open_store_file(file) as fh:
            stored = read_json(fh.read().decode())
        if not isinstance(stored, dict):
            raise ValueError(f"a JSON object expected, got {type(stored).__name__}")
        seed = stored.get("seed")
        if with_seed and not (type(seed) is int and 0 <= seed < 2**64):
            raise ValueError(f"its seed must be an integer in [0, 2^64), got {seed!r}")
        return stored
    except (OSError, ValueError, RecursionError) as exc:
        raise ValueError(f"store file {str(file)!r} is damaged ({type(exc).__name__}: {exc}); use a new store "
                         "or delete this one") from None


def run_digest(fingerprint: dict[str, Any]) -> str:
    """A short digest of a run's fingerprint, recorded in each of its stored chunks."""
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]


def fingerprint(job: Job, chunks: list[tuple[int, int]], keep: str) -> dict[str, Any]:
    """What must match for stored chunks to be reused: everything that changes the numbers."""
    from .custom import code_digest

    params = {k: v for k, v in job.params.items() if k not in ("threads", "lanes")}
    out = {"format": "escapade-store-1", "version": _core.__version__, "seed": job.seed, "params": params,
           "chunks": [list(c) for c in chunks], "keep": keep}
    code = code_digest(job.landscape, job.dynamics, job.stop, job.target)
    if code:  # the user's callbacks are recorded by name in params: their bodies count too
        out["code"] = code
    return out


def points_digest(points: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(points).tobytes()).hexdigest()[:16]


class OutOfTime(Exception):
    """A run stopped at its deadline (`execute(deadline=...)`), its paths discarded: estimate's wall-time budget."""


class Progress:
    """A tqdm bar over paths (or runs), fed from the engine's poll (about ten times a second) or as chunks finish;
    past `deadline` (a time.perf_counter() value) the poll stops the run with OutOfTime, unless every path has
    finished (a run done is kept)."""

    def __init__(self, total: int, enabled: bool | None, unit: str = "path", deadline: float | None = None) -> None:
        self.deadline, self.total = deadline, total
        if enabled is None:
            enabled = sys.stderr is not None and sys.stderr.isatty()
        self.bar = None
        self.base = 0
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit=unit, desc="escapade", delay=0.5, smoothing=0.1)

    def check_deadline(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise OutOfTime("the run passed its deadline")

    def __call__(self, finished_in_chunk: int) -> None:
        if self.base + finished_in_chunk < self.total:
            self.check_deadline()
        if self.bar is not None:
            self.bar.update(self.base + finished_in_chunk - self.bar.n)

    def chunk_done(self, n: int) -> None:
        self.base += n
        self(0)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _merge(job: Job, chunks: list[Chunk], keep: str, elapsed: float) -> SimulationResult | SummaryResult:
    chunks = sorted(chunks, key=lambda c: c.first)
    stats = chunks[0].stats
    for c in chunks[1:]:
        stats = stats.merge(c.stats)
    trajectories = [tr for c in chunks for tr in c.trajectories]
    total_steps = sum(c.total_steps for c in chunks)
    version = _core.__version__
    if keep == "summary":
        return SummaryResult(exit_stats=stats, trajectories=trajectories, params=job.params, seed=job.seed,
                             version=version, elapsed=elapsed, total_steps=total_steps)
    arrays = [c.arrays for c in chunks if c.arrays is not None]

    def cat(name: str) -> np.ndarray:
        return np.concatenate([a[name] for a in arrays]) if len(arrays) > 1 else arrays[0][name]

    scores = {k: cat(k) for k in SCORE_ARRAYS if k in arrays[0]}
    return SimulationResult(status=cat("status"), exit_time=cat("exit_time"), exit_step=cat("exit_step"),
                            exit_position=cat("exit_position"), final_position=cat("final_position"),
                            trajectories=trajectories, params=job.params, seed=job.seed, version=version,
                            elapsed=elapsed, total_steps=total_steps, **scores,
                            exit_face=cat("exit_face") if "exit_face" in arrays[0] else None)


def execute(jobs: list[Job], settings: RunSettings, stores: list[str | os.PathLike | None], *,
            deadline: float | None = None) -> list[SimulationResult | SummaryResult]:
    """Run every job, chunk by chunk, as `settings` say (threads, client, chunk_size, keep, progress; each job's
    store is the one in `stores`), and merge each job's chunks in path order. Past `deadline` (time.perf_counter())
    a local run stops with OutOfTime, at its next poll (about every 0.1 s)."""
    threads, chunk_size, client, keep = settings.threads, settings.chunk_size, settings.client, settings.keep
    check_sweep_memory([job.memory for job in jobs])
    # Worker threads now (a cluster still starting may have none yet); locally, about 100 checkpoints, each at
    # least 64 paths per lane of every engine thread.
    slots = max(1, sum(client.nthreads().values())) if client is not None else 25
    local_threads = threads if threads is not None else _core.default_threads()
    minimum = 1_000 if client is not None else max(1_000, 64 * local_threads * max(job.lanes for job in jobs))

    def chunked(store: Any) -> bool:
        return client is not None or store is not None or chunk_size is not None or keep != "paths"

    def plan_for(job: Job, store: Any) -> list[tuple[int, int]]:
        if not chunked(store):
            return [(0, job.n_paths)]
        if chunk_size is None and store is not None:  # resume with the store's own cut, on any cluster size
            stored = Store.stored_plan(store, job.n_paths)
            if stored is not None:
                return stored
        return plan(job.n_paths, chunk_size, slots, minimum)

    plans = [plan_for(job, store) for job, store in zip(jobs, stores)]
    store_objs = [None if s is None else Store(s, fingerprint(job, p, keep)) for job, p, s in zip(jobs, plans, stores)]
    done: list[list[Chunk]] = [[] for _ in jobs]
    todo: list[tuple[int, int, int]] = []  # (job index, first, n)
    for j, (p, st) in enumerate(zip(plans, store_objs)):
        for first, n in p:
            if st is not None and st.has(first):
                done[j].append(st.read(first, n))
            else:
                todo.append((j, first, n))
    bar = Progress(sum(job.n_paths for job in jobs), settings.progress, deadline=deadline)
    bar.chunk_done(sum(c.n for cs in done for c in cs))
    t0 = time.perf_counter()
    try:
        for j, chunk in _run_all(jobs, todo, threads, keep, client, bar):
            store_obj = store_objs[j]
            if store_obj is not None:
                store_obj.write(chunk)
            done[j].append(chunk)
            bar.chunk_done(chunk.n)
    finally:
        bar.close()
    elapsed = time.perf_counter() - t0
    return [_merge(job, chunks, keep, elapsed) for job, chunks in zip(jobs, done)]


def _run_all(jobs: list[Job], todo: list[tuple[int, int, int]], threads: int | None, keep: str, client: Any,
             bar: Progress) -> Iterator[tuple[int, Chunk]]:
    if client is None:
        threads = _core.default_threads() if threads is None else threads
        if threads > 1 and len(todo) > 1 and max(n for _, _, n in todo) < _SMALL_CHUNK * threads:
            # Chunks too small to keep every thread busy (the points of a sweep over a few hundred starts): run
            # them side by side, one engine thread each, so the threads work on (point, path) pairs. Each path's
            # numbers depend on (seed, path) only, so the results are the same bits.
            pool, abandoned = ThreadPoolExecutor(max_workers=threads), threading.Event()

            def poll(_: int) -> None:  # each run's poll (every few ms): stops it once the others are abandoned
                if abandoned.is_set():
                    raise InterruptedError("stopped: the run was abandoned")
                bar.check_deadline()

            pending: list[Future[Chunk]] = []
            try:
                pending.extend(pool.submit(run_chunk, jobs[j], first, n, 1, keep, poll) for j, first, n in todo)
                for (j, _, _), future in zip(todo, pending):
                    yield j, future.result()
            finally:
                # On an error or Ctrl-C the runs not started are cancelled and those still going stop at their next
                # poll. The interpreter must not exit while one is in the core (it would abort when the run takes
                # the GIL back), so a second Ctrl-C during these milliseconds does not cut the wait short; the wait
                # is on the runs' futures, since a thread's join interrupted by Ctrl-C can mark a thread that is
                # still running as stopped.
                while True:
                    try:
                        abandoned.set()
                        for future in pending:
                            if not future.cancel():  # running or done: until its run has returned
                                future.exception()
                        break
                    except KeyboardInterrupt:
                        continue
                pool.shutdown(wait=True)
            return
        for j, first, n in todo:
            yield j, run_chunk(jobs[j], first, n, threads, keep, progress=bar)
        return
    from distributed import as_completed

    # Dask runs one task per worker thread, so each chunk uses one engine thread unless told otherwise.
    remote_jobs = client.scatter(jobs, broadcast=True, hash=False)  # fresh keys: an earlier run may be releasing its own
    futures = {
        client.submit(run_chunk, remote_jobs[j], first, n, threads or 1, keep, pure=False): j for j, first, n in todo
    }
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:  # on an error or Ctrl-C, leave nothing running on the cluster
        client.cancel([f for f in futures if not f.done()])
