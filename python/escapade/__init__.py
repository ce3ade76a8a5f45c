"""escapade: how, how fast and how often noisy optimizers escape minima and saddles.

A C++ core (Eigen, OpenMP) runs ensembles of paths until each one's stop rule fires; this package describes
the problems and analyses the results. Start with `simulate`.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "escapade's compiled core (escapade._core) is missing: install the package with `pip install .` "
        "from the source tree rather than importing it from there"
    ) from exc

from . import analysis, experiments, plot
from .custom import BatchedLandscape, CallbackError, CompiledLandscape
from .dynamics import GD, AdaGrad, AdaNorm, DiscreteMap, Dynamics, GaussianSGD, HeavyBall, Langevin, NoisyGD, PerturbedGD, SGDk, SGLD
from .landscapes import DoubleWell, Landscape, Octopus, Quadratic, StochasticQuadratic, StrictSaddle
from .regions import Ball, Box, HalfSpace, Region
from .results import ExitStats, SimulationResult, Status, Summary, SummaryResult, load
from .simulate import simulate
from .sweep import SweepResult, sweep
from .starts import Gaussian, StartSampler, UniformBall, UniformBox

__version__: str = _core.__version__

__all__ = [
    "AdaGrad",
    "AdaNorm",
    "Ball",
    "BatchedLandscape",
    "Box",
    "CallbackError",
    "CompiledLandscape",
    "DoubleWell",
    "DiscreteMap",
    "Dynamics",
    "ExitStats",
    "GD",
    "Gaussian",
    "GaussianSGD",
    "HalfSpace",
    "HeavyBall",
    "Landscape",
    "Langevin",
    "NoisyGD",
    "Octopus",
    "PerturbedGD",
    "Quadratic",
    "Region",
    "SGDk",
    "SGLD",
    "SimulationResult",
    "StartSampler",
    "Status",
    "StochasticQuadratic",
    "StrictSaddle",
    "Summary",
    "SummaryResult",
    "SweepResult",
    "UniformBall",
    "UniformBox",
    "analysis",
    "experiments",
    "load",
    "plot",
    "simulate",
    "sweep",
]
