"""Base class of the problem descriptions: frozen parameter records that build their C++ counterpart on demand."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Spec:
    """A named set of parameters; `to_dict()` is what a result records, `_to_core()` what the engine runs."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = value.tolist() if isinstance(value, np.ndarray) else value
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
