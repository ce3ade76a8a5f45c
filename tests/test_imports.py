"""The package's import structure: no import cycle between its modules (counting imports inside functions too),
each module imports alone, and `import escapade` leaves the heavy parts (analysis, plot, experiments, scipy.stats,
matplotlib) for first use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import escapade

PACKAGE = Path(escapade.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *(node.module.split(".") if node.module else [])])


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its body; `from pkg import name` counts as an import
    of pkg.name when that is a module, else of pkg itself."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = _resolve(name, path.name == "__init__.py", node)
                for alias in node.names:
                    edges.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in modules)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def _packages_of(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_cycles():
    graph = import_graph()
    # Importing a package's module runs the package first: an edge into one's own parent packages is not a cycle.
    graph = {m: {e for e in edges if e not in _packages_of(m)} for m, edges in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for e in sorted(graph[m]):
            if state.get(e) == 1:
                cycle = stack[stack.index(e):] + [e]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if e not in state:
                visit(e)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    assert "escapade.analysis.exact" in graph["escapade.cli"]  # a top-level import
    assert "escapade.experiments.report" in graph["escapade.experiments.saddles"]


def test_each_module_imports_alone():
    """In a fresh interpreter, each module imported first (after only its packages) imports without error."""
    names = sorted(n for n in _modules() if n not in ("escapade", "escapade.__main__"))  # __main__ runs the CLI
    code = f"""
import importlib, sys
for name in {names!r}:
    for loaded in [m for m in sys.modules if m.startswith("escapade") and m != "escapade._core"]:
        del sys.modules[loaded]
    importlib.import_module(name)
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_import_is_light():
    code = ("import sys, escapade; print(__import__('json').dumps(sorted(m for m in sys.modules if m.startswith("
            "('escapade.analysis', 'escapade.plot', 'escapade.experiments', 'scipy.stats', 'matplotlib', 'pandas')))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []
    assert escapade.analysis.langevin_mean_exit_time_1d is not None  # loads on first use
    assert {"analysis", "experiments", "plot", "simulate"} <= set(dir(escapade))
