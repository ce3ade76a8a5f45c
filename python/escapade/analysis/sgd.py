"""Exit of SGD from a quadratic minimum (003): the paper's stated mean exit times next to the Freidlin–Wentzell
answer (the experiment that measures the slope of log E[tau] in B / eta by simulation is
`escapade.experiments.sgd_exit_time_experiment`).

The model (003, eqs. 2–3): L(theta) = theta^T H theta / 2 around the minimum 0, gradient noise of covariance C,

    continuous:  d theta = -H theta dt + sqrt(eta / B) C^{1/2} dW          (GaussianSGD(...).continuous(dt))
    discrete:    theta_{k+1} = theta_k - eta H theta_k + (eta / sqrt(B)) C^{1/2} xi_k      (GaussianSGD)

and the exit time from the ball |theta| < r (for the discrete map, k eta at the first k outside). Both are
linear systems with noise eps = sqrt(eta / B), so `linear_quasipotential` gives V exactly and
E[tau] = exp(V0 B / eta + o(B / eta)): the slope of log E[tau] in B / eta is V0.

* Isotropic noise (C = I): V = theta^T H theta, V0 = lambda_min(H) r^2. 003 (Theorem 1) states
  E[tau] = exp(2 B r^2 lambda / eta): a slope 2 lambda r^2, twice V0 (its proof writes min 2 L = 2 r^2 lambda
  with L = theta^T H theta / 2, dropping the 1/2).
* Hessian noise (C = H): P = I / 2 and V = |theta|^2 whatever H is, V0 = r^2: the sharpness cancels exactly.
  003 states exp(2 B r^2 lambda^{1/2} / eta): besides the factor 2 its Hamilton–Jacobi equation uses C^{1/2}
  where the generator has C, which turns the exact cancellation into a sqrt(lambda) dependence.
* Discrete SGD (Theorem 2: the same exponent + O(sqrt(eta))): the map's own quasi-potential, from the discrete
  Lyapunov equation P = (I - eta H) P (I - eta H)^T + eta C, differs from the continuous one at order eta.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_float, as_square_matrix
from .quasipotential import LinearQuasiPotential

__all__ = ["SGDExitPrediction", "sgd_exit_time_prediction"]

_NOISES = ("isotropic", "hessian")


def noise_matrix(H: np.ndarray, noise: str) -> np.ndarray:
    """The gradient-noise covariance C of a noise model: I for "isotropic", H for "hessian"."""
    if not isinstance(noise, str) or noise not in _NOISES:
        raise ValueError(f"noise must be one of {_NOISES}, got noise={noise!r}")
    Hm = as_square_matrix("H", H)
    return np.eye(Hm.shape[0]) if noise == "isotropic" else np.array(Hm)


def _sqrtm(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(C)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _quasipotential(H: np.ndarray, w: np.ndarray, noise: str, half: np.ndarray, eta: float | None
                    ) -> LinearQuasiPotential:
    """The `LinearQuasiPotential` of the SDE d theta = -H theta dt + C^{1/2} dW (eta None) or of the map
    theta' = (I - eta H) theta + sqrt(eta) C^{1/2} xi, in closed form: C (I or H) commutes with H, so in H's
    eigenbasis (eigenvalues w) the Lyapunov equation is diagonal, P = c / (2 w) for the SDE and
    P = eta c / (1 - (1 - eta w)^2) = c / (w (2 - eta w)) for the map, with c = 1 or w. (A general Lyapunov solver
    would refuse an H whose condition number is beyond 1e14: its P looks singular to it.)"""
    lam, V = np.linalg.eigh(H)
    c = np.ones_like(lam) if noise == "isotropic" else lam
    with np.errstate(over="ignore", divide="ignore"):
        p = c / (2.0 * lam) if eta is None else c / (lam * (2.0 - eta * lam))
    if not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"H's smallest eigenvalue {float(w[0])!r} is too small: the stationary covariance "
                         "c / (2 lambda) of the exit-time model overflows floating point")
    P = (V * p) @ V.T
    P = (P + P.T) / 2
    if eta is None:
        return LinearQuasiPotential(P=P, A=np.array(H), S=np.array(half), discrete=False)
    return LinearQuasiPotential(P=P, A=np.eye(H.shape[0]) - eta * H, S=math.sqrt(eta) * half, discrete=True)


@dataclasses.dataclass(frozen=True, eq=False)
class SGDExitPrediction:
    """What theory says about the slope of log E[tau] in B / eta (see `sgd_exit_time_prediction`).

    Attributes
    ----------
    noise : "isotropic" (C = I) or "hessian" (C = H); dynamics : "continuous" or "discrete"; lr : eta (discrete).
    radius : r; lambda_min : the smallest eigenvalue of H.
    fw_slope : V0, the Freidlin–Wentzell slope (of the SDE, or of the map for the discrete dynamics).
    fw_continuous_slope : V0 of the SDE (the eta -> 0 limit of the discrete one).
    paper_slope : 003's slope: 2 r^2 lambda_min (isotropic) or 2 r^2 sqrt(lambda_min) (C = H).
    multiplicity : m, the number of directions the exit set spans (E[tau] ~ (B / eta)^(-m / 2) exp(V0 B / eta)).
    quasipotential : the `LinearQuasiPotential` behind fw_slope.
    """

    noise: str
    dynamics: str
    lr: float | None
    radius: float
    lambda_min: float
    fw_slope: float
    fw_continuous_slope: float
    paper_slope: float
    multiplicity: int
    quasipotential: LinearQuasiPotential


def sgd_exit_time_prediction(
    H: ArrayLike, radius: float, *, noise: str = "isotropic", lr: float | None = None,
) -> SGDExitPrediction:
    """The Freidlin–Wentzell and the 003 slopes of log E[tau] in B / eta for SGD leaving the ball |theta| < r
    around the minimum of theta^T H theta / 2.

    Parameters
    ----------
    H : (d, d) symmetric positive definite Hessian.
    radius : r > 0.
    noise : "isotropic" (C = I, 003's isotropic SGD) or "hessian" (C = H, 003's Assumption 2).
    lr : eta for the discrete map; None for the continuous SDE.

    Returns
    -------
    SGDExitPrediction
    """
    Hm = as_square_matrix("H", H, symmetric=True)
    w = np.linalg.eigvalsh(Hm)
    if w[0] <= 0:
        raise ValueError(f"H must be positive definite, got eigenvalues {w.tolist()}")
    r = as_float("radius", radius, positive=True)
    if not math.isfinite(2 * r * r * float(w[-1])):  # the slopes 2 r^2 lambda would overflow
        raise ValueError(f"radius={radius!r} is too large: 2 radius^2 lambda_max = inf in floating point")
    C = noise_matrix(Hm, noise)
    half = _sqrtm(C)
    cont = _quasipotential(Hm, w, noise, half, None)
    if lr is None:
        qp, dynamics = cont, "continuous"
    else:
        eta = as_float("lr", lr, positive=True)
        if not eta * float(w[-1]) < 2:  # I - eta H has eigenvalues 1 - eta lambda in (-1, 1) (H is positive definite)
            raise ValueError(f"lr={lr!r} is too large: gradient descent with it is unstable (eta lambda_max >= 2)")
        # x_{k+1} = M x_k + eps (sqrt(eta) C^{1/2}) xi with eps^2 = eta / B; E[nu] in steps and in time k eta share
        # the exponent
        qp, dynamics = _quasipotential(Hm, w, noise, half, eta), "discrete"
    lam = float(w[0])
    paper = 2 * r**2 * lam if noise == "isotropic" else 2 * r**2 * math.sqrt(lam)
    return SGDExitPrediction(noise=noise, dynamics=dynamics, lr=None if lr is None else float(lr), radius=r,
                             lambda_min=lam, fw_slope=qp.ball_exit(r)[0], fw_continuous_slope=cont.ball_exit(r)[0],
                             paper_slope=paper, multiplicity=qp.exit_multiplicity(rtol=1e-6), quasipotential=qp)
