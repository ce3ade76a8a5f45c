"""Review findings on 004's thresholds and their reproduction: GD between the bounds on Styblinski-Tang Model 1 grows
away from theta* without leaving its basin (the report tells the two apart), a StochasticQuadratic without a
minimizer is refused, the two curvature entry points say which theorem their bounds come from, and bad seeds and
batch sizes get errors that name the argument and the user's value."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import (convergence_threshold, divergence_threshold, error_factor_bounds, local_curvature,
                               quadratic_curvature, thresholds_table)
from escapade.cli import main
from escapade.experiments import sgdk_thresholds as rep

DOCS = Path(__file__).resolve().parents[1] / "docs" / "sgdk.md"


# --- 1. GD between the bounds on Styblinski-Tang Model 1: grew, did not leave ----------------------------------


def test_gd_between_the_bounds_on_model_1_is_above_2_over_lambda_1():
    """(u + l)/2 for GD is 1/lambda_1 + 1/lambda_m, so |1 - C lambda_1| = lambda_1 / lambda_m > 1: 2.14 and 2.05 at
    Model 1's minimizers (4.5-6.2 on Models 2-3). The sharp directions grow on every model."""
    st = rep.styblinski_tang_model(1)
    A, B, _ = st.coefficients()
    for center, factor in ((st.flattest_minimizer(), 2.14), (st.sharpest_minimizer(), 2.05)):
        curv = rep.diagonal_local_curvature(st, center, rep.EPS, n_samples=200)
        u, l = convergence_threshold(curv, math.inf), divergence_threshold(curv, math.inf)
        lr = (u + l) / 2
        lam = 6 * A * center**2 + B  # the Hessian at theta* (diagonal)
        assert lr > 1.5 * 2 / lam.max()
        assert np.abs(1 - lr * lam).max() == pytest.approx(factor, abs=0.02)


def test_report_tells_paths_that_grew_from_paths_that_left(monkeypatch):
    """On st1 the GD rows at (u+l)/2 have no path that left theta*'s basin and every path grew away from theta*
    (from radii up to 0.1); the report prints the grew shares beside the diverged (left) ones."""
    monkeypatch.setattr(rep, "N_CURVATURE", 200)
    report = rep.run(paths=4, seed=5, threads=1, progress=False, models=("st1",))
    doc = json.loads(json.dumps(report.data, allow_nan=False))
    gd = [r for r in doc["rows"] if r["method"] == "GD" and r["lr_label"] == "(u+l)/2"]
    assert len(gd) == 2 * len(rep.RADII)
    for r in gd:
        assert r["diverged_fraction"] == 0.0
        if r["radius"] <= 0.1:
            assert r["grew_fraction"] == 1.0 and r["final_median_distance"] > 0.5
    groups = doc["summary"]["by_group"]
    assert groups["Styblinski-Tang, GD"]["diverged_between"] == 0.0
    assert groups["Styblinski-Tang, GD"]["grew_between"] >= 0.5
    assert {"grew_below_u", "grew_between", "grew_above_l"} <= set(groups["all settings"])
    assert "Share of paths that grew" in report.text and "diverged (left)" in report.text
    assert "at least half of the paths grew away from theta*" in doc["summary"]["statement"]
    assert len(rep.summary_table(doc["rows"], values="grew_fraction")) == len(rep.summary_table(doc["rows"]))
    with pytest.raises(ValueError, match="values"):
        rep.summary_table(doc["rows"], values="lr")
    # which theorem u comes from, and Theorem 3.12's bound beside it at these inhomogeneous minimizers
    for t in doc["thresholds"]:
        assert t["theorem"] == "3.8"
        u312 = t["convergence_u_theorem_3_12"]
        assert len(u312) == len(rep.BATCHES) and u312[-1] == pytest.approx(t["convergence_u"][-1])
        assert all(0.5 * a < b <= a for a, b in zip(t["convergence_u"], u312))
    assert "Theorem 3.8's (18) at every minimizer" in report.text
    # the seeds of valid runs are unchanged: setting n of seed 5 uses 100003 * 5 + n
    assert "seeds 500016 to 500111" in report.design.to_dict()["seeds"]


def test_docs_describe_gd_on_model_1_as_grown_not_stable():
    text = DOCS.read_text(encoding="utf-8")
    assert "GD none on Model 1" not in text
    assert "2.14" in text and "2.05" in text  # max |1 - C lambda_j| at the flat and sharp minimizers
    assert "grew" in text


# --- 2. r outside the range of E[Q] -----------------------------------------------------------------------------


def test_stochastic_quadratic_without_a_minimizer_is_refused():
    """The sum can be built and simulated (linear terms are a test landscape), but asking for its minimizer or its
    curvature constants, and so for any threshold, is a ValueError naming r."""
    Q = np.array([np.diag([1.0, 0.0])] * 2)
    r = np.array([[0.0, 1.0], [0.0, 1.0]])  # F = x1^2 / 2 + x2: unbounded below
    f = esc.StochasticQuadratic(Q, r)
    pattern = r"^r must have its expectation E\[r\].*range of E\[Q\].*no minimizer"
    for call in (f.minimizer, lambda: quadratic_curvature(f), lambda: quadratic_curvature(Q, r),
                 lambda: thresholds_table(f, [1, np.inf]), lambda: convergence_threshold(f, 1),
                 lambda: divergence_threshold(f, 1), lambda: error_factor_bounds(f, 0.1, 1)):
        with pytest.raises(ValueError, match=pattern):
            call()
    res = esc.simulate(f, esc.GD(lr=0.5), x0=np.zeros(2), n_paths=1, max_steps=4, seed=0)
    np.testing.assert_allclose(res.final_position, [[0.0, -2.0]])
    # E[Q] = 0 and E[r] != 0: no minimizer either (quadratic_curvature names E[Q] first)
    lin = esc.StochasticQuadratic(np.zeros((1, 2, 2)), [[1.0, 0.0]])
    with pytest.raises(ValueError, match=r"^r must"):
        lin.minimizer()
    with pytest.raises(ValueError, match=r"E\[Q\] = 0"):
        quadratic_curvature(lin)
    # the terms may lie outside their own Q_i's range as long as E[r] is in E[Q]'s
    ok = esc.StochasticQuadratic(np.array([np.diag([1.0, 0.0]), np.diag([0.0, 1.0])]), [[0.0, 1.0], [0.0, -3.0]])
    assert np.allclose(ok.gradient(ok.minimizer()), 0.0)
    # a weight-0 term does not enter E[r]
    assert quadratic_curvature(esc.StochasticQuadratic(Q, [[0.0, 0.0], [0.0, 1.0]], p=[1.0, 0.0])).homogeneous


def test_the_range_check_is_relative_to_the_problems_scale():
    Q = np.array([np.diag([1.0, 0.0])] * 2)
    for scale in (1e-6, 1.0, 1e6):
        kept = esc.StochasticQuadratic(scale * Q, scale * np.array([[3.0, 1e-12], [1.0, 0.0]]))  # rounding-sized
        np.testing.assert_allclose(kept.minimizer(), [-2.0, 0.0])
        with pytest.raises(ValueError, match="r must"):
            esc.StochasticQuadratic(scale * Q, scale * np.array([[3.0, 1e-6], [1.0, 0.0]])).minimizer()
    # random rank-deficient problems built as r_i = -Q_i theta_i pass, whatever their scale
    for seed in range(20):
        for make in (esc.StochasticQuadratic.homogeneous, esc.StochasticQuadratic.inhomogeneous):
            f = make(6, 3, seed=seed, rank=1)
            for scale in (1e-8, 1e8):
                g = esc.StochasticQuadratic(scale * f.Q, scale * f.r, f.p)
                quadratic_curvature(g)
                assert np.abs(g.gradient(g.minimizer())).max() <= 1e-8 * scale * (1 + np.abs(g.minimizer()).max())


# --- 3. which theorem a bound comes from ------------------------------------------------------------------------


def test_both_entry_points_say_which_theorem_and_agree_when_told_the_same():
    sq = esc.StochasticQuadratic.inhomogeneous(3, 10, seed=1)
    qc = quadratic_curvature(sq)
    lc = local_curvature(sq, qc.theta_star, 0.02, n_samples=10)
    assert (qc.homogeneous, qc.theorem, lc.theorem) == (False, "3.12", "3.8")
    tq, tl = thresholds_table(qc, [1, 2]), thresholds_table(lc, [1, 2])
    assert list(tq["theorem"]) == ["3.12", "3.12"] and list(tl["theorem"]) == ["3.8", "3.8"]
    assert list(thresholds_table(lc, [1], case="inhomogeneous")["theorem"]) == ["3.12"]
    assert tq.loc[1.0, "convergence"] == pytest.approx(0.5675, abs=1e-4)
    assert tl.loc[1.0, "convergence"] == pytest.approx(0.6632, abs=1e-4)
    np.testing.assert_allclose(tq["divergence"], tl["divergence"])  # (35) with gamma -> 0 is (19)
    for k in (1, 2, 10, math.inf):
        for case in ("homogeneous", "inhomogeneous"):
            assert convergence_threshold(qc, k, case=case) == pytest.approx(convergence_threshold(lc, k, case=case),
                                                                            rel=1e-12)
    h = quadratic_curvature(esc.StochasticQuadratic.homogeneous(3, 10, seed=1))
    assert h.theorem == "3.8" and list(thresholds_table(h, [1])["theorem"]) == ["3.8"]


def test_docs_quantify_the_two_theorems_on_the_styblinski_tang_example():
    f = esc.StyblinskiTangSum.random(5, 100, seed=0)
    c = local_curvature(f, f.flattest_minimizer(), 0.02, n_samples=300)
    u18, u39 = convergence_threshold(c, 1), convergence_threshold(c, 1, case="inhomogeneous")
    assert round(u18, 4) == 0.0543 and round(u39, 3) == 0.030
    assert u18 / 2 < u39  # u/2 is below Theorem 3.12's bound too
    text = DOCS.read_text(encoding="utf-8")
    assert "0.030" in text and "45%" in text and "Theorem 3.12 (39)" in text


# --- 4. error messages ------------------------------------------------------------------------------------------


def test_run_checks_the_users_seed(capsys):
    with pytest.raises(ValueError, match=r"^seed must be >= 0, got -1$"):
        rep.run(paths=2, seed=-1, threads=None, progress=False, models=["qc1"])
    with pytest.raises(TypeError, match="seed must be an integer"):
        rep.run(paths=2, seed=1.5, threads=None, progress=False, models=["qc1"])
    top = rep._max_seed(96)
    assert rep.SEED_STRIDE * top + 96 <= 2**64 - 1 < rep.SEED_STRIDE * (top + 1) + 96
    with pytest.raises(ValueError, match=rf"^seed must be <= {top} .*, got {top + 1}$"):
        rep.run(paths=2, seed=top + 1, threads=None, progress=False, models=["qc1"])
    assert main(["reproduce", "sgdk-thresholds", "--seed", "200000000000000", "--paths", "2"]) != 0
    err = capsys.readouterr().err
    assert f"seed must be <= {rep._max_seed(672)}" in err and "got 200000000000000" in err
    assert "20000600000000000001" not in err


@pytest.mark.parametrize("bad", [None, [1, None], "3", True, [True]])
def test_a_batch_size_that_is_not_a_number_is_a_type_error(bad):
    c = esc.StochasticQuadratic(np.array([np.eye(2)]))
    for call in (lambda: convergence_threshold(c, bad), lambda: divergence_threshold(c, bad),
                 lambda: thresholds_table(c, bad if isinstance(bad, list) else [bad])):
        with pytest.raises(TypeError, match="k must be a batch size"):
            call()


def test_a_step_size_that_is_not_a_number_is_a_type_error():
    c = esc.StochasticQuadratic(np.array([np.eye(2)]))
    for bad in (None, "0.1", [0.1, None]):
        with pytest.raises(TypeError, match="lr must be a step size"):
            error_factor_bounds(c, bad)
    with pytest.raises(ValueError, match="lr must be finite"):
        error_factor_bounds(c, np.nan)
    assert convergence_threshold(c, [1, np.int64(2), 2.5, np.inf]).shape == (4,)
