"""Tests of the exact mean exit times in escapade.analysis."""
import math
import warnings

import numpy as np
import pytest

from scipy.integrate import quad

import escapade as esc
from escapade.analysis import (
    brownian_ball_exit_time,
    langevin_mean_exit_time_1d,
    langevin_mean_exit_time_derivative_1d,
    linear_mean_exit_time,
    mean_exit_time_1d,
)

from conftest import double_well


def double_well_drift(x):
    return x - x**3


def test_brownian_motion_two_absorbing_ends():
    lower, upper, var = -0.5, 2.0, 0.7
    x = np.linspace(lower, upper, 7)
    got = mean_exit_time_1d(0.0, var, x, lower, upper)
    assert isinstance(got, np.ndarray) and got.shape == x.shape
    np.testing.assert_allclose(got, (x - lower) * (upper - x) / var, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("mu", [-3.0, 0.4, 5.0])
def test_constant_drift_two_absorbing_ends(mu):
    # Optional stopping: E[X_tau] - x0 = mu E[tau], and the probability of
    # leaving through the upper end is (1 - e^{-k (x0-l)}) / (1 - e^{-k (r-l)})
    # with k = 2 mu / sigma^2.
    lower, upper, var = 1.0, 3.0, 0.8
    k = 2 * mu / var
    x = np.array([1.2, 2.0, 2.9])
    p_upper = np.expm1(-k * (x - lower)) / np.expm1(-k * (upper - lower))
    expected = (lower + (upper - lower) * p_upper - x) / mu
    got = mean_exit_time_1d(lambda _x: mu, lambda _x: var, x, lower, upper)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_reflecting_lower_end():
    radius, var = 1.5, 0.3
    x = np.array([0.0, 0.4, 1.5])
    got = mean_exit_time_1d(0.0, var, x, 0.0, radius, lower_boundary="reflecting")
    np.testing.assert_allclose(got, (radius**2 - x**2) / var, rtol=1e-10, atol=1e-14)


def test_reflecting_upper_end_mirrors_lower():
    got = mean_exit_time_1d(0.0, 0.3, -0.4, -1.5, 0.0, upper_boundary="reflecting")
    assert isinstance(got, float)
    assert got == pytest.approx((1.5**2 - 0.4**2) / 0.3, rel=1e-10)


def test_double_well_w1():
    kwargs = dict(lower_boundary="reflecting")
    t_langevin = langevin_mean_exit_time_1d(double_well, 1 / 16, -1.0, -np.inf, 0.0, **kwargs)
    t_drift = mean_exit_time_1d(double_well_drift, 1 / 8, -1.0, -np.inf, 0.0, **kwargs)
    assert round(t_langevin, 3) == 135.783
    assert t_drift == pytest.approx(t_langevin, rel=1e-8)


def test_small_noise_does_not_overflow():
    # Barrier height / T = 25: the answer is about e^25 ~ 1e11 while the
    # scale and speed densities separately span far more than that.
    kwargs = dict(lower_boundary="reflecting")
    t_langevin = langevin_mean_exit_time_1d(double_well, 0.01, -1.0, -np.inf, 0.0, **kwargs)
    t_drift = mean_exit_time_1d(double_well_drift, 0.02, -1.0, -np.inf, 0.0, **kwargs)
    # Kramers: pi / sqrt(U''(-1) |U''(0)|) e^{dU/T}, up to O(T) corrections.
    kramers = math.pi / math.sqrt(2.0) * math.exp(25.0)
    assert t_langevin == pytest.approx(kramers, rel=0.05)
    assert t_drift == pytest.approx(t_langevin, rel=1e-8)


def test_langevin_two_absorbing_ends_matches_drift_form():
    x = np.array([-0.9, 0.0, 0.3])
    t_langevin = langevin_mean_exit_time_1d(double_well, 0.2, x, -1.5, 1.2)
    t_drift = mean_exit_time_1d(double_well_drift, 0.4, x, -1.5, 1.2)
    np.testing.assert_allclose(t_drift, t_langevin, rtol=1e-8)


def ou_exit_time_series(x, theta, sigma, a, terms=200):
    """Even power series of the solution of (sigma^2/2) T'' - theta x T' = -1,
    T(+-a) = 0: c_2 = -1/sigma^2, c_{n+2} = k n c_n / ((n+2)(n+1)), k = 2 theta/sigma^2."""
    k = 2 * theta / sigma**2
    coeffs = {2: -1 / sigma**2}
    for n in range(2, 2 * terms, 2):
        coeffs[n + 2] = k * n * coeffs[n] / ((n + 2) * (n + 1))

    def series(t):
        return sum(c * t**n for n, c in coeffs.items())

    return series(x) - series(a)


def test_ornstein_uhlenbeck_symmetric_interval():
    theta, sigma, a = 1.3, 0.6, 1.0
    x = np.array([0.0, 0.5, -0.8])
    got = mean_exit_time_1d(lambda y: -theta * y, sigma**2, x, -a, a)
    np.testing.assert_allclose(got, ou_exit_time_series(x, theta, sigma, a), rtol=1e-6)
    # Same answer via symmetry: reflecting at 0, and via the potential theta x^2 / 2.
    half = mean_exit_time_1d(
        lambda y: -theta * y, sigma**2, 0.0, 0.0, a, lower_boundary="reflecting"
    )
    pot = langevin_mean_exit_time_1d(lambda y: theta * y**2 / 2, sigma**2 / 2, 0.0, -a, a)
    assert half == pytest.approx(got[0], rel=1e-8)
    assert pot == pytest.approx(got[0], rel=1e-8)


@pytest.mark.parametrize("d", [1, 3, 10])
def test_brownian_ball(d):
    rng = np.random.default_rng(d)
    center = rng.normal(size=d)
    offset = rng.normal(size=d)
    offset *= 0.7 / np.linalg.norm(offset)
    got = brownian_ball_exit_time(center + offset, 2.0, temperature=0.25, center=center)
    assert got == pytest.approx((4.0 - 0.49) / (d * 0.5), rel=1e-12)
    assert brownian_ball_exit_time(np.zeros(d), 2.0, temperature=0.25) == pytest.approx(8.0 / d)


def test_brownian_ball_1d_matches_interval():
    t_ball = brownian_ball_exit_time([0.3], 1.2, temperature=0.4, center=[-0.1])
    t_line = mean_exit_time_1d(0.0, 2 * 0.4, 0.3, -1.3, 1.1)
    assert t_ball == pytest.approx(t_line, rel=1e-10)


def zero(_x):
    return 0.0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(x0=2.0), "x0"),
        (dict(x0=float("nan")), "x0"),
        (dict(x0=[0.5, -0.1]), "x0"),
        (dict(lower=1.0, upper=1.0), "lower"),
        (dict(lower_boundary="sticky"), "lower_boundary"),
        (dict(upper_boundary="Absorbing"), "upper_boundary"),
        (dict(lower=-np.inf), "lower=-inf"),
        (dict(upper=np.inf), "upper=inf"),
        (dict(lower_boundary="reflecting", upper_boundary="reflecting"), "reflecting"),
        (dict(noise_variance=0.0), "noise_variance"),
        (dict(noise_variance=lambda x: x - 0.3), "noise_variance"),
    ],
)
def test_mean_exit_time_bad_input(kwargs, name):
    args = dict(drift=zero, noise_variance=1.0, x0=0.5, lower=0.0, upper=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        mean_exit_time_1d(**args)


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(temperature=0.0), "temperature"), (dict(temperature=-1.0), "temperature"),
     (dict(x0=-0.5), "x0")],
)
def test_langevin_bad_input(kwargs, name):
    args = dict(potential=double_well, temperature=0.1, x0=0.5, lower=0.0, upper=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        langevin_mean_exit_time_1d(**args)


def test_langevin_takes_a_landscape_and_names_a_temperature_that_is_no_number():
    """A 1-D landscape is a potential here as for the splitting probabilities (it raised "not callable")."""
    args = dict(x0=-1.0, lower=-np.inf, upper=0.0, lower_boundary="reflecting")
    assert langevin_mean_exit_time_1d(esc.DoubleWell(), 1 / 16, **args) == \
        pytest.approx(langevin_mean_exit_time_1d(double_well, 1 / 16, **args), rel=1e-12)
    assert langevin_mean_exit_time_derivative_1d(esc.DoubleWell(), 1 / 16, **args) == \
        pytest.approx(langevin_mean_exit_time_derivative_1d(double_well, 1 / 16, **args), rel=1e-12)
    with pytest.raises(TypeError, match="temperature must be a real number"):
        langevin_mean_exit_time_1d(double_well, "a", **args)


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        (([1.0, 1.0], 1.0), dict(temperature=1.0), "x0"),
        (([0.1, 0.1], 0.0), dict(temperature=1.0), "radius"),
        (([0.1, 0.1], 1.0), dict(temperature=0.0), "temperature"),
        (([0.1, 0.1], 1.0), dict(temperature=1.0, center=[0.0, 0.0, 0.0]), "center"),
        (([[0.1, 0.1]], 1.0), dict(temperature=1.0), "x0"),
    ],
)
def test_brownian_ball_bad_input(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        brownian_ball_exit_time(*args, **kwargs)


# --- linear_mean_exit_time: dX = -A (X - x*) dt + noise of covariance D dt, from a disk or an ellipse ---------


def radial_exit_time(lam, sigma2, radius, r):
    """The rotation-invariant case A = lam I, D = sigma2 I in a disk: the radial ODE
    sigma2 / 2 (u'' + u' / r) - lam r u' = -1, u(R) = 0, bounded at 0, solved by nested quadrature:
    u(r) = int_r^R (2 / sigma2) s^-1 e^{lam s^2 / sigma2} int_0^s t e^{-lam t^2 / sigma2} dt ds."""
    k = lam / sigma2

    def inner(s):
        return quad(lambda t: t * math.exp(-k * t * t), 0.0, s, epsabs=0.0, epsrel=1e-13)[0]

    return quad(lambda s: 2 / sigma2 / s * math.exp(k * s * s) * inner(s), r, radius, epsabs=0.0, epsrel=1e-12)[0]


def rotation(angle):
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


@pytest.mark.parametrize("lam, sigma2", [(1.0, 1.0), (2.0, 0.5), (-1.5, 1.0), (0.5, 0.07)])
def test_linear_exit_time_matches_the_radial_quadrature(lam, sigma2):
    center, radius = np.array([0.7, -1.2]), 1.3
    r = np.array([0.0, 0.45, 0.9, 1.25])
    points = center + np.c_[r * math.cos(2.0), r * math.sin(2.0)]
    got = linear_mean_exit_time(lam * np.eye(2), sigma2 * np.eye(2), esc.Ball(center, radius), points,
                                fixed_point=center)
    expected = [radial_exit_time(lam, sigma2, radius, ri) for ri in r]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # the default start is the centre, and a single point gives a float
    at_center = linear_mean_exit_time(lam * np.eye(2), sigma2 * np.eye(2), esc.Ball(center, radius),
                                      fixed_point=center)
    assert isinstance(at_center, float) and at_center == pytest.approx(expected[0], rel=1e-9)


def test_linear_exit_time_in_a_disk_given_as_a_ball_or_an_ellipsoid():
    # the same disk twice (the ellipsoid's map to the unit disk differs from the ball's by a rotation)
    A = np.array([[0.5, 1.0], [-0.8, 1.2]])
    D = np.array([[0.4, -0.1], [-0.1, 0.2]])
    points = np.array([[1.0, 1.0], [1.3, 0.8], [0.6, 1.4]])
    ball = linear_mean_exit_time(A, D, esc.Ball([1.0, 1.0], 0.6), points, fixed_point=[0.9, 1.1])
    ellipsoid = linear_mean_exit_time(A, D, esc.Ellipsoid([1.0, 1.0], np.eye(2) / 0.36), points,
                                      fixed_point=[0.9, 1.1])
    np.testing.assert_allclose(ellipsoid, ball, rtol=1e-9)


def test_linear_exit_time_of_brownian_motion_in_a_disk():
    # A = 0: (1/2) D : grad^2 u = -1 with u = (R^2 - |x - c|^2) / tr D
    D = np.array([[0.8, 0.3], [0.3, 0.5]])
    center, radius = np.array([-0.5, 2.0]), 0.8
    points = center + np.array([[0.0, 0.0], [0.3, -0.2], [-0.5, 0.6], [0.8, 0.0]])
    got = linear_mean_exit_time(np.zeros((2, 2)), D, esc.Ball(center, radius), points)
    expected = (radius**2 - np.sum((points - center) ** 2, axis=1)) / np.trace(D)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("D", [np.eye(2), np.array([[0.2, -0.15], [-0.15, 0.9]])])
def test_linear_exit_time_of_brownian_motion_in_an_ellipse(D):
    # the ellipse (x - c)^T E (x - c) < 1: u = (1 - (x - c)^T E (x - c)) / tr(D E) (tr E for D = I)
    region = esc.Ellipsoid.from_axes([1.0, 0.5], [2.0, 0.5], rotation(0.3))
    E, c = region.matrix, region.center
    points = c + np.array([[0.0, 0.0], [1.0, 0.1], [-0.4, -0.3]])
    got = linear_mean_exit_time(np.zeros((2, 2)), D, region, points)
    q = np.einsum("pi,ij,pj->p", points - c, E, points - c)
    np.testing.assert_allclose(got, (1 - q) / np.trace(D @ E), rtol=1e-10)


def test_linear_exit_time_with_a_drift_along_the_ellipses():
    # A = E^-1 S with S skew-symmetric: A^T E + E A = 0, so the non-symmetric drift runs along the level sets of
    # (x - c)^T E (x - c) and the mean exit time is that of the noise alone, (1 - q) / tr(D E)
    region = esc.Ellipsoid.from_axes([0.3, -0.2], [1.0, 0.6], rotation(-0.7))
    E, c = region.matrix, region.center
    A = np.linalg.solve(E, np.array([[0.0, 1.5], [-1.5, 0.0]]))
    D = np.array([[0.3, 0.1], [0.1, 0.4]])
    points = c + np.array([[0.0, 0.0], [0.5, 0.2], [0.1, -0.5]])
    got = linear_mean_exit_time(A, D, region, points, fixed_point=c)
    q = np.einsum("pi,ij,pj->p", points - c, E, points - c)
    np.testing.assert_allclose(got, (1 - q) / np.trace(D @ E), rtol=1e-9)


def cartesian_least_squares(A, D, E, c, x_star, points, degree=22, seed=0):
    """An independent solve of L u = -1 in the ellipse, in the original coordinates: u = w p with
    w = 1 - (x - c)^T E (x - c) and p a polynomial of the given degree (Chebyshev products on the bounding box),
    fitted by least squares at random points of the ellipse."""
    from numpy.polynomial import chebyshev as ch

    half = np.sqrt(np.diag(np.linalg.inv(E)))  # half-widths of the bounding box
    rng = np.random.default_rng(seed)
    n_terms = (degree + 1) * (degree + 2) // 2
    x = c + rng.uniform(-1, 1, size=(8 * n_terms, 2)) * half
    x = x[np.einsum("pi,ij,pj->p", x - c, E, x - c) < 1]
    pairs = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]

    def basis(pts, di=(0, 0)):
        s = (pts - c) / half
        cols = []
        for i, j in pairs:
            ci, cj = np.zeros(i + 1), np.zeros(j + 1)
            ci[i] = cj[j] = 1.0
            a = ch.chebval(s[:, 0], ch.chebder(ci, di[0]) if di[0] else ci) / half[0] ** di[0]
            b = ch.chebval(s[:, 1], ch.chebder(cj, di[1]) if di[1] else cj) / half[1] ** di[1]
            cols.append(a * b)
        return np.array(cols).T

    z = x - c
    w = 1 - np.einsum("pi,ij,pj->p", z, E, z)
    gw = -2 * z @ E  # grad w
    p, p1, p2 = basis(x), basis(x, (1, 0)), basis(x, (0, 1))
    p11, p22, p12 = basis(x, (2, 0)), basis(x, (0, 2)), basis(x, (1, 1))
    u1 = gw[:, [0]] * p + w[:, None] * p1
    u2 = gw[:, [1]] * p + w[:, None] * p2
    u11 = -2 * E[0, 0] * p + 2 * gw[:, [0]] * p1 + w[:, None] * p11
    u22 = -2 * E[1, 1] * p + 2 * gw[:, [1]] * p2 + w[:, None] * p22
    u12 = -2 * E[0, 1] * p + gw[:, [0]] * p2 + gw[:, [1]] * p1 + w[:, None] * p12
    drift = -(x - x_star) @ A.T
    L = (drift[:, [0]] * u1 + drift[:, [1]] * u2
         + 0.5 * (D[0, 0] * u11 + D[1, 1] * u22 + 2 * D[0, 1] * u12))
    coef = np.linalg.lstsq(L, -np.ones(len(x)), rcond=None)[0]
    zq = points - c
    return (1 - np.einsum("pi,ij,pj->p", zq, E, zq)) * (basis(points) @ coef)


def test_linear_exit_time_with_a_non_symmetric_drift_matches_an_independent_solve():
    region = esc.Ellipsoid.from_axes([0.2, 0.1], [1.0, 0.7], rotation(0.5))
    A = np.array([[1.0, 2.0], [-0.5, 0.8]])  # a stable focus, far from symmetric
    D = np.array([[0.5, 0.2], [0.2, 0.3]])
    x_star = np.array([0.4, -0.1])
    points = np.array([[0.2, 0.1], [0.6, 0.4], [-0.3, -0.2]])
    got = linear_mean_exit_time(A, D, region, points, fixed_point=x_star)
    expected = cartesian_least_squares(A, D, region.matrix, region.center, x_star, points)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_linear_exit_time_matches_the_simulated_continuous_sgd():
    # The convention for D: GaussianSGD(lr, B, C).continuous(dt) is Langevin(eps = sqrt(lr / B), S = C^{1/2}),
    # whose noise covariance per unit time diffusion_matrix(2) = (lr / B) C is the D to pass. On Quadratic(H) the
    # drift is -H x (A = H).
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    C = np.array([[1.0, 0.3], [0.3, 0.5]])
    region = esc.Ellipsoid.from_axes([0.1, -0.05], [0.6, 0.35], rotation(0.4))
    sde = esc.GaussianSGD(lr=0.1, batch_size=1.0, C=C).continuous(dt=2e-3)
    np.testing.assert_allclose(sde.diffusion_matrix(2), 0.1 * C)
    exact = linear_mean_exit_time(H, sde.diffusion_matrix(2), region, [0.2, 0.0])
    res = esc.simulate(esc.Quadratic(H), sde, x0=[0.2, 0.0], stop=region, n_paths=3000, t_max=100.0, seed=3)
    s = res.summary()
    assert s.counts["EXITED"] == 3000
    assert abs(s.mean - exact) < 4 * s.stderr  # the bridge-tested dt bias is well below the standard error


@pytest.mark.parametrize(
    "args, kwargs, exc, name",
    [
        ((np.eye(3), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "A"),
        ((np.ones((2, 3)), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "A"),
        ((np.eye(2) * np.nan, np.eye(2), esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "A"),
        ((np.eye(2), np.eye(3), esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "D"),
        ((np.eye(2), [[1.0, 0.5], [0.0, 1.0]], esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "D"),
        ((np.eye(2), [[1.0, 0.0], [0.0, 0.0]], esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "D"),
        ((np.eye(2), [[1.0, 2.0], [2.0, 1.0]], esc.Ball([0.0, 0.0], 1.0)), {}, ValueError, "D"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0, 0.0], 1.0)), {}, ValueError, "region"),
        ((np.eye(2), np.eye(2), esc.Box([-1.0, -1.0], [1.0, 1.0])), {}, TypeError, "region"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0), [1.0, 0.5]), {}, ValueError, "x0"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0), [0.1, np.inf]), {}, ValueError, "x0"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0), [0.1, 0.1, 0.1]), {}, ValueError, "x0"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), dict(fixed_point=[0.0]), ValueError, "fixed_point"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), dict(rtol=0.0), ValueError, "rtol"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), dict(resolution=2), ValueError, "resolution"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), dict(resolution=(8, 9)), ValueError, "resolution"),
        ((np.eye(2), np.eye(2), esc.Ball([0.0, 0.0], 1.0)), dict(resolution="fine"), TypeError, "resolution"),
    ],
)
def test_linear_exit_time_bad_input(args, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        linear_mean_exit_time(*args, **kwargs)


def test_linear_exit_time_says_when_it_does_not_converge():
    # tiny noise against the drift: a boundary layer thinner than the largest resolution allowed
    with pytest.raises(RuntimeError, match="did not converge"):
        linear_mean_exit_time(np.eye(2), 0.02 * np.eye(2), esc.Ball([0.0, 0.0], 1.0), max_resolution=16)
    # a fixed resolution is accepted as it is
    assert linear_mean_exit_time(np.eye(2), 0.02 * np.eye(2), esc.Ball([0.0, 0.0], 1.0), resolution=8) > 0


@pytest.mark.parametrize("potential, temperature, lower, kw, match", [
    (lambda x: np.nan * x, 0.1, -2.0, {}, "came out NaN"),
    (lambda x: x**4 / 4 - x**2 / 2, 1e-5, -np.inf, dict(lower_boundary="reflecting"), "overflowed"),
    (lambda x: x, 0.1, -np.inf, dict(lower_boundary="reflecting"), "overflowed"),  # drifts away: never exits
])
def test_mean_exit_time_without_a_finite_answer_says_so(potential, temperature, lower, kw, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's IntegrationWarning on the way
        with pytest.raises(ValueError, match=match):
            langevin_mean_exit_time_1d(potential, temperature, -1.0, lower, 0.0, **kw)
