"""Names of a package that import their module on first use (PEP 562), so that `import escapade` does not pay for
scipy.stats, matplotlib or the reproductions before they are used."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Iterable, Mapping


def attach(package: str, names: Iterable[str], *, submodules: Iterable[str] = (),
           attributes: Mapping[str, str] | None = None) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`: each of `submodules` is imported when first used as an attribute,
    and each name of `attributes` (name -> the submodule that defines it) is taken from its submodule then.
    `names` are the package's other public names, for `dir()`."""
    lazy_modules = frozenset(submodules)
    lazy_attributes = dict(attributes or {})
    public = sorted({*names, *lazy_modules, *lazy_attributes})

    def __getattr__(name: str) -> Any:
        if name in lazy_modules:
            return importlib.import_module(f"{package}.{name}")
        if name in lazy_attributes:
            return getattr(importlib.import_module(f"{package}.{lazy_attributes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return public

    return __getattr__, __dir__
