"""Base class of the problem descriptions: frozen parameter records that build their C++ counterpart on demand."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Any, Mapping

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Spec:
    """A named set of parameters; `to_dict()` is what a result records, `_to_core()` what the engine runs."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = _plain(value)
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({args})"

    @property
    def _core(self) -> Any:
        """The compiled object, built once."""
        core = self.__dict__.get("_core_cache")
        if core is None:
            core = self._to_core()
            object.__setattr__(self, "_core_cache", core)
        return core

    def __getstate__(self) -> dict[str, Any]:  # the compiled object is rebuilt after unpickling
        state = dict(self.__dict__)
        state.pop("_core_cache", None)
        state.pop("_compiled_callbacks", None)  # numba wrappers of compiled callbacks, rebuilt with the core
        return state

    def _to_core(self) -> Any:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


def _plain(value: Any) -> Any:
    """A field as a result records it: arrays and tuples as the lists JSON gives back, so that a saved result and
    a store's run.json compare equal to the run that wrote them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def check_alternatives(keys: Any, specs: Mapping[str, Any]) -> None:
    """ValueError if grid `keys` set two parameters that stand for each other (a Langevin's temperature and eps):
    each would clear the other (`replace_parameter`), so one value would be lost."""
    for key in keys:
        spec_name, _, field = str(key).partition(".")
        other = getattr(specs.get(spec_name), "_ALTERNATIVES", {}).get(field)
        if other is not None and f"{spec_name}.{other}" in map(str, keys):
            raise ValueError(f"grid keys {key!r} and '{spec_name}.{other}' set one parameter in two ways "
                             f"({other} stands for {field}): sweep one of them")


def replace_parameter(spec: Spec, key: str, field: str, value: Any) -> Spec:
    """A copy of `spec` with one constructor argument changed, validated like a new object. `field` may name a
    parameter of a nested object (\"forcing.amplitude\"); `key` is the grid key (or other name) errors quote."""
    names = [f.name for f in dataclasses.fields(spec)]
    head, _, rest = field.partition(".")
    if rest:  # a parameter of a nested object: "dynamics.forcing.amplitude"
        if head not in names or not isinstance(getattr(spec, head), Spec):
            raise ValueError(f"grid key {key!r}: {type(spec).__name__} has no object parameter {head!r}")
        value = replace_parameter(getattr(spec, head), key, rest, value)
        field = head
    if field not in names:
        raise ValueError(f"grid key {key!r}: {type(spec).__name__} has no parameter {field!r}; it has {names}")
    accepted = inspect.signature(type(spec)).parameters  # fields set by the class itself (a map's dt) are not
    args = {name: getattr(spec, name) for name in names if name in accepted}
    if field not in accepted:
        raise ValueError(f"grid key {key!r}: {field!r} is fixed by {type(spec).__name__} and cannot be varied")
    args[field] = value
    other = getattr(spec, "_ALTERNATIVES", {}).get(field)
    if other is not None and args.get(other) is not None:  # temperature for a Langevin given by eps, or back
        args[other] = None
    return type(spec)(**args)


def public_specs() -> dict[str, type]:
    """The package's public classes that build a compiled object (not abstract bases such as Region or
    DiscreteMap), by name: what `config.registry()` and `spec_from_table` choose from."""
    package = sys.modules[__name__.rpartition(".")[0]]  # looked up, not imported: the package imports this module
    out: dict[str, type] = {}
    for name in getattr(package, "__all__", []):
        obj = getattr(package, name, None)
        if isinstance(obj, type) and issubclass(obj, Spec) and obj._to_core is not Spec._to_core:
            out[name] = obj
    return out


def spec_from_table(name: str, value: Any, base: type) -> Any:
    """`value`, or the object a table {"type": class name, **arguments} describes (a configuration file, a recorded
    `to_dict()`): a public subclass of `base`, never one that runs the user's code. ValueError naming `name` for a
    type that is not one of them."""
    if not isinstance(value, dict):
        return value
    # the classes a configuration file may name (config.registry()): not an abstract base, which has no _to_core
    classes = {n: c for n, c in public_specs().items() if issubclass(c, base) and not getattr(c, "_runs_code", False)}
    args = dict(value)
    kind = args.pop("type", None)
    chosen = classes.get(kind) if isinstance(kind, str) else None
    if chosen is None:
        raise ValueError(f"{name} must name its type, one of {sorted(classes)}, got {value!r}")
    return chosen(**args)
