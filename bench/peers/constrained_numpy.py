"""Constrained-Ackley peer in numpy: all paths of all settings advance in lockstep, one array op per term.

Workload (bench_constrained.py): 000's Section VI with RK4, x' = U_alpha(x) + w(t) on Ackley (a = 20, d = 0.05,
c = 2 pi) and the parabola g = x1 - x2^2 / 2, w(t) = A [cos(omega t), sin(omega t)] evaluated at the stage times
t, t + h/2, t + h; a path stops (HIT) at the end of the first step where |x| < 1 (or at the start), and is CENSORED
after n_steps steps. Paths that stopped are frozen (masked), which is how a lockstep implementation handles them:
the arrays keep their size, so stopped lanes still cost work.

run(x0, amplitude, omega, alpha, dt, n_steps) -> (hit (n,) bool, exit_step (n,) int64, gradient evaluations).
"""
from __future__ import annotations

import numpy as np

A_ACK, D_ACK, C_ACK = 20.0, 0.05, 2 * np.pi


def drift(x1, x2, t, amp, omega, alpha):
    """U_alpha(x) + w(t) for arrays of coordinates (x1, x2) and per-path amp, omega."""
    s = np.sqrt((x1 * x1 + x2 * x2) / 2 + D_ACK * D_ACK)
    e1 = A_ACK * np.exp(-s) / (2 * s)
    e2 = np.exp((np.cos(C_ACK * x1) + np.cos(C_ACK * x2)) / 2) * C_ACK / 2
    g1 = e1 * x1 + e2 * np.sin(C_ACK * x1)
    g2 = e1 * x2 + e2 * np.sin(C_ACK * x2)
    # J = [1, -x2], J J^T = 1 + x2^2, g = x1 - x2^2 / 2
    jj = 1 + x2 * x2
    coef = (g1 - x2 * g2 - alpha * (x1 - x2 * x2 / 2)) / jj
    return -g1 + coef + amp * np.cos(omega * t), -g2 - coef * x2 + amp * np.sin(omega * t)


def run(x0, amplitude, omega, alpha, dt, n_steps):
    x1 = np.array(x0[:, 0], dtype=float)
    x2 = np.array(x0[:, 1], dtype=float)
    amp = np.asarray(amplitude, dtype=float)
    om = np.asarray(omega, dtype=float)
    done = x1 * x1 + x2 * x2 < 1.0
    hit = done.copy()
    exit_step = np.where(done, 0, n_steps).astype(np.int64)
    evals = 0
    h = dt
    for k in range(n_steps):
        act = ~done
        m = int(act.sum())
        if m == 0:
            break
        t = k * h
        a1, a2 = x1, x2
        k11, k12 = drift(a1, a2, t, amp, om, alpha)
        k21, k22 = drift(a1 + h / 2 * k11, a2 + h / 2 * k12, t + h / 2, amp, om, alpha)
        k31, k32 = drift(a1 + h / 2 * k21, a2 + h / 2 * k22, t + h / 2, amp, om, alpha)
        k41, k42 = drift(a1 + h * k31, a2 + h * k32, t + h, amp, om, alpha)
        evals += 4 * m
        n1 = a1 + h / 6 * (k11 + 2 * k21 + 2 * k31 + k41)
        n2 = a2 + h / 6 * (k12 + 2 * k22 + 2 * k32 + k42)
        x1 = np.where(act, n1, x1)
        x2 = np.where(act, n2, x2)
        new = act & (x1 * x1 + x2 * x2 < 1.0)
        hit |= new
        exit_step[new] = k + 1
        done |= new
    return hit, exit_step, evals
