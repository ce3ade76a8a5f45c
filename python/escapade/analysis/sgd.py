"""Exit of SGD from a quadratic minimum (003): the paper's stated mean exit times next to the Freidlin–Wentzell
answer, and an experiment that measures the slope of log E[tau] in B / eta by simulation.

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
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from .._validate import as_square_matrix
from .arrhenius import ArrheniusFit, arrhenius_fit
from .quasipotential import LinearQuasiPotential, linear_quasipotential

__all__ = ["SGDExitExperiment", "SGDExitPrediction", "sgd_exit_time_experiment", "sgd_exit_time_prediction"]

_NOISES = ("isotropic", "hessian")
_DYNAMICS = ("continuous", "discrete")


def _noise_matrix(H: np.ndarray, noise: str) -> np.ndarray:
    if noise not in _NOISES:
        raise ValueError(f"noise must be one of {_NOISES}, got noise={noise!r}")
    return np.eye(H.shape[0]) if noise == "isotropic" else np.array(H)


def _sqrtm(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(C)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


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
    if not (isinstance(radius, (int, float, np.floating)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive number, got radius={radius!r}")
    r = float(radius)
    C = _noise_matrix(Hm, noise)
    half = _sqrtm(C)
    cont = linear_quasipotential(Hm, half)
    if lr is None:
        qp, dynamics = cont, "continuous"
    else:
        eta = float(lr)
        if not (math.isfinite(eta) and eta > 0):
            raise ValueError(f"lr must be a positive number, got lr={lr!r}")
        M = np.eye(Hm.shape[0]) - eta * Hm
        if np.max(np.abs(np.linalg.eigvalsh(M))) >= 1:
            raise ValueError(f"lr={lr!r} is too large: gradient descent with it is unstable (eta lambda_max >= 2)")
        # x_{k+1} = M x_k + eps (sqrt(eta) C^{1/2}) xi with eps^2 = eta / B; E[nu] in steps and in time k eta share
        # the exponent
        qp, dynamics = linear_quasipotential(M, math.sqrt(eta) * half, discrete=True), "discrete"
    lam = float(w[0])
    paper = 2 * r**2 * lam if noise == "isotropic" else 2 * r**2 * math.sqrt(lam)
    return SGDExitPrediction(noise=noise, dynamics=dynamics, lr=None if lr is None else float(lr), radius=r,
                             lambda_min=lam, fw_slope=qp.ball_exit(r)[0], fw_continuous_slope=cont.ball_exit(r)[0],
                             paper_slope=paper, multiplicity=qp.exit_multiplicity(rtol=1e-6), quasipotential=qp)


def _log_exit_time_estimate(H: np.ndarray, P: np.ndarray, r: float, x: float) -> float:
    """log of a Laplace estimate of the mean exit time from the ball |theta| < r at inverse noise x = B / eta:
    1 / (flux of the stationary density N(0, P / x) through the sphere, at the inward drift speed theta^T H theta / r).
    Directions where V on the sphere stays within 1 / x of V0 count as flat (the exit set is then a sphere of
    that dimension). Used to place the noise levels; not a prediction."""
    w, U = np.linalg.eigh(P)
    d = w.size
    gap = 1 / (2 * w) - 1 / (2 * w[-1])
    flat = gap * x < 1
    m = int(flat.sum())
    v0 = r**2 / (2 * w[-1])
    log_density = (d / 2) * math.log(x / (2 * math.pi)) - 0.5 * float(np.sum(np.log(w))) - x * v0
    log_area = math.log(2) + (m / 2) * math.log(math.pi) + (m - 1) * math.log(r) - float(special.gammaln(m / 2))
    log_transverse = float(np.sum(0.5 * np.log(math.pi / (x * gap[~flat]))))
    Uf = U[:, flat]
    speed = r * float(np.trace(Uf.T @ H @ Uf)) / m
    return -(math.log(speed) + log_density + log_area + log_transverse)


def _grid(H: np.ndarray, pred: SGDExitPrediction, lo: float, hi: float, n: int) -> np.ndarray:
    """n values of B / eta at which the estimated mean exit time runs from lo to hi (in units of 1 / lambda_min)."""
    P, r, v0 = pred.quasipotential.P, pred.radius, pred.fw_slope

    def solve(target: float) -> float:
        def f(u: float) -> float:
            return _log_exit_time_estimate(H, P, r, u / v0) - math.log(target / pred.lambda_min)

        # the estimate is meaningful where it increases with u: search above its minimum
        us = np.linspace(1.0, 200.0, 400)
        u_lo = float(us[int(np.argmin([f(u) for u in us]))])
        if f(u_lo) >= 0:
            return u_lo
        return float(optimize.brentq(f, u_lo, 200.0, xtol=1e-6))

    return np.linspace(solve(lo), solve(hi), n) / v0


@dataclasses.dataclass(frozen=True, eq=False)
class SGDExitExperiment:
    """Simulated slope of log E[tau] in B / eta next to the theories (see `sgd_exit_time_experiment`).

    Attributes
    ----------
    prediction : the `SGDExitPrediction` (FW and 003 slopes).
    inverse_noise : (n,) the values of B / eta; batch_size : (n,) B = inverse_noise * eta.
    mean, stderr : (n,) mean exit times (time units: t, or k eta for the map) and standard errors; censored : (n,)
        censored paths per point (the mean is then the exponential MLE).
    fit : the straight-line fit of log mean in B / eta (003's Figure 2 reading).
    corrected_fit : the same with the prefactor power m / 2 divided out (the slope to compare with V0); m counts
        the directions along which V on the sphere stays within 1 / (B / eta) of V0 (so nearly tied directions
        count as flat at the simulated noise levels).
    params : lr, dt, n_paths, seed, the matrices.
    results : the `SweepResult` behind the means.
    """

    prediction: SGDExitPrediction
    inverse_noise: np.ndarray
    batch_size: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    censored: np.ndarray
    fit: ArrheniusFit
    corrected_fit: ArrheniusFit
    params: dict[str, Any]
    results: Any

    @property
    def fw_agrees(self) -> bool:
        """The FW slope lies in the interval of the corrected fit."""
        lo, hi = self.corrected_fit.barrier_ci
        return bool(lo <= self.prediction.fw_slope <= hi)

    @property
    def paper_agrees(self) -> bool:
        """003's slope lies in the interval of the corrected fit or of the straight-line fit."""
        p = self.prediction.paper_slope
        return any(lo <= p <= hi for lo, hi in (self.corrected_fit.barrier_ci, self.fit.barrier_ci))

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible numbers."""
        p = self.prediction

        def fit(f: ArrheniusFit) -> dict[str, Any]:
            return {"slope": f.barrier, "stderr": f.barrier_stderr, "ci": list(f.barrier_ci),
                    "prefactor": f.prefactor, "power": f.power, "chi2": f.chi2, "dof": f.dof}

        return {
            "noise": p.noise, "dynamics": p.dynamics, "radius": p.radius, "lambda_min": p.lambda_min,
            "multiplicity": p.multiplicity, "fw_slope": p.fw_slope, "fw_continuous_slope": p.fw_continuous_slope,
            "paper_slope": p.paper_slope, "fit": fit(self.fit), "corrected_fit": fit(self.corrected_fit),
            "fw_agrees": self.fw_agrees, "paper_agrees": self.paper_agrees,
            "points": [{"inverse_noise": float(x), "batch_size": float(b), "mean": float(m), "stderr": float(s),
                        "censored": int(c)}
                       for x, b, m, s, c in zip(self.inverse_noise, self.batch_size, self.mean, self.stderr,
                                                self.censored)],
            "params": self.params,
        }


def sgd_exit_time_experiment(
    H: ArrayLike, radius: float, *, noise: str = "isotropic", dynamics: str = "continuous", lr: float | None = None,
    inverse_noise: Sequence[float] | None = None, n_points: int = 5, time_range: tuple[float, float] = (8.0, 150.0),
    n_paths: int = 200, dt: float | None = None, seed: int = 0, threads: int | None = None,
    progress: bool | None = False, confidence: float = 0.95,
) -> SGDExitExperiment:
    """Measure the slope of log E[tau] in B / eta for SGD leaving the ball |theta| < r around the minimum 0 of
    theta^T H theta / 2, and set it next to the Freidlin–Wentzell and the 003 slopes.

    Every path starts at the minimum. The continuous SDE runs as ``GaussianSGD(lr, B, C).continuous(dt)`` (a
    `Langevin` with eps = sqrt(eta / B), S = C^{1/2}; Brownian-bridge exit test), the discrete map as
    ``GaussianSGD(lr, B, C)`` with its exit step counted as time k eta. The batch size B varies at fixed eta (a
    `sweep`, common random numbers). Two weighted fits of log E[tau]: the straight line (what 003 plots) and the
    one with the prefactor's power m / 2 divided out, whose slope converges to V0 (the straight line is biased
    low by about m / (2 B / eta) at moderate B / eta).

    Parameters
    ----------
    H : (d, d) symmetric positive definite.
    radius : r.
    noise : "isotropic" (C = I) or "hessian" (C = H).
    dynamics : "continuous" or "discrete".
    lr : eta; default 0.1 / lambda_max(H).
    inverse_noise : the values of B / eta; default `n_points` values where the mean exit time is expected to run
        over `time_range` (in units of 1 / lambda_min).
    n_paths : paths per point.
    dt : the SDE's time step (default 0.1 / lambda_max(H)); ignored for the map.
    seed, threads, progress : as in `simulate`.
    confidence : level of the slope intervals.

    Returns
    -------
    SGDExitExperiment
    """
    from ..dynamics import GaussianSGD
    from ..landscapes import Quadratic
    from ..regions import Ball
    from ..sweep import sweep

    if dynamics not in _DYNAMICS:
        raise ValueError(f"dynamics must be one of {_DYNAMICS}, got dynamics={dynamics!r}")
    if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) or n_points < 3:
        raise ValueError(f"n_points must be an integer >= 3, got n_points={n_points!r}")
    Hm = as_square_matrix("H", H, symmetric=True)
    w = np.linalg.eigvalsh(Hm)
    eta = 0.1 / float(w[-1]) if lr is None else float(lr)
    pred = sgd_exit_time_prediction(Hm, radius, noise=noise, lr=eta if dynamics == "discrete" else None)
    lam = pred.lambda_min
    if inverse_noise is None:
        lo, hi = (float(v) for v in time_range)
        if not 0 < lo < hi:
            raise ValueError(f"time_range must be (low, high) with 0 < low < high, got time_range={time_range!r}")
        x = _grid(Hm, pred, lo, hi, int(n_points))
        t_cap = 40.0 * hi / lam
    else:
        x = np.asarray(inverse_noise, dtype=np.float64)
        if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x) & (x > 0)):
            raise ValueError(f"inverse_noise must hold two or more positive values, got "
                             f"inverse_noise={inverse_noise!r}")
        t_cap = None
    C = _noise_matrix(Hm, noise)
    d = Hm.shape[0]
    step = 0.1 / float(w[-1]) if dt is None else float(dt)
    batch = x * eta
    sgd = GaussianSGD(lr=eta, batch_size=float(batch[0]), C=C)
    stop = Ball(center=np.zeros(d), radius=pred.radius)
    if t_cap is None:
        # a generous cap from the FW estimate at the largest B / eta
        t_cap = 40.0 * math.exp(min(pred.fw_slope * float(x.max()), 50.0)) / lam
    common: dict[str, Any] = dict(x0=np.zeros(d), stop=stop, n_paths=int(n_paths), seed=seed, threads=threads,
                                  progress=progress, seeds="common")
    if dynamics == "continuous":
        res = sweep(Quadratic(Hm), sgd.continuous(step), grid={"dynamics.eps": [float(v) for v in np.sqrt(1 / x)]},
                    t_max=t_cap, **common)
        unit = 1.0
    else:
        res = sweep(Quadratic(Hm), sgd, grid={"dynamics.batch_size": [float(b) for b in batch]},
                    max_steps=int(math.ceil(t_cap / eta)), **common)
        unit = eta
    means, errors, censored = [], [], []
    for r in res.results:
        st = r.stats()
        s = st.summary()
        n_cens = s.counts["CENSORED"]
        if n_cens:
            m = (st.total_time + st.censored_time) / max(st.n_stopped, 1)
            se = m / math.sqrt(max(st.n_stopped, 1))
        else:
            m, se = s.mean, s.stderr
        means.append(m * unit)
        errors.append(se * unit)
        censored.append(n_cens)
    mean, stderr = np.array(means), np.array(errors)
    fit = arrhenius_fit(x, mean, stderr, scale="inverse", confidence=confidence)
    # directions whose V on the sphere exceeds V0 by less than 1 / (B / eta) count as flat at these noise levels
    m_eff = pred.quasipotential.exit_multiplicity(rtol=1.0 / (pred.fw_slope * float(np.median(x))))
    corrected = arrhenius_fit(x, mean, stderr, scale="inverse", power=m_eff / 2, confidence=confidence)
    params = {"H": Hm.tolist(), "C": C.tolist(), "lr": eta, "dt": step if dynamics == "continuous" else None,
              "n_paths": int(n_paths), "seed": seed, "t_cap": t_cap}
    return SGDExitExperiment(prediction=pred, inverse_noise=x, batch_size=batch, mean=mean, stderr=stderr,
                             censored=np.array(censored), fit=fit, corrected_fit=corrected, params=params, results=res)
