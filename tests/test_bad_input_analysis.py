"""Bad input to escapade.analysis: each row asserts the exception type and that the message names the offending
argument. The rows come from a fuzzing review that found silent NaN results, hangs of the nested quadratures,
and OverflowError/ZeroDivisionError/IndexError/AttributeError/LinAlgError from deep inside; every call here must
fail fast (the hangs ran for hours)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

import escapade as esc
from escapade import analysis as A

NAN, INF = float("nan"), float("inf")
DW = esc.DoubleWell()
C = pytest.param  # C(callable, exception type, pattern naming the argument, id=...)
TIMES, OBSERVED = [1, 2, 3, 0.5, 4], [1, 1, 0, 1, 1]
LADDER = ([0.1, 0.05, 0.025], [1.0, 1.1, 1.15], [0.01] * 3)
SERIES = ([0.1, 0.2, 0.3], [100.0, 10.0, 3.0])
Q = np.array([np.diag([1.0, 2.0]), np.diag([3.0, 0.5])])  # the Q_i of a stochastic quadratic


def run():
    """A few paths of the 1-D double well, for quantity_of."""
    return esc.simulate(DW, esc.Langevin(temperature=0.2, dt=0.01), x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                        n_paths=8, t_max=1.0, seed=0)


CASES = [
    # silent NaN results
    C(lambda: A.dt_bias([INF, 0.05, 0.025], *LADDER[1:]), ValueError, "dts", id="dt_bias-dts-inf"),
    C(lambda: A.arrhenius_fit(*SERIES, power=1e308), ValueError, "power", id="arrhenius-power-1e308"),
    C(lambda: A.langevin_splitting_probability_1d(DW, 0.2, -0.5, -1.0, 1e308), ValueError, "potential",
      id="langevin_splitting-upper-1e308"),
    C(lambda: A.splitting_probability_1d(NAN, 1.0, 0.5, 0.0, 1.0), ValueError, "drift", id="splitting-drift-nan"),
    # hangs of the quadratures
    C(lambda: A.mean_exit_time_1d(NAN, 1.0, 0.5, 0.0, 1.0), ValueError, "drift", id="mean_exit-drift-nan"),
    C(lambda: A.mean_exit_time_1d(lambda x: NAN, 1.0, 0.5, 0.0, 1.0), ValueError, "drift",
      id="mean_exit-drift-callable-nan"),
    C(lambda: A.mean_exit_time_1d(0.0, 5e-324, 0.5, 0.0, 1.0), ValueError, "noise_variance",
      id="mean_exit-noise-subnormal"),
    C(lambda: A.mean_exit_time_1d(0.0, lambda x: 5e-324, 0.5, 0.0, 1.0), ValueError, "noise_variance",
      id="mean_exit-noise-callable-subnormal"),
    C(lambda: A.mean_exit_time_1d(0.0, 1.0, 0.5, -1e308, 1e308), ValueError, "upper - lower",
      id="mean_exit-width-overflows"),
    C(lambda: A.mean_exit_time_1d(lambda x: -x, 1.0, 0.0, -1e300, 1e300), ValueError, "drift is too strong",
      id="mean_exit-exponent-overflows"),
    C(lambda: A.splitting_probability_1d(lambda x: -x, 1.0, 0.0, -1e300, 1e300), ValueError, "drift is too strong",
      id="splitting-exponent-overflows"),
    C(lambda: A.langevin_mean_exit_time_1d(lambda x: x * x / 2, 0.5, 0.0, -1e300, 1e300), ValueError,
      "potential that overflows", id="langevin_mean_exit-potential-overflows"),
    C(lambda: A.splitting_probability_1d(1e300, 1.0, 0.5, 0.0, 1.0), ValueError, "drift and noise_variance",
      id="splitting-drift-1e300"),
    C(lambda: A.splitting_probability_1d(INF, 1.0, 0.5, 0.0, 1.0), ValueError, "drift", id="splitting-drift-inf"),
    C(lambda: A.splitting_probability_1d(2**63, 1.0, 0.5, 0.0, 1.0), ValueError, "drift and noise_variance",
      id="splitting-drift-2**63"),
    C(lambda: A.splitting_probability_1d(0.0, 1.0, 0.5, -1e308, 1e308), ValueError, "upper - lower",
      id="splitting-width-overflows"),
    C(lambda: A.splitting_probability_1d(0.0, 1.0, 0.5, 0.0, 1.0, rtol=1e-300), ValueError, "rtol",
      id="splitting-rtol-tiny"),
    C(lambda: A.langevin_splitting_probability_1d(DW, 1e-300, -0.5, -1.0, 0.0), ValueError,
      "potential and temperature", id="langevin_splitting-temperature-1e-300"),
    C(lambda: A.langevin_splitting_probability_1d(DW, 0.2, -0.5, -1.0, 2**63), ValueError,
      "potential and temperature.*upper|9.22", id="langevin_splitting-upper-2**63"),
    # wrong exception types
    C(lambda: A.brownian_ball_exit_time([0.0], 1e308, temperature=0.1), ValueError, "radius", id="ball-radius-1e308"),
    C(lambda: A.brownian_ball_exit_time([0.0], 1.0, temperature=1e-320), ValueError, "temperature",
      id="ball-temperature-tiny"),
    C(lambda: A.eyring_kramers(DW, [-1.0], [0.0], temperature=1e-300), ValueError, "temperature=1e-300",
      id="eyring_kramers-temperature-1e-300"),
    C(lambda: A.euler_chain_splitting_probability(DW, 0.2, 5e-324, -0.5, -1.0, 0.0), ValueError, "dt=5e-324",
      id="euler_chain-dt-subnormal"),
    C(lambda: A.euler_chain_splitting_probability(DW, 0.2, 1e-3, -0.5, -1.0, 1e308), ValueError, "1e\\+308",
      id="euler_chain-upper-1e308"),
    C(lambda: A.arrhenius_fit(*SERIES, power=2**63), ValueError, "power", id="arrhenius-power-2**63"),
    C(lambda: A.arrhenius_fit(*SERIES, power=1e5), ValueError, "power", id="arrhenius-prefactor-overflows"),
    C(lambda: A.arrhenius_fit([0.1, 0.2, 0.3], [1e308] * 3, [1.0] * 3), ValueError, "stderr",
      id="arrhenius-weights-overflow"),
    C(lambda: A.error_factor(Q, lr=1e308), ValueError, "lr", id="error_factor-lr-1e308"),
    C(lambda: A.error_factor(Q, lr=1e200, k=2), ValueError, "lr", id="error_factor-lr-1e200-sgd"),
    C(lambda: A.error_factor_bounds(A.quadratic_curvature(Q), lr=1e308, k=2), ValueError, "lr",
      id="error_factor_bounds-lr-1e308"),
    C(lambda: A.error_factor_bounds(A.quadratic_curvature(Q), lr=[0.1, 1e200]), ValueError, "lr",
      id="error_factor_bounds-lr-1e200"),
    C(lambda: A.sgd_exit_time_prediction(np.eye(2), 1e308), ValueError, "radius", id="sgd-radius-1e308"),
    C(lambda: A.sgd_exit_time_prediction(np.eye(2), 1.0, lr="x"), TypeError, "lr", id="sgd-lr-str"),
    C(lambda: A.exit_time_statistics(TIMES, OBSERVED, confidence=5e-324), ValueError, "confidence",
      id="exit_time_statistics-confidence-subnormal"),
    C(lambda: A.exit_time_statistics(TIMES, OBSERVED, confidence=1 - 1e-17), ValueError, "confidence",
      id="exit_time_statistics-confidence-rounds-to-1"),
    C(lambda: A.coefficient_of_variation(TIMES, OBSERVED, confidence=5e-324), ValueError, "confidence",
      id="coefficient_of_variation-confidence-subnormal"),
    C(lambda: A.wilson_interval(1, 2, confidence=1e-300), ValueError, "confidence", id="wilson-confidence-tiny"),
    C(lambda: A.arrhenius_fit(*SERIES, confidence=5e-324), ValueError, "confidence",
      id="arrhenius-confidence-subnormal"),
    C(lambda: A.grid_points([0.0], [1.0], 2**63), ValueError, "n", id="grid_points-n-2**63"),
    C(lambda: A.grid_points([0.0, 0.0], [1.0, 1.0], [10**4, 10**4]), ValueError, "n", id="grid_points-total"),
    C(lambda: A.grid_points([0.0], [1.0], "ab"), TypeError, "n", id="grid_points-n-str"),
    C(lambda: A.minimum_energy_path(DW, [-1.0], [1.0], n_images=2**63), ValueError, "n_images",
      id="minimum_energy_path-n_images-2**63"),
    C(lambda: A.minimum_energy_path(DW, [-1.0], [1.0], max_iter=INF), TypeError, "max_iter",
      id="minimum_energy_path-max_iter-inf"),
    C(lambda: A.noise_matrix(0, "isotropic"), ValueError, "H", id="noise_matrix-H-scalar"),
    C(lambda: A.dt_bias(*LADDER, order=5e-324), ValueError, "order", id="dt_bias-order-subnormal"),
    C(lambda: A.dt_bias(*LADDER, order=1e300), ValueError, "order", id="dt_bias-order-huge"),
    C(lambda: A.dt_bias(LADDER[0], LADDER[1], [1e-200] * 3), ValueError, "stderrs", id="dt_bias-stderrs-tiny"),
    # messages that did not name the argument
    C(lambda: A.quantity_of(run(), "quantile", q=1.5), ValueError, "q=1.5", id="quantity_of-q-1.5"),
    C(lambda: A.quantity_of(run(), "quantile", q=NAN), ValueError, "q", id="quantity_of-q-nan"),
    C(lambda: A.quantity_of(run(), "quantile"), ValueError, "needs q", id="quantity_of-q-missing"),
    C(lambda: A.quantity_of(run(), "quantile", q=0.5, confidence=1.0), ValueError, "confidence",
      id="quantity_of-confidence-1"),
    C(lambda: A.exit_time_statistics(TIMES, OBSERVED, quantiles=0.5), TypeError, "quantiles",
      id="exit_time_statistics-quantiles-float"),
    C(lambda: A.exit_time_statistics(TIMES, OBSERVED, quantiles=["a"]), TypeError, "quantiles",
      id="exit_time_statistics-quantiles-str"),
    C(lambda: A.dt_bias("abc", *LADDER[1:]), TypeError, "dts", id="dt_bias-dts-str"),
    C(lambda: A.brownian_ball_exit_time("abc", 1.0, temperature=0.1), TypeError, "x0", id="ball-x0-str"),
    C(lambda: A.brownian_ball_exit_time([0.0], 1.0, temperature=0.1, center="abc"), TypeError, "center",
      id="ball-center-str"),
    C(lambda: A.mean_exit_time_1d(None, 1.0, 0.5, 0.0, 1.0), TypeError, "drift", id="mean_exit-drift-none"),
    C(lambda: A.mean_exit_time_1d(0.0, 1.0, 0.5, None, 1.0), TypeError, "lower", id="mean_exit-lower-none"),
    C(lambda: A.mean_exit_time_1d(0.0, 1.0, "abc", 0.0, 1.0), TypeError, "x0", id="mean_exit-x0-str"),
    C(lambda: A.euler_chain_splitting_probability(DW, 0.2, 1e-3, "abc", -1.0, 0.0), TypeError, "x0",
      id="euler_chain-x0-str"),
    C(lambda: A.exponential_test(TIMES, method=np.array([])), ValueError, "method", id="exponential_test-method-array"),
]


@pytest.mark.parametrize("call, exc, pattern", CASES)
def test_bad_input_is_refused_by_name(call, exc, pattern):
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's IntegrationWarning and the like on the way
        with pytest.raises(exc, match=pattern):
            call()
    assert time.monotonic() - start < 10.0  # the hangs ran for hours; a refusal is immediate


def test_limits_leave_ordinary_calls_alone():
    assert A.splitting_probability_1d(0.0, 1.0, 0.25, 0.0, 1.0) == pytest.approx(0.25)
    assert A.mean_exit_time_1d(0.0, 1e-300, 0.5, 0.0, 1.0) == pytest.approx(2.5e299)  # tiny noise, finite answer
    assert A.brownian_ball_exit_time([0.0, 0.0, 0.0], 1.0, temperature=0.5) == pytest.approx(1 / 3)
    assert np.isfinite(A.exit_time_statistics(TIMES, OBSERVED, quantiles=[0.5], confidence=1 - 1e-12).mean)
    assert A.grid_points([0.0, 0.0], [1.0, 1.0], [2, 3.0]).shape == (6, 2)
    assert A.minimum_energy_path(DW, [-1.0], [1.0], max_iter=100.0).iterations >= 1  # an integral float is a count
    assert np.isfinite(A.arrhenius_fit(*SERIES, power=1.5).barrier)
    assert np.isfinite(A.dt_bias(*LADDER, order=0.5).bias)
    assert A.noise_matrix(np.eye(2), "isotropic").shape == (2, 2)
    assert A.quantity_of(run(), "quantile", q=0.5).n == 8
