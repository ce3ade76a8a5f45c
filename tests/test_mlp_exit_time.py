"""`escapade reproduce mlp-exit-time` (003, Section 6, Figure 2) and what it relies on: the sharpness-scaled
landscape L(sqrt(alpha) theta), the trained minimum, and exit times growing with B / eta."""

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
                                 batch_sizes=(1, 2, 3), n_paths=60, max_steps=20_000,
                                 quadratic_max_steps=0, threads=1)
    assert "quadratic" not in e.series["inverse_noise"]
    s = e.series["inverse_noise"]
    np.testing.assert_allclose(s["values"], np.array([1, 2, 3]) / 0.05)
    assert not np.any(s["censored"])
    m, se = s["mean"], s["stderr"]
    assert np.all(np.diff(m) > 2 * np.hypot(se[1:], se[:-1]))
    assert s["fit"].barrier > 0 and s["fw_slope"] > 0 and s["paper_slope"] > 0
    assert np.all(e.series["radius"]["mean"][1:] > e.series["radius"]["mean"][:-1])


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


def test_reproduce_mlp_exit_time_json(tmp_path, capsys):
    assert "mlp-exit-time" in REPRODUCTIONS
    assert main(["reproduce", "mlp-exit-time", "--paths", "10", "--json", "--out", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"name", "description", "version", "seed", "params", "minimum", "series", "summary", "elapsed"} <= set(doc)
    assert doc["name"] == "mlp-exit-time" and doc["params"]["n_paths"] == 10
    assert doc["minimum"]["gradient_norm"] < 1e-8 and doc["minimum"]["lambda_min"] > 0
    assert set(doc["series"]) == {"alpha", "radius", "inverse_noise"}
    for s in doc["series"].values():
        assert {"fit", "points", "fw_slope", "paper_slope", "fixed"} <= set(s)
        for p in s["points"]:
            assert {"value", "mean", "stderr", "censored", "fw_exponent", "paper_exponent"} <= set(p)
    q = doc["series"]["inverse_noise"]["quadratic_model"]
    assert len(q) == 4 and all({"mean", "stderr", "censored", "lower_bound"} <= set(p) for p in q)
    assert set(doc["summary"]["alpha"]) == {"fitted_slope", "ci", "fw_slope", "paper_slope"}
    assert (tmp_path / "mlp-exit-time.json").exists() and (tmp_path / "mlp-exit-time.png").exists()
