"""`escapade reproduce mlp-exit-time` (003, Section 6, Figure 2) and what it relies on: the sharpness-scaled
landscape L(sqrt(alpha) theta), the trained minimum, and exit times growing with B / eta."""

import functools
import importlib
import json
import math

import numpy as np
import pytest

pytest.importorskip("sklearn")

import escapade as esc  # noqa: E402
from escapade.analysis import SharpnessScaled, mlp_minimum  # noqa: E402
from escapade.cli import main  # noqa: E402
from escapade.experiments import REPRODUCTIONS, mlp_exit_time_experiment  # noqa: E402


@pytest.fixture(scope="module")
def net():
    X, y = esc.datasets.load_diabetes()
    return esc.MLP(X[:40], y[:40], hidden=3, l2=0.01)


@pytest.fixture(scope="module")
def minimum(net):
    return mlp_minimum(net, seed=0)


def test_sharpness_scaled_gradient_and_hessian(net):
    alpha = 2.5
    La = SharpnessScaled(net, alpha)
    theta = net.init(seed=1)
    s = math.sqrt(alpha)
    assert La.value(theta) == pytest.approx(net.value(s * theta))
    g = La.gradient(theta)
    np.testing.assert_allclose(g, s * np.asarray(net.gradient(s * theta)), rtol=1e-12)
    h = 1e-6
    fd = np.array([(La.value(theta + h * e) - La.value(theta - h * e)) / (2 * h) for e in np.eye(net.dim)])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)
    Ha = La.hessian(theta)
    np.testing.assert_allclose(Ha, alpha * np.asarray(net.hessian(s * theta)), rtol=1e-12)
    fdH = np.array([(La.gradient(theta + h * e) - La.gradient(theta - h * e)) / (2 * h) for e in np.eye(net.dim)])
    np.testing.assert_allclose(Ha, fdH, rtol=1e-4, atol=1e-6)


def test_sharpness_scaled_minimum(net, minimum):
    La = SharpnessScaled(net, 4.0)
    m = La.minimum(minimum.theta)
    assert np.linalg.norm(La.gradient(m)) < 1e-8
    np.testing.assert_allclose(La.hessian(m), 4.0 * minimum.hessian, rtol=1e-10, atol=1e-12)


def test_sharpness_scaled_bad_input(net):
    with pytest.raises(ValueError, match="alpha"):
        SharpnessScaled(net, -1.0)
    with pytest.raises(TypeError, match="alpha"):
        SharpnessScaled(net, "2")
    with pytest.raises(TypeError, match="landscape"):
        SharpnessScaled(object(), 2.0)


def test_trained_point_is_a_minimum(net, minimum):
    assert minimum.gradient_norm < 1e-8
    assert np.linalg.norm(net.gradient(minimum.theta)) < 1e-8
    assert minimum.eigenvalues[0] > 0
    np.testing.assert_allclose(np.linalg.eigvalsh(net.hessian(minimum.theta)), minimum.eigenvalues, atol=1e-10)
    # nearby points are higher
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert net.value(minimum.theta + 1e-3 * rng.standard_normal(net.dim)) > minimum.value


def test_exit_times_grow_with_batch_size_over_lr():
    e = mlp_exit_time_experiment(n_samples=40, hidden=3, radius=0.15, alphas=(1.0, 2.0), radii=(0.15, 0.2),
                                 batch_sizes=(1, 2, 3), rare_inverse_noise=(), n_paths=60, max_steps=20_000,
                                 quadratic_max_steps=0, threads=1)
    assert "quadratic" not in e.series["inverse_noise"] and "rare" not in e.series
    s = e.series["inverse_noise"]
    np.testing.assert_allclose(s["values"], np.array([1, 2, 3]) / 0.05)
    assert not np.any(s["censored"])
    m, se = s["mean"], s["stderr"]
    assert np.all(np.diff(m) > 2 * np.hypot(se[1:], se[:-1]))
    assert s["fit"].barrier > 0 and s["fw_slope"] > 0 and s["paper_slope"] > 0
    assert np.all(e.series["radius"]["mean"][1:] > e.series["radius"]["mean"][:-1])


def test_each_point_reports_its_coefficient_of_variation_and_its_own_seed():
    # 003's settings on a small network: exit times far less variable than the exponential law's (CV 1), by many
    # standard errors of the CV; the rare series' (here cheap, B / eta = 60, 80 at B = 4, on the same network) too
    e = mlp_exit_time_experiment(n_samples=40, hidden=3, radius=0.15, alphas=(1.0, 2.0), radii=(0.15, 0.2),
                                 batch_sizes=(1, 2, 3), rare_inverse_noise=(60.0, 80.0), rare_batch_size=4,
                                 rare_hidden=None, rare_l2=None, n_paths=60, max_steps=20_000, quadratic_max_steps=0,
                                 threads=1)
    seeds = set()
    for s in e.series.values():
        assert np.all(s["cv_stderr"] > 0) and all(m == "sample" for m in s["cv_method"])
        assert np.all(1 - s["cv"] > 5 * s["cv_stderr"])  # 0.3-0.55 here
        seeds |= set(s["seed"].tolist())
    np.testing.assert_allclose(e.series["rare"]["lr"], [4 / 60, 4 / 80])
    # every distinct point has its own stream; the point shared by three series is one run
    assert len(seeds) == e.params["distinct_points"] == 2 + 1 + 2 + 2
    shared = [e.series[k]["mean"][i] for k, i in (("alpha", 0), ("radius", 0), ("inverse_noise", 2))]
    assert shared[0] == shared[1] == shared[2]
    point = e.to_dict()["series"]["rare"]["points"][0]
    assert {"cv", "cv_stderr", "cv_method", "lr", "seed"} <= set(point)
    assert e.series["rare"]["network"]["dim"] == e.params["dim"]  # None: the main network


def test_the_rare_series_network_has_exponential_exit_times():
    # the default rare series' network (hidden 4, l2 = 0.02: lambda_min 0.0070) at B / eta = 70: exit times with
    # the exponential law's coefficient of variation 1, up to the relaxation time t0 ~ 10^2 of E[tau] ~ 10^3
    # (CV ~ 1 - t0 / E[tau] ~ 0.9), while 003's settings on the main network stay near 0.1-0.5 (~4 s: the
    # point of the series, 100 paths of ~10^4 steps)
    e = mlp_exit_time_experiment(alphas=(1.0, 2.0), radii=(0.4, 0.5), batch_sizes=(2, 3),
                                 rare_inverse_noise=(60.0, 70.0), n_paths=100, quadratic_max_steps=0)
    rare, old = e.series["rare"], e.series["inverse_noise"]
    assert rare["network"]["hidden"] == 4 and rare["network"]["l2"] == 0.02 and rare["network"]["dim"] == 49
    # t0 ~ 1 / lambda_min: the rare network's flattest direction relaxes faster than the main one's
    assert 0.006 < rare["network"]["lambda_min"] < 0.008 and e.minimum.eigenvalues[0] < 0.003
    assert not np.any(rare["censored"]) and all(m == "sample" for m in rare["cv_method"])
    cv, se = rare["cv"][1], rare["cv_stderr"][1]
    assert 0.02 < se < 0.12
    assert abs(cv - 1) < 0.12 + 3 * se, (cv, se)  # exponential up to t0 / E[tau] ~ 0.1
    assert cv - old["cv"].max() > 3 * np.hypot(se, old["cv_stderr"].max())
    # the FW and 003 exponents are those of the rare network's H, C and lambda_min
    lam = rare["network"]["lambda_min"]
    np.testing.assert_allclose(rare["paper"], 2 * np.array([60.0, 70.0]) * 0.5**2 * np.sqrt(lam))


@pytest.mark.slow
def test_the_rare_series_approaches_exponential_exit_times():
    # the default rare series (hidden 4, l2 = 0.02, B = 7, B / eta = 70, 75, 80; cap 400,000 steps) with 100 paths:
    # CV within 0.15 + 3 SE of 1 and no censored path, while 003's B / eta series stays far below (~1 minute on two
    # shared cores)
    e = mlp_exit_time_experiment(alphas=(1.0, 2.0), radii=(0.4, 0.5), batch_sizes=(2, 3), n_paths=100,
                                 quadratic_max_steps=0)
    rare, old = e.series["rare"], e.series["inverse_noise"]
    assert np.all(1 - old["cv"] > 5 * old["cv_stderr"]), old["cv"]  # 003's settings: not rare exits
    assert np.all(rare["cv"] - old["cv"].max() > 3 * rare["cv_stderr"]), rare["cv"]  # ~0.9 against <= 0.5
    assert np.all(np.abs(rare["cv"] - 1) < 0.15 + 3 * rare["cv_stderr"]), rare["cv"]
    assert not np.any(rare["censored"])
    fit = rare["fit"]  # the slope where exits are rare: near FW's 0.28, far above 003's 0.04
    assert fit.barrier_ci[0] > 3 * rare["paper_slope"] and fit.barrier_ci[1] > 0.6 * rare["fw_slope"]


def test_experiment_bad_input():
    with pytest.raises(ValueError, match="noise"):
        mlp_exit_time_experiment(noise="hessian")
    with pytest.raises(ValueError, match="alphas"):
        mlp_exit_time_experiment(alphas=(1.0,))
    with pytest.raises(ValueError, match="n_paths"):
        mlp_exit_time_experiment(n_paths=0)
    with pytest.raises(ValueError, match="batch_sizes"):
        mlp_exit_time_experiment(batch_sizes=(1.5, 2.0))
    with pytest.raises(ValueError, match="lr"):
        mlp_exit_time_experiment(n_samples=40, hidden=3, lr=5.0)
    with pytest.raises(ValueError, match="rare_inverse_noise"):
        mlp_exit_time_experiment(n_samples=40, hidden=3, rare_inverse_noise=(1.0, 2.0), rare_batch_size=7)
    with pytest.raises(ValueError, match="rare_batch_size"):
        mlp_exit_time_experiment(rare_batch_size=0)
    with pytest.raises(ValueError, match="rare_hidden=0"):
        mlp_exit_time_experiment(rare_hidden=0)
    with pytest.raises(ValueError, match=r"rare_l2=-0\.1"):
        mlp_exit_time_experiment(rare_l2=-0.1)
    # refused before anything is simulated
    with pytest.raises(ValueError, match="n_paths must be at least 2"):
        mlp_exit_time_experiment(n_paths=1)
    with pytest.raises(ValueError, match="alphas must hold two or more distinct"):
        mlp_exit_time_experiment(alphas=(1.0, 1.0))
    with pytest.raises(ValueError, match="alphas"):
        mlp_exit_time_experiment(alphas="ab")
    with pytest.raises(ValueError, match="radius=True"):
        mlp_exit_time_experiment(radius=True)
    with pytest.raises(TypeError, match="rare_inverse_noise=None"):
        mlp_exit_time_experiment(rare_inverse_noise=None)
    with pytest.raises(ValueError, match="n_samples=2: take more samples"):
        mlp_exit_time_experiment(n_samples=2, hidden=3, alphas=(1.0, 2.0), radii=(0.15, 0.2), batch_sizes=(1, 2),
                                 rare_inverse_noise=(), quadratic_max_steps=0)
    with pytest.raises(TypeError, match="standardize"):
        esc.datasets.load_diabetes(standardize="no")


def test_reproduce_mlp_exit_time_json(tmp_path, capsys, monkeypatch):
    assert "mlp-exit-time" in REPRODUCTIONS
    # the rare series and the quadratic model take ~10^5 steps a path: cheap ones here (the slow test runs the
    # default rare series)
    module = importlib.import_module("escapade.experiments.mlp_exit_time")
    monkeypatch.setattr(module, "mlp_exit_time_experiment", functools.partial(
        module.mlp_exit_time_experiment, rare_inverse_noise=(50.0, 60.0), quadratic_max_steps=1000))
    assert main(["reproduce", "mlp-exit-time", "--paths", "10", "--json", "--out", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"name", "description", "version", "seed", "params", "minimum", "series", "summary", "elapsed"} <= set(doc)
    assert doc["name"] == "mlp-exit-time" and doc["params"]["n_paths"] == 10
    assert doc["minimum"]["gradient_norm"] < 1e-8 and doc["minimum"]["lambda_min"] > 0
    assert set(doc["series"]) == {"alpha", "radius", "inverse_noise", "rare"}
    for s in doc["series"].values():
        assert {"fit", "points", "fw_slope", "paper_slope", "fixed"} <= set(s)
        for p in s["points"]:
            assert {"value", "mean", "stderr", "censored", "cv", "cv_stderr", "fw_exponent",
                    "paper_exponent"} <= set(p)
    assert doc["design"]["rows"] == 14 and doc["design"]["independent"] == 12  # alpha = 1, r = 0.5, B = 3 thrice
    assert doc["series"]["rare"]["network"]["hidden"] == 4 and doc["params"]["rare_l2"] == 0.02
    q = doc["series"]["inverse_noise"]["quadratic_model"]
    assert len(q) == 4 and all({"mean", "stderr", "censored", "lower_bound"} <= set(p) for p in q)
    assert set(doc["summary"]["alpha"]) == {"fitted_slope", "ci", "fw_slope", "paper_slope", "cv_range"}
    assert (tmp_path / "mlp-exit-time.json").exists() and (tmp_path / "mlp-exit-time.png").exists()
