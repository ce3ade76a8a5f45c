"""Theory that simulations are checked against: exact exit times, survival estimates, SGD-k step-size thresholds."""

from .exact import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d
from .survival import KaplanMeier, kaplan_meier, survival_data, survival_of
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
    "CriticalBatchSizes",
    "GrowthRate",
    "KaplanMeier",
    "LocalCurvature",
    "QuadraticCurvature",
    "brownian_ball_exit_time",
    "convergence_threshold",
    "critical_batch_sizes",
    "divergence_index",
    "divergence_threshold",
    "error_factor",
    "error_factor_bounds",
    "growth_rate",
    "kaplan_meier",
    "langevin_mean_exit_time_1d",
    "local_curvature",
    "mean_exit_time_1d",
    "quadratic_curvature",
    "survival_data",
    "survival_of",
    "thresholds_table",
    "trajectory_errors",
]
