"""Theory that simulations are checked against: exact exit times, survival and exit-time statistics, success
rates, landscape geometry, the Eyring–Kramers law, Freidlin–Wentzell quasi-potentials and minimum-action paths,
Arrhenius fits, the SGD exit-time claims of 003 side by side with the quasi-potential answer (on quadratics and
on a trained network), SGD-k step-size thresholds, and fixed points with their stable manifolds."""

from .arrhenius import ArrheniusFit, arrhenius_fit, arrhenius_fit_sweep
from .exact import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d
from .geometry import CriticalPoint, barrier, critical_point, find_minimum, find_saddle
from .kramers import EyringKramers, eyring_kramers
from .mlp import MLPExitExperiment, MLPMinimum, SharpnessScaled, mlp_exit_time_experiment, mlp_minimum
from .manifolds import FixedPoint, StableManifold, linearize, numerical_jacobian, stable_manifold
from .quasipotential import (
    LinearQuasiPotential,
    MinimumActionPath,
    linear_quasipotential,
    minimum_action_path,
    minimum_energy_path,
)
from .sgd import SGDExitExperiment, SGDExitPrediction, sgd_exit_time_experiment, sgd_exit_time_prediction
from .statistics import (
    ExitTimeStatistics,
    ExponentialFit,
    ExponentialTest,
    exit_time_statistics,
    exponential_fit,
    exponential_test,
)
from .success import SuccessRate, grid_points, success_rate, wilson_interval
from .survival import KaplanMeier, censored_data, kaplan_meier, survival_data, survival_of
from .thresholds import (
    CriticalBatchSizes,
    GrowthRate,
    LocalCurvature,
    QuadraticCurvature,
    convergence_threshold,
    critical_batch_sizes,
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
    "ArrheniusFit",
    "CriticalBatchSizes",
    "CriticalPoint",
    "ExitTimeStatistics",
    "ExponentialFit",
    "ExponentialTest",
    "EyringKramers",
    "FixedPoint",
    "GrowthRate",
    "KaplanMeier",
    "LinearQuasiPotential",
    "LocalCurvature",
    "MLPExitExperiment",
    "MLPMinimum",
    "MinimumActionPath",
    "QuadraticCurvature",
    "SGDExitExperiment",
    "SGDExitPrediction",
    "SharpnessScaled",
    "StableManifold",
    "SuccessRate",
    "arrhenius_fit",
    "arrhenius_fit_sweep",
    "barrier",
    "brownian_ball_exit_time",
    "censored_data",
    "convergence_threshold",
    "critical_batch_sizes",
    "critical_point",
    "divergence_index",
    "divergence_threshold",
    "error_factor",
    "error_factor_bounds",
    "exit_time_statistics",
    "exponential_fit",
    "exponential_test",
    "eyring_kramers",
    "find_minimum",
    "find_saddle",
    "grid_points",
    "growth_rate",
    "kaplan_meier",
    "langevin_mean_exit_time_1d",
    "linear_quasipotential",
    "mlp_exit_time_experiment",
    "mlp_minimum",
    "linearize",
    "local_curvature",
    "mean_exit_time_1d",
    "minimum_action_path",
    "minimum_energy_path",
    "numerical_jacobian",
    "quadratic_curvature",
    "sgd_exit_time_experiment",
    "sgd_exit_time_prediction",
    "stable_manifold",
    "success_rate",
    "survival_data",
    "survival_of",
    "thresholds_table",
    "trajectory_errors",
    "wilson_interval",
]
