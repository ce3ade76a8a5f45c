"""Argument checks shared by the public API: TypeError for the wrong kind of value, ValueError for a bad value.

Every message names the parameter and shows the value, so a user sees at once which argument to fix.
"""

from __future__ import annotations

import datetime
import math
import numbers
from typing import Any

import numpy as np

# The largest number of coordinates a `dim=` argument may give: the core counts coordinates in a C int, and one
# state of 2**24 coordinates already takes 128 MiB (a block of lanes holds several per lane).
MAX_DIM = 2**24
# log of the largest double: exp of more overflows.
LOG_MAX = math.log(float(np.finfo(float).max))


def as_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_progress(value: Any) -> bool | None:
    """The `progress=` argument: True, False or None (None: a bar when stderr is a terminal)."""
    if value is not None and not isinstance(value, (bool, np.bool_)):  # an array's truth value is ambiguous
        raise TypeError(f"progress must be True, False or None (None: a bar when stderr is a terminal), got {value!r}")
    return None if value is None else bool(value)


def as_float(name: str, value: Any, *, positive: bool = False, nonnegative: bool = False, finite: bool = True) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond the largest double (a TOML file may write 400 digits)
        raise ValueError(f"{name} must be finite, got an integer too large for a float") from None
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


# The confidence levels accepted: nearer 0 the quantile z rounds to 0 (intervals divide by it), nearer 1 it grows
# to infinity; 1 - 1e-12 is a 7-sigma interval.
MIN_CONFIDENCE, MAX_CONFIDENCE = 1e-12, 1 - 1e-12


def check_confidence(confidence: Any) -> float:
    """`confidence` as a float in [MIN_CONFIDENCE, MAX_CONFIDENCE]; TypeError/ValueError naming it otherwise."""
    c = as_float("confidence", confidence, finite=False)
    if not MIN_CONFIDENCE <= c <= MAX_CONFIDENCE:
        raise ValueError(f"confidence must be in (0, 1), at least {MIN_CONFIDENCE:g} and at most 1 - "
                         f"{1 - MAX_CONFIDENCE:.0e}, got confidence={confidence!r}")
    return c


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _non_finite(name: str, a: np.ndarray) -> str:
    """The array in full when it is small, else the count of NaN/inf entries and the first few of them."""
    if a.size <= 20:
        return str(a.tolist())
    where = np.argwhere(~np.isfinite(a))
    first = ", ".join(f"{name}[{', '.join(str(int(i)) for i in w)}] = {a[tuple(w)]}" for w in where[:3])
    rows = f" in {len(np.unique(where[:, 0]))} of its {a.shape[0]} rows" if a.ndim == 2 else ""
    return f"{len(where)} NaN or inf entries{rows} (shape {a.shape}), first: {first}"


# What numpy converts to a float without complaint but is not a real number: text, booleans, dates, durations, and
# None (NaN in a float array, so that a missing value read as "must be finite, got nan").
_NOT_REAL = (str, bytes, bool, np.bool_, np.datetime64, np.timedelta64, datetime.date, datetime.timedelta,
             type(None))


def refuse_masked(name: str, value: Any) -> None:
    """TypeError naming `name` for a numpy masked array with a masked entry: numpy converts it to its data, the
    values under the mask included, without a word. One with nothing masked is its data."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):
        masked = int(np.count_nonzero(np.ma.getmaskarray(value)))
        raise TypeError(f"{name} must not be a masked array with masked entries, got {masked} of {value.size} "
                        f"entries masked: {_short(value.tolist())} (None where masked); numpy would use the values "
                        "under the mask: pass the entries meant, or fill them (.filled(value))")


def real_array(name: str, value: Any) -> np.ndarray:
    """A C-ordered float64 copy of `value`, of any shape; TypeError naming `name` for what is not real numbers."""
    refuse_masked(name, value)
    try:
        raw = np.asarray(value)
        if raw.dtype.kind in "bmMUSV":  # would convert without complaint: True to 1, a date to its day number, "1e3"
            raise TypeError(f"{name} must be an array of real numbers, got {raw.dtype} values: {_short(value)}")
        # an object array (a text column) or a list or tuple whose booleans numpy made numbers ([True, 2.5])
        listed = isinstance(value, (list, tuple))
        items = raw if raw.dtype.kind == "O" else np.asarray(value, dtype=object) if listed else None
        if items is not None and any(isinstance(v, _NOT_REAL) for v in items.flat):
            raise TypeError(f"{name} must be an array of real numbers, got {_short(value)}")
        complex_values = raw.dtype.kind == "c"
        a = np.array(raw, dtype=np.float64, order="C") if not complex_values else raw
    except OverflowError:  # an integer beyond the largest double
        raise ValueError(f"{name} must be finite, got an integer too large for a float") from None
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers, got {_short(value)}") from exc
    if complex_values:  # converting would drop the imaginary parts
        raise TypeError(f"{name} must be an array of real numbers, got complex values ({raw.dtype}): pass the real "
                        "part (.real) if that is what is meant")
    return a


def as_array(name: str, value: Any, *, ndim: int | tuple[int, ...], finite: bool = True) -> np.ndarray:
    """A C-ordered float64 copy of `value` with the given number of dimensions."""
    a = real_array(name, value)
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in ndims:
        want = " or ".join(f"{n}-dimensional" for n in ndims)
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {_non_finite(name, a)}")
    a.setflags(write=False)
    return a


def as_times(name: str, value: Any, n: int) -> np.ndarray:
    """Times for n points: one time, or one per point; a float64 array of n (TypeError/ValueError naming `name`)."""
    t = real_array(name, value)
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be finite, got {_non_finite(name, t)}")
    try:
        return np.broadcast_to(t, (n,)).copy()
    except ValueError:
        raise ValueError(f"{name} must be one time or one per point ({n}), got shape {t.shape}") from None


def as_square_matrix(name: str, value: Any, *, symmetric: bool = False) -> np.ndarray:
    a = as_array(name, value, ndim=2)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {a.shape}")
    if symmetric:
        # The core's rule: |a - a^T| <= 1e-12 max|a|. What passes is symmetrized, so the core sees it exactly.
        if np.abs(a - a.T).max() > 1e-12 * np.abs(a).max():
            raise ValueError(f"{name} must be symmetric, got {a.tolist()}")
        with np.errstate(over="ignore"):
            symmetric_a = (a + a.T) / 2
        if not np.isfinite(symmetric_a).all():  # entries near the largest double: halve first (no overflow)
            symmetric_a = a / 2 + a.T / 2
        a = symmetric_a
        a.setflags(write=False)
    return a


def check_dim(name: str, a: np.ndarray, dim: int, what: str) -> None:
    if a.shape[-1] != dim:
        raise ValueError(f"{name} must have {dim} components ({what}), got shape {a.shape}")


def as_bounds(low: Any, high: Any, *, finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Corner vectors of a box: same length, low < high in every coordinate (NaN never allowed)."""
    lo = as_array("low", low, ndim=1, finite=finite)
    hi = as_array("high", high, ndim=1, finite=finite)
    check_dim("high", hi, lo.shape[0], "the length of low")
    if not np.all(lo < hi):  # also false for NaN
        raise ValueError(f"low must be below high in every coordinate, got low={lo.tolist()}, high={hi.tolist()}")
    return lo, hi
