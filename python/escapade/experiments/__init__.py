"""Ready-made experiments that run ensembles and return tidy tables (pandas): escape from strict saddles, the
exponential slow-down of gradient descent on Du et al.'s chain of saddles, saddle avoidance by adaptive steps."""

from .saddles import ESCAPE_METHODS, escape_dynamics, octopus_escape_times, saddle_avoidance, saddle_escape_times

__all__ = ["ESCAPE_METHODS", "escape_dynamics", "octopus_escape_times", "saddle_avoidance", "saddle_escape_times"]
