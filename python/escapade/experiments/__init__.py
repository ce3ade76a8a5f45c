"""Every reproduction of the source documents (000-004, see docs/index.md#sources), one module per source or
figure, and the ready-made experiments they are built from (tidy tables and result objects):

- `reproduce(name, ...)` runs a registered reproduction and returns its `Report`; `REPRODUCTIONS` is the registry
  that `escapade reproduce` reads too;
- `saddle_escape_times`, `octopus_escape_times`, `octopus_gd`, `saddle_avoidance` (saddles: 001, 002),
  `sgd_exit_time_experiment` (003 on quadratics, plain Monte Carlo), `sgd_small_noise_experiment` (the same at small
  noise by adaptive multilevel splitting), `mlp_exit_time_experiment` (003's Figure 2 on a trained network),
  `quadratic_circle_model` and `styblinski_tang_model` (004's test problems, as sgdk-thresholds builds them).

The modules load on first use (`import escapade` stays light).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach
from .registry import REPRODUCTIONS, Reproduction, reproduce
from .report import Design, Report

if TYPE_CHECKING:
    from .mlp_exit_time import MLPExitExperiment, mlp_exit_time_experiment
    from .saddles import (ESCAPE_METHODS, OCTOPUS_METHODS, OctopusGD, escape_dynamics, octopus_escape_times, octopus_gd,
                          saddle_avoidance, saddle_escape_times)
    from .sgd_exit_time import (SGDExitExperiment, SGDSmallNoiseSeries, sgd_exit_time_experiment,
                                sgd_small_noise_experiment)
    from .sgdk_thresholds import quadratic_circle_model, styblinski_tang_model

_LAZY = {
    "MLPExitExperiment": "mlp_exit_time", "mlp_exit_time_experiment": "mlp_exit_time",
    "ESCAPE_METHODS": "saddles", "OCTOPUS_METHODS": "saddles", "OctopusGD": "saddles", "escape_dynamics": "saddles",
    "octopus_escape_times": "saddles", "octopus_gd": "saddles",
    "saddle_avoidance": "saddles", "saddle_escape_times": "saddles",
    "SGDExitExperiment": "sgd_exit_time", "sgd_exit_time_experiment": "sgd_exit_time",
    "SGDSmallNoiseSeries": "sgd_exit_time", "sgd_small_noise_experiment": "sgd_exit_time",
    "quadratic_circle_model": "sgdk_thresholds", "styblinski_tang_model": "sgdk_thresholds",
}
__all__ = sorted(["REPRODUCTIONS", "Design", "Report", "Reproduction", "reproduce", *_LAZY])
__getattr__, __dir__ = attach(__name__, __all__, attributes=_LAZY)
