"""`escapade reproduce sgdk-thresholds` (004, Sections 4-5) and what it relies on: the per-term Hessians of the
quadratic-circle sums, the diagonal curvature estimator of the Styblinski-Tang sums, and the thresholds' prediction
on one Styblinski-Tang model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import convergence_threshold, divergence_threshold, local_curvature
from escapade.cli import main
from escapade.experiments import REPRODUCTIONS, sgdk_thresholds as rep


def _fd_hessians(f, x, h=1e-6):
    """Central differences of the per-term gradients: (n, 2, 2)."""
    out = np.empty((f.n_terms, 2, 2))
    for i in range(f.n_terms):
        for j in range(2):
            e = np.zeros(2)
            e[j] = h
            out[i, :, j] = (f.term_gradient(i, x + e) - f.term_gradient(i, x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("x", [[0.3, -0.4], [1.5, 2.0], [0.2, -14.9], [-3.0, -12.0], [0.0, 0.0], [0.05, 0.02]])
def test_quadratic_circle_term_hessians_match_finite_differences(x):
    f = esc.QuadraticCircleSum(q1=[0.2, 0.001, 0.05], q2=[0.1, 0.05, 0.3], q3=-15.0, c1=[10.0, 0.01, 2.0],
                               c2=[0.0, 0.1, 0.5], c3=[9.0, 11.0, 6.0], c4=[0.0, 0.0, 0.5])
    x = np.asarray(x, dtype=float)
    H = f.term_hessians(x)
    assert H.shape == (3, 2, 2)
    np.testing.assert_allclose(H, np.transpose(H, (0, 2, 1)))
    np.testing.assert_allclose(H, _fd_hessians(f, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.einsum("i,ijk->jk", f.p, H), f.hessian(x), rtol=1e-12, atol=1e-14)


def test_quadratic_circle_term_hessians_take_g_on_ties_and_check_x():
    # c4 = g(x) at x = (0, 0): a tie, where 004's Remark 3 takes the quadratic component.
    f = esc.QuadraticCircleSum(q1=1.0, q2=0.5, q3=-1.0, c1=1.0, c2=2.0, c3=3.0, c4=1.0)
    H = f.term_hessians([0.0, 0.0])
    np.testing.assert_allclose(H[0], [[-4 * 0.5 * 1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="x"):
        f.term_hessians([0.0, 0.0, 0.0])


def test_diagonal_curvature_is_local_curvature():
    st = esc.StyblinskiTangSum.random(3, 12, seed=5)
    for center in (st.flattest_minimizer(), st.sharpest_minimizer()):
        fast = rep.diagonal_local_curvature(st, center, 0.05, n_samples=50, seed=2)
        slow = local_curvature(st, center, 0.05, n_samples=50, seed=2)
        np.testing.assert_allclose(fast.lambdas, slow.lambdas, rtol=1e-10)
        np.testing.assert_allclose(fast.lambdas_se, slow.lambdas_se, rtol=1e-8, atol=1e-14)
        for name in ("s_f", "t_f", "s_se", "t_se"):
            assert getattr(fast, name) == pytest.approx(getattr(slow, name), rel=1e-8, abs=1e-12)
        assert fast.n_indefinite == slow.n_indefinite


def test_models_have_the_papers_sharp_flat_pattern():
    lam = {}
    for m in (1, 2, 3, 4):
        f = rep.quadratic_circle_model(m)
        for name, c in (("circle", [0.0, 0.0]), ("quadratic", [0.0, -15.0])):
            assert np.abs(f.gradient(c)).max() < 1e-12
            assert max(np.abs(f.term_gradient(i, c)).max() for i in range(f.n_terms)) < 1e-12  # homogeneous
            lam[m, name] = local_curvature(f, c, rep.EPS, n_samples=200, rank_rtol=rep.QC_RANK_RTOL).lambdas[0]
    for sharp, flat in [((1, "circle"), (3, "circle")), ((2, "circle"), (4, "circle")),
                        ((1, "quadratic"), (2, "quadratic")), ((3, "quadratic"), (4, "quadratic"))]:
        assert lam[sharp] > 50 * lam[flat]
    with pytest.raises(ValueError, match="model"):
        rep.quadratic_circle_model(5)


def test_reproduction_runs_small_and_reports_documented_keys(tmp_path):
    assert "sgdk-thresholds" in REPRODUCTIONS
    report = rep.run(paths=2, seed=0, threads=1, progress=False, models=("qc1", "st1"))
    doc = json.loads(json.dumps(report.data, allow_nan=False))
    assert {"name", "params", "thresholds", "rows", "summary", "elapsed"} <= set(doc)
    n = 2 * 2 * len(rep.BATCHES) * len(rep.RATES) * len(rep.RADII)
    assert len(doc["rows"]) == n
    keys = {"model", "minimizer", "k", "method", "lr_label", "lr", "radius", "diverged_fraction", "grew_fraction",
            "final_median_distance", "convergence_u", "divergence_l"}
    assert all(set(r) == keys for r in doc["rows"])
    assert {r["model"] for r in doc["rows"]} == {"qc1", "st1"}
    assert {r["lr_label"] for r in doc["rows"]} == set(rep.RATES)
    for t in doc["thresholds"]:
        assert len(t["convergence_u"]) == len(t["divergence_l"]) == len(rep.BATCHES)
        assert t["k"][-1] is None  # GD
        assert t["divergence_l"][-1] == pytest.approx(2 / t["lambda_m"])
        assert t["convergence_u"][-1] == pytest.approx(2 / t["lambda_1"])
    assert "separated" in doc["summary"] and "statement" in doc["summary"]
    assert "settings stable" in report.text
    assert len(report.figures) == 9  # by k and by radius per model and minimizer, and qc1's Figure 8
    report.figures["st1-flat-by-k"](tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 1000
    report.figures["qc1-quadratic-to-circle"](tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="models"):
        rep.run(paths=2, seed=0, threads=1, progress=False, models=("st9",))


def test_cli_lists_the_reproduction(capsys):
    assert main(["reproduce", "--list"]) == 0
    assert "sgdk-thresholds" in capsys.readouterr().out


def test_thresholds_separate_behaviour_on_styblinski_tang_model_1():
    """Below the convergence bound SGD-k stays (no path leaves), above the divergence bound it leaves. (SGD-1 is
    left out: at this inhomogeneous minimizer its constant-step noise, Theorem 3.12's C^2 psi / k, carries paths
    out of the ball of radius ESCAPE even below the convergence bound.)"""
    st = rep.styblinski_tang_model(1)
    center = st.flattest_minimizer()
    curv = rep.diagonal_local_curvature(st, center, rep.EPS, n_samples=300)
    n = 200
    for k in (200, math.inf):
        u, l = convergence_threshold(curv, k), divergence_threshold(curv, k)
        assert u < l
        out = {}
        for name, lr in (("below", 0.5 * u), ("above", 2.0 * l)):
            dyn = esc.GD(lr=lr) if math.isinf(k) else esc.SGDk(lr=lr, batch_size=int(k))
            res = esc.simulate(st, dyn, x0=esc.UniformBall(center, 1e-2), n_paths=n,
                               max_steps=rep.ITERATIONS, seed=7, record_paths=n, threads=1)
            D = rep._distances(res, center)
            out[name] = float(np.mean((res.status == esc.Status.DIVERGED) | ~(D[:, -1] <= rep.ESCAPE)))
        se = math.sqrt(0.05 * 0.95 / n)  # a 5% tolerance and its binomial standard error
        assert out["below"] <= 0.05 + 3 * se
        assert out["above"] >= 0.95 - 3 * se
