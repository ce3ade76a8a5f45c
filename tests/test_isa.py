"""One portable build, the same bits at every instruction-set level: each x86-64 level of a portable build
(ESCAPADE_PORTABLE) that this CPU runs, imported in its own process through ESCAPADE_ISA, gives the same digests of
runs that step every dynamics (tests/isa_digest.py); build_info() names the level in use; the choice of a level."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import escapade as esc
from escapade import _core, _isa

HERE = Path(__file__).resolve().parent


def portable_levels() -> list[str]:
    """The levels of the installed portable build that this CPU runs, best first; none for a source build."""
    if importlib.util.find_spec("escapade._cpu") is None:
        return []
    from escapade import _cpu

    return [level for level in _cpu.levels() if importlib.util.find_spec(_isa.module_name(level)) is not None]


def digests(level: str) -> dict[str, str]:
    env = dict(os.environ, ESCAPADE_ISA=level, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(HERE / "isa_digest.py")], env=env, capture_output=True, text=True,
                         check=True, timeout=600).stdout
    return dict(line.split() for line in out.splitlines())


@pytest.mark.skipif(len(portable_levels()) < 2, reason="needs a portable build on a CPU that runs two levels or more")
def test_every_level_computes_the_same_bits():
    levels = portable_levels()
    got = {level: digests(level) for level in levels}
    reference = got[levels[0]]
    assert len(reference) > 10
    for level in levels[1:]:
        differ = [case for case in reference if got[level].get(case) != reference[case]]
        assert not differ, f"{level} differs from {levels[0]} in {differ}"


def test_build_info_names_the_instruction_set():
    info = _core.build_info()
    if info["native"]:
        assert info["isa"] == "native" and "-march=native" in info["flags"]
    elif portable_levels():
        assert info["isa"] == (os.environ.get("ESCAPADE_ISA") or portable_levels()[0])
        assert f"-march={info['isa']}" in info["flags"]
    else:
        assert info["isa"] == "x86-64" and "-march" not in info["flags"]


def test_choose_a_level():
    assert _isa.choose(["x86-64-v4", "x86-64-v3", "x86-64-v2"], None) == "x86-64-v4"
    assert _isa.choose(["x86-64-v3", "x86-64-v2"], None) == "x86-64-v3"
    assert _isa.choose(["x86-64-v4", "x86-64-v3", "x86-64-v2"], "x86-64-v2") == "x86-64-v2"
    with pytest.raises(ImportError, match="ESCAPADE_ISA=x86-64-v4: this CPU does not run it"):
        _isa.choose(["x86-64-v3", "x86-64-v2"], "x86-64-v4")
    with pytest.raises(ImportError, match="ESCAPADE_ISA must be one of .*got 'avx512'"):
        _isa.choose(["x86-64-v3"], "avx512")
    with pytest.raises(ImportError, match="needs an x86-64-v2 CPU"):
        _isa.choose([], None)


# The core's dense routines in plain fixed-order arithmetic (jacobi.hpp and the sites that use it), against numpy.

def _dense(rng: np.random.Generator, d: int, shift: float) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + shift * np.eye(d)


def test_hessian_noise_root_is_numpys_psd_square_root():
    # A dense indefinite 6 x 6 Hessian (two negative eigenvalues, clipped): 12 steps of Gaussian SGD against numpy.
    rng = np.random.default_rng(21)
    H = _dense(rng, 6, -0.3)
    assert np.sum(np.linalg.eigvalsh(H) < 0) >= 1
    c = 0.1 * rng.normal(size=6)
    w, V = np.linalg.eigh(H)
    R = (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T
    seed, steps, lr, B = 4, 12, 0.05, 2.0
    x0 = 0.2 * rng.normal(size=(5, 6))
    res = esc.simulate(esc.Quadratic(H, center=c), esc.GaussianSGD(lr=lr, batch_size=B, C="hessian"), x0=x0,
                       max_steps=steps, seed=seed, record_paths=5)
    x = x0.copy()
    for t in range(steps):
        z, _ = _core.step_draws(seed, np.arange(5, dtype=np.uint64), t, 6)
        x = x - lr * (x - c) @ H + lr / np.sqrt(B) * z @ R
    final = np.array([xs[-1] for _, xs in res.trajectories])
    np.testing.assert_allclose(final, x, rtol=1e-12, atol=1e-13)


def test_hessian_noise_root_with_repeated_eigenvalues_in_30_dimensions():
    # Repeated eigenvalues (a multiple root's eigenvectors are not unique, its root is) and negative ones.
    rng = np.random.default_rng(30)
    q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    lam = np.repeat([3.0, 2.0, 0.5, -1.0, -0.25], 6)
    H = (q * lam) @ q.T
    R = (q * np.sqrt(np.clip(lam, 0.0, None))) @ q.T
    lr, B = 0.01, 1.0
    x0 = 0.1 * rng.normal(size=(16, 30))
    res = esc.simulate(esc.Quadratic(H), esc.GaussianSGD(lr=lr, batch_size=B, C="hessian"), x0=x0, max_steps=1,
                       seed=7, record_paths=16)
    z, _ = _core.step_draws(7, np.arange(16, dtype=np.uint64), 0, 30)
    final = np.array([xs[-1] for _, xs in res.trajectories])
    np.testing.assert_allclose(final, x0 - lr * x0 @ H + lr * z @ R, rtol=1e-12, atol=1e-13)


def _mlp_hessian(X: np.ndarray, y: np.ndarray, h: int, l2: float, th: np.ndarray) -> np.ndarray:
    # (1/n) sum_i (J_i^T J_i + e_i Hess yhat_i) + l2 I for one output; theta = (W1 (h x p, by rows), b1, W2, b2).
    n, p = X.shape
    P = h * p + 2 * h + 1
    W1, b1, W2 = th[: h * p].reshape(h, p), th[h * p: h * p + h], th[h * p + h: h * p + 2 * h]
    iw = np.concatenate([np.arange(h * p).reshape(h, p), (h * p + np.arange(h))[:, None]], axis=1)  # (h, p + 1)
    out = l2 * np.eye(P)
    for xi, yi in zip(X, y):
        xt = np.append(xi, 1.0)
        a = np.tanh(W1 @ xi + b1)
        d1 = 1 - a * a
        e = W2 @ a + th[-1] - yi
        J = np.zeros(P)
        J[iw] = (W2 * d1)[:, None] * xt
        J[h * p + h: h * p + 2 * h] = a
        J[-1] = 1.0
        Hy = np.zeros((P, P))
        for k in range(h):
            Hy[np.ix_(iw[k], iw[k])] += W2[k] * (-2 * a[k] * d1[k]) * np.outer(xt, xt)
            Hy[h * p + h + k, iw[k]] += d1[k] * xt
            Hy[iw[k], h * p + h + k] += d1[k] * xt
        out += (np.outer(J, J) + e * Hy) / n
    return out


def test_mlp_hessian_is_numpys():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 3))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=30)
    f = esc.MLP(X, y, 4, l2=0.01)
    th = 0.5 * rng.normal(size=f.dim)
    H = f.hessian(th)
    np.testing.assert_allclose(H, _mlp_hessian(X, y, 4, 0.01, th), rtol=1e-12, atol=1e-13)
    assert np.array_equal(H, H.T)


def test_score_with_a_dense_noise_matrix_uses_numpys_pseudo_inverse():
    # One step of Langevin with a dense 6 x 8 S (rank 6: noise of lower rank takes finite differences): the score
    # of a landscape scale is c g(x0)^T M z with M = pinv(S^T), the same constant c on every lane
    # (c = -dt / (height eps sqrt(dt))).
    rng = np.random.default_rng(8)
    S = np.eye(6, 8) + 0.3 * rng.normal(size=(6, 8))
    eps, dt, height = 0.5, 1e-2, 1.3
    f = esc.DoubleWell(dim=6, height=height)
    x0 = 0.4 * rng.normal(size=(8, 6))
    res = esc.simulate(f, esc.Langevin(eps=eps, S=S, dt=dt), x0=x0, max_steps=1, seed=2, threads=1,
                       sensitivities=["landscape.height"])
    z, _ = _core.step_draws(2, np.arange(8, dtype=np.uint64), 0, 8)
    mz = z @ np.linalg.pinv(S.T).T
    want = np.einsum("li,li->l", f.gradient(x0), mz) * (-dt / (height * eps * np.sqrt(dt)))
    np.testing.assert_allclose(np.asarray(res.score_sum).reshape(-1), want, rtol=1e-12, atol=1e-14)
