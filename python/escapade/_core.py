"""The compiled core of a portable build (CMake option ESCAPADE_PORTABLE, the default for wheels): one extension per
x86-64 level (escapade._core_x86_64_v2, _v3, _v4), all computing the same bits; the best level this CPU runs is
imported and takes this module's place. The environment variable ESCAPADE_ISA (x86-64-v2, x86-64-v3 or x86-64-v4)
picks another level. A source build (`pip install .`) has a single escapade._core extension, which Python imports
instead of this file.
"""

from __future__ import annotations

import importlib
import os
import sys


def _load() -> None:
    from . import _cpu, _isa

    level = _isa.choose(_cpu.levels(), os.environ.get("ESCAPADE_ISA") or None)
    sys.modules[__name__] = importlib.import_module(_isa.module_name(level))


_load()
