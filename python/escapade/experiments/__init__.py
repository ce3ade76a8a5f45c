"""Ready-made experiments that run ensembles and return tidy tables (pandas): escape from strict saddles, the
exponential slow-down of gradient descent on Du et al.'s chain of saddles, saddle avoidance by adaptive steps; and
004's test problems (quadratic-circle Models 1-4, Styblinski-Tang Models 1-3) as the sgdk-thresholds reproduction
builds them."""

from .._sgdk_thresholds import quadratic_circle_model, styblinski_tang_model
from .saddles import ESCAPE_METHODS, escape_dynamics, octopus_escape_times, saddle_avoidance, saddle_escape_times

__all__ = ["ESCAPE_METHODS", "escape_dynamics", "octopus_escape_times", "quadratic_circle_model", "saddle_avoidance",
           "saddle_escape_times", "styblinski_tang_model"]
