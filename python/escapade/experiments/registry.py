"""The registry of reproductions: one entry per source document's experiment or figure, read by both
`escapade reproduce` and `escapade.experiments.reproduce`."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from .. import _core
from .._validate import as_int
from ..simulate import SEMANTICS
from .report import Report

__all__ = ["REPRODUCTIONS", "Reproduction", "reproduce"]


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """A registered reproduction: its name, a one-line description, and the module of `escapade.experiments`
    whose ``run(*, paths, seed, threads, progress) -> Report`` makes it (imported only when it runs)."""

    name: str
    description: str
    module: str

    def run(self, *, paths: int | None = None, seed: int = 0, threads: int | None = None,
            progress: bool | None = None) -> Report:
        """Run it; the report's document starts with the name, description, version, semantics (`simulate`'s
        `SEMANTICS`: what its runs compute), seed and design (which the text ends with). `paths`: paths per run,
        at least 2 for a standard error (None: the reproduction's own default)."""
        if paths is not None:
            paths = as_int("paths", paths, minimum=2)
        module = importlib.import_module(f"{__package__}.{self.module}")
        report: Report = module.run(paths=paths, seed=seed, threads=threads, progress=progress)
        head: dict[str, Any] = {"name": self.name, "description": self.description, "version": _core.__version__,
                                "semantics": SEMANTICS, "seed": seed}
        text = report.text
        if report.design is not None:
            head["design"] = report.design.to_dict()
            text += "\n\n" + report.design.text()
        return dataclasses.replace(report, data={**head, **report.data}, text=text)


#: name -> `Reproduction`, in the order `escapade reproduce --list` shows them.
REPRODUCTIONS: dict[str, Reproduction] = {r.name: r for r in [
    Reproduction(
        "double-well-bias",
        "bias of the double-well mean exit time vs dt, with and without the Brownian-bridge test "
        "(exact value by quadrature; default 20000 paths)",
        "double_well",
    ),
    Reproduction(
        "sgd-exit-time",
        "003's exit-time formulas for SGD (isotropic and Hessian noise, continuous and discrete, d = 2 and 10) "
        "against Freidlin-Wentzell and simulation (default 200 paths per point)",
        "sgd_exit_time",
    ),
    Reproduction(
        "mlp-exit-time",
        "003's Section 6 and Figure 2: mean exit times of minibatch SGD from an r-ball around a trained MLP minimum "
        "(diabetes data) vs sharpness alpha, radius r and B / eta, against Freidlin-Wentzell and 003 (default 200 "
        "paths per point)",
        "mlp_exit_time",
    ),
    Reproduction(
        "constrained-ackley",
        "000's Tables I and II and Figures 1-4: success rates of the forced projected flow on the Ackley variant "
        "under a parabola constraint, 289 grid and uniform starts (--paths: the large uniform sample, default 10000)",
        "constrained_ackley",
    ),
    Reproduction(
        "saddle-escape",
        "iterations to escape a strict saddle vs dimension and curvature (GD, noisy GD, perturbed GD, SGD), and "
        "GD vs perturbed GD on Du et al.'s chain of saddles vs dimension (default 100 paths per row)",
        "saddles",
    ),
    Reproduction(
        "stable-manifold",
        "the local stable manifold of Perko's example by the Lyapunov-Perron iteration and by bisection, against "
        "its exact form x3 = -x1^2/3 (default 50 points)",
        "stable_manifold",
    ),
    Reproduction(
        "sgdk-thresholds",
        "004's Sections 4-5 and Figures 5-12: convergence and divergence step-size bounds of SGD-k at the minimizers "
        "of quadratic-circle and Styblinski-Tang sums, checked by 20-iteration runs (default 100 paths per setting)",
        "sgdk_thresholds",
    ),
]}


def reproduce(name: str, *, paths: int | None = None, seed: int = 0, threads: int | None = None,
              progress: bool | None = None) -> Report:
    """Run the registered reproduction `name` (see `REPRODUCTIONS`) and return its `Report`: ``report.text`` is
    the table `escapade reproduce NAME` prints, ``report.data`` its JSON document, ``report.save(dir, name)``
    writes both with the results and figures."""
    if name not in REPRODUCTIONS:
        raise ValueError(f"unknown reproduction {name!r}; available: {', '.join(sorted(REPRODUCTIONS))}")
    return REPRODUCTIONS[name].run(paths=paths, seed=seed, threads=threads, progress=progress)
