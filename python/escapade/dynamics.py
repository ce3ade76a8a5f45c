"""Dynamics: how a state moves one step. Integrators of SDEs (time in units of dt) and discrete optimizer maps
(time counted in iterations: dt = 1)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import sys
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core, constraints as constraint_module, forcing as forcing_module
from ._settings import MAX_STEPS
from ._spec import Spec, _plain, public_specs, spec_from_table
from ._validate import MAX_DIM, as_array, as_float, as_int, as_square_matrix, as_times
from .constraints import Constraint
from .custom import Diffusion, as_diffusion
from .forcing import Forcing
from .landscapes import Landscape


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dynamics(Spec):
    dt: float

    def _check_steps(self, max_steps: int) -> None:
        """Raise ValueError if this dynamics cannot run `max_steps` steps (e.g. a too short step-size table)."""

    def _check_time(self, t_max: float) -> None:
        """Raise ValueError if this dynamics cannot run up to time `t_max` (e.g. a forcing's horizon)."""

    @property
    def _own_clock(self) -> bool:
        """Whether each path keeps its own time (adaptive steps): t_max then caps that time."""
        return False

    @classmethod
    def _from_record(cls, args: dict[str, Any]) -> dict[str, Any]:
        """The constructor arguments of a table `to_dict()` recorded (without the fields the class sets itself):
        values JSON could not write restored (`dynamics_from_table`)."""
        return args


_STATE_NOISE = ("hessian", "empirical")


def _state_noise(name: str, value: str) -> str:
    if value not in _STATE_NOISE:
        raise ValueError(f"{name} must be a matrix, 'hessian' or 'empirical', got {value!r}")
    return value


def _forcing_arg(forcing: Any) -> Any:
    """A dynamics' `forcing` argument: a Forcing (or a table naming one), or None."""
    forcing = _spec_from_table("forcing", forcing, forcing_module, Forcing)
    if forcing is not None and not isinstance(forcing, Forcing):
        raise TypeError(f"forcing must be an escapade Forcing (Periodic, BrownianForcing, RandomDirections, "
                        f"TableForcing, Ramp) or None, got {forcing!r}")
    return forcing


def _check_horizon(forcing: Any, t_max: float) -> None:
    """t_max: the last time the run reaches (its whole steps; rounding of steps * dt aside)."""
    if forcing is not None and t_max > forcing._horizon() * (1 + 1e-12):
        raise ValueError(f"t_max must be at most the forcing's horizon {forcing._horizon()}, got {t_max} (the run's "
                         "whole steps)")


def _stable_alpha(alpha: float) -> float:
    alpha = as_float("alpha", alpha)
    if not 0 < alpha <= 2:
        raise ValueError(f"alpha must be in (0, 2], got {alpha}")
    return alpha


SCHEMES = ("euler", "heun")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Langevin(Dynamics):
    """Overdamped Langevin dynamics (continuous SGD), integrated with step `dt` by Euler–Maruyama (or Heun's scheme).

    Either isotropic noise at a temperature::

        dX = -grad f(X) dt + sqrt(2 T) dW          Langevin(temperature=T, dt=...)

    or constant-covariance noise with a d x k matrix S (default the identity)::

        dX = -grad f(X) dt + eps S dW              Langevin(eps=..., S=..., dt=...)

    or state-dependent noise, S = "hessian" (S(X) = the PSD square root of the Hessian at X, negative
    eigenvalues clipped to 0) or S = "empirical" (on a finite sum, a factor of the covariance of the terms'
    gradients at X; see `GaussianSGD`)::

        dX = -grad f(X) dt + eps C(X)^{1/2} dW     Langevin(eps=..., S="hessian", dt=...)

    or a user's state-dependent factor S(x) (d x k), a numba function `S(x, out)` or a batched Python function
    `S(x (lanes, d)) -> (lanes, d, k)` (or a `CompiledDiffusion` / `BatchedDiffusion`; k = d unless
    `noise_dim` says otherwise), in the Ito convention (the step uses S at its start)::

        dX = b(X, t) dt + eps S(X) dW              Langevin(eps=..., S=callable, dt=...)

    With `ito_correction=True` the drift is the one whose stationary law is exp(-f / T), T = eps**2 / 2, for
    the diffusion D = T S S^T: b = -S S^T grad f + T div(S S^T) (the divergence by central differences of S S^T;
    a landscape is needed). The bridge test stays on with each step's covariance eps**2 S S^T frozen at the
    step's start (an O(dt) error in the exit law, like the Euler scheme's own; exact for constant S).

    The drift b is -grad f of a landscape, or the field of a `Drift` (`LinearDrift`, `TiltedPeriodic`,
    `CompiledDrift`, `BatchedDrift`: a vector field used as given, never as a gradient), plus the time-dependent
    `forcing` w(t) when given (`Periodic`, `BrownianForcing`, `RandomDirections`, `TableForcing`, `Ramp`, the
    objects `ConstrainedFlow` takes), evaluated at each step's start time t = step * dt. A `Ramp` forcing makes
    the landscape depend on time linearly, f(x, t) = f(x) - (w0 + rate t) . x; a time-dependent `CompiledDrift`
    or `BatchedDrift` is any b(x, t).

    `scheme` is "euler" (Euler–Maruyama, the default) or "heun": for constant noise (isotropic or a matrix S) and
    a landscape, Heun's predictor-corrector for additive noise (Kloeden & Platen 1992, 15.1.3), two gradients a
    step::

        y = x - dt grad f(x) + n,   x' = x - dt/2 (grad f(x) + grad f(y)) + n,   n = sqrt(2 T dt) z or eps sqrt(dt) S z

    Its drift error is of order dt^2 where Euler's is of order dt; exit statistics keep the O(dt) error of the
    bridge test, with a much smaller constant where the drift dominates the bias (on the README's double well the
    mean exit time is off by -4.7% at dt = 0.1 with Euler and by -0.02% +- 0.05% with Heun).

    The Brownian-bridge crossing test needs a constant diffusion, so it is off for "hessian" and "empirical"
    noise (exits are then monitored at the steps only). With S omitted, eps is isotropic noise and the same as
    temperature = eps**2 / 2. Without forcing, callable S or drift the integrator is the one it always was
    (same bits).
    """

    # Parameters that stand for each other: a sweep that sets one clears the other (`_spec.replace_parameter`).
    _ALTERNATIVES = {"temperature": "eps", "eps": "temperature"}

    temperature: float | None = None
    eps: float | None = None
    S: Any = None
    forcing: Any = None
    ito_correction: bool = False
    scheme: str = "euler"

    def __init__(
        self,
        temperature: float | None = None,
        *,
        dt: float,
        eps: float | None = None,
        S: Any = None,
        forcing: Any = None,
        ito_correction: bool = False,
        noise_dim: int | None = None,
        scheme: str = "euler",
    ) -> None:
        object.__setattr__(self, "dt", as_float("dt", dt, positive=True))
        object.__setattr__(self, "forcing", _forcing_arg(forcing))
        if not isinstance(scheme, str) or scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        object.__setattr__(self, "scheme", scheme)
        if not isinstance(ito_correction, (bool, np.bool_)):
            raise TypeError(f"ito_correction must be True or False, got {ito_correction!r}")
        object.__setattr__(self, "ito_correction", bool(ito_correction))
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
            if math.isinf(eps * eps):  # the temperature eps**2 / 2 must be a double
                raise ValueError(f"eps must be below 1e154 (eps**2 / 2 is the temperature), got eps={eps}")
            if isinstance(S, str):
                S = _state_noise("S", S)
            elif isinstance(S, Diffusion) or callable(S):
                S = as_diffusion("S", S, noise_dim)
            elif S is not None:
                S = as_array("S", S, ndim=2)
        if forcing is not None and isinstance(S, str):
            raise ValueError(f"forcing goes with isotropic noise, a matrix S or a callable S, not S={S!r}")
        if noise_dim is not None and not isinstance(S, Diffusion):
            raise ValueError(f"noise_dim goes with a callable S (the number of columns of S(x)), got "
                             f"noise_dim={noise_dim!r} with S={S!r}")
        if self.ito_correction and not isinstance(S, Diffusion):
            raise ValueError(f"ito_correction needs a state-dependent S given as a callable (with constant noise "
                             f"there is nothing to correct), got S={S!r}")
        if scheme == "heun" and (forcing is not None or isinstance(S, (str, Diffusion))):
            raise ValueError(f"scheme='heun' is for constant noise (temperature, or eps with a matrix S) on a "
                             f"landscape without forcing, got S={S!r}, forcing={forcing!r}")
        object.__setattr__(self, "temperature", temperature)
        object.__setattr__(self, "eps", eps)
        object.__setattr__(self, "S", S)

    def diffusion_matrix(self, dim: int) -> np.ndarray:
        """Sigma = B B^T, the noise covariance per unit time, in dimension `dim` (constant noise only)."""
        if isinstance(self.S, (str, Diffusion)):
            raise ValueError(f"diffusion_matrix needs a constant noise factor, but S={self.S!r} depends on the state")
        if self.S is None:
            return 2.0 * self._temperature() * np.eye(dim)
        B = self._eps() * self.S
        return B @ B.T

    def noise_scale(self) -> float:
        """sqrt(2 T) for isotropic noise (the coefficient of dW)."""
        if self.S is not None:
            raise ValueError("noise_scale is defined for isotropic noise only; use diffusion_matrix")
        return math.sqrt(2.0 * self._temperature())

    # The arguments are kept as given (so that a sweep can vary any of them): temperature, or eps with or without
    # S. Without S the noise is isotropic at temperature eps**2 / 2.
    def _temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return self._eps() ** 2 / 2

    def _eps(self) -> float:
        assert self.eps is not None
        return self.eps

    def _check_time(self, t_max: float) -> None:
        _check_horizon(self.forcing, t_max)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for name in ("S", "forcing"):
            value = getattr(self, name)
            if isinstance(value, Spec):
                out[name] = value.to_dict()
        # The new options only when used: a plain Langevin records what it always recorded.
        for name, unused in (("forcing", None), ("ito_correction", False), ("scheme", "euler")):
            if out.get(name) == unused:
                del out[name]
        return out

    @property
    def _general(self) -> bool:
        """Whether this needs the general SDE integrator (a forcing, a callable S, or a drift to run on)."""
        return self.forcing is not None or isinstance(self.S, Diffusion) or bool(self.__dict__.get("_on_drift"))

    def _for_drift(self) -> Langevin:
        """The same dynamics, integrated by the general SDE, which takes a `Drift` in place of a landscape."""
        if self._general:
            return self
        other = copy.copy(self)
        other.__dict__.pop("_core_cache", None)
        object.__setattr__(other, "_on_drift", True)
        return other

    def _to_core(self) -> Any:
        if self._general:
            if self.scheme != "euler":
                raise ValueError(f"scheme={self.scheme!r} runs on a landscape's gradient; a drift field is "
                                 "integrated by Euler–Maruyama (scheme='euler')")
            w = None if self.forcing is None else self.forcing._core
            if isinstance(self.S, Diffusion):
                return _core.SDE(forcing=w, field=self.S._core, eps=self._eps(), ito_correction=self.ito_correction,
                                 dt=self.dt)
            if isinstance(self.S, str):
                raise ValueError(f"S={self.S!r} needs a landscape's Hessian or terms and takes no forcing or drift; "
                                 f"give S as a matrix or a callable")
            if self.S is None:
                return _core.SDE(forcing=w, temperature=self._temperature(), dt=self.dt)
            return _core.SDE(forcing=w, S=self.S, eps=self._eps(), dt=self.dt)
        heun = self.scheme == "heun"
        if self.S is None:
            return _core.Langevin(temperature=self._temperature(), dt=self.dt, heun=heun)
        if isinstance(self.S, str):
            return _core.Langevin(noise=self.S, eps=self._eps(), dt=self.dt)
        return _core.Langevin(S=self.S, eps=self._eps(), dt=self.dt, heun=heun)


_SCHEDULES = {
    "constant": _core.StepKind.CONSTANT,
    "inverse_sqrt": _core.StepKind.INVERSE_SQRT,
    "inverse": _core.StepKind.INVERSE,
}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DiscreteMap(Dynamics):
    """An optimizer map x_{t+1} = Phi_t(x_t); time is counted in iterations (dt = 1, so `t_max` is a number of
    iterations and exit times are iteration counts).

    The step size at iteration t = 0, 1, ... is `lr` with `schedule` "constant", lr / sqrt(t + 1) with
    "inverse_sqrt", lr / (t + 1) with "inverse" (the A/t schedule with t counted from 1), or lr[t] when `lr` is an
    array (schedule "table"; it must cover the run).
    """

    lr: float | np.ndarray
    schedule: str

    def _init_lr(self, lr: float | ArrayLike, schedule: str) -> None:
        object.__setattr__(self, "dt", 1.0)
        if not isinstance(schedule, str):  # a list is no key of the schedules' table (an unhashable TypeError)
            raise TypeError(f"schedule must be one of {sorted(_SCHEDULES)} (a str), got {schedule!r}")
        if isinstance(lr, (list, tuple)) or (isinstance(lr, np.ndarray) and lr.ndim > 0):  # a table of step sizes
            table = as_array("lr", lr, ndim=1)
            if np.any(table < 0):
                raise ValueError(f"lr must be >= 0 in every entry, got {table.tolist()}")
            if schedule not in ("constant", "table"):
                raise ValueError(f"schedule must be 'table' (or omitted) when lr is an array, got {schedule!r}")
            object.__setattr__(self, "lr", table)
            object.__setattr__(self, "schedule", "table")
            return
        if schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(_SCHEDULES)} (or lr an array), got {schedule!r}")
        object.__setattr__(self, "lr", as_float("lr", lr, nonnegative=True))
        object.__setattr__(self, "schedule", schedule)

    def step_size(self, t: int) -> float:
        """eta_t, the step size at iteration t = 0, 1, ... (within the table for a table of step sizes)."""
        t = as_int("t", t, minimum=0, maximum=MAX_STEPS)
        if self.schedule == "table" and t >= len(self.lr):  # type: ignore[arg-type]
            raise ValueError(f"t must be below the table's {len(self.lr)} step sizes, got {t}")  # type: ignore[arg-type]
        return float(self._policy()(t))

    def _policy(self) -> Any:
        if self.schedule == "table":
            return _core.StepPolicy(_core.StepKind.TABLE, 0.0, np.asarray(self.lr).tolist())
        return _core.StepPolicy(_SCHEDULES[self.schedule], float(self.lr))

    def _check_steps(self, max_steps: int) -> None:
        if self.schedule == "table" and len(self.lr) < max_steps:  # type: ignore[arg-type]
            raise ValueError(
                f"lr has {len(self.lr)} step sizes but the run may take {max_steps} steps: "  # type: ignore[arg-type]
                "give t_max or max_steps at most that long, or a longer table"
            )


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class GD(DiscreteMap):
    """Gradient descent, x_{t+1} = x_t - eta_t grad f(x_t)."""

    def __init__(self, lr: float | ArrayLike, *, schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)

    def _to_core(self) -> Any:
        return _core.GradientDescent(lr=self._policy())


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class HeavyBall(DiscreteMap):
    """Heavy-ball momentum (Polyak): x_{t+1} = x_t - eta_t grad f(x_t) + momentum (x_t - x_{t-1}), x_{-1} = x_0."""

    momentum: float = 0.9

    def __init__(self, lr: float | ArrayLike, momentum: float = 0.9, *, schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        momentum = as_float("momentum", momentum, nonnegative=True)
        if not momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        object.__setattr__(self, "momentum", momentum)

    def _to_core(self) -> Any:
        return _core.HeavyBall(lr=self._policy(), momentum=self.momentum)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class NoisyGD(DiscreteMap):
    """Noisy gradient descent (Ge et al. 2015): x_{t+1} = x_t - eta_t (grad f(x_t) + r xi_t), with xi_t uniform
    on the unit sphere (r = `noise_radius`)."""

    noise_radius: float = 1.0

    def __init__(self, lr: float | ArrayLike, noise_radius: float = 1.0, *, schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        object.__setattr__(self, "noise_radius", as_float("noise_radius", noise_radius, nonnegative=True))

    def _to_core(self) -> Any:
        return _core.NoisyGradientDescent(lr=self._policy(), noise_radius=self.noise_radius)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class GaussianSGD(DiscreteMap):
    """SGD with Gaussian gradient noise (003, eq. 2):
    x_{t+1} = x_t - eta_t grad f(x_t) + (eta_t / sqrt(B)) C(x_t)^{1/2} xi_t, xi_t ~ N(0, I), B = `batch_size`.

    `C` is one of

    * a fixed symmetric positive semi-definite matrix; C^{1/2} is its symmetric square root;
    * ``"hessian"``: C(x) = the landscape's Hessian at x; C^{1/2} is its PSD square root from a symmetric
      eigendecomposition, negative eigenvalues clipped to 0 (a saddle's unstable directions get no noise);
    * ``"empirical"``: on a finite-sum landscape (`StochasticQuadratic`), C(x) = sum_i p_i (g_i - g)(g_i - g)^T,
      the covariance of the terms' gradients g_i at x around g = grad f(x) (uniform p: (1/n) sum_i). The noise is
      R xi with R = [sqrt(p_i) (g_i - g)]_i (d x n) and n normals xi, which is N(0, C(x)) exactly, with no d x d
      matrix or eigendecomposition per step.
    """

    batch_size: float = 1.0
    C: np.ndarray | str = dataclasses.field(default_factory=lambda: np.eye(1))

    def __init__(self, lr: float | ArrayLike, batch_size: float, C: ArrayLike | str, *,
                 schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        object.__setattr__(self, "batch_size", as_float("batch_size", batch_size, positive=True))
        if isinstance(C, str):
            object.__setattr__(self, "C", _state_noise("C", C))
            return
        C = as_square_matrix("C", C, symmetric=True)
        eigenvalues = np.linalg.eigvalsh(C)
        if eigenvalues.min() < -1e-12 * float(np.abs(eigenvalues).max()):  # relative: C may be tiny
            raise ValueError(f"C must be positive semi-definite, got eigenvalues {eigenvalues.tolist()}")
        object.__setattr__(self, "C", C)

    def continuous(self, dt: float) -> Langevin:
        """The SDE this map discretizes (003, eq. 3): d theta = -grad L dt + sqrt(eta / B) C(theta)^{1/2} dW, as a
        `Langevin` with step `dt` (constant step sizes only); state-dependent C stays state-dependent."""
        if self.schedule != "constant":
            raise ValueError(f"the continuous version needs a constant step size, got schedule={self.schedule!r}")
        S = self.C if isinstance(self.C, str) else self.noise_factor()
        return Langevin(eps=math.sqrt(float(self.lr) / self.batch_size), S=S, dt=dt)

    def noise_factor(self) -> np.ndarray:
        """C^{1/2}, the symmetric square root of a fixed C."""
        if isinstance(self.C, str):
            raise ValueError(f"noise_factor needs a fixed C, but C={self.C!r} depends on the state")
        w, V = np.linalg.eigh(self.C)
        return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T

    def _to_core(self) -> Any:
        if isinstance(self.C, str):
            return _core.GaussianSGD(lr=self._policy(), batch_size=self.batch_size, noise=self.C)
        return _core.GaussianSGD(lr=self._policy(), batch_size=self.batch_size, noise_factor=self.noise_factor())


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StableSGD(DiscreteMap):
    """SGD with symmetric alpha-stable (heavy-tailed) gradient noise:
    x_{t+1} = x_t - eta_t grad f(x_t) + scale S_t, where S_t has independent S_alpha(1, 0, 0) coordinates
    (characteristic function exp(-|u|^alpha), scipy's ``levy_stable(alpha, 0)``), alpha in (0, 2].

    alpha = 2 is Gaussian with variance 2 scale^2 per coordinate (the standard stable convention), alpha = 1
    Cauchy. Each coordinate is drawn by Chambers-Mallows-Stuck from two of the path's uniforms.
    """

    alpha: float = 2.0
    scale: float = 1.0

    def __init__(self, lr: float | ArrayLike, alpha: float, scale: float = 1.0, *,
                 schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        object.__setattr__(self, "alpha", _stable_alpha(alpha))
        object.__setattr__(self, "scale", as_float("scale", scale, nonnegative=True))

    def _to_core(self) -> Any:
        return _core.StableSGD(lr=self._policy(), alpha=self.alpha, scale=self.scale)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class LevyLangevin(Dynamics):
    """Overdamped Langevin dynamics driven by a symmetric alpha-stable Levy process, integrated by Euler's scheme:
    dX = -grad f(X) dt + scale dL, one step X <- X - grad f(X) dt + scale dt^{1/alpha} S with S's coordinates
    independent S_alpha(1, 0, 0) (see `StableSGD`).

    alpha = 2 is `Langevin` at temperature scale**2 (L = sqrt(2) W). Jump noise has no Brownian bridge, so the
    crossing test between steps is off: exits are monitored at the steps.

    `forcing` (a `Forcing`, as for `Langevin`) adds dt w(t) to each step, w at the step's start t = k dt.
    """

    alpha: float = 2.0
    scale: float = 1.0
    forcing: Any = None

    def __init__(self, alpha: float, scale: float = 1.0, *, dt: float, forcing: Any = None) -> None:
        object.__setattr__(self, "dt", as_float("dt", dt, positive=True))
        object.__setattr__(self, "alpha", _stable_alpha(alpha))
        object.__setattr__(self, "scale", as_float("scale", scale, nonnegative=True))
        object.__setattr__(self, "forcing", _forcing_arg(forcing))

    def _check_time(self, t_max: float) -> None:
        _check_horizon(self.forcing, t_max)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.forcing is None:
            del out["forcing"]  # a plain LevyLangevin records what it always recorded
        else:
            out["forcing"] = self.forcing.to_dict()
        return out

    def _to_core(self) -> Any:
        if self.forcing is not None:
            return _core.forced_levy_langevin(alpha=self.alpha, scale=self.scale, dt=self.dt,
                                              forcing=self.forcing._core)
        return _core.LevyLangevin(alpha=self.alpha, scale=self.scale, dt=self.dt)


_ADAGRAD_MODES = {"full": _core.AdaGradMode.FULL, "diagonal": _core.AdaGradMode.DIAGONAL}


def _delta0(value: Any) -> float:
    """AdaGrad's and AdaNorm's delta0: positive, with delta0^2 a normal double (it underflowed to 0 below
    1.5e-154, and a step at a critical point was 0 / 0; it overflows above 1.3e154)."""
    delta0 = as_float("delta0", value, positive=True)
    if not (delta0 * delta0 >= sys.float_info.min and math.isfinite(delta0 * delta0)):
        raise ValueError(f"delta0 must lie between 1.5e-154 and 1.3e154 (delta0^2 a normal double), got {delta0!r}")
    return delta0


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class AdaGrad(DiscreteMap):
    """AdaGrad (002): x_{t+1} = x_t - eta_t Gamma_t grad f(x_t) with, for `matrix="full"`,
    Gamma_t = G_t^{-1/2}, G_t = delta0^2 I + sum_{s<=t} g_s g_s^T (a d x d matrix per path), or for
    `matrix="diagonal"` the diagonal of that. The sum includes the current gradient; `lr` defaults to 1 (the
    plain policy Gamma_t)."""

    delta0: float = 1.0
    matrix: str = "diagonal"

    def __init__(self, lr: float | ArrayLike = 1.0, *, delta0: float = 1.0, matrix: str = "diagonal",
                 schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        object.__setattr__(self, "delta0", _delta0(delta0))
        if not isinstance(matrix, str):
            raise TypeError(f"matrix must be one of {sorted(_ADAGRAD_MODES)} (a str), got {matrix!r}")
        if matrix not in _ADAGRAD_MODES:
            raise ValueError(f"matrix must be one of {sorted(_ADAGRAD_MODES)}, got {matrix!r}")
        object.__setattr__(self, "matrix", matrix)

    def _to_core(self) -> Any:
        return _core.AdaGrad(lr=self._policy(), delta0=self.delta0, mode=_ADAGRAD_MODES[self.matrix])


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class AdaNorm(DiscreteMap):
    """AdaNorm (002): x_{t+1} = x_t - eta_t grad f(x_t) / sqrt(delta0^2 + sum_{s<=t} |g_s|^2)."""

    delta0: float = 1.0

    def __init__(self, lr: float | ArrayLike = 1.0, *, delta0: float = 1.0, schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        object.__setattr__(self, "delta0", _delta0(delta0))

    def _to_core(self) -> Any:
        return _core.AdaGrad(lr=self._policy(), delta0=self.delta0, mode=_core.AdaGradMode.NORM)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SGDk(DiscreteMap):
    """SGD-k on a finite-sum landscape F = sum_i p_i f_i (004, Definition 3.5): each step draws `batch_size` = k
    term indices from the path's own random numbers and steps along their average gradient, whose expectation is
    grad F exactly. With replacement (the default, 004's independent draws) the indices have probabilities p_i:
    x_{t+1} = x_t - eta_t (1/k) sum_j grad f_{i_j}(x_t). Without replacement k distinct indices are drawn
    uniformly and term i is weighted by n p_i: x_{t+1} = x_t - eta_t (1/k) sum_{i in S} n p_i grad f_i(x_t)
    (the weights are 1 under uniform p). k = n without replacement is gradient descent, bit for bit.
    docs/sgdk.md#how-minibatches-are-drawn."""

    batch_size: int = 1
    replace: bool = True

    def __init__(self, lr: float | ArrayLike, batch_size: int, *, replace: bool = True,
                 schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        object.__setattr__(self, "batch_size", as_int("batch_size", batch_size, minimum=1, maximum=2**31 - 1))
        if not isinstance(replace, (bool, np.bool_)):
            raise TypeError(f"replace must be True or False, got {replace!r}")
        object.__setattr__(self, "replace", bool(replace))

    def _to_core(self) -> Any:
        return _core.SGDk(lr=self._policy(), batch_size=self.batch_size, replace=self.replace)


_SGLD_SCHEDULES = ("constant", "gelfand_mitter")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SGLD(Dynamics):
    """Stochastic gradient Langevin dynamics (001): x_{t+1} = x_t - alpha_t (grad f(x_t) + xi_t) + beta_t W_t,
    W_t ~ N(0, I); time is counted in iterations (dt = 1).

    The gradient noise xi_t comes from minibatches: with `batch_size` = k > 0 on a finite-sum landscape the step
    uses the minibatch gradient of k terms drawn and weighted like `SGDk`'s (unbiased, with or without
    replacement); with `batch_size=None` the full gradient (xi_t = 0).
    Schedules: "constant" (alpha_t = A, beta_t = B) or "gelfand_mitter" (alpha_t = A / s,
    beta_t = sqrt(B / (s log log s)), s = t + t0; Gelfand & Mitter's annealing, t0 >= 3 so that log log s > 0).
    """

    A: float = 0.1
    B: float = 0.0
    schedule: str = "constant"
    t0: float = 3.0
    batch_size: int | None = None
    replace: bool = True

    def __init__(self, A: float, B: float, *, schedule: str = "constant", t0: float = 3.0,
                 batch_size: int | None = None, replace: bool = True) -> None:
        object.__setattr__(self, "dt", 1.0)
        object.__setattr__(self, "A", as_float("A", A, nonnegative=True))
        object.__setattr__(self, "B", as_float("B", B, nonnegative=True))
        if schedule not in _SGLD_SCHEDULES:
            raise ValueError(f"schedule must be one of {_SGLD_SCHEDULES}, got {schedule!r}")
        object.__setattr__(self, "schedule", schedule)
        t0 = as_float("t0", t0)
        if schedule == "gelfand_mitter" and t0 < 3:
            raise ValueError(f"t0 must be >= 3 (log log t0 > 0), got {t0}")
        object.__setattr__(self, "t0", t0)
        if batch_size is not None:
            batch_size = as_int("batch_size", batch_size, minimum=1, maximum=2**31 - 1)
        object.__setattr__(self, "batch_size", batch_size)
        if not isinstance(replace, (bool, np.bool_)):
            raise TypeError(f"replace must be True or False, got {replace!r}")
        object.__setattr__(self, "replace", bool(replace))

    def step_sizes(self, t: int) -> tuple[float, float]:
        """(alpha_t, beta_t) at iteration t = 0, 1, ..."""
        t = as_int("t", t, minimum=0, maximum=MAX_STEPS)
        return float(self._core.alpha(t)), float(self._core.beta(t))

    def _to_core(self) -> Any:
        return _core.SGLD(A=self.A, B=self.B, annealed=self.schedule == "gelfand_mitter", t0=self.t0,
                          batch_size=self.batch_size or 0, replace=self.replace)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class PerturbedGD(DiscreteMap):
    """Perturbed gradient descent (Jin et al. 2017): gradient descent that, when |grad f| <= `g_thres` and no
    perturbation happened in the last `t_thres` iterations, remembers x~ = x_t and jumps to a uniform point of the
    ball of radius `radius` around it; `t_thres` iterations after a perturbation, if f decreased by less than
    `f_thres` since x~, the path ends with status CONVERGED and `exit_position` x~ (the algorithm's answer).
    `t_thres` is a whole number of iterations.

    `PerturbedGD.from_theorem(L, rho, epsilon, ...)` sets the thresholds as in the paper's theorem.
    """

    radius: float = 0.0
    g_thres: float = 0.0
    f_thres: float = 0.0
    t_thres: float = 1.0

    def __init__(self, lr: float | ArrayLike, *, radius: float, g_thres: float, f_thres: float, t_thres: float,
                 schedule: str = "constant") -> None:
        self._init_lr(lr, schedule)
        for name, value in (("radius", radius), ("g_thres", g_thres), ("f_thres", f_thres)):
            object.__setattr__(self, name, as_float(name, value, nonnegative=True))
        t_thres = as_float("t_thres", t_thres)
        if t_thres < 1 or t_thres != math.floor(t_thres):
            # the test "t_thres iterations after a jump" compares iteration counts: a fraction never matches
            raise ValueError(f"t_thres must be a whole number of iterations >= 1, got {t_thres}")
        if t_thres > 2**48:  # the core keeps t_thres + 1 in a double, exact far below 2**53; the step cap is 2**48
            raise ValueError(f"t_thres must be at most 2**48 iterations (the step cap), got {t_thres}")
        object.__setattr__(self, "t_thres", t_thres)

    @classmethod
    def from_theorem(cls, L: float, rho: float, epsilon: float, *, dim: int, delta_f: float, c: float = 1.0,
                     delta: float = 0.1) -> PerturbedGD:
        """The parameters of Jin et al. (2017), Theorem 3, for an L-smooth, rho-Hessian-Lipschitz f in `dim`
        dimensions with f(x0) - min f <= delta_f, target epsilon and failure probability delta:
        chi = 3 max(log(d L delta_f / (c epsilon^2 delta)), 4), eta = c / L, r = sqrt(c) epsilon / (chi^2 L),
        g_thres = sqrt(c) epsilon / chi^2, f_thres = (c / chi^3) sqrt(epsilon^3 / rho),
        t_thres = chi L / (c^2 sqrt(rho epsilon)), rounded up to whole iterations. c is the theorem's absolute
        constant; delta is in (0, 1)."""
        L, rho, epsilon = (as_float(n, v, positive=True) for n, v in (("L", L), ("rho", rho), ("epsilon", epsilon)))
        delta_f, c, delta = (as_float(n, v, positive=True) for n, v in (("delta_f", delta_f), ("c", c), ("delta", delta)))
        if delta >= 1:
            raise ValueError(f"delta must be a failure probability in (0, 1), got {delta}")
        d = as_int("dim", dim, minimum=1, maximum=MAX_DIM)
        denominator = c * epsilon**2 * delta
        ratio = d * L * delta_f / denominator if denominator > 0 else math.inf
        log_ratio = (math.log(ratio) if 0 < ratio < math.inf  # else epsilon^2 or the product under- or overflows
                     else math.log(d) + math.log(L) + math.log(delta_f) - math.log(c) - 2 * math.log(epsilon)
                     - math.log(delta))
        chi = 3 * max(log_ratio, 4.0)
        params = dict(lr=c / L, radius=math.sqrt(c) * epsilon / (chi**2 * L), g_thres=math.sqrt(c) * epsilon / chi**2,
                      f_thres=c / chi**3 * math.sqrt(epsilon**3 / rho),
                      t_thres=chi * L / (c**2 * math.sqrt(rho * epsilon)))
        if not all(0 < v < math.inf for v in params.values()):
            raise ValueError(f"L={L!r}, rho={rho!r}, epsilon={epsilon!r}, delta_f={delta_f!r}, c={c!r} and "
                             f"delta={delta!r} give parameters beyond floating point: {params}")
        return cls(lr=params["lr"], radius=params["radius"], g_thres=params["g_thres"], f_thres=params["f_thres"],
                   t_thres=float(math.ceil(params["t_thres"])))

    def _to_core(self) -> Any:
        return _core.PerturbedGD(lr=self._policy(), radius=self.radius, g_thres=self.g_thres, f_thres=self.f_thres,
                                 t_thres=self.t_thres)


def _spec_from_table(name: str, value: Any, module: Any, base: type) -> Any:
    """`value`, or the object a mapping {"type": class name, **arguments} describes (a class of `module`)."""
    if not isinstance(value, dict):
        return value
    args = dict(value)
    kind = args.pop("type", None)
    cls = getattr(module, kind, None) if isinstance(kind, str) and kind in module.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, base)) or cls is base:
        allowed = sorted(n for n in module.__all__ if getattr(module, n) is not base)
        raise ValueError(f"{name} must name its type, one of {allowed}, got {value!r}")
    return cls(**args)


def set_by_class(cls: type) -> set[str]:
    """The fields of a dynamics class that it sets itself rather than takes (the dt = 1 of a discrete map, counted
    in iterations): a recorded table holds them too."""
    return {f.name for f in dataclasses.fields(cls)} - set(inspect.signature(cls).parameters)


def recorded_arguments(cls: type[Dynamics], args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The constructor arguments of a table `to_dict()` recorded (a configuration's table is one too), and apart
    the fields the class sets itself that it holds, for `check_set_by_class`; values JSON cannot write restored."""
    own = set_by_class(cls)
    return cls._from_record({k: v for k, v in args.items() if k not in own}), {k: args[k] for k in args if k in own}


def check_set_by_class(name: str, dynamics: Dynamics, fixed: dict[str, Any]) -> None:
    """ValueError (naming `name`, where given) unless each field of `fixed` (from `recorded_arguments`) is what the
    class set."""
    for key, recorded in fixed.items():
        if _plain(getattr(dynamics, key)) != recorded:
            where = f"{name}: " if name else ""
            raise ValueError(f"{where}{type(dynamics).__name__} sets {key} = {getattr(dynamics, key)!r} itself, "
                             f"got {key} = {recorded!r:.80}")


def dynamics_from_table(name: str, value: Any) -> Any:
    """`value`, or the dynamics a table {"type": class name, **arguments} describes: a configuration's table, or
    the table a dynamics' `to_dict()` recorded (as a result's params["dynamics"] holds it), which rebuilds the same
    dynamics. A recorded table also holds the fields a class sets itself rather than takes (the dt = 1 of a
    discrete map, counted in iterations): they are left out of the arguments, and must be what the class sets;
    and values JSON cannot write are restored (`_from_record`: ConstrainedFlow's unbounded max_step, recorded as
    null). ValueError naming `name` otherwise; the type is chosen as `spec_from_table` chooses it."""
    if not isinstance(value, dict):
        return value
    args = dict(value)
    kind = args.get("type")
    cls = public_specs().get(kind) if isinstance(kind, str) else None
    fixed: dict[str, Any] = {}
    if isinstance(cls, type) and issubclass(cls, Dynamics):
        args, fixed = recorded_arguments(cls, args)
    dynamics = spec_from_table(name, args, Dynamics)
    check_set_by_class(name, dynamics, fixed)
    return dynamics


_FLOW_METHODS = {"euler": _core.FlowMethod.EULER, "rk4": _core.FlowMethod.RK4, "dp54": _core.FlowMethod.DP54}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ConstrainedFlow(Dynamics):
    """The projected gradient flow of 000 with a forcing: x' = U_alpha(x) + w(t) (+ noise), where
    U_alpha(x) = -(I - J^T (J J^T)^{-1} J) grad f(x) - alpha J^T (J J^T)^{-1} g(x) for the equality constraint
    g(x) = 0 with Jacobian J (without a constraint, U = -grad f).

    Along the flow d/dt g = -alpha g: feasible starts stay feasible, the others approach the feasible set like
    exp(-alpha t). A path where J J^T is numerically singular (smallest eigenvalue <= singular_tol times
    max(1, largest)) ends with status SINGULAR at the last point where the flow was defined.

    Parameters
    ----------
    constraint : a `Constraint` (`Parabola`, `Sphere`, `Affine`), or None.
    alpha : >= 0, the rate at which infeasibility decays.
    forcing : a `Forcing` (`Periodic`, `BrownianForcing`, `RandomDirections`, `TableForcing`), or None.
    method : "rk4" (classical Runge-Kutta, fixed step dt, w at the stage times), "dp54" (Dormand-Prince 5(4),
        adaptive: each path keeps its own time and step, dt is the first step, `rtol`/`atol` the local error
        tolerances, `max_step` the largest step; the time a path enters `target` or leaves `stop` is located
        on the dense output to `event_tol`), or "euler" (Euler-Maruyama, fixed step, with additive noise
        `noise` * dW). RK4 and noiseless Euler locate that time too, to 1e-12 dt, on the cubic Hermite
        interpolant of the step (RK4) or the straight line (Euler); with noise, exits between steps are the
        Brownian bridge's.
    dt : the step (the first step for "dp54").
    """

    constraint: Any = None
    alpha: float = 1.0
    forcing: Any = None
    method: str = "rk4"
    noise: float = 0.0
    rtol: float = 1e-6
    atol: float = 1e-9
    singular_tol: float = 1e-12
    event_tol: float = 1e-9
    max_step: float = math.inf

    def __init__(self, constraint: Any = None, *, dt: float, alpha: float = 1.0, forcing: Any = None,
                 method: str = "rk4", noise: float = 0.0, rtol: float = 1e-6, atol: float = 1e-9,
                 singular_tol: float = 1e-12, event_tol: float = 1e-9, max_step: float = math.inf) -> None:
        # A table {"type": "Parabola", ...} (a TOML experiment, or a recorded to_dict()) names the object.
        constraint = _spec_from_table("constraint", constraint, constraint_module, Constraint)
        forcing = _spec_from_table("forcing", forcing, forcing_module, Forcing)
        if constraint is not None and not isinstance(constraint, Constraint):
            raise TypeError(f"constraint must be an escapade Constraint (Parabola, Sphere, Affine) or None, "
                            f"got {constraint!r}")
        if forcing is not None and not isinstance(forcing, Forcing):
            raise TypeError(f"forcing must be an escapade Forcing (Periodic, BrownianForcing, RandomDirections, "
                            f"TableForcing) or None, got {forcing!r}")
        if constraint is not None and forcing is not None and constraint.dim != forcing.dim:
            raise ValueError(f"forcing must have the constraint's dimension {constraint.dim}, got {forcing!r}")
        if not isinstance(method, str) or method not in _FLOW_METHODS:
            raise ValueError(f"method must be one of {sorted(_FLOW_METHODS)}, got {method!r}")
        object.__setattr__(self, "constraint", constraint)
        object.__setattr__(self, "forcing", forcing)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "dt", as_float("dt", dt, positive=True))
        object.__setattr__(self, "alpha", as_float("alpha", alpha, nonnegative=True))
        noise = as_float("noise", noise, nonnegative=True)
        if noise > 0 and method != "euler":
            raise ValueError(f"noise must be 0 unless method='euler' (Euler-Maruyama), got noise={noise}")
        object.__setattr__(self, "noise", noise)
        rtol = as_float("rtol", rtol, positive=True)
        if rtol < 100 * np.finfo(float).eps:  # as scipy's solve_ivp: a tolerance below rounding is never met
            raise ValueError(f"rtol must be at least 100 * machine epsilon ({100 * np.finfo(float).eps:.3g}), "
                             f"got {rtol}")
        object.__setattr__(self, "rtol", rtol)
        object.__setattr__(self, "atol", as_float("atol", atol, nonnegative=True))
        singular_tol = as_float("singular_tol", singular_tol, positive=True)
        if not singular_tol < 1:
            raise ValueError(f"singular_tol must be in (0, 1), got {singular_tol}")
        object.__setattr__(self, "singular_tol", singular_tol)
        object.__setattr__(self, "event_tol", as_float("event_tol", event_tol, positive=True))
        object.__setattr__(self, "max_step", as_float("max_step", max_step, positive=True, finite=False))

    @property
    def _own_clock(self) -> bool:
        return self.method == "dp54"

    def _check_time(self, t_max: float) -> None:
        if self.forcing is not None and t_max > self.forcing._horizon():
            raise ValueError(f"t_max must be at most the forcing's horizon {self.forcing._horizon()}, got {t_max}")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for name in ("constraint", "forcing"):
            value = getattr(self, name)
            out[name] = None if value is None else value.to_dict()
        if math.isinf(self.max_step):
            out["max_step"] = None  # JSON has no infinity
        return out

    @classmethod
    def _from_record(cls, args: dict[str, Any]) -> dict[str, Any]:
        if "max_step" in args and args["max_step"] is None:  # to_dict's null: no largest step
            args = {**args, "max_step": math.inf}
        return args

    def drift(self, landscape: Any, x: ArrayLike, t: ArrayLike | float = 0.0, *, seed: int = 0,
              path: int = 0) -> np.ndarray:
        """U_alpha(x) + w(t) at a point (d,) -> (d,) or at each row of (n, d) -> (n, d), at time(s) t; NaN where
        J J^T is singular, or where it overflows."""
        if not isinstance(landscape, Landscape):
            raise TypeError(f"landscape must be an escapade Landscape, got {landscape!r}")
        a = as_array("x", x, ndim=(1, 2))
        pts = a.reshape(1, -1) if a.ndim == 1 else a
        times = as_times("t", t, pts.shape[0])
        u = self._core.drift(landscape._core, pts, times, as_int("seed", seed, minimum=0, maximum=2**64 - 1),
                             as_int("path", path, minimum=0, maximum=2**64 - 1))
        return u[0] if a.ndim == 1 else u

    def _to_core(self) -> Any:
        return _core.ConstrainedFlow(
            constraint=None if self.constraint is None else self.constraint._core, alpha=self.alpha,
            forcing=None if self.forcing is None else self.forcing._core, method=_FLOW_METHODS[self.method],
            dt=self.dt, noise=self.noise, rtol=self.rtol, atol=self.atol, singular_tol=self.singular_tol,
            event_tol=self.event_tol, max_step=self.max_step)
