"""Saddle experiments: how long optimizers take to leave a strict saddle as the dimension and the negative
curvature vary; gradient descent against perturbed gradient descent on the chain of saddles of Du et al. (2017);
and how often adaptive-step methods converge to a saddle (never, for random starts: Antonakopoulos et al.).
`run` is `escapade reproduce saddle-escape` (001 and Du et al.'s octopus; `saddle_avoidance`, 002's adaptive steps,
is not part of it)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .. import plot
from .._validate import as_array, as_float, as_int
from ..analysis.estimates import censored_mean, quantity_of
from ..dynamics import GD, AdaGrad, AdaNorm, DiscreteMap, GaussianSGD, NoisyGD, PerturbedGD
from ..landscapes import Landscape, Octopus, StrictSaddle
from ..regions import Ball, Union
from ..results import UNSTOPPED, SimulationResult, Status
from ..simulate import simulate
from ..starts import UniformBall, UniformBox
from .report import Design, Report, experiment_table, format_table, table_rows

__all__ = ["ESCAPE_METHODS", "OCTOPUS_METHODS", "OctopusGD", "escape_dynamics", "octopus_escape_times", "octopus_gd",
           "run", "saddle_avoidance", "saddle_escape_times", "strict_saddle_gd_mean"]

#: The methods `saddle_escape_times` compares.
ESCAPE_METHODS = ("GD", "NoisyGD", "PerturbedGD", "SGD")

_COUNT_COLUMNS = {"exited": Status.EXITED, "hit": Status.HIT, "censored": Status.CENSORED,
                  "diverged": Status.DIVERGED, "converged": Status.CONVERGED}


def escape_dynamics(method: str, *, dim: int, lr: float, noise: float, curvature: float) -> DiscreteMap:
    """The optimizer `method` (one of `ESCAPE_METHODS`) as `saddle_escape_times` runs it, with step size `lr`
    and noise scale `noise`:

    - "GD": gradient descent (no noise; only the random start moves it off the saddle);
    - "NoisyGD": x - lr (grad f + noise xi), xi uniform on the unit sphere;
    - "PerturbedGD": a jump to a uniform point of the ball of radius `noise` whenever |grad f| <= `noise` and no
      jump happened in the last t_thres = ceil(10 / (lr curvature)) iterations (f_thres = 0: it never stops);
    - "SGD": Gaussian SGD, x - lr grad f + lr noise xi, xi ~ N(0, I / dim), gradient noise of covariance
      noise^2 I / dim (the same mean square noise, noise^2, as "NoisyGD").
    """
    lr = as_float("lr", lr, positive=True)
    curvature = as_float("curvature", curvature, positive=True)
    if method == "GD":
        return GD(lr)
    if method == "NoisyGD":
        return NoisyGD(lr, noise)
    if method == "PerturbedGD":
        if lr * curvature < 10 / 2**48:  # t_thres would pass PerturbedGD's cap of 2**48 iterations (or overflow)
            raise ValueError(f"lr * curvature must be at least 10 / 2**48 for PerturbedGD's t_thres = "
                             f"ceil(10 / (lr curvature)), got lr={lr}, curvature={curvature}")
        return PerturbedGD(lr, radius=noise, g_thres=noise, f_thres=0.0,
                           t_thres=float(max(1, math.ceil(10 / (lr * curvature)))))
    if method == "SGD":
        return GaussianSGD(lr, batch_size=1.0, C=np.eye(dim) * noise**2 / dim)
    raise ValueError(f"method must be one of {ESCAPE_METHODS}, got {method!r}")


def saddle_escape_times(*, dims: Sequence[int] = (10, 100, 1000), curvatures: Sequence[float] = (0.1, 1.0),
                        methods: Sequence[str] = ESCAPE_METHODS, n_paths: int = 200, radius: float = 0.1,
                        start_radius: float = 1e-3, noise: float = 1e-2, lr: float = 0.1, quartic: float = 1.0,
                        max_steps: int = 100_000, seed: int = 0, threads: int | None = None,
                        progress: bool | None = False) -> Any:
    """Iterations to leave the ball of radius `radius` around the strict saddle of
    `StrictSaddle([-curvature, 1, ..., 1], quartic)` (f = -curvature x_1^2 / 2 + sum_{i>1} x_i^2 / 2 + quartic
    sum_i x_i^4 / 4), from a start uniform in the ball of radius `start_radius` around it, for each dimension in
    `dims`, negative curvature in `curvatures` and method in `methods` (see `escape_dynamics`).

    Returns a tidy pandas DataFrame, one row per (method, dim, curvature): n_paths, the counts by status
    (exited, censored at `max_steps`, diverged, converged), and mean, stderr, identified by the package's censoring
    policy (`analysis.estimates.censored_mean`; diverged paths left out): with censored (or converged) paths, the
    restricted mean E[min(T, cap)], a lower bound of the mean, with identified False; mean_lower_bound is the
    summary's, the same restricted mean to rounding. Every row
    uses the same `seed`, so the methods see the same starting points.
    """

    dims = [as_int("dims", d, minimum=1) for d in dims]
    curvatures = [as_float("curvatures", c, positive=True) for c in curvatures]
    radius = as_float("radius", radius, positive=True)
    start_radius = as_float("start_radius", start_radius, nonnegative=True)
    if start_radius >= radius:
        raise ValueError(f"start_radius must be below radius = {radius}, got {start_radius}")
    for m in methods:
        if m not in ESCAPE_METHODS:
            raise ValueError(f"methods must be among {ESCAPE_METHODS}, got {m!r}")
    rows = []
    for d in dims:
        stop = Ball(center=np.zeros(d), radius=radius)
        x0: Any = UniformBall(center=np.zeros(d), radius=start_radius) if start_radius > 0 else np.zeros(d)
        for c in curvatures:
            f = StrictSaddle(np.r_[-c, np.ones(d - 1)], quartic=quartic)
            for m in methods:
                res = simulate(f, escape_dynamics(m, dim=d, lr=lr, noise=noise, curvature=c), x0=x0, stop=stop,
                               n_paths=n_paths, max_steps=max_steps, seed=seed, threads=threads, progress=progress)
                rows.append({"method": m, "dim": d, "curvature": c, **_row(res)})
    return experiment_table(rows, seed=seed, dims=dims, curvatures=curvatures, methods=list(methods),
                            n_paths=n_paths, radius=radius, start_radius=start_radius, noise=noise, lr=lr,
                            quartic=quartic, max_steps=max_steps)


def _octopus_base(L: float, gamma: float) -> float:
    """GD's growth factor per dimension on the octopus at lr = 1 / (4 L)."""
    lr = 1 / (4 * L)
    return 1 + math.log(1 / (1 - 2 * lr * L)) / math.log(1 + 2 * lr * gamma)


def strict_saddle_gd_mean(*, dim: int, curvature: float, lr: float = 0.1, quartic: float = 1.0,
                          radius: float = 0.1, start_radius: float = 1e-3) -> float:
    """GD's mean number of iterations to leave the ball of radius `radius` around the strict saddle of
    `saddle_escape_times`, from a start uniform in the ball of radius `start_radius`, computed without simulation.

    x_1 follows its own map g(x) = x + lr (c x - q x^3), which grows |x_1| monotonically below radius (while
    radius^2 < c / q), so N > n exactly when |x_1(0)| < b_n = g^-n(radius), and E[N] = sum_n P(|x_1(0)| < b_n),
    with P(|x_1| < b) = I_{(b / r0)^2}(1/2, (d + 1)/2) for a uniform point of the d-ball of radius r0. The other
    coordinates shrink by a factor of at most max(|1 - lr|, |1 - lr (1 + quartic radius^2)|) < 1 per iteration
    from below start_radius: their share of |x| at the exit is neglected. A step size at which they do not shrink
    (lr >= 2 / (1 + quartic radius^2)), or at which g is not monotone below radius, is refused: there the other
    coordinates (or an overshooting x_1) decide the exit and this formula does not hold.
    """
    from scipy import optimize, special

    dim = as_int("dim", dim, minimum=1)
    c, q = as_float("curvature", curvature, positive=True), as_float("quartic", quartic, nonnegative=True)
    lr = as_float("lr", lr, positive=True)
    radius = as_float("radius", radius, positive=True)
    start_radius = as_float("start_radius", start_radius, positive=True)  # 0: GD never leaves the saddle
    if start_radius >= radius:
        raise ValueError(f"start_radius must be below radius = {radius}, got {start_radius}")
    # b_n >= radius / (1 + lr c)^n, and the loop ends only once P(|x_1(0)| < b_n) >= b_n / start_radius falls
    # below 1e-17 total <= 1e-17 n: within the cap of 1e7 iterations, b_n < 1e-10 start_radius.
    if math.log(radius) - math.log(start_radius) + math.log(1e10) > 1e7 * math.log1p(lr * c):
        raise ValueError(f"lr * curvature = {lr * c:g} is too small: GD's escape takes over 1e7 iterations "
                         f"(|x_1| grows by 1 + lr * curvature per iteration), got lr={lr}")
    if q > 0 and radius**2 >= c / q:
        raise ValueError(f"radius must lie below sqrt(curvature / quartic) = {math.sqrt(c / q):g} (where x_1 grows)")
    if lr * (1 + q * radius**2) >= 2:
        raise ValueError(f"lr must be below 2 / (1 + quartic radius^2) = {2 / (1 + q * radius**2):g}, where the "
                         f"other coordinates shrink (beyond, they grow and decide the exit), got lr={lr}")
    if lr * (3 * q * radius**2 - c) >= 1:
        raise ValueError(f"lr must be below 1 / (3 quartic radius^2 - curvature) = {1 / (3 * q * radius**2 - c):g}, "
                         f"where GD's map of x_1 is monotone below radius, got lr={lr}")

    def g(x: float) -> float:
        return x + lr * (c * x - q * x**3)

    total, b, n = 0.0, radius, 0
    while True:
        p = float(special.betainc(0.5, (dim + 1) / 2, min(1.0, (b / start_radius) ** 2)))
        if p < 1e-17 * max(total, 1.0) and b < start_radius:
            return total
        total += p  # P(N > n)
        b = float(optimize.brentq(lambda x, t=b: g(x) - t, 0.0, b, xtol=1e-16 * b))  # g(b_{n+1}) = b_n
        n += 1
        if n > 10_000_000:
            raise ValueError(f"the escape takes over 1e7 iterations: GD barely moves off the saddle (lr={lr})")


class OctopusGD(NamedTuple):
    """Gradient descent on the octopus, path by path (`octopus_gd`).

    status : HIT (entered the ball around the minimum), CENSORED (still outside it after max_steps) or DIVERGED
        (left the octopus's domain), as `simulate` records them.
    steps : the iteration at which the path entered the ball (max_steps for a censored path).
    subnormal : whether a coordinate of the path fell below the smallest normal double (2.2e-308) at some
        iteration: where plain double arithmetic rounds (and, at 4.9e-324, stops: the step rounds to zero), and
        the only paths on which it differs from this iteration.
    """

    status: np.ndarray
    steps: np.ndarray
    subnormal: np.ndarray


# A coordinate far below the octopus's length scale is held as m 2^e: e = 0 (plain) or a negative multiple of
# _SHIFT, with |m| kept within 2^+-_HEADROOM of a power of two unit <= tau, far from under- and overflow.
_SHIFT, _HEADROOM = 512, 256


def octopus_gd(landscape: Octopus, x0: ArrayLike, *, lr: float, radius: float, max_steps: int) -> OctopusGD:
    """Gradient descent x <- x - lr grad f(x) on the octopus `landscape` from each row of `x0` (n, d), until it
    enters the ball of radius `radius` around the minimum (4 tau, ..., 4 tau), in double arithmetic with an
    unbounded exponent.

    While GD waits at a saddle of the octopus, its later coordinates shrink geometrically and in plain doubles
    reach the smallest positive double, where the step that should make them escape rounds to zero (`simulate`
    with `GD` then stays at the saddle for ever). On the octopus every coordinate below the length scale tau
    enters the gradient linearly, grad_j f = c_j x_j, with c_j one of 2 L, -2 gamma, 2 g2(|x_i|), set by the other
    coordinates (only the square of the coordinate after the active one also enters the active one's gradient,
    where it is far below the last bit). So such a coordinate is held as m 2^e with an integer e: GD's rounded
    operations on m are those on x scaled by 2^-e, exactly, as long as the plain values are normal doubles. The
    factors c_j are read off the landscape's own gradient at a point where these coordinates are a power of two
    unit <= tau, and the plain coordinates go through the landscape's gradient and `Ball.contains` as in the
    engine: the iteration counts equal `simulate`'s bit for bit on every path whose coordinates stay normal
    doubles (`subnormal` False), and on the others they are those of IEEE double arithmetic without underflow.

    Returns an `OctopusGD` (status, steps and subnormal per path).
    """
    if not isinstance(landscape, Octopus):
        raise TypeError(f"landscape must be an Octopus, got {type(landscape).__name__}")
    f = landscape
    x = as_array("x0", x0, ndim=2)
    if x.shape[1] != f.dim:
        raise ValueError(f"x0 must have shape (n, {f.dim}), got {x.shape}")
    lr = as_float("lr", lr, positive=True)
    radius = as_float("radius", radius, positive=True)
    max_steps = as_int("max_steps", max_steps, minimum=1)
    if not 1e-100 <= f.tau <= 1e100:
        raise ValueError(f"landscape.tau must lie in [1e-100, 1e100] for the rescaled coordinates, got {f.tau}")
    unit = 2.0 ** math.floor(math.log2(f.tau))
    low, high, up_factor, down_factor = unit * 2.0**-_HEADROOM, unit * 2.0**_HEADROOM, 2.0**-_SHIFT, 2.0**_SHIFT
    tiny = np.finfo(np.float64).tiny
    below_normal_possible = -1022 - math.floor(math.log2(low)) + 2  # an exponent above it keeps |x| normal
    target = Ball(center=f.minimum(), radius=radius)
    gradient, contains = f._core.gradient, target._core.contains  # the engine's own, without argument checks
    n = x.shape[0]
    status = np.full(n, int(Status.CENSORED), dtype=np.int8)
    steps = np.full(n, max_steps, dtype=np.int64)
    subnormal = np.zeros(n, dtype=bool)
    start_inside = contains(x).astype(bool) if n else np.zeros(0, dtype=bool)
    status[start_inside], steps[start_inside] = Status.HIT, 0
    live = np.flatnonzero(~start_inside)
    m, e = x[live], np.zeros((live.size, f.dim), dtype=np.int64)
    plain, scaled, rescaled = m, e < 0, False
    for t in range(1, max_steps + 1):
        if live.size == 0:
            break
        g = gradient(plain)
        if rescaled:  # the tiny coordinates: their factors c_j times their mantissas
            g = np.where(scaled, gradient(np.where(scaled, unit, plain)) / unit * m, g)
        m = m - lr * g
        size = np.abs(m)
        if rescaled:
            up = scaled & (size >= high)
            if up.any():
                m, e = np.where(up, m * up_factor, m), np.where(up, e + _SHIFT, e)
                size = np.where(up, high, size)
        down = size < low
        if down.any():
            down &= m != 0
            m, e = np.where(down, m * down_factor, m), np.where(down, e - _SHIFT, e)
        if rescaled or down.any():
            scaled = e < 0
            rescaled = bool(scaled.any())
        plain = np.ldexp(m, e) if rescaled else m
        if rescaled and e.min() < below_normal_possible:
            subnormal[live] |= ((np.abs(plain) < tiny) & (m != 0)).any(axis=1)
        bad = ~np.isfinite(plain).all(axis=1)  # left the domain: the gradient was NaN
        hit = contains(plain).astype(bool) & ~bad
        done = hit | bad
        if done.any():
            status[live[hit]], steps[live[hit]] = Status.HIT, t
            status[live[bad]], steps[live[bad]] = Status.DIVERGED, t
            keep = ~done
            live, m, e, plain, scaled = live[keep], m[keep], e[keep], plain[keep], scaled[keep]
    return OctopusGD(status, steps, subnormal)


#: The methods `octopus_escape_times` compares.
OCTOPUS_METHODS = ("GD", "GD-double", "PerturbedGD")


def octopus_escape_times(*, dims: Sequence[int] = (2, 3, 4, 5, 6), methods: Sequence[str] = ("GD", "PerturbedGD"),
                         L: float = 1.0, gamma: float = 1.0, tau: float = 1.0, lr: float | None = None,
                         epsilon: float = 1e-2, noise: float | None = None, n_paths: int = 100,
                         max_steps: int = 100_000, seed: int = 0, threads: int | None = None,
                         progress: bool | None = False) -> Any:
    """Iterations for gradient descent and perturbed gradient descent started uniformly in [0, tau]^d to reach
    the epsilon-second-order stationary points of `Octopus(d, L=L, gamma=gamma, tau=tau)`: the balls of radius
    epsilon / (2 L) around its minima (+-4 tau, ..., +-4 tau), where |grad f| <= epsilon and the Hessian is 2 L I.

    `lr` defaults to 1 / (4 L). The methods (`OCTOPUS_METHODS`):

    - "GD": gradient descent by `octopus_gd`, double arithmetic with an unbounded exponent. GD's later
      coordinates shrink by (1 - 2 lr L) per iteration while it waits at each saddle and in plain doubles reach
      the smallest positive double after about 1075 / log2(1 / (1 - 2 lr L)) iterations, where GD's step rounds
      to zero; here they do not, and the counts equal the engine's on every path that stays in the normal range.
    - "GD-double": gradient descent by `simulate` (plain doubles): the paths that underflow stay at a saddle for
      ever and are censored at the cap (slowly: subnormal arithmetic is slow).
    - "PerturbedGD": jumps to a uniform point of the ball of radius `noise` (default epsilon) whenever
      |grad f| <= `noise` and no jump happened in the last ceil(10 / (lr gamma)) iterations, and stops (CONVERGED)
      when f has decreased by less than L noise^2 since then, which happens at a minimum. Its jumps may flip
      signs, so it may end at any of the minima: its target is the union of the 2**d balls, and the time is the
      first iteration in any of them. GD from [0, tau]^d keeps its signs (lr < 1 / (2 L)) and aims at
      (4 tau, ..., 4 tau).

    Every row uses `seed`: the methods see the same starts, and the starts in dimension d are the first d
    coordinates of those in dimension d + 1.

    Returns a tidy pandas DataFrame, one row per (method, dim): n_paths, the counts by status ("hit" counts the
    paths that reached an epsilon-second-order stationary point, "converged" the perturbed-GD paths that stopped
    elsewhere), censored_cap and censored_underflow (the censored paths still moving at the cap, and those
    stopped for good by a step that rounds to zero: a fixed point of the double iteration short of the target),
    subnormal (paths with a coordinate below the smallest normal double at some iteration: where plain doubles
    round; NaN for "GD-double" and "PerturbedGD", which do not record it: the perturbations keep PerturbedGD's
    coordinates far from it), and mean, stderr, identified, mean_lower_bound by the package's censoring policy (`analysis.estimates.censored_mean`: with censored paths, the restricted mean
    E[min(T, cap)], a lower bound of the mean, with identified False; mean_lower_bound equals it).
    """

    L = as_float("L", L, positive=True)
    gamma = as_float("gamma", gamma, positive=True)
    tau = as_float("tau", tau, positive=True)
    lr = 1 / (4 * L) if lr is None else as_float("lr", lr, positive=True)
    epsilon = as_float("epsilon", epsilon, positive=True)
    noise = epsilon if noise is None else as_float("noise", noise, positive=True)
    max_steps = as_int("max_steps", max_steps, minimum=1)
    n_paths = as_int("n_paths", n_paths, minimum=1)
    for m in methods:
        if m not in OCTOPUS_METHODS:
            raise ValueError(f"methods must be among {OCTOPUS_METHODS}, got {m!r}")
    rows = []
    for d in (as_int("dims", d, minimum=1) for d in dims):
        f = Octopus(d, L=L, gamma=gamma, tau=tau)
        m_plus, r = f.minimum(), epsilon / (2 * L)
        x0 = UniformBox(low=np.zeros(d), high=np.full(d, tau))
        target = Ball(center=m_plus, radius=r)  # GD keeps its signs (above)
        for m in methods:
            if m == "GD":
                run = octopus_gd(f, x0.sample(n_paths, seed=seed), lr=lr, radius=r, max_steps=max_steps)
                row = _octopus_row(run.status, run.steps.astype(np.float64), max_steps,
                                   underflow=0, subnormal=int(run.subnormal.sum()))
            elif m == "GD-double":
                res = simulate(f, GD(lr), x0=x0, target=target, n_paths=n_paths, max_steps=max_steps, seed=seed,
                               threads=threads, progress=progress)
                assert isinstance(res, SimulationResult)
                status = np.asarray(res.status)
                ends = np.asarray(res.final_position)[status == Status.CENSORED]
                stuck = int(np.all(ends - lr * f.gradient(ends) == ends, axis=1).sum()) if ends.size else 0
                row = _octopus_row(status, np.asarray(res.exit_time), max_steps, underflow=stuck, subnormal=None)
            else:
                pgd = PerturbedGD(lr, radius=noise, g_thres=noise, f_thres=L * noise**2,
                                  t_thres=float(max(1, math.ceil(10 / (lr * gamma)))))
                res = simulate(f, pgd, x0=x0, target=_sign_balls(m_plus, r), n_paths=n_paths, max_steps=max_steps,
                               seed=seed, threads=threads, progress=progress)
                assert isinstance(res, SimulationResult)
                row = _octopus_row(np.asarray(res.status), np.asarray(res.exit_time), max_steps, underflow=0,
                                   subnormal=None)
            rows.append({"method": m, "dim": d, **row})
    return experiment_table(rows, seed=seed, dims=list(dims), methods=list(methods), L=L, gamma=gamma, tau=tau,
                            lr=lr, epsilon=epsilon, noise=noise, n_paths=n_paths, max_steps=max_steps)


def _sign_balls(minimum: np.ndarray, radius: float) -> Union:
    """The balls of `radius` around the octopus's 2**d minima (every sign of `minimum`'s coordinates): the
    epsilon-second-order stationary points, as one target, so that a path stops at its first entrance into any of
    them (tested at the iterates)."""
    signs = itertools.product((-1.0, 1.0), repeat=minimum.size)
    return Union([Ball(center=np.asarray(s) * minimum, radius=radius) for s in signs])


def _octopus_row(status: np.ndarray, times: np.ndarray, cap: int, *, underflow: int,
                 subnormal: int | None) -> dict[str, Any]:
    """A row of `octopus_escape_times`: the counts by status, the censored paths split into those at the cap
    and those stuck by underflow, and the mean by the censoring policy over the paths that did not diverge
    (HIT paths observed; the others, CENSORED or CONVERGED elsewhere, count at the cap)."""
    counts = {k: int(np.count_nonzero(status == v)) for k, v in _COUNT_COLUMNS.items()}
    keep = status != Status.DIVERGED
    hit = status == Status.HIT
    mean, stderr, identified = censored_mean(np.where(hit, times, float(cap))[keep], hit[keep], float(cap))
    return {"n_paths": int(status.size), **counts, "censored_cap": counts["censored"] - underflow,
            "censored_underflow": underflow, "subnormal": math.nan if subnormal is None else subnormal,
            "mean": mean, "stderr": stderr, "identified": identified, "mean_lower_bound": mean}


def saddle_avoidance(landscape: Landscape | None = None, saddle: Iterable[float] | None = None, *,
                     methods: Mapping[str, DiscreteMap] | None = None, n_paths: int = 500,
                     start_radius: float = 0.1, radius: float = 0.5, tol: float = 1e-8, max_steps: int = 5_000,
                     starts: ArrayLike | None = None, seed: int = 0, threads: int | None = None,
                     progress: bool | None = False) -> Any:
    """How often each optimizer started uniformly in the ball of radius `start_radius` around a strict saddle
    converges to it, and how often it escapes (leaves the ball of radius `radius`).

    A path counts as converged to the saddle when it enters the ball of radius `tol` around it (status HIT), as escaped
    when it leaves the ball of radius `radius` (EXITED), and as undecided when neither happens within `max_steps`
    (CENSORED, or CONVERGED elsewhere by the optimizer's own rule: the censoring policy's paths at the cap); a path
    whose iterates overflow is DIVERGED, counted apart and left out of the fractions (the censoring policy,
    `analysis.estimates`). `landscape` defaults to `StrictSaddle([-1, 1, 1])` and `saddle` to the origin; `methods`
    (name -> dynamics) to GD(0.1), AdaGrad(full and diagonal) and AdaNorm with lr = 0.5, delta0 = 1. `starts` (n,
    d), if given, replaces the random starts (e.g. points of the stable manifold, which do converge). For random
    starts (absolutely continuous) the converged fraction is zero for all of them (Lee et al. 2016 for GD;
    Antonakopoulos et al. for adaptive steps). Returns a pandas DataFrame, one row per method: n_paths, converged,
    escaped, undecided, diverged and the fractions converged_fraction, escaped_fraction (of the n_paths - diverged
    paths).
    """

    f = StrictSaddle([-1.0, 1.0, 1.0]) if landscape is None else landscape
    if not isinstance(f, Landscape):
        raise TypeError(f"landscape must be a Landscape, got {type(landscape).__name__}")
    x_star = np.zeros(f.dim) if saddle is None else np.asarray(list(saddle), dtype=float)
    if x_star.shape != (f.dim,):
        raise ValueError(f"saddle must have {f.dim} components, got {x_star.tolist()}")
    start_radius = as_float("start_radius", start_radius, positive=True)
    radius = as_float("radius", radius, positive=True)
    tol = as_float("tol", tol, positive=True)
    if not tol < start_radius < radius:
        raise ValueError(f"need tol < start_radius < radius, got tol={tol}, start_radius={start_radius}, "
                         f"radius={radius}")
    if methods is None:
        methods = {"GD": GD(0.1), "AdaGrad (full)": AdaGrad(0.5, delta0=1.0, matrix="full"),
                   "AdaGrad (diagonal)": AdaGrad(0.5, delta0=1.0, matrix="diagonal"),
                   "AdaNorm": AdaNorm(0.5, delta0=1.0)}
    elif not isinstance(methods, Mapping):  # the names label the rows
        raise TypeError(f"methods must be a mapping of names to dynamics, e.g. {{'GD': GD(0.1)}}, got "
                        f"{type(methods).__name__}")
    x0: Any = UniformBall(center=x_star, radius=start_radius)
    if starts is not None:
        x0 = as_array("starts", starts, ndim=2)
        if x0.shape[1] != f.dim:
            raise ValueError(f"starts must have shape (n, {f.dim}), got {x0.shape}")
        n_paths = x0.shape[0]
    rows = []
    for name, dyn in methods.items():
        res = simulate(f, dyn, x0=x0,
                       stop=Ball(center=x_star, radius=radius), target=Ball(center=x_star, radius=tol),
                       n_paths=n_paths, max_steps=max_steps, seed=seed, threads=threads, progress=progress)
        assert isinstance(res, SimulationResult)
        diverged = res.count(Status.DIVERGED)
        n = res.n_paths - diverged
        converged, escaped = res.count(Status.HIT), res.count(Status.EXITED)
        rows.append({"method": name, "n_paths": res.n_paths, "converged": converged, "escaped": escaped,
                     "undecided": sum(res.count(s) for s in UNSTOPPED), "diverged": diverged,
                     "converged_fraction": converged / n if n else math.nan,
                     "escaped_fraction": escaped / n if n else math.nan})
    return experiment_table(rows, seed=seed, saddle=x_star.tolist(), methods={k: v.to_dict() for k, v in
                                                                             methods.items()},
                            n_paths=n_paths, start_radius=start_radius, radius=radius, tol=tol,
                            max_steps=max_steps, starts=starts is not None)


def _row(res: Any) -> dict[str, Any]:
    """A row of `saddle_escape_times`: the counts by status and the mean by the censoring policy over the paths
    that did not diverge (censored or converged paths count at the cap: the restricted mean, a lower bound)."""
    s = res.summary()
    counts = {k: s.counts[v.name] for k, v in _COUNT_COLUMNS.items()}
    mean = quantity_of(res, "mean_exit_time")  # min(tau, cap) over the paths that did not diverge
    return {"n_paths": s.n_paths, **counts, "mean": mean.value, "stderr": mean.stderr, "identified": mean.identified,
            "mean_lower_bound": s.mean_lower_bound}


def _times_text(table: Any, keys: Sequence[str]) -> str:
    header = [*keys, "paths", "mean ± SE", "stopped", "censored", "other"]
    rows = []
    for r in table.to_dict("records"):
        stopped = int(r["exited"] + r["hit"])
        other = int(r["diverged"] + r["converged"])
        mean = "-"
        if math.isfinite(r["mean"]):  # the mean by the censoring policy, over the paths that did not diverge
            mean = f"{r['mean']:.4g}" + (f" ± {r['stderr']:.2g}" if math.isfinite(r["stderr"]) else "")
            if not r["identified"]:  # the restricted mean E[min(T, cap)]: a lower bound
                mean = ">= " + mean
        rows.append([*(f"{r[k]:g}" if isinstance(r[k], float) else str(r[k]) for k in keys), str(r["n_paths"]),
                     mean, str(stopped), str(int(r["censored"])), str(other)])
    return format_table(header, rows)


#: Rows with more censored paths than this fraction are flagged in the octopus table.
CENSORED_FLAG = 0.1


def _octopus_text(table: Any) -> str:
    header = ["method", "dim", "paths", "mean ± SE", "hit", "censored: cap", "underflow", "below normal", "other"]
    rows = []
    for r in table.to_dict("records"):
        unstopped, se = int(r["censored"] + r["converged"]), r["stderr"]  # counted at the cap
        digits = max(0, 1 - math.floor(math.log10(se))) if math.isfinite(se) and se > 0 else 1
        mean = f"{r['mean']:.{digits}f} ± {se:.{digits}f}" if math.isfinite(se) else f"{r['mean']:.{digits}f}"
        if not r["identified"]:  # the restricted mean E[min(T, cap)]: a lower bound, flagged when it rests on many
            mean = f">= {r['mean']:.0f}" + (" *" if unstopped > CENSORED_FLAG * r["n_paths"] else "")
        below = "-" if math.isnan(r["subnormal"]) else str(int(r["subnormal"]))
        rows.append([str(r["method"]), str(r["dim"]), str(r["n_paths"]), mean, str(int(r["hit"])),
                     str(int(r["censored_cap"])), str(int(r["censored_underflow"])), below,
                     str(int(r["diverged"] + r["converged"]))])
    return format_table(header, rows)


def run(*, paths: int | None, seed: int, threads: int | None, progress: bool | None) -> Report:
    """Escape times from a strict saddle vs dimension and curvature (GD, noisy GD, perturbed GD, SGD), and the
    time GD and perturbed GD need to reach the minimum of Du et al.'s chain of saddles vs dimension."""
    n_paths = 100 if paths is None else paths
    escape_params: dict[str, Any] = {"dims": [10, 100, 1000], "curvatures": [0.1, 1.0], "radius": 0.1,
                                     "start_radius": 1e-3, "noise": 1e-2, "lr": 0.1, "quartic": 1.0,
                                     "max_steps": 20_000}
    octopus_params: dict[str, Any] = {"dims": list(range(2, 11)), "methods": ["GD", "PerturbedGD"], "L": 1.0,
                                      "gamma": 1.0, "tau": 1.0, "lr": 0.25, "epsilon": 1e-2, "noise": 1e-2,
                                      "max_steps": 1_000_000}
    escape = saddle_escape_times(**escape_params, n_paths=n_paths, seed=seed, threads=threads, progress=progress)
    octopus = octopus_escape_times(**octopus_params, n_paths=n_paths, seed=seed, threads=threads,
                                   progress=progress)
    # GD against its exact mean (no simulation: the x_1 map and the start's law), and each method's growth per
    # tenfold d against GD's log(sqrt(10)) / log(1 + lr c) (the start's x_1 shrinks as 1 / sqrt(d)).
    lr, dims = escape_params["lr"], escape_params["dims"]
    gd_rows, growth_rows, reference = [], [], []
    for r in escape[escape["method"] == "GD"].to_dict("records"):
        exact = strict_saddle_gd_mean(dim=r["dim"], curvature=r["curvature"], lr=lr, quartic=escape_params["quartic"],
                                      radius=escape_params["radius"], start_radius=escape_params["start_radius"])
        z = (r["mean"] - exact) / r["stderr"] if r["stderr"] > 0 else math.nan
        reference.append({"dim": r["dim"], "curvature": r["curvature"], "exact": exact, "z": z})
        gd_rows.append([str(r["dim"]), f"{r['curvature']:g}", f"{r['mean']:.4g} ± {r['stderr']:.2g}", f"{exact:.4g}",
                        f"{z:+.1f}"])
    for c in escape_params["curvatures"]:
        step = math.log(math.sqrt(10)) / math.log(1 + lr * c)
        cells = []
        for m in ESCAPE_METHODS:
            rows_m = escape[(escape["method"] == m) & (escape["curvature"] == c)].sort_values("dim")
            means = rows_m["mean"].to_numpy()
            per = np.diff(means) / np.diff(np.log10(rows_m["dim"].to_numpy()))
            cells.append(" / ".join(f"{v:+.0f}" for v in per))
        growth_rows.append([f"{c:g}", f"{step:.0f}", *cells])
    data = {
        "params": {"n_paths": n_paths, "strict_saddle": escape_params, "octopus": octopus_params},
        "strict_saddle": table_rows(escape),
        "strict_saddle_gd_exact": reference,
        "octopus": table_rows(octopus),
    }
    text = "\n".join([
        "Iterations to leave the ball of radius 0.1 around the strict saddle of",
        "f = -c x_1^2/2 + sum_{i>1} x_i^2/2 + sum_i x_i^4/4, from uniform starts in the ball of radius 1e-3;",
        f"lr 0.1, noise 1e-2 (sphere, perturbation radius, Gaussian); {n_paths} paths per row, seed {seed}",
        "",
        _times_text(escape, ["method", "dim", "curvature"]),
        "",
        "GD against its exact mean (strict_saddle_gd_mean: the x_1 map and the start's law, no simulation)",
        "",
        format_table(["dim", "curvature", "escapade", "exact", "z"], gd_rows),
        "",
        "Iterations added per tenfold d (from d = " + " to ".join(str(d) for d in dims) + "), against GD's",
        "log(sqrt(10)) / log(1 + lr c), the start's x_1 shrinking as 1/sqrt(d):",
        "",
        format_table(["curvature", "log(sqrt 10)/log(1+lr c)", *ESCAPE_METHODS], growth_rows),
        "",
        "Every method's time grows logarithmically in d here, far inside 001's bounds (noisy GD polynomial in d,",
        "perturbed GD O(log^4 d)): at these sizes the noise (1e-2) or the start (1e-3 / sqrt(d)) sets how far x_1",
        "must grow, and each tenfold d adds about the same number of iterations to every method.",
        "",
        "Iterations to reach the epsilon-second-order stationary points (epsilon = 1e-2) of Du et al.'s octopus",
        f"(L = gamma = tau = 1, lr 0.25), from uniform starts in [0, tau]^d; perturbation radius 1e-2; {n_paths} paths",
        "",
        _octopus_text(octopus),
        "",
        "GD waits at each of the d saddles of the octopus longer than at the one before: its time grows",
        "geometrically with d, while perturbed GD's grows about linearly (its slope lower at a shorter t_thres). GD",
        "runs in double arithmetic with an unbounded exponent: 'below normal' counts the paths whose waiting",
        "coordinates fell below 2.2e-308, where plain doubles round them (and at 4.9e-324 stop plain GD at a saddle",
        "for ever); on all other paths the counts equal plain double GD's. A censored row shows the restricted mean",
        "E[min(T, cap)], a lower bound;",
        f"* marks rows with more than {CENSORED_FLAG:.0%} of their paths censored.",
    ])
    escape_censored = int(escape["censored"].sum())
    octopus_censored = int(octopus["censored"].sum())
    noise, start, c_min = escape_params["noise"], escape_params["start_radius"], min(escape_params["curvatures"])
    design = Design(
        dt=f"iterations: lr {escape_params['lr']:g} (strict saddle), {octopus_params['lr']:g} (octopus)",
        paths=f"{n_paths} per row",
        seeds=f"seed {seed} for every row of both tables: the methods of a row group see the same starts "
              "(common random numbers), and the octopus's starts in dimension d are the first d coordinates of "
              "those in dimension d + 1",
        censoring=f"caps {escape_params['max_steps']:,} iterations (strict saddle: {escape_censored} censored paths) "
                  f"and {octopus_params['max_steps']:,} (octopus: {octopus_censored} censored, "
                  f"{int(octopus['censored_underflow'].sum())} of them by underflow); censored rows show the "
                  "restricted mean, a lower bound",
        rows=len(escape) + len(octopus), independent=1,
        choices=(
            f"noise scale {noise:g} for every noisy method (001 takes NoisyGD's xi uniform on the unit sphere, "
            "unscaled): it sets how far x_1 starts from the saddle, so it ranks the methods: perturbed GD's first "
            f"jump of {noise:g} against starts within {start:g} saves up to log({noise / start:g}) / log(1 + lr c) = "
            f"{math.log(noise / start) / math.log(1 + lr * c_min):.0f} iterations at c = {c_min:g}",
            "SGD's gradient noise has covariance noise^2 I / d (the mean square noise^2 of NoisyGD's sphere)",
            "perturbed GD's thresholds are not the theorem's (PerturbedGD.from_theorem): on the strict saddle "
            "g_thres = radius = noise, t_thres = ceil(10 / (lr c)), f_thres = 0 (it never stops); on the octopus "
            "g_thres = radius = noise, t_thres = ceil(10 / (lr gamma)), f_thres = L noise^2; the octopus's "
            "t_thres (40) matters below that value, as perturbed GD may not jump again sooner: about 39 "
            "iterations per dimension at 40, 41 at 80, 27 at 20 (docs/saddles.md), linear at each",
            f"the octopus has L = gamma = tau = 1 (Du et al.'s experiments: L = tau = e, gamma = 1); GD's growth "
            f"base per dimension 1 + log(1/(1 - 2 lr L)) / log(1 + 2 lr gamma) is "
            f"{_octopus_base(octopus_params['L'], octopus_params['gamma']):.2f} here and "
            f"{_octopus_base(math.e, octopus_params['gamma']):.2f} with L = e (lr = 1/(4L) both)",
        ))

    def draw(path: Path) -> None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
        for ax, c in zip(axes[:2], escape_params["curvatures"]):
            plot.mean_times(escape[escape["curvature"] == c], x="dim", group="method", ax=ax)
            ax.set_title(f"strict saddle, curvature -{c:g} along x_1")
        plot.mean_times(octopus, x="dim", group="method", ax=axes[2], logx=False)
        axes[2].set_title("octopus (Du et al. 2017): time to the minimum")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    return Report(data=data, text=text, results={}, figures={"saddle-escape": draw}, design=design)
