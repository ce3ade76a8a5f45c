"""Chunked local runs: any cut of the path range merges into the bits of one run. Bad execution arguments (client,
keep, chunk_size, sweep grids and seeds) are refused before anything is written."""

from __future__ import annotations

import pytest

from escapade import sweep

from conftest import W1, assert_same_result, w1


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 333, 599, 600, 5000])
def test_chunked_local_equals_unchunked(chunk_size, count_chunks):
    n = 600
    kw = dict(n_paths=n, t_max=200.0, record_paths=5, record_every=50)
    whole = w1(**kw)
    assert count_chunks == [(0, n)]
    count_chunks.clear()
    chunked = w1(chunk_size=chunk_size, threads=1, **kw)
    assert_same_result(whole, chunked)
    assert count_chunks == [(first, min(chunk_size, n - first)) for first in range(0, n, chunk_size)]


# ---------------------------------------------------------------------------------------------------------------
# Bad input


def small_sweep(**kw):
    args = dict(W1, grid={"dynamics.temperature": [0.1]}, n_paths=10, seed=1, t_max=1.0)
    args.update(kw)
    return sweep(args.pop("landscape"), args.pop("dynamics"), **args)


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        pytest.param(lambda: w1(n_paths=10, client=object()), TypeError, "client", id="client-object"),
        pytest.param(lambda: w1(n_paths=10, client="tcp://localhost:8786"), TypeError, "client", id="client-str"),
        pytest.param(lambda: w1(n_paths=10, keep="all"), ValueError, "keep", id="keep-all"),
        pytest.param(lambda: w1(n_paths=10, keep=None), ValueError, "keep", id="keep-none"),
        pytest.param(lambda: w1(n_paths=10, chunk_size=0), ValueError, "chunk_size", id="chunk_size-0"),
        pytest.param(lambda: w1(n_paths=10, chunk_size=-5), ValueError, "chunk_size", id="chunk_size-negative"),
        pytest.param(lambda: w1(n_paths=10, chunk_size=2.5), TypeError, "chunk_size", id="chunk_size-float"),
        pytest.param(lambda: small_sweep(grid={"dynamics.nope": [1]}), ValueError, "dynamics.nope",
                     id="sweep-unknown-field"),
        pytest.param(lambda: small_sweep(grid={"nope.x": [1]}), ValueError, "nope.x", id="sweep-unknown-spec"),
        pytest.param(lambda: small_sweep(grid={"x0.radius": [1]}), ValueError, "x0.radius",
                     id="sweep-field-of-an-array"),
        pytest.param(lambda: small_sweep(grid={}), ValueError, "grid", id="sweep-empty-grid"),
        pytest.param(lambda: small_sweep(grid={"bridge": []}), ValueError, "bridge", id="sweep-empty-values"),
        pytest.param(lambda: small_sweep(grid=[("bridge", [True])]), ValueError, "grid", id="sweep-grid-not-mapping"),
        pytest.param(lambda: small_sweep(grid={"nope": [1]}), TypeError, "nope", id="sweep-unknown-argument"),
        pytest.param(lambda: small_sweep(grid={"dynamics.temperature": [-1.0]}), ValueError, "temperature",
                     id="sweep-bad-value"),
        pytest.param(lambda: small_sweep(seeds="x"), ValueError, "seeds", id="sweep-seeds"),
        pytest.param(lambda: small_sweep(client=object()), TypeError, "client", id="sweep-client"),
        pytest.param(lambda: small_sweep(keep="all"), ValueError, "keep", id="sweep-keep"),
        pytest.param(lambda: small_sweep(chunk_size=0), ValueError, "chunk_size", id="sweep-chunk_size"),
    ],
)
def test_bad_execution_arguments(call, exc, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc, match=name.replace(".", r"\.")):
        call()
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_valid_run_after_rejections():
    with pytest.raises(TypeError):
        w1(n_paths=10, client=object())
    res = w1(n_paths=10, t_max=1.0, chunk_size=3)
    assert res.n_paths == 10
