"""The package type-checks, and the extension's stubs describe what the extension has."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from escapade import _core

from conftest import ROOT


def test_stubs_cover_the_extension():
    tree = ast.parse((ROOT / "python" / "escapade" / "_core.pyi").read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public == stubbed


def test_mypy_passes_on_the_package():
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
