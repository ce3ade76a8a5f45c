"""Digests of a set of small runs that between them step every dynamics, the finite sums, the constrained flow with
Brownian forcing, the regions and starts that use Eigen, and splitting: one line "case digest" each. Run by
tests/test_isa.py in one process per instruction-set level of a portable build (ESCAPADE_ISA), whose lines must
agree; also runnable by hand: `ESCAPADE_ISA=x86-64-v3 python tests/isa_digest.py`."""

from __future__ import annotations

import hashlib

import numpy as np

import escapade as esc

RESULT_ARRAYS = ("status", "exit_time", "exit_step", "exit_position", "final_position")


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def run(landscape, dynamics, **kw) -> str:
    kw.setdefault("n_paths", 128)
    kw.setdefault("seed", 3)
    kw.setdefault("threads", 1)
    res = esc.simulate(landscape, dynamics, **kw)
    return digest(*(getattr(res, name) for name in RESULT_ARRAYS), np.array([res.total_steps]))


def cases() -> dict[str, str]:
    rng = np.random.default_rng(0)
    H = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]])
    ball = esc.Ball(center=[0.0, 0.0, 0.0], radius=1.5)
    start3 = esc.UniformBall(center=[0.0, 0.0, 0.0], radius=0.5)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=40)
    lsq = esc.LeastSquares(X, y, l2=0.1)
    st = esc.StyblinskiTangSum(rng.uniform(0.5, 1.5, (30, 3)), -rng.uniform(10, 20, (30, 3)), rng.uniform(2, 6, (30, 3)))
    well = esc.DoubleWell()
    half = esc.HalfSpace(normal=[1.0], offset=0.0)
    out = {
        "langevin_double_well_bridge": run(well, esc.Langevin(temperature=0.1, dt=1e-2), x0=[-1.0], stop=half,
                                           t_max=50.0, n_paths=500),
        "langevin_heun_double_well": run(well, esc.Langevin(temperature=0.1, dt=5e-2, scheme="heun"), x0=[-1.0],
                                         stop=half, t_max=50.0, n_paths=500),
        "langevin_anisotropic_ellipsoid": run(
            esc.Quadratic(H, center=[0.1, 0.0, -0.1]),
            esc.Langevin(eps=0.6, S=[[1.0, 0.2], [0.0, 0.8], [0.5, -0.3]], dt=1e-2),
            x0=esc.Gaussian([0.0, 0.0, 0.0], np.diag([0.04, 0.02, 0.03])),
            stop=esc.Ellipsoid([0.0, 0.0, 0.0], np.diag([0.5, 1.0, 2.0])), t_max=50.0),
        "langevin_hessian_noise": run(esc.Quadratic(H), esc.Langevin(S="hessian", eps=0.7, dt=1e-2), x0=start3,
                                      stop=ball, t_max=30.0),
        "gaussian_sgd_hessian": run(esc.Quadratic(H), esc.GaussianSGD(0.05, 1.0, "hessian"), x0=start3, stop=ball,
                                    t_max=300.0),
        "gaussian_sgd_matrix": run(lsq, esc.GaussianSGD(0.05, 2.0, np.eye(3) + 0.1), x0=start3,
                                   stop=esc.Ball(center=[1.0, -2.0, 0.5], radius=4.0), t_max=200.0),
        "sgdk_without_replacement": run(st, esc.SGDk(0.002, 7, replace=False), x0=esc.UniformBox([-3] * 3, [3] * 3),
                                        stop=esc.Box([-5.0] * 3, [5.0] * 3), t_max=200.0),
        "sgdk_with_replacement": run(lsq, esc.SGDk(0.05, 5), x0=start3, stop=esc.Ball([1.0, -2.0, 0.5], 3.0),
                                     t_max=200.0),
        "sgdk_mlp": run(esc.MLP(X, y, 3), esc.SGDk(0.05, 8), x0=esc.UniformBox([-0.5] * 16, [0.5] * 16),
                        stop=esc.Ball([0.0] * 16, 6.0), t_max=100.0, n_paths=64),
        "sgld": run(lsq, esc.SGLD(0.05, 0.5, batch_size=4), x0=start3, stop=esc.Ball([1.0, -2.0, 0.5], 3.0),
                    t_max=200.0),
        "adagrad_full": run(esc.Quadratic(H), esc.AdaGrad(0.5, matrix="full"), x0=start3, stop=ball,
                            target=esc.Ball([0.0, 0.0, 0.0], 1e-3), t_max=100.0),
        "heavy_ball": run(esc.Quadratic(H), esc.HeavyBall(0.1, 0.8), x0=start3, stop=ball,
                          target=esc.Ball([0.0, 0.0, 0.0], 1e-3), t_max=200.0),
        "noisy_gd": run(well, esc.NoisyGD(0.05, 0.5), x0=[-1.0], stop=half, t_max=500.0),
        "stable_sgd": run(well, esc.StableSGD(0.05, 1.5, 0.3), x0=[-1.0], stop=half, t_max=500.0),
        "levy_langevin": run(well, esc.LevyLangevin(1.5, 0.3, dt=1e-2), x0=[-1.0], stop=half, t_max=50.0),
        "perturbed_gd": run(esc.StrictSaddle([1.0, -0.5]), esc.PerturbedGD(0.1, radius=0.05, g_thres=0.01,
                                                                            f_thres=0.001, t_thres=5),
                            x0=[1e-3, 0.0], stop=esc.Ball([0.0, 0.0], 1.0), t_max=500.0),
        "flow_rk4_brownian": run(esc.DoubleWell(dim=2), esc.ConstrainedFlow(
            dt=1e-2, method="rk4", forcing=esc.BrownianForcing(0.4, horizon=20.0, dim=2)),
            x0=[-1.0, 0.0], stop=esc.HalfSpace(normal=[1.0, 0.0], offset=0.0), t_max=20.0, n_paths=64),
        "flow_dp54_sphere": run(esc.Quadratic(np.diag([1.0, 2.0, 3.0])), esc.ConstrainedFlow(
            esc.Sphere([0.0, 0.0, 0.0], 1.0), dt=1e-1, method="dp54",
            forcing=esc.BrownianForcing(0.5, horizon=20.0, dim=3)),
            x0=[1.0, 0.0, 0.0], stop=esc.HalfSpace(normal=[0.0, 0.0, 1.0], offset=0.9), t_max=20.0, n_paths=64),
        "flow_euler_sphere_noise": run(esc.Quadratic(np.diag([1.0, 2.0, 3.0])), esc.ConstrainedFlow(
            esc.Sphere([0.0, 0.0, 0.0], 1.0), dt=1e-2, method="euler", noise=0.3),
            x0=[1.0, 0.0, 0.0], stop=esc.HalfSpace(normal=[0.0, 0.0, 1.0], offset=0.5), t_max=20.0, n_paths=64),
        # the general SDE (forcing, a drift that is not a gradient, a user's S(x)), walls, restarts, scores
        "sde_forcing_nonnormal_drift": run(esc.LinearDrift([[1.0, 2.0], [-0.5, 1.5]]), esc.Langevin(
            eps=0.5, S=np.eye(2), dt=1e-2, forcing=esc.Periodic(0.3, 1.0)), x0=[0.1, 0.0],
            stop=esc.Ellipsoid([0.0, 0.0], np.diag([1.0, 2.0])), t_max=50.0),
        "langevin_walls_and_faces": run(well, esc.Langevin(temperature=0.2, dt=1e-2), x0=[-1.0],
                                        stop=esc.Box([-2.0], [0.0], reflecting=["x0-"]), t_max=50.0),
        "restart_poisson": run(well, esc.Restart(esc.Langevin(temperature=0.2, dt=1e-2), rate=0.5), x0=[-1.0],
                               stop=half, t_max=50.0),
    }
    # Dense d = 6 matrices, wider than a vector register at every level (a diagonal or 3 x 3 matrix can hide a
    # change of summation order or an FMA): every place where the core multiplies, factors or decomposes a matrix.
    A6 = rng.normal(size=(6, 6))
    H6 = A6 @ A6.T / 6 + 0.5 * np.eye(6)
    B6 = np.eye(6) + 0.3 * rng.normal(size=(6, 6))
    quad6 = esc.Quadratic(H6, center=0.1 * rng.normal(size=6))
    start6 = esc.Gaussian(np.zeros(6), 0.02 * (np.eye(6) + 0.5 * np.ones((6, 6))))
    ball6 = esc.Ball(center=[0.0] * 6, radius=1.5)
    A2, b2 = rng.normal(size=(2, 6)), np.array([0.1, -0.2])
    out.update({
        "adagrad_full_6d": run(quad6, esc.AdaGrad(0.3, matrix="full"), x0=start6, stop=ball6, t_max=20.0),
        "langevin_dense_S_ellipsoid_6d": run(quad6, esc.Langevin(eps=0.5, S=B6, dt=1e-2), x0=start6,
                                             stop=esc.Ellipsoid([0.0] * 6, H6), t_max=30.0),
        "langevin_dense_S_ball_6d": run(quad6, esc.Langevin(eps=0.5, S=B6, dt=1e-2), x0=start6, stop=ball6,
                                        t_max=30.0),
        "langevin_hessian_noise_6d": run(quad6, esc.Langevin(S="hessian", eps=0.6, dt=1e-2), x0=start6,
                                         stop=ball6, t_max=30.0),
        "gaussian_sgd_hessian_6d": run(quad6, esc.GaussianSGD(0.05, 1.0, "hessian"), x0=start6, stop=ball6,
                                       t_max=100.0),
        "gaussian_sgd_hessian_mlp": run(esc.MLP(X, y, 3), esc.GaussianSGD(0.05, 20.0, "hessian"),
                                        x0=esc.UniformBox([-0.5] * 16, [0.5] * 16), stop=esc.Ball([0.0] * 16, 6.0),
                                        t_max=20.0, n_paths=32),
        "perturbed_gd_6d": run(quad6, esc.PerturbedGD(0.1, radius=0.05, g_thres=0.05, f_thres=1e-4, t_thres=5),
                               x0=start6, stop=ball6, target=esc.Ball([0.0] * 6, 1e-3), t_max=300.0),
        "flow_affine_6d": run(quad6, esc.ConstrainedFlow(esc.Affine(A2, b2), dt=1e-2, method="euler", noise=0.3),
                              x0=np.linalg.lstsq(A2, b2, rcond=None)[0], stop=ball6, t_max=20.0, n_paths=64),
    })
    scored6 = esc.simulate(quad6, esc.Langevin(eps=0.5, S=B6, dt=1e-2), x0=start6, stop=ball6, t_max=20.0,
                           n_paths=64, seed=3, threads=1, sensitivities=["dynamics.eps"])
    out["langevin_dense_S_scores_6d"] = digest(scored6.score_sum, scored6.score_time)
    sp6 = esc.splitting(quad6, esc.Langevin(eps=0.8, dt=1e-2), x0=[0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
                        reactant=esc.Ball([0.0] * 6, 0.1), product=esc.Outside(esc.Ellipsoid([0.0] * 6, H6)),
                        score=esc.scores.Quadratic(H6, np.zeros(6)), n_replicas=20, n_runs=2, seed=5, threads=1)
    out["splitting_quadratic_score_6d"] = digest(np.array([sp6.value]), np.array(sp6.interval))
    scored = esc.simulate(well, esc.Langevin(temperature=0.2, dt=1e-2), x0=[-1.0], stop=half, t_max=50.0,
                          n_paths=128, seed=3, threads=1, sensitivities=["dynamics.temperature", "landscape.height"])
    out["langevin_scores"] = digest(scored.score_sum, scored.score_time)
    sp = esc.splitting(well, esc.Langevin(temperature=0.1, dt=1e-2), x0=[-0.8],
                       reactant=esc.HalfSpace([1.0], -0.9), product=esc.HalfSpace([-1.0], 0.0),
                       n_replicas=20, n_runs=4, seed=5, threads=1)
    out["splitting"] = digest(np.array([sp.value]), np.array(sp.interval))
    # Set-up factorizations past a vector register's width (8 doubles): a dense 16-d Gaussian start's Cholesky
    # factor, and three constraints' J J^T solved at every step.
    A16 = rng.normal(size=(16, 16))
    start16 = esc.Gaussian(np.zeros(16), A16 @ A16.T / 16 + 0.1 * np.eye(16))
    out["gaussian_start_16d"] = run(esc.Quadratic(np.eye(16)), esc.Langevin(temperature=0.5, dt=1e-2), x0=start16,
                                    stop=esc.Ball([0.0] * 16, 8.0), t_max=0.5)
    A3, b3 = rng.normal(size=(3, 8)), np.array([0.1, -0.2, 0.05])
    out["flow_affine_3c_8d"] = run(esc.Quadratic(np.eye(8)), esc.ConstrainedFlow(esc.Affine(A3, b3), dt=1e-2,
                                                                               method="euler", noise=0.3),
                                   x0=np.linalg.lstsq(A3, b3, rcond=None)[0], stop=esc.Ball([0.0] * 8, 3.0),
                                   t_max=10.0, n_paths=64)
    # 37 noise coordinates: the normals drawn lane by lane in vectors over the draws (rng.hpp, k >= 32), with a
    # dense 37 x 37 product for R z and H x.
    A37 = rng.normal(size=(37, 37))
    H37 = A37 @ A37.T / 37 + 0.1 * np.eye(37)
    out["gaussian_sgd_matrix_37d"] = run(esc.Quadratic(H37), esc.GaussianSGD(0.05, 4.0, H37), x0=np.zeros(37),
                                         stop=esc.Ball([0.0] * 37, 0.6), t_max=300.0, n_paths=37)
    # Semantics 7's paths: nested and corner members at a coarse step, the first face crossed near a box's corner,
    # coupled Poisson restarts and small-alpha stable draws.
    flat2 = esc.Quadratic(np.zeros((2, 2)))
    out["nested_members_corner"] = run(flat2, esc.Langevin(temperature=0.5, dt=0.04), x0=[0.1, 0.15],
                                       stop={"box": esc.Box([0.0, 0.0], [1.0, 1.0]), "plane": esc.HalfSpace([1.0, 0.0], 0.98),
                                             "ball": esc.Ball([0.5, 0.5], 0.9)}, t_max=20.0, n_paths=500)
    out["restart_refined"] = run(well, esc.Restart(esc.Langevin(temperature=0.2, dt=2e-2), rate=0.5), x0=[-1.0],
                                 stop=half, t_max=50.0, noise_refinement=3)
    out["stable_small_alpha"] = run(well, esc.StableSGD(0.05, 0.02, 1e-3), x0=[-1.0], stop=half, t_max=50.0,
                                    divergence_bound=1e300)
    # Semantics 8's: sets entered through a chord between members (a slab of two half-spaces, an ellipse and a
    # ball's complement), their sure crossings placed where the chord enters.
    out["chord_between_members"] = run(flat2, esc.Langevin(temperature=0.5, dt=0.04), x0=[0.6, 0.1],
                                       stop=esc.Ball([0.5, 0.0], 1.0) | esc.Ellipsoid([-0.6, 0.0], np.diag([4.0, 1.0])),
                                       target=esc.HalfSpace([1.0, 0.0], 0.32) & esc.HalfSpace([-1.0, 0.0], -0.3),
                                       t_max=20.0, n_paths=500)
    # Semantics 17's: an L-shape's re-entrant corner left beyond both faces (in the noise's metric, anisotropic), and
    # a target of members that only touch (never entered).
    l_shape = esc.Box([0.0, 0.0], [2.0, 1.0]) | esc.Box([0.0, 0.0], [1.0, 2.0])
    touching = esc.HalfSpace([1.0, 0.0], 0.5) & esc.HalfSpace([-1.0, 0.0], -0.5)
    out["union_corner_anisotropic"] = run(flat2, esc.Langevin(eps=1.0, S=[[1.0, 0.8], [0.0, 0.5]], dt=0.01),
                                          x0=[0.95, 0.95], stop=l_shape, target=touching, t_max=20.0, n_paths=500)
    return out


if __name__ == "__main__":
    for name, value in cases().items():
        print(name, value)
