"""`simulate`: run an ensemble of independent paths in the compiled engine."""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._execute import Job, Store, execute, points_digest
from ._settings import MAX_STEPS, RunSettings, check_memory
from ._validate import as_array, check_dim
from .drifts import Drift
from .dynamics import Dynamics, Langevin
from .landscapes import Landscape
from .regions import Intersection, Region, Union, as_region, face_table
from .restart import Restart
from .results import SimulationResult, SummaryResult
from .sensitivity import plan_sensitivities, with_parameter
from .starts import StartSampler

__all__ = ["simulate"]

# What the numbers of a run mean, recorded in every result's params["semantics"] (absent: 1). 2: an exit of an SDE
# with the bridge test on is located inside its step (the bridge's crossing time, on the boundary), and so is an exit of
# the fixed-step ConstrainedFlow methods without noise (on their interpolant). 3: SGDk and minibatch SGLD without
# replacement on a finite sum with non-uniform weights draw k distinct terms uniformly and weight term i by n p_i
# (an unbiased minibatch gradient; 2 drew them successively from the weights left, biased). 4: AdaGrad(matrix="full")
# applies G^{-1/2} through a Jacobi eigendecomposition in plain arithmetic, the same bits on every instruction set
# (3 used Eigen's solver, whose last bits depended on FMA); so do the Hessian's square root (S/C = "hessian"), the
# MLP's Hessian, the scores' M z and an Ellipsoid's (or a Ball's) eigendecomposition and noise frame; every other
# result keeps its bits. 5: so do a Gaussian start's Cholesky factor and the constrained flow's J J^T system with
# two or more constraints (4 used Eigen's, whose bits differed between instruction sets from d = 8 on); every other
# result keeps its bits. 6: with the bridge test, a step near both stop's and target's boundaries where their planes
# are parallel (a boundary given to both, or nested ones) crosses the nearer one only (5 added both crossings as
# independent, ending such paths early), and a crossing the bridge places inside another member of a set of
# regions, or beyond stop's walls, is no crossing (or, for a step ending in the region, is placed on its chord);
# every other result keeps its bits. 7: the same within one set of regions: members of an Intersection (or a Union)
# whose planes at a step are parallel (nested or shared boundaries) are crossed once, by the nearer plane, and a
# step near several members takes the first plane crossed (6
# multiplied their survivals as independent: a mean exit time -3.7% at dt = 0.04, and exits labelled by the member
# whose boundary cannot be reached first); and a symmetric alpha-stable draw whose formula under- or overflows in a
# factor (alpha below about 0.05) is formed in logarithms; and with noise_refinement r > 1, Poisson restarts follow
# the fine run's (a coarse step restarts when one of its r fine steps does); and a Box's exit face near a corner
# is the first face crossed, not one chosen in proportion to the crossing probabilities; every other result keeps
# its bits. 8: a set of regions entered (an Intersection target, a Union stop left) is crossed surely when the
# step's chord passes through it, and otherwise tested against its members' faces that lead into it, a face shared
# by two members once (7 took a step whose ends different members exclude as not crossed, so a slab of two
# half-spaces or the gap between two disjoint balls was jumped over, and a step whose ends several members exclude
# had no bridge test: the overlap of a union's members, nested boundaries); every other result keeps its bits. 9: with
# noise_refinement r > 1, a sharp restart (period=) to a random point (to= a sampler) lands on the fine run's point,
# keyed by the fine step count r n (8 keyed it by the coarse count n, so a coupled pair parted at its first
# restart); a finite point beyond divergence_bound outside stop (or inside target, or in a splitting set) is an exit
# (a hit, that set's event) there, not diverged; and alpha-stable steps form scale * X in logarithms where X
# overflows or the scale underflows (8 gave inf or 0 * X); every other result keeps its bits. 10: full AdaGrad takes
# an eigenvalue of G below its round-off as max(delta0^2, the round-off) (9: an infinite step where delta0^2 was
# lost); a 1-D ball start or random-direction forcing whose normal is exactly 0 takes its Box-Muller partner's sign
# (9: NaN, or no forcing); a constrained flow whose J J^T overflows is DIVERGED (9: SINGULAR); every other result
# keeps its bits. 11: a restart point outside stop or inside target ends the path there (10 went on from it), and so
# does a start or restart beyond a reflecting wall (10: its mirror image); a step ending outside stop and inside
# target goes to the region its chord crosses first (10: always stop); reflecting walls of several regions mirror
# until none moves the point (10: once each, which left points beyond a wall of an acute wedge); every other result
# keeps its bits. 12: with the bridge test, a step ending outside stop whose chord passed through target before it
# left stop is HIT where the chord entered (11: EXITED), and a step from a face of one member of an Intersection
# target, inside every other, crosses into it surely (11: only if it ended inside); a Box with reflecting faces gives
# its chord (11: bisected); a step through a Ball or Ellipsoid from outside to outside is placed at the tangent
# plane where its chord enters (11: the end point's nearest boundary point); a sure crossing drawn outside another
# member is placed where the chord crossed (11: dropped); a step whose chord leaves stop through a hole before it
# enters target is EXITED (11: HIT); every other result keeps its bits. 13: the tolerances of a crossing's checks
# (on a boundary, inside another member, within stop's walls) are relative to the larger of the point's coordinates
# and the size of the region (of a set's member) nearest it (12: at least 1e-9 in absolute terms, which at lengths
# near 1e-9 let paths hit an empty intersection); a bridge crossing whose noise across the plane exceeds its
# distance beyond about 1e150-fold (dt near 1e160) is timed from the plane scaled by a power of two (12: at time 0,
# an overflow); a step that touches a plane at an end point without noise across it does not cross it (12: it did,
# so a start on a target's face drifting away from it was HIT at once); a step into a Ball or Ellipsoid target whose
# end lies nearer the far side takes the tangent plane where its chord entered (12: the plane at the end's nearest
# boundary point, across a thin target); every other result keeps its bits. 14: a crossing of the tangent plane where
# a step's chord entered a Ball or an Ellipsoid is placed from that side, the drawn point moved onto the plane before
# the boundary (13: projected onto the boundary alone, which put a point drawn past the centre of a target thinner
# than the step on its far side); a step ending past divergence_bound inside stop and outside target whose bridge
# crossed either boundary is that exit or hit (13: DIVERGED), in splitting too; under anisotropic noise a bridge
# crossing is moved onto the boundary along Sigma n (13: along the normal n, an O(sqrt(dt)) bias of the exit
# position along the face); a bridge crossing's position carries the bridge's Gaussian spread along the plane, but
# behind reflecting walls (13: the conditional mean, too little spread); a way out of stop the bridge saw, placed
# inside target, is HIT by target's plane (13: EXITED inside the target); every other result keeps its bits. 15: a 1-D
# Ball or Ellipsoid (an interval) is tested by both its ends, two faces as a 1-D Box's (14: by the end on the step's
# end point's side, each point's distance measured from its own nearer end); under isotropic noise, a step that cannot
# reach the far end (its crossing probability below exp(-30)) and does not cross the centre keeps every bit but the
# exit position's (on the end, c -+ r, not scaled radially) and the face's (two, recorded as a Box's); the two faces of
# a Box's coordinate (and a 1-D ball's ends) that one step can both reach are crossed by the method of images for the
# slab (14: as independent crossings, the one with the earlier mean crossing time first); a convex Intersection
# entered near a corner is tested against the tangent plane at its nearest point (14: by its members' faces that lead
# in, each only where the chord's point lay over the set), a crossing placed on that plane beyond the set's edge moved
# to its nearest point and recorded by the face it lies on there; a placed crossing within 1e-9 of the step's ends' size is accepted (14: of the placed point's
# and the region's only, which dropped crossings placed at a corner at the origin); a face met at once by several
# members is the one the point lies farthest beyond (14: the first). 16: that nearest point is found by a dual
# active-set projection with tangent cuts for curved members (15: an enumeration of active sets for polyhedra of up to
# 12 faces, alternating projections otherwise, which at sharp edges of curved members did not converge and fell back
# to the members' faces); the same points to rounding elsewhere. 17: a set entered from outside whose way in lies
# beyond two members' faces at once (a union's re-entrant corner, where each member's face lies inside the other) is
# tested against the plane at the nearest point of the region beyond both, and a crossing there is placed on both
# faces (16: no face led in there and the end points decided: an L-shape left from 0.07 off its inner corner +21%
# late at dt = 0.01); and a convex Intersection with no interior point (members that only touch) is never entered
# (16: most paths near it were HIT through one member's test). 18: a crossing out of an Intersection (into a Union)
# placed on one member's face but beyond another member is moved onto the set's boundary there, at the same time
# (17: it kept its place, off the boundary), and one-dimensional balls that only touch are never entered (17: their
# ends were not tested for an interior point). 19: a way out of stop placed inside the target, whose own placement
# lies outside stop, is what the line from the step's start to the exit point does first, enter the target or leave
# stop (18: EXITED inside the target), and a reflecting wall nested in a member of an intersection gives no plane to
# leave by (18: exits placed on the wall); every other result keeps its bits. 20: a step whose bridge could both have
# left stop and entered the target (each above 1e-3, an end beyond a boundary counting as sure) is refined, its
# midpoint drawn and each half tested in turn down to 8 halvings, the first part with an event deciding (19: the two
# crossings drawn from one uniform as independent, the exit first, and a step ending in the target HIT whatever its
# bridge did: 0.315 for the exact 0.6 with the boundaries 0.05 apart in 1-D at dt = 0.05); every other result keeps
# its bits. 21: splitting refines a step whose bridge could have entered both A and B in the same way, the first part
# with an entry deciding (20: one uniform, A first: 0.107 for the exact 0.3 with A and B 0.1 apart in 1-D at
# dt = 0.05), and simulate refines such steps behind reflecting walls too, a midpoint beyond a wall mirrored back
# (20: none in a run with a wall); stop's and the target's parallel faces are merged face by face, the target's
# planes all counted (20: one plane of the target, which for a target with faces on both sides could take it out
# whole: 0.465 for the exact 0.5); every other result keeps its bits. 22: splitting's finest parts with both entries
# drawn take the earlier of the two entry times, and an end inside one set that set unless the other's bridge,
# drawn, entered it earlier (21: A first: 0.697 for the exact 0.874 in a quarter plane from 0.01 off its corner at
# dt = 0.05); simulate places an exit drawn where a face of stop was merged away on stop's other faces (21: on any
# of them), and refines a step whose bridge could have entered a target box (or an intersection of half-spaces and
# boxes) near an edge or corner, as steps near both sets (21: its one tangent plane there, 0.2266 for the 0.2217
# of a finite-difference solve at a box's corner); every other result keeps its bits. 23: those refinements (of
# simulate and of splitting) go on past 8 halvings down to parts of 2^-60 of a step, with at most 256 further
# halvings a step, each while a part's spread exceeds 1e-5 of |x| (22: 8 halvings, parts of dt/256, whose spread at
# dt = 0.05 still exceeded 0.01: 0.523 for the exact 0.7 in a 45-degree wedge from 0.01 off its corner; 0.2645 for
# the exact 0.3 in splitting's 1-D gap of 0.005 from 0.3 of it), and a face of one set is merged with the nearest
# parallel face of the other (22: the first found, which for a part that barely moves could be one on the far side);
# every result without such a part keeps its bits. 24: a hit placed by a target plane that is one of stop's faces, where
# it lies on stop's boundary (a boundary both share), is an exit, an exit placed inside the target past such a face goes
# by the line's rule with stop first where its two crossings coincide, and "inside the target" is judged to the step's
# tolerance; a hit drawn with a face of the target merged away is placed on its other faces, and a set with every face
# merged away is not crossed first (23: 30 to 72 of 20,000 paths HIT at the corner of a turned wedge stop with the
# target beyond one of its faces, 14 to 28 of 100,000 on the face a two-sided target shares with stop); every other
# result keeps its bits. 25: a union that cannot be left where a step is offers no plane to that merge (its member's
# face inside it took a parallel target face's crossing away: 0.466 for 0.5 at dt = 0.1), and a complement's complement
# gives all its planes; behind reflecting walls a mirrored step whose free step surely entered the target is HIT, and a
# refined step is the free step, its parts beyond a wall tested mirrored (a band 0.01 wide along a wall: 0.487 for
# 0.505 at dt = 0.05); every other result keeps its bits.
SEMANTICS = 25


def _require(name: str, value: Any, kind: type, optional: bool = False) -> None:
    if (value is None and optional) or isinstance(value, kind):
        return
    raise TypeError(f"{name} must be an escapade {kind.__name__}{' or None' if optional else ''}, got {value!r}")


def _start(x0: Any, dim: int) -> tuple[StartSampler | np.ndarray, dict[str, Any], int | None]:
    """The start (a sampler or a validated array), its description, and the number of paths it fixes."""
    if isinstance(x0, StartSampler):
        if x0.dim != dim:
            raise ValueError(f"x0 must have {dim} components (the landscape's dimension), got a {x0.dim}-D {x0!r}")
        return x0, x0.to_dict(), None
    a = as_array("x0", x0, ndim=(1, 2))
    check_dim("x0", a, dim, "the landscape's dimension")
    if a.ndim == 1:
        return a, {"type": "Point", "x0": a.tolist()}, None
    return a, {"type": "Points", "n": a.shape[0], "sha256": points_digest(a)}, a.shape[0]


def _max_steps(t_max: float | None, max_steps: int | None, dt: float) -> int:
    if t_max is None and max_steps is None:
        raise ValueError("give t_max (or max_steps): a path that never stops would otherwise run forever")
    cap = MAX_STEPS
    if t_max is not None:
        steps = t_max / dt
        if steps > MAX_STEPS:
            raise ValueError(f"t_max must be at most {MAX_STEPS} steps of dt={dt}, got t_max={t_max}")
        cap = max(1, math.ceil(steps * (1 - 1e-12)))  # t_max = k * dt in floating point still gives k steps
    if max_steps is not None:
        cap = min(cap, max_steps)
    return cap


def make_job(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike | StartSampler,
    stop: Region | dict[str, Region] | list[Region] | None = None,
    target: Region | dict[str, Region] | list[Region] | None = None,
    settings: RunSettings,
) -> Job:
    """Validate the problem of `simulate` and the settings that need it (n_paths against the rows of x0, the cap
    against the step size, the default lanes); raises TypeError/ValueError naming the argument."""
    _require("dynamics", dynamics, Dynamics)
    if isinstance(landscape, Drift):  # a vector field, not a gradient: only the SDE integrator takes it
        if not isinstance(dynamics, Langevin):
            raise TypeError(f"landscape is the drift {landscape!r}, which only Langevin dynamics take (a drift is "
                            f"not a gradient), got dynamics {dynamics!r}")
        if isinstance(dynamics.S, str):
            raise ValueError(f"S={dynamics.S!r} needs a landscape's Hessian or terms, got the drift {landscape!r}")
        if dynamics.ito_correction:
            raise ValueError(f"ito_correction needs a landscape f (the stationary law exp(-f / T)), got the drift "
                             f"{landscape!r}")
        dynamics = dynamics._for_drift()
    else:
        _require("landscape", landscape, Landscape)
    stop = as_region("stop", stop, Intersection)
    target = as_region("target", target, Union)
    if target is not None and target.reflects:
        raise ValueError(f"target must have no reflecting faces (only a stop region has walls), got {target!r}")
    dim = landscape.dim
    for name, region in (("stop", stop), ("target", target)):
        if region is not None and region.dim != dim:
            raise ValueError(f"{name} must have dimension {dim} (the landscape's), got {region!r}")
    # the engine's checks of the pair (a finite sum for minibatches, the batch size, ...): here, before any run
    _core.check_dynamics(landscape=landscape._core, dynamics=dynamics._core)
    start, start_desc, n_points = _start(x0, dim)
    n_paths, t_max, max_steps = settings.n_paths, settings.t_max, settings.max_steps
    if n_paths is None:
        if n_points is None:
            raise ValueError("n_paths is required unless x0 is an (n, d) array of starting points")
        n_paths = n_points
    if n_points is not None and n_paths > n_points:
        raise ValueError(f"n_paths must be at most the {n_points} rows of x0, got {n_paths}")
    max_time = math.inf
    if dynamics._own_clock:  # adaptive steps: t_max caps each path's own time, max_steps its attempted steps
        if t_max is None:
            raise ValueError(f"t_max is required with adaptive steps ({type(dynamics).__name__}, method="
                             f"{getattr(dynamics, 'method', '?')!r})")
        max_time = t_max
        cap = MAX_STEPS if max_steps is None else max_steps
        max_step = getattr(dynamics, "max_step", math.inf)
        if max_steps is None and t_max / max_step > MAX_STEPS:  # unbounded: more steps than any run may take
            raise ValueError(f"max_step must be at least t_max / {MAX_STEPS} (the step cap), got max_step={max_step} "
                             f"with t_max={t_max}")
    else:
        cap = _max_steps(t_max, max_steps, dynamics.dt)
        if math.isinf(cap * dynamics.dt):  # the time cap (censored paths' time at risk) must be a double
            raise ValueError(f"dt={dynamics.dt} times the step cap {cap} is not a finite time: give a smaller dt or "
                             "max_steps")
    dynamics._check_steps(cap)
    # the time the run reaches: t_max with adaptive steps, else its whole steps (t_max rounded up)
    dynamics._check_time(max_time if dynamics._own_clock else cap * dynamics.dt)
    # Refuse a result that cannot fit before allocating it. Adaptive steps without max_steps have no step cap:
    # recordings are estimated at t_max / dt steps.
    steps = cap
    if dynamics._own_clock and max_steps is None and t_max is not None:
        steps = math.ceil(min(t_max / dynamics.dt, MAX_STEPS))  # t_max / dt may overflow to inf
    memory = check_memory(settings, n_paths=n_paths, dim=dim, steps=steps)
    seed = secrets.randbits(63) if settings.seed is None else settings.seed
    # In one dimension a lane-step is so cheap that the fixed cost of a block-step shows: wider blocks (measured
    # 4-8% faster on the W1 double well); in more dimensions 64 keeps a block's arrays small.
    lanes = (128 if dim == 1 else 64) if settings.lanes is None else settings.lanes
    record_paths = min(settings.record_paths, n_paths)  # what is recorded (and stored in params)
    params: dict[str, Any] = {
        "landscape": landscape.to_dict(),
        "dynamics": dynamics.to_dict(),
        "stop": stop.to_dict() if stop is not None else None,
        "target": target.to_dict() if target is not None else None,
        "x0": start_desc,
        "n_paths": n_paths,
        "max_steps": cap,
        "t_max": t_max,
        "bridge": settings.bridge and dynamics._core.bridge_test,  # what the run did (not for jumps, maps, S(x) by name)
        "divergence_bound": settings.divergence_bound,
        "record_paths": record_paths,
        "record_every": settings.record_every,
        "lanes": lanes,
        "semantics": SEMANTICS,
    }
    if not math.isinf(max_time):
        params["max_time"] = max_time
    if settings.noise_refinement != 1:  # recorded only when used, so that other runs' params stay as they were
        params["noise_refinement"] = settings.noise_refinement
    faces = face_table(stop, target)
    if faces is not None:  # a Box or several regions: each path's exit face is recorded (exit_face, exit_region)
        params["faces"] = faces
    if isinstance(dynamics, Restart) and dynamics.to is not None and isinstance(dynamics.to, np.ndarray):
        check_dim("to", dynamics.to, dim, "the landscape's dimension")
    return Job(landscape=landscape, dynamics=dynamics, stop=stop, target=target, x0=start, n_paths=n_paths,
               max_steps=cap, seed=seed, lanes=lanes, bridge=settings.bridge,
               divergence_bound=settings.divergence_bound, record_paths=record_paths,
               record_every=settings.record_every, params=params, max_time=max_time, memory=memory,
               noise_refinement=settings.noise_refinement)


def simulate(
    landscape: Landscape,
    dynamics: Dynamics,
    *,
    x0: ArrayLike | StartSampler,
    stop: Region | dict[str, Region] | list[Region] | None = None,
    target: Region | dict[str, Region] | list[Region] | None = None,
    n_paths: int | None = None,
    t_max: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    lanes: int | None = None,
    bridge: bool = True,
    divergence_bound: float = 1e8,
    record_paths: int = 0,
    record_every: int = 1,
    noise_refinement: int = 1,
    progress: bool | None = None,
    client: Any = None,
    chunk_size: int | None = None,
    store: str | os.PathLike | None = None,
    keep: str = "paths",
    sensitivities: list[str] | None = None,
    sensitivity_method: str = "auto",
    fd_step: float | None = None,
) -> SimulationResult | SummaryResult:
    """Run `n_paths` independent paths of `dynamics` on `landscape` until each one stops.

    A path stops with status EXITED when it leaves `stop`, HIT when it enters `target`, DIVERGED when a
    coordinate becomes non-finite, or exceeds `divergence_bound` in absolute value while the path has left
    neither way, and CENSORED when it reaches `t_max` (or `max_steps`) first.

    Parameters
    ----------
    landscape, dynamics : what is optimized and how the state moves.
    x0 : a point (d,) for every path, an array (n, d) of one start per path, or a sampler (`UniformBox`,
        `UniformBall`, `Gaussian`) drawn from the seed.
    stop, target : regions; either may be omitted. Several regions given as a dict {name: region} or a list:
        `stop` their `Intersection` (a path ends when it leaves any), `target` their `Union` (when it enters
        any). With a `Box` or several regions the result reports, per path, the region and the face it ended by
        (`exit_region`, `exit_face`). A `stop` may have reflecting faces (`Box(..., reflecting=...)`,
        `HalfSpace(..., reflecting=True)`): docs/boundaries.md.
    n_paths : number of paths (default: the number of rows of an (n, d) `x0`).
    t_max, max_steps : the cap; at least one is required. t_max is rounded up to whole steps.
    seed : 0 <= seed < 2**64. Path i's noise and start depend on (seed, i) only, so results are bitwise the same
        for any `threads`, `lanes`, `chunk_size` or `client`. Default: a fresh random seed, recorded in the result.
    threads : engine threads (default: all cores; with a `client`, per task, default 1 since Dask runs one task
        per worker thread). lanes : paths per thread block (default 128 in one dimension, 64 otherwise).
    bridge : test for crossings between steps with the Brownian bridge (continuous-time dynamics with Gaussian
        noise, constant or a callable S(x) frozen over the step: not for discrete maps, `LevyLangevin` or
        `Langevin(S="hessian")` and `"empirical"`). It
        removes the O(sqrt(dt)) delay of discrete monitoring; exact for half-spaces with additive noise. With it,
        an exit (or hit), whether the bridge caught it or the step's end point is beyond the boundary, is located
        inside its step: `exit_time` is a crossing time drawn from the bridge's law given that it crossed, and
        `exit_position` the step's linear interpolation at that time moved onto the boundary (docs/engine.md).
        bridge=False reports exits at the end of their step.
    record_paths, record_every : record the trajectories of paths 0 .. record_paths - 1 every `record_every`
        steps.
    noise_refinement : r >= 1 (default 1). Draw each step's noise as the sum of the r steps of a run at dt/r with
        the same seed: runs at dt (noise_refinement=r) and dt/r are driven by one Brownian path, for multilevel
        Monte Carlo. Step n's normals are (Z_rn + ... + Z_rn+r-1) / sqrt(r), Z_f those of step f of the run at
        dt/r, and its crossing-test and other uniforms are those of step rn; the law of each run is unchanged.
        Only for dynamics that draw Gaussian noise on a fixed step (not `LevyLangevin`, the deterministic maps or
        adaptive `ConstrainedFlow`: ValueError). Recorded in params only when not 1.
    progress : show a progress bar (default: when stderr is a terminal).
    client : a `dask.distributed.Client`: the path range is cut into chunks run on the cluster's workers and
        merged in path order, bit for bit the local result.
    chunk_size : paths per chunk (default: about 4 chunks per Dask thread, or 1% of the paths locally but at least
        64 paths per lane of every thread; at least 1,000 and at most 1,000,000). Giving it, a store or
        keep="summary" runs locally chunk by chunk too; each chunk waits for its slowest path, so small chunks
        leave lanes idle.
    store : a directory where finished chunks are written as they complete; calling again with the same
        arguments and store skips them, so a killed run resumes where it stopped (with `seed=None`, the seed the
        store's run started with). The store refuses chunks of a different run.
    keep : "paths" (per-path arrays, a `SimulationResult`) or "summary" (mergeable statistics only, a
        `SummaryResult`: memory bounded by one chunk, for 10^9 paths).
    sensitivities : parameter paths as `sweep` names them ("dynamics.temperature", "landscape.height",
        "dynamics.forcing.amplitude"): each path carries its likelihood-ratio score for each, so that
        `result.sensitivity(quantity, parameter)` gives the derivative of an exit statistic with its interval
        (docs/sensitivities.md). Needs keep="paths". A parameter that does not enter the law of the paths (a
        region's, the start's), of a dynamics without Gaussian noise, or of a callback landscape is refused.
    sensitivity_method : "auto" (default: the score where the dynamics allows it, central finite differences with
        common random numbers and Richardson extrapolation for parameters of a state-dependent or scheduled noise),
        "score" (refuse what the score cannot do) or "fd" (finite differences for every parameter, any dynamics:
        four more runs per parameter). fd_step : the finite differences' h (default 2% of the parameter's value).
        Without `sensitivities`, a sensitivity_method other than "auto" or an fd_step has no effect and is refused
        (a ValueError), as is an fd_step with "score".

    A run whose result would take more memory than the limit (half the available memory, or the environment
    variable ESCAPADE_MEMORY_LIMIT) is refused before it starts, with a ValueError naming the argument (n_paths,
    chunk_size or record_paths); see docs/scaling.md.
    """
    settings = RunSettings(n_paths=n_paths, t_max=t_max, max_steps=max_steps, seed=seed, threads=threads,
                           lanes=lanes, bridge=bridge, divergence_bound=divergence_bound, record_paths=record_paths,
                           record_every=record_every, noise_refinement=noise_refinement, progress=progress,
                           client=client, chunk_size=chunk_size, store=store, keep=keep,
                           sensitivities=sensitivities, sensitivity_method=sensitivity_method, fd_step=fd_step)
    if settings.seed is None and store is not None:  # resuming: the seed the store's run was started with
        settings = dataclasses.replace(settings, seed=Store.stored_seed(store))
    job = make_job(landscape, dynamics, x0=x0, stop=stop, target=target, settings=settings)
    if settings.sensitivities is None:
        (result,) = execute([job], settings, stores=[store])
        return result
    return _with_sensitivities(job, landscape, dynamics, x0=x0, stop=stop, target=target, settings=settings,
                               store=store, parameters=settings.sensitivities, method=settings.sensitivity_method,
                               fd_step=settings.fd_step)


def simulate_until(deadline: float | None, landscape: Landscape, dynamics: Dynamics, *, x0: Any, stop: Any = None,
                   target: Any = None, **options: Any) -> SimulationResult | SummaryResult:
    """`simulate` without sensitivities, run locally, stopped with `_execute.OutOfTime` (its paths discarded) once
    time.perf_counter() passes `deadline`: estimate's wall-time budget. The same job as simulate's: the same bits."""
    settings = RunSettings(**options)
    if settings.sensitivities is not None or settings.client is not None or settings.store is not None:
        raise ValueError("simulate_until runs without sensitivities, a client or a store")
    job = make_job(landscape, dynamics, x0=x0, stop=stop, target=target, settings=settings)
    (result,) = execute([job], settings, stores=[None], deadline=deadline)
    return result


def _with_sensitivities(job: Job, landscape: Landscape, dynamics: Dynamics, *, x0: Any, stop: Any,
                        target: Any, settings: RunSettings, store: Any, parameters: Any, method: str,
                        fd_step: float | None) -> SimulationResult:
    """The run with the scores of the parameters the score can do, and the finite-difference runs of the others
    (the same seed: common random numbers)."""
    plans, M = plan_sensitivities(landscape, dynamics, parameters, method=method, fd_step=fd_step,
                                  reflecting=job.stop is not None and job.stop.reflects)
    score = [p for p in plans if p.method == "score"]
    fd = [p for p in plans if p.method == "fd"]
    records = []
    for p in plans:
        rec = p.record()
        if p.method == "fd":
            rec["fd_index"] = fd.index(p)
        records.append(rec)
    params = {**job.params, "sensitivities": records}
    job = dataclasses.replace(job, params=params, sensitivities=tuple(score), sensitivity_matrix=M)
    # The moved problems of the finite differences are built first: a step out of the parameter's domain is
    # refused before any run.
    fd_settings = dataclasses.replace(settings, seed=job.seed, store=None, progress=False, sensitivities=None,
                                      sensitivity_method="auto", fd_step=None)
    fd_jobs = [_fd_jobs(p, landscape, dynamics, x0=x0, stop=stop, target=target, settings=fd_settings) for p in fd]
    (result,) = execute([job], settings, stores=[store])
    assert isinstance(result, SimulationResult)
    n = result.n_paths
    fields: dict[str, Any] = {}
    if score:
        columns = [score.index(p) if p.method == "score" else -1 for p in plans]
        for name in ("score_sum", "score_time"):
            a = getattr(result, name)
            full = np.full((n, len(plans)), np.nan)
            for j, c in enumerate(columns):
                if c >= 0:
                    full[:, j] = a[:, c]
            fields[name] = full
    else:
        fields["score_sum"] = fields["score_time"] = np.full((n, len(plans)), np.nan)
    if fd:
        statuses, times = [], []
        # The finite-difference runs' cost: their path-steps in the plan's record, their time in elapsed (the four
        # runs of a parameter run as one batch, and each of their results carries the batch's wall time).
        recorded = [dict(rec) for rec in result.params["sensitivities"]]
        elapsed = result.elapsed
        for i, jobs in enumerate(fd_jobs):
            runs = execute(jobs, fd_settings, stores=[None] * 4)
            statuses.append(np.stack([r.status for r in runs]))  # type: ignore[union-attr]
            times.append(np.stack([r.exit_time for r in runs]))  # type: ignore[union-attr]
            rec = next(r for r in recorded if r["method"] == "fd" and r["fd_index"] == i)
            rec["fd_path_steps"] = [int(r.total_steps) for r in runs]
            elapsed += runs[0].elapsed
        fields["fd_status"] = np.stack(statuses)
        fields["fd_exit_time"] = np.stack(times)
        fields["params"] = {**result.params, "sensitivities": recorded}
        fields["elapsed"] = elapsed
    return dataclasses.replace(result, **fields)


def _fd_jobs(p: Any, landscape: Landscape, dynamics: Dynamics, *, x0: Any, stop: Any, target: Any,
             settings: RunSettings) -> list[Job]:
    """The four runs of plan `p`'s finite differences, at the parameter +- h and +- 2h."""
    head, _, field = p.parameter.partition(".")
    jobs = []
    for sign in (1, -1, 2, -2):
        value = p.value + sign * p.step
        land, dyn = landscape, dynamics
        try:
            if head == "landscape":
                land = with_parameter(land, p.parameter, field, value)  # type: ignore[assignment]
            else:
                dyn = with_parameter(dyn, p.parameter, field, value)  # type: ignore[assignment]
        except (TypeError, ValueError) as exc:  # say which argument moved it there, not only the domain
            raise ValueError(f"fd_step={p.step:g} moves {p.parameter} = {p.value:g} outside its domain (the finite "
                             f"differences need it at {p.parameter} +- fd_step and +- 2 fd_step, here {value:g}: "
                             f"{exc}); give a smaller fd_step, or a parameter value inside its domain") from exc
        jobs.append(make_job(land, dyn, x0=x0, stop=stop, target=target, settings=settings))
    return jobs
