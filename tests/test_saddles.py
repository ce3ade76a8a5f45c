"""Saddles: escape-time and saddle-avoidance experiments (on the octopus of Du et al. 2017 among others),
stable manifolds of fixed points, and their reproductions."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import escapade as esc
from escapade.analysis import linearize, numerical_jacobian, stable_manifold
from escapade.cli import main
from escapade.experiments import (
    escape_dynamics,
    octopus_escape_times,
    octopus_gd,
    saddle_avoidance,
    saddle_escape_times,
)
from escapade.experiments.saddles import _octopus_row, _octopus_text, _times_text
from escapade.results import Status

# --- escape-time experiments ------------------------------------------------------------------------------------


def test_gd_time_on_the_octopus_grows_geometrically_while_perturbed_gd_stays_flat():
    table = octopus_escape_times(dims=(2, 3, 4, 5), n_paths=40, seed=1)
    gd = table[table.method == "GD"].set_index("dim")
    pgd = table[table.method == "PerturbedGD"].set_index("dim")
    assert (gd.hit == 40).all() and (pgd.hit == 40).all()
    ratios = gd["mean"].to_numpy()[1:] / gd["mean"].to_numpy()[:-1]
    assert np.all(ratios > 1.8), ratios  # at least geometric: about x2.6 per dimension
    assert gd.loc[5, "mean"] > 10 * gd.loc[2, "mean"]
    increments = np.diff(pgd["mean"].to_numpy())
    assert np.all(increments < 60), increments  # about linear: one short escape per saddle
    assert pgd.loc[5, "mean"] < 6 * pgd.loc[2, "mean"]
    assert pgd.loc[5, "mean"] < gd.loc[5, "mean"] / 2


def test_perturbed_gd_on_the_octopus_stops_at_its_first_entrance_into_any_minimum(monkeypatch):
    """PerturbedGD's jumps may flip signs, so its time is the first iteration in any of the 2**d balls: the table's
    target is their union. Checked against the positive ball alone as the target with every iterate recorded; and
    the table needs no recorded paths, so a million-step cap runs under a small memory limit (with every path
    recorded it was refused below about 9 GiB of available memory)."""
    d, n, lr, r = 4, 30, 0.25, 5e-3
    f = esc.Octopus(d, L=1.0, gamma=1.0, tau=1.0)
    pgd = esc.PerturbedGD(lr, radius=1e-2, g_thres=1e-2, f_thres=1e-4, t_thres=40.0)
    res = esc.simulate(f, pgd, x0=esc.UniformBox(low=np.zeros(d), high=np.ones(d)), target=esc.Ball(f.minimum(), r),
                       n_paths=n, max_steps=5_000, seed=2, threads=1, record_paths=n)
    first = np.array([t[np.flatnonzero(np.linalg.norm(np.abs(x) - f.minimum(), axis=1) < r)[0]]
                      for t, x in res.trajectories])
    monkeypatch.setenv("ESCAPADE_MEMORY_LIMIT", "64M")
    table = octopus_escape_times(dims=(d,), methods=("PerturbedGD",), n_paths=n, seed=2, max_steps=10**6, threads=2)
    row = table.iloc[0]
    assert row.hit == n and row.identified and np.isnan(row.subnormal)
    assert row["mean"] == first.mean() and row["stderr"] == pytest.approx(first.std(ddof=1) / np.sqrt(n), rel=1e-12)
    assert np.any(np.abs(res.exit_time - first) > 0)  # some paths met another minimum first


def mp_octopus_gd_steps(x0, *, L, gamma, tau, lr, radius, max_steps):
    """GD on the octopus in 53-bit binary floating point with an unbounded exponent (mpmath, rounding to nearest,
    ties to even), each operation in the order of the C++ gradient's: the iteration at which it enters the ball
    around the minimum (max_steps if it does not)."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workprec(53):
        F = mpmath.mpf
        L, gamma, tau, lr = F(L), F(gamma), F(tau), F(lr)
        x, c, r2 = [F(v) for v in x0], 4 * tau, F(radius) * F(radius)
        d, two_L, m2g = len(x), 2 * L, -2 * gamma

        def g1p(a):
            u = a - tau
            return (m2g * a + (10 * gamma - 14 * L) * u * u / tau) + 2 * (5 * L - 3 * gamma) * u * u * u / (tau * tau)

        def g2(a):
            s = (a - 2 * tau) / tau
            return -gamma - (L + gamma) * s * s * s * (10 + s * (15 + 6 * s))

        def g2p(a):
            s = (a - 2 * tau) / tau
            return -(L + gamma) / tau * 30 * s * s * ((1 + s) * (1 + s))

        for t in range(1, max_steps + 1):
            k = 0
            while k < d and abs(x[k]) >= 2 * tau:
                k += 1
            g = [two_L * (x[j] - (-1 if x[j] < 0 else 1) * 4 * tau) for j in range(k)]
            if k < d:
                a, rest = abs(x[k]), k + 1
                if a <= tau:
                    g.append(m2g * x[k])
                else:
                    b = x[k + 1] if k + 1 < d else F(0)
                    g.append((-1 if x[k] < 0 else 1) * (g1p(a) + g2p(a) * b * b))
                    if k + 1 < d:
                        g.append(2 * g2(a) * b)
                    rest = k + 2
                g += [two_L * x[j] for j in range(rest, d)]
            x = [xi - lr * gi for xi, gi in zip(x, g)]
            s = F(0)
            for xi in x:
                s += (xi - c) * (xi - c)
            if s < r2:
                return t
        return max_steps


def test_octopus_gd_counts_equal_the_engines_bit_for_bit_where_doubles_stay_normal():
    for d in (2, 4, 6, 7):
        f = esc.Octopus(d, L=1.0, gamma=1.0, tau=1.0)
        box = esc.UniformBox(low=np.zeros(d), high=np.ones(d))
        run = octopus_gd(f, box.sample(40, seed=0), lr=0.25, radius=5e-3, max_steps=20_000)
        res = esc.simulate(f, esc.GD(0.25), x0=box, target=esc.Ball(center=f.minimum(), radius=5e-3), n_paths=40,
                           max_steps=20_000, seed=0)
        assert (run.status == Status.HIT).all()
        normal = ~run.subnormal
        assert (res.status[normal] == Status.HIT).all()
        np.testing.assert_array_equal(run.steps[normal], res.exit_step[normal])
        assert run.subnormal.any() == (d == 7), d  # from d = 7 on, some paths leave the normal doubles
    assert (res.status == Status.CENSORED).any()  # ... and some of those stop plain GD at a saddle


def test_octopus_gd_is_ieee_arithmetic_without_underflow():
    # L = 1, gamma = 1/2, lr = 0.45: the waiting coordinates shrink tenfold per iteration, so that plain doubles
    # underflow already at d = 4; paths 8 and 17 stop at a saddle in the engine (censored)
    f = esc.Octopus(4, L=1.0, gamma=0.5, tau=1.0)
    box = esc.UniformBox(low=np.zeros(4), high=np.ones(4))
    x0 = box.sample(20, seed=3)
    run = octopus_gd(f, x0, lr=0.45, radius=5e-3, max_steps=20_000)
    res = esc.simulate(f, esc.GD(0.45), x0=box, target=esc.Ball(center=f.minimum(), radius=5e-3), n_paths=20,
                       max_steps=20_000, seed=3)
    assert (run.status == Status.HIT).all()
    assert res.status[8] == res.status[17] == Status.CENSORED and run.subnormal[[8, 17]].all()
    for i in (8, 17):
        assert run.steps[i] == mp_octopus_gd_steps(x0[i], L=1.0, gamma=0.5, tau=1.0, lr=0.45, radius=5e-3,
                                                   max_steps=20_000)


def test_gd_on_the_octopus_goes_on_where_plain_doubles_stop():
    # d = 8: 98 of 100 plain-double paths stop at a saddle (seed 0); the experiment used to censor them
    table = octopus_escape_times(dims=(7, 8), methods=("GD",), n_paths=3, seed=0, max_steps=10**6).set_index("dim")
    assert (table.hit == 3).all() and (table.censored == 0).all() and table.identified.all()
    assert table.loc[8, "subnormal"] == 3
    # Coordinate d waits while the d - 1 before it escape (T_{d-1} iterations, halving: lr 2 L = 1/2), then
    # grows by 1 + 2 lr gamma = 3/2 per iteration back to tau: T_d / T_{d-1} -> 1 + log 2 / log 1.5 = 2.7095.
    # The starts are nested (those in d = 7 are the first coordinates of those in d = 8): the ratio path by path.
    steps = {d: octopus_gd(esc.Octopus(d, L=1.0, gamma=1.0, tau=1.0),
                           esc.UniformBox(low=np.zeros(d), high=np.ones(d)).sample(3, seed=0), lr=0.25,
                           radius=5e-3, max_steps=10**6).steps for d in (7, 8)}
    np.testing.assert_allclose(steps[8] / steps[7], 1 + np.log(2) / np.log(1.5), rtol=0.01)
    assert table.loc[8, "mean"] == pytest.approx(steps[8].mean())


def test_octopus_table_says_why_paths_are_censored():
    table = octopus_escape_times(dims=(7,), methods=("GD", "GD-double"), n_paths=20, seed=0, max_steps=20_000)
    gd, plain = table.set_index("method").loc["GD"], table.set_index("method").loc["GD-double"]
    assert gd.censored == 0 and gd.hit == 20 and gd.identified
    assert plain.censored == plain.censored_underflow > 0 and plain.censored_cap == 0 and not plain.identified
    assert gd.subnormal >= plain.censored_underflow and np.isnan(plain.subnormal)
    # censored at the cap: the restricted mean E[min(T, cap)] and its standard error, from the full run's times
    full = octopus_gd(esc.Octopus(3, L=1.0, gamma=1.0, tau=1.0),
                      esc.UniformBox(low=np.zeros(3), high=np.ones(3)).sample(30, seed=0), lr=0.25, radius=5e-3,
                      max_steps=10_000).steps
    capped = octopus_escape_times(dims=(3,), methods=("GD", "PerturbedGD"), n_paths=30, seed=0, max_steps=50)
    row = capped.set_index("method").loc["GD"]
    cut = np.minimum(full, 50)
    assert row.censored == row.censored_cap == np.count_nonzero(full > 50) > 3 and row.censored_underflow == 0
    assert row["mean"] == pytest.approx(cut.mean(), rel=1e-12) and not row.identified
    assert row["stderr"] == pytest.approx(cut.std(ddof=1) / np.sqrt(30), rel=1e-12)
    text = _octopus_text(capped)
    assert f">= {row['mean']:.0f} *" in text  # a lower bound, flagged: more than 10% of the paths censored
    with pytest.raises(ValueError, match="methods"):
        octopus_escape_times(dims=(2,), methods=("Adam",), n_paths=2)
    with pytest.raises(TypeError, match="landscape"):
        octopus_gd(esc.StrictSaddle([-1.0, 1.0]), np.zeros((1, 2)), lr=0.1, radius=0.1, max_steps=10)
    with pytest.raises(ValueError, match="x0"):
        octopus_gd(esc.Octopus(3), np.zeros((2, 2)), lr=0.1, radius=0.1, max_steps=10)


def test_saddle_escape_times_table():
    table = saddle_escape_times(dims=(5, 50), curvatures=(0.5,), n_paths=30, max_steps=5_000)
    assert list(table.columns) == ["method", "dim", "curvature", "n_paths", "exited", "hit", "censored",
                                   "diverged", "converged", "mean", "stderr", "identified", "mean_lower_bound"]
    assert len(table) == 2 * 4
    assert (table.exited == 30).all()
    assert (table["stderr"] > 0).all()
    gd = table[table.method == "GD"].set_index("dim")["mean"]
    assert gd[50] > gd[5]  # a uniform start puts less of its length on x_1 in higher dimension
    # started exactly at the saddle, GD never leaves (censored), the noisy methods always do
    table = saddle_escape_times(dims=(5,), curvatures=(0.5,), n_paths=10, start_radius=0.0, max_steps=2_000)
    assert table.set_index("method").loc["GD", "censored"] == 10
    assert (table[table.method != "GD"].exited == 10).all()


def test_saddle_escape_times_censored_rows_follow_the_censoring_policy():
    # a cap below most escapes: the mean is the restricted mean E[min(T, cap)] over all paths (a lower bound,
    # printed with ">="), not the mean over the paths that exited (which is biased low and read 562 for about 650)
    full = saddle_escape_times(dims=(10,), curvatures=(0.1,), methods=("GD",), n_paths=40, max_steps=20_000)
    capped = saddle_escape_times(dims=(10,), curvatures=(0.1,), methods=("GD",), n_paths=40, max_steps=600)
    assert full.exited[0] == 40 and full.identified[0]
    row = capped.iloc[0]
    assert 0 < row.censored < 40 and not row.identified
    # the same starts (seed 0): the restricted mean is the mean of min(T, cap) over the uncapped run's times
    res = esc.simulate(esc.StrictSaddle(np.r_[-0.1, np.ones(9)]), escape_dynamics("GD", dim=10, lr=0.1, noise=1e-2,
                       curvature=0.1), x0=esc.UniformBall(np.zeros(10), 1e-3), stop=esc.Ball(np.zeros(10), 0.1),
                       n_paths=40, max_steps=20_000, seed=0)
    assert (res.status == esc.Status.EXITED).all()
    assert row["mean"] == pytest.approx(float(np.mean(np.minimum(res.exit_time, 600))), rel=1e-12)
    assert row["mean"] < full["mean"][0]
    assert ">= " in _times_text(capped, ["method", "dim", "curvature"])


def test_saddle_escape_bad_input():
    with pytest.raises(ValueError, match="methods"):
        saddle_escape_times(dims=(3,), methods=("Adam",), n_paths=2)
    with pytest.raises(ValueError, match="start_radius"):
        saddle_escape_times(dims=(3,), start_radius=1.0, radius=0.1, n_paths=2)
    with pytest.raises(ValueError, match="curvatures"):
        saddle_escape_times(dims=(3,), curvatures=(-1.0,), n_paths=2)


def test_adaptive_steps_avoid_the_saddle_from_random_starts():
    table = saddle_avoidance(n_paths=200, seed=2).set_index("method")
    assert list(table.index) == ["GD", "AdaGrad (full)", "AdaGrad (diagonal)", "AdaNorm"]
    assert (table.converged_fraction == 0).all()
    assert (table.escaped_fraction == 1).all()
    # from the stable manifold {x_1 = 0} every one of them converges to the saddle
    starts = np.c_[np.zeros(20), np.random.default_rng(0).uniform(-0.05, 0.05, (20, 2))]
    table = saddle_avoidance(starts=starts).set_index("method")
    assert (table.converged_fraction == 1).all()


def test_saddle_avoidance_counts_diverged_paths_apart():
    # a saddle at 0 whose gradient is infinite for x_1 > 0.05: GD's state becomes inf there (DIVERGED), which the
    # table counted as "undecided" and in the fractions' denominators
    def grad(x):
        g = np.array(x, copy=True)
        g[:, 0] = -x[:, 0]
        g[x[:, 0] > 0.05, 0] = np.inf
        return g

    f = esc.BatchedLandscape(2, grad, value=lambda x: 0.0)
    run = {"n_paths": 100, "seed": 0}
    table = saddle_avoidance(f, [0.0, 0.0], methods={"GD": esc.GD(0.1)}, **run).set_index("method")
    same = esc.simulate(f, esc.GD(0.1), x0=esc.UniformBall([0.0, 0.0], 0.1), stop=esc.Ball([0.0, 0.0], 0.5),
                        target=esc.Ball([0.0, 0.0], 1e-8), max_steps=5000, **run)
    diverged, escaped = same.count(Status.DIVERGED), same.count(Status.EXITED)
    assert diverged > 20 and escaped > 20 and same.count(Status.CENSORED) == 0
    assert table.loc["GD", "diverged"] == diverged and table.loc["GD", "undecided"] == 0
    assert table.loc["GD", "escaped_fraction"] == escaped / (100 - diverged) == 1.0
    # and the table says what made it
    assert table.attrs["seed"] == 0 and table.attrs["version"] == esc.__version__
    assert table.attrs["semantics"] == same.params["semantics"]
    assert table.attrs["params"]["methods"] == {"GD": esc.GD(0.1).to_dict()} and table.attrs["params"]["n_paths"] == 100
    times = saddle_escape_times(dims=(2,), curvatures=(1.0,), methods=("GD",), n_paths=4, seed=3)
    assert times.attrs["seed"] == 3 and times.attrs["params"]["dims"] == [2]


def test_converged_paths_count_at_the_cap_in_both_saddle_tables():
    # perturbed GD at a minimum stops by its own rule (CONVERGED): in no column of saddle_avoidance before, and the
    # octopus table printed the restricted mean of such a row without its ">="
    table = saddle_avoidance(esc.Quadratic(np.eye(2)), [0.0, 0.0], n_paths=20, seed=0, methods={
        "PGD": esc.PerturbedGD(0.1, radius=0.01, g_thres=1e-3, f_thres=1e-6, t_thres=10)})
    row = table.iloc[0]
    assert row["undecided"] == 20 and row["converged"] + row["escaped"] + row["diverged"] == 0
    status = np.array([Status.HIT] * 8 + [Status.CONVERGED] * 2)
    times = np.array([10.0, 12, 11, 9, 14, 13, 10, 12, np.nan, np.nan])
    octopus = _octopus_row(status, times, cap=1000, underflow=0, subnormal=None)
    assert not octopus["identified"]
    text = _octopus_text(pd.DataFrame([{"method": "PerturbedGD", "dim": 2, **octopus}]))
    assert ">= 209 *" in text


# --- stable manifolds -------------------------------------------------------------------------------------------


def perko(x):
    x1, x2, x3 = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([-x1, -x2 + x1**2, x3 + x1**2], axis=-1)


def perko_time_one_map(c):
    e = np.exp(1.0)
    return np.array([c[0] / e, c[1] / e + c[0] ** 2 * (1 / e - 1 / e**2), c[2] * e + c[0] ** 2 / 3 * (e - 1 / e**2)])


def test_linearize_splits_perko():
    fp = linearize(perko, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(np.sort(fp.eigenvalues.real), [-1, -1, 1], atol=1e-8)
    assert (fp.n_stable, fp.n_unstable, fp.is_saddle) == (2, 1, True)
    np.testing.assert_allclose(np.abs(fp.unstable[:, 0]), [0, 0, 1], atol=1e-8)
    np.testing.assert_allclose(fp.P_stable, np.diag([1.0, 1.0, 0.0]), atol=1e-8)
    np.testing.assert_allclose(numerical_jacobian(perko, [0.3, 0.1, 0.2]),
                               [[-1, 0, 0], [0.6, -1, 0], [0.6, 0, 1]], atol=1e-8)
    m = linearize(perko_time_one_map, np.zeros(3), kind="map")
    np.testing.assert_allclose(np.sort(np.abs(m.eigenvalues)), [np.exp(-1), np.exp(-1), np.e], rtol=1e-7)


@pytest.mark.parametrize("kind", ["flow", "map"])
def test_lyapunov_perron_finds_perkos_stable_manifold(kind):
    field = perko if kind == "flow" else perko_time_one_map
    m = stable_manifold(field, np.zeros(3), kind=kind, radius=0.5, n_points=20, vectorized=kind == "flow")
    assert m.converged.all()
    x = m.points
    np.testing.assert_allclose(x[:, :2], m.stable_part[:, :2], atol=1e-12)  # above its stable part
    assert np.abs(x[:, 2] + x[:, 0] ** 2 / 3).max() < (1e-5 if kind == "flow" else 1e-12)  # x3 = -x1^2/3
    assert np.abs(x[:, 0]).max() > 0.2


def test_bisection_finds_perkos_stable_manifold():
    m = stable_manifold(perko, np.zeros(3), radius=0.3, stable_part=[[0.25, -0.1, 0.0], [-0.2, 0.05, 0.7]],
                        method="bisection", tol=1e-9)
    assert m.converged.all()
    np.testing.assert_allclose(m.points[:, 2], -m.points[:, 0] ** 2 / 3, atol=1e-8)


def test_stable_manifold_bad_input():
    with pytest.raises(ValueError, match="fixed point"):
        linearize(perko, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="hyperbolic"):
        linearize(lambda x: np.array([-x[0], x[1] ** 3]), [0.0, 0.0])
    with pytest.raises(ValueError, match="kind"):
        linearize(perko, [0.0, 0.0, 0.0], kind="ode")
    with pytest.raises(ValueError, match="shape"):
        linearize(lambda x: np.zeros(2), [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="one unstable direction"):
        stable_manifold(lambda x: np.array([-x[0], x[1], x[2]]), np.zeros(3), method="bisection")
    with pytest.raises(ValueError, match="method"):
        stable_manifold(perko, np.zeros(3), method="newton")
    with pytest.raises(ValueError, match="no stable directions"):
        stable_manifold(lambda x: x, np.zeros(2))


# --- reproductions ----------------------------------------------------------------------------------------------


def test_reproduce_stable_manifold_json(capsys):
    assert main(["reproduce", "stable-manifold", "--json", "--paths", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "stable-manifold"
    assert [r["method"] for r in data["rows"]] == ["lyapunov_perron", "bisection"]
    assert all(r["max_deviation"] < 1e-5 for r in data["rows"])


def test_reproduce_saddle_escape_writes_tables_and_a_picture(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert main(["reproduce", "saddle-escape", "--paths", "3", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "octopus" in text and "PerturbedGD" in text
    assert (tmp_path / "saddle-escape.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "saddle-escape.json").read_text())
    assert {r["method"] for r in data["strict_saddle"]} == {"GD", "NoisyGD", "PerturbedGD", "SGD"}
    assert {r["dim"] for r in data["strict_saddle"]} == {10, 100, 1000}
    gd = [r for r in data["octopus"] if r["method"] == "GD"]
    assert [r["dim"] for r in gd] == list(range(2, 11))
    assert all(r["hit"] == 3 and r["censored"] == 0 for r in gd)  # no underflow: plain doubles stop from d = 7
    assert "independent experiments: 1 of" in text


def test_gaussian_sgd_with_a_diagonal_noise_factor_is_the_map_bit_for_bit():
    # A diagonal C takes a shortcut in the core (no zero products); the result must be the plain map's.
    from escapade import _core

    C, lr, B, seed, steps = np.diag([0.5, 2.0, 1e-3]), 0.05, 2.0, 7, 25
    dyn = esc.GaussianSGD(lr=lr, batch_size=B, C=C)
    x0 = np.array([0.3, -0.2, 0.1])
    res = esc.simulate(esc.DoubleWell(dim=3), dyn, x0=x0, n_paths=3, max_steps=steps, seed=seed, record_paths=3)
    R = dyn.noise_factor()
    x = np.tile(x0, (3, 1))
    for t in range(steps):
        z, _ = _core.step_draws(seed, np.arange(3, dtype=np.uint64), t, 3)
        x = (x - lr * ((x * x) * x - x)) + (lr * (1.0 / np.sqrt(B))) * (np.diag(R) * z)
    final = np.array([xs[-1] for _, xs in res.trajectories])
    np.testing.assert_array_equal(final, x)


def test_mean_times_plot(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.DataFrame({"method": ["GD", "GD", "PGD", "PGD"], "dim": [2, 3, 2, 3], "mean": [10.0, 30.0, 9.0, 15.0],
                          "stderr": [1.0, 2.0, 0.5, 0.7], "censored": [0, 3, 0, 0],
                          "mean_lower_bound": [10.0, 80.0, 9.0, 15.0]})
    ax, artists, info = esc.plot.mean_times(table, logx=False)
    assert set(artists["lines"]) == {"GD", "PGD"} and info["censored_rows"] == 1
    assert ax.get_yscale() == "log"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="mean_lower_bound"):
        esc.plot.mean_times(table.drop(columns="mean_lower_bound"))


def test_strict_saddle_gd_mean_against_a_numpy_gd_loop():
    """The exact mean of `strict_saddle_gd_mean` (the x_1 map and the start's law) against plain numpy GD on the
    full d-dimensional function from 20,000 uniform starts in the ball, within 4 standard errors."""
    from escapade.experiments.saddles import strict_saddle_gd_mean

    d, c, lr, n = 10, 1.0, 0.1, 20_000
    rng = np.random.default_rng(0)
    z = rng.standard_normal((n, d))
    x = z / np.linalg.norm(z, axis=1, keepdims=True) * 1e-3 * rng.random((n, 1)) ** (1 / d)
    lam = np.r_[-c, np.ones(d - 1)]
    steps = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    for t in range(1, 2000):
        x = x - lr * (lam * x + x**3)
        left = alive & (np.linalg.norm(x, axis=1) >= 0.1)
        steps[left], alive = t, alive & ~left
        if not alive.any():
            break
    assert not alive.any()
    exact = strict_saddle_gd_mean(dim=d, curvature=c, lr=lr)
    assert abs(steps.mean() - exact) < 4 * steps.std() / math.sqrt(n), (steps.mean(), exact)
    with pytest.raises(ValueError, match="radius"):
        strict_saddle_gd_mean(dim=d, curvature=0.001, radius=0.1)
