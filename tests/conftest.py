"""What several test files share: the repository's path, the tolerance of statistical checks in standard errors,
and the double well's potential.

Test files import them (`from conftest import ROOT`).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
N_SIGMA = 5.0


def double_well(x):
    return x**4 / 4 - x**2 / 2
