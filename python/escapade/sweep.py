"""`sweep`: the same ensemble over a grid of parameters."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import secrets
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ._execute import StorePath, atomic_write, execute, read_store_json, store_path
from ._settings import RunSettings, pop_settings
from ._spec import Spec, check_alternatives, replace_parameter
from .results import SweepResult
from .simulate import make_job

__all__ = ["SweepResult", "sweep"]

_SPECS = ("landscape", "dynamics", "stop", "target", "x0")
_SEEDS = ("common", "independent")
_NOT_IN_GRID = (*RunSettings.how_to_run(), "seeds", "seed")


def _record(key: str, value: Any) -> Any:
    """A grid value as the result records it: numbers and strings as they are, arrays as lists, problem objects
    as their parameters."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, Spec):
        value = value.to_dict()
    try:
        json.dumps(value)
    except TypeError:
        raise TypeError(f"grid[{key!r}]: cannot record the value {value!r} (use numbers, strings, lists, arrays "
                        "or escapade objects)") from None
    return value


def _point_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0])


def sweep(
    landscape: Any,
    dynamics: Any,
    *,
    grid: Mapping[str, Sequence[Any]],
    seeds: str = "common",
    seed: int | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    client: Any = None,
    chunk_size: int | None = None,
    store: str | os.PathLike | None = None,
    keep: str = "paths",
    **simulate_kwargs: Any,
) -> SweepResult:
    """Run `simulate` at every point of a grid of parameters.

    Parameters
    ----------
    grid : maps a parameter to the values it takes; the points are the cartesian product, in key order. A key
        is `"<spec>.<parameter>"` for an argument of the landscape, dynamics, stop, target or start sampler
        (`"dynamics.temperature"`, `"stop.offset"`, `"landscape.dim"`; nested objects with more dots,
        `"dynamics.forcing.omega"`), or the name of a `simulate` argument
        (`"n_paths"`, `"t_max"`, `"bridge"`, ...).
    seeds : "common" gives every point the same seed, so points differ only by their parameters (common random
        numbers: smooth curves, sharp comparisons); "independent" derives a seed per point from `seed`. The result
        records both (`SweepResult.seed`, `.seeds`, also in its file), so the sweep reruns from them.
    seed, threads, progress, client, chunk_size, keep : as in `simulate`; with a `client`, the chunks of all
        points are on the cluster at once; locally, points of fewer than 256 paths per thread run side by side,
        one thread each (the same bits). store : a directory; point i checkpoints to `store/point-<i>` (`point-0000`, `point-0001`, ...).
    **simulate_kwargs : every other argument of `simulate` (x0, stop, target, n_paths, t_max, ...).
    """
    settings = RunSettings(seed=seed, threads=threads, progress=progress, client=client, chunk_size=chunk_size,
                           store=store, keep=keep)
    if seeds not in _SEEDS:
        raise ValueError(f"seeds must be one of {_SEEDS}, got {seeds!r}")
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty mapping of parameter -> values, got {grid!r}")
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"grid[{key!r}] must be a list of values, got {values!r}")
        if str(key) in _NOT_IN_GRID:
            raise ValueError(f"grid key {key!r} says how to run, not what: give it to sweep directly")
    if simulate_kwargs.get("sensitivities") is not None or "sensitivities" in grid:
        raise ValueError("sweep does not carry sensitivities: call simulate(..., sensitivities=[...]) at the points "
                         f"you need, got sensitivities={simulate_kwargs.get('sensitivities', grid.get('sensitivities'))!r}")
    grid_lists = {str(k): list(values) for k, values in grid.items()}
    for key, values in grid_lists.items():
        if not values:
            raise ValueError(f"grid[{key!r}] must list at least one value")
    # What the result records of each value: JSON-compatible, so that a sweep saves; checked before running.
    grid_record = {k: [_record(k, v) for v in values] for k, values in grid_lists.items()}
    base = {"landscape": landscape, "dynamics": dynamics, **simulate_kwargs}
    where = None if store is None else store_path(store)
    meta, stored = None, None
    if where is not None:
        where.check()
        where.path.mkdir(parents=True, exist_ok=True)
        meta = where.check() / "sweep.json"
        if os.path.lexists(meta):  # a resumed sweep (a link there is refused by name), read once
            stored = read_store_json(meta, with_seed=True)
    seed = settings.seed
    if seed is None and stored is not None:  # resuming: the base seed the stored sweep started with
        seed = stored["seed"]
    base_seed = secrets.randbits(63) if seed is None else seed
    if stored is not None:  # the same seed and seeds, or refused before anything is written
        stored_seed, stored_seeds = stored["seed"], stored.get("seeds")
        if (stored_seed, stored_seeds) != (base_seed, seeds):
            raise ValueError(f"store {str(store)!r} holds a sweep with seed={stored_seed} and "
                             f"seeds={stored_seeds!r}, this one has seed={base_seed} and seeds={seeds!r}: use a "
                             "new store, or resume with seed=None and the same seeds")

    check_alternatives(grid_lists, base)
    points = [dict(zip(grid_lists, values)) for values in itertools.product(*grid_lists.values())]
    recorded = [dict(zip(grid_record, values)) for values in itertools.product(*grid_record.values())]
    jobs = []
    for index, point in enumerate(points):
        args = dict(base)
        for key, value in point.items():
            spec_name, _, field = key.partition(".")
            if field:
                if spec_name not in _SPECS or not isinstance(args.get(spec_name), Spec):
                    given = args.get(spec_name)
                    why = ("" if given is None or spec_name not in _SPECS else
                           f" ({spec_name} was given as a {type(given).__name__}, whose parts a sweep cannot address: "
                           f"list whole values in grid[{spec_name!r}] instead)")
                    raise ValueError(f"grid key {key!r}: {spec_name!r} is not a landscape, dynamics, stop, target or "
                                     f"start sampler given to this sweep{why}")
                args[spec_name] = replace_parameter(args[spec_name], key, field, value)
            else:
                args[key] = value
        point_seed = _point_seed(base_seed, index) if seeds == "independent" else base_seed
        point_settings = dataclasses.replace(settings, seed=point_seed, **pop_settings(args))
        try:
            jobs.append(make_job(args.pop("landscape"), args.pop("dynamics"), settings=point_settings, **args))
        except TypeError as exc:
            if "unexpected keyword" in str(exc):
                name = str(exc).rpartition(" ")[2]
                if name.strip("'") in grid_lists:
                    raise TypeError(f"grid key {name} is not an argument of simulate, nor a parameter path such as "
                                    "'dynamics.temperature'") from None
                raise TypeError(f"sweep() got an unexpected keyword argument {name}") from None
            raise
    # the points' directories may not be links: each Store checks its own when it opens and writes it
    stores: list[str | os.PathLike | None] = [
        None if where is None else StorePath(where.base, f"point-{i:04d}", where.inside) for i in range(len(jobs))
    ]
    if where is not None and meta is not None and stored is None:  # once every point is a valid run
        where.check()
        atomic_write(meta, lambda fh: fh.write(json.dumps({"seed": base_seed, "seeds": seeds}).encode()))
    results = execute(jobs, settings, stores)
    return SweepResult(grid=grid_record, points=recorded, results=results, seed=base_seed, seeds=seeds)
