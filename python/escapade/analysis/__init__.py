"""Exact reference results for checking the Monte Carlo engine."""
from .exact import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d

__all__ = ["mean_exit_time_1d", "langevin_mean_exit_time_1d", "brownian_ball_exit_time"]
