"""Theory that simulations are checked against: exact exit times, survival estimates."""

from .exact import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d
from .survival import KaplanMeier, kaplan_meier, survival_data, survival_of

__all__ = [
    "KaplanMeier",
    "brownian_ball_exit_time",
    "kaplan_meier",
    "langevin_mean_exit_time_1d",
    "mean_exit_time_1d",
    "survival_data",
    "survival_of",
]
