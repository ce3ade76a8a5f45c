"""Start samplers: uniform in a box or a ball and Gaussian, checked statistically, deterministic functions of seed
and path, where the engine starts path i; covariances symmetric up to rounding are accepted."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from escapade import DoubleWell, Gaussian, Langevin, UniformBall, UniformBox, simulate

from conftest import N_SIGMA


def test_uniform_box_sampler_statistics():
    lo, hi = np.array([-1.0, 0.0, 10.0]), np.array([1.0, 0.5, 10.001])
    n = 100_000
    x = UniformBox(lo, hi).sample(n, seed=42)
    assert x.shape == (n, 3)
    assert np.all((x >= lo) & (x <= hi))
    w = hi - lo
    mean_se = w / math.sqrt(12 * n)
    assert np.all(np.abs(x.mean(axis=0) - (lo + hi) / 2) <= N_SIGMA * mean_se)
    var_se = w**2 / math.sqrt(180 * n)
    assert np.all(np.abs(x.var(axis=0) - w**2 / 12) <= N_SIGMA * var_se)
    for i in range(3):
        assert stats.kstest((x[:, i] - lo[i]) / w[i], "uniform").pvalue > 1e-4
    corr = np.corrcoef(x.T)
    assert np.all(np.abs(corr[np.triu_indices(3, 1)]) <= N_SIGMA / math.sqrt(n))


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_uniform_ball_sampler_statistics(d):
    rng = np.random.default_rng(d)
    center = rng.normal(size=d)
    radius = 2.0
    n = 100_000
    x = UniformBall(center, radius).sample(n, seed=7)
    assert x.shape == (n, d)
    r = np.linalg.norm(x - center, axis=1)
    assert np.all(r <= radius * (1 + 1e-12))
    # (r / R)^d is uniform on (0, 1) for a uniform point in a ball.
    assert stats.kstest((r / radius) ** d, "uniform").pvalue > 1e-4
    # Each coordinate has mean c_i and variance R^2 / (d + 2).
    sd = radius / math.sqrt(d + 2)
    assert np.all(np.abs(x.mean(axis=0) - center) <= N_SIGMA * sd / math.sqrt(n))
    if d > 1:
        u = (x - center) / r[:, None]  # uniform directions
        assert np.all(np.abs(u.mean(axis=0)) <= N_SIGMA / math.sqrt(d * n))
        c = np.corrcoef(x.T)
        assert np.all(np.abs(c[np.triu_indices(d, 1)]) <= N_SIGMA / math.sqrt(n))


def test_gaussian_sampler_statistics():
    mean = np.array([1.0, -1.0, 0.25])
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 0.5, 0.1], [-0.3, 0.1, 1.0]])
    n = 100_000
    x = Gaussian(mean, cov).sample(n, seed=3)
    assert x.shape == (n, 3)
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(x.mean(axis=0) - mean) <= N_SIGMA * se_mean)
    sample_cov = np.cov(x.T)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(sample_cov - cov) <= N_SIGMA * se_cov)
    m2 = np.einsum("ni,ij,nj->n", x - mean, np.linalg.inv(cov), x - mean)
    assert stats.kstest(m2, stats.chi2(3).cdf).pvalue > 1e-4


@pytest.mark.parametrize(
    "sampler",
    [UniformBox([0.0, 1.0], [1.0, 3.0]), UniformBall([0.0, 0.0], 1.0), Gaussian([0.0, 0.0], [[1.0, 0.2], [0.2, 1.0]])],
    ids=lambda s: type(s).__name__,
)
def test_samplers_are_deterministic_functions_of_seed_and_path(sampler):
    a = sampler.sample(100, seed=5)
    np.testing.assert_array_equal(a, sampler.sample(100, seed=5))
    assert np.all(a != sampler.sample(100, seed=6))
    np.testing.assert_array_equal(sampler.sample(30, seed=5, first=40), a[40:70])
    assert sampler.sample(0, seed=5).shape == (0, 2)
    # The engine starts path i at the sampler's point i.
    res = simulate(
        DoubleWell(2), Langevin(temperature=0.1, dt=1e-2), x0=sampler, n_paths=25, max_steps=2, seed=5, record_paths=25
    )
    starts = np.array([x[0] for _, x in res.trajectories])
    np.testing.assert_array_equal(starts, a[:25])


def test_nearly_symmetric_matrices_are_accepted_and_symmetrized():
    cov = [[1e-6, 5e-7 + 1e-19], [5e-7, 1e-6]]
    g = Gaussian(mean=[0.0, 0.0], cov=cov)
    assert np.array_equal(g.cov, g.cov.T)
    assert g.sample(5, seed=0).shape == (5, 2)
    with pytest.raises(ValueError, match="cov"):
        Gaussian(mean=[0.0, 0.0], cov=[[1e-6, 6e-7], [5e-7, 1e-6]])
