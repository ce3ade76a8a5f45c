"""Write docs/api.md, the API reference, from the installed package's signatures and docstrings.

    python docs/gen_api.py            # rewrite docs/api.md
    python docs/gen_api.py --check    # exit 1 if docs/api.md is out of date

The reference covers every name in `escapade.__all__` (a module listed there contributes its own `__all__`) and
the modules in EXTRA_MODULES. tests/test_docs.py checks that the file is up to date.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import sys
import types
import typing
from pathlib import Path
from typing import Any

API_MD = Path(__file__).resolve().parent / "api.md"
PACKAGE = "escapade"
EXTRA_MODULES = ["escapade.config"]  # public modules not re-exported by the package
# Sections in this order first (by the module that defines a name), then any other module alphabetically.
ORDER = ["escapade.simulate", "escapade.sweep", "escapade.landscapes", "escapade.custom", "escapade.symbolic",
         "escapade.dynamics", "escapade.regions", "escapade.starts", "escapade.results"]
WIDTH = 100


class _Raw:
    """An annotation shown as written (annotations are strings under `from __future__ import annotations`)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _annotation(a: Any) -> Any:
    if a is inspect.Parameter.empty:
        return a
    if isinstance(a, typing.ForwardRef):
        a = a.__forward_arg__
    return _Raw(a if isinstance(a, str) else inspect.formatannotation(a))


def signature(name: str, obj: Any, *, returns: bool = True) -> str:
    """`name(params) -> return`, one parameter per line when it would be wider than WIDTH."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"
    params = []
    star_done = False
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and p.name in ("self", "cls"):
            continue
        if p.kind is p.KEYWORD_ONLY and not star_done:
            params.append("*")
        if p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL):
            star_done = True
        params.append(str(p.replace(annotation=_annotation(p.annotation))))
    ret = "" if sig.return_annotation is sig.empty or not returns else f" -> {_annotation(sig.return_annotation)!r}"
    one_line = f"{name}({', '.join(params)}){ret}"
    if len(one_line) <= WIDTH:
        return one_line
    body = "".join(f"    {p},\n" for p in params)
    return f"{name}(\n{body}){ret}"


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__) if isinstance(getattr(obj, "__doc__", None), str) else ""


def _text_block(text: str) -> list[str]:
    return ["```text", text.rstrip(), "```", ""] if text.strip() else []


def _members(cls: type, documented: set[type]) -> list[tuple[str, Any]]:
    """Public methods and properties of cls, and of its undocumented bases in the package."""
    out: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass is not cls and (klass in documented or not klass.__module__.startswith(PACKAGE)):
            break
        for name, value in vars(klass).items():
            if name.startswith("_") or name in out:
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, (property, types.FunctionType)):
                out[name] = value
    return sorted(out.items())


def _render_class(qualname: str, cls: type, documented: set[type]) -> list[str]:
    lines = [f"### `{qualname}`", ""]
    bases = [b.__name__ for b in cls.__bases__ if b in documented]
    if bases:
        lines += [f"Bases: {', '.join(f'`{b}`' for b in bases)}", ""]
    if issubclass(cls, enum.Enum):
        lines += _text_block(_doc(cls))
        lines += _text_block("\n".join(f"{m.name} = {m.value!r}" for m in cls))
        return lines
    if issubclass(cls, BaseException):
        lines += _text_block(f"class {cls.__name__}({', '.join(b.__name__ for b in cls.__bases__)})")
    else:
        lines += _text_block(signature(cls.__name__, cls, returns=False))
    doc = _doc(cls)
    if not doc.startswith(f"{cls.__name__}("):  # not the docstring a dataclass makes up
        lines += _text_block(doc)
    entries = []
    for name, member in _members(cls, documented):
        if isinstance(member, property):
            head = f"{name}  (property)"
            doc = _doc(member.fget) if member.fget is not None else ""
        else:
            head = signature(name, member)
            doc = _doc(member)
        entries.append(head + "".join(f"\n    {line}" if line else "\n" for line in doc.splitlines()))
    if entries:
        lines += ["Methods and properties:", ""]
        lines += _text_block("\n\n".join(entries))
    return lines


def _render_function(qualname: str, func: Any) -> list[str]:
    name = qualname.rsplit(".", 1)[-1]
    return [f"### `{qualname}`", "", *_text_block(signature(name, func)), *_text_block(_doc(func))]


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__ and (inspect.isclass(v) or inspect.isfunction(v))]
    return list(names)


def _title(module_name: str) -> str:
    module = importlib.import_module(module_name)
    first = _doc(module).split("\n\n")[0].replace("\n", " ")
    return f"## `{module_name}`" + (f"\n\n{first}" if first else "")


def _section(module_name: str) -> str:
    """The section of a name defined in `module_name`: the package in ORDER that holds that module, else the module."""
    return next((m for m in ORDER if module_name.startswith(m + ".")), module_name)


def render() -> str:
    package = importlib.import_module(PACKAGE)
    sections: dict[str, list[tuple[str, Any]]] = {}  # defining module -> (public name, object)
    modules: list[types.ModuleType] = []
    for name in _public_names(package):
        obj = getattr(package, name)
        if isinstance(obj, types.ModuleType):
            modules.append(obj)
        else:
            sections.setdefault(_section(getattr(obj, "__module__", PACKAGE)), []).append((f"{PACKAGE}.{name}", obj))
    modules += [importlib.import_module(m) for m in EXTRA_MODULES]
    for module in modules:
        for name in _public_names(module):
            sections.setdefault(module.__name__, []).append((f"{module.__name__}.{name}", getattr(module, name)))
    documented = {obj for items in sections.values() for _, obj in items if inspect.isclass(obj)}

    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/gen_api.py`; do not edit by hand. Everything here is",
        f"importable as listed; the names of the `{PACKAGE}` sections are also available as `{PACKAGE}.<name>`.",
        "",
        _doc(package).split("\n\n")[0].replace("\n", " "),
        "",
    ]
    order = [m for m in ORDER if m in sections] + sorted(m for m in sections if m not in ORDER)
    lines += ["Sections: " + ", ".join(f"`{m}`" for m in order), ""]
    for module_name in order:
        lines += [_title(module_name), ""]
        for qualname, obj in sections[module_name]:
            if inspect.isclass(obj):
                lines += _render_class(qualname, obj, documented)
            elif callable(obj):
                lines += _render_function(qualname, obj)
            else:
                lines += [f"### `{qualname}`", "", *_text_block(repr(obj))]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not API_MD.exists() or API_MD.read_text() != text:
            print(f"{API_MD} is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    API_MD.write_text(text)
    print(f"wrote {API_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
