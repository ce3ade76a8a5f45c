"""The theory side of 003's neural-network experiment (Section 6, Figure 2): a minimum of a small network with its
Hessian and per-sample gradient covariance (`mlp_minimum`), and the sharpness-scaled loss
L_alpha(theta) = L(sqrt(alpha) theta) (`SharpnessScaled`). The experiment itself, SGD leaving an r-ball around the
minimum against alpha, r and B / eta, is `escapade.experiments.mlp_exit_time_experiment`.

The network is `MLP` (one hidden tanh layer, mean squared loss with an l2 penalty); `mlp_minimum` trains it to a
minimum theta* (L-BFGS with the landscape's gradient, then Newton steps with its exact Hessian). L_alpha's minimum
is theta* / sqrt(alpha) with Hessian alpha H(theta*).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

__all__ = ["MLPMinimum", "SharpnessScaled", "mlp_minimum"]


class SharpnessScaled:
    """L_alpha(theta) = L(sqrt(alpha) theta) for a landscape L (003, Section 6): gradient
    sqrt(alpha) grad L(sqrt(alpha) theta), Hessian alpha H(sqrt(alpha) theta). A minimum theta* of L becomes the
    minimum theta* / sqrt(alpha) of L_alpha, with Hessian alpha H(theta*): alpha scales the sharpness.

    Evaluated in Python (for analysis and checks); simulations use the exact change of variables described in
    `escapade.analysis.mlp` instead."""

    def __init__(self, landscape: Any, alpha: float) -> None:
        if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.floating, np.integer)):
            raise TypeError(f"alpha must be a number, got alpha={alpha!r}")
        if not (math.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be a positive number, got alpha={alpha!r}")
        for name in ("value", "gradient", "hessian"):
            if not callable(getattr(landscape, name, None)):
                raise TypeError(f"landscape must have value, gradient and hessian methods, got {landscape!r}")
        self.landscape = landscape
        self.alpha = float(alpha)
        self._s = math.sqrt(self.alpha)

    def value(self, theta: ArrayLike) -> float:
        return float(self.landscape.value(self._s * np.asarray(theta, dtype=np.float64)))

    def gradient(self, theta: ArrayLike) -> np.ndarray:
        return self._s * np.asarray(self.landscape.gradient(self._s * np.asarray(theta, dtype=np.float64)))

    def hessian(self, theta: ArrayLike) -> np.ndarray:
        return self.alpha * np.asarray(self.landscape.hessian(self._s * np.asarray(theta, dtype=np.float64)))

    def minimum(self, theta_star: ArrayLike) -> np.ndarray:
        """The minimum theta* / sqrt(alpha) of L_alpha for a minimum theta* of L."""
        return np.asarray(theta_star, dtype=np.float64) / self._s


@dataclasses.dataclass(frozen=True, eq=False)
class MLPMinimum:
    """A trained minimum (see `mlp_minimum`): theta, the loss, the gradient norm, the Hessian, its eigenvalues
    (ascending), the per-sample gradient covariance C and the number of optimizer iterations."""

    theta: np.ndarray
    value: float
    gradient_norm: float
    hessian: np.ndarray
    eigenvalues: np.ndarray
    covariance: np.ndarray
    iterations: int


def _per_sample_covariance(net: Any, theta: np.ndarray) -> np.ndarray:
    G = np.array([net.term_gradient(i, theta) for i in range(net.n_terms)])
    D = G - G.mean(axis=0)
    return np.asarray(D.T @ D / net.n_terms)


def mlp_minimum(net: Any, *, seed: int = 0, gtol: float = 1e-10, max_iter: int = 20_000) -> MLPMinimum:
    """Train a finite-sum landscape (an `MLP`) to a minimum: L-BFGS from ``net.init(seed=seed)`` with the
    landscape's value and gradient, then Newton steps with its exact Hessian until |grad| <= gtol.

    Raises ValueError when the point reached is not a strict minimum (a Hessian eigenvalue <= 0)."""
    x0 = np.asarray(net.init(seed=seed), dtype=np.float64)
    res = optimize.minimize(lambda x: (net.value(x), np.asarray(net.gradient(x))), x0, jac=True, method="L-BFGS-B",
                            options={"maxiter": int(max_iter), "gtol": 1e-9, "ftol": 1e-15, "maxcor": 30})
    theta = np.asarray(res.x, dtype=np.float64)
    for _ in range(20):
        g = np.asarray(net.gradient(theta))
        if np.linalg.norm(g) <= gtol:
            break
        H = np.asarray(net.hessian(theta))
        if np.linalg.eigvalsh(H)[0] <= 0:
            break
        theta = theta - np.linalg.solve(H, g)
    H = np.asarray(net.hessian(theta))
    H = (H + H.T) / 2
    w = np.linalg.eigvalsh(H)
    if w[0] <= 0:
        raise ValueError(f"training reached a point that is not a strict minimum (smallest Hessian eigenvalue "
                         f"{w[0]:.3g}); try another seed")
    return MLPMinimum(theta=theta, value=float(net.value(theta)),
                      gradient_norm=float(np.linalg.norm(net.gradient(theta))), hessian=H, eigenvalues=w,
                      covariance=_per_sample_covariance(net, theta), iterations=int(res.nit))
