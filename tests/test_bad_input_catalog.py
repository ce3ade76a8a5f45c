"""The bad-input catalog: one row per bad call, each asserting the exception type and that the message names the
offending argument (a substring or a regular expression). It extends tests/test_bad_input.py across the public
surface: landscapes, dynamics, regions, starts, forcing and constraints, simulate and sweep run options, the
analysis functions, configuration tables and the result objects. Every row builds its call lazily; none runs
more than a few paths."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

import escapade as esc
from escapade import analysis
from escapade.config import ConfigError, parse_config

NAN, INF = float("nan"), float("inf")
C = pytest.param  # C(callable, exception type, pattern naming the argument, id=...)


def sim(**overrides):
    """simulate() on a 1-D double well, a few paths, with some arguments replaced or added."""
    args = dict(landscape=esc.DoubleWell(), dynamics=esc.Langevin(temperature=0.2, dt=0.01), x0=[-1.0],
                stop=esc.HalfSpace([1.0], 0.0), n_paths=4, t_max=0.5, seed=0)
    args.update(overrides)
    return esc.simulate(args.pop("landscape"), args.pop("dynamics"), **args)


def sim_map(dynamics, **overrides):
    """simulate() of an optimizer map on a 2-D quadratic."""
    args = dict(landscape=esc.Quadratic(np.diag([1.0, 2.0])), dynamics=dynamics, x0=[0.1, 0.1],
                stop=esc.Ball([0.0, 0.0], 1.0), n_paths=2, max_steps=5, seed=0)
    args.update(overrides)
    return esc.simulate(args.pop("landscape"), args.pop("dynamics"), **args)


def sw(**overrides):
    """sweep() over two temperatures of the 1-D double well."""
    args = dict(grid={"dynamics.temperature": [0.2, 0.3]}, x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), n_paths=2,
                t_max=0.2, seed=0)
    args.update(overrides)
    return esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.2, dt=0.01), **args)


BASE = {
    "landscape": {"type": "DoubleWell"},
    "dynamics": {"type": "Langevin", "temperature": 0.25, "dt": 0.01},
    "stop": {"type": "HalfSpace", "normal": [1.0], "offset": 0.0},
    "start": {"x0": [-1.0]},
    "run": {"n_paths": 4, "t_max": 1.0, "seed": 3},
}


def cfg(**tables):
    """parse_config() of the base experiment with some tables replaced (None removes a table)."""
    data = {k: dict(v) for k, v in BASE.items()}
    for name, table in tables.items():
        if table is None:
            data.pop(name)
        else:
            data[name] = table
    return parse_config(data)


def cfg_with(table, **values):
    """parse_config() with some keys of one table replaced or added."""
    return cfg(**{table: {**BASE[table], **values}})


@functools.lru_cache(maxsize=None)
def result(keep="paths"):
    return sim(n_paths=8, keep=keep)


@functools.lru_cache(maxsize=None)
def sweep_result():
    return sw()


def st(n=1):
    return esc.StrictSaddle([1.0, -1.0])


SQ = dict(Q=np.array([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]]]))

CATALOG = [
    # ---- landscapes ------------------------------------------------------------------------------------------
    C(lambda: esc.DoubleWell(-1), ValueError, "dim", id="DoubleWell-dim-negative"),
    C(lambda: esc.DoubleWell("2"), TypeError, "dim", id="DoubleWell-dim-string"),
    C(lambda: esc.DoubleWell(None), TypeError, "dim", id="DoubleWell-dim-none"),
    C(lambda: esc.DoubleWell(True), TypeError, "dim", id="DoubleWell-dim-bool"),
    C(lambda: esc.DoubleWell([1]), TypeError, "dim", id="DoubleWell-dim-list"),
    C(lambda: esc.DoubleWell(2.0), TypeError, "dim", id="DoubleWell-dim-integral-float"),
    C(lambda: esc.DoubleWell(NAN), TypeError, "dim", id="DoubleWell-dim-nan"),
    C(lambda: esc.Quadratic("H"), TypeError, "H", id="Quadratic-H-string"),
    C(lambda: esc.Quadratic(None), ValueError, "H", id="Quadratic-H-none"),
    C(lambda: esc.Quadratic(1.0), ValueError, "H", id="Quadratic-H-scalar"),
    C(lambda: esc.Quadratic(np.ones((2, 2, 2))), ValueError, "H", id="Quadratic-H-3d"),
    C(lambda: esc.Quadratic([[NAN, 0.0], [0.0, 1.0]]), ValueError, "H", id="Quadratic-H-nan-diagonal"),
    C(lambda: esc.Quadratic([[-INF]]), ValueError, "H", id="Quadratic-H-minus-inf"),
    C(lambda: esc.Quadratic(np.eye(2), center=[INF, 0.0]), ValueError, "center", id="Quadratic-center-inf"),
    C(lambda: esc.Quadratic(np.eye(2), center=[[0.0, 0.0]]), ValueError, "center", id="Quadratic-center-2d"),
    C(lambda: esc.Quadratic(np.eye(2), center="ab"), TypeError, "center", id="Quadratic-center-string"),
    C(lambda: esc.Quadratic(np.eye(2), center=[]), ValueError, "center", id="Quadratic-center-empty"),
    C(lambda: esc.StrictSaddle([]), ValueError, "eigenvalues", id="StrictSaddle-empty"),
    C(lambda: esc.StrictSaddle([1.0, NAN]), ValueError, "eigenvalues", id="StrictSaddle-nan"),
    C(lambda: esc.StrictSaddle([1.0, INF]), ValueError, "eigenvalues", id="StrictSaddle-inf"),
    C(lambda: esc.StrictSaddle([[1.0, -1.0]]), ValueError, "eigenvalues", id="StrictSaddle-2d"),
    C(lambda: esc.StrictSaddle("ab"), TypeError, "eigenvalues", id="StrictSaddle-string"),
    C(lambda: esc.StrictSaddle([1.0, -1.0], quartic=NAN), ValueError, "quartic", id="StrictSaddle-quartic-nan"),
    C(lambda: esc.StrictSaddle([1.0, -1.0], quartic=INF), ValueError, "quartic", id="StrictSaddle-quartic-inf"),
    C(lambda: esc.StrictSaddle([1.0, -1.0], quartic="1"), TypeError, "quartic", id="StrictSaddle-quartic-string"),
    C(lambda: esc.StrictSaddle([1.0, -1.0], quartic=-1.0), ValueError, "quartic", id="StrictSaddle-quartic-neg"),
    C(lambda: esc.Ackley(dim=0), ValueError, "dim", id="Ackley-dim-zero"),
    C(lambda: esc.Ackley(dim=1.5), TypeError, "dim", id="Ackley-dim-float"),
    C(lambda: esc.Ackley(a=NAN), ValueError, "a", id="Ackley-a-nan"),
    C(lambda: esc.Ackley(d=INF), ValueError, "d", id="Ackley-d-inf"),
    C(lambda: esc.Ackley(c=NAN), ValueError, "c", id="Ackley-c-nan"),
    C(lambda: esc.Ackley(a="20"), TypeError, "a", id="Ackley-a-string"),
    C(lambda: esc.Octopus(0), ValueError, "dim", id="Octopus-dim-zero"),
    C(lambda: esc.Octopus(2.5), TypeError, "dim", id="Octopus-dim-float"),
    C(lambda: esc.Octopus(2, L=NAN), ValueError, "L", id="Octopus-L-nan"),
    C(lambda: esc.Octopus(2, gamma=INF), ValueError, "gamma", id="Octopus-gamma-inf"),
    C(lambda: esc.Octopus(2, tau=NAN), ValueError, "tau", id="Octopus-tau-nan"),
    C(lambda: esc.LeastSquares(np.ones((3, 2)), np.ones(4)), ValueError, "y", id="LeastSquares-y-length"),
    C(lambda: esc.LeastSquares(np.ones(3), np.ones(3)), ValueError, "X", id="LeastSquares-X-1d"),
    C(lambda: esc.LeastSquares(np.full((3, 2), NAN), np.ones(3)), ValueError, "X", id="LeastSquares-X-nan"),
    C(lambda: esc.LeastSquares(np.ones((3, 2)), [1.0, INF, 0.0]), ValueError, "y", id="LeastSquares-y-inf"),
    C(lambda: esc.LeastSquares(np.ones((3, 2)), np.ones(3), l2=-1.0), ValueError, "l2", id="LeastSquares-l2-neg"),
    C(lambda: esc.LeastSquares(np.ones((3, 2)), np.ones(3), l2=NAN), ValueError, "l2", id="LeastSquares-l2-nan"),
    C(lambda: esc.LeastSquares(np.zeros((0, 2)), np.zeros(0)), ValueError, "X", id="LeastSquares-X-empty"),
    C(lambda: esc.MLP(np.ones((3, 2)), np.ones(3), 0), ValueError, "hidden", id="MLP-hidden-zero"),
    C(lambda: esc.MLP(np.ones((3, 2)), np.ones(3), 1.5), TypeError, "hidden", id="MLP-hidden-float"),
    C(lambda: esc.MLP(np.ones((3, 2)), np.ones(4), 2), ValueError, "y", id="MLP-y-length"),
    C(lambda: esc.MLP(np.full((3, 2), INF), np.ones(3), 2), ValueError, "X", id="MLP-X-inf"),
    C(lambda: esc.MLP(np.ones((3, 2)), np.ones(3), 2, l2=NAN), ValueError, "l2", id="MLP-l2-nan"),
    C(lambda: esc.StochasticQuadratic(np.ones(3)), ValueError, "Q", id="StochasticQuadratic-Q-1d"),
    C(lambda: esc.StochasticQuadratic(np.full((2, 2, 2), NAN)), ValueError, "Q", id="StochasticQuadratic-Q-nan"),
    C(lambda: esc.StochasticQuadratic(SQ["Q"], p=[0.5, 0.6]), ValueError, "p", id="StochasticQuadratic-p-sum"),
    C(lambda: esc.StochasticQuadratic(SQ["Q"], p=[1.5, -0.5]), ValueError, "p", id="StochasticQuadratic-p-neg"),
    C(lambda: esc.StochasticQuadratic(SQ["Q"], p=[1.0]), ValueError, "p", id="StochasticQuadratic-p-length"),
    C(lambda: esc.StochasticQuadratic(SQ["Q"], r=np.ones((3, 2))), ValueError, "r", id="StochasticQuadratic-r-rows"),
    # evaluation methods of a landscape
    C(lambda: esc.DoubleWell().gradient([1.0, 2.0]), ValueError, "x", id="gradient-wrong-length"),
    C(lambda: esc.DoubleWell().hessian([1.0, 2.0]), ValueError, "x", id="hessian-wrong-length"),
    C(lambda: esc.DoubleWell(2).value("ab"), TypeError, "x", id="value-string"),
    C(lambda: esc.Quadratic(np.eye(2)).gradient(np.zeros((2, 3))), ValueError, "x", id="gradient-rows-wrong"),
    C(lambda: esc.Quadratic(np.eye(2)).value(np.zeros((2, 2, 2))), ValueError, "x", id="value-3d"),
    # ---- dynamics ------------------------------------------------------------------------------------------
    C(lambda: esc.Langevin(0.1, dt=None), TypeError, "dt", id="Langevin-dt-none"),
    C(lambda: esc.Langevin(0.1, dt=[0.1]), TypeError, "dt", id="Langevin-dt-list"),
    C(lambda: esc.Langevin(0.1, dt=True), TypeError, "dt", id="Langevin-dt-bool"),
    C(lambda: esc.Langevin(-INF, dt=0.1), ValueError, "temperature", id="Langevin-temperature-minus-inf"),
    C(lambda: esc.Langevin(None, eps=INF, dt=0.1), ValueError, "eps", id="Langevin-eps-inf"),
    C(lambda: esc.Langevin(eps="1", dt=0.1), TypeError, "eps", id="Langevin-eps-string"),
    C(lambda: esc.Langevin(eps=1.0, S=[[INF]], dt=0.1), ValueError, "S", id="Langevin-S-inf"),
    C(lambda: esc.Langevin(eps=1.0, S="bogus", dt=0.1), ValueError, "S", id="Langevin-S-unknown-name"),
    C(lambda: esc.Langevin(eps=1.0, S=np.zeros((0, 0)), dt=0.1), ValueError, "S", id="Langevin-S-empty"),
    C(lambda: esc.Langevin(eps=1.0, S=np.ones((2, 2, 2)), dt=0.1), ValueError, "S", id="Langevin-S-3d"),
    C(lambda: esc.GD(-0.1), ValueError, "lr", id="GD-lr-negative"),
    C(lambda: esc.GD(NAN), ValueError, "lr", id="GD-lr-nan"),
    C(lambda: esc.GD(INF), ValueError, "lr", id="GD-lr-inf"),
    C(lambda: esc.GD("0.1"), TypeError, "lr", id="GD-lr-string"),
    C(lambda: esc.GD(None), TypeError, "lr", id="GD-lr-none"),
    C(lambda: esc.GD([]), ValueError, "lr", id="GD-lr-empty-schedule"),
    C(lambda: esc.GD([0.1, NAN]), ValueError, "lr", id="GD-lr-schedule-nan"),
    C(lambda: esc.GD([0.1, -0.1]), ValueError, "lr", id="GD-lr-schedule-negative"),
    C(lambda: esc.GD(0.1, schedule="bogus"), ValueError, "schedule", id="GD-schedule-unknown"),
    C(lambda: esc.GD(0.1, schedule=1), ValueError, "schedule", id="GD-schedule-int"),
    C(lambda: esc.NoisyGD(0.1, -1.0), ValueError, "noise_radius", id="NoisyGD-noise_radius-negative"),
    C(lambda: esc.NoisyGD(0.1, NAN), ValueError, "noise_radius", id="NoisyGD-noise_radius-nan"),
    C(lambda: esc.NoisyGD(0.1, INF), ValueError, "noise_radius", id="NoisyGD-noise_radius-inf"),
    C(lambda: esc.NoisyGD(0.1, "1"), TypeError, "noise_radius", id="NoisyGD-noise_radius-string"),
    C(lambda: esc.GaussianSGD(0.1, 0.0, "isotropic"), ValueError, "batch_size", id="GaussianSGD-batch-zero"),
    C(lambda: esc.GaussianSGD(0.1, -1.0, "isotropic"), ValueError, "batch_size", id="GaussianSGD-batch-neg"),
    C(lambda: esc.GaussianSGD(0.1, NAN, "isotropic"), ValueError, "batch_size", id="GaussianSGD-batch-nan"),
    C(lambda: esc.GaussianSGD(0.1, 1.0, "bogus"), ValueError, "C", id="GaussianSGD-C-unknown"),
    C(lambda: esc.GaussianSGD(0.1, 1.0, [[NAN]]), ValueError, "C", id="GaussianSGD-C-nan"),
    C(lambda: esc.GaussianSGD(0.1, 1.0, [[1.0, 2.0], [2.0, 1.0]]), ValueError, "C", id="GaussianSGD-C-indefinite"),
    C(lambda: esc.GaussianSGD(0.1, 1.0, np.ones((2, 3))), ValueError, "C", id="GaussianSGD-C-not-square"),
    C(lambda: esc.GaussianSGD(-0.1, 1.0, "isotropic"), ValueError, "lr", id="GaussianSGD-lr-negative"),
    C(lambda: esc.SGDk(0.1, 0), ValueError, "batch_size", id="SGDk-batch-zero"),
    C(lambda: esc.SGDk(0.1, 1.5), TypeError, "batch_size", id="SGDk-batch-float"),
    C(lambda: esc.SGDk(0.1, -2), ValueError, "batch_size", id="SGDk-batch-negative"),
    C(lambda: esc.SGDk(0.1, 2, replace="yes"), TypeError, "replace", id="SGDk-replace-string"),
    C(lambda: esc.SGDk(NAN, 2), ValueError, "lr", id="SGDk-lr-nan"),
    C(lambda: esc.SGLD(-1.0, 1.0), ValueError, "A", id="SGLD-A-negative"),
    C(lambda: esc.SGLD(NAN, 1.0), ValueError, "A", id="SGLD-A-nan"),
    C(lambda: esc.SGLD(1.0, INF), ValueError, "B", id="SGLD-B-inf"),
    C(lambda: esc.SGLD(1.0, 1.0, t0=NAN), ValueError, "t0", id="SGLD-t0-nan"),
    C(lambda: esc.SGLD(1.0, 1.0, batch_size=0), ValueError, "batch_size", id="SGLD-batch-zero"),
    C(lambda: esc.StableSGD(0.1, 0.0), ValueError, "alpha", id="StableSGD-alpha-zero"),
    C(lambda: esc.StableSGD(0.1, 2.5), ValueError, "alpha", id="StableSGD-alpha-above-2"),
    C(lambda: esc.StableSGD(0.1, NAN), ValueError, "alpha", id="StableSGD-alpha-nan"),
    C(lambda: esc.StableSGD(0.1, 1.5, scale=-1.0), ValueError, "scale", id="StableSGD-scale-negative"),
    C(lambda: esc.StableSGD(0.1, 1.5, scale=INF), ValueError, "scale", id="StableSGD-scale-inf"),
    C(lambda: esc.LevyLangevin(0.0, dt=0.1), ValueError, "alpha", id="LevyLangevin-alpha-zero"),
    C(lambda: esc.LevyLangevin(3.0, dt=0.1), ValueError, "alpha", id="LevyLangevin-alpha-three"),
    C(lambda: esc.LevyLangevin(1.5, dt=0.0), ValueError, "dt", id="LevyLangevin-dt-zero"),
    C(lambda: esc.LevyLangevin(1.5, scale=NAN, dt=0.1), ValueError, "scale", id="LevyLangevin-scale-nan"),
    C(lambda: esc.HeavyBall(0.1, momentum=1.5), ValueError, "momentum", id="HeavyBall-momentum-above-one"),
    C(lambda: esc.HeavyBall(0.1, momentum=-0.5), ValueError, "momentum", id="HeavyBall-momentum-negative"),
    C(lambda: esc.HeavyBall(0.1, momentum=NAN), ValueError, "momentum", id="HeavyBall-momentum-nan"),
    C(lambda: esc.AdaGrad(delta0=-1.0), ValueError, "delta0", id="AdaGrad-delta0-negative"),
    C(lambda: esc.AdaGrad(delta0=NAN), ValueError, "delta0", id="AdaGrad-delta0-nan"),
    C(lambda: esc.AdaGrad(matrix="bogus"), ValueError, "matrix", id="AdaGrad-matrix-unknown"),
    C(lambda: esc.AdaGrad(lr=-1.0), ValueError, "lr", id="AdaGrad-lr-negative"),
    C(lambda: esc.AdaNorm(delta0=INF), ValueError, "delta0", id="AdaNorm-delta0-inf"),
    C(lambda: esc.PerturbedGD(0.1, radius=-1.0, g_thres=0.1, f_thres=0.1, t_thres=5), ValueError, "radius",
      id="PerturbedGD-radius-negative"),
    C(lambda: esc.PerturbedGD(0.1, radius=0.1, g_thres=NAN, f_thres=0.1, t_thres=5), ValueError, "g_thres",
      id="PerturbedGD-g_thres-nan"),
    C(lambda: esc.PerturbedGD(0.1, radius=0.1, g_thres=0.1, f_thres=INF, t_thres=5), ValueError, "f_thres",
      id="PerturbedGD-f_thres-inf"),
    C(lambda: esc.PerturbedGD(0.1, radius=0.1, g_thres=0.1, f_thres=0.1, t_thres=-1), ValueError, "t_thres",
      id="PerturbedGD-t_thres-negative"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.0), ValueError, "dt", id="ConstrainedFlow-dt-zero"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.1, alpha=-1.0), ValueError, "alpha",
      id="ConstrainedFlow-alpha-negative"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.1, method="bogus"), ValueError, "method",
      id="ConstrainedFlow-method-unknown"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.1, noise=-1.0), ValueError, "noise",
      id="ConstrainedFlow-noise-negative"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.1, rtol=0.0), ValueError, "rtol",
      id="ConstrainedFlow-rtol-zero"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.1, atol=NAN), ValueError, "atol",
      id="ConstrainedFlow-atol-nan"),
    C(lambda: esc.ConstrainedFlow(esc.Sphere([0.0, 0.0]), dt=0.1, max_step=0.0), ValueError, "max_step",
      id="ConstrainedFlow-max_step-zero"),
    C(lambda: esc.ConstrainedFlow("sphere", dt=0.1), TypeError, "constraint", id="ConstrainedFlow-constraint-str"),
    # ---- constraints and forcing ---------------------------------------------------------------------------------
    C(lambda: esc.Sphere([0.0, 0.0], radius=0.0), ValueError, "radius", id="Sphere-radius-zero"),
    C(lambda: esc.Sphere([0.0, 0.0], radius=NAN), ValueError, "radius", id="Sphere-radius-nan"),
    C(lambda: esc.Sphere([NAN, 0.0]), ValueError, "center", id="Sphere-center-nan"),
    C(lambda: esc.Sphere([]), ValueError, "center", id="Sphere-center-empty"),
    C(lambda: esc.Affine(np.eye(2), [0.0]), ValueError, "b", id="Affine-b-length"),
    C(lambda: esc.Affine(np.ones(2), [0.0]), ValueError, "A", id="Affine-A-1d"),
    C(lambda: esc.Affine([[NAN, 0.0]], [0.0]), ValueError, "A", id="Affine-A-nan"),
    C(lambda: esc.Parabola(0), ValueError, "dim", id="Parabola-dim-zero"),
    C(lambda: esc.Parabola(1.5), TypeError, "dim", id="Parabola-dim-float"),
    C(lambda: esc.Periodic(NAN, 1.0), ValueError, "amplitude", id="Periodic-amplitude-nan"),
    C(lambda: esc.Periodic(1.0, INF), ValueError, "omega", id="Periodic-omega-inf"),
    C(lambda: esc.Periodic(1.0, 1.0, dim=0), ValueError, "dim", id="Periodic-dim-zero"),
    C(lambda: esc.Periodic(1.0, 1.0, plane=(0, 5)), ValueError, "plane", id="Periodic-plane-out-of-range"),
    C(lambda: esc.Periodic(1.0, 1.0, plane=(0, 0)), ValueError, "plane", id="Periodic-plane-repeated"),
    C(lambda: esc.Periodic(1.0, 1.0, phase=NAN), ValueError, "phase", id="Periodic-phase-nan"),
    C(lambda: esc.BrownianForcing(1.0, horizon=0.0), ValueError, "horizon", id="BrownianForcing-horizon-zero"),
    C(lambda: esc.BrownianForcing(1.0, horizon=1.0, resolution=0.0), ValueError, "resolution",
      id="BrownianForcing-resolution-zero"),
    C(lambda: esc.RandomDirections(1.0, 0.0), ValueError, "tau", id="RandomDirections-tau-zero"),
    C(lambda: esc.RandomDirections(NAN, 1.0), ValueError, "amplitude", id="RandomDirections-amplitude-nan"),
    C(lambda: esc.TableForcing([0.0, 1.0], np.zeros((3, 2))), ValueError, "values", id="TableForcing-rows"),
    C(lambda: esc.TableForcing([1.0, 0.0], np.zeros((2, 2))), ValueError, "times", id="TableForcing-decreasing"),
    C(lambda: esc.TableForcing([0.0, NAN], np.zeros((2, 2))), ValueError, "times", id="TableForcing-times-nan"),
    C(lambda: esc.TableForcing([], np.zeros((0, 2))), ValueError, "times", id="TableForcing-empty"),
    # ---- regions ---------------------------------------------------------------------------------------------------
    C(lambda: esc.HalfSpace([]), ValueError, "normal", id="HalfSpace-normal-empty"),
    C(lambda: esc.HalfSpace([[1.0]]), ValueError, "normal", id="HalfSpace-normal-2d"),
    C(lambda: esc.HalfSpace("x"), TypeError, "normal", id="HalfSpace-normal-string"),
    C(lambda: esc.HalfSpace(None), ValueError, "normal", id="HalfSpace-normal-none"),
    C(lambda: esc.HalfSpace([INF]), ValueError, "normal", id="HalfSpace-normal-inf"),
    C(lambda: esc.HalfSpace([1.0], "0"), TypeError, "offset", id="HalfSpace-offset-string"),
    C(lambda: esc.HalfSpace([1.0], -INF), ValueError, "offset", id="HalfSpace-offset-minus-inf"),
    C(lambda: esc.HalfSpace([1.0], [0.0]), TypeError, "offset", id="HalfSpace-offset-list"),
    C(lambda: esc.Ball([0.0], NAN), ValueError, "radius", id="Ball-radius-nan"),
    C(lambda: esc.Ball([0.0], "1"), TypeError, "radius", id="Ball-radius-string"),
    C(lambda: esc.Ball([0.0], None), TypeError, "radius", id="Ball-radius-none"),
    C(lambda: esc.Ball([], 1.0), ValueError, "center", id="Ball-center-empty"),
    C(lambda: esc.Ball([[0.0]], 1.0), ValueError, "center", id="Ball-center-2d"),
    C(lambda: esc.Ball([NAN], 1.0), ValueError, "center", id="Ball-center-nan"),
    C(lambda: esc.Ball("ab", 1.0), TypeError, "center", id="Ball-center-string"),
    C(lambda: esc.Box([], []), ValueError, "low", id="Box-empty"),
    C(lambda: esc.Box([0.0], [NAN]), ValueError, "high", id="Box-high-nan"),
    C(lambda: esc.Box([[0.0]], [[1.0]]), ValueError, "low", id="Box-2d"),
    C(lambda: esc.Box("a", [1.0]), TypeError, "low", id="Box-low-string"),
    C(lambda: esc.Box([INF], [INF]), ValueError, "low", id="Box-both-inf"),
    C(lambda: esc.Box([0.0], [1.0]).contains([[0.5, 0.5]]), ValueError, "x", id="Box-contains-wrong-length"),
    C(lambda: esc.Ball([0.0, 0.0], 1.0).contains([1.0]), ValueError, "x", id="Ball-contains-wrong-length"),
    C(lambda: esc.Ball([0.0], 1.0).contains("a"), TypeError, "x", id="Ball-contains-string"),
    # ---- starts ----------------------------------------------------------------------------------------------------
    C(lambda: esc.UniformBall([0.0], NAN), ValueError, "radius", id="UniformBall-radius-nan"),
    C(lambda: esc.UniformBall([0.0], INF), ValueError, "radius", id="UniformBall-radius-inf"),
    C(lambda: esc.UniformBall([0.0], -1.0), ValueError, "radius", id="UniformBall-radius-negative"),
    C(lambda: esc.UniformBall([], 1.0), ValueError, "center", id="UniformBall-center-empty"),
    C(lambda: esc.UniformBall([INF], 1.0), ValueError, "center", id="UniformBall-center-inf"),
    C(lambda: esc.UniformBox([1.0], [0.0]), ValueError, "low", id="UniformBox-low-above-high"),
    C(lambda: esc.UniformBox([NAN], [1.0]), ValueError, "low", id="UniformBox-low-nan"),
    C(lambda: esc.UniformBox([-INF], [1.0]), ValueError, "low", id="UniformBox-low-minus-inf"),
    C(lambda: esc.UniformBox([], []), ValueError, "low", id="UniformBox-empty"),
    C(lambda: esc.Gaussian([], np.zeros((0, 0))), ValueError, "mean", id="Gaussian-empty"),
    C(lambda: esc.Gaussian([0.0], [[INF]]), ValueError, "cov", id="Gaussian-cov-inf"),
    C(lambda: esc.Gaussian([0.0], [[-1.0]]), ValueError, "cov", id="Gaussian-cov-negative"),
    C(lambda: esc.Gaussian([0.0], [1.0]), ValueError, "cov", id="Gaussian-cov-1d"),
    C(lambda: esc.Gaussian([INF], [[1.0]]), ValueError, "mean", id="Gaussian-mean-inf"),
    C(lambda: esc.Gaussian([0.0, 0.0], "eye"), TypeError, "cov", id="Gaussian-cov-string"),
    C(lambda: esc.UniformBox([0.0], [1.0]).sample(3, seed=1.5), TypeError, "seed", id="sample-seed-float"),
    C(lambda: esc.UniformBox([0.0], [1.0]).sample("3", seed=0), TypeError, "n", id="sample-n-string"),
    C(lambda: esc.Gaussian([0.0], [[1.0]]).sample(2, seed=0, first=1.5), TypeError, "first", id="sample-first-float"),
    C(lambda: esc.Gaussian([0.0], [[1.0]]).sample(2, seed=None), TypeError, "seed", id="sample-seed-none"),
    # ---- simulate: starts, regions and problem objects --------------------------------------------------------------
    C(lambda: sim(x0=[[-1.0, 0.0]]), ValueError, "x0", id="simulate-x0-points-wrong-width"),
    C(lambda: sim(x0=np.zeros((0, 1))), ValueError, "x0", id="simulate-x0-no-points"),
    C(lambda: sim(x0=[-INF]), ValueError, "x0", id="simulate-x0-minus-inf"),
    C(lambda: sim(x0=None), ValueError, "x0", id="simulate-x0-none"),
    C(lambda: sim(x0={"a": 1}), TypeError, "x0", id="simulate-x0-dict"),
    C(lambda: sim(x0=esc.Gaussian([0.0, 0.0], np.eye(2))), ValueError, "x0", id="simulate-x0-gaussian-wrong-dim"),
    C(lambda: sim(x0=esc.UniformBox([0.0, 0.0], [1.0, 1.0])), ValueError, "x0", id="simulate-x0-box-wrong-dim"),
    C(lambda: sim(stop=esc.Ball([0.0, 0.0], 1.0)), ValueError, "stop", id="simulate-stop-ball-wrong-dim"),
    C(lambda: sim(stop=esc.Box([0.0, 0.0], [1.0, 1.0])), ValueError, "stop", id="simulate-stop-box-wrong-dim"),
    C(lambda: sim(target=esc.HalfSpace([1.0, 1.0])), ValueError, "target", id="simulate-target-wrong-dim"),
    C(lambda: sim(stop=[1.0]), TypeError, "stop", id="simulate-stop-list"),
    C(lambda: sim(target="x > 0"), TypeError, "target", id="simulate-target-string"),
    C(lambda: sim(stop=esc.Gaussian([0.0], [[1.0]])), TypeError, "stop", id="simulate-stop-sampler"),
    C(lambda: sim(landscape=None), TypeError, "landscape", id="simulate-landscape-none"),
    C(lambda: sim(landscape=esc.HalfSpace([1.0])), TypeError, "landscape", id="simulate-landscape-region"),
    C(lambda: sim(dynamics=None), TypeError, "dynamics", id="simulate-dynamics-none"),
    C(lambda: sim(dynamics=esc.DoubleWell()), TypeError, "dynamics", id="simulate-dynamics-landscape"),
    C(lambda: sim(landscape=esc.DoubleWell(2), x0=[-1.0, 0.0], stop=esc.HalfSpace([1.0, 0.0]),
                  dynamics=esc.Langevin(eps=0.1, S=np.eye(3), dt=0.01)), ValueError, "S", id="simulate-S-rows"),
    C(lambda: sim_map(esc.GaussianSGD(0.1, 1.0, np.eye(3))), ValueError, "C", id="simulate-GaussianSGD-C-dim"),
    C(lambda: sim_map(esc.GD([0.1, 0.1]), max_steps=5), ValueError, "lr", id="simulate-lr-schedule-too-short"),
    # ---- simulate: run options ------------------------------------------------------------------------------------
    C(lambda: sim(n_paths=[4]), TypeError, "n_paths", id="n_paths-list"),
    C(lambda: sim(n_paths=np.float64(4)), TypeError, "n_paths", id="n_paths-numpy-float"),
    C(lambda: sim(n_paths=-(2**70)), ValueError, "n_paths", id="n_paths-huge-negative"),
    C(lambda: sim(t_max=INF), ValueError, "t_max", id="t_max-inf"),
    C(lambda: sim(t_max=-INF), ValueError, "t_max", id="t_max-minus-inf"),
    C(lambda: sim(t_max="1"), TypeError, "t_max", id="t_max-string"),
    C(lambda: sim(t_max=[1.0]), TypeError, "t_max", id="t_max-list"),
    C(lambda: sim(t_max=None, max_steps=-1), ValueError, "max_steps", id="max_steps-negative"),
    C(lambda: sim(t_max=None, max_steps="10"), TypeError, "max_steps", id="max_steps-string"),
    C(lambda: sim(t_max=None, max_steps=True), TypeError, "max_steps", id="max_steps-bool"),
    C(lambda: sim(seed="1"), TypeError, "seed", id="seed-string"),
    C(lambda: sim(seed=[1]), TypeError, "seed", id="seed-list"),
    C(lambda: sim(seed=-(2**70)), ValueError, "seed", id="seed-huge-negative"),
    C(lambda: sim(threads="2"), TypeError, "threads", id="threads-string"),
    C(lambda: sim(threads=True), TypeError, "threads", id="threads-bool"),
    C(lambda: sim(lanes=-1), ValueError, "lanes", id="lanes-negative"),
    C(lambda: sim(lanes=1.5), TypeError, "lanes", id="lanes-float"),
    C(lambda: sim(lanes="8"), TypeError, "lanes", id="lanes-string"),
    C(lambda: sim(divergence_bound="big"), TypeError, "divergence_bound", id="divergence_bound-string"),
    C(lambda: sim(divergence_bound=None), TypeError, "divergence_bound", id="divergence_bound-none"),
    C(lambda: sim(record_paths=1.5), TypeError, "record_paths", id="record_paths-float"),
    C(lambda: sim(record_paths="2"), TypeError, "record_paths", id="record_paths-string"),
    C(lambda: sim(record_every=-1), ValueError, "record_every", id="record_every-negative"),
    C(lambda: sim(record_every=0.5), TypeError, "record_every", id="record_every-float"),
    C(lambda: sim(bridge=None), TypeError, "bridge", id="bridge-none"),
    C(lambda: sim(bridge=0.0), TypeError, "bridge", id="bridge-float"),
    C(lambda: sim(keep="everything"), ValueError, "keep", id="keep-unknown"),
    C(lambda: sim(keep=None), (TypeError, ValueError), "keep", id="keep-none"),
    C(lambda: sim(keep=1), (TypeError, ValueError), "keep", id="keep-int"),
    C(lambda: sim(chunk_size=0), ValueError, "chunk_size", id="chunk_size-zero"),
    C(lambda: sim(chunk_size=-3), ValueError, "chunk_size", id="chunk_size-negative"),
    C(lambda: sim(chunk_size=2.5), TypeError, "chunk_size", id="chunk_size-float"),
    C(lambda: sim(chunk_size="2"), TypeError, "chunk_size", id="chunk_size-string"),
    C(lambda: sim(client="localhost"), TypeError, "client", id="client-string"),
    C(lambda: sim(paths=4), TypeError, "paths", id="simulate-unknown-keyword-paths"),
    C(lambda: sim(temperature=0.1), TypeError, "temperature", id="simulate-unknown-keyword-temperature"),
    # ---- sweep -----------------------------------------------------------------------------------------------------
    C(lambda: sw(grid={}), ValueError, "grid", id="sweep-grid-empty"),
    C(lambda: sw(grid=[("dynamics.temperature", [0.1])]), ValueError, "grid", id="sweep-grid-list"),
    C(lambda: sw(grid={"dynamics.temperature": []}), ValueError, "temperature", id="sweep-grid-values-empty"),
    C(lambda: sw(grid={"dynamics.temperature": 0.1}), ValueError, "temperature", id="sweep-grid-values-scalar"),
    C(lambda: sw(grid={"dynamics.bogus": [0.1]}), (TypeError, ValueError), "bogus", id="sweep-grid-unknown-field"),
    C(lambda: sw(grid={"bogus": [1]}), (TypeError, ValueError), "bogus", id="sweep-grid-unknown-name"),
    C(lambda: sw(grid={"dynamics.temperature": [-0.1]}), ValueError, "temperature", id="sweep-grid-bad-value"),
    C(lambda: sw(grid={"n_paths": [0]}), ValueError, "n_paths", id="sweep-grid-n_paths-zero"),
    C(lambda: sw(grid={"dynamics.temperature": [0.1]}, seeds="bogus"), ValueError, "seeds", id="sweep-seeds-unknown"),
    C(lambda: sw(seed=-1), ValueError, "seed", id="sweep-seed-negative"),
    C(lambda: sw(seed=1.5), TypeError, "seed", id="sweep-seed-float"),
    C(lambda: sw(threads=0), ValueError, "threads", id="sweep-threads-zero"),
    C(lambda: sw(n_paths=0), ValueError, "n_paths", id="sweep-n_paths-zero"),
    C(lambda: sw(t_max=-1.0), ValueError, "t_max", id="sweep-t_max-negative"),
    C(lambda: sw(keep="bogus"), ValueError, "keep", id="sweep-keep-unknown"),
    C(lambda: sw(chunk_size=0), ValueError, "chunk_size", id="sweep-chunk_size-zero"),
    C(lambda: sw(bogus=1), TypeError, "bogus", id="sweep-unknown-keyword"),
    C(lambda: sw(x0=[-1.0, 0.0]), ValueError, "x0", id="sweep-x0-wrong-dim"),
    C(lambda: esc.sweep(esc.DoubleWell(), esc.Langevin(0.1, dt=0.01), x0=[-1.0], n_paths=1, t_max=1.0),
      TypeError, "grid", id="sweep-grid-missing"),
    # ---- analysis --------------------------------------------------------------------------------------------------
    C(lambda: analysis.wilson_interval(5, 0), ValueError, "n", id="wilson-n-zero"),
    C(lambda: analysis.wilson_interval(6, 5), ValueError, "successes", id="wilson-successes-above-n"),
    C(lambda: analysis.wilson_interval(-1, 5), ValueError, "successes", id="wilson-successes-negative"),
    C(lambda: analysis.wilson_interval(1, 5, confidence=1.5), ValueError, "confidence", id="wilson-confidence"),
    C(lambda: analysis.wilson_interval(1.5, 5), TypeError, "successes", id="wilson-successes-float"),
    C(lambda: analysis.kaplan_meier([1.0, 2.0], [True]), ValueError, "observed", id="kaplan_meier-lengths"),
    C(lambda: analysis.kaplan_meier([1.0, NAN], [True, True]), ValueError, "times", id="kaplan_meier-nan"),
    C(lambda: analysis.kaplan_meier([-1.0, 2.0], [True, True]), ValueError, "times", id="kaplan_meier-negative"),
    C(lambda: analysis.exponential_fit([]), ValueError, "times", id="exponential_fit-empty"),
    C(lambda: analysis.exponential_fit([1.0, -2.0]), ValueError, "times", id="exponential_fit-negative"),
    C(lambda: analysis.exponential_fit([1.0, 2.0], confidence=0.0), ValueError, "confidence",
      id="exponential_fit-confidence-zero"),
    C(lambda: analysis.exponential_fit([1.0, 2.0], [True]), ValueError, "observed", id="exponential_fit-lengths"),
    C(lambda: analysis.exponential_test([1.0, 2.0, 3.0], method="bogus"), ValueError, "method",
      id="exponential_test-method"),
    C(lambda: analysis.exit_time_statistics([1.0, 2.0], quantiles=(1.5,)), ValueError, "quantiles",
      id="exit_time_statistics-quantile"),
    C(lambda: analysis.exit_time_statistics([1.0, 2.0], confidence=2.0), ValueError, "confidence",
      id="exit_time_statistics-confidence"),
    C(lambda: analysis.censored_data([1.0, 2.0], [True, False, True]), ValueError, "observed",
      id="censored_data-lengths"),
    C(lambda: analysis.arrhenius_fit([0.1, 0.2], [1.0]), ValueError, "mean", id="arrhenius_fit-lengths"),
    C(lambda: analysis.arrhenius_fit([0.1, 0.2], [1.0, 2.0], scale="bogus"), ValueError, "scale",
      id="arrhenius_fit-scale"),
    C(lambda: analysis.arrhenius_fit([0.1, -0.2], [1.0, 2.0]), ValueError, "noise", id="arrhenius_fit-noise-neg"),
    C(lambda: analysis.arrhenius_fit([0.1, 0.2], [1.0, -2.0]), ValueError, "mean", id="arrhenius_fit-mean-neg"),
    C(lambda: analysis.arrhenius_fit([0.1], [1.0]), ValueError, "noise", id="arrhenius_fit-one-point"),
    C(lambda: analysis.brownian_ball_exit_time([2.0], 1.0, temperature=0.1), ValueError, "x0",
      id="brownian_ball-x0-outside"),
    C(lambda: analysis.brownian_ball_exit_time([0.0], -1.0, temperature=0.1), ValueError, "radius",
      id="brownian_ball-radius-negative"),
    C(lambda: analysis.brownian_ball_exit_time([0.0], 1.0, temperature=0.0), ValueError, "temperature",
      id="brownian_ball-temperature-zero"),
    C(lambda: analysis.mean_exit_time_1d(0.0, 1.0, 0.5, 1.0, 0.0), ValueError, "lower", id="met1d-lower-above"),
    C(lambda: analysis.mean_exit_time_1d(0.0, 1.0, 2.0, 0.0, 1.0), ValueError, "x0", id="met1d-x0-outside"),
    C(lambda: analysis.mean_exit_time_1d(0.0, -1.0, 0.5, 0.0, 1.0), ValueError, "noise_variance",
      id="met1d-noise-negative"),
    C(lambda: analysis.mean_exit_time_1d(0.0, 1.0, 0.5, 0.0, 1.0, lower_boundary="bogus"), ValueError,
      "lower_boundary", id="met1d-boundary-unknown"),
    C(lambda: analysis.langevin_mean_exit_time_1d(lambda x: x**2, -1.0, 0.5, 0.0, 1.0), ValueError, "temperature",
      id="langevin_met1d-temperature"),
    C(lambda: analysis.theorem1_check(-1.0, 1.0, 0.1, 0.1), ValueError, "radius", id="theorem1-radius"),
    C(lambda: analysis.sgd_exit_time_prediction(np.eye(2), -1.0), ValueError, "radius", id="sgd_pred-radius"),
    C(lambda: analysis.sgd_exit_time_prediction(np.eye(2), 1.0, noise="bogus"), ValueError, "noise",
      id="sgd_pred-noise"),
    C(lambda: analysis.sgd_exit_time_prediction(np.ones((2, 3)), 1.0), ValueError, "H", id="sgd_pred-H-shape"),
    C(lambda: analysis.noise_matrix(np.eye(2), "bogus"), ValueError, "noise", id="noise_matrix-unknown"),
    C(lambda: analysis.linear_quasipotential(np.ones((2, 3))), ValueError, "A", id="quasipotential-A-shape"),
    C(lambda: analysis.linear_quasipotential(np.eye(2), S=np.eye(3)), ValueError, "S", id="quasipotential-S-shape"),
    C(lambda: analysis.grid_points([0.0], [1.0, 2.0], 3), ValueError, "high", id="grid_points-lengths"),
    C(lambda: analysis.grid_points([0.0], [1.0], 0), ValueError, "n", id="grid_points-n-zero"),
    C(lambda: analysis.find_minimum(esc.DoubleWell(), [0.0, 0.0]), ValueError, "x0", id="find_minimum-x0-dim"),
    C(lambda: analysis.find_minimum(esc.DoubleWell(), [NAN]), ValueError, "x0", id="find_minimum-x0-nan"),
    C(lambda: analysis.find_saddle(esc.DoubleWell(), [0.0, 0.0]), ValueError, "x0", id="find_saddle-x0-dim"),
    C(lambda: analysis.critical_point(esc.DoubleWell(), [0.0, 0.0]), ValueError, "x", id="critical_point-x-dim"),
    C(lambda: analysis.eyring_kramers(esc.DoubleWell(), [-1.0], [0.0], -0.1), ValueError, "temperature",
      id="eyring_kramers-temperature"),
    C(lambda: analysis.eyring_kramers(esc.DoubleWell(), [-1.0, 0.0], [0.0], 0.1), ValueError, "minimum",
      id="eyring_kramers-minimum-dim"),
    C(lambda: analysis.barrier(esc.DoubleWell(), [-1.0], [0.0, 1.0]), ValueError, "saddle", id="barrier-saddle-dim"),
    C(lambda: analysis.success_rate(result(), confidence=0.0), ValueError, "confidence",
      id="success_rate-confidence"),
    C(lambda: analysis.survival_data([1.0, 2.0]), TypeError, "result", id="survival_data-not-a-result"),
    C(lambda: analysis.quadratic_curvature(np.ones(3)), ValueError, "Q", id="quadratic_curvature-Q-1d"),
    C(lambda: analysis.convergence_threshold(analysis.quadratic_curvature(**SQ), 0), ValueError, "k",
      id="convergence_threshold-k-zero"),
    C(lambda: analysis.convergence_threshold(analysis.quadratic_curvature(**SQ), case="bogus"), ValueError, "case",
      id="convergence_threshold-case"),
    C(lambda: analysis.local_curvature(esc.StochasticQuadratic(**SQ), [0.0, 0.0], -1.0), ValueError, "eps",
      id="local_curvature-eps"),
    C(lambda: analysis.local_curvature(esc.StochasticQuadratic(**SQ), [0.0, 0.0], 0.1, n_samples=0), ValueError,
      "n_samples", id="local_curvature-n_samples"),
    C(lambda: analysis.minimum_energy_path(esc.DoubleWell(), [-1.0], [1.0], n_images=1), ValueError, "n_images",
      id="minimum_energy_path-n_images"),
    C(lambda: analysis.minimum_energy_path(esc.DoubleWell(), [-1.0, 0.0], [1.0]), ValueError, "start",
      id="minimum_energy_path-start-dim"),
    C(lambda: analysis.numerical_jacobian(lambda x: x, [0.0], step=0.0), ValueError, "step",
      id="numerical_jacobian-step"),
    C(lambda: analysis.linearize(lambda x: -x, [0.0], kind="bogus"), ValueError, "kind", id="linearize-kind"),
    # ---- configuration tables ---------------------------------------------------------------------------------
    C(lambda: parse_config([1, 2]), ValueError, "mapping", id="config-not-a-mapping"),
    C(lambda: cfg(landscape=None), ValueError, r"\[landscape\]", id="config-landscape-missing"),
    C(lambda: cfg(dynamics=None), ValueError, r"\[dynamics\]", id="config-dynamics-missing"),
    C(lambda: cfg(start=None), ValueError, r"\[start\]", id="config-start-missing"),
    C(lambda: cfg(bogus={"a": 1}), ValueError, "bogus", id="config-unknown-table"),
    C(lambda: cfg(landscape="DoubleWell"), ValueError, "landscape", id="config-landscape-not-a-table"),
    C(lambda: cfg(landscape={}), ValueError, "type", id="config-landscape-no-type"),
    C(lambda: cfg(landscape={"type": "Bogus"}), ValueError, "Bogus", id="config-landscape-unknown-type"),
    C(lambda: cfg(landscape={"type": "DoubleWell", "bogus": 1}), ValueError, "bogus", id="config-landscape-unknown-key"),
    C(lambda: cfg(landscape={"type": "DoubleWell", "dim": 0}), ValueError, "dim", id="config-landscape-dim-zero"),
    C(lambda: cfg(landscape={"type": "Quadratic"}), ValueError, "H", id="config-quadratic-missing-H"),
    C(lambda: cfg(landscape={"type": "Langevin"}), ValueError, "Langevin", id="config-landscape-is-a-dynamics"),
    C(lambda: cfg(dynamics={"type": "Langevin", "temperature": 0.1}), ValueError, "dt", id="config-dynamics-no-dt"),
    C(lambda: cfg_with("dynamics", dt=-0.1), ValueError, "dt", id="config-dynamics-dt-negative"),
    C(lambda: cfg_with("dynamics", temperature="hot"), ValueError, "temperature", id="config-temperature-string"),
    C(lambda: cfg_with("dynamics", type="Bogus"), ValueError, "Bogus", id="config-dynamics-unknown-type"),
    C(lambda: cfg_with("dynamics", bogus=1), ValueError, "bogus", id="config-dynamics-unknown-key"),
    C(lambda: cfg(stop={"type": "Ball", "center": [0.0]}), ValueError, "radius", id="config-stop-missing-radius"),
    C(lambda: cfg(stop={"type": "Ball", "center": [0.0], "radius": -1.0}), ValueError, "radius",
      id="config-stop-radius-negative"),
    C(lambda: cfg(stop={"type": "HalfSpace", "normal": [1.0, 0.0]}), ValueError, "stop", id="config-stop-wrong-dim"),
    C(lambda: cfg(stop={"type": "Bogus"}), ValueError, "Bogus", id="config-stop-unknown-type"),
    C(lambda: cfg(target={"type": "Ball", "center": [0.0, 0.0], "radius": 1.0}), ValueError, "target",
      id="config-target-wrong-dim"),
    C(lambda: cfg(start={}), ValueError, "x0", id="config-start-empty"),
    C(lambda: cfg(start={"x0": [-1.0], "type": "UniformBall"}), ValueError, "x0", id="config-start-x0-and-type"),
    C(lambda: cfg(start={"x0": [-1.0, 0.0]}), ValueError, "x0", id="config-start-wrong-dim"),
    C(lambda: cfg(start={"x0": [NAN]}), ValueError, "x0", id="config-start-nan"),
    C(lambda: cfg(start={"type": "UniformBall", "center": [0.0]}), ValueError, "radius",
      id="config-start-sampler-missing-key"),
    C(lambda: cfg(start={"type": "Bogus"}), ValueError, "Bogus", id="config-start-unknown-type"),
    C(lambda: cfg_with("run", bogus=1), ValueError, "bogus", id="config-run-unknown-key"),
    C(lambda: cfg_with("run", n_paths=0), ValueError, "n_paths", id="config-run-n_paths-zero"),
    C(lambda: cfg_with("run", n_paths=1.5), ValueError, "n_paths", id="config-run-n_paths-float"),
    C(lambda: cfg_with("run", t_max=-1.0), ValueError, "t_max", id="config-run-t_max-negative"),
    C(lambda: cfg_with("run", seed=-1), ValueError, "seed", id="config-run-seed-negative"),
    C(lambda: cfg_with("run", threads=0), ValueError, "threads", id="config-run-threads-zero"),
    C(lambda: cfg_with("run", keep="bogus"), ValueError, "keep", id="config-run-keep-unknown"),
    C(lambda: cfg_with("run", store=5), ValueError, "store", id="config-run-store-int"),
    C(lambda: cfg_with("run", lanes=0), ValueError, "lanes", id="config-run-lanes-zero"),
    C(lambda: cfg_with("run", bridge="yes"), ValueError, "bridge", id="config-run-bridge-string"),
    C(lambda: cfg(sweep={"grid": {"dynamics.temperature": [0.1]}, "bogus": 1}), ValueError, "bogus",
      id="config-sweep-unknown-key"),
    C(lambda: cfg(sweep={"grid": {"dynamics.temperature": [0.1]}, "seeds": "bogus"}), ValueError, "seeds",
      id="config-sweep-seeds-unknown"),
    C(lambda: cfg(sweep={}), ValueError, r"sweep\.grid", id="config-sweep-grid-missing"),
    C(lambda: cfg(sweep={"grid": {}}), ValueError, r"sweep\.grid", id="config-sweep-grid-empty"),
    C(lambda: cfg(sweep={"grid": {"dynamics.temperature": []}}), ValueError, "temperature",
      id="config-sweep-values-empty"),
    C(lambda: cfg(sweep={"grid": {"dynamics.bogus": [1]}}), ValueError, "bogus", id="config-sweep-unknown-field"),
    C(lambda: cfg(sweep={"grid": {"dynamics.temperature": [-1.0]}}), ValueError, "temperature",
      id="config-sweep-bad-value"),
    C(lambda: cfg(sweep={"grid": {"n_paths": [0]}}), ValueError, "n_paths", id="config-sweep-n_paths-zero"),
    C(lambda: cfg().run(bogus=1), TypeError, "bogus", id="config-run-override-unknown"),
    # ---- results ----------------------------------------------------------------------------------------------
    C(lambda: result().summary().counts["BOGUS"], KeyError, "BOGUS", id="summary-counts-unknown-name"),
    C(lambda: result().stats().merge("stats"), (TypeError, AttributeError), "str", id="merge-not-stats"),
    C(lambda: result().stats().merge(esc.ExitStats((1, 2), 1, 0.0, 0.0, 0.0, 0.0)), ValueError, "status counts",
      id="merge-count-lengths"),
    C(lambda: sweep_result()[5], IndexError, "index", id="sweep-result-index"),
    C(lambda: sweep_result()["a"], TypeError, "ind", id="sweep-result-string-index"),
    C(lambda: analysis.success_rate(result(), status="BOGUS"), (KeyError, ValueError), "BOGUS",
      id="success_rate-status-unknown"),
    # ---- the silent or unclear inputs, refused since ---------------------------------------------------
    C(lambda: sim(progress="on"), TypeError, "progress", id="simulate-progress-string"),
    C(lambda: sim(progress=2), TypeError, "progress", id="simulate-progress-int"),
    C(lambda: sim(store=5), TypeError, "store", id="simulate-store-int"),
    C(lambda: sim(keep=np.array(["paths"])), ValueError, "keep", id="simulate-keep-array"),
    C(lambda: sim(seed=np.random.default_rng(0)), TypeError, "seed", id="simulate-seed-generator"),
    C(lambda: sim(seed=np.random.SeedSequence(0)), TypeError, "seed", id="simulate-seed-seedsequence"),
    C(lambda: sim(threads=-1), ValueError, "threads", id="simulate-threads-negative"),
    C(lambda: sim(x0=np.array([-1.0 + 1j])), TypeError, "x0", id="simulate-x0-complex"),
    C(lambda: esc.Quadratic(np.eye(2) * (1 + 1j)), TypeError, "H", id="Quadratic-H-complex"),
    C(lambda: esc.DoubleWell(2**31), ValueError, "dim", id="DoubleWell-dim-too-large"),
    C(lambda: result().count("FOO"), ValueError, "FOO", id="result-count-unknown-name"),
    C(lambda: result().count(99), ValueError, "99", id="result-count-unknown-code"),
    C(lambda: result().save(123), TypeError, "path", id="result-save-int"),
    C(lambda: esc.load(123), TypeError, "path", id="load-int"),
    C(lambda: esc.SimulationResult.load(None), TypeError, "path", id="SimulationResult-load-none"),
    C(lambda: esc.Langevin(eps=1e200, dt=1.0), ValueError, "eps", id="Langevin-eps-overflow"),
    C(lambda: sim(dynamics=esc.Langevin(0.1, dt=1e308), t_max=None, max_steps=10), ValueError, "dt",
      id="simulate-dt-times-cap-overflow"),
    C(lambda: cfg(landscape={"type": "CompiledLandscape", "dim": 1, "gradient": 4096}), ConfigError,
      "CompiledLandscape", id="config-compiled-landscape"),
]


# Not in the catalog because today's answer is not a clear error naming the argument (to add once refused):
# GD/NoisyGD/HeavyBall/AdaNorm(lr=0.0) and BrownianForcing(scale=-1.0) are accepted; analysis.success_rate("result")
# answers a rate of one path; kaplan_meier([], []) answers empty arrays; exponential_test(..., n_mc=0) answers a
# p-value; find_minimum(..., max_iter=0) raises RuntimeError ("did not converge").


@pytest.mark.parametrize(("call", "exc", "pattern"), CATALOG)
def test_bad_input_is_refused_by_name(call, exc, pattern):
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert re.search(pattern, message), f"message does not name {pattern!r}: {message}"


def test_catalog_size():
    # The issue asks for at least 250 cases in all; with tests/test_bad_input.py the total is well above.
    assert len(CATALOG) >= 250
    assert len({p.id for p in CATALOG}) == len(CATALOG), "duplicate ids"
