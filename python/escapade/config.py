"""Experiments described in TOML files: `load_config(path)` reads one into an `Experiment`, whose `run()` calls
`simulate` (or `sweep`, when the file has a [sweep] table).

The file has one table per argument of `simulate`: [landscape], [dynamics], [stop], [target] and [start] name a
class by `type` and give its constructor's arguments; [run] holds the other arguments (n_paths, t_max, seed, ...);
[sweep] turns the run into a `sweep` over a grid. The `type` names come from `registry()`, which lists the
package's public classes, so every landscape, dynamics, region and start sampler the package exports can be used --
except those that run code (`CompiledLandscape`, `BatchedLandscape`, `SymbolicLandscape`): a file never names
native or Python code. A [run] store must stay inside the file's directory. Every mistake raises `ConfigError`
naming the table, the key and, where there is a choice, the allowed values.
"""

from __future__ import annotations

import codecs
import dataclasses
import inspect
import itertools
import math
import os
import sys
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

from ._execute import StorePath
from ._settings import RunSettings, pop_settings
from ._spec import Spec, check_alternatives, public_specs, replace_parameter
from .dynamics import Dynamics, check_set_by_class, recorded_arguments, set_by_class
from .landscapes import Landscape
from .regions import Region
from .results import SimulationResult, SummaryResult, regular_file
from .sensitivity import plan_sensitivities
from .simulate import make_job, simulate
from .starts import StartSampler
from .sweep import SweepResult, sweep

__all__ = ["ConfigError", "Experiment", "load_config", "parse_config", "registry"]

#: The kinds of classes a `type` may name, by the base class they derive from.
KINDS: dict[str, type] = {"landscape": Landscape, "dynamics": Dynamics, "region": Region, "start": StartSampler}
#: The tables that name a class, and the kind of class each one takes.
SPEC_TABLES: dict[str, str] = {
    "landscape": "landscape",
    "dynamics": "dynamics",
    "stop": "region",
    "target": "region",
    "start": "start",
}
TABLES = ("landscape", "dynamics", "stop", "target", "start", "run", "sweep")
REQUIRED_TABLES = ("landscape", "dynamics", "start")
# Run settings that a file cannot give: how to show or distribute a run (command-line options and keyword arguments
# of `Experiment.run`).
_NOT_IN_RUN = ("progress", "client")
_SEEDS = ("common", "independent")
#: The most points a [sweep.grid] may have: each is checked (about 0.2 ms each) and built before the sweep runs, so
#: a short file could otherwise ask for hours of work or gigabytes of jobs.
MAX_GRID_POINTS = 10_000
#: The largest file `load_config` reads (64 MiB): it reads the file whole, and more is no experiment description.
MAX_FILE_BYTES = 64 * 2**20


class ConfigError(ValueError):
    """An experiment description that cannot be run; the message names the table and the key."""


def registry() -> dict[str, dict[str, type]]:
    """The classes a `type` may name: {"landscape": {"DoubleWell": DoubleWell, ...}, "dynamics": {...},
    "region": {...}, "start": {...}}, built from the package's public names (`escapade.__all__`), without the
    classes that run the user's code (compiled or Python callbacks, sympy expressions): a file cannot name them."""
    out: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
    for name, obj in public_specs().items():
        if getattr(obj, "_runs_code", False):
            continue
        for kind, base in KINDS.items():
            if issubclass(obj, base):
                out[kind][name] = obj
    return {kind: dict(sorted(classes.items())) for kind, classes in out.items()}


def run_keys() -> tuple[str, ...]:
    """The keys allowed in [run]: the arguments of `simulate` other than the problem and display options."""
    return tuple(sorted(name for name in RunSettings.names() if name not in _NOT_IN_RUN))


def _allowed(names: Any) -> str:
    return ", ".join(sorted(names))


def _constructor_parameters(cls: type) -> dict[str, inspect.Parameter]:
    params = inspect.signature(cls).parameters
    return {n: p for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"config: {name!r} must be a table [{name}], got {value!r}")
    return dict(value)


def _build(table: str, values: dict[str, Any]) -> Spec:
    """The object a [landscape], [dynamics], [stop], [target] or [start] table describes."""
    classes = registry()[SPEC_TABLES[table]]
    if "type" not in values:
        raise ConfigError(f"config [{table}]: missing key 'type'; allowed types: {_allowed(classes)}")
    type_name = values.pop("type")
    if isinstance(type_name, str) and getattr(public_specs().get(type_name), "_runs_code", False):
        raise ConfigError(f"config [{table}]: type {type_name!r} runs code (compiled or Python functions) and cannot "
                          f"be built from a configuration file; build it in Python and pass it to simulate. "
                          f"Allowed: {_allowed(classes)}")
    if not isinstance(type_name, str) or type_name not in classes:
        raise ConfigError(f"config [{table}]: unknown type {type_name!r}; allowed: {_allowed(classes)}")
    cls = classes[type_name]
    params = _constructor_parameters(cls)
    fixed: dict[str, Any] = {}
    if issubclass(cls, Dynamics):  # a table a result recorded also holds what the class sets (a map's dt = 1)
        values, fixed = recorded_arguments(cls, values)
    for key in values:
        if key not in params:
            raise ConfigError(f"config [{table}]: unknown key {key!r} for {type_name}; allowed: "
                              f"{_allowed(['type', *params])}")
    for key, value in values.items():
        _check_nested(table, key, value)
    for key, p in params.items():
        if p.default is p.empty and key not in values:
            raise ConfigError(f"config [{table}]: missing key {key!r} ({type_name} requires it)")
    try:
        obj = cls(**values)
        check_set_by_class("", obj, fixed)  # the error names the table
        obj._core  # the compiled object too: its errors (a dim too large for it, ...) then name this table
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config [{table}]: {exc}") from None
    assert isinstance(obj, Spec)
    return obj


def _check_nested(table: str, key: str, value: Any) -> None:
    """The keys of the tables nested in a value ({type = "Ball", ...}, alone or in an array), checked as those of a
    table are, also inside a mapping without a type ({name = {type = "Ball", ...}}, a Union's regions); a type the
    package does not name is left to the constructor that takes the value."""
    if isinstance(value, list):
        for item in value:
            _check_nested(table, key, item)
        return
    if not isinstance(value, Mapping):
        return
    if "type" not in value:  # a mapping of names to objects
        for name, item in value.items():
            _check_nested(table, f"{key}.{name}", item)
        return
    type_name = value["type"]
    cls = public_specs().get(type_name) if isinstance(type_name, str) else None
    if cls is None or getattr(cls, "_runs_code", False):
        return
    params = _constructor_parameters(cls)
    own = set_by_class(cls) if issubclass(cls, Dynamics) else set()  # a recorded table holds them too (a map's dt)
    for name, item in value.items():
        if name != "type" and name not in params and name not in own:
            raise ConfigError(f"config [{table}]: {key}: unknown key {name!r} for {type_name}; allowed: "
                              f"{_allowed(['type', *params])}")
        _check_nested(table, f"{key}.{name}", item)


def _start(values: dict[str, Any]) -> Any:
    if "x0" in values:
        if len(values) > 1:
            others = _allowed(k for k in values if k != "x0")
            raise ConfigError(f"config [start]: give either x0 or type with its arguments, not both (also got {others})")
        return values["x0"]
    if "type" not in values:
        raise ConfigError("config [start]: missing key 'x0' or 'type'; give x0 = [...] (a point or a list of points) "
                          f"or type = one of {_allowed(registry()['start'])}")
    return _build("start", values)


def _run_options(values: dict[str, Any], directory: Path | None) -> dict[str, Any]:
    allowed = run_keys()
    for key in values:
        if key not in allowed:
            raise ConfigError(f"config [run]: unknown key {key!r}; allowed: {_allowed(allowed)}")
    store = values.get("store")
    if store is not None:
        if not isinstance(store, str):
            raise ConfigError(f"config [run]: store must be a string (a directory), got {store!r}")
        _check_store(store, Path(".") if directory is None else directory)
        if directory is not None:
            values["store"] = str(directory / store)
    return values


def _check_store(store: str, directory: Path) -> None:
    """A file may write only below its own directory: a relative path without '..' that stays there once
    symbolic links are followed (elsewhere: the `store` argument of `Experiment.run`)."""
    parts = PurePath(store).parts
    if not store or PurePath(store).anchor or PureWindowsPath(store).anchor:
        why = "an empty path" if not store else "an absolute path"
    elif ".." in parts or ".." in PureWindowsPath(store).parts:
        why = "a path with '..'"
    elif not (directory / store).resolve().is_relative_to(directory.resolve()):
        why = f"a path that symbolic links lead to {str((directory / store).resolve())!r}"
    else:
        return
    raise ConfigError(f"config [run]: store must be a relative path inside the configuration file's directory, got "
                      f"{why}: {store!r} (to write elsewhere, pass store= to Experiment.run)")


def _flatten(grid: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """`"dynamics.temperature" = [...]` and `dynamics.temperature = [...]` (a nested table) alike; TOML lets a
    file give both, which would leave one of them unswept, so a name given twice is refused."""
    out = {} if out is None else out
    for key, value in grid.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", out)
        elif name in out:
            raise ConfigError(f"config [sweep.grid]: {name!r} is given twice (a quoted key and a dotted key or table "
                              "name the same parameter); give it once")
        else:
            out[name] = value
    return out


def _sweep_grid(values: dict[str, Any], specs: dict[str, Any]) -> tuple[dict[str, list[Any]], str]:
    for key in values:
        if key not in ("grid", "seeds"):
            raise ConfigError(f"config [sweep]: unknown key {key!r}; allowed: grid, seeds")
    seeds = values.get("seeds", "common")
    if seeds not in _SEEDS:
        raise ConfigError(f"config [sweep]: seeds must be one of {_allowed(_SEEDS)}, got {seeds!r}")
    raw = values.get("grid")
    if not isinstance(raw, Mapping):
        raise ConfigError("config [sweep]: missing table [sweep.grid] (parameter = [values, ...])")
    raw = _flatten(raw)
    if not raw:
        raise ConfigError("config [sweep.grid]: give at least one parameter = [values, ...]")
    # what sweep takes on a grid: not how to run (nor the seed), and not sensitivities, which sweep does not carry
    run_allowed = [k for k in run_keys() if k not in (*RunSettings.how_to_run(), "seed", "sensitivities")]
    spec_keys = [f"{t}.<parameter>" for t in SPEC_TABLES]
    grid: dict[str, list[Any]] = {}
    given: dict[str, str] = {}  # grid name -> the key that gave it: "n_paths" and "run.n_paths" name one parameter
    for key, vals in raw.items():
        if not isinstance(vals, list) or not vals:
            raise ConfigError(f"config [sweep.grid]: {key!r} must be a non-empty array of values, got {vals!r}")
        table, _, field = key.partition(".")
        if not field:
            table, field = "run", key
        if table == "run":
            if field not in run_allowed:
                raise ConfigError(f"config [sweep.grid]: unknown key {key!r}; allowed: {_allowed(spec_keys)}, "
                                  f"{_allowed(run_allowed)}")
            _add(grid, given, key, field, vals)
            continue
        if table not in SPEC_TABLES:
            raise ConfigError(f"config [sweep.grid]: unknown key {key!r}; allowed: {_allowed(spec_keys)}, "
                              f"{_allowed(run_allowed)}")
        spec = specs[table]
        if table == "start" and field == "x0" and not isinstance(spec, Spec):
            _add(grid, given, key, "x0", vals)  # a list of starting points (or arrays of them)
            continue
        if not isinstance(spec, Spec):
            raise ConfigError(f"config [sweep.grid]: {key!r} needs a [{table}] table with a type")
        fields = [f.name for f in dataclasses.fields(spec)]
        if field not in fields:
            raise ConfigError(f"config [sweep.grid]: unknown key {key!r}: {type(spec).__name__} has no parameter "
                              f"{field!r}; allowed: {_allowed(fields)}")
        _add(grid, given, key, f"x0.{field}" if table == "start" else key, vals)
    size = math.prod(len(vals) for vals in grid.values())
    if size > MAX_GRID_POINTS:  # before any point is checked or built
        raise ConfigError(f"config [sweep.grid]: {size:,} points ({' x '.join(str(len(v)) for v in grid.values())}) "
                          f"is more than the {MAX_GRID_POINTS:,} a file may ask for; split the sweep or run it from "
                          "Python (escapade.sweep)")
    return grid, seeds


def _add(grid: dict[str, list[Any]], given: dict[str, str], key: str, name: str, vals: list[Any]) -> None:
    if name in given:
        raise ConfigError(f"config [sweep.grid]: {key!r} is given twice (also as {given[name]!r}); give it once")
    grid[name], given[name] = vals, key


def _check_job(args: dict[str, Any], point: Mapping[str, Any] | None = None) -> None:
    """Validate the arguments as `simulate` would, naming the table the offending parameter comes from (the
    grid when it is one of the `point`'s parameters)."""
    tables = {"x0": "start", "stop": "stop", "target": "target", "landscape": "landscape", "dynamics": "dynamics"}
    try:
        problem = dict(args)
        settings = RunSettings(**pop_settings(problem))
        landscape, dynamics = problem.pop("landscape"), problem.pop("dynamics")
        job = make_job(landscape, dynamics, settings=settings, **problem)
        _check_sensitivities(landscape, dynamics, settings, reflecting=job.stop is not None and job.stop.reflects)
    except (TypeError, ValueError) as exc:
        name = str(exc).split(" ", 1)[0]
        if name not in tables:  # a parameter of the landscape or dynamics (the core says batch_size)
            for table in ("landscape", "dynamics"):
                if isinstance(args.get(table), Spec) and name in _constructor_parameters(type(args[table])):
                    tables[name] = table
                    if point is not None and f"{table}.{name}" in point:
                        name = f"{table}.{name}"
                    break
        if point is not None and name in point:
            raise ConfigError(f"config [sweep.grid]: {name} = {point[name]!r}: {exc}") from None
        at = "" if not point else " (at the grid point " + ", ".join(f"{k} = {v!r}" for k, v in point.items()) + ")"
        raise ConfigError(f"config [{tables.get(name, 'run')}]: {exc}{at}") from None


def _check_sensitivities(landscape: Landscape, dynamics: Dynamics, settings: RunSettings, *, reflecting: bool) -> None:
    """The parameters to differentiate, as `simulate` checks them when it runs (their options are RunSettings')."""
    if settings.sensitivities is not None:
        plan_sensitivities(landscape, dynamics, settings.sensitivities, method=settings.sensitivity_method,
                           fd_step=settings.fd_step, reflecting=reflecting)


@dataclasses.dataclass(frozen=True, eq=False)
class Experiment:
    """A validated experiment: the arguments of `simulate`, and a grid when the run is a sweep.

    Attributes
    ----------
    landscape, dynamics, x0, stop, target : the problem, built from the tables of the same names ([start] -> x0).
    options : the other arguments of `simulate` from [run] (n_paths, t_max, seed, ...).
    grid, seeds : from [sweep]; `grid` is None for a single run.
    path : the file it was read from, if any.
    store_inside : the directory a [run] store must stay in (the file's), checked again whenever the store is
        opened or written: a link planted after the file was read does not lead it elsewhere.
    """

    landscape: Landscape
    dynamics: Dynamics
    x0: Any
    stop: Region | None
    target: Region | None
    options: dict[str, Any]
    grid: dict[str, list[Any]] | None = None
    seeds: str = "common"
    path: Path | None = None
    store_inside: Path | None = dataclasses.field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The file's name without its suffix ("experiment" when not read from a file)."""
        return self.path.stem if self.path is not None else "experiment"

    def arguments(self, **overrides: Any) -> dict[str, Any]:
        """The keyword arguments `run` passes to `simulate` (or `sweep`), with `overrides` applied."""
        allowed = RunSettings.names()
        for key in overrides:
            if key not in allowed:
                raise TypeError(f"Experiment.run() got an unexpected keyword argument {key!r}; allowed: "
                                f"{_allowed(allowed)}")
        args: dict[str, Any] = {"landscape": self.landscape, "dynamics": self.dynamics, "x0": self.x0,
                                "stop": self.stop, "target": self.target, **self.options, **overrides}
        if "store" not in overrides and self.store_inside is not None and args.get("store") is not None:
            args["store"] = StorePath(Path(args["store"]), inside=self.store_inside)  # the file's own store
        if self.grid is not None:
            args.update(grid=self.grid, seeds=self.seeds)
        return args

    def run(self, **overrides: Any) -> SimulationResult | SummaryResult | SweepResult:
        """Run the experiment: `simulate(...)`, or `sweep(...)` when it has a grid. Keyword arguments override
        [run] (threads, n_paths, seed, store, ...) or add `progress` and a Dask `client`."""
        args = self.arguments(**overrides)
        landscape, dynamics = args.pop("landscape"), args.pop("dynamics")
        if self.grid is not None:
            return sweep(landscape, dynamics, **args)
        return simulate(landscape, dynamics, **args)


def parse_config(data: Mapping[str, Any], *, directory: str | os.PathLike | None = None,
                 path: str | os.PathLike | None = None) -> Experiment:
    """An `Experiment` from the parsed tables of a configuration (a dict as `tomllib` returns it). A [run] store
    must be a relative path without '..' that links do not lead out of `directory` (default: the current
    directory), which it is taken relative to."""
    try:
        return _parse(data, directory, path)
    except RecursionError:  # values nested thousands deep (x0 = [[[...]]], a Union of Unions, ...)
        raise ConfigError("config: values are nested too deeply") from None
    except OverflowError:  # a whole number past the largest double that a check converts unguarded (checks that
        # convert with as_float or as_array name the key)
        raise ConfigError("config: a whole number is too large for a float (over 1.8e308)") from None


def _parse(data: Mapping[str, Any], directory: str | os.PathLike | None,
           path: str | os.PathLike | None) -> Experiment:
    if not isinstance(data, Mapping):
        raise ConfigError(f"config: expected a mapping of tables, got {data!r}")
    for key, value in data.items():
        if key not in TABLES:
            what = f"table [{key}]" if isinstance(value, Mapping) else f"key {key!r} outside any table"
            raise ConfigError(f"config: unknown {what}; allowed tables: {_allowed(TABLES)}")
    for name in REQUIRED_TABLES:
        if name not in data:
            raise ConfigError(f"config: missing table [{name}]")
    tables = {name: _table(data, name) for name in TABLES}
    specs: dict[str, Any] = {}
    for name in SPEC_TABLES:
        values = tables[name]
        if values is None:
            specs[name] = None
        elif name == "start":
            specs[name] = _start(values)
        else:
            specs[name] = _build(name, values)
    options = _run_options(tables["run"] or {}, None if directory is None else Path(directory))
    grid, seeds = None, "common"
    if tables["sweep"] is not None and options.get("sensitivities") is not None:  # as `sweep` refuses them
        raise ConfigError("config [run]: sensitivities: a [sweep] does not carry them; remove [sweep] and run the "
                          "points you need one by one, or remove sensitivities")
    if tables["sweep"] is not None:
        grid, seeds = _sweep_grid(tables["sweep"], specs)
    inside = None if options.get("store") is None else Path(".") if directory is None else Path(directory)
    experiment = Experiment(landscape=specs["landscape"], dynamics=specs["dynamics"], x0=specs["start"],
                            stop=specs["stop"], target=specs["target"], options=options, grid=grid, seeds=seeds,
                            path=None if path is None else Path(path), store_inside=inside)
    _validate(experiment)
    return experiment


def _validate(experiment: Experiment) -> None:
    """Check the run (each point of a sweep) as `simulate` would, without running it."""
    args = experiment.arguments()
    if experiment.grid is None:
        _check_job(args)
        return
    grid = args.pop("grid")
    args.pop("seeds")
    try:
        check_alternatives(grid, args)
    except ValueError as exc:
        raise ConfigError(f"config [sweep.grid]: {exc}") from None
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values))
        point_args = dict(args)
        for key, value in point.items():
            spec_name, _, field = key.partition(".")
            if field:  # as `sweep` does it: a copy of the object with one argument changed
                try:
                    point_args[spec_name] = replace_parameter(point_args[spec_name], key, field, value)
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"config [sweep.grid]: {key} = {value!r}: {exc}") from None
            else:
                point_args[key] = value
        _check_job(point_args, point)


def load_config(path: str | os.PathLike) -> Experiment:
    """Read a TOML experiment description; raises `ConfigError` (a ValueError) naming the file and the table and
    key of any mistake, and OSError when the file cannot be read. Relative paths in it are relative to the file."""
    path = Path(path)
    try:
        regular_file(path)  # a device or FIFO (/dev/zero) would be read without end
    except ValueError:
        raise ConfigError(f"{path}: not a regular file (a configuration is read whole)") from None
    with open(path, "rb") as fh:
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB, the most a configuration file may be")
    if raw.startswith(codecs.BOM_UTF8):  # as some editors write UTF-8; TOML itself has no use for it
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except RecursionError:  # arrays nested thousands deep
        raise ConfigError(f"{path}: invalid TOML: values are nested too deeply") from None
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError, an integer over Python's 4300 digits
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return parse_config(data, directory=path.parent, path=path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
