"""Review fixes in analysis: the Lyapunov–Perron kernel on stiff flows, bisection with a short horizon, find_minimum's
Newton polish, minimum_energy_path's step control, and argument checks (tolerances, numpy scalars, drift shape)."""

from __future__ import annotations

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import (
    eyring_kramers,
    find_minimum,
    find_saddle,
    linear_quasipotential,
    minimum_action_path,
    minimum_energy_path,
    stable_manifold,
)
from escapade.analysis.manifolds import _kernel_weights

# --- 1. Lyapunov–Perron on stiff flows --------------------------------------------------------------------------


@pytest.mark.parametrize("z", [1e-9, -0.3, -0.999, -1.001, -7.0, -1e3, complex(-0.5, 0.7), complex(-3.0, 20.0)])
def test_kernel_weights_are_the_exact_integrals(z):
    from scipy.integrate import quad

    def integral(weight):
        parts = [quad(lambda t, f=f: f(np.exp(complex(z) * t) * weight(t)), 0.0, 1.0, limit=200, epsabs=1e-15,
                      epsrel=1e-11)[0] for f in (np.real, np.imag)]
        return complex(*parts)
    near, far = _kernel_weights(z)
    assert near == pytest.approx(integral(lambda t: 1 - t), rel=1e-9)
    assert far == pytest.approx(integral(lambda t: t), rel=1e-9)


def _stiff(L):
    # x' = -x, y' = y + x z, z' = -L z + x^2; on W^s above (x0, 0, 0): y0 = -x0^3 / (L - 2) (1/4 - 1/(L + 2))
    def field(v):
        x, y, z = v[..., 0], v[..., 1], v[..., 2]
        return np.stack([-x, y + x * z, -L * z + x**2], axis=-1)
    return field


@pytest.mark.parametrize("L, dt, rel", [(10.0, 0.01, 1e-3), (100.0, 0.01, 5e-3), (1000.0, 0.01, 2e-2),
                                        (1000.0, 0.001, 1e-3)])
def test_lyapunov_perron_is_right_on_a_stiff_flow(L, dt, rel):
    x0 = 0.1
    exact = -x0**3 / (L - 2) * (0.25 - 1 / (L + 2))
    m = stable_manifold(_stiff(L), np.zeros(3), stable_part=[[x0, 0.0, 0.0]], dt=dt, vectorized=True)
    assert m.converged[0]
    assert m.points[0, 1] == pytest.approx(exact, rel=rel)  # the trapezoid rule gave 4.9 x exact at L = 1000


# --- 2. find_minimum on scaled landscapes -----------------------------------------------------------------------


def test_find_minimum_converges_on_a_scaled_double_well():
    f = esc.DoubleWell(2, height=1000.0)
    m = find_minimum(f, [-0.9, 1.2])
    np.testing.assert_allclose(m.x, [-1.0, 1.0], atol=1e-12)
    assert m.gradient_norm < 1e-10 and m.value == pytest.approx(-500.0)
    ek = eyring_kramers(f, [-0.9, 1.2], [0.1, 1.1], 25.0)  # refines both ends: failed before the polish
    assert np.isfinite(ek.prefactor)


# --- 3. bisection with a short horizon --------------------------------------------------------------------------


@pytest.mark.parametrize("horizon, atol", [(2.0, 2e-5), (5.0, 1e-8), (None, 1e-9)])
def test_bisection_with_a_short_horizon_bisects(horizon, atol):
    # x' = -x, y' = y + x^2: W^s is y = -x^2 / 3; the linear guess (y = 0) used to come back as converged
    m = stable_manifold(lambda v: np.array([-v[0], v[1] + v[0] ** 2]), [0.0, 0.0], stable_part=[[0.1, 0.0]],
                        method="bisection", horizon=horizon)
    assert m.converged[0]
    assert m.points[0, 1] == pytest.approx(-0.01 / 3, abs=atol)


# --- 4. step and drift failures are reported --------------------------------------------------------------------


class Pinched:
    """f = (x^2 - 1)^2 / 4 + (1 + 50 exp(-x^2 / 0.1)) y^2 / 2: minima (+-1, 0), saddle (0, 0), barrier 1/4; far
    stiffer at the saddle than at the minima, where the default step is chosen."""
    dim = 2

    def value(self, p):
        p = np.asarray(p, float)
        x, y = p[..., 0], p[..., 1]
        return (x**2 - 1) ** 2 / 4 + (1 + 50 * np.exp(-x**2 / 0.1)) * y**2 / 2

    def gradient(self, p):
        p = np.asarray(p, float)
        x, y = p[..., 0], p[..., 1]
        e = np.exp(-x**2 / 0.1)
        return np.stack([x * (x**2 - 1) - 500 * x * e * y**2, (1 + 50 * e) * y], -1)

    def hessian(self, p):
        h = 1e-6
        return np.array([(self.gradient(p + h * u) - self.gradient(p - h * u)) / (2 * h) for u in np.eye(2)]).T


def test_minimum_energy_path_survives_a_too_large_default_step():
    r = minimum_energy_path(Pinched(), [-1.0, 0.0], [1.0, 0.0], path0=[[-1.0, 0.0], [0.0, 0.3], [1.0, 0.0]])
    assert r.converged and np.all(np.isfinite(r.path))
    assert r.action == pytest.approx(0.5, rel=1e-6)  # 2 x the barrier


def test_minimum_energy_path_nan_gradient_names_step():
    class Broken(Pinched):
        def gradient(self, p):
            return np.full(np.shape(p), np.nan)
    with pytest.raises(ValueError, match="step"):
        minimum_energy_path(Broken(), [-1.0, 0.0], [1.0, 0.0], step=0.01)


def test_minimum_action_path_nan_drift_names_drift():
    with pytest.raises(ValueError, match="drift"):
        minimum_action_path(lambda x: x * np.nan, [0.0, 0.0], [1.0, 1.0])


def test_minimum_action_path_wrong_shape_names_drift():
    with pytest.raises(ValueError, match=r"drift.*\(65, 2\).*\(65, 1\)"):
        minimum_action_path(lambda x: x[:, :1], [0.0, 0.0], [1.0, 1.0])



class _MullerBrown:
    """The Müller–Brown potential (three minima, two saddles), as a plain vectorized landscape."""

    dim = 2
    A = np.array([-200.0, -100.0, -170.0, 15.0])
    a = np.array([-1.0, -1.0, -6.5, 0.7])
    b = np.array([0.0, 0.0, 11.0, 0.6])
    c = np.array([-10.0, -10.0, -6.5, 0.7])
    X = np.array([1.0, 0.0, -0.5, -1.0])
    Y = np.array([0.0, 0.5, 1.5, 1.0])

    def _terms(self, x):
        x = np.asarray(x, float)
        dx, dy = x[..., :1] - self.X, x[..., 1:2] - self.Y
        return dx, dy, self.A * np.exp(self.a * dx**2 + self.b * dx * dy + self.c * dy**2)

    def value(self, x):
        return self._terms(x)[2].sum(-1)

    def gradient(self, x):
        dx, dy, e = self._terms(x)
        return np.stack([(e * (2 * self.a * dx + self.b * dy)).sum(-1), (e * (self.b * dx + 2 * self.c * dy)).sum(-1)], -1)

    def hessian(self, x):
        dx, dy, e = self._terms(np.asarray(x, float).reshape(2))
        px, py = 2 * self.a * dx + self.b * dy, self.b * dx + 2 * self.c * dy
        hxy = (e * (px * py + self.b)).sum()
        return np.array([[(e * (px**2 + 2 * self.a)).sum(), hxy], [hxy, (e * (py**2 + 2 * self.c)).sum()]])


def test_minimum_action_path_crosses_mueller_brown_at_its_saddle():
    # from the deepest minimum to the middle one over the saddle between them: the action is 2 (f(s) - f(m)).
    # Minimizing the discrete action freely let images gather at the critical points, where a segment is free,
    # and the path cut across the barrier: 307 for 212, reported as not converged.
    mb = _MullerBrown()
    m = find_minimum(mb, [-0.5, 1.4], gtol=1e-6)
    m2 = find_minimum(mb, [-0.05, 0.45], gtol=1e-6)
    s = find_saddle(mb, [-0.8, 0.6])
    exact = 2 * (s.value - m.value)
    r = minimum_action_path(mb, m.x, m2.x, n_images=41)
    assert r.converged
    assert r.action == pytest.approx(exact, rel=5e-3)  # -0.16% at 41 images (-0.03% at 129)
    top = r.path[r.highest]
    assert np.linalg.norm(top - s.x) < 0.05 and mb.value(top) < s.value + 0.1

# --- 5. argument checks -----------------------------------------------------------------------------------------


def test_numpy_scalars_are_accepted():
    qp = linear_quasipotential(np.array([[1.0, 2.0], [0.0, 3.0]]))
    assert qp.ball_exit(np.int64(2))[0] == pytest.approx(qp.ball_exit(2.0)[0])
    s = find_saddle(esc.StrictSaddle([-1.0, 1.0]), [0.1, 0.1], max_step=np.float32(0.1))
    np.testing.assert_allclose(s.x, [0.0, 0.0], atol=1e-10)


@pytest.mark.parametrize("call, name", [
    (lambda: find_saddle(esc.StrictSaddle([-1.0, 1.0]), [0.1, 0.1], gtol=-1.0), "gtol"),
    (lambda: find_saddle(esc.StrictSaddle([-1.0, 1.0]), [0.1, 0.1], gtol=np.nan), "gtol"),
    (lambda: find_minimum(esc.DoubleWell(1), [0.5], gtol=np.nan), "gtol"),
    (lambda: find_saddle(esc.StrictSaddle([-1.0, 1.0]), [0.1, 0.1], max_step=0.0), "max_step"),
    (lambda: linear_quasipotential(np.eye(2)).exit_multiplicity(-1.0), "rtol"),
    (lambda: linear_quasipotential(np.eye(2)).ball_exit(-1.0), "radius"),
    (lambda: minimum_action_path(esc.DoubleWell(1), [-1.0], [0.0], tol=np.nan), "tol"),
    (lambda: minimum_action_path(esc.DoubleWell(1), [-1.0], [0.0], tol=-1e-7), "tol"),
    (lambda: minimum_energy_path(esc.DoubleWell(1), [-1.0], [1.0], tol=np.nan), "tol"),
    (lambda: minimum_energy_path(esc.DoubleWell(1), [-1.0], [1.0], tol=0.0), "tol"),
    (lambda: minimum_energy_path(esc.DoubleWell(1), [-1.0], [1.0], step=np.nan), "step"),
])
def test_bad_tolerances_name_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_non_numbers_are_type_errors():
    with pytest.raises(TypeError, match="max_step"):
        find_saddle(esc.StrictSaddle([-1.0, 1.0]), [0.1, 0.1], max_step="0.1")
    with pytest.raises(TypeError, match="radius"):
        linear_quasipotential(np.eye(2)).ball_exit("1")
