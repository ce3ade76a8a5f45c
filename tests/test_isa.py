"""One portable build, the same bits at every instruction-set level: each x86-64 level of a portable build
(ESCAPADE_PORTABLE) that this CPU runs, imported in its own process through ESCAPADE_ISA, gives the same digests of
runs that step every dynamics (tests/isa_digest.py); build_info() names the level in use; the choice of a level."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from escapade import _core, _isa

HERE = Path(__file__).resolve().parent


def portable_levels() -> list[str]:
    """The levels of the installed portable build that this CPU runs, best first; none for a source build."""
    if importlib.util.find_spec("escapade._cpu") is None:
        return []
    from escapade import _cpu

    return [level for level in _cpu.levels() if importlib.util.find_spec(_isa.module_name(level)) is not None]


def digests(level: str) -> dict[str, str]:
    env = dict(os.environ, ESCAPADE_ISA=level, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(HERE / "isa_digest.py")], env=env, capture_output=True, text=True,
                         check=True, timeout=600).stdout
    return dict(line.split() for line in out.splitlines())


# Runs whose numbers still go through Eigen's own dense kernels (the PSD square root of a Hessian, an Ellipsoid's
# frame of a dense noise matrix, the MLP's Hessian, a score's M z over the block): their summation order and their
# FMA instructions follow the level's vector width, so these differ between levels (and, on this CPU, even between
# two native builds of the same source for those paths). Listed here so that every other case is checked.
EIGEN_KERNELS = {"langevin_dense_S_ellipsoid_6d", "langevin_hessian_noise_6d", "gaussian_sgd_hessian_6d",
                 "gaussian_sgd_hessian_mlp", "langevin_dense_S_scores_6d"}


@pytest.mark.skipif(len(portable_levels()) < 2, reason="needs a portable build on a CPU that runs two levels or more")
def test_every_level_computes_the_same_bits():
    levels = portable_levels()
    got = {level: digests(level) for level in levels}
    reference = got[levels[0]]
    assert len(reference) > 10
    for level in levels[1:]:
        cases = set(reference) - EIGEN_KERNELS
        differ = [case for case in cases if got[level].get(case) != reference[case]]
        assert not differ, f"{level} differs from {levels[0]} in {differ}"


def test_build_info_names_the_instruction_set():
    info = _core.build_info()
    if info["native"]:
        assert info["isa"] == "native" and "-march=native" in info["flags"]
    elif portable_levels():
        assert info["isa"] == (os.environ.get("ESCAPADE_ISA") or portable_levels()[0])
        assert f"-march={info['isa']}" in info["flags"]
    else:
        assert info["isa"] == "x86-64" and "-march" not in info["flags"]


def test_choose_a_level():
    assert _isa.choose(["x86-64-v4", "x86-64-v3", "x86-64-v2"], None) == "x86-64-v4"
    assert _isa.choose(["x86-64-v3", "x86-64-v2"], None) == "x86-64-v3"
    assert _isa.choose(["x86-64-v4", "x86-64-v3", "x86-64-v2"], "x86-64-v2") == "x86-64-v2"
    with pytest.raises(ImportError, match="ESCAPADE_ISA=x86-64-v4: this CPU does not run it"):
        _isa.choose(["x86-64-v3", "x86-64-v2"], "x86-64-v4")
    with pytest.raises(ImportError, match="ESCAPADE_ISA must be one of .*got 'avx512'"):
        _isa.choose(["x86-64-v3"], "avx512")
    with pytest.raises(ImportError, match="needs an x86-64-v2 CPU"):
        _isa.choose([], None)
