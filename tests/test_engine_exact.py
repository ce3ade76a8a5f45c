"""The engine against W1 stepped by hand in numpy with the same draws and floating-point operations: the same bits,
path by path, for any number of threads and lanes, the exits located inside their step included."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from escapade import DoubleWell, HalfSpace, Langevin, Status, _core, simulate


def w1_reference(seed, n_paths, max_steps, temperature, dt):
    """The W1 problem (double well, stop at x >= 0 with the Brownian-bridge test) stepped in numpy.

    Every path is advanced with the draws of `_core.step_draws` and the same floating-point operations as the
    engine, and an exit is located inside its step with the draws of `_core.crossing_draws` and the engine's
    crossing-time formula (region.hpp, crossing_time), so the result must match the engine's bit for bit, path by
    path. Returns status, exit_step, exit_time, exit_position (on the boundary, 0) and final_position.
    """
    x = np.full(n_paths, -1.0)
    status = np.full(n_paths, -1, dtype=np.int8)
    exit_step = np.zeros(n_paths, dtype=np.int64)
    exit_time = np.full(n_paths, np.nan)
    exit_position = np.full(n_paths, np.nan)
    scale = math.sqrt(2.0 * temperature * dt)
    var = 2.0 * temperature * dt
    running = np.arange(n_paths)
    for step in range(max_steps):
        if running.size == 0:
            break
        z, u = _core.step_draws(seed, running.astype(np.uint64), step, 1)
        xa = x[running]
        g = (xa * xa) * xa - xa
        xn = (xa - dt * g) + scale * z[:, 0]
        left = ~(1.0 * xn < 0.0)
        q = (0.0 - 1.0 * xa) * (0.0 - 1.0 * xn)
        p = np.exp(np.minimum(-2.0 * q / var, 0.0))
        crossed = u < p
        diverged = ~(np.abs(xn) <= 1e8)
        ended = np.full(running.size, -1, dtype=np.int8)
        if step + 1 >= max_steps:
            ended[:] = Status.CENSORED
        ended[crossed | left] = Status.EXITED
        ended[diverged] = Status.DIVERGED
        done = ended != -1
        idx = running[done]
        status[idx] = ended[done]
        exit_step[idx] = step + 1
        stopped = ended[done] == Status.EXITED
        exits = idx[stopped]
        zc, w, _ = _core.crossing_draws(seed, exits.astype(np.uint64), step)
        a0, a1 = (0.0 - 1.0 * xa[done][stopped]), np.abs(0.0 - 1.0 * xn[done][stopped])
        c = zc * zc * var / (2.0 * a0)
        big_p = a1 + c + np.sqrt(c * (c + 2.0 * a1))
        tau = np.where(w * (big_p + a1) <= big_p, dt / (1.0 + big_p / a0), dt / (1.0 + (a1 / a0) * (a1 / big_p)))
        exit_time[exits] = step * dt + tau
        exit_position[exits] = 0.0 / 1.0  # onto the plane
        x[running] = xn
        running = running[~done]
    return status, exit_step, exit_time, exit_position, np.where(np.isfinite(x), x, np.nan)


REF = dict(seed=2718, n_paths=400, max_steps=3000, temperature=1 / 8, dt=1e-2)


@functools.lru_cache(maxsize=None)
def w1_reference_cached():
    return w1_reference(**REF)


@pytest.mark.parametrize(
    "config", [(1, 64), (2, 64), (1, 1), (1, 7), (1, 256), (2, 16)], ids=lambda c: f"threads{c[0]}-lanes{c[1]}"
)
def test_w1_matches_stepwise_reference(config):
    status, exit_step, exit_time, exit_position, final_position = w1_reference_cached()
    assert np.count_nonzero(status == Status.EXITED) > 300  # most paths exit: lanes are refilled and packed
    res = simulate(
        DoubleWell(),
        Langevin(temperature=REF["temperature"], dt=REF["dt"]),
        x0=[-1.0],
        stop=HalfSpace([1.0], 0.0),
        n_paths=REF["n_paths"],
        max_steps=REF["max_steps"],
        seed=REF["seed"],
        threads=config[0],
        lanes=config[1],
    )
    wrong = np.nonzero(
        (res.status != status)
        | (res.exit_step != exit_step)
        | ~((res.exit_position[:, 0] == exit_position) | (np.isnan(res.exit_position[:, 0]) & np.isnan(exit_position)))
        | ~((res.final_position[:, 0] == final_position) | (np.isnan(res.final_position[:, 0]) & np.isnan(final_position)))
    )[0]
    assert wrong.size == 0, (
        f"{wrong.size} paths differ from the reference, e.g. path {wrong[0]}: engine status "
        f"{res.status[wrong[0]]} step {res.exit_step[wrong[0]]}, reference status {status[wrong[0]]} "
        f"step {exit_step[wrong[0]]}"
    )
    np.testing.assert_array_equal(res.exit_time, exit_time)
    # located inside the last step
    stopped = res.stopped
    assert np.all(res.exit_time[stopped] <= exit_step[stopped] * REF["dt"] * (1 + 1e-15))
    assert np.all(res.exit_time[stopped] >= (exit_step[stopped] - 1) * REF["dt"])


@pytest.mark.parametrize("dt", [1e150, 1e160, 1e300])
def test_one_giant_step_crosses_at_the_first_passage_law(dt):
    """Brownian motion (variance 2T per unit time) from 0 to the plane x = 1 in one step of dt far beyond every
    crossing time: the bridge's crossing time is then the unconditional first-passage time, Levy with scale
    1 / (2T) (P(tau <= t) = erfc(sqrt(1 / (4 T t)))), for every path that crossed (the probability that one did
    not is about 1e-75 or less). From dt near 1e160 the product in the inverse Gaussian
    sampler overflowed and every crossing was placed at time 0. The half of the steps that end far inside stop,
    past the default divergence_bound, crossed too, and are EXITED at the same times: before semantics 14 they were
    DIVERGED (the bound took precedence over the bridge's crossing before it)."""
    from scipy import stats

    from escapade import Linear

    T = 0.1
    runs = [simulate(Linear([0.0]), Langevin(temperature=T, dt=dt), x0=[0.0], stop=HalfSpace([1.0], 1.0),
                     n_paths=2000, max_steps=1, seed=0, threads=1, divergence_bound=bound)
            for bound in (math.inf, 1e8)]  # the step ends near +-sqrt(dt)
    r = runs[0]
    t = r.exit_time[r.status == Status.EXITED]
    assert t.size > 1990 and np.all(t > 0)
    assert stats.kstest(t, stats.levy(scale=1 / (2 * T)).cdf).pvalue > 1e-3
    assert np.count_nonzero(r.final_position[:, 0] < -1e8) > 900
    assert np.array_equal(runs[1].status, r.status) and np.array_equal(runs[1].exit_time, r.exit_time, equal_nan=True)
