"""escapade: how, how fast and how often noisy optimizers escape minima and saddles.

A C++ core (Eigen, OpenMP) runs ensembles of paths until each one's stop rule fires; this package describes
the problems and analyses the results. Start with `simulate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "escapade's compiled core (escapade._core) is missing: install the package with `pip install .` "
        "from the source tree rather than importing it from there"
    ) from exc

from . import datasets, landscapes
from ._lazy import attach
from .constraints import Affine, Constraint, Parabola, Sphere
from .custom import (
    BatchedDiffusion, BatchedDrift, BatchedLandscape, CallbackError, CompiledConstraint, CompiledDiffusion,
    CompiledDrift, CompiledForcing, CompiledLandscape, Diffusion,
)
from .drifts import Drift, LinearDrift, TiltedPeriodic
from .dynamics import (
    GD, AdaGrad, AdaNorm, ConstrainedFlow, DiscreteMap, Dynamics, GaussianSGD, HeavyBall, Langevin, LevyLangevin, NoisyGD,
    PerturbedGD, SGDk, SGLD, StableSGD,
)
from .forcing import BrownianForcing, Forcing, Periodic, RandomDirections, Ramp, TableForcing
from .landscapes import *  # noqa: F403 - every built-in landscape, listed once in landscapes.__all__
from .regions import Ball, Box, Ellipsoid, HalfSpace, Intersection, Outside, Region, Union
from .restart import Restart
from .results import (
    Estimate,
    EstimateLevel,
    ExitStats,
    RareExitTime,
    SimulationResult,
    SplittingResult,
    SplittingStatus,
    Status,
    Summary,
    SummaryResult,
    Term,
    load,
)
from .simulate import simulate
from .sweep import SweepResult, sweep
from .symbolic import SymbolicConstraint, SymbolicLandscape
from .starts import Gaussian, StartSampler, UniformBall, UniformBox

if TYPE_CHECKING:
    from . import analysis, experiments, plot
    from .accuracy import estimate

__version__: str = _core.__version__

__all__ = [
    "AdaGrad",
    "AdaNorm",
    "Affine",
    "Ball",
    "BatchedDiffusion",
    "BatchedDrift",
    "BatchedLandscape",
    "Box",
    "BrownianForcing",
    "CallbackError",
    "CompiledConstraint",
    "CompiledDiffusion",
    "CompiledDrift",
    "CompiledForcing",
    "CompiledLandscape",
    "ConstrainedFlow",
    "Constraint",
    "Diffusion",
    "DiscreteMap",
    "Drift",
    "Dynamics",
    "Ellipsoid",
    "Estimate",
    "EstimateLevel",
    "ExitStats",
    "Forcing",
    "GD",
    "Gaussian",
    "GaussianSGD",
    "HalfSpace",
    "HeavyBall",
    "Intersection",
    "Langevin",
    "LevyLangevin",
    "LinearDrift",
    "NoisyGD",
    "Outside",
    "Parabola",
    "Periodic",
    "PerturbedGD",
    "Ramp",
    "RandomDirections",
    "RareExitTime",
    "Region",
    "Restart",
    "SGDk",
    "SGLD",
    "SimulationResult",
    "Sphere",
    "SplittingResult",
    "SplittingStatus",
    "StableSGD",
    "StartSampler",
    "Status",
    "Summary",
    "SummaryResult",
    "SweepResult",
    "SymbolicConstraint",
    "SymbolicLandscape",
    "TableForcing",
    "Term",
    "TiltedPeriodic",
    "UniformBall",
    "UniformBox",
    "Union",
    "analysis",
    "datasets",
    "estimate",
    "experiments",
    "load",
    "plot",
    "rare_exit_time",
    "scores",
    "simulate",
    "splitting",
    "sweep",
    *landscapes.__all__,
]
# The heavy parts (scipy.stats, matplotlib, the reproductions) load on first use.
__getattr__, __dir__ = attach(__name__, __all__, submodules=["analysis", "experiments", "plot", "scores"],
                              attributes={"estimate": "accuracy", "splitting": "rare",
                                          "rare_exit_time": "rare"})
