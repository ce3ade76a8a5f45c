"""Small real data sets for the data-driven finite sums (`LeastSquares`, `MLP`), read from scikit-learn's bundled
files (no download). scikit-learn is an optional dependency: pip install "escapade[data]"."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["load_diabetes"]


def _sklearn_datasets(what: str) -> Any:
    try:
        from sklearn import datasets
    except ImportError as exc:
        raise ImportError(f'{what} needs scikit-learn, an optional dependency: pip install "escapade[data]"') from exc
    return datasets


def _standardized(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = (a - a.mean(axis=0)) / a.std(axis=0)
    return out


def load_diabetes(*, standardize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The diabetes regression data (442 patients, 10 features, a disease-progression target) as (X, y) with
    shapes (442, 10) and (442,).

    standardize : rescale every column of X and the target y to mean 0 and standard deviation 1 (default); with
        False, X is scikit-learn's mean-centred copy (columns of unit Euclidean norm) and y the raw target.
    """
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError(f"standardize must be True or False, got standardize={standardize!r}")
    X, y = _sklearn_datasets("load_diabetes").load_diabetes(return_X_y=True)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if standardize:
        X, y = _standardized(X), _standardized(y)
    return np.ascontiguousarray(X), np.ascontiguousarray(y)
