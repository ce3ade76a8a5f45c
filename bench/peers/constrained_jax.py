"""Constrained-Ackley peer in JAX (CPU): jit of a lax.while_loop over RK4 steps, vmapped over paths.

Same workload, drift formula, stage-time forcing and stop rule as constrained_numpy.py. Under vmap the while
loop runs until the last path stops, with the stopped ones frozen by a select (lockstep, like numpy, but fused
and compiled by XLA). float64 is switched on. Call warmup() once before timing (it compiles).
run(x0, amplitude, omega, alpha, dt, n_steps) -> (hit, exit_step, gradient evaluations).
"""
from __future__ import annotations

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

from .constrained_numpy import A_ACK, C_ACK, D_ACK  # noqa: E402


def _drift(x1, x2, t, amp, omega, alpha):
    s = jnp.sqrt((x1 * x1 + x2 * x2) / 2 + D_ACK * D_ACK)
    e1 = A_ACK * jnp.exp(-s) / (2 * s)
    e2 = jnp.exp((jnp.cos(C_ACK * x1) + jnp.cos(C_ACK * x2)) / 2) * C_ACK / 2
    g1 = e1 * x1 + e2 * jnp.sin(C_ACK * x1)
    g2 = e1 * x2 + e2 * jnp.sin(C_ACK * x2)
    jj = 1 + x2 * x2
    coef = (g1 - x2 * g2 - alpha * (x1 - x2 * x2 / 2)) / jj
    return -g1 + coef + amp * jnp.cos(omega * t), -g2 - coef * x2 + amp * jnp.sin(omega * t)


def _path(x1, x2, amp, omega, alpha, h, n_steps):
    inside = x1 * x1 + x2 * x2 < 1.0

    def cond(state):
        k, a1, a2, done = state
        return jnp.logical_and(k < n_steps, jnp.logical_not(done))

    def body(state):
        k, a1, a2, done = state
        t = k * h
        k11, k12 = _drift(a1, a2, t, amp, omega, alpha)
        k21, k22 = _drift(a1 + h / 2 * k11, a2 + h / 2 * k12, t + h / 2, amp, omega, alpha)
        k31, k32 = _drift(a1 + h / 2 * k21, a2 + h / 2 * k22, t + h / 2, amp, omega, alpha)
        k41, k42 = _drift(a1 + h * k31, a2 + h * k32, t + h, amp, omega, alpha)
        a1 = a1 + h / 6 * (k11 + 2 * k21 + 2 * k31 + k41)
        a2 = a2 + h / 6 * (k12 + 2 * k22 + 2 * k32 + k42)
        return k + 1, a1, a2, a1 * a1 + a2 * a2 < 1.0

    k, _, _, done = jax.lax.while_loop(cond, body, (jnp.int64(0), x1, x2, inside))
    return done, k


_batched = jax.jit(jax.vmap(_path, in_axes=(0, 0, 0, 0, None, None, None)), static_argnums=(6,))


def run(x0, amplitude, omega, alpha, dt, n_steps):
    x0 = np.asarray(x0, dtype=float)
    n = x0.shape[0]
    amp = np.broadcast_to(np.asarray(amplitude, dtype=float), (n,))
    om = np.broadcast_to(np.asarray(omega, dtype=float), (n,))
    hit, steps = _batched(jnp.asarray(x0[:, 0]), jnp.asarray(x0[:, 1]), jnp.asarray(amp), jnp.asarray(om),
                          float(alpha), float(dt), int(n_steps))
    hit, steps = np.asarray(hit), np.asarray(steps, dtype=np.int64)
    return hit, steps, int(4 * steps.sum())


def warmup(n_steps: int, n: int) -> None:
    """Compile for n paths and n_steps (the shapes and the static step count of the timed run)."""
    run(np.full((n, 2), 2.0), np.ones(n), np.ones(n), 1.0, 1e-3, n_steps)
