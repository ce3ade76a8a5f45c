"""Landscapes: the functions whose minima and saddles the dynamics explore (gradients evaluated in C++).

One module per landscape, named as its C++ header in cpp/include/escapade/landscapes/; `base` holds the
interface they share and `finite_sum` the base of the finite sums.
"""

from __future__ import annotations

from .ackley import Ackley
from .base import Landscape
from .cosine import Cosine
from .double_well import DoubleWell
from .finite_sum import FiniteSum
from .least_squares import LeastSquares
from .linear import Linear
from .mlp import MLP
from .octopus import Octopus
from .quadratic import Quadratic
from .quadratic_circle import QuadraticCircleSum
from .stochastic_quadratic import StochasticQuadratic
from .strict_saddle import StrictSaddle
from .styblinski_tang import StyblinskiTangSum

__all__ = [
    "Ackley",
    "Cosine",
    "DoubleWell",
    "FiniteSum",
    "Landscape",
    "LeastSquares",
    "Linear",
    "MLP",
    "Octopus",
    "Quadratic",
    "QuadraticCircleSum",
    "StochasticQuadratic",
    "StrictSaddle",
    "StyblinskiTangSum",
]
