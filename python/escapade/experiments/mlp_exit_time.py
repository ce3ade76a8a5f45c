"""`escapade reproduce mlp-exit-time`: 003's neural-network experiment (Section 6, Figure 2), real minibatch SGD leaving an r-ball around a minimum of a small network,
against the sharpness alpha, the radius r and the noise level sqrt(eta / B).

The network is `MLP` (one hidden tanh layer, mean squared loss with an l2 penalty) on a subset of the diabetes data,
trained to a minimum theta* by `escapade.analysis.mlp_minimum`.

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

Regime. Both theories describe rare exits, whose times are exponential (coefficient of variation 1). Each point
reports the coefficient of variation of its exit times (`analysis.coefficient_of_variation`); at 003's settings
(B / eta up to 80) it is 0.1-0.5, so the paths travel out rather than wait for a rare fluctuation, and neither
theory is expected to hold there. The exit times behave like t0 + an exponential time, CV ~ 1 - t0 / E[tau], with
t0 the relaxation to the quasi-stationary state, set by the flattest direction (1 / lambda_min); on the main
network (lambda_min = 0.0026) CV 0.85 takes E[tau] of 10^4 time units and more, 10^5-10^6 steps a path. The
"rare" series therefore runs on a smaller network with a larger weight decay (hidden 4, l2 = 0.02: d = 49,
lambda_min = 0.0070, half the cost per sample; 003 fixes neither), at B / eta = 70-80 (B = 7, eta = B / x), where
the coefficient of variation is 0.88-0.95 with at most 1.5% of the paths censored, and compares the slope there with
the two theories evaluated on that network's H and C.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import datasets
from ..analysis.arrhenius import ArrheniusFit, arrhenius_fit
from ..analysis.estimates import censored_mean
from ..analysis.mlp import MLPMinimum, mlp_minimum
from ..analysis.quasipotential import linear_quasipotential
from ..analysis.statistics import coefficient_of_variation, exponential_fit
from ..analysis.survival import survival_data
from ..dynamics import GaussianSGD, SGDk
from ..landscapes import MLP, Quadratic
from ..regions import Ball
from ..simulate import simulate
from .report import Design, Report, finite, format_table

__all__ = ["MLPExitExperiment", "mlp_exit_time_experiment", "run"]

DEFAULT_PATHS = 200
LABELS = {"alpha": "sharpness alpha", "radius": "radius r", "inverse_noise": "B / eta", "rare": "B / eta"}
_NOISES = ("minibatch", "empirical")


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
    series : "alpha", "radius", "inverse_noise", "rare" -> a dict with "values" (the varied quantity), "mean",
        "stderr" (exit times in units of time k eta; with censored paths the exponential MLE, see
        `mlp_exit_time_experiment`), "censored", "cv", "cv_stderr", "cv_method" (the coefficient of variation of
        the exit times, `analysis.coefficient_of_variation`), "lr" (eta at each point), "seed" (each point's
        simulation seed), "fw" and "paper" (the predicted log E[tau] exponents
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
        per_point = ("values", "mean", "stderr", "censored", "cv", "cv_stderr", "cv_method", "lr", "seed", "fw",
                     "paper")
        for name, s in self.series.items():
            f: ArrheniusFit = s["fit"]
            out["series"][name] = {
                **{k: v for k, v in s.items() if k not in ("fit", "quadratic", *per_point)},
                "fit": {"slope": f.barrier, "stderr": f.barrier_stderr, "ci": list(f.barrier_ci),
                        "prefactor": f.prefactor},
                "points": [{"value": float(v), "mean": float(mu), "stderr": float(se), "censored": int(c),
                            "cv": finite(cv), "cv_stderr": finite(cs), "cv_method": cm, "lr": float(lr),
                            "seed": int(sd), "fw_exponent": float(a), "paper_exponent": float(b)}
                           for v, mu, se, c, cv, cs, cm, lr, sd, a, b in zip(*(s[k] for k in per_point))],
            }
            if "quadratic" in s:
                q = s["quadratic"]
                out["series"][name]["quadratic_model"] = [
                    {"value": float(v), "mean": float(mu), "stderr": float(se), "censored": int(c),
                     "lower_bound": float(lb)}
                    for v, mu, se, c, lb in zip(s["values"], q["mean"], q["stderr"], q["censored"], q["lower_bound"])]
        return out


def _point_seed(seed: int, index: int) -> int:
    """The simulation seed of the experiment's index-th distinct point: its own stream, so that no two rows share
    random numbers (with one seed for all, the radius rows would be the same paths stopped at different radii)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _positive_list(name: str, values: Sequence[float]) -> np.ndarray:
    """Two or more distinct positive values (a series, and an Arrhenius fit over it)."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        x = np.zeros(0)
    if x.ndim != 1 or np.unique(x).size < 2 or not np.all(np.isfinite(x) & (x > 0)):
        raise ValueError(f"{name} must hold two or more distinct positive values, got {name}={values!r}")
    return x


def mlp_exit_time_experiment(
    *, n_samples: int = 100, hidden: int = 8, l2: float = 0.01, noise: str = "minibatch", lr: float = 0.05,
    batch_size: int = 3, radius: float = 0.5, alphas: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
    radii: Sequence[float] = (0.3, 0.4, 0.5, 0.6), batch_sizes: Sequence[int] = (1, 2, 3, 4),
    rare_inverse_noise: Sequence[float] = (70.0, 75.0, 80.0), rare_batch_size: int = 7,
    rare_hidden: int | None = 4, rare_l2: float | None = 0.02, rare_max_steps: int = 400_000,
    n_paths: int = 200, max_steps: int = 200_000, quadratic_max_steps: int = 40_000, seed: int = 0,
    threads: int | None = None, progress: bool | None = False,
) -> MLPExitExperiment:
    """003's Figure 2 on a real network: mean exit times of SGD from the r-ball around a minimum of `MLP`, against
    the sharpness alpha (L_alpha(theta) = L(sqrt(alpha) theta)), the radius r and B / eta, and over B / eta again
    where the exits are rare events.

    The network: `MLP(X, y, hidden, l2=l2)` on the first `n_samples` rows of the standardized diabetes data
    (`escapade.datasets.load_diabetes`, needs scikit-learn), trained to a minimum by `mlp_minimum`. Every path
    starts at the minimum; one quantity varies at a time, the others held at alpha = 1, `radius`, `batch_size`.
    The sharpness acts through the exact change of variables of `escapade.analysis.mlp` (step alpha eta, ball of
    radius sqrt(alpha) r). Times are k eta, k the exit step. Each series is fitted by weighted least squares of
    log E[tau] on the varied quantity (on B / eta for the noise series, as 003 plots it).

    Every point reports the coefficient of variation of its exit times (1 for the exponential law of rare exits;
    `analysis.coefficient_of_variation`, the censored Weibull fit's where paths were censored). At 003's settings
    it is far below 1: the "rare" series (B = `rare_batch_size`, eta = B / x for x in `rare_inverse_noise`,
    alpha = 1, r = `radius`, on the network with `rare_hidden` units and weight decay `rare_l2`) is where it is
    close to 1, the regime the theories claim.

    Parameters
    ----------
    n_samples, hidden, l2 : the network and its data.
    noise : "minibatch" (`SGDk`, real minibatches of `batch_size` samples with replacement) or "empirical"
        (`GaussianSGD` with C = the per-sample gradient covariance at each point).
    lr : eta (at alpha = 1); alpha eta lambda_max must stay below 2.
    batch_size, radius : B and r where they are held fixed.
    alphas, radii, batch_sizes : the values of each series.
    rare_inverse_noise, rare_batch_size, rare_max_steps : the rare series' B / eta values (empty: skip it), its B
        and its cap per path.
    rare_hidden, rare_l2 : the rare series' network, `MLP` on the same data trained from the same seed (None: the
        main network's `hidden`, `l2`). The default, 4 units and l2 = 0.02, has lambda_min 0.0070 against the main
        network's 0.0026, so its exits lose the memory of the start (CV near 1) at E[tau] ~ 10^3 time units.
    n_paths : paths per point (at least 2); max_steps : the cap per path. A point with censored paths reports the
        exponential MLE of the mean, total time at risk / events, with its standard error mean / sqrt(events)
        (`analysis.exponential_fit`); when every path is censored, the restricted mean E[min(tau, cap)]
        (`analysis.estimates.censored_mean`), a lower bound, with a standard error equal to it.
    quadratic_max_steps : the cap for the quadratic model of the B / eta series (0: skip it): Gaussian SGD with the
        fixed H and C of the minimum on `Quadratic(H)`, the model both theories describe, for comparison.
    seed : the training seed; each distinct point is simulated with its own seed drawn from it (the point the three
        series of 003's figure share, alpha = 1, r = `radius`, B = `batch_size`, is simulated once). threads, progress : as in
        `simulate`.

    Returns
    -------
    MLPExitExperiment
    """
    if noise not in _NOISES:
        raise ValueError(f"noise must be one of {_NOISES}, got noise={noise!r}")
    if isinstance(quadratic_max_steps, (bool, np.bool_)) or not isinstance(quadratic_max_steps, (int, np.integer)) \
            or quadratic_max_steps < 0:
        raise ValueError(f"quadratic_max_steps must be a non-negative integer, got "
                         f"quadratic_max_steps={quadratic_max_steps!r}")
    # the rare series' network: its own hidden width and weight decay (None: the main network's)
    rare_hidden = hidden if rare_hidden is None else rare_hidden
    rare_l2 = l2 if rare_l2 is None else rare_l2
    for name, v in (("n_samples", n_samples), ("hidden", hidden), ("n_paths", n_paths), ("max_steps", max_steps),
                    ("batch_size", batch_size), ("rare_batch_size", rare_batch_size),
                    ("rare_max_steps", rare_max_steps), ("rare_hidden", rare_hidden)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {name}={v!r}")
    if n_paths < 2:  # a standard error needs two paths
        raise ValueError(f"n_paths must be at least 2, got n_paths={n_paths!r}")
    for name, f in (("lr", lr), ("radius", radius), ("l2", l2), ("rare_l2", rare_l2)):
        if isinstance(f, (bool, np.bool_)) or not (isinstance(f, (int, float, np.integer, np.floating))
                                                   and math.isfinite(f) and f > 0):
            raise ValueError(f"{name} must be a positive number, got {name}={f!r}")
    a_values = _positive_list("alphas", alphas)
    r_values = _positive_list("radii", radii)
    b_values = _positive_list("batch_sizes", batch_sizes)
    if isinstance(rare_inverse_noise, (str, bytes)) or not np.iterable(rare_inverse_noise):
        raise TypeError(f"rare_inverse_noise must be a sequence of values (empty: no rare series), got "
                        f"rare_inverse_noise={rare_inverse_noise!r}")
    rare_values = (_positive_list("rare_inverse_noise", rare_inverse_noise) if len(rare_inverse_noise)
                   else np.zeros(0))
    if noise == "minibatch" and not np.all(b_values == np.round(b_values)):
        raise ValueError(f"batch_sizes must be integers for noise='minibatch', got batch_sizes={batch_sizes!r}")
    X, y = datasets.load_diabetes()
    if n_samples > X.shape[0]:
        raise ValueError(f"n_samples must be at most {X.shape[0]}, got n_samples={n_samples!r}")
    net = MLP(X[:n_samples], y[:n_samples], hidden=int(hidden), l2=float(l2))
    mini = mlp_minimum(net, seed=seed)
    H, C, lam_max = mini.hessian, mini.covariance, float(mini.eigenvalues[-1])
    if float(a_values.max()) * lr * lam_max >= 2:
        raise ValueError(f"lr={lr!r} is too large: alpha lr lambda_max = {float(a_values.max()) * lr * lam_max:.3g} "
                         f">= 2 at alpha = {float(a_values.max()):g} (lambda_max = {lam_max:.3g})")
    rare_shape = (int(rare_hidden), float(rare_l2))
    if rare_shape == (int(hidden), float(l2)):
        rare_net, rare_mini = net, mini
    else:
        rare_net = MLP(X[:n_samples], y[:n_samples], hidden=rare_shape[0], l2=rare_shape[1])
        rare_mini = mlp_minimum(rare_net, seed=seed)
    if rare_values.size and rare_batch_size / float(rare_values.min()) * float(rare_mini.eigenvalues[-1]) >= 2:
        raise ValueError(f"rare_inverse_noise={rare_inverse_noise!r} is too small for rare_batch_size="
                         f"{rare_batch_size}: eta = B / x must keep eta lambda_max below 2")
    eta = float(lr)
    elapsed = 0.0

    quad = Quadratic(H)
    points: dict[tuple[Any, ...], dict[str, Any]] = {}  # each distinct point, simulated once with its own seed

    def run(alpha: float, r: float, B: float, step_lr: float, model: str = "network",
            cap: int = int(max_steps), rare: bool = False) -> dict[str, Any]:
        nonlocal elapsed
        network, m0 = (rare_net, rare_mini) if rare else (net, mini)
        key = (alpha, r, B, step_lr, model, cap, network is net)
        if key in points:
            return points[key]
        point_seed = _point_seed(seed, len(points))
        step = alpha * step_lr
        t0 = time.perf_counter()
        if model == "quadratic":
            # the quadratic approximation: Gaussian SGD on theta^T H theta / 2 with the fixed C of the minimum
            res = simulate(quad, GaussianSGD(lr=step, batch_size=float(B), C=C), x0=np.zeros(H.shape[0]),
                           stop=Ball(center=np.zeros(H.shape[0]), radius=math.sqrt(alpha) * r),
                           n_paths=int(n_paths), max_steps=int(quadratic_max_steps), seed=point_seed,
                           threads=threads, progress=progress)
        else:
            if noise == "minibatch":
                dyn: Any = SGDk(lr=step, batch_size=int(B), replace=True)
            else:
                dyn = GaussianSGD(lr=step, batch_size=float(B), C="empirical")
            res = simulate(network, dyn, x0=m0.theta, stop=Ball(center=m0.theta, radius=math.sqrt(alpha) * r),
                           n_paths=int(n_paths), max_steps=cap, seed=point_seed, threads=threads,
                           progress=progress)
        elapsed += time.perf_counter() - t0
        # the run's time unit is one step (discrete map); a step is step_lr of the original time
        t, observed = survival_data(res)
        t = t * step_lr
        fit = exponential_fit(t, observed)
        # E[min(tau, cap)], a lower bound on E[tau]; the mean itself when no path is censored
        cap_steps = quadratic_max_steps if model == "quadratic" else cap
        restricted, restricted_se, identified = censored_mean(t, observed, cap_steps * step_lr)
        if identified:
            m, se = restricted, restricted_se
        elif fit.events:
            m, se = fit.mean, fit.mean_stderr
        else:  # no exit at all: the cap is a lower bound, with a 100% error
            m = se = restricted
        cv = coefficient_of_variation(t, observed)
        points[key] = {"mean": m, "stderr": se, "censored": fit.censored, "lower_bound": restricted,
                       "cv": cv.value, "cv_stderr": cv.stderr, "cv_method": cv.method, "seed": point_seed,
                       "paths": int(t.size)}
        return points[key]

    def paper(alpha: float, r: float, B: float, step_lr: float, m0: MLPMinimum = mini) -> float:
        return 2 * (B / step_lr) * r**2 * math.sqrt(alpha * float(m0.eigenvalues[0]))

    def fw(alpha: float, r: float, B: float, step_lr: float, m0: MLPMinimum = mini) -> float:
        # the map in phi = sqrt(alpha) theta: step alpha eta, ball sqrt(alpha) r; exponent V0 B / (alpha eta)
        return _fw_slope(m0.hessian, m0.covariance, alpha * step_lr, math.sqrt(alpha) * r) * B / (alpha * step_lr)

    series: dict[str, dict[str, Any]] = {}
    B_rare = float(rare_batch_size)
    specs: list[tuple[str, np.ndarray, Callable[[float], tuple[float, float, float, float]], int]] = [
        ("alpha", a_values, lambda v: (float(v), radius, float(batch_size), eta), int(max_steps)),
        ("radius", r_values, lambda v: (1.0, float(v), float(batch_size), eta), int(max_steps)),
        ("inverse_noise", b_values, lambda v: (1.0, radius, float(v), eta), int(max_steps))]
    if rare_values.size:
        specs.append(("rare", rare_values, lambda v: (1.0, radius, B_rare, B_rare / float(v)), int(rare_max_steps)))
    # the theories before any run: a noise covariance too degenerate for the FW exponent is refused at once
    theories = {}
    for name, values, point, _ in specs:
        m0 = rare_mini if name == "rare" else mini
        try:
            theories[name] = (np.array([fw(*point(v), m0=m0) for v in values]),
                              np.array([paper(*point(v), m0=m0) for v in values]))
        except ValueError as exc:
            raise ValueError(f"the gradient noise at the minimum does not reach every direction of the network's "
                             f"{m0.theta.size} parameters with n_samples={n_samples}: take more samples ({exc})") from exc
    for name, values, point, cap in specs:
        rows = [run(*point(v), cap=cap, rare=name == "rare") for v in values]
        mean = np.array([r["mean"] for r in rows])
        stderr = np.array([r["stderr"] for r in rows])
        fw_e, paper_e = theories[name]
        x = values / eta if name == "inverse_noise" else values
        # both theories give log E[steps]; E[tau] = eta E[steps], and eta varies along the rare series
        lrs = np.array([point(v)[3] for v in values])
        fit = arrhenius_fit(x, mean / lrs, stderr / lrs, x="inverse")
        slope = (lambda e: float((e[-1] - e[0]) / (x[-1] - x[0])))  # noqa: E731
        series[name] = {"values": x, "mean": mean, "stderr": stderr,
                        **{k: np.array([r[k] for r in rows]) for k in ("censored", "cv", "cv_stderr", "seed")},
                        "cv_method": [r["cv_method"] for r in rows],
                        "lr": lrs,
                        "fw": fw_e, "paper": paper_e, "fit": fit, "fw_slope": slope(fw_e),
                        "paper_slope": slope(paper_e), "max_steps": cap,
                        "fixed": {k: v for k, v in (("alpha", 1.0), ("radius", radius),
                                                    ("batch_size", rare_batch_size if name == "rare" else batch_size))
                                  if k != name and not (name == "inverse_noise" and k == "batch_size")}}
        if name == "rare":
            series[name]["network"] = {"hidden": rare_shape[0], "l2": rare_shape[1], "dim": int(rare_net.dim),
                                       "lambda_min": float(rare_mini.eigenvalues[0]),
                                       "lambda_max": float(rare_mini.eigenvalues[-1]), "loss": rare_mini.value}
        if name == "inverse_noise" and quadratic_max_steps > 0:
            q = [run(*point(v), model="quadratic") for v in values]
            series[name]["quadratic"] = {k: np.array([r[k] for r in q])
                                         for k in ("mean", "stderr", "censored", "lower_bound", "seed")}
    params = {"data": f"diabetes (standardized), first {n_samples} samples", "n_samples": int(n_samples),
              "hidden": int(hidden), "l2": float(l2), "dim": int(net.dim), "noise": noise, "lr": eta,
              "batch_size": int(batch_size), "radius": float(radius), "alphas": a_values.tolist(),
              "radii": r_values.tolist(), "batch_sizes": b_values.tolist(),
              "rare_inverse_noise": rare_values.tolist(), "rare_batch_size": int(rare_batch_size),
              "rare_hidden": rare_shape[0], "rare_l2": rare_shape[1],
              "rare_max_steps": int(rare_max_steps), "n_paths": int(n_paths),
              "max_steps": int(max_steps), "quadratic_max_steps": int(quadratic_max_steps), "seed": int(seed),
              "distinct_points": len(points),
              "seeds": "each distinct point its own stream, SeedSequence([seed, k]) for the k-th point simulated",
              "sharpness": "L_alpha(theta) = L(sqrt(alpha) theta), simulated as SGD on L with step alpha eta from "
                           "theta*, exit from the ball of radius sqrt(alpha) r (exact change of variables)"}
    return MLPExitExperiment(minimum=mini, series=series, params=params, elapsed=elapsed)


def _figure(e: MLPExitExperiment) -> Callable[[Path], None]:
    """log E[tau] against alpha, r and B / eta, with the FW and 003 exponents shifted to the first point."""

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(e.series), figsize=(4 * len(e.series), 3.6))
        for ax, (name, s) in zip(axes, e.series.items()):
            x, m, se = s["values"], s["mean"], s["stderr"]
            logm = np.log(m)
            ax.errorbar(x, logm, yerr=se / m, fmt="o", color="k", label="simulation", capsize=3)
            ax.plot(x, logm[0] + s["fw"] - s["fw"][0], "-", label="Freidlin-Wentzell (quadratic)")
            ax.plot(x, logm[0] + s["paper"] - s["paper"][0], "--", label="003 (shape)")
            if "quadratic" in s:
                q = s["quadratic"]
                cens = q["censored"] > 0
                ax.plot(x[~cens], np.log(q["mean"][~cens]), "s", mfc="none", color="gray", label="quadratic model")
                ax.plot(x[cens], np.log(q["lower_bound"][cens]), "^", mfc="none", color="gray",
                        label="quadratic model (lower bound)")
            ax.set_xlabel(LABELS[name] + (" (rare exits)" if name == "rare" else ""))
            ax.set_ylabel("log E[tau]")
        for ax in axes:
            ax.legend(fontsize=7)
        p = e.params
        fig.suptitle(f"SGD exit from the r-ball around an MLP minimum (d = {p['dim']}, {p['noise']}, eta = "
                     f"{p['lr']:g}, {p['n_paths']} paths per point)", fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)

    return draw


def _cell(mean: float, stderr: float, censored: int, paths: int) -> str:
    """E[tau] ± SE, flagged when paths were censored (the mean is then the exponential MLE, or a lower bound when
    no path exited)."""
    text = f"{mean:.4g} ± {stderr:.2g}"
    if censored == paths:
        return f">= {mean:.4g} (all censored)"
    if censored:
        text += " (MLE)"
    return text


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    n_paths = DEFAULT_PATHS if paths is None else paths
    e = mlp_exit_time_experiment(n_paths=n_paths, seed=seed, threads=threads, progress=progress)
    doc = e.to_dict()
    m = e.minimum
    p = e.params
    lines = [
        "Mean exit time of minibatch SGD from the r-ball around a minimum of an MLP (003, Section 6, Figure 2)",
        f"network: {p['data']}, hidden {p['hidden']} tanh, l2 {p['l2']:g}, d = {p['dim']}; eta = {p['lr']:g} "
        f"(rare series: eta = B / x), {n_paths} paths per point",
        f"minimum: loss {m.value:.5f}, |grad| {m.gradient_norm:.2e}, Hessian eigenvalues {m.eigenvalues[0]:.4g} .. "
        f"{m.eigenvalues[-1]:.4g} (all positive)",
        "alpha: L_alpha(theta) = L(sqrt(alpha) theta), run exactly as SGD on L with step alpha eta and ball radius "
        "sqrt(alpha) r",
        "FW: V0 B / eta of the discrete map's quadratic approximation (H, per-sample covariance C at the minimum);",
        "003: 2 (B / eta) r^2 sqrt(alpha lambda_min). Slopes: of log E[steps] (both theories' unit; E[tau] = eta",
        "E[steps]) per unit of the varied quantity.",
        "quadratic model: Gaussian SGD with the same H and C on theta^T H theta / 2 (what both theories describe), "
        f"capped at {p['quadratic_max_steps']} steps (with censored paths: E[min(tau, cap)], a lower bound)",
        "CV: coefficient of variation sd / mean of the exit times (1 for the exponential law of rare exits; the",
        "censored Weibull fit's where paths were censored). Where it is far from 1 the exits are not rare events:",
        "the paths travel out of the ball rather than wait for a fluctuation, and neither Freidlin-Wentzell nor",
        "003 is expected to apply. The rare series (B / eta = "
        + ", ".join(f"{v:g}" for v in p["rare_inverse_noise"]) + f"; hidden {p['rare_hidden']}, l2 "
        f"{p['rare_l2']:g}) goes to where it is close to 1; its FW and 003 exponents use that network's H, C.",
        "(MLE): paths censored; the mean is the exponential MLE (total time at risk / events).",
        "",
    ]
    summary = {}
    for name, s in e.series.items():
        f = s["fit"]
        rows = [[f"{v:g}", _cell(mu, sd, int(c), n_paths), str(int(c)),
                 f"{cv:.2f} ± {cs:.2f}" if math.isfinite(cv) else "n/a", f"{math.log(mu):.3f}", f"{a:.3f}",
                 f"{b:.3f}"]
                for v, mu, sd, c, cv, cs, a, b in zip(s["values"], s["mean"], s["stderr"], s["censored"], s["cv"],
                                                      s["cv_stderr"], s["fw"], s["paper"])]
        header = [LABELS[name], "E[tau] ± SE", "censored", "CV ± SE", "log E[tau]", "FW exponent", "003 exponent"]
        if "quadratic" in s:
            q = s["quadratic"]
            header.append("quadratic model E[tau] (censored)")
            for row, mu, sd, c, lb in zip(rows, q["mean"], q["stderr"], q["censored"], q["lower_bound"]):
                row.append(f">= {lb:.4g} ({int(c)})" if c else f"{mu:.4g} ± {sd:.2g} (0)")
        title = "rare exits: B / eta" if name == "rare" else LABELS[name]
        net_text = ""
        if name == "rare":
            nw = s["network"]
            net_text = (f"; eta = B / x, cap {s['max_steps']} steps; network hidden {nw['hidden']}, l2 {nw['l2']:g}, "
                        f"d = {nw['dim']}, lambda {nw['lambda_min']:.4g} .. {nw['lambda_max']:.4g}")
        lines.append(f"{title} (fixed: " + ", ".join(f"{k} = {v:g}" for k, v in s["fixed"].items()) + net_text + ")")
        lines.append(format_table(header, rows))
        cvs = s["cv"][np.isfinite(s["cv"])]
        # close to 1 by the estimate and by its error: within 0.2, and within 0.35 at two standard errors
        gap = np.abs(s["cv"] - 1)
        near = (gap <= 0.2) & (gap + 2 * s["cv_stderr"] <= 0.35)
        regime = ("" if not cvs.size else
                  f"  CV {cvs.min():.2f}-{cvs.max():.2f}: " + (
                      "close to 1 (within 0.2; 0.35 at 2 SE), rare exits: the regime of both theories"
                      if np.all(near) else
                      "far from 1, not rare exits: neither theory is expected to apply here" if not np.any(near) else
                      "close to 1 (within 0.2; 0.35 at 2 SE) only at "
                      + ", ".join(f"{v:g}" for v in s["values"][near])
                      + ": rare exits there, not at the others"))
        lines.append(f"  slope of log E[steps]: fitted {f.barrier:.4g} [{f.barrier_ci[0]:.4g}, {f.barrier_ci[1]:.4g}]"
                     f"; FW {s['fw_slope']:.4g}; 003 {s['paper_slope']:.4g}")
        if regime:
            lines.append(regime)
        lines.append("")
        summary[name] = {"fitted_slope": f.barrier, "ci": list(f.barrier_ci), "fw_slope": s["fw_slope"],
                         "paper_slope": s["paper_slope"],
                         "cv_range": [float(cvs.min()), float(cvs.max())] if cvs.size else None}
    lines.append(f"{e.elapsed:.1f} s of simulation.")
    data = {
        **doc,
        "summary": summary,
    }
    rows_total = sum(len(s["values"]) for s in e.series.values())
    network_points = p["distinct_points"] - (len(e.series["inverse_noise"]["values"])
                                             if "quadratic" in e.series["inverse_noise"] else 0)
    censored = {name: int(np.sum(s["censored"])) for name, s in e.series.items()}
    quad = e.series["inverse_noise"].get("quadratic")
    design = Design(
        dt=f"one SGD step is eta = {p['lr']:g} time units (alpha series: the step alpha eta on L); rare series: "
           f"B = {p['rare_batch_size']}, eta = B / x = "
           + ", ".join(f"{v:.4g}" for v in e.series["rare"]["lr"]) if "rare" in e.series else
           f"one SGD step is eta = {p['lr']:g} time units (alpha series: the step alpha eta on L)",
        paths=f"{n_paths} per point",
        seeds=f"training seed {seed}; each of the {p['distinct_points']} distinct simulated points has its own "
              f"stream SeedSequence([{seed}, k]); the point alpha = 1, r = {p['radius']:g}, B = {p['batch_size']} "
              "is one run, shown in all three of 003's series",
        censoring=f"cap {p['max_steps']} steps ({p['rare_max_steps']} in the rare series); censored paths per "
                  "series " + ", ".join(f"{k} {v}" for k, v in censored.items())
                  + (f"; quadratic model capped at {p['quadratic_max_steps']} steps, {int(np.sum(quad['censored']))}"
                     " censored (its mean is then a lower bound)" if quad is not None else "")
                  + "; a point with censored paths is marked (MLE) in the table",
        rows=rows_total, independent=network_points,
        choices=(
            f"data: {p['data']} (scikit-learn's diabetes regression), where 003 uses the AVILA classification data; "
            "both theories need only the minimum's H and C (the table prints H's eigenvalue range), so the dataset "
            "changes the numbers, not what is compared",
            f"{n_paths} paths per point (003: 1000 repeats); the standard errors are printed",
            f"network and SGD: one hidden tanh layer of {p['hidden']}, l2 {p['l2']:g}, eta {p['lr']:g}, "
            f"B {p['batch_size']}, r {p['radius']:g}, minibatches drawn with replacement (003's text states none of "
            "these values)",
            "time unit: the table's E[tau] is k eta (003 counts steps k); the fitted slopes are of log E[steps], the "
            "unit of both theories (the same slope where eta is fixed; in the rare series, where eta = B / x, "
            "log E[k eta] would add -log x)",
            f"the rare series runs another network (hidden {p['rare_hidden']}, l2 {p['rare_l2']:g}), whose exits "
            "are rare at affordable B / eta; 003's settings give coefficients of variation far below 1",
        ))
    return Report(data=data, text="\n".join(lines), results={}, figures={"mlp-exit-time": _figure(e)},
                  design=design)
