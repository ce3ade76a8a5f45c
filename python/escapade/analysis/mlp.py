"""003's neural-network experiment (Section 6, Figure 2): SGD leaving an r-ball around a minimum of a small network,
against the sharpness alpha, the radius r and the noise level sqrt(eta / B).

The network is `MLP` (one hidden tanh layer, mean squared loss with an l2 penalty) on a subset of the diabetes data,
trained to a minimum theta* (L-BFGS with the landscape's gradient, then Newton steps with its exact Hessian).

Sharpness. 003 varies it through L_alpha(theta) = L(sqrt(alpha) theta), whose minimum is theta* / sqrt(alpha) with
Hessian alpha H(theta*) (`SharpnessScaled` evaluates L_alpha, its gradient and Hessian). SGD on L_alpha is SGD on L
in the coordinates phi = sqrt(alpha) theta, exactly: a step theta' = theta - eta sqrt(alpha) g(sqrt(alpha) theta)
(g a minibatch gradient of L, or grad L plus noise of covariance alpha C(phi) / B, C the per-sample covariance of
L's gradients, which is what the per-sample gradients of L_alpha have) reads phi' = phi - (alpha eta) g(phi). So
the experiment runs SGD on L itself with step alpha eta, from theta*, until it leaves the ball of radius
sqrt(alpha) r around theta* (the image of the r-ball around theta* / sqrt(alpha)); its k steps are the time k eta of
the original run. Nothing is approximated and the core runs the network without a Python callback.

Noise. ``noise="minibatch"`` is real SGD (`SGDk`, B samples drawn with replacement: the gradient noise has exactly
the per-sample covariance C(theta) / B, as in 003's Figure 2); ``noise="empirical"`` is `GaussianSGD` with that
covariance, ``C="empirical"`` (003's Gaussian model with the network's own C, at every point). Hessian-shaped noise
(``C="hessian"``) would need an eigendecomposition of the d x d Hessian per step, and at a minimum of a squared loss
C is close to the Gauss-Newton part of H anyway; it is left out.

Theory, both at the quadratic approximation around the minimum (H = Hessian, C = per-sample covariance at theta*):
the Freidlin-Wentzell exponent of the discrete map theta_{k+1} = (I - eta H) theta_k + (eta / sqrt(B)) C^{1/2} xi,
log E[tau] ~ V0 B / eta (`linear_quasipotential`, discrete), and 003's exp(2 B r^2 sqrt(alpha lambda_min) / eta)
(Theorem 2 with C = H). With alpha: FW's V0 depends on alpha only through the step alpha eta (the discrete
correction), while 003's exponent grows as sqrt(alpha). The experiment also simulates that quadratic model itself
(Gaussian SGD with the fixed H and C on `Quadratic(H)`) over B / eta, to separate what the local theory gets
wrong about the quadratic model from what the network does beyond it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from .arrhenius import ArrheniusFit, arrhenius_fit
from .quasipotential import linear_quasipotential

__all__ = ["MLPExitExperiment", "MLPMinimum", "SharpnessScaled", "mlp_exit_time_experiment", "mlp_minimum"]

_NOISES = ("minibatch", "empirical")


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


def _fw_slope(H: np.ndarray, C: np.ndarray, lr: float, radius: float) -> float:
    """V0 of the map theta' = (I - lr H) theta + (lr / sqrt(B)) C^{1/2} xi for the ball of `radius`
    (log E[steps] ~ V0 B / lr)."""
    w, V = np.linalg.eigh(C)
    half = (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T
    qp = linear_quasipotential(np.eye(H.shape[0]) - lr * H, math.sqrt(lr) * half, discrete=True)
    return qp.ball_exit(radius)[0]


@dataclasses.dataclass(frozen=True, eq=False)
class MLPExitExperiment:
    """Mean exit times of SGD from the r-ball around a network's minimum (see `mlp_exit_time_experiment`).

    Attributes
    ----------
    minimum : the `MLPMinimum`.
    series : "alpha", "radius", "inverse_noise" -> a dict with "values" (the varied quantity), "mean", "stderr"
        (exit times in units of time k eta), "censored", "fw" and "paper" (the predicted log E[tau] exponents
        V0 B / eta and 2 (B / eta) r^2 sqrt(alpha lambda_min) at each value), "fit" (an `ArrheniusFit` of log mean
        against the value: its barrier is the fitted slope), "fw_slope" and "paper_slope" (the slopes of the two
        exponents over the series, from their end points) and the fixed parameters; the "inverse_noise" series also
        has "quadratic" ("mean", "stderr", "censored", "lower_bound" = E[min(tau, cap)]): the same Gaussian SGD on
        the quadratic approximation.
    params : the network, data and SGD settings.
    elapsed : seconds of simulation.
    """

    minimum: MLPMinimum
    series: dict[str, dict[str, Any]]
    params: dict[str, Any]
    elapsed: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible numbers."""
        m = self.minimum
        out: dict[str, Any] = {
            "params": self.params,
            "minimum": {"loss": m.value, "gradient_norm": m.gradient_norm, "iterations": m.iterations,
                        "lambda_min": float(m.eigenvalues[0]), "lambda_max": float(m.eigenvalues[-1]),
                        "eigenvalues": [float(v) for v in m.eigenvalues],
                        "covariance_eigenvalues_top": [float(v) for v in np.linalg.eigvalsh(m.covariance)[::-1][:5]]},
            "series": {},
            "elapsed": self.elapsed,
        }
        for name, s in self.series.items():
            f: ArrheniusFit = s["fit"]
            out["series"][name] = {
                **{k: v for k, v in s.items() if k not in ("fit", "values", "mean", "stderr", "censored", "fw",
                                                            "paper", "quadratic")},
                "fit": {"slope": f.barrier, "stderr": f.barrier_stderr, "ci": list(f.barrier_ci),
                        "prefactor": f.prefactor},
                "points": [{"value": float(v), "mean": float(mu), "stderr": float(se), "censored": int(c),
                            "fw_exponent": float(a), "paper_exponent": float(b)}
                           for v, mu, se, c, a, b in zip(s["values"], s["mean"], s["stderr"], s["censored"], s["fw"],
                                                         s["paper"])],
            }
            if "quadratic" in s:
                q = s["quadratic"]
                out["series"][name]["quadratic_model"] = [
                    {"value": float(v), "mean": float(mu), "stderr": float(se), "censored": int(c),
                     "lower_bound": float(lb)}
                    for v, mu, se, c, lb in zip(s["values"], q["mean"], q["stderr"], q["censored"], q["lower_bound"])]
        return out


def _positive_list(name: str, values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x) & (x > 0)):
        raise ValueError(f"{name} must hold two or more positive values, got {name}={values!r}")
    return x


def mlp_exit_time_experiment(
    *, n_samples: int = 100, hidden: int = 8, l2: float = 0.01, noise: str = "minibatch", lr: float = 0.05,
    batch_size: int = 3, radius: float = 0.5, alphas: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
    radii: Sequence[float] = (0.3, 0.4, 0.5, 0.6), batch_sizes: Sequence[int] = (1, 2, 3, 4),
    n_paths: int = 200, max_steps: int = 200_000, quadratic_max_steps: int = 40_000, seed: int = 0,
    threads: int | None = None, progress: bool | None = False,
) -> MLPExitExperiment:
    """003's Figure 2 on a real network: mean exit times of SGD from the r-ball around a minimum of `MLP`, against
    the sharpness alpha (L_alpha(theta) = L(sqrt(alpha) theta)), the radius r and B / eta.

    The network: `MLP(X, y, hidden, l2=l2)` on the first `n_samples` rows of the standardized diabetes data
    (`escapade.datasets.load_diabetes`, needs scikit-learn), trained to a minimum by `mlp_minimum`. Every path
    starts at the minimum; one quantity varies at a time, the others held at alpha = 1, `radius`, `batch_size`.
    The sharpness acts through the exact change of variables of `escapade.analysis.mlp` (step alpha eta, ball of
    radius sqrt(alpha) r). Times are k eta, k the exit step. Each series is fitted by weighted least squares of
    log E[tau] on the varied quantity (on B / eta for the noise series, as 003 plots it).

    Parameters
    ----------
    n_samples, hidden, l2 : the network and its data.
    noise : "minibatch" (`SGDk`, real minibatches of `batch_size` samples with replacement) or "empirical"
        (`GaussianSGD` with C = the per-sample gradient covariance at each point).
    lr : eta (at alpha = 1); alpha eta lambda_max must stay below 2.
    batch_size, radius : B and r where they are held fixed.
    alphas, radii, batch_sizes : the values of each series.
    n_paths : paths per point; max_steps : the cap per path (censored paths enter the mean as the exponential MLE;
        when every path is censored the mean is the cap, a lower bound, with a standard error equal to it).
    quadratic_max_steps : the cap for the quadratic model of the B / eta series (0: skip it): Gaussian SGD with the
        fixed H and C of the minimum on `Quadratic(H)`, the model both theories describe, for comparison.
    seed : the training seed and the simulation seed (common to every point); threads, progress : as in `simulate`.

    Returns
    -------
    MLPExitExperiment
    """
    from .. import datasets
    from ..dynamics import SGDk, GaussianSGD
    from ..landscapes import MLP, Quadratic
    from ..regions import Ball
    from ..simulate import simulate

    if noise not in _NOISES:
        raise ValueError(f"noise must be one of {_NOISES}, got noise={noise!r}")
    if isinstance(quadratic_max_steps, (bool, np.bool_)) or not isinstance(quadratic_max_steps, (int, np.integer)) \
            or quadratic_max_steps < 0:
        raise ValueError(f"quadratic_max_steps must be a non-negative integer, got "
                         f"quadratic_max_steps={quadratic_max_steps!r}")
    for name, v in (("n_samples", n_samples), ("hidden", hidden), ("n_paths", n_paths), ("max_steps", max_steps),
                    ("batch_size", batch_size)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {name}={v!r}")
    for name, f in (("lr", lr), ("radius", radius), ("l2", l2)):
        if not (isinstance(f, (int, float, np.floating)) and math.isfinite(f) and f > 0):
            raise ValueError(f"{name} must be a positive number, got {name}={f!r}")
    a_values = _positive_list("alphas", alphas)
    r_values = _positive_list("radii", radii)
    b_values = _positive_list("batch_sizes", batch_sizes)
    if noise == "minibatch" and not np.all(b_values == np.round(b_values)):
        raise ValueError(f"batch_sizes must be integers for noise='minibatch', got batch_sizes={batch_sizes!r}")
    X, y = datasets.load_diabetes()
    if n_samples > X.shape[0]:
        raise ValueError(f"n_samples must be at most {X.shape[0]}, got n_samples={n_samples!r}")
    net = MLP(X[:n_samples], y[:n_samples], hidden=int(hidden), l2=float(l2))
    mini = mlp_minimum(net, seed=seed)
    H, C, lam_min, lam_max = mini.hessian, mini.covariance, float(mini.eigenvalues[0]), float(mini.eigenvalues[-1])
    if float(a_values.max()) * lr * lam_max >= 2:
        raise ValueError(f"lr={lr!r} is too large: alpha lr lambda_max = {float(a_values.max()) * lr * lam_max:.3g} "
                         f">= 2 at alpha = {float(a_values.max()):g} (lambda_max = {lam_max:.3g})")
    eta = float(lr)
    elapsed = 0.0

    quad = Quadratic(H)

    def run(alpha: float, r: float, B: float, model: str = "network") -> tuple[float, float, int, float]:
        nonlocal elapsed
        step = alpha * eta
        t0 = time.perf_counter()
        if model == "quadratic":
            # the quadratic approximation: Gaussian SGD on theta^T H theta / 2 with the fixed C of the minimum
            res = simulate(quad, GaussianSGD(lr=step, batch_size=float(B), C=C), x0=np.zeros(H.shape[0]),
                           stop=Ball(center=np.zeros(H.shape[0]), radius=math.sqrt(alpha) * r),
                           n_paths=int(n_paths), max_steps=int(quadratic_max_steps), seed=seed, threads=threads,
                           progress=progress)
        else:
            if noise == "minibatch":
                dyn: Any = SGDk(lr=step, batch_size=int(B), replace=True)
            else:
                dyn = GaussianSGD(lr=step, batch_size=float(B), C="empirical")
            res = simulate(net, dyn, x0=mini.theta, stop=Ball(center=mini.theta, radius=math.sqrt(alpha) * r),
                           n_paths=int(n_paths), max_steps=int(max_steps), seed=seed, threads=threads,
                           progress=progress)
        elapsed += time.perf_counter() - t0
        st = res.stats()
        s = st.summary()
        n_cens = s.counts["CENSORED"]
        if n_cens and not st.n_stopped:  # no exit at all: the cap is a lower bound, with a 100% error
            m = se = st.censored_time / n_cens
        elif n_cens:
            m = (st.total_time + st.censored_time) / st.n_stopped
            se = m / math.sqrt(st.n_stopped)
        else:
            m, se = s.mean, s.stderr
        # E[min(tau, cap)], a lower bound on E[tau]
        restricted = (st.total_time + st.censored_time) / max(st.n_stopped + n_cens, 1)
        # the run's time unit is one step (discrete map); a step is eta of the original time
        return m * eta, se * eta, int(n_cens), restricted * eta

    def paper(alpha: float, r: float, B: float) -> float:
        return 2 * (B / eta) * r**2 * math.sqrt(alpha * lam_min)

    def fw(alpha: float, r: float, B: float) -> float:
        # the map in phi = sqrt(alpha) theta: step alpha eta, ball sqrt(alpha) r; exponent V0 B / (alpha eta)
        return _fw_slope(H, C, alpha * eta, math.sqrt(alpha) * r) * B / (alpha * eta)

    series: dict[str, dict[str, Any]] = {}
    specs = [("alpha", a_values, lambda v: (float(v), radius, float(batch_size))),
             ("radius", r_values, lambda v: (1.0, float(v), float(batch_size))),
             ("inverse_noise", b_values, lambda v: (1.0, radius, float(v)))]
    for name, values, point in specs:
        rows = [run(*point(v)) for v in values]
        mean = np.array([r[0] for r in rows])
        stderr = np.array([r[1] for r in rows])
        fw_e = np.array([fw(*point(v)) for v in values])
        paper_e = np.array([paper(*point(v)) for v in values])
        x = values / eta if name == "inverse_noise" else values
        fit = arrhenius_fit(x, mean, stderr, scale="inverse")
        slope = (lambda e: float((e[-1] - e[0]) / (x[-1] - x[0])))  # noqa: E731
        series[name] = {"values": x, "mean": mean, "stderr": stderr, "censored": np.array([r[2] for r in rows]),
                        "fw": fw_e, "paper": paper_e, "fit": fit, "fw_slope": slope(fw_e),
                        "paper_slope": slope(paper_e),
                        "fixed": {k: v for k, v in (("alpha", 1.0), ("radius", radius),
                                                    ("batch_size", batch_size)) if k != name and
                                  not (name == "inverse_noise" and k == "batch_size")}}
        if name == "inverse_noise" and quadratic_max_steps > 0:
            q = [run(*point(v), model="quadratic") for v in values]
            series[name]["quadratic"] = {"mean": np.array([r[0] for r in q]), "stderr": np.array([r[1] for r in q]),
                                         "censored": np.array([r[2] for r in q]),
                                         "lower_bound": np.array([r[3] for r in q])}
    params = {"data": f"diabetes (standardized), first {n_samples} samples", "n_samples": int(n_samples),
              "hidden": int(hidden), "l2": float(l2), "dim": int(net.dim), "noise": noise, "lr": eta,
              "batch_size": int(batch_size), "radius": float(radius), "alphas": a_values.tolist(),
              "radii": r_values.tolist(), "batch_sizes": b_values.tolist(), "n_paths": int(n_paths),
              "max_steps": int(max_steps), "quadratic_max_steps": int(quadratic_max_steps), "seed": seed,
              "sharpness": "L_alpha(theta) = L(sqrt(alpha) theta), simulated as SGD on L with step alpha eta from "
                           "theta*, exit from the ball of radius sqrt(alpha) r (exact change of variables)"}
    return MLPExitExperiment(minimum=mini, series=series, params=params, elapsed=elapsed)
