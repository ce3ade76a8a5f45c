"""The package as installed: its metadata, the Python layer and the compiled extension have one version."""

from __future__ import annotations

import importlib.metadata

import escapade
from escapade import _core


def test_versions_agree():
    assert escapade.__version__ == importlib.metadata.version("escapade") == _core.__version__
