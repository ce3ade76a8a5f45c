"""`escapade reproduce mlp-exit-time`: 003's neural-network experiment (Section 6, Figure 2), mean exit times of
real minibatch SGD from the r-ball around a trained minimum of a small network, against the sharpness alpha, the
radius r and B / eta, next to the Freidlin-Wentzell exponent of the quadratic approximation and 003's
exp(2 B r^2 sqrt(alpha lambda_min) / eta). See `escapade.analysis.mlp`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .analysis.mlp import MLPExitExperiment, mlp_exit_time_experiment

DEFAULT_PATHS = 200
LABELS = {"alpha": "sharpness alpha", "radius": "radius r", "inverse_noise": "B / eta"}


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


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Any:
    from .cli import Report, _format_table

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
        lines.append(_format_table(header, rows))
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
