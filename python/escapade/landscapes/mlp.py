"""A one-hidden-layer tanh network fitted by l2-regularized mean squared error (003's experiment)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _core
from .._validate import MAX_DIM, as_array, as_float, as_int, check_dim
from .finite_sum import FiniteSum, _data, _rng


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class MLP(FiniteSum):
    """A one-hidden-layer tanh network fitted by l2-regularized mean squared error (003's experiment), one term
    per sample: yhat(x) = W2 tanh(W1 x + b1) + b2 and
    f_i(theta) = |yhat(x_i) - y_i|^2 / 2 + (l2 / 2) |theta|^2, F = (1/n) sum_i f_i.

    The parameters are flattened as theta = [W1 (hidden, p) row by row, b1 (hidden), W2 (m, hidden) row by row,
    b2 (m)] for p inputs and m outputs; `unflatten` and `flatten` convert. The Hessian is exact (Gauss-Newton
    part plus the residual curvature).

    Parameters
    ----------
    X : (n, p) the inputs.
    y : (n,) or (n, m) the targets.
    hidden : the number of hidden units.
    l2 : the weight decay, >= 0 (applied to every parameter).
    """

    X: np.ndarray
    y: np.ndarray
    hidden: int
    l2: float = 1e-3

    def __init__(self, X: ArrayLike, y: ArrayLike, hidden: int, *, l2: float = 1e-3) -> None:
        X, y = _data(X, y, outputs=True)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "hidden", as_int("hidden", hidden, minimum=1, maximum=MAX_DIM))
        if self.dim > MAX_DIM:  # theta is a state of the core, which holds at most MAX_DIM coordinates
            raise ValueError(f"hidden={self.hidden} gives {self.dim} parameters, over the {MAX_DIM} a state may have: "
                             "use fewer hidden units")
        object.__setattr__(self, "l2", as_float("l2", l2, nonnegative=True))

    @property
    def n_terms(self) -> int:
        """The number of samples n."""
        return int(self.X.shape[0])

    @property
    def n_outputs(self) -> int:
        """The number of outputs m (1 for a 1-D y)."""
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    @property
    def dim(self) -> int:
        """The number of parameters, the length of theta."""
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        return h * p + h + m * h + m

    def unflatten(self, theta: ArrayLike) -> dict[str, np.ndarray]:
        """theta (dim,) as {"W1": (hidden, p), "b1": (hidden,), "W2": (m, hidden), "b2": (m,)}."""
        t = as_array("theta", theta, ndim=1)
        check_dim("theta", t, self.dim, "the number of parameters")
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        sizes = np.cumsum([h * p, h, m * h])
        W1, b1, W2, b2 = np.split(t, sizes)
        return {"W1": W1.reshape(h, p), "b1": b1, "W2": W2.reshape(m, h), "b2": b2}

    def flatten(self, W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike) -> np.ndarray:
        """The parameter vector theta of the given weights (the inverse of `unflatten`)."""
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        parts = []
        for name, value, shape in (("W1", W1, (h, p)), ("b1", b1, (h,)), ("W2", W2, (m, h)), ("b2", b2, (m,))):
            a = as_array(name, value, ndim=len(shape))
            if a.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
            parts.append(a.reshape(-1))
        return np.concatenate(parts)

    def init(self, *, seed: int) -> np.ndarray:
        """A random starting theta: weights normal with variance 1 / fan-in, biases zero."""
        rng = _rng(seed)
        p, h, m = self.X.shape[1], self.hidden, self.n_outputs
        return self.flatten(rng.normal(size=(h, p)) / np.sqrt(p), np.zeros(h), rng.normal(size=(m, h)) / np.sqrt(h),
                            np.zeros(m))

    def predict(self, theta: ArrayLike, X: ArrayLike | None = None) -> np.ndarray:
        """yhat for each row of X (default the training inputs): (n,) for a 1-D y, else (n, m)."""
        w = self.unflatten(theta)
        Xa = self.X if X is None else as_array("X", X, ndim=2)
        check_dim("X", Xa, self.X.shape[1], "the number of inputs")
        out: np.ndarray = np.tanh(Xa @ w["W1"].T + w["b1"]) @ w["W2"].T + w["b2"]
        return out[:, 0] if self.y.ndim == 1 else out

    def _to_core(self) -> Any:
        return _core.MLP(X=self.X, y=self.y.reshape(self.y.shape[0], -1), hidden=self.hidden, l2=self.l2)
