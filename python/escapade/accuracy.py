"""`estimate`: a quantity of the exit (a mean exit time, a probability, a quantile) to a stated accuracy, with an
interval whose statistical and time-step parts are shown separately.

Three methods refine the step dt0, dt0/2, dt0/4, ... (dt0 is the dynamics' own dt):

- **multilevel** (Giles' multilevel Monte Carlo): E[Q_L] = E[Q_0] + sum_l E[Q_l - Q_{l-1}], each correction from
  pairs of runs at dt_l and dt_{l-1} driven by one Brownian path (`simulate(noise_refinement=2)` at the coarse
  step), so that the corrections have a small variance and cost few paths. The bias of the finest level is
  estimated from its correction: E[Q_L - Q_{L-1}] / (2**order - 1).
- **ladder**: independent runs at each step; the finest level's bias from the two levels before it,
  (Q_{L-2} - Q_{L-1}) / (2**order (2**order - 1)) (`analysis.estimates.dt_bias`), independent of Q_L and cheap
  since coarse paths take fewer steps, and the finest difference checked against it. Used for quantiles (not a
  mean over paths) and jump noise, where levels cannot be coupled.
- **paired**: the ladder's value and bias formula, with the difference Q_{L-2} - Q_{L-1} read off coupled pairs
  (one Brownian path at both steps) instead of independent runs: where exit times decorrelate quickly, as in
  metastable wells, a pair's difference still varies several times less than two independent runs', and the
  bias costs few paths while the value keeps its own. Cheaper than the ladder whenever the pair's difference
  varies less than about twice one run (any positive correlation), so `method="auto"` weighs it against
  multilevel only.

All report the finest level's value (for multilevel, its telescoping estimate) with the interval

    value ± (statistical part + |bias|)

at the stated confidence: for multilevel, z * stderr and |bias| + z * its standard error (the bias is read off the
finest correction, which the value contains); for the ladder and paired, z times the standard error of the value
and of the bias estimate together (independent) and |bias| (for paired, plus one standard error of the bias where it
is resolved: see `_paired`). The run stops once the half-width is below
rtol * |value| and the levels agree with the bias model. Each round plans the rest of the run two ways, with the
current finest step or one step finer, takes the cheaper plan, and runs at most four times the paths a level has
before planning again. Since the ladder never comes back to a coarser step, the ladder and paired refine only on a
bias estimate at least 3 of its standard errors from 0; a finer step that looks cheaper on weaker evidence first gets
more paths on the levels the bias is read from (cheap: coarse steps). Every batch of paths has its own seed drawn
from (seed, level, batch), so an estimate is reproducible for any thread count (a wall-time budget makes where it
stops depend on the machine).
"""

from __future__ import annotations

import dataclasses
import math
import re
import secrets
import sys
import time
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._execute import OutOfTime
from ._settings import RunSettings
from ._validate import as_float, as_int, as_progress
from .analysis.estimates import (MEAN_QUANTITIES, QUANTITIES, LevelStatistic, check_confidence, check_quantile_level,
                                 dt_bias, normal_quantile, path_values, quantity_of)
from .dynamics import ConstrainedFlow, DiscreteMap, Dynamics, Langevin, LevyLangevin
from .landscapes import Landscape
from .regions import Intersection, Region, Union, as_region
from .restart import Restart
from .results import Estimate, EstimateLevel, SimulationResult
from .simulate import _max_steps, _require, make_job, simulate_until
from ._spec import replace_parameter
from .starts import StartSampler

__all__ = ["estimate"]

METHODS = ("auto", "multilevel", "paired", "ladder")
# Why a round stopped where the wall-time budget ran out in it.
_OUT_OF_TIME = "budget exhausted before the target: the wall-time budget ran out during a round"
MIN_RTOL = 1e-12  # 1e24 paths for a relative standard deviation of 1: beyond any budget
_TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_GROWTH = 4  # a round at most multiplies a level's paths by this
_MIN_GROWTH = 8  # and adds at least 1/_MIN_GROWTH of them, where it adds any
_SIGNIFICANT = 3.0  # the ladder and paired refine the step on a bias estimate at least this many of its SEs from 0
_MULTILEVEL_MARGIN = 0.5  # method="auto" takes multilevel when the pilot predicts it below this much of paired's cost
_RESOLVED = 2.0  # paired adds one standard error of its bias estimate to |bias| beyond this many of them (see _paired)


def _budget(budget: Any) -> tuple[float, float]:
    """(path-steps, seconds) from `budget`: a number of path-steps, or a duration such as "30s", "2min", "1h"."""
    if budget is None:
        return math.inf, math.inf
    if isinstance(budget, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(s|min|h)\s*", budget)
        if m is None:
            raise ValueError(f"budget must be a number of path-steps or a duration like '30s', '2min' or '1h', got "
                             f"{budget!r}")
        return math.inf, as_float("budget", float(m.group(1)), positive=True) * _TIME_UNITS[m.group(2)]
    return math.inf if budget is None else as_float("budget", budget, positive=True), math.inf


def _gaussian_noise(dynamics: Dynamics) -> bool:
    """Whether the dynamics draw Gaussian noise, which coupled levels (noise_refinement) share: not jumps, not a
    noiseless flow."""
    inner = dynamics.dynamics if isinstance(dynamics, Restart) else dynamics
    if isinstance(inner, LevyLangevin):
        return False
    if isinstance(inner, ConstrainedFlow):
        return inner.method == "euler" and inner.noise > 0
    if isinstance(inner, Langevin) and (inner.temperature == 0 or inner.eps == 0):  # no noise: every path the same
        return False
    return True


def _bias_order(dynamics: Dynamics, bridge: bool) -> tuple[float | None, str]:
    """The order in dt of the time-step bias of exit statistics (None: no time step to refine) and how exits are
    tested, for the result's notes."""
    if isinstance(dynamics, Restart):  # restarts at the ends of steps: delayed by O(dt)
        order, note = _bias_order(dynamics.dynamics, bridge)
        if order is None:
            return None, note
        return min(order, 1.0), note + "; restarts at the ends of steps: bias of order dt at most"
    if isinstance(dynamics, DiscreteMap) or not isinstance(dynamics, (Langevin, LevyLangevin, ConstrainedFlow)):
        return None, "a discrete map: its step is part of the model, so there is no time-step bias to remove"
    if isinstance(dynamics, ConstrainedFlow):
        if dynamics.method == "dp54":
            raise ValueError("dynamics: ConstrainedFlow(method='dp54') controls its own error (rtol, atol); estimate "
                             "refines a fixed step: use method='rk4' or 'euler'")
        if dynamics.method == "rk4":
            return 4.0, "RK4 with exits located on its dense output: bias of order dt^4"
        if dynamics.noise == 0:
            return 1.0, "Euler with exits located on its linear interpolation: bias of order dt"
    if isinstance(dynamics, LevyLangevin):
        return 0.5, "jump noise: exits tested at the steps only; bias assumed of order dt^(1/2)"
    if not bridge:
        return 0.5, "bridge=False: exits tested at the steps only, bias of order dt^(1/2)"
    if isinstance(dynamics, Langevin) and isinstance(dynamics.S, str):
        return 0.5, f"state-dependent noise (S={dynamics.S!r}): exits tested at the steps only, bias of order dt^(1/2)"
    if isinstance(dynamics, Langevin) and dynamics.scheme == "heun":
        return 1.0, ("Heun's scheme (drift error of order dt^2) with the Brownian-bridge exit test: bias of order dt "
                     "(the exit test's) at most")
    return 1.0, "Euler–Maruyama with the Brownian-bridge exit test: bias of order dt"


def _check_quantity(quantity: Any, stop: Region | None, target: Region | None, q: Any, through: Any,
                    dim: int) -> float | None:
    if not isinstance(quantity, str) or quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    if stop is None and target is None:
        raise ValueError(f"quantity={quantity!r} needs a stop or a target region: a path would never end")
    if quantity == "hit_probability" and target is None:
        raise ValueError("quantity='hit_probability' needs a target region (target=None)")
    if quantity == "exit_through":
        if stop is None:
            raise ValueError("quantity='exit_through' needs a stop region (stop=None): it is where paths leave")
        if not isinstance(through, Region):
            raise TypeError(f"quantity='exit_through' needs through=<an escapade Region>, got {through!r}")
        if through.dim != dim:
            raise ValueError(f"through must have dimension {dim} (the landscape's), got {through!r}")
    elif through is not None:
        raise ValueError(f"through is used only with quantity='exit_through', got quantity={quantity!r}")
    if quantity == "quantile":
        return check_quantile_level(q)
    if q is not None:
        raise ValueError(f"q is used only with quantity='quantile', got quantity={quantity!r}")
    return None


def _seed(seed: int, level: int, batch: int) -> int:
    return int(np.random.SeedSequence([seed, level, batch]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _pool(results: list[SimulationResult]) -> SimulationResult:
    """Several runs of one problem as one result (their per-path arrays end to end)."""
    first = results[0]
    if len(results) == 1:
        return first
    arrays: dict[str, Any] = {f.name: np.concatenate([getattr(r, f.name) for r in results])
                              for f in dataclasses.fields(first) if isinstance(getattr(first, f.name), np.ndarray)}
    return dataclasses.replace(first, trajectories=[], total_steps=sum(r.total_steps for r in results), **arrays)


@dataclasses.dataclass
class _Level:
    """One step size: its runs (for multilevel, the runs at this step and, paired path by path, the runs at the
    next coarser step driven by the same Brownian paths)."""

    dt: float
    dynamics: Dynamics
    runs: list[SimulationResult] = dataclasses.field(default_factory=list)
    coarse: dict[int, SimulationResult] = dataclasses.field(default_factory=dict)  # run index -> its coarse twin
    elapsed: float = 0.0

    @property
    def path_steps(self) -> int:
        return sum(r.total_steps for r in (*self.runs, *self.coarse.values()))

    @property
    def n_paths(self) -> int:
        return sum(r.n_paths for r in self.runs)

    @property
    def n_pairs(self) -> int:
        return sum(self.runs[i].n_paths for i in self.coarse)

    def pairs(self) -> tuple[SimulationResult, SimulationResult]:
        """The runs that have a coarse twin, and their twins, each pooled (path i of one pairs with path i of the
        other)."""
        return _pool([self.runs[i] for i in self.coarse]), _pool(list(self.coarse.values()))

    def cost(self, coupled: bool) -> float:
        """Path-steps per sample: a path at this step, and with `coupled` its paired coarse path too."""
        fine = sum(r.total_steps for r in self.runs) / max(self.n_paths, 1)
        if coupled and self.coarse:
            fine += sum(r.total_steps for r in self.coarse.values()) / max(self.n_pairs, 1)
        return max(fine, 1.0)


@dataclasses.dataclass
class _Outcome:
    value: float
    stderr: float
    half_width_statistical: float
    half_width_bias: float
    bias: float
    bias_stderr: float
    extrapolated: float
    extrapolated_stderr: float
    consistent: bool
    statistics: list[LevelStatistic]  # each level's own estimate (for multilevel: the level's fine runs alone)


@dataclasses.dataclass(frozen=True)
class _Method:
    """A method's two steps: `evaluate` the ladder as it stands, `plan` (path-steps, [(level, paths)]) the next
    round; `coupled(k)`: whether level k runs in coupled pairs (with its coarse twins at level k - 1)."""

    name: str
    evaluate: Callable[[], _Outcome]
    plan: Callable[[_Outcome], tuple[float, list[tuple[int, int]]]]
    coupled: Callable[[int], bool]


class _Estimator:
    """What both methods share: the problem, the ladder, running batches, the budget and progress lines."""

    def __init__(self, problem: dict[str, Any], *, dynamics: Dynamics, quantity: str, q: float | None,
                 through: Region | None, order: float | None, rtol: float, confidence: float, n_pilot: int,
                 max_levels: int, max_steps: float, max_seconds: float, seed: int, show: bool) -> None:
        self.problem, self.dynamics, self.quantity, self.q, self.through = problem, dynamics, quantity, q, through
        self.order, self.rtol, self.confidence, self.n_pilot, self.max_levels = order, rtol, confidence, n_pilot, max_levels
        self.max_steps, self.max_seconds, self.seed, self.show = max_steps, max_seconds, seed, show
        self.z = normal_quantile(confidence)
        self.start = time.perf_counter()
        # a wall-time budget stops a batch where it runs out (OutOfTime), the pilot's or a later round's
        self.deadline = self.start + max_seconds if math.isfinite(max_seconds) else None
        self.ladder: list[_Level] = []

    def add_level(self) -> None:
        k = len(self.ladder)
        dt = self.dynamics.dt / 2**k
        field = "dynamics.dt" if isinstance(self.dynamics, Restart) else "dt"  # a Restart's step is its dynamics'
        dynamics = self.dynamics if k == 0 else replace_parameter(self.dynamics, "dynamics.dt", field, dt)
        assert isinstance(dynamics, Dynamics)
        self.ladder.append(_Level(dt, dynamics))

    def run(self, k: int, n: int, *, coupled: bool) -> None:
        """n more paths at level k; `coupled`: with their coarse twins at level k - 1, driven by the same Brownian
        paths (the pairs of multilevel Monte Carlo). Past the wall-time budget's deadline OutOfTime, and the batch
        adds nothing."""
        lv, deadline = self.ladder[k], self.deadline
        t0 = time.perf_counter()
        seed = _seed(self.seed, k, len(lv.runs))
        try:
            fine = simulate_until(deadline, dynamics=lv.dynamics, n_paths=int(n), seed=seed, **self.problem)
            assert isinstance(fine, SimulationResult)
            if coupled and k > 0:  # the same Brownian paths at the next coarser step
                coarse = simulate_until(deadline, dynamics=self.ladder[k - 1].dynamics, n_paths=int(n), seed=seed,
                                        noise_refinement=2, **self.problem)
                assert isinstance(coarse, SimulationResult)
                lv.coarse[len(lv.runs)] = coarse
            lv.runs.append(fine)
        finally:
            lv.elapsed += time.perf_counter() - t0

    def differences(self, k: int) -> tuple[float, float, int]:
        """(mean, variance, pairs) of Q_k - Q_{k-1} over level k's coupled pairs (NaN, inf, 0 without pairs)."""
        lv = self.ladder[k]
        if k == 0 or not lv.coarse:
            return math.nan, math.inf, 0
        fine, coarse = lv.pairs()
        y = path_values(fine, self.quantity, through=self.through) - path_values(coarse, self.quantity,
                                                                                 through=self.through)
        return self.moments(y)

    def moments(self, y: np.ndarray) -> tuple[float, float, int]:
        """(mean, variance, samples) of the finite values of y."""
        y = y[np.isfinite(y)]
        n = y.size
        # A variance of 0 (every pair of a probability agreed) is read as at most half a disagreement.
        var = max(float(y.var(ddof=1)) if n > 1 else math.inf, 1.0 / (n + 1) if self.quantity != "mean_exit_time"
                  else 0.0)
        return (float(y.mean()) if n else math.nan), var, n

    def statistic(self, lv: _Level) -> LevelStatistic:
        return quantity_of(_pool(lv.runs), self.quantity, q=self.q, through=self.through, confidence=self.confidence)

    @property
    def spent(self) -> int:
        return sum(lv.path_steps for lv in self.ladder)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def room(self) -> float:
        """Path-steps the budget still allows (wall time converted at the measured cost per path-step)."""
        rate = self.elapsed() / max(self.spent, 1)
        seconds = (self.max_seconds - self.elapsed()) / rate if rate > 0 else math.inf
        return min(self.max_steps - self.spent, seconds)

    def progress(self, value: float, hw_stat: float, hw_bias: float) -> None:
        if self.show:
            print(f"escapade.estimate: {len(self.ladder)} levels, finest dt={self.ladder[-1].dt:.3g}; value "
                  f"{value:.6g} ± {hw_stat:.3g} (statistical) ± {hw_bias:.3g} (bias); goal ± "
                  f"{self.rtol * abs(value):.3g}; {self.spent:.3g} path-steps, {self.elapsed():.1f} s", file=sys.stderr)

    def execute(self, runs: list[tuple[int, int]], *, coupled: Callable[[int], bool]) -> str:
        """Run the planned (level, paths) batches, scaled down to the budget; '' or why nothing could run."""
        runs = [(k, n) for k, n in runs if n > 0]
        if not runs:  # the plan holds already but the target is not met (left-out diverged paths): more at the finest
            runs = [(len(self.ladder) - 1, max(self.n_pilot, self.ladder[-1].n_paths))]
        last = self.ladder[-1].cost(coupled(len(self.ladder) - 1))
        want = sum(n * (self.ladder[k].cost(coupled(k)) if k < len(self.ladder) else 2 * last) for k, n in runs)
        room = self.room()
        if want > room:
            if room < 0.05 * want:
                return "budget exhausted before the target"
            runs = [(k, math.floor(n * room / want)) for k, n in runs]
            runs = [(k, n) for k, n in runs if n >= 1]
            if not runs:
                return "budget exhausted before the target"
        while max(k for k, _ in runs) >= len(self.ladder):  # first the levels, since coupled(k) may depend on them
            self.add_level()
        for k, n in runs:
            try:
                self.run(k, n, coupled=coupled(k))
            except OutOfTime:  # the batches before it stand; a level that got none is dropped
                while not self.ladder[-1].runs:
                    self.ladder.pop()
                return _OUT_OF_TIME
        return ""

    def loop(self, method: _Method) -> tuple[_Outcome, str]:
        evaluate, plan, coupled = method.evaluate, method.plan, method.coupled
        history: list[tuple[int, int, float]] = []  # (levels, path-steps spent, half-width) after each round
        widened = 0
        while True:
            out = evaluate()
            if not all(math.isfinite(x) for x in (out.value, out.half_width_statistical, out.half_width_bias)):
                # A finite value without a finite interval (a quantile whose bound lies in the censored tail, a
                # level with too few paths): twice the paths on every level, a few times, before giving up.
                if math.isfinite(out.value) and widened < 4:
                    widened += 1
                    why = self.execute([(k, lv.n_paths) for k, lv in enumerate(self.ladder)], coupled=coupled)
                    if not why:
                        continue
                    if why == _OUT_OF_TIME:
                        return self.after_cut(evaluate)
                return out, ("stopped: the quantity has no finite estimate or interval at some step, also with more "
                             "paths (a quantile whose interval reaches t_max: raise t_max)")
            self.progress(out.value, out.half_width_statistical, out.half_width_bias)
            if self.reached(out):
                return out, "target reached"
            # Eight times the work on the same steps without a tenth off the statistical half-width: more paths do
            # not help (an estimate on a grid of exit times, say), so say so rather than run on. Not the whole
            # half-width: its bias part can grow as more paths resolve a bias the pilot's noise hid, and then a finer
            # step helps.
            history.append((len(self.ladder), self.spent, out.half_width_statistical))
            if any(levels == len(self.ladder) and self.spent >= 8 * spent
                   and out.half_width_statistical > 0.9 * before for levels, spent, before in history[:-1]):
                return out, "stopped: the half-width no longer shrinks with more paths (see the ladder)"
            _, runs = plan(out)
            if not runs:
                return out, (f"stopped: the time-step bias exceeds the target and max_levels={self.max_levels} "
                             "allows no finer step")
            why = self.execute(runs, coupled=coupled)
            if why == _OUT_OF_TIME:
                return self.after_cut(evaluate)
            if why:
                return out, why

    def reached(self, out: _Outcome) -> bool:
        """Whether `out` meets the target: consistent levels, and a half-width within rtol of the value."""
        return out.consistent and out.half_width_statistical + out.half_width_bias <= self.rtol * abs(out.value)

    def after_cut(self, evaluate: Callable[[], _Outcome]) -> tuple[_Outcome, str]:
        """The outcome of every batch that finished, the round the wall-time budget cut included (the levels'
        records count them all), and whether it met the target after all."""
        out = evaluate()
        return out, ("target reached" if self.reached(out) else _OUT_OF_TIME)

    @staticmethod
    def unproven(out: _Outcome, stay: tuple[float, list[tuple[int, int]]],
                 refine: tuple[float, list[tuple[int, int]]]) -> bool:
        """Whether the cheaper plan refines the step on a bias estimate under _SIGNIFICANT of its standard errors
        from 0, which its noise alone could have made. The ladder never comes back to a coarser step, so such a plan
        should first pin the bias down with more paths on the levels it is read from (which are cheap: coarse
        steps)."""
        return out.consistent and refine[0] < stay[0] and abs(out.bias) < _SIGNIFICANT * out.bias_stderr

    def stay_or_refine(self, stay: tuple[float, list[tuple[int, int]]], refine: tuple[float, list[tuple[int, int]]],
                       have_stay: dict[int, int] | None = None,
                       have_refine: dict[int, int] | None = None) -> tuple[float, list[tuple[int, int]]]:
        """The cheaper plan, as (its path-steps, the paths each level should get now): at most _GROWTH times what a
        level has (the samples a plan counts for it, default the level's paths; a new level a pilot's worth), so
        that the plan is revised as the estimates firm up, and at least 1/_MIN_GROWTH more where it adds any: a
        half-width a hair above the target would otherwise take round after round of a few paths each."""
        cost, runs = min(stay, refine, key=lambda p: p[0])
        if math.isinf(cost):
            return cost, []
        have = {k: lv.n_paths for k, lv in enumerate(self.ladder)}
        have.update((have_stay if cost == stay[0] else have_refine) or {})
        capped = []
        for k, n in runs:
            current = have.get(k, 0)
            more = min(n - current, max(self.n_pilot, (_GROWTH - 1) * current))
            capped.append((k, max(more, current // _MIN_GROWTH) if more > 0 else more))
        return cost, capped


def _allocate(z: float, room: float, terms: list[tuple[float, float, int, int]],
              bias_term: int | None = None, extra: float = 0.0) -> tuple[float, list[tuple[int, int]]]:
    """The cheapest paths for `terms` (w * sd, path-steps per sample, samples held, level) that bring z times the
    standard error sqrt(sum_k (w_k sd_k)^2 / n_k) below `room`: n_k = lam * w_k sd_k / sqrt(C_k). Returns (the
    path-steps still to spend, [(level, samples wanted)]).

    `bias_term`: the index of the term that estimates the bias, whose absolute value the half-width also counts.
    Its noise alone makes that |estimate| about sqrt(2 / pi) of its standard error where the bias is nil, so the
    room is shrunk by that much of the standard error the plan leads to (a fixed point, reached in a few rounds):
    planning for a nil bias part would end most runs just short of the target, one more round away. `extra`: that
    many more of its standard errors, which the half-width adds to it (paired, where the bias is resolved)."""
    if room <= 0:
        return math.inf, []
    shrunk = room
    for _ in range(4 if bias_term is not None else 1):
        lam = sum(ws * math.sqrt(c) for ws, c, _, _ in terms) / (shrunk / z) ** 2
        targets = [max(math.ceil(lam * ws / math.sqrt(c)), 2) for ws, c, _, _ in terms]
        if bias_term is None:
            break
        shrunk = room - (math.sqrt(2 / math.pi) + extra) * terms[bias_term][0] / math.sqrt(targets[bias_term])
        if shrunk <= 0:
            return math.inf, []
    spend = sum(max(t - have, 0) * c for t, (_, c, have, _) in zip(targets, terms))
    return spend, [(k, t) for t, (_, _, _, k) in zip(targets, terms)]


def _ladder(est: _Estimator) -> _Method:
    """Independent runs at each step (see the module docstring). The bias of the finest level L is read off the
    two levels before it, b = (Q_{L-2} - Q_{L-1}) / (2**order (2**order - 1)): independent of Q_L, whose error it
    must not cancel, and cheap, since coarse paths cost fewer steps; the finest difference checks it."""
    z, order = est.z, est.order
    # each window level's weight in the variance: the two before the finest through b, and the finest's value
    c = 2.0**order * (2.0**order - 1) if order is not None else 1.0
    weights = (1.0 / c, 1.0 / c, 1.0)

    def evaluate() -> _Outcome:
        stat = [est.statistic(lv) for lv in est.ladder]
        values, ses = [s.value for s in stat], [s.stderr for s in stat]
        if order is not None and all(math.isfinite(v) and e == 0 for v, e in zip(values, ses)):
            return exact(values, stat)
        if order is None or not all(math.isfinite(v) and math.isfinite(e) and e > 0 for v, e in zip(values, ses)):
            return _Outcome(values[-1], ses[-1], z * ses[-1], 0.0 if order is None else math.inf, 0.0, 0.0,
                            values[-1], ses[-1], True, stat)
        (v2, v1, v0), (s2, s1, s0) = values[-3:], ses[-3:]
        before = dt_bias([lv.dt for lv in est.ladder[-3:-1]], [v2, v1], [s2, s1], order=order)  # of level L - 1
        bias, bias_stderr = before.bias / 2**order, before.stderr / 2**order
        stderr = math.hypot(s0, bias_stderr)  # the value's error and the bias estimate's, independent
        # The finest difference is the one before it over 2**order, within the noise of both.
        r = 2.0**order
        consistent = abs((v1 - v0) - (v2 - v1) / r) <= 3 * math.sqrt((s1 * (1 + 1 / r)) ** 2 + s0**2 + (s2 / r) ** 2)
        return _Outcome(v0, s0, z * stderr, abs(bias), bias, bias_stderr, v0 - bias, stderr, consistent, stat)

    def exact(values: list[float], stat: list[LevelStatistic]) -> _Outcome:
        """Every path of a level has the same value (a noiseless flow from one point, a start inside the target), so
        each level's value is exact and only the bias is left. With the finest differences d0 = Q_L - Q_{L-1} and
        d1 = Q_{L-1} - Q_{L-2}, their ratio rho is 2**order once the bias goes as dt**order; the levels are taken
        to be there when rho is within [(2**order + 1) / 2, 2 * 2**order], and the bias is the rest of a geometric
        series of ratio min(rho, 2**order): d0 / (min(rho, 2**order) - 1), which bounds it also when the ratio is
        still on its way up. Differences far below the goal (event location's rounding) pass whatever their ratio."""
        v2, v1, v0 = values[-3:]
        assert order is not None
        r = 2.0**order
        d0, d1 = v0 - v1, v1 - v2
        rho = d1 / d0 if d0 != 0 else math.inf
        settled = (r + 1) / 2 <= rho <= 2 * r
        bias = -d0 / (min(rho, r) - 1) if settled else -d0 / (r - 1)
        hw_bias = abs(bias) if settled else max(abs(bias), abs(d1) / (r * (r - 1)))
        consistent = settled or max(abs(d0), abs(d1)) <= 0.01 * est.rtol * abs(v0)
        return _Outcome(v0, 0.0, 0.0, hw_bias, bias, 0.0, v0 - bias, 0.0, consistent, stat)

    def cheapest(sd: list[float], cost: list[float], have: list[int], bias: float,
                 goal: float) -> tuple[float, list[tuple[int, int]]]:
        """The cheapest paths for the three finest levels (the last three of `sd`, `cost`, `have`) that bring the
        half-width below `goal` expecting the bias `bias`: n_k = lam * w_k sd_k / sqrt(C_k) minimizes the
        path-steps for a given variance sum_k (w_k sd_k)^2 / n_k."""
        room = (goal - bias) / z
        if room <= 0:
            return math.inf, []
        first = len(sd) - 3
        if order is None:
            n = math.ceil((sd[-1] / room) ** 2)
            return max(n - have[-1], 0) * cost[-1], [(len(sd) - 1, n)]
        return _allocate(z, goal - bias, [(w * s, cst, h, first + i) for i, (w, s, cst, h) in
                                          enumerate(zip(weights, sd[first:], cost[first:], have[first:]))])

    def plan(out: _Outcome) -> tuple[float, list[tuple[int, int]]]:
        stat = out.statistics
        goal = est.rtol * abs(out.value)
        sd = [s.stderr * math.sqrt(s.n) for s in stat]
        have = [s.n for s in stat]
        cost = [lv.cost(False) for lv in est.ladder]
        L = len(est.ladder) - 1
        if order is not None and all(s == 0 for s in sd):  # exact levels: more paths change nothing, a finer step does
            return (math.inf, []) if L + 1 >= est.max_levels else (2 * cost[L] * have[L], [(L + 1, have[L])])
        bias = max(abs(out.bias) - out.bias_stderr, 0.0)  # the bias a plan expects, its noise allowed for
        stay = cheapest(sd, cost, have, bias, goal) if out.consistent else (math.inf, [])
        if stay[0] == 0:  # the plan says enough but the half-width disagrees: more paths everywhere
            stay = (0.0, [(k, 2 * have[k]) for k in range(max(L - 2, 0), L + 1)])
        refine: tuple[float, list[tuple[int, int]]] = (math.inf, [])
        if order is not None and L + 1 < est.max_levels:
            refine = cheapest([*sd, sd[L]], [*cost, 2 * cost[L]], [*have, 0], bias / 2**order, goal)
            if math.isinf(refine[0]):  # even one step finer the bias would exceed the goal: refine now
                refine = (0.0, [(L + 1, est.n_pilot)])
        counted = dict(enumerate(have))  # the plans count samples: DIVERGED paths left out
        if est.unproven(out, stay, refine):  # first halve the bias's standard error (levels L - 2 and L - 1)
            halve = _allocate(z, z * out.bias_stderr / 2, [(sd[k] / c, cost[k], have[k], k) for k in (L - 2, L - 1)])
            return est.stay_or_refine(halve, (math.inf, []), counted)
        return est.stay_or_refine(stay, refine, counted, counted)

    return _Method("ladder", evaluate, plan, coupled=lambda k: False)


def _paired(est: _Estimator) -> _Method:
    """The finest level's value from its own paths, as in the ladder; its bias from coupled pairs at the two steps
    before it (each pair driven by one Brownian path), b = -E[Q_{L-1} - Q_{L-2}] / (2**order (2**order - 1)):
    independent of Q_L, and cheap, since a pair's difference varies far less than two independent runs' do. The
    finest level's first batch runs coupled too: its difference, the one before it over 2**order, checks the bias
    model.

    Where the bias is resolved (|b| over _RESOLVED of its standard errors), the bias part is |b| plus one standard
    error of b, ramping in from _RESOLVED to _RESOLVED + 1 of them, and the plans count on |b| itself rather than on
    |b| less two standard errors. A run stays at a step, and stops, on the rounds whose b happens to read small, so
    at the stop |b| under-reads the bias by about one standard error; before the asymptotic regime the ratio of
    successive differences is also under 2**order, which a one-level reading cannot resolve (1,000 pairs at the
    finest step give its difference to about +-80% on the Ornstein-Uhlenbeck interval). There the runs that stayed
    at dt0/8 read -0.024 for an expected -0.028 and a true -0.032, and 181 of 200 intervals held; with the
    allowance and plans that refine rather than wait for b to shrink, 190 of 200, at 1.05 times the median
    path-steps. Where b is within noise of 0 (a nil bias, Heun's scheme) nothing changes."""
    z, order = est.z, est.order
    assert order is not None
    r = 2.0**order
    c = r * (r - 1)

    def coupled(k: int) -> bool:  # the level below the finest, and a level's first batch
        return k >= 1 and (k == len(est.ladder) - 2 or not est.ladder[k].coarse)

    def evaluate() -> _Outcome:
        stat = [est.statistic(lv) for lv in est.ladder]
        L = len(est.ladder) - 1
        v0, s0 = stat[-1].value, stat[-1].stderr
        m, var, n = est.differences(L - 1)
        if not (math.isfinite(v0) and math.isfinite(s0) and math.isfinite(m) and math.isfinite(var) and n > 1):
            return _Outcome(v0, s0, math.inf, math.inf, 0.0, 0.0, v0, s0, True, stat)
        bias, bias_stderr = -m / c, math.sqrt(var / n) / c
        stderr = math.hypot(s0, bias_stderr)
        m_L, v_L, n_L = est.differences(L)
        consistent = not (n_L > 1 and math.isfinite(m_L) and math.isfinite(v_L)) or (
            abs(m_L - m / r) <= 3 * math.sqrt(v_L / n_L + var / (r**2 * n)))
        allowance = min(bias_stderr, max(abs(bias) - _RESOLVED * bias_stderr, 0.0))  # the stop's selection of b
        return _Outcome(v0, s0, z * stderr, abs(bias) + allowance, bias, bias_stderr, v0 - bias, stderr, consistent,
                        stat)

    def plan(out: _Outcome) -> tuple[float, list[tuple[int, int]]]:
        goal = est.rtol * abs(out.value)
        L = len(est.ladder) - 1
        value, pairs = est.ladder[L], est.ladder[L - 1]
        sd = out.stderr * math.sqrt(value.n_paths)
        _, var, _ = est.differences(L - 1)
        extra = 1.0 if abs(out.bias) >= (_RESOLVED + 1) * out.bias_stderr else 0.0  # the allowance, where it is full
        # the bias a plan expects: its noise allowed for, unless resolved (then a plan that counts on it reading
        # smaller stays on a step whose bias, read again, does not shrink)
        bias = abs(out.bias) if extra else max(abs(out.bias) - 2 * out.bias_stderr, 0.0)
        have_stay = {L: value.n_paths, L - 1: pairs.n_pairs}
        terms = [(sd, value.cost(False), value.n_paths, L),
                 (math.sqrt(var) / c, pairs.cost(True), pairs.n_pairs, L - 1)]
        stay = _allocate(z, goal - bias, terms, bias_term=1, extra=extra) if out.consistent else (math.inf, [])
        if stay[0] == 0:  # enough for the bias expected, not for the one measured: plan for that
            stay = _allocate(z, goal - out.half_width_bias, terms)
            if stay[0] == 0:  # enough for both, by the plan's variances: more paths everywhere
                stay = (0.0, [(L, 2 * value.n_paths), (L - 1, 2 * pairs.n_pairs)])
        refine: tuple[float, list[tuple[int, int]]] = (math.inf, [])
        if L + 1 < est.max_levels:
            _, var_L, n_L = est.differences(L)  # the next pairs' variance, from the finest level's first batch
            var_next = var_L if n_L > 1 and math.isfinite(var_L) else var / 2
            pair_cost = value.cost(False) + pairs.cost(False)
            refine = _allocate(z, goal - bias / r, [(sd, 2 * value.cost(False), 0, L + 1),
                                                    (math.sqrt(var_next) / c, pair_cost, value.n_pairs, L)],
                               bias_term=1, extra=extra)
            if math.isinf(refine[0]):
                refine = (0.0, [(L + 1, est.n_pilot)])
        if est.unproven(out, stay, refine):  # first pin the bias down with more pairs
            return est.stay_or_refine((0.0, [(L - 1, _GROWTH * pairs.n_pairs)]), (math.inf, []), have_stay)
        return est.stay_or_refine(stay, refine, have_stay, {L: value.n_pairs})

    return _Method("paired", evaluate, plan, coupled=coupled)


def _multilevel(est: _Estimator) -> _Method:
    """Multilevel Monte Carlo over coupled levels (see the module docstring)."""
    z, order = est.z, est.order
    assert order is not None
    ratio = 2.0**order

    def corrections() -> list[tuple[float, float, int]]:
        """(mean, variance, samples) of Q_0 and of each correction Q_l - Q_{l-1} (every run of a level l > 0 is
        coupled)."""
        first = est.moments(path_values(_pool(est.ladder[0].runs), est.quantity, through=est.through))
        return [first, *(est.differences(k) for k in range(1, len(est.ladder)))]

    def evaluate() -> _Outcome:
        stat = [est.statistic(lv) for lv in est.ladder]
        c = corrections()
        value = sum(m for m, _, _ in c)
        stderr = math.sqrt(sum(v / n for _, v, n in c))
        m_L, v_L, n_L = c[-1]
        size = abs(m_L)
        if len(c) > 2:  # Giles' safeguard against a correction that is small by chance
            size = max(size, abs(c[-2][0]) / ratio)
        bias = -math.copysign(size, m_L) / (ratio - 1)  # Q_L - Q_{L-1} = -(ratio - 1) * bias of Q_L
        bias_stderr = math.sqrt(v_L / n_L) / (ratio - 1)
        consistent = True
        if len(c) > 2:  # the corrections shrink like dt**order
            m_p, v_p, n_p = c[-2]
            consistent = abs(m_p - ratio * m_L) <= 3 * math.sqrt(v_p / n_p + ratio**2 * v_L / n_L)
        return _Outcome(value, stderr, z * stderr, abs(bias) + z * bias_stderr, bias, bias_stderr, value - bias,
                        math.sqrt(stderr**2 + bias_stderr**2), consistent, stat)

    def cheapest(var: list[float], cost: list[float], have: list[int], bias: float,
                 goal: float) -> tuple[float, list[tuple[int, int]]]:
        """Giles' allocation n_l = lam * sqrt(V_l / C_l), with lam the smallest that brings z * stderr plus the
        bias part (|bias| + z * its standard error, which shrinks with the finest level's paths) below `goal`."""
        room = goal - bias
        if room <= 0:
            return math.inf, []
        a = math.sqrt(sum(math.sqrt(v * c) for v, c in zip(var, cost)))
        b = (var[-1] * cost[-1]) ** 0.25 / (ratio - 1)
        lam = (z * (a + b) / room) ** 2
        targets = [max(math.ceil(lam * math.sqrt(v / c)), 2) for v, c in zip(var, cost)]
        spend = sum(max(t - h, 0) * c for t, h, c in zip(targets, have, cost))
        return spend, list(enumerate(targets))

    def plan(out: _Outcome) -> tuple[float, list[tuple[int, int]]]:
        c = corrections()
        goal = est.rtol * abs(out.value)
        var = [v for _, v, _ in c]
        have = [lv.n_paths for lv in est.ladder]
        cost = [lv.cost(True) for lv in est.ladder]
        L = len(est.ladder) - 1
        bias = max(abs(out.bias) - 2 * out.bias_stderr, 0.0)
        stay = cheapest(var, cost, have, bias, goal) if out.consistent else (math.inf, [])
        if stay[0] == 0:
            stay = (0.0, [(L, 2 * have[L])])
        refine: tuple[float, list[tuple[int, int]]] = (math.inf, [])
        if L + 1 < est.max_levels:
            # The next correction's variance decays as the last two did (between 1/2 and 1/4 per level).
            decay = min(max(var[-1] / var[-2], 0.25), 0.5) if L >= 2 and var[-2] > 0 else 0.5
            refine = cheapest([*var, var[-1] * decay], [*cost, 2 * cost[-1]], [*have, 0], bias / ratio, goal)
            if math.isinf(refine[0]):
                refine = (0.0, [(L + 1, est.n_pilot)])
        return est.stay_or_refine(stay, refine)

    return _Method("multilevel", evaluate, plan, coupled=lambda k: True)


def _level_records(ladder: list[_Level], stat: list[LevelStatistic]) -> tuple[EstimateLevel, ...]:
    """What an Estimate records of each level run: its step, paths, cost and statistic."""
    return tuple(EstimateLevel(dt=lv.dt, n_paths=lv.n_paths, path_steps=lv.path_steps, value=s.value,
                               stderr=s.stderr, censored=s.censored, diverged=s.diverged, elapsed=lv.elapsed)
                 for lv, s in zip(ladder, stat))


def _estimate_params(run: dict[str, Any], **asked: Any) -> dict[str, Any]:
    """An Estimate's params: the problem as a run of it recorded (`run`, its params), what estimate was asked, and
    the semantics version."""
    params = {key: run[key] for key in ("landscape", "dynamics", "stop", "target", "x0", "bridge",
                                        "divergence_bound")}
    return {**params, **asked, "semantics": run.get("semantics", 1)}


def _pilot_cut(est: _Estimator, k: int, n_first: int, budget: Any, method: str, quantity: str, q: float | None,
               through: Region | None, t_max: float, confidence: float, rtol: float) -> Estimate:
    """The result of a pilot round that the wall-time budget stopped at level k: no value (NaN), the levels it
    finished, and a message that says so."""
    done = [lv for lv in est.ladder if lv.runs]
    levels = _level_records(done, [est.statistic(lv) for lv in done])
    message = (f"budget exhausted in the pilot round: the wall-time budget {budget!r} ran out at dt="
               f"{est.ladder[k].dt:g}, level {k + 1} of the pilot's {n_first} (n_pilot={est.n_pilot} paths each), "
               "so there is no estimate; give a larger budget, or a smaller n_pilot or t_max")
    problem = est.problem  # what the first batch would have recorded
    settings = RunSettings(n_paths=est.n_pilot, t_max=t_max, seed=est.seed, bridge=problem["bridge"],
                           divergence_bound=problem["divergence_bound"])
    job = make_job(problem["landscape"], est.ladder[0].dynamics, x0=problem["x0"], stop=problem["stop"],
                   target=problem["target"], settings=settings)
    params = _estimate_params(job.params, quantity=quantity, q=q,
                              through=through.to_dict() if through is not None else None, rtol=rtol,
                              confidence=confidence, budget=budget, t_max=t_max, method=method, n_pilot=est.n_pilot,
                              max_levels=est.max_levels, bias_order=est.order)
    nan = math.nan
    # a finished run records the method it ran; this one chose none
    notes = (f"method: {method!r} as asked; the pilot round ran out of time before a method was run",)
    return Estimate(quantity=quantity, value=nan, interval=(nan, nan), confidence=confidence, stderr=nan, bias=nan,
                    bias_stderr=nan, extrapolated=nan, extrapolated_stderr=nan, half_width_statistical=nan,
                    half_width_bias=nan, rtol=rtol, reached=False, message=message, notes=notes, levels=levels,
                    n_paths=sum(lv.n_paths for lv in done), path_steps=est.spent, elapsed=est.elapsed(),
                    params=params, seed=est.seed, version=_core.__version__)


def estimate(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike | StartSampler,
    stop: Region | dict[str, Region] | list[Region] | None = None,
    target: Region | dict[str, Region] | list[Region] | None = None,
    quantity: str = "mean_exit_time",
    q: float | None = None,
    through: Region | None = None,
    rtol: float = 0.01,
    confidence: float = 0.95,
    budget: float | str | None = None,
    t_max: float | None = None,
    method: str = "auto",
    n_pilot: int = 1000,
    max_levels: int = 12,
    seed: int | None = None,
    threads: int | None = None,
    bridge: bool = True,
    divergence_bound: float = 1e8,
    progress: bool | None = None,
) -> Estimate:
    """Estimate `quantity` of the paths of `dynamics` on `landscape` to the relative accuracy `rtol`.

    Takes the problem as `simulate` does (landscape, dynamics, x0, stop, target, t_max, bridge, ...) and returns an
    `Estimate`: ``.value``, ``.interval`` (at `confidence`) with its statistical and time-step parts, the ladder of
    step sizes with the paths and path-steps spent on each, and whether the target was reached.

    Parameters
    ----------
    quantity : "mean_exit_time" (E[tau], tau the time the path left `stop` or entered `target`),
        "exit_probability" (P(tau <= t_max)), "hit_probability" (P(entering `target` first; needs a target),
        "quantile" (the `q`-quantile of tau), or "exit_through" (P(leaving `stop` at a point of the region
        `through`)).
    rtol : the target: the interval's half-width (statistical plus bias part) below rtol * |value|; in [1e-12, 1).
    confidence : the interval's level, in (0, 1).
    budget : this many path-steps (a number), or this much wall time (a string: "30s", "2min", "1h"). The pilot
        round runs in full under a path-step budget, and stops when a wall-time budget runs out (within about 0.1 s),
        its unfinished batch discarded: the result then has no value (NaN) and says so in its `message`. Each later
        round is scaled to what is left by its expected cost, so the spend can pass a path-step budget by the
        pilot's cost and by a fraction of a round; a wall-time budget stops a later round too where it runs out,
        and the result is that of the batches that finished. When it runs out first, the result says so
        (``reached=False``, with its `message`) and gives what was reached.
    t_max : the time cap of each path (required). Paths still running then are CENSORED; a mean over censored paths
        is the restricted mean E[min(tau, t_max)], flagged in the notes (see `analysis.estimates`). For dynamics
        with a time step it must be a whole number of steps dt, so that every level stops at t_max itself.
    method : "multilevel" (coupled levels), "ladder" (independent levels), "paired" (the finest level's own paths,
        its bias from coupled pairs at the two steps before it), or "auto": for the means over paths (every quantity
        but "quantile") of dynamics driven by Gaussian noise, the pilot round runs coupled levels and paired goes on,
        or multilevel where its plan needs under half paired's path-steps (the notes say which, and why); else the
        ladder.
    n_pilot : paths per level in the first round (at least 100).
    max_levels : the most step sizes the ladder may use (dt0 / 2**(max_levels - 1) is the finest).
    seed : the seed every batch's seed is drawn from (default: a fresh random seed, recorded in the result).
    threads, bridge, divergence_bound : as for `simulate`.
    progress : print one line per round to stderr (default: when stderr is a terminal).

    The dynamics' dt is the coarsest step. For a discrete map (GD, SGD, ...) the step is part of the model: one
    level is run, with no bias part. DIVERGED paths are left out of the value and counted in the notes.
    """
    _require("landscape", landscape, Landscape)
    _require("dynamics", dynamics, Dynamics)
    stop = as_region("stop", stop, Intersection)  # a dict or list of regions, as simulate takes it
    target = as_region("target", target, Union)
    if not isinstance(x0, StartSampler) and np.ndim(x0) >= 2:  # simulate's (n, d) points: one path each
        raise ValueError(f"x0 must be one point or a StartSampler (estimate runs as many paths as it needs), got an "
                         f"array of shape {np.shape(x0)}")
    qf = _check_quantity(quantity, stop, target, q, through, landscape.dim)
    rtol = as_float("rtol", rtol)
    if not MIN_RTOL <= rtol < 1:  # below, no budget of paths reaches it (and the plan's path counts overflow)
        raise ValueError(f"rtol must be in [{MIN_RTOL:g}, 1), got {rtol!r}")
    confidence = check_confidence(confidence)
    if t_max is None:
        raise ValueError("t_max is required: the time cap of every path (paths still running then are censored)")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    n_pilot = as_int("n_pilot", n_pilot, minimum=100)
    progress = as_progress(progress)
    max_levels = as_int("max_levels", max_levels, minimum=1, maximum=40)
    max_steps, max_seconds = _budget(budget)
    order, exit_test = _bias_order(dynamics, bridge)
    choice = ""  # why method="auto" took the method it did, for the notes
    coupled_ok = quantity in MEAN_QUANTITIES and order is not None and _gaussian_noise(dynamics)
    if method in ("multilevel", "paired") and not coupled_ok:
        why = (f"a mean over paths, not quantity={quantity!r}" if quantity not in MEAN_QUANTITIES else
               f"a time step to refine, which {type(dynamics).__name__} has not" if order is None else
               f"Gaussian noise shared by its levels, which {type(dynamics).__name__} here does not draw (jumps, or "
               "no noise)")
        raise ValueError(f"method={method!r} needs {why}; method='ladder' (or 'auto') takes such a problem")
    asked = method
    if method == "auto" and not coupled_ok:
        method = "ladder"
    n_first = 1 if order is None else min(3, max_levels)
    if order is not None:  # the levels' steps dt / 2^k: each rounds t_max up to its own whole steps unless dt divides it
        t_max = as_float("t_max", t_max, positive=True)
        _max_steps(t_max, None, dynamics.dt)  # simulate's check: t_max / dt within the step cap (no overflow below)
        steps = t_max / dynamics.dt
        if not abs(steps - round(steps)) <= 1e-9 * max(1.0, steps):
            raise ValueError(f"t_max={t_max!r} must be a whole number of steps dt={dynamics.dt!r}: every level "
                             "rounds t_max up to its own whole steps, which would differ from level to level (and from "
                             f"t_max); take t_max={max(1, math.floor(steps)) * dynamics.dt:.12g} or "
                             f"{math.ceil(steps) * dynamics.dt:.12g}")
    if max_levels < 2 and order is not None:
        raise ValueError(f"max_levels must be at least 2 to estimate a time-step bias, got {max_levels}")
    if max_levels < 3 and order is not None and method != "multilevel":
        if method != "auto":  # the ladder and paired read the bias off the two levels before the finest
            raise ValueError(f"max_levels must be at least 3 for method={asked!r}"
                             f"{' (which takes the ladder here)' if asked != method else ''}: the bias of the finest "
                             f"step is read off the two steps before it; got {max_levels} (multilevel needs 2)")
        method = "multilevel"
        choice = "method='auto' chose multilevel: with max_levels=2, paired has no level for its bias"
    if max_steps < n_first * n_pilot:
        raise ValueError(f"budget={budget!r} path-steps is below the first round's minimum of {n_first * n_pilot} "
                         f"({n_first} levels of n_pilot={n_pilot} paths, at least one step each)")
    seed = secrets.randbits(63) if seed is None else as_int("seed", seed, minimum=0, maximum=2**64 - 1)
    problem = dict(landscape=landscape, x0=x0, stop=stop, target=target, t_max=t_max, threads=threads, bridge=bridge,
                   divergence_bound=divergence_bound, progress=False)
    est = _Estimator(problem, dynamics=dynamics, quantity=quantity, q=qf, through=through, order=order, rtol=rtol,
                     confidence=confidence, n_pilot=n_pilot, max_levels=max_levels, max_steps=max_steps,
                     max_seconds=max_seconds, seed=seed, show=sys.stderr.isatty() if progress is None else progress)
    # The pilot round runs coupled pairs where multilevel may be chosen: their fine runs are independent across
    # levels, so the ladder can use them too. A wall-time budget that runs out in it leaves no estimate.
    for k in range(n_first):
        est.add_level()
        try:
            est.run(k, n_pilot, coupled=method != "ladder")
        except OutOfTime:
            return _pilot_cut(est, k, n_first, budget, method, quantity, qf, through, t_max, confidence, rtol)
    for lv in est.ladder:  # no value to estimate at all: say so rather than divide by no paths
        s = est.statistic(lv)
        if s.n == 0:
            raise ValueError(f"every one of the pilot's {s.diverged} paths at dt={lv.dt:g} diverged (DIVERGED): the "
                             "dynamics leave divergence_bound at this step; take a smaller dt, or a stop region "
                             "that ends the paths first")
    methods = {"multilevel": _multilevel, "ladder": _ladder, "paired": _paired}
    if method == "auto":  # whichever the pilot says finishes in fewer path-steps, with a margin for multilevel
        # Not the ladder: paired reads the same bias off pairs whose difference varies less than two independent
        # runs' (unless the coupling anti-correlates them), which the pilot's 1000 paths are too few to rank.
        # Multilevel only at under half paired's path-steps: a correction of exit times is nil on most pairs and
        # large on the few whose paths part at the boundary, so 1000 pairs mostly under-state its variance (the
        # double well: predicted at 0.7-1.0 of paired's cost in 4 seeds of 40, it then spent 3 times paired's).
        candidates = [_multilevel(est), _paired(est)]
        costs = {m.name: m.plan(m.evaluate())[0] for m in candidates}
        chosen = candidates[0] if costs["multilevel"] < _MULTILEVEL_MARGIN * costs["paired"] else candidates[1]
        if 0 in costs.values():  # a plan's fallback (a finer step, or twice the paths) is no cost to compare
            chosen = candidates[1]
            choice = ("method='auto' chose paired: the pilot round gave no cost to compare (a plan first refines the "
                      "step, the bias being above the goal, or doubles the paths), and paired is the default")
        else:
            choice = (f"method='auto' chose {chosen.name}: the pilot round predicted "
                      + ", ".join(f"{cost:.3g} more path-steps for {name}" for name, cost in costs.items())
                      + f" (multilevel is taken below {_MULTILEVEL_MARGIN:g} of paired's)")
    else:
        chosen = methods[method](est)
    out, message = est.loop(chosen)

    stat = out.statistics
    notes = [exit_test, *([choice] if choice else [])]
    censored = sum(s.censored for s in stat)
    if quantity in ("mean_exit_time", "quantile") and not all(s.identified for s in stat):
        notes.append(f"{censored} paths were censored at t_max={t_max:g}: the value is the restricted mean "
                     f"E[min(tau, t_max)], a lower bound of the mean" if quantity == "mean_exit_time" else
                     f"more than {1 - (qf or 0):g} of the paths did not exit by t_max={t_max:g}: the quantile is "
                     "beyond it")
    elif censored:
        notes.append(f"{censored} paths were censored at t_max={t_max:g}")
    diverged = sum(s.diverged for s in stat)
    if diverged:
        notes.append(f"{diverged} paths diverged and are left out: the value is conditional on not diverging")
    if not out.consistent:
        notes.append(f"the finest steps disagree with a bias of order dt^{order:g}: the bias part is not reliable")
    levels = _level_records(est.ladder, stat)
    first = est.ladder[0].runs[0]
    params = _estimate_params(first.params, quantity=quantity, q=qf,
                              through=through.to_dict() if through is not None else None, rtol=rtol,
                              confidence=confidence, budget=budget, t_max=t_max, method=chosen.name,
                              n_pilot=n_pilot, max_levels=max_levels, bias_order=order)
    hw = out.half_width_statistical + out.half_width_bias
    interval = (out.value - hw, out.value + hw)
    if quantity not in ("mean_exit_time", "quantile"):  # a probability: its interval lies in [0, 1], as splitting's
        interval = (max(interval[0], 0.0), min(interval[1], 1.0))
    return Estimate(
        quantity=quantity,
        value=out.value,
        interval=interval,
        confidence=confidence,
        stderr=out.stderr,
        bias=out.bias,
        bias_stderr=out.bias_stderr,
        extrapolated=out.extrapolated,
        extrapolated_stderr=out.extrapolated_stderr,
        half_width_statistical=out.half_width_statistical,
        half_width_bias=out.half_width_bias,
        rtol=rtol,
        reached=message == "target reached",
        message=message,
        notes=tuple(notes),
        levels=levels,
        n_paths=sum(lv.n_paths for lv in est.ladder),
        path_steps=est.spent,
        elapsed=est.elapsed(),
        params=params,
        seed=seed,
        version=first.version,
    )
