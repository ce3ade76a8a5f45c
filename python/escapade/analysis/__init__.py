"""Theory that simulations are checked against: exact exit times, survival and exit-time statistics, success
rates, landscape geometry, the Eyring–Kramers law, Freidlin–Wentzell quasi-potentials and minimum-action paths,
Arrhenius fits, the SGD exit-time claims of 003 next to the quasi-potential answer, a trained network's minimum
with its Hessian and gradient covariance, SGD-k step-size thresholds, fixed points with their stable manifolds,
and the constrained flow's equilibria, escape and stability conditions (000, Sections II-V). The experiments that
set these against simulation live in `escapade.experiments`."""

import importlib
import warnings
from typing import Any

from .arrhenius import ArrheniusFit, arrhenius_fit, arrhenius_fit_sweep
from .constrained import (
    Basin,
    BiasCheck,
    KKTResidual,
    Proposition2Bound,
    StrongEquilibrium,
    Theorem1Check,
    augmented_lagrangian,
    biased_check,
    constrained_basin,
    constrained_equilibrium,
    drift_bound,
    feasibility_decay,
    kkt_residual,
    multiplier,
    proposition2_bound,
    strong_equilibrium,
    theorem1_check,
    unforced_drift,
)
from .exact import (
    brownian_ball_exit_time,
    euler_chain_splitting_probability,
    langevin_mean_exit_time_1d,
    langevin_mean_exit_time_derivative_1d,
    langevin_splitting_probability_1d,
    linear_mean_exit_time,
    mean_exit_time_1d,
    splitting_probability_1d,
)
from .geometry import CriticalPoint, barrier, critical_point, find_minimum, find_saddle
from .kramers import EyringKramers, eyring_kramers
from .mlp import MLPMinimum, SharpnessScaled, mlp_minimum
from .manifolds import FixedPoint, StableManifold, linearize, numerical_jacobian, stable_manifold
from .quasipotential import (
    LinearQuasiPotential,
    MinimumActionPath,
    linear_quasipotential,
    minimum_action_path,
    minimum_energy_path,
)
from .sgd import SGDExitPrediction, noise_matrix, sgd_exit_time_prediction
from .statistics import (
    CoefficientOfVariation,
    ExitTimeStatistics,
    ExponentialFit,
    ExponentialTest,
    coefficient_of_variation,
    exit_time_statistics,
    exponential_fit,
    exponential_test,
)
from .success import SuccessRate, grid_points, success_rate, wilson_interval
from .estimates import QUANTITIES, DtBias, LevelStatistic, censored_mean, dt_bias, quantity_of
from .survival import KaplanMeier, censored_data, decay_rate, kaplan_meier, survival_data, survival_of
from .thresholds import (
    CriticalBatchSizes,
    GrowthRate,
    LocalCurvature,
    QuadraticCurvature,
    convergence_threshold,
    critical_batch_sizes,
    diagonal_local_curvature,
    divergence_index,
    divergence_threshold,
    error_factor,
    error_factor_bounds,
    growth_rate,
    local_curvature,
    quadratic_curvature,
    thresholds_table,
    trajectory_errors,
)

__all__ = [
    "QUANTITIES",
    "DtBias",
    "LevelStatistic",
    "censored_mean",
    "decay_rate",
    "dt_bias",
    "quantity_of",
    "ArrheniusFit",
    "Basin",
    "BiasCheck",
    "CoefficientOfVariation",
    "CriticalBatchSizes",
    "CriticalPoint",
    "ExitTimeStatistics",
    "ExponentialFit",
    "ExponentialTest",
    "EyringKramers",
    "FixedPoint",
    "GrowthRate",
    "KKTResidual",
    "KaplanMeier",
    "LinearQuasiPotential",
    "LocalCurvature",
    "MLPMinimum",
    "MinimumActionPath",
    "Proposition2Bound",
    "QuadraticCurvature",
    "SGDExitPrediction",
    "SharpnessScaled",
    "StableManifold",
    "StrongEquilibrium",
    "SuccessRate",
    "Theorem1Check",
    "arrhenius_fit",
    "arrhenius_fit_sweep",
    "augmented_lagrangian",
    "barrier",
    "biased_check",
    "brownian_ball_exit_time",
    "censored_data",
    "constrained_basin",
    "constrained_equilibrium",
    "convergence_threshold",
    "coefficient_of_variation",
    "critical_batch_sizes",
    "critical_point",
    "diagonal_local_curvature",
    "divergence_index",
    "divergence_threshold",
    "drift_bound",
    "error_factor",
    "error_factor_bounds",
    "euler_chain_splitting_probability",
    "exit_time_statistics",
    "exponential_fit",
    "exponential_test",
    "eyring_kramers",
    "feasibility_decay",
    "find_minimum",
    "find_saddle",
    "grid_points",
    "growth_rate",
    "kaplan_meier",
    "kkt_residual",
    "langevin_mean_exit_time_1d",
    "langevin_mean_exit_time_derivative_1d",
    "langevin_splitting_probability_1d",
    "linear_mean_exit_time",
    "linear_quasipotential",
    "mlp_minimum",
    "linearize",
    "local_curvature",
    "mean_exit_time_1d",
    "minimum_action_path",
    "minimum_energy_path",
    "multiplier",
    "noise_matrix",
    "numerical_jacobian",
    "proposition2_bound",
    "quadratic_curvature",
    "sgd_exit_time_prediction",
    "splitting_probability_1d",
    "stable_manifold",
    "strong_equilibrium",
    "success_rate",
    "survival_data",
    "survival_of",
    "theorem1_check",
    "thresholds_table",
    "trajectory_errors",
    "unforced_drift",
    "wilson_interval",
]


#: Experiments that lived here before `escapade.experiments` held every reproduction: still reachable, with a warning.
_MOVED = {"MLPExitExperiment": "mlp_exit_time", "mlp_exit_time_experiment": "mlp_exit_time",
          "SGDExitExperiment": "sgd_exit_time", "sgd_exit_time_experiment": "sgd_exit_time"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(f"escapade.analysis.{name} moved to escapade.experiments.{name}", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(f"..experiments.{_MOVED[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
