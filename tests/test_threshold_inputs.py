"""Bad input to the step-size threshold and saddle helpers (analysis.thresholds, experiments.saddles,
experiments.sgdk_thresholds): a TypeError or ValueError naming the argument, never a crash, hang or quiet answer."""

import numpy as np
import pytest

import escapade as esc
from escapade.analysis import thresholds as T
from escapade.experiments import saddles as S
from escapade.experiments import sgdk_thresholds as G

Q = np.array([np.diag([1.0, 2.0]), np.diag([3.0, 1.0])])


@pytest.fixture(scope="module")
def st():
    return esc.StyblinskiTangSum.random(3, 10, seed=0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"dim": 0}, ValueError, "dim must be >= 1, got 0"),
    ({"dim": -3}, ValueError, "dim must be >= 1"),
    ({"dim": 2.5}, TypeError, "dim must be an integer"),
    ({"dim": 2, "radius": 0.0}, ValueError, "radius must be positive"),
    ({"dim": 2, "start_radius": 0.0}, ValueError, "start_radius must be positive"),
    ({"dim": 2, "start_radius": 0.5, "radius": 0.1}, ValueError, "start_radius must be below radius"),
    ({"dim": 2, "lr": 0.0}, ValueError, "lr must be positive"),
    ({"dim": 2, "lr": -0.1}, ValueError, "lr must be positive"),
    ({"dim": 2, "lr": float("nan")}, ValueError, "lr must be finite"),
    ({"dim": 2, "lr": 1e-7}, ValueError, r"over 1e7 iterations.*lr=1e-07"),  # refused at once, no 1e7-step loop
    ({"dim": 2, "lr": 1e-300}, ValueError, "lr=1e-300"),
])
def test_strict_saddle_gd_mean(kwargs, error, match):
    with pytest.raises(error, match=match):
        S.strict_saddle_gd_mean(curvature=1.0, **kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": 0.0, "curvature": 1.0}, ValueError, "lr must be positive"),
    ({"lr": float("nan"), "curvature": 1.0}, ValueError, "lr must be finite"),
    ({"lr": 0.1, "curvature": 0.0}, ValueError, "curvature must be positive"),
    ({"lr": 0.1, "curvature": -1.0}, ValueError, "curvature must be positive"),
    ({"lr": 1e-200, "curvature": 1e-200}, ValueError, "lr \\* curvature"),  # 10 / (lr c) overflows
])
def test_escape_dynamics(kwargs, error, match):
    with pytest.raises(error, match=match):
        S.escape_dynamics("PerturbedGD", dim=2, noise=0.01, **kwargs)


def test_saddle_avoidance():
    with pytest.raises(TypeError, match="landscape must be a Landscape, got int"):
        S.saddle_avoidance(3)
    with pytest.raises(TypeError, match="methods must be a mapping"):
        S.saddle_avoidance(methods=[esc.GD(0.1)], n_paths=3, max_steps=10)


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((-1.0,), {}, ValueError, "eps must be positive"),
    ((0.0,), {}, ValueError, "eps must be positive"),
    ((0.02,), {"n_samples": 0}, ValueError, "n_samples must be >= 2"),
    ((0.02,), {"seed": -1}, ValueError, "seed must be >= 0"),
])
def test_diagonal_local_curvature_numbers(st, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        T.diagonal_local_curvature(st, st.flattest_minimizer(), *args, **kwargs)


def test_diagonal_local_curvature_landscape_and_center(st):
    with pytest.raises(ValueError, match=r"center must have 3 components"):
        T.diagonal_local_curvature(st, st.flattest_minimizer()[:2], 0.02)
    with pytest.raises(TypeError, match="st must be a StyblinskiTangSum, got ndarray"):
        T.diagonal_local_curvature(np.zeros((2, 3, 3)), np.zeros(3), 0.02)
    qc = esc.QuadraticCircleSum(q1=[0.2, 0.3], q2=[0.1, 0.1], q3=-15.0, c1=[10.0, 12.0], c2=0.0, c3=[10.0, 9.0],
                                c4=0.0)
    with pytest.raises(TypeError, match="st must be a StyblinskiTangSum, got QuadraticCircleSum"):
        T.diagonal_local_curvature(qc, np.zeros(2), 0.02)


def test_diagonal_local_curvature_at_a_maximum():
    """Every coordinate at the local maximum of its quartic: no positive averaged curvature, refused as
    local_curvature refuses it."""
    st = esc.StyblinskiTangSum(c1=[[1.0, 1.0]], c2=[[-16.0, -16.0]], c3=[[0.0, 0.0]])
    with pytest.raises(ValueError, match="no positive eigenvalue"):
        T.diagonal_local_curvature(st, np.zeros(2), 0.02, n_samples=10)


def test_error_factor():
    with pytest.raises(TypeError, match="p must be None"):
        T.error_factor(esc.StochasticQuadratic(Q), 0.3, 1, p=[0.9, 0.1])
    with pytest.raises(TypeError, match=r"k must be a single batch size, got \[1, 2\]"):
        T.error_factor(Q, 0.3, [1, 2])


@pytest.mark.parametrize("rank_rtol", [1.0, 2.0])
def test_rank_rtol_below_one(st, rank_rtol):
    with pytest.raises(ValueError, match=f"rank_rtol must be below 1.*got {rank_rtol}"):
        T.quadratic_curvature(Q, rank_rtol=rank_rtol)
    with pytest.raises(ValueError, match=f"rank_rtol must be below 1.*got {rank_rtol}"):
        T.local_curvature(st, st.flattest_minimizer(), 0.02, n_samples=20, rank_rtol=rank_rtol)


def test_rank_rtol_keeping_no_eigenvalue():
    """An averaged Hessian with a dominant negative eigenvalue: nothing above rank_rtol times it."""
    with pytest.raises(ValueError, match="no eigenvalue .* exceeds rank_rtol=0.5"):
        T.local_curvature(lambda x: np.array([np.diag([1.0, -4.0])]), np.zeros(2), 0.1, n_samples=5, rank_rtol=0.5)


def test_thresholds_of_an_empty_local_curvature(st):
    curv = T.local_curvature(st, st.flattest_minimizer(), 0.02, n_samples=20)
    empty = T.LocalCurvature(**{**curv.__dict__, "lambdas": np.zeros(0), "lambdas_se": np.zeros(0)})
    with pytest.raises(ValueError, match="curvature must have at least one nonzero eigenvalue"):
        T.thresholds_table(empty)


def test_local_curvature_non_finite_hessians():
    with pytest.raises(ValueError, match="term_hessians must return finite values"):
        T.local_curvature(lambda x: np.full((2, 2, 2), np.nan), np.zeros(2), 0.1, n_samples=5)
    with pytest.raises(ValueError, match="p must be 2 non-negative probabilities"):
        T.local_curvature(lambda x: np.array([np.eye(2), np.eye(2)]), np.zeros(2), 0.1, p=[0.5, np.nan],
                          n_samples=5)


def test_sgdk_helpers(st):
    x = st.flattest_minimizer()
    with pytest.raises(TypeError, match="f must be a landscape with a method hessian"):
        G.minimizer_kind(3, np.zeros(2))
    with pytest.raises(ValueError, match="points must be 2-dimensional"):
        G.left_basin(st, x, x)
    with pytest.raises(ValueError, match="points must have 3 components"):
        G.left_basin(st, x, np.zeros((4, 2)))
    with pytest.raises(TypeError, match="model must be an integer, got True"):
        G.quadratic_circle_model(True)
    with pytest.raises(ValueError, match="model must be 1, 2, 3 or 4, got 5"):
        G.quadratic_circle_model(5)
    with pytest.raises(TypeError, match="paths must be an integer, got 2.5"):
        G.run(paths=2.5, seed=0, threads=1, progress=False, models=["qc1"])
    with pytest.raises(ValueError, match="paths must be >= 1, got 0"):
        G.run(paths=0, seed=0, threads=1, progress=False, models=["qc1"])
