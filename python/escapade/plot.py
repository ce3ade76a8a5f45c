"""Plots of landscapes, trajectories and exit-time statistics.

matplotlib is an optional dependency (``pip install "escapade[plot]"``); it is imported when a function is
called, so ``import escapade.plot`` works without it.

Every function draws on `ax`, or on the axes of a new figure when `ax` is None, and returns a `PlotResult`
``(ax, artists, info)``: the Axes, a dict of the artists it made (to restyle them) and a dict of the numbers it
computed (the Arrhenius fit, the Kaplan–Meier curves, the heat map values, ...).
"""

from __future__ import annotations

import itertools
import math
import statistics
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_float, real_array
from .analysis.arrhenius import abscissa, arrhenius_fit, censored_points, check_series, noise_kind, sweep_series
from .analysis.success import success_rate as rate_of
from .analysis.survival import survival_data, survival_of
from .landscapes import Landscape
from .regions import Ball, Box, Ellipsoid, HalfSpace, Intersection, Outside, Region, Union
from .results import SimulationResult, Status, SummaryResult, as_status
from .sweep import SweepResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PlotResult",
    "arrhenius",
    "arrhenius_sweep",
    "distance",
    "exit_times",
    "landscape",
    "mean_times",
    "success_rate",
    "survival",
]

_INSTALL = 'pip install "escapade[plot]"'
_REGION_COLORS = ("white", "orange", "magenta", "cyan")  # visible on viridis and on the legend's gray


class PlotResult(NamedTuple):
    """What a plot function returns; unpacks as ``ax, artists, info``.

    Attributes
    ----------
    ax : the matplotlib Axes drawn on.
    artists : name -> the artist (or list of artists) drawn, e.g. ``"trajectories"``, ``"colorbar"``.
    info : name -> numbers computed for the plot, e.g. the fitted ``"barrier"`` of `arrhenius`.
    """

    ax: Axes
    artists: dict[str, Any]
    info: dict[str, Any]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"escapade.plot needs matplotlib, which is not installed: {_INSTALL}") from exc
    return plt


def _axes(ax: Axes | None) -> Axes:
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _per_path(result: Any) -> SimulationResult:
    if isinstance(result, SummaryResult):
        raise TypeError("a SummaryResult (keep='summary') has no per-path exit times; simulate with keep='paths'")
    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be an escapade SimulationResult, got {type(result).__name__}")
    return result


def _recorded(result: Any) -> SimulationResult | SummaryResult:
    """`result`, a run whose recorded trajectories a plot draws (either kind keeps them)."""
    if not isinstance(result, (SimulationResult, SummaryResult)):
        raise TypeError(f"result must be an escapade SimulationResult or SummaryResult, got {type(result).__name__}")
    return result


def _limits(name: str, value: Any) -> tuple[float, float]:
    a = real_array(name, value)
    if a.shape != (2,) or not np.all(np.isfinite(a)) or not a[0] < a[1]:
        raise ValueError(f"{name} must be (low, high) with finite low < high, got {value!r}")
    return float(a[0]), float(a[1])


def _coordinate_label(k: int) -> str:
    return f"$x_{{{k}}}$"


def _format(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------------------------------------------
# landscape


def _slice_region(
    ax: Axes, region: Region, point: np.ndarray, i: int, j: int, xlim: tuple[float, float],
    ylim: tuple[float, float], color: str,
) -> Any:
    """Draw the boundary of `region` in the plane through `point` spanned by coordinates i, j; None if the
    boundary does not meet that plane."""
    if isinstance(region, Outside):  # the boundary of the region it is the complement of
        artist = _slice_region(ax, region.region, point, i, j, xlim, ylim, color)
        if artist is not None:
            artist.set_label("~" + artist.get_label())
        return artist
    if isinstance(region, (Intersection, Union)):  # each member's boundary
        artists = [_slice_region(ax, r, point, i, j, xlim, ylim, color) for r in region.regions]
        return next((a for a in artists if a is not None), None)
    plt = _pyplot()
    rest = np.ones(point.shape[0], dtype=bool)
    rest[[i, j]] = False
    style: dict[str, Any] = dict(color=color, linestyle="--", linewidth=1.5, label=type(region).__name__)
    if isinstance(region, HalfSpace):
        n = region.normal
        a, b = float(n[i]), float(n[j])
        c = region.offset - float(n[rest] @ point[rest])  # a x + b y = c in the plane
        if a == 0 and b == 0:
            return None
        p0 = np.array([a, b]) * c / (a * a + b * b)
        return ax.axline(tuple(p0), tuple(p0 + np.array([-b, a])), **style)
    if isinstance(region, Ball):
        h2 = region.radius**2 - float(np.sum((point[rest] - region.center[rest]) ** 2))
        if h2 <= 0:
            return None
        circle = plt.Circle((region.center[i], region.center[j]), math.sqrt(h2), fill=False, **style)
        ax.add_patch(circle)
        return circle
    if isinstance(region, Ellipsoid):
        # (v - v0)^T A_ij (v - v0) < h in the plane: v = (x_i, x_j) - center, w the other coordinates' offsets
        A, w = region.matrix, point[rest] - region.center[rest]
        ij, others = np.array([i, j]), np.flatnonzero(rest)
        A2, cross = A[np.ix_(ij, ij)], A[np.ix_(ij, others)] @ w
        v0 = -np.linalg.solve(A2, cross)
        h = 1.0 - float(w @ A[np.ix_(others, others)] @ w) + float(v0 @ A2 @ v0)
        if h <= 0:
            return None
        lam, vec = np.linalg.eigh(A2 / h)
        xy = (region.center[i] + v0[0], region.center[j] + v0[1])
        from matplotlib.patches import Ellipse as EllipsePatch

        patch = EllipsePatch(xy, 2 / math.sqrt(lam[0]), 2 / math.sqrt(lam[1]),
                                   angle=math.degrees(math.atan2(vec[1, 0], vec[0, 0])), fill=False, **style)
        ax.add_patch(patch)
        return patch
    if isinstance(region, Box):
        if not np.all((region.low[rest] <= point[rest]) & (point[rest] <= region.high[rest])):
            return None
        span_x, span_y = xlim[1] - xlim[0], ylim[1] - ylim[0]  # infinite sides are drawn beyond the view
        x0, x1 = max(region.low[i], xlim[0] - span_x), min(region.high[i], xlim[1] + span_x)
        y0, y1 = max(region.low[j], ylim[0] - span_y), min(region.high[j], ylim[1] + span_y)
        if not (x0 < x1 and y0 < y1):
            return None
        rect = plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, **style)
        ax.add_patch(rect)
        return rect
    raise TypeError(f"regions must be escapade HalfSpace, Ball, Ellipsoid, Box, Outside, Intersection or Union "
                    f"objects, "
                    f"got {type(region).__name__}")


def landscape(
    landscape: Landscape,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    ax: Axes | None = None,
    levels: int | Sequence[float] = 30,
    resolution: int = 200,
    point: ArrayLike | None = None,
    dims: tuple[int, int] = (0, 1),
    result: SimulationResult | SummaryResult | None = None,
    regions: Region | Sequence[Region] = (),
    cmap: str = "viridis",
) -> PlotResult:
    """Filled contours of a landscape on a 2-D grid, with recorded trajectories and region boundaries.

    Parameters
    ----------
    landscape : Landscape
        Of dimension d >= 2.
    xlim, ylim : (low, high)
        The ranges of the coordinates ``dims[0]`` (horizontal) and ``dims[1]`` (vertical).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    levels : int or sequence of float
        Contour levels, as in `matplotlib.axes.Axes.contourf`.
    resolution : int
        Grid points per axis.
    point : (d,) array, optional
        For d > 2, the plane drawn is the one through `point` spanned by the coordinates `dims`; the other
        coordinates are held at point's values. Default: the origin.
    dims : (int, int)
        The two coordinates shown.
    result : SimulationResult or SummaryResult, optional
        Its recorded trajectories (``simulate(..., record_paths=k)``) are drawn as lines, projected on `dims`,
        with a circle at each start and a cross at each end.
    regions : Region or sequence of Region
        HalfSpace, Ball, Ellipsoid, Box or Outside regions whose boundaries are drawn (dashed, one color each)
        where they meet the plane: a line, a circle, an ellipse, a rectangle (an Outside: its region's boundary).
    cmap : str
        Colormap of the contours.

    Returns
    -------
    PlotResult
        artists: ``"contour"``, ``"colorbar"``, ``"trajectories"`` (one Line2D per recorded trajectory),
        ``"starts"``, ``"ends"`` (scatter collections, or None without trajectories), ``"regions"`` (one artist
        per region, None for a region whose boundary misses the plane). info: ``"x"``, ``"y"`` (the grid) and
        ``"values"`` (f on it, shape (len(y), len(x))).
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be an escapade Landscape, got {type(landscape).__name__}")
    d = landscape.dim
    if d < 2:
        raise ValueError("a contour plot needs a landscape of dimension >= 2; this one is 1-D")
    dims_t = tuple(dims)
    if len(dims_t) != 2 or not all(isinstance(k, (int, np.integer)) and 0 <= k < d for k in dims_t):
        raise ValueError(f"dims must be two coordinates in 0..{d - 1}, got {dims!r}")
    i, j = int(dims_t[0]), int(dims_t[1])
    if i == j:
        raise ValueError(f"dims must be two different coordinates, got {dims!r}")
    x_lim, y_lim = _limits("xlim", xlim), _limits("ylim", ylim)
    if isinstance(resolution, (bool, np.bool_)) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    base = np.zeros(d) if point is None else real_array("point", point)
    if base.shape != (d,) or not np.all(np.isfinite(base)):
        raise ValueError(f"point must be {d} finite numbers (the landscape's dimension), got {point!r}")
    if isinstance(regions, Region):
        regions = (regions,)
    for region in regions:
        if isinstance(region, Region) and region.dim != d:
            raise ValueError(f"regions must have dimension {d} (the landscape's), got {region!r}")

    xs = np.linspace(x_lim[0], x_lim[1], int(resolution))
    ys = np.linspace(y_lim[0], y_lim[1], int(resolution))
    X, Y = np.meshgrid(xs, ys)
    pts = np.tile(base, (X.size, 1))
    pts[:, i], pts[:, j] = X.ravel(), Y.ravel()
    Z = np.asarray(landscape.value(pts), dtype=np.float64).reshape(X.shape)

    ax = _axes(ax)
    contour = ax.contourf(X, Y, Z, levels=levels, cmap=cmap)
    colorbar = ax.figure.colorbar(contour, ax=ax, label="f(x)")

    lines: list[Any] = []
    starts = ends = None
    trajectories = [] if result is None else list(_recorded(result).trajectories)
    if trajectories:
        first, last = [], []
        for k, (_, x) in enumerate(trajectories):
            x = np.asarray(x)
            if x.ndim != 2 or x.shape[1] != d:
                raise ValueError(f"result's trajectory {k} has shape {x.shape}; expected (steps, {d})")
            (line,) = ax.plot(x[:, i], x[:, j], color=f"C{k % 10}", linewidth=1.0, alpha=0.9,
                              label="trajectories" if k == 0 else None)
            lines.append(line)
            first.append(x[0, [i, j]])
            last.append(x[-1, [i, j]])
        f, e = np.array(first), np.array(last)
        starts = ax.scatter(f[:, 0], f[:, 1], marker="o", s=36, facecolor="white", edgecolor="black", zorder=3,
                            label="start")
        ends = ax.scatter(e[:, 0], e[:, 1], marker="X", s=48, facecolor="red", edgecolor="black", zorder=3,
                          label="end")

    region_artists = [_slice_region(ax, r, base, i, j, x_lim, y_lim, _REGION_COLORS[k % len(_REGION_COLORS)])
                      for k, r in enumerate(regions)]

    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.set_xlabel(_coordinate_label(i))
    ax.set_ylabel(_coordinate_label(j))
    if d > 2:
        others = [k for k in range(d) if k not in (i, j)]
        held = ", ".join(f"{_coordinate_label(k)} = {base[k]:.3g}" for k in others[:4])
        ax.set_title(f"slice at {held}" + (", ..." if len(others) > 4 else ""))
    if lines or any(a is not None for a in region_artists):
        ax.legend(loc="upper right", fontsize="small", facecolor="0.7", framealpha=0.9)  # white boundaries show
    return PlotResult(
        ax,
        {"contour": contour, "colorbar": colorbar, "trajectories": lines, "starts": starts, "ends": ends,
         "regions": region_artists},
        {"x": xs, "y": ys, "values": Z},
    )


# --------------------------------------------------------------------------------------------------------------
# exit times and survival


def exit_times(
    result: SimulationResult,
    *,
    ax: Axes | None = None,
    bins: int | Sequence[float] | str = "auto",
    log: bool = False,
) -> PlotResult:
    """Histogram (a density) of the exit times of the paths that stopped, against the exponential law.

    The vertical line marks the mean exit time of the stopped paths, and the curve is the exponential density
    with that mean (the law of exits from a deep well). With censored paths the histogram and the mean are
    conditional on stopping before the cap (the mean is then biased low; see `Summary`). The counts of censored
    and diverged paths are given in the legend's title.

    Parameters
    ----------
    result : SimulationResult
        A run with per-path arrays.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    bins : int, sequence or str
        As in `numpy.histogram`.
    log : bool
        Logarithmic density axis, on which the exponential density is a straight line.

    Returns
    -------
    PlotResult
        artists: ``"hist"`` (the bar patches), ``"mean"`` (the vertical line), ``"exponential"`` (the curve, or
        None when the mean is 0). info: ``"mean"``, ``"density"``, ``"edges"``, ``"counts"`` (paths by status).
    """
    res = _per_path(result)
    times = res.exit_time[res.stopped]
    counts = res.summary().counts
    if times.size == 0:
        raise ValueError(f"no path stopped, so there is no exit time to plot (paths by status: {counts})")
    ax = _axes(ax)
    density, edges, patches = ax.hist(times, bins=bins, density=True, color="C0", alpha=0.6,
                                      label="stopped paths")
    mean = float(times.mean())
    mean_line = ax.axvline(mean, color="C3", linestyle="--", label=f"mean {mean:.4g}")
    curve = None
    if mean > 0:
        t = np.linspace(0.0, float(edges[-1]), 400)
        (curve,) = ax.plot(t, np.exp(-t / mean) / mean, color="black", linewidth=1.5,
                           label="exponential, same mean")
    if log:
        ax.set_yscale("log")
    ax.set_xlim(left=0.0)
    ax.set_xlabel("exit time")
    ax.set_ylabel("density")
    title = (f"{res.n_paths} paths: {times.size} stopped, {counts['CENSORED']} censored, "
             f"{counts['DIVERGED']} diverged")
    ax.legend(title=title, fontsize="small", title_fontsize="small")
    return PlotResult(ax, {"hist": patches, "mean": mean_line, "exponential": curve},
                      {"mean": mean, "density": density, "edges": edges, "counts": counts})


def _z(confidence: bool | float) -> tuple[float, float] | None:
    """(level, normal quantile) of a two-sided pointwise band, or None for no band."""
    if confidence is False or confidence is None:
        return None
    level = 0.95 if confidence is True else as_float("confidence", confidence)
    if not 0 < level < 1:
        raise ValueError(f"confidence must be True, False or a level in (0, 1), got {confidence!r}")
    return level, statistics.NormalDist().inv_cdf(0.5 + level / 2)


def survival(
    results: SimulationResult | Sequence[SimulationResult] | SweepResult,
    *,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    logy: bool = True,
    confidence: bool | float = True,
) -> PlotResult:
    """Kaplan–Meier survival curves P(exit time > t) with Greenwood confidence bands.

    Stopped paths are events, censored paths are censored at the time cap and diverged paths are left out (see
    `escapade.analysis.survival.survival_of`). Each curve is a step function that starts at 1 at t = 0 and runs
    to the last observed time (the cap, when paths were censored). A result whose paths all diverged has no curve
    (an empty one is drawn) and a RuntimeWarning says so.

    Parameters
    ----------
    results : SimulationResult, sequence of SimulationResult, or SweepResult
        One curve per result.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    labels : sequence of str, optional
        One legend label per result. Default: the grid point of each result of a SweepResult, "result k" for
        several results, none for one.
    logy : bool
        Logarithmic survival axis (exponential survival is then a straight line).
    confidence : bool or float
        Draw a pointwise band S ± z SE, clipped to [0, 1]; True is a 95% band, a float in (0, 1) the level.

    Returns
    -------
    PlotResult
        artists: ``"curves"`` (one Line2D per result) and ``"bands"`` (one PolyCollection per result, or empty).
        info: ``"kaplan_meier"``, one `KaplanMeier` (time, survival, stderr) per result.
    """
    default: list[str | None]
    if isinstance(results, SweepResult):
        runs = list(results.results)
        default = [", ".join(f"{k}={_format(v)}" for k, v in p.items()) for p in results.points]
    elif isinstance(results, (SimulationResult, SummaryResult)):
        runs = [results]
        default = [None]
    elif isinstance(results, (list, tuple)):
        runs = list(results)
        default = [f"result {k}" for k in range(len(runs))] if len(runs) > 1 else [None]
    else:
        raise TypeError(f"results must be a result, a list of results or a SweepResult, got {type(results).__name__}")
    if not runs:
        raise ValueError("results must hold at least one result")
    if isinstance(labels, str):  # list("ab") would be two labels, one per letter
        raise TypeError(f"labels must be a sequence of strings, one per result, got the string {labels!r}")
    names: list[str | None] = default if labels is None else list(labels)
    if len(names) != len(runs):
        raise ValueError(f"labels must have one entry per result: {len(runs)} results, {len(names)} labels")
    band = _z(confidence)
    curves = [survival_of(r) for r in runs]  # validates every result before drawing
    for k, (run, name) in enumerate(zip(runs, names)):
        if survival_data(run)[0].size == 0:  # nothing to draw, which an empty axis would not say
            what = f"result {name!r}" if name is not None else f"result {k}" if len(runs) > 1 else "the result"
            warnings.warn(f"survival: {what} has no curve: none of its paths EXITED, HIT or was censored (all "
                          f"{run.n_paths} DIVERGED, and diverged paths are left out); take a smaller step or a stop "
                          "region that ends the paths before they diverge", RuntimeWarning, stacklevel=2)

    ax = _axes(ax)
    lines, fills = [], []
    for k, (run, km, name) in enumerate(zip(runs, curves, names)):
        times, _ = survival_data(run)
        t_end = float(times.max()) if times.size else 0.0
        x = np.concatenate([[0.0], km.time])
        y = np.concatenate([[1.0], km.survival])
        se = np.concatenate([[0.0], km.stderr])
        if t_end > x[-1]:
            x, y, se = np.append(x, t_end), np.append(y, y[-1]), np.append(se, se[-1])
        (line,) = ax.step(x, y, where="post", color=f"C{k % 10}", linewidth=1.5, label=name)
        lines.append(line)
        if band is not None:
            level, z = band
            fills.append(ax.fill_between(x, np.clip(y - z * se, 0.0, 1.0), np.clip(y + z * se, 0.0, 1.0),
                                         step="post", color=line.get_color(), alpha=0.2, linewidth=0,
                                         label=f"{100 * level:.3g}% band (Greenwood)" if k == len(runs) - 1 else None))
    if logy:
        ax.set_yscale("log")
    ax.set_xlim(left=0.0)
    ax.set_xlabel("time t")
    ax.set_ylabel("survival P(exit time > t)")
    if any(n is not None for n in names) or fills:
        ax.legend(fontsize="small")
    return PlotResult(ax, {"curves": lines, "bands": fills}, {"kaplan_meier": curves})


# --------------------------------------------------------------------------------------------------------------
# Arrhenius law


def _fit_arrhenius(x: np.ndarray, log_mean: np.ndarray, sigma: np.ndarray | None) -> dict[str, Any]:
    """Least squares of log(mean) = log(prefactor) + barrier * x, weighted by 1 / sigma^2 when given (then the
    parameter errors follow from sigma; without it, from the scatter of the residuals); see
    `escapade.analysis.arrhenius_fit`."""
    mean = np.exp(log_mean)
    fit = arrhenius_fit(x, mean, None if sigma is None else sigma * mean, scale="inverse")
    return {
        "barrier": fit.barrier,
        "prefactor": fit.prefactor,
        "barrier_stderr": fit.barrier_stderr,
        "prefactor_stderr": fit.prefactor * fit.log_prefactor_stderr,
        "barrier_ci": fit.barrier_ci,
        "prefactor_ci": fit.prefactor_ci,
    }


def arrhenius(
    noise: ArrayLike,
    mean: ArrayLike,
    stderr: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
    barrier: float | None = None,
    prefactor: float | None = None,
    fit: bool = True,
    noise_label: str = "T",
    x: str = "temperature",
) -> PlotResult:
    """Mean exit time against the Arrhenius abscissa (1 / T by default) on a log axis, where the Arrhenius law
    mean = prefactor * exp(barrier * abscissa) is a straight line.

    Parameters
    ----------
    noise : (n,) positive
        The noise level of each point, read as `x` says (default a temperature T, as in
        `Langevin(temperature=T)`).
    mean : (n,) positive
        The mean exit time at each noise level.
    stderr : (n,) positive, optional
        Standard errors of the means, drawn as error bars and used as fit weights (log(mean) has standard error
        stderr / mean).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    barrier, prefactor : float, optional
        The theoretical law to draw. With `barrier` alone, the prefactor is the one that best matches the data
        with that barrier (a weighted mean of log(mean) - barrier / T).
    fit : bool
        Fit log(mean) = log(prefactor) + barrier / T by least squares (weighted when `stderr` is given) and draw
        it; needs at least two distinct noise levels.
    noise_label : str
        Name of the noise in the axis label and legend.
    x : str
        What `noise` holds, as in `escapade.analysis.arrhenius_fit`: "temperature" (abscissa 1 / noise), "eps"
        (1 / noise^2), "inv_eps2" or "inverse" (the noise itself, e.g. B / eta).

    Returns
    -------
    PlotResult
        artists: ``"data"`` (the errorbar container), ``"fit"``, ``"theory"`` (lines, or None). info (when
        fitted): ``"barrier"``, ``"prefactor"``, ``"barrier_stderr"``, ``"prefactor_stderr"`` and the 95%
        intervals ``"barrier_ci"``, ``"prefactor_ci"`` (`escapade.analysis.arrhenius_fit`); with a theory line,
        ``"theory_prefactor"``. Without `stderr` and with only two points the standard errors are NaN.
    """
    level, m, se = check_series(noise, mean, stderr)
    for name, value in (("barrier", barrier), ("prefactor", prefactor)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if prefactor is not None and barrier is None:
        raise ValueError("prefactor needs a barrier: give barrier= to draw the theoretical law")
    if prefactor is not None and not prefactor > 0:
        raise ValueError(f"prefactor must be positive, got {prefactor!r}")
    u = abscissa(x, None, level)
    xlabel = {"temperature": f"1 / {noise_label}", "eps": f"1 / {noise_label}²"}.get(x, noise_label)
    sigma = None if se is None else se / m
    if fit and np.unique(u).size < 2:
        raise ValueError("fitting the Arrhenius law needs at least two distinct noise levels; pass fit=False")

    ax = _axes(ax)
    data = ax.errorbar(u, m, yerr=se, fmt="o", color="C0", capsize=3, label="simulation")
    lo, hi = float(u.min()), float(u.max())
    pad = 0.05 * (hi - lo) if hi > lo else 0.05 * hi
    xx = np.linspace(lo - pad, hi + pad, 200)
    info: dict[str, Any] = {}
    fit_line = theory_line = None
    if fit:
        info.update(_fit_arrhenius(u, np.log(m), sigma))
        err = f" ± {info['barrier_stderr']:.2g}" if math.isfinite(info["barrier_stderr"]) else ""
        (fit_line,) = ax.plot(xx, info["prefactor"] * np.exp(info["barrier"] * xx), color="C1",
                              label=f"fit: barrier {info['barrier']:.4g}{err}, prefactor {info['prefactor']:.3g}")
    if barrier is not None:
        if prefactor is None:
            w = np.ones_like(u) if sigma is None else 1.0 / sigma**2
            prefactor = math.exp(float(np.sum(w * (np.log(m) - barrier * u)) / np.sum(w)))
        prefactor = float(prefactor)
        info["theory_prefactor"] = prefactor
        law = {"temperature": f"{barrier:.4g} / {noise_label}",
               "eps": f"{barrier:.4g} / {noise_label}²"}.get(x, f"{barrier:.4g} {noise_label}")
        (theory_line,) = ax.plot(xx, prefactor * np.exp(barrier * xx), color="black", linestyle="--",
                                 label=f"theory: {prefactor:.3g} exp({law})")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean exit time")
    ax.legend(fontsize="small")
    return PlotResult(ax, {"data": data, "fit": fit_line, "theory": theory_line}, info)


def _varying(sweep_result: Any, keys: Sequence[str]) -> SweepResult:
    """Check that `keys` are grid keys of the sweep and that no other key takes more than one value."""
    if not isinstance(sweep_result, SweepResult):
        raise TypeError(f"sweep_result must be an escapade SweepResult, got {type(sweep_result).__name__}")
    grid = sweep_result.grid
    for key in keys:
        if key not in grid:
            raise ValueError(f"{key!r} is not a key of the sweep's grid {list(grid)}")
    others = [k for k, v in grid.items() if k not in keys and len(v) > 1]
    if others:
        raise ValueError(f"the sweep also varies {others}: plot a sweep over {list(keys)} only (the other keys "
                         "with one value each)")
    return sweep_result


def arrhenius_sweep(
    sweep_result: SweepResult,
    key: str,
    *,
    ax: Axes | None = None,
    barrier: float | None = None,
    prefactor: float | None = None,
    fit: bool = True,
    noise_label: str | None = None,
    x: str | None = None,
    estimator: str = "mean",
) -> PlotResult:
    """`arrhenius` for a sweep over the noise level: mean exit time (with its standard error) against the Arrhenius
    abscissa, with the fit of `escapade.analysis.arrhenius_fit_sweep`.

    Parameters
    ----------
    sweep_result : SweepResult
        A sweep whose grid varies the noise level under `key` only.
    key : str
        The grid key of the noise level, e.g. ``"dynamics.temperature"``.
    ax, barrier, prefactor, fit : see `arrhenius`.
    noise_label : str, optional
        Default "T" for a temperature key, else the key.
    x : str, optional
        What the key's values are, as in `escapade.analysis.arrhenius_fit_sweep` (default by the key's name:
        "temperature" for temperature or lr, "eps" for eps, "inverse" for batch_size; other keys need x=).
    estimator : str
        "mean" (the mean exit time by the censoring policy, `escapade.analysis.estimates`) or "exponential" (the
        censoring-aware exponential MLE), as in `arrhenius_fit_sweep`. With "mean", a point where paths did not
        stop by the cap has no identified mean: it is drawn with a hollow marker at its restricted mean
        E[min(tau, cap)], a lower bound, without an error bar, and left out of the fit (`arrhenius_fit_sweep`
        refuses such a sweep).

    Returns
    -------
    PlotResult
        As `arrhenius`; artists also has ``"lower_bounds"`` (the hollow markers, or None). info also has
        ``"excluded"``: the grid points left out because they have no mean with a standard error (fewer than two
        paths), and ``"lower_bounds"``: the grid points drawn hollow.
    """
    sweep_result = _varying(sweep_result, [key])
    kind = noise_kind(key) if x is None else x
    noise, means, errors, excluded, bounds = sweep_series(sweep_result, key, estimator)
    censored = (f"; paths did not stop by the cap at {censored_points(key, bounds)}, whose restricted means are "
                "lower bounds only (estimator='exponential' or a larger t_max)") if bounds else ""
    if not noise:
        raise ValueError(f"no grid point has a mean exit time with a standard error to plot{censored}")
    if fit and bounds and len(set(noise)) < 2:
        raise ValueError(f"fitting the Arrhenius law needs two noise levels with a mean exit time{censored}; or pass "
                         "fit=False")
    if noise_label is None:
        noise_label = "T" if key.rpartition(".")[2] == "temperature" else key
    out = arrhenius(noise, means, errors, ax=ax, barrier=barrier, prefactor=prefactor, fit=fit,
                    noise_label=noise_label, x=kind)
    hollow = None
    if bounds:
        u = abscissa(kind, None, np.array([level for level, _, _ in bounds], dtype=np.float64))
        (hollow,) = out.ax.plot(u, [m.value for _, m, _ in bounds], "o", linestyle="none", color="C0",
                                markerfacecolor="white", zorder=3, label="lower bound (censored): not fitted")
        out.ax.set_ylabel("mean exit time (hollow: censored, lower bound)")
        out.ax.legend(fontsize="small")
    out.artists["lower_bounds"] = hollow
    out.info["excluded"] = excluded
    out.info["lower_bounds"] = [point for _, _, point in bounds]
    return out


# --------------------------------------------------------------------------------------------------------------
# sweeps and trajectories


def success_rate(
    sweep_result: SweepResult,
    x: str,
    y: str,
    *,
    status: Status | str = Status.HIT,
    ax: Axes | None = None,
    annotate: bool = True,
) -> PlotResult:
    """Heat map of the fraction of paths that ended with `status`, over two grid keys of a sweep.

    Parameters
    ----------
    sweep_result : SweepResult
        A sweep whose grid varies `x` and `y` only (other keys may have a single value).
    x, y : str
        Grid keys on the horizontal and vertical axes; their values are shown in grid order, one cell each.
    status : Status or str
        The outcome counted (default HIT: the fraction that reached the target). DIVERGED paths are left out of
        the fraction (the censoring policy, as `escapade.analysis.success_rate`), except for status DIVERGED itself.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    annotate : bool
        Write the fraction in each cell.

    Returns
    -------
    PlotResult
        artists: ``"image"``, ``"colorbar"``, ``"texts"``. info: ``"fraction"`` of shape (len(grid[y]),
        len(grid[x])) (NaN where every path diverged), ``"low"``, ``"high"`` (its 95% Wilson intervals),
        ``"diverged"`` (the DIVERGED paths left out of each cell's fraction; 0 for status DIVERGED), ``"x"``,
        ``"y"`` (the grid values). The colour bar's label says when paths were left out.
    """
    if x == y:
        raise ValueError(f"x and y must be different grid keys, got {x!r} twice")
    sweep_result = _varying(sweep_result, [x, y])
    st = as_status(status)
    grid = sweep_result.grid
    keys = list(grid)
    fraction = np.full((len(grid[y]), len(grid[x])), np.nan)
    low, high = np.full_like(fraction, np.nan), np.full_like(fraction, np.nan)
    diverged = np.zeros(fraction.shape, dtype=np.int64)
    # points are in the order of the cartesian product of the grid's values
    for index, res in zip(itertools.product(*(range(len(v)) for v in grid.values())), sweep_result.results):
        where = dict(zip(keys, index))
        cell = where[y], where[x]
        left_out = 0 if st == Status.DIVERGED else res.count(Status.DIVERGED)
        diverged[cell] = left_out
        if res.n_paths > left_out:  # else no path to count
            rate = rate_of(res, status=st)
            fraction[cell], low[cell], high[cell] = rate.rate, rate.low, rate.high

    ax = _axes(ax)
    image = ax.imshow(fraction, origin="lower", vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto",
                      interpolation="nearest")
    left = " (diverged paths left out)" if diverged.any() else ""
    colorbar = ax.figure.colorbar(image, ax=ax, label=f"fraction {st.name}{left}")
    ax.set_xticks(np.arange(len(grid[x])))
    ax.set_xticklabels([_format(v) for v in grid[x]])
    ax.set_yticks(np.arange(len(grid[y])))
    ax.set_yticklabels([_format(v) for v in grid[y]])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    texts = []
    if annotate:
        for (r, c), value in np.ndenumerate(fraction):
            texts.append(ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize="small",
                                 color="black" if value > 0.6 else "white"))
    return PlotResult(ax, {"image": image, "colorbar": colorbar, "texts": texts},
                      {"fraction": fraction, "low": low, "high": high, "diverged": diverged, "x": list(grid[x]),
                       "y": list(grid[y])})


def distance(
    result: SimulationResult | SummaryResult,
    reference: ArrayLike,
    *,
    ax: Axes | None = None,
    max_paths: int = 20,
    step: bool = False,
) -> PlotResult:
    """Distance |x(t) - reference| of the recorded trajectories against time, on a log axis.

    A path leaving a saddle or a minimum along an unstable direction shows as a straight line (exponential
    growth) once its distance exceeds the noise level.

    Parameters
    ----------
    result : SimulationResult or SummaryResult
        A run with recorded trajectories (``simulate(..., record_paths=k)``).
    reference : (d,) array
        The point distances are measured from, e.g. the saddle or the minimum.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    max_paths : int
        Draw the first `max_paths` recorded trajectories at most.
    step : bool
        Against the step number instead of time.

    Returns
    -------
    PlotResult
        artists: ``"lines"``, one Line2D per trajectory drawn. info: ``"n_recorded"``.
    """
    trajectories = list(_recorded(result).trajectories)
    if not trajectories:
        raise ValueError("the result has no recorded trajectories: simulate with record_paths > 0")
    if isinstance(max_paths, (bool, np.bool_)) or not isinstance(max_paths, (int, np.integer)) or max_paths < 1:
        raise ValueError(f"max_paths must be an integer >= 1, got {max_paths!r}")
    d = np.asarray(trajectories[0][1]).shape[1]
    ref = real_array("reference", reference)
    if ref.shape != (d,) or not np.all(np.isfinite(ref)):
        raise ValueError(f"reference must be {d} finite numbers (the trajectories' dimension), got {reference!r}")
    dynamics = result.params["dynamics"]
    if step and dynamics.get("method") == "dp54":  # adaptive steps: dt is only the first one
        raise ValueError("step=True needs a fixed time step, but this run's dynamics takes adaptive steps "
                         "(ConstrainedFlow(method='dp54')): plot against time (step=False)")
    dt = float(dynamics["dt"])

    ax = _axes(ax)
    lines = []
    for k, (t, xs) in enumerate(trajectories[: int(max_paths)]):
        dist = np.linalg.norm(np.asarray(xs) - ref, axis=1)
        horizontal = np.rint(np.asarray(t) / dt) if step else np.asarray(t)
        (line,) = ax.plot(horizontal, dist, color=f"C{k % 10}", linewidth=1.0, alpha=0.8)
        lines.append(line)
    ax.set_yscale("log")
    ax.set_xlabel("step" if step else "time t")
    ax.set_ylabel("distance |x(t) - reference|")
    ax.set_title(f"{len(lines)} of {len(trajectories)} recorded paths", fontsize="medium")
    return PlotResult(ax, {"lines": lines}, {"n_recorded": len(trajectories)})


def mean_times(
    table: Any,
    *,
    x: str = "dim",
    group: str = "method",
    ax: Axes | None = None,
    logx: bool = True,
) -> PlotResult:
    """Mean exit (or hitting) time ± SE against the column `x` of a tidy table such as
    `experiments.saddle_escape_times` returns, one line per value of `group`, on a log time axis.

    The table needs the columns `x`, `group`, ``mean``, ``stderr``, ``censored`` and ``mean_lower_bound``. Rows
    with censored paths are drawn with hollow markers at ``mean_lower_bound`` (the censored paths counted at the
    cap: a lower bound of the mean).

    Returns
    -------
    PlotResult
        artists: ``"lines"``, group value -> the errorbar container. info: ``"censored_rows"``, the number of
        rows drawn hollow.
    """
    if not hasattr(table, "columns"):
        raise TypeError(f"table must be a pandas DataFrame (saddle_escape_times' table), got {type(table).__name__}")
    for column in (x, group, "mean", "stderr", "censored", "mean_lower_bound"):
        if column not in table:
            raise ValueError(f"table must have a column {column!r}, got columns {list(table.columns)}")
    ax = _axes(ax)
    lines: dict[Any, Any] = {}
    hollow = 0
    for k, (name, rows) in enumerate(table.groupby(group, sort=False)):
        rows = rows.sort_values(x)
        color = f"C{k % 10}"
        censored = rows["censored"].to_numpy() > 0
        y = np.where(censored, rows["mean_lower_bound"], rows["mean"])
        err = np.where(censored, 0.0, np.nan_to_num(rows["stderr"].to_numpy()))
        lines[name] = ax.errorbar(rows[x], y, yerr=err, color=color, capsize=3, label=str(name))
        xs = rows[x].to_numpy()
        ax.plot(xs[~censored], y[~censored], "o", color=color)
        if censored.any():
            ax.plot(xs[censored], y[censored], "o", color=color, markerfacecolor="white", zorder=3)
            hollow += int(censored.sum())
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel("mean time (iterations)" + (" (hollow: censored, lower bound)" if hollow else ""))
    ax.legend(fontsize="small")
    return PlotResult(ax, {"lines": lines}, {"censored_rows": hollow})
