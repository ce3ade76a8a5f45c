"""Bad arguments raise TypeError or ValueError naming the offending parameter; nothing crashes or hangs."""

from __future__ import annotations

import numpy as np
import pytest

import escapade
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
    _core,
    simulate,
)

from conftest import W1_EXIT

NAN, INF = float("nan"), float("inf")


def run(**overrides):
    """simulate() on a small valid 1-D problem with some arguments replaced."""
    args = dict(
        landscape=DoubleWell(),
        dynamics=Langevin(temperature=0.1, dt=0.01),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=10,
        t_max=1.0,
        seed=1,
    )
    args.update(overrides)
    landscape, dynamics = args.pop("landscape"), args.pop("dynamics")
    return simulate(landscape, dynamics, **args)


def run2d(**overrides):
    args = dict(landscape=Quadratic(np.eye(2)), x0=[0.0, 0.0], stop=Ball([0.0, 0.0], 1.0))
    args.update(overrides)
    return run(**args)


C = pytest.param  # catalog entry: C(callable, exception type(s), name in the message, id=...)

PUBLIC = [
    # dimensions
    C(lambda: run(x0=[1.0, 2.0]), ValueError, "x0", id="x0-wrong-length"),
    C(lambda: run(x0=np.zeros((3, 2))), ValueError, "x0", id="x0-rows-wrong-length"),
    C(lambda: run(x0=np.zeros((3, 1, 1))), ValueError, "x0", id="x0-3d"),
    C(lambda: run(x0=[]), ValueError, "x0", id="x0-empty"),
    C(lambda: run(x0="abc"), TypeError, "x0", id="x0-string"),
    C(lambda: run(x0=UniformBall([0.0, 0.0], 1.0)), ValueError, "x0", id="x0-sampler-wrong-dim"),
    C(lambda: run(stop=HalfSpace([1.0, 0.0], 0.0)), ValueError, "stop", id="stop-wrong-dim"),
    C(lambda: run(target=Ball([0.0, 0.0], 1.0)), ValueError, "target", id="target-wrong-dim"),
    C(lambda: run2d(dynamics=Langevin(eps=0.1, S=np.eye(3), dt=0.01)), ValueError, "S", id="S-wrong-rows"),
    C(lambda: run2d(dynamics=Langevin(eps=0.1, S=np.ones(2), dt=0.01)), ValueError, "S", id="S-1d"),
    C(lambda: Quadratic(np.eye(2), center=[0.0, 0.0, 0.0]), ValueError, "center", id="center-wrong-length"),
    C(lambda: Box([0.0], [1.0, 2.0]), ValueError, "high", id="box-lengths-differ"),
    C(lambda: UniformBox([0.0], [1.0, 2.0]), ValueError, "high", id="uniformbox-lengths-differ"),
    C(lambda: Gaussian([0.0, 0.0], np.eye(3)), ValueError, "cov", id="gaussian-cov-wrong-size"),
    C(lambda: DoubleWell().value([1.0, 2.0]), ValueError, "x", id="value-wrong-length"),
    C(lambda: HalfSpace([1.0], 0.0).contains([[1.0, 2.0]]), ValueError, "x", id="contains-wrong-length"),
    # NaN and inf
    C(lambda: run(x0=[NAN]), ValueError, "x0", id="x0-nan"),
    C(lambda: run(x0=[INF]), ValueError, "x0", id="x0-inf"),
    C(lambda: run(x0=[[-1.0], [NAN]]), ValueError, "x0", id="x0-points-nan"),
    C(lambda: Quadratic([[NAN]]), ValueError, "H", id="H-nan"),
    C(lambda: Quadratic([[1.0, INF], [INF, 1.0]]), ValueError, "H", id="H-inf"),
    C(lambda: Quadratic([[1.0]], center=[NAN]), ValueError, "center", id="center-nan"),
    C(lambda: Ball([INF], 1.0), ValueError, "center", id="ball-center-inf"),
    C(lambda: UniformBall([NAN], 1.0), ValueError, "center", id="uniformball-center-nan"),
    C(lambda: HalfSpace([NAN]), ValueError, "normal", id="normal-nan"),
    C(lambda: HalfSpace([1.0], NAN), ValueError, "offset", id="offset-nan"),
    C(lambda: HalfSpace([1.0], INF), ValueError, "offset", id="offset-inf"),
    C(lambda: Langevin(NAN, dt=0.1), ValueError, "temperature", id="temperature-nan"),
    C(lambda: Langevin(INF, dt=0.1), ValueError, "temperature", id="temperature-inf"),
    C(lambda: Langevin(0.1, dt=NAN), ValueError, "dt", id="dt-nan"),
    C(lambda: Langevin(0.1, dt=INF), ValueError, "dt", id="dt-inf"),
    C(lambda: Langevin(eps=NAN, dt=0.1), ValueError, "eps", id="eps-nan"),
    C(lambda: Langevin(eps=1.0, S=[[NAN]], dt=0.1), ValueError, "S", id="S-nan"),
    C(lambda: Box([NAN], [1.0]), ValueError, "low", id="box-nan"),
    C(lambda: Gaussian([NAN], [[1.0]]), ValueError, "mean", id="gaussian-mean-nan"),
    C(lambda: UniformBox([0.0], [INF]), ValueError, "high", id="uniformbox-inf"),
    C(lambda: run(t_max=NAN), ValueError, "t_max", id="t_max-nan"),
    C(lambda: run(divergence_bound=NAN), ValueError, "divergence_bound", id="divergence_bound-nan"),
    # dynamics
    C(lambda: Langevin(0.1, dt=0.0), ValueError, "dt", id="dt-zero"),
    C(lambda: Langevin(0.1, dt=-0.01), ValueError, "dt", id="dt-negative"),
    C(lambda: Langevin(0.1, dt="0.1"), TypeError, "dt", id="dt-string"),
    C(lambda: Langevin(-0.1, dt=0.1), ValueError, "temperature", id="temperature-negative"),
    C(lambda: Langevin("1", dt=0.1), TypeError, "temperature", id="temperature-string"),
    C(lambda: Langevin(eps=-1.0, dt=0.1), ValueError, "eps", id="eps-negative"),
    C(lambda: Langevin(0.1, eps=0.1, dt=0.1), ValueError, "temperature", id="temperature-and-eps"),
    C(lambda: Langevin(dt=0.1), ValueError, "temperature", id="neither-temperature-nor-eps"),
    C(lambda: Langevin(0.1, S=[[1.0]], dt=0.1), ValueError, "S", id="S-with-temperature"),
    # landscapes
    C(lambda: Quadratic(np.ones((2, 3))), ValueError, "H", id="H-not-square"),
    C(lambda: Quadratic([[1.0, 2.0], [0.0, 1.0]]), ValueError, "H", id="H-not-symmetric"),
    C(lambda: Quadratic([1.0, 2.0]), ValueError, "H", id="H-1d"),
    C(lambda: Quadratic(np.zeros((0, 0))), ValueError, "H", id="H-empty"),
    C(lambda: DoubleWell(0), ValueError, "dim", id="doublewell-dim-zero"),
    C(lambda: DoubleWell(1.5), TypeError, "dim", id="doublewell-dim-float"),
    # regions and samplers
    C(lambda: Box([1.0], [1.0]), ValueError, "low", id="box-low-equals-high"),
    C(lambda: Box([0.0, 2.0], [1.0, 1.0]), ValueError, "low", id="box-low-above-high"),
    C(lambda: Ball([0.0], 0.0), ValueError, "radius", id="ball-radius-zero"),
    C(lambda: Ball([0.0], -1.0), ValueError, "radius", id="ball-radius-negative"),
    C(lambda: Ball([0.0], INF), ValueError, "radius", id="ball-radius-inf"),
    C(lambda: HalfSpace([0.0, 0.0]), ValueError, "normal", id="normal-zero"),
    C(lambda: UniformBall([0.0], 0.0), ValueError, "radius", id="uniformball-radius-zero"),
    C(lambda: UniformBox([0.0, 1.0], [1.0, 1.0]), ValueError, "low", id="uniformbox-low-equals-high"),
    C(lambda: Gaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), ValueError, "cov", id="gaussian-cov-indefinite"),
    C(lambda: Gaussian([0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]]), ValueError, "cov", id="gaussian-cov-singular"),
    C(lambda: Gaussian([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), ValueError, "cov", id="gaussian-cov-not-symmetric"),
    C(lambda: UniformBall([0.0], 1.0).sample(-1, seed=0), ValueError, "n", id="sample-n-negative"),
    C(lambda: UniformBall([0.0], 1.0).sample(2.0, seed=0), TypeError, "n", id="sample-n-float"),
    C(lambda: UniformBall([0.0], 1.0).sample(2, seed=-1), ValueError, "seed", id="sample-seed-negative"),
    C(lambda: UniformBall([0.0], 1.0).sample(2, seed=2**64), ValueError, "seed", id="sample-seed-too-big"),
    C(lambda: UniformBall([0.0], 1.0).sample(2, seed=0, first=-1), ValueError, "first", id="sample-first-negative"),
    # simulate's run options
    C(lambda: run(n_paths=0), ValueError, "n_paths", id="n_paths-zero"),
    C(lambda: run(n_paths=-5), ValueError, "n_paths", id="n_paths-negative"),
    C(lambda: run(n_paths=1.5), TypeError, "n_paths", id="n_paths-float"),
    C(lambda: run(n_paths=10.0), TypeError, "n_paths", id="n_paths-integral-float"),
    C(lambda: run(n_paths=True), TypeError, "n_paths", id="n_paths-bool"),
    C(lambda: run(n_paths="10"), TypeError, "n_paths", id="n_paths-string"),
    C(lambda: run(n_paths=None), ValueError, "n_paths", id="n_paths-missing"),
    C(lambda: run(x0=np.full((3, 1), -1.0), n_paths=4), ValueError, "n_paths", id="n_paths-above-rows"),
    C(lambda: run(seed=-1), ValueError, "seed", id="seed-negative"),
    C(lambda: run(seed=2**64), ValueError, "seed", id="seed-2**64"),
    C(lambda: run(seed=1.0), TypeError, "seed", id="seed-float"),
    C(lambda: run(seed=True), TypeError, "seed", id="seed-bool"),
    C(lambda: run(threads=0), ValueError, "threads", id="threads-zero"),
    C(lambda: run(threads=-1), ValueError, "threads", id="threads-negative"),
    C(lambda: run(threads=1.0), TypeError, "threads", id="threads-float"),
    C(lambda: run(lanes=0), ValueError, "lanes", id="lanes-zero"),
    C(lambda: run(lanes=4097), ValueError, "lanes", id="lanes-too-many"),
    C(lambda: run(t_max=None), ValueError, "t_max", id="t_max-and-max_steps-missing"),
    C(lambda: run(t_max=0.0), ValueError, "t_max", id="t_max-zero"),
    C(lambda: run(t_max=-1.0), ValueError, "t_max", id="t_max-negative"),
    C(lambda: run(t_max=1e300), ValueError, "t_max", id="t_max-too-many-steps"),
    C(lambda: run(t_max=None, max_steps=0), ValueError, "max_steps", id="max_steps-zero"),
    C(lambda: run(t_max=None, max_steps=2**48), ValueError, "max_steps", id="max_steps-too-big"),
    C(lambda: run(t_max=None, max_steps=10.0), TypeError, "max_steps", id="max_steps-float"),
    C(lambda: run(divergence_bound=0.0), ValueError, "divergence_bound", id="divergence_bound-zero"),
    C(lambda: run(divergence_bound=-1.0), ValueError, "divergence_bound", id="divergence_bound-negative"),
    C(lambda: run(record_paths=-1), ValueError, "record_paths", id="record_paths-negative"),
    C(lambda: run(record_every=0), ValueError, "record_every", id="record_every-zero"),
    C(lambda: run(bridge=1), TypeError, "bridge", id="bridge-int"),
    C(lambda: run(bridge="yes"), TypeError, "bridge", id="bridge-string"),
    C(lambda: run(foo=1), TypeError, "foo", id="unknown-keyword"),
    C(lambda: run(landscape="DoubleWell"), TypeError, "landscape", id="landscape-string"),
    C(lambda: run(landscape=_core.DoubleWell(dim=1)), TypeError, "landscape", id="landscape-core-object"),
    C(lambda: run(dynamics="Langevin"), TypeError, "dynamics", id="dynamics-string"),
    C(lambda: run(stop="x < 0"), TypeError, "stop", id="stop-string"),
    C(lambda: run(target=UniformBall([0.0], 1.0)), TypeError, "target", id="target-not-a-region"),
    C(lambda: simulate(DoubleWell(), Langevin(0.1, dt=0.01), [-1.0], n_paths=1, t_max=1.0), TypeError, "positional",
      id="x0-positional"),
]


@pytest.mark.parametrize(("call", "exc", "name"), PUBLIC)
def test_public_api_rejects(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert name in str(info.value), f"message does not name {name!r}: {info.value}"


def test_wrong_sampler_dimension_message_states_the_sampler_dimension():
    with pytest.raises(ValueError) as info:
        run(x0=UniformBall([0.0, 0.0], 1.0))
    message = str(info.value)
    assert "x0" in message and "2-D" in message, message


@pytest.mark.parametrize(("override", "exc", "match"), [
    ({"threads": 10**6}, ValueError, "threads"),
    ({"n_paths": 2**64}, ValueError, "n_paths"),
    ({"record_every": 2**70}, ValueError, "record_every"),
    ({"record_paths": 2**70}, ValueError, "record_paths"),
])
def test_out_of_range_integers(override, exc, match):
    args = dict(n_paths=10, seed=0, **W1_EXIT)
    args.update(override)
    with pytest.raises(exc, match=match):
        simulate(DoubleWell(), Langevin(temperature=0.1, dt=1e-2), **args)


# ---------------------------------------------------------------------------------------------------------------
# The compiled constructors and entry points validate on their own


def v(*values):
    return np.array(values, dtype=np.float64)


def core_run(**overrides):
    args = dict(
        landscape=_core.DoubleWell(dim=1),
        dynamics=_core.Langevin(temperature=0.1, dt=0.01),
        start=_core.FixedStart(v(-1.0)),
        stop=None,
        target=None,
        n_paths=4,
        max_steps=10,
        seed=0,
    )
    args.update(overrides)
    return _core.run(**args)


CORE = [
    C(lambda: _core.DoubleWell(dim=0), "dim", id="DoubleWell-dim-zero"),
    C(lambda: _core.DoubleWell(dim=-3), "dim", id="DoubleWell-dim-negative"),
    C(lambda: _core.Quadratic(H=np.ones((2, 3)), center=np.zeros(2)), "H", id="Quadratic-H-not-square"),
    C(lambda: _core.Quadratic(H=np.zeros((0, 0)), center=np.zeros(0)), "H", id="Quadratic-H-empty"),
    C(lambda: _core.Quadratic(H=v(1.0, 2.0), center=np.zeros(2)), "H", id="Quadratic-H-1d"),
    C(lambda: _core.Quadratic(H=np.array([[1.0, 2.0], [0.0, 1.0]]), center=np.zeros(2)), "H",
      id="Quadratic-H-not-symmetric"),
    C(lambda: _core.Quadratic(H=np.array([[NAN]]), center=np.zeros(1)), "H", id="Quadratic-H-nan"),
    C(lambda: _core.Quadratic(H=np.eye(2), center=np.zeros(3)), "center", id="Quadratic-center-length"),
    C(lambda: _core.Quadratic(H=np.eye(1), center=v(INF)), "center", id="Quadratic-center-inf"),
    C(lambda: _core.Langevin(temperature=-1.0, dt=0.1), "temperature", id="Langevin-temperature-negative"),
    C(lambda: _core.Langevin(temperature=NAN, dt=0.1), "temperature", id="Langevin-temperature-nan"),
    C(lambda: _core.Langevin(temperature=1.0, dt=0.0), "dt", id="Langevin-dt-zero"),
    C(lambda: _core.Langevin(temperature=1.0, dt=INF), "dt", id="Langevin-dt-inf"),
    C(lambda: _core.Langevin(S=np.eye(2), eps=-1.0, dt=0.1), "eps", id="Langevin-eps-negative"),
    C(lambda: _core.Langevin(S=np.zeros((0, 2)), eps=1.0, dt=0.1), "S", id="Langevin-S-empty"),
    C(lambda: _core.Langevin(S=np.full((2, 2), NAN), eps=1.0, dt=0.1), "S", id="Langevin-S-nan"),
    C(lambda: _core.Langevin(S=v(1.0, 2.0), eps=1.0, dt=0.1), "S", id="Langevin-S-1d"),
    C(lambda: _core.Langevin(S=np.eye(2), eps=1.0, dt=-1.0), "dt", id="Langevin-S-dt-negative"),
    C(lambda: _core.HalfSpace(normal=v(0.0, 0.0), offset=0.0), "normal", id="HalfSpace-normal-zero"),
    C(lambda: _core.HalfSpace(normal=np.zeros(0), offset=0.0), "normal", id="HalfSpace-normal-empty"),
    C(lambda: _core.HalfSpace(normal=v(NAN), offset=0.0), "normal", id="HalfSpace-normal-nan"),
    C(lambda: _core.HalfSpace(normal=v(1.0), offset=INF), "offset", id="HalfSpace-offset-inf"),
    C(lambda: _core.Ball(center=v(0.0), radius=0.0), "radius", id="Ball-radius-zero"),
    C(lambda: _core.Ball(center=v(0.0), radius=NAN), "radius", id="Ball-radius-nan"),
    C(lambda: _core.Ball(center=v(NAN), radius=1.0), "center", id="Ball-center-nan"),
    C(lambda: _core.Ball(center=np.zeros(0), radius=1.0), "center", id="Ball-center-empty"),
    C(lambda: _core.Box(low=v(1.0), high=v(0.0)), "low", id="Box-low-above-high"),
    C(lambda: _core.Box(low=v(1.0), high=v(2.0, 3.0)), "high", id="Box-lengths-differ"),
    C(lambda: _core.Box(low=v(NAN), high=v(1.0)), "low", id="Box-nan"),
    C(lambda: _core.Box(low=np.zeros(0), high=np.zeros(0)), "low", id="Box-empty"),
    C(lambda: _core.FixedStart(v(NAN)), "x0", id="FixedStart-nan"),
    C(lambda: _core.FixedStart(np.zeros(0)), "x0", id="FixedStart-empty"),
    C(lambda: _core.PointsStart(np.zeros(3)), "x0", id="PointsStart-1d"),
    C(lambda: _core.PointsStart(np.zeros((0, 2))), "x0", id="PointsStart-empty"),
    C(lambda: _core.PointsStart(np.array([[0.0, INF]])), "x0", id="PointsStart-inf"),
    C(lambda: _core.UniformBoxStart(low=np.zeros(2), high=np.zeros(2)), "low", id="UniformBoxStart-empty-box"),
    C(lambda: _core.UniformBoxStart(low=np.zeros(2), high=np.ones(3)), "high", id="UniformBoxStart-lengths"),
    C(lambda: _core.UniformBoxStart(low=np.zeros(1), high=v(INF)), "high", id="UniformBoxStart-inf"),
    C(lambda: _core.UniformBallStart(center=np.zeros(2), radius=0.0), "radius", id="UniformBallStart-radius"),
    C(lambda: _core.UniformBallStart(center=v(NAN), radius=1.0), "center", id="UniformBallStart-center-nan"),
    C(lambda: _core.GaussianStart(mean=np.zeros(2), cov=np.array([[1.0, 2.0], [2.0, 1.0]])), "cov",
      id="GaussianStart-indefinite"),
    C(lambda: _core.GaussianStart(mean=np.zeros(2), cov=np.eye(3)), "cov", id="GaussianStart-size"),
    C(lambda: _core.GaussianStart(mean=np.zeros(2), cov=np.array([[1.0, 0.5], [0.0, 1.0]])), "cov",
      id="GaussianStart-not-symmetric"),
    C(lambda: _core.GaussianStart(mean=v(NAN), cov=np.eye(1)), "mean", id="GaussianStart-mean-nan"),
    C(lambda: _core.step_draws(0, np.arange(3, dtype=np.uint64), 0, 0), "k", id="step_draws-k-zero"),
    C(lambda: _core.step_draws(0, np.zeros((2, 2), dtype=np.uint64), 0, 1), "paths", id="step_draws-paths-2d"),
    C(lambda: _core.crossing_draws(0, np.zeros((2, 2), dtype=np.uint64), 0), "paths", id="crossing_draws-paths-2d"),
    C(lambda: core_run(n_paths=0), "n_paths", id="run-n_paths-zero"),
    C(lambda: core_run(n_paths=-1), "n_paths", id="run-n_paths-negative"),
    C(lambda: core_run(max_steps=0), "max_steps", id="run-max_steps-zero"),
    C(lambda: core_run(max_steps=2**48), "max_steps", id="run-max_steps-too-big"),
    C(lambda: core_run(lanes=0), "lanes", id="run-lanes-zero"),
    C(lambda: core_run(lanes=5000), "lanes", id="run-lanes-too-many"),
    C(lambda: core_run(divergence_bound=0.0), "divergence_bound", id="run-divergence_bound-zero"),
    C(lambda: core_run(divergence_bound=NAN), "divergence_bound", id="run-divergence_bound-nan"),
    C(lambda: core_run(record_paths=-1), "record_paths", id="run-record_paths-negative"),
    C(lambda: core_run(record_every=0), "record_every", id="run-record_every-zero"),
    C(lambda: core_run(first_path=-1), "first_path", id="run-first_path-negative"),
    C(lambda: core_run(landscape=_core.DoubleWell(dim=2)), "x0", id="run-start-dim"),
    C(lambda: core_run(stop=_core.Ball(center=np.zeros(2), radius=1.0)), "stop", id="run-stop-dim"),
    C(lambda: core_run(target=_core.Ball(center=np.zeros(2), radius=1.0)), "target", id="run-target-dim"),
    C(lambda: core_run(landscape=_core.DoubleWell(dim=2), start=_core.FixedStart(np.zeros(2)),
                       dynamics=_core.Langevin(S=np.eye(3), eps=1.0, dt=0.1)), "S", id="run-S-rows"),
    C(lambda: core_run(start=_core.PointsStart(np.zeros((2, 1)))), "n_paths", id="run-n_paths-above-points"),
    C(lambda: core_run(start=_core.PointsStart(np.zeros((4, 1))), first_path=1), "n_paths",
      id="run-first_path-plus-n_paths-above-points"),
]


@pytest.mark.parametrize(("call", "name"), CORE)
def test_core_rejects_with_value_error(call, name):
    with pytest.raises(ValueError) as info:
        call()
    assert name in str(info.value), f"message does not name {name!r}: {info.value}"


@pytest.mark.parametrize(
    "call",
    [
        C(lambda: core_run(seed=-1), id="run-seed-negative"),
        C(lambda: core_run(seed=2**64), id="run-seed-too-big"),
        C(lambda: core_run(n_paths=1.5), id="run-n_paths-float"),
        C(lambda: core_run(landscape="DoubleWell"), id="run-landscape-string"),
        C(lambda: _core.Langevin(temperature="hot", dt=0.1), id="Langevin-string"),
        C(lambda: _core.step_draws(-1, np.arange(3, dtype=np.uint64), 0, 1), id="step_draws-seed-negative"),
        C(lambda: _core.philox4x32_10([0, 0, 0], [0, 0]), id="philox-short-counter"),
        C(lambda: _core.philox4x32_10([0, 0, 0, 2**32], [0, 0]), id="philox-word-too-big"),
    ],
)
def test_core_rejects_wrong_types_with_type_error(call):
    with pytest.raises(TypeError):
        call()


def test_valid_run_after_rejections():
    # The catalog above leaves nothing behind: a normal run still works and is reproducible.
    a = run(n_paths=50, seed=3)
    b = run(n_paths=50, seed=3)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    assert a.n_paths == 50 and escapade.Status.EXITED.name in a.summary().counts


# ---------------------------------------------------------------------------------------------------------------
# Inputs that were once accepted silently or answered unclearly


UNCLEAR = [
    C(lambda: run(x0=[-1.0 + 1j]), TypeError, "x0", id="x0-complex"),
    C(lambda: Quadratic(np.eye(2) * (1 + 0j)), TypeError, "H", id="H-complex"),
    C(lambda: Langevin(eps=0.3, S=np.eye(1) * (1 + 1j), dt=1e-3), TypeError, "S", id="S-complex"),
    C(lambda: HalfSpace(np.array([1.0 + 2j])), TypeError, "normal", id="normal-complex"),
    C(lambda: run(progress="yes"), TypeError, "progress", id="progress-yes"),
    C(lambda: run(progress="no"), TypeError, "progress", id="progress-no"),
    C(lambda: run(progress=1), TypeError, "progress", id="progress-int"),
    C(lambda: run(keep=np.array(["paths"])), ValueError, "keep", id="keep-array"),
    C(lambda: run(keep=["summary"]), ValueError, "keep", id="keep-list"),
    C(lambda: run(store=5), TypeError, "store", id="store-int"),
    C(lambda: DoubleWell(2**31), ValueError, "dim", id="DoubleWell-dim-overflow"),
    C(lambda: escapade.Octopus(2**40), ValueError, "dim", id="Octopus-dim-overflow"),
    C(lambda: escapade.StyblinskiTangSum.random(2**31, 1, seed=0), ValueError, "dim", id="StyblinskiTang-dim-overflow"),
    C(lambda: run(seed=np.random.default_rng(0)), TypeError, "seed", id="seed-Generator"),
    C(lambda: run(seed=np.random.SeedSequence(0)), TypeError, "seed", id="seed-SeedSequence"),
    C(lambda: run(seed=np.random.RandomState(0)), TypeError, "seed", id="seed-RandomState"),
    C(lambda: run(threads=-1), ValueError, "threads", id="threads-minus-one"),
    C(lambda: run(threads=0), ValueError, "threads", id="threads-zero"),
    C(lambda: run(n_paths=5).count("FOO"), ValueError, "status", id="count-unknown-name"),
    C(lambda: run(n_paths=5, keep="summary").count(9), ValueError, "status", id="count-unknown-code"),
]


@pytest.mark.parametrize(("call", "exc", "name"), UNCLEAR)
def test_unclear_inputs_are_refused(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert name in str(info.value), f"message does not name {name!r}: {info.value}"


def test_store_that_is_a_file_is_refused(tmp_path):
    file = tmp_path / "not-a-directory"
    file.write_text("")
    with pytest.raises(ValueError, match="store must be a directory.*not-a-directory"):
        run(store=file)
    with pytest.raises(ValueError, match="store must be a directory"):
        escapade.sweep(DoubleWell(), Langevin(temperature=0.1, dt=0.01), x0=[-1.0], stop=HalfSpace([1.0]),
                       n_paths=5, t_max=1.0, seed=0, grid={"dynamics.dt": [0.01]}, store=str(file))


def test_seed_messages_say_to_pass_an_int_and_threads_none_uses_all_cores():
    with pytest.raises(TypeError, match=r"Generator.*pass an int, e\.g\. seed=int\(rng\.integers\(2\*\*63\)\)"):
        run(seed=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"threads must be >= 1, got -1 \(threads=None uses all cores\)"):
        run(threads=-1)


def test_progress_takes_booleans():
    for progress in (True, False, None, np.bool_(False)):
        assert run(n_paths=3, progress=progress).n_paths == 3


def test_non_finite_rows_of_a_large_x0_are_counted_not_listed():
    # One NaN among 10^6 rows built a 7 MB message; now the count and the first few entries.
    x0 = np.full((10**6, 1), -1.0)
    x0[[7, 500_000], 0] = [np.inf, np.nan]
    with pytest.raises(ValueError) as info:
        run(x0=x0, n_paths=None)
    message = str(info.value)
    assert len(message) < 300, message
    assert "x0 must be finite" in message and "2 NaN or inf entries in 2 of its 1000000 rows" in message
    assert "x0[7, 0] = inf" in message and "x0[500000, 0] = nan" in message
    with pytest.raises(ValueError, match=r"x0 must be finite, got \[\[-1.0\], \[nan\]\]"):  # small: in full
        run(x0=[[-1.0], [np.nan]], n_paths=None)


def test_extreme_values_refused_or_kept_exact():
    """Values whose derived quantities would overflow: refused naming the argument, or handled without overflow."""
    with pytest.raises(ValueError, match="eps must be below 1e154"):
        escapade.Langevin(eps=1e200, dt=1.0)
    with pytest.raises(ValueError, match="dt=1e[+]308 times the step cap 10 is not a finite time"):
        simulate(DoubleWell(), Langevin(0.1, dt=1e308), x0=[0.0], max_steps=10, n_paths=2, seed=0)
    H = np.diag([1.7e308, 1.0])  # (H + H^T) / 2 would overflow; the symmetrized matrix is H itself
    assert np.array_equal(Quadratic(H).H, H)


def test_result_paths_are_file_paths(tmp_path):
    """An int is a file descriptor to open() and numpy: save and load refuse it instead of writing there."""
    res = simulate(DoubleWell(), Langevin(0.1, dt=0.1), x0=[0.0], max_steps=10, n_paths=2, seed=0)
    with pytest.raises(TypeError, match="path must be a file path .* got 123"):
        res.save(123)
    with pytest.raises(TypeError, match="path must be a file path .* got 123"):
        escapade.load(123)
    res.save(tmp_path / "r.npz")
    assert escapade.load(str(tmp_path / "r.npz")).n_paths == 2



@pytest.mark.parametrize("make", [
    lambda: escapade.Ball(center=["1e3"], radius=1.0),
    lambda: escapade.Quadratic([["2", "0"], ["0", "1"]]),
    lambda: escapade.Box(np.array([1], dtype="timedelta64[s]"), np.array([2], dtype="timedelta64[s]")),
    lambda: escapade.simulate(escapade.DoubleWell(), escapade.Langevin(0.1, dt=0.01), x0=np.array(["2020-01-01"], dtype="datetime64[D]"),
                         stop=escapade.HalfSpace([1.0], 0.0), n_paths=3, t_max=1.0, seed=0),
    lambda: escapade.simulate(escapade.DoubleWell(), escapade.Langevin(0.1, dt=0.01), x0=[True], stop=escapade.HalfSpace([1.0], 0.0),
                         n_paths=3, t_max=1.0, seed=0),
])
def test_arrays_of_strings_dates_or_bools_are_not_numbers(make):
    """numpy converts them to floats without complaint (a date to its day number, True to 1): refused instead."""
    with pytest.raises(TypeError, match="must be an array of real numbers"):
        make()


def test_a_masked_entry_is_refused_and_an_unmasked_masked_array_is_its_data():
    """numpy converts a masked array to its data, the values under the mask included: x0 = [-1.0, masked] ran from
    (-1.0, 0.5). Refused, naming the argument; with nothing masked the run is the plain array's, bit for bit."""
    run = dict(stop=escapade.Ball([0.0, 0.0], 2.0), n_paths=20, t_max=1.0, seed=3)
    land, dyn = escapade.Quadratic(np.eye(2)), Langevin(0.1, dt=0.01)
    with pytest.raises(TypeError, match=r"^x0 must not be a masked array with masked entries, got 1 of 2 entries "
                                        r"masked: \[-1.0, None\]"):
        simulate(land, dyn, x0=np.ma.masked_array([-1.0, 0.5], mask=[False, True]), **run)
    with pytest.raises(TypeError, match="^center must not be a masked array"):
        escapade.Ball(np.ma.masked_array([0.0, 0.0], mask=True), 1.0)
    plain = simulate(land, dyn, x0=[-1.0, 0.5], **run)
    unmasked = simulate(land, dyn, x0=np.ma.masked_array([-1.0, 0.5], mask=[False, False]), **run)
    assert np.array_equal(plain.exit_time, unmasked.exit_time, equal_nan=True)
    assert np.array_equal(plain.exit_position, unmasked.exit_position, equal_nan=True)
