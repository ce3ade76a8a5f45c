"""escapade's own exp, cos and sin (mathfn.hpp), which the Ackley landscape and the periodic forcing use: they
must be accurate to a few ulp over the whole double range, and give the IEEE special values. And the kernels'
fixed-order product (kernels.hpp), in every register tiling: the bits of a plain loop."""
import numpy as np
import pytest

from escapade import _core

rng = np.random.default_rng(0)


def ulps(got, want):
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_exp_is_within_two_ulp_of_numpy_on_the_normal_range():
    x = np.concatenate([np.linspace(-708.0, 709.7, 200_001), rng.uniform(-5, 5, 100_000),
                        rng.uniform(-1e-8, 1e-8, 1000), [0.0, -0.0, 1.0, -1.0, np.log(2.0)]])
    got = _core.elementary("exp", x)
    assert ulps(got, np.exp(x)).max() <= 2
    assert _core.elementary("exp", np.array([0.0]))[0] == 1.0


def test_exp_overflow_underflow_and_nan():
    x = np.array([709.79, 710.0, 1e300, np.inf, -746.0, -1e300, -np.inf, np.nan])
    got = _core.elementary("exp", x)
    np.testing.assert_array_equal(got[:4], np.inf)
    np.testing.assert_array_equal(got[4:7], 0.0)
    assert np.isnan(got[7])
    # subnormal results: within one unit of the smallest subnormal, relative to numpy's
    x = np.linspace(-745.0, -708.5, 10_001)
    assert np.abs(_core.elementary("exp", x) - np.exp(x)).max() <= 2 * 5e-324 + 2e-16 * np.exp(x).max()


@pytest.mark.parametrize("scale", [1.0, 10.0, 1e3, 8e5])
def test_sincos_is_within_two_ulp_of_numpy(scale):
    x = rng.uniform(-scale, scale, 200_000)
    c, s = _core.elementary("sincos", x)
    # absolute error in units of the last place of 1 (cos and sin near a zero are only as good as x's reduction)
    eps = np.spacing(1.0)
    assert np.abs(c - np.cos(x)).max() <= 2 * eps and np.abs(s - np.sin(x)).max() <= 2 * eps
    big = np.abs(np.cos(x)) > 1e-3
    assert ulps(c[big], np.cos(x[big])).max() <= 4
    big = np.abs(np.sin(x)) > 1e-3
    assert ulps(s[big], np.sin(x[big])).max() <= 4


def test_sincos_near_multiples_of_half_pi_and_tiny_arguments():
    k = np.arange(-2000, 2001)
    x = np.concatenate([k * (np.pi / 2), np.nextafter(k * (np.pi / 2), np.inf), [1e-300, -1e-200, 1e-10]])
    c, s = _core.elementary("sincos", x)
    eps = np.spacing(1.0)
    assert np.abs(c - np.cos(x)).max() <= 2 * eps and np.abs(s - np.sin(x)).max() <= 2 * eps
    tiny = np.array([1e-300, -1e-200, 1e-10])
    _, s_tiny = _core.elementary("sincos", tiny)
    assert ulps(s_tiny, np.sin(tiny)).max() <= 1


def test_sincos_beyond_the_reduction_range_and_special_values():
    x = np.array([8.3e5, -1e7, 1e300, np.inf, -np.inf, np.nan])
    c, s = _core.elementary("sincos", x)
    np.testing.assert_array_equal(c[:3], np.cos(x[:3]))  # handed to libm
    np.testing.assert_array_equal(s[:3], np.sin(x[:3]))
    assert np.isnan(c[3:]).all() and np.isnan(s[3:]).all()


def test_elementary_rejects_unknown_names():
    with pytest.raises(ValueError, match="name must be"):
        _core.elementary("log", np.zeros(1))


# ------------------------------------------------------------------------------------- the fixed-order product


def plain_products(a, b):
    """Row l: a @ b[l], every entry summed as the plain loop `s = 0.0; s = s + a[i, k] * b[l, k]` (numpy neither
    fuses nor reorders elementwise operations)."""
    s = np.zeros((b.shape[0], a.shape[0]))
    for k in range(a.shape[1]):
        s = s + b[:, k, None] * a[None, :, k]
    return s


@pytest.mark.parametrize("tiles", ["auto", "16x12", "16x6", "8x6", "4x4"])
def test_every_register_tiling_of_the_product_has_the_bits_of_the_plain_loop(tiles):
    # The engine picks one tiling per CPU (AMD, Intel, no AVX-512): each is run here, wherever the tests run, on row
    # counts around the tiles' heights (with the padded rows' remainders) and lane counts around their widths;
    # entries of mixed magnitudes, so that any other order of summation would round differently.
    rng = np.random.default_rng(7)
    for m in (1, 3, 4, 5, 8, 9, 15, 16, 17, 24, 33, 100):
        for k in (1, 2, 7, 16):
            a = rng.standard_normal((m, k)) * np.exp2(rng.integers(-30, 30, (m, k)))
            for width in (1, 3, 4, 5, 6, 7, 11, 12, 13, 25):
                b = rng.standard_normal((width, k)) * np.exp2(rng.integers(-30, 30, (width, k)))
                got = _core.fixed_order_matmul(a, b, tiles)
                np.testing.assert_array_equal(got, plain_products(a, b), err_msg=f"m={m} k={k} width={width}")


def test_the_product_refuses_bad_shapes_and_tilings():
    with pytest.raises(ValueError, match="tiles"):
        _core.fixed_order_matmul(np.eye(2), np.ones((3, 2)), "9x9")
    with pytest.raises(ValueError, match="b must"):
        _core.fixed_order_matmul(np.eye(2), np.ones((3, 4)))
