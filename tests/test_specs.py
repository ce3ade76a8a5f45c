"""Problem descriptions (landscapes, dynamics, regions, start samplers): they pickle, also after their compiled
object was built, an unpickled problem gives the same run, and the repr shows the parameters."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from escapade import (
    Ball,
    Box,
    DoubleWell,
    Gaussian,
    HalfSpace,
    Langevin,
    Quadratic,
    UniformBall,
    UniformBox,
    simulate,
)

from conftest import assert_same_arrays


SPECS = [
    DoubleWell(3),
    Quadratic([[2.0, 0.5], [0.5, -1.0]], center=[0.1, 0.2]),
    Langevin(temperature=0.3, dt=0.01),
    Langevin(eps=0.5, S=[[1.0, 0.0, 0.5], [0.2, 1.0, 0.0]], dt=0.02),
    HalfSpace([1.0, -2.0], 0.5),
    Ball([0.0, 1.0], 2.0),
    Box([-1.0, -np.inf], [1.0, 2.0]),
    UniformBox([0.0, 0.0], [1.0, 2.0]),
    UniformBall([1.0, 1.0], 0.5),
    Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]]),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_specs_pickle_after_their_core_was_built(spec):
    core = spec._core  # build the compiled object first
    assert spec._core is core
    back = pickle.loads(pickle.dumps(spec))
    assert type(back) is type(spec)
    assert back.to_dict() == spec.to_dict()
    assert back._core is not core  # rebuilt on demand
    for attr in ("dim", "dt"):
        if hasattr(core, attr):
            assert getattr(back._core, attr) == getattr(core, attr)


def test_unpickled_problem_gives_the_same_run():
    land = Quadratic([[1.0, 0.2], [0.2, 0.5]])
    dyn = Langevin(eps=0.5, S=[[1.0, 0.0, 0.5], [0.2, 1.0, 0.0]], dt=0.01)
    stop, start = Ball([0.0, 0.0], 1.0), Gaussian([0.0, 0.0], [[0.05, 0.0], [0.0, 0.05]])
    kw = dict(n_paths=200, t_max=20.0, seed=99)
    a = simulate(land, dyn, x0=start, stop=stop, **kw)
    land2, dyn2, stop2, start2 = pickle.loads(pickle.dumps((land, dyn, stop, start)))
    b = simulate(land2, dyn2, x0=start2, stop=stop2, **kw)
    assert_same_arrays(a, b)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_spec_repr_shows_its_parameters(spec):
    text = repr(spec)
    assert text.startswith(type(spec).__name__ + "(")
    for key, value in spec.to_dict().items():
        if key != "type" and value is not None:
            assert f"{key}=" in text, f"{key} missing from {text}"
