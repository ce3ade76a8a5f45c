"""The x86-64 levels of a portable build (CMake option ESCAPADE_PORTABLE) and the choice among them at import."""

from __future__ import annotations

LEVELS = ("x86-64-v4", "x86-64-v3", "x86-64-v2")  # best first


def module_name(level: str) -> str:
    """The extension module of one level: x86-64-v3 -> escapade._core_x86_64_v3."""
    return f"escapade._core_{level.replace('-', '_')}"


def choose(runs: list[str], forced: str | None) -> str:
    """The level to import: `forced` (the environment variable ESCAPADE_ISA) if given, else the best level in `runs`,
    the levels this CPU runs."""
    if forced:
        if forced not in LEVELS:
            raise ImportError(f"ESCAPADE_ISA must be one of {', '.join(LEVELS)}, got {forced!r}")
        if forced not in runs:
            raise ImportError(f"ESCAPADE_ISA={forced}: this CPU does not run it (it runs {', '.join(runs) or 'none'})")
        return forced
    for level in LEVELS:
        if level in runs:
            return level
    raise ImportError("escapade's portable build needs an x86-64-v2 CPU (SSE4.2, POPCNT); this one is not")
