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


def test_reproduction_runs_small_and_reports_documented_keys(tmp_path, monkeypatch):
    """The whole run on two models (qc1, st1) with 2 paths per setting and the curvature from 200 points (the run
    uses 1000: 0.6 s instead of 1.6 s), then one of its figures drawn. Over 3 s (4.6 s measured at a load average
    of 4 on 2 cores) because matplotlib drawing and saving the 12-panel log-axis figure takes 1.8 s on its own,
    plus importing matplotlib: this is the only check that the figures draw, and the run is the fast check of the
    document, text and design that test_experiments.py runs in full (about 50 s) only under the slow marker."""
    monkeypatch.setattr(rep, "N_CURVATURE", 200)
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
    kinds = {(t["model"], t["minimizer"]): t["kind"] for t in doc["thresholds"]}
    assert kinds["qc1", "quadratic"] == "degenerate" and kinds["st1", "flat"] == "strict minimizer"
    [quad] = [t for t in doc["thresholds"] if (t["model"], t["minimizer"]) == ("qc1", "quadratic")]
    assert "degenerate; any negative eigenvalue at " in report.text
    assert f"below -0.001 x largest |eigenvalue| at {quad['n_indefinite']}" in report.text
    assert quad["n_negative"] > quad["n_indefinite"] > 0 and quad["indefinite_rtol"] == rep.QC_RANK_RTOL
    [flat, sharp] = doc["calibration"]
    assert (flat["model"], flat["minimizer"], sharp["minimizer"]) == ("st1", "flat", "sharp")
    assert flat["004"]["divergence_l"] == list(rep.TABLE4[1, "flat"])
    assert flat["uniform"]["l1_over_linf"] > 0.5 > 0.1 > flat["calibrated"]["l1_over_linf"]
    assert "s_f/lambda_1^2" in report.text
    design = report.design.to_dict()
    # the table of diverged fractions: a row per (model, minimizer, k, radius), a setting (own seed) per cell
    assert design["rows"] == design["independent"] == n // len(rep.RATES) == len(rep.summary_table(doc["rows"]))
    assert "no dt" in design["dt"] and "2 per setting" in design["paths"] and f"{n} settings" in design["paths"]
    assert f"seed 100003 * seed + n (seed = 0: seeds 1 to {n})" in design["seeds"]
    assert "seed 0 * 100003" not in design["seeds"]
    assert design["censoring"].startswith("none")
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
    """Below the convergence bound SGD-k stays (no path leaves), above the divergence bound it leaves (k = 200 and
    GD; SGD-1 in test_sgd_1_is_stable_at_half_the_convergence_bound)."""
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


# 004's Tables 4 (l) and 5 (u), typed in again here: (model, minimizer) -> (l(1), l(inf), u(1), u(inf)).
PAPER = {
    (1, "flat"): (9.001e-03, 1.091e-01, 2.319e-03, 5.064e-02),
    (1, "sharp"): (7.682e-03, 9.004e-02, 2.250e-03, 4.447e-02),
    (2, "flat"): (2.134e-02, 9.947e-01, 8.603e-04, 1.613e-01),
    (2, "sharp"): (1.951e-02, 8.823e-01, 8.334e-04, 1.418e-01),
    (3, "flat"): (2.598e-02, 2.279e+00, 7.587e-04, 3.742e-01),
    (3, "sharp"): (1.871e-02, 1.563e+00, 9.089e-04, 3.337e-01),
}


def _paper_constants(model, minimizer):
    """Solve 004's k = inf and k = 1 entries for the constants: GD's bounds are 2 / lambda_m (l) and 2 / lambda_1 (u);
    at k = 1, l = 2 lambda_1 / (lambda_1^2 + s) ((19), j = 1) and u = 2 lambda_m / (lambda_m^2 + t) ((18), j = m), each
    solved with brentq rather than by rearranging."""
    from scipy.optimize import brentq

    l1, linf, u1, uinf = PAPER[model, minimizer]
    lam_m, lam_1 = 2 / linf, 2 / uinf
    s = brentq(lambda s: 2 * lam_1 / (lam_1**2 + s) - l1, 0.0, 1e7, xtol=1e-9)
    t = brentq(lambda t: 2 * lam_m / (lam_m**2 + t) - u1, 0.0, 1e7, xtol=1e-9)
    assert s >= lam_1**2 and t >= lam_1 * lam_m  # (20) picks j = 1 and (18) j = m at k = 1 for these constants
    return {"lambda_1": lam_1, "lambda_m": lam_m, "s_f": s, "t_f": t}


def _constants_of(curv):
    return {"lambda_1": curv.lambdas[0], "lambda_m": curv.lambdas[-1], "s_f": curv.s_f, "t_f": curv.t_f}


@pytest.mark.parametrize("model", [1, 2, 3])
def test_calibrated_models_have_the_constants_004s_tables_imply(model):
    """The default Styblinski-Tang models' lambda_1, lambda_m, s_f, t_f (Definition 3.14 over B(theta*, EPS)) are
    within 10% of those 004's Tables 4-5 imply, at both minimizers; so l(1) / l(inf) is 004's (0.011-0.085, a
    strong batch-size effect; the uniform models have about 0.82)."""
    st = rep.styblinski_tang_model(model)
    for label, center in (("flat", st.flattest_minimizer()), ("sharp", st.sharpest_minimizer())):
        want = _paper_constants(model, label)
        assert rep.implied_constants(model, label) == pytest.approx(want, rel=1e-9)
        curv = rep.diagonal_local_curvature(st, center, rep.EPS, n_samples=200, seed=1)
        got = _constants_of(curv)
        for name in want:
            assert got[name] == pytest.approx(want[name], rel=0.10), (model, label, name)
        l1, linf = PAPER[model, label][:2]
        ratio = divergence_threshold(curv, 1) / divergence_threshold(curv, math.inf)
        assert ratio == pytest.approx(l1 / linf, rel=0.10)
        assert 0.011 * 0.9 <= ratio <= 0.0853 * 1.1
        assert curv.n_indefinite == 0


@pytest.mark.parametrize("model", [1, 2, 3])
def test_calibrated_minimizers_lie_in_004s_feasible_box(model):
    """004 restricts the sums to (-5, 5)^p (Section 5): both extreme minimizers of every calibrated model lie inside
    it (Model 3 as first fitted had a sharp minimum at -5.0009 in coordinate 82), and they are stationary points
    of F whose per-coordinate curvature 6 A x^2 + B is positive."""
    st = rep.styblinski_tang_model(model)
    A, B, _ = st.coefficients()
    for x in (st.flattest_minimizer(), st.sharpest_minimizer()):
        assert x.shape == (st.dim,)
        assert np.all(np.abs(x) < 5.0), (model, int(np.argmax(np.abs(x))), float(np.abs(x).max()))
        assert np.abs(st.gradient(x)).max() < 1e-8 * np.abs(A).max()
        assert np.all(6 * A * x**2 + B > 0)
    d, n, seed = rep.ST_SIZES[f"st{model}"]
    assert rep._box_excess(rep.calibrated_styblinski_tang(d, n, rep.ST_CALIBRATED[model], seed=seed)) < 1e-3
    if model == 3:  # the penalty sees the unconstrained fit's minimum at -5.0009
        old = rep.calibrated_styblinski_tang(d, n, (-1.729940, -3.359478, 0.090677, 0.333224, 1.688671, 2.831884),
                                             seed=seed)
        assert rep._box_excess(old) == pytest.approx(5.0009 - 4.9, abs=1e-3)


def test_the_uniform_models_stay_available_and_are_far_from_004():
    st = rep.styblinski_tang_model(1, family="uniform")
    assert np.array_equal(st.c1, esc.StyblinskiTangSum.random(10, 200, seed=1).c1)
    curv = rep.diagonal_local_curvature(st, st.flattest_minimizer(), rep.EPS, n_samples=200)
    assert curv.s_f / curv.lambdas[0] ** 2 < 0.5  # 004: 4.6
    with pytest.raises(ValueError, match="family"):
        rep.styblinski_tang_model(1, family="normal")
    with pytest.raises(ValueError, match="model"):
        rep.implied_constants(4, "flat")
    with pytest.raises(ValueError, match="params must be 6 numbers"):
        rep.calibrated_styblinski_tang(3, 4, [0.0, 0.0, 0.1], seed=0)
    with pytest.raises(ValueError, match="seed"):
        rep.calibrated_styblinski_tang(3, 4, rep.ST_CALIBRATED[1], seed=-1)


def test_the_fit_returns_the_stored_parameters():
    """fit_styblinski_tang, restarted from a perturbed point, finds the stored parameters of Model 1 again."""
    start = np.asarray(rep.ST_CALIBRATED[1]) + np.array([0.05, -0.05, 0.01, -0.01, 0.05, -0.05])
    fitted = rep.fit_styblinski_tang(1, start=start)
    target = _paper_constants(1, "flat")
    got = _constants_of(rep.diagonal_local_curvature(
        rep.calibrated_styblinski_tang(10, 200, fitted, seed=1), rep.styblinski_tang_model(1).flattest_minimizer(),
        rep.EPS, n_samples=200))
    for name in target:
        assert got[name] == pytest.approx(target[name], rel=0.10)
    np.testing.assert_allclose(fitted, rep.ST_CALIBRATED[1], atol=0.05)


def _outside_basin(st, center, points):
    """Independent of rep.left_basin: a coordinate past the local maximum of its (separable) quartic."""
    A, B, C = st.coefficients()
    peaks = np.array([sorted(np.roots([2 * a, 0, b, c / 2]).real)[1] for a, b, c in zip(A, B, C)])
    return np.any((points - peaks) * (center - peaks) <= 0, axis=1) | ~np.all(np.isfinite(points), axis=1)


@pytest.mark.parametrize("model", [1, 2, 3])
@pytest.mark.parametrize("label", ["flat", "sharp"])
def test_sgd_1_is_stable_at_half_the_convergence_bound(model, label):
    """004, Figures 9-12 and Section 5.2 ("the results of Models 1, 2 and 3 are nearly identical"): at 0.5 u SGD-1
    stays in the basin of the minimizer, at 1.5 l it leaves it. (On the uniform models 5% of Model 1's paths leave
    the flat minimizer's basin at 0.5 u, 35% of Model 2's, 70% of Model 3's.)"""
    st = rep.styblinski_tang_model(model)
    center = st.flattest_minimizer() if label == "flat" else st.sharpest_minimizer()
    curv = rep.diagonal_local_curvature(st, center, rep.EPS, n_samples=100)
    n = 100
    out = {}
    for name, lr in (("below", 0.5 * convergence_threshold(curv, 1)), ("above", 1.5 * divergence_threshold(curv, 1))):
        res = esc.simulate(st, esc.SGDk(lr=lr, batch_size=1), x0=esc.UniformBall(center, 1e-2), n_paths=n,
                           max_steps=rep.ITERATIONS, seed=11, record_paths=n, threads=1)
        last = np.array([np.asarray(x)[-1] for _, x in res.trajectories])
        left = (res.status == esc.Status.DIVERGED) | _outside_basin(st, center, last)
        np.testing.assert_array_equal(left, rep.left_basin(st, center, last) | (res.status == esc.Status.DIVERGED))
        out[name] = float(left.mean())
    assert out["below"] == 0.0
    assert out["above"] == 1.0


@pytest.mark.parametrize("model", [1, 2, 3, 4])
def test_quadratic_minimizer_is_labelled_degenerate(model):
    """At (0, -15) every quadratic basin's Hessian is 2 q1 (0, 1)(0, 1)' (the gradient of x2 - q2 x1^2 - q3 is (0, 1)
    at x1 = 0) and the circular basins are flat there, so F's Hessian is diag(0, 2 E[q1]): singular, never
    positive definite. F >= 0 = F(0, -15), so it is a minimizer (not a saddle), a degenerate one; the table says
    so, with the count of ball points where the Hessian is indefinite."""
    f = rep.quadratic_circle_model(model)
    center = np.array([0.0, -15.0])
    w = np.linalg.eigvalsh(f.hessian(center))
    assert abs(w[0]) <= 1e-12 * w[1]
    assert w[1] == pytest.approx(2 * np.dot(f.p, f.q1), rel=1e-12)
    assert f.value(center) == 0.0
    assert rep.minimizer_kind(f, center)[0] == "degenerate"
    assert rep.minimizer_kind(rep.styblinski_tang_model(1), rep.styblinski_tang_model(1).flattest_minimizer())[0] \
        == "strict minimizer"

    class Saddle:
        def hessian(self, x):
            return np.diag([1.0, -1e-3])

    assert rep.minimizer_kind(Saddle(), center)[0] == "saddle"
