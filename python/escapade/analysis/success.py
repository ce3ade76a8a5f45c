"""Success rates: the fraction of paths (initial points) that reached a target, with Wilson score intervals."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._settings import MAX_INDEX
from .._validate import as_array, as_int
from ..results import Status, as_status
from .estimates import normal_quantile

__all__ = ["SuccessRate", "grid_points", "success_rate", "wilson_interval"]

# The most points `grid_points` builds (its array takes 8 * d bytes per point).
MAX_SUCCESS_GRID = 10**7


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion k / n:
    (p + z^2/(2n) -+ z sqrt(p (1 - p) / n + z^2 / (4 n^2))) / (1 + z^2 / n), z the normal quantile of
    (1 + confidence) / 2. Unlike p -+ z SE it stays in [0, 1] and its coverage stays near the nominal level on
    average over p, but not at every p: at 95% it dips to about 0.84 where n p is about 0.2, whatever n (exact
    binomial coverage); `scipy.stats.binomtest(k, n).proportion_ci()` (Clopper–Pearson) never covers less."""
    n = as_int("n", n, minimum=1, maximum=MAX_INDEX)  # beyond, z^2 / n overflows converting n
    k = as_int("successes", successes, minimum=0, maximum=n)
    z = normal_quantile(confidence)  # checks confidence
    p = k / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At k = 0 and k = n one end is exactly 0 or 1 (the rounding of center -+ half would miss it slightly).
    return (0.0 if k == 0 else max(0.0, center - half)), (1.0 if k == n else min(1.0, center + half))


@dataclasses.dataclass(frozen=True)
class SuccessRate:
    """k successes out of n, the rate k / n and its Wilson interval [low, high] at `confidence`; `diverged` paths
    are left out of n (the censoring policy, `analysis.estimates`), unless the rate is that of DIVERGED itself."""

    successes: int
    n: int
    rate: float
    low: float
    high: float
    confidence: float
    diverged: int = 0

    def __str__(self) -> str:
        left_out = f", {self.diverged} diverged left out" if self.diverged else ""
        return (f"{100 * self.rate:.2f}% ({self.successes}/{self.n}{left_out}; {100 * self.confidence:g}% Wilson "
                f"[{100 * self.low:.1f}%, {100 * self.high:.1f}%])")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def success_rate(result: Any, *, status: Any = None, confidence: float = 0.95) -> SuccessRate:
    """The fraction of a result's paths that ended with `status` (default HIT: reached the target), with its
    Wilson interval. `result` is a SimulationResult or SummaryResult, or a sequence of status codes (integers,
    `Status` values). DIVERGED paths are left out of the fraction and counted (the censoring policy,
    `analysis.estimates`: P(hit) is then `quantity_of`'s hit_probability), except for status=DIVERGED itself."""
    st = Status.HIT if status is None else as_status(status)
    if hasattr(result, "count") and hasattr(result, "n_paths"):
        k, total, diverged = int(result.count(st)), int(result.n_paths), int(result.count(Status.DIVERGED))
    else:
        codes = np.asarray(result)
        if codes.dtype.kind not in "iu" or codes.ndim != 1:  # booleans are not status codes
            raise TypeError(f"result must be a SimulationResult, a SummaryResult or a 1-D sequence of integer status "
                            f"codes, got {result!r}")
        bad = (codes < 0) | (codes >= len(Status))
        if bad.any():
            raise ValueError(f"result holds {int(codes[bad][0])}, not a status code (0 to {len(Status) - 1}: "
                             f"{', '.join(s.name for s in Status)})")
        k, total = int(np.count_nonzero(codes == st)), int(codes.size)
        diverged = int(np.count_nonzero(codes == Status.DIVERGED))
    if st == Status.DIVERGED:
        diverged = 0  # the fraction of all paths that diverged
    if total - diverged < 1:
        raise ValueError(f"result has no paths{' that did not diverge' if diverged else ''} "
                         f"({total} paths, {diverged} diverged): no success rate")
    n = total - diverged
    low, high = wilson_interval(k, n, confidence)
    return SuccessRate(successes=k, n=n, rate=k / n, low=low, high=high, confidence=float(confidence),
                       diverged=diverged)


def grid_points(low: ArrayLike, high: ArrayLike, n: int | ArrayLike) -> np.ndarray:
    """A regular grid of initial points on the box [low, high], `n` points per axis (an int or one per axis),
    endpoints included: shape (prod(n), d), the last coordinate varying fastest. 17 per axis on [-4, 4]^2 gives
    the 289 points of 000's Tables I and II."""
    lo = as_array("low", low, ndim=1)
    hi = as_array("high", high, ndim=1)
    if hi.shape != lo.shape or not np.all(lo < hi):
        raise ValueError(f"low must be below high in every coordinate, got low={lo.tolist()}, high={hi.tolist()}")
    counts = np.asarray(n)
    if counts.ndim > 1 or counts.size not in (1, lo.size):
        raise ValueError(f"n must be an int or one per axis ({lo.size}), got n={n!r}")
    sizes = [as_int("n", int(c) if isinstance(c, float) and c.is_integer() else c, minimum=1,
                    maximum=MAX_SUCCESS_GRID) for c in np.broadcast_to(counts.reshape(-1), lo.shape).tolist()]
    if math.prod(sizes) > MAX_SUCCESS_GRID:  # the grid is built in memory
        raise ValueError(f"n gives {math.prod(sizes)} grid points, more than the {MAX_SUCCESS_GRID} allowed, "
                         f"got n={n!r}")
    axes = [np.linspace(a, b, c) for a, b, c in zip(lo, hi, sizes)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.ascontiguousarray(np.stack([m.ravel() for m in mesh], axis=1))
