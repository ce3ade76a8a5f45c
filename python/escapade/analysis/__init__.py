"""Theory that simulations are checked against: exact exit times, survival estimates, success rates."""

from .exact import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d
from .success import SuccessRate, grid_points, success_rate, wilson_interval
from .survival import KaplanMeier, kaplan_meier, survival_data, survival_of

__all__ = [
    "KaplanMeier",
    "SuccessRate",
    "brownian_ball_exit_time",
    "grid_points",
    "kaplan_meier",
    "langevin_mean_exit_time_1d",
    "mean_exit_time_1d",
    "success_rate",
    "survival_data",
    "survival_of",
    "wilson_interval",
]
