"""SGD-k's sampling and the finite sums' block kernels: exact laws of the draws, the scalar terms' bits, and the
same bits whatever the thread count and block width."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

import escapade as esc
from escapade.experiments import quadratic_circle_model


def marker_st(n, p=None):
    """A Styblinski-Tang sum on R^n whose term i has gradient e_i at 0 (c3 = 2 I, c1 = c2 = 0): one step of lr 1
    from 0 is -(1/k) sum of the drawn e_i (times n p_i without replacement under non-uniform p)."""
    z = np.zeros((n, n))
    return esc.StyblinskiTangSum(z, z, 2.0 * np.eye(n), p=p)


def one_step_batches(f, k, replace, n_paths, seed, lanes=None):
    res = esc.simulate(f, esc.SGDk(lr=1.0, batch_size=k, replace=replace), x0=np.zeros(f.dim), n_paths=n_paths,
                       max_steps=1, seed=seed, lanes=lanes)
    return np.rint(-k * res.final_position).astype(int)  # counts per term, a row per path


def test_without_replacement_every_subset_is_equally_likely():
    # n = 6, k = 3: the 20 subsets, each with probability 1/20; chi-square over 20,000 batches, fixed seed.
    n, k, N = 6, 3, 20_000
    counts = one_step_batches(marker_st(n), k, False, N, seed=3)
    assert counts.max() == 1 and np.all(counts.sum(axis=1) == k)
    index = {s: j for j, s in enumerate(itertools.combinations(range(n), k))}
    seen = np.bincount([index[tuple(np.flatnonzero(c))] for c in counts], minlength=len(index))
    assert stats.chisquare(seen).pvalue > 1e-3, seen
    # ordered pairs of draws within a batch: every pair i < j in the batch with probability k(k-1)/(n(n-1))
    pairs = counts.T @ counts
    off = pairs[~np.eye(n, dtype=bool)]
    assert stats.chisquare(off).pvalue > 1e-3, pairs


@pytest.mark.parametrize("k, lanes", [(40, None), (3, 4)], ids=["bits", "counting-sort"])
def test_without_replacement_from_many_terms_includes_each_with_probability_k_over_n(k, lanes):
    # n = 300 (the pool, the block kernel's 16- and 8-wide chunks), k = 40 on blocks of 64 lanes (the block's draws
    # grouped by a bit per term and lane) or k = 3 on blocks of 4 (sparse: a counting sort): inclusion counts over
    # N batches have covariance N pi (1 - pi) (I - 11'/n) n / (n - 1), pi = k / n, so the scaled sum of squares is
    # chi-square(n - 1).
    n, N = 300, 3000 if k == 40 else 20_000
    counts = one_step_batches(marker_st(n), k, False, N, seed=5, lanes=lanes)
    assert counts.max() == 1 and np.all(counts.sum(axis=1) == k)
    c = counts.sum(axis=0)
    pi = k / n
    q = np.sum((c - N * pi) ** 2) / (N * pi * (1 - pi) * n / (n - 1))
    assert stats.chi2.sf(q, n - 1) > 1e-3 and stats.chi2.cdf(q, n - 1) > 1e-3, q


def test_with_replacement_draws_each_term_with_its_probability():
    p = np.array([0.05, 0.25, 0.0, 0.3, 0.4])  # a zero-weight term is never drawn
    n, k, N = len(p), 7, 5000
    res = esc.simulate(marker_st(n, p), esc.SGDk(lr=1.0, batch_size=k, replace=True), x0=np.zeros(n), n_paths=N,
                       max_steps=1, seed=2)
    counts = np.rint(-k * res.final_position).astype(int)
    assert np.all(counts.sum(axis=1) == k) and counts[:, 2].max() == 0
    total = counts.sum(axis=0)
    keep = p > 0
    assert stats.chisquare(total[keep], k * N * p[keep]).pvalue > 1e-3, total


def scalar_reference(f):
    """The same finite sum through a batched callback that calls the built-in's scalar term gradient per lane:
    SGD-k then takes the fallback path (one call per rank of the sorted batch), the reference for the kernels."""
    return esc.BatchedLandscape(f.dim, term_gradients=lambda t, x: np.stack([f.term_gradient(int(i), xl)
                                                                             for i, xl in zip(t, x)]),
                                n_terms=f.n_terms, p=f.weights)


def builtin_sums():
    rng = np.random.default_rng(7)
    st = esc.StyblinskiTangSum.random(37, 50, seed=1)  # 37 coordinates: two 16-wide chunks and a padded 8-wide one
    B = rng.normal(size=(9, 4, 4))
    return {
        "styblinski-tang": (st, np.full(37, 0.5), 1e-3),
        "styblinski-tang-weighted": (esc.StyblinskiTangSum(st.c1, st.c2, st.c3, p=rng.dirichlet(np.ones(50))),
                                     np.full(37, 0.5), 1e-3),
        "stochastic-quadratic-weighted": (esc.StochasticQuadratic(np.einsum("nij,nkj->nik", B, B),
                                                                  rng.normal(size=(9, 4)), p=rng.dirichlet(np.ones(9))),
                                          np.zeros(4), 0.05),
        "least-squares": (esc.LeastSquares(rng.normal(size=(20, 5)), rng.normal(size=20), l2=0.1), np.zeros(5), 0.05),
        "quadratic-circle": (quadratic_circle_model(1), np.array([0.3, -14.8]), 0.05),
        "mlp": (esc.MLP(rng.normal(size=(15, 3)), rng.normal(size=15), hidden=3, l2=0.01), np.full(16, 0.1), 0.05),
    }


@pytest.mark.parametrize("name", list(builtin_sums()))
@pytest.mark.parametrize("replace", [False, True], ids=["without", "with"])
def test_block_kernels_have_the_bits_of_the_scalar_terms(name, replace):
    f, center, lr = builtin_sums()[name]
    k = max(2, f.n_terms // 3)
    kw = dict(x0=esc.UniformBall(center, 0.3), n_paths=40, max_steps=12, seed=9, lanes=16)
    a = esc.simulate(f, esc.SGDk(lr, k, replace=replace), **kw)
    b = esc.simulate(scalar_reference(f), esc.SGDk(lr, k, replace=replace), **kw)
    if name == "mlp":
        # An MLP term adds to a coordinate twice (the l2 part, then the backpropagated part); the built-in adds both
        # into the running sum, the callback's term arrives summed: the same to rounding.
        np.testing.assert_allclose(a.final_position, b.final_position, rtol=1e-12, atol=1e-14)
        return
    np.testing.assert_array_equal(a.final_position, b.final_position)


@pytest.mark.parametrize(("d", "n", "k", "lanes"), [(5, 200, 2, 16), (70, 40, 4, 64), (12, 40, 4, 64)],
                         ids=["term-by-term", "product-from-d-64", "term-by-term-below-d-64"])
@pytest.mark.parametrize("replace", [False, True], ids=["without", "with"])
def test_least_squares_kernels_have_the_bits_of_the_scalar_terms(d, n, k, lanes, replace):
    # LeastSquares takes every residual of the block as one product X^T W when the block drew enough of its
    # (term, lane) pairs (1/8; 1/16 from d = 64) and goes term by term otherwise: both against the scalar terms.
    rng = np.random.default_rng(d)
    f = esc.LeastSquares(rng.normal(size=(n, d)), rng.normal(size=n), l2=0.05)
    kw = dict(x0=esc.UniformBall(np.zeros(d), 0.5), n_paths=2 * lanes + 3, max_steps=6, seed=2, lanes=lanes)
    a = esc.simulate(f, esc.SGDk(0.02, k, replace=replace), **kw)
    b = esc.simulate(scalar_reference(f), esc.SGDk(0.02, k, replace=replace), **kw)
    np.testing.assert_array_equal(a.final_position, b.final_position)


@pytest.mark.parametrize(("lanes", "outputs"), [(16, 1), (7, 2)])
@pytest.mark.parametrize("replace", [False, True], ids=["without", "with"])
def test_mlp_kernel_has_the_bits_of_the_scalar_terms_without_l2(lanes, outputs, replace):
    # With l2 = 0 the built-in's two additions per coordinate (0 * theta, then the backpropagated part) and the
    # callback's one (the term's gradient, summed from 0) agree bit for bit, so the block kernel (W1 transposed
    # per lane, the hidden units' pre-activations in vectors) is checked exactly; 11 hidden units: a vector of 8
    # and a tail.
    rng = np.random.default_rng(4)
    f = esc.MLP(rng.normal(size=(30, 6)), rng.normal(size=(30, outputs)).squeeze(), hidden=11, l2=0.0)
    kw = dict(x0=esc.UniformBall(np.full(f.dim, 0.1), 0.3), n_paths=40, max_steps=10, seed=3, lanes=lanes)
    a = esc.simulate(f, esc.SGDk(0.05, 4, replace=replace), **kw)
    b = esc.simulate(scalar_reference(f), esc.SGDk(0.05, 4, replace=replace), **kw)
    np.testing.assert_array_equal(a.final_position, b.final_position)


def vector_kernel_sums():
    """Sums whose block kernels work on whole vectors: 11 rows (one vector of 8 and a padded tail) for the
    stochastic quadratic, 8 or more lanes per term for the quadratic-circle sum (6 terms, k = 3, 64 lanes), weighted
    and not."""
    rng = np.random.default_rng(11)
    B = rng.normal(size=(7, 11, 11))
    Q, r = np.einsum("nij,nkj->nik", B, B) / 11, rng.normal(size=(7, 11))
    n = 6
    qc = dict(q1=rng.uniform(0.5, 2, n), q2=rng.uniform(0, 1, n), q3=rng.uniform(-0.5, 0.5, n),
              c1=rng.uniform(0.5, 2, n), c2=rng.uniform(0.1, 0.5, n), c3=rng.uniform(0.6, 1.5, n),
              c4=rng.uniform(0, 0.5, n))
    return {
        "stochastic-quadratic-11": (esc.StochasticQuadratic(Q, r), np.zeros(11), 0.05),
        "stochastic-quadratic-11-weighted": (esc.StochasticQuadratic(Q, r, p=rng.dirichlet(np.ones(7))), np.zeros(11),
                                             0.05),
        "quadratic-circle-6": (esc.QuadraticCircleSum(**qc), np.zeros(2), 0.05),
        "quadratic-circle-6-weighted": (esc.QuadraticCircleSum(**qc, p=rng.dirichlet(np.ones(n))), np.zeros(2), 0.05),
    }


@pytest.mark.parametrize("name", list(vector_kernel_sums()))
@pytest.mark.parametrize("replace", [False, True], ids=["without", "with"])
def test_vector_block_kernels_have_the_bits_of_the_scalar_terms(name, replace):
    # Starts spread over the quadratic-circle sum's three radial zones (flat, smoothstep, flat) and both basins.
    f, center, lr = vector_kernel_sums()[name]
    kw = dict(x0=esc.UniformBall(center, 1.5), n_paths=130, max_steps=8, seed=12, lanes=64)
    a = esc.simulate(f, esc.SGDk(lr, 3, replace=replace), **kw)
    b = esc.simulate(scalar_reference(f), esc.SGDk(lr, 3, replace=replace), **kw)
    np.testing.assert_array_equal(a.final_position, b.final_position)


@pytest.mark.parametrize("replace", [False, True], ids=["without", "with"])
def test_styblinski_tang_sgdk_is_bitwise_across_threads_and_lanes(replace):
    # Paths leave a small ball at different steps, so blocks refill and pack while the kernels run.
    f = esc.StyblinskiTangSum.random(37, 120, seed=3)
    c = f.sharpest_minimizer()
    kw = dict(x0=esc.UniformBall(c, 0.02), stop=esc.Ball(c, 0.15), n_paths=120, max_steps=150, seed=4)
    dyn = esc.SGDk(0.004, 30, replace=replace)
    a = esc.simulate(f, dyn, threads=1, lanes=1, **kw)
    b = esc.simulate(f, dyn, threads=2, lanes=64, **kw)
    c2 = esc.simulate(f, dyn, threads=2, lanes=5, **kw)
    c3 = esc.simulate(f, dyn, threads=1, lanes=100, **kw)  # two words of draws per term, the second part-filled
    assert len(np.unique(a.exit_step)) > 5  # the blocks did refill
    for r in (b, c2, c3):
        np.testing.assert_array_equal(a.exit_step, r.exit_step)
        np.testing.assert_array_equal(a.final_position, r.final_position)


def test_a_full_batch_without_replacement_draws_no_random_numbers():
    # k = n takes every term: SGD-k is gradient descent and draws nothing, so splitting (which needs a random
    # dynamics) refuses it as it refuses GD; one term fewer draws again.
    f = esc.StyblinskiTangSum.random(2, 5, seed=0)
    c = f.sharpest_minimizer()
    kw = dict(x0=c + 0.05, reactant=esc.Ball(c, 0.01), product=~esc.Ball(c, 0.5), n_replicas=4, n_runs=1, seed=0)
    with pytest.raises(ValueError, match="random"):
        esc.splitting(f, esc.SGDk(0.01, 5, replace=False), **kw)
    with pytest.raises(ValueError, match="random"):
        esc.splitting(f, esc.GD(0.01), **kw)
    esc.splitting(f, esc.SGDk(0.01, 4, replace=False), max_iterations=3, **kw)
