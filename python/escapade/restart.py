"""Stochastic resetting: `Restart(dynamics, rate=r)` (Poisson restarts) or `Restart(dynamics, period=tau)` (sharp
restarts) moves a running path back to its start, or to a fresh draw of a sampler, while its clock runs on."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._settings import MAX_STEPS
from ._spec import spec_from_table
from ._validate import as_array, as_float
from .dynamics import Dynamics, dynamics_from_table
from .starts import StartSampler


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Restart(Dynamics):
    """`dynamics` with stochastic resetting: a running path restarts, at the end of a step, at the events of a
    Poisson process of rate `rate` or every `period` (exactly one of them), its clock running on, so exit times
    count from the first start (search with resetting, random restarts of an optimizer).

    rate : restarts per unit time; each step ends with a restart with probability 1 - exp(-rate dt), so the restart
        times are the Poisson process's rounded up to the step grid (an O(dt) delay). rate = 0 never restarts.
    period : restart every round(period / dt) steps (at least one).
    to : where a path restarts: None (default) its own starting point, a point (d,), or a sampler (`UniformBox`,
        `Gaussian`, ...) drawn anew at each restart.

    Whether a path restarts after step k, and where to, depends on (seed, path, k) only, drawn from a stream of its
    own: results are the same bits for any thread count, and the noise is that of the run without restarts. A path
    that exits in a step is not restarted at its end. Dynamics with their own clock (adaptive `ConstrainedFlow`)
    cannot restart.
    """

    dynamics: Dynamics
    rate: float | None = None
    period: float | None = None
    to: StartSampler | np.ndarray | None = None

    def __init__(self, dynamics: Dynamics, *, rate: float | None = None, period: float | None = None,
                 to: ArrayLike | StartSampler | None = None) -> None:
        # Tables {"type": ..., ...} (a configuration file, a recorded to_dict()) name the objects.
        dynamics = dynamics_from_table("dynamics", dynamics)
        to = spec_from_table("to", to, StartSampler)
        if not isinstance(dynamics, Dynamics) or isinstance(dynamics, Restart):
            raise TypeError(f"dynamics must be an escapade Dynamics (not itself a Restart), got {dynamics!r}")
        if dynamics._own_clock:
            raise ValueError(f"dynamics must step on a fixed grid to restart, got adaptive steps {dynamics!r}")
        if (rate is None) == (period is None):
            raise ValueError(f"give exactly one of rate and period, got rate={rate!r}, period={period!r}")
        if rate is not None:
            rate = as_float("rate", rate, nonnegative=True)
        if period is not None:
            period = as_float("period", period, positive=True)
            if period / dynamics.dt < 0.5:
                raise ValueError(f"period must be at least half a step (dt={dynamics.dt}), got {period}")
            if not period / dynamics.dt <= MAX_STEPS:  # the core rounds period / dt to a whole number of steps
                raise ValueError(f"period must be at most {MAX_STEPS} steps of dt={dynamics.dt} (the step cap), "
                                 f"got {period}")
        if to is not None and not isinstance(to, StartSampler):
            to = as_array("to", to, ndim=1)
        object.__setattr__(self, "dt", dynamics.dt)
        object.__setattr__(self, "dynamics", dynamics)
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "to", to)

    @property
    def _own_clock(self) -> bool:
        return False

    def _check_steps(self, max_steps: int) -> None:
        self.dynamics._check_steps(max_steps)

    def _check_time(self, t_max: float) -> None:
        self.dynamics._check_time(t_max)

    def to_dict(self) -> dict[str, Any]:
        to: Any = self.to
        if isinstance(to, StartSampler):
            to = to.to_dict()
        elif isinstance(to, np.ndarray):
            to = to.tolist()
        return {"type": "Restart", "dt": self.dt, "dynamics": self.dynamics.to_dict(), "rate": self.rate,
                "period": self.period, "to": to}

    def _to_core(self) -> Any:  # the engine runs the dynamics itself; the restarts are `_restart_core`
        return self.dynamics._core

    def _restart_core(self) -> Any:
        to = None
        if isinstance(self.to, StartSampler):
            to = self.to._core
        elif isinstance(self.to, np.ndarray):
            to = _core.FixedStart(self.to)
        if self.rate is not None and self.rate == 0:
            return None  # never restarts: the run is the dynamics' own, bit for bit
        return _core.Restart(rate=self.rate or 0.0, period=self.period or 0.0, to=to)
