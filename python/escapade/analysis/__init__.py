"""Theory that simulations are checked against: exact exit times, survival estimates, fixed points and their
stable manifolds."""

from .exact import brownian_ball_exit_time, langevin_mean_exit_time_1d, mean_exit_time_1d
from .manifolds import FixedPoint, StableManifold, linearize, numerical_jacobian, stable_manifold
from .survival import KaplanMeier, kaplan_meier, survival_data, survival_of

__all__ = [
    "FixedPoint",
    "KaplanMeier",
    "StableManifold",
    "brownian_ball_exit_time",
    "kaplan_meier",
    "langevin_mean_exit_time_1d",
    "linearize",
    "mean_exit_time_1d",
    "numerical_jacobian",
    "stable_manifold",
    "survival_data",
    "survival_of",
]
