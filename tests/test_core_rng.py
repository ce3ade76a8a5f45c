"""The counter-based generator of the core: Philox4x32-10 and the per-step draws the engine consumes.

Statistical checks use fixed seeds and tolerances of 5 standard errors, so each one is deterministic and a
correct generator fails it with probability below 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import escapade
from escapade import _core

from conftest import N_SIGMA

MASK32 = 0xFFFFFFFF
TWO32 = 4294967296.0
Z_CUTOFF = 6.77  # sqrt(-2 ln 2^-33) = 6.7635: the largest |z| Box-Muller on 32-bit words can give


def philox_reference(counter, key):
    """Philox4x32-10 written from the Salmon et al. (SC'11) description, in plain Python integers."""
    c0, c1, c2, c3 = (int(w) & MASK32 for w in counter)
    k0, k1 = (int(w) & MASK32 for w in key)
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return [c0, c1, c2, c3]


# Random123 kat_vectors, philox4x32 with 10 rounds.
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox_known_answers(counter, key, expected):
    assert [int(w) for w in _core.philox4x32_10(list(counter), list(key))] == list(expected)


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_reference_philox_known_answers(counter, key, expected):
    # The pure-Python version used below is itself right.
    assert philox_reference(counter, key) == list(expected)


def test_philox_matches_reference_on_random_inputs():
    rng = np.random.default_rng(20240601)
    for _ in range(50):
        counter = [int(w) for w in rng.integers(0, 2**32, size=4)]
        key = [int(w) for w in rng.integers(0, 2**32, size=2)]
        assert [int(w) for w in _core.philox4x32_10(counter, key)] == philox_reference(counter, key)


def reference_step_draws(seed, path, step, k):
    """Normals and uniform of one (seed, path, step) from the documented counter layout of rng.hpp: step field
    q = step // 4; draw i < k holds coordinate i's Box-Muller pairs (words 0, 1 for steps 4q, 4q + 1; words 2, 3
    for steps 4q + 2, 4q + 3), draw k the crossing-test uniforms (word s for step 4q + s)."""
    quad, s = divmod(step, 4)
    key = [seed & MASK32, seed >> 32]

    def words(draw):
        return philox_reference([draw | ((quad >> 32) << 16), quad & MASK32, path & MASK32, path >> 32], key)

    z = np.empty(k)
    for i in range(k):
        w = words(i)
        h = 2 * (s // 2)  # the pair of words of this step's Box-Muller pair
        radius = math.sqrt(-2.0 * math.log((w[h] + 0.5) / TWO32))
        angle = 2.0 * math.pi * w[h + 1] / TWO32
        z[i] = radius * (math.sin(angle) if s % 2 else math.cos(angle))
    u = (words(k)[s] + 0.5) / TWO32
    return z, u


@pytest.mark.parametrize(
    ("seed", "path", "step", "k"),
    [
        (0, 0, 0, 1),
        (0, 0, 1, 1),
        (0, 0, 2, 1),
        (0, 0, 3, 1),
        (0, 3, 6, 1),
        (12345, 7, 10, 3),
        (12345, 7, 11, 3),
        (2**63 + 987654321, 2**40 + 3, 2**35 + 1, 2),  # high words of seed, path and quad index in use
        (2**64 - 1, 2**64 - 1, 2**48 - 3, 6),  # the largest step the engine runs, all-ones seed and path
        # From 32 coordinates on, the normals are drawn lane by lane in vectors over the draws.
        (12345, 7, 10, 32),
        (12345, 7, 13, 37),
        (2**63 + 987654321, 2**40 + 3, 2**35 + 2, 40),
        (2**64 - 1, 2**64 - 1, 2**48 - 3, 33),
    ],
)
def test_step_draws_follow_documented_counter_layout(seed, path, step, k):
    z, u = _core.step_draws(seed, np.array([path], dtype=np.uint64), step, k)
    assert z.shape == (1, k) and u.shape == (1,)
    z_ref, u_ref = reference_step_draws(seed, path, step, k)
    assert u[0] == u_ref  # (w + 1/2) / 2^32 is exact in double precision
    np.testing.assert_allclose(z[0], z_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [31, 32, 45])
@pytest.mark.parametrize("step", [0, 7])
def test_a_path_draws_do_not_depend_on_the_others(k, step):
    """Each path's row is the same bits drawn alone or with 10 others (vectors over 8 lanes and a tail; below and
    from 32 coordinates, where the normals are drawn lane by lane), and follows the documented layout."""
    paths = np.arange(11, dtype=np.uint64) * np.uint64(2**33 + 17) + np.uint64(5)
    z, u = _core.step_draws(99, paths, step, k)
    for i, path in enumerate(paths):
        z1, u1 = _core.step_draws(99, np.array([path]), step, k)
        np.testing.assert_array_equal(z[i], z1[0])
        assert u[i] == u1[0]
    z_ref, _ = reference_step_draws(99, int(paths[-1]), step, k)
    np.testing.assert_allclose(z[-1], z_ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Distribution of the draws


N_PATHS = 250_000
SEED = 2024


@pytest.fixture(scope="module")
def draws():
    """Normals (n, 2) and uniforms (n,) for steps 0..7 (two quads) of N_PATHS paths: 4e6 normals in all."""
    paths = np.arange(N_PATHS, dtype=np.uint64)
    out = {}
    for step in range(8):
        z, u = _core.step_draws(SEED, paths, step, 2)
        out[step] = (z, u)
    return out


@pytest.fixture(scope="module")
def normals(draws):
    return np.concatenate([draws[s][0].ravel() for s in range(8)])


def assert_within(value, expected, se, what):
    assert abs(value - expected) <= N_SIGMA * se, f"{what}: {value} vs {expected} (SE {se:.3g})"


def test_normal_moments(normals):
    z = normals
    n = z.size
    mean = z.mean()
    c = z - mean
    var = np.mean(c**2)
    skew = np.mean(c**3) / var**1.5
    kurt = np.mean(c**4) / var**2
    assert_within(mean, 0.0, 1 / math.sqrt(n), "mean")
    assert_within(var, 1.0, math.sqrt(2 / n), "variance")
    assert_within(skew, 0.0, math.sqrt(6 / n), "skewness")
    assert_within(kurt, 3.0, math.sqrt(24 / n), "kurtosis")
    # Odd moments of each coordinate and each step separately (cos and sin halves of the pairs).
    assert_within(np.mean(z**3), 0.0, math.sqrt(15 / n), "third moment")
    assert_within(np.mean(z**6), 15.0, math.sqrt((10395 - 225) / n), "sixth moment")


@pytest.mark.parametrize("c", [1.0, 2.0, 3.0, 4.0])
def test_normal_tail_probabilities(normals, c):
    n = normals.size
    p = 2 * stats.norm.sf(c)
    observed = np.count_nonzero(np.abs(normals) > c) / n
    assert_within(observed, p, math.sqrt(p * (1 - p) / n), f"P(|z| > {c})")


@pytest.mark.parametrize("step", [0, 1])
def test_one_sided_tails_are_symmetric(draws, step):
    z = draws[step][0].ravel()
    n = z.size
    p = stats.norm.sf(2.5)
    for tail in (np.count_nonzero(z > 2.5) / n, np.count_nonzero(z < -2.5) / n):
        assert_within(tail, p, math.sqrt(p * (1 - p) / n), "one-sided tail beyond 2.5")


def test_normal_kolmogorov_smirnov(normals):
    assert stats.kstest(normals, "norm").pvalue > 1e-4


@pytest.mark.parametrize("step", range(8))
def test_each_step_and_coordinate_is_standard_normal(draws, step):
    z = draws[step][0]
    for i in range(z.shape[1]):
        assert stats.kstest(z[:, i], "norm").pvalue > 1e-4


def test_normals_respect_documented_cutoff(normals):
    assert np.all(np.isfinite(normals))
    assert np.abs(normals).max() <= Z_CUTOFF
    assert np.abs(normals).max() > 4.5  # the tails are really there


def test_uniforms(draws):
    u = np.concatenate([draws[s][1] for s in range(8)])
    n = u.size
    assert u.dtype == np.float64
    assert np.all(u > 0.0) and np.all(u < 1.0)
    assert_within(u.mean(), 0.5, math.sqrt(1 / 12 / n), "uniform mean")
    assert_within(u.var(), 1 / 12, math.sqrt(1 / 180 / n), "uniform variance")
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # All 2^32 values are of the form (w + 1/2) / 2^32.
    w = u * TWO32 - 0.5
    np.testing.assert_array_equal(w, np.round(w))


def assert_uncorrelated(a, b, what):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) <= N_SIGMA / math.sqrt(a.size), f"{what}: correlation {r}"


def test_coordinates_are_uncorrelated(draws):
    for step in range(4):
        z = draws[step][0]
        assert_uncorrelated(z[:, 0], z[:, 1], f"coordinates at step {step}")
        assert_uncorrelated(z[:, 0] ** 2, z[:, 1] ** 2, f"squared coordinates at step {step}")


def test_box_muller_partners_are_independent(draws):
    # Steps 2m and 2m + 1 are r cos t and r sin t of one pair: independent normals, so both the values and the
    # squares are uncorrelated (a shared radius without the angle would correlate the squares).
    for even in (0, 2, 4, 6):
        ze, zo = draws[even][0], draws[even + 1][0]
        assert_uncorrelated(ze, zo, f"steps {even} and {even + 1}")
        assert_uncorrelated(ze**2, zo**2, f"squares of steps {even} and {even + 1}")
        assert_uncorrelated(np.abs(ze), np.abs(zo), f"|z| of steps {even} and {even + 1}")


def test_consecutive_pairs_are_uncorrelated(draws):
    # steps 1 and 2: the two pairs of one Philox call; steps 3 and 4: the last and first pair of two quads
    for a, b in ((1, 2), (0, 2), (3, 4), (0, 4)):
        assert_uncorrelated(draws[a][0], draws[b][0], f"steps {a} and {b}")
        assert_uncorrelated(draws[a][0] ** 2, draws[b][0] ** 2, f"squares of steps {a} and {b}")


def test_neighbouring_paths_are_uncorrelated(draws):
    z = draws[0][0][:, 0]
    assert_uncorrelated(z[:-1], z[1:], "paths p and p + 1")
    assert_uncorrelated(z[:-1] ** 2, z[1:] ** 2, "squares, paths p and p + 1")
    assert_uncorrelated(z[:-2**16], z[2**16:], "paths p and p + 2^16")


@pytest.mark.parametrize("other_seed", [SEED + 1, SEED + 2**32, SEED ^ (1 << 63)])
def test_seeds_are_uncorrelated(draws, other_seed):
    z_other, u_other = _core.step_draws(other_seed, np.arange(N_PATHS, dtype=np.uint64), 0, 2)
    z, u = draws[0]
    assert_uncorrelated(z, z_other, f"seeds {SEED} and {other_seed}")
    assert_uncorrelated(z**2, z_other**2, f"squares, seeds {SEED} and {other_seed}")
    assert_uncorrelated(u, u_other, f"uniforms, seeds {SEED} and {other_seed}")


def test_uniforms_independent_of_normals(draws):
    for step in range(8):
        z, u = draws[step]
        assert_uncorrelated(u, z[:, 0], f"u and z at step {step}")
        assert_uncorrelated(u, z[:, 1] ** 2, f"u and z^2 at step {step}")
    for a, b in ((0, 1), (3, 4)):
        assert_uncorrelated(draws[a][1], draws[b][1], f"uniforms of steps {a} and {b}")


# ---------------------------------------------------------------------------------------------------------------
# The draws are a pure function of (seed, path, step)


def test_same_inputs_same_outputs():
    paths = np.arange(0, 1000, 3, dtype=np.uint64)
    z1, u1 = _core.step_draws(99, paths, 17, 5)
    z2, u2 = _core.step_draws(99, paths, 17, 5)
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(u1, u2)


def test_different_seed_different_outputs():
    paths = np.arange(1000, dtype=np.uint64)
    z1, u1 = _core.step_draws(99, paths, 4, 3)
    z2, u2 = _core.step_draws(100, paths, 4, 3)
    assert np.all(z1 != z2)
    assert np.all(u1 != u2)


def test_different_step_different_outputs():
    paths = np.arange(1000, dtype=np.uint64)
    z0, u0 = _core.step_draws(99, paths, 4, 3)
    for step in (5, 6, 8, 4 + 4 * 2**32):  # the partner step, the next pair, the next quad, a quad index >= 2^32
        z, u = _core.step_draws(99, paths, step, 3)
        assert np.all(z != z0)
        assert np.all(u != u0)


def test_permuted_paths_give_permuted_outputs():
    paths = np.arange(500, dtype=np.uint64) * 7919 + 11
    perm = np.random.default_rng(5).permutation(paths.size)
    z, u = _core.step_draws(3, paths, 9, 4)
    zp, up = _core.step_draws(3, paths[perm], 9, 4)
    np.testing.assert_array_equal(zp, z[perm])
    np.testing.assert_array_equal(up, u[perm])


def test_draws_do_not_depend_on_the_other_paths():
    paths = np.arange(64, dtype=np.uint64)
    z, u = _core.step_draws(3, paths, 2, 2)
    for p in (0, 1, 13, 63):
        zp, up = _core.step_draws(3, np.array([p], dtype=np.uint64), 2, 2)
        np.testing.assert_array_equal(zp[0], z[p])
        assert up[0] == u[p]
    zs, us = _core.step_draws(3, paths[10:50], 2, 2)
    np.testing.assert_array_equal(zs, z[10:50])
    np.testing.assert_array_equal(us, u[10:50])


def test_normals_do_not_depend_on_k_beyond_their_own_words():
    # Coordinate i of a k-dimensional draw uses words 2i and 2i + 1 of the pair's counter whatever k is.
    paths = np.arange(200, dtype=np.uint64)
    z1, _ = _core.step_draws(8, paths, 6, 1)
    z3, _ = _core.step_draws(8, paths, 6, 3)
    np.testing.assert_array_equal(z3[:, 0], z1[:, 0])


def test_pair_steps_share_the_radius():
    paths = np.arange(1000, dtype=np.uint64)
    ze, ue = _core.step_draws(21, paths, 40, 3)
    zo, uo = _core.step_draws(21, paths, 41, 3)
    zn, _ = _core.step_draws(21, paths, 42, 3)
    r2 = ze**2 + zo**2
    # -2 log u of the radius word: chi-square with 2 degrees of freedom, reproduced by the pair.
    assert stats.kstest(r2.ravel(), stats.chi2(2).cdf).pvalue > 1e-4
    assert not np.allclose(r2, ze**2 + zn**2)
    assert np.all(ue != uo)  # each step of the pair has its own crossing-test uniform


# ---------------------------------------------------------------------------------------------------------------
# The engine uses exactly these draws


def test_engine_uses_step_draws():
    # With a flat landscape the Euler-Maruyama step is x_{s+1} = x_s + sqrt(2 T dt) z_s, computed the same way
    # in numpy, so every recorded position must agree bit for bit.
    temperature, dt, seed, n_steps = 0.3, 0.05, 12345, 9
    x0 = np.array([0.5, -0.25])
    res = escapade.simulate(
        escapade.Quadratic(np.zeros((2, 2))),
        escapade.Langevin(temperature=temperature, dt=dt),
        x0=x0,
        n_paths=6,
        max_steps=n_steps,
        seed=seed,
        threads=1,
        record_paths=6,
        record_every=1,
    )
    scale = math.sqrt(2.0 * temperature * dt)
    paths = np.arange(6, dtype=np.uint64)
    x = np.tile(x0, (6, 1))
    for p in range(6):
        t, xs = res.trajectories[p]
        assert xs.shape == (n_steps + 1, 2)
        np.testing.assert_array_equal(xs[0], x0)
    for step in range(n_steps):
        z, _ = _core.step_draws(seed, paths, step, 2)
        x = x + scale * z
        for p in range(6):
            np.testing.assert_array_equal(res.trajectories[p][1][step + 1], x[p])
