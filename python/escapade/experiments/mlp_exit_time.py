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
from ..analysis.mlp import MLPMinimum, mlp_minimum
from ..analysis.quasipotential import linear_quasipotential
from ..dynamics import GaussianSGD, SGDk
from ..landscapes import MLP, Quadratic
from ..regions import Ball
from ..simulate import simulate
from .report import Report, format_table

__all__ = ["MLPExitExperiment", "mlp_exit_time_experiment", "run"]

DEFAULT_PATHS = 200
LABELS = {"alpha": "sharpness alpha", "radius": "radius r", "inverse_noise": "B / eta"}
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


def _figure(e: MLPExitExperiment) -> Callable[[Path], None]:
    """log E[tau] against alpha, r and B / eta, with the FW and 003 exponents shifted to the first point."""

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
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
            ax.set_xlabel(LABELS[name])
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


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    n_paths = DEFAULT_PATHS if paths is None else paths
    e = mlp_exit_time_experiment(n_paths=n_paths, seed=seed, threads=threads, progress=progress)
    doc = e.to_dict()
    m = e.minimum
    lines = [
        "Mean exit time of minibatch SGD from the r-ball around a minimum of an MLP (003, Section 6, Figure 2)",
        f"network: {e.params['data']}, hidden {e.params['hidden']} tanh, l2 {e.params['l2']:g}, d = "
        f"{e.params['dim']}; eta = {e.params['lr']:g}, {n_paths} paths per point, seed {seed}",
        f"minimum: loss {m.value:.5f}, |grad| {m.gradient_norm:.2e}, Hessian eigenvalues {m.eigenvalues[0]:.4g} .. "
        f"{m.eigenvalues[-1]:.4g} (all positive)",
        "alpha: L_alpha(theta) = L(sqrt(alpha) theta), run exactly as SGD on L with step alpha eta and ball radius "
        "sqrt(alpha) r",
        "FW: V0 B / eta of the discrete map's quadratic approximation (H, per-sample covariance C at the minimum);",
        "003: 2 (B / eta) r^2 sqrt(alpha lambda_min). Slopes: of log E[tau] per unit of the varied quantity.",
        "quadratic model: Gaussian SGD with the same H and C on theta^T H theta / 2 (what both theories describe), "
        f"capped at {e.params['quadratic_max_steps']} steps (with censored paths: E[min(tau, cap)], a lower bound)",
        "",
    ]
    summary = {}
    for name, s in e.series.items():
        f = s["fit"]
        rows = [[f"{v:g}", f"{mu:.4g} ± {sd:.2g}", str(int(c)), f"{math.log(mu):.3f}", f"{a:.3f}", f"{b:.3f}"]
                for v, mu, sd, c, a, b in zip(s["values"], s["mean"], s["stderr"], s["censored"], s["fw"],
                                              s["paper"])]
        header = [LABELS[name], "E[tau] ± SE", "censored", "log E[tau]", "FW exponent", "003 exponent"]
        if "quadratic" in s:
            q = s["quadratic"]
            header.append("quadratic model E[tau] (censored)")
            for row, mu, sd, c, lb in zip(rows, q["mean"], q["stderr"], q["censored"], q["lower_bound"]):
                row.append(f">= {lb:.4g} ({int(c)})" if c else f"{mu:.4g} ± {sd:.2g} (0)")
        lines.append(f"{LABELS[name]} (fixed: " + ", ".join(f"{k} = {v:g}" for k, v in s["fixed"].items()) + ")")
        lines.append(format_table(header, rows))
        lines.append(f"  slope of log E[tau]: fitted {f.barrier:.4g} [{f.barrier_ci[0]:.4g}, {f.barrier_ci[1]:.4g}]"
                     f"; FW {s['fw_slope']:.4g}; 003 {s['paper_slope']:.4g}")
        lines.append("")
        summary[name] = {"fitted_slope": f.barrier, "ci": list(f.barrier_ci), "fw_slope": s["fw_slope"],
                         "paper_slope": s["paper_slope"]}
    lines.append(f"{e.elapsed:.1f} s of simulation.")
    data = {
        **doc,
        "summary": summary,
    }
    return Report(data=data, text="\n".join(lines), results={}, figures={"mlp-exit-time": _figure(e)})
