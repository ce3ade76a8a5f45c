"""Dynamics: how a state moves one step (integrators of SDEs, and later discrete optimizer maps)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._spec import Spec
from ._validate import as_array, as_float


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dynamics(Spec):
    dt: float


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Langevin(Dynamics):
    """Overdamped Langevin dynamics (continuous SGD), integrated by Euler–Maruyama with step `dt`.

    Either isotropic noise at a temperature::

        dX = -grad f(X) dt + sqrt(2 T) dW          Langevin(temperature=T, dt=...)

    or constant-covariance noise with a d x k matrix S (default the identity)::

        dX = -grad f(X) dt + eps S dW              Langevin(eps=..., S=..., dt=...)

    With S omitted, eps is isotropic noise and the same as temperature = eps**2 / 2.
    """

    temperature: float | None = None
    eps: float | None = None
    S: np.ndarray | None = None

    def __init__(
        self,
        temperature: float | None = None,
        *,
        dt: float,
        eps: float | None = None,
        S: ArrayLike | None = None,
    ) -> None:
        object.__setattr__(self, "dt", as_float("dt", dt, positive=True))
        if (temperature is None) == (eps is None):
            raise ValueError(
                f"give exactly one of temperature and eps, got temperature={temperature!r}, eps={eps!r}"
            )
        if temperature is not None:
            if S is not None:
                raise ValueError("S goes with eps (dX = -grad f dt + eps S dW), not with temperature")
            temperature = as_float("temperature", temperature, nonnegative=True)
        else:
            eps = as_float("eps", eps, nonnegative=True)
            if S is None:
                temperature, eps = eps**2 / 2, None
            else:
                S = as_array("S", S, ndim=2)
        object.__setattr__(self, "temperature", temperature)
        object.__setattr__(self, "eps", eps)
        object.__setattr__(self, "S", S)

    def diffusion_matrix(self, dim: int) -> np.ndarray:
        """Sigma = B B^T, the noise covariance per unit time, in dimension `dim`."""
        if self.S is None:
            return 2.0 * self._temperature() * np.eye(dim)
        B = self._eps() * self.S
        return B @ B.T

    def noise_scale(self) -> float:
        """sqrt(2 T) for isotropic noise (the coefficient of dW)."""
        if self.S is not None:
            raise ValueError("noise_scale is defined for isotropic noise only; use diffusion_matrix")
        return math.sqrt(2.0 * self._temperature())

    # Exactly one of the two forms is set (checked in __init__): isotropic (temperature) or eps with S.
    def _temperature(self) -> float:
        assert self.temperature is not None
        return self.temperature

    def _eps(self) -> float:
        assert self.eps is not None
        return self.eps

    def _to_core(self) -> Any:
        if self.S is None:
            return _core.Langevin(temperature=self._temperature(), dt=self.dt)
        return _core.Langevin(S=self.S, eps=self._eps(), dt=self.dt)
