"""Derivatives of exit statistics with respect to parameters: which method each parameter gets, the coefficients of
its likelihood-ratio score in the engine (cpp/include/escapade/sensitivity.hpp), and the estimators that turn a
run's per-path scores (or its finite-difference runs) into an `Estimate` (docs/sensitivities.md).

A step x' = m_theta(x) + beta_theta B z (z standard normal, B fixed) has the score
    s = (dm/dtheta)^T M z / beta + (dbeta/dtheta) / beta (|z|^2 - k),  M = pinv(B^T),
which the engine evaluates as c_grad (g^T M z) + c_noise (|z|^2 - k) + c_pair ((x+ - x-)^T M z), g the gradient
the dynamics computed at x and x+- the steps at theta +- h with the same draws.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ._settings import check_sensitivity_options
from ._spec import Spec, replace_parameter
from .dynamics import SGLD, ConstrainedFlow, Dynamics, GaussianSGD, Langevin
from .landscapes import DoubleWell, Landscape
from .restart import Restart

__all__ = ["SensitivityPlan", "plan_sensitivities", "with_parameter"]

_NUMERICAL = ("rtol", "atol", "event_tol", "singular_tol", "max_step")

# Relative step of the central difference of the deterministic part of a step (pair form): smooth in theta, so
# the O(h^2) error is ~1e-8 relative and rounding ~1e-9.
_PAIR_STEP = 1e-4


@dataclasses.dataclass(frozen=True)
class SensitivityPlan:
    """How the derivative with respect to one parameter is computed.

    parameter : the path ("dynamics.temperature"). value : its value in the run. method : "score" (likelihood
    ratio, from the run's own paths) or "fd" (central finite differences with common random numbers at theta +- h
    and theta +- 2h, Richardson-extrapolated). c_grad, c_noise, c_pair, plus, minus : the score's coefficients and
    the perturbed (dynamics, landscape) of the pair form (None: the run's own). time_exponent : kappa when the
    parameter was moved into the drift by a time change (times scale as theta^-kappa at a fixed number of steps):
    1 for a temperature, 2 for eps, else 0. step : h (the pair form's or the finite differences'). note : what the
    result states about the method.
    """

    parameter: str
    value: float
    method: str
    c_grad: float = 0.0
    c_noise: float = 0.0
    c_pair: float = 0.0
    plus: tuple[Any, Any] | None = None
    minus: tuple[Any, Any] | None = None
    time_exponent: float = 0.0
    step: float = 0.0
    note: str = ""

    def record(self) -> dict[str, Any]:
        """What the result's params record."""
        return {"parameter": self.parameter, "value": self.value, "method": self.method,
                "time_exponent": self.time_exponent, "step": self.step, "note": self.note}

    def core(self) -> tuple[Any, ...]:
        """The engine's 7-tuple (c_grad, c_noise, c_pair, dyn+, land+, dyn-, land-)."""
        def cores(side: tuple[Any, Any] | None) -> tuple[Any, Any]:
            if side is None:
                return None, None
            dyn, land = side
            return (None if dyn is None else dyn._core), (None if land is None else land._core)
        return (self.c_grad, self.c_noise, self.c_pair, *cores(self.plus), *cores(self.minus))


_TIME_CHANGE_NOTE = ("{name} moved into the drift by the time change Y(s) = X(s / {scale}): the derivative is that "
                     "of the Euler chain whose step in Y-time ({scale} dt) is held fixed, so dt moves as 1 / {scale} "
                     "(the same limit as dt -> 0); the run's time cap is a fixed number of steps, and "
                     "capped_exit_time's derivative adds the cap's term to hold t_max fixed")


def _value(spec: Any, path: str, field: str) -> Any:
    obj = spec
    for part in field.split("."):
        if not isinstance(obj, Spec) or part not in {f.name for f in dataclasses.fields(obj)}:
            raise ValueError(f"sensitivities: {path!r} is not a parameter ({type(obj).__name__} has no parameter "
                             f"{part!r})")
        obj = getattr(obj, part)
    return obj


def _scalar(path: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (str, Spec)):
        raise ValueError(f"sensitivities: {path!r} is {value!r}, not a real number to differentiate in")
    a = np.asarray(value)
    if a.dtype.kind not in "fiu" or a.size != 1:
        raise ValueError(f"sensitivities: {path!r} is {value!r}, not a real number (or a one-element array) to "
                         "differentiate in")
    if a.dtype.kind in "iu" or isinstance(value, (int, np.integer)):
        raise ValueError(f"sensitivities: {path!r} is an integer ({value!r}), which has no derivative")
    return float(a.reshape(-1)[0])


def with_parameter(spec: Spec, path: str, field: str, value: float) -> Spec:
    """`spec` with the parameter `path` (its `field` within spec, nested by dots) set to `value`."""
    old = _value(spec, path, field)
    new: Any = np.full(np.shape(old), value) if isinstance(old, np.ndarray) else value
    return replace_parameter(spec, path, field, new)


def _noise_form(dynamics: Dynamics, dim: int) -> tuple[float, np.ndarray | None, float] | None:
    """(beta, M, grad_coef) of a step x' = x - grad_coef g + ... + beta B z with M = pinv(B^T) (None: B = I), or
    None when the step is not Gaussian with a fixed covariance (or not supported by the score). B must have rank
    dim: a parameter that moves the step's mean where the noise does not reach leaves the two path laws without a
    likelihood ratio, and pinv would drop that part of the derivative (a 2-D exit 50% off)."""
    if isinstance(dynamics, Langevin):
        # state-dependent S, a forcing or a drift field; Heun's step is not Gaussian given x (y depends on z)
        if isinstance(dynamics.S, str) or dynamics._general or dynamics.scheme != "euler":
            return None
        if dynamics.S is None:
            T = dynamics._temperature()
            return (math.sqrt(2 * T * dynamics.dt), None, dynamics.dt) if T > 0 else None
        eps, S = dynamics._eps(), np.asarray(dynamics.S, dtype=float)
        if eps <= 0 or np.linalg.matrix_rank(S) < dim:
            return None
        return eps * math.sqrt(dynamics.dt), np.linalg.pinv(S.T), dynamics.dt
    if isinstance(dynamics, GaussianSGD):
        if isinstance(dynamics.C, str) or dynamics.schedule != "constant":
            return None
        eta = float(dynamics.lr)
        if eta <= 0:
            return None
        R = dynamics.noise_factor()
        if np.linalg.matrix_rank(R) < dim:
            return None
        M = None if np.array_equal(R, np.eye(dim)) else np.linalg.pinv(R.T)
        return eta / math.sqrt(dynamics.batch_size), M, eta
    if isinstance(dynamics, SGLD):
        if dynamics.schedule != "constant" or dynamics.B <= 0:
            return None
        return dynamics.B, None, dynamics.A
    if isinstance(dynamics, ConstrainedFlow):
        if dynamics.method != "euler" or dynamics.noise <= 0:
            return None
        return dynamics.noise * math.sqrt(dynamics.dt), None, math.nan  # the drift is not -grad f
    return None


def _fd_plan(path: str, value: float, fd_step: float | None, why: str) -> SensitivityPlan:
    h = fd_step if fd_step is not None else 0.02 * (abs(value) if value != 0 else 1.0)
    if value + h == value or value - h == value:  # a step lost in rounding: the difference would be exactly 0
        raise ValueError(f"fd_step={h!r} is too small for {path} = {value!r}: {path} +- fd_step rounds to {path} "
                         "itself; give a larger fd_step")
    return SensitivityPlan(parameter=path, value=value, method="fd", step=h,
                           note=(f"central finite differences with common random numbers at {path} +- h and +- 2h "
                                 f"(h = {h:g}), Richardson-extrapolated (4 D(h) - D(2h)) / 3: {why}"))


def plan_sensitivities(landscape: Landscape, dynamics: Dynamics, parameters: Any, *, method: str = "auto",
                       fd_step: float | None = None, reflecting: bool = False,
                       ) -> tuple[list[SensitivityPlan], np.ndarray | None]:
    """The plan of each parameter path and the engine's matrix M; ValueError naming the parameter when a
    derivative cannot be had. reflecting: the stop region has walls (a mirrored step is not Gaussian)."""
    fd_step = check_sensitivity_options(method, fd_step)
    if isinstance(parameters, str) or not isinstance(parameters, (list, tuple)) or not parameters:
        raise ValueError(f"sensitivities must be a non-empty list of parameter paths such as "
                         f"['dynamics.temperature'], got {parameters!r}")
    if len(set(parameters)) != len(parameters):
        raise ValueError(f"sensitivities lists a parameter twice: {list(parameters)!r}")
    dim = landscape.dim
    form = _noise_form(dynamics, dim)
    plans: list[SensitivityPlan] = []
    for path in parameters:
        if not isinstance(path, str):
            raise TypeError(f"sensitivities: each parameter must be a path string such as 'dynamics.temperature', "
                            f"got {path!r}")
        head, _, field = path.partition(".")
        if head in ("stop", "target", "x0") and field:
            raise ValueError(f"sensitivities: {path!r} does not enter the law of the paths (a region or start "
                             "moves where paths stop, not how they move): use a sweep")
        if head not in ("landscape", "dynamics") or not field:
            raise ValueError(f"sensitivities: {path!r} is not a parameter path 'landscape.<name>' or "
                             "'dynamics.<name>' (nested: 'dynamics.forcing.amplitude')")
        spec: Spec = landscape if head == "landscape" else dynamics
        if head == "landscape" and getattr(landscape, "_runs_code", False):
            raise ValueError(f"sensitivities: {path!r} is a parameter of a callback landscape "
                             f"({type(landscape).__name__}), which gives no parameter gradient: differentiate a "
                             "built-in landscape, or use a sweep")
        other = getattr(spec, "_ALTERNATIVES", {}).get(field)
        if other is not None and _value(spec, path, field) is None:
            raise ValueError(f"sensitivities: {path!r} is not set: this {type(spec).__name__} is given by {other!r}; "
                             f"differentiate in '{head}.{other}'")
        value = _scalar(path, _value(spec, path, field))
        if field == "dt":
            raise ValueError(f"sensitivities: {path!r} is the time step, not a parameter of the model: use "
                             "escapade.estimate or a sweep for the dependence on dt")
        if head == "dynamics" and field in _NUMERICAL:
            raise ValueError(f"sensitivities: {path!r} is a numerical setting of the integrator, not a parameter of "
                             "the law of the paths")
        if method == "fd":
            plans.append(_fd_plan(path, value, fd_step, "asked for (sensitivity_method='fd')"))
            continue
        if reflecting:  # the density of a mirrored step sums two Gaussians: its score is not the one below
            why = "the stop region reflects, and a mirrored step's density is not the Gaussian the score differentiates"
            if method == "auto":
                plans.append(_fd_plan(path, value, fd_step, why))
                continue
            raise ValueError(f"sensitivities: {path!r}: {why}; pass sensitivity_method='fd' (or 'auto')")
        if form is None:
            if isinstance(dynamics, (Langevin, GaussianSGD, SGLD)) and method == "auto":
                plans.append(_fd_plan(path, value, fd_step, f"{type(dynamics).__name__} here has no fixed Gaussian "
                                      "step covariance of full rank with a gradient drift (state-dependent noise, "
                                      "noise that does not reach every direction, a step-size schedule, a forcing, "
                                      "a drift field or Heun's two-stage step), which the score needs"))
                continue
            if not isinstance(dynamics, (Langevin, GaussianSGD, SGLD, ConstrainedFlow, Restart)):
                raise ValueError(f"sensitivities: {path!r}: {type(dynamics).__name__} draws no Gaussian step for the "
                                 "likelihood-ratio score to differentiate; pass sensitivity_method='fd' for finite "
                                 "differences with common random numbers")
            raise ValueError(f"sensitivities: {path!r}: {type(dynamics).__name__} here takes no Gaussian step with a "
                             "fixed covariance of full rank and a gradient drift (here: state-dependent noise, noise "
                             "that does not reach every direction, a step-size schedule, a forcing, a drift field, a "
                             "restart or Heun's step stands in the way), which the likelihood-ratio score needs; "
                             "pass sensitivity_method='fd' for finite differences with common random numbers")
        beta, _, grad_coef = form
        plans.append(_score_plan(landscape, dynamics, path, head, field, value, beta, grad_coef, method, fd_step))
    M = form[1] if form is not None and any(p.method == "score" for p in plans) else None
    return plans, M


def _score_plan(landscape: Landscape, dynamics: Dynamics, path: str, head: str, field: str, value: float,
                beta: float, grad_coef: float, method: str, fd_step: float | None) -> SensitivityPlan:
    name = type(dynamics).__name__
    if head == "dynamics":
        if isinstance(dynamics, Langevin) and field in ("temperature", "eps"):
            if field == "temperature":
                c = math.sqrt(dynamics.dt) / (math.sqrt(2.0) * value**1.5)
                note = _TIME_CHANGE_NOTE.format(name="the temperature T", scale="T")
                return SensitivityPlan(path, value, "score", c_grad=c, time_exponent=1.0, note=note)
            c = 2.0 * math.sqrt(dynamics.dt) / value**2
            note = _TIME_CHANGE_NOTE.format(name="eps", scale="eps^2")
            return SensitivityPlan(path, value, "score", c_grad=c, time_exponent=2.0, note=note)
        if isinstance(dynamics, GaussianSGD) and field == "lr":
            return SensitivityPlan(path, value, "score", c_grad=-math.sqrt(dynamics.batch_size) / value,
                                   c_noise=1.0 / value, note="lr enters the mean and the scale of the Gaussian step")
        if isinstance(dynamics, GaussianSGD) and field == "batch_size":
            return SensitivityPlan(path, value, "score", c_noise=-1.0 / (2.0 * value),
                                   note="the plain score of the step's noise scale (a discrete map: no dt -> 0 limit)")
        if isinstance(dynamics, SGLD) and field == "A":
            return SensitivityPlan(path, value, "score", c_grad=-1.0 / beta, note="A enters the mean of the step")
        if isinstance(dynamics, SGLD) and field == "B":
            return SensitivityPlan(path, value, "score", c_noise=1.0 / value,
                                   note="the plain score of the step's noise scale (a discrete map: no dt -> 0 limit)")
        if isinstance(dynamics, ConstrainedFlow) and field == "noise":
            if method == "score":
                raise ValueError(f"sensitivities: {path!r}: the noise of a forced ConstrainedFlow cannot be moved "
                                 "into its drift (the forcing depends on time); use sensitivity_method='auto' or "
                                 "'fd'")
            return _fd_plan(path, value, fd_step, "the noise level of a forced flow cannot be moved into the drift")
        if isinstance(dynamics, (Langevin, GaussianSGD, SGLD)) or field in ("alpha", "constraint", "method"):
            if not (isinstance(dynamics, ConstrainedFlow) and (field == "alpha" or field.startswith("constraint."))):
                raise ValueError(f"sensitivities: {path!r} is not a parameter of {name}'s path law that the score "
                                 "supports; pass sensitivity_method='fd' for finite differences")
        # a drift parameter of the dynamics (forcing amplitude or frequency, the constraint's alpha, ...): pair form
        h = _PAIR_STEP * max(abs(value), 1.0)
        plus = (with_parameter(dynamics, path, field, value + h), None)
        minus = (with_parameter(dynamics, path, field, value - h), None)
        _check_same_noise(dynamics, plus[0], minus[0], path)
        return SensitivityPlan(path, value, "score", c_pair=1.0 / (2 * h * beta), plus=plus, minus=minus, step=h,
                               note=f"a drift parameter: the score from the central difference (h = {h:g}) of the "
                                    "deterministic part of each step")
    # a landscape parameter
    if isinstance(landscape, DoubleWell) and field == "height" and not math.isnan(grad_coef):
        # f is proportional to the height: d(step mean)/d height = -grad_coef g / height
        return SensitivityPlan(path, value, "score", c_grad=-grad_coef / (value * beta),
                               note="the landscape is proportional to its height: the score from the gradient")
    if isinstance(dynamics, Langevin) or isinstance(dynamics, (GaussianSGD, SGLD, ConstrainedFlow)):
        h = _PAIR_STEP * max(abs(value), 1.0)
        return SensitivityPlan(path, value, "score", c_pair=1.0 / (2 * h * beta),
                               plus=(None, with_parameter(landscape, path, field, value + h)),
                               minus=(None, with_parameter(landscape, path, field, value - h)), step=h,
                               note=f"a landscape parameter: the score from the central difference (h = {h:g}) of "
                                    "the deterministic part of each step")
    raise ValueError(f"sensitivities: {path!r} is not supported by the score for {name}")  # pragma: no cover


def _check_same_noise(dynamics: Dynamics, plus: Any, minus: Any, path: str) -> None:
    for other in (plus, minus):
        if _noise_form(other, 1) is None or _noise_form(other, 1)[0] != _noise_form(dynamics, 1)[0]:  # type: ignore
            raise ValueError(f"sensitivities: {path!r} changes the noise of {type(dynamics).__name__}, which the "
                             "pair form cannot follow; use sensitivity_method='fd'")
