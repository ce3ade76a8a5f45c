"""Rare exits: adaptive multilevel splitting (`splitting`) for the probability of reaching a product set before
returning to a reactant set, and the mean exit time from a basin built on it (`rare_exit_time`).

Both run in the compiled core (replicas are lanes; docs/rare-events.md). A result is bitwise the same for any
`threads` or `lanes`: a run's noise is keyed by (seed, run, continuation) and its survivor choices by
(seed, run, iteration).
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._execute import Progress
from ._settings import MAX_INDEX, RunSettings, check_allocation, memory_estimate
from ._validate import as_float, as_int, as_progress
from .dynamics import DiscreteMap, Dynamics
from .forcing import BrownianForcing, RandomDirections
from .landscapes import Landscape
from .regions import Outside, Region
from .restart import Restart
from .analysis.estimates import check_confidence, normal_quantile
from .results import (UNSTOPPED, RareExitTime, SimulationResult, SplittingResult, SplittingStatus, Status, Term,
                      censoring_time)
from .scores import Score, default_score
from .simulate import SEMANTICS, _max_steps, _require, _start, simulate
from .starts import StartSampler

__all__ = ["splitting", "rare_exit_time", "STREAM"]

# What a splitting run's numbers depend on besides its arguments, recorded in params["splitting_stream"]: 1, the
# continuation noise keyed by (seed, run, continuation count), survivors chosen by (seed, run, iteration); 2 (with
# semantics 21), also the refined bridge's draws of a step near both sets, keyed by (seed, continuation, step) with
# a key of their own (the draws of 1 unchanged).
STREAM = 2

# A replica path that has reached neither set after this many steps is censored (counted as a failure, in notes).
DEFAULT_MAX_STEPS = 10**8
# A run still going after this many iterations per replica stops (p below e^-200: far beyond any use).
ITERATIONS_PER_REPLICA = 200
# The step cap of the pilot excursions that choose the default sigma_level (their paths are recorded).
PILOT_STEPS = 10**5


class _ScoreLevel(Region):
    """{x : score(x) >= level}, tested at the steps: the level set Sigma of `rare_exit_time`."""

    score: Score
    level: float

    def __init__(self, score: Score, level: float) -> None:
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "level", float(level))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ScoreLevel", "score": self.score.to_dict(), "level": self.level}

    def _to_core(self) -> Any:
        return _core.ScoreLevel(score=self.score._core, level=self.level)


def _check_problem(landscape: Any, dynamics: Any, reactant: Any, product: Any, score: Any) -> Score:
    _require("landscape", landscape, Landscape)
    _require("dynamics", dynamics, Dynamics)
    _require("reactant", reactant, Region)
    _require("product", product, Region)
    if score is not None and not isinstance(score, Score):
        raise TypeError(f"score must be an escapade score (escapade.scores) or None, got {score!r}")
    d = landscape.dim
    for name, obj in (("reactant", reactant), ("product", product), ("score", score)):
        if obj is not None and obj.dim != d:
            raise ValueError(f"{name} must have dimension {d} (the landscape's), got {obj!r}")
    forcing = getattr(dynamics, "forcing", None)
    if isinstance(forcing, (BrownianForcing, RandomDirections)):  # keyed by path: a clone would redraw it
        raise ValueError(f"dynamics.forcing must be deterministic for splitting (a cloned replica draws new random "
                         f"numbers, and would draw a new forcing path with them), got {forcing!r}")
    for name, obj in (("reactant", reactant), ("product", product)):
        if obj.reflects:
            raise ValueError(f"{name} must have no reflecting faces (splitting tests the sets as they are), got {obj!r}")
    if isinstance(dynamics, Restart):
        raise ValueError(f"dynamics must not restart paths in splitting (a restart is not a Markov step of the "
                         f"replicas' dynamics), got {dynamics!r}")
    if dynamics._own_clock:
        raise ValueError(f"dynamics must take fixed steps for splitting, got {type(dynamics).__name__} with "
                         f"method={getattr(dynamics, 'method', '?')!r} (adaptive steps)")
    _core.check_splitting_dynamics(landscape=landscape._core, dynamics=dynamics._core)
    return default_score(product) if score is None else score


V_SMALL = 0.1  # the largest relative variance of p-hat (relative standard error 0.32) whose 1/p bias is corrected


def _check_time_homogeneous(landscape: Landscape, dynamics: Dynamics) -> None:
    """The decomposition of `rare_exit_time` restarts the clock and hands on positions only at each stage: refused
    for dynamics that depend on time or carry a state besides the position."""
    forcing = getattr(dynamics, "forcing", None)
    if forcing is not None:
        raise ValueError(f"dynamics.forcing must be None for rare_exit_time: its stages each start at t = 0, so a "
                         f"time-dependent forcing would restart with each of them, got {forcing!r}")
    schedule = getattr(dynamics, "schedule", "constant")
    if schedule != "constant":
        raise ValueError(f"dynamics.schedule must be 'constant' for rare_exit_time (its stages each start at "
                         f"iteration 0, so a schedule would restart with each of them), got {schedule!r}")
    if isinstance(dynamics, DiscreteMap) and dynamics._core.state_dim(landscape.dim) > 0:  # an SDE's is a cache
        raise ValueError(f"dynamics must carry no state besides the position for rare_exit_time (its stages hand "
                         f"on positions only, so {type(dynamics).__name__}'s state would be reset at each), got "
                         f"{dynamics!r}")


def _check_points(points: np.ndarray, reactant: Region, product: Region, score: Score, *, allow_reactant: bool,
                  bound: float) -> None:
    """Starting points must lie outside both sets (or in the reactant, for `rare_exit_time`) with a finite score,
    within the divergence bound."""
    rows = np.atleast_2d(points)
    far = np.abs(rows).max(axis=1) > bound  # else every replica would stop at once as diverged
    if far.any():
        raise ValueError(f"divergence_bound={bound} must exceed every coordinate of x0 in absolute value (a path "
                         f"beyond it counts as diverged), got x0 = {rows[np.argmax(far)].tolist()}")
    in_b = np.asarray(product.contains(rows))
    if in_b.any():
        raise ValueError(f"x0 must lie outside the product set, got x0 = {rows[np.argmax(in_b)].tolist()} inside "
                         f"{product!r}")
    if not allow_reactant:
        in_a = np.asarray(reactant.contains(rows))
        if in_a.any():
            raise ValueError(f"x0 must lie outside the reactant set, got x0 = {rows[np.argmax(in_a)].tolist()} "
                             f"inside {reactant!r}")
    values = np.asarray(score(rows))
    if not np.all(np.isfinite(values)):
        i = int(np.argmax(~np.isfinite(values)))
        raise ValueError(f"score must be finite at x0, got {values[i]} at x0 = {rows[i].tolist()}")


def _steps_cap(dynamics: Dynamics, t_max: float | None, max_steps: int | None) -> int:
    cap = DEFAULT_MAX_STEPS if max_steps is None else as_int("max_steps", max_steps, minimum=1, maximum=2**48 - 2)
    if t_max is not None:  # simulate's check: t_max / dt beyond the step cap is refused, not overflowed
        cap = min(cap, _max_steps(as_float("t_max", t_max, positive=True), None, dynamics.dt))
    return cap


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean, standard error and the t half-width at `confidence` of independent values (NaN with one value)."""
    from scipy import stats

    n = values.size
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    se = float(values.std(ddof=1) / math.sqrt(n))
    return mean, se, float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se


def _settings(dim: int, n_replicas: Any, n_runs: Any, seed: Any, threads: Any, lanes: Any, bridge: Any,
              max_iterations: Any, confidence: Any, divergence_bound: Any, k: Any) -> dict[str, Any]:
    n = as_int("n_replicas", n_replicas, minimum=2, maximum=2**18)
    if isinstance(bridge, (bool, np.bool_)) is False:
        raise TypeError(f"bridge must be True or False, got {bridge!r}")
    conf = check_confidence(confidence)  # up front: the interval's quantile is taken after the whole run
    return {
        "n_replicas": n,
        "k": as_int("k", k, minimum=1, maximum=n - 1),
        "n_runs": as_int("n_runs", n_runs, minimum=1, maximum=2**22),
        "seed": secrets.randbits(63) if seed is None else as_int("seed", seed, minimum=0, maximum=2**64 - 1),
        "threads": 0 if threads is None else as_int("threads", threads, minimum=1, maximum=4096),
        # As simulate: in one dimension a lane-step is so cheap that wider blocks pay (a thread holds up to `lanes`
        # runs at once).
        "lanes": (128 if dim == 1 else 64) if lanes is None else as_int("lanes", lanes, minimum=1, maximum=4096),
        "bridge": bool(bridge),
        "max_iterations": (ITERATIONS_PER_REPLICA * n if max_iterations is None
                           else as_int("max_iterations", max_iterations, minimum=1, maximum=2**46)),
        "confidence": conf,
        "divergence_bound": as_float("divergence_bound", divergence_bound, positive=True, finite=False),
    }


def _run(landscape: Landscape, dynamics: Dynamics, start: Any, reactant: Region, product: Region, score: Score,
         s: dict[str, Any], max_steps: int, record_reactive: int, progress: bool | None) -> dict[str, Any]:
    bar = Progress(s["n_runs"], progress, unit="run")
    try:
        return _core.splitting(landscape=landscape._core, dynamics=dynamics._core, start=start,
                               reactant=reactant._core, product=product._core, score=score._core,
                               n_replicas=s["n_replicas"], n_runs=s["n_runs"], seed=s["seed"], threads=s["threads"],
                               lanes=s["lanes"], bridge=s["bridge"], divergence_bound=s["divergence_bound"],
                               max_iterations=s["max_iterations"], max_steps=max_steps,
                               record_reactive=record_reactive, k=s["k"], progress=bar)
    finally:
        bar.close()


def _result(out: dict[str, Any], s: dict[str, Any], params: dict[str, Any], elapsed: float) -> SplittingResult:
    N, R = s["n_replicas"], s["n_runs"]
    params = {**params, "bridge": bool(out["bridge"])}  # what the run did (not for jumps or maps)
    status = out["status"]
    with np.errstate(divide="ignore"):
        run_p = np.exp(out["log_weight"]) * out["n_reached"] / N
    mean, se, hw = _t_interval(run_p, s["confidence"])
    none_reached = not np.any(run_p > 0)
    if none_reached:  # the spread of all-zero estimates is 0, which would claim [0, 0] with certainty
        se = hw = math.nan
    interval = (max(0.0, mean - hw), min(1.0, mean + hw)) if math.isfinite(hw) else (math.nan, math.nan)
    counts = {st: int(np.count_nonzero(status == st)) for st in SplittingStatus}
    test = "bridge" if out["bridge"] else "steps"
    notes = [
        "the reactant and product sets were tested with the Brownian bridge between steps (Gaussian noise, sigma "
        "frozen over the step): the estimate converges to the SDE's probability as dt -> 0, with an O(dt) time-step "
        "bias that is not estimated here" if out["bridge"] else
        "the reactant and product sets were tested at the steps only: the estimate is that of the discrete chain "
        "(for an SDE it carries the O(sqrt(dt)) bias of discrete monitoring)",
    ]
    if R < 2:
        notes.append("one run: no interval (the interval comes from the spread of independent runs): not reached; "
                     "use n_runs >= 2")
    if counts[SplittingStatus.ITERATION_CAP]:
        notes.append(f"{counts[SplittingStatus.ITERATION_CAP]} runs stopped at max_iterations={s['max_iterations']}: "
                     "their estimates (included) are not unbiased")
    if counts[SplittingStatus.EXTINCT]:
        notes.append(f"{counts[SplittingStatus.EXTINCT]} runs went extinct (every replica at the level: estimate 0); "
                     "many extinctions mean a score with plateaus, one that peaks before the product set, or too few "
                     "replicas")
    if none_reached and R >= 2:
        notes.append("no run reached the product set: the probability is below what these runs resolve, and there "
                     "is no interval (NaN); improve the score or add replicas")
    censored, diverged = int(out["censored"].sum()), int(out["diverged"].sum())
    if censored or diverged:
        notes.append(f"{censored} replica paths reached max_steps and {diverged} diverged before reaching either set: "
                     "counted as failures, which biases the estimate low")
    if counts[SplittingStatus.EXTINCT] == R and not out["iterations"].any():
        raise ValueError(f"score: no replica's score rose above its start before the path returned to the reactant "
                         f"set, in any of the {R} runs of {N} replicas: the score does not increase toward the product "
                         "set (or the product set cannot be reached from x0, e.g. it lies inside the reactant set)")
    message = (f"{R} runs of {N} replicas: {counts[SplittingStatus.FINISHED]} finished, "
               f"{counts[SplittingStatus.EXTINCT]} extinct, {counts[SplittingStatus.ITERATION_CAP]} at the iteration "
               f"cap")
    return SplittingResult(
        quantity="probability", value=mean, interval=interval, confidence=s["confidence"], stderr=se,
        bias=math.nan, bias_stderr=math.nan, extrapolated=math.nan, extrapolated_stderr=math.nan,
        half_width_statistical=hw, half_width_bias=0.0, rtol=math.nan,
        reached=(counts[SplittingStatus.ITERATION_CAP] == 0 and not none_reached and not censored and not diverged
                 and R >= 2), message=message,
        notes=tuple(notes), levels=(), n_paths=N * R, path_steps=int(out["total_steps"]), elapsed=elapsed,
        params=params, seed=s["seed"], version=_core.__version__,
        log_probability=math.log(mean) if mean > 0 else -math.inf, n_replicas=N, n_runs=R, test=test,
        run_probability=run_p, run_log_weight=out["log_weight"], run_reached=out["n_reached"].astype(np.int64),
        run_iterations=out["iterations"], run_killed=out["killed"], run_steps=out["steps"], run_status=status,
        run_reactive_time=out["reactive_time"], censored=censored, diverged=diverged,
        reactive_trajectories=list(out["trajectories"]))


def _params(landscape: Landscape, dynamics: Dynamics, reactant: Region, product: Region, score: Score,
            start_desc: dict[str, Any], s: dict[str, Any], max_steps: int, **extra: Any) -> dict[str, Any]:
    return {"landscape": landscape.to_dict(), "dynamics": dynamics.to_dict(), "reactant": reactant.to_dict(),
            "product": product.to_dict(), "score": score.to_dict(), "x0": start_desc,
            **{k: v for k, v in s.items() if k not in ("seed", "threads")}, "max_steps": max_steps,
            "semantics": SEMANTICS, "splitting_stream": STREAM, **extra}


def splitting(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike | StartSampler,
    reactant: Region,
    product: Region,
    score: Score | None = None,
    n_replicas: int = 100,
    n_runs: int = 10,
    k: int = 1,
    seed: int | None = None,
    threads: int | None = None,
    lanes: int | None = None,
    bridge: bool = True,
    max_iterations: int | None = None,
    t_max: float | None = None,
    max_steps: int | None = None,
    divergence_bound: float = 1e8,
    record_reactive: int = 0,
    confidence: float = 0.95,
    progress: bool | None = None,
) -> SplittingResult:
    """The probability that a path from `x0` enters `product` (B) before `reactant` (A), by adaptive multilevel
    splitting: `n_runs` independent runs of `n_replicas` replicas each (the generalized algorithm of Bréhier et al.
    2016, unbiased in discrete time; docs/rare-events.md).

    Parameters
    ----------
    landscape, dynamics : as for `simulate`; any dynamics with fixed steps that draws noise (Langevin with any noise,
        LevyLangevin, GaussianSGD, SGDk, NoisyGD, SGLD, ...).
    x0 : the start: a point (d,), points (n, d) used in turn by the replicas of all runs, or a sampler. Points given
        must lie outside both sets. A sampler's draws are not checked: a replica drawn in B has reached it at once
        and one drawn in A has failed, so the probability is then averaged over the sampler's law with those
        counted as 1 and 0.
    reactant, product : regions taken as the sets themselves: A is the region a path returns into, B the region it
        must enter (B = {x >= 0} in 1-D is `HalfSpace(normal=[-1], offset=0)`; a `stop` region of `simulate` is
        reused as `product=~stop`). They must be disjoint.
    score : the reaction coordinate (`escapade.scores`), increasing toward B. Default: `SignedDistance(product)`,
        minus the distance to B (0 on its boundary). A poor score gives a correct but noisier answer.
    n_replicas : N >= 2 per run. n_runs : independent runs; the interval is a t interval over them (needs >= 2:
        one run gives no interval and is not `reached`).
    k : the level of an iteration is the k-th lowest maximum (default 1), so at least k replicas die and continue
        together: still unbiased, a little more variance per replica (about (k - 1)/N more), and k continuations of a
        run share the lanes where few runs would leave them idle (n_runs small against `lanes` times `threads`).
    seed, threads, lanes : as for `simulate`; the result is bitwise the same for any `threads` and `lanes`. A thread
        advances the continuations of up to `lanes` runs together (default 128 in one dimension, 64 otherwise): with
        one replica killed per iteration, a thread fills its lanes only when it holds that many runs.
    bridge : test A and B with the Brownian bridge between steps (Gaussian-noise SDEs with a constant covariance;
        the others are tested at the steps, and the result's `test` says which). A step whose bridge could have
        entered both is refined, as `simulate` refines stop and target: its midpoint drawn, each half tested in
        turn, the first part with an entry deciding.
    max_iterations : per run (default 200 N); a run that reaches it stops with status ITERATION_CAP.
    t_max, max_steps : a replica path that has entered neither set by then is censored (default 10^8 steps).
    record_reactive : keep up to this many paths of run 0 that reached B (`reactive_trajectories`).
    confidence : of the interval (default 0.95).
    progress : a bar over runs (default: when stderr is a terminal).

    Returns a `SplittingResult`: `.probability` (= `.value`), `.interval`, `.log_probability`, per-run detail,
    `path_steps`, `elapsed`, and the provenance (params, seed, version) of every escapade result.
    """
    score = _check_problem(landscape, dynamics, reactant, product, score)
    s = _settings(landscape.dim, n_replicas, n_runs, seed, threads, lanes, bridge, max_iterations, confidence,
                  divergence_bound, k)
    cap = _steps_cap(dynamics, t_max, max_steps)
    progress = as_progress(progress)
    record = as_int("record_reactive", record_reactive, minimum=0, maximum=s["n_replicas"])
    start, desc, _ = _start(x0, landscape.dim)
    if isinstance(start, np.ndarray):
        _check_points(start, reactant, product, score, allow_reactant=False, bound=s["divergence_bound"])
        core_start = _core.FixedStart(start) if start.ndim == 1 else _core.PointsStart(start)
    else:
        core_start = start._core
    params = _params(landscape, dynamics, reactant, product, score, desc, s, cap, record_reactive=record)
    t0 = time.perf_counter()
    out = _run(landscape, dynamics, core_start, reactant, product, score, s, cap, record, progress)
    return _result(out, s, params, time.perf_counter() - t0)


def _paths(*args: Any, **kwargs: Any) -> SimulationResult:
    """`simulate` with per-path arrays (the stages of `rare_exit_time` read positions and statuses)."""
    result = simulate(*args, **kwargs)
    assert isinstance(result, SimulationResult)
    return result


def _spent(cost: list[int], result: SimulationResult) -> None:
    """Adds a stage's paths and path-steps to `cost` = [n_paths, path_steps], the cost `rare_exit_time` reports."""
    cost[0] += result.n_paths
    cost[1] += result.total_steps


def _sub_seeds(seed: int, n: int) -> list[int]:
    """Independent seeds for the stages of `rare_exit_time`, derived from its seed."""
    return [int(v) for v in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)]


def _mean_term(name: str, values: np.ndarray, z: float) -> Term:
    n = values.size
    mean = float(values.mean()) if n else math.nan
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return Term(name, mean, se, (mean - z * se, mean + z * se), int(n))


def _loop_term(name: str, loops: np.ndarray, returned: int, unstopped: int, cap_time: float, z: float) -> Term:
    """E[T_loop] from the times of the loops that returned to the reactant set (`loops`, resampled to the cycle's
    size) and the `unstopped` loops of the cycle that reached neither set by the cap, counted at its time `cap_time`
    (the censoring policy: then a lower bound): the two weighed by their shares of the `returned` + `unstopped`
    loops, with the delta-method error of both. Without such loops, the mean of `loops`."""
    term = _mean_term(name, loops, z)
    if not unstopped:
        return term
    q = unstopped / (returned + unstopped)
    mean = (1 - q) * term.value + q * cap_time
    se = math.sqrt(((1 - q) * term.stderr) ** 2 + q * (1 - q) / (returned + unstopped) * (cap_time - term.value) ** 2)
    return Term(name, mean, se, (mean - z * se, mean + z * se), term.n)


def _reactive_term(name: str, runs: SplittingResult, z: float) -> Term:
    """E[T 1_B] / p, the mean time to B of the paths that get there: a ratio over the splitting runs, each weighted
    by its estimate, with a jackknife error over the runs."""
    w, rt = runs.run_probability, np.nan_to_num(runs.run_reactive_time)
    R = w.size
    if not w.sum() > 0:
        return Term(name, math.nan, math.nan, (math.nan, math.nan), R)
    ratio = float((w * rt).sum() / w.sum())
    se = math.nan
    if R > 1:
        loo = np.array([((w * rt).sum() - w[i] * rt[i]) / (w.sum() - w[i]) if w.sum() > w[i] else ratio
                        for i in range(R)])
        se = float(math.sqrt((R - 1) / R * ((loo - loo.mean()) ** 2).sum()))
    return Term(name, ratio, se, (ratio - z * se, ratio + z * se), R)


def _sigma_level(landscape: Landscape, dynamics: Dynamics, x0: np.ndarray, reactant: Region, product: Region,
                 score: Score, n: int, seed: int, cap: int, threads: Any, cost: list[int]) -> float:
    """The default level z_Sigma: the 90% quantile of the highest score of excursions from the reactant set, an
    excursion starting at the first step outside it and ending when the path enters it again (or B). The pilot's
    paths and path-steps are added to `cost` (`_spent`)."""
    run = dict(n_paths=n, max_steps=cap, threads=threads, progress=False)
    if reactant.contains(x0):
        inside: np.ndarray = np.broadcast_to(x0, (n, x0.size)).copy()
    else:  # enter the reactant set first (tested at the steps, so that the end point lies inside)
        r = _paths(landscape, dynamics, x0=x0, target=reactant, stop=Outside(product), bridge=False, seed=seed,
                     **run)
        _spent(cost, r)
        inside = r.final_position[r.status == 1]
        if inside.shape[0] == 0:
            raise ValueError(f"no path from x0 = {x0.tolist()} entered the reactant set within {cap} steps: the exit "
                             "is not rare (use simulate), the sets are misplaced, or max_steps (t_max) is too small")
    r = _paths(landscape, dynamics, x0=inside, stop=reactant, bridge=False, seed=seed + 1, **{**run, "n_paths": None})
    _spent(cost, r)
    starts = r.final_position[r.status == 0]
    if starts.shape[0] == 0:
        raise ValueError(f"no pilot path left the reactant set within max_steps={cap} steps (or t_max): raise "
                         "max_steps (t_max), or give sigma_level")
    # Excursions are short (they end in A): a tighter step cap keeps the recorded paths' memory bound small.
    r = _paths(landscape, dynamics, x0=starts, target=reactant, stop=Outside(product), seed=seed + 2,
                 record_paths=starts.shape[0], **{**run, "n_paths": None, "max_steps": min(cap, PILOT_STEPS)})
    _spent(cost, r)
    maxima = np.empty(r.n_paths)
    for i, (_, path) in enumerate(r.trajectories):
        ended_in_b = r.status[i] == 0
        body = path[:-1] if r.status[i] == 1 else path  # the point in A is not part of the excursion
        maxima[i] = math.inf if ended_in_b else (float(np.max(score(body))) if body.shape[0] else -math.inf)
    level = float(np.quantile(maxima, 0.9))
    if not math.isfinite(level):
        raise ValueError("over 10% of the excursions from the reactant set reach the product set: the exit is not "
                         "rare (use simulate), or give sigma_level")
    return level


def rare_exit_time(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike,
    reactant: Region,
    product: Region,
    score: Score | None = None,
    sigma_level: float | None = None,
    n_loops: int = 10_000,
    n_replicas: int = 100,
    n_runs: int = 10,
    k: int = 1,
    seed: int | None = None,
    threads: int | None = None,
    lanes: int | None = None,
    bridge: bool = True,
    max_iterations: int | None = None,
    t_max: float | None = None,
    max_steps: int | None = None,
    divergence_bound: float = 1e8,
    confidence: float = 0.95,
    n_pilot: int = 2_000,
    burn_in: int = 3,
    progress: bool | None = None,
) -> RareExitTime:
    """The mean time for a path from `x0` to enter `product`, when that takes far too long to simulate, by the
    decomposition of Cérou, Guyader, Lelièvre & Pommier (2011): with Sigma = {score >= sigma_level} a level set close
    to the reactant set A,

        E[tau] = E[T_first] + (1/p - 1) E[T_loop] + E[T_reactive],

    T_first the time from x0 to Sigma, T_loop the time of a loop from Sigma back to A and on to Sigma again (a plain
    ensemble of `n_loops` loops), p the probability of entering B before A from Sigma (`splitting`, its replicas
    started from the points where the loops reached Sigma, which in d > 1 is how starts on Sigma are drawn) and
    T_reactive the time from Sigma to B of the paths that make it (from the splitting runs). Sigma is tested at the
    steps; A and B with the bridge where the dynamics allows.

    x0 may lie in the reactant set (the usual case: its minimum) but not in the product set; from x0 above Sigma a
    first trial from x0 is run and combined (`RareExitTime.start_terms`). sigma_level : default, the level that about
    10% of the excursions from A reach (`n_pilot` of them). n_loops : loops measured (paths in each cycle). burn_in :
    loop cycles run before the measured one (default 3): in d > 1 the law of the points where loops reach Sigma depends
    on where the previous loop entered A, and settles over a few cycles (in 1-D every loop enters A at its one
    boundary point, and burn_in=0 saves the work); E[T_loop] and the splitting's starts both come from the last
    cycle. The other arguments are those of `splitting`. Returns a `RareExitTime` (`.mean` = `.value`, `.interval`,
    and each term with its interval).

    A loop (or a path from x0 above Sigma) that reaches neither set within max_steps counts at the cap (the censoring
    policy, `analysis.estimates`): E[T_loop] (or E[T_fail,0]) is then a lower bound and the mean is not identified
    (not `reached`, a note says what the value is); a diverged one is left out and counted in a note. `n_paths` and
    `path_steps` are everything run: the pilot's paths, every plain ensemble's (first passage, each cycle's loops
    there and back, the paths from x0 above Sigma) and each splitting's replicas (n_replicas x n_runs).
    """
    by_default = score is None  # the default score is < 0 outside the product set
    score = _check_problem(landscape, dynamics, reactant, product, score)
    _check_time_homogeneous(landscape, dynamics)
    s = _settings(landscape.dim, n_replicas, n_runs, seed, threads, lanes, bridge, max_iterations, confidence,
                  divergence_bound, k)
    cap = _steps_cap(dynamics, t_max, max_steps)
    progress = as_progress(progress)
    d = landscape.dim
    n_loops = as_int("n_loops", n_loops, minimum=2, maximum=MAX_INDEX)
    # each stage keeps n_loops paths' arrays, the pilot records its n_pilot excursions: refused by name up front
    check_allocation("n_loops", n_loops, memory_estimate(RunSettings(), n_paths=n_loops, dim=d, steps=cap)["n_paths"],
                     "per-path arrays in each stage")
    n_pilot = as_int("n_pilot", n_pilot, minimum=10, maximum=MAX_INDEX)
    if sigma_level is None:
        pilot = memory_estimate(RunSettings(record_paths=n_pilot), n_paths=n_pilot, dim=d, steps=min(cap, PILOT_STEPS))
        check_allocation("n_pilot", n_pilot, sum(pilot.values()), "recorded pilot excursions")
    start, desc, _ = _start(x0, landscape.dim)
    if not isinstance(start, np.ndarray) or start.ndim != 1:
        raise ValueError(f"x0 must be one point (d,) for rare_exit_time, got {desc}")
    _check_points(start, reactant, product, score, allow_reactant=True, bound=s["divergence_bound"])
    burn_in = as_int("burn_in", burn_in, minimum=0, maximum=100)
    seeds = _sub_seeds(s["seed"], 7 + 2 * burn_in)
    threads_arg = None if s["threads"] == 0 else s["threads"]
    t0 = time.perf_counter()
    cost = [0, 0]  # the paths and path-steps of every plain ensemble run (the pilot's included)
    if sigma_level is None:
        level = _sigma_level(landscape, dynamics, start, reactant, product, score, n_pilot, seeds[0], cap, threads_arg,
                             cost)
    else:
        level = as_float("sigma_level", sigma_level)
        if by_default and level >= 0:  # minus the distance to B is < 0 outside B: Sigma would never be reached
            raise ValueError(f"sigma_level must be below 0 with the default score (minus the distance to the "
                             f"product set, negative outside it), got {level}")
    sigma = _ScoreLevel(score, level)
    run = dict(max_steps=cap, threads=threads_arg, bridge=s["bridge"], divergence_bound=s["divergence_bound"],
               progress=progress)
    # x0 above Sigma (outside A): a first trial from x0 itself, which reaches B first (probability p0, by splitting)
    # or else enters A, where the loops start: E[tau] = p0 E[T_reactive,0] + (1 - p0) (E[T_fail,0] + E[tau_A]).
    above = not reactant.contains(start) and score(start) >= level
    trial: SplittingResult | None = None
    origin = start
    if above:
        s_trial = {**s, "seed": seeds[2]}
        t_trial = time.perf_counter()
        out_trial = _run(landscape, dynamics, _core.FixedStart(start), reactant, product, score, s_trial, cap, 0,
                         progress)
        trial = _result(out_trial, s_trial, _params(landscape, dynamics, reactant, product, score, desc, s, cap),
                        time.perf_counter() - t_trial)
        fail = _paths(landscape, dynamics, x0=start, target=reactant, stop=Outside(product), n_paths=n_loops,
                      seed=seeds[3], **run)
        _spent(cost, fail)
        failed = fail.status == 1
        if failed.sum() < 2:
            raise ValueError(f"fewer than 2 of {n_loops} paths from x0 entered the reactant set before the product "
                             "set: the exit is not rare (use simulate)")
        entries = fail.exit_position[failed]
        origin = entries[np.sort(np.random.default_rng(seeds[3]).integers(entries.shape[0], size=n_loops))]
    first = _paths(landscape, dynamics, x0=origin, target=sigma, n_paths=n_loops, seed=seeds[1], **run)
    _spent(cost, first)
    if first.count("HIT") < n_loops:
        raise ValueError(f"{n_loops - first.count('HIT')} of {n_loops} paths did not reach sigma_level={level} "
                         f"within {cap} steps: lower sigma_level or raise max_steps")
    # Loops Sigma -> A -> Sigma, cycle after cycle from the first passage's points: in d > 1 the law of the points
    # where loops reach Sigma depends on where the last loop entered A, and takes a few cycles to settle. The loop
    # times and the splitting's starts both come from the last cycle, after `burn_in` cycles.
    # A loop that reached B is left out (the decomposition's loops are those that fail), and so is one that
    # diverged; one that ran to the cap counts there in E[T_loop] (the censoring policy). Each is replaced, for the
    # way on to Sigma, by resampling the loops that returned to A.
    ys = first.exit_position
    burn_unstopped = burn_diverged = 0
    for cycle in range(burn_in + 1):
        back = _paths(landscape, dynamics, x0=ys, target=reactant, stop=Outside(product),
                      seed=seeds[5 + 2 * cycle], **run)
        _spent(cost, back)
        returned = back.status == Status.HIT
        unstopped, diverged = int(np.isin(back.status, UNSTOPPED).sum()), back.count("DIVERGED")
        if cycle < burn_in:
            burn_unstopped, burn_diverged = burn_unstopped + unstopped, burn_diverged + diverged
        if returned.sum() < 2:
            raise ValueError(f"fewer than 2 of {back.n_paths} loops from sigma_level={level} returned to the reactant "
                             "set: the exit is not rare (use simulate), or sigma_level is too high")
        kept = np.flatnonzero(returned)
        if kept.size < n_loops:  # the few loops that reached B (or ran to the cap, or diverged): refill by resampling
            kept = kept[np.sort(np.random.default_rng(seeds[5 + 2 * cycle]).integers(kept.size, size=n_loops))]
        again = _paths(landscape, dynamics, x0=back.exit_position[kept], target=sigma, seed=seeds[6 + 2 * cycle],
                       **run)
        _spent(cost, again)
        if again.count("HIT") < again.n_paths:
            raise ValueError(f"the loops did not all come back to sigma_level={level} within {cap} steps")
        ys = again.exit_position
    loops = back.exit_time[kept] + again.exit_time
    starts = again.exit_position
    for name, region in (("reactant", reactant), ("product", product)):
        inside = np.asarray(region.contains(starts))
        if inside.any():
            raise ValueError(f"sigma_level={level} meets the {name} set: {int(inside.sum())} of {starts.shape[0]} "
                             f"loops reached Sigma inside it (e.g. at {starts[np.argmax(inside)].tolist()}); Sigma "
                             "must lie between the two sets")
    s_ams = {**s, "seed": seeds[4]}
    out = _run(landscape, dynamics, _core.PointsStart(np.ascontiguousarray(starts)), reactant, product, score, s_ams,
               cap, 0, progress)
    params = _params(landscape, dynamics, reactant, product, score, desc, s, cap, sigma_level=level,
                     n_loops=n_loops, n_pilot=n_pilot, burn_in=burn_in)
    elapsed = time.perf_counter() - t0
    ams = _result(out, s_ams, {**params, "x0": {"type": "Points", "n": int(starts.shape[0])}}, elapsed)
    params["bridge"] = ams.params["bridge"]  # what the splitting did
    z = normal_quantile(s["confidence"])
    t_first = _mean_term("E[T_first]", first.exit_time, z)
    cap_time = censoring_time(back)
    t_loop = _loop_term("E[T_loop]", loops, int(returned.sum()), unstopped, cap_time, z)
    p, se_p, hw_p = ams.value, ams.stderr, ams.half_width_statistical
    p_term = Term("p", p, se_p, ams.interval, ams.n_runs)
    t_reac = _reactive_term("E[T_reactive]", ams, z)
    # p-hat's relative variance: unknown (NaN) from one run
    v = ((se_p / p) ** 2 if math.isfinite(se_p) else math.nan) if p > 0 else 0.0
    if p > 0:
        # 1/p-hat overestimates 1/p by its relative variance v (E[1/p-hat] = (1 + v + ...)/p): removed to second order
        # while v is small; beyond V_SMALL the expansion fails (v = 1 when one run alone reached B, and (1 - v)/p-hat
        # would be 0), so the correction stops there and the result is not `reached`.
        inv = (1 - min(v, V_SMALL)) / p if math.isfinite(v) else 1 / p
        mean = t_first.value + (inv - 1) * t_loop.value + t_reac.value
        grad_p = t_loop.value / p**2
        var = t_first.stderr**2 + ((inv - 1) * t_loop.stderr) ** 2 + (grad_p * se_p) ** 2 + t_reac.stderr**2
        hw2 = ((z * t_first.stderr) ** 2 + ((inv - 1) * z * t_loop.stderr) ** 2 + (grad_p * hw_p) ** 2
               + (z * t_reac.stderr) ** 2)
    else:  # every run extinct: p-hat = 0 and the mean is not identified
        mean, var, hw2 = math.inf, math.nan, math.nan
    start_terms: tuple[Term, ...] = ()
    trial_steps = trial_paths = fail_unstopped = 0
    if trial is not None:
        trial_steps, trial_paths = trial.path_steps, trial.n_paths
        notes_start = [f"x0 lies above Sigma: a first trial from x0 reaches the product set first with probability "
                       f"p0 = {trial.value:.4g} (splitting), or else enters the reactant set after E[T_fail,0], where "
                       "the loops start; E[tau] = p0 E[T_reactive,0] + (1 - p0) (E[T_fail,0] + E[tau from A])"]  # E[tau] = p0 R0 + (1 - p0) (F0 + E[tau_A])
        p0, se_p0, hw_p0 = trial.value, trial.stderr, trial.half_width_statistical
        # the paths from x0 that ran to the cap count there (the censoring policy); diverged ones are left out
        fail_unstopped = int(np.isin(fail.status, UNSTOPPED).sum())
        f0 = _mean_term("E[T_fail,0]", np.concatenate([fail.exit_time[failed],
                                                       np.full(fail_unstopped, censoring_time(fail))]), z)
        r0 = _reactive_term("E[T_reactive,0]", trial, z) if p0 > 0 else Term("E[T_reactive,0]", 0.0, 0.0, (0.0, 0.0), 0)
        start_terms = (Term("p0", p0, se_p0, trial.interval, trial.n_runs), f0, r0)
        tail = f0.value + mean - r0.value
        mean = p0 * r0.value + (1 - p0) * (f0.value + mean)
        var = (1 - p0) ** 2 * (var + f0.stderr**2) + (p0 * r0.stderr) ** 2 + (tail * se_p0) ** 2
        hw2 = (1 - p0) ** 2 * (hw2 + (z * f0.stderr) ** 2) + (p0 * z * r0.stderr) ** 2 + (tail * hw_p0) ** 2
    se, hw = math.sqrt(var), math.sqrt(hw2)
    if not math.isfinite(mean):  # not identified (p-hat = 0): no interval
        interval = (math.nan, math.nan)
    else:  # a time is >= 0; no interval from one run
        interval = (max(0.0, mean - hw), mean + hw) if math.isfinite(hw) else (math.nan, math.nan)
    tested = ("with the Brownian bridge between steps (the terms converge to the SDE's as dt -> 0, with an O(dt) "
              "time-step bias that is not estimated here)" if ams.test == "bridge" else
              "at the steps only (the terms are those of the discrete chain)")
    notes = [
        f"the reactant and product sets were tested {tested}; Sigma is tested at the steps",
        *ams.notes[1:],
        "E[tau] = E[T_first] + (1/p - 1) E[T_loop] + E[T_reactive] treats the loops' returns to Sigma as drawn from one "
        "law (exact in 1-D up to the overshoot of a step; a quasi-stationary approximation in d > 1)",
        "the interval combines the terms' intervals by the delta method (p's from the splitting runs, the others "
        "normal); 1/p is estimated by (1 - v)/p-hat, v the relative variance of p-hat, which removes the Jensen bias "
        "of 1/p-hat to second order",
    ]
    if trial is not None:
        notes.extend(notes_start)
    censored_terms = [f"{unstopped} of {back.n_paths} loops from Sigma reached neither set within max_steps={cap} "
                      f"steps: counted at the cap (t = {cap_time:g}), so E[T_loop] is a lower bound"
                      ] if unstopped else []
    if fail_unstopped:
        censored_terms.append(f"{fail_unstopped} of {fail.n_paths} paths from x0 reached neither set within "
                              f"max_steps={cap} steps: counted at the cap (t = {cap_time:g}), so E[T_fail,0] is a "
                              "lower bound")
    if censored_terms:  # the censoring policy; a splitting's censored replicas bias p-hat low, and so the value high
        bound = ("a lower bound of E[tau]" if ams.censored == 0 and (trial is None or trial.censored == 0) else
                 "neither an estimate nor a bound of E[tau] (censored splitting replicas bias p-hat low, and so the "
                 "value high)")
        notes.append("; ".join(censored_terms) + f" (the censoring policy). The mean exit time is not identified by "
                     f"these settings (not reached): the value, built on that, is {bound}; raise max_steps (t_max)")
    diverged_terms = [f"{diverged} of {back.n_paths} loops from Sigma diverged: left out of E[T_loop]"
                      ] if diverged else []
    if trial is not None and fail.count("DIVERGED"):
        diverged_terms.append(f"{fail.count('DIVERGED')} of {fail.n_paths} paths from x0 diverged: left out of "
                              "E[T_fail,0]")
    if diverged_terms:
        notes.append("; ".join(diverged_terms) + " (the terms are conditional on not diverging)")
    if burn_unstopped or burn_diverged:
        notes.append(f"in the {burn_in} burn-in cycles {burn_unstopped} loops reached neither set within "
                     f"max_steps={cap} steps and {burn_diverged} diverged: replaced, on the way on to Sigma, by "
                     "resampling the loops that returned to the reactant set")
    if not p > 0:
        capped = ams.count("ITERATION_CAP")
        why = (f"{capped} of {ams.n_runs} splitting runs stopped at max_iterations={s['max_iterations']} before any "
               "replica reached the product set" if capped else "every splitting run went extinct")
        notes.append(f"{why} (p-hat = 0): the mean exit time is not identified by these settings (mean inf, no "
                     "interval, not reached); use more replicas, a better score" + (" or a larger max_iterations"
                                                                                     if capped else ""))
    if math.isnan(v):
        notes.append("one splitting run: p-hat's relative variance, and so the 1/p estimate's bias, is unknown (not "
                     "corrected): not reached; use n_runs >= 2")
    elif v > V_SMALL:
        notes.append(f"p-hat's relative standard error {math.sqrt(v):.3g} is too large for the 1/p estimate (its bias "
                     f"is of order v = {v:.3g}; corrected for v = {V_SMALL} only): not reached; use more runs or "
                     "replicas")
    if back.count("EXITED"):
        notes.append(f"{back.count('EXITED')} of {back.n_paths} loops from Sigma reached the product set first: left "
                     "out of E[T_loop]")
    return RareExitTime(
        quantity="mean_exit_time", value=mean, interval=interval, confidence=s["confidence"],
        stderr=se, bias=math.nan, bias_stderr=math.nan, extrapolated=math.nan, extrapolated_stderr=math.nan,
        half_width_statistical=hw, half_width_bias=0.0, rtol=math.nan,
        reached=ams.reached and p > 0 and bool(v <= V_SMALL) and not censored_terms,
        message=ams.message,
        notes=tuple(notes), levels=(), n_paths=cost[0] + ams.n_paths + trial_paths,
        path_steps=cost[1] + ams.path_steps + trial_steps, elapsed=elapsed,
        params=params, seed=s["seed"], version=_core.__version__, sigma_level=level, first_time=t_first,
        loop_time=t_loop, reactive_time=t_reac, probability_term=p_term, n_loops=int(loops.size),
        loops_to_product=back.count("EXITED"), splitting=ams, start_terms=start_terms, start_splitting=trial)
